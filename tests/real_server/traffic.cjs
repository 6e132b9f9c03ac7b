// The real-server test's Pusher traffic, from the real client libraries: `pusher-js` (WebSocket
// clients) and `pusher` (the HTTP API publisher and channel authoriser), both from npm.
//
// Reads its plan from the TRAFFIC environment variable (JSON: host, ports (one per server node),
// apps [{id, key, secret}], unknownKey, masterKey), runs it once, prints one line
// `READY {summary}` and keeps its connections open (so the gauges stay up) until it is killed.
// WebSocket clients take the nodes in turn; the HTTP API goes to the first node, so with two nodes
// every publish reaches subscribers on the other one through the server's adapter. Any failure
// prints `FAILED ...` and exits 1.
"use strict";

const Pusher = require("pusher-js");
const PusherServer = require("pusher");

const plan = JSON.parse(process.env.TRAFFIC);
const CHANNELS = ["public-room", "private-orders", "presence-lobby", "private-encrypted-dm", "cache-prices"];
const TIMEOUT_MS = 20000;

function fail(message) {
  console.log(`FAILED ${message}`);
  process.exit(1);
}

function within(promise, what) {
  return Promise.race([
    promise,
    new Promise((_, reject) => setTimeout(() => reject(new Error(`timed out: ${what}`)), TIMEOUT_MS)),
  ]);
}

function server(app) {
  return new PusherServer({
    appId: app.id,
    key: app.key,
    secret: app.secret,
    host: plan.host,
    port: String(plan.ports[0]),
    useTLS: false,
    encryptionMasterKeyBase64: plan.masterKey,
  });
}

let userCounter = 0;
let clientCounter = 0;

// A pusher-js client of the next node in turn, plain WebSocket, no stats beacon.
function connect(key, options = {}) {
  const port = plan.ports[clientCounter++ % plan.ports.length];
  return new Pusher(key, {
    cluster: "local",
    wsHost: plan.host,
    wsPort: port,
    forceTLS: false,
    enabledTransports: ["ws"],
    disableStats: true,
    ...options,
  });
}

function client(app, api) {
  const user = `user-${++userCounter}`;
  return connect(app.key, {
    channelAuthorization: {
      // The pusher server library signs, as an app's auth endpoint would.
      customHandler: ({ socketId, channelName }, callback) => {
        const presence = channelName.startsWith("presence-") ? { user_id: user, user_info: { name: user } } : undefined;
        callback(null, api.authorizeChannel(socketId, channelName, presence));
      },
    },
  });
}

function connected(pusher, what) {
  return within(
    new Promise((resolve, reject) => {
      pusher.connection.bind("connected", resolve);
      pusher.connection.bind("failed", () => reject(new Error(`${what}: connection failed`)));
    }),
    `${what} to connect`,
  );
}

function subscribed(pusher, name) {
  return within(
    new Promise((resolve, reject) => {
      const channel = pusher.subscribe(name);
      channel.bind("pusher:subscription_succeeded", () => resolve(channel));
      channel.bind("pusher:subscription_error", (e) => reject(new Error(`${name}: ${JSON.stringify(e)}`)));
    }),
    `subscribing to ${name}`,
  );
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function main() {
  // received: every event but pusher's own; deliveries: the HTTP API publishes received.
  const summary = { connections: 0, subscriptions: 0, received: 0, deliveries: 0, clientEvents: 0, published: 0, apiRejected: 0 };
  const count = (channel) =>
    channel.bind_global((event) => {
      if (!event.startsWith("pusher")) summary.received += 1;
      if (event === "price-update") summary.deliveries += 1;
    });
  const clients = [];
  for (const app of plan.apps) {
    const api = server(app);
    const appClients = [client(app, api), client(app, api), client(app, api)];
    await Promise.all(appClients.map((c, i) => connected(c, `${app.id} client ${i}`)));
    summary.connections += appClients.length;
    const [first, second, third] = appClients;
    // Two clients on every channel type, so each publish fans out to two connections.
    const channels = [];
    for (const c of [first, second]) {
      for (const name of CHANNELS) {
        const channel = await subscribed(c, name);
        count(channel);
        channels.push(channel);
        summary.subscriptions += 1;
      }
    }
    // A third client comes and goes on a channel of its own: an unsubscription, a vacated channel.
    await subscribed(third, "public-passing");
    third.unsubscribe("public-passing");
    count(await subscribed(third, "public-room"));
    summary.subscriptions += 2;

    // Client events on the channels that allow them.
    for (const name of ["private-orders", "presence-lobby"]) {
      first.channel(name).trigger("client-typing", { from: "first" });
      summary.clientEvents += 1;
    }
    // HTTP API publishes, one per channel type.
    for (const name of CHANNELS) {
      await within(api.trigger(name, "price-update", { channel: name, at: Date.now() }), `publishing to ${name}`);
      summary.published += 1;
    }
    // A late subscriber to the cache channel gets its last message from the server's cache (a
    // cache hit). Not counted as a delivery: no publish reaches it.
    await subscribed(third, "cache-prices");
    summary.subscriptions += 1;
    clients.push(...appClients);
  }
  await sleep(1000);

  // A client-event flood on the first app trips its per-connection limiter.
  const flooder = clients[0];
  for (let i = 0; i < plan.clientEventFlood; i += 1) {
    flooder.channel("private-orders").trigger("client-flood", { i });
  }
  // An HTTP API flood trips the server's API limiter (HTTP 429).
  const api = server(plan.apps[0]);
  const replies = await Promise.allSettled(
    Array.from({ length: plan.apiFlood }, () => api.get({ path: "/channels" })),
  );
  summary.apiRejected = replies.filter((r) => r.status === "rejected" && String(r.reason).includes("429")).length;
  if (summary.apiRejected === 0) fail(`no API request of ${plan.apiFlood} was rate limited`);

  // A connection for an app key the server does not know is refused.
  const stranger = connect(plan.unknownKey);
  await within(
    new Promise((resolve) => {
      stranger.connection.bind("error", resolve);
      stranger.connection.bind("failed", resolve);
      stranger.connection.bind("unavailable", resolve);
    }),
    "the unknown app key to be refused",
  );
  stranger.disconnect();

  await sleep(1000);
  if (summary.received === 0) fail("no client received a published event");
  // Two subscribers per channel, and the third client on public-room, per app.
  const expected = plan.apps.length * (2 * CHANNELS.length + 1);
  if (summary.deliveries !== expected) fail(`${summary.deliveries} of ${expected} publishes were delivered`);
  console.log(`READY ${JSON.stringify(summary)}`);
  // Hold every connection until killed.
  setInterval(() => {}, 60000);
}

main().catch((error) => fail(error && error.stack ? error.stack : String(error)));
