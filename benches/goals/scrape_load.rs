//! Goal 5: scrapes over HTTP while two threads record at full speed.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use sockudo_obs::live::{AppMetrics, ChannelType, Exporter, Metrics};
use sockudo_obs::MetricsConfig;

use crate::harness::{http_get, Report, Timing};

pub fn scrape_under_load(timing: &Timing, report: &mut Report) {
    let interval = Duration::from_millis(100);
    println!(
        "\n## 5. Scrapes every {} ms over HTTP while 2 threads record at full speed",
        interval.as_millis()
    );
    let metrics = Metrics::new(&MetricsConfig::default()).unwrap();
    let apps: Vec<AppMetrics> = (0..1000)
        .map(|i| metrics.app(&format!("app-{i:04}")).clone())
        .collect();
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
    // Quiet and scraped phases in pairs, the order alternating; the goal is the median pair's
    // loss, so a burst of noise on this shared machine costs one pair, not the figure.
    let pairs = if timing.quick { 1 } else { 5 };
    let (mut quiet_ops, mut loaded_ops) = (0u64, 0u64);
    let mut losses = Vec::with_capacity(pairs);
    let mut latencies = Vec::new();
    for pair in 0..pairs {
        let mut scraped = || record_for(&apps, phase, Some((addr, interval, &mut latencies)));
        let (quiet, loaded) = if pair % 2 == 0 {
            let quiet = record_for(&apps, phase, None);
            (quiet, scraped())
        } else {
            let loaded = scraped();
            (record_for(&apps, phase, None), loaded)
        };
        quiet_ops += quiet;
        loaded_ops += loaded;
        losses.push(1.0 - loaded as f64 / quiet as f64);
    }
    losses.sort_by(f64::total_cmp);
    let loss = losses[losses.len() / 2];
    let _ = stop_tx.send(());
    let _ = runtime.block_on(server);
    latencies.sort();
    let p = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    println!(
        "{} series; recording: {:.1} M ops/s quiet, {:.1} M ops/s while scraped ({:+.1}% in the median of {pairs} pairs; each pair's: {}); {} scrapes, p50 {:.2} ms, p99 {:.2} ms",
        metrics.series_count(),
        quiet_ops as f64 / (pairs as f64 * phase.as_secs_f64()) / 1e6,
        loaded_ops as f64 / (pairs as f64 * phase.as_secs_f64()) / 1e6,
        -loss * 100.0,
        losses.iter().map(|l| format!("{:+.1}%", -l * 100.0)).collect::<Vec<_>>().join(", "),
        latencies.len(),
        p(0.5).as_secs_f64() * 1e3,
        p(0.99).as_secs_f64() * 1e3,
    );
    report.goal(
        "scrape_under_load",
        format!(
            "{:.1}% throughput lost (median of {pairs} pairs), scrape p99 {:.2} ms",
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
                let bytes = http_get(addr, "/metrics").map_or(0, |r| r.len());
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
