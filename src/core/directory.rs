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
    /// Position among its siblings (smaller first; ties by id).
    #[serde(default)]
    pub seq: i64,
    /// The department's managers (user ids), in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub managers: Vec<String>,
}

impl Department {
    /// A department with no position of its own and no managers.
    pub fn new(id: i64, name: String, parent: Option<i64>, integrate_id: Option<String>) -> Self {
        Department { id, name, parent, integrate_id, seq: 0, managers: Vec::new() }
    }
}

#[derive(Debug, Default)]
pub struct Directory {
    users: RwLock<IndexMap<String, User>>,
    departments: RwLock<IndexMap<i64, Department>>,
    /// Changes with every change of a user, and differs between directories: views built from the
    /// users (Astro Zero's `User` object) know when to rebuild.
    generation: std::sync::atomic::AtomicU64,
}

/// Generations are drawn from one process-wide sequence, so two directories never share one.
static GENERATIONS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

fn next_generation() -> u64 {
    GENERATIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

impl Directory {
    pub fn new(users: Vec<User>, departments: Vec<Department>) -> Self {
        Self {
            users: RwLock::new(users.into_iter().map(|u| (u.id.clone(), u)).collect()),
            departments: RwLock::new(departments.into_iter().map(|d| (d.id, d)).collect()),
            generation: std::sync::atomic::AtomicU64::new(next_generation()),
        }
    }

    /// Moves the generation on after a change to users or departments.
    fn changed(&self) {
        self.generation.store(next_generation(), std::sync::atomic::Ordering::Release);
    }

    /// The directory's generation: equal readings mean no user or department changed in between.
    pub fn generation(&self) -> u64 {
        self.generation.load(std::sync::atomic::Ordering::Acquire)
    }

    pub fn user(&self, id: &str) -> Option<User> {
        self.users.read().get(id).cloned()
    }

    /// A user's place in directory order (from 0), without copying the directory.
    pub fn user_position(&self, id: &str) -> Option<usize> {
        self.users.read().get_index_of(id)
    }

    /// What `f` makes of a user, without copying the user (a record's creator on every create).
    pub fn with_user<R>(&self, id: &str, f: impl FnOnce(&User) -> R) -> Option<R> {
        self.users.read().get(id).map(f)
    }

    /// A user's name, without copying the rest of the user (reads print it once per record).
    pub fn user_name(&self, id: &str) -> Option<String> {
        self.users.read().get(id).map(|u| u.name.clone())
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

    /// Inserts or replaces a user (order of first insertion is kept).
    pub fn put_user(&self, user: User) {
        self.users.write().insert(user.id.clone(), user);
        self.changed();
    }

    /// Applies `f` to a user; false when there is no such user.
    pub fn update_user(&self, id: &str, f: impl FnOnce(&mut User)) -> bool {
        match self.users.write().get_mut(id) {
            Some(u) => {
                f(u);
                self.changed();
                true
            }
            None => false,
        }
    }

    pub fn put_department(&self, dept: Department) {
        self.departments.write().insert(dept.id, dept);
        self.changed();
    }

    pub fn remove_department(&self, id: i64) -> Option<Department> {
        let gone = self.departments.write().shift_remove(&id);
        self.changed();
        gone
    }

    /// Direct children of a department.
    pub fn children(&self, id: i64) -> Vec<Department> {
        self.departments.read().values().filter(|d| d.parent == Some(id)).cloned().collect()
    }

    /// Every department below `id` (not `id` itself), parents before children.
    pub fn descendants(&self, id: i64) -> Vec<Department> {
        let all = self.departments.read();
        let mut out = Vec::new();
        let mut frontier = vec![id];
        while let Some(p) = frontier.pop() {
            for d in all.values().filter(|d| d.parent == Some(p)) {
                frontier.push(d.id);
                out.push(d.clone());
            }
        }
        out
    }

    /// Depth of a department below the root (the root is 1).
    pub fn depth(&self, id: i64) -> usize {
        let all = self.departments.read();
        let mut depth = 1;
        let mut cur = id;
        while let Some(p) = all.get(&cur).and_then(|d| d.parent) {
            depth += 1;
            cur = p;
            if depth > all.len() + 1 {
                break;
            }
        }
        depth
    }
}
