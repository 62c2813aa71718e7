//! How a Jiandaoyun record is held in memory.
//!
//! Records are built as a `serde_json::Map` (the read shape every route works with) and stored as a
//! flat list of `(key, value)` cells. A `Map` costs ~60 heap allocations for a typical record: an
//! IndexMap with its hash table, a `String` per key and nested maps for every member or address, each
//! `Value` 80 bytes wide. A million records then need ~5.5 GB. Cells are 40 bytes, keys are shared
//! `Arc<str>`s, and repeated values — the app and form ids, timestamps, option texts, the member
//! objects of `creator`/`updater`/user widgets — are shared through a per-form [`Interner`], so a
//! record costs its unique text and little else. Field lookups become a short scan of pointer-sized
//! keys instead of a SipHash per lookup, which is what the filtered list spends most of its time on.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, Hash, Hasher};

use std::sync::Arc;

use crate::core::json_cache::JsonCache;

use parking_lot::Mutex;
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Number, Value};

/// A record in read shape: system fields first (`_id`, `appId`, `entryId`, `creator`, `updater`,
/// `createTime`, `updateTime`, `flowState`), then every widget in form order.
pub type Record = Map<String, Value>;

/// One stored value. Scalars are inline; arrays and objects are shared, immutable JSON.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Null,
    Bool(bool),
    Num(Number),
    Str(Arc<str>),
    Json(Arc<Value>),
}

impl Val {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Val::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The value when it is an array or an object.
    pub fn as_json(&self) -> Option<&Value> {
        match self {
            Val::Json(v) => Some(v),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&Vec<Value>> {
        self.as_json().and_then(Value::as_array)
    }

    pub fn as_object(&self) -> Option<&Map<String, Value>> {
        self.as_json().and_then(Value::as_object)
    }

    pub fn to_value(&self) -> Value {
        match self {
            Val::Null => Value::Null,
            Val::Bool(b) => Value::Bool(*b),
            Val::Num(n) => Value::Number(n.clone()),
            Val::Str(s) => Value::String(s.to_string()),
            Val::Json(v) => Value::clone(v),
        }
    }
}

impl Serialize for Val {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Val::Null => s.serialize_unit(),
            Val::Bool(b) => s.serialize_bool(*b),
            Val::Num(n) => n.serialize(s),
            Val::Str(t) => s.serialize_str(t),
            Val::Json(v) => v.serialize(s),
        }
    }
}

/// A stored record and its JSON, serialised on first read and reused until the record is replaced.
/// Reads then cost a copy, not a serialisation (a filtered list page is twice as fast); a write builds
/// a new `Stored`, so the cache is never stale.
#[derive(Debug)]
pub struct Stored {
    cells: Box<[(Arc<str>, Val)]>,
    json: JsonCache,
}

impl Stored {
    /// The length of the record's JSON when cached, else a typical record's (to size buffers).
    pub fn json_len_hint(&self) -> usize {
        self.json.len_or(1024)
    }

    /// Appends the record's JSON to `out`, from the cache when there is one.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        self.json.write(out, self);
    }

    pub fn get(&self, key: &str) -> Option<&Val> {
        self.cells.iter().find(|(k, _)| **k == *key).map(|(_, v)| v)
    }

    /// `get` that looks at `slot` first and leaves there where the key was found, so a scan over records
    /// of one layout compares one key per record.
    pub fn get_near(&self, key: &str, slot: &std::cell::Cell<usize>) -> Option<&Val> {
        if let Some((k, v)) = self.cells.get(slot.get()) {
            if **k == *key {
                return Some(v);
            }
        }
        let i = self.cells.iter().position(|(k, _)| **k == *key)?;
        slot.set(i);
        Some(&self.cells[i].1)
    }

    /// The record in read shape, for the routes that reshape it (field selection, legacy versions,
    /// state export).
    pub fn to_record(&self) -> Record {
        self.cells.iter().map(|(k, v)| (k.to_string(), v.to_value())).collect()
    }

    /// A copy with `changes` applied: existing keys keep their place, new keys go last. Unchanged cells
    /// are shared with this record, so an update costs the changed values only.
    pub fn with_changes<'a>(&self, changes: impl IntoIterator<Item = (&'a str, &'a Value)>, interner: &Interner) -> Stored {
        let mut cells = self.cells.to_vec();
        let mut pools = interner.pools.lock();
        for (key, value) in changes {
            let val = pools.val(key, value);
            match cells.iter_mut().find(|(k, _)| **k == *key) {
                Some(cell) => cell.1 = val,
                None => cells.push((pools.key(key), val)),
            }
        }
        Stored::from_cells(cells.into_boxed_slice())
    }

    fn from_cells(cells: Box<[(Arc<str>, Val)]>) -> Self {
        Stored { cells, json: JsonCache::default() }
    }
}

impl Serialize for Stored {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.cells.len()))?;
        for (k, v) in self.cells.iter() {
            m.serialize_entry(&**k, v)?;
        }
        m.end()
    }
}

/// Shares keys and repeated values between the records of one form. Each pool is bounded: when one
/// fills up it is emptied (records keep what they hold), so memory stays flat however many distinct
/// values pass through.
#[derive(Debug, Default)]
pub struct Interner {
    pools: Mutex<Pools>,
}

impl Interner {
    /// Stores `rec`, sharing its keys and repeated values with the form's other records.
    pub fn store(&self, rec: &Record) -> Stored {
        let mut pools = self.pools.lock();
        let cells = rec.iter().enumerate().map(|(i, (k, v))| (pools.key_at(i, k), pools.val(k, v))).collect();
        Stored::from_cells(cells)
    }
}

/// Entries per pool before it is emptied.
const POOL_MAX: usize = 4096;
/// Longer strings are rarely repeated; they are stored unshared.
const SHARED_STR_MAX: usize = 64;
/// Arrays and objects with more nodes than this are stored unshared (hashing them would cost more
/// than sharing saves).
const SHARED_JSON_NODES: usize = 64;

type Hashing = foldhash::fast::RandomState;

#[derive(Debug, Default)]
struct Pools {
    keys: HashSet<Arc<str>, Hashing>,
    /// The keys of the last record stored, by position: records of a form share their key order, so
    /// this answers almost every key without hashing.
    last_keys: Vec<Arc<str>>,
    strs: HashSet<Arc<str>, Hashing>,
    json: HashMap<u64, Vec<Arc<Value>>, Hashing>,
    json_len: usize,
    hashing: Hashing,
}

impl Pools {
    fn key(&mut self, k: &str) -> Arc<str> {
        intern(&mut self.keys, k)
    }

    fn key_at(&mut self, i: usize, k: &str) -> Arc<str> {
        match self.last_keys.get(i) {
            Some(last) if **last == *k => last.clone(),
            _ => {
                let key = self.key(k);
                self.last_keys.truncate(i);
                self.last_keys.push(key.clone());
                key
            }
        }
    }

    fn val(&mut self, key: &str, v: &Value) -> Val {
        match v {
            Value::Null => Val::Null,
            Value::Bool(b) => Val::Bool(*b),
            Value::Number(n) => Val::Num(n.clone()),
            // Record ids are unique by construction: sharing them would only churn the pool.
            Value::String(s) if key == "_id" || s.len() > SHARED_STR_MAX => Val::Str(Arc::from(s.as_str())),
            Value::String(s) => Val::Str(intern(&mut self.strs, s)),
            Value::Array(_) | Value::Object(_) => Val::Json(self.json(v)),
        }
    }

    fn json(&mut self, v: &Value) -> Arc<Value> {
        let mut h = self.hashing.build_hasher();
        let mut budget = SHARED_JSON_NODES;
        if !hash_value(v, &mut h, &mut budget) {
            return Arc::new(v.clone());
        }
        if self.json_len >= POOL_MAX {
            self.json.clear();
            self.json_len = 0;
        }
        let same = self.json.entry(h.finish()).or_default();
        if let Some(found) = same.iter().find(|s| ***s == *v) {
            return found.clone();
        }
        let shared = Arc::new(v.clone());
        same.push(shared.clone());
        self.json_len += 1;
        shared
    }
}

fn intern(pool: &mut HashSet<Arc<str>, Hashing>, s: &str) -> Arc<str> {
    if let Some(found) = pool.get(s) {
        return found.clone();
    }
    if pool.len() >= POOL_MAX {
        pool.clear();
    }
    let shared: Arc<str> = Arc::from(s);
    pool.insert(shared.clone());
    shared
}

/// Hashes a JSON value structurally; `false` once more than `budget` nodes have been visited.
fn hash_value(v: &Value, h: &mut impl Hasher, budget: &mut usize) -> bool {
    if *budget == 0 {
        return false;
    }
    *budget -= 1;
    match v {
        Value::Null => 0u8.hash(h),
        Value::Bool(b) => (1u8, b).hash(h),
        Value::Number(n) => {
            2u8.hash(h);
            match (n.as_u64(), n.as_i64(), n.as_f64()) {
                (Some(u), _, _) => (0u8, u).hash(h),
                (None, Some(i), _) => (1u8, i).hash(h),
                (None, None, f) => (2u8, f.map(f64::to_bits)).hash(h),
            }
        }
        Value::String(s) => (3u8, s).hash(h),
        Value::Array(a) => {
            (4u8, a.len()).hash(h);
            return a.iter().all(|x| hash_value(x, h, budget));
        }
        Value::Object(o) => {
            (5u8, o.len()).hash(h);
            return o.iter().all(|(k, x)| {
                k.hash(h);
                hash_value(x, h, budget)
            });
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn json_of(s: &Stored) -> Vec<u8> {
        let mut out = Vec::new();
        s.write_json(&mut out);
        out
    }

    #[test]
    fn json_is_cached_within_the_budget_only() {
        let i = Interner::default();
        let r = rec(json!({"_id": "a", "x": "文本"}));
        let (over, within) = (i.store(&r), i.store(&r));
        let (mut a, mut b) = (Vec::new(), Vec::new());
        over.json.write_within(&mut a, &over, 0);
        within.json.write_within(&mut b, &within, usize::MAX);
        assert_eq!(a, serde_json::to_vec(&r).unwrap());
        assert_eq!(a, b);
        assert!(!over.json.is_cached() && within.json.is_cached());
        let mut again = Vec::new();
        within.json.write_within(&mut again, &within, 0);
        assert_eq!(again, b, "a cached record answers from its cache whatever the budget");
    }

    fn rec(v: Value) -> Record {
        match v {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    #[test]
    fn round_trips_and_keeps_order() {
        let r = rec(json!({"_id": "a1", "n": 1.5, "i": -3, "b": true, "z": null, "s": "x", "o": {"k": [1, {"x": 2}]}, "e": []}));
        let i = Interner::default();
        let s = i.store(&r);
        assert_eq!(s.to_record(), r);
        assert_eq!(json_of(&s), serde_json::to_vec(&r).unwrap());
        assert_eq!(s.get("_id"), Some(&Val::Str("a1".into())));
    }

    #[test]
    fn repeated_values_are_shared() {
        let i = Interner::default();
        let member = json!({"username": "u1", "name": "张三", "type": 0, "status": 1, "departments": [1]});
        let a = i.store(&rec(json!({"_id": "a", "creator": member, "appId": "app"})));
        let b = i.store(&rec(json!({"_id": "b", "creator": member, "appId": "app"})));
        let (Some(Val::Json(x)), Some(Val::Json(y))) = (a.get("creator"), b.get("creator")) else { panic!() };
        assert!(Arc::ptr_eq(x, y));
        let (Some(Val::Str(x)), Some(Val::Str(y))) = (a.get("appId"), b.get("appId")) else { panic!() };
        assert!(Arc::ptr_eq(x, y));
    }

    #[test]
    fn changes_replace_in_place_and_append_new_keys() {
        let i = Interner::default();
        let s = i.store(&rec(json!({"_id": "a", "x": 1, "y": 2})));
        let (x, w) = (json!("one"), json!([3]));
        let t = s.with_changes([("x", &x), ("w", &w)], &i);
        assert_eq!(serde_json::to_value(&t).unwrap(), json!({"_id": "a", "x": "one", "y": 2, "w": [3]}));
        assert_eq!(s.get("x"), Some(&Val::Num(1.into())));
    }

    #[test]
    fn pools_stay_bounded() {
        let i = Interner::default();
        for n in 0..3 * POOL_MAX {
            let _ = i.store(&rec(json!({"_id": n.to_string(), "s": format!("v{n}"), "o": {"n": n}})));
        }
        let p = i.pools.lock();
        assert!(p.strs.len() <= POOL_MAX && p.json_len <= POOL_MAX && p.keys.len() <= POOL_MAX);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig {
            cases: crate::core::arb_json::cases(2000), ..Default::default()
        })]

        /// Whatever a record holds (state import accepts any object), storing it loses nothing: the
        /// same map back, the same bytes as serialising the map, and changes land as on a map.
        #[test]
        fn storing_is_lossless(
            items in proptest::collection::vec(
                (proptest::sample::select(&["_id", "creator", "a", "b", "c"][..]),
                 crate::core::arb_json::arb_json("[a-z0-9]{0,80}", &["x", ""], &["username", "phone"])),
                0..8),
            change in crate::core::arb_json::arb_json("[a-z]{0,3}", &["x"], &["k"]),
        ) {
            let i = Interner::default();
            let r: Record = items.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
            let s = i.store(&r);
            proptest::prop_assert_eq!(&s.to_record(), &r);
            let bytes = serde_json::to_vec(&r).unwrap();
            proptest::prop_assert_eq!(json_of(&s), bytes);
            let again = i.store(&r);
            proptest::prop_assert_eq!(json_of(&again), json_of(&s));
            let mut expected = r.clone();
            expected.insert("b".into(), change.clone());
            proptest::prop_assert_eq!(s.with_changes([("b", &change)], &i).to_record(), expected);
        }
    }
}
