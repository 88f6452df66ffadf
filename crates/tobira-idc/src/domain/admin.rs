//! What the administrator changes in the directory besides people's
//! passwords and devices (`users.rs`): groups and memberships, accounts,
//! permission sets and account assignments. Each change is checked against
//! the whole directory and takes effect at once for sign-in, the portal and
//! STS.

use super::directory::{Account, Assignment, Directory, DirectoryError, Group, PermissionSet};
use super::{ChangeError, Core};

fn invalid(message: String) -> ChangeError {
    ChangeError::Directory(DirectoryError::Invalid(message))
}

/// Applies `change` to a copy of the directory, validates, and replaces it.
fn change(core: &Core, change: impl FnOnce(&mut Directory) -> Result<(), ChangeError>) -> Result<(), ChangeError> {
    let mut dir = core.model().dir.clone();
    change(&mut dir)?;
    dir.validate()?;
    core.replace_directory(dir)
}

/// Names of users, groups and permission sets: 1 to 128 of `A-Za-z0-9._@+-`.
pub(crate) fn name_ok(what: &str, name: &str) -> Result<(), ChangeError> {
    if name.is_empty() || name.len() > 128 || !name.chars().all(|c| c.is_ascii_alphanumeric() || "._@+-".contains(c)) {
        return Err(invalid(format!("{what} name `{name}` must be 1 to 128 letters, digits or . _ @ + -")));
    }
    Ok(())
}

pub(crate) fn add_group(core: &Core, name: &str) -> Result<(), ChangeError> {
    name_ok("group", name)?;
    change(core, |d| {
        if d.groups.iter().any(|g| g.name == name) {
            return Err(invalid(format!("a group `{name}` already exists")));
        }
        d.groups.push(Group { name: name.to_string() });
        Ok(())
    })
}

/// Adds `user` to `group`, or removes them.
pub(crate) fn set_membership(core: &Core, user: &str, group: &str, member: bool) -> Result<(), ChangeError> {
    change(core, |d| {
        if !d.groups.iter().any(|g| g.name == group) {
            return Err(invalid(format!("there is no group `{group}`")));
        }
        let u = d.users.iter_mut().find(|u| u.name == user).ok_or_else(|| ChangeError::NoSuchUser(user.into()))?;
        u.groups.retain(|g| g != group);
        if member {
            u.groups.push(group.to_string());
        }
        Ok(())
    })
}

pub(crate) fn add_account(core: &Core, id: &str, name: &str, email: &str) -> Result<(), ChangeError> {
    change(core, |d| {
        d.accounts.push(Account { id: id.to_string(), name: name.trim().to_string(), email: email.trim().to_string() });
        Ok(())
    })
}

pub(crate) fn add_permission_set(
    core: &Core,
    name: &str,
    hours: u32,
    policies: Vec<String>,
) -> Result<(), ChangeError> {
    name_ok("permission set", name)?;
    change(core, |d| {
        if d.permission_sets.iter().any(|p| p.name == name) {
            return Err(invalid(format!("a permission set `{name}` already exists")));
        }
        d.permission_sets.push(PermissionSet { name: name.to_string(), session_hours: hours, policies });
        Ok(())
    })
}

/// Assigns a principal (`user:NAME` or `group:NAME`) a permission set in an
/// account, or removes the assignment.
pub(crate) fn set_assignment(core: &Core, a: Assignment, assigned: bool) -> Result<(), ChangeError> {
    change(core, |d| {
        let exists = d.assignments.contains(&a);
        match (assigned, exists) {
            (true, true) => Err(invalid("that assignment already exists".into())),
            (false, false) => Err(invalid("there is no such assignment".into())),
            (true, false) => {
                d.assignments.push(a);
                Ok(())
            }
            (false, true) => {
                d.assignments.retain(|x| x != &a);
                Ok(())
            }
        }
    })
}

/// Sets a permission set's session duration (1 to 12 hours). Credentials
/// issued from then on last that long.
pub(crate) fn set_session_duration(core: &Core, permission_set: &str, hours: u32) -> Result<(), ChangeError> {
    change(core, |d| {
        let ps = d
            .permission_sets
            .iter_mut()
            .find(|p| p.name == permission_set)
            .ok_or_else(|| invalid(format!("there is no permission set `{permission_set}`")))?;
        ps.session_hours = hours;
        Ok(())
    })
}
