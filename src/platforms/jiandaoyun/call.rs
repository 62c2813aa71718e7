//! What every Jiandaoyun handler gets, and the parameter helpers they share.

use std::sync::Arc;

use serde::Serialize;
use serde_json::{Map, Value};

use super::errors::JdyError;
use super::model::{ApiKey, App, Entry, State};
use crate::http::{JsonFields, Response};
use crate::world::World;

/// One authenticated call: the world, the Jiandaoyun state, the caller's key and the decoded body
/// (with legacy path ids already folded in).
pub struct Call<'a> {
    pub world: &'a World,
    pub st: &'a State,
    pub key: &'a ApiKey,
    pub body: JsonFields,
    pub req: &'a crate::http::Request,
    /// Route version: 5 for the current routes, 1–4 for legacy ones (read/write shapes differ).
    pub version: u8,
    /// Set when a person acts through the UI (`POST /__emu/act`) rather than an API key: they are the
    /// creator/updater, and the change pushes.
    pub actor: Option<String>,
}

impl Call<'_> {
    pub fn now(&self) -> i64 {
        self.world.clock.now_ms()
    }

    /// A required string parameter: absent → 1, not a non-empty string → 3005.
    pub fn req_str(&self, name: &str) -> Result<&str, JdyError> {
        match self.body.get(name) {
            None | Some(Value::Null) => Err(JdyError::with_detail(1, format!("{name} is required"))),
            Some(Value::String(s)) if !s.is_empty() => Ok(s),
            Some(Value::String(_)) => Err(JdyError::with_detail(1, format!("{name} is required"))),
            Some(_) => Err(JdyError::with_detail(3005, format!("{name} must be a string"))),
        }
    }

    pub fn opt_str(&self, name: &str) -> Result<Option<&str>, JdyError> {
        match self.body.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(JdyError::with_detail(3005, format!("{name} must be a string"))),
        }
    }

    pub fn opt_bool(&self, name: &str) -> Result<bool, JdyError> {
        match self.body.get(name) {
            None | Some(Value::Null) => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(JdyError::with_detail(3005, format!("{name} must be a boolean"))),
        }
    }

    /// An optional integer within `min..=max`; out of range is a parameter error, never clamped.
    pub fn opt_int(&self, name: &str, default: i64, min: i64, max: i64) -> Result<i64, JdyError> {
        match self.body.get(name) {
            None | Some(Value::Null) => Ok(default),
            Some(Value::Number(n)) => match n.as_i64().or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)) {
                Some(v) if (min..=max).contains(&v) => Ok(v),
                _ => Err(JdyError::with_detail(3005, format!("{name} must be an integer in {min}..={max}"))),
            },
            Some(_) => Err(JdyError::with_detail(3005, format!("{name} must be a number"))),
        }
    }

    pub fn req_object(&self, name: &str) -> Result<&Map<String, Value>, JdyError> {
        match self.body.get(name) {
            None | Some(Value::Null) => Err(JdyError::with_detail(1, format!("{name} is required"))),
            Some(Value::Object(o)) => Ok(o),
            Some(_) => Err(JdyError::with_detail(3005, format!("{name} must be an object"))),
        }
    }

    pub fn req_array(&self, name: &str) -> Result<&Vec<Value>, JdyError> {
        match self.body.get(name) {
            None | Some(Value::Null) => Err(JdyError::with_detail(1, format!("{name} is required"))),
            Some(Value::Array(a)) if a.is_empty() => Err(JdyError::with_detail(1, format!("{name} must not be empty"))),
            Some(Value::Array(a)) => Ok(a),
            Some(_) => Err(JdyError::with_detail(3005, format!("{name} must be an array"))),
        }
    }

    /// A required array of strings that may be empty (a full replacement: `[]` clears).
    pub fn req_strings(&self, name: &str) -> Result<Vec<String>, JdyError> {
        match self.body.get(name) {
            None | Some(Value::Null) => Err(JdyError::with_detail(1, format!("{name} is required"))),
            Some(Value::Array(a)) => a
                .iter()
                .map(|v| v.as_str().map(str::to_owned).ok_or_else(|| JdyError::with_detail(3005, format!("{name} must be strings"))))
                .collect(),
            Some(_) => Err(JdyError::with_detail(3005, format!("{name} must be an array"))),
        }
    }

    /// `app_id` → the app, checking existence (2004) and the key's app scope (17053).
    pub fn app(&self) -> Result<&App, JdyError> {
        let app_id = self.req_str("app_id")?;
        let app = self.st.app(app_id).ok_or(JdyError::new(2004))?;
        if !self.key.allows_app(app_id) {
            return Err(JdyError::new(17053));
        }
        Ok(app)
    }

    /// `app_id` + `entry_id` → the form (3000 when unknown or in another app).
    pub fn entry(&self) -> Result<Arc<Entry>, JdyError> {
        let app = self.app()?;
        let entry_id = self.req_str("entry_id")?;
        match self.st.entries.get(entry_id) {
            Some(e) if e.app_id == app.app_id => Ok(e.clone()),
            _ => Err(JdyError::new(3000)),
        }
    }
}

/// Serialises a response body without building an intermediate `Value`.
pub fn ok_json<T: Serialize>(body: &T) -> Result<Response, JdyError> {
    serde_json::to_vec(body).map(|b| Response::json_bytes(200, b)).map_err(|_| JdyError::new(1))
}

/// `{"status":"success"}` and friends.
#[derive(Serialize)]
pub struct Status<'a> {
    pub status: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub success_count: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub success_ids: Option<Vec<String>>,
}

impl Status<'static> {
    pub fn success() -> Self {
        Status { status: "success", success_count: None, success_ids: None }
    }
}
