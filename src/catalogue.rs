//! The canonical metric catalogue: the one place a metric name is spelled out.
//!
//! The live registry (`crate::live`) registers exactly these metrics, and the bundle generator
//! (`crate::bundle`) checks every PromQL expression against them, so names cannot drift between
//! the server and its rules and dashboards. Names here carry no prefix; the configured prefix
//! (default `sockudo_`) is prepended literally.

use serde::Serialize;

/// The prefix the seed documentation uses and the config defaults to.
pub const DEFAULT_PREFIX: &str = "sockudo_";

/// The Prometheus metric type of a catalogue entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
}

impl Kind {
    pub const fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }
}

/// The section of the metrics page a metric belongs to, in the page's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Group {
    Connection,
    Message,
    Http,
    Channel,
    RateLimit,
    Queue,
    Webhook,
    Cache,
    Adapter,
    /// The library's own health (not on the seed page).
    Exporter,
}

impl Group {
    pub const ALL: [Group; 10] = [
        Group::Connection,
        Group::Message,
        Group::Http,
        Group::Channel,
        Group::RateLimit,
        Group::Queue,
        Group::Webhook,
        Group::Cache,
        Group::Adapter,
        Group::Exporter,
    ];

    /// The heading the seed page gives this group.
    pub const fn title(self) -> &'static str {
        match self {
            Group::Connection => "Connection Metrics",
            Group::Message => "Message Metrics",
            Group::Http => "HTTP API Metrics",
            Group::Channel => "Channel Metrics",
            Group::RateLimit => "Rate Limiting Metrics",
            Group::Queue => "Queue Metrics (if queue is enabled)",
            Group::Webhook => "Webhook Metrics",
            Group::Cache => "Cache Metrics",
            Group::Adapter => "Adapter Metrics",
            Group::Exporter => "Exporter Metrics",
        }
    }
}

/// What a metric's value measures; drives dashboard units and docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    /// A plain count of things (connections, messages, jobs, ...).
    Count,
    Seconds,
    Bytes,
}

impl Unit {
    pub const fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "count",
            Unit::Seconds => "seconds",
            Unit::Bytes => "bytes",
        }
    }
}

/// Where a catalogue entry comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// Promised by the seed metrics page; the seed tests compare these, in the page's order.
    Seed,
    /// Added by sockudo-obs itself (self-monitoring); listed after every seed entry.
    Own,
}

/// How a label's values are bounded; every label is bounded one way or another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "values")]
pub enum Domain {
    /// A closed set of values, known in advance.
    Enum(&'static [&'static str]),
    /// A route template such as `/apps/:app_id/events`, never a raw path.
    RouteTemplate,
    /// An HTTP status code (three digits).
    Status,
    /// Free-form names chosen by the operator or the tenant; capped by the live registry.
    Capped,
}

/// A label name together with the domain of its values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Label {
    pub name: &'static str,
    pub domain: Domain,
}

impl Label {
    /// A label whose values are one of `values`.
    pub const fn closed(name: &'static str, values: &'static [&'static str]) -> Label {
        Label {
            name,
            domain: Domain::Enum(values),
        }
    }

    /// A label with free-form values, capped by the live registry.
    pub const fn capped(name: &'static str) -> Label {
        Label {
            name,
            domain: Domain::Capped,
        }
    }
}

pub const CHANNEL_TYPES: &[&str] = &["public", "private", "presence", "private-encrypted", "cache"];
pub const HTTP_METHODS: &[&str] = &["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
pub const CONNECTION_ERROR_TYPES: &[&str] = &[
    "handshake",
    "auth",
    "protocol",
    "over_quota",
    "app_disabled",
    "app_not_found",
    "internal",
];
pub const LIMITER_TYPES: &[&str] = &["api", "websocket", "client_events", "backend"];
pub const CACHE_OPERATIONS: &[&str] = &["get", "set", "delete", "expire"];
/// The labels the live registry caps (see `live::Limits`); `endpoint` is a route template, bounded
/// by the code, but capped too in case a router hands out too many.
pub const CAPPED_LABELS: &[&str] = &["app_id", "endpoint", "queue", "cache", "adapter", "event"];
pub const ADAPTER_OPERATIONS: &[&str] = &[
    "broadcast",
    "subscribe",
    "unsubscribe",
    "presence_sync",
    "request",
    "publish",
];

pub const APP_ID: Label = Label::capped("app_id");
pub const CHANNEL_TYPE: Label = Label::closed("channel_type", CHANNEL_TYPES);
pub const ERROR_TYPE: Label = Label::closed("error_type", CONNECTION_ERROR_TYPES);
pub const METHOD: Label = Label::closed("method", HTTP_METHODS);
pub const ENDPOINT: Label = Label {
    name: "endpoint",
    domain: Domain::RouteTemplate,
};
pub const STATUS: Label = Label {
    name: "status",
    domain: Domain::Status,
};
pub const LIMITER_TYPE: Label = Label::closed("limiter_type", LIMITER_TYPES);
pub const QUEUE: Label = Label::capped("queue");
pub const EVENT: Label = Label::capped("event");
pub const CACHE: Label = Label::capped("cache");
pub const CACHE_OPERATION: Label = Label::closed("operation", CACHE_OPERATIONS);
pub const ADAPTER: Label = Label::capped("adapter");
pub const ADAPTER_OPERATION: Label = Label::closed("operation", ADAPTER_OPERATIONS);
pub const CAPPED_LABEL: Label = Label::closed("label", CAPPED_LABELS);

/// Request latencies: include 0.1, 0.5 and 1 so the seed's thresholds are real bucket bounds.
pub const LATENCY_BUCKETS: &[f64] = &[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];
/// Background work (queue jobs) runs longer than a request.
pub const JOB_BUCKETS: &[f64] = &[0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];
/// Adapter round trips (Redis, NATS, local) are sub-millisecond to tens of milliseconds.
pub const ADAPTER_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
];
pub const SIZE_BUCKETS: &[f64] = &[64.0, 256.0, 1024.0, 4096.0, 16384.0, 65536.0, 262144.0, 1048576.0];

/// One metric of the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MetricDef {
    /// The name without the prefix.
    pub name: &'static str,
    pub kind: Kind,
    pub help: &'static str,
    pub labels: &'static [Label],
    /// Upper bounds for histograms; empty otherwise.
    pub buckets: &'static [f64],
    pub group: Group,
    pub unit: Unit,
    pub source: Source,
}

impl MetricDef {
    /// The exposed name under `prefix`.
    pub fn full_name(&self, prefix: &str) -> String {
        format!("{prefix}{}", self.name)
    }

    pub fn label_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.labels.iter().map(|l| l.name)
    }

    pub fn has_label(&self, name: &str) -> bool {
        self.labels.iter().any(|l| l.name == name)
    }

    /// Counters whose names break the `_total` convention because the docs fixed them that way.
    pub fn is_naming_exception(&self) -> bool {
        self.kind == Kind::Counter && !self.name.ends_with("_total")
    }
}

const fn counter(
    name: &'static str,
    help: &'static str,
    labels: &'static [Label],
    group: Group,
) -> MetricDef {
    MetricDef {
        name,
        kind: Kind::Counter,
        help,
        labels,
        buckets: &[],
        group,
        unit: Unit::Count,
        source: Source::Seed,
    }
}

const fn gauge(
    name: &'static str,
    help: &'static str,
    labels: &'static [Label],
    group: Group,
    unit: Unit,
) -> MetricDef {
    MetricDef {
        name,
        kind: Kind::Gauge,
        help,
        labels,
        buckets: &[],
        group,
        unit,
        source: Source::Seed,
    }
}

const fn histogram(
    name: &'static str,
    help: &'static str,
    labels: &'static [Label],
    buckets: &'static [f64],
    group: Group,
    unit: Unit,
) -> MetricDef {
    MetricDef {
        name,
        kind: Kind::Histogram,
        help,
        labels,
        buckets,
        group,
        unit,
        source: Source::Seed,
    }
}

use Group as G;

/// A metric of sockudo-obs's own, not on the seed page.
const fn own(def: MetricDef) -> MetricDef {
    MetricDef {
        source: Source::Own,
        ..def
    }
}

/// Every metric Sockudo exposes: the seed page's, in its order, then ours ([`Source::Own`]).
pub const CATALOGUE: &[MetricDef] = &[
    gauge(
        "active_connections",
        "Current number of active WebSocket connections",
        &[APP_ID],
        G::Connection,
        Unit::Count,
    ),
    // The docs fixed this name without `_total`; promtool's lint is told about the exception.
    counter(
        "total_connections",
        "Total number of WebSocket connections established",
        &[APP_ID],
        G::Connection,
    ),
    counter(
        "connection_errors_total",
        "Total number of connection errors",
        &[APP_ID, ERROR_TYPE],
        G::Connection,
    ),
    gauge(
        "connections_per_app",
        "Active connections per application",
        &[APP_ID],
        G::Connection,
        Unit::Count,
    ),
    counter(
        "messages_sent_total",
        "Total number of messages sent by the server",
        &[APP_ID, CHANNEL_TYPE],
        G::Message,
    ),
    counter(
        "messages_received_total",
        "Total number of messages received from clients",
        &[APP_ID, CHANNEL_TYPE],
        G::Message,
    ),
    counter(
        "client_events_total",
        "Total number of client events processed",
        &[APP_ID, CHANNEL_TYPE],
        G::Message,
    ),
    counter(
        "broadcast_messages_total",
        "Total number of messages broadcast to channels",
        &[APP_ID, CHANNEL_TYPE],
        G::Message,
    ),
    counter(
        "http_requests_total",
        "Total number of HTTP API requests",
        &[METHOD, ENDPOINT, STATUS],
        G::Http,
    ),
    histogram(
        "http_request_duration_seconds",
        "HTTP request duration histogram",
        &[METHOD, ENDPOINT],
        LATENCY_BUCKETS,
        G::Http,
        Unit::Seconds,
    ),
    histogram(
        "http_response_size_bytes",
        "HTTP response size histogram",
        &[METHOD, ENDPOINT],
        SIZE_BUCKETS,
        G::Http,
        Unit::Bytes,
    ),
    gauge(
        "active_channels",
        "Current number of active channels",
        &[APP_ID, CHANNEL_TYPE],
        G::Channel,
        Unit::Count,
    ),
    counter(
        "channel_subscriptions_total",
        "Total number of channel subscriptions",
        &[APP_ID, CHANNEL_TYPE],
        G::Channel,
    ),
    counter(
        "channel_unsubscriptions_total",
        "Total number of channel unsubscriptions",
        &[APP_ID, CHANNEL_TYPE],
        G::Channel,
    ),
    // Labelled by app only: a channel name would be unbounded.
    gauge(
        "presence_members",
        "Current number of members in presence channels",
        &[APP_ID],
        G::Channel,
        Unit::Count,
    ),
    counter(
        "rate_limit_triggered_total",
        "Number of times rate limits were triggered",
        &[APP_ID, LIMITER_TYPE],
        G::RateLimit,
    ),
    counter(
        "rate_limit_checks_total",
        "Total number of rate limit checks performed",
        &[APP_ID, LIMITER_TYPE],
        G::RateLimit,
    ),
    counter(
        "queue_jobs_processed_total",
        "Total number of queue jobs processed",
        &[QUEUE],
        G::Queue,
    ),
    counter(
        "queue_jobs_failed_total",
        "Total number of failed queue jobs",
        &[QUEUE],
        G::Queue,
    ),
    gauge(
        "queue_active_jobs",
        "Current number of jobs in the queue",
        &[QUEUE],
        G::Queue,
        Unit::Count,
    ),
    histogram(
        "queue_job_duration_seconds",
        "Queue job processing time histogram",
        &[QUEUE],
        JOB_BUCKETS,
        G::Queue,
        Unit::Seconds,
    ),
    counter(
        "webhooks_sent_total",
        "Total number of webhooks sent",
        &[APP_ID, EVENT],
        G::Webhook,
    ),
    counter(
        "webhooks_failed_total",
        "Total number of failed webhooks",
        &[APP_ID, EVENT],
        G::Webhook,
    ),
    histogram(
        "webhook_duration_seconds",
        "Webhook request duration histogram",
        &[APP_ID],
        LATENCY_BUCKETS,
        G::Webhook,
        Unit::Seconds,
    ),
    counter(
        "cache_hits_total",
        "Total number of cache hits",
        &[CACHE],
        G::Cache,
    ),
    counter(
        "cache_misses_total",
        "Total number of cache misses",
        &[CACHE],
        G::Cache,
    ),
    counter(
        "cache_operations_total",
        "Total number of cache operations",
        &[CACHE, CACHE_OPERATION],
        G::Cache,
    ),
    gauge(
        "cache_memory_usage_bytes",
        "Current cache memory usage",
        &[CACHE],
        G::Cache,
        Unit::Bytes,
    ),
    counter(
        "adapter_operations_total",
        "Total number of adapter operations",
        &[ADAPTER, ADAPTER_OPERATION],
        G::Adapter,
    ),
    counter(
        "adapter_errors_total",
        "Total number of adapter errors",
        &[ADAPTER, ADAPTER_OPERATION],
        G::Adapter,
    ),
    histogram(
        "adapter_latency_seconds",
        "Adapter operation latency histogram",
        &[ADAPTER, ADAPTER_OPERATION],
        ADAPTER_BUCKETS,
        G::Adapter,
        Unit::Seconds,
    ),
    // --- Own metrics (not on the seed page) -------------------------------------------------
    // Past its cap a free-form label's new values share the `__overflow__` series; this says how
    // often that happened, so an alert can tell the operator their per-app series are blurred.
    own(counter(
        "label_overflow_total",
        "Number of new label values folded into the __overflow__ series past their cap",
        &[CAPPED_LABEL],
        G::Exporter,
    )),
];

/// The entries the seed page promises, in its order.
pub fn seed() -> impl Iterator<Item = &'static MetricDef> {
    CATALOGUE.iter().filter(|m| m.source == Source::Seed)
}

/// Families (unprefixed) whose series appear on first use rather than at zero when their app,
/// route, queue, cache or adapter is first resolved: `http_requests_total` (the `status` a route
/// answers with) and the webhook counters (the `event` names an app's webhooks carry; both
/// counters of an event appear together). Their label values cannot be known in advance.
pub const FIRST_USE_FAMILIES: &[&str] = &[
    "http_requests_total",
    "webhooks_sent_total",
    "webhooks_failed_total",
];

/// Looks a metric up by its unprefixed name.
pub fn find(name: &str) -> Option<&'static MetricDef> {
    CATALOGUE.iter().find(|m| m.name == name)
}

/// Resolves an exposed series name (`prefix + name`, or a histogram's `_bucket`/`_sum`/`_count`
/// series) to its catalogue entry and the suffix it carried.
pub fn resolve(prefix: &str, series: &str) -> Option<(&'static MetricDef, SeriesSuffix)> {
    resolve_in(CATALOGUE, prefix, series)
}

/// [`resolve`] against another table (the bundle check takes the catalogue as a parameter so a
/// test can rename a metric and watch the specs break).
pub fn resolve_in<'c>(
    catalogue: &'c [MetricDef],
    prefix: &str,
    series: &str,
) -> Option<(&'c MetricDef, SeriesSuffix)> {
    let find = |name: &str| catalogue.iter().find(|m| m.name == name);
    let bare = series.strip_prefix(prefix)?;
    if let Some(def) = find(bare) {
        return Some((def, SeriesSuffix::None));
    }
    for (suffix, tag) in [
        ("_bucket", SeriesSuffix::Bucket),
        ("_sum", SeriesSuffix::Sum),
        ("_count", SeriesSuffix::Count),
    ] {
        if let Some(def) = bare.strip_suffix(suffix).and_then(find) {
            if def.kind == Kind::Histogram {
                return Some((def, tag));
            }
        }
    }
    None
}

/// Which series of a metric a name refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeriesSuffix {
    None,
    Bucket,
    Sum,
    Count,
}

/// Moves `text` from the default prefix to `prefix`: `sockudo_` is replaced wherever it starts an
/// identifier, i.e. is not preceded by `[A-Za-z0-9_]`. A `:` before it is fine, so recording rule
/// names like `app_id:sockudo_messages_sent:rate5m` move too.
pub fn respell_prefix(text: &str, prefix: &str) -> String {
    if prefix == DEFAULT_PREFIX {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut previous: Option<char> = None;
    while !rest.is_empty() {
        let starts_identifier = !previous.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        if starts_identifier && rest.starts_with(DEFAULT_PREFIX) {
            out.push_str(prefix);
            rest = &rest[DEFAULT_PREFIX.len()..];
            previous = Some('_');
            continue;
        }
        let c = rest.chars().next().expect("not empty");
        out.push(c);
        rest = &rest[c.len_utf8()..];
        previous = Some(c);
    }
    out
}

/// True when `name` is a valid Prometheus metric name (`[a-zA-Z_:][a-zA-Z0-9_:]*`).
pub fn is_valid_metric_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// True when `name` is a valid Prometheus label name (`[a-zA-Z_][a-zA-Z0-9_]*`).
pub fn is_valid_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::collections::BTreeSet;

    const SEED: &str = include_str!("../tests/data/seed-metrics.md");

    /// Names listed under the seed page's "Available Metrics" section, with their section heading.
    fn seed_names() -> Vec<(String, String)> {
        let section = SEED
            .split("## Available Metrics")
            .nth(1)
            .expect("seed has Available Metrics");
        let section = section.split("\n## ").next().unwrap();
        let mut heading = String::new();
        let mut out = Vec::new();
        for line in section.lines() {
            if let Some(h) = line.strip_prefix("### ") {
                heading = h.trim().to_string();
            } else if let Some(rest) = line.strip_prefix("- **`") {
                let name = rest.split('`').next().unwrap();
                out.push((name.to_string(), heading.clone()));
            }
        }
        out
    }

    #[test]
    fn names_match_the_seed_page_exactly_and_in_order() {
        let seed: Vec<String> = seed_names().into_iter().map(|(n, _)| n).collect();
        let ours: Vec<String> = super::seed().map(|m| m.full_name(DEFAULT_PREFIX)).collect();
        assert_eq!(seed.len(), 31, "the seed page lists 31 metrics");
        assert_eq!(ours, seed);
    }

    #[test]
    fn groups_follow_the_seed_headings() {
        for ((name, heading), def) in seed_names().iter().zip(seed()) {
            assert_eq!(def.group.title(), heading, "{name}");
        }
    }

    #[test]
    fn types_follow_the_seed_descriptions() {
        // The seed says "histogram" for histograms, "Current ..." for gauges and "Total"/"Number" for counters.
        let descriptions: Vec<&str> = SEED
            .lines()
            .filter_map(|l| l.strip_prefix("- **`"))
            .filter_map(|l| l.split("`**: ").nth(1))
            .collect();
        assert_eq!(descriptions.len(), seed().count());
        for (desc, def) in descriptions.iter().zip(seed()) {
            let expected = if desc.contains("histogram") {
                Kind::Histogram
            } else if desc.starts_with("Current") || desc.starts_with("Active connections per") {
                Kind::Gauge
            } else {
                Kind::Counter
            };
            assert_eq!(def.kind, expected, "{}: {desc}", def.name);
            assert_eq!(&def.help, desc, "help text of {}", def.name);
        }
    }

    #[test]
    fn every_name_and_label_is_valid_and_unique() {
        let mut seen = BTreeSet::new();
        for def in CATALOGUE {
            assert!(
                is_valid_metric_name(&def.full_name(DEFAULT_PREFIX)),
                "{}",
                def.name
            );
            assert!(seen.insert(def.name), "duplicate {}", def.name);
            let labels: BTreeSet<_> = def.label_names().collect();
            assert_eq!(labels.len(), def.labels.len(), "duplicate label in {}", def.name);
            for l in def.labels {
                assert!(
                    is_valid_label_name(l.name) && l.name != "le",
                    "{}: {}",
                    def.name,
                    l.name
                );
            }
            assert_eq!(
                def.kind == Kind::Histogram,
                !def.buckets.is_empty(),
                "{}",
                def.name
            );
            assert!(
                def.buckets.windows(2).all(|w| w[0] < w[1]),
                "{} buckets ascend",
                def.name
            );
        }
    }

    #[test]
    fn own_entries_follow_every_seed_entry() {
        let first_own = CATALOGUE.iter().position(|m| m.source == Source::Own);
        let first_own = first_own.expect("the overflow counter is ours");
        assert!(CATALOGUE[first_own..].iter().all(|m| m.source == Source::Own));
        assert_eq!(seed().count(), 31);
        assert!(find("label_overflow_total").is_some_and(|m| m.has_label("label")));
    }

    #[test]
    fn http_latency_buckets_hold_the_seed_thresholds() {
        let def = find("http_request_duration_seconds").unwrap();
        for le in [0.1, 0.5, 1.0] {
            assert!(def.buckets.contains(&le), "bucket {le}");
        }
    }

    #[test]
    fn only_total_connections_breaks_the_total_suffix() {
        let exceptions: Vec<_> = CATALOGUE
            .iter()
            .filter(|m| m.is_naming_exception())
            .map(|m| m.name)
            .collect();
        assert_eq!(exceptions, ["total_connections"]);
    }

    #[test]
    fn prefix_moves_only_where_an_identifier_starts() {
        let text = r#"job_instance:sockudo_http_requests:rate5m / sum(rate(sockudo_x_total{job="sockudo"}[5m])) + not_sockudo_y"#;
        assert_eq!(
            respell_prefix(text, "my_company_sockudo_"),
            r#"job_instance:my_company_sockudo_http_requests:rate5m / sum(rate(my_company_sockudo_x_total{job="sockudo"}[5m])) + not_sockudo_y"#
        );
        assert_eq!(respell_prefix(text, DEFAULT_PREFIX), text);
    }

    #[test]
    fn resolve_handles_histogram_series_and_prefixes() {
        assert_eq!(
            resolve("sockudo_", "sockudo_active_connections").unwrap().0.name,
            "active_connections"
        );
        let (def, suffix) = resolve("x_", "x_adapter_latency_seconds_bucket").unwrap();
        assert_eq!(
            (def.name, suffix),
            ("adapter_latency_seconds", SeriesSuffix::Bucket)
        );
        assert!(resolve("sockudo_", "sockudo_active_connections_bucket").is_none());
        assert!(resolve("sockudo_", "other_active_connections").is_none());
    }
}
