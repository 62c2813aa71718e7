//! Every route's request decoding under arbitrary input: each of the emulator's routes (all four
//! platforms and their spellings) gets arbitrary JSON bodies, raw bytes, query strings and path
//! parameters, with valid credentials so decoding goes past authentication. No handler may panic;
//! every answer is a well-formed HTTP status. Handlers are called directly (no sockets) on one
//! shared demo world, so state accumulates as it would under a real client.
//!
//! `FUZZ_CASES=200000 cargo test --release --test it fuzz_routes::` runs it at scale (bench/fuzz.sh).

use std::sync::{Arc, LazyLock};

use bytes::Bytes;
use hyper::header::{HeaderName, HeaderValue};
use hyper::HeaderMap;
use lowcode_emu::http::Request;
use lowcode_emu::platforms;
use lowcode_emu::router::{Ctx, Route};
use lowcode_emu::world::World;
use lowcode_emu::Scenario;
use proptest::prelude::*;
use serde_json::{json, Value};

static WORLD: LazyLock<Arc<World>> = LazyLock::new(|| Arc::new(World::build(&Scenario::demo(), "")));
static ROUTES: LazyLock<&[Route]> = LazyLock::new(platforms::all_routes);

/// An Astro Zero token minted through the token route itself.
static AZ_TOKEN: LazyLock<String> = LazyLock::new(|| {
    let route = ROUTES.iter().find(|r| r.id == "astrozero.oauth2.token").expect("token route");
    let req =
        request(route, Vec::new(), "grant_type=client_credentials&client_id=demo-client&client_secret=demo-secret".into(), b"".to_vec());
    let resp = route.handler.run_offline(&Ctx { world: &WORLD, req: &req, route }).expect("answered");
    let body: Value = serde_json::from_slice(&resp.body.to_bytes()).expect("token JSON");
    body["access_token"].as_str().expect("token").to_owned()
});

/// A DingTalk Open API token minted through its route, so Yida's `/v1.0/` routes decode past auth.
static YIDA_TOKEN: LazyLock<String> = LazyLock::new(|| {
    let route = ROUTES.iter().find(|r| r.id == "yida.openapi.access_token").expect("token route");
    let body = json!({ "appKey": "ding-demo-key", "appSecret": "ding-demo-secret" }).to_string().into_bytes();
    let req = request(route, Vec::new(), String::new(), body);
    let resp = route.handler.run_offline(&Ctx { world: &WORLD, req: &req, route }).expect("answered");
    let body: Value = serde_json::from_slice(&resp.body.to_bytes()).expect("token JSON");
    body["accessToken"].as_str().expect("token").to_owned()
});

/// Names the decoders read, so arbitrary bodies reach past "missing parameter".
const KEYS: &[&str] = &[
    "userId",
    "formInstanceId",
    "processInstanceId",
    "formInstanceIdList",
    "updateFormDataJsonMap",
    "taskInformationList",
    "targetFieldJson",
    "searchCondition",
    "formTypeList",
    "appKey",
    "pageIndex",
    "pageNumber",
    "outResult",
    "processCode",
    "procInstanceId",
    "template",
    "templateName",
    "filename",
    "startTimeGMT",
    "endTimeGMT",
    "status",
    "activityId",
    "as",
    "platform",
    "app_id",
    "entry_id",
    "data_id",
    "data",
    "data_list",
    "data_ids",
    "filter",
    "cond",
    "rel",
    "field",
    "method",
    "value",
    "limit",
    "fields",
    "transaction_id",
    "is_start_workflow",
    "formUuid",
    "appType",
    "formDataJson",
    "searchFieldJson",
    "currentPage",
    "pageSize",
    "security",
    "omflow_restapi",
    "action",
    "formdata",
    "data_no",
    "records",
    "condition",
    "conditions",
    "conjunction",
    "operator",
    "options",
    "orderby",
    "setValue",
    "name",
    "label",
    "variables",
    "steps",
    "graph",
    "nodes",
    "edges",
    "shareType",
    "key",
    "keys",
    "picklistValues",
    "objects",
    "scheduleMode",
    "instance_id",
    "task_id",
    "username",
    "dept_no",
];
const WORDS: &[&str] = &[
    "6566f8a1c2e4b10a3c7d0001",
    "6566f8a1c2e4b10a3c7d0101",
    "APP_DEMO0000000000000001",
    "FORM-DEMO00000000000000000000000000000001",
    "demo__Supplier__CST",
    "demo__code__CST",
    "demo__RegisterSupplier",
    "demo__creditCheck",
    "demo__SupplierOnboarding",
    "eq",
    "ne",
    "gt",
    "in",
    "range",
    "empty",
    "and",
    "or",
    "AND",
    "OR",
    "create",
    "update",
    "suspend",
    "terminate",
    "omflow-demo-security",
    "incident",
    "zhangsan",
    "lisi",
    "APP_DEMO0000000000000001",
    "FORM-DEMO00000000000000000000000000000001",
    "TPROC--DEMO00000000000000000000000000000002",
    "AGREE",
    "jiandaoyun",
    "6566f8a1c2e4b10a3c7d0101",
    "_widget_1600000000001",
    "2026-01-01",
    "",
];

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        ".{0,12}".prop_map(Value::String),
        prop::sample::select(WORDS).prop_map(|s| json!(s)),
    ];
    leaf.prop_recursive(4, 40, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(prop_oneof![prop::sample::select(KEYS).prop_map(String::from), "[a-z]{1,4}"], inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn arb_body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => prop::collection::btree_map(prop::sample::select(KEYS).prop_map(String::from), arb_json(), 0..6)
            .prop_map(|m| serde_json::to_vec(&Value::Object(m.into_iter().collect())).unwrap_or_default()),
        2 => arb_json().prop_map(|v| serde_json::to_vec(&v).unwrap_or_default()),
        1 => prop::collection::vec(any::<u8>(), 0..64),
    ]
}

fn arb_query() -> impl Strategy<Value = String> {
    prop::collection::vec((prop::sample::select(KEYS), prop_oneof![prop::sample::select(WORDS).prop_map(String::from), ".{0,8}"]), 0..4)
        .prop_map(|pairs| form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish())
}

fn request(route: &Route, params: Vec<(&'static str, String)>, query: String, body: Vec<u8>) -> Request {
    let mut headers = HeaderMap::new();
    let mut set = |k: &'static str, v: &str| {
        if let Ok(v) = HeaderValue::from_str(v) {
            headers.insert(HeaderName::from_static(k), v);
        }
    };
    set("content-type", "application/json");
    set("authorization", "Bearer jdy-demo-key");
    if route.id.starts_with("astrozero.") && route.id != "astrozero.oauth2.token" {
        set("access-token", &AZ_TOKEN);
    }
    if route.id.starts_with("yida.openapi.") && route.id != "yida.openapi.access_token" {
        set("x-acs-dingtalk-access-token", &YIDA_TOKEN);
    }
    let path = route.pattern.to_owned();
    Request {
        method: route.method.clone(),
        path: path.into(),
        mount: String::new(),
        query,
        headers,
        body: Bytes::from(body),
        params,
        multipart: None,
    }
}

/// Fills a pattern's `{name}` segments: a real id from the demo or an arbitrary word.
fn params_of(route: &Route, pick: &str) -> Vec<(&'static str, String)> {
    route
        .pattern
        .split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|name| (name, pick.to_owned()))
        .collect()
}

fn cases() -> u32 {
    std::env::var("FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(512)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn no_route_panics_on_arbitrary_input(
        index in any::<prop::sample::Index>(),
        body in arb_body(),
        query in arb_query(),
        pick in prop_oneof![prop::sample::select(WORDS).prop_map(String::from), "[A-Za-z0-9_.\\-]{0,24}"],
    ) {
        let route = index.get(&ROUTES);
        let req = request(route, params_of(route, &pick), query, body);
        let resp = route.handler.run_offline(&Ctx { world: &WORLD, req: &req, route });
        prop_assert!(resp.is_some_and(|r| (100..600).contains(&r.status)), "{} answered no valid status", route.id);
    }

    /// `POST /__emu/act` decodes arbitrary requests for every platform without panicking: an answer,
    /// or an admin error with a 4xx/5xx status and a message.
    #[test]
    fn act_never_panics_on_arbitrary_requests(
        platform in any::<prop::sample::Index>(),
        action in prop_oneof![prop::sample::select(&["create", "update", "delete", "recover", "approve", "rollback", "transfer", "reject", "revoke"][..]).prop_map(String::from), ".{0,6}"],
        user in prop_oneof![Just("zhangsan".to_owned()), Just("lisi".to_owned()), ".{0,6}"],
        fields in prop::collection::btree_map(prop::sample::select(KEYS).prop_map(String::from), arb_json(), 0..6),
    ) {
        let def = platform.get(platforms::PLATFORMS);
        let mut req: serde_json::Map<String, Value> = fields.into_iter().collect();
        req.insert("as".into(), json!(user));
        req.insert("action".into(), json!(action));
        if let Err((status, msg)) = (def.act)(&WORLD, &req) {
            prop_assert!((400..600).contains(&status) && !msg.is_empty(), "{} act answered {status} {msg:?}", def.name);
        }
    }

    /// The dashboard's browse calls decode any query string: a page, or an admin error naming the
    /// parameter — every platform, any collection id, cursor, limit and filter text.
    #[test]
    fn browse_calls_never_panic_on_arbitrary_queries(
        platform in prop_oneof![prop::sample::select(platforms::names()).prop_map(String::from), ".{0,6}"],
        collection in prop_oneof![
            Just("6566f8a1c2e4b10a3c7d0301".to_owned()),
            Just("APP_DEMO0000000000000001/FORM-DEMO00000000000000000000000000000001".to_owned()),
            Just("demo__Supplier__CST".to_owned()),
            Just("incident".to_owned()),
            ".{0,12}",
        ],
        after in prop::option::of(".{0,30}"),
        limit in prop::option::of(prop_oneof!["[0-9]{1,4}", ".{0,4}"]),
        text in prop::option::of(".{0,8}"),
        user in prop_oneof![Just("lisi".to_owned()), ".{0,6}"],
    ) {
        let mut q = form_urlencoded::Serializer::new(String::new());
        q.append_pair("platform", &platform).append_pair("collection", &collection);
        for (k, v) in [("after", &after), ("limit", &limit), ("q", &text)] {
            if let Some(v) = v {
                q.append_pair(k, v);
            }
        }
        let query = q.finish();
        for resp in [
            lowcode_emu::dashboard::records(&WORLD, &query),
            lowcode_emu::dashboard::collections(&WORLD, &query),
            lowcode_emu::dashboard::tasks(&WORLD, &format!("user={user}")),
        ] {
            prop_assert!([200, 400, 404].contains(&resp.status), "{query} answered {}", resp.status);
            prop_assert!(serde_json::from_slice::<Value>(&resp.body.to_bytes()).is_ok());
        }
    }
}

#[test]
fn every_route_is_reached() {
    // Each route once with an empty object body: a quick check that the table is callable at all.
    for route in ROUTES.iter() {
        let req = request(route, params_of(route, "x"), String::new(), b"{}".to_vec());
        let resp = route.handler.run_offline(&Ctx { world: &WORLD, req: &req, route });
        assert!(resp.is_some_and(|r| (100..600).contains(&r.status)), "{}", route.id);
    }
}
