//! Flows (服务编排): definitions under `/u-route/baas/metadata/v1.0/Flow` and interviews under
//! `/u-route/baas/v1.0/flow/{action}/…`.
//!
//! `run` walks every step in one call; `start` stops at the first wait step (a screen) and `next`
//! continues from there; `back` returns to the previous screen with the variables it had there;
//! `finish` runs the rest without stopping; `terminate` ends the interview; `del` forgets it.

use serde_json::{json, Map, Value};

use super::data::time_text;
use super::errors::AzError;
use super::model::{user_id, FlowDefn, Interview, InterviewStatus, Runtime};
use super::program::{self, Halt, ParamDef, Paused, Progress, StepDef};
use super::scenario::{api_name_ok, program_problems};
use super::{opt_str, order_and_pick, Call};
use crate::core::outbound::Reply;

fn status_text(s: InterviewStatus) -> &'static str {
    match s {
        InterviewStatus::Active => "Active",
        InterviewStatus::Completed => "Completed",
        InterviewStatus::Terminated => "Terminated",
    }
}

/// `1.0.10` > `1.0.9`: versions compare by their numeric parts.
pub fn version_key(v: &str) -> Vec<u64> {
    v.split('.').map(|p| p.trim().parse().unwrap_or(0)).collect()
}

fn variables(f: &FlowDefn) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    let mut push = |p: &ParamDef, input: bool| {
        if let Some(v) = out.iter_mut().find(|v| v["name"] == p.name) {
            v[if input { "isInput" } else { "isOutput" }] = json!(true);
            return;
        }
        out.push(json!({
            "name": p.name, "label": p.label.clone().unwrap_or_else(|| p.name.clone()), "dataType": p.kind,
            "isCollection": p.collection, "required": p.required, "isInput": input, "isOutput": !input,
        }));
    };
    f.inputs.iter().for_each(|p| push(p, true));
    f.outputs.iter().for_each(|p| push(p, false));
    out
}

fn definition_json(call: &Call, f: &FlowDefn) -> Value {
    json!({
        "id": f.id, "name": f.name, "namespace": call.st.namespace, "label": f.label, "version": f.version,
        "processType": f.process_type, "active": f.active, "status": f.status, "private": f.private,
        "description": f.description, "interviewLabel": f.interview_label, "catalogue": "",
        "structMembers": [], "variables": variables(f), "steps": f.steps,
        "createdBy": user_id(&f.created_by), "createdBy.name": f.created_by,
        "createdDate": time_text(f.created_ms), "lastModifiedDate": time_text(f.updated_ms),
    })
}

fn params_json(list: &[ParamDef]) -> Value {
    Value::Array(
        list.iter()
            .map(|p| {
                json!({ "name": p.name, "label": p.label.clone().unwrap_or_else(|| p.name.clone()), "dataType": p.kind,
                        "isCollection": p.collection, "required": p.required, "description": p.description.clone().unwrap_or_default() })
            })
            .collect(),
    )
}

fn flow_param<'a>(call: &'a Call) -> &'a str {
    call.req.param("fid").unwrap_or_default()
}

fn find_def<'a>(rt: &'a mut Runtime, id_or_name: &str) -> Result<&'a mut FlowDefn, AzError> {
    rt.flows.iter_mut().find(|f| f.id == id_or_name || f.name == id_or_name).ok_or_else(|| AzError::not_found(format!("flow {id_or_name}")))
}

/// `GET /Flow?name=&like=&processType=&active=&skip=&limit=`.
pub fn list_defs(call: &Call) -> Result<Value, AzError> {
    let q = |k: &str| call.query(k);
    let like = q("like").is_some_and(|v| v == "true");
    let name = q("name");
    let (skip, limit) = (call.query_usize("skip")?, call.query_usize("limit")?);
    let rt = call.st.runtime.lock();
    let hits: Vec<Value> = rt
        .flows
        .iter()
        .filter(|f| match &name {
            Some(n) if like => f.name.to_lowercase().contains(&n.to_lowercase()),
            Some(n) => &f.name == n,
            None => true,
        })
        .filter(|f| q("processType").is_none_or(|t| f.process_type == t))
        .filter(|f| q("active").is_none_or(|a| f.active.to_string() == a))
        .skip(skip.unwrap_or(0))
        .take(limit.unwrap_or(usize::MAX))
        .map(|f| definition_json(call, f))
        .collect();
    Ok(Value::Array(hits))
}

/// `GET /Flow/{id}?flag=`: the definition, its parameters (`Describe`) or the objects it uses (`dep`).
pub fn get_def(call: &Call) -> Result<Value, AzError> {
    let mut rt = call.st.runtime.lock();
    let f = find_def(&mut rt, flow_param(call))?;
    match call.req.query_value("flag").unwrap_or_default().as_str() {
        "" | "check" => Ok(definition_json(call, f)),
        "Describe" | "describe" => Ok(json!({ "inputs": params_json(&f.inputs), "outputs": params_json(&f.outputs) })),
        "dep" => {
            let mut objects: Vec<&str> = f.steps.iter().filter_map(StepDef::object).collect();
            objects.dedup();
            Ok(Value::Array(objects.into_iter().map(|o| json!({ "type": "Object", "name": o })).collect()))
        }
        other => Err(AzError::param(format!("flag must be check, Describe or dep, got {other}"))),
    }
}

/// Reads `variables: [{name, dataType, isInput, isOutput, isCollection, required}]` into inputs and outputs.
fn parse_variables(v: Option<&Value>) -> Result<(Vec<ParamDef>, Vec<ParamDef>), AzError> {
    let (mut ins, mut outs) = (Vec::new(), Vec::new());
    let Some(v) = v.filter(|v| !v.is_null()) else { return Ok((ins, outs)) };
    let list = v.as_array().ok_or_else(|| AzError::param("variables must be an array"))?;
    for item in list {
        let name = item.get("name").and_then(Value::as_str).ok_or_else(|| AzError::param("each variable needs a name"))?;
        let flag = |k: &str| item.get(k).and_then(Value::as_bool).unwrap_or(false);
        let p = ParamDef {
            name: name.to_owned(),
            label: item.get("label").and_then(Value::as_str).map(str::to_owned),
            kind: item.get("dataType").and_then(Value::as_str).unwrap_or("Any").to_owned(),
            required: flag("required"),
            collection: flag("isCollection"),
            description: item.get("description").and_then(Value::as_str).map(str::to_owned),
        };
        if flag("isInput") {
            ins.push(p.clone());
        }
        if flag("isOutput") {
            outs.push(p);
        }
    }
    Ok((ins, outs))
}

fn parse_steps(v: Option<&Value>) -> Result<Option<Vec<StepDef>>, AzError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(v) => serde_json::from_value(v.clone()).map(Some).map_err(|e| AzError::param(format!("steps: {e}"))),
    }
}

/// Validation problems reported in `result.errors` (the definition is stored with status `Error`).
fn problems(call: &Call, f: &FlowDefn, start_element: bool) -> Vec<String> {
    let known = |o: &str| call.st.object(o).is_some();
    let mut errs: Vec<String> = program_problems(&f.inputs, &f.outputs, &f.steps, &known)
        .into_iter()
        .map(|(path, msg)| format!("{}: {msg}", crate::scenario::render_path(&path)))
        .collect();
    if f.steps.is_empty() && !start_element {
        errs.push(if call.world.locale == crate::Locale::En {
            "startElement is a required attribute".into()
        } else {
            "startElement为必选属性".into()
        });
    }
    errs
}

/// `POST /Flow`: validation problems come back in `result.errors` with `resCode` "0".
pub fn create_def(call: &Call) -> Result<Value, AzError> {
    let b = &call.body;
    let name = opt_str(b, "name")?.ok_or_else(|| AzError::param("name is required"))?;
    if !api_name_ok(name) {
        return Err(AzError::param(format!("name must start with a letter and hold letters, digits or _ (at most 64): {name}")));
    }
    let label = opt_str(b, "label")?.ok_or_else(|| AzError::param("label is required"))?;
    if label.is_empty() || label.chars().count() > 64 {
        return Err(AzError::param("label must be 1 to 64 characters"));
    }
    let process_type = opt_str(b, "processType")?.unwrap_or("Autolaunched Flow");
    if !["Autolaunched Flow", "Event Trigger"].contains(&process_type) {
        return Err(AzError::param(format!("processType must be Autolaunched Flow or Event Trigger, got {process_type}")));
    }
    if process_type == "Event Trigger" && b.get("event").is_none_or(Value::is_null) {
        return Err(AzError::param("event is required for an Event Trigger flow"));
    }
    let version = opt_str(b, "version")?.unwrap_or("1.0.0").to_owned();
    let (inputs, outputs) = parse_variables(b.get("variables"))?;
    let steps = parse_steps(b.get("steps"))?.unwrap_or_default();
    let now = call.now();
    let mut f = FlowDefn {
        id: call.st.new_id("000y"),
        name: name.to_owned(),
        label: label.to_owned(),
        version,
        process_type: process_type.to_owned(),
        active: b.get("active").and_then(Value::as_bool).unwrap_or(true),
        private: b.get("private").and_then(Value::as_bool).unwrap_or(false),
        status: "Active".into(),
        description: opt_str(b, "description")?.unwrap_or_default().to_owned(),
        interview_label: opt_str(b, "interviewLabel")?.unwrap_or(label).to_owned(),
        inputs,
        outputs,
        steps,
        errors: Vec::new(),
        created_by: call.user.clone(),
        created_ms: now,
        updated_ms: now,
    };
    f.errors = problems(call, &f, b.get("startElement").is_some_and(|v| !v.is_null()));
    if !f.errors.is_empty() {
        f.status = "Error".into();
    }
    let mut rt = call.st.runtime.lock();
    if rt.flows.iter().any(|o| o.name == f.name && o.version == f.version) {
        return Err(AzError::param(format!("flow {} version {} already exists", f.name, f.version)));
    }
    let out = json!({ "errors": f.errors, "id": f.id, "warnings": [] });
    rt.flows.push(f);
    Ok(out)
}

/// `PUT /Flow/{id}`: label, description, active, private, interviewLabel, variables and steps.
pub fn update_def(call: &Call) -> Result<Value, AzError> {
    let b = &call.body;
    let vars = b.get("variables").map(|v| parse_variables(Some(v))).transpose()?;
    let steps = parse_steps(b.get("steps"))?;
    let mut rt = call.st.runtime.lock();
    let f = find_def(&mut rt, flow_param(call))?;
    let mut next = f.clone();
    if let Some(l) = opt_str(b, "label")? {
        next.label = l.to_owned();
    }
    if let Some(d) = opt_str(b, "description")? {
        next.description = d.to_owned();
    }
    if let Some(l) = opt_str(b, "interviewLabel")? {
        next.interview_label = l.to_owned();
    }
    for (key, slot) in [("active", &mut next.active), ("private", &mut next.private)] {
        match b.get(key) {
            None | Some(Value::Null) => {}
            Some(Value::Bool(v)) => *slot = *v,
            Some(_) => return Err(AzError::param(format!("{key} must be a boolean"))),
        }
    }
    if let Some((i, o)) = vars {
        next.inputs = i;
        next.outputs = o;
    }
    if let Some(s) = steps {
        next.steps = s;
    }
    next.updated_ms = call.now();
    next.errors = problems(call, &next, !next.steps.is_empty() || f.status != "Error");
    next.status = if next.errors.is_empty() { "Active".into() } else { "Error".into() };
    *f = next;
    Ok(json!("1"))
}

pub fn delete_def(call: &Call) -> Result<Value, AzError> {
    let id = flow_param(call);
    let mut rt = call.st.runtime.lock();
    let before = rt.flows.len();
    rt.flows.retain(|f| f.id != id);
    if rt.flows.len() == before {
        return Err(AzError::not_found(format!("flow {id}")));
    }
    Ok(json!("1"))
}

/// The flow a `start`/`run` names: `?version=` or the highest active version.
fn runnable(rt: &Runtime, name: &str, version: Option<&str>) -> Result<FlowDefn, AzError> {
    let mut candidates: Vec<&FlowDefn> = rt.flows.iter().filter(|f| f.name == name || f.id == name).collect();
    if candidates.is_empty() {
        return Err(AzError::not_found(format!("flow {name}")));
    }
    let f = match version {
        Some(v) => candidates.into_iter().find(|f| f.version == v).ok_or_else(|| AzError::not_found(format!("flow {name} version {v}")))?,
        None => {
            candidates.retain(|f| f.active);
            candidates
                .into_iter()
                .max_by_key(|f| version_key(&f.version))
                .ok_or_else(|| AzError::param(format!("flow {name} has no active version")))?
        }
    };
    if f.private {
        return Err(AzError { name: "forbidden", detail: Some(format!("flow {name} is private")) });
    }
    if f.status == "Error" {
        return Err(AzError::param(format!("flow {name} has errors: {}", f.errors.join("; "))));
    }
    Ok(f.clone())
}

fn result(iv: &Interview, flow: Option<&FlowDefn>) -> Value {
    let outputs = flow.map(|f| program::outputs(&f.outputs, &iv.vars)).unwrap_or(Value::Null);
    json!({ "interviewId": iv.id, "outputs": outputs })
}

/// Moves `iv` on from step `from`: to the next screen (recorded for `back`), to a Rest action
/// (answered: its index), or to the end.
fn advance(iv: &mut Interview, flow: &FlowDefn, from: usize, screens: bool, call: &Call) -> Result<Option<usize>, AzError> {
    let mut vars = iv.vars.clone();
    let halt = program::execute(&flow.steps, from, screens, &mut vars, &mut Vec::new(), call)?;
    iv.vars = vars;
    iv.updated_ms = call.now();
    iv.calling = false;
    match halt {
        Halt::Wait(i) => {
            iv.at = Some(i);
            iv.history.push((i, iv.vars.clone()));
        }
        Halt::Call(i) => {
            iv.at = Some(i);
            iv.calling = true;
            return Ok(Some(i));
        }
        Halt::End => {
            iv.at = None;
            iv.status = InterviewStatus::Completed;
        }
    }
    Ok(None)
}

/// Where a Flow request awaiting a Rest action goes on. Its interview is stored meanwhile (active,
/// at the call step), so other requests see it.
struct Walk {
    interview: String,
    step: usize,
    screens: bool,
    /// The interview before this request moved it, put back if a later step fails (`None`: the
    /// request started it, and a failure forgets it, as a failing `run` leaves no interview).
    before: Option<Interview>,
}

/// Stores `iv` and answers: its result, or the Rest action it now awaits.
fn settle(
    rt: &mut Runtime,
    iv: Interview,
    flow: &FlowDefn,
    halted: Option<usize>,
    screens: bool,
    before: Option<Interview>,
    call: &Call,
) -> Result<Progress, AzError> {
    let Some(step) = halted else {
        let out = result(&iv, Some(flow));
        rt.interviews.insert(iv.id.clone(), iv);
        return Ok(Progress::Done(out));
    };
    let message = match program::rest_message(&flow.steps, step, &iv.vars, call, &format!("flow {}", flow.name), iv.id.clone()) {
        Ok(m) => m,
        Err(e) => {
            restore(rt, &iv.id, before);
            return Err(e);
        }
    };
    let walk = Walk { interview: iv.id.clone(), step, screens, before };
    rt.interviews.insert(iv.id.clone(), iv);
    Ok(Progress::Calling(Box::new(Paused { message, then: Box::new(move |call, reply| resume(call, walk, reply)) })))
}

/// A failed request leaves the interview as it found it.
fn restore(rt: &mut Runtime, id: &str, before: Option<Interview>) {
    match before {
        Some(b) => rt.interviews.insert(id.to_owned(), b),
        None => rt.interviews.remove(id),
    };
}

/// Goes on with a Rest action's answer: sets the step's outputs and walks on.
fn resume(call: &Call, walk: Walk, reply: &Reply) -> Result<Progress, AzError> {
    let mut rt = call.st.runtime.lock();
    let Walk { interview: id, step, screens, before } = walk;
    let Some(mut iv) = rt.interviews.get(&id).cloned() else { return Err(AzError::not_found(format!("flow instance {id}"))) };
    if !iv.calling || iv.status != InterviewStatus::Active {
        // Terminated (or moved by an import) while the service answered.
        return Err(AzError::param(format!("flow instance {id} is {}", status_text(iv.status))));
    }
    let Some(flow) = rt.flows.iter().find(|f| f.id == iv.flow_id).cloned() else {
        return Err(AzError::not_found(format!("the flow of instance {id}")));
    };
    let walked =
        program::take_answer(&flow.steps, step, reply, &mut iv.vars).and_then(|()| advance(&mut iv, &flow, step + 1, screens, call));
    match walked {
        Ok(halted) => settle(&mut rt, iv, &flow, halted, screens, before, call),
        Err(e) => {
            restore(&mut rt, &id, before);
            Err(e)
        }
    }
}

/// Starts flow `name` (`version`, or the highest active one) with the call's body as its inputs: to
/// the first screen with `screens` (`start`), else through to the end (`run`).
pub fn start(call: &Call, rt: &mut Runtime, name: &str, version: Option<&str>, screens: bool) -> Result<Progress, AzError> {
    let flow = runnable(rt, name, version)?;
    program::check_inputs(&flow.inputs, &call.body)?;
    let vars: Map<String, Value> = if flow.inputs.is_empty() {
        call.body.clone()
    } else {
        flow.inputs.iter().filter_map(|p| call.body.get(&p.name).map(|v| (p.name.clone(), v.clone()))).collect()
    };
    let now = call.now();
    let mut iv = Interview {
        id: call.st.new_id("002N"),
        flow_id: flow.id.clone(),
        flow_name: flow.name.clone(),
        version: flow.version.clone(),
        status: InterviewStatus::Active,
        vars,
        at: None,
        history: Vec::new(),
        creator: call.user.clone(),
        created_ms: now,
        updated_ms: now,
        calling: false,
    };
    let halted = advance(&mut iv, &flow, 0, screens, call)?;
    settle(rt, iv, &flow, halted, screens, None, call)
}

/// `POST /u-route/baas/v1.0/flow/{action}/{name_or_id}`.
pub fn act(call: &Call) -> Result<Progress, AzError> {
    let action = call.req.param("action").unwrap_or_default();
    let target = call.req.param("target").unwrap_or_default();
    let mut rt = call.st.runtime.lock();
    match action {
        "start" | "run" => {
            let version = call.req.query_value("version");
            start(call, &mut rt, target, version.as_deref(), action == "start")
        }
        "next" | "back" | "finish" | "terminate" | "del" => {
            let iv = rt.interviews.get(target).cloned().ok_or_else(|| AzError::not_found(format!("flow instance {target}")))?;
            let flow = rt.flows.iter().find(|f| f.id == iv.flow_id).cloned();
            if action == "del" {
                rt.interviews.remove(target);
                return Ok(Progress::Done(result(&iv, flow.as_ref())));
            }
            if iv.status != InterviewStatus::Active {
                return Err(AzError::param(format!("flow instance {target} is {}", status_text(iv.status))));
            }
            if iv.calling && action != "terminate" {
                return Err(AzError::param(format!("flow instance {target} is waiting for a Rest action")));
            }
            let before = iv.clone();
            let mut iv = iv;
            match action {
                "terminate" => {
                    iv.status = InterviewStatus::Terminated;
                    iv.at = None;
                    iv.calling = false;
                    iv.updated_ms = call.now();
                }
                "back" => {
                    if iv.history.len() < 2 {
                        return Err(AzError::param(format!("flow instance {target} has no previous element")));
                    }
                    iv.history.pop();
                    let (at, vars) = iv.history.last().cloned().unwrap_or_default();
                    iv.at = Some(at);
                    iv.vars = vars;
                    iv.updated_ms = call.now();
                }
                _ => {
                    let flow = flow.as_ref().ok_or_else(|| AzError::not_found(format!("the flow of instance {target}")))?;
                    iv.vars.extend(call.body.iter().map(|(k, v)| (k.clone(), v.clone())));
                    // An interview imported while it awaited a Rest action stands at the call: it calls again.
                    let from =
                        iv.at.map_or(flow.steps.len(), |i| if flow.steps.get(i).is_some_and(|s| s.call.is_some()) { i } else { i + 1 });
                    let screens = action == "next";
                    let halted = advance(&mut iv, flow, from, screens, call)?;
                    return settle(&mut rt, iv, flow, halted, screens, Some(before), call);
                }
            }
            let out = result(&iv, flow.as_ref());
            rt.interviews.insert(iv.id.clone(), iv);
            Ok(Progress::Done(out))
        }
        other => Err(AzError::param(format!("action must be start, run, next, back, finish, terminate or del, got {other}"))),
    }
}

fn instance_json(iv: &Interview, flow: Option<&FlowDefn>) -> Value {
    let element =
        iv.at.and_then(|i| flow.and_then(|f| f.steps.get(i))).map(|s| s.id.clone().or_else(|| s.wait.clone()).unwrap_or_default());
    json!({
        "id": iv.id, "flowId": iv.flow_id, "flowName": iv.flow_name, "version": iv.version,
        "status": status_text(iv.status), "currentElement": element.unwrap_or_default(),
        "interviewLabel": flow.map(|f| f.interview_label.clone()).unwrap_or_default(),
        "owner": user_id(&iv.creator), "owner.name": iv.creator,
        "createdBy": user_id(&iv.creator), "createdBy.name": iv.creator,
        "createdDate": time_text(iv.created_ms), "lastModifiedDate": time_text(iv.updated_ms),
        "variables": iv.vars,
    })
}

/// `GET /u-route/baas/v1.0/flow/{action}`: instances in a state, or one instance by id.
pub fn query(call: &Call) -> Result<Value, AzError> {
    let action = call.req.param("action").unwrap_or_default();
    let rt = call.st.runtime.lock();
    let flow_of = |iv: &Interview| rt.flows.iter().find(|f| f.id == iv.flow_id);
    let status = match action {
        "activeFlow" => Some(InterviewStatus::Active),
        "completedFlow" => Some(InterviewStatus::Completed),
        "terminatedFlow" => Some(InterviewStatus::Terminated),
        // No element suspends an interview in the emulator (screens keep it active).
        "suspendedFlow" => None,
        id => {
            let iv = rt.interviews.get(id).ok_or_else(|| AzError::not_found(format!("flow instance {id}")))?;
            return Ok(instance_json(iv, flow_of(iv)));
        }
    };
    let q = |k: &str| call.query(k);
    let (limit, offset) = (call.query_usize("limit")?.unwrap_or(usize::MAX), call.query_usize("offset")?.unwrap_or(0));
    let who = |key: &str, iv: &Interview| q(key).is_none_or(|u| u == iv.creator || u == user_id(&iv.creator));
    let items: Vec<Value> = rt
        .interviews
        .values()
        .filter(|iv| Some(iv.status) == status && who("owner", iv) && who("creator", iv))
        .map(|iv| instance_json(iv, flow_of(iv)))
        .collect();
    let desc = match q("orderType").as_deref() {
        None | Some("0") => false,
        Some("1") => true,
        Some(o) => return Err(AzError::param(format!("orderType must be 0 or 1, got {o}"))),
    };
    let field = q("orderField");
    let picked = order_and_pick(items, field.as_deref().map(|f| (f, desc)), q("fields").as_deref());
    Ok(Value::Array(picked.into_iter().skip(offset).take(limit).collect()))
}
