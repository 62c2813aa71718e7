//! The dashboard's view of Yida: forms grouped by app, their form data in the in-app API's detail
//! shape (the process-instance fields included for process forms), and the tasks a person has open.

use serde_json::{json, Map};

use super::model::State;
use super::Call;
use crate::platforms::{CollectionInfo, OpenTask, PageRequest, Pager, RecordPage};
use crate::world::World;

fn state(world: &World) -> Option<&State> {
    world.platforms.yida.as_ref()
}

/// Apps in `app_type` order (the state keeps them in a map).
fn apps(st: &State) -> Vec<&super::model::App> {
    let mut apps: Vec<_> = st.apps.values().collect();
    apps.sort_by(|a, b| a.app_type.cmp(&b.app_type));
    apps
}

pub fn collections(world: &World) -> Vec<CollectionInfo> {
    let Some(st) = state(world) else { return Vec::new() };
    apps(st)
        .into_iter()
        .flat_map(|app| {
            app.forms.iter().map(|f| {
                let (a, form) = (&app.app_type, &f.form_uuid);
                let example: Map<String, serde_json::Value> = f.components.iter().map(|c| (c.id.clone(), json!(""))).collect();
                CollectionInfo {
                    id: format!("{a}/{form}"),
                    name: f.name.clone(),
                    group: app.name.clone(),
                    count: f.instances.lock().len(),
                    columns: f.components.iter().map(|c| (c.id.clone(), c.label.clone())).collect(),
                    fields_at: Some("formData"),
                    create: Some(json!({ "action": "create", "appType": a, "formUuid": form, "formDataJson": "$data" })),
                    update: Some(json!({ "action": "update", "appType": a, "formInstId": "$id", "updateFormDataJson": "$data" })),
                    delete: Some(json!({ "action": "delete", "appType": a, "formInstId": "$id" })),
                    example: serde_json::Value::Object(example),
                }
            })
        })
        .collect()
}

/// A form's instances in submission order (the cursor is a `formInstId`).
pub fn records(world: &World, collection: &str, page: &PageRequest) -> Option<RecordPage> {
    let st = state(world)?;
    let (app, form_uuid) = collection.split_once('/')?;
    let form = st.form(app, form_uuid)?;
    let call = Call { world, st, app, user: st.default_user.clone(), p: Map::new(), locale: world.locale };
    let list = form.instances.lock();
    let start = match &page.after {
        Some(after) => list.iter().position(|i| &i.form_inst_id == after).map_or(list.len(), |p| p + 1),
        None => 0,
    };
    let mut pager = Pager::new(page);
    for inst in list.iter().skip(start) {
        let mut shown = super::forms::detail(&call, &form, inst);
        if let Some(p) = &inst.process {
            shown["processInstanceId"] = json!(inst.process_instance_id);
            shown["status"] = json!(super::process::status_name(p));
        }
        if !pager.offer(&inst.form_inst_id, &shown.to_string()) {
            break;
        }
    }
    Some(pager.finish(list.len()))
}

/// Open process tasks of `user`, oldest first.
pub fn open_tasks(world: &World, user: &str) -> Vec<OpenTask> {
    let Some(st) = state(world) else { return Vec::new() };
    let mut out = Vec::new();
    for app in apps(st) {
        for form in &app.forms {
            let Some(flow) = &form.flow else { continue };
            for inst in form.instances.lock().iter() {
                let (Some(p), Some(pid)) = (&inst.process, &inst.process_instance_id) else { continue };
                for t in p.open_tasks().filter(|t| t.assignee == user) {
                    let act = json!({ "processInstanceId": pid, "taskId": t.id });
                    let task = OpenTask::of(super::PLATFORM, Some(flow), t, form.name.clone(), format!("{} {pid}", form.name), act);
                    out.push((t.created_ms, task.acting(&["approve", "reject", "transfer"], Some("remark"), Some("to"))));
                }
            }
        }
    }
    crate::platforms::in_order(out)
}
