//! Helpers the `hardening_*` tests share: finding the real tools, running the real binary under a
//! controlled environment (every child is killed by its PID when its guard drops), an in-process
//! exporter on its own runtime thread, raw blocking HTTP over loopback, and the abuse steps that
//! both the in-process tests and the binary's memory test run.

#![allow(dead_code)]

pub mod abuse;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

#[path = "../../src/cli/demo.rs"]
pub mod demo;
use demo::{Demo, Scenario};
use sockudo_obs::live::Exporter;
use sockudo_obs::{Metrics, MetricsConfig};
use tokio::sync::oneshot;

#[path = "../tools/mod.rs"]
mod tools;

/// A tool from PATH (CI prepends `.tools/bin`). Missing is a failure, never a skip.
#[allow(unused_imports)] // not every hardening test runs a tool
pub use tools::require as tool;

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

/// A child process that is killed (by its PID) and reaped when the guard drops, whatever the test
/// did in between.
pub struct ChildGuard(pub Child);

impl ChildGuard {
    pub fn spawn(command: &mut Command) -> ChildGuard {
        ChildGuard(command.spawn().expect("the child process starts"))
    }

    pub fn pid(&self) -> u32 {
        self.0.id()
    }

    /// Waits up to `limit` for the child to exit by itself; `None` when it is still running.
    pub fn wait_for_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.0.try_wait().expect("try_wait") {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends SIGTERM, as a container runtime does on stop.
    pub fn terminate(&self) {
        let pid = libc::pid_t::try_from(self.pid()).expect("pid fits pid_t");
        // SAFETY: kill(2) with a PID this guard owns (the child is not reaped until the guard
        // waits for it, so the PID cannot have been reused).
        assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0, "kill -TERM {pid}");
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
        }
        let _ = self.0.wait();
    }
}

/// Runs `command` to completion with its output captured; a child still running after `limit` is
/// killed and the test fails (a config error must stop the binary, not leave it serving).
pub fn run_to_exit(command: &mut Command, limit: Duration) -> Output {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = ChildGuard::spawn(command);
    let status = child.wait_for_exit(limit);
    assert!(status.is_some(), "still running after {limit:?}: {command:?}");
    let mut output = Output {
        status: status.unwrap(),
        stdout: Vec::new(),
        stderr: Vec::new(),
    };
    child
        .0
        .stdout
        .take()
        .unwrap()
        .read_to_end(&mut output.stdout)
        .unwrap();
    child
        .0
        .stderr
        .take()
        .unwrap()
        .read_to_end(&mut output.stderr)
        .unwrap();
    output
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The real binary running `serve` (with the demo simulator when `demo`) on 127.0.0.1:`port`.
pub struct ServeProcess {
    pub child: ChildGuard,
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
        let mut child = ChildGuard::spawn(&mut command);
        let stdout = BufReader::new(child.0.stdout.take().unwrap());
        let stderr = BufReader::new(child.0.stderr.take().unwrap());
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
    let mut demo = Demo::with_seed(&metrics, Scenario::Normal, 42);
    demo.tick();
    demo.tick();
    metrics
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

/// A connected client socket with a read timeout, so no test can hang on a read.
pub fn connect(addr: SocketAddr, read_timeout: Duration) -> TcpStream {
    let stream = TcpStream::connect(addr).expect("connect to the exporter");
    stream.set_read_timeout(Some(read_timeout)).unwrap();
    stream
}

/// Writes `request` and reads until the server closes (or 10 s pass). The write may fail when
/// the server closes early; only what it answered matters.
pub fn exchange(addr: SocketAddr, request: &[u8]) -> Vec<u8> {
    let mut stream = connect(addr, Duration::from_secs(10));
    let _ = stream.write_all(request);
    let mut reply = Vec::new();
    let _ = stream.read_to_end(&mut reply);
    reply
}

/// A `GET /metrics` as Prometheus sends it, closing the connection after the answer.
pub const SCRAPE: &[u8] = b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";

/// One response parsed off the front of `raw`: status, headers (names lowercased), body by
/// Content-Length, and what follows it.
pub struct Response<'a> {
    pub status_line: String,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: &'a [u8],
    pub rest: &'a [u8],
}

impl Response<'_> {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

pub fn parse_response(raw: &[u8]) -> Option<Response<'_>> {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..end]).ok()?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next()?.to_string();
    let status = status_line.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let length = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .map_or(raw.len() - end - 4, |(_, v)| v.parse().unwrap());
    let body_end = (end + 4 + length).min(raw.len());
    Some(Response {
        status_line,
        status,
        headers,
        body: &raw[end + 4..body_end],
        rest: &raw[body_end..],
    })
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

/// The start of a byte string, for assertion messages.
pub fn preview(raw: &[u8]) -> String {
    String::from_utf8_lossy(&raw[..raw.len().min(120)]).into_owned()
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
