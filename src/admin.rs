//! The control API under `/__emu/`: health, reset, routes, request journal, state, clock, namespaces.
//! Admin calls are not journaled. `x-emu-namespace` scopes reset, state and clock to one namespace.
//!
//! Where this fits: docs/architecture.md.

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::http::request::Parts;
use hyper::Method;
use serde_json::{json, Value};

use crate::core::clock::{iso_utc_ms, parse_duration_ms, parse_rfc3339_ms};
use crate::core::journal::{JournalFilter, Secrets};
use crate::http::Response;
use crate::shared::{Shared, NAMESPACE_HEADER};

/// The world of the call's namespace, or the namespace-limit answer from the enclosing function.
macro_rules! world {
    ($shared:expr, $ns:expr) => {
        match $shared.world($ns.unwrap_or("")) {
            Ok(w) => w,
            Err(limit) => return limit.response(),
        }
    };
}

fn ok(v: Value) -> Response {
    Response::json(200, &v)
}

fn bad(status: u16, msg: impl Into<String>) -> Response {
    Response::json(status, &json!({ "error": msg.into() }))
}

/// The header that carries the admin token (`Authorization: Bearer <token>` works too).
pub const ADMIN_TOKEN_HEADER: &str = "x-emu-admin-token";

/// With `--admin-token`, every admin call but health must carry it. Compared in constant time.
fn authorized(shared: &Shared, parts: &Parts) -> bool {
    let Some(expected) = &shared.admin_token else { return true };
    let header = |name| parts.headers.get(name).and_then(|v: &hyper::header::HeaderValue| v.to_str().ok());
    let given = header(ADMIN_TOKEN_HEADER)
        .or_else(|| header(hyper::header::AUTHORIZATION.as_str()).and_then(|a| a.strip_prefix("Bearer ")))
        .unwrap_or("");
    given.len() == expected.len() && given.bytes().zip(expected.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

pub async fn handle(shared: &Shared, parts: Parts, body: Incoming) -> Response {
    if parts.method == Method::GET {
        if let Some(page) = crate::dashboard::asset(parts.uri.path()) {
            return page;
        }
    }
    if parts.uri.path().trim_end_matches('/') != "/__emu/health" && !authorized(shared, &parts) {
        return bad(
            401,
            format!("this emulator requires its admin token: send {ADMIN_TOKEN_HEADER}: <token> or Authorization: Bearer <token>"),
        )
        .with_header("www-authenticate", "Bearer");
    }
    let body = match tokio::time::timeout(shared.config.read_timeout, Limited::new(body, shared.config.max_body_bytes).collect()).await {
        Err(_) => return bad(408, "the request body did not arrive in time"),
        Ok(Ok(c)) => c.to_bytes(),
        Ok(Err(_)) => return bad(413, "admin request body too large"),
    };
    let ns = parts.headers.get(NAMESPACE_HEADER).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let query = parts.uri.query().unwrap_or("");
    let path = parts.uri.path().trim_end_matches('/');
    match (&parts.method, path) {
        (&Method::GET, "/__emu/health") => health(shared),
        (&Method::POST, "/__emu/reset") => {
            match ns.as_deref() {
                Some(ns) => {
                    if let Err(limit) = shared.reset(Some(ns)) {
                        return limit.response();
                    }
                    shared.journal.clear(&JournalFilter { namespace: Some(ns.to_owned()), ..Default::default() });
                }
                None => {
                    let _ = shared.reset(None);
                    shared.journal.clear(&JournalFilter::default());
                }
            }
            ok(json!({ "status": "ok" }))
        }
        (&Method::GET, "/__emu/routes") => routes(shared),
        (&Method::GET, "/__emu/requests") => match filter(query, ns.as_deref()) {
            Ok(f) => {
                let show = form_urlencoded::parse(query.as_bytes()).any(|(k, v)| k == "secrets" && v == "true");
                let limit = match form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == "limit").map(|(_, v)| v.parse::<usize>()) {
                    None => usize::MAX,
                    Some(Ok(n)) if n > 0 => n,
                    Some(_) => return bad(400, "limit must be a positive number"),
                };
                let entries = shared.journal.newest(&f, limit);
                ok(Value::Array(entries.iter().map(|e| e.to_json(secrets_of(e.platform, show))).collect()))
            }
            Err(e) => bad(400, e),
        },
        (&Method::GET, "/__emu/requests/count") => match filter(query, ns.as_deref()) {
            Ok(f) => ok(json!({ "count": shared.journal.count(&f) })),
            Err(e) => bad(400, e),
        },
        (&Method::DELETE, "/__emu/requests") => match filter(query, ns.as_deref()) {
            Ok(f) => ok(json!({ "deleted": shared.journal.clear(&f) })),
            Err(e) => bad(400, e),
        },
        (&Method::GET, "/__emu/state") => ok(world!(shared, ns.as_deref()).export()),
        (&Method::PUT, "/__emu/state") => match serde_json::from_slice::<Value>(&body) {
            Err(e) => bad(400, format!("state must be JSON: {e}")),
            Ok(v) => match shared.import_state(ns.as_deref().unwrap_or(""), v) {
                Ok(()) => ok(json!({ "status": "ok" })),
                Err(e) => bad(400, e.to_string()),
            },
        },
        (&Method::POST, "/__emu/state/save") => match shared.save_state() {
            Ok(p) => ok(json!({ "status": "ok", "file": p.display().to_string() })),
            Err(e) => bad(409, e.to_string()),
        },
        (&Method::PUT, "/__emu/scenario") => put_scenario(shared, &parts.headers, &body),
        (&Method::GET, "/__emu/namespaces") => {
            let mut names: Vec<String> = shared.worlds.iter().map(|w| w.key().clone()).collect();
            names.sort();
            ok(json!({ "namespaces": names }))
        }
        (&Method::DELETE, p) if p.starts_with("/__emu/namespaces/") => {
            let name = p.trim_start_matches("/__emu/namespaces/");
            let name = form_urlencoded::parse(format!("n={name}").as_bytes()).next().map(|(_, v)| v.into_owned()).unwrap_or_default();
            if shared.drop_namespace(&name) {
                shared.journal.clear(&JournalFilter { namespace: Some(name), ..Default::default() });
                ok(json!({ "deleted": 1 }))
            } else {
                bad(404, format!("no namespace {name:?} (the default namespace cannot be dropped; reset it)"))
            }
        }
        (&Method::GET, "/__emu/faults") => ok(json!(world!(shared, ns.as_deref()).faults.list())),
        (&Method::POST, "/__emu/faults") => add_fault(shared, ns.as_deref(), &body),
        (&Method::DELETE, "/__emu/faults") => ok(json!({ "deleted": world!(shared, ns.as_deref()).faults.clear() })),
        (&Method::DELETE, p) if p.starts_with("/__emu/faults/") => {
            let id = p.trim_start_matches("/__emu/faults/");
            if world!(shared, ns.as_deref()).faults.remove(id) {
                ok(json!({ "deleted": 1 }))
            } else {
                bad(404, format!("no fault rule {id:?}"))
            }
        }
        (&Method::GET, "/__emu/deliveries") => {
            let platform = query_param(query, "platform");
            ok(json!(world!(shared, ns.as_deref()).outbox.list(platform.as_deref())))
        }
        (&Method::DELETE, "/__emu/deliveries") => ok(json!({ "deleted": world!(shared, ns.as_deref()).outbox.clear_finished() })),
        (&Method::POST, "/__emu/deliveries/wait") => {
            let timeout = query_param(query, "timeout_ms").and_then(|t| t.parse::<u64>().ok()).unwrap_or(5_000).min(60_000);
            let w = world!(shared, ns.as_deref());
            ok(json!(w.outbox.wait_idle(std::time::Duration::from_millis(timeout)).await))
        }
        (&Method::POST, p) if p.starts_with("/__emu/deliveries/") && p.ends_with("/redeliver") => {
            let id = p.trim_start_matches("/__emu/deliveries/").trim_end_matches("/redeliver");
            let w = world!(shared, ns.as_deref());
            match id.parse::<u64>().ok().and_then(|id| w.outbox.redeliver(id)) {
                Some(new) => Response::json(202, &json!({ "id": new })),
                None => bad(404, format!("no delivery {id} in this namespace")),
            }
        }
        (&Method::POST, "/__emu/act") => act(shared, ns.as_deref(), &body),
        (&Method::GET, "/__emu/clock") => clock_view(shared, ns.as_deref()),
        (&Method::GET, "/__emu/overview") => {
            let host = parts.headers.get(hyper::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1");
            let w = world!(shared, ns.as_deref());
            crate::dashboard::overview(shared, &w, ns.as_deref().unwrap_or(""), &format!("http://{host}"))
        }
        (&Method::GET, "/__emu/collections") => {
            let w = world!(shared, ns.as_deref());
            crate::dashboard::collections(&w, query)
        }
        (&Method::GET, "/__emu/records") => {
            let w = world!(shared, ns.as_deref());
            crate::dashboard::records(&w, query)
        }
        (&Method::GET, "/__emu/openapi.json") => ok(crate::openapi::document()),
        (&Method::GET, "/__emu/tasks") => {
            let w = world!(shared, ns.as_deref());
            crate::dashboard::tasks(&w, query)
        }
        (&Method::POST, "/__emu/clock") => clock_set(shared, ns.as_deref(), &body),
        (m, p) => bad(404, format!("no admin endpoint {m} {p} (see docs/admin-api.md)")),
    }
}

fn health(shared: &Shared) -> Response {
    let s = shared.scenario.read().clone();
    ok(json!({ "status": "ok", "platforms": s.platforms(), "scenario": s.name }))
}

fn routes(shared: &Shared) -> Response {
    let list: Vec<Value> = shared
        .router
        .routes()
        .iter()
        .map(|r| json!({ "platform": r.platform, "method": r.method.as_str(), "path": r.pattern, "route": r.id }))
        .collect();
    ok(Value::Array(list))
}

/// The journal filter of a query string; `x-emu-namespace` narrows it to that namespace, as it scopes every
/// other admin route (an explicit `namespace=` filter wins).
fn filter(query: &str, ns: Option<&str>) -> Result<JournalFilter, String> {
    let mut f = JournalFilter { namespace: ns.map(str::to_owned), ..JournalFilter::default() };
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        match k.as_ref() {
            "platform" => f.platform = Some(v.into_owned()),
            "route" => f.route = Some(v.into_owned()),
            "namespace" => f.namespace = Some(v.into_owned()),
            "status" => f.status = Some(v.parse().map_err(|_| format!("status must be a number, got {v:?}"))?),
            "since" => {
                if let Ok(id) = v.parse::<u64>() {
                    f.since_id = Some(id);
                } else {
                    f.since_ms =
                        Some(parse_rfc3339_ms(&v).ok_or_else(|| format!("since must be an entry id or an RFC 3339 time, got {v:?}"))?);
                }
            }
            "secrets" if v == "true" || v == "false" => {}
            // `limit` is read by the listing itself.
            "limit" => {}
            "secrets" => return Err(format!("secrets must be true or false, got {v:?}")),
            other => return Err(format!("unknown filter {other:?}; use platform, route, namespace, status, since, limit, secrets")),
        }
    }
    Ok(f)
}

/// Journal entries hide each platform's credential fields unless `?secrets=true` asks for them.
fn secrets_of(platform: &str, show: bool) -> Secrets<'static> {
    match (show, crate::platforms::by_name(platform)) {
        (true, _) => Secrets::Show,
        (false, Some(p)) => Secrets::Redact(p.secret_fields),
        (false, None) => Secrets::Redact(&[]),
    }
}

fn clock_view(shared: &Shared, ns: Option<&str>) -> Response {
    let w = world!(shared, ns);
    ok(json!({ "now": iso_utc_ms(w.clock.now_ms()), "frozen": w.clock.is_frozen() }))
}

/// `{"freeze": "<RFC 3339>" | true}`, `{"set": "<RFC 3339>"}`, `{"advance": "90s"}`, `{"real": true}`.
fn clock_set(shared: &Shared, ns: Option<&str>, body: &Bytes) -> Response {
    let Ok(Value::Object(req)) = serde_json::from_slice::<Value>(body) else {
        return bad(
            400,
            "expected a JSON object such as {\"freeze\": \"2026-01-05T09:00:00+08:00\"}, {\"advance\": \"90s\"} or {\"real\": true}",
        );
    };
    let w = world!(shared, ns);
    if let Some(f) = req.get("freeze") {
        match f {
            Value::Bool(true) => w.clock.freeze(w.clock.now_ms()),
            Value::String(s) => match parse_rfc3339_ms(s) {
                Some(at) => w.clock.freeze(at),
                None => return bad(400, format!("freeze: expected an RFC 3339 time, got {s:?}")),
            },
            _ => return bad(400, "freeze: expected an RFC 3339 time or true"),
        }
    }
    if let Some(v) = req.get("set") {
        match v.as_str().and_then(parse_rfc3339_ms) {
            Some(at) => w.clock.set(at),
            None => return bad(400, format!("set: expected an RFC 3339 time, got {v}")),
        }
    }
    if let Some(a) = req.get("advance") {
        match a.as_str().and_then(parse_duration_ms) {
            Some(d) => w.clock.advance(d),
            None => return bad(400, format!("advance: expected a duration such as \"90s\", \"15m\", \"2h\", got {a}")),
        }
    }
    if req.get("real") == Some(&Value::Bool(true)) {
        w.clock.set_real();
    }
    // Retries are due on this clock: the ones it passed go now.
    w.outbox.clock_changed();
    clock_view(shared, ns)
}

/// One query parameter, percent-decoded.
fn query_param(query: &str, name: &str) -> Option<String> {
    form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

/// `POST /__emu/act`: `{"platform", "as", "action", …}` performs what a person does in the platform's
/// own UI, with the side effects the platform documents for it (pushes, workflow moves).
fn act(shared: &Shared, ns: Option<&str>, body: &Bytes) -> Response {
    let Ok(Value::Object(req)) = serde_json::from_slice::<Value>(body) else {
        return bad(400, "expected a JSON object such as {\"platform\": \"jiandaoyun\", \"as\": \"zhang\", \"action\": \"create\", …}");
    };
    let Some(name) = req.get("platform").and_then(Value::as_str) else { return bad(400, "platform: expected a platform name") };
    let Some(p) = crate::platforms::PLATFORMS.iter().find(|p| p.name == name) else {
        let names: Vec<&str> = crate::platforms::PLATFORMS.iter().map(|p| p.name).collect();
        return bad(400, format!("platform: expected one of {names:?}, got {name:?}"));
    };
    let w = world!(shared, ns);
    match (p.act)(&w, &req) {
        Ok(v) => ok(v),
        Err((status, msg)) => bad(status, msg),
    }
}

/// `POST /__emu/faults` takes the keys of a `[[faults]]` table as JSON.
fn add_fault(shared: &Shared, ns: Option<&str>, body: &Bytes) -> Response {
    let def: crate::core::faults::FaultDef = match serde_json::from_slice(body) {
        Ok(d) => d,
        Err(e) => return bad(400, format!("invalid fault rule: {e}")),
    };
    if let Err(why) = crate::scenario::validate::check_fault(&def, shared.router.routes()) {
        return bad(400, why);
    }
    let id = world!(shared, ns).faults.add(def);
    Response::json(201, &json!({ "id": id }))
}

/// `PUT /__emu/scenario`: TOML, or JSON when the content type says so or the body starts with `{`.
fn put_scenario(shared: &Shared, headers: &hyper::HeaderMap, body: &Bytes) -> Response {
    let Ok(text) = std::str::from_utf8(body) else { return bad(400, "the scenario must be UTF-8 text") };
    let is_json = headers.get(hyper::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|c| c.contains("json"))
        || text.trim_start().starts_with('{');
    let name = shared.scenario.read().name.clone();
    let access = match &shared.scenario_dir {
        Some(dir) => crate::scenario::FileAccess::Under(dir.clone()),
        None => crate::scenario::FileAccess::Denied,
    };
    let loaded = crate::Scenario::from_untrusted(text, &name, is_json, access);
    match loaded {
        Ok(s) => {
            let summary = json!({ "status": "ok", "scenario": s.name, "platforms": s.platforms() });
            shared.replace_scenario(s);
            ok(summary)
        }
        Err(all) => {
            // The first problem at the top level (as before), every problem under `errors`.
            let one = |e: &crate::ScenarioError| json!({ "error": e.to_string(), "file": e.file, "line": e.line, "column": e.column, "key": e.key, "message": e.message });
            let mut body = all.0.first().map(one).unwrap_or_else(|| json!({ "error": "invalid scenario" }));
            body["errors"] = Value::Array(all.0.iter().map(one).collect());
            Response::json(400, &body)
        }
    }
}
