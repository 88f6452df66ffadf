//! Edits that touch only the lines they target: set or remove a key, add or
//! remove a section, and keep a named block of generated sections up to date.
//! Comments, order, spacing, line endings and unknown keys stay as they were.

use crate::files::{FileKind, SectionId, classify_config_header};
use crate::ini::{Document, Line, LineKind, header_name, py_strip};
use crate::shlex;

/// A section to edit, named the way users think of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A profile: `[profile NAME]` (`[default]` for `default`) in the config
    /// file, `[NAME]` in the credentials file.
    Profile(String),
    SsoSession(String),
    Services(String),
}

impl Target {
    /// The header text tobira writes for a new section.
    pub fn header(&self, file: FileKind) -> String {
        match (self, file) {
            (Target::Profile(n), FileKind::Credentials) => n.clone(),
            (Target::Profile(n), FileKind::Config) if n == "default" => "default".into(),
            (Target::Profile(n), FileKind::Config) => format!("profile {}", shlex::quote(n)),
            (Target::SsoSession(n), _) => format!("sso-session {}", shlex::quote(n)),
            (Target::Services(n), _) => format!("services {}", shlex::quote(n)),
        }
    }

    fn matches(&self, header: &str, file: FileKind) -> bool {
        match (self, file) {
            (Target::Profile(n), FileKind::Credentials) => header == n,
            (_, FileKind::Config) | (_, FileKind::Credentials) => {
                let id = classify_config_header(header);
                match self {
                    Target::Profile(n) => id == SectionId::Profile(n.clone()),
                    Target::SsoSession(n) => id == SectionId::SsoSession(n.clone()),
                    Target::Services(n) => id == SectionId::Services(n.clone()),
                }
            }
        }
    }
}

/// Why an edit was refused. The document is unchanged when one is returned.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    #[error("values cannot contain line breaks (`{key}`)")]
    MultilineValue { key: String },
    #[error(
        "`{key}` cannot be used as a key: keys must be non-empty, on one line, without `=` or `:`, and not start with `[`, `#` or `;`"
    )]
    BadKey { key: String },
    #[error("`{name}` cannot be used as a section name here")]
    BadName { name: String },
    #[error("no section for {target:?}")]
    NoSection { target: Target },
    #[error(
        "the managed block `{name}` must contain whole sections (it starts with a key, or does not parse: {reason})"
    )]
    BadBlock { name: String, reason: String },
    #[error(
        "the managed block `{name}` has a BEGIN line without an END line (line {line}); remove the broken marker and retry"
    )]
    UnterminatedBlock { name: String, line: usize },
}

/// A document bound to the kind of file it is, with editing operations.
#[derive(Clone, Debug)]
pub struct Editor {
    pub doc: Document,
    pub file: FileKind,
}

fn check_key(key: &str) -> Result<String, EditError> {
    let k = key.to_lowercase();
    let bad = k.is_empty() || py_strip(&k) != k || k.contains(['=', ':', '\n', '\r']) || k.starts_with(['[', '#', ';']);
    if bad { Err(EditError::BadKey { key: key.into() }) } else { Ok(k) }
}

fn check_value(key: &str, value: &str) -> Result<(), EditError> {
    if value.contains(['\n', '\r']) { Err(EditError::MultilineValue { key: key.into() }) } else { Ok(()) }
}

impl Editor {
    pub fn new(doc: Document, file: FileKind) -> Editor {
        Editor { doc, file }
    }

    pub fn parse(text: &str, file: FileKind) -> Editor {
        Editor::new(Document::parse(text), file)
    }

    /// Line range `[start, end)` of the section the target names (the last
    /// one if several map to it, which is the one the AWS tools read), from
    /// its header to its last key or continuation line.
    fn find(&self, target: &Target) -> Option<(usize, usize)> {
        let kinds = self.doc.analyze().kinds;
        let mut found = None;
        let mut current: Option<(usize, usize)> = None;
        let flush = |cur: Option<(usize, usize)>, found: &mut Option<(usize, usize)>| {
            if let Some(c) = cur {
                *found = Some(c);
            }
        };
        for (i, kind) in kinds.iter().enumerate() {
            match kind {
                LineKind::Header { name } => {
                    flush(current.take(), &mut found);
                    if target.matches(name, self.file) {
                        current = Some((i, i + 1));
                    }
                }
                LineKind::Option { .. } | LineKind::Continuation { .. } | LineKind::Invalid => {
                    if let Some(c) = current.as_mut() {
                        c.1 = i + 1;
                    }
                }
                LineKind::Blank | LineKind::Comment => {}
            }
        }
        flush(current, &mut found);
        found
    }

    /// Lines of `key` in the section range: the option line and its
    /// continuation lines.
    fn key_lines(&self, range: (usize, usize), key: &str) -> Option<(usize, Vec<usize>)> {
        let kinds = self.doc.analyze().kinds;
        let opt =
            (range.0..range.1).rev().find(|&i| matches!(&kinds[i], LineKind::Option { key: k, .. } if k == key))?;
        let conts = (opt + 1..range.1)
            .filter(|&i| matches!(kinds[i], LineKind::Continuation { option_line } if option_line == opt))
            .collect();
        Some((opt, conts))
    }

    fn ensure_eol_before(&mut self, index: usize) {
        let eol = self.doc.dominant_eol();
        if index > 0 && self.doc.lines[index - 1].eol.is_empty() {
            self.doc.lines[index - 1].eol = eol;
        }
    }

    /// Inserts lines before line `at`, each ending with the file's line ending.
    fn insert_lines(&mut self, at: usize, texts: Vec<String>) {
        self.ensure_eol_before(at);
        let eol = self.doc.dominant_eol();
        let new = texts.into_iter().map(|text| Line { text, eol });
        self.doc.lines.splice(at..at, new);
    }

    /// Sets `key = value` in the target section, creating the section (at the
    /// end of the file) if needed. An existing key keeps its line, spacing
    /// and delimiter; only the value changes.
    pub fn set(&mut self, target: &Target, key: &str, value: &str) -> Result<(), EditError> {
        let key = check_key(key)?;
        check_value(&key, value)?;
        let Some(range) = self.find(target) else {
            return self.add_section(target, &[(&key, value)]);
        };
        if let Some((opt, conts)) = self.key_lines(range, &key) {
            let kinds = self.doc.analyze().kinds;
            let LineKind::Option { value_start, .. } = kinds[opt] else {
                unreachable!("key_lines returns option lines")
            };
            let line = &mut self.doc.lines[opt];
            line.text = format!("{}{}", &line.text[..value_start], value);
            for i in conts.into_iter().rev() {
                self.doc.lines.remove(i);
            }
            return Ok(());
        }
        let indent = self.key_indent(range);
        self.insert_lines(range.1, vec![format!("{indent}{key} = {value}")]);
        Ok(())
    }

    /// Sets `key =` + indented `sub = value` (a nested sub-section such as
    /// `sso_oidc =` / `  endpoint_url = …` in `[services x]`).
    pub fn set_nested(&mut self, target: &Target, key: &str, sub: &str, value: &str) -> Result<(), EditError> {
        let key = check_key(key)?;
        if sub.is_empty() || sub.contains(['=', '\n', '\r']) || py_strip(sub) != sub {
            return Err(EditError::BadKey { key: sub.into() });
        }
        check_value(sub, value)?;
        if self.find(target).is_none() {
            self.add_section(target, &[])?;
        }
        let range = self.find(target).ok_or_else(|| EditError::NoSection { target: target.clone() })?;
        let indent = self.key_indent(range);
        let sub_line = format!("{indent}  {sub} = {value}");
        match self.key_lines(range, &key) {
            Some((opt, conts)) => {
                let kinds = self.doc.analyze().kinds;
                let LineKind::Option { value: current, value_start, .. } = &kinds[opt] else {
                    unreachable!("key_lines returns option lines")
                };
                if !current.is_empty() {
                    // A plain value becomes a nested block.
                    let line = &mut self.doc.lines[opt];
                    line.text.truncate(*value_start);
                    let trimmed = line.text.trim_end_matches(crate::ini::py_is_space).len();
                    line.text.truncate(trimmed);
                    for i in conts.iter().rev() {
                        self.doc.lines.remove(*i);
                    }
                    self.insert_lines(opt + 1, vec![sub_line]);
                    return Ok(());
                }
                for &i in &conts {
                    let text = &self.doc.lines[i].text;
                    if let Some((k, _)) = text.split_once('=')
                        && py_strip(k) == sub
                    {
                        let prefix_len = text.find('=').map_or(0, |p| p + 1);
                        let after = &text[prefix_len..];
                        let ws = after.len() - after.trim_start_matches(crate::ini::py_is_space).len();
                        let prefix = text[..prefix_len + ws].to_string();
                        let prefix = if ws == 0 { format!("{prefix} ") } else { prefix };
                        self.doc.lines[i].text = format!("{prefix}{value}");
                        return Ok(());
                    }
                }
                let at = conts.last().map_or(opt + 1, |l| l + 1);
                self.insert_lines(at, vec![sub_line]);
            }
            None => {
                self.insert_lines(range.1, vec![format!("{indent}{key} ="), sub_line]);
            }
        }
        Ok(())
    }

    /// Indentation used by the section's existing keys (usually none).
    fn key_indent(&self, range: (usize, usize)) -> String {
        let kinds = self.doc.analyze().kinds;
        (range.0..range.1)
            .find(|&i| matches!(kinds[i], LineKind::Option { .. }))
            .map(|i| {
                let t = &self.doc.lines[i].text;
                t[..t.len() - t.trim_start_matches(crate::ini::py_is_space).len()].to_string()
            })
            .unwrap_or_default()
    }

    /// Removes `key` (and its continuation lines). `Ok(false)` if absent.
    pub fn remove_key(&mut self, target: &Target, key: &str) -> Result<bool, EditError> {
        let key = check_key(key)?;
        let Some(range) = self.find(target) else { return Ok(false) };
        let Some((opt, conts)) = self.key_lines(range, &key) else { return Ok(false) };
        for i in conts.into_iter().rev() {
            self.doc.lines.remove(i);
        }
        self.doc.lines.remove(opt);
        Ok(true)
    }

    /// Appends a new section with its keys at the end of the file, the way
    /// the AWS CLI does (no blank line before it).
    pub fn add_section(&mut self, target: &Target, keys: &[(&str, &str)]) -> Result<(), EditError> {
        let header = target.header(self.file);
        if header.contains(['\n', '\r']) || !self.header_round_trips(target, &header) {
            return Err(EditError::BadName { name: format!("{target:?}") });
        }
        let mut lines = vec![format!("[{header}]")];
        for (k, v) in keys {
            let k = check_key(k)?;
            check_value(&k, v)?;
            lines.push(format!("{k} = {v}"));
        }
        let at = self.doc.lines.len();
        self.insert_lines(at, lines);
        Ok(())
    }

    fn header_round_trips(&self, target: &Target, header: &str) -> bool {
        header_name(&format!("[{header}]")) == Some(header)
            && py_strip(header) == header
            && target.matches(header, self.file)
    }

    /// Removes the section's header and every line up to its last key
    /// (comments and blank lines after the last key stay). `Ok(false)` if
    /// there is no such section.
    pub fn remove_section(&mut self, target: &Target) -> bool {
        let Some((start, end)) = self.find(target) else { return false };
        self.doc.lines.drain(start..end);
        true
    }

    /// Replaces the text between `# BEGIN tobira managed: NAME` and
    /// `# END tobira managed: NAME` with `content` (whole sections), adding
    /// the block at the end of the file the first time. Everything outside
    /// the markers is left alone.
    pub fn set_managed_block(&mut self, name: &str, content: &str) -> Result<(), EditError> {
        let bad = |reason: String| EditError::BadBlock { name: name.into(), reason };
        if name.is_empty() || name.contains(['\n', '\r']) {
            return Err(bad("the block name must be one non-empty line".into()));
        }
        let block = Document::parse(content);
        let analysis = block.analyze();
        if let Some(e) = analysis.errors.first() {
            return Err(bad(format!("line {}: {e}", e.line)));
        }
        let first = analysis.kinds.iter().find(|k| !matches!(k, LineKind::Blank | LineKind::Comment));
        if !matches!(first, None | Some(LineKind::Header { .. })) {
            return Err(bad("it does not start with a section header".into()));
        }
        let (begin, end) = markers(name);
        let mut lines = vec![begin.clone()];
        lines.extend(block.lines.iter().map(|l| l.text.clone()));
        lines.push(end.clone());
        match self.managed_range(name)? {
            Some((start, stop)) => {
                let eol = self.doc.dominant_eol();
                // The END line keeps its ending (none at the end of a file without one).
                let last_eol = self.doc.lines[stop - 1].eol;
                let n = lines.len();
                let new = lines
                    .into_iter()
                    .enumerate()
                    .map(|(i, text)| Line { text, eol: if i + 1 == n { last_eol } else { eol } });
                self.doc.lines.splice(start..stop, new);
            }
            None => {
                let at = self.doc.lines.len();
                self.insert_lines(at, lines);
            }
        }
        Ok(())
    }

    /// Removes the managed block and its markers. `Ok(false)` if absent.
    pub fn remove_managed_block(&mut self, name: &str) -> Result<bool, EditError> {
        match self.managed_range(name)? {
            Some((start, stop)) => {
                self.doc.lines.drain(start..stop);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Lines `[start, end)` of the managed block `name`, its BEGIN and END
    /// lines included; `None` when there is none.
    pub fn managed_range(&self, name: &str) -> Result<Option<(usize, usize)>, EditError> {
        let (begin, end) = markers(name);
        let Some(start) = self.doc.lines.iter().position(|l| py_strip(&l.text) == begin) else { return Ok(None) };
        match self.doc.lines[start + 1..].iter().position(|l| py_strip(&l.text) == end) {
            Some(off) => Ok(Some((start, start + 1 + off + 1))),
            None => Err(EditError::UnterminatedBlock { name: name.into(), line: start + 1 }),
        }
    }
}

/// Why editing a file failed. Nothing was written when one is returned.
#[derive(Debug, thiserror::Error)]
pub enum EditFileError {
    #[error(transparent)]
    Parse(#[from] crate::files::ParseError),
    #[error(transparent)]
    Edit(#[from] EditError),
    #[error("the edit would leave {} unreadable ({error}); nothing was written", path.display())]
    WouldBreak { path: std::path::PathBuf, error: crate::ini::LineError },
    #[error("cannot update {}: {source}", path.display())]
    Io { path: std::path::PathBuf, source: std::io::Error },
}

/// Read-modify-write of a config or credentials file: under the file's lock,
/// read it, refuse if it does not parse, apply `f`, check the result still
/// parses, and write it atomically (through symlinks, keeping its mode; a
/// new file is created 0600 in a 0700 directory). Unchanged → not written.
pub fn edit_file<T>(
    path: &std::path::Path,
    file: FileKind,
    f: impl FnOnce(&mut Editor) -> Result<T, EditError>,
) -> Result<T, EditFileError> {
    let io = |source| EditFileError::Io { path: path.to_path_buf(), source };
    let _lock = tobira_fs::Lock::acquire(path).map_err(io)?;
    let before = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(io(e)),
    };
    let parse_err = |error| crate::files::ParseError { path: path.to_path_buf(), kind: file, error };
    let doc = Document::from_bytes(&before).map_err(parse_err)?;
    crate::ini::sections(&doc).map_err(parse_err)?;
    let mut editor = Editor::new(doc, file);
    let out = f(&mut editor)?;
    let after = editor.doc.to_string();
    if let Err(error) = crate::ini::sections(&editor.doc) {
        return Err(EditFileError::WouldBreak { path: path.to_path_buf(), error });
    }
    if after.as_bytes() != before.as_slice() {
        tobira_fs::write_atomic(path, after.as_bytes(), tobira_fs::PRIVATE_FILE).map_err(io)?;
    }
    Ok(out)
}

fn markers(name: &str) -> (String, String) {
    (format!("# BEGIN tobira managed: {name}"), format!("# END tobira managed: {name}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn edit_file_creates_private_and_refuses_broken_files() {
        use std::os::unix::fs::PermissionsExt;
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join(".aws/credentials");
        edit_file(&p, FileKind::Credentials, |e| e.set(&Target::Profile("dev".into()), "aws_access_key_id", "AKID"))
            .unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "[dev]\naws_access_key_id = AKID\n");
        assert_eq!(std::fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o600);
        std::fs::write(&p, "[a]\nx = 1\n[a]\n").unwrap();
        let err = edit_file(&p, FileKind::Credentials, |e| e.set(&Target::Profile("a".into()), "y", "2")).unwrap_err();
        assert!(matches!(err, EditFileError::Parse(_)), "{err}");
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "[a]\nx = 1\n[a]\n");
    }

    fn edit(text: &str, f: impl FnOnce(&mut Editor)) -> String {
        let mut e = Editor::parse(text, FileKind::Config);
        f(&mut e);
        e.doc.to_string()
    }

    #[test]
    fn set_replaces_value_only() {
        let out = edit("# top\n[profile dev]\nregion=us-east-1\noutput = json\n", |e| {
            e.set(&Target::Profile("dev".into()), "region", "eu-west-1").unwrap()
        });
        assert_eq!(out, "# top\n[profile dev]\nregion=eu-west-1\noutput = json\n");
    }

    #[test]
    fn set_inserts_after_last_key_before_comments() {
        let out = edit("[profile dev]\nregion = a\n\n# next\n[profile x]\n", |e| {
            e.set(&Target::Profile("dev".into()), "output", "json").unwrap()
        });
        assert_eq!(out, "[profile dev]\nregion = a\noutput = json\n\n# next\n[profile x]\n");
    }

    #[test]
    fn new_section_like_aws_cli() {
        let out = edit("[default]\nregion = a", |e| {
            e.add_section(&Target::Profile("my dev".into()), &[("sso_session", "corp")]).unwrap()
        });
        assert_eq!(out, "[default]\nregion = a\n[profile 'my dev']\nsso_session = corp\n");
    }

    #[test]
    fn crlf_is_kept() {
        let out = edit("[default]\r\nregion = a\r\n", |e| {
            e.set(&Target::Profile("default".into()), "output", "json").unwrap()
        });
        assert_eq!(out, "[default]\r\nregion = a\r\noutput = json\r\n");
    }

    #[test]
    fn remove_key_with_continuations_and_section() {
        let out = edit("[profile a]\ns3 =\n  x = 1\nregion = r\n# keep\n[profile b]\nk = v\n", |e| {
            assert!(e.remove_key(&Target::Profile("a".into()), "s3").unwrap());
            assert!(e.remove_section(&Target::Profile("b".into())));
        });
        assert_eq!(out, "[profile a]\nregion = r\n# keep\n");
    }

    #[test]
    fn nested_values() {
        let out = edit("[services local]\nsts =\n  endpoint_url = http://a\n", |e| {
            let t = Target::Services("local".into());
            e.set_nested(&t, "sts", "endpoint_url", "http://b").unwrap();
            e.set_nested(&t, "sso_oidc", "endpoint_url", "http://c").unwrap();
        });
        assert_eq!(out, "[services local]\nsts =\n  endpoint_url = http://b\nsso_oidc =\n  endpoint_url = http://c\n");
    }

    #[test]
    fn managed_block_replaced_in_place() {
        let mut e = Editor::parse("[default]\nregion = a\n", FileKind::Config);
        e.set_managed_block("corp", "[profile x]\nregion = 1\n").unwrap();
        e.doc.lines.push(Line { text: "# after".into(), eol: "\n" });
        e.set_managed_block("corp", "[profile y]\nregion = 2\n").unwrap();
        assert_eq!(
            e.doc.to_string(),
            "[default]\nregion = a\n# BEGIN tobira managed: corp\n[profile y]\nregion = 2\n# END tobira managed: corp\n# after\n"
        );
        assert!(e.set_managed_block("corp", "region = 2\n").is_err());
        assert!(e.remove_managed_block("corp").unwrap());
        assert_eq!(e.doc.to_string(), "[default]\nregion = a\n# after\n");
    }

    #[test]
    fn refuses_bad_input() {
        let mut e = Editor::parse("", FileKind::Config);
        let t = Target::Profile("x".into());
        assert!(matches!(e.set(&t, "a", "1\n[evil]"), Err(EditError::MultilineValue { .. })));
        assert!(matches!(e.set(&t, "a=b", "1"), Err(EditError::BadKey { .. })));
        assert!(matches!(e.add_section(&Target::Profile("a]\n".into()), &[]), Err(EditError::BadName { .. })));
        assert_eq!(e.doc.to_string(), "");
    }
}
