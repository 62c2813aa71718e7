//! Platform-neutral mechanics: clock, ids, ordered collections, directory, journal, rate windows.
//! Nothing here knows about any platform's wire format.
//!
//! Where this fits: docs/architecture.md.

#[cfg(test)]
pub mod arb_json;
pub mod body;
pub mod clock;
pub mod compact;
pub mod directory;
pub mod expiring;
pub mod faults;
pub mod files;
pub mod formula;
pub mod http_call;
pub mod ids;
pub mod journal;
pub mod json_cache;
pub mod json_out;
pub mod keypath;
pub mod outbound;
pub mod ratelimit;
pub mod schema_hints;
pub mod store;
pub mod template;
pub mod text_index;
pub mod workflow;

/// The hasher of maps on the request path keyed by ids and field keys: foldhash is several times
/// cheaper than the standard SipHash on short keys and still seeded per process.
pub type FastHash = foldhash::fast::RandomState;
/// A `HashMap` with [`FastHash`].
pub type FastMap<K, V> = std::collections::HashMap<K, V, FastHash>;
