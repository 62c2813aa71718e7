//! Workflow (流程) routes on the shared engine: a workflow form's record is the instance (its `_id` is
//! the `instance_id`), `flowState` follows the instance, tasks carry the documented fields and enums.
//!
//! Failures answer HTTP 400 with `{"status":"failure","code","message"}` (the documented body; the
//! status code is inferred), successes `{"status":"success"}`.

use std::sync::Arc;

use parking_lot::Mutex;
use serde_json::{json, Map, Value};

use super::call::{ok_json, Call, Status};
use super::errors::JdyError;
use super::model::{Entry, State};
use super::values::member_json;
use crate::core::clock::{iso_utc_ms, Millis};
use crate::core::ids::IdGen;
use crate::core::workflow::{Act, Action, Flow, IdSource, Instance, NodeKind, Outcome, Status as WfStatus, Task, TaskStatus, WfError};
use crate::http::Response;

/// Instance and task links point at the product's web UI, as documented; the emulator has no UI.
const UI: &str = "https://www.jiandaoyun.com";

/// A running or finished instance and the form it belongs to.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct WfRecord {
    pub entry_id: String,
    pub instance: Instance,
}

/// Instances of one world, by instance id (= record `_id`).
#[derive(Debug, Default)]
pub struct Workflows {
    pub instances: Mutex<std::collections::BTreeMap<String, WfRecord>>,
}

/// Task ids are ObjectIds like every Jiandaoyun id; tokens only need to be unique.
struct Ids<'a> {
    gen: &'a IdGen,
    now: Millis,
}

impl IdSource for Ids<'_> {
    fn token_id(&mut self) -> u64 {
        self.gen.below(u64::MAX)
    }
    fn task_id(&mut self) -> String {
        self.gen.object_id(self.now)
    }
}

/// Starts the form's workflow for a new record (create / batch_create with `is_start_workflow`).
pub fn start(st: &State, entry: &Entry, record_id: &str, initiator: &str, data: &Map<String, Value>, now: Millis) {
    let Some(flow) = entry.flow.as_ref().and_then(|f| st.flows.get(f)) else { return };
    let inst = Instance::start(flow, record_id.to_owned(), initiator, data.clone(), now, &mut Ids { gen: &st.ids, now });
    st.workflows.instances.lock().insert(record_id.to_owned(), WfRecord { entry_id: entry.entry_id.clone(), instance: inst });
}

/// `flowState` of a record whose workflow is in `inst`: 0 running, 1 finished (approved or rejected),
/// 2 closed by an administrator.
pub fn flow_state(inst: &Instance) -> i64 {
    match inst.status {
        WfStatus::Running | WfStatus::Verifying => 0,
        WfStatus::Terminated => 2,
        WfStatus::Completed | WfStatus::Error => 1,
    }
}

/// Node ids as Jiandaoyun numbers them: the start node is 0, the others 1, 2, … in flow order.
pub fn flow_id(flow: &Flow, node: usize) -> i64 {
    if node == flow.start {
        return 0;
    }
    (0..node).filter(|&i| i != flow.start).count() as i64 + 1
}

fn node_of_flow_id(flow: &Flow, id: i64) -> Option<usize> {
    (0..flow.nodes.len()).find(|&n| flow_id(flow, n) == id)
}

fn failure(code: u32, locale: crate::Locale) -> Response {
    failure_body(&JdyError::new(code), locale)
}

/// HTTP 400 `{"status":"failure","code","message"}`: how a workflow action's page shows every failure.
pub fn failure_body(e: &JdyError, locale: crate::Locale) -> Response {
    Response::json(400, &json!({ "status": "failure", "code": e.code, "message": e.message(locale) }))
}

/// The routes that act on an instance or task (close, activate, approve, rollback, transfer, revoke,
/// add_sign, reject): their pages answer `{"status": …}`, success or failure. The queries (get, logs,
/// comments, task and cc lists) answer data or the ordinary `{code, msg}`.
pub fn is_action(op_name: &str) -> bool {
    op_name.strip_prefix("workflow.").is_some_and(|rest| ACTIONS.iter().any(|(dotted, _)| *dotted == rest))
}

/// [`is_action`] for a request path (`/api/v1/workflow/task/approve`, `/api/v2/…`).
pub fn is_action_path(path: &str) -> bool {
    path.starts_with("/api/v") && path.contains("/workflow/") && ACTIONS.iter().any(|(_, slashed)| path.ends_with(slashed))
}

const ACTIONS: &[(&str, &str)] = &[
    ("instance.close", "/instance/close"),
    ("instance.activate", "/instance/activate"),
    ("task.approve", "/task/approve"),
    ("task.rollback", "/task/rollback"),
    ("task.transfer", "/task/transfer"),
    ("task.revoke", "/task/revoke"),
    ("task.add_sign", "/task/add_sign"),
    ("task.reject", "/task/reject"),
];

fn wf_error(e: WfError) -> u32 {
    match e {
        WfError::NotRunning => 4008,
        WfError::StillRunning => 4026,
        WfError::TaskNotFound | WfError::TokenNotFound => 50004,
        WfError::TaskClosed => 50051,
        WfError::NotAssignee => 4009,
        WfError::NodeNotFound => 50000,
        WfError::NotHumanNode | WfError::RollbackNotVisited => 50040,
        WfError::RollbackToCurrent => 50041,
        WfError::TransferToSelf => 4016,
        WfError::NotInitiator => 4005,
        WfError::NoApprovers => 50053,
        WfError::AlreadyApprover => 50059,
        WfError::OneApproverOnly => 50061,
        WfError::NestedSign => 50054,
    }
}

/// Runs a workflow action: engine refusals become the failure body here; parameter errors return as
/// `JdyError`s, which the dispatcher renders in the same body for action routes.
pub fn action(call: &Call, f: impl FnOnce(&Call) -> Result<Result<Response, u32>, JdyError>) -> Result<Response, JdyError> {
    Ok(match f(call)? {
        Ok(r) => r,
        Err(code) => failure(code, call.world.locale),
    })
}

fn action_name(a: Action) -> &'static str {
    match a {
        Action::Start | Action::Submit | Action::Agree => "forward",
        Action::Rollback => "back",
        Action::Transfer => "transfer",
        Action::Revoke => "revoke",
        Action::Activate => "activate",
        Action::Reject => "reject",
        Action::Terminate | Action::Cancel => "close",
        Action::SignBefore => "sign_before",
        Action::SignAfter => "sign_after",
        Action::SignParallel => "sign_parallel",
    }
}

fn member(call: &Call, username: &str) -> Value {
    call.world.directory.user(username).map(|u| member_json(&u)).unwrap_or(Value::Null)
}

fn task_json(call: &Call, entry: &Entry, flow: &Flow, inst: &Instance, t: &Task) -> Value {
    let node = &flow.nodes[t.node];
    json!({
        "app_id": entry.app_id,
        "form_id": entry.entry_id,
        "form_title": entry.name,
        "title": node.name,
        "instance_id": inst.id,
        "task_id": t.id,
        "flow_id": flow_id(flow, t.node),
        "flow_name": node.name,
        "url": format!("{UI}/workflow/process_instance/{}/task/{}", inst.id, t.id),
        "assignee": member(call, &t.assignee),
        "creator": member(call, &inst.initiator),
        "create_time": iso_utc_ms(t.created_ms),
        "create_action": action_name(t.created_by),
        "finish_time": t.finished_ms.map(iso_utc_ms),
        "finish_action": t.finish_action.map(action_name),
        "status": match t.status { TaskStatus::Open => 0, TaskStatus::Done => 1, TaskStatus::Cancelled => 2 },
    })
}

/// The instance named by `instance_id`, with its form and flow (50016 when unknown, 17053 when the
/// caller's key is scoped to other apps: the data routes' rule holds for workflow too).
fn with_instance<T>(call: &Call, f: impl FnOnce(&Arc<Entry>, &Flow, &mut WfRecord) -> T) -> Result<T, JdyError> {
    let id = call.req_str("instance_id")?;
    let mut map = call.st.workflows.instances.lock();
    let rec = map.get_mut(id).ok_or_else(|| JdyError::new(50016))?;
    let entry = call.st.entries.get(&rec.entry_id).cloned().ok_or_else(|| JdyError::new(50016))?;
    if !call.key.allows_app(&entry.app_id) {
        return Err(JdyError::new(17053));
    }
    let flow = entry.flow.as_ref().and_then(|f| call.st.flows.get(f)).cloned().ok_or_else(|| JdyError::new(5056))?;
    Ok(f(&entry, &flow, rec))
}

/// Writes the instance's `flowState` into its record after an action. A workflow move is a data
/// change the form pushes (`data_update`), whoever moved it.
fn sync_record(call: &Call, entry: &Entry, inst: &Instance) {
    let state = flow_state(inst);
    let updated = entry.records.update::<()>(&inst.id, |old| Ok(old.with_changes([("flowState", &json!(state))], &entry.interner)));
    entry.touch(call.now());
    if let Some(Ok(rec)) = updated {
        super::push::record_event(call, entry, "data_update", &rec, &[]);
    }
}

fn user_exists(call: &Call, name: &str) -> Result<(), JdyError> {
    call.world.directory.user(name).map(|_| ()).ok_or_else(|| JdyError::with_detail(1010, format!("unknown member {name}")))
}

fn comment<'a>(call: &'a Call) -> Result<Option<&'a str>, JdyError> {
    call.opt_str("comment")
}

pub fn instance_get(call: &Call) -> Result<Response, JdyError> {
    let tasks_type = call.opt_int("tasks_type", 0, 0, 1)?;
    let with_result = call.version >= 6;
    let body = with_instance(call, |entry, flow, rec| {
        let inst = &rec.instance;
        let status = flow_state(inst).min(2);
        let mut out = json!({
            "app_id": entry.app_id,
            "form_id": entry.entry_id,
            "form_title": entry.name,
            "instance_id": inst.id,
            "url": format!("{UI}/workflow/process_instance/{}", inst.id),
            "update_time": iso_utc_ms(inst.updated_ms),
            "create_time": iso_utc_ms(inst.created_ms),
            "finish_time": inst.finished_ms.map(iso_utc_ms),
            "status": status,
            "creator": member(call, &inst.initiator),
        });
        if with_result && status == 1 {
            out["result"] = json!(if inst.outcome == Some(Outcome::Rejected) { 0 } else { 1 });
        }
        if tasks_type == 1 {
            out["tasks"] = Value::Array(inst.tasks.iter().map(|t| task_json(call, entry, flow, inst, t)).collect());
        }
        out
    })?;
    ok_json(&body)
}

pub fn approval_comments(call: &Call) -> Result<Response, JdyError> {
    let entry = call.entry()?;
    let data_id = call.req_str("data_id")?;
    let skip = call.opt_int("skip", 0, 0, i64::MAX)? as usize;
    if !entry.records.contains(data_id) {
        return Err(JdyError::new(4001));
    }
    let map = call.st.workflows.instances.lock();
    let Some(rec) = map.get(data_id) else { return ok_json(&json!({ "approveCommentList": [] })) };
    let flow = entry.flow.as_ref().and_then(|f| call.st.flows.get(f)).ok_or_else(|| JdyError::new(5056))?;
    let list: Vec<Value> = rec
        .instance
        .log
        .iter()
        .filter(|l| matches!(l.action, Action::Agree | Action::Submit | Action::Transfer | Action::Rollback | Action::Terminate | Action::Reject | Action::SignBefore | Action::SignAfter | Action::SignParallel))
        .skip(skip)
        .take(100)
        .map(|l| {
            let u = call.world.directory.user(&l.actor);
            json!({
                "operator": { "_id": u.as_ref().map(|u| format!("{:024x}", crate::core::ids::fnv1a(u.id.as_bytes()))), "username": l.actor, "status": u.as_ref().map(|u| u.status), "name": u.as_ref().map(|u| u.name.clone()) },
                "flowAction": action_name(l.action),
                "comment": l.comment.clone().unwrap_or_default(),
                "flowNodeName": flow.nodes[l.node].name,
            })
        })
        .collect();
    ok_json(&json!({ "approveCommentList": list }))
}

pub fn instance_logs(call: &Call) -> Result<Response, JdyError> {
    let types = call.req_array("types")?;
    if !types.iter().all(|t| t.as_str() == Some("comment")) {
        return Err(JdyError::with_detail(3005, "types accepts only \"comment\""));
    }
    let limit = call.opt_int("limit", 100, 1, 100)? as usize;
    let skip = call.opt_int("skip", 0, 0, i64::MAX)? as usize;
    let logs = with_instance(call, |_, flow, rec| {
        let inst = &rec.instance;
        inst.tasks
            .iter()
            .filter(|t| t.status == TaskStatus::Done && t.comment.as_deref().is_some_and(|c| !c.is_empty()))
            .skip(skip)
            .take(limit)
            .map(|t| {
                json!({
                    "flow_id": flow_id(flow, t.node),
                    "flow_name": flow.nodes[t.node].name,
                    "create_action": action_name(t.created_by),
                    "create_time": iso_utc_ms(t.created_ms),
                    "finish_action": t.finish_action.map(action_name),
                    "finish_time": t.finished_ms.map(iso_utc_ms),
                    "operator": member(call, &t.assignee),
                    "comment": t.comment,
                    "attachments": [],
                })
            })
            .collect::<Vec<_>>()
    })?;
    ok_json(&json!({ "logs": logs }))
}

/// Applies an engine action to the instance, then syncs the record's flowState.
fn act_on(call: &Call, f: impl FnOnce(&Flow, &mut Instance, &mut Ids) -> Result<(), WfError>) -> Result<Result<Response, u32>, JdyError> {
    act_on_with(call, wf_error, f)
}

fn act_on_with(
    call: &Call,
    code: fn(WfError) -> u32,
    f: impl FnOnce(&Flow, &mut Instance, &mut Ids) -> Result<(), WfError>,
) -> Result<Result<Response, u32>, JdyError> {
    let now = call.now();
    with_instance(call, |entry, flow, rec| {
        let mut ids = Ids { gen: &call.st.ids, now };
        match f(flow, &mut rec.instance, &mut ids) {
            Ok(()) => {
                sync_record(call, entry, &rec.instance);
                Ok(Response::json(200, &json!(Status::success())))
            }
            Err(e) => Err(code(e)),
        }
    })
}

pub fn close(call: &Call) -> Result<Response, JdyError> {
    action(call, |call| act_on(call, |_, inst, _| inst.terminate(Act::new("admin", call.now()))))
}

pub fn activate(call: &Call) -> Result<Response, JdyError> {
    let node_id = match call.body.get("flow_id") {
        Some(Value::Number(n)) => n.as_i64().ok_or_else(|| JdyError::with_detail(3005, "flow_id must be a number"))?,
        None | Some(Value::Null) => return Err(JdyError::with_detail(1, "flow_id is required")),
        Some(_) => return Err(JdyError::with_detail(3005, "flow_id must be a number")),
    };
    // Activating anything but a human node is 50076 (该节点不可激活).
    let code = |e: WfError| if e == WfError::NotHumanNode { 50076 } else { wf_error(e) };
    action(call, |call| {
        act_on_with(call, code, |flow, inst, ids| {
            let node = node_of_flow_id(flow, node_id).ok_or(WfError::NodeNotFound)?;
            if !flow.nodes[node].kind.is_human() {
                return Err(WfError::NotHumanNode);
            }
            let id = flow.nodes[node].id.clone();
            inst.activate(flow, &id, Act::new("admin", call.now()), ids)
        })
    })
}

/// The open task `task_id` must exist in the instance and belong to `username`.
fn task_args<'a>(call: &'a Call) -> Result<(&'a str, &'a str), JdyError> {
    let username = call.req_str("username")?;
    user_exists(call, username)?;
    let task_id = call.req_str("task_id")?;
    Ok((username, task_id))
}

pub fn approve(call: &Call) -> Result<Response, JdyError> {
    let (username, task_id) = task_args(call)?;
    let comment = comment(call)?;
    action(call, |call| {
        act_on(call, |flow, inst, ids| {
            let kind = inst.tasks.iter().find(|t| t.id == task_id).map(|t| flow.nodes[t.node].kind).ok_or(WfError::TaskNotFound)?;
            let how = if kind == NodeKind::Approve { Action::Agree } else { Action::Submit };
            inst.complete(flow, task_id, how, Act::new(username, call.now()).saying(comment), None, ids)
        })
    })
}

pub fn reject(call: &Call) -> Result<Response, JdyError> {
    let (username, task_id) = task_args(call)?;
    let comment = comment(call)?;
    action(call, |call| act_on(call, |_, inst, _| inst.reject(task_id, Act::new(username, call.now()).saying(comment))))
}

pub fn rollback(call: &Call) -> Result<Response, JdyError> {
    let (username, task_id) = task_args(call)?;
    let comment = comment(call)?;
    if call.version >= 2 {
        match call.body.get("back_type") {
            None | Some(Value::Null) => {}
            Some(v) if v.as_i64() == Some(1) || v.as_i64() == Some(2) => {}
            Some(_) => return Err(JdyError::with_detail(3005, "back_type must be 1 or 2")),
        }
    }
    let target = match call.body.get("flow_id") {
        None | Some(Value::Null) => None,
        Some(v) => Some(v.as_i64().ok_or_else(|| JdyError::with_detail(3005, "flow_id must be a number"))?),
    };
    action(call, |call| {
        act_on(call, |flow, inst, ids| {
            let target = match target {
                Some(n) => Some(flow.nodes[node_of_flow_id(flow, n).ok_or(WfError::NodeNotFound)?].id.clone()),
                None => None,
            };
            inst.rollback(flow, task_id, target.as_deref(), Act::new(username, call.now()).saying(comment), ids).map(|_| ())
        })
    })
}

pub fn transfer(call: &Call) -> Result<Response, JdyError> {
    let (username, task_id) = task_args(call)?;
    let to = call.req_str("transfer_username")?;
    user_exists(call, to)?;
    let comment = comment(call)?;
    action(call, |call| {
        act_on(call, |_, inst, ids| inst.transfer(task_id, to, Act::new(username, call.now()).saying(comment), ids).map(|_| ()))
    })
}

/// Revoke (撤回): without `task_id` the initiator pulls the instance back to the start; with it, a
/// member takes back their submission while the next node has not acted on it (else 50009).
pub fn revoke(call: &Call) -> Result<Response, JdyError> {
    let username = call.req_str("username")?;
    user_exists(call, username)?;
    let task_id = call.opt_str("task_id")?;
    let comment = if call.version >= 2 { comment(call)? } else { None };
    action(call, |call| {
        let now = call.now();
        let outcome = with_instance(call, |entry, flow, rec| {
            let inst = &mut rec.instance;
            let mut ids = Ids { gen: &call.st.ids, now };
            let act = Act::new(username, now).saying(comment);
            let result = match task_id {
                None => inst.revoke(flow, act, &mut ids).map_err(|e| if e == WfError::NotInitiator { 4005 } else { wf_error(e) }),
                Some(tid) => match inst.tasks.iter().find(|t| t.id == tid).cloned() {
                    None => Err(50004),
                    Some(t) if t.assignee != username => Err(4009),
                    Some(t)
                        if t.status != TaskStatus::Done
                            || t.finish_action != Some(Action::Agree) && t.finish_action != Some(Action::Submit) =>
                    {
                        Err(4005)
                    }
                    Some(t) => {
                        // Anyone acting after this submission (in log order) makes it final.
                        let submitted = inst
                            .log
                            .iter()
                            .rposition(|l| l.actor == username && l.node == t.node && matches!(l.action, Action::Agree | Action::Submit));
                        let acted_since = submitted.is_none_or(|i| {
                            inst.log[i + 1..].iter().any(|l| {
                                matches!(l.action, Action::Agree | Action::Submit | Action::Reject | Action::Rollback | Action::Transfer)
                            })
                        });
                        if acted_since {
                            Err(50009)
                        } else {
                            inst.return_to(flow, t.node, act, &mut ids).map_err(wf_error)
                        }
                    }
                },
            };
            if result.is_ok() {
                sync_record(call, entry, inst);
            }
            result
        })?;
        Ok(outcome.map(|()| Response::json(200, &json!(Status::success()))))
    })
}

/// Open tasks of `username`, oldest first. v5 pages with skip/limit, v6 with the last `task_id`.
pub fn task_list(call: &Call) -> Result<Response, JdyError> {
    let username = call.req_str("username")?;
    user_exists(call, username)?;
    let limit = call.opt_int("limit", 10, 1, 100)? as usize;
    let (skip, after) = if call.version >= 6 {
        (0, call.opt_str("task_id")?.map(str::to_owned))
    } else {
        (call.opt_int("skip", 0, 0, i64::MAX)? as usize, None)
    };
    let map = call.st.workflows.instances.lock();
    let mut open: Vec<Value> = Vec::new();
    let mut ids: Vec<(String, Value)> = Vec::new();
    // A key scoped to some apps sees only their tasks, as `app/list` shows only their apps.
    for rec in map.values() {
        let Some(entry) = call.st.entries.get(&rec.entry_id).filter(|e| call.key.allows_app(&e.app_id)) else { continue };
        let Some(flow) = entry.flow.as_ref().and_then(|f| call.st.flows.get(f)) else { continue };
        for t in rec.instance.open_tasks().filter(|t| t.assignee == username) {
            ids.push((t.id.clone(), task_json(call, entry, flow, &rec.instance, t)));
        }
    }
    ids.sort_by(|a, b| a.0.cmp(&b.0));
    let remaining: Vec<Value> =
        ids.into_iter().filter(|(id, _)| after.as_ref().is_none_or(|a| id > a)).map(|(_, v)| v).skip(skip).collect();
    let has_more = remaining.len() > limit;
    open.extend(remaining.into_iter().take(limit));
    ok_json(&json!({ "has_more": has_more, "tasks": open }))
}

/// Add-sign (加签): v1 takes `add_sign_username`, v2 `add_sign_usernames`; `add_sign_type` 0 before,
/// 1 after, 2 alongside (添加审批人).
pub fn add_sign(call: &Call) -> Result<Response, JdyError> {
    let (username, task_id) = task_args(call)?;
    let kind = match call.body.get("add_sign_type").and_then(Value::as_i64) {
        Some(0) => Action::SignBefore,
        Some(1) => Action::SignAfter,
        Some(2) => Action::SignParallel,
        None if call.body.get("add_sign_type").is_none_or(Value::is_null) => {
            return Err(JdyError::with_detail(1, "add_sign_type is required"))
        }
        _ => return Err(JdyError::with_detail(3005, "add_sign_type must be 0, 1 or 2")),
    };
    let users: Vec<String> =
        if call.version >= 2 { call.req_strings("add_sign_usernames")? } else { vec![call.req_str("add_sign_username")?.to_owned()] };
    for u in &users {
        user_exists(call, u)?;
    }
    let comment = comment(call)?;
    action(call, |call| {
        act_on(call, |_, inst, ids| inst.add_sign(task_id, kind, &users, Act::new(username, call.now()).saying(comment), ids).map(|_| ()))
    })
}

/// Carbon copies (抄送) for `username`: every node with `cc` the instance reached, newest first.
pub fn cc_list(call: &Call) -> Result<Response, JdyError> {
    let username = call.req_str("username")?;
    user_exists(call, username)?;
    let skip = call.opt_int("skip", 0, 0, i64::MAX)? as usize;
    let limit = call.opt_int("limit", 10, 1, 100)? as usize;
    let read = match call.opt_str("read_status")? {
        None | Some("all") => None,
        Some("read") => Some(true),
        Some("unread") => Some(false),
        Some(_) => return Err(JdyError::with_detail(3005, "read_status must be read, unread or all")),
    };
    let map = call.st.workflows.instances.lock();
    let mut list: Vec<(Millis, String, Value)> = Vec::new();
    // A key scoped to some apps sees only their tasks, as `app/list` shows only their apps.
    for rec in map.values() {
        let Some(entry) = call.st.entries.get(&rec.entry_id).filter(|e| call.key.allows_app(&e.app_id)) else { continue };
        let Some(flow) = entry.flow.as_ref().and_then(|f| call.st.flows.get(f)) else { continue };
        let inst = &rec.instance;
        for c in inst.cc.iter().filter(|c| c.user == username && read.is_none_or(|r| r == c.read)) {
            let node = &flow.nodes[c.node];
            let v = json!({
                "app_id": entry.app_id,
                "form_id": entry.entry_id,
                "task_id": c.id,
                "instance_id": inst.id,
                "form_title": entry.name,
                "title": node.name,
                "flow_id": flow_id(flow, c.node),
                "flow_name": node.name,
                "url": format!("{UI}/workflow/process_instance/{}", inst.id),
                "assignee": member(call, &c.user),
                "creator": member(call, &inst.initiator),
                "create_time": iso_utc_ms(c.created_ms),
                "status": if c.read { 1 } else { 0 },
                "start_time": iso_utc_ms(inst.created_ms),
                "start_action": "forward",
            });
            list.push((c.created_ms, c.id.clone(), v));
        }
    }
    list.sort_by(|a, b| (b.0, &b.1).cmp(&(a.0, &a.1)));
    let total = list.len();
    let page: Vec<Value> = list.into_iter().skip(skip).take(limit).map(|(_, _, v)| v).collect();
    ok_json(&json!({ "has_more": skip + page.len() < total, "cc_list": page }))
}
