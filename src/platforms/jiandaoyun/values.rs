//! Field values: the write shape clients send (`{"value": …}` per widget) → the stored read shape.
//!
//! Jiandaoyun does not run required or duplicate checks on API writes (documented), and its official
//! plugin notes that values that do not fit a widget are stored as empty. That is the default here;
//! `[jiandaoyun] strict_values = true` turns such values into error 4000 naming the field instead.
//! Unknown members (1010) and departments (6002) are always errors, as documented.

use chrono::{NaiveDate, NaiveDateTime};
use serde_json::{json, Map, Value};

use super::errors::JdyError;
use super::model::{Schema, Widget, WidgetType};
use crate::core::clock::iso_utc_ms;
use crate::core::directory::{Department, Directory, User};

/// China Standard Time: naive dates and times without a zone are read as UTC+8, as the product does.
const CST_OFFSET_MS: i64 = 8 * 3_600_000;

/// Which shape values arrive in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// API writes: every field wrapped as `{"value": …}`; subform rows wrapped the same way.
    Write,
    /// Scenario records: bare read-shape values (member objects or usernames, attachment objects …).
    Seed,
}

/// Resolves an upload key to the attachment object records read back.
pub type BindFile<'a> = &'a dyn Fn(&str) -> Result<Value, JdyError>;

pub struct Converter<'a> {
    pub dir: &'a Directory,
    pub strict: bool,
    pub shape: Shape,
    /// Mints subform row ids; `None` leaves new rows without `_id` (filled when the world is built).
    pub new_id: Option<&'a dyn Fn() -> String>,
    /// Resolves an upload key to its attachment object (API writes only).
    pub files: Option<BindFile<'a>>,
}

/// The JSON of a member as records and contact APIs show it.
pub fn member_json(u: &User) -> Value {
    let mut m = Map::new();
    m.insert("name".into(), json!(u.name));
    m.insert("username".into(), json!(u.id));
    m.insert("status".into(), json!(u.status));
    m.insert("type".into(), json!(0));
    m.insert("departments".into(), json!(u.departments));
    if let Some(i) = &u.integrate_id {
        m.insert("integrate_id".into(), json!(i));
    }
    Value::Object(m)
}

pub fn dept_json(d: &Department) -> Value {
    let mut m = Map::new();
    m.insert("name".into(), json!(d.name));
    m.insert("dept_no".into(), json!(d.id));
    m.insert("type".into(), json!(0));
    if let Some(p) = d.parent {
        m.insert("parent_no".into(), json!(p));
    }
    m.insert("status".into(), json!(1));
    if let Some(i) = &d.integrate_id {
        m.insert("integrate_id".into(), json!(i));
    }
    Value::Object(m)
}

/// What an unset field reads as.
pub fn empty_value(kind: WidgetType) -> Value {
    use WidgetType::*;
    match kind {
        Text | Textarea | Radiogroup | Combo | Sn | Lookup => Value::String(String::new()),
        Checkboxgroup | Combocheck | Usergroup | Deptgroup | Image | Upload | Subform => Value::Array(Vec::new()),
        _ => Value::Null,
    }
}

/// Whether a stored value counts as empty for filters (`empty` / `not_empty`).
pub fn is_empty(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty(),
        Some(Value::Array(a)) => a.is_empty(),
        Some(Value::Object(o)) => o.is_empty() || o.get("phone").is_some_and(|p| p.as_str() == Some("")),
        _ => false,
    }
}

impl Converter<'_> {
    /// Converts the `data` object of a write (or a seeded record) into `(key, read value)` pairs.
    /// `old` is the current record on update, so subform rows can keep their ids.
    pub fn convert_data(
        &self,
        schema: &Schema,
        data: &Map<String, Value>,
        old: Option<&super::model::Stored>,
    ) -> Result<Vec<(String, Value)>, JdyError> {
        let mut out = Vec::with_capacity(data.len());
        for (key, given) in data {
            let Some(w) = schema.get(key) else {
                if self.strict {
                    return Err(JdyError::with_detail(4000, format!("unknown field {key}")));
                }
                continue;
            };
            if self.shape == Shape::Write && !w.kind.api_writable() {
                continue;
            }
            let raw = match self.shape {
                Shape::Seed => Some(given),
                Shape::Write => match given {
                    Value::Object(o) => o.get("value").or(Some(&Value::Null)),
                    _ => None,
                },
            };
            let converted = match raw {
                Some(raw) => self.convert_value(w, raw, old.and_then(|o| o.get(key)).and_then(super::model::Val::as_json)),
                None => Err(Invalid(format!("{key}: expected {{\"value\": …}}"))),
            };
            match converted {
                Ok(v) => out.push((key.clone(), v)),
                Err(Invalid(why)) if !self.strict => {
                    let _ = why;
                    out.push((key.clone(), empty_value(w.kind)));
                }
                Err(Invalid(why)) => return Err(JdyError::with_detail(4000, why)),
                Err(Fatal(e)) => return Err(e),
            }
        }
        Ok(out)
    }

    fn convert_value(&self, w: &Widget, raw: &Value, old: Option<&Value>) -> Result<Value, ConvErr> {
        use WidgetType::*;
        let key = w.key();
        let bad = |what: &str| Invalid(format!("{key}: expected {what}, got {}", short(raw)));
        if raw.is_null() {
            return Ok(empty_value(w.kind));
        }
        match w.kind {
            Text | Textarea | Radiogroup | Combo | Lookup | Sn => match raw {
                Value::String(s) => Ok(Value::String(s.clone())),
                Value::Number(n) if !self.strict => Ok(Value::String(n.to_string())),
                Value::Bool(b) if !self.strict => Ok(Value::String(b.to_string())),
                _ => Err(bad("a string")),
            },
            Number | Aggregation => match raw {
                Value::Number(_) => Ok(raw.clone()),
                Value::String(s) if s.trim().is_empty() => Ok(Value::Null),
                Value::String(s) => s.trim().parse::<f64>().ok().and_then(number_value).ok_or_else(|| bad("a number")),
                _ => Err(bad("a number")),
            },
            Datetime => match raw {
                Value::String(s) if s.is_empty() => Ok(Value::Null),
                _ => parse_datetime(raw)
                    .map(|ms| Value::String(iso_utc_ms(ms)))
                    .ok_or_else(|| bad("a date/time (ISO 8601, \"yyyy-MM-dd HH:mm:ss\" or ms timestamp)")),
            },
            Checkboxgroup | Combocheck => match raw {
                Value::String(s) => Ok(json!([s])),
                Value::Array(items) => items
                    .iter()
                    .map(|i| match i {
                        Value::String(s) => Ok(Value::String(s.clone())),
                        Value::Number(n) if !self.strict => Ok(Value::String(n.to_string())),
                        _ => Err(bad("an array of strings")),
                    })
                    .collect::<Result<Vec<_>, _>>()
                    .map(Value::Array),
                _ => Err(bad("an array of strings")),
            },
            Address | Location => {
                let Value::Object(o) = raw else { return Err(bad("an address object")) };
                let mut m = Map::new();
                for part in ["province", "city", "district", "detail"] {
                    match o.get(part) {
                        None | Some(Value::Null) => m.insert(part.into(), json!("")),
                        Some(Value::String(s)) => m.insert(part.into(), json!(s)),
                        Some(_) => return Err(bad("string address parts")),
                    };
                }
                if w.kind == Location {
                    match o.get("lnglatXY") {
                        Some(Value::Array(a)) if a.len() == 2 && a.iter().all(Value::is_number) => {
                            m.insert("lnglatXY".into(), Value::Array(a.clone()));
                        }
                        None | Some(Value::Null) => {}
                        Some(_) => return Err(bad("lnglatXY as [longitude, latitude]")),
                    }
                }
                Ok(Value::Object(m))
            }
            Phone => {
                let (phone, verified) = match raw {
                    Value::String(s) if !self.strict => (s.clone(), false),
                    Value::Object(o) => match o.get("phone") {
                        Some(Value::String(s)) => {
                            let verified = self.shape == Shape::Seed && o.get("verified").and_then(Value::as_bool).unwrap_or(false);
                            (s.clone(), verified)
                        }
                        _ => return Err(bad("{\"phone\": \"…\"}")),
                    },
                    _ => return Err(bad("{\"phone\": \"…\"}")),
                };
                Ok(json!({ "phone": phone, "verified": verified }))
            }
            User => self.member(raw).map_err(|e| e.or(|| bad("a member username"))),
            Usergroup => match raw {
                Value::Array(items) => items
                    .iter()
                    .map(|i| self.member(i).map_err(|e| e.or(|| bad("an array of usernames"))))
                    .collect::<Result<Vec<_>, _>>()
                    .map(Value::Array),
                _ => Err(bad("an array of usernames")),
            },
            Dept => self.department(raw).map_err(|e| e.or(|| bad("a department number"))),
            Deptgroup => match raw {
                Value::Array(items) => items
                    .iter()
                    .map(|i| self.department(i).map_err(|e| e.or(|| bad("an array of department numbers"))))
                    .collect::<Result<Vec<_>, _>>()
                    .map(Value::Array),
                _ => Err(bad("an array of department numbers")),
            },
            Image | Upload => match (self.shape, raw) {
                (Shape::Seed, Value::Array(items)) if items.iter().all(is_file_object) => Ok(raw.clone()),
                (Shape::Write, Value::Array(items)) if items.iter().all(Value::is_string) => items
                    .iter()
                    .filter_map(Value::as_str)
                    .map(|k| match self.files {
                        Some(bind) => bind(k).map_err(Fatal),
                        None => Err(Fatal(JdyError::with_detail(17027, format!("unknown upload key {k}")))),
                    })
                    .collect::<Result<Vec<_>, _>>()
                    .map(Value::Array),
                _ => Err(bad("an array of upload keys")),
            },
            Signature => match raw {
                o @ Value::Object(_) if is_file_object(o) => Ok(o.clone()),
                _ => Err(bad("a file object")),
            },
            Linkdata => match raw {
                Value::Object(o) if o.get("id").is_some_and(Value::is_string) => Ok(raw.clone()),
                Value::String(s) => Ok(json!({ "id": s })),
                _ => Err(bad("{\"id\": \"<record id>\"}")),
            },
            Richtext => match raw {
                Value::String(s) if self.shape == Shape::Write => self.richtext(s),
                Value::String(s) => Ok(json!({ "html": s, "attachments": [] })),
                Value::Object(o) if self.shape == Shape::Seed && o.get("html").is_some_and(Value::is_string) => {
                    Ok(json!({ "html": o["html"], "attachments": o.get("attachments").cloned().unwrap_or(json!([])) }))
                }
                _ => Err(bad("an HTML string")),
            },
            Subform => self.subform(w, raw, old),
        }
    }

    /// Rich text embeds uploaded images as `<img data-key="<key>">`: each key becomes an attachment
    /// and its `data-key` a `src` pointing at the file.
    fn richtext(&self, html: &str) -> Result<Value, ConvErr> {
        let mut attachments = Vec::new();
        let mut out = String::with_capacity(html.len());
        let mut rest = html;
        while let Some(at) = rest.find("data-key=\"") {
            let (before, after) = rest.split_at(at);
            let after = &after["data-key=\"".len()..];
            let Some(end) = after.find('"') else { break };
            let key = &after[..end];
            out.push_str(before);
            match self.files {
                Some(bind) => {
                    let file = bind(key).map_err(Fatal)?;
                    out.push_str(&format!("src=\"{}\"", file["url"].as_str().unwrap_or_default()));
                    attachments.push(file);
                }
                None => out.push_str(&format!("data-key=\"{key}\"")),
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(json!({ "html": out, "attachments": attachments }))
    }

    fn member(&self, raw: &Value) -> Result<Value, ConvErr> {
        let username = match raw {
            Value::String(s) => s.as_str(),
            Value::Object(o) if self.shape == Shape::Seed => o.get("username").and_then(Value::as_str).ok_or(Invalid(String::new()))?,
            _ => return Err(Invalid(String::new())),
        };
        match self.dir.user(username) {
            Some(u) => Ok(member_json(&u)),
            None => Err(Fatal(JdyError::with_detail(1010, format!("unknown member {username}")))),
        }
    }

    fn department(&self, raw: &Value) -> Result<Value, ConvErr> {
        let no = match raw {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse().ok(),
            Value::Object(o) if self.shape == Shape::Seed => o.get("dept_no").and_then(Value::as_i64),
            _ => None,
        }
        .ok_or(Invalid(String::new()))?;
        match self.dir.department(no) {
            Some(d) => Ok(dept_json(&d)),
            None => Err(Fatal(JdyError::with_detail(6002, format!("unknown department {no}")))),
        }
    }

    /// A subform value replaces the whole subform. Rows keep their `_id` when it names a row of the old
    /// value (or, in scenarios, whatever id is given); other rows get a fresh id.
    fn subform(&self, w: &Widget, raw: &Value, old: Option<&Value>) -> Result<Value, ConvErr> {
        let Value::Array(rows) = raw else { return Err(Invalid(format!("{}: expected an array of rows", w.key()))) };
        let sub = Schema::new(w.items.clone());
        let old_ids: Vec<&str> = old
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|r| r.get("_id").and_then(Value::as_str)).collect())
            .unwrap_or_default();
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let Value::Object(row) = row else { return Err(Invalid(format!("{}: expected row objects", w.key()))) };
            let given_id = match (self.shape, row.get("_id")) {
                (Shape::Write, Some(Value::Object(o))) => o.get("value").and_then(Value::as_str),
                (_, Some(Value::String(s))) => Some(s.as_str()),
                _ => None,
            };
            let id = match (self.shape, given_id) {
                (Shape::Seed, Some(id)) => Some(id.to_owned()),
                (Shape::Write, Some(id)) if old_ids.contains(&id) => Some(id.to_owned()),
                _ => self.new_id.map(|f| f()),
            };
            let mut fields: Map<String, Value> = row.iter().filter(|(k, _)| *k != "_id").map(|(k, v)| (k.clone(), v.clone())).collect();
            fields.retain(|k, _| sub.get(k).is_some() || self.strict);
            let converted = self.convert_data(&sub, &fields, None).map_err(Fatal)?;
            let mut m = Map::new();
            if let Some(id) = id {
                m.insert("_id".into(), Value::String(id));
            }
            m.extend(converted);
            out.push(Value::Object(m));
        }
        Ok(Value::Array(out))
    }
}

enum ConvErr {
    /// The value does not fit the widget: empty in lenient mode, 4000 in strict mode.
    Invalid(String),
    /// Always an error (unknown member, department, file).
    Fatal(JdyError),
}
use ConvErr::{Fatal, Invalid};

impl ConvErr {
    fn or(self, f: impl FnOnce() -> ConvErr) -> ConvErr {
        match self {
            Invalid(s) if s.is_empty() => f(),
            other => other,
        }
    }
}

fn is_file_object(v: &Value) -> bool {
    v.as_object().is_some_and(|o| o.get("url").is_some_and(Value::is_string) && o.get("name").is_some_and(Value::is_string))
}

fn number_value(f: f64) -> Option<Value> {
    if !f.is_finite() {
        return None;
    }
    if f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0 {
        Some(json!(f as i64))
    } else {
        serde_json::Number::from_f64(f).map(Value::Number)
    }
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 40 {
        format!("{}…", s.chars().take(40).collect::<String>())
    } else {
        s
    }
}

/// A date/time value in any accepted form, as milliseconds. Accepted: ISO 8601 / RFC 3339 with zone,
/// `yyyy-MM-dd HH:mm:ss`, `yyyy-MM-ddTHH:mm:ss`, `yyyy-MM-dd HH:mm`, `yyyy-MM-dd` (UTC+8), and
/// millisecond timestamps. Second timestamps are refused, as the product refuses them.
/// 9999-12-31T23:59:59.999Z.
const MAX_MS: u64 = 253_402_300_799_999;

pub fn parse_datetime(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => {
            let ms = n.as_i64().or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))?;
            // Millisecond timestamps only (seconds are refused), within years 0001–9999; `f as i64`
            // saturates, so huge floats land outside the range instead of overflowing.
            (100_000_000_000..=MAX_MS).contains(&ms.unsigned_abs()).then_some(ms)
        }
        Value::String(s) => parse_datetime_str(s).map(|(start, _)| start),
        _ => None,
    }
}

/// The instant a string names and the end of its precision: a whole day for `yyyy-MM-dd`, one
/// millisecond otherwise. Filters use the span so `eq "2024-11-20"` matches that whole day.
pub fn parse_datetime_str(s: &str) -> Option<(i64, i64)> {
    let s = s.trim();
    if let Some(ms) = crate::core::clock::parse_rfc3339_ms(s) {
        return Some((ms, ms + 1));
    }
    for fmt in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            let ms = t.and_utc().timestamp_millis() - CST_OFFSET_MS;
            return Some((ms, ms + 1));
        }
    }
    let d = NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
    let ms = d.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis() - CST_OFFSET_MS;
    Some((ms, ms + 86_400_000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetime_forms() {
        assert_eq!(parse_datetime(&json!("2018-01-01T10:10:10.000Z")), Some(1_514_801_410_000));
        assert_eq!(parse_datetime(&json!("2018-01-01 18:10:10")), Some(1_514_801_410_000));
        assert_eq!(parse_datetime(&json!(1_514_801_410_000i64)), Some(1_514_801_410_000));
        assert_eq!(parse_datetime(&json!(1_514_801_410)), None);
        // Found by the fuzzer: a huge float saturated to i64::MIN and overflowed `abs`.
        assert_eq!(parse_datetime(&json!(-1.854192807591399e112)), None);
        assert_eq!(parse_datetime(&json!(i64::MIN)), None);
        assert_eq!(parse_datetime(&json!("2018/01/01")), None);
        let (a, b) = parse_datetime_str("2018-01-02").unwrap();
        assert_eq!(b - a, 86_400_000);
        assert_eq!(iso_utc_ms(a), "2018-01-01T16:00:00.000Z");
    }
}

#[cfg(test)]
mod props {
    use proptest::prelude::*;
    use serde_json::{json, Map, Value};

    use super::{Converter, Shape};
    use crate::core::directory::{Department, Directory, User};
    use crate::platforms::jiandaoyun::model::{Schema, Widget, WidgetType};

    fn schema() -> Schema {
        let sub = vec![widget("s0", WidgetType::Text, vec![]), widget("s1", WidgetType::Number, vec![])];
        let kinds = [
            WidgetType::Text,
            WidgetType::Number,
            WidgetType::Datetime,
            WidgetType::Checkboxgroup,
            WidgetType::Address,
            WidgetType::Location,
            WidgetType::Image,
            WidgetType::Phone,
            WidgetType::User,
            WidgetType::Usergroup,
            WidgetType::Dept,
            WidgetType::Deptgroup,
            WidgetType::Richtext,
            WidgetType::Signature,
            WidgetType::Linkdata,
            WidgetType::Lookup,
        ];
        let mut ws: Vec<Widget> = kinds.iter().enumerate().map(|(i, k)| widget(&format!("w{i}"), *k, vec![])).collect();
        ws.push(widget("sub", WidgetType::Subform, sub));
        Schema::new(ws)
    }

    fn widget(id: &str, kind: WidgetType, items: Vec<Widget>) -> Widget {
        Widget {
            id: id.into(),
            alias: None,
            label: id.into(),
            kind,
            required: false,
            options: vec![],
            items,
            sn_prefix: String::new(),
            sn_digits: 4,
        }
    }

    fn arb_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            any::<f64>().prop_map(|f| json!(f)),
            ".{0,16}".prop_map(Value::String),
            Just(json!("u1")),
            Just(json!(1)),
            Just(json!("2024-01-01")),
        ];
        leaf.prop_recursive(4, 40, 5, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                prop::collection::btree_map(
                    prop_oneof![
                        Just("value".to_string()),
                        Just("_id".to_string()),
                        Just("phone".to_string()),
                        Just("s0".to_string()),
                        Just("province".to_string()),
                        Just("lnglatXY".to_string())
                    ],
                    inner,
                    0..4
                )
                .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: crate::core::arb_json::cases(2000), ..ProptestConfig::default() })]

        /// Arbitrary data in either shape and either mode converts or yields a documented code.
        #[test]
        fn value_conversion_never_panics(fields in prop::collection::btree_map("w[0-9]{1,2}|sub|x", arb_value(), 0..6), strict in any::<bool>(), seed in any::<bool>()) {
            let dir = Directory::new(
                vec![User { id: "u1".into(), name: "U".into(), departments: vec![1], password: None, email: None, mobile: None, integrate_id: None, status: 1 }],
                vec![Department::new(1, "root".into(), None, None)],
            );
            let mint = || "row".to_string();
            let conv = Converter { dir: &dir, strict, shape: if seed { Shape::Seed } else { Shape::Write }, new_id: Some(&mint), files: None };
            let data: Map<String, Value> = fields.into_iter().collect();
            match conv.convert_data(&schema(), &data, None) {
                Ok(pairs) => prop_assert!(pairs.len() <= data.len()),
                Err(e) => prop_assert!([4000, 1010, 6002, 17027].contains(&e.code), "code {}", e.code),
            }
        }
    }
}
