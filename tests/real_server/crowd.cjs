// A crowd of idle WebSocket clients, from the real `pusher-js`: enough connections on one node to
// trip the connection-count alert. Reads its plan from the CROWD environment variable (JSON:
// host, port, key, count), connects `count` clients to that node (on no channel, so they cause no
// webhooks), prints `READY {"connections": n}` once all are connected and keeps them open until it
// is killed. Any failure prints `FAILED ...` and exits 1.
"use strict";

const Pusher = require("pusher-js");

const plan = JSON.parse(process.env.CROWD);
const TIMEOUT_MS = 60000;

function fail(message) {
  console.log(`FAILED ${message}`);
  process.exit(1);
}

function connected(index) {
  const client = new Pusher(plan.key, {
    cluster: "local",
    wsHost: plan.host,
    wsPort: plan.port,
    forceTLS: false,
    enabledTransports: ["ws"],
    disableStats: true,
  });
  return new Promise((resolve, reject) => {
    client.connection.bind("connected", () => resolve(client));
    client.connection.bind("failed", () => reject(new Error(`client ${index}: connection failed`)));
  });
}

async function main() {
  const timer = setTimeout(() => fail(`not all ${plan.count} clients connected within ${TIMEOUT_MS} ms`), TIMEOUT_MS);
  const clients = [];
  // In batches, so the server is not asked for every handshake at once.
  for (let start = 0; start < plan.count; start += 100) {
    const batch = [];
    for (let index = start; index < Math.min(start + 100, plan.count); index++) batch.push(connected(index));
    clients.push(...(await Promise.all(batch)));
  }
  clearTimeout(timer);
  console.log(`READY ${JSON.stringify({ connections: clients.length })}`);
  setInterval(() => {}, 60000);
}

main().catch((error) => fail(error.stack || String(error)));
