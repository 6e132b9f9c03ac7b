//! Which catalogue families the real Sockudo server feeds, and from which of its calls: the
//! coverage table, one column per [`Build`] of the server. It describes one server (Sockudo 5.2.0
//! with the drop-in driver), so it lives apart from the catalogue, which describes what any server
//! may expose.

use serde::Serialize;

use sockudo_obs_catalogue::catalogue::MetricId;

/// The server the coverage table describes.
pub const COVERED_SERVER: &str = "Sockudo 5.2.0 with the sockudo-obs drop-in driver";

/// A way of running the real server that feeds a different part of the catalogue: a column of
/// the coverage table. All three run the same features (`local,redis,opentelemetry`, built by
/// `scripts/sockudo-server.sh`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Build {
    /// The drop-in build (`.tools/bin/sockudo`) as one node: local adapter, memory queue and cache.
    DropIn,
    /// The drop-in build as a cluster on Redis: the redis adapter, queue and cache.
    DropInCluster,
    /// The drop-in build with the patch series of `integrations/sockudo-5.2.0-patches`
    /// (`.tools/bin/sockudo-instrumented`), as a cluster on Redis.
    Instrumented,
}

impl Build {
    /// In the coverage table's column order.
    pub const ALL: [Build; 3] = [Build::DropIn, Build::DropInCluster, Build::Instrumented];

    /// The column's heading.
    pub const fn title(self) -> &'static str {
        match self {
            Build::DropIn => "drop-in, one node",
            Build::DropInCluster => "drop-in, Redis cluster",
            Build::Instrumented => "instrumented, Redis cluster",
        }
    }

    const fn column(self) -> usize {
        self as usize
    }
}

/// How much of a family the real server feeds: what the drop-in driver can record from the calls
/// Sockudo 5.2.0 makes (`integrations/sockudo-metrics`). The real-server tests prove every
/// [`Feed::Fed`] and [`Feed::Partly`] cell, and that every [`Feed::NotFed`] one stays at zero.
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
    /// How the generated metrics reference words it (`fed`, `partly fed`, `not fed`).
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

    /// What is missing (partly fed) or what would feed it (not fed); empty when fed.
    pub const fn detail(self) -> &'static str {
        match self {
            Feed::Fed => "",
            Feed::Partly(text) | Feed::NotFed(text) => text,
        }
    }
}

/// One cell of the coverage table: how a build feeds a family, and from which server calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Cell {
    /// How much of the family the build feeds.
    pub feed: Feed,
    /// The server's calls that feed it (empty when nothing does).
    pub from: &'static str,
}

/// One row of the coverage table: a catalogue family and its cell per build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Coverage {
    /// The family this row is about.
    pub metric: MetricId,
    cells: [Cell; 3],
}

impl Coverage {
    /// The family's cell for `build`.
    pub const fn on(&self, build: Build) -> Cell {
        self.cells[build.column()]
    }
}

const fn fed(from: &'static str) -> Cell {
    Cell {
        feed: Feed::Fed,
        from,
    }
}

const fn partly(from: &'static str, missing: &'static str) -> Cell {
    Cell {
        feed: Feed::Partly(missing),
        from,
    }
}

const fn not_fed(needs: &'static str) -> Cell {
    Cell {
        feed: Feed::NotFed(needs),
        from: "",
    }
}

/// The same on every build.
const fn every(cell: Cell) -> [Cell; 3] {
    [cell, cell, cell]
}

/// One cell per build, in [`Build::ALL`]'s order.
const fn per_build(alone: Cell, cluster: Cell, instrumented: Cell) -> [Cell; 3] {
    [alone, cluster, instrumented]
}

/// Sockudo 5.2.0's `ChannelType::from_name` splits `private-encrypted-x` at its first `-` and
/// answers `private`, so these calls never say `private_encrypted`.
const MISSING_ENCRYPTED: &str = "`private-encrypted` channels arrive as `private`: Sockudo's `ChannelType::from_name` splits the name at its first `-` (a server bug; the name-based `ChannelType::of_channel` gets it right)";
const MISSING_DISCONNECT_UNSUBSCRIBE: &str = "unsubscriptions caused by a disconnect are never reported (`sockudo-adapter`'s disconnect path in `handler/core.rs`, and `sockudo/src/cleanup/worker.rs`), so subscriptions minus unsubscriptions drifts upward; and `private-encrypted` channels arrive as `private` (`ChannelType::from_name` splits the name at its first `-`)";
const NEEDS_NO_CHANNEL: &str = "Sockudo's call for it (`mark_ws_message_received`/`mark_ws_message_sent`) carries no channel, and this family is per `channel_type`: the server would pass the channel type";
const NEEDS_CLIENT_EVENT_CALL: &str =
    "Sockudo makes no call for a relayed client event: it would call one with the channel type";
const NEEDS_STATUS: &str = "Sockudo records only an OpenTelemetry duration histogram per request, without status or size: its router would need `sockudo_obs::live::HttpMetricsLayer`, or a call per answered request";
const HTTP_DURATION: &str = "`http.server.request.duration` through the `metrics` facade (needs `opentelemetry.enabled` and `traces_enabled`; runs without a collector under `OTEL_SDK_DISABLED=true`); WebSocket upgrades are connections and left out";
const HTTP_DURATION_MISSING: &str = "the probe paths (`/up`, `/ready`, `/live`, `/accept-traffic`, `/metrics`) are not timed; nothing when OpenTelemetry tracing is off";
const NEEDS_PRESENCE_CALL: &str =
    "Sockudo makes no call when a presence member joins or leaves: it would call one per join and leave";
const NEEDS_QUEUE: &str = "the memory queue records nothing; the redis queue records settlements and durations through the `metrics` facade, which the drop-in maps";
const QUEUE_SETTLED: &str = "`sockudo_queue_settled_total` through the `metrics` facade (the redis queue)";
const QUEUE_DURATION: &str =
    "`sockudo_queue_processing_duration_seconds` through the `metrics` facade (the redis queue)";
const QUEUE_FAILED: &str = "`sockudo_queue_settled_total` of outcomes `retry`, `dead-letter` and `panic-or-lease-lost` through the `metrics` facade (the redis queue): a webhook job fails when the node that claims it does not know its app, as when an app is in one node's config and not yet in another's and that node reads app configs without the Redis cache (the cluster test's rollout app)";
const QUEUE_FAILED_MISSING: &str = "webhook deliveries are the only jobs the server queues, and a webhook job settles as `completed` even when every delivery fails (the sender retries and logs inside the job, then returns success): only a job that cannot start fails; the webhook families say whether deliveries fail";
const NEEDS_QUEUE_DEPTH: &str = "the redis queue sets its depth gauge (`sockudo_queue_depth`) only inside `stats()`, which nothing calls while the server runs; the memory queue records nothing";
const NEEDS_WEBHOOK: &str = "the webhook sender makes no metrics call: `sockudo-webhook` would record each delivery's event, outcome and duration";
const NEEDS_CACHE: &str = "the cache managers (memory and redis) make no metrics call: `sockudo-cache` would record hits, misses, operations and memory";
const NEEDS_LOCAL_ADAPTER: &str = "the local adapter makes no metrics call (there are no other nodes)";
const ADAPTER_REQUEST: &str = "`track_horizontal_adapter_resolve_time` and `track_horizontal_adapter_resolved_promises` (`operation=\"request\"`, the adapter named as the server's config names it)";
const ADAPTER_ONLY_REQUESTS: &str = "only requests to the other nodes: Sockudo makes no call for a broadcast, subscribe or presence sync over the adapter";
const ADAPTER_ERRORS: &str =
    "`track_horizontal_adapter_resolved_promises` with `resolved = false` (a request that timed out)";
const BROADCAST_ALONE: &str =
    "only publishes that reach at least one local connection and carry a start time (HTTP API publishes)";
const BROADCAST_CLUSTER: &str = "only publishes that carry a start time (HTTP API publishes); each node that delivers one to at least one local connection counts it, so the cluster's sum counts a publish once per node that had recipients";

// The instrumented build: the calls the patch series (`integrations/sockudo-5.2.0-patches`) adds.
const PATCHED_SENT: &str = "`mark_ws_message_sent_on_channel` and `mark_channel_broadcast` (patch 0005)";
const PATCHED_SENT_MISSING: &str = "sends that carry no channel (pongs, errors before a subscription) and the few that bypass `send_message_to_socket`";
const PATCHED_RECEIVED: &str = "`mark_ws_message_received_on_channel` (patch 0005)";
const PATCHED_RECEIVED_MISSING: &str = "frames that name no channel (pings, `pusher:signin`)";
const PATCHED_CLIENT_EVENTS: &str = "`mark_client_event` (patch 0005)";
const PATCHED_BROADCAST: &str = "`mark_channel_broadcast` (patch 0005), one per local fan-out";
const PATCHED_BROADCAST_MISSING: &str = "each node counts its own local fan-out of a publish, so the cluster's sum counts a publish once per node that had recipients";
const PATCHED_HTTP: &str = "`track_http_request` (patch 0007): method, matched route, status, duration and size of every API request (WebSocket upgrades are connections and left out)";
const PATCHED_CHANNELS: &str =
    "`mark_channel_activated`, `mark_channel_deactivated`, with `private-encrypted` classified (patch 0002)";
const PATCHED_SUBSCRIPTIONS: &str =
    "`mark_channel_subscription`, with `private-encrypted` classified (patch 0002)";
const PATCHED_UNSUBSCRIPTIONS: &str =
    "`mark_channel_unsubscription`, also on disconnect and in the cleanup worker (patches 0002, 0003)";
const PATCHED_PRESENCE: &str = "`mark_presence_member_added`, `mark_presence_member_removed` (patch 0004)";
const PATCHED_PRESENCE_MISSING: &str = "a member who joined through one node and is cleaned up by another is counted in on one and out on the other: a node's value can go below zero, the cluster's sum is right";
const PATCHED_QUEUE_DEPTH: &str = "the jobs in the queue, waiting or running: `sockudo_queue_depth` of states `ready` plus `active`, refreshed every 5 s while the server runs (patch 0010); a redis queue is shared, so every node reports the whole queue's depth";
const PATCHED_WEBHOOKS: &str =
    "`track_webhook_delivery` (patch 0006): each delivery's app, events and outcome";
const PATCHED_WEBHOOK_DURATION: &str = "`track_webhook_delivery` (patch 0006)";
const PATCHED_WEBHOOK_DURATION_MISSING: &str =
    "a delivery carrying several events is observed once per event";
const PATCHED_CACHE: &str = "`mark_cache_operation` from a metered cache manager (patch 0008)";
const NEEDS_CACHE_MEMORY: &str =
    "no cache manager knows its memory footprint: the memory cache would have to report its weighted size";
const PATCHED_ADAPTER: &str =
    "`track_adapter_operation` (patch 0009): broadcast, presence sync and requests, with the adapter's name";
const PATCHED_ADAPTER_MISSING: &str =
    "subscribe, unsubscribe and publish are not reported; nothing on the local adapter";
const PATCHED_ADAPTER_ERRORS: &str =
    "`track_adapter_operation` with `success = false` (patch 0009), and timed-out requests";

/// What [`COVERED_SERVER`] feeds of `metric`: its cell per build. The match is exhaustive, so a
/// metric added to the catalogue does not compile until its row is written here.
pub const fn cells(metric: MetricId) -> [Cell; 3] {
    match metric {
        MetricId::ActiveConnections => every(fed("`mark_new_connection`, `mark_disconnection`")),
        MetricId::TotalConnections => every(fed("`mark_new_connection`")),
        MetricId::ConnectionErrors => every(fed(
            "`mark_connection_error` (unknown app keys as `app_id`, capped)",
        )),
        MetricId::ConnectionsPerApp => every(fed("`mark_new_connection`, `mark_disconnection`")),
        MetricId::MessagesSent => per_build(
            partly( "`track_broadcast_latency` (deliveries of a publish, by the node that delivers them)", "direct sends (subscription replies, pongs, errors) and relayed client events carry no channel: Sockudo reports them through `mark_ws_message_sent` and `mark_ws_messages_sent_batch`", ),
            partly( "`track_broadcast_latency` (deliveries of a publish, by the node that delivers them)", "direct sends (subscription replies, pongs, errors) and relayed client events carry no channel: Sockudo reports them through `mark_ws_message_sent` and `mark_ws_messages_sent_batch`", ),
            partly(PATCHED_SENT, PATCHED_SENT_MISSING),
        ),
        MetricId::MessagesReceived => per_build(
            not_fed(NEEDS_NO_CHANNEL),
            not_fed(NEEDS_NO_CHANNEL),
            partly(PATCHED_RECEIVED, PATCHED_RECEIVED_MISSING),
        ),
        MetricId::ClientEvents => per_build(
            not_fed(NEEDS_CLIENT_EVENT_CALL),
            not_fed(NEEDS_CLIENT_EVENT_CALL),
            fed(PATCHED_CLIENT_EVENTS),
        ),
        MetricId::BroadcastMessages => per_build(
            partly("`track_broadcast_latency`", BROADCAST_ALONE),
            partly("`track_broadcast_latency`", BROADCAST_CLUSTER),
            partly(PATCHED_BROADCAST, PATCHED_BROADCAST_MISSING),
        ),
        MetricId::HttpRequests => per_build(
            not_fed(NEEDS_STATUS),
            not_fed(NEEDS_STATUS),
            fed(PATCHED_HTTP),
        ),
        MetricId::HttpRequestDuration => per_build(
            partly(HTTP_DURATION, HTTP_DURATION_MISSING),
            partly(HTTP_DURATION, HTTP_DURATION_MISSING),
            fed(PATCHED_HTTP),
        ),
        MetricId::HttpResponseSize => per_build(
            not_fed(NEEDS_STATUS),
            not_fed(NEEDS_STATUS),
            fed(PATCHED_HTTP),
        ),
        MetricId::ActiveChannels => per_build(
            partly( "`mark_channel_activated`, `mark_channel_deactivated`", MISSING_ENCRYPTED, ),
            partly( "`mark_channel_activated`, `mark_channel_deactivated`", MISSING_ENCRYPTED, ),
            fed(PATCHED_CHANNELS),
        ),
        MetricId::ChannelSubscriptions => per_build(
            partly("`mark_channel_subscription`", MISSING_ENCRYPTED),
            partly("`mark_channel_subscription`", MISSING_ENCRYPTED),
            fed(PATCHED_SUBSCRIPTIONS),
        ),
        MetricId::ChannelUnsubscriptions => per_build(
            partly( "`mark_channel_unsubscription`", MISSING_DISCONNECT_UNSUBSCRIBE, ),
            partly( "`mark_channel_unsubscription`", MISSING_DISCONNECT_UNSUBSCRIBE, ),
            fed(PATCHED_UNSUBSCRIPTIONS),
        ),
        MetricId::PresenceMembers => per_build(
            not_fed(NEEDS_PRESENCE_CALL),
            not_fed(NEEDS_PRESENCE_CALL),
            partly(PATCHED_PRESENCE, PATCHED_PRESENCE_MISSING),
        ),
        MetricId::RateLimitTriggered => every(fed(
            "`mark_rate_limit_triggered[_with_context]` (HTTP limiters as `app_id=\"global\"`)",
        )),
        MetricId::RateLimitChecks => every(fed(
            "`mark_rate_limit_check[_with_context]` (HTTP limiters as `app_id=\"global\"`)",
        )),
        MetricId::QueueJobsProcessed => per_build(
            not_fed(NEEDS_QUEUE),
            fed(QUEUE_SETTLED),
            fed(QUEUE_SETTLED),
        ),
        MetricId::QueueJobsFailed => per_build(
            not_fed(NEEDS_QUEUE),
            partly(QUEUE_FAILED, QUEUE_FAILED_MISSING),
            partly(QUEUE_FAILED, QUEUE_FAILED_MISSING),
        ),
        MetricId::QueueActiveJobs => per_build(
            not_fed(NEEDS_QUEUE_DEPTH),
            not_fed(NEEDS_QUEUE_DEPTH),
            fed(PATCHED_QUEUE_DEPTH),
        ),
        MetricId::QueueJobDuration => per_build(
            not_fed(NEEDS_QUEUE),
            fed(QUEUE_DURATION),
            fed(QUEUE_DURATION),
        ),
        MetricId::WebhooksSent => per_build(
            not_fed(NEEDS_WEBHOOK),
            not_fed(NEEDS_WEBHOOK),
            fed(PATCHED_WEBHOOKS),
        ),
        MetricId::WebhooksFailed => per_build(
            not_fed(NEEDS_WEBHOOK),
            not_fed(NEEDS_WEBHOOK),
            fed(PATCHED_WEBHOOKS),
        ),
        MetricId::WebhookDuration => per_build(
            not_fed(NEEDS_WEBHOOK),
            not_fed(NEEDS_WEBHOOK),
            partly(PATCHED_WEBHOOK_DURATION, PATCHED_WEBHOOK_DURATION_MISSING),
        ),
        MetricId::CacheHits => per_build(
            not_fed(NEEDS_CACHE),
            not_fed(NEEDS_CACHE),
            fed(PATCHED_CACHE),
        ),
        MetricId::CacheMisses => per_build(
            not_fed(NEEDS_CACHE),
            not_fed(NEEDS_CACHE),
            fed(PATCHED_CACHE),
        ),
        MetricId::CacheOperations => per_build(
            not_fed(NEEDS_CACHE),
            not_fed(NEEDS_CACHE),
            fed(PATCHED_CACHE),
        ),
        MetricId::CacheMemoryUsage => per_build(
            not_fed(NEEDS_CACHE),
            not_fed(NEEDS_CACHE),
            not_fed(NEEDS_CACHE_MEMORY),
        ),
        MetricId::AdapterOperations => per_build(
            not_fed(NEEDS_LOCAL_ADAPTER),
            partly(ADAPTER_REQUEST, ADAPTER_ONLY_REQUESTS),
            partly(PATCHED_ADAPTER, PATCHED_ADAPTER_MISSING),
        ),
        MetricId::AdapterErrors => per_build(
            not_fed(NEEDS_LOCAL_ADAPTER),
            partly(ADAPTER_ERRORS, ADAPTER_ONLY_REQUESTS),
            partly(PATCHED_ADAPTER_ERRORS, PATCHED_ADAPTER_MISSING),
        ),
        MetricId::AdapterLatency => per_build(
            not_fed(NEEDS_LOCAL_ADAPTER),
            partly(ADAPTER_REQUEST, ADAPTER_ONLY_REQUESTS),
            partly(PATCHED_ADAPTER, PATCHED_ADAPTER_MISSING),
        ),
        MetricId::LabelOverflow => every(fed("sockudo-obs itself, whenever a capped label folds a value")),
        MetricId::BuildInfo => every(fed("sockudo-obs itself, 1 from the start")),
    }
}

/// The coverage row of a catalogue family, by its unprefixed name.
pub fn coverage(metric: &str) -> Option<Coverage> {
    let id = MetricId::ALL.iter().copied().find(|id| id.def().name == metric)?;
    Some(Coverage {
        metric: id,
        cells: cells(id),
    })
}

/// How `build` feeds `metric` (an unprefixed name); `None` for a name the catalogue does not know.
pub fn feed(build: Build, metric: &str) -> Option<Feed> {
    coverage(metric).map(|row| row.on(build).feed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_cell_says_where_its_data_comes_from_or_what_would_feed_it() {
        for &metric in MetricId::ALL {
            for build in Build::ALL {
                let cell = cells(metric)[build.column()];
                let said = match cell.feed {
                    Feed::Fed => !cell.from.is_empty(),
                    Feed::Partly(missing) => !cell.from.is_empty() && !missing.is_empty(),
                    Feed::NotFed(needs) => cell.from.is_empty() && !needs.is_empty(),
                };
                assert!(
                    said,
                    "{metric:?} on {build:?}: a fed cell names its calls, an unfed one what would feed it"
                );
            }
        }
    }

    #[test]
    fn a_cluster_feeds_at_least_what_one_node_does() {
        for &metric in MetricId::ALL {
            let [alone, cluster, instrumented] = cells(metric).map(|cell| cell.feed.is_fed());
            assert!(
                (!alone || cluster) && (!cluster || instrumented),
                "{metric:?}: a build feeds what the one before it feeds"
            );
        }
    }

    #[test]
    fn the_instrumented_build_feeds_every_seed_family_but_one() {
        let unfed: Vec<&str> = MetricId::ALL
            .iter()
            .map(|id| id.def())
            .filter(|def| def.source == sockudo_obs_catalogue::catalogue::Source::Seed)
            .filter(|def| !feed(Build::Instrumented, def.name).is_some_and(Feed::is_fed))
            .map(|def| def.name)
            .collect();
        assert_eq!(unfed, ["cache_memory_usage_bytes"]);
    }
}
