//! Each check of the rules fires on a spec broken in exactly one way, and names the file and the
//! rule. The specs are a temporary copy of the repository's, edited per test.

use crate::support::specs::{assert_problem, environments, Specs};

use serde_norway::Value;
use sockudo_obs::bundle::check::{check_with_catalogue, run, Problem};
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

/// A unitless range no `Duration` holds made promql-parser panic (the fuzzer found it); it is a
/// problem naming the rule instead.
#[test]
fn a_range_no_duration_holds_is_reported_not_a_panic() {
    let specs = Specs::copy();
    specs.replace(
        "alerts/queue.yaml",
        "(sockudo_queue_jobs_failed_total[5m])",
        "(sockudo_queue_jobs_failed_total[1e30])",
    );
    assert_problem(
        &specs.problems("production"),
        "alerts/queue.yaml",
        "job_queue:sockudo_queue_jobs_failed:rate5m",
        "`1e30` is no duration a range, a step or an offset can have",
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
        "max by (${routing}, job, queue)",
        "max by (${routing}, job, queue_name)",
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
        "sum by (${routing}, job, instance, ${pod}) (rate(sockudo_total_connections[5m]))",
        "sum by (${routing}, job, instance, ${pod}) (sockudo_total_connections)",
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
        "sum by (${routing}, job, instance, ${pod}) (sockudo_active_connections)",
        "sum by (${routing}, job, instance, ${pod}) (rate(sockudo_active_connections[5m]))",
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
        "alerts/http.yaml",
        "sum by (${routing}, job, instance, ${pod}, le) (rate(sockudo_http_request_duration_seconds_bucket",
        "sum by (${routing}, job, instance, ${pod}) (rate(sockudo_http_request_duration_seconds_bucket",
    );
    assert_problem(
        &specs.problems("production"),
        "alerts/http.yaml",
        "job_instance:sockudo_http_request_duration_seconds:p95_5m",
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
        "alerts: {}\n",
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
        "record: job_cache:sockudo_cache_hits:ratio_rate5m",
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
        "record: job_app_id_limiter_type:sockudo_rate_limit_triggered:rate5m",
        "record: job_app_id_limiter_type:sockudo_rate_limit_checks:rate5m",
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
        "job_app_id_limiter_type:sockudo_rate_limit_checks:rate5m",
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
                    "alerts: {}",
                    "alerts:\n  SockudoHighConections:\n    for: 5m",
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
        assert_load_error(&specs, case, needles);
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
        "max by (${routing}, job, queue) (sockudo_queue_active_jobs)",
        "max by (${routing}, job, queue) (sockudo_queue_active_jobs{namespace!=\"\"})",
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

#[test]
fn a_ratio_alert_without_a_traffic_floor_is_reported() {
    let specs = Specs::copy();
    specs.edit_alert("alerts/http.yaml", "SockudoHighErrorRate", |alert| {
        alert.remove("min_traffic");
        alert.insert(
            "expr".into(),
            "job_instance:sockudo_http_requests_5xx:ratio_rate5m > ${threshold}".into(),
        );
    });
    specs.edit_alert("alerts/queue.yaml", "SockudoQueueJobFailures", |alert| {
        alert.remove("min_traffic");
        alert.insert(
            "expr".into(),
            "job_queue:sockudo_queue_jobs_failed:rate5m / job_queue:sockudo_queue_jobs_processed:rate5m > ${threshold}".into(),
        );
    });
    let problems = specs.problems("production");
    // Through a `ratio_` recording rule, and dividing in the alert itself.
    for (file, alert) in [
        ("alerts/http.yaml", "SockudoHighErrorRate"),
        ("alerts/queue.yaml", "SockudoQueueJobFailures"),
    ] {
        assert_problem(&problems, file, alert, "needs a traffic floor");
    }
    // Alerts that are no ratio need none, nor does scaling by a number.
    assert!(
        !problems.iter().any(|p| p.item == "SockudoHighConnections"),
        "{problems:#?}"
    );
    let specs = Specs::copy();
    specs.replace(
        "alerts/connections.yaml",
        "expr: job_instance:sockudo_active_connections:sum > ${threshold}",
        "expr: job_instance:sockudo_active_connections:sum / 1000 > ${threshold} / 1000",
    );
    assert_eq!(specs.problems("production"), vec![]);
}

/// A copy of the specs whose production profile has these alert overrides (the YAML under
/// `alerts:`).
fn production_overriding(overrides: &str) -> Specs {
    let specs = Specs::copy();
    specs.replace(
        "environments/production.yaml",
        "alerts: {}",
        &format!("alerts:\n{overrides}"),
    );
    specs
}

/// Loading production fails with an error containing every needle (`case` names the edit).
fn assert_load_error(specs: &Specs, case: &str, needles: &[&str]) {
    let error = specs.load_error("production");
    for needle in needles {
        assert!(error.contains(needle), "{case}: expected {needle:?} in: {error}");
    }
}

#[test]
fn traffic_floors_must_be_placed_and_sensible() {
    let specs = Specs::copy();
    specs.edit_alert("alerts/cache.yaml", "SockudoLowCacheHitRatio", |alert| {
        alert.insert(
            "expr".into(),
            "job_cache:sockudo_cache_hits:ratio_rate5m < ${threshold}".into(),
        );
    });
    assert_load_error(
        &specs,
        "a min_traffic without ${min_traffic}",
        &["alerts/cache.yaml: SockudoLowCacheHitRatio", "has a min_traffic"],
    );
    assert_load_error(
        &production_overriding("  SockudoHighErrorRate:\n    min_traffic: -5"),
        "a negative floor",
        &["SockudoHighErrorRate", "min_traffic -5"],
    );

    // A profile's floor reaches the expression.
    let model = production_overriding("  SockudoHighErrorRate:\n    min_traffic: 250")
        .load("production")
        .unwrap();
    let (_, alert) = model
        .rules
        .alerts()
        .find(|(_, a)| a.name == "SockudoHighErrorRate")
        .unwrap();
    assert!(alert.expr.ends_with("* 300 >= 250"), "{}", alert.expr);
}

#[test]
fn a_fixture_keeping_an_unknown_alert_quiet_is_reported() {
    let specs = Specs::copy();
    specs.replace(
        "alerts/availability.yaml",
        "quiet: [SockudoInstanceDown]",
        "quiet: [SockudoInstanceDwn]",
    );
    assert_problem(
        &specs.problems("production"),
        "alerts/availability.yaml",
        "SockudoInstanceFlapping",
        "\"SockudoInstanceDwn\", which is no alert",
    );
}

#[test]
fn each_severity_needs_its_own_receiver_url() {
    let specs = Specs::copy();
    specs.replace(
        "environments/production.yaml",
        "warning: http://alert-router.monitoring.svc:8080/hooks/sockudo/ticket",
        "warning: http://alert-router.monitoring.svc:8080/hooks/sockudo/page",
    );
    assert_load_error(
        &specs,
        "two severities on one URL",
        &[
            "environments/production.yaml",
            "alertmanager.receivers.warning",
            "also the critical URL",
        ],
    );
    let specs = Specs::copy();
    specs.replace(
        "environments/production.yaml",
        "    info: http://alert-router.monitoring.svc:8080/hooks/sockudo/chat\n",
        "",
    );
    assert_load_error(&specs, "no info URL", &["missing field `info`"]);
}

/// The thresholds of the seed page's alerts (shared/seed/metrics.md, "Alerting Rules").
const SEED_THRESHOLDS: [(&str, f64); 4] = [
    ("SockudoHighErrorRate", 0.1),
    ("SockudoHighConnections", 1000.0),
    ("SockudoHighLatency", 1.0),
    ("SockudoQueueBacklog", 1000.0),
];

/// The alert overrides of a profile that set a threshold or a traffic floor without a comment on
/// the alert's lines or just above them.
fn uncommented_overrides(profile_text: &str) -> Vec<String> {
    let lines: Vec<&str> = profile_text.lines().collect();
    let Some(start) = lines.iter().position(|l| l.starts_with("alerts:")) else {
        return Vec::new();
    };
    let end = lines[start + 1..]
        .iter()
        .position(|l| !l.is_empty() && !l.starts_with(' ') && !l.starts_with('#'))
        .map_or(lines.len(), |i| start + 1 + i);
    let mut found = Vec::new();
    let mut alert: Option<(String, bool)> = None;
    for (i, line) in lines.iter().enumerate().take(end).skip(start + 1) {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        if indent == 2 && !trimmed.starts_with('#') && trimmed.ends_with(':') {
            let commented = line.contains('#') || lines[i - 1].trim_start().starts_with('#');
            alert = Some((trimmed.trim_end_matches(':').to_string(), commented));
        } else if let Some((name, commented)) = &mut alert {
            *commented |= trimmed.starts_with('#') || trimmed.contains(" #");
            let key = trimmed.split(':').next().unwrap_or_default();
            if ["threshold", "min_traffic"].contains(&key) && !*commented {
                found.push(format!("{name}.{key}"));
            }
        }
    }
    found
}

#[test]
fn shipped_profiles_keep_the_seed_thresholds_unless_a_comment_says_why() {
    let specs = Specs::copy();
    let model = specs.load("production").unwrap();
    for (name, seed) in SEED_THRESHOLDS {
        let spec = model.rules.alerts().find(|(_, a)| a.name == name).unwrap().1;
        assert_eq!(
            spec.threshold,
            Some(seed),
            "the spec of {name} must carry the seed's threshold"
        );
    }
    let profiles = sockudo_obs::bundle::SpecSource::Embedded
        .files(sockudo_obs::bundle::Folder::Environments, &[".yaml"])
        .unwrap();
    for profile in &profiles {
        assert_eq!(
            uncommented_overrides(&profile.text),
            Vec::<String>::new(),
            "{}",
            profile.path
        );
    }
    // The check finds an override without a reason, and accepts one with a reason.
    let planted = "description: x\nalerts:\n  SockudoHighConnections:\n    threshold: 5000\n    for: 5m\nalertmanager: {}\n";
    assert_eq!(
        uncommented_overrides(planted),
        ["SockudoHighConnections.threshold"]
    );
    let reasoned = planted.replace(
        "  SockudoHighConnections:\n",
        "  # Sized for 16-core pods: load tests held 5000 connections each.\n  SockudoHighConnections:\n",
    );
    assert_eq!(uncommented_overrides(&reasoned), Vec::<String>::new());
}

/// Queue depth is one number per queue: the alert's recording rule and the dashboard panel take
/// the same aggregation over instances (the maximum, alerts/queue.yaml says why), and so does
/// every other gauge. The verify stage holds users' specs to it: a panel that sums what the
/// alert maximises is refused by `check`, naming both places.
#[test]
fn dashboards_and_rules_aggregate_each_gauge_alike() {
    let specs = Specs::copy();
    let shipped = run(&specs.load("production").unwrap()).problems;
    assert!(
        !shipped.iter().any(|p| p.message.contains("aggregates the gauge")),
        "{shipped:?}"
    );

    // The issue's case: the panel sums what the alert maximises.
    specs.replace(
        "dashboards/sockudo-overview.yaml",
        "max by (queue) (sockudo_queue_active_jobs",
        "sum by (queue) (sockudo_queue_active_jobs",
    );
    let problems = run(&specs.load("production").unwrap()).problems;
    let gauge = |p: &&Problem| p.message.contains("aggregates the gauge");
    assert_eq!(problems.iter().filter(gauge).count(), 1, "{problems:?}");
    assert_problem(
        &problems,
        "dashboards/sockudo-overview.yaml",
        "panel \"Queue depth\"",
        "aggregates the gauge sockudo_queue_active_jobs over instances with sum, where alerts/queue.yaml",
    );
    let problem = problems.iter().find(gauge).unwrap();
    assert!(problem.message.contains("uses max"), "{problem}");
}

/// A `for` shorter than the evaluation interval is refused, naming the alert and both values:
/// Prometheus would fire on the first evaluation that sees the condition.
#[test]
fn a_for_below_the_evaluation_interval_is_refused() {
    let specs = production_overriding("  SockudoHighErrorRate:\n    for: 10s\n");
    let problems = specs.problems("production");
    assert_problem(
        &problems,
        "alerts/http.yaml",
        "SockudoHighErrorRate",
        "`for: 10s` is shorter than prometheus.evaluation_interval 15s",
    );
    // One interval is enough.
    let specs = production_overriding("  SockudoHighErrorRate:\n    for: 15s\n");
    assert_eq!(specs.problems("production"), vec![]);
}

/// The heartbeat is kube-prometheus' Watchdog: severity `none`, `vector(1)`; another severity or
/// an expression that can stop firing is refused.
#[test]
fn the_heartbeat_must_always_fire_with_severity_none() {
    let specs = Specs::copy();
    specs.edit_alert("alerts/heartbeat.yaml", "Watchdog", |alert| {
        alert.insert("severity".into(), "warning".into());
        alert.insert("expr".into(), "vector(1) > 2".into());
    });
    let problems = specs.problems("production");
    assert_problem(
        &problems,
        "alerts/heartbeat.yaml",
        "Watchdog",
        "severity \"none\"",
    );
    assert_problem(&problems, "alerts/heartbeat.yaml", "Watchdog", "`vector(1)`");
}

/// The routing labels (cluster, namespace) survive every aggregation and vector match, `pod`
/// stays beside `instance`, and a label-less `absent()` alert takes them from the profile: each
/// way of losing them is reported, naming the rule.
#[test]
fn a_rule_dropping_the_routing_labels_is_reported() {
    type Case = (
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        &'static str,
    );
    let cases: [Case; 5] = [
        (
            "alerts/http.yaml",
            "sum by (${routing}, job, instance, ${pod}) (rate(sockudo_http_requests_total[5m]))",
            "sum by (job, instance, ${pod}) (rate(sockudo_http_requests_total[5m]))",
            "job_instance:sockudo_http_requests:rate5m",
            "drops the routing label(s) cluster, namespace",
        ),
        (
            "alerts/http.yaml",
            "and on (${routing}, job, instance, ${pod}) job_instance:sockudo_http_requests:rate5m",
            "and on (job, instance) job_instance:sockudo_http_requests:rate5m",
            "SockudoHighErrorRate",
            "`on (job, instance)` matches series of different clusters or namespaces",
        ),
        (
            "alerts/connections.yaml",
            "sum by (${routing}, job, instance, ${pod}) (sockudo_active_connections)",
            "sum by (${routing}, job, instance) (sockudo_active_connections)",
            "job_instance:sockudo_active_connections:sum",
            "keeps instance but drops pod",
        ),
        (
            "alerts/queue.yaml",
            "max by (${routing}, job, queue) (sockudo_queue_active_jobs)",
            "max(sockudo_queue_active_jobs)",
            "job_queue:sockudo_queue_active_jobs:max",
            "without `by` drops every label",
        ),
        (
            "alerts/availability.yaml",
            "routing_from_profile: true",
            "routing_from_profile: false",
            "SockudoJobAbsent",
            "`absent()` returns no routing label",
        ),
    ];
    for (file, from, to, item, needle) in cases {
        let specs = Specs::copy();
        assert_eq!(specs.problems("production"), vec![], "before breaking {item}");
        specs.replace(file, from, to);
        assert_problem(&specs.problems("production"), file, item, needle);
    }
}

/// Every recording rule feeds an alert, a panel or another rule: one added that nothing reads is
/// refused; read by an alert, it passes.
#[test]
fn a_recording_rule_nothing_reads_is_reported() {
    let rule = "recording:\n  - record: job_app_id:sockudo_messages_sent:rate5m\n    expr: sum by (${routing}, job, app_id) (rate(sockudo_messages_sent_total[5m]))\n";
    let specs = Specs::copy();
    specs.replace("alerts/traffic.yaml", "recording:\n", rule);
    assert_problem(
        &specs.problems("production"),
        "alerts/traffic.yaml",
        "job_app_id:sockudo_messages_sent:rate5m",
        "no alert, dashboard panel or other recording rule reads it",
    );
    specs.replace(
        "alerts/traffic.yaml",
        "job_app_id_limiter_type:sockudo_rate_limit_checks:rate5m * 300 >= ${min_traffic}",
        "job_app_id_limiter_type:sockudo_rate_limit_checks:rate5m * 300 >= ${min_traffic} unless on (${routing}, job, app_id) job_app_id:sockudo_messages_sent:rate5m < 0",
    );
    assert_eq!(specs.problems("production"), vec![]);
}

/// One placeholder syntax: `${ ... }`, a variable or a minijinja expression. An unknown variable,
/// an expression that does not parse or fails, names the file, the alert, the field and the
/// placeholder; a fixture value still written `{{ ... }}` is refused with the spelling to use.
#[test]
fn a_bad_placeholder_fails_to_load_naming_the_file_field_and_placeholder() {
    type Edit = fn(&Specs);
    let cases: [(&str, Edit, &[&str]); 6] = [
        (
            "an unknown variable in an expr",
            |specs| {
                specs.replace("alerts/queue.yaml", "> ${threshold}", "> ${threshold} + ${nope}");
            },
            &[
                "alerts/queue.yaml: SockudoQueueBacklog: expr: \"${nope}\"",
                "unknown variable nope",
                "${threshold}",
            ],
        ),
        (
            "an unknown variable in a fixture value's expression",
            |specs| {
                specs.replace(
                    "alerts/queue.yaml",
                    "values: \"${ threshold * 2 }x40\"",
                    "values: \"${ treshold * 2 }x40\"",
                );
            },
            &[
                "alerts/queue.yaml: SockudoQueueBacklog",
                "input_series.values: \"${ treshold * 2 }\"",
                "unknown variable treshold",
            ],
        ),
        (
            "an expression that does not parse",
            |specs| {
                specs.replace(
                    "alerts/queue.yaml",
                    "values: \"${ threshold * 2 }x40\"",
                    "values: \"${ threshold * }x40\"",
                );
            },
            &[
                "alerts/queue.yaml: SockudoQueueBacklog",
                "\"${ threshold * }\": not an expression: syntax error",
            ],
        ),
        (
            "an expression that fails to evaluate",
            |specs| {
                specs.replace(
                    "alerts/process.yaml",
                    "values: \"${ (threshold * 1000) | int + 50 }x40\"",
                    "values: \"${ (threshold * 1000) | nosuchfilter }x40\"",
                );
            },
            &[
                "alerts/process.yaml: SockudoFileDescriptorsNearLimit",
                "\"${ (threshold * 1000) | nosuchfilter }\"",
                "unknown filter",
            ],
        ),
        (
            "a fixture value still written {{ ... }}",
            |specs| {
                specs.replace(
                    "alerts/queue.yaml",
                    "values: \"${ threshold * 2 }x40\"",
                    "values: \"{{ threshold * 2 }}x40\"",
                );
            },
            &[
                "alerts/queue.yaml: SockudoQueueBacklog",
                "are no placeholders",
                "write `${ ... }`",
            ],
        ),
        (
            "an unknown variable in a runbook",
            |specs| {
                specs.replace(
                    "alerts/availability.yaml",
                    "kubectl -n ${namespace} get pods",
                    "kubectl -n ${namespaces} get pods",
                );
            },
            &[
                "alerts/availability.yaml: ",
                "runbook.",
                "\"${namespaces}\": unknown variable namespaces (known here: ${app_label}, ${namespace})",
            ],
        ),
    ];
    for (case, edit, needles) in cases {
        let specs = Specs::copy();
        edit(&specs);
        assert_load_error(&specs, case, needles);
    }
}

/// `{{ ... }}` is Prometheus's, never the spec's: a description holding `{{ threshold }}` is left
/// as it is for Prometheus, and the annotation check refuses it (Prometheus would not know
/// `threshold`), pointing at `${ ... }`.
#[test]
fn double_braces_in_a_description_are_left_for_prometheus() {
    let specs = Specs::copy();
    specs.edit_alert("alerts/queue.yaml", "SockudoQueueBacklog", |alert| {
        alert.insert(
            "description".into(),
            "{{ $labels.queue }} holds {{ $value }} jobs, more than {{ threshold }}.".into(),
        );
    });
    let model = specs.load("production").unwrap();
    let (_, alert) = model
        .spec_rules
        .alerts()
        .find(|(_, a)| a.name == "SockudoQueueBacklog")
        .unwrap();
    assert_eq!(
        alert.description.as_deref(),
        Some("{{ $labels.queue }} holds {{ $value }} jobs, more than {{ threshold }}.")
    );
    assert_problem(
        &specs.problems("production"),
        "alerts/queue.yaml",
        "SockudoQueueBacklog",
        "unsupported template action {{ threshold }}",
    );
    assert_problem(
        &specs.problems("production"),
        "alerts/queue.yaml",
        "SockudoQueueBacklog",
        "a placeholder of the spec is written ${ ... }",
    );
}

/// An expression placeholder computes from the environment's values, in an expr as in a fixture:
/// `${ threshold * 2 }` counts as the expr's use of the threshold.
#[test]
fn an_expression_placeholder_computes_from_the_profile() {
    let specs = Specs::copy();
    specs.replace("alerts/queue.yaml", "> ${threshold}", "> ${ threshold * 1 }");
    let model = specs.load("production").unwrap();
    let plain = Specs::copy().load("production").unwrap();
    let expr = |model: &sockudo_obs::bundle::Model| {
        model
            .rules
            .alerts()
            .find(|(_, a)| a.name == "SockudoQueueBacklog")
            .map(|(_, a)| a.expr.clone())
            .unwrap()
    };
    assert_eq!(expr(&model), expr(&plain));
    assert!(!expr(&model).contains("${"), "{}", expr(&model));
}

/// A dashboard query's placeholders are the spec's too: Grafana's variables are written `$job`,
/// and an unknown `${...}` names the file and the panel.
#[test]
fn an_unknown_placeholder_in_a_dashboard_query_names_the_panel() {
    let specs = Specs::copy();
    specs.replace(
        "dashboards/sockudo-overview.yaml",
        "sum by (instance, ${pod})",
        "sum by (instance, ${pods})",
    );
    assert_load_error(
        &specs,
        "an unknown placeholder in a dashboard",
        &[
            "dashboards/sockudo-overview.yaml: panel ",
            "expr: \"${pods}\": unknown variable pods (known here: ${pod}, ${routing})",
        ],
    );
}

/// Every spec kind is versioned: a spec without `version` or with an unknown one is refused,
/// naming the file and the versions this generator reads.
#[test]
fn every_spec_needs_a_known_version() {
    let files = [
        "alerts/queue.yaml",
        "dashboards/sockudo-overview.yaml",
        "environments/production.yaml",
        "slos/api-availability.yaml",
    ];
    for file in files {
        let specs = Specs::copy();
        specs.replace(file, "version: 1\n", "");
        let error = specs.load_error("production");
        assert!(
            error.contains(&format!("{file}: no `version` key (supported: version 1;")),
            "{file}: {error}"
        );
        let specs = Specs::copy();
        specs.replace(file, "version: 1\n", "version: 3\n");
        let error = specs.load_error("production");
        assert!(
            error.contains(&format!(
                "{file}: version 3 is not a spec version this generator reads (supported: version 1;"
            )),
            "{file}: {error}"
        );
        let specs = Specs::copy();
        specs.replace(file, "version: 1\n", "version: one\n");
        let error = specs.load_error("production");
        assert!(
            error.contains(&format!("{file}: version \"one\" is not")),
            "{file}: {error}"
        );
    }
}
