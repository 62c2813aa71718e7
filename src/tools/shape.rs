//! Comparing two answers by shape: which keys each has, what type each value is, and — for the few
//! fields whose value is part of the contract (error codes, messages, echoed paging) — the value.
//!
//! An answer is flattened to key paths (`$.data[].name`) with the set of JSON types seen there; array
//! elements share one path, so a list of 3 records and a list of 100 compare alike. A path is compared
//! only where both answers reach it: when one list is empty, nothing under its elements is compared
//! (the data differ, not the shape). `null` says nothing about a type, so a path that is only ever
//! `null` on one side never differs in type.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;
use serde_json::Value;

/// How two answers differ at one place.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Difference {
    /// `status` or a key path such as `$.data[].flowState`.
    pub path: String,
    /// `status`, `missing` (the recording has it, the emulator does not), `extra`, `type` or `value`.
    pub kind: &'static str,
    pub recorded: String,
    pub emulator: String,
}

/// Paths of an answer with the types seen at each.
fn flatten(v: &Value) -> BTreeMap<String, BTreeSet<&'static str>> {
    fn walk(v: &Value, path: &mut String, out: &mut BTreeMap<String, BTreeSet<&'static str>>) {
        out.entry(path.clone()).or_default().insert(type_name(v));
        match v {
            Value::Object(o) => {
                for (k, child) in o {
                    let len = path.len();
                    path.push('.');
                    path.push_str(k);
                    walk(child, path, out);
                    path.truncate(len);
                }
            }
            Value::Array(a) => {
                let len = path.len();
                path.push_str("[]");
                for child in a {
                    walk(child, path, out);
                }
                path.truncate(len);
            }
            _ => {}
        }
    }
    let mut out = BTreeMap::new();
    walk(v, &mut "$".to_owned(), &mut out);
    out
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// The path a path hangs from (`$.a[].b` → `$.a[]`, `$.a[]` → `$.a`), `None` for the root.
fn parent(path: &str) -> Option<&str> {
    if let Some(p) = path.strip_suffix("[]") {
        return Some(p);
    }
    path.rfind('.').map(|i| &path[..i])
}

fn types(set: &BTreeSet<&'static str>) -> String {
    set.iter().copied().collect::<Vec<_>>().join("|")
}

/// Matches `text` against a pattern where `*` stands for any run of characters.
pub fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || !text[first.len()..].ends_with(last) || text.len() < first.len() + last.len() {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

/// Compares an emulator answer with a recorded one. `value_fields` are top-level keys compared by
/// value; a path matching any of `ignore` (globs) is left out, with everything under it.
pub fn compare(recorded: (u16, &Value), emulator: (u16, &Value), value_fields: &[&str], ignore: &[String]) -> Vec<Difference> {
    let ignored =
        |path: &str| ignore.iter().any(|g| glob(g, path) || (g.ends_with("[]") || !g.contains('*')) && path.starts_with(&format!("{g}.")));
    let mut out = Vec::new();
    if recorded.0 != emulator.0 && !ignored("status") {
        out.push(Difference { path: "status".into(), kind: "status", recorded: recorded.0.to_string(), emulator: emulator.0.to_string() });
    }
    let (r, e) = (flatten(recorded.1), flatten(emulator.1));
    // A path is compared where its parent is reached by both with the same container type.
    let both_reach = |path: &str| {
        parent(path).is_none_or(|p| match (r.get(p), e.get(p)) {
            (Some(a), Some(b)) => {
                let container = if path.ends_with("[]") { "array" } else { "object" };
                a.contains(container) && b.contains(container)
            }
            _ => false,
        })
    };
    for (path, rt) in &r {
        if ignored(path) || !both_reach(path) {
            continue;
        }
        match e.get(path) {
            None if path.ends_with("[]") => {} // the emulator's list is empty there: data, not shape
            None => out.push(Difference { path: path.clone(), kind: "missing", recorded: types(rt), emulator: "(absent)".into() }),
            Some(et) => {
                let (a, b): (BTreeSet<_>, BTreeSet<_>) =
                    (rt.iter().filter(|t| **t != "null").collect(), et.iter().filter(|t| **t != "null").collect());
                if !a.is_empty() && !b.is_empty() && a != b {
                    out.push(Difference { path: path.clone(), kind: "type", recorded: types(rt), emulator: types(et) });
                }
            }
        }
    }
    for (path, et) in &e {
        if !r.contains_key(path) && !path.ends_with("[]") && !ignored(path) && both_reach(path) {
            out.push(Difference { path: path.clone(), kind: "extra", recorded: "(absent)".into(), emulator: types(et) });
        }
    }
    for field in value_fields {
        let path = format!("$.{field}");
        if ignored(&path) {
            continue;
        }
        if let (Some(a), Some(b)) = (recorded.1.get(field), emulator.1.get(field)) {
            if a != b && !a.as_str().is_some_and(super::recording::is_redacted) {
                out.push(Difference { path, kind: "value", recorded: a.to_string(), emulator: b.to_string() });
            }
        }
    }
    out
}

/// Whether a key names an id (`id`, `_id`, `formInstId`, `data_id`, `processInstanceId` …).
fn is_id_key(key: &str) -> bool {
    key == "id" || key == "_id" || key.ends_with("Id") || key.ends_with("_id") || key.ends_with("ID")
}

/// Whether two differing strings at the same place are both ids: the same length, at least 8
/// characters of letters, digits, `-` and `_`, with a digit (times and text have spaces, colons or
/// dots; `FINST-…` and 24-hex ids have none).
fn both_ids(a: &str, b: &str) -> bool {
    let id_like = |s: &str| {
        s.len() >= 8 && s.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_') && s.bytes().any(|c| c.is_ascii_digit())
    };
    a.len() == b.len() && id_like(a) && id_like(b)
}

/// Walks two answers in step (objects by key, arrays by position) and hands `at` every key whose value
/// is a string on both sides, with both strings.
fn strings_in_step(recorded: &Value, emulator: &Value, at: &mut impl FnMut(&str, &str, &str)) {
    match (recorded, emulator) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, va) in a {
                match (va, b.get(k)) {
                    (Value::String(sa), Some(Value::String(sb))) => at(k, sa, sb),
                    (_, Some(vb)) => strings_in_step(va, vb, at),
                    (_, None) => {}
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            for (va, vb) in a.iter().zip(b) {
                strings_in_step(va, vb, at);
            }
        }
        _ => {}
    }
}

/// Learns which id the emulator gave where the recording has another: every differing string at an
/// id key, or that looks like an id on both sides (a save that answers `{"result": "FINST-…"}`).
pub fn learn_ids(recorded: &Value, emulator: &Value, ids: &mut HashMap<String, String>) {
    strings_in_step(recorded, emulator, &mut |k, sa, sb| {
        if sa != sb && !super::recording::is_redacted(sa) && (is_id_key(k) && sa.len() >= 4 || both_ids(sa, sb)) {
            ids.entry(sa.to_owned()).or_insert_with(|| sb.to_owned());
        }
    });
}

/// Learns what the emulator answered where the recording has a redacted value (an upload token, a
/// fresh access token): field name → the emulator's value, for later requests that send it back.
pub fn learn_secrets(recorded: &Value, emulator: &Value, secrets: &mut BTreeMap<String, String>) {
    strings_in_step(recorded, emulator, &mut |k, sa, sb| {
        if super::recording::is_redacted(sa) {
            secrets.insert(k.to_owned(), sb.to_owned());
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn kinds(d: &[Difference]) -> Vec<(String, &'static str)> {
        d.iter().map(|d| (d.path.clone(), d.kind)).collect()
    }

    #[test]
    fn same_shape_with_other_data_does_not_differ() {
        let a = json!({"data": [{"_id": "a", "n": 1, "t": "x"}, {"_id": "b", "n": 2.5, "t": null}], "code": 0});
        let b = json!({"data": [{"_id": "z", "n": 7, "t": "y"}], "code": 0});
        assert!(compare((200, &a), (200, &b), &["code"], &[]).is_empty());
        // An empty list on either side compares nothing under its elements.
        assert!(compare((200, &a), (200, &json!({"data": [], "code": 0})), &["code"], &[]).is_empty());
    }

    #[test]
    fn status_keys_types_and_values_are_reported() {
        let a = json!({"data": [{"n": 1, "s": "x"}], "code": 0, "msg": "ok"});
        let b = json!({"data": [{"n": "1", "x": true}], "code": 8304, "msg": "ok"});
        let d = compare((200, &a), (400, &b), &["code", "msg"], &[]);
        assert_eq!(
            kinds(&d),
            vec![
                ("status".into(), "status"),
                ("$.data[].n".into(), "type"),
                ("$.data[].s".into(), "missing"),
                ("$.data[].x".into(), "extra"),
                ("$.code".into(), "value")
            ]
        );
        let ignored = compare((200, &a), (400, &b), &["code", "msg"], &["status".into(), "$.data[]".into(), "$.code".into()]);
        assert!(ignored.is_empty(), "{ignored:?}");
    }

    #[test]
    fn globs() {
        assert!(glob("$.data[].*Time", "$.data[].createTime"));
        assert!(glob("*", "anything"));
        assert!(!glob("$.a*b", "$.ac"));
        assert!(glob("$.a", "$.a"));
    }

    #[test]
    fn ids_are_learned_in_step() {
        let mut ids = HashMap::new();
        learn_ids(
            &json!({"data": [{"_id": "rec1", "x": "same"}, {"_id": "rec2"}], "formInstId": "F001"}),
            &json!({"data": [{"_id": "emu1", "x": "other"}], "formInstId": "G001"}),
            &mut ids,
        );
        assert_eq!(ids.get("rec1").map(String::as_str), Some("emu1"));
        assert_eq!(ids.get("F001").map(String::as_str), Some("G001"));
        assert_eq!(ids.len(), 2);
        learn_ids(
            &json!({"result": "FINST-0001AB", "t": "2026-01-05 09:00:00"}),
            &json!({"result": "FINST-0009XY", "t": "2026-01-05 09:00:01"}),
            &mut ids,
        );
        assert_eq!(ids.get("FINST-0001AB").map(String::as_str), Some("FINST-0009XY"), "an id by its look");
        assert!(!ids.contains_key("2026-01-05 09:00:00"), "times are not ids");
    }
}
