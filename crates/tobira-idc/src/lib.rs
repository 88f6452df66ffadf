//! tobira-idc: a local IAM Identity Center + STS that speaks the same HTTP
//! APIs as AWS (SSO OIDC, SSO portal, STS, SSO Admin, Identity Store, and
//! the Sign-In service of `aws login`), with
//! the pages a person sees and an administrator's side, so any AWS SDK (and
//! Terraform) pointed at it with `AWS_ENDPOINT_URL_SSO_OIDC` / `_SSO` /
//! `_STS` / `_SSO_ADMIN` / `_IDENTITYSTORE` works.
//!
//! Layers (ARCHITECTURE.md): `router` + `middleware` + `serve` on top; the
//! protocol modules (`oidc`, `portal`, `sts`, `aws_admin`, `signin`, `admin_api`, `pages`) beside
//! each other and never calling each other; `wire` (AWS's wire formats) and
//! `domain` (sessions, credentials, grants, the store) underneath.

mod admin_api;
mod app;
mod aws_admin;
pub mod domain;
mod federation;
mod middleware;
mod oidc;
mod pages;
mod portal;
mod router;
mod serve;
mod settings;
mod signin;
mod sts;
mod wire;

pub use app::{Idc, InvitationLink, random_admin_token};
pub use directory::Directory;
pub use domain::clock::Clock;
pub use domain::grants::DecideError;
pub use domain::store::{SessionInfo, Store, StoreError};
pub use domain::{ChangeError, directory, totp};
pub use settings::{Faults, OneShot, Settings, StartError};
