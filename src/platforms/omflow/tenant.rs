//! OMFlow meets a live tenant: its REST API has no schema or flow listing, so `import` takes the flows
//! by API path (`--api-path`) and learns each one's fields from the tickets its list API returns
//! (`formitm_N` columns; a field whose values are the tickets' titles, levels, statuses or groups gets
//! that header type). `diff` replays with this emulator's security code.
//!
//! Not exported, so noted: app and flow names, field labels and defaults (the list shows none), the flow
//! charts (a placeholder flow), fields no listed ticket has filled, and tickets themselves (a scenario
//! seeds OMFlow flows without tickets).

use std::collections::{BTreeMap, HashMap};

use base64::Engine;
use reqwest::Method;
use serde_json::{json, Value};

use crate::tools::import::{Body, ImportCx, Imported};
use crate::tools::recording::Replay;
use crate::world::World;

pub fn is_rate_limited(status: u16, body: &Value) -> bool {
    status == 429
        || body.get("status").and_then(|s| s.as_str().map(str::to_owned).or_else(|| s.as_i64().map(|n| n.to_string()))).as_deref()
            == Some("429")
}

/// Header columns a field's values may mirror, and the field type that fills them.
const HEADERS: &[(&str, &str)] = &[("title", "h_title"), ("level", "h_level"), ("status", "h_status"), ("group", "h_group")];

pub fn read_tenant(cx: &mut ImportCx) -> Result<Imported, String> {
    let security = cx.credential("security")?;
    let paths = cx.credential("api-path")?;
    let mut flows = Vec::new();
    let mut out = Vec::new();
    let mut tickets = 0;
    for path in paths.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        cx.step(format!("tickets of {path}"));
        let body = json!({ "security": security, "omflow_restapi": 1 });
        let answer = cx.call_ok(Method::POST, &format!("/rest/flowmanage/api/omdata/list/{path}/"), &[], &[], Body::Json(body))?;
        let status = answer.get("status").map(|s| s.to_string().trim_matches('"').to_owned()).unwrap_or_default();
        if status != "200" {
            return Err(format!(
                "the list of {path} answered status {status}: {}",
                answer.get("message").and_then(Value::as_str).unwrap_or_default()
            ));
        }
        let rows = answer.get("result").and_then(Value::as_array).cloned().unwrap_or_default();
        tickets += rows.len();
        // formitm_N → how often its value equalled each header column.
        let mut fields: BTreeMap<u64, HashMap<&str, usize>> = BTreeMap::new();
        for row in &rows {
            for (k, v) in row.as_object().into_iter().flatten() {
                let Some(n) = k.strip_prefix("formitm_").and_then(|n| n.parse::<u64>().ok()) else { continue };
                let seen = fields.entry(n).or_default();
                for (column, kind) in HEADERS {
                    if !v.is_null() && v.as_str() != Some("") && row.get(*column).is_some_and(|c| text(c) == text(v)) {
                        *seen.entry(kind).or_default() += 1;
                    }
                }
            }
        }
        if rows.is_empty() {
            cx.note("fields of flows whose list has no tickets (OMFlow's API shows fields only as ticket columns)");
        }
        let defs: Vec<Value> = fields
            .iter()
            .map(|(n, seen)| {
                let id = format!("FORMITM_{n}");
                let mut d = json!({ "id": id, "label": id });
                if let Some((kind, _)) = seen.iter().filter(|(_, c)| **c == rows.len()).max_by_key(|(k, c)| (**c, **k)) {
                    d["type"] = json!(kind);
                }
                d
            })
            .collect();
        let flow_id = format!("omflow-{path}");
        flows.push(cx.placeholder_flow(&flow_id, path));
        out.push(json!({ "app": "imported", "name": path, "api_path": path, "flow": flow_id, "fields": defs }));
    }
    cx.note("app and flow names, field labels and defaults (the list API shows none): names are the API paths, labels the field ids");
    if cx.options.records > 0 {
        cx.note("tickets (an OMFlow scenario seeds flows without tickets)");
    }
    let security = cx.scenario_secret(&security, "imported-security", "the security code");
    let section = json!({ "security": [security], "flows": out });
    Ok(Imported { section, flows, counts: vec![("flows", out.len()), ("tickets seen", tickets)] })
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Fills a replayed request's redacted `security` with this emulator's first fixed code, and a
/// redacted Basic login with the first user who has a password.
pub fn replay_auth(world: &World, r: &mut Replay, _memo: &mut HashMap<String, String>) {
    let Some(st) = world.platforms.omflow.as_ref() else { return };
    let code = st.codes.lock().iter().find(|(_, e)| e.fixed).map(|(c, _)| c.clone());
    if let Some(code) = code {
        r.fill("security", &code);
    }
    if r.header("authorization").is_some_and(crate::tools::recording::is_redacted) {
        if let Some(u) = world.directory.users().into_iter().find(|u| u.password.is_some()) {
            let basic = base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", u.id, u.password.unwrap_or_default()));
            r.fill_header("authorization", &format!("Basic {basic}"));
        }
    }
}
