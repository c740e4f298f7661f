//! The axum `examples/jwt` pattern: `jsonwebtoken::decode` with the library's `Validation` for
//! one algorithm, keys built once, the token from `Authorization: Bearer`.
//!
//! What the example does, and so what this does: the signature, the algorithm (the one
//! `Validation::new(alg)` allows) and `exp` with jsonwebtoken's default 60 s leeway. What it
//! does not do, and our backend does: `nbf`, `iat` in the future, `iss`, `aud`, `typ`, unknown
//! `crit`, a size cap before any crypto, a `kid`, revocation. The one departure from the
//! example: the bearer token is read from the header by hand instead of axum-extra's
//! `TypedHeader<Authorization<Bearer>>`, which saves a dependency and costs no more.

use crate::users::DemoUsers;
use crate::{BaselineError, JWT_LIFETIME, LoginBody, Me};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// The two algorithms the baseline serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Alg {
    Hs256,
    Es256,
}

/// The example's claims, with our principal's fields (`sub`, tenant, roles) so tokens and
/// answers are of comparable size.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Claims {
    sub: String,
    tenant: String,
    roles: Vec<String>,
    exp: u64,
}

/// Keys and validation, built once and shared (as the example's `LazyLock<Keys>`).
struct Keys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    header: Header,
    validation: Validation,
}

#[derive(Clone)]
struct AppState {
    keys: Arc<Keys>,
    users: DemoUsers,
}

/// Makes fresh keys for `alg` and builds the router.
pub(crate) fn router(alg: Alg, users: DemoUsers) -> Result<Router, BaselineError> {
    let keys = match alg {
        Alg::Hs256 => {
            let mut secret = [0u8; 32];
            aws_lc_rs::rand::fill(&mut secret)
                .map_err(|_| BaselineError::Keys("the random generator failed".into()))?;
            Keys {
                encoding: EncodingKey::from_secret(&secret),
                decoding: DecodingKey::from_secret(&secret),
                header: Header::new(Algorithm::HS256),
                validation: Validation::default(),
            }
        }
        Alg::Es256 => {
            let rng = SystemRandom::new();
            let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                .map_err(|_| BaselineError::Keys("P-256 key generation failed".into()))?;
            let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref())
                .map_err(|_| BaselineError::Keys("P-256 key unreadable".into()))?;
            Keys {
                encoding: EncodingKey::from_ec_der(pkcs8.as_ref()),
                // jsonwebtoken's "DER" for an EC public key is the raw SEC1 point.
                decoding: DecodingKey::from_ec_der(pair.public_key().as_ref()),
                header: Header::new(Algorithm::ES256),
                validation: Validation::new(Algorithm::ES256),
            }
        }
    };
    let state = AppState {
        keys: Arc::new(keys),
        users,
    };
    Ok(Router::new()
        .route("/login", post(login))
        .route("/me", get(me))
        .route("/healthz", get(crate::healthz))
        .with_state(state))
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

async fn login(State(state): State<AppState>, Json(body): Json<LoginBody>) -> Response {
    let Some(me) = state.users.check(&body.username, &body.password) else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    let claims = Claims {
        sub: me.subject.clone(),
        tenant: me.tenant.clone(),
        roles: me.roles.clone(),
        exp: unix_now() + JWT_LIFETIME.as_secs(),
    };
    match jsonwebtoken::encode(&state.keys.header, &claims, &state.keys.encoding) {
        Ok(token) => Json(serde_json::json!({
            "token": token,
            "token_type": "Bearer",
            "expires_in": JWT_LIFETIME.as_secs(),
        }))
        .into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

async fn me(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(token) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    match jsonwebtoken::decode::<Claims>(token, &state.keys.decoding, &state.keys.validation) {
        Ok(data) => Json(Me {
            subject: data.claims.sub,
            tenant: data.claims.tenant,
            roles: data.claims.roles,
        })
        .into_response(),
        Err(_) => StatusCode::UNAUTHORIZED.into_response(),
    }
}
