//! Security codes: the Basic-auth login that issues them and the check every REST call makes.
//! A code is a UUID owned by one user; it expires after `security_ttl_minutes` (default 5) without
//! use, and each use refreshes it. Scenario codes never expire.

use base64::Engine;
use serde_json::json;

use super::locale_of;
use super::messages::{text, Msg};
use super::model::{CodeEntry, State};
use crate::http::Response;
use crate::router::Ctx;

pub fn check(st: &State, code: &str, now: i64) -> Result<String, Msg> {
    let mut codes = st.codes.lock();
    let entry = codes.get_mut(code).filter(|_| !code.is_empty()).ok_or(Msg::SecurityWrong)?;
    if !entry.fixed && now - entry.last_used_ms > st.ttl_ms {
        return Err(Msg::SecurityExpired);
    }
    entry.last_used_ms = now;
    Ok(entry.user.clone())
}

/// `GET /accounts/api/security/get/` with `Authorization: Basic base64(user:password)`; the user part
/// may be a user id or, when it contains `@`, an email.
pub fn login(ctx: &Ctx) -> Response {
    let world = ctx.world;
    let locale = locale_of(ctx.req, world.locale);
    let answer = |status: u16, msg: Msg, result: serde_json::Value| {
        Response::json(200, &json!({ "status": status, "message": text(msg, locale), "result": result }))
    };
    let Some(st) = world.platforms.omflow.as_ref() else { return answer(403, Msg::UserNotEnabled, serde_json::Value::Null) };
    let creds = ctx
        .req
        .header("authorization")
        .and_then(|h| h.split_once(' ').filter(|(s, _)| s.eq_ignore_ascii_case("basic")).map(|(_, v)| v.trim().to_owned()))
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .and_then(|raw| String::from_utf8(raw).ok())
        .and_then(|s| s.split_once(':').map(|(u, p)| (u.to_owned(), p.to_owned())));
    let Some((name, password)) = creds else { return answer(403, Msg::UserNotEnabled, serde_json::Value::Null) };
    let user = if name.contains('@') {
        world.directory.users().into_iter().find(|u| u.email.as_deref() == Some(name.as_str()))
    } else {
        world.directory.user(&name)
    };
    let Some(user) = user else { return answer(500, Msg::UserNotFound, serde_json::Value::Null) };
    if user.status != 1 || user.password.as_deref() != Some(password.as_str()) {
        return answer(403, Msg::UserNotEnabled, serde_json::Value::Null);
    }
    let now = world.clock.now_ms();
    let mut codes = st.codes.lock();
    let current = codes.iter().find(|(_, e)| e.user == user.id && !e.fixed && now - e.last_used_ms <= st.ttl_ms).map(|(c, _)| c.clone());
    let code = match current {
        Some(c) => c,
        None => {
            codes.retain(|_, e| e.fixed || e.user != user.id);
            st.ids.uuid()
        }
    };
    codes.insert(code.clone(), CodeEntry { user: user.id, last_used_ms: now, fixed: false });
    answer(200, Msg::LoginOk, json!({ "security": code }))
}
