//! Resolving label values into handles once, so recording never hashes labels.
//!
//! A fixed array per closed label ([`PerValue`]) and a bounded, read-mostly map per free-form name
//! ([`HandleCache`], keyed by [`Name`]).

use std::borrow::Borrow;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;

use super::counter::Counter;
use super::labels::LabelValue;
use super::table::Table;

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
/// route, a status code). Lookups of known keys take no lock ([`Table`]) and hash with foldhash:
/// SipHash of a short app id was most of a lookup's cost in the real server (about 190 of 300
/// instructions), and the cap below already bounds what a client choosing keys can do.
///
/// A bounded cache caps the label's cardinality: past `cap` distinct keys, new keys all share the
/// handle of the overflow key, and each such fold is counted (in `label_overflow_total`), so a
/// tenant minting app ids cannot blow up the series count unnoticed.
pub(crate) struct HandleCache<K, V> {
    map: Table<K, V>,
    limit: Option<Limit<K>>,
}

impl<K> Limit<K> {
    fn count_fold(&self) {
        if let Some(folded) = &self.folded {
            folded.inc();
        }
    }
}

struct Limit<K> {
    cap: usize,
    overflow: K,
    /// Counts each fold, where the label has an overflow counter (route templates have none).
    folded: Option<Counter>,
}

/// A free-form name (an app id, a queue, a webhook event) as a cache key. Equality compares a
/// name of 8 to 16 bytes, the usual app id, with two word loads instead of a `memcmp` call: in
/// the real server the call and its setup were a quarter of an app lookup.
#[derive(Clone)]
pub(crate) struct Name(Box<str>);

/// The borrowed form of [`Name`], for lookups without allocating.
#[derive(Eq)]
#[repr(transparent)]
pub(crate) struct NameStr(str);

impl NameStr {
    pub(crate) fn new(name: &str) -> &NameStr {
        // SAFETY: `NameStr` is `repr(transparent)` over `str`, so the pointer cast keeps the
        // layout and the metadata (the length).
        unsafe { &*(name as *const str as *const NameStr) }
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl PartialEq for NameStr {
    #[inline]
    fn eq(&self, other: &NameStr) -> bool {
        let (a, b) = (self.0.as_bytes(), other.0.as_bytes());
        if a.len() != b.len() {
            return false;
        }
        let word = |bytes: &[u8], at: usize| u64::from_ne_bytes(bytes[at..at + 8].try_into().unwrap());
        match a.len() {
            // Two overlapping words cover every byte.
            8..=16 => word(a, 0) == word(b, 0) && word(a, a.len() - 8) == word(b, a.len() - 8),
            _ => a == b,
        }
    }
}

impl Hash for NameStr {
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        let bytes = self.0.as_bytes();
        match bytes.len() {
            // The two words `eq` compares, the last with the length folded in, as one 128-bit
            // write: foldhash makes that a single multiply. At most 9 names (one per length)
            // share these 128 bits, so no client can collide more of them than that.
            len @ 8..=16 => {
                let word = |at: usize| u64::from_ne_bytes(bytes[at..at + 8].try_into().unwrap());
                state.write_u128(u128::from(word(0)) | u128::from(word(len - 8) ^ len as u64) << 64);
            }
            _ => self.0.hash(state),
        }
    }
}

// `Name` hashes and compares as its `NameStr`, as `Borrow` requires.
impl Borrow<NameStr> for Name {
    fn borrow(&self) -> &NameStr {
        NameStr::new(&self.0)
    }
}

impl PartialEq for Name {
    fn eq(&self, other: &Name) -> bool {
        self.borrow() as &NameStr == other.borrow()
    }
}

impl Eq for Name {}

impl Hash for Name {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (self.borrow() as &NameStr).hash(state);
    }
}

impl ToOwned for NameStr {
    type Owned = Name;
    fn to_owned(&self) -> Name {
        Name(Box::from(&self.0))
    }
}

impl<V: Clone> HandleCache<Name, V> {
    /// A cache of free-form names holding at most `cap` of them plus [`OVERFLOW_LABEL`].
    pub(crate) fn names(cap: usize, folded: Counter) -> Self {
        HandleCache::bounded(cap, NameStr::new(OVERFLOW_LABEL).to_owned(), folded)
    }

    /// As [`names`](Self::names), for a label whose folds nothing counts.
    pub(crate) fn names_uncounted(cap: usize) -> Self {
        HandleCache {
            map: Table::default(),
            limit: Some(Limit {
                cap,
                overflow: NameStr::new(OVERFLOW_LABEL).to_owned(),
                folded: None,
            }),
        }
    }

    /// The handle for the name `name`; one longer than [`MAX_LABEL_VALUE_LEN`] is folded into
    /// the overflow key (and counted) without taking a place under the cap.
    #[inline(always)]
    pub(crate) fn name(&self, name: &str, resolve: impl FnOnce(&str) -> V) -> &V {
        if name.len() <= MAX_LABEL_VALUE_LEN {
            return self.get_or_resolve(NameStr::new(name), |name| resolve(name.as_str()));
        }
        self.fold_long_name(resolve)
    }

    /// The handle of `name` if it is 8 to 16 bytes long, the usual app id, and was resolved
    /// before; `None` otherwise (the caller then takes [`name`](Self::name)). For those lengths
    /// the hash and the comparison are a few instructions with no call, so an inlined lookup
    /// leaves its caller a leaf function.
    #[inline(always)]
    pub(crate) fn quick_name(&self, name: &str) -> Option<&V> {
        if !(8..=16).contains(&name.len()) {
            return None;
        }
        self.map.get(NameStr::new(name))
    }

    #[cold]
    #[inline(never)]
    fn fold_long_name(&self, resolve: impl FnOnce(&str) -> V) -> &V {
        let mut map = self.map.lock();
        let overflow: &NameStr = match &self.limit {
            Some(limit) => {
                limit.count_fold();
                limit.overflow.borrow()
            }
            None => NameStr::new(OVERFLOW_LABEL),
        };
        if let Some(v) = map.get(overflow) {
            return v;
        }
        let value = resolve(overflow.as_str());
        map.insert(overflow.to_owned(), value)
    }
}

impl<K: Hash + Eq + Clone, V: Clone> HandleCache<K, V> {
    /// A cache that holds at most `cap` keys plus `overflow`; `folded` counts the keys refused.
    pub(crate) fn bounded(cap: usize, overflow: K, folded: Counter) -> Self {
        HandleCache {
            map: Table::default(),
            limit: Some(Limit {
                cap,
                overflow,
                folded: Some(folded),
            }),
        }
    }

    /// A cache for keys whose domain is already small (status codes).
    pub(crate) fn unbounded() -> Self {
        HandleCache {
            map: Table::default(),
            limit: None,
        }
    }

    /// The handle for `key`, calling `resolve` the first time a key (or the overflow key) is seen.
    /// Handles are never replaced, so the reference lives as long as the cache; clone it (an
    /// `Arc` clone) to keep it apart from the cache.
    #[inline(always)]
    pub(crate) fn get_or_resolve<Q>(&self, key: &Q, resolve: impl FnOnce(&Q) -> V) -> &V
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        if let Some(v) = self.map.get(key) {
            return v;
        }
        self.resolve_new(key, resolve)
    }

    /// The first lookup of `key` (or of a key past the cap): out of line, so that the lookup
    /// above inlines into its caller with no registers to save.
    #[cold]
    #[inline(never)]
    fn resolve_new<Q>(&self, key: &Q, resolve: impl FnOnce(&Q) -> V) -> &V
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        let mut map = self.map.lock();
        if let Some(v) = map.get(key) {
            return v;
        }
        let key = match &self.limit {
            // The overflow key, when present, takes no place under the cap.
            Some(limit)
                if map.len() - usize::from(map.contains_key(limit.overflow.borrow())) >= limit.cap =>
            {
                limit.count_fold();
                if let Some(v) = map.get(limit.overflow.borrow()) {
                    return v;
                }
                limit.overflow.borrow()
            }
            _ => key,
        };
        let value = resolve(key);
        map.insert(key.to_owned(), value)
    }

    /// How many keys have handles (the overflow key included).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.map.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registration::Families;

    #[test]
    fn a_bounded_cache_folds_new_keys_into_the_overflow_key_and_counts_them() {
        let registry = prometheus::Registry::new();
        let families = Families::register(&registry, "t_", crate::collector::new_owner(), 1).unwrap();
        let folded = Counter::register(&families.label_overflow_total, &["app_id"], &families.counters);
        let cache: HandleCache<Name, String> = HandleCache::names(2, folded);
        let resolve = |k: &str| format!("handle:{k}");
        assert_eq!(cache.name("a", resolve), "handle:a");
        assert_eq!(cache.name("b", resolve), "handle:b");
        assert_eq!(cache.name("c", resolve), "handle:__overflow__");
        assert_eq!(cache.name("d", resolve), "handle:__overflow__");
        // Known keys keep their own handle.
        assert_eq!(cache.name("a", |_| unreachable!()), "handle:a");
        assert_eq!(cache.len(), 3);
        // A value past the length cap folds too, even with room under the count cap.
        let roomy: HandleCache<Name, String> =
            HandleCache::names(10, cache.limit.as_ref().unwrap().folded.clone().unwrap());
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

    #[test]
    fn names_are_equal_exactly_when_their_bytes_are_at_every_length() {
        let name = |s: &str| NameStr::new(s).to_owned();
        for len in 0..40 {
            let base: String = (0..len).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
            assert!(name(&base) == name(&base.clone()), "{base}");
            assert!(name(&base) != name(&format!("{base}x")), "{base}");
            // One byte changed anywhere, including the middle the two words overlap on.
            for at in 0..len {
                let mut other = base.clone().into_bytes();
                other[at] = b'Z';
                let other = String::from_utf8(other).unwrap();
                assert!(name(&base) != name(&other), "{base} vs {other}");
            }
        }
    }
}

/// Model check (the `loom` feature; `cargo test -p sockudo-obs-live --lib --features loom -- loom_`) of the caches'
/// first lookup: a miss without the lock, then a second lookup and the insert under it.
#[cfg(all(test, feature = "loom"))]
mod loom_tests {
    use super::*;
    use loom::sync::Arc;
    use loom::thread;

    /// Two threads resolve the same new key at once: one inserts it, the other gets that same
    /// handle, and the key is in the table once.
    #[test]
    fn loom_two_threads_resolving_one_new_key_insert_it_once() {
        loom::model(|| {
            let cache: Arc<HandleCache<u64, u64>> = Arc::new(HandleCache::unbounded());
            let other = {
                let cache = cache.clone();
                thread::spawn(move || *cache.get_or_resolve(&7, |_| 1))
            };
            let mine = *cache.get_or_resolve(&7, |_| 2);
            let theirs = other.join().unwrap();
            assert_eq!(mine, theirs, "the key was resolved twice");
            assert_eq!(cache.len(), 1);
            assert_eq!(cache.get_or_resolve(&7, |_| unreachable!()), &mine);
        });
    }
}
