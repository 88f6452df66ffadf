//! The two files: can they be read, which sections botocore ignores or lets
//! replace each other, which profiles cannot be used and why, SSO profiles
//! in the legacy format, chained roles asking for more than an hour,
//! `credential_process` programs that cannot run, and file permissions.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use tobira_config::files::{SectionId, classify_config_header};
use tobira_config::ini::{self, LineErrorKind};
use tobira_config::resolve::{profile_kind, resolve_profile};
use tobira_config::{FileKind, Flags, ProfileSet, ResolveError, Step};

use super::path_word;
use super::{Doctor, Severity, listed, plan_profiles};
use crate::error::shell_word;

/// The bytes of a file; `Ok(None)` when it does not exist.
fn read(path: &Path) -> std::io::Result<Option<Vec<u8>>> {
    match std::fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// What to do about a line configparser rejects.
fn parse_fix(kind: &LineErrorKind, line: usize, path: &str) -> String {
    match kind {
        LineErrorKind::DuplicateSection { name, first_line } => format!(
            "merge the two `[{name}]` sections (lines {first_line} and {line} of {path}) into one: move the keys under line {line} up and delete that header"
        ),
        LineErrorKind::DuplicateOption { key, first_line, .. } => {
            format!("keep one of the two `{key}` lines ({first_line} and {line} of {path}) and delete the other")
        }
        LineErrorKind::ByteOrderMark => format!("save {path} as UTF-8 without a byte-order mark"),
        LineErrorKind::NotUtf8 => format!("save {path} as UTF-8"),
        LineErrorKind::NoDelimiter | LineErrorKind::EmptyKey => {
            format!("make line {line} of {path} a `key = value` pair, a `[section]` header or a `# comment`")
        }
        LineErrorKind::OptionBeforeSection => {
            format!("put a `[section]` header above line {line} of {path}, or delete the line")
        }
        LineErrorKind::NestedWithoutEquals { .. } => {
            format!("write each indented line under it as `name = value` (line {line} of {path})")
        }
    }
}

/// Reads and parses both files; every failure is a finding, and the other
/// checks go on without the profiles.
pub fn load(d: &mut Doctor<'_>) {
    let mut usable = true;
    for (path, kind) in [
        (d.ctx.paths.config.value.clone(), FileKind::Config),
        (d.ctx.paths.credentials.value.clone(), FileKind::Credentials),
    ] {
        let shown = d.shown(&path);
        let bytes = match read(&path) {
            Ok(Some(b)) => b,
            Ok(None) => continue,
            Err(e) => {
                usable = false;
                let fix = if e.kind() == std::io::ErrorKind::PermissionDenied {
                    format!(
                        "make it yours and readable: `sudo chown \"$(id -un)\" {0} && chmod 600 {0}`",
                        super::path_word(&shown)
                    )
                } else {
                    format!(
                        "{shown} must be a readable file (`AWS_CONFIG_FILE` / `AWS_SHARED_CREDENTIALS_FILE` choose other paths)"
                    )
                };
                d.add(
                    Severity::Error,
                    "file-unreadable",
                    format!("cannot read {shown}: {e}; every AWS tool fails to start"),
                    Some(fix),
                );
                continue;
            }
        };
        let result = match kind {
            FileKind::Config => ProfileSet::from_bytes(Path::new(&shown), Some(&bytes), Path::new(""), None),
            FileKind::Credentials => ProfileSet::from_bytes(Path::new(""), None, Path::new(&shown), Some(&bytes)),
        };
        if let Err(e) = result {
            usable = false;
            d.add(
                Severity::Error,
                "file-unparseable",
                format!(
                    "cannot parse {shown}, line {}: {}; the AWS CLI, the SDKs and tobira all refuse the whole file (\"Unable to parse config file\")",
                    e.error.line, e.error
                ),
                Some(parse_fix(&e.error.kind, e.error.line, &shown)),
            );
        }
    }
    let present: Vec<String> = [&d.ctx.paths.config.value, &d.ctx.paths.credentials.value]
        .into_iter()
        .filter(|p| p.exists())
        .map(|p| d.shown(p))
        .collect();
    d.checked.push(if present.is_empty() {
        "no config or credentials file".to_string()
    } else {
        present.join(" and ")
    });
    if usable {
        d.set = d.ctx.load_profiles().ok();
    }
}

/// The selected profile: does it exist, does it resolve, which profiles does
/// it run through.
pub fn selected_profile(d: &mut Doctor<'_>) {
    let Some(set) = &d.set else { return };
    let flags = Flags { profile: d.flag.clone(), region: None };
    let name = d.selected.value.clone();
    d.in_use.insert(name.clone());
    if set.profile(&name).is_none() && d.selected.origin == tobira_config::Origin::Default {
        // Nothing selected and no `default`: not a problem unless something
        // needs credentials (environment checks say what is in effect).
        let mut names: Vec<String> = set.profiles().iter().map(|p| p.name.clone()).collect();
        names.sort();
        if let Some((listed, how)) = crate::error::choose_a_profile(&names) {
            d.add(
                Severity::Note,
                "no-profile-selected",
                format!("no profile is selected (no `--profile`, no `AWS_PROFILE`) and there is no `default` profile; the profiles are {listed}"),
                Some(how),
            );
        }
        return;
    }
    match tobira_config::resolve(set, &d.ctx.env, &flags) {
        Ok(plan) => {
            d.in_use.extend(plan_profiles(&plan));
            d.plan = Some(plan);
        }
        // An unknown name in `AWS_PROFILE` is reported with the environment.
        Err(ResolveError::ProfileNotFound { origin: tobira_config::Origin::Env { .. }, .. }) => {}
        Err(e) => {
            let check =
                if matches!(e, ResolveError::ProfileNotFound { .. }) { "profile-missing" } else { "profile-broken" };
            let hint = e.hint();
            d.add(Severity::Error, check, format!("profile `{name}` cannot be used: {e}"), hint);
        }
    }
}

/// Every other profile: does it resolve, does a chained role ask for more
/// than an hour, can its `credential_process` run.
pub fn profiles(d: &mut Doctor<'_>) {
    let Some(set) = d.set.clone() else { return };
    let mut count = 0;
    for block in set.profiles() {
        count += 1;
        let name = &block.name;
        let plan = resolve_profile(&set, &d.ctx.env, name, None);
        match &plan {
            Ok(plan) => chained_durations(d, plan),
            // A profile without credentials may hold settings only.
            Err(ResolveError::NoCredentials { .. }) => {}
            Err(e) if name != &d.selected.value => {
                d.add(Severity::Warning, "profile-broken", format!("profile `{name}` cannot be used: {e}"), e.hint())
            }
            Err(_) => {}
        }
        if let Some(cmd) = block.text("credential_process") {
            credential_process(d, name, &cmd);
        }
    }
    d.checked.push(format!("{count} profile{}", if count == 1 { "" } else { "s" }));
}

/// A role assumed with role credentials lasts at most an hour (AWS's "role
/// chaining" limit); asking for more makes AssumeRole fail.
fn chained_durations(d: &mut Doctor<'_>, plan: &tobira_config::Plan) {
    for (i, step) in plan.steps.iter().enumerate() {
        let Step::AssumeRole(a) = step else { continue };
        let Some(duration) = &a.duration_seconds else { continue };
        if duration.value <= 3600 || i == 0 {
            continue;
        }
        let source = match &plan.steps[i - 1] {
            Step::Sso(s) => format!("the SSO role credentials of profile `{}`", s.profile),
            Step::AssumeRole(prev) => format!("the role of profile `{}`", prev.profile),
            Step::WebIdentity(_) => "a web identity role".to_string(),
            Step::CredentialSource { source, .. } => format!("the role of `credential_source = {}`", source.value),
            _ => continue,
        };
        // Reported once, from the plan of the profile that asks.
        if plan.profile.value != a.profile {
            continue;
        }
        d.add(
            d.by_use(&a.profile),
            "chain-duration",
            format!(
                "profile `{}` asks for `duration_seconds = {}` ({}) for a role assumed with {source} (role chaining), which AWS limits to 1 hour: AssumeRole fails with \"The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.\"",
                a.profile, duration.value, duration.origin
            ),
            Some(format!(
                "set `duration_seconds = 3600` (or less) at {}, or delete the line (an hour is the default)",
                duration.origin
            )),
        );
    }
}

/// Where `execvp` finds a program: the path itself when it has a `/`, else
/// the first match in `PATH`.
enum Lookup {
    Found,
    Missing,
    NotExecutable(PathBuf),
    Directory(PathBuf),
}

fn lookup(program: &str, path_var: Option<&str>) -> Lookup {
    let check = |p: &Path| -> Option<Lookup> {
        let meta = std::fs::metadata(p).ok()?;
        if meta.is_dir() {
            return Some(Lookup::Directory(p.to_path_buf()));
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            if meta.permissions().mode() & 0o111 == 0 {
                return Some(Lookup::NotExecutable(p.to_path_buf()));
            }
        }
        Some(Lookup::Found)
    };
    if program.contains('/') {
        return check(Path::new(program)).unwrap_or(Lookup::Missing);
    }
    let mut first_bad = None;
    for dir in path_var.unwrap_or("/bin:/usr/bin").split(':') {
        let dir = if dir.is_empty() { "." } else { dir };
        match check(&Path::new(dir).join(program)) {
            Some(Lookup::Found) => return Lookup::Found,
            Some(Lookup::Directory(_)) | None => {}
            Some(bad) => {
                first_bad.get_or_insert(bad);
            }
        }
    }
    first_bad.unwrap_or(Lookup::Missing)
}

fn credential_process(d: &mut Doctor<'_>, profile: &str, cmd: &tobira_config::Sourced<String>) {
    let Some(argv) = tobira_config::shlex::split(&cmd.value).filter(|a| !a.is_empty()) else {
        // Resolution reports an empty or unbalanced command.
        return;
    };
    let program = &argv[0];
    let severity = d.by_use(profile);
    let at = &cmd.origin;
    match lookup(program, d.ctx.env.get("PATH")) {
        Lookup::Found => {}
        Lookup::Missing => {
            let (what, fix) = if program.contains('/') {
                (format!("`{program}` does not exist"), format!("correct the path at {at}"))
            } else {
                (
                    format!("`{program}` is not in any directory of `PATH`"),
                    format!("install it, or give its full path at {at}"),
                )
            };
            d.add(
                severity,
                "process-missing",
                format!(
                    "the `credential_process` of profile `{profile}` ({at}) cannot run: {what}; the AWS CLI fails with \"Error when retrieving credentials from custom-process\""
                ),
                Some(fix),
            );
        }
        Lookup::NotExecutable(p) => {
            let shown = d.shown(&p);
            d.add(
                severity,
                "process-not-executable",
                format!(
                    "the `credential_process` of profile `{profile}` ({at}) cannot run: {shown} is not executable (permission denied)"
                ),
                Some(format!("`chmod +x {}`", path_word(&shown))),
            );
        }
        Lookup::Directory(p) => {
            let shown = d.shown(&p);
            d.add(
                severity,
                "process-not-executable",
                format!("the `credential_process` of profile `{profile}` ({at}) cannot run: {shown} is a directory"),
                Some(format!("give the path of the program at {at}")),
            );
        }
    }
}

/// Sections botocore ignores, or lets replace each other without a word.
pub fn sections(d: &mut Doctor<'_>) {
    if d.set.is_none() {
        return;
    }
    let config = d.config_shown();
    if let Ok(Some(bytes)) = read(&d.ctx.paths.config.value)
        && let Ok(doc) = ini::Document::from_bytes(&bytes)
        && let Ok(sections) = ini::sections(&doc)
    {
        // What each header defines, in file order.
        let mut seen: BTreeMap<String, Vec<(String, usize, Vec<String>)>> = BTreeMap::new();
        for s in &sections {
            let keys: Vec<String> = s.properties.iter().map(|p| p.key.clone()).collect();
            let id = match classify_config_header(&s.header) {
                SectionId::Profile(n) => format!("profile `{n}`"),
                SectionId::SsoSession(n) => format!("sso-session `{n}`"),
                SectionId::Services(n) => format!("services `{n}`"),
                SectionId::Other => {
                    ignored_header(d, &s.header, s.line, &config);
                    continue;
                }
            };
            seen.entry(id).or_default().push((s.header.clone(), s.line, keys));
        }
        for (id, defs) in seen {
            let [.., last] = defs.as_slice() else { continue };
            if defs.len() < 2 {
                continue;
            }
            let earlier: Vec<String> =
                defs[..defs.len() - 1].iter().map(|(h, l, _)| format!("`[{h}]` (line {l})")).collect();
            let lost: Vec<String> = defs[..defs.len() - 1]
                .iter()
                .flat_map(|(_, _, keys)| keys.iter().filter(|k| !last.2.contains(k)).cloned())
                .collect();
            let lost_text = if lost.is_empty() {
                String::new()
            } else {
                format!(": {} set only there {} ignored", listed(&lost), if lost.len() == 1 { "is" } else { "are" })
            };
            let check = if id == "profile `default`" { "default-twice" } else { "section-twice" };
            d.add(
                Severity::Warning,
                check,
                format!(
                    "{} and `[{}]` (line {}) of {config} both define {id}; the later one replaces the earlier one entirely{lost_text}",
                    earlier.join(", "),
                    last.0,
                    last.1
                ),
                Some(format!("merge them into one section (keep `[{}]`, line {}, and move the keys you need into it)", last.0, last.1)),
            );
        }
    }
    // In the credentials file a section's name is the profile's name.
    if let Ok(Some(bytes)) = read(&d.ctx.paths.credentials.value)
        && let Ok(doc) = ini::Document::from_bytes(&bytes)
        && let Ok(sections) = ini::sections(&doc)
    {
        let creds = d.credentials_shown();
        for s in sections {
            if let Some(rest) = s.header.strip_prefix("profile ") {
                let rest = rest.trim();
                d.add(
                    Severity::Warning,
                    "credentials-profile-prefix",
                    format!(
                        "`[{}]` (line {} of {creds}) defines a profile named `{}`, not `{rest}`: in the credentials file a section is the bare profile name",
                        s.header, s.line, s.header
                    ),
                    Some(format!("rename it `[{rest}]`")),
                );
            }
        }
    }
}

/// A config-file header that looks meant as a profile or session but is not one.
fn ignored_header(d: &mut Doctor<'_>, header: &str, line: usize, config: &str) {
    let lower = header.trim().to_lowercase();
    let kind = ["profile", "sso-session", "sso_session", "services"].into_iter().find(|k| lower.starts_with(k));
    let Some(kind) = kind else { return };
    let rest = header.trim()[kind.len()..].trim().trim_matches(['"', '\'']).to_string();
    let kind = if kind == "sso_session" { "sso-session" } else { kind };
    let fixed = if rest.is_empty() {
        format!("[{kind} NAME]")
    } else if rest.contains(char::is_whitespace) {
        format!("[{kind} '{rest}']")
    } else {
        format!("[{kind} {rest}]")
    };
    d.add(
        Severity::Warning,
        "section-ignored",
        format!(
            "`[{header}]` (line {line} of {config}) is ignored by the AWS CLI, the SDKs and tobira: sections are written `[{kind} NAME]`, in lower case, with one name (quoted if it has spaces)"
        ),
        Some(format!("write the header as `{fixed}`")),
    );
}

/// Legacy SSO profiles and sso-sessions that cannot refresh.
pub fn sso_style(d: &mut Doctor<'_>) {
    let Some(set) = d.set.clone() else { return };
    for p in set.profiles() {
        if p.has("sso_session") {
            continue;
        }
        let (Some(url), Some(region)) = (p.text("sso_start_url"), p.text("sso_region")) else { continue };
        // The session to move to: one that already has this start URL, else one named after the profile.
        let mut sessions: Vec<_> = set.sso_sessions().collect();
        sessions.sort_by(|a, b| a.name.cmp(&b.name));
        let session = sessions
            .iter()
            .find(|s| {
                s.text("sso_start_url").is_some_and(|u| u.value == url.value)
                    && s.text("sso_region").is_some_and(|r| r.value == region.value)
            })
            .map_or_else(|| p.name.clone(), |s| s.name.clone());
        let mut cmd = format!(
            "tobira configure sso --profile {} --sso-session {} --start-url {} --sso-region {}",
            shell_word(&p.name),
            shell_word(&session),
            shell_word(&url.value),
            shell_word(&region.value)
        );
        if let (Some(a), Some(r)) = (p.text("sso_account_id"), p.text("sso_role_name")) {
            cmd.push_str(&format!(" --account {} --role {}", shell_word(&a.value), shell_word(&r.value)));
        }
        let kind = profile_kind(&set, p);
        let use_note = if kind == "sso-legacy" { "" } else { " (it is only used as an SSO login)" };
        d.add(
            Severity::Warning,
            "sso-legacy",
            format!(
                "profile `{}` uses the legacy SSO format (its own `sso_start_url` at {}){use_note}: its sign-ins cannot be refreshed, so every one ends after the session duration set in IAM Identity Center and needs a new sign-in",
                p.name, url.origin
            ),
            Some(format!(
                "move it to an sso-session: `{cmd}`, then delete its `sso_start_url` and `sso_region` lines ({} and {})",
                url.origin, region.origin
            )),
        );
    }
    let mut sessions: Vec<_> = set.sso_sessions().collect();
    sessions.sort_by(|a, b| a.name.cmp(&b.name));
    for s in sessions {
        if s.has("sso_registration_scopes") {
            continue;
        }
        let name = shell_word(&s.name);
        d.add(
            Severity::Warning,
            "sso-no-scopes",
            format!(
                "`[sso-session {}]` ({}) has no `sso_registration_scopes`: sign-ins with the device code flow (`--use-device-code`, and every AWS CLI before 2.22) get no refresh token, so they end after the session duration instead of being refreshed",
                s.name, s.origin
            ),
            Some(format!(
                "`tobira configure sso-session --sso-session {name} --scopes sso:account:access`, then sign in again: `tobira login --sso-session {name} --force`"
            )),
        );
    }
}

/// The uid this process runs as (the owner of `/proc/self`), else the home
/// directory's owner.
#[cfg(unix)]
fn my_uid(home: Option<&Path>) -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    match std::fs::metadata("/proc/self") {
        Ok(m) => Some(m.uid()),
        Err(_) => std::fs::metadata(home?).ok().map(|m| m.uid()),
    }
}

/// Files that hold secrets must be readable by their owner only, and every
/// file must belong to the user (a root-owned cache, left by `sudo aws …`,
/// cannot be replaced).
pub fn permissions(d: &mut Doctor<'_>) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let Some(home) = d.ctx.home.clone() else { return };
        let me = my_uid(Some(&home));
        let config_has_secrets = d.set.as_ref().is_some_and(|s| {
            s.profiles().iter().any(|p| {
                s.config_profile(&p.name).is_some_and(|c| c.has("aws_secret_access_key") || c.has("aws_session_token"))
            })
        });
        let mut files: Vec<(PathBuf, bool)> =
            vec![(d.ctx.paths.credentials.value.clone(), true), (d.ctx.paths.config.value.clone(), config_has_secrets)];
        let dirs = [
            home.join(".aws").join("sso").join("cache"),
            home.join(".aws").join("cli").join("cache"),
            home.join(".aws").join("tobira").join("mfa-sessions"),
        ];
        let mut not_mine: Vec<(String, u32)> = Vec::new();
        let mut open_dirs: Vec<String> = Vec::new();
        for dir in &dirs {
            let Ok(meta) = std::fs::metadata(dir) else { continue };
            if me.is_some_and(|u| u != meta.uid()) {
                not_mine.push((d.shown(dir), meta.uid()));
            }
            if meta.permissions().mode() & 0o022 != 0 {
                open_dirs.push(d.shown(dir));
            }
            let Ok(entries) = std::fs::read_dir(dir) else { continue };
            let mut names: Vec<PathBuf> =
                entries.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "json")).collect();
            names.sort();
            files.extend(names.into_iter().map(|p| (p, true)));
        }
        let mut readable: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (path, secret) in &files {
            let Ok(meta) = std::fs::metadata(path) else { continue };
            if me.is_some_and(|u| u != meta.uid()) {
                not_mine.push((d.shown(path), meta.uid()));
            }
            if *secret && meta.permissions().mode() & 0o077 != 0 {
                let parent = path.parent().map(|p| d.shown(p)).unwrap_or_default();
                readable.entry(parent).or_default().push(d.shown(path));
            }
        }
        if !not_mine.is_empty() {
            let shown: Vec<String> = not_mine.iter().take(5).map(|(p, uid)| format!("{p} (uid {uid})")).collect();
            let more = if not_mine.len() > 5 { format!(" and {} more", not_mine.len() - 5) } else { String::new() };
            d.add(
                Severity::Error,
                "file-owner",
                format!(
                    "{}{more} belong{} to another user (often left by `sudo aws …` or `sudo tobira …`): tobira and the AWS CLI cannot replace them, so sign-ins and cached credentials are not saved",
                    shown.join(", "),
                    if not_mine.len() == 1 { "s" } else { "" }
                ),
                Some(format!("take them back: `sudo chown -R \"$(id -un)\" {}`", d.shown(&home.join(".aws")))),
            );
        }
        for (dir, paths) in readable {
            let (what, fix) = if paths.len() == 1 {
                (paths[0].clone(), format!("`chmod 600 {}`", path_word(&paths[0])))
            } else {
                (
                    format!("{} files in {dir}", paths.len()),
                    format!("`chmod 600 {}`", paths.iter().map(|p| path_word(p)).collect::<Vec<_>>().join(" ")),
                )
            };
            d.add(
                Severity::Warning,
                "file-permissions",
                format!(
                    "{what} can be read by other users of this machine, and {} secrets (keys, tokens)",
                    if paths.len() == 1 { "it holds" } else { "they hold" }
                ),
                Some(fix),
            );
        }
        for dir in open_dirs {
            d.add(
                Severity::Warning,
                "file-permissions",
                format!("{dir} can be written by other users of this machine, who could replace the sign-ins and credentials in it"),
                Some(format!("`chmod 700 {}`", path_word(&dir))),
            );
        }
    }
}
