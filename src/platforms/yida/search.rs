//! `searchFieldJson` in both documented forms — a map `{fieldId: condition}` (§ simple search) or an
//! array of `{key, value, type, operator, componentName}` (the data-management filter) — and
//! `dynamicOrder`.

use std::cmp::Ordering;

use serde_json::Value;

use super::errors::YidaError;
use super::model::{Component, FormInstance};
use crate::Locale;

fn num(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A stored or wanted value as text, the way conditions compare it.
pub fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn list(v: &Value) -> Vec<String> {
    match v {
        Value::Array(a) => a.iter().map(text).collect(),
        Value::Null => Vec::new(),
        other => vec![text(other)],
    }
}

#[derive(Debug)]
enum Cond {
    Simple { field: String, kind: &'static str, value: Value },
    Advanced { field: String, op: String, value: Value },
}

#[derive(Debug, Default)]
pub struct Search {
    conds: Vec<Cond>,
}

fn parse_json(raw: Option<&Value>, name: &str, locale: Locale) -> Result<Option<Value>, YidaError> {
    match raw {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => {
            serde_json::from_str(s).map(Some).map_err(|_| YidaError::param(&format!("{name} 不是合法的 JSON"), locale))
        }
        Some(other) => Ok(Some(other.clone())),
    }
}

const SYSTEM_TEXT_KEYS: &[&str] = &["currentNodeName", "title"];

impl Search {
    pub fn parse(raw: Option<&Value>, components: &[Component], locale: Locale) -> Result<Search, YidaError> {
        let Some(v) = parse_json(raw, "searchFieldJson", locale)? else { return Ok(Search::default()) };
        let find = |id: &str| components.iter().find(|c| c.id == id).map(|c| c.kind);
        let mut conds = Vec::new();
        match v {
            Value::Object(m) => {
                for (k, value) in m {
                    let kind = find(&k).ok_or_else(|| YidaError::param("field is null", locale))?;
                    conds.push(Cond::Simple { field: k, kind, value });
                }
            }
            Value::Array(items) => {
                for c in items {
                    let key = c.get("key").and_then(Value::as_str).ok_or_else(|| YidaError::param("field is null", locale))?;
                    if find(key).is_none() && !SYSTEM_TEXT_KEYS.contains(&key) {
                        return Err(YidaError::param("field is null", locale));
                    }
                    let op = c.get("operator").and_then(Value::as_str).unwrap_or("eq").to_owned();
                    if !["eq", "like", "gt", "ge", "lt", "le", "between", "contains"].contains(&op.as_str()) {
                        return Err(YidaError::param(&format!("不支持的操作符 {op}"), locale));
                    }
                    conds.push(Cond::Advanced { field: key.to_owned(), op, value: c.get("value").cloned().unwrap_or(Value::Null) });
                }
            }
            _ => return Err(YidaError::param("searchFieldJson 必须是对象或数组", locale)),
        }
        Ok(Search { conds })
    }

    /// `(field, value)` when the search is exactly one condition "select field is this text" (the
    /// object form on a radio or select component): an instance matches exactly when its stored value
    /// reads as that text, which a select index answers.
    pub fn single_select_eq(&self) -> Option<(&str, &str)> {
        match self.conds.as_slice() {
            [Cond::Simple { field, kind: "RadioField" | "SelectField", value: Value::String(want) }] => Some((field, want)),
            _ => None,
        }
    }

    /// Whether the search has no conditions (every instance matches).
    pub fn is_empty(&self) -> bool {
        self.conds.is_empty()
    }

    /// `system` supplies values of system keys such as `currentNodeName`.
    pub fn matches(&self, inst: &FormInstance, system: &dyn Fn(&str) -> Option<Value>) -> bool {
        self.conds.iter().all(|c| match c {
            Cond::Simple { field, kind, value } => simple(kind, &inst.data.value(field).unwrap_or_default(), value),
            Cond::Advanced { field, op, value } => {
                let stored = inst.data.value(field).or_else(|| system(field).map(std::borrow::Cow::Owned)).unwrap_or_default();
                advanced(op, &stored, value)
            }
        })
    }
}

fn simple(kind: &str, stored: &Value, want: &Value) -> bool {
    match kind {
        "TextField" | "TextareaField" | "TableField" | "ImageField" | "AttachmentField" => {
            let hay = if kind == "TableField" { stored.to_string() } else { text(stored) };
            hay.contains(&text(want))
        }
        "NumberField" | "RateField" | "DateField" => {
            let bounds = list(want);
            let Some(x) = num(stored) else { return false };
            let lo = bounds.first().and_then(|b| b.trim().parse::<f64>().ok());
            let hi = bounds.get(1).and_then(|b| b.trim().parse::<f64>().ok());
            lo.is_none_or(|l| x >= l) && hi.is_none_or(|h| x <= h)
        }
        "CheckboxField" | "MultiSelectField" => {
            let have = list(stored);
            list(want).iter().all(|w| have.contains(w))
        }
        "EmployeeField" => list(stored) == list(want),
        "CitySelectField" | "CascadeSelectField" => {
            let have = list(stored);
            let w = list(want);
            w.len() <= have.len() && w.iter().zip(&have).all(|(a, b)| a == b)
        }
        "DepartmentSelectField" => list(stored) == list(want),
        "CascadeDateField" => {
            let have: Vec<Option<f64>> = list(stored).iter().map(|s| s.parse().ok()).collect();
            let ranges = match want {
                Value::Array(r) => r.clone(),
                _ => return false,
            };
            ranges.iter().enumerate().all(|(i, r)| {
                let b = list(r);
                let x = have.get(i).copied().flatten();
                match x {
                    Some(x) => {
                        b.first().and_then(|l| l.parse::<f64>().ok()).is_none_or(|l| x >= l)
                            && b.get(1).and_then(|h| h.parse::<f64>().ok()).is_none_or(|h| x <= h)
                    }
                    None => b.iter().all(String::is_empty),
                }
            })
        }
        _ => match (stored, want) {
            (Value::String(a), Value::String(b)) => a == b,
            _ => text(stored) == text(want),
        },
    }
}

fn advanced(op: &str, stored: &Value, want: &Value) -> bool {
    match op {
        "like" => text(stored).contains(&text(want)),
        "eq" => match stored {
            Value::Array(_) => list(stored).contains(&text(want)),
            _ => match (num(stored), num(want)) {
                (Some(a), Some(b)) if !stored.is_string() => a == b,
                _ => text(stored) == text(want),
            },
        },
        "contains" => {
            // EmployeeField sends the ids as a JSON-encoded string.
            let wanted = match want {
                Value::String(s) if s.trim_start().starts_with('[') => {
                    serde_json::from_str::<Value>(s).map(|v| list(&v)).unwrap_or_default()
                }
                other => list(other),
            };
            match stored {
                Value::Array(_) => {
                    let have = list(stored);
                    wanted.iter().any(|w| have.contains(w))
                }
                _ => wanted.iter().any(|w| text(stored).contains(w.as_str())),
            }
        }
        "between" => {
            let b = list(want);
            let Some(x) = num(stored) else { return false };
            b.first().and_then(|v| v.parse::<f64>().ok()).is_none_or(|l| x >= l)
                && b.get(1).and_then(|v| v.parse::<f64>().ok()).is_none_or(|h| x <= h)
        }
        _ => {
            let (Some(x), Some(y)) = (num(stored), num(want)) else { return false };
            match op {
                "gt" => x > y,
                "ge" => x >= y,
                "lt" => x < y,
                _ => x <= y,
            }
        }
    }
}

/// `dynamicOrder`: `{"<fieldId>|gmt_create|gmt_modified": "+"|"-"}`, keys in order; default newest first.
pub fn order(raw: Option<&Value>, components: &[Component], locale: Locale) -> Result<Vec<(String, bool)>, YidaError> {
    let Some(v) = parse_json(raw, "dynamicOrder", locale)? else { return Ok(Vec::new()) };
    let Value::Object(m) = v else { return Err(YidaError::param("dynamicOrder 必须是对象", locale)) };
    m.into_iter()
        .map(|(k, dir)| {
            if !["gmt_create", "gmt_modified"].contains(&k.as_str()) && !components.iter().any(|c| c.id == k) {
                return Err(YidaError::param("field is null", locale));
            }
            match dir.as_str() {
                Some("+") => Ok((k, true)),
                Some("-") => Ok((k, false)),
                _ => Err(YidaError::param("dynamicOrder 的值必须是 + 或 -", locale)),
            }
        })
        .collect()
}

pub fn sort(items: &mut [&FormInstance], keys: &[(String, bool)]) {
    if keys.is_empty() {
        // Newest first. Lists keep creation order, so reversed they are usually sorted already: checked
        // in one pass, sorted only when the clock was moved back between writes.
        let newest_first =
            |a: &&FormInstance, b: &&FormInstance| b.created_ms.cmp(&a.created_ms).then_with(|| b.form_inst_id.cmp(&a.form_inst_id));
        items.reverse();
        if !items.is_sorted_by(|a, b| newest_first(a, b) != Ordering::Greater) {
            items.sort_by(newest_first);
        }
        return;
    }
    items.sort_by(|a, b| {
        for (k, asc) in keys {
            let ord = match k.as_str() {
                "gmt_create" => a.created_ms.cmp(&b.created_ms),
                "gmt_modified" => a.modified_ms.cmp(&b.modified_ms),
                _ => cmp_values(a.data.value(k).as_deref(), b.data.value(k).as_deref()),
            };
            let ord = if *asc { ord } else { ord.reverse() };
            if ord != Ordering::Equal {
                return ord;
            }
        }
        Ordering::Equal
    });
}

fn cmp_values(a: Option<&Value>, b: Option<&Value>) -> Ordering {
    let (a, b) = (a.unwrap_or(&Value::Null), b.unwrap_or(&Value::Null));
    match (num(a), num(b)) {
        (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
        _ => text(a).cmp(&text(b)),
    }
}

#[cfg(test)]
mod props {
    use proptest::prelude::*;
    use serde_json::{Map, Value};

    use super::{order, Search};
    use crate::core::directory::Directory;
    use crate::platforms::yida::model::{Component, FormInstance};
    use crate::platforms::yida::values::{convert_map, KINDS};
    use crate::Locale;

    fn components() -> Vec<Component> {
        KINDS
            .iter()
            .enumerate()
            .map(|(i, k)| Component {
                id: format!("f{i}"),
                label: (*k).into(),
                kind: k,
                required: false,
                options: vec![],
                options_en: Default::default(),
                items: vec![Component {
                    id: "s".into(),
                    label: "s".into(),
                    kind: "TextField",
                    required: false,
                    options: vec![],
                    options_en: Default::default(),
                    items: vec![],
                }],
            })
            .collect()
    }

    fn arb() -> impl Strategy<Value = Value> {
        crate::core::arb_json::arb_json(
            ".{0,8}",
            &["f0", "f2", "f6", "f8", "f18", "eq", "like", "between", "contains", "gt"],
            &["key", "value", "operator", "f1", "f9", "f18"],
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: crate::core::arb_json::cases(1500), ..ProptestConfig::default() })]

        /// searchFieldJson (as JSON, or as a string that may not be JSON) and dynamicOrder never panic;
        /// a decoded search evaluates against arbitrary data.
        #[test]
        fn search_decoding_never_panics(raw in arb(), text in ".{0,24}", data in prop::collection::btree_map("f[0-9]{1,2}", arb(), 0..6)) {
            let comps = components();
            for input in [raw.clone(), Value::String(raw.to_string()), Value::String(text.clone())] {
                if let Ok(s) = Search::parse(Some(&input), &comps, Locale::Zh) {
                    let inst = FormInstance { form_inst_id: "x".into(), process_instance_id: None, data: crate::core::compact::Interner::default().store(&data.clone().into_iter().collect()), originator: "u".into(), created_ms: 0, modified_ms: 0, modifier: "u".into(), version: 1, process: None, log: Vec::new() };
                    let _ = s.matches(&inst, &|_| None);
                }
                let _ = order(Some(&input), &comps, Locale::Zh);
            }
        }

        /// Any formDataJson either converts or is refused with the parameter error.
        #[test]
        fn value_decoding_never_panics(data in prop::collection::btree_map("f[0-9]{1,2}", arb(), 0..8)) {
            let m: Map<String, Value> = data.into_iter().collect();
            if let Err(e) = convert_map(&components(), &m, &Directory::default(), Locale::Zh) {
                prop_assert_eq!(e.code, "TIANSHU_000002");
            }
        }
    }
}
