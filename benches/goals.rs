//! `cargo bench --bench goals`: every performance goal of the live registry, measured in one run
//! on one machine, each as a ratio against a baseline measured in the same run (the machine is
//! shared and noisy, so absolute figures drift; ratios hold). Ends with one line per goal:
//! `goal <name>: <ratio> (target <t>) met|missed`.
//!
//! `GOALS_QUICK=1` runs short loops (a few seconds in all) for CI; it always exits 0, because
//! quick figures are noisy. A full run exits 1 when a goal (not a stretch goal) is missed.
//!
//! Timing: each figure is the best of several repetitions of a loop sized to a fixed duration;
//! the best is the run least disturbed by other processes.

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::HashMap;
use std::hint::black_box;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicIsize, AtomicU64, Ordering};
use std::sync::Barrier;
use std::time::{Duration, Instant};

use prometheus::proto::{MetricFamily, MetricType};
use prometheus::{
    CounterVec, Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry,
};
use sockudo_obs::live::{AdapterOperation, AppMetrics, ChannelType, Exporter, Limits, Metrics};
use sockudo_obs::MetricsConfig;

#[path = "goals/gzip.rs"]
mod gzip;
#[path = "goals/real_server.rs"]
mod real_server;

// --- Allocation accounting (memory per series) ---------------------------------------------------

/// Counts live heap bytes while `COUNTING` is set.
struct CountingAlloc;

static COUNTING: AtomicBool = AtomicBool::new(false);
static LIVE_BYTES: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            LIVE_BYTES.fetch_add(layout.size() as isize, Ordering::Relaxed);
        }
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if COUNTING.load(Ordering::Relaxed) {
            LIVE_BYTES.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        }
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            LIVE_BYTES.fetch_add(new_size as isize - layout.size() as isize, Ordering::Relaxed);
        }
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

/// Heap bytes `f` leaves allocated (what it returns is kept alive by the caller).
fn retained_bytes<T>(f: impl FnOnce() -> T) -> (T, isize) {
    LIVE_BYTES.store(0, Ordering::Relaxed);
    COUNTING.store(true, Ordering::Relaxed);
    let value = f();
    COUNTING.store(false, Ordering::Relaxed);
    (value, LIVE_BYTES.load(Ordering::Relaxed))
}

// --- Timing ------------------------------------------------------------------------------------

struct Timing {
    quick: bool,
}

impl Timing {
    fn target(&self) -> Duration {
        Duration::from_millis(if self.quick { 15 } else { 200 })
    }

    fn reps(&self) -> usize {
        if self.quick {
            3
        } else {
            7
        }
    }

    /// How many calls of `batch` take about the target duration.
    fn calibrate(&self, batch: &impl Fn()) -> u64 {
        let mut n = 1u64;
        loop {
            let start = Instant::now();
            (0..n).for_each(|_| batch());
            let took = start.elapsed();
            if took >= self.target() / 4 {
                let scale = self.target().as_secs_f64() / took.as_secs_f64();
                return ((n as f64 * scale) as u64).max(1);
            }
            n *= 2;
        }
    }

    /// Nanoseconds per op of `batch` (which does `ops` ops) on one thread.
    fn one_thread(&self, ops: u64, batch: impl Fn()) -> f64 {
        let n = self.calibrate(&batch);
        (0..self.reps())
            .map(|_| {
                let start = Instant::now();
                (0..n).for_each(|_| batch());
                start.elapsed().as_nanos() as f64 / (n * ops) as f64
            })
            .fold(f64::INFINITY, f64::min)
    }

    /// Nanoseconds per op per thread of `batch` run by two threads at once.
    fn two_threads(&self, ops: u64, batch: impl Fn() + Sync) -> f64 {
        let n = self.calibrate(&batch);
        (0..self.reps())
            .map(|_| {
                let barrier = Barrier::new(2);
                let took: Vec<Duration> = std::thread::scope(|s| {
                    let threads: Vec<_> = (0..2)
                        .map(|_| {
                            s.spawn(|| {
                                barrier.wait();
                                let start = Instant::now();
                                (0..n).for_each(|_| batch());
                                start.elapsed()
                            })
                        })
                        .collect();
                    threads.into_iter().map(|t| t.join().unwrap()).collect()
                });
                took.iter().map(Duration::as_nanos).sum::<u128>() as f64 / 2.0 / (n * ops) as f64
            })
            .fold(f64::INFINITY, f64::min)
    }

    /// `[one thread, two threads]` nanoseconds per op.
    fn both(&self, ops: u64, batch: impl Fn() + Sync) -> [f64; 2] {
        [self.one_thread(ops, &batch), self.two_threads(ops, &batch)]
    }

    /// Best-of wall time of `f`, after one warm-up call.
    fn best_of(&self, reps: usize, mut f: impl FnMut() -> usize) -> Duration {
        black_box(f());
        (0..reps)
            .map(|_| {
                let start = Instant::now();
                black_box(f());
                start.elapsed()
            })
            .min()
            .unwrap()
    }
}

// --- Goal lines --------------------------------------------------------------------------------

struct Goal {
    name: String,
    value: String,
    target: String,
    met: bool,
    stretch: bool,
}

#[derive(Default)]
struct Report {
    goals: Vec<Goal>,
}

impl Report {
    fn goal(&mut self, name: &str, value: String, target: &str, met: bool) {
        self.goals.push(Goal {
            name: name.to_string(),
            value,
            target: target.to_string(),
            met,
            stretch: false,
        });
    }

    fn stretch(&mut self, name: &str, value: String, target: &str, met: bool) {
        self.goal(name, value, target, met);
        self.goals.last_mut().unwrap().stretch = true;
    }
}

fn ratio(x: f64) -> String {
    format!("{x:.2}x")
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument is not supported. Without it this is
    // `cargo test --all-targets` running an unoptimised build, where timings mean nothing.
    if !std::env::args().any(|arg| arg == "--bench") {
        println!("goals: measured by `cargo bench --bench goals` only; nothing to test here");
        return;
    }
    let quick = std::env::var_os("GOALS_QUICK").is_some_and(|v| v != "0" && !v.is_empty());
    let timing = Timing { quick };
    let started = Instant::now();
    let mut report = Report::default();
    println!(
        "# sockudo-obs goals ({} run)",
        if quick { "quick" } else { "full" }
    );

    recording(&timing, &mut report);
    resolving(&timing, &mut report);
    cardinality_and_memory(&mut report);
    encoding(&timing, &mut report);
    gzip::gzip(&timing, &mut report);
    scrape_under_load(&timing, &mut report);
    cpu_overhead(quick, &mut report);
    real_server::real_server(&mut report);

    println!("\n# took {:.1} s", started.elapsed().as_secs_f64());
    let mut missed = false;
    for g in &report.goals {
        let verdict = if g.met { "met" } else { "missed" };
        let stretch = if g.stretch { " [stretch]" } else { "" };
        println!(
            "goal {}: {} (target {}) {verdict}{stretch}",
            g.name, g.value, g.target
        );
        missed |= !g.met && !g.stretch;
    }
    if missed && !quick {
        std::process::exit(1);
    }
}

// --- Goal 1: per-message recording ---------------------------------------------------------------

const HOT_APPS: usize = 100;

fn recording(timing: &Timing, report: &mut Report) {
    println!("\n## 1. Per-message recording, {HOT_APPS} apps (ns per op; 2 threads: per op per thread)");
    let ids: Vec<String> = (0..HOT_APPS).map(|i| format!("app-{i:03}")).collect();
    let raw: Vec<AtomicU64> = (0..HOT_APPS).map(|_| AtomicU64::new(0)).collect();
    let metrics = Metrics::new(&MetricsConfig::default()).unwrap();
    let ours: Vec<AppMetrics> = ids.iter().map(|id| metrics.app(id)).collect();
    let naive = IntCounterVec::new(Opts::new("naive_total", "h"), &["app_id", "channel_type"]).unwrap();
    let cached: Vec<_> = ids
        .iter()
        .map(|id| naive.with_label_values(&[id.as_str(), "public"]))
        .collect();
    let current = CounterVec::new(Opts::new("current_total", "h"), &["app_id", "channel_type"]).unwrap();
    let ops = HOT_APPS as u64;

    let raw_batch = || {
        raw.iter().for_each(|c| {
            c.fetch_add(1, Ordering::Relaxed);
        })
    };
    let ours_batch = || {
        ours.iter()
            .for_each(|app| app.message_sent(black_box(ChannelType::Public)))
    };
    let cached_batch = || cached.iter().for_each(|c| c.inc());
    let naive_batch = || {
        ids.iter()
            .for_each(|id| naive.with_label_values(&[id.as_str(), black_box("public")]).inc())
    };
    // Sockudo today: String labels built per message, f64 counters.
    let current_batch = || {
        ids.iter().for_each(|id| {
            let labels = [id.to_string(), "public".to_string()];
            current
                .with_label_values(&[labels[0].as_str(), labels[1].as_str()])
                .inc()
        })
    };

    let rows: [(&str, [f64; 2]); 5] = [
        ("raw AtomicU64::fetch_add (baseline)", timing.both(ops, raw_batch)),
        (
            "sockudo-obs AppMetrics::message_sent",
            timing.both(ops, ours_batch),
        ),
        (
            "prometheus IntCounter cached per app",
            timing.both(ops, cached_batch),
        ),
        (
            "prometheus with_label_values per message",
            timing.both(ops, naive_batch),
        ),
        (
            "Sockudo today: String labels, f64 CounterVec",
            timing.both(ops, current_batch),
        ),
    ];
    let [raw1, raw2] = rows[0].1;
    println!("| path | 1 thread | ×raw | 2 threads | ×raw |\n|---|---|---|---|---|");
    for (name, [one, two]) in &rows {
        println!(
            "| {name} | {one:.1} | {} | {two:.1} | {} |",
            ratio(one / raw1),
            ratio(two / raw2)
        );
    }
    let [ours1, ours2] = rows[1].1;
    report.goal(
        "recording_1_thread",
        ratio(ours1 / raw1),
        "<= 1.20x raw atomic",
        ours1 / raw1 <= 1.2,
    );
    report.goal(
        "recording_2_threads",
        ratio(ours2 / raw2),
        "<= 1.00x the shared-atomic baseline",
        ours2 / raw2 <= 1.0,
    );
    report.stretch(
        "recording_2_vs_1_thread",
        format!("{:.3}x", ours2 / ours1),
        "<= 1.00x (2 threads cost no more per op)",
        ours2 / ours1 <= 1.0,
    );
}

// --- Goal 2: resolving an app's handles ------------------------------------------------------------

fn resolving(timing: &Timing, report: &mut Report) {
    println!("\n## 2. Resolving handles (off the message path)");
    let apps = if timing.quick { 200 } else { 1000 };
    let limits = Limits {
        apps: usize::MAX,
        ..Limits::default()
    };
    let names: Vec<String> = (0..apps).map(|i| format!("app-{i:05}")).collect();
    let mut series_per_app = 0;
    let first = (0..timing.reps())
        .map(|_| {
            let metrics = Metrics::builder(&MetricsConfig::default())
                .limits(limits)
                .build()
                .unwrap();
            let before = metrics.series_count();
            let start = Instant::now();
            names.iter().for_each(|n| drop(black_box(metrics.app(n))));
            let took = start.elapsed();
            series_per_app = (metrics.series_count() - before) / apps;
            took
        })
        .min()
        .unwrap()
        .as_nanos() as f64
        / apps as f64;

    // The same series created through the prometheus crate's vecs.
    let snapshot = {
        let metrics = Metrics::builder(&MetricsConfig::default())
            .limits(limits)
            .build()
            .unwrap();
        names.iter().for_each(|n| drop(metrics.app(n)));
        metrics.registry().gather()
    };
    let theirs = (0..timing.reps())
        .map(|_| {
            let start = Instant::now();
            black_box(PromMirror::new(&snapshot));
            start.elapsed()
        })
        .min()
        .unwrap()
        .as_nanos() as f64
        / apps as f64;

    let metrics = Metrics::new(&MetricsConfig::default()).unwrap();
    names.iter().take(100).for_each(|n| drop(metrics.app(n)));
    let lookup = timing.one_thread(100, || {
        names
            .iter()
            .take(100)
            .for_each(|n| drop(black_box(metrics.app(n))))
    });
    let vec = IntCounterVec::new(Opts::new("x_total", "h"), &["app_id", "channel_type"]).unwrap();
    let with_label_values = timing.one_thread(100, || {
        names
            .iter()
            .take(100)
            .for_each(|n| drop(black_box(vec.with_label_values(&[n.as_str(), "public"]))))
    });
    println!("| step | ns |\n|---|---|");
    println!("| first resolve of an app ({series_per_app} series) | {first:.0} |");
    println!("| same series via prometheus vecs (with_label_values each) | {theirs:.0} |");
    println!("| lookup of a resolved app (`metrics.app(id)`) | {lookup:.1} |");
    println!("| one prometheus with_label_values (for scale) | {with_label_values:.1} |");
    report.goal(
        "resolve_new_app",
        ratio(first / theirs),
        "<= 1.00x prometheus creating the same series",
        first <= theirs,
    );
}

// --- Goal 4: cardinality cap and memory per series ---------------------------------------------

fn cardinality_and_memory(report: &mut Report) {
    println!("\n## 4. Cardinality cap and memory per series");
    let metrics = Metrics::new(&MetricsConfig::default()).unwrap();
    let cap = metrics.limits().apps;
    let empty = metrics.series_count();
    drop(metrics.app("probe"));
    let per_app = metrics.series_count() - empty;
    for i in 1..2 * cap {
        drop(metrics.app(&format!("tenant-{i}")));
    }
    let bound = empty + (cap + 1) * per_app;
    let series = metrics.series_count();
    let text = metrics.encode();
    let folded = text
        .lines()
        .find_map(|l| l.strip_prefix("sockudo_label_overflow_total{label=\"app_id\"} "))
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0);
    println!(
        "{} apps resolved, cap {cap}: {series} series (bound {bound}), {folded} folded into __overflow__",
        2 * cap
    );
    report.goal(
        "cardinality_cap",
        ratio(series as f64 / bound as f64),
        "<= 1.00x the bound, every extra app counted",
        series <= bound && folded == cap,
    );

    // Memory: the heap a resolved app's series keep, ours against the prometheus crate's.
    let apps = 1000;
    let limits = Limits {
        apps: usize::MAX,
        ..Limits::default()
    };
    let metrics = Metrics::builder(&MetricsConfig::default())
        .limits(limits)
        .build()
        .unwrap();
    let names: Vec<String> = (0..apps).map(|i| format!("app-{i:05}")).collect();
    let before = metrics.series_count();
    let (handles, ours_bytes) = retained_bytes(|| names.iter().map(|n| metrics.app(n)).collect::<Vec<_>>());
    let series = metrics.series_count() - before;
    let snapshot = metrics.registry().gather();
    let (mirror, theirs_bytes) = retained_bytes(|| PromMirror::new(&snapshot));
    let theirs_series = mirror.series;
    drop((handles, mirror));
    let ours = ours_bytes as f64 / series as f64;
    let theirs = theirs_bytes as f64 / theirs_series as f64;
    let shards = metrics.limits().shard_count();
    println!("| storage | bytes per series |\n|---|---|");
    println!("| sockudo-obs ({shards} counter shards, {series} series of {apps} apps) | {ours:.0} |");
    println!("| prometheus crate vecs, same series | {theirs:.0} |");
    report.goal(
        "memory_per_series",
        ratio(ours / theirs),
        "<= 1.00x the prometheus crate",
        ours <= theirs,
    );
}

// --- Goal 3: scrape encoding -------------------------------------------------------------------------

/// A data set of about `series` series across the catalogue: per unit one app (54 scalar series
/// and a histogram) and one adapter (12 counters and 6 histograms), so about a tenth of the
/// series are histograms.
fn dataset(series: usize) -> Metrics {
    let units = series.div_ceil(73);
    let limits = Limits {
        apps: usize::MAX,
        adapters: usize::MAX,
        ..Limits::default()
    };
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

fn encoding(timing: &Timing, report: &mut Report) {
    println!("\n## 3. Scrape encoding (ms per scrape; ratio to the hand-written writer)");
    println!("| series | sockudo-obs | hand-written | prometheus gather+TextEncoder | prometheus-client | metrics-exporter-prometheus | ours ÷ hand-written |");
    println!("|---|---|---|---|---|---|---|");
    for (label, n) in [("1k", 1_000), ("10k", 10_000), ("100k", 100_000)] {
        let metrics = dataset(n);
        let snapshot = metrics.registry().gather();
        let series = metrics.series_count();
        let hand = Handwritten::new(&snapshot);
        let prom = PromMirror::new(&snapshot);
        let client = ClientMirror::new(&snapshot);
        let exporter = ExporterMirror::new(&snapshot);
        let reps = if timing.quick { 2 } else { timing.reps() };
        let slow_reps = if timing.quick && n >= 100_000 { 1 } else { reps };
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        let mut out = Vec::new();
        let ours = timing.best_of(reps, || {
            out.clear();
            metrics.encode_to(&mut out).unwrap();
            out.len()
        });
        let mut hand_out = Vec::new();
        let handwritten = timing.best_of(reps, || {
            hand_out.clear();
            hand.encode(&mut hand_out);
            hand_out.len()
        });
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
            "| {series} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {} |",
            ms(ours),
            ms(handwritten),
            ms(prometheus),
            ms(prometheus_client),
            ms(metrics_exporter),
            ratio(r)
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

/// Label names and per-series label values of a gathered family.
fn label_table(mf: &MetricFamily) -> (Vec<String>, Vec<Vec<String>>) {
    let names = mf.get_metric()[0]
        .get_label()
        .iter()
        .map(|p| p.name().to_string())
        .collect();
    let values = mf
        .get_metric()
        .iter()
        .map(|m| m.get_label().iter().map(|p| p.value().to_string()).collect())
        .collect();
    (names, values)
}

fn buckets_of(mf: &MetricFamily) -> Vec<f64> {
    mf.get_metric()[0]
        .get_histogram()
        .get_bucket()
        .iter()
        .map(|b| b.upper_bound())
        .collect()
}

fn str_refs(values: &[String]) -> Vec<&str> {
    values.iter().map(String::as_str).collect()
}

/// The same series in the `prometheus` crate's own vecs.
struct PromMirror {
    registry: Registry,
    series: usize,
}

impl PromMirror {
    fn new(snapshot: &[MetricFamily]) -> PromMirror {
        let registry = Registry::new();
        let mut series = 0;
        for mf in snapshot {
            let (names, values) = label_table(mf);
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            let opts = Opts::new(mf.name(), mf.help());
            series += values.len();
            match mf.get_field_type() {
                MetricType::COUNTER => {
                    let vec = IntCounterVec::new(opts, &names).unwrap();
                    for (v, m) in values.iter().zip(mf.get_metric()) {
                        vec.with_label_values(&str_refs(v))
                            .inc_by(m.get_counter().get_value() as u64);
                    }
                    registry.register(Box::new(vec)).unwrap();
                }
                MetricType::GAUGE => {
                    let vec = IntGaugeVec::new(opts, &names).unwrap();
                    for (v, m) in values.iter().zip(mf.get_metric()) {
                        vec.with_label_values(&str_refs(v))
                            .set(m.get_gauge().get_value() as i64);
                    }
                    registry.register(Box::new(vec)).unwrap();
                }
                _ => {
                    let opts = HistogramOpts::new(mf.name(), mf.help()).buckets(buckets_of(mf));
                    let vec = HistogramVec::new(opts, &names).unwrap();
                    for v in &values {
                        vec.with_label_values(&str_refs(v)).observe(0.003);
                    }
                    registry.register(Box::new(vec)).unwrap();
                }
            }
        }
        PromMirror { registry, series }
    }
}

type ClientLabels = Vec<(String, String)>;

/// The same series in `prometheus-client`.
struct ClientMirror {
    registry: prometheus_client::registry::Registry,
}

impl ClientMirror {
    fn new(snapshot: &[MetricFamily]) -> ClientMirror {
        use prometheus_client::metrics::counter::Counter;
        use prometheus_client::metrics::family::Family;
        use prometheus_client::metrics::gauge::Gauge;
        use prometheus_client::metrics::histogram::Histogram;

        let mut registry = prometheus_client::registry::Registry::default();
        for mf in snapshot {
            let (names, values) = label_table(mf);
            let set =
                |v: &Vec<String>| -> ClientLabels { names.iter().cloned().zip(v.iter().cloned()).collect() };
            match mf.get_field_type() {
                MetricType::COUNTER => {
                    let family = Family::<ClientLabels, Counter>::default();
                    for (v, m) in values.iter().zip(mf.get_metric()) {
                        family
                            .get_or_create(&set(v))
                            .inc_by(m.get_counter().get_value() as u64);
                    }
                    // prometheus-client appends `_total` itself.
                    let name = mf.name().strip_suffix("_total").unwrap_or(mf.name());
                    registry.register(name, mf.help(), family);
                }
                MetricType::GAUGE => {
                    let family = Family::<ClientLabels, Gauge>::default();
                    for (v, m) in values.iter().zip(mf.get_metric()) {
                        family
                            .get_or_create(&set(v))
                            .set(m.get_gauge().get_value() as i64);
                    }
                    registry.register(mf.name(), mf.help(), family);
                }
                _ => {
                    let constructor = histogram_constructor(&buckets_of(mf));
                    let family = Family::<ClientLabels, Histogram, fn() -> Histogram>::new_with_constructor(
                        constructor,
                    );
                    for v in &values {
                        family.get_or_create(&set(v)).observe(0.003);
                    }
                    registry.register(mf.name(), mf.help(), family);
                }
            }
        }
        ClientMirror { registry }
    }
}

/// prometheus-client wants a `fn` per bucket layout; the catalogue has four.
fn histogram_constructor(buckets: &[f64]) -> fn() -> prometheus_client::metrics::histogram::Histogram {
    use prometheus_client::metrics::histogram::Histogram;
    use sockudo_obs::catalogue::{ADAPTER_BUCKETS, JOB_BUCKETS, LATENCY_BUCKETS, SIZE_BUCKETS};
    if buckets == LATENCY_BUCKETS {
        || Histogram::new(LATENCY_BUCKETS.iter().copied())
    } else if buckets == JOB_BUCKETS {
        || Histogram::new(JOB_BUCKETS.iter().copied())
    } else if buckets == ADAPTER_BUCKETS {
        || Histogram::new(ADAPTER_BUCKETS.iter().copied())
    } else {
        assert_eq!(buckets, SIZE_BUCKETS);
        || Histogram::new(SIZE_BUCKETS.iter().copied())
    }
}

/// The same series in `metrics` + `metrics-exporter-prometheus`.
struct ExporterMirror {
    handle: metrics_exporter_prometheus::PrometheusHandle,
    _recorder: metrics_exporter_prometheus::PrometheusRecorder,
}

impl ExporterMirror {
    fn new(snapshot: &[MetricFamily]) -> ExporterMirror {
        use metrics_exporter_prometheus::{Matcher, PrometheusBuilder};
        let mut builder = PrometheusBuilder::new();
        for mf in snapshot
            .iter()
            .filter(|mf| mf.get_field_type() == MetricType::HISTOGRAM)
        {
            builder = builder
                .set_buckets_for_metric(Matcher::Full(mf.name().to_string()), &buckets_of(mf))
                .unwrap();
        }
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        metrics::with_local_recorder(&recorder, || {
            for mf in snapshot {
                let name = mf.name().to_string();
                metrics::describe_counter!(name.clone(), mf.help().to_string());
                for m in mf.get_metric() {
                    let labels: Vec<metrics::Label> = m
                        .get_label()
                        .iter()
                        .map(|p| metrics::Label::new(p.name().to_string(), p.value().to_string()))
                        .collect();
                    match mf.get_field_type() {
                        MetricType::COUNTER => metrics::counter!(name.clone(), labels)
                            .increment(m.get_counter().get_value() as u64),
                        MetricType::GAUGE => {
                            metrics::gauge!(name.clone(), labels).set(m.get_gauge().get_value())
                        }
                        _ => metrics::histogram!(name.clone(), labels).record(0.003),
                    }
                }
            }
        });
        ExporterMirror {
            handle,
            _recorder: recorder,
        }
    }
}

// --- Goal 5: scrapes while recording ----------------------------------------------------------------

fn scrape_under_load(timing: &Timing, report: &mut Report) {
    let interval = Duration::from_millis(100);
    println!(
        "\n## 5. Scrapes every {} ms over HTTP while 2 threads record at full speed",
        interval.as_millis()
    );
    let metrics = Metrics::new(&MetricsConfig::default()).unwrap();
    let apps: Vec<AppMetrics> = (0..1000).map(|i| metrics.app(&format!("app-{i:04}"))).collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let bound = runtime
        .block_on(Exporter::new(metrics.clone()).bind("127.0.0.1:0"))
        .unwrap();
    let addr = bound.local_addr();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = runtime.spawn(bound.run(async {
        let _ = stop_rx.await;
    }));
    let phase = Duration::from_millis(if timing.quick { 400 } else { 2000 });
    let pairs = if timing.quick { 1 } else { 3 };
    let (mut quiet_ops, mut loaded_ops) = (0u64, 0u64);
    let mut latencies = Vec::new();
    for _ in 0..pairs {
        quiet_ops += record_for(&apps, phase, None);
        loaded_ops += record_for(&apps, phase, Some((addr, interval, &mut latencies)));
    }
    let _ = stop_tx.send(());
    let _ = runtime.block_on(server);
    latencies.sort();
    let p = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    let loss = 1.0 - loaded_ops as f64 / quiet_ops as f64;
    println!(
        "{} series; recording: {:.1} M ops/s quiet, {:.1} M ops/s while scraped ({:+.1}%); {} scrapes, p50 {:.2} ms, p99 {:.2} ms",
        metrics.series_count(),
        quiet_ops as f64 / (pairs as f64 * phase.as_secs_f64()) / 1e6,
        loaded_ops as f64 / (pairs as f64 * phase.as_secs_f64()) / 1e6,
        -loss * 100.0,
        latencies.len(),
        p(0.5).as_secs_f64() * 1e3,
        p(0.99).as_secs_f64() * 1e3,
    );
    report.goal(
        "scrape_under_load",
        format!(
            "{:.1}% throughput lost, scrape p99 {:.2} ms",
            loss * 100.0,
            p(0.99).as_secs_f64() * 1e3
        ),
        "< 10% lost",
        loss < 0.10,
    );
}

/// Total ops two recording threads complete in `phase`, optionally while a client scrapes
/// `addr` every `interval` (latencies appended).
fn record_for(
    apps: &[AppMetrics],
    phase: Duration,
    scrapes: Option<(SocketAddr, Duration, &mut Vec<Duration>)>,
) -> u64 {
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..2)
            .map(|t| {
                let stop = &stop;
                s.spawn(move || {
                    let mut ops = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        for app in apps.iter().skip(t * 500).chain(apps.iter().take(t * 500)) {
                            app.message_sent(ChannelType::Public);
                        }
                        ops += apps.len() as u64;
                    }
                    ops
                })
            })
            .collect();
        let start = Instant::now();
        if let Some((addr, interval, latencies)) = scrapes {
            while start.elapsed() < phase {
                let began = Instant::now();
                let bytes = scrape(addr);
                assert!(bytes > 0, "the exporter answered");
                latencies.push(began.elapsed());
                std::thread::sleep(interval.saturating_sub(began.elapsed()));
            }
        } else {
            std::thread::sleep(phase);
        }
        stop.store(true, Ordering::Relaxed);
        workers.into_iter().map(|w| w.join().unwrap()).sum()
    })
}

/// One `GET /metrics` over a fresh connection; the body's length.
fn scrape(addr: SocketAddr) -> usize {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut body = Vec::new();
    stream.read_to_end(&mut body).unwrap();
    body.len()
}

// --- Goal 6: CPU overhead ----------------------------------------------------------------------------

fn cpu_overhead(quick: bool, report: &mut Report) {
    println!("\n## 6. CPU overhead at 100k messages/s over 1,000 apps (callgrind instructions)");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/overhead.sh");
    let messages = if quick { "10000" } else { "100000" };
    let output = Command::new("bash")
        .arg(script)
        .env("OVERHEAD_MESSAGES", messages)
        .output();
    let lines: HashMap<String, String> = match &output {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.split_once(": "))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        Ok(out) => {
            println!(
                "overhead.sh failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
            HashMap::new()
        }
        Err(err) => {
            println!("cannot run overhead.sh: {err}");
            HashMap::new()
        }
    };
    for (key, value) in &lines {
        println!("{key}: {value}");
    }
    // The goal is what turning metrics on costs: on vs off. On vs idle (same heap, nothing
    // recorded) isolates the recording calls from malloc's layout effects; it is a diagnostic.
    let percent_of = |key: &str| {
        lines
            .get(key)
            .and_then(|v| v.split('%').next())
            .and_then(|p| p.trim().parse::<f64>().ok())
    };
    if let Some(idle) = percent_of("overhead") {
        println!("diagnostic: recording alone (on vs idle) {idle:.3}%, not a goal");
    }
    match percent_of("overhead_vs_off") {
        Some(p) => {
            report.goal(
                "cpu_overhead",
                format!("{p:.3}% on vs off"),
                "< 1% (the seed's promise)",
                p < 1.0,
            );
            report.stretch(
                "cpu_overhead_aim",
                format!("{p:.3}% on vs off"),
                "< 0.1%",
                p < 0.1,
            );
        }
        None => report.goal(
            "cpu_overhead",
            "not measured (valgrind missing or overhead.sh failed)".to_string(),
            "< 1% on vs off",
            false,
        ),
    }
}
