//! `POST /__emu/act` for Yida: what a person does in the Yida UI — submit a form, edit or delete an
//! instance, approve, reject or hand on a task, withdraw a process — through the same handlers as the
//! in-app API, as that person (with every side effect, DingTalk events included).

use serde_json::{json, Map, Value};

use super::{forms, process, Call, Op};
use crate::platforms::PlatformError;
use crate::world::World;

/// The actions, the handler each runs, and the parameters it adds.
const ACTIONS: &[(&str, Op)] = &[
    ("create", create),
    ("update", forms::update),
    ("delete", forms::delete),
    ("approve", process::execute),
    ("reject", process::execute),
    ("transfer", process::redirect),
    ("terminate", process::terminate),
];

/// Submitting a process form starts its process; any other form saves an instance.
fn create(call: &Call) -> Result<crate::http::Response, super::errors::YidaError> {
    let process_form = call.opt_str("formUuid").and_then(|f| call.st.form(call.app, &f)).is_some_and(|f| f.flow.is_some());
    if process_form {
        process::start(call)
    } else {
        forms::save(call)
    }
}

pub fn act(world: &World, request: &Map<String, Value>) -> crate::platforms::ActResult {
    let st = world.platforms.yida.as_ref().ok_or((400, "yida is not configured in this scenario".to_owned()))?;
    let (user, mut p) = crate::platforms::act_parts(world, request, &["action"])?;
    let name = request.get("action").and_then(Value::as_str).unwrap_or("");
    let Some((_, op)) = ACTIONS.iter().find(|(n, _)| *n == name) else {
        let names: Vec<&str> = ACTIONS.iter().map(|(n, _)| *n).collect();
        return Err((400, format!("action: expected one of {names:?}, got {name:?}")));
    };
    // The app: named, or the one holding the form or instance, or the only one.
    let named = p.get("appType").and_then(Value::as_str).map(str::to_owned);
    let by_form =
        p.get("formUuid").and_then(Value::as_str).and_then(|f| st.apps.values().find(|a| a.forms.iter().any(|x| x.form_uuid == f)));
    let by_instance = ["formInstId", "procInstId", "processInstanceId"]
        .iter()
        .find_map(|k| p.get(*k).and_then(Value::as_str))
        .and_then(|id| st.apps.keys().find(|a| st.find_instance(a, id).is_some()));
    let app = named
        .or_else(|| by_form.map(|a| a.app_type.clone()))
        .or_else(|| by_instance.cloned())
        .or_else(|| (st.apps.len() == 1).then(|| st.apps.keys().next().cloned()).flatten())
        .ok_or((400, "appType: name the app (the request names no form or instance of a known app)".to_owned()))?;
    if let Some(id) = p.get("processInstanceId").cloned() {
        p.entry("procInstId").or_insert(id);
    }
    // Submitting a process form in the UI starts its process: the form knows its process code.
    if name == "create" && !p.contains_key("processCode") {
        let code = p.get("formUuid").and_then(Value::as_str).and_then(|f| st.form(&app, f)).and_then(|f| f.process_code.clone());
        if let Some(code) = code {
            p.insert("processCode".into(), json!(code));
        }
    }
    if let Some(to) = p.get("to").cloned() {
        p.entry("nowActionExecutorId").or_insert(to);
    }
    match name {
        "approve" => p.insert("outResult".into(), json!("AGREE")),
        "reject" => p.insert("outResult".into(), json!("DISAGREE")),
        _ => None,
    };
    if matches!(name, "approve" | "reject") {
        p.entry("remark").or_insert(json!(""));
    }
    let call = Call { world, st, app: &app, user: user.to_owned(), p, locale: world.locale };
    let response = op(&call).unwrap_or_else(|e| e.render(world.locale));
    let answer: Value = serde_json::from_slice(&response.body.to_bytes()).unwrap_or(Value::Null);
    if answer.get("success") == Some(&Value::Bool(true)) {
        Ok(answer)
    } else {
        Err((400, format!("yida refused the action: {answer}")))
    }
}
