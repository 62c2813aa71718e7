//! Whole-state export and import: `GET/PUT /__emu/state` and `--state-file`.
//!
//! A snapshot holds everything a world changes at run time — clock, directory, files, fault rules and
//! counters, id generators, every platform's records, tickets and codes — while definitions (apps,
//! forms, flows) come from the scenario. Importing rebuilds a world from the scenario and overlays the
//! snapshot, so export → import → export gives the same JSON, and ids continue as they would have.
//! This module holds the parts every world has; each platform's part is its `snapshot.rs`.
//!
//! Where this fits: docs/architecture.md.

use std::sync::Arc;

use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::core::clock::{iso_utc_ms, parse_rfc3339_ms};
use crate::core::directory::{Department, Directory, User};
use crate::core::faults::FaultsState;
use crate::core::files::Blob;
use crate::core::ids::{IdGen, IdGenState};
use crate::platforms::PLATFORMS;
use crate::scenario::Scenario;
use crate::world::World;

pub const VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct ClockSnap {
    now: String,
    frozen: bool,
}

#[derive(Serialize, Deserialize)]
struct DirectorySnap {
    users: Vec<User>,
    departments: Vec<Department>,
}

#[derive(Serialize, Deserialize)]
struct FileSnap {
    id: String,
    name: String,
    mime: String,
    size: usize,
    created_ms: i64,
    data_base64: String,
}

/// The parts of a snapshot every world has; each platform's part sits beside them under its name.
#[derive(Serialize, Deserialize)]
struct Snapshot {
    version: u32,
    namespace: String,
    clock: ClockSnap,
    directory: DirectorySnap,
    files: Vec<FileSnap>,
    faults: FaultsState,
}

/// Why a state document cannot be laid over the scenario.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// The document does not have the snapshot's shape; `path` is where (`jiandaoyun.apps[0].name`).
    #[error("invalid state at {path}: {message}")]
    Invalid { path: String, message: String },
    #[error("state version {0} is not supported (expected {VERSION})")]
    Version(u32),
    #[error("the state has {0} data but the scenario has no [{0}]")]
    NotInScenario(&'static str),
    /// The snapshot names something the scenario does not define, or a value is not usable.
    #[error("{0}")]
    Mismatch(String),
    #[error("namespace {namespace:?}: {source}")]
    Namespace { namespace: String, source: Box<StateError> },
}

impl StateError {
    pub fn mismatch(message: impl Into<String>) -> Self {
        StateError::Mismatch(message.into())
    }
}

/// Reads a typed snapshot (or a platform's part of one, under `prefix`), naming the path of any problem.
pub fn parse<T: serde::de::DeserializeOwned>(prefix: &str, value: Value) -> Result<T, StateError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let inner = e.path().to_string();
        let path = match (prefix, inner.as_str()) {
            ("", p) => p.to_owned(),
            (pre, ".") => pre.to_owned(),
            (pre, p) => format!("{pre}.{p}"),
        };
        StateError::Invalid { path, message: e.inner().to_string() }
    })
}

/// The whole state of a world as JSON: the common parts, then each configured platform's under its name.
pub fn export(w: &World) -> Value {
    let snap = Snapshot {
        version: VERSION,
        namespace: w.namespace.clone(),
        clock: ClockSnap { now: iso_utc_ms(w.clock.now_ms()), frozen: w.clock.is_frozen() },
        directory: DirectorySnap { users: w.directory.users(), departments: w.directory.departments() },
        files: w
            .files
            .list()
            .into_iter()
            .map(|b| FileSnap {
                data_base64: base64::engine::general_purpose::STANDARD.encode(&b.data),
                id: b.id,
                name: b.name,
                mime: b.mime,
                size: b.size,
                created_ms: b.created_ms,
            })
            .collect(),
        faults: w.faults.state(),
    };
    let mut out = match serde_json::to_value(snap) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };
    for p in PLATFORMS {
        if let Some(v) = (p.export)(&w.platforms) {
            out.insert(p.name.to_owned(), v);
        }
    }
    Value::Object(out)
}

/// A world for `namespace` built from the scenario with `value` laid over it.
pub fn import(scenario: &Scenario, namespace: &str, value: Value) -> Result<World, StateError> {
    let (common, parts) = match value {
        Value::Object(mut top) => {
            let parts: Vec<Option<Value>> = PLATFORMS.iter().map(|p| top.remove(p.name).filter(|v| !v.is_null())).collect();
            (Value::Object(top), parts)
        }
        other => (other, Vec::new()),
    };
    let snap: Snapshot = parse("", common)?;
    if snap.version != VERSION {
        return Err(StateError::Version(snap.version));
    }
    let mut w = World::build(scenario, namespace);
    let now = parse_rfc3339_ms(&snap.clock.now).ok_or_else(|| StateError::mismatch("clock.now must be an RFC 3339 time"))?;
    // The clock is shared with the outbox: set it in place rather than replace it.
    if snap.clock.frozen {
        w.clock.freeze(now);
    } else {
        w.clock.set_real();
        w.clock.set(now);
    }
    w.directory = Directory::new(snap.directory.users, snap.directory.departments);
    for f in snap.files {
        let data = base64::engine::general_purpose::STANDARD
            .decode(&f.data_base64)
            .map_err(|_| StateError::mismatch(format!("file {}: data_base64 is not base64", f.id)))?;
        w.files.put(Blob { id: f.id, name: f.name, mime: f.mime, size: f.size, data: data.into(), created_ms: f.created_ms });
    }
    if !w.faults.restore(&snap.faults) {
        return Err(StateError::mismatch("faults.rng is not a valid generator state"));
    }
    for (p, part) in PLATFORMS.iter().zip(parts.into_iter().chain(std::iter::repeat(None))) {
        (p.import)(&mut w.platforms, part)?;
    }
    Ok(w)
}

/// An id generator from its exported state, or an error naming where it sat.
pub fn id_gen(state: &IdGenState, at: &str) -> Result<IdGen, StateError> {
    IdGen::from_state(state).ok_or_else(|| StateError::mismatch(format!("{at} is not a valid generator state")))
}

/// Every namespace, for `--state-file`.
pub fn export_all(worlds: &[(String, Arc<World>)]) -> Value {
    let spaces: Map<String, Value> = worlds.iter().map(|(ns, w)| (ns.clone(), export(w))).collect();
    json!({ "version": VERSION, "namespaces": spaces })
}

pub fn import_all(scenario: &Scenario, value: Value) -> Result<Vec<(String, World)>, StateError> {
    let Value::Object(mut top) = value else { return Err(StateError::mismatch("expected a JSON object")) };
    let Some(Value::Object(spaces)) = top.remove("namespaces") else {
        return Err(StateError::mismatch("expected \"namespaces\": {…}"));
    };
    spaces
        .into_iter()
        .map(|(ns, v)| {
            import(scenario, &ns, v)
                .map(|w| (ns.clone(), w))
                .map_err(|e| StateError::Namespace { namespace: ns.clone(), source: Box::new(e) })
        })
        .collect()
}

/// Writes `bytes` to `path` atomically: a temp file in the same directory, synced, then renamed over
/// the target, so a crash mid-save leaves either the old file or the new one, never half of one.
pub fn write_atomic(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "state".into());
    // Unique per save, so concurrent saves never rename each other's half-written files.
    static SAVES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = SAVES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = dir.join(format!(".{name}.tmp-{}-{n}", std::process::id()));
    let written = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Removes temp files that saves of `path` left behind when the process was killed mid-save.
pub fn remove_stale_temp_files(path: &std::path::Path) {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    let Some(name) = path.file_name().map(|n| n.to_string_lossy().into_owned()) else { return };
    let prefix = format!(".{name}.tmp-");
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        if e.file_name().to_string_lossy().starts_with(&prefix) && e.file_type().is_ok_and(|t| t.is_file()) {
            let _ = std::fs::remove_file(e.path());
        }
    }
}
