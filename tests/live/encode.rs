//! The fast encoder against `prometheus::TextEncoder` on one shared registry: byte for byte the
//! same exposition, host metrics included; and the configurable caps with their overflow count.

use std::time::Duration;

use crate::support::demo::{Demo, Scenario};
use crate::support::live::sum;
use prometheus::{IntCounter, IntGaugeVec, Opts, Registry, TextEncoder};
use sockudo_obs::live::{
    AdapterOperation, CacheOperation, ChannelType, HttpMethod, Limits, Metrics, OVERFLOW_LABEL,
};
use sockudo_obs::MetricsConfig;

/// A registry with host metrics whose names sort before, between and after the catalogue's.
fn host_registry() -> Registry {
    let registry = Registry::new();
    let restarts = IntCounter::new("process_restarts_total", "Restarts of the host process").unwrap();
    restarts.inc_by(3);
    registry.register(Box::new(restarts)).unwrap();
    let between = IntGaugeVec::new(
        Opts::new(
            "sockudo_host_between",
            "Sorts between catalogue names\\with \"escapes\"\nand lines",
        ),
        &["shard"],
    )
    .unwrap();
    between.with_label_values(&["b"]).set(-2);
    between.with_label_values(&["a"]).set(5);
    registry.register(Box::new(between)).unwrap();
    let after = IntCounter::new("zzz_last_total", "Sorts after everything").unwrap();
    registry.register(Box::new(after)).unwrap();
    registry
}

/// Records a bit of everything, with label values that need escaping and arrive out of order.
fn record_everything(metrics: &Metrics) {
    for app_id in [
        "zeta",
        "alpha",
        "quote\"back\\slash\nnewline",
        "ünïcødé",
        "a b",
        "a",
        "a!",
    ] {
        let app = metrics.app(app_id);
        app.connection_opened();
        app.message_sent(ChannelType::Presence);
        app.broadcast(ChannelType::PrivateEncrypted, 7);
        app.webhook_sent("member_added", Duration::from_micros(1234));
        app.webhook_failed("channel_vacated", Duration::from_millis(2500));
    }
    let route = metrics.http_route(HttpMethod::Post, "/apps/:app_id/events");
    route.request_done(200, Duration::from_secs_f64(0.0123), 77);
    route.request_done(503, Duration::from_secs(20), 1 << 20);
    metrics
        .http_route(HttpMethod::Get, "/apps/:app_id/channels")
        .request_done(404, Duration::ZERO, 0);
    let queue = metrics.queue("webhooks");
    queue.job_started();
    queue.job_failed(Duration::from_millis(300));
    queue.set_active_jobs(-4);
    let cache = metrics.cache("apps");
    cache.hit();
    cache.operation(CacheOperation::Expire);
    cache.set_memory_bytes(u64::MAX);
    metrics
        .adapter("redis")
        .operation_failed(AdapterOperation::PresenceSync, Duration::from_nanos(1));
    let mut demo = Demo::with_seed(metrics, Scenario::Slow, 5);
    demo.tick();
}

fn assert_same_as_text_encoder(metrics: &Metrics) {
    let ours = metrics.encode();
    let theirs = TextEncoder::new()
        .encode_to_string(&metrics.registry().gather())
        .unwrap();
    if ours != theirs {
        let diff = ours
            .lines()
            .zip(theirs.lines())
            .find(|(a, b)| a != b)
            .map(|(a, b)| format!("ours:   {a}\ntheirs: {b}"))
            .unwrap_or_else(|| format!("lengths {} vs {}", ours.len(), theirs.len()));
        panic!("the expositions differ at\n{diff}");
    }
}

#[test]
fn the_fast_encoder_matches_text_encoder_byte_for_byte() {
    let metrics = Metrics::builder(&MetricsConfig::default())
        .registry(host_registry())
        .build()
        .unwrap();
    assert_same_as_text_encoder(&metrics);
    record_everything(&metrics);
    assert_same_as_text_encoder(&metrics);
    let text = metrics.encode();
    for line in [
        "process_restarts_total 3\n",
        "sockudo_host_between{shard=\"a\"} 5\n",
        "zzz_last_total 0\n",
        "sockudo_messages_sent_total{app_id=\"quote\\\"back\\\\slash\\nnewline\",channel_type=\"presence\"} 1\n",
    ] {
        assert!(text.contains(line), "missing {line}");
    }
}

#[test]
fn the_fast_encoder_matches_text_encoder_under_another_prefix_and_with_overflow() {
    let config = MetricsConfig {
        prefix: "acme_".to_string(),
        ..MetricsConfig::default()
    };
    let limits = Limits {
        apps: 3,
        webhook_events_per_app: 1,
        ..Limits::default()
    };
    let metrics = Metrics::builder(&config)
        .registry(host_registry())
        .limits(limits)
        .build()
        .unwrap();
    record_everything(&metrics);
    assert_same_as_text_encoder(&metrics);
}

#[test]
fn caps_come_from_limits_and_folds_are_counted() {
    let limits = Limits {
        apps: 2,
        queues: 1,
        routes: 1,
        webhook_events_per_app: 1,
        ..Limits::default()
    };
    let metrics = Metrics::builder(&MetricsConfig::default())
        .limits(limits)
        .build()
        .unwrap();
    let text = metrics.encode();
    for label in ["app_id", "endpoint", "queue", "cache", "adapter", "event"] {
        assert!(
            text.contains(&format!("sockudo_label_overflow_total{{label=\"{label}\"}} 0\n")),
            "{label} starts at 0"
        );
    }
    metrics.app("a");
    metrics.app("b");
    assert_eq!(metrics.app("c").app_id(), OVERFLOW_LABEL);
    assert_eq!(metrics.app("d").app_id(), OVERFLOW_LABEL);
    assert_eq!(metrics.app("a").app_id(), "a");
    metrics.queue("q1");
    metrics.queue("q2").job_started();
    metrics.http_route(HttpMethod::Get, "/one");
    let other = metrics.http_route(HttpMethod::Post, "/two");
    assert_eq!(
        (other.method(), other.endpoint()),
        (HttpMethod::Get, OVERFLOW_LABEL)
    );
    let app = metrics.app("a");
    app.webhook_sent("member_added", Duration::ZERO);
    app.webhook_sent("member_removed", Duration::ZERO);
    let text = metrics.encode();
    let folded = |label| sum(&text, "sockudo_label_overflow_total", &[("label", label)]);
    assert_eq!(folded("app_id"), 2.0);
    assert_eq!(folded("queue"), 1.0);
    assert_eq!(folded("endpoint"), 1.0);
    assert_eq!(folded("event"), 1.0);
    assert_eq!(folded("cache"), 0.0);
    assert_eq!(
        sum(&text, "sockudo_queue_active_jobs", &[("queue", OVERFLOW_LABEL)]),
        1.0
    );
    assert_eq!(
        sum(
            &text,
            "sockudo_webhooks_sent_total",
            &[("app_id", "a"), ("event", OVERFLOW_LABEL)]
        ),
        1.0
    );
}
