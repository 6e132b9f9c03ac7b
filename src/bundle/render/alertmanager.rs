//! Renders `alertmanager/alertmanager.yml`: one route per severity, each to a webhook receiver on
//! the profile's URL, and inhibition of warnings by criticals.

use anyhow::Result;
use serde::Serialize;

use crate::bundle::check::rules::SEVERITIES;
use crate::bundle::model::Model;
use crate::bundle::output::Output;
use crate::bundle::profile::PromDuration;

/// Alerts of one alertname on one instance travel together.
const GROUP_BY: [&str; 3] = ["alertname", "job", "instance"];
const DEFAULT_RECEIVER: &str = "sockudo";

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
    webhook_configs: Vec<WebhookConfig>,
}

#[derive(Serialize)]
struct WebhookConfig {
    url: String,
    send_resolved: bool,
}

#[derive(Serialize)]
struct InhibitRule {
    source_matchers: Vec<String>,
    target_matchers: Vec<String>,
    equal: Vec<String>,
}

fn receiver_name(severity: &str) -> String {
    format!("{DEFAULT_RECEIVER}-{severity}")
}

pub fn render(model: &Model, out: &mut Output) -> Result<()> {
    let am = &model.profile.alertmanager;
    // One receiver per severity, all posting to the one webhook: the payload's `receiver` field
    // tells the alert router how urgent the group is.
    let receivers = std::iter::once(DEFAULT_RECEIVER.to_string())
        .chain(SEVERITIES.iter().map(|s| receiver_name(s)))
        .map(|name| Receiver {
            name,
            webhook_configs: vec![WebhookConfig {
                url: am.webhook_url.clone(),
                send_resolved: true,
            }],
        })
        .collect();
    let child_routes = SEVERITIES
        .iter()
        .map(|severity| Route {
            receiver: receiver_name(severity),
            group_by: Vec::new(),
            matchers: vec![format!("severity=\"{severity}\"")],
            group_wait: None,
            group_interval: None,
            repeat_interval: None,
            routes: Vec::new(),
        })
        .collect();
    let config = AlertmanagerConfig {
        route: Route {
            receiver: DEFAULT_RECEIVER.into(),
            group_by: GROUP_BY.map(String::from).to_vec(),
            matchers: Vec::new(),
            group_wait: Some(am.group_wait.clone()),
            group_interval: Some(am.group_interval.clone()),
            repeat_interval: Some(am.repeat_interval.clone()),
            routes: child_routes,
        },
        receivers,
        inhibit_rules: vec![
            // A critical alert makes the warning of the same alert on the same instance noise.
            InhibitRule {
                source_matchers: vec!["severity=\"critical\"".into()],
                target_matchers: vec!["severity=\"warning\"".into()],
                equal: vec!["alertname".into(), "instance".into()],
            },
            // A target that is down explains every other symptom of that instance.
            InhibitRule {
                source_matchers: vec!["alertname=\"SockudoInstanceDown\"".into()],
                target_matchers: vec!["severity=~\"warning|info\"".into()],
                equal: vec!["job".into(), "instance".into()],
            },
        ],
    };
    out.add_yaml("alertmanager/alertmanager.yml", &config)
}
