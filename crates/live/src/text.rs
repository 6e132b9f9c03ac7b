//! Text format 0.0.4 primitives: a family's fixed bytes, number formatting, label escaping.
//!
//! Everything here prints exactly as the `prometheus` crate's `TextEncoder` does, so the
//! exposition written from our own storage is byte for byte its output.

use std::borrow::Cow;
use std::io::Write as _;

use crate::catalogue::{Kind, MetricDef};

/// The bytes of a family that never change: name, HELP/TYPE header, histogram `le` fragments.
pub(crate) struct FamilyText {
    name: Box<str>,
    header: Box<[u8]>,
    /// A histogram's lines up to their labels, `name_bucket{`, `name_sum{` and `name_count{`,
    /// so each line's name and suffix are one copy.
    bucket_open: Box<[u8]>,
    sum_open: Box<[u8]>,
    count_open: Box<[u8]>,
    /// `le="0.005"} ` ... `le="+Inf"} ` for histograms; empty otherwise.
    buckets: Box<[Box<[u8]>]>,
}

impl FamilyText {
    pub(crate) fn new(def: &MetricDef, name: &str) -> FamilyText {
        let mut help = String::new();
        escape(def.help, false, &mut help);
        let header = format!("# HELP {name} {help}\n# TYPE {name} {}\n", def.kind.as_str());
        let buckets = match def.kind {
            // `to_string` is how `TextEncoder` formats bounds.
            Kind::Histogram => def
                .buckets
                .iter()
                .map(|b| b.to_string())
                .chain(["+Inf".to_string()])
                .map(|le| format!("le=\"{le}\"}} ").into_bytes().into_boxed_slice())
                .collect(),
            _ => Box::default(),
        };
        FamilyText {
            name: name.into(),
            header: header.into_bytes().into(),
            bucket_open: format!("{name}_bucket{{").into_bytes().into(),
            sum_open: format!("{name}_sum{{").into_bytes().into(),
            count_open: format!("{name}_count{{").into_bytes().into(),
            buckets,
        }
    }

    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn header(&self) -> &[u8] {
        &self.header
    }

    pub(crate) fn bucket_labels(&self) -> &[Box<[u8]>] {
        &self.buckets
    }

    /// `name_sum{labels} `, up to the value.
    #[inline]
    pub(crate) fn sum_start(&self, labels: &str, out: &mut Vec<u8>) {
        labelled_start(&self.sum_open, labels, out);
    }

    /// `name_count{labels} `, up to the value.
    #[inline]
    pub(crate) fn count_start(&self, labels: &str, out: &mut Vec<u8>) {
        labelled_start(&self.count_open, labels, out);
    }

    /// `name_bucket{labels,`: what every bucket line of a series starts with, before its `le`.
    #[inline]
    pub(crate) fn bucket_start(&self, labels: &str, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.bucket_open);
        if !labels.is_empty() {
            out.extend_from_slice(labels.as_bytes());
            out.push(b',');
        }
    }
}

/// `open` (a line's name and `{`), then `labels} `; with no labels, the name and a space.
#[inline]
fn labelled_start(open: &[u8], labels: &str, out: &mut Vec<u8>) {
    if labels.is_empty() {
        out.extend_from_slice(&open[..open.len() - 1]);
        out.push(b' ');
    } else {
        out.extend_from_slice(open);
        out.extend_from_slice(labels.as_bytes());
        out.extend_from_slice(b"} ");
    }
}

/// Integers up to 2^53 print the same as the `f64` `TextEncoder` is given; past that, print
/// that `f64`, rounding included.
const EXACT: u64 = 1 << 53;

#[inline]
pub(crate) fn write_u64(value: u64, out: &mut Vec<u8>) {
    if value < EXACT {
        out.extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
    } else {
        write_f64(value as f64, out);
    }
}

#[inline]
pub(crate) fn write_i64(value: i64, out: &mut Vec<u8>) {
    if value.unsigned_abs() < EXACT {
        out.extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
    } else {
        write_f64(value as f64, out);
    }
}

/// As `f64::to_string`, which `TextEncoder` uses; integral values take the integer fast path.
pub(crate) fn write_f64(value: f64, out: &mut Vec<u8>) {
    if value.fract() == 0.0 && value.abs() < EXACT as f64 && !(value == 0.0 && value.is_sign_negative()) {
        out.extend_from_slice(itoa::Buffer::new().format(value as i64).as_bytes());
    } else {
        // Writing to a Vec cannot fail.
        let _ = write!(out, "{value}");
    }
}

/// Escapes a label value as the text format (and `TextEncoder`) does: `\`, `"` and newline.
pub(crate) fn escape_label_value(value: &str, out: &mut String) {
    escape(value, true, out);
}

fn escape(value: &str, quotes: bool, out: &mut String) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '"' if quotes => out.push_str("\\\""),
            c => out.push(c),
        }
    }
}

/// The `(name, value)` pairs of a rendered label set, values unescaped.
pub(crate) fn label_pairs(rendered: &str) -> impl Iterator<Item = (&str, Cow<'_, str>)> {
    let mut rest = rendered;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let (name, after) = rest.split_once("=\"")?;
        let bytes = after.as_bytes();
        // The closing quote is the first one not escaped by a backslash.
        let mut end = 0;
        let mut escaped = false;
        while end < bytes.len() {
            if escaped {
                escaped = false;
            } else if bytes[end] == b'\\' {
                escaped = true;
            } else if bytes[end] == b'"' {
                break;
            }
            end += 1;
        }
        let raw = &after[..end];
        rest = after.get(end + 2..).unwrap_or("");
        Some((name, unescape(raw)))
    })
}

fn unescape(raw: &str) -> Cow<'_, str> {
    if memchr::memchr(b'\\', raw.as_bytes()).is_none() {
        return Cow::Borrowed(raw);
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        match (c, c == '\\') {
            (_, true) => match chars.next() {
                Some('n') => out.push('\n'),
                Some(other) => out.push(other),
                None => {}
            },
            (c, false) => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_pairs_round_trip_escapes() {
        let mut rendered = String::from("a=\"");
        escape_label_value("x\"y\\z\nw\\", &mut rendered);
        rendered.push_str("\",b=\"\",c=\"plain\"");
        let pairs: Vec<_> = label_pairs(&rendered).collect();
        assert_eq!(
            pairs,
            [
                ("a", Cow::Owned("x\"y\\z\nw\\".to_string())),
                ("b", Cow::Borrowed("")),
                ("c", Cow::Borrowed("plain"))
            ]
        );
    }

    #[test]
    fn histogram_lines_start_as_the_text_format_writes_them() {
        let text = FamilyText::new(crate::catalogue::MetricId::HttpRequestDuration.def(), "x_h");
        let starts = |labels: &str| {
            let (mut bucket, mut sum, mut count) = (Vec::new(), Vec::new(), Vec::new());
            text.bucket_start(labels, &mut bucket);
            text.sum_start(labels, &mut sum);
            text.count_start(labels, &mut count);
            [bucket, sum, count].map(|line| String::from_utf8(line).unwrap())
        };
        assert_eq!(
            starts("a=\"1\""),
            ["x_h_bucket{a=\"1\",", "x_h_sum{a=\"1\"} ", "x_h_count{a=\"1\"} "]
        );
        assert_eq!(starts(""), ["x_h_bucket{", "x_h_sum ", "x_h_count "]);
    }

    #[test]
    fn numbers_print_as_the_prometheus_crate_prints_them() {
        for v in [
            0.0,
            -0.0,
            1.0,
            -3.0,
            0.1,
            1e-7,
            123456.789,
            9007199254740993.0,
            f64::NAN,
            f64::INFINITY,
        ] {
            let mut out = Vec::new();
            write_f64(v, &mut out);
            assert_eq!(String::from_utf8(out).unwrap(), v.to_string(), "{v}");
        }
        for v in [0, 7, (1 << 53) - 1, 1 << 53, u64::MAX] {
            let mut out = Vec::new();
            write_u64(v, &mut out);
            assert_eq!(String::from_utf8(out).unwrap(), (v as f64).to_string(), "{v}");
        }
        for v in [-5i64, i64::MIN, 1 << 60] {
            let mut out = Vec::new();
            write_i64(v, &mut out);
            assert_eq!(String::from_utf8(out).unwrap(), (v as f64).to_string(), "{v}");
        }
    }
}
