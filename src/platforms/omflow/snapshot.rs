//! The OMFlow part of a state snapshot: id generator, issued security codes, and each flow's uuid,
//! counters and tickets. Flows themselves come from the scenario; a snapshot names them by `api_path`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::model::{CodeEntry, Counters, State, Ticket};
use crate::core::ids::IdGenState;
use crate::state::{id_gen, parse, StateError};

#[derive(Serialize, Deserialize)]
struct FlowSnap {
    api_path: String,
    app: String,
    name: String,
    flow_uuid: String,
    counters: Counters,
    tickets: Vec<Ticket>,
}

#[derive(Serialize, Deserialize)]
struct Snap {
    ids: IdGenState,
    codes: BTreeMap<String, CodeEntry>,
    flows: Vec<FlowSnap>,
}

pub fn export(st: &State) -> Value {
    let snap = Snap {
        ids: st.ids.state(),
        codes: st.codes.lock().iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        flows: st
            .flows
            .iter()
            .map(|f| {
                let t = f.tickets.lock();
                FlowSnap {
                    api_path: f.api_path.clone(),
                    app: f.app.clone(),
                    name: f.name.clone(),
                    flow_uuid: f.uuid.clone(),
                    counters: t.counters.clone(),
                    tickets: t.list.iter().map(|t| Ticket::clone(t)).collect(),
                }
            })
            .collect(),
    };
    serde_json::to_value(snap).unwrap_or(Value::Null)
}

pub fn import(st: &mut State, value: Value) -> Result<(), StateError> {
    let os: Snap = parse(super::PLATFORM, value)?;
    st.ids = id_gen(&os.ids, "omflow.ids")?;
    *st.codes.lock() = os.codes.into_iter().collect();
    for f in os.flows {
        let &i = st
            .by_path
            .get(&f.api_path)
            .ok_or_else(|| StateError::mismatch(format!("omflow flow {} is not in the scenario", f.api_path)))?;
        let flow = &mut st.flows[i];
        flow.uuid = f.flow_uuid;
        let mut t = flow.tickets.lock();
        t.counters = f.counters;
        t.list = f.tickets.into_iter().map(Box::new).collect();
        // The outbox is not part of the state: calls that were under way go out again.
        for ticket in t.list.iter_mut() {
            ticket.calls.clear();
        }
    }
    st.redispatch.store(true, std::sync::atomic::Ordering::Release);
    Ok(())
}
