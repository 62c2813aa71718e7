//! Astro Zero custom APIs (`/service/{namespace}__{app}/{version}/…`) over real HTTP: bound to a
//! script, a Flow or an object operation; token, anonymous access and the CSRF check; errors.

use crate::common;

use common::astrozero::{az_call, az_err, az_ok, az_token};
use common::*;
use lowcode_emu::Emulator;
use reqwest::Method;
use serde_json::{json, Value};

fn scenario() -> String {
    format!(
        r#"{}
[[astrozero.apis]]
name = "checkStock"
app = "Assets"
version = "1.0.1"
path = "/stock/check"
script = "ns__stock"

[[astrozero.apis]]
name = "register"
app = "Assets"
path = "/register"
flow = "ns__Register"
csrf = true

[[astrozero.apis]]
name = "getAsset"
app = "Assets"
path = "/asset"
method = "GET"
object = {{ name = "ns__Asset__CST", operation = "query_by_id" }}
anonymous = true

[[astrozero.apis]]
name = "addAsset"
app = "Assets"
path = "/asset"
object = {{ name = "ns__Asset__CST", operation = "insert" }}

[[astrozero.apis]]
name = "findAssets"
app = "Assets"
path = "/asset/find"
object = {{ name = "ns__Asset__CST", operation = "query" }}
"#,
        include_str!("fixtures/astrozero_runtime.toml")
    )
}

async fn setup() -> (Emulator, String) {
    let emu = start_with(&scenario()).await;
    let t = az_token(&emu, "cid", "csecret").await;
    (emu, t)
}

#[tokio::test]
async fn a_custom_api_runs_its_script_and_answers_the_output_in_the_envelope() {
    let (emu, t) = setup().await;
    let r = az_call(&emu, &t, Method::POST, "/service/ns__Assets/1.0.1/stock/check", Some(json!({ "code": "A-2", "need": 5 }))).await;
    snap!("astrozero_service_script", &r.body);
    assert_eq!(az_ok(&r), &json!({ "enough": true, "have": 7 }), "the script's output, not run's {{value, log}}");
    // The script's own checks answer through the API.
    let missing = az_call(&emu, &t, Method::POST, "/service/ns__Assets/1.0.1/stock/check", Some(json!({ "code": "A-2" }))).await;
    az_err(&missing, 400);
    // Wrong version, path or method.
    az_err(&az_call(&emu, &t, Method::POST, "/service/ns__Assets/1.0.0/stock/check", Some(json!({}))).await, 404);
    az_err(&az_call(&emu, &t, Method::POST, "/service/ns__Other/1.0.1/stock/check", Some(json!({}))).await, 404);
    let wrong = az_call(&emu, &t, Method::GET, "/service/ns__Assets/1.0.1/stock/check", None).await;
    assert_eq!(az_err(&wrong, 405), "405000001");
    // Without a token: refused.
    let anon = client().post(format!("{}/service/ns__Assets/1.0.1/stock/check", emu.base_url())).body("{}").send().await.expect("sent");
    assert_eq!(anon.status(), 401);
    // Journaled under one route id.
    let journal = get(&emu, "/__emu/requests?route=astrozero.service").await.body;
    assert_eq!(journal.as_array().map(Vec::len), Some(6));
}

#[tokio::test]
async fn a_flow_api_checks_the_csrf_token_and_answers_the_outputs() {
    let (emu, t) = setup().await;
    let path = "/service/ns__Assets/1.0.0/register";
    let refused = az_call(&emu, &t, Method::POST, path, Some(json!({ "code": "C-1", "qty": 20 }))).await;
    assert_eq!(az_err(&refused, 403), "403000002");
    let csrf = az_ok(&az_call(&emu, &t, Method::GET, "/u-route/baas/sys/v1.0/csrf/get", None).await).as_str().expect("token").to_owned();
    let r = client()
        .post(format!("{}{path}", emu.base_url()))
        .header("access-token", &t)
        .header("csrf-token", &csrf)
        .header("content-type", "application/json")
        .body(json!({ "code": "C-1", "qty": 20 }).to_string())
        .send()
        .await
        .expect("sent");
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["result"]["size"], "big", "{body}");
    let id = body["result"]["assetId"].as_str().expect("the new record's id").to_owned();
    // The docs' own misspelling of the header is accepted too.
    let again = client()
        .post(format!("{}{path}", emu.base_url()))
        .header("access-token", &t)
        .header("csfr-token", &csrf)
        .body(json!({ "code": "C-2", "qty": 1 }).to_string())
        .send()
        .await
        .expect("sent");
    assert_eq!(again.status(), 200);
    // The record the Flow created is there.
    let got = az_call(&emu, &t, Method::GET, &format!("/u-route/baas/data/v1.0/bobject/ns__Asset__CST/{id}"), None).await;
    assert_eq!(az_ok(&got)[0]["ns__code__CST"], "C-1");
}

#[tokio::test]
async fn object_operation_apis_insert_read_and_query_records() {
    let (emu, t) = setup().await;
    let added = az_call(
        &emu,
        &t,
        Method::POST,
        "/service/ns__Assets/1.0.0/asset",
        Some(json!({ "name": "打印机", "ns__code__CST": "P-1", "ns__qty__CST": 2 })),
    )
    .await;
    let id = az_ok(&added)["id"].as_str().expect("id").to_owned();
    // Anonymous access: no token, the input from the query string.
    let anon = client().get(format!("{}/service/ns__Assets/1.0.0/asset?id={id}", emu.base_url())).send().await.expect("sent");
    assert_eq!(anon.status(), 200);
    let got: Value = anon.json().await.expect("json");
    assert_eq!(got["result"]["ns__code__CST"], "P-1");
    assert_eq!(got["result"]["id"], id.as_str());
    let missing = client().get(format!("{}/service/ns__Assets/1.0.0/asset?id=nope", emu.base_url())).send().await.expect("sent");
    assert_eq!(missing.status(), 404);
    // The data API's checks apply: the code is unique.
    let dup =
        az_call(&emu, &t, Method::POST, "/service/ns__Assets/1.0.0/asset", Some(json!({ "name": "x", "ns__code__CST": "P-1" }))).await;
    az_err(&dup, 400);
    let found = az_call(
        &emu,
        &t,
        Method::POST,
        "/service/ns__Assets/1.0.0/asset/find",
        Some(json!({ "condition": { "conditions": [{ "field": "ns__qty__CST", "operator": "ge", "value": 3 }] } })),
    )
    .await;
    let codes: Vec<&str> = az_ok(&found).as_array().expect("records").iter().filter_map(|r| r["ns__code__CST"].as_str()).collect();
    assert_eq!(codes, ["A-1", "A-2"]);
}

#[test]
fn custom_apis_are_checked_with_the_scenario() {
    let refuse = |from: &str, to: &str| {
        lowcode_emu::Scenario::from_toml_str(&scenario().replacen(from, to, 1), "t").err().map(|e| e.to_string()).unwrap_or_default()
    };
    assert!(refuse("path = \"/stock/check\"", "path = \"stock//check\"").contains("apis[0].path"));
    assert!(refuse("script = \"ns__stock\"", "script = \"ns__nope\"").contains("expected a script"));
    assert!(refuse("version = \"1.0.1\"\npath", "version = \"1.0\"\npath").contains("x.y.z"));
    assert!(refuse("operation = \"insert\"", "operation = \"upsert\"").contains("operation"));
    assert!(refuse("path = \"/asset/find\"", "path = \"/asset\"").contains("another API already answers POST /asset"));
}
