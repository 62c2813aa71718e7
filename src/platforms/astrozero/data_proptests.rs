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
        interner: Default::default(),
        write_lock: Mutex::new(()),
        unique_index: Default::default(),
        text_index: Default::default(),
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
    /// Conditions never panic, and a stored record answers them as the map it was stored from.
    fn conditions_never_panic(cond in arb(), rec in prop::collection::btree_map("ns__f[0-9]{1,2}__CST|name|id", arb(), 0..8)) {
        let obj = object();
        if let Ok(c) = parse_condition(&obj, Some(&cond)) {
            let map: super::model::Record = rec.into_iter().collect();
            let stored = obj.store(&map);
            prop_assert_eq!(c.matches(&map), c.matches(&stored));
            prop_assert_eq!(c.matches(&stored), c.matches(&stored), "the remembered slot changes no answer");
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

fn stored() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        prop::sample::select(vec!["发货", "新建", "1", "1.0", " 发货", ""]).prop_map(|s| Value::String(s.into())),
        prop::sample::select(vec![1.0f64, 0.0]).prop_map(|n| serde_json::json!(n)),
        any::<bool>().prop_map(Value::Bool),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: crate::core::arb_json::cases(300), ..ProptestConfig::default() })]

    /// A query answered from the text index has the same total and page as the scan it replaces.
    #[test]
    fn text_index_pages_equal_the_scan(
        values in prop::collection::vec(prop::option::of(stored()), 0..40),
        want in prop::sample::select(vec!["发货", "新建", "1", "", "x"]),
        skip in 0usize..12,
        take in 1usize..8,
        writes in prop::collection::vec((0usize..40, stored()), 0..3),
    ) {
        let obj = object();
        let rec = |i: usize, v: &Option<Value>| {
            let mut m = serde_json::Map::new();
            m.insert("id".into(), Value::String(format!("r{i:03}")));
            if let Some(v) = v {
                m.insert("ns__f0__CST".into(), v.clone());
            }
            (format!("r{i:03}"), obj.store(&m))
        };
        obj.records.insert_many(values.iter().enumerate().map(|(i, v)| rec(i, v)));
        let cond = parse_condition(&obj, Some(&serde_json::json!({ "conditions": [{ "field": "ns__f0__CST", "operator": "eq", "value": want }] }))).expect("parses");
        let check = |obj: &Obj| -> Result<(), TestCaseError> {
            let ids = |p: &[std::sync::Arc<super::model::Stored>]| p.iter().map(|r| r.to_value_of("id")).collect::<Vec<_>>();
            let (total, page) = obj.records.count_and_page(skip, take, |r| cond.matches(r));
            match cond.single_text_eq() {
                Some((field, w)) => {
                    let (t, p) = obj.text_index.page(&obj.records, field, w, |r| r.str(field).map(std::borrow::Cow::Borrowed), skip, take).expect("no write meanwhile");
                    prop_assert_eq!((t, ids(&p)), (total, ids(&page)));
                }
                None => prop_assert!(want.trim().parse::<f64>().is_ok(), "only numeric texts fall back: {want:?}"),
            }
            Ok(())
        };
        check(&obj)?;
        for (i, v) in writes {
            let (id, m) = rec(i, &Some(v));
            obj.records.insert(&id, m);
            check(&obj)?;
        }
    }
}
