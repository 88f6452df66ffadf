//! The route table: every path, which protocol answers it, and which
//! middleware wraps it. The only file that knows all protocols.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::middleware::from_fn_with_state;
use axum::response::Response;
use axum::routing::{MethodRouter, get, post};

use crate::Idc;
use crate::middleware::{self, Route};
use crate::wire::Protocol;
use crate::{admin_api, aws_admin, federation, oidc, pages, portal, signin, sts};

/// Operations counted (and open to injected faults): these, and every
/// operation of the SSO Admin and Identity Store APIs.
const OPERATIONS: &[&str] = &[
    "RegisterClient",
    "StartDeviceAuthorization",
    "CreateToken",
    "Authorize",
    "ListAccounts",
    "ListAccountRoles",
    "GetRoleCredentials",
    "Logout",
    "GetCallerIdentity",
    "GetSessionToken",
    "AssumeRole",
    "GetFederationToken",
    "CreateOAuth2Token",
];

/// Every operation counted (and open to injected faults).
pub(crate) fn operations() -> Vec<&'static str> {
    let admin = aws_admin::sso_admin::OPERATIONS.iter().chain(aws_admin::identity_store::OPERATIONS);
    OPERATIONS.iter().chain(admin).copied().collect()
}

/// `POST /`: SSO Admin and Identity Store name their operation in
/// `X-Amz-Target` (docs/admin-apis.md §3); everything else is STS.
async fn post_root(State(idc): State<Idc>, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    match aws_admin::Service::of(&headers) {
        Some(service) => aws_admin::handle(&idc, service, &uri, &headers, &body),
        None => sts::handle(State(idc), uri, headers, body).await,
    }
}

/// A route of an AWS API: counted, faulted, rate-limited by the middleware.
fn api(
    idc: &Idc,
    handler: MethodRouter<Idc>,
    operation: Option<&'static str>,
    protocol: Protocol,
    portal: bool,
) -> MethodRouter<Idc> {
    handler.layer(from_fn_with_state((idc.clone(), Route { operation, protocol, portal }), middleware::operations))
}

pub(crate) fn build(idc: &Idc) -> Router {
    let oidc_op = |op| Some(op);
    let json = Protocol::RestJson;
    let portal_path = pages::portal_path(idc);
    Router::new()
        // SSO OIDC
        .route("/client/register", api(idc, post(oidc::register_client), oidc_op("RegisterClient"), json, false))
        .route(
            "/device_authorization",
            api(idc, post(oidc::start_device_authorization), oidc_op("StartDeviceAuthorization"), json, false),
        )
        .route("/token", api(idc, post(oidc::create_token), oidc_op("CreateToken"), json, false))
        // SSO portal
        .route(
            "/federation/credentials",
            api(idc, get(portal::get_role_credentials), Some("GetRoleCredentials"), json, true),
        )
        .route("/assignment/accounts", api(idc, get(portal::list_accounts), Some("ListAccounts"), json, true))
        .route("/assignment/roles", api(idc, get(portal::list_account_roles), Some("ListAccountRoles"), json, true))
        .route("/logout", api(idc, post(portal::logout), Some("Logout"), json, true))
        // STS (the operation is in the body), SSO Admin and Identity Store (in X-Amz-Target)
        .route("/", api(idc, post(post_root), None, Protocol::Query, false))
        // Sign-In (aws login): the token endpoint, and its pages
        .route("/v1/token", api(idc, post(signin::create_token), Some("CreateOAuth2Token"), json, false))
        .route("/v1/authorize", get(pages::console::get).post(pages::console::post))
        .route("/v1/sessions/confirmation", get(pages::console::confirmation))
        // Sign-In federation endpoint (console sign-in from temporary credentials)
        .route("/federation", get(federation::handle).post(federation::handle))
        .route("/console", get(pages::federation::get))
        // Pages
        .route("/authorize", api(idc, get(pages::authorize::get), Some("Authorize"), json, false))
        .route("/authorize/decision", post(pages::authorize::post_decision))
        .route("/signin", get(pages::signin::get).post(pages::signin::post))
        .route("/signout", post(pages::signin::post_signout))
        .route("/signin/enrol", post(pages::signin::post_enrol))
        .route("/invite/{token}", get(pages::signin::get_invite))
        .route("/invite", post(pages::signin::post_invite))
        .route("/device", get(pages::device::get))
        .route("/device/confirm", post(pages::device::post_confirm))
        .route("/device/decision", post(pages::device::post_decision))
        .route(&portal_path, get(pages::portal::get))
        .route(&format!("{portal_path}/credentials"), get(pages::portal::get_credentials))
        .route("/admin", get(pages::admin::get))
        .route("/admin/login", post(pages::admin::post_login))
        .route("/admin/revoke", post(pages::admin::post_revoke))
        .route("/admin/invite", post(pages::admin::post_invite))
        .route("/admin/users", post(pages::admin::post_user))
        .route("/admin/reset-mfa", post(pages::admin::post_reset_mfa))
        .route("/admin/session-duration", post(pages::admin::post_session_duration))
        .route("/admin/change", post(pages::admin::post_change))
        .route("/admin/users/{name}", get(pages::admin::get_user))
        .route("/admin/directory", post(pages::admin::post_directory))
        // Admin API
        .route("/admin/api/sessions", get(admin_api::sessions))
        .route("/admin/api/sessions/revoke", post(admin_api::revoke))
        .route("/admin/api/approve", post(admin_api::approve))
        .route("/admin/api/invitations", post(admin_api::invite))
        .route("/admin/api/faults", get(admin_api::get_faults).put(admin_api::put_faults))
        .route("/admin/api/counters", get(admin_api::counters))
        .route("/admin/api/directory", get(admin_api::get_directory).put(admin_api::put_directory))
        .fallback(pages::not_found)
        .layer(from_fn_with_state(idc.settings().request_timeout, middleware::deadline))
        .with_state(idc.clone())
}
