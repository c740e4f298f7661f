//! `POST /admin/keys/rotate`: a new signing key for an issuer, and `POST /admin/keys/revoke`:
//! stop trusting a (compromised) key at once, over HTTP.
//!
//! The app is generic over the [`Authenticator`], and rotation is not part of that contract
//! (sessions have no signing key; a verifier-only JWT instance has no key of its own). So the
//! route is mounted only where the caller hands in a [`RotateKeys`] hook: `authbench serve`
//! does it for a JWT issuer, with the backend's `rotate_generated`. Everywhere else the route
//! does not exist (404).
//!
//! Admin only ([`Admin`]: the credential says `admin` and the table agrees). The answer:
//!
//! ```json
//! {"kid":"<new kid>","previous_kid":"<old kid>","previous_published_until":1800000905,"signs_from":1800000005}
//! ```
//!
//! The new key is in the JWKS at once; tokens issued from `signs_from` on carry `kid`. With
//! `authbench serve --key-prepublish SECS`, `signs_from` is that far ahead: verifiers pick the
//! key up before any token needs it (rotation without a gap; a second request before then
//! answers the same schedule). Without it, `signs_from` is now, and a verifier that fetched
//! just before rejects new tokens until its refresh interval passes. Tokens signed with the
//! previous key keep verifying until `previous_published_until`, when the last of them has
//! expired and the key leaves the JWKS.
//!
//! # Revoking a key
//!
//! Rotation is for a key that is still secret. For one that may have leaked,
//! `POST /admin/keys/revoke {"kid":"…"}` (admin only, through a [`RevokeKey`] hook; `authbench
//! serve` mounts it on a JWT issuer and on a verifier-only instance) answers
//!
//! ```json
//! {"kid":"<revoked>","was_trusted":true,"new_signing_kid":"<kid now signing, or null>"}
//! ```
//!
//! From that answer on, this instance refuses every token of that `kid` (401), and the `kid`
//! is never trusted again: no rotation brings it back. On an issuer whose signing key it was,
//! a fresh key (or the pre-published one) signs from now on, and the revoked key is **not**
//! retired: it leaves the JWKS at once, so verifier-only instances refuse its tokens after
//! their next fetch (revoke on them too, or start them with `serve --distrust-kid`, to close
//! that window). Honest holders of its tokens log in again; that works at once. A `kid` this
//! instance does not hold is distrusted all the same (`was_trusted: false`).

use std::sync::Arc;

use authbench_core::{Authenticator, Error};
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::error::ApiError;
use crate::extract::Admin;
use crate::routes::json_body;

/// What a rotation did (the JWT backend's `KeyRotation`, as the server sees it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RotatedKey {
    /// The `kid` of the new signing key.
    pub kid: String,
    /// The `kid` of the key that signed until now.
    pub previous_kid: String,
    /// Unix second from which the previous key leaves the JWKS.
    pub previous_published_until: u64,
    /// Unix second from which the new key signs (now, or later when keys are pre-published).
    pub signs_from: u64,
}

/// Rotates the signing key. Called on a blocking thread: generating an RSA key takes a while.
pub type RotateKeys = Arc<dyn Fn() -> Result<RotatedKey, Error> + Send + Sync>;

/// The `POST /admin/keys/rotate` route over `state`, calling `rotate`. Merge it into
/// [`app`](crate::app)'s router.
pub fn router<A: Authenticator>(state: AppState<A>, rotate: RotateKeys) -> Router {
    Router::new()
        .route(
            "/admin/keys/rotate",
            post(move |state: State<AppState<A>>, admin: Admin| {
                rotate_keys(state, admin, Arc::clone(&rotate))
            }),
        )
        // The answer names keys and times: nothing any cache should keep.
        .layer(crate::routes::no_store())
        .with_state(state)
}

async fn rotate_keys<A: Authenticator>(
    State(_state): State<AppState<A>>,
    Admin(admin): Admin,
    rotate: RotateKeys,
) -> Result<Json<RotatedKey>, ApiError> {
    let rotated = tokio::task::spawn_blocking(move || rotate())
        .await
        .map_err(|e| Error::new(authbench_core::ErrorKind::Internal, e.to_string()))??;
    tracing::info!(
        admin = admin.subject,
        kid = rotated.kid,
        previous_kid = rotated.previous_kid,
        "signing key rotated"
    );
    Ok(Json(rotated))
}

/// What a key revocation did (the JWT backend's `KeyRevocation`, as the server sees it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RevokedKey {
    /// The `kid` no longer trusted.
    pub kid: String,
    /// Whether this instance held a key with that `kid` (it is distrusted either way).
    pub was_trusted: bool,
    /// Where it was the signing key, the `kid` that signs now.
    pub new_signing_kid: Option<String>,
}

/// Revokes the key named by its `kid`. Called on a blocking thread: replacing a revoked
/// signing key generates a key.
pub type RevokeKey = Arc<dyn Fn(&str) -> Result<RevokedKey, Error> + Send + Sync>;

/// Longest `kid` the revoke route accepts, in bytes.
pub const MAX_REVOKE_KID_BYTES: usize = 256;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RevokeBody {
    kid: String,
}

/// The `POST /admin/keys/revoke` route over `state`, calling `revoke`. Merge it into
/// [`app`](crate::app)'s router (an issuer or a verifier-only instance).
pub fn revoke_router<A: Authenticator>(state: AppState<A>, revoke: RevokeKey) -> Router {
    Router::new()
        .route(
            "/admin/keys/revoke",
            post(
                move |state: State<AppState<A>>,
                      admin: Admin,
                      body: Result<Json<RevokeBody>, JsonRejection>| {
                    revoke_key(state, admin, body, Arc::clone(&revoke))
                },
            ),
        )
        .layer(crate::routes::no_store())
        .with_state(state)
}

async fn revoke_key<A: Authenticator>(
    State(_state): State<AppState<A>>,
    Admin(admin): Admin,
    body: Result<Json<RevokeBody>, JsonRejection>,
    revoke: RevokeKey,
) -> Result<Json<RevokedKey>, ApiError> {
    let RevokeBody { kid } = json_body(body, "invalid_revoke_body")?;
    if kid.is_empty() || kid.len() > MAX_REVOKE_KID_BYTES {
        return Err(ApiError::BadRequest("invalid_kid"));
    }
    let revoked = tokio::task::spawn_blocking(move || revoke(&kid))
        .await
        .map_err(|e| Error::new(authbench_core::ErrorKind::Internal, e.to_string()))??;
    tracing::warn!(
        admin = admin.subject,
        kid = revoked.kid,
        was_trusted = revoked.was_trusted,
        new_signing_kid = ?revoked.new_signing_kid,
        "key revoked"
    );
    Ok(Json(revoked))
}
