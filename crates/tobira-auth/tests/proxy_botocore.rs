//! Differential test: botocore (pinned, in the repo's `.venv`) and tobira
//! decide the proxy of the same URLs under the same environments — which
//! variable wins, what `NO_PROXY` bypasses, the proxy's host, port and
//! credentials (docs/network.md). What tobira deliberately does not support
//! (`https://` and SOCKS proxies) is left to the unit tests of `net.rs`.

// Test drivers read their own switches (TOBIRA_PYTHON, TOBIRA_SKIP_INTEROP).
#![allow(clippy::disallowed_methods, clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{Value, json};
use tobira_auth::net::{Proxies, ProxyRoute};
use tobira_config::Env;

fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("TOBIRA_PYTHON") {
        return PathBuf::from(p);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python")
}

/// botocore's decision for each case: how its clients pick the proxy of an
/// endpoint (`get_environ_proxies`, then `ProxyConfiguration`), and the
/// host, port and `Proxy-Authorization` urllib3 would use.
const BOTOCORE: &str = r#"
import base64, json, os, sys
from botocore.httpsession import ProxyConfiguration
from botocore.utils import get_environ_proxies
from urllib3.util import parse_url
out = []
for case in json.load(sys.stdin):
    os.environ.clear()
    os.environ.update(case["env"])
    url = case["url"]
    config = ProxyConfiguration(proxies=get_environ_proxies(url))
    proxy = config.proxy_url_for(url)
    if proxy is None:
        out.append(None)
        continue
    parsed = parse_url(proxy)
    auth = config.proxy_headers_for(proxy).get("Proxy-Authorization")
    if auth:
        auth = base64.b64decode(auth.split(" ", 1)[1]).decode()
    out.append({"host": parsed.host, "port": parsed.port or 80, "auth": auth})
print(json.dumps(out))
"#;

fn cases() -> Vec<(Vec<(&'static str, &'static str)>, &'static str)> {
    let p = "http://proxy.corp:3128";
    vec![
        (vec![("HTTPS_PROXY", p)], "https://sts.amazonaws.com"),
        (vec![("HTTPS_PROXY", "proxy.corp:3128")], "https://sts.amazonaws.com"),
        (vec![("HTTPS_PROXY", "//proxy.corp:8080")], "https://sts.amazonaws.com"),
        (vec![("HTTPS_PROXY", "http://proxy.corp")], "https://sts.amazonaws.com"),
        (vec![("HTTPS_PROXY", p)], "http://127.0.0.1:4566"),
        (vec![("HTTP_PROXY", p)], "http://127.0.0.1:4566"),
        (vec![("HTTP_PROXY", p)], "https://sts.amazonaws.com"),
        (vec![("HTTPS_PROXY", "http://upper:1"), ("https_proxy", "http://lower:2")], "https://x.example"),
        (vec![("HTTPS_PROXY", "http://upper:1"), ("https_proxy", "")], "https://x.example"),
        (vec![("HTTPS_PROXY", ""), ("Https_Proxy", "http://mixed:3")], "https://x.example"),
        (vec![("HTTP_PROXY", p), ("REQUEST_METHOD", "GET")], "http://127.0.0.1:4566"),
        (vec![("http_proxy", p), ("REQUEST_METHOD", "GET")], "http://127.0.0.1:4566"),
        (vec![("ALL_PROXY", p)], "https://sts.amazonaws.com"),
        (vec![("HTTPS_PROXY", p), ("NO_PROXY", "*")], "https://sts.amazonaws.com"),
        (vec![("HTTPS_PROXY", p), ("NO_PROXY", "*,other.example")], "https://sts.amazonaws.com"),
        (vec![("HTTPS_PROXY", p), ("NO_PROXY", "amazonaws.com")], "https://oidc.us-east-1.amazonaws.com"),
        (vec![("HTTPS_PROXY", p), ("no_proxy", ".amazonaws.com")], "https://sts.amazonaws.com"),
        (vec![("HTTPS_PROXY", p), ("NO_PROXY", "zonaws.com")], "https://sts.amazonaws.com"),
        (vec![("HTTPS_PROXY", p), ("NO_PROXY", " A.TEST , b.test ")], "https://x.a.test/path?q=1"),
        (vec![("HTTP_PROXY", p), ("NO_PROXY", "127.0.0.1:4566")], "http://127.0.0.1:4566"),
        (vec![("HTTP_PROXY", p), ("NO_PROXY", "127.0.0.1:9")], "http://127.0.0.1:4566"),
        (vec![("HTTP_PROXY", p), ("NO_PROXY", "localhost")], "http://127.0.0.1:4566"),
        (vec![("HTTP_PROXY", p), ("NO_PROXY", "10.0.0.0/8")], "http://10.1.2.3"),
        (vec![("HTTP_PROXY", p), ("NO_PROXY", "0.0.1")], "http://10.0.0.1"),
        (vec![("HTTP_PROXY", p), ("NO_PROXY", "[::1]")], "http://[::1]:8080"),
        (vec![("HTTP_PROXY", p), ("NO_PROXY", "")], "http://127.0.0.1:4566"),
        (vec![("HTTPS_PROXY", "http://al%40ce:p%3Ass@proxy.corp:3128")], "https://sts.amazonaws.com"),
        (vec![("HTTPS_PROXY", "http://alice@proxy.corp:3128")], "https://sts.amazonaws.com"),
        (vec![("HTTPS_PROXY", "http://alice:@proxy.corp:3128")], "https://sts.amazonaws.com"),
        (vec![("HTTPS_PROXY", "alice:pw@proxy.corp:3128")], "https://sts.amazonaws.com"),
    ]
}

fn tobira(env: &[(&str, &str)], url: &str) -> Value {
    let proxies = Proxies::from_env(&Env::from_pairs(env.iter().copied()));
    match proxies.route(url) {
        ProxyRoute::Direct | ProxyRoute::Bypassed { .. } => Value::Null,
        ProxyRoute::Via(p) => json!({
            "host": p.host,
            "port": p.port,
            "auth": p.credentials().map(|(user, password)| format!("{user}:{}", password.expose())),
        }),
        ProxyRoute::Invalid(bad) => panic!("{url} with {env:?}: {bad}"),
    }
}

#[test]
fn botocore_picks_the_same_proxy_for_every_case() {
    let py = python();
    if !py.exists() {
        if std::env::var_os("TOBIRA_SKIP_INTEROP").is_some() {
            return;
        }
        panic!("{} not found: run scripts/setup-python.sh (or set TOBIRA_SKIP_INTEROP=1 to skip)", py.display());
    }
    let cases = cases();
    let input: Vec<Value> = cases
        .iter()
        .map(|(env, url)| {
            json!({"env": env.iter().map(|(k, v)| ((*k).to_string(), json!(v))).collect::<serde_json::Map<_, _>>(), "url": url})
        })
        .collect();
    let mut child = Command::new(&py)
        .args(["-c", BOTOCORE])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run python");
    child.stdin.take().unwrap().write_all(serde_json::to_string(&input).unwrap().as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "botocore failed:\n{}", String::from_utf8_lossy(&out.stderr));
    let theirs: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(theirs.len(), cases.len());
    let mut differ = Vec::new();
    for ((env, url), theirs) in cases.iter().zip(theirs) {
        let ours = tobira(env, url);
        if ours != theirs {
            differ.push(format!("{url} with {env:?}: botocore {theirs}, tobira {ours}"));
        }
    }
    assert!(differ.is_empty(), "{}", differ.join("\n"));
}
