//! Abusive clients against the exporter over real loopback TCP. After every abuse step a real
//! scrape must still get a complete 200 exposition, quickly: the exporter stays available to
//! Prometheus whatever other clients do. The last test runs the abuse in rounds against the real
//! `sockudo-obs serve --demo` binary and checks its memory stays flat.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::support::abuse::{
    disconnect_mid_response, half_closed_exchange, held_body_head, hold_body, http10_scrape,
    keep_alive_exchange, pipelined_requests, send_garbage, send_oversized_headers, IdleKeepAlive, SlowLoris,
};
use crate::support::http::{connect, exchange, parse_response, preview, SCRAPE};
use crate::support::ports::free_port;
use crate::support::serve::{
    assert_scrape_ok, demo_metrics, demo_server_with_control, ServeProcess, ServerThread,
};
use sockudo_obs::live::ControlRoute;
use sockudo_obs::live::{DEFAULT_BODY_READ_TIMEOUT, DEFAULT_HEADER_READ_TIMEOUT, DEFAULT_MAX_CONNECTIONS};
use sockudo_obs::{Metrics, MetricsConfig};

/// How long a scrape may take while the exporter is being abused: far below the default header
/// read timeout, so a passing scrape was not merely let in by stalled clients timing out.
const SCRAPE_LIMIT: Duration = Duration::from_secs(2);

fn demo_server() -> ServerThread {
    ServerThread::start(demo_metrics(), |exporter| exporter)
}

/// Polls `condition` every 20 ms for up to `limit`; true as soon as it holds.
fn eventually(limit: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if condition() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// 100 slow-loris clients, more than the 64-connection cap, hold their sockets with a partial
/// request head; a real scrape still gets in at once (not after the header read timeout), because
/// a new connection at the cap takes the place of the connection idle the longest. The server
/// never holds more than the cap: at least 100 - 64 of the slow sockets get closed.
#[test]
fn slow_loris_beyond_the_cap_cannot_keep_a_scrape_out() {
    assert!(SCRAPE_LIMIT < DEFAULT_HEADER_READ_TIMEOUT);
    let server = demo_server();
    let mut slow = SlowLoris::open(server.addr, 100);
    assert!(slow.len() > DEFAULT_MAX_CONNECTIONS);
    for _ in 0..3 {
        slow.trickle();
        assert_scrape_ok(server.addr, SCRAPE_LIMIT);
        thread::sleep(Duration::from_millis(100));
    }
    // The server holds at most the cap, so every slow client past it was displaced.
    let displaced = slow.len() - DEFAULT_MAX_CONNECTIONS;
    let closed = eventually(Duration::from_secs(2), || slow.closed_by_server() >= displaced);
    println!(
        "slow-loris: {} of {} slow sockets closed by the server while 3 scrapes got in",
        slow.closed_by_server(),
        slow.len()
    );
    assert!(
        closed,
        "the server held more than {DEFAULT_MAX_CONNECTIONS} connections"
    );
}

/// The demo's control route (`POST /demo/scenario`, as `serve --demo` mounts it).
const CONTROL_PATH: &str = "/demo/scenario";

/// Rounds of 100 clients, more than the cap, announce a control request body
/// (`Content-Length: 100`) and never send it, sending a body byte now and then. Once the server
/// holds only the cap again (the displaced sockets closed, which also means the held heads were
/// read), a real scrape must still get in at once: a connection waiting for its body is idle, not
/// in a request. Before the fix every scrape got 503 for as long as the bodies were held.
#[test]
fn held_request_bodies_beyond_the_cap_cannot_keep_a_scrape_out() {
    assert!(SCRAPE_LIMIT < DEFAULT_BODY_READ_TIMEOUT);
    let server = demo_server_with_control(|exporter| exporter);
    let mut rounds: Vec<SlowLoris> = Vec::new();
    for _ in 0..3 {
        rounds.push(SlowLoris::open_with(
            server.addr,
            100,
            &held_body_head(CONTROL_PATH),
        ));
        let opened: usize = rounds.iter().map(SlowLoris::len).sum();
        let closed = || rounds.iter().map(SlowLoris::closed_by_server).sum::<usize>();
        let settled = eventually(Duration::from_secs(4), || {
            closed() + DEFAULT_MAX_CONNECTIONS >= opened
        });
        println!(
            "held bodies: {} of {opened} sockets closed by the server",
            closed()
        );
        assert!(
            settled,
            "the server held more than {DEFAULT_MAX_CONNECTIONS} connections"
        );
        for held in &mut rounds {
            held.trickle();
        }
        assert_scrape_ok(server.addr, SCRAPE_LIMIT);
    }
    // The route itself still works.
    let reply = crate::support::http::request(server.addr, "POST", CONTROL_PATH, &[], "errors\n");
    assert_eq!(reply.0, 200, "{}", String::from_utf8_lossy(&reply.2));
}

/// With the body read timeout set to 1 s, a held body and a body trickled a byte every 200 ms
/// (each read well inside the timeout) are both answered `408` and closed: the timeout is a
/// budget for the whole body, counted from the head, not per read. Not before the timeout, and
/// well before the 20 s the trickle would need.
#[test]
fn a_body_not_sent_within_the_body_read_timeout_is_answered_408_and_closed() {
    let timeout = Duration::from_secs(1);
    let server = demo_server_with_control(move |exporter| exporter.body_read_timeout(timeout));
    let head = held_body_head(CONTROL_PATH);
    let addr = server.addr;
    let clients: Vec<_> = [false, true, false, true]
        .into_iter()
        .map(|trickle| {
            let head = head.clone();
            thread::spawn(move || {
                let every = Duration::from_millis(200);
                (
                    trickle,
                    hold_body(addr, &head, trickle, every, Duration::from_secs(10)),
                )
            })
        })
        .collect();
    for client in clients {
        let (trickle, (reply, closed)) = client.join().unwrap();
        let closed = closed.unwrap_or_else(|| panic!("trickle {trickle}: still open after 10 s"));
        println!(
            "trickle {trickle}: closed after {closed:?} with {:?}",
            preview(&reply)
        );
        let response = parse_response(&reply).unwrap_or_else(|| panic!("no answer: {:?}", preview(&reply)));
        assert_eq!(response.status, 408, "{}", response.status_line);
        assert_eq!(response.header("connection"), Some("close"));
        assert!(closed >= timeout, "closed after {closed:?}, before the timeout");
    }
    assert_scrape_ok(server.addr, SCRAPE_LIMIT);
}

/// A client that sends its request and then shuts down its write half (SHUT_WR) still gets the
/// whole answer: a scrape with and without keep-alive, HTTP/1.0, and a control request with its
/// body, 20 times each. Before the fix 19 of 20 got nothing.
#[test]
fn a_client_that_half_closes_after_its_request_gets_the_whole_answer() {
    let server = demo_server_with_control(|exporter| exporter);
    let requests: [&[u8]; 4] = [
        b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        SCRAPE,
        b"GET /metrics HTTP/1.0\r\n\r\n",
        b"POST /demo/scenario HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 7\r\n\r\nnormal\n",
    ];
    let mut unanswered = Vec::new();
    let mut answered = 0;
    for round in 0..20 {
        for (which, request) in requests.iter().enumerate() {
            let reply = half_closed_exchange(server.addr, request);
            match parse_response(&reply) {
                Some(response)
                    if response.status == 200
                        && response.header("content-length").and_then(|l| l.parse().ok())
                            == Some(response.body.len()) =>
                {
                    answered += 1
                }
                _ => unanswered.push((round, which, preview(&reply))),
            }
        }
    }
    println!(
        "half-closed clients: {answered} of {} answered whole",
        20 * requests.len()
    );
    assert!(
        unanswered.is_empty(),
        "unanswered (round, request, reply): {unanswered:?}"
    );
}

/// A client that stalls in its request head, and a keep-alive connection left idle, are both
/// closed once the header read timeout (set to 1 s here) runs out, and not before.
#[test]
fn stalled_heads_and_idle_keep_alive_connections_time_out() {
    let timeout = Duration::from_secs(1);
    let server = ServerThread::start(demo_metrics(), move |exporter| {
        exporter.header_read_timeout(timeout)
    });
    let started = Instant::now();
    let mut slow = SlowLoris::open(server.addr, 5);
    let idle = IdleKeepAlive::open(server.addr);

    thread::sleep(timeout / 2);
    slow.trickle();
    assert_eq!(slow.closed_by_server(), 0, "closed before the timeout");
    assert!(eventually(Duration::from_secs(4), || slow.closed_by_server() == 5));
    idle.wait_for_close();
    let took = started.elapsed();
    println!("stalled and idle connections closed after {took:?} (timeout {timeout:?})");
    assert!(took >= timeout, "{took:?}");
    assert_scrape_ok(server.addr, SCRAPE_LIMIT);
}

/// With the cap at 1, a keep-alive connection sitting idle is closed to let a new scrape in.
#[test]
fn at_the_cap_a_new_connection_replaces_the_idle_one() {
    let server = ServerThread::start(demo_metrics(), |exporter| exporter.max_connections(1));
    let idle = IdleKeepAlive::open(server.addr);
    assert_scrape_ok(server.addr, SCRAPE_LIMIT);
    idle.wait_for_close();
}

/// With the cap at 1, a keep-alive connection loses its place to a new one (a slow-loris head)
/// between two scrapes, and then sends its next scrape, as a client does that has not seen the
/// close yet. That scrape is answered whole, with `Connection: close`, rather than met with a
/// close and no reply (before the fix: nothing, which Prometheus records as `up=0`).
#[test]
fn an_evicted_keep_alive_connection_answers_the_request_on_its_way() {
    let server = ServerThread::start(demo_metrics(), |exporter| exporter.max_connections(1));
    let mut scraper = connect(server.addr, Duration::from_secs(10));
    let first = keep_alive_exchange(&mut scraper, "/metrics");
    let first = parse_response(&first).expect("the first scrape is answered");
    assert_eq!((first.status, first.header("connection")), (200, None));
    // Takes the scraper's place, then gives the accept loop time to hand it over.
    let _newcomer = SlowLoris::open(server.addr, 1);
    thread::sleep(Duration::from_millis(200));
    let second = keep_alive_exchange(&mut scraper, "/metrics");
    let response = parse_response(&second).unwrap_or_else(|| panic!("no answer: {:?}", preview(&second)));
    assert_eq!(response.status, 200, "{}", response.status_line);
    assert_eq!(response.header("connection"), Some("close"));
    let length: usize = response.header("content-length").unwrap().parse().unwrap();
    assert_eq!(response.body.len(), length);
}

/// With the cap at 1 and that connection in the middle of a request, a new connection is refused
/// at once with 503 and `Retry-After` (not queued), and the held request still completes. The
/// hold is a control handler that blocks, which also shows a blocking handler does not stall the
/// exporter's async workers.
#[test]
fn when_every_connection_is_mid_request_a_new_one_gets_503() {
    let (entered_tx, entered) = mpsc::channel::<()>();
    let (release, released) = mpsc::channel::<()>();
    let (entered_tx, released) = (Mutex::new(entered_tx), Mutex::new(released));
    // A control route that holds its request until the test releases it.
    let hold = ControlRoute {
        path: "/hold",
        handler: Arc::new(move |_| {
            entered_tx.lock().unwrap().send(()).unwrap();
            let _ = released.lock().unwrap().recv_timeout(Duration::from_secs(10));
            Ok("released\n".to_string())
        }),
    };
    let server = ServerThread::start(demo_metrics(), move |exporter| {
        exporter.max_connections(1).with_control(hold)
    });
    let addr = server.addr;
    let held = thread::spawn(move || {
        exchange(
            addr,
            b"POST /hold HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        )
    });
    entered
        .recv_timeout(Duration::from_secs(5))
        .expect("the held request reached its handler");

    let started = Instant::now();
    let refused = exchange(addr, SCRAPE);
    let response = parse_response(&refused).unwrap_or_else(|| panic!("{:?}", preview(&refused)));
    assert_eq!(response.status, 503, "{}", response.status_line);
    assert_eq!(response.header("retry-after"), Some("1"));
    assert!(
        started.elapsed() < SCRAPE_LIMIT,
        "refused only after {:?}",
        started.elapsed()
    );

    release.send(()).unwrap();
    let held = held.join().unwrap();
    assert!(held.starts_with(b"HTTP/1.1 200"), "{:?}", preview(&held));
    assert!(held.ends_with(b"released\n"));
    assert_scrape_ok(addr, SCRAPE_LIMIT);
}

/// 100 KB of request headers get 431 (or a close), and the server stays healthy.
#[test]
fn oversized_headers_are_refused_and_the_server_stays_healthy() {
    let server = demo_server();
    for _ in 0..3 {
        send_oversized_headers(server.addr);
        assert_scrape_ok(server.addr, SCRAPE_LIMIT);
    }
}

/// Random binary, not HTTP, gets 400 (or a close), and the server stays healthy.
#[test]
fn garbage_bytes_are_refused_and_the_server_stays_healthy() {
    let server = demo_server();
    for seed in 1..=8 {
        send_garbage(server.addr, seed);
        assert_scrape_ok(server.addr, SCRAPE_LIMIT);
    }
}

/// An HTTP/1.0 request without Host gets a 200 exposition and a closed connection.
#[test]
fn an_http_1_0_request_is_answered_and_closed() {
    let server = demo_server();
    http10_scrape(server.addr);
    assert_scrape_ok(server.addr, SCRAPE_LIMIT);
}

/// Three requests in one write get three responses, in order.
#[test]
fn pipelined_requests_are_answered_in_order() {
    let server = demo_server();
    pipelined_requests(server.addr);
    assert_scrape_ok(server.addr, SCRAPE_LIMIT);
}

/// Clients that hang up after a few bytes of a large exposition (2,000 app ids: 1,000 series
/// sets and the overflow) leave the server healthy, and the next scrape is complete.
#[test]
fn clients_hanging_up_mid_response_leave_the_server_healthy() {
    let metrics = Metrics::new(&MetricsConfig::default()).unwrap();
    for i in 0..2000 {
        metrics.app(&format!("app-{i}")).connection_opened();
    }
    let server = ServerThread::start(metrics, |exporter| exporter);
    for _ in 0..10 {
        disconnect_mid_response(server.addr);
    }
    let body = assert_scrape_ok(server.addr, Duration::from_secs(10));
    println!("large exposition: {} KiB", body.len() / 1024);
    assert!(body.len() > 1024 * 1024, "{} bytes", body.len());
    assert!(body.contains("sockudo_active_connections{app_id=\"app-999\"} 1"));
    assert_eq!(body, server.metrics.encode());
}

/// The real binary's resident memory stays flat through rounds of every abuse above: growth
/// under 20 MiB from a warmed-up start.
#[test]
fn memory_stays_flat_through_rounds_of_abuse() {
    const ROUNDS: u64 = 5;
    const GROWTH_LIMIT_KIB: u64 = 20 * 1024;
    let server = ServeProcess::start(free_port(), true);
    let addr = server.addr;
    // Warm up the allocator and the blocking pool with ordinary scrapes first.
    for _ in 0..20 {
        assert_scrape_ok(addr, Duration::from_secs(5));
    }
    let before = server.rss_kib();
    for round in 0..ROUNDS {
        let mut slow = SlowLoris::open(addr, 100);
        slow.trickle();
        assert_scrape_ok(addr, SCRAPE_LIMIT);
        drop(slow);
        send_oversized_headers(addr);
        for seed in 0..10 {
            send_garbage(addr, round * 100 + seed + 1);
        }
        http10_scrape(addr);
        pipelined_requests(addr);
        for _ in 0..5 {
            disconnect_mid_response(addr);
        }
        assert_scrape_ok(addr, SCRAPE_LIMIT);
    }
    let after = server.rss_kib();
    println!(
        "serve --demo RSS: {before} KiB before, {after} KiB after {ROUNDS} abuse rounds \
         (growth {} KiB)",
        after.saturating_sub(before)
    );
    assert!(
        after < before + GROWTH_LIMIT_KIB,
        "RSS grew from {before} KiB to {after} KiB"
    );
}
