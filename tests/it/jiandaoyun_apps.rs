//! app/list, app/entry/list, app/entry/widget/list and their legacy routes.

use crate::common;

use common::*;
use serde_json::json;

#[tokio::test]
async fn app_list_pages_with_skip_and_limit() {
    let emu = start().await;
    let r = post(&emu, "/api/v5/app/list", json!({})).await;
    assert_eq!(r.status, 200);
    snap!("jdy_app_list", r.body);
    let r = post(&emu, "/api/v5/app/list", json!({ "skip": 1, "limit": 1 })).await;
    assert_eq!(r.body, json!({ "apps": [{ "name": "订单", "app_id": APP2 }] }));
    let r = post(&emu, "/api/v5/app/list", json!({ "skip": 5 })).await;
    assert_eq!(r.body, json!({ "apps": [] }));
    // The official demo sends `limit: 0`: it lists as the default does.
    let all = post(&emu, "/api/v5/app/list", json!({})).await;
    assert_eq!(post(&emu, "/api/v5/app/list", json!({ "limit": 0 })).await.body, all.body);
    for bad in [json!({ "limit": -1 }), json!({ "limit": 101 }), json!({ "skip": -1 }), json!({ "limit": "10" }), json!({ "limit": 1.5 })] {
        assert_jdy_error(&post(&emu, "/api/v5/app/list", bad).await, 3005);
    }
}

#[tokio::test]
async fn entry_list_names_the_forms_of_an_app() {
    let emu = start().await;
    let r = post(&emu, "/api/v5/app/entry/list", json!({ "app_id": APP })).await;
    assert_eq!(r.status, 200);
    snap!("jdy_entry_list", r.body);
    let r = post(&emu, "/api/v5/app/entry/list", json!({ "app_id": APP, "skip": 1, "limit": 1 })).await;
    assert_eq!(r.body["forms"].as_array().map(Vec::len), Some(1));
    assert_eq!(r.body["forms"][0]["entry_id"], FLOW);
    let all = post(&emu, "/api/v5/app/entry/list", json!({ "app_id": APP })).await;
    assert_eq!(post(&emu, "/api/v5/app/entry/list", json!({ "app_id": APP, "limit": 0 })).await.body, all.body);
    assert_jdy_error(&post(&emu, "/api/v5/app/entry/list", json!({})).await, 1);
    assert_jdy_error(&post(&emu, "/api/v5/app/entry/list", json!({ "app_id": 5 })).await, 3005);
    assert_jdy_error(&post(&emu, "/api/v5/app/entry/list", json!({ "app_id": "ffffffffffffffffffffffff" })).await, 2004);
}

#[tokio::test]
async fn widget_list_has_subform_items_aliases_sys_widgets_and_modify_time() {
    let emu = start().await;
    let r = post(&emu, "/api/v5/app/entry/widget/list", json!({ "app_id": APP, "entry_id": ALL })).await;
    assert_eq!(r.status, 200);
    snap!("jdy_widget_list_all_types", r.body);
    let alias = r.body["widgets"].as_array().and_then(|w| w.iter().find(|w| w["label"] == "别名字段")).cloned();
    assert_eq!(alias, Some(json!({ "name": "order_no", "widgetName": "_widget_1600000000023", "label": "别名字段", "type": "text" })));

    let flow = post(&emu, "/api/v5/app/entry/widget/list", json!({ "app_id": APP, "entry_id": FLOW })).await;
    assert_eq!(flow.body["sysWidgets"][0], json!({ "name": "flowState" }));
    assert_eq!(flow.body["dataModifyTime"], "2026-03-01T08:00:00.000Z");

    // A write moves dataModifyTime to the (frozen, then advanced) clock.
    client().post(format!("{}/__emu/clock", emu.base_url())).body(r#"{"advance":"2h"}"#).send().await.expect("clock");
    let created = post(&emu, "/api/v5/app/entry/data/create", json!({ "app_id": APP, "entry_id": FLOW, "data": {} })).await;
    assert_eq!(created.status, 200);
    let flow = post(&emu, "/api/v5/app/entry/widget/list", json!({ "app_id": APP, "entry_id": FLOW })).await;
    assert_eq!(flow.body["dataModifyTime"], "2026-03-01T10:00:00.000Z");
}

#[tokio::test]
async fn widget_list_errors() {
    let emu = start().await;
    assert_jdy_error(&post(&emu, "/api/v5/app/entry/widget/list", json!({ "app_id": APP })).await, 1);
    assert_jdy_error(
        &post(&emu, "/api/v5/app/entry/widget/list", json!({ "app_id": APP, "entry_id": "ffffffffffffffffffffffff" })).await,
        3000,
    );
    // A form of another app is not found under this app.
    assert_jdy_error(&post(&emu, "/api/v5/app/entry/widget/list", json!({ "app_id": APP, "entry_id": ORDERS })).await, 3000);
    assert_jdy_error(&post(&emu, "/api/v5/app/entry/widget/list", json!({ "app_id": "nope", "entry_id": ALL })).await, 2004);
}

#[tokio::test]
async fn legacy_app_form_and_widget_routes() {
    let emu = start().await;
    let v5 = post(&emu, "/api/v5/app/list", json!({})).await;
    let v1 = post(&emu, "/api/v1/app/retrieve_all", json!({})).await;
    assert_eq!(v1.body, v5.body);
    let forms = post(&emu, &format!("/api/v1/app/{APP}/entry_retrieve"), json!({})).await;
    assert_eq!(forms.body["forms"].as_array().map(Vec::len), Some(2));
    let w1 = post(&emu, &format!("/api/v1/app/{APP}/entry/{FLOW}/widgets"), json!({})).await;
    assert_eq!(w1.status, 200);
    assert!(w1.body.get("sysWidgets").is_none() && w1.body.get("dataModifyTime").is_none());
    let w2 = post(&emu, &format!("/api/v2/app/{APP}/entry/{FLOW}/widgets"), json!({})).await;
    assert!(w2.body.get("sysWidgets").is_some() && w2.body.get("dataModifyTime").is_some());
    assert_jdy_error(&post(&emu, &format!("/api/v1/app/{APP}/entry/ffffffffffffffffffffffff/widgets"), json!({})).await, 3000);
}
