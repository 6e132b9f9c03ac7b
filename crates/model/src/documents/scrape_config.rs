//! The typed `prometheus.yml`: global settings, the static scrape job, the Kubernetes
//! pod-annotation job, basic auth through the proxy, rule files, Alertmanagers, remote write and
//! federation, all from the profile.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::layout::{
    pod_annotation_label, COMPOSE_ENVIRONMENT_SUFFIX, DISCOVERY_LABEL, KUBERNETES_LABELS, METRICS_PATH,
    PROMETHEUS_DEFAULT_LISTEN_ADDRESS, RULE_FILES, SCRAPE_ANNOTATIONS, SELF_MONITORING_JOBS,
};
use crate::profile::{BasicAuth, Profile, PromDuration, RemoteWrite};
use crate::topology::PathKind;
use crate::topology::Topology;

/// Rewrites `__address__` to the annotated port, keeping the host: `[v6]` hosts keep their
/// brackets, and an existing `:port` is dropped.
pub(crate) const ADDRESS_REGEX: &str = r"(\[[^\]]+\]|[^:]+)(?::\d+)?;(\d+)";

/// A pod whose containers declare no port is discovered at its bare IP; for an IPv6 pod that is
/// `fd00::1`, without brackets. This rule brackets it and appends the annotated port first, so
/// the rule above can treat it like any other address.
pub(crate) const BARE_IPV6_REGEX: &str = r"([0-9A-Fa-f]*:[0-9A-Fa-f.:]*:[0-9A-Fa-f.]*);(\d+)";

/// The pod phases the pod job drops (the Operator's PodMonitor drops the same).
pub(crate) const FINISHED_POD_PHASES: &str = "(Failed|Succeeded)";

/// What a `prometheus.yml` is built from: the environment's name, profile and scrape topology.
#[derive(Debug, Clone, Copy)]
pub struct Deployment<'a> {
    /// The environment's name: the static targets' `environment` label when the profile sets
    /// no external one.
    pub env: &'a str,
    /// The environment's profile, which every setting comes from.
    pub profile: &'a Profile,
    /// The scrape paths derived from the profile, with the jobs and the compose stack's
    /// addresses.
    pub topology: &'a Topology,
}

/// `prometheus.yml`, as Prometheus reads it.
#[derive(Debug, Clone, Serialize)]
pub struct PrometheusConfig {
    global: Global,
    rule_files: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    alerting: Option<Alerting>,
    scrape_configs: Vec<ScrapeConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    remote_write: Vec<RemoteWrite>,
}

#[derive(Debug, Clone, Serialize)]
struct Global {
    scrape_interval: PromDuration,
    scrape_timeout: PromDuration,
    evaluation_interval: PromDuration,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    external_labels: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize)]
struct Alerting {
    alertmanagers: Vec<AlertmanagerTargets>,
}

/// The label endpoints discovery gives a target's Service name.
const SERVICE_NAME_LABEL: &str = "__meta_kubernetes_service_name";

#[derive(Debug, Clone, Serialize)]
struct AlertmanagerTargets {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    static_configs: Vec<StaticConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    kubernetes_sd_configs: Vec<KubernetesSdConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    relabel_configs: Vec<RelabelConfig>,
    /// What the group keeps as `<service>;<address>` alternatives (the self-scrape job's one
    /// `keep`); not part of the alerting config.
    #[serde(skip)]
    kept: Vec<String>,
}

impl AlertmanagerTargets {
    fn fixed(targets: Vec<String>) -> AlertmanagerTargets {
        AlertmanagerTargets {
            static_configs: vec![StaticConfig {
                targets,
                labels: BTreeMap::new(),
            }],
            kubernetes_sd_configs: Vec::new(),
            relabel_configs: Vec::new(),
            kept: Vec::new(),
        }
    }

    /// Every replica behind the Service: its endpoints in its namespace, kept by the Service's
    /// name and the port. Alerts go to each Alertmanager, which deduplicate them among
    /// themselves; through the one Service address each alert would reach one replica, and a
    /// restarting replica would lose it.
    fn replicas(service: &ClusterService) -> AlertmanagerTargets {
        AlertmanagerTargets {
            static_configs: Vec::new(),
            kubernetes_sd_configs: vec![KubernetesSdConfig {
                role: "endpoints",
                namespaces: Some(Namespaces {
                    names: vec![service.namespace.clone()],
                }),
            }],
            relabel_configs: vec![
                RelabelConfig::keep(SERVICE_NAME_LABEL, regex_escape(&service.name)),
                RelabelConfig::keep("__address__", format!(".+:{}", service.port)),
            ],
            kept: vec![format!("{};.+:{}", regex_escape(&service.name), service.port)],
        }
    }
}

/// A Service named by its cluster DNS name, `<name>.<namespace>.svc[.cluster.local]:<port>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterService {
    /// The Service's name, which its discovered endpoints are kept by.
    pub name: String,
    /// The Service's namespace, the one its endpoints are discovered in.
    pub namespace: String,
    /// The port, which the discovered endpoints' addresses are kept by.
    pub port: u16,
}

impl ClusterService {
    /// The Service an address names, or `None` for any other address (a host, an IP).
    pub fn of(address: &str) -> Option<ClusterService> {
        let (host, port) = address.rsplit_once(':')?;
        let port = port.parse().ok()?;
        let rest = host
            .strip_suffix(".svc.cluster.local")
            .or_else(|| host.strip_suffix(".svc"))?;
        let (name, namespace) = rest.split_once('.')?;
        (!name.is_empty() && !namespace.is_empty() && !namespace.contains('.')).then(|| ClusterService {
            name: name.to_string(),
            namespace: namespace.to_string(),
            port,
        })
    }
}

/// The Alertmanagers of the profile (`prometheus.alertmanagers`) as Prometheus finds them: with
/// pod discovery on (the Prometheus runs in the cluster) each Service address becomes every
/// replica behind it; other addresses are fixed targets.
pub fn alertmanager_services(profile: &Profile) -> Vec<ClusterService> {
    let prometheus = &profile.prometheus;
    if !prometheus.kubernetes_sd.enabled {
        return Vec::new();
    }
    prometheus
        .alertmanagers
        .iter()
        .filter_map(|a| ClusterService::of(a))
        .collect()
}

fn alerting(model: &Deployment<'_>) -> Option<Alerting> {
    let addresses = &model.profile.prometheus.alertmanagers;
    let services = alertmanager_services(model.profile);
    let fixed: Vec<String> = addresses
        .iter()
        .filter(|a| !services.iter().any(|s| ClusterService::of(a).as_ref() == Some(s)))
        .cloned()
        .collect();
    let mut alertmanagers: Vec<AlertmanagerTargets> =
        services.iter().map(AlertmanagerTargets::replicas).collect();
    if !fixed.is_empty() {
        alertmanagers.push(AlertmanagerTargets::fixed(fixed));
    }
    (!alertmanagers.is_empty()).then_some(Alerting { alertmanagers })
}

#[derive(Debug, Clone, Serialize)]
struct ScrapeConfig {
    job_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    honor_labels: Option<bool>,
    metrics_path: String,
    scheme: &'static str,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    params: BTreeMap<String, Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    basic_auth: Option<BasicAuth>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tls_config: Option<TlsConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    static_configs: Vec<StaticConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    kubernetes_sd_configs: Vec<KubernetesSdConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    relabel_configs: Vec<RelabelConfig>,
}

impl ScrapeConfig {
    fn new(job_name: &str, basic_auth: Option<BasicAuth>) -> ScrapeConfig {
        ScrapeConfig {
            job_name: job_name.to_string(),
            honor_labels: None,
            metrics_path: METRICS_PATH.to_string(),
            scheme: "http",
            params: BTreeMap::new(),
            basic_auth,
            tls_config: None,
            static_configs: Vec::new(),
            kubernetes_sd_configs: Vec::new(),
            relabel_configs: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
struct TlsConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    ca_file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    server_name: Option<String>,
}

/// The host the proxy's certificate names, as the compose stack verifies it: the first static
/// target's (the stack scrapes its nginx by the service name, which no certificate names).
fn compose_server_name(model: &Deployment<'_>) -> Option<String> {
    let target = model.profile.prometheus.static_targets.first()?;
    let (host, _) = target.target.rsplit_once(':')?;
    Some(host.trim_start_matches('[').trim_end_matches(']').to_string())
}

/// One target group, as both `prometheus.yml` and the Operator's ScrapeConfig spell it.
#[derive(Debug, Clone, Serialize)]
pub struct StaticConfig {
    /// The `host:port` addresses scraped.
    pub targets: Vec<String>,
    /// The labels every target of the group gets (`instance`, `environment`, `discovery`);
    /// omitted when empty.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize)]
struct KubernetesSdConfig {
    role: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    namespaces: Option<Namespaces>,
}

#[derive(Debug, Clone, Serialize)]
struct Namespaces {
    names: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Default)]
struct RelabelConfig {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    source_labels: Vec<String>,
    action: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    regex: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    target_label: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    replacement: Option<String>,
}

impl RelabelConfig {
    fn keep(source: &str, regex: String) -> RelabelConfig {
        RelabelConfig {
            source_labels: vec![source.to_string()],
            action: "keep",
            regex: Some(regex),
            ..RelabelConfig::default()
        }
    }

    fn drop(source: &str, regex: &str) -> RelabelConfig {
        RelabelConfig {
            source_labels: vec![source.to_string()],
            action: "drop",
            regex: Some(regex.to_string()),
            ..RelabelConfig::default()
        }
    }

    fn replace(
        sources: &[&str],
        regex: Option<&str>,
        target: &str,
        replacement: Option<&str>,
    ) -> RelabelConfig {
        RelabelConfig {
            source_labels: sources.iter().map(|s| s.to_string()).collect(),
            action: "replace",
            regex: regex.map(str::to_string),
            target_label: Some(target.to_string()),
            replacement: replacement.map(str::to_string),
        }
    }
}

/// `prometheus.yml` for the compose stack: the deployment's globals and rules, but scraping the
/// stack's Sockudo and alerting the stack's Alertmanager, with no discovery or remote write that
/// would reach outside it, and its own `environment` label (`<env>-compose`), so nothing it sends
/// passes for the real environment.
pub(crate) fn compose_config(model: &Deployment<'_>) -> PrometheusConfig {
    let plan = &model.topology.compose;
    let mut config = config(model, RULE_FILES);
    let environment = format!("{}{COMPOSE_ENVIRONMENT_SUFFIX}", environment(model));
    config
        .global
        .external_labels
        .insert("environment".to_string(), environment.clone());
    // Like the deployment's static job: over TLS when the proxy has certificates (the stack's
    // nginx serves the same config with them), verified against the name the certificate is for,
    // the first static target's host (validation requires one), not the stack's service name.
    let mut job = static_job(model);
    if let Some(tls) = job.tls_config.as_mut() {
        tls.server_name = compose_server_name(model);
    }
    job.static_configs = vec![StaticConfig {
        targets: vec![plan.scrape_target.to_string()],
        labels: BTreeMap::from([
            ("instance".to_string(), plan.scrape_target.host.clone()),
            ("environment".to_string(), environment),
            (
                DISCOVERY_LABEL.to_string(),
                PathKind::Static.discovery_label().to_string(),
            ),
        ]),
    }];
    let alerting = Alerting {
        alertmanagers: vec![AlertmanagerTargets::fixed(vec![plan.alertmanager.to_string()])],
    };
    config.scrape_configs = vec![job];
    // The stack's Prometheus listens on its default port in its container.
    config.scrape_configs.extend(self_monitoring_jobs(
        PROMETHEUS_DEFAULT_LISTEN_ADDRESS,
        Some(&alerting),
    ));
    config.alerting = Some(alerting);
    config.remote_write = Vec::new();
    config
}

/// The typed `prometheus.yml`, its rules found at `rule_files` (the deployment's `rules/*.yml`, or
/// the cluster ConfigMap's `*.rules.yml`).
pub(crate) fn config(model: &Deployment<'_>, rule_files: &str) -> PrometheusConfig {
    let prometheus = &model.profile.prometheus;
    let mut scrape_configs = vec![static_job(model)];
    if prometheus.kubernetes_sd.enabled {
        scrape_configs.push(kubernetes_job(model));
    }
    if let Some(federation) = &prometheus.federation {
        let mut job = ScrapeConfig::new(&federation.job_name, None);
        // Federated series already carry their job and instance; keep them.
        job.honor_labels = Some(true);
        job.metrics_path = "/federate".into();
        job.params
            .insert("match[]".into(), federation.match_selectors.clone());
        job.static_configs.push(StaticConfig {
            targets: federation.targets.clone(),
            labels: BTreeMap::new(),
        });
        scrape_configs.push(job);
    }
    let alerting = alerting(model);
    scrape_configs.extend(self_monitoring_jobs(
        &prometheus.listen_address,
        alerting.as_ref(),
    ));
    PrometheusConfig {
        global: Global {
            scrape_interval: prometheus.scrape_interval.clone(),
            scrape_timeout: prometheus.scrape_timeout.clone(),
            evaluation_interval: prometheus.evaluation_interval.clone(),
            external_labels: prometheus.external_labels.clone(),
        },
        rule_files: vec![rule_files.to_string()],
        alerting,
        scrape_configs,
        // The profile spells each entry with Prometheus's own field names.
        remote_write: prometheus.remote_write.clone(),
    }
}

/// The self-monitoring jobs (`alerts/self-monitoring.yaml` reads their metrics): this Prometheus
/// at `own_address`, where it listens, and each Alertmanager it sends to, found as `alerting` finds them (every
/// replica behind a Service), when it sends to any.
fn self_monitoring_jobs(own_address: &str, alerting: Option<&Alerting>) -> Vec<ScrapeConfig> {
    let [prometheus_job, alertmanager_job] = SELF_MONITORING_JOBS;
    let mut own = ScrapeConfig::new(prometheus_job, None);
    own.static_configs.push(StaticConfig {
        targets: vec![own_address.to_string()],
        labels: BTreeMap::new(),
    });
    let mut jobs = vec![own];
    if let Some(alerting) = alerting {
        jobs.push(alertmanager_job_of(alertmanager_job, alerting));
    }
    jobs
}

/// One scrape job over every group of `alerting`: their fixed targets and discoveries, and when
/// any group discovers replicas, one `keep` over (Service name, address) that lets through a
/// replica of a listed Service on its port, or a fixed address (which has no Service name).
fn alertmanager_job_of(job_name: &str, alerting: &Alerting) -> ScrapeConfig {
    let mut job = ScrapeConfig::new(job_name, None);
    let mut kept = Vec::new();
    for group in &alerting.alertmanagers {
        job.static_configs.extend(group.static_configs.iter().cloned());
        job.kubernetes_sd_configs
            .extend(group.kubernetes_sd_configs.iter().cloned());
        kept.extend(group.kept.iter().cloned());
        for fixed in group.static_configs.iter().flat_map(|c| &c.targets) {
            kept.push(format!(";{}", regex_escape(fixed)));
        }
    }
    if !job.kubernetes_sd_configs.is_empty() {
        job.relabel_configs.push(RelabelConfig {
            source_labels: vec![SERVICE_NAME_LABEL.to_string(), "__address__".to_string()],
            action: "keep",
            regex: Some(kept.join("|")),
            ..RelabelConfig::default()
        });
    }
    job
}

/// The environment label of static targets: the external label when set, else the env name.
fn environment(model: &Deployment<'_>) -> String {
    model
        .profile
        .prometheus
        .external_labels
        .get("environment")
        .cloned()
        .unwrap_or_else(|| model.env.to_string())
}

fn static_job(model: &Deployment<'_>) -> ScrapeConfig {
    let prometheus = &model.profile.prometheus;
    let mut job = ScrapeConfig::new(&prometheus.job_name, prometheus.basic_auth.clone());
    // The instances outside the cluster are reached through their own proxy, over TLS when the
    // profile gives it certificates, so the basic-auth credentials never travel in clear text.
    if let Some(tls) = model
        .profile
        .proxy
        .tls
        .as_ref()
        .filter(|_| model.profile.proxy.enabled)
    {
        job.scheme = "https";
        job.tls_config = Some(TlsConfig {
            ca_file: tls.ca_file.clone(),
            server_name: None,
        });
    }
    job.static_configs = static_target_groups(model);
    job
}

/// The profile's static targets, one group each, with their `instance`, `environment` and
/// `discovery` labels: the plain Prometheus's static job and the Operator's ScrapeConfig both
/// scrape these.
pub(crate) fn static_target_groups(model: &Deployment<'_>) -> Vec<StaticConfig> {
    model
        .profile
        .prometheus
        .static_targets
        .iter()
        .map(|target| StaticConfig {
            targets: vec![target.target.clone()],
            labels: BTreeMap::from([
                ("instance".to_string(), target.instance.clone()),
                ("environment".to_string(), environment(model)),
                (
                    DISCOVERY_LABEL.to_string(),
                    PathKind::Static.discovery_label().to_string(),
                ),
            ]),
        })
        .collect()
}

/// Pods that carry the app label and the private `sockudo-obs.io/scrape: "true"` annotation,
/// scraped on their `sockudo-obs.io/port` (and `sockudo-obs.io/path`). The `job` label is set to
/// the profile's job name so that rules and dashboards see one job, however targets are found.
fn kubernetes_job(model: &Deployment<'_>) -> ScrapeConfig {
    let prometheus = &model.profile.prometheus;
    let sd = &prometheus.kubernetes_sd;
    let path = model.topology.path(PathKind::PodDiscovery);
    let job_name = path.map_or_else(
        || format!("{}-pods", prometheus.job_name),
        |p| p.default_job.clone(),
    );
    let mut job = ScrapeConfig::new(&job_name, prometheus.basic_auth.clone());
    job.kubernetes_sd_configs.push(KubernetesSdConfig {
        role: "pod",
        namespaces: (!sd.namespaces.is_empty()).then(|| Namespaces {
            names: sd.namespaces.clone(),
        }),
    });
    let [scrape, port, path] = SCRAPE_ANNOTATIONS.map(pod_annotation_label);
    // Both address rules read the discovered address and the annotated port.
    let address_sources = ["__address__", port.as_str()];
    job.relabel_configs = vec![
        RelabelConfig::keep("__meta_kubernetes_pod_label_app", regex_escape(&sd.app_label)),
        RelabelConfig::keep(&scrape, "true".into()),
        // A finished pod (Failed, Succeeded) keeps its IP in the discovery but serves nothing,
        // and its address may already be another pod's: dropped, as the Operator drops it.
        RelabelConfig::drop("__meta_kubernetes_pod_phase", FINISHED_POD_PHASES),
        RelabelConfig::replace(&[path.as_str()], Some("(.+)"), "__metrics_path__", None),
        RelabelConfig::replace(
            &address_sources,
            Some(BARE_IPV6_REGEX),
            "__address__",
            Some("[$1]:$2"),
        ),
        RelabelConfig::replace(
            &address_sources,
            Some(ADDRESS_REGEX),
            "__address__",
            Some("$1:$2"),
        ),
        RelabelConfig::replace(&["__meta_kubernetes_namespace"], None, KUBERNETES_LABELS[0], None),
        RelabelConfig::replace(&["__meta_kubernetes_pod_name"], None, KUBERNETES_LABELS[1], None),
        RelabelConfig::replace(
            &[],
            None,
            DISCOVERY_LABEL,
            Some(PathKind::PodDiscovery.discovery_label()),
        ),
    ];
    if let Some(target_job) = model.topology.job_relabel(PathKind::PodDiscovery) {
        job.relabel_configs
            .push(RelabelConfig::replace(&[], None, "job", Some(target_job)));
    }
    job
}

/// Escapes RE2 metacharacters so a label value matches literally.
fn regex_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if r"\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
