//! The handle caches' table: an insert-only hash map whose lookups take no lock. Open addressing
//! with linear probing over write-once slots, each keeping its key's hash, at most half full, so
//! a lookup of a known key is one atomic load, one hash, one index and one key comparison. In the
//! real server the lock and the std map's probe loop were most of an app lookup, after hashing.
//!
//! Inserts take a mutex. A slot is written once and never changes, so a reader sees it either
//! empty (and reports a miss, which the caller then settles under the mutex) or complete. Growing
//! copies the entries into a slot array twice the size; the old arrays stay until the table is
//! dropped, because a reader may still be probing one (at most as much memory again).
//!
//! The atomics, lock and cells come from [`sync`](super::sync), so that the `loom_` tests below
//! model-check the publication of slots and arrays (with the `loom` feature).

use std::borrow::Borrow;
use std::hash::{BuildHasher, Hash};
use std::mem::MaybeUninit;
use std::sync::atomic::Ordering;
use std::sync::PoisonError;

use super::sync::{AtomicBool, AtomicPtr, Mutex, MutexGuard, UnsafeCell};

/// The tables' hasher: seeded at random per table, or with a fixed seed under loom, whose
/// model has to run the same way each time it replays it (a seed moves the probe sequences).
#[cfg(not(feature = "loom"))]
type Hasher = foldhash::fast::RandomState;
#[cfg(feature = "loom")]
type Hasher = foldhash::fast::FixedState;

pub(crate) struct Table<K, V> {
    /// The newest of `arrays.all` (null until the first insert).
    current: AtomicPtr<Slots<K, V>>,
    /// Holding the lock is the right to insert.
    arrays: Mutex<Arrays<K, V>>,
    hasher: Hasher,
}

/// Every slot array made, the current one last, as raw pointers from `Box::into_raw` (freed in
/// `Drop`): readers hold references into them through `current` while the lock holder works.
struct Arrays<K, V> {
    all: Vec<*mut Slots<K, V>>,
    /// Entries in the current array.
    len: usize,
}

/// A power of two long, never more than half full: a probe always ends.
struct Slots<K, V>(Box<[WriteOnce<Slot<K, V>>]>);

struct Slot<K, V> {
    hash: u64,
    key: K,
    value: V,
}

// SAFETY: the raw pointers are owned boxes of slots; sending or sharing the table sends or shares
// keys and values (readers on any thread get `&V`), hence the bounds.
unsafe impl<K: Send + Sync, V: Send + Sync> Send for Table<K, V> {}
// SAFETY: as for `Send`: readers on any thread get `&K` and `&V`; writers take the `arrays`
// lock and fill slots through `WriteOnce`, which publishes each whole.
unsafe impl<K: Send + Sync, V: Send + Sync> Sync for Table<K, V> {}

impl<K, V> Default for Table<K, V> {
    fn default() -> Self {
        Table {
            current: AtomicPtr::new(std::ptr::null_mut()),
            arrays: Mutex::new(Arrays {
                all: Vec::new(),
                len: 0,
            }),
            hasher: Hasher::default(),
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

    /// Writes `slot` into the first empty slot of its probe sequence and returns its value.
    ///
    /// # Safety
    /// The caller holds the table's lock, or `self` is not shared yet: no one else writes a slot
    /// of `self`, so the one found empty is still empty when it is set.
    unsafe fn place(&self, slot: Slot<K, V>) -> &V {
        let mask = self.0.len() - 1;
        let mut at = slot.hash as usize & mask;
        while self.0[at].get().is_some() {
            at = (at + 1) & mask;
        }
        // SAFETY: empty just above, and the caller is the only writer.
        unsafe { self.0[at].set(slot) };
        &self.0[at].get().expect("set just above").value
    }
}

/// A slot of a [`Slots`] array: empty until the lock holder writes it, once, then complete and
/// never changed until the table drops. `OnceLock`'s publication, spelt with the `sync` types
/// (`OnceLock` has no loom twin): the value is written, then `full` is stored with Release, and a
/// reader that loads `full` set (with Acquire, a plain load on x86) sees the whole value.
struct WriteOnce<T> {
    full: AtomicBool,
    value: UnsafeCell<MaybeUninit<T>>,
}

impl<T> WriteOnce<T> {
    fn new() -> WriteOnce<T> {
        WriteOnce {
            full: AtomicBool::new(false),
            value: UnsafeCell::new(MaybeUninit::uninit()),
        }
    }

    /// The value, if it has been written.
    #[inline(always)]
    fn get(&self) -> Option<&T> {
        if !self.full.load(Ordering::Acquire) {
            return None;
        }
        // SAFETY: `full` is stored (Release) after the value is written, and this load (Acquire)
        // saw it, so the whole write happens before this read; the value is never written again,
        // and it is dropped only with `self`, which the returned reference borrows.
        Some(self.value.with(|value| unsafe { (*value).assume_init_ref() }))
    }

    /// Writes the value and publishes it.
    ///
    /// # Safety
    /// `self` is empty and the caller is its only writer (it holds the table's lock, or the
    /// array is not shared yet).
    unsafe fn set(&self, value: T) {
        // SAFETY: empty, so no reader looks at the value (a reader loads `full` unset first and
        // stops), and no one else writes it.
        self.value.with_mut(|slot| unsafe { (*slot).write(value) });
        self.full.store(true, Ordering::Release);
    }
}

impl<T> Drop for WriteOnce<T> {
    fn drop(&mut self) {
        if self.full.load(Ordering::Acquire) {
            // SAFETY: written, as `full` says, and dropped once, here, with no reader left
            // (`&mut self`).
            self.value
                .with_mut(|value| unsafe { (*value).assume_init_drop() });
        }
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
        let current = self.current().expect("grown above");
        // SAFETY: this writer holds the table's lock.
        let placed = unsafe { current.place(Slot { hash, key, value }) };
        self.arrays.len += 1;
        placed
    }

    /// Publishes a copy of the entries in twice the slots.
    fn grow(&mut self) {
        let size = self.current().map_or(8, |slots| slots.0.len() * 2);
        let grown = Slots((0..size).map(|_| WriteOnce::new()).collect());
        if let Some(old) = self.current() {
            for slot in old.0.iter().filter_map(WriteOnce::get) {
                let copy = Slot {
                    hash: slot.hash,
                    key: slot.key.clone(),
                    value: slot.value.clone(),
                };
                // SAFETY: `grown` is this function's own until it is published below.
                unsafe { grown.place(copy) };
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

/// Model checks (the `loom` feature; `cargo test -p sockudo-obs-live --lib --features loom -- loom_`): inserts racing
/// each other and lookups, and a grow while a lookup probes the old array.
#[cfg(all(test, feature = "loom"))]
mod loom_tests {
    use super::*;
    use loom::sync::Arc;
    use loom::thread;

    fn value(key: u64) -> u64 {
        2 * key + 1
    }

    /// `n` keys with the same home slot in the first array (8 slots), so that lookups of the
    /// later ones probe past the earlier ones' slots (the hasher's seed is fixed under loom).
    fn colliding_keys(table: &Table<u64, u64>, n: usize) -> Vec<u64> {
        let home = |key: &u64| table.hasher.hash_one(key) as usize & 7;
        (0..).filter(|key| home(key) == home(&0)).take(n).collect()
    }

    /// A key's value, or nothing; never another value (and, through loom's cells, never a slot
    /// read while it is written).
    fn absent_or_whole(table: &Table<u64, u64>, key: u64) {
        if let Some(found) = table.get(&key) {
            assert_eq!(*found, value(key), "key {key}");
        }
    }

    /// Two threads insert a key each while this one looks them up: every key has its home slot
    /// taken by an earlier one, so each insert and lookup probes slots the others write.
    #[test]
    fn loom_racing_inserts_are_seen_whole_or_not_at_all_and_found_once_inserted() {
        loom::model(|| {
            let table = Arc::new(Table::default());
            let keys = colliding_keys(&table, 3);
            table.lock().insert(keys[0], value(keys[0]));
            let writers: Vec<_> = keys[1..]
                .iter()
                .map(|&key| {
                    let table = table.clone();
                    thread::spawn(move || {
                        let mut writer = table.lock();
                        assert_eq!(writer.insert(key, value(key)), &value(key));
                        drop(writer);
                        // Found by its inserter as soon as the insert returns, without the lock.
                        assert_eq!(table.get(&key), Some(&value(key)));
                    })
                })
                .collect();
            assert_eq!(table.get(&keys[0]), Some(&value(keys[0])));
            for &key in &keys[1..] {
                absent_or_whole(&table, key);
            }
            for writer in writers {
                writer.join().unwrap();
            }
            for &key in &keys {
                assert_eq!(table.get(&key), Some(&value(key)));
            }
            assert_eq!(table.lock().len(), 3);
        });
    }

    /// A fifth key grows the first array (8 slots, at most half full) while this thread looks
    /// up the four before it, which are in the old array, the new one or being copied: each is
    /// found with its value, and a reference taken during the grow still reads it after.
    #[test]
    fn loom_a_grow_while_a_lookup_probes_loses_no_key() {
        loom::model(|| {
            let table = Arc::new(Table::default());
            let mut keys = colliding_keys(&table, 2);
            let others: Vec<u64> = (100..).filter(|key| !keys.contains(key)).take(3).collect();
            keys.extend(others);
            for &key in &keys[..4] {
                table.lock().insert(key, value(key));
            }
            let grower = {
                let table = table.clone();
                let key = keys[4];
                thread::spawn(move || {
                    table.lock().insert(key, value(key));
                    assert_eq!(table.get(&key), Some(&value(key)));
                })
            };
            let held = table.get(&keys[1]).expect("inserted before the grow");
            for &key in &keys[..4] {
                assert_eq!(table.get(&key), Some(&value(key)), "key {key} during the grow");
            }
            absent_or_whole(&table, keys[4]);
            grower.join().unwrap();
            assert_eq!(*held, value(keys[1]));
            for &key in &keys {
                assert_eq!(table.get(&key), Some(&value(key)));
            }
            let writer = table.lock();
            assert_eq!((writer.len(), writer.arrays.all.len()), (5, 2), "one grow");
        });
    }

    /// What the publication model needs of a write-once slot.
    trait Publish: Sized {
        fn empty() -> Self;
        fn read(&self) -> Option<&[u64; 2]>;
        /// # Safety
        /// As for [`WriteOnce::set`].
        unsafe fn write(&self, value: [u64; 2]);
    }

    impl Publish for WriteOnce<[u64; 2]> {
        fn empty() -> Self {
            WriteOnce::new()
        }
        fn read(&self) -> Option<&[u64; 2]> {
            self.get()
        }
        unsafe fn write(&self, value: [u64; 2]) {
            // SAFETY: the caller's promise.
            unsafe { self.set(value) }
        }
    }

    /// `WriteOnce` with its publication broken: `full` stored and loaded Relaxed, so a reader
    /// that sees it set is not ordered after the value's write.
    struct RelaxedOnce {
        full: AtomicBool,
        value: UnsafeCell<MaybeUninit<[u64; 2]>>,
    }

    impl Publish for RelaxedOnce {
        fn empty() -> Self {
            RelaxedOnce {
                full: AtomicBool::new(false),
                value: UnsafeCell::new(MaybeUninit::uninit()),
            }
        }
        fn read(&self) -> Option<&[u64; 2]> {
            if !self.full.load(Ordering::Relaxed) {
                return None;
            }
            // SAFETY: not sound, which is what the model is to find.
            Some(self.value.with(|value| unsafe { (*value).assume_init_ref() }))
        }
        unsafe fn write(&self, value: [u64; 2]) {
            // SAFETY: as in `WriteOnce::set`.
            self.value.with_mut(|slot| unsafe { (*slot).write(value) });
            self.full.store(true, Ordering::Relaxed);
        }
    }

    /// A slot shared between its writer and a reader, as in a table's array.
    struct Shared<P>(P);
    // SAFETY: the publication under test is what makes this sharing sound, as `Table`'s `Sync`
    // relies on `WriteOnce`; the model checks it.
    unsafe impl<P> Sync for Shared<P> {}
    // SAFETY: as for `Sync`; the value is plain data.
    unsafe impl<P> Send for Shared<P> {}

    /// One thread writes a slot while this one reads it: the read finds it empty or whole.
    fn publication<P: Publish + 'static>() {
        loom::model(|| {
            let slot = Arc::new(Shared(P::empty()));
            let writer = {
                let slot = slot.clone();
                // SAFETY: the only writer, of an empty slot.
                thread::spawn(move || unsafe { slot.0.write([1, 2]) })
            };
            if let Some(read) = slot.0.read() {
                assert_eq!(read, &[1, 2]);
            }
            writer.join().unwrap();
            assert_eq!(slot.0.read(), Some(&[1, 2]));
        });
    }

    #[test]
    fn loom_a_slot_is_read_empty_or_whole() {
        publication::<WriteOnce<[u64; 2]>>();
    }

    /// The check fires: with the Release store and Acquire load weakened to Relaxed, loom finds
    /// the reader reading the slot's value unordered with its write.
    #[test]
    #[should_panic(expected = "Causality violation")]
    fn loom_a_relaxed_publication_is_caught() {
        publication::<RelaxedOnce>();
    }
}
