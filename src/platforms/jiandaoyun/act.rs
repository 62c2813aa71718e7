//! `POST /__emu/act` for Jiandaoyun: what a person does in the product's UI — submit, edit or delete
//! a record, act on a workflow task — run through the same handlers as the API, as that person, with
//! the UI's side effects: the change pushes (数据推送), and a submission on a workflow form starts
//! its flow.

use serde_json::{json, Map, Value};

use super::call::Call;
use super::model::ApiKey;
use super::{data, workflow};
use crate::http::{JsonFields, Request, Response};
use crate::platforms::PlatformError;
use crate::world::World;

type Op = fn(&Call) -> Result<Response, super::errors::JdyError>;

/// The actions and the handler each runs; the rest of the request is the handler's body.
const ACTIONS: &[(&str, Op)] = &[
    ("create", data::create),
    ("update", data::update),
    ("delete", data::delete),
    ("recover", data::recover),
    ("approve", workflow::approve),
    ("rollback", workflow::rollback),
    ("transfer", workflow::transfer),
    ("reject", workflow::reject),
    ("revoke", workflow::revoke),
];

pub fn act(world: &World, request: &Map<String, Value>) -> crate::platforms::ActResult {
    let st = world.platforms.jiandaoyun.as_ref().ok_or((400, "jiandaoyun is not configured in this scenario".to_owned()))?;
    let (user, body) = crate::platforms::act_parts(world, request, &["action"])?;
    let mut body = JsonFields::from(body);
    let name = request.get("action").and_then(Value::as_str).unwrap_or("");
    let Some((_, op)) = ACTIONS.iter().find(|(n, _)| *n == name) else {
        let names: Vec<&str> = ACTIONS.iter().map(|(n, _)| *n).collect();
        return Err((400, format!("action: expected one of {names:?}, got {name:?}")));
    };
    // Records are named by form; the app follows from it.
    if let Some(entry) = body.get("entry_id").and_then(Value::as_str).and_then(|e| st.entries.get(e)) {
        let (app, workflow) = (entry.app_id.clone(), entry.is_workflow());
        body.insert_absent("app_id", || json!(app));
        if name == "create" {
            // A submission in the UI starts the form's workflow.
            body.insert_absent("is_start_workflow", || json!(workflow));
            body.insert_absent("data_creator", || json!(user));
        }
    }
    if !["create", "update", "delete", "recover"].contains(&name) {
        body.insert("username".into(), json!(user));
    }
    // The person acts inside the product: every app is theirs to use.
    let key = ApiKey { key: String::new(), apps: None, disabled: false };
    let req = Request::internal(hyper::Method::POST, "/__emu/act".into(), Vec::new());
    let call = Call { world, st, key: &key, body, req: &req, version: 5, actor: Some(user.to_owned()) };
    let response = op(&call).unwrap_or_else(|e| e.render(world.locale));
    let answer: Value = serde_json::from_slice(&response.body.to_bytes()).unwrap_or(Value::Null);
    if response.status == 200 {
        Ok(answer)
    } else {
        Err((response.status, format!("jiandaoyun refused the action: {answer}")))
    }
}
