//! A family: the series of one catalogue metric, in our own storage, readable two ways.
//!
//! The series of a family live here, not in a `prometheus::*Vec`: each is a pre-rendered label
//! set (`app_id="a",channel_type="public"`, names sorted and values escaped as the text format
//! wants them) and a value [`Source`] (a counter cell, a gauge, a histogram: one file each). The
//! fast encoder ([`super::encode`]) writes those strings and values straight out; the
//! [`FamilyCollector`] registered in the `prometheus::Registry` turns them into the protobuf
//! model on `gather()`, so hosts that gather the registry themselves still see every series.
//!
//! Series are appended when handles are resolved, never removed. The exposition orders series by
//! label values, as `Registry::gather` does; appends usually arrive in order, and when they do
//! not the next scrape sorts once (under the write lock, which only resolvers take).

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard};

use prometheus::core::{Collector, Desc};
use prometheus::proto;

use super::encode::{self, label_pairs, FamilyText};
use crate::catalogue::{Kind, MetricDef};

/// What a series reads its value from; one implementation per metric kind.
///
/// Encoding reads and writes in two passes over a chunk of series: [`read`](Self::read) only
/// loads the numbers (so the CPU overlaps the cache misses of many series, which sit in
/// different handles' memory), then [`write`](Self::write) formats them.
pub(crate) trait Source: Send + Sync + 'static {
    /// How many numbers [`read`](Self::read) appends per series of `def`.
    fn width(def: &MetricDef) -> usize;
    /// Appends the series' numbers to `numbers`.
    fn read(&self, numbers: &mut Vec<u64>);
    /// Appends the sample line(s) of a series whose numbers are `numbers`; `series` is its
    /// `name{labels}` and `labels` the part between the braces.
    fn write(text: &FamilyText, series: &str, labels: &str, numbers: &[u64], out: &mut Vec<u8>);
    /// Sets the value of `metric` (protobuf model) from the series.
    fn fill(&self, metric: &mut proto::Metric);
}

/// Series per read/write pass: small enough for their numbers and labels to stay in L1/L2.
const CHUNK: usize = 128;

/// One catalogue metric and its series.
pub(crate) struct Family<S> {
    def: &'static MetricDef,
    text: FamilyText,
    desc: Desc,
    /// Positions of the catalogue's labels, ordered by label name (the exposed order).
    order: Box<[usize]>,
    series: RwLock<SeriesList<S>>,
}

struct SeriesList<S> {
    /// Rendered `name{labels}` (just `name` without labels) and value source.
    list: Vec<(Box<str>, S)>,
    /// Whether `list` is in exposition order.
    sorted: bool,
}

impl<S: Source> Family<S> {
    /// The family of `def`, named `prefix + name`; fails when that is not a valid metric name.
    pub(crate) fn new(def: &'static MetricDef, prefix: &str) -> prometheus::Result<Family<S>> {
        let name = def.full_name(prefix);
        let labels = def.label_names().map(String::from).collect();
        let desc = Desc::new(name.clone(), def.help.to_string(), labels, HashMap::new())?;
        let mut order: Vec<usize> = (0..def.labels.len()).collect();
        order.sort_by_key(|&i| def.labels[i].name);
        Ok(Family {
            def,
            text: FamilyText::new(def, &name),
            desc,
            order: order.into(),
            series: RwLock::new(SeriesList {
                list: Vec::new(),
                sorted: true,
            }),
        })
    }

    pub(crate) fn def(&self) -> &'static MetricDef {
        self.def
    }

    /// The exposed series `name{labels}` for label `values`, given in the catalogue's label
    /// order. Rendered whole, so a counter's sample line is one copy and a number.
    pub(crate) fn render(&self, values: &[&str]) -> Box<str> {
        assert_eq!(values.len(), self.order.len(), "{}: label count", self.def.name);
        let mut out = String::from(self.text.name());
        for (n, &i) in self.order.iter().enumerate() {
            out.push(if n == 0 { '{' } else { ',' });
            out.push_str(self.def.labels[i].name);
            out.push_str("=\"");
            encode::escape_label_value(values[i], &mut out);
            out.push('"');
        }
        if !self.order.is_empty() {
            out.push('}');
        }
        out.into_boxed_str()
    }

    /// The label set of a rendered series: what is between the braces.
    fn labels<'s>(&self, series: &'s str) -> &'s str {
        series
            .get(self.text.name().len() + 1..series.len() - 1)
            .unwrap_or("")
    }

    /// Adds a series; `labels` comes from [`render`](Self::render).
    pub(crate) fn push(&self, labels: Box<str>, source: S) {
        let mut series = self.series.write().unwrap_or_else(PoisonError::into_inner);
        let in_order = series.list.last().map_or(true, |(last, _)| {
            compare_label_values(self.labels(last), self.labels(&labels)) != Ordering::Greater
        });
        series.sorted &= in_order;
        series.list.push((labels, source));
    }

    /// The series, in exposition order.
    fn sorted(&self) -> RwLockReadGuard<'_, SeriesList<S>> {
        let series = self.series.read().unwrap_or_else(PoisonError::into_inner);
        if series.sorted {
            return series;
        }
        drop(series);
        {
            let mut series = self.series.write().unwrap_or_else(PoisonError::into_inner);
            if !series.sorted {
                series
                    .list
                    .sort_by(|a, b| compare_label_values(self.labels(&a.0), self.labels(&b.0)));
                series.sorted = true;
            }
        }
        self.series.read().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Orders two rendered label sets of one family by their values, as `Registry::gather` does.
fn compare_label_values(a: &str, b: &str) -> Ordering {
    label_pairs(a).map(|(_, v)| v).cmp(label_pairs(b).map(|(_, v)| v))
}

/// A family of whichever kind, as the encoder and the registry see it.
pub(crate) trait AnyFamily: Send + Sync {
    fn name(&self) -> &str;
    fn desc(&self) -> &Desc;
    /// Appends the family (HELP, TYPE, samples) unless it has no series.
    fn encode(&self, out: &mut Vec<u8>);
    /// The family in the protobuf model; `None` without series.
    fn collect(&self) -> Option<proto::MetricFamily>;
    fn series_count(&self) -> usize;
}

impl<S: Source> AnyFamily for Family<S> {
    fn name(&self) -> &str {
        self.text.name()
    }

    fn desc(&self) -> &Desc {
        &self.desc
    }

    fn encode(&self, out: &mut Vec<u8>) {
        let series = self.sorted();
        if series.list.is_empty() {
            return;
        }
        out.extend_from_slice(self.text.header());
        let width = S::width(self.def);
        let mut numbers = Vec::with_capacity(CHUNK * width);
        for chunk in series.list.chunks(CHUNK) {
            numbers.clear();
            // Touching each label set here pulls it in while the loads are in flight anyway.
            let mut touched = 0u8;
            for (labels, source) in chunk {
                source.read(&mut numbers);
                touched ^= labels.as_bytes().first().copied().unwrap_or(0);
            }
            std::hint::black_box(touched);
            for ((series, _), numbers) in chunk.iter().zip(numbers.chunks_exact(width)) {
                S::write(&self.text, series, self.labels(series), numbers, out);
            }
        }
    }

    fn collect(&self) -> Option<proto::MetricFamily> {
        let series = self.sorted();
        if series.list.is_empty() {
            return None;
        }
        let metrics = series
            .list
            .iter()
            .map(|(series, source)| {
                let pairs = label_pairs(self.labels(series))
                    .map(|(name, value)| {
                        let mut pair = proto::LabelPair::default();
                        pair.set_name(name.to_string());
                        pair.set_value(value.into_owned());
                        pair
                    })
                    .collect();
                let mut metric = proto::Metric::from_label(pairs);
                source.fill(&mut metric);
                metric
            })
            .collect();
        let mut family = proto::MetricFamily::default();
        family.set_name(self.text.name().to_string());
        family.set_help(self.def.help.to_string());
        family.set_field_type(match self.def.kind {
            Kind::Counter => proto::MetricType::COUNTER,
            Kind::Gauge => proto::MetricType::GAUGE,
            Kind::Histogram => proto::MetricType::HISTOGRAM,
        });
        family.set_metric(metrics);
        Some(family)
    }

    fn series_count(&self) -> usize {
        self.series
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .list
            .len()
    }
}

/// Registers a family in a `prometheus::Registry`: `gather()` collects it like any other metric,
/// except while its owner's fast encoder gathers the *other* collectors (see
/// [`encode::gather_others`]), when it stays silent because the encoder writes it directly.
pub(crate) struct FamilyCollector {
    pub(crate) family: Arc<dyn AnyFamily>,
    /// The [`encode::Owner`] of the `Metrics` the family belongs to.
    pub(crate) owner: encode::Owner,
}

impl Collector for FamilyCollector {
    fn desc(&self) -> Vec<&Desc> {
        vec![self.family.desc()]
    }

    fn collect(&self) -> Vec<proto::MetricFamily> {
        if encode::is_muted(self.owner) {
            return Vec::new();
        }
        self.family.collect().into_iter().collect()
    }
}
