//! Astro Zero Rest actions: Flow and script steps that call a REST service over real HTTP, wait for
//! its answer inside the request, and go on with it — or fail the way a failed action fails a Flow.

use crate::common;

use common::astrozero::{az_call, az_err, az_ok, az_token};
use common::receiver::Receiver;
use common::*;
use lowcode_emu::Emulator;
use reqwest::Method;
use serde_json::{json, Value};

const FLOW: &str = "/u-route/baas/v1.0/flow";

/// Flows and a script whose steps call the receiver at `url`.
fn scenario(url: &str) -> String {
    format!(
        r#"{}
[[astrozero.flows]]
name = "ns__Score"
inputs = [{{ name = "code", type = "String", required = true }}, {{ name = "qty", type = "Number" }}]
outputs = [{{ name = "level", type = "String" }}, {{ name = "answer" }}, {{ name = "assetId", type = "String" }}]
steps = [
  {{ create = "ns__Asset__CST", values = {{ name = "资产 {{{{code}}}}", ns__code__CST = "{{{{code}}}}", ns__qty__CST = "{{{{qty}}}}" }}, into = "assetId" }},
  {{ id = "rate", call = {{ url = "{url}/rate", body = {{ code = "{{{{code}}}}", qty = "{{{{qty}}}}" }}, headers = {{ Authorization = "Basic cm9ib3Q6cHc=" }}, outputs = {{ level = "risk.level" }} }}, into = "answer" }},
  {{ when = {{ field = "level", op = "eq", value = "high" }}, fail = "too risky: {{{{code}}}}" }},
]

[[astrozero.flows]]
name = "ns__Lookup"
inputs = [{{ name = "code", type = "String" }}]
outputs = [{{ name = "owner", type = "String" }}]
steps = [
  {{ id = "who", call = {{ url = "{url}/owner", method = "GET", body = {{ code = "{{{{code}}}}", tag = "a&b" }}, outputs = {{ owner = "owner" }} }} }},
]

[[astrozero.flows]]
name = "ns__Wizard"
inputs = [{{ name = "code", type = "String" }}]
outputs = [{{ name = "level", type = "String" }}]
steps = [
  {{ id = "ask", wait = "录入数量" }},
  {{ id = "rate", call = {{ url = "{url}/rate", outputs = {{ level = "risk.level" }} }} }},
]

[[astrozero.flows]]
name = "ns__Slow"
outputs = [{{ name = "level", type = "String" }}]
steps = [
  {{ id = "rate", call = {{ url = "{url}/slow", timeout_ms = 5000, outputs = {{ level = "risk.level" }} }} }},
]

[[astrozero.flows]]
name = "ns__Impatient"
steps = [
  {{ id = "rate", call = {{ url = "{url}/slow", timeout_ms = 100 }} }},
]

[[astrozero.scripts]]
name = "ns__rate"
inputs = [{{ name = "code", type = "String" }}]
outputs = [{{ name = "level", type = "String" }}]
steps = [
  {{ log = "rating {{{{code}}}}" }},
  {{ call = {{ url = "{url}/rate", outputs = {{ level = "risk.level" }} }} }},
  {{ log = "rated {{{{level}}}}" }},
]
"#,
        include_str!("fixtures/astrozero_runtime.toml")
    )
}

/// The rating service: `high` for quantities over 100, an error for code `BAD`, slow on `/slow`.
async fn service() -> Receiver {
    Receiver::answering_after(
        |r| if r.target.starts_with("/hook/slow") { 400 } else { 0 },
        |r| {
            let body: Value = serde_json::from_str(&r.body).unwrap_or_default();
            if r.target.starts_with("/hook/owner") {
                return (200, json!({ "owner": format!("owner of {}", r.query("code").unwrap_or_default()) }).to_string());
            }
            if body["code"] == "BAD" {
                return (500, "rating service down".to_owned());
            }
            let qty = body["qty"].as_i64().unwrap_or(0);
            (200, json!({ "risk": { "level": if qty > 100 { "high" } else { "low" }, "qty": qty } }).to_string())
        },
    )
    .await
}

async fn setup() -> (Receiver, Emulator, String) {
    let rx = service().await;
    let url = rx.url.clone();
    let emu = start_with(&scenario(&url)).await;
    let token = az_token(&emu, "cid", "csecret").await;
    (rx, emu, token)
}

async fn run(emu: &Emulator, token: &str, flow: &str, inputs: Value) -> common::Reply {
    az_call(emu, token, Method::POST, &format!("{FLOW}/run/{flow}"), Some(inputs)).await
}

async fn assets(emu: &Emulator, token: &str) -> Vec<String> {
    let r = az_call(emu, token, Method::POST, "/u-route/baas/data/v1.0/query/ns__Asset__CST", Some(json!({}))).await;
    az_ok(&r).as_array().expect("records").iter().map(|a| a["ns__code__CST"].as_str().unwrap_or("").to_owned()).collect()
}

#[tokio::test]
async fn a_flow_calls_the_rest_service_and_uses_its_answer() {
    let (rx, emu, t) = setup().await;
    let r = run(&emu, &t, "ns__Score", json!({ "code": "A-7", "qty": 12 })).await;
    let out = az_ok(&r)["outputs"].clone();
    assert_eq!(out["level"], "low", "{out}");
    assert_eq!(out["answer"], json!({ "risk": { "level": "low", "qty": 12 } }), "`into` receives the whole answer");
    assert!(out["assetId"].as_str().is_some_and(|id| !id.is_empty()));

    let got = rx.received().await;
    assert_eq!(got.len(), 1);
    let sent = &got[0];
    assert_eq!(sent.method, "POST");
    assert_eq!(sent.target, "/hook/rate");
    assert_eq!(sent.header("content-type"), Some("application/json"));
    assert_eq!(sent.header("authorization"), Some("Basic cm9ib3Q6cHc="), "the action's headers go out");
    assert_eq!(sent.json(), json!({ "code": "A-7", "qty": 12 }), "input parameters keep their JSON types");

    // The call is in the delivery journal like every outbound message.
    let journal = get(&emu, "/__emu/deliveries").await.body;
    let d = &journal[0];
    assert_eq!(
        (d["platform"].clone(), d["event"].clone(), d["outcome"].clone()),
        (json!("astrozero"), json!("rest_action"), json!("delivered"))
    );
    assert_eq!(d["target"], "Rest action rate of flow ns__Score");
    assert_eq!(d["attempts"].as_array().map(Vec::len), Some(1));
    let done = az_call(&emu, &t, Method::GET, &format!("{FLOW}/completedFlow?fields=flowName,status"), None).await;
    assert_eq!(az_ok(&done), &json!([{ "flowName": "ns__Score", "status": "Completed" }]));
}

#[tokio::test]
async fn a_failing_service_fails_the_flow_and_earlier_writes_stay() {
    let (_rx, emu, t) = setup().await;
    let r = run(&emu, &t, "ns__Score", json!({ "code": "BAD", "qty": 1 })).await;
    az_err(&r, 400);
    let msg = r.body["resMsg"].as_str().unwrap_or_default();
    assert!(msg.contains("step rate") && msg.contains("HTTP 500"), "{msg}");
    // The record created before the call stays (no transaction element), and no interview is left.
    assert!(assets(&emu, &t).await.contains(&"BAD".to_owned()));
    for state in ["activeFlow", "completedFlow"] {
        let list = az_call(&emu, &t, Method::GET, &format!("{FLOW}/{state}"), None).await;
        assert_eq!(az_ok(&list), &json!([]), "{state}");
    }
    // A step after the call reads its outputs: a high risk fails there.
    let risky = run(&emu, &t, "ns__Score", json!({ "code": "R-1", "qty": 500 })).await;
    az_err(&risky, 400);
    assert!(risky.body["resMsg"].as_str().is_some_and(|m| m.contains("too risky: R-1")), "{}", risky.body);
}

#[tokio::test]
async fn get_actions_send_their_parameters_in_the_query_string() {
    let (rx, emu, t) = setup().await;
    let r = run(&emu, &t, "ns__Lookup", json!({ "code": "A 1" })).await;
    assert_eq!(az_ok(&r)["outputs"]["owner"], "owner of A 1");
    let sent = &rx.received().await[0];
    assert_eq!(sent.method, "GET");
    assert_eq!(sent.query("code").as_deref(), Some("A 1"));
    assert_eq!(sent.query("tag").as_deref(), Some("a&b"), "values are percent-encoded");
    assert_eq!(sent.body, "");
}

#[tokio::test]
async fn a_screen_flow_calls_when_next_reaches_the_action() {
    let (rx, emu, t) = setup().await;
    let start = az_call(&emu, &t, Method::POST, &format!("{FLOW}/start/ns__Wizard"), Some(json!({ "code": "W-1" }))).await;
    let iv = az_ok(&start)["interviewId"].as_str().expect("interview").to_owned();
    assert!(rx.received().await.is_empty(), "the screen comes first");
    let next = az_call(&emu, &t, Method::POST, &format!("{FLOW}/next/{iv}"), Some(json!({ "qty": 300 }))).await;
    assert_eq!(az_ok(&next)["outputs"]["level"], "high");
    // Without `body`, every variable is sent.
    assert_eq!(rx.received().await[0].json(), json!({ "code": "W-1", "qty": 300 }));
    let one = az_call(&emu, &t, Method::GET, &format!("{FLOW}/{iv}"), None).await;
    assert_eq!(az_ok(&one)["status"], "Completed");
}

#[tokio::test]
async fn other_requests_go_on_while_a_flow_waits_for_its_service() {
    let (_rx, emu, t) = setup().await;
    let slow = run(&emu, &t, "ns__Slow", json!({}));
    let meanwhile = async {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let started = std::time::Instant::now();
        let list = az_call(&emu, &t, Method::GET, &format!("{FLOW}/activeFlow?fields=id,flowName,currentElement"), None).await;
        let waited = started.elapsed();
        let mut active = az_ok(&list).clone();
        let iv = active[0]["id"].as_str().unwrap_or_default().to_owned();
        active[0].as_object_mut().map(|o| o.remove("id"));
        // Nobody else moves an interview while its request awaits the service.
        let next = az_call(&emu, &t, Method::POST, &format!("{FLOW}/next/{iv}"), Some(json!({}))).await;
        (active, waited, assets(&emu, &t).await.len(), next)
    };
    let (done, (active, waited, records, next)) = tokio::join!(slow, meanwhile);
    assert_eq!(az_ok(&done)["outputs"]["level"], "low");
    assert_eq!(active, json!([{ "flowName": "ns__Slow", "currentElement": "rate" }]), "the waiting interview is visible at its call");
    az_err(&next, 400);
    assert!(next.body["resMsg"].as_str().is_some_and(|m| m.contains("waiting for a Rest action")), "{}", next.body);
    assert!(waited < std::time::Duration::from_millis(300), "no lock is held while the service thinks: {waited:?}");
    assert_eq!(records, 2);
}

#[tokio::test]
async fn a_service_slower_than_the_timeout_fails_the_step() {
    let (_rx, emu, t) = setup().await;
    let r = run(&emu, &t, "ns__Impatient", json!({})).await;
    az_err(&r, 400);
    assert!(r.body["resMsg"].as_str().is_some_and(|m| m.contains("no answer within 100 ms")), "{}", r.body);
}

#[tokio::test]
async fn delivery_faults_break_the_call_without_reaching_the_service() {
    let (rx, emu, t) = setup().await;
    let fault =
        post(&emu, "/__emu/faults", json!({ "route": "delivery.astrozero.rest_action", "status": 503, "body": "busy", "times": 1 })).await;
    assert_eq!(fault.status, 201, "{}", fault.body);
    let r = run(&emu, &t, "ns__Score", json!({ "code": "F-1", "qty": 1 })).await;
    az_err(&r, 400);
    assert!(r.body["resMsg"].as_str().is_some_and(|m| m.contains("HTTP 503")), "{}", r.body);
    assert!(rx.received().await.is_empty());
    // The rule fired once: the next run reaches the service.
    assert_eq!(az_ok(&run(&emu, &t, "ns__Score", json!({ "code": "F-2", "qty": 1 })).await)["outputs"]["level"], "low");
    // A dropped call never reaches the service: the step fails at once, saying so.
    post(&emu, "/__emu/faults", json!({ "name": "cut", "route": "delivery.astrozero.rest_action", "disconnect": true, "times": 1 })).await;
    let dropped = run(&emu, &t, "ns__Score", json!({ "code": "F-4", "qty": 1 })).await;
    az_err(&dropped, 400);
    assert!(dropped.body["resMsg"].as_str().is_some_and(|m| m.contains("dropped by fault cut")), "{}", dropped.body);
    assert_eq!(rx.received().await.len(), 1);
    // A reorder rule cannot hold back a call a request awaits: it goes at once.
    post(&emu, "/__emu/faults", json!({ "route": "delivery.astrozero.rest_action", "reorder": true })).await;
    assert_eq!(az_ok(&run(&emu, &t, "ns__Score", json!({ "code": "F-3", "qty": 1 })).await)["outputs"]["level"], "low");
}

#[tokio::test]
async fn scripts_call_rest_actions_too() {
    let (rx, emu, t) = setup().await;
    let r = az_call(&emu, &t, Method::POST, "/u-route/baas/script/v1.0/debug/ns__rate", Some(json!({ "code": "S-1" }))).await;
    let res = az_ok(&r).clone();
    assert_eq!(res["value"]["level"], "low");
    assert_eq!(res["log"], "rating S-1\nrated low", "the log spans the call");
    assert_eq!(rx.received().await[0].json(), json!({ "code": "S-1" }));
}

#[test]
fn rest_actions_are_checked_with_the_scenario() {
    let bad = scenario("ftp://example.com").replace("timeout_ms = 100", "timeout_ms = 0");
    let err = lowcode_emu::Scenario::from_toml_str(&bad, "bad.toml").expect_err("refused");
    let text = err.to_string();
    assert!(text.contains("call.url: expected an http:// URL"), "{text}");
}

#[tokio::test]
async fn a_caller_that_gives_up_does_not_leave_the_flow_half_way() {
    let (_rx, emu, t) = setup().await;
    // The caller stops waiting long before the service answers (it takes 400 ms).
    let impatient = reqwest::Client::builder().timeout(std::time::Duration::from_millis(100)).build().expect("client");
    let gave_up = impatient
        .post(format!("{}{FLOW}/run/ns__Slow", emu.base_url()))
        .header("access-token", &t)
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await;
    assert!(gave_up.is_err(), "the client timed out");
    // The flow still finishes once the answer comes: nothing stays waiting for a Rest action.
    let mut done = Value::Null;
    for _ in 0..40 {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        done = az_ok(&az_call(&emu, &t, Method::GET, &format!("{FLOW}/completedFlow?fields=flowName,status"), None).await).clone();
        if done.as_array().is_some_and(|a| !a.is_empty()) {
            break;
        }
    }
    assert_eq!(done, json!([{ "flowName": "ns__Slow", "status": "Completed" }]));
    assert_eq!(az_ok(&az_call(&emu, &t, Method::GET, &format!("{FLOW}/activeFlow"), None).await), &json!([]));
}
