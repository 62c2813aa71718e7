//! DingTalk Open API Yida routes (`/v1.0/yida/*` as on api.dingtalk.com), mapped onto the in-app
//! handlers: parameters are renamed on the way in, bodies reshaped on the way out, so both APIs share
//! one store and one set of rules.
//!
//! Auth: `x-acs-dingtalk-access-token` from `POST /v1.0/oauth2/accessToken` (`[yida] app_keys`), valid
//! 7200 s on the emulator clock; `systemToken` must match the app's `system_token` when one is set;
//! `userId` is the acting user. Success bodies are bare objects; errors are HTTP 4xx
//! `{"code", "message", "requestid"}`.

use hyper::Method;
use serde_json::{json, Map, Value};

use super::errors::{self, YidaError};
use super::{forms, process, Call, PLATFORM};
use crate::http::{json_object, Response};
use crate::router::{Ctx, Route};

const TOKEN_TTL_MS: i64 = 7_200_000;

fn error(status: u16, code: &str, message: &str, ctx: &Ctx) -> Response {
    let requestid = ctx.world.platforms.yida.as_ref().map(|s| s.ids.uuid()).unwrap_or_default();
    Response::json(status, &json!({ "code": code, "message": message, "requestid": requestid }))
}

/// Named errors on the Open API paths: the gateway's `{code, message, requestid}` with an HTTP status.
/// The codes for unknown paths, throttling and server errors are the DingTalk gateway's as client code
/// handles them; the emulator's choices are listed in `docs/fidelity.md`.
pub fn render_named(name: &str, path: &str) -> Option<Response> {
    let (status, code, message) = match name {
        "unauthorized" => (401, "InvalidAuthentication", "不合法的access_token"),
        "forbidden" => (403, "Forbidden.AccessDenied", "没有权限"),
        "not_found" | "route_not_found" => (404, "InvalidAction.NotFound", "Specified api is not found, please check your url and method."),
        "invalid_param" => (400, "InvalidParameter", "参数错误"),
        "instance_not_found" => (400, "InvalidParameter", "实例不存在"),
        "csrf" => (403, "Forbidden.AccessDenied", "csrf校验失败"),
        "payload_too_large" => (413, "InvalidParameter.BodyTooLarge", "request body too large"),
        "rate_limited" => (429, "Throttling", "请求过于频繁，请稍后再试"),
        "internal_error" => (500, "InternalError", "系统繁忙，请稍后再试"),
        _ => return None,
    };
    // No state to draw an id from: a stable id per (name, path), in the gateway's format.
    let h = crate::core::ids::fnv1a(format!("{name} {path}").as_bytes());
    let requestid =
        format!("{:08X}-{:04X}-{:04X}-{:04X}-{:012X}", h >> 32, (h >> 16) & 0xffff, h & 0xffff, (h >> 48) & 0xffff, h & 0xffff_ffff_ffff);
    Some(Response::json(status, &json!({ "code": code, "message": message, "requestid": requestid })))
}

pub fn access_token(ctx: &Ctx) -> Response {
    let Some(st) = ctx.world.platforms.yida.as_ref() else { return error(400, "InvalidParameter", "yida is not configured", ctx) };
    let body = json_object(&ctx.req.body).unwrap_or_default();
    let key = body.get("appKey").and_then(Value::as_str).unwrap_or("");
    let secret = body.get("appSecret").and_then(Value::as_str).unwrap_or("");
    if st.app_keys.get(key).map(String::as_str) != Some(secret) || key.is_empty() {
        return error(400, "invalidClientIdOrSecret", "无效的clientId或者clientSecret", ctx);
    }
    let token = issue_token(st, ctx.world);
    Response::json(200, &json!({ "accessToken": token, "expireIn": TOKEN_TTL_MS / 1000 }))
}

/// A new Open API access token of this world, valid for [`TOKEN_TTL_MS`] on its clock.
pub fn issue_token(st: &super::model::State, world: &crate::world::World) -> String {
    let token = crate::core::ids::namespaced_secret(&st.ids.uuid().replace('-', ""), &world.namespace);
    let now = world.clock.now_ms();
    st.tokens.lock().insert(token.clone(), now + TOKEN_TTL_MS, (), now);
    token
}

/// Parameter renames from the Open API to the in-app names.
const RENAMES: &[(&str, &str)] = &[
    ("formInstanceId", "formInstId"),
    ("pageNumber", "currentPage"),
    ("createFromTimeGMT", "createFrom"),
    ("createToTimeGMT", "createTo"),
    ("modifiedFromTimeGMT", "modifiedFrom"),
    ("modifiedToTimeGMT", "modifiedTo"),
    ("orderConfigJson", "dynamicOrder"),
    ("departmentId", "deptId"),
    // The corp task lists send the app's system token as `token`.
    ("token", "systemToken"),
    // `apps/forms/query` names the app `appKey` and the page `pageIndex`.
    ("appKey", "appType"),
    ("pageIndex", "currentPage"),
];

/// How an Open API route turns an in-app answer into its own: reshaped from the in-app body, or
/// `None` when the op answers in the Open API's shape already (the hot reads, printed from the store).
type Shape = Option<fn(&Call, Value) -> Option<Value>>;

/// Whether a route acts in one app (`appType`, checked with its system token) or across the tenant.
#[derive(Clone, Copy, PartialEq)]
enum Scope {
    App,
    Tenant,
}

/// Runs an in-app handler for an Open API route and reshapes its answer.
fn open(ctx: &Ctx, op: super::Op, shape: Shape, scope: Scope) -> Response {
    let world = ctx.world;
    let Some(st) = world.platforms.yida.as_ref() else { return error(404, "NotFound", "yida is not configured", ctx) };
    let now = world.clock.now_ms();
    let token = ctx.req.header("x-acs-dingtalk-access-token").unwrap_or("");
    if st.tokens.lock().get(token, now).is_none() {
        return error(401, "InvalidAuthentication", "不合法的access_token", ctx);
    }
    let mut p: Map<String, Value> = ctx.req.query_pairs().into_iter().map(|(k, v)| (k, Value::String(v))).collect();
    if let Ok(body) = json_object(&ctx.req.body) {
        p.extend(body);
    }
    for (k, v) in &ctx.req.params {
        p.insert((*k).to_owned(), Value::String(v.clone()));
    }
    for (from, to) in RENAMES {
        if let Some(v) = p.remove(*from) {
            p.insert((*to).to_owned(), v);
        }
    }
    if let Some(v) = p.get("processInstanceId").cloned() {
        p.entry("procInstId").or_insert(v);
    }
    // Corp-wide routes (task lists) name their apps in `appTypes`; the tenant's first app otherwise.
    if !p.contains_key("appType") {
        let first = p
            .get("appTypes")
            .and_then(Value::as_str)
            .and_then(|a| a.split(',').next().map(str::to_owned))
            .or_else(|| (st.apps.len() == 1).then(|| st.apps.keys().next().cloned()).flatten());
        if let Some(a) = first {
            p.insert("appType".into(), Value::String(a));
        }
    }
    let app = p.get("appType").and_then(Value::as_str).unwrap_or("").to_owned();
    if scope == Scope::App && !st.apps.contains_key(&app) {
        return error(400, "InvalidParameter", "appType 不存在", ctx);
    }
    if let (Scope::App, Some(expected)) = (scope, st.system_tokens.get(&app)) {
        if p.get("systemToken").and_then(Value::as_str) != Some(expected.as_str()) {
            return error(403, "Forbidden.AccessDenied", "systemToken 不正确", ctx);
        }
    }
    let user = p.get("userId").and_then(Value::as_str).unwrap_or("").to_owned();
    if world.directory.user(&user).is_none_or(|u| u.status != 1) {
        return error(400, "InvalidParameter", "userId 不存在", ctx);
    }
    let call = Call { world, st, app: &app, user, p, locale: world.locale };
    let resp = match op(&call) {
        Ok(r) => r,
        Err(e) => return error(if e.code == "TIANSHU_000006" { 403 } else { 400 }, e.code, &e.msg, ctx),
    };
    let Some(shape) = shape else { return resp };
    let Ok(body) = serde_json::from_slice::<Value>(&resp.body.to_bytes()) else {
        return error(500, "InternalError", "internal error", ctx);
    };
    if body.get("success") == Some(&Value::Bool(false)) {
        let code = body["errorCode"].as_str().unwrap_or("400");
        let status = if code == "TIANSHU_000006" { 403 } else { 400 };
        return error(status, code, body["errorMsg"].as_str().unwrap_or(""), ctx);
    }
    match shape(&call, body) {
        Some(v) => Response::json(200, &v),
        None => Response::empty(200),
    }
}

fn result_only(_: &Call, v: Value) -> Option<Value> {
    Some(json!({ "result": v["result"] }))
}

fn empty(_: &Call, _: Value) -> Option<Value> {
    None
}

/// `{}`: for the routes whose SDK reads the body as JSON though it carries nothing (updateInstance).
fn empty_object(_: &Call, _: Value) -> Option<Value> {
    Some(json!({}))
}

fn person(call: &Call, user: &str) -> Value {
    let u = call.world.directory.user(user);
    let name = u.as_ref().map(|u| u.name.clone()).unwrap_or_default();
    let dept = u
        .as_ref()
        .and_then(|u| u.departments.first().copied())
        .and_then(|d| call.world.directory.department(d))
        .map(|d| d.name)
        .unwrap_or_default();
    json!({ "userId": user, "departmentName": dept, "email": u.and_then(|u| u.email).unwrap_or_default(), "name": { "nameInChinese": name, "nameInEnglish": name, "type": "i18n" } })
}

fn form_detail(call: &Call, v: Value) -> Option<Value> {
    let r = &v["result"];
    Some(
        json!({ "formInstId": r["formInstId"], "modifiedTimeGMT": r["gmtModified"], "formData": r["formData"], "originator": person(call, r["originator"]["userId"].as_str().unwrap_or("")) }),
    )
}

/// `forms/instances/search`: the in-app search's page, each record in the Open API's shape.
fn search(call: &Call) -> Result<Response, YidaError> {
    let f = forms::form(call)?;
    let (p, size) = call.paging(100)?;
    let list = f.instances.lock();
    let (hits, total) = forms::matching_page(call, &f, &list, p, size)?;
    let reading = call.reading();
    let mut printed = f.printed(&list, call.world.directory.generation());
    // `{currentPage, totalCount, data}` (that order).
    let mut out = Vec::with_capacity(hits.len() * 720 + 64);
    out.extend_from_slice(format!(r#"{{"currentPage":{p},"totalCount":{total},"data":"#).as_bytes());
    crate::core::json_out::write_array(&mut out, &hits, |out, i| {
        printed.write(i, super::model::PrintShape::OpenApi, reading.english, out, |out| {
            let item = SearchItem { form: &f, inst: i, reading: &reading, name: call.world.directory.user_name(&i.originator) };
            let _ = serde_json::to_writer(out, &item);
        })
    });
    out.push(b'}');
    Ok(Response::json_bytes(200, out))
}

/// One record of an Open API search, printed from the store.
struct SearchItem<'a> {
    form: &'a super::model::Form,
    inst: &'a super::model::FormInstance,
    reading: &'a super::values::Reading<'a>,
    /// The originator's name in the directory (`None`: not a member).
    name: Option<String>,
}

impl serde::Serialize for SearchItem<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let (f, i) = (self.form, self.inst);
        let who = i.originator.as_str();
        let name = self.name.as_deref().unwrap_or_default();
        let mut m = s.serialize_map(Some(10))?;
        m.serialize_entry("formInstanceId", &i.form_inst_id)?;
        m.serialize_entry("formUuid", &f.form_uuid)?;
        m.serialize_entry("formData", &super::values::Rendered { components: &f.components, data: &i.data, reading: self.reading })?;
        m.serialize_entry("title", &forms::Title { originator: name, form: &f.name })?;
        m.serialize_entry("version", &i.version)?;
        m.serialize_entry("createdTimeGMT", &super::values::time_text(i.created_ms))?;
        m.serialize_entry("modifiedTimeGMT", &super::values::time_text(i.modified_ms))?;
        m.serialize_entry("creatorUserId", who)?;
        m.serialize_entry("modifierUserId", who)?;
        m.serialize_entry("originator", &OpenOriginator { user_id: who, user_name: NameI18n { zh: name, en: name, kind: "i18n" } })?;
        m.end()
    }
}

/// `{userId, userName: {nameInChinese, nameInEnglish, type}}`.
#[derive(serde::Serialize)]
struct OpenOriginator<'a> {
    #[serde(rename = "userId")]
    user_id: &'a str,
    #[serde(rename = "userName")]
    user_name: NameI18n<'a>,
}

#[derive(serde::Serialize)]
struct NameI18n<'a> {
    #[serde(rename = "nameInChinese")]
    zh: &'a str,
    #[serde(rename = "nameInEnglish")]
    en: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
}

fn ids_page(_: &Call, v: Value) -> Option<Value> {
    Some(json!({ "pageNumber": v["result"]["currentPage"], "totalCount": v["result"]["totalCount"], "data": v["result"]["data"] }))
}

fn instance(call: &Call, d: &Value) -> Value {
    let executors: Vec<Value> =
        d["actioners"].as_array().map(|a| a.iter().map(|x| person(call, x["userId"].as_str().unwrap_or(""))).collect()).unwrap_or_default();
    let mut v = json!({
        "processInstanceId": d["processInstanceId"], "processCode": d["processCode"], "formUuid": d["formUuid"], "title": d["title"],
        "instanceStatus": d["instanceStatus"], "createTimeGMT": d["createTimeGMT"], "modifiedTimeGMT": d["modifiedTimeGMT"], "data": d["data"],
        "originator": person(call, d["originator"]["userId"].as_str().unwrap_or("")), "actionExecutor": executors,
    });
    if let Some(r) = d.get("approvedResult") {
        v["approvedResult"] = r.clone();
    }
    v
}

fn instance_one(call: &Call, v: Value) -> Option<Value> {
    Some(instance(call, &v["result"]))
}

fn instance_page(call: &Call, v: Value) -> Option<Value> {
    let data: Vec<Value> = v["result"]["data"].as_array().map(|a| a.iter().map(|d| instance(call, d)).collect()).unwrap_or_default();
    Some(json!({ "pageNumber": v["result"]["currentPage"], "totalCount": v["result"]["totalCount"], "data": data }))
}

/// Form definition: `{result: [{componentName, fieldId, label, parentId}]}` (label: the i18n JSON string).
fn definitions(_: &Call, v: Value) -> Option<Value> {
    let result: Vec<Value> = v["content"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|c| json!({ "componentName": c["componentName"], "fieldId": c["key"], "label": c["label"], "parentId": null }))
                .collect()
        })
        .unwrap_or_default();
    Some(json!({ "result": result }))
}

/// The in-app record's times carry a GMT suffix in the Open API's names.
fn gmt(r: &Value, from: &str, to: &str, out: &mut Map<String, Value>) {
    if let Some(v) = r.get(from) {
        out.insert(to.to_owned(), v.clone());
    }
}

/// Operation records: `{result: [{operatorUserId, operateTimeGMT, type, taskId, …}]}`.
fn records(_: &Call, v: Value) -> Option<Value> {
    let result: Vec<Value> = v["content"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|r| {
                    let mut out = Map::new();
                    for k in [
                        "action",
                        "activityId",
                        "operateType",
                        "operatorDisplayName",
                        "operatorName",
                        "operatorPhotoUrl",
                        "operatorStatus",
                        "processInstanceId",
                        "remark",
                        "showName",
                        "size",
                        "taskId",
                        "taskType",
                        "type",
                    ] {
                        if let Some(x) = r.get(k) {
                            out.insert(k.to_owned(), x.clone());
                        }
                    }
                    out.insert("operatorUserId".into(), r["operator"].clone());
                    out.insert("actionExit".into(), r.get("actionExt").cloned().unwrap_or(Value::Null));
                    gmt(r, "operateTime", "operateTimeGMT", &mut out);
                    gmt(r, "activeTime", "activeTimeGMT", &mut out);
                    Value::Object(out)
                })
                .collect()
        })
        .unwrap_or_default();
    Some(json!({ "result": result }))
}

/// Running tasks of one instance: the pending (TODO) entries of its operation records.
fn running(call: &Call, v: Value) -> Option<Value> {
    let result: Vec<Value> = v["content"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|r| r["type"] == "TODO")
                .map(|r| {
                    json!({
                        "taskId": r["taskId"], "activityId": r["activityId"], "processInstanceId": r["processInstanceId"],
                        "actualActionerId": r["operator"], "status": "RUNNING", "taskType": r["taskType"],
                        "title": r["showName"], "titleInEnglish": r["showName"], "activeTimeGMT": r["activeTime"], "createTimeGMT": r["activeTime"],
                        "originatorId": call.user,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    Some(json!({ "result": result }))
}

/// The caller's to-do tasks: `{pageNumber, totalCount, data: [{taskId, processInstanceId, title, status, …}]}`.
fn corp_tasks(_: &Call, v: Value) -> Option<Value> {
    let data: Vec<Value> = v["result"]["data"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|t| {
                    json!({
                        "taskId": t["taskId"], "processInstanceId": t["processInstanceId"], "title": t["title"], "titleInEnglish": t["titleEn"],
                        "status": t["status"], "appType": t["appType"], "originatorId": t["originatorId"], "originatorName": t["originatorName"],
                        "originatorNameInEnglish": t["originatorNameEn"], "originatorPhoto": t["originatorPhoto"],
                        "createTimeGMT": t["createTime"], "activeTimeGMT": t["createTime"], "taskType": "COMMON",
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    Some(json!({ "pageNumber": v["result"]["currentPage"], "totalCount": v["result"]["totalCount"], "data": data }))
}

/// `names` as a list: a JSON array, or a string holding one (JSON or comma-separated).
fn list_param(call: &Call, name: &str) -> Result<Vec<String>, YidaError> {
    let missing = || YidaError::param(&format!("{name} 不能为空"), call.locale);
    let items: Vec<String> = match call.p.get(name) {
        Some(Value::Array(a)) => a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
        Some(Value::String(s)) if s.trim_start().starts_with('[') => {
            serde_json::from_str(s).map_err(|_| YidaError::param(&format!("{name} 不是合法的 JSON 数组"), call.locale))?
        }
        Some(Value::String(s)) => s.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect(),
        _ => return Err(missing()),
    };
    if items.is_empty() {
        return Err(missing());
    }
    if items.len() > BATCH_MAX {
        return Err(YidaError::param(&format!("{name} 最多 {BATCH_MAX} 条"), call.locale));
    }
    Ok(items)
}

/// Most items one batch call takes (the Open API pages document 100).
const BATCH_MAX: usize = 100;

/// Runs an in-app operation as if the call had `extra` parameters.
fn run_with(call: &Call, op: super::Op, extra: &[(&str, Value)]) -> Result<Value, YidaError> {
    let mut p = call.p.clone();
    for (k, v) in extra {
        p.insert((*k).to_owned(), v.clone());
    }
    let one = Call { world: call.world, st: call.st, app: call.app, user: call.user.clone(), p, locale: call.locale };
    let resp = op(&one)?;
    let body: Value = serde_json::from_slice(&resp.body.to_bytes()).unwrap_or(Value::Null);
    if body.get("success") == Some(&Value::Bool(false)) {
        return Err(YidaError {
            code: errors::static_code(body["errorCode"].as_str().unwrap_or("")),
            msg: body["errorMsg"].as_str().unwrap_or("").to_owned(),
        });
    }
    Ok(body)
}

fn batch_answer(result: Vec<Value>) -> Result<Response, YidaError> {
    Ok(Response::json(200, &json!({ "success": true, "result": result })))
}

/// `batchSave`: each JSON string of `formDataJsonList` saved as `saveFormData` would; the ids in order.
/// A failing item stops the batch (earlier ones stay) unless `keepRunningAfterException`.
fn batch_save(call: &Call) -> Result<Response, YidaError> {
    let keep_going = call.p.get("keepRunningAfterException").and_then(Value::as_bool).unwrap_or(false);
    let mut ids = Vec::new();
    for data in list_param(call, "formDataJsonList")? {
        match run_with(call, forms::save, &[("formDataJson", Value::String(data))]) {
            Ok(v) => ids.push(v["result"].clone()),
            Err(_) if keep_going => {}
            Err(e) => return Err(e),
        }
    }
    batch_answer(ids)
}

/// `batchRemove`: every instance of `formInstanceIdList` deleted.
fn batch_remove(call: &Call) -> Result<Response, YidaError> {
    for id in list_param(call, "formInstanceIdList")? {
        run_with(call, forms::delete, &[("formInstId", Value::String(id))])?;
    }
    batch_answer(Vec::new())
}

/// `components` (PUT): the same `updateFormDataJson` applied to every listed instance; the ids updated.
fn batch_update(call: &Call) -> Result<Response, YidaError> {
    let mut ids = Vec::new();
    for id in list_param(call, "formInstanceIdList")? {
        run_with(call, forms::update, &[("formInstId", Value::String(id.clone()))])?;
        ids.push(Value::String(id));
    }
    batch_answer(ids)
}

/// `ids/query`: the listed instances, as `getFormDataById` shows each.
fn batch_get(call: &Call) -> Result<Response, YidaError> {
    let mut out = Vec::new();
    for id in list_param(call, "formInstanceIdList")? {
        let v = run_with(call, forms::get, &[("formInstId", Value::String(id))])?;
        let r = &v["result"];
        let who = r["originator"]["userId"].as_str().unwrap_or("");
        out.push(json!({
            "formInstanceId": r["formInstId"], "formUuid": r["formUuid"], "formData": r["formData"], "title": r["title"], "version": r["version"],
            "createTimeGMT": r["gmtCreate"], "modifiedTimeGMT": r["gmtModified"], "creatorUserId": who, "originator": person(call, who),
        }));
    }
    batch_answer(out)
}

/// `instances/searchWithIds`: the listed process instances.
fn instances_by_ids(call: &Call) -> Result<Response, YidaError> {
    let mut out = Vec::new();
    for id in list_param(call, "processInstanceIds")? {
        let v = run_with(call, process::get, &[("processInstanceId", Value::String(id.clone())), ("procInstId", Value::String(id))])?;
        out.push(instance(call, &v["result"]));
    }
    batch_answer(out)
}

/// A page of the in-app task center reshaped to the Open API's names.
fn task_page(v: Value, item: fn(&Value) -> Value) -> Option<Value> {
    let data: Vec<Value> = v["result"]["data"].as_array().map(|a| a.iter().map(item).collect()).unwrap_or_default();
    Some(json!({ "pageNumber": v["result"]["currentPage"], "totalCount": v["result"]["totalCount"], "data": data }))
}

fn done_tasks(_: &Call, v: Value) -> Option<Value> {
    task_page(v, |t| {
        json!({
            "taskId": t["taskId"], "processInstanceId": t["processInstanceId"], "title": t["title"], "titleInEnglish": t["titleEn"],
            "status": t["status"], "appType": t["appType"], "originatorId": t["originatorId"], "originatorName": t["originatorName"],
            "createTimeGMT": t["createTime"], "finishTimeGMT": t["finishTime"], "taskType": "COMMON",
        })
    })
}

fn submissions(_: &Call, v: Value) -> Option<Value> {
    task_page(v, |s| {
        json!({
            "formInstanceId": s["formInstanceId"], "formUuid": s["formUuid"], "processInstanceId": s["processInstanceId"], "title": s["title"],
            "appType": s["appType"], "dataMap": s["dataMap"], "dataType": s["dataType"], "originatorId": s["originatorId"], "version": s["version"],
            "createTimeGMT": s["createTime"], "modifiedTimeGMT": s["modifiedTime"], "instanceValue": s["instValue"].to_string(),
        })
    })
}

fn copies(_: &Call, v: Value) -> Option<Value> {
    task_page(v, |s| {
        json!({
            "formInstanceId": s["formInstanceId"], "processCode": s["processCode"], "title": s["title"], "titleInEnglish": s["title"],
            "appType": s["appType"], "creatorUserId": s["originatorId"], "createTimeGMT": s["createTime"], "modifiedTimeGMT": s["modifiedTime"],
        })
    })
}

/// `GET /v1.0/yida/forms`: the app's forms, paged.
fn form_list(call: &Call) -> Result<Response, YidaError> {
    form_page(call, None)
}

/// The app's forms (of `types` when given: `receipt`, `process`), one page.
fn form_page(call: &Call, types: Option<&[String]>) -> Result<Response, YidaError> {
    let (p, size) = call.paging(100)?;
    let app = call.st.apps.get(call.app).ok_or_else(|| YidaError::form_not_found(call.locale))?;
    let all: Vec<Value> = app
        .forms
        .iter()
        .map(|f| (f, if f.process_code.is_some() { "process" } else { "receipt" }))
        .filter(|(_, kind)| types.is_none_or(|t| t.iter().any(|t| t == kind)))
        .map(|(f, kind)| {
            json!({ "formUuid": f.form_uuid, "formType": kind, "title": { "zhCN": f.name, "enUS": f.name }, "creator": call.st.default_user, "gmtCreate": 0 })
        })
        .collect();
    let total = all.len();
    let data: Vec<Value> = all.into_iter().skip((p - 1) * size).take(size).collect();
    Ok(Response::json(200, &json!({ "success": true, "result": { "currentPage": p, "totalCount": total, "data": data } })))
}

/// `insertOrUpdate`: the first instance matching `searchCondition` gets `formDataJson` merged in; with
/// none, a new instance is saved. Answers the instance id either way.
fn insert_or_update(call: &Call) -> Result<Response, YidaError> {
    let data = call.p.get("formDataJson").cloned().ok_or_else(|| YidaError::param("formDataJson 不能为空", call.locale))?;
    let condition = call.p.get("searchCondition").cloned().unwrap_or(Value::String("[]".into()));
    let found = run_with(call, forms::search_ids, &[("searchFieldJson", condition), ("currentPage", json!(1)), ("pageSize", json!(1))])?;
    let id = match found["result"]["data"][0].as_str() {
        Some(id) => {
            run_with(call, forms::update, &[("formInstId", Value::String(id.to_owned())), ("updateFormDataJson", data)])?;
            Value::String(id.to_owned())
        }
        None => run_with(call, forms::save, &[("formDataJson", data)])?["result"].clone(),
    };
    Ok(Response::json(200, &json!({ "success": true, "result": id })))
}

/// The advanced queries take their filter as `searchCondition` (the array form of `searchFieldJson`).
fn advanced_search(call: &Call) -> Result<Response, YidaError> {
    let condition = call.p.get("searchCondition").cloned().unwrap_or(Value::Null);
    let body = run_with(call, forms::search, &[("searchFieldJson", condition)])?;
    Ok(Response::json(200, &body))
}

fn advanced_item(call: &Call, d: &Value, keep_tables: bool) -> Value {
    let who = d["originator"]["userId"].as_str().unwrap_or("");
    let mut form_data = d["formData"].clone();
    if let (false, Some(m)) = (keep_tables, form_data.as_object_mut()) {
        m.retain(|k, _| !k.starts_with("tableField_"));
    }
    json!({
        "formInstanceId": d["formInstId"], "formUuid": d["formUuid"], "formData": form_data, "title": d["title"], "version": d["version"],
        "createTimeGMT": d["gmtCreate"], "modifiedTimeGMT": d["gmtModified"], "creatorUserId": who, "originator": person(call, who),
    })
}

fn advanced_page(call: &Call, v: Value, keep_tables: bool) -> Option<Value> {
    let data: Vec<Value> =
        v["result"]["data"].as_array().map(|a| a.iter().map(|d| advanced_item(call, d, keep_tables)).collect()).unwrap_or_default();
    Some(json!({ "pageNumber": v["result"]["currentPage"], "totalCount": v["result"]["totalCount"], "data": data }))
}

fn advanced_all(call: &Call, v: Value) -> Option<Value> {
    advanced_page(call, v, true)
}

fn advanced_no_tables(call: &Call, v: Value) -> Option<Value> {
    advanced_page(call, v, false)
}

/// `taskCopies`: instances that copied the caller, in the shape of the submission list.
fn task_copies(_: &Call, v: Value) -> Option<Value> {
    task_page(v, |s| {
        json!({
            "formInstanceId": s["formInstanceId"], "formUuid": s["formUuid"], "processInstanceId": s["processInstanceId"], "title": s["title"],
            "appType": s["appType"], "dataMap": s["dataMap"], "dataType": s["dataType"], "originatorId": s["originatorId"], "version": s["version"],
            "createTimeGMT": s["createTime"], "modifiedTimeGMT": s["modifiedTime"],
        })
    })
}

/// `runningTasks/query`: the pending approvals of every listed instance.
fn running_task_list(call: &Call) -> Result<Response, YidaError> {
    let mut out = Vec::new();
    for id in list_param(call, "processInstanceIdList")? {
        let v = run_with(call, process::records, &[("processInstanceId", Value::String(id.clone()))])?;
        for r in v["content"].as_array().into_iter().flatten().filter(|r| r["type"] == "TODO") {
            out.push(json!({
                "taskId": r["taskId"], "processInstanceId": id, "actualActionExecutorId": r["operator"], "status": "RUNNING",
                "title": r["showName"], "titleInEnglish": r["showName"], "taskType": r["taskType"], "appType": call.app,
                "activeTimeGMT": r["activeTime"], "createTimeGMT": r["activeTime"],
            }));
        }
    }
    batch_answer(out)
}

/// `processes/activities`: the human nodes of the process `processCode` runs.
fn activities(call: &Call) -> Result<Response, YidaError> {
    let code = call.req_str("processCode")?;
    let app = call.st.apps.get(call.app).ok_or_else(|| YidaError::form_not_found(call.locale))?;
    let form = app
        .forms
        .iter()
        .find(|f| f.process_code.as_deref() == Some(code.as_str()))
        .ok_or_else(|| YidaError::form_not_found(call.locale))?;
    let result: Vec<Value> = form
        .flow
        .iter()
        .flat_map(|f| f.nodes.iter())
        .filter(|n| n.kind.is_human())
        .map(|n| json!({ "activityId": n.id, "activityName": n.name, "activityNameInEnglish": n.name }))
        .collect();
    batch_answer(result)
}

/// A map parameter: a JSON object, or a string holding one.
fn map_param(call: &Call, name: &str) -> Result<Map<String, Value>, YidaError> {
    let m = call.json_object(name, true)?.unwrap_or_default();
    if m.is_empty() {
        return Err(YidaError::param(&format!("{name} 不能为空"), call.locale));
    }
    if m.len() > BATCH_MAX {
        return Err(YidaError::param(&format!("{name} 最多 {BATCH_MAX} 条"), call.locale));
    }
    Ok(m)
}

/// `datas` (PUT): each instance of `updateFormDataJsonMap` gets its own patch; with `ignoreEmpty`
/// the empty values (null, "", []) of a patch are left out. Every instance must belong to `formUuid`
/// (checked before anything is written); answers the ids updated.
fn batch_update_map(call: &Call) -> Result<Response, YidaError> {
    let f = forms::form(call)?;
    let map = map_param(call, "updateFormDataJsonMap")?;
    {
        let list = f.instances.lock();
        if let Some(stray) = map.keys().find(|id| !list.iter().any(|i| &i.form_inst_id == *id)) {
            return Err(YidaError::param(&format!("实例 {stray} 不属于该表单"), call.locale));
        }
    }
    let ignore_empty = call.p.get("ignoreEmpty").and_then(Value::as_bool).unwrap_or(false);
    let mut ids = Vec::new();
    for (id, data) in map {
        let mut patch = match data {
            Value::Object(m) => m,
            Value::String(s) => match serde_json::from_str::<Value>(&s) {
                Ok(Value::Object(m)) => m,
                _ => return Err(YidaError::param(&format!("实例 {id} 的数据不是合法的 JSON 对象"), call.locale)),
            },
            _ => return Err(YidaError::param(&format!("实例 {id} 的数据不是合法的 JSON 对象"), call.locale)),
        };
        if ignore_empty {
            patch.retain(|_, v| !(v.is_null() || v.as_str() == Some("") || v.as_array().is_some_and(Vec::is_empty)));
        }
        run_with(call, forms::update, &[("formInstId", Value::String(id.clone())), ("updateFormDataJson", Value::Object(patch))])?;
        ids.push(Value::String(id));
    }
    batch_answer(ids)
}

/// `outResult` of the batch and platform task routes: `AGREE`/`DISAGREE` in any case.
fn out_result(call: &Call) -> Result<String, YidaError> {
    let out = call.req_str("outResult")?.to_ascii_uppercase();
    if out != "AGREE" && out != "DISAGREE" {
        return Err(YidaError::param("outResult 只能是 AGREE 或 DISAGREE", call.locale));
    }
    Ok(out)
}

/// `tasks/batches/execute`: `taskInformationList` is a JSON array of `{processInstanceId, taskId}`;
/// each task is executed as `executeTask` would, and the answer counts successes and failures.
fn execute_batch_task(call: &Call) -> Result<Response, YidaError> {
    let out = out_result(call)?;
    let bad = || YidaError::param("taskInformationList 应为 [{\"processInstanceId\", \"taskId\"}] 形式的 JSON 数组", call.locale);
    let items: Vec<Value> = match call.p.get("taskInformationList") {
        Some(Value::Array(a)) => a.clone(),
        Some(Value::String(s)) => serde_json::from_str(s).map_err(|_| bad())?,
        _ => return Err(YidaError::param("taskInformationList 不能为空", call.locale)),
    };
    if items.is_empty() {
        return Err(YidaError::param("taskInformationList 不能为空", call.locale));
    }
    if items.len() > BATCH_MAX {
        return Err(YidaError::param(&format!("taskInformationList 最多 {BATCH_MAX} 条"), call.locale));
    }
    let remark = Value::String(call.opt_str("remark").unwrap_or_default());
    let mut ok = 0;
    for item in &items {
        let text = |k: &str| match &item[k] {
            Value::String(s) => Some(Value::String(s.clone())),
            Value::Number(n) => Some(Value::String(n.to_string())),
            _ => None,
        };
        let (Some(proc_id), Some(task)) = (text("processInstanceId"), text("taskId")) else { return Err(bad()) };
        let done = run_with(
            call,
            process::execute,
            &[("procInstId", proc_id), ("taskId", task), ("outResult", Value::String(out.clone())), ("remark", remark.clone())],
        );
        ok += usize::from(done.is_ok());
    }
    let counts = json!({ "total": items.len(), "successNumber": ok, "failNumber": items.len() - ok });
    Ok(Response::json(200, &json!({ "success": true, "result": counts })))
}

/// `tasks/platformTasks/execute`: the caller's open task on `processInstanceId`, executed without
/// naming it.
fn execute_platform_task(call: &Call) -> Result<Response, YidaError> {
    let out = out_result(call)?;
    let id = call.req_str("processInstanceId")?;
    let task = forms::with_instance(call, &id, |_, i| {
        let p = i.process.as_deref().ok_or_else(|| YidaError::instance_not_found(call.locale))?;
        let mine = p.open_tasks().find(|t| t.assignee == call.user).map(|t| t.id.clone());
        mine.ok_or_else(|| YidaError::param("当前用户在该实例上没有待处理的任务", call.locale))
    })?;
    let remark = Value::String(call.opt_str("remark").unwrap_or_default());
    run_with(call, process::execute, &[("taskId", Value::String(task)), ("outResult", Value::String(out)), ("remark", remark)])?;
    Ok(Response::json(200, &json!({ "success": true })))
}

/// `forms/formFields`: the form's components with their settings (`props`) and, for a sub-form,
/// its columns as a JSON string (`children`). App administrators only, like the in-app definition.
fn field_definitions(call: &Call) -> Result<Response, YidaError> {
    fn def(c: &super::model::Component, parent: Option<&str>) -> Value {
        let label = json!({ "zh_CN": c.label, "en_US": c.label, "type": "i18n" });
        let mut props = json!({ "fieldId": c.id, "label": label, "required": c.required, "behavior": "NORMAL" });
        if !c.options.is_empty() {
            props["dataSource"] =
                c.options.iter().map(|o| json!({ "text": { "zh_CN": o, "en_US": o, "type": "i18n" }, "value": o })).collect();
        }
        if let Some(p) = parent {
            props["parentId"] = json!(p);
        }
        let mut v = json!({ "fieldId": c.id, "componentName": c.kind, "label": label, "behavior": "NORMAL", "props": props });
        if !c.items.is_empty() {
            let children: Vec<Value> = c.items.iter().map(|i| def(i, Some(&c.id))).collect();
            v["children"] = json!(Value::Array(children).to_string());
        }
        v
    }
    let f = forms::definition_form(call)?;
    let result: Vec<Value> = f.components.iter().map(|c| def(c, None)).collect();
    batch_answer(result)
}

/// `processes/definitions/{processInstanceId}`: an instance with its tasks and the nodes they sit on.
fn process_definition(call: &Call) -> Result<Response, YidaError> {
    let id = call.req_str("processInstanceId")?;
    let body = forms::with_instance(call, &id, |f, i| {
        let p = i.process.as_deref().ok_or_else(|| YidaError::instance_not_found(call.locale))?;
        let flow = f.flow.as_ref().ok_or_else(|| YidaError::instance_not_found(call.locale))?;
        let member = |user: &str| {
            let who = person(call, user);
            let name = who["name"]["nameInChinese"].clone();
            json!({ "userId": user, "displayName": name, "displayEnName": name, "departmentDescription": who["departmentName"], "status": "A", "personalPhoto": "" })
        };
        let tasks: Vec<Value> = p
            .tasks
            .iter()
            .filter(|t| t.status != crate::core::workflow::TaskStatus::Cancelled)
            .map(|t| {
                let node = &flow.nodes[t.node];
                let open = t.status == crate::core::workflow::TaskStatus::Open;
                json!({
                    "taskId": t.id.parse::<u64>().unwrap_or(0), "actionerId": t.assignee, "status": if open { "NEW" } else { "COMPLETED" },
                    "activity": { "activityId": node.id, "activityName": node.name, "activityNameInEnglish": node.name, "id": t.node,
                                  "activityInstanceStatus": if open { "RUNNING" } else { "COMPLETED" } },
                })
            })
            .collect();
        let owners: Vec<Value> = p.open_tasks().map(|t| member(&t.assignee)).collect();
        let process_id = process_number(f.process_code.as_deref().unwrap_or("")).to_string();
        let mut v = json!({
            "processInstanceId": i.process_instance_id, "processId": process_id,
            "formUuid": f.form_uuid, "title": format!("{}发起的流程", person(call, &i.originator)["name"]["nameInChinese"].as_str().unwrap_or("")),
            "status": process::status_name(p), "originator": member(&i.originator), "owners": owners, "tasks": tasks,
            "variables": super::values::render(&f.components, &i.data, &call.reading()),
        });
        if let Some(r) = match p.outcome {
            Some(crate::core::workflow::Outcome::Approved) => Some("agree"),
            Some(crate::core::workflow::Outcome::Rejected) => Some("disagree"),
            None => None,
        } {
            v["outResult"] = json!(r);
        }
        Ok(v)
    })?;
    Ok(Response::json(200, &json!({ "success": true, "result": body })))
}

/// `forms/operationsLogs/query`: each listed instance of `formUuid` mapped to its operation log,
/// oldest first.
fn operation_logs(call: &Call) -> Result<Response, YidaError> {
    let f = forms::form(call)?;
    let ids = list_param(call, "formInstanceIdList")?;
    let list = f.instances.lock();
    let mut map = Map::new();
    for id in ids {
        let inst = list.iter().find(|i| i.form_inst_id == id).ok_or_else(|| YidaError::instance_not_found(call.locale))?;
        let entries: Vec<Value> = inst
            .log
            .iter()
            .map(|e| {
                let who = person(call, &e.operator);
                json!({
                    "operator": e.operator, "operatorName": who["name"]["nameInChinese"], "operationType": e.kind,
                    "operationTimeGMT": super::values::time_text(e.at), "fieldIds": e.fields,
                })
            })
            .collect();
        map.insert(id, Value::Array(entries));
    }
    Ok(Response::json(200, &json!({ "success": true, "result": { "operationLogMap": map } })))
}

/// `apps/forms/query`: the app's forms (`appKey` names the app), optionally of the types in
/// `formTypeList`, paged by `pageIndex`/`pageSize`.
fn page_form_infos(call: &Call) -> Result<Response, YidaError> {
    let types = match call.p.get("formTypeList") {
        None | Some(Value::Null) => None,
        Some(_) => Some(list_param(call, "formTypeList")?),
    };
    form_page(call, types.as_deref())
}

/// `forms/employeeFields`: the people found in the employee fields named by `targetFieldJson` (a
/// JSON array of field ids, or one id) across the instances matching the search parameters, as a
/// JSON string `{"<fieldId>": [userId, …]}`, each list in first-seen order without repeats.
fn employee_field_values(call: &Call) -> Result<Response, YidaError> {
    let f = forms::form(call)?;
    let targets: Vec<String> = match call.p.get("targetFieldJson") {
        Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
            Ok(Value::Array(a)) => a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
            Ok(Value::String(one)) => vec![one],
            _ => vec![s.trim().to_owned()],
        },
        Some(Value::Array(a)) => a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
        _ => Vec::new(),
    };
    if targets.is_empty() {
        return Err(YidaError::param("targetFieldJson 不能为空", call.locale));
    }
    if let Some(bad) = targets.iter().find(|t| f.component(t).is_none_or(|c| c.kind != "EmployeeField")) {
        return Err(YidaError::param(&format!("field is null: {bad} 不是成员组件"), call.locale));
    }
    let list = f.instances.lock();
    let hits = forms::matching(call, &f, &list, &|_, _| None)?;
    let mut out = Map::new();
    for t in &targets {
        let mut seen: Vec<Value> = Vec::new();
        for values in hits.iter().filter_map(|i| i.data.value(t)) {
            for v in values.as_array().into_iter().flatten() {
                if !seen.contains(v) {
                    seen.push(v.clone());
                }
            }
        }
        out.insert(t.clone(), Value::Array(seen));
    }
    Ok(Response::json(200, &json!({ "success": true, "result": Value::Object(out).to_string() })))
}

/// `forms/instances/query`: the search of `searchFormDatas` without sub-form values, with each
/// instance's serial number, modifier and `hasMoreData`.
fn query_without_tables(call: &Call) -> Result<Response, YidaError> {
    let f = forms::form(call)?;
    let (p, size) = call.paging(100)?;
    let list = f.instances.lock();
    let (hits, total) = forms::matching_page(call, &f, &list, p, size)?;
    let data: Vec<Value> = hits
        .iter()
        .map(|i| {
            let mut form_data = super::values::render(&f.components, &i.data, &call.reading());
            form_data.retain(|k, _| !k.starts_with("tableField_"));
            let serial = i.form_inst_id.get(6..16).unwrap_or("");
            json!({
                "formInstanceId": i.form_inst_id, "id": i.form_inst_id.get(6..16).and_then(|n| u64::from_str_radix(n, 36).ok()).unwrap_or(0),
                "formUuid": f.form_uuid, "formData": form_data, "title": forms::detail(call, &f, i)["title"], "version": i.version,
                "serialNumber": serial, "sequence": serial, "instanceValue": Value::Object(form_data.clone()).to_string(),
                "createTimeGMT": super::values::time_text(i.created_ms), "modifiedTimeGMT": super::values::time_text(i.modified_ms),
                "creatorUserId": i.originator, "modifier": i.modifier, "originator": person(call, &i.originator), "modifyUser": person(call, &i.modifier),
            })
        })
        .collect();
    let body = json!({ "pageNumber": p, "totalCount": total, "hasMoreData": p * size < total, "data": data });
    Ok(Response::json(200, &json!({ "success": true, "result": body })))
}

/// `organizations/applications`: the tenant's apps by code, paged, `appNameSearchKeyword` matching
/// names. An app's system token is shown to its administrators only (to everyone when it names none).
fn applications(call: &Call) -> Result<Response, YidaError> {
    let (p, size) = call.paging(100)?;
    let keyword = call.opt_str("appNameSearchKeyword");
    let mut apps: Vec<&super::model::App> =
        call.st.apps.values().filter(|a| keyword.as_ref().is_none_or(|k| a.name.contains(k.as_str()))).collect();
    apps.sort_by(|a, b| a.app_type.cmp(&b.app_type));
    let corp = call.opt_str("corpId").unwrap_or_default();
    let data: Vec<Value> = forms::page(&apps, p, size)
        .iter()
        .map(|a| {
            let admin = a.admins.as_ref().is_none_or(|list| list.contains(&call.user));
            let creator = a.admins.as_ref().and_then(|list| list.first()).unwrap_or(&call.st.default_user);
            let mut v = json!({
                "appType": a.app_type, "name": a.name, "description": "", "icon": "", "applicationStatus": "ONLINE", "inexistence": "n",
                "creatorUserId": creator, "corpId": corp, "subCorpId": "", "appConfig": "{}", "releaseToDingStatus": "n",
            });
            if let (true, Some(t)) = (admin, call.st.system_tokens.get(&a.app_type)) {
                v["systemToken"] = json!(t);
            }
            v
        })
        .collect();
    Ok(Response::json(200, &json!({ "success": true, "result": { "pageNumber": p, "totalCount": apps.len(), "data": data } })))
}

/// `apps/navigations`: the forms of the app the caller may see, of `formType` (`receipt`,
/// `process`) when given, in the app's order.
fn navigations(call: &Call) -> Result<Response, YidaError> {
    let kind = call.opt_str("formType");
    if kind.as_deref().is_some_and(|k| k != "receipt" && k != "process") {
        return Err(YidaError::param("formType 只能是 receipt 或 process", call.locale));
    }
    let app = call.st.apps.get(call.app).ok_or_else(|| YidaError::form_not_found(call.locale))?;
    let result: Vec<Value> = app
        .forms
        .iter()
        .filter(|f| f.can_view(&call.user))
        .filter(|f| kind.as_deref().is_none_or(|k| (k == "process") == f.process_code.is_some()))
        .map(|f| json!({ "formUuid": f.form_uuid, "processCode": f.process_code, "title": { "nameInChinese": f.name, "nameInEnglish": f.name, "type": "i18n" } }))
        .collect();
    batch_answer(result)
}

/// The numeric id the product gives a process, stable per process code.
fn process_number(code: &str) -> u64 {
    crate::core::ids::fnv1a(code.as_bytes()) % 1_000_000_000
}

/// The process form named by `processCode`, or by the numeric `processId` the design routes take.
fn process_by_code_or_id(call: &Call) -> Result<std::sync::Arc<super::model::Form>, YidaError> {
    let app = call.st.apps.get(call.app).ok_or_else(|| YidaError::form_not_found(call.locale))?;
    let code = call.opt_str("processCode");
    let number = call.opt_str("processId").map(|n| n.trim_end_matches("definitions").to_owned());
    if code.is_none() && number.is_none() {
        return Err(YidaError::param("processCode 不能为空", call.locale));
    }
    app.forms
        .iter()
        .filter(|f| f.flow.is_some())
        .find(|f| {
            let c = f.process_code.as_deref().unwrap_or("");
            code.as_deref() == Some(c) || number.as_deref() == Some(process_number(c).to_string().as_str())
        })
        .cloned()
        .ok_or_else(|| YidaError::form_not_found(call.locale))
}

/// `processes/designStructures` and `processes/{processId}definitions/designs`: the process's nodes
/// as the designer shows them (ids, names, types, links, approvers).
fn process_design(call: &Call) -> Result<Response, YidaError> {
    let f = process_by_code_or_id(call)?;
    let flow = f.flow.as_ref().ok_or_else(|| YidaError::form_not_found(call.locale))?;
    let kind_name = |k: crate::core::workflow::NodeKind| {
        use crate::core::workflow::NodeKind::*;
        match k {
            Start => "start",
            Approve => "approval",
            Handle => "operator",
            Parallel => "parallel",
            Join => "join",
            Condition => "condition",
            Call => "call",
            Script | Subflow => "script",
            End => "end",
        }
    };
    let nodes: Vec<Value> = flow
        .nodes
        .iter()
        .enumerate()
        .map(|(n, node)| {
            let next: Vec<&str> = flow.edges.iter().filter(|e| e.from == n).map(|e| flow.nodes[e.to].id.as_str()).collect();
            let prev = flow.edges.iter().find(|e| e.to == n).map(|e| flow.nodes[e.from].id.as_str()).unwrap_or("");
            json!({
                "nodeId": node.id, "name": { "zh_CN": node.name, "en_US": node.name }, "type": kind_name(node.kind), "prevId": prev, "nextId": next,
                "description": "", "childNodes": [],
                "props": { "approvers": node.assignees, "multiApprove": if node.mode == crate::core::workflow::Mode::All { "all" } else { "any" }, "cc": node.cc },
            })
        })
        .collect();
    let body = json!({
        "nodes": nodes, "approvalSummary": [], "formulaRules": [], "flowConfig": { "sidInstDetail": [] },
        "props": { "processCode": f.process_code, "bindingForm": f.form_uuid, "allowWithdraw": true, "allowCollaboration": false,
                   "allowTemporaryStorage": false, "noRecordRecall": false, "stopAssociationRulesIfFailed": false,
                   "processDetailUrl": "", "processInitUrl": "", "processMobileDetailUrl": "" },
    });
    Ok(Response::json(200, &json!({ "success": true, "result": body })))
}

/// `processDefinitions/buttons/{appType}/{processCode}/{activityId}`: what a task of the node offers:
/// approve nodes agree, reject and transfer; handle nodes submit and transfer.
fn activity_buttons(call: &Call) -> Result<Response, YidaError> {
    let f = process_by_code_or_id(call)?;
    let flow = f.flow.as_ref().ok_or_else(|| YidaError::form_not_found(call.locale))?;
    let activity = call.req_str("activityId")?;
    let node = flow.nodes.iter().find(|n| n.id == activity).ok_or_else(|| YidaError::param("activityId 不存在", call.locale))?;
    let buttons: &[(&str, &str)] = match node.kind {
        crate::core::workflow::NodeKind::Approve => &[("同意", "Agree"), ("拒绝", "Disagree"), ("转交", "Transfer")],
        crate::core::workflow::NodeKind::Handle => &[("提交", "Submit"), ("转交", "Transfer")],
        _ => &[],
    };
    batch_answer(buttons.iter().map(|(zh, en)| json!({ "aliasInChinese": zh, "aliasInEnglish": en })).collect())
}

/// `processes/preview`: the path an instance with `formDataJson` would take if every approver
/// agreed — the submission, then each node's assignees in order — computed on a copy; nothing is stored.
fn preview_process(call: &Call) -> Result<Response, YidaError> {
    struct Scratch(u64);
    impl crate::core::workflow::IdSource for Scratch {
        fn token_id(&mut self) -> u64 {
            self.0 += 1;
            self.0
        }
        fn task_id(&mut self) -> String {
            self.0 += 1;
            self.0.to_string()
        }
    }
    /// Enough for any flow a scenario can hold; a cycle of approvals stops here.
    const MAX_STEPS: usize = 200;
    let f = process_by_code_or_id(call)?;
    let flow = f.flow.as_ref().ok_or_else(|| YidaError::form_not_found(call.locale))?;
    let data = call.json_object("formDataJson", false)?.unwrap_or_default();
    let data = super::values::convert_map(&f.components, &data, &call.world.directory, call.locale)?;
    let now = call.now();
    let mut ids = Scratch(0);
    let mut inst = crate::core::workflow::Instance::start(flow, "preview".into(), &call.user, data, now, &mut ids);
    let name = |u: &str| person(call, u)["name"]["nameInChinese"].clone();
    let mut out = vec![json!({
        "type": "HISTORY", "operateType": "NEW_PROCESS", "showName": "提交申请", "action": "提交申请", "actionExit": "submit",
        "operatorUserId": call.user, "operatorName": name(&call.user), "operatorDisplayName": name(&call.user), "size": 1, "domains": [],
    })];
    for _ in 0..MAX_STEPS {
        let Some(t) = inst.open_tasks().next().cloned() else { break };
        let node = &flow.nodes[t.node];
        out.push(json!({
            "type": "TODO", "activityId": node.id, "showName": node.name, "operatorUserId": t.assignee, "operatorName": name(&t.assignee),
            "operatorDisplayName": name(&t.assignee), "size": 1, "domains": [],
            "taskType": if node.mode == crate::core::workflow::Mode::All { "COMMON_ALL_AT_ONCE" } else { "COMMON" },
        }));
        let act = crate::core::workflow::Act::new(&t.assignee, now);
        if inst.complete(flow, &t.id, crate::core::workflow::Action::Agree, act, None, &mut ids).is_err() {
            break;
        }
    }
    batch_answer(out)
}

/// The handler's `result` as the whole body.
fn result_body(_: &Call, mut v: Value) -> Option<Value> {
    Some(v["result"].take())
}

fn whole(_: &Call, v: Value) -> Option<Value> {
    Some(json!({ "success": true, "result": v["result"] }))
}

fn route(id: &'static str, method: Method, path: &'static str, op: super::Op, shape: fn(&Call, Value) -> Option<Value>) -> Route {
    Route::new(id, PLATFORM, method, path, move |ctx: &Ctx| open(ctx, op, Some(shape), Scope::App))
}

/// A route whose op answers in the Open API's own shape.
fn direct_route(id: &'static str, method: Method, path: &'static str, op: super::Op) -> Route {
    Route::new(id, PLATFORM, method, path, move |ctx: &Ctx| open(ctx, op, None, Scope::App))
}

/// A route that lists across the tenant's apps rather than acting in one.
fn tenant_route(id: &'static str, method: Method, path: &'static str, op: super::Op, shape: fn(&Call, Value) -> Option<Value>) -> Route {
    Route::new(id, PLATFORM, method, path, move |ctx: &Ctx| open(ctx, op, Some(shape), Scope::Tenant))
}

pub fn routes() -> Vec<Route> {
    vec![
        Route::new("yida.openapi.access_token", PLATFORM, Method::POST, "/v1.0/oauth2/accessToken", access_token),
        route("yida.openapi.form.save", Method::POST, "/v1.0/yida/forms/instances", forms::save, result_only),
        route("yida.openapi.form.update", Method::PUT, "/v1.0/yida/forms/instances", forms::update, empty),
        route("yida.openapi.form.delete", Method::DELETE, "/v1.0/yida/forms/instances", forms::delete, empty),
        route("yida.openapi.form.get", Method::GET, "/v1.0/yida/forms/instances/{formInstId}", forms::get, form_detail),
        direct_route("yida.openapi.form.search", Method::POST, "/v1.0/yida/forms/instances/search", search),
        route(
            "yida.openapi.form.search_ids",
            Method::POST,
            "/v1.0/yida/forms/instances/ids/{appType}/{formUuid}",
            forms::search_ids,
            ids_page,
        ),
        route("yida.openapi.process.start", Method::POST, "/v1.0/yida/processes/instances/start", process::start, result_only),
        route("yida.openapi.process.terminate", Method::PUT, "/v1.0/yida/processes/instances/terminate", process::terminate, empty),
        route(
            "yida.openapi.process.get",
            Method::GET,
            "/v1.0/yida/processes/instancesInfos/{processInstanceId}",
            process::get,
            instance_one,
        ),
        route("yida.openapi.process.instances", Method::POST, "/v1.0/yida/processes/instances", process::instances, instance_page),
        route("yida.openapi.process.instance_ids", Method::POST, "/v1.0/yida/processes/instanceIds", process::instance_ids, ids_page),
        route("yida.openapi.task.execute", Method::POST, "/v1.0/yida/tasks/execute", process::execute, empty),
        route(
            "yida.openapi.form.definitions",
            Method::GET,
            "/v1.0/yida/forms/definitions/{appType}/{formUuid}",
            forms::components,
            definitions,
        ),
        route("yida.openapi.form.inner_table", Method::GET, "/v1.0/yida/forms/innerTables/{formInstanceId}", forms::table_rows, ids_page),
        route("yida.openapi.process.delete", Method::DELETE, "/v1.0/yida/processes/instances", process::delete, empty),
        route("yida.openapi.process.update", Method::PUT, "/v1.0/yida/processes/instances", process::update, empty_object),
        route("yida.openapi.process.records", Method::GET, "/v1.0/yida/processes/operationRecords", process::records, records),
        route("yida.openapi.process.running_tasks", Method::GET, "/v1.0/yida/processes/tasks/getRunningTasks", process::records, running),
        route("yida.openapi.task.todo", Method::GET, "/v1.0/yida/corpTasks", process::todo, corp_tasks),
        route("yida.openapi.task.done", Method::GET, "/v1.0/yida/tasks/completedTasks/{corpId}/{userId}", process::done, done_tasks),
        route("yida.openapi.task.my_submit", Method::GET, "/v1.0/yida/tasks/myCorpSubmission/{userId}", process::my_submit, submissions),
        route("yida.openapi.task.notify", Method::GET, "/v1.0/yida/corpNotifications/{userId}", process::notify, copies),
        route("yida.openapi.task.redirect", Method::POST, "/v1.0/yida/tasks/redirect", process::redirect, empty),
        route("yida.openapi.form.batch_save", Method::POST, "/v1.0/yida/forms/instances/batchSave", batch_save, result_only),
        route("yida.openapi.form.batch_remove", Method::POST, "/v1.0/yida/forms/instances/batchRemove", batch_remove, empty),
        route("yida.openapi.form.batch_update", Method::PUT, "/v1.0/yida/forms/instances/components", batch_update, result_only),
        route("yida.openapi.form.batch_get", Method::POST, "/v1.0/yida/forms/instances/ids/query", batch_get, result_only),
        route("yida.openapi.process.by_ids", Method::GET, "/v1.0/yida/processes/instances/searchWithIds", instances_by_ids, result_only),
        route("yida.openapi.form.list", Method::GET, "/v1.0/yida/forms", form_list, whole),
        route(
            "yida.openapi.form.insert_or_update",
            Method::POST,
            "/v1.0/yida/forms/instances/insertOrUpdate",
            insert_or_update,
            result_only,
        ),
        route(
            "yida.openapi.form.advanced_all",
            Method::POST,
            "/v1.0/yida/forms/instances/advances/queryAll",
            advanced_search,
            advanced_all,
        ),
        route("yida.openapi.form.advanced", Method::POST, "/v1.0/yida/forms/instances/advances/query", advanced_search, advanced_no_tables),
        route("yida.openapi.task.copies", Method::GET, "/v1.0/yida/tasks/taskCopies", process::notify, task_copies),
        route("yida.openapi.task.running_list", Method::POST, "/v1.0/yida/tasks/runningTasks/query", running_task_list, result_only),
        route("yida.openapi.process.activities", Method::GET, "/v1.0/yida/processes/activities", activities, result_only),
        route("yida.openapi.form.batch_update_map", Method::PUT, "/v1.0/yida/forms/instances/datas", batch_update_map, result_only),
        route("yida.openapi.task.batch_execute", Method::POST, "/v1.0/yida/tasks/batches/execute", execute_batch_task, result_body),
        route("yida.openapi.task.platform_execute", Method::POST, "/v1.0/yida/tasks/platformTasks/execute", execute_platform_task, empty),
        route("yida.openapi.form.field_defs", Method::GET, "/v1.0/yida/forms/formFields", field_definitions, whole),
        route(
            "yida.openapi.process.definition",
            Method::GET,
            "/v1.0/yida/processes/definitions/{processInstanceId}",
            process_definition,
            result_body,
        ),
        route("yida.openapi.form.operation_logs", Method::POST, "/v1.0/yida/forms/operationsLogs/query", operation_logs, result_body),
        route("yida.openapi.form.page_infos", Method::POST, "/v1.0/yida/apps/forms/query", page_form_infos, whole),
        route("yida.openapi.form.employee_values", Method::POST, "/v1.0/yida/forms/employeeFields", employee_field_values, result_only),
        route("yida.openapi.form.query", Method::POST, "/v1.0/yida/forms/instances/query", query_without_tables, result_body),
        tenant_route("yida.openapi.app.list", Method::GET, "/v1.0/yida/organizations/applications", applications, result_body),
        route("yida.openapi.form.navigations", Method::GET, "/v1.0/yida/apps/navigations", navigations, result_only),
        route(
            "yida.openapi.automation.runs",
            Method::POST,
            "/v1.0/yida/logs/automations/paginationQuery",
            super::automations::page,
            result_body,
        ),
        tenant_route("yida.openapi.automation.run", Method::GET, "/v1.0/yida/logs/automations", super::automations::detail, result_body),
        route("yida.openapi.process.design", Method::GET, "/v1.0/yida/processes/designStructures", process_design, result_body),
        // The SDK builds this path without a slash before `definitions`; the emulator matches what it sends.
        route("yida.openapi.process.design_by_id", Method::GET, "/v1.0/yida/processes/{processId}/designs", process_design, result_body),
        route(
            "yida.openapi.process.buttons",
            Method::GET,
            "/v1.0/yida/processDefinitions/buttons/{appType}/{processCode}/{activityId}",
            activity_buttons,
            result_only,
        ),
        route("yida.openapi.process.preview", Method::POST, "/v1.0/yida/processes/preview", preview_process, result_only),
    ]
}
