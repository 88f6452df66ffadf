//! `tobira configure populate`: a profile for every account × role of one
//! or every sso-session, in a managed block of `~/.aws/config` per session
//! (docs/populate.md). Lists the access through the portal (paged,
//! concurrent, retried: docs/portal-scale.md), then rewrites only the block;
//! a run that changes nothing writes nothing.

use std::collections::BTreeSet;
use std::io::Write;

use tobira_auth::portal::{self, ListOptions, Listing};
use tobira_config::populate::{self, Access, Given, Grant, Options, Report, Template};
use tobira_config::{EditFileError, Editor, FileKind, edit_file};

use super::runtime;
use super::sso::{incomplete, token};
use super::target::{Chosen, Selection, choose};
use crate::progress::Bar;
use crate::{CliError, Context, Kind, emit};

/// Flags of `configure populate`.
#[derive(Debug, Default, clap::Args)]
pub struct PopulateArgs {
    /// The sso-session whose access to write (default: the only one configured)
    #[arg(long, value_name = "NAME", conflicts_with = "all")]
    pub sso_session: Option<String>,
    /// Every sso-session in the config file
    #[arg(long)]
    pub all: bool,
    /// Profile names: {account_name}, {account_id}, {role}, {session}; characters other than
    /// letters, digits, `.`, `_`, `-` become `-` (default: the last run's, else {account_name}.{role})
    #[arg(long, value_name = "TEMPLATE")]
    pub template: Option<String>,
    /// `region` of every profile ('' for none; default: the last run's)
    #[arg(long, value_name = "REGION")]
    pub default_region: Option<String>,
    /// `output` of every profile ('' for none; default: the last run's)
    #[arg(long, value_name = "FORMAT")]
    pub output: Option<String>,
    /// `sso`: sso_* keys; `credential-process`: `credential_process = tobira credential-process …`
    /// for tools that cannot read SSO profiles (default: the last run's, else sso)
    #[arg(long, value_enum, value_name = "FORM")]
    pub form: Option<Form>,
    /// Remove the profiles of access that is gone (nothing else)
    #[arg(long)]
    pub prune: bool,
    /// Print the change to the config file as a diff; write nothing
    #[arg(long)]
    pub dry_run: bool,
}

/// How a profile gets its credentials.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Form {
    Sso,
    CredentialProcess,
}

/// The sso-sessions to populate.
fn sessions(ctx: &Context, args: &PopulateArgs) -> Result<Vec<String>, CliError> {
    let set = ctx.load_profiles()?;
    let mut names: Vec<String> = set.sso_sessions().map(|s| s.name.clone()).collect();
    names.sort();
    let config = ctx.display_path(&ctx.paths.config.value);
    if let Some(n) = &args.sso_session {
        return Ok(vec![n.clone()]);
    }
    match names.as_slice() {
        [] => Err(CliError::new(
            Kind::InvalidProfile,
            format!("there is no [sso-session] section in {} to populate profiles from", config.display()),
        )
        .hint("create one with `tobira configure sso-session --sso-session NAME --start-url URL --sso-region REGION`")),
        [one] => Ok(vec![one.clone()]),
        many if args.all => Ok(many.to_vec()),
        many => Err(CliError::new(Kind::Usage, format!("several sso-sessions are configured: {}", many.join(", ")))
            .hint(format!("pick one with `--sso-session {}`, or write them all with `--all`", many[0]))),
    }
}

/// What the portal said about one session, and the listing (for its errors).
struct Listed {
    chosen: Chosen,
    access: Access,
    listing: Listing,
}

fn list(ctx: &Context, session: &str) -> Result<Listed, CliError> {
    let set = ctx.load_profiles()?;
    let chosen = choose(ctx, &set, &Selection { profile: None, sso_session: Some(session.to_string()) })?;
    let tok = token(ctx, &chosen)?;
    let bar = Bar::new(&format!("Listing the accounts of sso-session {session}"));
    let listing = runtime()?.block_on(portal::list_access(&chosen.target, &tok, None, &ListOptions::default(), &bar));
    bar.clear();
    let mut listing = listing;
    if listing.failures.iter().any(|f| f.error.needs_login()) {
        // The sign-in ended part-way: nothing is written.
        incomplete(ctx, &mut listing, &chosen, "configure populate")?;
    }
    let names: std::collections::BTreeMap<&str, Option<&str>> =
        listing.accounts.iter().map(|a| (a.id.as_str(), a.name.as_deref())).collect();
    let grants = listing
        .roles
        .iter()
        .flat_map(|(id, roles)| {
            let name = names.get(id.as_str()).copied().flatten().map(str::to_string);
            roles.iter().map(move |r| Grant { account_id: id.clone(), account_name: name.clone(), role: r.clone() })
        })
        .collect();
    let access = Access {
        grants,
        accounts_complete: listing.accounts_complete,
        accounts: listing.accounts.iter().map(|a| a.id.clone()).collect(),
        roles_listed: listing.roles.keys().cloned().collect(),
    };
    Ok(Listed { chosen, access, listing })
}

fn edit_error(ctx: &Context, e: EditFileError) -> CliError {
    let config = ctx.display_path(&ctx.paths.config.value);
    match e {
        EditFileError::Parse(p) => CliError::from(tobira_config::LoadError::Parse(p)),
        EditFileError::Io { source, .. } => {
            CliError::new(Kind::Internal, format!("cannot update {}: {source}", config.display()))
        }
        other => CliError::new(Kind::ConfigFile, format!("cannot update {}: {other}", config.display()))
            .hint("nothing was written; fix the file (or remove the broken block markers) and run the command again"),
    }
}

fn given(args: &PopulateArgs) -> Given {
    Given {
        template: args.template.clone(),
        region: args.default_region.clone(),
        output: args.output.clone(),
        credential_process: args.form.map(|f| f == Form::CredentialProcess),
    }
}

fn check(options: &Options) -> Result<Template, CliError> {
    let template = Template::parse(&options.template).map_err(|e| {
        CliError::new(Kind::Usage, e.to_string())
            .hint(format!("the variables are {}", populate::VARIABLES.map(|v| format!("{{{v}}}")).join(", ")))
    })?;
    for (flag, value) in [("--default-region", &options.region), ("--output", &options.output)] {
        if let Some(v) = value
            && !v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return Err(CliError::new(Kind::Usage, format!("{flag} `{v}`: letters, digits and `-` only")));
        }
    }
    Ok(template)
}

/// One profile as users read it in a list.
fn line(p: &populate::Profile) -> String {
    format!("{}  ({} {})", p.name, p.account_id, p.role)
}

/// What changed since the last run, in words.
fn describe(session: &str, r: &Report, listed: &Listing) -> String {
    let mut s = format!(
        "sso-session {session}: {} account(s), {} role(s) listed ({} portal calls, {} throttled and retried)\n",
        listed.accounts.len(),
        listed.roles.values().map(Vec::len).sum::<usize>(),
        listed.stats.calls,
        listed.stats.throttled,
    );
    const SHOWN: usize = 20;
    let list = |s: &mut String, title: &str, items: Vec<String>| {
        if items.is_empty() {
            return;
        }
        s.push_str(&format!("  {title} ({}):\n", items.len()));
        for i in items.iter().take(SHOWN) {
            s.push_str(&format!("    {i}\n"));
        }
        if items.len() > SHOWN {
            s.push_str(&format!("    … and {} more\n", items.len() - SHOWN));
        }
    };
    if r.first_run {
        s.push_str(&format!("  first run: {} profile(s)\n", r.profiles));
    } else if !r.changed() && r.skipped.is_empty() {
        s.push_str(&format!("  no change since the last run ({} profile(s))\n", r.profiles));
    } else {
        list(&mut s, "roles gained, profiles added", r.added.iter().map(line).collect());
        list(&mut s, "roles lost, profiles kept (`--prune` removes them)", r.gone_kept.iter().map(line).collect());
        list(&mut s, "roles lost, profiles removed", r.pruned.iter().map(line).collect());
        list(&mut s, "renamed", r.renamed.iter().map(|(old, p)| format!("{old} → {}", line(p))).collect());
        if r.rewritten > 0 {
            s.push_str(&format!("  {} profile(s) rewritten with the new settings\n", r.rewritten));
        }
        s.push_str(&format!("  {} profile(s) in all\n", r.profiles));
    }
    if r.unverified > 0 {
        s.push_str(&format!(
            "  {} profile(s) kept as they were: their account could not be listed this time\n",
            r.unverified
        ));
    }
    list(
        &mut s,
        "left out: the name and every suffix are taken by profiles outside the block",
        r.skipped.iter().map(|(g, n)| format!("{n}  ({} {})", g.account_id, g.role)).collect(),
    );
    s
}

pub fn run(ctx: &Context, args: PopulateArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let names = sessions(ctx, &args)?;
    let path = ctx.paths.config.value.clone();
    let shown = ctx.display_path(&path);
    let credentials: BTreeSet<String> = {
        let set = ctx.load_profiles()?;
        set.profiles().iter().filter(|p| set.credentials_section(&p.name).is_some()).map(|p| p.name.clone()).collect()
    };
    // The options of each session: the flags, else its block's last run.
    let current = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(edit_error(ctx, EditFileError::Io { path: path.clone(), source: e })),
    };
    let parse = |bytes: &[u8]| {
        let err = |error| {
            CliError::from(tobira_config::LoadError::Parse(tobira_config::ParseError {
                path: shown.clone(),
                kind: FileKind::Config,
                error,
            }))
        };
        let doc = tobira_config::ini::Document::from_bytes(bytes).map_err(err)?;
        tobira_config::ini::sections(&doc).map_err(err)?;
        Ok::<_, CliError>(doc)
    };
    let current_editor = Editor::new(parse(&current)?, FileKind::Config);
    let mut plans = Vec::new();
    for name in &names {
        let last = populate::last(&current_editor, name).map_err(|e| edit_error(ctx, e.into()))?;
        let options = Options::merge(last.options.as_ref(), &given(&args));
        let template = check(&options)?;
        plans.push((name.clone(), options, template));
    }
    let mut listed = Vec::new();
    for (name, ..) in &plans {
        listed.push(list(ctx, name)?);
    }
    let apply = |e: &mut Editor| {
        let mut reports = Vec::new();
        for ((name, options, template), l) in plans.iter().zip(&listed) {
            reports.push(populate::apply(e, name, &l.access, options, template, args.prune, &credentials)?);
        }
        Ok(reports)
    };
    let reports = if args.dry_run {
        let doc = parse(&current)?;
        let before = doc.to_string();
        let mut editor = Editor::new(doc, FileKind::Config);
        let reports = apply(&mut editor).map_err(|e| edit_error(ctx, EditFileError::Edit(e)))?;
        let after = editor.doc.to_string();
        let label = shown.display().to_string();
        let diff = similar::TextDiff::from_lines(&before, &after)
            .unified_diff()
            .context_radius(3)
            .header(&label, &format!("{label} (after populate)"))
            .to_string();
        emit(out, &diff)?;
        reports
    } else {
        edit_file(&path, FileKind::Config, apply).map_err(|e| edit_error(ctx, e))?
    };
    let mut text = String::new();
    for ((name, ..), (r, l)) in plans.iter().zip(reports.iter().zip(&listed)) {
        text.push_str(&describe(name, r, &l.listing));
    }
    let changed = reports.iter().any(Report::changed);
    text.push_str(&match (args.dry_run, changed) {
        (true, true) => {
            format!("Dry run: {} was not written (the diff above is what a run would change).\n", shown.display())
        }
        (true, false) => format!("Dry run: nothing would change in {}.\n", shown.display()),
        (false, true) => format!("Updated {}.\n", shown.display()),
        (false, false) => format!("{} is up to date; it was not written.\n", shown.display()),
    });
    emit(out, &text)?;
    // A listing that did not complete: what was written is said above; the
    // error says what failed.
    for mut l in listed {
        if !l.listing.complete() {
            let mut err = incomplete(ctx, &mut l.listing, &l.chosen, "configure populate").err();
            if let Some(e) = err.take() {
                return Err(e.hint(
                    "the profiles of every account that was listed are written; those of accounts that could not be listed were kept as they were",
                ));
            }
        }
    }
    Ok(())
}
