//! What every OMFlow handler works with: the request's language, its parameters, and the envelope
//! helpers bound to both.

use serde_json::{json, Map, Value};

use super::messages::{text, Msg};
use super::model::State;
use crate::http::{json_object, Request, Response};
use crate::router::Ctx;
use crate::Locale;

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

/// One REST call past the security-code gate: the request, the OMFlow state, the envelope helpers, the
/// decoded parameters and the acting user.
pub struct Call<'a> {
    pub ctx: &'a Ctx<'a>,
    pub st: &'a State,
    pub reply: &'a Reply<'a>,
    pub p: &'a Map<String, Value>,
    pub user: &'a str,
}

/// Envelope helpers bound to one request's language and the scenario's shape choice.
pub struct Reply<'a> {
    pub st: &'a State,
    pub locale: Locale,
}

/// `{status, message, result}` printed from its parts (a `json!` tree would be built, then printed):
/// flow-API successes and list pages.
#[derive(serde::Serialize)]
pub struct Success<'a, S: serde::Serialize, R: serde::Serialize + ?Sized> {
    pub status: S,
    pub message: &'a str,
    pub result: &'a R,
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
        Response::json(200, &Success { status: self.status(200), message: text(msg, self.locale), result: &result })
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
