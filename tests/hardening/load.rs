//! Sustained concurrent scraping with `wrk` against the real `sockudo-obs serve --demo` binary (the
//! demo keeps recording while it is scraped): 64 keep-alive connections, the whole cap, for 5 s.
//! Every request must get a 2xx with no socket errors; the throughput and the p99 latency are
//! printed. (What scraping costs the recording path is measured by the benches, not here.) And
//! with `wrk` holding 200 connections, three times the cap, a well-behaved scraper (one fresh
//! connection per scrape, as Prometheus makes after a close) always gets 200 or 503, never a
//! connection closed without a reply, which Prometheus would record as `up=0`.

use std::process::Stdio;
use std::time::Duration;

use crate::support::http::{exchange, parse_response, SCRAPE};
use crate::support::ports::free_port;
use crate::support::process::run_to_exit;
use crate::support::serve::ServeProcess;
use crate::support::tools::require as tool;
use sockudo_obs::live::DEFAULT_MAX_CONNECTIONS;

/// The figures read from `wrk --latency` output.
#[derive(Debug)]
struct WrkReport {
    requests: u64,
    requests_per_second: f64,
    p99: Duration,
    /// The "Non-2xx or 3xx responses" and "Socket errors" lines; wrk prints them only when
    /// something went wrong.
    errors: Vec<String>,
}

/// `12.5us`, `3.40ms`, `1.02s`, `1.5m` as wrk prints them.
fn parse_wrk_duration(text: &str) -> Option<Duration> {
    let split = text.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let seconds = match unit {
        "us" => number / 1e6,
        "ms" => number / 1e3,
        "s" => number,
        "m" => number * 60.0,
        _ => return None,
    };
    Some(Duration::from_secs_f64(seconds))
}

fn parse_wrk(output: &str) -> WrkReport {
    let field = |prefix: &str| {
        output
            .lines()
            .map(str::trim)
            .find_map(|l| l.strip_prefix(prefix))
            .map(str::trim)
            .unwrap_or_else(|| panic!("no {prefix:?} line in wrk output:\n{output}"))
    };
    let requests = output
        .lines()
        .find_map(|l| l.trim().split_once(" requests in "))
        .and_then(|(n, _)| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no request count in wrk output:\n{output}"));
    WrkReport {
        requests,
        requests_per_second: field("Requests/sec:").parse().unwrap(),
        p99: parse_wrk_duration(field("99%")).unwrap(),
        errors: output
            .lines()
            .map(str::trim)
            .filter(|l| l.starts_with("Non-2xx") || l.starts_with("Socket errors"))
            .map(str::to_string)
            .collect(),
    }
}

/// wrk's "Socket errors: connect C, read R, write W, timeout T" as `[C, R, W, T]`; all 0 when the
/// line is absent (wrk prints it only when one is not 0). A read error is a connection closed
/// with a request on it and no answer: a scrape that Prometheus would record as `up=0`.
fn socket_errors(output: &str) -> [u64; 4] {
    let Some(line) = output
        .lines()
        .find_map(|l| l.trim().strip_prefix("Socket errors:"))
    else {
        return [0; 4];
    };
    let mut counts = [0; 4];
    for (count, (name, field)) in counts.iter_mut().zip(
        ["connect", "read", "write", "timeout"]
            .into_iter()
            .zip(line.split(',')),
    ) {
        let value = field.trim().strip_prefix(name).map(str::trim);
        *count = value
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("unreadable wrk line: {line}"));
    }
    counts
}

#[test]
fn wrk_output_is_parsed() {
    let sample = "Running 5s test @ http://127.0.0.1:1/metrics
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    10.00ms    2.00ms  40.00ms   90.00%
  Latency Distribution
     50%    9.00ms
     75%   11.00ms
     90%   13.00ms
     99%    1.20s
  6000 requests in 5.00s, 60.00MB read
  Socket errors: connect 0, read 0, write 0, timeout 3
  Non-2xx or 3xx responses: 2
Requests/sec:   1200.50
Transfer/sec:     12.00MB
";
    let report = parse_wrk(sample);
    assert_eq!(report.requests, 6000);
    assert_eq!(report.requests_per_second, 1200.5);
    assert_eq!(report.p99, Duration::from_millis(1200));
    assert_eq!(report.errors.len(), 2);
    assert_eq!(parse_wrk_duration("850.00us"), Some(Duration::from_micros(850)));
    assert_eq!(socket_errors(sample), [0, 0, 0, 3]);
    assert_eq!(
        socket_errors("  Socket errors: connect 1, read 5010, write 2, timeout 0\n"),
        [1, 5010, 2, 0]
    );
    assert_eq!(socket_errors("Requests/sec: 1.0\n"), [0; 4]);
}

#[test]
fn sixty_four_connections_scraping_for_five_seconds_get_no_errors() {
    let server = ServeProcess::start(free_port(), true);
    let url = format!("http://{}/metrics", server.addr);
    let connections = DEFAULT_MAX_CONNECTIONS.to_string();
    let output = wrk(&url, &connections);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "wrk failed: {text}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report = parse_wrk(&text);
    println!(
        "wrk, {connections} connections for 5 s: {} requests, {:.0} requests/s, p99 {:?}",
        report.requests, report.requests_per_second, report.p99
    );
    assert!(report.errors.is_empty(), "{:?}\n{text}", report.errors);
    assert!(report.requests > 0, "{text}");
    drop(server);
}

/// `wrk` with `connections` keep-alive connections for 5 s against `url`.
fn wrk(url: &str, connections: &str) -> std::process::Output {
    run_to_exit(
        std::process::Command::new(tool("wrk"))
            .args(["--threads", "2", "--connections", connections, "--duration", "5s"])
            // Far above any latency seen, so a slow shared CI machine is not an error.
            .args(["--timeout", "5s", "--latency", url])
            .stdin(Stdio::null()),
        Duration::from_secs(30),
    )
}

#[test]
fn at_three_times_the_cap_a_well_behaved_scraper_gets_200_or_503_never_an_empty_reply() {
    let server = ServeProcess::start(free_port(), true);
    let url = format!("http://{}/metrics", server.addr);
    let flood = std::thread::spawn(move || wrk(&url, "200"));
    std::thread::sleep(Duration::from_millis(500));
    let (mut ok, mut busy, mut empty) = (0, 0, Vec::new());
    while !flood.is_finished() {
        let raw = exchange(server.addr, SCRAPE);
        match parse_response(&raw).map(|r| r.status) {
            Some(200) => ok += 1,
            Some(503) => busy += 1,
            status => empty.push((status, raw.len())),
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = flood.join().unwrap();
    assert!(output.status.success(), "wrk failed");
    let text = String::from_utf8_lossy(&output.stdout);
    let report = parse_wrk(&text);
    let [connect, read, write, timeout] = socket_errors(&text);
    println!(
        "under wrk -c200: {ok} scrapes got 200, {busy} got 503, {} got neither; wrk: {} \
         requests, socket errors connect {connect}, read {read}, write {write}, timeout {timeout}",
        empty.len(),
        report.requests
    );
    assert!(
        empty.is_empty(),
        "replies without a status (status, bytes): {empty:?}"
    );
    assert!(ok + busy >= 10, "too few scrapes to tell: {ok} + {busy}");
    // wrk's own connections, evicted to make room for each other, get an answer (200 with
    // `Connection: close`, or 503) to every request they sent: none closed with no reply. (A
    // wrk timeout is only a response slower than 5 s, which a loaded machine may see; not
    // asserted.)
    assert_eq!(
        [connect, read, write],
        [0; 3],
        "wrk saw connections closed without an answer:\n{text}"
    );
}
