//! Python's `shlex.split(s)` (POSIX mode, no comments), which botocore uses on
//! section headers such as `[profile "my dev"]`.

/// Splits like `shlex.split`. `None` where Python raises `ValueError`
/// (unbalanced quote, trailing backslash).
pub fn split(s: &str) -> Option<Vec<String>> {
    let is_ws = |c: char| matches!(c, ' ' | '\t' | '\r' | '\n');
    let mut out = Vec::new();
    let mut token = String::new();
    let mut in_token = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            c if is_ws(c) => {
                if in_token {
                    out.push(std::mem::take(&mut token));
                    in_token = false;
                }
            }
            '\\' => {
                token.push(chars.next()?);
                in_token = true;
            }
            '\'' => {
                in_token = true;
                loop {
                    match chars.next()? {
                        '\'' => break,
                        c => token.push(c),
                    }
                }
            }
            '"' => {
                in_token = true;
                loop {
                    match chars.next()? {
                        '"' => break,
                        '\\' => match chars.next()? {
                            c @ ('"' | '\\') => token.push(c),
                            c => {
                                token.push('\\');
                                token.push(c);
                            }
                        },
                        c => token.push(c),
                    }
                }
            }
            c => {
                token.push(c);
                in_token = true;
            }
        }
    }
    if in_token {
        out.push(token);
    }
    Some(out)
}

/// Quotes a name for a section header the way the AWS CLI's config writer
/// does (`shlex.quote`), so `split` gives it back as one token.
pub fn quote(s: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "@%+=:,./-_".contains(c);
    if !s.is_empty() && s.chars().all(safe) { s.to_string() } else { format!("'{}'", s.replace('\'', "'\"'\"'")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sp(s: &str) -> Option<Vec<String>> {
        split(s)
    }

    #[test]
    fn matches_python() {
        assert_eq!(sp("profile  dev").unwrap(), ["profile", "dev"]);
        assert_eq!(sp("profile \"my dev\"").unwrap(), ["profile", "my dev"]);
        assert_eq!(sp("profile 'a b'c").unwrap(), ["profile", "a bc"]);
        assert_eq!(sp("profile a\\ b").unwrap(), ["profile", "a b"]);
        assert_eq!(sp("profile \"a\\x\\\"\"").unwrap(), ["profile", "a\\x\""]);
        assert_eq!(sp("profile ''").unwrap(), ["profile", ""]);
        assert_eq!(sp("profile #x").unwrap(), ["profile", "#x"]);
        assert_eq!(sp("profile 'x"), None);
        assert_eq!(sp("profile x\\"), None);
    }

    #[test]
    fn quote_round_trips() {
        for name in ["dev", "my dev", "it's", "a\"b", "", "日本"] {
            let header = format!("profile {}", quote(name));
            assert_eq!(split(&header).unwrap(), ["profile", name], "{header}");
        }
    }
}
