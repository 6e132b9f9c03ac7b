// A crowd of WebSocket clients, from the real `pusher-js`: enough connections on one node to trip
// the connection-count alert, or enough client events to fill the webhook queue. Reads its plan
// from the CROWD environment variable (JSON: host, port, key, count, and optionally `app` ({id,
// key, secret}) with `clientEvents`): connects `count` clients to that node, on no channel (so
// they cause no webhooks) unless `clientEvents` is given; then each subscribes to a private
// channel of its own (signed by the `pusher` server library, as an app's auth endpoint would)
// and sends that many client events on it, paced under the app's client-event limit. Prints
// `READY {"connections": n, "clientEvents": m}` once all are connected (and every event is sent)
// and keeps them open until it is killed. Any failure prints `FAILED ...` and exits 1.
"use strict";

const Pusher = require("pusher-js");

const plan = JSON.parse(process.env.CROWD);
const TIMEOUT_MS = 60000;
// Client events per client per pacing step (every 200 ms): 250 a second, under Sockudo's
// per-connection client-event limit of the apps that take this many.
const EVENTS_PER_STEP = 50;

function fail(message) {
  console.log(`FAILED ${message}`);
  process.exit(1);
}

// The app's backend, signing private channels.
const backend = plan.app
  ? new (require("pusher"))({ appId: plan.app.id, key: plan.app.key, secret: plan.app.secret, host: plan.host })
  : undefined;

function connected(index) {
  const client = new Pusher(plan.key, {
    channelAuthorization: {
      customHandler: ({ socketId, channelName }, callback) =>
        callback(null, backend.authorizeChannel(socketId, channelName)),
    },
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

// Subscribes `client` (number `index`) to a private channel of its own and sends
// `plan.clientEvents` client events on it; resolves with how many it sent.
async function clientEvents(client, index) {
  const channel = client.subscribe(`private-crowd-${process.pid}-${index}`);
  await new Promise((resolve, reject) => {
    channel.bind("pusher:subscription_succeeded", resolve);
    channel.bind("pusher:subscription_error", (error) =>
      reject(new Error(`client ${index}: ${channel.name}: ${JSON.stringify(error)}`)),
    );
  });
  let sent = 0;
  while (sent < plan.clientEvents) {
    for (let step = 0; step < EVENTS_PER_STEP && sent < plan.clientEvents; step++, sent++) {
      if (!channel.trigger("client-crowd", { sent })) throw new Error(`client ${index}: event ${sent} not sent`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return sent;
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
  const sent = plan.clientEvents ? await Promise.all(clients.map(clientEvents)) : [];
  clearTimeout(timer);
  const summary = { connections: clients.length, clientEvents: sent.reduce((a, b) => a + b, 0) };
  console.log(`READY ${JSON.stringify(summary)}`);
  setInterval(() => {}, 60000);
}

main().catch((error) => fail(error.stack || String(error)));
