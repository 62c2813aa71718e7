//! A value's JSON, serialised on its first read and reused until the value is dropped. For stored
//! records that are replaced, never changed in place (Jiandaoyun's and Astro Zero's): a read then costs
//! a copy, not a serialisation, and a page of records is a concatenation. A write builds a new record
//! with an empty cache, so a cache is never stale.
//!
//! The JSON is kept with a comma after it, as shared `Bytes`: a page of records is then a list of
//! these pieces (the last one sliced short), sent without being copied together (see
//! [`crate::core::body`]).
//!
//! All caches of the process share one budget ([`MAX_BYTES`]): past it, reads of records not yet
//! cached serialise instead, so reading every record of a huge collection cannot double its memory.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use bytes::Bytes;

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
pub struct JsonCache(OnceLock<Bytes>);

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
        self.0.get().map_or(typical, |j| j.len() - 1)
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
            out.extend_from_slice(&j[..j.len() - 1]);
            return;
        }
        let start = out.len();
        value.print_json(out);
        let written = &out[start..];
        let kept_len = written.len() + 1;
        if CACHED.load(Ordering::Relaxed) + kept_len <= budget {
            let mut kept = Vec::with_capacity(kept_len);
            kept.extend_from_slice(written);
            kept.push(b',');
            if self.0.set(kept.into()).is_ok() {
                CACHED.fetch_add(kept_len, Ordering::Relaxed);
            }
        }
    }

    /// `value`'s JSON followed by a comma, shared with the cache (printed and kept first when it is not
    /// cached and fits the budget; printed for this once when it does not).
    pub fn with_comma(&self, value: &impl PrintJson) -> Bytes {
        if let Some(j) = self.0.get() {
            return j.clone();
        }
        let mut printed = Vec::new();
        self.write_within(&mut printed, value, MAX_BYTES);
        if let Some(j) = self.0.get() {
            return j.clone();
        }
        printed.push(b',');
        printed.into()
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
        assert_eq!(cache.len_or(0), want.len());
        assert_eq!(&cache.with_comma(&serde_json::json!("ignored once cached"))[..], r#"{"k":"值"},"#.as_bytes());
        let fresh = JsonCache::default();
        assert_eq!(&fresh.with_comma(&serde_json::json!([1, "二"]))[..], r#"[1,"二"],"#.as_bytes());
        assert!(fresh.is_cached(), "a piece asked for is kept");
    }
}
