//! The dashboard's view of Jiandaoyun: forms grouped by app, their records in the API's read shape,
//! and the workflow tasks a person has open.

use serde_json::json;

use super::model::State;
use crate::platforms::{CollectionInfo, OpenTask, PageRequest, Pager, RecordPage};
use crate::world::World;

/// Records read per lock of the form's collection while a page is built.
const CHUNK: usize = 1_000;

fn state(world: &World) -> Option<&State> {
    world.platforms.jiandaoyun.as_ref()
}

pub fn collections(world: &World) -> Vec<CollectionInfo> {
    let Some(st) = state(world) else { return Vec::new() };
    st.apps
        .iter()
        .flat_map(|app| {
            app.entry_ids.iter().filter_map(|id| st.entries.get(id)).map(|e| {
                let example: serde_json::Map<String, serde_json::Value> =
                    e.schema.widgets.iter().map(|w| (w.alias.clone().unwrap_or_else(|| w.id.clone()), json!({ "value": "" }))).collect();
                let form = &e.entry_id;
                CollectionInfo {
                    id: e.entry_id.clone(),
                    name: e.name.clone(),
                    group: app.name.clone(),
                    count: e.records.len(),
                    columns: e.schema.widgets.iter().map(|w| (w.alias.clone().unwrap_or_else(|| w.id.clone()), w.label.clone())).collect(),
                    fields_at: None,
                    create: Some(json!({ "action": "create", "entry_id": form, "data": "$data" })),
                    update: Some(json!({ "action": "update", "entry_id": form, "data_id": "$id", "data": "$data" })),
                    delete: Some(json!({ "action": "delete", "entry_id": form, "data_id": "$id" })),
                    example: serde_json::Value::Object(example),
                }
            })
        })
        .collect()
}

/// Records of form `entry_id` in `_id` order, read in chunks so no lock is held for long.
pub fn records(world: &World, entry_id: &str, page: &PageRequest) -> Option<RecordPage> {
    let entry = state(world)?.entries.get(entry_id)?;
    let mut pager = Pager::new(page);
    let mut after = page.after.clone();
    let mut json = Vec::new();
    'chunks: loop {
        let chunk = entry.records.page_after(after.as_deref(), CHUNK, |_| true);
        for r in &chunk {
            json.clear();
            r.write_json(&mut json);
            let id = r.get("_id").and_then(|v| v.as_str()).unwrap_or_default().to_owned();
            if !pager.offer(&id, std::str::from_utf8(&json).unwrap_or("null")) {
                break 'chunks;
            }
            after = Some(id);
        }
        if chunk.len() < CHUNK {
            break;
        }
    }
    Some(pager.finish(entry.records.len()))
}

/// Open workflow tasks of `user`, oldest first.
pub fn open_tasks(world: &World, user: &str) -> Vec<crate::platforms::OpenTask> {
    let Some(st) = state(world) else { return Vec::new() };
    let map = st.workflows.instances.lock();
    let mut out: Vec<(String, OpenTask)> = Vec::new();
    for (id, rec) in map.iter() {
        let Some(entry) = st.entries.get(&rec.entry_id) else { continue };
        let Some(flow) = entry.flow.as_ref().and_then(|f| st.flows.get(f)) else { continue };
        for t in rec.instance.open_tasks().filter(|t| t.assignee == user) {
            let task = OpenTask::of(
                super::PLATFORM,
                Some(flow),
                t,
                entry.name.clone(),
                format!("{} {id}", entry.name),
                json!({ "instance_id": id, "task_id": t.id }),
            );
            out.push((
                t.id.clone(),
                task.acting(&["approve", "reject", "rollback", "transfer"], Some("comment"), Some("transfer_username")),
            ));
        }
    }
    crate::platforms::in_order(out)
}
