//! The `/metrics` HTTP endpoint: hyper 1 (HTTP/1.1) on tokio, bound before it runs so a taken
//! port is an error the caller sees, with cheap hardening against slow or greedy clients.
//!
//! # Hardening
//! - **Request heads are bounded** in size ([`MAX_HEADER_BYTES`]; more is answered 431) and in
//!   time ([`DEFAULT_HEADER_READ_TIMEOUT`], see [`Exporter::header_read_timeout`]). hyper starts
//!   that timer whenever it waits for a request head, so it is also the idle keep-alive timeout.
//! - **Connections are capped** ([`DEFAULT_MAX_CONNECTIONS`]) without letting idle clients starve
//!   real scrapes. A connection is *idle* while no request of its own is being handled: before its
//!   first request head is complete (a slow-loris client stays here), or between keep-alive
//!   requests. At the cap, a new connection takes the place of the connection idle the longest,
//!   which is closed gracefully (a request that has just started on it still gets its answer,
//!   within [`EVICTION_GRACE`]). A connection evicted before its first request head is parsed is
//!   given the same grace to start that request, so a scraper whose request is on its way gets
//!   its answer rather than a close with no reply (which Prometheus records as `up=0`); a
//!   slow-loris client never finishes its head and is closed when the grace ends. Only when every connection is in the middle of a request is the
//!   new one refused, at once, with `503` and `Retry-After: 1`, rather than queued in the kernel
//!   where it would wait unseen. So clients that open sockets and hold them cannot keep a scrape
//!   out; at worst they make each other reconnect.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, ALLOW, CONTENT_ENCODING, CONTENT_TYPE, VARY};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify};
use tokio::task::JoinSet;

use super::Metrics;

/// The path Prometheus scrapes.
pub const METRICS_PATH: &str = "/metrics";
/// Connections served at once; see the module docs for what happens at the cap.
pub const DEFAULT_MAX_CONNECTIONS: usize = 64;
/// How long a client may take to send a request head, and how long a keep-alive connection may
/// sit idle. Scrapers send their request in one write, so this only ever cuts off stalled clients;
/// it is short because each stalled client holds a connection until it runs out.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a connection closed to make room for a new one may take to finish a request that
/// started on it just before.
pub const EVICTION_GRACE: Duration = Duration::from_secs(1);
/// The answer to a connection beyond the cap when none can be closed to make room for it.
const BUSY_RESPONSE: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\n\
Content-Type: text/plain; charset=utf-8\r\nContent-Length: 25\r\nConnection: close\r\n\r\n\
every connection is busy\n";
/// How long a refused connection is given to read [`BUSY_RESPONSE`] before it is dropped.
const REFUSAL_LINGER: Duration = Duration::from_secs(1);
/// The read buffer cap, which bounds request headers (hyper's minimum).
pub const MAX_HEADER_BYTES: usize = 8 * 1024;
/// The largest control request body accepted.
pub const MAX_CONTROL_BODY: usize = 1024;
/// How long shutdown waits for in-flight requests before dropping them.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

type Body = Full<Bytes>;

/// An extra `POST` route served next to `/metrics`, such as the demo's scenario switch. The handler
/// gets the request body and answers 200 with its `Ok` text or 400 with its `Err` text.
#[derive(Clone)]
pub struct ControlRoute {
    pub path: &'static str,
    pub handler: ControlHandler,
}

/// A control route's handler: request body in, response text out (`Err` answers 400). It runs on
/// the blocking pool, so it may block.
pub type ControlHandler = Arc<dyn Fn(&[u8]) -> Result<String, String> + Send + Sync>;

/// The exporter's settings, before it binds.
pub struct Exporter {
    metrics: Metrics,
    control: Option<ControlRoute>,
    max_connections: usize,
    header_read_timeout: Duration,
}

impl Exporter {
    pub fn new(metrics: Metrics) -> Exporter {
        Exporter {
            metrics,
            control: None,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
        }
    }

    /// Also serve `route` (only one control route is supported; a later call replaces it).
    pub fn with_control(mut self, route: ControlRoute) -> Exporter {
        self.control = Some(route);
        self
    }

    /// Serve at most `max` connections at once (default [`DEFAULT_MAX_CONNECTIONS`]).
    pub fn max_connections(mut self, max: usize) -> Exporter {
        self.max_connections = max.max(1);
        self
    }

    /// Close connections that take longer than `timeout` to send a request head, or that sit idle
    /// between keep-alive requests for longer (default [`DEFAULT_HEADER_READ_TIMEOUT`]; at least
    /// 1 ms).
    pub fn header_read_timeout(mut self, timeout: Duration) -> Exporter {
        self.header_read_timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// Listens on `addr` (`host:port`, see [`listen_addr`]); fails, naming the address, when it
    /// cannot (port in use, address not local, ...).
    pub async fn bind(self, addr: &str) -> anyhow::Result<BoundExporter> {
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen for /metrics on {addr}"))?;
        let local_addr = listener.local_addr()?;
        Ok(BoundExporter {
            listener,
            local_addr,
            state: Arc::new(State {
                metrics: self.metrics,
                control: self.control,
            }),
            connections: Arc::new(Connections::new(self.max_connections)),
            header_read_timeout: self.header_read_timeout,
        })
    }

    /// Binds on the configured address when the metrics are enabled; `None` (and no listener) when
    /// they are not.
    pub async fn bind_configured(
        self,
        config: &crate::MetricsConfig,
    ) -> anyhow::Result<Option<BoundExporter>> {
        if !config.enabled || !self.metrics.is_enabled() {
            return Ok(None);
        }
        self.bind(&listen_addr(&config.host, config.port)).await.map(Some)
    }
}

/// `host:port`, with an IPv6 host in brackets.
pub fn listen_addr(host: &str, port: u16) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// A listening exporter; [`run`](Self::run) serves until shutdown.
pub struct BoundExporter {
    listener: TcpListener,
    local_addr: SocketAddr,
    state: Arc<State>,
    connections: Arc<Connections>,
    header_read_timeout: Duration,
}

struct State {
    metrics: Metrics,
    control: Option<ControlRoute>,
}

impl BoundExporter {
    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Serves until `shutdown` completes, then stops accepting, lets in-flight requests finish
    /// (up to [`SHUTDOWN_GRACE`]) and returns.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
        let mut http = http1::Builder::new();
        http.timer(TokioTimer::new())
            .header_read_timeout(self.header_read_timeout)
            .max_buf_size(MAX_HEADER_BYTES)
            .keep_alive(true);
        let (stop, stopped) = watch::channel(());
        let mut tasks = JoinSet::new();
        tokio::pin!(shutdown);
        loop {
            let stream = tokio::select! {
                biased;
                () = &mut shutdown => break,
                accepted = self.listener.accept() => match accepted {
                    Ok((stream, _)) => stream,
                    // Typically out of file descriptors: back off instead of spinning.
                    Err(_) => {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
            };
            let Some(slot) = self.connections.admit() else {
                if let Some(refusal) = self.connections.refusal() {
                    tasks.spawn(refuse(stream, refusal));
                }
                // Else too many refusals are lingering already: drop (reset) this one outright.
                continue;
            };
            let state = self.state.clone();
            let tracker = slot.tracker.clone();
            let service = service_fn(move |req| {
                let busy = tracker.request_started();
                let state = state.clone();
                async move {
                    let _busy = busy;
                    handle(req, state).await
                }
            });
            let connection = http.serve_connection(TokioIo::new(stream), service);
            let mut stopped = stopped.clone();
            tasks.spawn(async move {
                tokio::pin!(connection);
                // Errors are the client's (timeouts, resets, bad requests); nothing to report.
                let grace = tokio::select! {
                    _ = connection.as_mut() => return,
                    _ = stopped.changed() => SHUTDOWN_GRACE,
                    () = slot.tracker.evict.notified() => EVICTION_GRACE,
                };
                // Evicted before its first request was parsed: it may be a scraper whose request
                // is already on the way, which a close now would answer with nothing. Let it
                // start that request within the grace (a slow-loris client never does).
                if grace == EVICTION_GRACE && slot.tracker.requests_seen.load(Ordering::Acquire) == 0 {
                    if let Some(_lingering) = slot.connections.linger() {
                        let started = tokio::time::timeout(EVICTION_GRACE, async {
                            tokio::select! {
                                _ = connection.as_mut() => false,
                                () = slot.tracker.started.notified() => true,
                            }
                        })
                        .await;
                        if started == Ok(false) {
                            return;
                        }
                    }
                }
                // Closes an idle connection now; one in a request closes after answering it.
                connection.as_mut().graceful_shutdown();
                let _ = tokio::time::timeout(grace, connection).await;
                drop(slot);
            });
            while tasks.try_join_next().is_some() {}
        }
        drop(self.listener);
        let _ = stop.send(());
        let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
            while tasks.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            tasks.abort_all();
        }
        Ok(())
    }
}

/// The open connections, so that at the cap a new one can take the place of an idle one.
struct Connections {
    max: usize,
    open: Mutex<HashMap<u64, Arc<Tracker>>>,
    next_id: AtomicU64,
    /// Refused connections still being answered; bounded too, so a flood costs nothing extra.
    refusing: Arc<AtomicUsize>,
    /// Evicted connections given the grace to start their first request; bounded likewise.
    lingering: Arc<AtomicUsize>,
    /// Where the idle clock ([`Tracker::idle_since`]) starts.
    epoch: Instant,
}

/// What the accept loop knows about one connection.
struct Tracker {
    /// Requests being handled on the connection (hyper handles one at a time).
    requests: AtomicUsize,
    /// When the connection last became idle (opened, or finished a request), in microseconds
    /// since `epoch`.
    idle_since: AtomicU64,
    /// [`Connections::epoch`], so that [`Busy`] can update `idle_since` on its own.
    epoch: Instant,
    /// Wakes the connection's task to close it, making room for a new one.
    evict: Notify,
    /// Requests started on the connection so far; 0 while its first head is still arriving.
    requests_seen: AtomicU64,
    /// Wakes an evicted connection's task when its first request starts.
    started: Notify,
}

/// A connection's place in [`Connections`]; dropping it frees the place.
struct Slot {
    id: u64,
    tracker: Arc<Tracker>,
    connections: Arc<Connections>,
}

/// Marks a connection busy while one of its requests is being handled.
struct Busy(Arc<Tracker>);

/// A place among the lingering refusals (or evictions); dropping it frees the place.
struct Refusal(Arc<AtomicUsize>);

impl Connections {
    fn new(max: usize) -> Connections {
        Connections {
            max,
            open: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(0),
            refusing: Arc::new(AtomicUsize::new(0)),
            lingering: Arc::new(AtomicUsize::new(0)),
            epoch: Instant::now(),
        }
    }

    /// A place for a new connection: a free one, or the place of the connection idle the longest
    /// (told to close). `None` when every connection is in the middle of a request.
    fn admit(self: &Arc<Self>) -> Option<Slot> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if open.len() >= self.max {
            let (&victim, _) = open
                .iter()
                .filter(|(_, tracker)| tracker.requests.load(Ordering::Acquire) == 0)
                .min_by_key(|(_, tracker)| tracker.idle_since.load(Ordering::Relaxed))?;
            // `notify_one` keeps the wake-up if the task is not waiting yet.
            open.remove(&victim)?.evict.notify_one();
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let tracker = Arc::new(Tracker {
            requests: AtomicUsize::new(0),
            idle_since: AtomicU64::new(micros_since(self.epoch, Instant::now())),
            epoch: self.epoch,
            evict: Notify::new(),
            requests_seen: AtomicU64::new(0),
            started: Notify::new(),
        });
        open.insert(id, tracker.clone());
        Some(Slot {
            id,
            tracker,
            connections: self.clone(),
        })
    }

    /// A place among the lingering refusals, if there is one (as many as connections).
    fn refusal(&self) -> Option<Refusal> {
        take_place(&self.refusing, self.max)
    }

    /// A place among the evicted connections waiting for their first request (as many as
    /// connections); without one, the evicted connection closes at once.
    fn linger(&self) -> Option<Refusal> {
        take_place(&self.lingering, self.max)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.connections.open.lock().unwrap_or_else(|e| e.into_inner());
        // An evicted connection's place was already given away.
        if open.get(&self.id).is_some_and(|t| Arc::ptr_eq(t, &self.tracker)) {
            open.remove(&self.id);
        }
    }
}

/// One of `max` places counted by `count`, released when the returned guard drops.
fn take_place(count: &Arc<AtomicUsize>, max: usize) -> Option<Refusal> {
    count
        .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
            (n < max).then_some(n + 1)
        })
        .ok()
        .map(|_| Refusal(count.clone()))
}

impl Tracker {
    fn request_started(self: &Arc<Self>) -> Busy {
        self.requests.fetch_add(1, Ordering::AcqRel);
        if self.requests_seen.fetch_add(1, Ordering::AcqRel) == 0 {
            // `notify_one` keeps the wake-up if the task is not waiting yet.
            self.started.notify_one();
        }
        Busy(self.clone())
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        let tracker = &self.0;
        tracker
            .idle_since
            .store(micros_since(tracker.epoch, Instant::now()), Ordering::Relaxed);
        tracker.requests.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Microseconds from `epoch` to `at`: the idle clock, which only orders connections.
fn micros_since(epoch: Instant, at: Instant) -> u64 {
    u64::try_from(at.saturating_duration_since(epoch).as_micros()).unwrap_or(u64::MAX)
}

impl Drop for Refusal {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Answers a connection beyond the cap with [`BUSY_RESPONSE`], then half-closes and drains what
/// the client sent before dropping it, so that it sees a FIN after the 503 rather than a reset,
/// which can discard the 503 unread. Gives up after [`REFUSAL_LINGER`].
async fn refuse(mut stream: TcpStream, refusal: Refusal) {
    let _refusal = refusal;
    let _ = tokio::time::timeout(REFUSAL_LINGER, async {
        let mut written = 0;
        while written < BUSY_RESPONSE.len() {
            stream.writable().await?;
            match stream.try_write(&BUSY_RESPONSE[written..]) {
                Ok(n) => written += n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
        }
        std::future::poll_fn(|cx| tokio::io::AsyncWrite::poll_shutdown(Pin::new(&mut stream), cx)).await?;
        let mut sink = [0u8; 1024];
        loop {
            stream.readable().await?;
            match stream.try_read(&mut sink) {
                Ok(0) => return Ok(()),
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
        }
    })
    .await;
}

async fn handle(req: Request<Incoming>, state: Arc<State>) -> Result<Response<Body>, Infallible> {
    let path = req.uri().path();
    if path == METRICS_PATH {
        return Ok(match *req.method() {
            Method::GET | Method::HEAD => scrape(&state.metrics, accepts_gzip(req.headers())).await,
            _ => method_not_allowed("GET, HEAD"),
        });
    }
    if let Some(route) = state.control.as_ref().filter(|route| route.path == path) {
        if req.method() != Method::POST {
            return Ok(method_not_allowed("POST"));
        }
        let body = match Limited::new(req.into_body(), MAX_CONTROL_BODY).collect().await {
            Ok(body) => body.to_bytes(),
            Err(_) => return Ok(text(StatusCode::PAYLOAD_TOO_LARGE, "request body too large\n")),
        };
        // On the blocking pool: a host's handler may block (take a lock, write a file), and must
        // not stall the async workers that accept and serve the scrapes meanwhile.
        let handler = route.handler.clone();
        return Ok(match tokio::task::spawn_blocking(move || handler(&body)).await {
            Ok(Ok(message)) => text(StatusCode::OK, message),
            Ok(Err(message)) => text(StatusCode::BAD_REQUEST, message),
            Err(err) => text(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("control handler failed: {err}\n"),
            ),
        });
    }
    Ok(text(StatusCode::NOT_FOUND, "not found\n"))
}

/// Encodes on the blocking pool: gathering walks every series, and a big registry must not stall
/// the async workers that also run the server. HEAD gets the same headers; hyper drops the body.
/// With `gzip` the text is compressed as it is written ([`Metrics::encode_gzip_to`]).
async fn scrape(metrics: &Metrics, gzip: bool) -> Response<Body> {
    let metrics = metrics.clone();
    let encoded = tokio::task::spawn_blocking(move || {
        let mut out = Vec::new();
        if gzip {
            metrics.encode_gzip_to(&mut out).map(|()| out)
        } else {
            metrics
                .encode_to(&mut out)
                .map(|()| out)
                .map_err(std::io::Error::other)
        }
    })
    .await;
    match encoded {
        Ok(Ok(body)) => {
            let mut response = Response::new(Full::from(body));
            let headers = response.headers_mut();
            headers.insert(CONTENT_TYPE, HeaderValue::from_static(super::CONTENT_TYPE));
            headers.insert(VARY, HeaderValue::from_static("accept-encoding"));
            if gzip {
                headers.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            }
            response
        }
        Ok(Err(err)) => text(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot encode metrics: {err}\n"),
        ),
        Err(err) => text(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("encoding failed: {err}\n"),
        ),
    }
}

/// Whether `Accept-Encoding` lists `gzip` (or `*`) with a non-zero quality. Prometheus sends
/// `Accept-Encoding: gzip`; without the header, or with `gzip;q=0`, the scrape is identity.
fn accepts_gzip(headers: &hyper::HeaderMap) -> bool {
    headers
        .get_all(hyper::header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|item| {
            let mut parts = item.split(';').map(str::trim);
            let coding = parts.next().unwrap_or("");
            let refused = parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            (coding.eq_ignore_ascii_case("gzip") || coding == "*") && !refused
        })
}

fn method_not_allowed(allow: &'static str) -> Response<Body> {
    let mut response = text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
    response
        .headers_mut()
        .insert(ALLOW, HeaderValue::from_static(allow));
    response
}

fn text(status: StatusCode, body: impl Into<String>) -> Response<Body> {
    let mut response = Response::new(Full::from(body.into()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::{accepts_gzip, listen_addr, HeaderValue};

    #[test]
    fn gzip_is_negotiated_from_accept_encoding() {
        let accepts = |value: &str| {
            let mut headers = hyper::HeaderMap::new();
            headers.insert(
                hyper::header::ACCEPT_ENCODING,
                HeaderValue::from_str(value).unwrap(),
            );
            accepts_gzip(&headers)
        };
        assert!(accepts("gzip"));
        assert!(accepts("deflate, GZIP;q=0.5"));
        assert!(accepts("*"));
        assert!(!accepts("identity"));
        assert!(!accepts("gzip;q=0"));
        assert!(!accepts("br, x-gzip-ish"));
        assert!(!accepts_gzip(&hyper::HeaderMap::new()));
    }

    #[test]
    fn ipv6_hosts_are_bracketed() {
        assert_eq!(listen_addr("0.0.0.0", 9601), "0.0.0.0:9601");
        assert_eq!(listen_addr("::", 9601), "[::]:9601");
        assert_eq!(listen_addr("[::1]", 9601), "[::1]:9601");
        assert_eq!(listen_addr("localhost", 1), "localhost:1");
    }
}
