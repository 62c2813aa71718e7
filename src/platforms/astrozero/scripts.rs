//! Scripts (`/u-route/baas/script/v1.0/…`): run, debug, signature and the library declaration.
//!
//! A scenario script is a step list (see `program`) over its input; its declared outputs form
//! `result.value`. `run` returns an empty `log`; `debug` returns the lines its `log` steps wrote.

use serde_json::{json, Map, Value};

use super::errors::AzError;
use super::flows::version_key;
use super::model::ScriptDef;
use super::program::{self, Halt, ParamDef, Paused, Progress};
use super::Call;
use crate::core::outbound::Reply;

/// `?version=` or the highest version of the script named in the path.
fn script<'a>(call: &'a Call) -> Result<&'a ScriptDef, AzError> {
    named(call, call.req.param("name").unwrap_or_default(), call.query("version"))
}

/// Script `name` at `version`, or its highest version.
fn named<'a>(call: &'a Call, name: &str, version: Option<String>) -> Result<&'a ScriptDef, AzError> {
    let same: Vec<&ScriptDef> = call.st.scripts.iter().filter(|s| s.name == name).collect();
    if same.is_empty() {
        return Err(AzError::not_found(format!("script {name}")));
    }
    match version {
        Some(v) => same.into_iter().find(|s| s.version() == v).ok_or_else(|| AzError::not_found(format!("script {name} version {v}"))),
        None => same.into_iter().max_by_key(|s| version_key(s.version())).ok_or_else(|| AzError::not_found(format!("script {name}"))),
    }
}

fn execute(call: &Call, debug: bool) -> Result<Progress, AzError> {
    start(call, script(call)?.clone(), debug)
}

/// Runs script `name` (its highest version) with the call's body as its input: what a custom API
/// bound to the script does. Answers `{value, log}` as `run` does.
pub fn run_named(call: &Call, name: &str) -> Result<Progress, AzError> {
    start(call, named(call, name, None)?.clone(), false)
}

fn start(call: &Call, sc: ScriptDef, debug: bool) -> Result<Progress, AzError> {
    program::check_inputs(&sc.inputs, &call.body)?;
    walk(call, Run { script: sc, vars: call.body.clone(), log: Vec::new(), debug }, 0)
}

/// A script run in progress: nothing is stored between its Rest actions, it all travels here.
struct Run {
    script: ScriptDef,
    vars: Map<String, Value>,
    log: Vec<String>,
    debug: bool,
}

/// Runs the script's steps from `from`: to the end (its result), or to a Rest action it awaits.
fn walk(call: &Call, mut run: Run, from: usize) -> Result<Progress, AzError> {
    let steps = &run.script.steps;
    match program::execute(steps, from, false, &mut run.vars, &mut run.log, call)? {
        Halt::Call(i) => {
            let tag = format!("script {}", run.script.name);
            let message = program::rest_message(steps, i, &run.vars, call, &tag, tag.clone())?;
            let then = move |call: &Call, reply: &Reply| {
                program::take_answer(&run.script.steps, i, reply, &mut run.vars)?;
                walk(call, run, i + 1)
            };
            Ok(Progress::Calling(Box::new(Paused { message, then: Box::new(then) })))
        }
        Halt::Wait(_) | Halt::End => {
            let sc = &run.script;
            let value = if sc.outputs.is_empty() { Value::Object(run.vars) } else { program::outputs(&sc.outputs, &run.vars) };
            Ok(Progress::Done(json!({ "value": value, "log": if run.debug { run.log.join("\n") } else { String::new() } })))
        }
    }
}

pub fn run(call: &Call) -> Result<Progress, AzError> {
    execute(call, false)
}

pub fn debug(call: &Call) -> Result<Progress, AzError> {
    execute(call, true)
}

fn type_members(list: &[ParamDef]) -> Value {
    Value::Array(
        list.iter()
            .map(|p| {
                json!({
                    "name": p.name, "label": p.label.clone().unwrap_or_else(|| p.name.clone()),
                    "description": p.description.clone().unwrap_or_default(), "isCollection": p.collection,
                    "required": p.required, "pattern": "", "message": "", "valueType": p.kind, "structType": "",
                    "lengthInCharacter": 0, "min": Value::Null, "max": Value::Null,
                })
            })
            .collect(),
    )
}

/// The class name of a script (`demo__supplierRating` → `SupplierRating`).
fn class_name(name: &str) -> String {
    let base = name.rsplit("__").next().unwrap_or(name);
    let mut c = base.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

/// `GET /signature/{name}`: the script's input and output types.
pub fn signature(call: &Call) -> Result<Value, AzError> {
    let sc = script(call)?;
    let names = |l: &[ParamDef]| Value::Array(l.iter().map(|p| json!(p.name)).collect());
    Ok(json!({
        "script": sc.name, "version": sc.version(), "description": sc.description.clone().unwrap_or_default(),
        "label": sc.label.clone().unwrap_or_else(|| sc.name.clone()),
        "methodName": "run", "methodObject": class_name(&sc.name), "input": "Input", "output": "Output",
        "inputs": names(&sc.inputs), "outputs": names(&sc.outputs),
        "types": { "Input": type_members(&sc.inputs), "Output": type_members(&sc.outputs) },
    }))
}

fn ts_type(p: &ParamDef) -> String {
    let t = match p.kind.as_str() {
        "String" | "Date" => "string",
        "Number" => "number",
        "Boolean" => "boolean",
        "Object" => "object",
        _ => "any",
    };
    if p.collection {
        format!("{t}[]")
    } else {
        t.to_owned()
    }
}

/// `GET /declaration`: TypeScript declarations; `bingo.d.ts` declares every script's input and
/// output classes, so editors can type-check calls against the scenario.
pub fn declaration(call: &Call) -> Result<Value, AzError> {
    let mut ts = String::from("// Declarations of the scripts in this tenant (the latest version of each).\n");
    let latest = call
        .st
        .scripts
        .iter()
        .filter(|s| !call.st.scripts.iter().any(|o| o.name == s.name && version_key(o.version()) > version_key(s.version())));
    for sc in latest {
        let class = class_name(&sc.name);
        for (suffix, list) in [("Input", &sc.inputs), ("Output", &sc.outputs)] {
            ts.push_str(&format!("declare class {class}{suffix} {{\n"));
            for p in list.iter() {
                ts.push_str(&format!("    {}{}: {};\n", p.name, if p.required { "" } else { "?" }, ts_type(p)));
            }
            ts.push_str("}\n");
        }
        ts.push_str(&format!(
            "/** {} {} */\ndeclare class {class} {{\n    run(input: {class}Input): {class}Output;\n}}\n",
            sc.name,
            sc.version()
        ));
    }
    Ok(json!({ "bingo.d.ts": ts, "lib.es2017.d.ts": "/// <reference no-default-lib=\"true\"/>\n" }))
}
