//! The Yida part of a state snapshot: id generator, counter, and every form's instances (form data and
//! process instances), by app code and form uuid. Apps and forms themselves come from the scenario.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::model::{FormInstance, State};
use crate::core::ids::IdGenState;
use crate::state::{id_gen, parse, StateError};

#[derive(Serialize, Deserialize)]
struct Snap {
    ids: IdGenState,
    counter: u64,
    /// Form instances by app code, then form uuid.
    #[allow(clippy::vec_box)] // a form's list as it is held (see `model::Instances`); serialised as plain instances
    apps: BTreeMap<String, BTreeMap<String, Vec<Box<FormInstance>>>>,
}

pub fn export(st: &State) -> Value {
    let snap = Snap {
        ids: st.ids.state(),
        counter: *st.counter.lock(),
        apps: st
            .apps
            .iter()
            .map(|(code, app)| (code.clone(), app.forms.iter().map(|f| (f.form_uuid.clone(), f.instances.lock().clone())).collect()))
            .collect(),
    };
    serde_json::to_value(snap).unwrap_or(Value::Null)
}

pub fn import(st: &mut State, value: Value) -> Result<(), StateError> {
    let ys: Snap = parse(super::PLATFORM, value)?;
    st.ids = id_gen(&ys.ids, "yida.ids")?;
    *st.counter.lock() = ys.counter;
    for (code, forms) in ys.apps {
        for (uuid, instances) in forms {
            let form =
                st.form(&code, &uuid).ok_or_else(|| StateError::mismatch(format!("yida form {uuid} of {code} is not in the scenario")))?;
            **form.instances.lock() = instances;
            form.reshape();
        }
    }
    Ok(())
}
