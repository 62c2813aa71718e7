//! Shared helpers for the black-box suites: start an emulator, call it over real HTTP, pin snapshots.
#![allow(dead_code)]

pub mod astrozero;
pub mod receiver;

use lowcode_emu::{Emulator, Scenario};
use serde_json::Value;

pub const KEY: &str = "test-key";
pub const APP: &str = "aaaaaaaaaaaaaaaaaaaa0001";
pub const APP2: &str = "aaaaaaaaaaaaaaaaaaaa0002";
/// Every widget type.
pub const ALL: &str = "bbbbbbbbbbbbbbbbbbbb0001";
/// A workflow form with two seeded records.
pub const FLOW: &str = "bbbbbbbbbbbbbbbbbbbb0002";
/// 230 generated orders.
pub const ORDERS: &str = "bbbbbbbbbbbbbbbbbbbb0003";

pub const FIXTURE: &str = include_str!("../fixtures/jiandaoyun.toml");
/// The smallest Jiandaoyun scenario: key `k`, one app `aaaa…`, one form `bbbb…` with one text widget
/// `_widget_1`. Ends inside the form's table, so a suite can append form keys.
pub const MINIMAL_JDY: &str = r#"
[jiandaoyun]
api_keys = ["k"]
[[jiandaoyun.apps]]
app_id = "aaaaaaaaaaaaaaaaaaaaaaaa"
name = "A"
[[jiandaoyun.apps.entries]]
entry_id = "bbbbbbbbbbbbbbbbbbbbbbbb"
name = "F"
widgets = [{ name = "_widget_1", label = "T", type = "text" }]
"#;

/// Spawns `cmd` (stdout piped, stderr dropped) and reads the first line it prints (a banner naming
/// its URL); answers the child and the first `http://` word of that line.
pub fn spawn_with_url(cmd: &mut std::process::Command) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut child = cmd.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::null()).spawn().expect("spawns");
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut first).expect("banner");
    let url = first.split_whitespace().find(|w| w.starts_with("http://")).unwrap_or_else(|| panic!("a URL in {first:?}")).to_owned();
    (child, url)
}

pub async fn start() -> Emulator {
    start_with(FIXTURE).await
}

pub async fn start_with(toml: &str) -> Emulator {
    let scenario = Scenario::from_toml_str(toml, "test").expect("fixture scenario is valid");
    Emulator::start(scenario).await.expect("emulator starts")
}

pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().expect("client")
}

/// POSTs raw bytes with an optional bearer key.
pub async fn post_raw(emu: &Emulator, path: &str, key: Option<&str>, body: impl Into<reqwest::Body>) -> Reply {
    let mut req = client().post(format!("{}{}", emu.base_url(), path)).header("content-type", "application/json").body(body);
    if let Some(k) = key {
        req = req.header("authorization", format!("Bearer {k}"));
    }
    let resp = req.send().await.expect("request sent");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.text().await.expect("body");
    let body = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
    Reply { status, body, headers }
}

/// POSTs JSON with the default test key.
pub async fn post(emu: &Emulator, path: &str, body: Value) -> Reply {
    post_raw(emu, path, Some(KEY), body.to_string()).await
}

pub async fn get(emu: &Emulator, path: &str) -> Reply {
    let resp = client().get(format!("{}{}", emu.base_url(), path)).send().await.expect("request sent");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.json().await.unwrap_or(Value::Null);
    Reply { status, body, headers }
}

/// Asserts a Jiandaoyun business error: HTTP 400 with exactly `{"code", "msg"}`.
#[track_caller]
pub fn assert_jdy_error(r: &Reply, code: u64) {
    assert_eq!(r.status, 400, "status for {}", r.body);
    assert_eq!(r.body["code"], code, "code in {}", r.body);
    assert!(r.body["msg"].as_str().is_some_and(|m| !m.is_empty()), "msg in {}", r.body);
    assert_eq!(r.body.as_object().map(|o| o.len()), Some(2), "only code and msg in {}", r.body);
}

/// `GET /__emu/state` of one namespace (`""` for the default one).
pub async fn state_of(emu: &Emulator, ns: &str) -> Value {
    client()
        .get(format!("{}/__emu/state", emu.base_url()))
        .header("x-emu-namespace", ns)
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json")
}

/// A PUT with an optional namespace header.
pub async fn put_in(emu: &Emulator, path: &str, ns: Option<&str>, body: String) -> Reply {
    let mut req = client().put(format!("{}{path}", emu.base_url())).body(body);
    if let Some(ns) = ns {
        req = req.header("x-emu-namespace", ns);
    }
    let resp = req.send().await.expect("sent");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    Reply { status, body: resp.json().await.unwrap_or(Value::Null), headers }
}

/// A workflow action's documented failure: HTTP 400 `{"status":"failure","code","message"}` and nothing else.
pub fn assert_workflow_failure(r: &Reply, code: u64) {
    assert_eq!(r.status, 400, "status for {}", r.body);
    assert_eq!(r.body["status"], "failure", "status in {}", r.body);
    assert_eq!(r.body["code"], code, "code in {}", r.body);
    assert!(r.body["message"].as_str().is_some_and(|m| !m.is_empty()), "message in {}", r.body);
    assert_eq!(r.body.as_object().map(|o| o.len()), Some(3), "only status, code and message in {}", r.body);
}

/// Pins a JSON body under the top-level `snapshots/` directory.
#[macro_export]
macro_rules! snap {
    ($name:expr, $value:expr) => {
        insta::with_settings!({ snapshot_path => "../../snapshots", prepend_module_to_snapshot => false, omit_expression => true }, {
            insta::assert_json_snapshot!($name, $value);
        })
    };
}
