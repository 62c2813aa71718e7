//! Limits and security: what a client or a scenario sent over HTTP cannot make the emulator do.

use std::time::{Duration, Instant};

use crate::common;

use common::*;
use lowcode_emu::{Emulator, Options, Scenario};
use serde_json::Value;

async fn put_scenario(emu: &Emulator, body: &str, content_type: &str) -> Reply {
    let resp = client()
        .put(format!("{}/__emu/scenario", emu.base_url()))
        .header("content-type", content_type)
        .body(body.to_owned())
        .send()
        .await
        .expect("sent");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    Reply { status, body: resp.json().await.unwrap_or(Value::Null), headers }
}

fn temp_dir(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("lowcode-emu-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    dir
}

/// A scenario sent over HTTP reads no file: not a device that never ends, not a file that exists, not a
/// records file. The answers are the same whether the path exists or not.
#[tokio::test]
async fn scenarios_sent_over_http_read_no_file() {
    let emu = start().await;
    let started = Instant::now();
    let zero = put_scenario(&emu, "include = [\"/dev/zero\"]\n", "text/plain").await;
    assert!(started.elapsed() < Duration::from_secs(5), "answered at once");
    assert_eq!(zero.status, 400, "{}", zero.body);
    assert!(zero.body["message"].as_str().is_some_and(|m| m.contains("cannot read files")), "{}", zero.body);

    let existing = env!("CARGO_MANIFEST_DIR").to_owned() + "/Cargo.toml";
    let missing = env!("CARGO_MANIFEST_DIR").to_owned() + "/no-such-file.toml";
    let a = put_scenario(&emu, &format!("include = [{existing:?}]\n"), "text/plain").await;
    let b = put_scenario(&emu, &format!("include = [{missing:?}]\n"), "text/plain").await;
    assert_eq!(a.status, 400);
    assert_eq!(
        a.body["message"].as_str().map(|m| m.replace(&existing, "P")),
        b.body["message"].as_str().map(|m| m.replace(&missing, "P")),
        "existence does not show"
    );

    let rows = temp_dir("rows").join("rows.jsonl");
    std::fs::write(&rows, "{\"_widget_1\": \"secret\"}\n").expect("write");
    let toml = format!("{MINIMAL_JDY}records_file = {:?}\n", rows.display().to_string());
    let r = put_scenario(&emu, &toml, "text/plain").await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.body["key"], "jiandaoyun.apps[0].entries[0].records_file");
    assert!(r.body["message"].as_str().is_some_and(|m| m.contains("cannot read files")), "{}", r.body);

    // The scenario in force is untouched by the refusals.
    assert_eq!(get(&emu, "/__emu/health").await.body["scenario"], "jdy-tests");
}

/// With `scenario_dir`, a scenario sent over HTTP reads regular files under that directory and nothing
/// outside it; a path that escapes, a missing file and a device all get the same answer.
#[tokio::test]
async fn scenario_dir_allows_files_under_it_only() {
    let dir = temp_dir("scndir");
    std::fs::write(dir.join("users.toml"), "[[users]]\nid = \"u1\"\nname = \"一\"\n").expect("write");
    std::fs::write(dir.join("rows.jsonl"), "{\"_widget_1\": \"from the directory\"}\n").expect("write");
    let options = Options { scenario_dir: Some(dir.clone()), ..Options::default() };
    let emu = Emulator::start_with(Scenario::from_toml_str(FIXTURE, "t").expect("valid"), options).await.expect("starts");

    let ok = format!("name = \"from-dir\"\ninclude = [\"users.toml\"]\n{MINIMAL_JDY}records_file = \"rows.jsonl\"\n");
    let r = put_scenario(&emu, &ok, "text/plain").await;
    assert_eq!((r.status, r.body["scenario"].clone()), (200, "from-dir".into()), "{}", r.body);
    let list = post_raw(
        &emu,
        "/api/v5/app/entry/data/list",
        Some("k"),
        serde_json::json!({ "app_id": "aaaaaaaaaaaaaaaaaaaaaaaa", "entry_id": "bbbbbbbbbbbbbbbbbbbbbbbb" }).to_string(),
    )
    .await;
    assert_eq!(list.body["data"][0]["_widget_1"], "from the directory", "{}", list.body);

    let mut messages = Vec::new();
    for path in ["../../../../etc/hostname", "/etc/hostname", "missing.toml", "/dev/zero"] {
        let r = put_scenario(&emu, &format!("include = [{path:?}]\n"), "text/plain").await;
        assert_eq!(r.status, 400, "{path}: {}", r.body);
        messages.push(r.body["message"].as_str().unwrap_or_default().replace(path, "P"));
    }
    assert!(messages.iter().all(|m| m == &messages[0] && m.contains("not a readable file under the scenario directory")), "{messages:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Files named by the operator keep working, but a device or an oversized file is refused at once.
#[test]
fn operator_files_must_be_regular_files() {
    let dir = temp_dir("devzero");
    std::fs::write(dir.join("main.toml"), "include = [\"/dev/zero\"]\n").expect("write");
    let started = Instant::now();
    let e = Scenario::from_file(dir.join("main.toml")).expect_err("a device is refused");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(e.message.contains("not a regular file"), "{e}");
    assert_eq!(e.key, "include[0]");
    let _ = std::fs::remove_dir_all(&dir);
}

/// With an admin token every admin call but health needs it; platform routes never do.
#[tokio::test]
async fn the_admin_token_guards_the_admin_api() {
    let options = Options { admin_token: Some("s3cret".into()), ..Options::default() };
    let emu = Emulator::start_with(Scenario::from_toml_str(FIXTURE, "t").expect("valid"), options).await.expect("starts");
    let admin = |path: &'static str, header: Option<(&'static str, &'static str)>| {
        let emu = &emu;
        async move {
            let mut req = client().get(format!("{}{path}", emu.base_url()));
            if let Some((k, v)) = header {
                req = req.header(k, v);
            }
            let resp = req.send().await.expect("sent");
            (resp.status().as_u16(), resp.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    assert_eq!(admin("/__emu/health", None).await.0, 200, "health stays open for container probes");
    let (status, body) = admin("/__emu/requests", None).await;
    assert_eq!(status, 401);
    assert!(body["error"].as_str().is_some_and(|m| m.contains("x-emu-admin-token")), "{body}");
    assert_eq!(admin("/__emu/state", Some(("x-emu-admin-token", "wrong"))).await.0, 401);
    assert_eq!(admin("/__emu/state", Some(("x-emu-admin-token", "s3cre"))).await.0, 401);
    assert_eq!(admin("/__emu/requests", Some(("x-emu-admin-token", "s3cret"))).await.0, 200);
    assert_eq!(admin("/__emu/requests", Some(("authorization", "Bearer s3cret"))).await.0, 200);
    let reset = client().post(format!("{}/__emu/reset", emu.base_url())).send().await.expect("sent");
    assert_eq!(reset.status().as_u16(), 401, "writes are guarded too");
    let r = post_raw(&emu, "/api/v5/app/list", Some(KEY), "{}").await;
    assert_eq!(r.status, 200, "platform routes need no admin token");
}

/// Concurrent saves all succeed and leave no temp file; temp files a killed save left are removed at start.
#[tokio::test]
async fn concurrent_saves_succeed_and_temp_files_do_not_linger() {
    let dir = temp_dir("saves");
    let file = dir.join("state.json");
    std::fs::write(dir.join(".state.json.tmp-99999"), "half a save").expect("write");
    std::fs::write(dir.join(".other.json.tmp-1"), "not ours").expect("write");
    let options = Options { state_file: Some(file.clone()), ..Options::default() };
    let emu = Emulator::start_with(Scenario::from_toml_str(FIXTURE, "t").expect("valid"), options).await.expect("starts");
    assert!(!dir.join(".state.json.tmp-99999").exists(), "stale temp file removed at start");
    assert!(dir.join(".other.json.tmp-1").exists(), "other files untouched");
    let saves = (0..16).map(|_| {
        let url = format!("{}/__emu/state/save", emu.base_url());
        async move { client().post(url).send().await.expect("sent").status().as_u16() }
    });
    let statuses = futures_util::future::join_all(saves).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .expect("dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".state.json.tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&file).expect("saved")).expect("valid JSON");
    assert!(saved["namespaces"][""].is_object());
    let _ = std::fs::remove_dir_all(&dir);
}

/// `save_every` writes the state file on its own, so a kill loses at most one interval.
#[tokio::test]
async fn periodic_saves_write_the_state_file() {
    let dir = temp_dir("every");
    let file = dir.join("state.json");
    let options = Options { state_file: Some(file.clone()), save_every: Some(Duration::from_millis(100)), ..Options::default() };
    let emu = Emulator::start_with(Scenario::from_toml_str(FIXTURE, "t").expect("valid"), options).await.expect("starts");
    let body = serde_json::json!({ "app_id": APP, "entry_id": ALL, "data": { "_widget_1600000000001": { "value": "PERIODIC" } } });
    let r = post_raw(&emu, "/api/v5/app/entry/data/create", Some(KEY), body.to_string()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let deadline = Instant::now() + Duration::from_secs(5);
    while !std::fs::read_to_string(&file).is_ok_and(|t| t.contains("PERIODIC")) {
        assert!(Instant::now() < deadline, "no periodic save within 5 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(emu);
    let _ = std::fs::remove_dir_all(&dir);
}

async fn az_token(emu: &Emulator, ns: &str) -> String {
    let resp = client()
        .post(format!("{}/baas/auth/v1.0/oauth2/token", emu.base_url()))
        .header("x-emu-namespace", ns)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials&client_id=demo-client&client_secret=demo-secret")
        .send()
        .await
        .expect("sent");
    let v: Value = resp.json().await.expect("json");
    v["access_token"].as_str().expect("token").to_owned()
}

/// The journal shows no client secret, issued token or security code unless asked with `secrets=true`;
/// tokens are deterministic but differ per namespace.
#[tokio::test]
async fn the_journal_redacts_credentials_and_tokens_differ_per_namespace() {
    let emu = Emulator::start(Scenario::demo()).await.expect("starts");
    let default_token = az_token(&emu, "").await;
    let (a, b) = (az_token(&emu, "worker-a").await, az_token(&emu, "worker-b").await);
    assert!(default_token != a && a != b, "{default_token} {a} {b}");
    assert_eq!(a.len(), default_token.len());
    let again = Emulator::start(Scenario::demo()).await.expect("starts");
    assert_eq!(az_token(&again, "worker-a").await, a, "deterministic under the seed");

    let om = client()
        .post(format!("{}/rest/flowmanage/api/omdata/edit/incident/", emu.base_url()))
        .body(r#"{"security":"omflow-demo-security","omflow_restapi":1,"action":"create","formdata":[]}"#)
        .send()
        .await
        .expect("sent");
    assert_eq!(om.status().as_u16(), 200);

    let journal = get(&emu, "/__emu/requests").await.body.to_string();
    for secret in ["demo-secret", default_token.as_str(), a.as_str(), "omflow-demo-security"] {
        assert!(!journal.contains(secret), "{secret} is in the journal: {journal}");
    }
    assert!(journal.contains("client_secret=***"), "{journal}");
    let shown = get(&emu, "/__emu/requests?secrets=true").await.body.to_string();
    assert!(shown.contains("demo-secret") && shown.contains(&default_token), "secrets=true shows them");
    assert_eq!(get(&emu, "/__emu/requests?secrets=maybe").await.status, 400);
}

/// Every error on a platform's paths is in that platform's envelope: the DingTalk Open API's for unknown
/// paths and oversized bodies under /v1.0/, Astro Zero's for oversized uploads.
#[tokio::test]
async fn errors_on_a_platform_path_use_its_envelope() {
    let emu = Emulator::start(
        Scenario::from_toml_str(
            &format!(
                "[server]\nmax_body_bytes = 1024\nmax_upload_bytes = 2048\n{}",
                lowcode_emu::scenario::DEMO_TOML.split_once("\n[emulator]").map(|(_, rest)| format!("[emulator]{rest}")).expect("demo")
            ),
            "t",
        )
        .expect("valid"),
    )
    .await
    .expect("starts");
    for path in ["/v1.0/yida/nope", "/v1.0/oauth2/nope"] {
        let r = post_raw(&emu, path, None, "{}").await;
        assert_eq!(r.status, 404, "{path}: {}", r.body);
        assert_eq!(r.body["code"], "InvalidAction.NotFound", "{}", r.body);
        assert!(r.body["message"].is_string() && r.body["requestid"].is_string(), "{}", r.body);
        assert!(r.body.get("success").is_none());
    }
    let r = post_raw(&emu, "/v1.0/yida/forms/instances", None, "x".repeat(1500)).await;
    assert_eq!(r.status, 413, "{}", r.body);
    assert_eq!(r.body["code"], "InvalidParameter.BodyTooLarge", "{}", r.body);
    // The in-app API keeps its own shape.
    let r = post_raw(&emu, "/dingtalk/web/nope", None, "{}").await;
    assert_eq!((r.status, r.body["success"].clone()), (404, Value::Bool(false)), "{}", r.body);

    let token = az_token(&emu, "").await;
    let resp = client()
        .post(format!("{}/u-route/baas/sys/v1.1/connectors/obs/demo__DocsOBS/putobject?object=big.bin", emu.base_url()))
        .header("access-token", token)
        .body(vec![0u8; 4096])
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status().as_u16(), 413);
    let v: Value = resp.json().await.expect("json");
    assert_eq!(v["resCode"], "413000001", "{v}");
    assert!(v["resMsg"].is_string());
}

/// CPU seconds (user + system) a process has used, from /proc.
#[cfg(target_os = "linux")]
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
    let after_name = &stat[stat.rfind(')').expect("comm") + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime")
}

/// Out of file descriptors, the server neither spins nor stops serving the connections it has, and it
/// accepts again once descriptors are free.
#[cfg(target_os = "linux")]
#[test]
fn running_out_of_file_descriptors_neither_spins_nor_stalls() {
    use std::io::{Read, Write};
    use std::process::Command;
    let dir = temp_dir("fds");
    let scenario = dir.join("s.toml");
    std::fs::write(&scenario, MINIMAL_JDY).expect("write");
    let bin = env!("CARGO_BIN_EXE_lowcode-emu");
    let (mut child, url) = crate::common::spawn_with_url(
        Command::new("sh").arg("-c").arg(format!("ulimit -n 48 && exec '{bin}' serve --port 0 --scenario '{}'", scenario.display())),
    );
    let addr = url.trim_start_matches("http://").to_owned();
    let ask = |s: &mut std::net::TcpStream| -> String {
        s.write_all(b"GET /__emu/health HTTP/1.1\r\nHost: x\r\n\r\n").expect("write");
        s.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
        let mut buf = [0u8; 512];
        let n = s.read(&mut buf).unwrap_or(0);
        String::from_utf8_lossy(&buf[..n]).into_owned()
    };
    let mut keep = std::net::TcpStream::connect(&addr).expect("connect");
    assert!(ask(&mut keep).starts_with("HTTP/1.1 200"));
    let flood: Vec<_> = (0..80).filter_map(|_| std::net::TcpStream::connect(&addr).ok()).collect();
    std::thread::sleep(Duration::from_millis(300));
    let before = cpu_ticks(child.id());
    std::thread::sleep(Duration::from_secs(1));
    let used = cpu_ticks(child.id()) - before;
    assert!(used < 30, "the accept loop spun: {used} ticks of CPU in one second");
    assert!(ask(&mut keep).starts_with("HTTP/1.1 200"), "an open connection is still served");
    drop(flood);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let answer = std::net::TcpStream::connect(&addr).map(|mut s| ask(&mut s)).unwrap_or_default();
        if answer.starts_with("HTTP/1.1 200") {
            break;
        }
        assert!(Instant::now() < deadline, "new connections are accepted again once descriptors are free");
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
}

async fn get_in(emu: &Emulator, ns: &str, path: &str) -> Reply {
    let resp = client().get(format!("{}{path}", emu.base_url())).header("x-emu-namespace", ns).send().await.expect("sent");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    Reply { status, body: resp.json().await.unwrap_or(Value::Null), headers }
}

/// Junk namespace headers on unknown paths build no world; real calls do, up to the cap, past which they
/// get a clear 429; dropping a namespace makes room.
#[tokio::test]
async fn namespaces_are_created_by_real_calls_only_and_capped() {
    let options = Options { max_namespaces: 4, ..Options::default() };
    let emu = Emulator::start_with(Scenario::from_toml_str(FIXTURE, "t").expect("valid"), options).await.expect("starts");
    for i in 0..50 {
        let r = get_in(&emu, &format!("junk-{i}"), "/no/such/path").await;
        assert_eq!(r.status, 404);
    }
    assert_eq!(get(&emu, "/__emu/namespaces").await.body["namespaces"], serde_json::json!([""]), "no world for unknown paths");

    for ns in ["a", "b", "c"] {
        let r = get_in(&emu, ns, "/__emu/clock").await;
        assert_eq!(r.status, 200, "{ns}: {}", r.body);
    }
    let list = |ns: &str| {
        let emu = &emu;
        let ns = ns.to_owned();
        async move {
            client()
                .post(format!("{}/api/v5/app/list", emu.base_url()))
                .header("authorization", format!("Bearer {KEY}"))
                .header("x-emu-namespace", ns)
                .body("{}")
                .send()
                .await
                .expect("sent")
        }
    };
    let refused = list("d").await;
    assert_eq!(refused.status().as_u16(), 429);
    let body: Value = refused.json().await.expect("json");
    assert!(body["error"].as_str().is_some_and(|m| m.contains("--max-namespaces") && m.contains("DELETE /__emu/namespaces/")), "{body}");
    assert_eq!(get_in(&emu, "e", "/__emu/faults").await.status, 429, "admin calls count too");
    assert_eq!(list("a").await.status().as_u16(), 200, "existing namespaces keep working");

    let del = client().delete(format!("{}/__emu/namespaces/b", emu.base_url())).send().await.expect("sent");
    assert_eq!(del.status().as_u16(), 200);
    let again = client().delete(format!("{}/__emu/namespaces/b", emu.base_url())).send().await.expect("sent");
    assert_eq!(again.status().as_u16(), 404);
    assert_eq!(list("d").await.status().as_u16(), 200, "room again after a drop");
    assert_eq!(get(&emu, "/__emu/namespaces").await.body["namespaces"], serde_json::json!(["", "a", "c", "d"]));
}

/// Expired tokens are freed as new ones are issued: after the TTL, one more token call leaves one token
/// held, not every token ever issued (Astro Zero access tokens, Jiandaoyun upload tokens).
#[tokio::test]
async fn expired_tokens_are_freed() {
    let emu = Emulator::start(Scenario::demo()).await.expect("starts");
    for _ in 0..200 {
        az_token(&emu, "").await;
    }
    let held = |state: &Value| state["astrozero"]["tokens"].as_object().map(|m| m.len()).unwrap_or(0);
    assert_eq!(held(&get(&emu, "/__emu/state").await.body), 200);
    let clock = client().post(format!("{}/__emu/clock", emu.base_url())).body(r#"{"advance":"3h"}"#).send().await.expect("sent");
    assert_eq!(clock.status().as_u16(), 200);
    az_token(&emu, "").await;
    assert_eq!(held(&get(&emu, "/__emu/state").await.body), 1, "expired tokens freed");

    let body = serde_json::json!({ "app_id": "6566f8a1c2e4b10a3c7d0001", "entry_id": "6566f8a1c2e4b10a3c7d0101", "transaction_id": "87cd7d71-c6df-4281-9927-469094395677" });
    let upload_tokens = |state: &Value| state["jiandaoyun"]["uploads"].as_object().map(|m| m.len()).unwrap_or(0);
    for _ in 0..3 {
        let r = post_raw(&emu, "/api/v5/app/entry/file/get_upload_token", Some("jdy-demo-key"), body.to_string()).await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    assert_eq!(upload_tokens(&get(&emu, "/__emu/state").await.body), 300);
    client().post(format!("{}/__emu/clock", emu.base_url())).body(r#"{"advance":"2h"}"#).send().await.expect("sent");
    post_raw(&emu, "/api/v5/app/entry/file/get_upload_token", Some("jdy-demo-key"), body.to_string()).await;
    assert_eq!(upload_tokens(&get(&emu, "/__emu/state").await.body), 100, "expired upload tokens freed");
}

/// Unique fields stay unique through the index whatever writes come in between: an update frees the old
/// value and takes the new one, a delete frees its value, a batch clashes with itself, and a record written
/// by a Flow (outside the data API) is seen too.
#[tokio::test]
async fn unique_fields_hold_through_the_index() {
    let emu = Emulator::start(Scenario::demo()).await.expect("starts");
    let token = az_token(&emu, "").await;
    let obj = format!("{}/u-route/baas/data/v1.0/bobject/demo__Supplier__CST", emu.base_url());
    let send = |method: reqwest::Method, url: String, body: Value| {
        let token = token.clone();
        async move {
            let resp = client().request(method, url).header("access-token", token).body(body.to_string()).send().await.expect("sent");
            let status = resp.status().as_u16();
            (status, resp.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let create = |code: &str| {
        send(reqwest::Method::POST, obj.clone(), serde_json::json!({ "records": [{ "name": code, "demo__code__CST": code }] }))
    };
    let (s, a) = create("U-1").await;
    assert_eq!(s, 200, "{a}");
    let a_id = a["result"][0]["id"].as_str().expect("id").to_owned();
    assert_eq!(create("U-1").await.0, 400, "a clash with a stored record");
    let (s, body) = send(
        reqwest::Method::POST,
        obj.clone(),
        serde_json::json!({ "records": [{ "name": "x", "demo__code__CST": "U-9" }, { "name": "y", "demo__code__CST": "U-9" }] }),
    )
    .await;
    assert_eq!(s, 400, "a clash inside one batch: {body}");
    assert_eq!(create("U-9").await.0, 200, "the failed batch wrote nothing");

    let (s, body) =
        send(reqwest::Method::PUT, format!("{obj}/{a_id}"), serde_json::json!({ "setValue": { "demo__code__CST": "U-2" } })).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(create("U-1").await.0, 200, "the old value is free after an update");
    assert_eq!(create("U-2").await.0, 400, "the new value is taken");
    let (s, body) =
        send(reqwest::Method::PUT, format!("{obj}/{a_id}"), serde_json::json!({ "setValue": { "demo__code__CST": "U-2" } })).await;
    assert_eq!(s, 200, "a record may keep its own value: {body}");

    let (s, _) = send(reqwest::Method::DELETE, format!("{obj}/{a_id}"), serde_json::json!({})).await;
    assert_eq!(s, 200);
    assert_eq!(create("U-2").await.0, 200, "a deleted record's value is free");
    assert_eq!(create("SUP-001").await.0, 400, "seeded values are indexed");
}
