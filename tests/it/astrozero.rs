//! Huawei Astro Zero: OAuth token, object records (CRUD, conditions, query options, upsert) and
//! custom-object metadata, over real HTTP.

use crate::common;

use common::astrozero::{az_call as call, az_err as err, az_ok as ok};
use common::*;
use lowcode_emu::Emulator;
use reqwest::Method;
use serde_json::{json, Value};

const AZ: &str = r#"
name = "astrozero-tests"
[emulator]
seed = 5
clock = "2026-06-01T02:00:00Z"

[[users]]
id = "robot"
name = "集成用户"

[astrozero]
namespace = "ns"
token_ttl = 600
clients = [{ client_id = "cid", client_secret = "csecret" }]

[[astrozero.objects]]
name = "ns__Asset__CST"
label = "资产"
fields = [
  { name = "ns__code__CST", type = "Text", required = true, unique = true },
  { name = "ns__qty__CST", type = "Number" },
  { name = "ns__state__CST", type = "SingleSelect", options = ["new", "used"] },
  { name = "ns__bought__CST", type = "Date" },
]
records = [
  { name = "笔记本", ns__code__CST = "A-1", ns__qty__CST = 3, ns__state__CST = "new" },
  { name = "显示器", ns__code__CST = "A-2", ns__qty__CST = 7, ns__state__CST = "used" },
  { name = "键盘", ns__code__CST = "A-3", ns__qty__CST = 1, ns__state__CST = "used" },
]
"#;

const DATA: &str = "/u-route/baas/data/v1.0";
const META: &str = "/u-route/baas/metadata/v1.0";

async fn token(emu: &Emulator) -> String {
    let r = client()
        .post(format!("{}/baas/auth/v1.0/oauth2/token", emu.base_url()))
        .form(&[("grant_type", "client_credentials"), ("client_id", "cid"), ("client_secret", "csecret")])
        .send()
        .await
        .expect("sent");
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["expires_in"], 600);
    assert_eq!(body["token_type"], "Bearer");
    body["access_token"].as_str().expect("token").to_owned()
}

#[tokio::test]
async fn token_by_form_query_or_basic_and_rejections() {
    let emu = start_with(AZ).await;
    let t = token(&emu).await;
    assert_eq!(t.len(), 32);
    let url = format!("{}/baas/auth/v1.0/oauth2/token", emu.base_url());
    let q = client().post(format!("{url}?grant_type=client_credentials&client_id=cid&client_secret=csecret")).send().await.unwrap();
    assert_eq!(q.status(), 200);
    let b = client().post(&url).basic_auth("cid", Some("csecret")).form(&[("grant_type", "client_credentials")]).send().await.unwrap();
    assert_eq!(b.status(), 200);
    let wrong = client()
        .post(&url)
        .form(&[("grant_type", "client_credentials"), ("client_id", "cid"), ("client_secret", "nope")])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 400);
    assert_eq!(wrong.json::<Value>().await.unwrap()["error"], "unauthorized_client");
    let grant =
        client().post(&url).form(&[("grant_type", "password"), ("client_id", "cid"), ("client_secret", "csecret")]).send().await.unwrap();
    assert_eq!(grant.json::<Value>().await.unwrap()["error"], "unsupported_grant_type");

    // No token, unknown token, and a token past its ten minutes.
    let path = format!("{DATA}/bobject/ns__Asset__CST/x");
    let none = client().get(format!("{}{}", emu.base_url(), path)).send().await.unwrap();
    assert_eq!(none.status(), 401);
    err(&call(&emu, "garbage", reqwest::Method::GET, &path, None).await, 401);
    let cookie = client()
        .post(format!("{}{DATA}/count/ns__Asset__CST", emu.base_url()))
        .header("cookie", format!("a=b; access-token={t}"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(cookie.status(), 200, "the token is also read from a cookie");
    let adv = client().post(format!("{}/__emu/clock", emu.base_url())).json(&json!({ "advance": "601s" })).send().await.unwrap();
    assert_eq!(adv.status(), 200);
    err(&call(&emu, &t, reqwest::Method::POST, &format!("{DATA}/count/ns__Asset__CST"), Some(json!({}))).await, 401);
    emu.stop().await.expect("stops");
}

#[tokio::test]
async fn record_crud_by_id_and_by_ids() {
    let emu = start_with(AZ).await;
    let t = token(&emu).await;
    let obj = format!("{DATA}/bobject/ns__Asset__CST");
    let created = call(
        &emu,
        &t,
        reqwest::Method::POST,
        &obj,
        Some(json!({ "records": [{ "name": "鼠标", "NS__CODE__CST": "A-9", "ns__qty__CST": 2, "ns__bought__CST": "2026-05-30" }] })),
    )
    .await;
    let id = ok(&created)[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 20);

    let got = call(&emu, &t, reqwest::Method::GET, &format!("{obj}/{id}"), None).await;
    let rec = &ok(&got)[0];
    assert_eq!(rec["name"], "鼠标");
    assert_eq!(rec["ns__code__CST"], "A-9", "field names match case-insensitively and come back as defined");
    assert_eq!(rec["ns__state__CST"], Value::Null);
    assert_eq!(rec["createdDate"], "2026-06-01 10:00:00");
    assert_eq!(rec["owner.__objectType"], "User");
    snap!("astrozero_record", rec);

    let fields = call(&emu, &t, reqwest::Method::GET, &format!("{obj}/{id}?fields=ns__qty__CST"), None).await;
    let only = ok(&fields)[0].as_object().unwrap().clone();
    assert!(only.contains_key("ns__qty__CST") && !only.contains_key("ns__code__CST"));

    // Updates must wrap changes in setValue; values are type-checked; unique stays unique.
    err(&call(&emu, &t, reqwest::Method::PUT, &format!("{obj}/{id}"), Some(json!({ "ns__qty__CST": 5 }))).await, 400);
    err(&call(&emu, &t, reqwest::Method::PUT, &format!("{obj}/{id}"), Some(json!({ "setValue": { "ns__qty__CST": "many" } }))).await, 400);
    err(
        &call(&emu, &t, reqwest::Method::PUT, &format!("{obj}/{id}"), Some(json!({ "setValue": { "ns__state__CST": "broken" } }))).await,
        400,
    );
    err(&call(&emu, &t, reqwest::Method::PUT, &format!("{obj}/{id}"), Some(json!({ "setValue": { "ns__code__CST": "A-1" } }))).await, 400);
    err(&call(&emu, &t, reqwest::Method::PUT, &format!("{obj}/{id}"), Some(json!({ "setValue": { "ns__nope__CST": 1 } }))).await, 400);
    let kept = call(&emu, &t, reqwest::Method::GET, &format!("{obj}/{id}"), None).await;
    assert_eq!(ok(&kept)[0]["ns__code__CST"], "A-9", "a rejected update changes nothing");
    assert_eq!(
        ok(&call(&emu, &t, reqwest::Method::PUT, &format!("{obj}/{id}"), Some(json!({ "setValue": { "ns__qty__CST": 5 } }))).await),
        &json!(1)
    );

    // Required and unique on create.
    err(&call(&emu, &t, reqwest::Method::POST, &obj, Some(json!({ "records": [{ "name": "x" }] }))).await, 400);
    err(&call(&emu, &t, reqwest::Method::POST, &obj, Some(json!({ "records": [{ "ns__code__CST": "A-2" }] }))).await, 400);
    let twins = json!({ "records": [{ "ns__code__CST": "A-7" }, { "ns__code__CST": "A-7" }] });
    err(&call(&emu, &t, reqwest::Method::POST, &obj, Some(twins)).await, 400);
    err(&call(&emu, &t, reqwest::Method::POST, &obj, Some(json!({ "records": {} }))).await, 400);
    err(&call(&emu, &t, reqwest::Method::POST, &obj, Some(json!([1]))).await, 400);
    let raw = client().post(format!("{}{obj}", emu.base_url())).header("access-token", &t).body("{not json").send().await.unwrap();
    assert_eq!(raw.status(), 400);

    // Several by ids (query string), then delete by ids (at most 100).
    let all = call(&emu, &t, reqwest::Method::POST, &format!("{DATA}/query/ns__Asset__CST"), Some(json!({}))).await;
    let ids: Vec<String> = ok(&all).as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(ids.len(), 4);
    let two = call(&emu, &t, reqwest::Method::GET, &format!("{obj}?records={},{}", ids[0], ids[1]), None).await;
    assert_eq!(ok(&two).as_array().unwrap().len(), 2);
    let many: Vec<String> = (0..101).map(|i| format!("id{i}")).collect();
    err(&call(&emu, &t, reqwest::Method::DELETE, &format!("{obj}?records={}", many.join(",")), None).await, 400);
    let del = call(&emu, &t, reqwest::Method::DELETE, &format!("{obj}?records={},{}", ids[0], ids[1]), None).await;
    assert_eq!(ok(&del), &json!(2));
    assert_eq!(ok(&call(&emu, &t, reqwest::Method::DELETE, &format!("{obj}/{id}"), None).await), &json!(1));
    err(&call(&emu, &t, reqwest::Method::DELETE, &format!("{obj}/{id}"), None).await, 404);
    err(&call(&emu, &t, reqwest::Method::GET, &format!("{obj}/{id}"), None).await, 404);
    err(&call(&emu, &t, reqwest::Method::GET, &format!("{DATA}/bobject/ns__Nope__CST/{id}"), None).await, 404);
    let left = call(&emu, &t, reqwest::Method::POST, &format!("{DATA}/count/ns__Asset__CST"), Some(json!({}))).await;
    assert_eq!(ok(&left), &json!(1));
    emu.stop().await.expect("stops");
}

/// Equality on a text field is answered from an index while no write comes between; every kind of
/// write in between (create, update, delete) shows in the next query's total and page.
#[tokio::test]
async fn text_equality_queries_see_every_write() {
    let emu = start_with(AZ).await;
    let t = token(&emu).await;
    let q = format!("{DATA}/query/ns__Asset__CST");
    let used = json!({ "conditions": [{ "field": "ns__state__CST", "operator": "eq", "value": "used" }] });
    let ask = |skip: u64| {
        let (emu, t, q) = (&emu, &t, &q);
        let body = json!({ "condition": used, "options": { "limit": 1, "skip": skip } });
        async move {
            let r = call(emu, t, reqwest::Method::POST, q, Some(body)).await;
            (
                r.body["count"].as_u64().unwrap(),
                ok(&r).as_array().unwrap().iter().map(|x| x["name"].as_str().unwrap().to_owned()).collect::<Vec<_>>(),
            )
        }
    };
    let first = ask(0).await;
    assert_eq!(first.0, 2);
    assert_eq!(ask(0).await, first, "asked again, the same answer");
    let made = call(
        &emu,
        &t,
        reqwest::Method::POST,
        &format!("{DATA}/bobject/ns__Asset__CST"),
        Some(json!({ "records": [{ "name": "新椅子", "ns__code__CST": "C-9", "ns__state__CST": "used" }] })),
    )
    .await;
    let id = ok(&made)[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(ask(2).await, (3, vec!["新椅子".to_owned()]), "a created record is counted and paged in id order");
    let upd = call(
        &emu,
        &t,
        reqwest::Method::PUT,
        &format!("{DATA}/bobject/ns__Asset__CST/{id}"),
        Some(json!({ "setValue": { "ns__state__CST": "new" } })),
    )
    .await;
    assert_eq!(upd.status, 200, "{}", upd.body);
    assert_eq!(ask(0).await.0, 2, "an update moves it out");
    call(&emu, &t, reqwest::Method::DELETE, &format!("{DATA}/bobject/ns__Asset__CST/{id}"), None).await;
    let numeric = json!({ "condition": { "conditions": [{ "field": "ns__state__CST", "operator": "eq", "value": "7" }] } });
    assert_eq!(call(&emu, &t, reqwest::Method::POST, &q, Some(numeric)).await.body["count"], 0, "a numeric text takes the scan");
    assert_eq!(ask(1).await.0, 2);
    emu.stop().await.expect("stops");
}

#[tokio::test]
async fn conditions_query_options_update_delete_where_and_upsert() {
    let emu = start_with(AZ).await;
    let t = token(&emu).await;
    let q = format!("{DATA}/query/ns__Asset__CST");
    let used = json!({ "conjunction": "AND", "conditions": [{ "field": "ns__state__CST", "operator": "eq", "value": "used" }] });
    let r = call(
        &emu,
        &t,
        reqwest::Method::POST,
        &q,
        Some(json!({ "condition": used, "options": { "orderby": [{ "field": "ns__qty__CST", "order": "desc" }], "limit": 1 } })),
    )
    .await;
    assert_eq!(r.body["count"], 2, "count is the number of matches, top level");
    assert_eq!(ok(&r).as_array().unwrap().len(), 1);
    assert_eq!(ok(&r)[0]["name"], "显示器");
    let skip = call(
        &emu,
        &t,
        reqwest::Method::POST,
        &q,
        Some(json!({ "condition": used, "options": { "orderby": [{ "field": "ns__qty__CST", "order": "desc" }], "limit": 1, "skip": 1 } })),
    )
    .await;
    assert_eq!(ok(&skip)[0]["name"], "键盘");

    // OR with a nested AND.
    let nested = json!({ "conjunction": "OR", "conditions": [
        { "field": "ns__code__CST", "operator": "eq", "value": "A-1" },
        { "conjunction": "AND", "conditions": [{ "field": "ns__qty__CST", "operator": "ge", "value": 7 }, { "field": "ns__state__CST", "operator": "ne", "value": "new" }] }
    ]});
    let r =
        call(&emu, &t, reqwest::Method::POST, &q, Some(json!({ "condition": nested, "options": { "orderby": [{ "field": "name" }] } })))
            .await;
    let names: Vec<&str> = ok(&r).as_array().unwrap().iter().map(|x| x["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["显示器", "笔记本"]);

    // Bad conditions and options.
    for bad in [
        json!({ "condition": { "conjunction": "XOR", "conditions": [] } }),
        json!({ "condition": { "conditions": [{ "field": "ns__nope__CST", "value": 1 }] } }),
        json!({ "condition": { "conditions": [{ "field": "ns__qty__CST", "operator": "like", "value": 1 }] } }),
        json!({ "options": { "limit": 5001 } }),
        json!({ "options": { "limit": 0 } }),
        json!({ "options": { "skip": -1 } }),
        json!({ "options": { "orderby": [{ "field": "ns__qty__CST", "order": "up" }] } }),
    ] {
        err(&call(&emu, &t, reqwest::Method::POST, &q, Some(bad)).await, 400);
    }

    // Update where, count, upsert, delete where (an empty condition deletes all).
    let upd = call(
        &emu,
        &t,
        reqwest::Method::PUT,
        &format!("{DATA}/bobject/ns__Asset__CST"),
        Some(json!({ "condition": used, "setValue": { "ns__qty__CST": 0 } })),
    )
    .await;
    assert_eq!(ok(&upd), &json!(2));
    let zero = call(
        &emu,
        &t,
        reqwest::Method::POST,
        &format!("{DATA}/count/ns__Asset__CST"),
        Some(json!({ "condition": { "conditions": [{ "field": "ns__qty__CST", "operator": "eq", "value": 0 }] } })),
    )
    .await;
    assert_eq!(ok(&zero), &json!(2));
    let first = call(
        &emu,
        &t,
        reqwest::Method::POST,
        &q,
        Some(json!({ "condition": { "conditions": [{ "field": "ns__code__CST", "value": "A-1" }] } })),
    )
    .await;
    let a1 = ok(&first)[0]["id"].as_str().unwrap().to_owned();
    let up = call(
        &emu,
        &t,
        reqwest::Method::POST,
        &format!("{DATA}/upsert/ns__Asset__CST"),
        Some(json!({ "records": [{ "id": a1, "ns__qty__CST": 9 }, { "ns__code__CST": "A-4", "name": "耳机" }] })),
    )
    .await;
    let out = ok(&up).as_array().unwrap().clone();
    assert_eq!(out[0]["id"], a1.as_str());
    assert_eq!(out.len(), 2);
    let got = call(&emu, &t, reqwest::Method::GET, &format!("{DATA}/bobject/ns__Asset__CST/{a1}"), None).await;
    assert_eq!(ok(&got)[0]["ns__qty__CST"], 9);
    let gone = call(&emu, &t, reqwest::Method::POST, &format!("{DATA}/delete/ns__Asset__CST"), Some(json!({ "condition": used }))).await;
    assert_eq!(ok(&gone), &json!(2));
    let rest = call(&emu, &t, reqwest::Method::POST, &format!("{DATA}/delete/ns__Asset__CST"), Some(json!({}))).await;
    assert_eq!(ok(&rest), &json!(2));
    let none = call(&emu, &t, reqwest::Method::POST, &q, Some(json!({}))).await;
    assert_eq!(none.body["count"], 0);
    emu.stop().await.expect("stops");
}

#[tokio::test]
async fn metadata_objects_and_fields_drive_the_data_routes() {
    let emu = start_with(AZ).await;
    let t = token(&emu).await;
    let created = call(
        &emu,
        &t,
        reqwest::Method::POST,
        &format!("{META}/Object"),
        Some(json!({ "name": "ns__Ticket__CST", "label": "工单", "fields": [{ "name": "ns__title__CST", "dataType": "Text", "isRequired": true }] })),
    )
    .await;
    let oid = ok(&created).as_str().unwrap().to_owned();
    err(&call(&emu, &t, reqwest::Method::POST, &format!("{META}/Object"), Some(json!({ "name": "ns__Ticket__CST" }))).await, 400);
    err(&call(&emu, &t, reqwest::Method::POST, &format!("{META}/Object"), Some(json!({ "name": "Ticket" }))).await, 400);
    err(&call(&emu, &t, reqwest::Method::POST, &format!("{META}/Object"), Some(json!({}))).await, 400);

    let list = call(&emu, &t, reqwest::Method::GET, &format!("{META}/Object"), None).await;
    let names: Vec<&str> = ok(&list).as_array().unwrap().iter().map(|o| o["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["User", "ns__Asset__CST", "ns__Ticket__CST"], "the standard object User is listed too");
    let one = call(&emu, &t, reqwest::Method::GET, &format!("{META}/object/{oid}"), None).await;
    assert_eq!(ok(&one)["fields"][0]["name"], "ns__title__CST");
    assert_eq!(ok(&one)["label"], "工单");

    // A field added through metadata is writable at once; existing records read it as null.
    let rec = call(
        &emu,
        &t,
        reqwest::Method::POST,
        &format!("{DATA}/bobject/ns__Ticket__CST"),
        Some(json!({ "records": [{ "ns__title__CST": "坏了" }] })),
    )
    .await;
    let rid = ok(&rec)[0]["id"].as_str().unwrap().to_owned();
    let fid = call(
        &emu,
        &t,
        reqwest::Method::POST,
        &format!("{META}/Object/{oid}/Field"),
        Some(json!({ "name": "ns__level__CST", "dataType": "Number" })),
    )
    .await;
    let fid = ok(&fid).as_str().unwrap().to_owned();
    err(
        &call(&emu, &t, reqwest::Method::POST, &format!("{META}/Object/{oid}/Field"), Some(json!({ "name": "ns__level__CST" }))).await,
        400,
    );
    err(
        &call(
            &emu,
            &t,
            reqwest::Method::POST,
            &format!("{META}/Object/{oid}/Field"),
            Some(json!({ "name": "ns__x__CST", "dataType": "Hologram" })),
        )
        .await,
        400,
    );
    let got = call(&emu, &t, reqwest::Method::GET, &format!("{DATA}/bobject/ns__Ticket__CST/{rid}"), None).await;
    assert_eq!(ok(&got)[0]["ns__level__CST"], Value::Null);
    let upd = call(
        &emu,
        &t,
        reqwest::Method::PUT,
        &format!("{DATA}/bobject/ns__Ticket__CST/{rid}"),
        Some(json!({ "setValue": { "ns__level__CST": 2 } })),
    )
    .await;
    ok(&upd);
    let field = call(&emu, &t, reqwest::Method::GET, &format!("{META}/Object/{oid}/Field/{fid}"), None).await;
    assert_eq!(ok(&field)["dataType"], "number");
    let fields = call(&emu, &t, reqwest::Method::GET, &format!("{META}/Object/{oid}/Field"), None).await;
    assert_eq!(ok(&fields).as_array().unwrap().len(), 2);

    // Update and delete the field, then the object.
    ok(&call(&emu, &t, reqwest::Method::PUT, &format!("{META}/Object/{oid}/Field/{fid}"), Some(json!({ "label": "级别" }))).await);
    let field = call(&emu, &t, reqwest::Method::GET, &format!("{META}/Object/{oid}/Field/ns__level__CST"), None).await;
    assert_eq!(ok(&field)["label"], "级别");
    ok(&call(&emu, &t, reqwest::Method::DELETE, &format!("{META}/Object/{oid}/Field/{fid}"), None).await);
    err(&call(&emu, &t, reqwest::Method::GET, &format!("{META}/Object/{oid}/Field/{fid}"), None).await, 404);
    err(
        &call(
            &emu,
            &t,
            reqwest::Method::PUT,
            &format!("{DATA}/bobject/ns__Ticket__CST/{rid}"),
            Some(json!({ "setValue": { "ns__level__CST": 3 } })),
        )
        .await,
        400,
    );
    ok(&call(&emu, &t, reqwest::Method::PUT, &format!("{META}/Object/{oid}"), Some(json!({ "label": "工单2" }))).await);
    let after = call(&emu, &t, reqwest::Method::GET, &format!("{DATA}/bobject/ns__Ticket__CST/{rid}"), None).await;
    assert_eq!(ok(&after)[0]["ns__title__CST"], "坏了", "records survive an object update");
    ok(&call(&emu, &t, reqwest::Method::DELETE, &format!("{META}/Object/{oid}"), None).await);
    err(&call(&emu, &t, reqwest::Method::GET, &format!("{META}/Object/{oid}"), None).await, 404);
    err(&call(&emu, &t, reqwest::Method::POST, &format!("{DATA}/query/ns__Ticket__CST"), Some(json!({}))).await, 404);
    emu.stop().await.expect("stops");
}

#[tokio::test]
async fn rate_limit_answers_429_per_token() {
    let emu = start_with(&AZ.replace("token_ttl = 600", "token_ttl = 600\nrate_limits = 2")).await;
    let t = token(&emu).await;
    let frozen = client().post(format!("{}/__emu/clock", emu.base_url())).json(&json!({ "freeze": true })).send().await.unwrap();
    assert_eq!(frozen.status(), 200);
    let path = format!("{DATA}/count/ns__Asset__CST");
    ok(&call(&emu, &t, reqwest::Method::POST, &path, Some(json!({}))).await);
    ok(&call(&emu, &t, reqwest::Method::POST, &path, Some(json!({}))).await);
    let third = call(&emu, &t, reqwest::Method::POST, &path, Some(json!({}))).await;
    assert_eq!(err(&third, 429), "429000001");
    let other = token(&emu).await;
    ok(&call(&emu, &other, reqwest::Method::POST, &path, Some(json!({}))).await);
    emu.stop().await.expect("stops");
}

#[tokio::test]
async fn picklists_feed_field_options_and_follow_changes() {
    let emu = start_with(AZ).await;
    let t = token(&emu).await;
    let made = call(
        &emu,
        &t,
        Method::POST,
        &format!("{META}/Picklist"),
        Some(json!({ "name": "ns__Colors", "masterLabel": "颜色", "picklistValues": [{ "value": "red", "label": "红" }, { "value": "blue" }] })),
    )
    .await;
    let set = ok(&made).as_str().expect("id").to_owned();
    assert!(set.starts_with("000P"), "{set}");
    for bad in [
        json!({ "name": "ns__Colors", "masterLabel": "again" }),
        json!({ "name": "Colors", "masterLabel": "x" }),
        json!({ "name": "ns__a__b", "masterLabel": "x" }),
        json!({ "name": "ns__Sizes" }),
        json!({ "name": "ns__Sizes", "masterLabel": "x", "picklistValues": [{ "value": "a;b" }] }),
    ] {
        err(&call(&emu, &t, Method::POST, &format!("{META}/Picklist"), Some(bad)).await, 400);
    }
    let obj = ok(&call(&emu, &t, Method::GET, &format!("{META}/Object/ns__Asset__CST"), None).await)["id"].as_str().unwrap().to_owned();
    let field = call(
        &emu,
        &t,
        Method::POST,
        &format!("{META}/Object/{obj}/Field"),
        Some(json!({ "name": "ns__color__CST", "dataType": "SingleSelect", "picklist": "ns__Colors" })),
    )
    .await;
    ok(&field);
    let create = |color: &'static str| {
        let (emu, t) = (&emu, &t);
        async move {
            call(
                emu,
                t,
                Method::POST,
                &format!("{DATA}/bobject/ns__Asset__CST"),
                Some(json!({ "records": [{ "ns__code__CST": format!("C-{color}"), "ns__color__CST": color }] })),
            )
            .await
        }
    };
    ok(&create("red").await);
    err(&create("green").await, 400);
    // Adding a value makes it valid at once; an existing value cannot be added again.
    let add = call(
        &emu,
        &t,
        Method::POST,
        &format!("{META}/picklist/{set}"),
        Some(json!({ "picklistValues": [{ "value": "green", "label": "绿" }] })),
    )
    .await;
    assert_eq!(ok(&add), 1);
    err(&call(&emu, &t, Method::POST, &format!("{META}/Picklist/{set}"), Some(json!({ "picklistValues": ["green"] }))).await, 400);
    ok(&create("green").await);
    // Removing one value makes it invalid again.
    ok(&call(&emu, &t, Method::DELETE, &format!("{META}/Picklist/{set}?values=blue"), None).await);
    err(&create("blue").await, 400);
    let got = call(&emu, &t, Method::GET, &format!("{META}/Picklist/ns__Colors"), None).await;
    assert_eq!(ok(&got)["picklistValues"], json!([{ "value": "red", "label": "红" }, { "value": "green", "label": "绿" }]));
    let users = call(&emu, &t, Method::GET, &format!("{META}/Picklist/{set}?flag=field"), None).await;
    assert_eq!(ok(&users)[0]["fieldName"], "ns__color__CST");
    assert_eq!(ok(&call(&emu, &t, Method::PUT, &format!("{META}/Picklist/{set}"), Some(json!({ "masterLabel": "色" }))).await), "1");
    assert_eq!(ok(&call(&emu, &t, Method::GET, &format!("{META}/Picklist"), None).await)[0]["masterLabel"], "色");
    // A set in use cannot be deleted; unknown sets and values are 404.
    err(&call(&emu, &t, Method::DELETE, &format!("{META}/Picklist/{set}"), None).await, 400);
    err(&call(&emu, &t, Method::DELETE, &format!("{META}/Picklist/{set}?values=purple"), None).await, 404);
    err(&call(&emu, &t, Method::GET, &format!("{META}/Picklist/000P000000nothere000"), None).await, 404);
    let fid = ok(&field).as_str().unwrap().to_owned();
    ok(&call(&emu, &t, Method::DELETE, &format!("{META}/Object/{obj}/Field/{fid}"), None).await);
    assert_eq!(ok(&call(&emu, &t, Method::DELETE, &format!("{META}/Picklist/{set}"), None).await), 1);
}

#[tokio::test]
async fn the_standard_object_user_is_the_directory_and_read_only() {
    let scenario = AZ.replace(
        "[[users]]\nid = \"robot\"\nname = \"集成用户\"\n",
        "[[users]]\nid = \"robot\"\nname = \"集成用户\"\n\n[[users]]\nid = \"amy\"\nname = \"Amy\"\nemail = \"amy@example.com\"\nmobile = \"13800000000\"\n\n[[users]]\nid = \"gone\"\nname = \"Left\"\nstatus = -1\n",
    ) + "\n[jiandaoyun]\napi_keys = [\"test-key\"]\n[[jiandaoyun.apps]]\napp_id = \"aaaaaaaaaaaaaaaaaaaaaaaa\"\nname = \"A\"\n";
    let emu = start_with(&scenario).await;
    let t = token(&emu).await;
    let q = call(&emu, &t, Method::POST, &format!("{DATA}/query/User"), Some(json!({}))).await;
    assert_eq!(q.body["count"], 3);
    let users = ok(&q).as_array().cloned().unwrap_or_default();
    let amy = users.iter().find(|u| u["usrName"] == "amy").cloned().expect("amy");
    snap!("astrozero_user", amy);
    assert_eq!(
        [&amy["name"], &amy["email"], &amy["phone"], &amy["active"]],
        [&json!("Amy"), &json!("amy@example.com"), &json!("13800000000"), &json!(true)]
    );
    // The record's id is the one every record's owner fields carry for that person.
    let asset = ok(&call(&emu, &t, Method::POST, &format!("{DATA}/query/ns__Asset__CST"), Some(json!({}))).await)[0].clone();
    let robot = users.iter().find(|u| u["usrName"] == "robot").expect("robot");
    assert_eq!(asset["owner"], robot["id"]);
    assert_eq!(asset["owner.__objectType"], "User");
    let id = amy["id"].as_str().unwrap_or_default();
    assert_eq!(ok(&call(&emu, &t, Method::GET, &format!("{DATA}/bobject/User/{id}"), None).await)[0]["usrName"], "amy");
    let active = json!({ "condition": { "conjunction": "AND", "conditions": [{ "field": "active", "operator": "eq", "value": true }] } });
    assert_eq!(ok(&call(&emu, &t, Method::POST, &format!("{DATA}/count/User"), Some(active)).await), 2, "the one who left is inactive");

    // Joined to the directory: a member changed through another platform's contacts API reads changed.
    let renamed = post(&emu, "/api/v5/corp/user/update", json!({ "username": "amy", "name": "Amy Lee" })).await;
    assert_eq!(renamed.status, 200, "{}", renamed.body);
    assert_eq!(ok(&call(&emu, &t, Method::GET, &format!("{DATA}/bobject/User/{id}"), None).await)[0]["name"], "Amy Lee");
    let created = post(&emu, "/api/v5/corp/user/create", json!({ "username": "bob", "name": "Bob" })).await;
    assert_eq!(created.status, 200, "{}", created.body);
    assert_eq!(call(&emu, &t, Method::POST, &format!("{DATA}/query/User"), Some(json!({}))).await.body["count"], 4);

    // Read-only through every write route: HTTP 403, nothing changed.
    let writes = [
        (Method::POST, format!("{DATA}/bobject/User"), Some(json!({ "records": [{ "name": "x" }] }))),
        (Method::PUT, format!("{DATA}/bobject/User/{id}"), Some(json!({ "setValue": { "name": "x" } }))),
        (Method::DELETE, format!("{DATA}/bobject/User/{id}"), None),
        (Method::DELETE, format!("{DATA}/bobject/User?records={id}"), None),
        (Method::PUT, format!("{DATA}/bobject/User"), Some(json!({ "setValue": { "name": "x" }, "condition": {} }))),
        (Method::POST, format!("{DATA}/delete/User"), Some(json!({ "condition": {} }))),
        (Method::POST, format!("{DATA}/upsert/User"), Some(json!({ "records": [{ "id": id, "name": "x" }] }))),
    ];
    for (method, path, body) in writes {
        let refused = call(&emu, &t, method.clone(), &path, body).await;
        assert_eq!(err(&refused, 403), "403000001", "{method} {path}");
        assert!(refused.body["resMsg"].as_str().unwrap_or_default().contains("User is a standard object"), "{}", refused.body);
    }
    assert_eq!(call(&emu, &t, Method::POST, &format!("{DATA}/query/User"), Some(json!({}))).await.body["count"], 4);
    let acted = client()
        .post(format!("{}/__emu/act", emu.base_url()))
        .body(json!({ "platform": "astrozero", "as": "robot", "action": "delete", "object": "User", "id": id }).to_string())
        .send()
        .await
        .expect("act");
    assert_eq!(acted.status(), 403);
    // The metadata API lists it as a standard object (category 1) and refuses to change it.
    let list = call(&emu, &t, Method::GET, &format!("{META}/Object"), None).await;
    let user_obj = ok(&list).as_array().and_then(|a| a.iter().find(|o| o["name"] == "User").cloned()).expect("listed");
    assert_eq!(user_obj["category"], 1);
    let oid = user_obj["id"].as_str().unwrap_or_default();
    assert_eq!(call(&emu, &t, Method::DELETE, &format!("{META}/Object/{oid}"), None).await.status / 100, 4);
}

#[tokio::test]
async fn generate_fills_an_object_with_unique_values() {
    let scenario = AZ.replacen("records = [\n", "generate = { count = 300 }\nrecords = [\n", 1);
    let emu = start_with(&scenario).await;
    let t = token(&emu).await;
    assert_eq!(
        ok(&call(&emu, &t, Method::POST, &format!("{DATA}/count/ns__Asset__CST"), Some(json!({}))).await),
        303,
        "three seeded, 300 generated"
    );
    // Unique codes stay unique; the data routes page and filter generated records like any other.
    let q = call(&emu, &t, Method::POST, &format!("{DATA}/query/ns__Asset__CST"), Some(json!({ "options": { "limit": 5000 } }))).await;
    let codes: std::collections::HashSet<String> =
        ok(&q).as_array().unwrap().iter().filter_map(|r| r["ns__code__CST"].as_str().map(str::to_owned)).collect();
    assert_eq!(codes.len(), 303);
    let used =
        json!({ "condition": { "conjunction": "AND", "conditions": [{ "field": "ns__state__CST", "operator": "eq", "value": "used" }] } });
    let n = ok(&call(&emu, &t, Method::POST, &format!("{DATA}/count/ns__Asset__CST"), Some(used)).await).as_u64().unwrap_or(0);
    assert!(n > 100 && n < 250, "options are cycled: {n}");
    let e = lowcode_emu::Scenario::from_toml_str(&AZ.replacen("records = [\n", "generate = { count = 20000000 }\nrecords = [\n", 1), "t")
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.contains("at most 10000000"), "{e}");
}
