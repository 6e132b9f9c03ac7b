//! Prometheus 3 negotiates the scrape format (`scrape_protocols`) and refuses an answer without a
//! valid `Content-Type`. The exporter answers Prometheus 3's own `Accept` header with the
//! classic text format, named by a media type Prometheus 3 accepts, and a real Prometheus 3.5
//! (`prometheus3`, from Debian's unstable suite) scrapes it without error.

use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::time::Duration;

use crate::support::http::{self, PromApi};
use crate::support::ports::free_port;
use crate::support::process::{wait_until, ProcessGuard};
use crate::support::tools::find as require_tool;

/// What Prometheus 3.5 sends with its default `scrape_protocols`.
const PROMETHEUS_3_ACCEPT: &str = "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,\
application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,\
text/plain;version=0.0.4;q=0.3,*/*;q=0.2";

/// The exporter, started as a server would run it, on a free loopback port.
fn start_exporter(logs: &std::path::Path) -> (ProcessGuard, u16) {
    let port = free_port();
    let mut command = Command::new(env!("CARGO_BIN_EXE_sockudo-obs"));
    command
        .env_clear()
        .args(["serve", "--demo"])
        .env("METRICS_HOST", "127.0.0.1")
        .env("METRICS_PORT", port.to_string());
    let guard = ProcessGuard::spawn("exporter", command, logs).unwrap();
    wait_until(Duration::from_secs(20), "the exporter to listen", || {
        Ok(TcpStream::connect(("127.0.0.1", port)).ok().map(|_| ()))
    })
    .unwrap();
    (guard, port)
}

/// The media type and its parameters, lower-cased, as a parser of `Content-Type` reads them.
fn media_type(header: &str) -> (String, Vec<(String, String)>) {
    let mut parts = header.split(';').map(str::trim);
    let kind = parts.next().unwrap_or_default().to_ascii_lowercase();
    let params = parts
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| {
            (
                k.trim().to_ascii_lowercase(),
                v.trim().trim_matches('"').to_string(),
            )
        })
        .collect();
    (kind, params)
}

#[test]
fn the_exporter_answers_prometheus_3s_accept_header_with_a_valid_content_type() {
    let logs = tempfile::tempdir().unwrap();
    let (_exporter, port) = start_exporter(logs.path());
    let (status, headers, body) = http::request(
        SocketAddr::from(([127, 0, 0, 1], port)),
        "GET",
        "/metrics",
        &[
            ("Accept", PROMETHEUS_3_ACCEPT),
            ("User-Agent", "Prometheus/3.5.3"),
        ],
        "",
    );
    let body = String::from_utf8(body).expect("UTF-8 exposition");
    assert_eq!(status, 200, "{headers:?}");
    let content_type = headers
        .iter()
        .find(|(name, _)| name == "content-type")
        .map(|(_, value)| value.as_str())
        .expect("a Content-Type header");
    let (kind, params) = media_type(content_type);
    // One of the types Prometheus 3 parses: the classic text format, version 0.0.4.
    assert_eq!(kind, "text/plain", "{content_type}");
    assert!(
        params.contains(&("version".into(), "0.0.4".into())),
        "{content_type}"
    );
    assert!(body.contains("# TYPE "), "a text exposition body");
}

#[test]
fn prometheus_3_scrapes_the_exporter_without_error() {
    let prometheus = require_tool("prometheus3").unwrap_or_else(|e| panic!("{e}"));
    let dir = tempfile::tempdir().unwrap();
    let (_exporter, exporter_port) = start_exporter(dir.path());
    let config = serde_json::json!({
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s"},
        "scrape_configs": [{
            "job_name": "sockudo",
            "static_configs": [{"targets": [format!("127.0.0.1:{exporter_port}")]}],
        }],
    });
    let config_file = dir.path().join("prometheus.yml");
    std::fs::write(&config_file, serde_norway::to_string(&config).unwrap()).unwrap();
    let prometheus_port = free_port();
    let mut command = Command::new(prometheus);
    command
        .arg(format!("--config.file={}", config_file.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{prometheus_port}"));
    let mut server = ProcessGuard::spawn("prometheus3", command, dir.path()).unwrap();
    let api = PromApi::new("prometheus3", prometheus_port);
    let target = wait_until(Duration::from_secs(60), "a Prometheus 3 scrape", || {
        server.check_running()?;
        let data = match api.get_data("/api/v1/targets", &[]) {
            Ok(data) => data,
            Err(_) => return Ok(None),
        };
        let target = data["activeTargets"][0].clone();
        let scraped = target["health"].as_str().is_some_and(|h| h != "unknown");
        Ok(scraped.then_some(target))
    })
    .unwrap_or_else(|e| panic!("{e}\n{}", server.log_tail(20)));
    assert_eq!(target["health"], "up", "{target}");
    assert_eq!(target["lastError"], "", "{target}");
    let series = api
        .query("sockudo_label_overflow_total", None)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(!series.is_empty(), "catalogue series arrive through Prometheus 3");
}
