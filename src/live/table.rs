//! The handle caches' table: a small insert-only hash map. Open addressing with linear probing,
//! each slot keeping its key's hash, at most half full, so a lookup of a known key is one hash,
//! one index and one key comparison, all inlined at the caller (the std map's probe loop was
//! most of an app lookup in the real server, after hashing).

use std::borrow::Borrow;
use std::hash::{BuildHasher, Hash};

pub(crate) struct Table<K, V> {
    /// A power of two long (or empty), never more than half full: a probe always ends.
    slots: Box<[Option<Slot<K, V>>]>,
    len: usize,
    hasher: foldhash::fast::RandomState,
}

struct Slot<K, V> {
    hash: u64,
    key: K,
    value: V,
}

impl<K, V> Default for Table<K, V> {
    fn default() -> Self {
        Table {
            slots: Box::new([]),
            len: 0,
            hasher: foldhash::fast::RandomState::default(),
        }
    }
}

impl<K: Hash + Eq, V> Table<K, V> {
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    #[inline]
    pub(crate) fn get<Q>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        if self.slots.is_empty() {
            return None;
        }
        let hash = self.hasher.hash_one(key);
        let mask = self.slots.len() - 1;
        let mut at = hash as usize & mask;
        loop {
            match &self.slots[at] {
                None => return None,
                Some(slot) if slot.hash == hash && slot.key.borrow() == key => return Some(&slot.value),
                Some(_) => at = (at + 1) & mask,
            }
        }
    }

    pub(crate) fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.get(key).is_some()
    }

    /// Adds `key`, which the caller has looked up and not found.
    pub(crate) fn insert(&mut self, key: K, value: V) {
        debug_assert!(!self.contains_key(&key), "insert of a present key");
        if (self.len + 1) * 2 > self.slots.len() {
            self.grow();
        }
        let hash = self.hasher.hash_one(&key);
        self.place(Slot { hash, key, value });
        self.len += 1;
    }

    fn place(&mut self, slot: Slot<K, V>) {
        let mask = self.slots.len() - 1;
        let mut at = slot.hash as usize & mask;
        while self.slots[at].is_some() {
            at = (at + 1) & mask;
        }
        self.slots[at] = Some(slot);
    }

    fn grow(&mut self) {
        let size = (self.slots.len() * 2).max(8);
        let old = std::mem::replace(&mut self.slots, (0..size).map(|_| None).collect());
        for slot in old.into_vec().into_iter().flatten() {
            self.place(slot);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_inserted_key_is_found_and_no_other_across_growth() {
        let mut table: Table<String, usize> = Table::default();
        assert_eq!(table.get("absent"), None);
        for i in 0..1000 {
            table.insert(format!("key-{i}"), i);
            assert_eq!(table.len(), i + 1);
            // Every key so far, after each growth step.
            if i.is_power_of_two() {
                for j in 0..=i {
                    assert_eq!(table.get(format!("key-{j}").as_str()), Some(&j));
                }
            }
        }
        for i in 0..1000 {
            assert_eq!(table.get(format!("key-{i}").as_str()), Some(&i));
            assert!(!table.contains_key(format!("other-{i}").as_str()));
        }
        assert!(table.slots.len() >= 2 * table.len());
    }
}
