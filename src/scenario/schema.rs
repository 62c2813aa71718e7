//! The typed shape of scenario files. Platform sections live with their platform.

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use crate::platforms::jiandaoyun::scenario::*;
pub use crate::platforms::omflow::scenario::{OmFieldDef, OmFlowDef, OmSection, SecurityDef};

/// Where an array item came from: source file index and its index in that file's array, so semantic
/// errors found after `include` merging still point at the right line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Origin {
    pub file: usize,
    pub index: usize,
}

#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScenarioDoc {
    pub name: Option<String>,
    #[serde(default)]
    pub include: Vec<String>,
    #[serde(default)]
    pub emulator: EmulatorSection,
    #[serde(default)]
    pub server: Option<ServerSection>,
    #[serde(default)]
    pub users: Vec<UserDef>,
    #[serde(default)]
    pub departments: Vec<DeptDef>,
    #[serde(default)]
    pub flows: Vec<FlowDef>,
    #[serde(default)]
    pub jiandaoyun: Option<JdySection>,
    #[serde(default)]
    pub omflow: Option<OmSection>,
    #[serde(default)]
    pub yida: Option<crate::platforms::yida::scenario::YidaSection>,
    #[serde(default)]
    pub astrozero: Option<crate::platforms::astrozero::scenario::AzSection>,
    #[serde(default)]
    pub faults: Vec<crate::core::faults::FaultDef>,
}

#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EmulatorSection {
    /// Seeds ids and probabilistic behaviour (default 42).
    pub seed: Option<u64>,
    /// RFC 3339 start instant; frozen there unless `clock_running`.
    pub clock: Option<String>,
    #[serde(default)]
    pub clock_running: bool,
    /// `zh` (default), `en`, `zh-TW`.
    pub locale: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServerSection {
    /// Extra listeners: `ports = { omflow = 8083 }` serves the emulator on that port too, so a client
    /// can keep the platform's usual port. 0 picks a free port.
    #[serde(default)]
    pub ports: std::collections::BTreeMap<String, u16>,
    pub max_body_bytes: Option<usize>,
    pub max_upload_bytes: Option<usize>,
    /// Requests kept by the journal (default 10 000; 0 disables it).
    pub journal_size: Option<usize>,
    /// Body bytes the journal may keep (default 64 MiB): the oldest entries go first when over.
    pub journal_max_bytes: Option<usize>,
    /// Milliseconds a client may take to send its headers, and then its body (default 30 000).
    pub read_timeout_ms: Option<u64>,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UserDef {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub departments: Vec<i64>,
    pub password: Option<String>,
    pub email: Option<String>,
    pub mobile: Option<String>,
    pub integrate_id: Option<String>,
    /// 1 active (default), 0 invited, -1 left.
    pub status: Option<i64>,
    #[serde(skip)]
    pub origin: Origin,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeptDef {
    pub id: i64,
    pub name: String,
    /// Parent department; absent = under the root (department 1), which itself has none.
    pub parent: Option<i64>,
    pub integrate_id: Option<String>,
    #[serde(skip)]
    pub origin: Origin,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FlowDef {
    pub id: String,
    pub name: Option<String>,
    pub nodes: Vec<NodeDef>,
    #[serde(default)]
    pub edges: Vec<EdgeDef>,
    #[serde(skip)]
    pub origin: Origin,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NodeDef {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub name: Option<String>,
    #[serde(default)]
    pub assignees: Vec<String>,
    pub mode: Option<String>,
    #[serde(default)]
    pub verify: bool,
    /// Users who receive a carbon copy (抄送) when the instance reaches the node.
    #[serde(default)]
    pub cc: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum EdgeDef {
    Pair([String; 2]),
    Table(EdgeTable),
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EdgeTable {
    pub from: String,
    pub to: String,
    pub when: Option<EdgeWhen>,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EdgeWhen {
    pub field: String,
    pub op: String,
    pub value: Option<Value>,
}

impl EdgeDef {
    pub fn ends(&self) -> (&str, &str) {
        match self {
            EdgeDef::Pair([a, b]) => (a, b),
            EdgeDef::Table(t) => (&t.from, &t.to),
        }
    }
}

pub const NODE_TYPES: &[&str] = &["start", "approve", "handle", "parallel", "join", "condition", "end"];
pub const EDGE_OPS: &[&str] = &["eq", "ne", "gt", "ge", "lt", "le", "in", "empty", "not_empty"];

/// `generate = { count = N }`: N deterministic records for load tests.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GenerateDef {
    pub count: usize,
}
