//! Authentication, key scope, transport errors and rate limits of the Jiandaoyun API.

use crate::common;

use common::*;
use serde_json::json;

const LIST: &str = "/api/v5/app/entry/data/list";

fn list_body() -> String {
    json!({ "app_id": APP, "entry_id": ALL }).to_string()
}

#[tokio::test]
async fn missing_malformed_and_unknown_keys_get_8301() {
    let emu = start().await;
    assert_jdy_error(&post_raw(&emu, LIST, None, list_body()).await, 8301);
    for header in ["Basic dGVzdA==", "Bearer", "Bearer   ", "test-key", "Bearer wrong-key"] {
        let r = client()
            .post(format!("{}{LIST}", emu.base_url()))
            .header("authorization", header)
            .body(list_body())
            .send()
            .await
            .expect("sent");
        assert_eq!(r.status(), 400, "{header}");
        let body: serde_json::Value = r.json().await.expect("json");
        assert_eq!(body, json!({ "code": 8301, "msg": "API 签名校验失败" }), "{header}");
    }
    // The scheme is case-insensitive, as HTTP says.
    let r = client()
        .post(format!("{}{LIST}", emu.base_url()))
        .header("authorization", "bearer test-key")
        .body(list_body())
        .send()
        .await
        .expect("sent");
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn disabled_key_gets_17018() {
    let emu = start().await;
    let r = post_raw(&emu, LIST, Some("disabled-key"), list_body()).await;
    assert_eq!(r.body, json!({ "code": 17018, "msg": "无效的 API Key" }));
}

#[tokio::test]
async fn scoped_key_sees_only_its_apps() {
    let emu = start().await;
    let r = post_raw(&emu, "/api/v5/app/list", Some("scoped-key"), "{}").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, json!({ "apps": [{ "name": "全类型应用", "app_id": APP }] }));
    let other = json!({ "app_id": APP2, "entry_id": ORDERS }).to_string();
    assert_jdy_error(&post_raw(&emu, LIST, Some("scoped-key"), other.clone()).await, 17053);
    assert_jdy_error(&post_raw(&emu, "/api/v5/app/entry/list", Some("scoped-key"), json!({ "app_id": APP2 }).to_string()).await, 17053);
    assert_eq!(post_raw(&emu, LIST, Some(KEY), other).await.status, 200);
}

#[tokio::test]
async fn english_locale_uses_the_english_messages() {
    let emu = start_with(&FIXTURE.replace("seed = 7", "seed = 7\nlocale = \"en\"")).await;
    let r = post_raw(&emu, LIST, None, list_body()).await;
    assert_eq!(r.body, json!({ "code": 8301, "msg": "Failed to verify the API key for authorization." }));
}

#[tokio::test]
async fn malformed_json_and_non_object_bodies_get_code_1() {
    let emu = start().await;
    for body in ["{\"app_id\":", "[1,2]", "\"text\"", "not json"] {
        let r = post_raw(&emu, LIST, Some(KEY), body).await;
        assert_jdy_error(&r, 1);
        assert_eq!(r.body["msg"], "错误的请求");
    }
}

#[tokio::test]
async fn oversized_bodies_are_refused_in_the_platform_envelope() {
    let small = FIXTURE.replace("[jiandaoyun]\n", "[server]\nmax_body_bytes = 1024\n\n[jiandaoyun]\n");
    let emu = start_with(&small).await;
    let big = json!({ "app_id": APP, "entry_id": ALL, "pad": "x".repeat(4096) }).to_string();
    let r = post_raw(&emu, LIST, Some(KEY), big).await;
    assert_eq!(r.status, 413);
    assert_eq!(r.body, json!({ "code": 1, "msg": "错误的请求" }));
    assert_eq!(post_raw(&emu, LIST, Some(KEY), list_body()).await.status, 200);
}

#[tokio::test]
async fn unknown_routes_and_wrong_methods_say_so() {
    let emu = start().await;
    let r = post(&emu, "/api/v5/app/entry/data/nope", json!({})).await;
    assert_eq!(r.status, 404);
    assert!(r.body["error"].as_str().is_some_and(|m| m.contains("/__emu/routes")));
    let r = get(&emu, LIST).await;
    assert_eq!(r.status, 405);
}

#[tokio::test]
async fn rate_limits_follow_the_documented_per_route_and_enterprise_caps() {
    let emu = start_with(&FIXTURE.replace("default_user = \"xiaojian\"", "default_user = \"xiaojian\"\nrate_limits = true")).await;
    let get_body = |id: &str| json!({ "app_id": APP, "entry_id": FLOW, "data_id": id }).to_string();
    // data/get: 30 per second (the clock is frozen, so every call is in the same second).
    for _ in 0..30 {
        assert_jdy_error(&post_raw(&emu, "/api/v5/app/entry/data/get", Some(KEY), get_body("missing")).await, 4001);
    }
    let r = post_raw(&emu, "/api/v5/app/entry/data/get", Some(KEY), get_body("missing")).await;
    assert_eq!(r.body, json!({ "code": 8304, "msg": "当前接口请求次数达到频率上限" }));
    // Other routes still have room until the enterprise-wide 50/s cap.
    for _ in 0..20 {
        assert_eq!(post_raw(&emu, LIST, Some(KEY), list_body()).await.status, 200);
    }
    let r = post_raw(&emu, LIST, Some(KEY), list_body()).await;
    assert_eq!(r.body, json!({ "code": 8303, "msg": "企业 API 请求次数达到频率上限" }));
    // Legacy routes allow 5 per second.
    let emu2 = start_with(&FIXTURE.replace("default_user = \"xiaojian\"", "default_user = \"xiaojian\"\nrate_limits = true")).await;
    let legacy = format!("/api/v1/app/{APP}/entry/{ALL}/data");
    for _ in 0..5 {
        assert_eq!(post_raw(&emu2, &legacy, Some(KEY), "{}").await.status, 200);
    }
    assert_jdy_error(&post_raw(&emu2, &legacy, Some(KEY), "{}").await, 8304);
    // Moving the clock to the next second opens a new window.
    let r = client().post(format!("{}/__emu/clock", emu2.base_url())).body(r#"{"advance":"1s"}"#).send().await.expect("sent");
    assert_eq!(r.status(), 200);
    assert_eq!(post_raw(&emu2, &legacy, Some(KEY), "{}").await.status, 200);
}

#[tokio::test]
async fn rate_limits_are_off_by_default() {
    let emu = start().await;
    for _ in 0..60 {
        assert_eq!(post_raw(&emu, LIST, Some(KEY), list_body()).await.status, 200);
    }
}
