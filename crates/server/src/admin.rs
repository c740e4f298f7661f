//! The admin routes: change a user's roles or tenant, disable a user.
//!
//! Each route changes the user table first (so every credential issued from now on carries the
//! new facts, and a disabled user cannot log in), then asks the backend to deal with the
//! credentials already out there, and says in the answer what happened to them:
//!
//! | change | backend call | `existing_credentials` |
//! |---|---|---|
//! | roles, tenant | [`update_identity`](Authenticator::update_identity); if that is `Unsupported`, [`revoke_all`](Authenticator::revoke_all) | `updated` / `revoked` / `unchanged_until_expiry` |
//! | disable | [`revoke_all`](Authenticator::revoke_all) | `revoked` / `unchanged_until_expiry` |
//!
//! Sessions rewrite their records (`updated`) and delete them (`revoked`): the next request
//! sees the change. A plain JWT (revocation `none`) can do neither: its tokens keep their old
//! roles and tenant, and a disabled user's tokens keep working, until they expire
//! (`unchanged_until_expiry`). A JWT strategy that can revoke but not rewrite ends the tokens
//! instead (`revoked`), so their holders log in again and get the new facts: for a demotion,
//! logging someone out is better than leaving them their old rights.
//!
//! With a database ([`AppState::db`]), a tenant move also moves the user's row in
//! `memberships`, and a disable removes it: the live-membership policy sees either on the
//! next statement, while the claim-trusting policy follows the credential (a session at once,
//! a plain JWT only after a new login).
//!
//! A store failure after the table changed is a 503, never a success; the routes are
//! idempotent (`PUT`, and disabling twice is fine), so the admin retries.
//!
//! Who may call them: see [`Admin`]: the credential must say `admin` *and* the caller must
//! still be an enabled admin in the table.

use crate::AppState;
use crate::error::ApiError;
use crate::extract::Admin;
use crate::routes::{ExistingCredentials, json_body};
use crate::users::User;
use authbench_core::{Authenticator, Error, Identity};
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};

/// Longest role or tenant name, in bytes.
pub const MAX_NAME_BYTES: usize = 64;

/// Most roles one user can hold: a cap so a request cannot make every later credential huge.
pub const MAX_ROLES: usize = 32;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RolesBody {
    roles: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TenantBody {
    tenant: String,
}

/// What every admin route returns: the user as they are now, and what became of the
/// credentials they already held.
#[derive(Serialize)]
pub(crate) struct AdminAnswer {
    user: String,
    tenant: String,
    roles: Vec<String>,
    disabled: bool,
    existing_credentials: ExistingCredentials,
}

impl AdminAnswer {
    fn new(user: User, existing_credentials: ExistingCredentials) -> Self {
        let disabled = user.is_disabled();
        let Identity {
            subject,
            tenant,
            roles,
        } = user.identity;
        Self {
            user: subject,
            tenant,
            roles,
            disabled,
            existing_credentials,
        }
    }
}

/// A role or tenant name: 1 to [`MAX_NAME_BYTES`] of `A-Z a-z 0-9 . _ - :`. Names end up in
/// tokens, Redis records and log lines; a small alphabet keeps them boring everywhere.
fn valid_name(name: &str) -> bool {
    (1..=MAX_NAME_BYTES).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b':'))
}

/// `PUT /admin/users/{name}/roles {"roles":[...]}`: replaces the user's roles (duplicates
/// dropped, order kept; an empty list is allowed).
pub(crate) async fn set_roles<A: Authenticator>(
    State(state): State<AppState<A>>,
    Admin(admin): Admin,
    Path(name): Path<String>,
    body: Result<Json<RolesBody>, JsonRejection>,
) -> Result<Json<AdminAnswer>, ApiError> {
    let body = json_body(body, "invalid_roles_body")?;
    if body.roles.len() > MAX_ROLES || !body.roles.iter().all(|r| valid_name(r)) {
        return Err(ApiError::BadRequest("invalid_roles"));
    }
    let mut roles: Vec<String> = Vec::with_capacity(body.roles.len());
    for role in body.roles {
        if !roles.contains(&role) {
            roles.push(role);
        }
    }
    let user = state
        .users
        .set_roles(&name, roles)
        .ok_or(ApiError::UnknownUser)?;
    tracing::info!(admin = admin.subject, user = name, roles = ?user.identity.roles, "roles changed");
    let existing = reach_existing(&*state.auth, &user.identity).await?;
    Ok(Json(AdminAnswer::new(user, existing)))
}

/// `PUT /admin/users/{name}/tenant {"tenant":"..."}`: moves the user to another tenant.
pub(crate) async fn set_tenant<A: Authenticator>(
    State(state): State<AppState<A>>,
    Admin(admin): Admin,
    Path(name): Path<String>,
    body: Result<Json<TenantBody>, JsonRejection>,
) -> Result<Json<AdminAnswer>, ApiError> {
    let body = json_body(body, "invalid_tenant_body")?;
    if !valid_name(&body.tenant) {
        return Err(ApiError::BadRequest("invalid_tenant"));
    }
    let user = state
        .users
        .set_tenant(&name, body.tenant)
        .ok_or(ApiError::UnknownUser)?;
    tracing::info!(
        admin = admin.subject,
        user = name,
        tenant = user.identity.tenant,
        "tenant changed"
    );
    // With a database, the membership moves too: policy B sees it on the next statement,
    // policy A only once the credential's tenant claim changes.
    if let Some(db) = &state.db {
        db.move_user(&name, &user.identity.tenant)
            .await
            .map_err(crate::notes::db_error)?;
    }
    let existing = reach_existing(&*state.auth, &user.identity).await?;
    Ok(Json(AdminAnswer::new(user, existing)))
}

/// `POST /admin/users/{name}/disable`: no more logins for the user (ASVS 5 7.4.2), and every
/// credential ended where the backend can.
pub(crate) async fn disable<A: Authenticator>(
    State(state): State<AppState<A>>,
    Admin(admin): Admin,
    Path(name): Path<String>,
) -> Result<Json<AdminAnswer>, ApiError> {
    let user = state.users.disable(&name).ok_or(ApiError::UnknownUser)?;
    tracing::info!(admin = admin.subject, user = name, "user disabled");
    // A disabled account belongs to no tenant any more: policy B shows it nothing at once.
    if let Some(db) = &state.db {
        db.remove_memberships(&name)
            .await
            .map_err(crate::notes::db_error)?;
    }
    let existing = ExistingCredentials::from_result(
        state.auth.revoke_all(&user.identity.subject).await,
        ExistingCredentials::Revoked,
    )?;
    Ok(Json(AdminAnswer::new(user, existing)))
}

/// Brings the user's existing credentials in line with `who`: rewrite them where the backend
/// can, else end them where it can, else report that they stay as they are until expiry.
async fn reach_existing<A: Authenticator>(
    auth: &A,
    who: &Identity,
) -> Result<ExistingCredentials, Error> {
    match ExistingCredentials::from_result(
        auth.update_identity(who).await,
        ExistingCredentials::Updated,
    )? {
        ExistingCredentials::UnchangedUntilExpiry => ExistingCredentials::from_result(
            auth.revoke_all(&who.subject).await,
            ExistingCredentials::Revoked,
        ),
        done => Ok(done),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_short_and_boring() {
        for ok in [
            "user",
            "admin",
            "org:acme",
            "a.b_c-d",
            &"x".repeat(MAX_NAME_BYTES),
        ] {
            assert!(valid_name(ok), "{ok}");
        }
        for bad in [
            "",
            "a b",
            "é",
            "a\"b",
            "a\nb",
            &"x".repeat(MAX_NAME_BYTES + 1),
        ] {
            assert!(!valid_name(bad), "{bad:?}");
        }
    }
}
