//! Custom APIs (自定义接口, "open" APIs): how Astro Zero apps expose their own REST endpoints.
//!
//! Each is defined in the scenario — `[[astrozero.apis]]` with a URL `/service/{namespace}__{app}/
//! {version}{path}`, a method, and what it runs: a script, a Flow, or an object operation. A call
//! authenticates like every runtime API (`access-token` header or cookie) unless the API allows
//! anonymous access, checks the CSRF token when the API asks for it (`csrf-token`, from
//! `/u-route/baas/sys/v1.0/csrf/get`), takes its input from the JSON body (the query string for GET
//! and DELETE), and answers the platform's envelope around what ran: a script's output, a Flow's
//! outputs, the object operation's record(s).

use serde::Deserialize;
use serde_json::{json, Map, Value};
use sha1::{Digest, Sha1};

use super::errors::AzError;
use super::program::Progress;
use super::{data, flows, scripts, Call};

/// What a custom API runs on an object.
pub const OPERATIONS: &[&str] = &["insert", "query_by_id", "update_by_id", "delete_by_id", "query"];

/// The methods a custom API may use.
pub const METHODS: &[&str] = &["GET", "POST", "PUT", "DELETE", "PATCH"];

/// Segments a custom path may have (the routes are registered for each length).
pub const MAX_PATH_SEGMENTS: usize = 6;

/// One custom API from the scenario.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiDef {
    /// The operation name (at most 40 characters).
    pub name: String,
    pub label: Option<String>,
    /// The app in the URL: `/service/{namespace}__{app}/…`.
    pub app: String,
    /// `x.y.z` (default `1.0.0`).
    pub version: Option<String>,
    /// The custom path: one leading `/`, no empty segments (`/queryEquipments`, `/orders/list`).
    pub path: String,
    /// `GET`, `POST` (default), `PUT`, `DELETE` or `PATCH`.
    pub method: Option<String>,
    /// Runs this scenario script with the input; answers its output.
    pub script: Option<String>,
    /// Runs this Flow (`run`) with the input; answers its outputs.
    pub flow: Option<String>,
    /// Runs an operation on an object: `{ name, operation }`, operation one of `insert`,
    /// `query_by_id`, `update_by_id`, `delete_by_id`, `query`.
    pub object: Option<ObjectOp>,
    /// Callable without a token, as the "Anonymous User Profile".
    #[serde(default)]
    pub anonymous: bool,
    /// Callers must send `csrf-token` (from `/u-route/baas/sys/v1.0/csrf/get`).
    #[serde(default)]
    pub csrf: bool,
    #[serde(skip)]
    pub origin: crate::scenario::Origin,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ObjectOp {
    pub name: String,
    pub operation: String,
}

impl ApiDef {
    pub fn version(&self) -> &str {
        self.version.as_deref().unwrap_or("1.0.0")
    }

    pub fn method(&self) -> &str {
        self.method.as_deref().unwrap_or("POST")
    }

    /// What a scenario check reports, as (key, message).
    pub fn problems(&self, object_known: &dyn Fn(&str) -> bool) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if self.name.is_empty() || self.name.chars().count() > 40 {
            out.push(("name", format!("expected 1 to 40 characters, got {:?}", self.name)));
        }
        if self.app.is_empty() || !self.app.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') || self.app.contains("__") {
            out.push(("app", format!("expected the app's name (letters, digits, single underscores), got {:?}", self.app)));
        }
        let version_ok =
            |v: &str| v.split('.').count() == 3 && v.split('.').all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
        if !version_ok(self.version()) {
            out.push(("version", format!("expected x.y.z, got {:?}", self.version())));
        }
        let segments: Vec<&str> = self.path.strip_prefix('/').map(|p| p.split('/').collect()).unwrap_or_default();
        if segments.is_empty() || segments.iter().any(|s| s.is_empty()) || segments.len() > MAX_PATH_SEGMENTS {
            out.push(("path", format!("expected one leading / and 1 to {MAX_PATH_SEGMENTS} non-empty segments, got {:?}", self.path)));
        }
        if !METHODS.contains(&self.method()) {
            out.push(("method", format!("expected one of {}, got {:?}", METHODS.join(", "), self.method())));
        }
        let targets = [self.script.is_some(), self.flow.is_some(), self.object.is_some()].iter().filter(|x| **x).count();
        if targets != 1 {
            out.push(("script", "expected exactly one of script, flow or object (what the API runs)".to_owned()));
        }
        if let Some(o) = &self.object {
            if !OPERATIONS.contains(&o.operation.as_str()) {
                out.push(("object", format!("operation: expected one of {}, got {:?}", OPERATIONS.join(", "), o.operation)));
            }
            if !object_known(&o.name) {
                out.push(("object", format!("unknown object {:?}", o.name)));
            }
        }
        out
    }
}

/// The CSRF token of an access token: what `/u-route/baas/sys/v1.0/csrf/get` answers and custom
/// APIs with `csrf` expect back in `csrf-token` (or the docs' misspelt `csfr-token`).
pub fn csrf_of(token: &str) -> String {
    format!("{:x}", Sha1::digest(format!("lowcode-emu csrf:{token}").as_bytes()))[..32].to_owned()
}

/// The API a request names: `/service/{namespace}__{app}/{version}/{path…}` and its method.
pub fn find<'a>(apis: &'a [ApiDef], namespace: &str, method: &str, path: &str) -> Result<&'a ApiDef, AzError> {
    let rest = path.strip_prefix("/service/").unwrap_or_default();
    let mut parts = rest.splitn(3, '/');
    let (service, version, custom) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let custom = format!("/{}", custom.trim_end_matches('/'));
    let matches = |a: &&ApiDef| format!("{namespace}__{}", a.app) == service && a.version() == version && a.path == custom;
    let same_path: Vec<&ApiDef> = apis.iter().filter(matches).collect();
    if same_path.is_empty() {
        return Err(AzError::not_found(format!("no custom API at {path}")));
    }
    same_path
        .into_iter()
        .find(|a| a.method() == method)
        .ok_or_else(|| AzError { name: "method_not_allowed", detail: Some(format!("{path} does not take {method}")) })
}

/// The input of a call: the JSON body, or the query string for GET and DELETE.
pub fn input(method: &str, query: Vec<(String, String)>, body: Map<String, Value>) -> Map<String, Value> {
    if method == "GET" || method == "DELETE" {
        query.into_iter().map(|(k, v)| (k, Value::String(v))).collect()
    } else {
        body
    }
}

/// Runs what `api` is bound to; the answer is the envelope's `result`.
pub fn run(call: &Call, api: &ApiDef) -> Result<Progress, AzError> {
    if let Some(name) = &api.script {
        // A script's output, without `run`'s `{value, log}` wrapping.
        return Ok(map_done(scripts::run_named(call, name)?, |v| v["value"].clone()));
    }
    if let Some(name) = &api.flow {
        let mut rt = call.st.runtime.lock();
        let progress = flows::start(call, &mut rt, name, None, false)?;
        return Ok(map_done(progress, |v| v["outputs"].clone()));
    }
    let Some(op) = &api.object else { return Err(AzError::param("the custom API runs nothing")) };
    let obj = call.st.object(&op.name).ok_or_else(|| AzError::not_found(format!("object {}", op.name)))?;
    let id = || call.body.get("id").and_then(Value::as_str).map(str::to_owned).ok_or_else(|| AzError::param("id is required"));
    let found =
        |id: &str| obj.records.get(id).map(|r| Value::Object(r.to_record())).ok_or_else(|| AzError::not_found(format!("record {id}")));
    let values: Map<String, Value> = call.body.iter().filter(|(k, _)| k.as_str() != "id").map(|(k, v)| (k.clone(), v.clone())).collect();
    let result = match op.operation.as_str() {
        "insert" => json!({ "id": data::insert_one(call, &obj, &values)? }),
        "query_by_id" => found(&id()?)?,
        "update_by_id" => {
            let id = id()?;
            if !data::update_fields(call, &obj, &id, &values)? {
                return Err(AzError::not_found(format!("record {id}")));
            }
            found(&id)?
        }
        "delete_by_id" => {
            let id = id()?;
            data::writable(&obj)?;
            obj.records.remove(&id).ok_or_else(|| AzError::not_found(format!("record {id}")))?;
            json!(1)
        }
        _ => {
            let cond = data::parse_condition(&obj, call.body.get("condition"))?;
            Value::Array(data::matching(&obj, &cond).into_iter().take(data::MAX_LIMIT).map(|r| Value::Object(r.to_record())).collect())
        }
    };
    Ok(Progress::Done(result))
}

/// Applies `f` to the final answer, after any Rest actions the run awaits.
fn map_done(progress: Progress, f: fn(&Value) -> Value) -> Progress {
    match progress {
        Progress::Done(v) => Progress::Done(f(&v)),
        Progress::Calling(paused) => {
            let super::program::Paused { message, then } = *paused;
            let then: super::program::Resume = Box::new(move |call, reply| then(call, reply).map(|p| map_done(p, f)));
            Progress::Calling(Box::new(super::program::Paused { message, then }))
        }
    }
}
