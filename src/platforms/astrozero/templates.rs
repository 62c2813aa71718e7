//! Import and export by template (`/u-route/baas/bulk/v1.0/template/xlsx`, export `templateName`).
//!
//! A template (`[[astrozero.templates]]`) names an object, maps spreadsheet columns to its fields and
//! carries the operation script — a step list, as scenario scripts are — that runs once per row with
//! the row's values as variables (each field by name, and all of them in `row`) and its sheet row
//! number in `rowNumber`. An import answers HTTP 200 with no
//! body, as documented; the platform runs the script in the background, here it has finished before the
//! answer: rows that fail are listed in the bulk task (`/__emu/state` → `astrozero.runtime.tasks`) and
//! do not stop the others. `GET` on the same path downloads the template file (its header row), and an
//! export with `templateName` writes `{template}.xlsx` with the template's columns.

use std::io::Cursor;

use calamine::{Data, Reader};
use serde_json::{json, Map, Value};

use super::errors::AzError;
use super::model::{BulkTask, Obj, Stored, ValRef};
use super::program::{self, StepDef};
use super::{bulk, Call, Reply};
use crate::http::Response;

/// Most data rows one import reads.
pub const MAX_ROWS: usize = 100_000;
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A data import/export template, from the scenario.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateDef {
    /// The template name callers give in `?template=` or `templateName`.
    pub name: String,
    pub label: Option<String>,
    /// The object the template maps (`ns__Name__CST`).
    pub object: String,
    /// The worksheet read and written (default: the first sheet; `Sheet1` when writing).
    pub sheet: Option<String>,
    /// Mapping rules: spreadsheet column header → field.
    pub columns: Vec<ColumnDef>,
    /// The operation script run per row (`row`, `rowNumber`); an import needs one.
    #[serde(default)]
    pub steps: Vec<StepDef>,
    #[serde(skip)]
    pub origin: crate::scenario::Origin,
}

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ColumnDef {
    /// The column's header text in the sheet's first row.
    pub column: String,
    /// `name` or a field of the object.
    pub field: String,
    /// A row without a value here fails.
    #[serde(default)]
    pub required: bool,
}

impl TemplateDef {
    /// What a scenario check reports, as (key, message); `fields` lists the object's field names, `None`
    /// when the object does not exist.
    pub fn problems(&self, fields: Option<&[String]>) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if self.name.trim().is_empty() {
            out.push(("name", "expected a template name, got an empty string".to_owned()));
        }
        match fields {
            None => out.push(("object", format!("expected an object from [[astrozero.objects]], got {:?}", self.object))),
            Some(fields) => {
                for c in &self.columns {
                    if c.field != "name" && !fields.iter().any(|f| f.eq_ignore_ascii_case(&c.field)) {
                        out.push(("columns", format!("column {:?}: {:?} is not a field of {}", c.column, c.field, self.object)));
                    }
                }
            }
        }
        if self.columns.is_empty() {
            out.push(("columns", "expected at least one column".to_owned()));
        }
        let mut seen = std::collections::HashSet::new();
        for c in &self.columns {
            if !seen.insert(c.column.trim()) {
                out.push(("columns", format!("column {:?} is mapped twice", c.column)));
            }
        }
        for (i, s) in self.steps.iter().enumerate() {
            if let Err(e) = s.check() {
                out.push(("steps", format!("step {i}: {e}")));
            } else if s.wait.is_some() || s.call.is_some() {
                out.push(("steps", format!("step {i}: an operation script runs without stopping: no wait or call steps")));
            }
        }
        out
    }
}

fn template(call: &Call, name: &str) -> Result<TemplateDef, AzError> {
    call.st.templates.iter().find(|t| t.name == name).cloned().ok_or_else(|| AzError::not_found(format!("template {name}")))
}

fn object_of(call: &Call, t: &TemplateDef) -> Result<std::sync::Arc<Obj>, AzError> {
    call.st.object(&t.object).ok_or_else(|| AzError::not_found(format!("object {}", t.object)))
}

/// `GET /template/xlsx?template=X`: the template file, its header row the columns.
pub fn download(call: &Call) -> Result<Reply, AzError> {
    let t = template(call, &call.required_query("template")?)?;
    let bytes = workbook(&t, &[])?;
    let resp = Response { status: 200, content_type: XLSX, body: bytes.into(), headers: Vec::new() }
        .with_header("content-disposition", &crate::http::attachment(&format!("{}.xlsx", t.name)));
    Ok(Reply::Raw(resp))
}

/// An xlsx with the template's header row and one row per record.
fn workbook(t: &TemplateDef, records: &[std::sync::Arc<Stored>]) -> Result<Vec<u8>, AzError> {
    let fail = |e: rust_xlsxwriter::XlsxError| AzError { name: "internal_error", detail: Some(e.to_string()) };
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name(t.sheet.as_deref().unwrap_or("Sheet1")).map_err(fail)?;
    let bold = rust_xlsxwriter::Format::new().set_bold();
    for (c, col) in t.columns.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, &col.column, &bold).map_err(fail)?;
    }
    for (r, rec) in records.iter().enumerate() {
        let row = (r + 1) as u32;
        for (c, col) in t.columns.iter().enumerate() {
            let value = rec.iter().find(|(k, _)| k.eq_ignore_ascii_case(&col.field)).map(|(_, v)| ValRef::from(v));
            let col = c as u16;
            match value.unwrap_or(ValRef::Null) {
                ValRef::Null => continue,
                ValRef::Num(n) => sheet.write_number(row, col, n.as_f64().unwrap_or_default()).map(|_| ()),
                ValRef::Bool(b) => sheet.write_boolean(row, col, b).map(|_| ()),
                ValRef::Str(s) => sheet.write_string(row, col, s).map(|_| ()),
                ValRef::Json(other) => sheet.write_string(row, col, other.to_string()).map(|_| ()),
            }
            .map_err(fail)?;
        }
    }
    book.save_to_buffer().map_err(fail)
}

/// The export of `templateName`: `{template}.xlsx` with the records matching `cond`.
pub fn export(call: &Call, name: &str, task: &mut BulkTask) -> Result<(String, Vec<u8>), AzError> {
    let t = template(call, name)?;
    let obj = object_of(call, &t)?;
    let cond = super::data::parse_condition(&obj, call.body.get("cond"))?;
    let hits = super::data::matching(&obj, &cond);
    task.objects.push(obj.name.clone());
    task.records += hits.len();
    Ok((format!("{}.xlsx", t.name), workbook(&t, &hits)?))
}

/// `POST /template/xlsx?template=X&filename=Y.xlsx` with the spreadsheet as the body (raw, or a
/// multipart file part): every row through the template's operation script. HTTP 200, no body.
pub fn import(call: &Call) -> Result<Reply, AzError> {
    let t = template(call, &call.required_query("template")?)?;
    let filename = call.required_query("filename")?;
    let lower = filename.to_ascii_lowercase();
    if !(lower.ends_with(".xlsx") || lower.ends_with(".xls")) {
        return Err(AzError::param("filename must name an .xls or .xlsx file"));
    }
    if t.steps.is_empty() {
        return Err(AzError::param(format!("template {} has no operation script", t.name)));
    }
    let obj = object_of(call, &t)?;
    let body = match &call.req.multipart {
        Some(parts) => parts.iter().find(|p| p.filename.is_some()).map(|p| p.data.clone()).unwrap_or_default(),
        None => call.req.body.clone(),
    };
    // An xlsx is a zip: bounded like any uploaded zip before the reader inflates it.
    if lower.ends_with(".xlsx") {
        bulk::unzip(&body)?;
    }
    let rows = read_rows(&body, t.sheet.as_deref())?;
    let mut task = super::bulk::new_task(call, "template-import", vec![obj.name.clone()]);
    run_rows(call, &t, &obj, rows, &mut task);
    if !task.errors.is_empty() {
        task.status = if task.records == 0 { "Failed".into() } else { "PartiallyCompleted".into() };
    }
    call.st.runtime.lock().tasks.insert(task.id.clone(), task);
    Ok(Reply::Raw(Response::empty(200)))
}

/// The sheet's rows as cells, the header first.
fn read_rows(body: &[u8], sheet: Option<&str>) -> Result<Vec<Vec<Data>>, AzError> {
    let mut book = calamine::open_workbook_auto_from_rs(Cursor::new(body))
        .map_err(|e| AzError::param(format!("the file is not a spreadsheet: {e}")))?;
    let name = match sheet {
        Some(s) => s.to_owned(),
        None => book.sheet_names().first().cloned().ok_or_else(|| AzError::param("the workbook has no sheet"))?,
    };
    let range = book.worksheet_range(&name).map_err(|_| AzError::param(format!("the workbook has no sheet {name:?}")))?;
    if range.height() > MAX_ROWS + 1 {
        return Err(AzError::param(format!("at most {MAX_ROWS} rows per import")));
    }
    Ok(range.rows().map(<[Data]>::to_vec).collect())
}

/// A cell as the field's kind wants it: numbers for number fields, text for text fields (a code typed
/// as a number reads `1001`, not `1001.0`), dates as `yyyy-MM-dd[ HH:mm:ss]`.
fn cell_value(cell: &Data, kind: &str) -> Value {
    let number_text = |f: f64| if f.fract() == 0.0 && f.abs() < 9.0e15 { format!("{}", f as i64) } else { f.to_string() };
    let v = match cell {
        Data::Empty => return Value::Null,
        Data::String(s) if s.trim().is_empty() => return Value::Null,
        Data::String(s) => json!(s.trim()),
        Data::Int(i) => json!(i),
        // Spreadsheets keep every number as a float: whole ones read as integers.
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => json!(*f as i64),
        Data::Float(f) => json!(f),
        Data::Bool(b) => json!(b),
        Data::DateTime(d) => match d.as_datetime() {
            Some(t) if kind == "date" => json!(t.format("%Y-%m-%d").to_string()),
            Some(t) => json!(t.format("%Y-%m-%d %H:%M:%S").to_string()),
            None => json!(d.as_f64()),
        },
        Data::DateTimeIso(s) | Data::DurationIso(s) => json!(s.replace('T', " ")),
        Data::Error(e) => json!(format!("#{e:?}")),
    };
    match kind {
        "number" | "percent" | "currency" => match &v {
            Value::String(s) => s.parse::<i64>().map(|i| json!(i)).or_else(|_| s.parse::<f64>().map(|f| json!(f))).unwrap_or(v),
            _ => v,
        },
        "checkbox" => match &v {
            Value::String(s) => match s.to_ascii_lowercase().as_str() {
                "true" | "1" | "是" => json!(true),
                "false" | "0" | "否" => json!(false),
                _ => v,
            },
            Value::Number(n) => json!(n.as_f64() != Some(0.0)),
            _ => v,
        },
        "date" | "datetime" => v,
        _ => match &v {
            Value::Number(n) => json!(number_text(n.as_f64().unwrap_or_default())),
            Value::Bool(b) => json!(b.to_string()),
            _ => v,
        },
    }
}

fn run_rows(call: &Call, t: &TemplateDef, obj: &Obj, rows: Vec<Vec<Data>>, task: &mut BulkTask) {
    let mut rows = rows.into_iter();
    let header: Vec<String> = rows.next().unwrap_or_default().iter().map(|c| c.to_string().trim().to_owned()).collect();
    let mut columns = Vec::new();
    for c in &t.columns {
        match header.iter().position(|h| h == c.column.trim()) {
            Some(i) => columns.push((i, c)),
            None if c.required => {
                task.errors.push(format!("the sheet has no column {:?} (required)", c.column));
                return;
            }
            None => {}
        }
    }
    for (n, cells) in rows.enumerate() {
        let number = n + 2;
        if cells.iter().all(|c| matches!(c, Data::Empty)) {
            continue;
        }
        let mut row = Map::new();
        let mut missing = None;
        for (i, c) in &columns {
            let kind = obj.with_field(&c.field, |f| f.data_type.clone()).unwrap_or_default();
            let v = cells.get(*i).map(|cell| cell_value(cell, &kind)).unwrap_or(Value::Null);
            if c.required && v.is_null() {
                missing = Some(c.column.clone());
            }
            row.insert(c.field.clone(), v);
        }
        if let Some(col) = missing {
            task.errors.push(format!("row {number}: column {col:?} is required"));
            continue;
        }
        // The row's values as variables of their own (for `when`) and under `row`.
        let mut vars = row.clone();
        vars.insert("row".into(), Value::Object(row));
        vars.insert("rowNumber".into(), json!(number));
        match program::execute(&t.steps, 0, false, &mut vars, &mut Vec::new(), call) {
            Ok(_) => task.records += 1,
            Err(e) => task.errors.push(format!("row {number}: {}", e.detail.unwrap_or_else(|| e.name.to_owned()))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn valid() -> Vec<u8> {
        let mut book = rust_xlsxwriter::Workbook::new();
        let ws = book.add_worksheet();
        ws.write_string(0, 0, "编码").and_then(|w| w.write_number(1, 0, 7.0)).expect("cells");
        book.save_to_buffer().expect("xlsx")
    }

    #[test]
    fn a_written_sheet_reads_back() {
        let rows = read_rows(&valid(), None).expect("rows");
        assert_eq!(rows.len(), 2);
        assert_eq!(cell_value(&rows[1][0], "text"), json!("7"));
        assert_eq!(cell_value(&rows[1][0], "number"), json!(7));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// Spreadsheets come from clients: damaged ones are refused, never a panic.
        #[test]
        fn damaged_spreadsheets_never_panic(flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..16)) {
            let mut bytes = valid();
            for (at, b) in flips {
                let i = at.index(bytes.len());
                bytes[i] = b;
            }
            if bulk::unzip(&bytes).is_ok() {
                let _ = read_rows(&bytes, None);
            }
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            let _ = read_rows(&bytes, None);
        }
    }
}
