//! `HttpMetricsLayer` on a real axum router served over TCP: each request is recorded under its
//! route template (never the raw path) with its status, duration and response size; unmatched
//! requests share one endpoint; methods outside the catalogue's are not recorded.

use axum::routing::{get, post};
use axum::Router;

use crate::support::http::send;
use sockudo_obs::live::{HttpMetricsLayer, UNMATCHED_ENDPOINT};
use sockudo_obs::{Metrics, MetricsConfig};

/// The value of the series line `series` (exact labels, in the exposition's order), if present.
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

async fn serve(router: Router) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    addr
}

fn request(method: &str, url: &str) -> u16 {
    send(method, url, "")
        .unwrap_or_else(|e| panic!("{method} {url}: {e}"))
        .status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_router_records_route_templates_statuses_and_sizes() {
    let metrics = Metrics::new(&MetricsConfig::default()).unwrap();
    let router = Router::new()
        .route("/apps/{app_id}/events", post(|| async { "0123456789" }))
        .route(
            "/apps/{app_id}/channels",
            get(|| async { (axum::http::StatusCode::SERVICE_UNAVAILABLE, "busy") }),
        )
        .layer(HttpMetricsLayer::new(&metrics));
    let addr = serve(router).await;
    let base = format!("http://{addr}");
    tokio::task::spawn_blocking(move || {
        for app in ["app-1", "app-2", "app-3"] {
            assert_eq!(request("POST", &format!("{base}/apps/{app}/events")), 200);
        }
        assert_eq!(request("GET", &format!("{base}/apps/app-1/channels")), 503);
        assert_eq!(request("GET", &format!("{base}/no/such/route")), 404);
        assert_eq!(request("PROPFIND", &format!("{base}/apps/app-1/events")), 405);
    })
    .await
    .unwrap();

    let text = metrics.encode();
    // The exposition orders labels by name.
    let events = r#"endpoint="/apps/:app_id/events",method="POST""#;
    let channels = r#"endpoint="/apps/:app_id/channels",method="GET""#;
    let expected = [
        (
            format!(r#"sockudo_http_requests_total{{{events},status="200"}}"#),
            3.0,
        ),
        (
            format!("sockudo_http_request_duration_seconds_count{{{events}}}"),
            3.0,
        ),
        (format!("sockudo_http_response_size_bytes_sum{{{events}}}"), 30.0),
        (
            format!(r#"sockudo_http_requests_total{{{channels},status="503"}}"#),
            1.0,
        ),
        (
            format!(
                r#"sockudo_http_requests_total{{endpoint="{UNMATCHED_ENDPOINT}",method="GET",status="404"}}"#
            ),
            1.0,
        ),
    ];
    for (series, count) in expected {
        assert_eq!(value(&text, &series), Some(count), "{series}");
    }
    for raw in ["app-1", "app-2", "no/such"] {
        assert!(!text.contains(raw), "a raw path reached a label: {raw}");
    }
    assert!(
        !text.contains("PROPFIND"),
        "a method outside the catalogue was recorded"
    );
}
