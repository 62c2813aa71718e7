//! Component values: write format (formDataJson) checked per component, read format rendered per
//! component. Stored values keep the write format; departments read back as their name.

use std::borrow::Cow;

use chrono::TimeZone;
use serde_json::{json, Map, Value};

use super::errors::YidaError;
use super::model::{Component, Stored};
use crate::core::clock::Millis;
use crate::core::directory::Directory;
use crate::Locale;

/// Canonical component names (case-insensitive in scenarios).
pub const KINDS: &[&str] = &[
    "TextField",
    "TextareaField",
    "NumberField",
    "RateField",
    "RadioField",
    "SelectField",
    "CheckboxField",
    "MultiSelectField",
    "DateField",
    "CascadeDateField",
    "EmployeeField",
    "DepartmentSelectField",
    "CitySelectField",
    "CascadeSelectField",
    "AddressField",
    "ImageField",
    "AttachmentField",
    "LinkField",
    "TableField",
    "AssociationFormField",
    "DigitalSignatureField",
    "SerialNumberField",
];

pub fn kind(s: &str) -> Option<&'static str> {
    KINDS.iter().copied().find(|k| k.eq_ignore_ascii_case(s))
}

fn strings(v: &Value) -> Option<Vec<Value>> {
    match v {
        Value::String(s) => Some(vec![json!(s)]),
        Value::Number(n) => Some(vec![json!(n.to_string())]),
        Value::Array(a) => a
            .iter()
            .map(|x| match x {
                Value::String(s) => Some(json!(s)),
                Value::Number(n) => Some(json!(n.to_string())),
                _ => None,
            })
            .collect(),
        _ => None,
    }
}

/// Checks one value against its component; the error names the field.
pub fn convert(c: &Component, v: &Value, dir: &Directory, locale: Locale) -> Result<Value, YidaError> {
    let bad = || YidaError::param(&format!("{} 格式不正确", c.id), locale);
    if v.is_null() {
        return Ok(Value::Null);
    }
    Ok(match c.kind {
        "RadioField" | "SelectField" => match v {
            Value::String(s) => json!(c.canonical_option(s)),
            Value::Number(n) => json!(n.to_string()),
            _ => return Err(bad()),
        },
        "TextField" | "TextareaField" | "DigitalSignatureField" | "SerialNumberField" => match v {
            Value::String(_) => v.clone(),
            Value::Number(n) => json!(n.to_string()),
            _ => return Err(bad()),
        },
        "NumberField" | "RateField" => match v {
            Value::Number(_) => v.clone(),
            Value::String(s) if s.trim().is_empty() => Value::Null,
            Value::String(s) => s.trim().parse::<f64>().ok().and_then(serde_json::Number::from_f64).map(Value::Number).ok_or_else(bad)?,
            _ => return Err(bad()),
        },
        "DateField" => match v {
            Value::Number(n) if n.as_i64().is_some() => v.clone(),
            Value::String(s) => s.trim().parse::<i64>().map(|n| json!(n)).map_err(|_| bad())?,
            _ => return Err(bad()),
        },
        "CascadeDateField" => match strings(v) {
            Some(a) if a.len() == 2 => Value::Array(a),
            _ => return Err(bad()),
        },
        "CheckboxField" | "MultiSelectField" => {
            Value::Array(strings(v).ok_or_else(bad)?.iter().map(|o| json!(c.canonical_option(o.as_str().unwrap_or_default()))).collect())
        }
        "CitySelectField" | "CascadeSelectField" | "DepartmentSelectField" => Value::Array(strings(v).ok_or_else(bad)?),
        "EmployeeField" => {
            let ids = strings(v).ok_or_else(bad)?;
            if let Some(unknown) = ids.iter().filter_map(Value::as_str).find(|u| dir.user(u).is_none()) {
                return Err(YidaError::param(&format!("{} 中的人员 {unknown} 不存在", c.id), locale));
            }
            Value::Array(ids)
        }
        "ImageField" | "AttachmentField" | "LinkField" | "AssociationFormField" => match v {
            Value::Array(a) if a.iter().all(Value::is_object) => v.clone(),
            _ => return Err(bad()),
        },
        "AddressField" => match v {
            Value::Object(_) => v.clone(),
            _ => return Err(bad()),
        },
        "TableField" => {
            let Value::Array(rows) = v else { return Err(bad()) };
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                let Value::Object(row) = row else { return Err(bad()) };
                out.push(Value::Object(convert_map(&c.items, row, dir, locale)?));
            }
            Value::Array(out)
        }
        _ => v.clone(),
    })
}

/// Converts a `formDataJson` object: known components are checked, unknown keys are ignored.
pub fn convert_map(
    components: &[Component],
    data: &Map<String, Value>,
    dir: &Directory,
    locale: Locale,
) -> Result<Map<String, Value>, YidaError> {
    let mut out = Map::new();
    for (k, v) in data {
        if let Some(c) = components.iter().find(|c| &c.id == k) {
            out.insert(k.clone(), convert(c, v, dir, locale)?);
        }
    }
    Ok(out)
}

/// What a read needs besides the data: the directory (department names) and the caller's language.
pub struct Reading<'a> {
    pub dir: &'a Directory,
    /// `language=en_US`: choice components answer their English labels where the scenario gives them.
    pub english: bool,
}

/// The read format ("Form Data Format Description as Return Value"): departments as their name,
/// regions as names, choices in the caller's language, everything else as stored.
pub fn render(components: &[Component], data: &Stored, r: &Reading) -> Map<String, Value> {
    render_entries(components, data.iter().map(|(k, v)| (k, v.as_value())), r)
}

/// [`render`] of a map (the rows of a table).
pub fn render_map(components: &[Component], data: &Map<String, Value>, r: &Reading) -> Map<String, Value> {
    render_entries(components, data.iter().map(|(k, v)| (k.as_str(), Cow::Borrowed(v))), r)
}

fn render_entries<'v>(
    components: &[Component],
    entries: impl Iterator<Item = (&'v str, Cow<'v, Value>)>,
    r: &Reading,
) -> Map<String, Value> {
    entries
        .map(|(k, v)| {
            let rendered = render_value(components.iter().find(|c| c.id == k), &v, r);
            let value = if let Cow::Owned(changed) = rendered { changed } else { v.into_owned() };
            (k.to_owned(), value)
        })
        .collect()
}

/// One value in the read format (see [`render`]); borrowed where it reads as stored, which is most.
pub fn render_value<'v>(c: Option<&Component>, v: &'v Value, r: &Reading) -> Cow<'v, Value> {
    let label = |c: &Component, v: &'v Value| -> Cow<'v, Value> {
        match (r.english, v.as_str()) {
            (true, Some(o)) => c.options_en.get(o).map_or(Cow::Borrowed(v), |en| Cow::Owned(json!(en))),
            _ => Cow::Borrowed(v),
        }
    };
    let Some(c) = c else { return Cow::Borrowed(v) };
    match (c.kind, v) {
        ("CitySelectField", Value::Array(codes)) => Cow::Owned(Value::Array(
            codes
                .iter()
                .map(|code| code.as_str().and_then(super::regions::name).map(|n| json!(n)).unwrap_or_else(|| code.clone()))
                .collect(),
        )),
        ("RadioField" | "SelectField", _) => label(c, v),
        ("CheckboxField" | "MultiSelectField", Value::Array(items)) if r.english => {
            Cow::Owned(Value::Array(items.iter().map(|o| label(c, o).into_owned()).collect()))
        }
        ("DepartmentSelectField", Value::Array(ids)) => {
            let names: Vec<String> = ids
                .iter()
                .filter_map(Value::as_str)
                .filter_map(|d| d.parse::<i64>().ok())
                .filter_map(|d| r.dir.department(d))
                .map(|d| d.name)
                .collect();
            Cow::Owned(json!(names.join(",")))
        }
        ("TableField", Value::Array(rows)) => Cow::Owned(Value::Array(
            rows.iter().map(|row| row.as_object().map(|row| Value::Object(render_map(&c.items, row, r))).unwrap_or(Value::Null)).collect(),
        )),
        _ => Cow::Borrowed(v),
    }
}

/// [`render`] printed as it goes, for the reads that answer many records: no map is built.
pub struct Rendered<'a> {
    pub components: &'a [Component],
    pub data: &'a Stored,
    pub reading: &'a Reading<'a>,
}

impl serde::Serialize for Rendered<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.data.len()))?;
        for (k, v) in self.data.iter() {
            let v = v.as_value();
            m.serialize_entry(k, &*render_value(self.components.iter().find(|c| c.id == k), &v, self.reading))?;
        }
        m.end()
    }
}

/// `yyyy-MM-dd HH:mm:ss` in China time, as Yida prints times.
pub fn time_text(ms: Millis) -> String {
    crate::core::clock::china_time_text(ms)
}

/// A person's name the way Yida localises it.
pub fn i18n(name: &str) -> Value {
    json!(I18n(name))
}

/// `{"pureEn_US", "en_US", "zh_CN", "type": "i18n"}` of one name, printed without building a map.
pub struct I18n<'a>(pub &'a str);

impl serde::Serialize for I18n<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(4))?;
        m.serialize_entry("pureEn_US", self.0)?;
        m.serialize_entry("en_US", self.0)?;
        m.serialize_entry("zh_CN", self.0)?;
        m.serialize_entry("type", "i18n")?;
        m.end()
    }
}

/// Parses `yyyy-MM-dd` (the whole day when `end`) or `yyyy-MM-dd HH:mm:ss`, China time.
pub fn parse_day(s: &str, end: bool) -> Option<Millis> {
    let s = s.trim();
    let tz = chrono::FixedOffset::east_opt(8 * 3600)?;
    if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S") {
        return tz.from_local_datetime(&t).single().map(|t| t.timestamp_millis());
    }
    let d = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
    let t = if end { d.and_hms_milli_opt(23, 59, 59, 999)? } else { d.and_hms_opt(0, 0, 0)? };
    tz.from_local_datetime(&t).single().map(|t| t.timestamp_millis())
}
