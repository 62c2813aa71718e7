//! Outbound deliveries: Jiandaoyun's data push to a real receiver — triggers, format, signature,
//! retries on the emulator clock, the delivery journal and redelivery.

use crate::common;

use common::receiver::Receiver;
use common::*;
use lowcode_emu::Emulator;
use serde_json::{json, Value};
use sha1::{Digest, Sha1};

const FORM: &str = "bbbbbbbbbbbbbbbbbbbbbbbb";
const SECRET: &str = "push-secret";

fn scenario(url: &str, extra: &str) -> String {
    format!(
        r#"
[emulator]
seed = 5
clock = "2026-05-01T00:00:00Z"
[[users]]
id = "zhang"
name = "张三"
[[users]]
id = "li"
name = "李四"
[[flows]]
id = "review"
nodes = [{{ id = "start", type = "start" }}, {{ id = "boss", type = "approve", name = "审批", assignees = ["li"] }}, {{ id = "end", type = "end" }}]
edges = [["start", "boss"], ["boss", "end"]]
[jiandaoyun]
api_keys = ["k"]
{extra}
[[jiandaoyun.apps]]
app_id = "aaaaaaaaaaaaaaaaaaaaaaaa"
name = "A"
[[jiandaoyun.apps.entries]]
entry_id = "{FORM}"
name = "报销"
flow = "review"
widgets = [{{ name = "_widget_1", label = "事由", type = "text" }}]
push = {{ url = "{url}", secret = "{SECRET}" }}
"#
    )
}

/// A record created through the API with the scenario's key.
async fn api_create(emu: &Emulator, text: &str) -> Reply {
    let body = json!({ "app_id": "aaaaaaaaaaaaaaaaaaaaaaaa", "entry_id": FORM, "data": { "_widget_1": { "value": text } } });
    post_raw(emu, "/api/v5/app/entry/data/create", Some("k"), body.to_string()).await
}

async fn act(emu: &Emulator, body: Value) -> Reply {
    post(emu, "/__emu/act", body).await
}

async fn settle(emu: &Emulator) -> Value {
    let r = post(emu, "/__emu/deliveries/wait?timeout_ms=5000", json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

fn sha1_hex(s: &str) -> String {
    format!("{:x}", Sha1::digest(s.as_bytes()))
}

#[tokio::test]
async fn a_ui_submission_pushes_a_signed_data_create() {
    let rx = Receiver::start().await;
    let emu = start_with(&scenario(&rx.url, "")).await;
    let r = act(&emu, json!({ "platform": "jiandaoyun", "as": "zhang", "action": "create", "entry_id": FORM, "data": { "_widget_1": { "value": "差旅" } } })).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let id = r.body["data"]["_id"].as_str().expect("id").to_owned();
    assert_eq!(r.body["data"]["creator"]["username"], "zhang", "the person who acted submitted it");
    assert_eq!(r.body["data"]["flowState"], 0, "a UI submission starts the form's workflow");
    settle(&emu).await;

    let got = rx.received().await;
    assert_eq!(got.len(), 1, "{got:?}");
    let push = &got[0];
    assert_eq!(push.method, "POST");
    assert!(push.target.starts_with("/hook?timestamp="), "{}", push.target);
    assert_eq!(push.header("content-type"), Some("application/json"));
    let (nonce, timestamp) = (push.query("nonce").expect("nonce"), push.query("timestamp").expect("timestamp"));
    assert_eq!(timestamp, "1777593600", "seconds on the emulator clock");
    let expected = sha1_hex(&format!("{nonce}:{}:{SECRET}:{timestamp}", push.body));
    assert_eq!(push.header("x-jdy-signature"), Some(expected.as_str()), "sha1 of nonce:payload:secret:timestamp");
    assert!(push.header("x-jdy-deliverid").is_some_and(|d| !d.is_empty()));
    let body = push.json();
    assert_eq!(body["op"], "data_create");
    assert_eq!(body["data"]["_id"], id.as_str());
    assert_eq!(body["data"]["formName"], "报销");
    assert_eq!(body["data"]["_widget_1"], "差旅");
    assert_eq!(body["data"]["creator"]["username"], "zhang");

    // The journal shows the delivery and its one attempt.
    let journal = get(&emu, "/__emu/deliveries").await.body;
    assert_eq!(journal[0]["outcome"], "delivered");
    assert_eq!(journal[0]["event"], "data_create");
    assert_eq!(journal[0]["platform"], "jiandaoyun");
    assert_eq!(journal[0]["attempts"][0]["status"], 200);
    assert_eq!(journal[0]["attempts"][0]["response_body"], "replied");
    assert_eq!(journal[0]["request"]["body"], push.body.as_str());
}

#[tokio::test]
async fn edits_deletes_and_workflow_moves_push_but_api_writes_do_not() {
    let rx = Receiver::start().await;
    let emu = start_with(&scenario(&rx.url, "")).await;
    // An API write is not a UI change: nothing is pushed.
    let api = api_create(&emu, "接口").await;
    assert_eq!(api.status, 200, "{}", api.body);
    settle(&emu).await;
    assert!(rx.received().await.is_empty(), "API writes never push");

    let created = act(&emu, json!({ "platform": "jiandaoyun", "as": "zhang", "action": "create", "entry_id": FORM, "data": { "_widget_1": { "value": "采购" } } })).await;
    let id = created.body["data"]["_id"].as_str().expect("id").to_owned();
    let edited = act(&emu, json!({ "platform": "jiandaoyun", "as": "li", "action": "update", "entry_id": FORM, "data_id": id, "data": { "_widget_1": { "value": "采购（改）" } } })).await;
    assert_eq!(edited.status, 200, "{}", edited.body);
    assert_eq!(edited.body["data"]["updater"]["username"], "li");
    // The approver approves in the UI: the workflow moves, the record changes, the form pushes.
    let tasks = post_raw(&emu, "/api/v5/workflow/task/list", Some("k"), json!({ "username": "li" }).to_string()).await;
    let task = tasks.body["tasks"][0]["task_id"].as_str().expect("task").to_owned();
    let approved = act(
        &emu,
        json!({ "platform": "jiandaoyun", "as": "li", "action": "approve", "instance_id": id, "task_id": task, "comment": "同意" }),
    )
    .await;
    assert_eq!(approved.status, 200, "{}", approved.body);
    let deleted = act(&emu, json!({ "platform": "jiandaoyun", "as": "zhang", "action": "delete", "entry_id": FORM, "data_id": id })).await;
    assert_eq!(deleted.status, 200, "{}", deleted.body);
    settle(&emu).await;

    let ops: Vec<(String, Value)> =
        rx.received().await.iter().map(|r| (r.json()["op"].as_str().unwrap_or("").to_owned(), r.json()["data"].clone())).collect();
    let names: Vec<&str> = ops.iter().map(|(o, _)| o.as_str()).collect();
    assert_eq!(names, ["data_create", "data_update", "data_update", "data_remove"]);
    assert_eq!(ops[1].1["_widget_1"], "采购（改）");
    assert_eq!(ops[2].1["flowState"], 1, "the approval finished the flow");
    assert_eq!(ops[3].1["deleter"]["username"], "zhang");
    assert_eq!(ops[3].1["deleteTime"], "2026-05-01T00:00:00.000Z");

    // Acting needs a known member and a known action.
    assert_eq!(
        act(&emu, json!({ "platform": "jiandaoyun", "as": "ghost", "action": "create", "entry_id": FORM, "data": {} })).await.status,
        400
    );
    let bad = act(&emu, json!({ "platform": "jiandaoyun", "as": "zhang", "action": "fly" })).await;
    assert_eq!(bad.status, 400);
    assert!(bad.body["error"].as_str().is_some_and(|e| e.contains("create")), "{}", bad.body);
    let refused = act(&emu, json!({ "platform": "jiandaoyun", "as": "zhang", "action": "update", "entry_id": FORM, "data_id": "ffffffffffffffffffffffff", "data": {} })).await;
    assert_eq!(refused.status, 400, "{}", refused.body);
}

#[tokio::test]
async fn one_receiver_gets_its_pushes_in_the_order_the_changes_were_made() {
    // Earlier pushes take longer to answer: sent side by side, later ones would overtake them.
    let rx = Receiver::slowed(|r| if r.body.contains("第0笔") || r.body.contains("第1笔") { 60 } else { 1 }).await;
    let emu = start_with(&scenario(&rx.url, "")).await;
    let mut made = Vec::new();
    for n in 0..30 {
        let r = act(&emu, json!({ "platform": "jiandaoyun", "as": "zhang", "action": "create", "entry_id": FORM, "data": { "_widget_1": { "value": format!("第{n}笔") } } })).await;
        assert_eq!(r.status, 200, "{}", r.body);
        made.push(r.body["data"]["_id"].as_str().expect("id").to_owned());
    }
    settle(&emu).await;
    let got: Vec<String> = rx.received().await.iter().map(|r| r.json()["data"]["_id"].as_str().unwrap_or("").to_owned()).collect();
    assert_eq!(got, made, "one target's deliveries go one at a time, in order");
}

#[tokio::test]
async fn api_writes_push_when_the_scenario_opts_in() {
    let rx = Receiver::start().await;
    let emu = start_with(&scenario(&rx.url, "api_writes_push = true")).await;
    let api = api_create(&emu, "接口").await;
    assert_eq!(api.status, 200);
    // Batch writes never push, even then.
    let batch = post_raw(
        &emu,
        "/api/v5/app/entry/data/batch_create",
        Some("k"),
        json!({ "app_id": "aaaaaaaaaaaaaaaaaaaaaaaa", "entry_id": FORM, "data_list": [{}, {}] }).to_string(),
    )
    .await;
    assert_eq!(batch.status, 200, "{}", batch.body);
    settle(&emu).await;
    let got = rx.received().await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].json()["op"], "data_create");
}

#[tokio::test]
async fn failures_retry_on_the_emulator_clock_and_can_be_redelivered() {
    let rx = Receiver::start().await;
    rx.script.lock().await.extend([500, 503]);
    let emu = start_with(&scenario(&rx.url, "")).await;
    act(&emu, json!({ "platform": "jiandaoyun", "as": "zhang", "action": "create", "entry_id": FORM, "data": {} })).await;
    let idle = settle(&emu).await;
    assert_eq!((idle["idle"].clone(), idle["pending"].clone()), (json!(true), json!(1)), "the retry waits for the clock");
    let d = &get(&emu, "/__emu/deliveries").await.body[0];
    assert_eq!(d["outcome"], "pending");
    assert_eq!(d["attempts"][0]["status"], 500);
    assert_eq!(d["next_attempt_at"], "2026-05-01T00:00:30.000Z", "the first retry 30 s later");
    // The clock is frozen: nothing happens until it moves.
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert_eq!(rx.received().await.len(), 1);
    post(&emu, "/__emu/clock", json!({ "advance": "30s" })).await;
    settle(&emu).await;
    assert_eq!(rx.received().await.len(), 2);
    post(&emu, "/__emu/clock", json!({ "advance": "1m" })).await;
    settle(&emu).await;
    let d = &get(&emu, "/__emu/deliveries").await.body[0];
    assert_eq!(d["outcome"], "delivered");
    let statuses: Vec<Value> = d["attempts"].as_array().expect("attempts").iter().map(|a| a["status"].clone()).collect();
    assert_eq!(statuses, [json!(500), json!(503), json!(200)]);
    let bodies: Vec<String> = rx.received().await.iter().map(|r| r.body.clone()).collect();
    assert!(bodies.windows(2).all(|w| w[0] == w[1]), "a retry sends the same signed request");

    // Redelivery sends it once more as a new delivery.
    let r = post(&emu, &format!("/__emu/deliveries/{}/redeliver", d["id"]), json!({})).await;
    assert_eq!(r.status, 202);
    settle(&emu).await;
    let all = get(&emu, "/__emu/deliveries").await.body;
    assert_eq!(all[1]["redelivery_of"], d["id"]);
    assert_eq!(all[1]["outcome"], "delivered");
    assert_eq!(rx.received().await.len(), 4);
    assert_eq!(post(&emu, "/__emu/deliveries/999/redeliver", json!({})).await.status, 404);
}

#[tokio::test]
async fn a_receiver_that_is_down_never_blocks_the_api_and_fails_after_five_retries() {
    // A port nobody listens on.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr")
    };
    let emu = start_with(&scenario(&format!("http://{closed}/hook"), "")).await;
    let started = std::time::Instant::now();
    let r = act(&emu, json!({ "platform": "jiandaoyun", "as": "zhang", "action": "create", "entry_id": FORM, "data": {} })).await;
    assert_eq!(r.status, 200);
    assert!(started.elapsed() < std::time::Duration::from_secs(1), "delivery is not on the request path");
    for advance in ["30s", "1m", "5m", "10m", "30m"] {
        settle(&emu).await;
        post(&emu, "/__emu/clock", json!({ "advance": advance })).await;
    }
    settle(&emu).await;
    let d = &get(&emu, "/__emu/deliveries").await.body[0];
    assert_eq!(d["outcome"], "failed");
    assert_eq!(d["attempts"].as_array().map(Vec::len), Some(6), "the first attempt and 5 retries");
    assert!(d["attempts"][0]["error"].is_string());
    // Finished deliveries can be cleared; a reset drops the journal with the world.
    assert_eq!(delete_json(&emu, "/__emu/deliveries").await["deleted"], 1);
    assert_eq!(get(&emu, "/__emu/deliveries").await.body, json!([]));
}

async fn delete_json(emu: &Emulator, path: &str) -> Value {
    client().delete(format!("{}{path}", emu.base_url())).send().await.expect("sent").json().await.expect("json")
}

async fn add_fault(emu: &Emulator, rule: Value) -> Reply {
    post(emu, "/__emu/faults", rule).await
}

async fn submit(emu: &Emulator, text: &str) -> String {
    let r = act(emu, json!({ "platform": "jiandaoyun", "as": "zhang", "action": "create", "entry_id": FORM, "data": { "_widget_1": { "value": text } } })).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["data"]["_id"].as_str().expect("id").to_owned()
}

/// Delivery faults use the request faults' rule language on `delivery.<platform>.<event>` routes:
/// a status stands in for the receiver's answer, `disconnect` drops, `duplicate` sends twice,
/// `reorder` holds a delivery back behind the next one, `delay_ms` slows the send.
#[tokio::test]
async fn delivery_faults_fail_drop_duplicate_reorder_and_delay() {
    let rx = Receiver::start().await;
    let emu = start_with(&scenario(&rx.url, "")).await;

    // Fail the first two attempts: the receiver sees only the third.
    let r =
        add_fault(&emu, json!({ "name": "flaky", "route": "delivery.jiandaoyun.data_create", "status": 503, "body": "busy", "times": 2 }))
            .await;
    assert_eq!(r.status, 201, "{}", r.body);
    submit(&emu, "一").await;
    settle(&emu).await;
    post(&emu, "/__emu/clock", json!({ "advance": "30s" })).await;
    settle(&emu).await;
    assert!(rx.received().await.is_empty(), "faulted attempts never reach the receiver");
    post(&emu, "/__emu/clock", json!({ "advance": "1m" })).await;
    settle(&emu).await;
    let d = get(&emu, "/__emu/deliveries").await.body[0].clone();
    assert_eq!(d["outcome"], "delivered");
    let shaped: Vec<(Value, Value)> =
        d["attempts"].as_array().expect("attempts").iter().map(|a| (a["status"].clone(), a["fault"].clone())).collect();
    assert_eq!(shaped, [(json!(503), json!("flaky")), (json!(503), json!("flaky")), (json!(200), Value::Null)]);
    assert_eq!(d["attempts"][0]["response_body"], "busy");
    assert_eq!(rx.received().await.len(), 1);
    client().delete(format!("{}/__emu/faults", emu.base_url())).send().await.expect("cleared");

    // Drop: never sent, never retried.
    add_fault(&emu, json!({ "name": "lost", "route": "delivery.*", "disconnect": true, "nth": 1 })).await;
    submit(&emu, "二").await;
    settle(&emu).await;
    let all = get(&emu, "/__emu/deliveries").await.body;
    assert_eq!(all[1]["outcome"], "dropped");
    assert!(all[1]["note"].as_str().is_some_and(|n| n.contains("lost")));
    assert_eq!(rx.received().await.len(), 1);
    client().delete(format!("{}/__emu/faults", emu.base_url())).send().await.expect("cleared");

    // Duplicate: the same signed request twice, same delivery id header — what idempotent receivers must absorb.
    add_fault(&emu, json!({ "route": "delivery.*", "duplicate": true, "times": 1 })).await;
    submit(&emu, "三").await;
    settle(&emu).await;
    let got = rx.received().await;
    assert_eq!(got.len(), 3);
    assert_eq!(got[1].body, got[2].body);
    assert_eq!(got[1].header("x-jdy-deliverid"), got[2].header("x-jdy-deliverid"));
    client().delete(format!("{}/__emu/faults", emu.base_url())).send().await.expect("cleared");

    // Reorder: the first of two pushes arrives after the second.
    add_fault(&emu, json!({ "route": "delivery.jiandaoyun.*", "reorder": true, "nth": 1 })).await;
    submit(&emu, "甲").await;
    settle(&emu).await;
    assert_eq!(rx.received().await.len(), 3, "held back");
    submit(&emu, "乙").await;
    settle(&emu).await;
    let order: Vec<String> =
        rx.received().await[3..].iter().map(|r| r.json()["data"]["_widget_1"].as_str().unwrap_or("").to_owned()).collect();
    assert_eq!(order, ["乙", "甲"]);
    client().delete(format!("{}/__emu/faults", emu.base_url())).send().await.expect("cleared");

    // Delay: sent late, still delivered, the rule named.
    add_fault(&emu, json!({ "name": "slow", "route": "delivery.*", "delay_ms": 200 })).await;
    submit(&emu, "慢").await;
    settle(&emu).await;
    let last = get(&emu, "/__emu/deliveries").await.body.as_array().and_then(|a| a.last().cloned()).expect("last");
    assert_eq!((last["outcome"].clone(), last["attempts"][0]["fault"].clone()), (json!("delivered"), json!("slow")));

    // Delivery-only actions stay off request routes, and request-only ones off deliveries.
    assert_eq!(add_fault(&emu, json!({ "route": "jiandaoyun.data.create", "duplicate": true })).await.status, 400);
    assert_eq!(add_fault(&emu, json!({ "route": "delivery.*", "error": "rate_limited" })).await.status, 400);
}

#[test]
fn push_settings_are_checked_like_the_rest_of_the_scenario() {
    let error_of = |toml: &str| lowcode_emu::Scenario::from_toml_str(toml, "t").err().map(|e| e.to_string()).unwrap_or_default();
    let https = error_of(&scenario("https://example.invalid/hook", ""));
    assert!(https.contains("push.url") && https.contains("http://"), "{https}");
    let events = scenario("http://127.0.0.1:1/hook", "")
        .replace(&format!(r#"secret = "{SECRET}" }}"#), &format!(r#"secret = "{SECRET}", events = ["data_create", "form_update"] }}"#));
    let events = error_of(&events);
    assert!(events.contains("push.events[1]") && events.contains("form_update"), "{events}");
}

#[tokio::test]
async fn a_record_deleted_in_the_ui_can_be_recovered_and_pushes_data_recover() {
    let rx = Receiver::start().await;
    let emu = start_with(&scenario(&rx.url, "")).await;
    let id = submit(&emu, "回收").await;
    let del = act(&emu, json!({ "platform": "jiandaoyun", "as": "zhang", "action": "delete", "entry_id": FORM, "data_id": id })).await;
    assert_eq!(del.status, 200);
    let back = act(&emu, json!({ "platform": "jiandaoyun", "as": "li", "action": "recover", "entry_id": FORM, "data_id": id })).await;
    assert_eq!(back.status, 200, "{}", back.body);
    assert_eq!(back.body["data"]["_id"], id.as_str());
    let read = post_raw(
        &emu,
        "/api/v5/app/entry/data/get",
        Some("k"),
        json!({ "app_id": "aaaaaaaaaaaaaaaaaaaaaaaa", "entry_id": FORM, "data_id": id }).to_string(),
    )
    .await;
    assert_eq!((read.status, read.body["data"]["_widget_1"].clone()), (200, json!("回收")), "the record is back under its id");
    settle(&emu).await;
    let ops: Vec<String> = rx.received().await.iter().map(|r| r.json()["op"].as_str().unwrap_or("").to_owned()).collect();
    assert_eq!(ops, ["data_create", "data_remove", "data_recover"]);
    assert_eq!(rx.received().await[2].json()["data"]["_id"], id.as_str());
    // Out of the bin once; an API delete is final.
    assert_eq!(
        act(&emu, json!({ "platform": "jiandaoyun", "as": "li", "action": "recover", "entry_id": FORM, "data_id": id })).await.status,
        400
    );
    let api_delete = post_raw(
        &emu,
        "/api/v5/app/entry/data/delete",
        Some("k"),
        json!({ "app_id": "aaaaaaaaaaaaaaaaaaaaaaaa", "entry_id": FORM, "data_id": id }).to_string(),
    )
    .await;
    assert_eq!(api_delete.status, 200);
    assert_eq!(
        act(&emu, json!({ "platform": "jiandaoyun", "as": "li", "action": "recover", "entry_id": FORM, "data_id": id })).await.status,
        400
    );
}

/// An OMFlow flow with an API node: the ticket's data goes to the receiver, the answer's fields come
/// back into the form and decide the branch.
fn om_scenario(url: &str) -> String {
    format!(
        r#"
[emulator]
seed = 3
clock = "2026-04-01T02:00:00Z"
[[users]]
id = "admin"
name = "管理員"
[[flows]]
id = "checked"
nodes = [
  {{ id = "start", type = "start", name = "開始" }},
  {{ id = "check", type = "call", name = "信用檢查", call = {{ url = "{url}", outputs = {{ FORMITM_2 = "result.level", FORMITM_3 = "result.note" }} }} }},
  {{ id = "manual", type = "handle", name = "人工複核" }},
  {{ id = "end", type = "end", name = "結束" }},
]
edges = [["start", "check"], {{ from = "check", to = "manual", when = {{ field = "FORMITM_2", op = "eq", value = "review" }} }}, {{ from = "check", to = "end", when = {{ field = "FORMITM_2", op = "ne", value = "review" }} }}, ["manual", "end"]]
[omflow]
security = ["sec"]
default_user = "admin"
[[omflow.flows]]
app = "採購"
name = "請購單"
api_path = "purchase"
flow = "checked"
fields = [{{ id = "FORMITM_1", label = "品項", required = true }}, {{ id = "FORMITM_2", label = "等級" }}, {{ id = "FORMITM_3", label = "備註" }}]
"#
    )
}

async fn om(emu: &Emulator, path: &str, body: Value) -> Value {
    let mut b = body;
    b["security"] = json!("sec");
    b["omflow_restapi"] = json!(1);
    post(emu, path, b).await.body
}

#[tokio::test]
async fn omflow_api_nodes_call_out_and_route_on_the_answer() {
    let rx = Receiver::start().await;
    let emu = start_with(&om_scenario(&rx.url)).await;
    // The call goes out a second late, so the waiting ticket can be looked at first.
    assert_eq!(post(&emu, "/__emu/faults", json!({ "route": "delivery.omflow.api_node", "delay_ms": 1000 })).await.status, 201);
    let edit = "/rest/flowmanage/api/omdata/edit/purchase/";
    let query = "/rest/flowmanage/api/omdata-data-id/get/purchase/";
    let first = om(&emu, edit, json!({ "action": "create", "formdata": [{ "id": "FORMITM_1", "value": "筆電" }] })).await;
    assert_eq!(first["result"], "1");
    // Until the answer is in, the ticket waits at the API node, which no person can push.
    let waiting = om(&emu, query, json!({ "data_no": "1" })).await;
    assert_eq!(waiting["result"][0]["stop_chart_text"], "信用檢查");
    let data_id = waiting["result"][0]["data_id"].clone();
    let pushed = om(&emu, edit, json!({ "action": "update", "data_id": data_id, "formdata": [] })).await;
    assert_eq!(pushed["status"], "404", "{pushed}");
    settle(&emu).await;
    let got = rx.received().await;
    assert_eq!(got.len(), 1);
    let sent = got[0].json();
    assert_eq!((sent["api_path"].clone(), sent["data_no"].clone(), sent["node"].clone()), (json!("purchase"), json!(1), json!("check")));
    assert_eq!(sent["formdata"]["FORMITM_1"], "筆電");
    // The receiver answered 200 without a JSON object: the ticket ends in error.
    let errored = om(&emu, query, json!({ "data_no": "1" })).await;
    assert_eq!(errored["result"], json!([]));
    let rows =
        om(&emu, "/rest/flowmanage/api/omdata/list/purchase/", json!({ "search_columns": ["data_no", "error", "stop_chart_text"] })).await;
    assert!(rows["result"].as_array().is_some_and(|r| r.iter().any(|x| x["error"] == true)), "{rows}");
}

#[tokio::test]
async fn omflow_api_node_answers_fill_fields_and_pick_the_branch() {
    // A service that answers JSON: review for 筆電, ok otherwise.
    let rx = Receiver::answering(|r| {
        let level = if r.body.contains("筆電") { "review" } else { "ok" };
        (200, json!({ "result": { "level": level, "note": format!("checked {}", r.body.len()) } }).to_string())
    })
    .await;
    let url = rx.url.clone();
    let emu = start_with(&om_scenario(&url)).await;
    let edit = "/rest/flowmanage/api/omdata/edit/purchase/";
    let query = "/rest/flowmanage/api/omdata-data-id/get/purchase/";
    om(&emu, edit, json!({ "action": "create", "formdata": [{ "id": "FORMITM_1", "value": "筆電" }] })).await;
    om(&emu, edit, json!({ "action": "create", "formdata": [{ "id": "FORMITM_1", "value": "文具" }] })).await;
    settle(&emu).await;
    // 筆電 needs a manual review; 文具 went straight to the end.
    let review = om(&emu, query, json!({ "data_no": "1" })).await;
    assert_eq!(review["result"][0]["stop_chart_text"], "人工複核", "{review}");
    assert_eq!(om(&emu, query, json!({ "data_no": "2" })).await["result"], json!([]));
    let rows = om(
        &emu,
        "/rest/flowmanage/api/omdata/list/purchase/",
        json!({ "search_columns": ["data_no", "formitm_2", "formitm_3", "history", "error"] }),
    )
    .await;
    let first =
        rows["result"].as_array().and_then(|r| r.iter().find(|x| x["data_no"] == 1 && x["history"] == false)).cloned().expect("open row");
    assert_eq!(first["formitm_2"], "review");
    assert!(first["formitm_3"].as_str().is_some_and(|n| n.starts_with("checked ")));
    assert!(rows["result"].as_array().is_some_and(|r| r.iter().all(|x| x["error"] == false)));
    // The delivery journal shows the call and the answer.
    let calls = get(&emu, "/__emu/deliveries?platform=omflow").await.body;
    assert_eq!(calls.as_array().map(Vec::len), Some(2));
    assert_eq!(calls[0]["event"], "api_node");
    assert_eq!(calls[0]["reply_to"], "purchase:2");
    assert_eq!(calls[0]["outcome"], "delivered");
}

#[test]
fn call_nodes_are_refused_where_the_platform_sends_no_calls() {
    let jdy = scenario("http://127.0.0.1:1/hook", "").replace(
        r#"nodes = [{ id = "start", type = "start" }, { id = "boss", type = "approve", name = "审批", assignees = ["li"] }, { id = "end", type = "end" }]"#,
        r#"nodes = [{ id = "start", type = "start" }, { id = "boss", type = "call", call = { url = "http://127.0.0.1:1/x" } }, { id = "end", type = "end" }]"#,
    );
    let err = lowcode_emu::Scenario::from_toml_str(&jdy, "t").err().map(|e| e.to_string()).unwrap_or_default();
    assert!(err.contains("OMFlow"), "{err}");
    let no_call = om_scenario("http://127.0.0.1:1/x")
        .replace(r#", call = { url = "http://127.0.0.1:1/x", outputs = { FORMITM_2 = "result.level", FORMITM_3 = "result.note" } }"#, "");
    let err = lowcode_emu::Scenario::from_toml_str(&no_call, "t").err().map(|e| e.to_string()).unwrap_or_default();
    assert!(err.contains("call node needs"), "{err}");
}

/// An Astro Zero BPM whose service task calls a REST service: the answer's values become variables
/// and the instance goes on to the approver; a failing service breaks the instance.
fn az_scenario(url: &str) -> String {
    format!(
        r#"{}
[[flows]]
id = "az-service"
nodes = [
  {{ id = "start", type = "start" }},
  {{ id = "score", type = "call", name = "信用评分", call = {{ url = "{url}", outputs = {{ score = "result.score" }} }} }},
  {{ id = "review", type = "approve", name = "复核", assignees = ["lisi"] }},
  {{ id = "end", type = "end" }},
]
edges = [["start", "score"], ["score", "review"], ["review", "end"]]

[[astrozero.processes]]
name = "ns__Credit"
label = "授信"
flow = "az-service"
"#,
        include_str!("fixtures/astrozero_runtime.toml")
    )
}

#[tokio::test]
async fn astrozero_service_tasks_call_a_rest_service_and_use_its_answer() {
    use common::astrozero::{az_call, az_ok, az_token};
    use reqwest::Method;
    let rx = Receiver::answering(|r| {
        let amount = serde_json::from_str::<Value>(&r.body).ok().and_then(|b| b["variables"]["amount"].as_i64()).unwrap_or(0);
        if amount > 1000 {
            (500, "limit exceeded".to_owned())
        } else {
            (200, json!({ "result": { "score": 88 } }).to_string())
        }
    })
    .await;
    let emu = start_with(&az_scenario(&rx.url)).await;
    let robot = az_token(&emu, "cid", "csecret").await;
    let inst = "/u-route/baas/bp/v2.0/runtime/instances";
    let start = |amount: i64| {
        let (emu, robot) = (&emu, &robot);
        async move {
            az_ok(&az_call(emu, robot, Method::POST, inst, Some(json!({ "name": "ns__Credit", "variables": { "amount": amount } }))).await)
                ["id"]
                .as_str()
                .expect("id")
                .to_owned()
        }
    };
    let ok = start(500).await;
    let broken = start(5000).await;
    settle(&emu).await;
    let sent = rx.received().await;
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].json()["task"], "score");
    assert_eq!(sent[0].json()["variables"]["amount"], 500);
    let get = |id: String| {
        let (emu, robot) = (&emu, &robot);
        async move { az_ok(&az_call(emu, robot, Method::GET, &format!("{inst}/{id}"), None).await).clone() }
    };
    let moved = get(ok.clone()).await;
    assert_eq!((moved["state"].clone(), moved["curElement"].clone()), (json!("Waiting for user interaction"), json!("review")), "{moved}");
    let failed = get(broken).await;
    assert_eq!(failed["state"], "Broken", "{failed}");
    // The answer's score is a variable of the instance now.
    let state = get_json(&emu, "/__emu/state").await;
    assert_eq!(state["astrozero"]["runtime"]["instances"][&ok]["wf"]["data"]["score"], 88);
    // Nobody completes a service task by hand: only the system is its assignee.
    let tasks = az_ok(&az_call(&emu, &robot, Method::GET, "/u-route/baas/bp/v2.0/query/tasks?assignee=robot", None).await).clone();
    assert_eq!(tasks["Total"], 0);
}

async fn get_json(emu: &Emulator, path: &str) -> Value {
    get(emu, path).await.body
}

fn yida_scenario(url: &str, aes_key: &str) -> String {
    format!(
        r#"
[emulator]
clock = "2026-06-01T02:00:00Z"
[[users]]
id = "zhang"
name = "张三"
[[users]]
id = "li"
name = "李四"
[[flows]]
id = "leave"
nodes = [{{ id = "start", type = "start" }}, {{ id = "boss", type = "approve", assignees = ["li"] }}, {{ id = "end", type = "end" }}]
edges = [["start", "boss"], ["boss", "end"]]
[yida]
default_user = "zhang"
app_keys = [{{ app_key = "ding-app-key", app_secret = "s" }}]
event_subscription = {{ url = "{url}", token = "t", aes_key = "{aes_key}" }}
[[yida.apps]]
app_type = "APP_EVENTS00000000000001"
[[yida.apps.forms]]
form_uuid = "FORM-EVENTS000000000000000000000000000001"
name = "请假"
process_code = "TPROC--EVENTS000000000000000000000000000001"
flow = "leave"
components = [{{ id = "textField_a", label = "事由", type = "TextField" }}]
"#
    )
}

/// DingTalk wants its sealed `success` back: any other 2xx answer is a failed push, retried.
#[tokio::test]
async fn a_dingtalk_callback_that_does_not_answer_the_sealed_success_is_retried() {
    let rx = Receiver::start().await;
    let emu = start_with(&yida_scenario(&rx.url, "4g5j64qlyl3zvetqxz5jiocdr586fn2zvjpa8zls3ij")).await;
    let r = client()
        .post(format!("{}/dingtalk/web/APP_EVENTS00000000000001/v1/process/startInstance.json", emu.base_url()))
        .form(&[
            ("formUuid", "FORM-EVENTS000000000000000000000000000001"),
            ("processCode", "TPROC--EVENTS000000000000000000000000000001"),
            ("formDataJson", "{}"),
        ])
        .send()
        .await
        .expect("sent");
    assert_eq!(r.status(), 200);
    settle(&emu).await;
    let sent = rx.received().await;
    assert_eq!(sent.len(), 2, "the instance and its first task started");
    assert!(sent.iter().all(|r| r.query("msg_signature").is_some() && r.json()["encrypt"].is_string()));
    let journal = get(&emu, "/__emu/deliveries?platform=yida").await.body;
    for d in journal.as_array().expect("deliveries") {
        assert_eq!(d["outcome"], "pending", "{d}");
        assert_eq!(d["attempts"][0]["status"], 200);
        assert!(d["attempts"][0]["error"].as_str().is_some_and(|e| e.contains("DingTalk")), "{d}");
        assert_eq!(d["next_attempt_at"], "2026-06-01T02:00:10.000Z");
    }
    let err =
        lowcode_emu::Scenario::from_toml_str(&yida_scenario(&rx.url, "too-short"), "t").err().map(|e| e.to_string()).unwrap_or_default();
    assert!(err.contains("aes_key") && err.contains("43"), "{err}");
}

/// `act` on Yida and OMFlow: a person submits and approves (Yida) or opens and pushes a ticket (OMFlow)
/// as in the product's UI; the side effects follow (Yida's DingTalk events are sent).
#[tokio::test]
async fn act_as_a_person_on_yida_and_omflow() {
    let rx = Receiver::start().await;
    let emu = start_with(&yida_scenario(&rx.url, "4g5j64qlyl3zvetqxz5jiocdr586fn2zvjpa8zls3ij")).await;
    let started = act(
        &emu,
        json!({ "platform": "yida", "as": "zhang", "action": "create", "formUuid": "FORM-EVENTS000000000000000000000000000001", "formDataJson": { "textField_a": "年假" } }),
    )
    .await;
    assert_eq!(started.status, 200, "{}", started.body);
    let pid = started.body["result"].as_str().expect("process instance id").to_owned();
    let todo = client()
        .get(format!("{}/dingtalk/web/APP_EVENTS00000000000001/v1/task/getTodoTasksInApp.json", emu.base_url()))
        .header("x-emu-user", "li")
        .send()
        .await
        .expect("sent")
        .json::<Value>()
        .await
        .expect("json");
    let task = todo["result"]["data"][0]["taskId"].as_str().expect("task").to_owned();
    let wrong =
        act(&emu, json!({ "platform": "yida", "as": "zhang", "action": "approve", "processInstanceId": pid, "taskId": task })).await;
    assert_eq!(wrong.status, 400, "only the assignee approves: {}", wrong.body);
    let approved =
        act(&emu, json!({ "platform": "yida", "as": "li", "action": "approve", "processInstanceId": pid, "taskId": task, "remark": "准" }))
            .await;
    assert_eq!(approved.status, 200, "{}", approved.body);
    settle(&emu).await;
    let events: Vec<Value> = get(&emu, "/__emu/deliveries?platform=yida").await.body.as_array().cloned().unwrap_or_default();
    assert_eq!(
        events.iter().map(|d| d["event"].as_str().unwrap_or("")).collect::<Vec<_>>(),
        ["bpms_instance_change", "bpms_task_change", "bpms_task_change", "bpms_instance_change"]
    );

    let emu = start_with(
        &om_scenario("http://127.0.0.1:1/unused")
            .replace(r#"type = "call", name = "信用檢查""#, r#"type = "handle", name = "信用檢查""#)
            .replace(
                r#", call = { url = "http://127.0.0.1:1/unused", outputs = { FORMITM_2 = "result.level", FORMITM_3 = "result.note" } }"#,
                "",
            ),
    )
    .await;
    let opened = act(&emu, json!({ "platform": "omflow", "as": "admin", "api_path": "purchase", "action": "create", "formdata": [{ "id": "FORMITM_1", "value": "筆電" }] })).await;
    assert_eq!((opened.status, opened.body["result"].clone()), (200, json!("1")), "{}", opened.body);
    let rows = om(&emu, "/rest/flowmanage/api/omdata-data-id/get/purchase/", json!({ "data_no": "1" })).await;
    let data_id = rows["result"][0]["data_id"].clone();
    let pushed = act(&emu, json!({ "platform": "omflow", "as": "admin", "api_path": "purchase", "action": "update", "data_id": data_id, "formdata": [{ "id": "FORMITM_2", "value": "ok" }] })).await;
    assert_eq!(pushed.status, 200, "{}", pushed.body);
    let refused = act(&emu, json!({ "platform": "omflow", "as": "admin", "api_path": "nope", "action": "create" })).await;
    assert_eq!(refused.status, 400);
}

#[tokio::test]
async fn act_on_an_astrozero_bpm_task_as_its_assignee() {
    use common::astrozero::{az_call, az_ok, az_token};
    use reqwest::Method;
    let emu = start_with(include_str!("fixtures/astrozero_runtime.toml")).await;
    let robot = az_token(&emu, "cid", "csecret").await;
    let inst = "/u-route/baas/bp/v2.0/runtime/instances";
    let id =
        az_ok(&az_call(&emu, &robot, Method::POST, inst, Some(json!({ "name": "ns__Borrow", "variables": { "asset": "A-1" } }))).await)
            ["id"]
            .as_str()
            .expect("id")
            .to_owned();
    let lisi = az_token(&emu, "lid", "lsecret").await;
    let tasks = az_ok(&az_call(&emu, &lisi, Method::GET, "/u-route/baas/bp/v2.0/query/tasks", None).await).clone();
    let task = tasks["Recs"][0]["id"].as_str().expect("task").to_owned();
    let refused = act(&emu, json!({ "platform": "astrozero", "as": "robot", "task": task, "action": "approve" })).await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    let done = act(&emu, json!({ "platform": "astrozero", "as": "lisi", "task": task, "action": "approve", "comment": "同意" })).await;
    assert_eq!(done.status, 200, "{}", done.body);
    let now = az_ok(&az_call(&emu, &robot, Method::GET, &format!("{inst}/{id}"), None).await).clone();
    assert_eq!(now["state"], "Completed OK", "{now}");
}

/// A Yida receipt form whose integration & automation flows call a service on its record events.
fn yida_automation_scenario(url: &str) -> String {
    format!(
        r#"
[emulator]
clock = "2026-06-01T02:00:00Z"
[[users]]
id = "zhang"
name = "张三"
[yida]
default_user = "zhang"
app_keys = [{{ app_key = "ding-app-key", app_secret = "s" }}]
[[yida.apps]]
app_type = "APP_AUTOMATE000000000000001"
[[yida.apps.forms]]
form_uuid = "FORM-AUTOMATE0000000000000000000000000001"
name = "客户"
components = [{{ id = "textField_name", label = "名称", type = "TextField" }}, {{ id = "numberField_n", label = "数量", type = "NumberField" }}]
automations = [
  {{ name = "同步ERP", call = {{ url = "{url}/erp", headers = {{ X-Token = "erp-secret" }} }} }},
  {{ name = "删除通知", on = ["delete"], call = {{ url = "{url}/gone/{{{{formInstanceId}}}}", method = "GET", body = {{ who = "{{{{operator}}}}", name = "{{{{formData.textField_name}}}}" }} }} }},
]
"#
    )
}

#[tokio::test]
async fn yida_automations_call_out_on_record_events() {
    let rx = Receiver::start().await;
    let emu = start_with(&yida_automation_scenario(&rx.url)).await;
    let base = format!("{}/dingtalk/web/APP_AUTOMATE000000000000001/v1/form", emu.base_url());
    let form = "FORM-AUTOMATE0000000000000000000000000001";
    let call = |path: &'static str, fields: Vec<(&'static str, String)>| {
        let url = format!("{base}/{path}");
        async move { client().post(url).form(&fields).send().await.expect("sent").json::<Value>().await.expect("json") }
    };
    let saved = call(
        "saveFormData.json",
        vec![("formUuid", form.into()), ("formDataJson", json!({ "textField_name": "华东五金", "numberField_n": 3 }).to_string())],
    )
    .await;
    let id = saved["result"].as_str().expect("id").to_owned();
    call("updateFormData.json", vec![("formInstId", id.clone()), ("updateFormDataJson", json!({ "numberField_n": 5 }).to_string())]).await;
    call("deleteFormData.json", vec![("formInstId", id.clone())]).await;
    settle(&emu).await;

    let got = rx.received().await;
    let seen: Vec<(String, String)> = got.iter().map(|r| (r.method.clone(), r.target.split('?').next().unwrap_or("").to_owned())).collect();
    assert_eq!(
        seen,
        [
            ("POST".to_owned(), "/hook/erp".to_owned()),
            ("POST".to_owned(), "/hook/erp".to_owned()),
            ("POST".to_owned(), "/hook/erp".to_owned()),
            ("GET".to_owned(), format!("/hook/gone/{id}")),
        ],
        "every event reaches the automation listening for all; only the delete reaches the other"
    );
    let events: Vec<Value> = got[..3].iter().map(|r| r.json()["event"].clone()).collect();
    assert_eq!(events, [json!("create"), json!("update"), json!("delete")]);
    let created = got[0].json();
    assert_eq!(created["formUuid"], form);
    assert_eq!(created["formInstanceId"], id.as_str());
    assert_eq!(created["operator"], "zhang");
    assert_eq!(created["appType"], "APP_AUTOMATE000000000000001");
    assert_eq!(created["formData"]["textField_name"], "华东五金");
    assert_eq!(got[1].json()["formData"]["numberField_n"], 5, "the record as it is after the change");
    assert_eq!(got[0].header("x-token"), Some("erp-secret"));
    assert_eq!(got[3].query("who").as_deref(), Some("zhang"));
    assert_eq!(got[3].query("name").as_deref(), Some("华东五金"), "a delete sends the record as it was");

    let journal = get(&emu, "/__emu/deliveries?platform=yida").await.body;
    assert_eq!(journal[0]["event"], "automation");
    assert_eq!(journal[0]["target"], "automation 同步ERP of 客户");

    let refusal = |toml: String| lowcode_emu::Scenario::from_toml_str(&toml, "t").err().map(|e| e.to_string()).unwrap_or_default();
    let err = refusal(yida_automation_scenario("ftp://x"));
    assert!(err.contains("automations[0].call") && err.contains("http://"), "{err}");
    let err = refusal(yida_automation_scenario(&rx.url).replace(r#"on = ["delete"]"#, r#"on = ["approve"]"#));
    assert!(err.contains("automations[1].on") && err.contains("\"approve\""), "{err}");
}
