//! The Prometheus Operator's `ScrapeConfig` (`monitoring.coreos.com/v1alpha1`) of the static
//! targets: under the Operator, the instances outside the cluster are scraped by this, with the
//! same job, target groups (`instance`, `environment`, `discovery` labels) and basic auth as the
//! plain Prometheus's static job, the password read from the Secret the monitors read.
//!
//! It sits in the profile's namespace beside the ServiceMonitor, with the same selector labels,
//! so the Prometheus that selects the monitors (kube-prometheus-stack: `release` label, every
//! namespace) selects it too; the Secret it reads must be in that namespace.

use serde::Serialize;

use super::kube::{operator_metadata, BasicAuthRefs, Object};
use super::scrape_config::{static_target_groups, Deployment, StaticConfig};
use crate::bundle::layout::{K8S_NAME, METRICS_PATH};

pub const SCRAPE_CONFIG_API: &str = "monitoring.coreos.com/v1alpha1";

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
    pub static_configs: Vec<StaticConfig>,
}

/// The ScrapeConfig of the static targets, when the Operator is on and there are any.
pub fn static_scrape_config(model: &Deployment<'_>) -> Option<Object<ScrapeConfigBody>> {
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
    // Over TLS when the proxy has certificates. The ScrapeConfig takes a CA only from a Secret
    // or ConfigMap, never a file: `proxy.tls.ca_file` does not carry over, the system's CAs verify.
    let tls = profile.proxy.enabled && profile.proxy.tls.is_some();
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
                static_configs: static_target_groups(model),
            },
        },
    })
}
