//! [`AdapterMetrics`]: the recording handle for one horizontal adapter.
//!
//! The adapter (local, Redis, NATS, ...) carries events between server nodes.

use std::sync::Arc;
use std::time::Duration;

use super::counter::CounterBlockBuilder;
use super::histogram::Histogram;
use super::labels::AdapterOperation;
use super::registration::Families;
use super::resolve::PerValue;
use super::store::{CounterId, Counters};

type PerOperation<M> = PerValue<AdapterOperation, M, { AdapterOperation::COUNT }>;

/// Recording handles for one adapter, resolved once by
/// [`Metrics::adapter`](super::Metrics::adapter); every operation's series exist, at 0, from then
/// on.
///
/// `adapter_operations_total` counts every operation, failed or not, and `adapter_errors_total`
/// the failed subset; the latency histogram observes both.
#[derive(Clone)]
pub struct AdapterMetrics(Arc<AdapterHandles>);

struct AdapterHandles {
    counters: Counters,
    operations: PerOperation<CounterId>,
    errors: PerOperation<CounterId>,
    latency: PerOperation<Histogram>,
}

impl AdapterMetrics {
    pub(crate) fn resolve(f: &Families, adapter: &str) -> AdapterMetrics {
        let adapter = &[adapter][..];
        let mut c = CounterBlockBuilder::new(&f.counters);
        let operations = PerValue::resolve(adapter, |v| c.add(&f.adapter_operations_total, v));
        let errors = PerValue::resolve(adapter, |v| c.add(&f.adapter_errors_total, v));
        AdapterMetrics(Arc::new(AdapterHandles {
            counters: c.build(),
            operations,
            errors,
            latency: PerValue::resolve(adapter, |v| Histogram::register(&f.adapter_latency_seconds, v)),
        }))
    }

    /// `op` completed successfully after `latency`.
    #[inline]
    pub fn operation(&self, op: AdapterOperation, latency: Duration) {
        self.0.counters.add(*self.0.operations.get(op), 1);
        self.0.latency.get(op).observe(latency.as_secs_f64());
    }

    /// `op` failed after `latency`; it counts as an operation and as an error.
    pub fn operation_failed(&self, op: AdapterOperation, latency: Duration) {
        self.operation(op, latency);
        self.0.counters.add(*self.0.errors.get(op), 1);
    }
}
