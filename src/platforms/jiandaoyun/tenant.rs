//! Jiandaoyun meets a live tenant: `import` reads apps, forms and widget lists (v5 API, Bearer key),
//! optionally records, members and departments; `diff` replays with this emulator's API key.
//!
//! Records come back in the read shape; a scenario holds the write values (a member by username, a
//! department by number), so they are converted per widget type. What the API does not give is left
//! out and noted in the scenario: widget options, required flags and serial-number formats are not in
//! the widget list; files (image, upload, signature) are links into the tenant's storage; lookup and
//! aggregation values are computed; a workflow form's flow graph has no API, so it gets a one-step
//! placeholder flow (its records keep their `flowState`).

use std::collections::HashMap;

use reqwest::Method;
use serde_json::{json, Map, Value};

use super::model::WidgetType;
use crate::tools::import::{pages, Body, ImportCx, Imported};
use crate::tools::recording::Replay;
use crate::world::World;

/// Jiandaoyun's documented frequency-limit codes (HTTP 400/429 with these codes).
pub fn is_rate_limited(status: u16, body: &Value) -> bool {
    status == 429 || matches!(body.get("code").and_then(Value::as_i64), Some(8303 | 8304))
}

struct Api {
    auth: Vec<(&'static str, String)>,
}

impl Api {
    fn post(&self, cx: &mut ImportCx, path: &str, body: Value) -> Result<Value, String> {
        let a = cx.call(Method::POST, path, &[], &self.auth, Body::Json(body))?;
        if a.status >= 400 {
            let code = a.body.get("code").map(Value::to_string).unwrap_or_default();
            let msg = a.body.get("msg").and_then(Value::as_str).unwrap_or_default();
            return Err(format!("POST {path} answered HTTP {} (code {code}: {msg})", a.status));
        }
        Ok(a.body)
    }
}

fn list(v: &Value, key: &str) -> Vec<Value> {
    v.get(key).and_then(Value::as_array).cloned().unwrap_or_default()
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or_default()
}

pub fn read_tenant(cx: &mut ImportCx) -> Result<Imported, String> {
    let key = cx.credential("api-key")?;
    let api = Api { auth: vec![("Authorization", format!("Bearer {key}"))] };
    cx.step("apps");
    let apps = pages(usize::MAX, 100, |n| Ok(list(&api.post(cx, "/api/v5/app/list", json!({ "limit": 100, "skip": n * 100 }))?, "apps")))?;
    let mut out_apps = Vec::new();
    let mut flows = Vec::new();
    let (mut forms, mut records) = (0, 0);
    let apps: Vec<Value> = apps.into_iter().filter(|a| cx.wants_app(s(a, "app_id"), s(a, "name"))).collect();
    for app in &apps {
        let app_id = s(app, "app_id").to_owned();
        cx.step(format!("forms of {}", s(app, "name")));
        let entries = pages(usize::MAX, 100, |n| {
            Ok(list(&api.post(cx, "/api/v5/app/entry/list", json!({ "app_id": app_id, "limit": 100, "skip": n * 100 }))?, "forms"))
        })?;
        let mut out_entries = Vec::new();
        for entry in &entries {
            let entry_id = s(entry, "entry_id").to_owned();
            cx.step(format!("widgets of {}", s(entry, "name")));
            let answer = api.post(cx, "/api/v5/app/entry/widget/list", json!({ "app_id": app_id, "entry_id": entry_id }))?;
            let widgets = list(&answer, "widgets");
            let workflow = list(&answer, "sysWidgets").iter().any(|w| s(w, "name") == "flowState");
            let mut e = json!({
                "entry_id": entry_id,
                "name": s(entry, "name"),
                "widgets": widgets.iter().map(widget_def).collect::<Vec<_>>(),
            });
            if workflow {
                let flow_id = format!("jdy-{entry_id}");
                flows.push(cx.placeholder_flow(&flow_id, s(entry, "name")));
                e["flow"] = json!(flow_id);
            }
            if cx.options.records > 0 {
                cx.step(format!("records of {}", s(entry, "name")));
                let mut last: Option<String> = None;
                let sample = pages(cx.options.records, 100, |_| {
                    let mut q = json!({ "app_id": app_id, "entry_id": entry_id, "limit": cx.options.records.min(100) });
                    if let Some(id) = &last {
                        q["data_id"] = json!(id);
                    }
                    let page = list(&api.post(cx, "/api/v5/app/entry/data/list", q)?, "data");
                    last = page.last().map(|r| s(r, "_id").to_owned());
                    Ok(page)
                })?;
                let types: HashMap<String, &Value> = widgets.iter().map(|w| (s(w, "name").to_owned(), w)).collect();
                let converted: Vec<Value> = sample.iter().map(|r| seed_record(cx, r, &types, workflow)).collect();
                records += converted.len();
                e["records"] = Value::Array(converted);
            }
            forms += 1;
            out_entries.push(e);
        }
        out_apps.push(json!({ "app_id": app_id, "name": s(app, "name"), "entries": out_entries }));
    }
    if cx.options.directory {
        cx.step("members and departments");
        let depts = list(&api.post(cx, "/api/v5/corp/department/list", json!({ "dept_no": 1, "has_child": true }))?, "departments");
        for d in &depts {
            let no = d.get("dept_no").and_then(Value::as_i64).unwrap_or(1);
            cx.department(no, s(d, "name"), d.get("parent_no").and_then(Value::as_i64));
        }
        let users = list(&api.post(cx, "/api/v5/corp/department/user/list", json!({ "dept_no": 1, "has_child": true }))?, "users");
        for u in &users {
            member(cx, u);
        }
    }
    let key = cx.scenario_secret(&key, "imported-jdy-key", "the API key");
    cx.note("widget options, required flags and serial-number formats (the widget list does not give them)");
    Ok(Imported {
        section: json!({ "api_keys": [key], "apps": out_apps }),
        flows,
        counts: vec![("apps", apps.len()), ("forms", forms), ("records", records)],
    })
}

/// A `widgets` entry of the scenario from one of the widget list's.
fn widget_def(w: &Value) -> Value {
    let id = w.get("widgetName").and_then(Value::as_str).unwrap_or_else(|| s(w, "name"));
    let mut d = json!({ "name": id, "label": s(w, "label"), "type": s(w, "type") });
    if !s(w, "name").is_empty() && s(w, "name") != id {
        d["alias"] = json!(s(w, "name"));
    }
    let items = list(w, "items");
    if !items.is_empty() {
        d["items"] = Value::Array(items.iter().map(widget_def).collect());
    }
    d
}

/// A member in the read shape (`{username, name, departments}`) registered; its scenario id.
fn member(cx: &mut ImportCx, m: &Value) -> Option<Value> {
    let username = m.get("username").and_then(Value::as_str)?;
    let depts: Vec<i64> =
        m.get("departments").and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_i64).collect()).unwrap_or_default();
    Some(json!(cx.user(username, m.get("name").and_then(Value::as_str), &depts)))
}

fn department(cx: &mut ImportCx, d: &Value) -> Option<Value> {
    let no = d.get("dept_no").and_then(Value::as_i64)?;
    cx.department(no, s(d, "name"), d.get("parent_no").and_then(Value::as_i64));
    Some(json!(no))
}

/// One record of the data list as a scenario record: system fields it may set, and each widget's
/// value in the write shape; values the API cannot carry over are left out.
fn seed_record(cx: &mut ImportCx, r: &Value, widgets: &HashMap<String, &Value>, workflow: bool) -> Value {
    let mut out = Map::new();
    let Some(obj) = r.as_object() else { return Value::Object(out) };
    for (k, v) in obj {
        match k.as_str() {
            "_id" | "createTime" | "updateTime" => {
                out.insert(k.clone(), v.clone());
            }
            "flowState" if workflow => {
                out.insert(k.clone(), v.clone());
            }
            "creator" => {
                if let Some(u) = member(cx, v) {
                    out.insert(k.clone(), u);
                }
            }
            _ => {
                if let Some(w) = widgets.get(k) {
                    if let Some(v) = widget_value(cx, w, v) {
                        out.insert(k.clone(), v);
                    }
                }
            }
        }
    }
    Value::Object(out)
}

fn widget_value(cx: &mut ImportCx, w: &Value, v: &Value) -> Option<Value> {
    if v.is_null() {
        return None;
    }
    let kind = WidgetType::parse(s(w, "type"))?;
    Some(match kind {
        WidgetType::Text | WidgetType::Textarea | WidgetType::Richtext => json!(cx.text(v.as_str()?)),
        WidgetType::Phone => {
            let mut p = v.as_object()?.clone();
            let number = p.get("phone").and_then(Value::as_str).map(|n| cx.phone(n));
            p.insert("phone".into(), json!(number));
            Value::Object(p)
        }
        WidgetType::Address => {
            let mut a = v.as_object()?.clone();
            if let Some(d) = a.get("detail").and_then(Value::as_str).map(str::to_owned) {
                a.insert("detail".into(), json!(cx.text(&d)));
            }
            Value::Object(a)
        }
        WidgetType::User => member(cx, v)?,
        WidgetType::Usergroup => Value::Array(v.as_array()?.iter().filter_map(|m| member(cx, m)).collect()),
        WidgetType::Dept => department(cx, v)?,
        WidgetType::Deptgroup => Value::Array(v.as_array()?.iter().filter_map(|d| department(cx, d)).collect()),
        WidgetType::Subform => {
            let items: HashMap<String, &Value> =
                w.get("items").and_then(Value::as_array)?.iter().map(|i| (s(i, "name").to_owned(), i)).collect();
            let rows = v.as_array()?.iter().map(|row| {
                let cells = row.as_object().into_iter().flatten();
                // A row keeps its `_id`, as a record does, so reads of the copy match the tenant's.
                let converted: Map<String, Value> = cells
                    .filter_map(|(k, v)| match k.as_str() {
                        "_id" => Some((k.clone(), v.clone())),
                        _ => Some((k.clone(), widget_value(cx, items.get(k)?, v)?)),
                    })
                    .collect();
                Value::Object(converted)
            });
            Value::Array(rows.collect())
        }
        WidgetType::Image | WidgetType::Upload | WidgetType::Signature => {
            cx.note("files in image, upload and signature widgets (links into the tenant's storage) are left out of records");
            return None;
        }
        WidgetType::Lookup | WidgetType::Aggregation | WidgetType::Linkdata => {
            cx.note("lookup, aggregation and linked-data values (computed from other forms) are left out of records");
            return None;
        }
        WidgetType::Number
        | WidgetType::Datetime
        | WidgetType::Radiogroup
        | WidgetType::Checkboxgroup
        | WidgetType::Combo
        | WidgetType::Combocheck
        | WidgetType::Location
        | WidgetType::Sn => v.clone(),
    })
}

/// Fills a replayed request's redacted `Authorization: Bearer ***` with this emulator's first usable key.
pub fn replay_auth(world: &World, r: &mut Replay, _memo: &mut HashMap<String, String>) {
    let Some(st) = world.platforms.jiandaoyun.as_ref() else { return };
    let app = r.param("app_id");
    let key = st.keys.iter().filter(|k| !k.disabled).find(|k| app.as_deref().is_none_or(|a| k.allows_app(a))).or_else(|| st.keys.first());
    if let Some(k) = key {
        r.fill_header("authorization", &format!("Bearer {}", k.key));
    }
}
