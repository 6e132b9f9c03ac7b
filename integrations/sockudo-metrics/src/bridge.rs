//! The global `metrics` (metrics-rs) recorder. Sockudo 5.2 records some things through that
//! facade rather than `MetricsInterface`; the stock driver installs a recorder for them, and so
//! do we, mapping the names that measure a catalogue family onto its handles.
//!
//! | facade name (Sockudo 5.2) | catalogue family |
//! |---|---|
//! | `sockudo_queue_settled_total{outcome="completed"}` | `queue_jobs_processed_total` |
//! | `sockudo_queue_settled_total{outcome=…}` (retry, dead-letter, panic-or-lease-lost) | `queue_jobs_processed_total` and `queue_jobs_failed_total` |
//! | `sockudo_queue_processing_duration_seconds` | `queue_job_duration_seconds` |
//! | `sockudo_queue_depth{state="ready"}` + `sockudo_queue_depth{state="active"}` | `queue_active_jobs` |
//! | `http.server.request.duration{http.request.method, http.route}` | `http_request_duration_seconds{method, endpoint}` |
//!
//! The queue names come from the redis queue backend only (feature `redis`); Sockudo sets the
//! depth gauges only when something asks the queue for its stats, which nothing does while it
//! runs (the instrumented build's patch 0010 asks every 5 s, and makes the memory queue report
//! the same names). `queue_active_jobs` is the jobs in the queue, waiting or running: the sum of
//! the `ready` (waiting to be taken) and `active` (held by a worker) depths. Delayed jobs (a
//! retry's backoff), dead letters and the completed history are not in it. The HTTP histogram needs the `opentelemetry` feature with `opentelemetry.enabled` and
//! `traces_enabled` on (it runs without a collector under `OTEL_SDK_DISABLED=true`); the route
//! is axum's template, respelled as the catalogue spells endpoints. Every other facade name
//! (enqueue counters, other queue states) is dropped: a no-op handle, not an uncatalogued series.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use metrics::{Counter, CounterFn, Gauge, GaugeFn, Histogram, HistogramFn, Key, KeyName};
use metrics::{Metadata, Recorder, SharedString, Unit};
use sockudo_obs_live::Metrics;
use sockudo_obs_live::QueueMetrics;

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
    /// Per queue, the depths `queue_active_jobs` adds up (see [`QueueDepth`]).
    depths: Mutex<Vec<(String, Arc<QueueDepth>)>>,
    #[cfg(not(feature = "instrumented"))]
    routes: http::Routes,
}

impl Bridge {
    /// The recorder over `metrics`, not installed (for a local recorder, as the tests use).
    pub fn new(metrics: &Metrics) -> Bridge {
        Bridge {
            metrics: metrics.clone(),
            depths: Mutex::default(),
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

    /// The one [`QueueDepth`] of a queue, shared by its `ready` and `active` gauges.
    fn depth(&self, name: &str, queue: QueueMetrics) -> Arc<QueueDepth> {
        let mut depths = self.depths.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, depth)) = depths.iter().find(|(n, _)| n == name) {
            return Arc::clone(depth);
        }
        let depth = Arc::new(QueueDepth {
            queue,
            ready: AtomicI64::new(0),
            active: AtomicI64::new(0),
        });
        depths.push((name.to_string(), Arc::clone(&depth)));
        depth
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
    use sockudo_obs_live::Metrics;
    use sockudo_obs_live::{HttpMethod, RouteMetrics, RouteTemplates};
    use sockudo_obs_sockudo::spellings::WEBSOCKET_ROUTE;

    use super::label;

    /// Respells axum's route templates as the catalogue's endpoints.
    pub(super) struct Routes(RouteTemplates);

    impl Routes {
        pub(super) fn new(metrics: &Metrics) -> Routes {
            Routes(RouteTemplates::new(metrics))
        }

        /// The histogram of an HTTP facade key; a no-op for a method outside the catalogue's
        /// closed set, and for the WebSocket upgrade (a connection, not an HTTP API request).
        pub(super) fn histogram(&self, key: &Key) -> Histogram {
            let route = || -> Option<RouteMetrics> {
                let method: HttpMethod = label(key, "http.request.method")?.parse().ok()?;
                let route = label(key, "http.route").filter(|&r| r != WEBSOCKET_ROUTE)?;
                Some(self.0.route(method, route).clone())
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

/// A queue's depth as the backend reports it, one gauge per state: `queue_active_jobs` is the
/// jobs waiting (`ready`) plus the jobs running (`active`). The backend sets the states one after
/// the other, so between two sets the sum mixes a state's new value with the other's previous one.
struct QueueDepth {
    queue: QueueMetrics,
    ready: AtomicI64,
    active: AtomicI64,
}

impl QueueDepth {
    fn set(&self, state: &AtomicI64, jobs: i64) {
        state.store(jobs, Ordering::Relaxed);
        let total = self.ready.load(Ordering::Relaxed) + self.active.load(Ordering::Relaxed);
        self.queue.set_active_jobs(total);
    }
}

/// One state's gauge of a [`QueueDepth`]: `ready` or `active`.
struct DepthState {
    depth: Arc<QueueDepth>,
    ready: bool,
}

impl GaugeFn for DepthState {
    fn increment(&self, _value: f64) {}
    fn decrement(&self, _value: f64) {}
    fn set(&self, value: f64) {
        let state = if self.ready {
            &self.depth.ready
        } else {
            &self.depth.active
        };
        // A depth is a count: NaN and negatives are 0, as `as` saturates.
        self.depth.set(state, value.max(0.0) as i64);
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
        let state = label(key, "state");
        match (key.name(), state, label(key, "queue"), self.queue(key)) {
            ("sockudo_queue_depth", Some("ready" | "active"), Some(name), Some(queue)) => {
                Gauge::from_arc(Arc::new(DepthState {
                    depth: self.depth(name, queue),
                    ready: state == Some("ready"),
                }))
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
            "http.server.request.duration" => self.routes.histogram(key),
            _ => Histogram::noop(),
        }
    }
}
