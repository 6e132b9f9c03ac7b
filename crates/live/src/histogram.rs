//! Histograms: per-bucket counts and a running sum, encoded cumulatively at scrape time.
//!
//! Each observation adds to exactly one (non-cumulative) bucket, the last one standing for `+Inf`,
//! so the exposed `_count` is the sum of the buckets and always equals the `+Inf` bucket, even
//! when a scrape races an observation. The sum is an `f64` updated by compare-and-swap; a scrape
//! may see it one observation ahead of or behind the buckets, which Prometheus tolerates.
//! Histograms record HTTP requests, jobs, webhooks and adapter round trips, not every message, so
//! they are not sharded.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use prometheus::proto;

use super::family::{Family, SeriesValue};
use super::store::Totals;
use super::text::{write_f64, write_u64, FamilyText};
use crate::catalogue::MetricDef;

/// A histogram series. Cloning is an `Arc` clone.
#[derive(Clone)]
pub(crate) struct Histogram {
    /// The catalogue's upper bounds, ascending, without `+Inf`.
    bounds: &'static [f64],
    /// One count per bound, one for `+Inf`, then the `f64` bits of the sum of observations: one
    /// allocation, so a scrape reads a series with one miss rather than two.
    cells: Arc<[AtomicU64]>,
}

impl Histogram {
    /// An empty histogram, registered as the series of `family` with `values`.
    pub(crate) fn register(family: &Family<Histogram>, values: &[&str]) -> Histogram {
        let bounds = family.def().buckets;
        let histogram = Histogram {
            bounds,
            // Zero counts, and 0.0's bits are zero too.
            cells: (0..bounds.len() + 2).map(|_| AtomicU64::new(0)).collect(),
        };
        family.push(&family.render(values), histogram.clone());
        histogram
    }

    /// The per-bucket counts (`+Inf` last) and the sum's bits.
    fn split(&self) -> (&[AtomicU64], &AtomicU64) {
        let (sum, counts) = self.cells.split_last().expect("a sum and at least +Inf");
        (counts, sum)
    }

    /// Records `value` in the first bucket whose bound is at least `value` (Prometheus's `le`).
    pub(crate) fn observe(&self, value: f64) {
        let (counts, sum) = self.split();
        // NaN fails every comparison and lands in +Inf, as in the prometheus crate.
        let bucket = self.bounds.partition_point(|&bound| bound < value);
        counts[bucket].fetch_add(1, Ordering::Relaxed);
        let mut old = sum.load(Ordering::Relaxed);
        loop {
            let new = (f64::from_bits(old) + value).to_bits();
            match sum.compare_exchange_weak(old, new, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => break,
                Err(current) => old = current,
            }
        }
    }

    /// Cumulative counts, one per bound plus `+Inf` (the total), and the sum.
    fn snapshot(&self, cumulative: &mut Vec<u64>) -> f64 {
        let (counts, sum) = self.split();
        cumulative.clear();
        let mut running = 0u64;
        for count in counts {
            running = running.saturating_add(count.load(Ordering::Relaxed));
            cumulative.push(running);
        }
        f64::from_bits(sum.load(Ordering::Relaxed))
    }
}

impl SeriesValue for Histogram {
    /// One count per bucket (`+Inf` included), then the sum's bits.
    fn width(def: &MetricDef) -> usize {
        def.buckets.len() + 2
    }

    fn read(&self, _: &Totals, numbers: &mut Vec<u64>) {
        numbers.extend(self.cells.iter().map(|c| c.load(Ordering::Relaxed)));
    }

    fn write(text: &FamilyText, _: &str, labels: &str, numbers: &[u64], out: &mut Vec<u8>) {
        let (sum, counts) = numbers.split_last().expect("width is at least 2");
        // Every bucket line starts with `name_bucket{labels,`: written once, for the first,
        // and copied from there for the others (one copy a line instead of three).
        let first = out.len();
        text.bucket_start(labels, out);
        let line_start = first..out.len();
        // Cumulate while writing: `_count` is the last (`+Inf`) bucket.
        let mut running = 0u64;
        for (i, (le, &count)) in text.bucket_labels().iter().zip(counts).enumerate() {
            if i > 0 {
                out.extend_from_within(line_start.clone());
            }
            running = running.wrapping_add(count);
            out.extend_from_slice(le);
            write_u64(running, out);
            out.push(b'\n');
        }
        text.sum_start(labels, out);
        write_f64(f64::from_bits(*sum), out);
        out.push(b'\n');
        text.count_start(labels, out);
        write_u64(running, out);
        out.push(b'\n');
    }

    fn fill(&self, _: &Totals, metric: &mut proto::Metric) {
        let mut cumulative = Vec::new();
        let sum = self.snapshot(&mut cumulative);
        let buckets = self
            .bounds
            .iter()
            .zip(&cumulative)
            .map(|(&bound, &count)| {
                let mut bucket = proto::Bucket::default();
                bucket.set_upper_bound(bound);
                bucket.set_cumulative_count(count);
                bucket
            })
            .collect();
        let mut histogram = proto::Histogram::default();
        histogram.set_sample_count(cumulative.last().copied().unwrap_or(0));
        histogram.set_sample_sum(sum);
        histogram.set_bucket(buckets);
        metric.set_histogram(histogram);
    }
}
