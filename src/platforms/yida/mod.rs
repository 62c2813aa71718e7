//! Alibaba Yida (宜搭) in-app remote API: `/dingtalk/web/{APP}/v1/{form,process,task}/{method}.json`.
//!
//! Parameters arrive as a query string (GETs, JSON values as JSON strings), a urlencoded form or a JSON
//! body (POSTs); both methods are accepted on every route. The app code in the path is authoritative;
//! front-end extras (`_csrf_token`, `_api`, `_stamp`, `_mock`) are ignored. The caller is the user of
//! the `x-emu-user` header, else `[yida] default_user` (the real API uses the browser login).
//! Errors are HTTP 200 with `{"success": false, "errorCode", "errorMsg"}`.

mod act;
mod automations;
mod browse;
mod call;
pub mod errors;
mod events;
mod forms;
mod generate;
pub mod model;
mod openapi;
pub mod process;
mod regions;
pub mod scenario;
mod search;
mod snapshot;
mod tenant;
pub mod values;

use hyper::Method;
use serde_json::Value;

use self::call::params;
pub use self::call::Call;
use self::errors::YidaError;
use self::model::State;
use crate::http::Response;
use crate::platforms::PlatformError;
use crate::platforms::{BuildCx, Platform, ValidateCx};
use crate::router::{Ctx, Route};
use crate::scenario::{Diag, Scenario};
use crate::state::StateError;
use crate::Locale;

pub const PLATFORM: &str = "yida";
pub const USER_HEADER: &str = "x-emu-user";

pub type Op = fn(&Call) -> Result<Response, YidaError>;

fn dispatch(ctx: &Ctx, op: Op) -> Response {
    let world = ctx.world;
    let locale = world.locale;
    let Some(st) = world.platforms.yida.as_ref() else { return YidaError::form_not_found(locale).render(locale) };
    let app = ctx.req.param("app").unwrap_or_default();
    if !st.apps.contains_key(app) {
        return YidaError::form_not_found(locale).render(locale);
    }
    let user = ctx.req.header(USER_HEADER).map(str::to_owned).unwrap_or_else(|| st.default_user.clone());
    // No such active user: the session is not valid (login expired).
    if world.directory.user(&user).is_none_or(|u| u.status != 1) {
        return errors::render_named("unauthorized", locale).unwrap_or_else(|| YidaError::forbidden(locale).render(locale));
    }
    let call = Call { world, st, app, user, p: params(ctx.req), locale };
    op(&call).unwrap_or_else(|e| e.render(locale))
}

/// The in-app path of a method: `/dingtalk/web/{app}/v1/<group>/<method>.json`, built at compile time
/// so the route table needs no allocation that lives forever.
macro_rules! in_app {
    ($group:literal: $(($method:literal, $id:literal, $op:expr)),+ $(,)?) => {
        routes_for(&[$((concat!("/dingtalk/web/{app}/v1/", $group, "/", $method, ".json"), $id, $op as Op)),+])
    };
}

/// Each in-app method answers GET and POST alike.
fn routes_for(methods: &[(&'static str, &'static str, Op)]) -> Vec<Route> {
    let mut v = Vec::new();
    for &(path, id, op) in methods {
        for m in [Method::GET, Method::POST] {
            v.push(Route::new(id, PLATFORM, m, path, move |ctx: &Ctx| dispatch(ctx, op)));
        }
    }
    v
}

pub fn routes() -> Vec<Route> {
    let mut v = in_app!("form":
        ("saveFormData", "yida.form.save", forms::save),
        ("updateFormData", "yida.form.update", forms::update),
        ("deleteFormData", "yida.form.delete", forms::delete),
        ("getFormDataById", "yida.form.get", forms::get),
        ("searchFormDataIds", "yida.form.search_ids", forms::search_ids),
        ("searchFormDatas", "yida.form.search", forms::search),
        ("getFormComponentDefinationList", "yida.form.components", forms::components),
        ("listTableDataByFormInstIdAndTableId", "yida.form.table_rows", forms::table_rows),
    );
    v.extend(in_app!("process":
        ("startInstance", "yida.process.start", process::start),
        ("getInstanceIds", "yida.process.instance_ids", process::instance_ids),
        ("getInstances", "yida.process.instances", process::instances),
        ("getInstanceById", "yida.process.get", process::get),
        ("deleteInstance", "yida.process.delete", process::delete),
        ("terminateInstance", "yida.process.terminate", process::terminate),
        ("getOperationRecords", "yida.process.records", process::records),
        ("updateInstance", "yida.process.update", process::update),
        ("getMySubmitInApp", "yida.process.my_submit", process::my_submit),
    ));
    v.extend(openapi::routes());
    v.extend(in_app!("task":
        ("executeTask", "yida.task.execute", process::execute),
        ("getTodoTasksInApp", "yida.task.todo", process::todo),
        ("getDoneTasksInApp", "yida.task.done", process::done),
        ("getNotifyMeTasksInApp", "yida.task.notify", process::notify),
    ));
    v
}

/// The platform in the registry.
pub struct Yida;

impl Platform for Yida {
    const NAME: &'static str = PLATFORM;
    const PREFIXES: &'static [&'static str] = &["/dingtalk/", "/v1.0/yida/", "/v1.0/oauth2/"];
    const SECRET_FIELDS: &'static [&'static str] = &["systemToken", "appSecret", "accessToken", "refreshToken", "_csrf_token"];
    const SECRET_HEADERS: &'static [&'static str] = &["x-acs-dingtalk-access-token"];
    /// The in-app envelope (`success`, `errorCode`, `errorMsg`), the Open API's (`code`, `message`),
    /// and the page a search answers.
    const DIFF_VALUE_FIELDS: &'static [&'static str] =
        &["success", "errorCode", "errorMsg", "code", "message", "currentPage", "pageNumber"];
    const DELIVERY_EVENTS: &'static [&'static str] = &[events::EVENTS[0], events::EVENTS[1], automations::EVENT];

    fn act(world: &std::sync::Arc<crate::world::World>, request: &serde_json::Map<String, serde_json::Value>) -> super::ActResult {
        act::act(world, request)
    }

    super::browse_with!(browse);
    super::tenant_with!(tenant);
    type Section = scenario::YidaSection;
    type State = State;

    fn routes() -> Vec<Route> {
        routes()
    }
    /// The in-app API answers HTTP 200 `{success:false}`; the DingTalk Open API (`/v1.0/`) answers
    /// HTTP 4xx/5xx `{code, message, requestid}`.
    fn render_error(name: &str, locale: Locale, path: &str) -> Option<Response> {
        if path.starts_with("/v1.0/") {
            return openapi::render_named(name, path);
        }
        errors::render_named(name, locale)
    }
    fn error_names() -> Vec<String> {
        errors::error_names()
    }
    fn validate(scenario: &mut Scenario, cx: &ValidateCx, diags: &mut Vec<Diag>) {
        scenario::validate(scenario, cx.directory, diags)
    }
    fn build(scenario: &Scenario, cx: &BuildCx) -> Option<State> {
        scenario::build_state(scenario, cx.directory, cx.now)
    }
    fn export(state: &State) -> Value {
        snapshot::export(state)
    }
    fn import(state: &mut State, snapshot: Value) -> Result<(), StateError> {
        snapshot::import(state, snapshot)
    }
    fn banner(y: &Self::Section) -> Vec<String> {
        let Some(app) = y.apps.first() else { return Vec::new() };
        let mut lines = vec![format!(
            "yida: in-app API {{BASE}}/dingtalk/web/{}/v1/…  (acting user: x-emu-user header, default {})",
            app.app_type,
            y.default_user.as_deref().unwrap_or("the first user")
        )];
        if let Some(k) = y.app_keys.first() {
            lines.push(format!("  DingTalk Open API: appKey {}  appSecret {}", k.app_key, k.app_secret));
            lines.push(format!(
                "  try: curl -s {{BASE}}/v1.0/oauth2/accessToken -H 'Content-Type: application/json' -d '{{\"appKey\":\"{}\",\"appSecret\":\"{}\"}}'",
                k.app_key, k.app_secret
            ));
        }
        lines
    }
    fn summary(_scenario: &Scenario, y: &Self::Section) -> String {
        let forms: usize = y.apps.iter().map(|a| a.forms.len()).sum();
        let records: usize = y.apps.iter().flat_map(|a| &a.forms).map(|f| f.records.len()).sum();
        format!("{} apps, {forms} forms, {records} records", y.apps.len())
    }
}
