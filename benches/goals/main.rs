//! `cargo bench --bench goals`: every performance goal of the live registry, measured in one run
//! on one machine, each as a ratio against a baseline measured in the same run (the machine is
//! shared and noisy, so absolute figures drift; ratios hold). Ends with one line per goal:
//! `goal <name>: <ratio> (target <t>) met|missed`.
//!
//! `GOALS_QUICK=1` runs short loops (a few seconds in all) for CI; it always exits 0, because
//! quick figures are noisy. A full run exits 1 when a goal (not a stretch goal) is missed.
//! `GOALS_ONLY=<section>,...` runs only those sections (names in `SECTIONS`).
//!
//! Timing: each figure is the best of several repetitions of a loop sized to a fixed duration;
//! the best is the run least disturbed by other processes. The encoding goals time the two sides
//! in alternating pairs, so both bests come from the same stretch of time; the scrape-load goal
//! takes the median of alternating quiet and scraped pairs, so noise lasting a moment cannot land
//! on one side alone.

// A benchmark binary has no public API: its modules' `pub` items are for each other.
#![allow(unreachable_pub)]

mod alloc;
use sockudo_obs_callgrind::profile as callgrind;
use sockudo_obs_callgrind::run as callgrind_run;
mod encode;
mod gzip;
mod harness;
mod memory;
mod mirrors;
mod overhead;
mod real_server;
mod recording;
mod resolve;
mod scrape_load;

use std::time::Instant;

use harness::{Report, Timing};

type Section = fn(&Timing, &mut Report);

/// Every section, in the order a run prints them.
const SECTIONS: [(&str, Section); 8] = [
    ("recording", recording::recording),
    ("resolve", resolve::resolving),
    ("memory", memory::cardinality_and_memory),
    ("encode", encode::encoding),
    ("gzip", gzip::gzip),
    ("scrape_load", scrape_load::scrape_under_load),
    ("overhead", overhead::cpu_overhead),
    ("real_server", real_server::real_server),
];

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

    // `GOALS_ONLY=encode,gzip` runs only the named sections (for working on one goal).
    let only = std::env::var("GOALS_ONLY").unwrap_or_default();
    for (name, section) in SECTIONS {
        if only.is_empty() || only.split(',').any(|n| n.trim() == name) {
            section(&timing, &mut report);
        }
    }

    println!("\n# took {:.1} s", started.elapsed().as_secs_f64());
    if report.print_goals() && !quick {
        std::process::exit(1);
    }
}
