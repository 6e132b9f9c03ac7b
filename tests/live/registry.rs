//! The live registry without HTTP: zero-initialisation, what each recording call counts, caps,
//! and the demo's scenarios.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::support::demo::{Demo, Scenario};
use crate::support::live::{samples, sum, types};
use sockudo_obs::catalogue::CATALOGUE;
use sockudo_obs::live::{
    AdapterOperation, CacheOperation, ChannelType, ErrorType, HttpMethod, LimiterType, Limits, Metrics,
    FIRST_USE_FAMILIES, OVERFLOW_LABEL,
};
use sockudo_obs::MetricsConfig;

fn metrics() -> Metrics {
    Metrics::new(&MetricsConfig::default()).unwrap()
}

/// Default metrics with room for `apps` app ids.
fn capped_at(apps: usize) -> Metrics {
    Metrics::builder(&MetricsConfig::default())
        .limits(Limits {
            apps,
            ..Limits::default()
        })
        .build()
        .unwrap()
}

#[test]
fn resolving_an_app_creates_its_series_at_zero() {
    let metrics = metrics();
    metrics.app("a");
    let text = metrics.encode();
    assert!(text.contains("sockudo_messages_sent_total{app_id=\"a\",channel_type=\"presence\"} 0"));
    for &channel in ChannelType::ALL {
        for family in [
            "messages_sent_total",
            "messages_received_total",
            "client_events_total",
            "broadcast_messages_total",
            "active_channels",
            "channel_subscriptions_total",
            "channel_unsubscriptions_total",
        ] {
            let series = format!("sockudo_{family}{{app_id=\"a\",channel_type=\"{channel}\"}} 0\n");
            assert!(text.contains(&series), "missing {series}");
        }
    }
    for &error in ErrorType::ALL {
        assert!(text.contains(&format!(
            "sockudo_connection_errors_total{{app_id=\"a\",error_type=\"{error}\"}} 0\n"
        )));
    }
    for &limiter in LimiterType::ALL {
        for family in ["rate_limit_checks_total", "rate_limit_triggered_total"] {
            assert!(text.contains(&format!(
                "sockudo_{family}{{app_id=\"a\",limiter_type=\"{limiter}\"}} 0\n"
            )));
        }
    }
    for series in [
        "sockudo_active_connections{app_id=\"a\"} 0",
        "sockudo_total_connections{app_id=\"a\"} 0",
        "sockudo_connections_per_app{app_id=\"a\"} 0",
        "sockudo_presence_members{app_id=\"a\"} 0",
        "sockudo_webhook_duration_seconds_count{app_id=\"a\"} 0",
    ] {
        assert!(text.contains(series), "missing {series}");
    }
    // The first-use families are not there yet.
    let present = types(&text);
    for family in FIRST_USE_FAMILIES {
        assert!(!present.contains_key(&format!("sockudo_{family}")), "{family}");
    }
}

#[test]
fn named_handles_create_their_series_at_zero() {
    let metrics = metrics();
    metrics.queue("q");
    metrics.cache("c");
    metrics.adapter("redis");
    metrics.http_route(HttpMethod::Post, "/apps/:app_id/events");
    let text = metrics.encode();
    for series in [
        "sockudo_queue_jobs_processed_total{queue=\"q\"} 0",
        "sockudo_queue_jobs_failed_total{queue=\"q\"} 0",
        "sockudo_queue_active_jobs{queue=\"q\"} 0",
        "sockudo_queue_job_duration_seconds_count{queue=\"q\"} 0",
        "sockudo_cache_hits_total{cache=\"c\"} 0",
        "sockudo_cache_misses_total{cache=\"c\"} 0",
        "sockudo_cache_memory_usage_bytes{cache=\"c\"} 0",
        "sockudo_http_request_duration_seconds_count{endpoint=\"/apps/:app_id/events\",method=\"POST\"} 0",
        "sockudo_http_response_size_bytes_count{endpoint=\"/apps/:app_id/events\",method=\"POST\"} 0",
    ] {
        assert!(text.contains(series), "missing {series}");
    }
    for &op in CacheOperation::ALL {
        assert!(text.contains(&format!(
            "sockudo_cache_operations_total{{cache=\"c\",operation=\"{op}\"}} 0"
        )));
    }
    for &op in AdapterOperation::ALL {
        for family in ["adapter_operations_total", "adapter_errors_total"] {
            assert!(text.contains(&format!(
                "sockudo_{family}{{adapter=\"redis\",operation=\"{op}\"}} 0"
            )));
        }
        assert!(text.contains(&format!(
            "sockudo_adapter_latency_seconds_count{{adapter=\"redis\",operation=\"{op}\"}} 0"
        )));
    }
}

/// Every sample whose value differs between two expositions, with its new value.
fn changed(before: &str, after: &str) -> Vec<String> {
    let old: BTreeSet<String> = before.lines().map(String::from).collect();
    after
        .lines()
        .filter(|l| !l.starts_with('#') && !old.contains(*l))
        .map(String::from)
        .collect()
}

#[test]
fn a_message_increments_exactly_its_series() {
    let metrics = metrics();
    let app = metrics.app("a");
    metrics.app("b");
    let before = metrics.encode();
    app.message_sent(ChannelType::Presence);
    assert_eq!(
        changed(&before, &metrics.encode()),
        ["sockudo_messages_sent_total{app_id=\"a\",channel_type=\"presence\"} 1"]
    );
}

#[test]
fn a_broadcast_counts_once_with_its_fan_out() {
    let metrics = metrics();
    let app = metrics.app("a");
    let before = metrics.encode();
    app.broadcast(ChannelType::Private, 40);
    let mut diff = changed(&before, &metrics.encode());
    diff.sort();
    assert_eq!(
        diff,
        [
            "sockudo_broadcast_messages_total{app_id=\"a\",channel_type=\"private\"} 1",
            "sockudo_messages_sent_total{app_id=\"a\",channel_type=\"private\"} 40",
        ]
    );
}

#[test]
fn connections_move_the_gauges_and_the_counter() {
    let metrics = metrics();
    let app = metrics.app("a");
    app.connection_opened();
    app.connection_opened();
    app.connection_closed();
    app.connection_error(ErrorType::OverQuota);
    let text = metrics.encode();
    assert_eq!(sum(&text, "sockudo_active_connections", &[("app_id", "a")]), 1.0);
    assert_eq!(sum(&text, "sockudo_connections_per_app", &[("app_id", "a")]), 1.0);
    assert_eq!(sum(&text, "sockudo_total_connections", &[("app_id", "a")]), 2.0);
    assert_eq!(
        sum(
            &text,
            "sockudo_connection_errors_total",
            &[("error_type", "over_quota")]
        ),
        1.0
    );
}

#[test]
fn failures_are_a_subset_of_attempts() {
    let metrics = metrics();
    let app = metrics.app("a");
    app.webhook_sent("channel_occupied", Duration::from_millis(30));
    app.webhook_failed("channel_occupied", Duration::from_millis(500));
    let queue = metrics.queue("q");
    queue.job_started();
    queue.job_started();
    queue.job_finished(Duration::from_millis(10));
    queue.job_failed(Duration::from_millis(10));
    let adapter = metrics.adapter("redis");
    adapter.operation_failed(AdapterOperation::Publish, Duration::from_millis(1));
    let text = metrics.encode();
    let event = [("app_id", "a"), ("event", "channel_occupied")];
    assert_eq!(sum(&text, "sockudo_webhooks_sent_total", &event), 2.0);
    assert_eq!(sum(&text, "sockudo_webhooks_failed_total", &event), 1.0);
    assert_eq!(
        sum(
            &text,
            "sockudo_webhook_duration_seconds_count",
            &[("app_id", "a")]
        ),
        2.0
    );
    assert_eq!(sum(&text, "sockudo_queue_jobs_processed_total", &[]), 2.0);
    assert_eq!(sum(&text, "sockudo_queue_jobs_failed_total", &[]), 1.0);
    assert_eq!(sum(&text, "sockudo_queue_active_jobs", &[]), 0.0);
    assert_eq!(
        sum(
            &text,
            "sockudo_adapter_operations_total",
            &[("operation", "publish")]
        ),
        1.0
    );
    assert_eq!(
        sum(&text, "sockudo_adapter_errors_total", &[("operation", "publish")]),
        1.0
    );
}

#[test]
fn webhook_counters_of_an_event_appear_together_on_first_use() {
    let metrics = metrics();
    metrics
        .app("a")
        .webhook_sent("member_added", Duration::from_millis(5));
    let text = metrics.encode();
    assert!(text.contains("sockudo_webhooks_sent_total{app_id=\"a\",event=\"member_added\"} 1"));
    assert!(text.contains("sockudo_webhooks_failed_total{app_id=\"a\",event=\"member_added\"} 0"));
}

#[test]
fn http_status_series_appear_on_first_use_with_three_digits() {
    let metrics = metrics();
    let route = metrics.http_route(HttpMethod::Get, "/apps/:app_id/channels");
    route.request_done(200, Duration::from_millis(20), 512);
    route.request_done(200, Duration::from_millis(20), 512);
    route.request_done(42, Duration::from_millis(20), 0);
    let text = metrics.encode();
    let labels = "endpoint=\"/apps/:app_id/channels\",method=\"GET\"";
    assert!(text.contains(&format!(
        "sockudo_http_requests_total{{{labels},status=\"200\"}} 2"
    )));
    assert!(text.contains(&format!(
        "sockudo_http_requests_total{{{labels},status=\"000\"}} 1"
    )));
    assert!(text.contains(&format!(
        "sockudo_http_request_duration_seconds_bucket{{{labels},le=\"0.025\"}} 3"
    )));
    assert!(text.contains(&format!("sockudo_http_response_size_bytes_sum{{{labels}}} 1024")));
}

#[test]
fn handles_are_shared_and_app_ids_are_capped() {
    let metrics = metrics();
    let first = metrics.app("a");
    first.connection_opened();
    metrics.app("a").connection_opened();
    assert_eq!(
        sum(
            &metrics.encode(),
            "sockudo_active_connections",
            &[("app_id", "a")]
        ),
        2.0
    );

    for i in 1..Limits::default().apps {
        metrics.app(&format!("app-{i}"));
    }
    let late = metrics.app("one-too-many");
    assert_eq!(late.app_id(), OVERFLOW_LABEL);
    assert_eq!(metrics.app("another").app_id(), OVERFLOW_LABEL);
    assert_eq!(metrics.app("app-7").app_id(), "app-7");
    let apps: BTreeSet<String> = samples(&metrics.encode())
        .into_iter()
        .filter(|s| s.name == "sockudo_total_connections")
        .map(|s| s.labels["app_id"].clone())
        .collect();
    assert_eq!(apps.len(), Limits::default().apps + 1);
}

#[test]
fn registries_on_one_thread_stay_apart_and_every_lookup_of_a_folded_id_counts() {
    // Two registries on one thread, alternating on the same app id: each records into its own.
    let (one, two) = (metrics(), metrics());
    for _ in 0..3 {
        one.app("shared").connection_opened();
        two.app("shared").connection_opened();
        two.app("shared").connection_opened();
    }
    let opened = |m: &Metrics| sum(&m.encode(), "sockudo_total_connections", &[("app_id", "shared")]);
    assert_eq!((opened(&one), opened(&two)), (3.0, 6.0));

    // A folded id is counted on every lookup, however often it comes in a row.
    let capped = capped_at(1);
    capped.app("kept");
    for _ in 0..5 {
        assert_eq!(capped.app("folded").app_id(), OVERFLOW_LABEL);
    }
    let long = "x".repeat(sockudo_obs::live::MAX_LABEL_VALUE_LEN + 1);
    capped.app(&long);
    capped.app(&long);
    assert_eq!(capped.app("kept").app_id(), "kept");
    let folded = sum(
        &capped.encode(),
        "sockudo_label_overflow_total",
        &[("label", "app_id")],
    );
    assert_eq!(folded, 7.0);
}

#[test]
fn with_app_records_into_the_handles_app_returns_and_folds_the_same() {
    let metrics = capped_at(2);
    // First sight of an app through `with_app`, then through both; an id of 8 to 16 bytes takes
    // the inlined lookup, any other the general one.
    for id in ["app-0001", "a"] {
        metrics.with_app(id, |app| app.broadcast(ChannelType::Private, 3));
        metrics.app(id).broadcast(ChannelType::Private, 4);
        metrics.with_app(id, |app| {
            assert!(std::ptr::eq(app, metrics.app(id)));
            app.broadcast(ChannelType::Private, 5);
        });
    }
    // Past the cap and past the length limit: the overflow handles, each call counted.
    let long = "y".repeat(sockudo_obs::live::MAX_LABEL_VALUE_LEN + 1);
    for id in ["folded-app-1", "b", long.as_str(), "folded-app-1"] {
        metrics.with_app(id, |app| {
            assert_eq!(app.app_id(), OVERFLOW_LABEL);
            app.connection_opened();
        });
    }
    let text = metrics.encode();
    let sent = |app_id: &str| {
        sum(
            &text,
            "sockudo_messages_sent_total",
            &[("app_id", app_id), ("channel_type", "private")],
        )
    };
    assert_eq!((sent("app-0001"), sent("a")), (12.0, 12.0));
    let opened = sum(&text, "sockudo_total_connections", &[("app_id", OVERFLOW_LABEL)]);
    assert_eq!(opened, 4.0);
    let folded = sum(&text, "sockudo_label_overflow_total", &[("label", "app_id")]);
    assert_eq!(folded, 4.0);
}

#[test]
fn handles_are_send_sync_and_cheap_to_clone() {
    fn assert_handle<T: Clone + Send + Sync + 'static>() {}
    assert_handle::<Metrics>();
    assert_handle::<sockudo_obs::live::AppMetrics>();
    assert_handle::<sockudo_obs::live::RouteMetrics>();
    assert_handle::<sockudo_obs::live::QueueMetrics>();
    assert_handle::<sockudo_obs::live::CacheMetrics>();
    assert_handle::<sockudo_obs::live::AdapterMetrics>();
}

#[test]
fn a_prefix_that_makes_invalid_names_is_an_error() {
    let config = MetricsConfig {
        prefix: "my-company_".to_string(),
        ..MetricsConfig::default()
    };
    let err = Metrics::new(&config).err().expect("invalid names are refused");
    assert!(format!("{err:#}").contains("my-company_active_connections"));
}

// --- The demo -------------------------------------------------------------------------------

/// A demo run for `ticks` ticks in `scenario`, and the exposition afterwards.
fn run_demo(scenario: Scenario, ticks: usize) -> String {
    let metrics = metrics();
    let mut demo = Demo::with_seed(&metrics, scenario, 7);
    for _ in 0..ticks {
        demo.tick();
    }
    metrics.encode()
}

fn ratio(numerator: f64, denominator: f64) -> f64 {
    assert!(denominator > 0.0, "no data for the ratio");
    numerator / denominator
}

fn five_xx_ratio(text: &str) -> f64 {
    let requests = samples(text);
    let all: f64 = requests
        .iter()
        .filter(|s| s.name == "sockudo_http_requests_total")
        .map(|s| s.value)
        .sum();
    let errors: f64 = requests
        .iter()
        .filter(|s| s.name == "sockudo_http_requests_total" && s.labels["status"].starts_with('5'))
        .map(|s| s.value)
        .sum();
    ratio(errors, all)
}

/// The share of HTTP requests (all routes) that took at most `le` seconds.
fn share_within(text: &str, le: &str) -> f64 {
    ratio(
        sum(
            text,
            "sockudo_http_request_duration_seconds_bucket",
            &[("le", le)],
        ),
        sum(text, "sockudo_http_request_duration_seconds_count", &[]),
    )
}

#[test]
fn every_family_is_present_after_one_demo_tick() {
    let present = types(&run_demo(Scenario::Normal, 1));
    let expected: BTreeSet<String> = CATALOGUE.iter().map(|d| d.full_name("sockudo_")).collect();
    assert_eq!(present.keys().cloned().collect::<BTreeSet<_>>(), expected);
}

#[test]
fn normal_traffic_stays_under_every_seed_threshold() {
    let text = run_demo(Scenario::Normal, 300);
    assert!(five_xx_ratio(&text) < 0.01, "5xx ratio {}", five_xx_ratio(&text));
    assert!(share_within(&text, "0.1") > 0.9, "p90 under 100ms");
    assert!(share_within(&text, "1") > 0.99);
    for s in samples(&text) {
        match s.name.as_str() {
            "sockudo_active_connections" => assert!(s.value < 200.0, "{:?}", s.labels),
            "sockudo_queue_active_jobs" => assert!(s.value < 50.0, "{:?}", s.labels),
            _ => {}
        }
    }
    let hits = sum(&text, "sockudo_cache_hits_total", &[]);
    assert!(ratio(hits, hits + sum(&text, "sockudo_cache_misses_total", &[])) > 0.9);
    let webhook_failures = ratio(
        sum(&text, "sockudo_webhooks_failed_total", &[]),
        sum(&text, "sockudo_webhooks_sent_total", &[]),
    );
    assert!(
        webhook_failures < 0.05,
        "webhook failure ratio {webhook_failures}"
    );
    let queue_failures = ratio(
        sum(&text, "sockudo_queue_jobs_failed_total", &[]),
        sum(&text, "sockudo_queue_jobs_processed_total", &[]),
    );
    assert!(queue_failures < 0.05);
    assert!(
        ratio(
            sum(&text, "sockudo_adapter_errors_total", &[]),
            sum(&text, "sockudo_adapter_operations_total", &[])
        ) < 0.01
    );
    assert!(
        ratio(
            sum(&text, "sockudo_rate_limit_triggered_total", &[]),
            sum(&text, "sockudo_rate_limit_checks_total", &[])
        ) < 0.05
    );
}

#[test]
fn the_errors_scenario_makes_half_the_responses_5xx() {
    let ratio = five_xx_ratio(&run_demo(Scenario::Errors, 100));
    assert!(ratio >= 0.5, "5xx ratio {ratio}");
}

#[test]
fn the_slow_scenario_puts_p95_above_one_second() {
    let text = run_demo(Scenario::Slow, 20);
    assert!(share_within(&text, "1") < 0.05, "p95 > 1s");
    assert!(share_within(&text, "5") > 0.99, "but under 5s");
}

#[test]
fn the_connections_scenario_passes_1000_connections_on_one_app() {
    let text = run_demo(Scenario::Connections, 10);
    assert!(sum(&text, "sockudo_active_connections", &[("app_id", "demo-app")]) > 1000.0);
    assert!(sum(&text, "sockudo_active_connections", &[("app_id", "chat-app")]) < 200.0);
}

#[test]
fn the_backlog_scenario_passes_1000_active_jobs() {
    let text = run_demo(Scenario::Backlog, 10);
    assert!(sum(&text, "sockudo_queue_active_jobs", &[("queue", "webhooks")]) > 1000.0);
}

#[test]
fn switching_back_to_normal_recovers() {
    let metrics = metrics();
    let mut demo = Demo::with_seed(&metrics, Scenario::Connections, 3);
    (0..10).for_each(|_| demo.tick());
    demo.switch().set(Scenario::Normal);
    (0..10).for_each(|_| demo.tick());
    let text = metrics.encode();
    assert!(sum(&text, "sockudo_active_connections", &[("app_id", "demo-app")]) < 200.0);
}

/// The docs promise (METRICS.md): once every kind of handle is resolved, every family but the
/// first-use ones has series, all at zero; the first-use ones have none yet.
#[test]
fn resolving_every_handle_creates_every_family_but_the_first_use_ones_at_zero() {
    let metrics = metrics();
    metrics.app("a");
    metrics.queue("q");
    metrics.cache("c");
    metrics.adapter("redis");
    metrics.http_route(HttpMethod::Get, "/apps/:app_id/channels");
    let text = metrics.encode();
    let all = samples(&text);
    let (build_info, recorded): (Vec<_>, Vec<_>) = all.iter().partition(|s| s.name == "sockudo_build_info");
    assert!(
        recorded.iter().all(|s| s.value == 0.0),
        "nothing recorded yet, so every value is 0"
    );
    // build_info is the one series at 1 from the start, naming the library and the prefix.
    assert_eq!(build_info.len(), 1, "{text}");
    assert_eq!(build_info[0].value, 1.0);
    assert_eq!(
        sum(
            &text,
            "sockudo_build_info",
            &[("version", env!("CARGO_PKG_VERSION")), ("prefix", "sockudo_")]
        ),
        1.0
    );
    let with_series: BTreeSet<String> = all
        .iter()
        .map(|s| {
            let family = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|suffix| {
                    s.name
                        .strip_suffix(suffix)
                        .filter(|f| types(&text).contains_key(*f))
                })
                .unwrap_or(&s.name);
            family.trim_start_matches("sockudo_").to_string()
        })
        .collect();
    let expected: BTreeSet<String> = CATALOGUE
        .iter()
        .map(|m| m.name)
        .filter(|name| !FIRST_USE_FAMILIES.contains(name))
        .map(str::to_string)
        .collect();
    assert_eq!(with_series, expected);
}
