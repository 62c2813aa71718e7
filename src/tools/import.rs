//! `lowcode-emu import <platform>`: a live tenant's schema (and, on request, a capped sample of its
//! records and directory) read through the platform's public API and written as a scenario.
//!
//! The platform's `read_tenant` decides what to read and how to turn it into its section; this module
//! gives it an [`ImportCx`]: one paced HTTP client that backs off on the platform's own rate-limit
//! answers (and on 502/503/504), the credentials from the command line, a directory the section's
//! records may refer to, pseudonyms for `--anonymize`, and a progress bar. [`run`] assembles the
//! scenario, checks that it loads, and writes it atomically — so a rerun overwrites a complete file
//! or nothing, never half of one.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{json, Map, Value};

use crate::platforms::PlatformDef;

/// What the command line asked for.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// The tenant's API base URL (`https://api.jiandaoyun.com`, `https://api.dingtalk.com`, …).
    pub base_url: String,
    /// Credentials by their flag name (`api-key`, `app-key`, `client-secret` …).
    pub credentials: BTreeMap<String, String>,
    /// Apps (ids or names) to import; empty = every app the credentials can see.
    pub apps: Vec<String>,
    /// Records to sample per form or object (0 = schema only).
    pub records: usize,
    /// Import members and departments too (records' people are imported either way).
    pub directory: bool,
    /// Write the credentials used into the scenario (otherwise placeholders).
    pub include_keys: bool,
    /// Replace names, free text and phone numbers by generated values.
    pub anonymize: bool,
    /// Requests per second at most.
    pub rate: f64,
    /// Retries of one call after a rate-limit or gateway answer.
    pub max_retries: u32,
    /// First back-off; doubles per retry (a `Retry-After` header wins).
    pub backoff: Duration,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            base_url: String::new(),
            credentials: BTreeMap::new(),
            apps: Vec::new(),
            records: 0,
            directory: false,
            include_keys: false,
            anonymize: false,
            rate: 5.0,
            max_retries: 6,
            backoff: Duration::from_millis(250),
        }
    }
}

/// What a platform read: its scenario section and what goes beside it.
#[derive(Debug, Default)]
pub struct Imported {
    /// The `[platform]` section, as JSON with the scenario's keys.
    pub section: Value,
    /// `[[flows]]` the section's forms refer to.
    pub flows: Vec<Value>,
    /// What was read, for the closing line (`("forms", 3)`).
    pub counts: Vec<(&'static str, usize)>,
}

/// One answer of the tenant.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

/// A request body.
pub enum Body {
    None,
    Json(Value),
    Form(Vec<(String, String)>),
}

#[derive(Debug, Clone)]
struct PersonOut {
    name: String,
    departments: Vec<i64>,
}

/// What a platform's import works with.
pub struct ImportCx {
    pub platform: &'static PlatformDef,
    pub options: ImportOptions,
    client: reqwest::blocking::Client,
    last_call: Option<Instant>,
    progress: ProgressBar,
    /// Calls made and calls repeated after a rate-limit answer.
    pub calls: u64,
    pub retries: u64,
    /// In the order the import met them (a directory list answers in its own order).
    users: indexmap::IndexMap<String, PersonOut>,
    departments: BTreeMap<i64, (String, Option<i64>)>,
    pseudonyms: HashMap<String, String>,
    notes: Vec<String>,
}

/// Longest answer read from the tenant (a page of records is far less).
const MAX_ANSWER_BYTES: usize = 64 << 20;

impl ImportCx {
    pub fn new(platform: &'static PlatformDef, options: ImportOptions) -> Result<Self, String> {
        let client = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(60))
            .user_agent(concat!("lowcode-emu-import/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build an HTTP client: {e}"))?;
        let progress = ProgressBar::new_spinner();
        progress.set_style(
            ProgressStyle::with_template("{spinner} {msg} · {pos} calls · {elapsed}").unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        progress.enable_steady_tick(Duration::from_millis(120));
        Ok(ImportCx {
            platform,
            options,
            client,
            last_call: None,
            progress,
            calls: 0,
            retries: 0,
            users: indexmap::IndexMap::new(),
            departments: BTreeMap::new(),
            pseudonyms: HashMap::new(),
            notes: Vec::new(),
        })
    }

    /// A credential given on the command line, or an error naming the flag.
    pub fn credential(&self, flag: &str) -> Result<String, String> {
        self.options.credentials.get(flag).cloned().ok_or_else(|| format!("import {} needs --{flag}", self.platform.name))
    }

    /// The credential to write into the scenario: the real one with `--include-keys`, else `placeholder`.
    pub fn scenario_secret(&mut self, real: &str, placeholder: &str, what: &str) -> String {
        if self.options.include_keys {
            return real.to_owned();
        }
        self.note(format!("{what} is a placeholder ({placeholder}); --include-keys writes the tenant's own"));
        placeholder.to_owned()
    }

    /// Whether `--apps` selects an app (by id or by name).
    pub fn wants_app(&self, id: &str, name: &str) -> bool {
        self.options.apps.is_empty() || self.options.apps.iter().any(|a| a == id || a == name)
    }

    /// A line for the scenario's header: something the tenant has that its API does not give.
    pub fn note(&mut self, text: impl Into<String>) {
        let text = text.into();
        if !self.notes.contains(&text) {
            self.notes.push(text);
        }
    }

    /// A one-step flow standing in for a workflow form's real one, which no platform's API exports;
    /// [`run`] assigns its approval to the first person read.
    pub fn placeholder_flow(&mut self, id: &str, name: &str) -> Value {
        self.note("workflow graphs (no API exports them): each workflow form gets a one-step placeholder flow to edit");
        json!({
            "id": id,
            "name": format!("{name} (placeholder)"),
            "nodes": [
                { "id": "start", "type": "start", "name": "提交" },
                { "id": "approve", "type": "approve", "name": "审批" },
                { "id": "end", "type": "end", "name": "结束" },
            ],
            "edges": [["start", "approve"], ["approve", "end"]],
        })
    }

    /// What the progress line says is being read.
    pub fn step(&self, what: impl Into<String>) {
        self.progress.set_message(what.into());
    }

    /// Calls the tenant: paced to `--rate`, retried with back-off when the platform says "too many
    /// requests" or a gateway fails. Transport errors and non-JSON answers are errors.
    pub fn call(
        &mut self,
        method: reqwest::Method,
        path: &str,
        query: &[(&str, String)],
        headers: &[(&str, String)],
        body: Body,
    ) -> Result<Answer, String> {
        let url = format!("{}{}", self.options.base_url.trim_end_matches('/'), path);
        let mut attempt = 0u32;
        loop {
            self.pace();
            let mut req = self.client.request(method.clone(), &url).query(query);
            for (k, v) in headers {
                req = req.header(*k, v);
            }
            req = match &body {
                Body::None => req,
                Body::Json(v) => req.json(v),
                Body::Form(pairs) => req.form(pairs),
            };
            self.calls += 1;
            self.progress.inc(1);
            let what = format!("{method} {path}");
            let resp = match req.send() {
                Ok(r) => r,
                Err(e) if attempt < self.options.max_retries && (e.is_connect() || e.is_timeout()) => {
                    attempt += 1;
                    self.wait(attempt, None);
                    continue;
                }
                Err(e) => return Err(format!("{what}: {e}")),
            };
            let status = resp.status().as_u16();
            let retry_after = resp.headers().get("retry-after").and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<f64>().ok());
            let bytes = resp.bytes().map_err(|e| format!("{what}: reading the answer: {e}"))?;
            if bytes.len() > MAX_ANSWER_BYTES {
                return Err(format!("{what}: answer larger than {MAX_ANSWER_BYTES} bytes"));
            }
            let body: Value = if bytes.is_empty() {
                Value::Null
            } else {
                serde_json::from_slice(&bytes).map_err(|_| {
                    format!("{what} answered HTTP {status} with no JSON: {}", String::from_utf8_lossy(&bytes[..bytes.len().min(200)]))
                })?
            };
            let retryable = (self.platform.is_rate_limited)(status, &body) || matches!(status, 502..=504);
            if retryable && attempt < self.options.max_retries {
                attempt += 1;
                self.retries += 1;
                self.wait(attempt, retry_after);
                continue;
            }
            return Ok(Answer { status, body });
        }
    }

    /// Like [`ImportCx::call`], but an HTTP error status is an error carrying the answer.
    pub fn call_ok(
        &mut self,
        method: reqwest::Method,
        path: &str,
        query: &[(&str, String)],
        headers: &[(&str, String)],
        body: Body,
    ) -> Result<Value, String> {
        let a = self.call(method.clone(), path, query, headers, body)?;
        if a.status >= 400 {
            return Err(format!("{method} {path} answered HTTP {}: {}", a.status, a.body));
        }
        Ok(a.body)
    }

    fn pace(&mut self) {
        if self.options.rate > 0.0 {
            let gap = Duration::from_secs_f64(1.0 / self.options.rate);
            if let Some(last) = self.last_call {
                let since = last.elapsed();
                if since < gap {
                    std::thread::sleep(gap - since);
                }
            }
        }
        self.last_call = Some(Instant::now());
    }

    fn wait(&self, attempt: u32, retry_after: Option<f64>) {
        let backoff = self.options.backoff.saturating_mul(1 << (attempt - 1).min(10)).min(Duration::from_secs(30));
        let wait = retry_after.filter(|s| s.is_finite() && *s >= 0.0).map(|s| Duration::from_secs_f64(s.min(60.0))).unwrap_or(backoff);
        self.progress.set_message(format!("rate limited; waiting {:.1} s (retry {attempt})", wait.as_secs_f64()));
        std::thread::sleep(wait);
    }

    /// Free text as the scenario should hold it: itself, or a stable pseudonym with `--anonymize`.
    pub fn text(&mut self, s: &str) -> String {
        if !self.options.anonymize || s.is_empty() {
            return s.to_owned();
        }
        format!("text-{:06x}", crate::core::ids::fnv1a(s.as_bytes()) & 0xff_ffff)
    }

    /// A phone number: itself, or a generated mobile number with `--anonymize`.
    pub fn phone(&mut self, s: &str) -> String {
        if !self.options.anonymize || s.is_empty() {
            return s.to_owned();
        }
        format!("138{:08}", crate::core::ids::fnv1a(s.as_bytes()) % 100_000_000)
    }

    /// Registers a person the section refers to and answers the id the scenario uses for them
    /// (a pseudonym `user-N` with `--anonymize`, the same one every time).
    pub fn user(&mut self, id: &str, name: Option<&str>, departments: &[i64]) -> String {
        let out = if self.options.anonymize {
            let n = self.pseudonyms.len() + 1;
            self.pseudonyms.entry(id.to_owned()).or_insert_with(|| format!("user-{n}")).clone()
        } else {
            id.to_owned()
        };
        let display = if self.options.anonymize { out.replace("user-", "用户 ") } else { name.unwrap_or(id).to_owned() };
        let e = self.users.entry(out.clone()).or_insert_with(|| PersonOut { name: display.clone(), departments: Vec::new() });
        if name.is_some() {
            e.name = display;
        }
        for d in departments {
            if !e.departments.contains(d) {
                e.departments.push(*d);
            }
        }
        out
    }

    /// Registers a department the section refers to.
    pub fn department(&mut self, no: i64, name: &str, parent: Option<i64>) {
        let name = if self.options.anonymize { format!("部门 {no}") } else { name.to_owned() };
        self.departments.insert(no, (name, parent.filter(|p| *p != no)));
    }

    /// `[[users]]` and `[[departments]]` for everyone registered; a department a user or another
    /// department names without having been read is added under its number.
    fn directory(&self) -> (Vec<Value>, Vec<Value>) {
        let mut depts = self.departments.clone();
        let named: Vec<i64> =
            self.users.values().flat_map(|u| u.departments.iter().copied()).chain(depts.values().filter_map(|d| d.1)).collect();
        for d in named {
            depts.entry(d).or_insert_with(|| (format!("部门 {d}"), None));
        }
        let users = self.users.iter().map(|(id, u)| json!({ "id": id, "name": u.name, "departments": u.departments })).collect();
        let departments = depts
            .iter()
            .map(|(no, (name, parent))| {
                let mut d = json!({ "id": no, "name": name });
                if let Some(p) = parent {
                    d["parent"] = json!(p);
                }
                d
            })
            .collect();
        (users, departments)
    }
}

/// What `run` did, for the command's closing line.
#[derive(Debug)]
pub struct Summary {
    pub counts: Vec<(&'static str, usize)>,
    pub users: usize,
    pub calls: u64,
    pub retries: u64,
    pub notes: Vec<String>,
}

/// Reads the tenant, writes the scenario to `output` (atomically), and checks that it loads.
pub fn run(platform: &'static PlatformDef, options: ImportOptions, output: &Path) -> Result<Summary, String> {
    let base = options.base_url.clone();
    let mut cx = ImportCx::new(platform, options)?;
    cx.step(format!("reading {} at {base}", platform.name));
    let imported = (platform.read_tenant)(&mut cx);
    cx.progress.finish_and_clear();
    let mut imported = imported?;
    assign_placeholders(&mut cx, &mut imported.flows);
    let (users, departments) = cx.directory();
    let mut doc = Map::new();
    if !users.is_empty() {
        doc.insert("users".into(), Value::Array(users));
    }
    if !departments.is_empty() {
        doc.insert("departments".into(), Value::Array(departments));
    }
    if !imported.flows.is_empty() {
        doc.insert("flows".into(), Value::Array(imported.flows.clone()));
    }
    doc.insert(platform.name.into(), imported.section.clone());
    let mut text = format!(
        "# Imported from {base} by `lowcode-emu import {}` ({} calls).\n# Serve it: lowcode-emu serve --scenario {}\n",
        platform.name,
        cx.calls,
        output.display()
    );
    if !cx.notes.is_empty() {
        text.push_str("#\n# Not in what the platform's API gives, so made up or left out here:\n");
        for n in &cx.notes {
            text.push_str(&format!("# - {n}\n"));
        }
    }
    text.push('\n');
    text.push_str(&to_toml(&Value::Object(doc))?);
    let stem = output.file_stem().and_then(|s| s.to_str()).unwrap_or("import");
    let loads = crate::Scenario::from_toml_str(&text, stem).map(|_| ());
    write_atomically(output, &text)?;
    if let Err(e) = loads {
        return Err(format!("wrote {} but it does not load: {e}", output.display()));
    }
    Ok(Summary { counts: imported.counts, users: cx.users.len(), calls: cx.calls, retries: cx.retries, notes: cx.notes })
}

/// Gives human nodes that name nobody (placeholder flows) the first person read, or a placeholder
/// person when the import read none.
fn assign_placeholders(cx: &mut ImportCx, flows: &mut [Value]) {
    for node in flows.iter_mut().filter_map(|f| f.get_mut("nodes")).filter_map(Value::as_array_mut).flatten() {
        let human = matches!(node.get("type").and_then(Value::as_str), Some("approve" | "handle"));
        if human && node.get("assignees").is_none() {
            let who = match cx.users.keys().next() {
                Some(first) => first.clone(),
                None => cx.user("approver", Some("审批人"), &[]),
            };
            node["assignees"] = json!([who]);
        }
    }
}

/// JSON → TOML text laid out as people write scenarios: top-level keys and each app, form or
/// object under a `[[header]]`, and the small things (widgets, fields, records, flow nodes) as
/// inline tables, one per line. `null`s are left out (TOML has none).
pub fn to_toml(v: &Value) -> Result<String, String> {
    let Value::Object(root) = v else { return Err("cannot write TOML: expected a table".into()) };
    let mut out = String::new();
    table_body(&mut out, &[], root, 1);
    Ok(out)
}

fn is_table_array(v: &Value) -> bool {
    matches!(v, Value::Array(a) if !a.is_empty() && a.iter().all(Value::is_object))
}

/// Whether an array of tables gets `[[header]]` sections (else it is written inline): at the top
/// (`[[users]]`), and down to a platform's forms when its tables hold arrays of tables of their own
/// (apps hold forms, forms hold widgets); widgets, fields, nodes and records are inline.
fn as_sections(v: &Value, depth: usize) -> bool {
    is_table_array(v)
        && (depth == 1
            || depth <= 3 && v.as_array().is_some_and(|a| a.iter().any(|t| t.as_object().is_some_and(|o| o.values().any(is_table_array)))))
}

fn table_body(out: &mut String, path: &[String], t: &Map<String, Value>, depth: usize) {
    let sections = |v: &Value| matches!(v, Value::Object(_)) || as_sections(v, depth);
    for (k, v) in t.iter().filter(|(_, v)| !v.is_null() && !sections(v)) {
        out.push_str(&format!("{} = {}\n", key(k), inline(v, true)));
    }
    for (k, v) in t.iter().filter(|(_, v)| !v.is_null() && sections(v)) {
        let mut p = path.to_vec();
        p.push(key(k));
        match v {
            Value::Object(o) => {
                out.push_str(&format!("\n[{}]\n", p.join(".")));
                table_body(out, &p, o, depth + 1);
            }
            Value::Array(items) => {
                for item in items.iter().filter_map(Value::as_object) {
                    out.push_str(&format!("\n[[{}]]\n", p.join(".")));
                    table_body(out, &p, item, depth + 1);
                }
            }
            _ => {}
        }
    }
}

fn key(k: &str) -> String {
    if !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        k.to_owned()
    } else {
        toml::Value::String(k.to_owned()).to_string()
    }
}

/// A value inline; an array of tables at `top` goes one table per line.
fn inline(v: &Value, top: bool) -> String {
    match v {
        Value::Null => "\"\"".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => match n.as_i64() {
            Some(i) => i.to_string(),
            None => toml::Value::Float(n.as_f64().unwrap_or_default()).to_string(),
        },
        Value::String(s) => toml::Value::String(s.clone()).to_string(),
        Value::Array(a) if top && is_table_array(v) => {
            let rows: Vec<String> = a.iter().map(|x| format!("  {},\n", inline(x, false))).collect();
            format!("[\n{}]", rows.concat())
        }
        Value::Array(a) => format!("[{}]", a.iter().filter(|x| !x.is_null()).map(|x| inline(x, false)).collect::<Vec<_>>().join(", ")),
        Value::Object(o) if o.is_empty() => "{}".into(),
        Value::Object(o) => {
            format!(
                "{{ {} }}",
                o.iter()
                    .filter(|(_, x)| !x.is_null())
                    .map(|(k, x)| format!("{} = {}", key(k), inline(x, false)))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    }
}

/// Writes next to `path` first and renames over it: a reader (or a rerun after Ctrl-C) sees the old
/// file or the new one, never half of one.
pub fn write_atomically(path: &Path, text: &str) -> Result<(), String> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let tmp = dir.join(format!(".{}.tmp-{}", path.file_name().and_then(|n| n.to_str()).unwrap_or("scenario"), std::process::id()));
    std::fs::write(&tmp, text).map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("cannot write {}: {e}", path.display())
    })
}

/// Pages through a list until `page` answers fewer than `size` items or `cap` items were taken.
/// `page(n)` gets the 0-based page number and answers that page's items.
pub fn pages<F>(cap: usize, size: usize, mut page: F) -> Result<Vec<Value>, String>
where
    F: FnMut(usize) -> Result<Vec<Value>, String>,
{
    let mut out = Vec::new();
    for n in 0..10_000 {
        if out.len() >= cap {
            break;
        }
        let items = page(n)?;
        let last = items.len() < size;
        out.extend(items);
        if last {
            break;
        }
    }
    out.truncate(cap);
    Ok(out)
}
