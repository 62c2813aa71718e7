//! `import`, `proxy` and `diff` against a second emulator standing in for the live tenant (it speaks the
//! same API): import from it and serve the result — every widget, component and field list answers
//! alike; record a client's run through the proxy and diff it against emulators seeded the same,
//! seeded differently, or with a fault, and see exactly those differences.

use std::process::Command;

use lowcode_emu::{Emulator, Scenario};
use serde_json::{json, Value};

use crate::common::{client, FIXTURE};

const BIN: &str = env!("CARGO_BIN_EXE_lowcode-emu");

fn workdir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("lowcode-emu-tenant-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

struct Run {
    ok: bool,
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs the binary to completion off the runtime's worker threads (the tenant answers on them).
async fn run(args: Vec<String>) -> Run {
    tokio::task::spawn_blocking(move || {
        let out = Command::new(BIN).args(&args).output().expect("binary runs");
        Run {
            ok: out.status.success(),
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    })
    .await
    .expect("joined")
}

/// `lowcode-emu import <platform> --base-url <base> -o <out> <flags>`, unpaced (the tenant is local).
async fn import(platform: &str, base: &str, out: &std::path::Path, flags: &[&str]) -> Run {
    let mut a = args(&["import", platform, "--base-url", base, "--rate", "1000", "-o"]);
    a.push(out.to_string_lossy().into_owned());
    a.extend(args(flags));
    run(a).await
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

async fn call(method: reqwest::Method, url: String, headers: &[(&str, &str)], body: Option<Value>) -> (u16, Value) {
    let mut req = client().request(method, url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    if let Some(b) = body {
        req = req.header("content-type", "application/json").body(b.to_string());
    }
    let resp = req.send().await.expect("sent");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn jdy(base: &str, key: &str, path: &str, body: Value) -> Value {
    let (status, v) =
        call(reqwest::Method::POST, format!("{base}{path}"), &[("authorization", &format!("Bearer {key}"))], Some(body)).await;
    assert_eq!(status, 200, "{path}: {v}");
    v
}

async fn serve_file(path: &std::path::Path) -> Emulator {
    let s = Scenario::from_file(path).unwrap_or_else(|e| panic!("{} loads: {e}", path.display()));
    Emulator::start(s).await.expect("starts")
}

const ALL_FORM: &str = "bbbbbbbbbbbbbbbbbbbb0001";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jiandaoyun_import_serves_the_same_apps_widgets_records_and_members() {
    let tenant = Emulator::start(Scenario::from_toml_str(FIXTURE, "tenant").expect("fixture")).await.expect("starts");
    let base = tenant.base_url();
    // A record using the widgets whose read shape differs from what a scenario holds.
    let data = json!({
        "_widget_1600000000001": { "value": "单行" },
        "_widget_1600000000003": { "value": 12.5 },
        "_widget_1600000000009": { "value": { "province": "江苏省", "city": "无锡市", "district": "梁溪区", "detail": "清扬路1号" } },
        "_widget_1600000000013": { "value": [{ "_widget_1600000000101": { "value": "行一" }, "_widget_1600000000102": { "value": 1 } }] },
        "_widget_1600000000015": { "value": "dao" },
        "_widget_1600000000016": { "value": ["xiaojian", "dao"] },
        "_widget_1600000000017": { "value": 3 },
        "_widget_1600000000018": { "value": [2, 3] },
        "_widget_1600000000019": { "value": { "phone": "13800001111" } },
        "order_no": { "value": "NO-1" },
    });
    jdy(
        &base,
        "test-key",
        "/api/v5/app/entry/data/create",
        json!({ "app_id": "aaaaaaaaaaaaaaaaaaaa0001", "entry_id": ALL_FORM, "data": data }),
    )
    .await;
    let dir = workdir("jdy");
    let out = dir.join("jdy.toml");
    let r = import("jiandaoyun", &base, &out, &["--api-key", "test-key", "--records", "300", "--directory"]).await;
    assert!(r.ok, "{} {}", r.stdout, r.stderr);
    assert!(r.stdout.contains("2 apps, 3 forms, 233 records"), "{}", r.stdout);
    let text = std::fs::read_to_string(&out).expect("written");
    assert!(!text.contains("test-key"), "no key without --include-keys");
    assert!(text.contains("widget options, required flags"), "the header says what the API could not give");
    let copy = serve_file(&out).await;
    let key = "imported-jdy-key";
    for path in ["/api/v5/app/list", "/api/v5/corp/department/list", "/api/v5/corp/department/user/list"] {
        let body = json!({ "dept_no": 1, "has_child": true });
        assert_eq!(jdy(&base, "test-key", path, body.clone()).await, jdy(&copy.base_url(), key, path, body).await, "{path}");
    }
    for app in ["aaaaaaaaaaaaaaaaaaaa0001", "aaaaaaaaaaaaaaaaaaaa0002"] {
        let forms = jdy(&base, "test-key", "/api/v5/app/entry/list", json!({ "app_id": app })).await;
        assert_eq!(forms, jdy(&copy.base_url(), key, "/api/v5/app/entry/list", json!({ "app_id": app })).await);
        for f in forms["forms"].as_array().expect("forms") {
            let q = json!({ "app_id": app, "entry_id": f["entry_id"] });
            let (mut a, mut b) = (
                jdy(&base, "test-key", "/api/v5/app/entry/widget/list", q.clone()).await,
                jdy(&copy.base_url(), key, "/api/v5/app/entry/widget/list", q.clone()).await,
            );
            // When the schema last changed is the import's time, not the tenant's.
            a.as_object_mut().unwrap().remove("dataModifyTime");
            b.as_object_mut().unwrap().remove("dataModifyTime");
            assert_eq!(a, b, "widget list of {}", f["entry_id"]);
            // Records: same ids, creators, times and widget values, in the same order (files and
            // computed values left out, as the scenario header says).
            let list = json!({ "app_id": app, "entry_id": f["entry_id"], "limit": 100 });
            let (ra, rb) = (
                jdy(&base, "test-key", "/api/v5/app/entry/data/list", list.clone()).await,
                jdy(&copy.base_url(), key, "/api/v5/app/entry/data/list", list).await,
            );
            let (ra, rb) = (ra["data"].as_array().unwrap().clone(), rb["data"].as_array().unwrap().clone());
            assert_eq!(ra.len(), rb.len());
            for (x, y) in ra.iter().zip(&rb) {
                for (k, v) in x.as_object().unwrap() {
                    if ["updater", "_widget_1600000000014", "_widget_1600000000020", "flowState"].contains(&k.as_str()) {
                        continue;
                    }
                    assert_eq!(Some(v), y.get(k), "{k} of record {}", x["_id"]);
                }
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jiandaoyun_import_backs_off_on_rate_limits_and_anonymizes() {
    let limited = format!(
        "{FIXTURE}\n[[faults]]\nplatform = \"jiandaoyun\"\nroute = \"jiandaoyun.widget.list\"\nevery = 1\ntimes = 2\nerror = \"rate_limited\"\n"
    );
    let tenant = Emulator::start(Scenario::from_toml_str(&limited, "tenant").expect("fixture")).await.expect("starts");
    let base = tenant.base_url();
    let dir = workdir("jdy-anon");
    let out = dir.join("anon.toml");
    let r = import("jiandaoyun", &base, &out, &["--api-key", "test-key", "--records", "5", "--anonymize", "--include-keys"]).await;
    assert!(r.ok, "{} {}", r.stdout, r.stderr);
    assert!(r.stdout.contains("(2 retried after rate limits)"), "{}", r.stdout);
    let (_, journal) = call(reqwest::Method::GET, format!("{base}/__emu/requests?route=jiandaoyun.widget.list"), &[], None).await;
    let codes: Vec<i64> = journal.as_array().expect("entries").iter().map(|e| e["response_body"]["code"].as_i64().unwrap_or(0)).collect();
    assert_eq!(codes.iter().filter(|c| **c == 8304).count(), 2, "two answers were 8304 and were retried: {codes:?}");
    let text = std::fs::read_to_string(&out).expect("written");
    assert!(text.contains("\"test-key\""), "--include-keys writes the key");
    for personal in ["小简", "小道", "xiaojian", "\"dao\"", "年假", "病假"] {
        assert!(!text.contains(personal), "{personal} is anonymized:\n{text}");
    }
    // The anonymized scenario still loads and serves the forms.
    let copy = serve_file(&out).await;
    let v = jdy(
        &copy.base_url(),
        "test-key",
        "/api/v5/app/entry/data/list",
        json!({ "app_id": "aaaaaaaaaaaaaaaaaaaa0001", "entry_id": "bbbbbbbbbbbbbbbbbbbb0002" }),
    )
    .await;
    assert_eq!(v["data"].as_array().map(Vec::len), Some(2));
    assert!(v["data"][0]["_widget_1600000001001"].as_str().is_some_and(|t| t.starts_with("text-")), "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_errors_name_what_is_missing_or_wrong() {
    let tenant = Emulator::start(Scenario::from_toml_str(FIXTURE, "tenant").expect("fixture")).await.expect("starts");
    let dir = workdir("errors");
    let out = dir.join("x.toml");
    let r = import("jiandaoyun", &tenant.base_url(), &out, &[]).await;
    assert_eq!(r.code, Some(1));
    assert!(r.stderr.contains("import jiandaoyun needs --api-key"), "{}", r.stderr);
    let r = import("jiandaoyun", &tenant.base_url(), &out, &["--api-key", "wrong"]).await;
    assert_eq!(r.code, Some(1));
    assert!(r.stderr.contains("POST /api/v5/app/list answered HTTP 400 (code 8301"), "{}", r.stderr);
    let r = import("sharepoint", "http://127.0.0.1:1", &out, &[]).await;
    assert_eq!(r.code, Some(2));
    assert!(r.stderr.contains("unknown platform \"sharepoint\""), "{}", r.stderr);
    let r =
        import("yida", &tenant.base_url(), &out, &["--app-key", "k", "--app-secret", "s", "--user-id", "u", "--system-token", "t"]).await;
    assert!(r.stderr.contains("needs --apps"), "{}", r.stderr);
    assert!(!out.exists(), "nothing written when the import fails");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn yida_import_serves_the_same_forms_components_and_data() {
    // The demo's Yida app plus a form whose options have English labels.
    let extra = r#"
[[yida.apps.forms]]
form_uuid = "FORM-TENANT0000000000000000000000000000001"
name = "双语表单"
components = [
  { id = "radioField_t1", label = "级别", type = "RadioField", options = ["高", "低"], options_en = { "高" = "High", "低" = "Low" }, required = true },
]
records = [ { radioField_t1 = "高" } ]
"#;
    let text = lowcode_emu::scenario::DEMO_TOML.replacen(
        "\n[[yida.apps.forms]]\nform_uuid = \"FORM-DEMO00000000000000000000000000000002\"",
        &format!("{extra}\n[[yida.apps.forms]]\nform_uuid = \"FORM-DEMO00000000000000000000000000000002\""),
        1,
    );
    let tenant = Emulator::start(Scenario::from_toml_str(&text, "tenant").expect("tenant")).await.expect("starts");
    let base = tenant.base_url();
    let dir = workdir("yida");
    let out = dir.join("yida.toml");
    let r = import(
        "yida",
        &base,
        &out,
        &[
            "--app-key",
            "ding-demo-key",
            "--app-secret",
            "ding-demo-secret",
            "--user-id",
            "zhangsan",
            "--corp-id",
            "ding-corp",
            "--system-token",
            "any",
            "--records",
            "10",
            "--include-keys",
        ],
    )
    .await;
    assert!(r.ok, "{} {}", r.stdout, r.stderr);
    assert!(r.stdout.contains("1 apps, 3 forms, 5 records"), "{}", r.stdout);
    let copy = serve_file(&out).await;
    let token = |base: String| async move {
        let (_, v) = call(
            reqwest::Method::POST,
            format!("{base}/v1.0/oauth2/accessToken"),
            &[],
            Some(json!({ "appKey": "ding-demo-key", "appSecret": "ding-demo-secret" })),
        )
        .await;
        v["accessToken"].as_str().expect("token").to_owned()
    };
    let (ta, tb) = (token(base.clone()).await, token(copy.base_url()).await);
    let get = |base: String, token: String, path: String| async move {
        let (status, v) = call(reqwest::Method::GET, format!("{base}{path}"), &[("x-acs-dingtalk-access-token", &token)], None).await;
        assert_eq!(status, 200, "{path}: {v}");
        v
    };
    let common = "appType=APP_DEMO0000000000000001&systemToken=any&userId=zhangsan";
    let forms = get(base.clone(), ta.clone(), format!("/v1.0/yida/forms?{common}")).await;
    assert_eq!(forms, get(copy.base_url(), tb.clone(), format!("/v1.0/yida/forms?{common}")).await);
    for f in forms["result"]["data"].as_array().expect("forms") {
        let uuid = f["formUuid"].as_str().unwrap();
        let path = format!("/v1.0/yida/forms/formFields?{common}&formUuid={uuid}");
        assert_eq!(get(base.clone(), ta.clone(), path.clone()).await, get(copy.base_url(), tb.clone(), path).await, "components of {uuid}");
        let search =
            json!({ "appType": "APP_DEMO0000000000000001", "systemToken": "any", "userId": "zhangsan", "formUuid": uuid, "pageSize": 50 });
        let s = |base: String, token: String| {
            let search = search.clone();
            async move {
                call(
                    reqwest::Method::POST,
                    format!("{base}/v1.0/yida/forms/instances/search"),
                    &[("x-acs-dingtalk-access-token", &token)],
                    Some(search),
                )
                .await
                .1
            }
        };
        let data = |v: Value| v["data"].as_array().unwrap().iter().map(|i| i["formData"].clone()).collect::<Vec<_>>();
        assert_eq!(data(s(base.clone(), ta.clone()).await), data(s(copy.base_url(), tb.clone()).await), "form data of {uuid}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn astrozero_and_omflow_imports_serve_the_same_fields() {
    let tenant = Emulator::start(Scenario::demo()).await.expect("starts");
    let base = tenant.base_url();
    let dir = workdir("az-om");
    let az = dir.join("az.toml");
    let r = import("astrozero", &base, &az, &["--client-id", "demo-client", "--client-secret", "demo-secret", "--records", "10"]).await;
    assert!(r.ok, "{} {}", r.stdout, r.stderr);
    assert!(r.stdout.contains("1 objects, 1 picklists, 3 records"), "{}", r.stdout);
    let copy = serve_file(&az).await;
    let token = |base: String, secret: &'static str| async move {
        let resp = client()
            .post(format!("{base}/baas/auth/v1.0/oauth2/token"))
            .form(&[("grant_type", "client_credentials"), ("client_id", "demo-client"), ("client_secret", secret)])
            .send()
            .await
            .expect("sent");
        resp.json::<Value>().await.expect("json")["access_token"].as_str().expect("token").to_owned()
    };
    let (ta, tb) = (token(base.clone(), "demo-secret").await, token(copy.base_url(), "imported-client-secret").await);
    let get = |base: String, token: String, path: String| async move {
        call(reqwest::Method::GET, format!("{base}{path}"), &[("access-token", &token)], None).await.1
    };
    let objects = |v: Value| {
        v["result"].as_array().unwrap().iter().filter(|o| o["name"].as_str().unwrap().ends_with("__CST")).cloned().collect::<Vec<_>>()
    };
    let (oa, ob) = (
        objects(get(base.clone(), ta.clone(), "/u-route/baas/metadata/v1.0/Object".into()).await),
        objects(get(copy.base_url(), tb.clone(), "/u-route/baas/metadata/v1.0/Object".into()).await),
    );
    assert_eq!(oa.len(), ob.len());
    // Metadata ids are the emulator's own; everything else of each field answers alike.
    let strip = |mut v: Value| {
        for f in v["result"].as_array_mut().unwrap() {
            f.as_object_mut().unwrap().remove("id");
            f.as_object_mut().unwrap().remove("picklist");
        }
        v
    };
    for (a, b) in oa.iter().zip(&ob) {
        assert_eq!(a["name"], b["name"]);
        assert_eq!(a["label"], b["label"]);
        let fa =
            strip(get(base.clone(), ta.clone(), format!("/u-route/baas/metadata/v1.0/Object/{}/Field", a["id"].as_str().unwrap())).await);
        let fb = strip(
            get(copy.base_url(), tb.clone(), format!("/u-route/baas/metadata/v1.0/Object/{}/Field", b["id"].as_str().unwrap())).await,
        );
        assert_eq!(fa, fb, "fields of {}", a["name"]);
    }
    let q = |base: String, token: String| async move {
        let v = call(
            reqwest::Method::POST,
            format!("{base}/u-route/baas/data/v1.0/query/demo__Supplier__CST"),
            &[("access-token", &token)],
            Some(json!({})),
        )
        .await
        .1;
        v["result"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["name"].clone(), r["demo__code__CST"].clone(), r["demo__credit__CST"].clone(), r["demo__rating__CST"].clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(q(base.clone(), ta).await, q(copy.base_url(), tb).await);

    // OMFlow: a ticket shows the fields; the imported flow takes the same formdata and lists the same columns.
    let om = |base: String, body: Value| async move {
        call(
            reqwest::Method::POST,
            format!("{base}/rest/flowmanage/api/omdata/{body_path}", body_path = body["path"].as_str().unwrap()),
            &[],
            Some(body["body"].clone()),
        )
        .await
        .1
    };
    let create = |security: &str| json!({ "path": "edit/incident/", "body": { "security": security, "omflow_restapi": 1, "action": "create", "formdata": [{ "id": "FORMITM_1", "value": "磁盘满" }, { "id": "FORMITM_3", "value": "C 盘" }] } });
    assert_eq!(om(base.clone(), create("omflow-demo-security")).await["status"], "200");
    let omf = dir.join("om.toml");
    let r = import("omflow", &base, &omf, &["--security", "omflow-demo-security", "--api-path", "incident"]).await;
    assert!(r.ok, "{} {}", r.stdout, r.stderr);
    let copy = serve_file(&omf).await;
    assert_eq!(om(copy.base_url(), create("imported-security")).await["status"], "200");
    let list = |security: &str| json!({ "path": "list/incident/", "body": { "security": security, "omflow_restapi": 1 } });
    let (la, lb) = (om(base.clone(), list("omflow-demo-security")).await, om(copy.base_url(), list("imported-security")).await);
    // Field defaults are not exported (OMFlow's API shows none), so only what the ticket set is compared.
    let row = |v: &Value| {
        v["result"][0]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(k, _)| ["formitm_1", "formitm_3", "title"].contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        la["result"][0].as_object().unwrap().keys().collect::<Vec<_>>(),
        lb["result"][0].as_object().unwrap().keys().collect::<Vec<_>>(),
        "same columns"
    );
    assert_eq!(row(&la), row(&lb), "{la}\n{lb}");
}

/// A proxy child process; its first stdout line names its URL.
struct ProxyChild {
    child: std::process::Child,
    url: String,
}

impl ProxyChild {
    fn start(upstream: &str, record: &std::path::Path) -> Self {
        Self::start_with(upstream, record, &[])
    }

    fn start_with(upstream: &str, record: &std::path::Path, extra: &[&str]) -> Self {
        let (child, url) = crate::common::spawn_with_url(
            Command::new(BIN).args(["proxy", "--port", "0", "--upstream", upstream, "--record"]).arg(record).args(extra),
        );
        ProxyChild { child, url }
    }

    fn stop(mut self) {
        let _ = Command::new("kill").args(["-INT", &self.child.id().to_string()]).status();
        let status = self.child.wait().expect("exits");
        assert!(status.success(), "proxy exits cleanly: {status:?}");
    }
}

/// A client session over all four platforms: reads, writes, and reads of what it wrote.
async fn session(base: &str) -> Vec<(u16, Value)> {
    let mut out = Vec::new();
    let jdy_key = [("authorization", "Bearer jdy-demo-key")];
    let post = reqwest::Method::POST;
    let form = json!({ "app_id": "6566f8a1c2e4b10a3c7d0001", "entry_id": "6566f8a1c2e4b10a3c7d0101" });
    out.push(call(post.clone(), format!("{base}/api/v5/app/entry/widget/list"), &jdy_key, Some(form.clone())).await);
    let mut q = form.clone();
    q["limit"] = json!(2);
    out.push(call(post.clone(), format!("{base}/api/v5/app/entry/data/list"), &jdy_key, Some(q)).await);
    let mut c = form.clone();
    c["data"] = json!({ "_widget_1700000000001": { "value": "代理客户" }, "_widget_1700000000008": { "value": 10 } });
    let created = call(post.clone(), format!("{base}/api/v5/app/entry/data/create"), &jdy_key, Some(c)).await;
    let id = created.1["data"]["_id"].clone();
    out.push(created);
    let mut g = form.clone();
    g["data_id"] = id;
    out.push(call(post.clone(), format!("{base}/api/v5/app/entry/data/get"), &jdy_key, Some(g)).await);
    out.push(call(post.clone(), format!("{base}/api/v5/app/entry/data/get"), &jdy_key, Some(json!({ "app_id": "6566f8a1c2e4b10a3c7d0001", "entry_id": "6566f8a1c2e4b10a3c7d0101", "data_id": "000000000000000000000000" }))).await);
    let tok = call(
        post.clone(),
        format!("{base}/v1.0/oauth2/accessToken"),
        &[],
        Some(json!({ "appKey": "ding-demo-key", "appSecret": "ding-demo-secret" })),
    )
    .await;
    let token = tok.1["accessToken"].as_str().unwrap_or_default().to_owned();
    out.push(tok);
    let yida = [("x-acs-dingtalk-access-token", token.as_str())];
    let app = json!({ "appType": "APP_DEMO0000000000000001", "systemToken": "st", "userId": "zhangsan", "formUuid": "FORM-DEMO00000000000000000000000000000001" });
    let mut search = app.clone();
    search["pageSize"] = json!(2);
    out.push(call(post.clone(), format!("{base}/v1.0/yida/forms/instances/search"), &yida, Some(search)).await);
    let mut save = app.clone();
    save["formDataJson"] = json!(json!({ "textField_k1a2b3c4": "代理物品", "numberField_k1a2b3c5": 1 }).to_string());
    let saved = call(post.clone(), format!("{base}/v1.0/yida/forms/instances"), &yida, Some(save)).await;
    let inst = saved.1["result"].as_str().unwrap_or_default().to_owned();
    out.push(saved);
    out.push(
        call(
            reqwest::Method::GET,
            format!("{base}/v1.0/yida/forms/instances/{inst}?appType=APP_DEMO0000000000000001&systemToken=st&userId=zhangsan"),
            &yida,
            None,
        )
        .await,
    );
    let resp = client()
        .post(format!("{base}/baas/auth/v1.0/oauth2/token"))
        .form(&[("grant_type", "client_credentials"), ("client_id", "demo-client"), ("client_secret", "demo-secret")])
        .send()
        .await
        .expect("sent");
    let at = resp.json::<Value>().await.expect("json")["access_token"].as_str().unwrap_or_default().to_owned();
    let az = [("access-token", at.as_str())];
    out.push(
        call(
            post.clone(),
            format!("{base}/u-route/baas/data/v1.0/query/demo__Supplier__CST"),
            &az,
            Some(json!({ "options": { "limit": 2 } })),
        )
        .await,
    );
    let made = call(
        post.clone(),
        format!("{base}/u-route/baas/data/v1.0/bobject/demo__Supplier__CST"),
        &az,
        Some(json!({ "records": [{ "name": "代理供应商", "demo__code__CST": "SUP-P1" }] })),
    )
    .await;
    let rid = made.1["result"][0]["id"].as_str().unwrap_or_default().to_owned();
    out.push(made);
    out.push(call(reqwest::Method::GET, format!("{base}/u-route/baas/data/v1.0/bobject/demo__Supplier__CST/{rid}"), &az, None).await);
    let om = json!({ "security": "omflow-demo-security", "omflow_restapi": 1, "action": "create", "formdata": [{ "id": "FORMITM_1", "value": "代理单" }] });
    out.push(call(post.clone(), format!("{base}/rest/flowmanage/api/omdata/edit/incident/"), &[], Some(om)).await);
    out.push(
        call(
            post,
            format!("{base}/rest/flowmanage/api/omdata/list/incident/"),
            &[],
            Some(json!({ "security": "omflow-demo-security", "omflow_restapi": 1 })),
        )
        .await,
    );
    out
}

async fn diff(recording: &std::path::Path, scenario: Option<&std::path::Path>, extra: &[&str]) -> Run {
    let mut a = args(&["diff", recording.to_str().unwrap(), "--format", "json"]);
    if let Some(s) = scenario {
        a.extend(args(&["--scenario", s.to_str().unwrap()]));
    }
    a.extend(args(extra));
    run(a).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recorded_run_diffs_clean_against_the_same_tenant_and_reports_exactly_what_differs() {
    let tenant = Emulator::start(Scenario::demo()).await.expect("starts");
    let dir = workdir("proxy");
    let rec = dir.join("run.jsonl");
    let proxy = tokio::task::block_in_place(|| ProxyChild::start(&tenant.base_url(), &rec));
    let through = session(&proxy.url).await;
    tokio::task::block_in_place(|| proxy.stop());
    // The proxy passes answers back unchanged: a second tenant seeded alike answers the same session alike.
    let twin = Emulator::start(Scenario::demo()).await.expect("starts");
    let direct = session(&twin.base_url()).await;
    assert_eq!(through.len(), direct.len());
    for (i, (a, b)) in through.iter().zip(&direct).enumerate() {
        assert_eq!(a.0, b.0, "status of call {i}");
    }
    assert_eq!(through[3].1["data"]["_widget_1700000000001"], "代理客户", "read of what was written, through the proxy");
    let text = std::fs::read_to_string(&rec).expect("recording");
    assert_eq!(text.lines().count(), 15, "one line per exchange, token calls included");
    for secret in ["jdy-demo-key", "ding-demo-secret", "demo-secret", "omflow-demo-security"] {
        assert!(!text.contains(secret), "{secret} redacted");
    }
    assert!(text.contains("\"authorization\":\"Bearer ***\""));

    // Same scenario: no difference.
    let same = diff(&rec, None, &[]).await;
    assert_eq!(same.code, Some(0), "{}{}", same.stdout, same.stderr);
    let report: Value = serde_json::from_str(&same.stdout).expect("json report");
    assert_eq!(report["exchanges"], 15);
    assert_eq!(report["differing"], 0);
    // Another seed: every id differs, and the replay still finds what it wrote.
    let reseeded = dir.join("reseeded.toml");
    std::fs::write(&reseeded, lowcode_emu::scenario::DEMO_TOML.replacen("seed = 42", "seed = 4242", 1)).expect("write");
    let r = diff(&rec, Some(&reseeded), &[]).await;
    assert_eq!(r.code, Some(0), "ids are not compared: {}", r.stdout);

    // A fault on one route: exactly that route differs, by status and envelope.
    let faulty = dir.join("faulty.toml");
    std::fs::write(
        &faulty,
        format!(
            "{}\n[[faults]]\nplatform = \"yida\"\nroute = \"yida.openapi.form.search\"\nerror = \"rate_limited\"\n",
            lowcode_emu::scenario::DEMO_TOML
        ),
    )
    .expect("write");
    let r = diff(&rec, Some(&faulty), &[]).await;
    assert_eq!(r.code, Some(1));
    let report: Value = serde_json::from_str(&r.stdout).expect("json report");
    let differing: Vec<&str> =
        report["routes"].as_array().unwrap().iter().filter(|r| r["differing"] != 0).map(|r| r["route"].as_str().unwrap()).collect();
    assert_eq!(differing, vec!["yida.openapi.form.search"], "{report}");
    let kinds: Vec<(&str, &str)> = report["routes"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["differences"].as_array().unwrap())
        .map(|d| (d["kind"].as_str().unwrap(), d["path"].as_str().unwrap()))
        .collect();
    assert_eq!(kinds[0], ("status", "status"));
    assert!(kinds.contains(&("missing", "$.data")), "{kinds:?}");
    assert!(kinds.contains(&("extra", "$.code")), "{kinds:?}");
    // --ignore-route leaves it out.
    assert_eq!(diff(&rec, Some(&faulty), &["--ignore-route", "yida.openapi.form.*"]).await.code, Some(0));

    // Seeded differently: the supplier's credit is text there; exactly the Astro Zero reads of it differ, by type.
    let texty = dir.join("texty.toml");
    let changed = lowcode_emu::scenario::DEMO_TOML
        .replacen("label = \"授信额度\", type = \"Currency\"", "label = \"授信额度\", type = \"Text\"", 1)
        .replace("demo__credit__CST = 500000", "demo__credit__CST = \"500000\"")
        .replace("demo__credit__CST = 200000", "demo__credit__CST = \"200000\"")
        .replace("demo__credit__CST = 80000", "demo__credit__CST = \"80000\"");
    std::fs::write(&texty, changed).expect("write");
    let r = diff(&rec, Some(&texty), &[]).await;
    assert_eq!(r.code, Some(1), "{}", r.stdout);
    let report: Value = serde_json::from_str(&r.stdout).expect("json report");
    let found: Vec<(String, String, String)> = report["routes"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| {
            r["differences"].as_array().unwrap().iter().map(move |d| {
                (r["route"].as_str().unwrap().to_owned(), d["kind"].as_str().unwrap().to_owned(), d["path"].as_str().unwrap().to_owned())
            })
        })
        .collect();
    assert_eq!(found, vec![("astrozero.data.query".to_owned(), "type".to_owned(), "$.result[].demo__credit__CST".to_owned())], "{report}");
    // The table for people says the same.
    let table = run(args(&["diff", rec.to_str().unwrap(), "--scenario", texty.to_str().unwrap()])).await;
    assert!(table.stdout.contains("$.result[].demo__credit__CST: tenant number, emulator string"), "{}", table.stdout);
    assert!(table.stdout.contains("1 of 15 exchanges differ in shape"), "{}", table.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_proxy_bounds_bodies_passes_errors_through_and_names_a_dead_upstream() {
    let tenant = Emulator::start(Scenario::demo()).await.expect("starts");
    let dir = workdir("proxy-bounds");
    let rec = dir.join("run.jsonl");
    let proxy = tokio::task::block_in_place(|| ProxyChild::start_with(&tenant.base_url(), &rec, &["--max-body-bytes", "2000"]));
    let big = json!({ "app_id": "x".repeat(3000) });
    let (status, _) = call(reqwest::Method::POST, format!("{}/api/v5/app/list", proxy.url), &[], Some(big)).await;
    assert_eq!(status, 413, "a body over --max-body-bytes is refused");
    // The tenant's own errors come back as they are: status, headers and body.
    let through = client()
        .post(format!("{}/api/v5/app/list", proxy.url))
        .header("authorization", "Bearer nope")
        .body("{}")
        .send()
        .await
        .expect("sent");
    let direct = client()
        .post(format!("{}/api/v5/app/list", tenant.base_url()))
        .header("authorization", "Bearer nope")
        .body("{}")
        .send()
        .await
        .expect("sent");
    assert_eq!(through.status(), direct.status());
    assert_eq!(through.headers().get("content-type"), direct.headers().get("content-type"));
    assert_eq!(through.bytes().await.expect("body"), direct.bytes().await.expect("body"));
    tokio::task::block_in_place(|| proxy.stop());
    let text = std::fs::read_to_string(&rec).expect("recording");
    assert_eq!(text.lines().count(), 1, "the refused body is not recorded, the error answer is");
    // Nothing listens at the upstream: 502 naming it.
    let dead = tokio::task::block_in_place(|| ProxyChild::start("http://127.0.0.1:9", &dir.join("dead.jsonl")));
    let resp = client().get(format!("{}/api/v5/app/list", dead.url)).send().await.expect("sent");
    assert_eq!(resp.status().as_u16(), 502);
    assert!(resp.text().await.expect("text").contains("upstream http://127.0.0.1:9/api/v5/app/list"));
    tokio::task::block_in_place(|| dead.stop());
}

#[test]
fn a_damaged_recording_is_named_by_line() {
    let dir = workdir("damaged");
    let rec = dir.join("bad.jsonl");
    std::fs::write(&rec, "{\"seq\":1,\"time\":\"\",\"method\":\"GET\",\"path\":\"/x\",\"status\":200}\nnot json\n").expect("write");
    let out = Command::new(BIN).args(["diff"]).arg(&rec).output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.jsonl:2: not an exchange of a recording"), "{err}");
}
