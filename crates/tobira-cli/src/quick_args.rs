//! The command lines SDKs run thousands of times a day —
//! `tobira credential-process --profile P` and `tobira export --profile P` —
//! read without building clap's command tree, which costs more than the
//! whole cache hit (docs/hot-path.md §2). Only the plainest shapes are taken:
//! anything else (another flag, a repeated one, a value that looks like a
//! flag, bytes that are not UTF-8, `--debug`) returns `None` and clap parses
//! the line as always, errors and help included. A unit test checks that
//! every line taken here parses to the same `Cli` through clap.

use std::ffi::OsString;

use crate::commands::creds::Format;
use crate::{Cli, Command, GlobalArgs};

/// The `Cli` clap would build from `args` (program name first), when the
/// line is one of the plain shapes; else `None`.
pub(crate) fn parse(args: &[OsString]) -> Option<Cli> {
    let mut words = args.iter().skip(1).map(|a| a.to_str());
    let mut command: Option<&str> = None;
    let mut profile: Option<String> = None;
    let mut format: Option<Format> = None;
    while let Some(word) = words.next() {
        let word = word?;
        let (flag, inline) = match word.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v)),
            _ => (word, None),
        };
        match flag {
            "--profile" | "--format" => {
                let value = match inline {
                    Some(v) => v,
                    None => words.next()??,
                };
                // Values clap would read otherwise (a flag, nothing) are its to judge.
                if value.is_empty() || value.starts_with('-') {
                    return None;
                }
                if flag == "--profile" {
                    if profile.replace(value.to_string()).is_some() {
                        return None;
                    }
                } else {
                    // Only `export` has --format, and clap wants it after the subcommand.
                    if command != Some("export") || format.is_some() {
                        return None;
                    }
                    format = Some(format_named(value)?);
                }
            }
            "credential-process" | "export" if command.is_none() && inline.is_none() => command = Some(word),
            _ => return None,
        }
    }
    let command = match command? {
        "export" => Command::Export { format: format.unwrap_or(Format::Env), mfa_code: None },
        _ => Command::CredentialProcess { mfa_code: None, sso_session: None, account_id: None, role_name: None },
    };
    Some(Cli {
        global: GlobalArgs { profile, region: None, debug: false, cli_connect_timeout: None, cli_read_timeout: None },
        command,
    })
}

/// The `--format` values, spelt as clap's `ValueEnum` spells them.
fn format_named(value: &str) -> Option<Format> {
    Some(match value {
        "env" => Format::Env,
        "env-no-export" => Format::EnvNoExport,
        "fish" => Format::Fish,
        "powershell" => Format::Powershell,
        "windows-cmd" => Format::WindowsCmd,
        "process" => Format::Process,
        "credentials-file" => Format::CredentialsFile,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    fn line(words: &[&str]) -> Vec<OsString> {
        std::iter::once("tobira").chain(words.iter().copied()).map(OsString::from).collect()
    }

    /// Every shape taken here parses to the same thing through clap.
    #[test]
    fn agrees_with_clap_on_every_line_it_takes() {
        let taken: &[&[&str]] = &[
            &["credential-process"],
            &["credential-process", "--profile", "dev"],
            &["credential-process", "--profile=dev"],
            &["--profile", "dev", "credential-process"],
            &["--profile=a.b-c_d@e", "credential-process"],
            &["credential-process", "--profile", "with space"],
            &["credential-process", "--profile", "x=y"],
            &["export"],
            &["export", "--profile", "dev"],
            &["export", "--format", "fish", "--profile", "dev"],
            &["--profile", "dev", "export", "--format=process"],
            &["export", "--format", "env-no-export"],
            &["export", "--format", "powershell"],
            &["export", "--format", "windows-cmd"],
            &["export", "--format", "credentials-file"],
            &["export", "--format", "env"],
        ];
        for words in taken {
            let quick = parse(&line(words)).unwrap_or_else(|| panic!("{words:?} is not taken"));
            let full = Cli::try_parse_from(line(words)).expect("clap parses it");
            assert_eq!(format!("{quick:?}"), format!("{full:?}"), "{words:?}");
        }
    }

    /// Everything else is left to clap, including every line clap refuses.
    #[test]
    fn leaves_every_other_line_to_clap() {
        let left: &[&[&str]] = &[
            &[],
            &["--version"],
            &["credential-process", "--help"],
            &["credential-process", "--debug"],
            &["credential-process", "--profile"],
            &["credential-process", "--profile", ""],
            &["credential-process", "--profile="],
            &["credential-process", "--profile", "--debug"],
            &["credential-process", "--profile", "a", "--profile", "b"],
            &["credential-process", "--mfa-code", "123456"],
            &["credential-process", "--sso-session", "s", "--account-id", "1", "--role-name", "r"],
            &["credential-process", "--region", "eu-west-1"],
            &["credential-process", "--cli-read-timeout", "5"],
            &["credential-process", "extra"],
            &["credential-process", "export"],
            &["credential-process", "--format", "env"],
            &["--format", "env", "export"],
            &["export", "--format", "yaml"],
            &["export", "--format", "env", "--format", "fish"],
            &["export", "--format", "FISH"],
            &["export", "--mfa-code", "123456"],
            &["whoami", "--profile", "dev"],
            &["--credential-process"],
            &["credential-process=x"],
            &["-p", "dev", "credential-process"],
        ];
        for words in left {
            assert!(parse(&line(words)).is_none(), "{words:?} was taken");
        }
        // Not UTF-8: clap's to judge.
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStringExt;
            let mut args = line(&["credential-process", "--profile"]);
            args.push(OsString::from_vec(vec![0x66, 0xff]));
            assert!(parse(&args).is_none());
        }
    }

    /// The value names match clap's, so a new `--format` cannot be missed here.
    #[test]
    fn knows_every_format_clap_knows() {
        use clap::ValueEnum;
        for v in Format::value_variants() {
            let name = v.to_possible_value().expect("visible").get_name().to_string();
            assert_eq!(format_named(&name), Some(*v), "{name}");
        }
    }
}
