//! Sockudo 5.2's label spellings, mapped onto the catalogue's closed domains.
//!
//! One table per label, read by the drop-in driver (`integrations/sockudo-metrics`) for every
//! trait call.
//!
//! The server's own strings are not the catalogue's (`private_encrypted`, `authentication_failed`,
//! limiter names that are config names), so every value it can send is listed here, and a value
//! it may add later falls into a documented catch-all rather than disappearing.

use sockudo_obs_live::{ChannelType, ErrorType, LimiterType};

/// `ChannelType::as_str()` of sockudo-core 5.2, to ours. `None` for a value Sockudo 5.2 never
/// sends: the caller then derives the type from the channel name, if it has one.
pub const CHANNEL_TYPES: &[(&str, ChannelType)] = &[
    ("public", ChannelType::Public),
    ("private", ChannelType::Private),
    ("presence", ChannelType::Presence),
    ("private_encrypted", ChannelType::PrivateEncrypted),
    ("cache", ChannelType::Cache),
];

/// Every `error_type` Sockudo 5.2 passes to `mark_connection_error`, to ours.
pub const ERROR_TYPES: &[(&str, ErrorType)] = &[
    ("app_not_found", ErrorType::AppNotFound),
    ("app_disabled", ErrorType::AppDisabled),
    // The app lookup itself failed before the upgrade completed.
    ("app_validation_failed", ErrorType::Handshake),
    ("origin_not_allowed", ErrorType::Handshake),
    ("invalid_message_format", ErrorType::Protocol),
    ("message_parse_error", ErrorType::Protocol),
    ("missing_event_name", ErrorType::Protocol),
    ("authentication_failed", ErrorType::Auth),
    ("authentication_error", ErrorType::Auth),
    ("socket_handling_failed", ErrorType::Internal),
];

/// The error type an unlisted Sockudo `error_type` counts as, so the total stays right.
pub const UNLISTED_ERROR_TYPE: ErrorType = ErrorType::Internal;

/// The `limiter_type` of Sockudo 5.2's per-connection limiters (`mark_rate_limit_check`), to ours.
pub const CONNECTION_LIMITERS: &[(&str, LimiterType)] = &[
    ("messages", LimiterType::Websocket),
    ("client_events", LimiterType::ClientEvents),
    ("presence_update", LimiterType::ClientEvents),
];

/// The `request_context` of Sockudo 5.2's HTTP middleware limiter (`*_with_context`), to ours.
/// Its `limiter_type` is a config name, so the request context decides.
pub const REQUEST_CONTEXTS: &[(&str, LimiterType)] = &[
    ("http_api", LimiterType::Api),
    ("websocket_upgrade", LimiterType::Websocket),
    ("health_check", LimiterType::Api),
    ("other", LimiterType::Api),
];

/// What an unlisted limiter counts as: Sockudo's limiters outside a connection are HTTP ones.
pub const UNLISTED_LIMITER: LimiterType = LimiterType::Api;

/// Sockudo 5.2's WebSocket endpoint, as its router spells it. An upgrade there opens a
/// connection (the connection families count it), it is not an HTTP API request: the
/// drivers leave it out of the HTTP families, so the HTTP API's error ratio, latency and SLOs
/// are not diluted by every client connecting.
pub const WEBSOCKET_ROUTE: &str = "/app/{appKey}";

/// The `app_id` Sockudo 5.2 records for limiters that run before an app is known (the HTTP API
/// and WebSocket-upgrade middleware).
pub const GLOBAL_APP_ID: &str = "global";

#[inline]
fn look_up<T: Copy>(table: &[(&str, T)], value: &str) -> Option<T> {
    table.iter().find(|(name, _)| *name == value).map(|&(_, v)| v)
}

/// The channel type of a Sockudo `channel_type` string, or of the channel name when the string
/// is unknown.
#[inline]
pub fn channel_type(sockudo_value: &str) -> Option<ChannelType> {
    look_up(CHANNEL_TYPES, sockudo_value)
}

/// The error type of a Sockudo `error_type`.
#[inline]
pub fn error_type(sockudo_value: &str) -> ErrorType {
    look_up(ERROR_TYPES, sockudo_value).unwrap_or(UNLISTED_ERROR_TYPE)
}

/// The limiter of a per-connection limiter decision.
#[inline]
pub fn connection_limiter(limiter_type: &str) -> LimiterType {
    look_up(CONNECTION_LIMITERS, limiter_type).unwrap_or(UNLISTED_LIMITER)
}

/// The limiter of an HTTP-middleware decision, from its request context.
#[inline]
pub fn request_limiter(request_context: &str) -> LimiterType {
    look_up(REQUEST_CONTEXTS, request_context).unwrap_or(UNLISTED_LIMITER)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sockudo_channel_type_maps_to_its_catalogue_spelling() {
        let expected = [
            ("public", "public"),
            ("private", "private"),
            ("presence", "presence"),
            ("private_encrypted", "private-encrypted"),
            ("cache", "cache"),
        ];
        for (sockudo, ours) in expected {
            assert_eq!(channel_type(sockudo).map(|c| c.as_str()), Some(ours), "{sockudo}");
        }
        assert_eq!(
            channel_type("private-encrypted"),
            None,
            "ours is not Sockudo's spelling"
        );
        assert_eq!(
            CHANNEL_TYPES.len(),
            ChannelType::COUNT,
            "one row per channel type"
        );
    }

    #[test]
    fn every_sockudo_error_type_maps() {
        let expected = [
            ("app_not_found", "app_not_found"),
            ("app_disabled", "app_disabled"),
            ("app_validation_failed", "handshake"),
            ("origin_not_allowed", "handshake"),
            ("invalid_message_format", "protocol"),
            ("message_parse_error", "protocol"),
            ("missing_event_name", "protocol"),
            ("authentication_failed", "auth"),
            ("authentication_error", "auth"),
            ("socket_handling_failed", "internal"),
        ];
        for (sockudo, ours) in expected {
            assert_eq!(error_type(sockudo).as_str(), ours, "{sockudo}");
        }
        assert_eq!(expected.len(), ERROR_TYPES.len(), "a test row per table row");
        assert_eq!(error_type("something_new").as_str(), "internal");
    }

    #[test]
    fn every_sockudo_limiter_maps() {
        for (sockudo, ours) in [
            ("messages", "websocket"),
            ("client_events", "client_events"),
            ("presence_update", "client_events"),
        ] {
            assert_eq!(connection_limiter(sockudo).as_str(), ours, "{sockudo}");
        }
        for (context, ours) in [
            ("http_api", "api"),
            ("websocket_upgrade", "websocket"),
            ("health_check", "api"),
            ("other", "api"),
        ] {
            assert_eq!(request_limiter(context).as_str(), ours, "{context}");
        }
        assert_eq!(connection_limiter("new_limiter").as_str(), "api");
        assert_eq!(request_limiter("new_context").as_str(), "api");
    }
}
