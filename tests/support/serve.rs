//! The exporter under test, as the hardening tests run it: the real `sockudo-obs serve` binary
//! under a controlled environment, or an in-process exporter on its own runtime thread, and the
//! checks run after each abuse step.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use sockudo_obs::live::Exporter;
use sockudo_obs::{Metrics, MetricsConfig};
use tokio::sync::oneshot;

use super::http::{exchange, parse_response, preview, SCRAPE};
use super::process::ProcessGuard;

/// The real `sockudo-obs` binary with an empty environment except PATH, so the developer's
/// `METRICS_*` variables cannot change what a test sees.
pub fn sockudo_obs() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sockudo-obs"));
    command.env_clear();
    if let Some(path) = std::env::var_os("PATH") {
        command.env("PATH", path);
    }
    command
}

/// The real binary running `serve` (with the demo simulator when `demo`) on 127.0.0.1:`port`.
pub struct ServeProcess {
    pub child: ProcessGuard,
    pub addr: SocketAddr,
    /// stderr lines, read on a thread so the child never blocks on a full pipe.
    stderr: mpsc::Receiver<String>,
}

impl ServeProcess {
    /// Starts the binary and waits (up to 10 s) for its "serving metrics on" line.
    pub fn start(port: u16, demo: bool) -> ServeProcess {
        let mut command = sockudo_obs();
        command
            .arg("serve")
            .env("METRICS_HOST", "127.0.0.1")
            .env("METRICS_PORT", port.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if demo {
            command.arg("--demo");
        }
        let mut child = ProcessGuard::start(&mut command);
        let stdout = BufReader::new(child.child.stdout.take().unwrap());
        let stderr = BufReader::new(child.child.stderr.take().unwrap());
        let (ready, serving) = mpsc::channel();
        thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                let _ = ready.send(line);
            }
        });
        let (lines, stderr_lines) = mpsc::channel();
        thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                let _ = lines.send(line);
            }
        });
        let first = serving.recv_timeout(Duration::from_secs(10)).unwrap_or_else(|_| {
            let errors: Vec<String> = stderr_lines.try_iter().collect();
            panic!("no \"serving metrics on\" line within 10 s; stderr: {errors:?}")
        });
        let expected = format!("serving metrics on http://127.0.0.1:{port}/metrics");
        assert_eq!(first, expected);
        ServeProcess {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            stderr: stderr_lines,
        }
    }

    /// The stderr lines printed so far.
    pub fn stderr_lines(&self) -> Vec<String> {
        self.stderr.try_iter().collect()
    }

    /// Resident memory of the process, from /proc/<pid>/status, in KiB.
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.pid())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("a VmRSS line")
    }
}

/// Default-config metrics with two demo ticks recorded, so every family has series.
pub fn demo_metrics() -> Metrics {
    let metrics = Metrics::new(&MetricsConfig::default()).unwrap();
    super::seeded_demo(&metrics);
    metrics
}

/// [`demo_metrics`] served with the demo's own control route (`POST /demo/scenario`, the route
/// `serve --demo` mounts), configured further by `configure`.
pub fn demo_server_with_control(
    configure: impl FnOnce(Exporter) -> Exporter + Send + 'static,
) -> ServerThread {
    let metrics = Metrics::new(&MetricsConfig::default()).unwrap();
    let route = super::seeded_demo(&metrics).switch().control_route();
    ServerThread::start(metrics, move |exporter| configure(exporter.with_control(route)))
}

/// An exporter running in this process on its own tokio runtime thread, on 127.0.0.1:0; dropping
/// it shuts the server down and joins the thread. Lets the tests be plain blocking code.
pub struct ServerThread {
    pub addr: SocketAddr,
    pub metrics: Metrics,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl ServerThread {
    pub fn start(metrics: Metrics, configure: impl FnOnce(Exporter) -> Exporter + Send + 'static) -> Self {
        let (stop, stopped) = oneshot::channel::<()>();
        let (bound_tx, bound_rx) = mpsc::channel();
        let served = metrics.clone();
        let thread = thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let bound = configure(Exporter::new(served))
                    .bind("127.0.0.1:0")
                    .await
                    .unwrap();
                bound_tx.send(bound.local_addr()).unwrap();
                bound
                    .run(async {
                        let _ = stopped.await;
                    })
                    .await
                    .unwrap();
            });
        });
        let addr = bound_rx.recv_timeout(Duration::from_secs(10)).unwrap();
        ServerThread {
            addr,
            metrics,
            stop: Some(stop),
            thread: Some(thread),
        }
    }
}

impl Drop for ServerThread {
    fn drop(&mut self) {
        let _ = self.stop.take().unwrap().send(());
        let _ = self.thread.take().unwrap().join();
    }
}

/// Scrapes `/metrics` on a fresh connection and asserts a complete 200 exposition came back
/// within `limit`; the check run after every abuse step. Returns the body.
pub fn assert_scrape_ok(addr: SocketAddr, limit: Duration) -> String {
    let started = Instant::now();
    let raw = exchange(addr, SCRAPE);
    let took = started.elapsed();
    let response =
        parse_response(&raw).unwrap_or_else(|| panic!("no HTTP response to a scrape: {:?}", preview(&raw)));
    assert_eq!(response.status, 200, "{}", response.status_line);
    let body = String::from_utf8(response.body.to_vec()).expect("UTF-8 exposition");
    assert!(body.contains("# TYPE "), "not an exposition: {:?}", preview(&raw));
    assert!(took <= limit, "the scrape took {took:?} (limit {limit:?})");
    body
}

/// Asserts a usage error: exit code 2, nothing on stdout, and exactly one stderr line, which
/// contains every one of `mentions`. Returns the line.
pub fn assert_one_line_usage_error(output: &Output, mentions: &[&str]) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "expected one stderr line, got {lines:#?}");
    let line = lines[0].to_string();
    assert_eq!(output.status.code(), Some(2), "exit status for: {line}");
    assert!(
        output.stdout.is_empty(),
        "stdout: {}",
        String::from_utf8_lossy(&output.stdout)
    );
    for mention in mentions {
        assert!(line.contains(mention), "{line:?} does not mention {mention:?}");
    }
    line
}
