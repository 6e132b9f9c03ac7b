//! Goal 7: the real Sockudo 5.2.0 server's CPU per delivered message, drop-in driver vs stock
//! driver vs metrics off, and the instrumented build (the drop-in plus the patch series, which
//! calls the driver far more) with metrics on vs off, under one fixed Pusher workload (issues 14
//! and 21).
//!
//! Each server runs under callgrind. The load (benches/real_server/load.cjs: pusher-js clients of
//! several apps on public, private and presence channels, HTTP API publishes fanning out, client
//! events) connects, subscribes and warms up; the server's counters are then zeroed
//! (`callgrind_control -z`), the measured rounds run until every client has every message, and
//! the counters are dumped (`callgrind_control -d`). The figure is the server's instructions in
//! that window per message the clients received. The servers run interleaved, several times;
//! each figure is the median, with the runs' range.
//!
//! Metrics on vs off is counted, not subtracted: two runs of the same server differ by a few
//! tenths of a percent (socket ids, hash seeds and allocation addresses change each process), so
//! the difference of two totals cannot resolve 0.1%. What the profiles do show is where: the
//! functions whose own instructions every metrics-on run spends more of than every metrics-off
//! run, beyond the runs' spread. Their growth is the cost: the driver, the exporter, Sockudo's
//! own work for a driver (inlined at its call sites or in helpers), and the layers a build adds
//! for metrics, each counted in the function that does it, so a middleware is charged for its
//! own clones and copies and not for the request it wraps. Functions that shrink are not
//! subtracted (a diagnostic line says how much they shrank), and growth within the runs' spread
//! in a function much other code calls (a clock read) is not counted either, so the figure is an
//! estimate, not a bound. `REAL_SERVER_DUMPS=<dir>` keeps every run's dump for
//! `callgrind_annotate`.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::callgrind::{grown, Profile};
use crate::callgrind_run::{self, tool};
use crate::harness::{http_get, ratio, Report, Timing};

const APPS: usize = 4;
const CLIENTS_PER_APP: usize = 8;
const WARM_ROUNDS: usize = 5;
/// Measured rounds per run, and runs per server, of a full run. Five runs, not three: a function
/// whose own instructions differ between runs only by chance (a tokio wake-up, a jemalloc
/// extent merge) counts as grown when every metrics-on run happens to spend more of them than
/// every metrics-off run, which one function in 20 does with three runs each and one in 252 with
/// five. A server runs thousands of functions: with three runs, several such landed in every
/// on-vs-off figure (one run of the same drop-in binary gave 0.095%, the next 0.113%).
const ROUNDS: usize = 40;
const REPS: usize = 5;
/// Quick mode: one short run of each server there is, without callgrind, to prove the workload.
const QUICK_ROUNDS: usize = 5;

const DROPIN_VS_STOCK: (&str, &str) = (
    "real_server_dropin_vs_stock",
    "<= 1.00x the stock driver's CPU per message",
);
const ON_VS_OFF: (&str, &str) = ("real_server_on_vs_off", "< 0.1% of the server's CPU per message");
const INSTRUMENTED_ON_VS_OFF: (&str, &str) = (
    "real_server_instrumented_on_vs_off",
    "< 0.1% of the instrumented server's CPU per message",
);

#[derive(Clone, Copy)]
struct Mode {
    name: &'static str,
    binary: &'static str,
    metrics: bool,
}

const MODES: [Mode; 5] = [
    Mode {
        name: "drop-in",
        binary: "sockudo",
        metrics: true,
    },
    Mode {
        name: "stock",
        binary: "sockudo-stock",
        metrics: true,
    },
    Mode {
        name: "metrics off",
        binary: "sockudo",
        metrics: false,
    },
    Mode {
        name: "instrumented",
        binary: "sockudo-instrumented",
        metrics: true,
    },
    Mode {
        name: "instrumented, metrics off",
        binary: "sockudo-instrumented",
        metrics: false,
    },
];

/// The servers a full run needs, with the command that builds each.
const SERVERS: [(&str, &str); 3] = [
    ("sockudo", "./scripts/sockudo-server.sh"),
    ("sockudo-stock", "./scripts/sockudo-server.sh --stock"),
    (
        "sockudo-instrumented",
        "./scripts/sockudo-server.sh --instrumented",
    ),
];

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// What one run measured.
struct Run {
    /// The server's profile of the measured window (none without callgrind).
    profile: Option<Profile>,
    /// Server instructions in the measured window (0 without callgrind).
    instructions: u64,
    /// The driver's own (`MetricsInterface` methods, inclusive) in that window.
    driver: u64,
    /// Messages the clients received in the window.
    delivered: u64,
    /// Messages the server counted as sent in the window (metrics on only).
    server_counted: Option<u64>,
}

impl Run {
    fn per_message(&self) -> f64 {
        self.instructions as f64 / self.delivered as f64
    }
}

pub fn real_server(timing: &Timing, report: &mut Report) {
    let quick = timing.quick;
    println!("\n## 7. Real Sockudo server: CPU per delivered message (drop-in, stock, metrics off; instrumented on and off)");
    println!(
        "workload: {APPS} apps x {CLIENTS_PER_APP} pusher-js clients, each on a public, a private and a presence channel; a round per app: 3 HTTP API publishes + 2 client events ({} deliveries per round)",
        APPS * (3 * CLIENTS_PER_APP + 2 * (CLIENTS_PER_APP - 1))
    );
    let why = match missing_tools(quick) {
        Some(why) => why,
        None if quick => quick_smoke(),
        None => match measure() {
            Ok(runs) => return measured(&runs, report),
            Err(err) => format!("not measured: {err}"),
        },
    };
    println!("{why}");
    for (name, goal) in [DROPIN_VS_STOCK, ON_VS_OFF, INSTRUMENTED_ON_VS_OFF] {
        report.goal(name, why.clone(), goal, false);
    }
}

/// Why the benchmark cannot run, if something it needs is missing.
fn missing_tools(quick: bool) -> Option<String> {
    let bin = repo().join(".tools/bin");
    // Both runs measure whatever is built, as long as the drop-in is; a goal whose servers are
    // not built says which (`unbuilt`).
    if !bin.join(MODES[0].binary).is_file() {
        return Some(unbuilt(MODES[0].binary));
    }
    let modules = repo().join(".tools/node/node_modules");
    if !modules.join("pusher-js").is_dir() || !modules.join("pusher").is_dir() {
        return Some(format!(
            "not measured: pusher-js and pusher missing from {} (scripts/install-tools.sh installs them)",
            modules.display()
        ));
    }
    let tools: &[&str] = if quick {
        &["node"]
    } else {
        &["node", "valgrind", "callgrind_control"]
    };
    let absent: Vec<&&str> = tools.iter().filter(|t| tool(t).is_none()).collect();
    (!absent.is_empty()).then(|| {
        format!(
            "not measured: {absent:?} in neither .tools/bin nor PATH (scripts/install-tools.sh installs them)"
        )
    })
}

fn built(mode: &Mode) -> bool {
    repo().join(".tools/bin").join(mode.binary).is_file()
}

/// Why a goal over `binary` is not measured: it is not built.
fn unbuilt(binary: &str) -> String {
    let build = SERVERS
        .iter()
        .find(|(name, _)| *name == binary)
        .map_or("./scripts/sockudo-server.sh", |(_, build)| build);
    format!("not measured: .tools/bin/{binary} missing (`{build}` builds it)")
}

/// Quick mode: each built server once, natively, through a few rounds; the goal is not measured.
fn quick_smoke() -> String {
    for mode in MODES.iter().filter(|m| built(m)) {
        match run_once(*mode, QUICK_ROUNDS, false) {
            Ok(run) => println!(
                "smoke {}: {} messages delivered{}",
                mode.name,
                run.delivered,
                agreement(&run)
            ),
            Err(err) => println!("smoke {}: FAILED: {err}", mode.name),
        }
    }
    "not measured in quick mode (a full run measures it under callgrind, a few minutes)".to_string()
}

fn agreement(run: &Run) -> String {
    match run.server_counted {
        Some(n) if n == run.delivered => ", the server counted the same".to_string(),
        // The drop-in counts a publish's deliveries only: Sockudo reports relayed client events
        // without a channel (METRICS.md's coverage row for messages_sent_total).
        Some(n) => format!(", the server counted {n} (differs: client events are not counted)"),
        None => String::new(),
    }
}

/// The full measurement: every built mode `REPS` times, interleaved; per mode, its runs (none
/// for a server that is not built).
fn measure() -> Result<Vec<Vec<Run>>, String> {
    let mut runs: Vec<Vec<Run>> = MODES.iter().map(|_| Vec::new()).collect();
    for rep in 0..REPS {
        for (i, mode) in MODES.iter().enumerate().filter(|(_, m)| built(m)) {
            let started = Instant::now();
            let run = run_once(*mode, ROUNDS, true).map_err(|e| format!("{} run {rep}: {e}", mode.name))?;
            println!(
                "run {rep} {}: {:.0} instr/msg over {} messages{}, driver {:.0} instr/msg ({:.1} s)",
                mode.name,
                run.per_message(),
                run.delivered,
                agreement(&run),
                run.driver as f64 / run.delivered as f64,
                started.elapsed().as_secs_f64()
            );
            runs[i].push(run);
        }
    }
    Ok(runs)
}

/// Median, min and max.
fn spread(mut values: Vec<f64>) -> [f64; 3] {
    values.sort_by(f64::total_cmp);
    [values[values.len() / 2], values[0], values[values.len() - 1]]
}

fn measured(runs: &[Vec<Run>], report: &mut Report) {
    // Per mode: median, min and max of instructions per message, and the driver's median.
    let per_message: Vec<Option<([f64; 3], f64)>> = runs
        .iter()
        .map(|r| {
            (!r.is_empty()).then(|| {
                let driver = spread(r.iter().map(|r| r.driver as f64 / r.delivered as f64).collect());
                (spread(r.iter().map(Run::per_message).collect()), driver[0])
            })
        })
        .collect();
    println!("| server | instr per delivered message (median, range of {REPS}) | driver's own instr/msg | driver share |\n|---|---|---|---|");
    for (mode, measured) in MODES.iter().zip(&per_message) {
        if let Some(([median, low, high], d)) = measured {
            println!(
                "| {} | {median:.0} ({low:.0}..{high:.0}) | {d:.0} | {:.2}% |",
                mode.name,
                100.0 * d / median
            );
        }
    }
    // Each goal compares two modes; one not built leaves it unmeasured, saying which.
    let pair = |a: usize, b: usize| match (per_message[a], per_message[b]) {
        (Some((a, _)), Some((b, _))) => Ok((a, b)),
        (None, _) => Err(unbuilt(MODES[a].binary)),
        (_, None) => Err(unbuilt(MODES[b].binary)),
    };
    match pair(0, 1) {
        Ok((dropin, stock)) => {
            let vs_stock = dropin[0] / stock[0];
            report.goal(
                DROPIN_VS_STOCK.0,
                format!(
                    "{} (range {:.3}x..{:.3}x; {:.0} vs {:.0} instr/msg)",
                    ratio(vs_stock),
                    dropin[1] / stock[2],
                    dropin[2] / stock[1],
                    dropin[0],
                    stock[0]
                ),
                DROPIN_VS_STOCK.1,
                vs_stock <= 1.0,
            );
            let on_off = |on: f64, off: f64| 100.0 * (on - off) / off;
            if let Some((off, _)) = per_message[2] {
                println!(
                    "diagnostic: the totals, drop-in vs metrics off: {:.2}% (median; range {:.2}%..{:.2}%), and stock's own runs span {:.2}%: two processes differ by more than 0.1%, so the goal counts instead",
                    on_off(dropin[0], off[0]),
                    on_off(dropin[1], off[2]),
                    on_off(dropin[2], off[1]),
                    on_off(stock[2], stock[1]),
                );
            }
        }
        Err(why) => report.goal(DROPIN_VS_STOCK.0, why, DROPIN_VS_STOCK.1, false),
    }
    for ((name, goal), (on, off)) in [(ON_VS_OFF, (0, 2)), (INSTRUMENTED_ON_VS_OFF, (3, 4))] {
        let (figure, met) = match pair(on, off) {
            Ok((_, off_per_message)) => {
                let (functions, saved) = metrics_saved(&runs[on], &runs[off]);
                println!(
                    "diagnostic: {name}: {functions} functions ran fewer of their own instructions in every run with metrics on, {saved:.1} instr/msg (median); the goal's figure does not subtract them"
                );
                metrics_only(&runs[on], &runs[off], off_per_message[0])
            }
            Err(why) => (why, false),
        };
        report.goal(name, figure, goal, met);
    }
}

/// The on-vs-off goal's figure and verdict, per message against the metrics-off median: in each
/// run with metrics on, the growth of the functions whose own instructions every such run
/// spends more of than every metrics-off run, beyond the runs' spread ([`grown`]): the driver
/// and all that runs only for it, Sockudo's own work for a driver (timing each broadcast), and
/// the extra layers a build adds for metrics (a middleware's clones and copies), each counted
/// where it runs, so a wrapper is not charged for the request it wraps. The figure is the
/// runs' median, like every other in this section.
fn metrics_only(on: &[Run], off: &[Run], off_per_message: f64) -> (String, bool) {
    let grown = grown(&profiles(on), &profiles(off));
    let mut runs = Vec::new();
    for run in on {
        let Some(profile) = &run.profile else { continue };
        let per_message = |instructions: u64| instructions as f64 / run.delivered as f64;
        let mut growth: Vec<(f64, &str)> = grown
            .iter()
            .map(|g| (per_message(g.growth_in(profile)), g.function.as_str()))
            .collect();
        growth.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
        let cost: f64 = growth.iter().map(|(c, _)| c).sum();
        let largest: Vec<String> = growth
            .iter()
            .take(4)
            .map(|(c, f)| format!("{c:.1} {}", short_name(f)))
            .collect();
        runs.push((cost, per_message(run.driver), largest));
    }
    if runs.is_empty() {
        return ("not measured: no profile".to_string(), false);
    }
    runs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let share = |cost: f64| 100.0 * cost / off_per_message;
    let (low, high) = (runs[0].0, runs[runs.len() - 1].0);
    let (cost, driver, largest) = &runs[runs.len() / 2];
    (
        format!(
            "{:.3}% (range {:.3}%..{:.3}%; {cost:.1} instr/msg, median of {} runs: the growth of {} functions' own instructions with metrics on; the driver's calls {driver:.1} of it; largest: {})",
            share(*cost),
            share(low),
            share(high),
            runs.len(),
            grown.len(),
            largest.join(", ")
        ),
        share(*cost) < 0.1,
    )
}

/// What [`metrics_only`] leaves out: the functions whose own instructions every metrics-off run
/// spends more of than every metrics-on run (the same test the other way round), and their
/// shrinkage per message, the median over the metrics-off runs. Work a build does only with
/// metrics off shows here: the instrumented build's metrics layer holds the route's stack behind
/// an `Arc`, so with metrics on axum no longer copies the CORS layer for each request.
fn metrics_saved(on: &[Run], off: &[Run]) -> (usize, f64) {
    let shrunk = grown(&profiles(off), &profiles(on));
    let mut saved: Vec<f64> = off
        .iter()
        .filter_map(|run| {
            let profile = run.profile.as_ref()?;
            let instructions: u64 = shrunk.iter().map(|g| g.growth_in(profile)).sum();
            Some(instructions as f64 / run.delivered as f64)
        })
        .collect();
    saved.sort_by(f64::total_cmp);
    (shrunk.len(), saved.get(saved.len() / 2).copied().unwrap_or(0.0))
}

fn profiles(runs: &[Run]) -> Vec<&Profile> {
    runs.iter().filter_map(|r| r.profile.as_ref()).collect()
}

/// A driver method as `driver::method`; anything else as it is.
fn short_name(function: &str) -> String {
    match function.split_once("MetricsInterface>::") {
        Some((_, method)) => format!("driver::{method}"),
        None => function.to_string(),
    }
}

/// Kills and reaps its process when dropped.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

fn app(i: usize) -> (String, String, String) {
    (
        format!("bench-app-{i}"),
        format!("bench-key-{i}"),
        format!("bench-secret-{i}"),
    )
}

/// Sockudo's config (benches/real_server/sockudo.json) on `port`, metrics on `metrics_port` or
/// off, with `APPS` apps that allow client events and no rate limits in the way.
fn config(port: u16, metrics_port: u16, metrics: bool) -> Value {
    let mut config: Value = serde_json::from_str(include_str!("../real_server/sockudo.json")).unwrap();
    config["port"] = port.into();
    config["metrics"]["port"] = metrics_port.into();
    config["metrics"]["enabled"] = metrics.into();
    config["app_manager"]["array"]["apps"] = (0..APPS)
        .map(|i| {
            let (id, key, secret) = app(i);
            let mut app = json!({ "id": id, "key": key, "secret": secret, "enabled": true, "webhooks": [] });
            app["max_connections"] = 10_000.into();
            app["enable_client_messages"] = true.into();
            app["max_client_events_per_second"] = 100_000.into();
            app
        })
        .collect();
    config
}

fn wait_for(
    what: &str,
    limit: Duration,
    mut ready: impl FnMut() -> Result<bool, String>,
) -> Result<(), String> {
    let start = Instant::now();
    while !ready()? {
        if start.elapsed() > limit {
            return Err(format!("timed out waiting for {what}"));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Ok(())
}

/// Messages the server counts as sent (drop-in: `sockudo_messages_sent_total`, stock:
/// `sockudo_ws_messages_sent_total`), summed over its series.
fn server_sent(metrics: SocketAddr) -> Result<u64, String> {
    let reply = http_get(metrics, "/metrics").map_err(|e| format!("scraping {metrics}: {e}"))?;
    Ok(reply
        .lines()
        .filter(|l| {
            l.starts_with("sockudo_messages_sent_total") || l.starts_with("sockudo_ws_messages_sent_total")
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as u64)
}

/// The load script's next line starting with `prefix`, parsed.
fn expect_line(out: &mut BufReader<ChildStdout>, prefix: &str, log: &Path) -> Result<Value, String> {
    let mut line = String::new();
    loop {
        line.clear();
        if out.read_line(&mut line).map_err(|e| e.to_string())? == 0 {
            let tail = fs::read_to_string(log).unwrap_or_default();
            return Err(format!("load.cjs ended before {prefix}: {}", tail.trim()));
        }
        if let Some(rest) = line.strip_prefix(prefix) {
            return serde_json::from_str(rest).map_err(|e| format!("{prefix}{rest}: {e}"));
        }
        if line.starts_with("FAILED") {
            return Err(format!("load.cjs: {}", line.trim()));
        }
    }
}

/// One server, one load: the measured window's figures.
fn run_once(mode: Mode, rounds: usize, callgrind: bool) -> Result<Run, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let (port, metrics_port) = (free_port(), free_port());
    let config_path = dir.path().join("config.json");
    fs::write(&config_path, config(port, metrics_port, mode.metrics).to_string())
        .map_err(|e| e.to_string())?;
    let binary = repo().join(".tools/bin").join(mode.binary);
    let dump = dir.path().join("callgrind.out");
    let mut server = if callgrind {
        callgrind_run::command(&binary, &dump)?
    } else {
        Command::new(&binary)
    };
    for variable in sockudo_obs::config::ENVIRONMENT_VARIABLES {
        server.env_remove(variable);
    }
    let server_log = fs::File::create(dir.path().join("server.log")).map_err(|e| e.to_string())?;
    server
        .arg("--config")
        .arg(&config_path)
        .current_dir(dir.path())
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(server_log.try_clone().map_err(|e| e.to_string())?)
        .stderr(server_log);
    let mut server = Reaped(server.spawn().map_err(|e| format!("{}: {e}", binary.display()))?);
    let pid = server.0.id();
    let ws = SocketAddr::from(([127, 0, 0, 1], port));
    let metrics = SocketAddr::from(([127, 0, 0, 1], metrics_port));
    wait_for("the server to listen", Duration::from_secs(180), || {
        if let Some(status) = server.0.try_wait().map_err(|e| e.to_string())? {
            let log = fs::read_to_string(dir.path().join("server.log")).unwrap_or_default();
            return Err(format!("the server exited ({status}): {}", log.trim()));
        }
        let up = TcpStream::connect(ws).is_ok();
        Ok(up && (!mode.metrics || http_get(metrics, "/metrics").is_ok_and(|r| r.contains(" 200 "))))
    })?;

    let plan = json!({
        "host": "127.0.0.1",
        "port": port,
        "apps": (0..APPS).map(|i| { let (id, key, secret) = app(i); json!({"id": id, "key": key, "secret": secret}) }).collect::<Vec<_>>(),
        "clientsPerApp": CLIENTS_PER_APP,
        "warmRounds": WARM_ROUNDS,
        "rounds": rounds,
    });
    let load_log = dir.path().join("load.log");
    let mut load = Command::new(tool("node").ok_or("node is not on PATH")?);
    load.arg(repo().join("benches/real_server/load.cjs"))
        .env("NODE_PATH", repo().join(".tools/node/node_modules"))
        .env("LOAD", plan.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(fs::File::create(&load_log).map_err(|e| e.to_string())?);
    let mut load = Reaped(load.spawn().map_err(|e| format!("node: {e}"))?);
    let mut out = BufReader::new(load.0.stdout.take().unwrap());
    let mut go: ChildStdin = load.0.stdin.take().unwrap();
    expect_line(&mut out, "WARM ", &load_log)?;

    let before = if mode.metrics {
        Some(server_sent(metrics)?)
    } else {
        None
    };
    if callgrind {
        callgrind_run::control("-z", pid)?;
    }
    writeln!(go, "GO").map_err(|e| e.to_string())?;
    let done = expect_line(&mut out, "DONE ", &load_log)?;
    if callgrind {
        callgrind_run::control("-d", pid)?;
    }
    let server_counted = match before {
        Some(before) => Some(server_sent(metrics)? - before),
        None => None,
    };
    drop(go);
    let delivered = done["delivered"].as_u64().ok_or("DONE without delivered")?;
    let profile = if callgrind {
        Some(dumped(&dump, mode)?)
    } else {
        None
    };
    let instructions = profile.as_ref().map_or(0, |p| p.total);
    let driver = profile.as_ref().map_or(0, |p| p.inside(is_driver_method));
    drop(load);
    drop(server);
    Ok(Run {
        profile,
        instructions,
        driver,
        delivered,
        server_counted,
    })
}

/// The run's callgrind dump, parsed. With `REAL_SERVER_DUMPS=<dir>` it is also copied there (as
/// `<mode>-<n>.callgrind`) for `callgrind_annotate`.
fn dumped(out: &Path, mode: Mode) -> Result<Profile, String> {
    let file = callgrind_run::latest_dump(out)?;
    if let Some(keep) = std::env::var_os("REAL_SERVER_DUMPS").map(PathBuf::from) {
        fs::create_dir_all(&keep).map_err(|e| format!("{}: {e}", keep.display()))?;
        let name = mode.name.replace(' ', "-");
        let to = (0..)
            .map(|n| keep.join(format!("{name}-{n}.callgrind")))
            .find(|p| !p.exists())
            .expect("a free name");
        fs::copy(&file, &to).map_err(|e| format!("{}: {e}", to.display()))?;
    }
    let text = fs::read_to_string(&file).map_err(|e| e.to_string())?;
    Profile::parse(&text).map_err(|e| format!("{}: {e}", file.display()))
}

/// The drop-in's methods demangle as `<Driver as MetricsInterface>::m`, the stock driver's as
/// `...::<impl MetricsInterface for Driver>::m` (closures and futures they return included).
fn is_driver_method(function: &str) -> bool {
    function.contains(" as sockudo_core::metrics::MetricsInterface>::")
        || function.contains("<impl sockudo_core::metrics::MetricsInterface for ")
}
