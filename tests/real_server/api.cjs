// One HTTP API request of the real `pusher` library (npm), signed as an app's backend signs it.
// Reads its plan from the API environment variable (JSON: host, port, app {id, key, secret}, and
// either `get` (a path) or `trigger` ({channel, event, data})) and prints one line:
// `STATUS {status} {body}` (the server's answer, whatever it is), or `FAILED {message}` when no
// answer came.
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

const request = plan.trigger
  ? api.trigger(plan.trigger.channel, plan.trigger.event, plan.trigger.data)
  : api.get({ path: plan.get });
request
  .then(async (response) => console.log(`STATUS ${response.status} ${await response.text()}`))
  .catch((error) => {
    if (error && error.status) console.log(`STATUS ${error.status} ${error.body || ""}`);
    else console.log(`FAILED ${error && error.stack ? error.stack : String(error)}`);
  });
