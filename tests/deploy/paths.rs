//! Scrape paths as Prometheus follows them: the pod job's relabeling applied, with Prometheus's
//! semantics, to the addresses Kubernetes discovery hands it (IPv4 and IPv6, with and without a
//! declared container port), and the static job over TLS when the proxy has certificates.

use crate::support::specs;
use crate::support::validate;

use std::collections::BTreeMap;

use regex::Regex;
use serde_json::Value;
use sockudo_obs::bundle::{self, Overrides, SpecSource};

/// One target's labels.
type Labels = BTreeMap<String, String>;

/// Applies `keep` and `replace` relabel configs as Prometheus does: source labels joined by `;`,
/// the regex anchored at both ends (default `(.*)`), the replacement (default `$1`) expanded with
/// the groups. `None` when a `keep` drops the target.
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

fn pod_job_relabelings() -> Vec<Value> {
    let out = bundle::build(&SpecSource::Embedded, "production", &Overrides::default()).unwrap();
    let config = prometheus_yml(&out);
    let job = config["scrape_configs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j.get("kubernetes_sd_configs").is_some())
        .expect("production discovers pods")
        .clone();
    job["relabel_configs"].as_array().unwrap().clone()
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
