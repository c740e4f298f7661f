//! The caller's own account: `GET /sessions` and `POST /password`.
//!
//! Both act on the user the credential belongs to, never on a name from the request, so there
//! is nothing to authorise beyond a valid credential (and, for a password change, the current
//! password).

use crate::AppState;
use crate::error::ApiError;
use crate::extract::Authenticated;
use crate::routes::{
    ExistingCredentials, MAX_LOGIN_FIELD, REVOKED_HEADER, credential_response_with, json_body,
};
use authbench_core::{Authenticator, CredentialInfo, Error, ErrorKind};
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Shortest new password accepted, in characters.
///
/// ASVS 5 6.2.1 asks for at least 8 (and recommends 15); anything shorter is refused with 400
/// before argon2 runs. The longest is 1024 bytes, as at login (ASVS asks that at
/// least 64 characters be allowed).
pub const MIN_PASSWORD_CHARS: usize = 8;

/// What `GET /sessions` returns.
#[derive(Serialize)]
pub(crate) struct SessionsAnswer {
    subject: String,
    sessions: Vec<SessionEntry>,
}

/// One live credential, and whether it is the one this request came with.
#[derive(Serialize)]
pub(crate) struct SessionEntry {
    #[serde(flatten)]
    info: CredentialInfo,
    current: bool,
}

/// `GET /sessions`: the caller's live credentials, oldest first, where the backend keeps a list
/// ([`Authenticator::list_credentials`]); 501 where it cannot (a plain JWT leaves no trace on
/// the server to list).
///
/// Why a trait method and not a side channel (an optional "lister" next to the backend in
/// [`AppState`]): the question "which credentials of this user are alive?" belongs to the
/// backend's design exactly like revocation does, a default of `Unsupported` makes every
/// backend compile and answer honestly, and `authbench serve` needs no extra wiring.
pub(crate) async fn sessions<A: Authenticator>(
    State(state): State<AppState<A>>,
    Authenticated(principal): Authenticated,
) -> Result<Json<SessionsAnswer>, ApiError> {
    let listed = state.auth.list_credentials(&principal.subject).await?;
    let sessions = listed
        .into_iter()
        .map(|info| SessionEntry {
            current: info.credential_id == principal.credential_id,
            info,
        })
        .collect();
    Ok(Json(SessionsAnswer {
        subject: principal.subject,
        sessions,
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PasswordBody {
    current_password: String,
    new_password: String,
}

/// `POST /password {"current_password","new_password"}`: changes the caller's password, ends
/// every credential of the user (ASVS 5 7.4.3: a credential change terminates the other
/// sessions) and hands the caller a fresh credential, as a login would.
///
/// Order matters. The new hash is stored **first**, so from that instant nobody can log in with
/// the old password; then `revoke_all` ends what was issued with it; then the caller gets a new
/// credential. (Revoking first would leave a window in which the old password still mints
/// credentials that survive the change.)
///
/// The answer is `/login`'s, plus `existing_credentials` in the body and
/// `authbench-revoked: true|false`: a backend that cannot revoke (a plain JWT) leaves every
/// old token working until it expires, and the answer says so rather than hide it.
///
/// Errors: 400 for a malformed body or a new password under [`MIN_PASSWORD_CHARS`], 413 over
/// the body limit, 403 `invalid_current_password` for a wrong current password (or a disabled
/// account). If the store fails *after* the password changed, the answer is the store's error
/// (503) with `"password_changed": true` in the body: the new password is in force, and the
/// client should retry `POST /logout-all` once the store is back.
pub(crate) async fn change_password<A: Authenticator>(
    State(state): State<AppState<A>>,
    Authenticated(principal): Authenticated,
    body: Result<Json<PasswordBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let body = json_body(body, "invalid_password_body")?;
    if body.current_password.len() > MAX_LOGIN_FIELD || body.new_password.len() > MAX_LOGIN_FIELD {
        return Err(ApiError::BadRequest("password_too_long"));
    }
    if body.new_password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(ApiError::BadRequest("new_password_too_short"));
    }
    let users = Arc::clone(&state.users);
    let subject = principal.subject;
    // Two argon2 runs (check the old password, hash the new one) on the login's bounded
    // pool: a flood of password changes is shed like a flood of logins, never starves it.
    let changed = state
        .login
        .hash(move || users.change_password(&subject, &body.current_password, &body.new_password))
        .await;
    let identity = match changed {
        Ok(Some(Ok(Some(identity)))) => identity,
        Ok(Some(Ok(None))) => return Err(ApiError::WrongPassword),
        Ok(Some(Err(_)) | None) => return Err(ApiError::Auth(ErrorKind::Internal.into())),
        Err(refusal) => {
            tracing::warn!(
                reason = refusal.as_str(),
                "password change shed: hashing pool full"
            );
            return Ok(refusal.into_response());
        }
    };
    tracing::info!(user = identity.subject, "password changed");

    // From here on the new password is in force, whatever happens to the credentials.
    let existing = match ExistingCredentials::from_result(
        state.auth.revoke_all(&identity.subject).await,
        ExistingCredentials::Revoked,
    ) {
        Ok(existing) => existing,
        Err(e) => return Ok(password_changed_but(e)),
    };
    let credential = match state.auth.issue(&identity).await {
        Ok(credential) => credential,
        Err(e) => return Ok(password_changed_but(e)),
    };
    let mut response = credential_response_with(&credential, Some(existing))?;
    response.headers_mut().insert(
        HeaderName::from_static(REVOKED_HEADER),
        existing.revoked_header(),
    );
    Ok(response)
}

/// The usual error answer for `e` (503 and `Retry-After` for a store outage), with a body that
/// also says the password did change: a client must not believe its old password still works.
fn password_changed_but(e: Error) -> Response {
    let body = serde_json::json!({"error": e.kind().as_str(), "password_changed": true});
    let mut response = ApiError::Auth(e).into_response();
    *response.body_mut() = Body::from(body.to_string());
    response.headers_mut().insert(
        HeaderName::from_static(REVOKED_HEADER),
        HeaderValue::from_static("false"),
    );
    response
}
