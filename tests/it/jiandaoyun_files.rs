//! Files: upload tokens, the storage-style upload endpoint, binding keys by transaction_id, downloads.

use crate::common;

use common::*;
use serde_json::{json, Value};

const TXN: &str = "87cd7d71-c6df-4281-9927-469094395677";

async fn tokens(emu: &lowcode_emu::Emulator, txn: &str) -> Vec<(String, String)> {
    let r = post(emu, "/api/v5/app/entry/file/get_upload_token", json!({ "app_id": APP, "entry_id": ALL, "transaction_id": txn })).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["token_and_url_list"]
        .as_array()
        .map(|a| a.iter().map(|t| (t["url"].as_str().unwrap_or("").to_owned(), t["token"].as_str().unwrap_or("").to_owned())).collect())
        .unwrap_or_default()
}

async fn upload(url: &str, token: &str, name: &str, mime: &str, bytes: &[u8]) -> (u16, Value) {
    let form = reqwest::multipart::Form::new()
        .text("token", token.to_owned())
        .part("file", reqwest::multipart::Part::bytes(bytes.to_vec()).file_name(name.to_owned()).mime_str(mime).expect("mime"));
    let r = client().post(url).multipart(form).send().await.expect("sent");
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn tokens_come_by_the_hundred_and_point_back_at_the_emulator() {
    let emu = start().await;
    let list = tokens(&emu, TXN).await;
    assert_eq!(list.len(), 100);
    assert!(list.iter().all(|(url, _)| url == &format!("{}/jiandaoyun/upload", emu.base_url())));
    let distinct: std::collections::HashSet<&String> = list.iter().map(|(_, t)| t).collect();
    assert_eq!(distinct.len(), 100);
    let legacy = post(&emu, &format!("/api/v1/app/{APP}/entry/{ALL}/file/get_upload_token"), json!({ "transaction_id": TXN })).await;
    assert_eq!(legacy.body["token_and_url_list"].as_array().map(Vec::len), Some(100));
    assert_jdy_error(&post(&emu, "/api/v5/app/entry/file/get_upload_token", json!({ "app_id": APP, "entry_id": ALL })).await, 1);
    assert_jdy_error(
        &post(&emu, "/api/v5/app/entry/file/get_upload_token", json!({ "app_id": APP, "entry_id": ALL, "transaction_id": "${id}" })).await,
        17025,
    );
    assert_jdy_error(
        &post_raw(
            &emu,
            "/api/v5/app/entry/file/get_upload_token",
            None,
            json!({ "app_id": APP, "entry_id": ALL, "transaction_id": TXN }).to_string(),
        )
        .await,
        8301,
    );
}

#[tokio::test]
async fn upload_bind_read_and_download_the_exact_bytes() {
    let emu = start().await;
    let list = tokens(&emu, TXN).await;
    let pdf = b"%PDF-1.4 lowcode-emu test attachment".to_vec();
    let (status, body) = upload(&list[0].0, &list[0].1, "产品说明文档.pdf", "application/pdf", &pdf).await;
    assert_eq!(status, 200);
    let key = body["key"].as_str().expect("key").to_owned();
    assert_eq!(key.len(), 36);
    let (_, img) = upload(&list[1].0, &list[1].1, "image.png", "image/png", b"\x89PNG fake").await;
    let img_key = img["key"].as_str().expect("key").to_owned();

    let created = post(
        &emu,
        "/api/v5/app/entry/data/create",
        json!({ "app_id": APP, "entry_id": ALL, "transaction_id": TXN, "data": {
            "_widget_1600000000012": { "value": [key] },
            "_widget_1600000000011": { "value": [img_key] },
            "_widget_1600000000021": { "value": format!("<p>图<img data-key=\"{img_key}\" width=\"100\" /></p>") }
        } }),
    )
    .await;
    assert_eq!(created.status, 200, "{}", created.body);
    let file = &created.body["data"]["_widget_1600000000012"][0];
    assert_eq!(
        (file["name"].clone(), file["size"].clone(), file["mime"].clone()),
        (json!("产品说明文档.pdf"), json!(pdf.len()), json!("application/pdf"))
    );
    let url = file["url"].as_str().expect("url").to_owned();
    assert_eq!(url, format!("{}/jiandaoyun/files/{key}", emu.base_url()));
    let rich = &created.body["data"]["_widget_1600000000021"];
    assert_eq!(rich["attachments"][0]["name"], "image.png");
    assert!(rich["html"].as_str().is_some_and(|h| h.contains(&format!("src=\"{}/jiandaoyun/files/{img_key}\"", emu.base_url()))));

    let download = client().get(&url).send().await.expect("sent");
    assert_eq!(download.status(), 200);
    assert_eq!(download.headers().get("content-type").and_then(|v| v.to_str().ok()), Some("application/pdf"));
    assert_eq!(download.bytes().await.expect("bytes").to_vec(), pdf);
    assert_eq!(client().get(format!("{}/jiandaoyun/files/nope", emu.base_url())).send().await.expect("sent").status(), 404);
}

#[tokio::test]
async fn keys_bind_only_with_their_transaction_within_the_hour() {
    let emu = start().await;
    let list = tokens(&emu, TXN).await;
    let (_, body) = upload(&list[0].0, &list[0].1, "a.txt", "text/plain", b"hello").await;
    let key = body["key"].clone();
    let create = |txn: Option<&str>| {
        let mut b = json!({ "app_id": APP, "entry_id": ALL, "data": { "_widget_1600000000012": { "value": [key.clone()] } } });
        if let Some(t) = txn {
            b["transaction_id"] = json!(t);
        }
        post(&emu, "/api/v5/app/entry/data/create", b)
    };
    assert_jdy_error(&create(None).await, 17027);
    assert_jdy_error(&create(Some("another-transaction")).await, 17027);
    client().post(format!("{}/__emu/clock", emu.base_url())).body(r#"{"advance":"61m"}"#).send().await.expect("clock");
    assert_jdy_error(&create(Some(TXN)).await, 17027);
}

#[tokio::test]
async fn the_upload_endpoint_answers_like_the_storage_service() {
    let emu = start().await;
    let list = tokens(&emu, TXN).await;
    let (url, token) = (&list[0].0, &list[0].1);
    assert_eq!(upload(url, token, "a.txt", "text/plain", b"one").await.0, 200);
    assert_eq!(upload(url, token, "b.txt", "text/plain", b"two").await, (614, json!({ "error": "file exists" })), "one file per token");
    assert_eq!(upload(url, "forged-token", "a.txt", "text/plain", b"x").await, (401, json!({ "error": "bad token" })));
    assert_eq!(upload(url, &list[1].1, "empty.txt", "text/plain", b"").await.0, 403, "files are at least one byte");
    let no_file =
        client().post(url).multipart(reqwest::multipart::Form::new().text("token", list[2].1.clone())).send().await.expect("sent");
    assert_eq!(no_file.status(), 400);
    client().post(format!("{}/__emu/clock", emu.base_url())).body(r#"{"advance":"1h"}"#).send().await.expect("clock");
    assert_eq!(upload(url, &list[3].1, "late.txt", "text/plain", b"late").await, (401, json!({ "error": "expired token" })));
}

#[tokio::test]
async fn oversized_uploads_and_the_attachment_quota() {
    let small = FIXTURE.replace("[jiandaoyun]\n", "[server]\nmax_upload_bytes = 1024\n\n[jiandaoyun]\nattachment_quota_bytes = 10\n");
    let emu = start_with(&small).await;
    let list = tokens(&emu, TXN).await;
    assert_eq!(
        upload(&list[0].0, &list[0].1, "big.bin", "application/octet-stream", &vec![0u8; 4096]).await,
        (413, json!({ "error": "file is too large" }))
    );
    let (_, a) = upload(&list[1].0, &list[1].1, "a.txt", "text/plain", b"123456").await;
    let (_, b) = upload(&list[2].0, &list[2].1, "b.txt", "text/plain", b"789012").await;
    let bind = |key: Value| {
        post(
            &emu,
            "/api/v5/app/entry/data/create",
            json!({ "app_id": APP, "entry_id": ALL, "transaction_id": TXN, "data": { "_widget_1600000000012": { "value": [key] } } }),
        )
    };
    assert_eq!(bind(a["key"].clone()).await.status, 200);
    let over = bind(b["key"].clone()).await;
    assert_eq!(over.body, json!({ "code": 7217, "msg": "附件上传量超过当前版本限制" }));
}

/// A download's name is percent-encoded as RFC 5987 says: a space is `%20`, not the form encoding's `+`.
#[tokio::test]
async fn download_names_are_rfc5987_encoded() {
    let emu = start().await;
    let list = tokens(&emu, TXN).await;
    let (_, body) = upload(&list[0].0, &list[0].1, "季度 报告+附录.pdf", "application/pdf", b"%PDF-1.4").await;
    let key = body["key"].as_str().expect("key").to_owned();
    let download = client().get(format!("{}/jiandaoyun/files/{key}", emu.base_url())).send().await.expect("sent");
    assert_eq!(
        download.headers().get("content-disposition").and_then(|v| v.to_str().ok()),
        Some("attachment; filename*=UTF-8''%E5%AD%A3%E5%BA%A6%20%E6%8A%A5%E5%91%8A+%E9%99%84%E5%BD%95.pdf")
    );
}
