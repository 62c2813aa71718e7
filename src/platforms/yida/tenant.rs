//! Yida meets a live tenant through the DingTalk Open API: `import` reads apps, forms and their
//! component definitions (options and English labels included) and a sample of form data; `diff`
//! replays with an access token and system tokens this emulator issued.
//!
//! Not exported by any API, so noted in the scenario: process codes and approval flows (a process form
//! gets a placeholder code and a one-step placeholder flow), people's names beyond the originators of
//! sampled records, and files, departments, associations and serial numbers inside records.

use std::collections::HashMap;

use reqwest::Method;
use serde_json::{json, Map, Value};

use crate::tools::import::{pages, Body, ImportCx, Imported};
use crate::tools::recording::Replay;
use crate::world::World;

/// `TIANSHU_000061` in the in-app envelope, HTTP 429 or a throttling code on the Open API.
pub fn is_rate_limited(status: u16, body: &Value) -> bool {
    let code = |k: &str| body.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
    status == 429
        || code("errorCode") == "TIANSHU_000061"
        || code("code") == "TIANSHU_000061"
        || code("code").contains("Throttling")
        || code("code").contains("QpsLimit")
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// The system token of an app from `--system-token` (`APP=TOKEN` entries, or one bare token for all).
fn system_token(given: &str, app: &str) -> Option<String> {
    let entries: Vec<&str> = given.split(',').map(str::trim).filter(|e| !e.is_empty()).collect();
    entries
        .iter()
        .find_map(|e| e.split_once('=').filter(|(a, _)| *a == app).map(|(_, t)| t.to_owned()))
        .or_else(|| entries.iter().find(|e| !e.contains('=')).map(|t| (*t).to_owned()))
}

pub fn read_tenant(cx: &mut ImportCx) -> Result<Imported, String> {
    let (app_key, app_secret) = (cx.credential("app-key")?, cx.credential("app-secret")?);
    let user = cx.credential("user-id")?;
    let tokens = cx.credential("system-token")?;
    let corp = cx.options.credentials.get("corp-id").cloned();
    if corp.is_none() && cx.options.apps.is_empty() {
        return Err("import yida needs --apps APP_TYPE,… (or --corp-id to list the organisation's apps)".into());
    }
    cx.step("access token");
    let answer =
        cx.call_ok(Method::POST, "/v1.0/oauth2/accessToken", &[], &[], Body::Json(json!({ "appKey": app_key, "appSecret": app_secret })))?;
    let token = answer
        .get("accessToken")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("POST /v1.0/oauth2/accessToken gave no accessToken: {answer}"))?
        .to_owned();
    let auth = vec![("x-acs-dingtalk-access-token", token)];
    let mut apps: Vec<(String, String)> = Vec::new();
    match corp {
        Some(corp) => {
            cx.step("apps");
            let listed = pages(usize::MAX, 100, |n| {
                let q =
                    [("corpId", corp.clone()), ("userId", user.clone()), ("pageNumber", (n + 1).to_string()), ("pageSize", "100".into())];
                let v = cx.call_ok(Method::GET, "/v1.0/yida/organizations/applications", &q, &auth, Body::None)?;
                Ok(v.get("data").and_then(Value::as_array).cloned().unwrap_or_default())
            })?;
            apps.extend(listed.iter().map(|a| (s(a, "appType").to_owned(), s(a, "name").to_owned())).filter(|(t, n)| cx.wants_app(t, n)));
        }
        None => apps.extend(cx.options.apps.iter().map(|a| (a.clone(), a.clone()))),
    }
    let mut out_apps = Vec::new();
    let mut flows = Vec::new();
    let (mut forms_read, mut records) = (0, 0);
    for (app_type, app_name) in &apps {
        let st = system_token(&tokens, app_type).ok_or_else(|| format!("--system-token has none for {app_type} (give APP_TYPE=TOKEN)"))?;
        let base = [("appType", app_type.clone()), ("systemToken", st.clone()), ("userId", user.clone())];
        cx.step(format!("forms of {app_name}"));
        let forms = pages(usize::MAX, 100, |n| {
            let mut q = base.to_vec();
            q.extend([("pageNumber", (n + 1).to_string()), ("pageSize", "100".to_owned())]);
            let v = cx.call_ok(Method::GET, "/v1.0/yida/forms", &q, &auth, Body::None)?;
            Ok(v["result"]["data"].as_array().cloned().unwrap_or_default())
        })?;
        let mut out_forms = Vec::new();
        for f in &forms {
            let uuid = s(f, "formUuid").to_owned();
            let name = f["title"]["zhCN"].as_str().unwrap_or(&uuid).to_owned();
            cx.step(format!("components of {name}"));
            let mut q = base.to_vec();
            q.push(("formUuid", uuid.clone()));
            let defs = cx.call_ok(Method::GET, "/v1.0/yida/forms/formFields", &q, &auth, Body::None)?;
            let defs = defs.get("result").and_then(Value::as_array).cloned().unwrap_or_default();
            let components: Vec<Value> = defs.iter().map(component_def).collect();
            let mut form = json!({ "form_uuid": uuid, "name": name, "components": components });
            if s(f, "formType") == "process" {
                let flow_id = format!("yida-{}", uuid.trim_start_matches("FORM-"));
                flows.push(cx.placeholder_flow(&flow_id, &name));
                form["process_code"] = json!(format!("TPROC--{}", uuid.trim_start_matches("FORM-")));
                form["flow"] = json!(flow_id);
                cx.note("process codes (no API lists them): each process form gets TPROC--<its form id>");
            }
            if cx.options.records > 0 {
                cx.step(format!("records of {name}"));
                let cap = cx.options.records;
                let sample = pages(cap, cap.min(100), |n| {
                    let mut body: Map<String, Value> = base.iter().map(|(k, v)| ((*k).to_owned(), json!(v))).collect();
                    body.insert("formUuid".into(), json!(uuid));
                    body.insert("pageNumber".into(), json!(n + 1));
                    body.insert("pageSize".into(), json!(cap.min(100)));
                    let v = cx.call_ok(Method::POST, "/v1.0/yida/forms/instances/search", &[], &auth, Body::Json(Value::Object(body)))?;
                    Ok(v.get("data").and_then(Value::as_array).cloned().unwrap_or_default())
                })?;
                let kinds: HashMap<String, &Value> = defs.iter().map(|d| (s(d, "fieldId").to_owned(), d)).collect();
                // Searches answer newest first; a scenario seeds in creation order.
                let seeded: Vec<Value> = sample.iter().rev().map(|r| seed_record(cx, r, &kinds)).collect();
                records += seeded.len();
                form["records"] = Value::Array(seeded);
            }
            forms_read += 1;
            out_forms.push(form);
        }
        let st = cx.scenario_secret(&st, "imported-system-token", "each app's system token");
        out_apps.push(json!({ "app_type": app_type, "name": app_name, "system_token": st, "forms": out_forms }));
    }
    let default_user = cx.user(&user, None, &[]);
    let key = cx.scenario_secret(&app_key, "imported-app-key", "the DingTalk app key and secret");
    let secret = if cx.options.include_keys { app_secret } else { "imported-app-secret".to_owned() };
    Ok(Imported {
        section: json!({ "default_user": default_user, "app_keys": [{ "app_key": key, "app_secret": secret }], "apps": out_apps }),
        flows,
        counts: vec![("apps", apps.len()), ("forms", forms_read), ("records", records)],
    })
}

fn i18n(label: &Value, lang: &str) -> Option<String> {
    match label {
        Value::String(s) => serde_json::from_str::<Value>(s)
            .ok()
            .and_then(|v| v.get(lang).and_then(Value::as_str).map(str::to_owned))
            .or_else(|| Some(s.clone())),
        Value::Object(o) => o.get(lang).and_then(Value::as_str).map(str::to_owned),
        _ => None,
    }
}

/// A `components` entry from one of `formFields`'s: id, label, type, required, options (with their
/// English labels where they differ) and a table's columns.
fn component_def(d: &Value) -> Value {
    let props = &d["props"];
    let mut c = json!({
        "id": s(d, "fieldId"),
        "label": i18n(&d["label"], "zh_CN").unwrap_or_default(),
        "type": s(d, "componentName"),
    });
    if props["required"].as_bool() == Some(true) {
        c["required"] = json!(true);
    }
    if let Some(options) = props["dataSource"].as_array().filter(|o| !o.is_empty()) {
        let values: Vec<String> = options.iter().filter_map(|o| o.get("value").and_then(Value::as_str).map(str::to_owned)).collect();
        let english: Map<String, Value> = options
            .iter()
            .filter_map(|o| {
                let v = o.get("value").and_then(Value::as_str)?;
                let en = i18n(&o["text"], "en_US")?;
                (en != v).then(|| (v.to_owned(), json!(en)))
            })
            .collect();
        c["options"] = json!(values);
        if !english.is_empty() {
            c["options_en"] = Value::Object(english);
        }
    }
    let children = match &d["children"] {
        Value::String(text) => serde_json::from_str::<Value>(text).unwrap_or(Value::Null),
        other => other.clone(),
    };
    if let Some(items) = children.as_array().filter(|i| !i.is_empty()) {
        c["items"] = Value::Array(items.iter().map(component_def).collect());
    }
    c
}

/// A searched instance as a scenario record: its `formData` by component, people registered.
fn seed_record(cx: &mut ImportCx, r: &Value, kinds: &HashMap<String, &Value>) -> Value {
    if let (Some(id), Some(name)) = (r["originator"]["userId"].as_str(), r["originator"]["userName"]["nameInChinese"].as_str()) {
        cx.user(id, Some(name), &[]);
    }
    let mut out = Map::new();
    for (k, v) in r["formData"].as_object().into_iter().flatten() {
        if let Some(def) = kinds.get(k) {
            if let Some(v) = value(cx, def, v) {
                out.insert(k.clone(), v);
            }
        }
    }
    Value::Object(out)
}

fn value(cx: &mut ImportCx, def: &Value, v: &Value) -> Option<Value> {
    if v.is_null() {
        return None;
    }
    Some(match s(def, "componentName") {
        "TextField" | "TextareaField" => json!(cx.text(v.as_str()?)),
        "EmployeeField" => {
            let ids: Vec<String> = match v {
                Value::Array(a) => a.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect(),
                Value::String(s) => vec![s.clone()],
                _ => return None,
            };
            json!(ids.iter().map(|id| cx.user(id, None, &[])).collect::<Vec<_>>())
        }
        "TableField" => {
            let columns: HashMap<String, Value> = match &def["children"] {
                Value::String(text) => serde_json::from_str::<Vec<Value>>(text).unwrap_or_default(),
                other => other.as_array().cloned().unwrap_or_default(),
            }
            .into_iter()
            .map(|c| (s(&c, "fieldId").to_owned(), c))
            .collect();
            let rows = v.as_array()?.iter().map(|row| {
                let cells = row.as_object().into_iter().flatten();
                Value::Object(cells.filter_map(|(k, x)| Some((k.clone(), value(cx, columns.get(k)?, x)?))).collect())
            });
            Value::Array(rows.collect())
        }
        "ImageField" | "AttachmentField" | "DigitalSignatureField" => {
            cx.note("files in image, attachment and signature components (links into the tenant's storage) are left out of records");
            return None;
        }
        "DepartmentSelectField" | "AssociationFormField" | "LinkField" | "SerialNumberField" => {
            cx.note(
                "department, association, link and serial-number values are left out of records (no directory or other form to point at)",
            );
            return None;
        }
        _ => v.clone(),
    })
}

/// Fills a replayed request's redacted access token with one this emulator issued (once per replay),
/// `appKey`/`appSecret` with the scenario's first app key, and `systemToken` with the app's own.
pub fn replay_auth(world: &World, r: &mut Replay, memo: &mut HashMap<String, String>) {
    let Some(st) = world.platforms.yida.as_ref() else { return };
    if let Some((key, secret)) = st.app_keys.iter().next() {
        r.fill("appKey", key);
        r.fill("appSecret", secret);
    }
    if r.header("x-acs-dingtalk-access-token").is_some_and(crate::tools::recording::is_redacted) {
        let token = memo.entry("yida.access_token".into()).or_insert_with(|| super::openapi::issue_token(st, world)).clone();
        r.fill_header("x-acs-dingtalk-access-token", &token);
    }
    let app = r.param("appType").or_else(|| r.path.split('/').find(|seg| seg.starts_with("APP_")).map(str::to_owned));
    if let Some(t) = app.and_then(|a| st.system_tokens.get(&a)) {
        r.fill("systemToken", t);
    }
}
