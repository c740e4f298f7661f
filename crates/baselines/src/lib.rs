//! The stacks a team would install instead of ours, served so `authbench compare` can measure
//! them beside our backends, on the same machine, by the same load generator.
//!
//! A comparison of sessions and JWTs is only as good as its weakest side: if our session
//! backend were slower than the crate a Rust team would pick, every ratio would understate
//! sessions. So each backend of ours is measured against its off-the-shelf peer in the same
//! run, and must be at least as fast while checking more. These are **baselines, not designs**:
//! each does exactly what its upstream documentation shows, and no more (the crate README lists
//! what each one does *not* check). Nothing here is used by `authbench serve`.
//!
//! | [`Stack`] | what it is | per `GET /me` |
//! |---|---|---|
//! | `plain-axum` | `axum::serve` with one `/healthz` route | nothing (the HTTP floor) |
//! | `tower-sessions` | tower-sessions 0.14 + tower-sessions-redis-store 0.16 (fred pool), default expiry | one `GET` |
//! | `tower-sessions-inactivity` | the same with `Expiry::OnInactivity(30 min)`: sliding idle, as our backend does | `GET`, then `SET … XX EXAT` |
//! | `axum-jwt-HS256`, `axum-jwt-ES256` | axum's `examples/jwt` pattern: `jsonwebtoken::decode` with `Validation::new(alg)` | none |
//! | `axum-jwt-HS256-our-claims`, `axum-jwt-ES256-our-claims` | a control: the same code with our claim set, header and `/me` answer (our bytes on the wire) | none |
//!
//! All share our server's surface where it matters to the load generator: `POST /login`
//! `{"username","password"}` answers `{"token",…}`, `GET /me` answers the principal as JSON or
//! 401, `GET /healthz` answers `ok`. The tower-sessions stacks read their session ID from the
//! cookie `__Host-authbench` (the only place tower-sessions looks); the JWT stacks from
//! `Authorization: Bearer`.
//!
//! # Layout
//!
//! - [`Stack`], [`BaselineOptions`], [`serve`] (here): choosing and serving a stack.
//! - `users`: the demo users, with plain password comparison (no hashing: logins are set-up
//!   here, never measured).
//! - `sessions`: the tower-sessions stacks.
//! - `jwt`: the axum-example JWT stacks.

mod jwt;
mod sessions;
mod users;

use axum::Router;
use axum::serve::ListenerExt as _;
use std::time::Duration;
use tokio::net::TcpListener;

pub use users::DemoUsers;

/// The name of the cookie the tower-sessions stacks read and set: the name our server uses, so
/// the load generator's cookie form serves both.
pub use authbench_spec::COOKIE_NAME;

/// The idle timeout of the `tower-sessions-inactivity` stack: our session backend's default
/// (30 minutes), so the two slide the same deadline.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// Lifetime of the axum-example JWTs: our JWT backend's default access-token lifetime.
pub const JWT_LIFETIME: Duration = Duration::from_secs(15 * 60);

/// Connections of the fred pool behind tower-sessions-redis-store: tower-sessions' examples
/// use a pool; six is what the earlier hand measurement used, and more than the 2 cores here
/// can keep busy.
pub const REDIS_POOL_SIZE: usize = 6;

/// Which off-the-shelf stack to serve: the names live in `authbench-spec`, where the
/// measurement half names a peer without linking its code.
pub use authbench_spec::Stack;

/// What to serve, and with what.
#[derive(Debug, Clone)]
pub struct BaselineOptions {
    /// The stack.
    pub stack: Stack,
    /// Redis for the tower-sessions stacks (`redis://host:port/`); required by them, ignored
    /// by the others.
    pub redis_url: Option<String>,
    /// Who may log in.
    pub users: DemoUsers,
}

/// What can stop a baseline from serving.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BaselineError {
    /// The options were refused before anything started.
    #[error("baseline configuration: {0}")]
    Config(String),
    /// Redis (for tower-sessions) could not be reached or configured.
    #[error("baseline Redis: {0}")]
    Redis(String),
    /// Key generation for the JWT stacks failed.
    #[error("baseline keys: {0}")]
    Keys(String),
    /// The listener failed.
    #[error("baseline server: {0}")]
    Io(#[from] std::io::Error),
}

/// Builds the router of `opts.stack` (connecting to Redis where it needs it).
///
/// # Errors
///
/// [`BaselineError::Config`] without a Redis URL for a tower-sessions stack;
/// [`BaselineError::Redis`] when Redis does not answer; [`BaselineError::Keys`] if key
/// generation fails.
pub async fn router(opts: &BaselineOptions) -> Result<Router, BaselineError> {
    match opts.stack {
        Stack::PlainAxum => Ok(Router::new().route("/healthz", axum::routing::get(healthz))),
        Stack::TowerSessions | Stack::TowerSessionsInactivity => {
            let url = opts.redis_url.as_deref().ok_or_else(|| {
                BaselineError::Config(format!("{} needs --redis-url", opts.stack))
            })?;
            sessions::router(
                url,
                opts.stack == Stack::TowerSessionsInactivity,
                opts.users.clone(),
            )
            .await
        }
        Stack::AxumJwtHs256 => jwt::router(jwt::Alg::Hs256, opts.users.clone(), false),
        Stack::AxumJwtEs256 => jwt::router(jwt::Alg::Es256, opts.users.clone(), false),
        Stack::AxumJwtHs256OurClaims => jwt::router(jwt::Alg::Hs256, opts.users.clone(), true),
        Stack::AxumJwtEs256OurClaims => jwt::router(jwt::Alg::Es256, opts.users.clone(), true),
    }
}

/// Serves `router` on `listener` with `axum::serve`, TCP_NODELAY on (as our server sets it;
/// without it a small answer can wait for the client's delayed ACK), until `shutdown` resolves.
///
/// # Errors
///
/// [`BaselineError::Io`] if the listener fails.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), BaselineError> {
    let listener = listener.tap_io(|tcp| {
        // Best effort, as axum's own example does: a socket that refuses is still served.
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await?;
    Ok(())
}

async fn healthz() -> &'static str {
    "ok"
}

/// The answer of `/me` on every baseline: who the credential names, in our server's field
/// names (so the response bodies are of comparable size).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct Me {
    pub(crate) subject: String,
    pub(crate) tenant: String,
    pub(crate) roles: Vec<String>,
    /// With our claims ([`Stack::AxumJwtHs256OurClaims`]): the rest of our server's answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) issued_at: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) expires_at: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) credential_id: Option<String>,
}

/// `POST /login`'s body, as our server takes it.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct LoginBody {
    pub(crate) username: String,
    pub(crate) password: String,
}
