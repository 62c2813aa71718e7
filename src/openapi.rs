//! The admin API as an OpenAPI 3.1 document: served at `GET /__emu/openapi.json` and printed by
//! `lowcode-emu openapi`. Built from one table of endpoints, which a test compares with the admin
//! dispatcher in both directions (every route documented, every documented route answered).

use serde_json::{json, Map, Value};

/// A query parameter: name, JSON type, what it does.
type Param = (&'static str, &'static str, &'static str);

/// One admin endpoint: method, path (OpenAPI template), summary, query parameters, request body
/// (`None`, `"json"` an object, `"toml"` TOML or JSON text), the success status.
pub struct Endpoint {
    pub method: &'static str,
    pub path: &'static str,
    pub summary: &'static str,
    pub query: &'static [Param],
    pub body: Option<&'static str>,
    pub status: u16,
}

/// The journal listing's parameters: its filters, then `limit`.
const JOURNAL_LISTING: &[Param] = &[
    ("platform", "string", "only this platform's requests"),
    ("route", "string", "only this route id (GET /__emu/routes)"),
    ("namespace", "string", "only this namespace (x-emu-namespace narrows to it too)"),
    ("status", "integer", "only answers with this HTTP status"),
    ("since", "string", "entries after this entry id, or after this RFC 3339 time"),
    ("secrets", "boolean", "show credentials instead of \"***\""),
    ("limit", "integer", "only the newest N matching entries"),
];

/// The journal's filters (count and delete take them; only the listing takes `limit`).
const JOURNAL_FILTERS: &[Param] = JOURNAL_LISTING.split_at(JOURNAL_LISTING.len() - 1).0;

const fn e(
    method: &'static str,
    path: &'static str,
    summary: &'static str,
    query: &'static [Param],
    body: Option<&'static str>,
    status: u16,
) -> Endpoint {
    Endpoint { method, path, summary, query, body, status }
}

/// Every admin endpoint. `admin::handle` answers each; the test `every_admin_route_is_documented`
/// keeps the two in step.
pub const ENDPOINTS: &[Endpoint] = &[
    e("GET", "/__emu/health", "Status, configured platforms and the scenario's name (no admin token needed)", &[], None, 200),
    e(
        "POST",
        "/__emu/reset",
        "Back to the scenario's start: data, ids, clock, fault rules and journal (x-emu-namespace: that namespace only)",
        &[],
        None,
        200,
    ),
    e("GET", "/__emu/routes", "Every emulated route: platform, method, path, route id", &[], None, 200),
    e("GET", "/__emu/requests", "The request journal, oldest first", JOURNAL_LISTING, None, 200),
    e("GET", "/__emu/requests/count", "How many journal entries match: {count}", JOURNAL_FILTERS, None, 200),
    e("DELETE", "/__emu/requests", "Forget matching journal entries: {deleted}", JOURNAL_FILTERS, None, 200),
    e("GET", "/__emu/state", "The namespace's whole state as JSON", &[], None, 200),
    e("PUT", "/__emu/state", "Replace the namespace's state with an exported one", &[], Some("json"), 200),
    e("POST", "/__emu/state/save", "Write every namespace to the --state-file now (409 without one)", &[], None, 200),
    e(
        "PUT",
        "/__emu/scenario",
        "Replace the scenario (TOML or JSON) and reset every namespace; 400 names the first problem's file, line and key",
        &[],
        Some("toml"),
        200,
    ),
    e("GET", "/__emu/namespaces", "Namespaces in use: {namespaces}", &[], None, 200),
    e("DELETE", "/__emu/namespaces/{name}", "Drop one namespace and its journal entries", &[], None, 200),
    e("GET", "/__emu/faults", "The namespace's fault rules with how often each matched and fired", &[], None, 200),
    e("POST", "/__emu/faults", "Add a fault rule (the keys of a [[faults]] table): 201 {id}", &[], Some("json"), 201),
    e("DELETE", "/__emu/faults", "Remove every fault rule: {deleted}", &[], None, 200),
    e("DELETE", "/__emu/faults/{id}", "Remove one fault rule", &[], None, 200),
    e(
        "GET",
        "/__emu/deliveries",
        "Outbound deliveries (pushes, callbacks, calls), oldest first",
        &[("platform", "string", "only this platform's deliveries")],
        None,
        200,
    ),
    e("DELETE", "/__emu/deliveries", "Forget finished deliveries: {deleted}", &[], None, 200),
    e(
        "POST",
        "/__emu/deliveries/wait",
        "Wait until nothing is due or in flight: {idle, pending, in_flight}",
        &[("timeout_ms", "integer", "longest wait (default 5000, at most 60000)")],
        None,
        200,
    ),
    e("POST", "/__emu/deliveries/{id}/redeliver", "Send a delivery's request again as a new delivery: 202 {id}", &[], None, 202),
    e(
        "POST",
        "/__emu/act",
        "Act as a person in a platform's UI ({platform, as, action, …}) with the UI's side effects",
        &[],
        Some("json"),
        200,
    ),
    e("GET", "/__emu/clock", "The namespace's clock: {now, frozen}", &[], None, 200),
    e("POST", "/__emu/clock", "Freeze, set, advance or release the clock ({freeze}, {set}, {advance}, {real})", &[], Some("json"), 200),
    e(
        "GET",
        "/__emu/overview",
        "What the dashboard's first page shows: scenario, namespaces, clock, people, each platform's banner and counts",
        &[],
        None,
        200,
    ),
    e(
        "GET",
        "/__emu/collections",
        "What holds records, per platform, with act templates",
        &[("platform", "string", "one platform only")],
        None,
        200,
    ),
    e(
        "GET",
        "/__emu/records",
        "One page of a collection's records in the platform's read shape: {items, next, total}",
        &[
            ("platform", "string", "the platform (required)"),
            ("collection", "string", "a collection id from GET /__emu/collections (required)"),
            ("after", "string", "the cursor: records after this id"),
            ("limit", "integer", "1 to 500, default 50"),
            ("q", "string", "only records whose JSON contains this text"),
        ],
        None,
        200,
    ),
    e(
        "GET",
        "/__emu/tasks",
        "A person's open tasks on every platform, with the act fields for each",
        &[("user", "string", "a user id from [[users]] (required)")],
        None,
        200,
    ),
    e("GET", "/__emu/openapi.json", "This document", &[], None, 200),
    e("GET", "/__emu/ui", "The dashboard page (HTML; no admin token needed)", &[], None, 200),
];

/// The OpenAPI 3.1 document of [`ENDPOINTS`].
pub fn document() -> Value {
    let mut paths = Map::new();
    for ep in ENDPOINTS {
        let item = paths.entry(ep.path).or_insert_with(|| json!({})).as_object_mut().map(std::mem::take).unwrap_or_default();
        let mut item = item;
        let mut params: Vec<Value> = ep
            .query
            .iter()
            .map(|(name, kind, what)| json!({ "name": name, "in": "query", "required": false, "description": what, "schema": { "type": kind } }))
            .collect();
        for seg in ep.path.split('/').filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}'))) {
            params.push(json!({ "name": seg, "in": "path", "required": true, "schema": { "type": "string" } }));
        }
        params.push(json!({ "$ref": "#/components/parameters/namespace" }));
        let answer = if ep.path == "/__emu/ui" {
            json!({ "description": "the page", "content": { "text/html": { "schema": { "type": "string" } } } })
        } else {
            json!({ "description": "success", "content": { "application/json": { "schema": {} } } })
        };
        let mut op = json!({
            "summary": ep.summary,
            "operationId": operation_id(ep),
            "parameters": params,
            "responses": {
                ep.status.to_string(): answer,
                "400": { "$ref": "#/components/responses/error" },
                "401": { "$ref": "#/components/responses/error" },
                "404": { "$ref": "#/components/responses/error" },
            },
        });
        match ep.body {
            Some("json") => {
                op["requestBody"] = json!({ "required": true, "content": { "application/json": { "schema": { "type": "object" } } } })
            }
            Some(_) => {
                op["requestBody"] = json!({ "required": true, "content": {
                    "application/toml": { "schema": { "type": "string" } },
                    "application/json": { "schema": { "type": "object" } },
                } })
            }
            None => {}
        }
        if matches!(ep.path, "/__emu/health" | "/__emu/ui") {
            op["security"] = json!([]);
        }
        item.insert(ep.method.to_lowercase(), op);
        paths.insert(ep.path.to_owned(), Value::Object(item));
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "lowcode-emu admin API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The control plane under /__emu/: journal, faults, clock, state, namespaces, deliveries, acting as a person, browsing. See docs/admin-api.md.",
        },
        "servers": [{ "url": "http://127.0.0.1:8080" }],
        "security": [{ "adminToken": [] }, {}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "adminToken": { "type": "apiKey", "in": "header", "name": crate::admin::ADMIN_TOKEN_HEADER, "description": "required when serve runs with --admin-token (Authorization: Bearer works too)" },
            },
            "parameters": {
                "namespace": { "name": crate::shared::NAMESPACE_HEADER, "in": "header", "required": false, "description": "the namespace (world) the call acts on", "schema": { "type": "string" } },
            },
            "responses": {
                "error": { "description": "an admin error", "content": { "application/json": { "schema": { "type": "object", "properties": { "error": { "type": "string" } }, "required": ["error"] } } } },
            },
        },
    })
}

/// `get_requests_count`, `delete_faults_id` …: method and path in one identifier.
fn operation_id(ep: &Endpoint) -> String {
    let tail: Vec<String> = ep
        .path
        .trim_start_matches("/__emu/")
        .split('/')
        .map(|s| s.trim_matches(|c| c == '{' || c == '}').replace(['.', '-'], "_"))
        .collect();
    format!("{}_{}", ep.method.to_lowercase(), tail.join("_"))
}
