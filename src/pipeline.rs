//! The path of one request after hyper has parsed its head: admin calls go to [`crate::admin`]; platform
//! calls pass through the same steps, each a function below —
//!
//! 1. [`route`]: find the route (unknown paths get the envelope of the platform whose prefix they carry),
//! 2. [`read_request`]: read the body within its cap and deadline, decode multipart,
//! 3. [`fault`]: let a fault rule delay, answer, drop or truncate the call,
//! 4. [`run_handler`]: run the platform's synchronous handler (a panic becomes `internal_error`),
//! 5. [`Trace::record`]: write the journal entry.
//!
//! The connection layer ([`crate::server`]) only calls [`handle`].
//!
//! Where this fits: docs/architecture.md.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Either, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::header::{CONTENT_LENGTH, CONTENT_TYPE};
use serde_json::json;

use crate::core::body::{detach_small, Body, BodyBuf};
use crate::core::faults::{Action, Firing};
use crate::core::journal::Exchange;
use crate::http::{Request, Response};
use crate::liveness::Watch;
use crate::platforms::{self, PlatformDef};
use crate::router::{Ctx, Handler, Match, Route, Turn, MAX_CALLS_PER_REQUEST};
use crate::shared::{Shared, NAMESPACE_HEADER};
use crate::world::World;

type BoxError = Box<dyn std::error::Error + Send + Sync>;
/// Response bodies: one buffer or shared pieces (`core::body`, unboxed: every answer is one), or a
/// stream that breaks off (the `truncate` fault).
pub type HyperBody = Either<Full<BodyBuf>, BoxBody<BodyBuf, BoxError>>;

/// Why the server answered nothing: a `disconnect` fault. hyper closes the connection.
#[derive(Debug)]
pub struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by a fault rule")
    }
}

impl std::error::Error for Dropped {}

/// Answers one request.
pub async fn handle(shared: Arc<Shared>, req: hyper::Request<Incoming>, watch: Arc<Watch>) -> Result<hyper::Response<HyperBody>, Dropped> {
    let started = Instant::now();
    let _answering = watch.answering();
    let (mut parts, body) = req.into_parts();
    let mount = mount_namespace(&mut parts);
    let path: Arc<str> = parts.uri.path().into();
    if &*path == "/__emu" || path.starts_with("/__emu/") {
        return Ok(to_hyper(crate::admin::handle(&shared, parts, body).await));
    }
    let query = parts.uri.query().unwrap_or("").to_owned();
    let ns = parts.headers.get(NAMESPACE_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let mut trace = Trace { started, ns, mount, platform: "unknown", route: "unmatched", method: parts.method.clone(), path, query };

    // 1. Route.
    let (route, params) = match route(&shared, &trace) {
        Ok(found) => found,
        Err(unmatched) => {
            // A path no route serves creates no namespace.
            let world = shared.existing_world_or_default(&trace.ns);
            let body = read_body(body, shared.config.max_body_bytes, declared_length(&parts), false, &watch).await.unwrap_or_default();
            let resp = unmatched.answer(&world, &trace.path);
            trace.platform = unmatched.platform.map_or("unknown", |p| p.name);
            trace.record(&shared, &body, resp.status, &resp.body, None, world.clock.now_ms());
            return Ok(to_hyper(resp));
        }
    };
    trace.platform = route.platform;
    trace.route = route.id;
    let world = match shared.world(&trace.ns) {
        Ok(w) => w,
        Err(limit) => {
            let resp = limit.response();
            let default = shared.existing_world_or_default("");
            trace.record(&shared, &Bytes::new(), resp.status, &resp.body, None, default.clock.now_ms());
            return Ok(to_hyper(resp));
        }
    };
    let render = |name: &str| render_named(route.platform, name, &world, &trace.path);

    // 2. Read.
    let request = match read_request(&shared, &world, route, parts, body, params, &watch, &trace).await {
        Ok(r) => r,
        Err(early) => {
            if let Some(resp) = &early.journal {
                trace.record(&shared, &Bytes::new(), resp.status, &resp.body, None, world.clock.now_ms());
            }
            return Ok(to_hyper(early.response));
        }
    };

    // 3. Fault.
    let firing = fault(&world, route, &request).await;
    if let Some(f) = &firing {
        let fault = Some(f);
        let now = world.clock.now_ms();
        let early = match &f.action {
            Action::Disconnect => {
                trace.record(&shared, &request.body, 0, &Body::default(), fault, now);
                return Err(Dropped);
            }
            Action::Error(name) => Some(render(name)),
            Action::Raw { status, body, headers } => Some(raw_response(*status, body.as_ref(), headers)),
            // Delivery-only actions never match a request route (validation keeps them apart).
            Action::Pass | Action::Truncate | Action::Duplicate | Action::Reorder => None,
        };
        if let Some(resp) = early {
            trace.record(&shared, &request.body, resp.status, &resp.body, fault, now);
            return Ok(to_hyper(resp));
        }
    }

    // 4. Run. A handler that calls out runs in a task of its own: a client that goes away while the
    // call is under way does not stop the handler half-way (it finishes and its state is settled).
    let resp = match &route.handler {
        Handler::Plain(_) => run_handler(route, &world, &request).await,
        Handler::Calling(_) => {
            let (world, request) = (world.clone(), request.clone());
            let platform = route.platform;
            tokio::spawn(async move { run_handler(route, &world, &request).await })
                .await
                .unwrap_or_else(|_| plain_error(500, format!("{platform} handler failed")))
        }
    };

    // 5. Journal.
    trace.record(&shared, &request.body, resp.status, &resp.body, firing.as_ref(), world.clock.now_ms());
    tracing::debug!(route = route.id, status = resp.status, "request");
    if firing.is_some_and(|f| f.action == Action::Truncate) {
        return Ok(truncated(resp));
    }
    Ok(to_hyper(resp))
}

/// What the journal needs to know about one platform request.
pub struct Trace {
    started: Instant,
    ns: String,
    /// `/__ns/<name>` when the namespace came in the path, else empty.
    mount: String,
    platform: &'static str,
    route: &'static str,
    method: hyper::Method,
    path: Arc<str>,
    query: String,
}

impl Trace {
    /// The journal entry of the finished request (the journal copies what it keeps).
    fn record(self, shared: &Shared, body: &Bytes, status: u16, response: &Body, fault: Option<&Firing>, now: i64) {
        let action = fault.map(Firing::describe);
        shared.journal.record(Exchange {
            time_ms: now,
            namespace: &self.ns,
            platform: self.platform,
            route: self.route,
            method: &self.method,
            path: &self.path,
            query: &self.query,
            status,
            duration_us: self.started.elapsed().as_micros() as u64,
            request_body: body,
            response_body: response,
            fault: fault.map(|f| f.rule.as_str()),
            fault_action: action.as_deref(),
        });
    }
}

/// A path no route serves: 404, or 405 when the path exists with another method.
pub struct Unmatched {
    platform: Option<&'static PlatformDef>,
    status: u16,
    message: String,
}

impl Unmatched {
    /// A platform answers unknown paths under its prefix in its own envelope; others get plain JSON.
    fn answer(&self, world: &World, path: &str) -> Response {
        self.platform
            .and_then(|p| (p.error)("route_not_found", world.locale, path))
            .unwrap_or_else(|| plain_error(self.status, self.message.clone()))
    }
}

/// Values captured by a route pattern's `{name}` segments.
type PathParams = Vec<(&'static str, String)>;

/// Step 1: the route and its path parameters.
fn route(shared: &Shared, trace: &Trace) -> Result<(&'static Route, PathParams), Unmatched> {
    let (method, path) = (&trace.method, &trace.path);
    match shared.router.find(method, path) {
        Match::Found(route, params) => Ok((route, params)),
        Match::MethodNotAllowed(r) => Err(Unmatched {
            platform: platforms::for_path(path),
            status: 405,
            message: format!("{method} {path} is not a route; {} takes {}", r.pattern, r.method),
        }),
        Match::NotFound => Err(Unmatched {
            platform: platforms::for_path(path),
            status: 404,
            message: format!("no emulated route for {method} {path} (see GET /__emu/routes)"),
        }),
    }
}

/// A request that ended before its handler: the answer, and whether it goes into the journal.
struct Early {
    response: Response,
    journal: Option<Response>,
}

/// A call to `/__ns/<name>/<rest>` becomes a call to `/<rest>` with `x-emu-namespace: <name>` (the name
/// percent-decoded; the path wins over a header), so admin and platform calls alike see an ordinary request. Answers the mount
/// (`/__ns/<name>`), which URLs the emulator hands out keep; empty when the path has none.
fn mount_namespace(parts: &mut hyper::http::request::Parts) -> String {
    let Some((name, rest)) = crate::shared::split_mount(parts.uri.path()) else { return String::new() };
    // The name is a path segment: percent-decoded, it must make a header value (printable ASCII).
    let Ok(decoded) = percent_encoding::percent_decode_str(name).decode_utf8() else { return String::new() };
    let Ok(value) = hyper::header::HeaderValue::from_str(&decoded) else { return String::new() };
    let target = match parts.uri.query() {
        Some(q) => format!("{rest}?{q}"),
        None => rest.to_owned(),
    };
    let Ok(uri) = target.parse::<hyper::Uri>() else { return String::new() };
    let mount = format!("{}{name}", crate::shared::NAMESPACE_MOUNT);
    parts.uri = uri;
    parts.headers.insert(NAMESPACE_HEADER, value);
    mount
}

fn declared_length(parts: &hyper::http::request::Parts) -> Option<u64> {
    parts.headers.get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok())
}

/// Step 2: the whole request, its body read within the route's cap.
#[allow(clippy::too_many_arguments)]
async fn read_request(
    shared: &Shared,
    world: &World,
    route: &Route,
    parts: hyper::http::request::Parts,
    body: Incoming,
    params: PathParams,
    watch: &Watch,
    trace: &Trace,
) -> Result<Request, Early> {
    let cap = if route.upload { shared.config.max_upload_bytes } else { shared.config.max_body_bytes };
    let multipart_type = parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .filter(|ct| ct.get(..19).is_some_and(|p| p.eq_ignore_ascii_case("multipart/form-data")));
    // Uploads and multipart files may be stored as they came (blobs): those bodies are kept.
    let kept = route.upload || multipart_type.is_some();
    let body = match read_body(body, cap, declared_length(&parts), kept, watch).await {
        Ok(b) => b,
        Err(BodyError::TooLarge) => {
            // Upload endpoints answer in the platform's envelope where it has one for them, else like the
            // storage service they stand for.
            let platform = platforms::by_name(route.platform);
            let resp = if route.upload {
                platform
                    .and_then(|p| (p.error)("upload_too_large", world.locale, &trace.path))
                    .unwrap_or_else(|| Response::json(413, &json!({ "error": "file is too large" })))
            } else {
                render_named(route.platform, "payload_too_large", world, &trace.path)
            };
            return Err(Early { response: resp.clone(), journal: Some(resp) });
        }
        Err(BodyError::Broken) => {
            return Err(Early { response: plain_error(400, "the request body could not be read".into()), journal: None })
        }
        Err(BodyError::TimedOut) => {
            let resp = plain_error(408, "the request body did not arrive in time".into()).with_header("connection", "close");
            return Err(Early { response: resp, journal: None });
        }
    };
    let multipart = match multipart_type {
        Some(ct) => crate::http::decode_multipart(Some(ct), body.clone()).await,
        None => None,
    };
    Ok(Request {
        method: parts.method,
        path: trace.path.clone(),
        mount: trace.mount.clone(),
        query: trace.query.clone(),
        headers: parts.headers,
        body,
        params,
        multipart,
    })
}

enum BodyError {
    TooLarge,
    Broken,
    TimedOut,
}

/// Reads a body of at most `cap` bytes. A body that arrived in one piece is a slice of the connection's
/// read buffer; one that will be `kept` past its request is detached from it when small
/// ([`detach_small`]), the others are read in place. A client answered "too large" while still sending sees a broken
/// pipe instead of the answer, so an oversized body is read on and discarded, up to `cap` bytes more,
/// before the 413; a body declared larger than that is refused at once.
async fn read_body(mut body: Incoming, cap: usize, declared: Option<u64>, kept: bool, watch: &Watch) -> Result<Bytes, BodyError> {
    let cap = cap as u64;
    let drain_limit = cap.saturating_mul(2);
    if declared.is_some_and(|n| n > drain_limit) {
        return Err(BodyError::TooLarge);
    }
    let read = async {
        let mut chunks: Vec<Bytes> = Vec::new();
        let mut seen: u64 = 0;
        let mut too_large = declared.is_some_and(|n| n > cap);
        while let Some(frame) = body.frame().await {
            let Ok(data) = frame.map_err(|_| BodyError::Broken)?.into_data() else { continue };
            seen += data.len() as u64;
            if seen > cap {
                too_large = true;
                chunks.clear();
            }
            if too_large {
                if seen > drain_limit {
                    break;
                }
                continue;
            }
            chunks.push(data);
        }
        if too_large {
            return Err(BodyError::TooLarge);
        }
        Ok(match chunks.len() {
            0 => Bytes::new(),
            1 if kept => detach_small(&chunks.pop().unwrap_or_default()),
            1 => chunks.pop().unwrap_or_default(),
            _ => Bytes::from(chunks.concat()),
        })
    };
    watch.body(read).await.unwrap_or(Err(BodyError::TimedOut))
}

/// Step 3: the fault rule that fires for this call, after its delay.
async fn fault(world: &World, route: &Route, request: &Request) -> Option<Firing> {
    if world.faults.is_empty() {
        return None;
    }
    let firing = world.faults.evaluate(route.platform, route.id, &|k| request_field(request, k), world.clock.now_ms())?;
    if firing.delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(firing.delay_ms)).await;
    }
    Some(firing)
}

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

/// Step 4: the handler's answer. A calling handler's outbound calls go through the outbox and are
/// awaited here, outside any lock, before it goes on. A panic is logged and answered as the
/// platform's `internal_error`.
async fn run_handler(route: &Route, world: &Arc<World>, request: &Request) -> Response {
    let ctx = Ctx { world, req: request, route };
    let guarded = |f: &mut dyn FnMut() -> Turn| match std::panic::catch_unwind(AssertUnwindSafe(f)) {
        Ok(turn) => turn,
        Err(_) => {
            tracing::error!(route = route.id, path = %request.path, "handler panicked; answering internal_error");
            Turn::Done(render_named(route.platform, "internal_error", world, &request.path))
        }
    };
    let mut turn = match &route.handler {
        Handler::Plain(h) => guarded(&mut || Turn::Done(h(&ctx))),
        Handler::Calling(h) => guarded(&mut || h(&ctx)),
    };
    for _ in 0..MAX_CALLS_PER_REQUEST {
        let callout = match turn {
            Turn::Done(resp) => return resp,
            Turn::Call(c) => c,
        };
        let reply = world.outbox.call(callout.message).await;
        // `guarded` takes a FnMut; the continuation runs once.
        let mut resume = Some((callout.then, reply));
        turn = guarded(&mut || match resume.take() {
            Some((then, reply)) => then(&ctx, reply),
            None => Turn::Done(render_named(route.platform, "internal_error", world, &request.path)),
        });
    }
    tracing::error!(route = route.id, "more than {MAX_CALLS_PER_REQUEST} outbound calls in one request; answering internal_error");
    render_named(route.platform, "internal_error", world, &request.path)
}

/// A named error in the platform's envelope (plain JSON 500 if the platform has no such name).
fn render_named(platform: &str, name: &str, world: &World, path: &str) -> Response {
    platforms::by_name(platform).and_then(|p| (p.error)(name, world.locale, path)).unwrap_or_else(|| plain_error(500, name.to_owned()))
}

fn plain_error(status: u16, message: String) -> Response {
    Response::json(status, &json!({ "error": message }))
}

pub fn to_hyper(r: Response) -> hyper::Response<HyperBody> {
    let mut out = hyper::Response::new(Either::Left(Full::new(r.body.into_buf())));
    *out.status_mut() = hyper::StatusCode::from_u16(r.status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    let headers = out.headers_mut();
    // Almost every answer is JSON: its header value is a constant rather than parsed and copied.
    let content_type = match r.content_type {
        "" => None,
        crate::http::JSON => Some(hyper::header::HeaderValue::from_static(crate::http::JSON)),
        other => hyper::header::HeaderValue::from_str(other).ok(),
    };
    if let Some(v) = content_type {
        headers.insert(CONTENT_TYPE, v);
    }
    for (k, v) in r.headers {
        headers.append(k, v);
    }
    out
}

/// A fault's raw answer: JSON bodies are sent as JSON, strings as they are.
fn raw_response(status: u16, body: Option<&serde_json::Value>, headers: &serde_json::Map<String, serde_json::Value>) -> Response {
    let mut r = match body {
        Some(serde_json::Value::String(s)) => {
            Response { status, content_type: "text/plain; charset=utf-8", body: Bytes::from(s.clone()).into(), headers: Vec::new() }
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
fn truncated(resp: Response) -> hyper::Response<HyperBody> {
    let full = resp.body.len();
    let half = resp.body.to_bytes().slice(..full / 2);
    // Half the body now; the break only after it has been flushed, so the client really receives it.
    let frames = futures_util::stream::unfold(Some(half), |state| async move {
        match state {
            Some(half) => Some((Ok::<_, BoxError>(Frame::data(BodyBuf::from(half))), None)),
            None => {
                tokio::time::sleep(Duration::from_millis(20)).await;
                Some((Err("truncated by a fault rule".into()), None))
            }
        }
    });
    let mut r = to_hyper(Response { body: Body::default(), ..resp });
    *r.body_mut() = Either::Right(StreamBody::new(frames).boxed());
    if let Ok(v) = hyper::header::HeaderValue::from_str(&full.to_string()) {
        r.headers_mut().insert(CONTENT_LENGTH, v);
    }
    r
}
