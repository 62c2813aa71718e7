//! The black-box suites, one module each, linked into one test binary: the crate is linked once
//! instead of once per suite, which is most of what a fresh `cargo test` spends its time on.
//! Run one suite with `cargo test --test it <module>::`, e.g. `cargo test --test it yida::`.

#[macro_use]
mod common;

mod admin;
mod astrozero;
mod astrozero_apis;
mod astrozero_bpm;
mod astrozero_files;
mod astrozero_flows;
mod astrozero_rest_actions;
mod cli;
mod concurrency;
mod dashboard;
mod faults;
mod fuzz_routes;
mod hardening;
mod jiandaoyun_apps;
mod jiandaoyun_auth;
mod jiandaoyun_batch;
mod jiandaoyun_corp;
mod jiandaoyun_data;
mod jiandaoyun_files;
mod jiandaoyun_legacy;
mod jiandaoyun_list;
mod jiandaoyun_workflow;
mod omflow;
mod outbound;
mod scenario;
mod slow_clients;
mod state;
mod tenant;
mod yida;
