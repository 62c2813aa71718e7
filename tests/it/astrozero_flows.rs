//! Huawei Astro Zero Flows (definitions and interviews) and scripts, over real HTTP.

use crate::common;

use common::astrozero::{az_call, az_err, az_ok, az_raw, az_token};
use common::*;
use lowcode_emu::Emulator;
use reqwest::Method;
use serde_json::{json, Value};

const AZ_RUNTIME: &str = include_str!("fixtures/astrozero_runtime.toml");

const FLOW: &str = "/u-route/baas/v1.0/flow";
const FLOW_META: &str = "/u-route/baas/metadata/v1.0/Flow";
const SCRIPT: &str = "/u-route/baas/script/v1.0";

async fn setup() -> (Emulator, String) {
    let emu = start_with(AZ_RUNTIME).await;
    let t = az_token(&emu, "cid", "csecret").await;
    (emu, t)
}

#[tokio::test]
async fn run_completes_in_one_call_and_writes_records() {
    let (emu, t) = setup().await;
    let r = az_call(&emu, &t, Method::POST, &format!("{FLOW}/run/ns__Register"), Some(json!({ "code": "A-9", "qty": 12 }))).await;
    let res = az_ok(&r).clone();
    snap!("astrozero_flow_run", &res);
    assert_eq!(res["outputs"]["size"], "big");
    let id = res["outputs"]["assetId"].as_str().expect("new record id");
    let got = az_call(&emu, &t, Method::GET, &format!("/u-route/baas/data/v1.0/bobject/ns__Asset__CST/{id}"), None).await;
    assert_eq!(az_ok(&got)[0]["ns__code__CST"], "A-9");
    assert_eq!(az_ok(&got)[0]["ns__qty__CST"], 12);
    // The condition on a step reads the variables: a small quantity keeps the default.
    let small = az_call(&emu, &t, Method::POST, &format!("{FLOW}/run/ns__Register"), Some(json!({ "code": "A-10", "qty": 2 }))).await;
    assert_eq!(az_ok(&small)["outputs"]["size"], "small");
    // Record checks apply to flow writes too: a duplicate unique code fails the step.
    let dup = az_call(&emu, &t, Method::POST, &format!("{FLOW}/run/ns__Register"), Some(json!({ "code": "A-9", "qty": 1 }))).await;
    assert!(az_err(&dup, 400).starts_with("400"));
    assert!(dup.body["resMsg"].as_str().unwrap().contains("unique"), "{}", dup.body);
    let done = az_call(&emu, &t, Method::GET, &format!("{FLOW}/completedFlow?fields=id,flowName,status"), None).await;
    let list = az_ok(&done).as_array().expect("array").clone();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0], json!({ "id": res["interviewId"], "flowName": "ns__Register", "status": "Completed" }));
}

#[tokio::test]
async fn start_waits_at_screens_and_next_back_finish_move_it() {
    let (emu, t) = setup().await;
    let start = az_call(&emu, &t, Method::POST, &format!("{FLOW}/start/ns__Review"), Some(json!({ "code": "A-2" }))).await;
    let res = az_ok(&start).clone();
    let iv = res["interviewId"].as_str().expect("interview id").to_owned();
    assert!(iv.starts_with("002N") && iv.len() == 20, "{iv}");
    assert_eq!(res["outputs"]["name"], "显示器");
    assert_eq!(res["outputs"]["qty"], Value::Null);
    let one = az_call(&emu, &t, Method::GET, &format!("{FLOW}/{iv}"), None).await;
    assert_eq!(az_ok(&one)["status"], "Active");
    assert_eq!(az_ok(&one)["currentElement"], "askQty");
    // Only one screen has been passed: there is nothing to go back to.
    let back = az_call(&emu, &t, Method::POST, &format!("{FLOW}/back/{iv}"), None).await;
    az_err(&back, 400);
    let next = az_call(&emu, &t, Method::POST, &format!("{FLOW}/next/{iv}"), Some(json!({ "qty": 40 }))).await;
    assert_eq!(az_ok(&next)["outputs"]["qty"], 40);
    let at = az_call(&emu, &t, Method::GET, &format!("{FLOW}/{iv}"), None).await;
    assert_eq!(az_ok(&at)["currentElement"], "confirm");
    // Back restores the first screen with the variables it had there.
    let back = az_call(&emu, &t, Method::POST, &format!("{FLOW}/back/{iv}"), None).await;
    assert_eq!(az_ok(&back)["outputs"]["qty"], Value::Null);
    let next = az_call(&emu, &t, Method::POST, &format!("{FLOW}/next/{iv}"), Some(json!({ "qty": 41 }))).await;
    az_ok(&next);
    let active = az_call(&emu, &t, Method::GET, &format!("{FLOW}/activeFlow"), None).await;
    assert_eq!(az_ok(&active).as_array().map(Vec::len), Some(1));
    let fin = az_call(&emu, &t, Method::POST, &format!("{FLOW}/finish/{iv}"), None).await;
    assert_eq!(az_ok(&fin)["outputs"]["qty"], 41);
    let rec = az_call(
        &emu,
        &t,
        Method::POST,
        "/u-route/baas/data/v1.0/query/ns__Asset__CST",
        Some(json!({ "condition": { "conditions": [{ "field": "ns__code__CST", "operator": "eq", "value": "A-2" }] } })),
    )
    .await;
    assert_eq!(az_ok(&rec)[0]["ns__qty__CST"], 41);
    let again = az_call(&emu, &t, Method::POST, &format!("{FLOW}/next/{iv}"), Some(json!({}))).await;
    az_err(&again, 400);
    // terminate and del
    let s2 = az_call(&emu, &t, Method::POST, &format!("{FLOW}/start/ns__Review"), Some(json!({ "code": "A-1" }))).await;
    let iv2 = az_ok(&s2)["interviewId"].as_str().unwrap().to_owned();
    az_ok(&az_call(&emu, &t, Method::POST, &format!("{FLOW}/terminate/{iv2}"), None).await);
    let term = az_call(&emu, &t, Method::GET, &format!("{FLOW}/terminatedFlow?fields=id,status"), None).await;
    assert_eq!(az_ok(&term), &json!([{ "id": iv2, "status": "Terminated" }]));
    az_ok(&az_call(&emu, &t, Method::POST, &format!("{FLOW}/del/{iv2}"), None).await);
    az_err(&az_call(&emu, &t, Method::GET, &format!("{FLOW}/{iv2}"), None).await, 404);
    az_err(&az_call(&emu, &t, Method::POST, &format!("{FLOW}/next/{iv2}"), None).await, 404);
    let none = az_call(&emu, &t, Method::GET, &format!("{FLOW}/suspendedFlow"), None).await;
    assert_eq!(az_ok(&none), &json!([]));
}

#[tokio::test]
async fn flow_calls_fail_like_the_platform() {
    let (emu, t) = setup().await;
    let run = |name: &str, body: Value| {
        let path = format!("{FLOW}/run/{name}");
        let (emu, t) = (&emu, &t);
        async move { az_call(emu, t, Method::POST, &path, Some(body)).await }
    };
    // required input missing, wrong type, unknown flow, private flow, a fail step, unknown action
    assert!(run("ns__Register", json!({ "qty": 1 })).await.body["resMsg"].as_str().unwrap().contains("code is required"));
    az_err(&run("ns__Register", json!({ "code": 5 })).await, 400);
    az_err(&run("ns__Nope", json!({})).await, 404);
    az_err(&run("ns__Hidden", json!({})).await, 403);
    let missing = run("ns__Review", json!({ "code": "Z-9" })).await;
    az_err(&missing, 400);
    assert!(missing.body["resMsg"].as_str().unwrap().contains("no asset Z-9"), "{}", missing.body);
    az_err(&az_call(&emu, &t, Method::POST, &format!("{FLOW}/jump/ns__Register"), None).await, 400);
    az_err(&az_call(&emu, "bad-token", Method::POST, &format!("{FLOW}/run/ns__Register"), Some(json!({ "code": "x" }))).await, 401);
    // ?version= picks a version; without it the highest active one runs.
    let v1 = run("ns__Version", json!({})).await;
    assert_eq!(az_ok(&v1)["outputs"]["which"], "1.0.10");
    let old = az_call(&emu, &t, Method::POST, &format!("{FLOW}/run/ns__Version?version=1.0.9"), Some(json!({}))).await;
    assert_eq!(az_ok(&old)["outputs"]["which"], "1.0.9");
    az_err(&az_call(&emu, &t, Method::POST, &format!("{FLOW}/run/ns__Version?version=2.0.0"), Some(json!({}))).await, 404);
}

#[tokio::test]
async fn flow_definitions_list_describe_create_update_delete() {
    let (emu, t) = setup().await;
    let list = az_call(&emu, &t, Method::GET, &format!("{FLOW_META}?name=reg&like=true"), None).await;
    let found = az_ok(&list).as_array().unwrap().clone();
    assert_eq!(found.len(), 1);
    let id = found[0]["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("000y"));
    assert_eq!(az_ok(&az_call(&emu, &t, Method::GET, &format!("{FLOW_META}?name=reg"), None).await), &json!([]));
    let describe = az_call(&emu, &t, Method::GET, &format!("{FLOW_META}/{id}?flag=Describe"), None).await;
    snap!("astrozero_flow_describe", az_ok(&describe));
    let dep = az_call(&emu, &t, Method::GET, &format!("/u-route/baas/metadata/v1.0/flow/{id}?flag=dep"), None).await;
    assert_eq!(az_ok(&dep), &json!([{ "type": "Object", "name": "ns__Asset__CST" }]));
    // No start element: stored, but with errors in the result and status Error; it cannot run.
    let bare = az_call(&emu, &t, Method::POST, FLOW_META, Some(json!({ "name": "ns__Empty", "label": "空" }))).await;
    let res = az_ok(&bare).clone();
    assert_eq!(res["errors"], json!(["startElement为必选属性"]));
    let empty_id = res["id"].as_str().unwrap().to_owned();
    let got = az_call(&emu, &t, Method::GET, &format!("{FLOW_META}/{empty_id}"), None).await;
    assert_eq!(az_ok(&got)["status"], "Error");
    az_err(&az_call(&emu, &t, Method::POST, &format!("{FLOW}/run/ns__Empty"), Some(json!({}))).await, 400);
    // Steps make it runnable (PUT), variables declare inputs and outputs.
    let put = az_call(
        &emu,
        &t,
        Method::PUT,
        &format!("{FLOW_META}/{empty_id}"),
        Some(json!({
            "label": "加倍",
            "variables": [{ "name": "n", "dataType": "Number", "isInput": true, "required": true }, { "name": "twice", "dataType": "Any", "isOutput": true }],
            "steps": [{ "assign": { "twice": ["{{n}}", "{{n}}"] } }],
        })),
    )
    .await;
    assert_eq!(az_ok(&put), "1");
    let ran = az_call(&emu, &t, Method::POST, &format!("{FLOW}/run/ns__Empty"), Some(json!({ "n": 3 }))).await;
    assert_eq!(az_ok(&ran)["outputs"], json!({ "twice": [3, 3] }));
    // Problems in steps are reported; bad names and duplicates are refused outright.
    let bad = az_call(
        &emu,
        &t,
        Method::POST,
        FLOW_META,
        Some(json!({ "name": "ns__Bad", "label": "坏", "steps": [{ "query": "ns__Nope__CST" }, {}] })),
    )
    .await;
    assert_eq!(az_ok(&bad)["errors"].as_array().map(Vec::len), Some(2));
    az_err(&az_call(&emu, &t, Method::POST, FLOW_META, Some(json!({ "name": "9lives", "label": "x" }))).await, 400);
    az_err(
        &az_call(&emu, &t, Method::POST, FLOW_META, Some(json!({ "name": "ns__Register", "label": "x", "version": "1.0.0" }))).await,
        400,
    );
    az_err(
        &az_call(&emu, &t, Method::POST, FLOW_META, Some(json!({ "name": "ns__Ev", "label": "x", "processType": "Event Trigger" }))).await,
        400,
    );
    let del = az_call(&emu, &t, Method::DELETE, &format!("{FLOW_META}/{empty_id}"), None).await;
    assert_eq!(az_ok(&del), "1");
    az_err(&az_call(&emu, &t, Method::DELETE, &format!("{FLOW_META}/{empty_id}"), None).await, 404);
}

#[tokio::test]
async fn scripts_run_debug_versions_and_signature() {
    let (emu, t) = setup().await;
    let run = az_call(&emu, &t, Method::POST, &format!("{SCRIPT}/run/ns__stock"), Some(json!({ "code": "A-2", "need": 5 }))).await;
    snap!("astrozero_script_run", az_ok(&run));
    let dbg = az_call(&emu, &t, Method::POST, &format!("{SCRIPT}/debug/ns__stock"), Some(json!({ "code": "A-1", "need": 5 }))).await;
    assert_eq!(az_ok(&dbg)["value"]["enough"], false);
    assert_eq!(az_ok(&dbg)["log"], "A-1: need 5, have 3");
    let old =
        az_call(&emu, &t, Method::POST, &format!("{SCRIPT}/run/ns__stock?version=1.0.0"), Some(json!({ "code": "A-2", "need": 5 }))).await;
    assert_eq!(az_ok(&old)["value"], json!({ "enough": true }));
    az_err(&az_call(&emu, &t, Method::POST, &format!("{SCRIPT}/run/ns__stock?version=3.0.0"), Some(json!({}))).await, 404);
    az_err(&az_call(&emu, &t, Method::POST, &format!("{SCRIPT}/run/ns__nope"), Some(json!({}))).await, 404);
    let missing = az_call(&emu, &t, Method::POST, &format!("{SCRIPT}/run/ns__stock"), Some(json!({ "code": "A-2" }))).await;
    az_err(&missing, 400);
    let typed = az_call(&emu, &t, Method::POST, &format!("{SCRIPT}/run/ns__stock"), Some(json!({ "code": "A-2", "need": "five" }))).await;
    assert!(typed.body["resMsg"].as_str().unwrap().contains("need must be Number"), "{}", typed.body);
    let unknown = az_call(&emu, &t, Method::POST, &format!("{SCRIPT}/run/ns__stock"), Some(json!({ "code": "Z-1", "need": 1 }))).await;
    assert!(unknown.body["resMsg"].as_str().unwrap().contains("asset Z-1 not found"), "{}", unknown.body);
    let malformed = az_raw(&emu, &t, Method::POST, &format!("{SCRIPT}/run/ns__stock"), "application/json", b"{not json".to_vec()).await;
    az_err(&malformed, 400);
    let sig = az_call(&emu, &t, Method::GET, &format!("{SCRIPT}/signature/ns__stock"), None).await;
    snap!("astrozero_script_signature", az_ok(&sig));
    let decl = az_call(&emu, &t, Method::GET, &format!("{SCRIPT}/declaration"), None).await;
    let ts = az_ok(&decl)["bingo.d.ts"].as_str().unwrap().to_owned();
    assert!(ts.contains("declare class StockInput {\n    code: string;\n    need: number;\n}"), "{ts}");
}

#[tokio::test]
async fn formula_steps_and_the_formula_catalogue() {
    let (emu, t) = setup().await;
    // The catalogue names what a formula step can call.
    let cat = az_call(&emu, &t, Method::GET, "/u-route/baas/formula/v1.0/functions", None).await;
    let list = az_ok(&cat).as_array().cloned().unwrap_or_default();
    assert!(list.len() >= 30, "{}", list.len());
    let if_fn = list.iter().find(|f| f["name"] == "IF").cloned().expect("IF listed");
    snap!("astrozero_formula_if", if_fn);
    for f in &list {
        let keys: Vec<&str> = f.as_object().map(|o| o.keys().map(String::as_str).collect()).unwrap_or_default();
        assert_eq!(keys, ["name", "category", "format", "description"]);
    }
    az_err(&az_call(&emu, "not-a-token", Method::GET, "/u-route/baas/formula/v1.0/functions", None).await, 401);

    let flow = json!({
        "name": "ns__Quote", "label": "报价", "startElement": "price",
        "variables": [
            { "name": "qty", "dataType": "Number", "isInput": true, "required": true },
            { "name": "unit", "dataType": "Number", "isInput": true, "required": true },
            { "name": "customer", "dataType": "String", "isInput": true },
            { "name": "total", "dataType": "Number", "isOutput": true },
            { "name": "tier", "dataType": "String", "isOutput": true },
            { "name": "label", "dataType": "String", "isOutput": true },
            { "name": "due", "dataType": "String", "isOutput": true },
        ],
        "steps": [
            { "id": "price", "formula": {
                "total": "ROUND({!qty} * {!unit} * IF({!qty} >= 100, 0.9, 1), 2)",
                "tier": "CASE(TRUE, {!total} >= 1000, 'gold', {!total} >= 100, 'silver', 'bronze')",
                "label": "UPPER(BLANKVALUE({!customer}, 'walk-in')) & ' · ' & TEXT({!total})",
                "due": "ADDDAYS(TODAY(), 30)",
            } },
        ],
    });
    az_ok(&az_call(&emu, &t, Method::POST, FLOW_META, Some(flow)).await);
    let ran = az_call(&emu, &t, Method::POST, &format!("{FLOW}/run/ns__Quote"), Some(json!({ "qty": 120, "unit": 9.99 }))).await;
    let out = az_ok(&ran)["outputs"].clone();
    assert_eq!(out["total"], json!(1078.92));
    assert_eq!(out["tier"], "gold");
    assert_eq!(out["label"], "WALK-IN · 1078.92");
    // The fixture's clock: the due date is 30 days after the emulator's today.
    let today = az_call(
        &emu,
        &t,
        Method::POST,
        FLOW_META,
        Some(json!({
            "name": "ns__Today", "label": "今天", "startElement": "d",
            "variables": [{ "name": "d", "dataType": "String", "isOutput": true }],
            "steps": [{ "id": "d", "formula": { "d": "TODAY()" } }],
        })),
    )
    .await;
    az_ok(&today);
    let d = az_call(&emu, &t, Method::POST, &format!("{FLOW}/run/ns__Today"), Some(json!({}))).await;
    let today = az_ok(&d)["outputs"]["d"].as_str().unwrap_or_default().to_owned();
    let expected = chrono::NaiveDate::parse_from_str(&today, "%Y-%m-%d").expect("a date") + chrono::Duration::days(30);
    assert_eq!(out["due"], expected.format("%Y-%m-%d").to_string());

    // A formula that fails at run time fails its step, named; one that cannot parse is refused up front.
    let zero = az_call(&emu, &t, Method::POST, &format!("{FLOW}/run/ns__Quote"), Some(json!({ "qty": "many", "unit": 1 }))).await;
    az_err(&zero, 400);
    let bad = az_call(
        &emu,
        &t,
        Method::POST,
        FLOW_META,
        Some(json!({
            "name": "ns__BadFormula", "label": "坏", "startElement": "x",
            "steps": [{ "id": "x", "formula": { "y": "IF(1, 2" } }],
        })),
    )
    .await;
    let errors = az_ok(&bad)["errors"].clone();
    assert!(errors.to_string().contains("formula.y"), "{errors}");
}
