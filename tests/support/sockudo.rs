//! The real Sockudo 5.2.0 server with the sockudo-obs drop-in driver (built into
//! `.tools/bin/sockudo` by `scripts/sockudo-server.sh`), and the Pusher traffic real clients send
//! it (`tests/real_server/traffic.cjs`: `pusher-js` and `pusher` from npm, in `.tools/node`).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::{json, Value};

use super::http::get;
use super::ports::free_port;
use super::process::{wait_until, ProcessGuard};
use super::tools::find as require_tool;

/// One app of the server's memory app manager.
pub struct TestApp {
    pub id: &'static str,
    pub key: &'static str,
    pub secret: &'static str,
}

/// Two apps, so per-app series are told apart; the first has webhooks and a low client-event
/// limit the traffic floods.
pub const APPS: [TestApp; 2] = [
    TestApp {
        id: "app-one",
        key: "key-one",
        secret: "secret-one",
    },
    TestApp {
        id: "app-two",
        key: "key-two",
        secret: "secret-two",
    },
];

/// An app being rolled out: in the first cluster node's config and not yet in the others', which
/// read app configs without the Redis cache (see [`Rollout`]). Its client events are webhook jobs
/// (to the accepting endpoint) that fail on a node that does not know it.
pub const ROLLOUT_APP: TestApp = TestApp {
    id: "app-rollout",
    key: "key-rollout",
    secret: "secret-rollout",
};

/// Whether a cluster node's config lists [`ROLLOUT_APP`] yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rollout {
    /// The node lists the app.
    Listed,
    /// The node does not list it yet, and its app manager does not cache in Redis (where it
    /// would find the configs the other nodes cached until they expire, 300 s by default): a
    /// webhook job of the app that it claims fails (`webhook app not found`) and is retried.
    NotYet,
}

/// An app key the server does not know: connecting with it is a connection error.
pub const UNKNOWN_KEY: &str = "no-such-key";

/// The HTTP API limit per second, and how many requests the traffic's flood sends.
const API_LIMIT: u32 = 40;
const API_FLOOD: u32 = 120;
/// The first app's client events per second, and the flood of them.
const CLIENT_EVENT_LIMIT: u32 = 5;
const CLIENT_EVENT_FLOOD: u32 = 40;

/// 32 bytes, base64: the master key of end-to-end encrypted channels (test only).
const ENCRYPTION_MASTER_KEY: &str = "c29ja3Vkby1vYnMtZTJlLXRlc3Qta2V5LTMyLWJ5dGU=";

/// A build of the real server, as `scripts/sockudo-server.sh` writes it into `.tools/bin`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binary {
    /// `.tools/bin/sockudo`: pristine Sockudo with the drop-in.
    DropIn,
    /// `.tools/bin/sockudo-instrumented`: the same with the patch series.
    Instrumented,
}

impl Binary {
    fn tool(self) -> (&'static str, &'static str) {
        match self {
            Binary::DropIn => ("sockudo", ""),
            Binary::Instrumented => ("sockudo-instrumented", " --instrumented"),
        }
    }

    /// The server binary, or an error saying how to build it.
    pub fn path(self) -> Result<PathBuf, String> {
        let (name, option) = self.tool();
        require_tool(name).map_err(|_| {
            format!(
                "the real Sockudo server is not built: run ./scripts/sockudo-server.sh{option} \
                 (it writes .tools/bin/{name}; scripts/test.sh runs it); this test never passes \
                 without it"
            )
        })
    }
}

/// The drop-in server binary, or an error saying how to build it.
pub fn binary() -> Result<PathBuf, String> {
    Binary::DropIn.path()
}

/// Sockudo's `config.json` for a server on `port` with metrics on `metrics_port` (both on
/// loopback), posting webhooks to `webhook_port`. OpenTelemetry tracing is on, so the server
/// times its HTTP API; [`command`] runs it without a collector (`OTEL_SDK_DISABLED`).
pub fn config(port: u16, metrics_port: u16, webhook_port: u16) -> Value {
    let webhook_url = format!("http://127.0.0.1:{webhook_port}/sockudo-webhooks");
    config_with_webhooks(
        port,
        metrics_port,
        json!([{ "url": webhook_url, "event_types": WEBHOOK_EVENTS }]),
        json!([]),
    )
}

/// The events the apps' webhooks post.
const WEBHOOK_EVENTS: [&str; 3] = ["channel_occupied", "member_added", "client_event"];

/// [`config`] for one node of a cluster on the Redis at `redis_port` (its adapter, queue and
/// cache), posting the first app's webhooks to `webhook_port` and the second app's to
/// `failing_webhook_port` (an endpoint that answers 500). A failing delivery is tried four times,
/// 2 to 4 s apart: its job stays active long enough for the queue's depth (sampled every 5 s on
/// the instrumented build) to see it, and gives up while the test runs. `rollout` says whether
/// the node lists [`ROLLOUT_APP`], whose webhooks go to `webhook_port` too.
pub fn cluster_config(
    port: u16,
    metrics_port: u16,
    redis_port: u16,
    webhook_port: u16,
    failing_webhook_port: u16,
    rollout: Rollout,
) -> Value {
    let webhooks = |port: u16, path: &str| json!([{ "url": format!("http://127.0.0.1:{port}{path}"), "event_types": WEBHOOK_EVENTS }]);
    let mut config = config_with_webhooks(
        port,
        metrics_port,
        webhooks(webhook_port, "/sockudo-webhooks"),
        webhooks(failing_webhook_port, "/failing"),
    );
    match rollout {
        Rollout::Listed => {
            let app = app_config(&ROLLOUT_APP, webhooks(webhook_port, "/sockudo-webhooks"), 1000);
            config["app_manager"]["array"]["apps"]
                .as_array_mut()
                .expect("the config lists its apps")
                .push(app);
        }
        Rollout::NotYet => config["app_manager"]["cache"] = json!({ "enabled": false }),
    }
    config["adapter"] = json!({ "driver": "redis" });
    config["queue"] = json!({ "driver": "redis" });
    config["cache"] = json!({ "driver": "redis" });
    config["database"] = json!({ "redis": { "host": "127.0.0.1", "port": redis_port } });
    // Unbatched: Sockudo's default merges the events of each 50 ms into one job of up to 100;
    // here each event is a job of its own, so the queue's depth counts events.
    config["webhooks"] = json!({
        "batching": { "enabled": false },
        "retry": { "max_attempts": 4, "initial_backoff_ms": 2000, "max_backoff_ms": 4000 },
    });
    // Room for a crowd past the connection alert's threshold.
    config["app_manager"]["array"]["apps"][0]["max_connections"] = json!(CLUSTER_MAX_CONNECTIONS);
    config
}

/// The queue Sockudo's webhook jobs go through (`sockudo-webhook`'s `WEBHOOK_QUEUE_NAME`): the
/// `queue` label of the queue families.
pub const WEBHOOK_QUEUE: &str = "webhooks";

/// The first app's connection quota on a cluster node.
pub const CLUSTER_MAX_CONNECTIONS: u32 = 5000;

/// One app's entry in the config: its webhooks and its client events per second.
fn app_config(app: &TestApp, webhooks: Value, client_events: u32) -> Value {
    json!({
        "id": app.id,
        "key": app.key,
        "secret": app.secret,
        "enabled": true,
        "max_connections": 100,
        "enable_client_messages": true,
        "max_client_events_per_second": client_events,
        "webhooks": webhooks,
    })
}

/// The config with each app's webhooks.
fn config_with_webhooks(port: u16, metrics_port: u16, first_app: Value, second_app: Value) -> Value {
    json!({
        "debug": false,
        "host": "127.0.0.1",
        "port": port,
        "adapter": { "driver": "local" },
        "app_manager": {
            "driver": "memory",
            "array": { "apps": [
                app_config(&APPS[0], first_app, CLIENT_EVENT_LIMIT),
                app_config(&APPS[1], second_app, 1000),
            ] }
        },
        "cache": { "driver": "memory" },
        "queue": { "driver": "memory" },
        "metrics": {
            "enabled": true,
            "driver": "prometheus",
            "host": "127.0.0.1",
            "port": metrics_port,
            "prometheus": { "prefix": "sockudo_" }
        },
        "opentelemetry": { "enabled": true, "traces_enabled": true },
        "rate_limiter": {
            "enabled": true,
            "driver": "memory",
            "api_rate_limit": { "max_requests": API_LIMIT, "window_seconds": 1 },
            "websocket_rate_limit": { "max_requests": 1000, "window_seconds": 1 }
        }
    })
}

/// A running server. Dropping it stops the process.
pub struct Server {
    pub port: u16,
    pub metrics_port: u16,
    pub guard: ProcessGuard,
}

/// Writes the config into `dir` and returns the command that starts the server with it, with
/// only the given environment `variables` of the metrics config set.
pub fn command(dir: &Path, config: &Value, variables: &[(&str, &str)]) -> Result<Command, String> {
    command_of(Binary::DropIn, dir, config, variables)
}

/// [`command`] for another build of the server.
pub fn command_of(
    binary: Binary,
    dir: &Path,
    config: &Value,
    variables: &[(&str, &str)],
) -> Result<Command, String> {
    fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let path = dir.join("config.json");
    let text = serde_json::to_string_pretty(config).map_err(|e| e.to_string())?;
    fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut command = Command::new(binary.path()?);
    for variable in sockudo_obs::config::ENVIRONMENT_VARIABLES {
        command.env_remove(variable);
    }
    command
        .current_dir(dir)
        .arg("--config")
        .arg(&path)
        .env("RUST_LOG", "warn")
        // Tracing on (the HTTP API's duration histogram), exporting nowhere.
        .env("OTEL_SDK_DISABLED", "true")
        .envs(variables.iter().copied());
    Ok(command)
}

/// The `/metrics` a server serves on `metrics_port`, as a scraper gets it.
pub fn scrape(metrics_port: u16) -> Result<String, String> {
    let url = format!("http://127.0.0.1:{metrics_port}/metrics");
    let reply = get(&url, &[], None)?;
    if reply.status != 200 {
        return Err(format!("GET {url}: HTTP {}: {}", reply.status, reply.body));
    }
    Ok(reply.body)
}

/// Starts a server process (`name`, logging into `logs`) and waits until its `/metrics` on
/// `metrics_port` answers, failing at once if it exits first.
pub fn spawn_until_metrics(
    name: &str,
    command: Command,
    logs: &Path,
    metrics_port: u16,
) -> Result<ProcessGuard, String> {
    let mut guard = ProcessGuard::spawn(name, command, logs)?;
    let url = format!("http://127.0.0.1:{metrics_port}/metrics");
    wait_until(Duration::from_secs(60), &format!("{name} at {url}"), || {
        guard
            .check_running()
            .map_err(|e| format!("{e}: {}", guard.log_tail(20)))?;
        Ok(get(&url, &[], None).ok().filter(|r| r.status == 200).map(|_| ()))
    })?;
    Ok(guard)
}

impl Server {
    /// Starts a server of its own (no stack around it) and waits until `/metrics` answers.
    pub fn start(dir: &Path, variables: &[(&str, &str)]) -> Result<Server, String> {
        let (port, metrics_port) = (free_port(), free_port());
        let command = command(dir, &config(port, metrics_port, free_port()), variables)?;
        let guard = spawn_until_metrics("sockudo", command, dir, metrics_port)?;
        Ok(Server {
            port,
            metrics_port,
            guard,
        })
    }

    /// The server's `/metrics`, as a scraper gets it.
    pub fn scrape(&self) -> Result<String, String> {
        scrape(self.metrics_port)
    }
}

/// `node tests/real_server/<script>` with the real Pusher libraries (`pusher-js`, `pusher`) and
/// its JSON `plan` in the environment variable `variable`.
fn pusher_script(script: &str, variable: &str, plan: &Value) -> Result<Command, String> {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let modules = repo.join(".tools/node/node_modules");
    if !modules.join("pusher-js").is_dir() || !modules.join("pusher").is_dir() {
        return Err(format!(
            "pusher-js and pusher are not installed in {}: run scripts/install-tools.sh",
            modules.display()
        ));
    }
    let mut node = Command::new(require_tool("node")?);
    node.arg(repo.join("tests/real_server").join(script))
        .env("NODE_PATH", &modules)
        .env(variable, plan.to_string());
    Ok(node)
}

/// A signed HTTP API request of the first app.
#[derive(Debug, Clone, Copy)]
pub enum ApiRequest<'a> {
    /// `GET /apps/<id><path>`.
    Get(&'a str),
    /// A publish of `event` on `channel`.
    Trigger { channel: &'a str, event: &'a str },
    /// A retry-safe publish: each with an idempotency key of its own, which Sockudo claims in
    /// its cache (Redis, on a cluster) before publishing.
    IdempotentTrigger { channel: &'a str, event: &'a str },
}

/// One HTTP API request by the `pusher` library to the server on `port`: the status and body it
/// answered (`tests/real_server/api.cjs`).
pub fn api_request(port: u16, request: ApiRequest) -> Result<(u16, String), String> {
    let mut answers = api_requests(port, request, 1, 1)?;
    Ok(answers.remove(0))
}

/// `request` sent `repeat` times, `concurrency` at once, by one `pusher` client, paced under the
/// apps' HTTP API rate limit: each answer's status and body, in the order they came (status 0
/// and the client's error for no answer).
pub fn api_requests(
    port: u16,
    request: ApiRequest,
    repeat: usize,
    concurrency: usize,
) -> Result<Vec<(u16, String)>, String> {
    let app = &APPS[0];
    let mut plan = json!({
        "host": "127.0.0.1",
        "port": port,
        "app": {"id": app.id, "key": app.key, "secret": app.secret},
        "repeat": repeat,
        "concurrency": concurrency,
        "perSecond": API_LIMIT * 3 / 4,
    });
    match request {
        ApiRequest::Get(path) => plan["get"] = json!(path),
        ApiRequest::Trigger { channel, event } => {
            plan["trigger"] = json!({"channel": channel, "event": event, "data": {"from": "api"}});
        }
        ApiRequest::IdempotentTrigger { channel, event } => {
            plan["trigger"] =
                json!({"channel": channel, "event": event, "data": {"from": "api"}, "idempotent": true});
        }
    }
    let mut node = pusher_script("api.cjs", "API", &plan)?;
    let limit = Duration::from_secs(60 + repeat as u64 / u64::from(API_LIMIT / 4));
    let output = super::process::run_to_exit(&mut node, limit);
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    // A request that got no answer (a reset, a timeout) is status 0 with the client's error.
    let answers: Vec<(u16, String)> = text
        .lines()
        .filter_map(|line| match line.strip_prefix("STATUS ") {
            Some(answer) => {
                let (status, body) = answer.split_once(' ').unwrap_or((answer, ""));
                Some((status.parse().unwrap_or(0), body.to_string()))
            }
            None => line.strip_prefix("FAILED ").map(|error| (0, error.to_string())),
        })
        .collect();
    if answers.len() != repeat {
        return Err(format!(
            "the pusher library's requests {plan}: {} answers of {repeat}: {text}{}",
            answers.len(),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(answers)
}

/// A crowd of idle `pusher-js` clients on the node at `port` (`tests/real_server/crowd.cjs`), on
/// no channel; connected until dropped or [`Crowd::stop`].
pub struct Crowd {
    guard: ProcessGuard,
}

impl Crowd {
    /// Connects `count` clients of the first app and waits until all are connected.
    pub fn start(port: u16, count: usize, logs: &Path) -> Result<Crowd, String> {
        let plan = json!({"host": "127.0.0.1", "port": port, "key": APPS[0].key, "count": count});
        let (_, guard) = run_until_ready("crowd", "crowd.cjs", "CROWD", &plan, logs)?;
        Ok(Crowd { guard })
    }

    /// Connects `count` clients of `app`, each subscribed to a private channel of its own on
    /// which it sends `events` client events (each a `client_event` webhook where the app has
    /// one), and waits until every event is sent.
    pub fn client_events(
        port: u16,
        app: &TestApp,
        count: usize,
        events: usize,
        logs: &Path,
    ) -> Result<Crowd, String> {
        let plan = json!({
            "host": "127.0.0.1",
            "port": port,
            "key": app.key,
            "count": count,
            "app": {"id": app.id, "key": app.key, "secret": app.secret},
            "clientEvents": events,
        });
        let (_, guard) = run_until_ready("crowd", "crowd.cjs", "CROWD", &plan, logs)?;
        Ok(Crowd { guard })
    }

    /// Every client leaves.
    pub fn stop(&mut self) {
        self.guard.stop();
    }
}

/// Runs a `tests/real_server` script that prints `READY {summary}` once its clients are set up
/// (or `FAILED ...`), and keeps it running: the summary and the running script.
fn run_until_ready(
    name: &str,
    script: &str,
    variable: &str,
    plan: &Value,
    logs: &Path,
) -> Result<(Value, ProcessGuard), String> {
    let node = pusher_script(script, variable, plan)?;
    let mut guard = ProcessGuard::spawn(name, node, logs)?;
    let summary = wait_until(Duration::from_secs(90), &format!("{script} to be READY"), || {
        let log = fs::read_to_string(&guard.log).unwrap_or_default();
        if let Some(line) = log.lines().find(|l| l.starts_with("FAILED")) {
            return Err(format!("{script} failed: {line}\n{}", guard.log_tail(30)));
        }
        if let Some(summary) = log.lines().find_map(|l| l.strip_prefix("READY ")) {
            return serde_json::from_str(summary).map(Some).map_err(|e| e.to_string());
        }
        guard
            .check_running()
            .map_err(|e| format!("{e}: {}", guard.log_tail(30)))?;
        Ok(None)
    })?;
    Ok((summary, guard))
}

/// The traffic of `tests/real_server/traffic.cjs`, holding its connections open while it lives.
pub struct Traffic {
    /// What the script reports it did (connections, subscriptions, events received, ...).
    pub summary: Value,
    guard: ProcessGuard,
}

impl Traffic {
    /// Runs the traffic against the server on `port` and waits until it reports `READY`.
    pub fn start(port: u16, logs: &Path) -> Result<Traffic, String> {
        Traffic::start_on(&[port], logs)
    }

    /// Runs the traffic against the nodes on `ports` (clients take them in turn, the HTTP API
    /// goes to the first) and waits until it reports `READY`.
    pub fn start_on(ports: &[u16], logs: &Path) -> Result<Traffic, String> {
        let plan = json!({
            "host": "127.0.0.1",
            "ports": ports,
            "apps": APPS.iter().map(|a| json!({"id": a.id, "key": a.key, "secret": a.secret})).collect::<Vec<_>>(),
            "unknownKey": UNKNOWN_KEY,
            "masterKey": ENCRYPTION_MASTER_KEY,
            "clientEventFlood": CLIENT_EVENT_FLOOD,
            "apiFlood": API_FLOOD,
        });
        let (summary, guard) = run_until_ready("traffic", "traffic.cjs", "TRAFFIC", &plan, logs)?;
        Ok(Traffic { summary, guard })
    }

    /// Ends the traffic: every client's connection closes, as when users leave.
    pub fn stop(&mut self) {
        self.guard.stop();
    }

    /// A number the traffic reported in its summary.
    pub fn count(&self, key: &str) -> Result<f64, String> {
        self.summary[key]
            .as_f64()
            .ok_or_else(|| format!("the traffic's summary has no number `{key}`: {}", self.summary))
    }
}
