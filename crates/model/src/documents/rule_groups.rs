//! Renders `prometheus/rules/<stem>.yml`: one rule group per spec file, recording rules first so
//! the alerts of the group read values computed in the same evaluation.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::profile::PromDuration;
use crate::rules::RuleFile;

/// A rule file as Prometheus reads it.
#[derive(Debug, Clone, Serialize)]
pub struct RuleGroups {
    pub groups: Vec<RuleGroup>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RuleGroup {
    name: String,
    rules: Vec<Rule>,
}

/// A recording or an alerting rule, as Prometheus reads it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Rule {
    #[serde(skip_serializing_if = "Option::is_none")]
    record: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    alert: Option<String>,
    expr: String,
    #[serde(rename = "for", skip_serializing_if = "Option::is_none")]
    for_: Option<PromDuration>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    labels: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    annotations: BTreeMap<String, String>,
}

/// The typed rule groups of one spec file.
pub(crate) fn rule_groups(file: &RuleFile) -> RuleGroups {
    let records = file.recording.iter().map(|r| Rule {
        record: Some(r.record.clone()),
        alert: None,
        expr: r.expr.clone(),
        for_: None,
        labels: BTreeMap::new(),
        annotations: BTreeMap::new(),
    });
    let alerts = file.alerts.iter().map(|a| Rule {
        record: None,
        alert: Some(a.name.clone()),
        expr: a.expr.clone(),
        for_: a.for_.clone(),
        labels: a.labels(),
        annotations: a.annotations(),
    });
    RuleGroups {
        groups: vec![RuleGroup {
            name: file.group(),
            rules: records.chain(alerts).collect(),
        }],
    }
}
