use proptest::prelude::*;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::def::FlowDef;
use super::*;

#[derive(Deserialize)]
struct Doc {
    flows: Vec<FlowDef>,
}

fn flow(toml_text: &str) -> Flow {
    let doc: Doc = toml::from_str(toml_text).expect("test flow parses");
    Flow::build(&doc.flows[0]).expect("test flow is valid")
}

fn flow_err(toml_text: &str) -> Vec<String> {
    let doc: Doc = toml::from_str(toml_text).expect("test flow parses");
    Flow::build(&doc.flows[0]).err().map(|e| e.into_iter().map(|(_, m)| m).collect()).unwrap_or_default()
}

#[derive(Default)]
struct Seq(u64);
impl IdSource for Seq {
    fn token_id(&mut self) -> u64 {
        self.0 += 1;
        self.0
    }
    fn task_id(&mut self) -> String {
        self.0 += 1;
        format!("t{}", self.0)
    }
}

const LINEAR: &str = r#"
[[flows]]
id = "linear"
nodes = [
  { id = "start", type = "start" },
  { id = "mgr", type = "approve", name = "主管审批", assignees = ["lisi"] },
  { id = "end", type = "end" },
]
edges = [["start", "mgr"], ["mgr", "end"]]
"#;

const PARALLEL: &str = r#"
[[flows]]
id = "par"
nodes = [
  { id = "start", type = "start" },
  { id = "split", type = "parallel" },
  { id = "a", type = "handle", name = "财务", assignees = ["fin"] },
  { id = "b", type = "handle", name = "法务", assignees = ["law"] },
  { id = "join", type = "join" },
  { id = "boss", type = "approve", name = "总经理", assignees = ["boss"] },
  { id = "end", type = "end" },
]
edges = [["start", "split"], ["split", "a"], ["split", "b"], ["a", "join"], ["b", "join"], ["join", "boss"], ["boss", "end"]]
"#;

const CONDITION: &str = r#"
[[flows]]
id = "cond"
nodes = [
  { id = "start", type = "start" },
  { id = "route", type = "condition" },
  { id = "big", type = "approve", name = "大额", assignees = ["boss"] },
  { id = "small", type = "approve", name = "小额", assignees = ["mgr"] },
  { id = "end", type = "end" },
]
edges = [
  ["start", "route"],
  { from = "route", to = "big", when = { field = "amount", op = "gt", value = 1000 } },
  { from = "route", to = "small", when = { field = "amount", op = "le", value = 1000 } },
  ["big", "end"], ["small", "end"],
]
"#;

fn data(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

fn open(inst: &Instance) -> Vec<(String, String)> {
    inst.open_tasks().map(|t| (t.id.clone(), t.assignee.clone())).collect()
}

#[test]
fn linear_approve_completes() {
    let f = flow(LINEAR);
    let mut ids = Seq::default();
    let mut i = Instance::start(&f, "i1".into(), "zhangsan", Map::new(), 1, &mut ids);
    assert_eq!(i.status, Status::Running);
    let tasks = open(&i);
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].1, "lisi");
    assert_eq!(i.complete(&f, &tasks[0].0, Action::Agree, Act::new("zhangsan", 2).saying(None), None, &mut ids), Err(WfError::NotAssignee));
    i.complete(&f, &tasks[0].0, Action::Agree, Act::new("lisi", 2).saying(Some("ok")), None, &mut ids).expect("agree");
    assert_eq!((i.status, i.outcome), (Status::Completed, Some(Outcome::Approved)));
    assert_eq!(i.finished_ms, Some(2));
    assert_eq!(i.complete(&f, &tasks[0].0, Action::Agree, Act::new("lisi", 3).saying(None), None, &mut ids), Err(WfError::TaskClosed));
    assert_eq!(i.log.iter().map(|l| l.action).collect::<Vec<_>>(), vec![Action::Start, Action::Agree]);
    i.check_invariants(&f).expect("invariants");
}

#[test]
fn all_mode_waits_for_everyone_and_any_mode_for_one() {
    let all = flow(&LINEAR.replace("assignees = [\"lisi\"]", "assignees = [\"lisi\", \"wangwu\"], mode = \"all\""));
    let mut ids = Seq::default();
    let mut i = Instance::start(&all, "i".into(), "z", Map::new(), 0, &mut ids);
    let t = open(&i);
    i.complete(&all, &t[0].0, Action::Agree, Act::new("lisi", 1).saying(None), None, &mut ids).expect("first");
    assert_eq!(i.status, Status::Running);
    assert_eq!(open(&i).len(), 1);
    i.complete(&all, &t[1].0, Action::Agree, Act::new("wangwu", 2).saying(None), None, &mut ids).expect("second");
    assert_eq!(i.status, Status::Completed);

    let any = flow(&LINEAR.replace("assignees = [\"lisi\"]", "assignees = [\"lisi\", \"wangwu\"]"));
    let mut i = Instance::start(&any, "i".into(), "z", Map::new(), 0, &mut ids);
    let t = open(&i);
    i.complete(&any, &t[1].0, Action::Agree, Act::new("wangwu", 1).saying(None), None, &mut ids).expect("one");
    assert_eq!(i.status, Status::Completed);
    assert_eq!(i.tasks.iter().find(|t| t.assignee == "lisi").map(|t| t.status), Some(TaskStatus::Cancelled));
    assert_eq!((i.tasks[0].assignee.as_str(), i.tasks[0].status), ("z", TaskStatus::Done), "the initiator's start task");
}

#[test]
fn parallel_split_and_join_fire_once() {
    let f = flow(PARALLEL);
    let mut ids = Seq::default();
    let mut i = Instance::start(&f, "i".into(), "z", Map::new(), 0, &mut ids);
    assert_eq!(i.tokens.len(), 2);
    let names: Vec<&str> = i.tokens.iter().map(|t| f.nodes[t.node].name.as_str()).collect();
    assert!(names.contains(&"财务") && names.contains(&"法务"));
    let fin = i.open_tasks().find(|t| t.assignee == "fin").map(|t| t.id.clone()).expect("fin task");
    i.complete(&f, &fin, Action::Submit, Act::new("fin", 1).saying(None), None, &mut ids).expect("fin");
    assert_eq!(i.tokens.len(), 1);
    assert_eq!(i.joins.values().copied().collect::<Vec<_>>(), vec![1]);
    i.check_invariants(&f).expect("mid-join invariants");
    let law = i.open_tasks().find(|t| t.assignee == "law").map(|t| t.id.clone()).expect("law task");
    i.complete(&f, &law, Action::Submit, Act::new("law", 2).saying(None), None, &mut ids).expect("law");
    assert!(i.joins.is_empty());
    assert_eq!(open(&i).iter().map(|t| t.1.as_str()).collect::<Vec<_>>(), vec!["boss"]);
    let boss = open(&i)[0].0.clone();
    i.complete(&f, &boss, Action::Agree, Act::new("boss", 3).saying(None), None, &mut ids).expect("boss");
    assert_eq!(i.status, Status::Completed);
    i.check_invariants(&f).expect("invariants");
}

#[test]
fn conditions_route_on_data() {
    let f = flow(CONDITION);
    let mut ids = Seq::default();
    let big = Instance::start(&f, "a".into(), "z", data(json!({ "amount": 5000 })), 0, &mut ids);
    assert_eq!(open(&big)[0].1, "boss");
    let small = Instance::start(&f, "b".into(), "z", data(json!({ "amount": "300" })), 0, &mut ids);
    assert_eq!(open(&small)[0].1, "mgr");
    let none = Instance::start(&f, "c".into(), "z", Map::new(), 0, &mut ids);
    assert_eq!(none.status, Status::Error);
    assert!(none.error.as_deref().is_some_and(|e| e.contains("no branch")));
    none.check_invariants(&f).expect("invariants");
}

#[test]
fn predicates() {
    let d = data(json!({ "n": 5, "s": "x", "e": "", "arr": [] }));
    let p = |field: &str, op, value: Value| Predicate { field: field.into(), op, value }.eval(&d);
    assert!(p("n", CmpOp::Ge, json!(5)) && p("n", CmpOp::Lt, json!("6")) && !p("n", CmpOp::Gt, json!(5)));
    assert!(p("s", CmpOp::Eq, json!("x")) && p("s", CmpOp::Ne, json!("y")) && p("s", CmpOp::In, json!(["a", "x"])));
    assert!(p("e", CmpOp::Empty, Value::Null) && p("arr", CmpOp::Empty, Value::Null) && p("missing", CmpOp::Empty, Value::Null));
    assert!(p("n", CmpOp::NotEmpty, Value::Null) && p("n", CmpOp::Eq, json!("5")));
}

#[test]
fn reject_terminate_revoke() {
    let f = flow(LINEAR);
    let mut ids = Seq::default();
    let mut i = Instance::start(&f, "i".into(), "z", Map::new(), 0, &mut ids);
    let t = open(&i)[0].0.clone();
    i.reject(&t, Act::new("lisi", 1).saying(Some("no"))).expect("reject");
    assert_eq!((i.status, i.outcome), (Status::Completed, Some(Outcome::Rejected)));
    i.check_invariants(&f).expect("invariants");

    let mut i = Instance::start(&f, "i".into(), "z", Map::new(), 0, &mut ids);
    assert_eq!(i.revoke(&f, Act::new("lisi", 1).saying(None), &mut ids), Err(WfError::NotInitiator));
    i.revoke(&f, Act::new("z", 1).saying(Some("oops")), &mut ids).expect("revoke");
    assert_eq!(open(&i).iter().map(|t| t.1.as_str()).collect::<Vec<_>>(), vec!["z"], "back at the start with the initiator");
    let resubmit = open(&i)[0].0.clone();
    i.complete(&f, &resubmit, Action::Submit, Act::new("z", 2).saying(None), None, &mut ids).expect("resubmit");
    assert_eq!(open(&i)[0].1, "lisi");
    i.terminate(Act::new("admin", 3).saying(None)).expect("terminate");
    assert_eq!(i.status, Status::Terminated);
    assert_eq!(i.terminate(Act::new("admin", 4).saying(None)), Err(WfError::NotRunning));
    i.check_invariants(&f).expect("invariants");
}

#[test]
fn rollback_transfer_activate() {
    let two = flow(
        r#"
[[flows]]
id = "two"
nodes = [
  { id = "start", type = "start" },
  { id = "a", type = "approve", name = "一审", assignees = ["a1"] },
  { id = "b", type = "approve", name = "二审", assignees = ["b1"] },
  { id = "end", type = "end" },
]
edges = [["start", "a"], ["a", "b"], ["b", "end"]]
"#,
    );
    let mut ids = Seq::default();
    let mut i = Instance::start(&two, "i".into(), "z", Map::new(), 0, &mut ids);
    let t = open(&i)[0].0.clone();
    assert_eq!(i.rollback(&two, &t, Some("b"), Act::new("a1", 1).saying(None), &mut ids), Err(WfError::RollbackNotVisited));
    assert_eq!(i.rollback(&two, &t, Some("a"), Act::new("a1", 1).saying(None), &mut ids), Err(WfError::RollbackToCurrent));
    assert_eq!(i.rollback(&two, &t, Some("nope"), Act::new("a1", 1).saying(None), &mut ids), Err(WfError::NodeNotFound));
    i.complete(&two, &t, Action::Agree, Act::new("a1", 1).saying(None), None, &mut ids).expect("a");
    let t = open(&i)[0].0.clone();
    assert_eq!(i.transfer(&t, "b1", Act::new("b1", 2).saying(None), &mut ids), Err(WfError::TransferToSelf));
    let moved = i.transfer(&t, "c1", Act::new("b1", 2).saying(Some("请代审")), &mut ids).expect("transfer");
    assert_eq!(open(&i), vec![(moved.clone(), "c1".to_string())]);
    let back = i.rollback(&two, &moved, None, Act::new("c1", 3).saying(Some("重审")), &mut ids).expect("rollback");
    assert_eq!(two.nodes[back].id, "a");
    assert_eq!(open(&i)[0].1, "a1");
    i.check_invariants(&two).expect("invariants");
    let t = open(&i)[0].0.clone();
    let to_start = i.rollback(&two, &t, Some("start"), Act::new("a1", 4).saying(None), &mut ids).expect("to start");
    assert_eq!(to_start, two.start);
    assert_eq!(open(&i)[0].1, "z");
    i.terminate(Act::new("admin", 5).saying(None)).expect("terminate");
    assert_eq!(i.activate(&two, "end", Act::new("admin", 6), &mut ids), Err(WfError::NotHumanNode));
    i.activate(&two, "b", Act::new("admin", 6), &mut ids).expect("activate");
    assert_eq!(i.status, Status::Running);
    assert_eq!(open(&i)[0].1, "b1");
    assert_eq!(i.activate(&two, "b", Act::new("admin", 7), &mut ids), Err(WfError::StillRunning));
    i.check_invariants(&two).expect("invariants");
}

#[test]
fn verification_gates_the_start() {
    let f =
        flow(&LINEAR.replace(
            "{ id = \"start\", type = \"start\" }",
            "{ id = \"start\", type = \"start\", verify = true, assignees = [\"checker\"] }",
        ));
    let mut ids = Seq::default();
    let mut i = Instance::start(&f, "i".into(), "z", Map::new(), 0, &mut ids);
    assert_eq!(i.status, Status::Verifying);
    let t = open(&i)[0].clone();
    assert_eq!(t.1, "checker");
    i.complete(&f, &t.0, Action::Agree, Act::new("checker", 1).saying(None), None, &mut ids).expect("verified");
    assert_eq!(i.status, Status::Running);
    assert_eq!(open(&i)[0].1, "lisi");
    let mut j = Instance::start(&f, "j".into(), "z", Map::new(), 0, &mut ids);
    let t = open(&j)[0].0.clone();
    j.reject(&t, Act::new("checker", 1).saying(None)).expect("refused");
    assert_eq!((j.status, j.outcome), (Status::Terminated, Some(Outcome::Rejected)));
}

#[test]
fn graph_validation() {
    let unreachable = flow_err(
        &LINEAR.replace("edges = [[\"start\", \"mgr\"], [\"mgr\", \"end\"]]", "edges = [[\"start\", \"end\"], [\"mgr\", \"end\"]]"),
    );
    assert!(unreachable.iter().any(|m| m.contains("cannot be reached")), "{unreachable:?}");
    let no_split = flow_err(
        r#"
[[flows]]
id = "j"
nodes = [{ id = "s", type = "start" }, { id = "a", type = "handle" }, { id = "j", type = "join" }, { id = "e", type = "end" }]
edges = [["s", "a"], ["s", "j"], ["a", "j"], ["j", "e"]]
"#,
    );
    assert!(no_split.iter().any(|m| m.contains("no parallel split")), "{no_split:?}");
    let no_start = flow_err("[[flows]]\nid = \"x\"\nnodes = [{ id = \"e\", type = \"end\" }]\n");
    assert!(no_start.iter().any(|m| m.contains("start")), "{no_start:?}");
    let narrow = flow_err(&PARALLEL.replace("[\"split\", \"b\"], ", "").replace("[\"b\", \"join\"], ", ""));
    assert!(narrow.iter().any(|m| m.contains("parallel split needs")), "{narrow:?}");
    let no_assignee = flow_err(&LINEAR.replace("assignees = [\"lisi\"]", "assignees = []"));
    assert!(no_assignee.iter().any(|m| m.contains("needs assignees")), "{no_assignee:?}");
    let dead_end = flow_err(&LINEAR.replace(", [\"mgr\", \"end\"]", ""));
    assert!(dead_end.iter().any(|m| m.contains("no outgoing edge")), "{dead_end:?}");
}

#[derive(Debug, Clone)]
enum Step {
    Complete(usize),
    Reject(usize),
    Rollback(usize),
    Transfer(usize),
    Revoke,
    Terminate,
    Activate(usize),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        5 => (0usize..8).prop_map(Step::Complete),
        1 => (0usize..8).prop_map(Step::Reject),
        2 => (0usize..8).prop_map(Step::Rollback),
        1 => (0usize..8).prop_map(Step::Transfer),
        1 => Just(Step::Revoke),
        1 => Just(Step::Terminate),
        1 => (0usize..8).prop_map(Step::Activate),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: crate::core::arb_json::cases(1000), ..ProptestConfig::default() })]

    /// Random action sequences on a flow with a parallel split, a join and a condition never leave an
    /// orphan task, a token without a task, or a join that should have fired.
    #[test]
    fn random_actions_keep_instances_consistent(steps in prop::collection::vec(step(), 0..40), amount in 0i64..3000) {
        let f = flow(&PARALLEL.replace("[\"join\", \"boss\"]", "[\"join\", \"route\"], { from = \"route\", to = \"boss\", when = { field = \"amount\", op = \"gt\", value = 1000 } }, [\"route\", \"end\"]")
            .replace("{ id = \"join\", type = \"join\" },", "{ id = \"join\", type = \"join\" }, { id = \"route\", type = \"condition\" },"));
        let mut ids = Seq::default();
        let mut inst = Instance::start(&f, "p".into(), "init", data(json!({ "amount": amount })), 0, &mut ids);
        inst.check_invariants(&f).map_err(TestCaseError::fail)?;
        for (now, s) in steps.iter().enumerate() {
            let now = now as i64 + 1;
            let open: Vec<(String, String)> = inst.open_tasks().map(|t| (t.id.clone(), t.assignee.clone())).collect();
            let pick = |k: usize| open.get(k % open.len().max(1)).cloned();
            let _ = match s {
                Step::Complete(k) => pick(*k).map(|(t, a)| inst.complete(&f, &t, Action::Agree, Act::new(&a, now).saying(None), None, &mut ids)),
                Step::Reject(k) => pick(*k).map(|(t, a)| inst.reject(&t, Act::new(&a, now).saying(None))),
                Step::Rollback(k) => pick(*k).map(|(t, a)| inst.rollback(&f, &t, None, Act::new(&a, now).saying(None), &mut ids).map(|_| ())),
                Step::Transfer(k) => pick(*k).map(|(t, a)| inst.transfer(&t, "someone", Act::new(&a, now).saying(None), &mut ids).map(|_| ())),
                Step::Revoke => Some(inst.revoke(&f, Act::new("init", now).saying(None), &mut ids)),
                Step::Terminate => Some(inst.terminate(Act::new("admin", now).saying(None))),
                Step::Activate(k) => Some(inst.activate(&f, ["a", "b", "boss"][k % 3], Act::new("admin", now), &mut ids)),
            };
            inst.check_invariants(&f).map_err(TestCaseError::fail)?;
        }
    }
}
