//! botocore (pinned, from the repo's `.venv`) reads the token files tobira
//! writes, and tobira reads the ones botocore writes, in the same directory.
#![allow(clippy::disallowed_methods)] // test switches: TOBIRA_PYTHON, TOBIRA_SKIP_INTEROP

use std::path::{Path, PathBuf};
use std::process::Command;

use tobira_cache::{SsoCache, SsoKey, SsoToken};

fn python() -> Option<PathBuf> {
    let py = std::env::var_os("TOBIRA_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python"));
    if py.exists() {
        return Some(py);
    }
    assert!(
        std::env::var_os("TOBIRA_SKIP_INTEROP").is_some(),
        "{} not found: run scripts/setup-python.sh (or set TOBIRA_SKIP_INTEROP=1)",
        py.display()
    );
    None
}

fn py(python: &Path, code: &str, cache_dir: &Path) -> String {
    let out = Command::new(python).args(["-c", code]).arg(cache_dir).output().expect("run python");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8").trim().to_string()
}

#[test]
fn botocore_and_tobira_read_each_others_tokens() {
    let Some(python) = python() else { return };
    let home = tempfile::tempdir().unwrap();
    let cache = SsoCache::in_home(home.path());
    let token = SsoToken::from_json(
        br#"{"startUrl": "https://d-1234567890.awsapps.com/start", "region": "us-east-1", "accessToken": "AT-tobira", "expiresAt": "2099-01-01T00:00:00Z", "clientId": "C", "clientSecret": "S", "registrationExpiresAt": "2099-02-01T00:00:00Z", "refreshToken": "RT"}"#,
    )
    .unwrap();
    cache.write_token(SsoKey::Session("任意の文字列"), &token).unwrap();
    cache.write_token(SsoKey::LegacyStartUrl("https://my-sso-portal.awsapps.com/start/"), &token).unwrap();

    // botocore's own loader finds both files by its own key derivation.
    let read = r#"
import sys
from botocore.utils import JSONFileCache, SSOTokenLoader
loader = SSOTokenLoader(cache=JSONFileCache(sys.argv[1]))
a = loader("https://d-1234567890.awsapps.com/start", session_name="任意の文字列")
b = loader("https://my-sso-portal.awsapps.com/start/")
print(a["accessToken"], a["expiresAt"], a["refreshToken"], b["accessToken"])
"#;
    assert_eq!(py(&python, read, cache.dir()), "AT-tobira 2099-01-01T00:00:00Z RT AT-tobira");

    // botocore writes a token (as after a refresh); tobira reads it.
    let write = r#"
import sys
from botocore.utils import JSONFileCache, SSOTokenLoader
loader = SSOTokenLoader(cache=JSONFileCache(sys.argv[1]))
loader.save_token("https://d-1234567890.awsapps.com/start", {"startUrl": "https://d-1234567890.awsapps.com/start", "region": "us-east-1", "accessToken": "AT-botocore", "expiresAt": "2099-03-01T00:00:00Z"}, session_name="corp")
print("ok")
"#;
    assert_eq!(py(&python, write, cache.dir()), "ok");
    let got = cache.read_token(SsoKey::Session("corp")).unwrap().expect("token written by botocore");
    assert_eq!(got.access_token.expose(), "AT-botocore");
    assert_eq!(tobira_cache::token::format_time(got.expires_at), "2099-03-01T00:00:00Z");
}
