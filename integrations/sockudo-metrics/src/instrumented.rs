//! What the drop-in records from the calls only the instrumented Sockudo build makes (feature
//! `instrumented`; the calls are added to `MetricsInterface` by the patch series in
//! `integrations/sockudo-5.2.0-patches/`). `driver.rs` delegates each of those trait methods here.
//!
//! | server call (patch) | catalogue |
//! |---|---|
//! | `mark_ws_message_sent_on_channel` (0005) | `messages_sent_total` |
//! | `mark_ws_message_received_on_channel` (0005) | `messages_received_total` |
//! | `mark_channel_broadcast` (0005) | `broadcast_messages_total`, `messages_sent_total` |
//! | `mark_client_event` (0005) | `client_events_total` |
//! | `mark_presence_member_added`, `_removed` (0004) | `presence_members` |
//! | `track_http_request` | `http_requests_total`, `http_request_duration_seconds`, `http_response_size_bytes` |
//! | `track_webhook_delivery` (0006) | `webhooks_sent_total`, `webhooks_failed_total`, `webhook_duration_seconds` |
//! | `mark_cache_operation` | `cache_hits_total`, `cache_misses_total`, `cache_operations_total` |
//! | `track_adapter_operation` | `adapter_operations_total`, `adapter_errors_total`, `adapter_latency_seconds` |
//!
//! A label value outside the catalogue's closed domain (an HTTP method, cache or adapter
//! operation the catalogue does not list) records nothing rather than a guessed value.

use std::time::Duration;

use sockudo_obs_live::{AdapterOperation, CacheOperation, ChannelType, HttpMethod, Metrics, RouteTemplates};

/// The endpoint of requests no route matched (Sockudo's fallback), as sockudo-obs's own HTTP
/// layer spells it; patch 0007 passes its own `UNMATCHED_ROUTE` with the same spelling.
pub use sockudo_obs_live::UNMATCHED_ENDPOINT as UNMATCHED_ROUTE;

/// `ms` milliseconds; a negative or NaN latency is 0. A multiply and a conversion: through
/// `Duration::try_from_secs_f64` it was about 55 instructions, once per HTTP request.
fn millis(ms: f64) -> Duration {
    // `as` saturates: NaN and negatives give 0, anything past 584 years the most a u64 holds.
    Duration::from_nanos((ms * 1e6) as u64)
}

/// One message sent to one socket on `channel_name`.
pub fn message_sent_on_channel(metrics: &Metrics, app_id: &str, channel_name: &str) {
    let channel = ChannelType::of_channel(channel_name);
    metrics.with_app(app_id, move |app| app.message_sent(channel));
}

/// One client frame addressed to `channel_name`.
pub fn message_received_on_channel(metrics: &Metrics, app_id: &str, channel_name: &str) {
    let channel = ChannelType::of_channel(channel_name);
    metrics.with_app(app_id, move |app| app.message_received(channel));
}

/// One publish sent to `recipients` local sockets: one broadcast and its deliveries. The server
/// makes this call instead of `mark_ws_messages_sent_batch` + `track_broadcast_latency` on its
/// local fan-out, so nothing is counted twice.
pub fn channel_broadcast(metrics: &Metrics, app_id: &str, channel_name: &str, recipients: usize) {
    if recipients == 0 {
        return;
    }
    let channel = ChannelType::of_channel(channel_name);
    metrics.with_app(app_id, move |app| app.broadcast(channel, recipients as u64));
}

/// A relayed client event on the channel named `channel_name`.
pub fn client_event(metrics: &Metrics, app_id: &str, channel_name: &str) {
    let channel = ChannelType::of_channel(channel_name);
    metrics.with_app(app_id, move |app| app.client_event(channel));
}

pub fn presence_member_added(metrics: &Metrics, app_id: &str) {
    metrics.with_app(app_id, |app| app.presence_member_added());
}

pub fn presence_member_removed(metrics: &Metrics, app_id: &str) {
    metrics.with_app(app_id, |app| app.presence_member_removed());
}

/// One HTTP request, `route` the matched template in axum's spelling (`/apps/{app_id}/events`).
/// The WebSocket upgrade is a connection, not an HTTP API request: not recorded here.
pub fn http_request(
    routes: &RouteTemplates,
    method: &str,
    route: &str,
    status: u16,
    latency_ms: f64,
    response_size: u64,
) {
    let Ok(method) = method.parse::<HttpMethod>() else {
        return;
    };
    if route == sockudo_obs_sockudo::spellings::WEBSOCKET_ROUTE {
        return;
    }
    routes
        .route(method, route)
        .request_done(status, millis(latency_ms), response_size);
}

/// One webhook delivery carrying `events`: each event counts a webhook sent (and failed, when
/// the delivery failed), and the delivery's duration is observed once per event, since the
/// catalogue's handles record an event's count and its duration together.
pub fn webhook_delivery(metrics: &Metrics, app_id: &str, events: &[&str], success: bool, latency_ms: f64) {
    let duration = millis(latency_ms);
    metrics.with_app(app_id, move |app| {
        for event in events {
            if success {
                app.webhook_sent(event, duration);
            } else {
                app.webhook_failed(event, duration);
            }
        }
    });
}

/// One cache operation; `hit` is known for lookups only.
pub fn cache_operation(metrics: &Metrics, cache: &str, operation: &str, hit: Option<bool>) {
    let handles = metrics.cache(cache);
    if let Ok(op) = operation.parse::<CacheOperation>() {
        handles.operation(op);
    }
    match hit {
        Some(true) => handles.hit(),
        Some(false) => handles.miss(),
        None => {}
    }
}

/// One adapter operation of the adapter named `adapter`.
pub fn adapter_operation(metrics: &Metrics, adapter: &str, operation: &str, success: bool, latency_ms: f64) {
    let Ok(op) = operation.parse::<AdapterOperation>() else {
        return;
    };
    let handles = metrics.adapter(adapter);
    if success {
        handles.operation(op, millis(latency_ms));
    } else {
        handles.operation_failed(op, millis(latency_ms));
    }
}

#[cfg(test)]
mod tests;
