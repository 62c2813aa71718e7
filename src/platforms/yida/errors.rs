//! Yida's error answers: HTTP 200 with `{"success": false, "errorCode", "errorMsg"}`.
//!
//! Documented codes: `TIANSHU_000006` (no permission), `TIANSHU_000030` (CSRF check failed), `307` (login
//! expired), `TIANSHU_000061` (rate limited). The product's codes for unknown forms, instances and bad
//! parameters are not documented; the emulator's choices are listed in `docs/fidelity.md`.

use serde_json::json;

use crate::http::Response;
use crate::platforms::PlatformError;
use crate::Locale;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YidaError {
    pub code: &'static str,
    pub msg: String,
}

/// (name for fault rules, errorCode, zh, en)
const TABLE: &[(&str, &str, &str, &str)] = &[
    ("forbidden", "TIANSHU_000006", "没有权限", "No permission"),
    ("csrf", "TIANSHU_000030", "csrf校验失败", "CSRF token check failed"),
    ("unauthorized", "307", "登录过期，请重新登录", "Login expired, please log in again"),
    ("rate_limited", "TIANSHU_000061", "请求过于频繁，请稍后再试", "Too many requests, please try again later"),
    ("not_found", "TIANSHU_000001", "平台未知异常", "Unknown platform error"),
    ("invalid_param", "TIANSHU_000002", "参数错误", "Invalid parameter"),
    ("instance_not_found", "TIANSHU_000003", "实例不存在", "The instance does not exist"),
    ("internal_error", "TIANSHU_000000", "系统繁忙，请稍后再试", "The system is busy, please try again later"),
];

/// The table's own `&'static` spelling of an error code (for errors passed on from another answer);
/// `TIANSHU_000002` for a code the table does not hold.
pub fn static_code(code: &str) -> &'static str {
    TABLE.iter().find(|r| r.1 == code).map(|r| r.1).unwrap_or("TIANSHU_000002")
}

fn row(name: &str) -> Option<&'static (&'static str, &'static str, &'static str, &'static str)> {
    TABLE.iter().find(|r| r.0 == name)
}

impl YidaError {
    fn named(name: &str, detail: Option<&str>, locale: Locale) -> Self {
        let (_, code, zh, en) = *row(name).unwrap_or(&TABLE[TABLE.len() - 1]);
        let base = if locale == Locale::En { en } else { zh };
        let msg = match detail {
            Some(d) => format!("{base}: {d}"),
            None => base.to_owned(),
        };
        YidaError { code, msg }
    }

    pub fn forbidden(locale: Locale) -> Self {
        Self::named("forbidden", None, locale)
    }
    pub fn form_not_found(locale: Locale) -> Self {
        Self::named("not_found", None, locale)
    }
    pub fn instance_not_found(locale: Locale) -> Self {
        Self::named("instance_not_found", None, locale)
    }
    pub fn param(detail: &str, locale: Locale) -> Self {
        Self::named("invalid_param", Some(detail), locale)
    }
}

impl PlatformError for YidaError {
    /// The message's language was chosen when the error was made (it may carry a detail).
    fn render(&self, _locale: Locale) -> Response {
        Response::json(200, &json!({ "success": false, "errorCode": self.code, "errorMsg": self.msg }))
    }
}

/// Named errors for fault rules and server-level failures.
pub fn render_named(name: &str, locale: Locale) -> Option<Response> {
    match name {
        "payload_too_large" => Some(YidaError::param("request body too large", locale).render(locale)),
        "route_not_found" => Some(Response::json(404, &json!({ "success": false, "errorCode": "404", "errorMsg": "Not Found" }))),
        _ => row(name).map(|_| YidaError::named(name, None, locale).render(locale)),
    }
}

pub fn error_names() -> Vec<String> {
    let mut v: Vec<String> = TABLE.iter().map(|(n, c, _, _)| format!("{n} ({c})")).collect();
    v.push("payload_too_large (TIANSHU_000002)".into());
    v
}
