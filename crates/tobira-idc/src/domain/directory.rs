//! The administrator's side: the Identity Center instance, its users, groups,
//! accounts, permission sets and assignments, and the IAM users and roles STS
//! knows. Loaded from TOML (or the built-in demo), validated once.

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use super::store::Item;

/// A whole directory. Field names are the TOML keys.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Directory {
    pub instance: Instance,
    #[serde(default)]
    pub users: Vec<User>,
    #[serde(default)]
    pub groups: Vec<Group>,
    #[serde(default)]
    pub accounts: Vec<Account>,
    #[serde(default)]
    pub permission_sets: Vec<PermissionSet>,
    #[serde(default)]
    pub assignments: Vec<Assignment>,
    #[serde(default)]
    pub iam_users: Vec<IamUser>,
    #[serde(default)]
    pub roles: Vec<Role>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Instance {
    /// The access portal URL users configure as `sso_start_url`.
    pub start_url: String,
    /// The region Identity Center lives in (`sso_region`).
    pub region: String,
    /// Whether sign-in requires an MFA code.
    #[serde(default)]
    pub mfa_required: bool,
    /// IAM principals that may call the SSO Admin and Identity Store APIs
    /// (docs/admin-apis.md): IAM user or role ARNs, or
    /// `arn:aws:iam::<account>:root` for every principal of an account.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub administrators: Vec<String>,
}

impl Instance {
    /// The identity store id (`d-` and 10 hex digits): the start URL's own
    /// when its host is `d-XXXXXXXXXX.awsapps.com`, else one derived from it.
    pub fn identity_store_id(&self) -> String {
        let host = self.start_url.split("://").nth(1).unwrap_or("").split(['.', '/', ':']).next().unwrap_or("");
        match host.strip_prefix("d-") {
            Some(h) if h.len() == 10 && h.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) => {
                host.to_string()
            }
            _ => format!("d-{}", &hex_digest(&self.start_url)[..10]),
        }
    }

    /// `ssoins-` and 16 hex digits, derived from the identity store id.
    pub fn instance_id(&self) -> String {
        format!("ssoins-{}", &hex_digest(&format!("instance/{}", self.identity_store_id()))[..16])
    }

    /// `arn:aws:sso:::instance/ssoins-…`.
    pub fn instance_arn(&self) -> String {
        format!("arn:aws:sso:::instance/{}", self.instance_id())
    }

    /// Whether `principal` (an IAM user ARN, or the role ARN of a role
    /// session) of `account` may administer the instance.
    pub fn administers(&self, principal: &str, account: &str) -> bool {
        let root = format!("arn:aws:iam::{account}:root");
        self.administrators.iter().any(|a| a == principal || *a == root)
    }
}

fn hex_digest(text: &str) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// A UUID (8-4-4-4-12 lowercase hex, version 4 layout) from 16 bytes.
fn uuid_from(b: &[u8]) -> String {
    let mut b: [u8; 16] = b.get(..16).and_then(|s| s.try_into().ok()).unwrap_or([0; 16]);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
}

/// An Identity Store id for a user, group or membership: the store id
/// without `d-`, a dash and a UUID (docs/admin-apis.md, identifiers).
/// Derived from `seed` when given (stable for directories written by hand),
/// else random.
pub fn principal_id(store_id: &str, seed: Option<&str>) -> String {
    let bytes = match seed {
        Some(s) => {
            use sha2::Digest as _;
            sha2::Sha256::digest(format!("{store_id}/{s}").as_bytes()).to_vec()
        }
        None => crate::domain::random::bytes(16),
    };
    format!("{}-{}", store_id.trim_start_matches("d-"), uuid_from(&bytes))
}

/// `ps-` and 16 hex digits: derived from `seed` when given, else random.
pub fn permission_set_id(seed: Option<&str>) -> String {
    match seed {
        Some(s) => format!("ps-{}", &hex_digest(&format!("permission-set/{s}"))[..16]),
        None => {
            format!("ps-{}", crate::domain::random::bytes(8).iter().map(|b| format!("{b:02x}")).collect::<String>())
        }
    }
}

/// Attributes of a user set through the Identity Store API that the
/// directory keeps as sent (PascalCase members: `Name`, `Emails`, `Title`…),
/// so Describe returns exactly what was written (docs/admin-apis.md,
/// round trip).
pub type Attributes = std::collections::BTreeMap<String, serde_json::Value>;

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct User {
    pub name: String,
    /// The Identity Store `UserId` (filled in when missing, see [`principal_id`]).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub display_name: String,
    /// A password in plain text, accepted when a directory is loaded and
    /// replaced at once by [`User::password_hash`]; never written out.
    #[serde(default, skip_serializing)]
    pub password: Option<String>,
    /// The argon2id PHC string of the password; `None` until the user sets
    /// one through an invitation link. Kept in the database, never shown
    /// (see [`Directory::public`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_hash: Option<String>,
    #[serde(default)]
    pub groups: Vec<String>,
    #[serde(default)]
    pub mfa: Vec<MfaDevice>,
    /// A disabled user cannot sign in; disabling ends their sessions.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub disabled: bool,
    /// Identity Store attributes beyond name, display name and email.
    #[serde(default, skip_serializing_if = "Attributes::is_empty")]
    pub attributes: Attributes,
    /// Bumped by every change through the Identity Store API.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub revision: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// A TOTP device: RFC 6238, SHA-1, 6 digits, 30-second steps.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct MfaDevice {
    pub name: String,
    /// Base32 secret (as shown under a QR code). Left out of the public
    /// view; an edited view without it keeps the device's secret.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub secret: String,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Group {
    pub name: String,
    /// The Identity Store `GroupId` (filled in when missing).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub revision: u64,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Account {
    /// 12 digits.
    pub id: String,
    pub name: String,
    /// Also the root user's sign-in name at the console sign-in page.
    #[serde(default)]
    pub email: String,
    /// The root user's console password in plain text, hashed on load.
    #[serde(default, skip_serializing)]
    pub root_password: Option<String>,
    /// The argon2id hash of the root user's console password (`aws login`
    /// as root); `None`: the root user cannot sign in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_password_hash: Option<String>,
    /// Access keys of the root user (long-term; AWS advises against them):
    /// STS answers them as `arn:aws:iam::<id>:root` (docs/wire.md §4).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub root_access_keys: Vec<AccessKey>,
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PermissionSet {
    pub name: String,
    /// `ps-` and 16 hex digits, the last part of its ARN (filled in when missing).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Where the console opens (a URL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relay_state: Option<String>,
    /// Unix seconds (filled in when missing).
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub created_at: i64,
    /// Session duration in hours, 1 to 12.
    #[serde(default = "one")]
    pub session_hours: u32,
    /// AWS managed policies: names (`ReadOnlyAccess`) or, for those under
    /// a path, ARNs (`arn:aws:iam::aws:policy/job-function/ViewOnlyAccess`).
    #[serde(default)]
    pub policies: Vec<String>,
    /// An inline policy document (IAM policy JSON), kept as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inline_policy: Option<String>,
    /// References to customer managed policies in each account.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub customer_managed_policies: Vec<PolicyReference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions_boundary: Option<PermissionsBoundary>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
}

impl Default for PermissionSet {
    fn default() -> Self {
        PermissionSet {
            name: String::new(),
            id: String::new(),
            description: None,
            relay_state: None,
            created_at: 0,
            session_hours: 1,
            policies: vec![],
            inline_policy: None,
            customer_managed_policies: vec![],
            permissions_boundary: None,
            tags: vec![],
        }
    }
}

impl PermissionSet {
    /// `arn:aws:sso:::permissionSet/<instance id>/<ps id>`.
    pub fn arn(&self, instance: &Instance) -> String {
        format!("arn:aws:sso:::permissionSet/{}/{}", instance.instance_id(), self.id)
    }

    /// The ARN of a managed policy as listed in [`PermissionSet::policies`].
    pub fn policy_arn(policy: &str) -> String {
        if policy.starts_with("arn:") { policy.to_string() } else { format!("arn:aws:iam::aws:policy/{policy}") }
    }

    /// How a managed policy ARN is kept: its name when it has no path.
    pub fn policy_entry(arn: &str) -> String {
        match arn.strip_prefix("arn:aws:iam::aws:policy/") {
            Some(name) if !name.contains('/') => name.to_string(),
            _ => arn.to_string(),
        }
    }
}

fn is_zero_i64(n: &i64) -> bool {
    *n == 0
}

/// A customer managed policy by name and path (`/` unless given).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PolicyReference {
    pub name: String,
    #[serde(default = "root_path")]
    pub path: String,
}

fn root_path() -> String {
    "/".into()
}

/// A permissions boundary: an AWS managed policy or a customer managed one.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PermissionsBoundary {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub managed_policy_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_managed_policy: Option<PolicyReference>,
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Tag {
    pub key: String,
    #[serde(default)]
    pub value: String,
}

fn one() -> u32 {
    1
}

/// `principal` is `user:NAME` or `group:NAME`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Assignment {
    pub principal: String,
    pub account: String,
    pub permission_set: String,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct IamUser {
    pub account: String,
    pub name: String,
    #[serde(default)]
    pub access_keys: Vec<AccessKey>,
    /// Virtual MFA devices; the serial is `arn:aws:iam::<account>:mfa/<name>`.
    #[serde(default)]
    pub mfa: Vec<MfaDevice>,
    /// A console password in plain text, hashed on load.
    #[serde(default, skip_serializing)]
    pub console_password: Option<String>,
    /// The argon2id hash of the console password (`aws login`); `None`: no
    /// console access.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub console_password_hash: Option<String>,
}

impl IamUser {
    pub fn arn(&self) -> String {
        format!("arn:aws:iam::{}:user/{}", self.account, self.name)
    }

    pub fn mfa_serial(&self, device: &MfaDevice) -> String {
        format!("arn:aws:iam::{}:mfa/{}", self.account, device.name)
    }
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AccessKey {
    pub id: String,
    /// Left out of the public view; an edited view without it keeps the key's secret.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub secret: String,
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Role {
    pub account: String,
    pub name: String,
    /// Principals allowed to assume the role: IAM user ARNs, role ARNs (for
    /// chaining; SSO role sessions count as their role), or
    /// `arn:aws:iam::<account>:root` for any principal of that account.
    #[serde(default)]
    pub trust: Vec<String>,
    #[serde(default)]
    pub mfa_required: bool,
    /// Seconds, 3600 to 43200.
    #[serde(default = "hour")]
    pub max_session_duration: u32,
    #[serde(default)]
    pub external_id: Option<String>,
}

fn hour() -> u32 {
    3600
}

impl Role {
    pub fn arn(&self) -> String {
        format!("arn:aws:iam::{}:role/{}", self.account, self.name)
    }
}

/// Why a directory is refused.
#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    #[error("cannot parse the directory: {0}")]
    Toml(#[from] toml::de::Error),
    #[error("invalid directory: {0}")]
    Invalid(String),
}

impl Directory {
    /// Parses and validates a directory; plain-text passwords are hashed.
    pub fn from_toml(text: &str) -> Result<Directory, DirectoryError> {
        let mut dir: Directory = toml::from_str(text)?;
        dir.validate()?;
        dir.hash_passwords();
        Ok(dir)
    }

    /// Replaces every plain-text `password` by its argon2id hash.
    pub fn hash_passwords(&mut self) {
        for u in &mut self.users {
            if let Some(plain) = u.password.take() {
                u.password_hash = Some(crate::domain::password::hash(&plain));
            }
        }
        for u in &mut self.iam_users {
            if let Some(plain) = u.console_password.take() {
                u.console_password_hash = Some(crate::domain::password::hash(&plain));
            }
        }
        for a in &mut self.accounts {
            if let Some(plain) = a.root_password.take() {
                a.root_password_hash = Some(crate::domain::password::hash(&plain));
            }
        }
    }

    /// The directory without secrets (password hashes, MFA secrets, access
    /// key secrets): what every view shows (the admin page, the admin API,
    /// `tobira-idc directory`).
    pub fn public(&self) -> Directory {
        let mut d = self.clone();
        for u in &mut d.users {
            u.password = None;
            u.password_hash = None;
            u.mfa.iter_mut().for_each(|m| m.secret.clear());
        }
        for u in &mut d.iam_users {
            u.mfa.iter_mut().for_each(|m| m.secret.clear());
            u.access_keys.iter_mut().for_each(|k| k.secret.clear());
            u.console_password = None;
            u.console_password_hash = None;
        }
        for a in &mut d.accounts {
            a.root_password = None;
            a.root_password_hash = None;
            a.root_access_keys.iter_mut().for_each(|k| k.secret.clear());
        }
        d
    }

    /// Parses an edited public view that is to replace `old`: what comes
    /// without its secret (a user's password, an MFA device's or an access
    /// key's secret) keeps the one it had; then validates.
    pub fn from_edited_toml(text: &str, old: &Directory) -> Result<Directory, DirectoryError> {
        let mut dir: Directory = toml::from_str(text)?;
        dir.keep_secrets_of(old);
        dir.validate()?;
        dir.hash_passwords();
        Ok(dir)
    }

    /// The public view as TOML.
    pub fn to_public_toml(&self) -> String {
        toml::to_string(&self.public()).unwrap_or_default()
    }

    fn keep_secrets_of(&mut self, old: &Directory) {
        fn keep_keys(new: &mut [AccessKey], old: &[AccessKey]) {
            for k in new.iter_mut().filter(|k| k.secret.is_empty()) {
                if let Some(ok) = old.iter().find(|ok| ok.id == k.id) {
                    k.secret = ok.secret.clone();
                }
            }
        }
        fn keep_devices(new: &mut [MfaDevice], old: &[MfaDevice]) {
            for d in new.iter_mut().filter(|d| d.secret.is_empty()) {
                if let Some(o) = old.iter().find(|o| o.name == d.name) {
                    d.secret = o.secret.clone();
                }
            }
        }
        for u in &mut self.users {
            let Some(o) = old.user(&u.name) else { continue };
            if u.password.is_none() && u.password_hash.is_none() {
                u.password_hash = o.password_hash.clone();
            }
            keep_devices(&mut u.mfa, &o.mfa);
        }
        for a in &mut self.accounts {
            let Some(o) = old.accounts.iter().find(|o| o.id == a.id) else { continue };
            if a.root_password.is_none() && a.root_password_hash.is_none() {
                a.root_password_hash = o.root_password_hash.clone();
            }
            keep_keys(&mut a.root_access_keys, &o.root_access_keys);
        }
        for u in &mut self.iam_users {
            let Some(o) = old.iam_users.iter().find(|o| o.account == u.account && o.name == u.name) else { continue };
            keep_devices(&mut u.mfa, &o.mfa);
            if u.console_password.is_none() && u.console_password_hash.is_none() {
                u.console_password_hash = o.console_password_hash.clone();
            }
            keep_keys(&mut u.access_keys, &o.access_keys);
        }
    }

    /// Gives every user, group and permission set its AWS id, and every
    /// permission set its creation time, where missing. Ids are derived from
    /// names, so a directory written by hand keeps its ids across restarts.
    pub fn fill_ids(&mut self, now: i64) {
        let store = self.instance.identity_store_id();
        for u in self.users.iter_mut().filter(|u| u.id.is_empty()) {
            u.id = principal_id(&store, Some(&format!("user/{}", u.name)));
        }
        for g in self.groups.iter_mut().filter(|g| g.id.is_empty()) {
            g.id = principal_id(&store, Some(&format!("group/{}", g.name)));
        }
        for p in &mut self.permission_sets {
            if p.id.is_empty() {
                p.id = permission_set_id(Some(&p.name));
            }
            if p.created_at == 0 {
                p.created_at = now;
            }
        }
    }

    /// The id of `user`'s membership of `group` (both by id): derived, so it
    /// needs no row of its own.
    pub fn membership_id(&self, group_id: &str, user_id: &str) -> String {
        principal_id(&self.instance.identity_store_id(), Some(&format!("membership/{group_id}/{user_id}")))
    }

    /// The directory as stored: one row per entity and per relation
    /// (membership, assignment), in order (see `store.rs`).
    pub fn to_items(&self) -> Vec<Item> {
        fn json(v: &impl Serialize) -> String {
            serde_json::to_string(v).unwrap_or_default()
        }
        let mut out = vec![Item { kind: "instance".into(), key: String::new(), pos: 0, body: json(&self.instance) }];
        let pos = |i: usize| i64::try_from(i).unwrap_or(i64::MAX);
        for (i, u) in self.users.iter().enumerate() {
            let mut bare = u.clone();
            bare.groups.clear();
            out.push(Item { kind: "user".into(), key: u.name.clone(), pos: pos(i), body: json(&bare) });
            for (j, g) in u.groups.iter().enumerate() {
                out.push(Item {
                    kind: "membership".into(),
                    key: format!("{}\n{g}", u.name),
                    pos: pos(j),
                    body: json(&serde_json::json!({ "user": u.name, "group": g })),
                });
            }
        }
        let mut push = |kind: &str, key: String, i: usize, body: String| {
            out.push(Item { kind: kind.into(), key, pos: pos(i), body })
        };
        for (i, g) in self.groups.iter().enumerate() {
            push("group", g.name.clone(), i, json(g));
        }
        for (i, a) in self.accounts.iter().enumerate() {
            push("account", a.id.clone(), i, json(a));
        }
        for (i, p) in self.permission_sets.iter().enumerate() {
            push("permission_set", p.name.clone(), i, json(p));
        }
        for (i, a) in self.assignments.iter().enumerate() {
            push("assignment", format!("{}\n{}\n{}", a.principal, a.account, a.permission_set), i, json(a));
        }
        for (i, u) in self.iam_users.iter().enumerate() {
            push("iam_user", format!("{}\n{}", u.account, u.name), i, json(u));
        }
        for (i, r) in self.roles.iter().enumerate() {
            push("role", format!("{}\n{}", r.account, r.name), i, json(r));
        }
        out
    }

    /// Reads the stored rows back (the reverse of [`Directory::to_items`]).
    pub fn from_items(items: &[Item]) -> Result<Directory, DirectoryError> {
        fn parse<T: serde::de::DeserializeOwned>(i: &Item) -> Result<T, DirectoryError> {
            serde_json::from_str(&i.body)
                .map_err(|e| DirectoryError::Invalid(format!("stored {} `{}` is unreadable: {e}", i.kind, i.key)))
        }
        let mut items: Vec<&Item> = items.iter().collect();
        items.sort_by(|a, b| (&a.kind, a.pos, &a.key).cmp(&(&b.kind, b.pos, &b.key)));
        let mut dir = Directory::default();
        let mut instance = None;
        let mut memberships = Vec::new();
        for i in items {
            match i.kind.as_str() {
                "instance" => instance = Some(parse(i)?),
                "user" => dir.users.push(parse(i)?),
                "membership" => memberships.push(parse::<serde_json::Value>(i)?),
                "group" => dir.groups.push(parse(i)?),
                "account" => dir.accounts.push(parse(i)?),
                "permission_set" => dir.permission_sets.push(parse(i)?),
                "assignment" => dir.assignments.push(parse(i)?),
                "iam_user" => dir.iam_users.push(parse(i)?),
                "role" => dir.roles.push(parse(i)?),
                other => return Err(DirectoryError::Invalid(format!("unknown stored kind `{other}`"))),
            }
        }
        dir.instance =
            instance.ok_or_else(|| DirectoryError::Invalid("the stored directory has no instance".into()))?;
        for m in memberships {
            let (Some(user), Some(group)) = (m["user"].as_str(), m["group"].as_str()) else { continue };
            if let Some(u) = dir.users.iter_mut().find(|u| u.name == user) {
                u.groups.push(group.to_string());
            }
        }
        Ok(dir)
    }

    /// The built-in demo: two accounts, `ReadOnly` and `FullAccess`
    /// permission sets, a user `alice` with MFA, an IAM user `bob` with MFA
    /// who may switch to the `Ops` role with MFA.
    pub fn demo() -> Directory {
        #[allow(clippy::expect_used)] // a compile-time constant checked by a test
        Directory::from_toml(DEMO).expect("the built-in demo directory is valid")
    }

    pub(crate) fn validate(&self) -> Result<(), DirectoryError> {
        let bad = |m: String| Err(DirectoryError::Invalid(m));
        if !self.instance.start_url.starts_with("http") {
            return bad(format!("instance.start_url `{}` must be an http(s) URL", self.instance.start_url));
        }
        let mut seen = BTreeSet::new();
        for a in &self.accounts {
            if a.id.len() != 12 || !a.id.bytes().all(|b| b.is_ascii_digit()) {
                return bad(format!("account id `{}` must be 12 digits", a.id));
            }
            if !seen.insert(&a.id) {
                return bad(format!("account `{}` is listed twice", a.id));
            }
        }
        let mut names = BTreeSet::new();
        for u in &self.users {
            if !names.insert(u.name.to_lowercase()) {
                return bad(format!("user `{}` is listed twice (user names are unique, whatever their case)", u.name));
            }
        }
        let mut ids = BTreeSet::new();
        for id in self.users.iter().map(|u| &u.id).chain(self.groups.iter().map(|g| &g.id)) {
            if !id.is_empty() && !ids.insert(id) {
                return bad(format!("the id `{id}` is given to two users or groups"));
            }
        }
        let mut names = BTreeSet::new();
        for g in &self.groups {
            if !names.insert(&g.name) {
                return bad(format!("group `{}` is listed twice", g.name));
            }
        }
        for u in &self.users {
            if let Some(g) = u.groups.iter().find(|g| !names.contains(g)) {
                return bad(format!("user `{}` is a member of `{g}`, which is not in `groups`", u.name));
            }
        }
        let mut names = BTreeSet::new();
        for p in &self.permission_sets {
            if !names.insert(&p.name) || (!p.id.is_empty() && !ids.insert(&p.id)) {
                return bad(format!("permission set `{}` (or its id) is listed twice", p.name));
            }
        }
        for p in &self.permission_sets {
            if !(1..=12).contains(&p.session_hours) {
                return bad(format!("permission set `{}`: session_hours must be 1 to 12", p.name));
            }
            if let Some(doc) = &p.inline_policy
                && !serde_json::from_str::<serde_json::Value>(doc).is_ok_and(|v| v.get("Statement").is_some())
            {
                return bad(format!(
                    "permission set `{}`: the inline policy must be an IAM policy document (JSON with a \"Statement\")",
                    p.name
                ));
            }
        }
        for a in &self.assignments {
            let ok_principal = match a.principal.split_once(':') {
                Some(("user", n)) => self.users.iter().any(|u| u.name == n),
                Some(("group", n)) => self.groups.iter().any(|g| g.name == n),
                _ => false,
            };
            if !ok_principal {
                return bad(format!(
                    "assignment principal `{}` is not `user:NAME` or `group:NAME` of the directory",
                    a.principal
                ));
            }
            if !self.accounts.iter().any(|x| x.id == a.account) {
                return bad(format!("assignment account `{}` is not in `accounts`", a.account));
            }
            if !self.permission_sets.iter().any(|p| p.name == a.permission_set) {
                return bad(format!("assignment permission set `{}` is not in `permission_sets`", a.permission_set));
            }
        }
        for r in &self.roles {
            if !(3600..=43200).contains(&r.max_session_duration) {
                return bad(format!("role `{}`: max_session_duration must be 3600 to 43200", r.name));
            }
        }
        let mut key_ids = BTreeSet::new();
        let root_keys = self.accounts.iter().flat_map(|a| &a.root_access_keys);
        for k in self.iam_users.iter().flat_map(|u| &u.access_keys).chain(root_keys) {
            if k.secret.is_empty() {
                return bad(format!("access key `{}` has no secret (a new key needs its secret)", k.id));
            }
            if !key_ids.insert(&k.id) {
                return bad(format!("access key `{}` is listed twice", k.id));
            }
        }
        for u in &self.users {
            if u.password_hash.as_deref().is_some_and(|h| !crate::domain::password::is_hash(h)) {
                return bad(format!("user `{}`: password_hash must be an argon2id PHC string", u.name));
            }
        }
        for u in &self.iam_users {
            if u.console_password_hash.as_deref().is_some_and(|h| !crate::domain::password::is_hash(h)) {
                return bad(format!("IAM user `{}`: console_password_hash must be an argon2id PHC string", u.name));
            }
        }
        for a in &self.accounts {
            if a.root_password_hash.as_deref().is_some_and(|h| !crate::domain::password::is_hash(h)) {
                return bad(format!("account `{}`: root_password_hash must be an argon2id PHC string", a.id));
            }
        }
        for d in self.users.iter().flat_map(|u| &u.mfa).chain(self.iam_users.iter().flat_map(|u| &u.mfa)) {
            if d.secret.is_empty() {
                return bad(format!("MFA device `{}` has no secret (a new device needs its base32 secret)", d.name));
            }
            if crate::totp::decode_secret(&d.secret).is_none() {
                return bad(format!("MFA device `{}`: secret is not base32", d.name));
            }
        }
        Ok(())
    }

    pub fn user(&self, name: &str) -> Option<&User> {
        self.users.iter().find(|u| u.name == name)
    }

    /// Accounts and permission sets assigned to a user, directly or through
    /// a group: (account, permission set), sorted by account id then
    /// permission set name, without duplicates.
    pub fn entitlements(&self, user: &str) -> Vec<(&Account, &PermissionSet)> {
        let Some(u) = self.user(user) else { return vec![] };
        let accounts: HashMap<&str, &Account> = self.accounts.iter().map(|a| (a.id.as_str(), a)).collect();
        let sets: HashMap<&str, &PermissionSet> = self.permission_sets.iter().map(|p| (p.name.as_str(), p)).collect();
        let groups: BTreeSet<&str> = u.groups.iter().map(String::as_str).collect();
        let mut pairs = BTreeSet::new();
        for a in &self.assignments {
            let applies = match a.principal.split_once(':') {
                Some(("user", n)) => n == u.name,
                Some(("group", n)) => groups.contains(n),
                _ => false,
            };
            if applies {
                pairs.insert((a.account.as_str(), a.permission_set.as_str()));
            }
        }
        pairs.into_iter().filter_map(|(acct, ps)| Some((*accounts.get(acct)?, *sets.get(ps)?))).collect()
    }

    /// The IAM user owning an access key id.
    pub fn iam_user_by_key(&self, key_id: &str) -> Option<(&IamUser, &AccessKey)> {
        self.iam_users.iter().find_map(|u| u.access_keys.iter().find(|k| k.id == key_id).map(|k| (u, k)))
    }

    /// The account whose root user owns an access key id.
    pub fn root_by_key(&self, key_id: &str) -> Option<(&Account, &AccessKey)> {
        self.accounts.iter().find_map(|a| a.root_access_keys.iter().find(|k| k.id == key_id).map(|k| (a, k)))
    }

    pub fn role_by_arn(&self, arn: &str) -> Option<&Role> {
        self.roles.iter().find(|r| r.arn() == arn)
    }
}

const DEMO: &str = r##"
[instance]
start_url = "https://d-1234567890.awsapps.com/start"
region = "us-east-1"
mfa_required = true
# May call the SSO Admin and Identity Store APIs (bob's documentation keys below).
administrators = ["arn:aws:iam::123456789012:user/bob"]

[[users]]
name = "alice"
email = "alice@example.com"
display_name = "Alice Example"
# The password is "correct horse battery staple".
password_hash = "$argon2id$v=19$m=19456,t=2,p=1$sFtoMUdMmhxHM7FrFXT2Zg$8zz8epgN0oZXrY3jXvWKz5JeBfj/f9EoZRC1rQOmGKE"
groups = ["engineers"]
[[users.mfa]]
name = "alice-phone"
secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"

[[users]]
name = "carol"
email = "carol@example.com"
display_name = "Carol Invited"
groups = ["engineers"]

[[groups]]
name = "engineers"

[[accounts]]
id = "111111111111"
name = "Production"
email = "prod@example.com"

[[accounts]]
id = "222222222222"
name = "Development"
email = "dev@example.com"

[[permission_sets]]
name = "ReadOnly"
session_hours = 1
policies = ["ReadOnlyAccess"]

[[permission_sets]]
name = "FullAccess"
session_hours = 8
policies = ["AdministratorAccess"]

[[assignments]]
principal = "group:engineers"
account = "111111111111"
permission_set = "ReadOnly"

[[assignments]]
principal = "user:alice"
account = "222222222222"
permission_set = "ReadOnly"

[[assignments]]
principal = "user:alice"
account = "222222222222"
permission_set = "FullAccess"

[[iam_users]]
account = "123456789012"
name = "bob"
# Console password (aws login): "correct horse battery staple".
console_password_hash = "$argon2id$v=19$m=19456,t=2,p=1$sFtoMUdMmhxHM7FrFXT2Zg$8zz8epgN0oZXrY3jXvWKz5JeBfj/f9EoZRC1rQOmGKE"
[[iam_users.access_keys]]
id = "AKIAIOSFODNN7EXAMPLE"
secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
[[iam_users.mfa]]
name = "bob-phone"
secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"

[[roles]]
account = "123456789012"
name = "Ops"
trust = ["arn:aws:iam::123456789012:user/bob"]
mfa_required = true
max_session_duration = 43200

[[roles]]
account = "123456789012"
name = "Audit"
trust = ["arn:aws:iam::123456789012:root", "arn:aws:iam::111111111111:role/AWSReservedSSO_ReadOnly_*"]
external_id = "audit-ext-1"
"##;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_is_valid_and_entitlements_follow_groups() {
        let d = Directory::demo();
        let alice: Vec<(String, String)> =
            d.entitlements("alice").into_iter().map(|(a, p)| (a.id.clone(), p.name.clone())).collect();
        assert_eq!(
            alice,
            [
                ("111111111111".into(), "ReadOnly".into()),
                ("222222222222".into(), "FullAccess".into()),
                ("222222222222".into(), "ReadOnly".into())
            ]
        );
        assert_eq!(d.entitlements("carol").len(), 1);
        assert!(d.iam_user_by_key("AKIAIOSFODNN7EXAMPLE").is_some());
        let alice = d.user("alice").unwrap().password_hash.as_deref().unwrap();
        assert!(crate::domain::password::verify(alice, "correct horse battery staple"));
    }

    #[test]
    fn passwords_are_hashed_on_load_never_shown_and_kept_across_edits() {
        let text = "[instance]\nstart_url = \"https://x.awsapps.com/start\"\nregion = \"us-east-1\"\n\
                    [[users]]\nname = \"dan\"\npassword = \"a secret phrase\"\n";
        let d = Directory::from_toml(text).unwrap();
        let dan = d.user("dan").unwrap();
        assert!(dan.password.is_none());
        assert!(crate::domain::password::verify(dan.password_hash.as_deref().unwrap(), "a secret phrase"));
        let stored = toml::to_string(&d).unwrap();
        assert!(stored.contains("password_hash") && !stored.contains("a secret phrase"), "{stored}");
        let public = d.to_public_toml();
        assert!(!public.contains("password") && !public.contains("argon2"), "{public}");
        let edited = Directory::from_edited_toml(&public, &d).unwrap();
        assert_eq!(edited.user("dan").unwrap().password_hash, dan.password_hash);
        let e = Directory::from_toml(&format!("{text}password_hash = \"plain\"\n")).unwrap_err();
        assert!(e.to_string().contains("argon2id"), "{e}");
    }

    #[test]
    fn the_public_view_hides_every_secret_and_edits_keep_them() {
        let demo = Directory::demo();
        let public = demo.to_public_toml();
        for secret in
            ["JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", "wJalrXUtnFEMI", "argon2"]
        {
            assert!(!public.contains(secret), "{secret} shown: {public}");
        }
        let edited = Directory::from_edited_toml(&public.replace("Alice Example", "Alice E."), &demo).unwrap();
        assert_eq!(edited.user("alice").unwrap().display_name, "Alice E.");
        let mut expected = demo.clone();
        expected.users[0].display_name = "Alice E.".into();
        assert_eq!(edited, expected, "every secret kept");
        // A new device must come with its secret.
        let e =
            Directory::from_edited_toml(&public.replace("name = \"alice-phone\"", "name = \"alice-tablet\""), &demo)
                .unwrap_err();
        assert!(e.to_string().contains("MFA device `alice-tablet` has no secret"), "{e}");
    }

    #[test]
    fn root_access_keys_are_found_hidden_kept_and_unique() {
        let mut demo = Directory::demo();
        let key =
            AccessKey { id: "AKIAROOTEXAMPLE00001".into(), secret: "root-secret-0000000000000000000000000000".into() };
        demo.accounts[0].root_access_keys.push(key.clone());
        demo.validate().unwrap();
        let (account, found) = demo.root_by_key(&key.id).unwrap();
        assert_eq!((account.id.as_str(), found), ("111111111111", &key));
        assert!(demo.root_by_key("AKIAIOSFODNN7EXAMPLE").is_none(), "an IAM user's key is not the root user's");
        let public = demo.to_public_toml();
        assert!(public.contains("AKIAROOTEXAMPLE00001") && !public.contains("root-secret"), "{public}");
        assert_eq!(Directory::from_edited_toml(&public, &demo).unwrap(), demo, "the secret is kept");
        // A key id given twice (here: bob's) is refused.
        demo.accounts[1].root_access_keys.push(AccessKey { id: "AKIAIOSFODNN7EXAMPLE".into(), secret: "x".into() });
        let e = demo.validate().unwrap_err();
        assert!(e.to_string().contains("access key `AKIAIOSFODNN7EXAMPLE` is listed twice"), "{e}");
    }

    #[test]
    fn invalid_directories_are_refused_with_a_reason() {
        let base = "[instance]\nstart_url = \"https://x.awsapps.com/start\"\nregion = \"us-east-1\"\n";
        let e = Directory::from_toml(&format!("{base}[[accounts]]\nid = \"12\"\nname = \"x\"\n")).unwrap_err();
        assert_eq!(e.to_string(), "invalid directory: account id `12` must be 12 digits");
        let e = Directory::from_toml(&format!("{base}[[permission_sets]]\nname = \"p\"\nsession_hours = 13\n"))
            .unwrap_err();
        assert!(e.to_string().contains("session_hours must be 1 to 12"), "{e}");
        assert!(Directory::from_toml(&format!("{base}bogus = 1\n")).is_err());
    }
}
