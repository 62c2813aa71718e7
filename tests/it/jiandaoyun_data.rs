//! Single-record routes: data/create, get, update, delete — every widget type's write → read shape.

use crate::common;

use common::*;
use serde_json::{json, Value};

const CREATE: &str = "/api/v5/app/entry/data/create";
const GET: &str = "/api/v5/app/entry/data/get";
const UPDATE: &str = "/api/v5/app/entry/data/update";
const DELETE: &str = "/api/v5/app/entry/data/delete";

fn all_types_data() -> Value {
    json!({
        "_widget_1600000000001": { "value": "简道云" },
        "_widget_1600000000002": { "value": "第一行\n第二行" },
        "_widget_1600000000003": { "value": 100 },
        "_widget_1600000000004": { "value": "2018-01-01T10:10:10.000Z" },
        "_widget_1600000000005": { "value": "一" },
        "_widget_1600000000006": { "value": ["一", "三"] },
        "_widget_1600000000007": { "value": "下拉值" },
        "_widget_1600000000008": { "value": ["甲", "乙"] },
        "_widget_1600000000009": { "value": { "province": "江苏省", "city": "无锡市", "district": "梁溪区", "detail": "清扬路138号" } },
        "_widget_1600000000010": { "value": { "province": "江苏省", "city": "无锡市", "district": "梁溪区", "detail": "茂业天地", "lnglatXY": [120.31237, 31.49099] } },
        "_widget_1600000000013": { "value": [
            { "_widget_1600000000101": { "value": "子表单数据1" }, "_widget_1600000000102": { "value": 1001 } },
            { "_widget_1600000000101": { "value": "子表单数据2" }, "_widget_1600000000102": { "value": 1002 } }
        ] },
        "_widget_1600000000014": { "value": "67221b4fac0a62ac8f43a1c3" },
        "_widget_1600000000015": { "value": "xiaojian" },
        "_widget_1600000000016": { "value": ["xiaojian", "dao"] },
        "_widget_1600000000017": { "value": 2 },
        "_widget_1600000000018": { "value": [2, 3] },
        "_widget_1600000000019": { "value": { "phone": "15852540044" } },
        "_widget_1600000000021": { "value": "<p>Hello</p>" },
        "order_no": { "value": "PO-1" }
    })
}

async fn create(emu: &lowcode_emu::Emulator, data: Value) -> Reply {
    post(emu, CREATE, json!({ "app_id": APP, "entry_id": ALL, "data": data })).await
}

#[tokio::test]
async fn create_converts_every_widget_type_and_get_reads_the_same_record() {
    let emu = start().await;
    let r = create(&emu, all_types_data()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    snap!("jdy_create_all_types", r.body);
    let rec = &r.body["data"];
    let id = rec["_id"].as_str().expect("id");
    assert_eq!(id.len(), 24);
    assert!(id.chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(rec["_widget_1600000000020"], "NO001", "serial number generated on submit");
    let got = post(&emu, GET, json!({ "app_id": APP, "entry_id": ALL, "data_id": id })).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body, r.body);
    // The next record gets the next serial number and a larger id.
    let r2 = create(&emu, json!({})).await;
    assert_eq!(r2.body["data"]["_widget_1600000000020"], "NO002");
    assert!(r2.body["data"]["_id"].as_str() > Some(id));
    snap!("jdy_create_empty_record", r2.body);
}

#[tokio::test]
async fn datetime_accepts_the_documented_forms() {
    let emu = start().await;
    for (given, expected) in [
        (json!("2018-01-01T10:10:10.000Z"), "2018-01-01T10:10:10.000Z"),
        (json!("2018-01-01T18:10:10+08:00"), "2018-01-01T10:10:10.000Z"),
        (json!("2018-01-01 18:10:10"), "2018-01-01T10:10:10.000Z"),
        (json!("2018-01-02"), "2018-01-01T16:00:00.000Z"),
        (json!(1654876800000i64), "2022-06-10T16:00:00.000Z"),
    ] {
        let r = create(&emu, json!({ "_widget_1600000000004": { "value": given } })).await;
        assert_eq!(r.body["data"]["_widget_1600000000004"], expected, "{given}");
    }
    // Second timestamps and slashed dates are not accepted: stored empty (the documented silent behaviour).
    for given in [json!(1654876800), json!("2018/01/01"), json!(true)] {
        let r = create(&emu, json!({ "_widget_1600000000004": { "value": given } })).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.body["data"]["_widget_1600000000004"], Value::Null, "{given}");
    }
}

#[tokio::test]
async fn values_that_do_not_fit_are_stored_empty_by_default() {
    let emu = start().await;
    let r = create(
        &emu,
        json!({
            "_widget_1600000000003": { "value": "not a number" },
            "_widget_1600000000006": { "value": { "x": 1 } },
            "_widget_1600000000001": "forgot the value wrapper",
            "_widget_1600000000009": { "value": 7 },
            "_widget_9999999999999": { "value": "unknown field" },
        }),
    )
    .await;
    assert_eq!(r.status, 200);
    let d = &r.body["data"];
    assert_eq!(d["_widget_1600000000003"], Value::Null);
    assert_eq!(d["_widget_1600000000006"], json!([]));
    assert_eq!(d["_widget_1600000000001"], "");
    assert_eq!(d["_widget_1600000000009"], Value::Null);
    assert!(d.get("_widget_9999999999999").is_none());
    // Lenient coercions a client may rely on.
    let r = create(&emu, json!({ "_widget_1600000000003": { "value": "42.5" }, "_widget_1600000000001": { "value": 12 }, "_widget_1600000000006": { "value": "一" } })).await;
    assert_eq!(r.body["data"]["_widget_1600000000003"], 42.5);
    assert_eq!(r.body["data"]["_widget_1600000000001"], "12");
    assert_eq!(r.body["data"]["_widget_1600000000006"], json!(["一"]));
}

#[tokio::test]
async fn strict_values_mode_rejects_with_4000_and_names_the_field() {
    let emu = start_with(&FIXTURE.replace("default_user = \"xiaojian\"", "default_user = \"xiaojian\"\nstrict_values = true")).await;
    let r = create(&emu, json!({ "_widget_1600000000003": { "value": "abc" } })).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["code"], 4000);
    let msg = r.body["msg"].as_str().unwrap_or_default();
    assert!(msg.starts_with("数据提交失败") && msg.contains("_widget_1600000000003"), "{msg}");
    let r = create(&emu, json!({ "_widget_0000000000000": { "value": "x" } })).await;
    assert_eq!(r.body["code"], 4000);
}

#[tokio::test]
async fn unknown_members_departments_and_upload_keys_are_errors() {
    let emu = start().await;
    let r = create(&emu, json!({ "_widget_1600000000015": { "value": "ghost" } })).await;
    assert_jdy_error(&r, 1010);
    assert_eq!(r.body["msg"], "用户不存在");
    assert_eq!(r.headers.get("x-emu-error-detail").and_then(|v| v.to_str().ok()), Some("unknown member ghost"));
    assert_jdy_error(&create(&emu, json!({ "_widget_1600000000016": { "value": ["dao", "ghost"] } })).await, 1010);
    assert_jdy_error(&create(&emu, json!({ "_widget_1600000000017": { "value": 99 } })).await, 6002);
    assert_jdy_error(&create(&emu, json!({ "_widget_1600000000011": { "value": ["6b559cf1-b16c-43bd-a211-8fa8fdeae2ef"] } })).await, 17027);
    // Nothing was stored by the failed writes.
    let list = post(&emu, "/api/v5/app/entry/data/list", json!({ "app_id": APP, "entry_id": ALL })).await;
    assert_eq!(list.body["data"], json!([]));
}

#[tokio::test]
async fn data_creator_sets_creator_and_must_exist() {
    let emu = start().await;
    let r = post(&emu, CREATE, json!({ "app_id": APP, "entry_id": ALL, "data": {}, "data_creator": "dao" })).await;
    assert_eq!(r.body["data"]["creator"], json!({ "name": "小道", "username": "dao", "status": 1, "type": 0, "departments": [3] }));
    let r = post(&emu, CREATE, json!({ "app_id": APP, "entry_id": ALL, "data": {} })).await;
    assert_eq!(r.body["data"]["creator"]["username"], "xiaojian", "default_user is the default creator");
    assert_jdy_error(&post(&emu, CREATE, json!({ "app_id": APP, "entry_id": ALL, "data": {}, "data_creator": "ghost" })).await, 1010);
}

#[tokio::test]
async fn create_parameter_errors() {
    let emu = start().await;
    let cases = [
        (json!({ "app_id": APP, "entry_id": ALL }), 1),
        (json!({ "app_id": APP, "entry_id": ALL, "data": [] }), 3005),
        (json!({ "app_id": APP, "entry_id": ALL, "data": {}, "is_start_workflow": "yes" }), 3005),
        (json!({ "app_id": APP, "entry_id": ALL, "data": {}, "is_start_trigger": 1 }), 3005),
        (json!({ "app_id": APP, "entry_id": ALL, "data": {}, "transaction_id": "abc-${id}" }), 17025),
        (json!({ "app_id": APP, "entry_id": ALL, "data": {}, "transaction_id": "abc-$(id)" }), 17025),
        (json!({ "entry_id": ALL, "data": {} }), 1),
        (json!({ "app_id": "ffffffffffffffffffffffff", "entry_id": ALL, "data": {} }), 2004),
        (json!({ "app_id": APP, "entry_id": "ffffffffffffffffffffffff", "data": {} }), 3000),
    ];
    for (body, code) in cases {
        let r = post(&emu, CREATE, body.clone()).await;
        assert_eq!((r.status, r.body["code"].clone()), (400, json!(code)), "{body}");
    }
    let ok = post(&emu, CREATE, json!({ "app_id": APP, "entry_id": ALL, "data": {}, "transaction_id": "87cd7d71-c6df-4281-9927-469094395677", "is_start_trigger": true })).await;
    assert_eq!(ok.status, 200);
}

#[tokio::test]
async fn workflow_forms_carry_flow_state() {
    let emu = start().await;
    let started = post(&emu, CREATE, json!({ "app_id": APP, "entry_id": FLOW, "data": {}, "is_start_workflow": true })).await;
    assert_eq!(started.body["data"]["flowState"], 0);
    let plain = post(&emu, CREATE, json!({ "app_id": APP, "entry_id": FLOW, "data": {} })).await;
    assert_eq!(plain.body["data"]["flowState"], 1);
    // Non-workflow forms have no flowState, and is_start_workflow is ignored there.
    let other = post(&emu, CREATE, json!({ "app_id": APP, "entry_id": ALL, "data": {}, "is_start_workflow": true })).await;
    assert!(other.body["data"].get("flowState").is_none());
}

#[tokio::test]
async fn get_errors() {
    let emu = start().await;
    assert_jdy_error(&post(&emu, GET, json!({ "app_id": APP, "entry_id": ALL })).await, 1);
    assert_jdy_error(&post(&emu, GET, json!({ "app_id": APP, "entry_id": ALL, "data_id": "ffffffffffffffffffffffff" })).await, 4001);
    assert_jdy_error(&post(&emu, GET, json!({ "app_id": APP, "entry_id": ALL, "data_id": 12 })).await, 3005);
}

#[tokio::test]
async fn update_changes_only_given_fields_and_keeps_subform_row_ids() {
    let emu = start().await;
    let created = create(&emu, all_types_data()).await.body["data"].clone();
    let id = created["_id"].as_str().expect("id").to_owned();
    let rows = created["_widget_1600000000013"].as_array().cloned().unwrap_or_default();
    let kept_row = rows[0]["_id"].as_str().expect("row id").to_owned();
    client().post(format!("{}/__emu/clock", emu.base_url())).body(r#"{"advance":"90s"}"#).send().await.expect("clock");
    let r = post(
        &emu,
        UPDATE,
        json!({ "app_id": APP, "entry_id": ALL, "data_id": id, "data": {
            "_widget_1600000000003": { "value": 250 },
            "_widget_1600000000013": { "value": [
                { "_id": { "value": kept_row }, "_widget_1600000000101": { "value": "改过的第一行" } },
                { "_widget_1600000000101": { "value": "新的一行" }, "_widget_1600000000102": { "value": 7 } },
                { "_id": { "value": "ffffffffffffffffffffffff" }, "_widget_1600000000101": { "value": "错误的行 id" } }
            ] }
        } }),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let d = &r.body["data"];
    assert_eq!(d["_widget_1600000000003"], 250);
    assert_eq!(d["_widget_1600000000001"], "简道云", "fields not sent keep their value");
    assert_eq!(d["createTime"], created["createTime"]);
    assert_eq!(d["updateTime"], "2026-03-01T08:01:30.000Z");
    let new_rows = d["_widget_1600000000013"].as_array().cloned().unwrap_or_default();
    assert_eq!(new_rows.len(), 3, "the subform is replaced as a whole");
    assert_eq!(new_rows[0], json!({ "_id": kept_row, "_widget_1600000000101": "改过的第一行" }), "omitted sub-fields disappear");
    assert_ne!(new_rows[1]["_id"], rows[1]["_id"]);
    assert_ne!(new_rows[2]["_id"], "ffffffffffffffffffffffff", "an unknown row id gets a fresh id");
    snap!("jdy_update_subform", r.body);
    let got = post(&emu, GET, json!({ "app_id": APP, "entry_id": ALL, "data_id": id })).await;
    assert_eq!(got.body, r.body);
}

#[tokio::test]
async fn update_errors() {
    let emu = start().await;
    let id = create(&emu, json!({})).await.body["data"]["_id"].clone();
    let cases = [
        (json!({ "app_id": APP, "entry_id": ALL, "data": {} }), 1),
        (json!({ "app_id": APP, "entry_id": ALL, "data_id": id }), 1),
        (json!({ "app_id": APP, "entry_id": ALL, "data_id": "ffffffffffffffffffffffff", "data": {} }), 4001),
        (json!({ "app_id": APP, "entry_id": ALL, "data_id": id, "data": { "_widget_1600000000015": { "value": "ghost" } } }), 1010),
        (json!({ "app_id": APP, "entry_id": ALL, "data_id": id, "data": {}, "transaction_id": "${t}" }), 17025),
    ];
    for (body, code) in cases {
        assert_jdy_error(&post(&emu, UPDATE, body).await, code);
    }
}

#[tokio::test]
async fn delete_removes_the_record() {
    let emu = start().await;
    let id = create(&emu, json!({ "_widget_1600000000001": { "value": "x" } })).await.body["data"]["_id"].clone();
    let r = post(&emu, DELETE, json!({ "app_id": APP, "entry_id": ALL, "data_id": id })).await;
    assert_eq!((r.status, r.body.clone()), (200, json!({ "status": "success" })));
    assert_jdy_error(&post(&emu, GET, json!({ "app_id": APP, "entry_id": ALL, "data_id": id })).await, 4001);
    assert_jdy_error(&post(&emu, DELETE, json!({ "app_id": APP, "entry_id": ALL, "data_id": id })).await, 4001);
    assert_jdy_error(&post(&emu, DELETE, json!({ "app_id": APP, "entry_id": ALL })).await, 1);
}

#[tokio::test]
async fn seeded_records_read_back_in_read_shape() {
    let emu = start().await;
    let r = post(&emu, "/api/v5/app/entry/data/list", json!({ "app_id": APP, "entry_id": FLOW })).await;
    assert_eq!(r.status, 200);
    snap!("jdy_seeded_workflow_records", r.body);
}
