//! The AWS shared config and credentials files, read, resolved and edited the
//! way the AWS CLI v2 does, without losing a byte.
//!
//! Pipeline: [`files::Paths::locate`] → [`ini::Document`] (lossless lines) →
//! [`ini::sections`] (configparser semantics) → [`files::ProfileSet`]
//! (botocore's merged view, every value with its [`origin::Origin`]) →
//! [`resolve::resolve`] (a [`resolve::Plan`] of credential steps). Editing
//! goes through [`edit::Editor`] on the same lossless document.
//!
//! Pure: the only file access is [`files::ProfileSet::load`], whose bytes-in
//! twin [`files::ProfileSet::from_bytes`] is what tests use. The environment
//! arrives as an [`env::Env`] snapshot.

pub mod edit;
pub mod env;
pub mod files;
pub mod ini;
pub mod origin;
pub mod populate;
pub mod resolve;
pub mod shlex;

pub use edit::{EditError, EditFileError, Editor, Target, edit_file};
pub use env::Env;
pub use files::{FileKind, LoadError, ParseError, Paths, ProfileSet};
pub use origin::{Origin, Secret, Sourced};
pub use resolve::{Flags, Plan, ResolveError, Step, resolve, resolve_profile};
