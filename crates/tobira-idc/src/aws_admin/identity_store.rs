//! Identity Store (docs/admin-apis.md §5): users, groups and group
//! memberships of the directory, by their AWS ids. Describe returns exactly
//! the attributes that were written (the round-trip rule, §5.5), so
//! Terraform sees no difference after an apply.

use serde_json::{Map, Value, json};

use super::{ApiError, Input, opt, page, req, with_next};
use crate::Idc;
use crate::domain::ChangeError;
use crate::domain::directory::{Directory, Group, User, principal_id};

pub(crate) const OPERATIONS: &[&str] = &[
    "CreateUser",
    "DescribeUser",
    "ListUsers",
    "GetUserId",
    "UpdateUser",
    "DeleteUser",
    "CreateGroup",
    "DescribeGroup",
    "ListGroups",
    "GetGroupId",
    "UpdateGroup",
    "DeleteGroup",
    "CreateGroupMembership",
    "DescribeGroupMembership",
    "DeleteGroupMembership",
    "ListGroupMemberships",
    "ListGroupMembershipsForMember",
    "GetGroupMembershipId",
    "IsMemberInGroups",
];

/// User names Identity Center reserves (model documentation).
const RESERVED: &[&str] = &["Administrator", "AWSAdministrators"];

/// Members of CreateUser that are not kept as attributes.
const NOT_ATTRIBUTES: &[&str] = &["IdentityStoreId", "UserName", "DisplayName", "Extensions"];

pub(crate) fn call(idc: &Idc, op: &str, input: &Input) -> Result<Value, ApiError> {
    let core = idc.core();
    let model = core.model();
    let dir = &model.dir;
    let store = check_store(dir, input)?;
    match op {
        "CreateUser" => create_user(idc, input),
        "DescribeUser" => Ok(user_json(dir, user(dir, req(input, "UserId")?)?)),
        "ListUsers" => {
            let filter = filter(input, &["UserName", "DisplayName"])?;
            let users: Vec<Value> = dir
                .users
                .iter()
                .filter(|u| match &filter {
                    Some((path, value)) if path == "username" => u.name == *value,
                    Some((_, value)) => u.display_name == *value,
                    None => true,
                })
                .map(|u| user_json(dir, u))
                .collect();
            let (users, next) = page(users, input, 100)?;
            Ok(with_next(json!({ "Users": users }), next))
        }
        "GetUserId" => {
            let (path, value) = unique_attribute(input)?;
            let found = match path.as_str() {
                "username" => dir.users.iter().find(|u| u.name.eq_ignore_ascii_case(&value)),
                "emails.value" => dir.users.iter().find(|u| emails(u).iter().any(|e| e["Value"] == value.as_str())),
                _ => {
                    return Err(ApiError::Validation(format!(
                        "AttributePath `{path}` is not a unique attribute of users (userName, emails.value)"
                    )));
                }
            };
            let u = found.ok_or_else(|| not_found("USER", &value))?;
            Ok(json!({ "IdentityStoreId": store, "UserId": u.id, "UserArn": arn("user", &u.id) }))
        }
        "UpdateUser" => update_user(idc, input),
        "DeleteUser" => {
            let u = user(dir, req(input, "UserId")?)?;
            check_revision(input, u.revision)?;
            let name = u.name.clone();
            core.change(|d| {
                d.users.retain(|x| x.name != name);
                d.assignments.retain(|a| a.principal != format!("user:{name}"));
                Ok(())
            })?;
            crate::domain::sessions::revoke_user(core, &name)?;
            Ok(json!({}))
        }
        "CreateGroup" => create_group(idc, input),
        "DescribeGroup" => Ok(group_json(dir, group(dir, req(input, "GroupId")?)?)),
        "ListGroups" => {
            let filter = filter(input, &["DisplayName"])?;
            let groups: Vec<Value> = dir
                .groups
                .iter()
                .filter(|g| filter.as_ref().is_none_or(|(_, v)| g.name == *v))
                .map(|g| group_json(dir, g))
                .collect();
            let (groups, next) = page(groups, input, 100)?;
            Ok(with_next(json!({ "Groups": groups }), next))
        }
        "GetGroupId" => {
            let (path, value) = unique_attribute(input)?;
            if path != "displayname" {
                return Err(ApiError::Validation(format!(
                    "AttributePath `{path}` is not a unique attribute of groups (displayName)"
                )));
            }
            let g = dir.groups.iter().find(|g| g.name == value).ok_or_else(|| not_found("GROUP", &value))?;
            Ok(json!({ "IdentityStoreId": store, "GroupId": g.id, "GroupArn": arn("group", &g.id) }))
        }
        "UpdateGroup" => update_group(idc, input),
        "DeleteGroup" => {
            let g = group(dir, req(input, "GroupId")?)?;
            let name = g.name.clone();
            core.change(|d| {
                d.groups.retain(|x| x.name != name);
                d.users.iter_mut().for_each(|u| u.groups.retain(|x| *x != name));
                d.assignments.retain(|a| a.principal != format!("group:{name}"));
                Ok(())
            })?;
            Ok(json!({}))
        }
        "CreateGroupMembership" => {
            let g = group(dir, req(input, "GroupId")?)?;
            let u = user(dir, member_id(input)?)?;
            let (group_name, user_name) = (g.name.clone(), u.name.clone());
            core.change(|d| {
                let u = d
                    .users
                    .iter_mut()
                    .find(|x| x.name == user_name)
                    .ok_or(ChangeError::NoSuchUser(user_name.clone()))?;
                if u.groups.contains(&group_name) {
                    return Err(ChangeError::Duplicate(String::new()));
                }
                u.groups.push(group_name.clone());
                Ok(())
            })
            .map_err(|e| match e {
                ChangeError::Duplicate(_) => ApiError::Conflict {
                    message: format!("user {} is already a member of group {}", u.id, g.id),
                    reason: Some("UNIQUENESS_CONSTRAINT_VIOLATION"),
                },
                e => e.into(),
            })?;
            let id = dir.membership_id(&g.id, &u.id);
            Ok(json!({ "MembershipId": id, "IdentityStoreId": store, "MembershipArn": arn("membership", &id) }))
        }
        "DescribeGroupMembership" => {
            let id = req(input, "MembershipId")?;
            let m =
                memberships(dir).into_iter().find(|m| m.0 == id).ok_or_else(|| not_found("GROUP_MEMBERSHIP", id))?;
            Ok(membership_json(dir, &m))
        }
        "DeleteGroupMembership" => {
            let id = req(input, "MembershipId")?;
            let (_, u, g) =
                memberships(dir).into_iter().find(|m| m.0 == id).ok_or_else(|| not_found("GROUP_MEMBERSHIP", id))?;
            let (user_name, group_name) = (u.name.clone(), g.name.clone());
            core.update_user(&user_name, |u| u.groups.retain(|x| *x != group_name))?;
            Ok(json!({}))
        }
        "ListGroupMemberships" => {
            let g = group(dir, req(input, "GroupId")?)?;
            let rows: Vec<Value> =
                memberships(dir).iter().filter(|m| m.2.id == g.id).map(|m| membership_json(dir, m)).collect();
            let (rows, next) = page(rows, input, 100)?;
            Ok(with_next(json!({ "GroupMemberships": rows }), next))
        }
        "ListGroupMembershipsForMember" => {
            let u = user(dir, member_id(input)?)?;
            let rows: Vec<Value> =
                memberships(dir).iter().filter(|m| m.1.id == u.id).map(|m| membership_json(dir, m)).collect();
            let (rows, next) = page(rows, input, 100)?;
            Ok(with_next(json!({ "GroupMemberships": rows }), next))
        }
        "GetGroupMembershipId" => {
            let g = group(dir, req(input, "GroupId")?)?;
            let u = user(dir, member_id(input)?)?;
            if !u.groups.contains(&g.name) {
                return Err(not_found("GROUP_MEMBERSHIP", &format!("{}/{}", g.id, u.id)));
            }
            let id = dir.membership_id(&g.id, &u.id);
            Ok(json!({ "MembershipId": id, "IdentityStoreId": store, "MembershipArn": arn("membership", &id) }))
        }
        "IsMemberInGroups" => {
            let u = user(dir, member_id(input)?)?;
            let ids = input.get("GroupIds").and_then(Value::as_array).ok_or_else(|| super::missing("GroupIds"))?;
            if ids.is_empty() || ids.len() > 100 {
                return Err(ApiError::Validation("GroupIds must list 1 to 100 group ids".into()));
            }
            let results: Vec<Value> = ids
                .iter()
                .filter_map(Value::as_str)
                .map(|gid| {
                    let exists = dir.groups.iter().any(|g| g.id == gid && u.groups.contains(&g.name));
                    json!({ "GroupId": gid, "MemberId": { "UserId": u.id }, "MembershipExists": exists })
                })
                .collect();
            Ok(json!({ "Results": results }))
        }
        other => Err(ApiError::UnknownOperation(other.to_string())),
    }
}

fn arn(kind: &str, id: &str) -> String {
    format!("arn:aws:identitystore:::{kind}/{id}")
}

fn not_found(kind: &'static str, id: &str) -> ApiError {
    let what = match kind {
        "USER" => "User",
        "GROUP" => "Group",
        "GROUP_MEMBERSHIP" => "Group membership",
        _ => "Identity store",
    };
    ApiError::NotFound { message: format!("{what} not found"), resource: Some((kind, id.to_string())) }
}

/// The store id the request names (also accepted as an identity store ARN).
fn check_store(dir: &Directory, input: &Input) -> Result<String, ApiError> {
    let given = req(input, "IdentityStoreId")?;
    let store = dir.instance.identity_store_id();
    let id = given.rsplit_once(":identitystore/").map_or(given, |(_, id)| id);
    if id != store {
        return Err(ApiError::NotFound {
            message: format!(
                "Identity store {given} does not exist; this tobira-idc's is {store} (aws sso-admin list-instances)"
            ),
            resource: Some(("IDENTITY_STORE", given.to_string())),
        });
    }
    Ok(store)
}

fn user<'a>(dir: &'a Directory, id: &str) -> Result<&'a User, ApiError> {
    dir.users.iter().find(|u| u.id == id).ok_or_else(|| not_found("USER", id))
}

fn group<'a>(dir: &'a Directory, id: &str) -> Result<&'a Group, ApiError> {
    dir.groups.iter().find(|g| g.id == id).ok_or_else(|| not_found("GROUP", id))
}

fn member_id(input: &Input) -> Result<&str, ApiError> {
    input
        .get("MemberId")
        .and_then(|m| m.get("UserId"))
        .and_then(Value::as_str)
        .ok_or_else(|| super::missing("MemberId"))
}

/// Every membership: (id, user, group).
fn memberships(dir: &Directory) -> Vec<(String, &User, &Group)> {
    let mut out = Vec::new();
    for u in &dir.users {
        for name in &u.groups {
            if let Some(g) = dir.groups.iter().find(|g| g.name == *name) {
                out.push((dir.membership_id(&g.id, &u.id), u, g));
            }
        }
    }
    out
}

fn membership_json(dir: &Directory, (id, u, g): &(String, &User, &Group)) -> Value {
    json!({
        "IdentityStoreId": dir.instance.identity_store_id(),
        "MembershipId": id,
        "MembershipArn": arn("membership", id),
        "GroupId": g.id,
        "MemberId": { "UserId": u.id },
    })
}

/// `Revision` is a decimal string that every change through the API bumps.
fn revision(n: u64) -> String {
    (n + 1).to_string()
}

/// A stale `Revision` is a concurrent modification (§5.1).
fn check_revision(input: &Input, current: u64) -> Result<(), ApiError> {
    match opt(input, "Revision")? {
        Some(r) if r != revision(current) => Err(ApiError::Conflict {
            message: format!("Revision {r} is not the current revision {}", revision(current)),
            reason: Some("CONCURRENT_MODIFICATION"),
        }),
        _ => Ok(()),
    }
}

/// A user's emails: as written through the API, else the directory's email.
fn emails(u: &User) -> Vec<Value> {
    match u.attributes.get("Emails") {
        Some(Value::Array(list)) => list.clone(),
        _ if !u.email.is_empty() => vec![json!({ "Value": u.email, "Primary": true })],
        _ => vec![],
    }
}

fn user_json(dir: &Directory, u: &User) -> Value {
    let mut m = Map::new();
    m.insert("IdentityStoreId".into(), json!(dir.instance.identity_store_id()));
    m.insert("UserId".into(), json!(u.id));
    m.insert("UserArn".into(), json!(arn("user", &u.id)));
    m.insert("Revision".into(), json!(revision(u.revision)));
    m.insert("UserName".into(), json!(u.name));
    if !u.display_name.is_empty() {
        m.insert("DisplayName".into(), json!(u.display_name));
    }
    for (k, v) in &u.attributes {
        m.insert(k.clone(), v.clone());
    }
    let e = emails(u);
    if !e.is_empty() {
        m.insert("Emails".into(), Value::Array(e));
    }
    m.insert("UserStatus".into(), json!(if u.disabled { "DISABLED" } else { "ENABLED" }));
    Value::Object(m)
}

fn group_json(dir: &Directory, g: &Group) -> Value {
    let mut v = json!({
        "IdentityStoreId": dir.instance.identity_store_id(),
        "GroupId": g.id,
        "GroupArn": arn("group", &g.id),
        "Revision": revision(g.revision),
        "DisplayName": g.name,
    });
    if let Some(d) = &g.description {
        v["Description"] = json!(d);
    }
    v
}

/// The one `Filters` entry of a List call: (lower-case path, value).
fn filter(input: &Input, paths: &[&str]) -> Result<Option<(String, String)>, ApiError> {
    let Some(list) = input.get("Filters").and_then(Value::as_array) else { return Ok(None) };
    match list.as_slice() {
        [] => Ok(None),
        [f] => {
            let path = f.get("AttributePath").and_then(Value::as_str).unwrap_or_default();
            let value = f.get("AttributeValue").and_then(Value::as_str).unwrap_or_default();
            if !paths.iter().any(|p| p.eq_ignore_ascii_case(path)) {
                return Err(ApiError::Validation(format!(
                    "Filters: AttributePath `{path}` is not one of {}",
                    paths.join(", ")
                )));
            }
            Ok(Some((path.to_lowercase(), value.to_string())))
        }
        _ => Err(ApiError::Validation("Filters takes at most one filter".into())),
    }
}

/// `AlternateIdentifier.UniqueAttribute` as (lower-case path, value); an
/// `ExternalId` matches nothing (tobira-idc keeps none).
fn unique_attribute(input: &Input) -> Result<(String, String), ApiError> {
    let alt = input.get("AlternateIdentifier").ok_or_else(|| super::missing("AlternateIdentifier"))?;
    if let Some(ext) = alt.get("ExternalId") {
        let id = ext.get("Id").and_then(Value::as_str).unwrap_or_default();
        return Err(not_found("USER", id));
    }
    let u = alt.get("UniqueAttribute").ok_or_else(|| super::missing("UniqueAttribute"))?;
    let path = u.get("AttributePath").and_then(Value::as_str).unwrap_or_default().to_lowercase();
    let value = match u.get("AttributeValue") {
        Some(Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
        None => return Err(super::missing("AttributeValue")),
    };
    Ok((path, value))
}

fn check_user_name(name: &str) -> Result<(), ApiError> {
    if name.is_empty() || name.chars().count() > 128 || name.chars().any(char::is_whitespace) {
        return Err(ApiError::Validation(format!("UserName `{name}` must be 1 to 128 characters without spaces")));
    }
    if RESERVED.iter().any(|r| r.eq_ignore_ascii_case(name)) {
        return Err(ApiError::Validation(format!("UserName `{name}` is reserved")));
    }
    Ok(())
}

fn taken(what: &str, name: &str) -> ApiError {
    ApiError::Conflict {
        message: format!("Duplicate {what} `{name}`: it must be unique in the identity store"),
        reason: Some("UNIQUENESS_CONSTRAINT_VIOLATION"),
    }
}

/// The directory's `email` follows the first (or primary) of `Emails`.
fn sync_email(u: &mut User) {
    u.email = match u.attributes.get("Emails") {
        Some(Value::Array(list)) => list
            .iter()
            .find(|e| e["Primary"] == true)
            .or_else(|| list.first())
            .and_then(|e| e["Value"].as_str())
            .unwrap_or_default()
            .to_string(),
        _ => String::new(),
    };
}

fn create_user(idc: &Idc, input: &Input) -> Result<Value, ApiError> {
    let name = req(input, "UserName")?.to_string();
    check_user_name(&name)?;
    let display = req(input, "DisplayName")?.to_string();
    if !input.get("Name").is_some_and(Value::is_object) {
        return Err(ApiError::Validation(
            "Identity Center requires UserName, DisplayName and Name for a user; Name is missing".into(),
        ));
    }
    let core = idc.core();
    let attributes = input
        .iter()
        .filter(|(k, v)| !NOT_ATTRIBUTES.contains(&k.as_str()) && !v.is_null())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let store = core.model().dir.instance.identity_store_id();
    let id = core.change(|d| {
        if d.users.iter().any(|u| u.name.eq_ignore_ascii_case(&name)) {
            return Err(ChangeError::Duplicate(String::new()));
        }
        let mut u = User {
            name: name.clone(),
            id: principal_id(&store, None),
            display_name: display,
            attributes,
            ..User::default()
        };
        sync_email(&mut u);
        let id = u.id.clone();
        d.users.push(u);
        Ok(id)
    });
    let id = match id {
        Ok(id) => id,
        Err(ChangeError::Duplicate(_)) => return Err(taken("UserName", &name)),
        Err(e) => return Err(e.into()),
    };
    Ok(json!({ "IdentityStoreId": store, "UserId": id, "UserArn": arn("user", &id), "Revision": revision(0) }))
}

fn create_group(idc: &Idc, input: &Input) -> Result<Value, ApiError> {
    let name = req(input, "DisplayName")?.to_string();
    if name.trim().is_empty() || name.chars().count() > 1024 || name.chars().any(char::is_control) {
        return Err(ApiError::Validation("DisplayName must be 1 to 1024 printable characters".into()));
    }
    let description = opt(input, "Description")?.map(str::to_string);
    let core = idc.core();
    let store = core.model().dir.instance.identity_store_id();
    let id = core.change(|d| {
        if d.groups.iter().any(|g| g.name == name) {
            return Err(ChangeError::Duplicate(String::new()));
        }
        let g = Group { name: name.clone(), id: principal_id(&store, None), description, revision: 0 };
        let id = g.id.clone();
        d.groups.push(g);
        Ok(id)
    });
    let id = match id {
        Ok(id) => id,
        Err(ChangeError::Duplicate(_)) => return Err(taken("DisplayName", &name)),
        Err(e) => return Err(e.into()),
    };
    Ok(json!({ "IdentityStoreId": store, "GroupId": id, "GroupArn": arn("group", &id), "Revision": revision(0) }))
}

/// camelCase keys of an `AttributeValue` become the PascalCase members
/// Describe returns (§5.4).
fn pascal(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (upper_first(k), pascal(v))).collect()),
        Value::Array(a) => Value::Array(a.iter().map(pascal).collect()),
        other => other.clone(),
    }
}

fn upper_first(s: &str) -> String {
    let mut c = s.chars();
    c.next().map_or_else(String::new, |f| f.to_uppercase().chain(c).collect())
}

/// The (path, value) pairs of `Operations`, in order.
fn operations(input: &Input) -> Result<Vec<(String, Value)>, ApiError> {
    let ops = input.get("Operations").and_then(Value::as_array).ok_or_else(|| super::missing("Operations"))?;
    if ops.is_empty() || ops.len() > 100 {
        return Err(ApiError::Validation("Operations must list 1 to 100 operations".into()));
    }
    ops.iter()
        .map(|o| {
            let path = o.get("AttributePath").and_then(Value::as_str).unwrap_or_default();
            if path.is_empty() || !path.split('.').all(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphabetic()))
            {
                return Err(ApiError::Validation(format!("AttributePath `{path}` must be a dotted path of letters")));
            }
            Ok((path.to_string(), o.get("AttributeValue").cloned().unwrap_or(Value::Null)))
        })
        .collect()
}

/// Sets (or with `null`, removes) an attribute at a dotted path.
fn set_attribute(attributes: &mut crate::domain::directory::Attributes, path: &str, value: &Value) {
    let mut parts = path.split('.').map(upper_first);
    let Some(top) = parts.next() else { return };
    match parts.next() {
        None if value.is_null() => {
            attributes.remove(&top);
        }
        None => {
            attributes.insert(top, pascal(value));
        }
        Some(inner) => {
            let entry = attributes.entry(top.clone()).or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(m) = entry {
                if value.is_null() {
                    m.remove(&inner);
                } else {
                    m.insert(inner, pascal(value));
                }
                if m.is_empty() {
                    attributes.remove(&top);
                }
            }
        }
    }
}

fn update_user(idc: &Idc, input: &Input) -> Result<Value, ApiError> {
    let core = idc.core();
    let model = core.model();
    let dir = &model.dir;
    let u = user(dir, req(input, "UserId")?)?;
    check_revision(input, u.revision)?;
    let ops = operations(input)?;
    let old_name = u.name.clone();
    let mut new_name = old_name.clone();
    for (path, value) in &ops {
        match path.to_lowercase().as_str() {
            "username" => {
                let n = value.as_str().ok_or_else(|| ApiError::Validation("userName cannot be removed".into()))?;
                check_user_name(n)?;
                if dir.users.iter().any(|x| x.name.eq_ignore_ascii_case(n) && x.id != u.id) {
                    return Err(taken("UserName", n));
                }
                new_name = n.to_string();
            }
            "id" | "userid" | "identitystoreid" | "externalids" => {
                return Err(ApiError::Validation(format!("{path} cannot be changed")));
            }
            _ => {}
        }
    }
    let id = u.id.clone();
    let revision_now = core.change(|d| {
        let u = d.users.iter_mut().find(|x| x.id == id).ok_or_else(|| ChangeError::NoSuchUser(old_name.clone()))?;
        for (path, value) in &ops {
            match path.to_lowercase().as_str() {
                "username" => {}
                "displayname" => u.display_name = value.as_str().unwrap_or_default().to_string(),
                _ => set_attribute(&mut u.attributes, path, value),
            }
        }
        sync_email(u);
        u.name = new_name.clone();
        u.revision += 1;
        let r = u.revision;
        if new_name != old_name {
            for a in d.assignments.iter_mut().filter(|a| a.principal == format!("user:{old_name}")) {
                a.principal = format!("user:{new_name}");
            }
        }
        Ok(r)
    })?;
    if new_name != old_name {
        // Sessions name the user; a renamed user signs in again.
        crate::domain::sessions::revoke_user(core, &old_name)?;
    }
    Ok(json!({
        "IdentityStoreId": dir.instance.identity_store_id(),
        "UserId": id,
        "UserArn": arn("user", &id),
        "Revision": revision(revision_now),
    }))
}

fn update_group(idc: &Idc, input: &Input) -> Result<Value, ApiError> {
    let core = idc.core();
    let model = core.model();
    let dir = &model.dir;
    let g = group(dir, req(input, "GroupId")?)?;
    let ops = operations(input)?;
    let (id, old_name) = (g.id.clone(), g.name.clone());
    let mut new_name = old_name.clone();
    let mut description = g.description.clone();
    for (path, value) in &ops {
        match path.to_lowercase().as_str() {
            "displayname" => {
                let n = value.as_str().ok_or_else(|| ApiError::Validation("displayName cannot be removed".into()))?;
                if dir.groups.iter().any(|x| x.name == n && x.id != id) {
                    return Err(taken("DisplayName", n));
                }
                new_name = n.to_string();
            }
            "description" => description = value.as_str().map(str::to_string),
            _ => return Err(ApiError::Validation(format!("AttributePath `{path}` is not an attribute of groups"))),
        }
    }
    let revision_now = core.change(|d| {
        let g = d.groups.iter_mut().find(|x| x.id == id).ok_or_else(|| ChangeError::NotFound(old_name.clone()))?;
        g.name = new_name.clone();
        g.description = description;
        g.revision += 1;
        let r = g.revision;
        if new_name != old_name {
            for u in &mut d.users {
                u.groups.iter_mut().filter(|x| **x == old_name).for_each(|x| *x = new_name.clone());
            }
            for a in d.assignments.iter_mut().filter(|a| a.principal == format!("group:{old_name}")) {
                a.principal = format!("group:{new_name}");
            }
        }
        Ok(r)
    })?;
    Ok(json!({
        "IdentityStoreId": dir.instance.identity_store_id(),
        "GroupId": id,
        "GroupArn": arn("group", &id),
        "Revision": revision(revision_now),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_values_become_pascal_case_and_null_removes() {
        let mut a = crate::domain::directory::Attributes::new();
        set_attribute(&mut a, "phoneNumbers", &json!([{ "primary": false, "type": "work", "value": "+1-555-0100" }]));
        assert_eq!(a["PhoneNumbers"], json!([{ "Primary": false, "Type": "work", "Value": "+1-555-0100" }]));
        set_attribute(&mut a, "name.givenName", &json!("Alice"));
        set_attribute(&mut a, "name.familyName", &json!("Example"));
        assert_eq!(a["Name"], json!({ "GivenName": "Alice", "FamilyName": "Example" }));
        set_attribute(&mut a, "name.givenName", &Value::Null);
        set_attribute(&mut a, "name.familyName", &Value::Null);
        set_attribute(&mut a, "phoneNumbers", &Value::Null);
        assert!(a.is_empty(), "{a:?}");
    }
}
