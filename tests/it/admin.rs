//! The /__emu control API: health, routes, journal, reset, namespaces, state, clock.

use crate::common;

use common::*;
use serde_json::{json, Value};

const CREATE: &str = "/api/v5/app/entry/data/create";

async fn admin(emu: &lowcode_emu::Emulator, method: reqwest::Method, path: &str, ns: Option<&str>, body: Option<&str>) -> Reply {
    let mut req = client().request(method, format!("{}{path}", emu.base_url()));
    if let Some(ns) = ns {
        req = req.header("x-emu-namespace", ns);
    }
    if let Some(b) = body {
        req = req.body(b.to_owned());
    }
    let resp = req.send().await.expect("sent");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    Reply { status, body: resp.json().await.unwrap_or(Value::Null), headers }
}

async fn create_in(emu: &lowcode_emu::Emulator, ns: Option<&str>, text: &str) -> Value {
    let mut req = client().post(format!("{}{CREATE}", emu.base_url())).header("authorization", format!("Bearer {KEY}"));
    if let Some(ns) = ns {
        req = req.header("x-emu-namespace", ns);
    }
    let body = json!({ "app_id": APP, "entry_id": ALL, "data": { "_widget_1600000000001": { "value": text } } });
    req.body(body.to_string()).send().await.expect("sent").json().await.expect("json")
}

#[tokio::test]
async fn health_and_routes() {
    let emu = start().await;
    let h = get(&emu, "/__emu/health").await;
    assert_eq!(h.body, json!({ "status": "ok", "platforms": ["jiandaoyun"], "scenario": "jdy-tests" }), "only configured platforms");
    let routes = get(&emu, "/__emu/routes").await;
    let list = routes.body.as_array().cloned().unwrap_or_default();
    assert!(list.contains(
        &json!({ "platform": "jiandaoyun", "method": "POST", "path": "/api/v5/app/entry/data/list", "route": "jiandaoyun.data.list" })
    ));
    assert!(list.iter().any(|r| r["route"] == "jiandaoyun.v1.data.get"));
    // A route id names one operation per method; Astro Zero's documented spellings of one path
    // (`Object`/`object`, `Field`/`fields`) share it, so a fault on the id covers every spelling, and
    // so do the path lengths a custom API (`/service/…`) may have.
    let ids: std::collections::HashSet<(&str, &str)> =
        list.iter().filter_map(|r| Some((r["route"].as_str()?, r["method"].as_str()?))).collect();
    let operation = |path: &str| match path.starts_with("/service/") {
        true => "/service/…".to_owned(),
        false => path.to_lowercase().replace("/fields", "/field"),
    };
    let operations: std::collections::HashSet<(&str, &str, String)> =
        list.iter().filter_map(|r| Some((r["route"].as_str()?, r["method"].as_str()?, operation(r["path"].as_str()?)))).collect();
    assert_eq!(ids.len(), operations.len(), "a route id names one operation per method");
    assert_eq!(get(&emu, "/__emu/nope").await.status, 404);
}

#[tokio::test]
async fn journal_records_requests_with_bodies_and_filters() {
    let emu = start().await;
    let created = create_in(&emu, None, "记一笔").await;
    post(&emu, "/api/v5/app/entry/data/get", json!({ "app_id": APP, "entry_id": ALL, "data_id": "nope" })).await;
    post(&emu, "/api/v9/unknown", json!({})).await;
    get(&emu, "/__emu/health").await; // admin calls are not journaled

    let all = get(&emu, "/__emu/requests").await.body;
    let entries = all.as_array().cloned().unwrap_or_default();
    assert_eq!(entries.len(), 3);
    let first = &entries[0];
    assert_eq!(first["method"], "POST");
    assert_eq!(first["path"], CREATE);
    assert_eq!(first["route"], "jiandaoyun.data.create");
    assert_eq!(first["platform"], "jiandaoyun");
    assert_eq!(first["status"], 200);
    assert_eq!(first["namespace"], "");
    assert_eq!(first["time"], "2026-03-01T08:00:00.000Z");
    assert_eq!(first["request_body"]["data"]["_widget_1600000000001"]["value"], "记一笔");
    assert_eq!(first["response_body"], created);
    assert_eq!(first["fault"], Value::Null);
    assert!(first["duration_ms"].as_f64().is_some());
    assert_eq!(entries[1]["status"], 400);
    assert_eq!(entries[1]["response_body"]["code"], 4001);
    assert_eq!(entries[2]["route"], "unmatched");
    assert_eq!(entries[2]["status"], 404);

    let by_route = get(&emu, "/__emu/requests?route=jiandaoyun.data.get").await.body;
    assert_eq!(by_route.as_array().map(Vec::len), Some(1));
    let by_status = get(&emu, "/__emu/requests/count?status=200").await.body;
    assert_eq!(by_status, json!({ "count": 1 }));
    let since = get(&emu, &format!("/__emu/requests?since={}", first["id"])).await.body;
    assert_eq!(since.as_array().map(Vec::len), Some(2));
    assert_eq!(
        get(&emu, "/__emu/requests?platform=jiandaoyun").await.body.as_array().map(Vec::len),
        Some(3),
        "unmatched /api/ paths count as Jiandaoyun"
    );
    assert_eq!(get(&emu, "/__emu/requests?bogus=1").await.status, 400);
    assert_eq!(get(&emu, "/__emu/requests?since=yesterday").await.status, 400);

    let deleted = admin(&emu, reqwest::Method::DELETE, "/__emu/requests", None, None).await;
    assert_eq!(deleted.body, json!({ "deleted": 3 }));
    assert_eq!(get(&emu, "/__emu/requests/count").await.body, json!({ "count": 0 }));
}

/// The journal after creates `r0` … `r11` under `[server] <setting>`; asserts the newest is last.
async fn journal_after_twelve_creates(setting: &str) -> Vec<Value> {
    let emu = start_with(&FIXTURE.replace("[jiandaoyun]\n", &format!("[server]\n{setting}\n\n[jiandaoyun]\n"))).await;
    for i in 0..12 {
        create_in(&emu, None, &format!("r{i}")).await;
    }
    let entries = get(&emu, "/__emu/requests").await.body.as_array().cloned().unwrap_or_default();
    assert_eq!(entries.last().map(|e| &e["request_body"]["data"]["_widget_1600000000001"]["value"]), Some(&json!("r11")), "newest last");
    entries
}

#[tokio::test]
async fn journal_is_bounded() {
    assert_eq!(journal_after_twelve_creates("journal_size = 5").await.len(), 5);
}

#[tokio::test]
async fn journal_is_bounded_by_body_bytes() {
    // A create's request and response bodies are a few hundred bytes: 2 000 bytes hold only the last few.
    let kept = journal_after_twelve_creates("journal_max_bytes = 2000").await.len();
    assert!((1..12).contains(&kept), "kept {kept} entries");
}

#[tokio::test]
async fn reset_restores_data_ids_and_journal() {
    let emu = start().await;
    let first = create_in(&emu, None, "a").await["data"]["_id"].clone();
    create_in(&emu, None, "b").await;
    let r = admin(&emu, reqwest::Method::POST, "/__emu/reset", None, None).await;
    assert_eq!(r.body, json!({ "status": "ok" }));
    let list = post(&emu, "/api/v5/app/entry/data/list", json!({ "app_id": APP, "entry_id": ALL })).await;
    assert_eq!(list.body, json!({ "data": [] }));
    assert_eq!(get(&emu, "/__emu/requests/count").await.body, json!({ "count": 1 }), "only the list after the reset");
    let again = create_in(&emu, None, "a").await["data"]["_id"].clone();
    assert_eq!(again, first, "same calls after a reset give the same ids");
}

#[tokio::test]
async fn namespaces_are_isolated_worlds() {
    let emu = start().await;
    let in_a = create_in(&emu, Some("worker-a"), "only in a").await;
    let in_b = create_in(&emu, Some("worker-b"), "only in b").await;
    assert_eq!(in_a["data"]["_id"], in_b["data"]["_id"], "each namespace starts from the same scenario");
    let default = post(&emu, "/api/v5/app/entry/data/list", json!({ "app_id": APP, "entry_id": ALL })).await;
    assert_eq!(default.body["data"], json!([]));
    let ns = get(&emu, "/__emu/namespaces").await.body;
    assert_eq!(ns, json!({ "namespaces": ["", "worker-a", "worker-b"] }));
    let state_a = admin(&emu, reqwest::Method::GET, "/__emu/state", Some("worker-a"), None).await.body;
    assert_eq!(state_a["namespace"], "worker-a");
    let records = &state_a["jiandaoyun"]["apps"][0]["entries"][0]["records"];
    assert_eq!(records.as_array().map(Vec::len), Some(1));
    assert_eq!(records[0]["_widget_1600000000001"], "only in a");
    // Resetting one namespace leaves the others alone; the journal keeps the other namespace's entries.
    admin(&emu, reqwest::Method::POST, "/__emu/reset", Some("worker-a"), None).await;
    let a = admin(&emu, reqwest::Method::GET, "/__emu/state", Some("worker-a"), None).await.body;
    assert_eq!(a["jiandaoyun"]["apps"][0]["entries"][0]["records"], json!([]));
    let b = admin(&emu, reqwest::Method::GET, "/__emu/state", Some("worker-b"), None).await.body;
    assert_eq!(b["jiandaoyun"]["apps"][0]["entries"][0]["records"].as_array().map(Vec::len), Some(1));
    assert_eq!(get(&emu, "/__emu/requests/count?namespace=worker-b").await.body, json!({ "count": 1 }));
    assert_eq!(get(&emu, "/__emu/requests/count?namespace=worker-a").await.body, json!({ "count": 0 }));
    // The namespace header scopes the journal too, like every other admin route.
    let scoped = admin(&emu, reqwest::Method::GET, "/__emu/requests", Some("worker-b"), None).await.body;
    assert_eq!(scoped.as_array().map(Vec::len), Some(1));
    assert_eq!(scoped[0]["namespace"], "worker-b");
    assert_eq!(admin(&emu, reqwest::Method::GET, "/__emu/requests/count", Some("worker-a"), None).await.body, json!({ "count": 0 }));
    assert_eq!(admin(&emu, reqwest::Method::DELETE, "/__emu/requests", Some("worker-b"), None).await.body, json!({ "deleted": 1 }));
    assert_eq!(get(&emu, "/__emu/requests/count").await.body, json!({ "count": 1 }), "the default namespace's entry stays");
}

#[tokio::test]
async fn a_path_mount_names_the_namespace_for_clients_that_only_take_a_base_url() {
    let emu = start().await;
    // A client whose base URL is `<base>/__ns/t1` reaches namespace t1 without any header.
    let mounted = post(&emu, &format!("/__ns/t1{CREATE}"), json!({ "app_id": APP, "entry_id": ALL, "data": {} })).await;
    assert_eq!(mounted.status, 200, "{:?}", mounted.body);
    let by_header = create_in(&emu, Some("t1"), "second in t1").await;
    assert_ne!(mounted.body["data"]["_id"], by_header["data"]["_id"], "the mount and the header name one world");
    let listed = post(&emu, "/__ns/t1/api/v5/app/entry/data/list", json!({ "app_id": APP, "entry_id": ALL })).await;
    assert_eq!(listed.body["data"].as_array().map(Vec::len), Some(2));
    let default = post(&emu, "/api/v5/app/entry/data/list", json!({ "app_id": APP, "entry_id": ALL })).await;
    assert_eq!(default.body["data"], json!([]), "the default namespace saw nothing");
    // The journal keeps the platform path without the mount, under the namespace.
    let journal = get(&emu, "/__emu/requests?namespace=t1").await.body;
    assert_eq!(journal[0]["path"], CREATE);
    assert_eq!(journal[0]["namespace"], "t1");
    // Admin calls take the mount too; the path wins over a header naming another namespace.
    let state = admin(&emu, reqwest::Method::GET, "/__ns/t1/__emu/state", Some("other"), None).await.body;
    assert_eq!(state["namespace"], "t1");
    assert_eq!(admin(&emu, reqwest::Method::POST, "/__ns/t1/__emu/reset", None, None).await.status, 200);
    let after = post(&emu, "/__ns/t1/api/v5/app/entry/data/list", json!({ "app_id": APP, "entry_id": ALL })).await;
    assert_eq!(after.body["data"], json!([]));
    // URLs the emulator hands out keep the mount, so an upload lands in the same namespace.
    let token = post(
        &emu,
        "/__ns/t1/api/v5/app/entry/file/get_upload_token",
        json!({ "app_id": APP, "entry_id": ALL, "transaction_id": "7d5a6f1c-0000-4000-8000-000000000001" }),
    )
    .await;
    let url = token.body["token_and_url_list"][0]["url"].as_str().unwrap_or_default().to_owned();
    assert_eq!(url, format!("{}/__ns/t1/jiandaoyun/upload", emu.base_url()));
    // The name is percent-decoded, so `a%20b` in the path is the namespace the header calls `a b`.
    create_in(&emu, Some("a b"), "spaced").await;
    let spaced = post(&emu, "/__ns/a%20b/api/v5/app/entry/data/list", json!({ "app_id": APP, "entry_id": ALL })).await;
    assert_eq!(spaced.body["data"].as_array().map(Vec::len), Some(1));
    // `/__ns/` without a name is no mount: an unknown path.
    assert_eq!(get(&emu, "/__ns//__emu/health").await.status, 404);
}

#[tokio::test]
async fn state_export_has_directory_and_records() {
    let emu = start().await;
    let s = get(&emu, "/__emu/state").await.body;
    assert_eq!(s["clock"], json!({ "now": "2026-03-01T08:00:00.000Z", "frozen": true }));
    assert_eq!(s["directory"]["users"][0]["id"], "xiaojian");
    assert_eq!(s["directory"]["departments"][0]["id"], 1);
    let flow = &s["jiandaoyun"]["apps"][0]["entries"][1];
    assert_eq!(flow["name"], "请假单");
    assert_eq!(flow["records"].as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn clock_can_be_frozen_advanced_and_released() {
    let emu = start().await;
    assert_eq!(get(&emu, "/__emu/clock").await.body, json!({ "now": "2026-03-01T08:00:00.000Z", "frozen": true }));
    let r = admin(&emu, reqwest::Method::POST, "/__emu/clock", None, Some(r#"{"advance":"2h"}"#)).await;
    assert_eq!(r.body["now"], "2026-03-01T10:00:00.000Z");
    let rec = create_in(&emu, None, "later").await;
    assert_eq!(rec["data"]["createTime"], "2026-03-01T10:00:00.000Z");
    let r = admin(&emu, reqwest::Method::POST, "/__emu/clock", None, Some(r#"{"freeze":"2030-01-01T00:00:00+08:00"}"#)).await;
    assert_eq!(r.body["now"], "2029-12-31T16:00:00.000Z");
    let r = admin(&emu, reqwest::Method::POST, "/__emu/clock", None, Some(r#"{"set":"2031-05-01T00:00:00Z"}"#)).await;
    assert_eq!((r.body["now"].clone(), r.body["frozen"].clone()), (json!("2031-05-01T00:00:00.000Z"), json!(true)), "set keeps the mode");
    let r = admin(&emu, reqwest::Method::POST, "/__emu/clock", None, Some(r#"{"real":true}"#)).await;
    assert_eq!(r.body["frozen"], false);
    for bad in [r#"{"advance":"soon"}"#, r#"{"freeze":"tomorrow"}"#, r#"{"set":5}"#, "nope"] {
        assert_eq!(admin(&emu, reqwest::Method::POST, "/__emu/clock", None, Some(bad)).await.status, 400, "{bad}");
    }
}

/// The OpenAPI document and the dispatcher agree: every documented endpoint is answered (never the
/// "no admin endpoint" 404), and every arm of the dispatcher is documented.
#[tokio::test]
async fn every_admin_route_is_documented_and_every_documented_route_exists() {
    let emu = start().await;
    let doc = get(&emu, "/__emu/openapi.json").await.body;
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().expect("paths").clone();
    for (path, item) in &paths {
        for method in item.as_object().expect("item").keys() {
            let concrete = path.replace("{name}", "nobody").replace("{id}", "999");
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            let r = admin(&emu, m, &concrete, None, Some("{}")).await;
            let unknown = r.body["error"].as_str().is_some_and(|e| e.starts_with("no admin endpoint"));
            assert!(!unknown, "{method} {path} is documented but not served");
        }
    }
    let source = include_str!("../../src/admin.rs");
    for arm in source.split("(&Method::").skip(1) {
        let method = arm.split(',').next().unwrap_or("").to_lowercase();
        let Some(path) = arm.split('"').nth(1).filter(|p| p.starts_with("/__emu/")) else { continue };
        let documented = paths.iter().any(|(p, item)| {
            let fits = p == path || (path.ends_with('/') && p.starts_with(path));
            fits && item.get(method.as_str()).is_some()
        });
        assert!(documented, "{method} {path} is served but not in the OpenAPI document");
    }
}
