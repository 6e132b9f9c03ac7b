//! The compose stack's own Alertmanager config: the profile's receivers, one per severity, each
//! posting to the stack's alert sink instead of the profile's URL, so a laptop `docker compose up`
//! of any profile (production's included) never pages, tickets or chats anyone. The routing tree
//! is the deployment's (one route per severity); the sink's access log shows what would have been
//! sent where.

use serde::Serialize;

use crate::layout::{SEVERITIES, WARNING};
use crate::profile::{AlertmanagerSection, PromDuration};
use crate::topology::Address;

#[derive(Debug, Clone, Serialize)]
pub struct ComposeAlertmanager {
    pub route: SinkRoute,
    pub receivers: Vec<SinkReceiver>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SinkRoute {
    pub receiver: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub matchers: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_wait: Option<PromDuration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_interval: Option<PromDuration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repeat_interval: Option<PromDuration>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<SinkRoute>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SinkReceiver {
    pub name: String,
    pub webhook_configs: Vec<SinkWebhook>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SinkWebhook {
    pub url: String,
    pub send_resolved: bool,
}

/// The receiver of `severity`, named as in the deployment's Alertmanager config.
fn receiver(severity: &str) -> String {
    format!("sockudo-{severity}")
}

/// Every receiver of the profile, each on its own path of the sink (`/critical`, ...).
pub(crate) fn alertmanager(section: &AlertmanagerSection, sink: &Address) -> ComposeAlertmanager {
    let route = |severity: &str| SinkRoute {
        receiver: receiver(severity),
        matchers: vec![format!("severity=\"{severity}\"")],
        group_wait: None,
        group_interval: None,
        repeat_interval: None,
        routes: Vec::new(),
    };
    ComposeAlertmanager {
        route: SinkRoute {
            receiver: receiver(WARNING),
            matchers: Vec::new(),
            group_wait: Some(section.group_wait.clone()),
            group_interval: Some(section.group_interval.clone()),
            repeat_interval: Some(section.repeat_interval.clone()),
            routes: SEVERITIES.iter().map(|s| route(s)).collect(),
        },
        receivers: section
            .receivers
            .by_severity()
            .iter()
            .map(|(severity, _)| SinkReceiver {
                name: receiver(severity),
                webhook_configs: vec![SinkWebhook {
                    url: format!("http://{sink}/{severity}"),
                    send_resolved: true,
                }],
            })
            .collect(),
    }
}
