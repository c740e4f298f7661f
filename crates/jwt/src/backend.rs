//! [`JwtBackend`]: the [`Authenticator`] that issues and verifies signed access tokens, under
//! one of the [`Revocation`] strategies.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::policy::IssuedClaims;
use authbench_core::{
    Authenticator, Credential, Description, Error, ErrorKind, Identity, Principal, SharedClock,
};
use authbench_store::{DEFAULT_CONNECT_TIMEOUT, DEFAULT_RESPONSE_TIMEOUT, Durability, Store};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::alg::Alg;
use crate::error::JwtError;
use crate::jwks::{JwksConfig, JwksStats, RemoteKeys};
use crate::keyring::{KeyRevocation, KeyRotation, LocalKeys};
use crate::keys::SigningKey;
use crate::parse::AccessClaims;
use crate::policy::TokenPolicy;
use crate::revocation::{Bound, Checked, EpochStats, Revocation, Strategy};
use crate::sign;
use crate::verify::{Required, Verifier};

/// Random bytes in a `jti`: 128 bits, the OWASP floor for an unguessable identifier, 22
/// base64url characters.
pub const JTI_BYTES: usize = 16;

/// Where the backend's signing key comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// A fresh key at start-up (tokens do not survive a restart).
    Generate,
    /// A PEM file: a PKCS#8 (or, for RSA, PKCS#1) private key; for HS256, the raw secret
    /// (at least 32 bytes; trailing whitespace ignored).
    PemFile(PathBuf),
    /// A JWK file holding the private key (`d`, or `k` for HS256).
    JwkFile(PathBuf),
}

/// Default access-token lifetime under [`Revocation::Refresh`], 5 minutes (defined in
/// `authbench_spec`, where the book's calculator reads it too).
pub use authbench_spec::DEFAULT_REFRESH_ACCESS_TTL_SECS;

/// Default lifetime of a refresh-token family: 8 hours from login, however often it rotates
/// (the session backend's absolute timeout, so the two compare like for like).
pub const DEFAULT_REFRESH_TTL_SECS: u64 = 28_800;

/// Default number of subjects the `epoch` strategy caches per backend instance.
pub const DEFAULT_EPOCH_CACHE_CAPACITY: usize = 100_000;

/// Default prefix of every Redis key the strategies write (the session backend's, so one
/// `redis-cli --scan --pattern 'authbench:*'` shows both).
pub const DEFAULT_KEY_PREFIX: &str = "authbench";

/// Everything a [`JwtBackend`] is built from. [`JwtConfig::new`] gives the defaults; the
/// claim settings it shares with the JWE backend are its [`policy`](Self::policy).
#[derive(Debug, Clone)]
pub struct JwtConfig {
    /// The signing algorithm (the only one the backend accepts). No default.
    pub alg: Alg,
    /// `iss`, `aud`, `typ`, lifetime, leeway and size cap. Defaults to
    /// [`TokenPolicy::default`].
    pub policy: TokenPolicy,
    /// Where the key comes from. Defaults to [`KeySource::Generate`].
    pub keys: KeySource,
    /// Revocation strategy. Defaults to [`Revocation::None`]. Every other strategy keeps
    /// state in Redis and needs [`JwtBackend::connect`].
    pub revocation: Revocation,
    /// Lifetime of a refresh-token family (`refresh` only), seconds from login, however often
    /// it rotates. Defaults to 28800 (8 hours).
    pub refresh_ttl_secs: u64,
    /// Most subjects the `epoch` strategy caches locally before flushing. Defaults to 100,000.
    pub epoch_cache_capacity: usize,
    /// Prefix of every Redis key and channel the strategies use (`<prefix>:jwt:…`). Defaults
    /// to `authbench`.
    pub key_prefix: String,
    /// How long one attempt to (re)connect to Redis may take. Defaults to 1 s.
    pub connect_timeout: Duration,
    /// How long one Redis command may wait for its answer. Defaults to 500 ms. With the
    /// connect timeout it bounds how long a verify can take when Redis is gone.
    pub response_timeout: Duration,
    /// **Insecure.** When a `denylist` or `epoch` verify cannot reach Redis, accept the token
    /// on its signature alone (logging a warning per request) instead of answering
    /// `Unavailable`. Trades revocation for availability: a logged-out or stolen token works
    /// again while Redis is down. Affects only that verify check (issue, revoke, refresh
    /// still fail closed; `none` and `refresh` never ask Redis on verify), and shows in the
    /// backend's name (`…-insecure-fail-open`). Defaults to `false`.
    pub insecure_fail_open: bool,
    /// How a revocation written to Redis (`denylist`: the denied `jti` and the raised epoch;
    /// `epoch`: the raised epoch) must be confirmed before `revoke` / `revoke_all` return `Ok`:
    /// [`Durability::Replica`] waits for a replica (`WAIT 1 <timeout>` on the node that took the
    /// write) and fails closed (`Unavailable`, 503: not acknowledged) when none confirms in
    /// time, so an acknowledged logout survives a failover. Not used by `none` and `refresh`.
    /// Defaults to [`Durability::None`] (the master's `OK`; asynchronous replication).
    pub revocation_durability: Durability,
    /// How long a rotated-in signing key is published in the JWKS before it signs, seconds
    /// (see the keyring's module docs). 0 (the default): it signs at once, and a verifier that
    /// fetched the JWKS just before rejects its tokens until its refresh interval passes. Set
    /// it to at least the verifiers' JWKS `max-age` for rotation without that gap.
    pub key_prepublish_secs: u64,
    /// `kid`s never trusted, whatever the key source says: compromised keys, named once
    /// (`serve --distrust-kid`). An issuer whose signing key has one of these refuses to
    /// start (replace the key file) and never rotates back to it; a verifier-only instance
    /// drops such keys from every JWKS it fetches and refuses their tokens without a fetch.
    /// At run time, [`JwtBackend::revoke_key`] adds to it. Defaults to empty.
    pub distrusted_kids: Vec<String>,
    /// The longest access-token lifetime (`exp - iat`, seconds) any issuer of the deployment
    /// gives, when it is longer than this instance's `ttl_secs` (an issuer with a longer
    /// `--access-ttl` than the instance that revokes). Under `denylist` and `epoch` it is a
    /// bound both ways: a user's epoch key, whichever instance raised it, is kept that long
    /// plus leeway (every token it could revoke has expired by then, so forgetting it revokes
    /// nothing back to life), and a token living longer than it is refused (`Expired`), so
    /// the bound is enforced, not hoped for. `None` (the default): `ttl_secs`. See
    /// [`longest_token_lifetime`](Self::longest_token_lifetime).
    pub max_token_lifetime_secs: Option<u64>,
}

impl JwtConfig {
    /// The defaults, for `alg`.
    pub fn new(alg: Alg) -> Self {
        Self {
            alg,
            policy: TokenPolicy::default(),
            keys: KeySource::Generate,
            revocation: Revocation::None,
            refresh_ttl_secs: DEFAULT_REFRESH_TTL_SECS,
            epoch_cache_capacity: DEFAULT_EPOCH_CACHE_CAPACITY,
            key_prefix: DEFAULT_KEY_PREFIX.to_owned(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            response_timeout: DEFAULT_RESPONSE_TIMEOUT,
            insecure_fail_open: false,
            revocation_durability: Durability::None,
            key_prepublish_secs: 0,
            distrusted_kids: Vec::new(),
            max_token_lifetime_secs: None,
        }
    }

    /// Sets the strategy, and for [`Revocation::Refresh`] the short access-token lifetime
    /// ([`DEFAULT_REFRESH_ACCESS_TTL_SECS`]) that strategy is about. Set `ttl_secs` afterwards
    /// to choose another.
    #[must_use]
    pub fn with_revocation(mut self, revocation: Revocation) -> Self {
        self.revocation = revocation;
        if revocation == Revocation::Refresh {
            self.policy.ttl_secs = DEFAULT_REFRESH_ACCESS_TTL_SECS;
        }
        self
    }

    /// The longest token lifetime this deployment accepts: `ttl_secs`, or
    /// [`max_token_lifetime_secs`](Self::max_token_lifetime_secs) when that is longer.
    pub fn longest_token_lifetime(&self) -> u64 {
        self.max_token_lifetime_secs
            .map_or(self.policy.ttl_secs, |m| m.max(self.policy.ttl_secs))
    }

    /// Refuses configurations that could never work.
    ///
    /// # Errors
    ///
    /// [`JwtError::Config`] naming the field.
    pub fn validate(&self) -> Result<(), JwtError> {
        let fail = |why: &str| Err(JwtError::Config(why.to_owned()));
        if self.policy.ttl_secs == 0 {
            return fail("ttl_secs must be at least 1");
        }
        if self.revocation == Revocation::Refresh && self.refresh_ttl_secs == 0 {
            return fail("refresh_ttl_secs must be at least 1");
        }
        if self.key_prefix.is_empty() || self.key_prefix.contains(char::is_whitespace) {
            return fail("key_prefix must be non-empty and without whitespace");
        }
        Ok(())
    }
}

/// Where the keys come from: our own (an issuer, which can rotate them), or the issuer's
/// JWKS (a verifier-only instance).
enum Keys {
    /// The signing key, retired keys and the JWKS we publish ([`crate::keyring`]).
    Local(LocalKeys),
    /// Public keys fetched from the issuer's JWKS URL ([`crate::jwks`]).
    Remote(RemoteKeys),
}

/// A JWT backend: issues signed access tokens and verifies them locally, plus whatever check
/// its [`Revocation`] strategy adds. Build once, with [`JwtBackend::new`] (`none`) or
/// [`JwtBackend::connect`] (any strategy); share by reference or `Arc`.
pub struct JwtBackend {
    config: JwtConfig,
    /// `jwt-<ALG>-<revocation>[-insecure-fail-open][-jwks]`, computed once.
    name: String,
    /// The keys: signing key, header, strict verifier and JWKS, each built once per key
    /// change (an issuer), or the fetched public keys (a verifier-only instance).
    keys: Keys,
    clock: SharedClock,
    /// The revocation strategy's state (Redis handles, caches, the subscriber task).
    strategy: Strategy,
}

impl fmt::Debug for JwtBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtBackend")
            .field("name", &self.name)
            .field("kid", &self.kid())
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

fn read(path: &PathBuf) -> Result<Vec<u8>, JwtError> {
    std::fs::read(path).map_err(|source| JwtError::Io {
        path: path.clone(),
        source,
    })
}

fn load_key(config: &JwtConfig) -> Result<SigningKey, JwtError> {
    match &config.keys {
        KeySource::Generate => SigningKey::generate(config.alg),
        KeySource::PemFile(path) => SigningKey::from_pem(config.alg, &read(path)?),
        KeySource::JwkFile(path) => {
            let text = String::from_utf8(read(path)?)
                .map_err(|_| JwtError::InvalidJwk("file is not UTF-8".into()))?;
            SigningKey::from_jwk_json(config.alg, &text)
        }
    }
}

impl JwtBackend {
    /// Builds a backend with revocation `none`: loads or generates the key, renders the header
    /// and the JWKS, and builds the verifier, all once. No Redis.
    ///
    /// # Errors
    ///
    /// Key errors; [`JwtError::Config`] if `config.revocation` needs Redis (use
    /// [`connect`](Self::connect)).
    pub fn new(config: JwtConfig, clock: SharedClock) -> Result<Self, JwtError> {
        let signing = load_key(&config)?;
        Self::with_key(config, signing, clock)
    }

    /// As [`new`](Self::new), around an existing key (its algorithm wins over `config.alg`;
    /// `config.keys` is ignored).
    ///
    /// # Errors
    ///
    /// As [`new`](Self::new).
    pub fn with_key(
        config: JwtConfig,
        signing: SigningKey,
        clock: SharedClock,
    ) -> Result<Self, JwtError> {
        if config.revocation.needs_redis() {
            return Err(JwtError::Config(format!(
                "revocation `{}` keeps state in Redis: build the backend with \
                 JwtBackend::connect(config, clock, redis_url)",
                config.revocation
            )));
        }
        Self::assemble(config, signing, clock, Strategy::None)
    }

    /// Builds a backend under any strategy, connecting to Redis at `redis` when the strategy
    /// needs it (`none` does not touch Redis): a URL (`&str`, one server) or a
    /// [`RedisTarget`](authbench_store::RedisTarget) (a server or a Redis Cluster). For
    /// `epoch`, also starts the subscriber and waits for its first subscription.
    ///
    /// # Errors
    ///
    /// Key and configuration errors; [`JwtError::Store`] (kind `Unavailable`) when Redis does
    /// not answer within about `connect_timeout + response_timeout`.
    pub async fn connect(
        config: JwtConfig,
        clock: SharedClock,
        redis: impl Into<authbench_store::RedisTarget>,
    ) -> Result<Self, JwtError> {
        let signing = load_key(&config)?;
        Self::connect_with_key(config, signing, clock, redis).await
    }

    /// As [`connect`](Self::connect), around an existing key.
    ///
    /// # Errors
    ///
    /// As [`connect`](Self::connect).
    pub async fn connect_with_key(
        config: JwtConfig,
        signing: SigningKey,
        clock: SharedClock,
        redis: impl Into<authbench_store::RedisTarget>,
    ) -> Result<Self, JwtError> {
        config.validate()?;
        let strategy = Strategy::connect(&config, redis).await?;
        Self::assemble(config, signing, clock, strategy)
    }

    /// A verifier-only backend: no signing key; the issuer's public keys are fetched from
    /// `jwks.url`, cached, and refreshed on an unknown `kid` (rate-limited) and when stale (see
    /// [`JwksConfig`] and the crate README). `issue` and `refresh` are `Unsupported`;
    /// `published_keys` is `None` (the issuer publishes, not us). Revocation `none` needs no
    /// Redis; `denylist` and `epoch` work as on the issuer, through the issuer's Redis (a
    /// server or a cluster) at `redis`; `refresh` is refused (refresh tokens are the
    /// issuer's business; its access tokens verify here under `none`).
    ///
    /// The first fetch must succeed. `config.alg` must be asymmetric: an HS256 secret is never
    /// published.
    ///
    /// # Errors
    ///
    /// [`JwtError::Config`] for HS256, `refresh`, a Redis strategy without `redis`, a bad
    /// URL or a failed first fetch; Redis errors as for [`connect`](Self::connect).
    pub async fn verifier_only(
        config: JwtConfig,
        clock: SharedClock,
        jwks: JwksConfig,
        redis: Option<authbench_store::RedisTarget>,
    ) -> Result<Self, JwtError> {
        config.validate()?;
        if !config.alg.is_asymmetric() {
            return Err(JwtError::Config(format!(
                "a verifier-only instance needs an asymmetric algorithm: {} uses a shared \
                 secret, which no JWKS carries (use RS256, PS256, ES256, ES384 or EdDSA)",
                config.alg
            )));
        }
        if config.revocation == Revocation::Refresh {
            return Err(JwtError::Config(
                "revocation `refresh` cannot run on a verifier-only instance (refresh tokens \
                 are rotated by the issuer); use `none`, `denylist` or `epoch` here"
                    .into(),
            ));
        }
        let strategy = match (config.revocation.needs_redis(), redis) {
            (false, _) => Strategy::None,
            (true, Some(target)) => Strategy::connect(&config, target).await?,
            (true, None) => {
                return Err(JwtError::Config(format!(
                    "revocation `{}` keeps state in Redis: give the verifier the issuer's Redis",
                    config.revocation
                )));
            }
        };
        let remote = RemoteKeys::connect(
            jwks,
            config.policy.verifier_options([config.alg]),
            clock.clone(),
            config.distrusted_kids.clone(),
        )
        .await?;
        let mut name = Self::name_for(&config);
        name.push_str("-jwks");
        Ok(Self {
            config,
            name,
            keys: Keys::Remote(remote),
            clock,
            strategy,
        })
    }

    fn name_for(config: &JwtConfig) -> String {
        let mut name = format!("jwt-{}-{}", config.alg, config.revocation);
        if config.insecure_fail_open && config.revocation.has_user_epoch() {
            name.push_str("-insecure-fail-open");
        }
        name
    }

    fn assemble(
        mut config: JwtConfig,
        signing: SigningKey,
        clock: SharedClock,
        strategy: Strategy,
    ) -> Result<Self, JwtError> {
        config.alg = signing.alg();
        let keys = LocalKeys::new(&config, &clock, signing)?;
        Ok(Self {
            name: Self::name_for(&config),
            config,
            keys: Keys::Local(keys),
            clock,
            strategy,
        })
    }

    /// The signing algorithm (a verifier-only backend: the one it accepts).
    pub fn alg(&self) -> Alg {
        self.config.alg
    }

    /// The `kid` every token issued now carries (it changes with
    /// [`rotate_signing_key`](Self::rotate_signing_key)); empty for a verifier-only backend,
    /// which signs nothing.
    pub fn kid(&self) -> String {
        match &self.keys {
            Keys::Local(local) => local.snapshot().signing.kid().to_owned(),
            Keys::Remote(_) => String::new(),
        }
    }

    /// Makes `new` the signing key: tokens issued from now on carry its `kid`; the previous
    /// key's public half stays in the verifier and the JWKS until every token it signed has
    /// expired (`now + ttl + leeway`), then leaves both. The previous private key is dropped.
    ///
    /// # Errors
    ///
    /// [`JwtError::Config`] on a verifier-only backend or when `new` is for another algorithm;
    /// [`JwtError::DuplicateKid`] when `new`'s `kid` is the current or a retired one.
    pub fn rotate_signing_key(&self, new: SigningKey) -> Result<KeyRotation, JwtError> {
        match &self.keys {
            Keys::Local(local) => local.rotate(&self.config, &self.clock, new),
            Keys::Remote(_) => Err(JwtError::Config(
                "a verifier-only backend has no signing key to rotate (rotate at the issuer)"
                    .into(),
            )),
        }
    }

    /// The rotation published and not yet signing (only with
    /// [`JwtConfig::key_prepublish_secs`]), if any: an admin asking to rotate again while one is
    /// scheduled can be shown it instead of an error. `None` on a verifier-only backend.
    ///
    /// # Errors
    ///
    /// Rebuilding the keys when a scheduled switch or a pruning is due (never in practice).
    pub fn pending_rotation(&self) -> Result<Option<KeyRotation>, JwtError> {
        match &self.keys {
            Keys::Local(local) => local.pending_rotation(&self.config, &self.clock),
            Keys::Remote(_) => Ok(None),
        }
    }

    /// [`rotate_signing_key`](Self::rotate_signing_key) to a freshly generated key for the
    /// backend's algorithm (named by its thumbprint).
    ///
    /// # Errors
    ///
    /// As [`rotate_signing_key`](Self::rotate_signing_key), and key generation errors.
    pub fn rotate_generated(&self) -> Result<KeyRotation, JwtError> {
        if self.is_verifier_only() {
            return Err(JwtError::Config(
                "a verifier-only backend has no signing key to rotate (rotate at the issuer)"
                    .into(),
            ));
        }
        self.rotate_signing_key(SigningKey::generate(self.alg())?)
    }

    /// Stops trusting the key `kid` at once, as for a compromised key (see the keyring's
    /// module docs, *Revocation*): on an issuer it leaves the verifier and the JWKS now, and
    /// if it signs, a fresh key (or the pre-published one) takes over without retiring it, so
    /// its tokens are refused from the next request on; on a verifier-only instance it leaves
    /// the cached set now and every set fetched later. Either way the `kid` is never trusted
    /// again (no rotation brings it back). A `kid` we do not hold is distrusted all the same
    /// (`was_trusted: false`).
    ///
    /// # Errors
    ///
    /// [`JwtError::Config`] for an empty or over-long (> 256 bytes) `kid`; key generation
    /// errors.
    pub fn revoke_key(&self, kid: &str) -> Result<KeyRevocation, JwtError> {
        if kid.is_empty() || kid.len() > 256 {
            return Err(JwtError::Config(
                "a kid to revoke must be 1 to 256 bytes long".into(),
            ));
        }
        match &self.keys {
            Keys::Remote(remote) => Ok(KeyRevocation {
                kid: kid.to_owned(),
                was_trusted: remote.revoke(kid),
                new_signing_kid: None,
            }),
            Keys::Local(local) => {
                // A replacement is generated only when needed, outside the lock; a second
                // pass covers a pre-published key that switched in between.
                for _ in 0..3 {
                    let replacement =
                        if local.revoke_needs_replacement(&self.config, &self.clock, kid)? {
                            Some(SigningKey::generate(self.alg())?)
                        } else {
                            None
                        };
                    if let Some(done) = local.revoke(&self.config, &self.clock, kid, replacement)? {
                        return Ok(done);
                    }
                }
                Err(JwtError::Config(
                    "the signing key kept changing while revoking it; try again".into(),
                ))
            }
        }
    }

    /// The `kid`s revoked ([`revoke_key`](Self::revoke_key)) or distrusted from the start.
    pub fn distrusted_kids(&self) -> Vec<String> {
        match &self.keys {
            Keys::Local(local) => local.distrusted(),
            Keys::Remote(remote) => remote.distrusted(),
        }
    }

    /// The `kid`s of retired keys still published (and verifying), at the clock's now.
    pub fn retired_kids(&self) -> Vec<String> {
        match &self.keys {
            Keys::Local(local) => local.retired_kids(&self.clock),
            Keys::Remote(_) => Vec::new(),
        }
    }

    /// Whether this backend only verifies, with keys fetched from a JWKS URL.
    pub fn is_verifier_only(&self) -> bool {
        matches!(self.keys, Keys::Remote(_))
    }

    /// A verifier-only backend's key-cache counters and cached `kid`s (`None` on an issuer).
    pub fn jwks_stats(&self) -> Option<JwksStats> {
        match &self.keys {
            Keys::Remote(remote) => Some(remote.stats()),
            Keys::Local(_) => None,
        }
    }

    /// The JWKS URL a verifier-only backend fetches (`None` on an issuer).
    pub fn jwks_url(&self) -> Option<String> {
        match &self.keys {
            Keys::Remote(remote) => Some(remote.url()),
            Keys::Local(_) => None,
        }
    }

    /// On a verifier-only backend, fetches the JWKS now, ignoring the rate limit, and says
    /// whether it worked; `None` on an issuer.
    pub async fn refresh_jwks(&self) -> Option<bool> {
        match &self.keys {
            Keys::Remote(remote) => Some(remote.refresh_now().await),
            Keys::Local(_) => None,
        }
    }

    /// The configuration the backend was built from.
    pub fn config(&self) -> &JwtConfig {
        &self.config
    }

    /// The revocation strategy.
    pub fn revocation(&self) -> Revocation {
        self.config.revocation
    }

    /// The verifier the backend uses now (same rules as `authbench token verify`): a snapshot,
    /// which a key rotation or a JWKS refresh replaces.
    pub fn verifier(&self) -> Arc<Verifier> {
        match &self.keys {
            Keys::Local(local) => Arc::clone(&local.snapshot().verifier),
            Keys::Remote(remote) => Arc::clone(&remote.snapshot().verifier),
        }
    }

    /// `host:port` of the Redis server, for strategies that use one.
    pub fn redis_addr(&self) -> Option<&str> {
        self.strategy.store().map(Store::addr)
    }

    /// The `epoch` strategy's cache counters (`None` under other strategies).
    pub fn epoch_stats(&self) -> Option<EpochStats> {
        self.strategy.epoch_stats()
    }

    /// Under `epoch`, waits up to `timeout` for the revocation subscription to be live (it
    /// resubscribes by itself after an outage) and says whether it is; `true` under the
    /// other strategies, which have no subscription.
    pub async fn wait_until_subscribed(&self, timeout: Duration) -> bool {
        self.strategy.wait_until_subscribed(timeout).await
    }

    /// [`Authenticator::issue`] without the `async` wrapper, for `none`, the one strategy whose
    /// issue needs no Redis (benchmarks call this). The others are `Unsupported` here: `refresh`
    /// starts a refresh-token family, and `denylist` and `epoch` read the user's epoch into the
    /// token; use `issue`.
    pub fn issue_now(&self, who: &Identity) -> Result<Credential, Error> {
        if !matches!(self.strategy, Strategy::None) {
            return Err(Error::unsupported(
                &self.name,
                "issue without Redis (this strategy reads or writes Redis at issue; use issue)",
            ));
        }
        self.sign_access(self.signer()?, who, Bound::default())
    }

    /// The signing keys, or `Unsupported` on a verifier-only instance (checked before `issue`
    /// touches Redis: an instance that cannot sign must not create epoch keys or families).
    fn signer(&self) -> Result<&LocalKeys, Error> {
        match &self.keys {
            Keys::Local(local) => Ok(local),
            Keys::Remote(_) => Err(Error::unsupported(
                &self.name,
                "issue tokens (a verifier-only instance holds no signing key; log in at the issuer)",
            )),
        }
    }

    /// Signs an access token for `who` with `local`'s current key, carrying what the strategy
    /// `bound` into it (`sid`, `epoch`) and handing out its refresh token beside it.
    fn sign_access(
        &self,
        local: &LocalKeys,
        who: &Identity,
        bound: Bound,
    ) -> Result<Credential, Error> {
        let ring = local.fresh(&self.config, &self.clock)?;
        let now = self.clock.now();
        let mut jti_bytes = [0u8; JTI_BYTES];
        getrandom::fill(&mut jti_bytes).map_err(|_| JwtError::Random)?;
        let jti = URL_SAFE_NO_PAD.encode(jti_bytes);
        let claims = IssuedClaims {
            sid: bound.sid.as_deref(),
            epoch: bound.epoch,
            ..self.config.policy.claims(who, &jti, now)
        };
        let payload = serde_json::to_vec(&claims).map_err(|e| JwtError::Signing(e.to_string()))?;
        let mut input = String::with_capacity(ring.header_b64.len() + payload.len() * 4 / 3 + 400);
        input.push_str(&ring.header_b64);
        input.push('.');
        URL_SAFE_NO_PAD.encode_string(&payload, &mut input);
        let token = sign::finish(input, &ring.signing)?;
        Ok(Credential {
            token,
            expires_in: self.config.policy.ttl_secs,
            refresh_token: bound.refresh_token,
        })
    }

    /// The local part of [`Authenticator::verify`], without the `async` wrapper: signature and
    /// claims, no store. That is the whole verify under `none` and `refresh`; under `denylist`
    /// and `epoch`, `verify` adds the revocation check (benchmarks call this for the floor).
    ///
    /// A verifier-only backend uses its cached keys here, without ever fetching.
    pub fn verify_now(&self, token: &str) -> Result<Principal, Error> {
        match &self.keys {
            Keys::Local(local) => local.with(|ring| self.check_local(&ring.verifier, token)),
            Keys::Remote(remote) => self.check_local(&remote.snapshot().verifier, token),
        }
        .map(|c| c.principal)
    }

    /// Signature and claims with the current keys; a verifier-only backend refreshes its set
    /// on an unknown `kid` (rate-limited) and checks once more.
    async fn check_keys(&self, token: &str) -> Result<Checked, Error> {
        match &self.keys {
            Keys::Local(local) => local.with(|ring| self.check_local(&ring.verifier, token)),
            Keys::Remote(remote) => remote.check(token, |v| self.check_local(v, token)).await,
        }
    }

    /// Signature and claims tolerating expiry for up to a refresh family's lifetime, where the
    /// keyring has that verifier (`refresh`, whose logout may present a just-expired access
    /// token); the current keys otherwise. Never fetches.
    fn check_tolerant(&self, token: &str) -> Result<Checked, Error> {
        match &self.keys {
            Keys::Local(local) => local.with(|ring| {
                let verifier = ring.revoke_verifier.as_ref().unwrap_or(&ring.verifier);
                self.check_local(verifier, token)
            }),
            Keys::Remote(remote) => self.check_local(&remote.snapshot().verifier, token),
        }
    }

    fn check_local(&self, verifier: &Verifier, token: &str) -> Result<Checked, Error> {
        let mut buf = Vec::new();
        let claims = verifier
            .check::<AccessClaims>(token, &mut buf)
            .inspect_err(|e| tracing::debug!(reason = %e, "JWT rejected"))?;
        let r = claims.registered;
        // `check` has already required sub, iat, jti and exp.
        if self.config.revocation.has_user_epoch()
            && r.exp.unwrap_or(0).saturating_sub(r.iat.unwrap_or(0))
                > self.config.longest_token_lifetime()
        {
            // The user's epoch key is kept only that long: a longer-lived token could outlive
            // the record of its revocation.
            return Err(Error::new(
                ErrorKind::Expired,
                "token lifetime (exp - iat) is longer than this deployment accepts",
            ));
        }
        let principal =
            crate::verify::principal_of(r, claims.private.tenant, claims.private.roles)?;
        Ok(Checked {
            principal,
            sid: claims.private.sid,
            epoch: claims.private.epoch,
        })
    }
}

/// Claims every access token must carry besides `exp`.
pub(crate) const REQUIRED: Required = Required {
    sub: true,
    iat: true,
    jti: true,
};

impl Authenticator for JwtBackend {
    fn describe(&self) -> Description {
        let revocation = self.config.revocation;
        Description {
            name: self.name.clone(),
            stateful: revocation.needs_redis(),
            revocation: crate::revocation::model(revocation),
            store_round_trips_per_verify: revocation.round_trips_per_verify(),
        }
    }

    /// Signs an access token carrying what the strategy binds into it
    /// ([`Revocation`]'s table): under `refresh`, a new refresh-token family (one round trip)
    /// whose first refresh token is returned too; under `denylist` and `epoch`, the user's
    /// epoch read from Redis (one round trip), which is what makes the token valid at once
    /// after a revoke-all and revoked by the next one.
    async fn issue(&self, who: &Identity) -> Result<Credential, Error> {
        let local = self.signer()?;
        let bound = self.strategy.bind(who, self.clock.now()).await?;
        self.sign_access(local, who, bound)
    }

    /// Local checks, then the strategy's: `denylist` one `MGET`; `epoch` the local cache (a
    /// `GET` on a miss or while the subscription is down); `none` and `refresh` nothing. A
    /// token without an `epoch` claim counts as epoch 0 (the oldest there is).
    async fn verify(&self, token: &str) -> Result<Principal, Error> {
        let checked = self.check_keys(token).await?;
        self.strategy.check(&checked).await?;
        Ok(checked.principal)
    }

    /// - `none`: `Unsupported`: a stateless token cannot be taken back.
    /// - `denylist`: the token is verified (signature and claims) and its `jti` denied until it
    ///   would expire; an already expired token needs nothing (`Ok`).
    /// - `epoch`: `Unsupported`: an epoch ends all of a user's tokens, it cannot name one.
    /// - `refresh`: ends the token's refresh-token family (found through the `sid` claim); the
    ///   access token itself lives out its short `exp`. A refresh token may be presented
    ///   instead, and ends its family the same way.
    async fn revoke(&self, token: &str) -> Result<(), Error> {
        self.strategy
            .revoke(
                &self.name,
                token,
                &self.clock,
                self.check_keys(token),
                || self.check_tolerant(token),
            )
            .await
    }

    /// - `none`: `Unsupported`.
    /// - `denylist`, `epoch`: raise the user's epoch (`epoch` also publishes it to every
    ///   instance's cache): every token issued before is revoked, every token issued after is
    ///   valid at once, whatever the clock says (the revocation module explains the order).
    /// - `refresh`: revoke every refresh-token family of the user; access tokens live out
    ///   their short `exp`.
    async fn revoke_all(&self, subject: &str) -> Result<(), Error> {
        let now = self.clock.now();
        self.strategy.revoke_all(&self.name, subject, now).await
    }

    /// `refresh` only: spends the refresh token and returns a new access token (with the
    /// family's *current* identity) and a new refresh token of the same family. Presenting a
    /// spent refresh token revokes the whole family (reuse detection). Other strategies:
    /// `Unsupported`.
    async fn refresh(&self, refresh_token: &str) -> Result<Credential, Error> {
        let (identity, bound) = self
            .strategy
            .refresh(
                &self.name,
                refresh_token,
                self.config.policy.max_token_bytes,
                &self.clock,
            )
            .await?;
        self.sign_access(self.signer()?, &identity, bound)
    }

    /// - `refresh`: rewrites tenant and roles in every refresh-token family of the user, so the
    ///   next refresh signs the new facts: the change bites within one access-token lifetime.
    /// - `none`, `denylist`, `epoch`: `Unsupported`: issued tokens keep their claims until they
    ///   expire. To force the change, the caller can `revoke_all` (under `denylist`/`epoch`),
    ///   making the user log in again and get the new claims; that is a policy the caller
    ///   chooses and reports as a revocation, not an update.
    async fn update_identity(&self, who: &Identity) -> Result<(), Error> {
        self.strategy.update_identity(&self.name, who).await
    }

    /// An issuer's JWKS: the signing key and every retired key still verifying (`None` for
    /// HS256). A verifier-only backend publishes nothing (`None`): the issuer is the source.
    fn published_keys(&self) -> Option<Arc<str>> {
        match &self.keys {
            Keys::Local(local) => local.jwks(&self.config, &self.clock),
            Keys::Remote(_) => None,
        }
    }
}
