//! OMFlow: security-code login, create / query / push on published flows, lists, both languages.

use crate::common;

use common::*;
use lowcode_emu::Emulator;
use serde_json::{json, Value};

const FIXTURE_OM: &str = include_str!("fixtures/omflow.toml");
const SEC: &str = "fixed-security-code";

fn edit(path: &str) -> String {
    format!("/rest/flowmanage/api/omdata/edit/{path}/")
}
fn query_path(path: &str) -> String {
    format!("/rest/flowmanage/api/omdata-data-id/get/{path}/")
}

async fn call(emu: &Emulator, path: &str, body: Value, lang: Option<&str>) -> Reply {
    let mut req = client().post(format!("{}{path}", emu.base_url())).header("content-type", "application/json").body(body.to_string());
    if let Some(l) = lang {
        req = req.header("accept-language", l);
    }
    let resp = req.send().await.expect("sent");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    Reply { status, body: resp.json().await.unwrap_or(Value::Null), headers }
}

async fn create(emu: &Emulator, path: &str, formdata: Value) -> Reply {
    call(emu, &edit(path), json!({ "security": SEC, "omflow_restapi": 1, "action": "create", "formdata": formdata }), None).await
}

async fn query(emu: &Emulator, path: &str, data_no: &Value) -> Reply {
    call(emu, &query_path(path), json!({ "security": SEC, "omflow_restapi": 1, "data_no": data_no }), None).await
}

async fn push(emu: &Emulator, path: &str, data_id: &Value, formdata: Value) -> Reply {
    call(
        emu,
        &edit(path),
        json!({ "security": SEC, "omflow_restapi": 1, "action": "update", "data_id": data_id, "formdata": formdata }),
        None,
    )
    .await
}

fn stops(r: &Reply) -> Vec<(String, String)> {
    r.body["result"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|x| (x["data_id"].as_str().unwrap_or("").to_owned(), x["stop_chart_text"].as_str().unwrap_or("").to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn create_query_push_through_a_simple_flow() {
    let emu = start_with(FIXTURE_OM).await;
    let r = create(
        &emu,
        "incident",
        json!([{ "id": "FORMITM_1", "value": "印表機故障", "type": "h_title" }, { "id": "FORMITM_2", "value": "三樓印表機卡紙" }]),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, json!({ "status": "200", "message": "開單成功。", "result": "1" }));
    let q = query(&emu, "incident", &json!("1")).await;
    snap!("omflow_query_simple", q.body);
    assert_eq!(stops(&q), vec![("2".into(), "處理".into())], "data_id 1 is the start row");
    let p = push(&emu, "incident", &json!("2"), json!([{ "id": "FORMITM_3", "value": "已更換滾輪" }])).await;
    assert_eq!(p.body, json!({ "status": "200", "message": "推單成功。", "result": "" }));
    let q = query(&emu, "incident", &json!(1)).await;
    assert_eq!(q.body, json!({ "status": "200", "message": "查詢成功。", "result": [] }), "closed tickets have no open rows");
    // The same data_id again is stale: the documented failure body.
    let stale = push(&emu, "incident", &json!(2), json!([])).await;
    assert_eq!(stale.body, json!({ "status": "404", "message": "推單失敗。" }));
    let unknown = push(&emu, "incident", &json!("999"), json!([])).await;
    assert_eq!(unknown.body, json!({ "status": "404", "message": "推單失敗。" }));
    // Ticket numbers count up per flow.
    let r2 = create(&emu, "incident", json!([{ "id": "FORMITM_1", "value": "第二張" }])).await;
    assert_eq!(r2.body["result"], "2");
}

#[tokio::test]
async fn parallel_branches_have_one_data_id_each() {
    let emu = start_with(FIXTURE_OM).await;
    let r = create(&emu, "repair", json!([{ "id": "FORMITM_1", "value": "冷氣不冷" }])).await;
    let no = r.body["result"].clone();
    let q = query(&emu, "repair", &no).await;
    let mut open = stops(&q);
    open.sort_by(|a, b| a.1.cmp(&b.1));
    assert_eq!(open.len(), 2);
    let names: Vec<&str> = open.iter().map(|s| s.1.as_str()).collect();
    assert!(names.contains(&"現場維修") && names.contains(&"備料"));
    snap!("omflow_query_parallel", q.body);
    // Push the repair branch: only the parts branch stays open.
    let fix = open.iter().find(|s| s.1 == "現場維修").map(|s| json!(s.0)).expect("fix");
    let parts = open.iter().find(|s| s.1 == "備料").map(|s| json!(s.0)).expect("parts");
    assert_eq!(push(&emu, "repair", &fix, json!([{ "id": "FORMITM_2", "value": "已修復" }])).await.body["status"], "200");
    assert_eq!(stops(&query(&emu, "repair", &no).await).iter().map(|s| s.1.as_str()).collect::<Vec<_>>(), vec!["備料"]);
    // The join fires once both arrived; the ticket then waits at the closing check with a new data_id.
    assert_eq!(push(&emu, "repair", &parts, json!([])).await.body["status"], "200");
    let after = stops(&query(&emu, "repair", &no).await);
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].1, "結案確認");
    assert!(after[0].0 != fix.as_str().unwrap_or_default() && after[0].0 != parts.as_str().unwrap_or_default());
    assert_eq!(push(&emu, "repair", &json!(after[0].0), json!([])).await.body["status"], "200");
    assert_eq!(query(&emu, "repair", &no).await.body["result"], json!([]));
}

#[tokio::test]
async fn create_failures_name_the_reason() {
    let emu = start_with(FIXTURE_OM).await;
    let missing = create(&emu, "incident", json!([{ "id": "FORMITM_2", "value": "沒有標題" }])).await;
    assert_eq!(missing.body, json!({ "status": "404", "message": "開單失敗：缺少必填欄位。" }));
    let empty = create(&emu, "incident", json!([{ "id": "FORMITM_1", "value": "" }])).await;
    assert_eq!(empty.body["message"], "開單失敗：缺少必填欄位。");
    let unknown = create(&emu, "incident", json!([{ "id": "FORMITM_1", "value": "x" }, { "id": "FORMITM_9", "value": "?" }])).await;
    assert_eq!(unknown.body["message"], "開單失敗：表單沒有此欄位：FORMITM_9");
    let bad = create(&emu, "incident", json!({ "FORMITM_1": "not a list" })).await;
    assert_eq!(bad.body["message"], "開單失敗：formdata 格式錯誤。");
    let no_flow = create(&emu, "nope", json!([])).await;
    assert_eq!(no_flow.body, json!({ "status": "404", "message": "開單失敗：找不到該流程。" }));
    let disabled = create(&emu, "disabled", json!([])).await;
    assert_eq!(disabled.body["message"], "開單失敗：該流程未啟用API呼叫。");
    let no_action = call(&emu, &edit("incident"), json!({ "security": SEC, "omflow_restapi": 1 }), None).await;
    assert_eq!(no_action.body, json!({ "status": "404", "message": "缺少必要參數，請確認後重新發送請求。" }));
    let bad_action = call(&emu, &edit("incident"), json!({ "security": SEC, "omflow_restapi": 1, "action": "erase" }), None).await;
    assert_eq!(bad_action.body["message"], "請提供正確的動作，新增、編輯或刪除。");
    // Nothing was created by the failures.
    assert_eq!(create(&emu, "incident", json!([{ "id": "FORMITM_1", "value": "ok" }])).await.body["result"], "1");
}

#[tokio::test]
async fn the_rest_gate_refuses_missing_restapi_and_wrong_security() {
    let emu = start_with(FIXTURE_OM).await;
    let r = call(&emu, &edit("incident"), json!({ "security": SEC, "action": "create", "formdata": [] }), None).await;
    assert_eq!((r.status, r.body.clone()), (200, json!({ "status": "403", "message": "缺少參數：omflow_restapi" })));
    let r = call(&emu, &edit("incident"), json!({ "security": SEC, "omflow_restapi": 0, "action": "create" }), None).await;
    assert_eq!(r.body["status"], "403");
    for sec in [json!("wrong"), json!(""), Value::Null] {
        let r = call(&emu, &query_path("incident"), json!({ "security": sec, "omflow_restapi": 1, "data_no": 1 }), None).await;
        assert_eq!(r.body, json!({ "status": "403", "message": "安全碼錯誤，請確認安全碼或重新取得新的安全碼。" }));
    }
    let r = call(&emu, "/rest/flowmanage/api/nothing/here/", json!({}), None).await;
    assert_eq!(r.body, json!({ "status": "403", "message": "URL錯誤，請確認後重新發送請求。" }));
}

#[tokio::test]
async fn security_codes_come_from_basic_auth_and_expire_after_five_idle_minutes() {
    let emu = start_with(FIXTURE_OM).await;
    let login = |user: &str, pw: &str| {
        let url = format!("{}/accounts/api/security/get/", emu.base_url());
        let (user, pw) = (user.to_owned(), pw.to_owned());
        async move {
            let r = client().get(url).basic_auth(user, Some(pw)).send().await.expect("sent");
            r.json::<Value>().await.expect("json")
        }
    };
    let ok = login("admin", "admin-pw").await;
    assert_eq!((ok["status"].clone(), ok["message"].clone()), (json!(200), json!("取得成功。")));
    let code = ok["result"]["security"].as_str().expect("code").to_owned();
    assert_eq!(code.len(), 36);
    assert_eq!(login("admin@example.com", "admin-pw").await["result"]["security"], code, "same code while fresh, email works too");
    assert_eq!(login("admin", "nope").await, json!({ "status": 403, "message": "使用者不存在或未啟用。", "result": null }));
    assert_eq!(login("gone", "gone-pw").await["status"], 403, "members who left are not enabled");
    assert_eq!(login("ghost", "x").await, json!({ "status": 500, "message": "OmUser matching query does not exist.", "result": null }));
    let none = client()
        .get(format!("{}/accounts/api/security/get/", emu.base_url()))
        .send()
        .await
        .expect("sent")
        .json::<Value>()
        .await
        .expect("json");
    assert_eq!(none["status"], 403);

    let use_code = |c: String| {
        let emu = &emu;
        async move { call(emu, &query_path("incident"), json!({ "security": c, "omflow_restapi": 1, "data_no": 1 }), None).await.body }
    };
    assert_eq!(use_code(code.clone()).await["status"], "200");
    let clock = |d: &str| client().post(format!("{}/__emu/clock", emu.base_url())).body(format!("{{\"advance\":\"{d}\"}}")).send();
    clock("4m").await.expect("clock");
    assert_eq!(use_code(code.clone()).await["status"], "200", "each use refreshes the code");
    clock("4m").await.expect("clock");
    assert_eq!(use_code(code.clone()).await["status"], "200");
    clock("6m").await.expect("clock");
    assert_eq!(use_code(code.clone()).await, json!({ "status": "403", "message": "安全碼過期，請重新取得新的安全碼。" }));
    let fresh = login("admin", "admin-pw").await["result"]["security"].as_str().unwrap_or_default().to_owned();
    assert_ne!(fresh, code, "an expired code is replaced");
    assert_eq!(use_code(SEC.to_owned()).await["status"], "200", "scenario codes never expire");
}

#[tokio::test]
async fn english_messages_by_accept_language_or_locale() {
    let emu = start_with(FIXTURE_OM).await;
    let body = |f: Value| json!({ "security": SEC, "omflow_restapi": 1, "action": "create", "formdata": f });
    let ok = call(&emu, &edit("incident"), body(json!([{ "id": "FORMITM_1", "value": "t" }])), Some("en-US,en;q=0.9")).await;
    assert_eq!(ok.body, json!({ "status": "200", "message": "Create data successful", "result": "1" }));
    let fail = call(&emu, &edit("incident"), body(json!([])), Some("en")).await;
    assert_eq!(fail.body, json!({ "status": "404", "message": "Failed to create data: Missing required fields." }));
    let q = call(&emu, &query_path("incident"), json!({ "security": SEC, "omflow_restapi": 1, "data_no": "1" }), Some("en")).await;
    assert_eq!(q.body["message"], "Query successful");
    let qf = call(&emu, &query_path("missing"), json!({ "security": SEC, "omflow_restapi": 1, "data_no": "1" }), Some("en")).await;
    assert_eq!(qf.body, json!({ "status": "404", "message": "Query failed: The flow could not be found." }));
    let id = stops(&q)[0].0.clone();
    let p =
        call(&emu, &edit("incident"), json!({ "security": SEC, "omflow_restapi": 1, "action": "update", "data_id": id }), Some("en")).await;
    assert_eq!(p.body, json!({ "status": "200", "message": "Push data successful", "result": "" }));
    let pf =
        call(&emu, &edit("incident"), json!({ "security": SEC, "omflow_restapi": 1, "action": "update", "data_id": id }), Some("en")).await;
    assert_eq!(pf.body, json!({ "status": "404", "message": "Failed to push data" }));
    let zh = call(&emu, &query_path("missing"), json!({ "security": SEC, "omflow_restapi": 1, "data_no": "1" }), Some("zh-TW")).await;
    assert_eq!(zh.body, json!({ "status": "404", "message": "查詢失敗。" }));
    let en_emu = start_with(&FIXTURE_OM.replace("seed = 11", "seed = 11\nlocale = \"en\"")).await;
    let r = call(&en_emu, &edit("incident"), json!({ "security": SEC, "action": "create" }), None).await;
    assert_eq!(r.body["message"], "Missing parameter:omflow_restapi");
}

#[tokio::test]
async fn form_encoded_and_multipart_bodies_with_files() {
    let emu = start_with(FIXTURE_OM).await;
    let url = format!("{}{}", emu.base_url(), edit("incident"));
    let formdata = json!([{ "id": "FORMITM_1", "value": "表單編碼" }]).to_string();
    let r = client()
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("security={SEC}&omflow_restapi=1&action=create&formdata={}", urlencode(&formdata)))
        .send()
        .await
        .expect("sent");
    assert_eq!(r.json::<Value>().await.expect("json")["result"], "1");
    // The official Python example posts data=json.dumps(values) without a JSON content type.
    let raw = json!({ "security": SEC, "omflow_restapi": 1, "action": "create", "formdata": [{ "id": "FORMITM_1", "value": "純 JSON" }] })
        .to_string();
    let r = client().post(&url).header("content-type", "text/plain").body(raw).send().await.expect("sent");
    assert_eq!(r.json::<Value>().await.expect("json")["result"], "2");

    let r = multipart_create(&emu, "incident", "附件單", "log.txt", "printer log line").await;
    assert_eq!(r.json::<Value>().await.expect("json"), json!({ "status": "200", "message": "開單成功。", "result": "3" }));
    let state = get(&emu, "/__emu/state").await.body;
    assert_eq!(state["files"][0]["name"], "log.txt");
    assert_eq!(state["files"][0]["size"], 16);
    let ticket = &state["omflow"]["flows"][0]["tickets"][2];
    assert_eq!(ticket["files"][0]["file_name"], "log.txt");
    assert_eq!(ticket["instance"]["data"]["FORMITM_1"], "附件單");
    let journal = get(&emu, "/__emu/requests?route=omflow.data.edit").await.body;
    assert!(journal[2]["request_body"].as_str().is_some_and(|b| b.contains("printer log line")), "the upload is in the journal");
}

/// Creates a ticket with one attachment, as a multipart form (text parts and one `files` part).
async fn multipart_create(emu: &Emulator, path: &str, title: &str, file_name: &str, content: &str) -> reqwest::Response {
    let boundary = "----lowcodeemu";
    let mut body = String::new();
    for (k, v) in [
        ("security", SEC.to_owned()),
        ("omflow_restapi", "1".to_owned()),
        ("action", "create".to_owned()),
        ("formdata", json!([{ "id": "FORMITM_1", "value": title }]).to_string()),
    ] {
        body.push_str(&format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"));
    }
    body.push_str(&format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{file_name}\"\r\nContent-Type: text/plain\r\n\r\n{content}\r\n--{boundary}--\r\n"
    ));
    client()
        .post(format!("{}{}", emu.base_url(), edit(path)))
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .body(body)
        .send()
        .await
        .expect("sent")
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

#[tokio::test]
async fn verification_withholds_the_data_no_until_approved() {
    let emu = start_with(FIXTURE_OM).await;
    let r = create(&emu, "purchase", json!([{ "id": "FORMITM_1", "value": "筆電" }])).await;
    assert_eq!(r.body, json!({ "status": "200", "message": "開單成功。", "result": "" }));
    // The verifier sees it among their missions and pushes it.
    let missions = call(&emu, "/rest/my-mission/api/my-mission/list/", json!({ "security": "boss-code", "omflow_restapi": 1 }), None).await;
    assert_eq!(missions.body["status"], 200);
    let rows = missions.body["result"].as_array().cloned().unwrap_or_default();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["flow_name"], "請購單");
    assert_eq!(rows[0]["data_no"], Value::Null);
    let mine = call(&emu, "/rest/my-mission/api/my-mission/list/", json!({ "security": SEC, "omflow_restapi": 1 }), None).await;
    assert_eq!(mine.body["result"], json!([]), "not assigned to admin");
    let verify = call(
        &emu,
        &edit("purchase"),
        json!({ "security": "boss-code", "omflow_restapi": 1, "action": "update", "data_id": rows[0]["data_id"] }),
        None,
    )
    .await;
    assert_eq!(verify.body["status"], "200");
    let q = query(&emu, "purchase", &json!("1")).await;
    assert_eq!(stops(&q).iter().map(|s| s.1.as_str()).collect::<Vec<_>>(), vec!["處理"], "verified: the ticket got data_no 1");
}

#[tokio::test]
async fn form_data_list_filters_orders_and_slices_rows() {
    let emu = start_with(FIXTURE_OM).await;
    for t in ["一", "二", "三"] {
        create(&emu, "incident", json!([{ "id": "FORMITM_1", "value": format!("事件{t}") }])).await;
    }
    let list = |body: Value| call(&emu, "/rest/flowmanage/api/omdata/list/incident/", body, None);
    let base = json!({ "security": SEC, "omflow_restapi": 1 });
    let mut q = base.clone();
    q["search_conditions"] = json!([{ "column": "history", "condition": "=", "value": false }]);
    q["order_columns"] = json!(["-data_no"]);
    q["search_columns"] = json!(["data_no", "title", "stop_chart_text", "formitm_1"]);
    let r = list(q).await;
    snap!("omflow_form_data_list", r.body);
    assert_eq!(
        r.body["result"].as_array().map(|a| a.iter().map(|x| x["data_no"].clone()).collect::<Vec<_>>()),
        Some(vec![json!(3), json!(2), json!(1)])
    );
    // All rows: each ticket has a start row (history) and an open row.
    let all = list(base.clone()).await;
    assert_eq!(all.body["result"].as_array().map(Vec::len), Some(6));
    // limit is an end index.
    let mut sliced = base.clone();
    sliced["start"] = json!(1);
    sliced["limit"] = json!(3);
    assert_eq!(list(sliced).await.body["result"].as_array().map(Vec::len), Some(2));
    let mut contains = base.clone();
    contains["search_conditions"] = json!([{ "column": "formitm_1", "condition": "contains", "value": "二" }, { "column": "history", "condition": "=", "value": false }]);
    assert_eq!(list(contains).await.body["result"][0]["data_no"], 2);
    let mut bad = base.clone();
    bad["search_conditions"] = json!([{ "column": "nope", "condition": "=", "value": 1 }]);
    assert_eq!(
        list(bad).await.body,
        json!({ "status": 404, "message": "查詢失敗，錯誤訊息如下：Cannot resolve keyword 'nope' into field.", "result": [] })
    );
    let mut excl = base.clone();
    excl["exclude_conditions"] = json!([{ "column": "history", "condition": "=", "value": true }]);
    excl["search_columns"] = json!(["id"]);
    assert_eq!(list(excl).await.body["result"], json!([{ "id": 2 }, { "id": 4 }, { "id": 6 }]));
    // After a push the first ticket has a row newer than the others' rows; the plain list (no
    // conditions, default order: only its slice is built) pages exactly like the filtered one.
    assert_eq!(push(&emu, "incident", &json!("2"), json!([])).await.body["status"], "200");
    for (start, limit) in [(0, 0), (0, 100), (2, 5), (5, 7), (9, 3)] {
        let mut plain = base.clone();
        plain["start"] = json!(start);
        plain["limit"] = json!(limit);
        plain["search_columns"] = json!(["id", "data_no", "history"]);
        let mut filtered = plain.clone();
        filtered["exclude_conditions"] = json!([{ "column": "id", "condition": "=", "value": -1 }]);
        let (a, b) = (list(plain).await.body, list(filtered).await.body);
        assert_eq!(a, b, "start {start} limit {limit}");
    }
    let ids: Vec<Value> = list(base.clone()).await.body["result"].as_array().unwrap().iter().map(|r| r["id"].clone()).collect();
    assert_eq!(ids, (1..=ids.len()).map(|i| json!(i)).collect::<Vec<_>>(), "ascending ids across tickets");
    // Whole rows: a plain page (printed column by column) reads as the filtered one (built as maps),
    // every column in the same order.
    let mut filtered = base.clone();
    filtered["exclude_conditions"] = json!([{ "column": "id", "condition": "=", "value": -1 }]);
    let (a, b) = (list(base.clone()).await.body, list(filtered).await.body);
    assert_eq!(a, b);
    let columns = |v: &Value| v["result"][0].as_object().map(|o| o.keys().cloned().collect::<Vec<_>>()).unwrap_or_default();
    assert_eq!(columns(&a), columns(&b));
    assert_eq!(columns(&a)[..3], ["id", "flow_uuid", "data_no"]);
    assert_eq!(columns(&a).last().map(String::as_str), Some("formitm_3"));
}

#[tokio::test]
async fn server_shapes_use_integers_and_null_results() {
    let emu = start_with(&FIXTURE_OM.replace("default_user = \"admin\"", "default_user = \"admin\"\nserver_shapes = true")).await;
    let r = create(&emu, "incident", json!([{ "id": "FORMITM_1", "value": "x" }])).await;
    assert_eq!(r.body, json!({ "status": 200, "message": "開單成功。", "result": 1 }));
    let q = query(&emu, "incident", &json!(1)).await;
    assert_eq!(q.body["result"], json!([{ "data_id": 2, "stop_chart_text": "處理" }]));
    let f = push(&emu, "incident", &json!(99), json!([])).await;
    assert_eq!(f.body, json!({ "status": 404, "message": "推單失敗。", "result": null }));
}

#[tokio::test]
async fn query_parameter_errors() {
    let emu = start_with(FIXTURE_OM).await;
    let r = call(&emu, &query_path("incident"), json!({ "security": SEC, "omflow_restapi": 1 }), None).await;
    assert_eq!(r.body, json!({ "status": "404", "message": "缺少必要參數，請確認後重新發送請求。" }));
    let r = call(&emu, &query_path("incident"), json!({ "security": SEC, "omflow_restapi": 1, "data_no": "" }), None).await;
    assert_eq!(r.body["message"], "必要參數為空，請確認後重新發送請求。");
    assert_eq!(query(&emu, "incident", &json!("42")).await.body["result"], json!([]));
}

/// The edit API takes the three actions the product's `editOmDataAjax` accepts: `create`, `update` and
/// `delete`; anything else is refused with its message.
#[tokio::test]
async fn delete_removes_tickets_rows_missions_and_attachments() {
    let emu = start_with(FIXTURE_OM).await;
    for t in ["一", "二", "三"] {
        create(&emu, "incident", json!([{ "id": "FORMITM_1", "value": format!("待刪{t}") }])).await;
    }
    let path = edit("incident");
    let delete =
        |data_no: Value| call(&emu, &path, json!({ "security": SEC, "omflow_restapi": 1, "action": "delete", "data_no": data_no }), None);
    let r = delete(json!("1")).await;
    assert_eq!((r.status, r.body.clone()), (200, json!({ "status": "200", "message": "刪除成功。", "result": "" })));
    assert_eq!(query(&emu, "incident", &json!("1")).await.body["result"], json!([]));
    assert_eq!(stops(&query(&emu, "incident", &json!("2")).await).len(), 1, "other tickets stay");
    // A list, numbers or strings; numbers naming no ticket are skipped, as in the product.
    assert_eq!(delete(json!([3, "999"])).await.body["status"], "200");
    let list = call(
        &emu,
        "/rest/flowmanage/api/omdata/list/incident/",
        json!({ "security": SEC, "omflow_restapi": 1, "search_columns": ["data_no"] }),
        None,
    )
    .await;
    let left: Vec<Value> = list.body["result"].as_array().map(|a| a.iter().map(|r| r["data_no"].clone()).collect()).unwrap_or_default();
    assert_eq!(left, vec![json!(2), json!(2)], "only ticket 2's start and open rows remain");
    let missions = call(&emu, "/rest/my-mission/api/my-mission/list/", json!({ "security": SEC, "omflow_restapi": 1 }), None).await;
    assert!(missions.body["result"].as_array().is_some_and(|a| a.iter().all(|m| m["data_no"] == 2)), "{}", missions.body);
    // Ticket numbers keep counting after a delete.
    assert_eq!(create(&emu, "incident", json!([{ "id": "FORMITM_1", "value": "新單" }])).await.body["result"], "4");

    let bad = delete(json!({ "no": 1 })).await;
    assert_eq!(bad.body, json!({ "status": "404", "message": "找不到該筆資料。" }));
    let en =
        call(&emu, &edit("incident"), json!({ "security": SEC, "omflow_restapi": 1, "action": "delete", "data_no": "2" }), Some("en-US"))
            .await;
    assert_eq!(en.body["message"], "Delete successfully.");
    let other = call(&emu, &edit("incident"), json!({ "security": SEC, "omflow_restapi": 1, "action": "archive" }), None).await;
    assert_eq!(other.body, json!({ "status": "404", "message": "請提供正確的動作，新增、編輯或刪除。" }));
    let unknown =
        call(&emu, &edit("nope"), json!({ "security": SEC, "omflow_restapi": 1, "action": "delete", "data_no": "1" }), None).await;
    assert_eq!(unknown.body, json!({ "status": "404", "message": "找不到該流程。" }));

    // A ticket's attachments go with it.
    let r = multipart_create(&emu, "incident", "附件", "a.txt", "x").await;
    let no = r.json::<Value>().await.expect("json")["result"].clone();
    assert_eq!(get(&emu, "/__emu/state").await.body["files"].as_array().map(Vec::len), Some(1));
    assert_eq!(delete(no).await.body["status"], "200");
    assert_eq!(get(&emu, "/__emu/state").await.body["files"], json!([]));
}

/// A form-less flow routing on its start input, for `start_input`.
const FORMLESS: &str = r#"
[[flows]]
id = "routed"
nodes = [
  { id = "start", type = "start", name = "開始" },
  { id = "switch", type = "condition" },
  { id = "urgent", type = "handle", name = "緊急處理" },
  { id = "normal", type = "handle", name = "一般處理" },
  { id = "end", type = "end", name = "結束" },
]
edges = [
  { from = "start", to = "switch" },
  { from = "switch", to = "urgent", when = { field = "priority", op = "eq", value = "high" } },
  { from = "switch", to = "normal" },
  ["urgent", "end"],
  ["normal", "end"],
]

[[omflow.flows]]
app = "監控"
name = "告警"
api_path = "alarm"
flow = "routed"
"#;

#[tokio::test]
async fn flows_are_named_by_app_and_flow_name_or_uuid_and_formless_flows_take_start_input() {
    let scenario = FIXTURE_OM.replacen("[omflow]", &format!("{FORMLESS}\n[omflow]"), 1);
    let emu = start_with(&scenario).await;
    // The web UI's addressing: `None` in the URL, the app and flow by name in the body.
    let body = |extra: Value| {
        let mut b =
            json!({ "security": SEC, "omflow_restapi": 1, "action": "create", "formdata": [{ "id": "FORMITM_1", "value": "以名稱開單" }] });
        if let (Some(o), Some(more)) = (b.as_object_mut(), extra.as_object()) {
            o.extend(more.clone());
        }
        b
    };
    let named = call(&emu, &edit("None"), body(json!({ "app_name": "IT服務", "flow_name": "事件單" })), None).await;
    assert_eq!(named.body, json!({ "status": "200", "message": "開單成功。", "result": "1" }));
    // The api_path in the URL wins over names in the body.
    let both = call(&emu, &edit("incident"), body(json!({ "app_name": "IT服務", "flow_name": "維修單" })), None).await;
    assert_eq!(both.body["result"], "2", "a second ticket of 事件單: {}", both.body);
    let state = get(&emu, "/__emu/state").await.body;
    let uuid = state["omflow"]["flows"]
        .as_array()
        .and_then(|f| f.iter().find(|x| x["api_path"] == "repair"))
        .map(|f| f["flow_uuid"].clone())
        .expect("uuid");
    let by_uuid = call(&emu, &edit("None"), body(json!({ "flow_uuid": uuid })), None).await;
    assert_eq!(by_uuid.body["result"], "1", "the first ticket of 維修單: {}", by_uuid.body);
    let nowhere = call(&emu, &edit("None"), body(json!({ "app_name": "IT服務", "flow_name": "不存在" })), None).await;
    assert_eq!(nowhere.body["status"], "404", "{}", nowhere.body);

    // A flow without a form takes its start node's inputs: they route the ticket.
    let start = |input: Value| {
        let emu = &emu;
        async move {
            call(emu, &edit("alarm"), json!({ "security": SEC, "omflow_restapi": 1, "action": "create", "start_input": input }), None).await
        }
    };
    let urgent = start(json!({ "priority": "high" })).await;
    assert_eq!(urgent.body["result"], "1", "{}", urgent.body);
    assert_eq!(stops(&query(&emu, "alarm", &json!("1")).await)[0].1, "緊急處理");
    // As a JSON string too (form and multipart bodies).
    start(json!("{\"priority\":\"low\"}")).await;
    assert_eq!(stops(&query(&emu, "alarm", &json!("2")).await)[0].1, "一般處理");
    let bad = start(json!([1, 2])).await;
    assert_eq!(bad.body["status"], "404", "{}", bad.body);
}

/// A flow with a script node (a code point computing fields) and a subflow with a person in it.
const SCRIPTED: &str = r#"
[[flows]]
id = "review"
nodes = [
  { id = "start", type = "start" },
  { id = "check", type = "handle", name = "覆核", assignees = ["boss"] },
  { id = "stamp", type = "script", steps = [{ assign = { reviewed_by = "boss", verdict = "{{FORMITM_3}}" } }] },
  { id = "end", type = "end" },
]
edges = [["start", "check"], ["check", "stamp"], ["stamp", "end"]]

[[flows]]
id = "scripted"
nodes = [
  { id = "start", type = "start", name = "開始" },
  { id = "triage", type = "script", name = "分級", steps = [
    { formula = { FORMITM_2 = "IF(VALUE({!FORMITM_4}) >= 100000, 'P1', 'P3')", FORMITM_5 = "UPPER(LEFT({!FORMITM_1}, 3))" } },
    { when = { field = "FORMITM_4", op = "lt", value = 0 }, fail = "金額不可為負：{{FORMITM_4}}" },
  ] },
  { id = "sub", type = "subflow", name = "主管覆核", subflow = { flow = "review", inputs = { FORMITM_3 = "pending" }, outputs = { FORMITM_6 = "verdict" } } },
  { id = "done", type = "handle", name = "結案" },
  { id = "end", type = "end", name = "結束" },
]
edges = [["start", "triage"], ["triage", "sub"], ["sub", "done"], ["done", "end"]]

[[omflow.flows]]
app = "IT服務"
name = "採購申請"
api_path = "scripted"
flow = "scripted"
fields = [
  { id = "FORMITM_1", label = "標題", type = "h_title", required = true },
  { id = "FORMITM_2", label = "優先級", type = "h_level" },
  { id = "FORMITM_3", label = "覆核意見", type = "input" },
  { id = "FORMITM_4", label = "金額", type = "input" },
  { id = "FORMITM_5", label = "代碼", type = "input" },
  { id = "FORMITM_6", label = "覆核結果", type = "input" },
]
"#;

fn ticket_data(state: &Value, data_no: u64) -> Value {
    let flows = state["omflow"]["flows"].as_array().cloned().unwrap_or_default();
    flows
        .iter()
        .flat_map(|f| f["tickets"].as_array().cloned().unwrap_or_default())
        .find(|t| t["data_no"] == data_no)
        .map(|t| t["instance"].clone())
        .unwrap_or(Value::Null)
}

#[tokio::test]
async fn script_nodes_compute_fields_and_subflows_run_in_place() {
    let emu = start_with(&format!("{FIXTURE_OM}{SCRIPTED}")).await;
    let r =
        create(&emu, "scripted", json!([{ "id": "FORMITM_1", "value": "server rack" }, { "id": "FORMITM_4", "value": "250000" }])).await;
    assert_eq!(r.body["result"], "1", "{}", r.body);
    // The script ran on the way; the ticket waits inside the subflow, at the subflow's person.
    let q = query(&emu, "scripted", &json!(1)).await;
    assert_eq!(stops(&q).iter().map(|(_, s)| s.as_str()).collect::<Vec<_>>(), ["覆核"]);
    let boss = call(&emu, "/rest/my-mission/api/my-mission/list/", json!({ "security": "boss-code", "omflow_restapi": 1 }), None).await;
    assert!(boss.body.to_string().contains("覆核"), "the subflow's step is boss's mission: {}", boss.body);
    let state = get(&emu, "/__emu/state").await.body;
    let inst = ticket_data(&state, 1);
    assert_eq!(inst["data"]["FORMITM_2"], "P1");
    assert_eq!(inst["data"]["FORMITM_5"], "SER");
    assert_eq!(inst["data"]["FORMITM_3"], "pending", "the subflow's input");
    // Pushing the subflow's step runs its script, copies its output back, and leaves the subflow.
    let (row, _) = stops(&q)[0].clone();
    let p = push(&emu, "scripted", &json!(row), json!([{ "id": "FORMITM_3", "value": "同意採購" }])).await;
    assert_eq!(p.body["status"], "200", "{}", p.body);
    let q = query(&emu, "scripted", &json!(1)).await;
    assert_eq!(stops(&q).iter().map(|(_, s)| s.as_str()).collect::<Vec<_>>(), ["結案"]);
    let inst = ticket_data(&get(&emu, "/__emu/state").await.body, 1);
    snap!("omflow_subflow_ticket", inst.clone());
    assert_eq!(inst["data"]["FORMITM_6"], "同意採購");
    assert_eq!(inst["data"]["reviewed_by"], "boss");

    // A script that fails ends the ticket in error, as a failing code point does.
    let bad = create(&emu, "scripted", json!([{ "id": "FORMITM_1", "value": "refund" }, { "id": "FORMITM_4", "value": "-5" }])).await;
    assert_eq!(bad.body["result"], "2", "{}", bad.body);
    let inst = ticket_data(&get(&emu, "/__emu/state").await.body, 2);
    assert_eq!(inst["status"], "error");
    assert!(inst["error"].as_str().unwrap_or_default().contains("金額不可為負：-5"), "{inst}");
    assert_eq!(query(&emu, "scripted", &json!(2)).await.body["result"], json!([]));
}

#[test]
fn script_and_subflow_nodes_are_checked_with_their_keys() {
    let check = |toml: &str| {
        lowcode_emu::Scenario::from_toml_str(&format!("{FIXTURE_OM}{toml}"), "t").err().map(|e| e.to_string()).unwrap_or_default()
    };
    let with = |from: &str, to: &str| check(&SCRIPTED.replace(from, to));
    assert_eq!(check(SCRIPTED), "");
    assert!(with("flow = \"review\"", "flow = \"nope\"").contains("no flow \"nope\""), "{}", with("flow = \"review\"", "flow = \"nope\""));
    let cycle = with(
        "{ id = \"check\", type = \"handle\", name = \"覆核\", assignees = [\"boss\"] }",
        "{ id = \"check\", type = \"subflow\", subflow = { flow = \"scripted\" } }",
    );
    assert!(cycle.contains("calls itself"), "{cycle}");
    let two = with("{ assign = { reviewed_by", "{ fail = \"x\", assign = { reviewed_by");
    assert!(two.contains("exactly one of assign, formula, fail"), "{two}");
    let steps_elsewhere = with(
        "{ id = \"done\", type = \"handle\", name = \"結案\" }",
        "{ id = \"done\", type = \"handle\", name = \"結案\", steps = [{ fail = \"x\" }] }",
    );
    assert!(
        steps_elsewhere.contains("only a node of type \\\"script\\\" takes steps") || steps_elsewhere.contains("takes steps"),
        "{steps_elsewhere}"
    );
    let formula = with("'P1', 'P3')", "'P1')");
    assert!(formula.contains("IF takes 3"), "{formula}");
    let missing =
        with(", subflow = { flow = \"review\", inputs = { FORMITM_3 = \"pending\" }, outputs = { FORMITM_6 = \"verdict\" } }", "");
    assert!(missing.contains("needs subflow"), "{missing}");
}
