//! `authbench serve`: the demo API over one backend.

use anyhow::{Context, Result, bail};
use authbench_core::{Authenticator, SharedClock, SystemClock};
use authbench_jwt::{Alg, JwksConfig, JwtBackend, JwtConfig, KeySource};
use authbench_server::keys::{RevokeKey, RevokedKey, RotateKeys, RotatedKey};
use authbench_server::users::HashCost;
use authbench_server::{AppState, DemoUsers, UserStore};
use authbench_services::RedisServer;
use authbench_session::{RedisTarget, SessionBackend, SessionConfig};
use authbench_spec::{Backend, Revocation};
use clap::{Args, ValueEnum};
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

/// Which backend answers `/login` and `/me`; the flags below refine it into an
/// [`authbench_spec::Backend`] ([`ServeArgs::backend`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BackendKind {
    /// Random session ID, looked up in Redis on every request.
    Session,
    /// Signed JWT, verified locally.
    Jwt,
    /// Encrypted JWT (JWE, A256GCM), decrypted and checked locally: see `--jwe-alg`.
    Jwe,
}

/// Arguments of `authbench serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The authentication backend.
    #[arg(long, value_enum)]
    backend: BackendKind,
    /// JWT signing algorithm.
    #[arg(long, default_value = "ES256")]
    alg: Alg,
    /// JWT revocation strategy.
    #[arg(long, value_enum, default_value = "none")]
    revocation: Revocation,
    /// JWE key management (`--backend jwe`): `dir` (a shared key), `RSA-OAEP-256` or
    /// `ECDH-ES+A256KW`; the content is always A256GCM.
    #[arg(long, default_value = "dir", value_name = "ALG")]
    jwe_alg: authbench_jwe::KeyAlg,
    /// Nested JWE (`--backend jwe`): sign the claims with this JWT algorithm, then encrypt.
    /// Required with `RSA-OAEP-256` and `ECDH-ES+A256KW`, whose encryption key is public:
    /// without a signature anyone holding it could mint any token, an admin's included.
    #[arg(long, value_name = "ALG")]
    jwe_nested: Option<Alg>,
    /// INSECURE: serve `RSA-OAEP-256` or `ECDH-ES+A256KW` without `--jwe-nested`. Such tokens
    /// authenticate nothing (anyone with the public key mints any token). Only for measuring
    /// the bare mode's cost; the backend's name says `+INSECURE-unauthenticated`.
    #[arg(long)]
    insecure_unauthenticated_jwe: bool,
    /// The JWE key (`--backend jwe`): a JWK (`dir`, ECDH) or PEM PKCS#8 (RSA), as written by
    /// `authbench token sign --write-jwe-key`. Without it a fresh key is generated.
    #[arg(long, value_name = "FILE")]
    jwe_key: Option<PathBuf>,
    /// Address to listen on. Port 0 picks a free port (the chosen address is printed).
    #[arg(long, default_value = "127.0.0.1:3000")]
    listen: SocketAddr,
    /// Redis to use. Without it, a private redis-server is started on a free loopback port
    /// (when the backend needs Redis) and stopped on exit.
    #[arg(long, value_name = "URL")]
    redis_url: Option<String>,
    /// A Redis Cluster to use instead of one Redis: seed nodes `HOST:PORT[,HOST:PORT…]` (any
    /// live seed is enough to start; every key carries its user's hash tag, so each operation
    /// stays in one slot while users spread over the masters).
    #[arg(
        long,
        value_name = "HOST:PORT[,HOST:PORT…]",
        conflicts_with = "redis_url"
    )]
    redis_cluster: Option<String>,
    /// Password of every demo user (alice, bob, admin, userN). Loopback demo only.
    #[arg(long, default_value = authbench_server::users::DEFAULT_DEMO_PASSWORD)]
    demo_password: String,
    /// Add `user0` … `user{N-1}` (for load runs).
    #[arg(long, default_value_t = 0)]
    users: usize,
    /// Seed the demo users with a cheap argon2id (1 MiB, 1 pass) instead of OWASP's
    /// parameters, so a load run can log thousands of users in quickly. Never for real
    /// accounts; `compare` measures the real login cost on a separate server.
    #[arg(long)]
    insecure_fast_password_hash: bool,
    /// Turn off the per-address budgets: of rejected credentials (by default 100, then 20 a
    /// second per address, after which a client's requests answer 429 before the backend is
    /// asked) and of failed logins (by default 30, then one a second; a login reserves its
    /// token before argon2 runs, so this also caps one address's logins in flight at 30). The
    /// per-account login budget stays on. For load tests that send every simulated client
    /// from one loopback address and present rejected credentials on purpose (`compare`'s
    /// revocation and rotation experiments, the soak); never for a server facing real
    /// clients.
    #[arg(long)]
    insecure_no_failure_limit: bool,
    /// JWT signing key: a PEM private key (or raw secret file for HS256) or a JWK file.
    /// Without it, a fresh key is generated at start. An issuer can rotate it at run time:
    /// `POST /admin/keys/rotate` as an admin.
    #[arg(long, value_name = "FILE", conflicts_with = "jwks_url")]
    key: Option<PathBuf>,
    /// Verifier-only JWT instance: no signing key; verify with the public keys fetched from
    /// the issuer's JWKS at URL (e.g. `http://127.0.0.1:3000/.well-known/jwks.json`), cached,
    /// refetched on an unknown `kid` at most once per `--jwks-refresh-interval`. Plain
    /// `http://` only: loopback or a private network (production: https via a local
    /// TLS-terminating proxy). The URL comes from here, never from a token. Needs an
    /// asymmetric `--alg`; `/login` answers 501. `--revocation denylist|epoch` need the
    /// issuer's Redis (`--redis-url`).
    #[arg(long, value_name = "URL")]
    jwks_url: Option<String>,
    /// Least seconds between two JWKS fetches caused by unknown `kid`s (`--jwks-url`).
    #[arg(long, default_value_t = authbench_jwt::DEFAULT_JWKS_REFRESH_INTERVAL_SECS, value_name = "SECS")]
    jwks_refresh_interval: u64,
    /// Seconds after which the cached JWKS is refreshed in the background (`--jwks-url`); the
    /// issuer's `Cache-Control: max-age` may shorten it.
    #[arg(long, default_value_t = authbench_jwt::DEFAULT_JWKS_MAX_AGE_SECS, value_name = "SECS")]
    jwks_max_age: u64,
    /// JWT (access-token) lifetime in seconds. Defaults to 900, or 300 with
    /// `--revocation refresh`.
    #[arg(long, alias = "ttl", value_name = "SECS")]
    access_ttl: Option<u64>,
    /// Seconds a rotated-in signing key (`POST /admin/keys/rotate`) is published in the JWKS
    /// before it signs. 0: at once. Set it to at least the verifiers' `--jwks-max-age` so no
    /// verifier meets the new `kid` before it has the key (rotation without a gap).
    #[arg(long, default_value_t = 0, value_name = "SECS")]
    key_prepublish: u64,
    /// Never trust the key with this `kid` (a compromised key; repeatable). An issuer whose
    /// `--key` has it refuses to start and never rotates back to it; a verifier-only instance
    /// drops it from every JWKS it fetches. At run time: `POST /admin/keys/revoke {"kid"}`.
    #[arg(long = "distrust-kid", value_name = "KID")]
    distrust_kid: Vec<String>,
    /// The longest access-token lifetime any issuer of the deployment gives, seconds, when it
    /// is longer than this instance's `--access-ttl` (`--revocation denylist|epoch`): a
    /// user's epoch key is kept that long plus leeway, and tokens living longer are refused.
    #[arg(long, value_name = "SECS")]
    max_token_lifetime: Option<u64>,
    /// Refresh-token family lifetime in seconds, from login (`--revocation refresh`).
    #[arg(long, default_value_t = authbench_jwt::DEFAULT_REFRESH_TTL_SECS, value_name = "SECS")]
    refresh_ttl: u64,
    /// INSECURE: with `denylist` or `epoch`, accept tokens on their signature alone while
    /// Redis is unreachable (revoked tokens work again), instead of answering 503.
    #[arg(long)]
    insecure_fail_open: bool,
    /// How a logout must be confirmed before it answers 204 (`--backend session`, and
    /// `--revocation denylist|epoch`): `none` (the Redis master's OK; a failover can lose it)
    /// or `replica` (wait up to 250 ms for a replica, `WAIT 1`; when none confirms, 503: the
    /// logout is not acknowledged).
    #[arg(long, default_value = "none", value_name = "none|replica")]
    revocation_durability: authbench_session::Durability,
    /// Session idle timeout in seconds.
    #[arg(long, default_value_t = 1800)]
    idle_timeout: u64,
    /// Session absolute timeout in seconds.
    #[arg(long, default_value_t = 28_800)]
    absolute_timeout: u64,
    /// PostgreSQL for `GET/POST /notes` (Row Level Security), logged in as `authenticator`,
    /// e.g. `postgres://authenticator:PASSWORD@127.0.0.1:5432/authbench`, with
    /// crates/tenancy/sql/{roles,schema}.sql applied (see crates/tenancy/README.md). The
    /// server refuses to start if the role is a superuser, has BYPASSRLS or owns the tables.
    #[arg(long, value_name = "URL", conflicts_with = "postgres")]
    database_url: Option<String>,
    /// Start a private PostgreSQL (from the system binaries; as the `postgres` user when run
    /// as root) with the schema applied, for `/notes`; stopped on exit.
    #[arg(long)]
    postgres: bool,
}

impl ServeArgs {
    /// The backend the flags select, or why they select none.
    pub fn backend(&self) -> Result<Backend> {
        Ok(match self.backend {
            BackendKind::Session => Backend::Session,
            BackendKind::Jwt => Backend::Jwt {
                alg: self.alg,
                revocation: self.revocation,
            },
            BackendKind::Jwe => {
                if self.revocation != Revocation::None {
                    bail!(
                        "--backend jwe has no revocation strategies: an encrypted token is as \
                         self-contained as a signed one"
                    );
                }
                Backend::Jwe {
                    alg: self.jwe_alg,
                    nested: self.jwe_nested,
                }
            }
        })
    }
}

/// Runs the server until Ctrl-C or SIGTERM.
pub fn run(args: ServeArgs) -> Result<()> {
    let backend = args.backend()?;
    check_verifier_only(&args, backend)?;
    // The private Redis lives until this function returns (Drop stops it).
    let (redis, _private_redis) = redis(&args, backend.needs_redis())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("building the tokio runtime")?;
    runtime.block_on(async move {
        let users = DemoUsers {
            password: args.demo_password.clone(),
            extra_users: args.users,
            hash_cost: if args.insecure_fast_password_hash {
                HashCost::InsecureFast
            } else {
                HashCost::Owasp
            },
        };
        let users = tokio::task::spawn_blocking(move || UserStore::demo(&users))
            .await?
            .map_err(|e| anyhow::anyhow!("seeding demo users: {e}"))?;
        let users = Arc::new(users);
        // The private PostgreSQL (if any) lives until this block ends (Drop stops it).
        let (db, _private_pg) = database(&args, &users).await?;
        let app = App {
            users,
            db,
            args: &args,
            clock: Arc::new(SystemClock),
        };
        match backend {
            Backend::Session => {
                serve_session(app, redis.context("the session backend needs Redis")?).await
            }
            Backend::Jwe { alg, nested } => serve_jwe(app, alg, nested).await,
            Backend::Jwt { alg, revocation } => serve_jwt(app, alg, revocation, redis).await,
        }
    })
}

/// What every backend's server shares: the users, `/notes`' database, the flags, the clock.
struct App<'a> {
    users: Arc<UserStore>,
    db: Option<Arc<authbench_tenancy::Database>>,
    args: &'a ServeArgs,
    clock: SharedClock,
}

impl App<'_> {
    /// Serves `backend` with the shared parts until Ctrl-C or SIGTERM.
    async fn serve<A: Authenticator>(self, backend: Arc<A>, hooks: KeyHooks) -> Result<()> {
        serve(backend, self.users, self.db, self.args, hooks).await
    }
}

/// `--jwks-url` makes a verifier-only JWT instance; refuses the combinations that cannot work.
fn check_verifier_only(args: &ServeArgs, backend: Backend) -> Result<()> {
    if args.jwks_url.is_none() {
        return Ok(());
    }
    let Backend::Jwt { alg, revocation } = backend else {
        bail!("--jwks-url makes a verifier-only JWT instance: it needs --backend jwt");
    };
    if !alg.is_asymmetric() {
        bail!(
            "--jwks-url needs an asymmetric --alg (RS256, PS256, ES256, ES384, EdDSA): \
             {alg} uses a shared secret, which a JWKS never publishes"
        );
    }
    if revocation.needs_redis() && args.redis_url.is_none() && args.redis_cluster.is_none() {
        bail!(
            "--jwks-url with --revocation {revocation} must share the issuer's Redis: pass \
             --redis-url"
        );
    }
    Ok(())
}

/// The Redis the flags name, or a private `redis-server` when the backend needs one and none
/// is named (returned too, so the caller keeps it alive).
fn redis(
    args: &ServeArgs,
    needs_redis: bool,
) -> Result<(Option<RedisTarget>, Option<RedisServer>)> {
    if let Some(seeds) = &args.redis_cluster {
        let cluster = RedisTarget::cluster(seeds).context("--redis-cluster")?;
        return Ok((Some(cluster), None));
    }
    Ok(match (&args.redis_url, needs_redis) {
        (Some(url), _) => (Some(RedisTarget::single(url.clone())), None),
        (None, true) => {
            let server = RedisServer::start().context("starting a private redis-server")?;
            tracing::info!(url = %server.url(), "started a private redis-server");
            (Some(RedisTarget::single(server.url())), Some(server))
        }
        (None, false) => (None, None),
    })
}

async fn serve_session(app: App<'_>, redis: RedisTarget) -> Result<()> {
    let args = app.args;
    let mut config = SessionConfig::for_target(redis);
    config.idle_timeout_secs = args.idle_timeout;
    config.absolute_timeout_secs = args.absolute_timeout;
    config.revocation_durability = args.revocation_durability;
    let backend = SessionBackend::connect(config, Arc::clone(&app.clock))
        .await
        .context("connecting to Redis")?;
    app.serve(Arc::new(backend), KeyHooks::default()).await
}

async fn serve_jwe(app: App<'_>, alg: authbench_jwe::KeyAlg, nested: Option<Alg>) -> Result<()> {
    let args = app.args;
    let mut config = authbench_jwe::JweConfig::new(alg);
    config.nested = nested;
    if args.insecure_unauthenticated_jwe {
        if !config.is_unauthenticated() {
            bail!(
                "--insecure-unauthenticated-jwe only applies to --jwe-alg RSA-OAEP-256 \
                 or ECDH-ES+A256KW without --jwe-nested"
            );
        }
        config.insecure_unauthenticated = true;
        tracing::warn!(
            "INSECURE: --insecure-unauthenticated-jwe is on: anyone with the \
             {alg} public key can mint any token, admin included"
        );
    }
    if let Some(ttl) = args.access_ttl {
        config.policy.ttl_secs = ttl;
    }
    let backend = match &args.jwe_key {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            let key = authbench_jwe::JweKey::from_text(alg, &text)
                .with_context(|| format!("loading the JWE key in {}", path.display()))?;
            authbench_jwe::JweBackend::with_key(config, key, Arc::clone(&app.clock))
        }
        None => authbench_jwe::JweBackend::new(config, Arc::clone(&app.clock)),
    }
    .context("building the JWE backend")?;
    app.serve(Arc::new(backend), KeyHooks::default()).await
}

/// The JWT configuration the flags describe, each flag checked against the strategy it
/// applies to.
fn jwt_config(args: &ServeArgs, alg: Alg, revocation: Revocation) -> Result<JwtConfig> {
    let writes_revocations = revocation.has_user_epoch();
    if args.revocation_durability != authbench_session::Durability::None && !writes_revocations {
        bail!(
            "--revocation-durability only applies to --backend session and \
             --revocation denylist or epoch (the revocations written to Redis)"
        );
    }
    if args.insecure_fail_open && !writes_revocations {
        bail!("--insecure-fail-open only applies to --revocation denylist or epoch");
    }
    if let Some(kid) = args
        .distrust_kid
        .iter()
        .find(|k| k.is_empty() || k.len() > authbench_server::keys::MAX_REVOKE_KID_BYTES)
    {
        bail!("--distrust-kid {kid:?}: a kid is 1 to 256 bytes");
    }
    let mut config = JwtConfig::new(alg).with_revocation(revocation);
    if let Some(ttl) = args.access_ttl {
        config.policy.ttl_secs = ttl;
    }
    config.refresh_ttl_secs = args.refresh_ttl;
    config.insecure_fail_open = args.insecure_fail_open;
    config.key_prepublish_secs = args.key_prepublish;
    config.revocation_durability = args.revocation_durability;
    config.distrusted_kids.clone_from(&args.distrust_kid);
    config.max_token_lifetime_secs = args.max_token_lifetime;
    if let Some(path) = &args.key {
        config.keys = key_source(path);
    }
    Ok(config)
}

async fn serve_jwt(
    app: App<'_>,
    alg: Alg,
    revocation: Revocation,
    redis: Option<RedisTarget>,
) -> Result<()> {
    let args = app.args;
    let config = jwt_config(args, alg, revocation)?;
    let redis = redis.filter(|_| revocation.needs_redis());
    if let Some(url) = &args.jwks_url {
        let mut jwks = JwksConfig::new(url);
        jwks.refresh_interval_secs = args.jwks_refresh_interval;
        jwks.max_age_secs = args.jwks_max_age;
        let backend = JwtBackend::verifier_only(config, Arc::clone(&app.clock), jwks, redis)
            .await
            .context("building the verifier-only JWT backend")?;
        let backend = Arc::new(backend);
        let hooks = KeyHooks {
            rotate: None,
            revoke: Some(key_revocation(Arc::clone(&backend))),
        };
        return app.serve(backend, hooks).await;
    }
    let backend = match redis {
        Some(target) => JwtBackend::connect(config, Arc::clone(&app.clock), target)
            .await
            .context("building the JWT backend (connecting to Redis)")?,
        None => {
            JwtBackend::new(config, Arc::clone(&app.clock)).context("building the JWT backend")?
        }
    };
    if args.insecure_fail_open {
        tracing::warn!("INSECURE: --insecure-fail-open is on");
    }
    let backend = Arc::new(backend);
    let hooks = KeyHooks {
        rotate: Some(key_rotation(Arc::clone(&backend))),
        revoke: Some(key_revocation(Arc::clone(&backend))),
    };
    app.serve(backend, hooks).await
}

/// The hook behind `POST /admin/keys/rotate`: a fresh key for the issuer's algorithm.
///
/// With `--key-prepublish`, a request while a rotation is scheduled answers that schedule
/// (idempotent) rather than refusing: the admin learns when the pending key signs.
fn key_rotation(backend: Arc<JwtBackend>) -> RotateKeys {
    Arc::new(move || {
        let r = match backend.pending_rotation()? {
            Some(pending) => pending,
            None => backend.rotate_generated()?,
        };
        Ok(RotatedKey {
            kid: r.kid,
            previous_kid: r.previous_kid,
            previous_published_until: r.previous_published_until,
            signs_from: r.signs_from,
        })
    })
}

/// The hook behind `POST /admin/keys/revoke`: the backend stops trusting the `kid` at once.
fn key_revocation(backend: Arc<JwtBackend>) -> RevokeKey {
    Arc::new(move |kid: &str| {
        let r = backend.revoke_key(kid)?;
        Ok(RevokedKey {
            kid: r.kid,
            was_trusted: r.was_trusted,
            new_signing_kid: r.new_signing_kid,
        })
    })
}

/// The key routes a JWT instance mounts (none for the other backends).
#[derive(Default)]
struct KeyHooks {
    rotate: Option<RotateKeys>,
    revoke: Option<RevokeKey>,
}

/// A `.json` or `.jwk` file is a JWK; anything else is PEM (or a raw HMAC secret).
fn key_source(path: &std::path::Path) -> KeySource {
    match path.extension().and_then(|e| e.to_str()) {
        Some("json" | "jwk") => KeySource::JwkFile(path.to_owned()),
        _ => KeySource::PemFile(path.to_owned()),
    }
}

/// The database for `/notes`, when `--database-url` or `--postgres` asks for one: connected
/// (start-up guard included) and seeded with the demo users' tenants and memberships.
async fn database(
    args: &ServeArgs,
    users: &UserStore,
) -> Result<(
    Option<Arc<authbench_tenancy::Database>>,
    Option<authbench_tenancy::PrivateDatabase>,
)> {
    use authbench_tenancy::{Database, PoolOptions, PrivateDatabase, SeedUser};
    let (db, private) = if let Some(url) = &args.database_url {
        let db = Database::connect(url, PoolOptions::default())
            .await
            .context("connecting to PostgreSQL (--database-url)")?;
        (db, None)
    } else if args.postgres {
        let pg = PrivateDatabase::start()
            .await
            .context("starting a private PostgreSQL (--postgres)")?;
        let db = pg
            .connect(PoolOptions::default())
            .await
            .context("connecting to the private PostgreSQL")?;
        tracing::info!(
            port = pg.cluster.server().port(),
            "started a private PostgreSQL"
        );
        (db, Some(pg))
    } else {
        return Ok((None, None));
    };
    let names = ["alice", "bob", "admin"]
        .map(str::to_owned)
        .into_iter()
        .chain((0..args.users).map(|i| format!("user{i}")));
    let seed: Vec<SeedUser> = names
        .filter_map(|name| {
            let tenant = users.get(&name)?.identity.tenant;
            Some(SeedUser { name, tenant })
        })
        .collect();
    db.seed(&seed).await.context("seeding PostgreSQL")?;
    Ok((Some(Arc::new(db)), private))
}

async fn serve<A: Authenticator>(
    backend: Arc<A>,
    users: Arc<UserStore>,
    db: Option<Arc<authbench_tenancy::Database>>,
    args: &ServeArgs,
    hooks: KeyHooks,
) -> Result<()> {
    let listen = args.listen;
    let description = backend.describe();
    let mut state = AppState::new(backend, Arc::clone(&users));
    if args.insecure_no_failure_limit {
        tracing::warn!(
            "--insecure-no-failure-limit: rejected credentials and failed logins are not \
             rate-limited per address"
        );
        state =
            state
                .with_verify_failure_rate(None)
                .with_login_limits(authbench_server::LoginLimits {
                    per_ip: None,
                    ..authbench_server::LoginLimits::default()
                });
    }
    if let Some(db) = db {
        state = state.with_database(db);
    }
    let mut app = authbench_server::app(state.clone());
    if let Some(rotate) = hooks.rotate {
        app = app.merge(authbench_server::keys::router(state.clone(), rotate));
    }
    if let Some(revoke) = hooks.revoke {
        app = app.merge(authbench_server::keys::revoke_router(state, revoke));
    }
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("binding {listen}"))?;
    let addr = listener.local_addr()?;
    tracing::info!(
        backend = %description.name,
        stateful = description.stateful,
        revocation = ?description.revocation,
        round_trips_per_verify = description.store_round_trips_per_verify,
        users = users.len(),
        "serving"
    );
    // The one line on stdout: scripts and `compare` read the address from it.
    let mut stdout = std::io::stdout();
    writeln!(stdout, "listening on http://{addr}")?;
    stdout.flush()?;
    authbench_server::serve(listener, app, shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM (`compare` stops its servers with SIGTERM).
pub(crate) async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}

#[cfg(test)]
mod tests {
    use super::*;
    use authbench_spec::{Configuration, JweAlg, Jwks, RedisAt};
    use clap::Parser;

    #[derive(Parser)]
    struct Serve {
        #[command(flatten)]
        args: ServeArgs,
    }

    fn parse(c: &Configuration) -> ServeArgs {
        let argv = std::iter::once("serve".to_owned()).chain(c.serve_args());
        match Serve::try_parse_from(argv) {
            Ok(s) => s.args,
            Err(e) => panic!("{:?} does not parse: {e}", c.serve_args()),
        }
    }

    /// Every backend `compare` and the soak can describe, with every setting they use.
    fn every_configuration() -> Vec<Configuration> {
        let mut backends = vec![Backend::Session];
        for alg in Alg::ALL {
            for revocation in Revocation::ALL {
                backends.push(Backend::Jwt { alg, revocation });
            }
        }
        for alg in JweAlg::ALL {
            for nested in [None, Some(Alg::ES256)] {
                backends.push(Backend::Jwe { alg, nested });
            }
        }
        let mut out = Vec::new();
        for backend in backends {
            out.push(Configuration::new(backend));
            let mut c = Configuration::load_test(backend, 7)
                .with_redis(RedisAt::Url("redis://127.0.0.1:1".into()));
            c.no_failure_limit = true;
            c.access_ttl_s = Some(30);
            c.key_prepublish_s = Some(2);
            c.database_url = Some("postgres://a@127.0.0.1:1/b".into());
            out.push(c.clone());
            c.redis = RedisAt::Cluster("127.0.0.1:1,127.0.0.1:2".into());
            c.jwks = Some(Jwks {
                url: "http://127.0.0.1:1/.well-known/jwks.json".into(),
                refresh_interval_s: 3,
            });
            out.push(c);
        }
        out
    }

    #[test]
    fn serve_reads_back_every_configuration_the_measurements_start() {
        for c in every_configuration() {
            let a = parse(&c);
            let what = c.serve_args().join(" ");
            assert_eq!(a.backend().unwrap(), c.backend, "{what}");
            assert_eq!(a.users, c.users, "{what}");
            assert_eq!(
                a.insecure_fast_password_hash, c.fast_password_hash,
                "{what}"
            );
            assert_eq!(a.insecure_no_failure_limit, c.no_failure_limit, "{what}");
            assert_eq!(
                a.insecure_unauthenticated_jwe, c.unauthenticated_jwe,
                "{what}"
            );
            assert_eq!(a.access_ttl, c.access_ttl_s, "{what}");
            assert_eq!(a.key_prepublish, c.key_prepublish_s.unwrap_or(0), "{what}");
            assert_eq!(a.database_url, c.database_url, "{what}");
            let redis = match (&a.redis_url, &a.redis_cluster) {
                (Some(url), None) => RedisAt::Url(url.clone()),
                (None, Some(seeds)) => RedisAt::Cluster(seeds.clone()),
                (None, None) => RedisAt::Private,
                (Some(_), Some(_)) => panic!("both Redis flags: {what}"),
            };
            assert_eq!(redis, c.redis, "{what}");
            let jwks = a.jwks_url.clone().map(|url| Jwks {
                url,
                refresh_interval_s: a.jwks_refresh_interval,
            });
            assert_eq!(jwks, c.jwks, "{what}");
        }
    }

    #[test]
    fn jwe_refuses_a_revocation_strategy() {
        let mut c = Configuration::new(Backend::Jwe {
            alg: JweAlg::Dir,
            nested: None,
        });
        assert!(parse(&c).backend().is_ok());
        c.backend = Backend::Jwt {
            alg: Alg::ES256,
            revocation: Revocation::Epoch,
        };
        let mut argv = vec!["serve".to_owned()];
        argv.extend(c.serve_args());
        argv[2] = "jwe".into();
        let e = Serve::try_parse_from(argv)
            .unwrap()
            .args
            .backend()
            .unwrap_err();
        assert!(e.to_string().contains("no revocation strategies"), "{e}");
    }
}
