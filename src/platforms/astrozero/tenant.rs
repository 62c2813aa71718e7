//! Astro Zero meets a live tenant: `import` reads custom objects, their fields and the picklists they
//! use through the metadata API (OAuth client credentials), and a sample of records through the data
//! API; `diff` replays with a token this emulator issued.
//!
//! `--apps` filters objects by name (or by namespace prefix). Not exported, so noted: standard objects
//! (built in here), Flows, scripts, BPMs and connectors (their definitions are not readable through the
//! REST API), and records' owners and system fields (they become the scenario's default user's).

use std::collections::HashMap;

use reqwest::Method;
use serde_json::{json, Map, Value};

use crate::tools::import::{pages, Body, ImportCx, Imported};
use crate::tools::recording::Replay;
use crate::world::World;

pub fn is_rate_limited(status: u16, body: &Value) -> bool {
    status == 429 || body.get("resCode").and_then(Value::as_str).is_some_and(|c| c.starts_with("429"))
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or_default()
}

fn result(v: Value) -> Vec<Value> {
    v.get("result").and_then(Value::as_array).cloned().unwrap_or_default()
}

/// Field types whose values a scenario can hold as they are read.
const PLAIN: &[&str] = &["number", "percent", "currency", "date", "datetime", "checkbox", "singleselect", "multiselect", "url"];

pub fn read_tenant(cx: &mut ImportCx) -> Result<Imported, String> {
    let (id, secret) = (cx.credential("client-id")?, cx.credential("client-secret")?);
    cx.step("access token");
    let form = vec![
        ("grant_type".to_owned(), "client_credentials".to_owned()),
        ("client_id".to_owned(), id.clone()),
        ("client_secret".to_owned(), secret.clone()),
    ];
    let answer = cx.call_ok(Method::POST, "/baas/auth/v1.0/oauth2/token", &[], &[], Body::Form(form))?;
    let token = answer
        .get("access_token")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("the token endpoint gave no access_token: {answer}"))?
        .to_owned();
    let auth = vec![("access-token", token)];
    cx.step("picklists");
    let picklists = result(cx.call_ok(Method::GET, "/u-route/baas/metadata/v1.0/Picklist", &[], &auth, Body::None)?);
    let picklist_names: HashMap<String, String> = picklists.iter().map(|p| (s(p, "id").to_owned(), s(p, "name").to_owned())).collect();
    cx.step("objects");
    let objects = result(cx.call_ok(Method::GET, "/u-route/baas/metadata/v1.0/Object", &[], &auth, Body::None)?);
    let wanted = |cx: &ImportCx, name: &str| {
        cx.options.apps.is_empty() || cx.options.apps.iter().any(|a| name == a || name.starts_with(&format!("{a}__")))
    };
    let custom: Vec<&Value> = objects.iter().filter(|o| s(o, "name").ends_with("__CST") && wanted(cx, s(o, "name"))).collect();
    if objects.iter().any(|o| !s(o, "name").ends_with("__CST")) {
        cx.note("standard objects (User …) are built into the emulator and not imported");
    }
    let mut used_picklists: Vec<String> = Vec::new();
    let mut out_objects = Vec::new();
    let mut records = 0;
    for o in &custom {
        let name = s(o, "name").to_owned();
        cx.step(format!("fields of {name}"));
        let fields =
            result(cx.call_ok(Method::GET, &format!("/u-route/baas/metadata/v1.0/Object/{}/Field", s(o, "id")), &[], &auth, Body::None)?);
        let mut types: HashMap<String, String> = HashMap::new();
        let defs: Vec<Value> = fields
            .iter()
            .map(|f| {
                types.insert(s(f, "name").to_owned(), s(f, "dataType").to_ascii_lowercase());
                let mut d = json!({ "name": s(f, "name"), "label": s(f, "label"), "type": s(f, "dataType") });
                if f["isRequired"].as_bool() == Some(true) {
                    d["required"] = json!(true);
                }
                if f["isUnique"].as_bool() == Some(true) {
                    d["unique"] = json!(true);
                }
                match f.get("picklist").and_then(Value::as_str).and_then(|p| picklist_names.get(p)) {
                    Some(p) => {
                        used_picklists.push(p.clone());
                        d["picklist"] = json!(p);
                    }
                    None => {
                        if let Some(values) = f["picklistValues"].as_array().filter(|v| !v.is_empty()) {
                            d["options"] = json!(values);
                        }
                    }
                }
                d
            })
            .collect();
        let mut obj = json!({ "name": name, "label": s(o, "label"), "fields": defs });
        if cx.options.records > 0 {
            cx.step(format!("records of {name}"));
            let cap = cx.options.records;
            let size = cap.min(100);
            let sample = pages(cap, size, |n| {
                let body = json!({ "options": { "limit": size, "skip": n * size } });
                Ok(result(cx.call_ok(Method::POST, &format!("/u-route/baas/data/v1.0/query/{name}"), &[], &auth, Body::Json(body))?))
            })?;
            let seeded: Vec<Value> = sample.iter().map(|r| seed_record(cx, r, &types)).collect();
            records += seeded.len();
            obj["records"] = Value::Array(seeded);
        }
        out_objects.push(obj);
    }
    let out_picklists: Vec<Value> = picklists
        .iter()
        .filter(|p| used_picklists.iter().any(|u| u == s(p, "name")))
        .map(|p| {
            let values: Vec<&str> = p["picklistValues"].as_array().into_iter().flatten().map(|v| s(v, "value")).collect();
            json!({ "name": s(p, "name"), "label": s(p, "masterLabel"), "description": s(p, "description"), "values": values })
        })
        .collect();
    cx.note("Flows, scripts, BPMs, connectors and custom APIs (their definitions cannot be read through the REST API)");
    let namespace = custom.iter().find_map(|o| s(o, "name").split_once("__").map(|(ns, _)| ns.to_owned()));
    let secret = cx.scenario_secret(&secret, "imported-client-secret", "the OAuth client secret");
    let mut section =
        json!({ "clients": [{ "client_id": id, "client_secret": secret }], "picklists": out_picklists, "objects": out_objects });
    if let Some(ns) = namespace {
        section["namespace"] = json!(ns);
    }
    Ok(Imported {
        section,
        flows: Vec::new(),
        counts: vec![("objects", custom.len()), ("picklists", used_picklists.len()), ("records", records)],
    })
}

/// A queried record as a scenario record: `name` and the object's own fields.
fn seed_record(cx: &mut ImportCx, r: &Value, types: &HashMap<String, String>) -> Value {
    let mut out = Map::new();
    if let Some(name) = r.get("name").and_then(Value::as_str) {
        out.insert("name".into(), json!(cx.text(name)));
    }
    for (k, v) in r.as_object().into_iter().flatten() {
        let Some(kind) = types.get(k) else { continue };
        if v.is_null() {
            continue;
        }
        let value = match kind.as_str() {
            "text" | "textarea" | "encryptedtext" | "email" => v.as_str().map(|t| json!(cx.text(t))),
            "phone" => v.as_str().map(|t| json!(cx.phone(t))),
            k if PLAIN.contains(&k) => Some(v.clone()),
            _ => {
                cx.note("lookup and master-detail values (ids of the tenant's other records) are left out of records");
                None
            }
        };
        if let Some(v) = value {
            out.insert(k.clone(), v);
        }
    }
    Value::Object(out)
}

/// Fills a replayed request's redacted `access-token` with one this emulator issued for its first
/// client (once per replay), and a token request's `client_secret` with that client's.
pub fn replay_auth(world: &World, r: &mut Replay, memo: &mut HashMap<String, String>) {
    let Some(st) = world.platforms.astrozero.as_ref() else { return };
    let given = r.param("client_id");
    let Some(client) = given.as_deref().and_then(|id| st.clients.get(id)).or_else(|| st.clients.values().next()) else { return };
    r.fill("client_secret", &client.secret);
    let needs_token = ["access-token", "authorization"].iter().any(|h| r.header(h).is_some_and(crate::tools::recording::is_redacted));
    if needs_token {
        let token =
            memo.entry("astrozero.access_token".into()).or_insert_with(|| super::issue_token(st, world, client.user.clone())).clone();
        r.fill_header("access-token", &token);
        r.fill_header("authorization", &format!("Bearer {token}"));
    }
}
