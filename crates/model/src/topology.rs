//! Where the bundle's scrapes go and what they produce, computed once from the profile: every scrape
//! path (static targets, Kubernetes pod discovery, the Operator's ServiceMonitor and PodMonitor,
//! federation) with the `job` it yields and the port and hosts it reaches, the proxy's upstream
//! and the ports the NetworkPolicy opens.
//!
//! The documents and renderers serialize these values (the job relabelings, the monitors'
//! relabelings, the proxy's `proxy_pass`, the policy's ports) and the verify stage's
//! cross-artifact check compares them with what rules, dashboards and the exporter expect, so a
//! disagreement is found before anything is written. The names and ports themselves live in
//! `layout`.

use super::layout::{
    ALERTMANAGER_PORT, ALERT_SINK_PORT, COMPOSE_ALERTMANAGER, COMPOSE_ALERT_SINK, COMPOSE_PROMETHEUS,
    COMPOSE_SOCKUDO, K8S_NAME, METRICS_PORT_NAME, OPERATOR_COMPONENT, POD_MONITOR_COMPONENT, PROMETHEUS_PORT,
    PROXY_PORT_NAME,
};
use super::profile::Profile;

/// How a scrape path finds its targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PathKind {
    /// `static_configs` in `prometheus.yml`.
    Static,
    /// `kubernetes_sd_configs` with `role: pod` in `prometheus.yml`.
    PodDiscovery,
    /// The Prometheus Operator's ServiceMonitor.
    ServiceMonitor,
    /// The Prometheus Operator's PodMonitor (a kustomize component).
    PodMonitor,
    /// `/federate` of another Prometheus; its series keep their own `job` (`honor_labels`).
    Federation,
}

impl PathKind {
    /// The `discovery` label each path's targets carry, so one lost path shows up beside the
    /// others that share its `job`.
    pub fn discovery_label(self) -> &'static str {
        match self {
            PathKind::Static => "static",
            PathKind::PodDiscovery => "kubernetes-pods",
            PathKind::ServiceMonitor => "servicemonitor",
            PathKind::PodMonitor => "podmonitor",
            PathKind::Federation => "federation",
        }
    }
}

/// One way Prometheus reaches Sockudo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScrapePath {
    /// How the path finds its targets.
    pub kind: PathKind,
    /// The artifact that defines the path, for problems (`k8s/operator/servicemonitor.yaml`).
    pub defined_in: String,
    /// The `job` the scraper assigns before any relabeling: the scrape config's `job_name`, or
    /// what the Operator derives (the Service name for a ServiceMonitor, `namespace/name` for a
    /// PodMonitor).
    pub default_job: String,
    /// The `job` a relabeling rule (Prometheus `relabel_configs`, the monitors' `relabelings`)
    /// overwrites it with, if any.
    pub job_relabel: Option<String>,
    /// The port the path reaches, with where that number comes from.
    pub port: Option<u16>,
    /// The hosts reached (static targets); empty for discovered pods (their pod IP).
    pub hosts: Vec<String>,
}

impl ScrapePath {
    /// The `job` label the path's series end up with; `None` for federation, whose series keep
    /// the job the other Prometheus gave them.
    pub fn job(&self) -> Option<&str> {
        if self.kind == PathKind::Federation {
            return None;
        }
        Some(self.job_relabel.as_deref().unwrap_or(&self.default_job))
    }

    /// True for the paths that scrape pods inside the cluster.
    pub fn in_cluster(&self) -> bool {
        matches!(
            self.kind,
            PathKind::PodDiscovery | PathKind::ServiceMonitor | PathKind::PodMonitor
        )
    }
}

/// A `host:port`, with IPv6 hosts kept in brackets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    /// The host name or IP; an IPv6 literal keeps the brackets it was written with.
    pub host: String,
    /// The port; `None` when there is none or it is not a number.
    pub port: Option<u16>,
}

impl Address {
    /// Splits `host:port`, `[v6]:port` or a bare host; a port that is not a number is `None`.
    pub fn parse(text: &str) -> Address {
        let (host, port) = match text.rsplit_once(':') {
            Some((host, port)) if !host.is_empty() && (!host.contains(':') || host.ends_with(']')) => {
                (host, port.parse().ok())
            }
            _ => (text, None),
        };
        Address {
            host: host.to_string(),
            port,
        }
    }

    /// True for a host only this machine reaches (`localhost`, `127.*`, `::1`).
    pub fn is_loopback(&self) -> bool {
        matches!(
            self.host.as_str(),
            "localhost" | "[::1]" | "::1" | "ip6-localhost"
        ) || self.host.starts_with("127.")
    }
}

impl std::fmt::Display for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.port {
            Some(port) => write!(f, "{}:{port}", self.host),
            None => f.write_str(&self.host),
        }
    }
}

/// The nginx proxy's route from its listen port to the exporter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyRoute {
    /// The port nginx listens on (`proxy.listen_port`).
    pub listen_port: u16,
    /// Where nginx forwards `/metrics`.
    pub upstream: Address,
    /// Where the upstream comes from: `proxy.upstream` when the profile sets one, else derived
    /// from `metrics.host`/`metrics.port` (which `--config` and `METRICS_*` override).
    pub upstream_key: &'static str,
}

/// The ports the NetworkPolicy names: the scrape ports (only the profile's peers) and the app's
/// own ports (everyone). Real ports only: `endPort` ranges are ignored by some network plugins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyPorts {
    /// The metrics port and the proxy's port, open to the profile's peers only.
    pub guarded: Vec<u16>,
    /// The app's ports (`kubernetes.network_policy.app_ports`), open to everyone.
    pub open: Vec<u16>,
}

/// The compose stack's own addresses: every one is a service of the stack, so it runs as it is
/// on one machine, whatever the profile says about the real deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComposePlan {
    /// What the stack's Prometheus scrapes: Sockudo's service, on the proxy's port when nginx
    /// (which shares Sockudo's network namespace) fronts it, else on the metrics port.
    pub scrape_target: Address,
    /// The stack's Alertmanager, as Prometheus reaches it.
    pub alertmanager: Address,
    /// The stack's Prometheus, as Grafana reaches it.
    pub prometheus_url: String,
    /// The stack's alert sink, where every receiver of the stack's Alertmanager posts.
    pub alert_sink: Address,
}

/// Every scrape path of one environment, its proxy and its NetworkPolicy ports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topology {
    /// The job every rule and dashboard selects (`prometheus.job_name`).
    pub job: String,
    /// The port Prometheus scrapes on pods (the proxy's when it fronts the exporter), with its
    /// container port name.
    pub pod_port: (&'static str, u16),
    /// The exporter's own address, as the server will bind it.
    pub exporter: Address,
    /// Every scrape path the profile turns on.
    pub paths: Vec<ScrapePath>,
    /// The nginx proxy's route; `None` with the proxy off.
    pub proxy: Option<ProxyRoute>,
    /// The NetworkPolicy's ports; `None` with the NetworkPolicy off.
    pub policy: Option<PolicyPorts>,
    /// The compose stack's own addresses.
    pub compose: ComposePlan,
}

impl Topology {
    /// Derives the scrape paths, the proxy's route, the policy's ports and the compose stack's
    /// addresses from the profile.
    pub fn derive(profile: &Profile) -> Topology {
        let job = profile.prometheus.job_name.clone();
        let pod_port = if profile.proxy.enabled {
            (PROXY_PORT_NAME, profile.proxy.listen_port)
        } else {
            (METRICS_PORT_NAME, profile.metrics.port)
        };
        let exporter = Address {
            host: bracketed(&profile.metrics.host),
            port: Some(profile.metrics.port),
        };
        let mut paths = Vec::new();
        let static_targets = &profile.prometheus.static_targets;
        if !static_targets.is_empty() {
            let addresses: Vec<Address> = static_targets.iter().map(|t| Address::parse(&t.target)).collect();
            let ports: Vec<u16> = addresses.iter().filter_map(|a| a.port).collect();
            // One port for the path when every target agrees; otherwise the first that differs
            // from the scrape port, for the check to report.
            let port = ports
                .iter()
                .copied()
                .find(|p| *p != pod_port.1)
                .or(ports.first().copied());
            paths.push(ScrapePath {
                kind: PathKind::Static,
                defined_in: "prometheus/prometheus.yml".into(),
                default_job: job.clone(),
                job_relabel: None,
                port: if ports.len() == addresses.len() {
                    port
                } else {
                    None
                },
                hosts: addresses.iter().map(|a| a.host.clone()).collect(),
            });
        }
        if profile.prometheus.kubernetes_sd.enabled {
            paths.push(ScrapePath {
                kind: PathKind::PodDiscovery,
                defined_in: "prometheus/prometheus.yml".into(),
                default_job: format!("{job}-pods"),
                job_relabel: Some(job.clone()),
                port: Some(pod_port.1),
                hosts: Vec::new(),
            });
        }
        let k8s = &profile.kubernetes;
        if k8s.operator.enabled {
            paths.push(ScrapePath {
                kind: PathKind::ServiceMonitor,
                defined_in: format!("k8s/{OPERATOR_COMPONENT}/servicemonitor.yaml"),
                default_job: K8S_NAME.into(),
                job_relabel: Some(job.clone()),
                port: Some(pod_port.1),
                hosts: Vec::new(),
            });
            paths.push(ScrapePath {
                kind: PathKind::PodMonitor,
                defined_in: format!("k8s/{POD_MONITOR_COMPONENT}/podmonitor.yaml"),
                default_job: format!("{}/{K8S_NAME}", k8s.namespace),
                job_relabel: Some(job.clone()),
                port: Some(pod_port.1),
                hosts: Vec::new(),
            });
        }
        if let Some(federation) = &profile.prometheus.federation {
            paths.push(ScrapePath {
                kind: PathKind::Federation,
                defined_in: "prometheus/prometheus.yml".into(),
                default_job: federation.job_name.clone(),
                job_relabel: None,
                port: None,
                hosts: Vec::new(),
            });
        }
        let proxy = profile.proxy.enabled.then(|| match &profile.proxy.upstream {
            Some(upstream) => ProxyRoute {
                listen_port: profile.proxy.listen_port,
                upstream: Address::parse(upstream),
                upstream_key: "proxy.upstream",
            },
            None => ProxyRoute {
                listen_port: profile.proxy.listen_port,
                upstream: Address {
                    host: reachable_host(&profile.metrics.host),
                    port: Some(profile.metrics.port),
                },
                upstream_key: "metrics.host/metrics.port",
            },
        });
        let policy = k8s.network_policy.enabled.then(|| {
            let mut guarded = vec![profile.metrics.port];
            if profile.proxy.enabled {
                guarded.push(profile.proxy.listen_port);
            }
            guarded.sort_unstable();
            guarded.dedup();
            let mut open = k8s.network_policy.app_ports.clone();
            open.sort_unstable();
            open.dedup();
            PolicyPorts { guarded, open }
        });
        let compose = ComposePlan {
            scrape_target: Address {
                host: COMPOSE_SOCKUDO.into(),
                port: Some(pod_port.1),
            },
            alertmanager: Address {
                host: COMPOSE_ALERTMANAGER.into(),
                port: Some(ALERTMANAGER_PORT),
            },
            prometheus_url: format!("http://{COMPOSE_PROMETHEUS}:{PROMETHEUS_PORT}"),
            alert_sink: Address {
                host: COMPOSE_ALERT_SINK.into(),
                port: Some(ALERT_SINK_PORT),
            },
        };
        Topology {
            job,
            pod_port,
            exporter,
            paths,
            proxy,
            policy,
            compose,
        }
    }

    /// The path of `kind`, if the profile turns it on.
    pub fn path(&self, kind: PathKind) -> Option<&ScrapePath> {
        self.paths.iter().find(|p| p.kind == kind)
    }

    /// The job a relabeling gives `kind`'s targets, for the renderer that writes it.
    pub fn job_relabel(&self, kind: PathKind) -> Option<&str> {
        self.path(kind).and_then(|p| p.job_relabel.as_deref())
    }
}

/// Where a file the profile names lands in a container: absolute paths as they are, relative ones
/// below `base`, the directory the program resolves them against.
pub fn in_container(base: &str, path: &str) -> String {
    if path.starts_with('/') {
        path.to_string()
    } else {
        format!("{base}/{path}")
    }
}

/// An IPv6 literal in brackets, anything else as it is.
pub fn bracketed(host: &str) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

/// The host a proxy beside the exporter connects to: the wildcard addresses become loopback.
fn reachable_host(bind: &str) -> String {
    match bind {
        "0.0.0.0" | "" => "127.0.0.1".into(),
        "::" | "[::]" => "[::1]".into(),
        other => bracketed(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_split_with_ipv6_brackets() {
        let a = Address::parse("[fd00::1]:9602");
        assert_eq!((a.host.as_str(), a.port), ("[fd00::1]", Some(9602)));
        let a = Address::parse("sockudo:9601");
        assert_eq!((a.host.as_str(), a.port), ("sockudo", Some(9601)));
        let a = Address::parse("fd00::1");
        assert_eq!((a.host.as_str(), a.port), ("fd00::1", None));
        assert!(Address::parse("127.0.0.1:1").is_loopback());
        assert!(!Address::parse("sockudo:1").is_loopback());
        assert_eq!(reachable_host("0.0.0.0"), "127.0.0.1");
        assert_eq!(reachable_host("::"), "[::1]");
        assert_eq!(reachable_host("::1"), "[::1]");
    }
}
