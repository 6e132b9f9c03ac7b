//! HTTP from the tests, one client at two levels: raw HTTP/1.1 over a loopback socket, byte for
//! byte as sent ([`exchange`], [`parse_response`]: the abuse, live and proxy tests need the exact
//! bytes), and plain GET/POST with an optional basic-auth header over ureq, with a client for the
//! Prometheus-compatible query API that both Prometheus and VictoriaMetrics serve.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use serde_json::Value;

/// One answer: status and body, whatever the status.
pub struct Reply {
    pub status: u16,
    pub body: String,
}

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new().timeout(Duration::from_secs(10)).build()
}

fn finish(url: &str, result: Result<ureq::Response, ureq::Error>) -> Result<Reply, String> {
    let response = match result {
        Ok(response) => response,
        Err(ureq::Error::Status(_, response)) => response,
        Err(error) => return Err(format!("{url}: {error}")),
    };
    let status = response.status();
    let body = response
        .into_string()
        .map_err(|e| format!("{url}: reading the body: {e}"))?;
    Ok(Reply { status, body })
}

/// `GET url?params`, with `Authorization: Basic` when `credentials` are given.
pub fn get(url: &str, params: &[(&str, &str)], credentials: Option<(&str, &str)>) -> Result<Reply, String> {
    let mut request = agent().get(url);
    for (name, value) in params {
        request = request.query(name, value);
    }
    if let Some((user, password)) = credentials {
        request = request.set("Authorization", &basic_auth(user, password));
    }
    finish(url, request.call())
}

/// `POST url` with a plain-text body.
pub fn post(url: &str, body: &str) -> Result<Reply, String> {
    send("POST", url, body)
}

/// Any `method` on `url`, with a plain-text body.
pub fn send(method: &str, url: &str, body: &str) -> Result<Reply, String> {
    finish(url, agent().request(method, url).send_string(body))
}

/// The value of an `Authorization` header for HTTP basic auth.
pub fn basic_auth(user: &str, password: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{user}:{password}")))
}

/// A Prometheus-compatible HTTP API (Prometheus itself, or VictoriaMetrics).
#[derive(Clone)]
pub struct PromApi {
    /// What to call it in messages.
    pub name: &'static str,
    /// `http://host:port`.
    pub base: String,
}

impl PromApi {
    pub fn new(name: &'static str, port: u16) -> PromApi {
        PromApi {
            name,
            base: format!("http://127.0.0.1:{port}"),
        }
    }

    /// `GET <base><path>` and the `data` of a `"status": "success"` answer.
    pub fn get_data(&self, path: &str, params: &[(&str, &str)]) -> Result<Value, String> {
        let url = format!("{}{path}", self.base);
        let reply = get(&url, params, None)?;
        let json: Value = serde_json::from_str(&reply.body).map_err(|e| {
            format!(
                "{} {path} {params:?}: HTTP {}, not JSON ({e}): {}",
                self.name, reply.status, reply.body
            )
        })?;
        if json["status"] != "success" {
            return Err(format!(
                "{} {path} {params:?}: HTTP {}: {}",
                self.name, reply.status, reply.body
            ));
        }
        Ok(json["data"].clone())
    }

    /// An instant query (at `time`, unix seconds, or now): the result vector's elements.
    pub fn query(&self, expr: &str, time: Option<f64>) -> Result<Vec<Value>, String> {
        let time = time.map(|t| format!("{t:.3}"));
        let mut params = vec![("query", expr)];
        if let Some(time) = &time {
            params.push(("time", time));
        }
        let data = self.get_data("/api/v1/query", &params)?;
        match &data["result"] {
            Value::Array(items) => Ok(items.clone()),
            // A scalar or string result is one value.
            other => Ok(vec![other.clone()]),
        }
    }

    /// The alerts Prometheus currently holds (pending or firing).
    pub fn alerts(&self) -> Result<Vec<Value>, String> {
        let data = self.get_data("/api/v1/alerts", &[])?;
        Ok(data["alerts"].as_array().cloned().unwrap_or_default())
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

/// The start of a byte string, for assertion messages.
pub fn preview(raw: &[u8]) -> String {
    String::from_utf8_lossy(&raw[..raw.len().min(120)]).into_owned()
}

/// One request with `Connection: close` (and `headers`, and a body when `body` is not empty) and
/// the response as [`exchange`] and [`parse_response`] read it: status, headers, body.
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let extra: String = headers.iter().map(|(k, v)| format!("{k}: {v}\r\n")).collect();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{extra}Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let raw = exchange(addr, head.as_bytes());
    let response =
        parse_response(&raw).unwrap_or_else(|| panic!("no HTTP response from {addr}: {:?}", preview(&raw)));
    (response.status, response.headers, response.body.to_vec())
}
