//! Which catalogue families the real Sockudo server feeds, and from which of its calls: the
//! coverage table. It describes one server (Sockudo 5.2.0 with the drop-in driver), so it lives
//! apart from the catalogue, which describes what any server may expose.

use serde::Serialize;

/// The server the coverage table describes.
pub const COVERED_SERVER: &str = "Sockudo 5.2.0 with the sockudo-obs drop-in driver";

/// How much of a family the real server feeds: what the drop-in driver can record from the calls
/// Sockudo 5.2.0 makes (`integrations/sockudo-metrics`). The real-server test proves every
/// [`Feed::Fed`] and [`Feed::Partly`] row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "feed", content = "detail")]
pub enum Feed {
    /// Every event the family counts reaches it.
    Fed,
    /// Some events reach it; the text says which are missing.
    Partly(&'static str),
    /// Nothing reaches it; the text says what server change would feed it.
    NotFed(&'static str),
}

impl Feed {
    pub const fn as_str(self) -> &'static str {
        match self {
            Feed::Fed => "fed",
            Feed::Partly(_) => "partly fed",
            Feed::NotFed(_) => "not fed",
        }
    }

    /// True when the server records something into the family.
    pub const fn is_fed(self) -> bool {
        !matches!(self, Feed::NotFed(_))
    }
}

/// One row of the coverage table: a catalogue family, what feeds it and from which server call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Coverage {
    /// The unprefixed catalogue name.
    pub metric: &'static str,
    pub feed: Feed,
    /// The server's calls that feed it (empty when nothing does).
    pub from: &'static str,
}

const fn fed(metric: &'static str, from: &'static str) -> Coverage {
    Coverage {
        metric,
        feed: Feed::Fed,
        from,
    }
}

const fn partly(metric: &'static str, from: &'static str, missing: &'static str) -> Coverage {
    Coverage {
        metric,
        feed: Feed::Partly(missing),
        from,
    }
}

const fn not_fed(metric: &'static str, needs: &'static str) -> Coverage {
    Coverage {
        metric,
        feed: Feed::NotFed(needs),
        from: "",
    }
}

/// Sockudo 5.2.0's `ChannelType::from_name` splits `private-encrypted-x` at its first `-` and
/// answers `private`, so these calls never say `private_encrypted`.
const MISSING_ENCRYPTED: &str = "`private-encrypted` channels arrive as `private`: Sockudo's `ChannelType::from_name` splits the name at its first `-` (a server bug; the name-based `ChannelType::of_channel` gets it right)";
const NEEDS_NO_CHANNEL: &str = "Sockudo's call for it (`mark_ws_message_received`/`mark_ws_message_sent`) carries no channel, and this family is per `channel_type`: the server would pass the channel type";
const NEEDS_HTTP_LAYER: &str = "the HTTP API (axum) would need `sockudo_obs::live::HttpMetricsLayer` on its router (Sockudo records only an OpenTelemetry duration histogram, without status)";
const NEEDS_QUEUE: &str = "the memory queue records nothing; the redis queue backend (feature `redis`, not built here) records settlements, durations and depth through the `metrics` facade, which the drop-in maps (unproven)";
const NEEDS_WEBHOOK: &str = "the webhook sender makes no metrics call: `sockudo-webhook` would record each delivery's event, outcome and duration";
const NEEDS_CACHE: &str = "the cache managers make no metrics call: `sockudo-cache` would record hits, misses, operations and memory";
const NEEDS_ADAPTER: &str = "the local adapter makes no metrics call, and the horizontal adapter's calls name no operation: `sockudo-adapter` would record each operation with its latency";

/// What [`COVERED_SERVER`] feeds, one row per catalogue family, in catalogue order.
pub const SOCKUDO_5_2_COVERAGE: &[Coverage] = &[
    fed(
        "active_connections",
        "`mark_new_connection`, `mark_disconnection`",
    ),
    fed("total_connections", "`mark_new_connection`"),
    fed(
        "connection_errors_total",
        "`mark_connection_error` (unknown app keys as `app_id`, capped)",
    ),
    fed(
        "connections_per_app",
        "`mark_new_connection`, `mark_disconnection`",
    ),
    partly(
        "messages_sent_total",
        "`track_broadcast_latency` (deliveries of a publish)",
        "direct sends (subscription replies, pongs, errors) and relayed client events carry no channel: Sockudo reports them through `mark_ws_message_sent` and `mark_ws_messages_sent_batch`",
    ),
    not_fed("messages_received_total", NEEDS_NO_CHANNEL),
    not_fed(
        "client_events_total",
        "Sockudo makes no call for a relayed client event: it would call one with the channel type",
    ),
    partly(
        "broadcast_messages_total",
        "`track_broadcast_latency`",
        "only publishes that reach at least one local connection and carry a start time (HTTP API publishes)",
    ),
    not_fed("http_requests_total", NEEDS_HTTP_LAYER),
    not_fed("http_request_duration_seconds", NEEDS_HTTP_LAYER),
    not_fed("http_response_size_bytes", NEEDS_HTTP_LAYER),
    partly(
        "active_channels",
        "`mark_channel_activated`, `mark_channel_deactivated`",
        MISSING_ENCRYPTED,
    ),
    partly(
        "channel_subscriptions_total",
        "`mark_channel_subscription`",
        MISSING_ENCRYPTED,
    ),
    partly(
        "channel_unsubscriptions_total",
        "`mark_channel_unsubscription`",
        MISSING_ENCRYPTED,
    ),
    not_fed(
        "presence_members",
        "Sockudo makes no call when a presence member joins or leaves: it would call one per join and leave",
    ),
    fed(
        "rate_limit_triggered_total",
        "`mark_rate_limit_triggered[_with_context]` (HTTP limiters as `app_id=\"global\"`)",
    ),
    fed(
        "rate_limit_checks_total",
        "`mark_rate_limit_check[_with_context]` (HTTP limiters as `app_id=\"global\"`)",
    ),
    not_fed("queue_jobs_processed_total", NEEDS_QUEUE),
    not_fed("queue_jobs_failed_total", NEEDS_QUEUE),
    not_fed("queue_active_jobs", NEEDS_QUEUE),
    not_fed("queue_job_duration_seconds", NEEDS_QUEUE),
    not_fed("webhooks_sent_total", NEEDS_WEBHOOK),
    not_fed("webhooks_failed_total", NEEDS_WEBHOOK),
    not_fed("webhook_duration_seconds", NEEDS_WEBHOOK),
    not_fed("cache_hits_total", NEEDS_CACHE),
    not_fed("cache_misses_total", NEEDS_CACHE),
    not_fed("cache_operations_total", NEEDS_CACHE),
    not_fed("cache_memory_usage_bytes", NEEDS_CACHE),
    not_fed("adapter_operations_total", NEEDS_ADAPTER),
    not_fed("adapter_errors_total", NEEDS_ADAPTER),
    not_fed("adapter_latency_seconds", NEEDS_ADAPTER),
    fed(
        "label_overflow_total",
        "sockudo-obs itself, whenever a capped label folds a value",
    ),
];

/// The coverage row of a catalogue family.
pub fn coverage(metric: &str) -> Option<&'static Coverage> {
    SOCKUDO_5_2_COVERAGE.iter().find(|c| c.metric == metric)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::CATALOGUE;

    #[test]
    fn coverage_has_one_row_per_catalogue_family_in_order() {
        let families: Vec<_> = CATALOGUE.iter().map(|m| m.name).collect();
        let rows: Vec<_> = SOCKUDO_5_2_COVERAGE.iter().map(|c| c.metric).collect();
        assert_eq!(rows, families);
        for row in SOCKUDO_5_2_COVERAGE {
            let said = match row.feed {
                Feed::Fed => !row.from.is_empty(),
                Feed::Partly(missing) => !row.from.is_empty() && !missing.is_empty(),
                Feed::NotFed(needs) => row.from.is_empty() && !needs.is_empty(),
            };
            assert!(
                said,
                "{}: a fed row names its calls, an unfed one what would feed it",
                row.metric
            );
        }
    }
}
