//! lowcode-emu: an in-memory, API-compatible emulator of low-code platform REST APIs.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let emu = lowcode_emu::Emulator::start(lowcode_emu::Scenario::demo()).await?;
//! let url = format!("{}/api/v5/app/list", emu.base_url());
//! # let _ = url; Ok(()) }
//! ```
//!
//! Where this fits: docs/architecture.md.

pub mod admin;
pub mod core;
pub mod dashboard;
pub mod error;
pub mod http;
pub mod liveness;
pub mod openapi;
pub mod pipeline;
pub mod platforms;
pub mod router;
pub mod scenario;
pub mod server;
pub mod shared;
pub mod state;
pub mod tools;
pub mod world;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub use error::Error;
pub use scenario::{Scenario, ScenarioBuilder, ScenarioError, ScenarioErrors};
use shared::Shared;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Message language where a platform has several.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Locale {
    #[default]
    Zh,
    ZhHant,
    En,
}

impl Locale {
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().replace('_', "-").as_str() {
            "zh" | "zh-cn" | "zh-hans" => Some(Locale::Zh),
            "zh-tw" | "zh-hant" | "zh-hk" => Some(Locale::ZhHant),
            "en" | "en-us" | "en-gb" => Some(Locale::En),
            _ => None,
        }
    }
}

/// How to start an [`Emulator`].
#[derive(Debug, Clone)]
pub struct Options {
    /// Address of the main listener, e.g. `127.0.0.1:8080` (port 0 = any free port).
    pub addr: String,
    /// Load state from this file at start (when it exists) and save it on [`Emulator::stop`] and
    /// `POST /__emu/state/save`.
    pub state_file: Option<PathBuf>,
    /// The only directory whose files a scenario sent to `PUT /__emu/scenario` may `include` or name as
    /// `records_file`. `None` (the default): such scenarios read no file at all.
    pub scenario_dir: Option<PathBuf>,
    /// When set, every `/__emu/` call but `/__emu/health` must send it (`x-emu-admin-token: …` or
    /// `Authorization: Bearer …`). Wanted whenever the emulator listens beyond loopback.
    pub admin_token: Option<String>,
    /// How long [`Emulator::stop`] lets in-flight requests finish before closing their connections.
    pub drain: Duration,
    /// With a state file: also save every this often, so a kill loses at most one interval.
    pub save_every: Option<Duration>,
    /// Most namespaces that may exist at once, the default one included; a call naming one more is
    /// answered 429 (`DELETE /__emu/namespaces/<name>` frees one).
    pub max_namespaces: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            addr: "127.0.0.1:0".into(),
            state_file: None,
            scenario_dir: None,
            admin_token: None,
            drain: Duration::from_secs(3),
            save_every: None,
            max_namespaces: shared::DEFAULT_MAX_NAMESPACES,
        }
    }
}

/// A running emulator. Dropping it stops the server (without saving state; use [`Emulator::stop`]).
pub struct Emulator {
    addr: SocketAddr,
    platform_addrs: BTreeMap<String, SocketAddr>,
    shared: Arc<Shared>,
    stop: Option<watch::Sender<bool>>,
    tasks: Vec<JoinHandle<()>>,
}

impl Emulator {
    /// Starts on 127.0.0.1 with an OS-assigned port: what tests use.
    pub async fn start(scenario: Scenario) -> std::io::Result<Self> {
        Self::start_with(scenario, Options::default()).await
    }

    /// Starts on a given address such as `127.0.0.1:8080`.
    pub async fn start_on(scenario: Scenario, addr: &str) -> std::io::Result<Self> {
        Self::start_with(scenario, Options { addr: addr.to_owned(), ..Options::default() }).await
    }

    pub async fn start_with(scenario: Scenario, options: Options) -> std::io::Result<Self> {
        let host = options.addr.rsplit_once(':').map(|(h, _)| h.to_owned()).unwrap_or_else(|| "127.0.0.1".into());
        let ports = scenario.doc.server.as_ref().map(|s| s.ports.clone()).unwrap_or_default();
        let mut shared = Shared::new(scenario);
        shared.state_file = options.state_file.clone();
        shared.scenario_dir = options.scenario_dir.clone();
        shared.admin_token = options.admin_token.clone().filter(|t| !t.is_empty());
        shared.drain = options.drain;
        shared.max_namespaces = options.max_namespaces.max(1);
        if let Some(path) = &options.state_file {
            state::remove_stale_temp_files(path);
        }
        if let Some(path) = options.state_file.as_ref().filter(|p| p.exists()) {
            shared.load_state_file(path).map_err(std::io::Error::other)?;
        }
        let shared = Arc::new(shared);
        let main = TcpListener::bind(&options.addr).await?;
        let addr = main.local_addr()?;
        let mut listeners = vec![main];
        let mut platform_addrs = BTreeMap::new();
        for (platform, port) in ports {
            let l = TcpListener::bind(format!("{host}:{port}")).await?;
            platform_addrs.insert(platform, l.local_addr()?);
            listeners.push(l);
        }
        let (stop, rx) = watch::channel(false);
        let mut tasks: Vec<JoinHandle<()>> = listeners
            .into_iter()
            .map(|l| {
                let mut rx = rx.clone();
                tokio::spawn(server::serve(l, shared.clone(), async move {
                    let _ = rx.wait_for(|stopped| *stopped).await;
                }))
            })
            .collect();
        if let (Some(_), Some(every)) = (&options.state_file, options.save_every) {
            tasks.push(tokio::spawn(save_periodically(shared.clone(), every.max(Duration::from_millis(10)), rx.clone())));
        }
        Ok(Self { addr, platform_addrs, shared, stop: Some(stop), tasks })
    }

    /// `http://127.0.0.1:<port>` — point clients here instead of the platform's host.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The base URL of a platform's own listener (`[server] ports`), else [`Emulator::base_url`].
    pub fn platform_url(&self, platform: &str) -> String {
        self.platform_addrs.get(platform).map(|a| format!("http://{a}")).unwrap_or_else(|| self.base_url())
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The default namespace's world (what a client without a namespace talks to).
    pub fn world(&self) -> Arc<world::World> {
        self.shared.existing_world_or_default("")
    }

    /// The loaded scenario's name.
    pub fn scenario_name(&self) -> String {
        self.shared.scenario.read().name.clone()
    }

    /// With a state file, saves first (so a kill during the drain loses nothing already answered);
    /// then stops accepting, lets in-flight requests finish for at most [`Options::drain`], and saves
    /// again with what they changed.
    pub async fn stop(mut self) -> Result<(), Error> {
        let first = match &self.shared.state_file {
            Some(_) => self.shared.save_state().map(|_| ()),
            None => Ok(()),
        };
        if let Some(s) = self.stop.take() {
            let _ = s.send(true);
        }
        for t in self.tasks.drain(..) {
            let _ = t.await;
        }
        match &self.shared.state_file {
            Some(_) => first.and(self.shared.save_state().map(|_| ())),
            None => Ok(()),
        }
    }
}

/// `--save-every`: writes the state file at each interval until the emulator stops.
async fn save_periodically(shared: Arc<Shared>, every: Duration, mut stop: watch::Receiver<bool>) {
    let mut ticks = tokio::time::interval(every);
    ticks.tick().await;
    loop {
        tokio::select! {
            _ = ticks.tick() => {
                let shared = shared.clone();
                match tokio::task::spawn_blocking(move || shared.save_state()).await {
                    Ok(Err(e)) => tracing::warn!(error = %e, "periodic save failed"),
                    Err(e) => tracing::warn!(error = %e, "periodic save failed"),
                    Ok(Ok(_)) => {}
                }
            }
            changed = stop.changed() => {
                if changed.is_err() || *stop.borrow() {
                    break;
                }
            }
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(true);
        }
    }
}
