//! OMFlow's state: deployed flows, their tickets (單) and rows, and security codes.
//!
//! A ticket is one workflow instance. Like the product, each ticket has *rows*: every time the
//! instance stops at a manual node a new row (a new `data_id`) is opened, and the row it leaves becomes
//! history. `data_id`s are unique across all tickets of a flow; `data_no`s count tickets from 1.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::scenario::OmFieldDef;
use crate::core::clock::Millis;
use crate::core::ids::IdGen;
use crate::core::workflow::{Flow, IdSource, Instance, NodeKind};

#[derive(Debug)]
pub struct State {
    pub flows: Vec<FlowRt>,
    pub by_path: HashMap<String, usize>,
    pub codes: Mutex<HashMap<String, CodeEntry>>,
    pub server_shapes: bool,
    pub ttl_ms: i64,
    pub ids: IdGen,
    /// Set by a state import: calls that were under way are sent again on the next request.
    pub redispatch: std::sync::atomic::AtomicBool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CodeEntry {
    pub user: String,
    pub last_used_ms: Millis,
    /// Scenario codes never expire.
    pub fixed: bool,
}

#[derive(Debug)]
pub struct FlowRt {
    pub app: String,
    pub name: String,
    pub api_path: String,
    /// 32 hex characters, as the product's flow uuids.
    pub uuid: String,
    pub api: bool,
    pub fields: Vec<OmFieldDef>,
    pub flow: Flow,
    pub tickets: Mutex<Tickets>,
}

#[derive(Debug, Default)]
pub struct Tickets {
    pub counters: Counters,
    /// Boxed, so the list growing under creates moves pointers, not tickets (a doubling of 100 000
    /// tickets stalled every request for tens of milliseconds).
    #[allow(clippy::vec_box)]
    pub list: Vec<Box<Ticket>>,
}

/// Per-flow sequences: ticket numbers, row ids (`data_id`) and task ids.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct Counters {
    pub next_data_no: u64,
    pub next_row: u64,
    pub next_task: u64,
}

impl Counters {
    pub fn new_data_no(&mut self) -> u64 {
        self.next_data_no += 1;
        self.next_data_no
    }
}

impl IdSource for Counters {
    fn token_id(&mut self) -> u64 {
        self.next_row += 1;
        self.next_row
    }
    fn task_id(&mut self) -> String {
        self.next_task += 1;
        self.next_task.to_string()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileRef {
    pub id: String,
    pub file_name: String,
    pub size: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Row {
    pub id: u64,
    pub history: bool,
    pub closed: bool,
    pub stop_uuid: String,
    pub stop_chart_type: String,
    pub stop_chart_text: String,
    pub createtime: Millis,
    pub updatetime: Millis,
    pub stoptime: Option<Millis>,
    pub create_user: String,
    pub update_user: String,
    /// The ticket's data when the row was written. Rows written by one action share one snapshot.
    pub data: Arc<Map<String, Value>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Ticket {
    /// `None` while the start node's verification is pending.
    pub data_no: Option<u64>,
    pub instance: Instance,
    pub rows: Vec<Row>,
    pub files: Vec<FileRef>,
    pub create_user: String,
    /// `data_id`s of call nodes whose API call is under way.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub calls: Vec<u64>,
}

impl Tickets {
    pub fn by_no(&self, no: u64) -> Option<&Ticket> {
        self.list.iter().find(|t| t.data_no == Some(no)).map(|t| &**t)
    }

    /// The ticket with an open row `data_id`.
    pub fn index_of_open_row(&self, data_id: u64) -> Option<usize> {
        self.list.iter().position(|t| t.instance.tokens.iter().any(|k| k.id == data_id))
    }
}

impl Ticket {
    /// Brings rows in line with the instance after an action: positions that ended become history
    /// (or the closing row when the ticket ended), new positions open new rows.
    pub fn sync_rows(&mut self, flow: &Flow, actor: &str, now: Millis) {
        let active = self.instance.is_active();
        let open: Vec<(u64, usize)> = self.instance.tokens.iter().map(|t| (t.id, t.node)).collect();
        let mut left = Vec::new();
        let data = &self.instance.data;
        // Rows written now share one snapshot, and share the newest row's when the data did not
        // change since it was written (a create: the start row already holds it).
        let mut snapshot: Option<Arc<Map<String, Value>>> = self.rows.last().map(|r| r.data.clone()).filter(|d| **d == *data);
        let mut snapshot = move || snapshot.get_or_insert_with(|| Arc::new(data.clone())).clone();
        for (i, row) in self.rows.iter_mut().enumerate() {
            if !row.history && !row.closed && !open.iter().any(|(id, _)| *id == row.id) {
                row.history = true;
                row.updatetime = now;
                row.update_user = actor.to_owned();
                row.data = snapshot();
                left.push(i);
            }
        }
        if !active {
            if let Some(&last) = left.last() {
                let row = &mut self.rows[last];
                row.history = false;
                row.closed = true;
                row.stoptime = Some(now);
            }
        }
        for (id, node) in open {
            if self.rows.iter().any(|r| r.id == id) {
                continue;
            }
            let n = &flow.nodes[node];
            self.rows.push(Row {
                id,
                history: false,
                closed: false,
                stop_uuid: n.id.clone(),
                stop_chart_type: match n.kind {
                    NodeKind::Start => "start".into(),
                    // The product's asynchronous code point.
                    NodeKind::Call => "python".into(),
                    _ => "form".into(),
                },
                stop_chart_text: n.name.clone(),
                createtime: now,
                updatetime: now,
                stoptime: Some(now),
                create_user: self.create_user.clone(),
                update_user: actor.to_owned(),
                data: snapshot(),
            });
        }
    }
}
