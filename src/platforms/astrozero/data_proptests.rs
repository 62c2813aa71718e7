//! Property tests: conditions and field values from arbitrary JSON never panic, and a parsed
//! condition evaluates against arbitrary records.

use parking_lot::{Mutex, RwLock};
use proptest::prelude::*;
use serde_json::{json, Value};

use super::data::{check_value, parse_condition};
use super::model::{Field, Obj};
use super::scenario::DATA_TYPES;

fn field(i: usize, kind: &str) -> Field {
    Field {
        id: format!("f{i}"),
        name: format!("ns__f{i}__CST"),
        label: kind.into(),
        data_type: kind.into(),
        required: false,
        unique: false,
        options: vec!["a".into(), "b".into()],
    }
}

fn object() -> Obj {
    Obj {
        id: "o".into(),
        name: "ns__O__CST".into(),
        label: "o".into(),
        description: String::new(),
        key_prefix: "c001".into(),
        custom: true,
        created_ms: 0,
        fields: RwLock::new(DATA_TYPES.iter().enumerate().map(|(i, k)| field(i, k)).collect()),
        records: Default::default(),
        write_lock: Mutex::new(()),
    }
}

fn arb() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        ".{0,8}".prop_map(Value::String),
        prop_oneof![
            Just("ns__f0__CST"),
            Just("NS__F4__CST"),
            Just("name"),
            Just("AND"),
            Just("or"),
            Just("eq"),
            Just("ge"),
            Just("like"),
            Just("2026-01-01"),
            Just("a;b")
        ]
        .prop_map(|s| json!(s)),
    ];
    leaf.prop_recursive(4, 48, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("conjunction".to_string()),
                    Just("conditions".to_string()),
                    Just("field".to_string()),
                    Just("operator".to_string()),
                    Just("value".to_string()),
                    "[a-z]{1,3}".prop_map(String::from)
                ],
                inner,
                0..5
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn conditions_never_panic(cond in arb(), rec in prop::collection::btree_map("ns__f[0-9]{1,2}__CST|name|id", arb(), 0..8)) {
        let obj = object();
        if let Ok(c) = parse_condition(&obj, Some(&cond)) {
            let _ = c.matches(&rec.into_iter().collect());
        }
    }

    #[test]
    fn values_are_checked_without_panicking(v in arb()) {
        for (i, kind) in DATA_TYPES.iter().enumerate() {
            if let Ok(out) = check_value(&field(i, kind), &v) {
                // Accepted values are stored as given or normalised, never turned into something
                // of another JSON kind except text from numbers and joined multi-select lists.
                prop_assert!(out.is_null() || out.is_string() || out.is_number() || out.is_boolean());
            }
        }
    }
}
