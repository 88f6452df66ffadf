//! Cache file names, derived exactly as botocore derives them (files.md §6),
//! so tobira and the AWS CLI find each other's files.

use serde_json::{Map, Value, json};
use sha1::{Digest, Sha1};

use crate::pyjson;

fn sha1_hex(text: &str) -> String {
    let digest = Sha1::digest(text.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// What an SSO login is cached under: the sso-session name, or the start URL
/// of a legacy profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SsoKey<'a> {
    Session(&'a str),
    LegacyStartUrl(&'a str),
}

/// `~/.aws/sso/cache/<this>`: the access token.
pub fn token_file_name(key: SsoKey<'_>) -> String {
    let text = match key {
        SsoKey::Session(name) => name,
        SsoKey::LegacyStartUrl(url) => url,
    };
    format!("{}.json", sha1_hex(text))
}

/// `~/.aws/sso/cache/<this>`: the OIDC client registration. `scopes` is the
/// configured `sso_registration_scopes` list (`None` when not configured).
pub fn registration_file_name(
    sso_region: &str,
    scopes: Option<&[String]>,
    session_name: Option<&str>,
    start_url: &str,
) -> String {
    let args = json!({
        "region": sso_region,
        "scopes": scopes,
        "session_name": session_name,
        "startUrl": start_url,
        "tool": "botocore",
    });
    format!("{}.json", sha1_hex(&pyjson::dumps_sorted(&args)))
}

/// `~/.aws/cli/cache/<this>`: role credentials from the SSO portal.
pub fn sso_role_credentials_file_name(account_id: &str, role_name: &str, key: SsoKey<'_>) -> String {
    let mut args = Map::new();
    args.insert("accountId".into(), json!(account_id));
    args.insert("roleName".into(), json!(role_name));
    match key {
        SsoKey::Session(name) => args.insert("sessionName".into(), json!(name)),
        SsoKey::LegacyStartUrl(url) => args.insert("startUrl".into(), json!(url)),
    };
    format!("{}.json", sha1_hex(&pyjson::dumps_sorted_compact(&Value::Object(args))))
}

/// The AssumeRole parameters that name a cache entry. A generated session
/// name, the MFA code and a web identity token are not part of the key.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AssumeRoleKey<'a> {
    pub role_arn: &'a str,
    pub duration_seconds: Option<i64>,
    pub external_id: Option<&'a str>,
    /// Only when configured (`role_session_name`).
    pub role_session_name: Option<&'a str>,
    pub serial_number: Option<&'a str>,
}

/// `~/.aws/cli/cache/<this>`: assume-role and web-identity credentials.
pub fn assume_role_file_name(key: &AssumeRoleKey<'_>) -> String {
    let mut args = Map::new();
    args.insert("RoleArn".into(), json!(key.role_arn));
    if let Some(d) = key.duration_seconds {
        args.insert("DurationSeconds".into(), json!(d));
    }
    if let Some(e) = key.external_id {
        args.insert("ExternalId".into(), json!(e));
    }
    if let Some(n) = key.role_session_name {
        args.insert("RoleSessionName".into(), json!(n));
    }
    if let Some(s) = key.serial_number {
        args.insert("SerialNumber".into(), json!(s));
    }
    let hex = sha1_hex(&pyjson::dumps_sorted(&Value::Object(args)));
    // botocore replaces `:`, `/` and the OS separator with `_` (a no-op on hex).
    format!("{hex}.json")
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "https://d-1234567890.awsapps.com/start";

    // Every expected name is from files.md §6 or computed with CPython 3.11
    // (`hashlib.sha1(json.dumps(args, sort_keys=True).encode()).hexdigest()`).
    #[test]
    fn token_names() {
        assert_eq!(token_file_name(SsoKey::LegacyStartUrl(URL)), "7487b5b67d5fa1132cf33fa93ae51ef38cc37752.json");
        assert_eq!(token_file_name(SsoKey::Session("my-sso")), "0ad374308c5a4e22f723adf10145eafad7c4031c.json");
        assert_eq!(token_file_name(SsoKey::Session("任意の文字列")), "16c0d99d942bd57dee1284806fc7f0fecf547fae.json");
    }

    #[test]
    fn registration_names() {
        assert_eq!(
            registration_file_name("us-east-1", None, None, URL),
            "365414a68be7c9bfc776c660981dbdbd942acea4.json"
        );
        let scopes = ["sso:account:access".to_string()];
        assert_eq!(
            registration_file_name("us-east-1", Some(&scopes), Some("my-sso"), URL),
            "a8343d65418848d0bc13a5f25cbb32508ceec5d1.json"
        );
        assert_eq!(
            registration_file_name(
                "ap-northeast-1",
                Some(&scopes),
                Some("任意の文字列"),
                "https://x.awsapps.com/start#"
            ),
            "ac963fd413a9dd259570da2d1493bfde096ddfa6.json"
        );
        assert_eq!(
            registration_file_name("us-east-1", Some(&[]), Some("a\"b\\c\u{1}😀"), "u"),
            "3624f4c850556a2ccfdedd876f5436405307ac16.json"
        );
    }

    #[test]
    fn role_credential_names() {
        assert_eq!(
            sso_role_credentials_file_name("222222222222", "ReadOnly", SsoKey::Session("my-sso")),
            "fc20a4fdcf5420fd0d8e2ed7b5146f06efd97c77.json"
        );
        assert_eq!(
            sso_role_credentials_file_name("1", "R", SsoKey::Session("任意の文字列")),
            "90ab5a7ae2fd93f106b22247d3469e36d0b07403.json"
        );
        assert_eq!(
            sso_role_credentials_file_name("1", "R", SsoKey::LegacyStartUrl("https://x/start")),
            "e7e32e45bf0eca082d02992c52eb7a7df60a843d.json"
        );
    }

    #[test]
    fn assume_role_names() {
        let arn = "arn:aws:iam::123456789012:role/demo";
        let k = AssumeRoleKey {
            role_arn: arn,
            duration_seconds: Some(1800),
            external_id: Some("ext-1"),
            ..Default::default()
        };
        assert_eq!(assume_role_file_name(&k), "79910288263baf49aeec63f7e9a7a096589f9946.json");
        let k = AssumeRoleKey {
            role_arn: arn,
            role_session_name: Some("my-sess"),
            serial_number: Some("arn:aws:iam::123456789012:mfa/user"),
            ..Default::default()
        };
        assert_eq!(assume_role_file_name(&k), "ea2b29d247762e6250d24105ef61f099f17273a8.json");
        let k = AssumeRoleKey { role_arn: "arn:aws:iam::123456789012:role/web", ..Default::default() };
        assert_eq!(assume_role_file_name(&k), "995ef64306d209e21474b69558c0b71b44774efb.json");
        // The file the AWS CLI v1 (1.46.3) wrote in scripts/demo for role Ops with MFA.
        let k = AssumeRoleKey {
            role_arn: "arn:aws:iam::123456789012:role/Ops",
            serial_number: Some("arn:aws:iam::123456789012:mfa/bob-phone"),
            ..Default::default()
        };
        assert_eq!(assume_role_file_name(&k), "1c02d25e6f1a10f7f2e6ae627935e33211e49969.json");
    }
}
