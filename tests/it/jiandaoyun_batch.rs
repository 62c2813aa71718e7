//! batch_create, batch_update, batch_delete: caps, counts and transaction_id retries.

use crate::common;

use common::*;
use serde_json::{json, Value};

const BATCH_CREATE: &str = "/api/v5/app/entry/data/batch_create";
const BATCH_UPDATE: &str = "/api/v5/app/entry/data/batch_update";
const BATCH_DELETE: &str = "/api/v5/app/entry/data/batch_delete";
const LIST: &str = "/api/v5/app/entry/data/list";

fn rows(n: usize) -> Vec<Value> {
    (0..n).map(|i| json!({ "_widget_1600000000001": { "value": format!("行{i}") }, "_widget_1600000000003": { "value": i } })).collect()
}

async fn count(emu: &lowcode_emu::Emulator) -> usize {
    post(emu, LIST, json!({ "app_id": APP, "entry_id": ALL, "limit": 100 })).await.body["data"].as_array().map_or(0, Vec::len)
}

#[tokio::test]
async fn batch_create_reports_count_and_ids() {
    let emu = start().await;
    let r = post(&emu, BATCH_CREATE, json!({ "app_id": APP, "entry_id": ALL, "data_list": rows(3) })).await;
    assert_eq!(r.status, 200);
    snap!("jdy_batch_create", r.body);
    let created: Vec<String> =
        r.body["success_ids"].as_array().map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect()).unwrap_or_default();
    let listed = post(&emu, LIST, json!({ "app_id": APP, "entry_id": ALL })).await;
    let listed: Vec<String> =
        listed.body["data"].as_array().map(|a| a.iter().filter_map(|d| d["_id"].as_str().map(str::to_owned)).collect()).unwrap_or_default();
    assert_eq!(listed, created);
    let records = post(&emu, LIST, json!({ "app_id": APP, "entry_id": ALL })).await;
    let serials: Vec<Value> =
        records.body["data"].as_array().map(|a| a.iter().map(|d| d["_widget_1600000000020"].clone()).collect()).unwrap_or_default();
    assert_eq!(serials, vec![json!("NO001"), json!("NO002"), json!("NO003")], "serial numbers generated in order");
}

#[tokio::test]
async fn batch_create_limits_and_errors() {
    let emu = start().await;
    let r = post(&emu, BATCH_CREATE, json!({ "app_id": APP, "entry_id": ALL, "data_list": rows(101) })).await;
    assert_eq!(r.body, json!({ "code": 17024, "msg": "单次批量创建数量超出限制" }));
    assert_jdy_error(&post(&emu, BATCH_CREATE, json!({ "app_id": APP, "entry_id": ALL, "data_list": [] })).await, 1);
    assert_jdy_error(&post(&emu, BATCH_CREATE, json!({ "app_id": APP, "entry_id": ALL })).await, 1);
    assert_jdy_error(&post(&emu, BATCH_CREATE, json!({ "app_id": APP, "entry_id": ALL, "data_list": {} })).await, 3005);
    assert_jdy_error(&post(&emu, BATCH_CREATE, json!({ "app_id": APP, "entry_id": ALL, "data_list": [1] })).await, 3005);
    // All or nothing: one bad member fails the whole batch.
    let mut list = rows(3);
    list[2] = json!({ "_widget_1600000000015": { "value": "ghost" } });
    assert_jdy_error(&post(&emu, BATCH_CREATE, json!({ "app_id": APP, "entry_id": ALL, "data_list": list })).await, 1010);
    assert_eq!(count(&emu).await, 0);
    let r = post(&emu, BATCH_CREATE, json!({ "app_id": APP, "entry_id": ALL, "data_list": rows(100) })).await;
    assert_eq!(r.body["success_count"], 100);
}

#[tokio::test]
async fn transaction_id_makes_retries_idempotent_for_an_hour() {
    let emu = start().await;
    let body = json!({ "app_id": APP, "entry_id": ALL, "data_list": rows(2), "transaction_id": "3f1c9a6e-2b7d-4c1e-9a0b-5d6e7f809a1b" });
    let first = post(&emu, BATCH_CREATE, body.clone()).await;
    assert_eq!(first.body["success_count"], 2);
    let retry = post(&emu, BATCH_CREATE, body.clone()).await;
    assert_eq!(retry.body, json!({ "status": "success", "success_count": 2, "success_ids": [] }));
    assert_eq!(count(&emu).await, 2, "the retry created nothing");
    // The same id on another form is a conflict.
    let other = post(
        &emu,
        BATCH_CREATE,
        json!({ "app_id": APP, "entry_id": FLOW, "data_list": rows(1), "transaction_id": "3f1c9a6e-2b7d-4c1e-9a0b-5d6e7f809a1b" }),
    )
    .await;
    assert_jdy_error(&other, 17026);
    // After an hour the id starts a new batch.
    client().post(format!("{}/__emu/clock", emu.base_url())).body(r#"{"advance":"61m"}"#).send().await.expect("clock");
    let later = post(&emu, BATCH_CREATE, body).await;
    assert_eq!(later.body["success_count"], 2);
    assert_eq!(count(&emu).await, 4);
    assert_jdy_error(
        &post(&emu, BATCH_CREATE, json!({ "app_id": APP, "entry_id": ALL, "data_list": rows(1), "transaction_id": "${uuid}" })).await,
        17025,
    );
}

#[tokio::test]
async fn batch_update_sets_the_same_values_and_skips_unknown_ids() {
    let emu = start().await;
    let created = post(&emu, BATCH_CREATE, json!({ "app_id": APP, "entry_id": ALL, "data_list": rows(3) })).await;
    let mut ids: Vec<Value> = created.body["success_ids"].as_array().cloned().unwrap_or_default();
    ids.push(json!("ffffffffffffffffffffffff"));
    let r = post(
        &emu,
        BATCH_UPDATE,
        json!({ "app_id": APP, "entry_id": ALL, "data_ids": ids, "data": { "_widget_1600000000001": { "value": "统一" } } }),
    )
    .await;
    assert_eq!(r.body, json!({ "status": "success", "success_count": 3 }));
    let listed = post(&emu, LIST, json!({ "app_id": APP, "entry_id": ALL })).await;
    for rec in listed.body["data"].as_array().cloned().unwrap_or_default() {
        assert_eq!(rec["_widget_1600000000001"], "统一");
        assert_ne!(rec["_widget_1600000000003"], Value::Null, "other fields kept");
    }
}

#[tokio::test]
async fn batch_update_errors() {
    let emu = start().await;
    let too_many: Vec<String> = (0..101).map(|i| format!("{i:024x}")).collect();
    let r = post(&emu, BATCH_UPDATE, json!({ "app_id": APP, "entry_id": ALL, "data_ids": too_many, "data": {} })).await;
    assert_eq!(r.body, json!({ "code": 17023, "msg": "单次批量修改数量超出限制" }));
    let subform = post(
        &emu,
        BATCH_UPDATE,
        json!({ "app_id": APP, "entry_id": ALL, "data_ids": ["x"], "data": { "_widget_1600000000013": { "value": [] } } }),
    )
    .await;
    assert_jdy_error(&subform, 17032);
    assert_jdy_error(&post(&emu, BATCH_UPDATE, json!({ "app_id": APP, "entry_id": ALL, "data_ids": [], "data": {} })).await, 1);
    assert_jdy_error(&post(&emu, BATCH_UPDATE, json!({ "app_id": APP, "entry_id": ALL, "data_ids": [1], "data": {} })).await, 3005);
    assert_jdy_error(&post(&emu, BATCH_UPDATE, json!({ "app_id": APP, "entry_id": ALL, "data_ids": ["x"] })).await, 1);
}

#[tokio::test]
async fn batch_delete_counts_what_it_removed() {
    let emu = start().await;
    let created = post(&emu, BATCH_CREATE, json!({ "app_id": APP, "entry_id": ALL, "data_list": rows(3) })).await;
    let mut ids: Vec<Value> = created.body["success_ids"].as_array().cloned().unwrap_or_default();
    ids.truncate(2);
    ids.push(json!("ffffffffffffffffffffffff"));
    let r = post(&emu, BATCH_DELETE, json!({ "app_id": APP, "entry_id": ALL, "data_ids": ids })).await;
    assert_eq!(r.body, json!({ "status": "success", "success_count": 2 }));
    assert_eq!(count(&emu).await, 1);
    let too_many: Vec<String> = (0..101).map(|i| format!("{i:024x}")).collect();
    let r = post(&emu, BATCH_DELETE, json!({ "app_id": APP, "entry_id": ALL, "data_ids": too_many })).await;
    assert_eq!(r.body, json!({ "code": 17033, "msg": "批量删除数据超出数量限制" }));
}
