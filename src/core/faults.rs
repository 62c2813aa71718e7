//! Fault rules: make a platform fail, slow down, throttle, drop or truncate — on demand.
//!
//! A rule matches by platform, route id (`*`, or a prefix ending in `*`) and optional equality on
//! request fields; a trigger (`nth`, `every`, `after`, `probability`, `rate_limit`) decides whether a
//! matching call fires it, `times` bounds how often. Rules are evaluated in order and the first that
//! fires wins. Probabilities come from a stream seeded by the scenario seed, so runs are reproducible.

use parking_lot::Mutex;
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::clock::Millis;
use super::ratelimit::RateWindows;

/// One rule as written in `[[faults]]` or posted to `/__emu/faults`.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FaultDef {
    /// Shown in the journal and `GET /__emu/faults` (default `fault-<n>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// Route id, `*` for any, or a prefix such as `jiandaoyun.data.*`.
    #[serde(default = "any_route")]
    pub route: String,
    /// Equality on request fields (JSON body, form fields, query string, path parameters).
    #[serde(default, rename = "match", skip_serializing_if = "Map::is_empty")]
    pub matches: Map<String, Value>,
    /// Fire on the n-th matching call only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nth: Option<u64>,
    /// Fire on every k-th matching call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub every: Option<u64>,
    /// Fire on every matching call after the first N.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<u64>,
    /// Fire with this probability (0–1), from the seeded stream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability: Option<f64>,
    /// Fire at most this many times.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u64>,
    /// A named error of the platform's error table (`rate_limited`, `unauthorized`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// A raw response: status, body (JSON or string) and headers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub headers: Map<String, Value>,
    /// Delay before answering (the normal answer, unless another action is set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jitter_ms: Option<u64>,
    /// Close the connection without answering.
    #[serde(default, skip_serializing_if = "is_false")]
    pub disconnect: bool,
    /// Send the headers and half the body, then close.
    #[serde(default, skip_serializing_if = "is_false")]
    pub truncate: bool,
    /// Throttle: calls beyond N per second (emulator clock) get the platform's `rate_limited` error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimitDef>,
    /// Deliveries only (`route = "delivery.…"`): send the delivery twice.
    #[serde(default, skip_serializing_if = "is_false")]
    pub duplicate: bool,
    /// Deliveries only: hold the delivery back until the next one to the same target has gone.
    #[serde(default, skip_serializing_if = "is_false")]
    pub reorder: bool,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RateLimitDef {
    pub per_second: u32,
}

fn any_route() -> String {
    "*".into()
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl FaultDef {
    /// Checks what a rule can check on its own; platform-specific names are checked by the caller.
    pub fn validate(&self) -> Result<(), String> {
        if let Some(p) = self.probability {
            if !(0.0..=1.0).contains(&p) {
                return Err(format!("probability must be between 0 and 1, got {p}"));
            }
        }
        if self.nth == Some(0) || self.every == Some(0) {
            return Err("nth and every count from 1".into());
        }
        if self.rate_limit.as_ref().is_some_and(|r| r.per_second == 0) {
            return Err("rate_limit.per_second must be at least 1".into());
        }
        let actions = [
            self.error.is_some(),
            self.status.is_some(),
            self.disconnect,
            self.truncate,
            self.rate_limit.is_some(),
            self.duplicate,
            self.reorder,
        ]
        .iter()
        .filter(|a| **a)
        .count();
        if actions > 1 {
            return Err("choose one of error, status (+ body, headers), disconnect, truncate, rate_limit, duplicate, reorder".into());
        }
        if actions == 0 && self.delay_ms.is_none() {
            return Err("a fault needs an action: error, status, delay_ms, disconnect, truncate, rate_limit, duplicate or reorder".into());
        }
        let delivery = self.route.starts_with("delivery.");
        if delivery && (self.error.is_some() || self.truncate || self.rate_limit.is_some()) {
            return Err("a delivery fault takes status (the receiver's answer), delay_ms, disconnect (drop), duplicate or reorder".into());
        }
        if !delivery && (self.duplicate || self.reorder) {
            return Err("duplicate and reorder apply to deliveries: route = \"delivery.<platform>.<event>\" (or \"delivery.*\")".into());
        }
        if self.body.is_some() && self.status.is_none() {
            return Err("body needs a status".into());
        }
        if self.route.is_empty() {
            return Err("route must be a route id, a prefix ending in *, or *".into());
        }
        Ok(())
    }

    fn route_matches(&self, route: &str) -> bool {
        match self.route.strip_suffix('*') {
            Some(prefix) => route.starts_with(prefix),
            None => self.route == route,
        }
    }
}

/// What a firing rule does to the call.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Answer normally (after the delay).
    Pass,
    Error(String),
    Raw {
        status: u16,
        body: Option<Value>,
        headers: Map<String, Value>,
    },
    Disconnect,
    Truncate,
    Duplicate,
    Reorder,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Firing {
    pub rule: String,
    pub delay_ms: u64,
    pub action: Action,
}

impl Firing {
    /// What the rule did, for the journal: `error rate_limited`, `status 503`, `disconnect`, `delay 300 ms` …
    pub fn describe(&self) -> String {
        let what = match &self.action {
            Action::Pass => String::new(),
            Action::Error(name) => format!("error {name}"),
            Action::Raw { status, .. } => format!("status {status}"),
            Action::Disconnect => "disconnect".into(),
            Action::Truncate => "truncate".into(),
            Action::Duplicate => "duplicate".into(),
            Action::Reorder => "reorder".into(),
        };
        match (self.delay_ms, what.is_empty()) {
            (0, true) => "pass".into(),
            (0, false) => what,
            (d, true) => format!("delay {d} ms"),
            (d, false) => format!("delay {d} ms, {what}"),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct RuleView {
    pub id: String,
    #[serde(flatten)]
    pub def: FaultDef,
    pub matched: u64,
    pub fired: u64,
}

#[derive(Debug)]
struct Rule {
    id: String,
    def: FaultDef,
    matched: u64,
    fired: u64,
}

#[derive(Debug)]
pub struct Faults {
    rules: Mutex<(Vec<Rule>, u64)>,
    rng: Mutex<ChaCha8Rng>,
    windows: RateWindows,
}

/// Rules with their counters and the probability stream, for state export.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FaultsState {
    pub seq: u64,
    pub rules: Vec<RuleState>,
    pub rng: super::ids::RngState,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RuleState {
    pub id: String,
    pub def: FaultDef,
    pub matched: u64,
    pub fired: u64,
}

impl Faults {
    pub fn state(&self) -> FaultsState {
        let g = self.rules.lock();
        FaultsState {
            seq: g.1,
            rules: g.0.iter().map(|r| RuleState { id: r.id.clone(), def: r.def.clone(), matched: r.matched, fired: r.fired }).collect(),
            rng: super::ids::RngState::of(&self.rng.lock()),
        }
    }

    /// Takes `s`'s rules, counters and probability stream in place (the outbox shares this value).
    pub fn restore(&self, s: &FaultsState) -> bool {
        let Some(fresh) = Faults::from_state(s) else { return false };
        *self.rules.lock() = fresh.rules.into_inner();
        *self.rng.lock() = fresh.rng.into_inner();
        true
    }

    pub fn from_state(s: &FaultsState) -> Option<Faults> {
        let rules = s.rules.iter().map(|r| Rule { id: r.id.clone(), def: r.def.clone(), matched: r.matched, fired: r.fired }).collect();
        Some(Faults { rules: Mutex::new((rules, s.seq)), rng: Mutex::new(s.rng.restore()?), windows: RateWindows::default() })
    }

    pub fn new(seed: u64, defs: &[FaultDef]) -> Self {
        let f = Faults {
            rules: Mutex::new((Vec::new(), 0)),
            rng: Mutex::new(ChaCha8Rng::seed_from_u64(seed ^ 0xfa01_75ee)),
            windows: RateWindows::default(),
        };
        for d in defs {
            f.add(d.clone());
        }
        f
    }

    /// Adds a rule; returns its id.
    pub fn add(&self, def: FaultDef) -> String {
        let mut g = self.rules.lock();
        g.1 += 1;
        let id = def.name.clone().unwrap_or_else(|| format!("fault-{}", g.1));
        g.0.push(Rule { id: id.clone(), def, matched: 0, fired: 0 });
        id
    }

    pub fn list(&self) -> Vec<RuleView> {
        self.rules.lock().0.iter().map(|r| RuleView { id: r.id.clone(), def: r.def.clone(), matched: r.matched, fired: r.fired }).collect()
    }

    pub fn clear(&self) -> usize {
        let mut g = self.rules.lock();
        let n = g.0.len();
        g.0.clear();
        n
    }

    pub fn remove(&self, id: &str) -> bool {
        let mut g = self.rules.lock();
        let before = g.0.len();
        g.0.retain(|r| r.id != id);
        g.0.len() != before
    }

    pub fn is_empty(&self) -> bool {
        self.rules.lock().0.is_empty()
    }

    /// Counts the call against every matching rule and returns the first that fires.
    pub fn evaluate(&self, platform: &str, route: &str, field: &dyn Fn(&str) -> Option<Value>, now: Millis) -> Option<Firing> {
        let mut g = self.rules.lock();
        let mut fired = None;
        for r in g.0.iter_mut() {
            let d = &r.def;
            if d.platform.as_deref().is_some_and(|p| p != platform) || !d.route_matches(route) {
                continue;
            }
            if !d.matches.iter().all(|(k, want)| field(k).is_some_and(|got| loose_eq(&got, want))) {
                continue;
            }
            r.matched += 1;
            if fired.is_some() || d.times.is_some_and(|t| r.fired >= t) {
                continue;
            }
            let n = r.matched;
            let mut fires = d.nth.is_none_or(|k| n == k) && d.every.is_none_or(|k| n % k == 0) && d.after.is_none_or(|k| n > k);
            if fires {
                if let Some(p) = d.probability {
                    let x = (self.rng.lock().next_u64() >> 11) as f64 / (1u64 << 53) as f64;
                    fires = x < p;
                }
            }
            if fires {
                if let Some(rl) = &d.rate_limit {
                    fires = !self.windows.allow(&r.id, rl.per_second, now);
                }
            }
            if !fires {
                continue;
            }
            r.fired += 1;
            let jitter = d.jitter_ms.map(|j| self.rng.lock().next_u64() % (j + 1)).unwrap_or(0);
            let action = if let Some(e) = &d.error {
                Action::Error(e.clone())
            } else if d.rate_limit.is_some() {
                Action::Error("rate_limited".into())
            } else if let Some(status) = d.status {
                Action::Raw { status, body: d.body.clone(), headers: d.headers.clone() }
            } else if d.disconnect {
                Action::Disconnect
            } else if d.truncate {
                Action::Truncate
            } else if d.duplicate {
                Action::Duplicate
            } else if d.reorder {
                Action::Reorder
            } else {
                Action::Pass
            };
            fired = Some(Firing { rule: r.id.clone(), delay_ms: d.delay_ms.unwrap_or(0) + jitter, action });
        }
        fired
    }
}

fn loose_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(s), Value::Number(n)) | (Value::Number(n), Value::String(s)) => s.trim().parse::<f64>().ok() == n.as_f64(),
        (Value::String(s), Value::Bool(x)) | (Value::Bool(x), Value::String(s)) => s == &x.to_string(),
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn rule(v: Value) -> FaultDef {
        serde_json::from_value(v).expect("rule parses")
    }

    fn run(f: &Faults, n: usize) -> Vec<bool> {
        (0..n).map(|_| f.evaluate("acme", "acme.data.create", &|_| None, 0).is_some()).collect()
    }

    #[test]
    fn triggers() {
        let f = Faults::new(1, &[rule(json!({ "route": "acme.data.create", "nth": 2, "error": "rate_limited" }))]);
        assert_eq!(run(&f, 4), [false, true, false, false]);
        let f = Faults::new(1, &[rule(json!({ "every": 2, "error": "x" }))]);
        assert_eq!(run(&f, 4), [false, true, false, true]);
        let f = Faults::new(1, &[rule(json!({ "after": 2, "times": 1, "error": "x" }))]);
        assert_eq!(run(&f, 5), [false, false, true, false, false]);
        let f = Faults::new(1, &[rule(json!({ "platform": "other", "error": "x" }))]);
        assert_eq!(run(&f, 2), [false, false]);
        let f = Faults::new(1, &[rule(json!({ "route": "acme.data.*", "delay_ms": 5 }))]);
        assert_eq!(f.evaluate("acme", "acme.data.get", &|_| None, 0).map(|x| x.action), Some(Action::Pass));
        assert_eq!(f.list()[0].matched, 1);
    }

    #[test]
    fn probability_is_seeded() {
        let mk = || Faults::new(7, &[rule(json!({ "probability": 0.5, "error": "x" }))]);
        let (a, b) = (run(&mk(), 200), run(&mk(), 200));
        assert_eq!(a, b);
        let hits = a.iter().filter(|x| **x).count();
        assert!((60..140).contains(&hits), "{hits}");
    }

    #[test]
    fn match_on_fields_and_rate_limit() {
        let f = Faults::new(1, &[rule(json!({ "match": { "entry_id": "e1", "limit": 5 }, "error": "x" }))]);
        let hit = |fields: Value| f.evaluate("p", "r", &|k| fields.get(k).cloned(), 0).is_some();
        assert!(hit(json!({ "entry_id": "e1", "limit": "5" })));
        assert!(!hit(json!({ "entry_id": "e2", "limit": 5 })));
        let f = Faults::new(1, &[rule(json!({ "rate_limit": { "per_second": 2 } }))]);
        let fire = |now| f.evaluate("p", "r", &|_| None, now).map(|x| x.action);
        assert_eq!([fire(0), fire(10), fire(20)], [None, None, Some(Action::Error("rate_limited".into()))]);
        assert_eq!(fire(1000), None);
    }

    #[test]
    fn validation() {
        assert!(rule(json!({ "error": "x", "status": 500 })).validate().is_err());
        assert!(rule(json!({ "route": "*" })).validate().is_err());
        assert!(rule(json!({ "probability": 2.0, "error": "x" })).validate().is_err());
        assert!(rule(json!({ "delay_ms": 10 })).validate().is_ok());
        assert!(serde_json::from_value::<FaultDef>(json!({ "eror": "x" })).is_err());
    }
}
