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
//!
//! They come from the redis queue backend only (feature `redis`); every other facade name (the
//! OpenTelemetry HTTP histogram, enqueue counters, other queue states) is dropped: a no-op
//! handle, not an uncatalogued series.

use std::sync::Arc;
use std::time::Duration;

use metrics::{Counter, CounterFn, Gauge, GaugeFn, Histogram, HistogramFn, Key, KeyName};
use metrics::{Metadata, Recorder, SharedString, Unit};
use sockudo_obs::live::QueueMetrics;
use sockudo_obs::Metrics;

/// Installs the bridge as the process's global recorder. A second driver in the same process (or
/// a recorder the host installed first) keeps the first one, with a warning.
pub fn install(metrics: &Metrics) {
    if metrics::set_global_recorder(Bridge {
        metrics: metrics.clone(),
    })
    .is_err()
    {
        tracing::warn!("a metrics-rs recorder is already installed; facade metrics go there");
    }
}

/// The recorder: resolves each facade key to a catalogue handle once, at registration.
pub struct Bridge {
    metrics: Metrics,
}

fn label<'k>(key: &'k Key, name: &str) -> Option<&'k str> {
    key.labels().find(|l| l.key() == name).map(|l| l.value())
}

impl Bridge {
    fn queue(&self, key: &Key) -> Option<QueueMetrics> {
        label(key, "queue").map(|name| self.metrics.queue(name))
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

    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        match (key.name(), self.queue(key)) {
            ("sockudo_queue_processing_duration_seconds", Some(queue)) => {
                Histogram::from_arc(Arc::new(JobDuration(queue)))
            }
            _ => Histogram::noop(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sockudo_obs::MetricsConfig;

    fn line<'t>(text: &'t str, series: &str) -> Option<&'t str> {
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
    }

    #[test]
    fn queue_facade_metrics_reach_the_catalogue_and_the_rest_is_dropped() {
        let metrics = Metrics::new(&MetricsConfig::default()).unwrap();
        let bridge = Bridge {
            metrics: metrics.clone(),
        };
        metrics::with_local_recorder(&bridge, || {
            let settled = |outcome: &'static str| metrics::counter!("sockudo_queue_settled_total", "backend" => "redis", "queue" => "webhooks", "outcome" => outcome);
            settled("completed").increment(3);
            settled("dead-letter").increment(1);
            settled("retry").increment(1);
            metrics::histogram!("sockudo_queue_processing_duration_seconds", "queue" => "webhooks")
                .record(0.2);
            metrics::histogram!("sockudo_queue_processing_duration_seconds", "queue" => "webhooks")
                .record(f64::NAN);
            metrics::gauge!("sockudo_queue_depth", "queue" => "webhooks", "state" => "active").set(7.0);
            metrics::gauge!("sockudo_queue_depth", "queue" => "webhooks", "state" => "ready").set(99.0);
            metrics::counter!("sockudo_queue_enqueue_total", "queue" => "webhooks").increment(5);
            metrics::histogram!("http.server.request.duration", "http.route" => "/x").record(1.0);
        });
        let text = metrics.encode();
        let q = r#"{queue="webhooks"}"#;
        assert_eq!(
            line(&text, &format!("sockudo_queue_jobs_processed_total{q}")),
            Some("5")
        );
        assert_eq!(
            line(&text, &format!("sockudo_queue_jobs_failed_total{q}")),
            Some("2")
        );
        assert_eq!(line(&text, &format!("sockudo_queue_active_jobs{q}")), Some("7"));
        assert_eq!(
            line(&text, &format!("sockudo_queue_job_duration_seconds_count{q}")),
            Some("2")
        );
        assert!(
            !text.contains("enqueue") && !text.contains("http_server"),
            "unmapped names are dropped"
        );
    }
}
