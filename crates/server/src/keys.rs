//! `POST /admin/keys/rotate`: a new signing key for an issuer, over HTTP.
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

use std::sync::Arc;

use authbench_core::{Authenticator, Error};
use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router, middleware};
use serde::Serialize;

use crate::AppState;
use crate::error::ApiError;
use crate::extract::Admin;

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
        .layer(middleware::map_response(crate::routes::no_store))
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
