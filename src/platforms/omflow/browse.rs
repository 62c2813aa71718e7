//! The dashboard's view of OMFlow: flows grouped by app, their tickets (number, the open row's
//! `data_id` and stage, the form data), and the manual steps a person has open.

use serde_json::json;

use super::model::{State, Ticket};
use crate::core::clock::iso_utc_ms;
use crate::platforms::{CollectionInfo, OpenTask, PageRequest, Pager, RecordPage};
use crate::world::World;

fn state(world: &World) -> Option<&State> {
    world.platforms.omflow.as_ref()
}

pub fn collections(world: &World) -> Vec<CollectionInfo> {
    let Some(st) = state(world) else { return Vec::new() };
    st.flows
        .iter()
        .map(|f| {
            let example: Vec<serde_json::Value> = f.fields.iter().map(|x| json!({ "id": x.id, "value": "" })).collect();
            CollectionInfo {
                id: f.api_path.clone(),
                name: f.name.clone(),
                group: f.app.clone(),
                count: f.tickets.lock().list.len(),
                columns: f.fields.iter().map(|x| (x.id.clone(), x.label.clone())).collect(),
                fields_at: Some("formdata"),
                create: Some(json!({ "action": "create", "api_path": f.api_path, "formdata": "$data" })),
                // A ticket moves on by pushing its open step (the inbox), not by editing.
                update: None,
                delete: Some(json!({ "action": "delete", "api_path": f.api_path, "data_no": "$id" })),
                example: serde_json::Value::Array(example),
            }
        })
        .collect()
}

/// What the dashboard shows of a ticket: its number, where it stands and its current form data.
fn shown(t: &Ticket) -> serde_json::Value {
    let open = t.rows.iter().rev().find(|r| !r.history);
    json!({
        "data_no": t.data_no,
        "data_id": open.map(|r| r.id),
        "stop_chart_text": open.map(|r| r.stop_chart_text.clone()),
        "closed": open.is_none_or(|r| r.closed),
        "create_user": t.create_user,
        "createtime": t.rows.first().map(|r| iso_utc_ms(r.createtime)),
        "formdata": open.map(|r| r.data.clone()),
    })
}

/// A flow's numbered tickets in creation order (the id and cursor is the ticket's `data_no`; tickets
/// still waiting for their start's verification have none and are not listed).
pub fn records(world: &World, api_path: &str, page: &PageRequest) -> Option<RecordPage> {
    let st = state(world)?;
    let flow = st.flows.get(*st.by_path.get(api_path)?)?;
    let tickets = flow.tickets.lock();
    let after = page.after.as_deref().and_then(|a| a.parse::<u64>().ok());
    let mut pager = Pager::new(page);
    for t in tickets.list.iter() {
        let Some(no) = t.data_no else { continue };
        if after.is_some_and(|a| no <= a) {
            continue;
        }
        if !pager.offer(&no.to_string(), &shown(t).to_string()) {
            break;
        }
    }
    Some(pager.finish(tickets.list.len()))
}

/// Open manual steps of `user`, and those assigned to nobody: push them on (`update`) with the open
/// row's `data_id`.
pub fn open_tasks(world: &World, user: &str) -> Vec<OpenTask> {
    let Some(st) = state(world) else { return Vec::new() };
    let mut out = Vec::new();
    for flow in &st.flows {
        for t in flow.tickets.lock().list.iter() {
            // A manual step nobody is named for is anyone's to push (OMFlow checks the flow's permission).
            for task in t.instance.open_tasks().filter(|task| task.assignee == user || task.assignee.is_empty()) {
                let Some(node) = flow.flow.nodes.get(task.node) else { continue };
                let Some(row) = t.rows.iter().find(|r| !r.history && !r.closed && r.stop_uuid == node.id) else { continue };
                let title = format!("{} #{}", flow.name, t.data_no.map(|n| n.to_string()).unwrap_or_default());
                let act = json!({ "api_path": flow.api_path, "data_id": row.id.to_string(), "formdata": [] });
                let open = OpenTask::of(super::PLATFORM, Some(&flow.flow), task, flow.name.clone(), title, act);
                out.push((task.created_ms, open.acting(&["update"], None, None)));
            }
        }
    }
    crate::platforms::in_order(out)
}
