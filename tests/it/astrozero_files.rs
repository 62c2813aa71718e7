//! Huawei Astro Zero connector file storage and bulk import/export, over real HTTP.

use crate::common;

use std::io::{Cursor, Read, Write};

use common::astrozero::{az_bytes, az_call, az_err, az_ok, az_raw, az_token};
use common::*;
use lowcode_emu::Emulator;
use reqwest::Method;
use serde_json::json;

const AZ_RUNTIME: &str = include_str!("fixtures/astrozero_runtime.toml");
const C: &str = "/u-route/baas/sys/v1.1/connectors/obs/ns__Files";
const BULK: &str = "/u-route/baas/bulk/v1.0";

async fn setup() -> (Emulator, String) {
    let emu = start_with(AZ_RUNTIME).await;
    let t = az_token(&emu, "cid", "csecret").await;
    (emu, t)
}

fn zip_of(files: &[(&str, &str)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, text) in files {
        w.start_file(*name, zip::write::SimpleFileOptions::default()).unwrap();
        w.write_all(text.as_bytes()).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn unzip(bytes: &[u8]) -> Vec<(String, String)> {
    let mut a = zip::ZipArchive::new(Cursor::new(bytes)).expect("a zip");
    (0..a.len())
        .map(|i| {
            let mut f = a.by_index(i).unwrap();
            let mut s = String::new();
            f.read_to_string(&mut s).unwrap();
            (f.name().unwrap().into_owned(), s)
        })
        .collect()
}

#[tokio::test]
async fn upload_list_view_and_delete_files() {
    let (emu, t) = setup().await;
    // Multipart with the file in part `object` and a `dir`; the ACL comes in the query string.
    let form = reqwest::multipart::Form::new()
        .part("object", reqwest::multipart::Part::bytes(b"%PDF-1.7 fake".to_vec()).file_name("合同.pdf"))
        .text("dir", "docs/contracts");
    let resp = client()
        .post(format!("{}{C}/putobject?acl=private", emu.base_url()))
        .header("access-token", &t)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body, json!({ "resCode": "0", "resMsg": "成功", "result": "docs/contracts/合同.pdf" }));
    // Raw bytes with ?object=; the same key replaces the file.
    let raw =
        az_raw(&emu, &t, Method::POST, &format!("{C}/putobject?object=docs/a.txt"), "application/octet-stream", b"HELLO WORLD!".to_vec())
            .await;
    assert_eq!(az_ok(&raw), "docs/a.txt");
    az_err(&az_raw(&emu, &t, Method::POST, &format!("{C}/putobject?object=/abs.txt"), "text/plain", b"x".to_vec()).await, 400);
    az_err(&az_raw(&emu, &t, Method::POST, &format!("{C}/putobject?object=x.txt&acl=everyone"), "text/plain", b"x".to_vec()).await, 400);
    let list = az_call(&emu, &t, Method::GET, &format!("{C}/listdir?dir=docs"), None).await;
    let names: Vec<(String, bool)> =
        az_ok(&list).as_array().unwrap().iter().map(|e| (e["name"].as_str().unwrap().to_owned(), e["isDir"].as_bool().unwrap())).collect();
    assert_eq!(names, [("a.txt".to_owned(), false), ("contracts".to_owned(), true), ("sub".to_owned(), true)]);
    assert_eq!(az_ok(&list)[0]["size"], 12);
    let root = az_call(&emu, &t, Method::GET, &format!("{C}/listdir?dir=/&max-keys=1&marker=docs/"), None).await;
    assert_eq!(az_ok(&root).as_array().unwrap().iter().map(|e| e["key"].clone()).collect::<Vec<_>>(), [json!("top.txt")]);
    az_err(&az_call(&emu, &t, Method::GET, &format!("{C}/listdir?max-keys=1001"), None).await, 400);
    // Downloads are raw bytes, with ranges.
    let (status, headers, bytes) = az_bytes(&emu, Some(&t), &format!("{C}/viewobject?object=docs/a.txt"), None).await;
    assert_eq!((status, bytes.as_slice()), (200, b"HELLO WORLD!".as_slice()));
    assert_eq!(headers["content-type"], "text/plain");
    let (status, headers, bytes) = az_bytes(&emu, Some(&t), &format!("{C}/viewobject?object=docs/a.txt"), Some("bytes=6-10")).await;
    assert_eq!((status, bytes.as_slice()), (206, b"WORLD".as_slice()));
    assert_eq!(headers["content-range"], "bytes 6-10/12");
    let (status, _, bytes) = az_bytes(&emu, Some(&t), &format!("{C}/viewobject?object=docs/a.txt"), Some("bytes=-1")).await;
    assert_eq!((status, bytes.as_slice()), (206, b"!".as_slice()));
    let (status, _, _) = az_bytes(&emu, Some(&t), &format!("{C}/viewobject?object=docs/a.txt"), Some("bytes=50-60")).await;
    assert_eq!(status, 416);
    let (status, _, _) = az_bytes(&emu, None, &format!("{C}/viewobject?object=docs/a.txt"), None).await;
    assert_eq!(status, 401);
    az_err(&az_call(&emu, &t, Method::GET, &format!("{C}/viewobject?object=docs/none.txt"), None).await, 404);
    az_err(&az_call(&emu, &t, Method::GET, "/u-route/baas/sys/v1.1/connectors/minio/ns__Files/listdir", None).await, 404);
    // Deleting a file, then a directory with everything under it.
    let del = az_call(&emu, &t, Method::DELETE, &format!("{C}/delobject?object=top.txt"), None).await;
    assert_eq!(del.body, json!({ "resCode": "0", "resMsg": "成功" }));
    az_err(&az_call(&emu, &t, Method::DELETE, &format!("{C}/delobject?object=top.txt"), None).await, 404);
    az_ok(&az_call(&emu, &t, Method::DELETE, &format!("{C}/deldir?dir=docs"), None).await);
    assert_eq!(az_ok(&az_call(&emu, &t, Method::GET, &format!("{C}/listdir"), None).await), &json!([]));
    az_err(&az_call(&emu, &t, Method::DELETE, &format!("{C}/deldir?dir=docs"), None).await, 404);
    let ep = az_call(&emu, &t, Method::GET, &format!("{C}/getendpoint"), None).await;
    assert_eq!(az_ok(&ep), "https://b1.obs.example.com/");
}

#[tokio::test]
async fn multipart_uploads_join_parts_in_order() {
    let (emu, t) = setup().await;
    az_err(&az_raw(&emu, &t, Method::POST, &format!("{C}/createmultipartupload?object=v/clip.mp4"), "text/plain", Vec::new()).await, 400);
    let init = az_raw(&emu, &t, Method::POST, &format!("{C}/createmultipartupload?object=v/clip.mp4"), "video/mp4", Vec::new()).await;
    let upload = az_ok(&init)["uploadId"].as_str().unwrap().to_owned();
    let part = |n: u32, data: Vec<u8>| {
        let (emu, t, upload) = (&emu, &t, upload.clone());
        async move {
            let path = format!("{C}/uploadpart?object=v/clip.mp4&uploadId={upload}&partNumber={n}");
            az_raw(emu, t, Method::POST, &path, "application/octet-stream", data).await
        }
    };
    let big = vec![b'a'; 5 * 1024 * 1024];
    // Parts may come in any order; a part number sent again replaces the part.
    let p2 = part(2, b"tail".to_vec()).await;
    let _ = part(1, b"too small".to_vec()).await;
    let p1 = part(1, big.clone()).await;
    az_err(&part(10_001, b"x".to_vec()).await, 400);
    let tags = json!([{ "ETag": az_ok(&p1)["ETag"], "partNumber": "1" }, { "ETag": az_ok(&p2)["ETag"], "partNumber": "2" }]);
    let bad = json!([{ "ETag": "\"nope\"", "partNumber": "1" }, { "ETag": az_ok(&p2)["ETag"], "partNumber": "2" }]);
    let complete = format!("{C}/completeupload?object=v/clip.mp4&uploadId={upload}");
    az_err(&az_call(&emu, &t, Method::POST, &complete, Some(bad)).await, 400);
    az_ok(&az_call(&emu, &t, Method::POST, &complete, Some(tags.clone())).await);
    // The upload id is dead afterwards.
    az_err(&az_call(&emu, &t, Method::POST, &complete, Some(tags)).await, 404);
    let (status, headers, bytes) = az_bytes(&emu, Some(&t), &format!("{C}/viewobject?object=v/clip.mp4"), None).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "video/mp4");
    assert_eq!(bytes.len(), big.len() + 4);
    assert!(bytes.ends_with(b"atail"));
    // A small part that is not the last one is refused; abort discards everything.
    let init =
        az_raw(&emu, &t, Method::POST, &format!("{C}/createmultipartupload?object=x.bin"), "application/octet-stream", Vec::new()).await;
    let up2 = az_ok(&init)["uploadId"].as_str().unwrap().to_owned();
    let a = az_raw(
        &emu,
        &t,
        Method::POST,
        &format!("{C}/uploadpart?object=x.bin&uploadId={up2}&partNumber=1"),
        "application/octet-stream",
        b"a".to_vec(),
    )
    .await;
    let b = az_raw(
        &emu,
        &t,
        Method::POST,
        &format!("{C}/uploadpart?object=x.bin&uploadId={up2}&partNumber=2"),
        "application/octet-stream",
        b"b".to_vec(),
    )
    .await;
    let both = json!([{ "ETag": az_ok(&a)["ETag"], "partNumber": 1 }, { "ETag": az_ok(&b)["ETag"], "partNumber": 2 }]);
    let small = az_call(&emu, &t, Method::POST, &format!("{C}/completeupload?object=x.bin&uploadId={up2}"), Some(both)).await;
    assert!(small.body["resMsg"].as_str().unwrap().contains("smaller than 5 MB"), "{}", small.body);
    let abort = az_call(&emu, &t, Method::POST, &format!("{C}/abortupload?object=x.bin&uploadId={up2}"), None).await;
    assert_eq!(abort.body, json!({ "resCode": "0", "resMsg": "成功" }));
    az_err(&az_call(&emu, &t, Method::POST, &format!("{C}/abortupload?object=x.bin&uploadId={up2}"), None).await, 404);
}

#[tokio::test]
async fn share_tokens_open_files_without_an_access_token_until_they_expire() {
    let (emu, t) = setup().await;
    let share =
        az_call(&emu, &t, Method::POST, &format!("{C}/sharetoken"), Some(json!({ "shareType": 1, "key": "docs/", "timeoutInMinutes": 5 })))
            .await;
    let token = az_ok(&share)["shareToken"].as_str().unwrap().to_owned();
    assert!(token.starts_with("eyJ"), "{token}");
    let view = |key: &str| {
        let path = format!("/u-route/baas/sys/v1.1/objectstorage/viewshareobject?object={key}&shareToken={token}");
        let emu = &emu;
        async move { az_bytes(emu, None, &path, None).await }
    };
    let (status, _, bytes) = view("docs/sub/b.txt").await;
    assert_eq!((status, bytes.as_slice()), (200, b"bee".as_slice()));
    assert_eq!(view("top.txt").await.0, 403);
    az_err(&az_call(&emu, &t, Method::POST, &format!("{C}/sharetoken"), Some(json!({ "shareType": 1, "key": "docs" }))).await, 400);
    az_err(
        &az_call(
            &emu,
            &t,
            Method::POST,
            &format!("{C}/sharetoken"),
            Some(json!({ "shareType": 0, "key": "top.txt", "timeoutInMinutes": 1441 })),
        )
        .await,
        400,
    );
    let many =
        az_call(&emu, &t, Method::POST, &format!("{C}/sharetoken"), Some(json!({ "shareType": 2, "keys": ["top.txt", "docs/a.txt"] })))
            .await;
    az_ok(&many);
    let clock = client().post(format!("{}/__emu/clock", emu.base_url())).body(r#"{"advance":"6m"}"#).send().await.unwrap();
    assert_eq!(clock.status(), 200);
    assert_eq!(view("docs/sub/b.txt").await.0, 401);
}

#[tokio::test]
async fn export_writes_a_zip_of_csv_and_import_reads_one() {
    let (emu, t) = setup().await;
    let exp = az_call(
        &emu,
        &t,
        Method::POST,
        &format!("{BULK}/export/data?file_type=csv"),
        Some(json!({
            "encodeType": "utf-8", "scheduleMode": 1, "isImmediate": true, "objects": ["ns__Asset__CST"],
            "cond": { "conditions": [{ "field": "ns__qty__CST", "operator": "gt", "value": 5 }] },
        })),
    )
    .await;
    let task = az_ok(&exp).as_str().unwrap().to_owned();
    let (status, _, bytes) = az_bytes(&emu, Some(&t), &format!("{C}/viewobject?object=bulk/export/{task}.zip"), None).await;
    assert_eq!(status, 200);
    let files = unzip(&bytes);
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].0, "ns__Asset__CST.csv");
    let lines: Vec<&str> = files[0].1.lines().collect();
    assert_eq!(lines[0], "ns__Asset__CST");
    assert_eq!(lines[1], "id,name,ns__code__CST,ns__qty__CST");
    assert_eq!(lines.len(), 3);
    assert!(lines[2].ends_with(",显示器,A-2,7"), "{}", lines[2]);
    // Schedule and object checks.
    let bad = |body: serde_json::Value| az_call(&emu, &t, Method::POST, "/u-route/baas/bulk/v1.0/export/data", Some(body));
    az_err(&bad(json!({ "objects": ["ns__Asset__CST"], "scheduleMode": 2 })).await, 400);
    az_err(
        &bad(json!({ "objects": ["ns__Asset__CST"], "scheduleMode": 1, "isImmediate": true, "firstScheduleDate": "2026-06-02 00:00:00" }))
            .await,
        400,
    );
    az_err(&bad(json!({ "objects": [] })).await, 400);
    az_err(&bad(json!({ "objects": ["ns__Nope__CST"] })).await, 404);
    // Import: new rows (noid), then changes by id (hasid); bad rows do not stop good ones.
    let csv = "ns__Asset__CST\nname,ns__code__CST,ns__qty__CST\n键盘,A-3,4\n\"鼠标, 无线\",A-4,\n重复,A-1,1\n";
    let imp = az_raw(
        &emu,
        &t,
        Method::POST,
        &format!("{BULK}/import/data?filename=x.zip&flag=noid"),
        "application/zip",
        zip_of(&[("assets.csv", csv)]),
    )
    .await;
    az_ok(&imp);
    let q = az_call(
        &emu,
        &t,
        Method::POST,
        "/u-route/baas/data/v1.0/query/ns__Asset__CST",
        Some(json!({ "options": { "orderby": [{ "field": "ns__code__CST" }] } })),
    )
    .await;
    let codes: Vec<_> = az_ok(&q).as_array().unwrap().iter().map(|r| (r["ns__code__CST"].clone(), r["ns__qty__CST"].clone())).collect();
    assert_eq!(codes, [(json!("A-1"), json!(3)), (json!("A-2"), json!(7)), (json!("A-3"), json!(4)), (json!("A-4"), json!(null))]);
    assert_eq!(az_ok(&q)[3]["name"], "鼠标, 无线");
    let a4 = az_ok(&q)[3]["id"].as_str().unwrap().to_owned();
    let update = format!("ns__Asset__CST\nid,ns__qty__CST\n{a4},9\n");
    az_ok(
        &az_raw(
            &emu,
            &t,
            Method::POST,
            &format!("{BULK}/import/data?filename=y.zip&flag=hasid"),
            "application/zip",
            zip_of(&[("u.csv", &update)]),
        )
        .await,
    );
    let got = az_call(&emu, &t, Method::GET, &format!("/u-route/baas/data/v1.0/bobject/ns__Asset__CST/{a4}"), None).await;
    assert_eq!(az_ok(&got)[0]["ns__qty__CST"], 9);
    let state = client().get(format!("{}/__emu/state", emu.base_url())).send().await.unwrap().json::<serde_json::Value>().await.unwrap();
    let tasks = &state["astrozero"]["runtime"]["tasks"];
    let import = tasks.as_object().unwrap().values().find(|t| t["kind"] == "import" && t["records"] == 2).expect("the first import");
    assert_eq!(import["status"], "PartiallyCompleted");
    assert!(import["errors"][0].as_str().unwrap().contains("line 5"), "{import}");
    az_err(
        &az_raw(&emu, &t, Method::POST, &format!("{BULK}/import/data?filename=x.zip"), "application/zip", b"not a zip".to_vec()).await,
        400,
    );
    az_err(&az_raw(&emu, &t, Method::POST, &format!("{BULK}/import/data?filename=x.csv"), "application/zip", zip_of(&[])).await, 400);
    az_err(
        &az_raw(&emu, &t, Method::POST, &format!("{BULK}/import/data?filename=x.zip&flag=maybe"), "application/zip", zip_of(&[])).await,
        400,
    );
}

#[tokio::test]
async fn schema_export_and_import_round_trip_objects() {
    let (emu, t) = setup().await;
    let exp =
        az_call(&emu, &t, Method::POST, &format!("{BULK}/export/schema?flag=template"), Some(json!({ "objects": ["ns__Asset__CST"] })))
            .await;
    let task = az_ok(&exp).as_str().unwrap().to_owned();
    let (_, _, bytes) = az_bytes(&emu, Some(&t), &format!("{C}/viewobject?object=bulk/schema/{task}.zip"), None).await;
    let files = unzip(&bytes);
    let mut doc: serde_json::Value = serde_json::from_str(&files[0].1).unwrap();
    assert_eq!(doc["objects"][0]["fields"][0]["name"], "ns__code__CST");
    // The same schema under another name creates a new object with the same fields.
    doc["objects"][0]["name"] = json!("ns__Copy__CST");
    let zip = zip_of(&[("schema.json", &doc.to_string())]);
    let imp = az_raw(&emu, &t, Method::POST, &format!("{BULK}/import/schema?filename=importtemplate.zip"), "application/zip", zip).await;
    az_ok(&imp);
    let obj = az_call(&emu, &t, Method::GET, "/u-route/baas/metadata/v1.0/Object/ns__Copy__CST", None).await;
    let fields: Vec<_> = az_ok(&obj)["fields"].as_array().unwrap().iter().map(|f| f["name"].clone()).collect();
    assert_eq!(fields, [json!("ns__code__CST"), json!("ns__qty__CST")]);
    let made = az_call(
        &emu,
        &t,
        Method::POST,
        "/u-route/baas/data/v1.0/bobject/ns__Copy__CST",
        Some(json!({ "records": [{ "ns__code__CST": "C-1" }] })),
    )
    .await;
    az_ok(&made);
    az_err(
        &az_raw(&emu, &t, Method::POST, &format!("{BULK}/import/schema?filename=s.zip"), "application/zip", zip_of(&[("x.txt", "x")]))
            .await,
        400,
    );
}

/// An import zip that would inflate far past its own size is refused without being inflated, and a
/// multipart completion may not list a part twice (one 5 MB part listed 40 times made a 200 MB object).
#[tokio::test]
async fn zip_bombs_and_repeated_parts_are_refused() {
    let (emu, t) = setup().await;
    let bomb = format!("ns__Asset__CST\nname\n{}", "a".repeat(40 * 1024 * 1024));
    let zipped = zip_of(&[("bomb.csv", &bomb)]);
    assert!(zipped.len() < 1024 * 1024, "the bomb is small: {}", zipped.len());
    let r = az_raw(&emu, &t, Method::POST, &format!("{BULK}/import/data?filename=x.zip&flag=noid"), "application/zip", zipped).await;
    az_err(&r, 400);
    assert!(r.body["resMsg"].as_str().is_some_and(|m| m.contains("unpacks to more than")), "{}", r.body);

    let init =
        az_raw(&emu, &t, Method::POST, &format!("{C}/createmultipartupload?object=rep.bin"), "application/octet-stream", Vec::new()).await;
    let upload = az_ok(&init)["uploadId"].as_str().unwrap().to_owned();
    let part = |n: u32, data: Vec<u8>| {
        let (emu, t, upload) = (&emu, &t, upload.clone());
        async move {
            let path = format!("{C}/uploadpart?object=rep.bin&uploadId={upload}&partNumber={n}");
            az_raw(emu, t, Method::POST, &path, "application/octet-stream", data).await
        }
    };
    let p1 = part(1, vec![b'a'; 5 * 1024 * 1024]).await;
    let p2 = part(2, b"tail".to_vec()).await;
    let tag1 = az_ok(&p1)["ETag"].clone();
    let mut listed: Vec<serde_json::Value> = (0..40).map(|_| json!({ "ETag": tag1, "partNumber": 1 })).collect();
    listed.push(json!({ "ETag": az_ok(&p2)["ETag"], "partNumber": 2 }));
    let complete = format!("{C}/completeupload?object=rep.bin&uploadId={upload}");
    let r = az_call(&emu, &t, Method::POST, &complete, Some(json!(listed))).await;
    az_err(&r, 400);
    assert!(r.body["resMsg"].as_str().is_some_and(|m| m.contains("listed more than once")), "{}", r.body);
    let once = json!([{ "ETag": tag1, "partNumber": 1 }, { "ETag": az_ok(&p2)["ETag"], "partNumber": 2 }]);
    az_ok(&az_call(&emu, &t, Method::POST, &complete, Some(once)).await);
}

/// The runtime fixture plus an import/export template on the asset object.
fn with_template() -> String {
    format!(
        "{AZ_RUNTIME}\n{}",
        r#"
[[astrozero.templates]]
name = "ns__AssetSheet"
label = "资产导入"
object = "ns__Asset__CST"
columns = [
  { column = "编码", field = "ns__code__CST", required = true },
  { column = "名称", field = "name" },
  { column = "数量", field = "ns__qty__CST" },
]
steps = [
  { when = { field = "ns__qty__CST", op = "lt", value = 0 }, fail = "a quantity cannot be negative ({{ns__qty__CST}})" },
  { create = "ns__Asset__CST", values = { ns__code__CST = "{{row.ns__code__CST}}", name = "{{row.name}}", ns__qty__CST = "{{row.ns__qty__CST}}" } },
]
"#
    )
}

/// A spreadsheet written by rust_xlsxwriter (the import reads it with calamine).
fn sheet(rows: &[Vec<serde_json::Value>]) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let ws = book.add_worksheet();
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            let (r, c) = (r as u32, c as u16);
            match v {
                serde_json::Value::Number(n) => ws.write_number(r, c, n.as_f64().unwrap()).map(|_| ()),
                serde_json::Value::String(s) => ws.write_string(r, c, s).map(|_| ()),
                _ => Ok(()),
            }
            .unwrap();
        }
    }
    book.save_to_buffer().unwrap()
}

fn read_sheet(bytes: &[u8]) -> Vec<Vec<String>> {
    use calamine::Reader;
    let mut book = calamine::open_workbook_auto_from_rs(Cursor::new(bytes.to_vec())).expect("an xlsx");
    let name = book.sheet_names()[0].clone();
    let range = book.worksheet_range(&name).expect("a sheet");
    range.rows().map(|r| r.iter().map(|c| c.to_string()).collect()).collect()
}

#[tokio::test]
async fn import_and_export_by_template() {
    let emu = start_with(&with_template()).await;
    let t = az_token(&emu, "cid", "csecret").await;
    // The template file: its header row is the mapping's columns.
    let (status, headers, bytes) = az_bytes(&emu, Some(&t), &format!("{BULK}/template/xlsx?template=ns__AssetSheet"), None).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    assert!(headers["content-disposition"].to_str().unwrap().contains("ns__AssetSheet.xlsx"));
    assert_eq!(read_sheet(&bytes), vec![vec!["编码", "名称", "数量"]]);

    // Import: every row through the operation script; failing rows are listed, the others land.
    let file = sheet(&[
        vec![json!("数量"), json!("编码"), json!("名称")],
        vec![json!(5), json!("B-1"), json!("扫描仪")],
        vec![json!(2), json!(1001), json!("打印机")],
        vec![json!(-1), json!("B-3"), json!("坏行")],
        vec![json!(1), json!(""), json!("没有编码")],
        vec![json!(1), json!("A-1"), json!("重复编码")],
    ]);
    let imported = az_raw(
        &emu,
        &t,
        Method::POST,
        &format!("{BULK}/template/xlsx?template=ns__AssetSheet&filename=assets.xlsx"),
        "application/octet-stream",
        file.clone(),
    )
    .await;
    assert_eq!((imported.status, imported.body.clone()), (200, json!("")), "no body, as documented");
    let q = az_call(
        &emu,
        &t,
        Method::POST,
        "/u-route/baas/data/v1.0/query/ns__Asset__CST",
        Some(json!({ "options": { "orderby": [{ "field": "ns__code__CST", "order": "asc" }] } })),
    )
    .await;
    let rows: Vec<(String, String, serde_json::Value)> = az_ok(&q)
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["ns__code__CST"].as_str().unwrap().to_owned(), r["name"].as_str().unwrap().to_owned(), r["ns__qty__CST"].clone()))
        .collect();
    assert!(rows.contains(&("B-1".into(), "扫描仪".into(), json!(5))));
    assert!(rows.contains(&("1001".into(), "打印机".into(), json!(2))), "a code typed as a number reads as text: {rows:?}");
    assert_eq!(rows.len(), 4, "two seeded and two imported: {rows:?}");
    let state = get(&emu, "/__emu/state").await.body;
    let task = state["astrozero"]["runtime"]["tasks"]
        .as_object()
        .unwrap()
        .values()
        .find(|t| t["kind"] == "template-import")
        .cloned()
        .expect("the import task");
    snap!("astrozero_template_import_task", task.clone());
    assert_eq!(task["status"], "PartiallyCompleted");
    assert_eq!(task["records"], 2);
    let errors: Vec<String> = task["errors"].as_array().unwrap().iter().map(|e| e.as_str().unwrap().to_owned()).collect();
    assert_eq!(errors.len(), 3, "{errors:?}");
    assert!(errors[0].starts_with("row 4: ") && errors[0].contains("negative"), "{errors:?}");
    assert!(errors[1].starts_with("row 5: ") && errors[1].contains("编码"), "{errors:?}");
    assert!(errors[2].starts_with("row 6: ") && errors[2].contains("unique"), "{errors:?}");

    // Multipart bodies work too; the failures are the platform's envelope.
    let form = reqwest::multipart::Form::new()
        .part("file", reqwest::multipart::Part::bytes(sheet(&[vec![json!("编码")], vec![json!("M-1")]])).file_name("m.xlsx"));
    let resp = client()
        .post(format!("{}{BULK}/template/xlsx?template=ns__AssetSheet&filename=m.xlsx", emu.base_url()))
        .header("access-token", &t)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let one = az_call(&emu, &t, Method::POST, "/u-route/baas/data/v1.0/count/ns__Asset__CST", Some(json!({}))).await;
    assert_eq!(az_ok(&one), 5);
    let raw = |q: &str, body: Vec<u8>| {
        let path = format!("{BULK}/template/xlsx?{q}");
        let (emu, t) = (&emu, t.clone());
        async move { az_raw(emu, &t, Method::POST, &path, "application/octet-stream", body).await }
    };
    assert_eq!(az_err(&raw("template=nope&filename=a.xlsx", file.clone()).await, 404), "404000001");
    az_err(&raw("template=ns__AssetSheet&filename=a.csv", file.clone()).await, 400);
    az_err(&raw("template=ns__AssetSheet&filename=a.xlsx", b"not a spreadsheet".to_vec()).await, 400);
    az_err(&raw("template=ns__AssetSheet", file.clone()).await, 400);
    // A sheet without the required column imports nothing and says why in the task.
    let no_code = raw("template=ns__AssetSheet&filename=a.xlsx", sheet(&[vec![json!("名称")], vec![json!("x")]])).await;
    assert_eq!(no_code.status, 200);
    let tasks = get(&emu, "/__emu/state").await.body["astrozero"]["runtime"]["tasks"].clone();
    let failed = tasks.as_object().unwrap().values().filter(|t| t["status"] == "Failed").cloned().collect::<Vec<_>>();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["errors"], json!(["the sheet has no column \"编码\" (required)"]));

    // Export by template: the template's columns, the records matching cond, in an xlsx in the zip.
    let exp = az_call(
        &emu,
        &t,
        Method::POST,
        &format!("{BULK}/export/data?flag=template"),
        Some(json!({
            "templateName": "ns__AssetSheet",
            "cond": { "conjunction": "AND", "conditions": [{ "field": "ns__qty__CST", "operator": "ge", "value": 3 }] },
        })),
    )
    .await;
    let task = az_ok(&exp).as_str().unwrap().to_owned();
    let (_, _, zipped) = az_bytes(&emu, Some(&t), &format!("{C}/viewobject?object=bulk/export/{task}.zip"), None).await;
    let mut archive = zip::ZipArchive::new(Cursor::new(zipped)).unwrap();
    assert_eq!(archive.len(), 1);
    let mut xlsx = Vec::new();
    let mut f = archive.by_index(0).unwrap();
    assert_eq!(f.name().unwrap(), "ns__AssetSheet.xlsx");
    f.read_to_end(&mut xlsx).unwrap();
    let mut got = read_sheet(&xlsx);
    got[1..].sort();
    assert_eq!(got, vec![vec!["编码", "名称", "数量"], vec!["A-1", "笔记本", "3"], vec!["A-2", "显示器", "7"], vec!["B-1", "扫描仪", "5"]]);
    az_err(&az_call(&emu, &t, Method::POST, &format!("{BULK}/export/data"), Some(json!({ "templateName": "nope" }))).await, 404);
}
