//! Integration & automation (集成&自动化): a form event trigger starts a logic flow whose HTTP
//! connector calls the customer's service. The emulator models the common shape — one trigger, one
//! call — per form: `automations = [{ name, on, call = { url, method, body, headers } }]`. A record
//! created, updated or deleted (by anyone, through any API) fires the automations listening for it;
//! the call goes through the outbox, off the request path, once (the connector's own execution log
//! is the delivery journal).
//!
//! Every firing is a run (a logic-flow instance) kept in the platform's automation log: the Open API's
//! `logs/automations/paginationQuery` lists runs and `logs/automations` gives a run's nodes (the
//! trigger, then the connector call with its request and answer), both read from the run's delivery.
//!
//! Templates in the call see `appType`, `formUuid`, `formInstanceId`, `processInstanceId`, `event`
//! (`create`/`update`/`delete`), `operator` (the acting user's id) and `formData` (the record in the
//! documented return format); without `body`, all of them are sent as a JSON object.

use serde_json::{json, Map, Value};
use sha1::{Digest, Sha1};

use super::errors::YidaError;
use super::model::{Form, FormInstance};
use super::values::time_text;
use super::Call;
use crate::core::http_call::HttpCall;
use crate::core::outbound::{Delivery, Message, Outcome, RetryPolicy};
use crate::core::template;
use crate::http::Response;

/// The outbox event name of an automation's call.
pub const EVENT: &str = "automation";

/// The form events an automation may listen for.
pub const TRIGGERS: &[&str] = &["create", "update", "delete"];

/// One attempt, 10 s to answer unless the call says otherwise.
pub const POLICY: RetryPolicy = RetryPolicy { timeout_ms: 10_000, retry_after_ms: &[], disable_after_failures: None };

/// One automation of a form, from the scenario.
#[derive(Debug, Clone, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AutomationDef {
    /// The automation's name: the delivery's target.
    pub name: String,
    /// The form events that start it: `create`, `update`, `delete` (default: all three).
    pub on: Option<Vec<String>>,
    /// The HTTP connector's call (its `outputs` are not used: the flow ends with the call).
    pub call: HttpCall,
}

impl AutomationDef {
    /// What a scenario check reports, as (key, message).
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if self.name.trim().is_empty() {
            out.push(("name", "expected a name, got an empty string".to_owned()));
        }
        for t in self.on.iter().flatten().filter(|t| !TRIGGERS.contains(&t.as_str())) {
            out.push(("on", format!("expected one of {}, got {t:?}", TRIGGERS.join(", "))));
        }
        if let Err(e) = self.call.check("call") {
            out.push(("call", e));
        }
        if !self.call.outputs.is_empty() {
            out.push(("call", "call.outputs: an automation ends with its call, so nothing reads its answer".to_owned()));
        }
        out
    }

    fn listens(&self, trigger: &str) -> bool {
        self.on.as_ref().is_none_or(|on| on.iter().any(|t| t == trigger))
    }
}

/// Runs kept per namespace; the oldest give way (the product keeps its run logs for a limited time).
pub const MAX_RUNS: usize = 10_000;

/// One firing of an automation: a logic-flow instance whose one connector call is delivery `delivery`.
#[derive(Debug, Clone)]
pub struct Run {
    /// `procInstanceId`.
    pub id: String,
    pub delivery: u64,
    pub app_type: String,
    pub form_uuid: String,
    /// `processCode`: the automation's code, stable per form and name.
    pub code: String,
    pub name: String,
    pub trigger: String,
    /// `srcProcInstanceId`: the form instance whose change started it.
    pub source: String,
    pub source_time: i64,
    pub started_ms: i64,
}

/// `LPROC-` + 32 characters derived from the form and the automation's name, so a scenario's
/// automations keep their codes from run to run.
pub fn code_of(form_uuid: &str, name: &str) -> String {
    let digest = Sha1::digest(format!("{form_uuid}\u{0}{name}").as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02X}")).collect();
    format!("LPROC-{}", &hex[..32])
}

/// Queues the call of every automation of `form` listening for `trigger` on `inst`.
pub fn fire(call: &Call, form: &Form, inst: &FormInstance, trigger: &str) {
    if form.automations.iter().all(|a| !a.listens(trigger)) {
        return;
    }
    let vars: Map<String, Value> = json!({
        "appType": form.app_type, "formUuid": form.form_uuid, "formInstanceId": inst.form_inst_id,
        "processInstanceId": inst.process_instance_id, "event": trigger, "operator": call.user,
        "formData": super::values::render(&form.components, &inst.data, &call.reading()),
    })
    .as_object()
    .cloned()
    .unwrap_or_default();
    for a in form.automations.iter().filter(|a| a.listens(trigger)) {
        let target = format!("automation {} of {}", a.name, form.name);
        let message = match a.call.request(&vars, &template::plain, &vars) {
            Ok(request) => {
                let policy = RetryPolicy { timeout_ms: a.call.timeout_ms.unwrap_or(POLICY.timeout_ms), ..POLICY };
                Message::new(super::PLATFORM, EVENT, target, request, policy)
            }
            Err(e) => {
                // A URL template that renders to nothing callable: logged, and nothing is sent.
                tracing::warn!(automation = %a.name, "not sent: {e}");
                continue;
            }
        };
        let delivery = call.world.outbox.enqueue(message);
        let run = Run {
            id: call.st.event_ids.uuid(),
            delivery,
            app_type: form.app_type.clone(),
            form_uuid: form.form_uuid.clone(),
            code: code_of(&form.form_uuid, &a.name),
            name: a.name.clone(),
            trigger: trigger.to_owned(),
            source: inst.form_inst_id.clone(),
            source_time: inst.modified_ms,
            started_ms: call.now(),
        };
        let mut runs = call.st.automation_runs.lock();
        if runs.len() >= MAX_RUNS {
            runs.pop_front();
        }
        runs.push_back(run);
    }
}

/// A run's state as the log shows it: `status` 0 running, 1 succeeded, 2 failed, with the `flag`
/// word, the finish time and the time the call took (nothing while it runs).
struct RunState {
    status: i64,
    flag: &'static str,
    finished: Option<i64>,
    elapsed_ms: i64,
    delivery: Option<Delivery>,
}

fn state_of(call: &Call, run: &Run) -> RunState {
    let delivery = call.world.outbox.get(run.delivery);
    let (status, flag) = match delivery.as_ref().map(|d| d.outcome) {
        Some(Outcome::Pending | Outcome::InFlight) => (0, "RUNNING"),
        Some(Outcome::Delivered) => (1, "SUCCESS"),
        // Failed or dropped; a delivery no longer kept is reported as it ended: failed unless it
        // had been seen delivered, which the log cannot know any more.
        _ => (2, "FAILED"),
    };
    let elapsed_ms = delivery.as_ref().map_or(0, |d| d.attempts.iter().map(|a| a.latency_ms as i64).sum());
    let finished = (status != 0).then(|| {
        delivery
            .as_ref()
            .and_then(|d| d.attempts.last())
            .and_then(|a| crate::core::clock::parse_rfc3339_ms(&a.at))
            .unwrap_or(run.started_ms)
            + elapsed_ms
    });
    RunState { status, flag, finished, elapsed_ms, delivery }
}

/// Runs the log lists newest first, read under the lock and released before deliveries are read.
fn runs(call: &Call) -> Vec<Run> {
    call.st.automation_runs.lock().iter().rev().cloned().collect()
}

fn time_param(call: &Call, name: &str, end: bool) -> Result<Option<i64>, YidaError> {
    match call.p.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(|| YidaError::param(&format!("{name} 必须是时间"), call.locale)),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => s
            .trim()
            .parse::<i64>()
            .ok()
            .or_else(|| super::values::parse_day(s, end))
            .map(Some)
            .ok_or_else(|| YidaError::param(&format!("{name} 的格式应为 yyyy-MM-dd HH:mm:ss"), call.locale)),
        Some(_) => Err(YidaError::param(&format!("{name} 必须是时间"), call.locale)),
    }
}

/// `logs/automations/paginationQuery`: the app's automation runs, newest first, filtered by
/// `formUuid`, `processCode`, `status` and start time (`startTimeGMT`..`endTimeGMT`).
pub fn page(call: &Call) -> Result<Response, YidaError> {
    let (p, size) = call.paging(100)?;
    let form = call.opt_str("formUuid");
    let code = call.opt_str("processCode");
    let status = match call.opt_str("status") {
        None => None,
        Some(s) => Some(s.trim().parse::<i64>().map_err(|_| YidaError::param("status 必须是整数", call.locale))?),
    };
    let (from, to) = (time_param(call, "startTimeGMT", false)?, time_param(call, "endTimeGMT", true)?);
    let mut matched = Vec::new();
    for run in runs(call) {
        let keep = run.app_type == call.app
            && form.as_ref().is_none_or(|f| &run.form_uuid == f)
            && code.as_ref().is_none_or(|c| &run.code == c)
            && from.is_none_or(|t| run.started_ms >= t)
            && to.is_none_or(|t| run.started_ms <= t);
        if !keep {
            continue;
        }
        let state = state_of(call, &run);
        if status.is_some_and(|s| s != state.status) {
            continue;
        }
        matched.push((run, state));
    }
    let total = matched.len();
    let data: Vec<Value> = matched
        .iter()
        .skip((p - 1) * size)
        .take(size)
        .map(|(run, state)| {
            json!({
                "appType": run.app_type, "procInstanceId": run.id, "processCode": run.code,
                "srcProcInstanceId": run.source, "srcProcInstanceFinishTimeGMT": time_text(run.source_time),
                "status": state.status, "flag": state.flag, "elapsedTimeGMT": state.elapsed_ms,
                "finishTimeGMT": state.finished.map(time_text),
            })
        })
        .collect();
    let body = json!({ "pageNumber": p, "totalCount": total, "hasMoreData": p * size < total, "data": data });
    Ok(Response::json(200, &json!({ "success": true, "result": body })))
}

/// `logs/automations`: the nodes of run `procInstanceId` — the form event that started it, then its
/// HTTP connector with the request sent and the answer received — paged by `pageNumber`/`pageSize`.
pub fn detail(call: &Call) -> Result<Response, YidaError> {
    let (p, size) = call.paging(100)?;
    let id = call.req_str("procInstanceId")?;
    let run = runs(call).into_iter().find(|r| r.id == id).ok_or_else(|| YidaError::instance_not_found(call.locale))?;
    let state = state_of(call, &run);
    let trigger = json!({
        "uuid": format!("{}-trigger", run.id), "activityKey": "trigger", "name": format!("表单事件触发（{}）", run.trigger),
        "status": "SUCCESS", "flag": "SUCCESS", "elapsedTimeGMT": 0, "finishTimeGMT": time_text(run.started_ms),
        "inputParams": { "appType": run.app_type, "formUuid": run.form_uuid, "formInstanceId": run.source, "event": run.trigger },
        "outputParams": {}, "others": "",
    });
    let (request, answer, error) = match &state.delivery {
        Some(d) => {
            let last = d.attempts.last();
            let body: Value = serde_json::from_str(&d.request.body).unwrap_or_else(|_| Value::String(d.request.body.clone()));
            (
                json!({ "method": d.request.method, "url": d.request.url, "body": body }),
                json!({ "status": last.and_then(|a| a.status), "body": last.map(|a| a.response_body.clone()) }),
                last.and_then(|a| a.error.clone()).unwrap_or_default(),
            )
        }
        None => (json!({}), json!({}), "the run's call is no longer kept".to_owned()),
    };
    let connector = json!({
        "uuid": format!("{}-connector", run.id), "activityKey": "http_connector", "name": run.name,
        "status": state.flag, "flag": state.flag, "elapsedTimeGMT": state.elapsed_ms,
        "finishTimeGMT": state.finished.map(time_text), "inputParams": request, "outputParams": answer, "others": error,
    });
    let nodes = [trigger, connector];
    let total = nodes.len();
    let data: Vec<Value> = nodes.into_iter().skip((p - 1) * size).take(size).collect();
    let body = json!({ "pageNumber": p, "totalCount": total, "hasMoreData": p * size < total, "data": data });
    Ok(Response::json(200, &json!({ "success": true, "result": body })))
}
