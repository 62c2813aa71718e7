//! Jiandaoyun workflow routes on the shared engine.

use crate::common;

use common::*;
use serde_json::{json, Value};

const WF: &str = r#"
name = "jdy-workflow"
[emulator]
seed = 5
clock = "2026-05-01T01:00:00Z"

[[users]]
id = "zhang"
name = "张三"
[[users]]
id = "li"
name = "李四"
[[users]]
id = "wang"
name = "王五"
[[users]]
id = "zhao"
name = "赵六"

[[flows]]
id = "review"
nodes = [
  { id = "start", type = "start", name = "发起" },
  { id = "first", type = "approve", name = "一审", assignees = ["li"], cc = ["zhao"] },
  { id = "second", type = "approve", name = "二审", assignees = ["wang"] },
  { id = "end", type = "end", name = "结束" },
]
edges = [["start", "first"], ["first", "second"], ["second", "end"]]

[[flows]]
id = "split"
nodes = [
  { id = "start", type = "start", name = "发起" },
  { id = "fork", type = "parallel" },
  { id = "legal", type = "handle", name = "法务", assignees = ["li"] },
  { id = "money", type = "handle", name = "财务", assignees = ["wang"] },
  { id = "join", type = "join" },
  { id = "end", type = "end", name = "结束" },
]
edges = [["start", "fork"], ["fork", "legal"], ["fork", "money"], ["legal", "join"], ["money", "join"], ["join", "end"]]

[jiandaoyun]
api_keys = ["test-key"]
default_user = "zhang"

[[jiandaoyun.apps]]
app_id = "aaaaaaaaaaaaaaaaaaaa0001"
name = "审批"

[[jiandaoyun.apps.entries]]
entry_id = "bbbbbbbbbbbbbbbbbbbb0001"
name = "报销单"
flow = "review"
widgets = [{ name = "_widget_1600000000001", label = "事由", type = "text" }]

[[jiandaoyun.apps.entries]]
entry_id = "bbbbbbbbbbbbbbbbbbbb0002"
name = "合同审批"
flow = "split"
widgets = [{ name = "_widget_1600000000001", label = "合同", type = "text" }]

[[jiandaoyun.apps.entries]]
entry_id = "bbbbbbbbbbbbbbbbbbbb0003"
name = "普通表单"
widgets = [{ name = "_widget_1600000000001", label = "x", type = "text" }]
"#;

const REVIEW: &str = "bbbbbbbbbbbbbbbbbbbb0001";
const SPLIT: &str = "bbbbbbbbbbbbbbbbbbbb0002";

async fn start_flow(emu: &lowcode_emu::Emulator, entry: &str) -> String {
    let r = post(
        emu,
        "/api/v5/app/entry/data/create",
        json!({ "app_id": APP, "entry_id": entry, "is_start_workflow": true, "data": { "_widget_1600000000001": { "value": "差旅" } } }),
    )
    .await;
    assert_eq!(r.body["data"]["flowState"], 0, "{}", r.body);
    r.body["data"]["_id"].as_str().expect("id").to_owned()
}

async fn tasks_of(emu: &lowcode_emu::Emulator, user: &str) -> Vec<Value> {
    let r = post(emu, "/api/v5/workflow/task/list", json!({ "username": user, "limit": 100 })).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["tasks"].as_array().cloned().unwrap_or_default()
}

async fn act(emu: &lowcode_emu::Emulator, path: &str, body: Value) -> Reply {
    post(emu, path, body).await
}

fn ok() -> Value {
    json!({ "status": "success" })
}

async fn flow_state(emu: &lowcode_emu::Emulator, entry: &str, id: &str) -> Value {
    post(emu, "/api/v5/app/entry/data/get", json!({ "app_id": APP, "entry_id": entry, "data_id": id })).await.body["data"]["flowState"]
        .clone()
}

#[tokio::test]
async fn a_full_multi_step_approval() {
    let emu = start_with(WF).await;
    let id = start_flow(&emu, REVIEW).await;
    let li = tasks_of(&emu, "li").await;
    assert_eq!(li.len(), 1);
    snap!("jdy_workflow_task_list", json!({ "has_more": false, "tasks": li }));
    assert_eq!((li[0]["flow_id"].clone(), li[0]["flow_name"].clone(), li[0]["status"].clone()), (json!(1), json!("一审"), json!(0)));
    let t1 = li[0]["task_id"].as_str().expect("task").to_owned();

    // Only the assignee may act on a task.
    let wrong = act(&emu, "/api/v1/workflow/task/approve", json!({ "username": "wang", "instance_id": id, "task_id": t1 })).await;
    assert_eq!((wrong.status, wrong.body), (400, json!({ "status": "failure", "code": 4009, "message": "操作失败，无权限" })));
    let r =
        act(&emu, "/api/v1/workflow/task/approve", json!({ "username": "li", "instance_id": id, "task_id": t1, "comment": "同意" })).await;
    assert_eq!(r.body, ok());
    assert!(tasks_of(&emu, "li").await.is_empty());

    // Transfer the second review to 赵六 …
    let t2 = tasks_of(&emu, "wang").await[0]["task_id"].as_str().expect("task").to_owned();
    let self_transfer = act(
        &emu,
        "/api/v1/workflow/task/transfer",
        json!({ "username": "wang", "instance_id": id, "task_id": t2, "transfer_username": "wang" }),
    )
    .await;
    assert_eq!(self_transfer.body["code"], 4016);
    let r = act(
        &emu,
        "/api/v1/workflow/task/transfer",
        json!({ "username": "wang", "instance_id": id, "task_id": t2, "transfer_username": "zhao", "comment": "请代审" }),
    )
    .await;
    assert_eq!(r.body, ok());
    let zhao = tasks_of(&emu, "zhao").await;
    assert_eq!(zhao[0]["create_action"], "transfer");

    // … who sends it back to the first review.
    let t3 = zhao[0]["task_id"].as_str().expect("task").to_owned();
    let r = act(
        &emu,
        "/api/v2/workflow/task/rollback",
        json!({ "username": "zhao", "instance_id": id, "task_id": t3, "comment": "金额不对", "back_type": 1 }),
    )
    .await;
    assert_eq!(r.body, ok());
    let back = tasks_of(&emu, "li").await;
    assert_eq!((back[0]["flow_name"].clone(), back[0]["create_action"].clone()), (json!("一审"), json!("back")));

    // Approve twice more: finished.
    act(&emu, "/api/v1/workflow/task/approve", json!({ "username": "li", "instance_id": id, "task_id": back[0]["task_id"] })).await;
    let last = tasks_of(&emu, "wang").await;
    assert_eq!(
        act(
            &emu,
            "/api/v1/workflow/task/approve",
            json!({ "username": "wang", "instance_id": id, "task_id": last[0]["task_id"], "comment": "通过" })
        )
        .await
        .body,
        ok()
    );
    assert_eq!(flow_state(&emu, REVIEW, &id).await, 1);

    let v6 = post(&emu, "/api/v6/workflow/instance/get", json!({ "instance_id": id, "tasks_type": 1 })).await;
    assert_eq!((v6.body["status"].clone(), v6.body["result"].clone()), (json!(1), json!(1)));
    snap!("jdy_workflow_instance_get_v6", v6.body);
    let v5 = post(&emu, "/api/v5/workflow/instance/get", json!({ "instance_id": id })).await;
    assert!(v5.body.get("result").is_none() && v5.body.get("tasks").is_none(), "v5 has no result; tasks_type 0 lists no tasks");

    let again =
        act(&emu, "/api/v1/workflow/task/approve", json!({ "username": "wang", "instance_id": id, "task_id": last[0]["task_id"] })).await;
    assert_eq!(again.body["status"], "failure");

    let comments = post(&emu, &format!("/api/v1/app/{APP}/entry/{REVIEW}/data/{id}/approval_comments"), json!({})).await;
    let actions: Vec<&str> = comments.body["approveCommentList"]
        .as_array()
        .map(|a| a.iter().filter_map(|c| c["flowAction"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(actions, ["forward", "transfer", "back", "forward", "forward"]);
    assert_eq!(comments.body["approveCommentList"][0]["comment"], "同意");
    let logs = post(&emu, "/api/v1/workflow/instance/logs", json!({ "instance_id": id, "types": ["comment"] })).await;
    let commented: Vec<&str> =
        logs.body["logs"].as_array().map(|a| a.iter().filter_map(|l| l["comment"].as_str()).collect()).unwrap_or_default();
    assert_eq!(commented, ["同意", "请代审", "金额不对", "通过"]);
}

#[tokio::test]
async fn parallel_branches_both_must_finish() {
    let emu = start_with(WF).await;
    let id = start_flow(&emu, SPLIT).await;
    let (li, wang) = (tasks_of(&emu, "li").await, tasks_of(&emu, "wang").await);
    assert_eq!((li.len(), wang.len()), (1, 1));
    assert_eq!((li[0]["flow_name"].clone(), wang[0]["flow_name"].clone()), (json!("法务"), json!("财务")));
    act(&emu, "/api/v1/workflow/task/approve", json!({ "username": "li", "instance_id": id, "task_id": li[0]["task_id"] })).await;
    assert_eq!(flow_state(&emu, SPLIT, &id).await, 0, "waiting for the other branch");
    act(&emu, "/api/v1/workflow/task/approve", json!({ "username": "wang", "instance_id": id, "task_id": wang[0]["task_id"] })).await;
    assert_eq!(flow_state(&emu, SPLIT, &id).await, 1);
}

#[tokio::test]
async fn reject_close_activate_and_revoke() {
    let emu = start_with(WF).await;
    let id = start_flow(&emu, REVIEW).await;
    let t = tasks_of(&emu, "li").await[0]["task_id"].clone();
    assert_eq!(
        act(&emu, "/api/v1/workflow/task/reject", json!({ "username": "li", "instance_id": id, "task_id": t, "comment": "否决" }))
            .await
            .body,
        ok()
    );
    let got = post(&emu, "/api/v6/workflow/instance/get", json!({ "instance_id": id })).await;
    assert_eq!((got.body["status"].clone(), got.body["result"].clone()), (json!(1), json!(0)));
    let closed = act(&emu, "/api/v1/workflow/instance/close", json!({ "instance_id": id })).await;
    assert_eq!(closed.body, json!({ "status": "failure", "code": 4008, "message": "操作失败，流程已经关闭" }));
    // Activate the second review, then close it by hand: flowState 2.
    assert_eq!(act(&emu, "/api/v1/workflow/instance/activate", json!({ "instance_id": id, "flow_id": 2 })).await.body, ok());
    assert_eq!(tasks_of(&emu, "wang").await.len(), 1);
    assert_eq!(act(&emu, "/api/v1/workflow/instance/activate", json!({ "instance_id": id, "flow_id": 2 })).await.body["code"], 4026);
    assert_eq!(act(&emu, "/api/v1/workflow/instance/close", json!({ "instance_id": id })).await.body, ok());
    assert_eq!(flow_state(&emu, REVIEW, &id).await, 2);
    assert_eq!(post(&emu, "/api/v5/workflow/instance/get", json!({ "instance_id": id })).await.body["status"], 2);

    // Revoke: only the initiator pulls it back to the start node (flow_id 0).
    let id2 = start_flow(&emu, REVIEW).await;
    assert_eq!(act(&emu, "/api/v1/workflow/task/revoke", json!({ "username": "li", "instance_id": id2 })).await.body["code"], 4005);
    assert_eq!(
        act(&emu, "/api/v2/workflow/task/revoke", json!({ "username": "zhang", "instance_id": id2, "comment": "撤回" })).await.body,
        ok()
    );
    let mine = tasks_of(&emu, "zhang").await;
    assert_eq!((mine[0]["flow_id"].clone(), mine[0]["create_action"].clone()), (json!(0), json!("revoke")));
    // Re-submitting from the start node moves it on again.
    act(&emu, "/api/v1/workflow/task/approve", json!({ "username": "zhang", "instance_id": id2, "task_id": mine[0]["task_id"] })).await;
    let li = tasks_of(&emu, "li").await;
    assert_eq!(li.len(), 1);
    // 李四 approves, then takes it back before 王五 acts.
    act(&emu, "/api/v1/workflow/task/approve", json!({ "username": "li", "instance_id": id2, "task_id": li[0]["task_id"] })).await;
    let r = act(&emu, "/api/v1/workflow/task/revoke", json!({ "username": "li", "instance_id": id2, "task_id": li[0]["task_id"] })).await;
    assert_eq!(r.body, ok());
    assert!(tasks_of(&emu, "wang").await.is_empty());
    assert_eq!(tasks_of(&emu, "li").await.len(), 1);
}

#[tokio::test]
async fn workflow_errors() {
    let emu = start_with(WF).await;
    let id = start_flow(&emu, REVIEW).await;
    let t = tasks_of(&emu, "li").await[0]["task_id"].clone();
    let cases = [
        (json!({ "username": "li", "instance_id": "ffffffffffffffffffffffff", "task_id": t }), 50016),
        (json!({ "username": "li", "instance_id": id, "task_id": "ffffffffffffffffffffffff" }), 50004),
    ];
    for (body, code) in cases {
        let r = act(&emu, "/api/v1/workflow/task/approve", body).await;
        assert_eq!(r.body["code"], code);
    }
    assert_workflow_failure(
        &act(&emu, "/api/v1/workflow/task/approve", json!({ "username": "ghost", "instance_id": id, "task_id": t })).await,
        1010,
    );
    assert_workflow_failure(&act(&emu, "/api/v1/workflow/task/approve", json!({ "instance_id": id, "task_id": t })).await, 1);
    assert_workflow_failure(
        &act(
            &emu,
            "/api/v1/workflow/task/transfer",
            json!({ "username": "li", "instance_id": id, "task_id": t, "transfer_username": "ghost" }),
        )
        .await,
        1010,
    );
    assert_jdy_error(&act(&emu, "/api/v1/workflow/instance/logs", json!({ "instance_id": id, "types": ["other"] })).await, 3005);
    assert_eq!(
        act(&emu, "/api/v1/workflow/instance/activate", json!({ "instance_id": id, "flow_id": 99 })).await.body["status"],
        "failure"
    );
    let rb = act(&emu, "/api/v1/workflow/task/rollback", json!({ "username": "li", "instance_id": id, "task_id": t, "flow_id": 1 })).await;
    assert_eq!(rb.body["code"], 50041, "cannot roll back to the current node");
    assert_workflow_failure(
        &act(&emu, "/api/v2/workflow/task/rollback", json!({ "username": "li", "instance_id": id, "task_id": t, "back_type": 3 })).await,
        3005,
    );
    // Non-workflow forms and records without a flow.
    let plain = post(
        &emu,
        "/api/v5/app/entry/data/create",
        json!({ "app_id": APP, "entry_id": "bbbbbbbbbbbbbbbbbbbb0003", "is_start_workflow": true, "data": {} }),
    )
    .await;
    let pid = plain.body["data"]["_id"].clone();
    assert_eq!(post(&emu, "/api/v5/workflow/instance/get", json!({ "instance_id": pid })).await.body["code"], 50016);
    let not_started = post(&emu, "/api/v5/app/entry/data/create", json!({ "app_id": APP, "entry_id": REVIEW, "data": {} })).await;
    assert_eq!(not_started.body["data"]["flowState"], 1);
    assert_eq!(
        post(&emu, "/api/v5/workflow/instance/get", json!({ "instance_id": not_started.body["data"]["_id"] })).await.body["code"],
        50016
    );
}

#[tokio::test]
async fn task_list_pages_by_skip_in_v5_and_by_cursor_in_v6() {
    let emu = start_with(WF).await;
    for _ in 0..5 {
        start_flow(&emu, REVIEW).await;
    }
    let page = post(&emu, "/api/v5/workflow/task/list", json!({ "username": "li", "limit": 2 })).await;
    assert_eq!((page.body["has_more"].clone(), page.body["tasks"].as_array().map(Vec::len)), (json!(true), Some(2)));
    let tail = post(&emu, "/api/v5/workflow/task/list", json!({ "username": "li", "limit": 2, "skip": 4 })).await;
    assert_eq!((tail.body["has_more"].clone(), tail.body["tasks"].as_array().map(Vec::len)), (json!(false), Some(1)));
    let first = post(&emu, "/api/v6/workflow/task/list", json!({ "username": "li", "limit": 3 })).await;
    let cursor = first.body["tasks"][2]["task_id"].clone();
    let rest = post(&emu, "/api/v6/workflow/task/list", json!({ "username": "li", "limit": 3, "task_id": cursor })).await;
    assert_eq!((rest.body["has_more"].clone(), rest.body["tasks"].as_array().map(Vec::len)), (json!(false), Some(2)));
    assert_jdy_error(&post(&emu, "/api/v5/workflow/task/list", json!({ "username": "li", "limit": 101 })).await, 3005);
    assert_eq!(
        post(&emu, "/api/v5/workflow/task/list", json!({ "username": "zhao" })).await.body,
        json!({ "has_more": false, "tasks": [] })
    );
}

#[tokio::test]
async fn deleting_the_record_removes_its_instance() {
    let emu = start_with(WF).await;
    let id = start_flow(&emu, REVIEW).await;
    post(&emu, "/api/v5/app/entry/data/delete", json!({ "app_id": APP, "entry_id": REVIEW, "data_id": id })).await;
    assert!(tasks_of(&emu, "li").await.is_empty());
}

#[tokio::test]
async fn add_sign_before_after_and_alongside() {
    let emu = start_with(WF).await;
    // Before: 王五 acts first, then the task returns to 李四.
    let id = start_flow(&emu, REVIEW).await;
    let t = tasks_of(&emu, "li").await[0]["task_id"].clone();
    let r = act(
        &emu,
        "/api/v1/workflow/task/add_sign",
        json!({ "username": "li", "instance_id": id, "task_id": t, "add_sign_type": 0, "add_sign_username": "zhao", "comment": "请先看" }),
    )
    .await;
    assert_eq!(r.body, ok());
    assert!(tasks_of(&emu, "li").await.is_empty());
    let z = tasks_of(&emu, "zhao").await;
    assert_eq!(z[0]["create_action"], "sign_before");
    act(&emu, "/api/v1/workflow/task/approve", json!({ "username": "zhao", "instance_id": id, "task_id": z[0]["task_id"] })).await;
    let back = tasks_of(&emu, "li").await;
    assert_eq!((back.len(), back[0]["flow_name"].clone()), (1, json!("一审")), "back to the original approver");
    act(&emu, "/api/v1/workflow/task/approve", json!({ "username": "li", "instance_id": id, "task_id": back[0]["task_id"] })).await;
    assert_eq!(tasks_of(&emu, "wang").await[0]["flow_name"], "二审");

    // After: 李四 is done, 赵六 acts next, then the flow moves on.
    let id = start_flow(&emu, REVIEW).await;
    let t = tasks_of(&emu, "li").await[0]["task_id"].clone();
    assert_eq!(
        act(
            &emu,
            "/api/v2/workflow/task/add_sign",
            json!({ "username": "li", "instance_id": id, "task_id": t, "add_sign_type": 1, "add_sign_usernames": ["zhao"] })
        )
        .await
        .body,
        ok()
    );
    let z = tasks_of(&emu, "zhao").await;
    assert_eq!(z[0]["create_action"], "sign_after");
    act(&emu, "/api/v1/workflow/task/approve", json!({ "username": "zhao", "instance_id": id, "task_id": z[0]["task_id"] })).await;
    assert_eq!(tasks_of(&emu, "wang").await.len(), 2, "this instance reached 二审 too");

    // Alongside: either may approve the node.
    let id = start_flow(&emu, REVIEW).await;
    let t = tasks_of(&emu, "li").await[0]["task_id"].clone();
    assert_eq!(
        act(
            &emu,
            "/api/v2/workflow/task/add_sign",
            json!({ "username": "li", "instance_id": id, "task_id": t, "add_sign_type": 2, "add_sign_usernames": ["zhao"] })
        )
        .await
        .body,
        ok()
    );
    assert_eq!(tasks_of(&emu, "li").await.len(), 1);
    let z = tasks_of(&emu, "zhao").await;
    act(&emu, "/api/v1/workflow/task/approve", json!({ "username": "zhao", "instance_id": id, "task_id": z[0]["task_id"] })).await;
    assert!(tasks_of(&emu, "li").await.is_empty());

    // Refusals.
    let id = start_flow(&emu, REVIEW).await;
    let t = tasks_of(&emu, "li").await[0]["task_id"].clone();
    let sign = |body: Value| act(&emu, "/api/v2/workflow/task/add_sign", body);
    assert_eq!(
        sign(json!({ "username": "li", "instance_id": id, "task_id": t, "add_sign_type": 0, "add_sign_usernames": ["li"] })).await.body
            ["code"],
        50059
    );
    assert_eq!(
        sign(json!({ "username": "li", "instance_id": id, "task_id": t, "add_sign_type": 0, "add_sign_usernames": [] })).await.body["code"],
        50053
    );
    assert_eq!(
        sign(json!({ "username": "li", "instance_id": id, "task_id": t, "add_sign_type": 1, "add_sign_usernames": ["zhao", "wang"] }))
            .await
            .body["code"],
        50061
    );
    assert_workflow_failure(
        &sign(json!({ "username": "li", "instance_id": id, "task_id": t, "add_sign_type": 7, "add_sign_usernames": ["zhao"] })).await,
        3005,
    );
    assert_workflow_failure(
        &act(&emu, "/api/v1/workflow/task/add_sign", json!({ "username": "li", "instance_id": id, "task_id": t, "add_sign_type": 0 }))
            .await,
        1,
    );
}

#[tokio::test]
async fn carbon_copies_are_listed() {
    let emu = start_with(WF).await;
    let id = start_flow(&emu, REVIEW).await;
    let r = post(&emu, "/api/v1/workflow/cc/list", json!({ "username": "zhao" })).await;
    assert_eq!(r.body["has_more"], false);
    let list = r.body["cc_list"].as_array().cloned().unwrap_or_default();
    assert_eq!(list.len(), 1);
    assert_eq!(
        (list[0]["instance_id"].clone(), list[0]["flow_name"].clone(), list[0]["status"].clone()),
        (json!(id), json!("一审"), json!(0))
    );
    assert_eq!(
        post(&emu, "/api/v1/workflow/cc/list", json!({ "username": "zhao", "read_status": "read" })).await.body["cc_list"],
        json!([])
    );
    assert_eq!(post(&emu, "/api/v1/workflow/cc/list", json!({ "username": "li" })).await.body["cc_list"], json!([]));
    assert_jdy_error(&post(&emu, "/api/v1/workflow/cc/list", json!({ "username": "zhao", "read_status": "maybe" })).await, 3005);
}

/// A key scoped to another app reaches no instance or task of this one: actions and reads answer 17053
/// like the data routes, and the task and CC lists leave them out.
#[tokio::test]
async fn a_key_scoped_to_another_app_reaches_no_workflow() {
    let scenario = WF
        .replace(r#"api_keys = ["test-key"]"#, r#"api_keys = ["test-key", { key = "other-app", apps = ["aaaaaaaaaaaaaaaaaaaa0002"] }]"#)
        + r#"
[[jiandaoyun.apps]]
app_id = "aaaaaaaaaaaaaaaaaaaa0002"
name = "其他"
"#;
    let emu = start_with(&scenario).await;
    let id = start_flow(&emu, REVIEW).await;
    let task = tasks_of(&emu, "li").await[0]["task_id"].as_str().expect("task").to_owned();
    let as_other = |path: &'static str, body: Value| {
        let emu = &emu;
        async move { post_raw(emu, path, Some("other-app"), body.to_string()).await }
    };
    let approve = json!({ "username": "li", "instance_id": id, "task_id": task });
    assert_workflow_failure(&as_other("/api/v1/workflow/task/approve", approve.clone()).await, 17053);
    assert_workflow_failure(&as_other("/api/v1/workflow/task/reject", approve.clone()).await, 17053);
    assert_workflow_failure(
        &as_other(
            "/api/v1/workflow/task/transfer",
            json!({ "username": "li", "instance_id": id, "task_id": task, "transfer_username": "wang" }),
        )
        .await,
        17053,
    );
    assert_workflow_failure(&as_other("/api/v1/workflow/instance/close", json!({ "instance_id": id })).await, 17053);
    assert_jdy_error(&as_other("/api/v6/workflow/instance/get", json!({ "instance_id": id })).await, 17053);
    assert_jdy_error(&as_other("/api/v1/workflow/instance/logs", json!({ "instance_id": id, "types": ["comment"] })).await, 17053);
    let list = as_other("/api/v5/workflow/task/list", json!({ "username": "li" })).await;
    assert_eq!((list.status, list.body), (200, json!({ "has_more": false, "tasks": [] })));
    let cc = as_other("/api/v1/workflow/cc/list", json!({ "username": "zhao" })).await;
    assert_eq!(cc.status, 200, "{}", cc.body);
    assert_eq!(cc.body["cc_list"].as_array().map(Vec::len).unwrap_or(0), 0, "{}", cc.body);
    // Nothing happened: the task is still open for the in-scope key.
    assert_eq!(tasks_of(&emu, "li").await.len(), 1);
    let r = act(&emu, "/api/v1/workflow/task/approve", approve).await;
    assert_eq!(r.body, ok());
}

/// The action pages document one failure body, `{"status":"failure","code","message"}`: the emulator
/// answers every failure of an action route in it — parameter, member, key and injected errors too —
/// while the query routes keep `{code, msg}`.
#[tokio::test]
async fn every_failure_of_an_action_route_uses_the_pages_body() {
    let emu = start_with(WF).await;
    let id = start_flow(&emu, REVIEW).await;
    let t = tasks_of(&emu, "li").await[0]["task_id"].clone();
    // The documented sample, verbatim.
    let ghost = act(&emu, "/api/v1/workflow/task/approve", json!({ "username": "ghost", "instance_id": id, "task_id": t })).await;
    assert_eq!((ghost.status, ghost.body), (400, json!({ "status": "failure", "code": 1010, "message": "用户不存在" })));
    for path in [
        "/api/v1/workflow/instance/close",
        "/api/v1/workflow/instance/activate",
        "/api/v1/workflow/task/approve",
        "/api/v1/workflow/task/rollback",
        "/api/v2/workflow/task/rollback",
        "/api/v1/workflow/task/transfer",
        "/api/v1/workflow/task/revoke",
        "/api/v2/workflow/task/revoke",
        "/api/v1/workflow/task/add_sign",
        "/api/v2/workflow/task/add_sign",
        "/api/v1/workflow/task/reject",
    ] {
        // A body that is not JSON, then a wrong key.
        assert_workflow_failure(&post_raw(&emu, path, Some(KEY), "not json").await, 1);
        let r = post_raw(&emu, path, Some("wrong-key"), json!({ "instance_id": id }).to_string()).await;
        assert_eq!((r.status, r.body["status"].clone()), (400, json!("failure")), "{path}: {}", r.body);
        assert!(r.body["message"].is_string() && r.body.get("msg").is_none(), "{path}: {}", r.body);
    }
    // Queries keep the ordinary body.
    assert_jdy_error(&post_raw(&emu, "/api/v5/workflow/task/list", Some(KEY), "not json").await, 1);
    assert_jdy_error(&post_raw(&emu, "/api/v5/workflow/instance/get", Some(KEY), "not json").await, 1);

    // A fault rule naming a business error renders in the page's body on an action route.
    let rule = json!({ "route": "jiandaoyun.workflow.task.approve", "error": "4009" });
    let r = client().post(format!("{}/__emu/faults", emu.base_url())).body(rule.to_string()).send().await.expect("fault");
    assert_eq!(r.status(), 201);
    let injected = act(&emu, "/api/v1/workflow/task/approve", json!({ "username": "li", "instance_id": id, "task_id": t })).await;
    assert_workflow_failure(&injected, 4009);
}
