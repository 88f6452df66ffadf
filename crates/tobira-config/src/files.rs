//! Locating the two files and merging them into botocore's "full config":
//! profiles, sso-sessions and services blocks, every value with its origin.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use crate::env::Env;
use crate::ini::{self, Document, LineError, Value};
use crate::origin::{Origin, Sourced};
use crate::shlex;

/// Which of the two files.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FileKind {
    Config,
    Credentials,
}

/// Where the two files are, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Paths {
    pub config: Sourced<PathBuf>,
    pub credentials: Sourced<PathBuf>,
}

impl Paths {
    /// `AWS_CONFIG_FILE` / `AWS_SHARED_CREDENTIALS_FILE` or `~/.aws/…`, with
    /// `$VAR` then `~` expansion as botocore does. `HOME` comes from `env`.
    pub fn locate(env: &Env) -> Paths {
        let pick = |var: &str, default: &str| match env.get(var) {
            Some(v) => Sourced::new(expand_path(v, env), Origin::Env { var: var.into() }),
            None => Sourced::new(expand_path(default, env), Origin::Default),
        };
        Paths {
            config: pick("AWS_CONFIG_FILE", "~/.aws/config"),
            credentials: pick("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials"),
        }
    }
}

/// `os.path.expandvars` then `os.path.expanduser`.
pub fn expand_path(raw: &str, env: &Env) -> PathBuf {
    let vars = expand_vars(raw, env);
    let home = env.get("HOME").or_else(|| env.get("USERPROFILE"));
    match (home, vars.strip_prefix('~')) {
        (Some(home), Some(rest)) if rest.is_empty() || rest.starts_with(['/', '\\']) => {
            PathBuf::from(format!("{}{rest}", home.trim_end_matches('/')))
        }
        _ => PathBuf::from(vars),
    }
}

/// `$NAME` and `${NAME}`; unknown variables are left as written.
fn expand_vars(raw: &str, env: &Env) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        let (name, consumed) = if let Some(inner) = after.strip_prefix('{') {
            match inner.find('}') {
                Some(end) => (&inner[..end], end + 2),
                None => ("", 0),
            }
        } else {
            let end = after.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(after.len());
            (&after[..end], end)
        };
        match env.get(name) {
            Some(value) if !name.is_empty() => {
                out.push_str(value);
                rest = &after[consumed..];
            }
            _ => {
                out.push('$');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// What a config-file section header means to botocore.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SectionId {
    Profile(String),
    SsoSession(String),
    Services(String),
    /// Not used for auth (`[foo]`, `[Profile X]`, `[profile a b]`, …).
    Other,
}

/// botocore's `build_profile_map` rule for one config-file header: a prefix
/// test (`startswith`), then `shlex.split` must give exactly two tokens.
pub fn classify_config_header(header: &str) -> SectionId {
    let second = || match shlex::split(header) {
        Some(tokens) if tokens.len() == 2 => tokens.into_iter().nth(1),
        _ => None,
    };
    if header.starts_with("profile") {
        second().map_or(SectionId::Other, SectionId::Profile)
    } else if header.starts_with("sso-session") {
        second().map_or(SectionId::Other, SectionId::SsoSession)
    } else if header.starts_with("services") {
        second().map_or(SectionId::Other, SectionId::Services)
    } else if header == "default" {
        SectionId::Profile("default".into())
    } else {
        SectionId::Other
    }
}

/// A key of a profile, sso-session or services block, with its origin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prop {
    pub key: String,
    pub value: Value,
    pub origin: Origin,
}

/// A named set of keys (a profile, an sso-session, a services block).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    pub name: String,
    /// Where the section header is (for a merged profile: the config-file
    /// header if there is one, else the credentials-file header).
    pub origin: Origin,
    pub props: Vec<Prop>,
}

impl Block {
    pub fn get(&self, key: &str) -> Option<&Prop> {
        self.props.iter().find(|p| p.key == key)
    }

    /// A key's text value (nested values are not text).
    pub fn text(&self, key: &str) -> Option<Sourced<String>> {
        let p = self.get(key)?;
        Some(Sourced::new(p.value.as_text()?.to_string(), p.origin.clone()))
    }

    pub fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }
}

/// A file that could not be parsed: where, and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}:{}: {}", path.display(), error.line, error.kind_message())]
pub struct ParseError {
    pub path: PathBuf,
    pub kind: FileKind,
    pub error: LineError,
}

impl LineError {
    fn kind_message(&self) -> String {
        self.to_string()
    }
}

/// A file that could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Parse(#[from] ParseError),
    #[error("cannot read {}: {source}", path.display())]
    Io { path: PathBuf, kind: FileKind, source: std::io::Error },
}

/// One parsed file.
#[derive(Clone, Debug, Default)]
struct ParsedFile {
    path: String,
    blocks: Vec<Block>,
}

/// What a pass of the hot path asks of a file: the sections whose header
/// the predicate accepts (it sees every header), or why it cannot say.
type Pick<'a, E> = dyn FnMut(&mut dyn FnMut(&str) -> bool) -> Result<Vec<ini::SectionText>, E> + 'a;

/// Why [`ProfileSet::for_profile_reading`] stopped reading in pieces.
#[derive(Debug)]
enum Unusual {
    /// A read failed: the full reading reports it.
    Unreadable,
    /// Not the usual form: read whole instead.
    Form,
}

/// The name a config-file header gives to a `prefix` section (`profile`,
/// `sso-session`, `services`), as [`classify_config_header`] reads it,
/// without allocating for the usual header with no quotes or backslashes.
fn second_word<'a>(header: &'a str, prefix: &str) -> Option<std::borrow::Cow<'a, str>> {
    if !header.starts_with(prefix) {
        return None;
    }
    if header.contains(['\'', '"', '\\']) {
        return match classify_config_header(header) {
            SectionId::Profile(n) if prefix == "profile" => Some(n.into()),
            SectionId::SsoSession(n) if prefix == "sso-session" => Some(n.into()),
            SectionId::Services(n) if prefix == "services" => Some(n.into()),
            _ => None,
        };
    }
    // shlex splits on these four characters only.
    let mut words = header.split([' ', '\t', '\r', '\n']).filter(|w| !w.is_empty());
    let (_, second, third) = (words.next(), words.next(), words.next());
    match (second, third) {
        (Some(n), None) => Some(n.into()),
        _ => None,
    }
}

/// Whether `header` can name `name` at all (a cheap test before
/// [`second_word`]): without quotes or backslashes, the name is the
/// header's last word, so the header ends with it. With them, the last
/// word still ends with the name's last character, a closing quote, or a
/// backslash that escapes a space; anything else is ruled out before the
/// header is searched for quotes (the hot path asks this of every header).
fn may_name(header: &str, name: &str) -> bool {
    let trimmed = header.trim_end_matches([' ', '\t']);
    if trimmed.ends_with(name) {
        return true;
    }
    let last = name.as_bytes().last();
    let ends = |s: &str| s.as_bytes().last().copied();
    let possible = matches!(ends(trimmed), Some(b'\'' | b'"' | b'\\'))
        || ends(trimmed).as_ref() == last
        || ends(header).as_ref() == last;
    possible && memchr::memchr3(b'\'', b'"', b'\\', header.as_bytes()).is_some()
}

/// A block parsed from a piece of its file that starts `lines` lines in.
fn shift(mut block: Block, lines: usize) -> Block {
    let move_down = |o: &mut Origin| {
        if let Origin::ConfigFile { line, .. } | Origin::CredentialsFile { line, .. } = o {
            *line += lines;
        }
    };
    move_down(&mut block.origin);
    for p in &mut block.props {
        move_down(&mut p.origin);
    }
    block
}

fn parse_file(path: &Path, kind: FileKind, bytes: &[u8]) -> Result<ParsedFile, ParseError> {
    let err = |error| ParseError { path: path.to_path_buf(), kind, error };
    let doc = Document::from_bytes(bytes).map_err(err)?;
    let sections = ini::sections(&doc).map_err(err)?;
    let shown: std::sync::Arc<str> = path.display().to_string().into();
    let origin = |line| match kind {
        FileKind::Config => Origin::ConfigFile { path: shown.clone(), line },
        FileKind::Credentials => Origin::CredentialsFile { path: shown.clone(), line },
    };
    let blocks = sections
        .into_iter()
        .map(|s| Block {
            name: s.header,
            origin: origin(s.line),
            props: s
                .properties
                .into_iter()
                .map(|p| Prop { key: p.key, value: p.value, origin: origin(p.line) })
                .collect(),
        })
        .collect();
    Ok(ParsedFile { path: shown.to_string(), blocks })
}

/// botocore's full config: config-file profiles merged with credentials-file
/// sections, plus sso-sessions and services blocks, and the raw per-file
/// views two credential providers read.
#[derive(Clone, Debug, Default)]
pub struct ProfileSet {
    pub config_path: String,
    pub credentials_path: String,
    profiles: Vec<Block>,
    /// Profile name → (position in `profiles`, defined in the config file).
    index: HashMap<String, (usize, bool)>,
    /// The config file's own version of profiles the credentials file
    /// changed (for the others, the merged profile *is* the config's).
    config_before_merge: HashMap<String, Block>,
    credentials_sections: HashMap<String, Block>,
    sso_sessions: HashMap<String, Block>,
    services: HashMap<String, Block>,
}

impl ProfileSet {
    /// Reads both files (a missing file is an empty file).
    pub fn load(paths: &Paths) -> Result<ProfileSet, LoadError> {
        let read = |path: &Path, kind| match std::fs::read(path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            // A directory or unreadable file: botocore treats it as missing
            // only when it does not exist, so this is an error.
            Err(source) => Err(LoadError::Io { path: path.to_path_buf(), kind, source }),
        };
        let config = read(&paths.config.value, FileKind::Config)?;
        let credentials = read(&paths.credentials.value, FileKind::Credentials)?;
        Ok(ProfileSet::from_bytes(
            &paths.config.value,
            config.as_deref(),
            &paths.credentials.value,
            credentials.as_deref(),
        )?)
    }

    /// The bytes-in twin of [`ProfileSet::load`]; `None` = file missing.
    pub fn from_bytes(
        config_path: &Path,
        config: Option<&[u8]>,
        credentials_path: &Path,
        credentials: Option<&[u8]>,
    ) -> Result<ProfileSet, ParseError> {
        let config = match config {
            Some(b) => parse_file(config_path, FileKind::Config, b)?,
            None => ParsedFile { path: config_path.display().to_string(), blocks: vec![] },
        };
        let credentials = match credentials {
            Some(b) => parse_file(credentials_path, FileKind::Credentials, b)?,
            None => ParsedFile { path: credentials_path.display().to_string(), blocks: vec![] },
        };
        Ok(ProfileSet::assemble(config, credentials))
    }

    /// Only the sections that resolving `profile` can read: the profile in
    /// both files, its `source_profile` chain, their sso-sessions and
    /// services blocks, found through [`ini::scan_headers`] without parsing
    /// the rest of the files (the hot path: docs/hot-path.md). For those
    /// sections the result equals [`ProfileSet::from_bytes`]'s. `None` when
    /// this shortcut cannot promise that — a file that is not UTF-8, a
    /// `[DEFAULT]` section (its keys reach every section), a needed section
    /// defined twice or not parsing, a chain longer than 100 profiles — and
    /// the caller reads the whole files. Errors elsewhere in the files are
    /// not seen: commands that read the whole files report them.
    pub fn for_profile(
        config_path: &Path,
        config: Option<&[u8]>,
        credentials_path: &Path,
        credentials: Option<&[u8]>,
        profile: &str,
    ) -> Option<ProfileSet> {
        fn text(b: Option<&[u8]>) -> Option<&str> {
            match b {
                None => Some(""),
                Some(b) => std::str::from_utf8(b).ok(),
            }
        }
        let (ctext, rtext) = (text(config)?, text(credentials)?);
        let mut from_config = |want: &mut dyn FnMut(&str) -> bool| Ok::<_, Unusual>(ini::pick_in_text(ctext, want));
        let mut from_credentials =
            |want: &mut dyn FnMut(&str) -> bool| Ok::<_, Unusual>(ini::pick_in_text(rtext, want));
        Self::for_profile_picking(config_path, &mut from_config, credentials_path, &mut from_credentials, profile)
            .ok()
            .flatten()
    }

    /// [`ProfileSet::for_profile`] for files read in pieces, each pass from
    /// the start ([`ini::pick_sections`]): a large config is never held in
    /// memory whole. A file that is not in the usual form is read whole and
    /// given to [`ProfileSet::for_profile`], with the same result. `None`
    /// for every case `for_profile` gives up on, and on a read error (the
    /// full reading then reports it).
    pub fn for_profile_reading<C, K>(
        config_path: &Path,
        config: Option<C>,
        credentials_path: &Path,
        credentials: Option<K>,
        profile: &str,
    ) -> Option<ProfileSet>
    where
        C: std::io::Read + std::io::Seek,
        K: std::io::Read + std::io::Seek,
    {
        use std::io::{Read, Seek, SeekFrom};
        fn picker<R: Read + Seek>(file: &mut Option<R>) -> Box<Pick<'_, Unusual>> {
            Box::new(move |want| match file {
                None => Ok(Vec::new()),
                Some(r) => {
                    r.seek(SeekFrom::Start(0)).map_err(|_| Unusual::Unreadable)?;
                    ini::pick_sections(r, want).map_err(|_| Unusual::Unreadable)?.ok_or(Unusual::Form)
                }
            })
        }
        fn whole<R: Read + Seek>(file: &mut Option<R>) -> Option<Option<Vec<u8>>> {
            let Some(r) = file else { return Some(None) };
            let mut bytes = Vec::new();
            r.seek(SeekFrom::Start(0)).ok()?;
            r.read_to_end(&mut bytes).ok()?;
            Some(Some(bytes))
        }
        let (mut config, mut credentials) = (config, credentials);
        let picked = Self::for_profile_picking(
            config_path,
            &mut picker(&mut config),
            credentials_path,
            &mut picker(&mut credentials),
            profile,
        );
        match picked {
            Ok(set) => set,
            Err(Unusual::Unreadable) => None,
            Err(Unusual::Form) => {
                let c = whole(&mut config)?;
                let k = whole(&mut credentials)?;
                Self::for_profile(config_path, c.as_deref(), credentials_path, k.as_deref(), profile)
            }
        }
    }

    /// The passes of [`ProfileSet::for_profile`]: each picks, from both
    /// files, the sections of every profile known so far plus every
    /// sso-session and services section; a `source_profile` not picked yet
    /// needs one more pass.
    fn for_profile_picking<E>(
        config_path: &Path,
        pick_config: &mut Pick<'_, E>,
        credentials_path: &Path,
        pick_credentials: &mut Pick<'_, E>,
        profile: &str,
    ) -> Result<Option<ProfileSet>, E> {
        let parse = |path: &Path, kind, s: &ini::SectionText| {
            let parsed = parse_file(path, kind, s.text.as_bytes()).ok()?;
            let [block] = <[Block; 1]>::try_from(parsed.blocks).ok()?;
            Some(shift(block, s.line - 1))
        };
        let names_profile = |head: &str, name: &str| {
            (name == "default" && head == "default")
                || (may_name(head, name) && second_word(head, "profile").as_deref() == Some(name))
        };
        let mut profiles = vec![profile.to_string()];
        loop {
            let known = &profiles[..];
            let mut default_seen = false;
            let mut want_config = |head: &str| {
                default_seen |= head == "DEFAULT";
                // Most headers are other profiles: the first letter rules out the kinds.
                match head.as_bytes().first() {
                    Some(b's') => second_word(head, "sso-session").is_some() || second_word(head, "services").is_some(),
                    _ => known.iter().any(|n| names_profile(head, n)),
                }
            };
            let c = pick_config(&mut want_config)?;
            let mut want_credentials = |head: &str| {
                default_seen |= head == "DEFAULT";
                known.iter().any(|n| n == head)
            };
            let k = pick_credentials(&mut want_credentials)?;
            if default_seen {
                return Ok(None);
            }
            let (config, credentials) = (c, k);
            let picked_for = profiles.len();
            // Follow the chain through what was picked.
            let mut from_config: BTreeMap<usize, Block> = BTreeMap::new();
            let mut from_credentials: BTreeMap<usize, Block> = BTreeMap::new();
            let (mut sessions, mut services): (Vec<String>, Vec<String>) = (Vec::new(), Vec::new());
            let mut i = 0;
            let mut complete = true;
            while let Some(name) = profiles.get(i).cloned() {
                i += 1;
                if i > 101 {
                    return Ok(None);
                }
                if i > picked_for {
                    complete = false;
                    continue;
                }
                let mut blocks = Vec::new();
                for s in config.iter().filter(|s| names_profile(&s.name, &name)) {
                    let Some(b) = parse(config_path, FileKind::Config, s) else { return Ok(None) };
                    blocks.push(b.clone());
                    from_config.insert(s.index, b);
                }
                for s in credentials.iter().filter(|s| s.name == name) {
                    let Some(b) = parse(credentials_path, FileKind::Credentials, s) else { return Ok(None) };
                    blocks.push(b.clone());
                    from_credentials.insert(s.index, b);
                }
                for b in &blocks {
                    let follow = |key: &str, list: &mut Vec<String>| {
                        if let Some(v) = b.text(key)
                            && !list.contains(&v.value)
                        {
                            list.push(v.value);
                        }
                    };
                    follow("source_profile", &mut profiles);
                    follow("sso_session", &mut sessions);
                    follow("services", &mut services);
                }
            }
            if !complete {
                continue;
            }
            for (prefix, names) in [("sso-session", &sessions), ("services", &services)] {
                for s in &config {
                    if names.iter().any(|n| may_name(&s.name, n))
                        && second_word(&s.name, prefix).is_some_and(|n| names.iter().any(|x| *x == n))
                    {
                        let Some(b) = parse(config_path, FileKind::Config, s) else { return Ok(None) };
                        from_config.insert(s.index, b);
                    }
                }
            }
            // A section defined twice makes the whole file unreadable: only the
            // full parse reports that.
            let twice = |picked: &BTreeMap<usize, Block>, all: &[ini::SectionText]| {
                let names: Vec<&str> =
                    picked.keys().filter_map(|&h| all.iter().find(|s| s.index == h).map(|s| s.name.as_str())).collect();
                names.iter().enumerate().any(|(i, n)| names[..i].contains(n))
            };
            if twice(&from_config, &config) || twice(&from_credentials, &credentials) {
                return Ok(None);
            }
            let file = |path: &Path, blocks: BTreeMap<usize, Block>| ParsedFile {
                path: path.display().to_string(),
                blocks: blocks.into_values().collect(),
            };
            return Ok(Some(ProfileSet::assemble(
                file(config_path, from_config),
                file(credentials_path, from_credentials),
            )));
        }
    }

    /// botocore's merge of the two files' sections (files.md §2.2, §2.3).
    fn assemble(config: ParsedFile, credentials: ParsedFile) -> ProfileSet {
        let mut set = ProfileSet {
            config_path: config.path.clone(),
            credentials_path: credentials.path.clone(),
            ..ProfileSet::default()
        };
        for block in config.blocks {
            match classify_config_header(&block.name) {
                SectionId::Profile(name) => {
                    let block = Block { name: name.clone(), ..block };
                    // Profiles keep the position of their first appearance
                    // (Python dict); a later section replaces the keys wholesale.
                    match set.index.get(&name) {
                        Some(&(i, _)) => set.profiles[i] = block,
                        None => {
                            set.index.insert(name, (set.profiles.len(), true));
                            set.profiles.push(block);
                        }
                    }
                }
                SectionId::SsoSession(name) => {
                    set.sso_sessions.insert(name.clone(), Block { name, ..block });
                }
                SectionId::Services(name) => {
                    set.services.insert(name.clone(), Block { name, ..block });
                }
                SectionId::Other => {}
            }
        }
        for block in credentials.blocks {
            match set.index.get(&block.name) {
                Some(&(i, from_config)) => {
                    let merged = &mut set.profiles[i];
                    if from_config && !set.config_before_merge.contains_key(&block.name) {
                        set.config_before_merge.insert(block.name.clone(), merged.clone());
                    }
                    for prop in &block.props {
                        match merged.props.iter_mut().find(|p| p.key == prop.key) {
                            Some(slot) => *slot = prop.clone(),
                            None => merged.props.push(prop.clone()),
                        }
                    }
                }
                None => {
                    set.index.insert(block.name.clone(), (set.profiles.len(), false));
                    set.profiles.push(block.clone());
                }
            }
            set.credentials_sections.insert(block.name.clone(), block);
        }
        set
    }

    /// Every profile, config-file order first, then credentials-only ones.
    pub fn profiles(&self) -> &[Block] {
        &self.profiles
    }

    pub fn profile(&self, name: &str) -> Option<&Block> {
        self.index.get(name).map(|&(i, _)| &self.profiles[i])
    }

    /// The profile as the config file alone defines it.
    pub fn config_profile(&self, name: &str) -> Option<&Block> {
        match self.index.get(name) {
            Some(&(i, true)) => Some(self.config_before_merge.get(name).unwrap_or(&self.profiles[i])),
            _ => None,
        }
    }

    /// The credentials-file section named exactly `name`.
    pub fn credentials_section(&self, name: &str) -> Option<&Block> {
        self.credentials_sections.get(name)
    }

    pub fn sso_session(&self, name: &str) -> Option<&Block> {
        self.sso_sessions.get(name)
    }

    pub fn sso_sessions(&self) -> impl Iterator<Item = &Block> {
        self.sso_sessions.values()
    }

    pub fn services(&self, name: &str) -> Option<&Block> {
        self.services.get(name)
    }

    /// Names of every services block.
    pub fn services_names(&self) -> impl Iterator<Item = &str> {
        self.services.keys().map(String::as_str)
    }

    /// Profile names close to `name`, best first (for "did you mean").
    pub fn close_matches(&self, name: &str) -> Vec<String> {
        let lower = name.to_lowercase();
        let mut scored: Vec<(f64, &str)> = self
            .profiles
            .iter()
            .map(|p| {
                let candidate = p.name.to_lowercase();
                let mut score = strsim::jaro_winkler(&lower, &candidate);
                if candidate.contains(&lower) || lower.contains(&candidate) {
                    score = score.max(0.9);
                }
                (score, p.name.as_str())
            })
            .filter(|(s, _)| *s >= 0.8)
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
        scored.into_iter().take(3).map(|(_, n)| n.to_string()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(config: &str, credentials: &str) -> ProfileSet {
        ProfileSet::from_bytes(
            Path::new("config"),
            Some(config.as_bytes()),
            Path::new("credentials"),
            Some(credentials.as_bytes()),
        )
        .unwrap()
    }

    #[test]
    fn header_rules() {
        assert_eq!(classify_config_header("profile  dev"), SectionId::Profile("dev".into()));
        assert_eq!(classify_config_header("profile \"my dev\""), SectionId::Profile("my dev".into()));
        assert_eq!(classify_config_header("profilex y"), SectionId::Profile("y".into()));
        assert_eq!(classify_config_header("profile a b"), SectionId::Other);
        assert_eq!(classify_config_header("profile"), SectionId::Other);
        assert_eq!(classify_config_header(" profile x "), SectionId::Other);
        assert_eq!(classify_config_header("Profile X"), SectionId::Other);
        assert_eq!(classify_config_header("sso-session corp"), SectionId::SsoSession("corp".into()));
        assert_eq!(classify_config_header("services local"), SectionId::Services("local".into()));
        assert_eq!(classify_config_header("default"), SectionId::Profile("default".into()));
    }

    #[test]
    fn later_default_wins_and_credentials_overwrite() {
        let s = set(
            "[default]\nregion = a\n[profile x]\nregion = x\n[profile default]\noutput = json\n",
            "[x]\nregion = y\naws_access_key_id = K\n[only]\na = 1\n",
        );
        let names: Vec<_> = s.profiles().iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["default", "x", "only"]);
        assert!(s.profile("default").unwrap().get("region").is_none());
        let x = s.profile("x").unwrap();
        assert_eq!(x.text("region").unwrap().value, "y");
        assert!(matches!(x.get("region").unwrap().origin, Origin::CredentialsFile { line: 2, .. }));
        assert_eq!(s.config_profile("x").unwrap().text("region").unwrap().value, "x");
    }

    #[test]
    fn paths_expand() {
        let env = Env::from_pairs([("HOME", "/h"), ("D", "/d"), ("AWS_CONFIG_FILE", "$D/cfg")]);
        let p = Paths::locate(&env);
        assert_eq!(p.config.value, PathBuf::from("/d/cfg"));
        assert_eq!(p.credentials.value, PathBuf::from("/h/.aws/credentials"));
        assert_eq!(expand_path("~/${D}x/$NOPE", &env), PathBuf::from("/h//dx/$NOPE"));
    }

    #[test]
    fn close_matches() {
        let s = set("[profile prod-admin]\n[profile dev]\n[profile production]\n", "");
        assert_eq!(s.close_matches("prod")[..2], ["prod-admin", "production"]);
        assert!(s.close_matches("zzz").is_empty());
    }
}
