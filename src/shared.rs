//! What every connection and the admin API share: the scenario, the worlds of every namespace, the
//! router, the journal and the server settings. The request pipeline ([`crate::pipeline`]) and the
//! control API ([`crate::admin`]) both work on this; neither knows the other.
//!
//! Where this fits: docs/architecture.md.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use dashmap::DashMap;
use parking_lot::RwLock;

use crate::core::journal::Journal;
use crate::error::Error;
use crate::router::Router;
use crate::scenario::Scenario;
use crate::world::World;

/// Selects the namespace (an independent world) of a platform or admin call.
pub const NAMESPACE_HEADER: &str = "x-emu-namespace";

/// A path prefix that selects a namespace as the header does: `/__ns/<name>/api/v5/…` is `/api/v5/…` in
/// namespace `<name>`. Clients that take a base URL but cannot add a header (most SDKs) reach a
/// namespace by their base URL alone.
pub const NAMESPACE_MOUNT: &str = "/__ns/";

/// Splits `/__ns/<name>/<rest>` into the namespace segment (still percent-encoded) and `/<rest>` (`/`
/// when nothing follows). The segment must not be empty.
pub fn split_mount(path: &str) -> Option<(&str, &str)> {
    let rest = path.strip_prefix(NAMESPACE_MOUNT)?;
    let (name, tail) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    (!name.is_empty()).then_some((name, tail))
}

/// Namespaces that may exist at once unless `--max-namespaces` says otherwise.
pub const DEFAULT_MAX_NAMESPACES: usize = 1000;

/// A call named a new namespace while `max_namespaces` exist.
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "{max} namespaces exist, the most this emulator keeps (--max-namespaces); drop one with DELETE /__emu/namespaces/<name> or all with POST /__emu/reset"
)]
pub struct NamespaceLimit {
    pub max: usize,
}

impl NamespaceLimit {
    /// HTTP 429 with the reason, for platform and admin calls alike.
    pub fn response(&self) -> crate::http::Response {
        crate::http::Response::json(429, &serde_json::json!({ "error": self.to_string() }))
    }
}

#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub max_body_bytes: usize,
    pub max_upload_bytes: usize,
    pub journal_size: usize,
    pub journal_max_bytes: usize,
    /// How long a client may take to send its head, and how long it may stay silent mid-body: a
    /// stalled client is cut off instead of holding its connection forever.
    pub read_timeout: Duration,
    /// How long a whole request body may take, however steadily it trickles in.
    pub body_deadline: Duration,
}

impl ServerConfig {
    pub fn from_scenario(s: &Scenario) -> Self {
        let server = s.doc.server.clone().unwrap_or_default();
        Self {
            max_body_bytes: server.max_body_bytes.unwrap_or(16 * 1024 * 1024),
            max_upload_bytes: server.max_upload_bytes.unwrap_or(64 * 1024 * 1024),
            journal_size: server.journal_size.unwrap_or(10_000),
            journal_max_bytes: server.journal_max_bytes.unwrap_or(64 * 1024 * 1024),
            read_timeout: Duration::from_millis(server.read_timeout_ms.unwrap_or(30_000).max(1)),
            body_deadline: Duration::from_millis(server.body_timeout_ms.unwrap_or(120_000).max(1)),
        }
    }
}

/// Everything the connection tasks share.
pub struct Shared {
    pub router: Router,
    /// Where `POST /__emu/state/save` and graceful shutdown write the state (`--state-file`).
    pub state_file: Option<PathBuf>,
    /// The only directory whose files a scenario sent over HTTP may read (`--scenario-dir`); none by default.
    pub scenario_dir: Option<PathBuf>,
    /// Required on every admin call but health when set (`--admin-token`).
    pub admin_token: Option<String>,
    /// How long a stopping listener lets in-flight requests finish (`--drain-ms`).
    pub drain: Duration,
    /// Most namespaces (worlds) that may exist at once, the default one included (`--max-namespaces`).
    pub max_namespaces: usize,
    /// One save at a time: concurrent `POST /__emu/state/save` calls queue instead of racing.
    save_lock: parking_lot::Mutex<()>,
    pub scenario: RwLock<Arc<Scenario>>,
    /// By namespace, looked up on every request (hence foldhash; their number is bounded).
    pub worlds: DashMap<String, Arc<World>, crate::core::FastHash>,
    pub journal: Journal,
    pub config: ServerConfig,
}

impl Shared {
    pub fn new(scenario: Scenario) -> Self {
        let config = ServerConfig::from_scenario(&scenario);
        let worlds = DashMap::default();
        worlds.insert(String::new(), Arc::new(World::build(&scenario, "")));
        Self {
            router: Router::new(crate::platforms::all_routes()),
            state_file: None,
            scenario_dir: None,
            admin_token: None,
            drain: Duration::from_secs(3),
            save_lock: parking_lot::Mutex::new(()),
            max_namespaces: DEFAULT_MAX_NAMESPACES,
            scenario: RwLock::new(Arc::new(scenario)),
            worlds,
            journal: Journal::new(config.journal_size, config.journal_max_bytes),
            config,
        }
    }

    /// Replaces the scenario: every namespace restarts from it and the journal is cleared.
    pub fn replace_scenario(&self, scenario: Scenario) {
        *self.scenario.write() = Arc::new(scenario);
        let _ = self.reset(None);
        self.journal.clear(&Default::default());
    }

    /// Replaces one namespace's world with an imported state.
    pub fn import_state(&self, ns: &str, value: serde_json::Value) -> Result<(), Error> {
        if !self.worlds.contains_key(ns) {
            self.room_for_one_more().map_err(|e| Error::Namespaces(e.to_string()))?;
        }
        let scenario = self.scenario.read().clone();
        let world = crate::state::import(&scenario, ns, value)?;
        self.worlds.insert(ns.to_owned(), Arc::new(world));
        Ok(())
    }

    /// Loads every namespace from a state file written by [`Shared::save_state`].
    pub fn load_state_file(&self, path: &Path) -> Result<(), Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Read { path: path.to_owned(), source })?;
        let value: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| Error::StateFile { path: path.to_owned(), message: format!("invalid JSON: {e}") })?;
        let scenario = self.scenario.read().clone();
        let worlds =
            crate::state::import_all(&scenario, value).map_err(|e| Error::StateFile { path: path.to_owned(), message: e.to_string() })?;
        for (ns, world) in worlds {
            self.worlds.insert(ns, Arc::new(world));
        }
        Ok(())
    }

    /// Writes every namespace to the state file, atomically.
    pub fn save_state(&self) -> Result<PathBuf, Error> {
        let path = self.state_file.clone().ok_or(Error::NoStateFile)?;
        let _one_at_a_time = self.save_lock.lock();
        let mut worlds: Vec<(String, Arc<World>)> = self.worlds.iter().map(|w| (w.key().clone(), w.value().clone())).collect();
        worlds.sort_by(|a, b| a.0.cmp(&b.0));
        let bytes = serde_json::to_vec_pretty(&crate::state::export_all(&worlds)).map_err(std::io::Error::from)?;
        crate::state::write_atomic(&path, &bytes).map_err(|source| Error::Write { path: path.clone(), source })?;
        Ok(path)
    }

    /// The world of a namespace, built from the scenario on first use, unless `max_namespaces` exist.
    pub fn world(&self, ns: &str) -> Result<Arc<World>, NamespaceLimit> {
        if let Some(w) = self.worlds.get(ns) {
            return Ok(w.clone());
        }
        self.room_for_one_more()?;
        let scenario = self.scenario.read().clone();
        Ok(self.worlds.entry(ns.to_owned()).or_insert_with(|| Arc::new(World::build(&scenario, ns))).clone())
    }

    /// The world of a namespace if it exists, else the default one: for answers that must not create a
    /// namespace (paths no route serves).
    pub fn existing_world_or_default(&self, ns: &str) -> Arc<World> {
        if let Some(w) = self.worlds.get(ns).or_else(|| self.worlds.get("")) {
            return w.clone();
        }
        let scenario = self.scenario.read().clone();
        self.worlds.entry(String::new()).or_insert_with(|| Arc::new(World::build(&scenario, ""))).clone()
    }

    fn room_for_one_more(&self) -> Result<(), NamespaceLimit> {
        if self.worlds.len() >= self.max_namespaces {
            return Err(NamespaceLimit { max: self.max_namespaces });
        }
        Ok(())
    }

    /// Drops one namespace (not the default one); `false` when there was none.
    pub fn drop_namespace(&self, ns: &str) -> bool {
        !ns.is_empty() && self.worlds.remove(ns).is_some()
    }

    /// Rebuilds one namespace (or, with `None`, drops every namespace and rebuilds the default one).
    pub fn reset(&self, ns: Option<&str>) -> Result<(), NamespaceLimit> {
        let scenario = self.scenario.read().clone();
        match ns {
            Some(ns) => {
                if !self.worlds.contains_key(ns) {
                    self.room_for_one_more()?;
                }
                self.worlds.insert(ns.to_owned(), Arc::new(World::build(&scenario, ns)));
            }
            None => {
                self.worlds.retain(|k, _| k.is_empty());
                self.worlds.insert(String::new(), Arc::new(World::build(&scenario, "")));
            }
        }
        Ok(())
    }
}
