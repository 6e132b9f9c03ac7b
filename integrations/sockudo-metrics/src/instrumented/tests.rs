//! The instrumented calls' recording, in a file of its own: the server's build never reads it.

use sockudo_obs_live::{Metrics, MetricsConfig};

use super::*;

fn value<'t>(text: &'t str, series: &str) -> Option<&'t str> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
}

#[test]
fn channel_calls_record_their_channel_type() {
    let m = Metrics::new(&MetricsConfig::default()).unwrap();
    message_sent_on_channel(&m, "a", "private-encrypted-x");
    message_received_on_channel(&m, "a", "presence-room");
    channel_broadcast(&m, "a", "cache-x", 3);
    channel_broadcast(&m, "a", "cache-x", 0);
    client_event(&m, "a", "private-room");
    client_event(&m, "a", "presence-cache-room");
    presence_member_added(&m, "a");
    presence_member_added(&m, "a");
    presence_member_removed(&m, "a");
    let text = m.encode();
    let at = |family: &str, channel: &str| {
        value(
            &text,
            &format!(r#"sockudo_{family}{{app_id="a",channel_type="{channel}"}}"#),
        )
    };
    assert_eq!(at("messages_sent_total", "private-encrypted"), Some("1"));
    assert_eq!(at("messages_received_total", "presence"), Some("1"));
    assert_eq!(at("messages_sent_total", "cache"), Some("3"));
    assert_eq!(
        at("broadcast_messages_total", "cache"),
        Some("1"),
        "no broadcast for 0 recipients"
    );
    assert_eq!(at("client_events_total", "private"), Some("1"));
    assert_eq!(
        at("client_events_total", "cache"),
        Some("1"),
        "a cache channel is cache"
    );
    let others: usize = ["public", "presence", "private-encrypted"]
        .iter()
        .filter(|c| at("client_events_total", c) != Some("0"))
        .count();
    assert_eq!(others, 0, "each event counts on its own channel's type only");
    assert_eq!(value(&text, r#"sockudo_presence_members{app_id="a"}"#), Some("1"));
}

#[test]
fn http_webhook_cache_and_adapter_calls_reach_their_families() {
    let m = Metrics::new(&MetricsConfig::default()).unwrap();
    let routes = RouteTemplates::new(&m);
    http_request(&routes, "POST", "/apps/{app_id}/events", 200, 5.0, 42);
    http_request(&routes, "GET", UNMATCHED_ROUTE, 404, 1.0, 9);
    http_request(&routes, "BREW", "/coffee", 418, 1.0, 0);
    // A WebSocket upgrade is a connection, not an HTTP API request.
    http_request(&routes, "GET", "/app/{appKey}", 101, 1.0, 0);
    webhook_delivery(&m, "a", &["channel_occupied", "member_added"], true, 30.0);
    webhook_delivery(&m, "a", &["channel_occupied"], false, 10_000.0);
    cache_operation(&m, "memory", "get", Some(false));
    cache_operation(&m, "memory", "get", Some(true));
    cache_operation(&m, "memory", "set", None);
    adapter_operation(&m, "redis", "broadcast", true, 2.0);
    adapter_operation(&m, "redis", "request", false, 5000.0);
    adapter_operation(&m, "redis", "teleport", true, 1.0);
    let text = m.encode();
    let lines = [
        (
            r#"sockudo_http_requests_total{endpoint="/apps/:app_id/events",method="POST",status="200"}"#,
            "1",
        ),
        (
            r#"sockudo_http_requests_total{endpoint="unmatched",method="GET",status="404"}"#,
            "1",
        ),
        (
            r#"sockudo_http_response_size_bytes_sum{endpoint="/apps/:app_id/events",method="POST"}"#,
            "42",
        ),
        (
            r#"sockudo_webhooks_sent_total{app_id="a",event="channel_occupied"}"#,
            "2",
        ),
        (
            r#"sockudo_webhooks_failed_total{app_id="a",event="channel_occupied"}"#,
            "1",
        ),
        (
            r#"sockudo_webhooks_sent_total{app_id="a",event="member_added"}"#,
            "1",
        ),
        (r#"sockudo_cache_hits_total{cache="memory"}"#, "1"),
        (r#"sockudo_cache_misses_total{cache="memory"}"#, "1"),
        (
            r#"sockudo_cache_operations_total{cache="memory",operation="get"}"#,
            "2",
        ),
        (
            r#"sockudo_cache_operations_total{cache="memory",operation="set"}"#,
            "1",
        ),
        (
            r#"sockudo_adapter_operations_total{adapter="redis",operation="broadcast"}"#,
            "1",
        ),
        (
            r#"sockudo_adapter_errors_total{adapter="redis",operation="request"}"#,
            "1",
        ),
        (
            r#"sockudo_adapter_errors_total{adapter="redis",operation="broadcast"}"#,
            "0",
        ),
    ];
    for (series, expected) in lines {
        assert_eq!(value(&text, series), Some(expected), "{series}\n{text}");
    }
    assert!(
        !text.contains("BREW") && !text.contains("/coffee") && !text.contains("/app/"),
        "unlisted methods and the WebSocket upgrade record nothing"
    );
}

/// Patch 0001's `mark_channel_broadcast` takes the publish's start time; its default body (what
/// drivers with a broadcast latency, the stock one among them, get) turns it into the latency the
/// server computed before. Only with the series applied (the `instrumented` feature): the
/// drop-in's own build tests this module against the unpatched trait.
#[cfg(feature = "instrumented")]
#[test]
fn the_series_computes_a_broadcast_latency_from_the_start_time() {
    use sockudo_core::metrics::broadcast_latency_ms;
    use std::time::{SystemTime, UNIX_EPOCH};

    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
        * 1000.0;
    let latency = broadcast_latency_ms(now_ms - 250.0);
    assert!((250.0..60_000.0).contains(&latency), "{latency} ms");
    assert_eq!(
        broadcast_latency_ms(now_ms + 60_000.0),
        0.0,
        "a start ahead of the clock is 0"
    );
}
