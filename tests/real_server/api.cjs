// HTTP API requests of the real `pusher` library (npm), signed as an app's backend signs them.
// Reads its plan from the API environment variable (JSON: host, port, app {id, key, secret},
// either `get` (a path) or `trigger` ({channel, event, data, and `idempotent`: true for a
// retry-safe publish, each with an idempotency key of its own}), and optionally `repeat` (how many
// times, default 1), `concurrency` (how many at once, default 1) and `perSecond` (at most this
// many started per second, default unpaced)) and prints one line per
// request: `STATUS {status} {body}` (the server's answer, whatever it is), or `FAILED {message}`
// when no answer came.
"use strict";

const PusherServer = require("pusher");

const plan = JSON.parse(process.env.API);
const api = new PusherServer({
  appId: plan.app.id,
  key: plan.app.key,
  secret: plan.app.secret,
  host: plan.host,
  port: String(plan.port),
  useTLS: false,
  timeout: 30000,
});

let sequence = 0;
const run = `${process.pid}-${Date.now()}`;

function request() {
  // Sockudo reads the key from the body, as the `pusher` library sends its params.
  const params = plan.trigger && plan.trigger.idempotent ? { idempotency_key: `${run}-${sequence++}` } : undefined;
  const sent = plan.trigger
    ? api.trigger(plan.trigger.channel, plan.trigger.event, plan.trigger.data, params)
    : api.get({ path: plan.get });
  return sent
    .then(async (response) => console.log(`STATUS ${response.status} ${await response.text()}`))
    .catch((error) => {
      if (error && error.status) console.log(`STATUS ${error.status} ${error.body || ""}`);
      else console.log(`FAILED ${error && error.stack ? error.stack : String(error)}`);
    });
}

let left = plan.repeat || 1;
let nextStart = Date.now();
async function worker() {
  while (left > 0) {
    left--;
    if (plan.perSecond) {
      const start = Math.max(Date.now(), nextStart);
      nextStart = start + 1000 / plan.perSecond;
      await new Promise((resolve) => setTimeout(resolve, start - Date.now()));
    }
    await request();
  }
}
Promise.all(Array.from({ length: plan.concurrency || 1 }, worker));
