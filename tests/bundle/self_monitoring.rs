//! The self-monitoring of the Prometheus and Alertmanager the bundle ships
//! (`alerts/self-monitoring.yaml`): the scrape jobs that feed it, its promtool fixtures under both
//! Prometheus generations (each alert fires on a broken pipeline and stays quiet on a healthy
//! one), the expression check holding other exporters' metrics to their declaration, and the
//! remote-write alert only where remote write is configured.

use std::fs;
use std::path::Path;

use sockudo_obs::bundle::{self, Overrides};

use crate::promtool::promtool_test_rules;
use crate::support::specs::{assert_problem, read_profile, set, write_profile, Specs};

const SPEC: &str = "alerts/self-monitoring.yaml";
const TESTS: &str = "prometheus/tests/self-monitoring_test.yml";
/// Every self-monitoring alert of a profile with Alertmanagers and remote write.
const ALERTS: [&str; 5] = [
    "SockudoPrometheusRuleFailures",
    "SockudoPrometheusNotConnectedToAlertmanagers",
    "SockudoPrometheusErrorSendingAlerts",
    "SockudoAlertmanagerFailedToSendAlerts",
    "SockudoPrometheusRemoteWriteBehind",
];

/// `env`'s bundle from `specs`, written under `dir`.
fn written(specs: &Specs, env: &str, dir: &Path) -> std::path::PathBuf {
    let out = bundle::build(&specs.source(), env, &Overrides::default()).unwrap_or_else(|e| panic!("{e:#}"));
    let path = dir.join(env);
    out.write_atomically(&path).unwrap();
    path
}

/// The alerts of a promtool test file with a firing case, and those with a quiet one.
fn firing_and_quiet(tests: &Path) -> (Vec<String>, Vec<String>) {
    let file: serde_norway::Value = serde_norway::from_str(&fs::read_to_string(tests).unwrap()).unwrap();
    let (mut firing, mut quiet) = (Vec::new(), Vec::new());
    for case in file["tests"]
        .as_sequence()
        .unwrap()
        .iter()
        .flat_map(|t| t["alert_rule_test"].as_sequence().unwrap())
    {
        let name = case["alertname"].as_str().unwrap().to_string();
        let fires = case["exp_alerts"].as_sequence().is_some_and(|a| !a.is_empty());
        if fires { &mut firing } else { &mut quiet }.push(name);
    }
    (firing, quiet)
}

/// Production's bundle: each self-monitoring alert has a firing and a quiet fixture, and both
/// Prometheus generations' promtool pass them.
#[test]
fn each_self_monitoring_alert_fires_when_broken_and_stays_quiet_when_healthy() {
    let specs = Specs::copy();
    let dir = tempfile::tempdir().unwrap();
    let path = written(&specs, "production", dir.path());
    let (firing, quiet) = firing_and_quiet(&path.join(TESTS));
    for alert in ALERTS {
        assert!(
            firing.iter().any(|a| a == alert),
            "{alert} has no firing case: {firing:?}"
        );
        assert!(
            quiet.iter().any(|a| a == alert),
            "{alert} has no quiet case: {quiet:?}"
        );
    }
    promtool_test_rules(&[path.join(TESTS)]).unwrap_or_else(|e| panic!("{e}"));
}

/// A rule failure threshold no failure reaches, and a remote-write lag compared the wrong way
/// round: promtool (both generations) sees the fixtures fail.
#[test]
fn a_broken_self_monitoring_alert_fails_its_fixtures() {
    for (from, to, alert) in [
        (
            "increase(prometheus_rule_evaluation_failures_total[5m]) > 0",
            "increase(prometheus_rule_evaluation_failures_total[5m]) > 1000",
            "SockudoPrometheusRuleFailures",
        ),
        (
            "highest_sent_timestamp_seconds[5m])) > ${threshold}",
            "highest_sent_timestamp_seconds[5m])) < ${threshold}",
            "SockudoPrometheusRemoteWriteBehind",
        ),
    ] {
        let specs = Specs::copy();
        specs.replace(SPEC, from, to);
        let dir = tempfile::tempdir().unwrap();
        let path = written(&specs, "production", dir.path());
        let error = promtool_test_rules(&[path.join(TESTS)]).expect_err(to);
        assert!(error.contains(alert), "{error}");
    }
}

/// The bundle's Prometheus scrapes itself and its Alertmanagers (the deployment's and the
/// compose stack's), which is where the self-monitoring metrics come from: the Alertmanagers it
/// scrapes are found as the ones it sends alerts to (every replica behind the production
/// profile's Service, by endpoints discovery; the compose stack's one address).
#[test]
fn prometheus_scrapes_itself_and_its_alertmanagers() {
    let specs = Specs::copy();
    let dir = tempfile::tempdir().unwrap();
    let path = written(&specs, "production", dir.path());
    let profile = read_profile(&specs.path(""), "production");
    let service = profile["prometheus"]["alertmanagers"][0]
        .as_str()
        .unwrap()
        .to_string();
    let (name, rest) = service.split_once('.').unwrap();
    let (namespace, _) = rest.split_once('.').unwrap();
    let port = service.rsplit_once(':').unwrap().1;
    for file in ["prometheus/prometheus.yml", "compose/prometheus/prometheus.yml"] {
        let config: serde_norway::Value = serde_norway::from_str(
            &fs::read_to_string(path.join(file)).unwrap_or_else(|e| panic!("{file}: {e}")),
        )
        .unwrap();
        let jobs = config["scrape_configs"].as_sequence().unwrap();
        let job = |name: &str| {
            jobs.iter()
                .find(|j| j["job_name"] == name)
                .unwrap_or_else(|| panic!("{file}: no job {name}"))
        };
        assert_eq!(
            job("prometheus")["static_configs"][0]["targets"],
            serde_norway::from_str::<serde_norway::Value>("[localhost:9090]").unwrap(),
            "{file}"
        );
        let scraped = job("alertmanager");
        let alerted = &config["alerting"]["alertmanagers"][0];
        if file.starts_with("compose/") {
            let one: serde_norway::Value = serde_norway::from_str("[alertmanager:9093]").unwrap();
            assert_eq!(scraped["static_configs"][0]["targets"], one, "{file}");
            assert_eq!(alerted["static_configs"][0]["targets"], one, "{file}");
            continue;
        }
        assert_eq!(
            scraped["kubernetes_sd_configs"], alerted["kubernetes_sd_configs"],
            "{file}: the scraped Alertmanagers are found as the ones alerts go to"
        );
        assert_eq!(
            alerted["kubernetes_sd_configs"][0]["namespaces"]["names"][0], namespace,
            "{file}"
        );
        let keep = &scraped["relabel_configs"][0];
        assert_eq!(keep["action"], "keep", "{file}");
        assert_eq!(
            keep["regex"].as_str(),
            Some(format!("{name};.+:{port}").as_str()),
            "{file}: every replica of {service}, on its port"
        );
    }
}

/// Other exporters' metrics pass the check only as declared: an undeclared one, a label the
/// metric lacks and a declared counter outside `rate` are each reported.
#[test]
fn the_check_holds_other_exporters_metrics_to_their_declaration() {
    let specs = Specs::copy();
    specs.replace(
        SPEC,
        "max_over_time(prometheus_notifications_alertmanagers_discovered[5m]) < 1",
        "max_over_time(prometheus_notifications_alertmanagers_discovered[5m]) < 1 and prometheus_tsdb_head_series > 0",
    );
    specs.replace(
        SPEC,
        "increase(prometheus_rule_evaluation_failures_total[5m]) > 0",
        "increase(prometheus_rule_evaluation_failures_total{rule=\"x\"}[5m]) > 0 and prometheus_rule_evaluation_failures_total > 0",
    );
    let problems = specs.problems("production");
    assert_problem(
        &problems,
        SPEC,
        "SockudoPrometheusNotConnectedToAlertmanagers",
        "unknown metric prometheus_tsdb_head_series",
    );
    assert_problem(
        &problems,
        SPEC,
        "SockudoPrometheusRuleFailures",
        "has no label \"rule\"",
    );
    assert_problem(
        &problems,
        SPEC,
        "SockudoPrometheusRuleFailures",
        "counter prometheus_rule_evaluation_failures_total used outside rate",
    );
    // The unedited spec passes.
    let clean = Specs::copy();
    let problems = clean.problems("production");
    assert!(!problems.iter().any(|p| p.file == SPEC), "{problems:?}");
}

/// Staging has no remote write: no remote-write alert, fixture or runbook section; production
/// has all three. Turning the alert on without remote write is refused, naming both keys.
#[test]
fn the_remote_write_alert_exists_only_with_remote_write() {
    let specs = Specs::copy();
    let dir = tempfile::tempdir().unwrap();
    let alert = ALERTS[4];
    for (env, present) in [("production", true), ("staging", false)] {
        let path = written(&specs, env, dir.path());
        let rules = fs::read_to_string(path.join("prometheus/rules/self-monitoring.yml")).unwrap();
        let rules: serde_norway::Value = serde_norway::from_str(&rules).unwrap();
        let rendered = rules["groups"][0]["rules"]
            .as_sequence()
            .unwrap()
            .iter()
            .any(|r| r["alert"] == alert);
        let (firing, quiet) = firing_and_quiet(&path.join(TESTS));
        let runbook = fs::read_to_string(path.join("RUNBOOK.md")).unwrap();
        let runbook_section = runbook.contains(&format!("## {alert}\n"));
        assert_eq!(
            (
                rendered,
                firing.iter().any(|a| a == alert),
                quiet.iter().any(|a| a == alert),
                runbook_section
            ),
            (present, present, present, present),
            "{env}"
        );
    }
    let root = specs.path("");
    let mut profile = read_profile(&root, "staging");
    set(&mut profile, "alerts", serde_norway::Mapping::new());
    set(
        &mut profile,
        &format!("alerts.{alert}"),
        serde_norway::Mapping::new(),
    );
    set(&mut profile, &format!("alerts.{alert}.enabled"), true);
    write_profile(&root, "staging", &profile);
    let error = specs.load_error("staging");
    assert!(
        error.contains(&format!(
            "alerts.{alert}.enabled: true, but prometheus.remote_write is empty"
        )),
        "{error}"
    );
}
