//! `generate = { count = N }` on a Yida data form: deterministic synthetic form data for load tests.
//!
//! Values are derived from the record index and the scenario seed (no RNG per field), written in the
//! write format a client would send, so they pass the same checks as seeded records.

use serde_json::{json, Map, Value};

use super::model::Component;

/// Most records one form may generate.
pub const MAX_GENERATED: usize = 10_000_000;

const WORDS: &[&str] = &["签字笔", "笔记本", "订书机", "白板笔", "文件夹", "计算器", "便签纸", "回形针", "胶带", "剪刀"];
const REGIONS: &[[&str; 3]] = &[["320000", "320200", "320213"], ["310000", "310100", "310115"], ["440000", "440300", "440305"]];

/// The form data of generated record `i`.
pub fn data(components: &[Component], i: usize, seed: u64, users: &[String], now: i64) -> Map<String, Value> {
    let n = i + (seed % 997) as usize;
    let mut out = Map::with_capacity(components.len());
    for c in components {
        let pick = |k: usize| c.options.get(k % c.options.len().max(1)).cloned().unwrap_or_else(|| format!("选项{}", k % 3 + 1));
        let v = match c.kind {
            "TextField" | "TextareaField" => json!(format!("{}{}", WORDS[n % WORDS.len()], i + 1)),
            "NumberField" => json!((n * 37) % 1000),
            "RateField" => json!(n % 5 + 1),
            "RadioField" | "SelectField" => json!(pick(n)),
            "CheckboxField" | "MultiSelectField" => json!([pick(n)]),
            "DateField" => json!(now - (i as i64 % 3650) * 86_400_000),
            "EmployeeField" if !users.is_empty() => json!([users[n % users.len()]]),
            "CitySelectField" => json!(REGIONS[n % REGIONS.len()]),
            "SerialNumberField" => json!(format!("SN{:08}", i + 1)),
            _ => continue,
        };
        out.insert(c.id.clone(), v);
    }
    out
}
