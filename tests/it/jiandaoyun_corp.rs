//! Contacts (corp): members, departments, roles, role groups, guests.

use crate::common;

use common::*;
use serde_json::{json, Value};

fn fixture() -> String {
    FIXTURE.replace(
        "default_user = \"xiaojian\"\n",
        "default_user = \"xiaojian\"\n\n[[jiandaoyun.role_groups]]\ngroup_no = 2547\nname = \"默认\"\nroles = [{ role_no = 3, name = \"设计中心\", members = [\"dao\"] }]\n\n[[jiandaoyun.guests]]\ndept_no = 900\nname = \"合作伙伴\"\nmembers = [{ username = \"partner\", name = \"对接人\" }]\n",
    )
}

async fn call(emu: &lowcode_emu::Emulator, route: &str, body: Value) -> Reply {
    post(emu, &format!("/api/v5/corp/{route}"), body).await
}

#[tokio::test]
async fn members_create_update_delete_and_import() {
    let emu = start_with(&fixture()).await;
    let got = call(&emu, "user/get", json!({ "username": "dao" })).await;
    assert_eq!(got.body, json!({ "user": { "username": "dao", "name": "小道", "departments": [3], "type": 0, "status": 1 } }));
    let created = call(&emu, "user/create", json!({ "username": "new_member", "name": "新人", "departments": [2] })).await;
    assert_eq!(created.body["user"]["departments"], json!([2]));
    // A member created here can be written into member fields right away.
    let rec = post(
        &emu,
        "/api/v5/app/entry/data/create",
        json!({ "app_id": APP, "entry_id": ALL, "data": { "_widget_1600000000015": { "value": "new_member" } } }),
    )
    .await;
    assert_eq!(rec.body["data"]["_widget_1600000000015"]["name"], "新人");
    assert_jdy_error(&call(&emu, "user/create", json!({ "username": "new_member", "name": "again" })).await, 1065);
    assert_jdy_error(&call(&emu, "user/create", json!({ "username": "bad name!", "name": "x" })).await, 1017);
    assert_jdy_error(&call(&emu, "user/create", json!({ "username": "x".repeat(51), "name": "x" })).await, 1092);
    assert_jdy_error(&call(&emu, "user/create", json!({ "username": "ok" })).await, 1085);
    assert_jdy_error(&call(&emu, "user/create", json!({ "name": "x", "departments": [99] })).await, 6002);
    let generated = call(&emu, "user/create", json!({ "name": "自动编号" })).await;
    assert!(generated.body["user"]["username"].as_str().is_some_and(|u| u.starts_with("jdy-")));

    let create_as = |who: &'static str| {
        let body = json!({ "app_id": APP, "entry_id": ALL, "data_creator": who, "data": {} });
        post(&emu, "/api/v5/app/entry/data/create", body)
    };
    assert_eq!(create_as("new_member").await.body["data"]["creator"]["name"], "新人");
    let updated = call(&emu, "user/update", json!({ "username": "new_member", "name": "改名", "departments": [1, 3] })).await;
    assert_eq!((updated.body["user"]["name"].clone(), updated.body["user"]["departments"].clone()), (json!("改名"), json!([1, 3])));
    // Records created after the change carry the member as they are now.
    let after = create_as("new_member").await.body;
    assert_eq!((after["data"]["creator"]["name"].clone(), after["data"]["updater"]["departments"].clone()), (json!("改名"), json!([1, 3])));
    assert_jdy_error(&call(&emu, "user/update", json!({ "username": "ghost", "name": "x" })).await, 1010);
    assert_eq!(call(&emu, "user/delete", json!({ "username": "new_member" })).await.body, json!({ "status": "success" }));
    assert_jdy_error(&call(&emu, "user/get", json!({ "username": "new_member" })).await, 1010);
    let state = get(&emu, "/__emu/state").await.body;
    let left = state["directory"]["users"].as_array().and_then(|u| u.iter().find(|u| u["id"] == "new_member").cloned());
    assert_eq!(left.map(|u| u["status"].clone()), Some(json!(-1)), "deleted members are kept as left");

    let imported = call(&emu, "user/import", json!({ "users": [{ "username": "imp1", "name": "导入一", "departments": [2, 999] }, { "username": "dao", "name": "小道改", "departments": [2] }] })).await;
    assert_eq!(imported.body, json!({ "status": "success" }));
    assert_eq!(call(&emu, "user/get", json!({ "username": "imp1" })).await.body["user"]["departments"], json!([2]));
    assert_eq!(call(&emu, "user/get", json!({ "username": "dao" })).await.body["user"]["name"], "小道改");
    assert_eq!(call(&emu, "user/batch_delete", json!({ "usernames": ["imp1", "dao"] })).await.body, json!({ "status": "success" }));
    assert_jdy_error(&call(&emu, "user/batch_delete", json!({ "usernames": ["ghost"] })).await, 1010);
}

#[tokio::test]
async fn departments_tree_and_recursive_listing() {
    let emu = start_with(&fixture()).await;
    let top = call(&emu, "department/list", json!({ "dept_no": 1 })).await;
    assert_eq!(top.body, json!({ "departments": [{ "dept_no": 2, "name": "研发部", "parent_no": 1, "type": 0, "status": 1 }] }));
    let all = call(&emu, "department/list", json!({ "dept_no": 1, "has_child": true })).await;
    assert_eq!(all.body["departments"].as_array().map(Vec::len), Some(2));
    let direct = call(&emu, "department/user/list", json!({ "dept_no": 2 })).await;
    assert_eq!(
        direct.body["users"].as_array().map(|u| u.iter().map(|x| x["username"].clone()).collect::<Vec<_>>()),
        Some(vec![json!("xiaojian")])
    );
    let deep = call(&emu, "department/user/list", json!({ "dept_no": 2, "has_child": true })).await;
    assert_eq!(deep.body["users"].as_array().map(Vec::len), Some(2));

    let created = call(&emu, "department/create", json!({ "name": "市场部", "parent_no": 1, "dept_no": 10 })).await;
    assert_eq!(created.body, json!({ "department": { "dept_no": 10, "name": "市场部", "parent_no": 1, "type": 0, "status": 1 } }));
    assert_jdy_error(&call(&emu, "department/create", json!({ "name": "市场部", "parent_no": 1 })).await, 6000);
    assert_jdy_error(&call(&emu, "department/create", json!({ "name": "x", "parent_no": 99 })).await, 6001);
    assert_jdy_error(&call(&emu, "department/create", json!({ "name": "y", "dept_no": 10 })).await, 6013);
    assert_jdy_error(&call(&emu, "department/update", json!({ "dept_no": 2, "parent_no": 3 })).await, 6011);
    let moved = call(&emu, "department/update", json!({ "dept_no": 10, "parent_no": 2, "name": "市场组" })).await;
    assert_eq!(moved.body["department"]["parent_no"], 2);
    assert_jdy_error(&call(&emu, "department/delete", json!({ "dept_no": 1 })).await, 6015);
    assert_jdy_error(&call(&emu, "department/delete", json!({ "dept_no": 2 })).await, 6003);
    assert_jdy_error(&call(&emu, "department/delete", json!({ "dept_no": 3 })).await, 6006);
    assert_eq!(call(&emu, "department/delete", json!({ "dept_no": 10 })).await.body, json!({ "status": "success" }));
    assert_jdy_error(&call(&emu, "department/list", json!({ "dept_no": 10 })).await, 6002);
    assert_jdy_error(&call(&emu, "department/dept_no/get", json!({ "integrate_id": "none" })).await, 6002);
}

#[tokio::test]
async fn department_import_overwrites_the_tree() {
    let emu = start_with(&fixture()).await;
    let r = call(&emu, "department/import", json!({ "departments": [{ "dept_no": 11, "name": "研发中心", "parent_no": 1 }, { "dept_no": 12, "name": "测试中心", "parent_no": 11 }] })).await;
    assert_eq!(r.body, json!({ "status": "success" }));
    let all = call(&emu, "department/list", json!({ "dept_no": 1, "has_child": true })).await;
    let mut nos: Vec<i64> =
        all.body["departments"].as_array().map(|a| a.iter().filter_map(|d| d["dept_no"].as_i64()).collect()).unwrap_or_default();
    nos.sort_unstable();
    assert_eq!(nos, vec![11, 12], "departments missing from the import are gone");
    // Their members moved to the root.
    assert_eq!(call(&emu, "user/get", json!({ "username": "dao" })).await.body["user"]["departments"], json!([1]));
    assert_jdy_error(
        &call(&emu, "department/import", json!({ "departments": [{ "dept_no": 5, "name": "孤儿", "parent_no": 77 }] })).await,
        6001,
    );
    assert_jdy_error(
        &call(&emu, "department/import", json!({ "departments": [{ "dept_no": 5, "name": "a" }, { "dept_no": 5, "name": "b" }] })).await,
        6013,
    );
    let deep: Vec<Value> = (2..20).map(|i| json!({ "dept_no": i, "name": format!("层{i}"), "parent_no": i - 1 })).collect();
    assert_jdy_error(&call(&emu, "department/import", json!({ "departments": deep })).await, 6017);
}

#[tokio::test]
async fn roles_and_role_groups() {
    let emu = start_with(&fixture()).await;
    assert_eq!(call(&emu, "role/list", json!({})).await.body["roles"].as_array().map(Vec::len), Some(1), "limit defaults to 1");
    let created = call(&emu, "role/create", json!({ "name": "研发中心", "group_no": 2547 })).await;
    let role_no = created.body["role"]["role_no"].clone();
    assert_eq!(created.body["role"], json!({ "role_no": role_no, "group_no": 2547, "name": "研发中心", "type": 0, "status": 1 }));
    assert_eq!(call(&emu, "role/list", json!({ "limit": 10 })).await.body["roles"].as_array().map(Vec::len), Some(2));
    assert_jdy_error(&call(&emu, "role/create", json!({ "name": "x" })).await, 1205);
    assert_jdy_error(&call(&emu, "role/create", json!({ "name": "x", "group_no": 1 })).await, 1206);
    assert_jdy_error(&call(&emu, "role/create", json!({ "name": "名".repeat(25), "group_no": 2547 })).await, 1207);
    assert_eq!(
        call(&emu, "role/add_members", json!({ "role_no": role_no, "usernames": ["xiaojian", "dao"] })).await.body,
        json!({ "status": "success" })
    );
    assert_eq!(call(&emu, "role/user/list", json!({ "role_no": role_no })).await.body["users"].as_array().map(Vec::len), Some(2));
    call(&emu, "role/remove_members", json!({ "role_no": role_no, "usernames": ["dao"] })).await;
    assert_eq!(call(&emu, "role/user/list", json!({ "role_no": role_no })).await.body["users"][0]["username"], "xiaojian");
    assert_jdy_error(&call(&emu, "role/add_members", json!({ "role_no": role_no, "usernames": ["ghost"] })).await, 1010);
    let renamed = call(&emu, "role/update", json!({ "role_no": role_no, "group_no": 2547, "name": "研发部门" })).await;
    assert_eq!(renamed.body["role"]["name"], "研发部门");
    // Role deletion answers 200 with an empty body.
    let deleted = post(&emu, "/api/v5/corp/role/delete", json!({ "role_no": role_no })).await;
    assert_eq!((deleted.status, deleted.body), (200, Value::Null));
    assert_jdy_error(&call(&emu, "role/delete", json!({ "role_no": role_no })).await, 1201);

    let g = call(&emu, "role_group/create", json!({ "name": "销售" })).await;
    let gno = g.body["role_group"]["group_no"].clone();
    assert_eq!(
        call(&emu, "role_group/update", json!({ "role_group_no": gno, "name": "销售组" })).await.body["role_group"]["name"],
        "销售组"
    );
    assert_eq!(call(&emu, "role_group/list", json!({})).await.body["role_groups"].as_array().map(Vec::len), Some(2));
    assert_jdy_error(&call(&emu, "role_group/delete", json!({ "role_group_no": 2547 })).await, 1208);
    assert_eq!(call(&emu, "role_group/delete", json!({ "role_group_no": gno })).await.body, json!({ "status": "success" }));
}

#[tokio::test]
async fn guests_of_connected_companies() {
    let emu = start_with(&fixture()).await;
    assert_eq!(
        call(&emu, "guest/department/list", json!({})).await.body,
        json!({ "dept_list": [{ "name": "合作伙伴", "dept_no": 900, "type": 2, "status": 1 }] })
    );
    let members = call(&emu, "guest/user/list", json!({ "dept_no": 900 })).await;
    assert_eq!(
        members.body["member_list"][0],
        json!({ "username": "partner", "name": "对接人", "departments": [900], "type": 2, "status": 1 })
    );
    assert_eq!(call(&emu, "guest/user/get", json!({ "username": "partner" })).await.body["member"]["type"], 2);
    assert_jdy_error(&call(&emu, "guest/user/get", json!({ "username": "nobody" })).await, 1010);
}

#[tokio::test]
async fn v6_departments_keep_their_order_and_managers() {
    let emu = start_with(&fixture()).await;
    let v6 = |route: &'static str, body: Value| {
        let emu = &emu;
        async move { post(emu, &format!("/api/v6/corp/department/{route}"), body).await }
    };
    // Two more under the root, the second placed first by its `seq`.
    let a = v6("create", json!({ "name": "市场部", "dept_no": 20, "seq": 5 })).await;
    assert_eq!(a.body["department"]["seq"], 5, "{}", a.body);
    v6("create", json!({ "name": "法务部", "dept_no": 21, "seq": -1 })).await;
    let top = v6("list", json!({ "dept_no": 1 })).await;
    snap!("jiandaoyun_v6_department_list", &top.body);
    let order: Vec<i64> = top.body["departments"].as_array().expect("list").iter().filter_map(|d| d["dept_no"].as_i64()).collect();
    assert_eq!(order, [21, 2, 20], "by seq (研发部 has 0), then number");
    // Moving one by `seq` reorders the list; v5 answers without `seq`.
    v6("update", json!({ "dept_no": 20, "seq": -5 })).await;
    let moved: Vec<i64> = v6("list", json!({ "dept_no": 1 })).await.body["departments"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|d| d["dept_no"].as_i64())
        .collect();
    assert_eq!(moved, [20, 21, 2]);
    let v5 = call(&emu, "department/list", json!({ "dept_no": 1 })).await;
    assert!(v5.body["departments"][0].get("seq").is_none());
    // With has_child each department's sub-departments follow it.
    let deep: Vec<i64> = v6("list", json!({ "dept_no": 1, "has_child": true })).await.body["departments"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|d| d["dept_no"].as_i64())
        .collect();
    assert_eq!(deep, [20, 21, 2, 3]);
    assert_jdy_error(&v6("update", json!({ "dept_no": 20 })).await, 1);

    // Managers: set, read back as members, cleared with [].
    let set = v6("manager/update", json!({ "dept_no": 2, "managers": ["xiaojian", "dao"] })).await;
    assert_eq!(set.status, 200, "{}", set.body);
    let got = v6("manager/get", json!({ "dept_no": 2 })).await;
    let names: Vec<&str> = got.body["dept_managers"].as_array().expect("managers").iter().filter_map(|m| m["username"].as_str()).collect();
    assert_eq!(names, ["xiaojian", "dao"]);
    assert_jdy_error(&v6("manager/update", json!({ "dept_no": 2, "managers": ["ghost"] })).await, 1010);
    assert_jdy_error(&v6("manager/update", json!({ "dept_no": 99, "managers": [] })).await, 6002);
    assert_eq!(v6("manager/update", json!({ "dept_no": 2, "managers": [] })).await.body, json!({ "dept_managers": [] }));
    // The order and the managers are part of the state.
    v6("manager/update", json!({ "dept_no": 2, "managers": ["dao"] })).await;
    let state = get(&emu, "/__emu/state").await.body;
    let dept2 = state["directory"]["departments"].as_array().and_then(|d| d.iter().find(|x| x["id"] == 2).cloned()).expect("dept 2");
    assert_eq!(dept2["managers"], json!(["dao"]));
}

#[tokio::test]
async fn legacy_contact_routes_carry_ids_in_the_path() {
    let emu = start_with(&fixture()).await;
    let v2 = |path: String, body: Value| {
        let emu = &emu;
        async move { post(emu, &format!("/api/v2/{path}"), body).await }
    };
    let top = v2("department/1/department_list".into(), json!({})).await;
    assert_eq!(top.body, call(&emu, "department/list", json!({ "dept_no": 1 })).await.body, "the v5 answer");
    let made = v2("department/create".into(), json!({ "name": "客服部", "dept_no": 30 })).await;
    assert_eq!(made.body["department"]["dept_no"], 30, "{}", made.body);
    let renamed = v2("department/30/update".into(), json!({ "name": "客户成功部" })).await;
    assert_eq!(renamed.body["department"]["name"], "客户成功部");
    let members = v2("department/2/member_list".into(), json!({ "has_child": true })).await;
    assert_eq!(members.body["users"].as_array().map(Vec::len), Some(2));
    assert_jdy_error(&v2("department/99/department_list".into(), json!({})).await, 6002);
    assert_eq!(v2("department/30/delete".into(), json!({})).await.body, json!({ "status": "success" }));

    let user = v2("user/dao/user_retrieve".into(), json!({})).await;
    snap!("jiandaoyun_v2_user_retrieve", &user.body);
    assert_eq!(user.body["user"]["username"], "dao");
    let created = v2("user/create".into(), json!({ "username": "old_client", "name": "老接口", "departments": [2] })).await;
    assert_eq!(created.body["user"]["username"], "old_client", "{}", created.body);
    let updated = v2("user/old_client/update".into(), json!({ "name": "老接口改" })).await;
    assert_eq!(updated.body["user"]["name"], "老接口改");
    assert_eq!(v2("user/old_client/delete".into(), json!({})).await.body, json!({ "status": "success" }));
    assert_jdy_error(&v2("user/old_client/user_retrieve".into(), json!({})).await, 1010);
    assert_eq!(
        v2("user/import".into(), json!({ "users": [{ "username": "imp", "name": "导入" }] })).await.body,
        json!({ "status": "success" })
    );
    assert_eq!(v2("user/batch_delete".into(), json!({ "usernames": ["imp"] })).await.body, json!({ "status": "success" }));
    assert_eq!(v2("role/list".into(), json!({ "limit": 10 })).await.body["roles"][0]["name"], "设计中心");

    let guests = post(&emu, "/api/v4/corp_coop/guest/department_list", json!({})).await;
    assert_eq!(guests.body, call(&emu, "guest/department/list", json!({})).await.body);
    let partner = post(&emu, "/api/v4/corp_coop/guest/user_retrieve", json!({ "username": "partner" })).await;
    assert_eq!(partner.body, call(&emu, "guest/user/get", json!({ "username": "partner" })).await.body);
    let journal = get(&emu, "/__emu/requests?route=jiandaoyun.v2.user.get").await.body;
    assert_eq!(journal.as_array().map(Vec::len), Some(2), "legacy routes have their own route ids");
}
