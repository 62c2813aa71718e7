//! Fault injection on two platforms: named errors in each dialect, raw answers, delays, dropped and
//! truncated connections, triggers, and the admin API that manages rules.

use crate::common;

use std::time::Instant;

use common::*;
use serde_json::{json, Value};

const OM: &str = include_str!("fixtures/omflow.toml");

async fn add_fault(emu: &lowcode_emu::Emulator, rule: Value) -> Reply {
    let resp = client().post(format!("{}/__emu/faults", emu.base_url())).body(rule.to_string()).send().await.expect("sent");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    Reply { status, body: resp.json().await.unwrap_or(Value::Null), headers }
}

fn list_body() -> Value {
    json!({ "app_id": APP, "entry_id": ALL })
}

const LIST: &str = "/api/v5/app/entry/data/list";

#[tokio::test]
async fn named_errors_render_in_each_platform_dialect() {
    let emu = start().await;
    let r = add_fault(&emu, json!({ "platform": "jiandaoyun", "route": "jiandaoyun.data.list", "nth": 2, "error": "rate_limited" })).await;
    assert_eq!((r.status, r.body.clone()), (201, json!({ "id": "fault-1" })));
    assert_eq!(post(&emu, LIST, list_body()).await.status, 200);
    let fired = post(&emu, LIST, list_body()).await;
    assert_eq!((fired.status, fired.body), (400, json!({ "code": 8304, "msg": "当前接口请求次数达到频率上限" })));
    assert_eq!(post(&emu, LIST, list_body()).await.status, 200, "nth fires once");
    let rules = get(&emu, "/__emu/faults").await.body;
    assert_eq!((rules[0]["matched"].clone(), rules[0]["fired"].clone()), (json!(3), json!(1)));
    let journal = get(&emu, "/__emu/requests?route=jiandaoyun.data.list").await.body;
    assert_eq!(journal[1]["fault"], "fault-1");
    assert_eq!(journal[1]["fault_action"], "error rate_limited", "the journal says what the rule did");
    assert_eq!(journal[0]["fault"], Value::Null);

    let om = start_with(OM).await;
    add_fault(&om, json!({ "route": "omflow.data.query", "error": "unauthorized", "times": 1 })).await;
    let q = || {
        client()
            .post(format!("{}/rest/flowmanage/api/omdata-data-id/get/incident/", om.base_url()))
            .body(json!({ "security": "fixed-security-code", "omflow_restapi": 1, "data_no": 1 }).to_string())
            .send()
    };
    let first: Value = q().await.expect("sent").json().await.expect("json");
    assert_eq!(first, json!({ "status": "403", "message": "安全碼錯誤，請確認安全碼或重新取得新的安全碼。" }));
    let second: Value = q().await.expect("sent").json().await.expect("json");
    assert_eq!(second["status"], "200", "times = 1");
}

#[tokio::test]
async fn raw_responses_and_field_matching() {
    let emu = start().await;
    add_fault(&emu, json!({ "route": "jiandaoyun.data.*", "match": { "entry_id": ORDERS }, "status": 502, "body": "<html>Bad Gateway</html>", "headers": { "retry-after": "3" } })).await;
    assert_eq!(post(&emu, LIST, list_body()).await.status, 200, "another form does not match");
    let r = post(&emu, LIST, json!({ "app_id": APP2, "entry_id": ORDERS })).await;
    assert_eq!(r.status, 502);
    assert_eq!(r.body, json!("<html>Bad Gateway</html>"));
    assert_eq!(r.headers.get("retry-after").and_then(|v| v.to_str().ok()), Some("3"));
}

#[tokio::test]
async fn delays_are_real_and_then_answer_normally() {
    let emu = start().await;
    add_fault(&emu, json!({ "route": "jiandaoyun.data.list", "delay_ms": 300, "jitter_ms": 50 })).await;
    let t = Instant::now();
    let r = post(&emu, LIST, list_body()).await;
    let took = t.elapsed().as_millis();
    assert_eq!(r.status, 200);
    assert!((300..1500).contains(&took), "took {took} ms");
    let journal = get(&emu, "/__emu/requests").await.body;
    assert!(journal[0]["duration_ms"].as_f64().is_some_and(|d| d >= 300.0));
}

#[tokio::test]
async fn disconnect_drops_the_connection_without_an_answer() {
    let emu = start_with(OM).await;
    add_fault(&emu, json!({ "platform": "omflow", "route": "omflow.data.edit", "disconnect": true, "nth": 1 })).await;
    let url = format!("{}/rest/flowmanage/api/omdata/edit/incident/", emu.base_url());
    let body = json!({ "security": "fixed-security-code", "omflow_restapi": 1, "action": "create", "formdata": [{ "id": "FORMITM_1", "value": "x" }] }).to_string();
    let err = client().post(&url).body(body.clone()).send().await;
    assert!(err.is_err(), "no HTTP answer: {err:?}");
    let ok: Value = client().post(&url).body(body).send().await.expect("second call answers").json().await.expect("json");
    assert_eq!(ok["result"], "1", "the dropped create stored nothing");
    let journal = get(&emu, "/__emu/requests").await.body;
    assert_eq!((journal[0]["status"].clone(), journal[0]["fault"].clone()), (json!(0), json!("fault-1")));
}

#[tokio::test]
async fn truncate_sends_half_a_body() {
    let emu = start().await;
    add_fault(&emu, json!({ "route": "jiandaoyun.app.list", "truncate": true })).await;
    let resp = client()
        .post(format!("{}/api/v5/app/list", emu.base_url()))
        .header("authorization", format!("Bearer {KEY}"))
        .body("{}")
        .send()
        .await
        .expect("headers arrive");
    assert_eq!(resp.status(), 200);
    let declared = resp.content_length().unwrap_or(0);
    assert!(declared > 0);
    assert!(resp.bytes().await.is_err(), "the body ends early");
}

#[tokio::test]
async fn probability_and_rate_limit_rules() {
    let emu = start().await;
    add_fault(&emu, json!({ "name": "flaky", "route": "jiandaoyun.data.list", "probability": 0.5, "error": "internal_error" })).await;
    let mut outcomes = Vec::new();
    for _ in 0..40 {
        outcomes.push(post(&emu, LIST, list_body()).await.status);
    }
    let failed = outcomes.iter().filter(|s| **s == 500).count();
    assert!((8..32).contains(&failed), "{failed}");
    // The same seed gives the same sequence after a reset (admin rules are removed by reset, so re-add).
    client().post(format!("{}/__emu/reset", emu.base_url())).send().await.expect("reset");
    assert_eq!(get(&emu, "/__emu/faults").await.body, json!([]));
    add_fault(&emu, json!({ "name": "flaky", "route": "jiandaoyun.data.list", "probability": 0.5, "error": "internal_error" })).await;
    let mut again = Vec::new();
    for _ in 0..40 {
        again.push(post(&emu, LIST, list_body()).await.status);
    }
    assert_eq!(again, outcomes, "seeded: reproducible");

    let throttled = start().await;
    add_fault(&throttled, json!({ "route": "jiandaoyun.data.list", "rate_limit": { "per_second": 3 } })).await;
    let statuses: Vec<u16> = futures_collect(&throttled, 5).await;
    assert_eq!(statuses, vec![200, 200, 200, 400, 400], "frozen clock: one window");
}

async fn futures_collect(emu: &lowcode_emu::Emulator, n: usize) -> Vec<u16> {
    let mut v = Vec::new();
    for _ in 0..n {
        v.push(post(emu, LIST, list_body()).await.status);
    }
    v
}

#[tokio::test]
async fn scenario_faults_survive_reset_and_admin_rules_do_not() {
    let toml = format!(
        "{FIXTURE}\n[[faults]]\nplatform = \"jiandaoyun\"\nroute = \"jiandaoyun.data.create\"\nnth = 2\nerror = \"rate_limited\"\n"
    );
    let emu = start_with(&toml).await;
    add_fault(&emu, json!({ "route": "jiandaoyun.app.list", "error": "forbidden" })).await;
    assert_eq!(get(&emu, "/__emu/faults").await.body.as_array().map(Vec::len), Some(2));
    let create = || post(&emu, "/api/v5/app/entry/data/create", json!({ "app_id": APP, "entry_id": ALL, "data": {} }));
    assert_eq!(create().await.status, 200);
    assert_eq!(create().await.body["code"], 8304);
    client().post(format!("{}/__emu/reset", emu.base_url())).send().await.expect("reset");
    let rules = get(&emu, "/__emu/faults").await.body;
    assert_eq!(rules.as_array().map(Vec::len), Some(1));
    assert_eq!((rules[0]["matched"].clone(), rules[0]["fired"].clone()), (json!(0), json!(0)));
    assert_eq!(create().await.status, 200);
    assert_eq!(create().await.body["code"], 8304, "counters restarted");
    let del = client().delete(format!("{}/__emu/faults/fault-1", emu.base_url())).send().await.expect("sent");
    assert_eq!(del.status(), 200);
    let del = client().delete(format!("{}/__emu/faults", emu.base_url())).send().await.expect("sent").json::<Value>().await.expect("json");
    assert_eq!(del, json!({ "deleted": 0 }));
}

#[tokio::test]
async fn invalid_rules_are_refused_with_a_reason() {
    let emu = start().await;
    for (rule, needle) in [
        (json!({ "route": "jiandaoyun.data.list", "error": "no_such_error" }), "no error named"),
        (json!({ "route": "nope.route", "error": "rate_limited" }), "names no emulated route"),
        (json!({ "platform": "sap", "error": "x" }), "unknown platform"),
        (json!({ "route": "*" }), "needs an action"),
        (json!({ "route": "*", "eror": "x" }), "unknown field"),
        (json!({ "route": "*", "probability": 3, "error": "internal_error" }), "probability"),
    ] {
        let r = add_fault(&emu, rule.clone()).await;
        assert_eq!(r.status, 400, "{rule}");
        assert!(r.body["error"].as_str().is_some_and(|e| e.contains(needle)), "{rule}: {}", r.body);
    }
    let e =
        lowcode_emu::Scenario::from_toml_str(&format!("{FIXTURE}\n[[faults]]\nroute = \"jiandaoyun.data.list\"\nerror = \"nope\"\n"), "f")
            .expect_err("bad fault");
    assert_eq!(e.key, "faults[0]");
    assert!(e.message.contains("no error named"), "{}", e.message);
}

#[tokio::test]
async fn faults_are_per_namespace() {
    let emu = start().await;
    let add = client()
        .post(format!("{}/__emu/faults", emu.base_url()))
        .header("x-emu-namespace", "a")
        .body(json!({ "route": "jiandaoyun.data.list", "error": "rate_limited" }).to_string())
        .send()
        .await
        .expect("sent");
    assert_eq!(add.status(), 201);
    let in_a = client()
        .post(format!("{}{LIST}", emu.base_url()))
        .header("authorization", format!("Bearer {KEY}"))
        .header("x-emu-namespace", "a")
        .body(list_body().to_string())
        .send()
        .await
        .expect("sent");
    assert_eq!(in_a.status(), 400);
    assert_eq!(post(&emu, LIST, list_body()).await.status, 200, "the default namespace has no rule");
}

/// One call per platform: Jiandaoyun data/list and OMFlow query, so every action is seen on both.
async fn call_platform(emu: &lowcode_emu::Emulator, platform: &str) -> Result<reqwest::Response, reqwest::Error> {
    match platform {
        "jiandaoyun" => {
            client()
                .post(format!("{}{LIST}", emu.base_url()))
                .header("authorization", format!("Bearer {KEY}"))
                .body(list_body().to_string())
                .send()
                .await
        }
        _ => {
            client()
                .post(format!("{}/rest/flowmanage/api/omdata-data-id/get/incident/", emu.base_url()))
                .body(json!({ "security": "fixed-security-code", "omflow_restapi": 1, "data_no": 1 }).to_string())
                .send()
                .await
        }
    }
}

#[tokio::test]
async fn every_action_works_on_both_platforms() {
    let both = format!("{FIXTURE}\n{}", OM.split_once("[[users]]").map(|(_, rest)| format!("[[users]]{rest}")).unwrap_or_default());
    for platform in ["jiandaoyun", "omflow"] {
        let route = if platform == "jiandaoyun" { "jiandaoyun.data.list" } else { "omflow.data.query" };
        // raw
        let emu = start_with(&both).await;
        add_fault(&emu, json!({ "route": route, "status": 503, "body": { "down": true } })).await;
        let r = call_platform(&emu, platform).await.expect("answers");
        assert_eq!(r.status(), 503, "{platform}");
        assert_eq!(r.json::<Value>().await.expect("json"), json!({ "down": true }));
        // delay
        let emu = start_with(&both).await;
        add_fault(&emu, json!({ "route": route, "delay_ms": 200 })).await;
        let t = Instant::now();
        assert_eq!(call_platform(&emu, platform).await.expect("answers").status(), 200);
        assert!(t.elapsed().as_millis() >= 200, "{platform}");
        // disconnect
        let emu = start_with(&both).await;
        add_fault(&emu, json!({ "route": route, "disconnect": true, "times": 1 })).await;
        assert!(call_platform(&emu, platform).await.is_err(), "{platform}");
        assert!(call_platform(&emu, platform).await.is_ok());
        // truncate
        let emu = start_with(&both).await;
        add_fault(&emu, json!({ "route": route, "truncate": true })).await;
        let r = call_platform(&emu, platform).await.expect("headers");
        assert!(r.bytes().await.is_err(), "{platform}");
        // rate limit, rendered in the platform's dialect
        let emu = start_with(&both).await;
        add_fault(&emu, json!({ "route": route, "rate_limit": { "per_second": 1 } })).await;
        assert_eq!(call_platform(&emu, platform).await.expect("answers").status(), 200);
        let throttled = call_platform(&emu, platform).await.expect("answers");
        let status = throttled.status().as_u16();
        let body: Value = throttled.json().await.expect("json");
        match platform {
            "jiandaoyun" => assert_eq!((status, body["code"].clone()), (400, json!(8304))),
            _ => assert_eq!((status, body["status"].clone()), (200, json!("429"))),
        }
    }
}
