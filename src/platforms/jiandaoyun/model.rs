//! Jiandaoyun's data model: apps, forms (entries), widgets and the records of each form.

use std::collections::HashMap;

use crate::core::FastMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;

use crate::core::clock::Millis;
use crate::core::ids::IdGen;
use crate::core::ratelimit::RateWindows;
use crate::core::store::Collection;

pub use crate::core::compact::{Interner, Record, Stored, Val};

/// Widget types as the widget list API names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WidgetType {
    Text,
    Textarea,
    Number,
    Datetime,
    Radiogroup,
    Checkboxgroup,
    Combo,
    Combocheck,
    Address,
    Location,
    Image,
    Upload,
    Subform,
    Linkdata,
    Lookup,
    Signature,
    User,
    Usergroup,
    Dept,
    Deptgroup,
    Phone,
    Sn,
    Richtext,
    Aggregation,
}

const TYPE_NAMES: &[(&str, WidgetType)] = &[
    ("text", WidgetType::Text),
    ("textarea", WidgetType::Textarea),
    ("number", WidgetType::Number),
    ("datetime", WidgetType::Datetime),
    ("radiogroup", WidgetType::Radiogroup),
    ("checkboxgroup", WidgetType::Checkboxgroup),
    ("combo", WidgetType::Combo),
    ("combocheck", WidgetType::Combocheck),
    ("address", WidgetType::Address),
    ("location", WidgetType::Location),
    ("image", WidgetType::Image),
    ("upload", WidgetType::Upload),
    ("subform", WidgetType::Subform),
    ("linkdata", WidgetType::Linkdata),
    ("lookup", WidgetType::Lookup),
    ("signature", WidgetType::Signature),
    ("user", WidgetType::User),
    ("usergroup", WidgetType::Usergroup),
    ("dept", WidgetType::Dept),
    ("deptgroup", WidgetType::Deptgroup),
    ("phone", WidgetType::Phone),
    ("sn", WidgetType::Sn),
    ("richtext", WidgetType::Richtext),
    ("aggregation", WidgetType::Aggregation),
];

impl WidgetType {
    pub fn parse(s: &str) -> Option<Self> {
        TYPE_NAMES.iter().find(|(n, _)| n.eq_ignore_ascii_case(s)).map(|(_, t)| *t)
    }

    pub fn as_str(self) -> &'static str {
        TYPE_NAMES.iter().find(|(_, t)| *t == self).map(|(n, _)| *n).unwrap_or("text")
    }

    pub fn names() -> impl Iterator<Item = &'static str> {
        TYPE_NAMES.iter().map(|(n, _)| *n)
    }

    /// Fields the API cannot write (documented: signature, 选择数据, serial number) or that are computed.
    pub fn api_writable(self) -> bool {
        !matches!(self, WidgetType::Signature | WidgetType::Linkdata | WidgetType::Sn | WidgetType::Aggregation)
    }
}

#[derive(Debug, Clone)]
pub struct Widget {
    /// The field id, `_widget_<13 digits>`.
    pub id: String,
    /// A field alias replaces the id in requests and responses when set.
    pub alias: Option<String>,
    pub label: String,
    pub kind: WidgetType,
    pub required: bool,
    pub options: Vec<String>,
    /// Sub-fields of a subform.
    pub items: Vec<Widget>,
    pub sn_prefix: String,
    pub sn_digits: u32,
}

impl Widget {
    /// The name clients use: the alias if any, else the field id.
    pub fn key(&self) -> &str {
        self.alias.as_deref().unwrap_or(&self.id)
    }
}

/// The widgets of a form (or the items of a subform), addressable by key.
#[derive(Debug, Clone, Default)]
pub struct Schema {
    pub widgets: Vec<Widget>,
    index: FastMap<String, usize>,
}

impl Schema {
    pub fn new(widgets: Vec<Widget>) -> Self {
        let index = widgets.iter().enumerate().map(|(i, w)| (w.key().to_owned(), i)).collect();
        Self { widgets, index }
    }

    pub fn get(&self, key: &str) -> Option<&Widget> {
        self.index.get(key).map(|&i| &self.widgets[i])
    }
}

#[derive(Debug)]
pub struct Entry {
    pub app_id: String,
    pub entry_id: String,
    pub name: String,
    pub flow: Option<String>,
    pub schema: Schema,
    /// Sub-schemas of subform widgets, by subform key.
    pub subforms: HashMap<String, Schema>,
    pub records: Collection<Stored>,
    /// Which records hold each text of the field a filtered list last asked "is exactly" about.
    pub text_index: crate::core::text_index::TextIndexCache<Stored>,
    /// Shares keys and repeated values between this form's records.
    pub interner: Interner,
    /// Latest data change in this form (`dataModifyTime`).
    pub modified_ms: AtomicI64,
    /// Next serial number per `sn` widget.
    pub serials: Mutex<HashMap<String, u64>>,
    /// The form's data push, when the scenario sets one.
    pub push: Option<super::push::Push>,
    /// 数据回收站: records deleted in the UI, newest last, at most [`Entry::RECYCLE_MAX`]; recovering
    /// one puts it back under its id.
    pub recycle: Mutex<std::collections::VecDeque<(String, Arc<Stored>)>>,
}

impl Entry {
    /// Records the recycle bin keeps per form (the oldest go first).
    pub const RECYCLE_MAX: usize = 1_000;

    pub fn is_workflow(&self) -> bool {
        self.flow.is_some()
    }

    pub fn touch(&self, now: Millis) {
        self.modified_ms.fetch_max(now, Ordering::AcqRel);
    }

    pub fn next_serial(&self, w: &Widget) -> String {
        let mut s = self.serials.lock();
        let n = s.entry(w.key().to_owned()).or_insert(0);
        *n += 1;
        format!("{}{:0width$}", w.sn_prefix, *n, width = w.sn_digits as usize)
    }
}

#[derive(Debug, Clone)]
pub struct App {
    pub app_id: String,
    pub name: String,
    pub entry_ids: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct ApiKey {
    pub key: String,
    /// `None` = every app.
    pub apps: Option<Vec<String>>,
    pub disabled: bool,
}

impl ApiKey {
    pub fn allows_app(&self, app_id: &str) -> bool {
        self.apps.as_ref().is_none_or(|a| a.iter().any(|x| x == app_id))
    }
}

/// A `batch_create` transaction: retries with the same id within an hour are the same batch.
#[derive(Debug, Clone)]
pub struct BatchTxn {
    pub entry_id: String,
    pub started_ms: Millis,
    pub created: Vec<String>,
}

/// One upload credential from `file/get_upload_token`: one file, one hour, key fixed in advance.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct UploadToken {
    pub key: String,
    pub transaction_id: String,
    pub entry_id: String,
    pub created_ms: Millis,
    pub used: bool,
}

/// An uploaded file's key and the transaction it is bound to.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct FileKey {
    pub transaction_id: String,
    pub created_ms: Millis,
}

/// All Jiandaoyun state of one world.
#[derive(Debug)]
pub struct State {
    pub keys: Vec<ApiKey>,
    pub apps: Vec<App>,
    pub app_index: FastMap<String, usize>,
    pub entries: FastMap<String, Arc<Entry>>,
    pub default_user: Option<String>,
    pub rate_limits: bool,
    /// `[jiandaoyun] api_writes_push`: API writes push as UI changes do (not the real behaviour).
    pub api_writes_push: bool,
    pub strict_values: bool,
    pub filter_in_max: usize,
    pub ids: IdGen,
    /// Nonces and delivery ids of data pushes: a stream of their own, so pushing never shifts the
    /// record ids a scenario produces.
    pub push_ids: IdGen,
    pub batches: Mutex<HashMap<String, BatchTxn>>,
    pub rate: RateWindows,
    /// Upload tokens, freed as they expire (`files::TTL_MS` after issue).
    pub uploads: Mutex<crate::core::expiring::Expiring<UploadToken>>,
    pub file_keys: Mutex<HashMap<String, FileKey>>,
    /// `[jiandaoyun] attachment_quota_bytes`: bytes of attachments records may hold in all.
    pub attachment_quota: Option<u64>,
    /// Bytes of attachments bound to records so far (counted against the quota).
    pub attachment_used: std::sync::atomic::AtomicU64,
    /// Flow graphs of the workflow forms, by flow id.
    pub flows: HashMap<String, Arc<crate::core::workflow::Flow>>,
    pub workflows: super::workflow::Workflows,
    pub corp: Mutex<super::corp::Corp>,
    pub members: Mutex<MemberCache>,
}

/// Members' JSON (a record's `creator` and `updater`) by username, made from one directory
/// generation: a create then neither builds its creator's object nor hashes it to share it.
#[derive(Debug, Default)]
pub struct MemberCache {
    generation: u64,
    by_user: FastMap<String, Arc<serde_json::Value>>,
}

/// Most members the cache holds before it starts over.
const MEMBER_CACHE_MAX: usize = 4096;

impl MemberCache {
    /// `user`'s member JSON as `make` prints it, from the cache when the directory is still at
    /// `generation`.
    pub fn get(&mut self, generation: u64, user: &str, make: impl FnOnce() -> Option<serde_json::Value>) -> Option<Arc<serde_json::Value>> {
        if self.generation != generation || self.by_user.len() >= MEMBER_CACHE_MAX {
            self.by_user.clear();
            self.generation = generation;
        }
        if let Some(v) = self.by_user.get(user) {
            return Some(v.clone());
        }
        let v = Arc::new(make()?);
        self.by_user.insert(user.to_owned(), v.clone());
        Some(v)
    }
}

impl State {
    pub fn app(&self, app_id: &str) -> Option<&App> {
        self.app_index.get(app_id).map(|&i| &self.apps[i])
    }
}
