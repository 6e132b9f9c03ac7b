//! Routes: `/metrics` (identity or gzip), the optional control route, and the error answers.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, ALLOW, CONNECTION, CONTENT_ENCODING, CONTENT_TYPE, VARY};
use hyper::{Method, Request, Response, StatusCode};

use crate::Metrics;

pub use crate::config::METRICS_PATH;
/// The largest control request body accepted.
const MAX_CONTROL_BODY: usize = 1024;

type Body = Full<Bytes>;

/// An extra `POST` route served next to `/metrics`, such as the demo's scenario switch. The handler
/// gets the request body and answers 200 with its `Ok` text or 400 with its `Err` text.
#[derive(Clone)]
pub struct ControlRoute {
    /// The path it answers `POST` on (the demo's `/demo/scenario`).
    pub path: &'static str,
    /// What runs on each request's body.
    pub handler: ControlHandler,
}

/// A control route's handler: request body in, response text out (`Err` answers 400). It runs on
/// the blocking pool, so it may block.
pub type ControlHandler = Arc<dyn Fn(&[u8]) -> Result<String, String> + Send + Sync>;

/// What every request handler shares.
pub(super) struct State {
    pub(super) metrics: Metrics,
    pub(super) control: Option<ControlRoute>,
    /// The budget for a whole request body, from the end of its head.
    pub(super) body_read_timeout: Duration,
}

/// Answers one request. `busy` marks the connection as in the middle of a request (what the
/// connection cap may not evict) until the caller has the answer: from the head for the requests
/// without a body, and only once the body is in for the control route, so that a client holding
/// its body back holds an idle connection, which a new one may take the place of.
pub(super) async fn handle(
    req: Request<Incoming>,
    state: Arc<State>,
    busy: impl FnOnce(),
) -> Result<Response<Body>, Infallible> {
    let path = req.uri().path();
    let control = state.control.as_ref().filter(|route| route.path == path);
    if let Some(route) = control.filter(|_| req.method() == Method::POST) {
        let handler = route.handler.clone();
        return Ok(run_control(req.into_body(), handler, state.body_read_timeout, busy).await);
    }
    busy();
    Ok(if path == METRICS_PATH {
        match *req.method() {
            Method::GET | Method::HEAD => scrape(&state.metrics, accepts_gzip(req.headers())).await,
            _ => method_not_allowed("GET, HEAD"),
        }
    } else if control.is_some() {
        method_not_allowed("POST")
    } else {
        text(StatusCode::NOT_FOUND, "not found\n")
    })
}

/// The control route: the whole body within `timeout` of the head (else `408`), then the handler.
async fn run_control(
    body: Incoming,
    handler: ControlHandler,
    timeout: Duration,
    busy: impl FnOnce(),
) -> Response<Body> {
    let body = Limited::new(body, MAX_CONTROL_BODY).collect();
    let body = match tokio::time::timeout(timeout, body).await {
        Ok(Ok(body)) => body.to_bytes(),
        Ok(Err(err)) if err.is::<LengthLimitError>() => {
            return closing(text(StatusCode::PAYLOAD_TOO_LARGE, "request body too large\n"));
        }
        // The client closed or reset the connection mid-body; nobody may read this answer.
        Ok(Err(_)) => return closing(text(StatusCode::BAD_REQUEST, "incomplete request body\n")),
        Err(_) => {
            let message = "request body not received in time\n";
            return closing(text(StatusCode::REQUEST_TIMEOUT, message));
        }
    };
    busy();
    // On the blocking pool: a host's handler may block (take a lock, write a file), and must not
    // stall the async workers that accept and serve the scrapes meanwhile.
    match tokio::task::spawn_blocking(move || handler(&body)).await {
        Ok(Ok(message)) => text(StatusCode::OK, message),
        Ok(Err(message)) => text(StatusCode::BAD_REQUEST, message),
        Err(err) => text(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("control handler failed: {err}\n"),
        ),
    }
}

/// `response` with `Connection: close`: the request body was not read whole, so the connection
/// cannot carry another request (and the client learns it will not).
fn closing(mut response: Response<Body>) -> Response<Body> {
    response
        .headers_mut()
        .insert(CONNECTION, HeaderValue::from_static("close"));
    response
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
            headers.insert(CONTENT_TYPE, HeaderValue::from_static(crate::CONTENT_TYPE));
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

/// Whether `Accept-Encoding` accepts `gzip` (RFC 9110, section 12.5.3). Prometheus sends
/// `Accept-Encoding: gzip`; without the header the scrape is identity. Codings and the `q`
/// parameter are case-insensitive, `x-gzip` is `gzip`, and a quality of 0 refuses. `*` stands for
/// every coding the header does not name, so `gzip;q=0, *` refuses gzip; where `gzip` is named
/// more than once, a refusal wins. A malformed element (a bad quality) is ignored.
fn accepts_gzip(headers: &hyper::HeaderMap) -> bool {
    let mut named: Option<bool> = None;
    let mut any: Option<bool> = None;
    let elements = headers
        .get_all(hyper::header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','));
    for element in elements {
        let mut parts = element.split(';').map(str::trim);
        let coding = parts.next().unwrap_or("");
        let Some(quality) = quality(parts) else {
            continue;
        };
        let slot = if coding.eq_ignore_ascii_case("gzip") || coding.eq_ignore_ascii_case("x-gzip") {
            &mut named
        } else if coding == "*" {
            &mut any
        } else {
            continue;
        };
        let accepted = quality > 0;
        *slot = Some(slot.map_or(accepted, |before| before && accepted));
    }
    named.or(any).unwrap_or(false)
}

/// The quality of one `Accept-Encoding` element in thousandths, from its parameters: 1000 without
/// a `q`, `None` when the `q` is not a qvalue (`0`, `1`, `0.` or `1.` with up to three decimals,
/// at most `1.000`). Parameters other than `q` are not defined for codings and are skipped.
fn quality<'a>(params: impl Iterator<Item = &'a str>) -> Option<u16> {
    let mut quality = 1000;
    for param in params {
        let (name, value) = param.split_once('=')?;
        if !name.trim_end().eq_ignore_ascii_case("q") {
            continue;
        }
        let value = value.trim_start();
        let (whole, fraction) = value.split_once('.').unwrap_or((value, ""));
        if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let thousandths = fraction
            .bytes()
            .chain(std::iter::repeat(b'0'))
            .take(3)
            .fold(0, |n, digit| n * 10 + u16::from(digit - b'0'));
        quality = match (whole, thousandths) {
            ("0", q) => q,
            ("1", 0) => 1000,
            _ => return None,
        };
    }
    Some(quality)
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
    use super::{accepts_gzip, HeaderValue};

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
        // Case-insensitive tokens and parameter names; a quality of 0 in any spelling refuses.
        for refused in [
            "GZIP;Q=0",
            "gzip; q=0.000",
            "Gzip;q=0.0",
            "gzip ; Q = 0",
            "x-gzip;q=0",
            "identity, gzip;q=0",
        ] {
            assert!(!accepts(refused), "{refused}");
        }
        // `*` covers only the codings not named: `gzip;q=0, *` refuses gzip, in either order.
        for refused in [
            "gzip;q=0, *",
            "*, gzip;q=0",
            "*;q=1, GZIP;Q=0",
            "*;q=0",
            "*;q=0, br",
        ] {
            assert!(!accepts(refused), "{refused}");
        }
        for accepted in [
            "gzip;q=0.001",
            "GZIP;Q=1",
            "gzip;q=1.000",
            "*;q=0, gzip",
            "x-gzip",
            "br;q=0, *",
        ] {
            assert!(accepts(accepted), "{accepted}");
        }
        // Named twice, the refusal wins.
        assert!(!accepts("gzip, gzip;q=0"));
        // Malformed qualities are ignored: the element neither accepts nor refuses.
        for malformed in [
            "gzip;q=2",
            "gzip;q=1.5",
            "gzip;q=-1",
            "gzip;q=0.0001",
            "gzip;q=",
            "gzip;q=abc",
            "gzip;q",
        ] {
            assert!(!accepts(malformed), "{malformed}");
        }
        assert!(accepts("gzip;q=abc, *"));
        assert!(!accepts("gzip;q=0, *;q=abc"));
    }
}
