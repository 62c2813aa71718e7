//! API nodes: flow nodes of type `call`, where the ticket's data goes out to an external service and
//! the answer decides what happens next — the role the product's asynchronous code points (`python`
//! charts whose scripts call APIs) play in real OMFlow flows.
//!
//! Reaching a call node parks the ticket there (an open row no person can push) and queues a
//! `POST` of `{flow_uuid, api_path, data_no, data_id, node, node_name, formdata}` to the node's
//! `url` through the world's outbox, off the request path. When the answer is in, the next OMFlow
//! request applies it first: on a 2xx JSON answer the node's `outputs` copy answer values into form
//! fields and the ticket moves on (edge conditions may test them); on anything else the ticket ends
//! in error, as the product marks a failed code point (`error` on its rows).

use serde_json::json;

use super::model::{FlowRt, State, Ticket};
use crate::core::outbound::{Message, OutRequest, RetryPolicy};
use crate::core::workflow::{Act, NodeKind, SYSTEM_ACTOR};
use crate::world::World;

/// One attempt, 30 s to answer; a failure is the ticket's error, not a retry (a code point runs once).
pub const POLICY: RetryPolicy = RetryPolicy { timeout_ms: 30_000, retry_after_ms: &[], disable_after_failures: None };

/// The outbox event name of an API node's call.
pub const EVENT: &str = "api_node";

/// Queues the call of every call node the ticket newly waits at.
pub fn dispatch(world: &World, flow: &FlowRt, ticket: &mut Ticket) {
    let waiting: Vec<(u64, usize)> = ticket
        .instance
        .tokens
        .iter()
        .filter(|t| flow.flow.nodes[t.node].kind == NodeKind::Call && !ticket.calls.contains(&t.id))
        .map(|t| (t.id, t.node))
        .collect();
    for (data_id, node) in waiting {
        let n = &flow.flow.nodes[node];
        let Some(call) = &n.call else { continue };
        let body = json!({
            "flow_uuid": flow.uuid, "api_path": flow.api_path, "data_no": ticket.data_no, "data_id": data_id,
            "node": n.id, "node_name": n.name, "formdata": ticket.instance.data,
        });
        let request = OutRequest {
            method: "POST",
            url: call.url.clone(),
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string(),
        };
        let target = format!("API node {} of {}", n.id, flow.api_path);
        world
            .outbox
            .enqueue(Message::new(super::PLATFORM, EVENT, target, request, POLICY).replying_to(format!("{}:{data_id}", flow.api_path)));
        ticket.calls.push(data_id);
    }
}

/// Applies the answers that came in since the last request, and (after a state import) sends the
/// calls tickets wait for. Every OMFlow request runs this first.
pub fn apply(world: &World, st: &State) {
    if st.redispatch.swap(false, std::sync::atomic::Ordering::AcqRel) {
        for flow in &st.flows {
            let mut tickets = flow.tickets.lock();
            for t in tickets.list.iter_mut().filter(|t| t.instance.is_active()) {
                dispatch(world, flow, t);
            }
        }
    }
    for reply in world.outbox.take_replies(super::PLATFORM) {
        let Some((path, data_id)) = reply.tag.rsplit_once(':') else { continue };
        let (Some(&fi), Ok(data_id)) = (st.by_path.get(path), data_id.parse::<u64>()) else { continue };
        let flow = &st.flows[fi];
        let now = world.clock.now_ms();
        let mut guard = flow.tickets.lock();
        let tickets = &mut *guard;
        let Some(idx) = tickets.index_of_open_row(data_id) else { continue };
        let ticket = &mut tickets.list[idx];
        ticket.calls.retain(|c| *c != data_id);
        let node = ticket.instance.tokens.iter().find(|t| t.id == data_id).map(|t| t.node);
        let Some(n) = node.map(|n| &flow.flow.nodes[n]) else { continue };
        match reply.json_answer(&format!("API node {}", n.id)) {
            Ok(answer) => {
                let outputs = n.call.as_ref().map(|c| c.outputs_of(&answer)).unwrap_or_default();
                let moved =
                    ticket.instance.complete_token(&flow.flow, data_id, Act::new(SYSTEM_ACTOR, now), Some(&outputs), &mut tickets.counters);
                let ticket = &mut tickets.list[idx];
                if moved.is_err() {
                    continue;
                }
                ticket.sync_rows(&flow.flow, SYSTEM_ACTOR, now);
                dispatch(world, flow, ticket);
            }
            Err(why) => {
                ticket.instance.fail_with(why, now);
                ticket.sync_rows(&flow.flow, SYSTEM_ACTOR, now);
            }
        }
    }
}
