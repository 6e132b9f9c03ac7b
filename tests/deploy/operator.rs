//! The Prometheus Operator's path: the `job` the Operator gives the ServiceMonitor's and the
//! PodMonitor's targets is the one the PrometheusRule selects. The Operator's rule is applied to
//! the rendered manifests (job from the Service name, or `namespace/name` for a PodMonitor; then
//! `jobLabel`; then the endpoint's `relabelings`), and promtool evaluates the PrometheusRule's
//! own groups on `up` series carrying that job: SockudoInstanceDown fires for a dead target and
//! SockudoJobAbsent stays quiet while the targets answer.

use crate::support::specs;
use crate::support::tools;

use std::path::Path;
use std::process::Command;

use serde_json::{json, Value};
use sockudo_obs::bundle::{self, Overrides, SpecSource};

/// The rendered bundle of `env`, written to a temporary directory.
fn bundle_dir(env: &str) -> tempfile::TempDir {
    let out = bundle::build(&SpecSource::Embedded, env, &Overrides::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    out.write_atomically(&dir.path().join("b")).unwrap();
    dir
}

fn yaml(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// What the Operator sets `job` to for one endpoint: its default, replaced by the value of the
/// `jobLabel` label of the Service (or pod) when that label is present, then rewritten by each
/// `replace` relabeling that targets `job` without source labels.
fn operator_job(default: String, job_label: Option<&str>, labels: &Value, endpoint: &Value) -> String {
    let mut job = default;
    if let Some(value) = job_label.and_then(|key| labels[key].as_str()) {
        job = value.to_string();
    }
    for relabeling in endpoint["relabelings"].as_array().into_iter().flatten() {
        let action = relabeling["action"]
            .as_str()
            .unwrap_or("replace")
            .to_ascii_lowercase();
        let no_sources = !relabeling["sourceLabels"]
            .as_array()
            .is_some_and(|s| !s.is_empty());
        if action == "replace" && no_sources && relabeling["targetLabel"] == "job" {
            job = relabeling["replacement"].as_str().unwrap().to_string();
        }
    }
    job
}

/// The jobs the ServiceMonitor and the PodMonitor produce, from the rendered manifests.
fn operator_jobs(k8s: &Path) -> Vec<(String, String)> {
    let service = yaml(&k8s.join("service.yaml"));
    let monitor = yaml(&k8s.join("operator/servicemonitor.yaml"));
    let pod_monitor = yaml(&k8s.join("pod-monitor/podmonitor.yaml"));
    let service_name = service["metadata"]["name"].as_str().unwrap().to_string();
    let mut jobs = Vec::new();
    for endpoint in monitor["spec"]["endpoints"].as_array().unwrap() {
        let job_label = monitor["spec"]["jobLabel"].as_str();
        let job = operator_job(
            service_name.clone(),
            job_label,
            &service["metadata"]["labels"],
            endpoint,
        );
        jobs.push(("ServiceMonitor".to_string(), job));
    }
    let meta = &pod_monitor["metadata"];
    let default = format!(
        "{}/{}",
        meta["namespace"].as_str().unwrap(),
        meta["name"].as_str().unwrap()
    );
    for endpoint in pod_monitor["spec"]["podMetricsEndpoints"].as_array().unwrap() {
        // A PodMonitor's jobLabel reads the pod's labels; the bundle's selector labels stand in.
        let job_label = pod_monitor["spec"]["jobLabel"].as_str();
        let labels = &pod_monitor["spec"]["selector"]["matchLabels"];
        jobs.push((
            "PodMonitor".to_string(),
            operator_job(default.clone(), job_label, labels, endpoint),
        ));
    }
    jobs
}

/// A promtool test file over the PrometheusRule's groups (written beside it as a rules file).
fn promtool_test(job: &str) -> Value {
    let instance = "10.0.0.7:9602";
    json!({
        "rule_files": ["prometheusrule-groups.yml"],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [{"series": format!("up{{job=\"{job}\", instance=\"{instance}\"}}"), "values": "0x20"}],
                // The ALERTS series holds labels only, so the annotations need not be repeated.
                "promql_expr_test": [{
                    "expr": r#"ALERTS{alertname="SockudoInstanceDown", alertstate="firing"}"#,
                    "eval_time": "10m",
                    "exp_samples": [{
                        "labels": format!(
                            "ALERTS{{alertname=\"SockudoInstanceDown\", alertstate=\"firing\", \
                             instance=\"{instance}\", job=\"{job}\", severity=\"warning\"}}"
                        ),
                        "value": 1,
                    }],
                }],
            },
            {
                "interval": "1m",
                "input_series": [{"series": format!("up{{job=\"{job}\", instance=\"{instance}\"}}"), "values": "1x20"}],
                "alert_rule_test": [
                    {"eval_time": "10m", "alertname": "SockudoJobAbsent", "exp_alerts": []},
                    {"eval_time": "10m", "alertname": "SockudoInstanceDown", "exp_alerts": []},
                ],
            },
        ],
    })
}

/// Runs promtool's unit test for `job` on the PrometheusRule of `k8s`; the error is its output.
fn run_promtool(k8s: &Path, job: &str) -> Result<(), String> {
    let rule = yaml(&k8s.join("operator/prometheusrule.yaml"));
    let dir = tempfile::tempdir().unwrap();
    let groups = json!({"groups": rule["spec"]["groups"]});
    std::fs::write(
        dir.path().join("prometheusrule-groups.yml"),
        serde_norway::to_string(&groups).unwrap(),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("operator_test.yml"),
        serde_norway::to_string(&promtool_test(job)).unwrap(),
    )
    .unwrap();
    let output = Command::new(tools::require("promtool"))
        .args(["test", "rules", "operator_test.yml"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    if output.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr))
    }
}

/// The environments that render the Operator's manifests.
fn operator_environments() -> Vec<String> {
    let envs: Vec<String> = specs::environments()
        .into_iter()
        .filter(|env| {
            let dir = bundle_dir(env);
            dir.path().join("b/k8s/operator/servicemonitor.yaml").is_file()
        })
        .collect();
    assert!(!envs.is_empty(), "no environment renders a ServiceMonitor");
    envs
}

#[test]
fn the_operators_jobs_fire_and_quiet_the_availability_alerts() {
    for env in operator_environments() {
        let dir = bundle_dir(&env);
        let k8s = dir.path().join("b/k8s");
        for (monitor, job) in operator_jobs(&k8s) {
            run_promtool(&k8s, &job)
                .unwrap_or_else(|out| panic!("{env}: {monitor} yields job={job:?}:\n{out}"));
        }
    }
}

/// Without the relabeling, the Operator's default job (the Service name) is not the rules' job:
/// the same promtool test fails, so the test above can.
#[test]
fn the_operators_default_job_misses_the_rules() {
    let dir = bundle_dir("production");
    let k8s = dir.path().join("b/k8s");
    let service = yaml(&k8s.join("service.yaml"));
    let monitor = yaml(&k8s.join("operator/servicemonitor.yaml"));
    let mut endpoint = monitor["spec"]["endpoints"][0].clone();
    endpoint.as_object_mut().unwrap().remove("relabelings");
    let name = service["metadata"]["name"].as_str().unwrap().to_string();
    let job = operator_job(name, None, &service["metadata"]["labels"], &endpoint);
    assert_eq!(job, "sockudo-metrics");
    let err = run_promtool(&k8s, &job).expect_err("the Service name is not the rules' job");
    assert!(err.contains("SockudoInstanceDown"), "{err}");
}

/// The objects of `kind` in kustomize's output.
fn of_kind<'a>(docs: &'a [Value], kind: &str) -> Vec<&'a Value> {
    docs.iter().filter(|d| d["kind"] == kind).collect()
}

/// Applied as an operator applies it (`kubectl kustomize k8s/<env>`), a profile with static
/// targets and the Operator component yields a ScrapeConfig that scrapes them as the plain
/// Prometheus's static job does: the same job, target groups (`instance`, `environment` labels)
/// and basic auth, from a Secret in its own namespace, beside the ServiceMonitor and with its
/// selector labels.
#[test]
fn under_the_operator_the_static_targets_are_scraped_as_the_plain_prometheus_does() {
    let root = tempfile::tempdir().unwrap();
    let mut checked = 0;
    for env in operator_environments() {
        let model = bundle::Model::load(&SpecSource::Embedded, &env, &Overrides::default()).unwrap();
        if model.profile.prometheus.static_targets.is_empty() {
            continue;
        }
        let overlay = specs::overlay_on_fresh_bundle(root.path(), &env);
        let docs = specs::kustomize(&overlay);
        let config_map = of_kind(&docs, "ConfigMap")
            .into_iter()
            .find(|d| d["metadata"]["name"] == "sockudo-prometheus")
            .unwrap_or_else(|| panic!("{env}: no plain Prometheus ConfigMap"));
        let plain: Value =
            serde_norway::from_str(config_map["data"]["prometheus.yml"].as_str().unwrap()).unwrap();
        let static_job = plain["scrape_configs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|j| j.get("static_configs").is_some())
            .unwrap();
        let scrape_configs = of_kind(&docs, "ScrapeConfig");
        assert_eq!(scrape_configs.len(), 1, "{env}: one ScrapeConfig");
        let scrape = scrape_configs[0];
        assert_eq!(scrape["apiVersion"], "monitoring.coreos.com/v1alpha1", "{env}");
        let spec = &scrape["spec"];
        assert_eq!(spec["jobName"], static_job["job_name"], "{env}");
        assert_eq!(spec["staticConfigs"], static_job["static_configs"], "{env}");
        let secret = model
            .profile
            .kubernetes
            .operator
            .basic_auth_secret
            .as_ref()
            .unwrap();
        assert_eq!(
            spec["basicAuth"]["password"]["name"],
            secret.name.as_str(),
            "{env}"
        );
        assert_eq!(
            spec["basicAuth"]["password"]["key"],
            secret.password_key.as_str(),
            "{env}"
        );
        let monitor = of_kind(&docs, "ServiceMonitor")[0];
        assert_eq!(
            scrape["metadata"]["namespace"], monitor["metadata"]["namespace"],
            "{env}"
        );
        for (key, value) in &model.profile.kubernetes.operator.selector_labels {
            assert_eq!(scrape["metadata"]["labels"][key], value.as_str(), "{env}: {key}");
        }
        checked += 1;
    }
    assert!(
        checked > 0,
        "no environment has static targets under the Operator"
    );
}

/// With the proxies on TLS under a CA of their own (`proxy.tls.ca_file`), the Operator's
/// ScrapeConfig verifies them with the same CA, from the Secret `kubernetes.operator.ca_secret`
/// (the Operator reads no file): without that key the profile is refused naming it; with it the
/// ScrapeConfig carries the CA and kubernetes-validate (the Operator's CRD models) accepts it; a
/// ScrapeConfig without the CA is named by the cross-artifact check.
#[test]
fn under_the_operator_the_static_targets_are_verified_with_the_plain_paths_ca() {
    let specs = specs::Specs::copy();
    let profile = "environments/production.yaml";
    specs.edit_yaml(profile, |p| {
        let tls: serde_norway::Value = serde_norway::from_str(
            "{certificate: /etc/nginx/tls/cert.pem, certificate_key: /etc/nginx/tls/key.pem, \
             ca_file: /etc/prometheus/sockudo-ca.pem}",
        )
        .unwrap();
        specs::set(p, "proxy.tls", tls);
    });
    let error = specs.load_error("production");
    assert!(
        error.contains("profile key kubernetes.operator.ca_secret: required"),
        "{error}"
    );

    specs.edit_yaml(profile, |p| {
        let ca: serde_norway::Value =
            serde_norway::from_str("{name: sockudo-metrics-ca, key: ca.crt}").unwrap();
        specs::set(p, "kubernetes.operator.ca_secret", ca);
    });
    let mut model = specs.load("production").unwrap();
    assert!(bundle::check::run(&model).is_clean());
    let scrape = serde_json::to_value(&model.documents.operator_scrape_config).unwrap();
    assert_eq!(scrape["spec"]["scheme"], "HTTPS");
    assert_eq!(
        scrape["spec"]["tlsConfig"],
        json!({"ca": {"secret": {"name": "sockudo-metrics-ca", "key": "ca.crt"}}})
    );
    let out = bundle::build(&specs.source(), "production", &Overrides::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    out.write_atomically(&dir.path().join("b")).unwrap();
    crate::support::validate::assert_passes(&["k8s"], &dir.path().join("b"), None);

    model
        .documents
        .operator_scrape_config
        .as_mut()
        .unwrap()
        .body
        .spec
        .tls_config = None;
    let problems = bundle::check::cross_artifact(&model);
    assert!(
        problems
            .iter()
            .any(|p| p.item == "prometheus.static_targets" && p.message.contains("lacks a CA")),
        "{problems:?}"
    );
}
