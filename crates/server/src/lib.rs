//! The HTTP face of session-vs-jwt: one axum app, generic over the [`Authenticator`].
//!
//! The same routes, the same extractor and the same error mapping serve both backends, so a
//! load test against `/me` measures the backend and nothing else. The concrete backend is
//! chosen once, in `main`; the hot path is monomorphised (`AppState<A>`), with no `dyn` call
//! and no allocation that the backend itself does not make.
//!
//! This is the only crate that knows HTTP: status codes, headers and cookies live here.
//!
//! # Routes
//!
//! | route | auth | answer |
//! |---|---|---|
//! | `POST /login` `{"username","password"}` | password | 200 `{"token","token_type","expires_in"[,"refresh_token"]}` + `Set-Cookie` |
//! | `GET /me` | credential | 200 the [`Principal`](authbench_core::Principal) as JSON |
//! | `POST /logout`, optionally `{"refresh_token"}` | credential, or a refresh token in the body | 204, the presented credential (or that refresh token's family) revoked; the body form 501 without refresh tokens |
//! | `POST /logout-all` | credential | 204, every credential of the user revoked |
//! | `POST /refresh` `{"refresh_token"}` | refresh token | 200 like `/login`, where the backend has refresh tokens; 501 otherwise |
//! | `GET /sessions` | credential | 200 `{"subject","sessions":[{"credential_id","issued_at","last_used","expires_at","current"}]}` where the backend can list; 501 otherwise |
//! | `POST /password` `{"current_password","new_password"}` | credential + current password | 200 like `/login`, plus `existing_credentials` and `authbench-revoked: true\|false`; every older credential revoked where the backend can |
//! | `PUT /admin/users/{name}/roles` `{"roles":[…]}` | admin | 200 `{"user","tenant","roles","disabled","existing_credentials"}` |
//! | `PUT /admin/users/{name}/tenant` `{"tenant"}` | admin | as above |
//! | `POST /admin/users/{name}/disable` | admin | as above; the user can no longer log in |
//! | `POST /admin/keys/rotate` | admin | 200 `{"kid","previous_kid","previous_published_until","signs_from"}`; only where mounted with [`keys::router`] (a JWT issuer) |
//! | `POST /admin/keys/revoke` `{"kid"}` | admin | 200 `{"kid","was_trusted","new_signing_kid"}`: the key is refused at once, never trusted again; only where mounted with [`keys::revoke_router`] (a JWT issuer or verifier) |
//! | `GET /notes[?policy=claims\|membership]` | credential | 200 the caller's tenant's notes (with a database) |
//! | `POST /notes` `{"body"}` | credential | 201 the new note (with a database) |
//! | `GET /healthz` | none | 200 `ok`: the no-auth baseline for load tests |
//! | `GET /.well-known/jwks.json` | none | the public keys, when the backend has any |
//!
//! # Layout
//!
//! - [`users`]: the demo user table and argon2 password checks.
//! - [`ratelimit`]: login abuse: failed-login budgets per client and per account (429), and
//!   the bounded pool argon2 runs on, so a login flood cannot starve authenticated traffic.
//! - [`limits`]: what the server accepts and for how long it waits (header bytes and lines,
//!   body bytes, header and body read timeouts), enforced by [`serve`] / [`serve_with`].
//! - [`extract`]: finding the credential in `Authorization: Bearer` or the cookie, and the
//!   [`Authenticated`] extractor that verifies it.
//! - [`error`]: [`ApiError`], the one place where an [`authbench_core::ErrorKind`] becomes a
//!   status code (rejected → 401, unavailable → 503: fail closed).
//! - [`routes`]: the router, the login/logout handlers, the header that says whether a logout
//!   revoked anything, and [`ExistingCredentials`], what a change did to issued credentials.
//! - [`account`]: the caller's own account: `/sessions` and `/password`.
//! - [`notes`]: `GET`/`POST /notes`, tenant-scoped by PostgreSQL Row Level Security
//!   ([`authbench_tenancy`]), mounted only with a database.
//! - [`admin`]: the admin routes, and what each backend does with a role change, a tenant move,
//!   a disabled user.
//! - [`keys`]: `POST /admin/keys/rotate` and `/admin/keys/revoke`, mounted for a JWT issuer
//!   (and, for revoke, a verifier) through [`keys::RotateKeys`] / [`keys::RevokeKey`] hooks
//!   (keys are not part of the `Authenticator` contract).
//!
//! # Changing what a credential says
//!
//! A session is a pointer to a record, so the server can rewrite or delete what it says; a
//! plain JWT *is* what it says, signed, so nothing on the server reaches it. The account and
//! admin routes make that difference visible instead of papering over it: each answer says
//! what became of the credentials already issued (`updated`, `revoked`, or
//! `unchanged_until_expiry`). The hot path (`/me`) is untouched by all this: it never reads the
//! user table.

pub mod account;
pub mod admin;
pub mod error;
pub mod extract;
pub mod keys;
pub mod limits;
pub mod notes;
pub mod ratelimit;
pub mod routes;
pub mod users;

pub use error::ApiError;
pub use extract::{Admin, Authenticated};
pub use limits::{Limits, MAX_BODY_BYTES};
pub use ratelimit::{LoginLimiter, LoginLimits};
pub use routes::ExistingCredentials;
pub use users::{DemoUsers, User, UserStore};

use authbench_core::Authenticator;
use axum::Router;
use std::future::Future;
use std::sync::Arc;
use tokio::net::TcpListener;

pub use authbench_spec::COOKIE_NAME;

/// Everything a handler needs: one `Arc`, so the clone axum makes for every request is one
/// atomic increment (and one decrement when the request ends) however many parts the state
/// has. Each part is also an `Arc` of its own, so a handler can keep one beyond the request.
/// The parts are reached through `Deref` ([`Shared`]).
pub struct AppState<A>(Arc<Shared<A>>);

/// The parts of an [`AppState`].
pub struct Shared<A> {
    /// The authentication backend.
    pub auth: Arc<A>,
    /// Users who can log in.
    pub users: Arc<UserStore>,
    /// PostgreSQL with Row Level Security, when configured: mounts `/notes` and makes the
    /// admin tenant move (and disable) reach the `memberships` table.
    pub db: Option<Arc<authbench_tenancy::Database>>,
    /// Failed-login budgets and the bounded argon2 pool of `/login`.
    pub login: Arc<LoginLimiter>,
    /// Rejected-credential budget per client, checked before the backend is asked
    /// ([`ratelimit::FailureLimiter`]).
    pub verify_failures: Arc<ratelimit::FailureLimiter>,
}

impl<A> Clone for Shared<A> {
    fn clone(&self) -> Self {
        Self {
            auth: Arc::clone(&self.auth),
            users: Arc::clone(&self.users),
            db: self.db.clone(),
            login: Arc::clone(&self.login),
            verify_failures: Arc::clone(&self.verify_failures),
        }
    }
}

impl<A> Clone for AppState<A> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<A> std::ops::Deref for AppState<A> {
    type Target = Shared<A>;

    fn deref(&self) -> &Shared<A> {
        &self.0
    }
}

impl<A: Authenticator> AppState<A> {
    /// State for `auth` and `users`, with the default [`LoginLimits`].
    pub fn new(auth: Arc<A>, users: Arc<UserStore>) -> Self {
        Self(Arc::new(Shared {
            auth,
            users,
            db: None,
            login: Arc::new(LoginLimiter::default()),
            verify_failures: Arc::new(ratelimit::FailureLimiter::default()),
        }))
    }

    /// The same state with one part changed (the builders below; state is built before the
    /// server starts, so the copy is of five `Arc`s at most).
    fn changed(self, change: impl FnOnce(&mut Shared<A>)) -> Self {
        let mut shared = Arc::try_unwrap(self.0).unwrap_or_else(|arc| (*arc).clone());
        change(&mut shared);
        Self(Arc::new(shared))
    }

    /// The same state with another rejected-credential budget per client (`None`: none).
    pub fn with_verify_failure_rate(self, rate: Option<ratelimit::Rate>) -> Self {
        self.changed(|s| s.verify_failures = Arc::new(ratelimit::FailureLimiter::new(rate)))
    }

    /// The same state with a database: `/notes` is mounted (see [`notes`]).
    pub fn with_database(self, db: Arc<authbench_tenancy::Database>) -> Self {
        self.changed(|s| s.db = Some(db))
    }

    /// The same state with other login limits.
    pub fn with_login_limits(self, limits: LoginLimits) -> Self {
        self.changed(|s| s.login = Arc::new(LoginLimiter::new(limits)))
    }
}

/// Builds the router for a backend.
pub fn app<A: Authenticator>(state: AppState<A>) -> Router {
    match state.db {
        Some(_) => routes::router(state.clone()).merge(notes::router(state)),
        None => routes::router(state),
    }
}

/// Serves `app` on `listener` with the default [`Limits`] until `shutdown` completes, then
/// finishes in-flight requests. See [`serve_with`].
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, app, Limits::default(), shutdown).await
}

/// Serves `app` on `listener` over HTTP/1.1 with `limits` until `shutdown` completes, then
/// stops accepting, lets in-flight requests finish and closes idle connections.
///
/// hyper directly rather than `axum::serve`, which offers no way to bound the time a client
/// takes to send its headers (see [`limits`]). Each request carries the peer address as
/// `axum::extract::ConnectInfo<SocketAddr>`. Accepted sockets get `TCP_NODELAY`: small
/// responses must not wait for Nagle's algorithm (an idle 40 ms stall per response on some
/// stacks would swamp every figure we measure). An accept error that is not about one
/// connection (e.g. out of file descriptors) is logged and retried after a pause, as
/// `axum::serve` does.
pub async fn serve_with(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use axum::extract::ConnectInfo;
    use hyper_util::rt::{TokioIo, TokioTimer};
    use tower::Service as _;
    use tower_http::limit::RequestBodyLimit;
    use tower_http::timeout::RequestBodyTimeout;

    // The body limit again, outside the router: tower-http's layer refuses a declared
    // `Content-Length` over the limit at once (413), where the router's `DefaultBodyLimit`
    // would first wait for the bytes.
    let app = RequestBodyLimit::new(app, MAX_BODY_BYTES);
    let app = RequestBodyTimeout::new(app, limits.body_read_timeout);
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_header_size(limits.max_header_bytes);
    // hyper parses headers into a stack array of its default size (100), but once
    // `max_headers` is called, even with that same value, into a buffer allocated and zeroed
    // for every request (hyper's docs: about 5 %; the profile of `/me` showed it beside the JWT
    // verify itself). So the call is made only for a limit that differs from the default.
    if limits.max_headers != HYPER_DEFAULT_MAX_HEADERS {
        builder.max_headers(limits.max_headers);
    }
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    accept_error(e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::warn!("could not set TCP_NODELAY on an accepted socket: {e}");
        }
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<_>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            // A `Router` is always ready, so `call` without `poll_ready` is sound.
            app.clone().call(req)
        });
        let conn = graceful.watch(builder.serve_connection(TokioIo::new(tcp), service));
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                // A client that sent garbage, too much or too slowly: hyper has answered or
                // closed; nothing for the operator to do.
                tracing::debug!("connection from {peer} ended with an error: {e}");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// hyper's own header-count limit when `max_headers` is never called (hyper 1.x: 100).
const HYPER_DEFAULT_MAX_HEADERS: usize = 100;

/// Handles a failed `accept`: errors about one connection are ignored; anything else (out of
/// file descriptors, most likely) is logged and followed by a pause, so the loop does not spin.
async fn accept_error(e: std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::error!("accept error: {e}");
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
}
