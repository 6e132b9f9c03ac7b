//! Gauges: one atomic integer per series, shared by the handle and the family.
//!
//! Gauges are not sharded: they move on connects, subscriptions and job starts rather than per
//! message, and `set` (a queue depth, a cache size) needs the one cell to hold the whole value.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use prometheus::proto;

use super::family::{Family, SeriesValue};
use super::store::Totals;
use super::text::{write_i64, FamilyText};
use crate::catalogue::MetricDef;

/// A gauge series. Cloning is an `Arc` clone.
#[derive(Clone)]
pub(crate) struct Gauge(Arc<AtomicI64>);

impl Gauge {
    /// A gauge at 0, registered as the series of `family` with `values` (catalogue label order).
    pub(crate) fn register(family: &Family<Gauge>, values: &[&str]) -> Gauge {
        let gauge = Gauge(Arc::default());
        family.push(&family.render(values), gauge.clone());
        gauge
    }

    #[inline]
    pub(crate) fn inc(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    #[inline]
    pub(crate) fn dec(&self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }

    pub(crate) fn set(&self, value: i64) {
        self.0.store(value, Ordering::Relaxed);
    }

    fn get(&self) -> i64 {
        self.0.load(Ordering::Relaxed)
    }
}

impl SeriesValue for Gauge {
    fn width(_: &MetricDef) -> usize {
        1
    }

    fn read(&self, _: &Totals, numbers: &mut Vec<u64>) {
        // Carried as the bits of the i64.
        numbers.push(self.get() as u64);
    }

    fn write(_: &FamilyText, series: &str, _: &str, numbers: &[u64], out: &mut Vec<u8>) {
        out.extend_from_slice(series.as_bytes());
        out.push(b' ');
        write_i64(numbers[0] as i64, out);
        out.push(b'\n');
    }

    fn fill(&self, _: &Totals, metric: &mut proto::Metric) {
        let mut gauge = proto::Gauge::default();
        gauge.set_value(self.get() as f64);
        metric.set_gauge(gauge);
    }
}
