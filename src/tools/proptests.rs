//! Property tests of what the tenant tools decode and write: recordings (any line, any body), the
//! shape comparison (any two answers), and the scenario writer (any JSON an API may answer must come
//! out as TOML that reads back to the same values).

use proptest::prelude::*;
use serde_json::{Map, Value};

use super::import::to_toml;
use super::recording::{Exchange, Payload, Replay};
use super::shape::{compare, learn_ids, learn_secrets};
use crate::core::arb_json::{arb_json, cases};

const TEXT: &str = "[ -~\\n\\t\"'\\\\=\\[\\]{}.#中文]{0,12}";
const WORDS: &[&str] = &["***", "Bearer ***", "FINST-0001AB", "695b0d1059e1368caa000000", "", "a.b", "[[x]]"];
const KEYS: &[&str] = &["_id", "id", "formInstId", "data", "result", "code", "msg", "a b", "键", "x.y", "\"q\"", ""];

fn without_nulls(v: &Value) -> Option<Value> {
    match v {
        Value::Null => None,
        Value::Array(a) => Some(Value::Array(a.iter().filter_map(without_nulls).collect())),
        Value::Object(o) => Some(Value::Object(o.iter().filter_map(|(k, v)| Some((k.clone(), without_nulls(v)?))).collect())),
        other => Some(other.clone()),
    }
}

fn toml_to_json(v: &toml::Value) -> Value {
    match v {
        toml::Value::String(s) => Value::String(s.clone()),
        toml::Value::Integer(i) => Value::from(*i),
        toml::Value::Float(f) => serde_json::Number::from_f64(*f).map(Value::Number).unwrap_or(Value::Null),
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(a) => Value::Array(a.iter().map(toml_to_json).collect()),
        toml::Value::Table(t) => Value::Object(t.iter().map(|(k, v)| (k.clone(), toml_to_json(v))).collect()),
    }
}

fn same_numbers(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_numbers(p, q)),
        (Value::Object(x), Value::Object(y)) => x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same_numbers(v, w))),
        _ => a == b,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(256)))]

    #[test]
    fn whatever_a_tenant_answers_is_written_as_toml_that_reads_back(doc in prop::collection::btree_map("[a-z_]{1,6}|键|a b", arb_json(TEXT, WORDS, KEYS), 0..5)) {
        let doc = Value::Object(doc.into_iter().collect::<Map<String, Value>>());
        let text = to_toml(&doc).expect("an object is written");
        let back: toml::Table = toml::from_str(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        let expected = without_nulls(&doc).unwrap_or(Value::Null);
        let got = toml_to_json(&toml::Value::Table(back));
        prop_assert!(same_numbers(&expected, &got), "{text}");
    }

    #[test]
    fn an_answer_never_differs_from_itself_and_no_pair_panics(a in arb_json(TEXT, WORDS, KEYS), b in arb_json(TEXT, WORDS, KEYS), status in 0u16..600) {
        prop_assert!(compare((status, &a), (status, &a), &["code", "msg"], &[]).is_empty());
        let _ = compare((200, &a), (status, &b), &["code", "msg"], &["$.data[]*".to_owned(), "*".to_owned()]);
        let mut ids = std::collections::HashMap::new();
        learn_ids(&a, &b, &mut ids);
        let mut secrets = std::collections::BTreeMap::new();
        learn_secrets(&a, &b, &mut secrets);
    }

    #[test]
    fn any_recording_line_is_read_or_refused_with_its_line(lines in prop::collection::vec(prop_oneof![
        "[ -~]{0,40}",
        arb_json(TEXT, WORDS, &["seq", "time", "method", "path", "status", "query", "request_body", "kind", "value", "request_headers"]).prop_map(|v| v.to_string()),
    ], 0..6)) {
        let path = std::env::temp_dir().join(format!("lowcode-emu-rec-prop-{}-{:?}.jsonl", std::process::id(), std::thread::current().id()));
        std::fs::write(&path, lines.join("\n")).expect("write");
        match super::recording::read(&path) {
            Ok(exchanges) => {
                for e in &exchanges {
                    let mut r = Replay::of(e);
                    r.fill("security", "x");
                    r.map_ids(&[("FINST-0001AB".to_owned(), "FINST-0009XY".to_owned())].into());
                }
            }
            Err(e) => prop_assert!(e.contains(".jsonl:"), "{e}"),
        }
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn any_body_becomes_a_payload_that_replays(bytes in prop::collection::vec(any::<u8>(), 0..64), form in any::<bool>()) {
        let p = Payload::of(&bytes);
        let mut e: Exchange = serde_json::from_value(serde_json::json!({"seq": 1, "time": "", "method": "POST", "path": "/", "status": 200})).expect("minimal exchange");
        if form {
            e.request_headers.insert("content-type".into(), "application/x-www-form-urlencoded".into());
        }
        e.request_body = p;
        let line = serde_json::to_string(&e).expect("serializes");
        let back: Exchange = serde_json::from_str(&line).expect("reads back");
        prop_assert_eq!(&back, &e);
        let _ = Replay::of(&back);
    }
}
