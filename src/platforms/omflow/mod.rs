//! OMFlow quick create / query / push API, the form-data list, my missions and the security-code login.
//!
//! Every answer is HTTP 200 with `{"status", "message", "result"}`; the outcome is in `status`. The
//! flow API (create/query/push) prints `status` as a string, as the manual does (`[omflow]
//! server_shapes = true` switches to the product source's integers); the list APIs and the login use
//! integers, as documented for them. Messages are Traditional Chinese, or English when the scenario
//! locale is `en` or the request sends `Accept-Language: en…`.

mod lists;
pub mod messages;
pub mod model;
pub mod scenario;
mod security;
mod tickets;

use hyper::Method;
use serde_json::{json, Map, Value};

use self::messages::{text, Msg};
use self::model::State;
use crate::http::{json_object, Request, Response};
use crate::router::{Ctx, Route};
use crate::Locale;

pub const PLATFORM: &str = "omflow";

/// The language of one request: `Accept-Language` first, else the scenario's (Chinese means zh-Hant,
/// the product's default).
pub fn locale_of(req: &Request, default: Locale) -> Locale {
    match req.header("accept-language").map(|h| h.trim().to_ascii_lowercase()) {
        Some(l) if l.starts_with("en") => Locale::En,
        Some(l) if l.starts_with("zh") => Locale::ZhHant,
        _ if default == Locale::En => Locale::En,
        _ => Locale::ZhHant,
    }
}

/// Request parameters, from a JSON body whatever the content type (as the product sniffs it), else
/// multipart text parts, else a form-encoded body.
pub fn params(req: &Request) -> Map<String, Value> {
    if let Some(parts) = &req.multipart {
        return parts
            .iter()
            .filter(|p| p.filename.is_none())
            .map(|p| (p.name.clone(), Value::String(String::from_utf8_lossy(&p.data).into_owned())))
            .collect();
    }
    if let Ok(m) = json_object(&req.body) {
        return m;
    }
    form_urlencoded::parse(&req.body).map(|(k, v)| (k.into_owned(), Value::String(v.into_owned()))).collect()
}

/// Envelope helpers bound to one request's language and the scenario's shape choice.
pub struct Reply<'a> {
    pub st: &'a State,
    pub locale: Locale,
}

impl Reply<'_> {
    fn status(&self, code: u16) -> Value {
        if self.st.server_shapes {
            json!(code)
        } else {
            json!(code.to_string())
        }
    }

    /// A flow-API success: `{"status":"200","message":…,"result":…}`.
    pub fn ok(&self, msg: Msg, result: Value) -> Response {
        Response::json(200, &json!({ "status": self.status(200), "message": text(msg, self.locale), "result": result }))
    }

    /// A flow-API failure: the manual omits `result`; the product's source sends `null`.
    pub fn fail(&self, code: u16, message: String) -> Response {
        let mut body = json!({ "status": self.status(code), "message": message });
        if self.st.server_shapes {
            body["result"] = Value::Null;
        }
        Response::json(200, &body)
    }

    pub fn fail_msg(&self, code: u16, msg: Msg) -> Response {
        self.fail(code, text(msg, self.locale).to_owned())
    }

    /// An id (`data_no`, `data_id`) as the manual prints it (a string) or as the source does (a number).
    pub fn id(&self, n: u64) -> Value {
        if self.st.server_shapes {
            json!(n)
        } else {
            json!(n.to_string())
        }
    }
}

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

type Op = fn(&Ctx, &State, &Reply, &Map<String, Value>, &str) -> Response;

fn rest(ctx: &Ctx, op: Op) -> Response {
    let world = ctx.world;
    let locale = locale_of(ctx.req, world.locale);
    let Some(st) = world.omflow.as_ref() else {
        return Response::json(200, &json!({ "status": "403", "message": text(Msg::UrlError, locale) }));
    };
    let reply = Reply { st, locale };
    let p = params(ctx.req);
    match gate(st, &p, &reply, world.clock.now_ms()) {
        Ok(user) => op(ctx, st, &reply, &p, &user),
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

/// Named errors for fault injection and server-level failures, in OMFlow's envelope (HTTP 200).
pub fn render_named_error(name: &str, locale: Locale) -> Option<Response> {
    let (status, message) = match name {
        "unauthorized" => (403, text(Msg::SecurityWrong, locale).to_owned()),
        "expired" => (403, text(Msg::SecurityExpired, locale).to_owned()),
        "forbidden" => (
            403,
            if locale == Locale::En {
                "You do not have permission to perform this operation.".to_owned()
            } else {
                "您沒有權限進行此操作。".to_owned()
            },
        ),
        "not_found" | "route_not_found" => (403, text(Msg::UrlError, locale).to_owned()),
        "invalid_param" => (404, text(Msg::MissingParams, locale).to_owned()),
        "create_failed" => (404, text(Msg::CreateFailed, locale).to_owned()),
        "push_failed" => (404, text(Msg::PushFailed, locale).to_owned()),
        "query_failed" => (404, text(Msg::QueryFailed, locale).to_owned()),
        "rate_limited" => (429, if locale == Locale::En { "Too many requests.".to_owned() } else { "請求過於頻繁。".to_owned() }),
        "internal_error" => (500, "Internal Server Error".to_owned()),
        "payload_too_large" => (500, "Request body exceeded settings.DATA_UPLOAD_MAX_MEMORY_SIZE.".to_owned()),
        _ => return None,
    };
    Some(Response::json(200, &json!({ "status": status.to_string(), "message": message })))
}

pub fn error_names() -> Vec<String> {
    [
        "unauthorized (403)",
        "expired (403)",
        "forbidden (403)",
        "not_found (403)",
        "invalid_param (404)",
        "create_failed (404)",
        "push_failed (404)",
        "query_failed (404)",
        "rate_limited (429)",
        "internal_error (500)",
        "payload_too_large (500)",
    ]
    .map(String::from)
    .to_vec()
}
