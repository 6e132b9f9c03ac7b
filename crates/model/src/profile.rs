//! An environment profile (`environments/<env>.yaml`): everything about one deployment that the
//! specs leave open, from the metrics port to the Kubernetes namespace. Unknown keys are errors,
//! so a typo never silently falls back to a default.

use std::collections::BTreeMap;
use std::fmt;

use crate::layout::{CRITICAL, INFO, WARNING};
use crate::Result;
use serde::{Deserialize, Deserializer, Serialize};

use super::jinja::Vars;
use super::layout::PROMETHEUS_DEFAULT_LISTEN_ADDRESS;
use super::source::SourceFile;
use crate::config::MetricsConfig;
use sockudo_obs_catalogue::Error;
use sockudo_obs_sockudo::coverage::Build;

/// One environment's profile.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// The profile file (`environments/production.yaml`), for errors that name it.
    #[serde(skip)]
    pub path: String,
    /// The spec format's version (`SPEC_VERSIONS`), checked by `parse_spec`.
    pub version: u32,
    /// One line saying what this environment is.
    pub description: String,
    /// The server this bundle monitors: a build of the real server with the drop-in, whose unfed
    /// families the docs and panels point out (`sockudo-5.2.0`, the default: one node;
    /// `sockudo-5.2.0-cluster`; `sockudo-5.2.0-instrumented`), or `every-family`.
    #[serde(default)]
    pub server: TargetServer,
    /// Where the server exposes its metrics (`metrics`).
    pub metrics: MetricsSection,
    /// The Prometheus that scrapes it and evaluates the rules (`prometheus`).
    pub prometheus: PrometheusSection,
    /// Per-alert overrides of the specs' thresholds, `for` durations and severities, or an alert
    /// turned off, by alert name.
    #[serde(default)]
    pub alerts: BTreeMap<String, AlertOverride>,
    /// Per-SLO overrides of the specs' objectives (`slos/*.yaml`), by SLO name.
    #[serde(default)]
    pub slos: BTreeMap<String, SloOverride>,
    /// Where the alerts go (`alertmanager`).
    pub alertmanager: AlertmanagerSection,
    /// The nginx basic-auth proxy in front of the metrics endpoint (`proxy`).
    pub proxy: ProxySection,
    /// The Kubernetes manifests: namespace, selectors, operator, NetworkPolicy (`kubernetes`).
    pub kubernetes: KubernetesSection,
    /// The provisioned dashboards and datasource (`grafana`).
    pub grafana: GrafanaSection,
    /// The images of the docker-compose stack (`compose`).
    pub compose: ComposeSection,
    /// Where the generated docs are published (`docs`).
    pub docs: DocsSection,
}

/// The server a profile's bundle monitors (`server:` in the profile): a build of the real server
/// (a column of [`sockudo_obs_sockudo::coverage`]'s table), or one that feeds every family.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub enum TargetServer {
    /// The real Sockudo 5.2.0 with the drop-in driver, one node.
    #[default]
    #[serde(rename = "sockudo-5.2.0")]
    Sockudo5_2,
    /// The same, as a cluster on Redis (the redis adapter, queue and cache).
    #[serde(rename = "sockudo-5.2.0-cluster")]
    Sockudo5_2Cluster,
    /// Sockudo 5.2.0 with the drop-in and the instrumentation patch series, on Redis.
    #[serde(rename = "sockudo-5.2.0-instrumented")]
    Sockudo5_2Instrumented,
    /// A server that records every catalogue family (one linking sockudo-obs throughout, or
    /// `sockudo-obs serve --demo`).
    #[serde(rename = "every-family")]
    EveryFamily,
}

impl TargetServer {
    /// The coverage table's column for this server; `None` when it feeds every family.
    pub const fn build(self) -> Option<Build> {
        match self {
            TargetServer::Sockudo5_2 => Some(Build::DropIn),
            TargetServer::Sockudo5_2Cluster => Some(Build::DropInCluster),
            TargetServer::Sockudo5_2Instrumented => Some(Build::Instrumented),
            TargetServer::EveryFamily => None,
        }
    }
}

/// Where the server exposes its metrics, as the server's own `metrics` config would say.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsSection {
    /// `metrics.host`: the address the server's exporter listens on (its `metrics.host`).
    pub host: String,
    /// `metrics.port`: the exporter's port (its `metrics.port`).
    pub port: u16,
    /// `metrics.prefix`: the prefix of every metric name (its `metrics.prometheus.prefix`).
    pub prefix: String,
}

impl MetricsSection {
    /// The server config this section describes: metrics on, served by the only driver.
    pub fn server_config(&self) -> MetricsConfig {
        MetricsConfig {
            enabled: true,
            host: self.host.clone(),
            port: self.port,
            prefix: self.prefix.clone(),
            ..MetricsConfig::default()
        }
    }
}

/// The Prometheus that scrapes the server and evaluates the rules (`prometheus`): its jobs,
/// intervals and labels, and where it sends alerts and samples.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrometheusSection {
    /// `prometheus.job_name`: the `job` every rule and panel selects.
    pub job_name: String,
    /// `prometheus.scrape_interval`: how often Prometheus scrapes.
    pub scrape_interval: PromDuration,
    /// `prometheus.scrape_timeout`: how long a scrape may take, at most the scrape interval.
    pub scrape_timeout: PromDuration,
    /// `prometheus.evaluation_interval`: how often the rules are evaluated.
    pub evaluation_interval: PromDuration,
    /// Labels every series and alert leaving this Prometheus carries (cluster, environment).
    #[serde(default)]
    pub external_labels: BTreeMap<String, String>,
    /// The label naming the cluster (kubernetes-mixin's `clusterLabel`; `cluster` unless set).
    /// When `external_labels` sets it, recording rules and alerts keep it through every
    /// aggregation, with `namespace`, so alerts route by where they come from.
    #[serde(default = "default_cluster_label")]
    pub cluster_label: String,
    /// Statically known instances; each gets `instance` and `environment` labels.
    #[serde(default)]
    pub static_targets: Vec<StaticTarget>,
    /// Pod discovery of the Sockudo pods in Kubernetes (`prometheus.kubernetes_sd`).
    pub kubernetes_sd: KubernetesSd,
    /// Scrape through the nginx basic-auth proxy with these credentials.
    pub basic_auth: Option<BasicAuth>,
    /// Where this Prometheus serves its own metrics (its `--web.listen-address`), which the
    /// self-monitoring job `prometheus` scrapes.
    #[serde(default = "default_listen_address")]
    pub listen_address: String,
    /// Alertmanager addresses (`host:port`).
    #[serde(default)]
    pub alertmanagers: Vec<String>,
    /// Where to ship samples once one Prometheus is not enough (Thanos Receive, Mimir,
    /// VictoriaMetrics).
    #[serde(default)]
    pub remote_write: Vec<RemoteWrite>,
    /// A job that federates from another Prometheus (`prometheus.federation`); absent: none.
    pub federation: Option<Federation>,
}

/// An instance outside the cluster, scraped by the static job (`prometheus.static_targets[]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaticTarget {
    /// `host:port` of the scrape endpoint (the proxy's port when scraping through it).
    pub target: String,
    /// The `instance` label; readable names beat addresses in alerts.
    pub instance: String,
}

/// `prometheus.kubernetes_sd`: how Prometheus discovers the Sockudo pods.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KubernetesSd {
    /// Discover the Sockudo pods (the pod discovery job).
    pub enabled: bool,
    /// Namespaces to discover pods in; empty means all.
    #[serde(default)]
    pub namespaces: Vec<String>,
    /// The value of the pods' `app` label.
    pub app_label: String,
}

/// The credentials of a scrape or a remote write through basic auth.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BasicAuth {
    /// The user name (for the scrape: the proxy's user).
    pub username: String,
    /// A file holding the password; the bundle never holds the password itself.
    pub password_file: String,
}

/// One `remote_write` endpoint, spelled with Prometheus's own field names so that it is copied
/// into `prometheus.yml` as it stands. Credentials come from files only (`password_file`,
/// `credentials_file`): the bundle never holds a secret.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RemoteWrite {
    /// The queue's name in Prometheus's metrics.
    pub name: String,
    /// The receiving endpoint (an http(s) URL).
    pub url: String,
    /// Extra HTTP headers on every request, such as Mimir's tenant `X-Scope-OrgID`. Prometheus
    /// refuses the ones it sets itself (`Authorization`, `Content-Type`, ...).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// Basic auth towards the endpoint (not with [`RemoteWrite::authorization`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basic_auth: Option<BasicAuth>,
    /// The `Authorization` header (`type`, Bearer when left out) with its credentials from a file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization: Option<RemoteAuthorization>,
    /// TLS towards the endpoint (https URLs only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_config: Option<RemoteTls>,
    /// How Prometheus queues and shards what it ships; absent: Prometheus's defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_config: Option<RemoteQueue>,
}

/// The `Authorization` header of a remote write, its credentials read from a file.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RemoteAuthorization {
    /// `type`: the scheme (Bearer when left out; Basic goes in `basic_auth`).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The file holding the token (never the token).
    pub credentials_file: String,
}

/// TLS towards the remote endpoint: the CA that verifies it, a client certificate and key
/// (both or neither), the name to verify when it differs from the URL's host.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RemoteTls {
    /// The CA that verifies the endpoint; absent: the system's CAs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<String>,
    /// A client certificate, with [`RemoteTls::key_file`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_file: Option<String>,
    /// The client certificate's key, with [`RemoteTls::cert_file`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_file: Option<String>,
    /// The name the endpoint's certificate is verified against; absent: the URL's host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_name: Option<String>,
}

/// How Prometheus queues and shards what it ships; each left out keeps Prometheus's default.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RemoteQueue {
    /// Samples buffered per shard.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<u32>,
    /// The fewest parallel senders; at most `max_shards`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_shards: Option<u32>,
    /// The most parallel senders.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_shards: Option<u32>,
    /// Samples per request at most.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_samples_per_send: Option<u32>,
    /// The longest wait before a partial batch is sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_send_deadline: Option<PromDuration>,
    /// The first retry delay; at most `max_backoff`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_backoff: Option<PromDuration>,
    /// The longest retry delay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_backoff: Option<PromDuration>,
}

/// A job that pulls pre-aggregated series from another Prometheus's `/federate`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Federation {
    /// The federation job's name.
    pub job_name: String,
    /// The Prometheus servers (`host:port`) to federate from.
    pub targets: Vec<String>,
    /// `match[]` selectors; they go through the catalogue check like every other expression.
    pub match_selectors: Vec<String>,
}

/// An environment's threshold, traffic floor and `for` for one alert; each may be left to the
/// spec. The specs carry the seed page's numbers: a profile that overrides one says why in a
/// comment.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertOverride {
    /// The alert's threshold here; absent: the spec's.
    pub threshold: Option<f64>,
    /// The fewest events in a ratio alert's window for the ratio to count (see the spec).
    pub min_traffic: Option<f64>,
    /// `for`: how long the condition must hold before the alert fires; absent: the spec's.
    #[serde(rename = "for")]
    pub for_: Option<PromDuration>,
    /// The alert's severity here (one of `layout::SEVERITIES`): a page in one environment may
    /// be a ticket in another.
    pub severity: Option<String>,
    /// `false` leaves the alert out of this environment's bundle: no rule, no promtool test, no
    /// runbook section.
    pub enabled: Option<bool>,
}

/// An environment's objective for one SLO (a percentage, strictly between 0 and 100).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SloOverride {
    /// The SLO's objective here, a percentage; absent: the spec's.
    pub objective: Option<f64>,
}

/// Where the alerts go and how Alertmanager groups, repeats and mutes them (`alertmanager`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertmanagerSection {
    /// Where each severity's webhook receiver posts.
    pub receivers: SeverityReceivers,
    /// The dead man's switch: where the always-firing Watchdog goes (a heartbeat service such as
    /// healthchecks.io or Dead Man's Snitch, which alarms when it stops arriving). Absent: the
    /// Watchdog goes to a receiver that notifies nobody.
    #[serde(default)]
    pub heartbeat_url: Option<String>,
    /// `alertmanager.group_wait`: the wait before a new group's first notification.
    pub group_wait: PromDuration,
    /// `alertmanager.group_interval`: the wait before notifying a group's new alerts.
    pub group_interval: PromDuration,
    /// `alertmanager.repeat_interval`: the wait before repeating a notification.
    pub repeat_interval: PromDuration,
    /// Native integrations (PagerDuty, Slack, Opsgenie, email) a severity's receiver notifies
    /// beside its webhook, by severity. Their secrets stay in files Alertmanager reads.
    #[serde(default)]
    pub integrations: BTreeMap<String, Integrations>,
    /// Named recurring windows (a maintenance window, say), as Alertmanager's `time_intervals`.
    #[serde(default)]
    pub time_intervals: BTreeMap<String, Vec<TimeInterval>>,
    /// By severity, the windows of [`AlertmanagerSection::time_intervals`] during which that
    /// severity's notifications are held back (`warning: [maintenance]`: no tickets while it lasts).
    #[serde(default)]
    pub mute_time_intervals: BTreeMap<String, Vec<String>>,
}

impl AlertmanagerSection {
    /// Every file Alertmanager reads a secret from, with what it holds, sorted: the operator
    /// mounts each one (the README lists them).
    pub fn secret_files(&self) -> Vec<(String, &'static str)> {
        let mut files = Vec::new();
        for i in self.integrations.values() {
            if let Some(pd) = &i.pagerduty {
                files.extend(
                    pd.routing_key_file
                        .clone()
                        .map(|f| (f, "the PagerDuty routing key")),
                );
                files.extend(
                    pd.service_key_file
                        .clone()
                        .map(|f| (f, "the PagerDuty service key")),
                );
            }
            if let Some(slack) = &i.slack {
                files.push((slack.api_url_file.clone(), "the Slack incoming webhook URL"));
            }
            if let Some(opsgenie) = &i.opsgenie {
                files.push((opsgenie.api_key_file.clone(), "the Opsgenie API key"));
            }
            if let Some(email) = &i.email {
                files.extend(email.auth_password_file.clone().map(|f| (f, "the SMTP password")));
            }
        }
        files.sort();
        files.dedup();
        files
    }
}

/// The native integrations of one severity's receiver. Each secret (routing key, webhook URL, API
/// key, SMTP password) is a file path, read by Alertmanager at notification time: the bundle never
/// holds the secret itself.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Integrations {
    /// PagerDuty, notified beside the webhook.
    pub pagerduty: Option<PagerDuty>,
    /// Slack, notified beside the webhook.
    pub slack: Option<Slack>,
    /// Opsgenie, notified beside the webhook.
    pub opsgenie: Option<Opsgenie>,
    /// Email, sent beside the webhook.
    pub email: Option<Email>,
}

/// PagerDuty: an Events API v2 integration's routing key, or a v1 integration's service key
/// (exactly one).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PagerDuty {
    /// The file holding an Events API v2 integration's routing key.
    pub routing_key_file: Option<String>,
    /// The file holding a v1 integration's service key.
    pub service_key_file: Option<String>,
    /// The events endpoint; absent: PagerDuty's US one (`https://events.eu.pagerduty.com/v2/enqueue` for the EU).
    pub url: Option<String>,
}

/// Slack: an incoming webhook's URL (a secret) and, optionally, the channel.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Slack {
    /// The file holding the incoming webhook's URL.
    pub api_url_file: String,
    /// The channel to post in; absent: the webhook's own channel.
    pub channel: Option<String>,
}

/// Opsgenie: an API integration's key and, optionally, the API URL (`https://api.eu.opsgenie.com/`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Opsgenie {
    /// The file holding the API integration's key.
    pub api_key_file: String,
    /// The API URL; absent: Opsgenie's US API.
    pub api_url: Option<String>,
}

/// Email through an SMTP smarthost (`host:port`), with an optional login whose password is in a
/// file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Email {
    /// Where the mail goes.
    pub to: String,
    /// The mail's sender.
    pub from: String,
    /// The SMTP server (`host:port`).
    pub smarthost: String,
    /// The SMTP login, with `auth_password_file`; absent: no login.
    pub auth_username: Option<String>,
    /// The file holding the SMTP password.
    pub auth_password_file: Option<String>,
    /// STARTTLS required (Alertmanager's default, true); false only for a smarthost on loopback.
    pub require_tls: Option<bool>,
}

/// One recurring window, as Alertmanager's `time_intervals` entries spell it: every field that is
/// set must match (an unset one matches always).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TimeInterval {
    /// Times of day; none: the whole day.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub times: Vec<TimeRange>,
    /// `monday`, or a range `monday:friday`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub weekdays: Vec<String>,
    /// `1`, `-1` (the last day), or a range `1:7`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub days_of_month: Vec<String>,
    /// `january` or `1`, or a range `january:march`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub months: Vec<String>,
    /// `2026`, or a range `2026:2027`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub years: Vec<String>,
    /// An IANA time zone (`Europe/Berlin`); absent: UTC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

/// `HH:MM` to `HH:MM` (end exclusive, `24:00` allowed).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TimeRange {
    /// The start, `HH:MM`.
    pub start_time: String,
    /// The end, `HH:MM`, after the start.
    pub end_time: String,
}

/// One webhook URL per severity, all different: a critical alert pages (its URL goes to the
/// pager), a warning opens a ticket, an info lands in a channel. One URL for all three would make
/// the router guess the urgency.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, try_from = "ReceiverUrls")]
pub struct SeverityReceivers {
    /// `alertmanager.receivers.critical`: the webhook URL pages go to.
    pub critical: String,
    /// `alertmanager.receivers.warning`: the webhook URL tickets go to.
    pub warning: String,
    /// `alertmanager.receivers.info`: the webhook URL notes go to.
    pub info: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReceiverUrls {
    critical: String,
    warning: String,
    info: String,
}

impl TryFrom<ReceiverUrls> for SeverityReceivers {
    type Error = String;

    fn try_from(urls: ReceiverUrls) -> Result<Self, String> {
        let receivers = SeverityReceivers {
            critical: urls.critical,
            warning: urls.warning,
            info: urls.info,
        };
        let by_severity = receivers.by_severity();
        for (i, (severity, url)) in by_severity.iter().enumerate() {
            if url.trim().is_empty() {
                return Err(format!("alertmanager.receivers.{severity}: empty URL"));
            }
            if let Some((other, _)) = by_severity[..i].iter().find(|(_, u)| u == url) {
                return Err(format!(
                    "alertmanager.receivers.{severity}: {url:?} is also the {other} URL; each severity needs its own"
                ));
            }
        }
        Ok(receivers)
    }
}

impl SeverityReceivers {
    /// `(severity, url)`, most urgent first.
    pub fn by_severity(&self) -> [(&'static str, &str); 3] {
        [
            (CRITICAL, &self.critical),
            (WARNING, &self.warning),
            (INFO, &self.info),
        ]
    }
}

/// The nginx basic-auth proxy in front of the metrics endpoint.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProxySection {
    /// `proxy.enabled`: put the nginx basic-auth proxy in front of the exporter.
    pub enabled: bool,
    /// `proxy.listen_host`: where the proxy listens.
    pub listen_host: String,
    /// `proxy.listen_port`: the proxy's port (the pods' scrape port when it is on).
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

/// The certificate and key the host proxy serves TLS with (`proxy.tls`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProxyTls {
    /// The proxy's certificate file (PEM).
    pub certificate: String,
    /// The certificate's key file (PEM).
    pub certificate_key: String,
    /// The CA Prometheus verifies the proxy's certificate with; absent: the system's CAs.
    #[serde(default)]
    pub ca_file: Option<String>,
}

/// The Kubernetes manifests (`kubernetes`): namespace, selectors, Operator, NetworkPolicy and the
/// pod patch.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KubernetesSection {
    /// `kubernetes.namespace`: where the Sockudo pods and the bundle's objects live.
    pub namespace: String,
    /// The `app` label of the Sockudo pods.
    pub app_label: String,
    /// The Prometheus Operator's objects (`kubernetes.operator`).
    pub operator: OperatorSection,
    /// The label and folder of the ConfigMaps Grafana's dashboard sidecar loads the dashboards
    /// from (`kubernetes.grafana_sidecar`).
    pub grafana_sidecar: GrafanaSidecar,
    /// The NetworkPolicy guarding the metrics and proxy ports (`kubernetes.network_policy`).
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

/// The Sockudo Deployment the pod patch targets (`kubernetes.workload`).
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

/// The nginx sidecar in front of the exporter in each pod (`kubernetes.proxy_sidecar`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProxySidecar {
    /// The nginx image, pinned by version. It must run as a non-root user (uid 101, as
    /// nginxinc/nginx-unprivileged does) with its pid and temp files under /tmp: the sidecar runs
    /// under Pod Security "restricted" with a read-only root.
    pub image: String,
    /// The Secret holding the htpasswd file, which the operator creates (see the README).
    pub htpasswd_secret: String,
    /// The key of the htpasswd file in that Secret.
    pub htpasswd_key: String,
}

impl Default for ProxySidecar {
    fn default() -> ProxySidecar {
        ProxySidecar {
            image: "nginxinc/nginx-unprivileged:1.27.3-alpine".into(),
            htpasswd_secret: "sockudo-metrics-htpasswd".into(),
            htpasswd_key: "htpasswd".into(),
        }
    }
}

/// The namespace and name of a plain Prometheus's ServiceAccount
/// (`kubernetes.prometheus_service_account`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceAccountRef {
    /// Where the plain Prometheus runs (its ConfigMap goes there).
    pub namespace: String,
    /// The ServiceAccount's name.
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
    /// `kubernetes.operator.enabled`: render the Operator's objects.
    pub enabled: bool,
    /// Labels the Operator's selectors expect (e.g. `release: kube-prometheus-stack`).
    #[serde(default)]
    pub selector_labels: BTreeMap<String, String>,
    /// The Secret holding the scrape password, read by the monitors' basic auth.
    pub basic_auth_secret: Option<SecretRef>,
    /// The Secret key holding `proxy.tls.ca_file`'s CA, which the Operator's ScrapeConfig of the
    /// static targets verifies the proxies with (the Operator reads a CA from a Secret, never a
    /// file). Required under the Operator when the static targets are scraped over TLS with a CA
    /// of their own.
    #[serde(default)]
    pub ca_secret: Option<SecretKeyRef>,
}

/// One key of a Kubernetes Secret (`kubernetes.operator.ca_secret`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretKeyRef {
    /// The Secret's name, in `kubernetes.namespace`.
    pub name: String,
    /// The key in that Secret holding the value.
    pub key: String,
}

/// A Secret holding the scrape's user and password (`kubernetes.operator.basic_auth_secret`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretRef {
    /// The Secret's name, in `kubernetes.namespace`.
    pub name: String,
    /// The key holding the user name.
    pub username_key: String,
    /// The key holding the password.
    pub password_key: String,
}

/// The Grafana dashboard sidecar that loads dashboards from labelled ConfigMaps.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrafanaSidecar {
    /// The label Grafana's dashboard sidecar watches; the dashboard ConfigMaps carry it.
    pub label: String,
    /// That label's value.
    pub value: String,
    /// The Grafana folder the dashboards go in (the ConfigMaps' `grafana_folder` annotation).
    pub folder: String,
}

/// Who may reach the metrics and proxy ports, and which ports stay open
/// (`kubernetes.network_policy`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkPolicySection {
    /// `kubernetes.network_policy.enabled`: render the NetworkPolicy.
    pub enabled: bool,
    /// Who may reach the metrics port; nobody else can.
    pub peers: Vec<NetworkPeer>,
    /// The server's own ports (WebSocket and HTTP API), open to everyone. Listed one by one:
    /// some network plugins ignore `endPort` ranges.
    #[serde(default = "default_app_ports")]
    pub app_ports: Vec<u16>,
}

fn default_listen_address() -> String {
    PROMETHEUS_DEFAULT_LISTEN_ADDRESS.into()
}

fn default_cluster_label() -> String {
    "cluster".into()
}

fn default_app_ports() -> Vec<u16> {
    vec![crate::layout::DEFAULT_APP_PORT]
}

/// Who may reach the metrics and proxy ports: pods matching the selectors (with both set, both
/// must match).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkPeer {
    /// The peer's namespace labels.
    #[serde(default)]
    pub namespace_selector: BTreeMap<String, String>,
    /// The peer's pod labels.
    #[serde(default)]
    pub pod_selector: BTreeMap<String, String>,
}

/// The provisioned dashboards and datasource (`grafana`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrafanaSection {
    /// `grafana.schema_version`: the dashboards' `schemaVersion`.
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
    /// `compose.sockudo_image`: the Sockudo image (built with the drop-in).
    pub sockudo_image: String,
    /// `compose.prometheus_image`: the Prometheus image.
    pub prometheus_image: String,
    /// `compose.alertmanager_image`: the Alertmanager image.
    pub alertmanager_image: String,
    /// `compose.grafana_image`: the Grafana image.
    pub grafana_image: String,
    /// `compose.nginx_image`: the nginx image of the basic-auth proxy and the alert sink.
    pub nginx_image: String,
}

/// Where the generated docs are published (`docs`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocsSection {
    /// Where the generated RUNBOOK.md is published; each alert's `runbook_url` is this plus its
    /// section anchor.
    pub runbook_url: String,
}

/// The longest duration Prometheus accepts, in milliseconds (`i64::MAX` nanoseconds).
const MAX_DURATION_MILLIS: u64 = i64::MAX as u64 / 1_000_000;

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
        let duration = PromDuration(text.to_string());
        // Prometheus keeps durations as int64 nanoseconds (about 292 years).
        match duration.checked_millis() {
            Some(ms) if ms <= MAX_DURATION_MILLIS => Ok(duration),
            _ => Err(format!(
                "{text:?} is longer than Prometheus allows (about 292 years)"
            )),
        }
    }

    /// The duration as written (`1h30m`).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The duration in whole seconds (milliseconds are dropped).
    pub fn seconds(&self) -> u64 {
        self.millis() / 1000
    }

    /// The duration in milliseconds.
    pub fn millis(&self) -> u64 {
        self.checked_millis().unwrap_or(u64::MAX)
    }

    fn checked_millis(&self) -> Option<u64> {
        let mut total = 0u64;
        let mut digits = 0u64;
        let bytes = self.0.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            if b.is_ascii_digit() {
                digits = digits.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
            } else {
                let ms = bytes.get(i..i + 2) == Some(b"ms");
                let unit = match (b, ms) {
                    (_, true) => 1,
                    (b'y', _) => 365 * 86_400_000,
                    (b'w', _) => 7 * 86_400_000,
                    (b'd', _) => 86_400_000,
                    (b'h', _) => 3_600_000,
                    (b'm', _) => 60_000,
                    _ => 1000,
                };
                total = total.checked_add(digits.checked_mul(unit)?)?;
                digits = 0;
                i += usize::from(ms);
            }
            i += 1;
        }
        Some(total)
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

/// Self-monitoring alerts (`alerts/self-monitoring.yaml`) that watch a part of the deployment a
/// profile may leave out, each with the profile key that configures that part and whether the
/// profile does.
pub(crate) const SELF_MONITORING_NEEDS: [(&str, &str, Configured); 3] = [
    (
        "SockudoPrometheusRemoteWriteBehind",
        "prometheus.remote_write",
        has_remote_write,
    ),
    (
        "SockudoPrometheusErrorSendingAlerts",
        "prometheus.alertmanagers",
        has_alertmanagers,
    ),
    (
        "SockudoAlertmanagerFailedToSendAlerts",
        "prometheus.alertmanagers",
        has_alertmanagers,
    ),
];

type Configured = fn(&PrometheusSection) -> bool;

fn has_remote_write(prometheus: &PrometheusSection) -> bool {
    !prometheus.remote_write.is_empty()
}

fn has_alertmanagers(prometheus: &PrometheusSection) -> bool {
    !prometheus.alertmanagers.is_empty()
}

impl Profile {
    /// Turns off each self-monitoring alert of [`SELF_MONITORING_NEEDS`] whose part this
    /// profile does not configure (no remote write, no Alertmanager): it could never fire. A
    /// profile that turns one on explicitly without its part is refused, naming both keys.
    pub(crate) fn leave_out_unconfigured_self_monitoring(&mut self) -> Result<()> {
        for (alert, key, configured) in SELF_MONITORING_NEEDS {
            if configured(&self.prometheus) {
                continue;
            }
            let over = self.alerts.entry(alert.to_string()).or_default();
            if over.enabled == Some(true) {
                return Err(Error::usage(format!(
                    "{}: alerts.{alert}.enabled: true, but {key} is empty: the alert watches what it configures",
                    self.path
                ))
                .with_key(format!("alerts.{alert}.enabled"))
                .with_path(&self.path));
            }
            over.enabled = Some(false);
        }
        Ok(())
    }

    /// Parses a profile file; every error names the file and, where serde knows it, the key.
    /// The values are checked by the `validate` stage.
    pub fn parse(file: &SourceFile) -> Result<Profile> {
        let mut profile: Profile = parse_spec(file)?;
        profile.path = file.path.clone();
        Ok(profile)
    }
}

/// The versions of the spec format this generator reads. Every spec file (a profile, an alert,
/// dashboard or SLO spec) says which it is written in, `version: 1` at the top: the key is
/// required, so a spec of another format is refused naming its file rather than misread.
pub(crate) const SPEC_VERSIONS: [u32; 1] = [1];

/// Deserializes a spec file into `T` ([`parse_yaml`]) once its `version` is one of
/// [`SPEC_VERSIONS`]; a missing or unknown version is a usage error naming the file and the
/// versions this generator reads.
pub(crate) fn parse_spec<T: for<'de> Deserialize<'de>>(file: &SourceFile) -> Result<T> {
    let document: serde_norway::Value = parse_yaml(file)?;
    let supported = SPEC_VERSIONS.map(|v| v.to_string()).join(", ");
    let refused = |what: String| {
        Error::usage(format!(
            "{}: {what} (supported: version {supported}; write `version: {}` at the top of the file)",
            file.path,
            SPEC_VERSIONS[SPEC_VERSIONS.len() - 1]
        ))
        .with_key("version")
        .with_path(&file.path)
    };
    // A file that is no mapping is left to the parser below, which says what it expected.
    if let Some(mapping) = document.as_mapping() {
        let known = |v: u64| SPEC_VERSIONS.iter().any(|&known| u64::from(known) == v);
        match mapping.get("version") {
            None => return Err(refused("no `version` key".into())),
            Some(version) if version.as_u64().is_some_and(known) => {}
            Some(serde_norway::Value::Number(number)) => {
                return Err(refused(format!(
                    "version {number} is not a spec version this generator reads"
                )))
            }
            Some(other) => {
                let text = serde_norway::to_string(other).unwrap_or_default();
                return Err(refused(format!(
                    "version {} is not a spec version this generator reads",
                    sockudo_obs_catalogue::echoed(text.trim())
                )));
            }
        }
    }
    parse_yaml(file)
}

/// Deserializes a YAML source file into `T`, turning serde's message into a usage error that
/// names the file.
pub(crate) fn parse_yaml<T: for<'de> Deserialize<'de>>(file: &SourceFile) -> Result<T> {
    if let Some(line) = too_deep(&file.text) {
        return Err(Error::usage(format!(
            "{}: line {line}: brackets nested deeper than {MAX_FLOW_DEPTH} levels",
            file.path
        ))
        .with_path(&file.path));
    }
    serde_norway::from_str(&file.text)
        .map_err(|err| Error::usage(format!("{}: {err}", file.path)).with_path(&file.path))
}

/// The deepest `[`/`{` nesting a spec may use. The YAML parser takes quadratic time in the
/// depth (50,000 levels: 76 s), and no spec needs more than a few.
pub(crate) const MAX_FLOW_DEPTH: usize = 64;

/// The line where flow collections nest deeper than [`MAX_FLOW_DEPTH`], skipping quoted
/// strings and comments; a rough scan, only there to stop pathological input early.
fn too_deep(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (number, line) in text.lines().enumerate() {
        let mut quote = None;
        let mut previous = ' ';
        let mut chars = line.chars();
        while let Some(c) = chars.next() {
            match (quote, c) {
                (Some('"'), '\\') => {
                    chars.next();
                }
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '"' | '\'') if matches!(previous, ' ' | '[' | '{' | ',' | ':') => quote = Some(c),
                (None, '#') if previous.is_whitespace() => break,
                (None, '[' | '{') => {
                    depth += 1;
                    if depth > MAX_FLOW_DEPTH {
                        return Some(number + 1);
                    }
                }
                (None, ']' | '}') => depth = depth.saturating_sub(1),
                _ => {}
            }
            previous = c;
        }
    }
    None
}

// ---- Labels that route: what every rule and panel keeps of where a series comes from ----

/// The placeholder for the routing labels in `by (...)` and `on (...)` lists ([`routing_labels`]:
/// the cluster label and `namespace`, where the profile's scrape paths set them). Written as a
/// list element, `by (${routing}, job, instance)`; with no routing label it goes with its comma.
pub const ROUTING_PLACEHOLDER: &str = "${routing}";
/// The placeholder for `pod` next to `instance` in per-instance lists, so an alert about one
/// instance names its pod where the Kubernetes job sets one: `by (${routing}, job, instance, ${pod})`.
pub const POD_PLACEHOLDER: &str = "${pod}";
/// The label Kubernetes discovery (and the Operator) put the pod name in.
pub const POD_LABEL: &str = "pod";
/// The label Kubernetes discovery (and the Operator) put the namespace in.
pub(crate) const NAMESPACE_LABEL: &str = "namespace";

/// The routing labels of the profile: its cluster label when `external_labels` sets it, and
/// `namespace` when the Kubernetes job adds it.
pub fn routing_labels(profile: &Profile) -> Vec<String> {
    routing_values(profile).into_keys().collect()
}

/// The routing labels with the values this profile's own series carry.
pub(crate) fn routing_values(profile: &Profile) -> BTreeMap<String, String> {
    let prometheus = &profile.prometheus;
    let mut values = BTreeMap::new();
    if let Some(cluster) = prometheus.external_labels.get(&prometheus.cluster_label) {
        values.insert(prometheus.cluster_label.clone(), cluster.clone());
    }
    if prometheus.kubernetes_sd.enabled {
        values.insert(NAMESPACE_LABEL.to_string(), profile.kubernetes.namespace.clone());
    }
    values
}

/// The labels that say where a series comes from rather than what it counts: the routing labels
/// and `pod` (when the Kubernetes job sets it). Recording rule levels may leave them out.
pub fn location_labels(profile: &Profile) -> Vec<String> {
    let mut labels = routing_labels(profile);
    if profile.prometheus.kubernetes_sd.enabled {
        labels.push(POD_LABEL.to_string());
    }
    labels
}

/// The label-list variables ([`ROUTING_PLACEHOLDER`], [`POD_PLACEHOLDER`]) of an expression's
/// placeholders; an empty list takes its comma with it.
pub(crate) fn label_lists(profile: &Profile) -> Vars {
    let pods: Vec<String> = if profile.prometheus.kubernetes_sd.enabled {
        vec![POD_LABEL.to_string()]
    } else {
        Vec::new()
    };
    Vars::new()
        .list("routing", &routing_labels(profile))
        .list("pod", &pods)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brackets_nested_too_deep_are_refused_before_parsing() {
        let file = |text: String| SourceFile {
            path: "environments/x.yaml".into(),
            text,
        };
        let deep = format!("description: {}{}", "[".repeat(50_000), "]".repeat(50_000));
        let err = parse_yaml::<serde_norway::Value>(&file(deep)).unwrap_err();
        assert!(format!("{err}").contains("nested deeper than 64"), "{err}");
        let fine = format!(
            "a: {}1{}\nb: \"[[[[\" # {}\n",
            "[".repeat(64),
            "]".repeat(64),
            "[".repeat(99)
        );
        assert!(parse_yaml::<serde_norway::Value>(&file(fine)).is_ok());
    }

    #[test]
    fn durations_follow_prometheus_syntax() {
        for ok in ["15s", "1m", "1h30m", "500ms", "2w", "1d12h"] {
            assert!(PromDuration::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "15",
            "s",
            "1m1h",
            "1.5m",
            "10 s",
            "5x",
            "293y",
            "99999999999999999999999s",
        ] {
            assert!(PromDuration::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(PromDuration::parse("1h30m").unwrap().seconds(), 5400);
        assert_eq!(PromDuration::parse("1500ms").unwrap().seconds(), 1);
        assert_eq!(PromDuration::parse("2m").unwrap().seconds(), 120);
    }
}
