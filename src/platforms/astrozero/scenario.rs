//! The `[astrozero]` scenario section.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::model::{Client, Field, Obj, State};
use crate::core::directory::Directory;
use crate::core::ids::IdGen;
use crate::path;
use crate::scenario::{Diag, Origin, Scenario};

#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AzSection {
    /// The tenant namespace: custom names are `{namespace}__{Name}__CST` (default `ns`).
    pub namespace: Option<String>,
    #[serde(default)]
    pub clients: Vec<ClientDef>,
    /// Seconds an access token lives (default 600, the documented example).
    pub token_ttl: Option<i64>,
    /// Requests per second per token before HTTP 429 (default: no limit).
    pub rate_limits: Option<u32>,
    #[serde(default)]
    pub objects: Vec<ObjectDef>,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientDef {
    pub client_id: String,
    pub client_secret: String,
    /// The machine user the client acts as (default: the first user).
    pub user: Option<String>,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ObjectDef {
    /// `ns__Name__CST`.
    pub name: String,
    pub label: Option<String>,
    #[serde(default)]
    pub fields: Vec<FieldDef>,
    #[serde(default)]
    pub records: Vec<Map<String, Value>>,
    #[serde(skip)]
    pub origin: Origin,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldDef {
    /// `ns__field__CST`.
    pub name: String,
    pub label: Option<String>,
    /// `Text`, `Number`, `Date`, … (case-insensitive; see docs/scenarios.md).
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub unique: bool,
    #[serde(default)]
    pub options: Vec<String>,
}

pub const DATA_TYPES: &[&str] = &[
    "text",
    "encryptedtext",
    "textarea",
    "number",
    "percent",
    "phone",
    "currency",
    "date",
    "datetime",
    "email",
    "checkbox",
    "singleselect",
    "multiselect",
    "url",
];

impl AzSection {
    pub fn tag_origins(&mut self, file: usize) {
        for (index, o) in self.objects.iter_mut().enumerate() {
            o.origin = Origin { file, index };
        }
    }

    pub fn merge(&mut self, top: AzSection) {
        self.namespace = top.namespace.or(self.namespace.take());
        self.clients.extend(top.clients);
        self.token_ttl = top.token_ttl.or(self.token_ttl);
        self.rate_limits = top.rate_limits.or(self.rate_limits);
        self.objects.extend(top.objects);
    }
}

/// `ns__Name__CST` with the tenant's namespace.
pub fn custom_name_ok(name: &str, ns: &str) -> bool {
    name.strip_prefix(ns).and_then(|r| r.strip_prefix("__")).and_then(|r| r.strip_suffix("__CST")).is_some_and(|mid| {
        !mid.is_empty()
            && mid.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && mid.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !mid.contains("__")
            && !mid.ends_with('_')
    })
}

pub fn validate(scenario: &Scenario, dir: &Directory, diags: &mut Vec<Diag>) {
    let Some(az) = &scenario.doc.astrozero else { return };
    let ns = az.namespace.clone().unwrap_or_else(|| "ns".into());
    let file = az.objects.first().map(|o| o.origin.file).unwrap_or(0);
    for (i, c) in az.clients.iter().enumerate() {
        if let Some(u) = &c.user {
            if dir.user(u).is_none() {
                diags.push(Diag::in_file(
                    file,
                    path!["astrozero", "clients", i, "user"],
                    format!("expected a user id from [[users]], got {u:?}"),
                ));
            }
        }
    }
    for o in &az.objects {
        let at = |rel, msg: String| Diag::at(o.origin, &["astrozero", "objects"], rel, msg);
        if !custom_name_ok(&o.name, &ns) {
            diags.push(at(path!["name"], format!("expected {ns}__Name__CST, got {:?}", o.name)));
        }
        for (fi, f) in o.fields.iter().enumerate() {
            if !custom_name_ok(&f.name, &ns) {
                diags.push(at(path!["fields", fi, "name"], format!("expected {ns}__field__CST, got {:?}", f.name)));
            }
            if !DATA_TYPES.contains(&f.kind.to_ascii_lowercase().as_str()) {
                diags.push(at(path!["fields", fi, "type"], format!("expected one of {}, got {:?}", DATA_TYPES.join(", "), f.kind)));
            }
        }
        let fields: Vec<Field> = o.fields.iter().map(field_of).collect();
        for (ri, r) in o.records.iter().enumerate() {
            if let Some(k) = r.keys().find(|k| k.as_str() != "name" && !o.fields.iter().any(|f| f.name.eq_ignore_ascii_case(k))) {
                diags.push(at(path!["records", ri, k.as_str()], format!("unknown field {k:?}")));
            }
            for f in &fields {
                let given = r.iter().find(|(k, _)| k.eq_ignore_ascii_case(&f.name));
                match given {
                    None if f.required => diags.push(at(path!["records", ri], format!("missing required field {:?}", f.name))),
                    Some((k, v)) => {
                        if let Err(e) = super::data::check_value(f, v) {
                            diags.push(at(path!["records", ri, k.as_str()], e.detail.unwrap_or_default()));
                        }
                    }
                    None => {}
                }
            }
        }
    }
}

fn field_of(f: &FieldDef) -> Field {
    Field {
        id: String::new(),
        name: f.name.clone(),
        label: f.label.clone().unwrap_or_else(|| f.name.clone()),
        data_type: f.kind.to_ascii_lowercase(),
        required: f.required,
        unique: f.unique,
        options: f.options.clone(),
    }
}

pub fn build_state(scenario: &Scenario, dir: &Directory, now: i64) -> Option<State> {
    let az = scenario.doc.astrozero.as_ref()?;
    let first = dir.first_user().map(|u| u.id).unwrap_or_else(|| "admin".into());
    let st = State {
        namespace: az.namespace.clone().unwrap_or_else(|| "ns".into()),
        clients: az
            .clients
            .iter()
            .map(|c| {
                (c.client_id.clone(), Client { secret: c.client_secret.clone(), user: c.user.clone().unwrap_or_else(|| first.clone()) })
            })
            .collect(),
        tokens: Mutex::new(HashMap::new()),
        token_ttl_s: az.token_ttl.unwrap_or(600),
        rate_limit: az.rate_limits,
        rate: Default::default(),
        objects: RwLock::new(Vec::new()),
        ids: IdGen::new(scenario.seed(), "astrozero"),
        counter: Mutex::new(0),
    };
    for o in &az.objects {
        let id = st.new_id("cust");
        let key_prefix = format!("c{}", &st.new_id("c")[17..20]);
        let fields = o.fields.iter().map(|f| Field { id: st.new_id("cust"), ..field_of(f) }).collect();
        let obj = Arc::new(Obj {
            id,
            name: o.name.clone(),
            label: RwLock::new(o.label.clone().unwrap_or_else(|| o.name.clone())),
            description: RwLock::new(String::new()),
            key_prefix,
            custom: true,
            created_ms: now,
            fields: RwLock::new(fields),
            records: Default::default(),
            write_lock: Mutex::new(()),
        });
        for r in &o.records {
            if let Ok(rec) = super::data::new_record(&st, &obj, r, &first, now) {
                let id = rec["id"].as_str().unwrap_or_default().to_owned();
                obj.records.insert(&id, rec);
            }
        }
        st.objects.write().push(obj);
    }
    Some(st)
}
