//! Astro Zero transport: tokens, enveloped calls and their assertions.

use lowcode_emu::Emulator;
use serde_json::Value;

use super::{client, Reply};

/// A token for `client_id` / `secret` by the client-credentials grant.
pub async fn az_token(emu: &Emulator, client_id: &str, secret: &str) -> String {
    let r = client()
        .post(format!("{}/baas/auth/v1.0/oauth2/token", emu.base_url()))
        .form(&[("grant_type", "client_credentials"), ("client_id", client_id), ("client_secret", secret)])
        .send()
        .await
        .expect("sent");
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.expect("json");
    body["access_token"].as_str().expect("token").to_owned()
}

async fn reply(resp: reqwest::Response) -> Reply {
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let bytes = resp.bytes().await.expect("body");
    let body = match serde_json::from_slice(&bytes) {
        Ok(v) => v,
        Err(_) => Value::String(String::from_utf8_lossy(&bytes).into_owned()),
    };
    Reply { status, body, headers }
}

/// A call with the `access-token` header and an optional JSON body.
pub async fn az_call(emu: &Emulator, token: &str, method: reqwest::Method, path: &str, body: Option<Value>) -> Reply {
    let mut req = client().request(method, format!("{}{}", emu.base_url(), path)).header("access-token", token);
    if let Some(b) = body {
        req = req.header("content-type", "application/json").body(b.to_string());
    }
    reply(req.send().await.expect("sent")).await
}

/// A call with raw bytes of `content_type`.
pub async fn az_raw(emu: &Emulator, token: &str, method: reqwest::Method, path: &str, content_type: &str, body: Vec<u8>) -> Reply {
    let req = client()
        .request(method, format!("{}{}", emu.base_url(), path))
        .header("access-token", token)
        .header("content-type", content_type)
        .body(body);
    reply(req.send().await.expect("sent")).await
}

/// The bytes of an un-enveloped answer (downloads), with status and headers.
pub async fn az_bytes(emu: &Emulator, token: Option<&str>, path: &str, range: Option<&str>) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let mut req = client().get(format!("{}{}", emu.base_url(), path));
    if let Some(t) = token {
        req = req.header("access-token", t);
    }
    if let Some(r) = range {
        req = req.header("range", r);
    }
    let resp = req.send().await.expect("sent");
    let (status, headers) = (resp.status().as_u16(), resp.headers().clone());
    (status, headers, resp.bytes().await.expect("body").to_vec())
}

#[track_caller]
pub fn az_ok(r: &Reply) -> &Value {
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["resCode"], "0", "{}", r.body);
    assert_eq!(r.body["resMsg"], "成功");
    &r.body["result"]
}

/// Asserts an error envelope with `status`; returns its code.
#[track_caller]
pub fn az_err(r: &Reply, status: u16) -> String {
    assert_eq!(r.status, status, "{}", r.body);
    let code = r.body["resCode"].as_str().expect("resCode").to_owned();
    assert!(code.starts_with(&status.to_string()), "{code}");
    assert!(r.body["resMsg"].as_str().is_some_and(|m| !m.is_empty()));
    code
}
