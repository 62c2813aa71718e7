//! Files: `file/get_upload_token`, the storage-style upload endpoint its URLs point at, and downloads.
//!
//! As documented: each token call returns 100 `{url, token}` pairs; a token uploads one file within an
//! hour, never overwriting; the returned key can be written into image/attachment fields only by a
//! create/update carrying the same `transaction_id`, within an hour. The upload endpoint answers like
//! the storage service the real URLs point at: `{"key": …}` or `{"error": …}` with its HTTP status.

use base64::Engine;
use serde_json::{json, Value};

use super::call::{ok_json, Call};
use super::errors::JdyError;
use super::model::{FileKey, State, UploadToken};
use crate::core::files::Blob;
use crate::http::{Request, Response};
use crate::router::Ctx;

/// Tokens and transaction/key pairs live one hour.
pub const TTL_MS: i64 = 3_600_000;
const TOKENS_PER_CALL: usize = 100;
/// The storage policy's size bounds (the official example token carries them).
const FSIZE_MIN: usize = 1;
const FSIZE_LIMIT: usize = 209_715_200;

/// `http://<host>` as the caller reached the emulator (with its `/__ns/<name>` mount), so returned URLs
/// point back at it, in the same namespace.
pub fn base_url(req: &Request) -> String {
    format!("http://{}{}", req.header("host").unwrap_or("127.0.0.1"), req.mount)
}

pub fn get_upload_token(call: &Call, req: &Request) -> Result<Response, JdyError> {
    let entry = call.entry()?;
    let txn = call.req_str("transaction_id")?;
    super::data::check_transaction_format(txn)?;
    let now = call.now();
    let url = format!("{}/jiandaoyun/upload", base_url(req));
    let mut uploads = call.st.uploads.lock();
    let list: Vec<Value> = (0..TOKENS_PER_CALL)
        .map(|_| {
            let key = call.st.ids.uuid();
            let policy = json!({ "scope": "lowcode-emu-upload", "deadline": (now + TTL_MS) / 1000, "saveKey": key, "fsizeMin": FSIZE_MIN, "fsizeLimit": FSIZE_LIMIT });
            let encoded = base64::engine::general_purpose::URL_SAFE.encode(policy.to_string());
            let token = format!("lowcode-emu:{}:{encoded}", &call.st.ids.uuid().replace('-', "")[..20]);
            let upload = UploadToken { key, transaction_id: txn.to_owned(), entry_id: entry.entry_id.clone(), created_ms: now, used: false };
            uploads.insert(token.clone(), now + TTL_MS, upload, now);
            json!({ "url": url, "token": token })
        })
        .collect();
    ok_json(&json!({ "token_and_url_list": list }))
}

fn storage_error(status: u16, msg: &str) -> Response {
    Response::json(status, &json!({ "error": msg }))
}

/// `POST {url}` multipart: `token`, then `file` (the last part).
pub fn upload(ctx: &Ctx) -> Response {
    let world = ctx.world;
    let Some(st) = world.platforms.jiandaoyun.as_ref() else { return storage_error(401, "bad token") };
    let Some(parts) = &ctx.req.multipart else { return storage_error(400, "multipart/form-data expected") };
    let Some(token) =
        parts.iter().find(|p| p.name == "token" && p.filename.is_none()).map(|p| String::from_utf8_lossy(&p.data).trim().to_owned())
    else {
        return storage_error(400, "token not specified");
    };
    let Some(file) = parts.iter().find(|p| p.name == "file") else { return storage_error(400, "file not specified") };
    let now = world.clock.now_ms();
    let mut uploads = st.uploads.lock();
    let Some(t) = uploads.get_held_mut(&token) else { return storage_error(401, "bad token") };
    if now - t.created_ms >= TTL_MS {
        return storage_error(401, "expired token");
    }
    if t.used {
        return storage_error(614, "file exists");
    }
    if file.data.len() < FSIZE_MIN {
        return storage_error(403, "file is too small");
    }
    if file.data.len() > FSIZE_LIMIT {
        return storage_error(413, "file is too large");
    }
    t.used = true;
    let key = t.key.clone();
    let name = file.filename.clone().unwrap_or_else(|| key.clone());
    let mime = file.content_type.clone().unwrap_or_else(|| "application/octet-stream".into());
    world.files.put(Blob { id: key.clone(), name, mime, size: file.data.len(), data: file.data.clone(), created_ms: now });
    st.file_keys.lock().insert(key.clone(), FileKey { transaction_id: t.transaction_id.clone(), created_ms: now });
    Response::json(200, &json!({ "key": key }))
}

/// `GET /jiandaoyun/files/{key}`: the exact bytes, with the uploaded name and type.
pub fn download(ctx: &Ctx) -> Response {
    let Some(blob) = ctx.req.param("key").and_then(|k| ctx.world.files.get(k)) else {
        return Response::json(404, &json!({ "error": "no such file" }));
    };
    let disposition = crate::http::attachment(&blob.name);
    let mut r = Response { status: 200, content_type: "", body: blob.data.into(), headers: Vec::new() }
        .with_header("content-disposition", &disposition);
    if let Ok(v) = hyper::header::HeaderValue::from_str(&blob.mime) {
        r.headers.push((hyper::header::CONTENT_TYPE, v));
    }
    r
}

/// Resolves an upload key for a write carrying `transaction_id`: the attachment object records read
/// back, or 17027 when the key is unknown, bound to another transaction, or older than an hour.
pub fn bind(
    st: &State,
    world: &crate::world::World,
    base: &str,
    transaction_id: Option<&str>,
    key: &str,
    now: i64,
) -> Result<Value, JdyError> {
    let keys = st.file_keys.lock();
    let fk = keys.get(key).ok_or_else(|| JdyError::with_detail(17027, format!("unknown upload key {key}")))?;
    if Some(fk.transaction_id.as_str()) != transaction_id {
        return Err(JdyError::with_detail(17027, format!("upload key {key} belongs to another transaction_id")));
    }
    if now - fk.created_ms >= TTL_MS {
        return Err(JdyError::with_detail(17027, format!("upload key {key} expired")));
    }
    let blob = world.files.get(key).ok_or_else(|| JdyError::with_detail(17027, format!("unknown upload key {key}")))?;
    Ok(json!({ "name": blob.name, "size": blob.size, "mime": blob.mime, "url": format!("{base}/jiandaoyun/files/{key}") }))
}
