//! Data push (数据推送): what Jiandaoyun posts to a form's receiver when a record changes.
//!
//! As the Webhook development guide (hc.jiandaoyun.com/open/11507) documents: a JSON `POST` to the
//! form's URL with `?timestamp=<seconds>&nonce=<random>`, headers `X-JDY-DeliverId` (unique per push,
//! for de-duplication) and `X-JDY-Signature` = sha1 hex of `{nonce}:{payload}:{secret}:{timestamp}`
//! over the exact body; the body is `{"op", "data"}` with the record in its read shape (plus
//! `formName`; `deleter`/`deleteTime` on removal). The receiver must answer 2xx within 2 seconds; a
//! push is retried at most 5 times; after 100 failures in a row the form's push is switched off.
//!
//! Triggers follow the platform: changes made in the UI (`POST /__emu/act`) and workflow moves push;
//! API writes do not, unless the scenario sets `api_writes_push`; batch operations never do.

use serde_json::Value;
use sha1::{Digest, Sha1};

use super::call::Call;
use super::model::Entry;
use super::model::Stored;
use crate::core::clock::Millis;
use crate::core::outbound::{Message, OutRequest, RetryPolicy};

/// The record events a push may carry.
pub const DATA_EVENTS: &[&str] = &["data_create", "data_update", "data_remove", "data_recover"];

/// Documented: 2 s to answer, at most 5 retries, switched off after 100 failures in a row. The waits
/// between retries are not documented; these are the emulator's.
pub const POLICY: RetryPolicy =
    RetryPolicy { timeout_ms: 2_000, retry_after_ms: &[30_000, 60_000, 300_000, 600_000, 1_800_000], disable_after_failures: Some(100) };

/// A form's push settings.
#[derive(Debug, Clone)]
pub struct Push {
    pub url: String,
    pub secret: Option<String>,
    pub events: Vec<String>,
}

/// sha1 hex of `{nonce}:{payload}:{secret}:{timestamp}`, as the guide's Python example computes it.
pub fn signature(nonce: &str, payload: &str, secret: &str, timestamp: &str) -> String {
    let mut h = Sha1::new();
    h.update(format!("{nonce}:{payload}:{secret}:{timestamp}").as_bytes());
    format!("{:x}", h.finalize())
}

/// Whether this call's changes push: UI actions always, API writes only with `api_writes_push`.
pub fn pushes(call: &Call) -> bool {
    call.actor.is_some() || call.st.api_writes_push
}

/// Queues the push of `op` for a record of `entry` when the form pushes that event. The body is
/// spliced from the record's cached JSON (no value tree is built on the request path):
/// `{"op":…,"data":{<record>,"formName":…,<extra>}}`.
pub fn record_event(call: &Call, entry: &Entry, op: &str, record: &Stored, extra: &[(&str, Value)]) {
    let Some(push) = &entry.push else { return };
    if !push.events.iter().any(|e| e == op) {
        return;
    }
    let mut body = Vec::with_capacity(record.json_len_or(1024) + 96);
    body.extend_from_slice(b"{\"op\":");
    let _ = serde_json::to_writer(&mut body, op);
    body.extend_from_slice(b",\"data\":");
    record.write_json(&mut body);
    if body.last() == Some(&b'}') {
        body.pop();
    }
    let fields = std::iter::once(("formName", Value::String(entry.name.clone()))).chain(extra.iter().map(|(k, v)| (*k, v.clone())));
    for (k, v) in fields {
        if body.last() != Some(&b'{') {
            body.push(b',');
        }
        let _ = serde_json::to_writer(&mut body, k);
        body.push(b':');
        let _ = serde_json::to_writer(&mut body, &v);
    }
    body.extend_from_slice(b"}}");
    send(call, entry, push, op, String::from_utf8(body).unwrap_or_default(), call.now());
}

fn send(call: &Call, entry: &Entry, push: &Push, op: &str, payload: String, now: Millis) {
    let timestamp = (now / 1000).to_string();
    let nonce = format!("{:06x}", call.st.push_ids.below(0x100_0000));
    let sep = if push.url.contains('?') { '&' } else { '?' };
    let url = format!("{}{sep}timestamp={timestamp}&nonce={nonce}", push.url);
    let mut headers =
        vec![("content-type".to_owned(), "application/json".to_owned()), ("x-jdy-deliverid".to_owned(), call.st.push_ids.uuid())];
    if let Some(secret) = &push.secret {
        headers.push(("x-jdy-signature".to_owned(), signature(&nonce, &payload, secret, &timestamp)));
    }
    let request = OutRequest { method: "POST", url, headers, body: payload };
    call.world.outbox.enqueue(Message::new(super::PLATFORM, op, format!("push of form {}", entry.entry_id), request, POLICY));
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_guides_signature_recipe() {
        // Computed independently: printf 'n:{}:s:1' | sha1sum
        assert_eq!(super::signature("n", "{}", "s", "1"), "46bcb84f41e6b5f6cc9f23c8410688281cb9a1d3");
    }
}
