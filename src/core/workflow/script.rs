//! Script nodes and subflows of the shared engine.
//!
//! A `script` node stands for a product's code point (OMFlow's python charts): its steps — `assign`
//! templates, `formula` expressions, `fail` — run over the instance's data when the instance reaches
//! it, and the instance moves on at once. A `subflow` node names another flow of `[[flows]]`; before a
//! flow is built, [`expand_subflows`] splices that flow's nodes in (ids prefixed `<node>/`), between an
//! entry script that sets the subflow's `inputs` and exit scripts at its ends that copy `outputs` back,
//! so every engine feature (people acting inside the subflow, parallel branches, call nodes) works in
//! it unchanged.

use serde_json::{json, Map, Value};

use super::def::{EdgeDef, EdgeTable, FlowDef, NodeDef, ScriptStep};
use super::Predicate;
use crate::core::keypath::Seg;

/// How deep subflows may call subflows.
pub const MAX_SUBFLOW_DEPTH: usize = 8;
/// Most nodes a flow may have once its subflows are spliced in.
pub const MAX_EXPANDED_NODES: usize = 2000;

/// Runs a script node's steps over `data`; the error is a `fail` step's message or a formula's.
pub fn run(steps: &[ScriptStep], data: &mut Map<String, Value>, now: i64) -> Result<(), String> {
    let plain = &crate::core::template::plain;
    for (i, step) in steps.iter().enumerate() {
        if let Some(w) = &step.when {
            let mut p = Predicate::from_when(w);
            p.value = crate::core::template::render(&p.value, data, plain);
            if !p.eval(data) {
                continue;
            }
        }
        if let Some(set) = &step.assign {
            let rendered = crate::core::template::render_map(set, data, plain);
            data.extend(rendered);
        }
        if let Some(set) = &step.formula {
            crate::core::formula::assign(set, data, now).map_err(|e| format!("script step {i}: {e}"))?;
        }
        if let Some(msg) = &step.fail {
            return Err(crate::core::template::text(&crate::core::template::render(&json!(msg), data, plain)));
        }
    }
    Ok(())
}

/// Problems of one script step: exactly one action, formulas that parse, known `when` ops.
pub fn step_problem(step: &ScriptStep) -> Option<String> {
    let actions = [step.assign.is_some(), step.formula.is_some(), step.fail.is_some()].iter().filter(|a| **a).count();
    if actions != 1 {
        return Some("expected exactly one of assign, formula, fail".into());
    }
    if let Some(w) = &step.when {
        if !super::def::EDGE_OPS.contains(&w.op.as_str()) {
            return Some(format!("when.op: expected one of {}, got {:?}", super::def::EDGE_OPS.join(", "), w.op));
        }
    }
    step.formula.as_ref().and_then(|set| crate::core::formula::check_set(set).err())
}

/// A problem found while splicing subflows: the flow's index in the list, the key path below it, why.
pub type ExpandError = (usize, Vec<Seg>, String);

/// Every flow with its subflow nodes replaced by the flows they name. Flows without subflows come back
/// as they are.
pub fn expand_subflows(flows: &[FlowDef]) -> Result<Vec<FlowDef>, Vec<ExpandError>> {
    let mut errs = Vec::new();
    let mut out = Vec::with_capacity(flows.len());
    for (fi, f) in flows.iter().enumerate() {
        match expand(f, flows, &mut vec![f.id.clone()]) {
            Ok(x) if x.nodes.len() > MAX_EXPANDED_NODES => {
                errs.push((
                    fi,
                    crate::path!["nodes"],
                    format!("with its subflows spliced in the flow has more than {MAX_EXPANDED_NODES} nodes"),
                ));
            }
            Ok(x) => out.push(x),
            Err((rel, why)) => errs.push((fi, rel, why)),
        }
    }
    if errs.is_empty() {
        Ok(out)
    } else {
        Err(errs)
    }
}

fn expand(f: &FlowDef, all: &[FlowDef], stack: &mut Vec<String>) -> Result<FlowDef, (Vec<Seg>, String)> {
    if !f.nodes.iter().any(|n| n.kind.eq_ignore_ascii_case("subflow")) {
        return Ok(f.clone());
    }
    let mut nodes: Vec<NodeDef> = Vec::new();
    let mut edges: Vec<EdgeDef> = f.edges.iter().filter(|e| !is_subflow(f, e.ends().0)).cloned().collect();
    for (i, n) in f.nodes.iter().enumerate() {
        if !n.kind.eq_ignore_ascii_case("subflow") {
            nodes.push(n.clone());
            continue;
        }
        let at = |why: String| (crate::path!["nodes", i, "subflow"], why);
        let sub = n
            .subflow
            .as_ref()
            .ok_or_else(|| (crate::path!["nodes", i], "a subflow node needs subflow = { flow = \"<a flow id>\" }".to_owned()))?;
        if stack.iter().any(|s| s == &sub.flow) {
            return Err(at(format!("flow {:?} calls itself through its subflows ({} → {})", sub.flow, stack.join(" → "), sub.flow)));
        }
        if stack.len() >= MAX_SUBFLOW_DEPTH {
            return Err(at(format!("subflows nest at most {MAX_SUBFLOW_DEPTH} deep")));
        }
        let target = all.iter().find(|x| x.id == sub.flow).ok_or_else(|| at(format!("no flow {:?} in [[flows]]", sub.flow)))?;
        stack.push(sub.flow.clone());
        let inner = expand(target, all, stack).map_err(|(_, why)| at(format!("in flow {:?}: {why}", sub.flow)))?;
        stack.pop();
        let prefix = |id: &str| format!("{}/{id}", n.id);
        // The node itself becomes the entry: it sets the inputs, then goes to the subflow's start.
        let mut entry = script_node(&n.id, n.name.clone().or_else(|| Some(n.id.clone())));
        if !sub.inputs.is_empty() {
            entry.steps.push(ScriptStep { assign: Some(sub.inputs.clone()), ..ScriptStep::default() });
        }
        nodes.push(entry);
        let back: Map<String, Value> =
            sub.outputs.iter().map(|(caller, from)| (caller.clone(), json!(format!("{{{{{from}}}}}")))).collect();
        let exits: Vec<&EdgeDef> = f.edges.iter().filter(|e| e.ends().0 == n.id).collect();
        for m in &inner.nodes {
            let id = prefix(&m.id);
            match m.kind.to_ascii_lowercase().as_str() {
                "start" => {
                    nodes.push(script_node(&id, m.name.clone()));
                    edges.push(EdgeDef::Pair([n.id.clone(), id]));
                }
                "end" => {
                    let mut exit = script_node(&id, m.name.clone());
                    if !back.is_empty() {
                        exit.steps.push(ScriptStep { assign: Some(back.clone()), ..ScriptStep::default() });
                    }
                    nodes.push(exit);
                    for e in &exits {
                        let when = match e {
                            EdgeDef::Table(t) => t.when.clone(),
                            EdgeDef::Pair(_) => None,
                        };
                        edges.push(EdgeDef::Table(EdgeTable { from: id.clone(), to: e.ends().1.to_owned(), when }));
                    }
                }
                _ => nodes.push(NodeDef { id, ..m.clone() }),
            }
        }
        for e in &inner.edges {
            let (a, b) = e.ends();
            let when = match e {
                EdgeDef::Table(t) => t.when.clone(),
                EdgeDef::Pair(_) => None,
            };
            edges.push(EdgeDef::Table(EdgeTable { from: prefix(a), to: prefix(b), when }));
        }
    }
    Ok(FlowDef { id: f.id.clone(), name: f.name.clone(), nodes, edges, origin: f.origin })
}

fn is_subflow(f: &FlowDef, id: &str) -> bool {
    f.nodes.iter().any(|n| n.id == id && n.kind.eq_ignore_ascii_case("subflow"))
}

fn script_node(id: &str, name: Option<String>) -> NodeDef {
    NodeDef {
        id: id.to_owned(),
        kind: "script".into(),
        name,
        assignees: Vec::new(),
        mode: None,
        verify: false,
        cc: Vec::new(),
        call: None,
        steps: Vec::new(),
        subflow: None,
    }
}
