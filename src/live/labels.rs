//! The closed label domains as Rust enums, so a caller cannot record an unlisted value.
//!
//! Each enum's `as_str()` values are the catalogue's `Domain::Enum` list, in order.

use std::fmt;
use std::str::FromStr;

use crate::catalogue::{self, Label};

/// A closed label domain: every value is known at compile time and listed in the catalogue.
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
    pub label: &'static str,
    pub value: String,
}

impl fmt::Display for UnknownLabelValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} is not a known {} value", self.value, self.label)
    }
}

impl std::error::Error for UnknownLabelValue {}

/// Declares one closed-domain enum: the variants, their label values, and the trait plumbing.
macro_rules! label_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident for $label:path {
            $($(#[$vmeta:meta])* $variant:ident => $value:literal,)+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            /// Every value, in the catalogue's order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];
            /// How many values the domain has (the length of the handle arrays).
            pub const COUNT: usize = Self::ALL.len();

            /// The exposed label value.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $value,)+
                }
            }
        }

        impl LabelValue for $name {
            const LABEL: Label = $label;
            const ALL: &'static [Self] = $name::ALL;

            fn as_str(self) -> &'static str {
                $name::as_str(self)
            }

            #[inline]
            fn index(self) -> usize {
                self as usize
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownLabelValue;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::ALL.iter().copied().find(|v| v.as_str() == s).ok_or_else(|| UnknownLabelValue {
                    label: $label.name,
                    value: s.to_string(),
                })
            }
        }
    };
}

label_enum! {
    /// The Pusher channel kinds, told apart by the channel name's prefix.
    pub enum ChannelType for catalogue::CHANNEL_TYPE {
        Public => "public",
        Private => "private",
        Presence => "presence",
        PrivateEncrypted => "private-encrypted",
        Cache => "cache",
    }
}

impl ChannelType {
    /// The type of a channel from its name, as Pusher defines it. Cache channels
    /// (`cache-`, `private-cache-`, `private-encrypted-cache-`, `presence-cache-`) count as `cache`
    /// whatever their privacy, because their behaviour (last event replay) is what sets them apart.
    #[inline]
    pub fn of_channel(name: &str) -> ChannelType {
        // One pass over the prefixes, by first byte: the drop-in classifies every publish.
        let (kind, rest) = if !name.starts_with('p') {
            (ChannelType::Public, name)
        } else if let Some(rest) = name.strip_prefix("private-") {
            match rest.strip_prefix("encrypted-") {
                Some(rest) => (ChannelType::PrivateEncrypted, rest),
                None => (ChannelType::Private, rest),
            }
        } else if let Some(rest) = name.strip_prefix("presence-") {
            (ChannelType::Presence, rest)
        } else {
            (ChannelType::Public, name)
        };
        if rest.starts_with("cache-") {
            ChannelType::Cache
        } else {
            kind
        }
    }
}

label_enum! {
    /// HTTP request methods of the REST API.
    pub enum HttpMethod for catalogue::METHOD {
        Get => "GET",
        Head => "HEAD",
        Post => "POST",
        Put => "PUT",
        Patch => "PATCH",
        Delete => "DELETE",
        Options => "OPTIONS",
    }
}

label_enum! {
    /// Why a WebSocket connection failed or was refused.
    pub enum ErrorType for catalogue::ERROR_TYPE {
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
}

label_enum! {
    /// Which rate limiter made a decision.
    pub enum LimiterType for catalogue::LIMITER_TYPE {
        /// The HTTP API.
        Api => "api",
        /// WebSocket frames from a connection.
        Websocket => "websocket",
        /// Client events (`client-*`) from a connection.
        ClientEvents => "client_events",
        /// The backend (HTTP API publish) per app.
        Backend => "backend",
    }
}

label_enum! {
    /// What was done to a cache.
    pub enum CacheOperation for catalogue::CACHE_OPERATION {
        Get => "get",
        Set => "set",
        Delete => "delete",
        Expire => "expire",
    }
}

label_enum! {
    /// What the horizontal adapter (local, Redis, NATS, ...) was asked to do.
    pub enum AdapterOperation for catalogue::ADAPTER_OPERATION {
        Broadcast => "broadcast",
        Subscribe => "subscribe",
        Unsubscribe => "unsubscribe",
        PresenceSync => "presence_sync",
        Request => "request",
        Publish => "publish",
    }
}

label_enum! {
    /// The capped labels, as `label_overflow_total` names them.
    pub enum CappedLabel for catalogue::CAPPED_LABEL {
        AppId => "app_id",
        Endpoint => "endpoint",
        Queue => "queue",
        Cache => "cache",
        Adapter => "adapter",
        Event => "event",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_type_follows_the_pusher_prefixes() {
        for (name, expected) in [
            ("my-channel", ChannelType::Public),
            ("private-orders", ChannelType::Private),
            ("private-encrypted-dm", ChannelType::PrivateEncrypted),
            ("presence-room", ChannelType::Presence),
            ("cache-prices", ChannelType::Cache),
            ("private-cache-x", ChannelType::Cache),
            ("private-encrypted-cache-x", ChannelType::Cache),
            ("presence-cache-x", ChannelType::Cache),
            ("privatestuff", ChannelType::Public),
            ("private-encrypted", ChannelType::Private),
            ("private-encryptedcache-x", ChannelType::Private),
            ("private-encrypted-", ChannelType::PrivateEncrypted),
            ("private-cache", ChannelType::Private),
            ("presence-", ChannelType::Presence),
            ("cache-", ChannelType::Cache),
            ("", ChannelType::Public),
        ] {
            assert_eq!(ChannelType::of_channel(name), expected, "{name}");
        }
    }

    #[test]
    fn values_parse_back() {
        assert_eq!("private-encrypted".parse(), Ok(ChannelType::PrivateEncrypted));
        assert_eq!("POST".parse(), Ok(HttpMethod::Post));
        let err = "post".parse::<HttpMethod>().unwrap_err();
        assert_eq!(err.to_string(), "\"post\" is not a known method value");
    }
}
