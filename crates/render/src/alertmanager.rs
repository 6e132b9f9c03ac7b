//! Renders `alertmanager/alertmanager.yml`: the Watchdog heartbeat first, on a route of its own to
//! the profile's heartbeat URL (or a null receiver); then one route per severity, each to a receiver
//! posting to that severity's webhook URL from the profile and notifying its native integrations
//! (PagerDuty, Slack, Opsgenie, email; secrets read from files by Alertmanager), muted during the
//! profile's `mute_time_intervals` for that severity; and inhibition of an instance's warnings and infos while
//! an alert says it is gone or unobservable. Grouping and inhibition are per cluster and namespace, so one
//! Alertmanager can serve several environments without one's alerts merging with or silencing
//! another's.

use serde::Serialize;
use sockudo_obs_model::Result;

use sockudo_obs_model::layout::{HEARTBEAT_ALERT, INFO, SEVERITIES, WARNING};
use sockudo_obs_model::model::Model;
use sockudo_obs_model::output::Output;
use sockudo_obs_model::profile::{AlertmanagerSection, Integrations, PromDuration, TimeInterval};

/// The label naming the cluster an alert comes from: the profile's `prometheus.external_labels`
/// set it on every alert leaving its Prometheus.
const CLUSTER_LABEL: &str = "cluster";
/// Alerts of one alertname in one cluster, namespace and job travel together: five pods down are
/// one notification, not five (never grouped by `instance`).
const GROUP_BY: [&str; 4] = ["alertname", CLUSTER_LABEL, "namespace", "job"];
/// Receivers are `sockudo-<severity>`.
const RECEIVER_PREFIX: &str = "sockudo";
/// Where alerts without one of [`SEVERITIES`] go.
const DEFAULT_SEVERITY: &str = WARNING;
/// The labels an inhibiting alert and the alerts it silences share: the same cluster and namespace
/// (a staging alert never silences production's), the same job and instance.
const INHIBIT_EQUAL: [&str; 4] = [CLUSTER_LABEL, "namespace", "job", "instance"];

#[derive(Serialize)]
struct AlertmanagerConfig {
    route: Route,
    receivers: Vec<Receiver>,
    inhibit_rules: Vec<InhibitRule>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    time_intervals: Vec<NamedTimeInterval>,
}

/// A window of the profile's `alertmanager.time_intervals`, as Alertmanager names it.
#[derive(Serialize)]
struct NamedTimeInterval {
    name: String,
    time_intervals: Vec<TimeInterval>,
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
    mute_time_intervals: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    routes: Vec<Route>,
}

#[derive(Serialize, Default)]
struct Receiver {
    name: String,
    /// Empty for the null receiver, which notifies nobody.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    webhook_configs: Vec<WebhookConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pagerduty_configs: Vec<PagerDutyConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    slack_configs: Vec<SlackConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    opsgenie_configs: Vec<OpsgenieConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    email_configs: Vec<EmailConfig>,
}

/// Alertmanager's `pagerduty_configs` entry: the key is read from its file.
#[derive(Serialize)]
struct PagerDutyConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    routing_key_file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    service_key_file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
    send_resolved: bool,
}

#[derive(Serialize)]
struct SlackConfig {
    api_url_file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    channel: Option<String>,
    send_resolved: bool,
}

#[derive(Serialize)]
struct OpsgenieConfig {
    api_key_file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    api_url: Option<String>,
    send_resolved: bool,
}

#[derive(Serialize)]
struct EmailConfig {
    to: String,
    from: String,
    smarthost: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    auth_username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    auth_password_file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    require_tls: Option<bool>,
    send_resolved: bool,
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
        mute_time_intervals: Vec::new(),
        routes: Vec::new(),
    }
}

/// The receiver of `severity`: its webhook, and the native integrations the profile gives it.
fn severity_receiver(severity: &str, url: &str, integrations: Option<&Integrations>) -> Receiver {
    let mut receiver = Receiver {
        name: receiver_name(severity),
        webhook_configs: vec![WebhookConfig {
            url: url.to_string(),
            send_resolved: true,
        }],
        ..Receiver::default()
    };
    let Some(integrations) = integrations else {
        return receiver;
    };
    if let Some(pd) = &integrations.pagerduty {
        receiver.pagerduty_configs.push(PagerDutyConfig {
            routing_key_file: pd.routing_key_file.clone(),
            service_key_file: pd.service_key_file.clone(),
            url: pd.url.clone(),
            send_resolved: true,
        });
    }
    if let Some(slack) = &integrations.slack {
        receiver.slack_configs.push(SlackConfig {
            api_url_file: slack.api_url_file.clone(),
            channel: slack.channel.clone(),
            send_resolved: true,
        });
    }
    if let Some(opsgenie) = &integrations.opsgenie {
        receiver.opsgenie_configs.push(OpsgenieConfig {
            api_key_file: opsgenie.api_key_file.clone(),
            api_url: opsgenie.api_url.clone(),
            send_resolved: true,
        });
    }
    if let Some(email) = &integrations.email {
        receiver.email_configs.push(EmailConfig {
            to: email.to.clone(),
            from: email.from.clone(),
            smarthost: email.smarthost.clone(),
            auth_username: email.auth_username.clone(),
            auth_password_file: email.auth_password_file.clone(),
            require_tls: email.require_tls,
            send_resolved: true,
        });
    }
    receiver
}

/// The profile's windows, for the top-level `time_intervals`.
fn time_intervals(am: &AlertmanagerSection) -> Vec<NamedTimeInterval> {
    am.time_intervals
        .iter()
        .map(|(name, intervals)| NamedTimeInterval {
            name: name.clone(),
            time_intervals: intervals.clone(),
        })
        .collect()
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
        target_matchers: vec![severity_is(&[WARNING, INFO]), format!("alertname!~\"{names}\"")],
        equal: INHIBIT_EQUAL.map(String::from).to_vec(),
    }]
}

pub(crate) fn render(model: &Model, out: &mut Output) -> Result<()> {
    let am = &model.profile.alertmanager;
    // One receiver per severity, each posting to its own URL, so a page and a ticket never share
    // a channel. The root route catches alerts without a known severity (other rules sharing this
    // Alertmanager) as warnings.
    let mut receivers: Vec<Receiver> = am
        .receivers
        .by_severity()
        .iter()
        .map(|(severity, url)| severity_receiver(severity, url, am.integrations.get(*severity)))
        .collect();
    receivers.push(match &am.heartbeat_url {
        Some(url) => Receiver {
            name: HEARTBEAT_RECEIVER.into(),
            webhook_configs: vec![WebhookConfig {
                url: url.clone(),
                send_resolved: false,
            }],
            ..Receiver::default()
        },
        None => Receiver {
            name: NULL_RECEIVER.into(),
            ..Receiver::default()
        },
    });
    let severity_routes = SEVERITIES.iter().map(|severity| Route {
        receiver: receiver_name(severity),
        group_by: Vec::new(),
        matchers: vec![severity_is(&[*severity])],
        group_wait: None,
        group_interval: None,
        repeat_interval: None,
        mute_time_intervals: am.mute_time_intervals.get(*severity).cloned().unwrap_or_default(),
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
            mute_time_intervals: Vec::new(),
            routes: child_routes,
        },
        receivers,
        inhibit_rules: inhibit_rules(),
        time_intervals: time_intervals(am),
    };
    out.add_yaml("alertmanager/alertmanager.yml", &config)
}
