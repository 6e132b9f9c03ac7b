//! The `/metrics` HTTP endpoint: hyper 1 (HTTP/1.1) on tokio, bound before it runs so a taken
//! port is an error the caller sees, with cheap hardening against slow or greedy clients.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, ALLOW, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;

use super::Metrics;

/// The path Prometheus scrapes.
pub const METRICS_PATH: &str = "/metrics";
/// Connections served at once; further clients wait in the kernel's accept backlog.
pub const DEFAULT_MAX_CONNECTIONS: usize = 64;
/// How long a client may take to send its request headers.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
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

/// A control route's handler: request body in, response text out (`Err` answers 400).
pub type ControlHandler = Arc<dyn Fn(&[u8]) -> Result<String, String> + Send + Sync>;

/// The exporter's settings, before it binds.
pub struct Exporter {
    metrics: Metrics,
    control: Option<ControlRoute>,
    max_connections: usize,
}

impl Exporter {
    pub fn new(metrics: Metrics) -> Exporter {
        Exporter {
            metrics,
            control: None,
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }

    /// Also serve `route` (only one control route is supported; a later call replaces it).
    pub fn with_control(mut self, route: ControlRoute) -> Exporter {
        self.control = Some(route);
        self
    }

    /// Serve at most `max` connections at once.
    pub fn max_connections(mut self, max: usize) -> Exporter {
        self.max_connections = max.max(1);
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
            permits: Arc::new(Semaphore::new(self.max_connections)),
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
    permits: Arc<Semaphore>,
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
            .header_read_timeout(HEADER_READ_TIMEOUT)
            .max_buf_size(MAX_HEADER_BYTES)
            .keep_alive(true);
        let (stop, stopped) = watch::channel(());
        let mut connections = JoinSet::new();
        tokio::pin!(shutdown);
        loop {
            // Wait for a free slot before accepting, so excess clients queue in the kernel.
            let permit = tokio::select! {
                biased;
                () = &mut shutdown => break,
                permit = self.permits.clone().acquire_owned() => permit?,
            };
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
            let state = self.state.clone();
            let service = service_fn(move |req| handle(req, state.clone()));
            let connection = http.serve_connection(TokioIo::new(stream), service);
            let mut stopped = stopped.clone();
            connections.spawn(async move {
                let _permit = permit;
                tokio::pin!(connection);
                tokio::select! {
                    // Errors are the client's (timeouts, resets, bad requests); nothing to report.
                    _ = connection.as_mut() => return,
                    _ = stopped.changed() => connection.as_mut().graceful_shutdown(),
                }
                let _ = connection.await;
            });
            while connections.try_join_next().is_some() {}
        }
        drop(self.listener);
        let _ = stop.send(());
        let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
            while connections.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            connections.abort_all();
        }
        Ok(())
    }
}

async fn handle(req: Request<Incoming>, state: Arc<State>) -> Result<Response<Body>, Infallible> {
    let path = req.uri().path();
    if path == METRICS_PATH {
        return Ok(match *req.method() {
            Method::GET | Method::HEAD => scrape(&state.metrics).await,
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
        return Ok(match (route.handler)(&body) {
            Ok(message) => text(StatusCode::OK, message),
            Err(message) => text(StatusCode::BAD_REQUEST, message),
        });
    }
    Ok(text(StatusCode::NOT_FOUND, "not found\n"))
}

/// Encodes on the blocking pool: gathering walks every series, and a big registry must not stall
/// the async workers that also run the server. HEAD gets the same headers; hyper drops the body.
async fn scrape(metrics: &Metrics) -> Response<Body> {
    let metrics = metrics.clone();
    let encoded = tokio::task::spawn_blocking(move || {
        let mut out = Vec::new();
        metrics.encode_to(&mut out).map(|()| out)
    })
    .await;
    match encoded {
        Ok(Ok(body)) => {
            let mut response = Response::new(Full::from(body));
            response
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static(super::CONTENT_TYPE));
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
    use super::listen_addr;

    #[test]
    fn ipv6_hosts_are_bracketed() {
        assert_eq!(listen_addr("0.0.0.0", 9601), "0.0.0.0:9601");
        assert_eq!(listen_addr("::", 9601), "[::]:9601");
        assert_eq!(listen_addr("[::1]", 9601), "[::1]:9601");
        assert_eq!(listen_addr("localhost", 1), "localhost:1");
    }
}
