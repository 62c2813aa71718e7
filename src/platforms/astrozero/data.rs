//! Object records (`/u-route/baas/data/v1.0/…`): CRUD by id and by condition, query with options,
//! count and upsert. Records are validated against the object's fields (types, required, unique,
//! picklists); field names match case-insensitively, as the docs' upper-case examples need.

use std::borrow::Cow;
use std::cmp::Ordering;

use serde_json::{json, Map, Value};

use super::errors::AzError;
use super::model::{user_id, Field, Fields, Obj, Record, State, Stored, ValRef};
use super::{Call, Reply};
use crate::core::clock::Millis;

/// Most records a query returns (and its default page), per the script rules.
pub const MAX_LIMIT: usize = 5000;
/// Most ids a delete-by-ids takes.
pub const MAX_IDS: usize = 100;

const SYSTEM: &[&str] =
    &["id", "name", "owner", "createdBy", "createdDate", "lastModifiedBy", "lastModifiedDate", "currencyIsoCode", "installedPackage"];

/// `yyyy-MM-dd HH:mm:ss` in China time, as Astro Zero prints times.
pub fn time_text(ms: Millis) -> String {
    crate::core::clock::china_time_text(ms)
}

pub fn check_value(f: &Field, v: &Value) -> Result<Value, AzError> {
    let bad = |what: &str| AzError::param(format!("field {} expects {what}", f.name));
    if v.is_null() {
        return Ok(Value::Null);
    }
    Ok(match f.data_type.as_str() {
        "number" | "percent" | "currency" => match v {
            Value::Number(_) => v.clone(),
            Value::String(s) if s.trim().parse::<f64>().is_ok() => v.clone(),
            _ => return Err(bad("a number")),
        },
        "checkbox" => match v {
            Value::Bool(_) => v.clone(),
            _ => return Err(bad("true or false")),
        },
        "date" => match v.as_str() {
            Some(s) if chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok() => v.clone(),
            _ => return Err(bad("a date yyyy-MM-dd")),
        },
        "datetime" => match v.as_str() {
            Some(s) if chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").is_ok() => v.clone(),
            _ => return Err(bad("a time yyyy-MM-dd HH:mm:ss")),
        },
        "email" => match v.as_str() {
            Some(s) if s.split_once('@').is_some_and(|(a, b)| !a.is_empty() && b.contains('.')) => v.clone(),
            _ => return Err(bad("an email address")),
        },
        "singleselect" => match v.as_str() {
            Some(s) if f.options.is_empty() || f.options.iter().any(|o| o == s) => v.clone(),
            _ => return Err(bad(&format!("one of {}", f.options.join(", ")))),
        },
        "multiselect" => {
            let parts: Vec<String> = match v {
                Value::String(s) => s.split(';').map(str::to_owned).collect(),
                Value::Array(a) => a.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
                _ => return Err(bad("values joined by ;")),
            };
            if !f.options.is_empty() && parts.iter().any(|p| !f.options.contains(p)) {
                return Err(bad(&format!("values among {}", f.options.join(", "))));
            }
            json!(parts.join(";"))
        }
        "text" | "encryptedtext" | "phone" | "url" => match v {
            Value::String(s) if s.chars().count() <= if f.data_type == "encryptedtext" { 111 } else { 255 } => v.clone(),
            Value::String(_) => return Err(bad("at most 255 characters")),
            Value::Number(n) => json!(n.to_string()),
            _ => return Err(bad("text")),
        },
        _ => match v {
            Value::String(_) => v.clone(),
            _ => return Err(bad("text")),
        },
    })
}

/// The stored spelling of a system or custom field named in any case.
fn field_name(obj: &Obj, given: &str) -> Result<String, AzError> {
    if let Some(s) = SYSTEM.iter().find(|s| s.eq_ignore_ascii_case(given)) {
        return Ok((*s).to_owned());
    }
    obj.with_field(given, |f| f.name.clone()).ok_or_else(|| AzError::param(format!("field {given} does not exist on {}", obj.name)))
}

/// Validates and converts the writable part of a record (`name` and custom fields).
fn fields_of(obj: &Obj, given: &Map<String, Value>) -> Result<Vec<(String, Value)>, AzError> {
    let mut out = Vec::with_capacity(given.len());
    let fields = obj.fields.read();
    for (k, v) in given {
        if k.eq_ignore_ascii_case("name") {
            out.push(("name".to_owned(), v.clone()));
            continue;
        }
        if SYSTEM.iter().any(|s| s.eq_ignore_ascii_case(k)) {
            continue;
        }
        let f = fields
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(k))
            .ok_or_else(|| AzError::param(format!("field {k} does not exist on {}", obj.name)))?;
        out.push((f.name.clone(), check_value(f, v)?));
    }
    Ok(out)
}

/// The three keys of a person field: its user id, `.__objectType` and `.name`.
pub(super) type PersonKeys = [&'static str; 3];
pub(super) const OWNER: PersonKeys = ["owner", "owner.__objectType", "owner.name"];
pub(super) const CREATED_BY: PersonKeys = ["createdBy", "createdBy.__objectType", "createdBy.name"];
pub(super) const LAST_MODIFIED_BY: PersonKeys = ["lastModifiedBy", "lastModifiedBy.__objectType", "lastModifiedBy.name"];

fn person(rec: &mut Record, [id_key, type_key, name_key]: PersonKeys, user: &str) {
    rec.insert(id_key.into(), json!(user_id(user)));
    rec.insert(type_key.into(), json!("User"));
    rec.insert(name_key.into(), json!(user));
}

/// The `User` record of a member, or None when `old` already says the same. The member is their own
/// owner and creator; `createdDate` stays, `lastModifiedDate` is `now` when something changed.
pub fn user_record(u: &crate::core::directory::User, old: Option<&Stored>, now: Millis) -> Option<Record> {
    let values = [
        ("name", json!(u.name)),
        ("usrName", json!(u.id)),
        ("email", json!(u.email)),
        ("phone", json!(u.mobile)),
        ("active", json!(u.status == 1)),
    ];
    if old.is_some_and(|o| values.iter().all(|(k, v)| o.field(k) == Some(ValRef::from(v)))) {
        return None;
    }
    let mut rec = Record::new();
    rec.insert("id".into(), json!(user_id(&u.id)));
    rec.insert("name".into(), values[0].1.clone());
    person(&mut rec, OWNER, &u.id);
    person(&mut rec, CREATED_BY, &u.id);
    let created = old.and_then(|o| o.field("createdDate")).map(|v| v.to_value()).unwrap_or_else(|| json!(time_text(now)));
    rec.insert("createdDate".into(), created);
    person(&mut rec, LAST_MODIFIED_BY, &u.id);
    rec.insert("lastModifiedDate".into(), json!(time_text(now)));
    rec.insert("currencyIsoCode".into(), json!(""));
    rec.insert("installedPackage".into(), Value::Null);
    for (k, v) in &values[1..] {
        rec.insert((*k).into(), v.clone());
    }
    Some(rec)
}

/// Standard objects keep their built-in records: the data API, Flows, scripts, custom APIs and imports
/// may read them but not write them (HTTP 403).
pub fn writable(obj: &Obj) -> Result<(), AzError> {
    match obj.custom {
        true => Ok(()),
        false => {
            Err(AzError { name: "forbidden", detail: Some(format!("{} is a standard object; its records cannot be changed", obj.name)) })
        }
    }
}

/// A new record: system fields, then every custom field (`null` when unset).
pub fn new_record(st: &State, obj: &Obj, given: &Map<String, Value>, user: &str, now: Millis) -> Result<Record, AzError> {
    let mut given = fields_of(obj, given)?;
    let mut take = |name: &str| given.iter_mut().find(|(k, _)| k == name).map(|(_, v)| std::mem::take(v));
    let fields = obj.fields.read();
    let mut rec = Record::with_capacity(18 + fields.len());
    let id = st.new_id(&obj.key_prefix);
    rec.insert("id".into(), json!(id));
    rec.insert("name".into(), take("name").unwrap_or_else(|| json!(id)));
    person(&mut rec, OWNER, user);
    person(&mut rec, CREATED_BY, user);
    let time = json!(time_text(now));
    rec.insert("createdDate".into(), time.clone());
    person(&mut rec, LAST_MODIFIED_BY, user);
    rec.insert("lastModifiedDate".into(), time);
    rec.insert("currencyIsoCode".into(), json!(""));
    rec.insert("installedPackage".into(), Value::Null);
    for f in fields.iter() {
        let v = take(&f.name).unwrap_or(Value::Null);
        if f.required && v.is_null() {
            return Err(AzError::param(format!("field {} is required", f.name)));
        }
        rec.insert(f.name.clone(), v);
    }
    Ok(rec)
}

/// `rec` clashes with no stored record nor with `pending` ones written in the same request. Looks the
/// values up in the object's unique index: O(unique fields), not O(records).
fn check_unique(obj: &Obj, rec: &dyn Fields, pending: &[Record]) -> Result<(), AzError> {
    let fields: Vec<String> = obj.fields.read().iter().filter(|f| f.unique).map(|f| f.name.clone()).collect();
    if fields.is_empty() {
        return Ok(());
    }
    let mut index = obj.unique_index.lock();
    index.refresh(&obj.records, &fields);
    let id = rec.field_or_null("id");
    for f in &fields {
        let v = rec.field_or_null(f);
        let clash = |o: &Record| o.field_or_null("id") != id && o.field_or_null(f) == v;
        if !v.is_null() && (index.clashes(f, v, id.as_str().unwrap_or_default()) || pending.iter().any(clash)) {
            return Err(AzError::param(format!("field {f} must be unique")));
        }
    }
    Ok(())
}

/// Tells the unique index about a write the data API just made (see `UniqueIndex::written`).
fn indexed(obj: &Obj, before: u64, old: Option<&dyn Fields>, new: &[&dyn Fields]) {
    obj.unique_index.lock().written(&obj.records, before, old, new);
}

/// `old` with `set` written and the modifier and time moved on (new keys go last, as on a map).
fn apply(obj: &Obj, old: &Stored, set: &[(String, Value)], user: &str, now: Millis) -> Result<Stored, AzError> {
    if let Some((k, _)) = set.iter().find(|(k, v)| v.is_null() && obj.with_field(k, |f| f.required) == Some(true)) {
        return Err(AzError::param(format!("field {k} is required")));
    }
    let mut system = Record::new();
    person(&mut system, LAST_MODIFIED_BY, user);
    system.insert("lastModifiedDate".into(), json!(time_text(now)));
    let changes = set.iter().map(|(k, v)| (k.as_str(), v)).chain(system.iter().map(|(k, v)| (k.as_str(), v)));
    Ok(old.with_changes(changes, &obj.interner))
}

/// Updates one record, committing only when unique fields stay unique. Callers hold the object's
/// `write_lock`, so the uniqueness scan (which reads the whole collection) sees no concurrent writer;
/// it must run outside `Collection::update`, whose closure holds the map's write lock.
fn update_checked(obj: &Obj, id: &str, set: &[(String, Value)], call: &Call) -> Result<Option<()>, AzError> {
    let Some(old) = obj.records.get(id) else { return Ok(None) };
    let rec = apply(obj, &old, set, &call.user, call.now())?;
    check_unique(obj, &rec, &[])?;
    let before = obj.records.version();
    let written = obj.records.update::<AzError>(id, move |_| Ok(rec));
    if let Some(Ok(new)) = &written {
        indexed(obj, before, Some(&*old), &[&**new]);
    }
    Ok(written.map(|_| ()))
}

/// `condition`: `{conjunction: AND|OR, conditions: [{field, operator, value} | nested condition]}`.
#[derive(Debug)]
pub enum Cond {
    All(bool, Vec<Cond>),
    /// `number` is `value` read as a number, once: a condition on text then compares text directly
    /// instead of trying every record's value as a number.
    Leaf {
        field: String,
        op: String,
        value: Value,
        number: Option<f64>,
        /// Where the field sat in the last record looked at (records of one object share a layout).
        slot: std::cell::Cell<usize>,
    },
}

pub fn parse_condition(obj: &Obj, v: Option<&Value>) -> Result<Cond, AzError> {
    let Some(v) = v.filter(|v| !v.is_null()) else { return Ok(Cond::All(true, Vec::new())) };
    let Value::Object(m) = v else { return Err(AzError::param("condition must be an object")) };
    if m.is_empty() {
        return Ok(Cond::All(true, Vec::new()));
    }
    let and = match m.get("conjunction").and_then(Value::as_str).map(str::to_ascii_uppercase).as_deref() {
        None | Some("AND") => true,
        Some("OR") => false,
        Some(other) => return Err(AzError::param(format!("conjunction must be AND or OR, got {other}"))),
    };
    let list: &[Value] = match m.get("conditions") {
        None | Some(Value::Null) => &[],
        Some(Value::Array(a)) => a,
        Some(_) => return Err(AzError::param("conditions must be an array")),
    };
    let mut conds = Vec::new();
    for c in list {
        if c.get("conjunction").is_some() || c.get("conditions").is_some() {
            conds.push(parse_condition(obj, Some(c))?);
            continue;
        }
        let field = c.get("field").and_then(Value::as_str).ok_or_else(|| AzError::param("each condition needs a field"))?;
        let name = field_name(obj, field)?;
        let op = c.get("operator").and_then(Value::as_str).unwrap_or("eq").to_ascii_lowercase();
        if !["eq", "ne", "gt", "lt", "ge", "le"].contains(&op.as_str()) {
            return Err(AzError::param(format!("operator {op} is not supported (eq, ne, gt, lt, ge, le)")));
        }
        let value = c.get("value").cloned().unwrap_or(Value::Null);
        conds.push(Cond::Leaf { field: name, op, number: as_number(ValRef::from(&value)), value, slot: Default::default() });
    }
    Ok(Cond::All(and, conds))
}

/// A value as a number: numbers, and text that reads as one.
fn as_number(v: ValRef<'_>) -> Option<f64> {
    match v {
        ValRef::Num(n) => n.as_f64(),
        ValRef::Str(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
}

fn cmp(a: ValRef<'_>, b: ValRef<'_>) -> Option<Ordering> {
    let num = as_number;
    match (num(a), num(b)) {
        (Some(x), Some(y)) => x.partial_cmp(&y),
        _ => match (a, b) {
            (ValRef::Str(x), ValRef::Str(y)) => Some(x.cmp(y)),
            (ValRef::Bool(x), ValRef::Bool(y)) => Some(x.cmp(&y)),
            (ValRef::Null, ValRef::Null) => Some(Ordering::Equal),
            _ => None,
        },
    }
}

impl Cond {
    /// `(field, text)` when the condition is exactly "field eq a text that reads as no number": then a
    /// record matches exactly when its field holds that same string (numbers, booleans and nulls
    /// never compare equal to such a text), which a text index answers.
    pub fn single_text_eq(&self) -> Option<(&str, &str)> {
        match self {
            Cond::All(_, list) if list.len() == 1 => list[0].single_text_eq(),
            Cond::Leaf { field, op, value: Value::String(want), number: None, .. } if op == "eq" => Some((field, want)),
            _ => None,
        }
    }

    pub fn matches(&self, r: &(impl Fields + ?Sized)) -> bool {
        match self {
            Cond::All(_, list) if list.is_empty() => true,
            Cond::All(true, list) => list.iter().all(|c| c.matches(r)),
            Cond::All(false, list) => list.iter().any(|c| c.matches(r)),
            Cond::Leaf { field, op, value, number, slot } => {
                let got = r.field_near(field, slot).unwrap_or(ValRef::Null);
                let ord = match (number, got, value) {
                    // Text against text that is no number: what `cmp` would find, without parsing.
                    (None, ValRef::Str(g), Value::String(w)) => Some(g.cmp(w.as_str())),
                    _ => cmp(got, ValRef::from(value)),
                };
                match op.as_str() {
                    "eq" => ord == Some(Ordering::Equal),
                    "ne" => ord != Some(Ordering::Equal),
                    "gt" => ord == Some(Ordering::Greater),
                    "lt" => ord == Some(Ordering::Less),
                    "ge" => matches!(ord, Some(Ordering::Greater | Ordering::Equal)),
                    _ => matches!(ord, Some(Ordering::Less | Ordering::Equal)),
                }
            }
        }
    }
}

fn obj_of(call: &Call) -> Result<std::sync::Arc<Obj>, AzError> {
    let name = call.req.param("obj").unwrap_or_default();
    call.st.object(name).ok_or_else(|| AzError::not_found(format!("object {name}")))
}

/// The route's object, which the call is about to write.
fn writable_obj_of(call: &Call) -> Result<std::sync::Arc<Obj>, AzError> {
    let obj = obj_of(call)?;
    writable(&obj)?;
    Ok(obj)
}

/// A record as a read answers it: the stored record itself, or the fields `fields=` asked for.
pub enum Shown {
    Whole(std::sync::Arc<Stored>),
    Fields(Record),
}

impl Shown {
    /// Appends the record's JSON (a whole record's from its cache).
    pub fn write_json(&self, out: &mut Vec<u8>) {
        match self {
            Shown::Whole(r) => r.write_json(out),
            Shown::Fields(r) => {
                let _ = serde_json::to_writer(out, r);
            }
        }
    }

    pub fn json_len_hint(&self) -> usize {
        match self {
            Shown::Whole(r) => r.json_len_or(768),
            Shown::Fields(_) => 256,
        }
    }
}

/// `fields=a,b`: only those plus `id` and the owner fields.
fn project(call: &Call, obj: &Obj, r: std::sync::Arc<Stored>) -> Result<Shown, AzError> {
    let Some(list) = call.req.query_value("fields").filter(|f| !f.trim().is_empty()) else { return Ok(Shown::Whole(r)) };
    let mut out = Map::new();
    for k in ["id", "owner", "owner.__objectType", "owner.name"] {
        out.insert(k.into(), r.field_or_null(k).to_value());
    }
    for f in list.split(',').map(str::trim) {
        let name = field_name(obj, f)?;
        out.insert(name.clone(), r.field_or_null(&name).to_value());
    }
    Ok(Shown::Fields(out))
}

fn ids_param(call: &Call) -> Result<Vec<String>, AzError> {
    let from_query: Vec<String> = call
        .req
        .query_value("records")
        .map(|r| r.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect())
        .unwrap_or_default();
    let from_body: Vec<String> = call
        .body
        .get("records")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default();
    let ids = if from_query.is_empty() { from_body } else { from_query };
    if ids.is_empty() {
        return Err(AzError::param("records is required"));
    }
    Ok(ids)
}

pub fn get_one(call: &Call) -> Result<Reply, AzError> {
    let obj = obj_of(call)?;
    let id = call.req.param("id").unwrap_or_default();
    let r = obj.records.get(id).ok_or_else(|| AzError::not_found(format!("record {id}")))?;
    Ok(Reply::Records(vec![project(call, &obj, r)?], None))
}

pub fn get_many(call: &Call) -> Result<Reply, AzError> {
    let obj = obj_of(call)?;
    let ids = ids_param(call)?;
    let out: Result<Vec<Shown>, AzError> = ids.iter().filter_map(|id| obj.records.get(id)).map(|r| project(call, &obj, r)).collect();
    Ok(Reply::Records(out?, None))
}

pub fn create(call: &Call) -> Result<Value, AzError> {
    let obj = writable_obj_of(call)?;
    let records = call.body.get("records").and_then(Value::as_array).ok_or_else(|| AzError::param("records is required"))?;
    if records.len() > MAX_LIMIT {
        return Err(AzError::param(format!("at most {MAX_LIMIT} records")));
    }
    let _guard = obj.write_lock.lock();
    let mut built = Vec::new();
    for r in records {
        let Value::Object(m) = r else { return Err(AzError::param("records must be objects")) };
        let rec = new_record(call.st, &obj, m, &call.user, call.now())?;
        check_unique(&obj, &rec, &built)?;
        built.push(rec);
    }
    let ids: Vec<Value> = built.iter().map(|r| json!({ "id": r["id"] })).collect();
    let before = obj.records.version();
    obj.records.insert_many(built.iter().map(|r| (r.field_or_null("id").as_str().unwrap_or_default().to_owned(), obj.store(r))));
    if obj.fields.read().iter().any(|f| f.unique) {
        indexed(&obj, before, None, &built.iter().map(|r| r as &dyn Fields).collect::<Vec<_>>());
    }
    Ok(Value::Array(ids))
}

fn set_value(call: &Call, obj: &Obj) -> Result<Vec<(String, Value)>, AzError> {
    match call.body.get("setValue") {
        Some(Value::Object(m)) => fields_of(obj, m),
        _ => Err(AzError::param("the body must wrap the changes in setValue")),
    }
}

pub fn update_one(call: &Call) -> Result<Value, AzError> {
    let obj = writable_obj_of(call)?;
    let id = call.req.param("id").unwrap_or_default();
    let set = set_value(call, &obj)?;
    let _guard = obj.write_lock.lock();
    update_checked(&obj, id, &set, call)?.ok_or_else(|| AzError::not_found(format!("record {id}")))?;
    Ok(json!(1))
}

pub fn matching(obj: &Obj, cond: &Cond) -> Vec<std::sync::Arc<Stored>> {
    obj.records.filtered(|r| cond.matches(r))
}

pub fn update_where(call: &Call) -> Result<Value, AzError> {
    let obj = writable_obj_of(call)?;
    let set = set_value(call, &obj)?;
    let cond = parse_condition(&obj, call.body.get("condition"))?;
    let _guard = obj.write_lock.lock();
    let mut n = 0;
    for r in matching(&obj, &cond) {
        let id = r.str("id").unwrap_or_default().to_owned();
        if update_checked(&obj, &id, &set, call)?.is_some() {
            n += 1;
        }
    }
    Ok(json!(n))
}

pub fn delete_one(call: &Call) -> Result<Value, AzError> {
    let obj = writable_obj_of(call)?;
    let id = call.req.param("id").unwrap_or_default();
    obj.records.remove(id).ok_or_else(|| AzError::not_found(format!("record {id}")))?;
    Ok(json!(1))
}

pub fn delete_many(call: &Call) -> Result<Value, AzError> {
    let obj = writable_obj_of(call)?;
    let ids = ids_param(call)?;
    if ids.len() > MAX_IDS {
        return Err(AzError::param(format!("at most {MAX_IDS} records")));
    }
    Ok(json!(obj.records.remove_many(ids.iter().map(String::as_str))))
}

/// Deletes every match; an empty condition deletes everything, as documented.
pub fn delete_where(call: &Call) -> Result<Value, AzError> {
    let obj = writable_obj_of(call)?;
    let cond = parse_condition(&obj, call.body.get("condition"))?;
    let ids: Vec<String> = matching(&obj, &cond).iter().filter_map(|r| r.str("id").map(str::to_owned)).collect();
    Ok(json!(obj.records.remove_many(ids.iter().map(String::as_str))))
}

pub fn count(call: &Call) -> Result<Value, AzError> {
    let obj = obj_of(call)?;
    let cond = parse_condition(&obj, call.body.get("condition"))?;
    Ok(json!(obj.records.count_and_page(0, 0, |r| cond.matches(r)).0))
}

/// Query: the page in `result`, the number of matches in a top-level `count`.
pub fn query(call: &Call) -> Result<Reply, AzError> {
    let obj = obj_of(call)?;
    let cond = parse_condition(&obj, call.body.get("condition"))?;
    let opts = call.body.get("options").and_then(Value::as_object).cloned().unwrap_or_default();
    let limit = match opts.get("limit") {
        None | Some(Value::Null) => MAX_LIMIT,
        Some(v) => match v.as_u64() {
            Some(n) if (1..=MAX_LIMIT as u64).contains(&n) => n as usize,
            _ => return Err(AzError::param(format!("options.limit must be 1..{MAX_LIMIT}"))),
        },
    };
    let skip = match opts.get("skip") {
        None | Some(Value::Null) => 0,
        Some(v) => v.as_u64().ok_or_else(|| AzError::param("options.skip must be a non-negative integer"))? as usize,
    };
    let mut order = Vec::new();
    if let Some(list) = opts.get("orderby").and_then(Value::as_array) {
        for o in list {
            let f = o.get("field").and_then(Value::as_str).ok_or_else(|| AzError::param("orderby needs a field"))?;
            let name = field_name(&obj, f)?;
            let desc = match o.get("order").and_then(Value::as_str).map(str::to_ascii_lowercase).as_deref() {
                None | Some("asc") => false,
                Some("desc") => true,
                Some(x) => return Err(AzError::param(format!("order must be asc or desc, got {x}"))),
            };
            order.push((name, desc));
        }
    }
    if order.is_empty() {
        // Id order. One "field eq text" condition: from the field's text index while no write
        // intervenes; otherwise the total and one page in a single pass, cloning only the page.
        let indexed = cond
            .single_text_eq()
            .and_then(|(field, want)| obj.text_index.page(&obj.records, field, want, |r| r.str(field).map(Cow::Borrowed), skip, limit));
        let (total, page) = match indexed {
            Some(found) => found,
            None => obj.records.count_and_page(skip, limit, |r| cond.matches(r)),
        };
        let page: Result<Vec<Shown>, AzError> = page.into_iter().map(|r| project(call, &obj, r)).collect();
        return Ok(Reply::Records(page?, Some(total)));
    }
    let mut hits = matching(&obj, &cond);
    hits.sort_by(|a, b| {
        for (f, desc) in &order {
            let o = cmp(a.field_or_null(f), b.field_or_null(f)).unwrap_or(Ordering::Equal);
            let o = if *desc { o.reverse() } else { o };
            if o != Ordering::Equal {
                return o;
            }
        }
        Ordering::Equal
    });
    let total = hits.len();
    let page: Result<Vec<Shown>, AzError> = hits.into_iter().skip(skip).take(limit).map(|r| project(call, &obj, r)).collect();
    Ok(Reply::Records(page?, Some(total)))
}

/// Inserts one record checked like `create` does; returns its id.
pub fn insert_one(call: &Call, obj: &Obj, given: &Map<String, Value>) -> Result<String, AzError> {
    writable(obj)?;
    let _guard = obj.write_lock.lock();
    let rec = new_record(call.st, obj, given, &call.user, call.now())?;
    check_unique(obj, &rec, &[])?;
    let id = rec.field_or_null("id").as_str().unwrap_or_default().to_owned();
    let before = obj.records.version();
    obj.records.insert(&id, obj.store(&rec));
    indexed(obj, before, None, &[&rec]);
    Ok(id)
}

/// Updates one record's fields checked like `update` does; `false` when there is no such record.
pub fn update_fields(call: &Call, obj: &Obj, id: &str, given: &Map<String, Value>) -> Result<bool, AzError> {
    writable(obj)?;
    let set = fields_of(obj, given)?;
    let _guard = obj.write_lock.lock();
    Ok(update_checked(obj, id, &set, call)?.is_some())
}

/// Records with an `id` are updated, others inserted; ids come back in input order.
pub fn upsert(call: &Call) -> Result<Value, AzError> {
    let obj = writable_obj_of(call)?;
    let records = call.body.get("records").and_then(Value::as_array).ok_or_else(|| AzError::param("records is required"))?;
    let _guard = obj.write_lock.lock();
    let mut out = Vec::new();
    for r in records {
        let Value::Object(m) = r else { return Err(AzError::param("records must be objects")) };
        match m.get("id").and_then(Value::as_str) {
            Some(id) => {
                let set = fields_of(&obj, m)?;
                update_checked(&obj, id, &set, call)?.ok_or_else(|| AzError::not_found(format!("record {id}")))?;
                out.push(json!({ "id": id }));
            }
            None => {
                let rec = new_record(call.st, &obj, m, &call.user, call.now())?;
                check_unique(&obj, &rec, &[])?;
                let id = rec.field_or_null("id").as_str().unwrap_or_default().to_owned();
                let before = obj.records.version();
                obj.records.insert(&id, obj.store(&rec));
                indexed(&obj, before, None, &[&rec]);
                out.push(json!({ "id": id }));
            }
        }
    }
    Ok(Value::Array(out))
}
