//! `generate = { count = N }` on an Astro Zero object: deterministic synthetic records for load tests.
//!
//! Values follow each field's type and are derived from the record index and the scenario seed (no RNG
//! per field); text carries the index, so unique fields stay unique.

use chrono::{Datelike, Timelike};
use serde_json::{json, Map, Value};

use super::model::Obj;

/// Most records one object may generate.
pub const MAX_GENERATED: usize = 10_000_000;

const WORDS: &[&str] = &["供应商", "设备", "合同", "项目", "客户", "仓库", "订单", "发票", "物料", "工单"];

/// The values of generated record `i` (field name → value), checked like any record on the way in.
pub fn values(obj: &Obj, i: usize, seed: u64, now: i64) -> Map<String, Value> {
    let n = i + (seed % 997) as usize;
    let fields = obj.fields.read();
    let mut out = Map::with_capacity(1 + fields.len());
    out.insert("name".into(), json!(format!("{}{}", WORDS[n % WORDS.len()], i + 1)));
    let day = chrono::DateTime::from_timestamp_millis(now - (i as i64 % 3650) * 86_400_000).unwrap_or_default();
    // What `%Y-%m-%d` prints for these years, without parsing a format per record.
    let date = format!("{:04}-{:02}-{:02}", day.year(), day.month(), day.day());
    for f in fields.iter() {
        let v = match f.data_type.as_str() {
            "text" | "textarea" | "encryptedtext" => json!(format!("{}-{:07}", WORDS[n % WORDS.len()], i + 1)),
            "number" | "currency" | "percent" => json!((n * 37) % 100_000),
            "date" => json!(date),
            "datetime" => json!(format!("{date} {:02}:{:02}:{:02}", day.hour(), day.minute(), day.second())),
            "checkbox" => json!(n.is_multiple_of(2)),
            "email" => json!(format!("user{}@example.com", i + 1)),
            "phone" => json!(format!("138{:08}", i % 100_000_000)),
            "url" => json!(format!("https://example.com/{}", i + 1)),
            "singleselect" | "multiselect" if !f.options.is_empty() => json!(f.options[n % f.options.len()]),
            _ => continue,
        };
        out.insert(f.name.clone(), v);
    }
    out
}
