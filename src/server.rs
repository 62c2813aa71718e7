//! The HTTP server: hyper 1 on tokio, body caps, per-request journal entry, graceful shutdown.

use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use dashmap::DashMap;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, Limited, StreamBody};
use hyper::body::Frame;
use hyper::body::Incoming;
use hyper::header::{CONTENT_LENGTH, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use parking_lot::RwLock;
use serde_json::json;
use tokio::net::TcpListener;

use crate::core::faults::Action;
use crate::core::journal::{Journal, JournalEntry};
use crate::http::{Request, Response};
use crate::liveness::{Watch, WatchedIo};
use crate::platforms;
use crate::router::{Ctx, Match, Router};
use crate::scenario::Scenario;
use crate::world::World;

pub const NAMESPACE_HEADER: &str = "x-emu-namespace";

type BoxError = Box<dyn std::error::Error + Send + Sync>;
/// Response bodies: whole buffers, or a stream that breaks off (the `truncate` fault).
pub type Body = BoxBody<Bytes, BoxError>;

#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub max_body_bytes: usize,
    pub max_upload_bytes: usize,
    pub journal_size: usize,
    pub journal_max_bytes: usize,
    /// How long a client may take to send its head, and how long it may stay silent mid-body: a
    /// stalled client is cut off instead of holding its connection forever.
    pub read_timeout: Duration,
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
        }
    }
}

/// Everything the connection tasks share.
pub struct Shared {
    pub router: Router,
    /// Where `POST /__emu/state/save` and graceful shutdown write the state (`--state-file`).
    pub state_file: Option<std::path::PathBuf>,
    pub scenario: RwLock<Arc<Scenario>>,
    pub worlds: DashMap<String, Arc<World>>,
    pub journal: Journal,
    pub config: ServerConfig,
}

impl Shared {
    pub fn new(scenario: Scenario) -> Self {
        let config = ServerConfig::from_scenario(&scenario);
        let worlds = DashMap::new();
        worlds.insert(String::new(), Arc::new(World::build(&scenario, "")));
        Self {
            router: Router::new(platforms::all_routes()),
            state_file: None,
            scenario: RwLock::new(Arc::new(scenario)),
            worlds,
            journal: Journal::new(config.journal_size, config.journal_max_bytes),
            config,
        }
    }

    /// Replaces the scenario: every namespace restarts from it and the journal is cleared.
    pub fn replace_scenario(&self, scenario: Scenario) {
        *self.scenario.write() = Arc::new(scenario);
        self.reset(None);
        self.journal.clear(&Default::default());
    }

    /// Replaces one namespace's world with an imported state.
    pub fn import_state(&self, ns: &str, value: serde_json::Value) -> Result<(), String> {
        let scenario = self.scenario.read().clone();
        let world = crate::state::import(&scenario, ns, value)?;
        self.worlds.insert(ns.to_owned(), Arc::new(world));
        Ok(())
    }

    /// Loads every namespace from a state file written by [`Shared::save_state`].
    pub fn load_state_file(&self, path: &std::path::Path) -> Result<(), String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| format!("{}: invalid JSON: {e}", path.display()))?;
        let scenario = self.scenario.read().clone();
        for (ns, world) in crate::state::import_all(&scenario, value).map_err(|e| format!("{}: {e}", path.display()))? {
            self.worlds.insert(ns, Arc::new(world));
        }
        Ok(())
    }

    /// Writes every namespace to the state file, atomically.
    pub fn save_state(&self) -> Result<std::path::PathBuf, String> {
        let path = self.state_file.clone().ok_or("the server was started without --state-file")?;
        let mut worlds: Vec<(String, Arc<World>)> = self.worlds.iter().map(|w| (w.key().clone(), w.value().clone())).collect();
        worlds.sort_by(|a, b| a.0.cmp(&b.0));
        let bytes = serde_json::to_vec_pretty(&crate::state::export_all(&worlds)).map_err(|e| e.to_string())?;
        crate::state::write_atomic(&path, &bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        Ok(path)
    }

    /// The world of a namespace, built from the scenario on first use.
    pub fn world(&self, ns: &str) -> Arc<World> {
        if let Some(w) = self.worlds.get(ns) {
            return w.clone();
        }
        let scenario = self.scenario.read().clone();
        self.worlds.entry(ns.to_owned()).or_insert_with(|| Arc::new(World::build(&scenario, ns))).clone()
    }

    /// Rebuilds one namespace (or, with `None`, drops every namespace and rebuilds the default one).
    pub fn reset(&self, ns: Option<&str>) {
        let scenario = self.scenario.read().clone();
        match ns {
            Some(ns) => {
                self.worlds.insert(ns.to_owned(), Arc::new(World::build(&scenario, ns)));
            }
            None => {
                self.worlds.retain(|k, _| k.is_empty());
                self.worlds.insert(String::new(), Arc::new(World::build(&scenario, "")));
            }
        }
    }
}

/// Most bytes of a request head (request line and headers) before the connection is refused.
pub const MAX_HEADER_BYTES: usize = 64 * 1024;

/// Accepts connections until `shutdown` resolves, then drains in-flight requests (up to 10 s).
pub async fn serve(listener: TcpListener, shared: Arc<Shared>, shutdown: impl std::future::Future<Output = ()>) {
    let graceful = GracefulShutdown::new();
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(shared.config.read_timeout)
        .max_header_size(MAX_HEADER_BYTES)
        .max_buf_size(256 * 1024)
        .keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, peer)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                let shared = shared.clone();
                let watch = Watch::new();
                let guard = watch.clone().guard(shared.config.read_timeout);
                let io = TokioIo::new(WatchedIo::new(stream, watch.clone()));
                let svc = service_fn(move |req| handle(shared.clone(), req, peer, watch.clone()));
                let conn = graceful.watch(builder.serve_connection(io, svc));
                tokio::spawn(async move {
                    tokio::select! {
                        _ = conn => {}
                        _ = guard => {}
                    }
                });
            }
            _ = &mut shutdown => break,
        }
    }
    drop(listener);
    let _ = tokio::time::timeout(Duration::from_secs(10), graceful.shutdown()).await;
}

enum BodyError {
    TooLarge,
    Broken,
    TimedOut,
}

async fn read_body(body: Incoming, cap: usize, declared: Option<u64>, watch: &Watch) -> Result<Bytes, BodyError> {
    if declared.is_some_and(|n| n > cap as u64) {
        return Err(BodyError::TooLarge);
    }
    match watch.body(Limited::new(body, cap).collect()).await {
        None => Err(BodyError::TimedOut),
        Some(Ok(c)) => Ok(c.to_bytes()),
        Some(Err(e)) if e.is::<http_body_util::LengthLimitError>() => Err(BodyError::TooLarge),
        Some(Err(_)) => Err(BodyError::Broken),
    }
}

fn to_hyper(r: Response) -> hyper::Response<Body> {
    let mut b = hyper::Response::builder().status(r.status);
    if !r.content_type.is_empty() {
        b = b.header(CONTENT_TYPE, r.content_type);
    }
    for (k, v) in r.headers {
        b = b.header(k, v);
    }
    let full = |b: Bytes| Full::new(b).map_err(|never| match never {}).boxed();
    b.body(full(r.body)).unwrap_or_else(|_| hyper::Response::new(full(Bytes::new())))
}

fn plain_error(status: u16, message: String) -> Response {
    Response::json(status, &json!({ "error": message }))
}

/// What the journal needs to know about one platform request.
struct Trace {
    started: Instant,
    ns: String,
    platform: &'static str,
    route: &'static str,
    method: hyper::Method,
    path: String,
    query: String,
}

impl Trace {
    fn record(&self, shared: &Shared, body: &Bytes, status: u16, response: &Bytes, fault: Option<String>, now: i64) {
        shared.journal.record(JournalEntry {
            id: shared.journal.next_id(),
            time_ms: now,
            namespace: self.ns.clone(),
            platform: self.platform,
            route: self.route,
            method: self.method.to_string(),
            path: self.path.clone(),
            query: self.query.clone(),
            status,
            duration_us: self.started.elapsed().as_micros() as u64,
            request_body: body.clone(),
            response_body: response.clone(),
            fault,
        });
    }
}

/// Why the server answered nothing: a `disconnect` fault. hyper closes the connection.
#[derive(Debug)]
pub struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by a fault rule")
    }
}

impl std::error::Error for Dropped {}

/// A request field for fault matching: path parameter, query parameter, then JSON or form body field.
fn request_field(req: &Request, name: &str) -> Option<serde_json::Value> {
    if let Some(v) = req.param(name) {
        return Some(serde_json::Value::String(v.to_owned()));
    }
    if let Some(v) = req.query_value(name) {
        return Some(serde_json::Value::String(v));
    }
    if let Ok(obj) = crate::http::json_object(&req.body) {
        return obj.get(name).cloned();
    }
    form_urlencoded::parse(&req.body).find(|(k, _)| k == name).map(|(_, v)| serde_json::Value::String(v.into_owned()))
}

async fn handle(
    shared: Arc<Shared>,
    req: hyper::Request<Incoming>,
    _peer: SocketAddr,
    watch: Arc<Watch>,
) -> Result<hyper::Response<Body>, Dropped> {
    let started = Instant::now();
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_owned();
    if path == "/__emu" || path.starts_with("/__emu/") {
        return Ok(to_hyper(crate::admin::handle(&shared, parts, body).await));
    }
    let query = parts.uri.query().unwrap_or("").to_owned();
    let ns = parts.headers.get(NAMESPACE_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let declared = parts.headers.get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
    let world = shared.world(&ns);
    let found = shared.router.find(&parts.method, &path);
    let (route, params) = match found {
        Match::Found(route, params) => (route, params),
        other => {
            let platform_of_path = platforms::for_path(&path);
            let (status, msg) = match other {
                Match::MethodNotAllowed(r) => (405, format!("{} {} is not a route; {} takes {}", parts.method, path, r.pattern, r.method)),
                _ => (404, format!("no emulated route for {} {} (see GET /__emu/routes)", parts.method, path)),
            };
            let body = read_body(body, shared.config.max_body_bytes, declared, &watch).await.unwrap_or_default();
            // A platform may answer unknown paths under its prefix in its own envelope.
            let resp =
                platform_of_path.and_then(|p| (p.error)("route_not_found", world.locale)).unwrap_or_else(|| plain_error(status, msg));
            let trace = Trace {
                started,
                ns,
                platform: platform_of_path.map_or("unknown", |p| p.name),
                route: "unmatched",
                method: parts.method,
                path,
                query,
            };
            trace.record(&shared, &body, resp.status, &resp.body, None, world.clock.now_ms());
            return Ok(to_hyper(resp));
        }
    };
    let trace = Trace {
        started,
        ns,
        platform: route.platform,
        route: route.id,
        method: parts.method.clone(),
        path: path.clone(),
        query: query.clone(),
    };
    let platform = platforms::by_name(route.platform);
    let render = |name: &str| platform.and_then(|p| (p.error)(name, world.locale)).unwrap_or_else(|| plain_error(500, name.to_owned()));
    let cap = if route.upload { shared.config.max_upload_bytes } else { shared.config.max_body_bytes };
    let body = match read_body(body, cap, declared, &watch).await {
        Ok(b) => b,
        Err(BodyError::TooLarge) => {
            // Upload endpoints answer like the storage service they stand for.
            let resp =
                if route.upload { Response::json(413, &json!({ "error": "file is too large" })) } else { render("payload_too_large") };
            trace.record(&shared, &Bytes::new(), resp.status, &resp.body, None, world.clock.now_ms());
            return Ok(to_hyper(resp));
        }
        Err(BodyError::Broken) => return Ok(to_hyper(plain_error(400, "the request body could not be read".into()))),
        Err(BodyError::TimedOut) => {
            let resp = plain_error(408, "the request body did not arrive in time".into()).with_header("connection", "close");
            return Ok(to_hyper(resp));
        }
    };
    let multipart = match parts.headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()) {
        Some(ct) if ct.to_ascii_lowercase().starts_with("multipart/form-data") => {
            crate::http::decode_multipart(Some(ct), body.clone()).await
        }
        _ => None,
    };
    let request = Request { method: parts.method, path, query, headers: parts.headers, body, params, multipart };

    let firing = if world.faults.is_empty() {
        None
    } else {
        world.faults.evaluate(route.platform, route.id, &|k| request_field(&request, k), world.clock.now_ms())
    };
    if let Some(f) = &firing {
        if f.delay_ms > 0 {
            tokio::time::sleep(Duration::from_millis(f.delay_ms)).await;
        }
        let now = world.clock.now_ms();
        let fault = Some(f.rule.clone());
        match &f.action {
            Action::Disconnect => {
                trace.record(&shared, &request.body, 0, &Bytes::new(), fault, now);
                return Err(Dropped);
            }
            Action::Error(name) => {
                let resp = render(name);
                trace.record(&shared, &request.body, resp.status, &resp.body, fault, now);
                return Ok(to_hyper(resp));
            }
            Action::Raw { status, body, headers } => {
                let resp = raw_response(*status, body.as_ref(), headers);
                trace.record(&shared, &request.body, resp.status, &resp.body, fault, now);
                return Ok(to_hyper(resp));
            }
            Action::Pass | Action::Truncate => {}
        }
    }

    let resp = match std::panic::catch_unwind(AssertUnwindSafe(|| (route.handler)(&Ctx { world: &world, req: &request, route }))) {
        Ok(r) => r,
        Err(_) => {
            tracing::error!(route = route.id, path = %request.path, "handler panicked; answering internal_error");
            render("internal_error")
        }
    };
    let fault = firing.as_ref().map(|f| f.rule.clone());
    trace.record(&shared, &request.body, resp.status, &resp.body, fault, world.clock.now_ms());
    tracing::debug!(route = route.id, status = resp.status, "request");
    if firing.is_some_and(|f| f.action == Action::Truncate) {
        return Ok(truncated(resp));
    }
    Ok(to_hyper(resp))
}

/// A fault's raw answer: JSON bodies are sent as JSON, strings as they are.
fn raw_response(status: u16, body: Option<&serde_json::Value>, headers: &serde_json::Map<String, serde_json::Value>) -> Response {
    let mut r = match body {
        Some(serde_json::Value::String(s)) => {
            Response { status, content_type: "text/plain; charset=utf-8", body: Bytes::from(s.clone()), headers: Vec::new() }
        }
        Some(v) => Response::json(status, v),
        None => Response::empty(status),
    };
    for (k, v) in headers {
        let value = match v {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        if let (Ok(name), Ok(value)) = (hyper::header::HeaderName::from_bytes(k.as_bytes()), hyper::header::HeaderValue::from_str(&value)) {
            r.headers.push((name, value));
        }
    }
    r
}

/// Headers announcing the full length, half the body, then a broken stream: hyper aborts the
/// connection and the client sees the body end early.
fn truncated(resp: Response) -> hyper::Response<Body> {
    let full = resp.body.len();
    let half = resp.body.slice(..full / 2);
    // Half the body now; the break only after it has been flushed, so the client really receives it.
    let frames = futures_util::stream::unfold(Some(half), |state| async move {
        match state {
            Some(half) => Some((Ok::<_, BoxError>(Frame::data(half)), None)),
            None => {
                tokio::time::sleep(Duration::from_millis(20)).await;
                Some((Err("truncated by a fault rule".into()), None))
            }
        }
    });
    let mut r = to_hyper(Response { body: Bytes::new(), ..resp });
    *r.body_mut() = StreamBody::new(frames).boxed();
    if let Ok(v) = hyper::header::HeaderValue::from_str(&full.to_string()) {
        r.headers_mut().insert(CONTENT_LENGTH, v);
    }
    r
}
