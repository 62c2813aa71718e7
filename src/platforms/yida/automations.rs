//! Integration & automation (集成&自动化): a form event trigger starts a logic flow whose HTTP
//! connector calls the customer's service. The emulator models the common shape — one trigger, one
//! call — per form: `automations = [{ name, on, call = { url, method, body, headers } }]`. A record
//! created, updated or deleted (by anyone, through any API) fires the automations listening for it;
//! the call goes through the outbox, off the request path, once (the connector's own execution log
//! is the delivery journal).
//!
//! Templates in the call see `appType`, `formUuid`, `formInstanceId`, `processInstanceId`, `event`
//! (`create`/`update`/`delete`), `operator` (the acting user's id) and `formData` (the record in the
//! documented return format); without `body`, all of them are sent as a JSON object.

use serde_json::{json, Map, Value};

use super::model::{Form, FormInstance};
use super::Call;
use crate::core::http_call::HttpCall;
use crate::core::outbound::{Message, RetryPolicy};
use crate::core::template;

/// The outbox event name of an automation's call.
pub const EVENT: &str = "automation";

/// The form events an automation may listen for.
pub const TRIGGERS: &[&str] = &["create", "update", "delete"];

/// One attempt, 10 s to answer unless the call says otherwise.
pub const POLICY: RetryPolicy = RetryPolicy { timeout_ms: 10_000, retry_after_ms: &[], disable_after_failures: None };

/// One automation of a form, from the scenario.
#[derive(Debug, Clone, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AutomationDef {
    /// The automation's name: the delivery's target.
    pub name: String,
    /// The form events that start it: `create`, `update`, `delete` (default: all three).
    pub on: Option<Vec<String>>,
    /// The HTTP connector's call (its `outputs` are not used: the flow ends with the call).
    pub call: HttpCall,
}

impl AutomationDef {
    /// What a scenario check reports, as (key, message).
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if self.name.trim().is_empty() {
            out.push(("name", "expected a name, got an empty string".to_owned()));
        }
        for t in self.on.iter().flatten().filter(|t| !TRIGGERS.contains(&t.as_str())) {
            out.push(("on", format!("expected one of {}, got {t:?}", TRIGGERS.join(", "))));
        }
        if let Err(e) = self.call.check("call") {
            out.push(("call", e));
        }
        if !self.call.outputs.is_empty() {
            out.push(("call", "call.outputs: an automation ends with its call, so nothing reads its answer".to_owned()));
        }
        out
    }

    fn listens(&self, trigger: &str) -> bool {
        self.on.as_ref().is_none_or(|on| on.iter().any(|t| t == trigger))
    }
}

/// Queues the call of every automation of `form` listening for `trigger` on `inst`.
pub fn fire(call: &Call, form: &Form, inst: &FormInstance, trigger: &str) {
    if form.automations.iter().all(|a| !a.listens(trigger)) {
        return;
    }
    let vars: Map<String, Value> = json!({
        "appType": form.app_type, "formUuid": form.form_uuid, "formInstanceId": inst.form_inst_id,
        "processInstanceId": inst.process_instance_id, "event": trigger, "operator": call.user,
        "formData": super::values::render(&form.components, &inst.data, &call.reading()),
    })
    .as_object()
    .cloned()
    .unwrap_or_default();
    for a in form.automations.iter().filter(|a| a.listens(trigger)) {
        let target = format!("automation {} of {}", a.name, form.name);
        let message = match a.call.request(&vars, &template::plain, &vars) {
            Ok(request) => {
                let policy = RetryPolicy { timeout_ms: a.call.timeout_ms.unwrap_or(POLICY.timeout_ms), ..POLICY };
                Message::new(super::PLATFORM, EVENT, target, request, policy)
            }
            Err(e) => {
                // A URL template that renders to nothing callable: logged, and nothing is sent.
                tracing::warn!(automation = %a.name, "not sent: {e}");
                continue;
            }
        };
        call.world.outbox.enqueue(message);
    }
}
