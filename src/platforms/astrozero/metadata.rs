//! Custom-object metadata (`/u-route/baas/metadata/v1.0/Object…`): objects and their fields. Changes
//! take effect on the data routes at once. Only custom (`__CST`) objects can be created or changed.

use std::sync::Arc;

use parking_lot::{Mutex, RwLock};
use serde_json::{json, Value};

use super::data::time_text;
use super::errors::AzError;
use super::model::{Field, Obj};
use super::scenario::{custom_name_ok, DATA_TYPES};
use super::Call;

fn object(call: &Call) -> Result<Arc<Obj>, AzError> {
    let oid = call.req.param("oid").unwrap_or_default();
    call.st.object(oid).ok_or_else(|| AzError::not_found(format!("object {oid}")))
}

pub fn field_json(f: &Field) -> Value {
    let mut v = json!({ "id": f.id, "name": f.name, "label": f.label, "dataType": f.data_type, "isRequired": f.required, "isUnique": f.unique, "picklistValues": f.options });
    if let Some(p) = &f.picklist {
        v["picklist"] = json!(p);
    }
    v
}

fn object_json(call: &Call, o: &Obj, with_fields: bool) -> Value {
    let mut v = json!({
        "id": o.id, "keyPrefix": o.key_prefix, "name": o.name, "label": *o.label.read(), "pluralLabel": *o.label.read(), "description": *o.description.read(),
        "category": if o.custom { 3 } else { 1 }, "version": 1, "deploymentStatus": "Deployed", "status": "Active",
        "createdBy": super::model::user_id(&call.user), "createdDate": time_text(o.created_ms), "childObjects": [], "parentObjects": [],
    });
    if with_fields {
        v["fields"] = Value::Array(o.fields.read().iter().map(field_json).collect());
    }
    v
}

pub fn list_objects(call: &Call) -> Result<Value, AzError> {
    let mut list: Vec<Arc<Obj>> = call.st.objects.read().clone();
    list.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Value::Array(list.iter().map(|o| object_json(call, o, false)).collect()))
}

pub fn get_object(call: &Call) -> Result<Value, AzError> {
    let o = object(call)?;
    Ok(object_json(call, &o, true))
}

fn parse_field(call: &Call, v: &Value, existing: &[Field]) -> Result<Field, AzError> {
    let name = v.get("name").and_then(Value::as_str).ok_or_else(|| AzError::param("field name is required"))?;
    if !custom_name_ok(name, &call.st.namespace) {
        return Err(AzError::param(format!("field name must be {}__name__CST, got {name}", call.st.namespace)));
    }
    if existing.iter().any(|f| f.name.eq_ignore_ascii_case(name)) {
        return Err(AzError::param(format!("field {name} already exists")));
    }
    let data_type = v.get("dataType").and_then(Value::as_str).unwrap_or("text").to_ascii_lowercase();
    if !DATA_TYPES.contains(&data_type.as_str()) {
        return Err(AzError::param(format!("dataType {data_type} is not supported")));
    }
    let mut options: Vec<String> = v
        .get("picklistValues")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|x| x.get("value").and_then(Value::as_str).or(x.as_str())).map(str::to_owned).collect())
        .unwrap_or_default();
    // A global value set by id or name: the field follows it.
    let picklist = match v.get("picklist").and_then(Value::as_str) {
        Some(p) => {
            let (id, values) = super::picklists::values_of(call.st, p).ok_or_else(|| AzError::not_found(format!("picklist {p}")))?;
            options = values;
            Some(id)
        }
        None => None,
    };
    Ok(Field {
        id: call.st.new_id("cust"),
        name: name.to_owned(),
        label: v.get("label").and_then(Value::as_str).unwrap_or(name).to_owned(),
        data_type,
        required: v.get("isRequired").and_then(Value::as_bool).unwrap_or(false),
        unique: v.get("isUnique").and_then(Value::as_bool).unwrap_or(false),
        options,
        picklist,
    })
}

pub fn create_object(call: &Call) -> Result<Value, AzError> {
    create_object_from(call, &call.body)
}

/// Creates a custom object from `{name, label?, description?, fields?}` (also used by schema import).
pub fn create_object_from(call: &Call, body: &serde_json::Map<String, Value>) -> Result<Value, AzError> {
    let name = body.get("name").and_then(Value::as_str).ok_or_else(|| AzError::param("name is required"))?;
    if !custom_name_ok(name, &call.st.namespace) {
        return Err(AzError::param(format!("object name must be {}__Name__CST, got {name}", call.st.namespace)));
    }
    if call.st.object(name).is_some() {
        return Err(AzError::param(format!("object {name} already exists")));
    }
    let mut fields = Vec::new();
    for f in body.get("fields").and_then(Value::as_array).cloned().unwrap_or_default() {
        let parsed = parse_field(call, &f, &fields)?;
        fields.push(parsed);
    }
    let id = call.st.new_id("cust");
    let key_prefix = format!("c{}", &call.st.new_id("c")[17..20]);
    let obj = Obj {
        id: id.clone(),
        name: name.to_owned(),
        label: RwLock::new(body.get("label").and_then(Value::as_str).unwrap_or(name).to_owned()),
        description: RwLock::new(body.get("description").and_then(Value::as_str).unwrap_or("").to_owned()),
        key_prefix,
        custom: true,
        created_ms: call.now(),
        fields: RwLock::new(fields),
        records: Default::default(),
        interner: Default::default(),
        write_lock: Mutex::new(()),
        unique_index: Default::default(),
        text_index: Default::default(),
    };
    call.st.objects.write().push(Arc::new(obj));
    Ok(json!(id))
}

pub fn update_object(call: &Call) -> Result<Value, AzError> {
    let o = object(call)?;
    if let Some(l) = call.body.get("label").and_then(Value::as_str) {
        *o.label.write() = l.to_owned();
    }
    if let Some(d) = call.body.get("description").and_then(Value::as_str) {
        *o.description.write() = d.to_owned();
    }
    Ok(json!(1))
}

pub fn delete_object(call: &Call) -> Result<Value, AzError> {
    let o = object(call)?;
    if !o.custom {
        return Err(AzError::new("forbidden"));
    }
    call.st.objects.write().retain(|x| x.id != o.id);
    Ok(json!(1))
}

/// One field (`POST …/Field`) or several (`POST …/fields` with `{"fields": […]}`); answers field ids.
pub fn add_fields(call: &Call) -> Result<Value, AzError> {
    let o = object(call)?;
    let incoming: Vec<Value> = match call.body.get("fields") {
        Some(Value::Array(a)) => a.clone(),
        _ => vec![Value::Object(call.body.clone())],
    };
    let mut fields = o.fields.write();
    let mut ids = Vec::new();
    let mut added = Vec::new();
    for f in &incoming {
        let mut all = fields.clone();
        all.extend(added.iter().cloned());
        let parsed = parse_field(call, f, &all)?;
        ids.push(json!(parsed.id));
        added.push(parsed);
    }
    for f in &added {
        for r in o.records.snapshot() {
            let id = r.str("id").unwrap_or_default().to_owned();
            let _ = o.records.update::<()>(&id, |old| Ok(old.with_changes([(f.name.as_str(), &Value::Null)], &o.interner)));
        }
    }
    fields.extend(added);
    Ok(if call.body.get("fields").is_some() { Value::Array(ids) } else { ids.into_iter().next().unwrap_or(Value::Null) })
}

pub fn list_fields(call: &Call) -> Result<Value, AzError> {
    Ok(Value::Array(object(call)?.fields.read().iter().map(field_json).collect()))
}

fn field_id<'a>(call: &'a Call) -> &'a str {
    call.req.param("fid").unwrap_or_default()
}

pub fn get_field(call: &Call) -> Result<Value, AzError> {
    let o = object(call)?;
    let fid = field_id(call);
    let found = o.fields.read().iter().find(|f| f.id == fid || f.name.eq_ignore_ascii_case(fid)).map(field_json);
    found.ok_or_else(|| AzError::not_found(format!("field {fid}")))
}

pub fn update_field(call: &Call) -> Result<Value, AzError> {
    let o = object(call)?;
    let fid = field_id(call).to_owned();
    let mut fields = o.fields.write();
    let f = fields
        .iter_mut()
        .find(|f| f.id == fid || f.name.eq_ignore_ascii_case(&fid))
        .ok_or_else(|| AzError::not_found(format!("field {fid}")))?;
    if let Some(l) = call.body.get("label").and_then(Value::as_str) {
        f.label = l.to_owned();
    }
    if let Some(b) = call.body.get("isRequired").and_then(Value::as_bool) {
        f.required = b;
    }
    if let Some(b) = call.body.get("isUnique").and_then(Value::as_bool) {
        f.unique = b;
    }
    Ok(json!(1))
}

/// Deleting a field drops its values; recreating the name gives a new field id, as in the product.
pub fn delete_field(call: &Call) -> Result<Value, AzError> {
    let o = object(call)?;
    let fid = field_id(call).to_owned();
    let mut fields = o.fields.write();
    let f = fields
        .iter()
        .find(|f| f.id == fid || f.name.eq_ignore_ascii_case(&fid))
        .cloned()
        .ok_or_else(|| AzError::not_found(format!("field {fid}")))?;
    fields.retain(|x| x.id != f.id);
    for r in o.records.snapshot() {
        let id = r.str("id").unwrap_or_default().to_owned();
        let _ = o.records.update::<()>(&id, |old| {
            let mut n = old.to_record();
            n.remove(&f.name);
            Ok(o.store(&n))
        });
    }
    Ok(json!(1))
}
