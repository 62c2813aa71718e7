//! The `filter` of `data/list`: `{"rel": "and"|"or", "cond": [{field, type?, method, value?}]}`.
//!
//! Decoding checks each condition against the field's type and the documented support matrix; any
//! problem is error 4815. Evaluation runs against stored (read-shape) records.

use std::borrow::Cow;

use serde_json::Value;

use super::errors::JdyError;
use super::model::{Entry, Stored, Val, WidgetType};
use super::values::{is_empty, parse_datetime_str};
use crate::core::directory::Directory;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Number,
    Datetime,
    Multi,
    Phone,
    Serial,
    User,
    UserGroup,
    Dept,
    DeptGroup,
    Lookup,
    FlowState,
    DataId,
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    Eq,
    Ne,
    In,
    Nin,
    Range,
    Gt,
    Lt,
    Empty,
    NotEmpty,
    Like,
    All,
    Verified,
    Unverified,
}

fn method(s: &str) -> Option<Method> {
    Some(match s {
        "eq" => Method::Eq,
        "ne" => Method::Ne,
        "in" => Method::In,
        "nin" => Method::Nin,
        "range" => Method::Range,
        "gt" => Method::Gt,
        "lt" => Method::Lt,
        "empty" => Method::Empty,
        "not_empty" => Method::NotEmpty,
        "like" => Method::Like,
        "all" => Method::All,
        "verified" => Method::Verified,
        "unverified" => Method::Unverified,
        _ => return None,
    })
}

/// The documented support matrix (filter section of 查询多条数据接口 and the 2026 reference).
fn allowed(kind: Kind, m: Method) -> bool {
    use Method::*;
    if matches!(m, Empty | NotEmpty) {
        return true;
    }
    match kind {
        Kind::Text | Kind::User | Kind::Dept | Kind::Lookup => matches!(m, Eq | Ne | In | Nin | Like),
        Kind::FlowState => matches!(m, Eq | Ne | In | Nin),
        Kind::DataId => matches!(m, Eq | Ne | In | Nin),
        Kind::Number => matches!(m, Eq | Ne | Range | Gt | Lt),
        Kind::Datetime => matches!(m, Eq | Ne | Range | Gt | Lt),
        Kind::Multi | Kind::UserGroup | Kind::DeptGroup => matches!(m, In | All),
        Kind::Phone => matches!(m, Like | Verified | Unverified),
        Kind::Serial => matches!(m, Eq | Ne | In | Nin | Like),
        Kind::Other => false,
    }
}

#[derive(Debug, Clone)]
struct Cond {
    field: String,
    kind: Kind,
    method: Method,
    values: Vec<Value>,
    /// `values` as the text equality compares against, computed once per request rather than
    /// once per scanned record.
    wanted: Vec<String>,
    /// Per the reference: a `nin` on a member field naming an unknown username is ignored.
    ignored: bool,
    /// Where the field sat in the last record scanned: records of a form share their layout.
    slot: std::cell::Cell<usize>,
}

#[derive(Debug, Clone)]
pub struct Filter {
    any: bool,
    conds: Vec<Cond>,
}

fn bad(why: impl Into<String>) -> JdyError {
    JdyError::with_detail(4815, why)
}

impl Filter {
    /// Decodes a filter; `None`/`null` means no filter.
    pub fn parse(v: Option<&Value>, entry: &Entry, dir: &Directory, in_max: usize) -> Result<Option<Filter>, JdyError> {
        let obj = match v {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::Object(o)) => o,
            Some(_) => return Err(bad("filter must be an object")),
        };
        let any = match obj.get("rel") {
            None | Some(Value::Null) => false,
            Some(Value::String(s)) if s == "and" => false,
            Some(Value::String(s)) if s == "or" => true,
            Some(_) => return Err(bad("rel must be \"and\" or \"or\"")),
        };
        let conds = match obj.get("cond") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(a)) => a.iter().map(|c| parse_cond(c, entry, dir, in_max)).collect::<Result<_, _>>()?,
            Some(_) => return Err(bad("cond must be an array")),
        };
        Ok(Some(Filter { any, conds }))
    }

    /// A text field and the one text it must equal for any record to match (`eq`/`in` of a single
    /// value on a text widget, alone or under `and`), so the records holding that text can be found
    /// through an index rather than a scan; and whether that condition is the whole filter (then a
    /// record found so needs no further check).
    pub fn text_equality(&self) -> Option<(&str, &str, bool)> {
        let live = self.conds.iter().filter(|c| !c.ignored).count();
        if self.any && live != 1 {
            return None;
        }
        self.conds.iter().filter(|c| !c.ignored).find_map(|c| match (c.kind, c.method, c.values.as_slice(), c.wanted.as_slice()) {
            (Kind::Text, Method::Eq | Method::In, [_], [want]) => Some((c.field.as_str(), want.as_str(), live == 1)),
            _ => None,
        })
    }

    pub fn matches(&self, rec: &Stored) -> bool {
        let mut live = self.conds.iter().filter(|c| !c.ignored).peekable();
        if live.peek().is_none() {
            return true;
        }
        if self.any {
            live.any(|c| c.matches(rec))
        } else {
            live.all(|c| c.matches(rec))
        }
    }
}

fn field_kind(field: &str, entry: &Entry) -> Option<Kind> {
    Some(match field {
        "_id" | "data_id" => Kind::DataId,
        "flowState" if entry.is_workflow() => Kind::FlowState,
        "creator" | "updater" => Kind::User,
        "createTime" | "updateTime" => Kind::Datetime,
        _ => {
            let w = entry.schema.get(field)?;
            use WidgetType::*;
            match w.kind {
                Text | Textarea | Radiogroup | Combo => Kind::Text,
                Number | Aggregation => Kind::Number,
                Datetime => Kind::Datetime,
                Checkboxgroup | Combocheck => Kind::Multi,
                Phone => Kind::Phone,
                Sn => Kind::Serial,
                User => Kind::User,
                Usergroup => Kind::UserGroup,
                Dept => Kind::Dept,
                Deptgroup => Kind::DeptGroup,
                Lookup => Kind::Lookup,
                Subform => return None,
                _ => Kind::Other,
            }
        }
    })
}

fn parse_cond(c: &Value, entry: &Entry, dir: &Directory, in_max: usize) -> Result<Cond, JdyError> {
    let Value::Object(c) = c else { return Err(bad("each cond must be an object")) };
    let field = c.get("field").and_then(Value::as_str).ok_or_else(|| bad("cond.field is required"))?;
    let method_name = c.get("method").and_then(Value::as_str).ok_or_else(|| bad("cond.method is required"))?;
    let m = method(method_name).ok_or_else(|| bad(format!("unknown method {method_name}")))?;
    if let Some(t) = c.get("type") {
        if !t.is_string() && !t.is_null() {
            return Err(bad("cond.type must be a string"));
        }
    }
    let kind = field_kind(field, entry).ok_or_else(|| bad(format!("field {field} cannot be filtered")))?;
    if !allowed(kind, m) {
        return Err(bad(format!("method {method_name} is not supported on field {field}")));
    }
    let values = match c.get("value") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a.clone(),
        // A scalar is accepted as a one-element array; clients commonly send it so.
        Some(v @ (Value::String(_) | Value::Number(_) | Value::Bool(_))) => vec![v.clone()],
        Some(_) => return Err(bad("cond.value must be an array")),
    };
    let needs_values = !matches!(m, Method::Empty | Method::NotEmpty | Method::Verified | Method::Unverified);
    if needs_values && values.is_empty() {
        return Err(bad(format!("method {method_name} needs a value")));
    }
    if matches!(m, Method::In | Method::Nin | Method::All) && values.len() > in_max {
        return Err(bad(format!("at most {in_max} values for {method_name}")));
    }
    if m == Method::Range && values.len() != 2 {
        return Err(bad("range takes [from, to]"));
    }
    if matches!(kind, Kind::Number) && needs_values && !values.iter().all(|v| v.is_null() || as_f64(v).is_some()) {
        return Err(bad(format!("field {field} takes numbers")));
    }
    if matches!(kind, Kind::Datetime) && needs_values && !values.iter().all(|v| v.is_null() || datetime_span(v).is_some()) {
        return Err(bad(format!("field {field} takes dates")));
    }
    let ignored = m == Method::Nin && kind == Kind::User && values.iter().any(|v| v.as_str().is_none_or(|u| dir.user(u).is_none()));
    let wanted = values.iter().filter_map(wanted).collect();
    Ok(Cond { field: field.to_owned(), kind, method: m, values, wanted, ignored, slot: Default::default() })
}

fn as_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn datetime_span(v: &Value) -> Option<(i64, i64)> {
    match v {
        Value::String(s) => parse_datetime_str(s),
        Value::Number(n) => n.as_i64().map(|ms| (ms, ms + 1)),
        _ => None,
    }
}

/// The comparable scalar of a stored value for eq/in: usernames for members, dept_no for departments.
fn scalar(kind: Kind, v: &Value) -> Option<String> {
    match (kind, v) {
        (Kind::User | Kind::UserGroup, Value::Object(o)) => o.get("username").and_then(Value::as_str).map(str::to_owned),
        (Kind::Dept | Kind::DeptGroup, Value::Object(o)) => o.get("dept_no").map(Value::to_string),
        (_, Value::String(s)) => Some(s.clone()),
        (_, Value::Number(n)) => Some(n.to_string()),
        (_, Value::Bool(b)) => Some(b.to_string()),
        _ => None,
    }
}

/// `scalar` without allocating where the stored value already is text (the common case).
fn scalar_ref(kind: Kind, v: &Value) -> Option<Cow<'_, str>> {
    match (kind, v) {
        (Kind::User | Kind::UserGroup, Value::Object(o)) => o.get("username").and_then(Value::as_str).map(Cow::Borrowed),
        (_, Value::String(s)) => Some(Cow::Borrowed(s)),
        (Kind::Dept | Kind::DeptGroup, _) | (_, Value::Number(_) | Value::Bool(_)) => scalar(kind, v).map(Cow::Owned),
        _ => None,
    }
}

fn wanted(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

impl Cond {
    fn matches(&self, rec: &Stored) -> bool {
        let stored = rec.get_near(&self.field, &self.slot);
        match self.method {
            Method::Empty => is_empty_val(stored),
            Method::NotEmpty => !is_empty_val(stored),
            Method::Eq | Method::In => self.equals_any(stored),
            Method::Ne | Method::Nin => !self.equals_any(stored),
            Method::Range => self.in_range(stored),
            Method::Gt => self.compare(stored, |a, b| a > b),
            Method::Lt => self.compare(stored, |a, b| a < b),
            Method::Like => {
                let hay = match stored {
                    Some(Val::Json(v)) => v.get("phone").and_then(Value::as_str).unwrap_or(""),
                    Some(Val::Str(s)) => s,
                    _ => "",
                };
                self.values.iter().filter_map(wanted).any(|w| hay.contains(&w))
            }
            Method::All => {
                let have: Vec<String> =
                    stored.and_then(Val::as_array).map(|a| a.iter().filter_map(|v| scalar(self.kind, v)).collect()).unwrap_or_default();
                self.values.iter().filter_map(wanted).all(|w| have.contains(&w))
            }
            Method::Verified | Method::Unverified => {
                let phone = stored.and_then(Val::as_object);
                let filled = phone.and_then(|p| p.get("phone")).and_then(Value::as_str).is_some_and(|s| !s.is_empty());
                let verified = phone.and_then(|p| p.get("verified")).and_then(Value::as_bool).unwrap_or(false);
                filled && (verified == (self.method == Method::Verified))
            }
        }
    }

    fn equals_any(&self, stored: Option<&Val>) -> bool {
        let Some(stored) = stored else { return false };
        match self.kind {
            Kind::Number => stored_f64(stored).is_some_and(|x| self.values.iter().filter_map(as_f64).any(|w| w == x)),
            Kind::Datetime => stored_ms(stored).is_some_and(|t| self.values.iter().filter_map(datetime_span).any(|(a, b)| a <= t && t < b)),
            Kind::Multi | Kind::UserGroup | Kind::DeptGroup => {
                let have = stored.as_array().map(Vec::as_slice).unwrap_or_default();
                have.iter().filter_map(|v| scalar_ref(self.kind, v)).any(|h| self.wanted.iter().any(|w| *w == *h))
            }
            _ => stored_scalar(self.kind, stored).is_some_and(|s| self.wanted.iter().any(|w| *w == *s)),
        }
    }

    fn in_range(&self, stored: Option<&Val>) -> bool {
        let Some(stored) = stored else { return false };
        let (lo, hi) = (&self.values[0], &self.values[1]);
        match self.kind {
            Kind::Datetime => {
                let Some(t) = stored_ms(stored) else { return false };
                datetime_span(lo).is_none_or(|(a, _)| t >= a) && datetime_span(hi).is_none_or(|(_, b)| t < b)
            }
            _ => {
                let Some(x) = stored_f64(stored) else { return false };
                as_f64(lo).is_none_or(|a| x >= a) && as_f64(hi).is_none_or(|b| x <= b)
            }
        }
    }

    fn compare(&self, stored: Option<&Val>, op: fn(f64, f64) -> bool) -> bool {
        let Some(stored) = stored else { return false };
        let x = match self.kind {
            Kind::Datetime => stored_ms(stored).map(|t| t as f64),
            _ => stored_f64(stored),
        };
        let w = match self.kind {
            Kind::Datetime => datetime_span(&self.values[0]).map(|(a, _)| a as f64),
            _ => as_f64(&self.values[0]),
        };
        matches!((x, w), (Some(x), Some(w)) if op(x, w))
    }
}

fn stored_ms(v: &Val) -> Option<i64> {
    v.as_str().and_then(crate::core::clock::parse_rfc3339_ms)
}

fn stored_f64(v: &Val) -> Option<f64> {
    match v {
        Val::Num(n) => n.as_f64(),
        Val::Str(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// `scalar_ref` of a stored cell.
fn stored_scalar(kind: Kind, v: &Val) -> Option<Cow<'_, str>> {
    match v {
        Val::Null => None,
        Val::Str(s) => Some(Cow::Borrowed(s)),
        Val::Num(n) => Some(Cow::Owned(n.to_string())),
        Val::Bool(b) => Some(Cow::Owned(b.to_string())),
        Val::Json(j) => scalar_ref(kind, j),
    }
}

/// What a text condition's `eq` compares in a record: the field's text (for [`Filter::text_equality`]'s
/// index, so it finds exactly the records the condition matches).
pub fn text_of<'r>(rec: &'r Stored, field: &str, slot: &std::cell::Cell<usize>) -> Option<Cow<'r, str>> {
    rec.get_near(field, slot).and_then(|v| stored_scalar(Kind::Text, v))
}

/// `is_empty` of a stored cell.
fn is_empty_val(v: Option<&Val>) -> bool {
    match v {
        None | Some(Val::Null) => true,
        Some(Val::Str(s)) => s.is_empty(),
        Some(Val::Json(j)) => is_empty(Some(j)),
        Some(Val::Bool(_) | Val::Num(_)) => false,
    }
}

#[cfg(test)]
mod props {
    use proptest::prelude::*;
    use serde_json::Value;

    use super::Filter;
    use crate::core::directory::Directory;
    use crate::platforms::jiandaoyun::model::Entry;
    use crate::platforms::jiandaoyun::scenario::{schema_of, JdyEntryDef, WidgetDef};

    fn entry() -> Entry {
        let kinds =
            ["text", "number", "datetime", "checkboxgroup", "phone", "user", "usergroup", "dept", "subform", "address", "sn", "lookup"];
        let widgets = kinds
            .iter()
            .enumerate()
            .map(|(i, k)| WidgetDef {
                name: format!("w{i}"),
                label: (*k).into(),
                kind: (*k).into(),
                required: false,
                alias: None,
                options: vec![],
                items: vec![],
                prefix: None,
                digits: None,
            })
            .collect();
        let def = JdyEntryDef {
            entry_id: "e".into(),
            name: "e".into(),
            flow: Some("f".into()),
            widgets,
            records: vec![],
            records_file: None,
            generate: None,
            push: None,
        };
        Entry {
            app_id: "a".into(),
            entry_id: "e".into(),
            name: "e".into(),
            flow: def.flow.clone(),
            schema: schema_of(&def),
            subforms: Default::default(),
            records: Default::default(),
            text_index: Default::default(),
            interner: Default::default(),
            modified_ms: Default::default(),
            serials: Default::default(),
            push: None,
            recycle: Default::default(),
        }
    }

    fn arb_json() -> impl Strategy<Value = Value> {
        crate::core::arb_json::arb_json(
            "[a-z0-9_\\-: ]{0,12}",
            &[
                "w0",
                "w1",
                "w2",
                "w3",
                "w4",
                "w5",
                "w8",
                "flowState",
                "_id",
                "createTime",
                "eq",
                "ne",
                "in",
                "nin",
                "range",
                "gt",
                "lt",
                "like",
                "all",
                "empty",
                "verified",
            ],
            &["rel", "cond", "field", "method", "value", "type"],
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: crate::core::arb_json::cases(2000), ..ProptestConfig::default() })]

        /// Any JSON either decodes or is refused with 4815; evaluation never panics.
        #[test]
        fn filter_decoding_never_panics(filter in arb_json(), record in arb_json()) {
            let e = entry();
            let dir = Directory::default();
            match Filter::parse(Some(&filter), &e, &dir, 200) {
                Ok(Some(f)) => {
                    if let Value::Object(r) = record {
                        let _ = f.matches(&e.interner.store(&r));
                    }
                }
                Ok(None) => {}
                Err(err) => prop_assert_eq!(err.code, 4815),
            }
        }
    }
}
