//! `generate = { count = N }` on an Astro Zero object: deterministic synthetic records for load tests.
//!
//! Values follow each field's type and are derived from the record index and the scenario seed (no RNG
//! per field); text carries the index, so unique fields stay unique. Records are stored cell by cell,
//! as [`super::data::new_record`] would store the same values, without building a map per record:
//! what every record shares (its creator, the time, the empty system fields) is made once, so a
//! million records load in a few seconds.

use std::sync::Arc;

use chrono::{Datelike, Timelike};
use serde_json::{json, Value};

use super::data::{PersonKeys, CREATED_BY, LAST_MODIFIED_BY, OWNER};
use super::model::{user_id, Obj, State, Val};

/// Most records one object may generate.
pub const MAX_GENERATED: usize = 10_000_000;

const WORDS: &[&str] = &["供应商", "设备", "合同", "项目", "客户", "仓库", "订单", "发票", "物料", "工单"];
/// Generated dates step back one day per record over this many days.
const DAYS: usize = 3650;

/// Stores `count` records in `obj`, created by `user` at `now`. A record whose required field the
/// generator cannot fill (a select without options) is left out, as a create without that field is
/// refused. Records go into the collection as they are made (no list of a million pending records).
pub fn fill(st: &State, obj: &Obj, count: usize, seed: u64, user: &str, now: i64) {
    let fields = obj.fields.read();
    let share = |key: &str, v: Value| obj.interner.share(key, &v);
    // System cells every record holds alike, in `new_record`'s order after `id` and `name`.
    let time = share("createdDate", json!(super::data::time_text(now)));
    let person = |[id_key, type_key, name_key]: PersonKeys| {
        [
            (id_key, share(id_key, json!(user_id(user)))),
            (type_key, share(type_key, json!("User"))),
            (name_key, share(name_key, json!(user))),
        ]
    };
    let mut system: Vec<(&str, Val)> = Vec::with_capacity(14);
    system.extend(person(OWNER));
    system.extend(person(CREATED_BY));
    system.push(("createdDate", time.clone()));
    system.extend(person(LAST_MODIFIED_BY));
    system.push(("lastModifiedDate", time));
    system.push(("currencyIsoCode", share("currencyIsoCode", json!(""))));
    system.push(("installedPackage", Val::Null));
    // Dates (and date-times) step back a day per record, DAYS of them: printed once each.
    let wants = |t: &str| fields.iter().any(|f| f.data_type == t);
    let days = |print: &dyn Fn(chrono::DateTime<chrono::Utc>) -> String| -> Vec<Val> {
        (0..DAYS as i64)
            .map(|k| print(chrono::DateTime::from_timestamp_millis(now - k * 86_400_000).unwrap_or_default()))
            .map(|s| Val::Str(Arc::from(s)))
            .collect()
    };
    let ymd = |d: chrono::DateTime<chrono::Utc>| format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day());
    let dates = if wants("date") { days(&ymd) } else { Vec::new() };
    let times =
        if wants("datetime") { days(&|d| format!("{} {:02}:{:02}:{:02}", ymd(d), d.hour(), d.minute(), d.second())) } else { Vec::new() };
    let options: Vec<Vec<Val>> = fields.iter().map(|f| f.options.iter().map(|o| share(&f.name, json!(o))).collect()).collect();
    let salt = (seed % 997) as usize;
    let text = |s: String| Val::Str(Arc::from(s));
    let made = (0..count).filter_map(|i| {
        let n = i + salt;
        let word = WORDS[n % WORDS.len()];
        let id = st.new_id(&obj.key_prefix);
        let mut cells: Vec<(&str, Val)> = Vec::with_capacity(2 + system.len() + fields.len());
        cells.push(("id", text(id.clone())));
        cells.push(("name", text(format!("{word}{}", i + 1))));
        cells.extend(system.iter().cloned());
        for (f, options) in fields.iter().zip(&options) {
            let v = match f.data_type.as_str() {
                "text" | "textarea" | "encryptedtext" => text(format!("{word}-{:07}", i + 1)),
                "number" | "currency" | "percent" => Val::Num(((n * 37) % 100_000).into()),
                "date" => dates[i % DAYS].clone(),
                "datetime" => times[i % DAYS].clone(),
                "checkbox" => Val::Bool(n.is_multiple_of(2)),
                "email" => text(format!("user{}@example.com", i + 1)),
                "phone" => text(format!("138{:08}", i % 100_000_000)),
                "url" => text(format!("https://example.com/{}", i + 1)),
                "singleselect" | "multiselect" if !options.is_empty() => options[n % options.len()].clone(),
                _ if f.required => return None,
                _ => Val::Null,
            };
            cells.push((&f.name, v));
        }
        Some((id, obj.interner.store_cells(cells)))
    });
    // Keyed by each record's own id text: one copy of it per record, not two.
    obj.records.insert_many(made.map(|(id, s)| (s.shared_str("id").unwrap_or_else(|| Arc::from(id)), s)));
}

#[cfg(test)]
mod tests {
    use serde_json::{Map, Value};

    use super::super::data::new_record;

    const SCENARIO: &str = r#"
name = "gen"
[[users]]
id = "maker"
name = "制作人"
[astrozero]
namespace = "ns"
[[astrozero.objects]]
name = "ns__All__CST"
generate = { count = 4000 }
fields = [
  { name = "ns__text__CST", type = "Text", unique = true },
  { name = "ns__area__CST", type = "TextArea" },
  { name = "ns__secret__CST", type = "EncryptedText" },
  { name = "ns__num__CST", type = "Number" },
  { name = "ns__money__CST", type = "Currency" },
  { name = "ns__pct__CST", type = "Percent" },
  { name = "ns__day__CST", type = "Date" },
  { name = "ns__at__CST", type = "DateTime" },
  { name = "ns__ok__CST", type = "Checkbox" },
  { name = "ns__mail__CST", type = "Email" },
  { name = "ns__tel__CST", type = "Phone" },
  { name = "ns__link__CST", type = "URL" },
  { name = "ns__one__CST", type = "SingleSelect", options = ["甲", "乙", "丙"] },
  { name = "ns__many__CST", type = "MultiSelect", options = ["x", "y"] },
  { name = "ns__free__CST", type = "SingleSelect" },
]
"#;

    /// A generated record is what a create of its own name and field values stores: same keys in the
    /// same order, same values, the creator and the clock's time in the system fields.
    #[test]
    fn a_generated_record_is_what_a_create_of_its_values_stores() {
        let scenario = crate::Scenario::from_toml_str(SCENARIO, "gen.toml").unwrap();
        let dir = crate::world::build_directory(&scenario.doc);
        let now = 1_767_574_800_123;
        let st = super::super::scenario::build_state(&scenario, &dir, now).unwrap();
        let obj = st.objects.read().iter().find(|o| o.name == "ns__All__CST").cloned().unwrap();
        assert_eq!(obj.records.len(), 4000);
        let fields: Vec<String> = obj.fields.read().iter().map(|f| f.name.clone()).collect();
        for stored in obj.records.snapshot() {
            let id = stored.str("id").unwrap_or_default().to_owned();
            assert!(obj.records.get(&id).is_some_and(|s| std::sync::Arc::ptr_eq(&s, &stored)), "stored under its id");
            let given: Map<String, Value> = std::iter::once("name".to_owned())
                .chain(fields.iter().cloned())
                .filter_map(|k| Some((k.clone(), stored.value(&k).filter(|v| !v.is_null())?.into_owned())))
                .collect();
            let made = new_record(&st, &obj, &given, "maker", now).unwrap();
            let stored_map = stored.to_record();
            assert_eq!(stored_map.keys().collect::<Vec<_>>(), made.keys().collect::<Vec<_>>(), "{id}");
            for (k, v) in &made {
                if k != "id" {
                    assert_eq!(&stored_map[k], v, "{id} {k}");
                }
            }
        }
    }

    /// A required field the generator cannot fill leaves every record out, as a create would be refused.
    #[test]
    fn a_required_field_without_values_generates_nothing() {
        let toml = SCENARIO.replace(r#"type = "SingleSelect" },"#, r#"type = "SingleSelect", required = true },"#);
        let scenario = crate::Scenario::from_toml_str(&toml, "gen.toml").unwrap();
        let dir = crate::world::build_directory(&scenario.doc);
        let st = super::super::scenario::build_state(&scenario, &dir, 0).unwrap();
        let obj = st.objects.read().iter().find(|o| o.name == "ns__All__CST").cloned().unwrap();
        assert_eq!(obj.records.len(), 0);
    }
}
