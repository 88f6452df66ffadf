//! The directory in force, with what requests look up precomputed, so a
//! request costs the same with ten accounts or ten thousand: each user's
//! entitlements in order, and the accounts among them.

use std::collections::HashMap;
use std::sync::Arc;

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

/// (account index, permission set index) pairs, and distinct account indexes.
type Pairs = Arc<Vec<(usize, usize)>>;
type Accounts = Arc<Vec<usize>>;

#[derive(Debug)]
pub(crate) struct Model {
    pub dir: Directory,
    /// Per (account index, permission set index) assigned to anyone.
    roles: HashMap<(usize, usize), SsoRole>,
    /// Per user: (account index, permission set index), sorted by account
    /// id then permission set name.
    entitlements: HashMap<String, Pairs>,
    /// Per user: the distinct accounts of their entitlements, in order.
    accounts: HashMap<String, Accounts>,
}

impl Model {
    pub(crate) fn new(dir: Directory) -> Model {
        let account_index: HashMap<&str, usize> =
            dir.accounts.iter().enumerate().map(|(i, a)| (a.id.as_str(), i)).collect();
        let set_index: HashMap<&str, usize> =
            dir.permission_sets.iter().enumerate().map(|(i, p)| (p.name.as_str(), i)).collect();
        // Ranks give the order (account id, then permission set name) as integers.
        let rank = |keys: Vec<&str>| {
            let mut order: Vec<usize> = (0..keys.len()).collect();
            order.sort_by_key(|i| keys[*i]);
            let mut r = vec![0; keys.len()];
            for (pos, i) in order.into_iter().enumerate() {
                r[i] = pos;
            }
            r
        };
        let account_rank = rank(dir.accounts.iter().map(|a| a.id.as_str()).collect());
        let set_rank = rank(dir.permission_sets.iter().map(|p| p.name.as_str()).collect());
        let mut by_principal: HashMap<&str, Vec<(usize, usize)>> = HashMap::new();
        for a in &dir.assignments {
            if let (Some(ai), Some(pi)) =
                (account_index.get(a.account.as_str()), set_index.get(a.permission_set.as_str()))
            {
                by_principal.entry(a.principal.as_str()).or_default().push((*ai, *pi));
            }
        }
        // Users with the same principals (typically: the same groups, no
        // direct assignment) share one computation.
        let mut shared: HashMap<Vec<String>, (Pairs, Accounts)> = HashMap::new();
        let mut entitlements = HashMap::new();
        let mut accounts = HashMap::new();
        let mut roles = HashMap::new();
        for u in &dir.users {
            let mut principals: Vec<String> = u.groups.iter().map(|g| format!("group:{g}")).collect();
            principals.push(format!("user:{}", u.name));
            if !by_principal.contains_key(principals[principals.len() - 1].as_str()) {
                principals.pop();
            }
            principals.sort();
            principals.dedup();
            let (pairs, mine) = shared
                .entry(principals)
                .or_insert_with_key(|principals| {
                    let mut pairs: Vec<(usize, usize)> =
                        principals.iter().filter_map(|p| by_principal.get(p.as_str())).flatten().copied().collect();
                    pairs.sort_by_key(|(a, p)| (account_rank[*a], set_rank[*p]));
                    pairs.dedup();
                    let mut mine: Vec<usize> = pairs.iter().map(|(a, _)| *a).collect();
                    mine.dedup();
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
                    (Arc::new(pairs), Arc::new(mine))
                })
                .clone();
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
            .flat_map(|v| v.iter())
            .map(|(a, p)| (&self.dir.accounts[*a], &self.dir.permission_sets[*p]))
    }

    /// How many accounts a user has any access to.
    pub(crate) fn account_count(&self, user: &str) -> usize {
        self.accounts.get(user).map_or(0, |v| v.len())
    }

    /// The accounts from `start`, at most `max` of them.
    pub(crate) fn accounts_page(&self, user: &str, start: usize, max: usize) -> Vec<&Account> {
        let all = self.accounts.get(user).map_or(&[][..], |v| v.as_slice());
        all.iter().skip(start).take(max).map(|a| &self.dir.accounts[*a]).collect()
    }

    /// The permission sets a user has in one account, in order.
    pub(crate) fn roles(&self, user: &str, account_id: &str) -> Vec<&PermissionSet> {
        let all = self.entitlements.get(user).map_or(&[][..], |v| v.as_slice());
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

    #[test]
    fn shared_and_direct_entitlements_agree_with_the_directory_on_a_mixed_directory() {
        let mut d = Directory::demo();
        for i in 0..30 {
            d.accounts.push(crate::domain::directory::Account {
                id: format!("{:012}", 900_000_000_000u64 - i * 7),
                name: format!("a{i}"),
                ..Default::default()
            });
        }
        d.groups.push(crate::domain::directory::Group { name: "ops".into(), ..Default::default() });
        for (i, a) in d.accounts.clone().iter().enumerate() {
            let (principal, ps) = match i % 3 {
                0 => ("group:engineers", "ReadOnly"),
                1 => ("group:ops", "FullAccess"),
                _ => ("user:carol", "FullAccess"),
            };
            d.assignments.push(crate::domain::directory::Assignment {
                principal: principal.into(),
                account: a.id.clone(),
                permission_set: ps.into(),
            });
        }
        for i in 0..6 {
            let groups = if i % 2 == 0 { vec!["engineers".into()] } else { vec!["ops".into(), "engineers".into()] };
            d.users.push(crate::domain::directory::User { name: format!("u{i}"), groups, ..Default::default() });
        }
        d.users[1].groups.push("ops".into());
        let m = Model::new(d);
        for u in m.dir.users.iter().map(|u| u.name.clone()).collect::<Vec<_>>() {
            let model: Vec<(String, String)> =
                m.entitlements(&u).map(|(a, p)| (a.id.clone(), p.name.clone())).collect();
            let direct: Vec<(String, String)> =
                m.dir.entitlements(&u).into_iter().map(|(a, p)| (a.id.clone(), p.name.clone())).collect();
            assert_eq!(model, direct, "{u}");
            let accounts: Vec<&str> = m.accounts_page(&u, 0, 1000).iter().map(|a| a.id.as_str()).collect();
            let mut expected: Vec<&str> = direct.iter().map(|(a, _)| a.as_str()).collect();
            expected.dedup();
            assert_eq!(accounts, expected, "{u}");
        }
    }
}
