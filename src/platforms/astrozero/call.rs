//! What every Astro Zero handler gets after authentication: the world, the Astro Zero state, the
//! request, the token's user and the decoded body, with the query helpers they share.

use serde_json::{Map, Value};

use super::errors::AzError;
use super::model::State;
use crate::http::Request;
use crate::world::World;

/// One authenticated call.
pub struct Call<'a> {
    pub world: &'a World,
    pub st: &'a State,
    pub req: &'a Request,
    pub user: String,
    pub body: Map<String, Value>,
}

impl Call<'_> {
    pub fn now(&self) -> i64 {
        self.world.clock.now_ms()
    }

    /// A query parameter; empty counts as absent.
    pub fn query(&self, key: &str) -> Option<String> {
        self.req.query_value(key).filter(|v| !v.is_empty())
    }

    /// A query parameter the operation cannot do without.
    pub fn required_query(&self, key: &str) -> Result<String, AzError> {
        self.query(key).ok_or_else(|| AzError::param(format!("{key} is required")))
    }

    /// An optional non-negative integer query parameter (`skip`, `limit`, `offset` …).
    pub fn query_usize(&self, key: &str) -> Result<Option<usize>, AzError> {
        self.query(key).map(|v| v.parse::<usize>()).transpose().map_err(|_| AzError::param(format!("{key} must be a non-negative integer")))
    }
}
