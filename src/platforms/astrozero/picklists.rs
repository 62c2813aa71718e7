//! Global picklist value sets (`/u-route/baas/metadata/v1.0/Picklist`). A field created with
//! `picklist: <id or name>` takes the set's values as its options and follows later changes, so
//! the data routes accept exactly the set's current values.

use serde_json::{json, Map, Value};

use super::data::time_text;
use super::errors::AzError;
use super::model::{State, ValueSet};
use super::Call;

/// `ns__Name`: the tenant namespace, then a letter and letters, digits or single `_`.
pub fn name_ok(name: &str, ns: &str) -> bool {
    name.len() <= 64
        && name.strip_prefix(ns).and_then(|r| r.strip_prefix("__")).is_some_and(|rest| {
            rest.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && rest.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !rest.contains("__")
                && !rest.ends_with('_')
        })
}

fn set_json(s: &ValueSet) -> Value {
    json!({
        "id": s.id, "name": s.name, "masterLabel": s.master_label, "description": s.description,
        "useFirstAsDefault": s.use_first_as_default,
        "picklistValues": s.values.iter().map(|(v, l)| json!({ "value": v, "label": l })).collect::<Vec<_>>(),
        "createdDate": time_text(s.created_ms),
    })
}

/// `[{value, label?}]` (or plain strings): no empty values, no `;`, no repeats.
fn parse_values(v: Option<&Value>) -> Result<Vec<(String, String)>, AzError> {
    let Some(list) = v.filter(|v| !v.is_null()) else { return Ok(Vec::new()) };
    let list = list.as_array().ok_or_else(|| AzError::param("picklistValues must be an array"))?;
    let mut out: Vec<(String, String)> = Vec::new();
    for item in list {
        let value = item
            .get("value")
            .and_then(Value::as_str)
            .or(item.as_str())
            .ok_or_else(|| AzError::param("each picklist value needs a value"))?;
        if value.is_empty() || value.contains(';') {
            return Err(AzError::param(format!("picklist values must be non-empty and without ';', got {value:?}")));
        }
        if out.iter().any(|(v, _)| v == value) {
            return Err(AzError::param(format!("picklist value {value} is given twice")));
        }
        let label = item.get("label").and_then(Value::as_str).unwrap_or(value);
        out.push((value.to_owned(), label.to_owned()));
    }
    Ok(out)
}

fn set_param<'a>(call: &'a Call) -> &'a str {
    call.req.param("pid").unwrap_or_default()
}

/// The values of a set by id or name (for fields created with `picklist`).
pub fn values_of(st: &State, id_or_name: &str) -> Option<(String, Vec<String>)> {
    st.picklists
        .read()
        .iter()
        .find(|s| s.id == id_or_name || s.name == id_or_name)
        .map(|s| (s.id.clone(), s.values.iter().map(|(v, _)| v.clone()).collect()))
}

/// Copies a set's values into every field that uses it. Called without the picklist lock held.
fn sync(st: &State, id: &str) {
    let values = values_of(st, id).map(|(_, v)| v).unwrap_or_default();
    for o in st.objects.read().iter() {
        for f in o.fields.write().iter_mut().filter(|f| f.picklist.as_deref() == Some(id)) {
            f.options = values.clone();
        }
    }
}

pub fn create(call: &Call) -> Result<Value, AzError> {
    let b = &call.body;
    let name = b.get("name").and_then(Value::as_str).ok_or_else(|| AzError::param("name is required"))?;
    if !name_ok(name, &call.st.namespace) {
        return Err(AzError::param(format!(
            "name must be {}__Name (at most 64 characters, no consecutive _), got {name}",
            call.st.namespace
        )));
    }
    let label = b.get("masterLabel").and_then(Value::as_str).ok_or_else(|| AzError::param("masterLabel is required"))?;
    if label.is_empty() || label.chars().count() > 64 {
        return Err(AzError::param("masterLabel must be 1 to 64 characters"));
    }
    let set = ValueSet {
        id: call.st.new_id("000P"),
        name: name.to_owned(),
        master_label: label.to_owned(),
        description: b.get("description").and_then(Value::as_str).unwrap_or_default().to_owned(),
        use_first_as_default: b.get("useFirstAsDefault").and_then(Value::as_bool).unwrap_or(false),
        values: parse_values(b.get("picklistValues"))?,
        created_ms: call.now(),
    };
    let mut sets = call.st.picklists.write();
    if sets.iter().any(|s| s.name == set.name) {
        return Err(AzError::param(format!("picklist {name} already exists")));
    }
    let id = set.id.clone();
    sets.push(set);
    Ok(json!(id))
}

pub fn list(call: &Call) -> Result<Value, AzError> {
    Ok(Value::Array(call.st.picklists.read().iter().map(set_json).collect()))
}

/// `GET /Picklist/{id}`: the set, or with `flag=field` the fields that use it.
pub fn get(call: &Call) -> Result<Value, AzError> {
    let id = set_param(call);
    let set = call
        .st
        .picklists
        .read()
        .iter()
        .find(|s| s.id == id || s.name == id)
        .cloned()
        .ok_or_else(|| AzError::not_found(format!("picklist {id}")))?;
    match call.req.query_value("flag").unwrap_or_default().as_str() {
        "" | "value" | "values" => Ok(set_json(&set)),
        "field" | "fields" => {
            let mut out = Vec::new();
            for o in call.st.objects.read().iter() {
                for f in o.fields.read().iter().filter(|f| f.picklist.as_deref() == Some(set.id.as_str())) {
                    out.push(json!({ "objectId": o.id, "objectName": o.name, "fieldId": f.id, "fieldName": f.name }));
                }
            }
            Ok(Value::Array(out))
        }
        other => Err(AzError::param(format!("flag must be values or field, got {other}"))),
    }
}

fn with_set<T>(call: &Call, f: impl FnOnce(&mut ValueSet) -> Result<T, AzError>) -> Result<(String, T), AzError> {
    let id = set_param(call);
    let mut sets = call.st.picklists.write();
    let set = sets.iter_mut().find(|s| s.id == id || s.name == id).ok_or_else(|| AzError::not_found(format!("picklist {id}")))?;
    Ok((set.id.clone(), f(set)?))
}

/// `POST /Picklist/{id}`: adds values; a value that exists already is an error.
pub fn add_values(call: &Call) -> Result<Value, AzError> {
    let values = parse_values(call.body.get("picklistValues"))?;
    if values.is_empty() {
        return Err(AzError::param("picklistValues is required"));
    }
    let (id, ()) = with_set(call, |set| {
        if let Some((v, _)) = values.iter().find(|(v, _)| set.values.iter().any(|(x, _)| x == v)) {
            return Err(AzError::param(format!("picklist value {v} already exists")));
        }
        set.values.extend(values);
        Ok(())
    })?;
    sync(call.st, &id);
    Ok(json!(1))
}

/// `PUT /Picklist/{id}`: masterLabel, description, useFirstAsDefault.
pub fn update(call: &Call) -> Result<Value, AzError> {
    let b: &Map<String, Value> = &call.body;
    with_set(call, |set| {
        if let Some(l) = b.get("masterLabel").and_then(Value::as_str) {
            if l.is_empty() || l.chars().count() > 64 {
                return Err(AzError::param("masterLabel must be 1 to 64 characters"));
            }
            set.master_label = l.to_owned();
        }
        if let Some(d) = b.get("description").and_then(Value::as_str) {
            set.description = d.to_owned();
        }
        if let Some(u) = b.get("useFirstAsDefault").and_then(Value::as_bool) {
            set.use_first_as_default = u;
        }
        Ok(())
    })?;
    Ok(json!("1"))
}

/// `DELETE /Picklist/{id}`: with `picklistValues` (body) or `values=a,b` (query) only those values
/// go; otherwise the whole set, unless a field still uses it.
pub fn delete(call: &Call) -> Result<Value, AzError> {
    let mut doomed: Vec<String> = parse_values(call.body.get("picklistValues"))?.into_iter().map(|(v, _)| v).collect();
    if let Some(q) = call.req.query_value("values") {
        doomed.extend(q.split(',').map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned));
    }
    if doomed.is_empty() {
        let id = set_param(call).to_owned();
        let real = values_of(call.st, &id).map(|(i, _)| i).ok_or_else(|| AzError::not_found(format!("picklist {id}")))?;
        let used = call.st.objects.read().iter().any(|o| o.fields.read().iter().any(|f| f.picklist.as_deref() == Some(real.as_str())));
        if used {
            return Err(AzError::param(format!("picklist {id} is used by fields")));
        }
        call.st.picklists.write().retain(|s| s.id != real);
        return Ok(json!(1));
    }
    let (id, ()) = with_set(call, |set| {
        if let Some(v) = doomed.iter().find(|v| !set.values.iter().any(|(x, _)| x == *v)) {
            return Err(AzError::not_found(format!("picklist value {v}")));
        }
        set.values.retain(|(v, _)| !doomed.contains(v));
        Ok(())
    })?;
    sync(call.st, &id);
    Ok(json!(1))
}
