//! The `[omflow]` scenario section: schema, validation and the live state built from it.

use std::collections::{HashMap, HashSet};

use parking_lot::Mutex;
use serde::Deserialize;
use serde_json::Value;

use super::model::{CodeEntry, FlowRt, State, Tickets};
use crate::core::directory::Directory;
use crate::core::ids::IdGen;
use crate::core::workflow::Flow;
use crate::path;
use crate::scenario::{Diag, Origin, Scenario};

#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OmSection {
    /// Security codes that never expire: a string (owned by `default_user`) or `{ code, user }`.
    #[serde(default)]
    pub security: Vec<SecurityDef>,
    /// Owner of plain security codes (default: the first user).
    pub default_user: Option<String>,
    /// Answer with the shapes of the product's source (integer `status`, `data_no`, `data_id`;
    /// `result: null` on failures) instead of the manual's string forms.
    #[serde(default)]
    pub server_shapes: bool,
    /// Minutes a security code from the login API stays valid without use (default 5).
    pub security_ttl_minutes: Option<u64>,
    #[serde(default)]
    pub flows: Vec<OmFlowDef>,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum SecurityDef {
    Plain(String),
    Owned { code: String, user: String },
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OmFlowDef {
    pub app: String,
    pub name: String,
    /// The per-flow path segment of the API URLs.
    pub api_path: String,
    /// A flow id from `[[flows]]`; its human nodes are the "manual input" stops clients push.
    pub flow: String,
    /// The start node verifies submissions first (create answers `result: ""`).
    #[serde(default)]
    pub verification: bool,
    /// The flow's "enable API call" switch (default on).
    pub api: Option<bool>,
    #[serde(default)]
    pub fields: Vec<OmFieldDef>,
    #[serde(skip)]
    pub origin: Origin,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OmFieldDef {
    /// `FORMITM_<n>`.
    pub id: String,
    pub label: String,
    #[serde(default)]
    pub required: bool,
    /// Field type as the form designer names it (`input`, `textarea`, `h_title`, `h_status`, `h_level`,
    /// `h_group`, `checkbox` …); header types also fill the ticket's header columns.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Value used when a submission leaves the field out.
    pub default: Option<Value>,
}

impl crate::platforms::Section for OmSection {
    fn tag_origins(&mut self, file: usize) {
        for (index, f) in self.flows.iter_mut().enumerate() {
            f.origin = Origin { file, index };
        }
    }

    fn merge(&mut self, top: OmSection) {
        self.security.extend(top.security);
        self.default_user = top.default_user.or(self.default_user.take());
        self.server_shapes |= top.server_shapes;
        self.security_ttl_minutes = top.security_ttl_minutes.or(self.security_ttl_minutes);
        self.flows.extend(top.flows);
    }
}

fn is_formitm(id: &str) -> bool {
    id.strip_prefix("FORMITM_").is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// The scenario's flow graph for an OMFlow flow, with the start node verifying when asked.
fn graph(scenario: &Scenario, def: &OmFlowDef) -> Option<Flow> {
    let mut fd = scenario.doc.flows.iter().find(|f| f.id == def.flow)?.clone();
    if def.verification {
        if let Some(start) = fd.nodes.iter_mut().find(|n| n.kind.eq_ignore_ascii_case("start")) {
            start.verify = true;
        }
    }
    Flow::build(&fd).ok()
}

pub fn validate(scenario: &Scenario, dir: &Directory, diags: &mut Vec<Diag>) {
    let Some(om) = &scenario.doc.platforms.omflow else { return };
    let file = om.flows.first().map(|f| f.origin.file).unwrap_or(0);
    for (i, s) in om.security.iter().enumerate() {
        let (code, user) = match s {
            SecurityDef::Plain(c) => (c, None),
            SecurityDef::Owned { code, user } => (code, Some(user)),
        };
        if code.trim().is_empty() {
            diags.push(Diag::in_file(file, path!["omflow", "security", i], "expected a non-empty security code"));
        }
        if let Some(u) = user {
            if dir.user(u).is_none() {
                diags.push(Diag::in_file(
                    file,
                    path!["omflow", "security", i, "user"],
                    format!("expected a user id from [[users]], got {u:?}"),
                ));
            }
        }
    }
    if let Some(u) = &om.default_user {
        if dir.user(u).is_none() {
            diags.push(Diag::in_file(file, path!["omflow", "default_user"], format!("expected a user id from [[users]], got {u:?}")));
        }
    }
    if om.security.iter().any(|s| matches!(s, SecurityDef::Plain(_))) && om.default_user.is_none() && dir.first_user().is_none() {
        diags.push(Diag::in_file(
            file,
            path!["omflow", "security"],
            "plain security codes belong to default_user: add [[users]] or use { code, user }",
        ));
    }
    let mut paths = HashSet::new();
    for f in &om.flows {
        let o = f.origin;
        if f.api_path.is_empty() || f.api_path.contains('/') || f.api_path.contains(char::is_whitespace) {
            diags.push(Diag::at(
                o,
                &["omflow", "flows"],
                path!["api_path"],
                format!("expected a path segment without '/' or spaces, got {:?}", f.api_path),
            ));
        }
        if !paths.insert(f.api_path.as_str()) {
            diags.push(Diag::at(o, &["omflow", "flows"], path!["api_path"], format!("duplicate api_path {:?}", f.api_path)));
        }
        if !scenario.doc.flows.iter().any(|x| x.id == f.flow) {
            diags.push(Diag::at(o, &["omflow", "flows"], path!["flow"], format!("expected a flow id from [[flows]], got {:?}", f.flow)));
        }
        let mut ids = HashSet::new();
        for (i, field) in f.fields.iter().enumerate() {
            if !is_formitm(&field.id) {
                diags.push(Diag::at(
                    o,
                    &["omflow", "flows"],
                    path!["fields", i, "id"],
                    format!("expected FORMITM_<number>, got {:?}", field.id),
                ));
            }
            if !ids.insert(field.id.as_str()) {
                diags.push(Diag::at(o, &["omflow", "flows"], path!["fields", i, "id"], format!("duplicate field id {:?}", field.id)));
            }
        }
    }
}

pub fn build_state(scenario: &Scenario, dir: &Directory) -> Option<State> {
    let om = scenario.doc.platforms.omflow.as_ref()?;
    let ids = IdGen::new(scenario.seed(), "omflow");
    let default_user = om.default_user.clone().or_else(|| dir.first_user().map(|u| u.id)).unwrap_or_default();
    let mut codes = HashMap::new();
    for s in &om.security {
        let (code, user) = match s {
            SecurityDef::Plain(c) => (c.clone(), default_user.clone()),
            SecurityDef::Owned { code, user } => (code.clone(), user.clone()),
        };
        codes.insert(code, CodeEntry { user, last_used_ms: 0, fixed: true });
    }
    let mut flows = Vec::new();
    let mut by_path = HashMap::new();
    for def in &om.flows {
        let Some(flow) = graph(scenario, def) else { continue };
        let uuid = ids.uuid().replace('-', "");
        by_path.insert(def.api_path.clone(), flows.len());
        flows.push(FlowRt {
            app: def.app.clone(),
            name: def.name.clone(),
            api_path: def.api_path.clone(),
            uuid,
            api: def.api.unwrap_or(true),
            fields: def.fields.clone(),
            flow,
            tickets: Mutex::new(Tickets::default()),
        });
    }
    Some(State {
        flows,
        by_path,
        codes: Mutex::new(codes),
        server_shapes: om.server_shapes,
        ttl_ms: om.security_ttl_minutes.unwrap_or(5) as i64 * 60_000,
        ids,
        // Seeded tickets waiting at a call node send their calls on the first request.
        redispatch: std::sync::atomic::AtomicBool::new(true),
    })
}
