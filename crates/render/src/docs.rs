//! Renders the docs: `README.md` (how to apply this bundle), `METRICS.md` (the metrics reference,
//! generated from the catalogue in the layout of Sockudo's metrics page) and `RUNBOOK.md` (one
//! section per alert, which each alert's `runbook_url` points at).

use serde::Serialize;
use sockudo_obs_model::Result;

use crate::templates;
use sockudo_obs_model::catalogue::{Domain, Group, CATALOGUE, FIRST_USE_FAMILIES};
use sockudo_obs_model::config::MetricsConfig;
use sockudo_obs_model::layout::{
    runbook_anchor, OPERATOR_COMPONENT, POD_MONITOR_COMPONENT, WORKLOAD_COMPONENT,
};
use sockudo_obs_model::model::Model;
use sockudo_obs_model::output::Output;
use sockudo_obs_model::rules::Runbook;
use sockudo_obs_model::topology::PathKind;
use sockudo_obs_sockudo::coverage::{coverage, Build, COVERED_SERVER};

pub(crate) fn render(model: &Model, out: &mut Output) -> Result<()> {
    let context = DocsContext::new(model);
    for (template, path) in [
        ("README.md.j2", "README.md"),
        ("METRICS.md.j2", "METRICS.md"),
        ("RUNBOOK.md.j2", "RUNBOOK.md"),
    ] {
        out.add_markdown(path, &templates::render(model, template, &context)?);
    }
    Ok(())
}

/// What the runbook says about one alert.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct RunbookEntry {
    pub name: String,
    pub severity: String,
    /// The alert's static summary annotation.
    pub summary: String,
    /// The alert's templated description annotation, shown as written.
    pub description: String,
    /// What to check and do, in Markdown.
    pub runbook: String,
}

/// The alerts of the bundle, in rule-file order, each with its runbook as Markdown.
fn runbook_entries(model: &Model) -> Vec<RunbookEntry> {
    model
        .rules
        .alerts()
        .map(|(_, alert)| RunbookEntry {
            name: alert.name.clone(),
            severity: alert.severity.clone().unwrap_or_default(),
            summary: alert.summary.clone().unwrap_or_default(),
            description: alert.description.clone().unwrap_or_default(),
            runbook: alert.runbook.as_ref().map(runbook_markdown).unwrap_or_default(),
        })
        .collect()
}

fn runbook_markdown(runbook: &Runbook) -> String {
    let sections = [
        ("Meaning", &runbook.meaning),
        ("Impact", &runbook.impact),
        ("Diagnosis", &runbook.diagnosis),
        ("Mitigation", &runbook.mitigation),
    ];
    let parts: Vec<String> = sections
        .iter()
        .map(|(heading, text)| format!("**{heading}.** {}", text.trim()))
        .collect();
    parts.join("\n\n")
}

#[derive(Debug, Serialize)]
struct DocsContext {
    env: String,
    description: String,
    prefix: String,
    metrics_host: String,
    metrics_port: u16,
    proxy_enabled: bool,
    proxy_port: u16,
    htpasswd_file: String,
    basic_auth_username: Option<String>,
    namespace: String,
    operator_enabled: bool,
    basic_auth_secret: Option<String>,
    network_policy_enabled: bool,
    pod_monitor_component: &'static str,
    operator_component: &'static str,
    workload_component: &'static str,
    kubernetes_sd_enabled: bool,
    deployment: String,
    htpasswd_secret: String,
    htpasswd_key: String,
    prometheus_service_account: String,
    /// Where the plain Prometheus runs, and its ConfigMap with it.
    prometheus_namespace: String,
    app_ports: Vec<u16>,
    proxy_tls: bool,
    /// The hosts of the static targets (the VMs), for the firewall rules.
    static_hosts: Vec<String>,
    compose_scrape_target: String,
    compose_alertmanager: String,
    /// The profile's receiver URLs, one per severity.
    receiver_urls: String,
    /// `(path, what it holds)` of each secret file the Alertmanager config reads.
    alertmanager_secret_files: Vec<(String, &'static str)>,
    sockudo_image: String,
    dashboards: Vec<DashboardDoc>,
    datasource_url: String,
    runbook_url: String,
    defaults: ConfigDefaults,
    groups: Vec<GroupDoc>,
    alerts: Vec<AlertDoc>,
    covered_server: &'static str,
    /// The coverage table's columns.
    builds: Vec<&'static str>,
    /// The server the coverage notes speak of (empty when the profile's server feeds everything).
    unfed_server: String,
    /// Alerts left out because they read a family that server does not feed:
    /// `alert (families)`.
    unfed_alerts: Vec<String>,
    /// Panels reading a family that server does not feed: `dashboard: panel (families)`.
    unfed_panels: Vec<String>,
}

#[derive(Debug, Serialize)]
struct DashboardDoc {
    uid: String,
    title: String,
}

/// The server's own defaults, for the config section of METRICS.md.
#[derive(Debug, Serialize)]
struct ConfigDefaults {
    /// As the JSON spells it (templates would print a bool as `True`).
    enabled: String,
    host: String,
    port: u16,
    prefix: String,
}

#[derive(Debug, Serialize)]
struct GroupDoc {
    title: &'static str,
    metrics: Vec<MetricDoc>,
}

#[derive(Debug, Serialize)]
struct MetricDoc {
    name: String,
    kind: &'static str,
    unit: &'static str,
    help: &'static str,
    labels: Vec<LabelDoc>,
    buckets: String,
    /// Its series appear on first use instead of at zero.
    first_use: bool,
    /// What each build of the real server feeds, in the coverage table's column order.
    feeds: Vec<FeedDoc>,
}

#[derive(Debug, Serialize)]
struct FeedDoc {
    build: &'static str,
    /// `fed`, `partly fed`, `not fed`.
    feed: &'static str,
    /// The server calls that feed it.
    from: &'static str,
    /// What is missing (partly fed) or what would feed it (not fed).
    detail: &'static str,
}

#[derive(Debug, Serialize)]
struct LabelDoc {
    name: &'static str,
    values: String,
}

#[derive(Debug, Serialize)]
struct AlertDoc {
    #[serde(flatten)]
    entry: RunbookEntry,
    anchor: String,
}

impl DocsContext {
    fn new(model: &Model) -> DocsContext {
        let profile = &model.profile;
        let defaults = MetricsConfig::default();
        DocsContext {
            env: model.env.clone(),
            description: profile.description.clone(),
            prefix: model.prefix().to_string(),
            metrics_host: profile.metrics.host.clone(),
            metrics_port: profile.metrics.port,
            proxy_enabled: profile.proxy.enabled,
            proxy_port: profile.proxy.listen_port,
            htpasswd_file: profile.proxy.htpasswd_file.clone(),
            basic_auth_username: profile.prometheus.basic_auth.as_ref().map(|a| a.username.clone()),
            namespace: profile.kubernetes.namespace.clone(),
            operator_enabled: profile.kubernetes.operator.enabled,
            basic_auth_secret: profile
                .kubernetes
                .operator
                .basic_auth_secret
                .as_ref()
                .map(|s| s.name.clone()),
            network_policy_enabled: profile.kubernetes.network_policy.enabled,
            pod_monitor_component: POD_MONITOR_COMPONENT,
            operator_component: OPERATOR_COMPONENT,
            workload_component: WORKLOAD_COMPONENT,
            kubernetes_sd_enabled: profile.prometheus.kubernetes_sd.enabled,
            deployment: profile.kubernetes.workload.deployment.clone(),
            htpasswd_secret: profile.kubernetes.proxy_sidecar.htpasswd_secret.clone(),
            htpasswd_key: profile.kubernetes.proxy_sidecar.htpasswd_key.clone(),
            prometheus_namespace: profile.kubernetes.prometheus_service_account.namespace.clone(),
            prometheus_service_account: {
                let account = &profile.kubernetes.prometheus_service_account;
                format!("{}/{}", account.namespace, account.name)
            },
            app_ports: profile.kubernetes.network_policy.app_ports.clone(),
            proxy_tls: profile.proxy.tls.is_some(),
            compose_scrape_target: model.topology.compose.scrape_target.to_string(),
            compose_alertmanager: model.topology.compose.alertmanager.to_string(),
            receiver_urls: {
                let r = &profile.alertmanager.receivers;
                format!(
                    "critical `{}`, warning `{}`, info `{}`",
                    r.critical, r.warning, r.info
                )
            },
            alertmanager_secret_files: profile.alertmanager.secret_files(),
            sockudo_image: profile.compose.sockudo_image.clone(),
            static_hosts: model
                .topology
                .path(PathKind::Static)
                .map(|p| p.hosts.clone())
                .unwrap_or_default(),
            dashboards: model
                .dashboards
                .items
                .iter()
                .map(|d| DashboardDoc {
                    uid: d.spec.uid.clone(),
                    title: d.spec.title.clone(),
                })
                .collect(),
            datasource_url: profile.grafana.datasource_url.clone(),
            runbook_url: profile.docs.runbook_url.clone(),
            defaults: ConfigDefaults {
                enabled: defaults.enabled.to_string(),
                host: defaults.host,
                port: defaults.port,
                prefix: defaults.prefix,
            },
            groups: metric_groups(model.prefix()),
            covered_server: COVERED_SERVER,
            builds: Build::ALL.iter().map(|b| b.title()).collect(),
            unfed_server: match model.unfed.build {
                Some(build) => format!("{} ({})", model.unfed.server, build.title()),
                None => String::new(),
            },
            unfed_alerts: model
                .unfed
                .alerts
                .iter()
                .map(|(alert, families)| format!("`{alert}` ({})", families.join(", ")))
                .collect(),
            unfed_panels: model
                .unfed
                .panels
                .iter()
                .map(|((dashboard, panel), families)| {
                    format!("{dashboard}: {panel} ({})", families.join(", "))
                })
                .collect(),
            alerts: runbook_entries(model)
                .into_iter()
                .map(|entry| AlertDoc {
                    anchor: runbook_anchor(&entry.name),
                    entry,
                })
                .collect(),
        }
    }
}

/// The catalogue grouped under the metrics page's headings, names under the active prefix.
fn metric_groups(prefix: &str) -> Vec<GroupDoc> {
    Group::ALL
        .iter()
        .map(|&group| GroupDoc {
            title: group.title(),
            metrics: CATALOGUE
                .iter()
                .filter(|m| m.group == group)
                .map(|m| {
                    let row = coverage(m.name);
                    MetricDoc {
                        first_use: FIRST_USE_FAMILIES.contains(&m.name),
                        feeds: Build::ALL
                            .iter()
                            .filter_map(|&build| {
                                let cell = row?.on(build);
                                Some(FeedDoc {
                                    build: build.title(),
                                    feed: cell.feed.as_str(),
                                    from: cell.from,
                                    detail: cell.feed.detail(),
                                })
                            })
                            .collect(),
                        name: m.full_name(prefix),
                        kind: m.kind.as_str(),
                        unit: m.unit.as_str(),
                        help: m.help,
                        labels: m
                            .labels
                            .iter()
                            .map(|l| LabelDoc {
                                name: l.name,
                                values: domain_text(l.domain),
                            })
                            .collect(),
                        buckets: m
                            .buckets
                            .iter()
                            .map(f64::to_string)
                            .collect::<Vec<_>>()
                            .join(", "),
                    }
                })
                .collect(),
        })
        .collect()
}

fn domain_text(domain: Domain) -> String {
    match domain {
        Domain::Enum(values) => {
            let quoted: Vec<String> = values.iter().map(|v| format!("`{v}`")).collect();
            format!("one of {}", quoted.join(", "))
        }
        Domain::RouteTemplate => "a route template such as `/apps/:app_id/events`, never a raw path".into(),
        Domain::Status => "an HTTP status code (three digits)".into(),
        Domain::Capped => "a free-form name; the server caps how many distinct values it records".into(),
        Domain::Build => "one value per process, set when the library starts".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_follow_markdown_heading_ids() {
        assert_eq!(runbook_anchor("SockudoHighErrorRate"), "sockudohigherrorrate");
    }

    #[test]
    fn every_catalogue_metric_is_documented_once() {
        let documented: usize = metric_groups("x_").iter().map(|g| g.metrics.len()).sum();
        assert_eq!(documented, CATALOGUE.len());
    }
}
