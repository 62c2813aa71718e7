//! Recordings: what `proxy` writes and `diff` replays — one JSON object per line, one line per
//! request and its answer, credentials redacted.
//!
//! Redaction uses every platform's secret fields and headers (a recording may be of any platform,
//! and a field that is a secret on one is never needed in clear by another): values read `"***"`,
//! an `Authorization` header keeps its scheme (`Bearer ***`). A replay ([`Replay`]) fills them with
//! the emulator's own credentials through the platform's `replay_auth`.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::Path;

use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::core::journal::{redact_form, redact_json, REDACTED};
use crate::platforms::PLATFORMS;

/// One request through the proxy and the tenant's answer.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Exchange {
    pub seq: u64,
    pub time: String,
    /// The platform and route id the emulator gives this request (`None`: a path it does not serve).
    #[serde(default)]
    pub platform: Option<String>,
    #[serde(default)]
    pub route: Option<String>,
    pub method: String,
    pub path: String,
    #[serde(default)]
    pub query: String,
    #[serde(default)]
    pub request_headers: BTreeMap<String, String>,
    #[serde(default)]
    pub request_body: Payload,
    pub status: u16,
    #[serde(default)]
    pub response_headers: BTreeMap<String, String>,
    #[serde(default)]
    pub response_body: Payload,
    #[serde(default)]
    pub duration_ms: f64,
}

/// A body as a recording keeps it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", content = "value", rename_all = "lowercase")]
pub enum Payload {
    #[default]
    None,
    Json(Value),
    Text(String),
    Base64(String),
}

impl Payload {
    /// A body as sent: JSON (redacted) when it parses, else form or plain text, else base64.
    pub fn of(bytes: &[u8]) -> Self {
        if bytes.is_empty() {
            return Payload::None;
        }
        let secrets = secret_fields();
        if let Ok(mut v) = serde_json::from_slice::<Value>(bytes) {
            redact_json(&mut v, &secrets);
            return Payload::Json(v);
        }
        match std::str::from_utf8(bytes) {
            Ok(text) => Payload::Text(redact_form(text, &secrets).unwrap_or_else(|| text.to_owned())),
            Err(_) => Payload::Base64(base64::engine::general_purpose::STANDARD.encode(bytes)),
        }
    }

    /// The body as JSON for comparing (`Null` when it is not JSON).
    pub fn json(&self) -> &Value {
        static NULL: Value = Value::Null;
        match self {
            Payload::Json(v) => v,
            _ => &NULL,
        }
    }
}

/// Every platform's secret fields.
fn secret_fields() -> Vec<&'static str> {
    PLATFORMS.iter().flat_map(|p| p.secret_fields.iter().copied()).collect()
}

/// Headers never worth keeping or forwarding as they are.
pub const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "host",
    "content-length",
    "accept-encoding",
];

/// Headers that carry credentials on any platform.
fn is_secret_header(name: &str) -> bool {
    matches!(name, "authorization" | "proxy-authorization" | "cookie" | "set-cookie")
        || PLATFORMS.iter().any(|p| p.secret_headers.contains(&name))
        || secret_fields().iter().any(|f| f.eq_ignore_ascii_case(name))
}

/// Headers as a recording keeps them: lower-case names, secrets redacted, hop-by-hop ones left out.
pub fn recorded_headers<'a>(headers: impl Iterator<Item = (&'a str, &'a [u8])>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (name, value) in headers {
        let name = name.to_ascii_lowercase();
        if HOP_BY_HOP.contains(&name.as_str()) {
            continue;
        }
        let value = String::from_utf8_lossy(value).into_owned();
        let value = if is_secret_header(&name) { redact_header(&value) } else { value };
        out.insert(name, value);
    }
    out
}

/// `Bearer abc` → `Bearer ***`; anything else → `***`.
fn redact_header(value: &str) -> String {
    match value.split_once(' ') {
        Some((scheme, _)) if ["bearer", "basic"].contains(&scheme.to_ascii_lowercase().as_str()) => format!("{scheme} {REDACTED}"),
        _ => REDACTED.to_owned(),
    }
}

/// A query string with secret parameters redacted.
pub fn recorded_query(query: &str) -> String {
    redact_form(query, &secret_fields()).unwrap_or_else(|| query.to_owned())
}

/// Whether a value was redacted in a recording.
pub fn is_redacted(value: &str) -> bool {
    value == REDACTED || value.ends_with(&format!(" {REDACTED}"))
}

/// Longest recording line read (a line is one exchange with both bodies).
const MAX_LINE_BYTES: usize = 128 << 20;

/// Reads a recording; an error names the line and what was wrong with it.
pub fn read(path: &Path) -> Result<Vec<Exchange>, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = Vec::new();
    let mut reader = std::io::BufReader::new(file);
    let mut line = String::new();
    for n in 1.. {
        line.clear();
        let read = std::io::Read::take(&mut reader, MAX_LINE_BYTES as u64 + 1)
            .read_line(&mut line)
            .map_err(|e| format!("{}:{n}: {e}", path.display()))?;
        if read == 0 {
            break;
        }
        if read > MAX_LINE_BYTES {
            return Err(format!("{}:{n}: a line longer than {MAX_LINE_BYTES} bytes", path.display()));
        }
        if line.trim().is_empty() {
            continue;
        }
        let e: Exchange =
            serde_json::from_str(&line).map_err(|e| format!("{}:{n}: not an exchange of a recording: {e}", path.display()))?;
        out.push(e);
    }
    Ok(out)
}

/// A recorded request being made again, credentials and ids filled in for the emulator.
#[derive(Debug, Clone)]
pub struct Replay {
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub body: ReplayBody,
}

#[derive(Debug, Clone)]
pub enum ReplayBody {
    None,
    Json(Value),
    Form(Vec<(String, String)>),
    Bytes(Vec<u8>),
}

impl Replay {
    pub fn of(e: &Exchange) -> Self {
        let query = form_urlencoded::parse(e.query.as_bytes()).into_owned().collect();
        let form = e.request_headers.get("content-type").is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
        let body = match &e.request_body {
            Payload::None => ReplayBody::None,
            Payload::Json(v) => ReplayBody::Json(v.clone()),
            Payload::Text(t) if form => ReplayBody::Form(form_urlencoded::parse(t.as_bytes()).into_owned().collect()),
            Payload::Text(t) => ReplayBody::Bytes(t.clone().into_bytes()),
            Payload::Base64(b) => ReplayBody::Bytes(base64::engine::general_purpose::STANDARD.decode(b).unwrap_or_default()),
        };
        let headers = e.request_headers.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        Replay { method: e.method.clone(), path: e.path.clone(), query, headers, body }
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// Sets a header whose recorded value was redacted; answers whether there was one.
    pub fn fill_header(&mut self, name: &str, value: &str) -> bool {
        let mut filled = false;
        for (k, v) in &mut self.headers {
            if k.eq_ignore_ascii_case(name) && is_redacted(v) {
                *v = value.to_owned();
                filled = true;
            }
        }
        filled
    }

    /// A parameter from the query, a form body or a JSON body's top level.
    pub fn param(&self, name: &str) -> Option<String> {
        let from_pairs = |p: &[(String, String)]| p.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        from_pairs(&self.query).or_else(|| match &self.body {
            ReplayBody::Form(p) => from_pairs(p),
            ReplayBody::Json(Value::Object(o)) => o.get(name).and_then(|v| v.as_str().map(str::to_owned)),
            _ => None,
        })
    }

    /// Fills every redacted `field` (query parameter, form field, JSON key at any depth) with `value`.
    pub fn fill(&mut self, field: &str, value: &str) {
        fn fill_pairs(p: &mut [(String, String)], field: &str, value: &str) {
            for (k, v) in p {
                if k == field && is_redacted(v) {
                    *v = value.to_owned();
                }
            }
        }
        fn fill_json(j: &mut Value, field: &str, value: &str) {
            match j {
                Value::Object(o) => {
                    for (k, v) in o.iter_mut() {
                        if k == field && v.as_str().is_some_and(is_redacted) {
                            *v = Value::String(value.to_owned());
                        } else {
                            fill_json(v, field, value);
                        }
                    }
                }
                Value::Array(a) => a.iter_mut().for_each(|v| fill_json(v, field, value)),
                _ => {}
            }
        }
        fill_pairs(&mut self.query, field, value);
        match &mut self.body {
            ReplayBody::Form(p) => fill_pairs(p, field, value),
            ReplayBody::Json(j) => fill_json(j, field, value),
            _ => {}
        }
    }

    /// Replaces ids the recording saw by the ones the emulator gave (whole path segments, whole
    /// parameter values, whole JSON strings).
    pub fn map_ids(&mut self, ids: &std::collections::HashMap<String, String>) {
        if ids.is_empty() {
            return;
        }
        fn map_json(j: &mut Value, ids: &std::collections::HashMap<String, String>) {
            match j {
                Value::String(s) => {
                    if let Some(n) = ids.get(s.as_str()) {
                        *s = n.clone();
                    }
                }
                Value::Object(o) => o.values_mut().for_each(|v| map_json(v, ids)),
                Value::Array(a) => a.iter_mut().for_each(|v| map_json(v, ids)),
                _ => {}
            }
        }
        self.path = self.path.split('/').map(|seg| ids.get(seg).map(String::as_str).unwrap_or(seg)).collect::<Vec<_>>().join("/");
        let pairs = |p: &mut Vec<(String, String)>| {
            for (_, v) in p.iter_mut() {
                if let Some(n) = ids.get(v.as_str()) {
                    *v = n.clone();
                }
            }
        };
        pairs(&mut self.query);
        match &mut self.body {
            ReplayBody::Form(p) => pairs(p),
            ReplayBody::Json(j) => map_json(j, ids),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_are_redacted_in_headers_bodies_and_queries() {
        let h = recorded_headers(
            [
                ("Authorization", b"Bearer k1".as_slice()),
                ("x-acs-dingtalk-access-token", b"t1"),
                ("Content-Type", b"application/json"),
                ("Host", b"x"),
            ]
            .into_iter(),
        );
        assert_eq!(h.get("authorization").map(String::as_str), Some("Bearer ***"));
        assert_eq!(h.get("x-acs-dingtalk-access-token").map(String::as_str), Some("***"));
        assert_eq!(h.get("content-type").map(String::as_str), Some("application/json"));
        assert!(!h.contains_key("host"));
        assert_eq!(Payload::of(br#"{"appKey":"k","appSecret":"s"}"#), Payload::Json(json!({"appKey": "k", "appSecret": "***"})));
        assert_eq!(Payload::of(b"client_id=a&client_secret=s"), Payload::Text("client_id=a&client_secret=***".into()));
        assert_eq!(recorded_query("systemToken=abc&appType=A"), "systemToken=***&appType=A");
        assert_eq!(Payload::of(&[0xff, 0xfe]), Payload::Base64("//4=".into()));
    }

    #[test]
    fn a_replay_fills_only_what_was_redacted_and_maps_ids() {
        let e = Exchange {
            seq: 1,
            time: String::new(),
            platform: None,
            route: None,
            method: "POST".into(),
            path: "/a/FINST-1/b".into(),
            query: "systemToken=***&id=FINST-1".into(),
            request_headers: [("authorization".to_owned(), "Bearer ***".to_owned())].into(),
            request_body: Payload::Json(json!({"x": {"systemToken": "***"}, "appSecret": "given", "ids": ["FINST-1"]})),
            status: 200,
            response_headers: BTreeMap::new(),
            response_body: Payload::None,
            duration_ms: 0.0,
        };
        let mut r = Replay::of(&e);
        r.fill("systemToken", "T");
        r.fill("appSecret", "S");
        assert!(r.fill_header("Authorization", "Bearer K"));
        r.map_ids(&[("FINST-1".to_owned(), "FINST-9".to_owned())].into());
        assert_eq!(r.path, "/a/FINST-9/b");
        assert_eq!(r.query, vec![("systemToken".to_owned(), "T".to_owned()), ("id".to_owned(), "FINST-9".to_owned())]);
        assert_eq!(r.header("authorization"), Some("Bearer K"));
        match r.body {
            ReplayBody::Json(v) => assert_eq!(v, json!({"x": {"systemToken": "T"}, "appSecret": "given", "ids": ["FINST-9"]})),
            other => panic!("{other:?}"),
        }
    }
}
