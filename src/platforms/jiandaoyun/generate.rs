//! `generate = { count = N }`: deterministic synthetic records for load tests and demos.
//!
//! Values are derived from the record index and the scenario seed (no RNG per field), so a million
//! records build fast and identically on every run.

use serde_json::{json, Map, Value};

use super::model::{Entry, Stored, WidgetType};
use super::values::{dept_json, member_json};
use crate::core::clock::iso_utc_ms;
use crate::core::directory::Directory;
use crate::core::ids::IdGen;

const WORDS: &[&str] = &["笔记本", "显示器", "键盘", "鼠标", "打印纸", "白板", "投影仪", "路由器", "耳机", "摄像头"];
const CITIES: &[(&str, &str, &str)] =
    &[("江苏省", "无锡市", "梁溪区"), ("上海市", "上海市", "浦东新区"), ("广东省", "深圳市", "南山区"), ("浙江省", "杭州市", "西湖区")];

#[allow(clippy::too_many_arguments)]
pub fn generate(
    entry: &Entry,
    ids: &IdGen,
    count: usize,
    creator: &Value,
    dir: &Directory,
    now: i64,
    seed: u64,
    out: &mut Vec<(String, Stored)>,
) {
    let users: Vec<Value> = dir.users().iter().map(member_json).collect();
    let depts: Vec<Value> = dir.departments().iter().map(dept_json).collect();
    let ts = iso_utc_ms(now);
    let salt = (seed % 997) as usize;
    for i in 0..count {
        let id = ids.object_id(now);
        let mut r = Map::with_capacity(entry.schema.widgets.len() + 8);
        r.insert("_id".into(), Value::String(id.clone()));
        r.insert("appId".into(), Value::String(entry.app_id.clone()));
        r.insert("entryId".into(), Value::String(entry.entry_id.clone()));
        r.insert("creator".into(), creator.clone());
        r.insert("updater".into(), creator.clone());
        r.insert("createTime".into(), Value::String(ts.clone()));
        r.insert("updateTime".into(), Value::String(ts.clone()));
        if entry.is_workflow() {
            r.insert("flowState".into(), json!(1));
        }
        let n = i + salt;
        for w in &entry.schema.widgets {
            let pick = |opts: &[String]| -> Value {
                opts.get(n % opts.len().max(1)).map(|s| json!(s)).unwrap_or_else(|| json!(format!("选项{}", n % 3 + 1)))
            };
            let v = match w.kind {
                WidgetType::Text | WidgetType::Textarea => json!(format!("{}{}", WORDS[n % WORDS.len()], i + 1)),
                WidgetType::Number | WidgetType::Aggregation => json!((n * 37) % 1000),
                WidgetType::Datetime => json!(iso_utc_ms(now - (i as i64) * 3_600_000)),
                WidgetType::Radiogroup | WidgetType::Combo => pick(&w.options),
                WidgetType::Checkboxgroup | WidgetType::Combocheck => json!([pick(&w.options)]),
                WidgetType::Address | WidgetType::Location => {
                    let (p, c, d) = CITIES[n % CITIES.len()];
                    json!({ "province": p, "city": c, "district": d, "detail": format!("{}号", n % 200 + 1) })
                }
                WidgetType::Phone => json!({ "phone": format!("138{:08}", n % 100_000_000), "verified": n.is_multiple_of(2) }),
                WidgetType::User => users.get(n % users.len().max(1)).cloned().unwrap_or(Value::Null),
                WidgetType::Usergroup => json!(users.get(n % users.len().max(1)).into_iter().collect::<Vec<_>>()),
                WidgetType::Dept => depts.get(n % depts.len().max(1)).cloned().unwrap_or(Value::Null),
                WidgetType::Deptgroup => json!(depts.get(n % depts.len().max(1)).into_iter().collect::<Vec<_>>()),
                WidgetType::Sn => json!(entry.next_serial(w)),
                WidgetType::Subform => json!([]),
                _ => super::values::empty_value(w.kind),
            };
            r.insert(w.key().to_owned(), v);
        }
        out.push((id, entry.interner.store(&r)));
    }
}
