//! BPM (工作流, `/u-route/baas/bp/v2.0/…`): definitions, instances and user tasks on the shared
//! workflow engine.
//!
//! An instance's `state` is derived from the engine: waiting on people is `Waiting for user
//! interaction`, a finished graph `Completed OK`, `PUT {"action":"terminate"}` `User Terminated`,
//! a graph that cannot route `Broken`, and `suspend` `Suspended` until `resume`. The start call
//! answers `Dispatched` / `New`, as documented, because the real engine dispatches asynchronously.

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use super::data::time_text;
use super::errors::AzError;
use super::flows::version_key;
use super::model::{user_id, BpDefn, BpInstance, Runtime, State};
use super::scenario::{api_name_ok, ProcessDef};
use super::{opt_str, order_and_pick, Call};
use crate::core::clock::Millis;
use crate::core::workflow::{Act, Action, Flow, IdSource, Instance, Outcome, Status, Task, TaskStatus, WfError};
use crate::scenario::FlowDef;

pub struct Ids<'a>(pub &'a State);

impl IdSource for Ids<'_> {
    fn token_id(&mut self) -> u64 {
        let mut c = self.0.counter.lock();
        *c += 1;
        *c
    }
    fn task_id(&mut self) -> String {
        self.0.new_id("002T")
    }
}

pub fn definition(st: &State, p: &ProcessDef, graph: FlowDef, now: Millis) -> BpDefn {
    let mut config = Map::new();
    config.insert("cancelable".into(), json!(p.cancelable));
    config.insert("noCancelAfterElem".into(), json!(""));
    BpDefn {
        id: st.new_id("001L"),
        name: p.name.clone(),
        label: p.label.clone().unwrap_or_else(|| p.name.clone()),
        version: p.version.clone().unwrap_or_else(|| "1.0.0".into()),
        description: p.description.clone().unwrap_or_default(),
        active: p.active,
        config,
        graph,
        created_ms: now,
        updated_ms: now,
    }
}

fn graph(def: &BpDefn) -> Result<Flow, AzError> {
    Flow::build(&def.graph).map_err(|errs| AzError::param(errs.into_iter().map(|(_, m)| m).collect::<Vec<_>>().join("; ")))
}

fn summary(d: &BpDefn) -> Value {
    json!({
        "id": d.id, "name": d.name, "label": d.label, "version": d.version, "active": d.active,
        "status": "Active", "config": Value::Object(d.config.clone()).to_string(), "description": d.description,
    })
}

fn full(d: &BpDefn) -> Value {
    let mut v = summary(d);
    let user_tasks: Vec<Value> = d
        .graph
        .nodes
        .iter()
        .filter(|n| ["approve", "handle"].contains(&n.kind.to_ascii_lowercase().as_str()))
        .map(|n| json!({ "name": n.id, "label": n.name.clone().unwrap_or_else(|| n.id.clone()), "assignees": n.assignees, "mode": n.mode.clone().unwrap_or_else(|| "any".into()) }))
        .collect();
    v["config"] = Value::Object(d.config.clone());
    v["userTasks"] = Value::Array(user_tasks);
    v["graph"] = json!({ "nodes": d.graph.nodes, "edges": d.graph.edges });
    v["createdDate"] = json!(time_text(d.created_ms));
    v["lastModifiedDate"] = json!(time_text(d.updated_ms));
    v
}

fn def_param<'a>(call: &'a Call) -> &'a str {
    call.req.param("bid").unwrap_or_default()
}

fn find_def<'a>(rt: &'a mut Runtime, id: &str) -> Result<&'a mut BpDefn, AzError> {
    rt.processes.iter_mut().find(|d| d.id == id || d.name == id).ok_or_else(|| AzError::not_found(format!("BPM {id}")))
}

/// `GET /metadata/definitions?name=&like=`.
pub fn list_defs(call: &Call) -> Result<Value, AzError> {
    let name = call.query("name");
    let like = call.query("like");
    let rt = call.st.runtime.lock();
    Ok(Value::Array(
        rt.processes
            .iter()
            .filter(|d| name.as_ref().is_none_or(|n| &d.name == n))
            .filter(|d| like.as_ref().is_none_or(|l| d.name.to_lowercase().contains(&l.to_lowercase()) || d.label.contains(l.as_str())))
            .map(summary)
            .collect(),
    ))
}

pub fn get_def(call: &Call) -> Result<Value, AzError> {
    let mut rt = call.st.runtime.lock();
    Ok(full(find_def(&mut rt, def_param(call))?))
}

/// The graph of a create/modify body: `graph: {nodes, edges}` inline, or `flow`, the id of a graph
/// another BPM already runs (the scenario's `[[flows]]`).
fn graph_of(call: &Call) -> Result<Option<FlowDef>, AzError> {
    let b = &call.body;
    if let Some(id) = b.get("flow").and_then(Value::as_str) {
        let rt = call.st.runtime.lock();
        let known = rt.processes.iter().find(|d| d.graph.id == id).map(|d| d.graph.clone());
        return known.map(Some).ok_or_else(|| AzError::param(format!("flow {id} is not the graph of any BPM")));
    }
    let Some(g) = b.get("graph").filter(|g| !g.is_null()) else { return Ok(None) };
    let mut g = g.clone();
    if let Value::Object(m) = &mut g {
        m.entry("id").or_insert_with(|| json!(b.get("name").and_then(Value::as_str).unwrap_or("bpm")));
    }
    let def: FlowDef = serde_json::from_value(g).map_err(|e| AzError::param(format!("graph: {e}")))?;
    Flow::build(&def).map_err(|errs| {
        AzError::param(
            errs.into_iter().map(|(p, m)| format!("graph.{}: {m}", crate::scenario::render_path(&p))).collect::<Vec<_>>().join("; "),
        )
    })?;
    Ok(Some(def))
}

fn config_of(b: &Map<String, Value>) -> Result<Option<Map<String, Value>>, AzError> {
    match b.get("config") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m.clone())),
        Some(Value::String(s)) => match serde_json::from_str(s) {
            Ok(Value::Object(m)) => Ok(Some(m)),
            _ => Err(AzError::param("config must be an object")),
        },
        Some(_) => Err(AzError::param("config must be an object")),
    }
}

/// `POST /metadata/definitions`.
pub fn create_def(call: &Call) -> Result<Value, AzError> {
    let b = &call.body;
    let name = opt_str(b, "name")?.ok_or_else(|| AzError::param("name is required"))?;
    if !api_name_ok(name) {
        return Err(AzError::param(format!("name must start with a letter and hold letters, digits or _ (at most 64): {name}")));
    }
    let graph = graph_of(call)?.ok_or_else(|| AzError::param("graph (nodes and edges) or flow is required"))?;
    let p = ProcessDef {
        name: name.to_owned(),
        label: opt_str(b, "label")?.map(str::to_owned),
        version: opt_str(b, "version")?.map(str::to_owned),
        description: opt_str(b, "description")?.map(str::to_owned),
        flow: graph.id.clone(),
        active: b.get("active").and_then(Value::as_bool).unwrap_or(true),
        cancelable: true,
        origin: Default::default(),
    };
    let mut d = definition(call.st, &p, graph, call.now());
    if let Some(c) = config_of(b)? {
        d.config.extend(c);
    }
    let mut rt = call.st.runtime.lock();
    if rt.processes.iter().any(|o| o.name == d.name && o.version == d.version) {
        return Err(AzError::param(format!("BPM {} version {} already exists", d.name, d.version)));
    }
    let id = d.id.clone();
    rt.processes.push(d);
    Ok(json!({ "id": id }))
}

/// `PUT /metadata/definitions/{id}`: label, description, active, config and graph.
pub fn update_def(call: &Call) -> Result<Value, AzError> {
    let b = &call.body;
    let graph = graph_of(call)?;
    let config = config_of(b)?;
    let (label, description) = (opt_str(b, "label")?, opt_str(b, "description")?);
    let active = match b.get("active") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(v)) => Some(*v),
        Some(_) => return Err(AzError::param("active must be a boolean")),
    };
    let mut rt = call.st.runtime.lock();
    let d = find_def(&mut rt, def_param(call))?;
    if let Some(l) = label {
        d.label = l.to_owned();
    }
    if let Some(x) = description {
        d.description = x.to_owned();
    }
    if let Some(a) = active {
        d.active = a;
    }
    if let Some(c) = config {
        d.config.extend(c);
    }
    if let Some(g) = graph {
        d.graph = g;
    }
    d.updated_ms = call.now();
    Ok(json!("1"))
}

pub fn delete_def(call: &Call) -> Result<Value, AzError> {
    let id = def_param(call);
    let mut rt = call.st.runtime.lock();
    let before = rt.processes.len();
    rt.processes.retain(|d| d.id != id);
    if rt.processes.len() == before {
        return Err(AzError::not_found(format!("BPM {id}")));
    }
    Ok(json!("1"))
}

/// The documented `state` of an instance.
pub fn state_text(i: &BpInstance) -> &'static str {
    match i.wf.status {
        _ if i.suspended => "Suspended",
        Status::Running | Status::Verifying if i.wf.open_tasks().next().is_some() => "Waiting for user interaction",
        Status::Running | Status::Verifying => "Running",
        Status::Completed => "Completed OK",
        Status::Terminated if i.user_terminated => "User Terminated",
        Status::Terminated => "Terminated",
        Status::Error => "Broken",
    }
}

fn outcome_text(i: &BpInstance) -> &'static str {
    match i.wf.outcome {
        Some(Outcome::Approved) => "approve",
        Some(Outcome::Rejected) => "reject",
        None => "",
    }
}

fn current_element(i: &BpInstance, flow: Option<&Flow>) -> String {
    let node = i.wf.tokens.first().map(|t| t.node);
    node.and_then(|n| flow.map(|f| f.nodes[n].id.clone())).unwrap_or_default()
}

/// Each definition's graph built once, for answers that describe many instances.
fn graphs(rt: &Runtime) -> HashMap<&str, (&BpDefn, Flow)> {
    rt.processes.iter().filter_map(|d| Flow::build(&d.graph).ok().map(|f| (d.id.as_str(), (d, f)))).collect()
}

fn instance_json(id: &str, i: &BpInstance, def: Option<&(&BpDefn, Flow)>) -> Value {
    let (d, flow) = (def.map(|(d, _)| *d), def.map(|(_, f)| f));
    let last = i.wf.tasks.iter().rev().find(|t| t.status == TaskStatus::Done).map(|t| t.assignee.clone()).unwrap_or_default();
    json!({
        "id": id, "name": i.name, "label": d.map(|d| d.label.clone()).unwrap_or_default(), "title": i.title,
        "version": i.version, "type": "BP", "processDefID": i.def_id, "state": state_text(i), "bpStatus": i.bp_status,
        "bpStage": "", "bpStep": current_element(i, flow), "businessKey": i.business_key,
        "curElement": current_element(i, flow), "description": d.map(|d| d.description.clone()).unwrap_or_default(),
        "startTime": time_text(i.wf.created_ms), "endTime": i.wf.finished_ms.map(time_text).unwrap_or_default(),
        "lastHandler": if last.is_empty() { Value::Null } else { json!(user_id(&last)) },
        "suspended": i.suspended, "urgency": 0, "taskOutcome": outcome_text(i),
        "isClosed": !i.wf.is_active(),
        "owner": user_id(&i.wf.initiator), "owner.name": i.wf.initiator,
        "createdBy": user_id(&i.wf.initiator), "createdBy.name": i.wf.initiator,
        "createdDate": time_text(i.wf.created_ms), "lastModifiedDate": time_text(i.wf.updated_ms),
    })
}

/// `POST /runtime/instances`: `{name, version?, variables?}`.
pub fn start(call: &Call) -> Result<Value, AzError> {
    let b = &call.body;
    let name = opt_str(b, "name")?.ok_or_else(|| AzError::param("name is required"))?;
    let version = opt_str(b, "version")?;
    let variables = match b.get("variables") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => return Err(AzError::param("variables must be an object")),
    };
    let mut rt = call.st.runtime.lock();
    let def = {
        let same = rt.processes.iter().filter(|d| d.name == name || d.id == name);
        match version {
            Some(v) => same.into_iter().find(|d| d.version == v).ok_or_else(|| AzError::not_found(format!("BPM {name} version {v}")))?,
            None => same
                .filter(|d| d.active)
                .max_by_key(|d| version_key(&d.version))
                .ok_or_else(|| AzError::not_found(format!("BPM {name} has no active version")))?,
        }
        .clone()
    };
    let flow = graph(&def)?;
    let id = call.st.new_id("002N");
    let wf = Instance::start(&flow, id.clone(), &call.user, variables.clone(), call.now(), &mut Ids(call.st));
    let text_var = |k: &str| variables.get(k).and_then(Value::as_str).map(str::to_owned);
    let inst = BpInstance {
        def_id: def.id.clone(),
        name: def.name.clone(),
        version: def.version.clone(),
        title: text_var("$Flow.Title").unwrap_or_else(|| def.label.clone()),
        business_key: text_var("$Flow.BusinessKey").unwrap_or_else(|| id.clone()),
        bp_status: "New".into(),
        suspended: false,
        user_terminated: false,
        wf,
        calls: Vec::new(),
    };
    let started = time_text(inst.wf.created_ms);
    let out = json!({
        "name": inst.name, "version": inst.version, "id": id, "processDefID": def.id, "interviewLabel": def.label,
        "nextElem": current_element(&inst, Some(&flow)), "isTest": false, "state": "Dispatched", "bpStatus": "New",
        "urgency": 0, "taskOutcome": "", "businessKey": inst.business_key, "startTime": started, "endTime": "",
        "Ext1": "", "Ext2": "", "Ext3": "", "Ext4": "", "Ext5": "", "Ext6": "", "Ext7": 0, "Ext8": 0,
        "suspended": false, "isClosed": false,
    });
    let mut inst = inst;
    super::service_tasks::dispatch(call.world, &id, &mut inst, &flow);
    rt.instances.insert(id, inst);
    Ok(out)
}

/// `GET /runtime/instances?states=…` (required; several comma-separated).
pub fn list(call: &Call) -> Result<Value, AzError> {
    let states = call.req.query_value("states").filter(|s| !s.trim().is_empty()).ok_or_else(|| AzError::param("states is required"))?;
    let states: Vec<&str> = states.split(',').map(str::trim).collect();
    let rt = call.st.runtime.lock();
    let built = graphs(&rt);
    let items: Vec<Value> = rt
        .instances
        .iter()
        .filter(|(_, i)| states.contains(&state_text(i)))
        .map(|(id, i)| instance_json(id, i, built.get(i.def_id.as_str())))
        .collect();
    let desc = match call.req.query_value("orderType").unwrap_or_default().to_ascii_lowercase().as_str() {
        "" | "asc" => false,
        "desc" => true,
        o => return Err(AzError::param(format!("orderType must be asc or desc, got {o}"))),
    };
    let field = call.query("orderField");
    let fields = call.req.query_value("fields");
    Ok(Value::Array(order_and_pick(items, field.as_deref().map(|f| (f, desc)), fields.as_deref())))
}

fn inst_param<'a>(call: &'a Call) -> &'a str {
    call.req.param("iid").unwrap_or_default()
}

/// `GET /runtime/instances/{id}`: the query item plus variables and tasks.
pub fn get(call: &Call) -> Result<Value, AzError> {
    let id = inst_param(call);
    let rt = call.st.runtime.lock();
    let i = rt.instances.get(id).ok_or_else(|| AzError::not_found(format!("BPM instance {id}")))?;
    let def = rt.processes.iter().find(|d| d.id == i.def_id).and_then(|d| Flow::build(&d.graph).ok().map(|f| (d, f)));
    let mut v = instance_json(id, i, def.as_ref());
    let flow = def.as_ref().map(|(_, f)| f);
    v["variables"] = Value::Object(i.wf.data.clone());
    v["tasks"] = Value::Array(i.wf.tasks.iter().skip(1).map(|t| task_json(t, id, i, flow)).collect());
    Ok(v)
}

/// `PUT /runtime/instances/{id}`: `{"action": "suspend" | "resume" | "terminate"}`.
pub fn control(call: &Call) -> Result<Value, AzError> {
    let id = inst_param(call);
    let action = opt_str(&call.body, "action")?.ok_or_else(|| AzError::param("action is required"))?;
    let mut rt = call.st.runtime.lock();
    let i = rt.instances.get_mut(id).ok_or_else(|| AzError::not_found(format!("BPM instance {id}")))?;
    let closed = AzError::param(format!("BPM instance {id} is {}", state_text(i)));
    match action {
        "suspend" if i.wf.is_active() && !i.suspended => i.suspended = true,
        "resume" if i.suspended => i.suspended = false,
        "terminate" if i.wf.is_active() => {
            i.wf.terminate(Act::new(&call.user, call.now())).map_err(|_| closed)?;
            i.suspended = false;
            i.user_terminated = true;
        }
        "suspend" | "resume" | "terminate" => return Err(closed),
        other => return Err(AzError::param(format!("action must be suspend, resume or terminate, got {other}"))),
    }
    i.wf.updated_ms = call.now();
    Ok(json!(state_text(i)))
}

/// `DELETE /runtime/instances/{id}`: answered without `result`.
pub fn delete(call: &Call) -> Result<super::Reply, AzError> {
    let id = inst_param(call);
    call.st.runtime.lock().instances.remove(id).ok_or_else(|| AzError::not_found(format!("BPM instance {id}")))?;
    Ok(super::Reply::Bare)
}

/// `PUT /runtime/instances/{id}/variables`: sets variables the instance has; unknown names and
/// system (`$…`) names are ignored, as documented.
pub fn set_variables(call: &Call) -> Result<super::Reply, AzError> {
    let id = inst_param(call);
    let mut rt = call.st.runtime.lock();
    let i = rt.instances.get_mut(id).ok_or_else(|| AzError::not_found(format!("BPM instance {id}")))?;
    for (k, v) in &call.body {
        if !k.starts_with('$') && i.wf.data.contains_key(k) {
            i.wf.data.insert(k.clone(), v.clone());
        }
    }
    i.wf.updated_ms = call.now();
    Ok(super::Reply::Bare)
}

fn task_json(t: &Task, instance_id: &str, i: &BpInstance, flow: Option<&Flow>) -> Value {
    let node = flow.map(|f| &f.nodes[t.node]);
    let state = match t.status {
        TaskStatus::Open => "Open",
        TaskStatus::Done => "Completed",
        TaskStatus::Cancelled => "Cancelled",
    };
    let outcome = match t.finish_action {
        Some(Action::Agree) => "approve",
        Some(Action::Submit) => "complete",
        Some(Action::Reject) => "reject",
        Some(Action::Transfer) => "transfer",
        _ => "",
    };
    json!({
        "id": t.id, "name": node.map(|n| n.id.clone()).unwrap_or_default(),
        "label": node.map(|n| n.name.clone()).unwrap_or_default(), "instanceId": instance_id,
        "processName": i.name, "title": i.title, "businessKey": i.business_key,
        "assignee": user_id(&t.assignee), "assignee.name": t.assignee, "state": state, "outcome": outcome,
        "comment": t.comment.clone().unwrap_or_default(), "createdDate": time_text(t.created_ms),
        "completedDate": t.finished_ms.map(time_text).unwrap_or_default(),
    })
}

/// `GET /u-route/baas/bp/v2.0/query/tasks?assignee=&state=open|closed|all&instanceId=&start=&limit=`
/// → `{"Recs": [...], "Total": n}`. By default the caller's open tasks; suspended instances'
/// tasks are hidden from the to-do list, as documented.
pub fn tasks(call: &Call) -> Result<Value, AzError> {
    let q = |k: &str| call.query(k);
    let assignee = q("assignee").unwrap_or_else(|| call.user.clone());
    let state = q("state").unwrap_or_else(|| "open".into());
    if !["open", "closed", "all"].contains(&state.as_str()) {
        return Err(AzError::param(format!("state must be open, closed or all, got {state}")));
    }
    let (start, limit) = (call.query_usize("start")?.unwrap_or(0), call.query_usize("limit")?.unwrap_or(usize::MAX));
    let instance = q("instanceId");
    let rt = call.st.runtime.lock();
    let built = graphs(&rt);
    let mut recs = Vec::new();
    for (id, i) in &rt.instances {
        if instance.as_ref().is_some_and(|x| x != id) || (state == "open" && i.suspended) {
            continue;
        }
        let flow = built.get(i.def_id.as_str()).map(|(_, f)| f);
        for t in i.wf.tasks.iter().skip(1) {
            let open = t.status == TaskStatus::Open;
            let wanted = match state.as_str() {
                "open" => open,
                "closed" => !open,
                _ => true,
            };
            if wanted && (t.assignee == assignee || user_id(&t.assignee) == assignee) {
                recs.push(task_json(t, id, i, flow));
            }
        }
    }
    let total = recs.len();
    Ok(json!({ "Recs": recs.into_iter().skip(start).take(limit).collect::<Vec<_>>(), "Total": total }))
}

fn wf_error(e: WfError, task: &str) -> AzError {
    match e {
        WfError::TaskNotFound => AzError::not_found(format!("task {task}")),
        WfError::NotAssignee => AzError { name: "forbidden", detail: Some(format!("task {task} is not assigned to the caller")) },
        WfError::TaskClosed => AzError::param(format!("task {task} is already closed")),
        WfError::TransferToSelf => AzError::param("a task cannot be transferred to its assignee"),
        other => AzError::param(format!("task {task}: {other:?}")),
    }
}

/// `PUT /u-route/baas/bp/v2.0/runtime/tasks/{task_id}`: `{"action": "complete" | "approve" |
/// "reject" | "transfer", "comment"?, "variables"?, "assignee"? (transfer)}` by the task's assignee.
pub fn act_on_task(call: &Call) -> Result<Value, AzError> {
    let task = call.req.param("tid").unwrap_or_default();
    let b = &call.body;
    let action = opt_str(b, "action")?.ok_or_else(|| AzError::param("action is required"))?;
    let comment = opt_str(b, "comment")?;
    let variables = match b.get("variables") {
        None | Some(Value::Null) => None,
        Some(Value::Object(m)) => Some(m.clone()),
        Some(_) => return Err(AzError::param("variables must be an object")),
    };
    let mut guard = call.st.runtime.lock();
    let rt = &mut *guard;
    let (id, i) = rt
        .instances
        .iter_mut()
        .find(|(_, i)| i.wf.tasks.iter().any(|t| t.id == task))
        .ok_or_else(|| AzError::not_found(format!("task {task}")))?;
    if i.suspended {
        return Err(AzError::param(format!("BPM instance {id} is suspended")));
    }
    let def = rt.processes.iter().find(|d| d.id == i.def_id).ok_or_else(|| AzError::not_found(format!("the BPM of task {task}")))?;
    let flow = graph(def)?;
    let act = Act::new(&call.user, call.now()).saying(comment);
    let ids = &mut Ids(call.st);
    match action {
        "complete" | "approve" => {
            let how = if action == "approve" { Action::Agree } else { Action::Submit };
            i.wf.complete(&flow, task, how, act, variables.as_ref(), ids).map_err(|e| wf_error(e, task))?;
        }
        "reject" => i.wf.reject(task, act).map_err(|e| wf_error(e, task))?,
        "transfer" => {
            let to = opt_str(b, "assignee")?.ok_or_else(|| AzError::param("assignee is required to transfer"))?;
            let user = call.world.directory.user(to).ok_or_else(|| AzError::param(format!("user {to} does not exist")))?;
            i.wf.transfer(task, &user.id, act, ids).map_err(|e| wf_error(e, task))?;
        }
        other => return Err(AzError::param(format!("action must be complete, approve, reject or transfer, got {other}"))),
    }
    super::service_tasks::dispatch(call.world, id, i, &flow);
    let t = i.wf.tasks.iter().find(|t| t.id == task).cloned().ok_or_else(|| AzError::not_found(format!("task {task}")))?;
    Ok(task_json(&t, id, i, Some(&flow)))
}
