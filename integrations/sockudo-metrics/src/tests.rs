//! The drop-in's unit tests, in a file of their own: the server's build never reads it, so
//! changing a test does not rebuild Sockudo.

use std::ffi::OsString;

use sockudo_obs_live::{Metrics, MetricsConfig};
use sonic_rs::{JsonContainerTrait, JsonValueTrait};

use sockudo_core::metrics::MetricsInterface;

use crate::bridge::Bridge;
use crate::driver::{exposition_to_json, PrometheusMetricsDriver};

fn line<'t>(text: &'t str, series: &str) -> Option<&'t str> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
}

#[test]
fn queue_facade_metrics_reach_the_catalogue_and_the_rest_is_dropped() {
    let metrics = Metrics::new(&MetricsConfig::default()).unwrap();
    let bridge = Bridge::new(&metrics);
    metrics::with_local_recorder(&bridge, || {
        let settled = |outcome: &'static str| metrics::counter!("sockudo_queue_settled_total", "backend" => "redis", "queue" => "webhooks", "outcome" => outcome);
        settled("completed").increment(3);
        settled("dead-letter").increment(1);
        settled("retry").increment(1);
        metrics::histogram!("sockudo_queue_processing_duration_seconds", "queue" => "webhooks").record(0.2);
        metrics::histogram!("sockudo_queue_processing_duration_seconds", "queue" => "webhooks")
            .record(f64::NAN);
        metrics::gauge!("sockudo_queue_depth", "queue" => "webhooks", "state" => "active").set(7.0);
        metrics::gauge!("sockudo_queue_depth", "queue" => "webhooks", "state" => "ready").set(50.0);
        metrics::gauge!("sockudo_queue_depth", "queue" => "webhooks", "state" => "ready").set(99.0);
        metrics::gauge!("sockudo_queue_depth", "queue" => "webhooks", "state" => "delayed").set(1000.0);
        metrics::gauge!("sockudo_queue_depth", "queue" => "other", "state" => "ready").set(1.0);
        metrics::counter!("sockudo_queue_enqueue_total", "queue" => "webhooks").increment(5);
        metrics::histogram!("http.server.request.duration", "http.route" => "/x").record(1.0);
    });
    let text = metrics.encode();
    let q = r#"{queue="webhooks"}"#;
    assert_eq!(
        line(&text, &format!("sockudo_queue_jobs_processed_total{q}")),
        Some("5")
    );
    assert_eq!(
        line(&text, &format!("sockudo_queue_jobs_failed_total{q}")),
        Some("2")
    );
    // Waiting (ready) plus running (active), each state's latest value; delayed jobs are not in it.
    assert_eq!(line(&text, &format!("sockudo_queue_active_jobs{q}")), Some("106"));
    assert_eq!(
        line(&text, r#"sockudo_queue_active_jobs{queue="other"}"#),
        Some("1")
    );
    assert_eq!(
        line(&text, &format!("sockudo_queue_job_duration_seconds_count{q}")),
        Some("2")
    );
    assert!(
        !text.contains("enqueue") && !text.contains("http_server"),
        "unmapped names are dropped"
    );
}

#[test]
fn json_has_the_stock_shape_and_undoes_escapes() {
    let text = "# TYPE a gauge\na 1\nb{x=\"1\",y=\"q\\\"u\\no\"} 2.5\nb{x=\"2\",y=\"\"} 3\n";
    let json = exposition_to_json(text);
    let shown = sonic_rs::to_string(&json).unwrap();
    assert_eq!(json["a"].as_f64(), Some(1.0), "{shown}");
    let b = json["b"].as_array().expect("labelled series are a list");
    assert_eq!(b.len(), 2, "{shown}");
    assert_eq!(
        (b[0]["x"].as_str(), b[0]["y"].as_str(), b[0]["value"].as_f64()),
        (Some("1"), Some("q\"u\no"), Some(2.5)),
        "{shown}"
    );
    assert_eq!(
        (b[1]["x"].as_str(), b[1]["y"].as_str()),
        (Some("2"), Some("")),
        "{shown}"
    );
}

#[test]
fn the_prefix_comes_from_the_server_then_the_documented_variables() {
    let none = |_: &str| None;
    let driver = PrometheusMetricsDriver::build(9601, Some("acme_"), &none).unwrap();
    assert_eq!(driver.metrics().prefix(), "acme_");
    let documented =
        |v: &str| (v == "PROMETHEUS_METRICS_PREFIX").then(|| OsString::from("my_company_sockudo_"));
    let driver = PrometheusMetricsDriver::build(9601, Some("sockudo_"), &documented).unwrap();
    assert_eq!(driver.metrics().prefix(), "my_company_sockudo_");
    let bad_port = |v: &str| (v == "METRICS_PORT").then(|| OsString::from("abc"));
    assert!(
        PrometheusMetricsDriver::build(9601, None, &bad_port).is_ok(),
        "the server owns the port"
    );
    let error = PrometheusMetricsDriver::build(9601, Some("my-company"), &none)
        .err()
        .unwrap();
    assert!(
        error.contains("metrics.prometheus.prefix") && error.contains("my-company"),
        "{error}"
    );
}

// The instrumented build records HTTP requests through its own call, not this histogram.
#[cfg(not(feature = "instrumented"))]
#[test]
fn sockudo_http_durations_reach_the_route_with_the_catalogue_spelling() {
    let metrics = Metrics::new(&MetricsConfig::default()).unwrap();
    let bridge = Bridge::new(&metrics);
    metrics::with_local_recorder(&bridge, || {
        let timed = |method: &'static str, route: &'static str| metrics::histogram!("http.server.request.duration", "http.request.method" => method, "http.route" => route);
        timed("POST", "/apps/{appId}/events").record(0.02);
        timed("POST", "/apps/{appId}/events").record(0.3);
        timed("GET", "unmatched").record(0.001);
        // A method outside the catalogue's closed set is not recorded, nor a WebSocket upgrade.
        timed("PROPFIND", "/apps/{appId}/events").record(1.0);
        timed("GET", "/app/{appKey}").record(0.002);
    });
    let text = metrics.encode();
    let events = r#"{endpoint="/apps/:appId/events",method="POST"}"#;
    assert_eq!(
        line(
            &text,
            &format!("sockudo_http_request_duration_seconds_count{events}")
        ),
        Some("2"),
        "{text}"
    );
    assert_eq!(
        line(
            &text,
            r#"sockudo_http_request_duration_seconds_count{endpoint="unmatched",method="GET"}"#
        ),
        Some("1")
    );
    assert!(
        !text.contains("PROPFIND")
            && !text.contains("/app/")
            && !text.contains("sockudo_http_requests_total{"),
        "no status, so no request counter: {text}"
    );
}

#[test]
fn a_relayed_publish_with_no_local_recipient_counts_nothing() {
    let none = |_: &str| None;
    let driver = PrometheusMetricsDriver::build(9601, None, &none).unwrap();
    driver.track_broadcast_latency("app-1", "public-room", 0, 1.0);
    let text = driver.metrics().encode();
    let broadcasts = r#"sockudo_broadcast_messages_total{app_id="app-1",channel_type="public"}"#;
    assert_eq!(line(&text, broadcasts), None, "nothing resolved the app: {text}");
    driver.track_broadcast_latency("app-1", "public-room", 2, 1.0);
    let text = driver.metrics().encode();
    assert_eq!(line(&text, broadcasts), Some("1"), "{text}");
}

#[test]
fn horizontal_requests_are_adapter_operations_with_their_latency() {
    let none = |_: &str| None;
    let driver = PrometheusMetricsDriver::build(9601, None, &none)
        .unwrap()
        .with_adapter_name("redis");
    driver.track_horizontal_adapter_resolve_time("app-1", 12.5);
    driver.track_horizontal_adapter_resolved_promises("app-1", true, "ChannelSockets");
    driver.track_horizontal_adapter_resolve_time("app-1", 5000.0);
    driver.track_horizontal_adapter_resolved_promises("app-1", false, "ChannelSockets");
    let text = driver.metrics().encode();
    let request = r#"{adapter="redis",operation="request"}"#;
    assert_eq!(
        line(&text, &format!("sockudo_adapter_operations_total{request}")),
        Some("2"),
        "{text}"
    );
    assert_eq!(
        line(&text, &format!("sockudo_adapter_errors_total{request}")),
        Some("1")
    );
    assert_eq!(
        line(&text, &format!("sockudo_adapter_latency_seconds_sum{request}")),
        Some("5.0125")
    );
}
