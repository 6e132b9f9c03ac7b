//! [`HttpMetricsLayer`]: the tower `Layer` that records an axum router's HTTP metrics.
//!
//! It records `http_requests_total`, `http_request_duration_seconds` and
//! `http_response_size_bytes` for every request, labelled with the matched route template (axum's
//! `MatchedPath`, never the raw path) and the status.
//!
//! ```
//! use axum::{routing::get, Router};
//! use sockudo_obs_live::HttpMetricsLayer;
//! use sockudo_obs_live::{Metrics, MetricsConfig};
//!
//! # fn main() -> sockudo_obs_live::Result<()> {
//! let metrics = Metrics::new(&MetricsConfig::default())?;
//! let app: Router = Router::new()
//!     .route("/apps/{app_id}/events", get(|| async { "ok" }))
//!     .layer(HttpMetricsLayer::new(&metrics));
//! # Ok(())
//! # }
//! ```
//!
//! axum writes path parameters as `{app_id}`; the label spells them as Sockudo's docs do,
//! `/apps/:app_id/events`. Requests no route matched are recorded under
//! [`UNMATCHED_ENDPOINT`](super::UNMATCHED_ENDPOINT).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::extract::MatchedPath;
use axum::http::{header, Request, Response};
use http_body::Body;
use tower_layer::Layer;
use tower_service::Service;

use super::http::RouteTemplates;
use super::labels::HttpMethod;
use super::Metrics;

/// The layer; cloning shares the route templates seen so far and their handles.
#[derive(Clone)]
pub struct HttpMetricsLayer {
    endpoints: Arc<RouteTemplates>,
}

impl HttpMetricsLayer {
    /// A layer recording into `metrics`, with at most `metrics.limits().routes` route templates.
    pub fn new(metrics: &Metrics) -> HttpMetricsLayer {
        HttpMetricsLayer {
            endpoints: Arc::new(RouteTemplates::new(metrics)),
        }
    }
}

impl<S> Layer<S> for HttpMetricsLayer {
    type Service = HttpMetrics<S>;

    fn layer(&self, inner: S) -> HttpMetrics<S> {
        HttpMetrics {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service the layer wraps around each route.
#[derive(Clone)]
pub struct HttpMetrics<S> {
    inner: S,
    layer: HttpMetricsLayer,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for HttpMetrics<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    S::Future: Send + 'static,
    ResBody: Body,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let method = HttpMethod::ALL
            .iter()
            .copied()
            .find(|m| m.as_str() == request.method().as_str());
        let path = request.extensions().get::<MatchedPath>();
        // Methods outside the catalogue's domain are not recorded: the label is closed.
        let route = method.map(|method| match path {
            Some(path) => self.layer.endpoints.route(method, path.as_str()).clone(),
            None => self.layer.endpoints.unmatched(method).clone(),
        });
        let started = Instant::now();
        let response = self.inner.call(request);
        Box::pin(async move {
            let response = response.await?;
            if let Some(route) = route {
                route.request_done(
                    response.status().as_u16(),
                    started.elapsed(),
                    body_size(&response),
                );
            }
            Ok(response)
        })
    }
}

/// The body's length when known up front: its exact size hint, else `Content-Length`, else 0.
fn body_size<B: Body>(response: &Response<B>) -> u64 {
    response.body().size_hint().exact().unwrap_or_else(|| {
        response
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse().ok())
            .unwrap_or(0)
    })
}
