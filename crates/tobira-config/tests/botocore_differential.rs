//! Differential test: botocore (pinned, in the repo's `.venv`, installed by
//! `scripts/setup-python.sh`) reads every scenario; its profile map and its
//! choice of credential provider (or its error message) must equal tobira's.

// Test drivers read their own switches (TOBIRA_BLESS, TOBIRA_PYTHON, TOBIRA_SKIP_INTEROP).
#![allow(clippy::disallowed_methods)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Map, Value as Json, json};
use tobira_config::resolve::resolve;

fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("TOBIRA_PYTHON") {
        return PathBuf::from(p);
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.join(".venv/bin/python")
}

fn tobira_view(s: &common::Scenario) -> Json {
    let set = match s.profile_set() {
        Ok(set) => set,
        Err(_) => return json!({ "parse_error": true }),
    };
    let map = |blocks: Vec<&tobira_config::files::Block>| {
        Json::Object(blocks.into_iter().map(|b| (b.name.clone(), common::block_json(b))).collect::<Map<_, _>>())
    };
    let mut out = json!({
        "profiles": map(set.profiles().iter().collect()),
        "sso_sessions": map(set.sso_sessions().collect()),
        "services": map(set.services_names().filter_map(|n| set.services(n)).collect()),
    });
    match resolve(&set, &s.env, &s.flags) {
        Ok(plan) => out["method"] = json!(plan.method()),
        Err(tobira_config::ResolveError::NoCredentials { .. }) => out["method"] = json!("none"),
        Err(e) => out["error"] = json!(e.to_string()),
    }
    out
}

#[test]
fn botocore_agrees_on_every_scenario() {
    let py = python();
    if !py.exists() {
        if std::env::var_os("TOBIRA_SKIP_INTEROP").is_some() {
            return;
        }
        panic!("{} not found: run scripts/setup-python.sh (or set TOBIRA_SKIP_INTEROP=1 to skip)", py.display());
    }
    let all = common::all();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/botocore_dump.py");
    let out = Command::new(&py).arg(&script).args(all.iter().map(|s| &s.dir)).output().expect("run python");
    assert!(out.status.success(), "botocore_dump.py failed:\n{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).expect("utf-8");
    let theirs: Vec<Json> = stdout.lines().map(|l| serde_json::from_str(l).expect("json line")).collect();
    assert_eq!(theirs.len(), all.len());
    let mut failures = Vec::new();
    for (s, mut boto) in all.iter().zip(theirs) {
        let mut ours = tobira_view(s);
        boto.as_object_mut().expect("object").remove("name");
        if let Some(why) = &s.skip_resolve {
            for v in [&mut ours, &mut boto] {
                let o = v.as_object_mut().expect("object");
                o.remove("method");
                o.remove("error");
            }
            let _ = why;
        }
        if ours != boto {
            failures.push(format!(
                "--- {}\nbotocore: {}\ntobira:   {}",
                s.name,
                serde_json::to_string(&boto).expect("json"),
                serde_json::to_string(&ours).expect("json")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} scenarios differ from botocore:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n")
    );
}
