//! An environment profile (`environments/<env>.yaml`): everything about one deployment that the
//! specs leave open, from the metrics port to the Kubernetes namespace. Unknown keys are errors,
//! so a typo never silently falls back to a default.

use std::collections::BTreeMap;
use std::fmt;

use anyhow::Result;
use serde::{Deserialize, Deserializer, Serialize};

use super::source::SourceFile;
use crate::error::UsageError;

/// One environment's profile.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// The profile file (`environments/production.yaml`), for errors that name it.
    #[serde(skip)]
    pub path: String,
    /// One line saying what this environment is.
    pub description: String,
    pub metrics: MetricsSection,
    pub prometheus: PrometheusSection,
    /// Per-alert overrides of the specs' thresholds and `for` durations, by alert name.
    #[serde(default)]
    pub alerts: BTreeMap<String, AlertOverride>,
    pub alertmanager: AlertmanagerSection,
    pub proxy: ProxySection,
    pub kubernetes: KubernetesSection,
    pub grafana: GrafanaSection,
    pub compose: ComposeSection,
    pub docs: DocsSection,
}

/// Where the server exposes its metrics, as the server's own `metrics` config would say.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsSection {
    pub host: String,
    pub port: u16,
    pub prefix: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrometheusSection {
    pub job_name: String,
    pub scrape_interval: PromDuration,
    pub scrape_timeout: PromDuration,
    pub evaluation_interval: PromDuration,
    /// Labels every series and alert leaving this Prometheus carries (cluster, environment).
    #[serde(default)]
    pub external_labels: BTreeMap<String, String>,
    /// Statically known instances; each gets `instance` and `environment` labels.
    #[serde(default)]
    pub static_targets: Vec<StaticTarget>,
    pub kubernetes_sd: KubernetesSd,
    /// Scrape through the nginx basic-auth proxy with these credentials.
    pub basic_auth: Option<BasicAuth>,
    /// Alertmanager addresses (`host:port`).
    #[serde(default)]
    pub alertmanagers: Vec<String>,
    /// Where to ship samples once one Prometheus is not enough (Thanos Receive, Mimir,
    /// VictoriaMetrics).
    #[serde(default)]
    pub remote_write: Vec<RemoteWrite>,
    pub federation: Option<Federation>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaticTarget {
    /// `host:port` of the scrape endpoint (the proxy's port when scraping through it).
    pub target: String,
    /// The `instance` label; readable names beat addresses in alerts.
    pub instance: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KubernetesSd {
    pub enabled: bool,
    /// Namespaces to discover pods in; empty means all.
    #[serde(default)]
    pub namespaces: Vec<String>,
    /// The value of the pods' `app` label.
    pub app_label: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BasicAuth {
    pub username: String,
    /// A file holding the password; the bundle never holds the password itself.
    pub password_file: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoteWrite {
    pub name: String,
    pub url: String,
}

/// A job that pulls pre-aggregated series from another Prometheus's `/federate`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Federation {
    pub job_name: String,
    pub targets: Vec<String>,
    /// `match[]` selectors; they go through the catalogue check like every other expression.
    pub match_selectors: Vec<String>,
}

/// An environment's threshold and `for` for one alert; either may be left to the spec.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertOverride {
    pub threshold: Option<f64>,
    #[serde(rename = "for")]
    pub for_: Option<PromDuration>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertmanagerSection {
    /// Where the webhook receiver posts alerts.
    pub webhook_url: String,
    pub group_wait: PromDuration,
    pub group_interval: PromDuration,
    pub repeat_interval: PromDuration,
}

/// The nginx basic-auth proxy in front of the metrics endpoint.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProxySection {
    pub enabled: bool,
    pub listen_host: String,
    pub listen_port: u16,
    /// The htpasswd file the operator creates; see the generated README.
    pub htpasswd_file: String,
    /// The metrics endpoint nginx forwards to (`host:port`). Leave it out to forward to
    /// `metrics.host`/`metrics.port` on loopback, which `--config` and `METRICS_*` then move too.
    #[serde(default)]
    pub upstream: Option<String>,
    /// Serve the proxy over TLS with these files (PEM), so the scrape's basic-auth credentials
    /// never cross the network in clear text; Prometheus then scrapes the static targets over
    /// `https`.
    #[serde(default)]
    pub tls: Option<ProxyTls>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProxyTls {
    pub certificate: String,
    pub certificate_key: String,
    /// The CA Prometheus verifies the proxy's certificate with; absent: the system's CAs.
    #[serde(default)]
    pub ca_file: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KubernetesSection {
    pub namespace: String,
    /// The `app` label of the Sockudo pods.
    pub app_label: String,
    pub operator: OperatorSection,
    pub grafana_sidecar: GrafanaSidecar,
    pub network_policy: NetworkPolicySection,
    /// The Sockudo Deployment the bundle's pod patch (annotations, nginx sidecar) targets.
    #[serde(default)]
    pub workload: Workload,
    /// The nginx sidecar that fronts the exporter in each pod when `proxy.enabled`.
    #[serde(default)]
    pub proxy_sidecar: ProxySidecar,
    /// The ServiceAccount of a Prometheus without the Operator, granted `list`/`watch` on pods
    /// for its pod discovery.
    #[serde(default)]
    pub prometheus_service_account: ServiceAccountRef,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Workload {
    /// The Deployment's name.
    pub deployment: String,
    /// The name of the Sockudo container in it.
    pub container: String,
}

impl Default for Workload {
    fn default() -> Workload {
        Workload {
            deployment: "sockudo".into(),
            container: "sockudo".into(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProxySidecar {
    /// The nginx image, pinned by version.
    pub image: String,
    /// The Secret holding the htpasswd file, which the operator creates (see the README).
    pub htpasswd_secret: String,
    /// The key of the htpasswd file in that Secret.
    pub htpasswd_key: String,
}

impl Default for ProxySidecar {
    fn default() -> ProxySidecar {
        ProxySidecar {
            image: "nginx:1.27.3-alpine".into(),
            htpasswd_secret: "sockudo-metrics-htpasswd".into(),
            htpasswd_key: "htpasswd".into(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceAccountRef {
    pub namespace: String,
    pub name: String,
}

impl Default for ServiceAccountRef {
    fn default() -> ServiceAccountRef {
        ServiceAccountRef {
            namespace: "monitoring".into(),
            name: "prometheus".into(),
        }
    }
}

/// The Prometheus Operator: when on, ServiceMonitor, PodMonitor and PrometheusRule are rendered.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperatorSection {
    pub enabled: bool,
    /// Labels the Operator's selectors expect (e.g. `release: kube-prometheus-stack`).
    #[serde(default)]
    pub selector_labels: BTreeMap<String, String>,
    /// The Secret holding the scrape password, read by the monitors' basic auth.
    pub basic_auth_secret: Option<SecretRef>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretRef {
    pub name: String,
    pub username_key: String,
    pub password_key: String,
}

/// The Grafana dashboard sidecar that loads dashboards from labelled ConfigMaps.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrafanaSidecar {
    pub label: String,
    pub value: String,
    pub folder: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkPolicySection {
    pub enabled: bool,
    /// Who may reach the metrics port; nobody else can.
    pub peers: Vec<NetworkPeer>,
    /// The server's own ports (WebSocket and HTTP API), open to everyone. Listed one by one:
    /// some network plugins ignore `endPort` ranges.
    #[serde(default = "default_app_ports")]
    pub app_ports: Vec<u16>,
}

fn default_app_ports() -> Vec<u16> {
    vec![crate::bundle::topology::DEFAULT_APP_PORT]
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkPeer {
    #[serde(default)]
    pub namespace_selector: BTreeMap<String, String>,
    #[serde(default)]
    pub pod_selector: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrafanaSection {
    pub schema_version: u32,
    /// Add a `cluster` variable (for Prometheus servers holding several clusters).
    pub cluster_variable: bool,
    /// The Prometheus URL the provisioned datasource points at.
    pub datasource_url: String,
}

/// Images of the compose stack, pinned so a `docker compose up` is reproducible.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComposeSection {
    pub sockudo_image: String,
    pub prometheus_image: String,
    pub alertmanager_image: String,
    pub grafana_image: String,
    pub nginx_image: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocsSection {
    /// Where the generated RUNBOOK.md is published; each alert's `runbook_url` is this plus its
    /// section anchor.
    pub runbook_url: String,
}

/// A Prometheus duration such as `15s`, `2m` or `1h30m`, checked when the profile is read.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct PromDuration(String);

impl PromDuration {
    /// Parses the Prometheus duration syntax: one or more `<digits><unit>` with units in
    /// descending order, unit one of y w d h m s ms.
    pub fn parse(text: &str) -> Result<PromDuration, String> {
        const UNITS: [&str; 7] = ["y", "w", "d", "h", "m", "s", "ms"];
        let mut rest = text;
        let mut last_unit = None;
        if rest.is_empty() {
            return Err("empty duration".into());
        }
        while !rest.is_empty() {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return Err(format!("{text:?} is not a duration like 30s, 5m or 1h30m"));
            }
            rest = &rest[digits..];
            let unit = UNITS
                .iter()
                .enumerate()
                .filter(|(_, u)| rest.starts_with(*u))
                .max_by_key(|(_, u)| u.len())
                .ok_or_else(|| format!("{text:?}: unit must be one of {}", UNITS.join(", ")))?;
            if last_unit.is_some_and(|last| unit.0 <= last) {
                return Err(format!("{text:?}: units must go from largest to smallest"));
            }
            last_unit = Some(unit.0);
            rest = &rest[unit.1.len()..];
        }
        Ok(PromDuration(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The duration in whole seconds (milliseconds are dropped).
    pub fn seconds(&self) -> u64 {
        let mut total = 0u64;
        let mut digits = 0u64;
        let bytes = self.0.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            if b.is_ascii_digit() {
                digits = digits * 10 + u64::from(b - b'0');
            } else {
                let ms = bytes.get(i..i + 2) == Some(b"ms");
                total += match (b, ms) {
                    (_, true) => digits / 1000,
                    (b'y', _) => digits * 365 * 86_400,
                    (b'w', _) => digits * 7 * 86_400,
                    (b'd', _) => digits * 86_400,
                    (b'h', _) => digits * 3_600,
                    (b'm', _) => digits * 60,
                    _ => digits,
                };
                digits = 0;
                i += usize::from(ms);
            }
            i += 1;
        }
        total
    }
}

impl fmt::Display for PromDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for PromDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        PromDuration::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl Profile {
    /// Parses a profile file; every error names the file and, where serde knows it, the key.
    pub fn parse(file: &SourceFile) -> Result<Profile> {
        let mut profile: Profile = parse_yaml(file)?;
        profile.path = file.path.clone();
        profile
            .validate()
            .map_err(|msg| UsageError(format!("{}: {msg}", file.path)))?;
        Ok(profile)
    }

    /// Checks what the types cannot: values that must be valid names or addresses.
    fn validate(&self) -> Result<(), String> {
        use crate::catalogue::{is_valid_label_name, is_valid_metric_name, CATALOGUE};
        if let Some(bad) = CATALOGUE
            .iter()
            .find(|m| !is_valid_metric_name(&m.full_name(&self.metrics.prefix)))
        {
            return Err(format!(
                "metrics.prefix: {:?} + {:?} is not a valid Prometheus metric name",
                self.metrics.prefix, bad.name
            ));
        }
        if self.metrics.port == 0 {
            return Err("metrics.port: must be 1-65535".into());
        }
        if let Some(bad) = self
            .prometheus
            .external_labels
            .keys()
            .find(|k| !is_valid_label_name(k))
        {
            return Err(format!(
                "prometheus.external_labels: {bad:?} is not a valid label name"
            ));
        }
        Ok(())
    }
}

/// Deserializes a YAML source file into `T`, turning serde's message into a usage error that
/// names the file.
pub fn parse_yaml<T: for<'de> Deserialize<'de>>(file: &SourceFile) -> Result<T> {
    serde_norway::from_str(&file.text).map_err(|err| UsageError(format!("{}: {err}", file.path)).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_follow_prometheus_syntax() {
        for ok in ["15s", "1m", "1h30m", "500ms", "2w", "1d12h"] {
            assert!(PromDuration::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "15", "s", "1m1h", "1.5m", "10 s", "5x"] {
            assert!(PromDuration::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(PromDuration::parse("1h30m").unwrap().seconds(), 5400);
        assert_eq!(PromDuration::parse("1500ms").unwrap().seconds(), 1);
        assert_eq!(PromDuration::parse("2m").unwrap().seconds(), 120);
    }
}
