//! The errors the emulator's own machinery returns (as opposed to platform errors, which are answers in a
//! platform's envelope: see [`crate::platforms::PlatformError`]).
//!
//! Where this fits: docs/architecture.md.

use std::path::PathBuf;

use crate::scenario::ScenarioError;
use crate::state::StateError;

/// Why starting, loading, saving or stopping failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// A state document (admin `PUT /__emu/state` or `--state-file`) does not fit the scenario.
    #[error(transparent)]
    State(#[from] StateError),
    /// A state file could not be read or parsed.
    #[error("{}: {message}", path.display())]
    StateFile { path: PathBuf, message: String },
    #[error("cannot read {}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot write {}: {source}", path.display())]
    Write { path: PathBuf, source: std::io::Error },
    #[error("the server was started without --state-file")]
    NoStateFile,
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Namespaces(String),
}
