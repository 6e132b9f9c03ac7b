//! The abusive clients, each a blocking function over loopback that asserts what the exporter
//! must answer. The in-process tests run them one at a time; the memory test runs them in rounds
//! against the real binary.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use super::http::{connect, exchange, parse_response, preview, SCRAPE};

/// The start of a request head that never ends: a slow-loris client sends this, then a byte now
/// and then, and holds its socket.
const PARTIAL_HEAD: &[u8] = b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";

/// Clients that each send part of a request head and then hold their sockets.
pub struct SlowLoris(Vec<TcpStream>);

impl SlowLoris {
    pub fn open(addr: SocketAddr, clients: usize) -> SlowLoris {
        SlowLoris::open_with(addr, clients, PARTIAL_HEAD)
    }

    /// Clients that each send `start` (a partial head, or a whole head announcing a body that
    /// never comes, [`held_body_head`]) and then hold their sockets.
    pub fn open_with(addr: SocketAddr, clients: usize, start: &[u8]) -> SlowLoris {
        SlowLoris(
            (0..clients)
                .map(|_| {
                    let mut stream = connect(addr, Duration::from_millis(1));
                    // The server may already have closed a socket to make room; that is its right.
                    let _ = stream.write_all(start);
                    stream
                })
                .collect(),
        )
    }

    /// Sends one more header byte on every socket, as a slow-loris client does to look alive.
    pub fn trickle(&mut self) {
        for stream in &mut self.0 {
            let _ = stream.write_all(b"x");
        }
    }

    /// How many sockets the server has closed (or answered) so far.
    pub fn closed_by_server(&self) -> usize {
        self.0
            .iter()
            .filter(|stream| {
                stream.set_nonblocking(true).unwrap();
                let mut byte = [0u8; 1];
                let closed =
                    !matches!((&**stream).read(&mut byte), Err(e) if e.kind() == ErrorKind::WouldBlock);
                stream.set_nonblocking(false).unwrap();
                closed
            })
            .count()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }
}

/// A keep-alive connection that got one answer and now sits idle.
pub struct IdleKeepAlive(TcpStream);

impl IdleKeepAlive {
    pub fn open(addr: SocketAddr) -> IdleKeepAlive {
        // The 404 is small enough to arrive whole with the status line.
        IdleKeepAlive(keep_alive_get(addr, "/not-here", 404))
    }

    /// Returns once the server has closed the connection (EOF); a 5 s read timeout fails.
    pub fn wait_for_close(mut self) {
        let mut byte = [0u8; 1];
        let read = self.0.read(&mut byte).expect("EOF, not a read timeout");
        assert_eq!(read, 0, "the idle connection got unexpected bytes");
    }
}

/// 100 KB of request headers: answered 431, or the connection is closed.
pub fn send_oversized_headers(addr: SocketAddr) {
    let mut request = b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n".to_vec();
    for i in 0..100 {
        request.extend_from_slice(format!("X-Padding-{i:03}: {}\r\n", "p".repeat(1000)).as_bytes());
    }
    request.extend_from_slice(b"\r\n");
    let reply = exchange(addr, &request);
    assert!(
        reply.is_empty() || reply.starts_with(b"HTTP/1.1 431"),
        "100 KB of headers got {:?}",
        preview(&reply)
    );
}

/// Random binary that is not HTTP: answered 400, or the connection is closed.
pub fn send_garbage(addr: SocketAddr, seed: u64) {
    let mut state = seed | 1;
    let garbage: Vec<u8> = (0..4096)
        .map(|_| {
            // xorshift64: deterministic, so a failure can be replayed from its seed.
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        })
        .collect();
    let reply = exchange(addr, &garbage);
    assert!(
        reply.is_empty() || reply.starts_with(b"HTTP/1.1 400"),
        "garbage (seed {seed}) got {:?}",
        preview(&reply)
    );
}

/// An HTTP/1.0 request without Host: a 200 exposition, then the server closes the connection
/// (1.0 has no keep-alive unless asked for). `exchange` reads to EOF, so returning at all within
/// its 10 s read timeout, with the whole body, shows the close.
pub fn http10_scrape(addr: SocketAddr) {
    let mut stream = connect(addr, Duration::from_secs(10));
    stream.write_all(b"GET /metrics HTTP/1.0\r\n\r\n").unwrap();
    let mut reply = Vec::new();
    stream
        .read_to_end(&mut reply)
        .expect("the server closes an HTTP/1.0 connection after answering");
    let response = parse_response(&reply).expect("an HTTP response");
    assert!(
        response.status_line.starts_with("HTTP/1.") && response.status == 200,
        "{}",
        response.status_line
    );
    assert!(std::str::from_utf8(response.body).unwrap().contains("# TYPE "));
    assert!(response.rest.is_empty());
}

/// Three requests in one write: three responses, in order (200, 404, 200).
pub fn pipelined_requests(addr: SocketAddr) {
    let mut request = Vec::new();
    request.extend_from_slice(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    request.extend_from_slice(b"GET /not-here HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    request.extend_from_slice(SCRAPE);
    let reply = exchange(addr, &request);
    let mut rest = reply.as_slice();
    let mut statuses = Vec::new();
    while let Some(response) = parse_response(rest) {
        statuses.push(response.status);
        if response.status == 200 {
            assert!(std::str::from_utf8(response.body).unwrap().contains("# TYPE "));
        }
        rest = response.rest;
    }
    assert_eq!(statuses, [200, 404, 200], "{:?}", preview(&reply));
    assert!(rest.is_empty(), "trailing bytes: {:?}", preview(rest));
}

/// Asks for `/metrics`, reads a few bytes of the answer and hangs up.
pub fn disconnect_mid_response(addr: SocketAddr) {
    let stream = keep_alive_get(addr, "/metrics", 200);
    // Dropping with most of the body unread makes the kernel reset the connection.
    drop(stream);
}

/// Sends a keep-alive `GET path`, reads the first bytes of the answer (up to 512), checks their
/// status and returns the open connection.
fn keep_alive_get(addr: SocketAddr, path: &str, status: u16) -> TcpStream {
    let mut stream = connect(addr, Duration::from_secs(10));
    write!(stream, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
    let mut first = [0u8; 512];
    let n = stream.read(&mut first).unwrap();
    let expected = format!("HTTP/1.1 {status} ");
    assert!(
        first[..n].starts_with(expected.as_bytes()),
        "{:?}",
        preview(&first[..n])
    );
    stream
}

/// A whole `POST path` head announcing a body of `Content-Length: 100` (more than any test sends):
/// sent alone, the server waits for a body that never comes.
pub fn held_body_head(path: &str) -> Vec<u8> {
    format!("POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n").into_bytes()
}

/// Sends `request`, shuts down the write half (SHUT_WR, as some clients do once their request is
/// out) and reads the answer until the server closes, or 10 s pass.
pub fn half_closed_exchange(addr: SocketAddr, request: &[u8]) -> Vec<u8> {
    let mut stream = connect(addr, Duration::from_secs(10));
    let _ = stream.write_all(request);
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let mut reply = Vec::new();
    let _ = stream.read_to_end(&mut reply);
    reply
}

/// Sends `head` (announcing a body) and then, every `every` when `trickle`, one more body byte,
/// until the server answers or closes, or `limit` passes. Returns what the server sent and when
/// it closed (`None`: still open at `limit`).
pub fn hold_body(
    addr: SocketAddr,
    head: &[u8],
    trickle: bool,
    every: Duration,
    limit: Duration,
) -> (Vec<u8>, Option<Duration>) {
    let started = std::time::Instant::now();
    let mut stream = connect(addr, every);
    let _ = stream.write_all(head);
    let mut reply = Vec::new();
    let mut buf = [0u8; 4096];
    while started.elapsed() < limit {
        match stream.read(&mut buf) {
            Ok(0) => return (reply, Some(started.elapsed())),
            Ok(n) => reply.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                if trickle {
                    let _ = stream.write_all(b"x");
                }
            }
            // A reset also ends the connection.
            Err(_) => return (reply, Some(started.elapsed())),
        }
    }
    (reply, None)
}

/// Sends a keep-alive `GET path` on `stream` and reads exactly one response (by its
/// Content-Length), leaving the connection open; the bytes read, whole or not (a close or a read
/// error ends the read early).
pub fn keep_alive_exchange(stream: &mut TcpStream, path: &str) -> Vec<u8> {
    let _ = write!(stream, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    let mut reply = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        if let Some(response) = parse_response(&reply) {
            let announced = response
                .header("content-length")
                .and_then(|l| l.parse::<usize>().ok());
            if announced.is_some_and(|length| response.body.len() >= length) {
                return reply;
            }
        }
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return reply,
            Ok(n) => reply.extend_from_slice(&buf[..n]),
        }
    }
}
