//! Property tests: conditions and field values from arbitrary JSON never panic, and a parsed
//! condition evaluates against arbitrary records.

use parking_lot::{Mutex, RwLock};
use proptest::prelude::*;
use serde_json::Value;

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
        picklist: None,
    }
}

fn object() -> Obj {
    Obj {
        id: "o".into(),
        name: "ns__O__CST".into(),
        label: RwLock::new("o".into()),
        description: RwLock::new(String::new()),
        key_prefix: "c001".into(),
        custom: true,
        created_ms: 0,
        fields: RwLock::new(DATA_TYPES.iter().enumerate().map(|(i, k)| field(i, k)).collect()),
        records: Default::default(),
        write_lock: Mutex::new(()),
        unique_index: Default::default(),
    }
}

fn arb() -> impl Strategy<Value = Value> {
    crate::core::arb_json::arb_json(
        ".{0,8}",
        &["ns__f0__CST", "NS__F4__CST", "name", "AND", "or", "eq", "ge", "like", "2026-01-01", "a;b"],
        &["conjunction", "conditions", "field", "operator", "value"],
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: crate::core::arb_json::cases(2000), ..ProptestConfig::default() })]

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
