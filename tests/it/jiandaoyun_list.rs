//! data/list: cursor paging, projection and every filter method on every field type.

use crate::common;

use common::*;
use serde_json::{json, Value};

const LIST: &str = "/api/v5/app/entry/data/list";
const CREATE: &str = "/api/v5/app/entry/data/create";

fn ids(r: &Reply) -> Vec<String> {
    r.body["data"].as_array().map(|a| a.iter().filter_map(|d| d["_id"].as_str().map(str::to_owned)).collect()).unwrap_or_default()
}

#[tokio::test]
async fn default_limit_is_10_and_cursor_pages_cover_everything_once_in_id_order() {
    let emu = start().await;
    let first = post(&emu, LIST, json!({ "app_id": APP2, "entry_id": ORDERS })).await;
    assert_eq!(first.status, 200);
    assert_eq!(ids(&first).len(), 10);
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    let mut sizes = Vec::new();
    loop {
        let mut body = json!({ "app_id": APP2, "entry_id": ORDERS, "limit": 100 });
        if let Some(c) = &cursor {
            body["data_id"] = json!(c);
        }
        let page = ids(&post(&emu, LIST, body).await);
        sizes.push(page.len());
        if page.is_empty() {
            break;
        }
        cursor = page.last().cloned();
        all.extend(page);
    }
    assert_eq!(sizes, vec![100, 100, 30, 0], "the documented 230-record example");
    let mut sorted = all.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(all, sorted, "ascending _id, no repeats");
    assert_eq!(all.len(), 230);
}

#[tokio::test]
async fn cursor_excludes_itself_and_unknown_cursors_act_as_a_position() {
    let emu = start().await;
    let page = ids(&post(&emu, LIST, json!({ "app_id": APP2, "entry_id": ORDERS, "limit": 3 })).await);
    let next = ids(&post(&emu, LIST, json!({ "app_id": APP2, "entry_id": ORDERS, "limit": 2, "data_id": page[0] })).await);
    assert_eq!(next, page[1..3].to_vec());
    // A cursor that is not a record id still means "after this id".
    let before_all =
        ids(&post(&emu, LIST, json!({ "app_id": APP2, "entry_id": ORDERS, "limit": 1, "data_id": "000000000000000000000000" })).await);
    assert_eq!(before_all, page[..1].to_vec());
    let after_all = post(&emu, LIST, json!({ "app_id": APP2, "entry_id": ORDERS, "data_id": "ffffffffffffffffffffffff" })).await;
    assert_eq!(after_all.body, json!({ "data": [] }));
}

#[tokio::test]
async fn limit_and_parameter_errors() {
    let emu = start().await;
    for (body, code) in [
        (json!({ "app_id": APP2, "entry_id": ORDERS, "limit": 0 }), 3005),
        (json!({ "app_id": APP2, "entry_id": ORDERS, "limit": 101 }), 3005),
        (json!({ "app_id": APP2, "entry_id": ORDERS, "limit": "10" }), 3005),
        (json!({ "app_id": APP2, "entry_id": ORDERS, "fields": "x" }), 3005),
        (json!({ "app_id": APP2, "entry_id": ORDERS, "fields": [1] }), 3005),
        (json!({ "app_id": APP2, "entry_id": ORDERS, "data_id": 5 }), 3005),
        (json!({ "app_id": APP2 }), 1),
        (json!({ "app_id": APP2, "entry_id": ALL }), 3000),
    ] {
        let r = post(&emu, LIST, body.clone()).await;
        assert_eq!(r.body["code"], code, "{body}");
    }
    let r = post(&emu, LIST, json!({ "app_id": APP2, "entry_id": ORDERS, "limit": 100 })).await;
    assert_eq!(ids(&r).len(), 100);
}

#[tokio::test]
async fn fields_projection_keeps_ids_and_requested_fields_only() {
    let emu = start().await;
    let r = post(
        &emu,
        LIST,
        json!({ "app_id": APP2, "entry_id": ORDERS, "limit": 2, "fields": ["_widget_1600000002002", "_widget_1600000002004", "nope"] }),
    )
    .await;
    assert_eq!(r.status, 200);
    snap!("jdy_list_fields_projection", r.body);
    for rec in r.body["data"].as_array().cloned().unwrap_or_default() {
        let keys: Vec<&String> = rec.as_object().map(|o| o.keys().collect()).unwrap_or_default();
        assert_eq!(keys, ["_id", "appId", "entryId", "_widget_1600000002002", "_widget_1600000002004"]);
    }
}

/// A form with hand-made records so every filter result can be stated exactly.
async fn filter_fixture() -> (lowcode_emu::Emulator, Vec<String>) {
    let emu = start().await;
    let rows = [
        json!({ "_widget_1600000000001": { "value": "苹果" }, "_widget_1600000000003": { "value": 10 }, "_widget_1600000000004": { "value": "2024-11-20 09:00:00" },
                "_widget_1600000000006": { "value": ["一", "二"] }, "_widget_1600000000015": { "value": "xiaojian" }, "_widget_1600000000016": { "value": ["xiaojian", "dao"] },
                "_widget_1600000000017": { "value": 2 }, "_widget_1600000000019": { "value": { "phone": "15852540044" } }, "_widget_1600000000014": { "value": "67221b4fac0a62ac8f43a1c3" },
                "_widget_1600000000005": { "value": "一" }, "_widget_1600000000007": { "value": "甲" }, "_widget_1600000000002": { "value": "多行" } }),
        json!({ "_widget_1600000000001": { "value": "香蕉" }, "_widget_1600000000003": { "value": 20.5 }, "_widget_1600000000004": { "value": "2024-11-21T01:00:00Z" },
                "_widget_1600000000006": { "value": ["二"] }, "_widget_1600000000015": { "value": "dao" }, "_widget_1600000000016": { "value": ["dao"] },
                "_widget_1600000000017": { "value": 3 }, "_widget_1600000000019": { "value": { "phone": "13900001111" } },
                "_widget_1600000000005": { "value": "二" }, "_widget_1600000000007": { "value": "乙" } }),
        json!({ "_widget_1600000000001": { "value": "" }, "_widget_1600000000003": { "value": 30 } }),
    ];
    let mut ids = Vec::new();
    for data in rows {
        let r = post(&emu, CREATE, json!({ "app_id": APP, "entry_id": ALL, "data": data })).await;
        assert_eq!(r.status, 200, "{}", r.body);
        ids.push(r.body["data"]["_id"].as_str().unwrap_or_default().to_owned());
    }
    (emu, ids)
}

async fn filtered(emu: &lowcode_emu::Emulator, filter: Value) -> Reply {
    post(emu, LIST, json!({ "app_id": APP, "entry_id": ALL, "limit": 100, "filter": filter })).await
}

#[tokio::test]
async fn every_filter_method_on_every_field_type() {
    let (emu, id) = filter_fixture().await;
    let cond = |field: &str, method: &str, value: Option<Value>| {
        let mut c = json!({ "field": field, "method": method });
        if let Some(v) = value {
            c["value"] = v;
        }
        c
    };
    let cases: Vec<(Value, Vec<usize>)> = vec![
        // text
        (cond("_widget_1600000000001", "eq", Some(json!(["苹果"]))), vec![0]),
        (cond("_widget_1600000000001", "eq", Some(json!(["苹果", "香蕉"]))), vec![0, 1]),
        (cond("_widget_1600000000001", "ne", Some(json!(["苹果"]))), vec![1, 2]),
        (cond("_widget_1600000000001", "in", Some(json!(["香蕉", "梨"]))), vec![1]),
        (cond("_widget_1600000000001", "nin", Some(json!(["香蕉"]))), vec![0, 2]),
        (cond("_widget_1600000000001", "empty", None), vec![2]),
        (cond("_widget_1600000000001", "not_empty", None), vec![0, 1]),
        (cond("_widget_1600000000001", "like", Some(json!(["蕉"]))), vec![1]),
        // number
        (cond("_widget_1600000000003", "eq", Some(json!([20.5]))), vec![1]),
        (cond("_widget_1600000000003", "ne", Some(json!([10]))), vec![1, 2]),
        (cond("_widget_1600000000003", "range", Some(json!([10, 20.5]))), vec![0, 1]),
        (cond("_widget_1600000000003", "range", Some(json!([15, null]))), vec![1, 2]),
        (cond("_widget_1600000000003", "gt", Some(json!([10]))), vec![1, 2]),
        (cond("_widget_1600000000003", "lt", Some(json!(["20.5"]))), vec![0]),
        // datetime (date-only values cover the whole day in UTC+8)
        (cond("_widget_1600000000004", "eq", Some(json!(["2024-11-20"]))), vec![0]),
        (cond("_widget_1600000000004", "range", Some(json!(["2024-11-20", "2024-11-21"]))), vec![0, 1]),
        (cond("_widget_1600000000004", "range", Some(json!(["2024-11-21T00:00:00Z", null]))), vec![1]),
        (cond("_widget_1600000000004", "empty", None), vec![2]),
        (cond("createTime", "range", Some(json!(["2026-03-01", "2026-03-01"]))), vec![0, 1, 2]),
        // checkbox
        (cond("_widget_1600000000006", "in", Some(json!(["一", "三"]))), vec![0]),
        (cond("_widget_1600000000006", "all", Some(json!(["一", "二"]))), vec![0]),
        (cond("_widget_1600000000006", "in", Some(json!(["二"]))), vec![0, 1]),
        (cond("_widget_1600000000006", "empty", None), vec![2]),
        // members and departments
        (cond("_widget_1600000000015", "eq", Some(json!(["dao"]))), vec![1]),
        (cond("_widget_1600000000015", "nin", Some(json!(["dao"]))), vec![0, 2]),
        (cond("_widget_1600000000015", "nin", Some(json!(["dao", "ghost"]))), vec![0, 1, 2]),
        (cond("_widget_1600000000016", "all", Some(json!(["xiaojian", "dao"]))), vec![0]),
        (cond("_widget_1600000000016", "in", Some(json!(["dao"]))), vec![0, 1]),
        (cond("_widget_1600000000017", "eq", Some(json!([3]))), vec![1]),
        (cond("creator", "eq", Some(json!(["xiaojian"]))), vec![0, 1, 2]),
        // phone
        (cond("_widget_1600000000019", "like", Some(json!(["1585"]))), vec![0]),
        (cond("_widget_1600000000019", "unverified", None), vec![0, 1]),
        (cond("_widget_1600000000019", "verified", None), vec![]),
        (cond("_widget_1600000000019", "empty", None), vec![2]),
        // lookup, record id, other types
        (cond("_widget_1600000000014", "eq", Some(json!(["67221b4fac0a62ac8f43a1c3"]))), vec![0]),
        (cond("_id", "in", Some(json!([id[2], id[0]]))), vec![0, 2]),
        (cond("_widget_1600000000009", "empty", None), vec![0, 1, 2]),
    ];
    for (c, expected) in cases {
        let r = filtered(&emu, json!({ "rel": "and", "cond": [c.clone()] })).await;
        assert_eq!(r.status, 200, "{c}: {}", r.body);
        let want: Vec<String> = expected.iter().map(|i| id[*i].clone()).collect();
        assert_eq!(ids(&r), want, "{c}");
    }
}

/// One filter condition and the records (by creation index) it must return.
type Case = (Value, Vec<usize>);

/// The support table of the v5 "query multiple records" page, row by row, system fields included:
/// flowState eq/ne; date-times (createTime, updateTime too) eq/ne/range/empty/not_empty; numbers
/// eq/ne/range/empty/not_empty; text — single line, dropdown, radio group, serial number —
/// eq/ne/in/nin/empty/not_empty; phone like/verified/unverified/empty/not_empty; every other
/// field (sub-forms excepted) empty/not_empty.
#[tokio::test]
async fn the_documented_filter_table_row_by_row() {
    let (emu, id) = filter_fixture().await;
    // Record 1 is edited a day later, so updateTime tells it apart.
    let r = post(&emu, "/__emu/clock", json!({ "advance": "1d" })).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = post(
        &emu,
        "/api/v5/app/entry/data/update",
        json!({ "app_id": APP, "entry_id": ALL, "data_id": id[1], "data": { "_widget_1600000000003": { "value": 21 } } }),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let created = post(&emu, "/api/v5/app/entry/data/get", json!({ "app_id": APP, "entry_id": ALL, "data_id": id[0] })).await.body["data"]
        ["createTime"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let updated = post(&emu, "/api/v5/app/entry/data/get", json!({ "app_id": APP, "entry_id": ALL, "data_id": id[1] })).await.body["data"]
        ["updateTime"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let sn: Vec<String> = {
        let mut out = Vec::new();
        for i in &id {
            let r = post(&emu, "/api/v5/app/entry/data/get", json!({ "app_id": APP, "entry_id": ALL, "data_id": i })).await;
            out.push(r.body["data"]["_widget_1600000000020"].as_str().unwrap_or_default().to_owned());
        }
        out
    };
    assert!(sn.iter().all(|s| s.starts_with("NO")), "{sn:?}");
    let c = |field: &str, ty: &str, method: &str, value: Value| json!({ "field": field, "type": ty, "method": method, "value": value });
    let rows: Vec<(&str, Vec<Case>)> = vec![
        (
            "date-time system fields",
            vec![
                (c("createTime", "datetime", "eq", json!([created])), vec![0, 1, 2]),
                (c("createTime", "datetime", "ne", json!([created])), vec![]),
                (c("createTime", "datetime", "not_empty", json!([])), vec![0, 1, 2]),
                (c("createTime", "datetime", "empty", json!([])), vec![]),
                (c("updateTime", "datetime", "eq", json!([updated])), vec![1]),
                (c("updateTime", "datetime", "ne", json!([updated])), vec![0, 2]),
                (c("updateTime", "datetime", "range", json!([updated, null])), vec![1]),
            ],
        ),
        (
            "date-time fields",
            vec![
                (c("_widget_1600000000004", "datetime", "ne", json!(["2024-11-20"])), vec![1, 2]),
                (c("_widget_1600000000004", "datetime", "not_empty", json!([])), vec![0, 1]),
            ],
        ),
        (
            "numbers",
            vec![
                (c("_widget_1600000000003", "number", "eq", json!([21])), vec![1]),
                (c("_widget_1600000000003", "number", "range", json!([null, 21])), vec![0, 1]),
                (c("_widget_1600000000003", "number", "empty", json!([])), vec![]),
                (c("_widget_1600000000003", "number", "not_empty", json!([])), vec![0, 1, 2]),
            ],
        ),
        (
            "radio group",
            vec![
                (c("_widget_1600000000005", "radiogroup", "eq", json!(["一"])), vec![0]),
                (c("_widget_1600000000005", "radiogroup", "ne", json!(["一"])), vec![1, 2]),
                (c("_widget_1600000000005", "radiogroup", "in", json!(["一", "二"])), vec![0, 1]),
                (c("_widget_1600000000005", "radiogroup", "nin", json!(["二"])), vec![0, 2]),
                (c("_widget_1600000000005", "radiogroup", "empty", json!([])), vec![2]),
                (c("_widget_1600000000005", "radiogroup", "not_empty", json!([])), vec![0, 1]),
            ],
        ),
        (
            "dropdown",
            vec![
                (c("_widget_1600000000007", "combo", "eq", json!(["乙"])), vec![1]),
                (c("_widget_1600000000007", "combo", "ne", json!(["乙"])), vec![0, 2]),
                (c("_widget_1600000000007", "combo", "in", json!(["甲", "丙"])), vec![0]),
                (c("_widget_1600000000007", "combo", "nin", json!(["甲", "乙"])), vec![2]),
                (c("_widget_1600000000007", "combo", "empty", json!([])), vec![2]),
                (c("_widget_1600000000007", "combo", "not_empty", json!([])), vec![0, 1]),
            ],
        ),
        (
            "serial number",
            vec![
                (c("_widget_1600000000020", "sn", "eq", json!([sn[1]])), vec![1]),
                (c("_widget_1600000000020", "sn", "ne", json!([sn[1]])), vec![0, 2]),
                (c("_widget_1600000000020", "sn", "in", json!([sn[0], sn[2]])), vec![0, 2]),
                (c("_widget_1600000000020", "sn", "nin", json!([sn[0]])), vec![1, 2]),
                (c("_widget_1600000000020", "sn", "not_empty", json!([])), vec![0, 1, 2]),
                (c("_widget_1600000000020", "sn", "empty", json!([])), vec![]),
            ],
        ),
        ("phone", vec![(c("_widget_1600000000019", "phone", "not_empty", json!([])), vec![0, 1])]),
        (
            "member system fields",
            vec![
                (c("updater", "user", "eq", json!(["xiaojian"])), vec![0, 1, 2]),
                (c("creator", "user", "ne", json!(["xiaojian"])), vec![]),
            ],
        ),
        (
            "other fields: empty and not_empty",
            vec![
                (c("_widget_1600000000002", "textarea", "not_empty", json!([])), vec![0]),
                (c("_widget_1600000000008", "combocheck", "empty", json!([])), vec![0, 1, 2]),
                (c("_widget_1600000000010", "location", "empty", json!([])), vec![0, 1, 2]),
                (c("_widget_1600000000011", "image", "not_empty", json!([])), vec![]),
                (c("_widget_1600000000012", "upload", "empty", json!([])), vec![0, 1, 2]),
                (c("_widget_1600000000014", "linkdata", "not_empty", json!([])), vec![0]),
                (c("_widget_1600000000018", "deptgroup", "empty", json!([])), vec![0, 1, 2]),
                (c("_widget_1600000000021", "richtext", "empty", json!([])), vec![0, 1, 2]),
                (c("_widget_1600000000022", "signature", "empty", json!([])), vec![0, 1, 2]),
            ],
        ),
    ];
    for (row, cases) in rows {
        for (cond, expected) in cases {
            let r = filtered(&emu, json!({ "rel": "and", "cond": [cond.clone()] })).await;
            assert_eq!(r.status, 200, "{row}: {cond}: {}", r.body);
            let want: Vec<String> = expected.iter().map(|i| id[*i].clone()).collect();
            assert_eq!(ids(&r), want, "{row}: {cond}");
        }
    }
    // The table's "other fields" take nothing but empty/not_empty; sub-forms take nothing at all.
    for field in ["_widget_1600000000009", "_widget_1600000000011", "_widget_1600000000021", "_widget_1600000000022"] {
        let r = filtered(&emu, json!({ "rel": "and", "cond": [c(field, "", "eq", json!(["x"]))] })).await;
        assert_jdy_error(&r, 4815);
    }
}

#[tokio::test]
async fn rel_and_or_combine_conditions() {
    let (emu, id) = filter_fixture().await;
    let a = json!({ "field": "_widget_1600000000003", "type": "number", "method": "gt", "value": [15] });
    let b = json!({ "field": "_widget_1600000000001", "type": "text", "method": "not_empty" });
    assert_eq!(ids(&filtered(&emu, json!({ "rel": "and", "cond": [a, b] })).await), vec![id[1].clone()]);
    assert_eq!(ids(&filtered(&emu, json!({ "rel": "or", "cond": [a, b] })).await), id.clone());
    assert_eq!(ids(&filtered(&emu, json!({ "rel": "and", "cond": [] })).await), id.clone());
    // The filter applies before the limit: paging over a filter returns full pages of matches.
    let r =
        post(&emu, LIST, json!({ "app_id": APP, "entry_id": ALL, "limit": 1, "data_id": id[0], "filter": { "rel": "or", "cond": [b] } }))
            .await;
    assert_eq!(ids(&r), vec![id[1].clone()]);
}

#[tokio::test]
async fn flow_state_filter_on_workflow_forms() {
    let emu = start().await;
    let running = post(&emu, LIST, json!({ "app_id": APP, "entry_id": FLOW, "filter": { "rel": "and", "cond": [{ "field": "flowState", "type": "flowstate", "method": "eq", "value": [0] }] } })).await;
    assert_eq!(running.body["data"].as_array().map(Vec::len), Some(1));
    assert_eq!(running.body["data"][0]["_widget_1600000001001"], "病假");
    let not_running = post(&emu, LIST, json!({ "app_id": APP, "entry_id": FLOW, "filter": { "rel": "and", "cond": [{ "field": "flowState", "method": "ne", "value": [0] }] } })).await;
    assert_eq!(not_running.body["data"][0]["_widget_1600000001001"], "年假");
    // flowState exists only on workflow forms.
    let r = post(&emu, LIST, json!({ "app_id": APP, "entry_id": ALL, "filter": { "rel": "and", "cond": [{ "field": "flowState", "method": "eq", "value": [0] }] } })).await;
    assert_jdy_error(&r, 4815);
}

#[tokio::test]
async fn generated_data_filters_at_scale() {
    let emu = start().await;
    let mut seen = 0;
    let mut cursor = String::new();
    loop {
        let r = post(
            &emu,
            LIST,
            json!({ "app_id": APP2, "entry_id": ORDERS, "limit": 100, "data_id": cursor,
            "filter": { "rel": "and", "cond": [{ "field": "_widget_1600000002004", "method": "eq", "value": ["发货"] }] } }),
        )
        .await;
        let page = ids(&r);
        for rec in r.body["data"].as_array().cloned().unwrap_or_default() {
            assert_eq!(rec["_widget_1600000002004"], "发货");
        }
        if page.is_empty() {
            break;
        }
        seen += page.len();
        cursor = page.last().cloned().unwrap_or_default();
    }
    assert!(seen > 50 && seen < 100, "about a third of 230 records: {seen}");
}

/// Every record of ORDERS matching `filter` (`None`: all), paged with `limit`.
async fn every_page(emu: &lowcode_emu::Emulator, filter: Option<&Value>, limit: u32) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..500 {
        let mut body = json!({ "app_id": APP2, "entry_id": ORDERS, "limit": limit });
        if let Some(f) = filter {
            body["filter"] = f.clone();
        }
        if let Some(c) = &cursor {
            body["data_id"] = json!(c);
        }
        let r = post(emu, LIST, body).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let page = r.body["data"].as_array().cloned().unwrap_or_default();
        if page.is_empty() {
            return out;
        }
        cursor = page.last().and_then(|d| d["_id"].as_str()).map(str::to_owned);
        out.extend(page);
    }
    panic!("paging did not end");
}

/// Filtered pages answer exactly what filtering every record answers, however often they are asked
/// (a run of them is answered from an index of the field) and whatever writes come between them.
#[tokio::test]
async fn filtered_pages_equal_filtering_every_record_across_writes() {
    let emu = start().await;
    const STATE: &str = "_widget_1600000002004";
    const AMOUNT: &str = "_widget_1600000002002";
    let shipped = |cond: Value| json!({ "rel": "and", "cond": [{ "field": STATE, "method": "eq", "value": ["发货"] }, cond] });
    let filters = [
        (json!({ "rel": "and", "cond": [{ "field": STATE, "method": "eq", "value": ["发货"] }] }), None),
        (json!({ "rel": "or", "cond": [{ "field": STATE, "method": "in", "value": ["发货"] }] }), None),
        (json!({ "cond": [{ "field": STATE, "method": "eq", "value": "发货" }] }), None),
        (shipped(json!({ "field": AMOUNT, "method": "gt", "value": [500] })), Some(500.0)),
    ];
    let mut matched_before = None;
    for round in 0..4 {
        let all = every_page(&emu, None, 100).await;
        for (filter, above) in &filters {
            let expected: Vec<Value> = all
                .iter()
                .filter(|r| r[STATE] == "发货" && above.is_none_or(|a| r[AMOUNT].as_f64().is_some_and(|x| x > a)))
                .cloned()
                .collect();
            assert!(!expected.is_empty(), "round {round}: {filter}");
            for limit in [7, 100, 3] {
                assert_eq!(every_page(&emu, Some(filter), limit).await, expected, "round {round}, limit {limit}: {filter}");
            }
        }
        let matching: Vec<String> =
            all.iter().filter(|r| r[STATE] == "发货").filter_map(|r| r["_id"].as_str().map(str::to_owned)).collect();
        if let Some(before) = matched_before {
            assert_ne!(matching.len(), before, "round {round} changed what matches");
        }
        matched_before = Some(matching.len());
        match round {
            0 => {
                let data = json!({ STATE: { "value": "发货" }, AMOUNT: { "value": 900 } });
                let r = post(&emu, CREATE, json!({ "app_id": APP2, "entry_id": ORDERS, "data": data })).await;
                assert_eq!(r.status, 200, "{}", r.body);
            }
            1 => {
                let data = json!({ STATE: { "value": "完成" } });
                let r = post(
                    &emu,
                    "/api/v5/app/entry/data/update",
                    json!({ "app_id": APP2, "entry_id": ORDERS, "data_id": matching[1], "data": data }),
                )
                .await;
                assert_eq!(r.status, 200, "{}", r.body);
            }
            2 => {
                let r = post(&emu, "/api/v5/app/entry/data/delete", json!({ "app_id": APP2, "entry_id": ORDERS, "data_id": matching[0] }))
                    .await;
                assert_eq!(r.status, 200, "{}", r.body);
            }
            _ => {}
        }
    }
}

#[tokio::test]
async fn invalid_filters_get_4815() {
    let emu = start().await;
    let many: Vec<String> = (0..201).map(|i| i.to_string()).collect();
    let bad = [
        json!("text"),
        json!({ "rel": "xor", "cond": [] }),
        json!({ "rel": "and", "cond": {} }),
        json!({ "rel": "and", "cond": ["x"] }),
        json!({ "rel": "and", "cond": [{ "method": "empty" }] }),
        json!({ "rel": "and", "cond": [{ "field": "_widget_1600000000001" }] }),
        json!({ "rel": "and", "cond": [{ "field": "_widget_1600000000001", "method": "between" }] }),
        json!({ "rel": "and", "cond": [{ "field": "_widget_0000000000000", "method": "empty" }] }),
        json!({ "rel": "and", "cond": [{ "field": "_widget_1600000000013", "method": "empty" }] }),
        json!({ "rel": "and", "cond": [{ "field": "_widget_1600000000001", "method": "range", "value": ["a", "b"] }] }),
        json!({ "rel": "and", "cond": [{ "field": "_widget_1600000000003", "method": "range", "value": [1] }] }),
        json!({ "rel": "and", "cond": [{ "field": "_widget_1600000000003", "method": "eq", "value": ["abc"] }] }),
        json!({ "rel": "and", "cond": [{ "field": "_widget_1600000000003", "method": "eq" }] }),
        json!({ "rel": "and", "cond": [{ "field": "_widget_1600000000004", "method": "eq", "value": ["2024/11/20"] }] }),
        json!({ "rel": "and", "cond": [{ "field": "_widget_1600000000009", "method": "eq", "value": ["x"] }] }),
        json!({ "rel": "and", "cond": [{ "field": "_widget_1600000000006", "method": "eq", "value": ["一"] }] }),
        json!({ "rel": "and", "cond": [{ "field": "_widget_1600000000001", "method": "eq", "value": { "a": 1 } }] }),
        json!({ "rel": "and", "cond": [{ "field": "_widget_1600000000001", "method": "in", "value": many }] }),
        json!({ "rel": "and", "cond": [{ "field": "_widget_1600000000019", "method": "eq", "value": ["1"] }] }),
    ];
    for f in bad {
        let r = filtered(&emu, f.clone()).await;
        assert_jdy_error(&r, 4815);
        assert_eq!(r.body["msg"], "过滤条件设置有误", "{f}");
    }
    // 200 values are fine.
    let ok: Vec<String> = (0..200).map(|i| i.to_string()).collect();
    let r = filtered(&emu, json!({ "rel": "and", "cond": [{ "field": "_widget_1600000000001", "method": "in", "value": ok }] })).await;
    assert_eq!(r.status, 200);
}
