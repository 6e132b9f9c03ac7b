//! Goal 7: the real Sockudo 5.2.0 server's CPU per delivered message, drop-in driver vs stock
//! driver vs metrics off, under one fixed Pusher workload (issue 14). Not built yet: until it is,
//! its goal lines print as missed and say why, so a run never reads as if they were met.

use std::path::Path;

use super::Report;

pub fn real_server(report: &mut Report) {
    println!("\n## 7. Real Sockudo server: CPU per delivered message (drop-in, stock, metrics off)");
    let tools = concat!(env!("CARGO_MANIFEST_DIR"), "/.tools/bin");
    let missing: Vec<&str> = ["sockudo", "sockudo-stock"]
        .into_iter()
        .filter(|name| !Path::new(tools).join(name).is_file())
        .collect();
    let why = if missing.is_empty() {
        "not measured: the server load benchmark is not written yet".to_string()
    } else {
        format!(
            "not measured: .tools/bin/{} missing (scripts/sockudo-server.sh [--stock] builds it)",
            missing.join(", .tools/bin/")
        )
    };
    println!("{why}");
    report.goal(
        "real_server_dropin_vs_stock",
        why.clone(),
        "<= 1.00x the stock driver's CPU per message",
        false,
    );
    report.goal(
        "real_server_on_vs_off",
        why,
        "< 0.1% of the server's CPU per message",
        false,
    );
}
