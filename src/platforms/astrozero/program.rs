//! The small declarative language behind scenario Flows and scripts.
//!
//! The emulator cannot run Astro Zero's TypeScript or its flow designer's elements, so a Flow or
//! script in a scenario is a list of steps over named variables: assign values, create, update,
//! delete or query records on the real store, call a Rest service (a Rest action), log, fail, or
//! wait for the next call (a screen).
//! Values are templates: `"{{a.b}}"` alone keeps the variable's JSON type, `"x {{a}} y"` renders
//! text. Every step is deterministic and the list is walked once, so a run always terminates.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::data;
use super::errors::AzError;
use super::Call;
use crate::core::http_call::HttpCall;
use crate::core::outbound::{Message, OutRequest, Reply, RetryPolicy};
use crate::core::template;
pub use crate::core::template::text;
use crate::core::workflow::Predicate;
use crate::scenario::EdgeWhen;

/// A declared input or output variable.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ParamDef {
    pub name: String,
    pub label: Option<String>,
    /// `String`, `Number`, `Boolean`, `Date`, `Object` or `Any` (default `Any`); inputs are checked
    /// against it.
    #[serde(rename = "type", default = "any_type")]
    pub kind: String,
    #[serde(default)]
    pub required: bool,
    /// The value is a list of `type`.
    #[serde(default)]
    pub collection: bool,
    pub description: Option<String>,
}

fn any_type() -> String {
    "Any".into()
}

pub const PARAM_TYPES: &[&str] = &["String", "Number", "Boolean", "Date", "Object", "Any"];

/// One step. Exactly one of `assign`, `formula`, `create`, `update`, `delete`, `query`, `call`, `wait`,
/// `log`, `fail`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StepDef {
    /// The element's name (a waiting interview reports it as its current element).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The step runs only when this holds over the variables (`value` may be a template).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<EdgeWhen>,
    /// Variables to set, each a template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assign: Option<Map<String, Value>>,
    /// Variables to set, each from a formula (`IF({!qty} > 10, "bulk", "single")`), in order: a later
    /// formula sees the earlier ones' results. The functions are the formula catalogue's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub formula: Option<Map<String, Value>>,
    /// Creates a record of this object from `values`; `into` receives the new id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create: Option<String>,
    /// Updates record `record` of this object with `values`; fails when it does not exist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update: Option<String>,
    /// Deletes record `record` of this object; `into` receives 1 or 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete: Option<String>,
    /// Queries this object with `condition` (the data API's syntax); `into` receives the records,
    /// or with `first` the first record (or null).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// Calls a Rest service and waits for its answer; `into` receives the JSON answer and
    /// `call.outputs` copies parts of it into variables. A failed call fails the step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call: Option<HttpCall>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<Value>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub first: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub into: Option<String>,
    /// A screen: `start` stops here and `next` continues after it (`run` passes straight through).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait: Option<String>,
    /// Appends a rendered line to the log (scripts return it from `debug`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log: Option<String>,
    /// Stops with this rendered message as a parameter error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail: Option<String>,
}

impl StepDef {
    /// The step's kind, or why it has none / several.
    pub fn kind(&self) -> Result<&'static str, String> {
        let set: Vec<&'static str> = [
            ("assign", self.assign.is_some()),
            ("formula", self.formula.is_some()),
            ("create", self.create.is_some()),
            ("update", self.update.is_some()),
            ("delete", self.delete.is_some()),
            ("query", self.query.is_some()),
            ("call", self.call.is_some()),
            ("wait", self.wait.is_some()),
            ("log", self.log.is_some()),
            ("fail", self.fail.is_some()),
        ]
        .into_iter()
        .filter_map(|(k, on)| on.then_some(k))
        .collect();
        match set.as_slice() {
            [one] => Ok(one),
            [] => Err("expected one of assign, formula, create, update, delete, query, call, wait, log, fail".into()),
            many => Err(format!("expected one action per step, got {}", many.join(" and "))),
        }
    }

    /// The object a data step names.
    pub fn object(&self) -> Option<&str> {
        self.create.as_deref().or(self.update.as_deref()).or(self.delete.as_deref()).or(self.query.as_deref())
    }

    /// Problems a scenario or a metadata call should report before the step ever runs.
    pub fn check(&self) -> Result<(), String> {
        self.kind()?;
        if let Some(w) = &self.when {
            if !crate::scenario::EDGE_OPS.contains(&w.op.as_str()) {
                return Err(format!("when.op: expected one of {}, got {:?}", crate::scenario::EDGE_OPS.join(", "), w.op));
            }
        }
        if (self.update.is_some() || self.delete.is_some()) && self.record.is_none() {
            return Err("update and delete steps need record (the record id)".into());
        }
        if let Some(c) = &self.call {
            c.check("call")?;
        }
        if let Some(set) = &self.formula {
            crate::core::formula::check_set(set)?;
        }
        Ok(())
    }
}

/// Where a walk over the steps stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Halt {
    /// At the wait step with this index.
    Wait(usize),
    /// At the call step with this index: the caller sends [`rest_request`] and goes on with
    /// [`take_answer`] from the next step.
    Call(usize),
    End,
}

/// Checks `inputs` against the declared parameters: required ones present, types right.
pub fn check_inputs(params: &[ParamDef], inputs: &Map<String, Value>) -> Result<(), AzError> {
    for p in params {
        match inputs.get(&p.name) {
            None | Some(Value::Null) if p.required => return Err(AzError::param(format!("input {} is required", p.name))),
            None | Some(Value::Null) => {}
            Some(v) => {
                let ok_one = |v: &Value| match p.kind.as_str() {
                    "String" | "Date" => v.is_string(),
                    "Number" => v.is_number(),
                    "Boolean" => v.is_boolean(),
                    "Object" => v.is_object(),
                    _ => true,
                };
                let ok = if p.collection { v.as_array().is_some_and(|a| a.iter().all(ok_one)) } else { ok_one(v) };
                if !ok {
                    let want = if p.collection { format!("a list of {}", p.kind) } else { p.kind.clone() };
                    return Err(AzError::param(format!("input {} must be {want}", p.name)));
                }
            }
        }
    }
    Ok(())
}

/// The declared outputs picked from the variables (`null` when unset).
pub fn outputs(params: &[ParamDef], vars: &Map<String, Value>) -> Value {
    Value::Object(params.iter().map(|p| (p.name.clone(), vars.get(&p.name).cloned().unwrap_or(Value::Null))).collect())
}

/// Runs `steps[from..]` over `vars`. With `screens`, a wait step stops the walk; without, it is
/// passed. Record writes made before a failing step stay written, as in a flow without a
/// transaction element.
pub fn execute(
    steps: &[StepDef],
    from: usize,
    screens: bool,
    vars: &mut Map<String, Value>,
    log: &mut Vec<String>,
    call: &Call,
) -> Result<Halt, AzError> {
    for (i, step) in steps.iter().enumerate().skip(from) {
        if let Some(w) = &step.when {
            let mut p = Predicate::from_when(w);
            p.value = render(&p.value, vars, call);
            if !p.eval(vars) {
                continue;
            }
        }
        if step.wait.is_some() {
            if screens {
                return Ok(Halt::Wait(i));
            }
            continue;
        }
        if step.call.is_some() {
            return Ok(Halt::Call(i));
        }
        let out = run_step(step, vars, log, call).map_err(|e| match e.detail {
            Some(d) => AzError::param(format!("step {}: {d}", step_name(steps, i))),
            None => e,
        })?;
        if let (Some(into), Some(v)) = (&step.into, out) {
            vars.insert(into.clone(), v);
        }
    }
    Ok(Halt::End)
}

fn object_map(t: &Option<Map<String, Value>>, vars: &Map<String, Value>, call: &Call) -> Map<String, Value> {
    t.as_ref().map(|m| m.iter().map(|(k, v)| (k.clone(), render(v, vars, call))).collect()).unwrap_or_default()
}

fn run_step(step: &StepDef, vars: &mut Map<String, Value>, log: &mut Vec<String>, call: &Call) -> Result<Option<Value>, AzError> {
    if let Some(set) = &step.assign {
        let rendered: Vec<(String, Value)> = set.iter().map(|(k, v)| (k.clone(), render(v, vars, call))).collect();
        vars.extend(rendered);
        return Ok(None);
    }
    if let Some(set) = &step.formula {
        crate::core::formula::assign(set, vars, call.now()).map_err(AzError::param)?;
        return Ok(None);
    }
    if let Some(line) = &step.log {
        log.push(text(&render(&Value::String(line.clone()), vars, call)));
        return Ok(None);
    }
    if let Some(msg) = &step.fail {
        return Err(AzError::param(text(&render(&Value::String(msg.clone()), vars, call))));
    }
    let name = step.object().unwrap_or_default();
    let obj = call.st.object(name).ok_or_else(|| AzError::not_found(format!("object {name}")))?;
    let record = || text(&step.record.as_ref().map(|r| render(r, vars, call)).unwrap_or(Value::Null));
    if step.create.is_some() {
        let id = data::insert_one(call, &obj, &object_map(&step.values, vars, call))?;
        return Ok(Some(json!(id)));
    }
    if step.update.is_some() {
        let id = record();
        if !data::update_fields(call, &obj, &id, &object_map(&step.values, vars, call))? {
            return Err(AzError::not_found(format!("record {id}")));
        }
        return Ok(Some(json!(id)));
    }
    if step.delete.is_some() {
        data::writable(&obj)?;
        return Ok(Some(json!(usize::from(obj.records.remove(&record()).is_some()))));
    }
    let cond = step.condition.as_ref().map(|c| render(c, vars, call));
    let cond = data::parse_condition(&obj, cond.as_ref())?;
    let hits = data::matching(&obj, &cond);
    if step.first {
        return Ok(Some(hits.first().map(|r| Value::Object(r.to_record())).unwrap_or(Value::Null)));
    }
    let limit = step.limit.unwrap_or(data::MAX_LIMIT).min(data::MAX_LIMIT);
    Ok(Some(Value::Array(hits.iter().take(limit).map(|r| Value::Object(r.to_record())).collect())))
}

/// The name a failing step is reported by: its `id`, else its position from 1.
pub fn step_name(steps: &[StepDef], i: usize) -> String {
    steps.get(i).and_then(|s| s.id.clone()).unwrap_or_else(|| (i + 1).to_string())
}

/// The outbox event name of a Rest action (in a Flow or a script).
pub const REST_EVENT: &str = "rest_action";

/// How long a Rest action may take unless its step says otherwise.
pub const REST_TIMEOUT_MS: u64 = 30_000;

/// Where a request running a Flow or a script stands: answered, or awaiting a Rest action.
pub enum Progress {
    Done(Value),
    Calling(Box<Paused>),
}

/// A request waiting for a Rest action's answer: the call to send, and how to go on with the answer
/// (the pipeline sends it with no lock held and runs `then`).
pub struct Paused {
    pub message: Message,
    pub then: Resume,
}

/// How a paused request goes on with the answer.
pub type Resume = Box<dyn FnOnce(&Call, &Reply) -> Result<Progress, AzError> + Send>;

/// The call of step `i` of `owner` (`flow demo__score`), rendered over the variables, answered to
/// `tag`.
pub fn rest_message(
    steps: &[StepDef],
    i: usize,
    vars: &Map<String, Value>,
    call: &Call,
    owner: &str,
    tag: String,
) -> Result<Message, AzError> {
    let request = rest_request(steps, i, vars, call)?;
    let timeout_ms = steps.get(i).and_then(|s| s.call.as_ref()).and_then(|c| c.timeout_ms).unwrap_or(REST_TIMEOUT_MS);
    let policy = RetryPolicy { timeout_ms, retry_after_ms: &[], disable_after_failures: None };
    let target = format!("Rest action {} of {owner}", step_name(steps, i));
    Ok(Message::new(super::PLATFORM, REST_EVENT, target, request, policy).replying_to(tag))
}

/// The request of call step `i`, rendered over the variables (all of them, without `body`).
fn rest_request(steps: &[StepDef], i: usize, vars: &Map<String, Value>, call: &Call) -> Result<OutRequest, AzError> {
    let Some(action) = steps.get(i).and_then(|s| s.call.as_ref()) else {
        return Err(AzError::param(format!("step {} calls nothing", step_name(steps, i))));
    };
    action.request(vars, &specials(call), vars).map_err(|e| AzError::param(format!("step {}: the Rest action's {e}", step_name(steps, i))))
}

/// Goes on after call step `i` with the service's answer: a 2xx JSON object sets `into` and the
/// action's outputs; anything else fails the step, as a failed Rest action fails the Flow.
pub fn take_answer(steps: &[StepDef], i: usize, reply: &Reply, vars: &mut Map<String, Value>) -> Result<(), AzError> {
    let name = step_name(steps, i);
    let answer = reply.json_answer(&format!("the Rest action of step {name}")).map_err(AzError::param)?;
    let Some(step) = steps.get(i) else { return Ok(()) };
    if let Some(action) = &step.call {
        vars.extend(action.outputs_of(&answer));
    }
    if let Some(into) = &step.into {
        vars.insert(into.clone(), answer);
    }
    Ok(())
}

/// Who runs a template and when: `$user`, `$userName` and `$now`.
pub trait Env {
    fn user(&self) -> &str;
    fn now(&self) -> crate::core::clock::Millis;
}

impl Env for Call<'_> {
    fn user(&self) -> &str {
        &self.user
    }
    fn now(&self) -> crate::core::clock::Millis {
        Call::now(self)
    }
}

/// Astro Zero's template names: `$user` is the caller's user id, `$userName` its name and `$now`
/// the emulator time.
fn specials(env: &dyn Env) -> impl Fn(&str) -> Option<Value> + '_ {
    move |name| match name {
        "$user" => Some(json!(super::model::user_id(env.user()))),
        "$userName" => Some(json!(env.user())),
        "$now" => Some(json!(data::time_text(env.now()))),
        _ => None,
    }
}

/// Renders a template value against the variables (see `core::template`).
pub fn render(t: &Value, vars: &Map<String, Value>, env: &dyn Env) -> Value {
    template::render(t, vars, &specials(env))
}
