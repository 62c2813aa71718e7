//! lowcode-emu: an in-memory, API-compatible emulator of low-code platform REST APIs.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let emu = lowcode_emu::Emulator::start(lowcode_emu::Scenario::demo()).await?;
//! let url = format!("{}/api/v5/app/list", emu.base_url());
//! # let _ = url; Ok(()) }
//! ```

pub mod admin;
pub mod core;
pub mod http;
pub mod platforms;
pub mod router;
pub mod scenario;
pub mod server;
pub mod world;

use std::net::SocketAddr;
use std::sync::Arc;

pub use scenario::{Scenario, ScenarioBuilder, ScenarioError};
use server::Shared;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
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

/// A running emulator. Dropping it stops the server.
pub struct Emulator {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Emulator {
    /// Starts on 127.0.0.1 with an OS-assigned port: what tests use.
    pub async fn start(scenario: Scenario) -> std::io::Result<Self> {
        Self::start_on(scenario, "127.0.0.1:0").await
    }

    /// Starts on a given address such as `127.0.0.1:8080`.
    pub async fn start_on(scenario: Scenario, addr: &str) -> std::io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(scenario));
        let (stop, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(server::serve(listener, shared.clone(), async move {
            let _ = rx.await;
        }));
        Ok(Self { addr, shared, stop: Some(stop), task: Some(task) })
    }

    /// `http://127.0.0.1:<port>` — point clients here instead of the platform's host.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The loaded scenario's name.
    pub fn scenario_name(&self) -> String {
        self.shared.scenario.read().name.clone()
    }

    /// Stops accepting, drains in-flight requests and waits for the server task.
    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}
