//! The form-data list (`omdata/list/<api_path>`) and my missions (`my-mission/list/`).
//!
//! Both take `search_columns`, `search_conditions` and `exclude_conditions` (lists of
//! `{column, condition, value}` with `=`, `>`, `<`, `in`, `contains`; each list AND-ed),
//! `order_columns` (`"-id"` descending; default `["id"]`), `start` (default 0) and `limit`, which is an
//! end index (`start=1, limit=100` gives 99 rows; `0` = everything). Answers use integer `status`.

use std::cmp::Ordering;

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{json, Map, Value};

use super::call::Success;
use super::messages::{text, Msg};
use super::model::{FlowRt, Row, Ticket};
use super::{Call, Reply};
use crate::core::clock::iso_utc_ms;
use crate::core::workflow::{Status, TaskStatus};
use crate::http::Response;
use crate::router::Ctx;

fn ok<T: Serialize>(reply: &Reply, rows: &[T]) -> Response {
    Response::json(200, &Success { status: 200u16, message: text(Msg::ListOk, reply.locale), result: rows })
}

fn fail(reply: &Reply, why: &str) -> Response {
    Response::json(200, &json!({ "status": 404, "message": format!("{}{why}", text(Msg::ListFailed, reply.locale)), "result": [] }))
}

/// A list parameter that may arrive as JSON or as a JSON string (form bodies).
fn list_param(p: &Map<String, Value>, name: &str) -> Result<Vec<Value>, String> {
    match p.get(name) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(a)) => Ok(a.clone()),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(Vec::new()),
        Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
            Ok(Value::Array(a)) => Ok(a),
            _ => Err(format!("{name} must be a list")),
        },
        Some(_) => Err(format!("{name} must be a list")),
    }
}

fn int_param(p: &Map<String, Value>, name: &str, default: usize) -> Result<usize, String> {
    match p.get(name) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Number(n)) => n.as_u64().map(|v| v as usize).ok_or_else(|| format!("{name} must be a non-negative integer")),
        Some(Value::String(s)) => s.trim().parse().map_err(|_| format!("{name} must be a non-negative integer")),
        Some(_) => Err(format!("{name} must be a non-negative integer")),
    }
}

struct Cond {
    column: String,
    op: String,
    value: Value,
}

fn conditions(p: &Map<String, Value>, name: &str) -> Result<Vec<Cond>, String> {
    list_param(p, name)?
        .into_iter()
        .map(|c| {
            let column =
                c.get("column").and_then(Value::as_str).ok_or_else(|| format!("{name}: each condition needs a column"))?.to_owned();
            let op = c.get("condition").and_then(Value::as_str).unwrap_or("=").to_owned();
            if !["=", ">", "<", "in", "contains"].contains(&op.as_str()) {
                return Err(format!("unsupported condition {op:?}"));
            }
            Ok(Cond { column, op, value: c.get("value").cloned().unwrap_or(Value::Null) })
        })
        .collect()
}

fn loose_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Bool(x), Value::String(s)) | (Value::String(s), Value::Bool(x)) => s.eq_ignore_ascii_case(&x.to_string()),
        (Value::Number(x), Value::String(s)) | (Value::String(s), Value::Number(x)) => s.trim().parse::<f64>().ok() == x.as_f64(),
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

fn compare(a: &Value, b: &Value) -> Ordering {
    let num = |v: &Value| match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        _ => None,
    };
    match (num(a), num(b)) {
        (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
        _ => value_text(a).cmp(&value_text(b)),
    }
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

impl Cond {
    fn matches(&self, row: &Map<String, Value>) -> bool {
        let v = row.get(&self.column).unwrap_or(&Value::Null);
        match self.op.as_str() {
            "=" => loose_eq(v, &self.value),
            ">" => compare(v, &self.value) == Ordering::Greater,
            "<" => compare(v, &self.value) == Ordering::Less,
            "in" => self.value.as_array().is_some_and(|a| a.iter().any(|x| loose_eq(v, x))),
            _ => value_text(v).contains(&value_text(&self.value)),
        }
    }
}

/// A list query: conditions, order, slice and projection, checked against the list's columns (an
/// unknown column is an error, as the database says).
struct Plan {
    search: Vec<Cond>,
    exclude: Vec<Cond>,
    order: Vec<String>,
    pick: Vec<String>,
    start: usize,
    limit: usize,
}

impl Plan {
    fn parse(columns: &[&str], p: &Map<String, Value>) -> Result<Plan, String> {
        let known = |c: &str| columns.contains(&c) || c.starts_with("formitm_");
        let unknown = |c: &str| format!("Cannot resolve keyword '{c}' into field.");
        let search = conditions(p, "search_conditions")?;
        let exclude = conditions(p, "exclude_conditions")?;
        for c in search.iter().chain(&exclude) {
            if !known(&c.column) {
                return Err(unknown(&c.column));
            }
        }
        let order: Vec<String> = list_param(p, "order_columns")?.iter().map(value_text).collect();
        let order = if order.is_empty() { vec!["id".to_owned()] } else { order };
        for o in &order {
            if !known(o.trim_start_matches('-')) {
                return Err(unknown(o.trim_start_matches('-')));
            }
        }
        let pick: Vec<String> = list_param(p, "search_columns")?.iter().map(value_text).collect();
        for c in &pick {
            if !known(c) {
                return Err(unknown(c));
            }
        }
        Ok(Plan { search, exclude, order, pick, start: int_param(p, "start", 0)?, limit: int_param(p, "limit", 100)? })
    }

    /// No conditions and the default order (ascending `id`): the slice can be taken before any row
    /// is built.
    fn plain(&self) -> bool {
        self.search.is_empty() && self.exclude.is_empty() && self.order == ["id"]
    }

    /// `[start:limit]` of `len` items (`limit` is an end index, 0 = all).
    fn slice(&self, len: usize) -> std::ops::Range<usize> {
        let end = if self.limit == 0 { len } else { self.limit.min(len) };
        if self.start >= end {
            0..0
        } else {
            self.start..end
        }
    }

    /// Filters, orders, slices and projects rows.
    fn run(&self, rows: Vec<Map<String, Value>>) -> Vec<Value> {
        let mut rows: Vec<Map<String, Value>> = rows
            .into_iter()
            .filter(|r| self.search.iter().all(|c| c.matches(r)))
            .filter(|r| self.exclude.is_empty() || !self.exclude.iter().all(|c| c.matches(r)))
            .collect();
        rows.sort_by(|a, b| {
            for o in &self.order {
                let (col, desc) = match o.strip_prefix('-') {
                    Some(c) => (c, true),
                    None => (o.as_str(), false),
                };
                let ord = compare(a.get(col).unwrap_or(&Value::Null), b.get(col).unwrap_or(&Value::Null));
                let ord = if desc { ord.reverse() } else { ord };
                if ord != Ordering::Equal {
                    return ord;
                }
            }
            Ordering::Equal
        });
        let range = self.slice(rows.len());
        rows.drain(range).map(|r| self.project(r)).collect()
    }

    fn project(&self, r: Map<String, Value>) -> Value {
        if self.pick.is_empty() {
            Value::Object(r)
        } else {
            Value::Object(self.pick.iter().map(|c| (c.clone(), r.get(c).cloned().unwrap_or(Value::Null))).collect())
        }
    }
}

/// Filters, orders, slices and projects rows.
fn run_query(rows: Vec<Map<String, Value>>, columns: &[&str], p: &Map<String, Value>) -> Result<Vec<Value>, String> {
    Ok(Plan::parse(columns, p)?.run(rows))
}

/// Users are numbered in directory order, as the product's integer user ids.
fn user_number(ctx: &Ctx, id: &str) -> Value {
    ctx.world.directory.user_position(id).map(|i| json!(i + 1)).unwrap_or(Value::Null)
}

fn header(flow: &FlowRt, data: &Map<String, Value>, kind: &str) -> Value {
    flow.fields
        .iter()
        .find(|f| f.kind.as_deref() == Some(kind))
        .and_then(|f| data.get(&f.id))
        .map(|v| json!(value_text(v)))
        .unwrap_or(json!(""))
}

const ROW_COLUMNS: &[&str] = &[
    "id",
    "flow_uuid",
    "data_no",
    "history",
    "status",
    "title",
    "level",
    "group",
    "closed",
    "stop_uuid",
    "stop_chart_type",
    "stop_chart_text",
    "running",
    "error",
    "createtime",
    "updatetime",
    "stoptime",
    "create_user_id",
    "update_user_id",
    "data_param",
    "error_message",
    "init_data_id",
    "is_child",
];

/// The columns of a form-data row in the product's order, each handed to `put`.
fn row_columns(ctx: &Ctx, flow: &FlowRt, t: &Ticket, r: &Row, put: &mut dyn FnMut(&str, Value)) {
    let error = t.instance.status == Status::Error && !r.history;
    put("id", json!(r.id));
    put("flow_uuid", json!(flow.uuid));
    put("data_no", t.data_no.map(|n| json!(n)).unwrap_or(Value::Null));
    put("history", json!(r.history));
    put("status", header(flow, &r.data, "h_status"));
    put("title", header(flow, &r.data, "h_title"));
    put("level", header(flow, &r.data, "h_level"));
    put("group", header(flow, &r.data, "h_group"));
    put("closed", json!(r.closed));
    put("stop_uuid", json!(r.stop_uuid));
    put("stop_chart_type", json!(r.stop_chart_type));
    put("stop_chart_text", json!(r.stop_chart_text));
    put("running", json!(false));
    put("error", json!(error));
    put("createtime", json!(iso_utc_ms(r.createtime)));
    put("updatetime", json!(iso_utc_ms(r.updatetime)));
    put("stoptime", r.stoptime.map(|s| json!(iso_utc_ms(s))).unwrap_or(Value::Null));
    put("create_user_id", user_number(ctx, &r.create_user));
    put("update_user_id", user_number(ctx, &r.update_user));
    put("data_param", json!("{}"));
    put("error_message", json!(if error { t.instance.error.clone().unwrap_or_default() } else { String::new() }));
    put("init_data_id", json!(t.rows.first().map(|r| r.id)));
    put("is_child", json!(false));
    for f in &flow.fields {
        put(&f.id.to_ascii_lowercase(), json!(value_text(r.data.get(&f.id).unwrap_or(&Value::Null))));
    }
}

fn row_json(ctx: &Ctx, flow: &FlowRt, t: &Ticket, r: &Row) -> Map<String, Value> {
    let mut m = Map::with_capacity(ROW_COLUMNS.len() + flow.fields.len());
    row_columns(ctx, flow, t, r, &mut |k, v| {
        m.insert(k.to_owned(), v);
    });
    m
}

/// A row printed column by column, no map built: a page without `search_columns` (column names are
/// unique, field ids being `FORMITM_<n>`, so this prints what `row_json` would).
struct RowJson<'a> {
    ctx: &'a Ctx<'a>,
    flow: &'a FlowRt,
    ticket: &'a Ticket,
    row: &'a Row,
}

impl Serialize for RowJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(ROW_COLUMNS.len() + self.flow.fields.len()))?;
        let mut failed = None;
        row_columns(self.ctx, self.flow, self.ticket, self.row, &mut |k, v| {
            if failed.is_none() {
                failed = map.serialize_entry(k, &v).err();
            }
        });
        match failed {
            Some(e) => Err(e),
            None => map.end(),
        }
    }
}

pub fn form_data(call: &Call) -> Response {
    let &Call { ctx, st, reply, p, .. } = call;
    let Some(flow) = ctx.req.param("api_path").and_then(|a| st.by_path.get(a)).map(|&i| &st.flows[i]) else {
        return fail(reply, text(Msg::FlowNotFound, reply.locale));
    };
    let plan = match Plan::parse(ROW_COLUMNS, p) {
        Ok(plan) => plan,
        Err(why) => return fail(reply, &why),
    };
    let tickets = flow.tickets.lock();
    let all = tickets.list.iter().filter(|t| t.data_no.is_some()).flat_map(|t| t.rows.iter().map(move |r| (&**t, r)));
    if plan.plain() {
        // Rows in id order, and only the slice's rows built.
        let mut refs: Vec<(&Ticket, &Row)> = all.collect();
        refs.sort_by_key(|(_, r)| r.id);
        let page = &refs[plan.slice(refs.len())];
        if plan.pick.is_empty() {
            let rows: Vec<RowJson> = page.iter().map(|&(ticket, row)| RowJson { ctx, flow, ticket, row }).collect();
            return ok(reply, &rows);
        }
        let rows: Vec<Value> = page.iter().map(|(t, r)| plan.project(row_json(ctx, flow, t, r))).collect();
        return ok(reply, &rows);
    }
    let rows: Vec<Map<String, Value>> = all.map(|(t, r)| row_json(ctx, flow, t, r)).collect();
    drop(tickets);
    ok(reply, &plan.run(rows))
}

const MISSION_COLUMNS: &[&str] = &[
    "id",
    "flow_uuid",
    "flow_name",
    "status",
    "level",
    "title",
    "data_no",
    "data_id",
    "history",
    "stop_uuid",
    "stop_chart_text",
    "create_user_id",
    "update_user_id",
    "ticket_createtime",
    "createtime",
    "updatetime",
    "assignee_id",
    "assign_group_id",
    "action",
    "attachment",
    "closed",
];

/// Open tasks assigned to the caller (or to anyone) across every flow.
pub fn my_missions(call: &Call) -> Response {
    let &Call { ctx, st, reply, p, user } = call;
    let mut rows = Vec::new();
    for flow in &st.flows {
        let tickets = flow.tickets.lock();
        for t in &tickets.list {
            for task in t.instance.tasks.iter().filter(|k| k.status == TaskStatus::Open && (k.assignee == user || k.assignee.is_empty())) {
                let node = &flow.flow.nodes[task.node];
                let data = &t.instance.data;
                let mut m = Map::new();
                m.insert("id".into(), json!(task.id.parse::<u64>().unwrap_or(0)));
                m.insert("flow_uuid".into(), json!(flow.uuid));
                m.insert("flow_name".into(), json!(flow.name));
                m.insert("status".into(), header(flow, data, "h_status"));
                m.insert("level".into(), header(flow, data, "h_level"));
                m.insert("title".into(), header(flow, data, "h_title"));
                m.insert("data_no".into(), t.data_no.map(|n| json!(n)).unwrap_or(Value::Null));
                m.insert("data_id".into(), json!(task.token));
                m.insert("history".into(), json!(false));
                m.insert("stop_uuid".into(), json!(node.id));
                m.insert("stop_chart_text".into(), json!(node.name));
                m.insert("create_user_id".into(), user_number(ctx, &t.create_user));
                m.insert("update_user_id".into(), user_number(ctx, &t.rows.last().map(|r| r.update_user.clone()).unwrap_or_default()));
                m.insert("ticket_createtime".into(), json!(iso_utc_ms(t.instance.created_ms)));
                m.insert("createtime".into(), json!(iso_utc_ms(task.created_ms)));
                m.insert("updatetime".into(), json!(iso_utc_ms(t.instance.updated_ms)));
                m.insert("assignee_id".into(), if task.assignee.is_empty() { Value::Null } else { user_number(ctx, &task.assignee) });
                m.insert("assign_group_id".into(), Value::Null);
                m.insert("action".into(), json!(""));
                m.insert("attachment".into(), json!(!t.files.is_empty()));
                m.insert("closed".into(), json!(false));
                rows.push(m);
            }
        }
    }
    match run_query(rows, MISSION_COLUMNS, p) {
        Ok(rows) => ok(reply, &rows),
        Err(why) => fail(reply, &why),
    }
}
