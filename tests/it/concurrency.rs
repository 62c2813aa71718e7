//! 64 concurrent writers on one Jiandaoyun form: creates, batch creates and updates of the same
//! records, while a reader pages through the form. No update may be lost, no id minted twice, and
//! no page pass may return a record twice.

use crate::common;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use common::*;
use serde_json::{json, Value};

const LIST: &str = "/api/v5/app/entry/data/list";
const WRITERS: usize = 64;
const ROUNDS: usize = 12;
/// Widgets four writers share on one record: each writer owns one of them.
const OWNED: [&str; 4] = ["_widget_1600000002001", "_widget_1600000002002", "_widget_1600000002005", "_widget_1600000002003"];

fn value_for(widget: usize, writer: usize, round: usize) -> Value {
    match widget {
        0 => json!(format!("w{writer}-r{round}")),
        1 => json!(writer * 1000 + round),
        2 => json!(format!("1380{writer:03}{round:04}")),
        _ => json!(format!("2026-01-{:02}T{:02}:{:02}:00.000Z", 1 + writer % 28, round, writer % 60)),
    }
}

async fn list_page(emu: &lowcode_emu::Emulator, after: Option<&str>) -> Vec<Value> {
    let mut body = json!({ "app_id": APP2, "entry_id": ORDERS, "limit": 100 });
    if let Some(a) = after {
        body["data_id"] = json!(a);
    }
    let r = post(emu, LIST, body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["data"].as_array().cloned().unwrap_or_default()
}

/// Every record of the form, by cursor paging; asserts no record appears twice in the pass.
async fn full_pass(emu: &lowcode_emu::Emulator) -> Vec<Value> {
    let mut all: Vec<Value> = Vec::new();
    let mut seen = HashSet::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = list_page(emu, cursor.as_deref()).await;
        let Some(last) = page.last() else { break };
        cursor = last["_id"].as_str().map(str::to_owned);
        for r in page {
            let id = r["_id"].as_str().unwrap_or_default().to_owned();
            assert!(seen.insert(id.clone()), "record {id} returned twice in one paging pass");
            all.push(r);
        }
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_writers_lose_nothing_and_paging_stays_consistent() {
    let emu = Arc::new(start().await);
    let hot: Vec<String> =
        list_page(&emu, None).await.iter().take(WRITERS / OWNED.len()).map(|r| r["_id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(hot.len(), WRITERS / OWNED.len());
    let writing = Arc::new(AtomicBool::new(true));
    let reader = {
        let (emu, writing) = (emu.clone(), writing.clone());
        tokio::spawn(async move {
            let mut passes = 0;
            while writing.load(Ordering::Relaxed) || passes == 0 {
                full_pass(&emu).await;
                passes += 1;
            }
            passes
        })
    };
    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let (emu, hot) = (emu.clone(), hot.clone());
        writers.push(tokio::spawn(async move {
            let record = &hot[w / OWNED.len()];
            let widget = w % OWNED.len();
            let mut created = Vec::new();
            for round in 0..ROUNDS {
                let data = json!({ OWNED[widget]: { "value": value_for(widget, w, round) } });
                let r = post(&emu, "/api/v5/app/entry/data/update", json!({ "app_id": APP2, "entry_id": ORDERS, "data_id": record, "data": data })).await;
                assert_eq!(r.status, 200, "update: {}", r.body);
                let c = post(
                    &emu,
                    "/api/v5/app/entry/data/create",
                    json!({ "app_id": APP2, "entry_id": ORDERS, "data": { "_widget_1600000002001": { "value": format!("new-{w}-{round}") } } }),
                )
                .await;
                assert_eq!(c.status, 200, "create: {}", c.body);
                created.push(c.body["data"]["_id"].as_str().unwrap().to_owned());
                if round % 4 == 0 {
                    let rows: Vec<Value> = (0..5).map(|k| json!({ "_widget_1600000002001": { "value": format!("batch-{w}-{round}-{k}") } })).collect();
                    let b = post(&emu, "/api/v5/app/entry/data/batch_create", json!({ "app_id": APP2, "entry_id": ORDERS, "data_list": rows })).await;
                    assert_eq!(b.status, 200, "batch: {}", b.body);
                    created.extend(b.body["success_ids"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()));
                }
            }
            created
        }));
    }
    let mut minted = Vec::new();
    for w in writers {
        minted.extend(w.await.expect("writer"));
    }
    writing.store(false, Ordering::Relaxed);
    let passes = reader.await.expect("reader");
    assert!(passes >= 1);

    let per_writer = ROUNDS + ROUNDS.div_ceil(4) * 5;
    assert_eq!(minted.len(), WRITERS * per_writer);
    let unique: HashSet<&String> = minted.iter().collect();
    assert_eq!(unique.len(), minted.len(), "an id was minted twice");

    let all = full_pass(&emu).await;
    assert_eq!(all.len(), 230 + minted.len());
    let ids: HashSet<&str> = all.iter().filter_map(|r| r["_id"].as_str()).collect();
    assert!(minted.iter().all(|m| ids.contains(m.as_str())), "a created record is missing");
    // Each writer's last round is on its record: no writer's update overwrote another's widget.
    for (i, id) in hot.iter().enumerate() {
        let rec = all.iter().find(|r| r["_id"] == id.as_str()).expect("hot record");
        for (widget, key) in OWNED.iter().enumerate() {
            let w = i * OWNED.len() + widget;
            let want = value_for(widget, w, ROUNDS - 1);
            // Phone widgets answer `{phone, verified}`.
            let got = if rec[*key]["phone"].is_string() { &rec[*key]["phone"] } else { &rec[*key] };
            assert_eq!(got, &want, "record {id} widget {key}: writer {w}'s last update was lost");
        }
    }
}
