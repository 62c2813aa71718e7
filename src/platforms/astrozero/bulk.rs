//! Import and export (`/u-route/baas/bulk/v1.0/…`).
//!
//! Data files are zips of `.csv`/`.txt` files: line 1 names the object, line 2 the fields, every
//! further line is a record. Jobs answer a task id, as on the platform, but run before the answer
//! so tests need not poll: an export's zip is already in the first connector at
//! `bulk/export/{taskId}.zip`, an import's records are already in the store (rows that fail are
//! listed in the task, visible in the admin state export).

use std::io::{Cursor, Read, Write};

use bytes::Bytes;
use serde_json::{json, Map, Value};

use super::data::{self, time_text};
use super::errors::AzError;
use super::model::{BulkTask, Obj, Stored};
use super::program::text;
use super::{connectors, metadata, Call};

fn zip_files(files: &[(String, Vec<u8>)]) -> Result<Vec<u8>, AzError> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default();
    for (name, data) in files {
        w.start_file(name.as_str(), opts).map_err(|e| AzError { name: "internal_error", detail: Some(e.to_string()) })?;
        w.write_all(data).map_err(|e| AzError { name: "internal_error", detail: Some(e.to_string()) })?;
    }
    let cursor = w.finish().map_err(|e| AzError { name: "internal_error", detail: Some(e.to_string()) })?;
    Ok(cursor.into_inner())
}

/// Most bytes an import zip may unpack to, all files together.
pub const MAX_UNZIPPED_BYTES: u64 = 64 * 1024 * 1024;
/// Most times larger than the zip itself its contents may be (past 1 MiB): a zip bomb is refused, not inflated.
pub const MAX_ZIP_RATIO: u64 = 100;
/// Most files an import zip may hold.
pub const MAX_ZIP_FILES: usize = 1000;

/// The files of a zip body, in archive order, within the size, ratio and count limits.
pub(super) fn unzip(body: &[u8]) -> Result<Vec<(String, Vec<u8>)>, AzError> {
    let mut archive = zip::ZipArchive::new(Cursor::new(body)).map_err(|_| AzError::param("the body must be a zip file"))?;
    if archive.len() > MAX_ZIP_FILES {
        return Err(AzError::param(format!("the zip file holds more than {MAX_ZIP_FILES} files")));
    }
    let budget = MAX_UNZIPPED_BYTES.min((body.len() as u64).saturating_mul(MAX_ZIP_RATIO).max(1024 * 1024));
    let mut total: u64 = 0;
    let mut out = Vec::new();
    for i in 0..archive.len() {
        let mut f = archive.by_index(i).map_err(|_| AzError::param("the zip file is damaged"))?;
        if f.is_dir() {
            continue;
        }
        let name = f.name().map(|n| n.into_owned()).unwrap_or_default();
        let mut data = Vec::new();
        // Read at most one byte past what is left, so an oversized file is noticed, never inflated whole.
        (&mut f)
            .take(budget - total + 1)
            .read_to_end(&mut data)
            .map_err(|_| AzError::param(format!("{name} in the zip file is damaged")))?;
        total += data.len() as u64;
        if total > budget {
            return Err(AzError::param(format!(
                "the zip file unpacks to more than {budget} bytes (at most {MAX_UNZIPPED_BYTES} bytes, and at most {MAX_ZIP_RATIO} times its own size)"
            )));
        }
        out.push((name, data));
    }
    Ok(out)
}

fn object_csv(obj: &Obj, records: &[std::sync::Arc<Stored>], sep: u8) -> Result<Vec<u8>, AzError> {
    let mut w = csv::WriterBuilder::new().delimiter(sep).flexible(true).from_writer(Vec::new());
    let mut fields = vec!["id".to_owned(), "name".to_owned()];
    fields.extend(obj.fields.read().iter().map(|f| f.name.clone()));
    let err = |e: csv::Error| AzError { name: "internal_error", detail: Some(e.to_string()) };
    w.write_record([obj.name.as_str()]).map_err(err)?;
    w.write_record(&fields).map_err(err)?;
    for r in records {
        w.write_record(fields.iter().map(|f| text(&r.to_value_of(f)))).map_err(err)?;
    }
    w.into_inner().map_err(|e| AzError { name: "internal_error", detail: Some(e.to_string()) })
}

pub(super) fn new_task(call: &Call, kind: &str, objects: Vec<String>) -> BulkTask {
    BulkTask {
        id: call.st.new_id("003K"),
        kind: kind.into(),
        status: "Completed".into(),
        objects,
        records: 0,
        file: None,
        errors: Vec::new(),
        created_ms: call.now(),
    }
}

fn objects_param(call: &Call) -> Result<Vec<std::sync::Arc<Obj>>, AzError> {
    let names = call
        .body
        .get("objects")
        .and_then(Value::as_array)
        .filter(|a| !a.is_empty())
        .ok_or_else(|| AzError::param("objects is required"))?;
    names
        .iter()
        .map(|n| {
            let n = n.as_str().ok_or_else(|| AzError::param("objects must be object names"))?;
            call.st.object(n).ok_or_else(|| AzError::not_found(format!("object {n}")))
        })
        .collect()
}

/// Checks the schedule fields of an export body (the job itself always runs at once).
fn check_schedule(b: &Map<String, Value>) -> Result<(), AzError> {
    let mode = match b.get("scheduleMode") {
        None | Some(Value::Null) => 1,
        Some(v) => {
            v.as_u64().or_else(|| v.as_str().and_then(|s| s.parse().ok())).ok_or_else(|| AzError::param("scheduleMode must be 1 or 2"))?
        }
    };
    let has = |k: &str| b.get(k).is_some_and(|v| !v.is_null() && v != "");
    match mode {
        1 if has("firstScheduleDate") && b.get("isImmediate").and_then(Value::as_bool) == Some(true) => {
            Err(AzError::param("firstScheduleDate cannot be combined with isImmediate"))
        }
        1 => Ok(()),
        2 => {
            for k in ["firstScheduleDate", "scheduleInterval", "intervalUnit"] {
                if !has(k) {
                    return Err(AzError::param(format!("{k} is required when scheduleMode is 2")));
                }
            }
            match b.get("intervalUnit").and_then(Value::as_str) {
                Some("Hour" | "Day" | "Month") => Ok(()),
                _ => Err(AzError::param("intervalUnit must be Hour, Day or Month")),
            }
        }
        _ => Err(AzError::param("scheduleMode must be 1 or 2")),
    }?;
    if let Some(d) = b.get("firstScheduleDate").and_then(Value::as_str).filter(|d| !d.is_empty()) {
        chrono::NaiveDateTime::parse_from_str(d, "%Y-%m-%d %H:%M:%S")
            .map_err(|_| AzError::param("firstScheduleDate must be yyyy-MM-dd HH:mm:ss"))?;
    }
    match b.get("encodeType").or_else(|| b.get("encode-type")).and_then(Value::as_str) {
        None | Some("utf-8" | "UTF-8" | "gbk" | "GBK") => Ok(()),
        Some(other) => Err(AzError::param(format!("encodeType must be utf-8 or gbk, got {other}"))),
    }
}

/// Writes `data` to the first connector at `bulk/{kind}/{task}.zip`.
fn publish(call: &Call, task: &mut BulkTask, kind: &str, data: Vec<u8>) -> Result<(), AzError> {
    let c =
        call.st.connectors.first().ok_or_else(|| AzError::param("an export needs a connector ([[astrozero.connectors]]) to write to"))?;
    let key = format!("bulk/{kind}/{}.zip", task.id);
    connectors::store(call.st, &call.world.files, &c.name, &key, Bytes::from(data), "private", call.now());
    task.file = Some((c.name.clone(), key));
    Ok(())
}

/// `POST /export/data?file_type=csv|txt`: one file per object; `cond` filters the records.
pub fn export_data(call: &Call) -> Result<Value, AzError> {
    check_schedule(&call.body)?;
    // A template selects the object and the columns, and writes the template's own xlsx.
    if let Some(name) = call.body.get("templateName").and_then(Value::as_str).filter(|n| !n.is_empty()) {
        let mut task = new_task(call, "export", Vec::new());
        let file = super::templates::export(call, name, &mut task)?;
        publish(call, &mut task, "export", zip_files(&[file])?)?;
        let id = task.id.clone();
        call.st.runtime.lock().tasks.insert(id.clone(), task);
        return Ok(json!(id));
    }
    let objects = objects_param(call)?;
    let ext = match call.req.query_value("file_type").unwrap_or_default().as_str() {
        "" | "csv" => "csv",
        "txt" => "txt",
        other => return Err(AzError::param(format!("file_type must be csv or txt, got {other}"))),
    };
    let mut task = new_task(call, "export", objects.iter().map(|o| o.name.clone()).collect());
    let mut files = Vec::new();
    for obj in &objects {
        let cond = data::parse_condition(obj, call.body.get("cond"))?;
        let hits = data::matching(obj, &cond);
        task.records += hits.len();
        files.push((format!("{}.{ext}", obj.name), object_csv(obj, &hits, if ext == "csv" { b',' } else { b'\t' })?));
    }
    publish(call, &mut task, "export", zip_files(&files)?)?;
    let id = task.id.clone();
    call.st.runtime.lock().tasks.insert(id.clone(), task);
    Ok(json!(id))
}

/// A text cell as a value of `kind` (empty means unset).
fn typed(kind: &str, s: &str) -> Value {
    if s.is_empty() {
        return Value::Null;
    }
    match kind {
        "number" | "percent" | "currency" => {
            s.parse::<i64>().map(Value::from).or_else(|_| s.parse::<f64>().map(Value::from)).unwrap_or_else(|_| json!(s))
        }
        "checkbox" => match s.to_ascii_lowercase().as_str() {
            "true" | "1" => json!(true),
            "false" | "0" => json!(false),
            _ => json!(s),
        },
        _ => json!(s),
    }
}

/// Imports one data file; returns the rows written and the rows' problems.
fn import_file(call: &Call, name: &str, bytes: &[u8], with_ids: bool, task: &mut BulkTask) {
    let sep = if name.to_ascii_lowercase().ends_with(".txt") { b'\t' } else { b',' };
    let mut rows = csv::ReaderBuilder::new().has_headers(false).flexible(true).delimiter(sep).from_reader(bytes).into_records();
    let mut next = || rows.next().and_then(Result::ok);
    let Some(object) = next().and_then(|r| r.get(0).map(str::trim).map(str::to_owned)) else {
        task.errors.push(format!("{name}: line 1 must name the object"));
        return;
    };
    let Some(obj) = call.st.object(&object) else {
        task.errors.push(format!("{name}: object {object} does not exist"));
        return;
    };
    task.objects.push(obj.name.clone());
    let Some(header) = next() else {
        task.errors.push(format!("{name}: line 2 must list the fields"));
        return;
    };
    let header: Vec<String> = header.iter().map(|h| h.trim().to_owned()).collect();
    let mut line = 2;
    while let Some(row) = next() {
        line += 1;
        let mut m = Map::new();
        let mut id = None;
        for (h, v) in header.iter().zip(row.iter()) {
            if h == "id" {
                id = Some(v.to_owned()).filter(|v| !v.is_empty());
                continue;
            }
            let kind = obj.with_field(h, |f| f.data_type.clone()).unwrap_or_default();
            m.insert(h.clone(), typed(&kind, v));
        }
        let done = match (with_ids, id) {
            (true, Some(id)) if obj.records.contains(&id) => data::update_fields(call, &obj, &id, &m).map(|_| ()),
            (true, Some(id)) => Err(AzError::not_found(format!("record {id}"))),
            (true, None) => Err(AzError::param("flag hasid needs an id column")),
            (false, _) => data::insert_one(call, &obj, &m).map(|_| ()),
        };
        match done {
            Ok(()) => task.records += 1,
            Err(e) => task.errors.push(format!("{name} line {line}: {}", e.detail.unwrap_or_else(|| e.name.to_owned()))),
        }
    }
}

/// `POST /import/data?filename=x.zip&flag=hasid|noid&comment=true|false` with the zip as body.
pub fn import_data(call: &Call) -> Result<Value, AzError> {
    let filename = call.required_query("filename")?;
    if !filename.to_ascii_lowercase().ends_with(".zip") {
        return Err(AzError::param("filename must name a .zip file"));
    }
    let with_ids = match call.req.query_value("flag").unwrap_or_default().as_str() {
        "hasid" => true,
        "" | "noid" => false,
        other => return Err(AzError::param(format!("flag must be hasid or noid, got {other}"))),
    };
    let files = unzip(&call.req.body)?;
    let mut task = new_task(call, "import", Vec::new());
    for (name, bytes) in files.iter().filter(|(n, _)| n.to_ascii_lowercase().ends_with(".csv") || n.to_ascii_lowercase().ends_with(".txt"))
    {
        import_file(call, name, bytes, with_ids, &mut task);
    }
    if !task.errors.is_empty() {
        task.status = if task.records == 0 { "Failed".into() } else { "PartiallyCompleted".into() };
    }
    let id = task.id.clone();
    call.st.runtime.lock().tasks.insert(id.clone(), task);
    Ok(json!(id))
}

/// `POST /export/schema`: `schema.json` with the objects and their fields.
pub fn export_schema(call: &Call) -> Result<Value, AzError> {
    let objects = objects_param(call)?;
    let mut task = new_task(call, "schema-export", objects.iter().map(|o| o.name.clone()).collect());
    let doc: Vec<Value> = objects
        .iter()
        .map(|o| {
            json!({ "name": o.name, "label": *o.label.read(), "description": *o.description.read(),
                    "fields": o.fields.read().iter().map(metadata::field_json).collect::<Vec<_>>() })
        })
        .collect();
    let text = serde_json::to_vec_pretty(&json!({ "objects": doc, "exportedAt": time_text(call.now()) })).unwrap_or_default();
    publish(call, &mut task, "schema", zip_files(&[("schema.json".into(), text)])?)?;
    let id = task.id.clone();
    call.st.runtime.lock().tasks.insert(id.clone(), task);
    Ok(json!(id))
}

/// `POST /import/schema?filename=x.zip`: creates the objects of a `schema.json` that do not exist.
pub fn import_schema(call: &Call) -> Result<Value, AzError> {
    call.required_query("filename")?;
    let files = unzip(&call.req.body)?;
    let (_, text) =
        files.iter().find(|(n, _)| n.ends_with("schema.json")).ok_or_else(|| AzError::param("the zip file holds no schema.json"))?;
    let doc: Value = serde_json::from_slice(text).map_err(|_| AzError::param("schema.json is not valid JSON"))?;
    let list = doc.get("objects").and_then(Value::as_array).ok_or_else(|| AzError::param("schema.json needs objects"))?;
    let mut task = new_task(call, "schema-import", Vec::new());
    for o in list {
        let Some(m) = o.as_object() else { continue };
        let name = m.get("name").and_then(Value::as_str).unwrap_or_default().to_owned();
        if call.st.object(&name).is_some() {
            task.errors.push(format!("object {name} already exists"));
            continue;
        }
        match metadata::create_object_from(call, m) {
            Ok(_) => task.objects.push(name),
            Err(e) => task.errors.push(format!("object {name}: {}", e.detail.unwrap_or_default())),
        }
    }
    if !task.errors.is_empty() && task.objects.is_empty() {
        task.status = "Failed".into();
    }
    let id = task.id.clone();
    call.st.runtime.lock().tasks.insert(id.clone(), task);
    Ok(json!(id))
}
