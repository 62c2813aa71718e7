//! The typed shape of scenario files. Platform sections live with their platform.

use std::sync::LazyLock;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

use crate::platforms::Sections;

pub use crate::core::keypath::Origin;
pub use crate::core::workflow::{EdgeDef, EdgeTable, EdgeWhen, FlowDef, NodeDef, EDGE_OPS, NODE_TYPES};

/// A scenario document. The platform sections (`[jiandaoyun]`, …) are read by their platforms through
/// the registry ([`crate::platforms::Sections`]), which is why `Deserialize` is written out below
/// instead of derived: serde's `flatten` would lose `deny_unknown_fields` and the TOML spans that make
/// errors point at a line. The JSON Schema is derived for the common keys; `super::json_schema` adds
/// each platform's section.
#[derive(Debug, Clone, Default, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct ScenarioDoc {
    /// Names the scenario (default: the file stem); health reports it.
    pub name: Option<String>,
    /// Scenario files merged before this one, relative to it.
    #[schemars(default)]
    pub include: Vec<String>,
    #[schemars(default)]
    pub emulator: EmulatorSection,
    #[schemars(default)]
    pub server: Option<ServerSection>,
    #[schemars(default)]
    pub users: Vec<UserDef>,
    #[schemars(default)]
    pub departments: Vec<DeptDef>,
    #[schemars(default)]
    pub flows: Vec<FlowDef>,
    #[schemars(default)]
    pub faults: Vec<crate::core::faults::FaultDef>,
    /// Every platform's section.
    #[schemars(skip)]
    pub platforms: Sections,
}

/// The keys a scenario document accepts, in the order error messages list them.
fn doc_keys() -> &'static [&'static str] {
    static KEYS: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
        let mut keys = vec!["name", "include", "emulator", "server", "users", "departments", "flows"];
        keys.extend(crate::platforms::names());
        keys.push("faults");
        keys
    });
    &KEYS
}

impl<'de> Deserialize<'de> for ScenarioDoc {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DocVisitor;
        impl<'de> Visitor<'de> for DocVisitor {
            type Value = ScenarioDoc;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("struct ScenarioDoc")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ScenarioDoc, A::Error> {
                let mut doc = ScenarioDoc::default();
                let mut seen: Vec<&'static str> = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    let Some(&known) = doc_keys().iter().find(|k| **k == key) else {
                        return Err(de::Error::unknown_field(&key, doc_keys()));
                    };
                    if seen.contains(&known) {
                        return Err(de::Error::duplicate_field(known));
                    }
                    seen.push(known);
                    match known {
                        "name" => doc.name = map.next_value()?,
                        "include" => doc.include = map.next_value()?,
                        "emulator" => doc.emulator = map.next_value()?,
                        "server" => doc.server = map.next_value()?,
                        "users" => doc.users = map.next_value()?,
                        "departments" => doc.departments = map.next_value()?,
                        "flows" => doc.flows = map.next_value()?,
                        "faults" => doc.faults = map.next_value()?,
                        platform => {
                            doc.platforms.read_value(platform, &mut map)?;
                        }
                    }
                }
                Ok(doc)
            }
        }
        deserializer.deserialize_struct("ScenarioDoc", doc_keys(), DocVisitor)
    }
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
    #[serde(default)]
    #[schemars(schema_with = "locale_schema")]
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
    /// Milliseconds a whole request body may take to arrive, however steadily (default 120 000).
    pub body_timeout_ms: Option<u64>,
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
    /// Position among its siblings (smaller first); default 0, then by id.
    #[serde(default)]
    pub seq: i64,
    /// The department's managers: user ids from `[[users]]`.
    #[serde(default)]
    pub managers: Vec<String>,
    #[serde(skip)]
    pub origin: Origin,
}

/// `generate = { count = N }`: N deterministic records for load tests.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GenerateDef {
    pub count: usize,
}

fn locale_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    crate::core::schema_hints::one_of(&["zh", "zh-CN", "zh-Hans", "zh-TW", "zh-Hant", "zh-HK", "en", "en-US", "en-GB"], "Message language.")
}
