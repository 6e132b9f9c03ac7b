//! [`RouteMetrics`]: the recording handle for one HTTP API route (method and route template).

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use super::counter::Counter;
use super::histogram::Histogram;
use super::labels::{HttpMethod, LabelValue};
use super::registration::{CounterFamily, Families};
use super::resolve::{HandleCache, Name, NameStr};
use super::store::CounterStore;
use super::Metrics;

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

    /// The request method the handles are for.
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

    /// A request on this route took `duration`, from a server that times its requests but does
    /// not say how it answered (Sockudo 5.2's `http.server.request.duration`): only the duration
    /// histogram records it; `http_requests_total` and the size histogram stay as they are.
    pub fn request_timed(&self, duration: Duration) {
        self.0.duration.observe(duration.as_secs_f64());
    }
}

/// The `endpoint` of requests that matched no route (the router's fallback).
pub const UNMATCHED_ENDPOINT: &str = "unmatched";

/// The handles of HTTP routes by their template as the router spells it
/// (`/apps/{app_id}/events`): one lookup a request finds the catalogue's spelling of the
/// template (`/apps/:app_id/events`, the `endpoint` label) and the handles of each method.
///
/// A server has a fixed set of routes, so each template's label is leaked once; past `routes`
/// templates ([`Limits::routes`](super::Limits)), new ones share the overflow value. A known
/// template is found without a lock (a handle cache): the instrumented Sockudo looks one up on
/// every HTTP request, where a locked SipHash map was 300 instructions, and a second lookup of
/// the (method, label) pair in [`Metrics::http_route`] another 80.
pub struct RouteTemplates {
    metrics: Metrics,
    templates: HandleCache<Name, Arc<TemplateRoutes>>,
}

/// One template's label and its handles per method, each resolved on the method's first use.
struct TemplateRoutes {
    label: &'static str,
    by_method: [OnceLock<RouteMetrics>; HttpMethod::COUNT],
}

impl RouteTemplates {
    /// The routes of `metrics`, with at most `metrics.limits().routes` templates.
    pub fn new(metrics: &Metrics) -> RouteTemplates {
        RouteTemplates {
            metrics: metrics.clone(),
            templates: HandleCache::names_uncounted(metrics.limits().routes),
        }
    }

    /// The `endpoint` label of `template`.
    pub fn label(&self, template: &str) -> &'static str {
        self.template(template).label
    }

    /// The handles of `method` on `template`: [`Metrics::http_route`] of its label, kept with it.
    #[inline]
    pub fn route(&self, method: HttpMethod, template: &str) -> &RouteMetrics {
        let routes = self.template(template);
        routes.by_method[method.index()].get_or_init(|| self.metrics.http_route(method, routes.label).clone())
    }

    /// The handles of `method` on requests no route matched (the router's fallback), recorded
    /// under [`UNMATCHED_ENDPOINT`].
    pub fn unmatched(&self, method: HttpMethod) -> &RouteMetrics {
        self.metrics.http_route(method, UNMATCHED_ENDPOINT)
    }

    #[inline]
    fn template(&self, template: &str) -> &TemplateRoutes {
        self.templates.get_or_resolve(NameStr::new(template), |template| {
            Arc::new(TemplateRoutes {
                label: Box::leak(catalogue_spelling(template.as_str()).into_boxed_str()),
                by_method: Default::default(),
            })
        })
    }
}

/// `/apps/{app_id}/events` as `/apps/:app_id/events`, `{*rest}` as `*rest`.
fn catalogue_spelling(template: &str) -> String {
    template
        .split('/')
        .map(
            |segment| match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(name) if name.starts_with('*') => name.to_string(),
                Some(name) => format!(":{name}"),
                None => segment.to_string(),
            },
        )
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::OVERFLOW_LABEL;

    #[test]
    fn templates_use_the_catalogue_spelling() {
        assert_eq!(
            catalogue_spelling("/apps/{app_id}/events"),
            "/apps/:app_id/events"
        );
        assert_eq!(catalogue_spelling("/static/{*path}"), "/static/*path");
        assert_eq!(catalogue_spelling("/"), "/");
    }

    fn metrics(routes: usize) -> Metrics {
        let config = crate::MetricsConfig::default();
        let limits = crate::Limits {
            routes,
            ..crate::Limits::default()
        };
        Metrics::builder(&config).limits(limits).build().unwrap()
    }

    #[test]
    fn templates_past_the_cap_share_the_overflow_label() {
        let templates = RouteTemplates::new(&metrics(1));
        assert_eq!(templates.label("/apps/{appId}/events"), "/apps/:appId/events");
        assert_eq!(templates.label("/apps/{appId}/events"), "/apps/:appId/events");
        assert_eq!(templates.label("/apps/{appId}/channels"), OVERFLOW_LABEL);
    }

    #[test]
    fn a_template_and_method_give_the_handles_of_its_label() {
        let metrics = metrics(8);
        let templates = RouteTemplates::new(&metrics);
        let route = templates.route(HttpMethod::Post, "/apps/{appId}/events");
        assert_eq!(
            (route.method(), route.endpoint()),
            (HttpMethod::Post, "/apps/:appId/events")
        );
        route.request_done(200, Duration::from_millis(3), 2);
        // The same series as `Metrics::http_route` of the label, not a second one.
        let direct = metrics.http_route(HttpMethod::Post, "/apps/:appId/events");
        direct.request_done(200, Duration::from_millis(3), 2);
        let text = metrics.encode();
        let series: Vec<&str> = text
            .lines()
            .filter(|l| l.contains("http_requests_total{") && l.contains("/apps/:appId/events"))
            .collect();
        assert_eq!(series.len(), 1, "{series:?}");
        assert!(series[0].ends_with(" 2"), "{series:?}");
        let get = templates.route(HttpMethod::Get, "/apps/{appId}/events");
        assert_eq!(get.method(), HttpMethod::Get);
    }
}
