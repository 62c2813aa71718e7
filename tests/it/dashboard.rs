//! The dashboard's admin calls over real HTTP: the page's files, the overview, collections and record
//! pages of every platform (cursor, filter, bounds, errors), the inbox, and the journal's live-view
//! query. The page itself is driven in a real browser by tests/sdk/test_dashboard.py.

use crate::common;

use common::*;
use serde_json::{json, Value};

const CUSTOMERS: &str = "6566f8a1c2e4b10a3c7d0101";
const STOCK: &str = "6566f8a1c2e4b10a3c7d0301";

/// The embedded demo: every platform, seeded records and open tasks.
async fn demo() -> lowcode_emu::Emulator {
    lowcode_emu::Emulator::start(lowcode_emu::Scenario::demo()).await.expect("starts")
}

async fn records(emu: &lowcode_emu::Emulator, query: &str) -> Reply {
    get(emu, &format!("/__emu/records?{query}")).await
}

#[tokio::test]
async fn the_page_and_its_files_are_served_from_the_binary() {
    let emu = demo().await;
    for (path, kind) in [
        ("/__emu/ui", "text/html"),
        ("/__emu/ui/", "text/html"),
        ("/__emu/ui/app.js", "text/javascript"),
        ("/__emu/ui/style.css", "text/css"),
    ] {
        let r = client().get(format!("{}{path}", emu.base_url())).send().await.expect("sent");
        assert_eq!(r.status(), 200, "{path}");
        let ct = r.headers()["content-type"].to_str().unwrap_or("").to_owned();
        assert!(ct.starts_with(kind), "{path}: {ct}");
        assert!(!r.text().await.unwrap_or_default().is_empty());
    }
    assert_eq!(get(&emu, "/__emu/ui/nope.js").await.status, 404);
}

#[tokio::test]
async fn the_overview_names_each_platform_with_its_credentials_and_counts() {
    let emu = demo().await;
    let o = get(&emu, "/__emu/overview").await;
    assert_eq!(o.status, 200, "{}", o.body);
    assert_eq!(o.body["scenario"], "demo");
    assert_eq!(o.body["locale"], "zh");
    let names: Vec<&str> = o.body["platforms"].as_array().expect("platforms").iter().filter_map(|p| p["name"].as_str()).collect();
    assert_eq!(names, ["jiandaoyun", "yida", "astrozero", "omflow"]);
    let jdy = &o.body["platforms"][0];
    assert_eq!(jdy["collections"], 4);
    assert_eq!(jdy["records"], 78);
    assert!(
        jdy["banner"][0].as_str().is_some_and(|l| l.contains(&emu.base_url().replace("http://", "")) && l.contains("jdy-demo-key")),
        "{jdy}"
    );
    assert!(jdy["errors"].as_array().is_some_and(|e| e.contains(&json!("rate_limited"))));
    assert_eq!(o.body["users"][0], json!({ "id": "zhangsan", "name": "张三", "active": true }));
}

#[tokio::test]
async fn records_page_by_cursor_in_the_platforms_read_shape() {
    let emu = demo().await;
    let all = get(&emu, "/__emu/collections").await.body;
    assert_eq!(all["jiandaoyun"][3]["id"], STOCK);
    assert_eq!(all["jiandaoyun"][3]["count"], 60);
    assert_eq!(all["jiandaoyun"][0]["create"], json!({ "action": "create", "entry_id": CUSTOMERS, "data": "$data" }));

    // 60 records in pages of 25: every one once, in `_id` order, each as the data API reads it.
    let mut seen: Vec<String> = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let q =
            format!("platform=jiandaoyun&collection={STOCK}&limit=25{}", after.as_ref().map(|a| format!("&after={a}")).unwrap_or_default());
        let page = records(&emu, &q).await.body;
        assert_eq!(page["total"], 60);
        for item in page["items"].as_array().expect("items") {
            assert_eq!(item["record"]["_id"], item["id"]);
            assert_eq!(item["record"]["entryId"], STOCK);
            seen.push(item["id"].as_str().unwrap_or("").to_owned());
        }
        match page["next"].as_str() {
            Some(n) => after = Some(n.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 60);
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "in id order, no repeats");
    let api = post_raw(
        &emu,
        "/api/v5/app/entry/data/get",
        Some("jdy-demo-key"),
        json!({ "app_id": "6566f8a1c2e4b10a3c7d0003", "entry_id": STOCK, "data_id": seen[0] }).to_string(),
    )
    .await;
    let page = records(&emu, &format!("platform=jiandaoyun&collection={STOCK}&limit=1")).await.body;
    assert_eq!(page["items"][0]["record"], api.body["data"], "the same shape the API reads");

    // A text filter matches anywhere in the record, case-insensitively.
    let hits = records(&emu, &format!("platform=jiandaoyun&collection={STOCK}&q=%E9%94%AE%E7%9B%981&limit=500")).await.body;
    let items = hits["items"].as_array().expect("items");
    assert!(!items.is_empty() && items.iter().all(|i| i["record"].to_string().contains("键盘1")), "{hits}");

    // The other platforms page their collections the same way.
    for (platform, coll) in [
        ("yida", "APP_DEMO0000000000000001/FORM-DEMO00000000000000000000000000000001"),
        ("astrozero", "demo__Supplier__CST"),
        ("omflow", "incident"),
    ] {
        let page = records(&emu, &format!("platform={platform}&collection={coll}")).await;
        assert_eq!(page.status, 200, "{platform}: {}", page.body);
        assert_eq!(page.body["items"].as_array().map(Vec::len), page.body["total"].as_u64().map(|n| n as usize), "{platform}");
    }

    // Errors name the parameter.
    assert_eq!(records(&emu, "collection=x").await.status, 400);
    assert_eq!(records(&emu, "platform=nope&collection=x").await.status, 404);
    let missing = records(&emu, "platform=jiandaoyun&collection=ffffffffffffffffffffffff").await;
    assert_eq!(missing.status, 404);
    assert!(missing.body["error"].as_str().is_some_and(|e| e.contains("collection")));
    assert_eq!(records(&emu, &format!("platform=jiandaoyun&collection={STOCK}&limit=501")).await.status, 400);
}

#[tokio::test]
async fn the_inbox_lists_open_tasks_across_platforms_with_what_act_needs() {
    let emu = demo().await;
    let inbox = get(&emu, "/__emu/tasks?user=lisi").await.body;
    let tasks = inbox["tasks"].as_array().expect("tasks").clone();
    let platforms: Vec<&str> = tasks.iter().filter_map(|t| t["platform"].as_str()).collect();
    assert!(platforms.contains(&"jiandaoyun") && platforms.contains(&"yida"), "{inbox}");
    // Acting with the task's own fields approves it, and it leaves the inbox.
    let jdy = tasks.iter().find(|t| t["platform"] == "jiandaoyun").expect("a jiandaoyun task").clone();
    let mut body = jdy["act"].as_object().cloned().expect("act");
    body.insert("platform".into(), json!("jiandaoyun"));
    body.insert("as".into(), json!("lisi"));
    body.insert("action".into(), json!("approve"));
    body.insert(jdy["comment_field"].as_str().expect("field").to_owned(), json!("同意"));
    let r = post(&emu, "/__emu/act", Value::Object(body)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let after = get(&emu, "/__emu/tasks?user=lisi").await.body;
    assert!(after["tasks"].as_array().expect("tasks").iter().all(|t| t["act"] != jdy["act"]));
    // An OMFlow ticket's open step, named for nobody, is anyone's to push on from the inbox.
    let opened = post(&emu, "/__emu/act", json!({ "platform": "omflow", "as": "zhangsan", "api_path": "incident", "action": "create", "formdata": [{ "id": "FORMITM_1", "value": "打印机坏了" }] })).await;
    assert_eq!(opened.status, 200, "{}", opened.body);
    let inbox = get(&emu, "/__emu/tasks?user=lisi").await.body;
    let step =
        inbox["tasks"].as_array().expect("tasks").iter().find(|t| t["platform"] == "omflow").expect("the ticket's open step").clone();
    assert_eq!(step["node"], "派工");
    assert_eq!(step["actions"], json!(["update"]));
    let mut body = step["act"].as_object().cloned().expect("act");
    body.extend([("platform".to_owned(), json!("omflow")), ("as".to_owned(), json!("lisi")), ("action".to_owned(), json!("update"))]);
    let pushed = post(&emu, "/__emu/act", Value::Object(body)).await;
    assert_eq!(pushed.status, 200, "{}", pushed.body);
    let page = records(&emu, "platform=omflow&collection=incident").await.body;
    assert_ne!(page["items"][0]["record"]["stop_chart_text"], "派工", "the ticket moved on: {page}");
    assert_eq!(get(&emu, "/__emu/tasks?user=nobody").await.status, 404);
    assert_eq!(get(&emu, "/__emu/tasks").await.status, 400);
}

#[tokio::test]
async fn astrozero_records_are_made_changed_and_removed_as_a_person() {
    let emu = demo().await;
    let made = post(&emu, "/__emu/act", json!({ "platform": "astrozero", "as": "zhangsan", "action": "create", "object": "demo__Supplier__CST", "values": { "name": "新供应商", "demo__code__CST": "S-900" } })).await;
    assert_eq!(made.status, 200, "{}", made.body);
    let id = made.body["id"].as_str().expect("id").to_owned();
    let changed = post(&emu, "/__emu/act", json!({ "platform": "astrozero", "as": "zhangsan", "action": "update", "object": "demo__Supplier__CST", "id": id, "values": { "name": "改名" } })).await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    let page = records(&emu, "platform=astrozero&collection=demo__Supplier__CST&q=%E6%94%B9%E5%90%8D").await.body;
    assert_eq!(page["items"][0]["id"], id.as_str());
    assert_eq!(page["items"][0]["record"]["name"], "改名");
    let gone = post(
        &emu,
        "/__emu/act",
        json!({ "platform": "astrozero", "as": "zhangsan", "action": "delete", "object": "demo__Supplier__CST", "id": id }),
    )
    .await;
    assert_eq!(gone.status, 200);
    let again = post(
        &emu,
        "/__emu/act",
        json!({ "platform": "astrozero", "as": "zhangsan", "action": "delete", "object": "demo__Supplier__CST", "id": id }),
    )
    .await;
    assert_eq!(again.status, 404);
}

#[tokio::test]
async fn the_journal_answers_what_is_new_and_the_newest_few() {
    let emu = demo().await;
    for _ in 0..5 {
        post_raw(
            &emu,
            "/api/v5/app/entry/data/list",
            Some("jdy-demo-key"),
            json!({ "app_id": "6566f8a1c2e4b10a3c7d0001", "entry_id": CUSTOMERS }).to_string(),
        )
        .await;
    }
    let all = get(&emu, "/__emu/requests").await.body;
    let ids: Vec<u64> = all.as_array().expect("entries").iter().filter_map(|e| e["id"].as_u64()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids grow along the journal: {ids:?}");
    let newest = get(&emu, "/__emu/requests?limit=2").await.body;
    assert_eq!(
        newest.as_array().map(|a| a.iter().filter_map(|e| e["id"].as_u64()).collect::<Vec<_>>()),
        Some(ids[ids.len() - 2..].to_vec())
    );
    let since = get(&emu, &format!("/__emu/requests?since={}", ids[2])).await.body;
    assert_eq!(since.as_array().map(Vec::len), Some(ids.len() - 3));
    assert_eq!(get(&emu, "/__emu/requests?limit=0").await.status, 400);
}
