//! Connector file storage (`/u-route/baas/sys/v1.1/connectors/{type}/{name}/…`): files in the
//! connector's first bucket, kept in the world's blob store so state export carries the bytes.
//!
//! Keys are full paths (`a/b/c.txt`); directories exist only as prefixes of keys, as in OBS.

use base64::Engine;
use bytes::Bytes;
use serde_json::{json, Value};

use super::errors::AzError;
use super::model::{ConnectorDef, MultipartUpload, Share, State, StoredObject};
use super::{Call, Reply};
use crate::core::clock::Millis;
use crate::core::files::{Blob, FileStore};
use crate::http::Response;
use crate::platforms::PlatformError;
use crate::router::Ctx;

/// Parts other than the last must be at least this large (OBS's rule, quoted by the docs).
pub const MIN_PART_BYTES: usize = 5 * 1024 * 1024;
pub const MAX_PART_NUMBER: u32 = 10_000;
pub const MAX_KEYS: usize = 1000;
/// Most bytes one object assembled from parts may have in the emulator's memory.
pub const MAX_OBJECT_BYTES: usize = 1024 * 1024 * 1024;
const ACLS: &[&str] = &["private", "public-read", "public-read-write", "default"];

fn connector<'a>(call: &'a Call) -> Result<&'a ConnectorDef, AzError> {
    let (kind, name) = (call.req.param("ctype").unwrap_or_default(), call.req.param("cname").unwrap_or_default());
    call.st
        .connectors
        .iter()
        .find(|c| c.kind == kind && c.name == name)
        .ok_or_else(|| AzError::not_found(format!("connector {kind}/{name}")))
}

fn slot(connector: &str, key: &str) -> String {
    format!("{connector}/{key}")
}

/// A file key: no leading `/`, no empty segments.
fn key_ok(key: &str) -> bool {
    !key.is_empty() && !key.starts_with('/') && !key.ends_with('/') && !key.split('/').any(str::is_empty)
}

fn object_param(call: &Call) -> Result<String, AzError> {
    let key = call.required_query("object")?;
    if !key_ok(&key) {
        return Err(AzError::param(format!("object must be a file path such as a/b/c.txt, got {key}")));
    }
    Ok(key)
}

fn mime_of(key: &str) -> &'static str {
    let ext = key.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    match ext.as_str() {
        "txt" | "log" => "text/plain",
        "csv" => "text/csv",
        "json" => "application/json",
        "html" | "htm" => "text/html",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "pdf" => "application/pdf",
        "zip" => "application/zip",
        "mp4" => "video/mp4",
        "mp3" => "audio/mpeg",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        _ => "application/octet-stream",
    }
}

/// Writes `data` at `key`, replacing any file there.
pub fn store(st: &State, files: &FileStore, connector: &str, key: &str, data: Bytes, acl: &str, now: Millis) {
    let blob = format!("az-{}", st.new_id("0f0b"));
    let size = data.len();
    files.put(Blob {
        id: blob.clone(),
        name: key.rsplit('/').next().unwrap_or(key).to_owned(),
        mime: mime_of(key).into(),
        size,
        data,
        created_ms: now,
    });
    let old = st.runtime.lock().files.insert(
        slot(connector, key),
        StoredObject { blob, size, acl: acl.to_owned(), content_type: mime_of(key).into(), modified_ms: now },
    );
    if let Some(old) = old {
        files.remove(&old.blob);
    }
}

/// Seeds the scenario's connector files into a fresh world.
pub fn seed(st: &State, files: &FileStore, now: Millis) {
    for c in &st.connectors {
        for f in &c.files {
            let data = match (&f.text, &f.base64) {
                (Some(t), _) => Bytes::from(t.clone().into_bytes()),
                (None, Some(b)) => Bytes::from(base64::engine::general_purpose::STANDARD.decode(b).unwrap_or_default()),
                _ => Bytes::new(),
            };
            store(st, files, &c.name, &f.key, data, "default", now);
        }
    }
}

fn acl_param(call: &Call, from_form: Option<String>) -> Result<String, AzError> {
    let acl = from_form.or_else(|| call.req.query_value("acl")).filter(|a| !a.is_empty()).unwrap_or_else(|| "default".into());
    if !ACLS.contains(&acl.as_str()) {
        return Err(AzError::param(format!("acl must be one of {}, got {acl}", ACLS.join(", "))));
    }
    Ok(acl)
}

/// `POST putobject?object=…`: a multipart body with the file in part `object` (and optional `dir`,
/// `acl`), or the raw bytes. `result` is the stored key.
pub fn put(call: &Call) -> Result<Value, AzError> {
    let c = connector(call)?;
    let (data, key, acl) = match &call.req.multipart {
        Some(parts) => {
            let text = |n: &str| {
                parts.iter().find(|p| p.name == n && p.filename.is_none()).map(|p| String::from_utf8_lossy(&p.data).trim().to_owned())
            };
            let file = parts.iter().find(|p| p.name == "object").or_else(|| parts.iter().find(|p| p.filename.is_some()));
            let file = file.ok_or_else(|| AzError::param("the file part object is required"))?;
            let key = match call.query("object") {
                Some(k) => k,
                None => {
                    let name = file.filename.clone().filter(|f| !f.is_empty()).ok_or_else(|| AzError::param("object is required"))?;
                    match text("dir").filter(|d| !d.is_empty()) {
                        Some(d) => format!("{}/{name}", d.trim_matches('/')),
                        None => name,
                    }
                }
            };
            (file.data.clone(), key, acl_param(call, text("acl"))?)
        }
        None => (call.req.body.clone(), object_param(call)?, acl_param(call, None)?),
    };
    if !key_ok(&key) {
        return Err(AzError::param(format!("object must be a file path such as a/b/c.txt, got {key}")));
    }
    store(call.st, &call.world.files, &c.name, &key, data, &acl, call.now());
    Ok(json!(key))
}

/// `bytes=A-B`, `bytes=A-` or `bytes=-N` within `len`, as an inclusive range.
fn range(header: &str, len: usize) -> Option<(usize, usize)> {
    let spec = header.trim().strip_prefix("bytes=")?;
    let (a, b) = spec.split_once('-')?;
    let (a, b) = (a.trim(), b.trim());
    let (start, end) = match (a.is_empty(), b.is_empty()) {
        (true, false) => {
            let n: usize = b.parse().ok()?;
            (len.checked_sub(n.min(len))?, len.checked_sub(1)?)
        }
        (false, _) => {
            let start: usize = a.parse().ok()?;
            let end = if b.is_empty() { len.checked_sub(1)? } else { b.parse::<usize>().ok()?.min(len.checked_sub(1)?) };
            (start, end)
        }
        _ => return None,
    };
    (start <= end && end < len).then_some((start, end))
}

/// Raw bytes of a stored file (honouring `Range`), not enveloped.
fn raw(call: &Call, connector: &str, key: &str) -> Result<Reply, AzError> {
    let obj =
        call.st.runtime.lock().files.get(&slot(connector, key)).cloned().ok_or_else(|| AzError::not_found(format!("object {key}")))?;
    let blob = call.world.files.get(&obj.blob).ok_or_else(|| AzError::not_found(format!("object {key}")))?;
    let mut resp = Response { status: 200, content_type: "", body: blob.data.clone().into(), headers: Vec::new() };
    if let Some(h) = call.req.header("range") {
        match range(h, blob.data.len()) {
            Some((a, b)) => {
                resp.status = 206;
                resp.body = blob.data.slice(a..=b).into();
                resp = resp.with_header("content-range", &format!("bytes {a}-{b}/{}", blob.data.len()));
            }
            None => return Ok(Reply::Raw(Response::empty(416).with_header("content-range", &format!("bytes */{}", blob.data.len())))),
        }
    }
    if let Ok(v) = hyper::header::HeaderValue::from_str(&obj.content_type) {
        resp.headers.push((hyper::header::CONTENT_TYPE, v));
    }
    Ok(Reply::Raw(resp.with_header("accept-ranges", "bytes")))
}

/// `GET viewobject?object=…`.
pub fn view(call: &Call) -> Result<Reply, AzError> {
    let c = connector(call)?;
    let key = object_param(call)?;
    raw(call, &c.name, &key)
}

/// `DELETE delobject?object=…`.
pub fn delete(call: &Call) -> Result<Reply, AzError> {
    let c = connector(call)?;
    let key = object_param(call)?;
    let gone = call.st.runtime.lock().files.remove(&slot(&c.name, &key)).ok_or_else(|| AzError::not_found(format!("object {key}")))?;
    call.world.files.remove(&gone.blob);
    Ok(Reply::Bare)
}

/// `DELETE deldir?dir=…`: the directory and every file under it.
pub fn delete_dir(call: &Call) -> Result<Reply, AzError> {
    let c = connector(call)?;
    let dir = call.req.query_value("dir").or_else(|| call.req.query_value("object")).unwrap_or_default();
    let dir = dir.trim_matches('/');
    if dir.is_empty() {
        return Err(AzError::param("dir is required"));
    }
    let prefix = slot(&c.name, &format!("{dir}/"));
    let mut rt = call.st.runtime.lock();
    let keys: Vec<String> = rt.files.range(prefix.clone()..).take_while(|(k, _)| k.starts_with(&prefix)).map(|(k, _)| k.clone()).collect();
    if keys.is_empty() {
        return Err(AzError::not_found(format!("directory {dir}")));
    }
    for k in keys {
        if let Some(o) = rt.files.remove(&k) {
            call.world.files.remove(&o.blob);
        }
    }
    Ok(Reply::Bare)
}

/// `GET listdir?dir=&max-keys=&marker=`: the direct children of `dir` (files, and sub-directories
/// with `isDir: true`), in key order after the exclusive `marker`.
pub fn list(call: &Call) -> Result<Value, AzError> {
    let c = connector(call)?;
    let dir = call.req.query_value("dir").unwrap_or_default();
    let dir = dir.trim_matches('/');
    let max = match call.query("max-keys") {
        None => MAX_KEYS,
        Some(m) => match m.parse::<usize>() {
            Ok(n) if (1..=MAX_KEYS).contains(&n) => n,
            _ => return Err(AzError::param(format!("max-keys must be 1..{MAX_KEYS}, got {m}"))),
        },
    };
    let marker = call.query("marker");
    let base = if dir.is_empty() { String::new() } else { format!("{dir}/") };
    let prefix = slot(&c.name, &base);
    let rt = call.st.runtime.lock();
    let mut out: Vec<Value> = Vec::new();
    let mut last_dir: Option<String> = None;
    for (k, o) in rt.files.range(prefix.clone()..).take_while(|(k, _)| k.starts_with(&prefix)) {
        let rel = &k[prefix.len()..];
        let (entry, is_dir) = match rel.split_once('/') {
            Some((d, _)) => (format!("{base}{d}/"), true),
            None => (format!("{base}{rel}"), false),
        };
        if marker.as_ref().is_some_and(|m| entry.as_str() <= m.as_str()) || (is_dir && last_dir.as_deref() == Some(entry.as_str())) {
            continue;
        }
        if out.len() == max {
            break;
        }
        let name = entry.trim_end_matches('/').rsplit('/').next().unwrap_or_default().to_owned();
        if is_dir {
            last_dir = Some(entry.clone());
            out.push(json!({ "name": name, "key": entry, "isDir": true, "size": 0 }));
        } else {
            out.push(json!({ "name": name, "key": entry, "isDir": false, "size": o.size, "lastModified": super::data::time_text(o.modified_ms) }));
        }
    }
    Ok(Value::Array(out))
}

/// `POST createmultipartupload?object=…`: the `Content-Type` must fit the key's extension.
pub fn init_multipart(call: &Call) -> Result<Value, AzError> {
    let c = connector(call)?;
    let key = object_param(call)?;
    let given = call.req.header("content-type").unwrap_or_default().split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    let want = mime_of(&key);
    if want != "application/octet-stream" && given != want {
        return Err(AzError::param(format!("Content-Type must be {want} for {key}, got {given:?}")));
    }
    let id = call.st.ids.uuid().replace('-', "").to_ascii_uppercase();
    let up = MultipartUpload { connector: c.name.clone(), object: key.clone(), content_type: want.into(), parts: Default::default() };
    call.st.runtime.lock().uploads.insert(id.clone(), up);
    Ok(json!({ "uploadId": id, "bucket": c.bucket(), "object": key }))
}

fn upload_of(call: &Call, connector: &str, key: &str) -> Result<String, AzError> {
    let id = call.required_query("uploadId")?;
    match call.st.runtime.lock().uploads.get(&id) {
        Some(u) if u.connector == connector && u.object == key => Ok(id),
        _ => Err(AzError::not_found(format!("upload {id}"))),
    }
}

fn etag(data: &[u8]) -> String {
    format!("\"{:016x}{:016x}\"", crate::core::ids::fnv1a(data), data.len() as u64 ^ 0x9e37_79b9_7f4a_7c15)
}

/// `POST uploadpart?object=&uploadId=&partNumber=`: the body is the part's bytes; a part number
/// used again replaces that part.
pub fn upload_part(call: &Call) -> Result<Value, AzError> {
    let c = connector(call)?;
    let key = object_param(call)?;
    let id = upload_of(call, &c.name, &key)?;
    let n = call.req.query_value("partNumber").and_then(|p| p.parse::<u32>().ok()).filter(|n| (1..=MAX_PART_NUMBER).contains(n));
    let n = n.ok_or_else(|| AzError::param(format!("partNumber must be 1..{MAX_PART_NUMBER}")))?;
    let data = call.req.body.clone();
    let tag = etag(&data);
    let blob = format!("az-{}", call.st.new_id("0f0p"));
    call.world.files.put(Blob {
        id: blob.clone(),
        name: format!("{key}.part{n}"),
        mime: "application/octet-stream".into(),
        size: data.len(),
        data,
        created_ms: call.now(),
    });
    let old = call.st.runtime.lock().uploads.get_mut(&id).and_then(|u| u.parts.insert(n, blob));
    if let Some(old) = old {
        call.world.files.remove(&old);
    }
    Ok(json!({ "ETag": tag, "partNumber": n }))
}

/// `POST completeupload?object=&uploadId=` with `[{"ETag", "partNumber"}, …]`: joins the listed
/// parts in part-number order; the upload id is dead afterwards.
pub fn complete_multipart(call: &Call) -> Result<Value, AzError> {
    let c = connector(call)?;
    let key = object_param(call)?;
    let id = upload_of(call, &c.name, &key)?;
    let listed: Vec<Value> =
        serde_json::from_slice(&call.req.body).map_err(|_| AzError::param("the body must be a JSON array of {ETag, partNumber}"))?;
    let mut wanted = Vec::new();
    for p in &listed {
        let n = match p.get("partNumber") {
            Some(Value::String(s)) => s.parse::<u32>().ok(),
            Some(Value::Number(n)) => n.as_u64().map(|n| n as u32),
            _ => None,
        };
        let n = n.ok_or_else(|| AzError::param("each part needs a partNumber"))?;
        let tag = p.get("ETag").and_then(Value::as_str).ok_or_else(|| AzError::param("each part needs an ETag"))?;
        wanted.push((n, tag.to_owned()));
    }
    if wanted.is_empty() {
        return Err(AzError::param("at least one part is required"));
    }
    wanted.sort_by_key(|(n, _)| *n);
    if let Some(w) = wanted.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(AzError::param(format!("part {} is listed more than once", w[0].0)));
    }
    let upload = call.st.runtime.lock().uploads.get(&id).cloned().ok_or_else(|| AzError::not_found(format!("upload {id}")))?;
    let mut joined = Vec::new();
    for (i, (n, tag)) in wanted.iter().enumerate() {
        let blob = upload
            .parts
            .get(n)
            .and_then(|b| call.world.files.get(b))
            .ok_or_else(|| AzError::param(format!("part {n} was not uploaded")))?;
        if &etag(&blob.data) != tag && tag.trim_matches('"') != etag(&blob.data).trim_matches('"') {
            return Err(AzError::param(format!("the ETag of part {n} does not match")));
        }
        if i + 1 < wanted.len() && blob.data.len() < MIN_PART_BYTES {
            return Err(AzError::param(format!("part {n} is smaller than 5 MB and is not the last part")));
        }
        if joined.len() + blob.data.len() > MAX_OBJECT_BYTES {
            return Err(AzError::param(format!("the object would exceed {MAX_OBJECT_BYTES} bytes")));
        }
        joined.extend_from_slice(&blob.data);
    }
    for b in upload.parts.values() {
        call.world.files.remove(b);
    }
    call.st.runtime.lock().uploads.remove(&id);
    store(call.st, &call.world.files, &c.name, &key, Bytes::from(joined), "default", call.now());
    Ok(json!({ "object": key, "bucket": c.bucket(), "ETag": etag(key.as_bytes()) }))
}

/// `POST abortupload?object=&uploadId=`: the parts are discarded.
pub fn abort_multipart(call: &Call) -> Result<Reply, AzError> {
    let c = connector(call)?;
    let key = object_param(call)?;
    let id = upload_of(call, &c.name, &key)?;
    if let Some(u) = call.st.runtime.lock().uploads.remove(&id) {
        for b in u.parts.values() {
            call.world.files.remove(b);
        }
    }
    Ok(Reply::Bare)
}

/// `GET getendpoint`: the URL prefix of the bucket.
pub fn endpoint(call: &Call) -> Result<Value, AzError> {
    let c = connector(call)?;
    Ok(json!(c.endpoint.clone().unwrap_or_else(|| format!("https://{}.obs.example.com/", c.bucket()))))
}

/// `POST sharetoken`: `{shareType: 0 file | 1 directory (key ends in /) | 2 files (keys),
/// key, keys, timeoutInMinutes: 1..1440}`.
pub fn share(call: &Call) -> Result<Value, AzError> {
    let c = connector(call)?;
    let b = &call.body;
    let kind = b.get("shareType").and_then(Value::as_u64).ok_or_else(|| AzError::param("shareType must be 0, 1 or 2"))?;
    let minutes = b.get("timeoutInMinutes").and_then(Value::as_i64).unwrap_or(60);
    if !(1..=1440).contains(&minutes) {
        return Err(AzError::param("timeoutInMinutes must be 1..1440"));
    }
    let key = b.get("key").and_then(Value::as_str).unwrap_or_default().to_owned();
    let keys: Vec<String> = match kind {
        0 if key_ok(&key) => vec![key],
        1 if key.ends_with('/') && key.len() > 1 => vec![key],
        2 => b
            .get("keys")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect::<Vec<_>>())
            .filter(|k| !k.is_empty() && k.iter().all(|k| key_ok(k)))
            .ok_or_else(|| AzError::param("keys must list file paths"))?,
        0 => return Err(AzError::param("key must be a file path")),
        1 => return Err(AzError::param("key must be a directory ending in /")),
        _ => return Err(AzError::param("shareType must be 0, 1 or 2")),
    };
    let claims = json!({ "connector": c.name, "keys": keys, "jti": call.st.ids.uuid() });
    let enc = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let token = format!("{}.{}.{}", enc(&json!({ "alg": "HS256", "typ": "JWT" })), enc(&claims), call.st.ids.uuid().replace('-', ""));
    let expires_ms = call.now() + minutes * 60_000;
    call.st.runtime.lock().shares.insert(token.clone(), Share { connector: c.name.clone(), keys, expires_ms });
    Ok(json!({ "shareToken": token }))
}

/// `GET /u-route/baas/sys/v1.1/objectstorage/viewshareobject?object=&shareToken=`: no access
/// token; the share token must be live and cover the key.
pub fn view_shared(ctx: &Ctx) -> Response {
    let locale = ctx.world.locale;
    let Some(st) = ctx.world.platforms.astrozero.as_ref() else { return AzError::not_found("astrozero is not configured").render(locale) };
    let call = Call { world: ctx.world, st, req: ctx.req, user: String::new(), body: Default::default() };
    let reply = (|| {
        let key = object_param(&call)?;
        let token = call.required_query("shareToken")?;
        let share = st
            .runtime
            .lock()
            .shares
            .get(&token)
            .cloned()
            .filter(|s| s.expires_ms > call.now())
            .ok_or_else(|| AzError::new("unauthorized"))?;
        if !share.keys.iter().any(|k| k == &key || (k.ends_with('/') && key.starts_with(k.as_str()))) {
            return Err(AzError { name: "forbidden", detail: Some(format!("the share does not cover {key}")) });
        }
        raw(&call, &share.connector, &key)
    })();
    match reply {
        Ok(Reply::Raw(r)) => r,
        Ok(_) => Response::empty(200),
        Err(e) => e.render(locale),
    }
}
