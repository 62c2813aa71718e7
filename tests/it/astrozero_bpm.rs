//! Huawei Astro Zero BPM: definitions, instances, states, actions and user tasks, over real HTTP.

use crate::common;

use common::astrozero::{az_call, az_err, az_ok, az_token};
use common::*;
use reqwest::Method;
use serde_json::{json, Value};

const AZ_RUNTIME: &str = include_str!("fixtures/astrozero_runtime.toml");
const DEFS: &str = "/u-route/baas/bp/v2.0/metadata/definitions";
const INST: &str = "/u-route/baas/bp/v2.0/runtime/instances";
const TASKS: &str = "/u-route/baas/bp/v2.0/query/tasks";

fn waiting() -> String {
    format!("{INST}?states=Waiting%20for%20user%20interaction")
}

#[tokio::test]
async fn instances_run_through_tasks_to_completed_ok() {
    let emu = start_with(AZ_RUNTIME).await;
    let robot = az_token(&emu, "cid", "csecret").await;
    let lisi = az_token(&emu, "lid", "lsecret").await;
    let start = az_call(
        &emu,
        &robot,
        Method::POST,
        INST,
        Some(json!({ "name": "ns__Borrow", "variables": { "asset": "A-1", "$Flow.Title": "借笔记本" } })),
    )
    .await;
    let started = az_ok(&start).clone();
    snap!("astrozero_bpm_start", &started);
    let id = started["id"].as_str().unwrap().to_owned();
    let list = az_call(&emu, &robot, Method::GET, &format!("{}&fields=id,state,curElement,title", waiting()), None).await;
    assert_eq!(az_ok(&list), &json!([{ "id": id, "state": "Waiting for user interaction", "curElement": "review", "title": "借笔记本" }]));
    // states is required
    az_err(&az_call(&emu, &robot, Method::GET, INST, None).await, 400);
    // The approver sees the task; the starter has none.
    let mine = az_call(&emu, &robot, Method::GET, TASKS, None).await;
    assert_eq!(az_ok(&mine), &json!({ "Recs": [], "Total": 0 }));
    let theirs = az_call(&emu, &lisi, Method::GET, TASKS, None).await;
    let recs = az_ok(&theirs)["Recs"].as_array().unwrap().clone();
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0]["name"], "review");
    assert_eq!(recs[0]["assignee.name"], "lisi");
    let task = recs[0]["id"].as_str().unwrap().to_owned();
    // Only the assignee may act; unknown tasks and actions are refused.
    az_err(
        &az_call(&emu, &robot, Method::PUT, &format!("/u-route/baas/bp/v2.0/runtime/tasks/{task}"), Some(json!({ "action": "approve" })))
            .await,
        403,
    );
    az_err(
        &az_call(
            &emu,
            &lisi,
            Method::PUT,
            "/u-route/baas/bp/v2.0/runtime/tasks/002T0000000000000000",
            Some(json!({ "action": "approve" })),
        )
        .await,
        404,
    );
    az_err(
        &az_call(&emu, &lisi, Method::PUT, &format!("/u-route/baas/bp/v2.0/runtime/tasks/{task}"), Some(json!({ "action": "sing" }))).await,
        400,
    );
    // Suspended instances leave the to-do list and refuse task actions until resumed.
    let sus = az_call(&emu, &robot, Method::PUT, &format!("{INST}/{id}"), Some(json!({ "action": "suspend" }))).await;
    assert_eq!(az_ok(&sus), "Suspended");
    az_err(&az_call(&emu, &robot, Method::PUT, &format!("{INST}/{id}"), Some(json!({ "action": "suspend" }))).await, 400);
    assert_eq!(az_ok(&az_call(&emu, &lisi, Method::GET, TASKS, None).await)["Total"], 0);
    az_err(
        &az_call(&emu, &lisi, Method::PUT, &format!("/u-route/baas/bp/v2.0/runtime/tasks/{task}"), Some(json!({ "action": "approve" })))
            .await,
        400,
    );
    let suspended = az_call(&emu, &robot, Method::GET, &format!("{INST}?states=Suspended&fields=id,suspended"), None).await;
    assert_eq!(az_ok(&suspended), &json!([{ "id": id, "suspended": true }]));
    assert_eq!(
        az_ok(&az_call(&emu, &robot, Method::PUT, &format!("{INST}/{id}"), Some(json!({ "action": "resume" }))).await),
        "Waiting for user interaction"
    );
    // Variables: known names change, unknown and system names are ignored; no result in the answer.
    let vars = az_call(
        &emu,
        &robot,
        Method::PUT,
        &format!("{INST}/{id}/variables"),
        Some(json!({ "asset": "A-2", "ghost": 1, "$Flow.Title": "x" })),
    )
    .await;
    assert_eq!(vars.body, json!({ "resCode": "0", "resMsg": "成功" }));
    let approve = az_call(
        &emu,
        &lisi,
        Method::PUT,
        &format!("/u-route/baas/bp/v2.0/runtime/tasks/{task}"),
        Some(json!({ "action": "approve", "comment": "同意", "variables": { "approvedBy": "lisi" } })),
    )
    .await;
    assert_eq!(az_ok(&approve)["state"], "Completed");
    assert_eq!(az_ok(&approve)["outcome"], "approve");
    let one = az_call(&emu, &robot, Method::GET, &format!("{INST}/{id}"), None).await;
    let got = az_ok(&one).clone();
    assert_eq!(got["state"], "Completed OK");
    assert_eq!(got["isClosed"], true);
    assert_eq!(got["taskOutcome"], "approve");
    assert_eq!(got["variables"], json!({ "asset": "A-2", "$Flow.Title": "借笔记本", "approvedBy": "lisi" }));
    assert_eq!(got["lastHandler"], got["tasks"][0]["assignee"]);
    let closed = az_call(&emu, &lisi, Method::GET, &format!("{TASKS}?state=closed"), None).await;
    assert_eq!(az_ok(&closed)["Recs"][0]["comment"], "同意");
    az_err(&az_call(&emu, &robot, Method::PUT, &format!("{INST}/{id}"), Some(json!({ "action": "terminate" }))).await, 400);
    // Delete answers without result, then the instance is gone.
    let del = az_call(&emu, &robot, Method::DELETE, &format!("{INST}/{id}"), None).await;
    assert_eq!(del.body, json!({ "resCode": "0", "resMsg": "成功" }));
    az_err(&az_call(&emu, &robot, Method::GET, &format!("{INST}/{id}"), None).await, 404);
}

#[tokio::test]
async fn terminate_reject_and_transfer() {
    let emu = start_with(AZ_RUNTIME).await;
    let robot = az_token(&emu, "cid", "csecret").await;
    let lisi = az_token(&emu, "lid", "lsecret").await;
    let start = |body: Value| az_call(&emu, &robot, Method::POST, INST, Some(body));
    let a = az_ok(&start(json!({ "name": "ns__Borrow" })).await)["id"].as_str().unwrap().to_owned();
    let b = az_ok(&start(json!({ "name": "ns__Borrow", "version": "1.0.0" })).await)["id"].as_str().unwrap().to_owned();
    let c = az_ok(&start(json!({ "name": "ns__Borrow" })).await)["id"].as_str().unwrap().to_owned();
    az_err(&start(json!({ "name": "ns__Borrow", "version": "9.9.9" })).await, 404);
    az_err(&start(json!({ "name": "ns__Nope" })).await, 404);
    az_err(&start(json!({})).await, 400);
    az_err(&start(json!({ "name": "ns__Borrow", "variables": [1] })).await, 400);
    assert_eq!(
        az_ok(&az_call(&emu, &robot, Method::PUT, &format!("{INST}/{a}"), Some(json!({ "action": "terminate" }))).await),
        "User Terminated"
    );
    az_err(&az_call(&emu, &robot, Method::PUT, &format!("{INST}/{a}"), Some(json!({ "action": "pause" }))).await, 400);
    let tasks = az_call(&emu, &lisi, Method::GET, TASKS, None).await;
    let recs = az_ok(&tasks)["Recs"].as_array().unwrap().clone();
    assert_eq!(recs.len(), 2, "the terminated instance's task is closed");
    let task_of = |inst: &str| recs.iter().find(|r| r["instanceId"] == inst).unwrap()["id"].as_str().unwrap().to_owned();
    let rej = az_call(
        &emu,
        &lisi,
        Method::PUT,
        &format!("/u-route/baas/bp/v2.0/runtime/tasks/{}", task_of(&b)),
        Some(json!({ "action": "reject" })),
    )
    .await;
    assert_eq!(az_ok(&rej)["outcome"], "reject");
    // Transfer hands the task to another user from [[users]].
    az_err(
        &az_call(
            &emu,
            &lisi,
            Method::PUT,
            &format!("/u-route/baas/bp/v2.0/runtime/tasks/{}", task_of(&c)),
            Some(json!({ "action": "transfer" })),
        )
        .await,
        400,
    );
    let moved = az_call(
        &emu,
        &lisi,
        Method::PUT,
        &format!("/u-route/baas/bp/v2.0/runtime/tasks/{}", task_of(&c)),
        Some(json!({ "action": "transfer", "assignee": "wangwu" })),
    )
    .await;
    assert_eq!(az_ok(&moved)["outcome"], "transfer");
    let all = az_call(&emu, &robot, Method::GET, &format!("{TASKS}?assignee=wangwu&instanceId={c}"), None).await;
    assert_eq!(az_ok(&all)["Total"], 1);
    let states = az_call(
        &emu,
        &robot,
        Method::GET,
        &format!("{INST}?states=User%20Terminated,Completed%20OK&fields=id,state,taskOutcome&orderField=id&orderType=asc"),
        None,
    )
    .await;
    assert_eq!(
        az_ok(&states),
        &json!([{ "id": a, "state": "User Terminated", "taskOutcome": "" }, { "id": b, "state": "Completed OK", "taskOutcome": "reject" }])
    );
}

#[tokio::test]
async fn definitions_list_get_create_update_delete() {
    let emu = start_with(AZ_RUNTIME).await;
    let t = az_token(&emu, "cid", "csecret").await;
    let list = az_call(&emu, &t, Method::GET, &format!("{DEFS}?like=borrow"), None).await;
    let defs = az_ok(&list).as_array().unwrap().clone();
    assert_eq!(defs.len(), 1);
    assert_eq!(defs[0]["config"], r#"{"cancelable":true,"noCancelAfterElem":""}"#, "config is a JSON string in lists");
    let id = defs[0]["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("001L"));
    let full = az_call(&emu, &t, Method::GET, &format!("{DEFS}/{id}"), None).await;
    assert_eq!(az_ok(&full)["userTasks"], json!([{ "name": "review", "label": "主管审批", "assignees": ["lisi"], "mode": "any" }]));
    // Create from an inline graph; graph errors are refused with the node path.
    let graph = json!({ "nodes": [
        { "id": "s", "type": "start" }, { "id": "h", "type": "handle", "name": "办理", "assignees": ["wangwu"] }, { "id": "e", "type": "end" }
    ], "edges": [["s", "h"], ["h", "e"]] });
    let made = az_call(&emu, &t, Method::POST, DEFS, Some(json!({ "name": "ns__Handle", "label": "办理", "graph": graph }))).await;
    let new_id = az_ok(&made)["id"].as_str().unwrap().to_owned();
    let broken = json!({ "nodes": [{ "id": "s", "type": "start" }], "edges": [["s", "x"]] });
    az_err(&az_call(&emu, &t, Method::POST, DEFS, Some(json!({ "name": "ns__Broken", "graph": broken }))).await, 400);
    az_err(&az_call(&emu, &t, Method::POST, DEFS, Some(json!({ "name": "ns__NoGraph" }))).await, 400);
    az_err(&az_call(&emu, &t, Method::POST, DEFS, Some(json!({ "name": "ns__Handle", "graph": graph }))).await, 400);
    let reuse = az_call(&emu, &t, Method::POST, DEFS, Some(json!({ "name": "ns__Again", "flow": "az-approve" }))).await;
    az_ok(&reuse);
    // Starting it gives wangwu a task; an inactive definition no longer starts without a version.
    let inst = az_call(&emu, &t, Method::POST, INST, Some(json!({ "name": "ns__Handle" }))).await;
    assert_eq!(az_ok(&inst)["nextElem"], "h");
    let put = az_call(&emu, &t, Method::PUT, &format!("{DEFS}/{new_id}"), Some(json!({ "active": false, "label": "办理（停用）" }))).await;
    assert_eq!(az_ok(&put), "1");
    az_err(&az_call(&emu, &t, Method::POST, INST, Some(json!({ "name": "ns__Handle" }))).await, 404);
    az_ok(&az_call(&emu, &t, Method::POST, INST, Some(json!({ "name": "ns__Handle", "version": "1.0.0" }))).await);
    let del = az_call(&emu, &t, Method::DELETE, &format!("{DEFS}/{new_id}"), None).await;
    assert_eq!(del.body, json!({ "resCode": "0", "resMsg": "成功", "result": "1" }));
    az_err(&az_call(&emu, &t, Method::GET, &format!("{DEFS}/{new_id}"), None).await, 404);
}
