//! Maps (method, path) to a route: an id such as `<platform>.data.list`, its platform and its handler.
//!
//! Static paths are found with one hash lookup; patterns with `{param}` segments through a segment
//! trie, where the table's order decides between several that fit. A trailing slash is ignored on both sides so `…/get/x/` and `…/get/x` are the same route.
//!
//! Where this fits: docs/architecture.md.

use std::collections::HashMap;
use std::sync::Arc;

use hyper::Method;
use smallvec::SmallVec;

use crate::core::outbound::{Message, Reply};
use crate::http::{Request, Response};
use crate::world::World;

/// Indexes of the routes whose pattern fits a path (a handful at most).
type Fitting = SmallVec<[usize; 8]>;

/// The router's maps hold the route table only (requests never insert), so no client can make keys
/// collide: a fast hash rather than SipHash.
type Hashing = foldhash::fast::RandomState;

/// What a handler gets: the world of the caller's namespace and the read request.
pub struct Ctx<'a> {
    pub world: &'a Arc<World>,
    pub req: &'a Request,
    pub route: &'a Route,
}

/// A route's handler. Most answer at once; a few (a Flow run whose steps call a Rest service) call
/// out in the middle and go on with the answer.
#[derive(Clone)]
pub enum Handler {
    Plain(Arc<dyn Fn(&Ctx) -> Response + Send + Sync>),
    Calling(Arc<dyn Fn(&Ctx) -> Turn + Send + Sync>),
}

/// Where a calling handler stands: answered, or waiting for an outbound call's answer. The pipeline
/// sends the call through the namespace's outbox — with no lock held, so other requests go on —
/// and runs `then` with the answer.
pub enum Turn {
    Done(Response),
    Call(Callout),
}

pub struct Callout {
    pub message: Message,
    pub then: Continuation,
}

/// What a calling handler does with the answer.
pub type Continuation = Box<dyn FnOnce(&Ctx, Reply) -> Turn + Send>;

/// Outbound calls one request may make before it answers (a Flow's Rest actions); past it, the
/// request answers the platform's internal error.
pub const MAX_CALLS_PER_REQUEST: usize = 100;

impl Handler {
    /// Runs the handler without a network: every call it makes fails at once, unsent. The fuzz suite
    /// drives the continuations this way, with no runtime.
    pub fn run_offline(&self, ctx: &Ctx) -> Option<Response> {
        let mut turn = match self {
            Handler::Plain(h) => return Some(h(ctx)),
            Handler::Calling(h) => h(ctx),
        };
        for _ in 0..MAX_CALLS_PER_REQUEST {
            match turn {
                Turn::Done(resp) => return Some(resp),
                Turn::Call(c) => {
                    let reply = Reply::unsent(c.message.reply_to.clone().unwrap_or_default(), "not sent (offline)");
                    turn = (c.then)(ctx, reply);
                }
            }
        }
        None
    }
}

pub struct Route {
    pub id: &'static str,
    pub platform: &'static str,
    pub method: Method,
    pub pattern: &'static str,
    segments: Vec<Segment>,
    pub handler: Handler,
    /// File uploads get the larger `max_upload_bytes` body cap.
    pub upload: bool,
}

impl std::fmt::Debug for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} {}", self.id, self.method, self.pattern)
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Segment {
    Literal(&'static str),
    Param(&'static str),
}

impl Route {
    pub fn new(
        id: &'static str,
        platform: &'static str,
        method: Method,
        pattern: &'static str,
        handler: impl Fn(&Ctx) -> Response + Send + Sync + 'static,
    ) -> Self {
        Self::build(id, platform, method, pattern, Handler::Plain(Arc::new(handler)))
    }

    /// A route whose handler may call out before it answers (see [`Turn`]).
    pub fn calling(
        id: &'static str,
        platform: &'static str,
        method: Method,
        pattern: &'static str,
        handler: impl Fn(&Ctx) -> Turn + Send + Sync + 'static,
    ) -> Self {
        Self::build(id, platform, method, pattern, Handler::Calling(Arc::new(handler)))
    }

    fn build(id: &'static str, platform: &'static str, method: Method, pattern: &'static str, handler: Handler) -> Self {
        let segments = split(pattern)
            .map(|s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(name) => Segment::Param(name),
                None => Segment::Literal(s),
            })
            .collect();
        Self { id, platform, method, pattern, segments, handler, upload: false }
    }

    /// Marks the route as a file upload (larger body cap).
    pub fn uploads(mut self) -> Self {
        self.upload = true;
        self
    }

    fn is_static(&self) -> bool {
        self.segments.iter().all(|s| matches!(s, Segment::Literal(_)))
    }

    /// Whether the path's segments fit the pattern: same count, literals equal (what the router's
    /// trie answers; kept for its tests).
    #[cfg(test)]
    fn fits(&self, parts: &[&str]) -> bool {
        self.segments.len() == parts.len()
            && self.segments.iter().zip(parts).all(|(seg, part)| match seg {
                Segment::Literal(l) => l == part,
                Segment::Param(_) => true,
            })
    }

    /// The decoded path parameters of a path that [`Route::fits`].
    fn capture(&self, parts: &[&str]) -> Vec<(&'static str, String)> {
        self.segments
            .iter()
            .zip(parts)
            .filter_map(|(seg, part)| match seg {
                Segment::Param(name) => Some((*name, percent_decode(part))),
                Segment::Literal(_) => None,
            })
            .collect()
    }
}

fn split(path: &str) -> impl Iterator<Item = &str> {
    path.trim_matches('/').split('/').filter(|s| !s.is_empty())
}

fn normalize(path: &str) -> &str {
    let t = path.trim_end_matches('/');
    if t.is_empty() {
        "/"
    } else {
        t
    }
}

fn percent_decode(s: &str) -> String {
    if !s.contains(['%', '+']) {
        return s.to_owned();
    }
    form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| s.to_owned())
}

pub enum Match<'a> {
    Found(&'a Route, Vec<(&'static str, String)>),
    /// The path exists with other methods.
    MethodNotAllowed(&'a Route),
    NotFound,
}

/// Indexes a route table built once per process ([`crate::platforms::all_routes`]).
#[derive(Default)]
pub struct Router {
    routes: &'static [Route],
    /// Static routes by normalised path; a path may have several methods.
    exact: HashMap<String, Vec<usize>, Hashing>,
    /// Routes with parameters, by segment: a path walks the literal branch and the parameter branch of
    /// each segment, so it meets only the few routes that fit it (a table scan compared it with every
    /// route of its length: 40-odd Yida or Astro Zero routes for each call).
    dynamic: Trie,
}

/// One segment's branches; `ends` are the routes whose pattern ends here, in table order.
#[derive(Default)]
struct Trie {
    literal: HashMap<&'static str, Trie, Hashing>,
    param: Option<Box<Trie>>,
    ends: Vec<usize>,
}

impl Trie {
    fn insert(&mut self, segments: &[Segment], route: usize) {
        match segments.split_first() {
            None => self.ends.push(route),
            Some((Segment::Literal(l), rest)) => self.literal.entry(l).or_default().insert(rest, route),
            Some((Segment::Param(_), rest)) => self.param.get_or_insert_with(Box::default).insert(rest, route),
        }
    }

    /// Every route that fits `parts`, in no particular order.
    fn fitting(&self, parts: &[&str], out: &mut Fitting) {
        match parts.split_first() {
            None => out.extend_from_slice(&self.ends),
            Some((part, rest)) => {
                if let Some(t) = self.literal.get(part) {
                    t.fitting(rest, out);
                }
                if let Some(t) = &self.param {
                    t.fitting(rest, out);
                }
            }
        }
    }
}

impl Router {
    pub fn new(routes: &'static [Route]) -> Self {
        let mut r = Router { routes, ..Router::default() };
        for (i, route) in routes.iter().enumerate() {
            if route.is_static() {
                r.exact.entry(normalize(route.pattern).to_owned()).or_default().push(i);
            } else {
                r.dynamic.insert(&route.segments, i);
            }
        }
        r
    }

    pub fn routes(&self) -> &'static [Route] {
        self.routes
    }

    pub fn find(&self, method: &Method, path: &str) -> Match<'static> {
        let routes = self.routes;
        let path = normalize(path);
        let mut other_method = None;
        if let Some(candidates) = self.exact.get(path) {
            for &i in candidates {
                if routes[i].method == *method {
                    return Match::Found(&routes[i], Vec::new());
                }
                other_method.get_or_insert(&routes[i]);
            }
        }
        // On the stack for paths of usual depth: finding a route allocates nothing.
        let parts: SmallVec<[&str; 16]> = split(path).collect();
        let mut fitting = Fitting::new();
        self.dynamic.fitting(&parts, &mut fitting);
        // Where several patterns fit, the table's order decides, as it always has.
        fitting.sort_unstable();
        for i in fitting {
            let route = &routes[i];
            if route.method == *method {
                return Match::Found(route, route.capture(&parts));
            }
            other_method.get_or_insert(route);
        }
        match other_method {
            Some(r) => Match::MethodNotAllowed(r),
            None => Match::NotFound,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(_: &Ctx) -> Response {
        Response::empty(200)
    }

    #[test]
    fn static_dynamic_and_method_matching() {
        let table = vec![
            Route::new("a", "p", Method::POST, "/api/v5/app/list", ok),
            Route::new("b", "p", Method::POST, "/api/v1/app/{app_id}/entry/{entry_id}/data", ok),
        ];
        let r = Router::new(Box::leak(table.into_boxed_slice()));
        assert!(matches!(r.find(&Method::POST, "/api/v5/app/list/"), Match::Found(rt, _) if rt.id == "a"));
        match r.find(&Method::POST, "/api/v1/app/x%20y/entry/e/data") {
            Match::Found(rt, p) => {
                assert_eq!(rt.id, "b");
                assert_eq!(p, vec![("app_id", "x y".to_string()), ("entry_id", "e".to_string())]);
            }
            _ => panic!("no match"),
        }
        assert!(matches!(r.find(&Method::GET, "/api/v5/app/list"), Match::MethodNotAllowed(_)));
        assert!(matches!(r.find(&Method::POST, "/api/v1/app/x/entry/e/data/more"), Match::NotFound));
    }

    /// The table scan the trie replaced: static routes first, then the others in table order; the
    /// first that fits and takes the method, else the first that fits (405), else none.
    fn scan(routes: &'static [Route], method: &Method, path: &str) -> (Option<&'static str>, Option<&'static str>) {
        let parts: Vec<&str> = split(normalize(path)).collect();
        let mut fit: Vec<&Route> = routes.iter().filter(|r| r.fits(&parts)).collect();
        fit.sort_by_key(|r| !r.is_static());
        (fit.iter().find(|r| r.method == *method).map(|r| r.id), fit.first().map(|r| r.id))
    }

    #[test]
    fn the_trie_answers_every_platform_path_as_a_table_scan() {
        let routes = crate::platforms::all_routes();
        let router = Router::new(routes);
        let mut checked = 0;
        for route in routes {
            // The pattern's own path, with parameters that are plain values and that equal literals
            // of other routes (where several patterns fit, order decides).
            for fill in ["x", "list", "v1", "form", "json"] {
                let path: String = route
                    .segments
                    .iter()
                    .map(|s| match s {
                        Segment::Literal(l) => format!("/{l}"),
                        Segment::Param(_) => format!("/{fill}"),
                    })
                    .collect();
                for method in [Method::GET, Method::POST, Method::PUT, Method::DELETE, Method::PATCH] {
                    let (found, any) = scan(routes, &method, &path);
                    match router.find(&method, &path) {
                        Match::Found(r, _) => assert_eq!(Some(r.id), found, "{method} {path}"),
                        Match::MethodNotAllowed(r) => assert_eq!((None, Some(r.id)), (found, any), "{method} {path}"),
                        Match::NotFound => assert_eq!((None, None), (found, any), "{method} {path}"),
                    }
                    checked += 1;
                }
            }
        }
        assert!(checked > 1000);
    }
}
