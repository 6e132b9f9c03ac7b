//! [`CacheMetrics`]: the recording handle for one named cache (app store, channel cache, ...).

use std::sync::Arc;

use super::counter::CounterBlockBuilder;
use super::gauge::Gauge;
use super::labels::CacheOperation;
use super::registration::Families;
use super::resolve::PerValue;
use super::store::{CounterId, Counters};

type PerOperation<M> = PerValue<CacheOperation, M, { CacheOperation::COUNT }>;

/// Recording handles for one cache, resolved once by [`Metrics::cache`](super::Metrics::cache);
/// every series (each operation included) exists, at 0, from then on.
///
/// Hits, misses and operations are counted independently: a lookup is typically one
/// [`operation(Get)`](Self::operation) plus one [`hit`](Self::hit) or [`miss`](Self::miss).
#[derive(Clone)]
pub struct CacheMetrics(Arc<CacheHandles>);

struct CacheHandles {
    counters: Counters,
    hits: CounterId,
    misses: CounterId,
    operations: PerOperation<CounterId>,
    memory: Gauge,
}

impl CacheMetrics {
    pub(crate) fn resolve(f: &Families, cache: &str) -> CacheMetrics {
        let cache = &[cache][..];
        let mut c = CounterBlockBuilder::new(&f.counters);
        let hits = c.add(&f.cache_hits_total, cache);
        let misses = c.add(&f.cache_misses_total, cache);
        let operations = PerValue::resolve(cache, |v| c.add(&f.cache_operations_total, v));
        CacheMetrics(Arc::new(CacheHandles {
            counters: c.build(),
            hits,
            misses,
            operations,
            memory: Gauge::register(&f.cache_memory_usage_bytes, cache),
        }))
    }

    /// A lookup found its key.
    #[inline]
    pub fn hit(&self) {
        self.0.counters.add(self.0.hits, 1);
    }

    /// A lookup did not find its key.
    #[inline]
    pub fn miss(&self) {
        self.0.counters.add(self.0.misses, 1);
    }

    /// The cache performed `op`.
    #[inline]
    pub fn operation(&self, op: CacheOperation) {
        self.0.counters.add(*self.0.operations.get(op), 1);
    }

    /// The cache's current memory footprint.
    pub fn set_memory_bytes(&self, bytes: u64) {
        self.0.memory.set(i64::try_from(bytes).unwrap_or(i64::MAX));
    }
}
