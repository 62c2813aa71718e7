//! The dashboard's view of Astro Zero: custom objects and their records (the data API's read shape),
//! and the BPM tasks a person has open.

use serde_json::json;

use super::model::{user_id, State};
use crate::core::workflow::{Flow, TaskStatus};
use crate::platforms::{CollectionInfo, OpenTask, PageRequest, Pager, RecordPage};
use crate::world::World;

/// Records read per lock of the object's collection while a page is built.
const CHUNK: usize = 1_000;

fn state(world: &World) -> Option<&State> {
    world.platforms.astrozero.as_ref()
}

pub fn collections(world: &World) -> Vec<CollectionInfo> {
    let Some(st) = state(world) else { return Vec::new() };
    st.sync_users(&world.directory, world.clock.now_ms());
    let objects = st.objects.read();
    objects
        .iter()
        .map(|o| {
            // The fields a person fills in: the object's own (`__CST`) and its name; a standard
            // object shows its built-in fields and cannot be edited here.
            let mut own: Vec<(String, String)> = o
                .fields
                .read()
                .iter()
                .filter(|f| !o.custom || f.name.ends_with("__CST") || f.name == "name")
                .map(|f| (f.name.clone(), f.label.clone()))
                .collect();
            if !o.custom {
                own.insert(0, ("name".to_owned(), "名称".to_owned()));
            }
            let act = |v: serde_json::Value| o.custom.then_some(v);
            let example: serde_json::Map<String, serde_json::Value> = own.iter().map(|(name, _)| (name.clone(), json!(null))).collect();
            CollectionInfo {
                id: o.name.clone(),
                name: o.label.read().clone(),
                group: st.namespace.clone(),
                count: o.records.len(),
                columns: own,
                fields_at: None,
                create: act(json!({ "action": "create", "object": o.name, "values": "$data" })),
                update: act(json!({ "action": "update", "object": o.name, "id": "$id", "values": "$data" })),
                delete: act(json!({ "action": "delete", "object": o.name, "id": "$id" })),
                example: serde_json::Value::Object(example),
            }
        })
        .collect()
}

/// An object's records in id order, read in chunks so no lock is held for long.
pub fn records(world: &World, object: &str, page: &PageRequest) -> Option<RecordPage> {
    let st = state(world)?;
    st.sync_users(&world.directory, world.clock.now_ms());
    let obj = st.object(object)?;
    let mut pager = Pager::new(page);
    let mut after = page.after.clone();
    'chunks: loop {
        let chunk = obj.records.page_after(after.as_deref(), CHUNK, |_| true);
        for r in &chunk {
            let id = r.str("id").unwrap_or_default().to_owned();
            if !pager.offer(&id, &serde_json::to_string(&**r).unwrap_or_default()) {
                break 'chunks;
            }
            after = Some(id);
        }
        if chunk.len() < CHUNK {
            break;
        }
    }
    Some(pager.finish(obj.records.len()))
}

/// Open BPM tasks of `user` (by user name or id), oldest first; suspended instances hide theirs.
pub fn open_tasks(world: &World, user: &str) -> Vec<OpenTask> {
    let Some(st) = state(world) else { return Vec::new() };
    let rt = st.runtime.lock();
    let mut out = Vec::new();
    for (id, i) in rt.instances.iter().filter(|(_, i)| !i.suspended) {
        let def = rt.processes.iter().find(|d| d.id == i.def_id);
        let flow = def.and_then(|d| Flow::build(&d.graph).ok());
        for t in i.wf.tasks.iter().skip(1).filter(|t| t.status == TaskStatus::Open) {
            if t.assignee != user && user_id(&t.assignee) != user {
                continue;
            }
            let collection = def.map(|d| d.label.clone()).unwrap_or_else(|| i.name.clone());
            let title = if i.title.is_empty() { format!("{} {id}", i.name) } else { i.title.clone() };
            let task = OpenTask::of(super::PLATFORM, flow.as_ref(), t, collection, title, json!({ "task": t.id }));
            out.push((t.created_ms, task.acting(&["approve", "reject", "transfer"], Some("comment"), Some("assignee"))));
        }
    }
    crate::platforms::in_order(out)
}
