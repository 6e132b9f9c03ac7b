//! Turning label values into metric handles once, so recording never hashes labels: a fixed array
//! per closed label ([`PerValue`]) and a bounded, read-mostly map per free-form name
//! ([`HandleCache`]).

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::marker::PhantomData;
use std::sync::{PoisonError, RwLock};

use prometheus::core::{MetricVec, MetricVecBuilder};

use super::labels::LabelValue;

/// The label value free-form names share once their cap is reached. Prometheus reserves the `__`
/// prefix for label names, not values, so it cannot collide with anything it generates, and no
/// sane app, queue or cache id looks like it.
pub const OVERFLOW_LABEL: &str = "__overflow__";

/// The child of `family` for `values` (in the catalogue's label order).
///
/// The only place a label set is hashed; everything else keeps the handle it returns.
pub(crate) fn child<T: MetricVecBuilder>(family: &MetricVec<T>, values: &[&str]) -> T::M {
    family.with_label_values(values)
}

/// One pre-resolved handle per value of the closed label `E`, indexed by the enum: recording is an
/// array index and an atomic add.
pub(crate) struct PerValue<E, M, const N: usize> {
    handles: [M; N],
    label: PhantomData<fn(E)>,
}

impl<E: LabelValue, M, const N: usize> PerValue<E, M, N> {
    /// Resolves the child of `family` for every value of `E`; `E` is the last label, after the
    /// `leading` values (the catalogue puts the closed label last in every family that has one).
    pub(crate) fn resolve<T: MetricVecBuilder<M = M>>(family: &MetricVec<T>, leading: &[&str]) -> Self {
        assert_eq!(E::ALL.len(), N, "array length follows the label domain");
        let handles = std::array::from_fn(|i| {
            let mut values = leading.to_vec();
            values.push(E::ALL[i].as_str());
            child(family, &values)
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
/// handle of the overflow key, so a tenant minting app ids cannot blow up the series count.
pub(crate) struct HandleCache<K, V> {
    map: RwLock<HashMap<K, V>>,
    limit: Option<(usize, K)>,
}

impl<V: Clone> HandleCache<String, V> {
    /// A cache of free-form names holding at most `cap` of them plus [`OVERFLOW_LABEL`].
    pub(crate) fn names(cap: usize) -> Self {
        HandleCache::bounded(cap, OVERFLOW_LABEL.to_string())
    }
}

impl<K: Hash + Eq, V: Clone> HandleCache<K, V> {
    /// A cache that holds at most `cap` keys plus `overflow`.
    pub(crate) fn bounded(cap: usize, overflow: K) -> Self {
        HandleCache {
            map: RwLock::default(),
            limit: Some((cap, overflow)),
        }
    }

    /// A cache for keys whose domain is already small (route templates, status codes).
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
            Some((cap, overflow)) if map.len() >= *cap => {
                if let Some(v) = map.get(overflow.borrow()) {
                    return v.clone();
                }
                overflow.borrow()
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

    #[test]
    fn a_bounded_cache_folds_new_keys_into_the_overflow_key() {
        let cache: HandleCache<String, String> = HandleCache::names(2);
        let resolve = |k: &str| format!("handle:{k}");
        assert_eq!(cache.get_or_resolve("a", resolve), "handle:a");
        assert_eq!(cache.get_or_resolve("b", resolve), "handle:b");
        assert_eq!(cache.get_or_resolve("c", resolve), "handle:__overflow__");
        assert_eq!(cache.get_or_resolve("d", resolve), "handle:__overflow__");
        // Known keys keep their own handle.
        assert_eq!(cache.get_or_resolve("a", |_| unreachable!()), "handle:a");
        assert_eq!(cache.len(), 3);
    }
}
