//! Semantic checks that typed parsing cannot express: references, uniqueness, formats.

use std::collections::{HashMap, HashSet};

use super::load::Source;
use super::{Diag, Scenario, Seg, EDGE_OPS, NODE_TYPES};
use crate::path;
use crate::platforms::ValidateCx;
use crate::router::Route;

pub fn validate(scenario: &mut Scenario, sources: &[Source], diags: &mut Vec<Diag>) {
    let doc = &scenario.doc;
    // The emulator section lives in the root file (index 0) unless an include set it; 0 is the best guess.
    if let Some(c) = &doc.emulator.clock {
        if crate::core::clock::parse_rfc3339_ms(c).is_none() {
            diags.push(Diag::in_file(
                0,
                path!["emulator", "clock"],
                format!("expected an RFC 3339 instant such as \"2026-01-05T09:00:00+08:00\", got {c:?}"),
            ));
        }
    }
    if let Some(l) = &doc.emulator.locale {
        if crate::Locale::parse(l).is_none() {
            diags.push(Diag::in_file(0, path!["emulator", "locale"], format!("expected one of \"zh\", \"en\", \"zh-TW\", got {l:?}")));
        }
    }
    if let Some(server) = &doc.server {
        for name in server.ports.keys() {
            if crate::platforms::by_name(name).is_none() {
                diags.push(Diag::in_file(0, path!["server", "ports", name.as_str()], format!("unknown platform {name:?}")));
            }
        }
        if server.max_body_bytes == Some(0) {
            diags.push(Diag::in_file(0, path!["server", "max_body_bytes"], "expected a positive number of bytes"));
        }
    }

    let mut dept_ids = HashSet::from([1i64]);
    for d in &doc.departments {
        if !dept_ids.insert(d.id) && d.id != 1 {
            diags.push(Diag::at(d.origin, &["departments"], path!["id"], format!("duplicate department id {}", d.id)));
        }
        if d.id <= 0 {
            diags.push(Diag::at(d.origin, &["departments"], path!["id"], "expected a positive department number (the root is 1)"));
        }
    }
    let parents: HashMap<i64, i64> = doc.departments.iter().filter(|d| d.id != 1).map(|d| (d.id, d.parent.unwrap_or(1))).collect();
    for d in &doc.departments {
        if d.id == 1 && d.parent.is_some() {
            diags.push(Diag::at(d.origin, &["departments"], path!["parent"], "department 1 is the root and cannot have a parent"));
        }
        if let Some(p) = d.parent {
            if !dept_ids.contains(&p) {
                diags.push(Diag::at(d.origin, &["departments"], path!["parent"], format!("expected an existing department id, got {p}")));
                continue;
            }
        }
        // Walk up; a cycle never reaches the root.
        let mut cur = d.id;
        let mut steps = 0;
        while cur != 1 && steps <= parents.len() {
            cur = parents.get(&cur).copied().unwrap_or(1);
            steps += 1;
        }
        if cur != 1 {
            diags.push(Diag::at(d.origin, &["departments"], path!["parent"], "department parents form a cycle"));
        }
    }

    let mut user_ids = HashSet::new();
    for u in &doc.users {
        if u.id.trim().is_empty() {
            diags.push(Diag::at(u.origin, &["users"], path!["id"], "expected a non-empty user id"));
        }
        if !user_ids.insert(u.id.as_str()) {
            diags.push(Diag::at(u.origin, &["users"], path!["id"], format!("duplicate user id {:?}", u.id)));
        }
        for (i, dep) in u.departments.iter().enumerate() {
            if !dept_ids.contains(dep) {
                diags.push(Diag::at(
                    u.origin,
                    &["users"],
                    vec![Seg::Key("departments".into()), Seg::Index(i)],
                    format!("expected an existing department id, got {dep}"),
                ));
            }
        }
        if let Some(s) = u.status {
            if ![-1, 0, 1].contains(&s) {
                diags.push(Diag::at(u.origin, &["users"], path!["status"], "expected 1 (active), 0 (invited) or -1 (left)"));
            }
        }
    }
    for d in &doc.departments {
        for (i, m) in d.managers.iter().enumerate().filter(|(_, m)| !user_ids.contains(m.as_str())) {
            diags.push(Diag::at(
                d.origin,
                &["departments"],
                vec![Seg::Key("managers".into()), Seg::Index(i)],
                format!("expected a user id from [[users]], got {m:?}"),
            ));
        }
    }

    let mut flow_ids = HashSet::new();
    for f in &doc.flows {
        if !flow_ids.insert(f.id.as_str()) {
            diags.push(Diag::at(f.origin, &["flows"], path!["id"], format!("duplicate flow id {:?}", f.id)));
        }
        let mut node_ids = HashSet::new();
        for (i, n) in f.nodes.iter().enumerate() {
            if !node_ids.insert(n.id.as_str()) {
                diags.push(Diag::at(f.origin, &["flows"], path!["nodes", i, "id"], format!("duplicate node id {:?}", n.id)));
            }
            if !NODE_TYPES.contains(&n.kind.to_ascii_lowercase().as_str()) {
                diags.push(Diag::at(
                    f.origin,
                    &["flows"],
                    path!["nodes", i, "type"],
                    format!("expected one of {}, got {:?}", NODE_TYPES.join(", "), n.kind),
                ));
            }
            for (j, a) in n.cc.iter().enumerate() {
                if !user_ids.contains(a.as_str()) {
                    diags.push(Diag::at(
                        f.origin,
                        &["flows"],
                        path!["nodes", i, "cc", j],
                        format!("expected a user id from [[users]], got {a:?}"),
                    ));
                }
            }
            for (j, a) in n.assignees.iter().enumerate() {
                if !user_ids.contains(a.as_str()) {
                    diags.push(Diag::at(
                        f.origin,
                        &["flows"],
                        path!["nodes", i, "assignees", j],
                        format!("expected a user id from [[users]], got {a:?}"),
                    ));
                }
            }
            if let Some(m) = &n.mode {
                if m != "any" && m != "all" {
                    diags.push(Diag::at(
                        f.origin,
                        &["flows"],
                        path!["nodes", i, "mode"],
                        format!("expected \"any\" or \"all\", got {m:?}"),
                    ));
                }
            }
        }
        for (i, e) in f.edges.iter().enumerate() {
            if let super::EdgeDef::Table(t) = e {
                if let Some(w) = &t.when {
                    if !EDGE_OPS.contains(&w.op.as_str()) {
                        diags.push(Diag::at(
                            f.origin,
                            &["flows"],
                            path!["edges", i, "when", "op"],
                            format!("expected one of {}, got {:?}", EDGE_OPS.join(", "), w.op),
                        ));
                    }
                }
            }
        }
    }

    let flow_ids: HashSet<String> = flow_ids.iter().map(|s| (*s).to_owned()).collect();
    if diags.is_empty() {
        // Subflow nodes are spliced in first: every platform then builds flows as they run.
        match crate::core::workflow::script::expand_subflows(&doc.flows) {
            Ok(expanded) => {
                for f in &expanded {
                    if let Err(errors) = crate::core::workflow::Flow::build(f) {
                        diags.extend(errors.into_iter().map(|(path, msg)| Diag::at(f.origin, &["flows"], path, msg)));
                    }
                }
                if diags.is_empty() {
                    scenario.doc.flows = expanded;
                }
            }
            Err(errors) => {
                for (fi, path, msg) in errors {
                    diags.push(Diag::at(doc.flows[fi].origin, &["flows"], path, msg));
                }
            }
        }
    }
    let doc = &scenario.doc;

    let routes = crate::platforms::all_routes();
    for (i, f) in doc.faults.iter().enumerate() {
        if let Err(why) = check_fault(f, routes) {
            diags.push(Diag::in_file(0, path!["faults", i], why));
        }
    }

    let directory = crate::world::build_directory(doc);
    let cx = ValidateCx { sources, directory: &directory, flow_ids: &flow_ids };
    for p in crate::platforms::PLATFORMS {
        (p.validate)(scenario, &cx, diags);
    }
}

/// A fault rule must name a known platform and route, and an error its platform can render. Used for
/// scenario `[[faults]]` and `POST /__emu/faults` alike.
pub fn check_fault(f: &crate::core::faults::FaultDef, routes: &[Route]) -> Result<(), String> {
    f.validate()?;
    if let Some(p) = &f.platform {
        if crate::platforms::by_name(p).is_none() {
            return Err(format!("unknown platform {p:?}; expected one of {}", crate::platforms::names().join(", ")));
        }
    }
    if f.route.starts_with("delivery.") {
        // Delivery faults name an outbound event: delivery.<platform>.<event>.
        let events: Vec<String> = crate::platforms::PLATFORMS
            .iter()
            .filter(|p| f.platform.as_deref().is_none_or(|want| want == p.name))
            .flat_map(|p| p.delivery_events.iter().map(move |e| format!("delivery.{}.{e}", p.name)))
            .collect();
        let hit = events.iter().any(|e| match f.route.strip_suffix('*') {
            Some(prefix) => e.starts_with(prefix),
            None => *e == f.route,
        });
        if !hit {
            return Err(format!("route {:?} names no outbound event; expected one of {}", f.route, events.join(", ")));
        }
        return Ok(());
    }
    let candidates: Vec<&Route> = routes
        .iter()
        .filter(|r| f.platform.as_deref().is_none_or(|p| p == r.platform))
        .filter(|r| match f.route.strip_suffix('*') {
            Some(prefix) => r.id.starts_with(prefix),
            None => r.id == f.route,
        })
        .collect();
    if candidates.is_empty() {
        return Err(format!("route {:?} names no emulated route (see lowcode-emu routes)", f.route));
    }
    if let Some(e) = &f.error {
        let mut platforms: Vec<&str> = candidates.iter().map(|r| r.platform).collect();
        platforms.dedup();
        for p in platforms {
            let renders = crate::platforms::by_name(p).and_then(|def| (def.error)(e, crate::Locale::Zh, "")).is_some();
            if !renders {
                return Err(format!("{p} has no error named {e:?} (see lowcode-emu routes --errors)"));
            }
        }
    }
    Ok(())
}
