//! The directory in force, with what requests look up precomputed, so a
//! request costs the same with ten accounts or ten thousand: each user's
//! entitlements in order, and the accounts among them.

use std::collections::HashMap;

use super::credentials::{reserved_role_name, role_id};
use super::directory::{Account, Directory, PermissionSet};

/// The IAM role Identity Center keeps in an account for a permission set
/// (`AWSReservedSSO_<permission set>_<16 hex>`), as the credentials for it
/// name it (computed once per directory).
#[derive(Debug)]
pub(crate) struct SsoRole {
    /// `AROA…`, the role's unique id.
    pub id: String,
    /// `arn:aws:iam::<account>:role/<name>`.
    pub arn: String,
    /// `arn:aws:sts::<account>:assumed-role/<name>/` (the session name follows).
    pub assumed_prefix: String,
}

/// One role of one account that a user may use.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Entitlement<'a> {
    pub account: &'a Account,
    pub permission_set: &'a PermissionSet,
    pub role: &'a SsoRole,
}

#[derive(Debug)]
pub(crate) struct Model {
    pub dir: Directory,
    /// Per (account index, permission set index) assigned to anyone.
    roles: HashMap<(usize, usize), SsoRole>,
    /// Per user: (account index, permission set index), sorted by account
    /// id then permission set name.
    entitlements: HashMap<String, Vec<(usize, usize)>>,
    /// Per user: the distinct accounts of their entitlements, in order.
    accounts: HashMap<String, Vec<usize>>,
}

impl Model {
    pub(crate) fn new(dir: Directory) -> Model {
        let account_index: HashMap<&str, usize> =
            dir.accounts.iter().enumerate().map(|(i, a)| (a.id.as_str(), i)).collect();
        let set_index: HashMap<&str, usize> =
            dir.permission_sets.iter().enumerate().map(|(i, p)| (p.name.as_str(), i)).collect();
        let mut entitlements = HashMap::new();
        let mut accounts = HashMap::new();
        let mut roles = HashMap::new();
        for u in &dir.users {
            let pairs: Vec<(usize, usize)> = dir
                .entitlements(&u.name)
                .into_iter()
                .filter_map(|(a, p)| Some((*account_index.get(a.id.as_str())?, *set_index.get(p.name.as_str())?)))
                .collect();
            for (a, p) in &pairs {
                roles.entry((*a, *p)).or_insert_with(|| {
                    let (account, ps) = (&dir.accounts[*a].id, &dir.permission_sets[*p].name);
                    let name = reserved_role_name(account, ps);
                    SsoRole {
                        id: role_id(account, &name),
                        arn: format!("arn:aws:iam::{account}:role/{name}"),
                        assumed_prefix: format!("arn:aws:sts::{account}:assumed-role/{name}/"),
                    }
                });
            }
            let mut mine: Vec<usize> = pairs.iter().map(|(a, _)| *a).collect();
            mine.dedup();
            accounts.insert(u.name.clone(), mine);
            entitlements.insert(u.name.clone(), pairs);
        }
        Model { dir, roles, entitlements, accounts }
    }

    /// Every (account, permission set) assigned to a user, in order.
    pub(crate) fn entitlements(&self, user: &str) -> impl Iterator<Item = (&Account, &PermissionSet)> {
        self.entitlements
            .get(user)
            .into_iter()
            .flatten()
            .map(|(a, p)| (&self.dir.accounts[*a], &self.dir.permission_sets[*p]))
    }

    /// How many accounts a user has any access to.
    pub(crate) fn account_count(&self, user: &str) -> usize {
        self.accounts.get(user).map_or(0, Vec::len)
    }

    /// The accounts from `start`, at most `max` of them.
    pub(crate) fn accounts_page(&self, user: &str, start: usize, max: usize) -> Vec<&Account> {
        let all = self.accounts.get(user).map_or(&[][..], Vec::as_slice);
        all.iter().skip(start).take(max).map(|a| &self.dir.accounts[*a]).collect()
    }

    /// The permission sets a user has in one account, in order.
    pub(crate) fn roles(&self, user: &str, account_id: &str) -> Vec<&PermissionSet> {
        let all = self.entitlements.get(user).map_or(&[][..], Vec::as_slice);
        let first = all.partition_point(|(a, _)| self.dir.accounts[*a].id.as_str() < account_id);
        all[first..]
            .iter()
            .take_while(|(a, _)| self.dir.accounts[*a].id == account_id)
            .map(|(_, p)| &self.dir.permission_sets[*p])
            .collect()
    }

    /// The entitlement to one role of one account, if the user has it.
    pub(crate) fn entitlement(&self, user: &str, account_id: &str, role: &str) -> Option<Entitlement<'_>> {
        let all = self.entitlements.get(user)?;
        let first = all.partition_point(|(a, _)| self.dir.accounts[*a].id.as_str() < account_id);
        let (a, p) = all[first..]
            .iter()
            .take_while(|(a, _)| self.dir.accounts[*a].id == account_id)
            .find(|(_, p)| self.dir.permission_sets[*p].name == role)?;
        Some(Entitlement {
            account: &self.dir.accounts[*a],
            permission_set: &self.dir.permission_sets[*p],
            role: self.roles.get(&(*a, *p))?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_agree_with_the_directory() {
        let m = Model::new(Directory::demo());
        let all: Vec<(String, String)> = m.entitlements("alice").map(|(a, p)| (a.id.clone(), p.name.clone())).collect();
        let direct: Vec<(String, String)> =
            m.dir.entitlements("alice").into_iter().map(|(a, p)| (a.id.clone(), p.name.clone())).collect();
        assert_eq!(all, direct);
        assert_eq!(
            m.accounts_page("alice", 0, 20).iter().map(|a| a.id.as_str()).collect::<Vec<_>>(),
            ["111111111111", "222222222222"]
        );
        assert_eq!(m.accounts_page("alice", 1, 5).len(), 1);
        assert_eq!(
            m.roles("alice", "222222222222").iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
            ["FullAccess", "ReadOnly"]
        );
        let e = m.entitlement("alice", "222222222222", "FullAccess").unwrap();
        let name = reserved_role_name("222222222222", "FullAccess");
        assert_eq!(e.role.arn, format!("arn:aws:iam::222222222222:role/{name}"));
        assert_eq!(e.role.assumed_prefix, format!("arn:aws:sts::222222222222:assumed-role/{name}/"));
        assert!(e.role.id.starts_with("AROA"));
        assert!(m.entitlement("carol", "222222222222", "FullAccess").is_none());
        assert!(m.entitlement("nobody", "111111111111", "ReadOnly").is_none());
        assert_eq!(m.account_count("carol"), 1);
    }
}
