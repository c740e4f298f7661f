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
/// answers are of comparable size; with `our_claims`, also the registered claims our tokens
/// carry, in our order.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Claims {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    iss: Option<String>,
    sub: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    aud: Option<String>,
    exp: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    nbf: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    iat: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    jti: Option<String>,
    tenant: String,
    roles: Vec<String>,
}

/// Our issuer and audience (`serve`'s defaults), for the `our_claims` control.
const OUR_ISSUER: &str = "authbench";
const OUR_AUDIENCE: &str = "authbench-api";

/// Keys and validation, built once and shared (as the example's `LazyLock<Keys>`).
struct Keys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    header: Header,
    validation: Validation,
    our_claims: bool,
}

#[derive(Clone)]
struct AppState {
    keys: Arc<Keys>,
    users: DemoUsers,
}

/// Makes fresh keys for `alg` and builds the router.
pub(crate) fn router(
    alg: Alg,
    users: DemoUsers,
    our_claims: bool,
) -> Result<Router, BaselineError> {
    let mut keys = match alg {
        Alg::Hs256 => {
            let mut secret = [0u8; 32];
            aws_lc_rs::rand::fill(&mut secret)
                .map_err(|_| BaselineError::Keys("the random generator failed".into()))?;
            Keys {
                encoding: EncodingKey::from_secret(&secret),
                decoding: DecodingKey::from_secret(&secret),
                header: Header::new(Algorithm::HS256),
                validation: Validation::default(),
                our_claims,
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
                our_claims,
            }
        }
    };
    if our_claims {
        keys.header.typ = Some("at+jwt".to_owned());
        // Our `kid` is a JWK thumbprint: 43 base64url characters.
        keys.header.kid = Some(random_b64(32)?);
        keys.validation.set_issuer(&[OUR_ISSUER]);
        keys.validation.set_audience(&[OUR_AUDIENCE]);
        keys.validation.validate_nbf = true;
    }
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

/// `n` random bytes, base64url without padding.
fn random_b64(n: usize) -> Result<String, BaselineError> {
    use base64::Engine as _;
    let mut bytes = vec![0u8; n];
    aws_lc_rs::rand::fill(&mut bytes)
        .map_err(|_| BaselineError::Keys("the random generator failed".into()))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
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
    let now = unix_now();
    let ours = state.keys.our_claims;
    let jti = if ours {
        match random_b64(16) {
            Ok(jti) => Some(jti),
            Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        }
    } else {
        None
    };
    let claims = Claims {
        iss: ours.then(|| OUR_ISSUER.to_owned()),
        sub: me.subject.clone(),
        aud: ours.then(|| OUR_AUDIENCE.to_owned()),
        exp: now + JWT_LIFETIME.as_secs(),
        nbf: ours.then_some(now),
        iat: ours.then_some(now),
        jti,
        tenant: me.tenant.clone(),
        roles: me.roles.clone(),
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
            issued_at: data.claims.iat,
            expires_at: state.keys.our_claims.then_some(data.claims.exp),
            credential_id: data.claims.jti,
        })
        .into_response(),
        Err(_) => StatusCode::UNAUTHORIZED.into_response(),
    }
}
