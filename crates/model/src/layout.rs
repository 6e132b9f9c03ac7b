//! The bundle's layout: every path an artifact is written to or refers to, and the names and
//! constants more than one stage shares (Kubernetes object names, kustomize components, compose
//! services, the labels the scrape jobs add, the alert severities). A leaf: it imports nothing
//! from the bundle, so any stage may read it and no renderer needs to read another's constants.

// ---- Paths inside the bundle ----

/// `prometheus.yml` for the deployment, and where it finds the rule files, relative to itself.
pub const PROMETHEUS_CONFIG_PATH: &str = "prometheus/prometheus.yml";
pub(crate) const RULE_FILES: &str = "rules/*.yml";
/// The compose stack's own `prometheus.yml`, beside its `docker-compose.yml`.
pub const COMPOSE_CONFIG_PATH: &str = "compose/prometheus/prometheus.yml";
/// The compose stack's own Alertmanager config: every receiver posts to the stack's sink.
pub const COMPOSE_ALERTMANAGER_PATH: &str = "compose/alertmanager/alertmanager.yml";
/// The nginx config of the stack's alert sink.
pub const COMPOSE_ALERT_SINK_CONF_PATH: &str = "compose/alert-sink/alert-sink.conf";
/// The compose stack's datasource provisioning, beside its `docker-compose.yml`.
pub const COMPOSE_DATASOURCES_PATH: &str = "compose/grafana/datasources/prometheus.yml";
/// The host's nginx proxy config.
pub const NGINX_CONF_PATH: &str = "nginx/sockudo-metrics.conf";

/// Where the rule file of the spec with file stem `stem` goes, relative to the bundle root.
pub fn rule_file_path(stem: &str) -> String {
    format!("prometheus/rules/{stem}.yml")
}

// ---- Grafana ----

/// The Grafana folder: the dashboard files, their provisioning, and the kustomization that makes
/// the Grafana sidecar's ConfigMaps from those same files (`k8s/kustomization.yaml` lists the
/// folder as a resource: kustomize reads no file outside a kustomization's own folder).
pub const GRAFANA_DIR: &str = "grafana";
/// The dashboard files, relative to [`GRAFANA_DIR`].
pub const DASHBOARDS_DIR: &str = "dashboards";

/// The file name of the dashboard with uid `uid`: also its key in the sidecar's ConfigMap.
pub fn dashboard_file_name(uid: &str) -> String {
    format!("{uid}.json")
}

/// The file of the dashboard with uid `uid`, relative to [`GRAFANA_DIR`]: one file, which
/// provisioned Grafana and kustomize both read.
pub fn dashboard_file(uid: &str) -> String {
    format!("{DASHBOARDS_DIR}/{}", dashboard_file_name(uid))
}

/// Where provisioned Grafana looks for the dashboard files (the compose stack mounts them here).
pub const DASHBOARDS_MOUNT: &str = "/var/lib/grafana/dashboards/sockudo";
/// The provisioned datasource's uid; fixed so links from other dashboards keep working.
pub const DATASOURCE_UID: &str = "sockudo-prometheus";

// ---- Prometheus ----

/// Labels the Kubernetes job adds to every series (namespace and pod name); the check allows them
/// when that job is on.
pub const KUBERNETES_LABELS: [&str; 2] = ["namespace", "pod"];

/// The path every scrape reads: the one the server serves.
pub use crate::config::METRICS_PATH;

/// The pod annotations the bundle's own pod discovery selects (`scrape`, `port`, `path`): private
/// to this bundle, so the stock `prometheus.io/*` jobs of other tools leave the authenticated port
/// alone.
pub(crate) const SCRAPE_ANNOTATIONS: [&str; 3] = [
    "sockudo-obs.io/scrape",
    "sockudo-obs.io/port",
    "sockudo-obs.io/path",
];

/// The `__meta_kubernetes_pod_annotation_<name>` label Prometheus's pod discovery gives an
/// annotation: every character outside `[A-Za-z0-9_]` becomes `_`.
pub fn pod_annotation_label(annotation: &str) -> String {
    let name: String = annotation
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("__meta_kubernetes_pod_annotation_{name}")
}

// ---- Alerts ----

/// The page: someone acts now.
pub(crate) const CRITICAL: &str = "critical";
/// The ticket: someone acts within working hours.
pub const WARNING: &str = "warning";
/// The note: nobody has to act.
pub const INFO: &str = "info";
/// The severities an alert may carry, most urgent first, each routed to its own Alertmanager
/// receiver.
pub const SEVERITIES: [&str; 3] = [CRITICAL, WARNING, INFO];
/// The anchor of an alert's runbook section (`## SockudoHighErrorRate` → `sockudohigherrorrate`),
/// as GitHub and most Markdown renderers derive it.
pub fn runbook_anchor(alert: &str) -> String {
    alert
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect::<String>()
        .to_ascii_lowercase()
}

/// Every alert name starts with this, but the heartbeat's.
pub const ALERT_NAME_PREFIX: &str = "Sockudo";
/// The always-firing dead man's switch (kube-prometheus' name), routed to the heartbeat
/// receiver, never inhibited; its severity is `HEARTBEAT_SEVERITY`, outside `SEVERITIES`.
pub const HEARTBEAT_ALERT: &str = "Watchdog";
/// The heartbeat's severity: it pages nobody, its absence does.
pub const HEARTBEAT_SEVERITY: &str = "none";

// ---- Kubernetes and nginx ----

/// The name shared by the metrics Service, the monitors and the rules in Kubernetes.
pub const K8S_NAME: &str = "sockudo-metrics";
/// The container port name of the nginx sidecar, and of the metrics port without the proxy.
pub(crate) const PROXY_PORT_NAME: &str = "proxy";
pub(crate) const METRICS_PORT_NAME: &str = "metrics";
/// Sockudo's WebSocket and HTTP API port (its default `port`).
pub const DEFAULT_APP_PORT: u16 = 6001;
/// The kustomize components under `k8s/`: the Operator's objects (which need its CRDs), the
/// PodMonitor swap, and the pod patch (annotations and the nginx sidecar).
pub const OPERATOR_COMPONENT: &str = "operator";
/// The PodMonitor swap: a PodMonitor in place of the ServiceMonitor.
pub const POD_MONITOR_COMPONENT: &str = "pod-monitor";
/// The pod patch: the scrape annotations and the nginx sidecar.
pub const WORKLOAD_COMPONENT: &str = "workload";
/// The sidecar's nginx config inside the workload component, and where nginx reads it.
pub const SIDECAR_CONF_FILE: &str = "sockudo-metrics.conf";
/// The folder the sidecar mounts its nginx config in, where nginx reads it.
pub const NGINX_CONF_DIR: &str = "/etc/nginx/conf.d";
/// nginx resolves relative paths (`auth_basic_user_file`) against its prefix.
pub const NGINX_PREFIX: &str = "/etc/nginx";
/// Where the sidecar mounts the htpasswd Secret, a whole folder (never one file by `subPath`,
/// which the kubelet does not update): a rotated Secret reaches nginx, which reads the file on
/// every request, within the kubelet's sync period, with no restart.
pub const SIDECAR_HTPASSWD_DIR: &str = "/etc/nginx/sockudo-metrics-htpasswd";

/// The htpasswd file as the sidecar reads it: `key` of the Secret, in [`SIDECAR_HTPASSWD_DIR`].
pub fn sidecar_htpasswd_file(key: &str) -> String {
    format!("{SIDECAR_HTPASSWD_DIR}/{key}")
}

/// The target label naming the scrape path a series came through (`static`, `kubernetes-pods`,
/// `servicemonitor`, `podmonitor`): the paths share one `job`, so this is what tells a lost
/// Kubernetes discovery apart from VMs that still answer.
pub const DISCOVERY_LABEL: &str = "discovery";

// ---- The compose stack ----

/// The compose stack's Sockudo service, which the stack's Prometheus scrapes.
pub const COMPOSE_SOCKUDO: &str = "sockudo";
/// The compose stack's Prometheus service, which the stack's Grafana queries.
pub const COMPOSE_PROMETHEUS: &str = "prometheus";
/// The compose stack's Alertmanager service, which the stack's Prometheus alerts.
pub const COMPOSE_ALERTMANAGER: &str = "alertmanager";
/// The compose stack's Grafana service, with the dashboards provisioned.
pub const COMPOSE_GRAFANA: &str = "grafana";
/// The compose stack's nginx service, the proxy in front of Sockudo (only with the proxy on).
pub const COMPOSE_NGINX: &str = "nginx";
/// A stand-in for every Alertmanager receiver, so a laptop stack never pages anyone.
pub const COMPOSE_ALERT_SINK: &str = "alert-sink";
/// The port the alert sink listens on; it answers every request with `204`.
pub const ALERT_SINK_PORT: u16 = 8080;
/// What the compose stack appends to the `environment` label, so its series and alerts are never
/// taken for the real environment's.
pub(crate) const COMPOSE_ENVIRONMENT_SUFFIX: &str = "-compose";
/// Prometheus's port in the compose stack, where Grafana reaches it.
pub const PROMETHEUS_PORT: u16 = 9090;
/// Where a Prometheus serves its own metrics unless the profile says otherwise
/// (`prometheus.listen_address`): its default `--web.listen-address`, on [`PROMETHEUS_PORT`].
pub(crate) const PROMETHEUS_DEFAULT_LISTEN_ADDRESS: &str = "localhost:9090";
/// Alertmanager's port in the compose stack, where Prometheus reaches it.
pub const ALERTMANAGER_PORT: u16 = 9093;
/// The jobs scraping the bundle's Prometheus itself and its Alertmanagers, whose metrics the
/// self-monitoring alerts read; `prometheus.job_name` must be neither.
pub const SELF_MONITORING_JOBS: [&str; 2] = ["prometheus", "alertmanager"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_listen_address_is_on_the_prometheus_port() {
        let port = PROMETHEUS_DEFAULT_LISTEN_ADDRESS
            .rsplit_once(':')
            .map(|(_, port)| port);
        assert_eq!(port, Some(PROMETHEUS_PORT.to_string().as_str()));
    }
}
