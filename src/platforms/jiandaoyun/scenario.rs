//! The `[jiandaoyun]` scenario section: its schema, validation, and building the live state from it.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::AtomicI64;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::model::{ApiKey, App, Entry, Schema, State, Widget, WidgetType};
use super::values::{Converter, Shape};
use crate::core::directory::Directory;
use crate::core::ids::IdGen;
use crate::path;
use crate::platforms::ValidateCx;
use crate::scenario::{Diag, GenerateDef, Origin, Scenario, Seg};

#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JdySection {
    #[serde(default)]
    pub api_keys: Vec<ApiKeyDef>,
    /// Member recorded as creator/updater of seeded and API-written records (default: first user).
    pub default_user: Option<String>,
    /// Enforce the documented per-route and enterprise rate limits (off by default).
    #[serde(default)]
    pub rate_limits: bool,
    /// Reject values that do not fit their widget with 4000 instead of storing them empty.
    #[serde(default)]
    pub strict_values: bool,
    /// Most values an `in`/`nin`/`all` filter may carry (documented 200).
    pub filter_in_max: Option<usize>,
    /// Attachment quota of the tenant in bytes; binding files beyond it fails with 7217.
    pub attachment_quota_bytes: Option<u64>,
    /// Make API writes (single create, update, delete) push too. The real Jiandaoyun never pushes on
    /// API writes; this is a convenience for tests that have no UI to act through.
    #[serde(default)]
    pub api_writes_push: bool,
    #[serde(default)]
    pub apps: Vec<JdyAppDef>,
    /// Role groups with their roles and members (default: one group "默认").
    #[serde(default)]
    pub role_groups: Vec<RoleGroupDef>,
    /// Connected companies (企业互联) and their contacts.
    #[serde(default)]
    pub guests: Vec<GuestDef>,
    /// Seeded records per entry id, converted to read shape (without system fields) by validation.
    #[serde(skip)]
    #[schemars(skip)]
    pub seeded_records: HashMap<String, Vec<Map<String, Value>>>,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleGroupDef {
    pub group_no: Option<i64>,
    pub name: String,
    #[serde(default)]
    pub roles: Vec<RoleDef>,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleDef {
    pub role_no: Option<i64>,
    pub name: String,
    #[serde(default)]
    pub members: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GuestDef {
    pub dept_no: i64,
    pub name: String,
    #[serde(default)]
    pub members: Vec<super::corp::GuestMember>,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum ApiKeyDef {
    Plain(String),
    Scoped(ScopedKeyDef),
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScopedKeyDef {
    pub key: String,
    pub apps: Option<Vec<String>>,
    #[serde(default)]
    pub disabled: bool,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JdyAppDef {
    #[schemars(schema_with = "object_id_schema")]
    pub app_id: String,
    pub name: String,
    #[serde(default)]
    pub entries: Vec<JdyEntryDef>,
    #[serde(skip)]
    pub origin: Origin,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JdyEntryDef {
    #[schemars(schema_with = "object_id_schema")]
    pub entry_id: String,
    pub name: String,
    pub flow: Option<String>,
    #[serde(default)]
    pub widgets: Vec<WidgetDef>,
    #[serde(default)]
    pub records: Vec<Map<String, Value>>,
    pub records_file: Option<String>,
    pub generate: Option<GenerateDef>,
    /// Data push (数据推送): where changes of this form's records are posted, signed with `secret`.
    pub push: Option<PushDef>,
}

/// A form's data push, as set in 表单设置 » 数据推送.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PushDef {
    /// The receiver: `http://…` (the emulator posts there; loopback in tests).
    pub url: String,
    /// Signs every push (`X-JDY-Signature`); without one, pushes carry no signature.
    pub secret: Option<String>,
    /// Which of `data_create`, `data_update`, `data_remove`, `data_recover` push (default: all).
    pub events: Option<Vec<String>>,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WidgetDef {
    pub name: String,
    pub label: String,
    #[serde(rename = "type")]
    #[schemars(schema_with = "widget_type_schema")]
    pub kind: String,
    #[serde(default)]
    pub required: bool,
    pub alias: Option<String>,
    #[serde(default)]
    pub options: Vec<String>,
    #[serde(default)]
    pub items: Vec<WidgetDef>,
    /// Serial number (`sn`) prefix and counter width.
    pub prefix: Option<String>,
    pub digits: Option<u32>,
}

impl crate::platforms::Section for JdySection {
    fn tag_origins(&mut self, file: usize) {
        for (index, a) in self.apps.iter_mut().enumerate() {
            a.origin = Origin { file, index };
        }
    }

    fn merge(&mut self, top: JdySection) {
        self.api_keys.extend(top.api_keys);
        self.default_user = top.default_user.or(self.default_user.take());
        self.rate_limits |= top.rate_limits;
        self.strict_values |= top.strict_values;
        self.filter_in_max = top.filter_in_max.or(self.filter_in_max);
        self.attachment_quota_bytes = top.attachment_quota_bytes.or(self.attachment_quota_bytes);
        self.apps.extend(top.apps);
        self.role_groups.extend(top.role_groups);
        self.guests.extend(top.guests);
    }
}

pub fn is_object_id(s: &str) -> bool {
    s.len() == 24 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn widget_from_def(d: &WidgetDef) -> Widget {
    Widget {
        id: d.name.clone(),
        alias: d.alias.clone(),
        label: d.label.clone(),
        kind: WidgetType::parse(&d.kind).unwrap_or(WidgetType::Text),
        required: d.required,
        options: d.options.clone(),
        items: d.items.iter().map(widget_from_def).collect(),
        sn_prefix: d.prefix.clone().unwrap_or_default(),
        sn_digits: d.digits.unwrap_or(4),
    }
}

pub fn schema_of(def: &JdyEntryDef) -> Schema {
    Schema::new(def.widgets.iter().map(widget_from_def).collect())
}

/// System fields a seeded record may set itself.
const SEED_SYSTEM_FIELDS: &[&str] = &["_id", "creator", "createTime", "updateTime", "flowState"];

fn check_widgets(ws: &[WidgetDef], origin: Origin, base: &[Seg], in_subform: bool, diags: &mut Vec<Diag>) {
    let mut keys = HashSet::new();
    for (i, w) in ws.iter().enumerate() {
        let at = |k: &str| {
            let mut p = base.to_vec();
            p.extend([Seg::Index(i), Seg::Key(k.into())]);
            p
        };
        match WidgetType::parse(&w.kind) {
            None => diags.push(Diag::at(
                origin,
                &["jiandaoyun", "apps"],
                at("type"),
                format!("expected a Jiandaoyun widget type ({}), got {:?}", WidgetType::names().collect::<Vec<_>>().join(", "), w.kind),
            )),
            Some(WidgetType::Subform) if in_subform => {
                diags.push(Diag::at(origin, &["jiandaoyun", "apps"], at("type"), "a subform cannot contain a subform"))
            }
            Some(WidgetType::Subform) => {
                let mut p = base.to_vec();
                p.extend([Seg::Index(i), Seg::Key("items".into())]);
                check_widgets(&w.items, origin, &p, true, diags);
            }
            Some(_) if !w.items.is_empty() => {
                diags.push(Diag::at(origin, &["jiandaoyun", "apps"], at("items"), "only subform widgets take items"))
            }
            Some(_) => {}
        }
        if w.name.trim().is_empty() {
            diags.push(Diag::at(origin, &["jiandaoyun", "apps"], at("name"), "expected a widget id such as \"_widget_1600000000001\""));
        }
        let key = w.alias.as_deref().unwrap_or(&w.name);
        if !keys.insert(key.to_owned()) || (w.alias.as_deref().is_some_and(|a| a != w.name) && !keys.insert(w.name.clone())) {
            diags.push(Diag::at(origin, &["jiandaoyun", "apps"], at("name"), format!("duplicate widget name {key:?}")));
        }
    }
}

pub fn validate(scenario: &mut Scenario, cx: &ValidateCx, diags: &mut Vec<Diag>) {
    let (sources, dir, flows) = (cx.sources, cx.directory, cx.flow_ids);
    let Some(jdy) = &scenario.doc.platforms.jiandaoyun else { return };
    let section = &["jiandaoyun"];
    let root_file = jdy.apps.first().map(|a| a.origin.file).unwrap_or(0);
    if jdy.api_keys.is_empty() {
        diags.push(Diag::in_file(
            root_file,
            path!["jiandaoyun"],
            "expected at least one entry in api_keys (e.g. api_keys = [\"jdy-test-key\"])",
        ));
    }
    let app_ids: HashSet<&str> = jdy.apps.iter().map(|a| a.app_id.as_str()).collect();
    for (i, k) in jdy.api_keys.iter().enumerate() {
        let (key, apps) = match k {
            ApiKeyDef::Plain(s) => (s, None),
            ApiKeyDef::Scoped(s) => (&s.key, s.apps.as_ref()),
        };
        if key.trim().is_empty() {
            diags.push(Diag::in_file(root_file, path!["jiandaoyun", "api_keys", i], "expected a non-empty key"));
        }
        for (j, a) in apps.into_iter().flatten().enumerate() {
            if !app_ids.contains(a.as_str()) {
                diags.push(Diag::in_file(
                    root_file,
                    path!["jiandaoyun", "api_keys", i, "apps", j],
                    format!("expected an app_id of [[jiandaoyun.apps]], got {a:?}"),
                ));
            }
        }
    }
    let _ = section;
    if let Some(u) = &jdy.default_user {
        if dir.user(u).is_none() {
            diags.push(Diag::in_file(
                root_file,
                path!["jiandaoyun", "default_user"],
                format!("expected a user id from [[users]], got {u:?}"),
            ));
        }
    }
    for (gi, g) in jdy.role_groups.iter().enumerate() {
        for (ri, r) in g.roles.iter().enumerate() {
            for (mi, m) in r.members.iter().enumerate() {
                if dir.user(m).is_none() {
                    diags.push(Diag::in_file(
                        root_file,
                        path!["jiandaoyun", "role_groups", gi, "roles", ri, "members", mi],
                        format!("expected a user id from [[users]], got {m:?}"),
                    ));
                }
            }
        }
    }
    let mut seen_apps = HashSet::new();
    let mut seen_entries = HashSet::new();
    let mut records_out = HashMap::new();
    for app in &jdy.apps {
        let o = app.origin;
        if !is_object_id(&app.app_id) {
            diags.push(Diag::at(
                o,
                &["jiandaoyun", "apps"],
                path!["app_id"],
                format!("expected 24 lowercase hex characters (a Jiandaoyun id), got {:?}", app.app_id),
            ));
        }
        if !seen_apps.insert(app.app_id.as_str()) {
            diags.push(Diag::at(o, &["jiandaoyun", "apps"], path!["app_id"], format!("duplicate app_id {:?}", app.app_id)));
        }
        for (ei, e) in app.entries.iter().enumerate() {
            let ep = |rest: Vec<Seg>| {
                let mut p = path!["entries", ei];
                p.extend(rest);
                p
            };
            if !is_object_id(&e.entry_id) {
                diags.push(Diag::at(
                    o,
                    &["jiandaoyun", "apps"],
                    ep(path!["entry_id"]),
                    format!("expected 24 lowercase hex characters, got {:?}", e.entry_id),
                ));
            }
            if let Some(push) = &e.push {
                if let Err(e) = crate::core::http_call::check_url(&push.url) {
                    diags.push(Diag::at(o, &["jiandaoyun", "apps"], ep(path!["push", "url"]), e));
                }
                for (i, ev) in push.events.iter().flatten().enumerate() {
                    if !super::push::DATA_EVENTS.contains(&ev.as_str()) {
                        diags.push(Diag::at(
                            o,
                            &["jiandaoyun", "apps"],
                            ep(path!["push", "events", i]),
                            format!("expected one of {}, got {ev:?}", super::push::DATA_EVENTS.join(", ")),
                        ));
                    }
                }
            }
            if !seen_entries.insert(e.entry_id.as_str()) || seen_apps.contains(e.entry_id.as_str()) {
                diags.push(Diag::at(o, &["jiandaoyun", "apps"], ep(path!["entry_id"]), format!("duplicate id {:?}", e.entry_id)));
            }
            if let Some(f) = &e.flow {
                if !flows.contains(f) {
                    diags.push(Diag::at(
                        o,
                        &["jiandaoyun", "apps"],
                        ep(path!["flow"]),
                        format!("expected a flow id from [[flows]], got {f:?}"),
                    ));
                } else if scenario.doc.flows.iter().any(|x| &x.id == f && x.calls_out()) {
                    diags.push(Diag::at(o, &["jiandaoyun", "apps"], ep(path!["flow"]), crate::core::workflow::CALLS_UNSUPPORTED));
                }
            }
            check_widgets(&e.widgets, o, &ep(path!["widgets"]), false, diags);
            if let Some(g) = &e.generate {
                if g.count > 10_000_000 {
                    diags.push(Diag::at(o, &["jiandaoyun", "apps"], ep(path!["generate", "count"]), "expected at most 10000000 records"));
                }
            }
            if !diags.is_empty() {
                continue;
            }
            let schema = schema_of(e);
            let conv = Converter { dir, strict: true, shape: Shape::Seed, new_id: None, files: None };
            let mut converted = Vec::new();
            for (ri, r) in e.records.iter().enumerate() {
                match seed_record(&conv, &schema, r) {
                    Ok(m) => converted.push(m),
                    Err((field, msg)) => diags.push(Diag::at(o, &["jiandaoyun", "apps"], ep(path!["records", ri, field.as_str()]), msg)),
                }
            }
            if let Some(file) = &e.records_file {
                let read = match sources.get(o.file) {
                    Some(src) => src.read_named(file, crate::scenario::MAX_RECORDS_FILE_BYTES),
                    None => Err(format!("cannot read {file}")),
                };
                match read {
                    Err(err) => diags.push(Diag::at(o, &["jiandaoyun", "apps"], ep(path!["records_file"]), err)),
                    Ok((full, text)) => {
                        for (li, line) in text.lines().enumerate() {
                            if line.trim().is_empty() {
                                continue;
                            }
                            let at = format!("{}:{}", full.display(), li + 1);
                            match serde_json::from_str::<Value>(line) {
                                Ok(Value::Object(r)) => match seed_record(&conv, &schema, &r) {
                                    Ok(m) => converted.push(m),
                                    Err((field, msg)) => diags.push(Diag::at(
                                        o,
                                        &["jiandaoyun", "apps"],
                                        ep(path!["records_file"]),
                                        format!("{at}: field {field}: {msg}"),
                                    )),
                                },
                                Ok(_) => diags.push(Diag::at(
                                    o,
                                    &["jiandaoyun", "apps"],
                                    ep(path!["records_file"]),
                                    format!("{at}: expected one JSON object per line"),
                                )),
                                Err(err) => diags.push(Diag::at(
                                    o,
                                    &["jiandaoyun", "apps"],
                                    ep(path!["records_file"]),
                                    format!("{at}: invalid JSON: {err}"),
                                )),
                            }
                        }
                    }
                }
            }
            records_out.insert(e.entry_id.clone(), converted);
        }
    }
    if let Some(j) = scenario.doc.platforms.jiandaoyun.as_mut() {
        j.seeded_records = records_out;
    }
}

/// Converts one scenario record (read shape) field by field, so an error names its field.
/// A seeded value a select-like widget with `options` does not offer (the API itself accepts any text).
fn outside_options(w: &Widget, v: &Value) -> Option<String> {
    let select = matches!(w.kind, WidgetType::Radiogroup | WidgetType::Checkboxgroup | WidgetType::Combo | WidgetType::Combocheck);
    if !select || w.options.is_empty() {
        return None;
    }
    let values: Vec<&Value> = match v {
        Value::Array(a) => a.iter().collect(),
        Value::Null => Vec::new(),
        one => vec![one],
    };
    values.into_iter().find(|x| x.as_str().is_none_or(|t| !t.is_empty() && !w.options.iter().any(|o| o == t))).map(|x| x.to_string())
}

fn seed_record(conv: &Converter, schema: &Schema, r: &Map<String, Value>) -> Result<Map<String, Value>, (String, String)> {
    let mut out = Map::new();
    for (k, v) in r {
        let v = untoml(v);
        if SEED_SYSTEM_FIELDS.contains(&k.as_str()) {
            out.insert(k.clone(), v);
            continue;
        }
        if schema.get(k).is_none() {
            return Err((k.clone(), format!("unknown widget {k:?}: records use widget names (or aliases) of this form")));
        }
        if let Some(w) = schema.get(k) {
            if let Some(bad) = outside_options(w, &v) {
                return Err((k.clone(), format!("{bad} is not one of the widget's options {:?}", w.options)));
            }
        }
        let one: Map<String, Value> = [(k.clone(), v)].into_iter().collect();
        match conv.convert_data(schema, &one, None) {
            Ok(pairs) => out.extend(pairs),
            Err(e) => return Err((k.clone(), e.detail.unwrap_or_else(|| format!("error {}", e.code)))),
        }
    }
    if let Some(t) = out.get("createTime") {
        if t.as_str().and_then(crate::core::clock::parse_rfc3339_ms).is_none() {
            return Err(("createTime".into(), "expected an RFC 3339 time".into()));
        }
    }
    if let Some(c) = out.get("creator") {
        if c.as_str().and_then(|u| conv.dir.user(u)).is_none() {
            return Err(("creator".into(), "expected a user id from [[users]]".into()));
        }
    }
    Ok(out)
}

/// TOML datetimes reach serde_json as `{"$__toml_private_datetime": "…"}`; make them strings.
fn untoml(v: &Value) -> Value {
    match v {
        Value::Object(o) if o.len() == 1 && o.contains_key("$__toml_private_datetime") => o["$__toml_private_datetime"].clone(),
        Value::Object(o) => Value::Object(o.iter().map(|(k, v)| (k.clone(), untoml(v))).collect()),
        Value::Array(a) => Value::Array(a.iter().map(untoml).collect()),
        other => other.clone(),
    }
}

/// Builds the live Jiandaoyun state of a fresh world.
pub fn build_state(scenario: &Scenario, dir: &Directory, now: i64) -> Option<State> {
    let jdy = scenario.doc.platforms.jiandaoyun.as_ref()?;
    let ids = IdGen::new(scenario.seed(), "jiandaoyun");
    let creator = jdy.default_user.as_deref().and_then(|u| dir.user(u)).or_else(|| dir.first_user());
    let creator_json = creator.as_ref().map(super::values::member_json).unwrap_or(Value::Null);
    let keys = jdy
        .api_keys
        .iter()
        .map(|k| match k {
            ApiKeyDef::Plain(s) => ApiKey { key: s.clone(), apps: None, disabled: false },
            ApiKeyDef::Scoped(s) => ApiKey { key: s.key.clone(), apps: s.apps.clone(), disabled: s.disabled },
        })
        .collect();
    let mut apps = Vec::new();
    let mut entries = crate::core::FastMap::default();
    let flows: HashMap<String, Arc<crate::core::workflow::Flow>> = jdy
        .apps
        .iter()
        .flat_map(|a| &a.entries)
        .filter_map(|e| e.flow.as_ref())
        .filter_map(|id| scenario.doc.flows.iter().find(|f| &f.id == id))
        .filter_map(|f| crate::core::workflow::Flow::build(f).ok().map(|g| (f.id.clone(), Arc::new(g))))
        .collect();
    let mut running: Vec<(String, String, String)> = Vec::new();
    for a in &jdy.apps {
        apps.push(App {
            app_id: a.app_id.clone(),
            name: a.name.clone(),
            entry_ids: a.entries.iter().map(|e| e.entry_id.clone()).collect(),
        });
        for e in &a.entries {
            let schema = schema_of(e);
            let subforms = schema
                .widgets
                .iter()
                .filter(|w| w.kind == WidgetType::Subform)
                .map(|w| (w.key().to_owned(), Schema::new(w.items.clone())))
                .collect();
            let entry = Entry {
                app_id: a.app_id.clone(),
                entry_id: e.entry_id.clone(),
                name: e.name.clone(),
                flow: e.flow.clone(),
                schema,
                subforms,
                records: Default::default(),
                text_index: Default::default(),
                interner: Default::default(),
                modified_ms: AtomicI64::new(now),
                serials: Default::default(),
                recycle: Default::default(),
                push: e.push.as_ref().map(|p| super::push::Push {
                    url: p.url.clone(),
                    secret: p.secret.clone(),
                    events: p.events.clone().unwrap_or_else(|| super::push::DATA_EVENTS.iter().map(|e| (*e).to_owned()).collect()),
                }),
            };
            let seeded = jdy.seeded_records.get(&e.entry_id).map(Vec::as_slice).unwrap_or(&[]);
            let mut batch = Vec::with_capacity(seeded.len() + e.generate.as_ref().map_or(0, |g| g.count));
            for fields in seeded {
                let rec = super::data::seed_into_record(&entry, &ids, fields, &creator_json, dir, now);
                let id = rec["_id"].as_str().unwrap_or_default().to_owned();
                // Seeded records of a workflow form that are still running get a live instance.
                if entry.is_workflow() && rec.get("flowState").and_then(Value::as_i64) == Some(0) {
                    let initiator = rec["creator"]["username"].as_str().unwrap_or_default().to_owned();
                    running.push((e.entry_id.clone(), id.clone(), initiator));
                }
                batch.push((id, entry.interner.store(&rec)));
            }
            if let Some(g) = &e.generate {
                super::generate::generate(&entry, &ids, g.count, &creator_json, dir, now, scenario.seed(), &mut batch);
            }
            // Keyed by each record's own id text: one copy of it per record, not two.
            entry.records.insert_many(batch.into_iter().map(|(id, s)| (s.shared_str("_id").unwrap_or_else(|| Arc::from(id)), s)));
            entries.insert(e.entry_id.clone(), Arc::new(entry));
        }
    }
    let app_index = apps.iter().enumerate().map(|(i, a)| (a.app_id.clone(), i)).collect();
    let state = State {
        keys,
        apps,
        app_index,
        entries,
        default_user: creator.map(|u| u.id),
        rate_limits: jdy.rate_limits,
        api_writes_push: jdy.api_writes_push,
        strict_values: jdy.strict_values,
        filter_in_max: jdy.filter_in_max.unwrap_or(200),
        ids,
        push_ids: IdGen::new(scenario.seed(), "jiandaoyun-push"),
        batches: Default::default(),
        rate: Default::default(),
        uploads: Default::default(),
        file_keys: Default::default(),
        attachment_quota: jdy.attachment_quota_bytes,
        attachment_used: Default::default(),
        flows,
        workflows: Default::default(),
        corp: parking_lot::Mutex::new(corp_from(jdy)),
        members: Default::default(),
    };
    for (entry_id, record_id, initiator) in running {
        if let (Some(entry), Some(rec)) =
            (state.entries.get(&entry_id), state.entries.get(&entry_id).and_then(|e| e.records.get(&record_id)))
        {
            super::workflow::start(&state, entry, &record_id, &initiator, &rec.to_record(), now);
        }
    }
    Some(state)
}

/// Role groups, roles and guests of the scenario; numbers not given are assigned after the largest.
fn corp_from(jdy: &JdySection) -> super::corp::Corp {
    use super::corp::{Corp, Guest, Role, RoleGroup};
    let mut corp = Corp::default();
    let given = jdy
        .role_groups
        .iter()
        .filter_map(|g| g.group_no)
        .chain(jdy.role_groups.iter().flat_map(|g| g.roles.iter().filter_map(|r| r.role_no)));
    corp.next_no = given.max().unwrap_or(0);
    let groups: Vec<RoleGroupDef> = if jdy.role_groups.is_empty() {
        vec![RoleGroupDef { group_no: None, name: "默认".into(), roles: vec![] }]
    } else {
        jdy.role_groups.clone()
    };
    for g in groups {
        let group_no = match g.group_no {
            Some(n) => n,
            None => {
                corp.next_no += 1;
                corp.next_no
            }
        };
        corp.groups.insert(group_no, RoleGroup { group_no, name: g.name });
        for r in g.roles {
            let role_no = match r.role_no {
                Some(n) => n,
                None => {
                    corp.next_no += 1;
                    corp.next_no
                }
            };
            corp.roles.insert(role_no, Role { role_no, group_no, name: r.name, members: r.members });
        }
    }
    corp.guests = jdy.guests.iter().map(|g| Guest { dept_no: g.dept_no, name: g.name.clone(), members: g.members.clone() }).collect();
    corp
}

fn widget_type_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let names: Vec<&str> = WidgetType::names().collect();
    crate::core::schema_hints::one_of(&names, "The widget's Jiandaoyun type (case-insensitive).")
}

fn object_id_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    crate::core::schema_hints::pattern("^[0-9a-f]{24}$", "A 24-hex-digit id, as Jiandaoyun's.")
}
