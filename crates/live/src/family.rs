//! One family: the series of one catalogue metric, in our own storage, readable two ways.
//!
//! The series of a family live here, not in a `prometheus::*Vec`: each is a pre-rendered
//! `name{labels}` (`app_id="a",channel_type="public"`, names sorted and values escaped as the text
//! format wants them), kept back to back with the family's other series in one string, and a value
//! [`SeriesValue`] (a counter's index, a gauge, a histogram: one file each). The exposition
//! (`exposition`, a layer above) writes those strings and values straight out; the
//! `FamilyCollector` (`collector`) registered in the `prometheus::Registry` turns them into the protobuf
//! model on `gather()`, so hosts that gather the registry themselves still see every series.
//!
//! Series are appended when handles are resolved, never removed. The exposition orders series by
//! label values, as `Registry::gather` does; appends usually arrive in order, and when they do
//! not the next scrape sorts once (under the write lock, which only resolvers take).

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::{PoisonError, RwLock, RwLockReadGuard};

use prometheus::core::Desc;
use prometheus::proto;

use super::store::Totals;
use super::text::{escape_label_value, label_pairs, FamilyText};
use crate::catalogue::{Kind, MetricDef};

/// What a series reads its value from; one implementation per metric kind.
///
/// Encoding reads and writes in two passes over a chunk of series: [`read`](Self::read) only
/// loads the numbers (so the CPU overlaps the cache misses of many gauges and histograms, which
/// sit in different handles' memory; counters read the scrape's [`Totals`]), then
/// [`write`](Self::write) formats them.
pub(crate) trait SeriesValue: Send + Sync + 'static {
    /// How many numbers [`read`](Self::read) appends per series of `def`.
    fn width(def: &MetricDef) -> usize;
    /// Appends the series' numbers to `numbers`; counters find theirs in `totals`.
    fn read(&self, totals: &Totals, numbers: &mut Vec<u64>);
    /// Appends the sample line(s) of a series whose numbers are `numbers`; `series` is its
    /// `name{labels}` and `labels` the part between the braces.
    fn write(text: &FamilyText, series: &str, labels: &str, numbers: &[u64], out: &mut Vec<u8>);
    /// Sets the value of `metric` (protobuf model) from the series.
    fn fill(&self, totals: &Totals, metric: &mut proto::Metric);
}

/// Series per read/write pass: small enough for their numbers to stay in L1.
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
    /// Every series' rendered `name{labels}` (just `name` without labels), back to back in
    /// `sources` order: one allocation per family, which the encoder reads front to back (the
    /// hardware prefetcher streams it) instead of one allocation per series scattered among the
    /// handles' memory.
    text: String,
    /// Where each series' text ends in `text`; it starts where the previous one ends.
    ends: Vec<u32>,
    sources: Vec<S>,
    /// Whether the series are in exposition order.
    sorted: bool,
}

impl<S> SeriesList<S> {
    fn new() -> Self {
        SeriesList {
            text: String::new(),
            ends: Vec::new(),
            sources: Vec::new(),
            sorted: true,
        }
    }

    fn len(&self) -> usize {
        self.sources.len()
    }

    /// The rendered text of every series, in order.
    fn texts(&self) -> impl Iterator<Item = &str> + '_ {
        split_at_ends(&self.text, &self.ends)
    }

    fn last(&self) -> Option<&str> {
        let end = *self.ends.last()? as usize;
        let start = self
            .ends
            .len()
            .checked_sub(2)
            .map_or(0, |i| self.ends[i] as usize);
        Some(&self.text[start..end])
    }

    fn push(&mut self, series: &str, source: S) {
        self.text.push_str(series);
        let end = u32::try_from(self.text.len()).expect("a family's series text stays under 4 GiB");
        self.ends.push(end);
        self.sources.push(source);
    }
}

impl<S: SeriesValue> Family<S> {
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
            series: RwLock::new(SeriesList::new()),
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
            escape_label_value(values[i], &mut out);
            out.push('"');
        }
        if !self.order.is_empty() {
            out.push('}');
        }
        out.into_boxed_str()
    }

    /// The label set of a rendered series: what is between the braces.
    #[inline]
    fn labels<'s>(&self, series: &'s str) -> &'s str {
        let open = self.text.name().len();
        match series.as_bytes() {
            // The encoder asks this of every series it writes, so it checks two bytes rather
            // than slicing the `str` (two UTF-8 boundary checks and an `Option`: callgrind
            // counted a tenth of `Family::encode`'s own instructions fewer this way).
            [.., b'}'] if series.as_bytes().get(open) == Some(&b'{') => {
                let end = series.len() - 1;
                if open + 1 > end {
                    return "";
                }
                // SAFETY: the bytes at `open` and at `end` are ASCII braces, so `open + 1` and
                // `end` are both char boundaries, and `open + 1 <= end` (checked above: it fails
                // only when the brace at `open` is the last byte, which then is both).
                unsafe { series.get_unchecked(open + 1..end) }
            }
            _ => "",
        }
    }

    /// Adds a series; `rendered` comes from [`render`](Self::render).
    pub(crate) fn push(&self, rendered: &str, source: S) {
        let mut series = self.series.write().unwrap_or_else(PoisonError::into_inner);
        let in_order = series.last().map_or(true, |last| {
            compare_label_values(self.labels(last), self.labels(rendered)) != Ordering::Greater
        });
        series.sorted &= in_order;
        series.push(rendered, source);
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
                // Rebuilt in order, so the encoder still reads the text front to back.
                let old = std::mem::replace(&mut *series, SeriesList::new());
                let mut entries: Vec<(&str, S)> =
                    split_at_ends(&old.text, &old.ends).zip(old.sources).collect();
                entries.sort_by(|a, b| compare_label_values(self.labels(a.0), self.labels(b.0)));
                series.text.reserve_exact(old.text.len());
                series.ends.reserve_exact(entries.len());
                series.sources.reserve_exact(entries.len());
                for (rendered, source) in entries {
                    series.push(rendered, source);
                }
            }
        }
        self.series.read().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The pieces of `text` ending at each of `ends`.
fn split_at_ends<'t>(text: &'t str, ends: &'t [u32]) -> impl Iterator<Item = &'t str> + 't {
    let mut start = 0;
    ends.iter().map(move |&end| {
        let end = end as usize;
        // Checked as bytes, not as a `str` (two UTF-8 boundary checks a series, in the
        // encoder's loop). SAFETY: each end is where a pushed `&str` ended, so a char boundary,
        // and so is `start` (0 or the previous end); `start <= end` because ends only grow.
        let piece = unsafe { std::str::from_utf8_unchecked(&text.as_bytes()[start..end]) };
        start = end;
        piece
    })
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
    fn encode(&self, totals: &Totals, out: &mut Vec<u8>);
    /// The family in the protobuf model; `None` without series.
    fn collect(&self, totals: &Totals) -> Option<proto::MetricFamily>;
    fn series_count(&self) -> usize;
}

impl<S: SeriesValue> AnyFamily for Family<S> {
    fn name(&self) -> &str {
        self.text.name()
    }

    fn desc(&self) -> &Desc {
        &self.desc
    }

    fn encode(&self, totals: &Totals, out: &mut Vec<u8>) {
        let series = self.sorted();
        if series.len() == 0 {
            return;
        }
        out.extend_from_slice(self.text.header());
        let width = S::width(self.def);
        let mut numbers = Vec::with_capacity(CHUNK * width);
        let mut texts = series.texts();
        for sources in series.sources.chunks(CHUNK) {
            numbers.clear();
            for source in sources {
                source.read(totals, &mut numbers);
            }
            // Numbers first: `zip` pulls from its left side first, and stops when that ends.
            for (numbers, rendered) in numbers.chunks_exact(width).zip(texts.by_ref()) {
                S::write(&self.text, rendered, self.labels(rendered), numbers, out);
            }
        }
    }

    fn collect(&self, totals: &Totals) -> Option<proto::MetricFamily> {
        let series = self.sorted();
        if series.len() == 0 {
            return None;
        }
        let metrics = series
            .texts()
            .zip(&series.sources)
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
                source.fill(totals, &mut metric);
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
        self.series.read().unwrap_or_else(PoisonError::into_inner).len()
    }
}
