//! The AWS dialect of INI, read the way botocore reads it (Python's
//! `configparser.RawConfigParser` in strict mode, plus botocore's nested
//! sub-sections), and kept losslessly so that an unedited document prints
//! back to the same bytes.
//!
//! Two layers:
//! - [`Document`]: the lines of the file, each with its own line ending. Never
//!   fails to build from text; printing it gives the input back.
//! - [`Document::analyze`]: classifies every line exactly as configparser does
//!   (comment, blank, header, option, continuation) and reports the first
//!   error configparser would raise, with its line number.

use std::fmt;

/// Python's `str.isspace` (Rust's `char::is_whitespace` plus the four ASCII
/// separators U+001C..U+001F, which Python treats as whitespace).
pub(crate) fn py_is_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Python's `str.strip()`.
pub(crate) fn py_strip(s: &str) -> &str {
    s.trim_matches(py_is_space)
}

/// One physical line: its text and the line ending that followed it
/// (`"\n"`, `"\r\n"`, `"\r"`, or `""` for a last line without one).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    pub text: String,
    pub eol: &'static str,
}

/// A config or credentials file as lines. `Document::parse(s).to_string() == s`
/// for every string `s`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Document {
    pub(crate) lines: Vec<Line>,
}

impl Document {
    /// Splits text into lines with Python's universal-newline rules
    /// (`\n`, `\r\n` and a lone `\r` all end a line).
    pub fn parse(text: &str) -> Document {
        let mut lines = Vec::new();
        let bytes = text.as_bytes();
        let mut start = 0;
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'\n' => {
                    lines.push(Line { text: text[start..i].to_string(), eol: "\n" });
                    i += 1;
                    start = i;
                }
                b'\r' => {
                    let crlf = bytes.get(i + 1) == Some(&b'\n');
                    lines.push(Line { text: text[start..i].to_string(), eol: if crlf { "\r\n" } else { "\r" } });
                    i += if crlf { 2 } else { 1 };
                    start = i;
                }
                _ => i += 1,
            }
        }
        if start < bytes.len() {
            lines.push(Line { text: text[start..].to_string(), eol: "" });
        }
        Document { lines }
    }

    /// Bytes in: the file's contents must be UTF-8, as botocore requires.
    pub fn from_bytes(bytes: &[u8]) -> Result<Document, LineError> {
        match std::str::from_utf8(bytes) {
            Ok(text) => Ok(Document::parse(text)),
            Err(e) => {
                let line = bytes[..e.valid_up_to()].iter().filter(|b| **b == b'\n').count() + 1;
                Err(LineError { line, kind: LineErrorKind::NotUtf8 })
            }
        }
    }

    pub fn lines(&self) -> &[Line] {
        &self.lines
    }

    /// The line ending most of the file uses (`"\n"` for an empty file).
    pub fn dominant_eol(&self) -> &'static str {
        let crlf = self.lines.iter().filter(|l| l.eol == "\r\n").count();
        let lf = self.lines.iter().filter(|l| l.eol == "\n").count();
        let cr = self.lines.iter().filter(|l| l.eol == "\r").count();
        if crlf > lf && crlf >= cr {
            "\r\n"
        } else if cr > lf && cr > crlf {
            "\r"
        } else {
            "\n"
        }
    }

    /// Classifies every line as configparser would. Never fails: problems
    /// are reported in [`Analysis::errors`], first one first.
    pub fn analyze(&self) -> Analysis {
        analyze(&self.lines)
    }
}

impl fmt::Display for Document {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for line in &self.lines {
            f.write_str(&line.text)?;
            f.write_str(line.eol)?;
        }
        Ok(())
    }
}

/// What a line is, in configparser's reading.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LineKind {
    /// Empty or whitespace only.
    Blank,
    /// Starts (after whitespace) with `#` or `;`.
    Comment,
    /// `[header]`: the text between the first `[` and the last `]`.
    Header { name: String },
    /// `key = value` or `key: value`; `key` is lower-cased, `value` stripped.
    /// `value_start` is the byte offset in the line where the value begins
    /// (after the delimiter and the whitespace that follows it).
    Option { key: String, value: String, value_start: usize },
    /// A line indented deeper than its option line: part of that option's value.
    Continuation { option_line: usize },
    /// A line configparser rejects.
    Invalid,
}

/// Why configparser rejects a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LineErrorKind {
    NotUtf8,
    NoDelimiter,
    EmptyKey,
    OptionBeforeSection,
    DuplicateSection { name: String, first_line: usize },
    DuplicateOption { section: String, key: String, first_line: usize },
    NestedWithoutEquals { key: String },
    ByteOrderMark,
}

/// A rejected line: 1-based line number and the reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineError {
    pub line: usize,
    pub kind: LineErrorKind,
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            LineErrorKind::NotUtf8 => write!(f, "the file is not valid UTF-8"),
            LineErrorKind::NoDelimiter => {
                write!(f, "this line is not a `[section]`, a `key = value` pair or a comment")
            }
            LineErrorKind::EmptyKey => write!(f, "a value has no key before its `=` or `:`"),
            LineErrorKind::OptionBeforeSection => {
                write!(f, "a `key = value` line comes before any `[section]` header")
            }
            LineErrorKind::DuplicateSection { name, first_line } => {
                write!(f, "section `[{name}]` appears again (first on line {first_line})")
            }
            LineErrorKind::DuplicateOption { section, key, first_line } => {
                write!(f, "key `{key}` appears twice in section `[{section}]` (first on line {first_line})")
            }
            LineErrorKind::NestedWithoutEquals { key } => {
                write!(f, "the indented lines under `{key} =` must each be `name = value`")
            }
            LineErrorKind::ByteOrderMark => {
                write!(f, "the file starts with a UTF-8 byte-order mark, which AWS tools cannot read")
            }
        }
    }
}

/// The result of [`Document::analyze`].
#[derive(Clone, Debug)]
pub struct Analysis {
    pub kinds: Vec<LineKind>,
    pub errors: Vec<LineError>,
}

fn analyze(lines: &[Line]) -> Analysis {
    use std::collections::HashMap;

    let mut kinds = Vec::with_capacity(lines.len());
    let mut errors = Vec::new();
    // Current section name (None before the first header); the option line
    // that continuation lines attach to; the indent of the last key line.
    let mut section: Option<String> = None;
    let mut option_line: Option<usize> = None;
    let mut indent_level = usize::MAX;
    let mut seen_sections: HashMap<String, usize> = HashMap::new();
    // Keys of the current section, and of `[DEFAULT]` (which may appear more
    // than once, sharing its keys). A repeated ordinary section is already
    // an error, so its keys need not be remembered across headers.
    let mut section_keys = SeenKeys::default();
    let mut default_keys = SeenKeys::default();

    for (idx, line) in lines.iter().enumerate() {
        let text = line.text.as_str();
        let stripped = py_strip(text);
        if stripped.starts_with('#') || stripped.starts_with(';') {
            kinds.push(LineKind::Comment);
            continue;
        }
        if stripped.is_empty() {
            kinds.push(LineKind::Blank);
            continue;
        }
        // Indentation in characters (configparser counts code points).
        let indent = text.chars().take_while(|c| py_is_space(*c)).count();
        if let Some(opt) = option_line
            && section.is_some()
            && indent > indent_level
        {
            kinds.push(LineKind::Continuation { option_line: opt });
            continue;
        }
        indent_level = indent;
        if let Some(name) = header_name(stripped) {
            if name != "DEFAULT" {
                if let Some(first) = seen_sections.get(name) {
                    errors.push(LineError {
                        line: idx + 1,
                        kind: LineErrorKind::DuplicateSection { name: name.to_string(), first_line: *first },
                    });
                } else {
                    seen_sections.insert(name.to_string(), idx + 1);
                }
            }
            section = Some(name.to_string());
            section_keys.clear();
            option_line = None;
            kinds.push(LineKind::Header { name: name.to_string() });
            continue;
        }
        let Some(current) = section.as_ref() else {
            let kind = if idx == 0 && text.starts_with('\u{feff}') {
                LineErrorKind::ByteOrderMark
            } else {
                LineErrorKind::OptionBeforeSection
            };
            errors.push(LineError { line: idx + 1, kind });
            kinds.push(LineKind::Invalid);
            continue;
        };
        match split_option(text) {
            Some((key, value, value_start)) if !key.is_empty() => {
                let keys = if current == "DEFAULT" { &mut default_keys } else { &mut section_keys };
                if let Some(first) = keys.get(&key) {
                    errors.push(LineError {
                        line: idx + 1,
                        kind: LineErrorKind::DuplicateOption {
                            section: current.clone(),
                            key: key.clone(),
                            first_line: first,
                        },
                    });
                } else {
                    keys.insert(&key, idx + 1);
                }
                option_line = Some(idx);
                kinds.push(LineKind::Option { key, value, value_start });
            }
            Some(_) => {
                errors.push(LineError { line: idx + 1, kind: LineErrorKind::EmptyKey });
                kinds.push(LineKind::Invalid);
            }
            None => {
                errors.push(LineError { line: idx + 1, kind: LineErrorKind::NoDelimiter });
                kinds.push(LineKind::Invalid);
            }
        }
    }
    Analysis { kinds, errors }
}

/// A section header found by [`scan_headers`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeaderAt<'a> {
    /// The header text (between `[` and the last `]`).
    pub name: &'a str,
    /// Byte offset where the header's line starts ([`line_at`] gives its number).
    pub start: usize,
}

/// The 1-based number of the line that starts at byte `start`, counting
/// line ends as [`Document::parse`] does (`\n`, `\r\n`, lone `\r`).
pub fn line_at(text: &str, start: usize) -> usize {
    let before = &text.as_bytes()[..start];
    let lf = memchr::memchr_iter(b'\n', before).count();
    let lone_cr = memchr::memchr_iter(b'\r', before).filter(|&i| before.get(i + 1) != Some(&b'\n')).count();
    // A `\r` right before `start` ends the previous line even if `\n` follows later.
    1 + lf + lone_cr
}

/// Every section header of a file, found as [`Document::analyze`] finds
/// them (an indented `[x]` that continues a value is not a header), without
/// building lines or values: the index through which the hot path reads only
/// the sections a profile needs (docs/hot-path.md). It reports no errors;
/// whoever needs them parses the whole file.
pub fn scan_headers(text: &str) -> Vec<HeaderAt<'_>> {
    scan_column_zero(text).unwrap_or_else(|| scan_lines(text))
}

/// The usual file: every `[` that starts a stripped line is in the first
/// column, and no lone `\r` ends a line. A line whose first character is
/// `[` is a header whatever came before (a continuation needs more
/// indentation than the key line, and nothing has less than none), so the
/// headers are found by looking at the `[` characters only. `None` when a
/// `[` follows whitespace at the start of a line (only the line-by-line
/// reading can tell whether it continues a value) or the file has a `\r`.
fn scan_column_zero(text: &str) -> Option<Vec<HeaderAt<'_>>> {
    if memchr::memchr(b'\r', text.as_bytes()).is_some() {
        return None;
    }
    column_zero_headers(text).collect()
}

/// The headers of a text with no `\r` that starts at a line's start, by
/// its `[` characters (see [`scan_column_zero`]); an item `None` — and the
/// caller stops — at a `[` after leading whitespace.
fn column_zero_headers(text: &str) -> impl Iterator<Item = Option<HeaderAt<'_>>> + '_ {
    let bytes = text.as_bytes();
    memchr::memchr_iter(b'[', bytes).filter_map(move |at| {
        if at > 0 && bytes[at - 1] != b'\n' {
            // After other text on its line: not a header, unless only
            // whitespace (ASCII or not) precedes it.
            let line_start = memchr::memrchr(b'\n', &bytes[..at]).map_or(0, |p| p + 1);
            let before = &bytes[line_start..at];
            let indented =
                before.iter().all(|b| !b.is_ascii() || matches!(b, b' ' | b'\t' | 0x0b | 0x0c | 0x1c..=0x1f));
            return indented.then_some(None);
        }
        let end = memchr::memchr(b'\n', &bytes[at..]).map_or(bytes.len(), |p| at + p);
        let line = &text[at..end];
        let stripped = if line.is_ascii() {
            line.trim_end_matches(|c| matches!(c, ' ' | '\t' | '\u{0b}' | '\u{0c}' | '\u{1c}'..='\u{1f}'))
        } else {
            py_strip(line)
        };
        header_name(stripped).map(|name| Some(HeaderAt { name, start: at }))
    })
}

/// A section picked by [`pick_sections`] or [`pick_in_text`]: its header,
/// where it is, and its text from the header's line up to the next header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SectionText {
    /// Its position among all the file's headers (0 for the first).
    pub index: usize,
    /// The header text (between `[` and the last `]`).
    pub name: String,
    /// The 1-based number of the header's line.
    pub line: usize,
    /// From the start of the header's line to the start of the next header.
    pub text: String,
}

/// The sections of a text whose header `want` accepts (it sees every
/// header, in order), found through [`scan_headers`].
pub fn pick_in_text(text: &str, want: &mut dyn FnMut(&str) -> bool) -> Vec<SectionText> {
    let heads = scan_headers(text);
    let mut out = Vec::new();
    for (index, head) in heads.iter().enumerate() {
        if want(head.name) {
            let end = heads.get(index + 1).map_or(text.len(), |h| h.start);
            out.push(SectionText {
                index,
                name: head.name.to_string(),
                line: line_at(text, head.start),
                text: text[head.start..end].to_string(),
            });
        }
    }
    out
}

/// How much [`pick_sections`] reads at a time; a longer line grows it.
const PICK_CHUNK: usize = 64 * 1024;

/// [`pick_in_text`] for a file read in pieces through one small buffer, so
/// that a config of 100,000 profiles costs a pass over its bytes and not a
/// copy of them in fresh memory (docs/hot-path.md §2). Only the usual file
/// is read this way — UTF-8, no `\r`, no `[` after leading whitespace (the
/// cases [`scan_headers`] reads line by line): `Ok(None)` for any other,
/// whose caller then reads it whole.
pub fn pick_sections<R: std::io::Read>(
    reader: &mut R,
    want: &mut dyn FnMut(&str) -> bool,
) -> std::io::Result<Option<Vec<SectionText>>> {
    let mut picker = Picker::default();
    let mut buf = vec![0u8; PICK_CHUNK];
    let mut filled = 0usize;
    loop {
        if filled == buf.len() {
            buf.resize(buf.len() * 2, 0);
        }
        let n = match reader.read(&mut buf[filled..]) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if n == 0 {
            // The last line, without its line end.
            if filled > 0 && picker.feed(&buf[..filled], want).is_none() {
                return Ok(None);
            }
            return Ok(Some(picker.finish()));
        }
        let seen = filled;
        filled += n;
        // Whole lines go to the picker; the rest waits for the next read.
        if let Some(last) = memchr::memrchr(b'\n', &buf[seen..filled]) {
            let whole = seen + last + 1;
            if picker.feed(&buf[..whole], want).is_none() {
                return Ok(None);
            }
            buf.copy_within(whole..filled, 0);
            filled -= whole;
        }
    }
}

/// The state of [`pick_sections`] between pieces: every piece starts at a
/// line's start and ends at a line's end.
#[derive(Debug, Default)]
struct Picker {
    /// Lines before the current piece.
    lines: usize,
    /// Headers before the current piece.
    headers: usize,
    /// The picked section still being read.
    open: Option<SectionText>,
    done: Vec<SectionText>,
}

impl Picker {
    /// `None`: not a usual file (see [`pick_sections`]).
    fn feed(&mut self, piece: &[u8], want: &mut dyn FnMut(&str) -> bool) -> Option<()> {
        if memchr::memchr(b'\r', piece).is_some() {
            return None;
        }
        let text = std::str::from_utf8(piece).ok()?;
        let mut counted = 0usize;
        let mut open_from = 0usize;
        for head in column_zero_headers(text) {
            let HeaderAt { name, start: at } = head?;
            if let Some(mut section) = self.open.take() {
                section.text.push_str(&text[open_from..at]);
                self.done.push(section);
            }
            if want(name) {
                // Lines are counted only up to the headers picked, then once to the end.
                self.lines += memchr::memchr_iter(b'\n', &piece[counted..at]).count();
                counted = at;
                self.open = Some(SectionText {
                    index: self.headers,
                    name: name.to_string(),
                    line: self.lines + 1,
                    text: String::new(),
                });
                open_from = at;
            }
            self.headers += 1;
        }
        if let Some(section) = &mut self.open {
            section.text.push_str(&text[open_from..]);
        }
        self.lines += memchr::memchr_iter(b'\n', &piece[counted..]).count();
        Some(())
    }

    fn finish(mut self) -> Vec<SectionText> {
        self.done.extend(self.open.take());
        self.done
    }
}

/// Line by line, as [`Document::analyze`] reads: any file.
fn scan_lines(text: &str) -> Vec<HeaderAt<'_>> {
    let mut out = Vec::new();
    let mut in_section = false;
    let mut option_open = false;
    let mut indent_level = usize::MAX;
    let bytes = text.as_bytes();
    let mut start = 0usize;
    while start < bytes.len() {
        // Universal newlines: `\n`, `\r\n`, lone `\r`.
        let end = memchr::memchr2(b'\n', b'\r', &bytes[start..]).map_or(bytes.len(), |p| start + p);
        let next = match bytes.get(end) {
            Some(b'\r') if bytes.get(end + 1) == Some(&b'\n') => end + 2,
            Some(_) => end + 1,
            None => end,
        };
        let (line_start, raw) = (start, &bytes[start..end]);
        start = next;
        // Leading ASCII whitespace (as Python's isspace counts it); a
        // non-ASCII character at the front may be whitespace too, so such
        // a line is measured character by character.
        let lead = raw.iter().position(|b| !matches!(b, b' ' | b'\t' | 0x0b | 0x0c | 0x1c..=0x1f));
        let (indent, first) = match lead {
            Some(i) if raw[i].is_ascii() => (i, raw[i]),
            _ => {
                let t = &text[line_start..end];
                let Some(c) = t.chars().find(|c| !py_is_space(*c)) else { continue };
                let indent = t.chars().take_while(|c| py_is_space(*c)).count();
                (indent, if c.is_ascii() { c as u8 } else { 0x80 })
            }
        };
        if first == b'#' || first == b';' {
            continue;
        }
        if option_open && in_section && indent > indent_level {
            continue;
        }
        indent_level = indent;
        if first == b'['
            && let Some(name) = header_name(py_strip(&text[line_start..end]))
        {
            out.push(HeaderAt { name, start: line_start });
            in_section = true;
            option_open = false;
            continue;
        }
        if !in_section {
            continue;
        }
        // An option line opens a value (a line without a delimiter or with
        // an empty key is an error, which opens nothing).
        let body = text[line_start..end].trim_start_matches(py_is_space);
        if let Some(d) = memchr::memchr2(b'=', b':', body.as_bytes())
            && !body[..d].trim_end_matches(py_is_space).is_empty()
        {
            option_open = true;
        }
    }
    out
}

/// Keys seen in one section with the line of their first appearance: a
/// linear scan while small (sections usually hold a handful of keys), a hash
/// map once large.
#[derive(Default)]
struct SeenKeys {
    small: Vec<(String, usize)>,
    large: std::collections::HashMap<String, usize>,
}

impl SeenKeys {
    const SMALL: usize = 16;

    fn get(&self, key: &str) -> Option<usize> {
        if self.large.is_empty() {
            self.small.iter().find(|(k, _)| k == key).map(|(_, l)| *l)
        } else {
            self.large.get(key).copied()
        }
    }

    fn insert(&mut self, key: &str, line: usize) {
        if self.large.is_empty() && self.small.len() < Self::SMALL {
            self.small.push((key.to_string(), line));
        } else {
            if self.large.is_empty() {
                self.large.extend(self.small.drain(..));
            }
            self.large.insert(key.to_string(), line);
        }
    }

    fn clear(&mut self) {
        self.small.clear();
        self.large.clear();
    }
}

/// configparser's `SECTCRE` (`\[(?P<header>.+)\]`, matched at the start of
/// the stripped line): the text between the first `[` and the last `]`.
pub(crate) fn header_name(stripped: &str) -> Option<&str> {
    let rest = stripped.strip_prefix('[')?;
    let end = rest.rfind(']')?;
    let name = &rest[..end];
    (!name.is_empty()).then_some(name)
}

/// configparser's `OPTCRE` on a line: key = text before the first `=` or
/// `:`, right-stripped and lower-cased; value = the rest, stripped. Returns
/// the byte offset where the value starts in the original line.
fn split_option(line: &str) -> Option<(String, String, usize)> {
    let lead = line.len() - line.trim_start_matches(py_is_space).len();
    let body = &line[lead..];
    let delim = body.find(['=', ':'])?;
    let key = body[..delim].trim_end_matches(py_is_space).to_lowercase();
    let after = &body[delim + 1..];
    let value_offset = after.len() - after.trim_start_matches(py_is_space).len();
    let value_start = lead + delim + 1 + value_offset;
    let value = py_strip(after).to_string();
    Some((key, value, value_start))
}

/// Python's `str.splitlines()` separators, used by botocore's nested parse.
fn py_splitlines(s: &str) -> impl Iterator<Item = &str> {
    s.split(|c| {
        matches!(
            c,
            '\n' | '\r' | '\u{0b}' | '\u{0c}' | '\u{1c}' | '\u{1d}' | '\u{1e}' | '\u{85}' | '\u{2028}' | '\u{2029}'
        )
    })
}

/// A value as botocore sees it: a string, or (when the text after `=` was
/// empty and indented lines followed) a one-level map.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(untagged)]
pub enum Value {
    Text(String),
    /// Sub-keys keep their case; a repeated sub-key replaces the earlier value
    /// in place (Python dict semantics).
    Nested(Vec<(String, String)>),
}

impl Value {
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            Value::Nested(_) => None,
        }
    }

    pub fn nested(&self, key: &str) -> Option<&str> {
        match self {
            Value::Nested(pairs) => pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str()),
            Value::Text(_) => None,
        }
    }
}

/// One key of a section, with the line it came from (1-based).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Property {
    pub key: String,
    pub value: Value,
    pub line: usize,
}

/// A section of a parsed file: header text (verbatim), line, and its keys in
/// file order (keys from `[DEFAULT]` first, as configparser lists them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section {
    pub header: String,
    pub line: usize,
    pub properties: Vec<Property>,
}

impl Section {
    pub fn get(&self, key: &str) -> Option<&Property> {
        self.properties.iter().find(|p| p.key == key)
    }
}

/// The sections of a file with values assembled exactly as botocore's
/// `raw_config_parse` does. Fails with the first error configparser reports.
pub fn sections(doc: &Document) -> Result<Vec<Section>, LineError> {
    let analysis = doc.analyze();
    if let Some(first) = analysis.errors.iter().min_by_key(|e| e.line) {
        return Err(first.clone());
    }
    /// An option's pieces: the stripped text after the delimiter, then one
    /// piece per continuation line ("" for a blank line inside the value).
    struct Raw {
        key: String,
        line: usize,
        first: String,
        more: Vec<String>,
    }
    let mut defaults: Vec<Raw> = Vec::new();
    let mut out: Vec<(String, usize, Vec<Raw>)> = Vec::new();
    // Where the current section's options go: None = DEFAULT, Some(i) = out[i].
    let mut target: Option<Option<usize>> = None;
    let mut open_option = false;
    for (idx, kind) in analysis.kinds.into_iter().enumerate() {
        let list = match target {
            Some(None) => Some(&mut defaults),
            Some(Some(i)) => Some(&mut out[i].2),
            None => None,
        };
        match kind {
            LineKind::Header { name } => {
                open_option = false;
                if name == "DEFAULT" {
                    target = Some(None);
                } else {
                    out.push((name, idx + 1, Vec::new()));
                    target = Some(Some(out.len() - 1));
                }
            }
            LineKind::Option { key, value, .. } => {
                if let Some(list) = list {
                    list.push(Raw { key, line: idx + 1, first: value, more: Vec::new() });
                }
                open_option = true;
            }
            LineKind::Continuation { .. } | LineKind::Blank if open_option => {
                let piece = if matches!(kind, LineKind::Blank) {
                    String::new()
                } else {
                    py_strip(&doc.lines[idx].text).to_string()
                };
                if let Some(last) = list.and_then(|l| l.last_mut()) {
                    last.more.push(piece);
                }
            }
            _ => {}
        }
    }

    let finish = |raw: Raw| -> Result<Property, LineError> {
        if raw.more.is_empty() {
            return Ok(Property { key: raw.key, value: Value::Text(raw.first), line: raw.line });
        }
        let mut joined = raw.first;
        for piece in &raw.more {
            joined.push('\n');
            joined.push_str(piece);
        }
        let joined = joined.trim_end_matches(py_is_space);
        let value = if joined.starts_with('\n') {
            let mut pairs: Vec<(String, String)> = Vec::new();
            for sub in py_splitlines(joined) {
                let sub = py_strip(sub);
                if sub.is_empty() {
                    continue;
                }
                let Some((k, v)) = sub.split_once('=') else {
                    return Err(LineError {
                        line: raw.line,
                        kind: LineErrorKind::NestedWithoutEquals { key: raw.key },
                    });
                };
                let (k, v) = (py_strip(k).to_string(), py_strip(v).to_string());
                match pairs.iter_mut().find(|(pk, _)| *pk == k) {
                    Some(slot) => slot.1 = v,
                    None => pairs.push((k, v)),
                }
            }
            Value::Nested(pairs)
        } else {
            Value::Text(joined.to_string())
        };
        Ok(Property { key: raw.key, value, line: raw.line })
    };

    let default_props = defaults.into_iter().map(finish).collect::<Result<Vec<_>, _>>()?;
    let mut sections = Vec::with_capacity(out.len());
    for (header, line, raws) in out {
        let mut properties = default_props.clone();
        for raw in raws {
            let prop = finish(raw)?;
            match properties.iter_mut().find(|p| p.key == prop.key) {
                Some(slot) => *slot = prop,
                None => properties.push(prop),
            }
        }
        sections.push(Section { header, line, properties });
    }
    Ok(sections)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Vec<Section>, LineError> {
        sections(&Document::parse(s))
    }

    fn text(sections: &[Section], section: &str, key: &str) -> String {
        let s = sections.iter().find(|s| s.header == section).expect("section");
        s.get(key).expect("key").value.as_text().expect("text").to_string()
    }

    #[test]
    fn round_trips_line_endings() {
        for s in ["", "\n", "a", "[x]\r\na=1\r\n", "[x]\ra = 1\r\r\n\n", "x\n\ny"] {
            assert_eq!(Document::parse(s).to_string(), s);
        }
    }

    #[test]
    fn no_inline_comments_and_first_delimiter() {
        let s = parse("[p]\nregion = us-east-1 # x\na ; b = c\nurl: http://h:1/x=y\n").unwrap();
        assert_eq!(text(&s, "p", "region"), "us-east-1 # x");
        assert_eq!(text(&s, "p", "a ; b"), "c");
        assert_eq!(text(&s, "p", "url"), "http://h:1/x=y");
    }

    #[test]
    fn keys_lower_cased_headers_verbatim() {
        let s = parse("[Profile X]\nRegion = eu-west-1\n").unwrap();
        assert_eq!(s[0].header, "Profile X");
        assert_eq!(text(&s, "Profile X", "region"), "eu-west-1");
    }

    #[test]
    fn header_takes_text_up_to_last_bracket() {
        let s = parse("[default] junk\n[a]b]\n").unwrap();
        assert_eq!(s[0].header, "default");
        assert_eq!(s[1].header, "a]b");
    }

    #[test]
    fn multiline_and_nested_values() {
        let s = parse("[p]\nmulti = line1\n  line2\n\n# c\ns3 =\n  max = 20\n  Style = path\n").unwrap();
        assert_eq!(text(&s, "p", "multi"), "line1\nline2");
        let nested = &s[0].get("s3").unwrap().value;
        assert_eq!(nested.nested("max"), Some("20"));
        assert_eq!(nested.nested("Style"), Some("path"));
    }

    #[test]
    fn indented_header_after_option_is_a_continuation() {
        let s = parse("[a]\nx = 1\n  [profile b]\n").unwrap();
        assert_eq!(s.len(), 1);
        assert_eq!(text(&s, "a", "x"), "1\n[profile b]");
    }

    #[test]
    fn defaults_are_inherited() {
        let s = parse("[DEFAULT]\nregion = r1\n[a]\n[b]\nregion = r2\n").unwrap();
        assert_eq!(text(&s, "a", "region"), "r1");
        assert_eq!(text(&s, "b", "region"), "r2");
    }

    #[test]
    fn errors_carry_lines() {
        let e = parse("[a]\nx = 1\n[a]\n").unwrap_err();
        assert_eq!(e.line, 3);
        assert!(matches!(e.kind, LineErrorKind::DuplicateSection { first_line: 1, .. }));
        let e = parse("[a]\nx = 1\nX = 2\n").unwrap_err();
        assert_eq!(e.line, 3);
        assert_eq!(parse("x = 1\n").unwrap_err().kind, LineErrorKind::OptionBeforeSection);
        assert_eq!(parse("[a]\njunk\n").unwrap_err().kind, LineErrorKind::NoDelimiter);
        assert_eq!(parse("[a]\n = v\n").unwrap_err().kind, LineErrorKind::EmptyKey);
        assert_eq!(parse("\u{feff}[a]\n").unwrap_err().kind, LineErrorKind::ByteOrderMark);
        let e = parse("[s]\nsts =\n  endpoint_url\n").unwrap_err();
        assert_eq!((e.line, e.kind.clone()), (2, LineErrorKind::NestedWithoutEquals { key: "sts".into() }));
        assert_eq!(Document::from_bytes(b"[a]\nx = \xff\n").unwrap_err().line, 2);
    }
}
