//! The commands that meet a live tenant: `import` (a tenant's schema and sample data into a scenario),
//! `proxy` (record a client's real traffic) and `diff` (replay a recording against the emulator and
//! report where the answers differ in shape).
//!
//! What each platform knows lives with the platform (`platforms/<p>/tenant.rs`: how to read its tenant,
//! how it says "too many requests", how a replay authenticates); this folder holds the mechanics they
//! share — the paced, retrying HTTP client, the scenario writer, the recording format, the comparison.

pub mod diff;
pub mod import;
#[cfg(test)]
mod proptests;
pub mod proxy;
pub mod recording;
pub mod shape;
