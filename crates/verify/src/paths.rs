//! Every scrape path of the profile on every deployment path of the bundle: the static targets and
//! the pod discovery are scraped, with the profile's job, by the plain Prometheus (its in-cluster
//! `prometheus.yml`) and, with the Operator component, by the Operator's objects (the
//! ScrapeConfig of the static targets, with the plain job's target groups and basic auth; the
//! ServiceMonitor or PodMonitor for the pods). And the annotations the pods carry are the ones the
//! pod discovery's relabeling keeps and reads, none of them a generic `prometheus.io/*` one.
//!
//! Both read the documents as they serialize (parsed values, never text), never a renderer.

use std::collections::BTreeMap;

use serde_json::Value;

use super::Problem;
use sockudo_obs_model::documents::scrape_config::ClusterService;
use sockudo_obs_model::layout::pod_annotation_label;
use sockudo_obs_model::model::Model;
use sockudo_obs_model::topology::PathKind;

const CLUSTER_CONFIG: &str = "k8s/prometheus-configmap.yaml (prometheus.yml)";
const SCRAPE_CONFIG: &str = "k8s/operator/scrapeconfig.yaml";
const POD_PATCH: &str = "k8s/workload/deployment-patch.yaml";
/// The discovered pod's phase (Pending, Running, Succeeded, Failed, Unknown).
const PHASE_LABEL: &str = "__meta_kubernetes_pod_phase";
/// The annotation prefix every stock annotation-driven job reads.
const GENERIC_PREFIX: &str = "prometheus.io/";

pub(crate) fn check(model: &Model) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut report = |item: &str, message: String| {
        problems.push(Problem {
            file: model.profile.path.clone(),
            item: item.to_string(),
            message,
        })
    };
    let plain = serde_json::to_value(&model.documents.cluster_prometheus).unwrap_or(Value::Null);
    let jobs: Vec<&Value> = items(&plain["scrape_configs"]).collect();
    let job = model.topology.job.as_str();
    let prometheus = &model.profile.prometheus;
    let targets: Vec<&str> = prometheus
        .static_targets
        .iter()
        .map(|t| t.target.as_str())
        .collect();
    let static_job = jobs.iter().copied().find(|j| {
        let scraped: Vec<&str> = items(&j["static_configs"])
            .flat_map(|g| items(&g["targets"]))
            .filter_map(Value::as_str)
            .collect();
        !targets.is_empty() && targets.iter().all(|t| scraped.contains(t))
    });
    if !targets.is_empty() {
        match static_job {
            Some(found) if final_job(found) == Some(job) => {}
            Some(found) => report(
                "prometheus.static_targets",
                format!(
                    "{CLUSTER_CONFIG} scrapes the static targets as job={:?}, not the profile's job={job:?}",
                    final_job(found).unwrap_or("")
                ),
            ),
            None => report(
                "prometheus.static_targets",
                format!("{CLUSTER_CONFIG} has no job scraping every static target"),
            ),
        }
    }
    let sd_job = jobs
        .iter()
        .copied()
        .find(|j| j.get("kubernetes_sd_configs").is_some());
    if prometheus.kubernetes_sd.enabled {
        match sd_job {
            Some(found) if final_job(found) == Some(job) => {}
            found => report(
                "prometheus.kubernetes_sd",
                format!(
                    "{CLUSTER_CONFIG} scrapes the discovered pods as job={:?}, not the profile's job={job:?}",
                    found.and_then(final_job)
                ),
            ),
        }
        if let Some(found) = sd_job {
            for message in annotation_disagreements(found, &model.documents.pod_annotations) {
                report("kubernetes.workload", message);
            }
            if let Some(message) = finished_pods_kept(found) {
                report("prometheus.kubernetes_sd", message);
            }
        }
    }
    if prometheus.kubernetes_sd.enabled {
        for message in alertmanagers_by_service_address(&plain) {
            report("prometheus.alertmanagers", message);
        }
    }
    if model.profile.kubernetes.operator.enabled {
        if !targets.is_empty() {
            let operator =
                serde_json::to_value(&model.documents.operator_scrape_config).unwrap_or(Value::Null);
            for message in operator_static_disagreements(&operator, static_job, job) {
                report("prometheus.static_targets", message);
            }
        }
        if prometheus.kubernetes_sd.enabled {
            let monitors = [PathKind::ServiceMonitor, PathKind::PodMonitor];
            for kind in monitors {
                match model.topology.path(kind) {
                    Some(path) if path.job() == Some(job) => {}
                    path => report(
                        "kubernetes.operator",
                        format!(
                            "under the Operator the pods are scraped by the {kind:?} as job={:?}, not the profile's job={job:?}",
                            path.and_then(|p| p.job())
                        ),
                    ),
                }
            }
        }
    }
    problems
}

fn items(value: &Value) -> impl Iterator<Item = &Value> {
    value.as_array().into_iter().flatten()
}

/// The `job` a `prometheus.yml` scrape config's series end up with: its `job_name`, rewritten by
/// each `replace` relabeling of `job` without source labels.
fn final_job(config: &Value) -> Option<&str> {
    let mut job = config["job_name"].as_str();
    for rule in items(&config["relabel_configs"]) {
        let sources = items(&rule["source_labels"]).count();
        let action = rule["action"].as_str().unwrap_or("replace");
        if action == "replace" && sources == 0 && rule["target_label"] == "job" {
            job = rule["replacement"].as_str();
        }
    }
    job
}

/// The Alertmanagers an in-cluster `prometheus.yml` reaches through one Service address
/// (`<name>.<namespace>.svc:<port>` as a fixed target): each alert would reach one replica
/// behind it. Every replica is found by discovery instead.
pub fn alertmanagers_by_service_address(config: &Value) -> Vec<String> {
    items(&config["alerting"]["alertmanagers"])
        .flat_map(|set| items(&set["static_configs"]))
        .flat_map(|group| items(&group["targets"]))
        .filter_map(Value::as_str)
        .filter(|target| ClusterService::of(target).is_some())
        .map(|target| {
            format!(
                "{CLUSTER_CONFIG} sends alerts to the Service address {target}: one replica of \
                 the Alertmanagers behind it gets each alert; discover every replica (role: endpoints)"
            )
        })
        .collect()
}

/// Why the pod job would scrape finished pods: it has no `drop` rule on the pod phase, or the
/// rule misses `Failed` or `Succeeded` (the Operator's monitors drop both). `None` when it drops
/// them.
pub fn finished_pods_kept(job: &Value) -> Option<String> {
    let dropped: Vec<&str> = items(&job["relabel_configs"])
        .filter(|rule| {
            rule["action"] == "drop"
                && items(&rule["source_labels"])
                    .map(Value::as_str)
                    .eq([Some(PHASE_LABEL)])
        })
        .filter_map(|rule| rule["regex"].as_str())
        .collect();
    let missing: Vec<&str> = ["Failed", "Succeeded"]
        .into_iter()
        .filter(|phase| {
            !dropped.iter().any(|regex| {
                regex
                    .trim_start_matches('(')
                    .trim_end_matches(')')
                    .split('|')
                    .any(|p| p == *phase)
            })
        })
        .collect();
    (!missing.is_empty()).then(|| {
        format!(
            "{CLUSTER_CONFIG}'s pod job keeps {} pods: no drop rule on {PHASE_LABEL} names them \
             (a finished pod's address may be another pod's by now)",
            missing.join(" and ")
        )
    })
}

/// Where the Operator's ScrapeConfig of the static targets departs from the plain static job: it
/// is missing, or its job, target groups (targets and labels) or basic auth differ.
fn operator_static_disagreements(operator: &Value, plain: Option<&Value>, job: &str) -> Vec<String> {
    if operator.is_null() {
        return vec![format!(
            "the Operator component has no ScrapeConfig ({SCRAPE_CONFIG}): under the Operator the \
             static targets are scraped by nothing"
        )];
    }
    let spec = &operator["spec"];
    let mut messages = Vec::new();
    if spec["jobName"].as_str() != Some(job) {
        messages.push(format!(
            "{SCRAPE_CONFIG} sets job={}, not the profile's job={job:?}",
            spec["jobName"]
        ));
    }
    let Some(plain) = plain else { return messages };
    if spec["staticConfigs"] != plain["static_configs"] {
        messages.push(format!(
            "{SCRAPE_CONFIG}'s staticConfigs {} differ from {CLUSTER_CONFIG}'s static_configs {}",
            spec["staticConfigs"], plain["static_configs"]
        ));
    }
    if plain.get("basic_auth").is_some() != spec.get("basicAuth").is_some() {
        messages.push(format!(
            "{SCRAPE_CONFIG} {} basic auth, but {CLUSTER_CONFIG}'s static job {}",
            if spec.get("basicAuth").is_some() {
                "has"
            } else {
                "lacks"
            },
            if plain.get("basic_auth").is_some() {
                "has it"
            } else {
                "does not"
            },
        ));
    }
    if plain["tls_config"].get("ca_file").is_some() != spec["tlsConfig"].get("ca").is_some() {
        messages.push(format!(
            "{SCRAPE_CONFIG} {} a CA, but {CLUSTER_CONFIG}'s static job {}: the two paths would \
             not verify the proxies alike",
            if spec["tlsConfig"].get("ca").is_some() {
                "has"
            } else {
                "lacks"
            },
            if plain["tls_config"].get("ca_file").is_some() {
                "verifies with its own CA"
            } else {
                "uses the system's CAs"
            },
        ));
    }
    if !spec["scheme"]
        .as_str()
        .unwrap_or("HTTP")
        .eq_ignore_ascii_case(plain["scheme"].as_str().unwrap_or("http"))
    {
        messages.push(format!(
            "{SCRAPE_CONFIG} scrapes over {}, {CLUSTER_CONFIG} over {}",
            spec["scheme"], plain["scheme"]
        ));
    }
    messages
}

/// Where the pods' annotations and the pod discovery's relabeling disagree: every `keep` on a pod
/// annotation must find that annotation with the kept value (the bundle writes literal regexes),
/// every annotation a rule reads must be on the pods, and no annotation may be a generic
/// `prometheus.io/*` one.
fn annotation_disagreements(job: &Value, annotations: &BTreeMap<String, String>) -> Vec<String> {
    let by_label: BTreeMap<String, (&String, &String)> = annotations
        .iter()
        .map(|(name, value)| (pod_annotation_label(name), (name, value)))
        .collect();
    let mut messages = Vec::new();
    let mut keeps = 0;
    for rule in items(&job["relabel_configs"]) {
        let action = rule["action"].as_str().unwrap_or("replace");
        for source in items(&rule["source_labels"]).filter_map(Value::as_str) {
            if !source.starts_with("__meta_kubernetes_pod_annotation_") {
                continue;
            }
            let Some((name, value)) = by_label.get(source) else {
                messages.push(format!(
                    "the pod discovery's {action} rule reads {source}, but no annotation of \
                     {POD_PATCH} becomes that label (the pods carry {:?})",
                    annotations.keys().collect::<Vec<_>>()
                ));
                continue;
            };
            if action == "keep" {
                keeps += 1;
                let regex = rule["regex"].as_str().unwrap_or("(.*)");
                if regex != value.as_str() {
                    messages.push(format!(
                        "the pod discovery keeps {source}={regex:?}, but {POD_PATCH} sets {name}: {value:?}"
                    ));
                }
            }
        }
    }
    if keeps == 0 {
        messages.push(
            "the pod discovery keeps pods by no annotation: it would scrape every pod with the app label"
                .to_string(),
        );
    }
    for name in annotations.keys().filter(|n| n.starts_with(GENERIC_PREFIX)) {
        messages.push(format!(
            "{POD_PATCH} sets the generic annotation {name}: stock annotation-driven jobs would \
             scrape the authenticated port without credentials"
        ));
    }
    messages
}
