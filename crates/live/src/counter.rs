//! The counter kind: block builder, single counters, and the series value a counter family reads.
//!
//! A handle's counters are collected by a [`CounterBlockBuilder`] and allocated as one block in the
//! [`CounterStore`] (see [`super::store`] for the sharded layout); [`CounterCell`] is how a counter
//! series appears in its family: its index in the store.

use prometheus::proto;

use super::family::{Family, SeriesValue};
use super::store::{CounterId, CounterStore, Counters, Totals};
use super::text::{write_u64, FamilyText};
use crate::catalogue::MetricDef;

/// Collects the counters one handle needs, then allocates them in one block and registers each
/// as a series of its family.
pub(crate) struct CounterBlockBuilder<'f> {
    store: &'f CounterStore,
    pending: Vec<(&'f Family<CounterCell>, Box<str>)>,
}

impl<'f> CounterBlockBuilder<'f> {
    pub(crate) fn new(store: &'f CounterStore) -> Self {
        CounterBlockBuilder {
            store,
            pending: Vec::new(),
        }
    }

    /// Reserves a counter for the series of `family` with `values` (in catalogue label order).
    pub(crate) fn add(&mut self, family: &'f Family<CounterCell>, values: &[&str]) -> CounterId {
        let id = CounterId(u32::try_from(self.pending.len()).expect("a handle has few counters"));
        self.pending.push((family, family.render(values)));
        id
    }

    /// Allocates the block, zeroed, in the store and registers its series.
    pub(crate) fn build(self) -> Counters {
        // Listed before its series exist: a scrape that sees a series finds its block summed,
        // or reads the block directly when it was listed after the sums.
        let (counters, start) = self.store.allocate(self.pending.len());
        for (id, (family, labels)) in self.pending.into_iter().enumerate() {
            family.push(&labels, CounterCell(start + id as u32));
        }
        counters
    }
}

/// One counter on its own: a block of one, for series resolved one at a time (an HTTP status, an
/// overflow count).
#[derive(Clone)]
pub(crate) struct Counter {
    counters: Counters,
    id: CounterId,
}

impl Counter {
    pub(crate) fn register(family: &Family<CounterCell>, values: &[&str], store: &CounterStore) -> Counter {
        let mut block = CounterBlockBuilder::new(store);
        let id = block.add(family, values);
        Counter {
            counters: block.build(),
            id,
        }
    }

    #[inline]
    pub(crate) fn inc(&self) {
        self.counters.add(self.id, 1);
    }
}

/// A counter series as its family sees it: its index in the [`CounterStore`].
pub(crate) struct CounterCell(u32);

impl SeriesValue for CounterCell {
    fn width(_: &MetricDef) -> usize {
        1
    }

    fn read(&self, totals: &Totals, numbers: &mut Vec<u64>) {
        numbers.push(totals.get(self.0));
    }

    fn write(_: &FamilyText, series: &str, _: &str, numbers: &[u64], out: &mut Vec<u8>) {
        out.extend_from_slice(series.as_bytes());
        out.push(b' ');
        write_u64(numbers[0], out);
        out.push(b'\n');
    }

    fn fill(&self, totals: &Totals, metric: &mut proto::Metric) {
        let mut counter = proto::Counter::default();
        // Precision loss past 2^53 is the same as the `prometheus` crate's.
        counter.set_value(totals.get(self.0) as f64);
        metric.set_counter(counter);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{CELLS_PER_LINE, SATURATED};

    /// A store of `shards` shards with one block of `n` `messages_sent_total` counters.
    fn block(shards: usize, n: usize) -> (CounterStore, Counters, Vec<CounterId>) {
        let def = crate::catalogue::find("messages_sent_total").unwrap();
        let family = Family::<CounterCell>::new(def, "t_").unwrap();
        let store = CounterStore::new(shards);
        let mut block = CounterBlockBuilder::new(&store);
        let ids: Vec<_> = (0..n)
            .map(|i| block.add(&family, &[&format!("a{i}"), "public"]))
            .collect();
        let counters = block.build();
        (store, counters, ids)
    }

    #[test]
    fn adds_from_many_threads_sum_up() {
        let (store, counters, ids) = block(4, 20);
        std::thread::scope(|s| {
            for _ in 0..6 {
                s.spawn(|| {
                    for _ in 0..1000 {
                        for &id in &ids {
                            counters.add(id, 2);
                        }
                    }
                });
            }
        });
        assert!(ids.iter().all(|&id| counters.get(id) == 12_000));
        // Two lines per shard (20 counters), four shards.
        assert_eq!(counters.heap_bytes(), 4 * 2 * 128);
        let totals = store.totals();
        assert!((0..20).all(|index| totals.get(index) == 12_000));
    }

    #[test]
    fn huge_adds_saturate_and_never_wrap() {
        let (store, counters, ids) = block(2, 1);
        let id = ids[0];
        let mut last = 0;
        for n in [u64::MAX, u64::MAX, 1, 5, u64::MAX - 1, 1 << 40] {
            counters.add(id, n);
            let now = counters.get(id);
            assert!(now >= last && now >= SATURATED, "{n}: {last} -> {now}");
            last = now;
        }
        assert!(store.totals().get(0) >= SATURATED);
    }

    #[test]
    fn totals_read_blocks_created_after_them_directly() {
        let def = crate::catalogue::find("total_connections").unwrap();
        let family = Family::<CounterCell>::new(def, "t_").unwrap();
        let store = CounterStore::new(2);
        // Enough blocks to fill a few slabs, each counted differently.
        let counters: Vec<Counter> = (0..100)
            .map(|i| Counter::register(&family, &[&format!("a{i:03}")], &store))
            .collect();
        let totals = store.totals();
        let late = Counter::register(&family, &["late"], &store);
        for (n, counter) in counters.iter().chain([&late]).enumerate() {
            (0..n).for_each(|_| counter.inc());
        }
        let live = store.live();
        for (n, index) in (0..=100u32).map(|n| (n as u64, n * CELLS_PER_LINE as u32)) {
            assert_eq!(live.get(index), n);
            // Summed before the adds, except the block created afterwards.
            assert_eq!(totals.get(index), if n == 100 { 100 } else { 0 });
        }
    }
}
