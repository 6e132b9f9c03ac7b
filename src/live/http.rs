//! [`RouteMetrics`]: the recording handle for one HTTP API route (method and route template).

use std::sync::Arc;
use std::time::Duration;

use super::counter::Counter;
use super::histogram::Histogram;
use super::labels::HttpMethod;
use super::registration::{CounterFamily, Families};
use super::resolve::HandleCache;
use super::store::CounterStore;

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
    requests: CounterFamily,
    /// At most 901 codes (100..=999 and `000`), so the cache needs no cap.
    by_status: HandleCache<u16, Counter>,
    counters: Arc<CounterStore>,
}

impl RouteMetrics {
    pub(crate) fn resolve(f: &Families, method: HttpMethod, endpoint: &'static str) -> RouteMetrics {
        let labels = &[method.as_str(), endpoint][..];
        RouteMetrics(Arc::new(RouteHandles {
            method,
            endpoint,
            duration: Histogram::register(&f.http_request_duration_seconds, labels),
            response_size: Histogram::register(&f.http_response_size_bytes, labels),
            requests: f.http_requests_total.clone(),
            by_status: HandleCache::unbounded(),
            counters: f.counters.clone(),
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
            let labels = [route.method.as_str(), route.endpoint, &status];
            Counter::register(&route.requests, &labels, &route.counters)
        });
        requests.inc();
        route.duration.observe(duration.as_secs_f64());
        // Precision loss above 2^53 bytes is irrelevant for a histogram observation.
        route.response_size.observe(response_bytes as f64);
    }
}
