//! Bounded request journal: a ring of the last N requests with their responses.
//!
//! A request's texts and bodies are copied as bytes into the ring's chunks (see [`CHUNK`]) and only
//! turned into JSON when someone reads the journal, so recording costs a copy on the hot path and no
//! allocation. The ring is bounded twice: by entries and by the bytes of the bodies it keeps, so a
//! load test of 70 KB list pages cannot pin gigabytes.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use parking_lot::Mutex;
use serde_json::{json, Value};

use super::body::{detach_small, Body};
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

#[derive(Debug)]
pub struct Journal {
    ring: Mutex<Ring>,
    capacity: usize,
    max_bytes: usize,
    next_id: AtomicU64,
}

/// One finished request as the pipeline hands it over, borrowed: [`Journal::record`] copies its texts
/// and bodies into the ring.
#[derive(Debug, Clone, Copy)]
pub struct Exchange<'a> {
    pub time_ms: Millis,
    pub namespace: &'a str,
    pub platform: &'static str,
    pub route: &'static str,
    pub method: &'a hyper::Method,
    pub path: &'a str,
    pub query: &'a str,
    pub status: u16,
    pub duration_us: u64,
    pub request_body: &'a Bytes,
    pub response_body: &'a Body,
    pub fault: Option<&'a str>,
    pub fault_action: Option<&'a str>,
}

/// Where the texts of recorded requests live: chunks of [`CHUNK`] bytes (or one request's size when
/// larger), filled in order and freed from the front once no kept entry points into them.
///
/// Why copies and not the requests' own `Bytes`: keeping a response alive in the journal promotes its
/// buffer to a shared one (an allocation per request), and freeing it ten thousand requests later
/// touches memory long out of cache; copying a few hundred bytes into the chunk being filled is
/// cheaper on the request path, and the request's own buffers go back to the allocator while hot.
/// Bodies larger than [`SHARE_OVER`] (a page of a hundred records) are kept as the request's own
/// `Bytes` instead: there the copy would cost more than the sharing.
const CHUNK: usize = 64 * 1024;

/// Request and response bodies together longer than this are shared, not copied (see [`CHUNK`]).
const SHARE_OVER: usize = 2048;

#[derive(Debug)]
struct Chunk {
    seq: u64,
    bytes: Vec<u8>,
}

/// A recorded request; its texts are `lens` bytes each, back to back at `at` in chunk `chunk`:
/// namespace, path, query, request body, response body.
#[derive(Debug)]
struct Slot {
    id: u64,
    time_ms: Millis,
    platform: &'static str,
    route: &'static str,
    method: hyper::Method,
    status: u16,
    duration_us: u64,
    fault: Option<Box<(String, Option<String>)>>,
    /// The request and response bodies when they are shared rather than copied (their `lens` are 0).
    shared: Option<Box<(Bytes, Body)>>,
    chunk: u64,
    at: usize,
    lens: [usize; 5],
}

impl Slot {
    fn body_bytes(&self) -> usize {
        self.lens[3] + self.lens[4] + self.shared.as_ref().map_or(0, |b| b.0.len() + b.1.len())
    }

    /// A copy of the slot (to move into another ring).
    fn duplicate(&self) -> Slot {
        Slot { fault: self.fault.clone(), shared: self.shared.clone(), method: self.method.clone(), ..*self }
    }
}

#[derive(Debug, Default)]
struct Ring {
    slots: VecDeque<Slot>,
    chunks: VecDeque<Chunk>,
    next_chunk: u64,
    /// Request and response body bytes held by `slots`.
    bytes: usize,
}

impl Ring {
    /// Copies `parts` back to back into the chunk being filled (a new one when they do not fit);
    /// answers the chunk and offset.
    fn store(&mut self, parts: [&[u8]; 5]) -> (u64, usize) {
        let need: usize = parts.iter().map(|p| p.len()).sum();
        self.store_with(need, |bytes| parts.iter().for_each(|p| bytes.extend_from_slice(p)))
    }

    /// Has `write` append `need` bytes to the chunk being filled (a new one when they do not fit);
    /// answers the chunk and offset.
    fn store_with(&mut self, need: usize, write: impl FnOnce(&mut Vec<u8>)) -> (u64, usize) {
        let fits = self.chunks.back().is_some_and(|c| c.bytes.capacity() - c.bytes.len() >= need);
        if !fits {
            let seq = self.next_chunk;
            self.next_chunk += 1;
            self.chunks.push_back(Chunk { seq, bytes: Vec::with_capacity(need.max(CHUNK)) });
        }
        let Some(chunk) = self.chunks.back_mut() else { unreachable!("a chunk was just ensured") };
        let at = chunk.bytes.len();
        write(&mut chunk.bytes);
        (chunk.seq, at)
    }

    /// The five texts of a slot (empty if its chunk is gone, which eviction order rules out).
    fn parts(&self, s: &Slot) -> [&[u8]; 5] {
        let first = self.chunks.front().map_or(0, |c| c.seq);
        let chunk = s.chunk.checked_sub(first).and_then(|i| self.chunks.get(i as usize));
        let mut out: [&[u8]; 5] = [&[]; 5];
        if let Some(chunk) = chunk {
            let mut at = s.at;
            for (o, len) in out.iter_mut().zip(s.lens) {
                *o = chunk.bytes.get(at..at + len).unwrap_or_default();
                at += len;
            }
        }
        out
    }

    fn namespace(&self, s: &Slot) -> &str {
        std::str::from_utf8(self.parts(s)[0]).unwrap_or_default()
    }

    /// Frees the chunks before the oldest kept slot's.
    fn free_chunks(&mut self) {
        match self.slots.front().map(|s| s.chunk) {
            None => self.chunks.clear(),
            Some(oldest) => {
                while self.chunks.front().is_some_and(|c| c.seq < oldest) {
                    self.chunks.pop_front();
                }
            }
        }
    }

    fn entry(&self, s: &Slot) -> JournalEntry {
        let [namespace, path, query, request, response] = self.parts(s);
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        let (request_body, response_body) = match &s.shared {
            Some(bodies) => (bodies.0.clone(), bodies.1.to_bytes()),
            None => (Bytes::copy_from_slice(request), Bytes::copy_from_slice(response)),
        };
        JournalEntry {
            id: s.id,
            time_ms: s.time_ms,
            namespace: text(namespace),
            platform: s.platform,
            route: s.route,
            method: s.method.clone(),
            path: text(path),
            query: text(query),
            status: s.status,
            duration_us: s.duration_us,
            request_body,
            response_body,
            fault: s.fault.as_ref().map(|f| f.0.clone()),
            fault_action: s.fault.as_ref().and_then(|f| f.1.clone()),
        }
    }
}

impl JournalFilter {
    fn accepts_slot(&self, ring: &Ring, s: &Slot) -> bool {
        self.platform.as_deref().is_none_or(|p| p == s.platform)
            && self.route.as_deref().is_none_or(|r| r == s.route)
            && self.status.is_none_or(|st| st == s.status)
            && self.since_id.is_none_or(|id| s.id > id)
            && self.since_ms.is_none_or(|t| s.time_ms >= t)
            && self.namespace.as_deref().is_none_or(|n| n == ring.namespace(s))
    }
}

impl Journal {
    /// A ring of at most `capacity` entries whose bodies total at most `max_bytes` (the newest entry is
    /// kept whatever its size).
    pub fn new(capacity: usize, max_bytes: usize) -> Self {
        let ring = Ring { slots: VecDeque::with_capacity(capacity.min(4096)), ..Ring::default() };
        Self { ring: Mutex::new(ring), capacity, max_bytes, next_id: AtomicU64::new(1) }
    }

    fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Appends a request. Its id is given here, under the lock, so ids grow along the ring (readers
    /// binary-search them).
    pub fn record(&self, e: Exchange) {
        if self.capacity == 0 {
            return;
        }
        let share = e.request_body.len() + e.response_body.len() > SHARE_OVER;
        let (request, response) = if share { (&[][..], 0) } else { (&e.request_body[..], e.response_body.len()) };
        let texts = [e.namespace.as_bytes(), e.path.as_bytes(), e.query.as_bytes(), request];
        let mut ring = self.ring.lock();
        let (chunk, at) = ring.store_with(texts.iter().map(|t| t.len()).sum::<usize>() + response, |bytes| {
            texts.iter().for_each(|t| bytes.extend_from_slice(t));
            if !share {
                e.response_body.copy_into(bytes);
            }
        });
        let slot = Slot {
            id: self.next_id(),
            time_ms: e.time_ms,
            platform: e.platform,
            route: e.route,
            method: e.method.clone(),
            status: e.status,
            duration_us: e.duration_us,
            fault: e.fault.map(|f| Box::new((f.to_owned(), e.fault_action.map(str::to_owned)))),
            shared: share.then(|| Box::new((detach_small(e.request_body), e.response_body.clone()))),
            chunk,
            at,
            lens: [e.namespace.len(), e.path.len(), e.query.len(), request.len(), response],
        };
        ring.bytes += slot.body_bytes();
        ring.slots.push_back(slot);
        let mut evicted = false;
        while ring.slots.len() > self.capacity || (ring.bytes > self.max_bytes && ring.slots.len() > 1) {
            let Some(old) = ring.slots.pop_front() else { break };
            ring.bytes -= old.body_bytes();
            evicted = true;
        }
        if evicted {
            ring.free_chunks();
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
        let from = filter.since_id.map_or(0, |id| ring.slots.partition_point(|s| s.id <= id));
        let mut out: Vec<JournalEntry> =
            ring.slots.range(from..).rev().filter(|s| filter.accepts_slot(&ring, s)).take(limit).map(|s| ring.entry(s)).collect();
        drop(ring);
        out.reverse();
        out
    }

    pub fn count(&self, filter: &JournalFilter) -> usize {
        let ring = self.ring.lock();
        ring.slots.iter().filter(|s| filter.accepts_slot(&ring, s)).count()
    }

    /// Drops matching entries (all when the filter is empty); returns how many. The kept entries'
    /// texts are copied into fresh chunks, so what was dropped gives its memory back at once.
    pub fn clear(&self, filter: &JournalFilter) -> usize {
        let mut ring = self.ring.lock();
        let old = std::mem::take(&mut *ring);
        let before = old.slots.len();
        ring.next_chunk = old.next_chunk;
        for mut s in old.slots.iter().filter(|s| !filter.accepts_slot(&old, s)).map(Slot::duplicate) {
            let (chunk, at) = ring.store(old.parts(&s));
            (s.chunk, s.at) = (chunk, at);
            ring.bytes += s.body_bytes();
            ring.slots.push_back(s);
        }
        before - ring.slots.len()
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

    impl JournalEntry {
        /// The entry as the pipeline hands it over, its response as `response`.
        pub(super) fn exchange_with<'a>(&'a self, response: &'a Body) -> Exchange<'a> {
            Exchange {
                time_ms: self.time_ms,
                namespace: &self.namespace,
                platform: self.platform,
                route: self.route,
                method: &self.method,
                path: &self.path,
                query: &self.query,
                status: self.status,
                duration_us: self.duration_us,
                request_body: &self.request_body,
                response_body: response,
                fault: self.fault.as_deref(),
                fault_action: self.fault_action.as_deref(),
            }
        }
    }

    #[test]
    fn ring_is_bounded_and_filters() {
        let j = Journal::new(3, usize::MAX);
        for r in ["a", "b", "a", "b"] {
            j.record(entry(r).exchange_with(&Body::default()));
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
            j.record(entry("a").exchange_with(&Body::default()));
        }
        assert_eq!(j.list(&JournalFilter::default()).iter().map(|e| e.id).collect::<Vec<_>>(), vec![3, 4]);
        let mut big = entry("a");
        big.response_body = Bytes::from(vec![b' '; 1000]);
        j.record(big.exchange_with(&big.response_body.clone().into()));
        assert_eq!(j.list(&JournalFilter::default()).iter().map(|e| e.id).collect::<Vec<_>>(), vec![5], "the newest entry stays");
        j.clear(&JournalFilter::default());
        j.record(entry("a").exchange_with(&Body::default()));
        j.record(entry("a").exchange_with(&Body::default()));
        assert_eq!(j.count(&JournalFilter::default()), 2, "clearing gives the bytes back");
    }

    /// Small bodies are copied into chunks, large ones shared; either reads back whole, across chunk
    /// boundaries, after eviction frees chunks, and after a filtered clear moves what is kept.
    #[test]
    fn texts_and_bodies_read_back_whole() {
        let j = Journal::new(200, usize::MAX);
        let mut sent = Vec::new();
        for i in 0..150usize {
            let mut e = entry(if i % 2 == 0 { "even" } else { "odd" });
            e.namespace = format!("ns{}", i % 3);
            e.path = format!("/p/{i}");
            e.query = "q=".repeat(i % 5);
            // Bodies from a few bytes to well past the share threshold and one chunk.
            e.request_body = Bytes::from(vec![b'a' + (i % 26) as u8; (i * 37) % 3000]);
            e.response_body = Bytes::from(vec![b'z'; if i % 10 == 0 { CHUNK + 10 } else { i }]);
            // Every other response is sent as pieces (a page of printed records).
            let response = if i % 2 == 1 {
                let r = &e.response_body;
                Body::pieces(vec![r.slice(..r.len() / 3), Bytes::new(), r.slice(r.len() / 3..)])
            } else {
                Body::Whole(e.response_body.clone())
            };
            j.record(e.exchange_with(&response));
            sent.push(e);
        }
        let fields =
            |e: &JournalEntry| (e.namespace.clone(), e.path.clone(), e.query.clone(), e.request_body.clone(), e.response_body.clone());
        let got: Vec<_> = j.list(&JournalFilter::default()).iter().map(fields).collect();
        assert_eq!(got, sent.iter().map(fields).collect::<Vec<_>>());
        let ns1 = JournalFilter { namespace: Some("ns1".into()), ..Default::default() };
        assert_eq!(j.count(&ns1), 50);
        assert_eq!(j.clear(&JournalFilter { route: Some("even".into()), ..Default::default() }), 75);
        let got: Vec<_> = j.list(&JournalFilter::default()).iter().map(fields).collect();
        let odd: Vec<_> = sent.iter().filter(|e| e.route == "odd").map(fields).collect();
        assert_eq!(got, odd);
        // Eviction by count frees the oldest entries and their chunks; the rest still read back.
        for e in &sent[..125] {
            j.record(e.exchange_with(&e.response_body.clone().into()));
        }
        let got: Vec<_> = j.list(&JournalFilter::default()).iter().map(fields).collect();
        let mut want: Vec<_> = odd.clone();
        want.extend(sent[..125].iter().map(fields));
        assert_eq!(got, want[want.len() - 200..].to_vec());
        assert!(j.ring.lock().chunks.len() < 20, "chunks of evicted entries are freed");
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
