//! Records held compactly: what Jiandaoyun's entries, Astro Zero's objects and Yida's form data store.
//!
//! Records are built as a `serde_json::Map` (the read shape every route works with) and stored as a
//! key list shared by the records of one layout and a row of values. A `Map` costs ~60 heap
//! allocations for a typical record: an IndexMap with its hash table, a `String` per key and nested
//! maps for every member or address, each `Value` 72 bytes wide. A million records then need 4–5 GB.
//! Here a value is 24 bytes, the keys are one shared list per layout (records of a form or object
//! almost always share theirs), and repeated values — app and form ids, timestamps, option texts, the
//! member objects of `creator`/`updater`/user widgets — are shared through a per-collection
//! [`Interner`], so a record costs its unique text and little else. Field lookups become a short scan
//! of the shared keys instead of a SipHash per lookup, and a scan over records of one layout finds a
//! field at the slot it found it last ([`Stored::get_near`]).

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, Hash, Hasher};

use std::sync::Arc;

use crate::core::json_cache::JsonCache;
use crate::core::json_out::{self, PrintJson};

use parking_lot::Mutex;
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Number, Value};

/// A record in read shape (keys in the order they are printed).
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

    /// The value as a `serde_json::Value`: borrowed for arrays and objects, built for scalars.
    pub fn as_value(&self) -> std::borrow::Cow<'_, Value> {
        match self {
            Val::Json(v) => std::borrow::Cow::Borrowed(v),
            other => std::borrow::Cow::Owned(other.to_value()),
        }
    }

    pub fn to_value(&self) -> Value {
        ValRef::from(self).to_value()
    }
}

impl Serialize for Val {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        ValRef::from(self).serialize(s)
    }
}

/// A value borrowed from a stored [`Val`] or from a `serde_json::Value`, so one comparison serves
/// records in either form without copying text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ValRef<'a> {
    Null,
    Bool(bool),
    Num(&'a Number),
    Str(&'a str),
    /// An array or an object.
    Json(&'a Value),
}

impl<'a> From<&'a Value> for ValRef<'a> {
    fn from(v: &'a Value) -> Self {
        match v {
            Value::Null => ValRef::Null,
            Value::Bool(b) => ValRef::Bool(*b),
            Value::Number(n) => ValRef::Num(n),
            Value::String(s) => ValRef::Str(s),
            Value::Array(_) | Value::Object(_) => ValRef::Json(v),
        }
    }
}

impl<'a> From<&'a Val> for ValRef<'a> {
    fn from(v: &'a Val) -> Self {
        match v {
            Val::Null => ValRef::Null,
            Val::Bool(b) => ValRef::Bool(*b),
            Val::Num(n) => ValRef::Num(n),
            Val::Str(s) => ValRef::Str(s),
            Val::Json(v) => ValRef::from(&**v),
        }
    }
}

impl ValRef<'_> {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            ValRef::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, ValRef::Null)
    }

    pub fn to_value(&self) -> Value {
        match self {
            ValRef::Null => Value::Null,
            ValRef::Bool(b) => Value::Bool(*b),
            ValRef::Num(n) => Value::Number((*n).clone()),
            ValRef::Str(s) => Value::String((*s).to_owned()),
            ValRef::Json(v) => (*v).clone(),
        }
    }

    /// The value as compact JSON text (what `Value::to_string` prints).
    pub fn json_text(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

impl Serialize for ValRef<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            ValRef::Null => s.serialize_unit(),
            ValRef::Bool(b) => s.serialize_bool(*b),
            ValRef::Num(n) => n.serialize(s),
            ValRef::Str(t) => s.serialize_str(t),
            ValRef::Json(v) => v.serialize(s),
        }
    }
}

/// Where a record's fields are read from: a stored record or a map being built. Conditions and
/// indexes written against it serve both.
pub trait Fields {
    /// The field's value; `None` when the record has no such key.
    fn field(&self, key: &str) -> Option<ValRef<'_>>;

    /// The field's value, `Null` when absent.
    fn field_or_null(&self, key: &str) -> ValRef<'_> {
        self.field(key).unwrap_or(ValRef::Null)
    }

    /// `field`, looking at `slot` first where the record can (see [`Stored::get_near`]).
    fn field_near(&self, key: &str, _slot: &std::cell::Cell<usize>) -> Option<ValRef<'_>> {
        self.field(key)
    }
}

impl Fields for Record {
    fn field(&self, key: &str) -> Option<ValRef<'_>> {
        self.get(key).map(ValRef::from)
    }
}

impl Fields for Stored {
    fn field(&self, key: &str) -> Option<ValRef<'_>> {
        self.get(key).map(ValRef::from)
    }

    fn field_near(&self, key: &str, slot: &std::cell::Cell<usize>) -> Option<ValRef<'_>> {
        self.get_near(key, slot).map(ValRef::from)
    }
}

/// One layout's keys, shared by every record stored with it.
pub type Keys = Arc<[Arc<str>]>;

/// A stored record and its JSON, serialised on first read and reused until the record is replaced.
/// Reads then cost a copy, not a serialisation (a filtered list page is twice as fast); a write builds
/// a new `Stored`, so the cache is never stale.
#[derive(Debug)]
pub struct Stored {
    keys: Keys,
    vals: Box<[Val]>,
    json: JsonCache,
}

impl Stored {
    /// The length of the record's JSON when cached, else `typical` (to size buffers).
    pub fn json_len_or(&self, typical: usize) -> usize {
        self.json.len_or(typical)
    }

    /// Appends the record's JSON to `out`, from the cache when there is one.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        self.json.write(out, self);
    }

    /// The record's JSON and a comma, shared with its cache: a piece of a page (see
    /// [`crate::core::body`]).
    pub fn json_with_comma(&self) -> bytes::Bytes {
        self.json.with_comma(self)
    }

    /// [`Stored::write_json`] that keeps nothing: for the answer to the write that made the record, which
    /// is printed once (a copy kept for reads that may never come would cost an allocation and memory
    /// per write; the first read caches it).
    pub fn write_json_uncached(&self, out: &mut Vec<u8>) {
        self.json.write_within(out, self, 0);
    }

    pub fn get(&self, key: &str) -> Option<&Val> {
        self.keys.iter().position(|k| **k == *key).map(|i| &self.vals[i])
    }

    /// The field's value as a `serde_json::Value` (`Null` when absent).
    pub fn to_value_of(&self, key: &str) -> Value {
        self.get(key).map(Val::to_value).unwrap_or(Value::Null)
    }

    /// The field's value as a `serde_json::Value` (see [`Val::as_value`]).
    pub fn value(&self, key: &str) -> Option<std::borrow::Cow<'_, Value>> {
        self.get(key).map(Val::as_value)
    }

    /// The keys in order, shared with every record of the same layout.
    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    pub fn len(&self) -> usize {
        self.vals.len()
    }

    pub fn is_empty(&self) -> bool {
        self.vals.is_empty()
    }

    /// The field's text as the record holds it (shared, not copied): a record's id text is also its
    /// key in the collection.
    pub fn shared_str(&self, key: &str) -> Option<Arc<str>> {
        match self.get(key)? {
            Val::Str(s) => Some(s.clone()),
            _ => None,
        }
    }

    /// The field's text, when it holds text.
    pub fn str(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(Val::as_str)
    }

    /// `get` that looks at `slot` first and leaves there where the key was found, so a scan over records
    /// of one layout compares one key per record.
    pub fn get_near(&self, key: &str, slot: &std::cell::Cell<usize>) -> Option<&Val> {
        if let Some(k) = self.keys.get(slot.get()) {
            if **k == *key {
                return Some(&self.vals[slot.get()]);
            }
        }
        let i = self.keys.iter().position(|k| **k == *key)?;
        slot.set(i);
        Some(&self.vals[i])
    }

    /// Keys and values in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Val)> {
        self.keys.iter().map(|k| &**k).zip(self.vals.iter())
    }

    /// The record in read shape, for the routes that reshape it (field selection, legacy versions,
    /// state export).
    pub fn to_record(&self) -> Record {
        self.iter().map(|(k, v)| (k.to_owned(), v.to_value())).collect()
    }

    /// A copy with `changes` applied: existing keys keep their place, new keys go last. Unchanged values
    /// are shared with this record, so an update costs the changed values only.
    pub fn with_changes<'a>(&self, changes: impl IntoIterator<Item = (&'a str, &'a Value)>, interner: &Interner) -> Stored {
        let mut vals = self.vals.to_vec();
        let mut added: Option<Vec<Arc<str>>> = None;
        let mut pools = interner.pools.lock();
        for (key, value) in changes {
            let val = pools.val(key, value);
            let keys = added.as_deref().unwrap_or(&self.keys);
            match keys.iter().position(|k| **k == *key) {
                Some(i) => vals[i] = val,
                None => {
                    let k = pools.key(key);
                    added.get_or_insert_with(|| self.keys.to_vec()).push(k);
                    vals.push(val);
                }
            }
        }
        let keys = match added {
            None => self.keys.clone(),
            Some(keys) => pools.layout(keys),
        };
        Stored { keys, vals: vals.into_boxed_slice(), json: JsonCache::default() }
    }
}

impl PrintJson for Stored {
    fn print_json(&self, out: &mut Vec<u8>) {
        out.push(b'{');
        for (i, (k, v)) in self.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            json_out::write_key(out, k);
            v.print_json(out);
        }
        out.push(b'}');
    }
}

impl PrintJson for Val {
    fn print_json(&self, out: &mut Vec<u8>) {
        match self {
            Val::Null => out.extend_from_slice(b"null"),
            Val::Bool(true) => out.extend_from_slice(b"true"),
            Val::Bool(false) => out.extend_from_slice(b"false"),
            Val::Num(n) => json_out::write_number(out, n),
            Val::Str(s) => json_out::write_str(out, s),
            Val::Json(v) => json_out::write_value(out, v),
        }
    }
}

impl Serialize for Stored {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.vals.len()))?;
        for (k, v) in self.iter() {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl Clone for Stored {
    /// A copy sharing keys and values (its JSON is printed again when read).
    fn clone(&self) -> Self {
        Stored { keys: self.keys.clone(), vals: self.vals.clone(), json: JsonCache::default() }
    }
}

/// Records read from a state file share keys and repeated values through one process-wide interner
/// (bounded like every other).
impl<'de> serde::Deserialize<'de> for Stored {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        static READ: std::sync::LazyLock<Interner> = std::sync::LazyLock::new(Interner::default);
        let map = Record::deserialize(d)?;
        Ok(READ.store(&map))
    }
}

/// Shares keys and repeated values between the records of one collection (form, object). Each pool is bounded: when one
/// fills up it is emptied (records keep what they hold), so memory stays flat however many distinct
/// values pass through.
#[derive(Debug, Default)]
pub struct Interner {
    pools: Mutex<Pools>,
}

impl Interner {
    /// Stores `rec`, sharing its keys and repeated values with the collection's other records.
    pub fn store(&self, rec: &Record) -> Stored {
        let mut pools = self.pools.lock();
        let keys = pools.layout_of(rec.keys().map(String::as_str));
        let vals = rec.iter().map(|(k, v)| pools.val(k, v)).collect();
        Stored { keys, vals, json: JsonCache::default() }
    }

    /// `v` as [`Interner::store`] would hold it under `key`. A value that many records share (a
    /// creator, an app id) is then hashed and looked up once, not once per record.
    pub fn share(&self, key: &str, v: &Value) -> Val {
        self.pools.lock().val(key, v)
    }

    /// A record to be stored cell by cell, `capacity` cells expected.
    pub fn builder<'k>(&self, capacity: usize) -> RecordBuilder<'_, 'k> {
        RecordBuilder { pools: self.pools.lock(), keys: Vec::with_capacity(capacity), vals: Vec::with_capacity(capacity) }
    }

    /// Stores a record given as keys and values already held (from [`Interner::share`], or built as
    /// `share` would build them): what `store` makes of the same map, without building the map.
    pub fn store_cells(&self, cells: Vec<(&str, Val)>) -> Stored {
        let keys = self.pools.lock().layout_of(cells.iter().map(|(k, _)| *k));
        // A fresh allocation of the exact size: collecting `cells` into the slice would reuse its
        // larger buffer in place, and a shrink keeps the allocator's size class (+30 % per record).
        let mut vals = Vec::with_capacity(cells.len());
        vals.extend(cells.into_iter().map(|(_, v)| v));
        Stored { keys, vals: vals.into_boxed_slice(), json: JsonCache::default() }
    }
}

/// A record stored cell by cell, as it is assembled: what [`Interner::store`] makes of the same map,
/// without building the map (a create then allocates no `String` key and no map). The collection's
/// pools stay locked until [`RecordBuilder::finish`].
pub struct RecordBuilder<'i, 'k> {
    pools: parking_lot::MutexGuard<'i, Pools>,
    keys: Vec<&'k str>,
    vals: Vec<Val>,
}

impl<'k> RecordBuilder<'_, 'k> {
    /// Sets `key` to `v`. A key put twice keeps its first place and takes the last value, as a map
    /// insert does.
    pub fn put(&mut self, key: &'k str, v: &Value) {
        let val = self.pools.val(key, v);
        self.keys.push(key);
        self.vals.push(val);
    }

    /// Sets `key` to a value already shared: an array or object is held as it is (no hashing, no
    /// pool lookup); a scalar is stored as [`RecordBuilder::put`] stores it.
    pub fn put_shared(&mut self, key: &'k str, v: &Arc<Value>) {
        let val = match **v {
            Value::Array(_) | Value::Object(_) => Val::Json(v.clone()),
            _ => self.pools.val(key, v),
        };
        self.keys.push(key);
        self.vals.push(val);
    }

    pub fn finish(self) -> Stored {
        let Self { mut pools, keys, vals } = self;
        if pools.is_last_layout(keys.iter().copied()) {
            return Stored { keys: pools.layout.clone(), vals: vals.into(), json: JsonCache::default() };
        }
        // The last layout has unique keys; any other may repeat one.
        let mut seen: HashMap<&str, usize> = HashMap::with_capacity(keys.len());
        let (mut unique, mut last_vals) = (Vec::with_capacity(keys.len()), Vec::with_capacity(vals.len()));
        for (k, v) in keys.into_iter().zip(vals) {
            match seen.get(k) {
                Some(&at) => last_vals[at] = v,
                None => {
                    seen.insert(k, unique.len());
                    unique.push(k);
                    last_vals.push(v);
                }
            }
        }
        let keys = pools.layout_of(unique.into_iter());
        Stored { keys, vals: last_vals.into(), json: JsonCache::default() }
    }
}

/// Entries per pool before it is emptied.
const POOL_MAX: usize = 4096;
/// Keys holding record ids (Jiandaoyun's `_id`, Astro Zero's `id`), never shared.
const UNSHARED_KEYS: &[&str] = &["_id", "id"];
/// Longer strings are rarely repeated; they are stored unshared.
const SHARED_STR_MAX: usize = 64;
/// Arrays and objects with more nodes than this are stored unshared (hashing them would cost more
/// than sharing saves).
const SHARED_JSON_NODES: usize = 64;

use super::FastHash as Hashing;

#[derive(Debug, Default)]
struct Pools {
    keys: HashSet<Arc<str>, Hashing>,
    /// The layout of the last record stored: the records of a collection share their key order, so
    /// this answers almost every record without hashing a key.
    layout: Keys,
    strs: HashSet<Arc<str>, Hashing>,
    json: HashMap<u64, Vec<Arc<Value>>, Hashing>,
    json_len: usize,
    hashing: Hashing,
}

impl Pools {
    fn key(&mut self, k: &str) -> Arc<str> {
        intern(&mut self.keys, k)
    }

    /// The layout of a record with these keys: the last one when they match it (no key hashed), else
    /// a new last one.
    fn layout_of<'k>(&mut self, keys: impl ExactSizeIterator<Item = &'k str> + Clone) -> Keys {
        if self.is_last_layout(keys.clone()) {
            return self.layout.clone();
        }
        let keys = keys.map(|k| self.key(k)).collect();
        self.layout(keys)
    }

    /// Whether these keys, in this order, are the last layout stored.
    fn is_last_layout<'k>(&self, keys: impl ExactSizeIterator<Item = &'k str>) -> bool {
        self.layout.len() == keys.len() && keys.zip(self.layout.iter()).all(|(a, b)| a == &**b)
    }

    /// `keys` as a shared layout: the last one when they are the same, else a new last one.
    fn layout(&mut self, keys: Vec<Arc<str>>) -> Keys {
        if *self.layout != *keys {
            self.layout = keys.into();
        }
        self.layout.clone()
    }

    fn val(&mut self, key: &str, v: &Value) -> Val {
        match v {
            Value::Null => Val::Null,
            Value::Bool(b) => Val::Bool(*b),
            Value::Number(n) => Val::Num(n.clone()),
            // Record ids are unique by construction: sharing them would only churn the pool.
            Value::String(s) if UNSHARED_KEYS.contains(&key) || s.len() > SHARED_STR_MAX => Val::Str(Arc::from(s.as_str())),
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
    fn records_of_one_layout_share_their_keys() {
        let i = Interner::default();
        let a = i.store(&rec(json!({"id": "a", "x": 1})));
        let b = i.store(&rec(json!({"id": "b", "x": 2})));
        assert!(Arc::ptr_eq(&a.keys, &b.keys));
        let other = i.store(&rec(json!({"x": 3, "id": "c"})));
        assert!(!Arc::ptr_eq(&a.keys, &other.keys), "another key order is another layout");
        let grown = a.with_changes([("y", &json!(true))], &i);
        let next = i.store(&rec(json!({"id": "d", "x": 4, "y": false})));
        assert!(Arc::ptr_eq(&grown.keys, &next.keys), "a layout made by a change is shared with the next record");
        let changed = a.with_changes([("x", &json!(5))], &i);
        assert!(Arc::ptr_eq(&a.keys, &changed.keys));
        let (Some(Val::Str(x)), Some(Val::Str(y))) = (a.get("id"), changed.get("id")) else { panic!() };
        assert!(Arc::ptr_eq(x, y), "unchanged values are shared with the old record");
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
    fn a_record_built_cell_by_cell_is_the_stored_map() {
        let i = Interner::default();
        let build = |cells: &[(&str, Value)]| {
            let mut b = i.builder(cells.len());
            for (k, v) in cells {
                b.put(k, v);
            }
            b.finish()
        };
        let cells = [("_id", json!("a")), ("creator", json!({"username": "u"})), ("x", json!(1))];
        let map: Record = cells.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect();
        let (built, stored) = (build(&cells), i.store(&map));
        assert_eq!(built.to_record(), map);
        assert!(Arc::ptr_eq(built.keys(), stored.keys()), "one layout");
        let (Some(Val::Json(a)), Some(Val::Json(b))) = (built.get("creator"), stored.get("creator")) else { panic!() };
        assert!(Arc::ptr_eq(a, b), "values shared as store shares them");
        // A key put twice: its first place, its last value (a map insert), on a fresh layout or not.
        let twice = [("_id", json!("b")), ("x", json!(1)), ("y", json!(2)), ("x", json!(3))];
        for _ in 0..2 {
            assert_eq!(serde_json::to_value(build(&twice)).unwrap(), json!({"_id": "b", "x": 3, "y": 2}));
        }
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
                 crate::core::arb_json::arb_json("[a-z0-9\"\\\\\\n\\x01压]{0,80}", &["x", ""], &["username", "phone"])),
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
            let cells = r.iter().map(|(k, v)| (k.as_str(), i.share(k, v))).collect();
            let from_cells = i.store_cells(cells);
            proptest::prop_assert_eq!(from_cells.to_record(), r.clone());
            proptest::prop_assert!(Arc::ptr_eq(&from_cells.keys, &again.keys), "cells of a map's layout share its keys");
            let mut expected = r.clone();
            expected.insert("b".into(), change.clone());
            proptest::prop_assert_eq!(s.with_changes([("b", &change)], &i).to_record(), expected);
        }
    }
}
