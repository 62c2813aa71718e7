//! App, form and widget listing: app/list, app/entry/list, app/entry/widget/list.

use serde_json::{json, Value};

use super::call::{ok_json, Call};
use super::errors::JdyError;
use super::model::Widget;
use crate::core::clock::iso_utc_ms;
use crate::http::Response;

pub fn app_list(call: &Call) -> Result<Response, JdyError> {
    let limit = list_limit(call)?;
    let skip = call.opt_int("skip", 0, 0, i64::MAX)? as usize;
    let apps: Vec<Value> = call
        .st
        .apps
        .iter()
        .filter(|a| call.key.allows_app(&a.app_id))
        .skip(skip)
        .take(limit)
        .map(|a| json!({ "name": a.name, "app_id": a.app_id }))
        .collect();
    ok_json(&json!({ "apps": apps }))
}

pub fn entry_list(call: &Call) -> Result<Response, JdyError> {
    let app = call.app()?;
    let limit = list_limit(call)?;
    let skip = call.opt_int("skip", 0, 0, i64::MAX)? as usize;
    let forms: Vec<Value> = app
        .entry_ids
        .iter()
        .skip(skip)
        .take(limit)
        .filter_map(|id| call.st.entries.get(id))
        .map(|e| json!({ "name": e.name, "app_id": e.app_id, "entry_id": e.entry_id }))
        .collect();
    ok_json(&json!({ "forms": forms }))
}

fn widget_json(w: &Widget) -> Value {
    let mut v = json!({ "name": w.key(), "widgetName": w.id, "label": w.label, "type": w.kind.as_str() });
    if !w.items.is_empty() {
        v["items"] = Value::Array(w.items.iter().map(widget_json).collect());
    }
    v
}

pub fn widget_list(call: &Call) -> Result<Response, JdyError> {
    let entry = call.entry()?;
    let widgets: Vec<Value> = entry.schema.widgets.iter().map(widget_json).collect();
    if call.version == 1 {
        return ok_json(&json!({ "widgets": widgets }));
    }
    let mut sys: Vec<Value> = Vec::new();
    if entry.is_workflow() {
        sys.push(json!({ "name": "flowState" }));
    }
    for n in ["creator", "updater", "deleter", "createTime", "updateTime", "deleteTime"] {
        sys.push(json!({ "name": n }));
    }
    let modified = entry.modified_ms.load(std::sync::atomic::Ordering::Acquire);
    ok_json(&json!({ "widgets": widgets, "sysWidgets": sys, "dataModifyTime": iso_utc_ms(modified) }))
}

/// `limit` of the app and form lists: 1–100, default 100. The official demo sends `limit: 0`, so 0 means
/// the default here rather than an error.
fn list_limit(call: &Call) -> Result<usize, JdyError> {
    if call.body.get("limit").and_then(serde_json::Value::as_i64) == Some(0) {
        return Ok(100);
    }
    Ok(call.opt_int("limit", 100, 1, 100)? as usize)
}
