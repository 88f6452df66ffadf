//! Data-driven resolution tests: every directory in `tests/scenarios/` is one
//! case (see `common/mod.rs` for the layout). Run with `TOBIRA_BLESS=1` to
//! rewrite `expected.json` after an intended change, then review the diff.

// Test drivers read their own switches (TOBIRA_BLESS, TOBIRA_PYTHON, TOBIRA_SKIP_INTEROP).
#![allow(clippy::disallowed_methods)]

mod common;

use serde_json::{Value as Json, json};
use tobira_config::resolve::{profile_kind, resolve};

fn outcome(s: &common::Scenario) -> Json {
    let set = match s.profile_set() {
        Ok(set) => set,
        Err(e) => return json!({ "load_error": e }),
    };
    let profiles: Vec<Json> =
        set.profiles().iter().map(|p| json!({ "name": p.name, "kind": profile_kind(&set, p) })).collect();
    let result = match resolve(&set, &s.env, &s.flags) {
        Ok(plan) => json!({ "method": plan.method(), "plan": plan }),
        Err(e) => json!({ "error": e.to_string(), "hint": e.hint() }),
    };
    json!({ "profiles": profiles, "result": result })
}

#[test]
fn scenarios() {
    let bless = std::env::var_os("TOBIRA_BLESS").is_some();
    let all = common::all();
    assert!(bless || all.len() >= 40, "expected at least 40 scenarios, found {}", all.len());
    let mut failures = Vec::new();
    for s in &all {
        let got = outcome(s);
        let path = s.dir.join("expected.json");
        let text = serde_json::to_string_pretty(&got).expect("json") + "\n";
        if bless {
            std::fs::write(&path, &text).expect("write expected.json");
            continue;
        }
        match std::fs::read_to_string(&path) {
            Ok(want) if serde_json::from_str::<Json>(&want).ok() == Some(got.clone()) => {}
            Ok(want) => failures.push(format!("--- {}\nwant:\n{want}\ngot:\n{text}", s.name)),
            Err(_) => failures.push(format!("--- {}: no expected.json (run with TOBIRA_BLESS=1)", s.name)),
        }
    }
    assert!(failures.is_empty(), "{} of {} scenarios differ:\n{}", failures.len(), all.len(), failures.join("\n"));
}
