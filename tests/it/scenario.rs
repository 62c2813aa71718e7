//! Scenario files: the demo, includes, JSONL records, generation, and located error messages.

use crate::common;

use std::process::Command;

use common::*;
use lowcode_emu::{Scenario, ScenarioError};
use serde_json::json;

fn err(toml: &str) -> ScenarioError {
    match Scenario::from_toml_str(toml, "t") {
        Ok(_) => panic!("expected an error for:\n{toml}"),
        Err(e) => e,
    }
}

const MINIMAL: &str = MINIMAL_JDY;

#[tokio::test]
async fn the_demo_scenario_is_a_realistic_tenant() {
    let demo = Scenario::demo();
    assert_eq!(demo.name, "demo");
    let jdy = demo.doc.platforms.jiandaoyun.as_ref().expect("demo has jiandaoyun");
    let forms: Vec<_> = jdy.apps.iter().flat_map(|a| &a.entries).collect();
    assert!(jdy.apps.len() >= 3 && forms.len() >= 4);
    assert!(forms.iter().any(|f| f.widgets.iter().any(|w| w.kind == "subform")), "a subform");
    assert!(forms.iter().any(|f| f.flow.is_some()), "a workflow form");
    let records: usize = jdy.seeded_records.values().map(Vec::len).sum::<usize>()
        + forms.iter().filter_map(|f| f.generate.as_ref()).map(|g| g.count).sum::<usize>();
    assert!(records >= 50, "{records}");
    let emu = lowcode_emu::Emulator::start(demo).await.expect("starts");
    let r = post_raw(&emu, "/api/v5/app/list", Some("jdy-demo-key"), "{}").await;
    assert_eq!(r.body["apps"].as_array().map(Vec::len), Some(3));
}

#[test]
fn unknown_keys_and_wrong_types_name_file_line_and_key() {
    let e = err("[emulator]\nseed = 1\nsede = 2\n");
    assert_eq!((e.file.as_str(), e.line, e.key.as_str()), ("<t>", Some(3), "emulator.sede"));
    assert!(e.message.contains("unknown field `sede`") && e.message.contains("seed"), "{}", e.message);
    assert_eq!(e.to_string(), format!("<t>:3:1: key `emulator.sede`: {}", e.message));

    let e = err("[emulator]\nseed = \"forty-two\"\n");
    assert_eq!((e.line, e.key.as_str()), (Some(2), "emulator.seed"));
    assert!(e.message.contains("expected u64") || e.message.contains("integer"), "{}", e.message);

    let e = err(&MINIMAL.replace("type = \"text\"", "type = \"textbox\""));
    assert_eq!(e.key, "jiandaoyun.apps[0].entries[0].widgets[0].type");
    assert_eq!(e.line, Some(10));
    assert!(e.message.contains("expected a Jiandaoyun widget type") && e.message.contains("\"textbox\""), "{}", e.message);

    let e = err("[jiandaoyun]\napi_keys = [1]\n");
    assert_eq!(e.key, "jiandaoyun.api_keys[0]");
}

#[test]
fn semantic_errors_are_located() {
    let e = err(&MINIMAL.replace("aaaaaaaaaaaaaaaaaaaaaaaa", "not-an-id"));
    assert_eq!((e.line, e.key.as_str()), (Some(5), "jiandaoyun.apps[0].app_id"));
    assert!(e.message.contains("24 lowercase hex"), "{}", e.message);

    let e = err(&format!("{MINIMAL}records = [{{ _widget_2 = \"x\" }}]\n"));
    assert_eq!(e.key, "jiandaoyun.apps[0].entries[0].records[0]._widget_2");
    assert!(e.message.contains("unknown widget"), "{}", e.message);

    let e = err(&format!("{MINIMAL}flow = \"missing\"\n"));
    assert_eq!(e.key, "jiandaoyun.apps[0].entries[0].flow");

    let e = err("[[users]]\nid = \"a\"\nname = \"A\"\ndepartments = [9]\n");
    assert_eq!((e.line, e.key.as_str()), (Some(4), "users[0].departments[0]"));

    let e = err("[[users]]\nid = \"a\"\nname = \"A\"\n[[users]]\nid = \"a\"\nname = \"B\"\n");
    assert_eq!((e.line, e.key.as_str()), (Some(5), "users[1].id"));

    let e = err("[emulator]\nclock = \"monday\"\n");
    assert_eq!((e.line, e.key.as_str()), (Some(2), "emulator.clock"));

    let e = err("[jiandaoyun]\napi_keys = []\n");
    assert!(e.message.contains("at least one"), "{}", e.message);

    let e = err(&format!("{MINIMAL}records = [{{ _widget_1 = [1, 2] }}]\n"));
    assert!(e.message.contains("expected a string"), "{}", e.message);

    let e = err("[[flows]]\nid = \"f\"\nnodes = [{ id = \"s\", type = \"begin\" }]\n");
    assert_eq!(e.key, "flows[0].nodes[0].type");
}

#[test]
fn astrozero_errors_are_located() {
    const AZ: &str = "[astrozero]\nclients = [{ client_id = \"c\", client_secret = \"s\" }]\n[[astrozero.objects]]\nname = \"ns__Thing__CST\"\nfields = [{ name = \"ns__qty__CST\", type = \"Number\", required = true }]\n";
    assert!(Scenario::from_toml_str(AZ, "t").is_ok());
    let e = err(&AZ.replace("ns__Thing__CST", "Thing"));
    assert_eq!((e.line, e.key.as_str()), (Some(4), "astrozero.objects[0].name"));
    assert!(e.message.contains("ns__Name__CST"), "{}", e.message);
    let e = err(&AZ.replace("Number", "Money"));
    assert_eq!(e.key, "astrozero.objects[0].fields[0].type");
    let e = err(&format!("{AZ}records = [{{ ns__qty__CST = \"many\" }}]\n"));
    assert_eq!(e.key, "astrozero.objects[0].records[0].ns__qty__CST");
    assert!(e.message.contains("expects a number"), "{}", e.message);
    let e = err(&format!("{AZ}records = [{{ name = \"x\" }}]\n"));
    assert!(e.message.contains("missing required field"), "{}", e.message);
    let e = err(&format!("{AZ}records = [{{ ns__nope__CST = 1 }}]\n"));
    assert!(e.message.contains("unknown field"), "{}", e.message);
    let e = err(&AZ.replace("client_secret = \"s\"", "client_secret = \"s\", user = \"ghost\""));
    assert_eq!(e.key, "astrozero.clients[0].user");
}

#[test]
fn astrozero_flow_script_process_and_connector_errors_are_located() {
    const AZ: &str = "[astrozero]\n[[astrozero.objects]]\nname = \"ns__Thing__CST\"\n[[astrozero.flows]]\nname = \"ns__Go\"\nsteps = [{ query = \"ns__Thing__CST\", into = \"x\" }]\n";
    assert!(Scenario::from_toml_str(AZ, "t").is_ok());
    let e = err(&AZ.replace("query = \"ns__Thing__CST\"", "query = \"ns__Gone__CST\""));
    assert_eq!((e.line, e.key.as_str()), (Some(6), "astrozero.flows[0].steps[0]"));
    assert!(e.message.contains("unknown object"), "{}", e.message);
    let e = err(&AZ.replace("query = \"ns__Thing__CST\", ", "log = \"a\", query = \"ns__Thing__CST\", "));
    assert!(e.message.contains("one action per step"), "{}", e.message);
    let e = err(&AZ.replace("into = \"x\"", "into = \"x\", when = { field = \"a\", op = \"like\" }"));
    assert!(e.message.contains("when.op"), "{}", e.message);
    let e = err(&AZ.replace("name = \"ns__Go\"", "name = \"_go\""));
    assert_eq!(e.key, "astrozero.flows[0].name");
    let e = err(&format!("{AZ}inputs = [{{ name = \"a\", type = \"Text\" }}]\n"));
    assert_eq!(e.key, "astrozero.flows[0].inputs[0].type");
    let e = err(&format!("{AZ}[[astrozero.scripts]]\nname = \"ns__s\"\nsteps = [{{ wait = \"no\" }}]\n"));
    assert_eq!(e.key, "astrozero.scripts[0].steps[0]");
    let e = err(&format!("{AZ}[[astrozero.processes]]\nname = \"ns__P\"\nflow = \"missing\"\n"));
    assert_eq!(e.key, "astrozero.processes[0].flow");
    let e = err(&format!("{AZ}[[astrozero.connectors]]\nname = \"Files\"\ntype = \"s3\"\n"));
    assert_eq!(e.key, "astrozero.connectors[0].name");
    let e = err(&format!("{AZ}[[astrozero.connectors]]\nname = \"ns__Files\"\ntype = \"obs\"\nfiles = [{{ key = \"a.txt\" }}]\n"));
    assert_eq!(e.key, "astrozero.connectors[0].files[0]");
}

#[test]
fn include_records_file_and_generate() {
    let dir = std::env::temp_dir().join(format!("lowcode-emu-scn-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("data")).expect("dir");
    std::fs::write(dir.join("users.toml"), "[[users]]\nid = \"u1\"\nname = \"用户一\"\n").expect("write");
    std::fs::write(
        dir.join("data/rows.jsonl"),
        "{\"_widget_1\": \"from jsonl 1\"}\n\n{\"_widget_1\": \"from jsonl 2\", \"creator\": \"u1\"}\n",
    )
    .expect("write");
    let main =
        format!("name = \"inc\"\ninclude = [\"users.toml\"]\n{MINIMAL}records_file = \"data/rows.jsonl\"\ngenerate = {{ count = 5 }}\n");
    std::fs::write(dir.join("main.toml"), &main).expect("write");
    let s = Scenario::from_file(dir.join("main.toml")).expect("loads");
    assert_eq!(s.name, "inc");
    assert_eq!(s.doc.users[0].id, "u1");
    assert_eq!(s.doc.platforms.jiandaoyun.as_ref().expect("jiandaoyun").seeded_records["bbbbbbbbbbbbbbbbbbbbbbbb"].len(), 2);

    std::fs::write(dir.join("data/rows.jsonl"), "{\"_widget_1\": \"ok\"}\n{broken\n").expect("write");
    let e = Scenario::from_file(dir.join("main.toml")).expect_err("bad jsonl");
    assert!(e.message.contains("rows.jsonl:2: invalid JSON"), "{}", e.message);
    assert_eq!(e.key, "jiandaoyun.apps[0].entries[0].records_file");

    std::fs::write(dir.join("users.toml"), "[[users]]\nid = \"u1\"\nnom = \"x\"\n").expect("write");
    let e = Scenario::from_file(dir.join("main.toml")).expect_err("bad include");
    assert!(e.file.ends_with("users.toml"), "{e}");
    assert_eq!(e.line, Some(3));
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn generated_and_file_records_are_served() {
    let s = Scenario::from_toml_str(&format!("{MINIMAL}generate = {{ count = 250 }}\n"), "gen").expect("loads");
    let emu = lowcode_emu::Emulator::start(s).await.expect("starts");
    let r = post_raw(
        &emu,
        "/api/v5/app/entry/data/list",
        Some("k"),
        json!({ "app_id": "aaaaaaaaaaaaaaaaaaaaaaaa", "entry_id": "bbbbbbbbbbbbbbbbbbbbbbbb", "limit": 100, "data_id": "0" }).to_string(),
    )
    .await;
    assert_eq!(r.body["data"].as_array().map(Vec::len), Some(100));
}

#[tokio::test]
async fn builder_assembles_a_scenario() {
    let s = Scenario::builder().name("built").seed(9).frozen_clock("2026-01-01T00:00:00Z").toml(MINIMAL).build().expect("builds");
    let emu = lowcode_emu::Emulator::start(s).await.expect("starts");
    assert_eq!(emu.scenario_name(), "built");
    let r = post_raw(
        &emu,
        "/api/v5/app/entry/data/create",
        Some("k"),
        json!({ "app_id": "aaaaaaaaaaaaaaaaaaaaaaaa", "entry_id": "bbbbbbbbbbbbbbbbbbbbbbbb", "data": {} }).to_string(),
    )
    .await;
    assert_eq!(r.body["data"]["createTime"], "2026-01-01T00:00:00.000Z");
}

#[test]
fn check_command_reports_ok_and_errors() {
    let bin = env!("CARGO_BIN_EXE_lowcode-emu");
    let ok = Command::new(bin).args(["check", "scenarios/demo.toml"]).output().expect("runs");
    assert!(ok.status.success());
    let out = String::from_utf8_lossy(&ok.stdout);
    assert!(out.starts_with("ok: scenario \"demo\""), "{out}");
    let bad = std::env::temp_dir().join(format!("lowcode-emu-bad-{}.toml", std::process::id()));
    std::fs::write(&bad, "[emulator]\nseed = true\n").expect("write");
    let fail = Command::new(bin).arg("check").arg(&bad).output().expect("runs");
    assert!(!fail.status.success());
    let err = String::from_utf8_lossy(&fail.stderr);
    assert!(err.contains(":2:8: key `emulator.seed`"), "{err}");
    let _ = std::fs::remove_file(bad);
    let routes = Command::new(bin).args(["routes", "--errors"]).output().expect("runs");
    let out = String::from_utf8_lossy(&routes.stdout);
    assert!(out.contains("jiandaoyun.data.list") && out.contains("rate_limited (8304)"), "{out}");
}

#[test]
fn flow_graph_errors_are_located() {
    let e = err("[[flows]]\nid = \"f\"\nnodes = [\n  { id = \"s\", type = \"start\" },\n  { id = \"lost\", type = \"handle\" },\n  { id = \"e\", type = \"end\" },\n]\nedges = [[\"s\", \"e\"], [\"lost\", \"e\"]]\n");
    assert_eq!((e.line, e.key.as_str()), (Some(5), "flows[0].nodes[1]"));
    assert!(e.message.contains("cannot be reached"), "{}", e.message);
    let e = err(
        "[[flows]]\nid = \"f\"\nnodes = [{ id = \"s\", type = \"start\" }, { id = \"e\", type = \"end\" }]\nedges = [[\"s\", \"x\"]]\n",
    );
    assert_eq!(e.key, "flows[0].edges[0]");
    assert!(e.message.contains("unknown node"), "{}", e.message);
}

#[test]
fn every_shipped_scenario_is_valid() {
    let mut checked = 0;
    for entry in std::fs::read_dir("scenarios").expect("scenarios dir") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "toml") {
            Scenario::from_file(&path).unwrap_or_else(|e| panic!("{e}"));
            checked += 1;
        }
    }
    assert!(checked >= 2);
}

#[tokio::test]
async fn health_command_probes_a_running_emulator() {
    let emu = start_with(MINIMAL).await;
    let bin = env!("CARGO_BIN_EXE_lowcode-emu");
    let port = emu.addr().port().to_string();
    let ok = tokio::process::Command::new(bin).args(["health", "--port", &port]).output().await.expect("runs");
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    drop(emu);
    // Nothing listens on a port just released by a bound-then-dropped socket.
    let free = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port().to_string();
    let down = tokio::process::Command::new(bin).args(["health", "--port", &free]).output().await.expect("runs");
    assert!(!down.status.success());
    assert!(String::from_utf8_lossy(&down.stderr).starts_with("unhealthy:"));
}

/// `check` lists every problem in one run, and JSON scenario files work wherever TOML ones do.
#[test]
fn check_reports_every_problem_and_takes_json_files() {
    let bin = env!("CARGO_BIN_EXE_lowcode-emu");
    let dir = std::env::temp_dir().join(format!("lowcode-emu-all-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let bad = dir.join("two.toml");
    std::fs::write(&bad, "[[users]]\nid = \"u\"\nname = \"一\"\nstatus = 7\n\n[[users]]\nid = \"u\"\nname = \"二\"\n").expect("write");
    let fail = Command::new(bin).arg("check").arg(&bad).output().expect("runs");
    assert!(!fail.status.success());
    let err = String::from_utf8_lossy(&fail.stderr);
    assert!(err.contains("users[0].status") && err.contains("users[1].id"), "both problems: {err}");
    assert!(err.contains("2 problems"), "{err}");

    let json = dir.join("s.json");
    std::fs::write(&json, r#"{"name": "as-json", "jiandaoyun": {"api_keys": ["k"], "apps": []}}"#).expect("write");
    let ok = Command::new(bin).arg("check").arg(&json).output().expect("runs");
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    assert!(String::from_utf8_lossy(&ok.stdout).starts_with("ok: scenario \"as-json\""));
    let s = Scenario::from_file(&json).expect("loads");
    assert_eq!(s.platforms(), ["jiandaoyun"]);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A refused `PUT /__emu/scenario` names the document it was sent, and lists every problem.
#[tokio::test]
async fn a_refused_put_names_the_sent_document_and_every_problem() {
    let emu = start().await;
    let text = "[[users]]\nid = \"u\"\nname = \"一\"\nstatus = 7\n\n[[users]]\nid = \"u\"\nname = \"二\"\n";
    let r = client().put(format!("{}/__emu/scenario", emu.base_url())).body(text).send().await.expect("sent");
    assert_eq!(r.status().as_u16(), 400);
    let body: serde_json::Value = r.json().await.expect("json");
    assert_eq!(body["file"], "<PUT /__emu/scenario>");
    assert_eq!(body["errors"].as_array().map(Vec::len), Some(2), "{body}");
    assert_eq!(body["errors"][1]["key"], "users[1].id");
}

/// Seeded records are held to what the platform's UI would enforce: unique fields stay unique and choice
/// widgets take only their options. Astro Zero reads its namespace from the object names.
#[test]
fn seeded_records_respect_unique_fields_and_options() {
    let az = |records: &str, namespace: &str| {
        format!(
            "[astrozero]\n{namespace}clients = [{{ client_id = \"c\", client_secret = \"s\" }}]\n[[astrozero.objects]]\nname = \"acme__Part__CST\"\nfields = [{{ name = \"acme__code__CST\", type = \"Text\", unique = true }}]\nrecords = {records}\n"
        )
    };
    let e = err(&az(r#"[{ name = "a", acme__code__CST = "P-1" }, { name = "b", acme__code__CST = "P-1" }]"#, ""));
    assert_eq!(e.key, "astrozero.objects[0].records[1].acme__code__CST");
    assert!(e.message.contains("unique"), "{e}");
    // No `namespace` key: `acme` comes from the object names.
    Scenario::from_toml_str(&az(r#"[{ name = "a", acme__code__CST = "P-1" }]"#, ""), "t").expect("namespace inferred");
    let e = err(&az("[]", "namespace = \"other\"\n"));
    assert!(e.message.contains("expected other__Name__CST"), "{e}");

    let jdy = format!("{MINIMAL_JDY}records = [{{ _widget_2 = \"紫\" }}]\n").replace(
        r#"widgets = [{ name = "_widget_1", label = "T", type = "text" }]"#,
        r#"widgets = [{ name = "_widget_1", label = "T", type = "text" }, { name = "_widget_2", label = "C", type = "combo", options = ["红", "绿"] }]"#,
    );
    let e = err(&jdy);
    assert_eq!(e.key, "jiandaoyun.apps[0].entries[0].records[0]._widget_2");
    assert!(e.message.contains("options"), "{e}");

    let yida = "[yida]\n[[yida.apps]]\napp_type = \"APP_X\"\n[[yida.apps.forms]]\nform_uuid = \"FORM-X\"\nname = \"F\"\ncomponents = [{ id = \"radioField_a\", label = \"R\", type = \"RadioField\", options = [\"是\", \"否\"] }]\nrecords = [{ radioField_a = \"也许\" }]\n";
    let e = err(&format!("[[users]]\nid = \"u\"\nname = \"U\"\n{yida}"));
    assert_eq!(e.key, "yida.apps[0].forms[0].records[0].radioField_a");
}

#[test]
fn astrozero_template_and_formula_errors_are_located() {
    const AZ: &str = "[astrozero]\n[[astrozero.objects]]\nname = \"ns__Thing__CST\"\nfields = [{ name = \"ns__qty__CST\", type = \"Number\" }]\n[[astrozero.templates]]\nname = \"ns__Sheet\"\nobject = \"ns__Thing__CST\"\ncolumns = [{ column = \"数量\", field = \"ns__qty__CST\" }]\nsteps = [{ create = \"ns__Thing__CST\", values = { ns__qty__CST = \"{{ns__qty__CST}}\" } }]\n";
    assert!(Scenario::from_toml_str(AZ, "t").is_ok());
    let e = err(&AZ.replace("object = \"ns__Thing__CST\"", "object = \"ns__Gone__CST\""));
    assert_eq!((e.line, e.key.as_str()), (Some(7), "astrozero.templates[0].object"));
    let e = err(&AZ.replace("field = \"ns__qty__CST\"", "field = \"ns__nope__CST\""));
    assert_eq!(e.key, "astrozero.templates[0].columns");
    assert!(e.message.contains("not a field"), "{}", e.message);
    let e = err(&AZ.replace(
        "columns = [{ column = \"数量\", field = \"ns__qty__CST\" }]",
        "columns = [{ column = \"a\", field = \"name\" }, { column = \"a\", field = \"name\" }]",
    ));
    assert!(e.message.contains("mapped twice"), "{}", e.message);
    let e = err(&AZ.replace("steps = [{ create", "steps = [{ wait = \"x\" }, { create"));
    assert!(e.message.contains("no wait or call steps"), "{}", e.message);
    let e = err(&format!("{AZ}[[astrozero.flows]]\nname = \"ns__F\"\nsteps = [{{ formula = {{ y = \"IF(1, 2\" }} }}]\n"));
    assert_eq!(e.key, "astrozero.flows[0].steps[0]");
    assert!(e.message.contains("formula.y"), "{}", e.message);
}
