//! The `[yida]` scenario section.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::model::{App, Component, Form, FormInstance, LogKind, State};
use super::values::{convert_map, kind};
use crate::core::directory::Directory;
use crate::core::ids::IdGen;
use crate::core::workflow::{Flow, Instance};
use crate::path;
use crate::scenario::{Diag, Origin, Scenario, Seg};

#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct YidaSection {
    /// The logged-in user when a request sends no `x-emu-user` header (default: the first user).
    pub default_user: Option<String>,
    #[serde(default)]
    pub apps: Vec<YidaAppDef>,
    /// DingTalk Open API credentials: `POST /v1.0/oauth2/accessToken` with one of these issues tokens.
    #[serde(default)]
    pub app_keys: Vec<AppKeyDef>,
    /// DingTalk event subscription (事件订阅): where process and task events are posted, sealed with
    /// the app's `token` and `aes_key`.
    pub event_subscription: Option<SubscriptionDef>,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionDef {
    /// The receiver: `http://…` (the emulator sends plain HTTP; loopback in tests).
    pub url: String,
    /// The signing token set in the developer console.
    pub token: String,
    /// The 43-character EncodingAESKey set in the developer console.
    pub aes_key: String,
    /// What the sealed message ends with (the app key; default: the first of `app_keys`).
    pub owner_key: Option<String>,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AppKeyDef {
    pub app_key: String,
    pub app_secret: String,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct YidaAppDef {
    /// `APP_` + upper-case letters and digits.
    #[schemars(schema_with = "app_type_schema")]
    pub app_type: String,
    pub name: Option<String>,
    /// Accepted for the DingTalk Open API; the in-app API uses the login session.
    pub system_token: Option<String>,
    /// App administrators (may read form definitions); default: everyone.
    pub admins: Option<Vec<String>>,
    #[serde(default)]
    pub forms: Vec<YidaFormDef>,
    #[serde(skip)]
    pub origin: Origin,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct YidaFormDef {
    /// `FORM-` + 38 upper-case letters and digits (any length is accepted).
    #[schemars(schema_with = "form_uuid_schema")]
    pub form_uuid: String,
    pub name: String,
    /// `TPROC--…`: a process form; needs `flow`.
    pub process_code: Option<String>,
    pub flow: Option<String>,
    #[serde(default)]
    pub components: Vec<ComponentDef>,
    /// Who may read and search (default: everyone).
    pub viewers: Option<Vec<String>>,
    /// Who may submit (default: everyone).
    pub submitters: Option<Vec<String>>,
    #[serde(default)]
    pub records: Vec<Map<String, Value>>,
    /// Deterministic synthetic form data after `records` (data forms only), for load tests.
    pub generate: Option<crate::scenario::GenerateDef>,
    /// Integration & automation: HTTP calls made when records are created, updated or deleted.
    #[serde(default)]
    pub automations: Vec<super::automations::AutomationDef>,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ComponentDef {
    /// `textField_k1a2b3c4` …
    pub id: String,
    pub label: String,
    #[serde(rename = "type")]
    #[schemars(schema_with = "component_type_schema")]
    pub kind: String,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub options: Vec<String>,
    /// English labels of the options (`{ "采购部" = "Purchasing" }`): a read with `language=en_US`
    /// returns them, and a write may use them.
    #[serde(default)]
    pub options_en: std::collections::BTreeMap<String, String>,
    /// Columns of a `TableField`.
    #[serde(default)]
    pub items: Vec<ComponentDef>,
}

impl crate::platforms::Section for YidaSection {
    fn tag_origins(&mut self, file: usize) {
        for (index, a) in self.apps.iter_mut().enumerate() {
            a.origin = Origin { file, index };
        }
    }

    fn merge(&mut self, top: YidaSection) {
        self.default_user = top.default_user.or(self.default_user.take());
        self.apps.extend(top.apps);
        self.app_keys.extend(top.app_keys);
        self.event_subscription = top.event_subscription.or(self.event_subscription.take());
    }
}

fn component(d: &ComponentDef) -> Component {
    Component {
        id: d.id.clone(),
        label: d.label.clone(),
        kind: kind(&d.kind).unwrap_or("TextField"),
        required: d.required,
        options: d.options.clone(),
        options_en: d.options_en.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        items: d.items.iter().map(component).collect(),
    }
}

fn upper_id(s: &str, prefix: &str) -> bool {
    s.strip_prefix(prefix).is_some_and(|r| !r.is_empty() && r.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()))
}

pub fn validate(scenario: &Scenario, dir: &Directory, diags: &mut Vec<Diag>) {
    let Some(y) = &scenario.doc.platforms.yida else { return };
    let file = y.apps.first().map(|a| a.origin.file).unwrap_or(0);
    if let Some(u) = &y.default_user {
        if dir.user(u).is_none() {
            diags.push(Diag::in_file(file, path!["yida", "default_user"], format!("expected a user id from [[users]], got {u:?}")));
        }
    }
    if let Some(sub) = &y.event_subscription {
        let at = |key: &'static str, msg: String| Diag::in_file(file, path!["yida", "event_subscription", key], msg);
        if let Err(e) = crate::core::http_call::check_url(&sub.url) {
            diags.push(at("url", e));
        }
        if super::events::aes_key(&sub.aes_key).is_none() {
            diags.push(at("aes_key", format!("expected 43 letters and digits (DingTalk's EncodingAESKey), got {:?}", sub.aes_key)));
        }
        if sub.token.is_empty() {
            diags.push(at("token", "expected the signing token, got an empty string".into()));
        }
    }
    let users_ok = |list: &Option<Vec<String>>| list.iter().flatten().all(|u| dir.user(u).is_some());
    for app in &y.apps {
        let o = app.origin;
        let at = |rel: Vec<Seg>, msg: String| Diag::at(o, &["yida", "apps"], rel, msg);
        if !upper_id(&app.app_type, "APP_") {
            diags.push(at(path!["app_type"], format!("expected APP_ followed by upper-case letters and digits, got {:?}", app.app_type)));
        }
        if !users_ok(&app.admins) {
            diags.push(at(path!["admins"], "expected user ids from [[users]]".into()));
        }
        for (fi, f) in app.forms.iter().enumerate() {
            if !upper_id(&f.form_uuid, "FORM-") {
                diags.push(at(
                    path!["forms", fi, "form_uuid"],
                    format!("expected FORM- followed by upper-case letters and digits, got {:?}", f.form_uuid),
                ));
            }
            match (&f.process_code, &f.flow) {
                (Some(p), _) if !upper_id(p, "TPROC--") => diags.push(at(
                    path!["forms", fi, "process_code"],
                    format!("expected TPROC-- followed by upper-case letters and digits, got {p:?}"),
                )),
                (Some(_), None) => diags.push(at(path!["forms", fi, "flow"], "a process form needs a flow from [[flows]]".into())),
                (_, Some(fl)) if !scenario.doc.flows.iter().any(|x| &x.id == fl) => {
                    diags.push(at(path!["forms", fi, "flow"], format!("expected a flow id from [[flows]], got {fl:?}")))
                }
                (_, Some(fl)) if scenario.doc.flows.iter().any(|x| &x.id == fl && x.calls_out()) => {
                    diags.push(at(path!["forms", fi, "flow"], crate::core::workflow::CALLS_UNSUPPORTED.into()))
                }
                (None, Some(_)) => diags.push(at(path!["forms", fi, "process_code"], "a form with a flow needs a process_code".into())),
                _ => {}
            }
            if !users_ok(&f.viewers) || !users_ok(&f.submitters) {
                diags.push(at(path!["forms", fi], "viewers and submitters must be user ids from [[users]]".into()));
            }
            for (ai, a) in f.automations.iter().enumerate() {
                for (key, msg) in a.problems() {
                    diags.push(at(path!["forms", fi, "automations", ai, key], msg));
                }
            }
            for (ci, c) in f.components.iter().enumerate() {
                match kind(&c.kind) {
                    None => diags.push(at(
                        path!["forms", fi, "components", ci, "type"],
                        format!("expected a Yida component ({}), got {:?}", super::values::KINDS.join(", "), c.kind),
                    )),
                    Some("TableField") => {}
                    Some(_) if !c.items.is_empty() => {
                        diags.push(at(path!["forms", fi, "components", ci, "items"], "only TableField takes items".into()))
                    }
                    Some(_) => {}
                }
                if let Some(stray) = c.options_en.keys().find(|o| !c.options.contains(o)) {
                    diags.push(at(
                        path!["forms", fi, "components", ci, "options_en", stray.as_str()],
                        format!("options_en labels options; {stray:?} is not one of {:?}", c.options),
                    ));
                }
            }
            if !diags.is_empty() {
                continue;
            }
            if let Some(g) = &f.generate {
                if f.process_code.is_some() {
                    diags.push(at(
                        path!["forms", fi, "generate"],
                        "generate fills data forms; a process form's records start processes".into(),
                    ));
                }
                if g.count > super::generate::MAX_GENERATED {
                    diags.push(at(
                        path!["forms", fi, "generate", "count"],
                        format!("expected at most {} records", super::generate::MAX_GENERATED),
                    ));
                }
            }
            let comps: Vec<Component> = f.components.iter().map(component).collect();
            for (ri, r) in f.records.iter().enumerate() {
                if let Some(k) = r.keys().find(|k| !comps.iter().any(|c| &c.id == *k)) {
                    diags.push(at(path!["forms", fi, "records", ri, k.as_str()], format!("unknown component {k:?}")));
                    continue;
                }
                if let Err(e) = convert_map(&comps, r, dir, crate::Locale::Zh) {
                    diags.push(at(path!["forms", fi, "records", ri], e.msg));
                }
                // Choice components with `options` take only those (the API itself stores any text).
                for c in comps.iter().filter(|c| !c.options.is_empty() && CHOICE_KINDS.contains(&c.kind)) {
                    let values: Vec<&Value> = match r.get(&c.id) {
                        Some(Value::Array(a)) => a.iter().collect(),
                        Some(Value::Null) | None => Vec::new(),
                        Some(one) => vec![one],
                    };
                    let known = |t: &str| c.options.iter().any(|o| o == t) || c.options_en.values().any(|en| en == t);
                    if let Some(bad) = values.into_iter().find(|v| v.as_str().is_none_or(|t| !known(t))) {
                        diags.push(at(
                            path!["forms", fi, "records", ri, c.id.as_str()],
                            format!("{bad} is not one of the component's options {:?}", c.options),
                        ));
                    }
                }
            }
        }
    }
}

/// Components whose value is one (or several) of their `options`.
const CHOICE_KINDS: &[&str] = &["RadioField", "SelectField", "CheckboxField", "MultiSelectField"];

pub fn build_state(scenario: &Scenario, dir: &Directory, now: i64) -> Option<State> {
    let y = scenario.doc.platforms.yida.as_ref()?;
    let default_user = y.default_user.clone().or_else(|| dir.first_user().map(|u| u.id)).unwrap_or_default();
    let mut state = State {
        apps: HashMap::new(),
        default_user: default_user.clone(),
        ids: IdGen::new(scenario.seed(), "yida"),
        counter: Mutex::new(0),
        app_keys: y.app_keys.iter().map(|k| (k.app_key.clone(), k.app_secret.clone())).collect(),
        tokens: Mutex::new(Default::default()),
        system_tokens: y.apps.iter().filter_map(|a| a.system_token.clone().map(|t| (a.app_type.clone(), t))).collect(),
        subscription: y.event_subscription.as_ref().and_then(|s| {
            Some(super::events::Subscription {
                url: s.url.clone(),
                token: s.token.clone(),
                key: super::events::aes_key(&s.aes_key)?,
                owner: s.owner_key.clone().or_else(|| y.app_keys.first().map(|k| k.app_key.clone())).unwrap_or_default(),
            })
        }),
        event_ids: IdGen::new(scenario.seed(), "yida-events"),
        automation_runs: Mutex::new(Default::default()),
    };
    *state.counter.lock() = 2_846_866_000;
    for a in &y.apps {
        let mut forms = Vec::new();
        for f in &a.forms {
            let flow = f
                .flow
                .as_ref()
                .and_then(|id| scenario.doc.flows.iter().find(|x| &x.id == id))
                .and_then(|d| Flow::build(d).ok())
                .map(Arc::new);
            forms.push(Arc::new(Form::new(
                a.app_type.clone(),
                f.form_uuid.clone(),
                f.name.clone(),
                f.process_code.clone(),
                flow,
                f.components.iter().map(component).collect(),
                f.viewers.clone(),
                f.submitters.clone(),
                f.automations.clone(),
            )));
        }
        state.apps.insert(
            a.app_type.clone(),
            App {
                app_type: a.app_type.clone(),
                name: a.name.clone().unwrap_or_else(|| a.app_type.clone()),
                admins: a.admins.clone(),
                forms,
            },
        );
    }
    // Seed records; records of process forms start their process (pending tasks for the demo).
    for a in &y.apps {
        for f in &a.forms {
            let Some(form) = state.form(&a.app_type, &f.form_uuid) else { continue };
            for r in &f.records {
                let data = convert_map(&form.components, r, dir, crate::Locale::Zh).unwrap_or_default();
                let inst = new_instance(&state, &form, data, &default_user, now);
                form.instances.lock().push(Box::new(inst));
            }
            if let Some(g) = &f.generate {
                let users: Vec<String> = dir.users().into_iter().map(|u| u.id).collect();
                let mut list = form.instances.lock();
                list.reserve(g.count);
                for i in 0..g.count {
                    let written = super::generate::data(&form.components, i, scenario.seed(), &users, now);
                    let data = convert_map(&form.components, &written, dir, crate::Locale::Zh).unwrap_or_default();
                    list.push(Box::new(new_instance(&state, &form, data, &default_user, now)));
                }
            }
        }
    }
    Some(state)
}

/// A new form instance; on a process form it also starts the process.
pub fn new_instance(st: &State, form: &Form, data: Map<String, Value>, user: &str, now: i64) -> FormInstance {
    let form_inst_id = st.long_id("FINST-");
    let (process_instance_id, process) = match &form.flow {
        Some(flow) => {
            let id = st.ids.uuid();
            let mut ids = super::process::Ids(st);
            (Some(id.clone()), Some(Box::new(Instance::start(flow, id, user, data.clone(), now, &mut ids))))
        }
        None => (None, None),
    };
    let data = form.interner.store(&data);
    let fields = data.keys().clone();
    let mut inst = FormInstance {
        form_inst_id,
        process_instance_id,
        data,
        originator: user.to_owned(),
        created_ms: now,
        modified_ms: now,
        modifier: user.to_owned(),
        version: 1,
        process,
        log: Vec::new(),
    };
    inst.record(LogKind::Create, user, now, fields);
    inst
}

fn component_type_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    crate::core::schema_hints::one_of(super::values::KINDS, "The component's Yida type (case-insensitive).")
}

fn app_type_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    crate::core::schema_hints::pattern("^APP_[A-Z0-9]+$", "APP_ followed by upper-case letters and digits.")
}

fn form_uuid_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    crate::core::schema_hints::pattern("^FORM-[A-Z0-9]+$", "FORM- followed by upper-case letters and digits.")
}
