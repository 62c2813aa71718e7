//! An HTTP call a scenario defines and a platform makes on a user's behalf: an Astro Zero Rest
//! action, a Yida automation's HTTP connector. Its URL, parameters and headers are templates over
//! the variables of the moment; [`HttpCall::request`] renders them into the [`OutRequest`] the outbox
//! sends.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::outbound::OutRequest;
use super::template::{render, render_map, text, Special};

/// Whether `url` is one the emulator can call: plain HTTP and well-formed. The message says what
/// was expected, for scenario checks.
pub fn check_url(url: &str) -> Result<(), String> {
    if url.starts_with("http://") && url.parse::<hyper::Uri>().is_ok() {
        return Ok(());
    }
    Err(format!("expected an http:// URL (the emulator sends plain HTTP), got {url:?}"))
}

/// The methods a call may use.
pub const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE"];

/// Longest time a call may be given to answer.
pub const MAX_TIMEOUT_MS: u64 = 120_000;

#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HttpCall {
    /// `http://…`, a template (the emulator sends plain HTTP; loopback in tests).
    pub url: String,
    /// `GET`, `POST` (default), `PUT`, `PATCH` or `DELETE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// The parameters, each a template: the JSON body, or the query string of a `GET`. Without it,
    /// the platform's default (every variable).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Map<String, Value>>,
    /// Request headers (the service's authentication, say), each a template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headers: Option<Map<String, Value>>,
    /// Where the platform goes on with the answer: variable ← key path in the JSON answer
    /// (`data.items.0.id`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub outputs: BTreeMap<String, String>,
    /// How long the service may take (the platform's default otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
}

impl HttpCall {
    /// What a scenario check reports before the call is ever made (`prefix` names the key).
    pub fn check(&self, prefix: &str) -> Result<(), String> {
        // The URL may hold templates: only its scheme is known before the call.
        if !self.url.starts_with("http://") {
            return Err(format!("{prefix}.url: expected an http:// URL (the emulator sends plain HTTP), got {:?}", self.url));
        }
        if let Some(m) = self.method.as_deref().filter(|m| !METHODS.contains(m)) {
            return Err(format!("{prefix}.method: expected one of {}, got {m:?}", METHODS.join(", ")));
        }
        if self.timeout_ms.is_some_and(|t| t == 0 || t > MAX_TIMEOUT_MS) {
            return Err(format!("{prefix}.timeout_ms: expected 1 to {MAX_TIMEOUT_MS}"));
        }
        Ok(())
    }

    /// The request, rendered over `vars`; `default_body` stands in when the call names no `body`.
    /// A GET sends the parameters percent-encoded in the query string; the others as a JSON object.
    pub fn request(&self, vars: &Map<String, Value>, special: Special, default_body: &Map<String, Value>) -> Result<OutRequest, String> {
        let url = text(&render(&Value::String(self.url.clone()), vars, special));
        check_url(&url).map_err(|e| format!("URL: {e}"))?;
        let params = match &self.body {
            Some(b) => render_map(b, vars, special),
            None => default_body.clone(),
        };
        let method = self.method.as_deref().and_then(|m| METHODS.iter().find(|k| **k == m)).copied().unwrap_or("POST");
        let mut headers: Vec<(String, String)> = self
            .headers
            .as_ref()
            .map(|h| render_map(h, vars, special).into_iter().map(|(k, v)| (k.to_ascii_lowercase(), text(&v))).collect())
            .unwrap_or_default();
        if method == "GET" {
            let query = form_urlencoded::Serializer::new(String::new()).extend_pairs(params.iter().map(|(k, v)| (k, text(v)))).finish();
            let url = match (query.is_empty(), url.contains('?')) {
                (true, _) => url,
                (false, true) => format!("{url}&{query}"),
                (false, false) => format!("{url}?{query}"),
            };
            return Ok(OutRequest { method, url, headers, body: String::new() });
        }
        if !headers.iter().any(|(k, _)| k == "content-type") {
            headers.push(("content-type".into(), "application/json".into()));
        }
        Ok(OutRequest { method, url, headers, body: Value::Object(params).to_string() })
    }

    /// The answer's values this call's `outputs` name, by variable (null where a path leads nowhere).
    pub fn outputs_of(&self, answer: &Value) -> Map<String, Value> {
        super::keypath::pick(&self.outputs, answer)
    }
}
