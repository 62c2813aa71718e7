//! Huawei Astro Zero (华为云 Astro 轻应用) runtime API: OAuth client credentials, object records and
//! custom-object metadata.
//!
//! Requests carry `access-token` as a header or cookie (not `Authorization: Bearer`). Successes are
//! `{"resCode": "0", "resMsg": "成功"|"Success", "result": …}` (queries add a top-level `count`);
//! failures are HTTP 4xx/5xx `{"resCode", "resMsg"}`. Timestamps are `yyyy-MM-dd HH:mm:ss`.

mod bpm;
mod browse;
mod bulk;
mod call;
pub mod connectors;
mod data;
#[cfg(test)]
mod data_proptests;
pub mod errors;
mod flows;
mod generate;
mod metadata;
pub mod model;
mod picklists;
pub mod program;
pub mod scenario;
mod scripts;
mod service_tasks;
mod services;
mod snapshot;
pub mod templates;
mod tenant;

use std::io::Write as _;

use base64::Engine;
use hyper::Method;
use serde_json::{json, Map, Value};

pub use self::call::Call;
use self::errors::AzError;
use self::model::State;
use self::program::{Paused, Progress};
use crate::http::{json_object, Request, Response};
use crate::platforms::PlatformError;
use crate::platforms::{BuildCx, Platform, ValidateCx};
use crate::router::{Callout, Ctx, Route, Turn};
use crate::scenario::{Diag, Scenario};
use crate::state::StateError;
use crate::world::World;
use crate::Locale;

pub const PLATFORM: &str = "astrozero";

/// An optional string member of a body; anything but a string or null is a parameter error.
pub fn opt_str<'a>(b: &'a Map<String, Value>, key: &str) -> Result<Option<&'a str>, AzError> {
    match b.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(AzError::param(format!("{key} must be a string"))),
    }
}

/// Orders answer items by one member (compared as JSON text, descending when asked) and keeps only
/// the comma-separated `fields` when given: the instance queries' `orderField` / `fields`.
pub fn order_and_pick(items: Vec<Value>, order: Option<(&str, bool)>, fields: Option<&str>) -> Vec<Value> {
    let mut items = items;
    if let Some((field, desc)) = order {
        items.sort_by(|a, b| {
            let o = a[field].to_string().cmp(&b[field].to_string());
            if desc {
                o.reverse()
            } else {
                o
            }
        });
    }
    let Some(keep) = fields.map(|f| f.split(',').map(str::trim).filter(|k| !k.is_empty()).collect::<Vec<_>>()) else { return items };
    if keep.is_empty() {
        return items;
    }
    items
        .into_iter()
        .map(|v| Value::Object(keep.iter().map(|k| ((*k).to_owned(), v.get(*k).cloned().unwrap_or(Value::Null))).collect()))
        .collect()
}

fn success_msg(locale: Locale) -> &'static str {
    if locale == Locale::En {
        "Success"
    } else {
        "成功"
    }
}

fn token_of(req: &Request) -> Option<String> {
    if let Some(t) = req.header("access-token") {
        return Some(t.trim().to_owned());
    }
    req.header("cookie")?
        .split(';')
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == "access-token")
        .map(|(_, v)| v.trim().to_owned())
}

/// What an operation answers.
pub enum Reply {
    /// `result` (and a top-level `count` for queries) in the envelope.
    Result(Value, Option<usize>),
    /// Records as `result` (and `count`), printed from the store without copying them.
    Records(Vec<data::Shown>, Option<usize>),
    /// The envelope without `result` (BPM instance delete and variables).
    Bare,
    /// Not enveloped (file downloads).
    Raw(Response),
}

/// Authenticates, throttles, decodes the body, runs `op`, and wraps its reply in the envelope.
/// What every Astro Zero request does before its operation: answers of service tasks that came in
/// since the last request move their instances, and the `User` object catches up with the directory.
fn catch_up(world: &World, st: &State) {
    service_tasks::apply(world, st);
    st.sync_users(&world.directory, world.clock.now_ms());
}

fn run(ctx: &Ctx, op: impl FnOnce(&Call) -> Result<Reply, AzError>) -> Response {
    match authenticate(ctx) {
        Ok(call) => envelope(ctx.world.locale, op(&call)),
        Err(refused) => refused,
    }
}

/// The call a request makes once its token, rate and body pass — else the platform's refusal.
fn authenticate<'a>(ctx: &Ctx<'a>) -> Result<Call<'a>, Response> {
    let world: &'a World = ctx.world;
    let locale = world.locale;
    let Some(st) = world.platforms.astrozero.as_ref() else { return Err(AzError::not_found("astrozero is not configured").render(locale)) };
    let now = world.clock.now_ms();
    let Some(user) = token_of(ctx.req).and_then(|t| st.token_user(&t, now).map(|u| (t, u))) else {
        return Err(AzError::new("unauthorized").render(locale));
    };
    if let Some(limit) = st.rate_limit {
        if !st.rate.allow(&user.0, limit, now) {
            return Err(AzError::new("rate_limited").render(locale));
        }
    }
    // Upload routes take file bytes, not JSON; JSON arrays (multipart completion) are read by the
    // operation itself.
    let body = match json_object(&ctx.req.body) {
        _ if ctx.route.upload => Map::new(),
        Ok(b) => b,
        Err(crate::http::JsonBodyError::NotAnObject) if ctx.route.id.starts_with("astrozero.connector.") => Map::new(),
        Err(_) => return Err(AzError::param("the body must be a JSON object").render(locale)),
    };
    catch_up(world, st);
    Ok(Call { world, st, req: ctx.req, user: user.1, body })
}

/// A custom API (`/service/…`): found by URL and method among the scenario's, authenticated unless it
/// allows anonymous callers, CSRF-checked when it asks, then run as the script, Flow or object
/// operation it is bound to (awaiting Rest actions like any Flow).
fn service(ctx: &Ctx) -> Turn {
    let world = ctx.world;
    let locale = world.locale;
    let Some(st) = world.platforms.astrozero.as_ref() else {
        return Turn::Done(AzError::not_found("astrozero is not configured").render(locale));
    };
    let method = ctx.req.method.as_str();
    let api = match services::find(&st.apis, &st.namespace, method, &ctx.req.path) {
        Ok(a) => a.clone(),
        Err(e) => return Turn::Done(e.render(locale)),
    };
    let now = world.clock.now_ms();
    let token = token_of(ctx.req);
    let user = match token.as_deref().and_then(|t| st.token_user(t, now)) {
        Some(u) => u,
        None if api.anonymous => ANONYMOUS.to_owned(),
        None => return Turn::Done(AzError::new("unauthorized").render(locale)),
    };
    if let (Some(t), Some(limit)) = (token.as_deref(), st.rate_limit) {
        if !st.rate.allow(t, limit, now) {
            return Turn::Done(AzError::new("rate_limited").render(locale));
        }
    }
    // Anonymous callers skip the CSRF check, as documented.
    if api.csrf && user != ANONYMOUS {
        let sent = ctx.req.header("csrf-token").or_else(|| ctx.req.header("csfr-token"));
        if sent != token.as_deref().map(services::csrf_of).as_deref() {
            return Turn::Done(AzError::new("csrf").render(locale));
        }
    }
    let body = match ctx.req.body.is_empty() {
        true => Map::new(),
        false => match json_object(&ctx.req.body) {
            Ok(b) => b,
            Err(_) => return Turn::Done(AzError::param("the body must be a JSON object").render(locale)),
        },
    };
    let input = services::input(method, ctx.req.query_pairs(), body);
    catch_up(world, st);
    let call = Call { world, st, req: ctx.req, user, body: input };
    let progress = services::run(&call, &api);
    let Call { user, body, .. } = call;
    program_turn(locale, user, body, progress)
}

/// Who a custom API with anonymous access runs as when no token comes.
const ANONYMOUS: &str = "Anonymous User";

/// `/u-route/baas/sys/v1.0/csrf/get`: the CSRF token custom APIs with a CSRF check expect.
fn csrf(call: &Call) -> Result<Value, AzError> {
    let token = token_of(call.req).ok_or_else(|| AzError::new("unauthorized"))?;
    Ok(json!(services::csrf_of(&token)))
}

/// A route running a Flow or a script, which may await Rest actions before it answers (the
/// pipeline sends each and hands the answer back).
fn calling(id: &'static str, path: &'static str, op: fn(&Call) -> Result<Progress, AzError>) -> Route {
    Route::calling(id, PLATFORM, Method::POST, path, move |ctx: &Ctx| match authenticate(ctx) {
        Ok(call) => {
            let progress = op(&call);
            let Call { user, body, .. } = call;
            program_turn(ctx.world.locale, user, body, progress)
        }
        Err(refused) => Turn::Done(refused),
    })
}

fn program_turn(locale: Locale, user: String, body: Map<String, Value>, progress: Result<Progress, AzError>) -> Turn {
    match progress {
        Ok(Progress::Done(v)) => Turn::Done(envelope(locale, Ok(Reply::Result(v, None)))),
        Err(e) => Turn::Done(e.render(locale)),
        Ok(Progress::Calling(paused)) => {
            let Paused { message, then } = *paused;
            Turn::Call(Callout {
                message,
                then: Box::new(move |ctx: &Ctx, reply| {
                    // Authenticated when the request came; the same person goes on.
                    let Some(st) = ctx.world.platforms.astrozero.as_ref() else {
                        return Turn::Done(AzError::not_found("astrozero is not configured").render(locale));
                    };
                    let call = Call { world: ctx.world, st, req: ctx.req, user, body };
                    let progress = then(&call, &reply);
                    let Call { user, body, .. } = call;
                    program_turn(locale, user, body, progress)
                }),
            })
        }
    }
}

/// `{"resCode": "0", "resMsg", "result", "count"?}`, printed around the result (not copied into a tree).
#[derive(serde::Serialize)]
struct Success<'a, T: serde::Serialize> {
    #[serde(rename = "resCode")]
    code: &'static str,
    #[serde(rename = "resMsg")]
    msg: &'static str,
    result: &'a T,
    #[serde(skip_serializing_if = "Option::is_none")]
    count: Option<usize>,
}

/// The envelope around records, spliced from their cached JSON: a page is a concatenation.
fn records_answer(locale: Locale, records: &[data::Shown], count: Option<usize>) -> Response {
    let mut out = Vec::with_capacity(records.iter().map(data::Shown::json_len_hint).sum::<usize>() + 96);
    out.extend_from_slice(b"{\"resCode\":\"0\",\"resMsg\":");
    let _ = serde_json::to_writer(&mut out, success_msg(locale));
    out.extend_from_slice(b",\"result\":");
    crate::core::json_out::write_array(&mut out, records, |out, r| r.write_json(out));
    if let Some(n) = count {
        let _ = write!(out, ",\"count\":{n}");
    }
    out.push(b'}');
    Response::json_bytes(200, out)
}

/// The platform's envelope around an operation's reply.
fn envelope(locale: Locale, reply: Result<Reply, AzError>) -> Response {
    match reply {
        Ok(Reply::Result(result, count)) => Response::json(200, &Success { code: "0", msg: success_msg(locale), result: &result, count }),
        Ok(Reply::Records(records, count)) => records_answer(locale, &records, count),
        Ok(Reply::Bare) => Response::json(200, &json!({ "resCode": "0", "resMsg": success_msg(locale) })),
        Ok(Reply::Raw(resp)) => resp,
        Err(e) => e.render(locale),
    }
}

/// `POST /baas/auth/v1.0/oauth2/token`: client credentials from the form body, the query string or
/// HTTP Basic. The answer is not enveloped.
fn token(ctx: &Ctx) -> Response {
    let Some(st) = ctx.world.platforms.astrozero.as_ref() else { return Response::json(400, &json!({ "error": "invalid_client" })) };
    let mut p: Map<String, Value> = ctx.req.query_pairs().into_iter().map(|(k, v)| (k, Value::String(v))).collect();
    match json_object(&ctx.req.body) {
        Ok(m) if !m.is_empty() => p.extend(m),
        _ => p.extend(form_urlencoded::parse(&ctx.req.body).map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))),
    }
    if let Some((id, secret)) = ctx
        .req
        .header("authorization")
        .and_then(|h| h.strip_prefix("Basic ").or_else(|| h.strip_prefix("basic ")))
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b.trim()).ok())
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.split_once(':').map(|(a, b)| (a.to_owned(), b.to_owned())))
    {
        p.insert("client_id".into(), json!(id));
        p.insert("client_secret".into(), json!(secret));
    }
    let get = |k: &str| p.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    let unauthorized = || {
        Response::json(
            400,
            &json!({ "error": "unauthorized_client", "error_description": "The client is not authorized to request a token using this method." }),
        )
    };
    if get("grant_type") != "client_credentials" {
        return Response::json(
            400,
            &json!({ "error": "unsupported_grant_type", "error_description": "The authorization grant type is not supported." }),
        );
    }
    let Some(client) = st.clients.get(&get("client_id")).filter(|c| c.secret == get("client_secret")) else { return unauthorized() };
    let token = issue_token(st, ctx.world, client.user.clone());
    Response::json(200, &json!({ "access_token": token, "expires_in": st.token_ttl_s, "token_type": "Bearer" }))
}

/// A new access token of this world for `user`, valid for the scenario's token lifetime.
pub fn issue_token(st: &model::State, world: &crate::world::World, user: String) -> String {
    let token = crate::core::ids::namespaced_secret(&st.ids.uuid().replace('-', ""), &world.namespace);
    let now = world.clock.now_ms();
    st.tokens.lock().insert(token.clone(), now + st.token_ttl_s * 1000, user, now);
    token
}

type Op = fn(&Call) -> Result<Value, AzError>;

fn r(id: &'static str, method: Method, path: &'static str, op: Op) -> Route {
    Route::new(id, PLATFORM, method, path, move |ctx: &Ctx| run(ctx, |call| op(call).map(|v| Reply::Result(v, None))))
}

type ReplyOp = fn(&Call) -> Result<Reply, AzError>;

/// A route whose operation shapes its own reply (no `result`, raw bytes).
fn rr(id: &'static str, method: Method, path: &'static str, op: ReplyOp) -> Route {
    Route::new(id, PLATFORM, method, path, move |ctx: &Ctx| run(ctx, op))
}

/// The same route under each spelling the docs use (`Object`/`object`, `Field`/`fields` …).
fn spellings(id: &'static str, method: Method, paths: &[&'static str], op: Op) -> Vec<Route> {
    paths.iter().map(|p| r(id, method.clone(), p, op)).collect()
}

/// `/service/{namespace}__{app}/{version}` and 1 to 6 path segments, for every method a custom API may use.
const SERVICE_PATHS: [&str; services::MAX_PATH_SEGMENTS] = [
    "/service/{svc}/{version}/{p1}",
    "/service/{svc}/{version}/{p1}/{p2}",
    "/service/{svc}/{version}/{p1}/{p2}/{p3}",
    "/service/{svc}/{version}/{p1}/{p2}/{p3}/{p4}",
    "/service/{svc}/{version}/{p1}/{p2}/{p3}/{p4}/{p5}",
    "/service/{svc}/{version}/{p1}/{p2}/{p3}/{p4}/{p5}/{p6}",
];

pub fn routes() -> Vec<Route> {
    let mut v = vec![
        Route::new("astrozero.oauth2.token", PLATFORM, Method::POST, "/baas/auth/v1.0/oauth2/token", token),
        rr("astrozero.data.get", Method::GET, "/u-route/baas/data/v1.0/bobject/{obj}/{id}", data::get_one),
        r("astrozero.data.update", Method::PUT, "/u-route/baas/data/v1.0/bobject/{obj}/{id}", data::update_one),
        r("astrozero.data.delete", Method::DELETE, "/u-route/baas/data/v1.0/bobject/{obj}/{id}", data::delete_one),
        rr("astrozero.data.get_many", Method::GET, "/u-route/baas/data/v1.0/bobject/{obj}", data::get_many),
        r("astrozero.data.create", Method::POST, "/u-route/baas/data/v1.0/bobject/{obj}", data::create),
        r("astrozero.data.update_where", Method::PUT, "/u-route/baas/data/v1.0/bobject/{obj}", data::update_where),
        r("astrozero.data.delete_many", Method::DELETE, "/u-route/baas/data/v1.0/bobject/{obj}", data::delete_many),
        rr("astrozero.data.query", Method::POST, "/u-route/baas/data/v1.0/query/{obj}", data::query),
        r("astrozero.data.delete_where", Method::POST, "/u-route/baas/data/v1.0/delete/{obj}", data::delete_where),
        r("astrozero.data.count", Method::POST, "/u-route/baas/data/v1.0/count/{obj}", data::count),
        r("astrozero.data.upsert", Method::POST, "/u-route/baas/data/v1.0/upsert/{obj}", data::upsert),
    ];
    v.extend(spellings(
        "astrozero.metadata.object.list",
        Method::GET,
        &["/u-route/baas/metadata/v1.0/Object", "/u-route/baas/metadata/v1.0/object"],
        metadata::list_objects,
    ));
    v.extend(spellings(
        "astrozero.metadata.object.create",
        Method::POST,
        &["/u-route/baas/metadata/v1.0/Object", "/u-route/baas/metadata/v1.0/object"],
        metadata::create_object,
    ));
    v.extend(spellings(
        "astrozero.metadata.object.get",
        Method::GET,
        &["/u-route/baas/metadata/v1.0/Object/{oid}", "/u-route/baas/metadata/v1.0/object/{oid}"],
        metadata::get_object,
    ));
    v.extend(spellings(
        "astrozero.metadata.object.update",
        Method::PUT,
        &["/u-route/baas/metadata/v1.0/Object/{oid}", "/u-route/baas/metadata/v1.0/object/{oid}"],
        metadata::update_object,
    ));
    v.extend(spellings(
        "astrozero.metadata.object.delete",
        Method::DELETE,
        &["/u-route/baas/metadata/v1.0/Object/{oid}", "/u-route/baas/metadata/v1.0/object/{oid}"],
        metadata::delete_object,
    ));
    v.extend(spellings(
        "astrozero.metadata.field.create",
        Method::POST,
        &[
            "/u-route/baas/metadata/v1.0/Object/{oid}/Field",
            "/u-route/baas/metadata/v1.0/object/{oid}/Field",
            "/u-route/baas/metadata/v1.0/object/{oid}/fields",
            "/u-route/baas/metadata/v1.0/Object/{oid}/fields",
        ],
        metadata::add_fields,
    ));
    v.extend(spellings(
        "astrozero.metadata.field.list",
        Method::GET,
        &[
            "/u-route/baas/metadata/v1.0/Object/{oid}/Field",
            "/u-route/baas/metadata/v1.0/object/{oid}/Field",
            "/u-route/baas/metadata/v1.0/object/{oid}/fields",
        ],
        metadata::list_fields,
    ));
    v.extend(spellings(
        "astrozero.metadata.field.get",
        Method::GET,
        &["/u-route/baas/metadata/v1.0/Object/{oid}/Field/{fid}", "/u-route/baas/metadata/v1.0/object/{oid}/Field/{fid}"],
        metadata::get_field,
    ));
    v.extend(spellings(
        "astrozero.metadata.field.update",
        Method::PUT,
        &["/u-route/baas/metadata/v1.0/Object/{oid}/Field/{fid}", "/u-route/baas/metadata/v1.0/object/{oid}/Field/{fid}"],
        metadata::update_field,
    ));
    v.extend(spellings(
        "astrozero.metadata.field.delete",
        Method::DELETE,
        &["/u-route/baas/metadata/v1.0/Object/{oid}/Field/{fid}", "/u-route/baas/metadata/v1.0/object/{oid}/Field/{fid}"],
        metadata::delete_field,
    ));
    v.extend(runtime_routes());
    for method in [Method::GET, Method::POST, Method::PUT, Method::DELETE, Method::PATCH] {
        v.extend(SERVICE_PATHS.iter().map(|p| Route::calling("astrozero.service", PLATFORM, method.clone(), p, service)));
    }
    v
}

const PICKLISTS: &[&str] = &["/u-route/baas/metadata/v1.0/Picklist", "/u-route/baas/metadata/v1.0/picklist"];
const PICKLIST: &[&str] = &["/u-route/baas/metadata/v1.0/Picklist/{pid}", "/u-route/baas/metadata/v1.0/picklist/{pid}"];
const FLOW_DEFS: &[&str] = &["/u-route/baas/metadata/v1.0/Flow", "/u-route/baas/metadata/v1.0/flow"];
const FLOW_DEF: &[&str] = &["/u-route/baas/metadata/v1.0/Flow/{fid}", "/u-route/baas/metadata/v1.0/flow/{fid}"];
const BP_DEFS: &str = "/u-route/baas/bp/v2.0/metadata/definitions";
const BP_DEF: &str = "/u-route/baas/bp/v2.0/metadata/definitions/{bid}";

/// A connector file route: `/u-route/baas/sys/v1.1/connectors/{type}/{name}/{op}`.
macro_rules! connector {
    ($op:literal) => {
        concat!("/u-route/baas/sys/v1.1/connectors/{ctype}/{cname}/", $op)
    };
}

/// Picklists, Flows, scripts, BPM, import/export and connector files.
fn runtime_routes() -> Vec<Route> {
    let mut v = Vec::new();
    v.extend(spellings("astrozero.metadata.picklist.list", Method::GET, PICKLISTS, picklists::list));
    v.extend(spellings("astrozero.metadata.picklist.create", Method::POST, PICKLISTS, picklists::create));
    v.extend(spellings("astrozero.metadata.picklist.get", Method::GET, PICKLIST, picklists::get));
    v.extend(spellings("astrozero.metadata.picklist.add_values", Method::POST, PICKLIST, picklists::add_values));
    v.extend(spellings("astrozero.metadata.picklist.update", Method::PUT, PICKLIST, picklists::update));
    v.extend(spellings("astrozero.metadata.picklist.delete", Method::DELETE, PICKLIST, picklists::delete));
    v.extend(spellings("astrozero.flow.definition.list", Method::GET, FLOW_DEFS, flows::list_defs));
    v.extend(spellings("astrozero.flow.definition.create", Method::POST, FLOW_DEFS, flows::create_def));
    v.extend(spellings("astrozero.flow.definition.get", Method::GET, FLOW_DEF, flows::get_def));
    v.extend(spellings("astrozero.flow.definition.update", Method::PUT, FLOW_DEF, flows::update_def));
    v.extend(spellings("astrozero.flow.definition.delete", Method::DELETE, FLOW_DEF, flows::delete_def));
    v.extend([
        calling("astrozero.flow.act", "/u-route/baas/v1.0/flow/{action}/{target}", flows::act),
        r("astrozero.flow.instances", Method::GET, "/u-route/baas/v1.0/flow/{action}", flows::query),
        calling("astrozero.script.run", "/u-route/baas/script/v1.0/run/{name}", scripts::run),
        r("astrozero.csrf.get", Method::GET, "/u-route/baas/sys/v1.0/csrf/get", csrf),
        r("astrozero.csrf.get", Method::POST, "/u-route/baas/sys/v1.0/csrf/get", csrf),
        calling("astrozero.script.debug", "/u-route/baas/script/v1.0/debug/{name}", scripts::debug),
        r("astrozero.script.signature", Method::GET, "/u-route/baas/script/v1.0/signature/{name}", scripts::signature),
        r("astrozero.script.declaration", Method::GET, "/u-route/baas/script/v1.0/declaration", scripts::declaration),
        r("astrozero.formula.functions", Method::GET, "/u-route/baas/formula/v1.0/functions", |call: &Call| {
            Ok(crate::core::formula::catalogue(call.world.locale == crate::Locale::En))
        }),
        r("astrozero.bpm.definition.list", Method::GET, BP_DEFS, bpm::list_defs),
        r("astrozero.bpm.definition.create", Method::POST, BP_DEFS, bpm::create_def),
        r("astrozero.bpm.definition.get", Method::GET, BP_DEF, bpm::get_def),
        r("astrozero.bpm.definition.update", Method::PUT, BP_DEF, bpm::update_def),
        r("astrozero.bpm.definition.delete", Method::DELETE, BP_DEF, bpm::delete_def),
        r("astrozero.bpm.instance.start", Method::POST, "/u-route/baas/bp/v2.0/runtime/instances", bpm::start),
        r("astrozero.bpm.instance.list", Method::GET, "/u-route/baas/bp/v2.0/runtime/instances", bpm::list),
        r("astrozero.bpm.instance.get", Method::GET, "/u-route/baas/bp/v2.0/runtime/instances/{iid}", bpm::get),
        r("astrozero.bpm.instance.control", Method::PUT, "/u-route/baas/bp/v2.0/runtime/instances/{iid}", bpm::control),
        rr("astrozero.bpm.instance.delete", Method::DELETE, "/u-route/baas/bp/v2.0/runtime/instances/{iid}", bpm::delete),
        rr("astrozero.bpm.instance.variables", Method::PUT, "/u-route/baas/bp/v2.0/runtime/instances/{iid}/variables", bpm::set_variables),
        r("astrozero.bpm.task.list", Method::GET, "/u-route/baas/bp/v2.0/query/tasks", bpm::tasks),
        r("astrozero.bpm.task.act", Method::PUT, "/u-route/baas/bp/v2.0/runtime/tasks/{tid}", bpm::act_on_task),
        r("astrozero.bulk.export.data", Method::POST, "/u-route/baas/bulk/v1.0/export/data", bulk::export_data),
        r("astrozero.bulk.import.data", Method::POST, "/u-route/baas/bulk/v1.0/import/data", bulk::import_data).uploads(),
        r("astrozero.bulk.export.schema", Method::POST, "/u-route/baas/bulk/v1.0/export/schema", bulk::export_schema),
        r("astrozero.bulk.import.schema", Method::POST, "/u-route/baas/bulk/v1.0/import/schema", bulk::import_schema).uploads(),
        rr("astrozero.bulk.template.import", Method::POST, "/u-route/baas/bulk/v1.0/template/xlsx", templates::import).uploads(),
        rr("astrozero.bulk.template.download", Method::GET, "/u-route/baas/bulk/v1.0/template/xlsx", templates::download),
    ]);
    v.extend([
        r("astrozero.connector.put", Method::POST, connector!("putobject"), connectors::put).uploads(),
        rr("astrozero.connector.view", Method::GET, connector!("viewobject"), connectors::view),
        rr("astrozero.connector.delete", Method::DELETE, connector!("delobject"), connectors::delete),
        rr("astrozero.connector.delete_dir", Method::DELETE, connector!("deldir"), connectors::delete_dir),
        r("astrozero.connector.list", Method::GET, connector!("listdir"), connectors::list),
        r("astrozero.connector.multipart.init", Method::POST, connector!("createmultipartupload"), connectors::init_multipart),
        r("astrozero.connector.multipart.part", Method::POST, connector!("uploadpart"), connectors::upload_part).uploads(),
        r("astrozero.connector.multipart.complete", Method::POST, connector!("completeupload"), connectors::complete_multipart),
        rr("astrozero.connector.multipart.abort", Method::POST, connector!("abortupload"), connectors::abort_multipart),
        r("astrozero.connector.endpoint", Method::GET, connector!("getendpoint"), connectors::endpoint),
        r("astrozero.connector.share", Method::POST, connector!("sharetoken"), connectors::share),
        Route::new(
            "astrozero.connector.view_shared",
            PLATFORM,
            Method::GET,
            "/u-route/baas/sys/v1.1/objectstorage/viewshareobject",
            connectors::view_shared,
        ),
    ]);
    v
}

/// The platform in the registry.
pub struct AstroZero;

impl Platform for AstroZero {
    const NAME: &'static str = PLATFORM;
    const PREFIXES: &'static [&'static str] = &["/u-route/", "/baas/", "/service/"];
    const SECRET_FIELDS: &'static [&'static str] = &["client_secret", "access_token", "password"];
    const SECRET_HEADERS: &'static [&'static str] = &["access-token", "authorization"];
    const DIFF_VALUE_FIELDS: &'static [&'static str] = &["resCode", "resMsg"];
    type Section = scenario::AzSection;
    type State = State;

    const DELIVERY_EVENTS: &'static [&'static str] = &[service_tasks::EVENT, program::REST_EVENT];

    /// As a person in the app: a record created, edited or deleted (`create` with `object` and
    /// `values`, `update` with `object`, `id` and `values`, `delete` with `object` and `id`), with the
    /// data API's checks; or a BPM user task acted on — `approve`, `reject`, `complete` or `transfer`
    /// (`task`, `comment`, `variables`, `assignee` for a transfer) — as `PUT /runtime/tasks/{id}` does.
    fn act(world: &std::sync::Arc<crate::world::World>, request: &Map<String, Value>) -> super::ActResult {
        let st = world.platforms.astrozero.as_ref().ok_or((400, "astrozero is not configured in this scenario".to_owned()))?;
        let refused = |e: AzError| {
            let rendered = e.render(world.locale);
            (rendered.status, format!("astrozero refused the action: {}", String::from_utf8_lossy(&rendered.body.to_bytes())))
        };
        let action = request.get("action").and_then(Value::as_str).unwrap_or("");
        if matches!(action, "create" | "update" | "delete") {
            let (user, _) = super::act_parts(world, request, &["action"])?;
            let name = request.get("object").and_then(Value::as_str).ok_or((400, "object: expected an object name".to_owned()))?;
            catch_up(world, st);
            let obj = st.object(name).ok_or((404, format!("object: no object {name:?}")))?;
            let values = request.get("values").and_then(Value::as_object).cloned().unwrap_or_default();
            let id = request.get("id").and_then(Value::as_str);
            let req = crate::http::Request::internal(Method::POST, format!("/u-route/baas/data/v1.0/bobject/{name}"), Vec::new());
            let call = Call { world, st, req: &req, user: user.to_owned(), body: Map::new() };
            return match (action, id) {
                ("create", _) => data::insert_one(&call, &obj, &values).map(|id| json!({ "id": id })).map_err(refused),
                (_, None) => Err((400, "id: expected the record's id".to_owned())),
                ("update", Some(id)) => match data::update_fields(&call, &obj, id, &values).map_err(refused)? {
                    true => Ok(json!({ "id": id })),
                    false => Err((404, format!("id: no record {id:?} in {name}"))),
                },
                (_, Some(id)) => match data::writable(&obj).map_err(refused).map(|_| obj.records.remove(id))? {
                    Some(_) => Ok(json!({ "id": id })),
                    None => Err((404, format!("id: no record {id:?} in {name}"))),
                },
            };
        }
        let (user, body) = super::act_parts(world, request, &["task"])?;
        let task = request.get("task").and_then(Value::as_str).ok_or((400, "task: expected the id of a BPM task".to_owned()))?;
        let req = crate::http::Request::internal(
            Method::PUT,
            format!("/u-route/baas/bp/v2.0/runtime/tasks/{task}"),
            vec![("tid", task.to_owned())],
        );
        catch_up(world, st);
        let call = Call { world, st, req: &req, user: user.to_owned(), body };
        bpm::act_on_task(&call).map_err(refused)
    }

    super::browse_with!(browse);
    super::tenant_with!(tenant);

    fn routes() -> Vec<Route> {
        routes()
    }
    fn render_error(name: &str, locale: Locale, _path: &str) -> Option<Response> {
        errors::render_named(name, locale)
    }
    fn error_names() -> Vec<String> {
        errors::error_names()
    }
    fn validate(scenario: &mut Scenario, cx: &ValidateCx, diags: &mut Vec<Diag>) {
        scenario::validate(scenario, cx.directory, diags)
    }
    /// Seeded connector files go into the world's blob store, so state export carries them.
    fn build(scenario: &Scenario, cx: &BuildCx) -> Option<State> {
        let st = scenario::build_state(scenario, cx.directory, cx.now)?;
        connectors::seed(&st, cx.files, cx.now);
        Some(st)
    }
    fn export(state: &State) -> Value {
        snapshot::export(state)
    }
    fn import(state: &mut State, snapshot: Value) -> Result<(), StateError> {
        snapshot::import(state, snapshot)
    }
    fn summary(_scenario: &Scenario, a: &Self::Section) -> String {
        let records: usize = a.objects.iter().map(|o| o.records.len()).sum();
        format!(
            "{} objects, {records} records, {} flows, {} scripts, {} processes, {} connectors",
            a.objects.len(),
            a.flows.len(),
            a.scripts.len(),
            a.processes.len(),
            a.connectors.len()
        )
    }
    fn banner(a: &Self::Section) -> Vec<String> {
        let Some(c) = a.clients.first() else { return Vec::new() };
        let mut lines = vec![
            format!("astrozero: client id: {}  client secret: {}", c.client_id, c.client_secret),
            format!(
                "  try: curl -s {{BASE}}/baas/auth/v1.0/oauth2/token -d 'grant_type=client_credentials&client_id={}&client_secret={}'",
                c.client_id, c.client_secret
            ),
        ];
        if let Some(f) = a.flows.iter().find(|f| !f.private) {
            lines.push(format!(
                "  then: curl -s -X POST {{BASE}}/u-route/baas/v1.0/flow/run/{} -H 'access-token: <token>' -d '{{…inputs…}}'",
                f.name
            ));
        }
        lines
    }
}
