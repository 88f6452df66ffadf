//! The profiles `tobira configure populate` keeps in a managed block of the
//! config file: one per account × role of an sso-session, named from a
//! template, with the changes since the last run (docs/populate.md). Pure:
//! it edits an [`Editor`]; the CLI lists the access and writes the file.

use std::collections::{BTreeMap, BTreeSet};

use crate::edit::{EditError, Editor};
use crate::files::{SectionId, classify_config_header};
use crate::ini::{Document, LineKind};
use crate::shlex;

/// The name template used when none is given.
pub const DEFAULT_TEMPLATE: &str = "{account_name}.{role}";

/// The variables a template may use.
pub const VARIABLES: [&str; 4] = ["account_name", "account_id", "role", "session"];

/// The managed block of an sso-session's profiles.
pub fn block_name(session: &str) -> String {
    format!("populate sso-session {session}")
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Var {
    AccountName,
    AccountId,
    Role,
    Session,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Text(String),
    Var(Var),
}

/// A profile-name template such as `{account_name}.{role}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

/// Why a template cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("the template `{template}` uses `{{{name}}}`, which is not a variable")]
    Unknown { template: String, name: String },
    #[error("the template `{template}` has a `{{` without its `}}`")]
    Unclosed { template: String },
    #[error("the template `{template}` uses no variable, so every profile would have the same name")]
    NoVariable { template: String },
}

impl Template {
    pub fn parse(template: &str) -> Result<Template, TemplateError> {
        let mut parts = Vec::new();
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            if open > 0 {
                parts.push(Part::Text(rest[..open].to_string()));
            }
            let Some(close) = rest[open..].find('}') else {
                return Err(TemplateError::Unclosed { template: template.into() });
            };
            let name = &rest[open + 1..open + close];
            let var = match name {
                "account_name" => Var::AccountName,
                "account_id" => Var::AccountId,
                "role" | "role_name" => Var::Role,
                "session" => Var::Session,
                _ => return Err(TemplateError::Unknown { template: template.into(), name: name.into() }),
            };
            parts.push(Part::Var(var));
            rest = &rest[open + close + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_string()));
        }
        if !parts.iter().any(|p| matches!(p, Part::Var(_))) {
            return Err(TemplateError::NoVariable { template: template.into() });
        }
        Ok(Template { parts })
    }

    /// The profile name for a grant, sanitised: letters, digits, `.`, `_`
    /// and `-` stay; any other run of characters becomes one `-`; `-` at
    /// either end is dropped. An account without a name uses its id.
    pub fn render(&self, session: &str, grant: &Grant) -> String {
        let mut raw = String::new();
        for p in &self.parts {
            match p {
                Part::Text(t) => raw.push_str(t),
                Part::Var(Var::AccountName) => raw.push_str(
                    grant.account_name.as_deref().filter(|n| !n.trim().is_empty()).unwrap_or(&grant.account_id),
                ),
                Part::Var(Var::AccountId) => raw.push_str(&grant.account_id),
                Part::Var(Var::Role) => raw.push_str(&grant.role),
                Part::Var(Var::Session) => raw.push_str(session),
            }
        }
        let name = sanitise(&raw);
        if name.is_empty() { grant.account_id.clone() } else { name }
    }
}

/// Letters, digits, `.`, `_`, `-`; every other run of characters is one `-`.
pub fn sanitise(raw: &str) -> String {
    let mut out = String::new();
    for c in raw.chars() {
        let c = if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '-' };
        if c == '-' && out.ends_with('-') {
            continue;
        }
        out.push(c);
    }
    out.trim_matches('-').to_string()
}

/// One account × role the user can use.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Grant {
    pub account_id: String,
    pub account_name: Option<String>,
    pub role: String,
}

/// What the portal said about an sso-session's access.
#[derive(Clone, Debug, Default)]
pub struct Access {
    pub grants: Vec<Grant>,
    /// The account list is complete (every page was read).
    pub accounts_complete: bool,
    /// Accounts that were listed.
    pub accounts: BTreeSet<String>,
    /// Accounts whose roles were all listed.
    pub roles_listed: BTreeSet<String>,
}

impl Access {
    /// Whether access to `role` in `account` is known to be gone (as
    /// opposed to unknown, when the account or its roles could not be listed).
    fn gone(&self, account: &str, role: &str, granted: &BTreeSet<(String, String)>) -> bool {
        if self.roles_listed.contains(account) {
            !granted.contains(&(account.to_string(), role.to_string()))
        } else {
            self.accounts_complete && !self.accounts.contains(account)
        }
    }
}

/// How the profiles are written; remembered in the block, so the next run
/// without flags writes the same.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    pub template: String,
    /// `region` of every profile.
    pub region: Option<String>,
    /// `output` of every profile.
    pub output: Option<String>,
    /// `credential_process = tobira credential-process …` instead of `sso_*` keys.
    pub credential_process: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options { template: DEFAULT_TEMPLATE.into(), region: None, output: None, credential_process: false }
    }
}

/// Options given on the command line (`None`: as the last run; an empty
/// region or output removes it).
#[derive(Clone, Debug, Default)]
pub struct Given {
    pub template: Option<String>,
    pub region: Option<String>,
    pub output: Option<String>,
    pub credential_process: Option<bool>,
}

const SETTINGS: &str = "# settings:";

impl Options {
    /// The flags that give these options, as the block's settings line.
    pub fn flags(&self) -> String {
        let mut s = format!("--template {}", shlex::quote(&self.template));
        if let Some(r) = &self.region {
            s.push_str(&format!(" --default-region {}", shlex::quote(r)));
        }
        if let Some(o) = &self.output {
            s.push_str(&format!(" --output {}", shlex::quote(o)));
        }
        if self.credential_process {
            s.push_str(" --form credential-process");
        }
        s
    }

    fn from_flags(text: &str) -> Option<Options> {
        let words = shlex::split(text)?;
        let mut o = Options::default();
        let mut it = words.into_iter();
        while let Some(w) = it.next() {
            match w.as_str() {
                "--template" => o.template = it.next()?,
                "--default-region" => o.region = Some(it.next()?),
                "--output" => o.output = Some(it.next()?),
                "--form" => o.credential_process = it.next()? == "credential-process",
                _ => return None,
            }
        }
        Some(o)
    }

    /// This run's options: the flags given, else the last run's, else the defaults.
    pub fn merge(last: Option<&Options>, given: &Given) -> Options {
        let last = last.cloned().unwrap_or_default();
        let pick = |g: &Option<String>, l: Option<String>| match g {
            Some(v) if v.is_empty() => None,
            Some(v) => Some(v.clone()),
            None => l,
        };
        Options {
            template: given.template.clone().unwrap_or(last.template),
            region: pick(&given.region, last.region),
            output: pick(&given.output, last.output),
            credential_process: given.credential_process.unwrap_or(last.credential_process),
        }
    }
}

/// A profile of the block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Profile {
    pub name: String,
    pub account_id: String,
    pub role: String,
}

/// A profile of the previous block, with its lines as they were.
#[derive(Clone, Debug)]
struct Previous {
    profile: Profile,
    lines: Vec<String>,
}

/// What the block held before this run.
#[derive(Clone, Debug, Default)]
pub struct Last {
    pub options: Option<Options>,
    profiles: Vec<Previous>,
    /// Where the block is (BEGIN and END lines included).
    range: Option<(usize, usize)>,
}

/// The account and role a previous profile is for: its `sso_*` keys, or the
/// arguments of its `credential_process = tobira credential-process …`.
fn grant_of(section: &crate::ini::Section) -> Option<(String, String)> {
    let text = |k: &str| section.get(k).and_then(|p| p.value.as_text()).map(str::to_string);
    if let (Some(a), Some(r)) = (text("sso_account_id"), text("sso_role_name")) {
        return Some((a, r));
    }
    let words = shlex::split(&text("credential_process")?)?;
    let arg = |flag: &str| words.iter().position(|w| w == flag).and_then(|i| words.get(i + 1)).cloned();
    Some((arg("--account-id")?, arg("--role-name")?))
}

/// Reads the block of `session` (if any): its options and profiles.
pub fn last(editor: &Editor, session: &str) -> Result<Last, EditError> {
    let Some((start, end)) = editor.managed_range(&block_name(session))? else { return Ok(Last::default()) };
    let inner: Vec<&str> = editor.doc.lines[start + 1..end - 1].iter().map(|l| l.text.as_str()).collect();
    let options = inner.iter().find_map(|l| l.strip_prefix(SETTINGS)).and_then(Options::from_flags);
    let doc = Document::parse(&inner.join("\n"));
    let kinds = doc.analyze().kinds;
    let sections = crate::ini::sections(&doc).unwrap_or_default();
    let mut profiles = Vec::new();
    for s in &sections {
        let SectionId::Profile(name) = classify_config_header(&s.header) else { continue };
        let Some((account_id, role)) = grant_of(s) else { continue };
        // The header and every line up to the section's last key.
        let first = s.line - 1;
        let mut last = first;
        for (i, k) in kinds.iter().enumerate().skip(first + 1) {
            match k {
                LineKind::Header { .. } => break,
                LineKind::Option { .. } | LineKind::Continuation { .. } => last = i,
                _ => {}
            }
        }
        let lines = inner[first..=last].iter().map(|l| (*l).to_string()).collect();
        profiles.push(Previous { profile: Profile { name, account_id, role }, lines });
    }
    Ok(Last { options, profiles, range: Some((start, end)) })
}

/// What a run changed, for the user.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// No block existed before.
    pub first_run: bool,
    /// Profiles in the block now.
    pub profiles: usize,
    /// Access gained: new profiles.
    pub added: Vec<Profile>,
    /// Access lost, profiles kept (no `--prune`).
    pub gone_kept: Vec<Profile>,
    /// Access lost, profiles removed (`--prune`).
    pub pruned: Vec<Profile>,
    /// Same access, new name: (old name, profile).
    pub renamed: Vec<(String, Profile)>,
    /// Same name and access, other keys (options changed).
    pub rewritten: usize,
    /// Kept as they were because their account could not be listed.
    pub unverified: usize,
    /// Grants left out: every name tried is taken by a profile outside the block.
    pub skipped: Vec<(Grant, String)>,
}

impl Report {
    pub fn changed(&self) -> bool {
        self.first_run
            || !(self.added.is_empty()
                && self.pruned.is_empty()
                && self.renamed.is_empty()
                && self.rewritten == 0
                && self.gone_kept.is_empty())
    }
}

/// Profile names outside the block `session` (config file), plus `others`
/// (the credentials file's, which botocore merges in).
fn taken(editor: &Editor, range: Option<(usize, usize)>, others: &BTreeSet<String>) -> BTreeSet<String> {
    let mut names = others.clone();
    for (i, k) in editor.doc.analyze().kinds.iter().enumerate() {
        if range.is_some_and(|(s, e)| (s..e).contains(&i)) {
            continue;
        }
        if let LineKind::Header { name } = k
            && let SectionId::Profile(p) = classify_config_header(name)
        {
            names.insert(p);
        }
    }
    names
}

/// Names for every grant, unique and free: the template's name; where two
/// grants get the same one, or it is taken outside the block, each of them
/// gets `-<account id>`, then `-<role>`, then `-<session>` added, one step at
/// a time until it is unique (docs/populate.md §3). The result does not
/// depend on the order of the grants.
fn names(session: &str, template: &Template, grants: &[Grant], taken: &BTreeSet<String>) -> Vec<Option<String>> {
    let base: Vec<String> = grants.iter().map(|g| template.render(session, g)).collect();
    let name = |i: usize, level: usize| {
        let g = &grants[i];
        let suffixes = [sanitise(&g.account_id), sanitise(&g.role), sanitise(session)];
        let mut n = base[i].clone();
        for s in suffixes.iter().take(level) {
            n.push('-');
            n.push_str(s);
        }
        n
    };
    let mut level = vec![0usize; grants.len()];
    loop {
        let current: Vec<String> = (0..grants.len()).map(|i| name(i, level[i])).collect();
        let mut count: BTreeMap<&str, usize> = BTreeMap::new();
        for n in &current {
            *count.entry(n).or_default() += 1;
        }
        let clash: Vec<usize> =
            (0..grants.len()).filter(|&i| count[current[i].as_str()] > 1 || taken.contains(&current[i])).collect();
        let movable: Vec<usize> = clash.iter().copied().filter(|&i| level[i] < 3).collect();
        if movable.is_empty() {
            let clash: BTreeSet<usize> = clash.into_iter().collect();
            return (0..grants.len()).map(|i| (!clash.contains(&i)).then(|| current[i].clone())).collect();
        }
        for i in movable {
            level[i] += 1;
        }
    }
}

/// The lines of one generated profile.
fn profile_lines(session: &str, name: &str, grant: &Grant, options: &Options) -> Vec<String> {
    let mut lines = vec![format!("[profile {name}]")];
    if options.credential_process {
        lines.push(format!(
            "credential_process = tobira credential-process --sso-session {} --account-id {} --role-name {}",
            shlex::quote(session),
            shlex::quote(&grant.account_id),
            shlex::quote(&grant.role)
        ));
    } else {
        lines.push(format!("sso_session = {session}"));
        lines.push(format!("sso_account_id = {}", grant.account_id));
        lines.push(format!("sso_role_name = {}", grant.role));
    }
    if let Some(r) = &options.region {
        lines.push(format!("region = {r}"));
    }
    if let Some(o) = &options.output {
        lines.push(format!("output = {o}"));
    }
    lines
}

const GONE: &str =
    "# gone: this account and role were not found at the last run; `tobira configure populate --prune` removes it";

/// Rewrites the block of `session` with a profile for every grant of
/// `access`, and says what changed. Profiles of the last run whose access is
/// gone stay (marked) unless `prune`; those whose account could not be
/// listed stay as they were. Nothing outside the block changes; a run that
/// changes nothing leaves the text byte for byte as it was.
pub fn apply(
    editor: &mut Editor,
    session: &str,
    access: &Access,
    options: &Options,
    template: &Template,
    prune: bool,
    credentials_profiles: &BTreeSet<String>,
) -> Result<Report, EditError> {
    if session.contains(['\n', '\r']) || options.region.iter().chain(&options.output).any(|v| v.contains(['\n', '\r']))
    {
        return Err(EditError::MultilineValue { key: "sso_session/region/output".into() });
    }
    let last = last(editor, session)?;
    let mut report = Report { first_run: last.range.is_none(), ..Report::default() };
    let mut taken = taken(editor, last.range, credentials_profiles);

    let mut grants: Vec<Grant> = access.grants.clone();
    grants.sort();
    grants.dedup_by(|a, b| a.account_id == b.account_id && a.role == b.role);
    let granted: BTreeSet<(String, String)> = grants.iter().map(|g| (g.account_id.clone(), g.role.clone())).collect();

    // Profiles of the last run that stay whatever their name: access gone
    // (without --prune) or unknown.
    let mut kept: Vec<(Previous, bool)> = Vec::new();
    for p in &last.profiles {
        let key = (p.profile.account_id.clone(), p.profile.role.clone());
        if granted.contains(&key) {
            continue;
        }
        if access.gone(&key.0, &key.1, &granted) {
            if prune {
                report.pruned.push(p.profile.clone());
                continue;
            }
            report.gone_kept.push(p.profile.clone());
            kept.push((p.clone(), true));
        } else {
            report.unverified += 1;
            kept.push((p.clone(), false));
        }
        taken.insert(p.profile.name.clone());
    }

    let by_grant: BTreeMap<(&str, &str), &Previous> =
        last.profiles.iter().map(|p| ((p.profile.account_id.as_str(), p.profile.role.as_str()), p)).collect();
    let mut sections: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (p, gone) in &kept {
        let mut lines = Vec::new();
        if *gone {
            lines.push(GONE.to_string());
        }
        lines.extend(p.lines.iter().cloned());
        sections.insert(p.profile.name.clone(), lines);
    }
    for (g, name) in grants.iter().zip(names(session, template, &grants, &taken)) {
        let Some(name) = name else {
            report.skipped.push((g.clone(), template.render(session, g)));
            continue;
        };
        let lines = profile_lines(session, &name, g, options);
        let profile = Profile { name: name.clone(), account_id: g.account_id.clone(), role: g.role.clone() };
        match by_grant.get(&(g.account_id.as_str(), g.role.as_str())) {
            None => report.added.push(profile),
            Some(prev) if prev.profile.name != name => report.renamed.push((prev.profile.name.clone(), profile)),
            Some(prev) if prev.lines != lines => report.rewritten += 1,
            Some(_) => {}
        }
        sections.insert(name, lines);
    }
    report.profiles = sections.len();

    let mut content = vec![
        format!(
            "# Profiles for every account and role of sso-session {session}, written by `tobira configure populate`."
        ),
        "# Run it again to update them: it rewrites everything between the BEGIN and END lines.".to_string(),
        format!("{SETTINGS} {}", options.flags()),
    ];
    for lines in sections.into_values() {
        content.extend(lines);
    }
    let mut text = content.join("\n");
    text.push('\n');
    editor.set_managed_block(&block_name(session), &text)?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::FileKind;

    fn grant(id: &str, name: Option<&str>, role: &str) -> Grant {
        Grant { account_id: id.into(), account_name: name.map(str::to_string), role: role.into() }
    }

    fn access(grants: Vec<Grant>) -> Access {
        let accounts: BTreeSet<String> = grants.iter().map(|g| g.account_id.clone()).collect();
        Access { grants, accounts_complete: true, roles_listed: accounts.clone(), accounts }
    }

    fn run(text: &str, a: &Access, o: &Options, prune: bool) -> (String, Report) {
        let mut e = Editor::parse(text, FileKind::Config);
        let t = Template::parse(&o.template).unwrap();
        let r = apply(&mut e, "corp", a, o, &t, prune, &BTreeSet::new()).unwrap();
        (e.doc.to_string(), r)
    }

    #[test]
    fn templates() {
        let t = Template::parse("{session}/{account_name}:{role}").unwrap();
        assert_eq!(
            t.render("my corp", &grant("111111111111", Some("Prod (EU)"), "Read Only")),
            "my-corp-Prod-EU-Read-Only"
        );
        assert_eq!(t.render("corp", &grant("111111111111", None, "R")), "corp-111111111111-R");
        assert_eq!(t.render("corp", &grant("111111111111", Some("  "), "R")), "corp-111111111111-R");
        assert_eq!(
            Template::parse("{role_name}-{account_id}").unwrap().render("c", &grant("1", Some("x"), "R")),
            "R-1"
        );
        assert_eq!(Template::parse("{role}").unwrap().render("c", &grant("123", None, "日本")), "123", "never empty");
        assert_eq!(
            Template::parse("{acount}").unwrap_err().to_string(),
            "the template `{acount}` uses `{acount}`, which is not a variable"
        );
        assert!(matches!(Template::parse("{role"), Err(TemplateError::Unclosed { .. })));
        assert!(matches!(Template::parse("fixed"), Err(TemplateError::NoVariable { .. })));
        assert_eq!(sanitise("--a  b//c--"), "a-b-c");
        assert_eq!(sanitise("日本.x_y"), ".x_y");
    }

    #[test]
    fn options_round_trip_through_the_settings_line() {
        let o = Options {
            template: "{account_name} {role}".into(),
            region: Some("eu-west-1".into()),
            output: Some("json".into()),
            credential_process: true,
        };
        assert_eq!(
            o.flags(),
            "--template '{account_name} {role}' --default-region eu-west-1 --output json --form credential-process"
        );
        assert_eq!(Options::from_flags(&o.flags()), Some(o.clone()));
        // Flags win; an empty value removes; nothing given keeps the last run's.
        let given = Given { region: Some(String::new()), output: Some("text".into()), ..Given::default() };
        let merged = Options::merge(Some(&o), &given);
        assert_eq!((merged.region, merged.output.as_deref(), merged.template), (None, Some("text"), o.template));
        assert_eq!(Options::merge(None, &Given::default()), Options::default());
    }

    #[test]
    fn first_run_then_no_change_then_gained_and_lost() {
        let before = "# mine\n[profile mine]\nregion = us-east-1\n";
        let a =
            access(vec![grant("111111111111", Some("Prod"), "ReadOnly"), grant("222222222222", Some("Dev"), "Admin")]);
        let o = Options { region: Some("eu-west-1".into()), ..Options::default() };
        let (text, r) = run(before, &a, &o, false);
        assert_eq!(
            text,
            "# mine\n[profile mine]\nregion = us-east-1\n\
             # BEGIN tobira managed: populate sso-session corp\n\
             # Profiles for every account and role of sso-session corp, written by `tobira configure populate`.\n\
             # Run it again to update them: it rewrites everything between the BEGIN and END lines.\n\
             # settings: --template '{account_name}.{role}' --default-region eu-west-1\n\
             [profile Dev.Admin]\nsso_session = corp\nsso_account_id = 222222222222\nsso_role_name = Admin\nregion = eu-west-1\n\
             [profile Prod.ReadOnly]\nsso_session = corp\nsso_account_id = 111111111111\nsso_role_name = ReadOnly\nregion = eu-west-1\n\
             # END tobira managed: populate sso-session corp\n"
        );
        assert!(r.first_run && r.changed() && r.added.len() == 2 && r.profiles == 2);

        // Again, with the options remembered: byte for byte the same, nothing changed.
        let mut e = Editor::parse(&text, FileKind::Config);
        let remembered = last(&e, "corp").unwrap().options.unwrap();
        assert_eq!(remembered, o);
        let t = Template::parse(&remembered.template).unwrap();
        let r = apply(&mut e, "corp", &a, &remembered, &t, false, &BTreeSet::new()).unwrap();
        assert_eq!(e.doc.to_string(), text);
        assert!(!r.changed(), "{r:?}");

        // Dev's Admin gone, Prod's Billing new: the gone profile stays, marked.
        let b = access(vec![
            grant("111111111111", Some("Prod"), "ReadOnly"),
            grant("111111111111", Some("Prod"), "Billing"),
        ]);
        let (after, r) = run(&text, &b, &o, false);
        assert_eq!(
            r.added,
            [Profile { name: "Prod.Billing".into(), account_id: "111111111111".into(), role: "Billing".into() }]
        );
        assert_eq!(r.gone_kept.len(), 1);
        assert!(after.contains(&format!("{GONE}\n[profile Dev.Admin]\n")), "{after}");
        assert!(after.starts_with("# mine\n[profile mine]\nregion = us-east-1\n# BEGIN"));
        // Prune removes it, and nothing else.
        let (pruned, r) = run(&after, &b, &o, true);
        assert_eq!(r.pruned.len(), 1);
        assert!(
            !pruned.contains("Dev.Admin")
                && pruned.contains("[profile Prod.Billing]")
                && pruned.contains("[profile mine]")
        );
        assert_eq!(pruned.lines().filter(|l| l.starts_with("[profile ")).count(), 3);
    }

    #[test]
    fn unknown_accounts_keep_their_profiles() {
        let a =
            access(vec![grant("111111111111", Some("Prod"), "ReadOnly"), grant("222222222222", Some("Dev"), "Admin")]);
        let (text, _) = run("", &a, &Options::default(), false);
        // Dev's roles could not be listed this time: its profile stays as it was, not "gone".
        let mut b = access(vec![grant("111111111111", Some("Prod"), "ReadOnly")]);
        b.accounts.insert("222222222222".into());
        let (after, r) = run(&text, &b, &Options::default(), true);
        assert_eq!((r.unverified, r.pruned.len(), r.gone_kept.len()), (1, 0, 0));
        assert_eq!(after, text);
        // The account list was cut short: an account missing from it is unknown too.
        let mut c = access(vec![grant("111111111111", Some("Prod"), "ReadOnly")]);
        c.accounts_complete = false;
        let (after, r) = run(&text, &c, &Options::default(), true);
        assert_eq!((r.unverified, r.pruned.len()), (1, 0));
        assert_eq!(after, text);
    }

    #[test]
    fn collisions_are_resolved_whatever_the_order() {
        let grants = vec![
            grant("111111111111", Some("Prod"), "ReadOnly"),
            grant("222222222222", Some("Prod"), "ReadOnly"),
            grant("333333333333", Some("Dev"), "ReadOnly"),
        ];
        let t = Template::parse(DEFAULT_TEMPLATE).unwrap();
        let taken: BTreeSet<String> = ["Dev.ReadOnly".to_string()].into();
        let n = names("corp", &t, &grants, &taken);
        assert_eq!(
            n,
            [
                Some("Prod.ReadOnly-111111111111".to_string()),
                Some("Prod.ReadOnly-222222222222".to_string()),
                Some("Dev.ReadOnly-333333333333".to_string())
            ]
        );
        let mut reversed = grants.clone();
        reversed.reverse();
        let mut r = names("corp", &t, &reversed, &taken);
        r.reverse();
        assert_eq!(r, n);
        // A template without the role: the role is added where needed.
        let t = Template::parse("{account_name}").unwrap();
        let g = vec![grant("1", Some("P"), "A"), grant("1", Some("P"), "B"), grant("2", Some("Q"), "A")];
        assert_eq!(n_of(&names("corp", &t, &g, &BTreeSet::new())), ["P-1-A", "P-1-B", "Q"]);
        // Taken with every suffix: left out.
        let taken: BTreeSet<String> = ["Q", "Q-2", "Q-2-A", "Q-2-A-corp"].iter().map(|s| s.to_string()).collect();
        assert_eq!(names("corp", &t, &g[2..], &taken), [None]);
    }

    fn n_of(v: &[Option<String>]) -> Vec<String> {
        v.iter().map(|n| n.clone().unwrap()).collect()
    }

    #[test]
    fn credential_process_form_and_its_profiles_read_back() {
        let a = access(vec![grant("111111111111", Some("Prod"), "ReadOnly")]);
        let o = Options { credential_process: true, ..Options::default() };
        let (text, _) = run("", &a, &o, false);
        assert!(text.contains(
            "[profile Prod.ReadOnly]\ncredential_process = tobira credential-process --sso-session corp --account-id 111111111111 --role-name ReadOnly\n"
        ));
        let e = Editor::parse(&text, FileKind::Config);
        let l = last(&e, "corp").unwrap();
        assert_eq!(
            l.profiles[0].profile,
            Profile { name: "Prod.ReadOnly".into(), account_id: "111111111111".into(), role: "ReadOnly".into() }
        );
        // Back to the sso form: the same profile, rewritten.
        let (after, r) = run(&text, &a, &Options::default(), false);
        assert_eq!(r.rewritten, 1);
        assert!(after.contains("sso_role_name = ReadOnly"));
    }
}
