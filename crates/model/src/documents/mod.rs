//! The documents stage: the structured values more than one artifact or check needs, built once
//! from the model. The renderers serialize and package them (the Kubernetes renderer puts the
//! same `prometheus.yml`, rule groups and dashboards into ConfigMaps and a PrometheusRule) and
//! the verify stage measures them; neither rebuilds them or asks another renderer for them.

pub(crate) mod compose;
pub(crate) mod dashboard;
pub mod kube;
pub(crate) mod operator;
pub(crate) mod rule_groups;
pub mod scrape_config;

use std::collections::BTreeMap;

use crate::Result;

use self::compose::ComposeAlertmanager;
use self::dashboard::GrafanaDashboard;
use self::kube::{Metadata, Object};
use self::operator::ScrapeConfigBody;
use self::rule_groups::RuleGroups;
use self::scrape_config::{Deployment, PrometheusConfig};
use super::dashboards::Dashboards;
use super::layout::RULE_FILES;
use super::rules::RuleSet;

/// The ConfigMap key pattern of the rule files beside the cluster's `prometheus.yml` (keys cannot
/// hold `/`).
const CLUSTER_RULE_FILES: &str = "*.rules.yml";

/// Every document of one environment.
#[derive(Debug, Clone)]
pub struct Documents {
    /// `prometheus/prometheus.yml`.
    pub prometheus: PrometheusConfig,
    /// The compose stack's `prometheus.yml`: its own Sockudo and Alertmanager, nothing outside.
    pub compose_prometheus: PrometheusConfig,
    /// The compose stack's `alertmanager.yml`: every receiver posts to the stack's sink.
    pub compose_alertmanager: ComposeAlertmanager,
    /// The in-cluster `prometheus.yml` of the Prometheus ConfigMap.
    pub cluster_prometheus: PrometheusConfig,
    /// The Operator's ScrapeConfig of the static targets (Operator on, static targets given).
    pub operator_scrape_config: Option<Object<ScrapeConfigBody>>,
    /// The annotations the workload component puts on the Sockudo pods, which the pod
    /// discovery's relabeling selects.
    pub pod_annotations: BTreeMap<String, String>,
    /// One per rule spec file, in the model's order.
    pub rule_files: Vec<RuleFileDocument>,
    /// One per dashboard spec, in the model's order.
    pub dashboards: Vec<DashboardDocument>,
}

/// One rule spec's rule groups, which the rule file, the cluster's ConfigMap and the
/// PrometheusRule all serialize.
#[derive(Debug, Clone)]
pub struct RuleFileDocument {
    /// The spec's file stem, which names the rule file.
    pub stem: String,
    /// The file's rule groups, as Prometheus reads them.
    pub groups: RuleGroups,
}

/// One dashboard: its Grafana JSON and the header of the sidecar ConfigMap made from it.
#[derive(Debug, Clone)]
pub struct DashboardDocument {
    /// The dashboard's uid, which names its file (`<uid>.json`).
    pub uid: String,
    /// The dashboard as Grafana imports it, written once to its file under `grafana/`.
    pub json: GrafanaDashboard,
    /// The header of the Grafana sidecar's ConfigMap, which kustomize makes from the dashboard's
    /// file (`grafana/kustomization.yaml`): the file is written once.
    pub configmap: Metadata,
}

impl Documents {
    /// Builds every document from the environment's profile, topology, rules and dashboards.
    pub fn build(deployment: Deployment<'_>, rules: &RuleSet, dashboards: &Dashboards) -> Result<Documents> {
        let rule_files = rules
            .files
            .iter()
            .map(|file| RuleFileDocument {
                stem: file.stem.clone(),
                groups: rule_groups::rule_groups(file),
            })
            .collect();
        let dashboards = dashboards
            .items
            .iter()
            .map(|dashboard| DashboardDocument {
                uid: dashboard.spec.uid.clone(),
                json: dashboard::dashboard_json(deployment.profile, rules, dashboard),
                configmap: kube::dashboard_configmap(deployment.profile, dashboard),
            })
            .collect();
        Ok(Documents {
            prometheus: scrape_config::config(&deployment, RULE_FILES),
            compose_prometheus: scrape_config::compose_config(&deployment),
            compose_alertmanager: compose::alertmanager(
                &deployment.profile.alertmanager,
                &deployment.topology.compose.alert_sink,
            ),
            cluster_prometheus: scrape_config::config(&deployment, CLUSTER_RULE_FILES),
            operator_scrape_config: operator::static_scrape_config(&deployment),
            pod_annotations: kube::pod_annotations(deployment.topology),
            rule_files,
            dashboards,
        })
    }
}
