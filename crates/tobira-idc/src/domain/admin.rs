//! What the administrator changes in the directory besides people's
//! passwords and devices (`users.rs`): groups and memberships, accounts,
//! permission sets and account assignments; IAM users, their access keys
//! and MFA devices, and roles. Each change is checked against
//! the whole directory and takes effect at once for sign-in, the portal and
//! STS.

use super::directory::{
    AccessKey, Account, Assignment, Directory, DirectoryError, Group, IamUser, MfaDevice, PermissionSet, Role,
};
use super::{ChangeError, Core, random, totp};

fn invalid(message: String) -> ChangeError {
    ChangeError::Directory(DirectoryError::Invalid(message))
}

/// Applies `change` to a copy of the directory, validates, and replaces it.
fn change(core: &Core, change: impl FnOnce(&mut Directory) -> Result<(), ChangeError>) -> Result<(), ChangeError> {
    core.change(change)
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
        d.groups.push(Group { name: name.to_string(), ..Group::default() });
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
        d.accounts.push(Account {
            id: id.to_string(),
            name: name.trim().to_string(),
            email: email.trim().to_string(),
            ..Account::default()
        });
        Ok(())
    })
}

pub(crate) fn add_permission_set(
    core: &Core,
    name: &str,
    hours: u32,
    policies: Vec<String>,
    inline_policy: Option<String>,
) -> Result<(), ChangeError> {
    name_ok("permission set", name)?;
    change(core, |d| {
        if d.permission_sets.iter().any(|p| p.name == name) {
            return Err(invalid(format!("a permission set `{name}` already exists")));
        }
        let inline_policy = inline_policy.filter(|p| !p.trim().is_empty());
        d.permission_sets.push(PermissionSet {
            name: name.to_string(),
            session_hours: hours,
            policies,
            inline_policy,
            ..PermissionSet::default()
        });
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

// ---- IAM users, access keys, MFA devices and roles (seed 003) ----------------

fn account_ok(account: &str) -> Result<(), ChangeError> {
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid(format!("account id `{account}` must be 12 digits")));
    }
    Ok(())
}

fn iam_user<'a>(d: &'a mut Directory, account: &str, name: &str) -> Result<&'a mut IamUser, ChangeError> {
    d.iam_users
        .iter_mut()
        .find(|u| u.account == account && u.name == name)
        .ok_or_else(|| invalid(format!("there is no IAM user `{name}` in account {account}")))
}

pub(crate) fn add_iam_user(core: &Core, account: &str, name: &str) -> Result<(), ChangeError> {
    account_ok(account)?;
    name_ok("IAM user", name)?;
    change(core, |d| {
        if d.iam_users.iter().any(|u| u.account == account && u.name == name) {
            return Err(invalid(format!("an IAM user `{name}` already exists in account {account}")));
        }
        d.iam_users.push(IamUser { account: account.into(), name: name.into(), ..IamUser::default() });
        Ok(())
    })
}

/// A new access key for an IAM user: (key id, secret). The secret is shown
/// once, as AWS shows it; afterwards no view has it. At most two keys per
/// user, as on AWS.
pub(crate) fn create_access_key(core: &Core, account: &str, user: &str) -> Result<(String, String), ChangeError> {
    let id = format!("AKIA{}", random::from(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16));
    let secret = random::from(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+", 40);
    change(core, |d| {
        let u = iam_user(d, account, user)?;
        if u.access_keys.len() >= 2 {
            return Err(invalid(format!("{user} already has two access keys (the most AWS allows); delete one first")));
        }
        u.access_keys.push(AccessKey { id: id.clone(), secret: secret.clone() });
        Ok(())
    })?;
    Ok((id, secret))
}

pub(crate) fn delete_access_key(core: &Core, account: &str, user: &str, key_id: &str) -> Result<(), ChangeError> {
    change(core, |d| {
        let u = iam_user(d, account, user)?;
        let before = u.access_keys.len();
        u.access_keys.retain(|k| k.id != key_id);
        if u.access_keys.len() == before {
            return Err(invalid(format!("{user} has no access key {key_id}")));
        }
        Ok(())
    })
}

/// A new virtual MFA device for an IAM user: (serial, base32 secret), the
/// secret shown once to put in an authenticator app.
pub(crate) fn add_iam_mfa(
    core: &Core,
    account: &str,
    user: &str,
    device: &str,
) -> Result<(String, String), ChangeError> {
    name_ok("MFA device", device)?;
    let secret = totp::encode_secret(&random::bytes(20));
    change(core, |d| {
        let u = iam_user(d, account, user)?;
        if u.mfa.iter().any(|m| m.name == device) {
            return Err(invalid(format!("{user} already has an MFA device `{device}`")));
        }
        u.mfa.push(MfaDevice { name: device.into(), secret: secret.clone() });
        Ok(())
    })?;
    Ok((format!("arn:aws:iam::{account}:mfa/{device}"), secret))
}

pub(crate) fn remove_iam_mfa(core: &Core, account: &str, user: &str, device: &str) -> Result<(), ChangeError> {
    change(core, |d| {
        let u = iam_user(d, account, user)?;
        let before = u.mfa.len();
        u.mfa.retain(|m| m.name != device);
        if u.mfa.len() == before {
            return Err(invalid(format!("{user} has no MFA device `{device}`")));
        }
        Ok(())
    })
}

/// A role STS lets principals assume.
#[derive(Debug)]
pub(crate) struct NewRole {
    pub account: String,
    pub name: String,
    pub trust: Vec<String>,
    pub mfa_required: bool,
    pub max_session_hours: u32,
    pub external_id: Option<String>,
}

pub(crate) fn add_role(core: &Core, r: NewRole) -> Result<(), ChangeError> {
    account_ok(&r.account)?;
    name_ok("role", &r.name)?;
    if r.trust.is_empty() {
        return Err(invalid("a role needs at least one trusted principal (an IAM user, role or account ARN)".into()));
    }
    if let Some(t) = r.trust.iter().find(|t| !t.starts_with("arn:aws:iam::")) {
        return Err(invalid(format!(
            "trusted principal `{t}` is not an IAM ARN (arn:aws:iam::ACCOUNT:user/NAME, …:role/NAME or …:root)"
        )));
    }
    change(core, |d| {
        if d.roles.iter().any(|x| x.account == r.account && x.name == r.name) {
            return Err(invalid(format!("a role `{}` already exists in account {}", r.name, r.account)));
        }
        d.roles.push(Role {
            account: r.account,
            name: r.name,
            trust: r.trust,
            mfa_required: r.mfa_required,
            max_session_duration: r.max_session_hours.saturating_mul(3600),
            external_id: r.external_id.filter(|e| !e.is_empty()),
        });
        Ok(())
    })
}

pub(crate) fn delete_role(core: &Core, account: &str, name: &str) -> Result<(), ChangeError> {
    change(core, |d| {
        let before = d.roles.len();
        d.roles.retain(|r| !(r.account == account && r.name == name));
        if d.roles.len() == before {
            return Err(invalid(format!("there is no role `{name}` in account {account}")));
        }
        Ok(())
    })
}
