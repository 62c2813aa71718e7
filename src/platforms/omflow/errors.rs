//! OMFlow's named errors, for fault injection and server-level failures. Every OMFlow answer is HTTP 200;
//! the outcome is the envelope's `status` (a string, as the manual prints it) and its `message`.

use serde_json::json;

use super::messages::{text, Msg};
use crate::http::Response;
use crate::platforms::PlatformError;
use crate::Locale;

/// An error answer: `{"status": "<code>", "message": …}` with HTTP 200.
#[derive(Debug, Clone)]
pub struct OmError {
    pub status: u16,
    pub message: String,
}

impl PlatformError for OmError {
    fn render(&self, _locale: Locale) -> Response {
        Response::json(200, &json!({ "status": self.status.to_string(), "message": self.message }))
    }
}

/// The error a fault rule or the server names, in the caller's language.
pub fn named(name: &str, locale: Locale) -> Option<OmError> {
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
    Some(OmError { status, message })
}

pub fn render_named(name: &str, locale: Locale) -> Option<Response> {
    named(name, locale).map(|e| e.render(locale))
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
