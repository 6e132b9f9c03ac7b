//! The metrics outside the catalogue that the bundle's own rules read: the Prometheus and the
//! Alertmanager the bundle ships, which its self-monitoring alerts (`alerts/self-monitoring.yaml`)
//! watch, and the standard process metrics of the server (`alerts/process.yaml`). Declared once,
//! here, with their kind and labels; the expression check accepts exactly these besides the
//! catalogue, and holds them to the same rules (a counter inside `rate`, a label the metric has).
//!
//! Names and labels were read off `/metrics` of Prometheus 2.53 and 3.5 and Alertmanager 0.28
//! and 0.33: they are the same in both generations. What differs is when a series appears:
//! Prometheus 2 exposes `prometheus_remote_storage_queue_highest_sent_timestamp_seconds` only
//! once a queue has sent something, Prometheus 3 from the start (at 0).

use crate::catalogue::Kind;

/// Who exposes the metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exporter {
    /// The bundle's Prometheus, which scrapes itself.
    Prometheus,
    /// The Alertmanagers the bundle's Prometheus sends alerts to, and scrapes.
    Alertmanager,
    /// The `process_*` families every Prometheus client library exports, unprefixed. The drop-in
    /// `sockudo-metrics` driver serves them (its `process` module reads `/proc/self` at each
    /// scrape; absent elsewhere than Linux), as the stock Sockudo driver did; a server linking
    /// only this crate's library does not, and its process alerts stay silent.
    Process,
}

/// One metric of another exporter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExternalMetric {
    /// The metric's full name, as the expressions spell it.
    pub name: &'static str,
    /// Its type, which the expression check holds the rules to (a counter inside `rate`).
    pub kind: Kind,
    /// Its own labels, besides `job` and `instance`.
    pub labels: &'static [&'static str],
    /// Who exposes it.
    pub exporter: Exporter,
}

const fn process(name: &'static str, kind: Kind) -> ExternalMetric {
    ExternalMetric {
        name,
        kind,
        labels: &[],
        exporter: Exporter::Process,
    }
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

/// Every metric outside the catalogue that the bundle's rules may read.
pub const EXTERNAL_METRICS: &[ExternalMetric] = &[
    process("process_cpu_seconds_total", Kind::Counter),
    process("process_resident_memory_bytes", Kind::Gauge),
    process("process_virtual_memory_bytes", Kind::Gauge),
    process("process_open_fds", Kind::Gauge),
    process("process_max_fds", Kind::Gauge),
    process("process_start_time_seconds", Kind::Gauge),
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
