//! `lowcode-emu diff RECORDING`: replays a recording against an emulator started here from a scenario
//! and reports, per route, where its answers differ in shape from the tenant's (see [`super::shape`]).
//!
//! The replay goes in recorded order over real HTTP, so writes the recording made are made again and
//! later reads see them. What legitimately differs is bridged: credentials the recording redacted are
//! filled by the platform's `replay_auth` with ones this emulator accepts, and ids the emulator gave in
//! place of the tenant's (learned from each answer, [`super::shape::learn_ids`]) are put into later
//! requests. Values are compared only for the platform's error and paging fields.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use serde::Serialize;
use serde_json::{json, Value};

use super::recording::{Exchange, Replay, ReplayBody};
use super::shape::{compare, glob, learn_ids, learn_secrets, Difference};
use crate::{Emulator, Scenario};

/// What to leave out of the comparison.
#[derive(Debug, Clone, Default)]
pub struct DiffOptions {
    /// Key paths (globs, `$.data[].updateTime`, or `route-glob:path-glob`) not compared.
    pub ignore: Vec<String>,
    /// Route ids (globs) not compared at all.
    pub ignore_routes: Vec<String>,
}

/// The report: per route, how many calls there were, how many differed, and each difference.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub exchanges: usize,
    pub differing: usize,
    pub routes: Vec<RouteReport>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RouteReport {
    pub route: String,
    pub calls: usize,
    pub differing: usize,
    pub differences: Vec<Seen>,
}

/// A difference and how often it was seen.
#[derive(Debug, Clone, Serialize)]
pub struct Seen {
    #[serde(flatten)]
    pub difference: Difference,
    pub count: usize,
    /// The recording's `seq` of the first exchange that showed it.
    pub first_seq: u64,
}

/// Replays `exchanges` against an emulator serving `scenario`.
pub async fn run(scenario: Scenario, exchanges: &[Exchange], options: &DiffOptions) -> std::io::Result<Report> {
    let emu = Emulator::start(scenario).await?;
    let world = emu.world();
    let client = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().map_err(std::io::Error::other)?;
    let mut ids: HashMap<String, String> = HashMap::new();
    let mut memo: HashMap<String, String> = HashMap::new();
    let mut secrets: BTreeMap<String, String> = BTreeMap::new();
    let mut routes: BTreeMap<String, (usize, usize, Vec<Seen>)> = BTreeMap::new();
    let mut differing = 0;
    for e in exchanges {
        let route = e.route.clone().unwrap_or_else(|| format!("{} {}", e.method, e.path));
        if options.ignore_routes.iter().any(|g| glob(g, &route)) {
            continue;
        }
        let platform = e.platform.as_deref().and_then(crate::platforms::by_name).or_else(|| crate::platforms::for_path(&e.path));
        let mut replay = Replay::of(e);
        replay.map_ids(&ids);
        for (field, value) in &secrets {
            replay.fill(field, value);
        }
        if let Some(p) = platform {
            (p.replay_auth)(&world, &mut replay, &mut memo);
        }
        let (status, body) = send(&client, &emu.base_url(), &replay).await;
        let recorded = e.response_body.json();
        learn_ids(recorded, &body, &mut ids);
        learn_secrets(recorded, &body, &mut secrets);
        let ignore: Vec<String> = options
            .ignore
            .iter()
            .filter_map(|g| match g.split_once(':') {
                Some((r, p)) if !r.starts_with('$') => glob(r, &route).then(|| p.to_owned()),
                _ => Some(g.clone()),
            })
            .collect();
        let value_fields = platform.map(|p| p.diff_value_fields).unwrap_or(&[]);
        let found = compare((e.status, recorded), (status, &body), value_fields, &ignore);
        let slot = routes.entry(route).or_default();
        slot.0 += 1;
        if !found.is_empty() {
            slot.1 += 1;
            differing += 1;
        }
        for d in found {
            match slot.2.iter_mut().find(|s| s.difference == d) {
                Some(seen) => seen.count += 1,
                None => slot.2.push(Seen { difference: d, count: 1, first_seq: e.seq }),
            }
        }
    }
    let _ = emu.stop().await;
    let exchanges = routes.values().map(|r| r.0).sum();
    let routes =
        routes.into_iter().map(|(route, (calls, differing, differences))| RouteReport { route, calls, differing, differences }).collect();
    Ok(Report { exchanges, differing, routes })
}

async fn send(client: &reqwest::Client, base: &str, r: &Replay) -> (u16, Value) {
    let method = reqwest::Method::from_bytes(r.method.as_bytes()).unwrap_or(reqwest::Method::GET);
    let mut req = client.request(method, format!("{base}{}", r.path)).query(&r.query);
    for (k, v) in &r.headers {
        if k != "content-length" {
            req = req.header(k.as_str(), v.as_str());
        }
    }
    req = match &r.body {
        ReplayBody::None => req,
        ReplayBody::Json(v) => req.body(serde_json::to_vec(v).unwrap_or_default()),
        ReplayBody::Form(p) => req.body(form_urlencoded::Serializer::new(String::new()).extend_pairs(p).finish()),
        ReplayBody::Bytes(b) => req.body(b.clone()),
    };
    match req.send().await {
        Ok(a) => {
            let status = a.status().as_u16();
            let body = a.bytes().await.ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or(Value::Null);
            (status, body)
        }
        // A fault rule may close the connection: the tenant never does that, which is a difference.
        Err(_) => (0, Value::Null),
    }
}

impl Report {
    /// The report for people: one block per route that differs, then a line of totals.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let width = self.routes.iter().map(|r| r.route.len()).max().unwrap_or(5).max(5);
        out.push_str(&format!("{:<width$}  {:>5}  {:>6}\n", "route", "calls", "differ"));
        for r in &self.routes {
            out.push_str(&format!("{:<width$}  {:>5}  {:>6}\n", r.route, r.calls, r.differing));
            for s in &r.differences {
                let d = &s.difference;
                let what = match d.kind {
                    "status" => format!("HTTP status: tenant {}, emulator {}", d.recorded, d.emulator),
                    "missing" => format!("{}: missing in the emulator's answer (tenant: {})", d.path, d.recorded),
                    "extra" => format!("{}: only in the emulator's answer ({})", d.path, d.emulator),
                    "type" => format!("{}: tenant {}, emulator {}", d.path, d.recorded, d.emulator),
                    _ => format!("{}: tenant {}, emulator {}", d.path, d.recorded, d.emulator),
                };
                out.push_str(&format!("    {what}  ({}×, first #{})\n", s.count, s.first_seq));
            }
        }
        out.push_str(&format!("{} of {} exchanges differ in shape\n", self.differing, self.exchanges));
        out
    }

    pub fn json(&self) -> Value {
        serde_json::to_value(self).unwrap_or_else(|_| json!({}))
    }
}
