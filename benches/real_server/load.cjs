// The real-server benchmark's fixed Pusher workload (goal 7 of `cargo bench --bench goals`), from
// the real client libraries: `pusher-js` (WebSocket clients) and `pusher` (the HTTP API publisher
// and channel authoriser), both from npm in .tools/node. Client construction follows
// tests/real_server/traffic.cjs.
//
// Plan in the LOAD environment variable (JSON: host, port, apps [{id, key, secret}],
// clientsPerApp, warmRounds, rounds). Every client of an app subscribes to one public, one private
// and one presence channel. A round, per app: one HTTP API publish to each of the three channels
// (fanning out to every client) and one client event from the first client on the private and
// the presence channel (fanning out to every other client). The round's publishes are awaited
// before the next round starts, so the workload is the same every run.
//
// Protocol on stdout/stdin: after the warm-up rounds are all delivered it prints `WARM {json}` and
// waits for a line on stdin; it then runs the measured rounds, waits until every client received
// every message and prints `DONE {json}` (delivered, expected, published, clientEvents), then
// holds its connections until stdin closes. Any failure prints `FAILED ...` and exits 1.
"use strict";

const Pusher = require("pusher-js");
const PusherServer = require("pusher");

const plan = JSON.parse(process.env.LOAD);
const CHANNELS = ["public-bench", "private-bench", "presence-bench"];
const CLIENT_EVENT_CHANNELS = ["private-bench", "presence-bench"];
const LIMIT_MS = 300000;

// `promise`, or a rejection naming `what` once LIMIT_MS have passed.
function bounded(promise, what) {
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), LIMIT_MS);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

let delivered = 0;
let users = 0;

// Resolves with `value` on the event `ok` of `source`, rejects on `bad`.
function settle(source, ok, bad, value) {
  return new Promise((resolve, reject) => {
    source.bind(ok, () => resolve(value));
    source.bind(bad, (e) => reject(new Error(`${bad}: ${JSON.stringify(e)}`)));
  });
}

function appClient(app) {
  const server = new PusherServer({ appId: app.id, key: app.key, secret: app.secret, host: plan.host, port: String(plan.port), useTLS: false });
  users += 1;
  const user = `user-${users}`;
  // The server library signs each subscription, as the app's auth endpoint would.
  const sign = ({ socketId, channelName }, callback) =>
    callback(null, server.authorizeChannel(socketId, channelName, channelName.startsWith("presence-") ? { user_id: user } : undefined));
  const transport = { wsHost: plan.host, wsPort: plan.port, forceTLS: false, enabledTransports: ["ws"] };
  return { server, pusher: new Pusher(app.key, { cluster: "local", disableStats: true, ...transport, channelAuthorization: { customHandler: sign } }) };
}

async function allDelivered(expected, what) {
  await bounded(
    (async () => {
      while (delivered < expected) await sleep(20);
    })(),
    `${what}: ${expected} deliveries (have ${delivered})`,
  );
}

async function setUp() {
  const apps = [];
  for (const app of plan.apps) {
    const made = Array.from({ length: plan.clientsPerApp }, () => appClient(app));
    const clients = made.map((m) => m.pusher);
    await bounded(Promise.all(clients.map((c) => settle(c.connection, "connected", "failed"))), `${app.id} clients to connect`);
    for (const c of clients) {
      for (const name of CHANNELS) {
        const channel = c.subscribe(name);
        await bounded(settle(channel, "pusher:subscription_succeeded", "pusher:subscription_error"), `subscribing to ${name}`);
        channel.bind_global((event) => {
          if (!event.startsWith("pusher")) delivered += 1;
        });
      }
    }
    apps.push({ server: made[0].server, clients });
  }
  return apps;
}

// One round; returns the deliveries it causes.
async function round(apps, n) {
  const publishes = [];
  let expected = 0;
  for (const { server, clients } of apps) {
    for (const name of CLIENT_EVENT_CHANNELS) {
      clients[0].channel(name).trigger("client-tick", { n });
      expected += clients.length - 1;
    }
    for (const name of CHANNELS) {
      publishes.push(server.trigger(name, "tick", { n, channel: name }));
      expected += clients.length;
    }
  }
  await bounded(Promise.all(publishes), `round ${n} publishes`);
  return expected;
}

async function rounds(apps, count, expected) {
  for (let n = 0; n < count; n += 1) expected += await round(apps, n);
  await allDelivered(expected, `${count} rounds`);
  return expected;
}

async function main() {
  const apps = await setUp();
  const connections = apps.reduce((sum, a) => sum + a.clients.length, 0);
  const warm = await rounds(apps, plan.warmRounds, 0);
  await sleep(200);
  if (delivered !== warm) throw new Error(`warm-up: ${delivered} deliveries, expected ${warm}`);
  console.log(`WARM ${JSON.stringify({ connections, delivered })}`);

  const stdin = process.stdin;
  stdin.setEncoding("utf8");
  await new Promise((resolve) => stdin.once("data", resolve));
  const start = delivered;
  const perRound = apps.reduce((sum, a) => sum + CHANNELS.length * a.clients.length + CLIENT_EVENT_CHANNELS.length * (a.clients.length - 1), 0);
  const expected = (await rounds(apps, plan.rounds, warm)) - warm;
  // Anything beyond the expected count (a duplicate) would show here.
  await sleep(200);
  const summary = {
    delivered: delivered - start,
    expected,
    perRound,
    published: plan.rounds * apps.length * CHANNELS.length,
    clientEvents: plan.rounds * apps.length * CLIENT_EVENT_CHANNELS.length,
  };
  if (summary.delivered !== expected) throw new Error(`measured: ${summary.delivered} deliveries, expected ${expected}`);
  console.log(`DONE ${JSON.stringify(summary)}`);
  stdin.on("end", () => process.exit(0));
  stdin.resume();
}

main().catch((error) => {
  console.log(`FAILED ${error && error.stack ? error.stack : String(error)}`);
  process.exit(1);
});
