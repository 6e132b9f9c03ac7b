//! Counters: sharded, cache-line padded cells, summed at scrape time.
//!
//! A handle (one app, one queue, ...) owns one [`Counters`] block holding every counter it records.
//! The block has one slice of cells per shard, each slice padded to whole 128-byte lines (two
//! cache lines: the adjacent-line prefetcher pairs them), and a thread always adds to its own
//! shard. Two threads recording for the same app therefore never write the same cache line, so
//! the second thread costs nothing extra, where a single shared atomic would bounce its line
//! between cores on every add (about 8× slower on two threads). Scrapes read every shard and add
//! them up; a counter only ever grows, so a sum that misses an add in flight is still a valid
//! reading.
//!
//! Threads get a shard index round-robin on their first add. With at least as many shards as
//! threads recording at once, each gets a shard of its own; past that, some share (still
//! correct, only slower). See [`Limits::shards`](super::Limits::shards).

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use prometheus::proto;

use super::encode::{write_u64, FamilyText};
use super::family::{Family, Source};
use crate::catalogue::MetricDef;

/// Cells per line: 16 × 8 bytes = 128 bytes.
const CELLS_PER_LINE: usize = 16;

#[repr(align(128))]
#[derive(Default)]
struct Line([AtomicU64; CELLS_PER_LINE]);

/// The index of a counter inside its block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CounterId(u32);

/// A block of counters, one padded slice per shard. Cloning is an `Arc` clone.
#[derive(Clone)]
pub(crate) struct Counters {
    lines: Arc<[Line]>,
    lines_per_shard: u32,
    /// `shards - 1`; shard counts are powers of two.
    mask: u32,
}

impl Counters {
    /// Adds `n` to counter `id` in this thread's shard.
    #[inline(always)]
    pub(crate) fn add(&self, id: CounterId, n: u64) {
        let shard = thread_shard() & self.mask as usize;
        let id = id.0 as usize;
        let line = shard * self.lines_per_shard as usize + id / CELLS_PER_LINE;
        self.lines[line].0[id % CELLS_PER_LINE].fetch_add(n, Ordering::Relaxed);
    }

    /// The counter's value: the sum over every shard.
    pub(crate) fn get(&self, id: CounterId) -> u64 {
        let id = id.0 as usize;
        let per_shard = self.lines_per_shard as usize;
        (0..=self.mask as usize)
            .map(|shard| {
                self.lines[shard * per_shard + id / CELLS_PER_LINE].0[id % CELLS_PER_LINE]
                    .load(Ordering::Relaxed)
            })
            .fold(0u64, u64::wrapping_add)
    }

    /// Bytes of cells this block holds.
    #[cfg(test)]
    pub(crate) fn heap_bytes(&self) -> usize {
        std::mem::size_of_val(&*self.lines)
    }
}

/// Collects the counters one handle needs, then allocates them in one block and registers each
/// as a series of its family.
pub(crate) struct CounterBlockBuilder<'f> {
    shards: usize,
    pending: Vec<(&'f Family<CounterCell>, Box<str>)>,
}

impl<'f> CounterBlockBuilder<'f> {
    /// `shards` is a power of two (see [`Limits::shards`](super::Limits::shards)).
    pub(crate) fn new(shards: usize) -> Self {
        debug_assert!(shards.is_power_of_two());
        CounterBlockBuilder {
            shards,
            pending: Vec::new(),
        }
    }

    /// Reserves a counter for the series of `family` with `values` (in catalogue label order).
    pub(crate) fn add(&mut self, family: &'f Family<CounterCell>, values: &[&str]) -> CounterId {
        let id = CounterId(u32::try_from(self.pending.len()).expect("a handle has few counters"));
        self.pending.push((family, family.render(values)));
        id
    }

    /// Allocates the block, zeroed, and registers its series.
    pub(crate) fn build(self) -> Counters {
        let per_shard = self.pending.len().div_ceil(CELLS_PER_LINE).max(1);
        let counters = Counters {
            lines: (0..per_shard * self.shards).map(|_| Line::default()).collect(),
            lines_per_shard: per_shard as u32,
            mask: (self.shards - 1) as u32,
        };
        for (id, (family, labels)) in self.pending.into_iter().enumerate() {
            let cell = CounterCell {
                counters: counters.clone(),
                id: CounterId(id as u32),
            };
            family.push(labels, cell);
        }
        counters
    }
}

/// One counter on its own: a block of one, for series resolved one at a time (an HTTP status, an
/// overflow count).
#[derive(Clone)]
pub(crate) struct Counter(CounterCell);

impl Counter {
    pub(crate) fn register(family: &Family<CounterCell>, values: &[&str], shards: usize) -> Counter {
        let mut block = CounterBlockBuilder::new(shards);
        let id = block.add(family, values);
        Counter(CounterCell {
            counters: block.build(),
            id,
        })
    }

    #[inline]
    pub(crate) fn inc(&self) {
        self.0.counters.add(self.0.id, 1);
    }
}

/// A counter series as its family sees it: the block and the index.
#[derive(Clone)]
pub(crate) struct CounterCell {
    counters: Counters,
    id: CounterId,
}

impl Source for CounterCell {
    fn width(_: &MetricDef) -> usize {
        1
    }

    fn read(&self, numbers: &mut Vec<u64>) {
        numbers.push(self.counters.get(self.id));
    }

    fn write(_: &FamilyText, series: &str, _: &str, numbers: &[u64], out: &mut Vec<u8>) {
        out.extend_from_slice(series.as_bytes());
        out.push(b' ');
        write_u64(numbers[0], out);
        out.push(b'\n');
    }

    fn fill(&self, metric: &mut proto::Metric) {
        let mut counter = proto::Counter::default();
        // Precision loss past 2^53 is the same as the `prometheus` crate's.
        counter.set_value(self.counters.get(self.id) as f64);
        metric.set_counter(counter);
    }
}

/// Where the next thread's shard index comes from.
static NEXT_SHARD: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// This thread's shard index (unmasked), `usize::MAX` until its first add. A `const`
    /// initialiser without `Drop` makes the access a plain TLS load.
    static SHARD: Cell<usize> = const { Cell::new(usize::MAX) };
}

/// This thread's shard index, assigned round-robin on first use.
#[inline(always)]
fn thread_shard() -> usize {
    SHARD.with(|shard| {
        let index = shard.get();
        if index != usize::MAX {
            index
        } else {
            assign_shard(shard)
        }
    })
}

#[cold]
fn assign_shard(shard: &Cell<usize>) -> usize {
    let index = NEXT_SHARD.fetch_add(1, Ordering::Relaxed) % (1 << 16);
    shard.set(index);
    index
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_from_many_threads_sum_up() {
        let def = crate::catalogue::find("messages_sent_total").unwrap();
        let family = Family::<CounterCell>::new(def, "t_").unwrap();
        let mut block = CounterBlockBuilder::new(4);
        let ids: Vec<_> = (0..20)
            .map(|i| block.add(&family, &[&format!("a{i}"), "public"]))
            .collect();
        let counters = block.build();
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
    }
}
