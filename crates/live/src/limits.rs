//! [`Limits`]: the caps on each free-form label's distinct values, and the counters' shard count.

/// The most shards a counter keeps, whatever [`Limits::shards`] asks for: far more threads than
/// any server records from at once, and 8 KiB per counter series.
pub(crate) const MAX_SHARDS: usize = 1024;

/// Caps on the free-form labels, past which new values share the [`OVERFLOW_LABEL`] series and
/// are counted in `label_overflow_total{label="..."}`; and the counters' shard count.
///
/// Every series costs memory in the server and in Prometheus, and a tenant minting app ids (or a
/// router handing out raw paths) could otherwise create them without bound.
///
/// Values longer than [`MAX_LABEL_VALUE_LEN`] bytes fold the same way, so the exposition is
/// bounded in bytes as well as in series: at most `apps + 1` apps' series (about 13 KiB each at
/// 128-byte ids, plus two lines per webhook event), the same for each other capped label, and
/// no line longer than its name plus two 128-byte values (twice that when every byte needs
/// escaping). Ids beyond the caps or the length add nothing past the one overflow series.
///
/// [`MAX_LABEL_VALUE_LEN`]: super::MAX_LABEL_VALUE_LEN
///
/// [`OVERFLOW_LABEL`]: super::OVERFLOW_LABEL
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Distinct `app_id` values (default 1000).
    pub apps: usize,
    /// Distinct (method, route template) pairs; later routes share the `GET` overflow endpoint
    /// (default 256).
    pub routes: usize,
    /// Distinct queue names (default 64).
    pub queues: usize,
    /// Distinct cache names (default 64).
    pub caches: usize,
    /// Distinct adapter names (default 64).
    pub adapters: usize,
    /// Distinct webhook `event` names per app (default 64; Pusher defines about six).
    pub webhook_events_per_app: usize,
    /// Shards per counter, rounded up to a power of two: each recording thread adds to its own
    /// shard, so threads never contend on a cache line as long as there are at least as many
    /// shards as threads recording at once. Each shard costs 8 bytes per counter series
    /// (default [`Limits::default_shards`]).
    pub shards: usize,
}

impl Limits {
    /// Twice the available parallelism (a server runs about one worker per core, plus blocking
    /// threads that record now and then), capped at 64.
    pub fn default_shards() -> usize {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        (2 * cores).next_power_of_two().min(64)
    }

    /// `shards` as used: a power of two from 1 to 1024 (so no value can overflow).
    pub fn shard_count(&self) -> usize {
        self.shards.clamp(1, MAX_SHARDS).next_power_of_two()
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            apps: 1000,
            routes: 256,
            queues: 64,
            caches: 64,
            adapters: 64,
            // Pusher defines about six webhook events, so this only stops abuse.
            webhook_events_per_app: 64,
            shards: Limits::default_shards(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_shard_count_is_a_power_of_two_in_range() {
        for (asked, used) in [
            (0, 1),
            (3, 4),
            (64, 64),
            (MAX_SHARDS + 1, MAX_SHARDS),
            (usize::MAX, MAX_SHARDS),
        ] {
            let limits = Limits {
                shards: asked,
                ..Limits::default()
            };
            assert_eq!(limits.shard_count(), used, "{asked}");
        }
    }
}
