//! Scenario files: the TOML contract users write to seed the emulator.
//!
//! Loading has three steps: typed deserialisation (unknown keys and wrong types are errors that carry
//! the TOML span), merging of `include`d files, and semantic validation (references, id formats,
//! record values). Every error names file, line, column, key path and what was expected.
//!
//! Where this fits: docs/architecture.md.

mod load;
mod schema;
mod spans;
pub mod validate;

use std::fmt;
use std::path::Path;

pub use load::{FileAccess, Source, MAX_INCLUDE_BYTES, MAX_RECORDS_FILE_BYTES};
pub use schema::*;

/// A loaded and validated scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    pub doc: ScenarioDoc,
}

/// The embedded demo scenario served when `serve` gets no `--scenario`.
pub const DEMO_TOML: &str = include_str!("../../scenarios/demo.toml");

impl Scenario {
    /// Loads a scenario file; `include` and `records_file` paths are relative to the file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, ScenarioError> {
        load::load_file(path.as_ref()).map_err(ScenarioErrors::first)
    }

    /// Like [`Scenario::from_file`], with every problem the file has rather than the first.
    pub fn check_file(path: impl AsRef<Path>) -> Result<Self, ScenarioErrors> {
        load::load_file(path.as_ref())
    }

    /// Loads a scenario from TOML text; relative paths resolve against the current directory.
    pub fn from_toml_str(text: &str, name: &str) -> Result<Self, ScenarioError> {
        load::load_str(text, name, FileAccess::Local).map_err(ScenarioErrors::first)
    }

    /// Loads a scenario from JSON with the same shape as the TOML format.
    pub fn from_json_str(text: &str, name: &str) -> Result<Self, ScenarioError> {
        load::load_json(text, name, FileAccess::Local).map_err(ScenarioErrors::first)
    }

    /// Loads a scenario that arrived over HTTP (`PUT /__emu/scenario`, TOML or JSON): its `include` and
    /// `records_file` may read only what `access` allows.
    pub fn from_untrusted(text: &str, name: &str, json: bool, access: FileAccess) -> Result<Self, ScenarioErrors> {
        // Errors name the document that was sent, not the scenario it would replace.
        const LABEL: &str = "<PUT /__emu/scenario>";
        if json {
            load::load_json_labelled(text, LABEL, name, access)
        } else {
            load::load_text(text, LABEL, name, access)
        }
    }

    /// The compiled-in demo tenant.
    pub fn demo() -> Self {
        match load::load_str(DEMO_TOML, "demo", FileAccess::Local).map_err(ScenarioErrors::first) {
            Ok(s) => s,
            Err(e) => panic!("the embedded demo scenario is invalid: {e}"),
        }
    }

    /// Start a scenario in code: `Scenario::builder().seed(7).toml(r#"…"#).build()`.
    pub fn builder() -> ScenarioBuilder {
        ScenarioBuilder::default()
    }

    /// Platforms this scenario configures, in registry order.
    pub fn platforms(&self) -> Vec<&'static str> {
        crate::platforms::PLATFORMS.iter().filter(|p| (p.configured)(&self.doc.platforms)).map(|p| p.name).collect()
    }

    pub fn seed(&self) -> u64 {
        self.doc.emulator.seed.unwrap_or(42)
    }

    pub fn locale(&self) -> crate::Locale {
        self.doc.emulator.locale.as_deref().and_then(crate::Locale::parse).unwrap_or_default()
    }
}

/// The JSON Schema of scenario files, for editors (`lowcode-emu export-schema`).
pub fn json_schema() -> serde_json::Value {
    let mut generator = schemars::SchemaGenerator::default();
    let sections: Vec<(&str, schemars::Schema)> =
        crate::platforms::PLATFORMS.iter().map(|p| (p.name, (p.section_schema)(&mut generator))).collect();
    let mut schema = serde_json::to_value(generator.into_root_schema_for::<ScenarioDoc>()).unwrap_or_default();
    if let Some(props) = schema.get_mut("properties").and_then(serde_json::Value::as_object_mut) {
        for (name, section) in sections {
            props.insert(name.to_owned(), section.to_value());
        }
    }
    schema["title"] = serde_json::json!("lowcode-emu scenario");
    schema["description"] = serde_json::json!("A lowcode-emu scenario file (TOML). See docs/scenarios.md.");
    schema
}

/// Assembles a scenario from TOML fragments and a few common settings, for Rust tests.
#[derive(Debug, Default, Clone)]
pub struct ScenarioBuilder {
    name: Option<String>,
    seed: Option<u64>,
    clock: Option<String>,
    locale: Option<String>,
    fragments: Vec<String>,
}

impl ScenarioBuilder {
    pub fn name(mut self, name: &str) -> Self {
        self.name = Some(name.to_owned());
        self
    }
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }
    /// Freezes the clock at an RFC 3339 instant.
    pub fn frozen_clock(mut self, at: &str) -> Self {
        self.clock = Some(at.to_owned());
        self
    }
    pub fn locale(mut self, locale: &str) -> Self {
        self.locale = Some(locale.to_owned());
        self
    }
    /// Appends TOML (users, platform sections …) without an `[emulator]` table.
    pub fn toml(mut self, fragment: &str) -> Self {
        self.fragments.push(fragment.to_owned());
        self
    }
    pub fn build(self) -> Result<Scenario, ScenarioError> {
        let mut text = String::new();
        if let Some(n) = &self.name {
            text.push_str(&format!("name = {}\n", toml_str(n)));
        }
        text.push_str("[emulator]\n");
        if let Some(s) = self.seed {
            text.push_str(&format!("seed = {s}\n"));
        }
        if let Some(c) = &self.clock {
            text.push_str(&format!("clock = {}\n", toml_str(c)));
        }
        if let Some(l) = &self.locale {
            text.push_str(&format!("locale = {}\n", toml_str(l)));
        }
        for f in &self.fragments {
            text.push('\n');
            text.push_str(f);
            text.push('\n');
        }
        load::load_str(&text, self.name.as_deref().unwrap_or("builder"), FileAccess::Local).map_err(ScenarioErrors::first)
    }
}

fn toml_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

/// A scenario problem, located in its file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioError {
    pub file: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// Dotted key path such as `jiandaoyun.apps[0].entries[1].widgets[2].type`.
    pub key: String,
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(l) = self.line {
            write!(f, ":{l}")?;
            if let Some(c) = self.column {
                write!(f, ":{c}")?;
            }
        }
        if !self.key.is_empty() {
            write!(f, ": key `{}`", self.key)?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ScenarioError {}

/// Every problem a scenario has, in file order: `check` prints them all, one run instead of one fix at a
/// time. Syntax and type errors stop parsing, so they come alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioErrors(pub Vec<ScenarioError>);

impl From<ScenarioError> for ScenarioErrors {
    fn from(e: ScenarioError) -> Self {
        ScenarioErrors(vec![e])
    }
}

impl ScenarioErrors {
    /// The first problem (what the single-error APIs report).
    pub fn first(self) -> ScenarioError {
        self.0.into_iter().next().unwrap_or(ScenarioError {
            file: String::new(),
            line: None,
            column: None,
            key: String::new(),
            message: "invalid scenario".into(),
        })
    }
}

pub use crate::core::keypath::{render_path, Seg};

/// A semantic problem found after parsing: which source file, where in it, and what is wrong.
#[derive(Debug, Clone)]
pub struct Diag {
    pub file: usize,
    pub path: Vec<Seg>,
    pub message: String,
}

impl Diag {
    /// A problem inside the item at `origin` of the array at `array` (e.g. `["jiandaoyun", "apps"]`),
    /// at `rel` below that item.
    pub fn at(origin: Origin, array: &[&str], rel: Vec<Seg>, message: impl Into<String>) -> Self {
        let mut path: Vec<Seg> = array.iter().map(|k| Seg::Key((*k).to_owned())).collect();
        path.push(Seg::Index(origin.index));
        path.extend(rel);
        Diag { file: origin.file, path, message: message.into() }
    }

    /// A problem at an absolute path of one file.
    pub fn in_file(file: usize, path: Vec<Seg>, message: impl Into<String>) -> Self {
        Diag { file, path, message: message.into() }
    }
}

#[cfg(test)]
mod props {
    use proptest::prelude::*;

    use super::Scenario;

    proptest! {
        #![proptest_config(ProptestConfig { cases: crate::core::arb_json::cases(500), ..ProptestConfig::default() })]

        /// Arbitrary text never panics the loader; errors always say where.
        #[test]
        fn loader_never_panics(text in "(\\[\\[?[a-z.]{0,20}\\]\\]?\n|[a-z_]{1,10} = (\"[^\"\n]{0,10}\"|[0-9]{1,4}|true|\\[\\]|\\{\\})\n|.{0,20}\n){0,12}") {
            if let Err(e) = Scenario::from_toml_str(&text, "prop") {
                prop_assert!(!e.message.is_empty());
                prop_assert_eq!(e.file, "<prop>");
            }
        }

        /// Mutations of the demo scenario are either valid or located errors, never a panic.
        #[test]
        fn demo_mutations_never_panic(at in 0usize..super::DEMO_TOML.len(), cut in 0usize..40, insert in ".{0,6}") {
            let mut text = super::DEMO_TOML.to_owned();
            let start = (0..=at.min(text.len())).rev().find(|i| text.is_char_boundary(*i)).unwrap_or(0);
            let end = (start + cut).min(text.len());
            let end = (end..=text.len()).find(|i| text.is_char_boundary(*i)).unwrap_or(text.len());
            text.replace_range(start..end, &insert);
            let _ = Scenario::from_toml_str(&text, "mut");
        }
    }
}
