//! Renders the Kubernetes manifests (`k8s/`), all typed values in the profile's namespace: the
//! metrics Service, the Prometheus ConfigMap, one
//! dashboard ConfigMap per dashboard for the Grafana sidecar, an optional NetworkPolicy, and
//! with the Prometheus Operator a ServiceMonitor, a PrometheusRule, a ScrapeConfig of the static
//! targets and (as a kustomize component) a PodMonitor; plus the `kustomization.yaml` that lists them.
//!
//! Profile values become names, labels and selectors; the validate stage has checked each against
//! Kubernetes' syntax, reporting an invalid one with its profile key.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;
use sockudo_obs_model::Result;

use sockudo_obs_catalogue::{Error, ErrorKind, ResultExt};
use sockudo_obs_model::documents::kube::{
    metadata, operator_metadata, BasicAuthRefs, ConfigMapBody, Metadata, Object,
};
use sockudo_obs_model::documents::scrape_config::{alertmanager_services, ClusterService};
use sockudo_obs_model::layout::{
    dashboard_file, DISCOVERY_LABEL, GRAFANA_DIR, K8S_NAME, METRICS_PATH, NGINX_CONF_DIR, OPERATOR_COMPONENT,
    POD_MONITOR_COMPONENT, SIDECAR_CONF_FILE, SIDECAR_HTPASSWD_DIR, WORKLOAD_COMPONENT,
};
use sockudo_obs_model::model::Model;
use sockudo_obs_model::output::Output;
use sockudo_obs_model::profile::{NetworkPeer, Profile};
use sockudo_obs_model::topology::{PathKind, PolicyPorts, Topology};

const MONITORING_API: &str = "monitoring.coreos.com/v1";
const KUSTOMIZE_API: &str = "kustomize.config.k8s.io/v1beta1";
const COMPONENT_API: &str = "kustomize.config.k8s.io/v1alpha1";
const RBAC_API: &str = "rbac.authorization.k8s.io/v1";
/// The name shared by the Service, the monitors and the rules.
const NAME: &str = K8S_NAME;

#[derive(Debug, Clone, Serialize)]
struct SpecBody<S> {
    spec: S,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct ServiceSpec {
    selector: BTreeMap<String, String>,
    ports: Vec<ServicePort>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct ServicePort {
    name: &'static str,
    port: u16,
    target_port: u16,
    protocol: &'static str,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct LabelSelector {
    match_labels: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct NamespaceSelector {
    match_names: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct ServiceMonitorSpec {
    selector: LabelSelector,
    namespace_selector: NamespaceSelector,
    endpoints: Vec<ScrapeEndpoint>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct PodMonitorSpec {
    selector: LabelSelector,
    namespace_selector: NamespaceSelector,
    pod_metrics_endpoints: Vec<ScrapeEndpoint>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct ScrapeEndpoint {
    port: &'static str,
    path: &'static str,
    interval: String,
    scrape_timeout: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    basic_auth: Option<BasicAuthRefs>,
    /// Applied after the Operator sets `job` from the Service name (ServiceMonitor) or
    /// `namespace/name` (PodMonitor): the job the rules select.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    relabelings: Vec<MonitorRelabeling>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct MonitorRelabeling {
    action: &'static str,
    target_label: &'static str,
    replacement: String,
}

#[derive(Debug, Clone, Serialize)]
struct PrometheusRuleSpec {
    groups: Vec<Value>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct NetworkPolicySpec {
    pod_selector: LabelSelector,
    policy_types: Vec<&'static str>,
    ingress: Vec<IngressRule>,
}

#[derive(Debug, Clone, Serialize)]
struct IngressRule {
    /// Absent: from anywhere.
    #[serde(skip_serializing_if = "Option::is_none")]
    from: Option<Vec<Peer>>,
    ports: Vec<PolicyPort>,
}

/// One peer: when both selectors are set, a pod must match both (AND), which is why they share
/// one entry instead of two (OR).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct Peer {
    #[serde(skip_serializing_if = "Option::is_none")]
    namespace_selector: Option<LabelSelector>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pod_selector: Option<LabelSelector>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct PolicyPort {
    protocol: &'static str,
    port: u16,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
struct Kustomization {
    api_version: &'static str,
    kind: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    resources: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    config_map_generator: Vec<ConfigMapGenerator>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    patches: Vec<Patch>,
}

#[derive(Debug, Clone, Serialize)]
struct ConfigMapGenerator {
    name: String,
    /// Without it the ConfigMap lands in `kubectl`'s current namespace, not the Deployment's.
    namespace: String,
    files: Vec<String>,
    options: GeneratorOptions,
}

/// Without the content-hash suffix: kustomize does not rewrite a name a component's patch
/// introduces, so the Deployment could not find a hashed ConfigMap (and the Grafana sidecar
/// finds its ConfigMaps by label, where a changing name would only leave old ones behind).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct GeneratorOptions {
    disable_name_suffix_hash: bool,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    labels: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    annotations: BTreeMap<String, String>,
}

/// A kustomize patch: inline or from a file, on its own object or on every `target` match.
#[derive(Debug, Clone, Default, Serialize)]
struct Patch {
    #[serde(skip_serializing_if = "Option::is_none")]
    patch: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    target: Option<PatchTarget>,
}

#[derive(Debug, Clone, Serialize)]
struct PatchTarget {
    kind: &'static str,
    name: String,
}

/// A strategic-merge patch that removes one object.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct DeletePatch {
    #[serde(rename = "$patch")]
    patch: &'static str,
    api_version: &'static str,
    kind: &'static str,
    metadata: Metadata,
}

/// Adds the Kubernetes manifests (`k8s/`) and their `kustomization.yaml` to `out`.
pub fn render(model: &Model, out: &mut Output) -> Result<()> {
    let profile = &model.profile;
    let mut resources = Resources {
        out,
        files: Vec::new(),
    };
    let topology = &model.topology;
    resources.add("service.yaml", &service(profile, topology))?;
    resources.add("prometheus-configmap.yaml", &prometheus_configmap(model)?)?;
    if profile.prometheus.kubernetes_sd.enabled {
        let (role, binding) = pod_discovery_rbac(profile);
        resources.add("prometheus-role.yaml", &role)?;
        resources.add("prometheus-rolebinding.yaml", &binding)?;
    }
    for service in alertmanager_services(profile) {
        let (role, binding) = alertmanager_discovery_rbac(profile, &service);
        let stem = format!("prometheus-alertmanager-{}-{}", service.namespace, service.name);
        resources.add(&format!("{stem}-role.yaml"), &role)?;
        resources.add(&format!("{stem}-rolebinding.yaml"), &binding)?;
    }
    render_dashboard_configmaps(model, resources.out)?;
    resources.files.push(format!("../{GRAFANA_DIR}"));
    if let Some(ports) = &topology.policy {
        resources.add("networkpolicy.yaml", &network_policy(profile, ports))?;
    }
    let kustomization = Kustomization {
        api_version: KUSTOMIZE_API,
        kind: "Kustomization",
        resources: resources.files,
        ..Kustomization::default()
    };
    out.add_yaml("k8s/kustomization.yaml", &kustomization)?;
    render_workload_component(model, out)?;
    if profile.kubernetes.operator.enabled {
        render_operator_component(model, out)?;
        render_pod_monitor_component(profile, topology, out)?;
    }
    Ok(())
}

/// The Grafana sidecar's ConfigMaps, which kustomize makes from the dashboard files themselves:
/// a kustomization in the Grafana folder, which the base lists as a resource.
fn render_dashboard_configmaps(model: &Model, out: &mut Output) -> Result<()> {
    let config_map_generator = model
        .documents
        .dashboards
        .iter()
        .map(|dashboard| ConfigMapGenerator {
            name: dashboard.configmap.name.clone(),
            namespace: dashboard.configmap.namespace.clone(),
            files: vec![dashboard_file(&dashboard.uid)],
            options: GeneratorOptions {
                disable_name_suffix_hash: true,
                labels: dashboard.configmap.labels.clone(),
                annotations: dashboard.configmap.annotations.clone(),
            },
        })
        .collect();
    let kustomization = Kustomization {
        api_version: KUSTOMIZE_API,
        kind: "Kustomization",
        config_map_generator,
        ..Kustomization::default()
    };
    out.add_yaml(&format!("{GRAFANA_DIR}/kustomization.yaml"), &kustomization)
}

/// The Operator's objects need its CRDs, so they are a component: a cluster without the
/// Operator applies the base alone.
fn render_operator_component(model: &Model, out: &mut Output) -> Result<()> {
    let profile = &model.profile;
    let dir = format!("k8s/{OPERATOR_COMPONENT}");
    out.add_yaml(
        &format!("{dir}/servicemonitor.yaml"),
        &service_monitor(profile, &model.topology)?,
    )?;
    out.add_yaml(&format!("{dir}/prometheusrule.yaml"), &prometheus_rule(model)?)?;
    let mut resources = vec![
        "servicemonitor.yaml".to_string(),
        "prometheusrule.yaml".to_string(),
    ];
    if let Some(scrape_config) = &model.documents.operator_scrape_config {
        out.add_yaml(&format!("{dir}/scrapeconfig.yaml"), scrape_config)?;
        resources.push("scrapeconfig.yaml".into());
    }
    out.add_yaml(
        &format!("{dir}/kustomization.yaml"),
        &Kustomization {
            api_version: COMPONENT_API,
            kind: "Component",
            resources,
            ..Kustomization::default()
        },
    )
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct PolicyRule {
    api_groups: Vec<&'static str>,
    resources: Vec<&'static str>,
    verbs: Vec<&'static str>,
}

#[derive(Debug, Clone, Serialize)]
struct RulesBody {
    rules: Vec<PolicyRule>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct BindingBody {
    role_ref: RoleRef,
    subjects: Vec<Subject>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct RoleRef {
    api_group: &'static str,
    kind: &'static str,
    name: String,
}

#[derive(Debug, Clone, Serialize)]
struct Subject {
    kind: &'static str,
    name: String,
    namespace: String,
}

/// The Role (or, when discovery spans every namespace, ClusterRole) that lets a Prometheus
/// without the Operator list and watch the pods its `role: pod` discovery reads, and its binding
/// to that Prometheus's ServiceAccount.
fn pod_discovery_rbac(profile: &Profile) -> (Object<RulesBody>, Object<BindingBody>) {
    let cluster_wide = profile.prometheus.kubernetes_sd.namespaces.is_empty();
    let (role_kind, binding_kind) = if cluster_wide {
        ("ClusterRole", "ClusterRoleBinding")
    } else {
        ("Role", "RoleBinding")
    };
    let name = "sockudo-prometheus-pod-discovery";
    let mut meta = metadata(profile, name);
    if cluster_wide {
        meta.namespace.clear();
    }
    let role = Object {
        api_version: RBAC_API,
        kind: role_kind,
        metadata: meta.clone(),
        body: RulesBody {
            rules: vec![PolicyRule {
                api_groups: vec![""],
                resources: vec!["pods"],
                verbs: vec!["get", "list", "watch"],
            }],
        },
    };
    let account = &profile.kubernetes.prometheus_service_account;
    let binding = Object {
        api_version: RBAC_API,
        kind: binding_kind,
        metadata: meta,
        body: BindingBody {
            role_ref: RoleRef {
                api_group: "rbac.authorization.k8s.io",
                kind: role_kind,
                name: name.to_string(),
            },
            subjects: vec![Subject {
                kind: "ServiceAccount",
                name: account.name.clone(),
                namespace: account.namespace.clone(),
            }],
        },
    };
    (role, binding)
}

/// The Role in an Alertmanager Service's namespace that lets the plain Prometheus find every
/// replica behind it (`role: endpoints` reads endpoints, services and pods), and its binding to
/// that Prometheus's ServiceAccount.
fn alertmanager_discovery_rbac(
    profile: &Profile,
    service: &ClusterService,
) -> (Object<RulesBody>, Object<BindingBody>) {
    let name = format!("sockudo-prometheus-alertmanager-{}", service.name);
    let mut meta = metadata(profile, &name);
    meta.namespace = service.namespace.clone();
    let role = Object {
        api_version: RBAC_API,
        kind: "Role",
        metadata: meta.clone(),
        body: RulesBody {
            rules: vec![PolicyRule {
                api_groups: vec![""],
                resources: vec!["endpoints", "services", "pods"],
                verbs: vec!["get", "list", "watch"],
            }],
        },
    };
    let account = &profile.kubernetes.prometheus_service_account;
    let binding = Object {
        api_version: RBAC_API,
        kind: "RoleBinding",
        metadata: meta,
        body: BindingBody {
            role_ref: RoleRef {
                api_group: "rbac.authorization.k8s.io",
                kind: "Role",
                name,
            },
            subjects: vec![Subject {
                kind: "ServiceAccount",
                name: account.name.clone(),
                namespace: account.namespace.clone(),
            }],
        },
    };
    (role, binding)
}

/// A strategic-merge patch of the Sockudo Deployment's pod template.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct DeploymentPatch {
    api_version: &'static str,
    kind: &'static str,
    metadata: NameOnly,
    spec: DeploymentPatchSpec,
}

#[derive(Debug, Clone, Serialize)]
struct NameOnly {
    name: String,
}

#[derive(Debug, Clone, Serialize)]
struct DeploymentPatchSpec {
    template: PodTemplatePatch,
}

#[derive(Debug, Clone, Serialize)]
struct PodTemplatePatch {
    metadata: PodMetadata,
    spec: PodSpecPatch,
}

#[derive(Debug, Clone, Serialize)]
struct PodMetadata {
    labels: BTreeMap<String, String>,
    annotations: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize)]
struct PodSpecPatch {
    containers: Vec<Container>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    volumes: Vec<Volume>,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
struct Container {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    image: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    env: Vec<EnvVar>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    ports: Vec<ContainerPort>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    volume_mounts: Vec<VolumeMount>,
    #[serde(skip_serializing_if = "Option::is_none")]
    readiness_probe: Option<Probe>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resources: Option<ResourceLimits>,
    #[serde(skip_serializing_if = "Option::is_none")]
    security_context: Option<SecurityContext>,
}

#[derive(Debug, Clone, Serialize)]
struct EnvVar {
    name: &'static str,
    value: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct ContainerPort {
    name: &'static str,
    container_port: u16,
    protocol: &'static str,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct VolumeMount {
    name: &'static str,
    mount_path: String,
    read_only: bool,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct Probe {
    tcp_socket: TcpSocket,
    period_seconds: u32,
}

#[derive(Debug, Clone, Serialize)]
struct TcpSocket {
    port: &'static str,
}

#[derive(Debug, Clone, Serialize)]
struct ResourceLimits {
    requests: BTreeMap<&'static str, &'static str>,
    limits: BTreeMap<&'static str, &'static str>,
}

/// What Pod Security "restricted" asks of a container, and a read-only root besides.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct SecurityContext {
    allow_privilege_escalation: bool,
    capabilities: Capabilities,
    run_as_non_root: bool,
    run_as_user: u32,
    run_as_group: u32,
    read_only_root_filesystem: bool,
    seccomp_profile: SeccompProfile,
}

#[derive(Debug, Clone, Serialize)]
struct Capabilities {
    drop: Vec<&'static str>,
}

#[derive(Debug, Clone, Serialize)]
struct SeccompProfile {
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct Volume {
    name: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    config_map: Option<ConfigMapVolume>,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<SecretVolume>,
    #[serde(skip_serializing_if = "Option::is_none")]
    empty_dir: Option<EmptyDir>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct EmptyDir {
    size_limit: &'static str,
}

#[derive(Debug, Clone, Serialize)]
struct ConfigMapVolume {
    name: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct SecretVolume {
    secret_name: String,
}

const PROXY_CONF_VOLUME: &str = "sockudo-metrics-proxy-conf";
const HTPASSWD_VOLUME: &str = "sockudo-metrics-htpasswd";
/// The sidecar's only writable place: the unprivileged nginx image keeps its pid file and its
/// client-body and proxy temp files in /tmp, and the root filesystem is read-only.
const PROXY_TMP_VOLUME: &str = "sockudo-metrics-proxy-tmp";
const PROXY_TMP_DIR: &str = "/tmp";
/// The user and group of the unprivileged nginx image.
const NGINX_UID: u32 = 101;
/// The ConfigMap the workload component generates from the sidecar's nginx config (after a
/// change, `kubectl rollout restart` the Deployment: the name carries no content hash).
const PROXY_CONFIGMAP: &str = "sockudo-metrics-proxy";
const SIDECAR_CONTAINER: &str = "sockudo-metrics-proxy";

/// The pod patch as a kustomize component: the private `sockudo-obs.io/*` annotations the
/// bundle's pod discovery reads, the exporter's `METRICS_*` environment on the Sockudo container, and with the proxy
/// the nginx sidecar with its generated ConfigMap and the htpasswd Secret. It patches the
/// Deployment `kubernetes.workload.deployment`, which the operator's overlay supplies.
fn render_workload_component(model: &Model, out: &mut Output) -> Result<()> {
    let profile = &model.profile;
    let (port_name, port) = model.topology.pod_port;
    let workload = &profile.kubernetes.workload;
    let metrics = &profile.metrics;
    let env = metrics
        .server_config()
        .environment()
        .into_iter()
        .map(|(name, value)| EnvVar { name, value })
        .collect();
    let mut server = Container {
        name: workload.container.clone(),
        env,
        ..Container::default()
    };
    let tcp = |name, container_port| ContainerPort {
        name,
        container_port,
        protocol: "TCP",
    };
    let mut containers = Vec::new();
    let mut volumes = Vec::new();
    let mut generators = Vec::new();
    if profile.proxy.enabled {
        let sidecar = &profile.kubernetes.proxy_sidecar;
        containers.push(Container {
            name: SIDECAR_CONTAINER.into(),
            image: Some(sidecar.image.clone()),
            ports: vec![tcp(port_name, port)],
            volume_mounts: vec![
                VolumeMount {
                    name: PROXY_CONF_VOLUME,
                    mount_path: NGINX_CONF_DIR.into(),
                    read_only: true,
                },
                // The whole Secret as a folder, never one key by `subPath`: the kubelet updates
                // this mount when the Secret changes, so a rotated password takes effect.
                VolumeMount {
                    name: HTPASSWD_VOLUME,
                    mount_path: SIDECAR_HTPASSWD_DIR.into(),
                    read_only: true,
                },
                VolumeMount {
                    name: PROXY_TMP_VOLUME,
                    mount_path: PROXY_TMP_DIR.into(),
                    read_only: false,
                },
            ],
            readiness_probe: Some(Probe {
                tcp_socket: TcpSocket { port: port_name },
                period_seconds: 10,
            }),
            resources: Some(ResourceLimits {
                requests: BTreeMap::from([("cpu", "10m"), ("memory", "16Mi")]),
                limits: BTreeMap::from([("memory", "64Mi")]),
            }),
            security_context: Some(SecurityContext {
                allow_privilege_escalation: false,
                capabilities: Capabilities { drop: vec!["ALL"] },
                run_as_non_root: true,
                run_as_user: NGINX_UID,
                run_as_group: NGINX_UID,
                read_only_root_filesystem: true,
                seccomp_profile: SeccompProfile {
                    kind: "RuntimeDefault",
                },
            }),
            ..Container::default()
        });
        volumes.push(Volume {
            name: PROXY_CONF_VOLUME,
            config_map: Some(ConfigMapVolume {
                name: PROXY_CONFIGMAP.into(),
            }),
            secret: None,
            empty_dir: None,
        });
        volumes.push(Volume {
            name: HTPASSWD_VOLUME,
            config_map: None,
            secret: Some(SecretVolume {
                secret_name: sidecar.htpasswd_secret.clone(),
            }),
            empty_dir: None,
        });
        volumes.push(Volume {
            name: PROXY_TMP_VOLUME,
            config_map: None,
            secret: None,
            empty_dir: Some(EmptyDir { size_limit: "16Mi" }),
        });
        generators.push(ConfigMapGenerator {
            name: PROXY_CONFIGMAP.into(),
            namespace: profile.kubernetes.namespace.clone(),
            files: vec![SIDECAR_CONF_FILE.into()],
            options: GeneratorOptions {
                disable_name_suffix_hash: true,
                labels: BTreeMap::new(),
                annotations: BTreeMap::new(),
            },
        });
    } else {
        server.ports = vec![tcp(port_name, port)];
    }
    containers.insert(0, server);
    let patch = DeploymentPatch {
        api_version: "apps/v1",
        kind: "Deployment",
        metadata: NameOnly {
            name: workload.deployment.clone(),
        },
        spec: DeploymentPatchSpec {
            template: PodTemplatePatch {
                metadata: PodMetadata {
                    labels: app_selector(profile).match_labels,
                    annotations: model.documents.pod_annotations.clone(),
                },
                spec: PodSpecPatch { containers, volumes },
            },
        },
    };
    let dir = format!("k8s/{WORKLOAD_COMPONENT}");
    out.add_yaml(&format!("{dir}/deployment-patch.yaml"), &patch)?;
    out.add_yaml(
        &format!("{dir}/kustomization.yaml"),
        &Kustomization {
            api_version: COMPONENT_API,
            kind: "Component",
            config_map_generator: generators,
            patches: vec![Patch {
                path: Some("deployment-patch.yaml".into()),
                target: Some(PatchTarget {
                    kind: "Deployment",
                    name: workload.deployment.clone(),
                }),
                ..Patch::default()
            }],
            ..Kustomization::default()
        },
    )
}

/// Adds manifests under `k8s/` and remembers them for the kustomization.
struct Resources<'a> {
    out: &'a mut Output,
    files: Vec<String>,
}

impl Resources<'_> {
    fn add<T: Serialize>(&mut self, file: &str, manifest: &T) -> Result<()> {
        self.out.add_yaml(&format!("k8s/{file}"), manifest)?;
        self.files.push(file.to_string());
        Ok(())
    }
}

fn app_selector(profile: &Profile) -> LabelSelector {
    LabelSelector {
        match_labels: BTreeMap::from([("app".to_string(), profile.kubernetes.app_label.clone())]),
    }
}

fn service(profile: &Profile, topology: &Topology) -> Object<SpecBody<ServiceSpec>> {
    let (port_name, port) = topology.pod_port;
    // No scrape annotations: the ServiceMonitor selects the Service by its labels, and a generic
    // `prometheus.io/*` annotation would invite every stock job onto the authenticated port.
    Object {
        api_version: "v1",
        kind: "Service",
        metadata: metadata(profile, NAME),
        body: SpecBody {
            spec: ServiceSpec {
                selector: app_selector(profile).match_labels,
                ports: vec![ServicePort {
                    name: port_name,
                    port,
                    target_port: port,
                    protocol: "TCP",
                }],
            },
        },
    }
}

/// `prometheus.yml` and the rule files, keyed by file name, for a Prometheus that runs in the
/// cluster without the Operator. ConfigMap keys cannot hold `/`, so the rule files sit beside
/// `prometheus.yml` as `<stem>.rules.yml`. Serialized from the same documents the Prometheus
/// renderers write, never read back from their files.
fn prometheus_files(model: &Model) -> Result<BTreeMap<String, String>> {
    let documents = &model.documents;
    let mut files = BTreeMap::new();
    files.insert(
        "prometheus.yml".to_string(),
        serde_norway::to_string(&documents.cluster_prometheus).or_kind(ErrorKind::Render)?,
    );
    for file in &documents.rule_files {
        files.insert(
            format!("{}.rules.yml", file.stem),
            serde_norway::to_string(&file.groups).or_kind(ErrorKind::Render)?,
        );
    }
    Ok(files)
}

/// The rule groups of the PrometheusRule: every group the rule files hold.
fn prometheus_rule_groups(model: &Model) -> Result<Vec<Value>> {
    let mut groups = Vec::new();
    for file in &model.documents.rule_files {
        for group in &file.groups.groups {
            groups.push(serde_json::to_value(group).or_kind(ErrorKind::Render)?);
        }
    }
    Ok(groups)
}

/// The plain Prometheus's config lives where that Prometheus runs (the namespace of the
/// ServiceAccount its discovery RBAC binds), or it could not mount it.
fn prometheus_configmap(model: &Model) -> Result<Object<ConfigMapBody>> {
    let profile = &model.profile;
    let mut metadata = metadata(profile, "sockudo-prometheus");
    metadata.namespace = profile.kubernetes.prometheus_service_account.namespace.clone();
    Ok(Object {
        api_version: "v1",
        kind: "ConfigMap",
        metadata,
        body: ConfigMapBody {
            data: prometheus_files(model)?,
        },
    })
}

/// Admits the profile's peers, and nobody else, to the metrics and proxy ports. A policy that
/// selects the pods drops every ingress it does not allow, so the server's own ports
/// (`kubernetes.network_policy.app_ports`) are opened to everyone by a second rule, each port
/// by number: some network plugins ignore `endPort`, and a range would then drop the WebSocket
/// port.
fn network_policy(profile: &Profile, ports: &PolicyPorts) -> Object<SpecBody<NetworkPolicySpec>> {
    let tcp = |&port: &u16| PolicyPort {
        protocol: "TCP",
        port,
    };
    let mut ingress = Vec::new();
    let peers: Vec<Peer> = profile.kubernetes.network_policy.peers.iter().map(peer).collect();
    if !peers.is_empty() {
        ingress.push(IngressRule {
            from: Some(peers),
            ports: ports.guarded.iter().map(tcp).collect(),
        });
    }
    if !ports.open.is_empty() {
        ingress.push(IngressRule {
            from: None,
            ports: ports.open.iter().map(tcp).collect(),
        });
    }
    Object {
        api_version: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata: metadata(profile, NAME),
        body: SpecBody {
            spec: NetworkPolicySpec {
                pod_selector: app_selector(profile),
                policy_types: vec!["Ingress"],
                ingress,
            },
        },
    }
}

fn peer(peer: &NetworkPeer) -> Peer {
    let selector = |labels: &BTreeMap<String, String>| {
        (!labels.is_empty()).then(|| LabelSelector {
            match_labels: labels.clone(),
        })
    };
    Peer {
        namespace_selector: selector(&peer.namespace_selector),
        pod_selector: selector(&peer.pod_selector),
    }
}

/// The endpoint both monitors scrape, with basic auth from the Secret when the proxy is on.
fn scrape_endpoint(profile: &Profile, topology: &Topology, kind: PathKind) -> Result<ScrapeEndpoint> {
    let basic_auth = match (
        &profile.kubernetes.operator.basic_auth_secret,
        profile.proxy.enabled,
    ) {
        (_, false) => None,
        (Some(secret), true) => Some(BasicAuthRefs::of(secret)),
        (None, true) => {
            return Err(Error::usage(
                "profile key kubernetes.operator.basic_auth_secret: required when proxy.enabled, \
                 or the monitors could not get past the proxy",
            )
            .with_key("kubernetes.operator.basic_auth_secret")
            .with_path(&profile.path))
        }
    };
    Ok(ScrapeEndpoint {
        port: topology.pod_port.0,
        path: METRICS_PATH,
        interval: profile.prometheus.scrape_interval.to_string(),
        scrape_timeout: profile.prometheus.scrape_timeout.to_string(),
        basic_auth,
        relabelings: topology
            .job_relabel(kind)
            .map(|job| MonitorRelabeling {
                action: "replace",
                target_label: "job",
                replacement: job.to_string(),
            })
            .into_iter()
            .chain([MonitorRelabeling {
                action: "replace",
                target_label: DISCOVERY_LABEL,
                replacement: kind.discovery_label().to_string(),
            }])
            .collect(),
    })
}

fn service_monitor(profile: &Profile, topology: &Topology) -> Result<Object<SpecBody<ServiceMonitorSpec>>> {
    Ok(Object {
        api_version: MONITORING_API,
        kind: "ServiceMonitor",
        metadata: operator_metadata(profile, NAME),
        body: SpecBody {
            spec: ServiceMonitorSpec {
                selector: LabelSelector {
                    match_labels: metadata(profile, NAME).labels,
                },
                namespace_selector: NamespaceSelector {
                    match_names: vec![profile.kubernetes.namespace.clone()],
                },
                endpoints: vec![scrape_endpoint(profile, topology, PathKind::ServiceMonitor)?],
            },
        },
    })
}

/// The PodMonitor scrapes the same pods as the ServiceMonitor, so shipping both would scrape
/// every pod twice. It is a kustomize component instead: an overlay that lists it gets the
/// PodMonitor and loses the ServiceMonitor.
fn render_pod_monitor_component(profile: &Profile, topology: &Topology, out: &mut Output) -> Result<()> {
    let pod_monitor = Object {
        api_version: MONITORING_API,
        kind: "PodMonitor",
        metadata: operator_metadata(profile, NAME),
        body: SpecBody {
            spec: PodMonitorSpec {
                selector: app_selector(profile),
                namespace_selector: NamespaceSelector {
                    match_names: vec![profile.kubernetes.namespace.clone()],
                },
                pod_metrics_endpoints: vec![scrape_endpoint(profile, topology, PathKind::PodMonitor)?],
            },
        },
    };
    out.add_yaml(
        &format!("k8s/{POD_MONITOR_COMPONENT}/podmonitor.yaml"),
        &pod_monitor,
    )?;
    let delete_service_monitor = DeletePatch {
        patch: "delete",
        api_version: MONITORING_API,
        kind: "ServiceMonitor",
        metadata: Metadata {
            name: NAME.to_string(),
            namespace: profile.kubernetes.namespace.clone(),
            labels: BTreeMap::new(),
            annotations: BTreeMap::new(),
        },
    };
    out.add_yaml(
        &format!("k8s/{POD_MONITOR_COMPONENT}/kustomization.yaml"),
        &Kustomization {
            api_version: COMPONENT_API,
            kind: "Component",
            resources: vec!["podmonitor.yaml".to_string()],
            patches: vec![Patch {
                patch: Some(serde_norway::to_string(&delete_service_monitor).or_kind(ErrorKind::Render)?),
                ..Patch::default()
            }],
            ..Kustomization::default()
        },
    )
}

fn prometheus_rule(model: &Model) -> Result<Object<SpecBody<PrometheusRuleSpec>>> {
    Ok(Object {
        api_version: MONITORING_API,
        kind: "PrometheusRule",
        metadata: operator_metadata(&model.profile, NAME),
        body: SpecBody {
            spec: PrometheusRuleSpec {
                groups: prometheus_rule_groups(model)?,
            },
        },
    })
}

/// The operator's overlay `k8s/<env>` that `init` writes beside the profile: the generated base
/// and components at `bundle_k8s` (the bundle's `k8s/`, relative to the overlay), and a
/// Deployment of the profile's workload for the operator to own, which passes Pod Security
/// "restricted" once patched. `(file name, text)`.
pub fn overlay_files(profile: &Profile, env: &str, bundle_k8s: &str) -> Result<Vec<(String, String)>> {
    let mut components = vec![format!("{bundle_k8s}/{WORKLOAD_COMPONENT}")];
    if profile.kubernetes.operator.enabled {
        components.push(format!("{bundle_k8s}/{OPERATOR_COMPONENT}"));
    }
    let kustomization = serde_json::json!({
        "apiVersion": KUSTOMIZE_API,
        "kind": "Kustomization",
        "resources": [bundle_k8s, "deployment.yaml"],
        "components": components,
    });
    let workload = &profile.kubernetes.workload;
    let labels = app_selector(profile).match_labels;
    let app_port = profile
        .kubernetes
        .network_policy
        .app_ports
        .first()
        .copied()
        .unwrap_or(sockudo_obs_model::layout::DEFAULT_APP_PORT);
    let deployment = serde_json::json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": workload.deployment, "namespace": profile.kubernetes.namespace, "labels": labels},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "securityContext": {
                        "runAsNonRoot": true,
                        "runAsUser": 65532,
                        "runAsGroup": 65532,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [{
                        "name": workload.container,
                        "image": profile.compose.sockudo_image,
                        "ports": [{"name": "websocket", "containerPort": app_port, "protocol": "TCP"}],
                        "readinessProbe": {"tcpSocket": {"port": "websocket"}},
                        "securityContext": {
                            "allowPrivilegeEscalation": false,
                            "capabilities": {"drop": ["ALL"]},
                        },
                        "resources": {
                            "requests": {"cpu": "100m", "memory": "128Mi"},
                            "limits": {"memory": "512Mi"},
                        },
                    }],
                },
            },
        },
    });
    let kustomization_head = format!(
        "# The operator's overlay for the {env} environment, written by `sockudo-obs init`: yours to edit.\n\
         # It layers on the bundle `sockudo-obs generate --env {env}` writes ({bundle_k8s}); put\n\
         # local changes here, never in the bundle. Apply with: kubectl apply -k <this folder>\n\
         # Without the Prometheus Operator, remove the operator component.\n"
    );
    let deployment_head = format!(
        "# The Sockudo Deployment of the {env} environment: yours to own and edit (replicas, config,\n\
         # resources, image). The bundle's workload component patches it by name\n\
         # (kubernetes.workload in the profile). The image is compose.sockudo_image of the profile:\n\
         # the real Sockudo built with this project's drop-in; push it where your cluster pulls from.\n"
    );
    Ok(vec![
        (
            "kustomization.yaml".to_string(),
            kustomization_head + &serde_norway::to_string(&kustomization).or_kind(ErrorKind::Render)?,
        ),
        (
            "deployment.yaml".to_string(),
            deployment_head + &serde_norway::to_string(&deployment).or_kind(ErrorKind::Render)?,
        ),
    ])
}
