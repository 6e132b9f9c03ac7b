//! Scrape paths as Prometheus follows them: the pod job's relabeling applied, with Prometheus's
//! semantics, to the addresses Kubernetes discovery hands it (IPv4 and IPv6, with and without a
//! declared container port), and the static job over TLS when the proxy has certificates.

use crate::support::specs;
use crate::support::validate;

use std::collections::BTreeMap;

use regex::Regex;
use serde_json::Value;
use sockudo_obs::bundle::{self, check, Overrides, SpecSource};

/// One target's labels.
type Labels = BTreeMap<String, String>;

/// Applies `keep`, `drop` and `replace` relabel configs as Prometheus does: source labels joined by `;`,
/// the regex anchored at both ends (default `(.*)`), the replacement (default `$1`) expanded with
/// the groups. `None` when a `keep` or `drop` drops the target.
fn relabel(configs: &[Value], mut labels: Labels) -> Option<Labels> {
    for config in configs {
        let sources: Vec<String> = config["source_labels"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|s| labels.get(s.as_str().unwrap()).cloned().unwrap_or_default())
            .collect();
        let value = sources.join(";");
        let regex = Regex::new(&format!("^(?:{})$", config["regex"].as_str().unwrap_or("(.*)"))).unwrap();
        let captures = regex.captures(&value);
        match config["action"].as_str().unwrap_or("replace") {
            "keep" if captures.is_none() => return None,
            "keep" => {}
            "drop" if captures.is_some() => return None,
            "drop" => {}
            "replace" => {
                if let Some(captures) = captures {
                    let mut expanded = String::new();
                    captures.expand(config["replacement"].as_str().unwrap_or("$1"), &mut expanded);
                    let target = config["target_label"].as_str().unwrap().to_string();
                    if expanded.is_empty() {
                        labels.remove(&target);
                    } else {
                        labels.insert(target, expanded);
                    }
                }
            }
            other => panic!("the emulation knows no action {other}"),
        }
    }
    Some(labels)
}

fn prometheus_yml(out: &bundle::Output) -> Value {
    serde_norway::from_str(&specs::text(out, "prometheus/prometheus.yml")).unwrap()
}

fn production_prometheus_yml() -> Value {
    let out = bundle::build(&SpecSource::Embedded, "production", &Overrides::default()).unwrap();
    prometheus_yml(&out)
}

fn pod_job() -> Value {
    production_prometheus_yml()["scrape_configs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j.get("kubernetes_sd_configs").is_some())
        .expect("production discovers pods")
        .clone()
}

fn pod_job_relabelings() -> Vec<Value> {
    pod_job()["relabel_configs"].as_array().unwrap().clone()
}

/// A discovered pod: its address and the annotations the workload component puts on it.
fn pod(address: &str) -> Labels {
    Labels::from([
        ("__address__".into(), address.into()),
        ("__meta_kubernetes_pod_label_app".into(), "sockudo".into()),
        (
            "__meta_kubernetes_pod_annotation_sockudo_obs_io_scrape".into(),
            "true".into(),
        ),
        (
            "__meta_kubernetes_pod_annotation_sockudo_obs_io_port".into(),
            "9602".into(),
        ),
        (
            "__meta_kubernetes_pod_annotation_sockudo_obs_io_path".into(),
            "/metrics".into(),
        ),
        ("__meta_kubernetes_namespace".into(), "sockudo".into()),
        ("__meta_kubernetes_pod_name".into(), "sockudo-0".into()),
    ])
}

#[test]
fn pod_addresses_get_the_annotated_port_on_ipv4_and_ipv6() {
    let configs = pod_job_relabelings();
    for (discovered, scraped) in [
        ("10.0.0.7:6001", "10.0.0.7:9602"),
        ("10.0.0.7", "10.0.0.7:9602"),
        ("[fd00::7]:6001", "[fd00::7]:9602"),
        // A pod whose containers declare no port: Kubernetes discovery gives the bare address.
        ("fd00::7", "[fd00::7]:9602"),
        ("fd00:1:2::7", "[fd00:1:2::7]:9602"),
    ] {
        let labels = relabel(&configs, pod(discovered)).expect("kept");
        assert_eq!(labels["__address__"], scraped, "discovered {discovered}");
        assert_eq!(labels["job"], "sockudo");
        assert_eq!(labels["pod"], "sockudo-0");
    }
    let mut other = pod("10.0.0.8");
    other.insert("__meta_kubernetes_pod_label_app".into(), "redis".into());
    assert!(
        relabel(&configs, other).is_none(),
        "another app's pods are dropped"
    );
}

/// Without the bare-IPv6 rule the address would stay `fd00::7`: no brackets, no port.
#[test]
fn without_the_ipv6_rule_a_bare_address_keeps_no_port() {
    let configs: Vec<Value> = pod_job_relabelings()
        .into_iter()
        .filter(|c| c["replacement"] != "[$1]:$2")
        .collect();
    let labels = relabel(&configs, pod("fd00::7")).unwrap();
    assert_eq!(labels["__address__"], "fd00::7");
}

#[test]
fn static_targets_are_scraped_over_https_when_the_proxy_has_certificates() {
    let specs = specs::Specs::copy();
    specs.edit_yaml("environments/production.yaml", |profile| {
        let mut tls = serde_norway::Mapping::new();
        tls.insert("certificate".into(), "/etc/nginx/tls/cert.pem".into());
        tls.insert("certificate_key".into(), "/etc/nginx/tls/key.pem".into());
        tls.insert("ca_file".into(), "/etc/prometheus/sockudo-ca.pem".into());
        specs::set(profile, "proxy.tls", serde_norway::Value::Mapping(tls));
        // Production has the Operator: its ScrapeConfig reads the same CA from a Secret.
        let ca: serde_norway::Value =
            serde_norway::from_str("{name: sockudo-metrics-ca, key: ca.crt}").unwrap();
        specs::set(profile, "kubernetes.operator.ca_secret", ca);
    });
    let out = bundle::build(&specs.source(), "production", &Overrides::default()).unwrap();
    let config = prometheus_yml(&out);
    let jobs = config["scrape_configs"].as_array().unwrap();
    let static_job = jobs.iter().find(|j| j.get("static_configs").is_some()).unwrap();
    assert_eq!(static_job["scheme"], "https");
    assert_eq!(
        static_job["tls_config"]["ca_file"],
        "/etc/prometheus/sockudo-ca.pem"
    );
    let pod_job = jobs
        .iter()
        .find(|j| j.get("kubernetes_sd_configs").is_some())
        .unwrap();
    assert_eq!(
        pod_job["scheme"], "http",
        "the pods' sidecar serves plain HTTP behind the NetworkPolicy"
    );

    let dir = tempfile::tempdir().unwrap();
    out.write_atomically(&dir.path().join("b")).unwrap();
    // The certificate files are the operator's: the validator checks them as placeholders.
    validate::assert_passes(&["prometheus"], &dir.path().join("b"), None);
}

/// A pod that finished (Failed, Succeeded) keeps its address in the discovery, which may be
/// another pod's by now: the pod job drops it, as the Operator's monitors do, and keeps Pending and
/// Running pods. Without the rule, or with one naming only Failed, the cross-artifact check names
/// the phases it keeps.
#[test]
fn finished_pods_are_not_scraped() {
    let job = pod_job();
    let configs = job["relabel_configs"].as_array().unwrap().clone();
    for (phase, kept) in [
        ("Pending", true),
        ("Running", true),
        ("Failed", false),
        ("Succeeded", false),
    ] {
        let mut labels = pod("10.1.2.3");
        labels.insert("__meta_kubernetes_pod_phase".into(), phase.into());
        assert_eq!(relabel(&configs, labels).is_some(), kept, "a {phase} pod");
    }
    assert_eq!(check::finished_pods_kept(&job), None);

    let mut without = job.clone();
    without["relabel_configs"]
        .as_array_mut()
        .unwrap()
        .retain(|rule| rule["action"] != "drop");
    let message = check::finished_pods_kept(&without).expect("the check fires without the rule");
    assert!(message.contains("keeps Failed and Succeeded pods"), "{message}");

    let mut only_failed = job;
    for rule in only_failed["relabel_configs"].as_array_mut().unwrap() {
        if rule["action"] == "drop" {
            rule["regex"] = "Failed".into();
        }
    }
    let message = check::finished_pods_kept(&only_failed).expect("Succeeded is still kept");
    assert!(message.contains("keeps Succeeded pods"), "{message}");
}

/// An Alertmanager Service (`alertmanager.monitoring.svc:9093`) is reached replica by replica:
/// the endpoints discovery of its namespace, kept by the Service's name and port, gives every
/// replica's address and nothing else. A fixed Service address instead is named by the check.
#[test]
fn every_alertmanager_replica_gets_the_alerts() {
    let config = production_prometheus_yml();
    let sets = config["alerting"]["alertmanagers"].as_array().unwrap();
    assert_eq!(sets.len(), 1, "{sets:?}");
    let set = &sets[0];
    assert_eq!(set["kubernetes_sd_configs"][0]["role"], "endpoints");
    assert_eq!(
        set["kubernetes_sd_configs"][0]["namespaces"]["names"],
        serde_json::json!(["monitoring"])
    );
    let rules = set["relabel_configs"].as_array().unwrap();
    // What the endpoints discovery hands Prometheus in `monitoring`: two replicas on the web and
    // the cluster port, and another Service's endpoint on the same port.
    let endpoint = |service: &str, address: &str| {
        Labels::from([
            ("__address__".to_string(), address.to_string()),
            ("__meta_kubernetes_service_name".to_string(), service.to_string()),
        ])
    };
    let discovered = [
        endpoint("alertmanager", "10.2.0.4:9093"),
        endpoint("alertmanager", "10.2.0.4:9094"),
        endpoint("alertmanager", "10.2.0.5:9093"),
        endpoint("alertmanager", "10.2.0.5:9094"),
        endpoint("alertmanager-other", "10.2.0.9:9093"),
    ];
    let kept: Vec<String> = discovered
        .into_iter()
        .filter_map(|labels| relabel(rules, labels))
        .map(|labels| labels["__address__"].clone())
        .collect();
    assert_eq!(kept, ["10.2.0.4:9093", "10.2.0.5:9093"]);
    assert!(check::alertmanagers_by_service_address(&config).is_empty());

    let mut fixed = config;
    fixed["alerting"]["alertmanagers"] =
        serde_json::json!([{"static_configs": [{"targets": ["alertmanager.monitoring.svc:9093"]}]}]);
    let messages = check::alertmanagers_by_service_address(&fixed);
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert!(
        messages[0].contains("the Service address alertmanager.monitoring.svc:9093"),
        "{messages:?}"
    );
}
