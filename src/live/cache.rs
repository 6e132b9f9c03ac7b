//! [`CacheMetrics`]: the recording handle for one named cache (app store, channel cache, ...).

use std::sync::Arc;

use prometheus::{IntCounter, IntGauge};

use super::families::Families;
use super::labels::CacheOperation;
use super::resolve::{child, PerValue};

type PerOperation<M> = PerValue<CacheOperation, M, { CacheOperation::COUNT }>;

/// Recording handles for one cache, resolved once by [`Metrics::cache`](super::Metrics::cache);
/// every series (each operation included) exists, at 0, from then on.
///
/// Hits, misses and operations are counted independently: a lookup is typically one
/// [`operation(Get)`](Self::operation) plus one [`hit`](Self::hit) or [`miss`](Self::miss).
#[derive(Clone)]
pub struct CacheMetrics(Arc<CacheHandles>);

struct CacheHandles {
    hits: IntCounter,
    misses: IntCounter,
    operations: PerOperation<IntCounter>,
    memory: IntGauge,
}

impl CacheMetrics {
    pub(crate) fn resolve(f: &Families, cache: &str) -> CacheMetrics {
        let cache = &[cache][..];
        CacheMetrics(Arc::new(CacheHandles {
            hits: child(&f.cache_hits, cache),
            misses: child(&f.cache_misses, cache),
            operations: PerValue::resolve(&f.cache_operations, cache),
            memory: child(&f.cache_memory_usage, cache),
        }))
    }

    /// A lookup found its key.
    #[inline]
    pub fn hit(&self) {
        self.0.hits.inc();
    }

    /// A lookup did not find its key.
    #[inline]
    pub fn miss(&self) {
        self.0.misses.inc();
    }

    /// The cache performed `op`.
    #[inline]
    pub fn operation(&self, op: CacheOperation) {
        self.0.operations.get(op).inc();
    }

    /// The cache's current memory footprint.
    pub fn set_memory_bytes(&self, bytes: u64) {
        self.0.memory.set(i64::try_from(bytes).unwrap_or(i64::MAX));
    }
}
