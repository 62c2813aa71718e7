//! The Jiandaoyun part of a state snapshot: id generator, upload tokens and file keys, workflow
//! instances, contacts, open batch transactions, and every form's records, serials and modify time.
//! Apps and forms themselves come from the scenario; a snapshot only names them.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::Ordering;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::model::{BatchTxn, FileKey, Record, State, UploadToken};
use crate::core::clock::{iso_utc_ms, parse_rfc3339_ms};
use crate::core::expiring::Expiring;
use crate::core::ids::IdGenState;
use crate::state::{id_gen, parse, StateError};

#[derive(Serialize, Deserialize)]
struct EntrySnap {
    entry_id: String,
    name: String,
    data_modify_time: String,
    serials: HashMap<String, u64>,
    records: Vec<Record>,
}

#[derive(Serialize, Deserialize)]
struct AppSnap {
    app_id: String,
    name: String,
    entries: Vec<EntrySnap>,
}

#[derive(Serialize, Deserialize)]
struct BatchSnap {
    entry_id: String,
    started_ms: i64,
    created: Vec<String>,
}

#[derive(Serialize, Deserialize)]
struct Snap {
    ids: IdGenState,
    #[serde(default)]
    uploads: BTreeMap<String, UploadToken>,
    #[serde(default)]
    file_keys: BTreeMap<String, FileKey>,
    #[serde(default)]
    attachment_used: u64,
    #[serde(default)]
    workflows: BTreeMap<String, super::workflow::WfRecord>,
    #[serde(default)]
    corp: Option<super::corp::Corp>,
    batches: BTreeMap<String, BatchSnap>,
    apps: Vec<AppSnap>,
}

pub fn export(st: &State) -> Value {
    let snap = Snap {
        ids: st.ids.state(),
        uploads: st.uploads.lock().iter().map(|(k, _, v)| (k.clone(), v.clone())).collect(),
        file_keys: st.file_keys.lock().iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        attachment_used: st.attachment_used.load(Ordering::Acquire),
        workflows: st.workflows.instances.lock().clone(),
        corp: Some(st.corp.lock().clone()),
        batches: st
            .batches
            .lock()
            .iter()
            .map(|(k, b)| (k.clone(), BatchSnap { entry_id: b.entry_id.clone(), started_ms: b.started_ms, created: b.created.clone() }))
            .collect(),
        apps: st
            .apps
            .iter()
            .map(|a| AppSnap {
                app_id: a.app_id.clone(),
                name: a.name.clone(),
                entries: a
                    .entry_ids
                    .iter()
                    .filter_map(|id| st.entries.get(id))
                    .map(|e| EntrySnap {
                        entry_id: e.entry_id.clone(),
                        name: e.name.clone(),
                        data_modify_time: iso_utc_ms(e.modified_ms.load(Ordering::Acquire)),
                        serials: e.serials.lock().clone(),
                        records: e.records.snapshot().iter().map(|s| s.to_record()).collect(),
                    })
                    .collect(),
            })
            .collect(),
    };
    serde_json::to_value(snap).unwrap_or(Value::Null)
}

pub fn import(st: &mut State, value: Value) -> Result<(), StateError> {
    let js: Snap = parse(super::PLATFORM, value)?;
    st.ids = id_gen(&js.ids, "jiandaoyun.ids")?;
    *st.uploads.lock() = Expiring::from_entries(js.uploads.into_iter().map(|(k, t)| (k, t.created_ms + super::files::TTL_MS, t)));
    *st.file_keys.lock() = js.file_keys.into_iter().collect();
    st.attachment_used.store(js.attachment_used, Ordering::Release);
    *st.workflows.instances.lock() = js.workflows;
    if let Some(corp) = js.corp {
        *st.corp.lock() = corp;
    }
    *st.batches.lock() =
        js.batches.into_iter().map(|(k, b)| (k, BatchTxn { entry_id: b.entry_id, started_ms: b.started_ms, created: b.created })).collect();
    for app in js.apps {
        for e in app.entries {
            let entry = st
                .entries
                .get(&e.entry_id)
                .ok_or_else(|| StateError::mismatch(format!("jiandaoyun form {} is not in the scenario", e.entry_id)))?;
            entry.records.clear();
            let mut rows = Vec::with_capacity(e.records.len());
            for r in e.records {
                let id = r
                    .get("_id")
                    .and_then(Value::as_str)
                    .ok_or_else(|| StateError::mismatch(format!("a record of form {} has no _id", e.entry_id)))?
                    .to_owned();
                rows.push((id, entry.interner.store(&r)));
            }
            entry.records.insert_many(rows);
            let modified = parse_rfc3339_ms(&e.data_modify_time).unwrap_or_else(|| entry.modified_ms.load(Ordering::Acquire));
            entry.modified_ms.store(modified, Ordering::Release);
            *entry.serials.lock() = e.serials;
        }
    }
    Ok(())
}
