//! The shared people directory (users and departments) that every platform exposes in its own shape.
//!
//! Seeded from the scenario's `[[users]]` and `[[departments]]`. Kept behind one lock: it is small,
//! read on member-field writes only, and written by directory APIs that are rare.

use indexmap::IndexMap;
use parking_lot::RwLock;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct User {
    pub id: String,
    pub name: String,
    pub departments: Vec<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mobile: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub integrate_id: Option<String>,
    /// 1 = active member, 0 = invited, -1 = left.
    pub status: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Department {
    pub id: i64,
    pub name: String,
    /// `None` only for the root.
    pub parent: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub integrate_id: Option<String>,
}

#[derive(Debug, Default)]
pub struct Directory {
    users: RwLock<IndexMap<String, User>>,
    departments: RwLock<IndexMap<i64, Department>>,
}

impl Directory {
    pub fn new(users: Vec<User>, departments: Vec<Department>) -> Self {
        Self {
            users: RwLock::new(users.into_iter().map(|u| (u.id.clone(), u)).collect()),
            departments: RwLock::new(departments.into_iter().map(|d| (d.id, d)).collect()),
        }
    }

    pub fn user(&self, id: &str) -> Option<User> {
        self.users.read().get(id).cloned()
    }

    pub fn department(&self, id: i64) -> Option<Department> {
        self.departments.read().get(&id).cloned()
    }

    pub fn first_user(&self) -> Option<User> {
        self.users.read().values().next().cloned()
    }

    pub fn users(&self) -> Vec<User> {
        self.users.read().values().cloned().collect()
    }

    pub fn departments(&self) -> Vec<Department> {
        self.departments.read().values().cloned().collect()
    }
}
