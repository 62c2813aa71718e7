//! A value's JSON, serialised on its first read and reused until the value is dropped. For stored
//! records that are replaced, never changed in place (Jiandaoyun's and Astro Zero's): a read then costs
//! a copy, not a serialisation, and a page of records is a concatenation. A write builds a new record
//! with an empty cache, so a cache is never stale.
//!
//! All caches of the process share one budget ([`MAX_BYTES`]): past it, reads of records not yet
//! cached serialise instead, so reading every record of a huge collection cannot double its memory.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use serde::Serialize;

/// Bytes of JSON cached in this process.
static CACHED: AtomicUsize = AtomicUsize::new(0);
/// The process-wide budget of cached JSON.
pub const MAX_BYTES: usize = 256 << 20;

#[derive(Debug, Default)]
pub struct JsonCache(OnceLock<Box<[u8]>>);

impl Drop for JsonCache {
    fn drop(&mut self) {
        if let Some(j) = self.0.get() {
            CACHED.fetch_sub(j.len(), Ordering::Relaxed);
        }
    }
}

impl JsonCache {
    /// The cached JSON's length, else `typical` (to size buffers).
    pub fn len_or(&self, typical: usize) -> usize {
        self.0.get().map_or(typical, |j| j.len())
    }

    /// Whether the JSON is cached.
    pub fn is_cached(&self) -> bool {
        self.0.get().is_some()
    }

    /// Appends `value`'s JSON to `out`, from the cache when there is one (`value` must be the value the
    /// cache belongs to).
    pub fn write(&self, out: &mut Vec<u8>, value: &impl Serialize) {
        self.write_within(out, value, MAX_BYTES);
    }

    /// [`JsonCache::write`] with another budget (tests).
    pub fn write_within(&self, out: &mut Vec<u8>, value: &impl Serialize, budget: usize) {
        if let Some(j) = self.0.get() {
            out.extend_from_slice(j);
            return;
        }
        let start = out.len();
        if serde_json::to_writer(&mut *out, value).is_err() {
            out.truncate(start);
            return;
        }
        let written = &out[start..];
        if CACHED.load(Ordering::Relaxed) + written.len() <= budget && self.0.set(written.into()).is_ok() {
            CACHED.fetch_add(written.len(), Ordering::Relaxed);
        }
    }
}

/// Writes `items` as a JSON array into `out`, each by `write`.
pub fn write_array<T>(out: &mut Vec<u8>, items: &[T], mut write: impl FnMut(&mut Vec<u8>, &T)) {
    out.push(b'[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write(out, item);
    }
    out.push(b']');
}
