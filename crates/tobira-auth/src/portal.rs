//! SSO portal calls with a valid access token: every account, every role of
//! an account (all pages), and logout.

use crate::{AuthError, SsoTarget, portal_client, service_error};

/// An account the user can access.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub id: String,
    pub name: Option<String>,
    pub email: Option<String>,
}

/// Every account, sorted as `aws configure sso` sorts them: by name, else
/// e-mail, else id, case-insensitively; accounts without name and e-mail last.
pub async fn accounts(target: &SsoTarget, token: &str) -> Result<Vec<Account>, AuthError> {
    let client = portal_client(target);
    let mut out = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let page = client
            .list_accounts()
            .access_token(token)
            .set_next_token(next.take())
            .send()
            .await
            .map_err(|e| service_error(target.portal_call("ListAccounts"), e))?;
        for a in page.account_list() {
            out.push(Account {
                id: a.account_id().unwrap_or_default().to_string(),
                name: a.account_name().map(str::to_string),
                email: a.email_address().map(str::to_string),
            });
        }
        match page.next_token() {
            Some(t) if !t.is_empty() => next = Some(t.to_string()),
            _ => break,
        }
    }
    out.sort_by_key(|a| {
        let key = a.name.clone().or_else(|| a.email.clone());
        (key.is_none(), key.unwrap_or_else(|| a.id.clone()).to_lowercase())
    });
    Ok(out)
}

/// Every role of an account, sorted case-insensitively.
pub async fn roles(target: &SsoTarget, token: &str, account_id: &str) -> Result<Vec<String>, AuthError> {
    let client = portal_client(target);
    let mut out = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let page = client
            .list_account_roles()
            .access_token(token)
            .account_id(account_id)
            .set_next_token(next.take())
            .send()
            .await
            .map_err(|e| service_error(target.portal_call("ListAccountRoles"), e))?;
        out.extend(page.role_list().iter().filter_map(|r| r.role_name().map(str::to_string)));
        match page.next_token() {
            Some(t) if !t.is_empty() => next = Some(t.to_string()),
            _ => break,
        }
    }
    out.sort_by_key(|r| r.to_lowercase());
    Ok(out)
}

/// Ends the sign-in session on the server (best effort, like `aws sso logout`).
pub async fn logout(target: &SsoTarget, token: &str) -> Result<(), AuthError> {
    portal_client(target)
        .logout()
        .access_token(token)
        .send()
        .await
        .map_err(|e| service_error(target.portal_call("Logout"), e))?;
    Ok(())
}
