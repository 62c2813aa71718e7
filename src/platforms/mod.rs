//! One folder per emulated platform. Each owns its routes, envelopes, error table and scenario section;
//! adding a platform means adding its folder and one line in [`PLATFORMS`].

pub mod astrozero;
pub mod jiandaoyun;
pub mod omflow;
pub mod yida;

use crate::http::Response;
use crate::router::Route;
use crate::Locale;

pub struct PlatformDef {
    pub name: &'static str,
    pub routes: fn() -> Vec<Route>,
    /// Renders a named error (`rate_limited`, `internal_error`, `payload_too_large` …) in the platform's dialect.
    pub error: fn(&str, Locale) -> Option<Response>,
    /// Path prefixes that belong to the platform, so unknown paths under them get its envelope.
    pub prefixes: &'static [&'static str],
    pub error_names: fn() -> Vec<String>,
}

pub const PLATFORMS: &[PlatformDef] = &[
    PlatformDef {
        name: jiandaoyun::PLATFORM,
        routes: jiandaoyun::routes,
        error: jiandaoyun::render_named_error,
        prefixes: &["/api/", "/jiandaoyun/"],
        error_names: jiandaoyun::errors::error_names,
    },
    PlatformDef {
        name: yida::PLATFORM,
        routes: yida::routes,
        error: yida::render_named_error,
        prefixes: &["/dingtalk/", "/v1.0/yida/", "/v1.0/oauth2/"],
        error_names: yida::errors::error_names,
    },
    PlatformDef {
        name: astrozero::PLATFORM,
        routes: astrozero::routes,
        error: astrozero::render_named_error,
        prefixes: &["/u-route/", "/baas/"],
        error_names: astrozero::errors::error_names,
    },
    PlatformDef {
        name: omflow::PLATFORM,
        routes: omflow::routes,
        error: omflow::render_named_error,
        prefixes: &["/rest/", "/accounts/api/"],
        error_names: omflow::error_names,
    },
];

pub fn all_routes() -> Vec<Route> {
    PLATFORMS.iter().flat_map(|p| (p.routes)()).collect()
}

pub fn by_name(name: &str) -> Option<&'static PlatformDef> {
    PLATFORMS.iter().find(|p| p.name == name)
}

pub fn for_path(path: &str) -> Option<&'static PlatformDef> {
    PLATFORMS.iter().find(|p| p.prefixes.iter().any(|pre| path.starts_with(pre)))
}
