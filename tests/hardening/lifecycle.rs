//! The `sockudo-obs serve` process lifecycle: it stops cleanly on SIGTERM (what container
//! runtimes send), can be started again on the same port at once even though the port still has
//! connections in TIME_WAIT, and refuses to run, naming the address, when the port is taken,
//! rather than running without metrics.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use crate::support::ports::free_port;
use crate::support::process::run_to_exit;
use crate::support::serve::{assert_scrape_ok, sockudo_obs, ServeProcess};

const SCRAPE_LIMIT: Duration = Duration::from_secs(5);

/// Sockets in TIME_WAIT on local port `port`, from /proc/net/tcp (state 06).
fn time_wait_sockets(port: u16) -> usize {
    let table = std::fs::read_to_string("/proc/net/tcp").unwrap();
    let local_port = format!(":{port:04X}");
    table
        .lines()
        .skip(1)
        .filter(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            fields.len() > 3 && fields[1].ends_with(&local_port) && fields[3] == "06"
        })
        .count()
}

/// SIGTERM stops the server within a few seconds with exit code 0 and its stop line, and a new
/// server binds the same port straight away: the server closed the scrape connections first, so
/// they sit in TIME_WAIT on its port, and only SO_REUSEADDR (which tokio's `TcpListener::bind`
/// sets on Unix) lets the new one bind.
#[test]
fn sigterm_stops_cleanly_and_a_restart_on_the_same_port_succeeds() {
    let port = free_port();
    let mut server = ServeProcess::start(port, true);
    for _ in 0..3 {
        // `Connection: close`: the server closes first, leaving TIME_WAIT on its side.
        assert_scrape_ok(server.addr, SCRAPE_LIMIT);
    }
    let signalled = Instant::now();
    server.child.terminate();
    let status = server
        .child
        .wait_for_exit(Duration::from_secs(5))
        .expect("exits within 5 s of SIGTERM");
    let took = signalled.elapsed();
    assert_eq!(status.code(), Some(0), "{status:?}");
    // The stderr reader thread may lag the exit by a moment.
    let mut stderr = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(2);
    while !stderr.iter().any(|l| l == "sockudo-obs: stopped") && Instant::now() < deadline {
        stderr.extend(server.stderr_lines());
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        stderr.iter().any(|l| l == "sockudo-obs: stopped"),
        "stderr: {stderr:?}"
    );
    println!("stopped {took:?} after SIGTERM");

    let lingering = time_wait_sockets(port);
    assert!(
        lingering > 0,
        "no TIME_WAIT left on port {port}: the restart would prove nothing"
    );
    let restarted = ServeProcess::start(port, true);
    assert_scrape_ok(restarted.addr, SCRAPE_LIMIT);
    println!("restarted on port {port} with {lingering} connections in TIME_WAIT");
}

/// A taken port stops the binary with a non-zero exit and a message naming the address. (The
/// library's `Exporter::bind` error is covered in `live_exporter.rs`.)
#[test]
fn a_taken_port_stops_the_binary_naming_the_address() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let output = run_to_exit(
        sockudo_obs()
            .arg("serve")
            .env("METRICS_HOST", "127.0.0.1")
            .env("METRICS_PORT", addr.port().to_string()),
        Duration::from_secs(10),
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&addr.to_string()), "{stderr}");
    assert!(stderr.to_lowercase().contains("in use"), "{stderr}");
    assert!(
        output.stdout.is_empty(),
        "it claimed to serve: {}",
        String::from_utf8_lossy(&output.stdout)
    );
    drop(taken);
}
