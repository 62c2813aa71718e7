//! The web dashboard at `/__emu/ui` and the admin calls only it needs (`overview`, `collections`,
//! `records`, `tasks`). The page is three files compiled into the binary — no build step, no CDN —
//! and talks to the emulator through the admin API alone, so whatever it shows a script can read
//! too. Browsing goes through the platform contract (`collections`, `records`, `open_tasks`), so a
//! new platform gets its data and inbox pages without touching this module.
//!
//! Where this fits: docs/architecture.md.

use serde_json::{json, Value};

use crate::core::clock::iso_utc_ms;
use crate::http::Response;
use crate::platforms::{PageRequest, PLATFORMS};
use crate::shared::Shared;
use crate::world::World;

const INDEX: &str = include_str!("index.html");
const APP: &str = include_str!("app.js");
const STYLE: &str = include_str!("style.css");

/// The page's files; they hold no data, so they are served without the admin token (the page asks
/// for it and sends it with every admin call).
pub fn asset(path: &str) -> Option<Response> {
    let (body, kind) = match path.trim_end_matches('/') {
        "/__emu/ui" | "/__emu/ui/index.html" => (INDEX, "text/html; charset=utf-8"),
        "/__emu/ui/app.js" => (APP, "text/javascript; charset=utf-8"),
        "/__emu/ui/style.css" => (STYLE, "text/css; charset=utf-8"),
        _ => return None,
    };
    let mut r = Response::json_bytes(200, body.as_bytes().to_vec());
    r.content_type = kind;
    Some(r.with_header("cache-control", "no-cache"))
}

fn ok(v: Value) -> Response {
    Response::json(200, &v)
}

fn bad(status: u16, msg: impl Into<String>) -> Response {
    Response::json(status, &json!({ "error": msg.into() }))
}

fn param(query: &str, name: &str) -> Option<String> {
    form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == name).map(|(_, v)| v.into_owned()).filter(|v| !v.is_empty())
}

/// `GET /__emu/overview`: the scenario, namespaces, clock, people, and per platform its banner
/// (base URL, credentials, a request to paste) and how much it holds.
pub fn overview(shared: &Shared, world: &World, namespace: &str, base: &str) -> Response {
    let scenario = shared.scenario.read().clone();
    let mut namespaces: Vec<String> = shared.worlds.iter().map(|w| w.key().clone()).collect();
    namespaces.sort();
    let platforms: Vec<Value> = PLATFORMS
        .iter()
        .filter(|p| (p.configured)(&scenario.doc.platforms))
        .map(|p| {
            let collections = (p.collections)(world);
            json!({
                "name": p.name,
                "banner": (p.banner)(&scenario.doc.platforms).iter().map(|l| l.replace("{BASE}", base)).collect::<Vec<_>>(),
                "collections": collections.len(),
                "records": collections.iter().map(|c| c.count).sum::<usize>(),
                "delivery_events": p.delivery_events,
                "errors": (p.error_names)().iter().filter_map(|e| e.split_whitespace().next().filter(|n| !n.starts_with('<')).map(str::to_owned)).collect::<Vec<_>>(),
            })
        })
        .collect();
    let users: Vec<Value> =
        world.directory.users().into_iter().map(|u| json!({ "id": u.id, "name": u.name, "active": u.status == 1 })).collect();
    ok(json!({
        "scenario": scenario.name,
        "locale": match world.locale { crate::Locale::En => "en", _ => "zh" },
        "namespace": namespace,
        "namespaces": namespaces,
        "base": base,
        "clock": { "now": iso_utc_ms(world.clock.now_ms()), "frozen": world.clock.is_frozen() },
        "users": users,
        "platforms": platforms,
        "faults": world.faults.list().len(),
        "journal": shared.journal.count(&Default::default()),
    }))
}

/// `GET /__emu/collections[?platform=]`: what holds records, per platform.
pub fn collections(world: &World, query: &str) -> Response {
    let wanted = param(query, "platform");
    let mut out = serde_json::Map::new();
    for p in PLATFORMS.iter().filter(|p| wanted.as_deref().is_none_or(|w| w == p.name)) {
        let list = (p.collections)(world);
        if !list.is_empty() || wanted.is_some() {
            out.insert(p.name.to_owned(), json!(list));
        }
    }
    if out.is_empty() && wanted.is_some() {
        return bad(404, format!("platform: no platform {:?}", wanted.unwrap_or_default()));
    }
    ok(Value::Object(out))
}

/// `GET /__emu/records?platform=&collection=&after=&limit=&q=`: one page of a collection.
pub fn records(world: &World, query: &str) -> Response {
    let Some(name) = param(query, "platform") else { return bad(400, "platform: expected a platform name") };
    let Some(p) = PLATFORMS.iter().find(|p| p.name == name) else { return bad(404, format!("platform: no platform {name:?}")) };
    let Some(collection) = param(query, "collection") else { return bad(400, "collection: expected an id from GET /__emu/collections") };
    let limit = match param(query, "limit").map(|l| l.parse::<usize>()) {
        None => 50,
        Some(Ok(n)) if (1..=500).contains(&n) => n,
        Some(_) => return bad(400, "limit: expected 1 to 500"),
    };
    let page = PageRequest { after: param(query, "after"), limit, text: param(query, "q") };
    match (p.records)(world, &collection, &page) {
        Some(page) => ok(json!(page)),
        None => bad(404, format!("collection: {name} has no collection {collection:?}")),
    }
}

/// `GET /__emu/tasks?user=`: the person's open tasks on every platform, oldest first per platform.
pub fn tasks(world: &World, query: &str) -> Response {
    let Some(user) = param(query, "user") else { return bad(400, "user: expected a user id from [[users]]") };
    if world.directory.user(&user).is_none() {
        return bad(404, format!("user: {user:?} is not in [[users]]"));
    }
    let tasks: Vec<Value> = PLATFORMS.iter().flat_map(|p| (p.open_tasks)(world, &user)).map(|t| json!(t)).collect();
    ok(json!({ "user": user, "tasks": tasks }))
}
