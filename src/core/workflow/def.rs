//! Workflow graphs as scenario files (and inline definitions of platforms that carry their own, such as
//! Astro Zero BPM) write them: nodes, edges and edge conditions. [`super::Flow::build`] validates one
//! into a runnable graph.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::core::keypath::Origin;

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
    #[schemars(schema_with = "node_type_schema")]
    pub kind: String,
    pub name: Option<String>,
    #[serde(default)]
    pub assignees: Vec<String>,
    #[serde(default)]
    #[schemars(schema_with = "mode_schema")]
    pub mode: Option<String>,
    #[serde(default)]
    pub verify: bool,
    /// Users who receive a carbon copy (抄送) when the instance reaches the node.
    #[serde(default)]
    pub cc: Vec<String>,
    /// A `call` node's outbound request: where the form data goes and which fields of the answer
    /// come back into the data.
    pub call: Option<CallDef>,
    /// A `script` node's steps, run over the instance's data when the instance reaches the node; it
    /// then moves on at once.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<ScriptStep>,
    /// A `subflow` node: another flow of `[[flows]]` runs in its place.
    pub subflow: Option<SubflowDef>,
}

/// One step of a script node. Exactly one of `assign`, `formula`, `fail`; `when` guards it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScriptStep {
    /// The step runs only when this holds over the data (`value` may be a template).
    pub when: Option<EdgeWhen>,
    /// Fields or variables to set, each a template (`"{{FORMITM_1}}"` keeps the JSON type).
    pub assign: Option<serde_json::Map<String, Value>>,
    /// Fields or variables to set, each from a formula (`IF({!amount} > 1000, "big", "small")`), in order.
    pub formula: Option<serde_json::Map<String, Value>>,
    /// Ends the instance in error with this rendered message.
    pub fail: Option<String>,
}

/// A `subflow` node: the flow `flow` runs where the node stands — its nodes are spliced in, so its
/// people act on its steps as on any other — with `inputs` set first and `outputs` copied back when it
/// reaches its end.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SubflowDef {
    /// The id of a flow in `[[flows]]`.
    pub flow: String,
    /// Variables the subflow starts with, each a template over the calling flow's data.
    #[serde(default)]
    pub inputs: serde_json::Map<String, Value>,
    /// Variables of the calling flow set from the subflow's when it ends: `{ caller_var = "sub_var" }`.
    #[serde(default)]
    pub outputs: std::collections::BTreeMap<String, String>,
}

/// What a `call` node does: `POST`s the instance's data to `url` and, on a 2xx JSON answer, copies
/// answer values into fields (`outputs = { FIELD = "answer.key.path" }`) before moving on.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CallDef {
    /// `http://…` (the emulator sends plain HTTP; loopback in tests).
    pub url: String,
    #[serde(default)]
    pub outputs: std::collections::BTreeMap<String, String>,
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
    #[schemars(schema_with = "op_schema")]
    pub op: String,
    pub value: Option<Value>,
}

impl CallDef {
    /// The fields a call node's JSON answer sets: each output's key path looked up (null when absent).
    pub fn outputs_of(&self, answer: &Value) -> serde_json::Map<String, Value> {
        crate::core::keypath::pick(&self.outputs, answer)
    }
}

impl FlowDef {
    /// Whether a node calls out: such flows run only where the platform sends the calls (OMFlow API
    /// nodes, Astro Zero BPM service tasks).
    pub fn calls_out(&self) -> bool {
        self.nodes.iter().any(|n| n.kind.eq_ignore_ascii_case("call"))
    }
}

/// Why a platform that sends no calls refuses a flow with `call` nodes.
pub const CALLS_UNSUPPORTED: &str = "this flow has call nodes, which run in OMFlow flows and Astro Zero BPM processes only";

impl EdgeDef {
    pub fn ends(&self) -> (&str, &str) {
        match self {
            EdgeDef::Pair([a, b]) => (a, b),
            EdgeDef::Table(t) => (&t.from, &t.to),
        }
    }
}

pub const NODE_TYPES: &[&str] = &["start", "approve", "handle", "parallel", "join", "condition", "call", "script", "subflow", "end"];
pub const EDGE_OPS: &[&str] = &["eq", "ne", "gt", "ge", "lt", "le", "in", "empty", "not_empty"];

fn node_type_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    crate::core::schema_hints::one_of(NODE_TYPES, "The node's kind.")
}

fn mode_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    crate::core::schema_hints::one_of(&["any", "all"], "Whether one assignee (any) or every assignee (all) must act.")
}

fn op_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    crate::core::schema_hints::one_of(EDGE_OPS, "How the field is compared with value.")
}
