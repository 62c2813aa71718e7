//! Create (開單), query (查詢) and push (推單) on one deployed flow.

use std::sync::Arc;

use serde_json::{json, Map, Value};

use super::messages::{text, with_reason, Msg};
use super::model::{FileRef, FlowRt, Row, State, Ticket};
use super::{Call, Reply};
use crate::core::files::Blob;
use crate::core::workflow::{Act, IdSource, Instance, Status};
use crate::http::Response;
use crate::router::Ctx;

/// The flow a request names: the URL's `api_path`, or — when the URL says `None`, as the product's
/// web UI sends it — the body's `app_name` + `flow_name`, or its `flow_uuid`.
fn flow_of<'a>(ctx: &Ctx, st: &'a State, p: &Map<String, Value>) -> Option<&'a FlowRt> {
    match ctx.req.param("api_path").filter(|a| !a.is_empty() && *a != "None") {
        Some(path) => st.by_path.get(path).map(|&i| &st.flows[i]),
        None => {
            let field = |k: &str| p.get(k).and_then(Value::as_str).filter(|v| !v.is_empty());
            match (field("app_name"), field("flow_name"), field("flow_uuid")) {
                (Some(app), Some(name), _) => st.flows.iter().find(|f| f.app == app && f.name == name),
                (_, _, Some(uuid)) => st.flows.iter().find(|f| f.uuid == uuid),
                _ => None,
            }
        }
    }
}

/// `start_input`: the start node's input variables of a flow without a form, as an object or that
/// object as a JSON string.
fn start_input(v: Option<&Value>) -> Result<Map<String, Value>, ()> {
    match v {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(Map::new()),
        Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
            Ok(Value::Object(m)) => Ok(m),
            _ => Err(()),
        },
        Some(Value::Object(m)) => Ok(m.clone()),
        Some(_) => Err(()),
    }
}

/// `formdata`: an array of `{"id": "FORMITM_n", "value": …, "type"?: …}`, or that array as a JSON
/// string (form and multipart bodies). `type` is optional, as the manual's own examples omit it.
fn formdata(v: Option<&Value>) -> Result<Map<String, Value>, ()> {
    let parsed;
    let items = match v {
        None | Some(Value::Null) => return Ok(Map::new()),
        Some(Value::String(s)) if s.trim().is_empty() => return Ok(Map::new()),
        Some(Value::String(s)) => {
            parsed = serde_json::from_str::<Value>(s).map_err(|_| ())?;
            &parsed
        }
        Some(other) => other,
    };
    let Value::Array(items) = items else { return Err(()) };
    let mut out = Map::new();
    for item in items {
        let id = item.get("id").and_then(Value::as_str).ok_or(())?;
        if item.get("type").is_some_and(|t| !t.is_string() && !t.is_null()) {
            return Err(());
        }
        out.insert(id.to_owned(), item.get("value").cloned().unwrap_or(Value::Null));
    }
    Ok(out)
}

fn filled(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => false,
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(o)) => o.values().any(|v| filled(Some(v))),
        Some(_) => true,
    }
}

/// Unknown field ids, then required fields missing from `data`.
fn check_fields(flow: &FlowRt, given: &Map<String, Value>, merged: &Map<String, Value>, locale: crate::Locale) -> Result<(), String> {
    if let Some(unknown) = given.keys().find(|k| !flow.fields.iter().any(|f| &f.id == *k)) {
        return Err(format!("{}{unknown}", text(Msg::UnknownField, locale)));
    }
    if flow.fields.iter().any(|f| f.required && !filled(merged.get(&f.id))) {
        return Err(text(Msg::RequiredMissing, locale).to_owned());
    }
    Ok(())
}

pub fn edit(call: &Call) -> Response {
    let &Call { ctx, st, reply, p, user } = call;
    match p.get("action") {
        None => reply.fail_msg(404, Msg::MissingParams),
        Some(Value::String(a)) if a.is_empty() => reply.fail_msg(404, Msg::EmptyParams),
        Some(Value::String(a)) if a == "create" => create(ctx, st, reply, p, user),
        Some(Value::String(a)) if a == "update" => push(ctx, st, reply, p, user),
        Some(Value::String(a)) if a == "delete" => delete(ctx, st, reply, p),
        Some(_) => reply.fail_msg(404, Msg::BadAction),
    }
}

/// `action: "delete"`: removes the tickets named by `data_no` (one number, or a list) with all their
/// rows, missions and attachments, as the product's `deleteOmData` does. Numbers that name no
/// ticket are skipped and the call still succeeds; so does a call without `data_no`, which deletes
/// nothing (both as the product behaves).
fn delete(ctx: &Ctx, st: &State, reply: &Reply, p: &Map<String, Value>) -> Response {
    let Some(flow) = flow_of(ctx, st, p) else { return reply.fail_msg(404, Msg::FlowNotFound) };
    if !flow.api {
        return reply.fail_msg(404, Msg::ApiDisabled);
    }
    let one = |v: &Value| match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    let numbers: Vec<u64> = match p.get("data_no") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => match items.iter().map(one).collect::<Option<Vec<u64>>>() {
            Some(n) => n,
            None => return reply.fail_msg(404, Msg::DataNotFound),
        },
        Some(v) => match one(v) {
            Some(n) => vec![n],
            None => return reply.fail_msg(404, Msg::DataNotFound),
        },
    };
    let mut guard = flow.tickets.lock();
    let mut gone = Vec::new();
    guard.list.retain_mut(|t| {
        let delete = t.data_no.is_some_and(|n| numbers.contains(&n));
        if delete {
            gone.append(&mut t.files);
        }
        !delete
    });
    drop(guard);
    for f in gone {
        ctx.world.files.remove(&f.id);
    }
    reply.ok(Msg::DeleteOk, json!(""))
}

fn create(ctx: &Ctx, st: &State, reply: &Reply, p: &Map<String, Value>, user: &str) -> Response {
    let failed = |reason: &str| reply.fail(404, with_reason(Msg::CreateFailed, reason, reply.locale));
    let Some(flow) = flow_of(ctx, st, p) else { return failed(text(Msg::FlowNotFound, reply.locale)) };
    if !flow.api {
        return failed(text(Msg::ApiDisabled, reply.locale));
    }
    let Ok(given) = formdata(p.get("formdata")) else { return failed(text(Msg::BadFormdata, reply.locale)) };
    let mut data = Map::new();
    for f in &flow.fields {
        if let Some(d) = &f.default {
            data.insert(f.id.clone(), d.clone());
        }
    }
    if let Err(reason) = check_fields(flow, &given, &given, reply.locale) {
        return failed(&reason);
    }
    data.extend(given);
    // A flow without a form takes its start node's inputs instead: they become flow variables.
    if flow.fields.is_empty() {
        let Ok(inputs) = start_input(p.get("start_input")) else { return failed(text(Msg::BadFormdata, reply.locale)) };
        data.extend(inputs);
    }
    let world = ctx.world;
    let now = world.clock.now_ms();
    let files = store_files(ctx, st);
    let mut guard = flow.tickets.lock();
    let tickets = &mut *guard;
    let verifying = flow.flow.nodes[flow.flow.start].verify;
    let data_no = if verifying { None } else { Some(tickets.counters.new_data_no()) };
    // The start row: the ticket's first data_id, history as soon as the instance moves on.
    let start_row = tickets.counters.token_id();
    let start = &flow.flow.nodes[flow.flow.start];
    let instance_id = format!("{}-{}", flow.uuid, start_row);
    let data = Arc::new(data);
    let instance = Instance::start(&flow.flow, instance_id, user, (*data).clone(), now, &mut tickets.counters);
    let mut ticket = Ticket {
        data_no,
        instance,
        rows: vec![Row {
            id: start_row,
            history: false,
            closed: false,
            stop_uuid: start.id.clone(),
            stop_chart_type: "start".into(),
            stop_chart_text: start.name.clone(),
            createtime: now,
            updatetime: now,
            stoptime: None,
            create_user: user.to_owned(),
            update_user: user.to_owned(),
            data,
        }],
        files,
        create_user: user.to_owned(),
        calls: Vec::new(),
    };
    ticket.sync_rows(&flow.flow, user, now);
    super::calls::dispatch(world, flow, &mut ticket);
    tickets.list.push(Box::new(ticket));
    let result = data_no.map(|n| reply.id(n)).unwrap_or_else(|| json!(""));
    reply.ok(Msg::CreateOk, result)
}

/// Multipart parts named `files` go to the blob store and are attached to the new ticket.
fn store_files(ctx: &Ctx, st: &State) -> Vec<FileRef> {
    let Some(parts) = &ctx.req.multipart else { return Vec::new() };
    let now = ctx.world.clock.now_ms();
    parts
        .iter()
        .filter(|p| p.name == "files" && p.filename.is_some())
        .map(|p| {
            let id = st.ids.uuid();
            let name = p.filename.clone().unwrap_or_default();
            ctx.world.files.put(Blob {
                id: id.clone(),
                name: name.clone(),
                mime: p.content_type.clone().unwrap_or_else(|| "application/octet-stream".into()),
                size: p.data.len(),
                data: p.data.clone(),
                created_ms: now,
            });
            FileRef { id, file_name: name, size: p.data.len() }
        })
        .collect()
}

fn as_number(v: Option<&Value>) -> Option<u64> {
    match v? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn missing_or_empty(v: Option<&Value>) -> Option<Msg> {
    match v {
        None => Some(Msg::MissingParams),
        Some(Value::Null) => Some(Msg::EmptyParams),
        Some(Value::String(s)) if s.is_empty() || s == "null" => Some(Msg::EmptyParams),
        _ => None,
    }
}

pub fn query(call: &Call) -> Response {
    let &Call { ctx, st, reply, p, .. } = call;
    if let Some(m) = missing_or_empty(p.get("data_no")) {
        return reply.fail_msg(404, m);
    }
    let Some(flow) = flow_of(ctx, st, p) else {
        return match reply.locale {
            crate::Locale::En => reply.fail(404, with_reason(Msg::QueryFailed, text(Msg::FlowNotFound, reply.locale), reply.locale)),
            _ => reply.fail_msg(404, Msg::QueryFailed),
        };
    };
    let tickets = flow.tickets.lock();
    let result: Vec<Value> = as_number(p.get("data_no"))
        .and_then(|no| tickets.by_no(no))
        .map(|t| {
            t.rows
                .iter()
                .filter(|r| !r.history && !r.closed)
                .map(|r| json!({ "data_id": reply.id(r.id), "stop_chart_text": r.stop_chart_text }))
                .collect()
        })
        .unwrap_or_default();
    reply.ok(Msg::QueryOk, Value::Array(result))
}

fn push(ctx: &Ctx, st: &State, reply: &Reply, p: &Map<String, Value>, user: &str) -> Response {
    let failed = |reason: &str| reply.fail(404, with_reason(Msg::PushFailed, reason, reply.locale));
    if let Some(m) = missing_or_empty(p.get("data_id")) {
        return reply.fail_msg(404, m);
    }
    let Some(flow) = flow_of(ctx, st, p) else { return failed(text(Msg::FlowNotFound, reply.locale)) };
    if !flow.api {
        return failed(text(Msg::ApiDisabled, reply.locale));
    }
    let quick = match p.get("quick_action") {
        None | Some(Value::Null) => None,
        Some(Value::String(q)) if q == "action1" || q == "action2" => Some(q.clone()),
        Some(_) => return failed(text(Msg::BadQuickAction, reply.locale)),
    };
    let Ok(mut given) = formdata(p.get("formdata")) else { return failed(text(Msg::BadFormdata, reply.locale)) };
    let now = ctx.world.clock.now_ms();
    let mut guard = flow.tickets.lock();
    let tickets = &mut *guard;
    // A data_id that is not an open row (stale after a push, or unknown) fails with the documented body.
    let Some(row_id) = as_number(p.get("data_id")) else { return reply.fail_msg(404, Msg::PushFailed) };
    let Some(idx) = tickets.index_of_open_row(row_id) else { return reply.fail_msg(404, Msg::PushFailed) };
    let ticket = &mut tickets.list[idx];
    let at_call =
        ticket.instance.tokens.iter().any(|t| t.id == row_id && flow.flow.nodes[t.node].kind == crate::core::workflow::NodeKind::Call);
    if at_call {
        return reply.fail(404, with_reason(Msg::PushFailed, text(Msg::NotAtManualNode, reply.locale), reply.locale));
    }
    if quick.is_none() {
        let mut merged = ticket.instance.data.clone();
        merged.extend(given.clone());
        if let Err(reason) = check_fields(flow, &given, &merged, reply.locale) {
            return failed(&reason);
        }
    } else if let Some(unknown) = given.keys().find(|k| !flow.fields.iter().any(|f| &f.id == *k)) {
        return failed(&format!("{}{unknown}", text(Msg::UnknownField, reply.locale)));
    }
    if let Some(q) = quick {
        given.insert("quick_action".into(), Value::String(q));
    }
    let was_verifying = ticket.instance.status == Status::Verifying;
    if ticket.instance.complete_token(&flow.flow, row_id, Act::new(user, now), Some(&given), &mut tickets.counters).is_err() {
        return reply.fail_msg(404, Msg::PushFailed);
    }
    let ticket = &mut tickets.list[idx];
    if was_verifying && ticket.data_no.is_none() && ticket.instance.status != Status::Verifying {
        ticket.data_no = Some(tickets.counters.new_data_no());
    }
    let ticket = &mut tickets.list[idx];
    ticket.sync_rows(&flow.flow, user, now);
    super::calls::dispatch(ctx.world, flow, ticket);
    reply.ok(Msg::PushOk, json!(""))
}
