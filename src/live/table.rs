//! The handle caches' table: an insert-only hash map whose lookups take no lock. Open addressing
//! with linear probing over write-once slots, each keeping its key's hash, at most half full, so
//! a lookup of a known key is one atomic load, one hash, one index and one key comparison. In the
//! real server the lock and the std map's probe loop were most of an app lookup, after hashing.
//!
//! Inserts take a mutex. A slot is written once and never changes, so a reader sees it either
//! empty (and reports a miss, which the caller then settles under the mutex) or complete. Growing
//! copies the entries into a slot array twice the size; the old arrays stay until the table is
//! dropped, because a reader may still be probing one (at most as much memory again).

use std::borrow::Borrow;
use std::hash::{BuildHasher, Hash};
use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};

pub(crate) struct Table<K, V> {
    /// The newest of `arrays.all` (null until the first insert).
    current: AtomicPtr<Slots<K, V>>,
    /// Holding the lock is the right to insert.
    arrays: Mutex<Arrays<K, V>>,
    hasher: foldhash::fast::RandomState,
}

/// Every slot array made, the current one last, as raw pointers from `Box::into_raw` (freed in
/// `Drop`): readers hold references into them through `current` while the lock holder works.
struct Arrays<K, V> {
    all: Vec<*mut Slots<K, V>>,
    /// Entries in the current array.
    len: usize,
}

/// A power of two long, never more than half full: a probe always ends.
struct Slots<K, V>(Box<[OnceLock<Slot<K, V>>]>);

struct Slot<K, V> {
    hash: u64,
    key: K,
    value: V,
}

// SAFETY: the raw pointers are owned boxes of slots; sending or sharing the table sends or shares
// keys and values (readers on any thread get `&V`), hence the bounds.
unsafe impl<K: Send + Sync, V: Send + Sync> Send for Table<K, V> {}
// SAFETY: as for `Send`: readers on any thread get `&K` and `&V`; writers take the `arrays`
// lock and fill slots through `OnceLock`.
unsafe impl<K: Send + Sync, V: Send + Sync> Sync for Table<K, V> {}

impl<K, V> Default for Table<K, V> {
    fn default() -> Self {
        Table {
            current: AtomicPtr::new(std::ptr::null_mut()),
            arrays: Mutex::new(Arrays {
                all: Vec::new(),
                len: 0,
            }),
            hasher: foldhash::fast::RandomState::default(),
        }
    }
}

impl<K, V> Drop for Table<K, V> {
    fn drop(&mut self) {
        let arrays = self.arrays.get_mut().unwrap_or_else(PoisonError::into_inner);
        for slots in arrays.all.drain(..) {
            // SAFETY: made by `Box::into_raw` in `grow`, freed once, here, with no reader left.
            drop(unsafe { Box::from_raw(slots) });
        }
    }
}

impl<K: Hash + Eq + Clone, V: Clone> Table<K, V> {
    /// The value of `key`, without locking. The reference lives as long as the table: a slot,
    /// once written, never changes and its array is freed only with the table.
    #[inline(always)]
    pub(crate) fn get<Q>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        // SAFETY: `current` is null or one of `arrays.all`, which are freed only when the table
        // is dropped, which cannot happen while `&self` is borrowed.
        let slots = unsafe { self.current.load(Ordering::Acquire).as_ref() }?;
        slots.get(self.hasher.hash_one(key), key)
    }

    /// The right to insert (and to look up consistently with the inserts).
    pub(crate) fn lock(&self) -> Writer<'_, K, V> {
        // An insert cannot be left half-done (slots are written whole), so poisoning is ignorable.
        let arrays = self.arrays.lock().unwrap_or_else(PoisonError::into_inner);
        Writer { table: self, arrays }
    }
}

impl<K: Hash + Eq, V> Slots<K, V> {
    #[inline(always)]
    fn get<Q>(&self, hash: u64, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        let mask = self.0.len() - 1;
        let mut at = hash as usize & mask;
        loop {
            match self.0[at].get() {
                None => return None,
                Some(slot) if slot.hash == hash && slot.key.borrow() == key => return Some(&slot.value),
                Some(_) => at = (at + 1) & mask,
            }
        }
    }

    /// Writes `slot` into the first empty slot of its probe sequence and returns its value; only
    /// the lock holder calls this, so the slot is still empty when it is set.
    fn place(&self, slot: Slot<K, V>) -> &V {
        let mask = self.0.len() - 1;
        let mut at = slot.hash as usize & mask;
        while self.0[at].get().is_some() {
            at = (at + 1) & mask;
        }
        if self.0[at].set(slot).is_err() {
            unreachable!("only the lock holder writes slots");
        }
        &self.0[at].get().expect("set just above").value
    }
}

/// The locked table: lookups and inserts.
pub(crate) struct Writer<'t, K, V> {
    table: &'t Table<K, V>,
    arrays: MutexGuard<'t, Arrays<K, V>>,
}

impl<'t, K: Hash + Eq + Clone, V: Clone> Writer<'t, K, V> {
    pub(crate) fn len(&self) -> usize {
        self.arrays.len
    }

    /// The current array, for as long as the table: arrays are freed only when it drops.
    fn current(&self) -> Option<&'t Slots<K, V>> {
        // SAFETY: as in `Table::get`; the lock holder only ever takes shared references.
        self.arrays.all.last().map(|slots| unsafe { &**slots })
    }

    pub(crate) fn get<Q>(&self, key: &Q) -> Option<&'t V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.current()?.get(self.table.hasher.hash_one(key), key)
    }

    pub(crate) fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.get(key).is_some()
    }

    /// Adds `key`, which the caller has looked up under this lock and not found, and returns
    /// its value as readers will see it.
    pub(crate) fn insert(&mut self, key: K, value: V) -> &'t V {
        debug_assert!(!self.contains_key(&key), "insert of a present key");
        let full = self
            .current()
            .map_or(true, |slots| (self.arrays.len + 1) * 2 > slots.0.len());
        if full {
            self.grow();
        }
        let hash = self.table.hasher.hash_one(&key);
        let placed = self
            .current()
            .expect("grown above")
            .place(Slot { hash, key, value });
        self.arrays.len += 1;
        placed
    }

    /// Publishes a copy of the entries in twice the slots.
    fn grow(&mut self) {
        let size = self.current().map_or(8, |slots| slots.0.len() * 2);
        let grown = Slots((0..size).map(|_| OnceLock::new()).collect());
        if let Some(old) = self.current() {
            for slot in old.0.iter().filter_map(OnceLock::get) {
                grown.place(Slot {
                    hash: slot.hash,
                    key: slot.key.clone(),
                    value: slot.value.clone(),
                });
            }
        }
        let grown = Box::into_raw(Box::new(grown));
        self.arrays.all.push(grown);
        self.table.current.store(grown, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_inserted_key_is_found_and_no_other_across_growth() {
        let table: Table<String, usize> = Table::default();
        assert_eq!(table.get("absent"), None);
        for i in 0..1000 {
            let mut writer = table.lock();
            writer.insert(format!("key-{i}"), i);
            assert_eq!(writer.len(), i + 1);
            drop(writer);
            // Every key so far, after each growth step, locked and not.
            if i.is_power_of_two() {
                for j in 0..=i {
                    assert_eq!(table.get(format!("key-{j}").as_str()), Some(&j));
                    assert_eq!(table.lock().get(format!("key-{j}").as_str()), Some(&j));
                }
            }
        }
        for i in 0..1000 {
            assert_eq!(table.get(format!("key-{i}").as_str()), Some(&i));
            assert!(!table.lock().contains_key(format!("other-{i}").as_str()));
        }
        let writer = table.lock();
        assert!(writer.current().unwrap().0.len() >= 2 * writer.len());
        // 8, 16, ... 2048 slots: each growth kept the old array for readers.
        assert_eq!(writer.arrays.all.len(), 9);
    }

    #[test]
    fn readers_on_other_threads_see_every_insert_they_race_with() {
        let table: Table<u64, u64> = Table::default();
        std::thread::scope(|scope| {
            let readers: Vec<_> = (0..2)
                .map(|_| {
                    scope.spawn(|| {
                        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
                        let mut seen = 0;
                        while seen < 5000 {
                            assert!(std::time::Instant::now() < deadline, "key {seen} never appeared");
                            // Each value is its key doubled, whenever it is seen.
                            if let Some(v) = table.get(&seen) {
                                assert_eq!(*v, 2 * seen);
                                seen += 1;
                            }
                        }
                    })
                })
                .collect();
            for key in 0..5000 {
                table.lock().insert(key, 2 * key);
            }
            for reader in readers {
                reader.join().unwrap();
            }
        });
    }
}
