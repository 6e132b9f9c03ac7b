//! The `/metrics` exporter: bind, then the accept loop that hands each connection to hyper.
//!
//! hyper 1 (HTTP/1.1) on tokio, bound before it runs so a taken port is an error the caller sees,
//! with cheap hardening against slow or greedy clients. [`admission`] decides which connections
//! are served (the cap), [`routes`] answers their requests.
//!
//! # Hardening
//! - **Request heads are bounded** in size (`MAX_HEADER_BYTES`, 8 KiB; more is answered 431) and in
//!   time ([`DEFAULT_HEADER_READ_TIMEOUT`], see [`Exporter::header_read_timeout`]). hyper starts
//!   that timer whenever it waits for a request head, so it is also the idle keep-alive timeout.
//! - **Request bodies are bounded** in size (1 KiB; more is answered 413) and in time
//!   ([`DEFAULT_BODY_READ_TIMEOUT`], see [`Exporter::body_read_timeout`]): the whole body, from the
//!   end of its head, not each read, so a body trickled a byte at a time runs out too. A body not in
//!   by then is answered `408` and its connection closed. Only the control route reads bodies.
//! - **Connections are capped** ([`DEFAULT_MAX_CONNECTIONS`]) without letting idle clients starve
//!   real scrapes. A connection is *idle* while no request of its own is being handled: before its
//!   first request head is complete (a slow-loris client stays here), while it holds back a
//!   request body, or between keep-alive requests. At the cap, a new connection takes the place of
//!   the connection idle the longest. The evicted connection is given `EVICTION_GRACE` (1 s) to
//!   have the request on its way handled (a scraper's first, or a keep-alive client's next, often
//!   already sent): that request is answered, with `Connection: close`, rather than met with a
//!   close and no reply (which Prometheus records as `up=0` and `wrk` as a read error). A
//!   slow-loris head, a held-back body or an idle keep-alive connection is closed when the grace
//!   ends. At most four times the cap evicted connections linger like this at once; beyond that,
//!   an evicted connection is closed at once. Only when every connection is in the middle of a
//!   request is the new one refused, at once, with `503` and `Retry-After: 1`, rather than queued
//!   in the kernel where it would wait unseen. So clients that open sockets and hold them, or hold
//!   back their bodies, cannot keep a scrape out; at worst they make each other reconnect.
//! - **Half-closed clients are answered**: a client may shut down its write half once its request
//!   is out (SHUT_WR) and still read the whole answer.

mod admission;
mod routes;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::header::{HeaderValue, CONNECTION};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::Metrics;
use admission::{refuse, Busy, Connections};
use routes::{handle, State};
use sockudo_obs_catalogue::{Error, ErrorKind};

pub use routes::{ControlHandler, ControlRoute, METRICS_PATH};

/// Connections served at once; see the module docs for what happens at the cap.
pub const DEFAULT_MAX_CONNECTIONS: usize = 64;
/// How long a client may take to send a request head, and how long a keep-alive connection may
/// sit idle. Scrapers send their request in one write, so this only ever cuts off stalled clients;
/// it is short because each stalled client holds a connection until it runs out.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a client may take to send a request body, counted from the end of its head, for the
/// whole body (a body trickled a byte at a time runs out too). Only the control route reads
/// bodies; one not in by then is answered `408` and its connection closed.
pub const DEFAULT_BODY_READ_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a connection closed to make room for a new one is given to start the request on its
/// way (its first, or a keep-alive client's next) before it is closed.
const EVICTION_GRACE: Duration = Duration::from_secs(1);
/// How long a request being handled when its connection is closed (to make room, or at shutdown)
/// may take to finish.
const FINISH_GRACE: Duration = Duration::from_secs(5);
/// The read buffer cap, which bounds request headers (hyper's minimum).
const MAX_HEADER_BYTES: usize = 8 * 1024;
/// How long shutdown waits for in-flight requests before dropping them.
const SHUTDOWN_GRACE: Duration = FINISH_GRACE;

/// The exporter's settings, before it binds.
pub struct Exporter {
    metrics: Metrics,
    control: Option<ControlRoute>,
    max_connections: usize,
    header_read_timeout: Duration,
    body_read_timeout: Duration,
}

impl Exporter {
    /// An exporter serving `metrics` on [`METRICS_PATH`], with the default limits and timeouts
    /// and no control route.
    pub fn new(metrics: Metrics) -> Exporter {
        Exporter {
            metrics,
            control: None,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            body_read_timeout: DEFAULT_BODY_READ_TIMEOUT,
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

    /// Answer `408` and close a connection whose request body is not complete within `timeout`
    /// of its head (default [`DEFAULT_BODY_READ_TIMEOUT`]; at least 1 ms).
    pub fn body_read_timeout(mut self, timeout: Duration) -> Exporter {
        self.body_read_timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// Listens on `addr` (`host:port`, see [`MetricsConfig::listen_addr`](crate::MetricsConfig::listen_addr)); fails, naming the address, when it
    /// cannot (port in use, address not local, ...).
    pub async fn bind(self, addr: &str) -> crate::Result<BoundExporter> {
        let listener = TcpListener::bind(addr).await.map_err(|err| {
            Error::new(ErrorKind::Io, format!("cannot listen for /metrics on {addr}")).with_source(err)
        })?;
        let local_addr = listener.local_addr()?;
        Ok(BoundExporter {
            listener,
            local_addr,
            state: Arc::new(State {
                metrics: self.metrics,
                control: self.control,
                body_read_timeout: self.body_read_timeout,
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
    ) -> crate::Result<Option<BoundExporter>> {
        if !config.enabled || !self.metrics.is_enabled() {
            return Ok(None);
        }
        self.bind(&config.listen_addr()).await.map(Some)
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

impl BoundExporter {
    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Serves until `shutdown` completes, then stops accepting, lets in-flight requests finish
    /// (up to 5 s) and returns.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> crate::Result<()> {
        let mut http = http1::Builder::new();
        http.timer(TokioTimer::new())
            .header_read_timeout(self.header_read_timeout)
            .max_buf_size(MAX_HEADER_BYTES)
            .keep_alive(true)
            // A client may shut down its write half once its request is out (SHUT_WR) and still
            // read the answer; without this, hyper takes the EOF for a hang-up and answers nothing.
            .half_close(true);
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
                let (tracker, state) = (tracker.clone(), state.clone());
                async move {
                    let mut busy = None;
                    let mut response = handle(req, state, || busy = Some(tracker.request_started())).await;
                    // Evicted while this request was handled: its answer is the connection's
                    // last, and says so, so the client does not send another on it.
                    if busy.is_some_and(Busy::finish) {
                        if let Ok(response) = &mut response {
                            response
                                .headers_mut()
                                .insert(CONNECTION, HeaderValue::from_static("close"));
                        }
                    }
                    response
                }
            });
            let connection = http.serve_connection(TokioIo::new(stream), service);
            let mut stopped = stopped.clone();
            tasks.spawn(async move {
                tokio::pin!(connection);
                // Errors are the client's (timeouts, resets, bad requests); nothing to report.
                let evicted = tokio::select! {
                    _ = connection.as_mut() => return,
                    _ = stopped.changed() => false,
                    () = slot.tracker.evict.notified() => true,
                };
                // Its place was given to a new connection. A request on its way (a scraper's
                // first, or a keep-alive client's next, often already sent) is answered, with
                // `Connection: close`, rather than closed with no reply; a connection that has
                // no request handled within the grace (idle, a slow-loris head, a body held
                // back) is closed when it ends. Bounded: without a place among the lingering,
                // it closes at once.
                let mut lingering = None;
                if evicted {
                    lingering = slot.connections.linger();
                    if lingering.is_none() {
                        return;
                    }
                    let closed = async {
                        let _ = connection.as_mut().await;
                    };
                    if !slot.tracker.request_within(EVICTION_GRACE, closed).await {
                        return;
                    }
                }
                // No more requests; the one being handled is answered first.
                connection.as_mut().graceful_shutdown();
                let _ = tokio::time::timeout(FINISH_GRACE, connection).await;
                drop((slot, lingering));
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
