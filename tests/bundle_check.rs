//! Each check of the rules fires on a spec broken in exactly one way, and names the file and the
//! rule. The specs are a temporary copy of the repository's, edited per test.

mod common;

use common::{assert_problem, environments, Specs};
use serde_norway::Value;
use sockudo_obs::bundle::check::rules::check_with_catalogue;
use sockudo_obs::catalogue::CATALOGUE;

#[test]
fn the_shipped_specs_pass_in_every_environment() {
    let specs = Specs::copy();
    for env in environments() {
        assert_eq!(specs.problems(&env), vec![], "{env}");
    }
}

#[test]
fn an_unknown_metric_is_reported() {
    let specs = Specs::copy();
    specs.replace(
        "alerts/queue.yaml",
        "(sockudo_queue_active_jobs)",
        "(sockudo_queue_activ_jobs)",
    );
    assert_problem(
        &specs.problems("production"),
        "alerts/queue.yaml",
        "job_queue:sockudo_queue_active_jobs:max",
        "unknown metric sockudo_queue_activ_jobs",
    );
}

#[test]
fn renaming_a_catalogue_metric_breaks_the_specs_that_use_it() {
    let specs = Specs::copy();
    let model = specs.load("production").unwrap();
    let mut renamed = CATALOGUE.to_vec();
    let entry = renamed
        .iter_mut()
        .find(|m| m.name == "http_requests_total")
        .unwrap();
    entry.name = "http_api_requests_total";
    let problems = check_with_catalogue(&model, &renamed);
    assert_problem(
        &problems,
        "alerts/http.yaml",
        "job_instance:sockudo_http_requests:rate5m",
        "unknown metric sockudo_http_requests_total",
    );
    assert!(check_with_catalogue(&model, CATALOGUE).is_empty());
}

#[test]
fn an_unknown_label_in_a_matcher_is_reported() {
    let specs = Specs::copy();
    specs.replace("alerts/http.yaml", r#"{status=~"5.."}"#, r#"{code=~"5.."}"#);
    assert_problem(
        &specs.problems("production"),
        "alerts/http.yaml",
        "job_instance:sockudo_http_requests_5xx:rate5m",
        r#"has no label "code""#,
    );
}

#[test]
fn an_unknown_label_in_by_is_reported() {
    let specs = Specs::copy();
    specs.replace(
        "alerts/queue.yaml",
        "max by (job, queue)",
        "max by (job, queue_name)",
    );
    assert_problem(
        &specs.problems("production"),
        "alerts/queue.yaml",
        "job_queue:sockudo_queue_active_jobs:max",
        r#"no label "queue_name""#,
    );
}

#[test]
fn a_recording_rule_label_that_was_aggregated_away_is_reported() {
    let specs = Specs::copy();
    specs.replace(
        "alerts/http.yaml",
        "expr: job_instance:sockudo_http_requests_5xx:ratio_rate5m > ${threshold}",
        "expr: job_instance:sockudo_http_requests_5xx:ratio_rate5m{endpoint=\"/x\"} > ${threshold}",
    );
    assert_problem(
        &specs.problems("production"),
        "alerts/http.yaml",
        "SockudoHighErrorRate",
        r#"has no label "endpoint""#,
    );
}

#[test]
fn a_counter_outside_rate_is_reported() {
    let specs = Specs::copy();
    specs.replace(
        "alerts/connections.yaml",
        "sum by (job, instance) (rate(sockudo_total_connections[5m]))",
        "sum by (job, instance) (sockudo_total_connections)",
    );
    assert_problem(
        &specs.problems("production"),
        "alerts/connections.yaml",
        "job_instance:sockudo_total_connections:rate5m",
        "counter sockudo_total_connections used outside rate",
    );
}

#[test]
fn a_gauge_inside_rate_is_reported() {
    let specs = Specs::copy();
    specs.replace(
        "alerts/connections.yaml",
        "sum by (job, instance) (sockudo_active_connections)",
        "sum by (job, instance) (rate(sockudo_active_connections[5m]))",
    );
    assert_problem(
        &specs.problems("production"),
        "alerts/connections.yaml",
        "job_instance:sockudo_active_connections:sum",
        "rate() of sockudo_active_connections, which is not a counter",
    );
}

#[test]
fn histogram_quantile_without_by_le_is_reported() {
    let specs = Specs::copy();
    specs.replace(
        "alerts/queue.yaml",
        "sum by (job, queue, le)",
        "sum by (job, queue)",
    );
    assert_problem(
        &specs.problems("production"),
        "alerts/queue.yaml",
        "job_queue:sockudo_queue_job_duration_seconds:p95_5m",
        "histogram_quantile needs",
    );
}

#[test]
fn a_quantile_threshold_off_the_buckets_is_reported() {
    let specs = Specs::copy();
    specs.edit_alert("alerts/http.yaml", "SockudoHighLatency", |alert| {
        alert.insert("threshold".into(), Value::from(0.75));
    });
    assert_problem(
        &specs.problems("production"),
        "alerts/http.yaml",
        "SockudoHighLatency",
        "0.75, which is not one of its bucket bounds",
    );
}

#[test]
fn a_profile_override_gets_the_same_bucket_check() {
    let specs = Specs::copy();
    specs.replace(
        "environments/staging.yaml",
        "alerts:\n",
        "alerts:\n  SockudoHighLatency:\n    threshold: 0.3\n",
    );
    assert_problem(
        &specs.problems("staging"),
        "alerts/http.yaml",
        "SockudoHighLatency",
        "not one of its bucket bounds",
    );
    assert_eq!(specs.problems("production"), vec![]);
}

#[test]
fn a_badly_named_recording_rule_is_reported() {
    let specs = Specs::copy();
    specs.replace(
        "alerts/cache.yaml",
        "record: job_cache:sockudo_cache_memory_usage_bytes:sum",
        "record: cache_memory_sum",
    );
    specs.replace(
        "alerts/cache.yaml",
        "record: job_cache:sockudo_cache_misses:rate5m",
        "record: cache:sockudo_cache_misses:rate5m",
    );
    let problems = specs.problems("production");
    assert_problem(
        &problems,
        "alerts/cache.yaml",
        "cache_memory_sum",
        "level:metric:operations",
    );
    assert_problem(
        &problems,
        "alerts/cache.yaml",
        "cache:sockudo_cache_misses:rate5m",
        r#"must name the labels the rule keeps: "job_cache""#,
    );
}

#[test]
fn alerts_missing_mixin_fields_are_reported() {
    for (field, needle) in [
        ("severity", "missing severity"),
        ("summary", "missing summary"),
        ("description", "missing description"),
        ("runbook", "missing runbook"),
        ("for", "missing `for`"),
    ] {
        let specs = Specs::copy();
        specs.edit_alert("alerts/queue.yaml", "SockudoQueueBacklog", |alert| {
            alert.remove(field).unwrap();
        });
        assert_problem(
            &specs.problems("production"),
            "alerts/queue.yaml",
            "SockudoQueueBacklog",
            needle,
        );
    }
}

#[test]
fn alert_style_breaks_are_reported() {
    let cases: [(&str, Value, &str); 4] = [
        (
            "summary",
            Value::from("Queue {{ $labels.queue }} is long"),
            "summary must be static",
        ),
        (
            "description",
            Value::from("The queue is long."),
            "description must be templated",
        ),
        (
            "severity",
            Value::from("page"),
            r#"severity "page" is not one of"#,
        ),
        ("for", Value::from("0s"), "fires on the first blip"),
    ];
    for (field, value, needle) in cases {
        let specs = Specs::copy();
        specs.edit_alert("alerts/queue.yaml", "SockudoQueueBacklog", |alert| {
            alert.insert(field.into(), value);
        });
        assert_problem(
            &specs.problems("production"),
            "alerts/queue.yaml",
            "SockudoQueueBacklog",
            needle,
        );
    }
}

#[test]
fn a_description_reading_a_label_the_series_lack_is_reported() {
    let specs = Specs::copy();
    specs.edit_alert("alerts/queue.yaml", "SockudoQueueBacklog", |alert| {
        alert.insert("description".into(), "{{ $labels.instance }} is behind".into());
    });
    assert_problem(
        &specs.problems("production"),
        "alerts/queue.yaml",
        "SockudoQueueBacklog",
        "reads $labels.instance",
    );
}

#[test]
fn an_alert_name_outside_the_style_is_reported() {
    let specs = Specs::copy();
    specs.replace(
        "alerts/cache.yaml",
        "alert: SockudoLowCacheHitRatio",
        "alert: low_cache_hits",
    );
    assert_problem(
        &specs.problems("development"),
        "alerts/cache.yaml",
        "low_cache_hits",
        "CamelCase",
    );
}

#[test]
fn an_alert_without_a_quiet_fixture_is_reported() {
    let specs = Specs::copy();
    specs.edit_alert("alerts/queue.yaml", "SockudoQueueBacklog", |alert| {
        alert["tests"].as_sequence_mut().unwrap().truncate(1);
    });
    assert_problem(
        &specs.problems("production"),
        "alerts/queue.yaml",
        "SockudoQueueBacklog",
        "stays quiet",
    );
}

#[test]
fn a_fixture_series_is_checked_against_the_catalogue() {
    let specs = Specs::copy();
    specs.replace(
        "alerts/queue.yaml",
        r#"sockudo_queue_active_jobs{job="${job}", instance="sockudo-1", queue="webhooks"}"#,
        r#"sockudo_queue_active_jobs{job="${job}", instance="sockudo-1", queu="webhooks"}"#,
    );
    let problems = specs.problems("production");
    assert!(
        problems.iter().any(|p| p.file == "alerts/queue.yaml"
            && p.item.starts_with("SockudoQueueBacklog (fixture")
            && p.message.contains(r#"no label "queu""#)),
        "{problems:#?}"
    );
}

#[test]
fn duplicate_names_are_reported() {
    let specs = Specs::copy();
    specs.replace(
        "alerts/queue.yaml",
        "alert: SockudoQueueJobFailures",
        "alert: SockudoQueueBacklog",
    );
    specs.replace(
        "alerts/traffic.yaml",
        "record: job_app_id:sockudo_client_events:rate5m",
        "record: job_app_id:sockudo_messages_sent:rate5m",
    );
    let problems = specs.problems("production");
    assert_problem(
        &problems,
        "alerts/queue.yaml",
        "SockudoQueueBacklog",
        "duplicate alert name",
    );
    assert_problem(
        &problems,
        "alerts/traffic.yaml",
        "job_app_id:sockudo_messages_sent:rate5m",
        "duplicate recording rule name",
    );
}

/// Each case breaks a spec or a profile one way; loading fails with an error that names the file
/// (and the rule, where there is one).
#[test]
fn broken_specs_and_profiles_fail_to_load_naming_the_place() {
    type Edit = fn(&Specs);
    let cases: [(&str, Edit, &[&str]); 7] = [
        (
            "unknown key in an alert",
            |specs| {
                specs.edit_alert("alerts/queue.yaml", "SockudoQueueBacklog", |alert| {
                    alert.insert("sevrity".into(), "warning".into());
                });
            },
            &[
                "alerts/queue.yaml: SockudoQueueBacklog",
                "unknown field `sevrity`",
            ],
        ),
        (
            "unknown top-level key in a spec",
            |specs| {
                specs.replace("alerts/traffic.yaml", "recording:", "recordings:");
            },
            &["alerts/traffic.yaml", "recordings"],
        ),
        (
            "unknown key in a profile",
            |specs| {
                specs.replace(
                    "environments/production.yaml",
                    "  scrape_interval:",
                    "  scrape_intervall:",
                );
            },
            &["environments/production.yaml", "scrape_intervall"],
        ),
        (
            "override of an unknown alert",
            |specs| {
                specs.replace(
                    "environments/production.yaml",
                    "  SockudoHighConnections:",
                    "  SockudoHighConections:",
                );
            },
            &["environments/production.yaml", "SockudoHighConections"],
        ),
        (
            "threshold of the wrong type",
            |specs| {
                specs.edit_alert("alerts/connections.yaml", "SockudoHighConnections", |alert| {
                    alert.insert("threshold".into(), "high".into());
                });
            },
            &[
                "alerts/connections.yaml: SockudoHighConnections",
                "invalid type: string \"high\"",
            ],
        ),
        (
            "${threshold} without a threshold",
            |specs| {
                specs.edit_alert("alerts/queue.yaml", "SockudoQueueBacklog", |alert| {
                    alert.remove("threshold");
                });
            },
            &["alerts/queue.yaml: SockudoQueueBacklog", "no threshold"],
        ),
        (
            "a threshold without ${threshold}",
            |specs| {
                specs.edit_alert("alerts/availability.yaml", "SockudoInstanceDown", |alert| {
                    alert.insert("threshold".into(), Value::from(1));
                });
            },
            &["alerts/availability.yaml: SockudoInstanceDown", "has a threshold"],
        ),
    ];
    for (case, edit, needles) in cases {
        let specs = Specs::copy();
        edit(&specs);
        let error = specs.load_error("production");
        for needle in needles {
            assert!(error.contains(needle), "{case}: expected {needle:?} in: {error}");
        }
    }
}

/// The problems of development with a federation job whose `match[]` are `selectors`.
fn federation_problems(selectors: &[&str]) -> Vec<sockudo_obs::bundle::check::Problem> {
    let specs = Specs::copy();
    let listed: String = selectors.iter().map(|s| format!("      - '{s}'\n")).collect();
    specs.replace(
        "environments/development.yaml",
        "  federation: null",
        &format!("  federation:\n    job_name: federate\n    targets: [prometheus-a:9090]\n    match_selectors:\n{listed}"),
    );
    specs.problems("development")
}

#[test]
fn federation_selectors_are_checked() {
    let problems = federation_problems(&[
        r#"{__name__=~"job_instance:.*"}"#,
        r#"sockudo_http_requests_total{code="500"}"#,
    ]);
    assert_problem(
        &problems,
        "environments/development.yaml",
        "prometheus.federation.match_selectors[1]",
        r#"no label "code""#,
    );
    assert!(!problems.iter().any(|p| p.item.ends_with("[0]")), "{problems:#?}");
}

#[test]
fn the_kubernetes_labels_are_allowed_only_with_kubernetes_discovery() {
    let specs = Specs::copy();
    specs.replace(
        "alerts/queue.yaml",
        "max by (job, queue) (sockudo_queue_active_jobs)",
        "max by (job, queue) (sockudo_queue_active_jobs{namespace!=\"\"})",
    );
    assert_eq!(specs.problems("production"), vec![], "production discovers pods");
    assert_problem(
        &specs.problems("development"),
        "alerts/queue.yaml",
        "job_queue:sockudo_queue_active_jobs:max",
        r#"no label "namespace""#,
    );
}

#[test]
fn a_name_regex_that_matches_no_known_metric_is_a_problem() {
    let problems = federation_problems(&[
        r#"{__name__=~"sockudo_.*bogus"}"#,
        r#"{__name__=~"sockudo_http_.*", __name__!~".*_bucket"}"#,
        r#"{__name__=~"sockudo_http_.*", __name__!~"sockudo_http_.*"}"#,
    ]);
    let file = "environments/development.yaml";
    let item = |i: usize| format!("prometheus.federation.match_selectors[{i}]");
    assert_problem(&problems, file, &item(0), "matches no metric");
    assert!(!problems.iter().any(|p| p.item == item(1)), "{problems:#?}");
    assert_problem(&problems, file, &item(2), "matches no metric");
}
