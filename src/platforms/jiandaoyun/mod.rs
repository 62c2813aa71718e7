//! Jiandaoyun (简道云) Open API: apps, forms, widgets and form data, v5 routes plus the legacy v1–v4
//! data routes that clients still call.
//!
//! Conventions (official developer guide): every route is `POST` with a JSON body; auth is
//! `Authorization: Bearer <API key>`; every error is HTTP 400 with `{"code", "msg"}`; ids are 24-hex
//! ObjectIds. Where the docs are silent the choice is written in `docs/fidelity.md`.

mod act;
mod apps;
mod auth;
mod browse;
mod call;
pub mod corp;
mod data;
pub mod errors;
mod files;
mod filter;
mod generate;
pub mod model;
pub mod push;
pub mod scenario;
mod snapshot;
pub mod tenant;
pub mod values;
pub mod workflow;

use hyper::Method;

use self::call::Call;
use self::errors::JdyError;
use crate::http::{json_fields, Response};
use crate::platforms::PlatformError;
use crate::platforms::{BuildCx, Platform, ValidateCx};
use crate::router::{Ctx, Route};
use crate::scenario::{Diag, Scenario};
use crate::state::StateError;

pub const PLATFORM: &str = "jiandaoyun";

type Op = fn(&Call) -> Result<Response, JdyError>;

/// Per-route limits in requests per second (official pages); legacy routes share 5/s.
fn rate_limit(op: &str, version: u8) -> u32 {
    match op {
        "corp.user.get" | "corp.department.dept_no" | "corp.role.list" | "corp.role.users" | "corp.group.list" | "corp.guest" => return 30,
        "corp.user.batch_delete"
        | "corp.user.import"
        | "corp.department.list"
        | "corp.department.users"
        | "corp.department.import"
        | "corp.role.members" => return 10,
        _ if op.starts_with("corp.") => return 20,
        "workflow.task.list" if version >= 6 => return 20,
        "workflow.cc.list" => return 5,
        "workflow.comments" | "workflow.instance.get" | "workflow.instance.logs" | "workflow.task.list" => return 30,
        _ if op.starts_with("workflow.") => return 20,
        _ => {}
    }
    if version < 5 {
        return 5;
    }
    match op {
        "data.create" | "data.update" | "data.delete" => 20,
        "data.batch_create" | "data.batch_update" | "data.batch_delete" => 10,
        "file.get_upload_token" => 20,
        _ => 30,
    }
}

/// Enterprise-wide cap shared by every route (8303).
const ENTERPRISE_PER_SECOND: u32 = 50;

fn route(id: &'static str, op_name: &'static str, version: u8, pattern: &'static str, op: Op) -> Route {
    Route::new(id, PLATFORM, Method::POST, pattern, move |ctx: &Ctx| dispatch(ctx, op_name, version, op))
}

fn dispatch(ctx: &Ctx, op_name: &str, version: u8, op: Op) -> Response {
    let world = ctx.world;
    let locale = world.locale;
    let Some(st) = world.platforms.jiandaoyun.as_ref() else {
        return JdyError::new(8017).render(locale);
    };
    let result = (|| {
        let key = auth::authenticate(st, ctx.req)?;
        if st.rate_limits {
            let now = world.clock.now_ms();
            if !st.rate.allow(ctx.route.id, rate_limit(op_name, version), now) {
                return Err(JdyError::new(8304));
            }
            if !st.rate.allow("enterprise", ENTERPRISE_PER_SECOND, now) {
                return Err(JdyError::new(8303));
            }
        }
        let mut body = json_fields(&ctx.req.body).map_err(|_| JdyError::with_detail(1, "the body is not a JSON object"))?;
        // Legacy routes carry the ids in the path; the path wins over the body. Department numbers
        // are numbers, as in the body.
        for (name, value) in &ctx.req.params {
            let v = match value.parse::<i64>() {
                Ok(n) if name.ends_with("_no") => serde_json::Value::from(n),
                _ => serde_json::Value::String(value.clone()),
            };
            body.insert((*name).to_owned(), v);
        }
        op(&Call { world, st, key, body, req: ctx.req, version, actor: None })
    })();
    match result {
        Ok(r) => r,
        Err(e) => render_error(&e, st.strict_values, locale, workflow::is_action(op_name)),
    }
}

/// The exact documented body — a workflow action's page documents `{"status":"failure","code",
/// "message"}` for every failure, the other pages `{"code","msg"}`; the emulator's detail goes into
/// `x-emu-error-detail` (and into the message only in strict mode, where naming the offending field is
/// the point).
fn render_error(e: &JdyError, strict: bool, locale: crate::Locale, action: bool) -> Response {
    let shown = if strict { e.clone() } else { JdyError::new(e.code) };
    let mut r = if action { workflow::failure_body(&shown, locale) } else { shown.render(locale) };
    if let Some(d) = &e.detail {
        r = r.with_header("x-emu-error-detail", &d.escape_default().to_string());
    }
    r
}

pub fn routes() -> Vec<Route> {
    let mut v = vec![
        route("jiandaoyun.app.list", "app.list", 5, "/api/v5/app/list", apps::app_list),
        route("jiandaoyun.entry.list", "entry.list", 5, "/api/v5/app/entry/list", apps::entry_list),
        route("jiandaoyun.widget.list", "widget.list", 5, "/api/v5/app/entry/widget/list", apps::widget_list),
        route("jiandaoyun.data.get", "data.get", 5, "/api/v5/app/entry/data/get", data::get),
        route("jiandaoyun.data.list", "data.list", 5, "/api/v5/app/entry/data/list", data::list),
        route("jiandaoyun.data.create", "data.create", 5, "/api/v5/app/entry/data/create", data::create),
        route("jiandaoyun.data.batch_create", "data.batch_create", 5, "/api/v5/app/entry/data/batch_create", data::batch_create),
        route("jiandaoyun.data.update", "data.update", 5, "/api/v5/app/entry/data/update", data::update),
        route("jiandaoyun.data.batch_update", "data.batch_update", 5, "/api/v5/app/entry/data/batch_update", data::batch_update),
        route("jiandaoyun.data.delete", "data.delete", 5, "/api/v5/app/entry/data/delete", data::delete),
        route("jiandaoyun.data.batch_delete", "data.batch_delete", 5, "/api/v5/app/entry/data/batch_delete", data::batch_delete),
        route("jiandaoyun.file.get_upload_token", "file.get_upload_token", 5, "/api/v5/app/entry/file/get_upload_token", |c| {
            files::get_upload_token(c, c.req)
        }),
        route(
            "jiandaoyun.v1.file.get_upload_token",
            "file.get_upload_token",
            1,
            "/api/v1/app/{app_id}/entry/{entry_id}/file/get_upload_token",
            |c| files::get_upload_token(c, c.req),
        ),
        Route::new("jiandaoyun.file.upload", PLATFORM, Method::POST, "/jiandaoyun/upload", files::upload).uploads(),
        Route::new("jiandaoyun.file.download", PLATFORM, Method::GET, "/jiandaoyun/files/{key}", files::download),
        route(
            "jiandaoyun.workflow.approval_comments",
            "workflow.comments",
            1,
            "/api/v1/app/{app_id}/entry/{entry_id}/data/{data_id}/approval_comments",
            workflow::approval_comments,
        ),
        route("jiandaoyun.workflow.instance.get", "workflow.instance.get", 5, "/api/v5/workflow/instance/get", workflow::instance_get),
        route("jiandaoyun.v6.workflow.instance.get", "workflow.instance.get", 6, "/api/v6/workflow/instance/get", workflow::instance_get),
        route("jiandaoyun.workflow.instance.logs", "workflow.instance.logs", 1, "/api/v1/workflow/instance/logs", workflow::instance_logs),
        route("jiandaoyun.workflow.instance.close", "workflow.instance.close", 1, "/api/v1/workflow/instance/close", workflow::close),
        route(
            "jiandaoyun.workflow.instance.activate",
            "workflow.instance.activate",
            1,
            "/api/v1/workflow/instance/activate",
            workflow::activate,
        ),
        route("jiandaoyun.workflow.task.list", "workflow.task.list", 5, "/api/v5/workflow/task/list", workflow::task_list),
        route("jiandaoyun.v6.workflow.task.list", "workflow.task.list", 6, "/api/v6/workflow/task/list", workflow::task_list),
        route("jiandaoyun.workflow.task.approve", "workflow.task.approve", 1, "/api/v1/workflow/task/approve", workflow::approve),
        route("jiandaoyun.workflow.task.rollback", "workflow.task.rollback", 1, "/api/v1/workflow/task/rollback", workflow::rollback),
        route("jiandaoyun.v2.workflow.task.rollback", "workflow.task.rollback", 2, "/api/v2/workflow/task/rollback", workflow::rollback),
        route("jiandaoyun.workflow.task.transfer", "workflow.task.transfer", 1, "/api/v1/workflow/task/transfer", workflow::transfer),
        route("jiandaoyun.workflow.task.revoke", "workflow.task.revoke", 1, "/api/v1/workflow/task/revoke", workflow::revoke),
        route("jiandaoyun.v2.workflow.task.revoke", "workflow.task.revoke", 2, "/api/v2/workflow/task/revoke", workflow::revoke),
        route("jiandaoyun.workflow.task.add_sign", "workflow.task.add_sign", 1, "/api/v1/workflow/task/add_sign", workflow::add_sign),
        route("jiandaoyun.v2.workflow.task.add_sign", "workflow.task.add_sign", 2, "/api/v2/workflow/task/add_sign", workflow::add_sign),
        route("jiandaoyun.workflow.cc.list", "workflow.cc.list", 1, "/api/v1/workflow/cc/list", workflow::cc_list),
        route("jiandaoyun.workflow.task.reject", "workflow.task.reject", 1, "/api/v1/workflow/task/reject", workflow::reject),
        route("jiandaoyun.corp.user.get", "corp.user.get", 5, "/api/v5/corp/user/get", corp::user_get),
        route("jiandaoyun.corp.user.create", "corp.user.create", 5, "/api/v5/corp/user/create", corp::user_create),
        route("jiandaoyun.corp.user.update", "corp.user.update", 5, "/api/v5/corp/user/update", corp::user_update),
        route("jiandaoyun.corp.user.delete", "corp.user.delete", 5, "/api/v5/corp/user/delete", corp::user_delete),
        route("jiandaoyun.corp.user.batch_delete", "corp.user.batch_delete", 5, "/api/v5/corp/user/batch_delete", corp::user_batch_delete),
        route("jiandaoyun.corp.user.import", "corp.user.import", 5, "/api/v5/corp/user/import", corp::user_import),
        route("jiandaoyun.corp.department.list", "corp.department.list", 5, "/api/v5/corp/department/list", corp::department_list),
        route(
            "jiandaoyun.corp.department.user.list",
            "corp.department.users",
            5,
            "/api/v5/corp/department/user/list",
            corp::department_users,
        ),
        route("jiandaoyun.corp.department.create", "corp.department.create", 5, "/api/v5/corp/department/create", corp::department_create),
        route("jiandaoyun.corp.department.update", "corp.department.update", 5, "/api/v5/corp/department/update", corp::department_update),
        route("jiandaoyun.corp.department.delete", "corp.department.delete", 5, "/api/v5/corp/department/delete", corp::department_delete),
        route(
            "jiandaoyun.corp.department.dept_no.get",
            "corp.department.dept_no",
            5,
            "/api/v5/corp/department/dept_no/get",
            corp::department_by_integrate_id,
        ),
        route("jiandaoyun.corp.department.import", "corp.department.import", 5, "/api/v5/corp/department/import", corp::department_import),
        route("jiandaoyun.corp.role.list", "corp.role.list", 5, "/api/v5/corp/role/list", corp::role_list),
        route("jiandaoyun.corp.role.create", "corp.role.create", 5, "/api/v5/corp/role/create", corp::role_create),
        route("jiandaoyun.corp.role.update", "corp.role.update", 5, "/api/v5/corp/role/update", corp::role_update),
        route("jiandaoyun.corp.role.delete", "corp.role.delete", 5, "/api/v5/corp/role/delete", corp::role_delete),
        route("jiandaoyun.corp.role.user.list", "corp.role.users", 5, "/api/v5/corp/role/user/list", corp::role_users),
        route("jiandaoyun.corp.role.add_members", "corp.role.members", 5, "/api/v5/corp/role/add_members", corp::role_add_members),
        route("jiandaoyun.corp.role.remove_members", "corp.role.members", 5, "/api/v5/corp/role/remove_members", corp::role_remove_members),
        route("jiandaoyun.corp.role_group.list", "corp.group.list", 5, "/api/v5/corp/role_group/list", corp::group_list),
        route("jiandaoyun.corp.role_group.create", "corp.group.create", 5, "/api/v5/corp/role_group/create", corp::group_create),
        route("jiandaoyun.corp.role_group.update", "corp.group.update", 5, "/api/v5/corp/role_group/update", corp::group_update),
        route("jiandaoyun.corp.role_group.delete", "corp.group.delete", 5, "/api/v5/corp/role_group/delete", corp::group_delete),
        route("jiandaoyun.corp.guest.department.list", "corp.guest", 5, "/api/v5/corp/guest/department/list", corp::guest_departments),
        route("jiandaoyun.corp.guest.user.list", "corp.guest", 5, "/api/v5/corp/guest/user/list", corp::guest_users),
        route("jiandaoyun.corp.guest.user.get", "corp.guest", 5, "/api/v5/corp/guest/user/get", corp::guest_user),
        route("jiandaoyun.v1.app.list", "app.list", 1, "/api/v1/app/retrieve_all", apps::app_list),
        route("jiandaoyun.v1.entry.list", "entry.list", 1, "/api/v1/app/{app_id}/entry_retrieve", apps::entry_list),
        route("jiandaoyun.v1.widget.list", "widget.list", 1, "/api/v1/app/{app_id}/entry/{entry_id}/widgets", apps::widget_list),
        route("jiandaoyun.v2.widget.list", "widget.list", 2, "/api/v2/app/{app_id}/entry/{entry_id}/widgets", apps::widget_list),
        route("jiandaoyun.v1.data.delete", "data.delete", 1, "/api/v1/app/{app_id}/entry/{entry_id}/data_delete", data::delete),
        route(
            "jiandaoyun.v1.data.batch_create",
            "data.batch_create",
            1,
            "/api/v1/app/{app_id}/entry/{entry_id}/data_batch_create",
            data::batch_create,
        ),
        route(
            "jiandaoyun.v1.data.batch_update",
            "data.batch_update",
            1,
            "/api/v1/app/{app_id}/entry/{entry_id}/data_batch_update",
            data::batch_update,
        ),
        route(
            "jiandaoyun.v1.data.batch_delete",
            "data.batch_delete",
            1,
            "/api/v1/app/{app_id}/entry/{entry_id}/data_batch_delete",
            data::batch_delete,
        ),
    ];
    // v6 departments: `seq` (siblings' order) and managers.
    const V6_DEPARTMENTS: [(&str, &str, &str, Op); 6] = [
        ("jiandaoyun.v6.corp.department.list", "corp.department.list", "/api/v6/corp/department/list", corp::department_list),
        ("jiandaoyun.v6.corp.department.create", "corp.department.create", "/api/v6/corp/department/create", corp::department_create),
        ("jiandaoyun.v6.corp.department.update", "corp.department.update", "/api/v6/corp/department/update", corp::department_update),
        (
            "jiandaoyun.v6.corp.department.dept_no.get",
            "corp.department.dept_no",
            "/api/v6/corp/department/dept_no/get",
            corp::department_by_integrate_id,
        ),
        ("jiandaoyun.v6.corp.department.manager.get", "corp.department.manager", "/api/v6/corp/department/manager/get", corp::managers_get),
        (
            "jiandaoyun.v6.corp.department.manager.update",
            "corp.department.manager",
            "/api/v6/corp/department/manager/update",
            corp::managers_update,
        ),
    ];
    v.extend(V6_DEPARTMENTS.iter().map(|(id, op, p, f)| route(id, op, 6, p, *f)));
    // Legacy contact routes (v2; connected companies v4), as old clients call them: the ids in the
    // path, the v5 handlers behind them, the legacy routes' shared 5/s.
    const LEGACY_CONTACTS: [(&str, u8, &str, Op); 17] = [
        ("jiandaoyun.v2.department.list", 2, "/api/v2/department/{dept_no}/department_list", corp::department_list),
        ("jiandaoyun.v2.department.create", 2, "/api/v2/department/create", corp::department_create),
        ("jiandaoyun.v2.department.update", 2, "/api/v2/department/{dept_no}/update", corp::department_update),
        ("jiandaoyun.v2.department.delete", 2, "/api/v2/department/{dept_no}/delete", corp::department_delete),
        ("jiandaoyun.v2.department.dept_no.get", 2, "/api/v2/department/get_deptno_by_integrateid", corp::department_by_integrate_id),
        ("jiandaoyun.v2.department.import", 2, "/api/v2/department/import", corp::department_import),
        ("jiandaoyun.v2.department.user.list", 2, "/api/v2/department/{dept_no}/member_list", corp::department_users),
        ("jiandaoyun.v2.user.get", 2, "/api/v2/user/{username}/user_retrieve", corp::user_get),
        ("jiandaoyun.v2.user.create", 2, "/api/v2/user/create", corp::user_create),
        ("jiandaoyun.v2.user.update", 2, "/api/v2/user/{username}/update", corp::user_update),
        ("jiandaoyun.v2.user.delete", 2, "/api/v2/user/{username}/delete", corp::user_delete),
        ("jiandaoyun.v2.user.batch_delete", 2, "/api/v2/user/batch_delete", corp::user_batch_delete),
        ("jiandaoyun.v2.user.import", 2, "/api/v2/user/import", corp::user_import),
        ("jiandaoyun.v2.role.list", 2, "/api/v2/role/list", corp::role_list),
        ("jiandaoyun.v4.guest.department.list", 4, "/api/v4/corp_coop/guest/department_list", corp::guest_departments),
        ("jiandaoyun.v4.guest.user.list", 4, "/api/v4/corp_coop/guest/member_list", corp::guest_users),
        ("jiandaoyun.v4.guest.user.get", 4, "/api/v4/corp_coop/guest/user_retrieve", corp::guest_user),
    ];
    v.extend(LEGACY_CONTACTS.iter().map(|(id, ver, p, f)| route(id, "legacy.contacts", *ver, p, *f)));
    // Versioned legacy data routes: reads exist in v1/v2/v4, writes in v1–v4.
    const GET: [(&str, &str, u8); 3] = [
        ("jiandaoyun.v1.data.get", "/api/v1/app/{app_id}/entry/{entry_id}/data_retrieve", 1),
        ("jiandaoyun.v2.data.get", "/api/v2/app/{app_id}/entry/{entry_id}/data_retrieve", 2),
        ("jiandaoyun.v4.data.get", "/api/v4/app/{app_id}/entry/{entry_id}/data_retrieve", 4),
    ];
    const LIST: [(&str, &str, u8); 3] = [
        ("jiandaoyun.v1.data.list", "/api/v1/app/{app_id}/entry/{entry_id}/data", 1),
        ("jiandaoyun.v2.data.list", "/api/v2/app/{app_id}/entry/{entry_id}/data", 2),
        ("jiandaoyun.v4.data.list", "/api/v4/app/{app_id}/entry/{entry_id}/data", 4),
    ];
    const CREATE: [(&str, &str, u8); 4] = [
        ("jiandaoyun.v1.data.create", "/api/v1/app/{app_id}/entry/{entry_id}/data_create", 1),
        ("jiandaoyun.v2.data.create", "/api/v2/app/{app_id}/entry/{entry_id}/data_create", 2),
        ("jiandaoyun.v3.data.create", "/api/v3/app/{app_id}/entry/{entry_id}/data_create", 3),
        ("jiandaoyun.v4.data.create", "/api/v4/app/{app_id}/entry/{entry_id}/data_create", 4),
    ];
    const UPDATE: [(&str, &str, u8); 4] = [
        ("jiandaoyun.v1.data.update", "/api/v1/app/{app_id}/entry/{entry_id}/data_update", 1),
        ("jiandaoyun.v2.data.update", "/api/v2/app/{app_id}/entry/{entry_id}/data_update", 2),
        ("jiandaoyun.v3.data.update", "/api/v3/app/{app_id}/entry/{entry_id}/data_update", 3),
        ("jiandaoyun.v4.data.update", "/api/v4/app/{app_id}/entry/{entry_id}/data_update", 4),
    ];
    v.extend(GET.iter().map(|(id, p, ver)| route(id, "data.get", *ver, p, data::get)));
    v.extend(LIST.iter().map(|(id, p, ver)| route(id, "data.list", *ver, p, data::list)));
    v.extend(CREATE.iter().map(|(id, p, ver)| route(id, "data.create", *ver, p, data::create)));
    v.extend(UPDATE.iter().map(|(id, p, ver)| route(id, "data.update", *ver, p, data::update)));
    v
}

/// The platform in the registry.
pub struct Jiandaoyun;

impl Platform for Jiandaoyun {
    const NAME: &'static str = PLATFORM;
    const PREFIXES: &'static [&'static str] = &["/api/", "/jiandaoyun/"];
    /// Upload tokens (the API key travels in the Authorization header, which the journal does not keep).
    const SECRET_FIELDS: &'static [&'static str] = &["token"];
    const SECRET_HEADERS: &'static [&'static str] = &["authorization"];
    /// Data/app/contact errors (`code`, `msg`) and workflow actions' (`status`, `message`).
    const DIFF_VALUE_FIELDS: &'static [&'static str] = &["code", "msg", "status", "message"];
    type Section = scenario::JdySection;
    type State = model::State;

    fn routes() -> Vec<Route> {
        routes()
    }
    fn render_error(name: &str, locale: crate::Locale, path: &str) -> Option<Response> {
        // Injected business errors on a workflow action answer in that page's failure body too.
        let action = workflow::is_action_path(path);
        match errors::render_named(name, locale)? {
            r if action && r.status == 400 => {
                let v: serde_json::Value = serde_json::from_slice(&r.body.to_bytes()).unwrap_or_default();
                Some(workflow::failure_body(&JdyError::new(v["code"].as_u64().unwrap_or(0) as u32), locale))
            }
            r => Some(r),
        }
    }
    fn error_names() -> Vec<String> {
        errors::error_names()
    }
    fn validate(scenario: &mut Scenario, cx: &ValidateCx, diags: &mut Vec<Diag>) {
        scenario::validate(scenario, cx, diags)
    }
    fn build(scenario: &Scenario, cx: &BuildCx) -> Option<Self::State> {
        scenario::build_state(scenario, cx.directory, cx.now)
    }
    fn export(state: &Self::State) -> serde_json::Value {
        snapshot::export(state)
    }
    fn import(state: &mut Self::State, snapshot: serde_json::Value) -> Result<(), StateError> {
        snapshot::import(state, snapshot)
    }
    fn summary(_scenario: &Scenario, j: &Self::Section) -> String {
        let forms: usize = j.apps.iter().map(|a| a.entries.len()).sum();
        let records: usize = j.seeded_records.values().map(Vec::len).sum::<usize>()
            + j.apps.iter().flat_map(|a| &a.entries).filter_map(|e| e.generate.as_ref()).map(|g| g.count).sum::<usize>();
        format!("{} apps, {forms} forms, {records} records", j.apps.len())
    }
    const DELIVERY_EVENTS: &'static [&'static str] = push::DATA_EVENTS;

    fn act(world: &std::sync::Arc<crate::world::World>, request: &serde_json::Map<String, serde_json::Value>) -> super::ActResult {
        act::act(world, request)
    }

    super::browse_with!(browse);
    super::tenant_with!(tenant);

    fn banner(j: &Self::Section) -> Vec<String> {
        let Some(key) = j.api_keys.first().map(|k| match k {
            scenario::ApiKeyDef::Plain(k) => k.clone(),
            scenario::ApiKeyDef::Scoped(k) => k.key.clone(),
        }) else {
            return Vec::new();
        };
        let mut lines = vec![format!("jiandaoyun: base {{BASE}}/api  API key: {key}")];
        if let Some((app, entry)) = j.apps.iter().find_map(|a| a.entries.first().map(|e| (a, e))) {
            lines.push(format!(
                "  try: curl -s {{BASE}}/api/v5/app/entry/data/list -H 'Authorization: Bearer {key}' -H 'Content-Type: application/json' -d '{{\"app_id\":\"{}\",\"entry_id\":\"{}\",\"limit\":2}}'",
                app.app_id, entry.entry_id
            ));
        }
        for e in j.apps.iter().flat_map(|a| &a.entries) {
            if let Some(push) = &e.push {
                lines.push(format!(
                    "  data push: form {} ({}) → {}   (act as a user: POST {{BASE}}/__emu/act; see GET {{BASE}}/__emu/deliveries)",
                    e.name, e.entry_id, push.url
                ));
            }
        }
        lines
    }
}
