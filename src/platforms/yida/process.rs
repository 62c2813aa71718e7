//! Process routes (`/v1/process/*`), task execution and the app task center.

use serde_json::{json, Value};

use super::errors::YidaError;
use super::forms::{apply_update, detail, matching, ok, paged, with_instance};
use super::model::{Form, FormInstance, State};
use super::values::{i18n, time_text};
use super::Call;
use crate::core::workflow::{Act, Action, IdSource, Instance, Outcome, Status, TaskStatus};
use crate::http::Response;

/// Task ids are numeric strings from one counter per world, as Yida prints them.
pub struct Ids<'a>(pub &'a State);

impl IdSource for Ids<'_> {
    fn token_id(&mut self) -> u64 {
        self.0.next_number()
    }
    fn task_id(&mut self) -> String {
        self.0.next_number().to_string()
    }
}

pub fn status_name(i: &Instance) -> &'static str {
    match i.status {
        Status::Running | Status::Verifying => "RUNNING",
        Status::Completed => "COMPLETED",
        Status::Terminated => "TERMINATED",
        Status::Error => "ERROR",
    }
}

fn result_name(i: &Instance) -> Option<&'static str> {
    match i.outcome {
        Some(Outcome::Approved) => Some("agree"),
        Some(Outcome::Rejected) => Some("disagree"),
        None => None,
    }
}

fn name_of(call: &Call, user: &str) -> String {
    call.world.directory.user(user).map(|u| u.name).unwrap_or_else(|| user.to_owned())
}

fn title(call: &Call, user: &str) -> String {
    format!("{}发起的流程", name_of(call, user))
}

/// The process form named by `formUuid` (and `processCode` when given).
fn process_form(call: &Call) -> Result<std::sync::Arc<Form>, YidaError> {
    let f = super::forms::form(call)?;
    if f.flow.is_none() {
        return Err(YidaError::param("该表单不是流程表单", call.locale));
    }
    if let Some(code) = call.opt_str("processCode") {
        if f.process_code.as_deref() != Some(code.as_str()) {
            return Err(YidaError::param("processCode 与表单不匹配", call.locale));
        }
    }
    Ok(f)
}

fn instance_detail(call: &Call, f: &Form, i: &FormInstance) -> Value {
    let p = i.process.as_deref();
    let actioners: Vec<Value> = p
        .map(|p| p.open_tasks().map(|t| json!({ "name": i18n(&name_of(call, &t.assignee)), "userId": t.assignee })).collect())
        .unwrap_or_default();
    let mut v = json!({
        "actioners": actioners,
        "processInstanceId": i.process_instance_id,
        "formUuid": f.form_uuid,
        "data": super::values::render(&f.components, &i.data, &call.reading()),
        "processCode": f.process_code,
        "originator": { "name": i18n(&name_of(call, &i.originator)), "userId": i.originator },
        "title": title(call, &i.originator),
        "instanceStatus": p.map(status_name).unwrap_or("COMPLETED"),
        "createTimeGMT": time_text(i.created_ms),
        "modifiedTimeGMT": time_text(i.modified_ms),
    });
    if let Some(r) = p.and_then(result_name) {
        v["approvedResult"] = json!(r);
    }
    v
}

pub fn start(call: &Call) -> Result<Response, YidaError> {
    call.req_str("processCode")?;
    let f = process_form(call)?;
    if !f.can_submit(&call.user) {
        return Err(YidaError::forbidden(call.locale));
    }
    let data = call.json_object("formDataJson", true)?.unwrap_or_default();
    let data = super::values::convert_map(&f.components, &data, &call.world.directory, call.locale)?;
    if let Some(c) = f.components.iter().find(|c| c.required && data.get(&c.id).is_none_or(Value::is_null)) {
        return Err(YidaError::param(&format!("{} 为必填项", c.label), call.locale));
    }
    let inst = super::scenario::new_instance(call.st, &f, data, &call.user, call.now());
    let id = inst.process_instance_id.clone().unwrap_or_default();
    super::events::after(call, &f, &inst, None);
    super::automations::fire(call, &f, &inst, "create");
    f.instances.lock().push(Box::new(inst));
    ok(json!({ "result": id, "success": true }))
}

fn process_hits<'a>(call: &Call, f: &Form, list: &'a [Box<FormInstance>]) -> Result<Vec<&'a FormInstance>, YidaError> {
    let status = call.opt_str("instanceStatus");
    if let Some(s) = &status {
        if !["RUNNING", "TERMINATED", "COMPLETED", "ERROR"].contains(&s.as_str()) {
            return Err(YidaError::param("instanceStatus 取值错误", call.locale));
        }
    }
    let result = call.opt_str("approvedResult");
    if let Some(r) = &result {
        if r != "agree" && r != "disagree" {
            return Err(YidaError::param("approvedResult 取值错误", call.locale));
        }
    }
    let flow = f.flow.clone();
    let system = move |i: &FormInstance, key: &str| -> Option<Value> {
        match key {
            "currentNodeName" => {
                let p = i.process.as_deref()?;
                let names: Vec<String> = p.tokens.iter().filter_map(|t| flow.as_ref().map(|fl| fl.nodes[t.node].name.clone())).collect();
                Some(json!(names.join(",")))
            }
            _ => None,
        }
    };
    let hits = matching(call, f, list, &system)?;
    Ok(hits
        .into_iter()
        .filter(|i| i.process.is_some())
        .filter(|i| status.as_ref().is_none_or(|s| i.process.as_deref().map(status_name) == Some(s.as_str())))
        .filter(|i| result.as_ref().is_none_or(|r| i.process.as_deref().and_then(result_name) == Some(r.as_str())))
        .collect())
}

pub fn instance_ids(call: &Call) -> Result<Response, YidaError> {
    let f = process_form(call)?;
    let (p, size) = call.paging(100)?;
    let list = f.instances.lock();
    let hits = process_hits(call, &f, &list)?;
    let ids: Vec<Value> = hits.iter().skip((p - 1) * size).take(size).map(|i| json!(i.process_instance_id)).collect();
    ok(json!({ "result": paged(ids, hits.len(), p), "success": true }))
}

pub fn instances(call: &Call) -> Result<Response, YidaError> {
    let f = process_form(call)?;
    let (p, size) = call.paging(100)?;
    let list = f.instances.lock();
    let hits = process_hits(call, &f, &list)?;
    let data: Vec<Value> = hits.iter().skip((p - 1) * size).take(size).map(|i| instance_detail(call, &f, i)).collect();
    ok(json!({ "success": true, "errorCode": "", "errorMsg": "", "result": paged(data, hits.len(), p) }))
}

fn process_id(call: &Call) -> Result<String, YidaError> {
    call.req_str("processInstanceId")
}

pub fn get(call: &Call) -> Result<Response, YidaError> {
    let id = process_id(call)?;
    let v = with_instance(call, &id, |f, i| match i.process {
        Some(_) => Ok(instance_detail(call, f, i)),
        None => Err(YidaError::instance_not_found(call.locale)),
    })?;
    ok(json!({ "success": true, "errorCode": "", "errorMsg": "", "result": v }))
}

pub fn delete(call: &Call) -> Result<Response, YidaError> {
    let id = process_id(call)?;
    let form = call.st.find_instance(call.app, &id).ok_or_else(|| YidaError::instance_not_found(call.locale))?;
    let removed = super::forms::take_instances(&form, |i| i.process_instance_id.as_deref() == Some(id.as_str()));
    for inst in &removed {
        super::automations::fire(call, &form, inst, "delete");
    }
    ok(json!({ "success": true, "errorCode": "", "errorMsg": "" }))
}

pub fn terminate(call: &Call) -> Result<Response, YidaError> {
    let id = process_id(call)?;
    with_instance(call, &id, |f, i| {
        let before = i.process.clone();
        let p = i.process.as_deref_mut().ok_or_else(|| YidaError::instance_not_found(call.locale))?;
        p.terminate(Act::new(&call.user, call.now())).map_err(|_| YidaError::param("流程已结束", call.locale))?;
        super::events::after(call, f, i, before.as_deref());
        Ok(())
    })?;
    ok(json!({ "success": true, "errorCode": "", "errorMsg": "" }))
}

pub fn update(call: &Call) -> Result<Response, YidaError> {
    let id = process_id(call)?;
    with_instance(call, &id, |f, i| {
        apply_update(call, f, i, "updateFormDataJson")?;
        if let Some(p) = i.process.as_deref_mut() {
            p.data = i.data.to_record();
        }
        Ok(())
    })?;
    ok(json!({ "success": true }))
}

/// Approval history: the submission, each handled task (HISTORY), then pending tasks (TODO).
pub fn records(call: &Call) -> Result<Response, YidaError> {
    let id = process_id(call)?;
    let content = with_instance(call, &id, |f, i| {
        let p = i.process.as_deref().ok_or_else(|| YidaError::instance_not_found(call.locale))?;
        let flow = f.flow.as_ref().ok_or_else(|| YidaError::instance_not_found(call.locale))?;
        let mut out = Vec::new();
        for (n, t) in p.tasks.iter().enumerate() {
            let node = &flow.nodes[t.node];
            let who = name_of(call, &t.assignee);
            let base = json!({
                "operator": t.assignee, "operatorName": who, "operatorDisplayName": who, "operatorPhotoUrl": "",
                "processInstanceId": id, "activityId": node.id, "showName": node.name, "domains": [], "operatorStatus": "A",
                "operatorAgentIds": [], "size": 1,
            });
            let mut r = base;
            if t.created_by == Action::Start {
                r["type"] = json!("HISTORY");
                r["operateType"] = json!("NEW_PROCESS");
                r["action"] = json!("提交申请");
                r["actionExt"] = json!("submit");
                r["showName"] = json!("提交申请");
                r["operateTime"] = json!(time_text(t.created_ms));
                r["remark"] = json!("");
                r["taskHoldTime"] = json!(0);
                r["taskId"] = json!("null");
                r["id"] = json!(n as u64 + 1);
            } else if t.status == TaskStatus::Open {
                r["type"] = json!("TODO");
                r["taskType"] = json!(if node.mode == crate::core::workflow::Mode::All { "COMMON_ALL_AT_ONCE" } else { "COMMON" });
                r["actionExt"] = json!("doing");
                r["activeTime"] = json!(time_text(t.created_ms));
                r["taskHoldTime"] = json!(call.now() - t.created_ms);
                r["taskId"] = json!(t.id);
            } else if t.status == TaskStatus::Done {
                let (action, ext) = match t.finish_action {
                    Some(Action::Reject) => ("拒绝", "disagree"),
                    Some(Action::Transfer) => ("转交", "forward"),
                    _ => ("同意", "agree"),
                };
                r["type"] = json!("HISTORY");
                r["operateType"] = json!("EXECUTE_TASK_NORMAL");
                r["action"] = json!(action);
                r["actionExt"] = json!(ext);
                r["operateTime"] = json!(time_text(t.finished_ms.unwrap_or(t.created_ms)));
                r["remark"] = json!(t.comment.clone().unwrap_or_default());
                r["taskHoldTime"] = json!(t.finished_ms.unwrap_or(t.created_ms) - t.created_ms);
                r["taskId"] = json!(t.id);
                r["id"] = json!(n as u64 + 1);
            } else {
                continue;
            }
            out.push(r);
        }
        Ok(out)
    })?;
    ok(json!({ "success": true, "content": content }))
}

/// Approve (`AGREE`) or reject (`DISAGREE`) one task of the caller, optionally updating form data.
pub fn execute(call: &Call) -> Result<Response, YidaError> {
    let task = call.req_str("taskId")?;
    let proc_id = call.req_str("procInstId")?;
    let out = call.req_str("outResult")?;
    let remark = call.req_str("remark")?;
    if out != "AGREE" && out != "DISAGREE" {
        return Err(YidaError::param("outResult 只能是 AGREE 或 DISAGREE", call.locale));
    }
    let patch = call.json_object("formDataJson", false)?;
    with_instance(call, &proc_id, |f, i| {
        let before = i.process.clone();
        let flow = f.flow.clone().ok_or_else(|| YidaError::instance_not_found(call.locale))?;
        let patch = match &patch {
            Some(p) => Some(super::values::convert_map(&f.components, p, &call.world.directory, call.locale)?),
            None => None,
        };
        let p = i.process.as_deref_mut().ok_or_else(|| YidaError::instance_not_found(call.locale))?;
        let owner =
            p.tasks.iter().find(|t| t.id == task).map(|t| t.assignee.clone()).ok_or_else(|| YidaError::param("任务不存在", call.locale))?;
        if owner != call.user && !owner.is_empty() {
            return Err(YidaError::forbidden(call.locale));
        }
        let act = Act::new(&call.user, call.now()).saying(Some(remark.as_str()));
        let res = if out == "AGREE" {
            p.complete(&flow, &task, Action::Agree, act, patch.as_ref(), &mut Ids(call.st))
        } else {
            p.reject(&task, act)
        };
        res.map_err(|_| YidaError::param("任务已处理或流程已结束", call.locale))?;
        let changed = patch.is_some();
        if let Some(patch) = patch {
            i.update_data(&f.interner, &call.user, call.now(), &patch);
        }
        i.modified_ms = call.now();
        super::events::after(call, f, i, before.as_deref());
        if changed {
            super::automations::fire(call, f, i, "update");
        }
        Ok(())
    })?;
    ok(json!({ "success": true, "errorCode": "", "errorMsg": "" }))
}

/// Hands one open task to another person (转交): its assignee may, or anyone with `byManager` = `y`.
pub fn redirect(call: &Call) -> Result<Response, YidaError> {
    let task = call.req_str("taskId")?;
    let proc_id = call.req_str("procInstId")?;
    let to = call.req_str("nowActionExecutorId")?;
    if call.world.directory.user(&to).is_none_or(|u| u.status != 1) {
        return Err(YidaError::param("nowActionExecutorId 不存在", call.locale));
    }
    let by_manager = call.opt_str("byManager").is_some_and(|m| m.eq_ignore_ascii_case("y"));
    let remark = call.opt_str("remark");
    with_instance(call, &proc_id, |f, i| {
        let before = i.process.clone();
        let p = i.process.as_deref_mut().ok_or_else(|| YidaError::instance_not_found(call.locale))?;
        let owner =
            p.tasks.iter().find(|t| t.id == task).map(|t| t.assignee.clone()).ok_or_else(|| YidaError::param("任务不存在", call.locale))?;
        if owner != call.user && !by_manager {
            return Err(YidaError::forbidden(call.locale));
        }
        let act = Act::new(&owner, call.now()).saying(remark.as_deref());
        p.transfer(&task, &to, act, &mut Ids(call.st)).map_err(|_| YidaError::param("任务已处理或流程已结束", call.locale))?;
        i.modified_ms = call.now();
        super::events::after(call, f, i, before.as_deref());
        Ok(())
    })?;
    ok(json!({ "success": true, "errorCode": "", "errorMsg": "" }))
}

/// Every (form, instance) of the app the caller may see.
fn each_instance(call: &Call, mut f: impl FnMut(&Form, &FormInstance)) {
    if let Some(app) = call.st.apps.get(call.app) {
        for form in &app.forms {
            if !form.can_view(&call.user) {
                continue;
            }
            for i in form.instances.lock().iter() {
                f(form, i);
            }
        }
    }
}

fn keyword_ok(call: &Call, title: &str) -> bool {
    call.opt_str("keyword").is_none_or(|k| title.contains(&k))
}

fn page_result(call: &Call, mut items: Vec<(i64, Value)>) -> Result<Response, YidaError> {
    let (p, size) = call.paging(100)?;
    items.sort_by_key(|x| std::cmp::Reverse(x.0));
    let total = items.len();
    let data: Vec<Value> = items.into_iter().skip((p - 1) * size).take(size).map(|x| x.1).collect();
    ok(json!({ "success": true, "result": paged(data, total, p) }))
}

fn task_item(call: &Call, i: &FormInstance, task_id: &str, created: i64) -> Value {
    let t = title(call, &i.originator);
    json!({
        "processInstanceId": i.process_instance_id, "originatorName": name_of(call, &i.originator), "title": t, "titleEn": t,
        "originatorPhoto": "", "createTime": time_text(created), "appType": call.app, "originatorNameEn": name_of(call, &i.originator),
        "originatorId": i.originator, "taskId": task_id,
    })
}

pub fn todo(call: &Call) -> Result<Response, YidaError> {
    let mut items = Vec::new();
    each_instance(call, |_, i| {
        for t in i.process.iter().flat_map(|p| p.open_tasks()).filter(|t| t.assignee == call.user) {
            let mut v = task_item(call, i, &t.id, t.created_ms);
            v["status"] = json!("NEW");
            if keyword_ok(call, v["title"].as_str().unwrap_or("")) {
                items.push((t.created_ms, v));
            }
        }
    });
    page_result(call, items)
}

pub fn done(call: &Call) -> Result<Response, YidaError> {
    let mut items = Vec::new();
    each_instance(call, |_, i| {
        for t in i
            .process
            .iter()
            .flat_map(|p| p.tasks.iter())
            .filter(|t| t.assignee == call.user && t.status == TaskStatus::Done && t.created_by != Action::Start)
        {
            let mut v = task_item(call, i, &t.id, t.created_ms);
            v["status"] = json!("COMPLETED");
            v["finishTime"] = json!(time_text(t.finished_ms.unwrap_or(t.created_ms)));
            if keyword_ok(call, v["title"].as_str().unwrap_or("")) {
                items.push((t.finished_ms.unwrap_or(0), v));
            }
        }
    });
    page_result(call, items)
}

fn submit_item(call: &Call, f: &Form, i: &FormInstance) -> Value {
    let inst_value: Vec<Value> = f
        .components
        .iter()
        .filter_map(|c| {
            i.data.get(&c.id).map(|v| {
                json!({ "componentId": format!("node_{}", c.id), "componentName": c.kind, "fieldId": c.id, "label": c.label, "validation": [],
                        "fieldData": { "complexType": "custom", "dataType": "CHANGED", "pass": true, "value": v }, "errorMsg": null, "hasError": false })
            })
        })
        .collect();
    json!({
        "modifiedTime": time_text(i.modified_ms), "formInstanceId": i.form_inst_id, "title": detail(call, f, i)["title"],
        "instValue": inst_value, "processId": if i.process.is_some() { 1 } else { 0 }, "appType": call.app, "dataMap": i.data,
        "originatorId": i.originator, "formUuid": f.form_uuid, "dataType": if i.process.is_some() { "proc" } else { "finst" },
        "originatorAvatar": "", "version": i.version, "createTime": time_text(i.created_ms),
        "processInstanceId": i.process_instance_id,
    })
}

pub fn my_submit(call: &Call) -> Result<Response, YidaError> {
    let mut items = Vec::new();
    each_instance(call, |f, i| {
        if i.originator == call.user {
            let v = submit_item(call, f, i);
            if keyword_ok(call, v["title"].as_str().unwrap_or("")) {
                items.push((i.created_ms, v));
            }
        }
    });
    page_result(call, items)
}

/// Carbon copies (抄送我的): instances whose flow copied the caller at a node it reached.
pub fn notify(call: &Call) -> Result<Response, YidaError> {
    let codes: Option<Vec<String>> = match call.p.get("processCodes") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(Value::String(s)) => {
            Some(serde_json::from_str(s).map_err(|_| YidaError::param("processCodes 不是合法的 JSON 数组", call.locale))?)
        }
        Some(Value::Array(a)) => Some(a.iter().filter_map(Value::as_str).map(str::to_owned).collect()),
        Some(_) => return Err(YidaError::param("processCodes 不是合法的 JSON 数组", call.locale)),
    };
    let status = call.opt_str("instanceStatus");
    let mut items = Vec::new();
    each_instance(call, |f, i| {
        let Some(p) = &i.process else { return };
        let copied = p.cc.iter().find(|c| c.user == call.user);
        let code_ok = codes.as_ref().is_none_or(|c| f.process_code.as_ref().is_some_and(|pc| c.contains(pc)));
        if let (Some(c), true) = (copied, code_ok) {
            if status.as_ref().is_none_or(|s| s == status_name(p)) {
                items.push((c.created_ms, submit_item(call, f, i)));
            }
        }
    });
    page_result(call, items)
}
