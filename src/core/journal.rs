//! Bounded request journal: a ring of the last N requests with their responses.
//!
//! Bodies are kept as `Bytes` (a refcount bump, no copy) and only turned into JSON when someone reads
//! the journal, so recording costs little on the hot path. The ring is bounded twice: by entries and by
//! the bytes of the bodies it keeps alive, so a load test of 70 KB list pages cannot pin gigabytes.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use parking_lot::Mutex;
use serde_json::{json, Value};

use super::clock::{iso_utc_ms, Millis};

#[derive(Debug, Clone)]
pub struct JournalEntry {
    pub id: u64,
    pub time_ms: Millis,
    pub namespace: String,
    pub platform: &'static str,
    pub route: &'static str,
    pub method: hyper::Method,
    pub path: String,
    pub query: String,
    pub status: u16,
    pub duration_us: u64,
    pub request_body: Bytes,
    pub response_body: Bytes,
    pub fault: Option<String>,
    /// What the fault rule did (`error rate_limited`, `delay 300 ms` …).
    pub fault_action: Option<String>,
}

/// What a journal reader sees of credentials.
#[derive(Debug, Clone, Copy)]
pub enum Secrets<'a> {
    /// Values of these fields (JSON keys at any depth, form and query parameters) read `"***"`.
    Redact(&'a [&'a str]),
    Show,
}

/// What a redacted value reads.
pub const REDACTED: &str = "***";

impl JournalEntry {
    pub fn to_json(&self, secrets: Secrets) -> Value {
        let fields: &[&str] = match secrets {
            Secrets::Redact(f) => f,
            Secrets::Show => &[],
        };
        json!({
            "id": self.id,
            "time": iso_utc_ms(self.time_ms),
            "namespace": self.namespace,
            "platform": self.platform,
            "route": self.route,
            "method": self.method.as_str(),
            "path": self.path,
            "query": redact_form(&self.query, fields).unwrap_or_else(|| self.query.clone()),
            "status": self.status,
            "duration_ms": self.duration_us as f64 / 1000.0,
            "request_body": body_json(&self.request_body, fields),
            "response_body": body_json(&self.response_body, fields),
            "fault": self.fault,
            "fault_action": self.fault_action,
        })
    }
}

/// JSON bodies are shown as JSON, anything else as (lossy) text, empty as null; secret fields redacted.
fn body_json(b: &Bytes, secrets: &[&str]) -> Value {
    if b.is_empty() {
        return Value::Null;
    }
    match serde_json::from_slice(b) {
        Ok(mut v) => {
            redact_json(&mut v, secrets);
            v
        }
        Err(_) => {
            let text = String::from_utf8_lossy(b);
            Value::String(redact_form(&text, secrets).unwrap_or_else(|| text.into_owned()))
        }
    }
}

fn is_secret(key: &str, secrets: &[&str]) -> bool {
    secrets.iter().any(|s| s.eq_ignore_ascii_case(key))
}

pub fn redact_json(v: &mut Value, secrets: &[&str]) {
    if secrets.is_empty() {
        return;
    }
    match v {
        Value::Object(m) => {
            for (k, v) in m.iter_mut() {
                if is_secret(k, secrets) && !v.is_null() {
                    *v = Value::String(REDACTED.to_owned());
                } else {
                    redact_json(v, secrets);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|v| redact_json(v, secrets)),
        _ => {}
    }
}

/// A urlencoded text with secret parameters replaced, or `None` when it has none (shown unchanged).
pub fn redact_form(text: &str, secrets: &[&str]) -> Option<String> {
    if secrets.is_empty() || !text.contains('=') || text.contains(char::is_whitespace) {
        return None;
    }
    let pairs: Vec<(String, String)> = form_urlencoded::parse(text.as_bytes()).into_owned().collect();
    if !pairs.iter().any(|(k, _)| is_secret(k, secrets)) {
        return None;
    }
    let mut out = form_urlencoded::Serializer::new(String::new());
    for (k, v) in &pairs {
        out.append_pair(k, if is_secret(k, secrets) { REDACTED } else { v });
    }
    Some(out.finish())
}

/// Which entries a reader wants.
#[derive(Debug, Default, Clone)]
pub struct JournalFilter {
    pub platform: Option<String>,
    pub route: Option<String>,
    pub namespace: Option<String>,
    pub status: Option<u16>,
    pub since_id: Option<u64>,
    pub since_ms: Option<Millis>,
}

impl JournalFilter {
    fn accepts(&self, e: &JournalEntry) -> bool {
        self.platform.as_deref().is_none_or(|p| p == e.platform)
            && self.route.as_deref().is_none_or(|r| r == e.route)
            && self.namespace.as_deref().is_none_or(|n| n == e.namespace)
            && self.status.is_none_or(|s| s == e.status)
            && self.since_id.is_none_or(|id| e.id > id)
            && self.since_ms.is_none_or(|t| e.time_ms >= t)
    }
}

#[derive(Debug)]
pub struct Journal {
    ring: Mutex<Ring>,
    capacity: usize,
    max_bytes: usize,
    next_id: AtomicU64,
}

#[derive(Debug, Default)]
struct Ring {
    entries: VecDeque<JournalEntry>,
    /// Request and response body bytes held by `entries`.
    bytes: usize,
}

fn body_bytes(e: &JournalEntry) -> usize {
    e.request_body.len() + e.response_body.len()
}

impl Journal {
    /// A ring of at most `capacity` entries whose bodies total at most `max_bytes` (the newest entry is
    /// kept whatever its size).
    pub fn new(capacity: usize, max_bytes: usize) -> Self {
        let ring = Ring { entries: VecDeque::with_capacity(capacity.min(4096)), bytes: 0 };
        Self { ring: Mutex::new(ring), capacity, max_bytes, next_id: AtomicU64::new(1) }
    }

    fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Appends an entry. Its id is given here, under the lock, so ids grow along the ring (readers
    /// binary-search them); whatever id the caller set is replaced.
    pub fn record(&self, mut entry: JournalEntry) {
        if self.capacity == 0 {
            return;
        }
        let mut ring = self.ring.lock();
        entry.id = self.next_id();
        ring.bytes += body_bytes(&entry);
        ring.entries.push_back(entry);
        while ring.entries.len() > self.capacity || (ring.bytes > self.max_bytes && ring.entries.len() > 1) {
            let Some(old) = ring.entries.pop_front() else { break };
            ring.bytes -= body_bytes(&old);
        }
    }

    /// Matching entries, oldest first.
    pub fn list(&self, filter: &JournalFilter) -> Vec<JournalEntry> {
        self.newest(filter, usize::MAX)
    }

    /// The newest `limit` matching entries, oldest first. Entries after `since_id` are found by
    /// binary search (ids only grow), so a live view polling for what is new costs little.
    pub fn newest(&self, filter: &JournalFilter, limit: usize) -> Vec<JournalEntry> {
        let ring = self.ring.lock();
        let from = filter.since_id.map_or(0, |id| ring.entries.partition_point(|e| e.id <= id));
        let mut out: Vec<JournalEntry> = ring.entries.range(from..).rev().filter(|e| filter.accepts(e)).take(limit).cloned().collect();
        drop(ring);
        out.reverse();
        out
    }

    pub fn count(&self, filter: &JournalFilter) -> usize {
        self.ring.lock().entries.iter().filter(|e| filter.accepts(e)).count()
    }

    /// Drops matching entries (all when the filter is empty); returns how many.
    pub fn clear(&self, filter: &JournalFilter) -> usize {
        let mut ring = self.ring.lock();
        let before = ring.entries.len();
        ring.entries.retain(|e| !filter.accepts(e));
        ring.bytes = ring.entries.iter().map(body_bytes).sum();
        before - ring.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn entry(route: &'static str) -> JournalEntry {
        JournalEntry {
            id: 0,
            time_ms: 0,
            namespace: String::new(),
            platform: "acme",
            route,
            method: hyper::Method::POST,
            path: "/x".into(),
            query: String::new(),
            status: 200,
            duration_us: 10,
            request_body: Bytes::from_static(b"{\"a\":1}"),
            response_body: Bytes::new(),
            fault: None,
            fault_action: None,
        }
    }

    #[test]
    fn ring_is_bounded_and_filters() {
        let j = Journal::new(3, usize::MAX);
        for r in ["a", "b", "a", "b"] {
            j.record(entry(r));
        }
        let all = j.list(&JournalFilter::default());
        assert_eq!(all.iter().map(|e| e.id).collect::<Vec<_>>(), vec![2, 3, 4]);
        let f = JournalFilter { route: Some("a".into()), ..Default::default() };
        assert_eq!(j.count(&f), 1);
        assert_eq!(all[0].to_json(Secrets::Show)["request_body"]["a"], 1);
    }

    #[test]
    fn ring_is_bounded_by_body_bytes() {
        // Each entry carries a 7-byte request body.
        let j = Journal::new(100, 20);
        for _ in 0..4 {
            j.record(entry("a"));
        }
        assert_eq!(j.list(&JournalFilter::default()).iter().map(|e| e.id).collect::<Vec<_>>(), vec![3, 4]);
        let mut big = entry("a");
        big.response_body = Bytes::from(vec![b' '; 1000]);
        j.record(big);
        assert_eq!(j.list(&JournalFilter::default()).iter().map(|e| e.id).collect::<Vec<_>>(), vec![5], "the newest entry stays");
        j.clear(&JournalFilter::default());
        j.record(entry("a"));
        j.record(entry("a"));
        assert_eq!(j.count(&JournalFilter::default()), 2, "clearing gives the bytes back");
    }

    #[test]
    fn secrets_are_redacted_unless_shown() {
        let mut e = entry("r");
        e.query = "client_id=a&client_secret=s1&x=1".into();
        e.request_body = Bytes::from_static(b"grant_type=client_credentials&client_secret=s2");
        e.response_body = Bytes::from_static(br#"{"access_token":"s3","nested":[{"Security":"s4"}],"n":null,"other":"keep"}"#);
        let secrets: &[&str] = &["client_secret", "access_token", "security"];
        let v = e.to_json(Secrets::Redact(secrets));
        let text = v.to_string();
        for s in ["s1", "s2", "s3", "s4"] {
            assert!(!text.contains(&format!("\"{s}\"")) && !text.contains(&format!("={s}")), "{s} leaked: {text}");
        }
        assert_eq!(v["query"], "client_id=a&client_secret=***&x=1");
        assert_eq!(v["response_body"]["other"], "keep");
        assert_eq!(v["response_body"]["n"], Value::Null);
        let shown = e.to_json(Secrets::Show);
        assert_eq!(shown["response_body"]["access_token"], "s3");
        assert_eq!(e.to_json(Secrets::Redact(&["nothing"]))["query"], "client_id=a&client_secret=s1&x=1", "unchanged when nothing matches");
    }

    mod props {
        use proptest::prelude::*;

        use super::super::*;
        use crate::core::arb_json::{arb_json, cases};

        const SECRETS: &[&str] = &["token", "client_secret", "security"];
        const MARK: &str = "S3CR3T";

        /// The value of every secret key, at any depth, in any body; empty when none.
        fn secret_values(v: &Value, out: &mut Vec<String>) {
            match v {
                Value::Object(m) => {
                    for (k, v) in m {
                        if SECRETS.iter().any(|s| s.eq_ignore_ascii_case(k)) && !v.is_null() {
                            out.push(v.to_string());
                        }
                        secret_values(v, out);
                    }
                }
                Value::Array(a) => a.iter().for_each(|v| secret_values(v, out)),
                _ => {}
            }
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: cases(1000), ..ProptestConfig::default() })]

            /// Any JSON body: no panic, and no secret key keeps its value.
            #[test]
            fn json_bodies_never_keep_a_secret(v in arb_json("[a-zA-Z0-9 ]{0,8}", &[MARK], SECRETS)) {
                let mut e = tests::entry("r");
                e.request_body = Bytes::from(v.to_string());
                let shown = e.to_json(Secrets::Redact(SECRETS));
                let mut left = Vec::new();
                secret_values(&shown["request_body"], &mut left);
                prop_assert!(left.iter().all(|s| s == &format!("\"{REDACTED}\"")), "{left:?}");
            }

            /// Any text as a body or query: no panic, and a form's secret parameters never show.
            #[test]
            fn form_text_never_keeps_a_secret(text in "([a-z_]{1,13}=[A-Za-z0-9%+]{0,6}&?){0,6}", raw in ".{0,40}") {
                let mut e = tests::entry("r");
                e.query = format!("{text}&client_secret={MARK}");
                e.request_body = Bytes::from(raw);
                let shown = e.to_json(Secrets::Redact(SECRETS));
                prop_assert!(!shown["query"].as_str().unwrap_or_default().contains(MARK), "{}", shown["query"]);
            }
        }
    }
}
