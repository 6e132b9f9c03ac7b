//! The Kubernetes object header every manifest shares, and the dashboard ConfigMaps, which the
//! verify stage measures and the Kubernetes renderer writes.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::dashboards::Dashboard;
use crate::layout::{METRICS_PATH, SCRAPE_ANNOTATIONS};
use crate::profile::{Profile, SecretRef};
use crate::topology::Topology;

const COMPONENT_LABEL: &str = "app.kubernetes.io/component";

/// A Kubernetes object: the common header and a kind-specific body.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Object<B> {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub metadata: Metadata,
    #[serde(flatten)]
    pub body: B,
}

#[derive(Debug, Clone, Serialize)]
pub struct Metadata {
    pub name: String,
    /// Empty for cluster-scoped objects.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct ConfigMapBody {
    pub data: BTreeMap<String, String>,
}

/// The header of an object of the profile's namespace, with the app and component labels.
pub(crate) fn metadata(profile: &Profile, name: &str) -> Metadata {
    Metadata {
        name: name.to_string(),
        namespace: profile.kubernetes.namespace.clone(),
        labels: BTreeMap::from([
            ("app".to_string(), profile.kubernetes.app_label.clone()),
            (COMPONENT_LABEL.to_string(), "metrics".to_string()),
        ]),
        annotations: BTreeMap::new(),
    }
}

/// The header of the ConfigMap the Grafana sidecar loads one dashboard from (its label and
/// folder annotation); kustomize fills it with the dashboard's file, and the verify stage keeps
/// it under `kubectl apply`'s annotation limit.
pub(crate) fn dashboard_configmap(profile: &Profile, dashboard: &Dashboard) -> Metadata {
    let sidecar = &profile.kubernetes.grafana_sidecar;
    let uid = &dashboard.spec.uid;
    let mut metadata = metadata(
        profile,
        &format!("sockudo-dashboard-{}", uid.to_ascii_lowercase().replace('_', "-")),
    );
    metadata
        .labels
        .insert(sidecar.label.clone(), sidecar.value.clone());
    metadata
        .annotations
        .insert("grafana_folder".to_string(), sidecar.folder.clone());
    metadata
}

/// The header of an object the Prometheus Operator selects: the profile's selector labels added.
pub(crate) fn operator_metadata(profile: &Profile, name: &str) -> Metadata {
    let mut metadata = metadata(profile, name);
    metadata
        .labels
        .extend(profile.kubernetes.operator.selector_labels.clone());
    metadata
}

/// Basic auth read from a Secret, as the Operator's monitors and ScrapeConfig spell it.
#[derive(Debug, Clone, Serialize)]
pub struct BasicAuthRefs {
    pub username: SecretKey,
    pub password: SecretKey,
}

#[derive(Debug, Clone, Serialize)]
pub struct SecretKey {
    pub name: String,
    pub key: String,
}

impl BasicAuthRefs {
    pub fn of(secret: &SecretRef) -> BasicAuthRefs {
        let key = |key: &str| SecretKey {
            name: secret.name.clone(),
            key: key.to_string(),
        };
        BasicAuthRefs {
            username: key(&secret.username_key),
            password: key(&secret.password_key),
        }
    }
}

/// The annotations the Sockudo pods carry for the bundle's own pod discovery: the private
/// `sockudo-obs.io/*` ones (scrape, port, path), never the generic `prometheus.io/*` that every
/// stock annotation-driven job would scrape without the proxy's credentials.
pub(crate) fn pod_annotations(topology: &Topology) -> BTreeMap<String, String> {
    let [scrape, port, path] = SCRAPE_ANNOTATIONS;
    BTreeMap::from([
        (scrape.to_string(), "true".to_string()),
        (port.to_string(), topology.pod_port.1.to_string()),
        (path.to_string(), METRICS_PATH.to_string()),
    ])
}
