//! Goal 3b: the scrape on the wire. What Prometheus gets when it sends `Accept-Encoding: gzip`
//! (it always does): bytes and encode+compress time against the identity scrape, same data.

use std::time::Duration;

use crate::encode::dataset;
use crate::harness::{ratio, Report, Timing};

pub fn gzip(timing: &Timing, report: &mut Report) {
    println!("\n## 3b. Scrape on the wire: gzip (level 1) vs identity (bytes; ms per scrape)");
    println!("| series | identity bytes | gzip bytes | gzip ÷ identity | identity ms | encode+gzip ms | time ÷ identity |");
    println!("|---|---|---|---|---|---|---|");
    let mut diagnostics: Vec<String> = Vec::new();
    for (label, n) in [("1k", 1_000), ("10k", 10_000), ("100k", 100_000)] {
        let metrics = dataset(n);
        let reps = if timing.quick { 2 } else { timing.reps() };
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        let mut text = Vec::new();
        let identity = timing.best_of(reps, || {
            text.clear();
            metrics.encode_to(&mut text).unwrap();
            text.len()
        });
        let mut gz = Vec::new();
        let compressed = timing.best_of(reps, || {
            gz.clear();
            metrics.encode_gzip_to(&mut gz).unwrap();
            gz.len()
        });
        let bytes = gz.len() as f64 / text.len() as f64;
        let time = compressed.as_secs_f64() / identity.as_secs_f64();
        println!(
            "| {} | {} | {} | {} | {:.2} | {:.2} | {} |",
            metrics.series_count(),
            text.len(),
            gz.len(),
            format_args!("{bytes:.3}x"),
            ms(identity),
            ms(compressed),
            ratio(time)
        );
        report.goal(
            &format!("gzip_bytes_{label}"),
            format!("{bytes:.3}x ({} of {} bytes)", gz.len(), text.len()),
            "<= 0.10x the identity scrape",
            bytes <= 0.10,
        );
        diagnostics.push(format!(
            "diagnostic gzip_time_{label}: encode+gzip {} the identity encode",
            ratio(time)
        ));
    }
    diagnostics.iter().for_each(|line| println!("{line}"));
}
