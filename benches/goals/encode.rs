//! Goal 3: scrape encoding against a hand-written writer and three crates.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use prometheus::proto::{MetricFamily, MetricType};
use prometheus::Encoder;
use sockudo_obs::live::{AdapterOperation, ChannelType, Metrics};
use sockudo_obs::MetricsConfig;

use crate::harness::{ms, ratio, uncapped, Report, Timing, SIZES};
use crate::mirrors::{ClientMirror, ExporterMirror, PromMirror};

/// A data set of about `series` series across the catalogue: per unit one app (54 scalar series
/// and a histogram) and one adapter (12 counters and 6 histograms), so about a tenth of the
/// series are histograms.
pub fn dataset(series: usize) -> Metrics {
    let units = series.div_ceil(73);
    let limits = uncapped();
    let metrics = Metrics::builder(&MetricsConfig::default())
        .limits(limits)
        .build()
        .unwrap();
    for i in 0..units {
        let app = metrics.app(&format!("app-{i:06}"));
        app.connection_opened();
        app.messages_sent(ChannelType::Public, i as u64 * 31);
        app.message_received(ChannelType::Private);
        let adapter = metrics.adapter(&format!("node-{i:06}"));
        adapter.operation(AdapterOperation::Broadcast, Duration::from_micros(300 + i as u64));
    }
    metrics
}

pub fn encoding(timing: &Timing, report: &mut Report) {
    println!("\n## 3. Scrape encoding (ms per scrape; ratio to the hand-written writer)");
    println!("| series | sockudo-obs | hand-written | prometheus gather+TextEncoder | prometheus-client | metrics-exporter-prometheus | ours ÷ hand-written (bests; median of the paired runs) |");
    println!("|---|---|---|---|---|---|---|");
    for (label, n) in SIZES {
        let metrics = dataset(n);
        let snapshot = metrics.registry().gather();
        let series = metrics.series_count();
        let hand = Handwritten::new(&snapshot);
        let prom = PromMirror::new(&snapshot);
        let client = ClientMirror::new(&snapshot);
        let exporter = ExporterMirror::new(&snapshot);
        let reps = timing.scrape_reps();
        let slow_reps = if timing.quick && n >= 100_000 { 1 } else { reps };
        let (mut out, mut hand_out) = (Vec::new(), Vec::new());
        // Twice the repetitions, in alternating pairs: the goal is the ratio of the bests.
        let (ours, handwritten, median) = timing.paired(
            2 * reps + 1,
            (&mut out, |out: &mut Vec<u8>| metrics.encode_to(out).unwrap()),
            (&mut hand_out, |out: &mut Vec<u8>| hand.encode(out)),
        );
        let prometheus = timing.best_of(slow_reps, || {
            let mut buf = Vec::new();
            prometheus::TextEncoder::new()
                .encode(&prom.registry.gather(), &mut buf)
                .unwrap();
            buf.len()
        });
        let prometheus_client = timing.best_of(slow_reps, || {
            let mut buf = String::new();
            prometheus_client::encoding::text::encode(&mut buf, &client.registry).unwrap();
            buf.len()
        });
        let metrics_exporter = timing.best_of(slow_reps, || exporter.handle.render().len());
        let r = ours.as_secs_f64() / handwritten.as_secs_f64();
        assert!(out == hand_out, "the hand-written writer writes the same bytes");
        println!(
            "| {series} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {}; {} |",
            ms(ours),
            ms(handwritten),
            ms(prometheus),
            ms(prometheus_client),
            ms(metrics_exporter),
            ratio(r),
            ratio(median)
        );
        let ahead = ours < prometheus && ours < prometheus_client && ours < metrics_exporter;
        // At 100k (the size that matters for a big server) the bar is 1.5x, issue 14's.
        let (bar, target) = if n >= 100_000 {
            (1.5, "<= 1.50x hand-written, ahead of the three crates")
        } else {
            (2.0, "<= 2.00x hand-written, ahead of the three crates")
        };
        report.goal(&format!("encode_{label}"), ratio(r), target, r <= bar && ahead);
    }
}

/// The hand-written baseline: the same series as pre-rendered strings and plain atomics, in a few
/// arrays, written with `itoa` (and `f64`'s `Display` for the sums that are not whole numbers,
/// as `TextEncoder` writes them). Its output is byte for byte ours, which the run asserts.
struct Handwritten {
    families: Vec<(Vec<u8>, Vec<u8>, HwKind)>,
}

enum HwKind {
    Scalar(Vec<(Vec<u8>, AtomicU64)>),
    Histogram {
        le: Vec<Vec<u8>>,
        series: Vec<(Vec<u8>, Vec<AtomicU64>, AtomicU64, AtomicU64)>,
    },
}

fn rendered_labels(m: &prometheus::proto::Metric) -> String {
    m.get_label()
        .iter()
        .map(|p| format!("{}=\"{}\"", p.name(), p.value()))
        .collect::<Vec<_>>()
        .join(",")
}

impl Handwritten {
    fn new(snapshot: &[MetricFamily]) -> Handwritten {
        let families = snapshot
            .iter()
            .map(|mf| {
                let name = mf.name();
                let header = format!(
                    "# HELP {name} {}\n# TYPE {name} {}\n",
                    mf.help(),
                    format!("{:?}", mf.get_field_type()).to_lowercase()
                )
                .into_bytes();
                let kind = match mf.get_field_type() {
                    MetricType::HISTOGRAM => HwKind::Histogram {
                        le: mf.get_metric()[0]
                            .get_histogram()
                            .get_bucket()
                            .iter()
                            .map(|b| b.upper_bound().to_string())
                            .chain(["+Inf".to_string()])
                            .map(|le| format!("le=\"{le}\"}} ").into_bytes())
                            .collect(),
                        series: mf
                            .get_metric()
                            .iter()
                            .map(|m| {
                                let h = m.get_histogram();
                                // The per-bucket counts behind the cumulative ones, `+Inf` last.
                                let mut below = 0;
                                let counts = h
                                    .get_bucket()
                                    .iter()
                                    .map(|b| b.cumulative_count())
                                    .chain([h.get_sample_count()])
                                    .map(|cumulative| {
                                        AtomicU64::new(cumulative - std::mem::replace(&mut below, cumulative))
                                    })
                                    .collect();
                                (
                                    rendered_labels(m).into_bytes(),
                                    counts,
                                    AtomicU64::new(h.get_sample_sum().to_bits()),
                                    AtomicU64::new(h.get_sample_count()),
                                )
                            })
                            .collect(),
                    },
                    _ => HwKind::Scalar(
                        mf.get_metric()
                            .iter()
                            .map(|m| {
                                let value = m.get_counter().get_value().max(m.get_gauge().get_value());
                                let prefix = format!("{name}{{{}}} ", rendered_labels(m)).into_bytes();
                                (prefix, AtomicU64::new(value as u64))
                            })
                            .collect(),
                    ),
                };
                (name.as_bytes().to_vec(), header, kind)
            })
            .collect();
        Handwritten { families }
    }

    // Not inlined into the timing loop, so a callgrind profile names it (one call per scrape).
    #[inline(never)]
    fn encode(&self, out: &mut Vec<u8>) {
        let mut buf = itoa::Buffer::new();
        for (name, header, kind) in &self.families {
            out.extend_from_slice(header);
            match kind {
                HwKind::Scalar(series) => {
                    for (prefix, value) in series {
                        out.extend_from_slice(prefix);
                        out.extend_from_slice(buf.format(value.load(Ordering::Relaxed)).as_bytes());
                        out.push(b'\n');
                    }
                }
                HwKind::Histogram { le, series } => {
                    for (labels, counts, sum, count) in series {
                        let mut running = 0;
                        for (le, c) in le.iter().zip(counts) {
                            running += c.load(Ordering::Relaxed);
                            out.extend_from_slice(name);
                            out.extend_from_slice(b"_bucket{");
                            out.extend_from_slice(labels);
                            out.push(b',');
                            out.extend_from_slice(le);
                            out.extend_from_slice(buf.format(running).as_bytes());
                            out.push(b'\n');
                        }
                        out.extend_from_slice(name);
                        out.extend_from_slice(b"_sum{");
                        out.extend_from_slice(labels);
                        out.extend_from_slice(b"} ");
                        write_float(f64::from_bits(sum.load(Ordering::Relaxed)), &mut buf, out);
                        out.push(b'\n');
                        out.extend_from_slice(name);
                        out.extend_from_slice(b"_count{");
                        out.extend_from_slice(labels);
                        out.extend_from_slice(b"} ");
                        out.extend_from_slice(buf.format(count.load(Ordering::Relaxed)).as_bytes());
                        out.push(b'\n');
                    }
                }
            }
        }
    }
}

/// Writes `value` as `TextEncoder` does (`f64`'s `Display`), whole numbers (most sums of a
/// scrape: 0 before the first observation) through `itoa`.
fn write_float(value: f64, buf: &mut itoa::Buffer, out: &mut Vec<u8>) {
    if value.fract() == 0.0 && value.abs() < (1u64 << 53) as f64 {
        out.extend_from_slice(buf.format(value as i64).as_bytes());
    } else {
        write!(out, "{value}").unwrap();
    }
}
