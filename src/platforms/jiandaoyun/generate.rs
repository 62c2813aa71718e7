//! `generate = { count = N }`: deterministic synthetic records for load tests and demos.
//!
//! Values are derived from the record index and the scenario seed (no RNG per field), so a million
//! records build fast and identically on every run.

use serde_json::{json, Value};

use std::sync::Arc;

use super::model::{Entry, Stored, Val, WidgetType};
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
    // Values every record (or many) holds, stored once: a record then costs its own values only.
    let share = |key: &str, v: &Value| entry.interner.share(key, v);
    let one_of = |key: &str, list: &[Value], wrap: bool| -> Vec<Val> {
        list.iter().map(|v| share(key, &if wrap { json!([v]) } else { v.clone() })).collect()
    };
    let (app_id, entry_id) = (share("appId", &json!(entry.app_id)), share("entryId", &json!(entry.entry_id)));
    let creator = share("creator", creator);
    let ts = iso_utc_ms(now);
    let created = share("createTime", &json!(ts));
    let salt = (seed % 997) as usize;
    let widgets: Vec<(&str, WidgetType, Vec<Val>)> = entry
        .schema
        .widgets
        .iter()
        .map(|w| {
            let shared = match w.kind {
                WidgetType::User => one_of(w.key(), &users, false),
                WidgetType::Usergroup => one_of(w.key(), &users, true),
                WidgetType::Dept => one_of(w.key(), &depts, false),
                WidgetType::Deptgroup => one_of(w.key(), &depts, true),
                _ => Vec::new(),
            };
            (w.key(), w.kind, shared)
        })
        .collect();
    for i in 0..count {
        let id = ids.object_id(now);
        let mut cells: Vec<(&str, Val)> = Vec::with_capacity(widgets.len() + 8);
        cells.push(("_id", Val::Str(Arc::from(id.as_str()))));
        cells.push(("appId", app_id.clone()));
        cells.push(("entryId", entry_id.clone()));
        cells.push(("creator", creator.clone()));
        cells.push(("updater", creator.clone()));
        cells.push(("createTime", created.clone()));
        cells.push(("updateTime", created.clone()));
        if entry.is_workflow() {
            cells.push(("flowState", Val::Num(1.into())));
        }
        let n = i + salt;
        for (w, (key, kind, shared)) in entry.schema.widgets.iter().zip(&widgets) {
            let pick = |opts: &[String]| -> Value {
                opts.get(n % opts.len().max(1)).map(|s| json!(s)).unwrap_or_else(|| json!(format!("选项{}", n % 3 + 1)))
            };
            let v = match kind {
                WidgetType::User | WidgetType::Dept => shared.get(n % shared.len().max(1)).cloned().unwrap_or(Val::Null),
                WidgetType::Usergroup | WidgetType::Deptgroup => match shared.get(n % shared.len().max(1)) {
                    Some(v) => v.clone(),
                    None => share(key, &json!([])),
                },
                _ => share(
                    key,
                    &match kind {
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
                        WidgetType::Sn => json!(entry.next_serial(w)),
                        WidgetType::Subform => json!([]),
                        _ => super::values::empty_value(*kind),
                    },
                ),
            };
            // As a map would: a key met again keeps its first place and takes the new value.
            match cells.iter_mut().find(|(k, _)| k == key) {
                Some(cell) => cell.1 = v,
                None => cells.push((key, v)),
            }
        }
        out.push((id, entry.interner.store_cells(cells)));
    }
}
