//! Astro Zero's state: OAuth clients and tokens, object definitions and their records.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::core::clock::Millis;
use crate::core::ids::IdGen;
use crate::core::store::Collection;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Field {
    pub id: String,
    pub name: String,
    pub label: String,
    /// `text`, `textarea`, `number`, `percent`, `currency`, `phone`, `email`, `url`, `date`, `datetime`,
    /// `checkbox`, `singleselect`, `multiselect`, `encryptedtext`.
    pub data_type: String,
    pub required: bool,
    pub unique: bool,
    /// Allowed values of `singleselect` / `multiselect`.
    pub options: Vec<String>,
}

pub type Record = Map<String, Value>;

#[derive(Debug)]
pub struct Obj {
    pub id: String,
    pub name: String,
    /// Editable through the metadata API while records keep flowing, hence behind locks.
    pub label: RwLock<String>,
    pub description: RwLock<String>,
    pub key_prefix: String,
    pub custom: bool,
    pub created_ms: Millis,
    pub fields: RwLock<Vec<Field>>,
    pub records: Collection<Record>,
    /// Serialises writes that check uniqueness.
    pub write_lock: Mutex<()>,
}

impl Obj {
    pub fn field(&self, name: &str) -> Option<Field> {
        self.fields.read().iter().find(|f| f.name.eq_ignore_ascii_case(name)).cloned()
    }
}

#[derive(Debug, Clone)]
pub struct Client {
    pub secret: String,
    pub user: String,
}

#[derive(Debug)]
pub struct State {
    pub namespace: String,
    pub clients: HashMap<String, Client>,
    /// token → (expiry, user)
    pub tokens: Mutex<HashMap<String, (Millis, String)>>,
    pub token_ttl_s: i64,
    pub rate_limit: Option<u32>,
    pub rate: crate::core::ratelimit::RateWindows,
    pub objects: RwLock<Vec<Arc<Obj>>>,
    pub ids: IdGen,
    pub counter: Mutex<u64>,
}

const B62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

impl State {
    /// 20-character ids: a 4-character type prefix, `000000`, then 10 base-62 digits counting up, so
    /// ids sort by creation.
    pub fn new_id(&self, prefix: &str) -> String {
        let mut n = {
            let mut c = self.counter.lock();
            *c += 1;
            *c
        };
        let mut digits = [b'0'; 10];
        for d in digits.iter_mut().rev() {
            *d = B62[(n % 62) as usize];
            n /= 62;
        }
        format!("{prefix:0<4}000000{}", String::from_utf8_lossy(&digits))
    }

    pub fn object(&self, name_or_id: &str) -> Option<Arc<Obj>> {
        self.objects.read().iter().find(|o| o.name.eq_ignore_ascii_case(name_or_id) || o.id == name_or_id).cloned()
    }

    /// The user of a valid token (None when missing, unknown or expired).
    pub fn token_user(&self, token: &str, now: Millis) -> Option<String> {
        self.tokens.lock().get(token).filter(|(exp, _)| *exp > now).map(|(_, u)| u.clone())
    }
}

/// A user's 20-character id in Astro Zero's format (`10gd…`), stable per user name.
pub fn user_id(user: &str) -> String {
    let h = crate::core::ids::fnv1a(user.as_bytes());
    let mut n = h;
    let mut s = String::from("10gd000000");
    for _ in 0..10 {
        s.push(B62[(n % 62) as usize] as char);
        n /= 62;
    }
    s
}
