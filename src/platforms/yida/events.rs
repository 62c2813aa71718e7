//! DingTalk event subscription (事件订阅) for Yida processes: what DingTalk posts to the app's
//! callback URL when a process instance or one of its tasks changes.
//!
//! Transport as DingTalk documents it ("回调事件消息体加解密"): `POST <url>?msg_signature=…&timestamp=…
//! &nonce=…` with `{"encrypt": "…"}`. `encrypt` = base64(AES-256-CBC(random 16 bytes + the message's
//! byte length as 4 big-endian bytes + the JSON message + the owner key)), the AES key being
//! base64(`aes_key` + "="), the IV its first 16 bytes, PKCS#7 padding to 32-byte blocks;
//! `msg_signature` = sha1 hex of the sorted concatenation of token, timestamp, nonce and encrypt.
//! The receiver must answer within 1 500 ms with the same envelope around the encrypted word
//! `success` (`{msg_signature, timeStamp, nonce, encrypt}`); anything else is a failed push.
//!
//! Events: DingTalk's approval events `bpms_instance_change` (`type` start, finish with `result`
//! agree/refuse, terminate) and `bpms_task_change` (`type` start, finish with `result`, cancel), raised
//! by every change of a Yida process instance, whether from the in-app API or the Open API.

use aes::cipher::{block_padding::NoPadding, BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use base64::Engine;
use serde_json::{json, Map, Value};
use sha1::{Digest, Sha1};

use super::model::{Form, FormInstance};
use super::Call;
use crate::core::outbound::{AnswerCheck, Message, OutRequest, RetryPolicy};
use crate::core::workflow::{Action, Instance, Status, TaskStatus};

type Enc = cbc::Encryptor<aes::Aes256>;
type Dec = cbc::Decryptor<aes::Aes256>;

/// 1 500 ms to answer (documented); three retries, the waits the emulator's.
pub const POLICY: RetryPolicy = RetryPolicy { timeout_ms: 1_500, retry_after_ms: &[10_000, 60_000, 300_000], disable_after_failures: None };

pub const EVENTS: &[&str] = &["bpms_instance_change", "bpms_task_change"];

/// The app's subscription: where events go and the keys they are sealed with.
#[derive(Debug, Clone)]
pub struct Subscription {
    pub url: String,
    pub token: String,
    /// The 32-byte AES key (`aes_key` + "=", base64-decoded).
    pub key: [u8; 32],
    /// What the plaintext ends with: the app key (corp id for company-wide callbacks).
    pub owner: String,
}

/// The AES key of a 43-character `aes_key`, if it is one.
pub fn aes_key(encoded: &str) -> Option<[u8; 32]> {
    if encoded.len() != 43 || !encoded.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    // Any 43 letters and digits are a valid key: the last one's spare bits are ignored, as DingTalk's
    // own libraries (and Python's base64) do.
    let lenient = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
    );
    let bytes = lenient.decode(format!("{encoded}=")).ok()?;
    bytes.try_into().ok()
}

/// sha1 hex of the sorted concatenation of the four values.
pub fn signature(token: &str, timestamp: &str, nonce: &str, encrypt: &str) -> String {
    let mut parts = [token, timestamp, nonce, encrypt];
    parts.sort_unstable();
    format!("{:x}", Sha1::digest(parts.concat().as_bytes()))
}

/// Seals `message` as DingTalk does; `random` is the 16-byte prefix.
pub fn encrypt(key: &[u8; 32], owner: &str, message: &str, random: &[u8; 16]) -> String {
    let mut plain = Vec::with_capacity(message.len() + owner.len() + 52);
    plain.extend_from_slice(random);
    plain.extend_from_slice(&(message.len() as u32).to_be_bytes());
    plain.extend_from_slice(message.as_bytes());
    plain.extend_from_slice(owner.as_bytes());
    let pad = 32 - plain.len() % 32;
    plain.extend(std::iter::repeat_n(pad as u8, pad));
    let len = plain.len();
    let iv: [u8; 16] = key[..16].try_into().unwrap_or([0; 16]);
    let sealed = Enc::new(key.into(), &iv.into()).encrypt_padded_mut::<NoPadding>(&mut plain, len).map(<[u8]>::to_vec).unwrap_or_default();
    base64::engine::general_purpose::STANDARD.encode(sealed)
}

/// Opens what [`encrypt`] sealed: the message, when the padding, length and owner key check out.
pub fn decrypt(key: &[u8; 32], owner: &str, encrypted: &str) -> Option<String> {
    let mut data = base64::engine::general_purpose::STANDARD.decode(encrypted.trim()).ok()?;
    if data.is_empty() || data.len() % 16 != 0 {
        return None;
    }
    let iv: [u8; 16] = key[..16].try_into().ok()?;
    let plain = Dec::new(key.into(), &iv.into()).decrypt_padded_mut::<NoPadding>(&mut data).ok()?;
    let pad = *plain.last()? as usize;
    if pad == 0 || pad > 32 || pad > plain.len() {
        return None;
    }
    let body = &plain[..plain.len() - pad];
    let len = u32::from_be_bytes(body.get(16..20)?.try_into().ok()?) as usize;
    let message = body.get(20..20 + len)?;
    (body.get(20 + len..)? == owner.as_bytes()).then(|| String::from_utf8(message.to_vec()).ok()).flatten()
}

/// Accepts only the receiver's sealed `success`, signed with the token.
fn success_check(sub: &Subscription) -> AnswerCheck {
    let sub = sub.clone();
    AnswerCheck(std::sync::Arc::new(move |body: &str| {
        let v: Value = serde_json::from_str(body).map_err(|_| "the answer is not the JSON DingTalk expects".to_owned())?;
        let field = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("");
        let (sig, ts, nonce, enc) = (field("msg_signature"), field("timeStamp"), field("nonce"), field("encrypt"));
        if sig != signature(&sub.token, ts, nonce, enc) {
            return Err("msg_signature of the answer does not match".into());
        }
        match decrypt(&sub.key, &sub.owner, enc) {
            Some(word) if word == "success" => Ok(()),
            Some(word) => Err(format!("the answer decrypts to {word:?}, not \"success\"")),
            None => Err("the answer's encrypt does not decrypt with the app's keys".into()),
        }
    }))
}

fn send(call: &Call, sub: &Subscription, event: &str, message: Map<String, Value>) {
    let message = Value::Object(message).to_string();
    let ids = &call.st.event_ids;
    let mut random = [0u8; 16];
    for b in random.iter_mut() {
        *b = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"[ids.below(62) as usize];
    }
    let encrypted = encrypt(&sub.key, &sub.owner, &message, &random);
    let timestamp = call.now().to_string();
    let nonce: String = (0..8).map(|_| char::from(b"abcdefghijklmnopqrstuvwxyz0123456789"[ids.below(36) as usize])).collect();
    let sig = signature(&sub.token, &timestamp, &nonce, &encrypted);
    let sep = if sub.url.contains('?') { '&' } else { '?' };
    let url = format!("{}{sep}msg_signature={sig}&timestamp={timestamp}&nonce={nonce}", sub.url);
    let request = OutRequest {
        method: "POST",
        url,
        headers: vec![("content-type".into(), "application/json".into())],
        body: json!({ "encrypt": encrypted }).to_string(),
    };
    call.world
        .outbox
        .enqueue(Message::new(super::PLATFORM, event, "event subscription of the app".into(), request, POLICY).checked(success_check(sub)));
}

/// Raises the events one action caused: compares the instance before and after it.
pub fn after(call: &Call, form: &Form, inst: &FormInstance, before: Option<&Instance>) {
    let (Some(sub), Some(after)) = (&call.st.subscription, inst.process.as_deref()) else { return };
    let pid = inst.process_instance_id.clone().unwrap_or_default();
    let code = form.process_code.clone().unwrap_or_default();
    let title = format!("{}发起的{}", call.world.directory.user(&inst.originator).map(|u| u.name).unwrap_or_default(), form.name);
    let base = |event: &str, kind: &str, staff: &str| {
        let mut m = Map::new();
        m.insert("EventType".into(), json!(event));
        m.insert("processInstanceId".into(), json!(pid));
        m.insert("processCode".into(), json!(code));
        m.insert("corpId".into(), json!(sub.owner));
        m.insert("createTime".into(), json!(after.created_ms));
        m.insert("title".into(), json!(title));
        m.insert("type".into(), json!(kind));
        m.insert("staffId".into(), json!(staff));
        m
    };
    if before.is_none() {
        send(call, sub, "bpms_instance_change", base("bpms_instance_change", "start", &inst.originator));
    }
    // Tasks: started (new and open), finished or cancelled (open before, not now).
    for t in after.tasks.iter().skip(1) {
        let was = before.and_then(|b| b.tasks.iter().find(|x| x.id == t.id)).map(|x| x.status);
        let kind = match (was, t.status) {
            (None, TaskStatus::Open) => "start",
            (Some(TaskStatus::Open), TaskStatus::Done) => "finish",
            (Some(TaskStatus::Open), TaskStatus::Cancelled) => "cancel",
            _ => continue,
        };
        let mut m = base("bpms_task_change", kind, &t.assignee);
        m.insert("taskId".into(), json!(t.id.parse::<u64>().unwrap_or(0)));
        if kind == "finish" {
            let result = match t.finish_action {
                Some(Action::Reject) => "refuse",
                Some(Action::Transfer) => "redirect",
                _ => "agree",
            };
            m.insert("result".into(), json!(result));
            m.insert("remark".into(), json!(t.comment.clone().unwrap_or_default()));
            m.insert("finishTime".into(), json!(t.finished_ms.unwrap_or(after.updated_ms)));
        }
        send(call, sub, "bpms_task_change", m);
    }
    let was_active = before.is_none_or(Instance::is_active);
    if was_active && !after.is_active() {
        let kind = if after.status == Status::Terminated { "terminate" } else { "finish" };
        let mut m = base("bpms_instance_change", kind, &inst.originator);
        if kind == "finish" {
            m.insert(
                "result".into(),
                json!(if after.outcome == Some(crate::core::workflow::Outcome::Rejected) { "refuse" } else { "agree" }),
            );
        }
        m.insert("finishTime".into(), json!(after.finished_ms.unwrap_or(after.updated_ms)));
        send(call, sub, "bpms_instance_change", m);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_and_open_round_trip_and_refuse_another_owner() {
        let key = aes_key("4g5j64qlyl3zvetqxz5jiocdr586fn2zvjpa8zls3ij").expect("43 characters");
        let sealed = encrypt(&key, "dingkey", "{\"EventType\":\"check_url\"}", b"0123456789abcdef");
        assert_eq!(decrypt(&key, "dingkey", &sealed).as_deref(), Some("{\"EventType\":\"check_url\"}"));
        assert_eq!(decrypt(&key, "other", &sealed), None);
        assert_eq!(decrypt(&key, "dingkey", "not base64!"), None);
        assert!(aes_key("short").is_none());
        assert_eq!(signature("b", "a", "d", "c"), format!("{:x}", Sha1::digest(b"abcd")));
    }

    /// The example DingTalk's callback documentation publishes for local debugging (token `123456`,
    /// suite key `suite4xxxxxxxxxxxxxxx`, its URL parameters and `encrypt` body): sealing its plaintext
    /// with its random prefix gives its ciphertext byte for byte, and its signature matches.
    #[test]
    fn the_documented_example_seals_and_signs_identically() {
        const ENCRYPT: &str = "1a3NBxmCFwkCJvfoQ7WhJHB+iX3qHPsc9JbaDznE1i03peOk1LaOQoRz3+nlyGNhwmwJ3vDMG+OzrHMeiZI7gTRWVdUBmfxjZ8Ej23JVYa9VrYeJ5as7XM/ZpulX8NEQis44w53h1qAgnC3PRzM7Zc/D6Ibr0rgUathB6zRHP8PYrfgnNOS9PhSBdHlegK+AGGanfwjXuQ9+0pZcy0w9lQ==";
        const PLAIN: &str = r#"{"EventType":"check_create_suite_url","Random":"LPIdSnlF","TestSuiteKey":"suite4xxxxxxxxxxxxxxx"}"#;
        let key = aes_key("4g5j64qlyl3zvetqxz5jiocdr586fn2zvjpa8zls3ij").expect("43 characters");
        assert_eq!(decrypt(&key, "suite4xxxxxxxxxxxxxxx", ENCRYPT).as_deref(), Some(PLAIN));
        assert_eq!(encrypt(&key, "suite4xxxxxxxxxxxxxxx", PLAIN, b"hU3bEfGZZewzhG5a"), ENCRYPT);
        assert_eq!(signature("123456", "1445827045067", "nEXhMP4r", ENCRYPT), "5a65ceeef9aab2d149439f82dc191dd6c5cbe2c0");
    }
}
