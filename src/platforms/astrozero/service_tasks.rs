//! BPM service tasks: graph nodes of type `call`, where an instance calls a REST service and goes on
//! with its answer. Reaching one parks the instance (`state` `Running`, no user task anyone can
//! complete) and queues a `POST` of `{processInstanceId, processDefID, name, task, taskName,
//! variables}` to the node's `url` through the world's outbox, off the request path. The next Astro
//! Zero request applies the answer first: a 2xx JSON object copies answer values into variables (the
//! node's `outputs`, variable ← key path) and the instance moves on; anything else breaks the instance
//! (`state` `Broken`), as a failed service task stops the real engine's instance.

use serde_json::json;

use super::model::{BpDefn, BpInstance, State};
use crate::core::outbound::{Message, OutRequest, RetryPolicy};
use crate::core::workflow::{Act, Flow, NodeKind, SYSTEM_ACTOR};
use crate::world::World;

/// One attempt, 30 s to answer; a failure breaks the instance.
pub const POLICY: RetryPolicy = RetryPolicy { timeout_ms: 30_000, retry_after_ms: &[], disable_after_failures: None };

/// The outbox event name of a service task's call.
pub const EVENT: &str = "service_task";

/// Queues the call of every service task the instance newly waits at.
pub fn dispatch(world: &World, id: &str, i: &mut BpInstance, flow: &Flow) {
    let waiting: Vec<(u64, usize)> =
        i.wf.tokens
            .iter()
            .filter(|t| flow.nodes[t.node].kind == NodeKind::Call && !i.calls.contains(&t.id))
            .map(|t| (t.id, t.node))
            .collect();
    for (token, node) in waiting {
        let n = &flow.nodes[node];
        let Some(call) = &n.call else { continue };
        let body = json!({
            "processInstanceId": id, "processDefID": i.def_id, "name": i.name, "task": n.id, "taskName": n.name, "variables": i.wf.data,
        });
        let request = OutRequest {
            method: "POST",
            url: call.url.clone(),
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string(),
        };
        let target = format!("service task {} of {}", n.id, i.name);
        world.outbox.enqueue(Message::new(super::PLATFORM, EVENT, target, request, POLICY).replying_to(format!("{id}:{token}")));
        i.calls.push(token);
    }
}

/// Applies the answers that came in since the last request, and (after a state import) sends the
/// calls instances wait for. Every Astro Zero request runs this first.
pub fn apply(world: &World, st: &State) {
    let redispatch = st.redispatch.swap(false, std::sync::atomic::Ordering::AcqRel);
    let replies = world.outbox.take_replies(super::PLATFORM);
    if !redispatch && replies.is_empty() {
        return;
    }
    let mut guard = st.runtime.lock();
    let rt = &mut *guard;
    let graph = |defs: &[BpDefn], def_id: &str| defs.iter().find(|d| d.id == def_id).and_then(|d| Flow::build(&d.graph).ok());
    if redispatch {
        for (id, i) in rt.instances.iter_mut().filter(|(_, i)| i.wf.is_active()) {
            if let Some(flow) = graph(&rt.processes, &i.def_id) {
                dispatch(world, id, i, &flow);
            }
        }
    }
    let now = world.clock.now_ms();
    for reply in replies {
        let Some((id, token)) = reply.tag.rsplit_once(':') else { continue };
        let Ok(token) = token.parse::<u64>() else { continue };
        let Some(i) = rt.instances.get_mut(id) else { continue };
        i.calls.retain(|c| *c != token);
        let Some(flow) = graph(&rt.processes, &i.def_id) else { continue };
        let Some(n) = i.wf.tokens.iter().find(|t| t.id == token).map(|t| &flow.nodes[t.node]) else { continue };
        match reply.json_answer(&format!("service task {}", n.id)) {
            Ok(answer) => {
                let outputs = n.call.as_ref().map(|c| c.outputs_of(&answer)).unwrap_or_default();
                let mut ids = super::bpm::Ids(st);
                if i.wf.complete_token(&flow, token, Act::new(SYSTEM_ACTOR, now), Some(&outputs), &mut ids).is_ok() {
                    dispatch(world, id, i, &flow);
                }
            }
            Err(why) => {
                i.wf.fail_with(why, now);
            }
        }
    }
}
