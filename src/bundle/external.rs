//! The metrics of other exporters that the bundle's own rules read: the Prometheus and the
//! Alertmanager the bundle ships, which its self-monitoring alerts (`alerts/self-monitoring.yaml`)
//! watch. Declared once, here, with their kind and labels; the expression check accepts exactly
//! these besides the catalogue, and holds them to the same rules (a counter inside `rate`, a
//! label the metric has).
//!
//! Names and labels were read off `/metrics` of Prometheus 2.53 and 3.5 and Alertmanager 0.28
//! and 0.33: they are the same in both generations. What differs is when a series appears:
//! Prometheus 2 exposes `prometheus_remote_storage_queue_highest_sent_timestamp_seconds` only
//! once a queue has sent something, Prometheus 3 from the start (at 0).

use crate::catalogue::Kind;

/// Who exposes the metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exporter {
    Prometheus,
    Alertmanager,
}

/// One metric of another exporter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExternalMetric {
    pub name: &'static str,
    pub kind: Kind,
    /// Its own labels, besides `job` and `instance`.
    pub labels: &'static [&'static str],
    pub exporter: Exporter,
}

const fn prometheus(name: &'static str, kind: Kind, labels: &'static [&'static str]) -> ExternalMetric {
    ExternalMetric {
        name,
        kind,
        labels,
        exporter: Exporter::Prometheus,
    }
}

/// The labels of a remote-write queue's series.
const QUEUE: &[&str] = &["remote_name", "url"];

pub const EXTERNAL_METRICS: &[ExternalMetric] = &[
    prometheus(
        "prometheus_rule_evaluation_failures_total",
        Kind::Counter,
        &["rule_group"],
    ),
    prometheus(
        "prometheus_rule_evaluations_total",
        Kind::Counter,
        &["rule_group"],
    ),
    prometheus(
        "prometheus_notifications_alertmanagers_discovered",
        Kind::Gauge,
        &[],
    ),
    prometheus(
        "prometheus_notifications_errors_total",
        Kind::Counter,
        &["alertmanager"],
    ),
    prometheus(
        "prometheus_notifications_sent_total",
        Kind::Counter,
        &["alertmanager"],
    ),
    prometheus(
        "prometheus_remote_storage_highest_timestamp_in_seconds",
        Kind::Gauge,
        &[],
    ),
    prometheus(
        "prometheus_remote_storage_queue_highest_sent_timestamp_seconds",
        Kind::Gauge,
        QUEUE,
    ),
    ExternalMetric {
        name: "alertmanager_notifications_failed_total",
        kind: Kind::Counter,
        labels: &["integration", "reason"],
        exporter: Exporter::Alertmanager,
    },
    ExternalMetric {
        name: "alertmanager_notifications_total",
        kind: Kind::Counter,
        labels: &["integration"],
        exporter: Exporter::Alertmanager,
    },
];

/// The declared metric of this name.
pub fn find(name: &str) -> Option<&'static ExternalMetric> {
    EXTERNAL_METRICS.iter().find(|m| m.name == name)
}
