//! The global `metrics` (metrics-rs) recorder. Sockudo 5.2 records some things through that
//! facade rather than `MetricsInterface`; the stock driver installs a recorder for them, and so
//! do we, mapping the names that measure a catalogue family onto its handles.
//!
//! | facade name (Sockudo 5.2) | catalogue family |
//! |---|---|
//! | `sockudo_queue_settled_total{outcome="completed"}` | `queue_jobs_processed_total` |
//! | `sockudo_queue_settled_total{outcome=…}` (retry, dead-letter, panic-or-lease-lost) | `queue_jobs_processed_total` and `queue_jobs_failed_total` |
//! | `sockudo_queue_processing_duration_seconds` | `queue_job_duration_seconds` |
//! | `sockudo_queue_depth{state="active"}` | `queue_active_jobs` |
//! | `http.server.request.duration{http.request.method, http.route}` | `http_request_duration_seconds{method, endpoint}` |
//!
//! The queue names come from the redis queue backend only (feature `redis`); Sockudo sets the
//! depth gauge only when something asks the queue for its stats, which nothing does while it
//! runs. The HTTP histogram needs the `opentelemetry` feature with `opentelemetry.enabled` and
//! `traces_enabled` on (it runs without a collector under `OTEL_SDK_DISABLED=true`); the route
//! is axum's template, respelled as the catalogue spells endpoints. Every other facade name
//! (enqueue counters, other queue states) is dropped: a no-op handle, not an uncatalogued series.

use std::sync::Arc;
use std::time::Duration;

use metrics::{Counter, CounterFn, Gauge, GaugeFn, Histogram, HistogramFn, Key, KeyName};
use metrics::{Metadata, Recorder, SharedString, Unit};
use sockudo_obs::live::QueueMetrics;
use sockudo_obs::Metrics;

/// Installs the bridge as the process's global recorder. A second driver in the same process (or
/// a recorder the host installed first) keeps the first one, with a warning.
pub fn install(metrics: &Metrics) {
    if metrics::set_global_recorder(Bridge::new(metrics)).is_err() {
        tracing::warn!("a metrics-rs recorder is already installed; facade metrics go there");
    }
}

/// The recorder: resolves each facade key to a catalogue handle once, at registration.
pub struct Bridge {
    metrics: Metrics,
    #[cfg(not(feature = "instrumented"))]
    routes: http::Routes,
}

impl Bridge {
    /// The recorder over `metrics`, not installed (for a local recorder, as the tests use).
    pub fn new(metrics: &Metrics) -> Bridge {
        Bridge {
            metrics: metrics.clone(),
            #[cfg(not(feature = "instrumented"))]
            routes: http::Routes::new(metrics),
        }
    }
}

fn label<'k>(key: &'k Key, name: &str) -> Option<&'k str> {
    key.labels().find(|l| l.key() == name).map(|l| l.value())
}

impl Bridge {
    fn queue(&self, key: &Key) -> Option<QueueMetrics> {
        label(key, "queue").map(|name| self.metrics.queue(name).clone())
    }
}

/// Sockudo's HTTP duration histogram. The instrumented build records each request with its
/// status, duration and size (`crate::instrumented::http_request`), so there this mapping is
/// compiled out: mapping it too would count each request twice.
#[cfg(not(feature = "instrumented"))]
mod http {
    use std::sync::Arc;
    use std::time::Duration;

    use metrics::{Histogram, HistogramFn, Key};
    use sockudo_obs::live::{HttpMethod, RouteMetrics, RouteTemplates};
    use sockudo_obs::Metrics;

    use super::label;

    /// Respells axum's route templates as the catalogue's endpoints.
    pub(super) struct Routes(RouteTemplates);

    impl Routes {
        pub(super) fn new(metrics: &Metrics) -> Routes {
            Routes(RouteTemplates::new(metrics.limits().routes))
        }

        /// The histogram of an HTTP facade key; a no-op for a method outside the catalogue's
        /// closed set.
        pub(super) fn histogram(&self, metrics: &Metrics, key: &Key) -> Histogram {
            let route = || -> Option<RouteMetrics> {
                let method: HttpMethod = label(key, "http.request.method")?.parse().ok()?;
                let endpoint = self.0.label(label(key, "http.route")?);
                Some(metrics.http_route(method, endpoint).clone())
            };
            match route() {
                Some(route) => Histogram::from_arc(Arc::new(RequestDuration(route))),
                None => Histogram::noop(),
            }
        }
    }

    /// An HTTP request Sockudo timed (it says nothing of the status or the body).
    struct RequestDuration(RouteMetrics);

    impl HistogramFn for RequestDuration {
        fn record(&self, seconds: f64) {
            self.0
                .request_timed(Duration::try_from_secs_f64(seconds).unwrap_or_default());
        }
    }
}

/// A settled job: completed, or ended otherwise (each attempt that did not complete is a failure).
struct Settled {
    queue: QueueMetrics,
    completed: bool,
}

impl CounterFn for Settled {
    fn increment(&self, value: u64) {
        self.queue.jobs_settled(value, !self.completed);
    }

    fn absolute(&self, _value: u64) {}
}

struct ActiveJobs(QueueMetrics);

impl GaugeFn for ActiveJobs {
    fn increment(&self, _value: f64) {}
    fn decrement(&self, _value: f64) {}
    fn set(&self, value: f64) {
        self.0.set_active_jobs(value as i64);
    }
}

struct JobDuration(QueueMetrics);

impl HistogramFn for JobDuration {
    fn record(&self, seconds: f64) {
        self.0
            .observe_job_duration(Duration::try_from_secs_f64(seconds).unwrap_or_default());
    }
}

impl Recorder for Bridge {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        if key.name() != "sockudo_queue_settled_total" {
            return Counter::noop();
        }
        let (Some(queue), Some(outcome)) = (self.queue(key), label(key, "outcome")) else {
            return Counter::noop();
        };
        Counter::from_arc(Arc::new(Settled {
            queue,
            completed: outcome == "completed",
        }))
    }

    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
        match (key.name(), label(key, "state"), self.queue(key)) {
            ("sockudo_queue_depth", Some("active"), Some(queue)) => {
                Gauge::from_arc(Arc::new(ActiveJobs(queue)))
            }
            _ => Gauge::noop(),
        }
    }

    /// Sockudo's HTTP histogram has per-request labels, so the facade registers it on every
    /// request: the route's handles are found in the catalogue's caches, not made anew.
    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        match key.name() {
            "sockudo_queue_processing_duration_seconds" => match self.queue(key) {
                Some(queue) => Histogram::from_arc(Arc::new(JobDuration(queue))),
                None => Histogram::noop(),
            },
            #[cfg(not(feature = "instrumented"))]
            "http.server.request.duration" => self.routes.histogram(&self.metrics, key),
            _ => Histogram::noop(),
        }
    }
}
