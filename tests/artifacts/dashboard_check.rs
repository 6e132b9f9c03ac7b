//! The dashboard check rejects specs that break the linter rules, naming file and panel, through
//! the library and through `sockudo-obs check --specs DIR`; the shipped specs pass it.

use crate::support::specs;

use std::fmt::Write as _;
use std::fs;
use std::process::Command;

use sockudo_obs::bundle::check::{self, Problem};

const FILTER: &str = r#"job=~"$job", instance=~"$instance", app_id=~"$app_id""#;

/// A spec with one panel per broken rule, each titled after what it breaks.
fn bad_spec() -> String {
    let panel = |title: &str, unit: Option<&str>, expr: &str| {
        let unit = unit.map(|u| format!("        unit: {u}\n")).unwrap_or_default();
        format!(
            "      - title: {title}\n        type: timeseries\n{unit}        description: A panel.\n        queries:\n          - expr: '{expr}'\n            legend: x\n"
        )
    };
    let mut spec = String::from(
        "version: 1\nuid: bad-dashboard\ntitle: Bad\ndescription: Broken on purpose.\nrefresh: 30s\ntime_from: now-1h\nvariable_metric: sockudo_active_connections\nrows:\n  - title: Broken\n    panels:\n",
    );
    spec += &panel(
        "Missing unit",
        None,
        &format!("sum(sockudo_active_connections{{{FILTER}}})"),
    );
    spec += &panel(
        "Counter without rate",
        Some("short"),
        &format!("sum(sockudo_total_connections{{{FILTER}}})"),
    );
    spec += &panel(
        "Fixed range",
        Some("ops"),
        &format!("sum(rate(sockudo_messages_sent_total{{{FILTER}}}[5m]))"),
    );
    spec += &panel(
        "No instance filter",
        Some("short"),
        r#"sum(sockudo_active_connections{job=~"$job", app_id=~"$app_id"})"#,
    );
    spec += &panel(
        "Histogram bucket without rate",
        Some("s"),
        r#"histogram_quantile(0.9, sum by (le) (sockudo_http_request_duration_seconds_bucket{job=~"$job", instance=~"$instance"}))"#,
    );
    spec += &panel(
        "Misspelt metric",
        Some("short"),
        &format!("sum(sockudo_active_conections{{{FILTER}}})"),
    );
    spec
}

fn problems_for(spec: &str, env: &str) -> Vec<Problem> {
    let specs = specs::specs_copy();
    fs::write(specs.path().join("dashboards/bad.yaml"), spec).unwrap();
    let model = specs::load(specs.path(), env).unwrap();
    check::run(&model).problems
}

fn assert_rejected(problems: &[Problem], panel: &str, message_part: &str) {
    let item = format!("panel {panel:?}");
    assert!(
        problems
            .iter()
            .any(|p| p.file == "dashboards/bad.yaml" && p.item == item && p.message.contains(message_part)),
        "expected {item}: {message_part}; got:\n{}",
        problems.iter().map(|p| format!("  {p}\n")).collect::<String>()
    );
}

#[test]
fn the_shipped_dashboards_pass_in_every_environment() {
    let specs = specs::specs_copy();
    for env in specs::environments() {
        let report = check::run(&specs::load(specs.path(), &env).unwrap());
        assert!(report.is_clean(), "{env}: {:?}", report.problems);
    }
}

#[test]
fn each_broken_rule_is_reported_with_its_panel() {
    let problems = problems_for(&bad_spec(), "development");
    assert_rejected(&problems, "Missing unit", "has no unit");
    assert_rejected(
        &problems,
        "Counter without rate",
        "counter sockudo_total_connections used outside rate",
    );
    assert_rejected(&problems, "Fixed range", "use [$__rate_interval]");
    assert_rejected(&problems, "No instance filter", r#"lacks instance=~"$instance""#);
    assert_rejected(
        &problems,
        "Histogram bucket without rate",
        "counter sockudo_http_request_duration_seconds_bucket used outside rate",
    );
    assert_rejected(&problems, "Misspelt metric", "sockudo_active_conections");
    let broken_panels: std::collections::BTreeSet<_> = problems
        .iter()
        .filter(|p| p.file == "dashboards/bad.yaml")
        .map(|p| p.item.as_str())
        .collect();
    assert_eq!(
        broken_panels.len(),
        6,
        "every broken panel, and only those: {broken_panels:?}"
    );
}

#[test]
fn with_a_cluster_variable_every_selector_needs_the_cluster_matcher() {
    // The generator adds the cluster matcher beside `job`, so a selector without `job` lacks both.
    let spec = bad_spec()
        + "      - title: No job filter\n        type: stat\n        unit: short\n        description: A panel.\n        queries:\n          - expr: 'sum(sockudo_active_connections{instance=~\"$instance\", app_id=~\"$app_id\"})'\n            legend: x\n";
    let problems = problems_for(&spec, "production");
    assert_rejected(&problems, "No job filter", r#"lacks job=~"$job""#);
    assert_rejected(&problems, "No job filter", r#"lacks cluster=~"$cluster""#);
    assert!(!problems
        .iter()
        .any(|p| p.item == "panel \"Missing unit\"" && p.message.contains("cluster")));
}

#[test]
fn the_cli_check_fails_and_names_the_panels() {
    let specs = specs::specs_copy();
    fs::write(specs.path().join("dashboards/bad.yaml"), bad_spec()).unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_sockudo-obs"))
        .args(["check", "--env", "development", "--specs"])
        .arg(specs.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(r#"dashboards/bad.yaml: panel "Missing unit": has no unit"#),
        "{stderr}"
    );
    assert!(stderr.contains(r#"panel "Counter without rate""#), "{stderr}");

    let generate = Command::new(env!("CARGO_BIN_EXE_sockudo-obs"))
        .args(["generate", "--env", "development", "--out"])
        .arg(specs.path().join("out"))
        .arg("--specs")
        .arg(specs.path())
        .output()
        .unwrap();
    assert!(!generate.status.success(), "generate must refuse a failing spec");
    assert!(!specs.path().join("out").exists(), "nothing written");
}

#[test]
fn a_dashboard_too_big_for_kubectl_apply_is_rejected_by_name() {
    let mut spec = String::from(
        "version: 1\nuid: huge\ntitle: Huge\ndescription: Too many panels.\nrefresh: 30s\ntime_from: now-1h\nvariable_metric: sockudo_active_connections\nrows:\n  - title: Everything\n    panels:\n",
    );
    for i in 0..700 {
        writeln!(
            spec,
            "      - title: Panel {i}\n        type: stat\n        unit: short\n        description: '{}'\n        queries:\n          - expr: 'sum(sockudo_active_connections{{{FILTER}}})'\n            legend: x",
            "A long description. ".repeat(10)
        )
        .unwrap();
    }
    let specs = specs::specs_copy();
    fs::write(specs.path().join("dashboards/huge.yaml"), spec).unwrap();
    let problems = check::run(&specs::load(specs.path(), "production").unwrap()).problems;
    assert!(
        problems.iter().any(|p| p.file == "dashboards/huge.yaml"
            && p.item == "dashboard \"Huge\""
            && p.message.contains("256 KiB")),
        "{problems:?}"
    );
}

#[test]
fn unknown_spec_keys_are_errors_naming_the_file() {
    let spec = bad_spec().replace("refresh: 30s", "refresh: 30s\nrefesh_interval: 1m");
    let specs = specs::specs_copy();
    fs::write(specs.path().join("dashboards/bad.yaml"), spec).unwrap();
    let err = specs::load(specs.path(), "development").unwrap_err();
    let message = format!("{err:#}");
    assert!(
        message.contains("dashboards/bad.yaml") && message.contains("refesh_interval"),
        "{message}"
    );
}

/// A panel marking an alert's threshold must name an alert of the bundle with a threshold; one
/// the profile turned off is no problem (the mark goes).
#[test]
fn a_panel_marking_an_unknown_alert_is_reported() {
    let panel = |title: &str, alert: &str| {
        format!(
            "      - title: {title}\n        type: timeseries\n        unit: short\n        alert: {alert}\n        description: A panel.\n        queries:\n          - expr: 'sum(sockudo_active_connections{{{FILTER}}})'\n            legend: x\n"
        )
    };
    let spec = String::from(
        "version: 1\nuid: bad-dashboard\ntitle: Bad\ndescription: Broken on purpose.\nrefresh: 30s\ntime_from: now-1h\nvariable_metric: sockudo_active_connections\nrows:\n  - title: Broken\n    panels:\n",
    ) + &panel("Unknown alert", "SockudoNoSuchAlert")
        + &panel("Alert without threshold", "SockudoJobAbsent")
        + &panel("Known alert", "SockudoHighConnections");
    let problems = problems_for(&spec, "development");
    assert_rejected(
        &problems,
        "Unknown alert",
        "SockudoNoSuchAlert, which is no alert of the bundle",
    );
    assert_rejected(
        &problems,
        "Alert without threshold",
        "SockudoJobAbsent, which has none",
    );
    assert!(
        !problems.iter().any(|p| p.item == "panel \"Known alert\""),
        "{problems:?}"
    );
}
