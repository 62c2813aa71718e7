//! Astro Zero's state: OAuth clients and tokens, object definitions and their records.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::core::clock::Millis;
use crate::core::expiring::Expiring;
use crate::core::ids::IdGen;
use crate::core::store::Collection;
use crate::core::workflow::Instance;
use crate::scenario::FlowDef;

pub use super::program::{ParamDef, StepDef};
pub use super::scenario::{ConnectorDef, ScriptDef};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Field {
    pub id: String,
    pub name: String,
    pub label: String,
    /// `text`, `textarea`, `number`, `percent`, `currency`, `phone`, `email`, `url`, `date`, `datetime`,
    /// `checkbox`, `singleselect`, `multiselect`, `encryptedtext`.
    pub data_type: String,
    pub required: bool,
    pub unique: bool,
    /// Allowed values of `singleselect` / `multiselect`.
    pub options: Vec<String>,
    /// The global value set (picklist id) the options come from; they follow its changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub picklist: Option<String>,
}

/// A global picklist value set (选项列表值集).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ValueSet {
    pub id: String,
    pub name: String,
    pub master_label: String,
    pub description: String,
    pub use_first_as_default: bool,
    /// (value, label)
    pub values: Vec<(String, String)>,
    pub created_ms: Millis,
}

pub type Record = Map<String, Value>;

/// Records are stored compactly (keys shared per layout, repeated values shared per object, JSON
/// printed on first read and reused): see [`crate::core::compact`].
pub use crate::core::compact::{Fields, Stored, Val, ValRef};

#[derive(Debug)]
pub struct Obj {
    pub id: String,
    pub name: String,
    /// Editable through the metadata API while records keep flowing, hence behind locks.
    pub label: RwLock<String>,
    pub description: RwLock<String>,
    pub key_prefix: String,
    pub custom: bool,
    pub created_ms: Millis,
    pub fields: RwLock<Vec<Field>>,
    pub records: Collection<Stored>,
    /// Shares keys and repeated values between the object's records.
    pub interner: crate::core::compact::Interner,
    /// Serialises writes that check uniqueness.
    pub write_lock: Mutex<()>,
    /// Where each unique field's values live, so a write checks uniqueness without a scan.
    pub unique_index: Mutex<UniqueIndex>,
    /// Which records hold each text value of the field last queried by equality (queries' totals
    /// and pages without a scan while no write comes between).
    pub text_index: crate::core::text_index::TextIndexCache<Stored>,
}

/// Values of an object's unique fields → the records holding them. The data API's writes keep it up to
/// date; any other write (Flows and scripts, metadata changes, imports) shows as a newer collection
/// version, and the next check rebuilds it once.
#[derive(Debug, Default)]
pub struct UniqueIndex {
    version: Option<u64>,
    fields: Vec<String>,
    /// field → value (as JSON text) → ids of the records holding it.
    values: HashMap<String, HashMap<String, Vec<String>>>,
}

impl UniqueIndex {
    /// Makes the index match the collection and the object's current unique fields.
    pub fn refresh(&mut self, records: &Collection<Stored>, fields: &[String]) {
        let version = records.version();
        if self.version == Some(version) && self.fields == fields {
            return;
        }
        self.fields = fields.to_vec();
        self.values.clear();
        for r in records.snapshot() {
            self.add(&*r);
        }
        self.version = Some(version);
    }

    fn id_of(rec: &dyn Fields) -> String {
        rec.field_or_null("id").as_str().unwrap_or_default().to_owned()
    }

    fn add(&mut self, rec: &dyn Fields) {
        for f in &self.fields {
            if let Some(v) = rec.field(f).filter(|v| !v.is_null()) {
                self.values.entry(f.clone()).or_default().entry(v.json_text()).or_default().push(Self::id_of(rec));
            }
        }
    }

    fn remove(&mut self, rec: &dyn Fields) {
        let id = Self::id_of(rec);
        for f in &self.fields {
            if let Some(v) = rec.field(f).filter(|v| !v.is_null()) {
                if let Some(ids) = self.values.get_mut(f).and_then(|m| m.get_mut(&v.json_text())) {
                    ids.retain(|i| *i != id);
                }
            }
        }
    }

    /// Whether a record other than `id` holds `value` in `field`.
    pub fn clashes(&self, field: &str, value: ValRef<'_>, id: &str) -> bool {
        self.values.get(field).and_then(|m| m.get(&value.json_text())).is_some_and(|ids| ids.iter().any(|i| i != id))
    }

    /// After a data-API write that took the collection from `before` to `before + 1`: `old` replaced by
    /// `new`. Any other history leaves the index stale, to be rebuilt on the next check.
    pub fn written(&mut self, records: &Collection<Stored>, before: u64, old: Option<&dyn Fields>, new: &[&dyn Fields]) {
        if self.version != Some(before) || records.version() != before + 1 {
            return;
        }
        if let Some(o) = old {
            self.remove(o);
        }
        for n in new {
            self.add(*n);
        }
        self.version = Some(before + 1);
    }
}

impl Obj {
    /// `rec` as the object stores it.
    pub fn store(&self, rec: &Record) -> Stored {
        self.interner.store(rec)
    }

    /// What `read` takes from the field named `name` (any case), without copying the whole field.
    pub fn with_field<T>(&self, name: &str, read: impl FnOnce(&Field) -> T) -> Option<T> {
        self.fields.read().iter().find(|f| f.name.eq_ignore_ascii_case(name)).map(read)
    }
}

#[derive(Debug, Clone)]
pub struct Client {
    pub secret: String,
    pub user: String,
}

#[derive(Debug)]
pub struct State {
    pub namespace: String,
    pub clients: HashMap<String, Client>,
    /// token → (expiry, user)
    /// Issued access tokens → user, freed as they expire.
    pub tokens: Mutex<Expiring<String>>,
    pub token_ttl_s: i64,
    pub rate_limit: Option<u32>,
    pub rate: crate::core::ratelimit::RateWindows,
    pub objects: RwLock<Vec<Arc<Obj>>>,
    pub ids: IdGen,
    pub counter: Mutex<u64>,
    /// Global picklist value sets. Never held while taking an object's field lock (fields are
    /// synced after it is released).
    pub picklists: RwLock<Vec<ValueSet>>,
    /// Scripts from the scenario (several versions may share a name).
    pub scripts: Vec<ScriptDef>,
    /// Custom APIs from the scenario.
    pub apis: Vec<super::services::ApiDef>,
    /// Import/export templates from the scenario.
    pub templates: Vec<super::templates::TemplateDef>,
    /// Connector instances from the scenario.
    pub connectors: Vec<ConnectorDef>,
    /// Flows, BPM, stored files and bulk tasks: low-traffic state behind one lock, kept as one
    /// serialisable value so state export is a clone.
    pub runtime: Mutex<Runtime>,
    /// Set at start and by a state import: service-task calls instances wait for go out on the next
    /// request.
    pub redispatch: std::sync::atomic::AtomicBool,
    /// The directory generation the standard object `User` was last rebuilt from.
    pub users_synced: std::sync::atomic::AtomicU64,
}

/// The standard object integrations read for people: one record per member of the directory.
pub const USER_OBJECT: &str = "User";

/// The `User` object: standard (no `__CST`), read-only through the data API, its records the
/// directory's members with their `10gd…` ids. Its id is fixed, so adding it shifts no other id.
pub fn user_object(now: Millis) -> Obj {
    let field = |name: &str, label: &str, data_type: &str| Field {
        id: format!("stad000000{:0>10}", name),
        name: name.to_owned(),
        label: label.to_owned(),
        data_type: data_type.to_owned(),
        required: false,
        unique: false,
        options: Vec::new(),
        picklist: None,
    };
    Obj {
        id: format!("stad000000{USER_OBJECT:0>10}"),
        name: USER_OBJECT.to_owned(),
        label: RwLock::new("用户".to_owned()),
        description: RwLock::new(String::new()),
        key_prefix: "10gd".to_owned(),
        custom: false,
        created_ms: now,
        fields: RwLock::new(vec![
            field("usrName", "用户名", "text"),
            field("email", "邮箱", "email"),
            field("phone", "手机", "phone"),
            field("active", "是否有效", "checkbox"),
        ]),
        records: Default::default(),
        interner: Default::default(),
        write_lock: Mutex::new(()),
        unique_index: Default::default(),
        text_index: Default::default(),
    }
}

/// A Flow definition (服务编排), from the scenario or the metadata API.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FlowDefn {
    pub id: String,
    pub name: String,
    pub label: String,
    pub version: String,
    pub process_type: String,
    pub active: bool,
    pub private: bool,
    /// `Active`, or `Error` when the definition has validation errors (it then cannot run).
    pub status: String,
    pub description: String,
    pub interview_label: String,
    pub inputs: Vec<ParamDef>,
    pub outputs: Vec<ParamDef>,
    pub steps: Vec<StepDef>,
    pub errors: Vec<String>,
    pub created_by: String,
    pub created_ms: Millis,
    pub updated_ms: Millis,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum InterviewStatus {
    Active,
    Completed,
    Terminated,
}

/// A running (or finished) Flow instance.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Interview {
    pub id: String,
    pub flow_id: String,
    pub flow_name: String,
    pub version: String,
    pub status: InterviewStatus,
    pub vars: Map<String, Value>,
    /// The wait step the interview stands at.
    pub at: Option<usize>,
    /// Screens passed, with the variables as they were there, for `back`.
    pub history: Vec<(usize, Map<String, Value>)>,
    /// The request that runs it awaits a Rest action's answer (at step `at`); no other request
    /// may move it meanwhile. Not exported: an imported interview calls again on `next`.
    #[serde(skip)]
    pub calling: bool,
    pub creator: String,
    pub created_ms: Millis,
    pub updated_ms: Millis,
}

/// A BPM definition: the graph runs on the shared workflow engine.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BpDefn {
    pub id: String,
    pub name: String,
    pub label: String,
    pub version: String,
    pub description: String,
    pub active: bool,
    pub config: Map<String, Value>,
    pub graph: FlowDef,
    pub created_ms: Millis,
    pub updated_ms: Millis,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BpInstance {
    pub def_id: String,
    pub name: String,
    pub version: String,
    pub title: String,
    pub business_key: String,
    pub bp_status: String,
    pub suspended: bool,
    /// Ended by `PUT {"action":"terminate"}` (`User Terminated`), not by the graph.
    pub user_terminated: bool,
    pub wf: Instance,
    /// Tokens at service tasks whose call is under way.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub calls: Vec<u64>,
}

/// A file in a connector's bucket; the bytes live in the world's blob store under `blob`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredObject {
    pub blob: String,
    pub size: usize,
    pub acl: String,
    pub content_type: String,
    pub modified_ms: Millis,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MultipartUpload {
    pub connector: String,
    pub object: String,
    pub content_type: String,
    /// part number → blob id
    pub parts: BTreeMap<u32, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Share {
    pub connector: String,
    /// Shared keys; a key ending in `/` shares everything under it.
    pub keys: Vec<String>,
    pub expires_ms: Millis,
}

/// An import or export job (they finish at once in the emulator).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BulkTask {
    pub id: String,
    pub kind: String,
    pub status: String,
    pub objects: Vec<String>,
    pub records: usize,
    /// Where an export's file was written: connector and object key.
    pub file: Option<(String, String)>,
    pub errors: Vec<String>,
    pub created_ms: Millis,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Runtime {
    pub flows: Vec<FlowDefn>,
    pub interviews: BTreeMap<String, Interview>,
    pub processes: Vec<BpDefn>,
    pub instances: BTreeMap<String, BpInstance>,
    /// `connector/key` → file
    pub files: BTreeMap<String, StoredObject>,
    pub uploads: BTreeMap<String, MultipartUpload>,
    pub shares: BTreeMap<String, Share>,
    pub tasks: BTreeMap<String, BulkTask>,
}

const B62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

impl State {
    /// 20-character ids: a 4-character type prefix, `000000`, then 10 base-62 digits counting up, so
    /// ids sort by creation.
    pub fn new_id(&self, prefix: &str) -> String {
        let mut n = {
            let mut c = self.counter.lock();
            *c += 1;
            *c
        };
        let mut digits = [b'0'; 10];
        for d in digits.iter_mut().rev() {
            *d = B62[(n % 62) as usize];
            n /= 62;
        }
        format!("{prefix:0<4}000000{}", String::from_utf8_lossy(&digits))
    }

    /// Rebuilds the `User` object's records when a member changed since the last rebuild (one atomic
    /// read otherwise): a record per member, changed ones stamped `now`.
    pub fn sync_users(&self, dir: &crate::core::directory::Directory, now: Millis) {
        use std::sync::atomic::Ordering::{Acquire, Release};
        let generation = dir.generation();
        if self.users_synced.load(Acquire) == generation {
            return;
        }
        let Some(obj) = self.object(USER_OBJECT).filter(|o| !o.custom) else { return };
        let _guard = obj.write_lock.lock();
        for u in dir.users() {
            let old = obj.records.get(&user_id(&u.id));
            if let Some(rec) = super::data::user_record(&u, old.as_deref(), now) {
                obj.records.insert(&user_id(&u.id), obj.store(&rec));
            }
        }
        self.users_synced.store(generation, Release);
    }

    pub fn object(&self, name_or_id: &str) -> Option<Arc<Obj>> {
        self.objects.read().iter().find(|o| o.name.eq_ignore_ascii_case(name_or_id) || o.id == name_or_id).cloned()
    }

    /// The user of a valid token (None when missing, unknown or expired).
    pub fn token_user(&self, token: &str, now: Millis) -> Option<String> {
        self.tokens.lock().get(token, now).cloned()
    }
}

/// A user's 20-character id in Astro Zero's format (`10gd…`), stable per user name.
pub fn user_id(user: &str) -> String {
    let h = crate::core::ids::fnv1a(user.as_bytes());
    let mut n = h;
    let mut s = String::from("10gd000000");
    for _ in 0..10 {
        s.push(B62[(n % 62) as usize] as char);
        n /= 62;
    }
    s
}
