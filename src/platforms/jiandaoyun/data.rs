//! Record routes: data/get, list, create, batch_create, update, batch_update, delete, batch_delete.

use std::cell::Cell;
use std::sync::Arc;

use bytes::Bytes;
use serde::Serialize;
use serde_json::{Map, Value};

use super::call::{ok_json, Call, Status};
use super::errors::JdyError;
use super::filter::Filter;
use super::model::{BatchTxn, Entry, Record, Stored, WidgetType};
use super::values::{empty_value, member_json, Converter, Shape};
use crate::core::clock::iso_utc_ms;
use crate::core::compact::RecordBuilder;
use crate::core::directory::Directory;
use crate::core::ids::IdGen;
use crate::http::Response;

/// Batch operations take at most this many records or ids.
pub const BATCH_MAX: usize = 100;
/// A `transaction_id` binds a batch (and uploaded files) for one hour.
const TXN_TTL_MS: i64 = 3_600_000;

#[derive(Serialize)]
struct One<'a> {
    data: &'a Record,
}

/// `{"data":<record>}` from the record's cached JSON; the answer to a write prints without caching.
fn one_raw(s: &Stored, write: bool) -> Response {
    let mut out = Vec::with_capacity(s.json_len_or(1024) + 9);
    out.extend_from_slice(b"{\"data\":");
    if write {
        s.write_json_uncached(&mut out);
    } else {
        s.write_json(&mut out);
    }
    out.push(b'}');
    Response::json_bytes(200, out)
}

/// `{"data":[…]}` from cached JSON: a list page is the records' printed JSON sent as pieces, neither
/// serialised nor (mostly) copied together. hyper hands at most 64 slices to one `writev`, and a
/// second system call costs more than copying: records past the first [`SHARED_PIECES`] are copied
/// into one last piece.
fn many_raw(page: &[Arc<Stored>]) -> Response {
    let (shared, copied) = page.split_at(page.len().min(SHARED_PIECES));
    let mut pieces = Vec::with_capacity(shared.len() + 3);
    pieces.push(Bytes::from_static(b"{\"data\":["));
    pieces.extend(shared.iter().map(|s| s.json_with_comma()));
    let mut tail = Vec::with_capacity(copied.iter().map(|s| s.json_len_or(1024) + 1).sum::<usize>() + 2);
    for s in copied {
        s.write_json(&mut tail);
        tail.push(b',');
    }
    if tail.is_empty() {
        if let Some(last) = pieces.last_mut().filter(|_| !page.is_empty()) {
            last.truncate(last.len() - 1);
        }
    } else {
        tail.pop();
    }
    tail.extend_from_slice(b"]}");
    pieces.push(tail.into());
    Response::json_pieces(200, pieces)
}

/// Records of a page sent as pieces of their own (with the page's head, the copied rest and the
/// response's head, one `writev` of hyper's 64 slices).
const SHARED_PIECES: usize = 60;

#[derive(Serialize)]
struct ManyOwned {
    data: Vec<Record>,
}

/// Where [`assemble`] puts a record's fields: a map (seeds, batches), or a stored record being built
/// (a create, which then builds no map).
trait Sink<'k> {
    fn put(&mut self, key: &'k str, v: Value);
    fn put_ref(&mut self, key: &'k str, v: &Value) {
        self.put(key, v.clone());
    }
    /// A value already shared (a member from the cache): a stored record holds it as it is.
    fn put_shared(&mut self, key: &'k str, v: &Arc<Value>) {
        self.put_ref(key, v);
    }
}

impl<'k> Sink<'k> for Record {
    fn put(&mut self, key: &'k str, v: Value) {
        self.insert(key.to_owned(), v);
    }
}

impl<'k> Sink<'k> for RecordBuilder<'_, 'k> {
    fn put(&mut self, key: &'k str, v: Value) {
        RecordBuilder::put(self, key, &v);
    }
    fn put_ref(&mut self, key: &'k str, v: &Value) {
        RecordBuilder::put(self, key, v);
    }
    fn put_shared(&mut self, key: &'k str, v: &Arc<Value>) {
        RecordBuilder::put_shared(self, key, v);
    }
}

/// The system fields of a record being assembled.
struct System<'a> {
    id: &'a str,
    creator: &'a Arc<Value>,
    updater: &'a Arc<Value>,
    created: &'a str,
    updated: &'a str,
    flow_state: Option<&'a Value>,
}

/// Assembles a record in canonical order: system fields, then every widget in form order.
fn assemble<'e, 'f>(entry: &'e Entry, sys: System, field: impl Fn(&str) -> Option<&'f Value>, out: &mut impl Sink<'e>) {
    out.put("_id", Value::String(sys.id.to_owned()));
    out.put("appId", Value::String(entry.app_id.clone()));
    out.put("entryId", Value::String(entry.entry_id.clone()));
    out.put_shared("creator", sys.creator);
    out.put_shared("updater", sys.updater);
    out.put("createTime", Value::String(sys.created.to_owned()));
    out.put("updateTime", Value::String(sys.updated.to_owned()));
    if entry.is_workflow() {
        out.put("flowState", sys.flow_state.cloned().unwrap_or(Value::from(1)));
    }
    for w in &entry.schema.widgets {
        match field(w.key()) {
            Some(v) => out.put_ref(w.key(), v),
            None => out.put(w.key(), empty_value(w.kind)),
        }
    }
}

/// [`assemble`] into a map.
fn assemble_record<'f>(entry: &Entry, sys: System, field: impl Fn(&str) -> Option<&'f Value>) -> Record {
    let mut r = Map::with_capacity(entry.schema.widgets.len() + 8);
    assemble(entry, sys, field, &mut r);
    r
}

/// Serial numbers are generated on submit for `sn` widgets left empty.
fn fill_serials(entry: &Entry, fields: &mut Vec<(String, Value)>) {
    for w in entry.schema.widgets.iter().filter(|w| w.kind == WidgetType::Sn) {
        if !fields.iter().any(|(k, v)| k == w.key() && v.as_str().is_some_and(|s| !s.is_empty())) {
            fields.retain(|(k, _)| k != w.key());
            fields.push((w.key().to_owned(), Value::String(entry.next_serial(w))));
        }
    }
}

fn lookup<'f>(fields: &'f [(String, Value)]) -> impl Fn(&str) -> Option<&'f Value> {
    move |k| fields.iter().rev().find(|(f, _)| f == k).map(|(_, v)| v)
}

/// A scenario record (converted fields plus optional system fields) → a stored record.
pub fn seed_into_record(
    entry: &Entry,
    ids: &IdGen,
    fields: &Map<String, Value>,
    default_creator: &Value,
    dir: &Directory,
    now: i64,
) -> Record {
    let created_ms = fields.get("createTime").and_then(Value::as_str).and_then(crate::core::clock::parse_rfc3339_ms).unwrap_or(now);
    let updated_ms = fields.get("updateTime").and_then(Value::as_str).and_then(crate::core::clock::parse_rfc3339_ms).unwrap_or(created_ms);
    let id = fields.get("_id").and_then(Value::as_str).map(str::to_owned).unwrap_or_else(|| ids.object_id(created_ms));
    let creator = fields
        .get("creator")
        .and_then(Value::as_str)
        .and_then(|u| dir.user(u))
        .map(|u| member_json(&u))
        .unwrap_or_else(|| default_creator.clone());
    let mut pairs: Vec<(String, Value)> =
        fields.iter().filter(|(k, _)| entry.schema.get(k).is_some()).map(|(k, v)| (k.clone(), v.clone())).collect();
    for (k, v) in pairs.iter_mut() {
        if entry.subforms.contains_key(k) {
            if let Value::Array(rows) = v {
                for row in rows.iter_mut().filter_map(Value::as_object_mut) {
                    if !row.contains_key("_id") {
                        let mut with_id = Map::with_capacity(row.len() + 1);
                        with_id.insert("_id".into(), Value::String(ids.object_id(created_ms)));
                        with_id.extend(std::mem::take(row));
                        *row = with_id;
                    }
                }
            }
        }
    }
    fill_serials(entry, &mut pairs);
    let (created, updated) = (iso_utc_ms(created_ms), iso_utc_ms(updated_ms));
    let creator = Arc::new(creator);
    let sys =
        System { id: &id, creator: &creator, updater: &creator, created: &created, updated: &updated, flow_state: fields.get("flowState") };
    assemble_record(entry, sys, lookup(&pairs))
}

/// Legacy v1 reads and v1/v2 writes predate subform row ids (2021-03-31): strip them.
fn without_row_ids(entry: &Entry, rec: &Stored) -> Record {
    let mut r = rec.to_record();
    for key in entry.subforms.keys() {
        if let Some(Value::Array(rows)) = r.get_mut(key) {
            for row in rows.iter_mut().filter_map(Value::as_object_mut) {
                row.remove("_id");
            }
        }
    }
    r
}

fn strips_row_ids(call: &Call, write: bool) -> bool {
    if write {
        call.version <= 2
    } else {
        call.version == 1
    }
}

fn one_record(call: &Call, entry: &Entry, stored: &Stored, write: bool) -> Result<Response, JdyError> {
    if strips_row_ids(call, write) {
        ok_json(&One { data: &without_row_ids(entry, stored) })
    } else {
        Ok(one_raw(stored, write))
    }
}

/// What converting an API write needs: the call, its time and transaction (for upload keys), and a
/// tally of the attachment bytes it binds (for the quota).
struct Write<'a> {
    call: &'a Call<'a>,
    now: i64,
    txn: Option<&'a str>,
    /// The emulator's URL as the caller reached it, for attachment links: made when a file is bound.
    base: std::cell::OnceCell<String>,
    bound: std::cell::Cell<u64>,
}

impl<'a> Write<'a> {
    fn new(call: &'a Call<'a>, txn: Option<&'a str>) -> Self {
        Write { call, now: call.now(), txn, base: std::cell::OnceCell::new(), bound: std::cell::Cell::new(0) }
    }

    fn convert(
        &self,
        schema: &super::model::Schema,
        data: &Map<String, Value>,
        old: Option<&Stored>,
    ) -> Result<Vec<(String, Value)>, JdyError> {
        let new_id = || self.call.st.ids.object_id(self.now);
        let bind = |key: &str| {
            let file = super::files::bind(
                self.call.st,
                self.call.world,
                self.base.get_or_init(|| super::files::base_url(self.call.req)),
                self.txn,
                key,
                self.now,
            )?;
            self.bound.set(self.bound.get() + file["size"].as_u64().unwrap_or(0));
            Ok(file)
        };
        let conv = Converter {
            dir: &self.call.world.directory,
            strict: self.call.st.strict_values,
            shape: Shape::Write,
            new_id: Some(&new_id),
            files: Some(&bind),
        };
        conv.convert_data(schema, data, old)
    }

    /// Counts the bound attachments against `attachment_quota_bytes` (7217 when over).
    fn charge_quota(&self) -> Result<(), JdyError> {
        let st = self.call.st;
        let bytes = self.bound.get();
        if let Some(quota) = st.attachment_quota {
            if st.attachment_used.load(std::sync::atomic::Ordering::Acquire) + bytes > quota {
                return Err(JdyError::new(7217));
            }
        }
        st.attachment_used.fetch_add(bytes, std::sync::atomic::Ordering::AcqRel);
        Ok(())
    }
}

fn member_of(call: &Call, username: Option<&str>) -> Result<Arc<Value>, JdyError> {
    let name = match username.or(call.actor.as_deref()) {
        Some(u) => u,
        None => match &call.st.default_user {
            Some(u) => u.as_str(),
            None => return Ok(Arc::new(Value::Null)),
        },
    };
    let dir = &call.world.directory;
    call.st
        .members
        .lock()
        .get(dir.generation(), name, || dir.with_user(name, member_json))
        .ok_or_else(|| JdyError::with_detail(1010, format!("unknown member {name}")))
}

/// `transaction_id` must not carry template placeholders such as `${x}` or `$(x)` (17025).
fn check_transaction_id<'a>(call: &'a Call<'a>) -> Result<Option<&'a str>, JdyError> {
    let Some(t) = call.opt_str("transaction_id")? else { return Ok(None) };
    check_transaction_format(t)?;
    Ok(Some(t))
}

pub fn check_transaction_format(t: &str) -> Result<(), JdyError> {
    let bytes = t.as_bytes();
    let templated = bytes.windows(2).any(|w| w[0] == b'$' && (w[1] == b'{' || w[1] == b'('));
    if templated || t.len() > 256 || t.chars().any(char::is_control) {
        return Err(JdyError::new(17025));
    }
    Ok(())
}

pub fn get(call: &Call) -> Result<Response, JdyError> {
    let entry = call.entry()?;
    let id = call.req_str("data_id")?;
    let rec = entry.records.get(id).ok_or(JdyError::new(4001))?;
    one_record(call, &entry, &rec, false)
}

pub fn list(call: &Call) -> Result<Response, JdyError> {
    let entry = call.entry()?;
    let limit = call.opt_int("limit", 10, 1, 100)? as usize;
    let cursor = call.opt_str("data_id")?;
    let fields: Option<Vec<&str>> = match call.body.get("fields") {
        None | Some(Value::Null) => None,
        Some(Value::Array(a)) => Some(
            a.iter().map(|f| f.as_str().ok_or_else(|| JdyError::with_detail(3005, "fields must be strings"))).collect::<Result<_, _>>()?,
        ),
        Some(_) => return Err(JdyError::with_detail(3005, "fields must be an array")),
    };
    let filter = Filter::parse(call.body.get("filter"), &entry, &call.world.directory, call.st.filter_in_max)?;
    let page = match &filter {
        None => entry.records.page_after(cursor, limit, |_| true),
        Some(f) => match f.text_equality() {
            Some((field, want, whole)) => {
                let slot = Cell::new(0);
                entry.text_index.page_after(
                    &entry.records,
                    field,
                    want,
                    |r| super::filter::text_of(r, field, &slot),
                    cursor,
                    limit,
                    |r| whole || f.matches(r),
                )
            }
            None => entry.records.page_after(cursor, limit, |r| f.matches(r)),
        },
    };
    let strip = strips_row_ids(call, false);
    match fields {
        None if !strip => Ok(many_raw(&page)),
        _ => {
            let data = page
                .iter()
                .map(|rec| {
                    let rec = if strip { without_row_ids(&entry, rec) } else { rec.to_record() };
                    match &fields {
                        None => rec,
                        Some(fs) => rec
                            .into_iter()
                            .filter(|(k, _)| matches!(k.as_str(), "_id" | "appId" | "entryId") || fs.contains(&k.as_str()))
                            .collect(),
                    }
                })
                .collect();
            ok_json(&ManyOwned { data })
        }
    }
}

pub fn create(call: &Call) -> Result<Response, JdyError> {
    let entry = call.entry()?;
    let data = call.req_object("data")?;
    let creator = member_of(call, call.opt_str("data_creator")?)?;
    let start_workflow = call.opt_bool("is_start_workflow")?;
    call.opt_bool("is_start_trigger")?;
    let write = Write::new(call, check_transaction_id(call)?);
    let now = write.now;
    let ids = &call.st.ids;
    let mut fields = write.convert(&entry.schema, data, None)?;
    write.charge_quota()?;
    fill_serials(&entry, &mut fields);
    let id = ids.object_id(now);
    let ts = iso_utc_ms(now);
    let flow_state = Value::from(if start_workflow { 0 } else { 1 });
    let sys = System { id: &id, creator: &creator, updater: &creator, created: &ts, updated: &ts, flow_state: Some(&flow_state) };
    let mut cells = entry.interner.builder(entry.schema.widgets.len() + 8);
    assemble(&entry, sys, lookup(&fields), &mut cells);
    let stored = cells.finish();
    if start_workflow && entry.is_workflow() {
        super::workflow::start(call.st, &entry, &id, creator["username"].as_str().unwrap_or_default(), &stored.to_record(), now);
    }
    let key = stored.shared_str("_id").unwrap_or_else(|| Arc::from(id.as_str()));
    let stored = entry.records.insert_keyed(key, stored);
    entry.touch(now);
    if super::push::pushes(call) {
        super::push::record_event(call, &entry, "data_create", &stored, &[]);
    }
    one_record(call, &entry, &stored, true)
}

pub fn batch_create(call: &Call) -> Result<Response, JdyError> {
    let entry = call.entry()?;
    let list = call.req_array("data_list")?;
    if list.len() > BATCH_MAX {
        return Err(JdyError::new(17024));
    }
    let creator = member_of(call, call.opt_str("data_creator")?)?;
    let start_workflow = call.opt_bool("is_start_workflow")?;
    let txn = check_transaction_id(call)?;
    let now = call.now();
    // A retry of the same transaction within the hour is the same batch: nothing is created twice.
    let mut batches = call.st.batches.lock();
    if let Some(t) = txn {
        if let Some(prev) = batches.get(t).filter(|b| now - b.started_ms < TXN_TTL_MS) {
            if prev.entry_id != entry.entry_id {
                return Err(JdyError::new(17026));
            }
            let count = prev.created.len();
            return ok_json(&Status { status: "success", success_count: Some(count), success_ids: Some(Vec::new()) });
        }
    }
    let ids = &call.st.ids;
    let write = Write::new(call, txn);
    let ts = iso_utc_ms(now);
    let flow_state = Value::from(if start_workflow { 0 } else { 1 });
    let mut records = Vec::with_capacity(list.len());
    for item in list {
        let Value::Object(data) = item else { return Err(JdyError::with_detail(3005, "data_list items must be objects")) };
        let mut fields = write.convert(&entry.schema, data, None)?;
        fill_serials(&entry, &mut fields);
        let id = ids.object_id(now);
        let sys = System { id: &id, creator: &creator, updater: &creator, created: &ts, updated: &ts, flow_state: Some(&flow_state) };
        records.push((id.clone(), assemble_record(&entry, sys, lookup(&fields))));
    }
    write.charge_quota()?;
    let created: Vec<String> = records.iter().map(|(id, _)| id.clone()).collect();
    if start_workflow && entry.is_workflow() {
        for (id, rec) in &records {
            super::workflow::start(call.st, &entry, id, creator["username"].as_str().unwrap_or_default(), rec, now);
        }
    }
    entry.records.insert_many(records.iter().map(|(id, rec)| (id.clone(), entry.interner.store(rec))));
    entry.touch(now);
    if let Some(t) = txn {
        batches.insert(t.to_owned(), BatchTxn { entry_id: entry.entry_id.clone(), started_ms: now, created: created.clone() });
    }
    ok_json(&Status { status: "success", success_count: Some(created.len()), success_ids: Some(created) })
}

pub fn update(call: &Call) -> Result<Response, JdyError> {
    let entry = call.entry()?;
    let id = call.req_str("data_id")?;
    let data = call.req_object("data")?;
    call.opt_bool("is_start_trigger")?;
    let write = Write::new(call, check_transaction_id(call)?);
    let updater = member_of(call, None)?;
    let now = write.now;
    let result = entry.records.update(id, |old| {
        let fields = write.convert(&entry.schema, data, Some(old))?;
        write.charge_quota()?;
        Ok(merge_into(&entry, old, &fields, &updater, now))
    });
    match result {
        None => Err(JdyError::new(4001)),
        Some(Err(e)) => Err(e),
        Some(Ok(rec)) => {
            entry.touch(now);
            if super::push::pushes(call) {
                super::push::record_event(call, &entry, "data_update", &rec, &[]);
            }
            one_record(call, &entry, &rec, true)
        }
    }
}

/// The old record with `fields` replaced, `updater` and `updateTime` set; order stays canonical.
fn merge_into(entry: &Entry, old: &Stored, fields: &[(String, Value)], updater: &Value, now: i64) -> Stored {
    let update_time = Value::String(iso_utc_ms(now));
    let changes = fields.iter().map(|(k, v)| (k.as_str(), v));
    let system = [("updater", updater), ("updateTime", &update_time)].into_iter().filter(|(_, v)| !v.is_null());
    old.with_changes(changes.chain(system), &entry.interner)
}

pub fn batch_update(call: &Call) -> Result<Response, JdyError> {
    let entry = call.entry()?;
    let ids = string_ids(call)?;
    if ids.len() > BATCH_MAX {
        return Err(JdyError::new(17023));
    }
    let data = call.req_object("data")?;
    if data.keys().any(|k| entry.subforms.contains_key(k)) {
        return Err(JdyError::with_detail(17032, "batch_update cannot change subform fields"));
    }
    let write = Write::new(call, check_transaction_id(call)?);
    let updater = member_of(call, None)?;
    let now = write.now;
    let fields = write.convert(&entry.schema, data, None)?;
    write.charge_quota()?;
    let mut count = 0;
    for id in ids {
        if let Some(Ok(_)) = entry.records.update::<JdyError>(id, |old| Ok(merge_into(&entry, old, &fields, &updater, now))) {
            count += 1;
        }
    }
    entry.touch(now);
    ok_json(&Status { status: "success", success_count: Some(count), success_ids: None })
}

fn string_ids<'a>(call: &'a Call) -> Result<Vec<&'a str>, JdyError> {
    call.req_array("data_ids")?.iter().map(|v| v.as_str().ok_or_else(|| JdyError::with_detail(3005, "data_ids must be strings"))).collect()
}

pub fn delete(call: &Call) -> Result<Response, JdyError> {
    let entry = call.entry()?;
    let id = call.req_str("data_id")?;
    call.opt_bool("is_start_trigger")?;
    let gone = entry.records.remove(id).ok_or(JdyError::new(4001))?;
    call.st.workflows.instances.lock().remove(id);
    entry.touch(call.now());
    if super::push::pushes(call) {
        let deleter = member_of(call, None)?;
        let at = serde_json::Value::String(iso_utc_ms(call.now()));
        super::push::record_event(call, &entry, "data_remove", &gone, &[("deleter", Value::clone(&deleter)), ("deleteTime", at)]);
    }
    // A delete in the UI goes to the form's recycle bin, from which it can be recovered.
    if call.actor.is_some() {
        let mut bin = entry.recycle.lock();
        if bin.len() >= Entry::RECYCLE_MAX {
            bin.pop_front();
        }
        bin.push_back((id.to_owned(), gone));
    }
    ok_json(&Status::success())
}

/// 恢复 (UI only, through `POST /__emu/act`): puts a record deleted in the UI back under its id and
/// pushes `data_recover`. Its workflow, if it had one, is not revived.
pub fn recover(call: &Call) -> Result<Response, JdyError> {
    let entry = call.entry()?;
    let id = call.req_str("data_id")?;
    let taken = {
        let mut bin = entry.recycle.lock();
        let at = bin.iter().position(|(d, _)| d == id).ok_or(JdyError::new(4001))?;
        bin.remove(at)
    };
    let Some((_, rec)) = taken else { return Err(JdyError::new(4001)) };
    if !entry.records.restore(id, rec.clone()) {
        return Err(JdyError::with_detail(4001, "the id is in use again"));
    }
    entry.touch(call.now());
    if super::push::pushes(call) {
        super::push::record_event(call, &entry, "data_recover", &rec, &[]);
    }
    one_record(call, &entry, &rec, false)
}

pub fn batch_delete(call: &Call) -> Result<Response, JdyError> {
    let entry = call.entry()?;
    let ids = string_ids(call)?;
    if ids.len() > BATCH_MAX {
        return Err(JdyError::new(17033));
    }
    let count = entry.records.remove_many(ids.iter().copied());
    let mut instances = call.st.workflows.instances.lock();
    for id in &ids {
        instances.remove(*id);
    }
    drop(instances);
    entry.touch(call.now());
    ok_json(&Status { status: "success", success_count: Some(count), success_ids: None })
}
