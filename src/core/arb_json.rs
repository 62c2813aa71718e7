//! Arbitrary JSON for the decoders' property tests: random scalars, the words a decoder looks for
//! (field names, operators), and objects keyed by the names it reads, nested a few levels deep.

use proptest::prelude::*;
use serde_json::{json, Value};

/// Cases per property: `default`, or `FUZZ_CASES` when set (bench/fuzz.sh runs them at scale).
pub fn cases(default: u32) -> u32 {
    std::env::var("FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// JSON whose strings are drawn from `text` (a regex) or `words`, and whose object keys are `keys`
/// or short random names.
pub fn arb_json(text: &'static str, words: &'static [&'static str], keys: &'static [&'static str]) -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        text.prop_map(Value::String),
        prop::sample::select(words).prop_map(|s| json!(s)),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![prop::sample::select(keys).prop_map(String::from), "[a-z]{1,4}".prop_map(String::from)],
                inner,
                0..5
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}
