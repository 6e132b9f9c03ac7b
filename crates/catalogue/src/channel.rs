//! The channel type a Pusher channel name implies: the one label value a server derives rather
//! than knows, so both a driver and the demo classify a name the same way.

use crate::catalogue::ChannelType;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::HttpMethod;

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
