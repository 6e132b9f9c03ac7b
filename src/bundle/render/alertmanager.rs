//! Renders `alertmanager/alertmanager.yml`: the Watchdog heartbeat first, on a route of its own to
//! the profile's heartbeat URL (or a null receiver); then one route per severity, each to a webhook receiver on
//! that severity's URL from the profile, and inhibition of an instance's warnings and infos while
//! an alert says it is gone or unobservable. Grouping and inhibition are per cluster and namespace, so one
//! Alertmanager can serve several environments without one's alerts merging with or silencing
//! another's.

use anyhow::Result;
use serde::Serialize;

use crate::bundle::layout::{HEARTBEAT_ALERT, SEVERITIES};
use crate::bundle::model::Model;
use crate::bundle::output::Output;
use crate::bundle::profile::PromDuration;

/// The label naming the cluster an alert comes from: the profile's `prometheus.external_labels`
/// set it on every alert leaving its Prometheus.
const CLUSTER_LABEL: &str = "cluster";
/// Alerts of one alertname in one cluster, namespace and job travel together: five pods down are
/// one notification, not five (never grouped by `instance`).
const GROUP_BY: [&str; 4] = ["alertname", CLUSTER_LABEL, "namespace", "job"];
/// Receivers are `sockudo-<severity>`.
const RECEIVER_PREFIX: &str = "sockudo";
/// Where alerts without one of [`SEVERITIES`] go.
const DEFAULT_SEVERITY: &str = "warning";
/// The labels an inhibiting alert and the alerts it silences share: the same cluster and namespace
/// (a staging alert never silences production's), the same job and instance.
const INHIBIT_EQUAL: [&str; 4] = [CLUSTER_LABEL, "namespace", "job", "instance"];

#[derive(Serialize)]
struct AlertmanagerConfig {
    route: Route,
    receivers: Vec<Receiver>,
    inhibit_rules: Vec<InhibitRule>,
}

#[derive(Serialize)]
struct Route {
    receiver: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    group_by: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    matchers: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    group_wait: Option<PromDuration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    group_interval: Option<PromDuration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    repeat_interval: Option<PromDuration>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    routes: Vec<Route>,
}

#[derive(Serialize)]
struct Receiver {
    name: String,
    /// Empty for the null receiver, which notifies nobody.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    webhook_configs: Vec<WebhookConfig>,
}

#[derive(Serialize)]
struct WebhookConfig {
    url: String,
    send_resolved: bool,
}

/// An inhibition: while an alert matching `source_matchers` fires, alerts matching
/// `target_matchers` with the same `equal` labels are not notified.
#[derive(Debug, Serialize)]
struct InhibitRule {
    source_matchers: Vec<String>,
    target_matchers: Vec<String>,
    equal: Vec<String>,
}

/// The heartbeat's receiver: the profile's `heartbeat_url`, or nobody.
const HEARTBEAT_RECEIVER: &str = "sockudo-heartbeat";
const NULL_RECEIVER: &str = "null";
/// The heartbeat is re-sent this often: the heartbeat service alarms after a few missed ones.
const HEARTBEAT_REPEAT: &str = "1m";

/// The Watchdog's route, first of all: a group of its own (by alertname and cluster, so each
/// Prometheus's heartbeat is its own), sent at once and then every [`HEARTBEAT_REPEAT`]. No
/// inhibition targets it (they target warnings and infos; its severity is `none`).
fn heartbeat_route(has_url: bool) -> Route {
    let minute = || Some(PromDuration::parse(HEARTBEAT_REPEAT).expect("valid literal"));
    Route {
        receiver: (if has_url {
            HEARTBEAT_RECEIVER
        } else {
            NULL_RECEIVER
        })
        .to_string(),
        group_by: vec!["alertname".into(), CLUSTER_LABEL.into()],
        matchers: vec![format!("alertname=\"{HEARTBEAT_ALERT}\"")],
        group_wait: Some(PromDuration::parse("0s").expect("valid literal")),
        group_interval: minute(),
        repeat_interval: minute(),
        routes: Vec::new(),
    }
}

fn receiver_name(severity: &str) -> String {
    format!("{RECEIVER_PREFIX}-{severity}")
}

/// A matcher on the `severity` label, for routes and inhibitions.
fn severity_is(severities: &[&str]) -> String {
    match severities {
        [one] => format!("severity=\"{one}\""),
        many => format!("severity=~\"{}\"", many.join("|")),
    }
}

/// The alerts that say an instance (or the whole job) is gone or unobservable: while one fires,
/// the other warnings and infos of that instance are noise (a down target also looks flapping, a
/// target exposing the wrong names trips no threshold). Named rather than found by severity: under
/// the paging policy a critical is a symptom users feel, and a latency page must not hide the
/// same pod's connection warning.
const GONE_OR_BLIND: [&str; 3] = ["SockudoJobAbsent", "SockudoInstanceDown", "SockudoMetricsAbsent"];

/// The inhibitions. Alerts match on `cluster`, `namespace`, `job` and `instance`; an alert
/// without `instance` (a job-wide one, such as SockudoJobAbsent) only silences job-wide alerts,
/// since Alertmanager compares a missing label as empty.
fn inhibit_rules() -> Vec<InhibitRule> {
    let names = GONE_OR_BLIND.join("|");
    vec![InhibitRule {
        source_matchers: vec![format!("alertname=~\"{names}\"")],
        target_matchers: vec![
            severity_is(&["warning", "info"]),
            format!("alertname!~\"{names}\""),
        ],
        equal: INHIBIT_EQUAL.map(String::from).to_vec(),
    }]
}

pub fn render(model: &Model, out: &mut Output) -> Result<()> {
    let am = &model.profile.alertmanager;
    // One receiver per severity, each posting to its own URL, so a page and a ticket never share
    // a channel. The root route catches alerts without a known severity (other rules sharing this
    // Alertmanager) as warnings.
    let mut receivers: Vec<Receiver> = am
        .receivers
        .by_severity()
        .iter()
        .map(|(severity, url)| Receiver {
            name: receiver_name(severity),
            webhook_configs: vec![WebhookConfig {
                url: url.to_string(),
                send_resolved: true,
            }],
        })
        .collect();
    receivers.push(match &am.heartbeat_url {
        Some(url) => Receiver {
            name: HEARTBEAT_RECEIVER.into(),
            webhook_configs: vec![WebhookConfig {
                url: url.clone(),
                send_resolved: false,
            }],
        },
        None => Receiver {
            name: NULL_RECEIVER.into(),
            webhook_configs: Vec::new(),
        },
    });
    let severity_routes = SEVERITIES.iter().map(|severity| Route {
        receiver: receiver_name(severity),
        group_by: Vec::new(),
        matchers: vec![severity_is(&[*severity])],
        group_wait: None,
        group_interval: None,
        repeat_interval: None,
        routes: Vec::new(),
    });
    let child_routes = std::iter::once(heartbeat_route(am.heartbeat_url.is_some()))
        .chain(severity_routes)
        .collect();
    let config = AlertmanagerConfig {
        route: Route {
            receiver: receiver_name(DEFAULT_SEVERITY),
            group_by: GROUP_BY.map(String::from).to_vec(),
            matchers: Vec::new(),
            group_wait: Some(am.group_wait.clone()),
            group_interval: Some(am.group_interval.clone()),
            repeat_interval: Some(am.repeat_interval.clone()),
            routes: child_routes,
        },
        receivers,
        inhibit_rules: inhibit_rules(),
    };
    out.add_yaml("alertmanager/alertmanager.yml", &config)
}
