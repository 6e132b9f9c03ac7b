//! Goal 2: resolving an app's handles (off the message path) against the prometheus crate.

use std::hint::black_box;
use std::time::Instant;

use prometheus::{IntCounterVec, Opts};
use sockudo_obs::live::Metrics;
use sockudo_obs::MetricsConfig;

use crate::harness::{ratio, uncapped, Report, Timing};
use crate::mirrors::PromMirror;

pub fn resolving(timing: &Timing, report: &mut Report) {
    println!("\n## 2. Resolving handles (off the message path)");
    let apps = if timing.quick { 200 } else { 1000 };
    let limits = uncapped();
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
            names.iter().for_each(|n| {
                black_box(metrics.app(n));
            });
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
        names.iter().for_each(|n| {
            metrics.app(n);
        });
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
    names.iter().take(100).for_each(|n| {
        metrics.app(n);
    });
    let lookup = timing.one_thread(100, || {
        names.iter().take(100).for_each(|n| {
            black_box(metrics.app(n));
        })
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
