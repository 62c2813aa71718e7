//! Yida's state: apps, forms, form instances and process instances.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use crate::core::compact::{Interner, Keys, Stored};

use crate::core::clock::Millis;
use crate::core::ids::IdGen;
use crate::core::workflow::{Flow, Instance};

#[derive(Debug, Clone)]
pub struct Component {
    pub id: String,
    pub label: String,
    /// Canonical component name (`TextField`, `TableField` …).
    pub kind: &'static str,
    pub required: bool,
    pub options: Vec<String>,
    /// English labels of `options` (option → label), returned for `language=en_US`.
    pub options_en: HashMap<String, String>,
    /// Columns of a `TableField`.
    pub items: Vec<Component>,
}

impl Component {
    /// The stored option for a written one: an English label is taken as the option it labels.
    pub fn canonical_option<'a>(&'a self, written: &'a str) -> &'a str {
        self.options_en.iter().find(|(_, en)| en.as_str() == written).map(|(o, _)| o.as_str()).unwrap_or(written)
    }
}

#[derive(Debug)]
pub struct Form {
    pub app_type: String,
    pub form_uuid: String,
    pub name: String,
    pub process_code: Option<String>,
    pub flow: Option<Arc<Flow>>,
    pub components: Vec<Component>,
    /// Who may read and search (`None` = everyone).
    pub viewers: Option<Vec<String>>,
    /// Who may submit (`None` = everyone).
    pub submitters: Option<Vec<String>>,
    /// Integration & automation flows started by this form's record events.
    pub automations: Vec<super::automations::AutomationDef>,
    pub instances: Mutex<Instances>,
    /// Which instances hold each value of the select field last searched by equality, by position,
    /// trusted while the instances' version stands still.
    pub select_index: Mutex<Option<SelectIndex>>,
    /// Whether `instances` is in creation-time order, checked as it grows (see [`Form::in_creation_order`]).
    pub order: Mutex<OrderCheck>,
    /// Bumped by every change to `instances` other than appending (removal, state import), so the
    /// order check starts over.
    pub reshaped: std::sync::atomic::AtomicU64,
    /// Instances as the searches print them, reused while nothing they show changed.
    pub printed: Mutex<Printed>,
    /// Shares keys and repeated values between the form data of its instances.
    pub interner: Interner,
}

/// The shapes a read prints an instance in (each also in English labels).
#[derive(Debug, Clone, Copy)]
pub enum PrintShape {
    /// `searchFormDatas` / `getFormDataById` (`Detail`).
    InApp = 0,
    /// The Open API's `forms/instances/search` item.
    OpenApi = 2,
}

/// Printed instances by shape and instance id, trusted while the instances' version (every mutable
/// access counts, see [`Instances`]) and the directory's generation (names, departments) stand
/// still; otherwise emptied before use. A page of a search is then a concatenation of bytes.
#[derive(Debug, Default)]
pub struct Printed {
    version: u64,
    generation: u64,
    bytes: usize,
    by_shape: [HashMap<String, Box<[u8]>>; 4],
}

impl Printed {
    /// Appends `inst`'s printed form in `shape` to `out`: kept bytes, or `print`'s (then kept, within
    /// the process-wide budget of kept JSON, [`crate::core::json_cache::MAX_BYTES`]).
    pub fn write(&mut self, inst: &FormInstance, shape: PrintShape, english: bool, out: &mut Vec<u8>, print: impl FnOnce(&mut Vec<u8>)) {
        let kept = &mut self.by_shape[shape as usize + usize::from(english)];
        if let Some(b) = kept.get(&inst.form_inst_id) {
            out.extend_from_slice(b);
            return;
        }
        let start = out.len();
        print(out);
        let printed = &out[start..];
        if crate::core::json_cache::reserve(printed.len()) {
            self.bytes += printed.len();
            kept.insert(inst.form_inst_id.clone(), printed.into());
        }
    }
}

impl Drop for Printed {
    fn drop(&mut self) {
        crate::core::json_cache::release(self.bytes);
    }
}

impl Form {
    /// The form's printed instances, emptied first when `list` (its instances, locked by the caller)
    /// or the directory changed since they were printed.
    pub fn printed(&self, list: &Instances, directory_generation: u64) -> parking_lot::MutexGuard<'_, Printed> {
        let mut p = self.printed.lock();
        if p.version != list.version() || p.generation != directory_generation {
            *p = Printed { version: list.version(), generation: directory_generation, bytes: 0, by_shape: Default::default() };
        }
        p
    }
}

/// A form's instances in creation order. Every mutable access counts as a change (`version`), so what is
/// derived from them and kept beside them (a select index) knows when it is stale without a hook in
/// each of the many places that write instances. Boxed, so the list that grows by doubling copies a
/// pointer per instance, not the instance (a save that doubled a list of 100 000 instances used to stall
/// every request for tens of milliseconds).
#[derive(Debug, Default)]
pub struct Instances {
    #[allow(clippy::vec_box)] // the point: growing the list moves pointers, not instances
    list: Vec<Box<FormInstance>>,
    version: u64,
}

impl std::ops::Deref for Instances {
    type Target = Vec<Box<FormInstance>>;
    fn deref(&self) -> &Vec<Box<FormInstance>> {
        &self.list
    }
}

impl std::ops::DerefMut for Instances {
    fn deref_mut(&mut self) -> &mut Vec<Box<FormInstance>> {
        self.version += 1;
        &mut self.list
    }
}

impl Instances {
    /// Changes so far (each mutable access counts once).
    pub fn version(&self) -> u64 {
        self.version
    }
}

/// Positions of the instances holding each value of one select field (as the search compares it).
#[derive(Debug)]
pub struct SelectIndex {
    field: String,
    version: u64,
    positions: HashMap<String, Vec<u32>>,
}

impl Form {
    /// How many instances' `field` reads `value`, and the list positions of those at `skip..skip + take`
    /// newest first (the list backwards), from the form's select index — rebuilt in one pass when the
    /// instances changed since it was built. `text` reads a stored value the way the search compares it.
    pub fn select_page(
        &self,
        list: &Instances,
        field: &str,
        value: &str,
        text: impl Fn(&Value) -> String,
        skip: usize,
        take: usize,
    ) -> (usize, Vec<usize>) {
        let mut index = self.select_index.lock();
        if index.as_ref().is_none_or(|i| i.version != list.version() || i.field != field) {
            let mut positions: HashMap<String, Vec<u32>> = HashMap::new();
            for (at, inst) in list.iter().enumerate() {
                positions.entry(text(&inst.data.value(field).unwrap_or_default())).or_default().push(at as u32);
            }
            *index = Some(SelectIndex { field: field.to_owned(), version: list.version(), positions });
        }
        let found = index.as_ref().and_then(|i| i.positions.get(value)).map(Vec::as_slice).unwrap_or(&[]);
        (found.len(), found.iter().rev().skip(skip).take(take).map(|&at| at as usize).collect())
    }
}

/// How far a form's list was checked for non-decreasing creation times, and the result.
#[derive(Debug, Default)]
pub struct OrderCheck {
    checked: usize,
    last_ms: Millis,
    disordered: bool,
    generation: u64,
}

impl Form {
    /// A form with no instances yet.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        app_type: String,
        form_uuid: String,
        name: String,
        process_code: Option<String>,
        flow: Option<Arc<Flow>>,
        components: Vec<Component>,
        viewers: Option<Vec<String>>,
        submitters: Option<Vec<String>>,
        automations: Vec<super::automations::AutomationDef>,
    ) -> Self {
        Form {
            app_type,
            form_uuid,
            name,
            process_code,
            flow,
            components,
            viewers,
            submitters,
            automations,
            instances: Mutex::new(Instances::default()),
            select_index: Mutex::new(None),
            order: Mutex::new(OrderCheck::default()),
            reshaped: Default::default(),
            printed: Mutex::new(Printed::default()),
            interner: Interner::default(),
        }
    }

    /// Whether creation times never decrease along `list` (this form's instances, locked by the
    /// caller). Ids grow along the list too, so then "newest first" is the list backwards and a page
    /// of it costs the page, not a sort. Appends are checked as they arrive; after any other change
    /// the list is checked once more. Only moving the emulator clock back between writes breaks it.
    pub fn in_creation_order(&self, list: &[Box<FormInstance>]) -> bool {
        let generation = self.reshaped.load(std::sync::atomic::Ordering::Acquire);
        let mut c = self.order.lock();
        if c.generation != generation || list.len() < c.checked {
            *c = OrderCheck { generation, last_ms: Millis::MIN, ..OrderCheck::default() };
        }
        if !c.disordered {
            for i in &list[c.checked..] {
                if i.created_ms < c.last_ms {
                    c.disordered = true;
                    break;
                }
                c.last_ms = i.created_ms;
            }
        }
        c.checked = list.len();
        !c.disordered
    }

    /// Marks a change to the instances other than an append.
    pub fn reshape(&self) {
        self.reshaped.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    }

    pub fn component(&self, id: &str) -> Option<&Component> {
        self.components.iter().find(|c| c.id == id)
    }

    pub fn can_view(&self, user: &str) -> bool {
        self.viewers.as_ref().is_none_or(|v| v.iter().any(|u| u == user))
    }

    pub fn can_submit(&self, user: &str) -> bool {
        self.submitters.as_ref().is_none_or(|v| v.iter().any(|u| u == user))
    }
}

/// One form instance (a receipt-form record, or the data of a process instance).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FormInstance {
    pub form_inst_id: String,
    /// Set for process forms: the instance's `processInstanceId`.
    pub process_instance_id: Option<String>,
    /// The form data, stored compactly (see [`crate::core::compact`]).
    pub data: Stored,
    pub originator: String,
    pub created_ms: Millis,
    pub modified_ms: Millis,
    pub modifier: String,
    pub version: i64,
    /// Boxed: most forms have no process, and the list of instances copies its items as it grows.
    pub process: Option<Box<Instance>>,
    /// Who created and changed the instance, oldest first, at most [`FormInstance::LOG_MAX`] entries
    /// (the oldest give way). Field ids only, never values, so the bound holds for large forms.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub log: Vec<LogEntry>,
}

impl FormInstance {
    pub const LOG_MAX: usize = 100;

    /// Writes `patch` into the data (present keys replaced in place, new ones appended; a sub-form as a
    /// whole) and logs the change by `user` at `at`.
    pub fn update_data(&mut self, interner: &Interner, user: &str, at: Millis, patch: &serde_json::Map<String, Value>) {
        self.record(LogKind::Update, user, at, patch.keys().map(|k| std::sync::Arc::from(k.as_str())).collect());
        self.data = self.data.with_changes(patch.iter().map(|(k, v)| (k.as_str(), v)), interner);
    }

    /// Records one change by `user` at `at` touching `fields`.
    pub fn record(&mut self, kind: LogKind, user: &str, at: Millis, fields: Keys) {
        if self.log.len() >= Self::LOG_MAX {
            self.log.remove(0);
        }
        self.log.push(LogEntry { kind, operator: user.to_owned(), at, fields });
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogKind {
    Create,
    Update,
}

/// One entry of a form instance's operation log (`forms/operationsLogs/query`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LogEntry {
    pub kind: LogKind,
    pub operator: String,
    pub at: Millis,
    /// The field ids the change wrote (a creation's are its data's keys, shared with them).
    pub fields: Keys,
}

#[derive(Debug)]
pub struct App {
    pub app_type: String,
    pub name: String,
    pub admins: Option<Vec<String>>,
    pub forms: Vec<Arc<Form>>,
}

#[derive(Debug)]
pub struct State {
    pub apps: HashMap<String, App>,
    pub default_user: String,
    pub ids: IdGen,
    /// Numeric task ids and operation-record ids, as the product prints them.
    pub counter: Mutex<u64>,
    /// DingTalk Open API: app key → secret, issued access tokens → expiry, app code → system token.
    pub app_keys: HashMap<String, String>,
    /// Open API access tokens, freed as they expire.
    pub tokens: Mutex<crate::core::expiring::Expiring<()>>,
    pub system_tokens: HashMap<String, String>,
    /// `[yida] event_subscription`: DingTalk events of process changes go there.
    pub subscription: Option<super::events::Subscription>,
    /// Nonces and random prefixes of sealed events: their own stream, so events never shift ids.
    pub event_ids: IdGen,
    /// The automation log: runs oldest first, at most `automations::MAX_RUNS` (not in state exports,
    /// like the deliveries they read).
    pub automation_runs: Mutex<std::collections::VecDeque<super::automations::Run>>,
}

impl State {
    pub fn form(&self, app: &str, uuid: &str) -> Option<Arc<Form>> {
        self.apps.get(app)?.forms.iter().find(|f| f.form_uuid == uuid).cloned()
    }

    /// The form holding a form instance or process instance id.
    pub fn find_instance(&self, app: &str, id: &str) -> Option<Arc<Form>> {
        self.apps.get(app)?.forms.iter().find(|f| locate(&f.instances.lock(), id).is_some()).cloned()
    }

    /// `FINST-`/`FORM-` style ids: 38 characters of `[0-9A-Z]`, the first ten counting up so ids sort by
    /// creation.
    pub fn long_id(&self, prefix: &str) -> String {
        let n = self.next_number();
        let mut s = format!("{prefix}{:0>10}", radix36(n));
        while s.len() < prefix.len() + 38 {
            s.push(char::from_digit((self.ids.below(36)) as u32, 36).unwrap_or('0').to_ascii_uppercase());
        }
        s
    }

    pub fn next_number(&self) -> u64 {
        let mut c = self.counter.lock();
        *c += 1;
        *c
    }
}

fn radix36(mut n: u64) -> String {
    let mut out = Vec::new();
    loop {
        out.push(char::from_digit((n % 36) as u32, 36).unwrap_or('0').to_ascii_uppercase());
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.iter().rev().collect()
}

/// Where instance `id` (a form instance id, or a process instance id) sits in a form's list. Form
/// instance ids grow with creation and the list keeps creation order, so they are found by binary
/// search; a process instance id (or an id the search misses) is looked for one by one.
pub fn locate(list: &[Box<FormInstance>], id: &str) -> Option<usize> {
    if let Ok(i) = list.binary_search_by(|x| x.form_inst_id.as_str().cmp(id)) {
        return Some(i);
    }
    list.iter().position(|i| i.form_inst_id == id || i.process_instance_id.as_deref() == Some(id))
}
