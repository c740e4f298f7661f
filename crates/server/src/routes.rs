//! The router and the login/logout handlers. Each is a few lines: parse, call the backend,
//! shape the answer. The account routes (`/sessions`, `/password`) live in
//! [`account`](crate::account), the admin routes in [`admin`](crate::admin).

use crate::error::ApiError;
use crate::extract::{Authenticated, credential};
use crate::ratelimit::ClientIp;
use crate::{AppState, COOKIE_NAME, MAX_BODY_BYTES};
use authbench_core::{Authenticator, Credential, ErrorClass, ErrorKind, Principal};
use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Longest username or password we look at; anything longer is a malformed request, refused
/// before argon2 spends time on it.
pub(crate) const MAX_LOGIN_FIELD: usize = 1024;

/// Header that tells a client whether `/logout`, `/logout-all` or `/password` revoked anything
/// on the server.
///
/// A plain JWT cannot be revoked: logout only drops the browser's cookie, and a copy of the
/// token keeps working until it expires. The answer says so rather than pretend.
pub const REVOKED_HEADER: &str = "authbench-revoked";

pub(crate) fn router<A: Authenticator>(state: AppState<A>) -> Router {
    let authenticated = Router::new()
        .route("/login", post(login::<A>))
        .route("/me", get(me))
        .route("/logout", post(logout::<A>))
        .route("/logout-all", post(logout_all::<A>))
        .route("/refresh", post(refresh::<A>))
        .route("/sessions", get(crate::account::sessions::<A>))
        .route("/password", post(crate::account::change_password::<A>))
        .route(
            "/admin/users/{name}/roles",
            put(crate::admin::set_roles::<A>),
        )
        .route(
            "/admin/users/{name}/tenant",
            put(crate::admin::set_tenant::<A>),
        )
        .route(
            "/admin/users/{name}/disable",
            post(crate::admin::disable::<A>),
        )
        // Responses that carry credentials or personal data must not be cached anywhere.
        .layer(no_store());
    Router::new()
        .route("/healthz", get(healthz))
        .route("/.well-known/jwks.json", get(jwks::<A>))
        .merge(authenticated)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

/// `Cache-Control: no-store` on every answer of a router (credentials, personal data, keys
/// mid-rotation): shared by the routers of this crate.
pub(crate) fn no_store() -> tower_http::set_header::SetResponseHeaderLayer<HeaderValue> {
    // tower-http's layer, not `middleware::map_response`: that one boxes a future and clones
    // the inner route for every request, on the hot path of `/me`.
    tower_http::set_header::SetResponseHeaderLayer::overriding(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginBody {
    username: String,
    password: String,
}

/// What `/login`, `/refresh` and `/password` return.
#[derive(Serialize)]
struct TokenResponse<'a> {
    token: &'a str,
    token_type: &'static str,
    expires_in: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<&'a str>,
    /// `/password` only: what happened to the credentials issued before the change.
    #[serde(skip_serializing_if = "Option::is_none")]
    existing_credentials: Option<ExistingCredentials>,
}

/// What a change to a user (password, roles, tenant, disable) did to the credentials the user
/// already holds: the honest part of every account and admin answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExistingCredentials {
    /// Rewritten in place: the next request with any of them sees the change (sessions).
    Updated,
    /// Ended: every holder must log in again, and gets the new facts then.
    Revoked,
    /// Untouched: the backend cannot reach issued credentials (a plain JWT), so they keep
    /// saying what they said, and keep working, until they expire.
    UnchangedUntilExpiry,
}

impl ExistingCredentials {
    /// Maps a backend's answer: `Ok` → `done`, `Unsupported` →
    /// [`Self::UnchangedUntilExpiry`]; any other error stays an error (503 when the store is
    /// down: a change we could not apply is never reported as applied).
    pub(crate) fn from_result(
        result: Result<(), authbench_core::Error>,
        done: Self,
    ) -> Result<Self, authbench_core::Error> {
        match result {
            Ok(()) => Ok(done),
            Err(e) if e.kind() == ErrorKind::Unsupported => Ok(Self::UnchangedUntilExpiry),
            Err(e) => Err(e),
        }
    }

    /// The value of the [`REVOKED_HEADER`]: whether the server ended anything.
    pub(crate) fn revoked_header(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            Self::Revoked => "true",
            Self::Updated | Self::UnchangedUntilExpiry => "false",
        })
    }
}

/// The parsed JSON body, or the 4xx it deserves: 413 over the size limit, 400 otherwise.
pub(crate) fn json_body<T>(
    body: Result<Json<T>, JsonRejection>,
    code: &'static str,
) -> Result<T, ApiError> {
    match body {
        Ok(Json(body)) => Ok(body),
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            Err(ApiError::BodyTooLarge)
        }
        Err(_) => Err(ApiError::BadRequest(code)),
    }
}

fn session_cookie(token: &str) -> Result<HeaderValue, ApiError> {
    HeaderValue::from_str(&format!(
        "{COOKIE_NAME}={token}; Path=/; Secure; HttpOnly; SameSite=Strict"
    ))
    .map_err(|_| ApiError::Auth(ErrorKind::Internal.into()))
}

fn clear_cookie() -> HeaderValue {
    HeaderValue::from_static(
        "__Host-authbench=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0",
    )
}

fn credential_response(credential: &Credential) -> Result<Response, ApiError> {
    credential_response_with(credential, None)
}

/// The answer of `/login` and `/refresh`, and of `/password` with `existing` filled in.
pub(crate) fn credential_response_with(
    credential: &Credential,
    existing: Option<ExistingCredentials>,
) -> Result<Response, ApiError> {
    let body = TokenResponse {
        token: &credential.token,
        token_type: "Bearer",
        expires_in: credential.expires_in,
        refresh_token: credential.refresh_token.as_deref(),
        existing_credentials: existing,
    };
    let mut response = Json(body).into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, session_cookie(&credential.token)?);
    Ok(response)
}

/// `POST /login`: the failure budgets first (a token taken from each, or 429, before any
/// hashing), argon2 on the bounded pool, then the session the client presented (if any)
/// ended, then a fresh credential.
///
/// The tokens are taken before argon2, not spent after it: spent after, N guesses sent at
/// once would all pass the check while the first was still hashing (see
/// [`ratelimit`](crate::ratelimit)). A right password, or a login shed before hashing, gives
/// them back.
async fn login<A: Authenticator>(
    State(state): State<AppState<A>>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: Result<Json<LoginBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let LoginBody { username, password } = json_body(body, "invalid_login_body")?;
    if username.len() > MAX_LOGIN_FIELD || password.len() > MAX_LOGIN_FIELD {
        return Err(ApiError::BadRequest("login_field_too_long"));
    }
    let reservation = match state.login.reserve(ip, &username) {
        Ok(reservation) => reservation,
        Err(refusal) => {
            // Never the username: people type their password into it.
            tracing::info!(reason = refusal.as_str(), "login refused before hashing");
            return Ok(refusal.into_response());
        }
    };
    let users = Arc::clone(&state.users);
    let subject = username.clone();
    let name = username;
    let (identity, version) = match state
        .login
        .hash(move || users.check_password_at(&name, &password))
        .await
    {
        Ok(Some(Some(checked))) => {
            reservation.refund();
            checked
        }
        // A failed guess: the reservation stays spent.
        Ok(Some(None)) => {
            drop(reservation);
            return Err(ApiError::BadLogin);
        }
        Ok(None) => return Err(ApiError::Auth(ErrorKind::Internal.into())),
        Err(refusal) => {
            // Shed before argon2 ran: nothing was tried, nothing is spent.
            reservation.refund();
            tracing::warn!(reason = refusal.as_str(), "login shed: hashing pool full");
            return Ok(refusal.into_response());
        }
    };
    end_presented_credential(&state, &headers).await?;
    // Always a fresh credential: whatever the client already holds is ignored, never adopted.
    let credential = state.auth.issue(&identity).await?;
    // A disable or a password change may have run between the check and the issue, its
    // revoke-all before our credential existed: re-check the account, and if it changed,
    // revoke what was just issued and answer as to a wrong password.
    if !state.users.unchanged_since(&subject, version) {
        revoke_issued(&state, &credential).await;
        tracing::info!("login raced an account change: issued credential revoked");
        return Err(ApiError::BadLogin);
    }
    credential_response(&credential)
}

/// Revokes a credential issued by a login that lost a race with an account change. It was
/// never handed out; where the backend cannot revoke (a plain JWT), nobody holds it. A store
/// error is logged: the answer is a refusal either way.
async fn revoke_issued<A: Authenticator>(state: &AppState<A>, credential: &Credential) {
    match state.auth.revoke(&credential.token).await {
        Ok(()) => {}
        Err(e) if matches!(e.class(), ErrorClass::Rejected | ErrorClass::Unsupported) => {}
        Err(e) => tracing::warn!(error = %e, "could not revoke a raced login's credential"),
    }
}

/// A login that carries a still-valid credential (the browser's old cookie, a bearer token)
/// ends it, where the backend can revoke: the new login replaces the old session instead of
/// leaving two (ASVS 5 7.2.4, "new session at authentication, old one terminated"). It is
/// verified first, so a forged or garbage credential is simply ignored and never written to a
/// store (a deny-list must not fill with an attacker's inventions). A plain JWT cannot be
/// revoked (`Unsupported`): ignored, as at logout. A store that cannot be reached is a 503:
/// the login fails closed rather than leave the old session alive unannounced.
async fn end_presented_credential<A: Authenticator>(
    state: &AppState<A>,
    headers: &HeaderMap,
) -> Result<(), ApiError> {
    let Ok(token) = credential(headers) else {
        return Ok(());
    };
    match state.auth.verify(token).await {
        Ok(_) => {}
        Err(e) if e.class() == ErrorClass::Rejected => return Ok(()),
        Err(e) => return Err(e.into()),
    }
    match state.auth.revoke(token).await {
        Ok(()) => Ok(()),
        Err(e) if matches!(e.class(), ErrorClass::Rejected | ErrorClass::Unsupported) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RefreshBody {
    refresh_token: String,
}

/// `POST /refresh {"refresh_token"}`: a new access token (and a rotated refresh token) where
/// the backend has refresh tokens; 501 where it has not.
async fn refresh<A: Authenticator>(
    State(state): State<AppState<A>>,
    body: Result<Json<RefreshBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let body = json_body(body, "invalid_refresh_body")?;
    let credential = state.auth.refresh(&body.refresh_token).await?;
    credential_response(&credential)
}

async fn me(Authenticated(principal): Authenticated) -> Json<Principal> {
    Json(principal)
}

/// `POST /logout`: ends the presented credential (bearer or cookie), or, with a body
/// `{"refresh_token"}` on a backend with refresh tokens, the refresh-token family that token
/// belongs to (possession of the refresh token is the proof, as at `/refresh`; a client whose
/// access token has expired can still log out). The body form on a backend without refresh
/// tokens is a 501; a malformed JSON body a 400; a body of any other type is ignored.
async fn logout<A: Authenticator>(
    State(state): State<AppState<A>>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with("application/json"));
    // Only a JSON body is the refresh-token form; any other body is ignored (a credential in
    // a form body is no credential: the bearer rules below apply).
    if json && !body.is_empty() {
        let RefreshBody { refresh_token } = serde_json::from_slice(&body)
            .map_err(|_| ApiError::BadRequest("invalid_logout_body"))?;
        let description = state.auth.describe();
        if description.revocation != authbench_core::RevocationModel::RefreshRotation {
            return Err(authbench_core::Error::unsupported(
                &description.name,
                "log out by refresh token (it issues none)",
            )
            .into());
        }
        state.auth.revoke(&refresh_token).await?;
        return Ok(logged_out("true"));
    }
    let token = credential(&headers)?;
    crate::extract::verify_limited(&state, ip, token).await?;
    let revoked = match state.auth.revoke(token).await {
        Ok(()) => "true",
        Err(e) if e.kind() == ErrorKind::Unsupported => "false",
        Err(e) => return Err(e.into()),
    };
    Ok(logged_out(revoked))
}

async fn logout_all<A: Authenticator>(
    State(state): State<AppState<A>>,
    Authenticated(principal): Authenticated,
) -> Result<Response, ApiError> {
    let revoked = match state.auth.revoke_all(&principal.subject).await {
        Ok(()) => "true",
        Err(e) if e.kind() == ErrorKind::Unsupported => "false",
        Err(e) => return Err(e.into()),
    };
    Ok(logged_out(revoked))
}

/// 204 with the cookie cleared (OWASP: `Clear-Site-Data` on logout) and the revocation header.
fn logged_out(revoked: &'static str) -> Response {
    (
        StatusCode::NO_CONTENT,
        [
            (header::SET_COOKIE, clear_cookie()),
            (
                header::HeaderName::from_static("clear-site-data"),
                HeaderValue::from_static("\"cookies\""),
            ),
            (
                header::HeaderName::from_static(REVOKED_HEADER),
                HeaderValue::from_static(revoked),
            ),
        ],
    )
        .into_response()
}

async fn healthz() -> &'static str {
    "ok"
}

async fn jwks<A: Authenticator>(State(state): State<AppState<A>>) -> Response {
    match state.auth.published_keys() {
        Some(keys) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/jwk-set+json"),
            )],
            keys.to_string(),
        )
            .into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(serde_json::json!({"error": "no_public_keys"})),
        )
            .into_response(),
    }
}
