//! Legacy v1–v4 data routes: ids in the path, version-specific subform row ids.

use crate::common;

use common::*;
use serde_json::{json, Value};

fn subform_value() -> Value {
    json!({ "_widget_1600000000013": { "value": [{ "_widget_1600000000101": { "value": "行" } }] } })
}

fn row_has_id(r: &Reply) -> bool {
    r.body["data"]["_widget_1600000000013"][0].get("_id").is_some()
}

#[tokio::test]
async fn legacy_create_versions_differ_in_subform_row_ids() {
    let emu = start().await;
    for (version, has_id) in [(1, false), (2, false), (3, true), (4, true)] {
        let r = post(&emu, &format!("/api/v{version}/app/{APP}/entry/{ALL}/data_create"), json!({ "data": subform_value() })).await;
        assert_eq!(r.status, 200, "v{version}: {}", r.body);
        assert_eq!(row_has_id(&r), has_id, "v{version}");
    }
}

#[tokio::test]
async fn legacy_reads_get_and_list() {
    let emu = start().await;
    let created = post(&emu, "/api/v5/app/entry/data/create", json!({ "app_id": APP, "entry_id": ALL, "data": subform_value() })).await;
    let id = created.body["data"]["_id"].clone();
    let v1 = post(&emu, &format!("/api/v1/app/{APP}/entry/{ALL}/data_retrieve"), json!({ "data_id": id })).await;
    assert_eq!(v1.status, 200);
    assert!(!row_has_id(&v1), "v1 predates subform row ids");
    for version in [2, 4] {
        let r = post(&emu, &format!("/api/v{version}/app/{APP}/entry/{ALL}/data_retrieve"), json!({ "data_id": id })).await;
        assert_eq!(r.body, created.body, "v{version}");
    }
    let list = post(&emu, &format!("/api/v1/app/{APP}/entry/{ALL}/data"), json!({ "limit": 5 })).await;
    assert_eq!(list.body["data"][0]["_id"], id);
    assert!(list.body["data"][0]["_widget_1600000000013"][0].get("_id").is_none());
    let list2 = post(&emu, &format!("/api/v2/app/{APP}/entry/{ALL}/data"), json!({ "fields": ["_widget_1600000000013"] })).await;
    assert!(list2.body["data"][0]["_widget_1600000000013"][0].get("_id").is_some());
    // Path ids win, and unknown ids in the path give the usual codes.
    assert_jdy_error(
        &post(&emu, &format!("/api/v1/app/{APP}/entry/ffffffffffffffffffffffff/data_retrieve"), json!({ "data_id": id })).await,
        3000,
    );
    assert_jdy_error(&post(&emu, &format!("/api/v1/app/ffffffffffffffffffffffff/entry/{ALL}/data"), json!({})).await, 2004);
}

#[tokio::test]
async fn legacy_update_delete_and_batches() {
    let emu = start().await;
    let base = format!("/api/v1/app/{APP}/entry/{ALL}");
    let r = post(
        &emu,
        &format!("{base}/data_batch_create"),
        json!({ "data_list": [{ "_widget_1600000000001": { "value": "a" } }, { "_widget_1600000000001": { "value": "b" } }] }),
    )
    .await;
    assert_eq!(r.body["success_count"], 2);
    let ids = r.body["success_ids"].clone();
    let u = post(
        &emu,
        &format!("/api/v4/app/{APP}/entry/{ALL}/data_update"),
        json!({ "data_id": ids[0], "data": { "_widget_1600000000001": { "value": "a2" } } }),
    )
    .await;
    assert_eq!(u.body["data"]["_widget_1600000000001"], "a2");
    let bu =
        post(&emu, &format!("{base}/data_batch_update"), json!({ "data_ids": ids, "data": { "_widget_1600000000003": { "value": 9 } } }))
            .await;
    assert_eq!(bu.body["success_count"], 2);
    let d = post(&emu, &format!("{base}/data_delete"), json!({ "data_id": ids[0] })).await;
    assert_eq!(d.body, json!({ "status": "success" }));
    let bd = post(&emu, &format!("{base}/data_batch_delete"), json!({ "data_ids": ids })).await;
    assert_eq!(bd.body["success_count"], 1);
}
