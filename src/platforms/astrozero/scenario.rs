//! The `[astrozero]` scenario section.

use std::collections::HashSet;
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::model::{Client, Field, FlowDefn, Obj, Runtime, State, ValueSet};
use super::program::{ParamDef, StepDef, PARAM_TYPES};
use crate::core::directory::Directory;
use crate::core::ids::IdGen;
use crate::path;
use crate::scenario::{Diag, Origin, Scenario, Seg};

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
    /// Flows (服务编排) run through `/u-route/baas/v1.0/flow/…`.
    #[serde(default)]
    pub flows: Vec<AzFlowDef>,
    /// Scripts run through `/u-route/baas/script/v1.0/run/{name}`.
    #[serde(default)]
    pub scripts: Vec<ScriptDef>,
    /// BPM processes (工作流) on graphs from `[[flows]]`.
    #[serde(default)]
    pub processes: Vec<ProcessDef>,
    /// Object-storage connectors for `/u-route/baas/sys/v1.1/connectors/…`.
    #[serde(default)]
    pub connectors: Vec<ConnectorDef>,
    /// Global picklist value sets fields can take their options from.
    #[serde(default)]
    pub picklists: Vec<PicklistDef>,
    /// Custom APIs (自定义接口) under `/service/{namespace}__{app}/{version}/…`, bound to a script, a
    /// Flow or an object operation.
    #[serde(default)]
    pub apis: Vec<super::services::ApiDef>,
    /// Data import/export templates (`/u-route/baas/bulk/v1.0/template/xlsx`, export `templateName`):
    /// column-to-field mapping rules and an operation script run per row.
    #[serde(default)]
    pub templates: Vec<super::templates::TemplateDef>,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AzFlowDef {
    /// The flow's API name, e.g. `demo__CreateSupplier`.
    pub name: String,
    pub label: Option<String>,
    /// Default `1.0.0`; several versions of one name may exist (the highest active one runs).
    pub version: Option<String>,
    pub description: Option<String>,
    /// Private flows cannot be called through the REST API.
    #[serde(default)]
    pub private: bool,
    #[serde(default = "yes")]
    pub active: bool,
    #[serde(default)]
    pub inputs: Vec<ParamDef>,
    #[serde(default)]
    pub outputs: Vec<ParamDef>,
    #[serde(default)]
    pub steps: Vec<StepDef>,
    #[serde(skip)]
    pub origin: Origin,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScriptDef {
    /// The script's name, e.g. `demo__supplierRating`.
    pub name: String,
    /// Default `1.0.0`; without `?version=` the highest version runs.
    pub version: Option<String>,
    pub label: Option<String>,
    pub description: Option<String>,
    #[serde(default)]
    pub inputs: Vec<ParamDef>,
    #[serde(default)]
    pub outputs: Vec<ParamDef>,
    #[serde(default)]
    pub steps: Vec<StepDef>,
    #[serde(skip)]
    pub origin: Origin,
}

impl ScriptDef {
    pub fn version(&self) -> &str {
        self.version.as_deref().unwrap_or("1.0.0")
    }
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProcessDef {
    /// The BPM's name, e.g. `demo__SupplierApproval`.
    pub name: String,
    pub label: Option<String>,
    pub version: Option<String>,
    pub description: Option<String>,
    /// A flow id from `[[flows]]`: its approve/handle nodes are the user tasks.
    pub flow: String,
    #[serde(default = "yes")]
    pub active: bool,
    /// Whether the starter may cancel running instances (shown in `config`).
    #[serde(default = "yes")]
    pub cancelable: bool,
    #[serde(skip)]
    pub origin: Origin,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectorDef {
    /// The instance name with its namespace, e.g. `demo__TestOBS`.
    pub name: String,
    /// `obs`, `minio` or `objectstorageproxy`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The first (and in the emulator only) bucket (default `bucket`).
    pub bucket: Option<String>,
    /// URL prefix `getendpoint` returns (default `https://{bucket}.obs.example.com/`).
    pub endpoint: Option<String>,
    /// Files present at start.
    #[serde(default)]
    pub files: Vec<SeedFile>,
    #[serde(skip)]
    pub origin: Origin,
}

impl ConnectorDef {
    pub fn bucket(&self) -> &str {
        self.bucket.as_deref().unwrap_or("bucket")
    }
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SeedFile {
    /// The object key, e.g. `docs/readme.txt`.
    pub key: String,
    /// Text content (UTF-8).
    pub text: Option<String>,
    /// Binary content, base64.
    pub base64: Option<String>,
}

pub const CONNECTOR_TYPES: &[&str] = &["obs", "minio", "objectstorageproxy"];

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
    /// Deterministic synthetic records after `records`, for load tests.
    pub generate: Option<crate::scenario::GenerateDef>,
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
    #[schemars(schema_with = "data_type_schema")]
    pub kind: String,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub unique: bool,
    #[serde(default)]
    pub options: Vec<String>,
    /// A picklist name from `[[astrozero.picklists]]`: the options come from (and follow) it.
    pub picklist: Option<String>,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PicklistDef {
    /// `ns__Name`.
    pub name: String,
    pub label: Option<String>,
    pub description: Option<String>,
    pub values: Vec<String>,
    #[serde(skip)]
    pub origin: Origin,
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

impl crate::platforms::Section for AzSection {
    fn tag_origins(&mut self, file: usize) {
        fn tag<T>(list: &mut [T], file: usize, origin: fn(&mut T) -> &mut Origin) {
            for (index, x) in list.iter_mut().enumerate() {
                *origin(x) = Origin { file, index };
            }
        }
        tag(&mut self.objects, file, |x| &mut x.origin);
        tag(&mut self.flows, file, |x| &mut x.origin);
        tag(&mut self.scripts, file, |x| &mut x.origin);
        tag(&mut self.processes, file, |x| &mut x.origin);
        tag(&mut self.connectors, file, |x| &mut x.origin);
        tag(&mut self.picklists, file, |x| &mut x.origin);
        tag(&mut self.apis, file, |x| &mut x.origin);
        tag(&mut self.templates, file, |x| &mut x.origin);
    }

    fn merge(&mut self, top: AzSection) {
        self.namespace = top.namespace.or(self.namespace.take());
        self.clients.extend(top.clients);
        self.token_ttl = top.token_ttl.or(self.token_ttl);
        self.rate_limits = top.rate_limits.or(self.rate_limits);
        self.objects.extend(top.objects);
        self.flows.extend(top.flows);
        self.scripts.extend(top.scripts);
        self.processes.extend(top.processes);
        self.connectors.extend(top.connectors);
        self.picklists.extend(top.picklists);
        self.apis.extend(top.apis);
        self.templates.extend(top.templates);
    }
}

impl AzSection {
    /// `namespace`, else the prefix the objects' names share (`demo` in `demo__Supplier__CST`), else `ns`:
    /// a scenario whose objects are all named for one namespace needs no `namespace` key.
    pub fn effective_namespace(&self) -> String {
        if let Some(ns) = &self.namespace {
            return ns.clone();
        }
        self.objects
            .iter()
            .find_map(|o| o.name.strip_suffix("__CST").and_then(|n| n.split_once("__")).map(|(ns, _)| ns.to_owned()))
            .filter(|ns| !ns.is_empty())
            .unwrap_or_else(|| "ns".into())
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
    let Some(az) = &scenario.doc.platforms.astrozero else { return };
    let ns = az.effective_namespace();
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
            let hint = if az.namespace.is_none() { " (or set [astrozero] namespace)" } else { "" };
            diags.push(at(path!["name"], format!("expected {ns}__Name__CST{hint}, got {:?}", o.name)));
        }
        for (fi, f) in o.fields.iter().enumerate() {
            if !custom_name_ok(&f.name, &ns) {
                diags.push(at(path!["fields", fi, "name"], format!("expected {ns}__field__CST, got {:?}", f.name)));
            }
            if !DATA_TYPES.contains(&f.kind.to_ascii_lowercase().as_str()) {
                diags.push(at(path!["fields", fi, "type"], format!("expected one of {}, got {:?}", DATA_TYPES.join(", "), f.kind)));
            }
        }
        for (fi, f) in o.fields.iter().enumerate() {
            if let Some(p) = f.picklist.as_ref().filter(|p| !az.picklists.iter().any(|s| &&s.name == p)) {
                diags
                    .push(at(path!["fields", fi, "picklist"], format!("expected a picklist name from [[astrozero.picklists]], got {p:?}")));
            }
        }
        if o.generate.as_ref().is_some_and(|g| g.count > super::generate::MAX_GENERATED) {
            diags.push(at(path!["generate", "count"], format!("expected at most {} records", super::generate::MAX_GENERATED)));
        }
        let fields: Vec<Field> = o.fields.iter().map(|f| field_of(f, &az.picklists)).collect();
        // Seeded records must keep unique fields unique, as the data API would.
        for f in fields.iter().filter(|f| f.unique) {
            let mut seen: HashSet<String> = HashSet::new();
            for (ri, r) in o.records.iter().enumerate() {
                let Some((k, v)) = r.iter().find(|(k, _)| k.eq_ignore_ascii_case(&f.name)) else { continue };
                if !v.is_null() && !seen.insert(v.to_string()) {
                    diags.push(at(path!["records", ri, k.as_str()], format!("duplicate value {v} for unique field {:?}", f.name)));
                }
            }
        }
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
    validate_programs(az, scenario, diags);
    validate_apis(az, diags);
    validate_templates(az, diags);
}

/// Templates: each maps existing fields of an existing object, and no two share a name.
fn validate_templates(az: &AzSection, diags: &mut Vec<Diag>) {
    let mut seen = HashSet::new();
    for t in &az.templates {
        let at = |key: &'static str, msg: String| Diag::at(t.origin, &["astrozero", "templates"], path![key], msg);
        let fields: Option<Vec<String>> =
            az.objects.iter().find(|o| o.name.eq_ignore_ascii_case(&t.object)).map(|o| o.fields.iter().map(|f| f.name.clone()).collect());
        for (key, msg) in t.problems(fields.as_deref()) {
            diags.push(at(key, msg));
        }
        let object_known = |n: &str| az.objects.iter().any(|o| o.name.eq_ignore_ascii_case(n));
        for (i, s) in t.steps.iter().enumerate() {
            if let Some(o) = s.object().filter(|o| !object_known(o)) {
                diags.push(at("steps", format!("step {i}: unknown object {o:?}")));
            }
        }
        if !seen.insert(t.name.clone()) {
            diags.push(at("name", format!("template {:?} is defined twice", t.name)));
        }
    }
}

/// Custom APIs: each well-formed, bound to something that exists, and no two on one URL and method.
fn validate_apis(az: &AzSection, diags: &mut Vec<Diag>) {
    let object_known = |n: &str| az.objects.iter().any(|o| o.name.eq_ignore_ascii_case(n));
    let mut seen = HashSet::new();
    for a in &az.apis {
        let at = |key: &'static str, msg: String| Diag::at(a.origin, &["astrozero", "apis"], path![key], msg);
        for (key, msg) in a.problems(&object_known) {
            diags.push(at(key, msg));
        }
        if let Some(s) = a.script.as_ref().filter(|s| !az.scripts.iter().any(|x| &x.name == *s)) {
            diags.push(at("script", format!("expected a script from [[astrozero.scripts]], got {s:?}")));
        }
        if let Some(f) = a.flow.as_ref().filter(|f| !az.flows.iter().any(|x| &x.name == *f)) {
            diags.push(at("flow", format!("expected a flow from [[astrozero.flows]], got {f:?}")));
        }
        if !seen.insert((a.app.clone(), a.version().to_owned(), a.path.clone(), a.method().to_owned())) {
            diags.push(at("path", format!("another API already answers {} {}", a.method(), a.path)));
        }
    }
}

/// Flow, script and BPM names: a letter first, then letters, digits and `_`, at most 64, no
/// trailing `_` (namespaced names such as `demo__Approve` included).
pub fn api_name_ok(name: &str) -> bool {
    name.len() <= 64
        && name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.ends_with('_')
}

/// Problems in a Flow's or script's parameters and steps, as (relative path, message).
pub fn program_problems(
    inputs: &[ParamDef],
    outputs: &[ParamDef],
    steps: &[StepDef],
    object_known: &dyn Fn(&str) -> bool,
) -> Vec<(Vec<Seg>, String)> {
    let mut out = Vec::new();
    for (key, list) in [("inputs", inputs), ("outputs", outputs)] {
        for (i, p) in list.iter().enumerate() {
            if !PARAM_TYPES.contains(&p.kind.as_str()) {
                out.push((path![key, i, "type"], format!("expected one of {}, got {:?}", PARAM_TYPES.join(", "), p.kind)));
            }
        }
    }
    for (i, st) in steps.iter().enumerate() {
        if let Err(e) = st.check() {
            out.push((path!["steps", i], e));
        } else if let Some(o) = st.object().filter(|o| !object_known(o)) {
            out.push((path!["steps", i], format!("unknown object {o:?}")));
        }
    }
    out
}

/// A Flow or script as the validator sees it.
struct Program<'a> {
    array: &'static [&'static str],
    origin: Origin,
    name: &'a str,
    version: &'a Option<String>,
    inputs: &'a [ParamDef],
    outputs: &'a [ParamDef],
    steps: &'a [StepDef],
}

fn validate_program(
    p: Program,
    object_known: &dyn Fn(&str) -> bool,
    seen: &mut HashSet<(String, String, Option<String>)>,
    diags: &mut Vec<Diag>,
) {
    let at = |rel: Vec<Seg>, msg: String| Diag::at(p.origin, p.array, rel, msg);
    if !api_name_ok(p.name) {
        diags.push(at(path!["name"], format!("expected a letter, then letters, digits or _ (at most 64), got {:?}", p.name)));
    }
    if !seen.insert((p.array[1].to_owned(), p.name.to_owned(), p.version.clone())) {
        diags.push(at(path!["name"], format!("{:?} is defined twice with the same version", p.name)));
    }
    for (rel, msg) in program_problems(p.inputs, p.outputs, p.steps, object_known) {
        diags.push(at(rel, msg));
    }
}

fn validate_programs(az: &AzSection, scenario: &Scenario, diags: &mut Vec<Diag>) {
    let object_known = |n: &str| az.objects.iter().any(|o| o.name.eq_ignore_ascii_case(n));
    let mut seen = HashSet::new();
    for f in &az.flows {
        let (array, origin) = (&["astrozero", "flows"][..], f.origin);
        let program =
            Program { array, origin, name: &f.name, version: &f.version, inputs: &f.inputs, outputs: &f.outputs, steps: &f.steps };
        validate_program(program, &object_known, &mut seen, diags);
    }
    for sc in &az.scripts {
        let (array, origin) = (&["astrozero", "scripts"][..], sc.origin);
        let program =
            Program { array, origin, name: &sc.name, version: &sc.version, inputs: &sc.inputs, outputs: &sc.outputs, steps: &sc.steps };
        validate_program(program, &object_known, &mut seen, diags);
        if let Some((i, _)) = sc.steps.iter().enumerate().find(|(_, s)| s.wait.is_some()) {
            diags.push(Diag::at(origin, array, path!["steps", i], "scripts run in one call: wait steps belong in Flows"));
        }
    }
    for p in &az.processes {
        let array = &["astrozero", "processes"];
        if !api_name_ok(&p.name) {
            diags.push(Diag::at(
                p.origin,
                array,
                path!["name"],
                format!("expected a letter, then letters, digits or _ (at most 64), got {:?}", p.name),
            ));
        }
        if !scenario.doc.flows.iter().any(|f| f.id == p.flow) {
            diags.push(Diag::at(p.origin, array, path!["flow"], format!("expected a flow id from [[flows]], got {:?}", p.flow)));
        }
    }
    let ns = az.effective_namespace();
    for p in &az.picklists {
        let array = &["astrozero", "picklists"];
        if !super::picklists::name_ok(&p.name, &ns) {
            diags.push(Diag::at(
                p.origin,
                array,
                path!["name"],
                format!("expected {ns}__Name (at most 64, no other __), got {:?}", p.name),
            ));
        }
        if let Some((i, v)) = p.values.iter().enumerate().find(|(_, v)| v.contains(';') || v.is_empty()) {
            diags.push(Diag::at(p.origin, array, path!["values", i], format!("expected a non-empty value without ';', got {v:?}")));
        }
    }
    for c in &az.connectors {
        let array = &["astrozero", "connectors"];
        if !c.name.starts_with(&format!("{ns}__")) {
            diags.push(Diag::at(c.origin, array, path!["name"], format!("expected {ns}__Name, got {:?}", c.name)));
        }
        if !CONNECTOR_TYPES.contains(&c.kind.as_str()) {
            diags.push(Diag::at(
                c.origin,
                array,
                path!["type"],
                format!("expected one of {}, got {:?}", CONNECTOR_TYPES.join(", "), c.kind),
            ));
        }
        for (i, f) in c.files.iter().enumerate() {
            let bad_b64 = f.base64.as_ref().is_some_and(|b| base64::Engine::decode(&base64::engine::general_purpose::STANDARD, b).is_err());
            if f.key.is_empty() || f.key.starts_with('/') || f.key.ends_with('/') {
                diags.push(Diag::at(
                    c.origin,
                    array,
                    path!["files", i, "key"],
                    format!("expected a file key such as docs/a.txt, got {:?}", f.key),
                ));
            } else if f.text.is_some() == f.base64.is_some() {
                diags.push(Diag::at(c.origin, array, path!["files", i], "expected exactly one of text or base64"));
            } else if bad_b64 {
                diags.push(Diag::at(c.origin, array, path!["files", i, "base64"], "expected standard base64"));
            }
        }
    }
}

/// A scenario field; a field naming a picklist takes its values as options.
fn field_of(f: &FieldDef, picklists: &[PicklistDef]) -> Field {
    let set = f.picklist.as_ref().and_then(|p| picklists.iter().find(|s| &s.name == p));
    Field {
        id: String::new(),
        name: f.name.clone(),
        label: f.label.clone().unwrap_or_else(|| f.name.clone()),
        data_type: f.kind.to_ascii_lowercase(),
        required: f.required,
        unique: f.unique,
        options: set.map(|s| s.values.clone()).unwrap_or_else(|| f.options.clone()),
        picklist: None,
    }
}

pub fn build_state(scenario: &Scenario, dir: &Directory, now: i64) -> Option<State> {
    let az = scenario.doc.platforms.astrozero.as_ref()?;
    let first = dir.first_user().map(|u| u.id).unwrap_or_else(|| "admin".into());
    let st = State {
        namespace: az.effective_namespace(),
        clients: az
            .clients
            .iter()
            .map(|c| {
                (c.client_id.clone(), Client { secret: c.client_secret.clone(), user: c.user.clone().unwrap_or_else(|| first.clone()) })
            })
            .collect(),
        tokens: Mutex::new(Default::default()),
        token_ttl_s: az.token_ttl.unwrap_or(600),
        rate_limit: az.rate_limits,
        rate: Default::default(),
        objects: RwLock::new(Vec::new()),
        ids: IdGen::new(scenario.seed(), "astrozero"),
        counter: Mutex::new(0),
        picklists: RwLock::new(Vec::new()),
        scripts: az.scripts.clone(),
        apis: az.apis.clone(),
        templates: az.templates.clone(),
        connectors: az.connectors.clone(),
        runtime: Mutex::new(Runtime::default()),
        redispatch: std::sync::atomic::AtomicBool::new(true),
        users_synced: std::sync::atomic::AtomicU64::new(u64::MAX),
    };
    let sets = az
        .picklists
        .iter()
        .map(|p| ValueSet {
            id: st.new_id("000P"),
            name: p.name.clone(),
            master_label: p.label.clone().unwrap_or_else(|| p.name.clone()),
            description: p.description.clone().unwrap_or_default(),
            use_first_as_default: false,
            values: p.values.iter().map(|v| (v.clone(), v.clone())).collect(),
            created_ms: now,
        })
        .collect();
    *st.picklists.write() = sets;
    st.objects.write().push(Arc::new(super::model::user_object(now)));
    for o in &az.objects {
        let id = st.new_id("cust");
        let key_prefix = format!("c{}", &st.new_id("c")[17..20]);
        let fields = o
            .fields
            .iter()
            .map(|f| Field {
                id: st.new_id("cust"),
                picklist: f.picklist.as_ref().and_then(|p| st.picklists.read().iter().find(|s| &s.name == p).map(|s| s.id.clone())),
                ..field_of(f, &az.picklists)
            })
            .collect();
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
            interner: Default::default(),
            write_lock: Mutex::new(()),
            unique_index: Default::default(),
            text_index: Default::default(),
        });
        for r in &o.records {
            if let Ok(rec) = super::data::new_record(&st, &obj, r, &first, now) {
                let id = rec["id"].as_str().unwrap_or_default().to_owned();
                obj.records.insert(&id, obj.store(&rec));
            }
        }
        if let Some(g) = &o.generate {
            super::generate::fill(&st, &obj, g.count, scenario.seed(), &first, now);
        }
        st.objects.write().push(obj);
    }
    let flows = az
        .flows
        .iter()
        .map(|f| FlowDefn {
            id: st.new_id("000y"),
            name: f.name.clone(),
            label: f.label.clone().unwrap_or_else(|| f.name.clone()),
            version: f.version.clone().unwrap_or_else(|| "1.0.0".into()),
            process_type: "Autolaunched Flow".into(),
            active: f.active,
            private: f.private,
            status: "Active".into(),
            description: f.description.clone().unwrap_or_default(),
            interview_label: f.label.clone().unwrap_or_else(|| f.name.clone()),
            inputs: f.inputs.clone(),
            outputs: f.outputs.clone(),
            steps: f.steps.clone(),
            errors: Vec::new(),
            created_by: first.clone(),
            created_ms: now,
            updated_ms: now,
        })
        .collect();
    let processes = az
        .processes
        .iter()
        .filter_map(|p| {
            let graph = scenario.doc.flows.iter().find(|f| f.id == p.flow)?.clone();
            Some(super::bpm::definition(&st, p, graph, now))
        })
        .collect();
    *st.runtime.lock() = Runtime { flows, processes, ..Runtime::default() };
    Some(st)
}

/// [`DATA_TYPES`] as the metadata API spells them.
const DATA_TYPE_NAMES: &[&str] = &[
    "Text",
    "EncryptedText",
    "TextArea",
    "Number",
    "Percent",
    "Phone",
    "Currency",
    "Date",
    "DateTime",
    "Email",
    "CheckBox",
    "SingleSelect",
    "MultiSelect",
    "URL",
];

fn data_type_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    crate::core::schema_hints::one_of(DATA_TYPE_NAMES, "The field's Astro Zero data type (case-insensitive).")
}
