//! State export/import round trips, --state-file persistence (including SIGTERM), scenario replacement,
//! per-platform listeners, concurrent namespaces and the scenario JSON Schema.

use crate::common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;
use lowcode_emu::{Emulator, Options, Scenario};
use serde_json::{json, Value};

const OM: &str = include_str!("fixtures/omflow.toml");

async fn create_jdy(emu: &Emulator, ns: &str, text: &str) -> Value {
    client()
        .post(format!("{}/api/v5/app/entry/data/create", emu.base_url()))
        .header("authorization", format!("Bearer {KEY}"))
        .header("x-emu-namespace", ns)
        .body(json!({ "app_id": APP, "entry_id": ALL, "data": { "_widget_1600000000001": { "value": text } } }).to_string())
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json")
}

/// Everything but the namespace name must survive export → import → export.
fn without_namespace(mut v: Value) -> Value {
    v["namespace"] = Value::Null;
    v
}

#[tokio::test]
async fn state_round_trips_exactly_and_ids_continue() {
    let both = format!(
        "{FIXTURE}\n{}",
        OM.split_once("[[flows]]").map(|(_, rest)| format!("[[flows]]{rest}")).unwrap_or_default().replace("[[users]]", "[[users_unused]]")
    );
    let _ = both;
    let emu = start().await;
    create_jdy(&emu, "", "一").await;
    post(
        &emu,
        "/api/v5/app/entry/data/batch_create",
        json!({ "app_id": APP, "entry_id": ALL, "data_list": [{}], "transaction_id": "t-1" }),
    )
    .await;
    client()
        .post(format!("{}/__emu/faults", emu.base_url()))
        .body(json!({ "route": "jiandaoyun.app.list", "nth": 5, "error": "forbidden" }).to_string())
        .send()
        .await
        .expect("fault");
    post(&emu, "/api/v5/app/list", json!({})).await;
    client().post(format!("{}/__emu/clock", emu.base_url())).body(r#"{"advance":"3m"}"#).send().await.expect("clock");

    let exported = state_of(&emu, "").await;
    assert_eq!(exported["version"], 1);
    let r = put_in(&emu, "/__emu/state", Some("copy"), exported.to_string()).await;
    assert_eq!((r.status, r.body), (200, json!({ "status": "ok" })));
    let again = state_of(&emu, "copy").await;
    assert_eq!(without_namespace(again), without_namespace(exported.clone()), "round trip is exact");

    // Both worlds continue identically: same next id, same fault counters.
    let next_original = create_jdy(&emu, "", "二").await["data"]["_id"].clone();
    let next_copy = create_jdy(&emu, "copy", "二").await["data"]["_id"].clone();
    assert_eq!(next_original, next_copy);
    assert_eq!(state_of(&emu, "copy").await["faults"]["rules"][0]["matched"], 1);

    for bad in [json!({ "version": 9 }), json!([]), json!({ "version": 1 })] {
        let r = put_in(&emu, "/__emu/state", Some("broken"), bad.to_string()).await;
        assert_eq!(r.status, 400, "{bad}");
        assert!(r.body["error"].is_string());
    }
    let r = put_in(&emu, "/__emu/state", None, "not json".into()).await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn omflow_tickets_and_codes_round_trip() {
    let emu = start_with(OM).await;
    let edit = format!("{}/rest/flowmanage/api/omdata/edit/repair/", emu.base_url());
    client().post(&edit).body(json!({ "security": "fixed-security-code", "omflow_restapi": 1, "action": "create", "formdata": [{ "id": "FORMITM_1", "value": "a" }] }).to_string()).send().await.expect("create");
    client()
        .get(format!("{}/accounts/api/security/get/", emu.base_url()))
        .basic_auth("admin", Some("admin-pw"))
        .send()
        .await
        .expect("login");
    let exported = state_of(&emu, "").await;
    assert_eq!(exported["omflow"]["flows"][1]["tickets"][0]["instance"]["tokens"].as_array().map(Vec::len), Some(2));
    assert_eq!(put_in(&emu, "/__emu/state", Some("b"), exported.to_string()).await.status, 200);
    assert_eq!(without_namespace(state_of(&emu, "b").await), without_namespace(exported));
    // The imported ticket can be pushed in the copy.
    let q: Value = client()
        .post(format!("{}/rest/flowmanage/api/omdata-data-id/get/repair/", emu.base_url()))
        .header("x-emu-namespace", "b")
        .body(json!({ "security": "fixed-security-code", "omflow_restapi": 1, "data_no": 1 }).to_string())
        .send()
        .await
        .expect("query")
        .json()
        .await
        .expect("json");
    assert_eq!(q["result"].as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn state_file_saves_on_request_and_on_stop_and_loads_at_start() {
    let dir = std::env::temp_dir().join(format!("lowcode-emu-state-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("state.json");
    let _ = std::fs::remove_file(&file);
    let scenario = || Scenario::from_toml_str(FIXTURE, "t").expect("scenario");
    let emu = Emulator::start_with(scenario(), Options { state_file: Some(file.clone()), ..Options::default() }).await.expect("starts");
    let id = create_jdy(&emu, "", "保存").await["data"]["_id"].clone();
    create_jdy(&emu, "other-ns", "另一个命名空间").await;
    let saved =
        client().post(format!("{}/__emu/state/save", emu.base_url())).send().await.expect("save").json::<Value>().await.expect("json");
    assert_eq!(saved["status"], "ok");
    assert!(file.exists());
    create_jdy(&emu, "", "停止时保存").await;
    emu.stop().await.expect("stop saves");
    let on_disk: Value = serde_json::from_str(&std::fs::read_to_string(&file).expect("read")).expect("json");
    assert_eq!(on_disk["namespaces"].as_object().map(|o| o.len()), Some(2));
    let leftovers: Vec<_> =
        std::fs::read_dir(&dir).expect("dir").filter_map(Result::ok).filter(|e| e.file_name().to_string_lossy().contains(".tmp")).collect();
    assert!(leftovers.is_empty(), "no temp file left behind");

    let emu = Emulator::start_with(scenario(), Options { state_file: Some(file.clone()), ..Options::default() }).await.expect("restarts");
    let got = post(&emu, "/api/v5/app/entry/data/get", json!({ "app_id": APP, "entry_id": ALL, "data_id": id })).await;
    assert_eq!(got.status, 200);
    let list = post(&emu, "/api/v5/app/entry/data/list", json!({ "app_id": APP, "entry_id": ALL })).await;
    assert_eq!(list.body["data"].as_array().map(Vec::len), Some(2));
    let no_file = start().await;
    let r = client().post(format!("{}/__emu/state/save", no_file.base_url())).send().await.expect("sent");
    assert_eq!(r.status(), 409);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A temp directory holding the fixture as `s.toml`; answers (directory, state file path, scenario path).
fn binary_workspace(tag: &str) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("lowcode-emu-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let scenario = dir.join("s.toml");
    std::fs::write(&scenario, FIXTURE).expect("write");
    (dir.clone(), dir.join("state.json"), scenario)
}

/// Creates a record whose text widget holds `text` through a running binary; answers the reply body.
async fn create_over(base: &str, text: &str) -> Value {
    let body = json!({ "app_id": APP, "entry_id": ALL, "data": { "_widget_1600000000001": { "value": text } } });
    let resp = client()
        .post(format!("{base}/api/v5/app/entry/data/create"))
        .header("authorization", format!("Bearer {KEY}"))
        .body(body.to_string())
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status().as_u16(), 200);
    resp.json().await.expect("json")
}

/// Starts the binary on a free port with a scenario and a state file; answers the child and its base URL.
fn serve_binary(scenario: &std::path::Path, state_file: &std::path::Path, extra: &[&str]) -> (std::process::Child, String) {
    crate::common::spawn_with_url(
        Command::new(env!("CARGO_BIN_EXE_lowcode-emu"))
            .args(["serve", "--port", "0", "--scenario"])
            .arg(scenario)
            .arg("--state-file")
            .arg(state_file)
            .args(extra),
    )
}

#[test]
fn sigterm_drains_and_persists_the_state_file() {
    let (dir, file, scenario) = binary_workspace("term");
    let start = || serve_binary(&scenario, &file, &[]);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (mut child, base) = start();
    let id = rt.block_on(create_over(&base, "TERM"))["data"]["_id"].clone();
    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill");
    assert!(killed.success());
    let status = child.wait().expect("exits");
    assert!(status.success(), "graceful exit: {status:?}");
    let text = std::fs::read_to_string(&file).expect("state file written");
    assert!(text.contains("TERM"));
    let (mut child, base) = start();
    let got = rt.block_on(async {
        client()
            .post(format!("{base}/api/v5/app/entry/data/get"))
            .header("authorization", format!("Bearer {KEY}"))
            .body(json!({ "app_id": APP, "entry_id": ALL, "data_id": id }).to_string())
            .send()
            .await
            .expect("sent")
            .status()
            .as_u16()
    });
    assert_eq!(got, 200, "the record survived the restart");
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
}

/// A half-sent request must not cost the state: SIGTERM saves before draining, the drain is bounded by
/// --drain-ms, and the process exits soon after even though the request never completes.
#[test]
fn sigterm_saves_before_a_stalled_request_drains() {
    use std::io::Write;
    let (dir, file, scenario) = binary_workspace("stall");
    let (mut child, base) = serve_binary(&scenario, &file, &["--drain-ms", "1500"]);
    tokio::runtime::Runtime::new().expect("runtime").block_on(create_over(&base, "STALL"));
    // A request that announces 1000 bytes and sends ten.
    let addr = base.trim_start_matches("http://");
    let mut stalled = std::net::TcpStream::connect(addr).expect("connects");
    write!(stalled, "POST /api/v5/app/entry/data/create HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n0123456789").expect("writes");
    std::thread::sleep(Duration::from_millis(100));
    let started = std::time::Instant::now();
    assert!(Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill").success());
    let deadline = started + Duration::from_secs(1);
    while !std::fs::read_to_string(&file).is_ok_and(|t| t.contains("STALL")) {
        assert!(std::time::Instant::now() < deadline, "state saved before the drain");
        std::thread::sleep(Duration::from_millis(20));
    }
    let status = child.wait().expect("exits");
    assert!(status.success(), "{status:?}");
    assert!(started.elapsed() < Duration::from_secs(5), "the drain is bounded: {:?}", started.elapsed());
    drop(stalled);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn put_scenario_replaces_everything_and_reports_errors_like_check() {
    let emu = start().await;
    create_jdy(&emu, "", "旧数据").await;
    let r = put_in(&emu, "/__emu/scenario", None, OM.to_owned()).await;
    assert_eq!((r.status, r.body), (200, json!({ "status": "ok", "scenario": "omflow-tests", "platforms": ["omflow"] })));
    assert_eq!(get(&emu, "/__emu/health").await.body["platforms"], json!(["omflow"]));
    assert_eq!(get(&emu, "/__emu/requests/count").await.body, json!({ "count": 0 }), "journal cleared");
    let bad = put_in(&emu, "/__emu/scenario", None, "[emulator]\nseed = \"x\"\n".into()).await;
    assert_eq!(bad.status, 400);
    assert_eq!((bad.body["line"].clone(), bad.body["key"].clone()), (json!(2), json!("emulator.seed")));
    assert_eq!(get(&emu, "/__emu/health").await.body["scenario"], "omflow-tests", "a bad scenario changes nothing");
    let as_json = json!({
        "name": "from-json",
        "jiandaoyun": { "api_keys": ["k"], "apps": [{ "app_id": "aaaaaaaaaaaaaaaaaaaaaaaa", "name": "A", "entries": [] }] }
    });
    let r = put_in(&emu, "/__emu/scenario", None, as_json.to_string()).await;
    assert_eq!(r.body["scenario"], "from-json");
    let r = post_raw(&emu, "/api/v5/app/list", Some("k"), "{}").await;
    assert_eq!(r.body, json!({ "apps": [{ "name": "A", "app_id": "aaaaaaaaaaaaaaaaaaaaaaaa" }] }));
    let bad_json = put_in(&emu, "/__emu/scenario", None, json!({ "jiandaoyun": { "api_keys": 5 } }).to_string()).await;
    assert_eq!(bad_json.body["key"], "jiandaoyun.api_keys");
}

#[tokio::test]
async fn a_platform_can_have_its_own_port() {
    let emu = start_with(&OM.replace("[omflow]", "[server]\nports = { omflow = 0 }\n\n[omflow]")).await;
    let own = emu.platform_url("omflow");
    assert_ne!(own, emu.base_url());
    let r: Value = client()
        .post(format!("{own}/rest/flowmanage/api/omdata/edit/incident/"))
        .body(json!({ "security": "fixed-security-code", "omflow_restapi": 1, "action": "create", "formdata": [{ "id": "FORMITM_1", "value": "x" }] }).to_string())
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    assert_eq!(r["result"], "1");
    let e = Scenario::from_toml_str("[server]\nports = { sap = 1 }\n", "p").expect_err("unknown platform");
    assert_eq!(e.key, "server.ports.sap");
}

#[tokio::test]
async fn concurrent_namespaces_never_see_each_other() {
    let emu = start().await;
    let mut tasks = Vec::new();
    for w in 0..16 {
        let base = emu.base_url();
        tasks.push(tokio::spawn(async move {
            let ns = format!("worker-{w}");
            let mut ids = Vec::new();
            for i in 0..10 {
                let r: Value = client()
                    .post(format!("{base}/api/v5/app/entry/data/create"))
                    .header("authorization", format!("Bearer {KEY}"))
                    .header("x-emu-namespace", &ns)
                    .body(
                        json!({ "app_id": APP, "entry_id": ALL, "data": { "_widget_1600000000001": { "value": format!("{ns}-{i}") } } })
                            .to_string(),
                    )
                    .send()
                    .await
                    .expect("sent")
                    .json()
                    .await
                    .expect("json");
                ids.push(r["data"]["_id"].as_str().unwrap_or_default().to_owned());
            }
            let list: Value = client()
                .post(format!("{base}/api/v5/app/entry/data/list"))
                .header("authorization", format!("Bearer {KEY}"))
                .header("x-emu-namespace", &ns)
                .body(json!({ "app_id": APP, "entry_id": ALL, "limit": 100 }).to_string())
                .send()
                .await
                .expect("sent")
                .json()
                .await
                .expect("json");
            let texts: Vec<String> = list["data"]
                .as_array()
                .map(|a| a.iter().map(|d| d["_widget_1600000000001"].as_str().unwrap_or("").to_owned()).collect())
                .unwrap_or_default();
            (ns, ids, texts)
        }));
    }
    let mut first_ids: Option<Vec<String>> = None;
    for t in tasks {
        let (ns, ids, texts) = t.await.expect("task");
        assert_eq!(texts, (0..10).map(|i| format!("{ns}-{i}")).collect::<Vec<_>>(), "{ns} sees exactly its own records");
        match &first_ids {
            None => first_ids = Some(ids),
            Some(f) => assert_eq!(&ids, f, "every namespace mints the same ids from the same scenario"),
        }
    }
    assert_eq!(get(&emu, "/__emu/namespaces").await.body["namespaces"].as_array().map(Vec::len), Some(17));
    assert_eq!(get(&emu, "/__emu/requests/count?namespace=worker-3").await.body, json!({ "count": 11 }));
    tokio::time::sleep(Duration::from_millis(1)).await;
}

#[test]
fn export_schema_describes_every_section() {
    let out = Command::new(env!("CARGO_BIN_EXE_lowcode-emu")).arg("export-schema").output().expect("runs");
    assert!(out.status.success());
    let schema: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let props: Vec<&str> = schema["properties"].as_object().map(|o| o.keys().map(String::as_str).collect()).unwrap_or_default();
    for key in ["emulator", "server", "users", "departments", "flows", "jiandaoyun", "omflow", "faults"] {
        assert!(props.contains(&key), "{key} in {props:?}");
    }
    assert_eq!(schema["title"], "lowcode-emu scenario");
}

#[tokio::test]
async fn astrozero_objects_records_and_tokens_round_trip() {
    let emu = Emulator::start(Scenario::demo()).await.expect("starts");
    let token: Value = client()
        .post(format!("{}/baas/auth/v1.0/oauth2/token", emu.base_url()))
        .form(&[("grant_type", "client_credentials"), ("client_id", "demo-client"), ("client_secret", "demo-secret")])
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("json");
    let token = token["access_token"].as_str().expect("token").to_owned();
    let az = |ns: &'static str, path: &str, body: Value| {
        client()
            .post(format!("{}{path}", emu.base_url()))
            .header("access-token", &token)
            .header("x-emu-namespace", ns)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
    };
    let made: Value =
        az("", "/u-route/baas/metadata/v1.0/Object", json!({ "name": "demo__Note__CST", "fields": [{ "name": "demo__text__CST" }] }))
            .await
            .expect("object")
            .json()
            .await
            .expect("json");
    assert_eq!(made["resCode"], "0", "{made}");
    az("", "/u-route/baas/data/v1.0/bobject/demo__Note__CST", json!({ "records": [{ "demo__text__CST": "hello" }] }))
        .await
        .expect("record");
    // A Flow waiting at its screen and an uploaded connector file travel with the state.
    let started: Value = az("", "/u-route/baas/v1.0/flow/start/demo__ReviewSupplier", json!({ "code": "SUP-001" }))
        .await
        .expect("flow")
        .json()
        .await
        .expect("json");
    let interview = started["result"]["interviewId"].as_str().expect("interview").to_owned();
    client()
        .post(format!("{}/u-route/baas/sys/v1.1/connectors/obs/demo__DocsOBS/putobject?object=notes/n.txt", emu.base_url()))
        .header("access-token", &token)
        .body("saved bytes")
        .send()
        .await
        .expect("upload");

    // The demo clock runs; freeze it so the two exports can be compared.
    client().post(format!("{}/__emu/clock", emu.base_url())).body(r#"{"freeze":true}"#).send().await.expect("freeze");
    let exported = state_of(&emu, "").await;
    assert_eq!(exported["astrozero"]["objects"].as_array().map(Vec::len), Some(3), "User and the two custom objects");
    assert_eq!(put_in(&emu, "/__emu/state", Some("b"), exported.to_string()).await.status, 200);
    assert_eq!(without_namespace(state_of(&emu, "b").await), without_namespace(exported));
    // The token and the object created at run time work in the copy.
    let q: Value = az("b", "/u-route/baas/data/v1.0/query/demo__Note__CST", json!({})).await.expect("query").json().await.expect("json");
    assert_eq!(q["count"], 1, "{q}");
    assert_eq!(q["result"][0]["demo__text__CST"], "hello");
    let next: Value = az("b", &format!("/u-route/baas/v1.0/flow/next/{interview}"), json!({ "rating": "C" }))
        .await
        .expect("next")
        .json()
        .await
        .expect("json");
    assert_eq!(next["result"]["outputs"]["rating"], "C", "{next}");
    let file = client()
        .get(format!("{}/u-route/baas/sys/v1.1/connectors/obs/demo__DocsOBS/viewobject?object=notes/n.txt", emu.base_url()))
        .header("access-token", &token)
        .header("x-emu-namespace", "b")
        .send()
        .await
        .expect("download");
    assert_eq!(file.text().await.expect("text"), "saved bytes");
}

/// Output into a pipe whose reader has gone (`routes | head -1`) ends quietly, not with a panic.
#[test]
fn cli_output_into_a_closed_pipe_ends_quietly() {
    for args in [&["routes", "--errors"][..], &["export-schema"][..]] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_lowcode-emu"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawns");
        drop(child.stdout.take()); // the reader leaves before the first line
        let out = child.wait_with_output().expect("runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(out.status.success(), "{args:?}: {:?}", out.status);
    }
}
