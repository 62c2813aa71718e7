//! Ordered record collections.
//!
//! One collection holds the records of one form/object, ordered by id in a `BTreeMap` behind its own
//! lock: a cursor page ("records after id X") is a range scan, O(log n + page), and a write to one
//! collection never blocks reads of another. Values are `Arc`ed so readers copy pointers out of the
//! lock and serialise outside it.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::RwLock;

#[derive(Debug)]
pub struct Collection<V> {
    map: RwLock<BTreeMap<Arc<str>, Arc<V>>>,
    /// Bumped by every write, so an index kept beside the collection can tell it is stale.
    version: AtomicU64,
}

impl<V> Default for Collection<V> {
    fn default() -> Self {
        Self { map: RwLock::new(BTreeMap::new()), version: AtomicU64::new(0) }
    }
}

impl<V> Collection<V> {
    /// How many writes the collection has seen (each call of a writing method counts once).
    pub fn version(&self) -> u64 {
        self.version.load(Ordering::Acquire)
    }

    fn wrote(&self) {
        self.version.fetch_add(1, Ordering::AcqRel);
    }

    pub fn len(&self) -> usize {
        self.map.read().len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.read().is_empty()
    }

    pub fn get(&self, id: &str) -> Option<Arc<V>> {
        self.map.read().get(id).cloned()
    }

    pub fn contains(&self, id: &str) -> bool {
        self.map.read().contains_key(id)
    }

    pub fn insert(&self, id: &str, value: V) -> Arc<V> {
        let v = Arc::new(value);
        self.map.write().insert(Arc::from(id), v.clone());
        self.wrote();
        v
    }

    /// [`Collection::insert`] under an id already shared (the record's own id text): no copy of it.
    pub fn insert_keyed(&self, id: Arc<str>, value: V) -> Arc<V> {
        let v = Arc::new(value);
        self.map.write().insert(id, v.clone());
        self.wrote();
        v
    }

    /// Puts back a value taken out with [`Collection::remove`] (a recovered record), unless the id is
    /// in use again. Answers whether it went in.
    pub fn restore(&self, id: &str, value: Arc<V>) -> bool {
        let mut map = self.map.write();
        if map.contains_key(id) {
            return false;
        }
        map.insert(Arc::from(id), value);
        drop(map);
        self.wrote();
        true
    }

    /// Inserts many records under one lock acquisition (bulk loads, atomic batches). An id given as
    /// an `Arc<str>` is kept as it is, a `String` is copied once.
    pub fn insert_many<K: Into<Arc<str>>>(&self, items: impl IntoIterator<Item = (K, V)>) {
        let mut map = self.map.write();
        for (id, v) in items {
            map.insert(id.into(), Arc::new(v));
        }
        drop(map);
        self.wrote();
    }

    pub fn remove(&self, id: &str) -> Option<Arc<V>> {
        let removed = self.map.write().remove(id);
        self.wrote();
        removed
    }

    /// Removes every id in `ids` that exists, under one lock; returns how many were removed.
    pub fn remove_many<'a>(&self, ids: impl IntoIterator<Item = &'a str>) -> usize {
        let mut map = self.map.write();
        let n = ids.into_iter().filter(|id| map.remove(*id).is_some()).count();
        drop(map);
        self.wrote();
        n
    }

    /// Read-modify-write of one record under the write lock, so concurrent updates of the same record
    /// serialise and none is lost. `f` returns the new value or an error that leaves the record as it was.
    pub fn update<E>(&self, id: &str, f: impl FnOnce(&V) -> Result<V, E>) -> Option<Result<Arc<V>, E>> {
        let mut map = self.map.write();
        let slot = map.get_mut(id)?;
        let out = f(slot).map(|new| {
            let new = Arc::new(new);
            *slot = new.clone();
            new
        });
        drop(map);
        self.wrote();
        Some(out)
    }

    /// How many records `keep` accepts, and those of them at positions `skip..skip + take` in id order —
    /// a page and its total in one pass under one read lock, without cloning the records around it.
    pub fn count_and_page(&self, skip: usize, take: usize, mut keep: impl FnMut(&V) -> bool) -> (usize, Vec<Arc<V>>) {
        let map = self.map.read();
        let mut total = 0;
        let mut page = Vec::with_capacity(take.min(1024));
        for v in map.values() {
            if keep(v) {
                if total >= skip && page.len() < take {
                    page.push(v.clone());
                }
                total += 1;
            }
        }
        (total, page)
    }

    /// Every record `keep` accepts, in id order, under one read lock.
    pub fn filtered(&self, mut keep: impl FnMut(&V) -> bool) -> Vec<Arc<V>> {
        self.map.read().values().filter(|v| keep(v)).cloned().collect()
    }

    /// Up to `limit` records with id strictly greater than `after` (all from the start when `None`),
    /// in id order, keeping only those `keep` accepts. Cost: O(log n + records scanned).
    pub fn page_after(&self, after: Option<&str>, limit: usize, mut keep: impl FnMut(&V) -> bool) -> Vec<Arc<V>> {
        let map = self.map.read();
        let lower = match after {
            Some(a) => Bound::Excluded(a),
            None => Bound::Unbounded,
        };
        map.range::<str, _>((lower, Bound::Unbounded)).filter(|(_, v)| keep(v)).take(limit).map(|(_, v)| v.clone()).collect()
    }

    /// Runs `f` over every record and its id in id order under one read lock; answers the version the
    /// records it saw are at least as new as (an index built from them is stale once the version moves on).
    pub fn scan_keyed_versioned(&self, mut f: impl FnMut(&Arc<str>, &Arc<V>)) -> u64 {
        let map = self.map.read();
        let version = self.version();
        for (id, v) in map.iter() {
            f(id, v);
        }
        version
    }

    /// Every record in id order (state export, admin views).
    pub fn snapshot(&self) -> Vec<Arc<V>> {
        self.map.read().values().cloned().collect()
    }

    pub fn clear(&self) {
        self.map.write().clear();
        self.wrote();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_pages_never_repeat_or_skip() {
        let c = Collection::default();
        for i in 0..250u32 {
            c.insert(&format!("{i:05}"), i);
        }
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let page = c.page_after(cursor.as_deref(), 100, |_| true);
            if page.is_empty() {
                break;
            }
            cursor = Some(format!("{:05}", page.last().map(|v| **v).unwrap_or_default()));
            seen.extend(page.iter().map(|v| **v));
        }
        assert_eq!(seen, (0..250).collect::<Vec<_>>());
    }

    #[test]
    fn update_is_atomic_and_reports_missing() {
        let c = Collection::default();
        c.insert("a", 1);
        let r: Option<Result<_, ()>> = c.update("a", |v| Ok(v + 1));
        assert_eq!(*r.and_then(Result::ok).map(|v| *v).as_ref().unwrap_or(&0), 2);
        assert!(c.update::<()>("zz", |v| Ok(*v)).is_none());
        let err: Option<Result<Arc<i32>, &str>> = c.update("a", |_| Err("no"));
        assert!(matches!(err, Some(Err("no"))));
        assert_eq!(c.get("a").map(|v| *v), Some(2));
    }
}
