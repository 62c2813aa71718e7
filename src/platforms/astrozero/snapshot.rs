//! The Astro Zero part of a state snapshot: id generator, counter, issued tokens, every object (those
//! created through the metadata API too) with its fields and records, the runtime (Flows and
//! interviews, BPM, connector files, bulk tasks) and picklists.

use std::collections::BTreeMap;
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::model::{Field, Obj, Record, Runtime, State, ValueSet};
use crate::core::expiring::Expiring;
use crate::core::ids::IdGenState;
use crate::state::{id_gen, parse, StateError};

#[derive(Serialize, Deserialize)]
struct ObjSnap {
    id: String,
    name: String,
    label: String,
    description: String,
    key_prefix: String,
    custom: bool,
    created_ms: i64,
    fields: Vec<Field>,
    records: Vec<Record>,
}

#[derive(Serialize, Deserialize)]
struct Snap {
    ids: IdGenState,
    counter: u64,
    /// token → (expiry ms, user)
    tokens: BTreeMap<String, (i64, String)>,
    /// Every object, including those created through the metadata API.
    objects: Vec<ObjSnap>,
    /// Flows and interviews, BPM definitions and instances, connector files, bulk tasks.
    #[serde(default)]
    runtime: Runtime,
    #[serde(default)]
    picklists: Vec<ValueSet>,
}

pub fn export(st: &State) -> Value {
    let snap = Snap {
        ids: st.ids.state(),
        counter: *st.counter.lock(),
        tokens: st.tokens.lock().iter().map(|(k, exp, user)| (k.clone(), (exp, user.clone()))).collect(),
        objects: st
            .objects
            .read()
            .iter()
            .map(|o| ObjSnap {
                id: o.id.clone(),
                name: o.name.clone(),
                label: o.label.read().clone(),
                description: o.description.read().clone(),
                key_prefix: o.key_prefix.clone(),
                custom: o.custom,
                created_ms: o.created_ms,
                fields: o.fields.read().clone(),
                records: o.records.snapshot().iter().map(|r| r.to_record()).collect(),
            })
            .collect(),
        runtime: st.runtime.lock().clone(),
        picklists: st.picklists.read().clone(),
    };
    serde_json::to_value(snap).unwrap_or(Value::Null)
}

pub fn import(st: &mut State, value: Value) -> Result<(), StateError> {
    let az: Snap = parse(super::PLATFORM, value)?;
    st.ids = id_gen(&az.ids, "astrozero.ids")?;
    *st.counter.lock() = az.counter;
    *st.tokens.lock() = Expiring::from_entries(az.tokens.into_iter().map(|(k, (exp, user))| (k, exp, user)));
    let objects = az
        .objects
        .into_iter()
        .map(|o| {
            let obj = Obj {
                id: o.id,
                name: o.name,
                label: RwLock::new(o.label),
                description: RwLock::new(o.description),
                key_prefix: o.key_prefix,
                custom: o.custom,
                created_ms: o.created_ms,
                fields: RwLock::new(o.fields),
                records: Default::default(),
                interner: Default::default(),
                write_lock: Mutex::new(()),
                unique_index: Default::default(),
                text_index: Default::default(),
            };
            obj.records
                .insert_many(o.records.iter().map(|r| (r.get("id").and_then(Value::as_str).unwrap_or_default().to_owned(), obj.store(r))));
            Arc::new(obj)
        })
        .collect();
    let mut objects: Vec<Arc<Obj>> = objects;
    // States saved before the `User` object existed get it back; it is rebuilt from the directory.
    if !objects.iter().any(|o| !o.custom && o.name == super::model::USER_OBJECT) {
        objects.insert(0, Arc::new(super::model::user_object(0)));
    }
    *st.objects.write() = objects;
    st.users_synced.store(u64::MAX, std::sync::atomic::Ordering::Release);
    let mut runtime = az.runtime;
    // The outbox is not part of the state: service-task calls that were under way go out again.
    for i in runtime.instances.values_mut() {
        i.calls.clear();
    }
    *st.runtime.lock() = runtime;
    st.redispatch.store(true, std::sync::atomic::Ordering::Release);
    *st.picklists.write() = az.picklists;
    Ok(())
}
