//! Resolving label values into handles once, so recording never hashes labels.
//!
//! A fixed array per closed label ([`PerValue`]) and a bounded, read-mostly map per free-form name
//! ([`HandleCache`]).

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::marker::PhantomData;
use std::sync::{PoisonError, RwLock};

use super::counter::Counter;
use super::labels::LabelValue;

/// The label value free-form names share once their cap is reached. Prometheus reserves the `__`
/// prefix for label names, not values, so it cannot collide with anything it generates, and no
/// sane app, queue or cache id looks like it.
pub const OVERFLOW_LABEL: &str = "__overflow__";

/// The longest free-form label value (app id, queue, cache, adapter or webhook event name), in
/// bytes. A longer one shares the [`OVERFLOW_LABEL`] series like a value past its cap, so a client
/// choosing ids (the unknown-app-key error path records the id it was sent) can neither inflate
/// the exposition nor use up the cap that real apps need.
pub const MAX_LABEL_VALUE_LEN: usize = 128;

/// One pre-resolved handle per value of the closed label `E`, indexed by the enum: recording is an
/// array index and an atomic add.
pub(crate) struct PerValue<E, M, const N: usize> {
    handles: [M; N],
    label: PhantomData<fn(E)>,
}

impl<E: LabelValue, M, const N: usize> PerValue<E, M, N> {
    /// Calls `resolve` with the label values of every value of `E`: the `leading` values, then
    /// `E`'s (the catalogue puts the closed label last in every family that has one).
    pub(crate) fn resolve(leading: &[&str], mut resolve: impl FnMut(&[&str]) -> M) -> Self {
        assert_eq!(E::ALL.len(), N, "array length follows the label domain");
        let mut values = leading.to_vec();
        values.push("");
        let handles = std::array::from_fn(|i| {
            *values.last_mut().expect("pushed above") = E::ALL[i].as_str();
            resolve(&values)
        });
        PerValue {
            handles,
            label: PhantomData,
        }
    }

    #[inline]
    pub(crate) fn get(&self, value: E) -> &M {
        &self.handles[value.index()]
    }
}

/// Handles resolved on first use and kept, keyed by a free-form name (an app id, a queue name, a
/// route, a status code). Lookups of known keys take a read lock only.
///
/// A bounded cache caps the label's cardinality: past `cap` distinct keys, new keys all share the
/// handle of the overflow key, and each such fold is counted (in `label_overflow_total`), so a
/// tenant minting app ids cannot blow up the series count unnoticed.
pub(crate) struct HandleCache<K, V> {
    map: RwLock<HashMap<K, V>>,
    limit: Option<Limit<K>>,
}

struct Limit<K> {
    cap: usize,
    overflow: K,
    folded: Counter,
}

impl<V: Clone> HandleCache<String, V> {
    /// A cache of free-form names holding at most `cap` of them plus [`OVERFLOW_LABEL`].
    pub(crate) fn names(cap: usize, folded: Counter) -> Self {
        HandleCache::bounded(cap, OVERFLOW_LABEL.to_string(), folded)
    }

    /// The handle for the name `name`; one longer than [`MAX_LABEL_VALUE_LEN`] is folded into
    /// the overflow key (and counted) without taking a place under the cap.
    pub(crate) fn name(&self, name: &str, resolve: impl FnOnce(&str) -> V) -> V {
        if name.len() <= MAX_LABEL_VALUE_LEN {
            return self.get_or_resolve(name, resolve);
        }
        let mut map = self.map.write().unwrap_or_else(PoisonError::into_inner);
        let overflow = self
            .limit
            .as_ref()
            .map_or(OVERFLOW_LABEL, |l| l.overflow.as_str());
        if let Some(limit) = &self.limit {
            limit.folded.inc();
        }
        if let Some(v) = map.get(overflow) {
            return v.clone();
        }
        let value = resolve(overflow);
        map.insert(overflow.to_string(), value.clone());
        value
    }
}

impl<K: Hash + Eq, V: Clone> HandleCache<K, V> {
    /// A cache that holds at most `cap` keys plus `overflow`; `folded` counts the keys refused.
    pub(crate) fn bounded(cap: usize, overflow: K, folded: Counter) -> Self {
        HandleCache {
            map: RwLock::default(),
            limit: Some(Limit {
                cap,
                overflow,
                folded,
            }),
        }
    }

    /// A cache for keys whose domain is already small (status codes).
    pub(crate) fn unbounded() -> Self {
        HandleCache {
            map: RwLock::default(),
            limit: None,
        }
    }

    /// The handle for `key`, calling `resolve` the first time a key (or the overflow key) is seen.
    pub(crate) fn get_or_resolve<Q>(&self, key: &Q, resolve: impl FnOnce(&Q) -> V) -> V
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        // A panic while resolving cannot leave the map half-updated, so poisoning is ignorable.
        if let Some(v) = self.map.read().unwrap_or_else(PoisonError::into_inner).get(key) {
            return v.clone();
        }
        let mut map = self.map.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(v) = map.get(key) {
            return v.clone();
        }
        let key = match &self.limit {
            // The overflow key, when present, takes no place under the cap.
            Some(limit)
                if map.len() - usize::from(map.contains_key(limit.overflow.borrow())) >= limit.cap =>
            {
                limit.folded.inc();
                if let Some(v) = map.get(limit.overflow.borrow()) {
                    return v.clone();
                }
                limit.overflow.borrow()
            }
            _ => key,
        };
        let value = resolve(key);
        map.insert(key.to_owned(), value.clone());
        value
    }

    /// How many keys have handles (the overflow key included).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.map.read().unwrap_or_else(PoisonError::into_inner).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::registration::Families;

    #[test]
    fn a_bounded_cache_folds_new_keys_into_the_overflow_key_and_counts_them() {
        let registry = prometheus::Registry::new();
        let families = Families::register(&registry, "t_", crate::live::collector::new_owner(), 1).unwrap();
        let folded = Counter::register(&families.label_overflow, &["app_id"], &families.counters);
        let cache: HandleCache<String, String> = HandleCache::names(2, folded);
        let resolve = |k: &str| format!("handle:{k}");
        assert_eq!(cache.get_or_resolve("a", resolve), "handle:a");
        assert_eq!(cache.get_or_resolve("b", resolve), "handle:b");
        assert_eq!(cache.get_or_resolve("c", resolve), "handle:__overflow__");
        assert_eq!(cache.get_or_resolve("d", resolve), "handle:__overflow__");
        // Known keys keep their own handle.
        assert_eq!(cache.get_or_resolve("a", |_| unreachable!()), "handle:a");
        assert_eq!(cache.len(), 3);
        // A value past the length cap folds too, even with room under the count cap.
        let roomy: HandleCache<String, String> =
            HandleCache::names(10, cache.limit.as_ref().unwrap().folded.clone());
        let long = "x".repeat(MAX_LABEL_VALUE_LEN + 1);
        assert_eq!(roomy.name(&long, resolve), "handle:__overflow__");
        assert_eq!(
            roomy.name(&"y".repeat(MAX_LABEL_VALUE_LEN), resolve).len(),
            7 + MAX_LABEL_VALUE_LEN
        );
        assert_eq!(roomy.len(), 2);
        let text = prometheus::TextEncoder::new()
            .encode_to_string(&registry.gather())
            .unwrap();
        assert!(
            text.contains("t_label_overflow_total{label=\"app_id\"} 3\n"),
            "{text}"
        );
    }
}
