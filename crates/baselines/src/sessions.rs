//! tower-sessions 0.14 with tower-sessions-redis-store 0.16: the session stack a Rust team
//! would install, configured as its README and docs show.
//!
//! - The store is a fred connection [`Pool`] of [`REDIS_POOL_SIZE`](crate::REDIS_POOL_SIZE)
//!   clients, TCP_NODELAY on (fred's default leaves it to the OS; ours sets it, so this does).
//! - The record is tower-sessions' own: a MessagePack map under the session ID (22 base64url
//!   characters, 128 bits from `rand`), written with `SET … NX|XX EXAT`, read with `GET`.
//! - Default expiry (`tower-sessions`): the cookie lasts the browser session and the record
//!   two weeks; `/me` loads the record (`GET`) and saves nothing.
//! - `tower-sessions-inactivity`: `Expiry::OnInactivity(30 min)` with `with_always_save(true)`,
//!   the combination tower-sessions documents for a sliding expiry: every request loads
//!   (`GET`) and saves (`SET … XX EXAT`), and answers a fresh `Set-Cookie`.

use crate::users::DemoUsers;
use crate::{BaselineError, COOKIE_NAME, IDLE_TIMEOUT, LoginBody, Me, REDIS_POOL_SIZE};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, Session, SessionManagerLayer};
use tower_sessions_redis_store::RedisStore;
use tower_sessions_redis_store::fred::prelude::{ClientLike, Config, Pool};
use tower_sessions_redis_store::fred::types::config::{ConnectionConfig, TcpConfig};

/// The session key the principal is stored under.
const USER_KEY: &str = "user";

/// Connects the pool and builds the router.
pub(crate) async fn router(
    redis_url: &str,
    sliding: bool,
    users: DemoUsers,
) -> Result<Router, BaselineError> {
    let config = Config::from_url(redis_url).map_err(|e| BaselineError::Redis(e.to_string()))?;
    let connection = ConnectionConfig {
        tcp: TcpConfig {
            nodelay: Some(true),
            ..TcpConfig::default()
        },
        ..ConnectionConfig::default()
    };
    let pool = Pool::new(config, None, Some(connection), None, REDIS_POOL_SIZE)
        .map_err(|e| BaselineError::Redis(e.to_string()))?;
    // The connection tasks run for the life of the process.
    let _tasks = pool.connect();
    pool.wait_for_connect()
        .await
        .map_err(|e| BaselineError::Redis(e.to_string()))?;

    let mut layer = SessionManagerLayer::new(RedisStore::new(pool))
        .with_name(COOKIE_NAME)
        .with_secure(true)
        .with_http_only(true)
        .with_same_site(SameSite::Strict);
    if sliding {
        let idle =
            time::Duration::seconds(i64::try_from(IDLE_TIMEOUT.as_secs()).unwrap_or(i64::MAX));
        layer = layer
            .with_expiry(Expiry::OnInactivity(idle))
            .with_always_save(true);
    }
    Ok(Router::new()
        .route("/login", post(login))
        .route("/me", get(me))
        .route("/healthz", get(crate::healthz))
        .layer(layer)
        .with_state(users))
}

/// Stores the principal in a new session and answers its ID as `token` (the cookie carries
/// the same value), so the load generator can present it.
async fn login(
    State(users): State<DemoUsers>,
    session: Session,
    Json(body): Json<LoginBody>,
) -> Response {
    let Some(me) = users.check(&body.username, &body.password) else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    if session.insert(USER_KEY, me).await.is_err() || session.save().await.is_err() {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    match session.id() {
        Some(id) => Json(serde_json::json!({
            "token": id.to_string(),
            "token_type": "session",
        }))
        .into_response(),
        None => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// The principal of the session, or 401; a store error is 503.
async fn me(session: Session) -> Response {
    match session.get::<Me>(USER_KEY).await {
        Ok(Some(me)) => Json(me).into_response(),
        Ok(None) => StatusCode::UNAUTHORIZED.into_response(),
        Err(_) => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}
