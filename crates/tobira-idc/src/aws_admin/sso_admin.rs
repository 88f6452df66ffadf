//! SSO Admin (docs/admin-apis.md §4): the instance, permission sets and their
//! policies, tags, provisioning, and account assignments.
//!
//! Changes apply at once, so provisioning and assignment requests answer
//! `SUCCEEDED` straight away; their request ids are kept so the status calls
//! (which Terraform polls) find them. `ConflictException` is never used:
//! Terraform retries it on every SSO Admin call for minutes, so duplicates
//! are `ValidationException`s, which fail fast (§1.4).

use serde_json::{Value, json};

use super::{ApiError, Input, opt, page, req, timestamp, with_next};
use crate::Idc;
use crate::domain::directory::{
    Assignment, Directory, PermissionSet, PermissionsBoundary, PolicyReference, Tag, permission_set_id,
};
use crate::domain::random;

pub(crate) const OPERATIONS: &[&str] = &[
    "ListInstances",
    "DescribeInstance",
    "CreatePermissionSet",
    "DescribePermissionSet",
    "ListPermissionSets",
    "UpdatePermissionSet",
    "DeletePermissionSet",
    "ProvisionPermissionSet",
    "DescribePermissionSetProvisioningStatus",
    "ListPermissionSetProvisioningStatus",
    "ListAccountsForProvisionedPermissionSet",
    "ListPermissionSetsProvisionedToAccount",
    "ListTagsForResource",
    "TagResource",
    "UntagResource",
    "AttachManagedPolicyToPermissionSet",
    "DetachManagedPolicyFromPermissionSet",
    "ListManagedPoliciesInPermissionSet",
    "PutInlinePolicyToPermissionSet",
    "GetInlinePolicyForPermissionSet",
    "DeleteInlinePolicyFromPermissionSet",
    "AttachCustomerManagedPolicyReferenceToPermissionSet",
    "DetachCustomerManagedPolicyReferenceFromPermissionSet",
    "ListCustomerManagedPolicyReferencesInPermissionSet",
    "PutPermissionsBoundaryToPermissionSet",
    "GetPermissionsBoundaryForPermissionSet",
    "DeletePermissionsBoundaryFromPermissionSet",
    "CreateAccountAssignment",
    "DescribeAccountAssignmentCreationStatus",
    "DeleteAccountAssignment",
    "DescribeAccountAssignmentDeletionStatus",
    "ListAccountAssignments",
    "ListAccountAssignmentsForPrincipal",
    "ListAccountAssignmentCreationStatus",
    "ListAccountAssignmentDeletionStatus",
];

const PROVISIONING: &str = "provisioning";
const CREATION: &str = "assignment_creation";
const DELETION: &str = "assignment_deletion";

pub(crate) fn call(idc: &Idc, op: &str, input: &Input) -> Result<Value, ApiError> {
    let core = idc.core();
    let model = core.model();
    let dir = &model.dir;
    if op == "ListInstances" {
        let (instances, next) = page(vec![instance_json(dir)], input, 100)?;
        return Ok(with_next(json!({ "Instances": instances }), next));
    }
    check_instance(dir, input)?;
    match op {
        "DescribeInstance" => Ok(instance_json(dir)),
        "CreatePermissionSet" => create_permission_set(idc, input),
        "DescribePermissionSet" => {
            let ps = permission_set(dir, input)?;
            Ok(json!({ "PermissionSet": permission_set_json(dir, ps) }))
        }
        "ListPermissionSets" => {
            let arns: Vec<String> = dir.permission_sets.iter().map(|p| p.arn(&dir.instance)).collect();
            let (arns, next) = page(arns, input, 100)?;
            Ok(with_next(json!({ "PermissionSets": arns }), next))
        }
        "UpdatePermissionSet" => {
            let description = opt(input, "Description")?.map(str::to_string);
            let relay = opt(input, "RelayState")?.map(str::to_string);
            let hours = opt(input, "SessionDuration")?.map(session_hours).transpose()?;
            if let Some(d) = &description {
                check_description(d)?;
            }
            change_permission_set(idc, input, |ps| {
                if description.is_some() {
                    ps.description = description;
                }
                if let Some(h) = hours {
                    ps.session_hours = h;
                }
                // A missing RelayState clears it (the provider always re-sends it).
                ps.relay_state = relay;
                Ok(())
            })
        }
        "DeletePermissionSet" => {
            let ps = permission_set(dir, input)?;
            let name = ps.name.clone();
            core.change(|d| {
                if d.assignments.iter().any(|a| a.permission_set == name) {
                    return Err(invalid(format!(
                        "permission set `{name}` is still assigned to accounts; delete its account assignments first"
                    )));
                }
                d.permission_sets.retain(|p| p.name != name);
                Ok(())
            })?;
            Ok(json!({}))
        }
        "ProvisionPermissionSet" => provision(idc, input),
        "DescribePermissionSetProvisioningStatus" => {
            let id = req(input, "ProvisionPermissionSetRequestId")?;
            Ok(json!({ "PermissionSetProvisioningStatus": request(idc, PROVISIONING, id)? }))
        }
        "ListPermissionSetProvisioningStatus" => {
            list_requests(idc, PROVISIONING, input, "PermissionSetsProvisioningStatus")
        }
        "ListAccountsForProvisionedPermissionSet" => {
            let ps = permission_set(dir, input)?;
            let accounts = if opt(input, "ProvisioningStatus")? == Some("LATEST_PERMISSION_SET_NOT_PROVISIONED") {
                vec![]
            } else {
                provisioned_accounts(dir, &ps.name)
            };
            let (accounts, next) = page(accounts, input, 100)?;
            Ok(with_next(json!({ "AccountIds": accounts }), next))
        }
        "ListPermissionSetsProvisionedToAccount" => {
            let account = req(input, "AccountId")?;
            let sets: Vec<String> =
                if opt(input, "ProvisioningStatus")? == Some("LATEST_PERMISSION_SET_NOT_PROVISIONED") {
                    vec![]
                } else {
                    dir.permission_sets
                        .iter()
                        .filter(|p| dir.assignments.iter().any(|a| a.account == account && a.permission_set == p.name))
                        .map(|p| p.arn(&dir.instance))
                        .collect()
                };
            let (sets, next) = page(sets, input, 100)?;
            Ok(with_next(json!({ "PermissionSets": sets }), next))
        }
        "ListTagsForResource" => {
            let ps = tagged(dir, input)?;
            let tags: Vec<Value> = ps.tags.iter().map(|t| json!({ "Key": t.key, "Value": t.value })).collect();
            let (tags, next) = page(tags, input, 100)?;
            Ok(with_next(json!({ "Tags": tags }), next))
        }
        "TagResource" => {
            let arn = tagged(dir, input)?.arn(&dir.instance);
            let tags = tags(input)?;
            change_by_arn(idc, &arn, |ps| {
                for t in tags {
                    ps.tags.retain(|x| x.key != t.key);
                    ps.tags.push(t);
                }
                if ps.tags.len() > 75 {
                    return Err(invalid("a permission set has at most 75 tags".into()));
                }
                Ok(())
            })
        }
        "UntagResource" => {
            let arn = tagged(dir, input)?.arn(&dir.instance);
            let keys: Vec<String> = string_list(input, "TagKeys")?;
            if keys.is_empty() || keys.len() > 75 {
                return Err(ApiError::Validation("TagKeys must list 1 to 75 keys".into()));
            }
            change_by_arn(idc, &arn, |ps| {
                ps.tags.retain(|t| !keys.contains(&t.key));
                Ok(())
            })
        }
        "AttachManagedPolicyToPermissionSet" => {
            let arn = managed_policy_arn(req(input, "ManagedPolicyArn")?)?;
            change_permission_set(idc, input, |ps| {
                if ps.policies.iter().any(|p| PermissionSet::policy_arn(p) == arn) {
                    return Err(invalid(format!("{arn} is already attached to permission set `{}`", ps.name)));
                }
                if ps.policies.len() >= 20 {
                    return Err(invalid("a permission set has at most 20 managed policies".into()));
                }
                ps.policies.push(PermissionSet::policy_entry(&arn));
                Ok(())
            })
        }
        "DetachManagedPolicyFromPermissionSet" => {
            let arn = req(input, "ManagedPolicyArn")?.to_string();
            change_permission_set(idc, input, |ps| {
                let before = ps.policies.len();
                ps.policies.retain(|p| PermissionSet::policy_arn(p) != arn);
                if ps.policies.len() == before {
                    return Err(not_found(format!("{arn} is not attached to permission set `{}`", ps.name)));
                }
                Ok(())
            })
        }
        "ListManagedPoliciesInPermissionSet" => {
            let ps = permission_set(dir, input)?;
            let policies: Vec<Value> = ps
                .policies
                .iter()
                .map(|p| {
                    let arn = PermissionSet::policy_arn(p);
                    json!({ "Arn": arn, "Name": arn.rsplit('/').next().unwrap_or_default() })
                })
                .collect();
            let (policies, next) = page(policies, input, 100)?;
            Ok(with_next(json!({ "AttachedManagedPolicies": policies }), next))
        }
        "PutInlinePolicyToPermissionSet" => {
            let doc = req(input, "InlinePolicy")?.to_string();
            if doc.is_empty() || doc.len() > 32_768 {
                return Err(ApiError::Validation("InlinePolicy must be 1 to 32768 characters".into()));
            }
            change_permission_set(idc, input, |ps| {
                ps.inline_policy = Some(doc);
                Ok(())
            })
        }
        "GetInlinePolicyForPermissionSet" => {
            let ps = permission_set(dir, input)?;
            Ok(json!({ "InlinePolicy": ps.inline_policy.clone().unwrap_or_default() }))
        }
        "DeleteInlinePolicyFromPermissionSet" => change_permission_set(idc, input, |ps| {
            ps.inline_policy = None;
            Ok(())
        }),
        "AttachCustomerManagedPolicyReferenceToPermissionSet" => {
            let r = policy_reference(input.get("CustomerManagedPolicyReference"))?;
            change_permission_set(idc, input, |ps| {
                if ps.customer_managed_policies.contains(&r) {
                    return Err(invalid(format!(
                        "customer managed policy {}{} is already attached to permission set `{}`",
                        r.path, r.name, ps.name
                    )));
                }
                ps.customer_managed_policies.push(r);
                Ok(())
            })
        }
        "DetachCustomerManagedPolicyReferenceFromPermissionSet" => {
            let r = policy_reference(input.get("CustomerManagedPolicyReference"))?;
            change_permission_set(idc, input, |ps| {
                let before = ps.customer_managed_policies.len();
                ps.customer_managed_policies.retain(|x| x != &r);
                if before == ps.customer_managed_policies.len() {
                    return Err(not_found(format!(
                        "customer managed policy {}{} is not attached to permission set `{}`",
                        r.path, r.name, ps.name
                    )));
                }
                Ok(())
            })
        }
        "ListCustomerManagedPolicyReferencesInPermissionSet" => {
            let ps = permission_set(dir, input)?;
            let refs: Vec<Value> =
                ps.customer_managed_policies.iter().map(|r| json!({ "Name": r.name, "Path": r.path })).collect();
            let (refs, next) = page(refs, input, 100)?;
            Ok(with_next(json!({ "CustomerManagedPolicyReferences": refs }), next))
        }
        "PutPermissionsBoundaryToPermissionSet" => {
            let b = input
                .get("PermissionsBoundary")
                .and_then(Value::as_object)
                .ok_or_else(|| super::missing("PermissionsBoundary"))?;
            let boundary = match (b.get("ManagedPolicyArn"), b.get("CustomerManagedPolicyReference")) {
                (Some(Value::String(arn)), None) => PermissionsBoundary {
                    managed_policy_arn: Some(managed_policy_arn(arn)?),
                    customer_managed_policy: None,
                },
                (None, Some(r)) => PermissionsBoundary {
                    managed_policy_arn: None,
                    customer_managed_policy: Some(policy_reference(Some(r))?),
                },
                _ => {
                    return Err(ApiError::Validation(
                        "PermissionsBoundary takes exactly one of ManagedPolicyArn and CustomerManagedPolicyReference"
                            .into(),
                    ));
                }
            };
            change_permission_set(idc, input, |ps| {
                ps.permissions_boundary = Some(boundary);
                Ok(())
            })
        }
        "GetPermissionsBoundaryForPermissionSet" => {
            let ps = permission_set(dir, input)?;
            let b = ps
                .permissions_boundary
                .as_ref()
                .ok_or_else(|| not_found_api(format!("permission set `{}` has no permissions boundary", ps.name)))?;
            let out = match (&b.managed_policy_arn, &b.customer_managed_policy) {
                (Some(arn), _) => json!({ "ManagedPolicyArn": arn }),
                (None, Some(r)) => json!({ "CustomerManagedPolicyReference": { "Name": r.name, "Path": r.path } }),
                (None, None) => json!({}),
            };
            Ok(json!({ "PermissionsBoundary": out }))
        }
        "DeletePermissionsBoundaryFromPermissionSet" => change_permission_set(idc, input, |ps| {
            ps.permissions_boundary = None;
            Ok(())
        }),
        "CreateAccountAssignment" => assignment(idc, input, true),
        "DeleteAccountAssignment" => assignment(idc, input, false),
        "DescribeAccountAssignmentCreationStatus" => {
            let id = req(input, "AccountAssignmentCreationRequestId")?;
            Ok(json!({ "AccountAssignmentCreationStatus": request(idc, CREATION, id)? }))
        }
        "DescribeAccountAssignmentDeletionStatus" => {
            let id = req(input, "AccountAssignmentDeletionRequestId")?;
            Ok(json!({ "AccountAssignmentDeletionStatus": request(idc, DELETION, id)? }))
        }
        "ListAccountAssignmentCreationStatus" => {
            list_requests(idc, CREATION, input, "AccountAssignmentsCreationStatus")
        }
        "ListAccountAssignmentDeletionStatus" => {
            list_requests(idc, DELETION, input, "AccountAssignmentsDeletionStatus")
        }
        "ListAccountAssignments" => {
            let account = req(input, "AccountId")?;
            let ps = permission_set(dir, input)?;
            let arn = ps.arn(&dir.instance);
            let rows: Vec<Value> = dir
                .assignments
                .iter()
                .filter(|a| a.account == account && a.permission_set == ps.name)
                .filter_map(|a| principal_of(dir, &a.principal))
                .map(|(kind, id)| {
                    json!({ "AccountId": account, "PermissionSetArn": arn, "PrincipalType": kind, "PrincipalId": id })
                })
                .collect();
            let (rows, next) = page(rows, input, 100)?;
            Ok(with_next(json!({ "AccountAssignments": rows }), next))
        }
        "ListAccountAssignmentsForPrincipal" => {
            let principal = principal_key(dir, req(input, "PrincipalType")?, req(input, "PrincipalId")?)?;
            let account = input.get("Filter").and_then(|f| f.get("AccountId")).and_then(Value::as_str);
            let (kind, id) = (req(input, "PrincipalType")?, req(input, "PrincipalId")?);
            let rows: Vec<Value> = dir
                .assignments
                .iter()
                .filter(|a| a.principal == principal && account.is_none_or(|x| x == a.account))
                .filter_map(|a| {
                    let ps = dir.permission_sets.iter().find(|p| p.name == a.permission_set)?;
                    Some(json!({
                        "AccountId": a.account, "PermissionSetArn": ps.arn(&dir.instance),
                        "PrincipalType": kind, "PrincipalId": id,
                    }))
                })
                .collect();
            let (rows, next) = page(rows, input, 100)?;
            Ok(with_next(json!({ "AccountAssignments": rows }), next))
        }
        other => Err(ApiError::UnknownOperation(other.to_string())),
    }
}

fn invalid(message: String) -> crate::domain::ChangeError {
    crate::domain::ChangeError::Directory(crate::domain::directory::DirectoryError::Invalid(message))
}

/// A missing resource found inside a directory change (Delete/Detach
/// callers treat `ResourceNotFoundException` as already done, §1.4).
fn not_found(message: String) -> crate::domain::ChangeError {
    crate::domain::ChangeError::NotFound(message)
}

fn not_found_api(message: String) -> ApiError {
    ApiError::not_found(message)
}

fn change_error(e: crate::domain::ChangeError) -> ApiError {
    e.into()
}

fn instance_json(dir: &Directory) -> Value {
    let i = &dir.instance;
    json!({
        "InstanceArn": i.instance_arn(),
        "IdentityStoreId": i.identity_store_id(),
        "OwnerAccountId": owner_account(dir),
        "Name": "tobira-idc",
        "Status": "ACTIVE",
        "PrimaryRegion": i.region,
    })
}

/// The management account: the first account of the directory.
fn owner_account(dir: &Directory) -> String {
    dir.accounts.first().map_or_else(|| "000000000000".to_string(), |a| a.id.clone())
}

fn check_instance(dir: &Directory, input: &Input) -> Result<(), ApiError> {
    let arn = req(input, "InstanceArn")?;
    if arn != dir.instance.instance_arn() {
        return Err(ApiError::not_found(format!(
            "Instance {arn} does not exist; this tobira-idc's instance is {} (aws sso-admin list-instances)",
            dir.instance.instance_arn()
        )));
    }
    Ok(())
}

fn by_arn<'a>(dir: &'a Directory, arn: &str) -> Result<&'a PermissionSet, ApiError> {
    dir.permission_sets
        .iter()
        .find(|p| p.arn(&dir.instance) == arn)
        .ok_or_else(|| ApiError::not_found(format!("Could not find permission set {arn}")))
}

fn permission_set<'a>(dir: &'a Directory, input: &Input) -> Result<&'a PermissionSet, ApiError> {
    by_arn(dir, req(input, "PermissionSetArn")?)
}

/// Tags are kept on permission sets.
fn tagged<'a>(dir: &'a Directory, input: &Input) -> Result<&'a PermissionSet, ApiError> {
    let arn = req(input, "ResourceArn")?;
    if arn == dir.instance.instance_arn() {
        return Err(ApiError::Validation("tobira-idc keeps tags on permission sets only".into()));
    }
    by_arn(dir, arn)
}

fn permission_set_json(dir: &Directory, ps: &PermissionSet) -> Value {
    let mut v = json!({
        "Name": ps.name,
        "PermissionSetArn": ps.arn(&dir.instance),
        "CreatedDate": timestamp(ps.created_at),
        "SessionDuration": format!("PT{}H", ps.session_hours),
    });
    if let Some(d) = &ps.description {
        v["Description"] = json!(d);
    }
    if let Some(r) = &ps.relay_state {
        v["RelayState"] = json!(r);
    }
    v
}

/// `PT8H` → 8. Identity Center allows one to twelve hours; tobira-idc keeps
/// whole hours and says so.
fn session_hours(iso: &str) -> Result<u32, ApiError> {
    let bad = || {
        ApiError::Validation(format!(
            "SessionDuration `{iso}` must be an ISO-8601 duration of whole hours from PT1H to PT12H"
        ))
    };
    let body = iso.strip_prefix("PT").ok_or_else(bad)?;
    let mut seconds: u64 = 0;
    let mut number = String::new();
    for c in body.chars() {
        match c {
            '0'..='9' => number.push(c),
            'H' | 'M' | 'S' => {
                let n: u64 = number.parse().map_err(|_| bad())?;
                number.clear();
                seconds += n * match c {
                    'H' => 3600,
                    'M' => 60,
                    _ => 1,
                };
            }
            _ => return Err(bad()),
        }
    }
    if !number.is_empty() || !seconds.is_multiple_of(3600) || !(3600..=43_200).contains(&seconds) {
        return Err(bad());
    }
    u32::try_from(seconds / 3600).map_err(|_| bad())
}

fn check_name(name: &str) -> Result<(), ApiError> {
    if name.is_empty() || name.len() > 32 || !name.chars().all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c)) {
        return Err(ApiError::Validation(format!(
            "1 validation error detected: Value '{name}' at 'name' failed to satisfy constraint: Member must be 1 to 32 characters of [\\w+=,.@-]"
        )));
    }
    Ok(())
}

fn check_description(d: &str) -> Result<(), ApiError> {
    if d.is_empty() || d.chars().count() > 700 {
        return Err(ApiError::Validation("Description must be 1 to 700 characters".into()));
    }
    Ok(())
}

fn tags(input: &Input) -> Result<Vec<Tag>, ApiError> {
    let list = input.get("Tags").and_then(Value::as_array).ok_or_else(|| super::missing("Tags"))?;
    let mut out = Vec::new();
    for t in list {
        let key = t.get("Key").and_then(Value::as_str).unwrap_or_default();
        let value = t.get("Value").and_then(Value::as_str).unwrap_or_default();
        if key.is_empty() || key.chars().count() > 128 || value.chars().count() > 256 {
            return Err(ApiError::Validation(
                "a tag's Key must be 1 to 128 characters and its Value at most 256".into(),
            ));
        }
        out.push(Tag { key: key.into(), value: value.into() });
    }
    Ok(out)
}

fn string_list(input: &Input, member: &str) -> Result<Vec<String>, ApiError> {
    let list = input.get(member).and_then(Value::as_array).ok_or_else(|| super::missing(member))?;
    Ok(list.iter().filter_map(Value::as_str).map(str::to_string).collect())
}

/// Only AWS managed policies can be attached (`arn:aws:iam::aws:policy/…`).
fn managed_policy_arn(arn: &str) -> Result<String, ApiError> {
    match arn.strip_prefix("arn:aws:iam::aws:policy/") {
        Some(rest) if !rest.is_empty() => Ok(arn.to_string()),
        _ => Err(ApiError::Validation(format!(
            "ManagedPolicyArn `{arn}` is not an AWS managed policy ARN (arn:aws:iam::aws:policy/NAME)"
        ))),
    }
}

fn policy_reference(v: Option<&Value>) -> Result<PolicyReference, ApiError> {
    let v = v.and_then(Value::as_object).ok_or_else(|| super::missing("CustomerManagedPolicyReference"))?;
    let name = v.get("Name").and_then(Value::as_str).unwrap_or_default();
    let path = v.get("Path").and_then(Value::as_str).unwrap_or("/");
    if name.is_empty() || name.len() > 128 || !name.chars().all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c))
    {
        return Err(ApiError::Validation(format!(
            "customer managed policy name `{name}` must be 1 to 128 of [\\w+=,.@-]"
        )));
    }
    if !path.starts_with('/') || !path.ends_with('/') {
        return Err(ApiError::Validation(format!("policy path `{path}` must begin and end with /")));
    }
    Ok(PolicyReference { name: name.into(), path: path.into() })
}

fn create_permission_set(idc: &Idc, input: &Input) -> Result<Value, ApiError> {
    let name = req(input, "Name")?.to_string();
    check_name(&name)?;
    let description = opt(input, "Description")?.map(str::to_string);
    if let Some(d) = &description {
        check_description(d)?;
    }
    let hours = opt(input, "SessionDuration")?.map(session_hours).transpose()?.unwrap_or(1);
    let relay_state = opt(input, "RelayState")?.map(str::to_string);
    let tags = if input.contains_key("Tags") { tags(input)? } else { vec![] };
    let core = idc.core();
    let now = core.now();
    let created = core
        .change(|d| {
            if d.permission_sets.iter().any(|p| p.name == name) {
                // Not a ConflictException: Terraform would retry it for minutes (§1.4).
                return Err(invalid(format!("a permission set named `{name}` already exists in this instance")));
            }
            let ps = PermissionSet {
                name: name.clone(),
                id: permission_set_id(None),
                description,
                relay_state,
                created_at: now,
                session_hours: hours,
                tags,
                ..PermissionSet::default()
            };
            d.permission_sets.push(ps.clone());
            Ok(ps)
        })
        .map_err(change_error)?;
    let model = core.model();
    Ok(json!({ "PermissionSet": permission_set_json(&model.dir, &created) }))
}

/// Changes the permission set `input` names; `{}` on success.
fn change_permission_set(
    idc: &Idc,
    input: &Input,
    f: impl FnOnce(&mut PermissionSet) -> Result<(), crate::domain::ChangeError>,
) -> Result<Value, ApiError> {
    change_by_arn(idc, req(input, "PermissionSetArn")?, f)
}

fn change_by_arn(
    idc: &Idc,
    arn: &str,
    f: impl FnOnce(&mut PermissionSet) -> Result<(), crate::domain::ChangeError>,
) -> Result<Value, ApiError> {
    idc.core()
        .change(|d| {
            let instance = d.instance.clone();
            let ps = d
                .permission_sets
                .iter_mut()
                .find(|p| p.arn(&instance) == arn)
                .ok_or_else(|| not_found(format!("Could not find permission set {arn}")))?;
            f(ps)
        })
        .map_err(change_error)?;
    Ok(json!({}))
}

fn provisioned_accounts(dir: &Directory, permission_set: &str) -> Vec<String> {
    let mut accounts: Vec<String> =
        dir.assignments.iter().filter(|a| a.permission_set == permission_set).map(|a| a.account.clone()).collect();
    accounts.sort();
    accounts.dedup();
    accounts
}

fn provision(idc: &Idc, input: &Input) -> Result<Value, ApiError> {
    let core = idc.core();
    let model = core.model();
    let dir = &model.dir;
    let ps = permission_set(dir, input)?;
    let target = req(input, "TargetType")?;
    let account = match target {
        "AWS_ACCOUNT" => {
            let id = req(input, "TargetId")?;
            account_of(dir, id)?;
            Some(id.to_string())
        }
        "ALL_PROVISIONED_ACCOUNTS" => None,
        other => {
            return Err(ApiError::Validation(format!(
                "TargetType `{other}` must be AWS_ACCOUNT or ALL_PROVISIONED_ACCOUNTS"
            )));
        }
    };
    let id = random::request_id();
    let now = core.now();
    let mut status = json!({
        "Status": "SUCCEEDED",
        "RequestId": id,
        "PermissionSetArn": ps.arn(&dir.instance),
        "CreatedDate": timestamp(now),
    });
    if let Some(a) = account {
        status["AccountId"] = json!(a);
    }
    core.store.save_admin_request(&id, PROVISIONING, &status.to_string(), now)?;
    Ok(json!({ "PermissionSetProvisioningStatus": status }))
}

fn request(idc: &Idc, kind: &str, id: &str) -> Result<Value, ApiError> {
    let body = idc
        .core()
        .store
        .admin_request(id, kind)?
        .ok_or_else(|| ApiError::not_found(format!("Could not find request {id}")))?;
    serde_json::from_str(&body).map_err(|e| ApiError::Internal(e.to_string()))
}

fn list_requests(idc: &Idc, kind: &str, input: &Input, member: &str) -> Result<Value, ApiError> {
    let status = input.get("Filter").and_then(|f| f.get("Status")).and_then(Value::as_str);
    let rows: Vec<Value> = idc
        .core()
        .store
        .admin_requests(kind)?
        .iter()
        .filter_map(|b| serde_json::from_str::<Value>(b).ok())
        .filter(|v| status.is_none_or(|s| v["Status"] == s))
        .map(|v| json!({ "Status": v["Status"], "RequestId": v["RequestId"], "CreatedDate": v["CreatedDate"] }))
        .collect();
    let (rows, next) = page(rows, input, 100)?;
    Ok(with_next(json!({ member: rows }), next))
}

fn account_of<'a>(dir: &'a Directory, id: &str) -> Result<&'a str, ApiError> {
    if id.len() != 12 || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::Validation(format!("TargetId `{id}` must be a 12-digit account id")));
    }
    dir.accounts.iter().find(|a| a.id == id).map(|a| a.id.as_str()).ok_or_else(|| {
        ApiError::Validation(format!(
            "account {id} is not an account of this organization; add it to the directory first (the admin pages, or `accounts` in the directory)"
        ))
    })
}

/// `user:NAME` or `group:NAME` for a principal type and id.
fn principal_key(dir: &Directory, kind: &str, id: &str) -> Result<String, ApiError> {
    match kind {
        "USER" => dir.users.iter().find(|u| u.id == id).map(|u| format!("user:{}", u.name)),
        "GROUP" => dir.groups.iter().find(|g| g.id == id).map(|g| format!("group:{}", g.name)),
        other => return Err(ApiError::Validation(format!("PrincipalType `{other}` must be USER or GROUP"))),
    }
    .ok_or_else(|| {
        ApiError::Validation(format!("no {kind} with id {id} in identity store {}", dir.instance.identity_store_id()))
    })
}

/// The principal type and id of `user:NAME` or `group:NAME`.
fn principal_of(dir: &Directory, principal: &str) -> Option<(&'static str, String)> {
    match principal.split_once(':')? {
        ("user", n) => dir.users.iter().find(|u| u.name == n).map(|u| ("USER", u.id.clone())),
        ("group", n) => dir.groups.iter().find(|g| g.name == n).map(|g| ("GROUP", g.id.clone())),
        _ => None,
    }
}

/// CreateAccountAssignment (`create`) or DeleteAccountAssignment. A
/// duplicate create succeeds, as on AWS (§4.4).
fn assignment(idc: &Idc, input: &Input, create: bool) -> Result<Value, ApiError> {
    let core = idc.core();
    let model = core.model();
    let dir = &model.dir;
    let account = req(input, "TargetId")?;
    let target_type = req(input, "TargetType")?;
    if target_type != "AWS_ACCOUNT" {
        return Err(ApiError::Validation(format!("TargetType `{target_type}` must be AWS_ACCOUNT")));
    }
    account_of(dir, account)?;
    let ps = permission_set(dir, input)?;
    let (kind, id) = (req(input, "PrincipalType")?, req(input, "PrincipalId")?);
    let principal = principal_key(dir, kind, id)?;
    let a = Assignment { principal, account: account.to_string(), permission_set: ps.name.clone() };
    core.change(|d| {
        let exists = d.assignments.contains(&a);
        if create && !exists {
            d.assignments.push(a.clone());
        } else if !create {
            if !exists {
                return Err(not_found(format!(
                    "there is no assignment of {} to {kind} {id} in account {account}",
                    ps.name
                )));
            }
            d.assignments.retain(|x| x != &a);
        }
        Ok(())
    })
    .map_err(change_error)?;
    let request_id = random::request_id();
    let now = core.now();
    let status = json!({
        "Status": "SUCCEEDED",
        "RequestId": request_id,
        "TargetId": account,
        "TargetType": target_type,
        "PermissionSetArn": ps.arn(&dir.instance),
        "PrincipalType": kind,
        "PrincipalId": id,
        "CreatedDate": timestamp(now),
    });
    let (store_kind, member) = if create {
        (CREATION, "AccountAssignmentCreationStatus")
    } else {
        (DELETION, "AccountAssignmentDeletionStatus")
    };
    core.store.save_admin_request(&request_id, store_kind, &status.to_string(), now)?;
    Ok(json!({ member: status }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_durations_are_whole_hours_from_one_to_twelve() {
        assert_eq!(session_hours("PT8H").unwrap(), 8);
        assert_eq!(session_hours("PT1H").unwrap(), 1);
        assert_eq!(session_hours("PT120M").unwrap(), 2);
        for bad in ["PT13H", "PT0H", "PT90M", "P1D", "8H", "PTH", "PT1H5"] {
            assert!(session_hours(bad).is_err(), "{bad}");
        }
    }
}
