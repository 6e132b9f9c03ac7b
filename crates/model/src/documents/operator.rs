//! The Prometheus Operator's `ScrapeConfig` (`monitoring.coreos.com/v1alpha1`) of the static
//! targets: under the Operator, the instances outside the cluster are scraped by this, with the
//! same job, target groups (`instance`, `environment`, `discovery` labels) and basic auth as the
//! plain Prometheus's static job, the password read from the Secret the monitors read.
//!
//! It sits in the profile's namespace beside the ServiceMonitor, with the same selector labels,
//! so the Prometheus that selects the monitors (kube-prometheus-stack: `release` label, every
//! namespace) selects it too; the Secret it reads must be in that namespace.

use serde::Serialize;

use super::kube::{operator_metadata, BasicAuthRefs, Object, SecretKey};
use super::scrape_config::{static_target_groups, Deployment, StaticConfig};
use crate::layout::{K8S_NAME, METRICS_PATH};

pub(crate) const SCRAPE_CONFIG_API: &str = "monitoring.coreos.com/v1alpha1";

#[derive(Debug, Clone, Serialize)]
pub struct ScrapeConfigBody {
    pub spec: ScrapeConfigSpec,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScrapeConfigSpec {
    /// The `job` label of every scraped series (the Operator relabels to it).
    pub job_name: String,
    pub metrics_path: &'static str,
    pub scheme: &'static str,
    pub scrape_interval: String,
    pub scrape_timeout: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub basic_auth: Option<BasicAuthRefs>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_config: Option<SafeTls>,
    pub static_configs: Vec<StaticConfig>,
}

/// The Operator's TLS settings: the CA from a Secret key.
#[derive(Debug, Clone, Serialize)]
pub struct SafeTls {
    pub ca: CaSource,
}

#[derive(Debug, Clone, Serialize)]
pub struct CaSource {
    pub secret: SecretKey,
}

/// The ScrapeConfig of the static targets, when the Operator is on and there are any.
pub(crate) fn static_scrape_config(model: &Deployment<'_>) -> Option<Object<ScrapeConfigBody>> {
    let profile = model.profile;
    let prometheus = &profile.prometheus;
    if !profile.kubernetes.operator.enabled || prometheus.static_targets.is_empty() {
        return None;
    }
    // The validate stage requires the Secret whenever the static job authenticates.
    let basic_auth = prometheus
        .basic_auth
        .as_ref()
        .and(profile.kubernetes.operator.basic_auth_secret.as_ref())
        .map(BasicAuthRefs::of);
    // Over TLS when the proxy has certificates, verified with the CA the plain job reads from
    // `proxy.tls.ca_file`: the ScrapeConfig takes a CA only from a Secret, so the same CA comes
    // from `kubernetes.operator.ca_secret` (the validate stage requires it with a CA file).
    let tls = profile.proxy.enabled && profile.proxy.tls.is_some();
    let tls_config = profile
        .kubernetes
        .operator
        .ca_secret
        .as_ref()
        .filter(|_| tls)
        .map(|ca| SafeTls {
            ca: CaSource {
                secret: SecretKey {
                    name: ca.name.clone(),
                    key: ca.key.clone(),
                },
            },
        });
    Some(Object {
        api_version: SCRAPE_CONFIG_API,
        kind: "ScrapeConfig",
        metadata: operator_metadata(profile, &format!("{K8S_NAME}-static")),
        body: ScrapeConfigBody {
            spec: ScrapeConfigSpec {
                job_name: prometheus.job_name.clone(),
                metrics_path: METRICS_PATH,
                scheme: if tls { "HTTPS" } else { "HTTP" },
                scrape_interval: prometheus.scrape_interval.to_string(),
                scrape_timeout: prometheus.scrape_timeout.to_string(),
                basic_auth,
                tls_config,
                static_configs: static_target_groups(model),
            },
        },
    })
}
