//! Compact JSON printing for records on the request path, byte for byte what `serde_json::to_writer`
//! prints (a property test compares the two) without serde's generic machinery: keys and text that
//! need no escaping — nearly all of them — are copied as they are, numbers go through `itoa`.
//!
//! Why: printing a created record was a tenth of a create's CPU, most of it serde's per-token calls.

use serde_json::{Number, Value};

/// A value that prints its own compact JSON (as `serde_json::to_writer` would).
pub trait PrintJson {
    fn print_json(&self, out: &mut Vec<u8>);
}

impl PrintJson for Value {
    fn print_json(&self, out: &mut Vec<u8>) {
        write_value(out, self);
    }
}

/// Whether `s` prints as itself between quotes: serde_json escapes only `"`, `\` and control
/// characters (everything else, non-ASCII included, is written as it is).
fn plain(s: &str) -> bool {
    !s.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\')
}

/// A JSON string.
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    if plain(s) {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        // Writing into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, s);
    }
}

/// `"key":`.
pub fn write_key(out: &mut Vec<u8>, key: &str) {
    write_str(out, key);
    out.push(b':');
}

pub fn write_number(out: &mut Vec<u8>, n: &Number) {
    if let Some(i) = n.as_u64() {
        out.extend_from_slice(itoa::Buffer::new().format(i).as_bytes());
    } else if let Some(i) = n.as_i64() {
        out.extend_from_slice(itoa::Buffer::new().format(i).as_bytes());
    } else {
        let _ = serde_json::to_writer(&mut *out, n);
    }
}

/// Writes `items` as a JSON array into `out`, each by `write`.
pub fn write_array<T>(out: &mut Vec<u8>, items: &[T], mut write: impl FnMut(&mut Vec<u8>, &T)) {
    out.push(b'[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write(out, item);
    }
    out.push(b']');
}

pub fn write_value(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => write_number(out, n),
        Value::String(s) => write_str(out, s),
        Value::Array(items) => write_array(out, items, write_value),
        Value::Object(m) => {
            out.push(b'{');
            for (i, (k, v)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_key(out, k);
                write_value(out, v);
            }
            out.push(b'}');
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;
    use crate::core::arb_json::{arb_json, cases};

    fn printed(v: &Value) -> String {
        let mut out = Vec::new();
        write_value(&mut out, v);
        String::from_utf8(out).expect("UTF-8")
    }

    #[test]
    fn escapes_as_serde_json_does() {
        let v = json!({"a\"b": ["\u{1}\n\t\\", "压测/é", -5, 18446744073709551615u64, 1.5, 1e300, -0.0, null, true, false, {}], "": []});
        assert_eq!(printed(&v), serde_json::to_string(&v).expect("prints"));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(cases(256)))]
        #[test]
        fn prints_what_serde_json_prints(v in arb_json("[\\x00-\\x7f\"\\\\é压]{0,8}", &["value", "压测"], &["k\"", "_widget_1", "值"])) {
            prop_assert_eq!(printed(&v), serde_json::to_string(&v).expect("prints"));
        }
    }
}
