//! Request/response values that handlers see, independent of hyper, plus decoding helpers.
//!
//! Where this fits: docs/architecture.md.

use bytes::Bytes;
use hyper::header::{HeaderName, HeaderValue};
use hyper::HeaderMap;
use serde_json::Value;

pub use crate::core::body::Body;

/// A fully read request. Handlers are synchronous functions of this (all state is in memory), which
/// keeps them trivial to test and lets the server own every await (body reads, delays).
#[derive(Debug, Clone)]
pub struct Request {
    pub method: hyper::Method,
    pub path: std::sync::Arc<str>,
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
            path: path.into(),
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
    pub body: Body,
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
        Self { status, content_type: JSON, body: Body::Whole(body.into()), headers: Vec::new() }
    }

    /// A JSON answer sent as `pieces` back to back (see [`Body`]).
    pub fn json_pieces(status: u16, pieces: Vec<Bytes>) -> Self {
        Self { status, content_type: JSON, body: Body::pieces(pieces), headers: Vec::new() }
    }

    pub fn empty(status: u16) -> Self {
        Self { status, content_type: "", body: Body::default(), headers: Vec::new() }
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

/// A JSON object body's top-level fields, in order. Bodies carry a handful of fields, so a list read by
/// linear search costs less to build and to read than a hashed map (no hashing, no table): a data/get's
/// body was a tenth of its CPU. Nested objects stay `serde_json` maps. Like a map, a repeated key keeps
/// its first place and its last value.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct JsonFields(Vec<(String, Value)>);

impl JsonFields {
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Sets `key`, in its place when it is there, else last.
    pub fn insert(&mut self, key: String, value: Value) {
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => *v = value,
            None => self.0.push((key, value)),
        }
    }

    /// Sets `key` unless it is there.
    pub fn insert_absent(&mut self, key: &str, value: impl FnOnce() -> Value) {
        if self.get(key).is_none() {
            self.0.push((key.to_owned(), value()));
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }
}

impl From<serde_json::Map<String, Value>> for JsonFields {
    fn from(m: serde_json::Map<String, Value>) -> Self {
        JsonFields(m.into_iter().collect())
    }
}

impl<'de> serde::Deserialize<'de> for JsonFields {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Fields;
        impl<'de> serde::de::Visitor<'de> for Fields {
            type Value = JsonFields;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<JsonFields, A::Error> {
                let mut fields = JsonFields(Vec::with_capacity(map.size_hint().unwrap_or(8).min(16)));
                while let Some(key) = map.next_key::<String>()? {
                    let value = map.next_value::<Value>()?;
                    fields.insert(key, value);
                }
                Ok(fields)
            }
        }
        d.deserialize_map(Fields)
    }
}

/// [`json_object`] into [`JsonFields`].
pub fn json_fields(body: &[u8]) -> Result<JsonFields, JsonBodyError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(JsonFields::default());
    }
    serde_json::from_slice::<JsonFields>(body).map_err(|e| match e.classify() {
        // Nested values are any JSON; a type error can only be the body itself not being an object.
        serde_json::error::Category::Data => JsonBodyError::NotAnObject,
        _ => JsonBodyError::Malformed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_fields_decode_as_a_map_does() {
        assert_eq!(json_fields(b" "), Ok(JsonFields::default()));
        assert_eq!(json_fields(b"[1]"), Err(JsonBodyError::NotAnObject));
        assert_eq!(json_fields(b"\"x\""), Err(JsonBodyError::NotAnObject));
        assert_eq!(json_fields(b"{\"a\""), Err(JsonBodyError::Malformed));
        assert_eq!(json_fields(b"{} x"), Err(JsonBodyError::Malformed));
        let body = br#"{"b":1,"a":{"z":[1,{"y":2}],"x":null},"b":"again","c":true}"#;
        let fields = json_fields(body).expect("an object");
        let map = json_object(body).expect("an object");
        let pairs: Vec<(&str, &Value)> = fields.iter().collect();
        let want: Vec<(&str, &Value)> = map.iter().map(|(k, v)| (k.as_str(), v)).collect();
        assert_eq!(pairs, want, "same fields, order and values as a map");
        assert_eq!(fields.get("b"), Some(&Value::from("again")));
        assert_eq!(JsonFields::from(map), fields);
    }

    #[test]
    fn json_object_decoding() {
        assert!(json_object(b"").is_ok());
        assert!(json_object(b" {\"a\":1} ").is_ok());
        assert_eq!(json_object(b"[1]"), Err(JsonBodyError::NotAnObject));
        assert_eq!(json_object(b"{\"a\""), Err(JsonBodyError::Malformed));
    }
}
