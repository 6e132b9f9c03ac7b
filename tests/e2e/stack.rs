//! The end-to-end stack test: the `local` bundle, generated fresh, runs on the real servers (the
//! demo exporter, nginx, Prometheus, Alertmanager, VictoriaMetrics) and is shown to work as a
//! whole: the proxy guards the endpoint, every catalogue family, recording rule and dashboard
//! query has data, each seed alert fires for its own scenario and reaches the webhook, none fires
//! in normal mode, the heartbeat reaches its own receiver and each alert the receiver of its
//! severity, VictoriaMetrics answers the dashboards like Prometheus, and all of it holds
//! under another prefix. A last test shows the dashboard step catches drift.
//!
//! The tools come from PATH (`source scripts/env.sh`); a missing one fails the test.

use std::fs;
use std::time::{Duration, Instant};

use crate::support::stack::{unix_now, Stack, StackOptions};
use crate::support::steps::{self, AlertCase};

/// Three stacks at once on a 2-core machine would compete for CPU with their 1 s scrapes and rule
/// evaluations; one at a time keeps the timings predictable (about 2¼ minutes for all three). The
/// lock is the one the real-server tests of this binary take too.
fn one_stack_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    crate::support::one_at_a_time()
}

/// The seed page's alerts in the order the test trips them; killing the exporter comes last.
fn alert_cases(stack: &Stack) -> Vec<AlertCase> {
    let job = || ("job", stack.job.clone());
    let instance = || ("instance", stack.instance.clone());
    let case = |alertname, scenario, labels| AlertCase {
        alertname,
        scenario,
        labels,
    };
    vec![
        case("SockudoHighErrorRate", Some("errors"), vec![job(), instance()]),
        case("SockudoHighLatency", Some("slow"), vec![job(), instance()]),
        case(
            "SockudoHighConnections",
            Some("connections"),
            vec![job(), instance()],
        ),
        // The demo clogs its `webhooks` queue.
        case(
            "SockudoQueueBacklog",
            Some("backlog"),
            vec![job(), ("queue", "webhooks".into())],
        ),
        case("SockudoInstanceDown", None, vec![job(), instance()]),
    ]
}

fn run_stack(prefix: Option<&str>, prometheus_3: bool) {
    let _turn = one_stack_at_a_time();
    let started = Instant::now();
    let stack = Stack::start(StackOptions {
        bundle_prefix: prefix,
        exporter_prefix: prefix,
        prometheus_3,
        ..StackOptions::default()
    })
    .unwrap_or_else(|e| panic!("starting the stack: {e}"));
    eprintln!("[e2e {}] stack up in {:.1?}", stack.prefix, started.elapsed());

    stack.step("access through nginx", steps::access);
    stack.step("warm-up", steps::warm_up);
    stack.step("self-monitoring targets up", steps::self_monitoring_up);
    let warm = unix_now();
    stack.step("metric families", steps::metric_families);
    stack.step("recording rules", steps::recording_rules);
    let queries = stack.step("reading the dashboards", |s| s.bundle.dashboard_queries());
    stack.step("dashboard queries", |s| {
        steps::dashboard_queries(&s.prometheus, &queries, Duration::from_secs(30))
    });
    stack.step("VictoriaMetrics answers like Prometheus", |s| {
        steps::victoria_metrics_matches(s, &queries)
    });
    stack.step("a misspelt dashboard query is named", misspelt_query_is_named);
    stack.step("no alert in normal mode", |s| {
        steps::quiet_in_normal_mode(s, warm)
    });
    stack.step("the heartbeat reaches its receiver", steps::heartbeat_arrives);
    for case in alert_cases(&stack) {
        stack.step(&format!("{} fires", case.alertname), |s| {
            steps::alert_fires(s, &case)
        });
    }
    eprintln!("[e2e {}] whole run: {:.1?}", stack.prefix, started.elapsed());
}

/// Misspells the metric of one generated dashboard query (after generation, which would have
/// rejected it) and shows the dashboard step fails naming that panel and only that panel.
fn misspelt_query_is_named(stack: &Stack) -> Result<(), String> {
    let file = stack.bundle.dashboard_files()?.remove(0);
    let original = fs::read_to_string(&file).map_err(|e| e.to_string())?;
    let mut dashboard: serde_json::Value = serde_json::from_str(&original).map_err(|e| e.to_string())?;
    let correct = format!("{}active_connections", stack.prefix);
    let misspelt = format!("{}active_conections", stack.prefix);
    let panel = first_panel_querying(&mut dashboard["panels"], &correct, &misspelt)
        .ok_or_else(|| format!("no panel of {} queries {correct} alone", file.display()))?;
    fs::write(&file, dashboard.to_string()).map_err(|e| e.to_string())?;
    let queries = stack.bundle.dashboard_queries();
    fs::write(&file, original).map_err(|e| e.to_string())?;
    let error = match steps::dashboard_queries(&stack.prometheus, &queries?, Duration::from_secs(2)) {
        Ok(()) => {
            return Err(format!(
                "the step passed with panel {panel:?} querying {misspelt}"
            ))
        }
        Err(error) => error,
    };
    let failing: Vec<&str> = error.lines().filter(|l| l.contains(" panel ")).collect();
    match failing.as_slice() {
        [line] if line.contains(&format!("{panel:?}")) && line.contains(&misspelt) => Ok(()),
        _ => Err(format!(
            "expected one failure naming panel {panel:?} and {misspelt}, got:\n{error}"
        )),
    }
}

/// Rewrites, in the first panel whose query uses `metric` without an `or` fallback (which would
/// hide the misspelling), `metric` as `misspelt`; returns the panel's title.
fn first_panel_querying(panels: &mut serde_json::Value, metric: &str, misspelt: &str) -> Option<String> {
    for panel in panels.as_array_mut()? {
        for target in panel["targets"].as_array_mut().into_iter().flatten() {
            let expr = target["expr"].as_str().unwrap_or_default();
            if expr.contains(metric) && !expr.contains(" or ") {
                target["expr"] = expr.replace(metric, misspelt).into();
                return panel["title"].as_str().map(str::to_string);
            }
        }
        if let Some(title) = first_panel_querying(&mut panel["panels"], metric, misspelt) {
            return Some(title);
        }
    }
    None
}

/// The bundle under the profile's own prefix (`sockudo_`).
#[test]
fn stack_with_the_default_prefix() {
    run_stack(None, false);
}

/// The same bundle on the Prometheus 3 generation (Prometheus 3.5, Alertmanager 0.33): left-open
/// range selectors, `le` normalisation, scrape content negotiation and the v2 Alertmanager API.
#[test]
fn stack_on_prometheus_3() {
    run_stack(None, true);
}

/// The same, with `PROMETHEUS_METRICS_PREFIX` set for both the exporter and `generate`: the
/// prefix flows through every artifact.
#[test]
fn stack_with_a_custom_prefix() {
    run_stack(Some("my_company_sockudo_"), false);
}

/// Drift: a bundle generated for `sockudo_` watching a server that exposes `other_sockudo_`.
/// Prometheus scrapes fine, but the dashboard step fails and names the panels left without data.
#[test]
fn dashboard_step_catches_a_prefix_drift() {
    let _turn = one_stack_at_a_time();
    let stack = Stack::start(StackOptions {
        bundle_prefix: None,
        exporter_prefix: Some("other_sockudo_"),
        ..StackOptions::default()
    })
    .unwrap_or_else(|e| panic!("starting the stack: {e}"));
    stack.step("access through nginx", steps::access);
    stack.step("warm-up", steps::warm_up);
    let queries = stack.step("reading the dashboards", |s| s.bundle.dashboard_queries());
    let error = steps::dashboard_queries(&stack.prometheus, &queries, Duration::from_secs(3))
        .expect_err("dashboard queries for sockudo_ cannot find data exposed as other_sockudo_");
    let panels: Vec<&str> = queries.iter().map(|q| q.panel.as_str()).collect();
    let named = panels
        .iter()
        .filter(|p| error.contains(&format!("panel {p:?}")))
        .count();
    assert!(named > 0, "the error names no panel:\n{error}");
    eprintln!("[e2e drift] the dashboard step failed as it should, naming {named} panels:\n{error}");
}
