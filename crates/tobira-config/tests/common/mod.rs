//! Loading the data-driven scenarios in `tests/scenarios/<name>/`:
//! - `config`, `credentials`: the two files (either may be absent);
//! - `env`: `KEY=VALUE` lines (`$SCENARIO` = the scenario directory; HOME is
//!   the scenario directory and the files default to `$HOME/config` and
//!   `$HOME/credentials`);
//! - `flags`: `profile=NAME`, `region=NAME` (as `--profile` / `--region`);
//! - `expected.json`: what tobira makes of it (`TOBIRA_BLESS=1` rewrites it);
//! - `differential` (optional): `skip-resolve: <why>` when botocore's answer
//!   legitimately differs (e.g. it contacts IMDS where tobira only plans).
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use serde_json::{Value as Json, json};
use tobira_config::files::{Block, Paths, ProfileSet};
use tobira_config::ini::Value;
use tobira_config::{Env, Flags};

pub struct Scenario {
    pub name: String,
    pub dir: PathBuf,
    pub env: Env,
    pub flags: Flags,
    pub skip_resolve: Option<String>,
}

fn read_kv(path: &Path) -> Vec<(String, String)> {
    let Ok(text) = std::fs::read_to_string(path) else { return vec![] };
    text.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (k, v) = l.split_once('=').unwrap_or((l, ""));
            (k.to_string(), v.to_string())
        })
        .collect()
}

pub fn scenarios_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios")
}

pub fn all() -> Vec<Scenario> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(scenarios_dir())
        .expect("tests/scenarios exists")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs.into_iter().map(|dir| load(&dir)).collect()
}

pub fn load(dir: &Path) -> Scenario {
    let d = dir.display().to_string();
    let mut vars = vec![
        ("HOME".to_string(), d.clone()),
        ("AWS_CONFIG_FILE".to_string(), format!("{d}/config")),
        ("AWS_SHARED_CREDENTIALS_FILE".to_string(), format!("{d}/credentials")),
    ];
    for (k, v) in read_kv(&dir.join("env")) {
        vars.retain(|(x, _)| *x != k);
        vars.push((k, v.replace("$SCENARIO", &d)));
    }
    let mut flags = Flags::default();
    for (k, v) in read_kv(&dir.join("flags")) {
        match k.as_str() {
            "profile" => flags.profile = Some(v),
            "region" => flags.region = Some(v),
            other => panic!("{}: unknown flag {other}", dir.display()),
        }
    }
    let skip_resolve = std::fs::read_to_string(dir.join("differential"))
        .ok()
        .and_then(|t| t.lines().find_map(|l| l.strip_prefix("skip-resolve:").map(|s| s.trim().to_string())));
    Scenario {
        name: dir.file_name().expect("name").to_string_lossy().into_owned(),
        dir: dir.to_path_buf(),
        env: Env::from_pairs(vars),
        flags,
        skip_resolve,
    }
}

impl Scenario {
    /// Reads the files through the library's own locate + bytes-in parse,
    /// showing paths relative to the scenario so expectations are portable.
    pub fn profile_set(&self) -> Result<ProfileSet, String> {
        let paths = Paths::locate(&self.env);
        let rel = |p: &Path| p.strip_prefix(&self.dir).map(Path::to_path_buf).unwrap_or_else(|_| p.to_path_buf());
        let read = |p: &Path| std::fs::read(p).ok();
        let (c, k) = (read(&paths.config.value), read(&paths.credentials.value));
        ProfileSet::from_bytes(&rel(&paths.config.value), c.as_deref(), &rel(&paths.credentials.value), k.as_deref())
            .map_err(|e| e.to_string())
    }
}

fn value_json(v: &Value) -> Json {
    match v {
        Value::Text(t) => json!(t),
        Value::Nested(pairs) => Json::Object(pairs.iter().map(|(k, v)| (k.clone(), json!(v))).collect()),
    }
}

pub fn block_json(b: &Block) -> Json {
    Json::Object(b.props.iter().map(|p| (p.key.clone(), value_json(&p.value))).collect())
}
