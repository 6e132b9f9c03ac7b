//! Goal 3b: the scrape on the wire. What Prometheus gets when it sends `Accept-Encoding: gzip`
//! (it always does): bytes and encode+compress time against the identity scrape, same data.

use crate::encode::dataset;
use crate::harness::{ms, ratio, Report, Timing, SIZES};

pub fn gzip(timing: &Timing, report: &mut Report) {
    println!("\n## 3b. Scrape on the wire: gzip (level 1) vs identity (bytes; ms per scrape)");
    println!("| series | identity bytes | gzip bytes | gzip ÷ identity | identity ms | encode+gzip ms | time ÷ identity |");
    println!("|---|---|---|---|---|---|---|");
    let mut diagnostics: Vec<String> = Vec::new();
    for (label, n) in SIZES {
        let metrics = dataset(n);
        let reps = timing.scrape_reps();
        let mut text = Vec::new();
        let identity = timing.best_into(reps, &mut text, |out| metrics.encode_to(out).unwrap());
        let mut gz = Vec::new();
        let compressed = timing.best_into(reps, &mut gz, |out| metrics.encode_gzip_to(out).unwrap());
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
