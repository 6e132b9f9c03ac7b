//! [`AppMetrics`]: the recording handle of one `app_id`, kept in each connection's state.
//!
//! It covers connections, messages, channels, presence, rate limits and webhooks.

use std::sync::Arc;
use std::time::Duration;

use super::counter::{Counter, CounterBlockBuilder};
use super::gauge::Gauge;
use super::histogram::Histogram;
use super::labels::{ChannelType, ErrorType, LimiterType};
use super::registration::{CounterFamily, Families};
use super::resolve::{HandleCache, Name, PerValue};
use super::store::{CounterId, CounterStore, Counters};

type PerChannel<M> = PerValue<ChannelType, M, { ChannelType::COUNT }>;
type PerError<M> = PerValue<ErrorType, M, { ErrorType::COUNT }>;
type PerLimiter<M> = PerValue<LimiterType, M, { LimiterType::COUNT }>;

/// Recording handles for one app, resolved once by [`Metrics::app`](super::Metrics::app).
///
/// Cloning is an `Arc` clone; keep one in each connection's state. Every method is a relaxed
/// atomic add on a pre-resolved series (webhooks, whose event names are free-form, also take a
/// read lock). Every series of the app except the per-event webhook counters exists, at 0, from
/// the moment the handle is resolved.
#[derive(Clone)]
pub struct AppMetrics(Arc<AppHandles>);

struct AppHandles {
    /// Every counter of the app, in one sharded block; the fields below index into it.
    counters: Counters,
    total_connections: CounterId,
    connection_errors: PerError<CounterId>,
    messages_sent: PerChannel<CounterId>,
    messages_received: PerChannel<CounterId>,
    client_events: PerChannel<CounterId>,
    broadcast_messages: PerChannel<CounterId>,
    channel_subscriptions: PerChannel<CounterId>,
    channel_unsubscriptions: PerChannel<CounterId>,
    rate_limit_checks: PerLimiter<CounterId>,
    rate_limit_triggered: PerLimiter<CounterId>,
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
        // Channel-typed counters first: they are the per-message ones, so they share lines.
        let messages_sent = PerValue::resolve(app, |v| c.add(&f.messages_sent, v));
        let messages_received = PerValue::resolve(app, |v| c.add(&f.messages_received, v));
        let client_events = PerValue::resolve(app, |v| c.add(&f.client_events, v));
        let broadcast_messages = PerValue::resolve(app, |v| c.add(&f.broadcast_messages, v));
        let channel_subscriptions = PerValue::resolve(app, |v| c.add(&f.channel_subscriptions, v));
        let channel_unsubscriptions = PerValue::resolve(app, |v| c.add(&f.channel_unsubscriptions, v));
        let rate_limit_checks = PerValue::resolve(app, |v| c.add(&f.rate_limit_checks, v));
        let rate_limit_triggered = PerValue::resolve(app, |v| c.add(&f.rate_limit_triggered, v));
        let total_connections = c.add(&f.total_connections, app);
        let connection_errors = PerValue::resolve(app, |v| c.add(&f.connection_errors, v));
        AppMetrics(Arc::new(AppHandles {
            counters: c.build(),
            total_connections,
            connection_errors,
            messages_sent,
            messages_received,
            client_events,
            broadcast_messages,
            channel_subscriptions,
            channel_unsubscriptions,
            rate_limit_checks,
            rate_limit_triggered,
            active_connections: Gauge::register(&f.active_connections, app),
            connections_per_app: Gauge::register(&f.connections_per_app, app),
            active_channels: PerValue::resolve(app, |v| Gauge::register(&f.active_channels, v)),
            presence_members: Gauge::register(&f.presence_members, app),
            webhook_duration: Histogram::register(&f.webhook_duration, app),
            webhook_events: HandleCache::names(max_events, folded_events),
            webhooks_sent: f.webhooks_sent.clone(),
            webhooks_failed: f.webhooks_failed.clone(),
            counters_store: f.counters.clone(),
            app_id: app_id.to_string(),
        }))
    }

    #[inline(always)]
    fn add(&self, id: CounterId, n: u64) {
        self.0.counters.add(id, n);
    }

    /// The `app_id` label value these handles record under (the overflow value past the cap).
    pub fn app_id(&self) -> &str {
        &self.0.app_id
    }

    /// A WebSocket connection was established: `total_connections` counts it, and both
    /// `active_connections` and `connections_per_app` go up by one.
    pub fn connection_opened(&self) {
        self.add(self.0.total_connections, 1);
        self.0.active_connections.inc();
        self.0.connections_per_app.inc();
    }

    /// An established connection ended (for whatever reason).
    pub fn connection_closed(&self) {
        self.0.active_connections.dec();
        self.0.connections_per_app.dec();
    }

    /// A connection failed or was refused. This does not touch the active gauges: pair it with
    /// [`connection_closed`](Self::connection_closed) when the failing connection had been opened.
    pub fn connection_error(&self, error: ErrorType) {
        self.add(*self.0.connection_errors.get(error), 1);
    }

    /// The server sent one message to one client.
    #[inline]
    pub fn message_sent(&self, channel: ChannelType) {
        self.add(*self.0.messages_sent.get(channel), 1);
    }

    /// The server sent `count` messages on channels of one type.
    #[inline]
    pub fn messages_sent(&self, channel: ChannelType, count: u64) {
        self.add(*self.0.messages_sent.get(channel), count);
    }

    /// A client sent the server one message (any Pusher frame on a channel).
    #[inline]
    pub fn message_received(&self, channel: ChannelType) {
        self.add(*self.0.messages_received.get(channel), 1);
    }

    /// A client event (`client-*`) was accepted for relaying. Only `client_events_total` counts
    /// it; the frame itself is a [`message_received`](Self::message_received) and each delivery a
    /// [`message_sent`](Self::message_sent) (or one [`broadcast`](Self::broadcast)).
    #[inline]
    pub fn client_event(&self, channel: ChannelType) {
        self.add(*self.0.client_events.get(channel), 1);
    }

    /// One event was published to a channel and fanned out to `recipients` connections.
    ///
    /// Counted once: `broadcast_messages_total` goes up by 1 and `messages_sent_total` by
    /// `recipients`, so `messages_sent / broadcast_messages` is the mean fan-out. Do not also call
    /// [`message_sent`](Self::message_sent) for those deliveries.
    #[inline]
    pub fn broadcast(&self, channel: ChannelType, recipients: u64) {
        self.add(*self.0.broadcast_messages.get(channel), 1);
        self.add(*self.0.messages_sent.get(channel), recipients);
    }

    /// A connection subscribed to a channel.
    pub fn channel_subscribed(&self, channel: ChannelType) {
        self.add(*self.0.channel_subscriptions.get(channel), 1);
    }

    /// A connection unsubscribed from a channel (including when it closed).
    pub fn channel_unsubscribed(&self, channel: ChannelType) {
        self.add(*self.0.channel_unsubscriptions.get(channel), 1);
    }

    /// A channel got its first subscriber: `active_channels` goes up.
    pub fn channel_occupied(&self, channel: ChannelType) {
        self.0.active_channels.get(channel).inc();
    }

    /// A channel lost its last subscriber: `active_channels` goes down.
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
    pub fn rate_limit_checked(&self, limiter: LimiterType) {
        self.add(*self.0.rate_limit_checks.get(limiter), 1);
    }

    /// A rate limiter refused a request; a subset of the checks, so
    /// `triggered / checks` is the refusal ratio.
    pub fn rate_limit_triggered(&self, limiter: LimiterType) {
        self.add(*self.0.rate_limit_triggered.get(limiter), 1);
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

    fn webhook_event(&self, event: &str) -> WebhookEvent {
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
