//! A value's JSON, serialised on its first read and reused until the value is dropped. For stored
//! records that are replaced, never changed in place (Jiandaoyun's and Astro Zero's): a read then costs
//! a copy, not a serialisation, and a page of records is a concatenation. A write builds a new record
//! with an empty cache, so a cache is never stale.
//!
//! All caches of the process share one budget ([`MAX_BYTES`]): past it, reads of records not yet
//! cached serialise instead, so reading every record of a huge collection cannot double its memory.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use super::json_out::PrintJson;

/// Bytes of JSON cached in this process.
static CACHED: AtomicUsize = AtomicUsize::new(0);
/// The process-wide budget of cached JSON.
pub const MAX_BYTES: usize = 256 << 20;

/// Takes `len` bytes of the process-wide budget for JSON kept elsewhere (Yida's printed records);
/// false, and nothing taken, when they do not fit. Give them back with [`release`].
pub fn reserve(len: usize) -> bool {
    CACHED.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |c| (c + len <= MAX_BYTES).then_some(c + len)).is_ok()
}

/// Gives back bytes taken with [`reserve`].
pub fn release(len: usize) {
    CACHED.fetch_sub(len, Ordering::Relaxed);
}

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
    pub fn write(&self, out: &mut Vec<u8>, value: &impl PrintJson) {
        self.write_within(out, value, MAX_BYTES);
    }

    /// [`JsonCache::write`] with another budget (0: print without keeping).
    pub fn write_within(&self, out: &mut Vec<u8>, value: &impl PrintJson, budget: usize) {
        if let Some(j) = self.0.get() {
            out.extend_from_slice(j);
            return;
        }
        let start = out.len();
        value.print_json(out);
        let written = &out[start..];
        if CACHED.load(Ordering::Relaxed) + written.len() <= budget && self.0.set(written.into()).is_ok() {
            CACHED.fetch_add(written.len(), Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_json_stays_within_the_budget() {
        assert!(!reserve(MAX_BYTES + 1), "more than the whole budget never fits");
        assert!(reserve(16));
        release(16);
        let cache = JsonCache::default();
        let (mut a, mut b) = (Vec::new(), Vec::new());
        cache.write_within(&mut a, &serde_json::json!({"k": "值"}), 0);
        assert!(!cache.is_cached(), "nothing kept past the budget");
        cache.write(&mut b, &serde_json::json!({"k": "值"}));
        let want = r#"{"k":"值"}"#.as_bytes();
        assert_eq!((a.as_slice(), b.as_slice(), cache.is_cached()), (want, want, true));
    }
}
