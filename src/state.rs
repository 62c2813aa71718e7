//! Whole-state export and import: `GET/PUT /__emu/state` and `--state-file`.
//!
//! A snapshot holds everything a world changes at run time — clock, directory, files, fault rules and
//! counters, id generators, every platform's records, tickets and codes — while definitions (apps,
//! forms, flows) come from the scenario. Importing rebuilds a world from the scenario and overlays the
//! snapshot, so export → import → export gives the same JSON, and ids continue as they would have.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::core::clock::{iso_utc_ms, parse_rfc3339_ms, Clock};
use crate::core::directory::{Department, Directory, User};
use crate::core::faults::{Faults, FaultsState};
use crate::core::files::Blob;
use crate::core::ids::{IdGen, IdGenState};
use crate::platforms::jiandaoyun::model::{BatchTxn, FileKey, Record, UploadToken};
use crate::platforms::omflow::model::{CodeEntry, Counters, Ticket};
use crate::scenario::Scenario;
use crate::world::World;

pub const VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct ClockSnap {
    now: String,
    frozen: bool,
}

#[derive(Serialize, Deserialize)]
struct DirectorySnap {
    users: Vec<User>,
    departments: Vec<Department>,
}

#[derive(Serialize, Deserialize)]
struct FileSnap {
    id: String,
    name: String,
    mime: String,
    size: usize,
    created_ms: i64,
    data_base64: String,
}

#[derive(Serialize, Deserialize)]
struct JdyEntrySnap {
    entry_id: String,
    name: String,
    data_modify_time: String,
    serials: HashMap<String, u64>,
    records: Vec<Record>,
}

#[derive(Serialize, Deserialize)]
struct JdyAppSnap {
    app_id: String,
    name: String,
    entries: Vec<JdyEntrySnap>,
}

#[derive(Serialize, Deserialize)]
struct BatchSnap {
    entry_id: String,
    started_ms: i64,
    created: Vec<String>,
}

#[derive(Serialize, Deserialize)]
struct JdySnap {
    ids: IdGenState,
    #[serde(default)]
    uploads: std::collections::BTreeMap<String, UploadToken>,
    #[serde(default)]
    file_keys: std::collections::BTreeMap<String, FileKey>,
    #[serde(default)]
    attachment_used: u64,
    #[serde(default)]
    workflows: std::collections::BTreeMap<String, crate::platforms::jiandaoyun::workflow::WfRecord>,
    #[serde(default)]
    corp: Option<crate::platforms::jiandaoyun::corp::Corp>,
    batches: std::collections::BTreeMap<String, BatchSnap>,
    apps: Vec<JdyAppSnap>,
}

#[derive(Serialize, Deserialize)]
struct OmFlowSnap {
    api_path: String,
    app: String,
    name: String,
    flow_uuid: String,
    counters: Counters,
    tickets: Vec<Ticket>,
}

#[derive(Serialize, Deserialize)]
struct OmSnap {
    ids: IdGenState,
    codes: std::collections::BTreeMap<String, CodeEntry>,
    flows: Vec<OmFlowSnap>,
}

#[derive(Serialize, Deserialize)]
struct YidaSnap {
    ids: IdGenState,
    counter: u64,
    /// Form instances by app code, then form uuid.
    apps: std::collections::BTreeMap<String, std::collections::BTreeMap<String, Vec<crate::platforms::yida::model::FormInstance>>>,
}

#[derive(Serialize, Deserialize)]
struct AzObjSnap {
    id: String,
    name: String,
    label: String,
    description: String,
    key_prefix: String,
    custom: bool,
    created_ms: i64,
    fields: Vec<crate::platforms::astrozero::model::Field>,
    records: Vec<crate::platforms::astrozero::model::Record>,
}

#[derive(Serialize, Deserialize)]
struct AzSnap {
    ids: IdGenState,
    counter: u64,
    /// token → (expiry ms, user)
    tokens: std::collections::BTreeMap<String, (i64, String)>,
    /// Every object, including those created through the metadata API.
    objects: Vec<AzObjSnap>,
    /// Flows and interviews, BPM definitions and instances, connector files, bulk tasks.
    #[serde(default)]
    runtime: crate::platforms::astrozero::model::Runtime,
    #[serde(default)]
    picklists: Vec<crate::platforms::astrozero::model::ValueSet>,
}

#[derive(Serialize, Deserialize)]
struct Snapshot {
    version: u32,
    namespace: String,
    clock: ClockSnap,
    directory: DirectorySnap,
    files: Vec<FileSnap>,
    faults: FaultsState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    jiandaoyun: Option<JdySnap>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    omflow: Option<OmSnap>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    yida: Option<YidaSnap>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    astrozero: Option<AzSnap>,
}

/// The whole state of a world as JSON.
pub fn export(w: &World) -> Value {
    let jiandaoyun = w.jiandaoyun.as_ref().map(|st| JdySnap {
        ids: st.ids.state(),
        uploads: st.uploads.lock().iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
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
            .map(|a| JdyAppSnap {
                app_id: a.app_id.clone(),
                name: a.name.clone(),
                entries: a
                    .entry_ids
                    .iter()
                    .filter_map(|id| st.entries.get(id))
                    .map(|e| JdyEntrySnap {
                        entry_id: e.entry_id.clone(),
                        name: e.name.clone(),
                        data_modify_time: iso_utc_ms(e.modified_ms.load(Ordering::Acquire)),
                        serials: e.serials.lock().clone(),
                        records: e.records.snapshot().iter().map(|s| s.to_record()).collect(),
                    })
                    .collect(),
            })
            .collect(),
    });
    let omflow = w.omflow.as_ref().map(|st| OmSnap {
        ids: st.ids.state(),
        codes: st.codes.lock().iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        flows: st
            .flows
            .iter()
            .map(|f| {
                let t = f.tickets.lock();
                OmFlowSnap {
                    api_path: f.api_path.clone(),
                    app: f.app.clone(),
                    name: f.name.clone(),
                    flow_uuid: f.uuid.clone(),
                    counters: t.counters.clone(),
                    tickets: t.list.clone(),
                }
            })
            .collect(),
    });
    let yida = w.yida.as_ref().map(|st| YidaSnap {
        ids: st.ids.state(),
        counter: *st.counter.lock(),
        apps: st
            .apps
            .iter()
            .map(|(code, app)| (code.clone(), app.forms.iter().map(|f| (f.form_uuid.clone(), f.instances.lock().clone())).collect()))
            .collect(),
    });
    let astrozero = w.astrozero.as_ref().map(|st| AzSnap {
        ids: st.ids.state(),
        counter: *st.counter.lock(),
        tokens: st.tokens.lock().iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        objects: st
            .objects
            .read()
            .iter()
            .map(|o| AzObjSnap {
                id: o.id.clone(),
                name: o.name.clone(),
                label: o.label.read().clone(),
                description: o.description.read().clone(),
                key_prefix: o.key_prefix.clone(),
                custom: o.custom,
                created_ms: o.created_ms,
                fields: o.fields.read().clone(),
                records: o.records.snapshot().iter().map(|r| (**r).clone()).collect(),
            })
            .collect(),
        runtime: st.runtime.lock().clone(),
        picklists: st.picklists.read().clone(),
    });
    let snap = Snapshot {
        version: VERSION,
        namespace: w.namespace.clone(),
        clock: ClockSnap { now: iso_utc_ms(w.clock.now_ms()), frozen: w.clock.is_frozen() },
        directory: DirectorySnap { users: w.directory.users(), departments: w.directory.departments() },
        files: w
            .files
            .list()
            .into_iter()
            .map(|b| FileSnap {
                data_base64: base64::engine::general_purpose::STANDARD.encode(&b.data),
                id: b.id,
                name: b.name,
                mime: b.mime,
                size: b.size,
                created_ms: b.created_ms,
            })
            .collect(),
        faults: w.faults.state(),
        jiandaoyun,
        omflow,
        yida,
        astrozero,
    };
    serde_json::to_value(snap).unwrap_or(Value::Null)
}

/// A world for `namespace` built from the scenario with `value` laid over it.
pub fn import(scenario: &Scenario, namespace: &str, value: Value) -> Result<World, String> {
    let snap: Snapshot = serde_path_to_error::deserialize(value).map_err(|e| format!("invalid state at {}: {}", e.path(), e.inner()))?;
    if snap.version != VERSION {
        return Err(format!("state version {} is not supported (expected {VERSION})", snap.version));
    }
    let mut w = World::build(scenario, namespace);
    let now = parse_rfc3339_ms(&snap.clock.now).ok_or("clock.now must be an RFC 3339 time")?;
    w.clock = if snap.clock.frozen { Clock::frozen_at(now) } else { Clock::running_from(now) };
    w.directory = Directory::new(snap.directory.users, snap.directory.departments);
    for f in snap.files {
        let data = base64::engine::general_purpose::STANDARD
            .decode(&f.data_base64)
            .map_err(|_| format!("file {}: data_base64 is not base64", f.id))?;
        w.files.put(Blob { id: f.id, name: f.name, mime: f.mime, size: f.size, data: data.into(), created_ms: f.created_ms });
    }
    w.faults = Faults::from_state(&snap.faults).ok_or("faults.rng is not a valid generator state")?;
    match (w.jiandaoyun.as_mut(), snap.jiandaoyun) {
        (Some(st), Some(js)) => {
            st.ids = IdGen::from_state(&js.ids).ok_or("jiandaoyun.ids is not a valid generator state")?;
            *st.uploads.lock() = js.uploads.into_iter().collect();
            *st.file_keys.lock() = js.file_keys.into_iter().collect();
            st.attachment_used.store(js.attachment_used, Ordering::Release);
            *st.workflows.instances.lock() = js.workflows;
            if let Some(corp) = js.corp {
                *st.corp.lock() = corp;
            }
            *st.batches.lock() = js
                .batches
                .into_iter()
                .map(|(k, b)| (k, BatchTxn { entry_id: b.entry_id, started_ms: b.started_ms, created: b.created }))
                .collect();
            for app in js.apps {
                for e in app.entries {
                    let entry =
                        st.entries.get(&e.entry_id).ok_or_else(|| format!("jiandaoyun form {} is not in the scenario", e.entry_id))?;
                    entry.records.clear();
                    let mut rows = Vec::with_capacity(e.records.len());
                    for r in e.records {
                        let id = r
                            .get("_id")
                            .and_then(Value::as_str)
                            .ok_or_else(|| format!("a record of form {} has no _id", e.entry_id))?
                            .to_owned();
                        rows.push((id, entry.interner.store(&r)));
                    }
                    entry.records.insert_many(rows);
                    entry.modified_ms.store(parse_rfc3339_ms(&e.data_modify_time).unwrap_or(now), Ordering::Release);
                    *entry.serials.lock() = e.serials;
                }
            }
        }
        (None, Some(_)) => return Err("the state has jiandaoyun data but the scenario has no [jiandaoyun]".into()),
        _ => {}
    }
    match (w.omflow.as_mut(), snap.omflow) {
        (Some(st), Some(os)) => {
            st.ids = IdGen::from_state(&os.ids).ok_or("omflow.ids is not a valid generator state")?;
            *st.codes.lock() = os.codes.into_iter().collect();
            for f in os.flows {
                let &i = st.by_path.get(&f.api_path).ok_or_else(|| format!("omflow flow {} is not in the scenario", f.api_path))?;
                let flow = &mut st.flows[i];
                flow.uuid = f.flow_uuid;
                let mut t = flow.tickets.lock();
                t.counters = f.counters;
                t.list = f.tickets;
            }
        }
        (None, Some(_)) => return Err("the state has omflow data but the scenario has no [omflow]".into()),
        _ => {}
    }
    match (w.yida.as_mut(), snap.yida) {
        (Some(st), Some(ys)) => {
            st.ids = IdGen::from_state(&ys.ids).ok_or("yida.ids is not a valid generator state")?;
            *st.counter.lock() = ys.counter;
            for (code, forms) in ys.apps {
                for (uuid, instances) in forms {
                    let form = st.form(&code, &uuid).ok_or_else(|| format!("yida form {uuid} of {code} is not in the scenario"))?;
                    *form.instances.lock() = instances;
                }
            }
        }
        (None, Some(_)) => return Err("the state has yida data but the scenario has no [yida]".into()),
        _ => {}
    }
    match (w.astrozero.as_mut(), snap.astrozero) {
        (Some(st), Some(az)) => {
            st.ids = IdGen::from_state(&az.ids).ok_or("astrozero.ids is not a valid generator state")?;
            *st.counter.lock() = az.counter;
            *st.tokens.lock() = az.tokens.into_iter().collect();
            let objects = az
                .objects
                .into_iter()
                .map(|o| {
                    let obj = crate::platforms::astrozero::model::Obj {
                        id: o.id,
                        name: o.name,
                        label: parking_lot::RwLock::new(o.label),
                        description: parking_lot::RwLock::new(o.description),
                        key_prefix: o.key_prefix,
                        custom: o.custom,
                        created_ms: o.created_ms,
                        fields: parking_lot::RwLock::new(o.fields),
                        records: Default::default(),
                        write_lock: parking_lot::Mutex::new(()),
                    };
                    obj.records.insert_many(
                        o.records.into_iter().map(|r| (r.get("id").and_then(Value::as_str).unwrap_or_default().to_owned(), r)),
                    );
                    Arc::new(obj)
                })
                .collect();
            *st.objects.write() = objects;
            *st.runtime.lock() = az.runtime;
            *st.picklists.write() = az.picklists;
        }
        (None, Some(_)) => return Err("the state has astrozero data but the scenario has no [astrozero]".into()),
        _ => {}
    }
    Ok(w)
}

/// Every namespace, for `--state-file`.
pub fn export_all(worlds: &[(String, Arc<World>)]) -> Value {
    let spaces: Map<String, Value> = worlds.iter().map(|(ns, w)| (ns.clone(), export(w))).collect();
    json!({ "version": VERSION, "namespaces": spaces })
}

pub fn import_all(scenario: &Scenario, value: Value) -> Result<Vec<(String, World)>, String> {
    let Value::Object(mut top) = value else { return Err("expected a JSON object".into()) };
    let Some(Value::Object(spaces)) = top.remove("namespaces") else { return Err("expected \"namespaces\": {…}".into()) };
    spaces
        .into_iter()
        .map(|(ns, v)| import(scenario, &ns, v).map(|w| (ns.clone(), w)).map_err(|e| format!("namespace {ns:?}: {e}")))
        .collect()
}

/// Writes `bytes` to `path` atomically: a temp file in the same directory, synced, then renamed over
/// the target, so a crash mid-save leaves either the old file or the new one, never half of one.
pub fn write_atomic(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "state".into());
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, path)?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}
