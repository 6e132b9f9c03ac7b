//! What the real `sockudo-obs` binary makes of a config document and of `METRICS_HOST`: a Sockudo
//! `config.json` holding only its WebSocket server's `host`/`port` is never taken for the metrics
//! section (neither `serve` nor `generate` may bind or scrape that port), and an address no socket
//! can listen on is refused before binding, with exit code 2 and one line naming the culprit.

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use crate::support::ports::free_port;
use crate::support::process::run_to_exit;
use crate::support::serve::{assert_one_line_usage_error, sockudo_obs};

/// Every run must end by itself well within this; a binary still running was serving.
const EXIT_LIMIT: Duration = Duration::from_secs(10);

fn run(command: &mut Command) -> Output {
    run_to_exit(command, EXIT_LIMIT)
}

/// `generate --env local --config <config> --out <out>`.
fn generate(config: &Path, out: &Path) -> Output {
    run(sockudo_obs()
        .args(["generate", "--env", "local", "--config"])
        .arg(config)
        .arg("--out")
        .arg(out))
}

/// A Sockudo config.json with only the server's address. Before the fix `serve` bound the server's
/// port (a free one here, so the old behaviour shows as a binary still serving) and `generate`
/// aimed the proxy at it. Now both refuse the document as ambiguous, naming it.
#[test]
fn a_config_holding_only_the_server_host_and_port_is_not_taken_for_the_metrics_section() {
    let dir = tempfile::tempdir().unwrap();
    let server_port = free_port();
    let file = dir.path().join("config.json");
    let json = format!(r#"{{"host": "127.0.0.1", "port": {server_port}}}"#);
    std::fs::write(&file, json).unwrap();
    let shown = file.display().to_string();

    let served = run(sockudo_obs().arg("serve").arg("--config").arg(&file));
    let line = assert_one_line_usage_error(
        &served,
        &[&shown, "holds only \"host\" and \"port\"", "\"metrics\""],
    );
    println!("serve: {line}");

    let out = dir.path().join("bundle");
    let generated = generate(&file, &out);
    assert_one_line_usage_error(&generated, &[&shown, "enabled, driver, prometheus"]);
    assert!(!out.exists(), "generate wrote {}", out.display());
}

/// With a key only a whole config.json has, the same `host`/`port` are the server's and the
/// metrics keep their defaults: the generated proxy points at 9601, never at the server's port.
#[test]
fn a_whole_config_without_a_metrics_section_gives_the_default_metrics_port() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.json");
    std::fs::write(&file, r#"{"debug": false, "host": "127.0.0.1", "port": 6001}"#).unwrap();
    let out = dir.path().join("bundle");
    let output = generate(&file, &out);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let nginx = std::fs::read_to_string(out.join("nginx/sockudo-metrics.conf")).unwrap();
    let proxy = nginx
        .lines()
        .find(|l| l.trim().starts_with("proxy_pass "))
        .expect("a proxy_pass line");
    assert!(proxy.contains(":9601/metrics"), "{proxy}");
    assert!(!nginx.contains("6001"), "{proxy}");
}

/// Multicast groups and the broadcast address are refused from the environment and from the file,
/// naming the variable (or the file) and the key, before `serve` binds.
#[test]
fn multicast_and_broadcast_metrics_hosts_are_refused() {
    const NOT: &str = "not multicast or broadcast";
    let dir = tempfile::tempdir().unwrap();
    for host in [
        "224.0.0.1",
        "239.255.255.250",
        "255.255.255.255",
        "ff02::1",
        "::ffff:224.0.0.1",
    ] {
        let output = run(sockudo_obs()
            .arg("serve")
            .env("METRICS_HOST", host)
            .env("METRICS_PORT", free_port().to_string()));
        let setting = format!("METRICS_HOST={host:?}");
        let line = assert_one_line_usage_error(&output, &[&setting, "metrics.host", NOT]);
        println!("{line}");

        let file = dir.path().join("config.json");
        let json = format!(r#"{{"metrics": {{"host": "{host}", "port": {}}}}}"#, free_port());
        std::fs::write(&file, json).unwrap();
        let output = run(sockudo_obs().arg("serve").arg("--config").arg(&file));
        let shown = file.display().to_string();
        assert_one_line_usage_error(&output, &[&shown, "metrics.host", NOT]);
    }
}
