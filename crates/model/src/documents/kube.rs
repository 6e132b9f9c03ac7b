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
    /// The `apiVersion` of the kind (`v1` for a ConfigMap).
    pub api_version: &'static str,
    /// The object's `kind` (`ConfigMap`, `NetworkPolicy`, ...).
    pub kind: &'static str,
    /// The header: name, namespace, labels and annotations.
    pub metadata: Metadata,
    /// The kind's own fields (`data`, `spec`), serialized beside the header.
    #[serde(flatten)]
    pub body: B,
}

/// An object's `metadata`, the header every manifest carries.
#[derive(Debug, Clone, Serialize)]
pub struct Metadata {
    /// The object's name.
    pub name: String,
    /// Empty for cluster-scoped objects.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    /// The app and component labels, plus any the Operator's or the Grafana sidecar's selector
    /// needs; omitted when empty.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Omitted when empty; a dashboard ConfigMap carries its Grafana folder here.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// A ConfigMap's body.
#[derive(Debug, Clone, Serialize)]
pub struct ConfigMapBody {
    /// File name → content; the keys cannot hold `/`.
    pub data: BTreeMap<String, String>,
}

/// The header of an object of the profile's namespace, with the app and component labels.
pub fn metadata(profile: &Profile, name: &str) -> Metadata {
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
pub fn operator_metadata(profile: &Profile, name: &str) -> Metadata {
    let mut metadata = metadata(profile, name);
    metadata
        .labels
        .extend(profile.kubernetes.operator.selector_labels.clone());
    metadata
}

/// Basic auth read from a Secret, as the Operator's monitors and ScrapeConfig spell it.
#[derive(Debug, Clone, Serialize)]
pub struct BasicAuthRefs {
    /// The Secret key holding the username.
    pub username: SecretKey,
    /// The Secret key holding the password.
    pub password: SecretKey,
}

/// One key of a Kubernetes Secret, as the Operator's objects reference it.
#[derive(Debug, Clone, Serialize)]
pub struct SecretKey {
    /// The Secret's name.
    pub name: String,
    /// The key within the Secret.
    pub key: String,
}

impl BasicAuthRefs {
    /// The username and password keys of the profile's Secret.
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
