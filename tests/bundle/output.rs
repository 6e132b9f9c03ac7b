//! The rendered Prometheus-side bundle: every YAML file parses back, the committed
//! `generated/production` is exactly what a fresh render gives, rendering is deterministic, and a
//! different prefix reaches every expression.

use crate::support::specs;

use std::path::Path;

use crate::support::specs::environments;
use serde_json::Value;
use sockudo_obs::bundle::{self, Output, Overrides, SpecSource};

fn render(env: &str, overrides: &Overrides) -> Output {
    bundle::build(&SpecSource::Embedded, env, overrides).unwrap_or_else(|e| panic!("{env}: {e:#}"))
}

fn parse_yaml(path: &str, bytes: &[u8]) -> Value {
    let text = std::str::from_utf8(bytes).unwrap_or_else(|_| panic!("{path}: not UTF-8"));
    serde_norway::from_str(text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn yaml_files(out: &Output) -> impl Iterator<Item = (&str, Value)> {
    out.iter()
        .filter(|(path, _)| path.ends_with(".yml") || path.ends_with(".yaml"))
        .map(|(path, bytes)| (path, parse_yaml(path, bytes)))
}

/// Every `expr` of every rule file of the bundle.
fn rule_exprs(out: &Output) -> Vec<String> {
    yaml_files(out)
        .filter(|(path, _)| path.starts_with("prometheus/rules/"))
        .flat_map(|(_, doc)| {
            doc["groups"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|g| g["rules"].as_array().unwrap().clone())
                .collect::<Vec<_>>()
        })
        .map(|rule| rule["expr"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn every_yaml_file_parses_back_in_every_environment() {
    for env in environments() {
        let out = render(&env, &Overrides::default());
        let parsed: Vec<_> = yaml_files(&out).map(|(path, _)| path.to_string()).collect();
        for expected in [
            "prometheus/prometheus.yml",
            "alertmanager/alertmanager.yml",
            "prometheus/rules/http.yml",
            "prometheus/tests/http_test.yml",
        ] {
            assert!(
                parsed.iter().any(|p| p == expected),
                "{env}: {expected} not rendered"
            );
        }
    }
}

#[test]
fn prometheus_yml_follows_the_profile() {
    let out = render("production", &Overrides::default());
    let config = parse_yaml("prometheus.yml", out.get("prometheus/prometheus.yml").unwrap());
    let jobs = config["scrape_configs"].as_array().unwrap();
    let static_job = &jobs[0];
    assert_eq!(static_job["job_name"], "sockudo");
    assert_eq!(
        static_job["static_configs"][0]["labels"]["instance"],
        "sockudo-vm-1"
    );
    assert_eq!(
        static_job["static_configs"][0]["labels"]["environment"],
        "production"
    );
    assert!(static_job["basic_auth"]["password_file"].is_string());
    assert!(
        static_job["basic_auth"].get("password").is_none(),
        "never a password"
    );
    let pods = &jobs[1];
    assert_eq!(pods["kubernetes_sd_configs"][0]["role"], "pod");
    let address = pods["relabel_configs"]
        .as_array()
        .unwrap()
        .iter()
        .rfind(|r| r["target_label"] == "__address__")
        .unwrap();
    assert_eq!(
        address["source_labels"],
        serde_json::json!([
            "__address__",
            "__meta_kubernetes_pod_annotation_sockudo_obs_io_port"
        ])
    );
    assert_eq!(address["regex"], r"(\[[^\]]+\]|[^:]+)(?::\d+)?;(\d+)");
    assert_eq!(config["rule_files"], serde_json::json!(["rules/*.yml"]));

    let development = render("development", &Overrides::default());
    let config = parse_yaml(
        "prometheus.yml",
        development.get("prometheus/prometheus.yml").unwrap(),
    );
    // The Sockudo job, then the self-monitoring ones; none discovers pods.
    assert!(
        config["scrape_configs"]
            .as_array()
            .unwrap()
            .iter()
            .all(|job| job.get("kubernetes_sd_configs").is_none()),
        "no pod discovery"
    );
    assert!(config["scrape_configs"][0].get("basic_auth").is_none());
}

#[test]
fn production_matches_the_committed_bundle() {
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("generated/production");
    let changes = render("production", &Overrides::default())
        .diff(&committed)
        .unwrap();
    let listed: Vec<String> = changes.iter().map(ToString::to_string).collect();
    assert!(
        changes.is_empty(),
        "generated/production is stale:\n  {}\nregenerate with `cargo run -- generate --env production` and commit it",
        listed.join("\n  ")
    );
}

#[test]
fn rendering_is_deterministic() {
    for env in environments() {
        assert_eq!(
            render(&env, &Overrides::default()),
            render(&env, &Overrides::default()),
            "{env}"
        );
    }
}

#[test]
fn another_prefix_reaches_every_expression_and_passes_the_check() {
    let prefix = "my_company_sockudo_";
    let overrides = Overrides {
        prefix: Some(prefix.into()),
        ..Overrides::default()
    };
    let out = render("production", &overrides);
    let exprs = rule_exprs(&out);
    assert!(exprs
        .iter()
        .any(|e| e.contains("my_company_sockudo_http_requests_total")));
    assert!(exprs
        .iter()
        .any(|e| e.contains("job_instance:my_company_sockudo_http_requests:rate5m")));
    for expr in &exprs {
        let without_ours = expr.replace(prefix, "");
        assert!(
            !without_ours.contains("sockudo_"),
            "default prefix left in {expr}"
        );
    }
    let tests = parse_yaml(
        "http_test.yml",
        out.get("prometheus/tests/http_test.yml").unwrap(),
    );
    let series = tests["tests"][0]["input_series"][0]["series"].as_str().unwrap();
    assert!(
        series.starts_with("my_company_sockudo_http_requests_total{"),
        "{series}"
    );
}

/// A promtool test file loads its own rule file and those its rules read, transitively, and no
/// others (promtool evaluates every loaded rule at every step).
#[test]
fn a_promtool_test_loads_the_rule_files_its_rules_read() {
    let rule_files = |out: &Output, stem: &str| -> Vec<String> {
        let path = format!("prometheus/tests/{stem}_test.yml");
        parse_yaml(&path, out.get(&path).unwrap())["rule_files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        rule_files(&render("production", &Overrides::default()), "queue"),
        ["../rules/queue.yml"]
    );

    // The overflow alert now also reads a recording rule of the connections file, which builds
    // on the rules before it in that file.
    let specs = specs::Specs::copy();
    specs.replace(
        "alerts/cardinality.yaml",
        "[1h])) > 0",
        "[1h])) > 0 and on (${routing}, job, instance) job_instance:sockudo_total_connections_and_errors:rate5m > 0",
    );
    let out = bundle::build(&specs.source(), "production", &Overrides::default()).unwrap();
    assert_eq!(
        rule_files(&out, "cardinality"),
        ["../rules/cardinality.yml", "../rules/connections.yml"]
    );
}
