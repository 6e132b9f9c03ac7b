//! gzip on `/metrics`: negotiated from `Accept-Encoding`, the compressed body decodes to exactly
//! the identity scrape, and a real Prometheus (which sends `Accept-Encoding: gzip`) scrapes the
//! gzip exporter and stores what it serves.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use crate::support::http::PromApi;
use crate::support::live::{request_with, samples, start};
use crate::support::ports::free_port;
use crate::support::process::{wait_until, ProcessGuard};
use crate::support::tools::find as require_tool;
use flate2::read::GzDecoder;
use sockudo_obs::live::{ChannelType, Exporter, CONTENT_TYPE};
use sockudo_obs::{Metrics, MetricsConfig};

fn gunzip(body: &[u8]) -> String {
    let mut text = String::new();
    GzDecoder::new(body)
        .read_to_string(&mut text)
        .expect("a gzip body of UTF-8 text");
    text
}

/// Metrics with known values: one app that sent 42 public messages, and 1,000 more apps so the
/// scrape spans many [`sockudo_obs::live::GZIP_CHUNK`]s.
fn recorded() -> Metrics {
    let metrics = Metrics::new(&MetricsConfig::default()).unwrap();
    let app = metrics.app("gzip-app");
    for _ in 0..42 {
        app.message_sent(ChannelType::Public);
    }
    for i in 0..1000 {
        metrics.app(&format!("app-{i}")).connection_opened();
    }
    metrics
}

#[tokio::test]
async fn gzip_only_when_accepted_and_it_decodes_to_the_identity_scrape() {
    let metrics = recorded();
    let bound = Exporter::new(metrics.clone()).bind("127.0.0.1:0").await.unwrap();
    let server = start(bound, metrics);

    let identity = request_with(server.addr, "GET", "/metrics", &[], "").await;
    assert_eq!(identity.status, 200);
    assert!(!identity.headers.contains_key("content-encoding"));
    let text = String::from_utf8(identity.body).unwrap();
    assert!(
        text.len() > 4 * sockudo_obs::live::GZIP_CHUNK,
        "{} bytes",
        text.len()
    );

    // A quality of 0 refuses gzip in any case, and `*` does not cover a coding named with q=0.
    for refusal in ["gzip;q=0", "GZIP;Q=0", "gzip;q=0, *", "*, gzip;q=0.000", "*;q=0"] {
        let refused = request_with(
            server.addr,
            "GET",
            "/metrics",
            &[("Accept-Encoding", refusal)],
            "",
        )
        .await;
        assert_eq!(
            refused.headers.get("content-encoding"),
            None,
            "Accept-Encoding: {refusal}"
        );
        assert_eq!(refused.body, text.as_bytes(), "Accept-Encoding: {refusal}");
    }
    for acceptance in ["GZIP", "*", "deflate, Gzip;Q=0.5", "br;q=0, *"] {
        let gzip = request_with(
            server.addr,
            "GET",
            "/metrics",
            &[("Accept-Encoding", acceptance)],
            "",
        )
        .await;
        assert_eq!(
            gzip.headers.get("content-encoding").map(String::as_str),
            Some("gzip"),
            "Accept-Encoding: {acceptance}"
        );
    }

    let gzip = request_with(server.addr, "GET", "/metrics", &[("Accept-Encoding", "gzip")], "").await;
    assert_eq!(gzip.status, 200);
    assert_eq!(gzip.headers["content-encoding"], "gzip");
    assert_eq!(gzip.headers["content-type"], CONTENT_TYPE);
    assert_eq!(gzip.headers["vary"], "accept-encoding");
    assert_eq!(gzip.headers["content-length"], gzip.body.len().to_string());
    assert_eq!(gunzip(&gzip.body), text);
    assert!(
        gzip.body.len() * 5 < text.len(),
        "gzip {} bytes vs {} identity",
        gzip.body.len(),
        text.len()
    );

    let head = request_with(
        server.addr,
        "HEAD",
        "/metrics",
        &[("Accept-Encoding", "gzip")],
        "",
    )
    .await;
    assert_eq!(head.headers["content-encoding"], "gzip");
    assert!(head.body.is_empty());
}

#[test]
fn disabled_metrics_compress_to_an_empty_exposition() {
    let config = MetricsConfig {
        enabled: false,
        ..MetricsConfig::default()
    };
    let mut out = Vec::new();
    Metrics::new(&config).unwrap().encode_gzip_to(&mut out).unwrap();
    assert!(out.is_empty());
}

/// A TCP relay that records the first bytes each side sends on every connection (the request
/// and response heads), so the test sees what Prometheus asked for and what it got.
struct Tap {
    port: u16,
    requests: Arc<Mutex<Vec<String>>>,
    responses: Arc<Mutex<Vec<String>>>,
}

fn relay(mut from: TcpStream, mut to: TcpStream, heads: Arc<Mutex<Vec<String>>>) {
    let mut buf = vec![0; 16 * 1024];
    let mut first = true;
    while let Ok(n) = from.read(&mut buf) {
        if n == 0 || to.write_all(&buf[..n]).is_err() {
            break;
        }
        if first {
            let head = String::from_utf8_lossy(&buf[..n]);
            let head = head.split("\r\n\r\n").next().unwrap_or("").to_ascii_lowercase();
            heads.lock().unwrap().push(head);
            first = false;
        }
    }
    let _ = to.shutdown(std::net::Shutdown::Write);
}

impl Tap {
    fn start(upstream: SocketAddr) -> Tap {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let responses = Arc::new(Mutex::new(Vec::new()));
        let (req, resp) = (requests.clone(), responses.clone());
        thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(server) = TcpStream::connect(upstream) else {
                    continue;
                };
                let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                let (req, resp) = (req.clone(), resp.clone());
                thread::spawn(move || relay(client, server, req));
                thread::spawn(move || relay(s2, c2, resp));
            }
        });
        Tap {
            port,
            requests,
            responses,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_prometheus_scrapes_the_gzip_exporter() {
    let metrics = recorded();
    let bound = Exporter::new(metrics.clone()).bind("127.0.0.1:0").await.unwrap();
    let server = start(bound, metrics.clone());
    let series = samples(&metrics.encode()).len();
    let tap = Tap::start(server.addr);

    let result = tokio::task::spawn_blocking(move || -> Result<(), String> {
        let prometheus = require_tool("prometheus")?;
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let config = dir.path().join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: gzip\n    static_configs:\n      - targets: ['127.0.0.1:{}']\n",
                tap.port
            ),
        )
        .map_err(|e| e.to_string())?;
        let port = free_port();
        let mut command = std::process::Command::new(prometheus);
        command
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", dir.path().join("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"));
        let mut guard = ProcessGuard::spawn("prometheus", command, dir.path())?;
        let api = PromApi::new("Prometheus", port);
        let value = |expr: &str| -> Result<Option<f64>, String> {
            Ok(api
                .query(expr, None)
                .ok()
                .and_then(|r| r.first().and_then(|s| s["value"][1].as_str()?.parse().ok())))
        };
        let sent = r#"sockudo_messages_sent_total{job="gzip",app_id="gzip-app",channel_type="public"}"#;
        let stored = wait_until(Duration::from_secs(60), "Prometheus to store the scrape", || {
            guard.check_running()?;
            value(sent)
        })
        .map_err(|e| format!("{e}\n{}", guard.log_tail(20)))?;
        assert_eq!(stored, 42.0);
        let scraped = value(r#"scrape_samples_scraped{job="gzip"}"#)?.ok_or("no scrape_samples_scraped")?;
        assert_eq!(scraped as usize, series, "Prometheus parsed every sample of the gzip body");
        Ok(())
    })
    .await
    .unwrap();
    result.unwrap_or_else(|e| panic!("{e}"));

    let requests = tap.requests.lock().unwrap().clone();
    let responses = tap.responses.lock().unwrap().clone();
    assert!(!requests.is_empty(), "Prometheus never connected");
    assert!(
        requests.iter().all(|r| r.contains("accept-encoding: gzip")),
        "{requests:?}"
    );
    assert!(
        responses.iter().all(|r| r.contains("content-encoding: gzip")),
        "{responses:?}"
    );
}
