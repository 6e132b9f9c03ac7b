//! Counter storage: sharded, cache-line padded cells in shared slabs, summed at scrape time.
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
//! Every block is also listed, in creation order, in the [`CounterStore`] of its `Metrics`, which
//! gives each cell a place in one index space; a family's series is just that index. A scrape
//! first sums every block's shards in one pass ([`CounterStore::totals`]), block after block
//! through contiguous memory, and the families then read their values from that one array. Read
//! family by family instead, each series would touch a line per shard in a different handle's
//! block, and at 100k series those scattered misses were most of the scrape.
//!
//! Consecutive blocks start an odd number of 128-byte lines apart (one unused line after a block
//! of an even number), so the cells that many handles' shards add to first spread over every
//! L1 set pair instead of a few (see [`odd_stride`]).
//!
//! Threads get a shard index round-robin on their first add. With at least as many shards as
//! threads recording at once, each gets a shard of its own; past that, some share (still
//! correct, only slower). See [`Limits::shards`](super::Limits::shards).
//!
//! The atomics, locks and the shard's thread-local come from [`sync`](super::sync), so that the
//! `loom_` tests below model-check concurrent adds against a scrape's sums (with the `loom`
//! feature).

use std::cell::Cell;
use std::marker::PhantomData;
use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};

use super::sync::{AtomicU64, AtomicUsize, Mutex, RwLock};

/// Cells per line: 16 × 8 bytes = 128 bytes.
pub(crate) const CELLS_PER_LINE: usize = 16;

// `C`: the cells sit at offset 0 and lines are exactly 128 bytes, so a block is one flat run of
// cells (`Counters::add` relies on it).
#[repr(C, align(128))]
#[derive(Default)]
struct Line([AtomicU64; CELLS_PER_LINE]);

// No padding after the cells (loom's atomics are 8 bytes too), so the lines' cells are one flat
// run.
const _: () = assert!(std::mem::size_of::<Line>() == CELLS_PER_LINE * std::mem::size_of::<AtomicU64>());

/// The index of a counter inside its block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CounterId(pub(crate) u32);

/// A block of counters, one padded slice per shard, in a slab shared with the blocks created
/// before and after it. Cloning is an `Arc` clone.
// `C`, the fields an add reads first: 16 bytes that a handle holding the block first (also `C`)
// keeps in one cache line, wherever the allocator puts it.
#[derive(Clone)]
#[repr(C)]
pub(crate) struct Counters {
    cells: Cells,
    /// The block's first line in `slab`.
    first: u32,
    slab: Arc<[Line]>,
}

/// What an add reads of a block: 16 bytes, `Copy`, so a handle can keep them inline (an
/// [`AppMetrics`](super::AppMetrics) does: recording then reads no line of its own per app).
/// Valid only while the [`Counters`] it came from lives.
#[derive(Clone, Copy)]
#[repr(C)]
pub(crate) struct Cells {
    /// The block's first cell (`&slab[first].0[0]`). Lines are 16 cells, 128 bytes, back to
    /// back, so the block is one flat run of cells and an add is `base + shard * slots + id`:
    /// one multiply and one add after the thread-local load, with no slab pointer, `first`
    /// or bounds check on the path to the `lock add` (see BENCHMARKS.md, recording).
    base: *const AtomicU64,
    lines_per_shard: u32,
    /// `shards - 1`; shard counts are powers of two.
    mask: u32,
}

// SAFETY: `base` points into a slab that the block (or, for `Cells`, the block its holder keeps
// beside them) keeps alive; it is only read through as `&AtomicU64`, which is `Send + Sync`.
unsafe impl Send for Counters {}
// SAFETY: as for `Send`: shared, `base` is still only read through as `&AtomicU64`.
unsafe impl Sync for Counters {}
// SAFETY: as for `Counters`: the holder keeps the block alive beside them.
unsafe impl Send for Cells {}
// SAFETY: as for `Send`: shared, `base` is still only read through as `&AtomicU64`.
unsafe impl Sync for Cells {}

/// One shard's cells of a [`Counters`] block (see [`Counters::this_shard`]).
pub(crate) struct ShardCells<'b> {
    first: *const AtomicU64,
    slots: usize,
    block: PhantomData<&'b AtomicU64>,
}

impl ShardCells<'_> {
    /// Adds `n` to counter `id`.
    #[inline(always)]
    pub(crate) fn add(&self, id: CounterId, n: u64) {
        let id = id.0 as usize;
        // A predicted branch, off the address's dependency chain: it keeps an id from another
        // block from writing outside this one.
        if id >= self.slots {
            outside_block(id, self.slots);
        }
        // SAFETY: `id < slots`, and the shard's `slots` cells are inside the block, which
        // outlives `'b`.
        let cell = unsafe { &*self.first.add(id) };
        if n < LARGE_ADD {
            cell.fetch_add(n, Ordering::Relaxed);
        } else {
            // A huge count (a caller passing u64::MAX) saturates rather than wrapping the
            // counter to a small value, which Prometheus would take for a restart.
            let _ = cell.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| {
                Some(v.saturating_add(n).min(SATURATED).max(v))
            });
        }
    }
}

/// Adds of at least this much take the saturating path; smaller ones are one `fetch_add`.
const LARGE_ADD: u64 = 1 << 32;
/// Where a saturating add stops: the 2^63 left above it take centuries of small adds to use up,
/// so a cell never wraps, and shard sums saturate at `u64::MAX`.
pub(crate) const SATURATED: u64 = 1 << 63;

impl Cells {
    /// This thread's cells of the block.
    ///
    /// # Safety
    /// The [`Counters`] these came from is alive for `'b`.
    #[inline(always)]
    pub(crate) unsafe fn this_shard<'b>(&self) -> ShardCells<'b> {
        let shard = thread_shard() & self.mask as usize;
        let slots = self.lines_per_shard as usize * CELLS_PER_LINE;
        ShardCells {
            // SAFETY: `shard <= mask`, so the shard's `slots` cells are among the block's
            // `(mask + 1) * lines_per_shard` lines, which `allocate` carved out of the slab the
            // caller keeps alive.
            first: unsafe { self.base.add(shard * slots) },
            slots,
            block: PhantomData,
        }
    }
}

impl Counters {
    /// Adds `n` to counter `id` in this thread's shard.
    #[inline(always)]
    pub(crate) fn add(&self, id: CounterId, n: u64) {
        self.this_shard().add(id, n);
    }

    /// This thread's cells of the block, for adds in a row that look the shard up once (a
    /// broadcast counts two counters).
    #[inline(always)]
    pub(crate) fn this_shard(&self) -> ShardCells<'_> {
        // SAFETY: the block is alive for as long as the cells are borrowed.
        unsafe { self.cells.this_shard() }
    }

    /// What an add reads, to keep inline beside the block.
    pub(crate) fn cells(&self) -> Cells {
        self.cells
    }

    /// The block's lines, shard after shard.
    fn lines(&self) -> &[Line] {
        let first = self.first as usize;
        let cells = self.cells;
        &self.slab[first..first + cells.lines_per_shard as usize * (cells.mask as usize + 1)]
    }

    /// The counter's value: the sum over every shard.
    pub(crate) fn get(&self, id: CounterId) -> u64 {
        let id = id.0 as usize;
        self.lines()
            .chunks_exact(self.cells.lines_per_shard as usize)
            .map(|shard| shard[id / CELLS_PER_LINE].0[id % CELLS_PER_LINE].load(Ordering::Relaxed))
            .fold(0u64, u64::saturating_add)
    }

    /// Cells per shard: the block's share of the [`CounterStore`] index space.
    fn slots(&self) -> usize {
        self.cells.lines_per_shard as usize * CELLS_PER_LINE
    }

    /// Appends every cell's sum over the shards to `totals`, reading the block front to back.
    fn sum_into(&self, totals: &mut Vec<u64>) {
        let start = totals.len();
        totals.resize(start + self.slots(), 0);
        let totals = &mut totals[start..];
        // Line by line, 16 cells at a time: a loop of fixed length the compiler unrolls. (Cell
        // by cell through `flat_map` over the lines, the pass took about 17 instructions a cell,
        // in callgrind; under 5 this way.)
        for shard in self.lines().chunks_exact(self.cells.lines_per_shard as usize) {
            for (totals, line) in totals.chunks_exact_mut(CELLS_PER_LINE).zip(shard) {
                for (total, cell) in totals.iter_mut().zip(&line.0) {
                    *total = total.saturating_add(cell.load(Ordering::Relaxed));
                }
            }
        }
    }

    /// Bytes of cells this block holds.
    #[cfg(test)]
    pub(crate) fn heap_bytes(&self) -> usize {
        std::mem::size_of_val(self.lines())
    }
}

/// Every counter block of one `Metrics`, in creation order, and where each starts in the index
/// space the families' series refer to.
pub(crate) struct CounterStore {
    /// Shards per block (a power of two).
    shards: usize,
    blocks: RwLock<Blocks>,
    /// The last scrape's totals, kept for their memory: a fresh buffer of that size would be
    /// paged in (and zeroed by the kernel) on every scrape.
    spare: Mutex<Vec<u64>>,
}

/// Lines of the first slab; each next slab is twice as large, up to [`MAX_SLAB_LINES`], so a
/// `Metrics` with a handful of handles stays small.
const MIN_SLAB_LINES: usize = 16;
/// 64 KiB: large enough that the scrape's pass over the blocks is mostly sequential reads.
const MAX_SLAB_LINES: usize = 512;

struct Blocks {
    list: Vec<Counters>,
    /// The index of each block's first cell; the next block starts where this one's slots end.
    starts: Vec<u32>,
    /// Cells (per shard) of all blocks together.
    slots: usize,
    /// Where new blocks take their lines, front to back: blocks created one after the other sit
    /// next to each other, so summing them reads memory in order, and a block costs no
    /// allocation of its own.
    slab: Arc<[Line]>,
    /// Lines of `slab` already taken.
    taken: usize,
}

impl Blocks {
    /// A zeroed block of `lines_per_shard` lines per shard, listed; returns it and the index of
    /// its first cell.
    fn allocate(&mut self, lines_per_shard: usize, shards: usize) -> (Counters, u32) {
        let lines = lines_per_shard * shards;
        // The next block starts an odd number of lines further on (see `odd_stride`).
        let stride = odd_stride(lines);
        if self.taken + lines > self.slab.len() {
            let size = (self.slab.len() * 2)
                .clamp(MIN_SLAB_LINES, MAX_SLAB_LINES)
                .max(stride);
            self.slab = (0..size).map(|_| Line::default()).collect();
            self.taken = 0;
        }
        let counters = Counters {
            slab: self.slab.clone(),
            first: u32::try_from(self.taken).expect("slabs are small"),
            cells: Cells {
                lines_per_shard: u32::try_from(lines_per_shard).expect("a handle has few counters"),
                mask: (shards - 1) as u32,
                // A pointer into the whole slab (its provenance covers every line), not a
                // reborrow of one line; `wrapping_add` because a block of no counters may start
                // at the end.
                base: self.slab.as_ptr().wrapping_add(self.taken).cast::<AtomicU64>(),
            },
        };
        // Past the end of a full slab is harmless: the next block takes a new one.
        self.taken += stride;
        let start = u32::try_from(self.slots).expect("fewer than 4 billion counters");
        self.slots += counters.slots();
        self.list.push(counters.clone());
        self.starts.push(start);
        (counters, start)
    }
}

/// Lines from a block of `lines` lines to the next block: `lines`, plus one unused line when
/// `lines` is even (with two shards or more, always).
///
/// An L1 data cache has 64 sets of 64-byte lines on both vendors' cores (4 KiB per way: AMD Zen 1-4,
/// 32 KiB and 8 ways; Intel since Ice Lake, 48 KiB and 12 ways), so a block's line (two cache
/// lines) sits in set pair `start mod 32`. Blocks of one size created one after the other (the
/// apps, as they connect) then put each shard's first line, where the per-message counters are,
/// `k · stride mod 32` apart: with an even stride those fall on few sets (`32 / gcd(stride, 32)`
/// of them: 8 for an app's 12 lines with 4 shards), and recording for 100 apps overflowed an
/// 8-way L1 (callgrind's cache simulation of AMD's: 0.55 misses per add; none with 12 ways). An odd
/// stride puts 32 consecutive blocks on 32 different set pairs, at the cost of one line (128
/// bytes) per block; the 128-byte lines themselves stay whole, so two shards never share one.
fn odd_stride(lines: usize) -> usize {
    lines | 1
}

impl CounterStore {
    /// `shards` is a power of two (see [`Limits::shards`](super::Limits::shards)).
    pub(crate) fn new(shards: usize) -> CounterStore {
        debug_assert!(shards.is_power_of_two());
        CounterStore {
            shards,
            blocks: RwLock::new(Blocks {
                list: Vec::new(),
                starts: Vec::new(),
                slots: 0,
                slab: Arc::new([]),
                taken: 0,
            }),
            spare: Mutex::default(),
        }
    }

    /// A new block of at least `counters` counters, listed; returns it and the index of its
    /// first cell.
    pub(crate) fn allocate(&self, counters: usize) -> (Counters, u32) {
        let lines_per_shard = counters.div_ceil(CELLS_PER_LINE).max(1);
        let mut blocks = self.blocks.write().unwrap_or_else(PoisonError::into_inner);
        blocks.allocate(lines_per_shard, self.shards)
    }

    /// The value of the counter at `index`, read from its block.
    fn get(&self, index: u32) -> u64 {
        let blocks = self.blocks.read().unwrap_or_else(PoisonError::into_inner);
        let block = blocks.starts.partition_point(|&start| start <= index) - 1;
        blocks.list[block].get(CounterId(index - blocks.starts[block]))
    }

    /// Every counter's value, summed over the shards, for one scrape.
    pub(crate) fn totals(&self) -> Totals<'_> {
        let mut totals = std::mem::take(&mut *self.spare.lock().unwrap_or_else(PoisonError::into_inner));
        totals.clear();
        let blocks = self.blocks.read().unwrap_or_else(PoisonError::into_inner);
        totals.reserve(blocks.slots);
        for block in &blocks.list {
            block.sum_into(&mut totals);
        }
        Totals { store: self, totals }
    }

    /// No totals: each counter is read from its block when asked for (a gather, which reads
    /// one family at a time).
    pub(crate) fn live(&self) -> Totals<'_> {
        Totals {
            store: self,
            totals: Vec::new(),
        }
    }
}

/// The counters' values for one scrape.
pub(crate) struct Totals<'s> {
    store: &'s CounterStore,
    /// By index; a counter created after they were summed reads its block instead.
    totals: Vec<u64>,
}

impl Drop for Totals<'_> {
    fn drop(&mut self) {
        let mut spare = self.store.spare.lock().unwrap_or_else(PoisonError::into_inner);
        if spare.capacity() < self.totals.capacity() {
            *spare = std::mem::take(&mut self.totals);
        }
    }
}

impl Totals<'_> {
    #[inline]
    pub(crate) fn get(&self, index: u32) -> u64 {
        match self.totals.get(index as usize) {
            Some(&total) => total,
            None => self.store.get(index),
        }
    }
}

/// An id from another block: a bug, stopped before it writes outside this block. Cold and out
/// of line, so the add keeps its arguments in registers instead of spilling them for a message.
#[cold]
#[inline(never)]
fn outside_block(id: usize, slots: usize) -> ! {
    panic!("counter id {id} outside its block of {slots}")
}

/// Where the next thread's shard index comes from.
#[cfg(not(feature = "loom"))]
static NEXT_SHARD: AtomicUsize = AtomicUsize::new(0);

#[cfg(not(feature = "loom"))]
std::thread_local! {
    /// This thread's shard index (unmasked), `usize::MAX` until its first add. A `const`
    /// initialiser without `Drop` makes the access a plain TLS load.
    static SHARD: Cell<usize> = const { Cell::new(usize::MAX) };
}

// Under loom, both are the model's, fresh in each run and, for `SHARD`, per model thread (loom's
// threads share one OS thread). Its macros take neither a `const` atomic nor a `const` block.
#[cfg(feature = "loom")]
loom::lazy_static! {
    static ref NEXT_SHARD: AtomicUsize = AtomicUsize::new(0);
}
#[cfg(feature = "loom")]
loom::thread_local! {
    static SHARD: Cell<usize> = Cell::new(usize::MAX);
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

    /// Bytes of one way of an L1 data cache: 64 sets of 64-byte lines, on both vendors' cores
    /// (AMD Zen 1-4: 32 KiB, 8 ways; Intel since Ice Lake: 48 KiB, 12 ways). Addresses this far
    /// apart fall on the same set.
    const L1_WAY: usize = 4096;
    const L1_LINE: usize = 64;

    /// The L1 set of the cell at `address`.
    fn l1_set(address: usize) -> usize {
        address % L1_WAY / L1_LINE
    }

    /// Blocks of one size created one after the other (the 100 apps of the recording bench, the
    /// apps of a server) put the cell that each shard adds to first on as many L1 sets as the
    /// 128-byte padding leaves them (every other set: 32), not on a few sets that an 8-way L1
    /// cannot hold (a block of 8 lines, 1 KiB, put them on 4 sets).
    #[test]
    fn consecutive_blocks_spread_their_cells_over_the_l1_sets() {
        for shards in [1, 2, 4, 8, 16, 64] {
            for counters in [1, 16, 17, 33, 55, 64, 100] {
                let store = CounterStore::new(shards);
                let blocks: Vec<Counters> = (0..300).map(|_| store.allocate(counters).0).collect();
                // Within a slab (a new slab starts wherever the allocator puts it), up to 32
                // consecutive blocks.
                let runs = blocks.chunk_by(|a, b| Arc::ptr_eq(&a.slab, &b.slab));
                for run in runs.flat_map(|run| run.chunks(L1_WAY / (2 * L1_LINE))) {
                    for shard in 0..shards {
                        let sets: Vec<usize> = run
                            .iter()
                            .map(|block| {
                                let cells = block.cells();
                                let slots = cells.lines_per_shard as usize * CELLS_PER_LINE;
                                l1_set(cells.base.wrapping_add(shard * slots) as usize)
                            })
                            .collect();
                        let mut distinct = sets.clone();
                        distinct.sort_unstable();
                        distinct.dedup();
                        assert_eq!(
                            distinct.len(),
                            sets.len(),
                            "{shards} shards, blocks of {counters} counters: shard {shard}'s first \
                             cells of {} consecutive blocks share L1 sets: {sets:?}",
                            sets.len()
                        );
                    }
                }
            }
        }
    }
}

/// Model checks (the `loom` feature; `cargo test -p sockudo-obs-live --lib --features loom -- loom_`): threads add
/// while another reads the counter, by its block and by a scrape's totals.
#[cfg(all(test, feature = "loom"))]
mod loom_tests {
    use super::*;
    use loom::thread;

    /// Adds of 1 per thread.
    const ADDS: u64 = 2;

    /// Two threads add 1 to one counter [`ADDS`] times each, through `add`, while this thread
    /// reads it by its block, then by a scrape's totals, then by its block again: the readings
    /// never go down (each cell only grows, and a thread's later load of a cell never sees an
    /// older value), and once both threads are done every reading is the number of adds.
    ///
    /// Explored with at most 3 preemptions (`LOOM_MAX_PREEMPTIONS` sets another bound): the
    /// exhaustive search takes a minute (200k runs), this one a second.
    fn adds_against_reads(shards: usize, add: fn(&Counters, CounterId)) {
        let mut builder = loom::model::Builder::new();
        builder.preemption_bound.get_or_insert(3);
        builder.check(move || {
            let store = CounterStore::new(shards);
            let (counters, start) = store.allocate(1);
            let id = CounterId(0);
            let adders: Vec<_> = (0..2)
                .map(|_| {
                    let counters = counters.clone();
                    thread::spawn(move || {
                        for _ in 0..ADDS {
                            add(&counters, id);
                        }
                    })
                })
                .collect();
            let first = counters.get(id);
            let scraped = store.totals().get(start);
            let last = counters.get(id);
            assert!(
                first <= scraped && scraped <= last && last <= 2 * ADDS,
                "readings went down or past the adds: {first}, {scraped}, {last}"
            );
            for adder in adders {
                adder.join().unwrap();
            }
            assert_eq!(store.totals().get(start), 2 * ADDS, "an add was lost");
            assert_eq!(counters.get(id), 2 * ADDS, "an add was lost");
        });
    }

    fn add_one(counters: &Counters, id: CounterId) {
        counters.add(id, 1);
    }

    /// One shard: both threads add to the same cell.
    #[test]
    fn loom_adds_to_one_shared_shard_sum_monotonically_to_their_count() {
        adds_against_reads(1, add_one);
    }

    /// Two shards: each thread adds to its own (round-robin), and reads sum both.
    #[test]
    fn loom_adds_to_their_own_shards_sum_monotonically_to_their_count() {
        adds_against_reads(2, add_one);
    }

    /// The check fires: `ShardCells::add` with its `fetch_add` split into a load and a store
    /// loses an add when two threads share the cell, and the model finds the interleaving.
    #[test]
    #[should_panic(expected = "an add was lost")]
    fn loom_a_non_atomic_add_on_a_shared_shard_is_caught() {
        fn racy_add(counters: &Counters, id: CounterId) {
            let shard = counters.this_shard();
            assert!((id.0 as usize) < shard.slots);
            // SAFETY: as in `ShardCells::add`: `id < slots`, inside the block `counters` keeps.
            let cell = unsafe { &*shard.first.add(id.0 as usize) };
            cell.store(cell.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
        }
        adds_against_reads(1, racy_add);
    }
}
