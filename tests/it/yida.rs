//! Yida in-app remote API: transport, envelopes, paging, search, permissions, processes and tasks.

use crate::common;

use common::*;
use lowcode_emu::Emulator;
use serde_json::{json, Value};

const YIDA: &str = r#"
name = "yida-tests"
[emulator]
seed = 3
clock = "2026-06-01T02:00:00Z"

[[users]]
id = "alice"
name = "爱丽丝"
[[users]]
id = "bob"
name = "鲍勃"
[[users]]
id = "carol"
name = "卡罗尔"
[[departments]]
id = 2
name = "信息平台部"

[[flows]]
id = "approve"
nodes = [
  { id = "start", type = "start", name = "提交申请" },
  { id = "boss", type = "approve", name = "主管审批", assignees = ["bob"], cc = ["carol"] },
  { id = "end", type = "end", name = "结束" },
]
edges = [["start", "boss"], ["boss", "end"]]

[yida]
default_user = "alice"
app_keys = [{ app_key = "ding-key", app_secret = "ding-secret" }]

[[yida.apps]]
app_type = "APP_TEST0000000000000001"
system_token = "SYS-TOKEN-1"
admins = ["alice"]

[[yida.apps.forms]]
form_uuid = "FORM-TEST00000000000000000000000000000001"
name = "资产登记"
components = [
  { id = "textField_aaaa0001", label = "名称", type = "TextField", required = true },
  { id = "numberField_aaaa0002", label = "数量", type = "NumberField" },
  { id = "checkboxField_aaaa0003", label = "标签", type = "CheckboxField", options = ["新", "旧", "贵重"] },
  { id = "dateField_aaaa0004", label = "日期", type = "DateField" },
  { id = "employeeField_aaaa0005", label = "负责人", type = "EmployeeField" },
  { id = "departmentSelectField_aaaa0006", label = "部门", type = "DepartmentSelectField" },
  { id = "cascadeDate_aaaa0007", label = "期间", type = "CascadeDateField" },
  { id = "tableField_aaaa0008", label = "明细", type = "TableField", items = [{ id = "textField_aaaa0009", label = "项", type = "TextField" }] },
  { id = "citySelectField_aaaa0010", label = "城市", type = "CitySelectField" },
  { id = "textareaField_aaaa0011", label = "说明", type = "TextareaField" },
  { id = "radioField_aaaa0012", label = "单选", type = "RadioField" },
  { id = "selectField_aaaa0013", label = "下拉", type = "SelectField" },
  { id = "multiSelectField_aaaa0014", label = "多选", type = "MultiSelectField" },
  { id = "cascadeSelectField_aaaa0015", label = "级联", type = "CascadeSelectField" },
  { id = "imageField_aaaa0016", label = "图片", type = "ImageField" },
  { id = "attachmentField_aaaa0017", label = "附件", type = "AttachmentField" },
  { id = "linkField_aaaa0018", label = "链接", type = "LinkField" },
  { id = "associationFormField_aaaa0019", label = "关联", type = "AssociationFormField" },
  { id = "addressField_aaaa0020", label = "地址", type = "AddressField" },
  { id = "digitalSignatureField_aaaa0021", label = "签名", type = "DigitalSignatureField" },
  { id = "rateField_aaaa0022", label = "评分", type = "RateField" },
]

[[yida.apps.forms]]
form_uuid = "FORM-TEST00000000000000000000000000000002"
name = "保密登记"
viewers = ["bob"]
components = [{ id = "textField_bbbb0001", label = "x", type = "TextField" }]

[[yida.apps.forms]]
form_uuid = "FORM-TEST00000000000000000000000000000003"
name = "采购申请"
process_code = "TPROC--TEST00000000000000000000000000000003"
flow = "approve"
components = [{ id = "textField_cccc0001", label = "物品", type = "TextField" }, { id = "numberField_cccc0002", label = "金额", type = "NumberField" }]
"#;

const APPT: &str = "APP_TEST0000000000000001";
const F1: &str = "FORM-TEST00000000000000000000000000000001";
const SECRET: &str = "FORM-TEST00000000000000000000000000000002";
const PF: &str = "FORM-TEST00000000000000000000000000000003";
const PCODE: &str = "TPROC--TEST00000000000000000000000000000003";

fn url(emu: &Emulator, group: &str, method: &str) -> String {
    format!("{}/dingtalk/web/{APPT}/v1/{group}/{method}.json", emu.base_url())
}

async fn get_q(emu: &Emulator, group: &str, method: &str, q: &[(&str, String)], user: Option<&str>) -> Value {
    let mut req = client().get(url(emu, group, method)).query(q);
    if let Some(u) = user {
        req = req.header("x-emu-user", u);
    }
    let r = req.send().await.expect("sent");
    assert_eq!(r.status(), 200);
    r.json().await.expect("json")
}

async fn post_form(emu: &Emulator, group: &str, method: &str, form: &[(&str, String)], user: Option<&str>) -> Value {
    let body: String = form_urlencoded::Serializer::new(String::new()).extend_pairs(form.iter().map(|(k, v)| (*k, v.as_str()))).finish();
    let mut req =
        client().post(url(emu, group, method)).header("content-type", "application/x-www-form-urlencoded; charset=UTF-8").body(body);
    if let Some(u) = user {
        req = req.header("x-emu-user", u);
    }
    let r = req.send().await.expect("sent");
    assert_eq!(r.status(), 200);
    r.json().await.expect("json")
}

async fn save(emu: &Emulator, data: Value) -> Value {
    post_form(
        emu,
        "form",
        "saveFormData",
        &[("formUuid", F1.into()), ("appType", APPT.into()), ("formDataJson", data.to_string()), ("_csrf_token", "t".into())],
        None,
    )
    .await
}

/// A search for one radio/select value is answered from an index of that field; after every kind of
/// change (save, update, delete, a save dated earlier) it pages exactly like the same condition in the
/// advanced form, which scans.
#[tokio::test]
async fn select_equality_searches_see_every_change() {
    let emu = start_with(YIDA).await;
    let page = |simple: bool, current: usize| {
        let emu = &emu;
        let cond = if simple {
            json!({ "radioField_aaaa0012": "甲" }).to_string()
        } else {
            json!([{ "key": "radioField_aaaa0012", "value": "甲", "operator": "eq" }]).to_string()
        };
        async move {
            let q =
                [("formUuid", F1.to_owned()), ("pageSize", "2".into()), ("currentPage", current.to_string()), ("searchFieldJson", cond)];
            let r = get_q(emu, "form", "searchFormDataIds", &q, None).await;
            (r["result"]["totalCount"].clone(), r["result"]["data"].clone())
        }
    };
    let same = || async {
        for current in 1..=3 {
            assert_eq!(page(true, current).await, page(false, current).await, "page {current}");
        }
        page(true, 1).await.0
    };
    let mut ids = Vec::new();
    for (i, v) in ["甲", "乙", "甲", "甲", "丙"].iter().enumerate() {
        let r = save(&emu, json!({ "textField_aaaa0001": format!("R{i}"), "radioField_aaaa0012": v })).await;
        ids.push(r["result"].as_str().unwrap().to_owned());
    }
    assert_eq!(same().await, 3);
    let update = |id: String, v: &'static str| {
        let emu = &emu;
        async move {
            let body = json!({ "formInstId": id, "updateFormDataJson": json!({ "radioField_aaaa0012": v }).to_string() });
            client().post(url(emu, "form", "updateFormData")).json(&body).send().await.expect("sent").json::<Value>().await.expect("json")
        }
    };
    assert_eq!(update(ids[1].clone(), "甲").await["success"], true);
    assert_eq!(same().await, 4, "an update moves a record in");
    post_form(&emu, "form", "deleteFormData", &[("formInstId", ids[0].clone())], None).await;
    assert_eq!(same().await, 3, "a delete takes one out");
    client().post(format!("{}/__emu/clock", emu.base_url())).body(r#"{"set":"2026-05-01T00:00:00Z"}"#).send().await.expect("clock");
    save(&emu, json!({ "textField_aaaa0001": "EARLY", "radioField_aaaa0012": "甲" })).await;
    assert_eq!(same().await, 4, "a save dated earlier (the sorted path)");
    assert_eq!(page(true, 2).await.1.as_array().map(Vec::len), Some(2));
}

/// Pages of the default order (newest first) are the list walked backwards while creation times never
/// decrease; moving the clock back between writes, deleting and filtering must all page exactly as a
/// full sort would.
#[tokio::test]
async fn newest_first_pages_hold_when_the_clock_moves_back_and_records_go() {
    let emu = start_with(YIDA).await;
    let names = |v: &Value| -> Vec<String> {
        v["result"]["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["formData"]["textField_aaaa0001"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    let search = |extra: Vec<(&'static str, String)>| {
        let emu = &emu;
        async move {
            let mut q = vec![("formUuid", F1.to_owned())];
            q.extend(extra);
            get_q(emu, "form", "searchFormDatas", &q, None).await
        }
    };
    let mut ids = Vec::new();
    for i in 0..7 {
        let r = save(&emu, json!({ "textField_aaaa0001": format!("A{i}"), "numberField_aaaa0002": i })).await;
        ids.push(r["result"].as_str().unwrap().to_owned());
        client().post(format!("{}/__emu/clock", emu.base_url())).body(r#"{"advance":"1m"}"#).send().await.expect("clock");
    }
    let p2 = search(vec![("pageSize", "3".into()), ("currentPage", "2".into())]).await;
    assert_eq!((names(&p2), p2["result"]["totalCount"].clone()), (vec!["A3".to_owned(), "A2".into(), "A1".into()], json!(7)));
    let odd = json!([{ "key": "numberField_aaaa0002", "value": 2, "operator": "gt" }]).to_string();
    let f = search(vec![("pageSize", "2".into()), ("currentPage", "2".into()), ("searchFieldJson", odd.clone())]).await;
    assert_eq!((names(&f), f["result"]["totalCount"].clone()), (vec!["A4".to_owned(), "A3".into()], json!(4)));
    let past = search(vec![("pageSize", "5".into()), ("currentPage", "3".into())]).await;
    assert_eq!((names(&past), past["result"]["totalCount"].clone()), (Vec::<String>::new(), json!(7)), "a page past the end is empty");
    // Back in time: the newest record by creation time is no longer the last one written.
    client().post(format!("{}/__emu/clock", emu.base_url())).body(r#"{"set":"2026-06-01T01:00:00Z"}"#).send().await.expect("clock");
    save(&emu, json!({ "textField_aaaa0001": "EARLY", "numberField_aaaa0002": 100 })).await;
    let all = search(vec![("pageSize", "100".into())]).await;
    assert_eq!(names(&all), vec!["A6", "A5", "A4", "A3", "A2", "A1", "A0", "EARLY"]);
    let f = search(vec![("pageSize", "2".into()), ("currentPage", "3".into()), ("searchFieldJson", odd)]).await;
    assert_eq!((names(&f), f["result"]["totalCount"].clone()), (vec!["EARLY".to_owned()], json!(5)));
    // Deleting the odd one out puts the list back in creation order; pages follow.
    let del = post_form(
        &emu,
        "form",
        "deleteFormData",
        &[("formInstId", all["result"]["data"][7]["formInstId"].as_str().unwrap().to_owned())],
        None,
    )
    .await;
    assert_eq!(del["success"], true);
    post_form(&emu, "form", "deleteFormData", &[("formInstId", ids[5].clone())], None).await;
    let p1 = search(vec![("pageSize", "3".into())]).await;
    assert_eq!((names(&p1), p1["result"]["totalCount"].clone()), (vec!["A6".to_owned(), "A4".into(), "A3".into()], json!(6)));
    let ids_page = get_q(
        &emu,
        "form",
        "searchFormDataIds",
        &[("formUuid", F1.to_owned()), ("pageSize", "2".into()), ("currentPage", "3".into())],
        None,
    )
    .await;
    assert_eq!(ids_page["result"]["data"], json!([ids[1], ids[0]]));
}

#[tokio::test]
async fn save_read_update_delete_round_trip_every_component() {
    let emu = start_with(YIDA).await;
    let data = json!({
        "textField_aaaa0001": "笔记本电脑", "numberField_aaaa0002": 3, "checkboxField_aaaa0003": ["新", "贵重"],
        "dateField_aaaa0004": 1516636800000i64, "employeeField_aaaa0005": ["bob"], "departmentSelectField_aaaa0006": 2,
        "cascadeDate_aaaa0007": ["1514736000000", "1517328000000"], "tableField_aaaa0008": [{ "textField_aaaa0009": "一" }, { "textField_aaaa0009": "二" }],
        "citySelectField_aaaa0010": ["110000", "110100", "110101"],
    });
    let saved = save(&emu, data).await;
    assert_eq!(saved["success"], true);
    let id = saved["result"].as_str().expect("id").to_owned();
    assert!(id.starts_with("FINST-") && id.len() == 44, "{id}");
    let got = get_q(&emu, "form", "getFormDataById", &[("formInstId", id.clone())], None).await;
    snap!("yida_get_form_data", got);
    assert_eq!(got["result"]["formData"]["departmentSelectField_aaaa0006"], "信息平台部", "departments read back as names");

    // JSON body with formDataJson as a JSON string, as the JS clients send.
    let r = client()
        .post(url(&emu, "form", "updateFormData"))
        .json(&json!({ "formInstId": id, "updateFormDataJson": json!({ "numberField_aaaa0002": 5 }).to_string() }))
        .send()
        .await
        .expect("sent")
        .json::<Value>()
        .await
        .expect("json");
    assert_eq!(r, json!({ "success": true }));
    let got = get_q(&emu, "form", "getFormDataById", &[("formInstId", id.clone())], None).await;
    assert_eq!(
        (got["result"]["formData"]["numberField_aaaa0002"].clone(), got["result"]["formData"]["textField_aaaa0001"].clone()),
        (json!(5), json!("笔记本电脑"))
    );
    let rows = get_q(
        &emu,
        "form",
        "listTableDataByFormInstIdAndTableId",
        &[
            ("formUuid", F1.into()),
            ("formInstanceId", id.clone()),
            ("tableFieldId", "tableField_aaaa0008".into()),
            ("pageSize", "1".into()),
            ("currentPage", "2".into()),
        ],
        None,
    )
    .await;
    assert_eq!(rows, json!({ "result": { "data": [{ "textField_aaaa0009": "二" }], "totalCount": 2, "currentPage": 2 }, "success": true }));
    let del = post_form(&emu, "form", "deleteFormData", &[("formInstId", id.clone())], None).await;
    assert_eq!(del, json!({ "success": true }));
    let gone = get_q(&emu, "form", "getFormDataById", &[("formInstId", id)], None).await;
    assert_eq!((gone["success"].clone(), gone["errorCode"].clone()), (json!(false), json!("TIANSHU_000003")));
}

#[tokio::test]
async fn search_paging_order_and_both_filter_forms() {
    let emu = start_with(YIDA).await;
    for (i, tag) in ["新", "旧", "新", "贵重", "新"].iter().enumerate() {
        save(&emu, json!({ "textField_aaaa0001": format!("资产{i}"), "numberField_aaaa0002": i * 10, "checkboxField_aaaa0003": [tag], "employeeField_aaaa0005": ["alice"] })).await;
    }
    let q = |extra: Vec<(&'static str, String)>| {
        let mut v = vec![("formUuid", F1.to_owned())];
        v.extend(extra);
        v
    };
    let page1 = get_q(&emu, "form", "searchFormDataIds", &q(vec![("pageSize", "2".into())]), None).await;
    assert_eq!((page1["result"]["totalCount"].clone(), page1["result"]["data"].as_array().map(Vec::len)), (json!(5), Some(2)));
    let all =
        get_q(&emu, "form", "searchFormDatas", &q(vec![("dynamicOrder", json!({ "numberField_aaaa0002": "+" }).to_string())]), None).await;
    let nums: Vec<Value> = all["result"]["data"]
        .as_array()
        .map(|a| a.iter().map(|d| d["formData"]["numberField_aaaa0002"].clone()).collect())
        .unwrap_or_default();
    assert_eq!(nums, vec![json!(0), json!(10), json!(20), json!(30), json!(40)]);
    let newest = get_q(&emu, "form", "searchFormDatas", &q(vec![("pageSize", "1".into())]), None).await;
    assert_eq!(newest["result"]["data"][0]["formData"]["textField_aaaa0001"], "资产4", "newest first by default");

    let simple =
        json!({ "textField_aaaa0001": "资产", "numberField_aaaa0002": ["10", "30"], "checkboxField_aaaa0003": ["新"] }).to_string();
    let r = get_q(&emu, "form", "searchFormDatas", &q(vec![("searchFieldJson", simple)]), None).await;
    assert_eq!(r["result"]["totalCount"], 1);
    assert_eq!(r["result"]["data"][0]["formData"]["textField_aaaa0001"], "资产2");
    let advanced = json!([{ "key": "numberField_aaaa0002", "value": 20, "type": "DOUBLE", "operator": "gt", "componentName": "NumberField" }, { "key": "textField_aaaa0001", "value": "资产4", "type": "TEXT", "operator": "eq", "componentName": "TextField" }]).to_string();
    let r = get_q(&emu, "form", "searchFormDatas", &q(vec![("searchFieldJson", advanced)]), None).await;
    assert_eq!(r["result"]["totalCount"], 1);
    let employee = json!([{ "key": "employeeField_aaaa0005", "value": "[\"alice\"]", "type": "STRING", "operator": "contains", "componentName": "EmployeeField" }]).to_string();
    assert_eq!(get_q(&emu, "form", "searchFormDatas", &q(vec![("searchFieldJson", employee)]), None).await["result"]["totalCount"], 5);

    for (extra, needle) in [
        (vec![("pageSize", "101".to_string())], "pageSize"),
        (vec![("pageSize", "0".to_string())], "pageSize"),
        (vec![("currentPage", "0".to_string())], "currentPage"),
        (vec![("searchFieldJson", "{broken".to_string())], "JSON"),
        (vec![("searchFieldJson", json!({ "textField_nope": "x" }).to_string())], "field is null"),
        (vec![("searchFieldJson", json!([{ "key": "textField_aaaa0001", "value": "x", "operator": "regex" }]).to_string())], "regex"),
        (vec![("dynamicOrder", json!({ "numberField_aaaa0002": "up" }).to_string())], "dynamicOrder"),
        (vec![("createFrom", "2026/06/01".to_string())], "createFrom"),
    ] {
        let r = get_q(&emu, "form", "searchFormDatas", &q(extra.clone()), None).await;
        assert_eq!((r["success"].clone(), r["errorCode"].clone()), (json!(false), json!("TIANSHU_000002")), "{extra:?}");
        assert!(r["errorMsg"].as_str().is_some_and(|m| m.contains(needle)), "{extra:?}: {r}");
    }
    let dated =
        get_q(&emu, "form", "searchFormDataIds", &q(vec![("createFrom", "2026-06-01".into()), ("createTo", "2026-06-01".into())]), None)
            .await;
    assert_eq!(dated["result"]["totalCount"], 5, "createTo covers the whole day");
    let table = get_q(
        &emu,
        "form",
        "listTableDataByFormInstIdAndTableId",
        &[
            ("formUuid", F1.into()),
            ("formInstanceId", "x".into()),
            ("tableFieldId", "tableField_aaaa0008".into()),
            ("pageSize", "51".into()),
        ],
        None,
    )
    .await;
    assert_eq!(table["errorCode"], "TIANSHU_000002", "sub-form pages hold at most 50");
}

#[tokio::test]
async fn permissions_users_and_parameter_errors() {
    let emu = start_with(YIDA).await;
    let secret = get_q(&emu, "form", "searchFormDatas", &[("formUuid", SECRET.into())], None).await;
    assert_eq!(secret, json!({ "success": false, "errorCode": "TIANSHU_000006", "errorMsg": "没有权限" }));
    assert_eq!(get_q(&emu, "form", "searchFormDatas", &[("formUuid", SECRET.into())], Some("bob")).await["success"], true);
    let defs = get_q(&emu, "form", "getFormComponentDefinationList", &[("formUuid", F1.into())], None).await;
    assert_eq!(defs["content"][0]["label"], json!({ "en_US": "名称", "zh_CN": "名称", "type": "i18n" }).to_string());
    assert_eq!(
        get_q(&emu, "form", "getFormComponentDefinationList", &[("formUuid", F1.into())], Some("bob")).await["errorCode"],
        "TIANSHU_000006",
        "admins only"
    );
    assert_eq!(
        get_q(&emu, "form", "searchFormDatas", &[("formUuid", F1.into())], Some("ghost")).await["errorCode"],
        "307",
        "no such session"
    );
    let unknown_app = client()
        .get(format!("{}/dingtalk/web/APP_NOPE/v1/form/searchFormDatas.json?formUuid={F1}", emu.base_url()))
        .send()
        .await
        .expect("sent")
        .json::<Value>()
        .await
        .expect("json");
    assert_eq!(unknown_app["errorCode"], "TIANSHU_000001");
    assert_eq!(get_q(&emu, "form", "searchFormDatas", &[("formUuid", "FORM-NOPE".into())], None).await["errorMsg"], "平台未知异常");
    let missing = post_form(&emu, "form", "saveFormData", &[("formUuid", F1.into()), ("formDataJson", "{}".into())], None).await;
    assert!(missing["errorMsg"].as_str().is_some_and(|m| m.contains("名称")), "required field: {missing}");
    let bad_json = post_form(&emu, "form", "saveFormData", &[("formUuid", F1.into()), ("formDataJson", "{oops".into())], None).await;
    assert_eq!(bad_json["errorCode"], "TIANSHU_000002");
    let wrong_type = post_form(
        &emu,
        "form",
        "saveFormData",
        &[("formUuid", F1.into()), ("formDataJson", json!({ "textField_aaaa0001": "x", "numberField_aaaa0002": "many" }).to_string())],
        None,
    )
    .await;
    assert!(wrong_type["errorMsg"].as_str().is_some_and(|m| m.contains("numberField_aaaa0002")));
    let ghost_employee = post_form(
        &emu,
        "form",
        "saveFormData",
        &[("formUuid", F1.into()), ("formDataJson", json!({ "textField_aaaa0001": "x", "employeeField_aaaa0005": ["ghost"] }).to_string())],
        None,
    )
    .await;
    assert_eq!(ghost_employee["success"], false);
    let other_app = post_form(
        &emu,
        "form",
        "saveFormData",
        &[("formUuid", F1.into()), ("appType", "APP_OTHER".into()), ("formDataJson", json!({ "textField_aaaa0001": "x" }).to_string())],
        None,
    )
    .await;
    assert_eq!(other_app["errorCode"], "TIANSHU_000002");
    // formDataJson may also arrive as an object (lenient).
    let as_object = client()
        .post(url(&emu, "form", "saveFormData"))
        .json(&json!({ "formUuid": F1, "formDataJson": { "textField_aaaa0001": "对象" } }))
        .send()
        .await
        .expect("sent")
        .json::<Value>()
        .await
        .expect("json");
    assert_eq!(as_object["success"], true);
}

async fn start_process(emu: &Emulator, what: &str) -> String {
    let r = post_form(
        emu,
        "process",
        "startInstance",
        &[
            ("processCode", PCODE.into()),
            ("formUuid", PF.into()),
            ("formDataJson", json!({ "textField_cccc0001": what, "numberField_cccc0002": 1200 }).to_string()),
        ],
        None,
    )
    .await;
    assert_eq!(r["success"], true, "{r}");
    r["result"].as_str().expect("id").to_owned()
}

#[tokio::test]
async fn process_lifecycle_agree_disagree_terminate() {
    let emu = start_with(YIDA).await;
    let pid = start_process(&emu, "显示器").await;
    assert_eq!(pid.len(), 36, "a UUID");
    let todo = get_q(&emu, "task", "getTodoTasksInApp", &[("currentPage", "1".into()), ("pageSize", "10".into())], Some("bob")).await;
    assert_eq!(todo["result"]["totalCount"], 1);
    let task = todo["result"]["data"][0].clone();
    assert_eq!(
        (task["status"].clone(), task["processInstanceId"].clone(), task["title"].clone()),
        (json!("NEW"), json!(pid), json!("爱丽丝发起的流程"))
    );
    let running = get_q(&emu, "process", "getInstanceById", &[("processInstanceId", pid.clone())], None).await;
    assert_eq!(running["result"]["instanceStatus"], "RUNNING");
    assert_eq!(running["result"]["actioners"][0]["userId"], "bob");
    // Only the assignee may execute the task.
    let denied = post_form(
        &emu,
        "task",
        "executeTask",
        &[
            ("taskId", task["taskId"].as_str().unwrap_or("").into()),
            ("procInstId", pid.clone()),
            ("outResult", "AGREE".into()),
            ("remark", "ok".into()),
        ],
        None,
    )
    .await;
    assert_eq!(denied["errorCode"], "TIANSHU_000006");
    let agreed = post_form(
        &emu,
        "task",
        "executeTask",
        &[
            ("taskId", task["taskId"].as_str().unwrap_or("").into()),
            ("procInstId", pid.clone()),
            ("outResult", "AGREE".into()),
            ("remark", "同意".into()),
            ("formDataJson", json!({ "numberField_cccc0002": 1100 }).to_string()),
        ],
        Some("bob"),
    )
    .await;
    assert_eq!(agreed, json!({ "success": true, "errorCode": "", "errorMsg": "" }));
    let done = get_q(&emu, "process", "getInstanceById", &[("processInstanceId", pid.clone())], None).await;
    assert_eq!(
        (
            done["result"]["instanceStatus"].clone(),
            done["result"]["approvedResult"].clone(),
            done["result"]["data"]["numberField_cccc0002"].clone()
        ),
        (json!("COMPLETED"), json!("agree"), json!(1100))
    );
    snap!("yida_instance_completed", done);
    let records = get_q(&emu, "process", "getOperationRecords", &[("processInstanceId", pid.clone())], None).await;
    assert_eq!(
        records["content"].as_array().map(|a| a.iter().map(|r| r["actionExt"].clone()).collect::<Vec<_>>()),
        Some(vec![json!("submit"), json!("agree")])
    );
    assert_eq!(records["content"][0]["taskId"], "null");
    let done_tasks = get_q(&emu, "task", "getDoneTasksInApp", &[], Some("bob")).await;
    assert_eq!(done_tasks["result"]["data"][0]["status"], "COMPLETED");
    let notify = get_q(&emu, "task", "getNotifyMeTasksInApp", &[("processCodes", json!([PCODE]).to_string())], Some("carol")).await;
    assert_eq!(notify["result"]["totalCount"], 1, "carol is copied at the approval node");

    // DISAGREE ends the process with approvedResult disagree.
    let pid2 = start_process(&emu, "键盘").await;
    let t2 = get_q(&emu, "task", "getTodoTasksInApp", &[], Some("bob")).await["result"]["data"][0]["taskId"].clone();
    post_form(
        &emu,
        "task",
        "executeTask",
        &[
            ("taskId", t2.as_str().unwrap_or("").into()),
            ("procInstId", pid2.clone()),
            ("outResult", "DISAGREE".into()),
            ("remark", "预算不足".into()),
        ],
        Some("bob"),
    )
    .await;
    let rejected = get_q(&emu, "process", "getInstanceById", &[("processInstanceId", pid2.clone())], None).await;
    assert_eq!(
        (rejected["result"]["instanceStatus"].clone(), rejected["result"]["approvedResult"].clone()),
        (json!("COMPLETED"), json!("disagree"))
    );

    // Terminate a running one.
    let pid3 = start_process(&emu, "鼠标").await;
    assert_eq!(
        post_form(&emu, "process", "terminateInstance", &[("processInstanceId", pid3.clone())], None).await,
        json!({ "success": true, "errorCode": "", "errorMsg": "" })
    );
    assert_eq!(
        get_q(&emu, "process", "getInstanceById", &[("processInstanceId", pid3.clone())], None).await["result"]["instanceStatus"],
        "TERMINATED"
    );
    let terminated =
        get_q(&emu, "process", "getInstanceIds", &[("formUuid", PF.into()), ("instanceStatus", "TERMINATED".into())], None).await;
    assert_eq!(terminated["result"], json!({ "data": [pid3], "totalCount": 1, "currentPage": 1 }));
    let agreed_only = get_q(&emu, "process", "getInstances", &[("formUuid", PF.into()), ("approvedResult", "agree".into())], None).await;
    assert_eq!(agreed_only["result"]["totalCount"], 1);
    let mine = get_q(&emu, "process", "getMySubmitInApp", &[], None).await;
    assert_eq!(mine["result"]["totalCount"], 3);
    assert_eq!(mine["result"]["data"][0]["dataType"], "proc");

    // updateInstance and deleteInstance.
    assert_eq!(
        post_form(
            &emu,
            "process",
            "updateInstance",
            &[("processInstanceId", pid.clone()), ("updateFormDataJson", json!({ "textField_cccc0001": "显示器(27寸)" }).to_string())],
            None
        )
        .await,
        json!({ "success": true })
    );
    assert_eq!(post_form(&emu, "process", "deleteInstance", &[("processInstanceId", pid.clone())], None).await["success"], true);
    assert_eq!(get_q(&emu, "process", "getInstanceById", &[("processInstanceId", pid)], None).await["errorCode"], "TIANSHU_000003");
    assert_eq!(
        get_q(&emu, "process", "getInstanceIds", &[("formUuid", PF.into()), ("instanceStatus", "DONE".into())], None).await["errorCode"],
        "TIANSHU_000002"
    );
    let bad_out = post_form(
        &emu,
        "task",
        "executeTask",
        &[("taskId", "1".into()), ("procInstId", pid2), ("outResult", "MAYBE".into()), ("remark", "x".into())],
        Some("bob"),
    )
    .await;
    assert_eq!(bad_out["errorCode"], "TIANSHU_000002");
}

#[tokio::test]
async fn every_component_type_writes_reads_and_searches() {
    let emu = start_with(YIDA).await;
    let data = json!({
        "textField_aaaa0001": "全部类型", "textareaField_aaaa0011": "多行\n文本", "numberField_aaaa0002": 7, "rateField_aaaa0022": 4,
        "radioField_aaaa0012": "选项一", "selectField_aaaa0013": "选项二", "checkboxField_aaaa0003": ["新", "旧"], "multiSelectField_aaaa0014": ["甲", "乙"],
        "dateField_aaaa0004": 1516636800000i64, "cascadeDate_aaaa0007": ["1514736000000", "1517328000000"], "employeeField_aaaa0005": ["alice", "bob"],
        "departmentSelectField_aaaa0006": ["2"], "citySelectField_aaaa0010": ["110000", "110100"], "cascadeSelectField_aaaa0015": ["part", "part_b"],
        "imageField_aaaa0016": [{ "name": "a.jpg", "downloadUrl": "https://example.invalid/a.jpg" }],
        "attachmentField_aaaa0017": [{ "name": "b.txt", "downloadUrl": "https://example.invalid/b.txt", "ext": "txt" }],
        "linkField_aaaa0018": [{ "link": "http://www.aliwork.com", "text": "Yida" }],
        "associationFormField_aaaa0019": [{ "appType": APPT, "formType": "receipt", "formUuid": F1, "instanceId": "FINST-X", "title": "仓库" }],
        "addressField_aaaa0020": { "regionIds": ["460000", "469027"], "address": "红岗农场" },
        "digitalSignatureField_aaaa0021": "https://example.invalid/sign.png",
        "tableField_aaaa0008": [{ "textField_aaaa0009": "行" }],
    });
    let id = save(&emu, data.clone()).await["result"].as_str().expect("id").to_owned();
    save(&emu, json!({ "textField_aaaa0001": "另一条" })).await;
    let got = get_q(&emu, "form", "getFormDataById", &[("formInstId", id.clone())], None).await;
    let fd = &got["result"]["formData"];
    for (k, v) in data.as_object().cloned().unwrap_or_default() {
        // The documented read format: departments and regions by name, the rest as written.
        let expect = match k.as_str() {
            "departmentSelectField_aaaa0006" => json!("信息平台部"),
            "citySelectField_aaaa0010" => json!(["北京市", "北京市"]),
            _ => v,
        };
        assert_eq!(fd[&k], expect, "{k} reads back");
    }
    let searches = [
        json!({ "textareaField_aaaa0011": "文本" }),
        json!({ "rateField_aaaa0022": ["3", "5"] }),
        json!({ "radioField_aaaa0012": "选项一" }),
        json!({ "selectField_aaaa0013": "选项二" }),
        json!({ "multiSelectField_aaaa0014": ["乙"] }),
        json!({ "dateField_aaaa0004": [1516636800000i64, 1516636800001i64] }),
        json!({ "cascadeDate_aaaa0007": [["1514736000000", "1514736000000"], ["1517328000000", "1517328000000"]] }),
        json!({ "employeeField_aaaa0005": ["alice", "bob"] }),
        json!({ "departmentSelectField_aaaa0006": ["2"] }),
        json!({ "citySelectField_aaaa0010": ["110000"] }),
        json!({ "cascadeSelectField_aaaa0015": ["part"] }),
        json!({ "tableField_aaaa0008": "行" }),
    ];
    for s in searches {
        let r = get_q(&emu, "form", "searchFormDataIds", &[("formUuid", F1.into()), ("searchFieldJson", s.to_string())], None).await;
        assert_eq!(r["result"]["data"], json!([id]), "{s}");
    }
    let employee_order = json!({ "employeeField_aaaa0005": ["bob", "alice"] });
    let r =
        get_q(&emu, "form", "searchFormDataIds", &[("formUuid", F1.into()), ("searchFieldJson", employee_order.to_string())], None).await;
    assert_eq!(r["result"]["totalCount"], 0, "employee search is exact, order included");
}

async fn open_token(emu: &Emulator) -> String {
    let r = client()
        .post(format!("{}/v1.0/oauth2/accessToken", emu.base_url()))
        .json(&json!({ "appKey": "ding-key", "appSecret": "ding-secret" }))
        .send()
        .await
        .expect("sent");
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["expireIn"], 7200);
    v["accessToken"].as_str().expect("token").to_owned()
}

async fn open_call(
    emu: &Emulator,
    method: reqwest::Method,
    path: &str,
    token: &str,
    query: &[(&str, String)],
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = client().request(method, format!("{}{path}", emu.base_url())).header("x-acs-dingtalk-access-token", token).query(query);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.expect("sent");
    let status = r.status().as_u16();
    let text = r.text().await.expect("text");
    (status, if text.is_empty() { Value::Null } else { serde_json::from_str(&text).expect("json body") })
}

#[tokio::test]
async fn dingtalk_open_api_routes_share_the_store() {
    let emu = start_with(YIDA).await;
    let bad = client()
        .post(format!("{}/v1.0/oauth2/accessToken", emu.base_url()))
        .json(&json!({ "appKey": "ding-key", "appSecret": "nope" }))
        .send()
        .await
        .expect("sent");
    assert_eq!(bad.status(), 400);
    let token = open_token(&emu).await;
    let common = |extra: Value| {
        let mut b = json!({ "appType": APPT, "systemToken": "SYS-TOKEN-1", "userId": "alice" });
        if let (Some(o), Value::Object(e)) = (b.as_object_mut(), extra) {
            o.extend(e);
        }
        b
    };
    let (status, saved) = open_call(
        &emu,
        reqwest::Method::POST,
        "/v1.0/yida/forms/instances",
        &token,
        &[],
        Some(common(json!({ "formUuid": F1, "formDataJson": json!({ "textField_aaaa0001": "开放接口" }).to_string() }))),
    )
    .await;
    assert_eq!(status, 200, "{saved}");
    let id = saved["result"].as_str().expect("id").to_owned();
    // The in-app API sees the same record.
    let inapp = get_q(&emu, "form", "getFormDataById", &[("formInstId", id.clone())], None).await;
    assert_eq!(inapp["result"]["formData"]["textField_aaaa0001"], "开放接口");
    let q = [("appType", APPT.to_owned()), ("systemToken", "SYS-TOKEN-1".to_owned()), ("userId", "alice".to_owned())];
    let (_, got) = open_call(&emu, reqwest::Method::GET, &format!("/v1.0/yida/forms/instances/{id}"), &token, &q, None).await;
    assert_eq!((got["formInstId"].clone(), got["originator"]["name"]["nameInChinese"].clone()), (json!(id), json!("爱丽丝")));
    let (status, body) = open_call(
        &emu,
        reqwest::Method::PUT,
        "/v1.0/yida/forms/instances",
        &token,
        &[],
        Some(common(json!({ "formInstanceId": id, "updateFormDataJson": json!({ "numberField_aaaa0002": 9 }).to_string() }))),
    )
    .await;
    assert_eq!((status, body), (200, Value::Null));
    let (_, found) = open_call(&emu, reqwest::Method::POST, "/v1.0/yida/forms/instances/search", &token, &[], Some(common(json!({ "formUuid": F1, "searchFieldJson": json!({ "numberField_aaaa0002": ["9", "9"] }).to_string(), "currentPage": 1, "pageSize": 10 })))).await;
    assert_eq!((found["totalCount"].clone(), found["data"][0]["formInstanceId"].clone()), (json!(1), json!(id)));
    let (_, ids) = open_call(
        &emu,
        reqwest::Method::POST,
        &format!("/v1.0/yida/forms/instances/ids/{APPT}/{F1}"),
        &token,
        &[("pageNumber", "1".into()), ("pageSize", "10".into())],
        Some(json!({ "systemToken": "SYS-TOKEN-1", "userId": "alice", "appType": APPT })),
    )
    .await;
    assert_eq!(ids, json!({ "pageNumber": 1, "totalCount": 1, "data": [id] }));

    let (_, started) = open_call(
        &emu,
        reqwest::Method::POST,
        "/v1.0/yida/processes/instances/start",
        &token,
        &[],
        Some(common(
            json!({ "formUuid": PF, "processCode": PCODE, "formDataJson": json!({ "textField_cccc0001": "投影仪" }).to_string() }),
        )),
    )
    .await;
    let pid = started["result"].as_str().expect("pid").to_owned();
    let (_, inst) = open_call(&emu, reqwest::Method::GET, &format!("/v1.0/yida/processes/instancesInfos/{pid}"), &token, &q, None).await;
    assert_eq!((inst["instanceStatus"].clone(), inst["actionExecutor"][0]["userId"].clone()), (json!("RUNNING"), json!("bob")));
    let task = get_q(&emu, "task", "getTodoTasksInApp", &[], Some("bob")).await["result"]["data"][0]["taskId"].clone();
    let exec = common(
        json!({ "userId": "bob", "taskId": task.as_str().unwrap_or("").parse::<i64>().unwrap_or(0), "processInstanceId": pid, "outResult": "AGREE", "remark": "好" }),
    );
    let (status, _) = open_call(&emu, reqwest::Method::POST, "/v1.0/yida/tasks/execute", &token, &[], Some(exec)).await;
    assert_eq!(status, 200);
    let (_, page) = open_call(
        &emu,
        reqwest::Method::POST,
        "/v1.0/yida/processes/instances",
        &token,
        &[("pageNumber", "1".into()), ("pageSize", "10".into())],
        Some(common(json!({ "formUuid": PF, "instanceStatus": "COMPLETED" }))),
    )
    .await;
    assert_eq!((page["totalCount"].clone(), page["data"][0]["approvedResult"].clone()), (json!(1), json!("agree")));

    // Auth and parameter failures use the gateway's error body.
    let (status, err) = open_call(&emu, reqwest::Method::GET, &format!("/v1.0/yida/forms/instances/{id}"), "forged", &q, None).await;
    assert_eq!((status, err["code"].clone()), (401, json!("InvalidAuthentication")));
    assert!(err["requestid"].is_string());
    let wrong_sys = [("appType", APPT.to_owned()), ("systemToken", "nope".to_owned()), ("userId", "alice".to_owned())];
    assert_eq!(open_call(&emu, reqwest::Method::GET, &format!("/v1.0/yida/forms/instances/{id}"), &token, &wrong_sys, None).await.0, 403);
    let (status, missing) = open_call(&emu, reqwest::Method::GET, "/v1.0/yida/forms/instances/FINST-NOPE", &token, &q, None).await;
    assert_eq!((status, missing["code"].clone()), (400, json!("TIANSHU_000003")));
    client().post(format!("{}/__emu/clock", emu.base_url())).body(r#"{"advance":"2h"}"#).send().await.expect("clock");
    assert_eq!(
        open_call(&emu, reqwest::Method::GET, &format!("/v1.0/yida/forms/instances/{id}"), &token, &q, None).await.0,
        401,
        "tokens expire after 7200 s"
    );
}

#[tokio::test]
async fn operation_logs_are_bounded_and_survive_a_state_round_trip() {
    let emu = start_with(YIDA).await;
    let token = open_token(&emu).await;
    let id = save(&emu, json!({ "textField_aaaa0001": "日志" })).await["result"].as_str().expect("id").to_owned();
    for n in 0..120 {
        let patch = json!({ "numberField_aaaa0002": n }).to_string();
        let r = post_form(&emu, "form", "updateFormData", &[("formInstId", id.clone()), ("updateFormDataJson", patch)], Some("bob")).await;
        assert_eq!(r["success"], true, "{r}");
    }
    let query = json!({ "appType": APPT, "systemToken": "SYS-TOKEN-1", "userId": "alice", "formUuid": F1, "formInstanceIdList": [id] });
    let (status, logs) =
        open_call(&emu, reqwest::Method::POST, "/v1.0/yida/forms/operationsLogs/query", &token, &[], Some(query.clone())).await;
    assert_eq!(status, 200, "{logs}");
    let entries = logs["operationLogMap"][&id].as_array().expect("entries");
    assert_eq!(entries.len(), 100, "the log keeps the newest 100 entries");
    assert_eq!(entries[0]["operationType"], "update", "the creation gave way");
    assert_eq!(entries[99]["operator"], "bob");
    assert_eq!(entries[99]["fieldIds"], json!(["numberField_aaaa0002"]));

    // The log is part of the state: exported, imported elsewhere, it reads back the same.
    let exported = state_of(&emu, "").await;
    assert_eq!(put_in(&emu, "/__emu/state", Some("copy"), exported.to_string()).await.status, 200);
    let copy = state_of(&emu, "copy").await;
    assert!(exported["yida"].is_object());
    assert_eq!(copy["yida"], exported["yida"]);
    assert_eq!(exported.to_string().matches(r#""kind":"update""#).count(), 100);
}

/// "Form Data Format Description as Return Value": regions come back as names, and the choice
/// components in the caller's language (`language=en_US`) where the scenario labels the options.
#[tokio::test]
async fn values_read_back_in_the_documented_return_format() {
    let scenario = YIDA.replace(
        r#"{ id = "selectField_aaaa0013", label = "下拉", type = "SelectField" },"#,
        r#"{ id = "selectField_aaaa0013", label = "下拉", type = "SelectField", options = ["选项一", "选项二"], options_en = { "选项一" = "Option 1", "选项二" = "Option 2" } },
  { id = "checkboxField_aaaa0023", label = "多选带英文", type = "CheckboxField", options = ["甲", "乙"], options_en = { "甲" = "A", "乙" = "B" } },"#,
    );
    let emu = start_with(&scenario).await;
    let data = json!({
        "textField_aaaa0001": "区域与语言", "selectField_aaaa0013": "Option 2", "checkboxField_aaaa0023": ["甲", "B"],
        "citySelectField_aaaa0010": ["120000", "120100", "120102"],
        "tableField_aaaa0008": [{ "textField_aaaa0009": "行" }],
    });
    let id = save(&emu, data).await["result"].as_str().expect("id").to_owned();
    let zh = get_q(&emu, "form", "getFormDataById", &[("formInstId", id.clone())], None).await;
    let fd = &zh["result"]["formData"];
    assert_eq!(fd["citySelectField_aaaa0010"], json!(["天津市", "天津市", "河东区"]), "the page's own example");
    assert_eq!(fd["selectField_aaaa0013"], "选项二", "an English label is stored as the option it labels");
    assert_eq!(fd["checkboxField_aaaa0023"], json!(["甲", "乙"]));
    let en = get_q(&emu, "form", "getFormDataById", &[("formInstId", id.clone()), ("language", "en_US".into())], None).await;
    let fd = &en["result"]["formData"];
    assert_eq!(fd["selectField_aaaa0013"], "Option 2");
    assert_eq!(fd["checkboxField_aaaa0023"], json!(["A", "B"]));
    assert_eq!(fd["textField_aaaa0001"], "区域与语言", "other components are not translated");
    // Searches match the stored option, whichever label was written.
    let r = get_q(
        &emu,
        "form",
        "searchFormDataIds",
        &[("formUuid", F1.into()), ("searchFieldJson", json!({ "selectField_aaaa0013": "选项二" }).to_string())],
        None,
    )
    .await;
    assert_eq!(r["result"]["data"], json!([id]));
    // The Open API reads the same way.
    let token = open_token(&emu).await;
    let q = [
        ("appType", APPT.to_owned()),
        ("systemToken", "SYS-TOKEN-1".to_owned()),
        ("userId", "alice".to_owned()),
        ("language", "en_US".to_owned()),
    ];
    let (_, got) = open_call(&emu, reqwest::Method::GET, &format!("/v1.0/yida/forms/instances/{id}"), &token, &q, None).await;
    assert_eq!(got["formData"]["selectField_aaaa0013"], "Option 2");
    assert_eq!(got["formData"]["citySelectField_aaaa0010"], json!(["天津市", "天津市", "河东区"]));
    // A label that is not an option's is refused when the scenario is checked.
    let bad = scenario.replace(r#""甲" = "A", "乙" = "B""#, r#""甲" = "A", "丙" = "C""#);
    let err = lowcode_emu::scenario::Scenario::from_toml_str(&bad, "t").err().map(|e| e.to_string()).unwrap_or_default();
    assert!(err.contains("options_en") && err.contains("丙"), "{err}");
}

#[tokio::test]
async fn generate_fills_a_data_form_deterministically() {
    let with =
        |count: usize| YIDA.replacen("name = \"资产登记\"\n", &format!("name = \"资产登记\"\ngenerate = {{ count = {count} }}\n"), 1);
    let emu = start_with(&with(250)).await;
    let page = |p: u32| {
        let emu = &emu;
        async move {
            get_q(
                emu,
                "form",
                "searchFormDatas",
                &[("formUuid", F1.into()), ("currentPage", p.to_string()), ("pageSize", "100".into())],
                None,
            )
            .await
        }
    };
    let first = page(1).await;
    assert_eq!(first["result"]["totalCount"], 250);
    assert_eq!(page(3).await["result"]["data"].as_array().map(Vec::len), Some(50));
    // Generated values are in the return format, with the same checks as any record.
    let one = first["result"]["data"][0]["formData"].clone();
    assert!(one["textField_aaaa0001"].as_str().is_some_and(|t| !t.is_empty()), "{one}");
    assert!(one["numberField_aaaa0002"].is_number(), "{one}");
    assert!(["新", "旧", "贵重"].contains(&one["checkboxField_aaaa0003"][0].as_str().unwrap_or("")), "{one}");
    // The same scenario generates the same records.
    let again = start_with(&with(250)).await;
    let again_first = get_q(&again, "form", "searchFormDatas", &[("formUuid", F1.into()), ("pageSize", "100".into())], None).await;
    assert_eq!(again_first["result"]["data"][0]["formData"], one);
    // Process forms start processes per record, so they cannot generate; counts are bounded.
    let bad = YIDA.replacen("process_code = ", "generate = { count = 5 }\nprocess_code = ", 1);
    let e = lowcode_emu::Scenario::from_toml_str(&bad, "t").err().map(|e| e.to_string()).unwrap_or_default();
    assert!(e.contains("generate fills data forms"), "{e}");
    let e = lowcode_emu::Scenario::from_toml_str(&with(20_000_000), "t").err().map(|e| e.to_string()).unwrap_or_default();
    assert!(e.contains("at most 10000000"), "{e}");
}

/// Searches print each record once and reuse the bytes; every change to what a record shows — its
/// values, a person's name, a department's name, the caller's language — must show in the next page,
/// in-app and through the Open API alike.
#[tokio::test]
async fn printed_search_pages_show_every_change() {
    let scenario = format!("{YIDA}\n[jiandaoyun]\napi_keys = [\"jdy-key\"]\n");
    let emu = start_with(&scenario).await;
    let id = save(&emu, json!({ "textField_aaaa0001": "旧名", "employeeField_aaaa0005": ["bob"], "departmentSelectField_aaaa0006": 2 }))
        .await["result"]
        .as_str()
        .expect("id")
        .to_owned();
    let token = open_token(&emu).await;
    // (in-app record, Open API record) of the one record, each read twice so the second comes from what was kept.
    let read = || async {
        let mut seen = Vec::new();
        for _ in 0..2 {
            let inapp = get_q(&emu, "form", "searchFormDatas", &[("formUuid", F1.into())], None).await;
            let body = json!({ "appType": APPT, "systemToken": "SYS-TOKEN-1", "userId": "alice", "formUuid": F1 });
            let (_, open) = open_call(&emu, reqwest::Method::POST, "/v1.0/yida/forms/instances/search", &token, &[], Some(body)).await;
            assert_eq!(inapp["result"]["totalCount"], 1);
            seen.push((inapp["result"]["data"][0].clone(), open["data"][0].clone()));
        }
        assert_eq!(seen[0], seen[1], "a kept record reads as a printed one");
        seen.remove(0)
    };
    let (inapp, open) = read().await;
    assert_eq!((inapp["formInstId"].as_str(), open["formInstanceId"].as_str()), (Some(id.as_str()), Some(id.as_str())));
    assert_eq!(inapp["formData"]["departmentSelectField_aaaa0006"], "信息平台部");
    assert_eq!(
        (inapp["title"].as_str(), open["originator"]["userName"]["nameInChinese"].as_str()),
        (Some("爱丽丝发起的资产登记"), Some("爱丽丝"))
    );

    let body = json!({ "formInstId": id, "updateFormDataJson": json!({ "textField_aaaa0001": "新名" }).to_string() });
    client().post(url(&emu, "form", "updateFormData")).json(&body).send().await.expect("sent");
    let (inapp, open) = read().await;
    assert_eq!(
        (inapp["formData"]["textField_aaaa0001"].as_str(), open["formData"]["textField_aaaa0001"].as_str()),
        (Some("新名"), Some("新名"))
    );

    let jdy = |path: &'static str, body: Value| {
        let emu = &emu;
        async move {
            let r = client().post(format!("{}{path}", emu.base_url())).bearer_auth("jdy-key").json(&body).send().await.expect("sent");
            assert_eq!(r.status(), 200, "{path}: {}", r.text().await.unwrap_or_default());
        }
    };
    jdy("/api/v5/corp/user/update", json!({ "username": "alice", "name": "艾莉" })).await;
    let (inapp, open) = read().await;
    assert_eq!(inapp["originator"]["name"]["zh_CN"], "艾莉");
    assert_eq!(
        (inapp["title"].as_str(), open["originator"]["userName"]["nameInChinese"].as_str()),
        (Some("艾莉发起的资产登记"), Some("艾莉"))
    );

    jdy("/api/v5/corp/department/update", json!({ "dept_no": 2, "name": "数据平台部" })).await;
    let (inapp, open) = read().await;
    assert_eq!(inapp["formData"]["departmentSelectField_aaaa0006"], "数据平台部");
    assert_eq!(open["formData"]["departmentSelectField_aaaa0006"], "数据平台部");
}
