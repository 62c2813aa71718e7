//! Reading scenario files: parse, merge includes, load JSONL records, validate.

use std::path::{Path, PathBuf};

use super::spans::{line_col, locate};
use super::{render_path, Diag, Origin, Scenario, ScenarioDoc, ScenarioError, ScenarioErrors, Seg};

/// One scenario source file, kept for error locations.
#[derive(Debug, Clone)]
pub struct Source {
    pub name: String,
    pub text: String,
    /// Where relative `include` and `records_file` paths start.
    pub dir: PathBuf,
    pub access: FileAccess,
}

/// What a scenario may read from the file system through `include` and `records_file`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileAccess {
    /// Scenarios the operator names (command line, Rust code): any regular file the process can read.
    Local,
    /// Scenarios sent over HTTP (`PUT /__emu/scenario`): no file at all.
    Denied,
    /// Scenarios sent over HTTP when the operator named a directory (`serve --scenario-dir`): regular
    /// files under it only.
    Under(PathBuf),
}

/// Most bytes an included scenario file may have.
pub const MAX_INCLUDE_BYTES: u64 = 16 * 1024 * 1024;
/// Most bytes a `records_file` may have.
pub const MAX_RECORDS_FILE_BYTES: u64 = 1024 * 1024 * 1024;

impl Source {
    /// Reads a file this source names (relative to it), within its access rules and `cap` bytes.
    /// Errors say what was wrong without telling a remote sender whether a path exists outside
    /// what it may read.
    pub fn read_named(&self, rel: &str, cap: u64) -> Result<(PathBuf, String), String> {
        let path = match &self.access {
            FileAccess::Denied => {
                return Err(format!(
                "scenarios sent over HTTP cannot read files ({rel:?}); start the server with --scenario-dir DIR to allow files under DIR"
            ))
            }
            FileAccess::Local => self.dir.join(rel),
            FileAccess::Under(root) => {
                let outside = || format!("{rel:?} is not a readable file under the scenario directory");
                let root = root.canonicalize().map_err(|_| outside())?;
                let path = self.dir.join(rel).canonicalize().map_err(|_| outside())?;
                if !path.starts_with(&root) {
                    return Err(outside());
                }
                path
            }
        };
        let shown = path.display();
        let meta = std::fs::metadata(&path).map_err(|e| format!("cannot read {shown}: {e}"))?;
        if !meta.is_file() {
            return Err(format!("cannot read {shown}: not a regular file"));
        }
        if meta.len() > cap {
            return Err(format!("cannot read {shown}: larger than {cap} bytes"));
        }
        let mut text = String::new();
        use std::io::Read;
        std::fs::File::open(&path)
            .and_then(|f| f.take(cap + 1).read_to_string(&mut text))
            .map_err(|e| format!("cannot read {shown}: {e}"))?;
        if text.len() as u64 > cap {
            return Err(format!("cannot read {shown}: larger than {cap} bytes"));
        }
        Ok((path, text))
    }
}

const MAX_INCLUDE_DEPTH: usize = 16;

pub fn load_file(path: &Path) -> Result<Scenario, ScenarioErrors> {
    let text = std::fs::read_to_string(path).map_err(|e| ScenarioError {
        file: path.display().to_string(),
        line: None,
        column: None,
        key: String::new(),
        message: format!("cannot read the file: {e}"),
    })?;
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "scenario".into());
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let src = Source { name: path.display().to_string(), text, dir, access: FileAccess::Local };
    // A `.json` file holds the same document as JSON: `check`, `serve --scenario` and Rust code take both.
    if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json")) {
        json_source(src, &stem)
    } else {
        load_source(src, &stem)
    }
}

/// Where relative paths of a scenario given as text start: the allowed directory, else the current one.
fn text_dir(access: &FileAccess) -> PathBuf {
    match access {
        FileAccess::Under(root) => root.clone(),
        _ => std::env::current_dir().unwrap_or_default(),
    }
}

pub fn load_str(text: &str, name: &str, access: FileAccess) -> Result<Scenario, ScenarioErrors> {
    load_text(text, &format!("<{name}>"), name, access)
}

/// TOML text whose errors name it `label` (a file name, `<PUT /__emu/scenario>` …).
pub fn load_text(text: &str, label: &str, default_name: &str, access: FileAccess) -> Result<Scenario, ScenarioErrors> {
    let dir = text_dir(&access);
    load_source(Source { name: label.to_owned(), text: text.to_owned(), dir, access }, default_name)
}

pub fn load_json(text: &str, name: &str, access: FileAccess) -> Result<Scenario, ScenarioErrors> {
    load_json_labelled(text, &format!("<{name}.json>"), name, access)
}

/// A JSON scenario whose errors name it `label`.
pub fn load_json_labelled(text: &str, label: &str, name: &str, access: FileAccess) -> Result<Scenario, ScenarioErrors> {
    let dir = text_dir(&access);
    json_source(Source { name: label.to_owned(), text: text.to_owned(), dir, access }, name)
}

fn json_source(src: Source, name: &str) -> Result<Scenario, ScenarioErrors> {
    let text = src.text.clone();
    let mut de = serde_json::Deserializer::from_str(&text);
    let mut doc: ScenarioDoc = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let key = e.path().to_string();
        let inner = e.inner();
        ScenarioError {
            file: src.name.clone(),
            line: Some(inner.line()),
            column: Some(inner.column()),
            key: if key == "." { String::new() } else { key },
            message: inner.to_string(),
        }
    })?;
    if !doc.include.is_empty() {
        return Err(ScenarioError {
            file: src.name.clone(),
            line: None,
            column: None,
            key: "include".into(),
            message: "JSON scenarios cannot include files".into(),
        }
        .into());
    }
    tag_origins(&mut doc, 0);
    finish(doc, vec![src], name)
}

fn load_source(root: Source, default_name: &str) -> Result<Scenario, ScenarioErrors> {
    let mut sources = Vec::new();
    let doc = parse_with_includes(root, &mut sources, 0)?;
    finish(doc, sources, default_name)
}

fn finish(doc: ScenarioDoc, sources: Vec<Source>, default_name: &str) -> Result<Scenario, ScenarioErrors> {
    let name = doc.name.clone().unwrap_or_else(|| default_name.to_owned());
    let mut scenario = Scenario { name, doc };
    let mut diags = Vec::new();
    super::validate::validate(&mut scenario, &sources, &mut diags);
    if diags.is_empty() {
        return Ok(scenario);
    }
    Err(ScenarioErrors(diags.into_iter().map(|d| diag_error(&sources, d)).collect()))
}

/// Turns a semantic diagnostic into a located error.
pub fn diag_error(sources: &[Source], d: Diag) -> ScenarioError {
    let src = sources.get(d.file);
    let pos = src.and_then(|s| locate(&s.text, &d.path));
    ScenarioError {
        file: src.map(|s| s.name.clone()).unwrap_or_default(),
        line: pos.map(|p| p.0),
        column: pos.map(|p| p.1),
        key: render_path(&d.path),
        message: d.message,
    }
}

fn parse_with_includes(src: Source, sources: &mut Vec<Source>, depth: usize) -> Result<ScenarioDoc, ScenarioError> {
    let file = sources.len();
    let mut doc = parse_one(&src, file)?;
    sources.push(src);
    if depth > MAX_INCLUDE_DEPTH {
        return Err(diag_error(
            sources,
            Diag::in_file(file, vec![Seg::Key("include".into())], "includes nest deeper than 16 files (is there a cycle?)"),
        ));
    }
    let includes = std::mem::take(&mut doc.include);
    let mut merged = ScenarioDoc::default();
    for (i, inc) in includes.iter().enumerate() {
        let (path, text) = sources[file].read_named(inc, MAX_INCLUDE_BYTES).map_err(|e| {
            diag_error(sources, Diag::in_file(file, vec![Seg::Key("include".into()), Seg::Index(i)], format!("included file: {e}")))
        })?;
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let access = sources[file].access.clone();
        let child = parse_with_includes(Source { name: path.display().to_string(), text, dir, access }, sources, depth + 1)?;
        merge(&mut merged, child);
    }
    merge(&mut merged, doc);
    Ok(merged)
}

fn parse_one(src: &Source, file: usize) -> Result<ScenarioDoc, ScenarioError> {
    let de = toml::Deserializer::parse(&src.text).map_err(|e| toml_error(src, &e, String::new()))?;
    let mut doc: ScenarioDoc = serde_path_to_error::deserialize(de).map_err(|e| {
        let key = e.path().to_string();
        let key = if key == "." { String::new() } else { key };
        toml_error(src, e.inner(), key)
    })?;
    tag_origins(&mut doc, file);
    Ok(doc)
}

fn toml_error(src: &Source, e: &toml::de::Error, key: String) -> ScenarioError {
    let pos = e.span().map(|s| line_col(&src.text, s.start));
    let message = e.message().trim().to_owned();
    let message = if message.contains("did not match any variant") {
        format!("{message}; see docs/scenarios.md for the accepted shapes")
    } else {
        message
    };
    ScenarioError { file: src.name.clone(), line: pos.map(|p| p.0), column: pos.map(|p| p.1), key, message }
}

fn tag_origins(doc: &mut ScenarioDoc, file: usize) {
    for (index, u) in doc.users.iter_mut().enumerate() {
        u.origin = Origin { file, index };
    }
    for (index, d) in doc.departments.iter_mut().enumerate() {
        d.origin = Origin { file, index };
    }
    for (index, f) in doc.flows.iter_mut().enumerate() {
        f.origin = Origin { file, index };
    }
    for p in crate::platforms::PLATFORMS {
        (p.tag_origins)(&mut doc.platforms, file);
    }
}

/// Folds `top` over `base`: arrays are appended (base first), settings in `top` win.
fn merge(base: &mut ScenarioDoc, top: ScenarioDoc) {
    if top.name.is_some() {
        base.name = top.name;
    }
    let e = top.emulator;
    base.emulator.seed = e.seed.or(base.emulator.seed);
    base.emulator.clock = e.clock.or(base.emulator.clock.take());
    base.emulator.clock_running |= e.clock_running;
    base.emulator.locale = e.locale.or(base.emulator.locale.take());
    if let Some(s) = top.server {
        let b = base.server.get_or_insert_with(Default::default);
        b.max_body_bytes = s.max_body_bytes.or(b.max_body_bytes);
        b.max_upload_bytes = s.max_upload_bytes.or(b.max_upload_bytes);
        b.journal_size = s.journal_size.or(b.journal_size);
        b.journal_max_bytes = s.journal_max_bytes.or(b.journal_max_bytes);
        b.read_timeout_ms = s.read_timeout_ms.or(b.read_timeout_ms);
        b.body_timeout_ms = s.body_timeout_ms.or(b.body_timeout_ms);
        b.ports.extend(s.ports);
    }
    base.users.extend(top.users);
    base.departments.extend(top.departments);
    base.flows.extend(top.flows);
    base.faults.extend(top.faults);
    let mut top_platforms = top.platforms;
    for p in crate::platforms::PLATFORMS {
        (p.merge)(&mut base.platforms, &mut top_platforms);
    }
}
