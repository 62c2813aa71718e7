//! One workflow engine for every platform.
//!
//! A [`Flow`] is a validated graph of nodes (`start`, `approve`, `handle`, `parallel`, `join`,
//! `condition`, `end`). An [`Instance`] holds tokens — the places where it currently waits, several
//! while parallel — with one task per assignee at each human node, an operation log, a status and an
//! outcome. Actions (submit/agree, reject, rollback, transfer, revoke, terminate, activate) are plain
//! functions driven by the caller's clock: deterministic, no background threads. Platforms translate
//! their names and enums onto these.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::clock::Millis;
use super::keypath::Seg;

mod def;
pub mod script;
pub use def::{CallDef, EdgeDef, EdgeTable, EdgeWhen, FlowDef, NodeDef, ScriptStep, SubflowDef, CALLS_UNSUPPORTED, EDGE_OPS, NODE_TYPES};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeKind {
    Start,
    Approve,
    Handle,
    Parallel,
    Join,
    Condition,
    /// The system calls out (an OMFlow API node) and moves on when the answer is in.
    Call,
    /// Steps over the data run, then the instance moves on at once (a code point).
    Script,
    /// Another flow runs in its place; spliced in before the flow is built ([`script::expand_subflows`]).
    Subflow,
    End,
}

/// The assignee of the task that waits at a `call` node: no person can act on it.
pub const SYSTEM_ACTOR: &str = "@system";

impl NodeKind {
    fn parse(s: &str) -> Option<Self> {
        Some(match s.to_ascii_lowercase().as_str() {
            "start" => NodeKind::Start,
            "approve" => NodeKind::Approve,
            "handle" => NodeKind::Handle,
            "parallel" => NodeKind::Parallel,
            "join" => NodeKind::Join,
            "condition" => NodeKind::Condition,
            "call" => NodeKind::Call,
            "script" => NodeKind::Script,
            "subflow" => NodeKind::Subflow,
            "end" => NodeKind::End,
            _ => return None,
        })
    }

    /// Nodes where an instance waits for people.
    pub fn is_human(self) -> bool {
        matches!(self, NodeKind::Approve | NodeKind::Handle)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// The first assignee to act moves the instance on.
    Any,
    /// Every assignee must agree.
    All,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    In,
    Empty,
    NotEmpty,
}

#[derive(Debug, Clone)]
pub struct Predicate {
    pub field: String,
    pub op: CmpOp,
    pub value: Value,
}

impl Predicate {
    /// A validated `when` table (its `op` is one of `EDGE_OPS`; anything else means `not_empty`).
    pub fn from_when(w: &EdgeWhen) -> Predicate {
        let op = match w.op.as_str() {
            "eq" => CmpOp::Eq,
            "ne" => CmpOp::Ne,
            "gt" => CmpOp::Gt,
            "ge" => CmpOp::Ge,
            "lt" => CmpOp::Lt,
            "le" => CmpOp::Le,
            "in" => CmpOp::In,
            "empty" => CmpOp::Empty,
            _ => CmpOp::NotEmpty,
        };
        Predicate { field: w.field.clone(), op, value: w.value.clone().unwrap_or(Value::Null) }
    }

    pub fn eval(&self, data: &Map<String, Value>) -> bool {
        let v = data.get(&self.field);
        let empty = match v {
            None | Some(Value::Null) => true,
            Some(Value::String(s)) => s.is_empty(),
            Some(Value::Array(a)) => a.is_empty(),
            Some(Value::Object(o)) => o.is_empty(),
            _ => false,
        };
        let num = |x: &Value| match x {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        };
        let same = |a: &Value, b: &Value| match (num(a), num(b)) {
            (Some(x), Some(y)) => x == y,
            _ => scalar(a) == scalar(b),
        };
        let ord = |f: fn(f64, f64) -> bool| matches!((v.and_then(num), num(&self.value)), (Some(a), Some(b)) if f(a, b));
        match self.op {
            CmpOp::Empty => empty,
            CmpOp::NotEmpty => !empty,
            CmpOp::Eq => v.is_some_and(|v| same(v, &self.value)),
            CmpOp::Ne => !v.is_some_and(|v| same(v, &self.value)),
            CmpOp::Gt => ord(|a, b| a > b),
            CmpOp::Ge => ord(|a, b| a >= b),
            CmpOp::Lt => ord(|a, b| a < b),
            CmpOp::Le => ord(|a, b| a <= b),
            CmpOp::In => match (&self.value, v) {
                (Value::Array(opts), Some(v)) => opts.iter().any(|o| same(v, o)),
                _ => false,
            },
        }
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[derive(Debug, Clone)]
pub struct Node {
    pub id: String,
    pub kind: NodeKind,
    pub name: String,
    pub assignees: Vec<String>,
    pub mode: Mode,
    pub verify: bool,
    /// Users who get a carbon copy when the instance reaches this node.
    pub cc: Vec<String>,
    /// What a `call` node sends and takes back.
    pub call: Option<CallDef>,
    /// A `script` node's steps.
    pub steps: Vec<def::ScriptStep>,
}

#[derive(Debug, Clone)]
pub struct Edge {
    pub from: usize,
    pub to: usize,
    pub when: Option<Predicate>,
}

/// A validated flow graph.
#[derive(Debug, Clone)]
pub struct Flow {
    pub id: String,
    pub name: String,
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
    pub start: usize,
    out: Vec<Vec<usize>>,
    incoming: Vec<usize>,
}

type GraphError = (Vec<Seg>, String);

impl Flow {
    /// Builds and validates a flow; errors carry the key path below the flow.
    pub fn build(def: &FlowDef) -> Result<Flow, Vec<GraphError>> {
        let mut errs: Vec<GraphError> = Vec::new();
        let mut nodes = Vec::new();
        for (i, n) in def.nodes.iter().enumerate() {
            let Some(kind) = NodeKind::parse(&n.kind) else {
                errs.push((crate::path!["nodes", i, "type"], format!("unknown node type {:?}", n.kind)));
                continue;
            };
            let mode = if n.mode.as_deref() == Some("all") { Mode::All } else { Mode::Any };
            nodes.push(Node {
                id: n.id.clone(),
                kind,
                name: n.name.clone().unwrap_or_else(|| n.id.clone()),
                assignees: n.assignees.clone(),
                mode,
                verify: n.verify,
                cc: n.cc.clone(),
                call: n.call.clone(),
                steps: n.steps.clone(),
            });
        }
        if !errs.is_empty() {
            return Err(errs);
        }
        let index = |id: &str| nodes.iter().position(|n| n.id == id);
        let mut edges = Vec::new();
        for (i, e) in def.edges.iter().enumerate() {
            let (a, b) = e.ends();
            let (Some(from), Some(to)) = (index(a), index(b)) else {
                errs.push((crate::path!["edges", i], format!("edge names an unknown node ({a:?} → {b:?})")));
                continue;
            };
            let when = match e {
                EdgeDef::Table(t) => t.when.as_ref().map(Predicate::from_when),
                EdgeDef::Pair(_) => None,
            };
            edges.push(Edge { from, to, when });
        }
        let mut out = vec![Vec::new(); nodes.len()];
        let mut incoming = vec![0usize; nodes.len()];
        for (i, e) in edges.iter().enumerate() {
            out[e.from].push(i);
            incoming[e.to] += 1;
        }
        let at = |i: usize, msg: String| (crate::path!["nodes", i], msg);
        let starts: Vec<usize> = (0..nodes.len()).filter(|&i| nodes[i].kind == NodeKind::Start).collect();
        match starts.as_slice() {
            [] => errs.push((crate::path!["nodes"], "a flow needs exactly one node of type \"start\"".into())),
            [_] => {}
            [_, second, ..] => errs.push(at(*second, "a flow has exactly one start node".into())),
        }
        if !nodes.iter().any(|n| n.kind == NodeKind::End) {
            errs.push((crate::path!["nodes"], "a flow needs at least one node of type \"end\"".into()));
        }
        for (i, n) in nodes.iter().enumerate() {
            match n.kind {
                NodeKind::Start if incoming[i] > 0 => errs.push(at(i, "no edge may lead into the start node".into())),
                NodeKind::End if !out[i].is_empty() => errs.push(at(i, "an end node has no outgoing edges".into())),
                NodeKind::End => {}
                _ if out[i].is_empty() => errs.push(at(i, format!("node {:?} has no outgoing edge", n.id))),
                NodeKind::Parallel if out[i].len() < 2 => errs.push(at(i, "a parallel split needs at least two outgoing edges".into())),
                NodeKind::Join if incoming[i] < 2 => errs.push(at(i, "a join needs at least two incoming edges".into())),
                NodeKind::Approve if n.assignees.is_empty() => errs.push(at(i, "an approve node needs assignees".into())),
                _ => {}
            }
            match (&n.call, n.kind) {
                (None, NodeKind::Call) => errs.push(at(i, "a call node needs call = { url = \"http://…\", outputs = { … } }".into())),
                (Some(_), k) if k != NodeKind::Call => errs.push(at(i, "only a node of type \"call\" takes call".into())),
                (Some(c), _) => {
                    if let Err(e) = crate::core::http_call::check_url(&c.url) {
                        errs.push((crate::path!["nodes", i, "call", "url"], e));
                    }
                }
                _ => {}
            }
            match n.kind {
                NodeKind::Subflow => errs
                    .push(at(i, "a subflow node runs a flow of [[flows]]; it is spliced in there, and inline graphs cannot use it".into())),
                NodeKind::Script => {
                    for (k, step) in n.steps.iter().enumerate() {
                        if let Some(why) = script::step_problem(step) {
                            errs.push((crate::path!["nodes", i, "steps", k], why));
                        }
                    }
                }
                _ if !n.steps.is_empty() => errs.push(at(i, "only a node of type \"script\" takes steps".into())),
                _ => {}
            }
            if n.verify && n.kind != NodeKind::Start {
                errs.push(at(i, "only a start node can verify".into()));
            }
        }
        if let [start] = starts.as_slice() {
            let reach = reachable(&out, &edges, *start);
            for (i, n) in nodes.iter().enumerate() {
                if !reach[i] {
                    errs.push(at(i, format!("node {:?} cannot be reached from the start node", n.id)));
                }
            }
            for (i, n) in nodes.iter().enumerate().filter(|(_, n)| n.kind == NodeKind::Join) {
                let fed_by_split = nodes.iter().enumerate().any(|(p, pn)| pn.kind == NodeKind::Parallel && reachable(&out, &edges, p)[i]);
                if !fed_by_split {
                    errs.push(at(i, format!("join {:?} has no parallel split before it", n.id)));
                }
            }
        }
        if !errs.is_empty() {
            return Err(errs);
        }
        Ok(Flow {
            id: def.id.clone(),
            name: def.name.clone().unwrap_or_else(|| def.id.clone()),
            nodes,
            edges,
            start: starts[0],
            out,
            incoming,
        })
    }

    pub fn node_index(&self, id: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.id == id)
    }

    /// Successors taken when leaving `node`: every matching edge of a parallel split, else the first
    /// matching edge (an edge without `when` always matches).
    fn next(&self, node: usize, data: &Map<String, Value>) -> Vec<usize> {
        let matching = self.out[node].iter().map(|&e| &self.edges[e]).filter(|e| e.when.as_ref().is_none_or(|w| w.eval(data)));
        if self.nodes[node].kind == NodeKind::Parallel {
            matching.map(|e| e.to).collect()
        } else {
            matching.map(|e| e.to).take(1).collect()
        }
    }
}

fn reachable(out: &[Vec<usize>], edges: &[Edge], from: usize) -> Vec<bool> {
    let mut seen = vec![false; out.len()];
    seen[from] = true;
    let mut stack = vec![from];
    while let Some(n) = stack.pop() {
        for &e in &out[n] {
            let t = edges[e].to;
            if !seen[t] {
                seen[t] = true;
                stack.push(t);
            }
        }
    }
    seen
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Waiting for the start node's verification.
    Verifying,
    Running,
    Completed,
    Terminated,
    /// The graph could not route the instance (no matching branch, a loop without a human node).
    Error,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Approved,
    Rejected,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Start,
    Submit,
    Agree,
    Reject,
    Rollback,
    Transfer,
    Revoke,
    Terminate,
    Activate,
    /// Closed because another assignee acted (any-mode) or the instance moved on.
    Cancel,
    /// Added approvers (加签): before the current one, after them, or alongside.
    SignBefore,
    SignAfter,
    SignParallel,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    Open,
    Done,
    Cancelled,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Token {
    pub id: u64,
    pub node: usize,
    pub since_ms: Millis,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Task {
    pub id: String,
    pub token: u64,
    pub node: usize,
    pub assignee: String,
    pub status: TaskStatus,
    /// How the task came to be (start, submit, rollback, transfer …).
    pub created_by: Action,
    pub created_ms: Millis,
    /// How it ended.
    pub finish_action: Option<Action>,
    pub finished_ms: Option<Millis>,
    pub comment: Option<String>,
    /// Set on a task added "before" someone: when it is done the task returns to that person.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume_for: Option<String>,
}

impl Task {
    /// A task waiting for `assignee` at `node` on `token`.
    fn open(id: String, token: u64, node: usize, assignee: String, created_by: Action, now: Millis, resume_for: Option<String>) -> Task {
        Task {
            id,
            token,
            node,
            assignee,
            status: TaskStatus::Open,
            created_by,
            created_ms: now,
            finish_action: None,
            finished_ms: None,
            comment: None,
            resume_for,
        }
    }
}

/// A carbon copy (抄送) left for a user when the instance reaches a node with `cc`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CcEntry {
    pub id: String,
    pub node: usize,
    pub user: String,
    pub created_ms: Millis,
    pub read: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LogEntry {
    pub at_ms: Millis,
    pub actor: String,
    pub action: Action,
    pub node: usize,
    pub comment: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WfError {
    NotRunning,
    StillRunning,
    TaskNotFound,
    TaskClosed,
    NotAssignee,
    NodeNotFound,
    NotHumanNode,
    RollbackToCurrent,
    RollbackNotVisited,
    TransferToSelf,
    NotInitiator,
    TokenNotFound,
    NoApprovers,
    AlreadyApprover,
    OneApproverOnly,
    NestedSign,
}

/// Who acts, what they say, and when (the emulator clock).
#[derive(Debug, Clone, Copy)]
pub struct Act<'a> {
    pub actor: &'a str,
    pub comment: Option<&'a str>,
    pub now: Millis,
}

impl<'a> Act<'a> {
    pub fn new(actor: &'a str, now: Millis) -> Self {
        Act { actor, comment: None, now }
    }

    pub fn saying(mut self, comment: Option<&'a str>) -> Self {
        self.comment = comment;
        self
    }
}

/// Mints ids for tokens and tasks; platforms decide the formats (and how widely they are unique).
pub trait IdSource {
    fn token_id(&mut self) -> u64;
    fn task_id(&mut self) -> String;
}

/// Most nodes one action may pass through before the engine calls it a loop.
const MAX_STEPS: usize = 10_000;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Instance {
    pub id: String,
    pub flow_id: String,
    pub status: Status,
    pub outcome: Option<Outcome>,
    pub initiator: String,
    pub data: Map<String, Value>,
    pub tokens: Vec<Token>,
    pub tasks: Vec<Task>,
    pub log: Vec<LogEntry>,
    #[serde(default)]
    pub cc: Vec<CcEntry>,
    /// Arrivals at join nodes not yet released.
    pub joins: BTreeMap<usize, usize>,
    pub created_ms: Millis,
    pub updated_ms: Millis,
    pub finished_ms: Option<Millis>,
    pub error: Option<String>,
}

impl Instance {
    /// Starts an instance: it runs to its first human nodes, or waits for verification.
    pub fn start(flow: &Flow, id: String, initiator: &str, data: Map<String, Value>, now: Millis, ids: &mut dyn IdSource) -> Instance {
        let mut inst = Instance {
            id,
            flow_id: flow.id.clone(),
            status: Status::Running,
            outcome: None,
            initiator: initiator.to_owned(),
            data,
            tokens: Vec::new(),
            tasks: Vec::new(),
            log: Vec::new(),
            cc: Vec::new(),
            joins: BTreeMap::new(),
            created_ms: now,
            updated_ms: now,
            finished_ms: None,
            error: None,
        };
        inst.log.push(LogEntry { at_ms: now, actor: initiator.to_owned(), action: Action::Start, node: flow.start, comment: None });
        // The initiator's submission is the first, already completed task at the start node.
        inst.tasks.push(Task {
            id: ids.task_id(),
            token: 0,
            node: flow.start,
            assignee: initiator.to_owned(),
            status: TaskStatus::Done,
            created_by: Action::Start,
            created_ms: now,
            finish_action: Some(Action::Submit),
            finished_ms: Some(now),
            comment: None,
            resume_for: None,
        });
        let start = &flow.nodes[flow.start];
        if start.verify {
            inst.status = Status::Verifying;
            let verifiers = if start.assignees.is_empty() { vec![initiator.to_owned()] } else { start.assignees.clone() };
            inst.park(flow.start, &verifiers, Action::Start, now, ids);
        } else {
            inst.leave(flow, flow.start, now, ids);
        }
        inst
    }

    pub fn open_tasks(&self) -> impl Iterator<Item = &Task> {
        self.tasks.iter().filter(|t| t.status == TaskStatus::Open)
    }

    pub fn is_active(&self) -> bool {
        matches!(self.status, Status::Running | Status::Verifying)
    }

    /// Places a token at `node` with one open task per assignee (one unassigned task when none).
    fn park(&mut self, node: usize, assignees: &[String], by: Action, now: Millis, ids: &mut dyn IdSource) {
        let token = ids.token_id();
        self.tokens.push(Token { id: token, node, since_ms: now });
        let people: Vec<String> = if assignees.is_empty() { vec![String::new()] } else { assignees.to_vec() };
        for a in people {
            self.tasks.push(Task::open(ids.task_id(), token, node, a, by, now, None));
        }
    }

    /// Moves on from `node` (whose token, if any, was already removed) until every new path waits.
    fn leave(&mut self, flow: &Flow, node: usize, now: Millis, ids: &mut dyn IdSource) {
        // A stack, filled in reverse so branches are entered in edge order.
        let mut work: Vec<usize> = flow.next(node, &self.data);
        work.reverse();
        if work.is_empty() && flow.nodes[node].kind != NodeKind::End {
            return self.fail(format!("no branch of {:?} matches the data", flow.nodes[node].id), now);
        }
        let mut steps = 0;
        loop {
            while let Some(n) = work.pop() {
                steps += 1;
                if steps > MAX_STEPS {
                    return self.fail("the flow loops without reaching a human node".into(), now);
                }
                let node = &flow.nodes[n];
                match node.kind {
                    NodeKind::Approve | NodeKind::Handle => {
                        for user in &node.cc {
                            self.cc.push(CcEntry { id: ids.task_id(), node: n, user: user.clone(), created_ms: now, read: false });
                        }
                        self.park(n, &node.assignees.clone(), Action::Submit, now, ids)
                    }
                    NodeKind::Call => self.park(n, &[SYSTEM_ACTOR.to_owned()], Action::Submit, now, ids),
                    NodeKind::Script => match script::run(&node.steps, &mut self.data, now) {
                        Ok(()) => work.extend(self.route(flow, n, now).into_iter().rev()),
                        Err(why) => return self.fail(format!("script node {:?}: {why}", node.id), now),
                    },
                    // Spliced away before a flow is built; never reached.
                    NodeKind::Subflow => {}
                    NodeKind::End => {}
                    NodeKind::Join => {
                        let arrived = self.joins.entry(n).or_insert(0);
                        *arrived += 1;
                        if *arrived >= flow.incoming[n] {
                            self.joins.remove(&n);
                            work.extend(self.route(flow, n, now).into_iter().rev());
                        }
                    }
                    NodeKind::Start | NodeKind::Parallel | NodeKind::Condition => work.extend(self.route(flow, n, now).into_iter().rev()),
                }
                if self.status == Status::Error {
                    return;
                }
            }
            // Nothing waits any more but a join still expects branches that took another way: release it.
            match self.joins.keys().next().copied() {
                Some(j) if self.tokens.is_empty() => {
                    self.joins.remove(&j);
                    work.extend(self.route(flow, j, now).into_iter().rev());
                    if self.status == Status::Error {
                        return;
                    }
                }
                _ => break,
            }
        }
        self.finish_if_done(now);
    }

    fn route(&mut self, flow: &Flow, n: usize, now: Millis) -> Vec<usize> {
        let next = flow.next(n, &self.data);
        if next.is_empty() {
            self.fail(format!("no branch of {:?} matches the data", flow.nodes[n].id), now);
        }
        next
    }

    /// Ends the instance in error (a call node whose request failed).
    pub fn fail_with(&mut self, why: String, now: Millis) {
        self.fail(why, now);
    }

    fn fail(&mut self, why: String, now: Millis) {
        self.cancel_all(now);
        self.status = Status::Error;
        self.error = Some(why);
        self.finished_ms = Some(now);
    }

    fn finish_if_done(&mut self, now: Millis) {
        if self.status == Status::Running && self.tokens.is_empty() && self.joins.is_empty() {
            self.status = Status::Completed;
            self.outcome = Some(Outcome::Approved);
            self.finished_ms = Some(now);
        }
    }

    fn cancel_all(&mut self, now: Millis) {
        for t in self.tasks.iter_mut().filter(|t| t.status == TaskStatus::Open) {
            t.status = TaskStatus::Cancelled;
            t.finish_action = Some(Action::Cancel);
            t.finished_ms = Some(now);
        }
        self.tokens.clear();
        self.joins.clear();
    }

    fn close_token(&mut self, token: u64, now: Millis) {
        for t in self.tasks.iter_mut().filter(|t| t.token == token && t.status == TaskStatus::Open) {
            t.status = TaskStatus::Cancelled;
            t.finish_action = Some(Action::Cancel);
            t.finished_ms = Some(now);
        }
        self.tokens.retain(|k| k.id != token);
    }

    fn open_task_index(&self, task_id: &str, actor: &str) -> Result<usize, WfError> {
        let i = self.tasks.iter().position(|t| t.id == task_id).ok_or(WfError::TaskNotFound)?;
        if self.tasks[i].status != TaskStatus::Open {
            return Err(WfError::TaskClosed);
        }
        if !self.is_active() {
            return Err(WfError::NotRunning);
        }
        let a = &self.tasks[i].assignee;
        if !a.is_empty() && a != actor {
            return Err(WfError::NotAssignee);
        }
        Ok(i)
    }

    fn done(&mut self, i: usize, action: Action, comment: Option<&str>, now: Millis) {
        let t = &mut self.tasks[i];
        t.status = TaskStatus::Done;
        t.finish_action = Some(action);
        t.finished_ms = Some(now);
        t.comment = comment.map(str::to_owned);
    }

    /// Agree (approve nodes) or submit (handle and start nodes): merges `data`, closes the task, and
    /// moves on once the node's mode is satisfied.
    pub fn complete(
        &mut self,
        flow: &Flow,
        task_id: &str,
        action: Action,
        act: Act,
        data: Option<&Map<String, Value>>,
        ids: &mut dyn IdSource,
    ) -> Result<(), WfError> {
        let Act { actor, comment, now } = act;
        let i = self.open_task_index(task_id, actor)?;
        let (token, node) = (self.tasks[i].token, self.tasks[i].node);
        if let Some(d) = data {
            self.data.extend(d.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        let resume_for = self.tasks[i].resume_for.clone();
        self.done(i, action, comment, now);
        self.log.push(LogEntry { at_ms: now, actor: actor.to_owned(), action, node, comment: comment.map(str::to_owned) });
        self.updated_ms = now;
        // A task added before someone hands the node back to them once every such task is done.
        if let Some(owner) = resume_for {
            let pending = self
                .tasks
                .iter()
                .any(|t| t.token == token && t.status == TaskStatus::Open && t.resume_for.as_deref() == Some(owner.as_str()));
            if !pending {
                self.add_task(token, node, &owner, Action::SignBefore, None, now, ids);
            }
            return Ok(());
        }
        let all_done = self.tasks.iter().filter(|t| t.token == token).all(|t| t.status != TaskStatus::Open);
        if flow.nodes[node].mode == Mode::Any || all_done {
            self.close_token(token, now);
            if self.status == Status::Verifying {
                self.status = Status::Running;
            }
            self.leave(flow, node, now, ids);
        }
        Ok(())
    }

    /// Completes every open task of a token as `actor` (OMFlow's push acts on a position, not a task).
    pub fn complete_token(
        &mut self,
        flow: &Flow,
        token: u64,
        act: Act,
        data: Option<&Map<String, Value>>,
        ids: &mut dyn IdSource,
    ) -> Result<(), WfError> {
        let Act { actor, now, .. } = act;
        if !self.is_active() {
            return Err(WfError::NotRunning);
        }
        let node = self.tokens.iter().find(|t| t.id == token).map(|t| t.node).ok_or(WfError::TokenNotFound)?;
        if let Some(d) = data {
            self.data.extend(d.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        for i in 0..self.tasks.len() {
            if self.tasks[i].token == token && self.tasks[i].status == TaskStatus::Open {
                self.done(i, Action::Submit, None, now);
            }
        }
        self.log.push(LogEntry { at_ms: now, actor: actor.to_owned(), action: Action::Submit, node, comment: None });
        self.updated_ms = now;
        self.tokens.retain(|k| k.id != token);
        if self.status == Status::Verifying {
            self.status = Status::Running;
        }
        self.leave(flow, node, now, ids);
        Ok(())
    }

    /// Rejects the whole instance: it ends with outcome `Rejected` (verification refused: terminated).
    pub fn reject(&mut self, task_id: &str, act: Act) -> Result<(), WfError> {
        let Act { actor, comment, now } = act;
        let i = self.open_task_index(task_id, actor)?;
        let node = self.tasks[i].node;
        self.done(i, Action::Reject, comment, now);
        self.log.push(LogEntry { at_ms: now, actor: actor.to_owned(), action: Action::Reject, node, comment: comment.map(str::to_owned) });
        self.cancel_all(now);
        self.status = if self.status == Status::Verifying { Status::Terminated } else { Status::Completed };
        self.outcome = Some(Outcome::Rejected);
        self.updated_ms = now;
        self.finished_ms = Some(now);
        Ok(())
    }

    /// Sends the instance back to `target` (a human node or the start node the instance has passed),
    /// or by default to the last human node completed before it, else the start node. Every open
    /// position is withdrawn (parallel siblings too): the instance continues from the target alone.
    pub fn rollback(
        &mut self,
        flow: &Flow,
        task_id: &str,
        target: Option<&str>,
        act: Act,
        ids: &mut dyn IdSource,
    ) -> Result<usize, WfError> {
        let Act { actor, comment, now } = act;
        let i = self.open_task_index(task_id, actor)?;
        let node = self.tasks[i].node;
        let target = match target {
            Some(t) => flow.node_index(t).ok_or(WfError::NodeNotFound)?,
            None => self
                .log
                .iter()
                .rev()
                .filter(|l| matches!(l.action, Action::Agree | Action::Submit) && l.node != node)
                .map(|l| l.node)
                .next()
                .unwrap_or(flow.start),
        };
        let kind = flow.nodes[target].kind;
        if !(kind.is_human() || kind == NodeKind::Start) {
            return Err(WfError::NotHumanNode);
        }
        if target == node {
            return Err(WfError::RollbackToCurrent);
        }
        if target != flow.start && !self.log.iter().any(|l| l.node == target && matches!(l.action, Action::Agree | Action::Submit)) {
            return Err(WfError::RollbackNotVisited);
        }
        self.done(i, Action::Rollback, comment, now);
        self.log.push(LogEntry {
            at_ms: now,
            actor: actor.to_owned(),
            action: Action::Rollback,
            node,
            comment: comment.map(str::to_owned),
        });
        self.cancel_all(now);
        let assignees = if target == flow.start { vec![self.initiator.clone()] } else { flow.nodes[target].assignees.clone() };
        self.park(target, &assignees, Action::Rollback, now, ids);
        self.updated_ms = now;
        Ok(target)
    }

    #[allow(clippy::too_many_arguments)]
    fn add_task(
        &mut self,
        token: u64,
        node: usize,
        assignee: &str,
        by: Action,
        resume_for: Option<String>,
        now: Millis,
        ids: &mut dyn IdSource,
    ) -> String {
        let id = ids.task_id();
        self.tasks.push(Task::open(id.clone(), token, node, assignee.to_owned(), by, now, resume_for));
        id
    }

    /// Adds approvers to an open task's node (加签): `SignBefore` — they act first, then the task
    /// returns to its assignee; `SignAfter` — the assignee's part is done and they act next;
    /// `SignParallel` — they join the node's assignees.
    pub fn add_sign(
        &mut self,
        task_id: &str,
        kind: Action,
        users: &[String],
        act: Act,
        ids: &mut dyn IdSource,
    ) -> Result<Vec<String>, WfError> {
        let Act { actor, comment, now } = act;
        let i = self.open_task_index(task_id, actor)?;
        let (token, node) = (self.tasks[i].token, self.tasks[i].node);
        let owner = self.tasks[i].assignee.clone();
        if users.is_empty() {
            return Err(WfError::NoApprovers);
        }
        let busy =
            |u: &String| u == &owner || self.tasks.iter().any(|t| t.token == token && t.status == TaskStatus::Open && &t.assignee == u);
        if users.iter().any(busy) {
            return Err(WfError::AlreadyApprover);
        }
        if kind != Action::SignParallel && users.len() > 1 {
            return Err(WfError::OneApproverOnly);
        }
        if self.tasks[i].resume_for.is_some() || self.tasks[i].created_by == Action::SignBefore && kind == Action::SignBefore {
            return Err(WfError::NestedSign);
        }
        match kind {
            Action::SignBefore | Action::SignAfter => self.done(i, kind, comment, now),
            _ => {}
        }
        self.log.push(LogEntry { at_ms: now, actor: actor.to_owned(), action: kind, node, comment: comment.map(str::to_owned) });
        let resume = (kind == Action::SignBefore).then(|| owner.clone());
        let added = users.iter().map(|u| self.add_task(token, node, u, kind, resume.clone(), now, ids)).collect();
        self.updated_ms = now;
        Ok(added)
    }

    /// Hands an open task to someone else at the same node.
    pub fn transfer(&mut self, task_id: &str, to: &str, act: Act, ids: &mut dyn IdSource) -> Result<String, WfError> {
        let Act { actor, comment, now } = act;
        let i = self.open_task_index(task_id, actor)?;
        if to == actor || to == self.tasks[i].assignee {
            return Err(WfError::TransferToSelf);
        }
        let (token, node) = (self.tasks[i].token, self.tasks[i].node);
        self.done(i, Action::Transfer, comment, now);
        self.log.push(LogEntry {
            at_ms: now,
            actor: actor.to_owned(),
            action: Action::Transfer,
            node,
            comment: comment.map(str::to_owned),
        });
        let id = ids.task_id();
        self.tasks.push(Task::open(id.clone(), token, node, to.to_owned(), Action::Transfer, now, None));
        self.updated_ms = now;
        Ok(id)
    }

    /// The initiator withdraws the instance: every open task closes and it waits at the start node for
    /// the initiator to submit again.
    pub fn revoke(&mut self, flow: &Flow, act: Act, ids: &mut dyn IdSource) -> Result<(), WfError> {
        let Act { actor, comment, now } = act;
        if !self.is_active() {
            return Err(WfError::NotRunning);
        }
        if actor != self.initiator {
            return Err(WfError::NotInitiator);
        }
        self.cancel_all(now);
        self.log.push(LogEntry {
            at_ms: now,
            actor: actor.to_owned(),
            action: Action::Revoke,
            node: flow.start,
            comment: comment.map(str::to_owned),
        });
        self.status = Status::Running;
        let initiator = self.initiator.clone();
        self.park(flow.start, std::slice::from_ref(&initiator), Action::Revoke, now, ids);
        self.updated_ms = now;
        Ok(())
    }

    /// Withdraws every open position and waits at `node` again (a human node), as when someone takes
    /// back a submission the next node has not acted on yet.
    pub fn return_to(&mut self, flow: &Flow, node: usize, act: Act, ids: &mut dyn IdSource) -> Result<(), WfError> {
        if !self.is_active() {
            return Err(WfError::NotRunning);
        }
        if !flow.nodes[node].kind.is_human() {
            return Err(WfError::NotHumanNode);
        }
        self.cancel_all(act.now);
        self.log.push(LogEntry {
            at_ms: act.now,
            actor: act.actor.to_owned(),
            action: Action::Revoke,
            node,
            comment: act.comment.map(str::to_owned),
        });
        self.park(node, &flow.nodes[node].assignees.clone(), Action::Revoke, act.now, ids);
        self.updated_ms = act.now;
        Ok(())
    }

    /// Ends a running instance by an administrator: every open task closes.
    pub fn terminate(&mut self, act: Act) -> Result<(), WfError> {
        let Act { actor, comment, now } = act;
        if !self.is_active() {
            return Err(WfError::NotRunning);
        }
        let node = self.tokens.first().map(|t| t.node).unwrap_or(0);
        self.cancel_all(now);
        self.log.push(LogEntry {
            at_ms: now,
            actor: actor.to_owned(),
            action: Action::Terminate,
            node,
            comment: comment.map(str::to_owned),
        });
        self.status = Status::Terminated;
        self.updated_ms = now;
        self.finished_ms = Some(now);
        Ok(())
    }

    /// Re-opens a finished instance at a human node.
    pub fn activate(&mut self, flow: &Flow, node: &str, act: Act, ids: &mut dyn IdSource) -> Result<(), WfError> {
        let Act { actor, now, .. } = act;
        if self.is_active() {
            return Err(WfError::StillRunning);
        }
        let n = flow.node_index(node).ok_or(WfError::NodeNotFound)?;
        if !flow.nodes[n].kind.is_human() {
            return Err(WfError::NotHumanNode);
        }
        self.status = Status::Running;
        self.outcome = None;
        self.finished_ms = None;
        self.error = None;
        self.log.push(LogEntry { at_ms: now, actor: actor.to_owned(), action: Action::Activate, node: n, comment: None });
        self.park(n, &flow.nodes[n].assignees.clone(), Action::Activate, now, ids);
        self.updated_ms = now;
        Ok(())
    }

    /// Structural invariants, for tests: tokens and open tasks agree, finished instances hold nothing.
    pub fn check_invariants(&self, flow: &Flow) -> Result<(), String> {
        for t in self.open_tasks() {
            if !self.tokens.iter().any(|k| k.id == t.token && k.node == t.node) {
                return Err(format!("open task {} has no token", t.id));
            }
        }
        for k in &self.tokens {
            if !self.open_tasks().any(|t| t.token == k.id) {
                return Err(format!("token {} has no open task", k.id));
            }
            let kind = flow.nodes[k.node].kind;
            if !(kind.is_human() || kind == NodeKind::Start) {
                return Err(format!("token {} waits at a {:?} node", k.id, kind));
            }
        }
        if !self.is_active() && (!self.tokens.is_empty() || self.open_tasks().next().is_some()) {
            return Err("a finished instance still has tokens or open tasks".into());
        }
        if self.is_active() && self.tokens.is_empty() {
            return Err("an active instance has no position to wait at".into());
        }
        for (j, n) in &self.joins {
            if *n >= flow.incoming[*j] {
                return Err(format!("join {j} should have fired"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
