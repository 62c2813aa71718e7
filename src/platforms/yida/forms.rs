//! Form routes (`/v1/form/*`).

use serde_json::{json, Value};

use super::errors::YidaError;
use super::model::{Form, FormInstance, PrintShape};
use super::search::{order, sort, Search};
use super::values::{convert_map, parse_day, time_text, I18n, Reading, Rendered};
use super::Call;
use crate::core::json_out::write_array;
use crate::http::Response;

pub fn ok(v: Value) -> Result<Response, YidaError> {
    Ok(Response::json(200, &v))
}

/// The form named by `formUuid` in the path's app, readable by the caller.
pub fn form(call: &Call) -> Result<std::sync::Arc<Form>, YidaError> {
    let uuid = call.req_str("formUuid")?;
    let f = call.st.form(call.app, &uuid).ok_or_else(|| YidaError::form_not_found(call.locale))?;
    if !f.can_view(&call.user) {
        return Err(YidaError::forbidden(call.locale));
    }
    Ok(f)
}

/// A form instance as the in-app reads answer it (`getFormDataById`, `searchFormDatas`).
pub fn detail(call: &Call, f: &Form, i: &FormInstance) -> Value {
    json!(Detail::new(call, f, i, &call.reading()))
}

/// [`detail`] printed straight from the store: the searches answer pages of these without building a
/// `Value` per record (building and copying maps was most of a page's cost).
pub struct Detail<'a> {
    form: &'a Form,
    inst: &'a FormInstance,
    reading: &'a Reading<'a>,
    /// The originator's name in the directory (`None`: not a member).
    name: Option<String>,
}

impl<'a> Detail<'a> {
    pub fn new(call: &Call, form: &'a Form, inst: &'a FormInstance, reading: &'a Reading<'a>) -> Self {
        Detail { form, inst, reading, name: call.world.directory.user_name(&inst.originator) }
    }
}

impl serde::Serialize for Detail<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let (f, i) = (self.form, self.inst);
        let mut m = s.serialize_map(Some(8))?;
        m.serialize_entry("gmtModified", &time_text(i.modified_ms))?;
        m.serialize_entry("gmtCreate", &time_text(i.created_ms))?;
        m.serialize_entry("formUuid", &f.form_uuid)?;
        m.serialize_entry("formInstId", &i.form_inst_id)?;
        m.serialize_entry("formData", &Rendered { components: &f.components, data: &i.data, reading: self.reading })?;
        m.serialize_entry("originator", &Originator { name: self.name.as_deref().unwrap_or(&i.originator), user: &i.originator })?;
        m.serialize_entry("title", &Title { originator: self.name.as_deref().unwrap_or_default(), form: &f.name })?;
        m.serialize_entry("version", &i.version)?;
        m.end()
    }
}

/// `{"name": i18n, "userId"}`.
struct Originator<'a> {
    name: &'a str,
    user: &'a str,
}

impl serde::Serialize for Originator<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("name", &I18n(self.name))?;
        m.serialize_entry("userId", self.user)?;
        m.end()
    }
}

/// "<originator>发起的<form>", as Yida titles a record.
pub struct Title<'a> {
    pub originator: &'a str,
    pub form: &'a str,
}

impl serde::Serialize for Title<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("{}发起的{}", self.originator, self.form))
    }
}

/// The in-app envelope of a successful read: `{success, errorCode, errorMsg, result}`.
#[derive(serde::Serialize)]
pub struct InAppOk<T> {
    pub success: bool,
    #[serde(rename = "errorCode")]
    pub error_code: &'static str,
    #[serde(rename = "errorMsg")]
    pub error_msg: &'static str,
    pub result: T,
}

impl<T: serde::Serialize> InAppOk<T> {
    pub fn answer(result: T) -> Result<Response, YidaError> {
        Ok(Response::json(200, &InAppOk { success: true, error_code: "", error_msg: "", result }))
    }
}

pub fn save(call: &Call) -> Result<Response, YidaError> {
    let f = form(call)?;
    if !f.can_submit(&call.user) {
        return Err(YidaError::forbidden(call.locale));
    }
    if let Some(t) = call.opt_str("appType") {
        if t != call.app {
            return Err(YidaError::param("appType 与请求路径中的应用不一致", call.locale));
        }
    }
    let data = call.json_object("formDataJson", true)?.unwrap_or_default();
    let data = convert_map(&f.components, &data, &call.world.directory, call.locale)?;
    if let Some(c) = f.components.iter().find(|c| c.required && data.get(&c.id).is_none_or(Value::is_null)) {
        return Err(YidaError::param(&format!("{} 为必填项", c.label), call.locale));
    }
    let inst = super::scenario::new_instance(call.st, &f, data, &call.user, call.now());
    let id = inst.form_inst_id.clone();
    super::automations::fire(call, &f, &inst, "create");
    f.instances.lock().push(Box::new(inst));
    ok(json!({ "result": id, "success": true }))
}

/// Finds a form instance (by `formInstId` or, for process forms, `processInstanceId`) in the app.
pub fn with_instance<T>(call: &Call, id: &str, f: impl FnOnce(&Form, &mut FormInstance) -> Result<T, YidaError>) -> Result<T, YidaError> {
    let form = visible_form_of(call, id)?;
    let mut list = form.instances.lock();
    let at = super::model::locate(&list, id).ok_or_else(|| YidaError::instance_not_found(call.locale))?;
    f(&form, &mut list[at])
}

/// [`with_instance`] for reads: the instances are not touched mutably, so what is kept beside them
/// (select index, printed instances) stays valid.
pub fn with_instance_ref<T>(call: &Call, id: &str, f: impl FnOnce(&Form, &FormInstance) -> Result<T, YidaError>) -> Result<T, YidaError> {
    let form = visible_form_of(call, id)?;
    let list = form.instances.lock();
    let at = super::model::locate(&list, id).ok_or_else(|| YidaError::instance_not_found(call.locale))?;
    f(&form, &list[at])
}

/// The form holding instance `id`, when the caller may see it.
fn visible_form_of(call: &Call, id: &str) -> Result<std::sync::Arc<Form>, YidaError> {
    let form = call.st.find_instance(call.app, id).ok_or_else(|| YidaError::instance_not_found(call.locale))?;
    if !form.can_view(&call.user) {
        return Err(YidaError::forbidden(call.locale));
    }
    Ok(form)
}

/// Only the keys present change; a sub-form is replaced as a whole.
pub fn apply_update(call: &Call, f: &Form, inst: &mut FormInstance, name: &str) -> Result<(), YidaError> {
    let patch = call.json_object(name, true)?.unwrap_or_default();
    let patch = convert_map(&f.components, &patch, &call.world.directory, call.locale)?;
    inst.update_data(&f.interner, &call.user, call.now(), &patch);
    inst.modified_ms = call.now();
    inst.modifier = call.user.clone();
    if call.opt_str("useLatestVersion").as_deref() == Some("y") {
        inst.version += 1;
    }
    super::automations::fire(call, f, inst, "update");
    Ok(())
}

pub fn update(call: &Call) -> Result<Response, YidaError> {
    let id = call.req_str("formInstId")?;
    with_instance(call, &id, |f, inst| apply_update(call, f, inst, "updateFormDataJson"))?;
    ok(json!({ "success": true }))
}

pub fn delete(call: &Call) -> Result<Response, YidaError> {
    let id = call.req_str("formInstId")?;
    let form = call.st.find_instance(call.app, &id).ok_or_else(|| YidaError::instance_not_found(call.locale))?;
    if !form.can_view(&call.user) {
        return Err(YidaError::forbidden(call.locale));
    }
    let removed = take_instances(&form, |i| i.form_inst_id == id);
    for inst in &removed {
        super::automations::fire(call, &form, inst, "delete");
    }
    ok(json!({ "success": true }))
}

/// Removes the form's instances `which` picks and answers them.
pub fn take_instances(form: &Form, which: impl Fn(&FormInstance) -> bool) -> Vec<FormInstance> {
    let mut list = form.instances.lock();
    let (gone, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut **list).into_iter().partition(|i| which(i));
    **list = kept;
    form.reshape();
    gone.into_iter().map(|i| *i).collect()
}

pub fn get(call: &Call) -> Result<Response, YidaError> {
    let id = call.req_str("formInstId")?;
    let reading = call.reading();
    with_instance_ref(call, &id, |f, inst| InAppOk::answer(Detail::new(call, f, inst, &reading)))
}

/// The shared search parameters of a form's searches: conditions, originator, time bounds, order.
struct Query {
    search: Search,
    keys: Vec<(String, bool)>,
    who: Option<String>,
    created: (Option<i64>, Option<i64>),
    modified: (Option<i64>, Option<i64>),
}

impl Query {
    fn parse(call: &Call, f: &Form) -> Result<Query, YidaError> {
        let search = Search::parse(call.p.get("searchFieldJson"), &f.components, call.locale)?;
        let keys = order(call.p.get("dynamicOrder"), &f.components, call.locale)?;
        let day = |name: &str, end: bool| -> Result<Option<i64>, YidaError> {
            match call.opt_str(name) {
                None => Ok(None),
                Some(s) => {
                    parse_day(&s, end).map(Some).ok_or_else(|| YidaError::param(&format!("{name} 的格式应为 yyyy-MM-dd"), call.locale))
                }
            }
        };
        let created = (day("createFrom", false)?, day("createTo", true)?);
        let modified = (day("modifiedFrom", false)?, day("modifiedTo", true)?);
        Ok(Query { search, keys, who: call.opt_str("originatorId"), created, modified })
    }

    fn takes_all(&self) -> bool {
        self.search.is_empty() && self.only_conditions()
    }

    /// No originator or time bounds: what matches is the conditions' business alone.
    fn only_conditions(&self) -> bool {
        self.who.is_none() && self.created == (None, None) && self.modified == (None, None)
    }

    fn accepts(&self, i: &FormInstance, system: &dyn Fn(&FormInstance, &str) -> Option<Value>) -> bool {
        let within = |t: i64, (from, to): (Option<i64>, Option<i64>)| from.is_none_or(|f| t >= f) && to.is_none_or(|e| t <= e);
        self.who.as_ref().is_none_or(|w| &i.originator == w)
            && within(i.created_ms, self.created)
            && within(i.modified_ms, self.modified)
            && self.search.matches(i, &|k| system(i, k))
    }
}

/// Instances matching the shared search parameters, sorted, with the total before paging.
pub fn matching<'a>(
    call: &Call,
    f: &Form,
    list: &'a [Box<FormInstance>],
    system: &dyn Fn(&FormInstance, &str) -> Option<Value>,
) -> Result<Vec<&'a FormInstance>, YidaError> {
    let q = Query::parse(call, f)?;
    let mut out: Vec<&FormInstance> = list.iter().map(|i| &**i).filter(|i| q.accepts(i, system)).collect();
    sort(&mut out, &q.keys);
    Ok(out)
}

/// One page (`p`, 1-based, of `size`) of [`matching`] and how many match in all. In the default
/// order (newest first) over a list in creation order, the list is walked backwards: no sort, no
/// list of every match, and no walk at all without conditions — a page of 100 000 records costs the
/// page.
pub fn matching_page<'a>(
    call: &Call,
    f: &Form,
    list: &'a super::model::Instances,
    p: usize,
    size: usize,
) -> Result<(Vec<&'a FormInstance>, usize), YidaError> {
    let q = Query::parse(call, f)?;
    let skip = (p - 1).saturating_mul(size);
    if q.keys.is_empty() && f.in_creation_order(list) {
        if q.takes_all() {
            return Ok((list.iter().rev().skip(skip).take(size).map(|i| &**i).collect(), list.len()));
        }
        if let Some((field, want)) = q.search.single_select_eq().filter(|_| q.only_conditions()) {
            let (total, at) = f.select_page(list, field, want, super::search::text, skip, size);
            return Ok((at.into_iter().map(|i| &*list[i]).collect(), total));
        }
        let (mut hits, mut total) = (Vec::with_capacity(size.min(100)), 0);
        for i in list.iter().rev().filter(|i| q.accepts(i, &|_, _| None)) {
            if total >= skip && hits.len() < size {
                hits.push(&**i);
            }
            total += 1;
        }
        return Ok((hits, total));
    }
    let mut out: Vec<&FormInstance> = list.iter().map(|i| &**i).filter(|i| q.accepts(i, &|_, _| None)).collect();
    sort(&mut out, &q.keys);
    Ok((page(&out, p, size), out.len()))
}

pub fn page<T: Clone>(items: &[T], page: usize, size: usize) -> Vec<T> {
    items.iter().skip((page - 1) * size).take(size).cloned().collect()
}

pub fn paged(data: Vec<Value>, total: usize, current: usize) -> Value {
    json!({ "data": data, "totalCount": total, "currentPage": current })
}

pub fn search_ids(call: &Call) -> Result<Response, YidaError> {
    let f = form(call)?;
    let (p, size) = call.paging(100)?;
    let list = f.instances.lock();
    let (hits, total) = matching_page(call, &f, &list, p, size)?;
    let ids: Vec<Value> = hits.iter().map(|i| json!(i.form_inst_id)).collect();
    ok(json!({ "result": paged(ids, total, p), "success": true }))
}

pub fn search(call: &Call) -> Result<Response, YidaError> {
    let f = form(call)?;
    let (p, size) = call.paging(100)?;
    let list = f.instances.lock();
    let (hits, total) = matching_page(call, &f, &list, p, size)?;
    let reading = call.reading();
    let mut printed = f.printed(&list, call.world.directory.generation());
    let mut out = Vec::with_capacity(hits.len() * 640 + 128);
    out.extend_from_slice(br#"{"success":true,"errorCode":"","errorMsg":"","result":{"data":"#);
    write_array(&mut out, &hits, |out, i| {
        printed.write(i, PrintShape::InApp, reading.english, out, |out| {
            let _ = serde_json::to_writer(out, &Detail::new(call, &f, i, &reading));
        })
    });
    out.extend_from_slice(format!(r#","totalCount":{total},"currentPage":{p}}}}}"#).as_bytes());
    Ok(Response::json_bytes(200, out))
}

/// The form of `formUuid` for a definition read: app administrators only (since 2024-12).
pub fn definition_form(call: &Call) -> Result<std::sync::Arc<Form>, YidaError> {
    let f = form(call)?;
    let admins = call.st.apps.get(call.app).and_then(|a| a.admins.as_ref());
    if admins.is_some_and(|a| !a.contains(&call.user)) {
        return Err(YidaError::forbidden(call.locale));
    }
    Ok(f)
}

/// Form definition; `label` is an i18n object as a JSON string.
pub fn components(call: &Call) -> Result<Response, YidaError> {
    let f = definition_form(call)?;
    let content: Vec<Value> = f
        .components
        .iter()
        .map(|c| {
            let label = json!({ "en_US": c.label, "zh_CN": c.label, "type": "i18n" }).to_string();
            json!({ "label": label, "key": c.id, "componentName": c.kind, "required": c.required })
        })
        .collect();
    ok(json!({ "success": true, "content": content }))
}

/// Pages through one sub-form (`pageSize` at most 50).
pub fn table_rows(call: &Call) -> Result<Response, YidaError> {
    let f = form(call)?;
    // The Open API names it `formInstanceId` too, which its renames turn into `formInstId`.
    let id = match call.opt_str("formInstId") {
        Some(id) => id,
        None => call.req_str("formInstanceId")?,
    };
    let table = call.req_str("tableFieldId")?;
    let (p, size) = call.paging(50)?;
    let c = f.component(&table).filter(|c| c.kind == "TableField").ok_or_else(|| YidaError::param("field is null", call.locale))?;
    let list = f.instances.lock();
    let inst = super::model::locate(&list, &id).map(|at| &list[at]).ok_or_else(|| YidaError::instance_not_found(call.locale))?;
    let rows: Vec<Value> = inst.data.value(&table).and_then(|v| v.as_array().cloned()).unwrap_or_default();
    let rendered: Vec<Value> = rows
        .iter()
        .map(|r| r.as_object().map(|r| Value::Object(super::values::render_map(&c.items, r, &call.reading()))).unwrap_or(Value::Null))
        .collect();
    ok(json!({ "result": paged(page(&rendered, p, size), rendered.len(), p), "success": true }))
}
