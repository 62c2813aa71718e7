//! Astro Zero's data-plane errors: HTTP 4xx/5xx with `{"resCode": "<code>", "resMsg": "<text>"}`.
//!
//! No code table is published (the console lists them); codes here are 9-digit strings whose first
//! three digits are the HTTP status, as the reference proposes. One table, so it can be corrected.

use serde_json::json;

use crate::http::Response;
use crate::platforms::PlatformError;
use crate::Locale;

/// (name, HTTP status, code, zh, en)
const TABLE: &[(&str, u16, &str, &str, &str)] = &[
    ("unauthorized", 401, "401000001", "access-token 无效或已过期", "The access token is invalid or has expired"),
    ("forbidden", 403, "403000001", "没有权限执行该操作", "No permission for this operation"),
    ("not_found", 404, "404000001", "对象或记录不存在", "The object or record does not exist"),
    ("method_not_allowed", 405, "405000001", "不支持该请求方法", "Method not allowed"),
    ("csrf", 403, "403000002", "csrf-token 校验失败", "The CSRF token check failed"),
    ("invalid_param", 400, "400000001", "参数错误", "Invalid parameter"),
    ("rate_limited", 429, "429000001", "请求过于频繁", "Too Many Requests"),
    ("upload_too_large", 413, "413000001", "文件大小超过限制", "The file exceeds the size limit"),
    ("internal_error", 500, "500000001", "系统内部错误", "Internal error"),
];

#[derive(Debug, Clone)]
pub struct AzError {
    pub name: &'static str,
    pub detail: Option<String>,
}

impl AzError {
    pub fn new(name: &'static str) -> Self {
        AzError { name, detail: None }
    }

    pub fn param(detail: impl Into<String>) -> Self {
        AzError { name: "invalid_param", detail: Some(detail.into()) }
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        AzError { name: "not_found", detail: Some(detail.into()) }
    }
}

impl PlatformError for AzError {
    fn render(&self, locale: Locale) -> Response {
        let (_, status, code, zh, en) = *TABLE.iter().find(|r| r.0 == self.name).unwrap_or(&TABLE[TABLE.len() - 1]);
        let base = if locale == Locale::En { en } else { zh };
        let msg = match &self.detail {
            Some(d) => format!("{base}: {d}"),
            None => base.to_owned(),
        };
        Response::json(status, &json!({ "resCode": code, "resMsg": msg }))
    }
}

pub fn render_named(name: &str, locale: Locale) -> Option<Response> {
    match name {
        "payload_too_large" => Some(AzError::param("request body too large").render(locale)),
        "route_not_found" => Some(AzError::not_found("no such API").render(locale)),
        _ => TABLE.iter().find(|r| r.0 == name).map(|r| AzError::new(r.0).render(locale)),
    }
}

pub fn error_names() -> Vec<String> {
    TABLE.iter().map(|(n, s, c, _, _)| format!("{n} (HTTP {s}, {c})")).collect()
}
