//! Contacts (通讯录, `corp/*`): members, departments, roles, role groups and connected (guest) companies.
//!
//! Members and departments are the emulator's shared directory, so a member created here can be
//! written into member fields at once. Deleted members are kept with status -1 ("left"), as the product
//! keeps them. Roles and role groups are Jiandaoyun's own and live in its state.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::call::{ok_json, Call, Status};
use super::errors::JdyError;
use crate::core::directory::{Department, User};
use crate::http::Response;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RoleGroup {
    pub group_no: i64,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Role {
    pub role_no: i64,
    pub group_no: i64,
    pub name: String,
    pub members: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Guest {
    pub dept_no: i64,
    pub name: String,
    pub members: Vec<GuestMember>,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GuestMember {
    pub username: String,
    pub name: String,
}

/// Roles, role groups and guests of one world.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Corp {
    pub groups: BTreeMap<i64, RoleGroup>,
    pub roles: BTreeMap<i64, Role>,
    pub next_no: i64,
    pub guests: Vec<Guest>,
}

impl Corp {
    fn next(&mut self) -> i64 {
        self.next_no += 1;
        self.next_no
    }
}

const MAX_DEPT_NO: i64 = 9_007_199_254_740_991;
const MAX_DEPTH: usize = 16;

fn member(u: &User) -> Value {
    let mut v = json!({ "username": u.id, "name": u.name, "departments": u.departments, "type": 0, "status": u.status });
    if let Some(i) = &u.integrate_id {
        v["integrate_id"] = json!(i);
    }
    v
}

/// A department as the routes answer it; v6 adds its position among its siblings (`seq`).
fn department(d: &Department, version: u8) -> Value {
    let mut v = json!({ "dept_no": d.id, "name": d.name });
    if let Some(p) = d.parent {
        v["parent_no"] = json!(p);
    }
    v["type"] = json!(0);
    v["status"] = json!(1);
    if version >= 6 {
        v["seq"] = json!(d.seq);
    }
    if let Some(i) = &d.integrate_id {
        v["integrate_id"] = json!(i);
    }
    v
}

fn role(r: &Role) -> Value {
    json!({ "role_no": r.role_no, "group_no": r.group_no, "name": r.name, "type": 0, "status": 1 })
}

fn group(g: &RoleGroup) -> Value {
    json!({ "group_no": g.group_no, "name": g.name, "type": 0, "status": 1 })
}

fn req_int(call: &Call, name: &str) -> Result<i64, JdyError> {
    match call.body.get(name) {
        None | Some(Value::Null) => Err(JdyError::with_detail(1, format!("{name} is required"))),
        Some(v) => v.as_i64().ok_or_else(|| JdyError::with_detail(3005, format!("{name} must be an integer"))),
    }
}

fn opt_int(call: &Call, name: &str) -> Result<Option<i64>, JdyError> {
    match call.body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_i64().map(Some).ok_or_else(|| JdyError::with_detail(3005, format!("{name} must be an integer"))),
    }
}

fn opt_bool_default(call: &Call, name: &str, default: bool) -> Result<bool, JdyError> {
    match call.body.get(name) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(JdyError::with_detail(3005, format!("{name} must be a boolean"))),
    }
}

fn int_list(call: &Call, name: &str) -> Result<Option<Vec<i64>>, JdyError> {
    match call.body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| v.as_i64().ok_or_else(|| JdyError::with_detail(3005, format!("{name} must be integers"))))
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(JdyError::with_detail(3005, format!("{name} must be an array"))),
    }
}

fn str_list<'a>(call: &'a Call, name: &str) -> Result<Vec<&'a str>, JdyError> {
    call.req_array(name)?.iter().map(|v| v.as_str().ok_or_else(|| JdyError::with_detail(3005, format!("{name} must be strings")))).collect()
}

/// Usernames: letters, digits, `_` and `-`, at most 50 (1017 / 1092).
fn check_username(u: &str) -> Result<(), JdyError> {
    if u.chars().count() > 50 {
        return Err(JdyError::new(1092));
    }
    if u.is_empty() || !u.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        return Err(JdyError::new(1017));
    }
    Ok(())
}

/// Nicknames: required (1085), at most 80 characters (1019).
fn check_name(n: Option<&str>) -> Result<String, JdyError> {
    match n.map(str::trim) {
        None | Some("") => Err(JdyError::new(1085)),
        Some(n) if n.chars().count() > 80 => Err(JdyError::new(1019)),
        Some(n) => Ok(n.to_owned()),
    }
}

fn check_departments(call: &Call, depts: &[i64]) -> Result<(), JdyError> {
    match depts.iter().find(|d| call.world.directory.department(**d).is_none()) {
        Some(d) => Err(JdyError::with_detail(6002, format!("unknown department {d}"))),
        None => Ok(()),
    }
}

fn existing_user(call: &Call, username: &str) -> Result<User, JdyError> {
    call.world
        .directory
        .user(username)
        .filter(|u| u.status != -1)
        .ok_or_else(|| JdyError::with_detail(1010, format!("unknown member {username}")))
}

pub fn user_get(call: &Call) -> Result<Response, JdyError> {
    let u = existing_user(call, call.req_str("username")?)?;
    ok_json(&json!({ "user": member(&u) }))
}

pub fn user_create(call: &Call) -> Result<Response, JdyError> {
    let name = check_name(call.opt_str("name")?)?;
    let username = match call.opt_str("username")? {
        Some(u) => {
            check_username(u)?;
            if call.world.directory.user(u).is_some_and(|x| x.status != -1) {
                return Err(JdyError::new(1065));
            }
            u.to_owned()
        }
        None => format!("jdy-{}", &call.st.ids.uuid().replace('-', "")[..12]),
    };
    let departments = int_list(call, "departments")?.unwrap_or_else(|| vec![1]);
    check_departments(call, &departments)?;
    let user = User { id: username, name, departments, password: None, email: None, mobile: None, integrate_id: None, status: 1 };
    call.world.directory.put_user(user.clone());
    ok_json(&json!({ "user": member(&user) }))
}

pub fn user_update(call: &Call) -> Result<Response, JdyError> {
    let username = call.req_str("username")?;
    existing_user(call, username)?;
    let name = match call.opt_str("name")? {
        Some(n) => Some(check_name(Some(n))?),
        None => None,
    };
    let departments = int_list(call, "departments")?;
    if let Some(d) = &departments {
        check_departments(call, d)?;
    }
    call.world.directory.update_user(username, |u| {
        if let Some(n) = name {
            u.name = n;
        }
        if let Some(d) = departments {
            u.departments = d;
        }
    });
    ok_json(&json!({ "user": member(&existing_user(call, username)?) }))
}

pub fn user_delete(call: &Call) -> Result<Response, JdyError> {
    let username = call.req_str("username")?;
    existing_user(call, username)?;
    call.world.directory.update_user(username, |u| u.status = -1);
    ok_json(&Status::success())
}

pub fn user_batch_delete(call: &Call) -> Result<Response, JdyError> {
    let names = str_list(call, "usernames")?;
    for n in &names {
        existing_user(call, n)?;
    }
    for n in names {
        call.world.directory.update_user(n, |u| u.status = -1);
    }
    ok_json(&Status::success())
}

/// Upserts members by username; never deletes; unknown departments put the member at the root.
pub fn user_import(call: &Call) -> Result<Response, JdyError> {
    let users = call.req_array("users")?;
    if users.len() > 20_000 {
        return Err(JdyError::new(6021));
    }
    let mut parsed = Vec::with_capacity(users.len());
    for u in users {
        let username =
            u.get("username").and_then(Value::as_str).ok_or_else(|| JdyError::with_detail(1096, "each user needs a username"))?;
        check_username(username)?;
        let name = check_name(u.get("name").and_then(Value::as_str))?;
        let depts: Vec<i64> =
            u.get("departments").and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_i64).collect()).unwrap_or_default();
        let depts: Vec<i64> = depts.into_iter().filter(|d| call.world.directory.department(*d).is_some()).collect();
        parsed.push((username.to_owned(), name, if depts.is_empty() { vec![1] } else { depts }));
    }
    for (username, name, departments) in parsed {
        let existing = call.world.directory.user(&username);
        let mut user = existing.unwrap_or(User {
            id: username.clone(),
            name: String::new(),
            departments: vec![],
            password: None,
            email: None,
            mobile: None,
            integrate_id: None,
            status: 1,
        });
        user.name = name;
        user.departments = departments;
        user.status = 1;
        call.world.directory.put_user(user);
    }
    ok_json(&Status::success())
}

fn dept_scope(call: &Call) -> Result<(i64, bool), JdyError> {
    let no = req_int(call, "dept_no")?;
    call.world.directory.department(no).ok_or_else(|| JdyError::new(6002))?;
    Ok((no, opt_bool_default(call, "has_child", false)?))
}

pub fn department_list(call: &Call) -> Result<Response, JdyError> {
    let (no, deep) = dept_scope(call)?;
    let list = if call.version >= 6 {
        // v6 orders siblings as the contacts page shows them: by `seq`, then by number; each
        // department's sub-departments follow it.
        let mut out = Vec::new();
        in_seq_order(&call.world.directory, no, deep, &mut out);
        out
    } else if deep {
        call.world.directory.descendants(no)
    } else {
        call.world.directory.children(no)
    };
    ok_json(&json!({ "departments": list.iter().map(|d| department(d, call.version)).collect::<Vec<_>>() }))
}

/// The sub-departments of `no` by `seq` then number, each followed by its own when `deep`. The depth
/// is bounded by the department tree's (16 levels).
fn in_seq_order(dir: &crate::core::directory::Directory, no: i64, deep: bool, out: &mut Vec<Department>) {
    let mut children = dir.children(no);
    children.sort_by_key(|d| (d.seq, d.id));
    for c in children {
        let id = c.id;
        out.push(c);
        if deep {
            in_seq_order(dir, id, deep, out);
        }
    }
}

pub fn department_users(call: &Call) -> Result<Response, JdyError> {
    let (no, deep) = dept_scope(call)?;
    let mut scope: HashSet<i64> = HashSet::from([no]);
    if deep {
        scope.extend(call.world.directory.descendants(no).iter().map(|d| d.id));
    }
    let users: Vec<Value> = call
        .world
        .directory
        .users()
        .iter()
        .filter(|u| u.status != -1 && u.departments.iter().any(|d| scope.contains(d)))
        .map(member)
        .collect();
    ok_json(&json!({ "users": users }))
}

fn check_dept_name(call: &Call, name: &str, parent: i64, except: Option<i64>) -> Result<(), JdyError> {
    if name.trim().is_empty() || name.chars().count() > 50 {
        return Err(JdyError::new(6012));
    }
    if call.world.directory.children(parent).iter().any(|d| d.name == name && Some(d.id) != except) {
        return Err(JdyError::new(6000));
    }
    Ok(())
}

pub fn department_create(call: &Call) -> Result<Response, JdyError> {
    let name = call.req_str("name")?.to_owned();
    let parent = opt_int(call, "parent_no")?.unwrap_or(1);
    let dir = &call.world.directory;
    dir.department(parent).ok_or_else(|| JdyError::new(6001))?;
    check_dept_name(call, &name, parent, None)?;
    if dir.depth(parent) + 1 > MAX_DEPTH {
        return Err(JdyError::new(6017));
    }
    let no = match opt_int(call, "dept_no")? {
        Some(n) if !(1..=MAX_DEPT_NO).contains(&n) => return Err(JdyError::new(6010)),
        Some(n) if dir.department(n).is_some() => return Err(JdyError::new(6013)),
        Some(n) => n,
        None => dir.departments().iter().map(|d| d.id).max().unwrap_or(1) + 1,
    };
    let seq = match opt_int(call, "seq")? {
        Some(s) if call.version >= 6 => s,
        // v5 has no `seq`: a new department goes after its siblings.
        _ => dir.children(parent).iter().map(|d| d.seq + 1).max().unwrap_or(0),
    };
    let d = Department { seq, ..Department::new(no, name, Some(parent), None) };
    dir.put_department(d.clone());
    ok_json(&json!({ "department": department(&d, call.version) }))
}

pub fn department_update(call: &Call) -> Result<Response, JdyError> {
    let no = req_int(call, "dept_no")?;
    let dir = &call.world.directory;
    let mut d = dir.department(no).ok_or_else(|| JdyError::new(6002))?;
    let name = call.opt_str("name")?.map(str::to_owned);
    let parent = opt_int(call, "parent_no")?;
    let seq = if call.version >= 6 { opt_int(call, "seq")? } else { None };
    if name.is_none() && parent.is_none() && seq.is_none() {
        let wanted = if call.version >= 6 { "name, parent_no or seq" } else { "name or parent_no" };
        return Err(JdyError::with_detail(1, format!("{wanted} is required")));
    }
    if let Some(s) = seq {
        d.seq = s;
    }
    if let Some(p) = parent {
        if no == 1 {
            return Err(JdyError::with_detail(6004, "the root department cannot move"));
        }
        dir.department(p).ok_or_else(|| JdyError::new(6001))?;
        if p == no || dir.descendants(no).iter().any(|x| x.id == p) {
            return Err(JdyError::new(6011));
        }
        d.parent = Some(p);
    }
    let target_parent = d.parent.unwrap_or(1);
    let new_name = name.unwrap_or_else(|| d.name.clone());
    if d.parent.is_some() {
        check_dept_name(call, &new_name, target_parent, Some(no))?;
    }
    d.name = new_name;
    dir.put_department(d.clone());
    ok_json(&json!({ "department": department(&d, call.version) }))
}

pub fn department_delete(call: &Call) -> Result<Response, JdyError> {
    let no = req_int(call, "dept_no")?;
    let dir = &call.world.directory;
    dir.department(no).ok_or_else(|| JdyError::new(6002))?;
    if no == 1 {
        return Err(JdyError::new(6015));
    }
    if !dir.children(no).is_empty() {
        return Err(JdyError::new(6003));
    }
    if dir.users().iter().any(|u| u.status != -1 && u.departments.contains(&no)) {
        return Err(JdyError::new(6006));
    }
    dir.remove_department(no);
    ok_json(&Status::success())
}

pub fn department_by_integrate_id(call: &Call) -> Result<Response, JdyError> {
    let id = call.req_str("integrate_id")?;
    let d = call
        .world
        .directory
        .departments()
        .into_iter()
        .find(|d| d.integrate_id.as_deref() == Some(id))
        .ok_or_else(|| JdyError::new(6002))?;
    ok_json(&json!({ "department": department(&d, call.version) }))
}

/// `corp/department/manager/get` (v6): the department's managers, as members.
pub fn managers_get(call: &Call) -> Result<Response, JdyError> {
    let (no, _) = dept_scope(call)?;
    let d = call.world.directory.department(no).ok_or_else(|| JdyError::new(6002))?;
    let managers: Vec<Value> = d.managers.iter().filter_map(|m| call.world.directory.user(m)).map(|u| member(&u)).collect();
    ok_json(&json!({ "dept_managers": managers }))
}

/// `corp/department/manager/update` (v6): replaces the managers (`[]` clears them); each must be a
/// member.
pub fn managers_update(call: &Call) -> Result<Response, JdyError> {
    let (no, _) = dept_scope(call)?;
    let names = call.req_strings("managers")?;
    for n in &names {
        existing_user(call, n)?;
    }
    let dir = &call.world.directory;
    let mut d = dir.department(no).ok_or_else(|| JdyError::new(6002))?;
    d.managers = names;
    dir.put_department(d);
    managers_get(call)
}

/// Full overwrite of the tree by `dept_no`: listed departments are created or updated; unlisted ones
/// are removed when empty, else their sub-departments and members move under the root.
pub fn department_import(call: &Call) -> Result<Response, JdyError> {
    let list = call.req_array("departments")?;
    if list.len() > 100_000 {
        return Err(JdyError::new(6020));
    }
    let mut wanted: BTreeMap<i64, (String, i64)> = BTreeMap::new();
    for d in list {
        let no = d.get("dept_no").and_then(Value::as_i64).ok_or_else(|| JdyError::with_detail(1, "dept_no is required"))?;
        if !(1..=MAX_DEPT_NO).contains(&no) {
            return Err(JdyError::new(6010));
        }
        let name = d.get("name").and_then(Value::as_str).ok_or_else(|| JdyError::with_detail(1, "name is required"))?.to_owned();
        if name.trim().is_empty() {
            return Err(JdyError::new(6012));
        }
        let parent = d.get("parent_no").and_then(Value::as_i64).unwrap_or(1);
        if wanted.insert(no, (name, parent)).is_some() {
            return Err(JdyError::new(6013));
        }
    }
    let root_name = call.world.directory.department(1).map(|d| d.name).unwrap_or_default();
    let (root_name, _) = wanted.remove(&1).unwrap_or((root_name, 0));
    let mut siblings: HashSet<(i64, &str)> = HashSet::new();
    for (no, (name, parent)) in &wanted {
        if *parent != 1 && !wanted.contains_key(parent) {
            return Err(JdyError::with_detail(6001, format!("parent of {no} is not in the import")));
        }
        if !siblings.insert((*parent, name.as_str())) {
            return Err(JdyError::new(6000));
        }
        let mut depth = 2;
        let mut cur = *parent;
        while cur != 1 {
            depth += 1;
            if depth > MAX_DEPTH + 1 || depth > wanted.len() + 2 {
                return Err(JdyError::new(if depth > wanted.len() + 2 { 6011 } else { 6017 }));
            }
            cur = wanted.get(&cur).map(|w| w.1).unwrap_or(1);
        }
        if depth > MAX_DEPTH {
            return Err(JdyError::new(6017));
        }
    }
    let dir = &call.world.directory;
    let old: Vec<Department> = dir.departments();
    for d in old.iter().filter(|d| d.id != 1 && !wanted.contains_key(&d.id)) {
        dir.remove_department(d.id);
        for u in dir.users().into_iter().filter(|u| u.departments.contains(&d.id)) {
            dir.update_user(&u.id, |u| {
                u.departments.retain(|x| *x != d.id);
                if u.departments.is_empty() {
                    u.departments.push(1);
                }
            });
        }
    }
    let root = dir.department(1);
    dir.put_department(Department {
        seq: 0,
        managers: root.as_ref().map(|d| d.managers.clone()).unwrap_or_default(),
        ..Department::new(1, root_name, None, root.and_then(|d| d.integrate_id))
    });
    for (no, (name, parent)) in wanted {
        let integrate_id = dir.department(no).and_then(|d| d.integrate_id);
        let kept = dir.department(no);
        dir.put_department(Department {
            seq: kept.as_ref().map_or(0, |d| d.seq),
            managers: kept.map(|d| d.managers).unwrap_or_default(),
            ..Department::new(no, name, Some(parent), integrate_id)
        });
    }
    ok_json(&Status::success())
}

fn page<T: Clone>(call: &Call, items: Vec<T>, default_limit: i64, max: i64) -> Result<Vec<T>, JdyError> {
    let skip = call.opt_int("skip", 0, 0, i64::MAX)? as usize;
    let limit = call.opt_int("limit", default_limit, 1, max)? as usize;
    Ok(items.into_iter().skip(skip).take(limit).collect())
}

pub fn role_list(call: &Call) -> Result<Response, JdyError> {
    let internal = opt_bool_default(call, "has_internal", true)?;
    opt_bool_default(call, "has_sync", true)?;
    let roles: Vec<Role> = if internal { call.st.corp.lock().roles.values().cloned().collect() } else { Vec::new() };
    let roles = page(call, roles, 1, 100)?;
    ok_json(&json!({ "roles": roles.iter().map(role).collect::<Vec<_>>() }))
}

fn role_name(call: &Call, required: bool) -> Result<Option<String>, JdyError> {
    let name = if required { Some(call.req_str("name")?) } else { call.opt_str("name")? };
    match name {
        Some(n) if n.chars().count() > 24 => Err(JdyError::new(1207)),
        Some(n) if n.trim().is_empty() => Err(JdyError::new(1203)),
        other => Ok(other.map(str::to_owned)),
    }
}

fn group_of(call: &Call, corp: &Corp, name: &str) -> Result<i64, JdyError> {
    let no = match call.body.get(name) {
        None | Some(Value::Null) => return Err(JdyError::new(1205)),
        Some(v) => v.as_i64().ok_or_else(|| JdyError::with_detail(3005, format!("{name} must be an integer")))?,
    };
    corp.groups.contains_key(&no).then_some(no).ok_or(JdyError::new(1206))
}

pub fn role_create(call: &Call) -> Result<Response, JdyError> {
    let name = role_name(call, true)?.unwrap_or_default();
    let mut corp = call.st.corp.lock();
    let group_no = group_of(call, &corp, "group_no")?;
    let role_no = corp.next();
    let r = Role { role_no, group_no, name, members: Vec::new() };
    corp.roles.insert(role_no, r.clone());
    ok_json(&json!({ "role": role(&r) }))
}

pub fn role_update(call: &Call) -> Result<Response, JdyError> {
    let role_no = req_int(call, "role_no")?;
    let name = role_name(call, false)?;
    let mut corp = call.st.corp.lock();
    let group_no = group_of(call, &corp, "group_no")?;
    let r = corp.roles.get_mut(&role_no).ok_or(JdyError::new(1201))?;
    r.group_no = group_no;
    if let Some(n) = name {
        r.name = n;
    }
    let out = role(r);
    ok_json(&json!({ "role": out }))
}

/// Deleting a role answers HTTP 200 with an empty body, as documented.
pub fn role_delete(call: &Call) -> Result<Response, JdyError> {
    let role_no = req_int(call, "role_no")?;
    call.st.corp.lock().roles.remove(&role_no).ok_or(JdyError::new(1201))?;
    Ok(Response::empty(200))
}

pub fn role_users(call: &Call) -> Result<Response, JdyError> {
    let role_no = req_int(call, "role_no")?;
    opt_bool_default(call, "has_manage_range", false)?;
    let members = call.st.corp.lock().roles.get(&role_no).map(|r| r.members.clone()).ok_or(JdyError::new(1201))?;
    let users: Vec<Value> =
        members.iter().filter_map(|m| call.world.directory.user(m)).filter(|u| u.status != -1).map(|u| member(&u)).collect();
    let users = page(call, users, 10_000, 10_000)?;
    ok_json(&json!({ "users": users }))
}

fn change_members(call: &Call, add: bool) -> Result<Response, JdyError> {
    let role_no = req_int(call, "role_no")?;
    let names = str_list(call, "usernames")?;
    for n in &names {
        existing_user(call, n)?;
    }
    let mut corp = call.st.corp.lock();
    let r = corp.roles.get_mut(&role_no).ok_or(JdyError::new(1201))?;
    for n in names {
        if add && !r.members.iter().any(|m| m == n) {
            r.members.push(n.to_owned());
        } else if !add {
            r.members.retain(|m| m != n);
        }
    }
    ok_json(&Status::success())
}

pub fn role_add_members(call: &Call) -> Result<Response, JdyError> {
    change_members(call, true)
}

pub fn role_remove_members(call: &Call) -> Result<Response, JdyError> {
    change_members(call, false)
}

pub fn group_list(call: &Call) -> Result<Response, JdyError> {
    let internal = opt_bool_default(call, "has_internal", true)?;
    opt_bool_default(call, "has_sync", true)?;
    let groups: Vec<RoleGroup> = if internal { call.st.corp.lock().groups.values().cloned().collect() } else { Vec::new() };
    let groups = page(call, groups, 100, 100)?;
    ok_json(&json!({ "role_groups": groups.iter().map(group).collect::<Vec<_>>() }))
}

pub fn group_create(call: &Call) -> Result<Response, JdyError> {
    let name = role_name(call, true)?.unwrap_or_default();
    let mut corp = call.st.corp.lock();
    let group_no = corp.next();
    let g = RoleGroup { group_no, name };
    corp.groups.insert(group_no, g.clone());
    ok_json(&json!({ "role_group": group(&g) }))
}

pub fn group_update(call: &Call) -> Result<Response, JdyError> {
    let no = req_int(call, "role_group_no")?;
    let name = role_name(call, true)?.unwrap_or_default();
    let mut corp = call.st.corp.lock();
    let g = corp.groups.get_mut(&no).ok_or(JdyError::new(1206))?;
    g.name = name;
    let out = group(g);
    ok_json(&json!({ "role_group": out }))
}

pub fn group_delete(call: &Call) -> Result<Response, JdyError> {
    let no = req_int(call, "role_group_no")?;
    let mut corp = call.st.corp.lock();
    if !corp.groups.contains_key(&no) {
        return Err(JdyError::new(1206));
    }
    if corp.roles.values().any(|r| r.group_no == no) {
        return Err(JdyError::new(1208));
    }
    corp.groups.remove(&no);
    ok_json(&Status::success())
}

fn guest_member(g: &Guest, m: &GuestMember) -> Value {
    json!({ "username": m.username, "name": m.name, "departments": [g.dept_no], "type": 2, "status": 1 })
}

pub fn guest_departments(call: &Call) -> Result<Response, JdyError> {
    let only = opt_int(call, "dept_no")?;
    let corp = call.st.corp.lock();
    let list: Vec<Value> = corp
        .guests
        .iter()
        .filter(|g| only.is_none_or(|d| d == g.dept_no))
        .map(|g| json!({ "name": g.name, "dept_no": g.dept_no, "type": 2, "status": 1 }))
        .collect();
    ok_json(&json!({ "dept_list": list }))
}

pub fn guest_users(call: &Call) -> Result<Response, JdyError> {
    let only = opt_int(call, "dept_no")?;
    let corp = call.st.corp.lock();
    let list: Vec<Value> = corp
        .guests
        .iter()
        .filter(|g| only.is_none_or(|d| d == g.dept_no))
        .flat_map(|g| g.members.iter().map(move |m| guest_member(g, m)))
        .collect();
    ok_json(&json!({ "member_list": list }))
}

pub fn guest_user(call: &Call) -> Result<Response, JdyError> {
    let username = call.req_str("username")?;
    let corp = call.st.corp.lock();
    let found = corp.guests.iter().find_map(|g| g.members.iter().find(|m| m.username == username).map(|m| guest_member(g, m)));
    let m = found.ok_or(JdyError::new(1010))?;
    ok_json(&json!({ "member": m }))
}
