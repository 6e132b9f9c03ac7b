//! Goal 6: CPU overhead of recording, in callgrind instructions (benches/overhead.sh).

use std::collections::HashMap;
use std::process::Command;

use crate::harness::{Report, Timing};

pub fn cpu_overhead(timing: &Timing, report: &mut Report) {
    let quick = timing.quick;
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
