//! [`RouteMetrics`]: the recording handle for one HTTP API route (method and route template).

use std::sync::Arc;
use std::time::Duration;

use prometheus::{Histogram, IntCounter, IntCounterVec};

use super::families::Families;
use super::labels::HttpMethod;
use super::resolve::{child, HandleCache};

/// Recording handles for one route, resolved once by
/// [`Metrics::http_route`](super::Metrics::http_route). The duration and size histograms exist
/// from then on; the `http_requests_total` series of a status code appears on its first use,
/// since the codes a route answers with are not known in advance.
#[derive(Clone)]
pub struct RouteMetrics(Arc<RouteHandles>);

struct RouteHandles {
    method: HttpMethod,
    endpoint: &'static str,
    duration: Histogram,
    response_size: Histogram,
    requests: IntCounterVec,
    by_status: HandleCache<u16, IntCounter>,
}

impl RouteMetrics {
    pub(crate) fn resolve(f: &Families, method: HttpMethod, endpoint: &'static str) -> RouteMetrics {
        let labels = &[method.as_str(), endpoint][..];
        RouteMetrics(Arc::new(RouteHandles {
            method,
            endpoint,
            duration: child(&f.http_request_duration, labels),
            response_size: child(&f.http_response_size, labels),
            requests: f.http_requests.clone(),
            by_status: HandleCache::unbounded(),
        }))
    }

    pub fn method(&self) -> HttpMethod {
        self.0.method
    }

    /// The route template, e.g. `/apps/:app_id/events`.
    pub fn endpoint(&self) -> &'static str {
        self.0.endpoint
    }

    /// A request on this route was answered with `status` after `duration`, sending
    /// `response_bytes` of body. A status outside 100..=999 is recorded as `000`, keeping the label
    /// three digits.
    pub fn request_done(&self, status: u16, duration: Duration, response_bytes: u64) {
        let status = if (100..=999).contains(&status) { status } else { 0 };
        let route = &self.0;
        let requests = route.by_status.get_or_resolve(&status, |status| {
            let status = format!("{status:03}");
            child(&route.requests, &[route.method.as_str(), route.endpoint, &status])
        });
        requests.inc();
        route.duration.observe(duration.as_secs_f64());
        // Precision loss above 2^53 bytes is irrelevant for a histogram observation.
        route.response_size.observe(response_bytes as f64);
    }
}
