//! `Authorization: Bearer <API key>` against the scenario's keys.

use super::errors::JdyError;
use super::model::{ApiKey, State};
use crate::http::Request;

/// Missing, malformed or unknown key → 8301; a disabled key → 17018 (documented meanings).
pub fn authenticate<'a>(st: &'a State, req: &Request) -> Result<&'a ApiKey, JdyError> {
    let header = req.header("authorization").ok_or(JdyError::new(8301))?;
    let token = header
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim())
        .filter(|t| !t.is_empty())
        .ok_or(JdyError::new(8301))?;
    let key = st.keys.iter().find(|k| k.key == token).ok_or(JdyError::new(8301))?;
    if key.disabled {
        return Err(JdyError::new(17018));
    }
    Ok(key)
}
