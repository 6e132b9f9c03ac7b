//! Goal 4: the cardinality cap and the heap a series keeps.

use sockudo_obs::live::Metrics;
use sockudo_obs::MetricsConfig;

use crate::alloc::retained_bytes;
use crate::harness::{ratio, uncapped, Report, Timing};
use crate::mirrors::PromMirror;

pub fn cardinality_and_memory(_: &Timing, report: &mut Report) {
    println!("\n## 4. Cardinality cap and memory per series");
    let metrics = Metrics::new(&MetricsConfig::default()).unwrap();
    let cap = metrics.limits().apps;
    let empty = metrics.series_count();
    metrics.app("probe");
    let per_app = metrics.series_count() - empty;
    for i in 1..2 * cap {
        metrics.app(&format!("tenant-{i}"));
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
    let limits = uncapped();
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
