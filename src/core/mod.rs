//! Platform-neutral mechanics: clock, ids, ordered collections, directory, journal, rate windows.
//! Nothing here knows about any platform's wire format.
//!
//! Where this fits: docs/architecture.md.

#[cfg(test)]
pub mod arb_json;
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
pub mod keypath;
pub mod outbound;
pub mod ratelimit;
pub mod schema_hints;
pub mod store;
pub mod template;
pub mod text_index;
pub mod workflow;
