//! [`QueueMetrics`]: the recording handle for one named job queue (webhook delivery, ...).

use std::sync::Arc;
use std::time::Duration;

use super::counter::CounterBlockBuilder;
use super::gauge::Gauge;
use super::histogram::Histogram;
use super::registration::Families;
use super::store::{CounterId, Counters};

/// Recording handles for one queue, resolved once by [`Metrics::queue`](super::Metrics::queue);
/// all four series exist, at 0, from then on.
///
/// `queue_jobs_processed_total` counts every job that finished, failed or not, and
/// `queue_jobs_failed_total` the failed subset, so `failed / processed` is the failure ratio.
///
/// `queue_active_jobs` is the number of jobs in the queue, waiting or running, as the queue
/// backend counts them: report it with [`set_active_jobs`](Self::set_active_jobs) whenever the
/// backend can count (a Redis list's length). Instances sharing a queue then report the same
/// depth, which is why the bundle's alert and dashboard take the maximum over instances, not the
/// sum. Without it, [`job_started`](Self::job_started) and the finishing calls only count the
/// jobs this instance is running, which worker concurrency caps, and no backlog shows.
#[derive(Clone)]
pub struct QueueMetrics(Arc<QueueHandles>);

struct QueueHandles {
    counters: Counters,
    processed: CounterId,
    failed: CounterId,
    active: Gauge,
    duration: Histogram,
}

impl QueueMetrics {
    pub(crate) fn resolve(f: &Families, queue: &str) -> QueueMetrics {
        let queue = &[queue][..];
        let mut c = CounterBlockBuilder::new(&f.counters);
        let processed = c.add(&f.queue_jobs_processed_total, queue);
        let failed = c.add(&f.queue_jobs_failed_total, queue);
        QueueMetrics(Arc::new(QueueHandles {
            counters: c.build(),
            processed,
            failed,
            active: Gauge::register(&f.queue_active_jobs, queue),
            duration: Histogram::register(&f.queue_job_duration_seconds, queue),
        }))
    }

    /// A job was taken up: `queue_active_jobs` goes up until it finishes or fails.
    pub fn job_started(&self) {
        self.0.active.inc();
    }

    /// A started job succeeded after `duration`.
    pub fn job_finished(&self, duration: Duration) {
        self.done(duration);
    }

    /// A started job failed after `duration`; it counts as processed and as failed.
    pub fn job_failed(&self, duration: Duration) {
        self.done(duration);
        self.0.counters.add(self.0.failed, 1);
    }

    /// Sets `queue_active_jobs` outright, for backends that report their depth (e.g. a Redis list
    /// length) rather than tracking starts and finishes.
    pub fn set_active_jobs(&self, jobs: i64) {
        self.0.active.set(jobs);
    }

    /// `count` jobs settled, failed or not, for backends that report settlements, durations and
    /// depth separately (Sockudo's redis queue): neither `queue_active_jobs` nor the duration
    /// histogram moves; pair it with [`set_active_jobs`](Self::set_active_jobs) and
    /// [`observe_job_duration`](Self::observe_job_duration).
    pub fn jobs_settled(&self, count: u64, failed: bool) {
        self.0.counters.add(self.0.processed, count);
        if failed {
            self.0.counters.add(self.0.failed, count);
        }
    }

    /// One job's processing time, reported apart from its settlement.
    pub fn observe_job_duration(&self, duration: Duration) {
        self.0.duration.observe(duration.as_secs_f64());
    }

    fn done(&self, duration: Duration) {
        self.0.active.dec();
        self.0.counters.add(self.0.processed, 1);
        self.0.duration.observe(duration.as_secs_f64());
    }
}
