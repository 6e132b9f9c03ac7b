//! The `/metrics` exporter over real TCP: status codes, headers, every catalogue family, prefixes, bind
//! errors, the disabled config, the demo's control route and host metrics.

use std::collections::BTreeMap;

use crate::support::demo::Scenario;
use crate::support::http::exchange;
use crate::support::live::{request, serve_demo, start, types};
use prometheus::{IntCounter, Registry};
use sockudo_obs::catalogue::CATALOGUE;
use sockudo_obs::live::{Exporter, CONTENT_TYPE};
use sockudo_obs::{Metrics, MetricsConfig};

fn config(prefix: &str) -> MetricsConfig {
    MetricsConfig {
        prefix: prefix.to_string(),
        ..MetricsConfig::default()
    }
}

fn expected_types(prefix: &str) -> BTreeMap<String, String> {
    CATALOGUE
        .iter()
        .map(|def| (def.full_name(prefix), def.kind.as_str().to_string()))
        .collect()
}

#[tokio::test]
async fn scrape_has_every_catalogue_family_after_a_demo_tick() {
    let (server, _demo) = serve_demo(&config("sockudo_")).await;
    let reply = request(server.addr, "GET", "/metrics", "").await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.headers["content-type"], CONTENT_TYPE);
    assert_eq!(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
    assert_eq!(types(&reply.body), expected_types("sockudo_"));
    assert_eq!(types(&reply.body).len(), CATALOGUE.len());
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_custom_prefix_is_prepended_literally() {
    let (server, _demo) = serve_demo(&config("my_company_sockudo_")).await;
    let body = request(server.addr, "GET", "/metrics", "").await.body;
    assert_eq!(types(&body), expected_types("my_company_sockudo_"));
    assert!(body.contains("my_company_sockudo_active_connections{app_id=\"demo-app\"}"));
    assert!(!body.contains("sockudo__"));
}

#[tokio::test]
async fn head_answers_like_get_without_a_body() {
    let (server, _demo) = serve_demo(&config("sockudo_")).await;
    let reply = request(server.addr, "HEAD", "/metrics", "").await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.headers["content-type"], CONTENT_TYPE);
    assert!(
        reply.body.is_empty(),
        "HEAD has no body: {:?}",
        &reply.body[..80.min(reply.body.len())]
    );
}

#[tokio::test]
async fn other_paths_are_404_and_other_methods_405() {
    let (server, _demo) = serve_demo(&config("sockudo_")).await;
    assert_eq!(request(server.addr, "GET", "/other", "").await.status, 404);
    assert_eq!(request(server.addr, "GET", "/metrics/x", "").await.status, 404);
    for method in ["POST", "PUT", "DELETE"] {
        let reply = request(server.addr, method, "/metrics", "x").await;
        assert_eq!(reply.status, 405, "{method}");
        assert_eq!(reply.headers["allow"], "GET, HEAD");
    }
}

#[tokio::test]
async fn the_demo_scenario_is_switched_over_http() {
    let (server, demo) = serve_demo(&config("sockudo_")).await;
    let reply = request(server.addr, "POST", "/demo/scenario", "errors\n").await;
    assert_eq!((reply.status, reply.body.as_str()), (200, "scenario: errors\n"));
    assert_eq!(demo.switch().get(), Scenario::Errors);

    let reply = request(server.addr, "POST", "/demo/scenario", "chaos").await;
    assert_eq!(reply.status, 400);
    assert!(
        reply.body.contains("normal, errors, slow, connections, backlog"),
        "{}",
        reply.body
    );
    assert_eq!(demo.switch().get(), Scenario::Errors);

    let reply = request(server.addr, "GET", "/demo/scenario", "").await;
    assert_eq!((reply.status, reply.headers["allow"].as_str()), (405, "POST"));
}

#[tokio::test]
async fn without_the_demo_there_is_no_control_route() {
    let metrics = Metrics::new(&MetricsConfig::default()).unwrap();
    let bound = Exporter::new(metrics.clone()).bind("127.0.0.1:0").await.unwrap();
    let server = start(bound, metrics);
    assert_eq!(
        request(server.addr, "POST", "/demo/scenario", "errors")
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn a_taken_port_is_a_bind_error_naming_the_address() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let metrics = Metrics::new(&MetricsConfig::default()).unwrap();
    let err = Exporter::new(metrics)
        .bind(&addr)
        .await
        .err()
        .expect("bind fails");
    let message = format!("{err:#}");
    assert!(message.contains(&addr), "{message}");
    assert!(message.to_lowercase().contains("in use"), "{message}");
}

#[tokio::test]
async fn disabled_metrics_listen_nowhere_and_record_nothing() {
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = free.local_addr().unwrap().port();
    drop(free);
    let config = MetricsConfig {
        enabled: false,
        host: "127.0.0.1".to_string(),
        port,
        ..MetricsConfig::default()
    };
    let metrics = Metrics::new(&config).unwrap();
    assert!(!metrics.is_enabled());
    let app = metrics.app("a");
    app.connection_opened();
    app.message_sent(sockudo_obs::live::ChannelType::Public);
    assert_eq!(metrics.encode(), "");

    let bound = Exporter::new(metrics).bind_configured(&config).await.unwrap();
    assert!(bound.is_none());
    assert!(tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err());
}

#[tokio::test]
async fn the_configured_address_is_used_when_enabled() {
    let config = MetricsConfig {
        host: "127.0.0.1".to_string(),
        port: 0,
        ..MetricsConfig::default()
    };
    let metrics = Metrics::new(&config).unwrap();
    let bound = Exporter::new(metrics.clone())
        .bind_configured(&config)
        .await
        .unwrap()
        .unwrap();
    assert!(bound.local_addr().ip().is_loopback());
}

#[tokio::test]
async fn host_registered_metrics_are_served_too() {
    let registry = Registry::new();
    let restarts = IntCounter::new("process_restarts_total", "Restarts of the host process").unwrap();
    registry.register(Box::new(restarts.clone())).unwrap();
    restarts.inc();
    let metrics = Metrics::builder(&MetricsConfig::default())
        .registry(registry)
        .build()
        .unwrap();
    metrics.app("a");
    let bound = Exporter::new(metrics.clone()).bind("127.0.0.1:0").await.unwrap();
    let server = start(bound, metrics);
    let body = request(server.addr, "GET", "/metrics", "").await.body;
    assert!(body.contains("process_restarts_total 1"), "{body}");
    assert!(body.contains("sockudo_messages_sent_total{app_id=\"a\",channel_type=\"public\"} 0"));
}

#[tokio::test]
async fn shutdown_stops_listening() {
    let (server, _demo) = serve_demo(&config("sockudo_")).await;
    let addr = server.addr;
    assert_eq!(request(addr, "GET", "/metrics", "").await.status, 200);
    server.stop().await.unwrap();
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn oversized_request_headers_are_refused() {
    let (server, _demo) = serve_demo(&config("sockudo_")).await;
    let addr = server.addr;
    let reply = tokio::task::spawn_blocking(move || {
        let padding = "x".repeat(32 * 1024);
        // The server may close before reading everything; only its answer matters.
        let request = format!("GET /metrics HTTP/1.1\r\nHost: t\r\nX-Padding: {padding}\r\n\r\n");
        String::from_utf8_lossy(&exchange(addr, request.as_bytes())).into_owned()
    })
    .await
    .unwrap();
    assert!(
        reply.starts_with("HTTP/1.1 431"),
        "{:?}",
        &reply[..reply.len().min(60)]
    );
}
