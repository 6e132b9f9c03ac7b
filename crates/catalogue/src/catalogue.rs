//! The canonical metric catalogue: the one place a metric name is spelled out.
//!
//! The live registry (`crate::live`) registers exactly these metrics, and the bundle generator
//! (`crate::bundle`) checks every PromQL expression against them, so names cannot drift between
//! the server and its rules and dashboards. Names here carry no prefix; the configured prefix
//! (default `sockudo_`) is prepended literally.
//!
//! Each metric is declared once, in `for_each_metric!` (name, kind, help, labels, buckets, group,
//! unit, first use); [`CATALOGUE`], [`MetricId`], [`FIRST_USE_FAMILIES`] and the live registry's
//! typed families (`live::registration`) are all derived from that declaration. Each closed label
//! domain is declared once, in `closed_labels!`: its [`Label`], its [`Domain::Enum`] list and the
//! enum the live side records with ([`ChannelType`], [`HttpMethod`], ...).

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

/// The prefix the seed documentation uses and the config defaults to.
pub const DEFAULT_PREFIX: &str = "sockudo_";

/// The Prometheus metric type of a catalogue entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Only goes up (a total), read with `rate()`.
    Counter,
    /// Goes up and down (a current level).
    Gauge,
    /// Observations counted into buckets, with their sum and count.
    Histogram,
}

impl Kind {
    /// The word the exposition's `# TYPE` line and the docs use.
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
    /// WebSocket connections and their errors.
    Connection,
    /// Messages sent, received and broadcast, and client events.
    Message,
    /// Requests to the HTTP API: count, duration, response size.
    Http,
    /// Channels, their subscriptions and presence members.
    Channel,
    /// Rate limiter checks and triggers.
    RateLimit,
    /// Queue jobs (when the queue is enabled).
    Queue,
    /// Webhooks sent, failed and their duration.
    Webhook,
    /// Cache hits, misses, operations and memory.
    Cache,
    /// The horizontal adapter (local, Redis, NATS, ...) between nodes.
    Adapter,
    /// The library's own health (not on the seed page).
    Exporter,
}

impl Group {
    /// Every group, in the page's order (the docs list metrics under these headings).
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
    /// A duration in seconds (histograms of latencies).
    Seconds,
    /// A size in bytes.
    Bytes,
}

impl Unit {
    /// The unit's name in the generated metrics reference.
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
    /// One value per process, set once when the library starts (its version, the prefix).
    Build,
}

/// A label name together with the domain of its values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Label {
    /// The label name as exposed.
    pub name: &'static str,
    /// What bounds its values.
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

/// A closed label domain: every value is known at compile time, declared once in
/// `closed_labels!` below, which gives both the enum the live side records with and the
/// catalogue's [`Domain::Enum`] list.
pub trait LabelValue: Copy + Eq + 'static {
    /// The catalogue label this enum spells the values of.
    const LABEL: Label;
    /// Every value, in the catalogue's order; `index()` is the position in this slice.
    const ALL: &'static [Self];
    /// The exposed label value.
    fn as_str(self) -> &'static str;
    /// Position in [`LabelValue::ALL`], used to index pre-resolved handle arrays.
    fn index(self) -> usize;
}

/// A string that is not one of a closed label's values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownLabelValue {
    /// The label whose values were searched.
    pub label: &'static str,
    /// The string that matched none of them.
    pub value: String,
}

impl fmt::Display for UnknownLabelValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} is not a known {} value", self.value, self.label)
    }
}

impl std::error::Error for UnknownLabelValue {}

/// Declares closed label domains, each once: the [`Label`] constant (`LABEL = "name"`), its value
/// list (`VALUES`, the [`Domain::Enum`] the generator checks against) and the enum the live side
/// records with, whose `as_str()` values are that list, in order.
macro_rules! closed_labels {
    ($(
        $(#[$meta:meta])*
        $label:ident = $name:literal, $values:ident, enum $enum:ident {
            $($(#[$vmeta:meta])* $variant:ident => $value:literal,)+
        }
    )+) => {$(
        #[doc = concat!("Every value of the `", $name, "` label, in order: the [`", stringify!($enum), "`] values as exposed.")]
        pub const $values: &[&str] = &[$($value,)+];
        #[doc = concat!("The `", $name, "` label, whose values are [`", stringify!($values), "`].")]
        pub const $label: Label = Label::closed($name, $values);

        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $enum {
            $(
                $(#[$vmeta])*
                #[doc = ""]
                #[doc = concat!("Exposed as `", $name, "=\"", $value, "\"`.")]
                $variant,
            )+
        }

        impl $enum {
            /// Every value, in the catalogue's order.
            pub const ALL: &'static [$enum] = &[$($enum::$variant,)+];
            /// How many values the domain has (the length of the handle arrays).
            pub const COUNT: usize = Self::ALL.len();

            /// The exposed label value.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($enum::$variant => $value,)+
                }
            }
        }

        impl LabelValue for $enum {
            const LABEL: Label = $label;
            const ALL: &'static [Self] = $enum::ALL;

            fn as_str(self) -> &'static str {
                $enum::as_str(self)
            }

            #[inline]
            fn index(self) -> usize {
                self as usize
            }
        }

        impl fmt::Display for $enum {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $enum {
            type Err = UnknownLabelValue;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::ALL.iter().copied().find(|v| v.as_str() == s).ok_or_else(|| UnknownLabelValue {
                    label: $name,
                    value: s.to_string(),
                })
            }
        }
    )+};
}

closed_labels! {
    /// The Pusher channel kinds, told apart by the channel name's prefix.
    CHANNEL_TYPE = "channel_type", CHANNEL_TYPES, enum ChannelType {
        Public => "public",
        Private => "private",
        Presence => "presence",
        PrivateEncrypted => "private-encrypted",
        Cache => "cache",
    }

    /// HTTP request methods of the REST API.
    METHOD = "method", HTTP_METHODS, enum HttpMethod {
        Get => "GET",
        Head => "HEAD",
        Post => "POST",
        Put => "PUT",
        Patch => "PATCH",
        Delete => "DELETE",
        Options => "OPTIONS",
    }

    /// Why a WebSocket connection failed or was refused.
    ERROR_TYPE = "error_type", CONNECTION_ERROR_TYPES, enum ErrorType {
        /// The WebSocket upgrade itself failed.
        Handshake => "handshake",
        /// A bad signature or a refused channel authorisation.
        Auth => "auth",
        /// A malformed or unexpected Pusher protocol frame.
        Protocol => "protocol",
        /// The app's connection or message quota is used up.
        OverQuota => "over_quota",
        AppDisabled => "app_disabled",
        AppNotFound => "app_not_found",
        /// A server-side failure.
        Internal => "internal",
    }

    /// Which rate limiter made a decision.
    LIMITER_TYPE = "limiter_type", LIMITER_TYPES, enum LimiterType {
        /// The HTTP API.
        Api => "api",
        /// WebSocket frames from a connection.
        Websocket => "websocket",
        /// Client events (`client-*`) from a connection.
        ClientEvents => "client_events",
        /// The backend (HTTP API publish) per app.
        Backend => "backend",
    }

    /// What was done to a cache.
    CACHE_OPERATION = "operation", CACHE_OPERATIONS, enum CacheOperation {
        Get => "get",
        Set => "set",
        Delete => "delete",
        Expire => "expire",
    }

    /// The capped labels, as `label_overflow_total` names them (see `live::Limits`); `endpoint` is
    /// a route template, bounded by the code, but capped too in case a router hands out too many.
    CAPPED_LABEL = "label", CAPPED_LABELS, enum CappedLabel {
        AppId => "app_id",
        Endpoint => "endpoint",
        Queue => "queue",
        Cache => "cache",
        Adapter => "adapter",
        Event => "event",
    }

    /// What the horizontal adapter (local, Redis, NATS, ...) was asked to do.
    ADAPTER_OPERATION = "operation", ADAPTER_OPERATIONS, enum AdapterOperation {
        Broadcast => "broadcast",
        Subscribe => "subscribe",
        Unsubscribe => "unsubscribe",
        PresenceSync => "presence_sync",
        Request => "request",
        Publish => "publish",
    }
}

/// The Pusher app a series belongs to; tenants are many, so the live registry caps it.
pub const APP_ID: Label = Label::capped("app_id");
/// The HTTP API route a request matched, as its template.
pub const ENDPOINT: Label = Label {
    name: "endpoint",
    domain: Domain::RouteTemplate,
};
/// The HTTP status code a request was answered with.
pub const STATUS: Label = Label {
    name: "status",
    domain: Domain::Status,
};
/// The name of the queue a job ran on.
pub const QUEUE: Label = Label::capped("queue");
/// The event name a webhook carried.
pub const EVENT: Label = Label::capped("event");
/// The name of the cache an operation went to.
pub const CACHE: Label = Label::capped("cache");
/// The name of the horizontal adapter (local, Redis, NATS, ...).
pub const ADAPTER: Label = Label::capped("adapter");
/// The library's own version (`CARGO_PKG_VERSION`), on `build_info`.
pub const VERSION: Label = Label {
    name: "version",
    domain: Domain::Build,
};
/// The metric-name prefix the library was configured with, on `build_info`.
pub const PREFIX: Label = Label {
    name: "prefix",
    domain: Domain::Build,
};

/// Request latencies: include 0.1, 0.5 and 1 so the seed's thresholds are real bucket bounds.
pub const LATENCY_BUCKETS: &[f64] = &[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];
/// Background work (queue jobs) runs longer than a request.
pub const JOB_BUCKETS: &[f64] = &[0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];
/// Adapter round trips (Redis, NATS, local) are sub-millisecond to tens of milliseconds.
pub const ADAPTER_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
];
/// Response sizes: 64 bytes to 1 MiB, in steps of four.
pub const SIZE_BUCKETS: &[f64] = &[64.0, 256.0, 1024.0, 4096.0, 16384.0, 65536.0, 262144.0, 1048576.0];

/// One metric of the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MetricDef {
    /// The name without the prefix.
    pub name: &'static str,
    /// Its Prometheus type, which also picks the live family's type.
    pub kind: Kind,
    /// The `# HELP` text (the seed page's description, for a seed metric).
    pub help: &'static str,
    /// Its labels, in exposition order.
    pub labels: &'static [Label],
    /// Upper bounds for histograms; empty otherwise.
    pub buckets: &'static [f64],
    /// The section of the metrics page it is listed under.
    pub group: Group,
    /// What its value measures.
    pub unit: Unit,
    /// Whether the seed page promises it or it is ours.
    pub source: Source,
    /// Whether the family's series appear on first use rather than at zero when their app,
    /// route, queue, cache or adapter is first resolved: `http_requests_total` (the `status` a
    /// route answers with) and the webhook counters (the `event` names an app's webhooks carry;
    /// both counters of an event appear together). Their label values cannot be known in advance.
    /// Not part of the serialized entry.
    #[serde(skip)]
    pub first_use: bool,
}

impl MetricDef {
    /// The exposed name under `prefix`.
    pub fn full_name(&self, prefix: &str) -> String {
        format!("{prefix}{}", self.name)
    }

    /// Its label names, in exposition order.
    pub fn label_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.labels.iter().map(|l| l.name)
    }

    /// Whether it carries the label `name`.
    pub fn has_label(&self, name: &str) -> bool {
        self.labels.iter().any(|l| l.name == name)
    }

    /// Counters whose names break the `_total` convention because the docs fixed them that way.
    pub fn is_naming_exception(&self) -> bool {
        self.kind == Kind::Counter && !self.name.ends_with("_total")
    }
}

/// Hands every metric's declaration, in catalogue order, to the macro `$callback`: the one place
/// a metric is declared. Each declaration reads
///
/// ```text
/// Id name: Kind { help: "...", labels: [LABEL, ...], (buckets: BUCKETS,)? group: Group, unit: Unit,
///                 (first_use: true,)? (source: Own,)? }
/// ```
///
/// `Id` is its [`MetricId`] variant, `name` its unprefixed name (an identifier, so it can also name
/// the live registry's typed field), `Kind` a [`Kind`] variant, which also picks the live family's
/// type. `first_use: true` puts it in [`FIRST_USE_FAMILIES`]; `source: Own` marks a metric of ours
/// ([`Source::Own`], after every seed metric); the rest are [`MetricDef`]'s fields.
///
/// This module derives [`CATALOGUE`] and [`MetricId`] from it (`define_catalogue!`), and
/// `sockudo-obs-live`'s `registration` the typed, registered families.
#[macro_export]
macro_rules! for_each_metric {
    ($callback:ident) => {
        $callback! {
            ActiveConnections active_connections: Gauge {
                help: "Current number of active WebSocket connections",
                labels: [APP_ID],
                group: Connection,
                unit: Count,
            }
            /// The docs fixed this name without `_total`; promtool's lint is told about the
            /// exception.
            TotalConnections total_connections: Counter {
                help: "Total number of WebSocket connections established",
                labels: [APP_ID],
                group: Connection,
                unit: Count,
            }
            ConnectionErrors connection_errors_total: Counter {
                help: "Total number of connection errors",
                labels: [APP_ID, ERROR_TYPE],
                group: Connection,
                unit: Count,
            }
            ConnectionsPerApp connections_per_app: Gauge {
                help: "Active connections per application",
                labels: [APP_ID],
                group: Connection,
                unit: Count,
            }
            MessagesSent messages_sent_total: Counter {
                help: "Total number of messages sent by the server",
                labels: [APP_ID, CHANNEL_TYPE],
                group: Message,
                unit: Count,
            }
            MessagesReceived messages_received_total: Counter {
                help: "Total number of messages received from clients",
                labels: [APP_ID, CHANNEL_TYPE],
                group: Message,
                unit: Count,
            }
            ClientEvents client_events_total: Counter {
                help: "Total number of client events processed",
                labels: [APP_ID, CHANNEL_TYPE],
                group: Message,
                unit: Count,
            }
            BroadcastMessages broadcast_messages_total: Counter {
                help: "Total number of messages broadcast to channels",
                labels: [APP_ID, CHANNEL_TYPE],
                group: Message,
                unit: Count,
            }
            HttpRequests http_requests_total: Counter {
                help: "Total number of HTTP API requests",
                labels: [METHOD, ENDPOINT, STATUS],
                group: Http,
                unit: Count,
                first_use: true,
            }
            HttpRequestDuration http_request_duration_seconds: Histogram {
                help: "HTTP request duration histogram",
                labels: [METHOD, ENDPOINT],
                buckets: LATENCY_BUCKETS,
                group: Http,
                unit: Seconds,
            }
            HttpResponseSize http_response_size_bytes: Histogram {
                help: "HTTP response size histogram",
                labels: [METHOD, ENDPOINT],
                buckets: SIZE_BUCKETS,
                group: Http,
                unit: Bytes,
            }
            ActiveChannels active_channels: Gauge {
                help: "Current number of active channels",
                labels: [APP_ID, CHANNEL_TYPE],
                group: Channel,
                unit: Count,
            }
            ChannelSubscriptions channel_subscriptions_total: Counter {
                help: "Total number of channel subscriptions",
                labels: [APP_ID, CHANNEL_TYPE],
                group: Channel,
                unit: Count,
            }
            ChannelUnsubscriptions channel_unsubscriptions_total: Counter {
                help: "Total number of channel unsubscriptions",
                labels: [APP_ID, CHANNEL_TYPE],
                group: Channel,
                unit: Count,
            }
            /// Labelled by app only: a channel name would be unbounded.
            PresenceMembers presence_members: Gauge {
                help: "Current number of members in presence channels",
                labels: [APP_ID],
                group: Channel,
                unit: Count,
            }
            RateLimitTriggered rate_limit_triggered_total: Counter {
                help: "Number of times rate limits were triggered",
                labels: [APP_ID, LIMITER_TYPE],
                group: RateLimit,
                unit: Count,
            }
            RateLimitChecks rate_limit_checks_total: Counter {
                help: "Total number of rate limit checks performed",
                labels: [APP_ID, LIMITER_TYPE],
                group: RateLimit,
                unit: Count,
            }
            QueueJobsProcessed queue_jobs_processed_total: Counter {
                help: "Total number of queue jobs processed",
                labels: [QUEUE],
                group: Queue,
                unit: Count,
            }
            QueueJobsFailed queue_jobs_failed_total: Counter {
                help: "Total number of failed queue jobs",
                labels: [QUEUE],
                group: Queue,
                unit: Count,
            }
            QueueActiveJobs queue_active_jobs: Gauge {
                help: "Current number of jobs in the queue",
                labels: [QUEUE],
                group: Queue,
                unit: Count,
            }
            QueueJobDuration queue_job_duration_seconds: Histogram {
                help: "Queue job processing time histogram",
                labels: [QUEUE],
                buckets: JOB_BUCKETS,
                group: Queue,
                unit: Seconds,
            }
            WebhooksSent webhooks_sent_total: Counter {
                help: "Total number of webhooks sent",
                labels: [APP_ID, EVENT],
                group: Webhook,
                unit: Count,
                first_use: true,
            }
            WebhooksFailed webhooks_failed_total: Counter {
                help: "Total number of failed webhooks",
                labels: [APP_ID, EVENT],
                group: Webhook,
                unit: Count,
                first_use: true,
            }
            WebhookDuration webhook_duration_seconds: Histogram {
                help: "Webhook request duration histogram",
                labels: [APP_ID],
                buckets: LATENCY_BUCKETS,
                group: Webhook,
                unit: Seconds,
            }
            CacheHits cache_hits_total: Counter {
                help: "Total number of cache hits",
                labels: [CACHE],
                group: Cache,
                unit: Count,
            }
            CacheMisses cache_misses_total: Counter {
                help: "Total number of cache misses",
                labels: [CACHE],
                group: Cache,
                unit: Count,
            }
            CacheOperations cache_operations_total: Counter {
                help: "Total number of cache operations",
                labels: [CACHE, CACHE_OPERATION],
                group: Cache,
                unit: Count,
            }
            CacheMemoryUsage cache_memory_usage_bytes: Gauge {
                help: "Current cache memory usage",
                labels: [CACHE],
                group: Cache,
                unit: Bytes,
            }
            AdapterOperations adapter_operations_total: Counter {
                help: "Total number of adapter operations",
                labels: [ADAPTER, ADAPTER_OPERATION],
                group: Adapter,
                unit: Count,
            }
            AdapterErrors adapter_errors_total: Counter {
                help: "Total number of adapter errors",
                labels: [ADAPTER, ADAPTER_OPERATION],
                group: Adapter,
                unit: Count,
            }
            AdapterLatency adapter_latency_seconds: Histogram {
                help: "Adapter operation latency histogram",
                labels: [ADAPTER, ADAPTER_OPERATION],
                buckets: ADAPTER_BUCKETS,
                group: Adapter,
                unit: Seconds,
            }
            // --- Own metrics (not on the seed page) ----------------------------------------------
            /// Past its cap a free-form label's new values share the `__overflow__` series; this
            /// says how often that happened, so an alert can tell the operator their per-app
            /// series are blurred.
            LabelOverflow label_overflow_total: Counter {
                help: "Number of new label values folded into the __overflow__ series past their cap",
                labels: [CAPPED_LABEL],
                group: Exporter,
                unit: Count,
                source: Own,
            }
            /// Always 1: which library version serves these metrics and under which prefix, so a
            /// dashboard can show the version per pod and a query can join on it.
            BuildInfo build_info: Gauge {
                help: "Always 1: the sockudo-obs version serving these metrics and the prefix in use",
                labels: [VERSION, PREFIX],
                group: Exporter,
                unit: Count,
                source: Own,
            }
        }
    };
}
pub use crate::for_each_metric;

/// `given`, or `default` when nothing is given: the optional fields of a declaration.
macro_rules! given_or {
    (; $default:expr) => {
        $default
    };
    ($given:expr; $default:expr) => {
        $given
    };
}

/// The `for_each_metric!` callback of this module: [`MetricId`] and [`CATALOGUE`].
macro_rules! define_catalogue {
    ($(
        $(#[$meta:meta])*
        $id:ident $name:ident: $kind:ident {
            help: $help:literal,
            labels: [$($label:ident),* $(,)?],
            $(buckets: $buckets:ident,)?
            group: $group:ident,
            unit: $unit:ident,
            $(first_use: $first_use:literal,)?
            $(source: $source:ident,)?
        }
    )+) => {
        /// One variant per catalogue metric, in catalogue order: `MetricId::X.def()` is its entry.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum MetricId {
            $(
                #[doc = concat!("`", stringify!($name), "`: ", $help, ".")]
                #[doc = ""]
                $(#[$meta])*
                $id,
            )+
        }

        impl MetricId {
            /// Every metric, in catalogue order (`MetricId::ALL[i].def()` is `&CATALOGUE[i]`).
            pub const ALL: &'static [MetricId] = &[$(MetricId::$id,)+];

            /// The metric's catalogue entry.
            pub const fn def(self) -> &'static MetricDef {
                &CATALOGUE[self as usize]
            }
        }

        /// Every metric Sockudo exposes: the seed page's, in its order, then ours ([`Source::Own`]).
        pub const CATALOGUE: &[MetricDef] = &[$(
            MetricDef {
                name: stringify!($name),
                kind: Kind::$kind,
                help: $help,
                labels: &[$($label),*],
                buckets: given_or!($($buckets)?; &[]),
                group: Group::$group,
                unit: Unit::$unit,
                source: given_or!($(Source::$source)?; Source::Seed),
                first_use: given_or!($($first_use)?; false),
            },
        )+];
    };
}

for_each_metric!(define_catalogue);

/// The entries the seed page promises, in its order.
pub fn seed() -> impl Iterator<Item = &'static MetricDef> {
    CATALOGUE.iter().filter(|m| m.source == Source::Seed)
}

/// The unprefixed names of the families declared `first_use` (see [`MetricDef::first_use`]), in
/// catalogue order.
pub const FIRST_USE_FAMILIES: &[&str] = &FIRST_USE;

const FIRST_USE: [&str; count_first_use()] = first_use_names();

const fn count_first_use() -> usize {
    let (mut count, mut i) = (0, 0);
    while i < CATALOGUE.len() {
        if CATALOGUE[i].first_use {
            count += 1;
        }
        i += 1;
    }
    count
}

const fn first_use_names<const N: usize>() -> [&'static str; N] {
    let mut names = [""; N];
    let (mut n, mut i) = (0, 0);
    while i < CATALOGUE.len() {
        if CATALOGUE[i].first_use {
            names[n] = CATALOGUE[i].name;
            n += 1;
        }
        i += 1;
    }
    names
}

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
    /// The metric's own name.
    None,
    /// A histogram's `_bucket` series.
    Bucket,
    /// A histogram's `_sum` series.
    Sum,
    /// A histogram's `_count` series.
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

    const SEED: &str = include_str!("../../../tests/data/seed-metrics.md");

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
