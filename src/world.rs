//! A `World` holds all mutable state of one namespace: clock, directory and every platform's data.
//! Reset, export and namespace isolation are all "build a new World from the scenario" or "read one".
//!
//! Where this fits: docs/architecture.md.

use serde_json::Value;

use crate::core::clock::{parse_rfc3339_ms, Clock};
use crate::core::directory::{Department, Directory, User};
use crate::core::faults::Faults;
use crate::core::files::FileStore;
use crate::platforms::{BuildCx, States, PLATFORMS};
use crate::scenario::{Scenario, ScenarioDoc};
use crate::Locale;

#[derive(Debug)]
pub struct World {
    pub namespace: String,
    pub clock: std::sync::Arc<Clock>,
    pub locale: Locale,
    pub directory: Directory,
    pub files: FileStore,
    pub faults: std::sync::Arc<Faults>,
    /// Calls this namespace's platforms make to customers' services (pushes, callbacks).
    pub outbox: std::sync::Arc<crate::core::outbound::Outbox>,
    /// Every platform's state, typed (`world.platforms.<name>`).
    pub platforms: States,
}

/// The directory a scenario describes; department 1 (the root) always exists.
pub fn build_directory(doc: &ScenarioDoc) -> Directory {
    let mut depts: Vec<Department> = Vec::new();
    if !doc.departments.iter().any(|d| d.id == 1) {
        depts.push(Department::new(1, doc.name.clone().unwrap_or_else(|| "总部".into()), None, None));
    }
    depts.extend(doc.departments.iter().map(|d| Department {
        seq: d.seq,
        managers: d.managers.clone(),
        ..Department::new(d.id, d.name.clone(), if d.id == 1 { None } else { Some(d.parent.unwrap_or(1)) }, d.integrate_id.clone())
    }));
    let users = doc
        .users
        .iter()
        .map(|u| User {
            id: u.id.clone(),
            name: u.name.clone(),
            departments: if u.departments.is_empty() { vec![1] } else { u.departments.clone() },
            password: u.password.clone(),
            email: u.email.clone(),
            mobile: u.mobile.clone(),
            integrate_id: u.integrate_id.clone(),
            status: u.status.unwrap_or(1),
        })
        .collect();
    Directory::new(users, depts)
}

impl World {
    pub fn build(scenario: &Scenario, namespace: &str) -> World {
        let e = &scenario.doc.emulator;
        let clock = match e.clock.as_deref().and_then(parse_rfc3339_ms) {
            Some(at) if e.clock_running => Clock::running_from(at),
            Some(at) => Clock::frozen_at(at),
            None => Clock::real(),
        };
        let clock = std::sync::Arc::new(clock);
        let faults = std::sync::Arc::new(Faults::new(scenario.seed(), &scenario.doc.faults));
        let now = clock.now_ms();
        let directory = build_directory(&scenario.doc);
        let files = FileStore::default();
        let mut platforms = States::default();
        let cx = BuildCx { directory: &directory, files: &files, now };
        for p in PLATFORMS {
            (p.build)(scenario, &cx, &mut platforms);
        }
        World {
            namespace: namespace.to_owned(),
            outbox: crate::core::outbound::Outbox::new(clock.clone(), faults.clone()),
            clock,
            locale: scenario.locale(),
            directory,
            files,
            faults,
            platforms,
        }
    }

    /// The whole state as JSON (see [`crate::state`]).
    pub fn export(&self) -> Value {
        crate::state::export(self)
    }
}
