//! [`AppMetrics`]: the per-app recording handle a connection keeps, covering connections,
//! messages, channels, presence, rate limits and webhooks for one `app_id`.

use std::sync::Arc;
use std::time::Duration;

use prometheus::{Histogram, IntCounter, IntCounterVec, IntGauge};

use super::families::Families;
use super::labels::{ChannelType, ErrorType, LimiterType};
use super::resolve::{child, HandleCache, PerValue};

type PerChannel<M> = PerValue<ChannelType, M, { ChannelType::COUNT }>;
type PerError<M> = PerValue<ErrorType, M, { ErrorType::COUNT }>;
type PerLimiter<M> = PerValue<LimiterType, M, { LimiterType::COUNT }>;

/// Distinct webhook event names kept per app; Pusher defines about six, so this only stops abuse.
pub const MAX_WEBHOOK_EVENTS_PER_APP: usize = 64;

/// Recording handles for one app, resolved once by [`Metrics::app`](super::Metrics::app).
///
/// Cloning is an `Arc` clone; keep one in each connection's state. Every method is a relaxed
/// atomic add on a pre-resolved series (webhooks, whose event names are free-form, also take a
/// read lock). Every series of the app except the per-event webhook counters exists, at 0, from
/// the moment the handle is resolved.
#[derive(Clone)]
pub struct AppMetrics(Arc<AppHandles>);

struct AppHandles {
    active_connections: IntGauge,
    connections_per_app: IntGauge,
    total_connections: IntCounter,
    connection_errors: PerError<IntCounter>,
    messages_sent: PerChannel<IntCounter>,
    messages_received: PerChannel<IntCounter>,
    client_events: PerChannel<IntCounter>,
    broadcast_messages: PerChannel<IntCounter>,
    active_channels: PerChannel<IntGauge>,
    channel_subscriptions: PerChannel<IntCounter>,
    channel_unsubscriptions: PerChannel<IntCounter>,
    presence_members: IntGauge,
    rate_limit_checks: PerLimiter<IntCounter>,
    rate_limit_triggered: PerLimiter<IntCounter>,
    webhook_duration: Histogram,
    webhook_events: HandleCache<String, WebhookEvent>,
    webhooks_sent: IntCounterVec,
    webhooks_failed: IntCounterVec,
    app_id: String,
}

/// The two counters of one webhook event, resolved together so the failure ratio has both sides
/// from the first webhook on.
#[derive(Clone)]
struct WebhookEvent {
    sent: IntCounter,
    failed: IntCounter,
}

impl AppMetrics {
    pub(crate) fn resolve(f: &Families, app_id: &str) -> AppMetrics {
        let app = &[app_id][..];
        AppMetrics(Arc::new(AppHandles {
            active_connections: child(&f.active_connections, app),
            connections_per_app: child(&f.connections_per_app, app),
            total_connections: child(&f.total_connections, app),
            connection_errors: PerValue::resolve(&f.connection_errors, app),
            messages_sent: PerValue::resolve(&f.messages_sent, app),
            messages_received: PerValue::resolve(&f.messages_received, app),
            client_events: PerValue::resolve(&f.client_events, app),
            broadcast_messages: PerValue::resolve(&f.broadcast_messages, app),
            active_channels: PerValue::resolve(&f.active_channels, app),
            channel_subscriptions: PerValue::resolve(&f.channel_subscriptions, app),
            channel_unsubscriptions: PerValue::resolve(&f.channel_unsubscriptions, app),
            presence_members: child(&f.presence_members, app),
            rate_limit_checks: PerValue::resolve(&f.rate_limit_checks, app),
            rate_limit_triggered: PerValue::resolve(&f.rate_limit_triggered, app),
            webhook_duration: child(&f.webhook_duration, app),
            webhook_events: HandleCache::names(MAX_WEBHOOK_EVENTS_PER_APP),
            webhooks_sent: f.webhooks_sent.clone(),
            webhooks_failed: f.webhooks_failed.clone(),
            app_id: app_id.to_string(),
        }))
    }

    /// The `app_id` label value these handles record under (the overflow value past the cap).
    pub fn app_id(&self) -> &str {
        &self.0.app_id
    }

    /// A WebSocket connection was established: `total_connections` counts it, and both
    /// `active_connections` and `connections_per_app` go up by one.
    pub fn connection_opened(&self) {
        self.0.total_connections.inc();
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
        self.0.connection_errors.get(error).inc();
    }

    /// The server sent one message to one client.
    #[inline]
    pub fn message_sent(&self, channel: ChannelType) {
        self.0.messages_sent.get(channel).inc();
    }

    /// The server sent `count` messages on channels of one type.
    #[inline]
    pub fn messages_sent(&self, channel: ChannelType, count: u64) {
        self.0.messages_sent.get(channel).inc_by(count);
    }

    /// A client sent the server one message (any Pusher frame on a channel).
    #[inline]
    pub fn message_received(&self, channel: ChannelType) {
        self.0.messages_received.get(channel).inc();
    }

    /// A client event (`client-*`) was accepted for relaying. Only `client_events_total` counts
    /// it; the frame itself is a [`message_received`](Self::message_received) and each delivery a
    /// [`message_sent`](Self::message_sent) (or one [`broadcast`](Self::broadcast)).
    #[inline]
    pub fn client_event(&self, channel: ChannelType) {
        self.0.client_events.get(channel).inc();
    }

    /// One event was published to a channel and fanned out to `recipients` connections.
    ///
    /// Counted once: `broadcast_messages_total` goes up by 1 and `messages_sent_total` by
    /// `recipients`, so `messages_sent / broadcast_messages` is the mean fan-out. Do not also call
    /// [`message_sent`](Self::message_sent) for those deliveries.
    #[inline]
    pub fn broadcast(&self, channel: ChannelType, recipients: u64) {
        self.0.broadcast_messages.get(channel).inc();
        self.0.messages_sent.get(channel).inc_by(recipients);
    }

    /// A connection subscribed to a channel.
    pub fn channel_subscribed(&self, channel: ChannelType) {
        self.0.channel_subscriptions.get(channel).inc();
    }

    /// A connection unsubscribed from a channel (including when it closed).
    pub fn channel_unsubscribed(&self, channel: ChannelType) {
        self.0.channel_unsubscriptions.get(channel).inc();
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
        self.0.rate_limit_checks.get(limiter).inc();
    }

    /// A rate limiter refused a request; a subset of the checks, so
    /// `triggered / checks` is the refusal ratio.
    pub fn rate_limit_triggered(&self, limiter: LimiterType) {
        self.0.rate_limit_triggered.get(limiter).inc();
    }

    /// A webhook for `event` was delivered, taking `duration`.
    pub fn webhook_sent(&self, event: &str, duration: Duration) {
        self.webhook_event(event).sent.inc();
        self.0.webhook_duration.observe(duration.as_secs_f64());
    }

    /// A webhook for `event` failed after `duration`. Failures are attempts too, so this counts in
    /// both `webhooks_sent_total` and `webhooks_failed_total`: `failed / sent` is the failure
    /// ratio.
    pub fn webhook_failed(&self, event: &str, duration: Duration) {
        let handles = self.webhook_event(event);
        handles.sent.inc();
        handles.failed.inc();
        self.0.webhook_duration.observe(duration.as_secs_f64());
    }

    fn webhook_event(&self, event: &str) -> WebhookEvent {
        let app = &self.0;
        app.webhook_events.get_or_resolve(event, |event| WebhookEvent {
            sent: child(&app.webhooks_sent, &[&app.app_id, event]),
            failed: child(&app.webhooks_failed, &[&app.app_id, event]),
        })
    }
}
