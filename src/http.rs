//! Request/response values that handlers see, independent of hyper, plus decoding helpers.
//!
//! Where this fits: docs/architecture.md.

use bytes::Bytes;
use hyper::header::{HeaderName, HeaderValue};
use hyper::HeaderMap;
use serde_json::Value;

/// A fully read request. Handlers are synchronous functions of this (all state is in memory), which
/// keeps them trivial to test and lets the server own every await (body reads, delays).
#[derive(Debug, Clone)]
pub struct Request {
    pub method: hyper::Method,
    pub path: String,
    /// `/__ns/<name>` when the caller named its namespace in the path: URLs handed back keep it.
    pub mount: String,
    pub query: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// Values captured by `{name}` segments of the route pattern.
    pub params: Vec<(&'static str, String)>,
    /// Parts of a `multipart/form-data` body, decoded by the server before the handler runs.
    pub multipart: Option<Vec<Part>>,
}

impl Request {
    /// A request made inside the emulator (`POST /__emu/act` running a platform handler as a person):
    /// no headers, no body, the route's path parameters given.
    pub fn internal(method: hyper::Method, path: String, params: Vec<(&'static str, String)>) -> Request {
        Request {
            method,
            path,
            mount: String::new(),
            query: String::new(),
            headers: HeaderMap::new(),
            body: Bytes::new(),
            params,
            multipart: None,
        }
    }
}

/// One part of a multipart body.
#[derive(Debug, Clone)]
pub struct Part {
    pub name: String,
    pub filename: Option<String>,
    pub content_type: Option<String>,
    pub data: Bytes,
}

/// Decodes a multipart body; `None` when the content type is not multipart or the body is malformed.
pub async fn decode_multipart(content_type: Option<&str>, body: Bytes) -> Option<Vec<Part>> {
    let boundary = multer::parse_boundary(content_type?).ok()?;
    let stream = futures_util::stream::once(async move { Ok::<Bytes, std::convert::Infallible>(body) });
    let mut mp = multer::Multipart::new(stream, boundary);
    let mut parts = Vec::new();
    while let Ok(Some(field)) = mp.next_field().await {
        let name = field.name().unwrap_or_default().to_owned();
        let filename = field.file_name().map(str::to_owned);
        let content_type = field.content_type().map(|m| m.to_string());
        let data = field.bytes().await.ok()?;
        parts.push(Part { name, filename, content_type, data });
    }
    Some(parts)
}

impl Request {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str())
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Decoded query-string pairs.
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        form_urlencoded::parse(self.query.as_bytes()).into_owned().collect()
    }

    pub fn query_value(&self, name: &str) -> Option<String> {
        form_urlencoded::parse(self.query.as_bytes()).find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
    }
}

#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Bytes,
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

pub const JSON: &str = "application/json; charset=utf-8";

impl Response {
    /// A JSON answer: a `Value`, or anything that serialises itself (the hot reads print their records
    /// straight from the store rather than through a `Value` tree).
    pub fn json<T: serde::Serialize + ?Sized>(status: u16, v: &T) -> Self {
        let body = serde_json::to_vec(v).unwrap_or_else(|_| b"{}".to_vec());
        Self::json_bytes(status, body)
    }

    pub fn json_bytes(status: u16, body: impl Into<Bytes>) -> Self {
        Self { status, content_type: JSON, body: body.into(), headers: Vec::new() }
    }

    pub fn empty(status: u16) -> Self {
        Self { status, content_type: "", body: Bytes::new(), headers: Vec::new() }
    }

    pub fn with_header(mut self, name: &'static str, value: &str) -> Self {
        if let Ok(v) = HeaderValue::from_str(value) {
            self.headers.push((HeaderName::from_static(name), v));
        }
        self
    }
}

/// What RFC 5987 lets an `ext-value` carry unencoded (`attr-char`); everything else is percent-encoded,
/// so a space is `%20`, never the form encoding's `+` that browsers and clients would keep as a plus.
const RFC5987_VALUE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

/// A `Content-Disposition` value that downloads as `name`, whatever characters it has (RFC 5987).
pub fn attachment(name: &str) -> String {
    format!("attachment; filename*=UTF-8''{}", percent_encoding::utf8_percent_encode(name, RFC5987_VALUE))
}

/// Why a body could not be read as a JSON object.
#[derive(Debug, PartialEq, Eq)]
pub enum JsonBodyError {
    Malformed,
    NotAnObject,
}

/// Parses a JSON object body. An empty body counts as `{}`, as lenient HTTP APIs treat it.
pub fn json_object(body: &[u8]) -> Result<serde_json::Map<String, Value>, JsonBodyError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(serde_json::Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(JsonBodyError::NotAnObject),
        Err(_) => Err(JsonBodyError::Malformed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_object_decoding() {
        assert!(json_object(b"").is_ok());
        assert!(json_object(b" {\"a\":1} ").is_ok());
        assert_eq!(json_object(b"[1]"), Err(JsonBodyError::NotAnObject));
        assert_eq!(json_object(b"{\"a\""), Err(JsonBodyError::Malformed));
    }
}
