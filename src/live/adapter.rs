//! [`AdapterMetrics`]: the recording handle for the horizontal adapter (local, Redis, NATS, ...)
//! that carries events between server nodes.

use std::sync::Arc;
use std::time::Duration;

use prometheus::{Histogram, IntCounter};

use super::families::Families;
use super::labels::AdapterOperation;
use super::resolve::PerValue;

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
    operations: PerOperation<IntCounter>,
    errors: PerOperation<IntCounter>,
    latency: PerOperation<Histogram>,
}

impl AdapterMetrics {
    pub(crate) fn resolve(f: &Families, adapter: &str) -> AdapterMetrics {
        let adapter = &[adapter][..];
        AdapterMetrics(Arc::new(AdapterHandles {
            operations: PerValue::resolve(&f.adapter_operations, adapter),
            errors: PerValue::resolve(&f.adapter_errors, adapter),
            latency: PerValue::resolve(&f.adapter_latency, adapter),
        }))
    }

    /// `op` completed successfully after `latency`.
    #[inline]
    pub fn operation(&self, op: AdapterOperation, latency: Duration) {
        self.0.operations.get(op).inc();
        self.0.latency.get(op).observe(latency.as_secs_f64());
    }

    /// `op` failed after `latency`; it counts as an operation and as an error.
    pub fn operation_failed(&self, op: AdapterOperation, latency: Duration) {
        self.operation(op, latency);
        self.0.errors.get(op).inc();
    }
}
