//! OMFlow quick create / query / push API, the form-data list, my missions and the security-code login.
//!
//! Every answer is HTTP 200 with `{"status", "message", "result"}`; the outcome is in `status`. The
//! flow API (create/query/push) prints `status` as a string, as the manual does (`[omflow]
//! server_shapes = true` switches to the product source's integers); the list APIs and the login use
//! integers, as documented for them. Messages are Traditional Chinese, or English when the scenario
//! locale is `en` or the request sends `Accept-Language: en…`.

mod browse;
mod call;
mod calls;
pub mod errors;
mod lists;
pub mod messages;
pub mod model;
pub mod scenario;
mod security;
mod snapshot;
mod tenant;
mod tickets;

use hyper::Method;
use serde_json::{json, Map, Value};

pub use self::call::{locale_of, params, Call, Reply};
use self::messages::{text, Msg};
use self::model::State;
use crate::http::Response;
use crate::platforms::{BuildCx, Platform, ValidateCx};
use crate::router::{Ctx, Route};
use crate::scenario::{Diag, Scenario};
use crate::state::StateError;
use crate::Locale;

pub const PLATFORM: &str = "omflow";

/// The REST gate every `/rest/…` call passes: `omflow_restapi` present, security code known and fresh.
/// Answers the acting user.
fn gate(st: &State, p: &Map<String, Value>, reply: &Reply, now: i64) -> Result<String, Response> {
    let restapi = match p.get("omflow_restapi") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64() != Some(0.0),
        Some(Value::String(s)) => !s.is_empty() && s != "0",
        Some(_) => true,
    };
    if !restapi {
        return Err(reply.fail_msg(403, Msg::MissingRestapi));
    }
    let code = p.get("security").and_then(Value::as_str).unwrap_or("");
    security::check(st, code, now).map_err(|m| reply.fail_msg(403, m))
}

type Op = fn(&Call) -> Response;

fn rest(ctx: &Ctx, op: Op) -> Response {
    let world = ctx.world;
    let locale = locale_of(ctx.req, world.locale);
    let Some(st) = world.platforms.omflow.as_ref() else {
        return Response::json(200, &json!({ "status": "403", "message": text(Msg::UrlError, locale) }));
    };
    let reply = Reply { st, locale };
    // Answers of API nodes that came in since the last request move their tickets first.
    calls::apply(world, st);
    let p = params(ctx.req);
    match gate(st, &p, &reply, world.clock.now_ms()) {
        Ok(user) => op(&Call { ctx, st, reply: &reply, p: &p, user: &user }),
        Err(r) => r,
    }
}

pub fn routes() -> Vec<Route> {
    vec![
        Route::new("omflow.security.get", PLATFORM, Method::GET, "/accounts/api/security/get/", security::login),
        Route::new("omflow.security.get", PLATFORM, Method::POST, "/accounts/api/security/get/", security::login),
        Route::new("omflow.data.edit", PLATFORM, Method::POST, "/rest/flowmanage/api/omdata/edit/{api_path}/", |c: &Ctx| {
            rest(c, tickets::edit)
        }),
        Route::new("omflow.data.query", PLATFORM, Method::POST, "/rest/flowmanage/api/omdata-data-id/get/{api_path}/", |c: &Ctx| {
            rest(c, tickets::query)
        }),
        Route::new("omflow.data.list", PLATFORM, Method::POST, "/rest/flowmanage/api/omdata/list/{api_path}/", |c: &Ctx| {
            rest(c, lists::form_data)
        }),
        Route::new("omflow.mission.list", PLATFORM, Method::POST, "/rest/my-mission/api/my-mission/list/", |c: &Ctx| {
            rest(c, lists::my_missions)
        }),
    ]
}

/// The platform in the registry.
pub struct OmFlow;

impl Platform for OmFlow {
    const NAME: &'static str = PLATFORM;
    const PREFIXES: &'static [&'static str] = &["/rest/", "/accounts/api/"];
    /// Security codes, asked for and issued, and login passwords.
    const SECRET_FIELDS: &'static [&'static str] = &["security", "password"];
    const SECRET_HEADERS: &'static [&'static str] = &["authorization"];
    /// OMFlow answers HTTP 200 with the outcome in `status` and `message`.
    const DIFF_VALUE_FIELDS: &'static [&'static str] = &["status", "message"];
    type Section = scenario::OmSection;
    type State = State;

    const DELIVERY_EVENTS: &'static [&'static str] = &[calls::EVENT];

    /// `create`, `update` (push) and `delete` as a person: the edit API's actions, run as that user.
    fn act(world: &std::sync::Arc<crate::world::World>, request: &Map<String, Value>) -> super::ActResult {
        let st = world.platforms.omflow.as_ref().ok_or((400, "omflow is not configured in this scenario".to_owned()))?;
        let (user, p) = super::act_parts(world, request, &["api_path"])?;
        let path = request.get("api_path").and_then(Value::as_str).ok_or((400, "api_path: expected the flow's api_path".to_owned()))?;
        let route = super::all_routes().iter().find(|r| r.id == "omflow.data.edit").ok_or((500, "no edit route".to_owned()))?;
        let req = crate::http::Request::internal(
            Method::POST,
            format!("/rest/flowmanage/api/omdata/edit/{path}/"),
            vec![("api_path", path.to_owned())],
        );
        let ctx = Ctx { world, req: &req, route };
        let locale = world.locale;
        let reply = Reply { st, locale };
        calls::apply(world, st);
        let response = tickets::edit(&Call { ctx: &ctx, st, reply: &reply, p: &p, user });
        let answer: Value = serde_json::from_slice(&response.body.to_bytes()).unwrap_or(Value::Null);
        let ok = matches!(&answer["status"], Value::String(s) if s == "200") || answer["status"] == 200;
        if ok {
            Ok(answer)
        } else {
            Err((400, format!("omflow refused the action: {answer}")))
        }
    }

    super::browse_with!(browse);
    super::tenant_with!(tenant);

    fn routes() -> Vec<Route> {
        routes()
    }
    fn render_error(name: &str, locale: Locale, _path: &str) -> Option<Response> {
        errors::render_named(name, locale)
    }
    fn error_names() -> Vec<String> {
        errors::error_names()
    }
    fn validate(scenario: &mut Scenario, cx: &ValidateCx, diags: &mut Vec<Diag>) {
        scenario::validate(scenario, cx.directory, diags)
    }
    fn build(scenario: &Scenario, cx: &BuildCx) -> Option<State> {
        scenario::build_state(scenario, cx.directory)
    }
    fn export(state: &State) -> Value {
        snapshot::export(state)
    }
    fn import(state: &mut State, snapshot: Value) -> Result<(), StateError> {
        snapshot::import(state, snapshot)
    }
    fn summary(_scenario: &Scenario, o: &Self::Section) -> String {
        format!("{} flows", o.flows.len())
    }
    fn banner(o: &Self::Section) -> Vec<String> {
        let code = o.security.first().map(|c| match c {
            scenario::SecurityDef::Plain(c) => c.clone(),
            scenario::SecurityDef::Owned { code, .. } => code.clone(),
        });
        let (Some(code), Some(flow)) = (code, o.flows.first()) else { return Vec::new() };
        vec![
            format!("omflow: security code: {code}"),
            format!(
                "  try: curl -s {{BASE}}/rest/flowmanage/api/omdata/edit/{}/ -d '{{\"security\":\"{code}\",\"omflow_restapi\":1,\"action\":\"create\",\"formdata\":[{{\"id\":\"FORMITM_1\",\"value\":\"test\"}}]}}'",
                flow.api_path
            ),
        ]
    }
}
