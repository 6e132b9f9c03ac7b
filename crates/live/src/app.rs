//! [`AppMetrics`]: the recording handle of one `app_id`, kept in each connection's state.
//!
//! It covers connections, messages, channels, presence, rate limits and webhooks.

use std::sync::Arc;
use std::time::Duration;

use super::counter::{Counter, CounterBlockBuilder};
use super::gauge::Gauge;
use super::histogram::Histogram;
use super::labels::{ChannelType, ErrorType, LabelValue, LimiterType};
use super::registration::{CounterFamily, Families};
use super::resolve::{HandleCache, Name, PerValue};
use super::store::{Cells, CounterId, CounterStore, Counters, ShardCells};
use crate::catalogue::{Domain, Kind, Label, MetricId};

type PerChannel<M> = PerValue<ChannelType, M, { ChannelType::COUNT }>;

/// Recording handles for one app, resolved once by [`Metrics::app`](super::Metrics::app).
///
/// Cloning is an `Arc` clone (the handle is 24 bytes); keep one in each connection's state. Every
/// method is a relaxed atomic add on a pre-resolved series (webhooks, whose event names are
/// free-form, also take a read lock). Every series of the app except the per-event webhook counters exists, at 0, from
/// the moment the handle is resolved.
#[derive(Clone)]
// The block's `Cells` inline: recording reads them from the handle itself, not from a line of the
// `Arc`'s allocation per app. In the 100-app recording loop those lines and the cells overflowed
// sets of an 8-way L1 (AMD's; cachegrind's simulation: 9% of its data accesses missed, none
// with the cells inline). `Arc<AppHandles>` keeps the block, so the cells, alive.
pub struct AppMetrics(Arc<AppHandles>, Cells);

// `C`, the block first (what an add reads is also inline in the handle, see `AppMetrics`).
#[repr(C)]
struct AppHandles {
    /// Every counter of the app, in one sharded block, where [`AppCounter`] says.
    counters: Counters,
    active_connections: Gauge,
    connections_per_app: Gauge,
    active_channels: PerChannel<Gauge>,
    presence_members: Gauge,
    webhook_duration: Histogram,
    webhook_events: HandleCache<Name, WebhookEvent>,
    webhooks_sent: CounterFamily,
    webhooks_failed: CounterFamily,
    /// For the webhook events' counters, resolved later.
    counters_store: Arc<CounterStore>,
    app_id: String,
}

/// Declares the counter groups of an app's block, in block order: the enum, its order and each
/// group's catalogue counter all come from the one list, where a group is named as its counter's
/// [`MetricId`]. The order is the same for every app, so a counter's index is a constant and
/// recording loads no index from the handle (in the 100-app recording loop those loads were a
/// third line per app in L1). The channel-typed groups come first: they are the per-message ones,
/// so they share lines. A group is the series of one catalogue counter for one app: one per value
/// of its closed label, or one.
macro_rules! app_counters {
    ($($group:ident),+ $(,)?) => {
        #[derive(Clone, Copy)]
        enum AppCounter {
            $($group),+
        }

        impl AppCounter {
            const COUNT: usize = [$(stringify!($group)),+].len();
            const IN_BLOCK_ORDER: [AppCounter; AppCounter::COUNT] = [$(AppCounter::$group),+];

            /// The catalogue counter the group counts.
            const fn metric(self) -> MetricId {
                match self {
                    $(AppCounter::$group => MetricId::$group),+
                }
            }
        }
    };
}

app_counters! {
    MessagesSent,
    MessagesReceived,
    ClientEvents,
    BroadcastMessages,
    ChannelSubscriptions,
    ChannelUnsubscriptions,
    RateLimitChecks,
    RateLimitTriggered,
    TotalConnections,
    ConnectionErrors,
}

impl AppCounter {
    /// Each group's first index in the block (the lengths of the groups before it), worked out at
    /// compile time from the catalogue, which also checks there that every group is a counter
    /// labelled `app_id` and at most one closed label.
    const FIRST: [u32; AppCounter::COUNT] = {
        let mut first = [0; AppCounter::COUNT];
        let mut next = 0;
        let mut i = 0;
        while i < AppCounter::IN_BLOCK_ORDER.len() {
            let group = AppCounter::IN_BLOCK_ORDER[i];
            assert!(group as usize == i, "IN_BLOCK_ORDER lists the variants in order");
            assert!(
                matches!(group.metric().def().kind, Kind::Counter),
                "an app's counter group is a catalogue counter"
            );
            first[i] = next;
            next += group.len();
            i += 1;
        }
        first
    };

    /// The values of the group's closed label, after `app_id`; `None` for a group of one counter.
    const fn closed_values(self) -> Option<&'static [&'static str]> {
        match self.metric().def().labels {
            [app_id] if matches!(app_id.domain, Domain::Capped) => None,
            [app_id, Label {
                domain: Domain::Enum(values),
                ..
            }] if matches!(app_id.domain, Domain::Capped) => Some(values),
            _ => panic!("an app's counter is labelled app_id and at most one closed label"),
        }
    }

    /// How many counters the group has: one per value of its closed label, or one.
    const fn len(self) -> u32 {
        match self.closed_values() {
            Some(values) => values.len() as u32,
            None => 1,
        }
    }

    /// The group's family.
    fn family(self, f: &Families) -> &CounterFamily {
        f.counter(self.metric()).expect("checked in AppCounter::FIRST")
    }

    /// The label values of each of the group's series, in block order: `app_id`, then the
    /// closed label's value if the group has one.
    fn series(self, app_id: &str) -> Vec<Vec<&str>> {
        match self.closed_values() {
            Some(values) => values.iter().map(|v| vec![app_id, *v]).collect(),
            None => vec![vec![app_id]],
        }
    }

    /// The group's first index in the block.
    #[inline(always)]
    const fn first(self) -> u32 {
        AppCounter::FIRST[self as usize]
    }

    /// The counter of `value` in this group.
    #[inline(always)]
    fn of(self, value: impl LabelValue) -> CounterId {
        CounterId(self.first() + value.index() as u32)
    }

    /// The group's one counter (a group without a closed label).
    #[inline(always)]
    fn only(self) -> CounterId {
        CounterId(self.first())
    }
}

/// The two counters of one webhook event, resolved together so the failure ratio has both sides
/// from the first webhook on.
#[derive(Clone)]
struct WebhookEvent {
    counters: Counters,
    sent: CounterId,
    failed: CounterId,
}

impl AppMetrics {
    /// `max_events` caps the app's webhook event names; `folded_events` counts those refused.
    pub(crate) fn resolve(
        f: &Families,
        app_id: &str,
        max_events: usize,
        folded_events: Counter,
    ) -> AppMetrics {
        let app = &[app_id][..];
        let mut c = CounterBlockBuilder::new(&f.counters);
        for group in AppCounter::IN_BLOCK_ORDER {
            let family = group.family(f);
            let ids: Vec<CounterId> = group.series(app_id).iter().map(|v| c.add(family, v)).collect();
            let expected: Vec<CounterId> = (0..group.len()).map(|i| CounterId(group.first() + i)).collect();
            assert_eq!(ids, expected, "an app's counters are where AppCounter says");
        }
        let counters = c.build();
        let cells = counters.cells();
        let handles = Arc::new(AppHandles {
            counters,
            active_connections: Gauge::register(&f.active_connections, app),
            connections_per_app: Gauge::register(&f.connections_per_app, app),
            active_channels: PerValue::resolve(app, |v| Gauge::register(&f.active_channels, v)),
            presence_members: Gauge::register(&f.presence_members, app),
            webhook_duration: Histogram::register(&f.webhook_duration_seconds, app),
            webhook_events: HandleCache::names(max_events, folded_events),
            webhooks_sent: f.webhooks_sent_total.clone(),
            webhooks_failed: f.webhooks_failed_total.clone(),
            counters_store: f.counters.clone(),
            app_id: app_id.to_string(),
        });
        AppMetrics(handles, cells)
    }

    /// This thread's cells of the app's block.
    #[inline(always)]
    fn this_shard(&self) -> ShardCells<'_> {
        // SAFETY: `self.1` came from `self.0.counters`, which lives as long as `self`.
        unsafe { self.1.this_shard() }
    }

    #[inline(always)]
    fn add(&self, id: CounterId, n: u64) {
        self.this_shard().add(id, n);
    }

    /// The `app_id` label value these handles record under (the overflow value past the cap).
    pub fn app_id(&self) -> &str {
        &self.0.app_id
    }

    /// A WebSocket connection was established: `total_connections` counts it, and both
    /// `active_connections` and `connections_per_app` go up by one.
    #[inline]
    pub fn connection_opened(&self) {
        self.add(AppCounter::TotalConnections.only(), 1);
        self.0.active_connections.inc();
        self.0.connections_per_app.inc();
    }

    /// An established connection ended (for whatever reason).
    #[inline]
    pub fn connection_closed(&self) {
        self.0.active_connections.dec();
        self.0.connections_per_app.dec();
    }

    /// A connection failed or was refused. This does not touch the active gauges: pair it with
    /// [`connection_closed`](Self::connection_closed) when the failing connection had been opened.
    #[inline]
    pub fn connection_error(&self, error: ErrorType) {
        self.add(AppCounter::ConnectionErrors.of(error), 1);
    }

    /// The server sent one message to one client.
    #[inline]
    pub fn message_sent(&self, channel: ChannelType) {
        self.add(AppCounter::MessagesSent.of(channel), 1);
    }

    /// The server sent `count` messages on channels of one type.
    #[inline]
    pub fn messages_sent(&self, channel: ChannelType, count: u64) {
        self.add(AppCounter::MessagesSent.of(channel), count);
    }

    /// A client sent the server one message (any Pusher frame on a channel).
    #[inline]
    pub fn message_received(&self, channel: ChannelType) {
        self.add(AppCounter::MessagesReceived.of(channel), 1);
    }

    /// A client event (`client-*`) was accepted for relaying. Only `client_events_total` counts
    /// it; the frame itself is a [`message_received`](Self::message_received) and each delivery a
    /// [`message_sent`](Self::message_sent) (or one [`broadcast`](Self::broadcast)).
    #[inline]
    pub fn client_event(&self, channel: ChannelType) {
        self.add(AppCounter::ClientEvents.of(channel), 1);
    }

    /// One event was published to a channel and fanned out to `recipients` connections.
    ///
    /// Counted once: `broadcast_messages_total` goes up by 1 and `messages_sent_total` by
    /// `recipients`, so `messages_sent / broadcast_messages` is the mean fan-out. Do not also call
    /// [`message_sent`](Self::message_sent) for those deliveries.
    #[inline]
    pub fn broadcast(&self, channel: ChannelType, recipients: u64) {
        let cells = self.this_shard();
        cells.add(AppCounter::BroadcastMessages.of(channel), 1);
        cells.add(AppCounter::MessagesSent.of(channel), recipients);
    }

    /// A connection subscribed to a channel.
    #[inline]
    pub fn channel_subscribed(&self, channel: ChannelType) {
        self.add(AppCounter::ChannelSubscriptions.of(channel), 1);
    }

    /// A connection unsubscribed from a channel (including when it closed).
    #[inline]
    pub fn channel_unsubscribed(&self, channel: ChannelType) {
        self.add(AppCounter::ChannelUnsubscriptions.of(channel), 1);
    }

    /// A channel got its first subscriber: `active_channels` goes up.
    #[inline]
    pub fn channel_occupied(&self, channel: ChannelType) {
        self.0.active_channels.get(channel).inc();
    }

    /// A channel lost its last subscriber: `active_channels` goes down.
    #[inline]
    pub fn channel_vacated(&self, channel: ChannelType) {
        self.0.active_channels.get(channel).dec();
    }

    /// A member joined a presence channel (counted per channel joined, across all of the app's
    /// presence channels).
    pub fn presence_member_added(&self) {
        self.0.presence_members.inc();
    }

    /// A member left a presence channel.
    pub fn presence_member_removed(&self) {
        self.0.presence_members.dec();
    }

    /// A rate limiter was consulted. Call it for every decision, allowed or not.
    #[inline]
    pub fn rate_limit_checked(&self, limiter: LimiterType) {
        self.add(AppCounter::RateLimitChecks.of(limiter), 1);
    }

    /// A rate limiter refused a request; a subset of the checks, so
    /// `triggered / checks` is the refusal ratio.
    #[inline]
    pub fn rate_limit_triggered(&self, limiter: LimiterType) {
        self.add(AppCounter::RateLimitTriggered.of(limiter), 1);
    }

    /// A webhook for `event` was delivered, taking `duration`.
    pub fn webhook_sent(&self, event: &str, duration: Duration) {
        let handles = self.webhook_event(event);
        handles.counters.add(handles.sent, 1);
        self.0.webhook_duration.observe(duration.as_secs_f64());
    }

    /// A webhook for `event` failed after `duration`. Failures are attempts too, so this counts in
    /// both `webhooks_sent_total` and `webhooks_failed_total`: `failed / sent` is the failure
    /// ratio.
    pub fn webhook_failed(&self, event: &str, duration: Duration) {
        let handles = self.webhook_event(event);
        handles.counters.add(handles.sent, 1);
        handles.counters.add(handles.failed, 1);
        self.0.webhook_duration.observe(duration.as_secs_f64());
    }

    fn webhook_event(&self, event: &str) -> &WebhookEvent {
        let app = &self.0;
        app.webhook_events.name(event, |event| {
            let mut c = CounterBlockBuilder::new(&app.counters_store);
            let sent = c.add(&app.webhooks_sent, &[&app.app_id, event]);
            let failed = c.add(&app.webhooks_failed, &[&app.app_id, event]);
            WebhookEvent {
                counters: c.build(),
                sent,
                failed,
            }
        })
    }
}
