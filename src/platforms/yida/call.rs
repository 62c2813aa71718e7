//! What every Yida in-app handler gets: the world, the Yida state, the app of the path, the acting user
//! and the merged parameters, with the parameter helpers they share.

use serde_json::{Map, Value};

use super::errors::YidaError;
use super::model::State;
use crate::http::{json_object, Request};
use crate::world::World;
use crate::Locale;

/// One call: world, state, the app of the path, the acting user and the merged parameters.
pub struct Call<'a> {
    pub world: &'a World,
    pub st: &'a State,
    pub app: &'a str,
    pub user: String,
    pub p: Map<String, Value>,
    pub locale: Locale,
}

impl Call<'_> {
    pub fn now(&self) -> i64 {
        self.world.clock.now_ms()
    }

    pub fn req_str(&self, name: &str) -> Result<String, YidaError> {
        match self.p.get(name) {
            Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
            Some(Value::Number(n)) => Ok(n.to_string()),
            _ => Err(YidaError::param(&format!("{name} 不能为空"), self.locale)),
        }
    }

    /// How reads render values for this caller (`language=en_US` → English option labels).
    pub fn reading(&self) -> super::values::Reading<'_> {
        let english = self.opt_str("language").is_some_and(|l| l.to_ascii_lowercase().starts_with("en"));
        super::values::Reading { dir: &self.world.directory, english }
    }

    pub fn opt_str(&self, name: &str) -> Option<String> {
        match self.p.get(name) {
            Some(Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        }
    }

    /// A JSON object parameter sent as a JSON string (or, leniently, as an object).
    pub fn json_object(&self, name: &str, required: bool) -> Result<Option<Map<String, Value>>, YidaError> {
        match self.p.get(name) {
            None | Some(Value::Null) if !required => Ok(None),
            None | Some(Value::Null) => Err(YidaError::param(&format!("{name} 不能为空"), self.locale)),
            Some(Value::Object(m)) => Ok(Some(m.clone())),
            Some(Value::String(s)) if s.trim().is_empty() && !required => Ok(None),
            Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
                Ok(Value::Object(m)) => Ok(Some(m)),
                _ => Err(YidaError::param(&format!("{name} 不是合法的 JSON 对象"), self.locale)),
            },
            Some(_) => Err(YidaError::param(&format!("{name} 不是合法的 JSON 对象"), self.locale)),
        }
    }

    /// `currentPage` ≥ 1 (default 1) and `pageSize` 1..=max (default 10); violations are parameter
    /// errors, never clamped.
    pub fn paging(&self, max: i64) -> Result<(usize, usize), YidaError> {
        let get = |name: &str, default: i64| -> Result<i64, YidaError> {
            match self.p.get(name) {
                None | Some(Value::Null) => Ok(default),
                Some(Value::String(s)) if s.is_empty() => Ok(default),
                Some(v) => v
                    .as_i64()
                    .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
                    .ok_or_else(|| YidaError::param(&format!("{name} 必须是整数"), self.locale)),
            }
        };
        let page = get("currentPage", 1)?;
        let size = get("pageSize", 10)?;
        if page < 1 {
            return Err(YidaError::param("currentPage 必须大于 0", self.locale));
        }
        if size < 1 || size > max {
            return Err(YidaError::param(&format!("pageSize 必须在 1 到 {max} 之间"), self.locale));
        }
        Ok((page as usize, size as usize))
    }
}

/// Query string first, then the body (JSON object, else urlencoded); extras of the front end dropped.
pub fn params(req: &Request) -> Map<String, Value> {
    let mut p: Map<String, Value> = req.query_pairs().into_iter().map(|(k, v)| (k, Value::String(v))).collect();
    if let Ok(m) = json_object(&req.body) {
        p.extend(m);
    } else {
        p.extend(form_urlencoded::parse(&req.body).map(|(k, v)| (k.into_owned(), Value::String(v.into_owned()))));
    }
    for extra in ["_csrf_token", "_api", "_stamp", "_mock"] {
        p.remove(extra);
    }
    p
}
