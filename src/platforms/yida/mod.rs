//! Alibaba Yida (宜搭) in-app remote API: `/dingtalk/web/{APP}/v1/{form,process,task}/{method}.json`.
//!
//! Parameters arrive as a query string (GETs, JSON values as JSON strings), a urlencoded form or a JSON
//! body (POSTs); both methods are accepted on every route. The app code in the path is authoritative;
//! front-end extras (`_csrf_token`, `_api`, `_stamp`, `_mock`) are ignored. The caller is the user of
//! the `x-emu-user` header, else `[yida] default_user` (the real API uses the browser login).
//! Errors are HTTP 200 with `{"success": false, "errorCode", "errorMsg"}`.

pub mod errors;
mod forms;
pub mod model;
mod openapi;
pub mod process;
pub mod scenario;
mod search;
pub mod values;

use hyper::Method;
use serde_json::{Map, Value};

use self::errors::YidaError;
use self::model::State;
use crate::http::{json_object, Request, Response};
use crate::router::{Ctx, Route};
use crate::world::World;
use crate::Locale;

pub const PLATFORM: &str = "yida";
pub const USER_HEADER: &str = "x-emu-user";

/// One call: world, state, the app of the path, the acting user and the merged parameters.
pub struct Call<'a> {
    pub world: &'a World,
    pub st: &'a State,
    pub app: &'a str,
    pub user: String,
    pub p: Map<String, Value>,
    pub locale: Locale,
}

impl Call<'_> {
    pub fn now(&self) -> i64 {
        self.world.clock.now_ms()
    }

    pub fn req_str(&self, name: &str) -> Result<String, YidaError> {
        match self.p.get(name) {
            Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
            Some(Value::Number(n)) => Ok(n.to_string()),
            _ => Err(YidaError::param(&format!("{name} 不能为空"), self.locale)),
        }
    }

    pub fn opt_str(&self, name: &str) -> Option<String> {
        match self.p.get(name) {
            Some(Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        }
    }

    /// A JSON object parameter sent as a JSON string (or, leniently, as an object).
    pub fn json_object(&self, name: &str, required: bool) -> Result<Option<Map<String, Value>>, YidaError> {
        match self.p.get(name) {
            None | Some(Value::Null) if !required => Ok(None),
            None | Some(Value::Null) => Err(YidaError::param(&format!("{name} 不能为空"), self.locale)),
            Some(Value::Object(m)) => Ok(Some(m.clone())),
            Some(Value::String(s)) if s.trim().is_empty() && !required => Ok(None),
            Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
                Ok(Value::Object(m)) => Ok(Some(m)),
                _ => Err(YidaError::param(&format!("{name} 不是合法的 JSON 对象"), self.locale)),
            },
            Some(_) => Err(YidaError::param(&format!("{name} 不是合法的 JSON 对象"), self.locale)),
        }
    }

    /// `currentPage` ≥ 1 (default 1) and `pageSize` 1..=max (default 10); violations are parameter
    /// errors, never clamped.
    pub fn paging(&self, max: i64) -> Result<(usize, usize), YidaError> {
        let get = |name: &str, default: i64| -> Result<i64, YidaError> {
            match self.p.get(name) {
                None | Some(Value::Null) => Ok(default),
                Some(Value::String(s)) if s.is_empty() => Ok(default),
                Some(v) => v
                    .as_i64()
                    .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
                    .ok_or_else(|| YidaError::param(&format!("{name} 必须是整数"), self.locale)),
            }
        };
        let page = get("currentPage", 1)?;
        let size = get("pageSize", 10)?;
        if page < 1 {
            return Err(YidaError::param("currentPage 必须大于 0", self.locale));
        }
        if size < 1 || size > max {
            return Err(YidaError::param(&format!("pageSize 必须在 1 到 {max} 之间"), self.locale));
        }
        Ok((page as usize, size as usize))
    }
}

/// Query string first, then the body (JSON object, else urlencoded); extras of the front end dropped.
fn params(req: &Request) -> Map<String, Value> {
    let mut p: Map<String, Value> = req.query_pairs().into_iter().map(|(k, v)| (k, Value::String(v))).collect();
    if let Ok(m) = json_object(&req.body) {
        p.extend(m);
    } else {
        p.extend(form_urlencoded::parse(&req.body).map(|(k, v)| (k.into_owned(), Value::String(v.into_owned()))));
    }
    for extra in ["_csrf_token", "_api", "_stamp", "_mock"] {
        p.remove(extra);
    }
    p
}

pub type Op = fn(&Call) -> Result<Response, YidaError>;

fn dispatch(ctx: &Ctx, op: Op) -> Response {
    let world = ctx.world;
    let locale = world.locale;
    let Some(st) = world.yida.as_ref() else { return YidaError::form_not_found(locale).render() };
    let app = ctx.req.param("app").unwrap_or_default();
    if !st.apps.contains_key(app) {
        return YidaError::form_not_found(locale).render();
    }
    let user = ctx.req.header(USER_HEADER).map(str::to_owned).unwrap_or_else(|| st.default_user.clone());
    // No such active user: the session is not valid (login expired).
    if world.directory.user(&user).is_none_or(|u| u.status != 1) {
        return errors::render_named("unauthorized", locale).unwrap_or_else(|| YidaError::forbidden(locale).render());
    }
    let call = Call { world, st, app, user, p: params(ctx.req), locale };
    op(&call).unwrap_or_else(|e| e.render())
}

fn routes_for(group: &'static str, methods: &[(&'static str, &'static str, Op)]) -> Vec<Route> {
    let mut v = Vec::new();
    for &(method, id, op) in methods {
        let path: &'static str = Box::leak(format!("/dingtalk/web/{{app}}/v1/{group}/{method}.json").into_boxed_str());
        for m in [Method::GET, Method::POST] {
            v.push(Route::new(id, PLATFORM, m, path, move |ctx: &Ctx| dispatch(ctx, op)));
        }
    }
    v
}

pub fn routes() -> Vec<Route> {
    let mut v = routes_for(
        "form",
        &[
            ("saveFormData", "yida.form.save", forms::save),
            ("updateFormData", "yida.form.update", forms::update),
            ("deleteFormData", "yida.form.delete", forms::delete),
            ("getFormDataById", "yida.form.get", forms::get),
            ("searchFormDataIds", "yida.form.search_ids", forms::search_ids),
            ("searchFormDatas", "yida.form.search", forms::search),
            ("getFormComponentDefinationList", "yida.form.components", forms::components),
            ("listTableDataByFormInstIdAndTableId", "yida.form.table_rows", forms::table_rows),
        ],
    );
    v.extend(routes_for(
        "process",
        &[
            ("startInstance", "yida.process.start", process::start),
            ("getInstanceIds", "yida.process.instance_ids", process::instance_ids),
            ("getInstances", "yida.process.instances", process::instances),
            ("getInstanceById", "yida.process.get", process::get),
            ("deleteInstance", "yida.process.delete", process::delete),
            ("terminateInstance", "yida.process.terminate", process::terminate),
            ("getOperationRecords", "yida.process.records", process::records),
            ("updateInstance", "yida.process.update", process::update),
            ("getMySubmitInApp", "yida.process.my_submit", process::my_submit),
        ],
    ));
    v.extend(openapi::routes());
    v.extend(routes_for(
        "task",
        &[
            ("executeTask", "yida.task.execute", process::execute),
            ("getTodoTasksInApp", "yida.task.todo", process::todo),
            ("getDoneTasksInApp", "yida.task.done", process::done),
            ("getNotifyMeTasksInApp", "yida.task.notify", process::notify),
        ],
    ));
    v
}

pub fn render_named_error(name: &str, locale: Locale) -> Option<Response> {
    errors::render_named(name, locale)
}
