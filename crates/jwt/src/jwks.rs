//! Verifier-only instances: the issuer's public keys, fetched from its JWKS URL and cached.
//!
//! A JWT's selling point for scale-out is that any instance can verify a token with nothing
//! but the issuer's public key. This module is how such an instance gets that key:
//!
//! - **From one configured URL only** ([`JwksConfig::url`], e.g.
//!   `http://issuer/.well-known/jwks.json`). A token that names a key location (`jku`, `x5u`)
//!   or carries a key (`jwk`, `x5c`) is rejected (`UnknownKey`) before any key lookup, and
//!   never causes a fetch, not even of our own URL.
//! - **Cached**: the keys are kept until a successful fetch replaces them; a failed fetch or
//!   an unusable document leaves the cached keys in place.
//! - **Refreshed on an unknown `kid`**, which is how a verifier learns of a key rotation: a
//!   well-formed token naming a `kid` we do not hold makes us refetch the set, once, and retry.
//!   At most one such fetch per [`refresh_interval_secs`](JwksConfig::refresh_interval_secs)
//!   (10 s by default), and one at a time, so a flood of tokens with random `kid`s costs the
//!   issuer at most one request per interval per instance, not one per token.
//! - **Refreshed when stale**: after [`max_age_secs`](JwksConfig::max_age_secs) (300 s by
//!   default, shortened by the issuer's `Cache-Control: max-age`, never below the refresh
//!   interval), the next verify starts a refresh in the background and carries on with the
//!   cached keys. This is what eventually drops a key the issuer has withdrawn.
//!
//! # Answers
//!
//! | situation | answer |
//! |---|---|
//! | `kid` in the cached set | verified as usual (no fetch) |
//! | `kid` unknown, refresh allowed, fetched set has it | verified |
//! | `kid` unknown, refresh allowed, fetched set lacks it | `UnknownKey` (401) |
//! | `kid` unknown, refresh allowed, issuer unreachable (or bad answer) | `Unavailable` (503): we could not check |
//! | `kid` unknown within the refresh interval, last fetch succeeded | `UnknownKey` (401), no fetch |
//! | `kid` unknown within the refresh interval, last fetch failed | `Unavailable` (503), no fetch |
//! | header has `jku`/`x5u`/`jwk`/`x5c` | `UnknownKey` (401), never a fetch |
//!
//! Never a success without a key we fetched from the configured URL. A 503 for an unknown
//! `kid` while the issuer is down is the honest answer (the token may well be valid, signed
//! with a key published after our last fetch), and it is what lets a client retry; a random
//! `kid` while the issuer is up is a plain 401.
//!
//! The rate limit runs on the backend's injected clock (whole seconds), so tests drive it
//! with a `ManualClock`.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use authbench_core::{Error, ErrorKind, SharedClock};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::alg::Alg;
use crate::backend::REQUIRED;
use crate::error::JwtError;
use crate::fetch::{self, HttpUrl};
use crate::keys;
use crate::parse::{self, Header};
use crate::verify::{MAX_HEADER_BYTES, Verifier, VerifierOptions};

/// Default least time between two fetches caused by unknown `kid`s: 10 s. Short enough that a
/// rotation is picked up within seconds even if a fetch just happened; long enough that a
/// flood of forged `kid`s costs the issuer one request per verifier every 10 s.
pub const DEFAULT_JWKS_REFRESH_INTERVAL_SECS: u64 = 10;

/// Default age after which the cached set is refreshed in the background: 5 minutes.
pub const DEFAULT_JWKS_MAX_AGE_SECS: u64 = 300;

/// Default deadline for one whole fetch (connect, request, body): 2 s.
pub const DEFAULT_JWKS_TIMEOUT: Duration = Duration::from_secs(2);

/// Default cap on a JWKS document: 64 KiB, room for dozens of RSA keys.
pub const DEFAULT_JWKS_MAX_BYTES: usize = 64 * 1024;

/// Longest `kid` that may trigger a refresh. Ours are 43 characters (a SHA-256 thumbprint);
/// a longer one is garbage and is simply unknown.
const MAX_REFRESH_KID_BYTES: usize = 128;

/// `last_attempt` before the first fetch.
const NEVER: u64 = u64::MAX;

/// Where and how a verifier-only backend gets the issuer's public keys. [`JwksConfig::new`]
/// gives the defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwksConfig {
    /// The issuer's JWKS URL, `http://host[:port]/path`. The only URL ever fetched. Plain HTTP
    /// only (no TLS in this client): loopback or a private network; in production, `https`
    /// through a TLS-terminating proxy. No default.
    pub url: String,
    /// Least time between two fetches caused by unknown `kid`s, in seconds. Defaults to
    /// [`DEFAULT_JWKS_REFRESH_INTERVAL_SECS`] (10). 0 allows one fetch per unknown-`kid`
    /// token (still one at a time): for tests only.
    pub refresh_interval_secs: u64,
    /// Age after which the cached set is refreshed in the background, in seconds; the
    /// issuer's `Cache-Control: max-age` may shorten it (never below the refresh interval).
    /// Defaults to [`DEFAULT_JWKS_MAX_AGE_SECS`] (300).
    pub max_age_secs: u64,
    /// Deadline for one whole fetch. Defaults to [`DEFAULT_JWKS_TIMEOUT`] (2 s).
    pub timeout: Duration,
    /// Largest JWKS document accepted, in bytes. Defaults to [`DEFAULT_JWKS_MAX_BYTES`]
    /// (64 KiB).
    pub max_bytes: usize,
}

impl JwksConfig {
    /// The defaults, for `url`.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            refresh_interval_secs: DEFAULT_JWKS_REFRESH_INTERVAL_SECS,
            max_age_secs: DEFAULT_JWKS_MAX_AGE_SECS,
            timeout: DEFAULT_JWKS_TIMEOUT,
            max_bytes: DEFAULT_JWKS_MAX_BYTES,
        }
    }
}

/// Counters of a verifier-only backend's key cache
/// ([`JwtBackend::jwks_stats`](crate::JwtBackend::jwks_stats)).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JwksStats {
    /// Fetches attempted (initial, unknown `kid`, background, forced).
    pub fetches: u64,
    /// Fetches that failed (unreachable, timeout, not 200, unusable document).
    pub failures: u64,
    /// Unknown-`kid` refreshes refused by the rate limit.
    pub rate_limited: u64,
    /// The `kid`s in the cached set.
    pub kids: Vec<String>,
}

/// One immutable snapshot of the fetched keys.
pub(crate) struct Snapshot {
    /// The strict verifier over the fetched keys.
    pub(crate) verifier: Arc<Verifier>,
    /// Bumped by every installed set, so a waiter can tell that someone else refreshed.
    generation: u64,
}

/// What an unknown-`kid` refresh came to.
enum Refresh {
    /// A newer set is installed: retry.
    Installed,
    /// Refused by the rate limit; no fetch.
    RateLimited,
    /// The fetch failed.
    Failed,
}

struct Inner {
    url: HttpUrl,
    config: JwksConfig,
    options: VerifierOptions,
    clock: SharedClock,
    current: RwLock<Arc<Snapshot>>,
    /// One fetch at a time.
    fetch_lock: tokio::sync::Mutex<()>,
    /// Clock second of the last fetch attempt ([`NEVER`] before the first).
    last_attempt: AtomicU64,
    /// Whether the last fetch failed: unknown `kid`s are then `Unavailable`, not `UnknownKey`.
    issuer_down: AtomicBool,
    /// Clock second from which the set is stale (background refresh).
    stale_at: AtomicU64,
    /// A background refresh is running.
    refreshing: AtomicBool,
    fetches: AtomicU64,
    failures: AtomicU64,
    rate_limited: AtomicU64,
    /// `kid`s never trusted (`JwtConfig::distrusted_kids`, plus every
    /// [`revoke`](RemoteKeys::revoke)): dropped from every fetched set, and a token naming
    /// one is refused without a fetch.
    distrusted: RwLock<Vec<String>>,
}

/// The key cache of a verifier-only backend (cheap to clone).
#[derive(Clone)]
pub(crate) struct RemoteKeys {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for RemoteKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteKeys")
            .field("url", &self.inner.url.to_string())
            .finish_non_exhaustive()
    }
}

fn unavailable(url: &HttpUrl) -> Error {
    Error::new(
        ErrorKind::Unavailable,
        format!(
            "the token's `kid` is not in the cached key set and the JWKS at {url} could not be fetched"
        ),
    )
}

impl RemoteKeys {
    /// Parses the URL and makes the first fetch, which must succeed: a verifier that starts
    /// without keys would answer nothing but 503.
    pub(crate) async fn connect(
        config: JwksConfig,
        options: VerifierOptions,
        clock: SharedClock,
        distrusted: Vec<String>,
    ) -> Result<Self, JwtError> {
        if let Some(alg) = options.algorithms.iter().find(|a| !a.is_asymmetric()) {
            return Err(JwtError::Config(format!(
                "{alg} uses a shared secret, which is never published: a JWKS can only carry \
                 public keys (use RS256, PS256, ES256, ES384 or EdDSA)"
            )));
        }
        let url =
            HttpUrl::parse(&config.url).map_err(|e| JwtError::Config(format!("JWKS URL: {e}")))?;
        if config.timeout.is_zero() || config.max_bytes == 0 {
            return Err(JwtError::Config(
                "the JWKS timeout and size cap must be positive".into(),
            ));
        }
        let now = clock.now();
        let (verifier, max_age) = fetch_set(&url, &config, &options, &clock, &distrusted)
            .await
            .map_err(|e| JwtError::Config(format!("first fetch of the JWKS at {url}: {e}")))?;
        if verifier.keys().is_empty() {
            return Err(JwtError::Config(format!(
                "first fetch of the JWKS at {url}: every key in it is distrusted"
            )));
        }
        let stale_at = now.saturating_add(effective_max_age(&config, max_age));
        tracing::info!(url = %url, kids = ?kids(&verifier), "JWKS fetched");
        Ok(Self {
            inner: Arc::new(Inner {
                url,
                config,
                options,
                clock,
                current: RwLock::new(Arc::new(Snapshot {
                    verifier: Arc::new(verifier),
                    generation: 1,
                })),
                fetch_lock: tokio::sync::Mutex::new(()),
                last_attempt: AtomicU64::new(now),
                issuer_down: AtomicBool::new(false),
                stale_at: AtomicU64::new(stale_at),
                refreshing: AtomicBool::new(false),
                fetches: AtomicU64::new(1),
                failures: AtomicU64::new(0),
                rate_limited: AtomicU64::new(0),
                distrusted: RwLock::new(distrusted),
            }),
        })
    }

    /// The current snapshot.
    pub(crate) fn snapshot(&self) -> Arc<Snapshot> {
        Arc::clone(
            &self
                .inner
                .current
                .read()
                .unwrap_or_else(PoisonError::into_inner),
        )
    }

    /// Runs `check` (the local verification) with the cached keys; on an unknown `kid`,
    /// refreshes the set (rate-limited) and runs it once more. See the module docs for the
    /// answers.
    pub(crate) async fn check<T>(
        &self,
        token: &str,
        check: impl Fn(&Verifier) -> Result<T, Error>,
    ) -> Result<T, Error> {
        self.maybe_refresh_in_background();
        let before = self.snapshot();
        let first = check(&before.verifier);
        let err = match first {
            Err(e) if e.kind() == ErrorKind::UnknownKey => e,
            other => return other,
        };
        let Some(kid) = refresh_candidate(token, &self.inner.options.algorithms) else {
            return Err(err);
        };
        if self.is_distrusted(&kid) {
            // Revoked: no fetch could make it trusted again.
            return Err(err);
        }
        match self.refresh_for_unknown_kid(before.generation).await {
            Refresh::Installed => check(&self.snapshot().verifier),
            Refresh::RateLimited if self.inner.issuer_down.load(Ordering::Relaxed) => {
                Err(unavailable(&self.inner.url))
            }
            Refresh::RateLimited => Err(err),
            Refresh::Failed => Err(unavailable(&self.inner.url)),
        }
    }

    fn may_fetch(&self, now: u64) -> bool {
        let last = self.inner.last_attempt.load(Ordering::Relaxed);
        last == NEVER || now >= last.saturating_add(self.inner.config.refresh_interval_secs)
    }

    async fn refresh_for_unknown_kid(&self, seen_generation: u64) -> Refresh {
        let inner = &self.inner;
        if !self.may_fetch(inner.clock.now()) {
            inner.rate_limited.fetch_add(1, Ordering::Relaxed);
            return Refresh::RateLimited;
        }
        let _one_at_a_time = inner.fetch_lock.lock().await;
        // Someone else may have refreshed while we waited for the lock.
        if self.snapshot().generation != seen_generation {
            return Refresh::Installed;
        }
        if !self.may_fetch(inner.clock.now()) {
            inner.rate_limited.fetch_add(1, Ordering::Relaxed);
            return Refresh::RateLimited;
        }
        if self.fetch_and_install().await {
            Refresh::Installed
        } else {
            Refresh::Failed
        }
    }

    /// Fetches the set and installs it; on failure keeps the cached one. Call with the fetch
    /// lock held. Says whether a new set is installed.
    async fn fetch_and_install(&self) -> bool {
        let inner = &self.inner;
        let now = inner.clock.now();
        inner.last_attempt.store(now, Ordering::Relaxed);
        inner.fetches.fetch_add(1, Ordering::Relaxed);
        let distrusted = self.distrusted();
        match fetch_set(
            &inner.url,
            &inner.config,
            &inner.options,
            &inner.clock,
            &distrusted,
        )
        .await
        {
            Ok((verifier, max_age)) => {
                let kids = kids(&verifier);
                let mut current = inner
                    .current
                    .write()
                    .unwrap_or_else(PoisonError::into_inner);
                let generation = current.generation + 1;
                *current = Arc::new(Snapshot {
                    verifier: Arc::new(verifier),
                    generation,
                });
                drop(current);
                inner.issuer_down.store(false, Ordering::Relaxed);
                inner.stale_at.store(
                    now.saturating_add(effective_max_age(&inner.config, max_age)),
                    Ordering::Relaxed,
                );
                tracing::info!(url = %inner.url, kids = ?kids, "JWKS refreshed");
                true
            }
            Err(e) => {
                inner.failures.fetch_add(1, Ordering::Relaxed);
                inner.issuer_down.store(true, Ordering::Relaxed);
                // Try the background refresh again after one refresh interval, not at once.
                inner.stale_at.store(
                    now.saturating_add(inner.config.refresh_interval_secs.max(1)),
                    Ordering::Relaxed,
                );
                tracing::warn!(url = %inner.url, error = %e, "JWKS fetch failed; keeping the cached keys");
                false
            }
        }
    }

    /// When the set is stale, starts one refresh in the background (the caller goes on with
    /// the cached keys). Outside a tokio runtime, does nothing.
    fn maybe_refresh_in_background(&self) {
        let inner = &self.inner;
        if inner.clock.now() < inner.stale_at.load(Ordering::Relaxed)
            || inner.refreshing.swap(true, Ordering::Acquire)
        {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            inner.refreshing.store(false, Ordering::Release);
            return;
        };
        let this = self.clone();
        runtime.spawn(async move {
            {
                let _one_at_a_time = this.inner.fetch_lock.lock().await;
                if this.inner.clock.now() >= this.inner.stale_at.load(Ordering::Relaxed) {
                    this.fetch_and_install().await;
                }
            }
            this.inner.refreshing.store(false, Ordering::Release);
        });
    }

    /// Fetches the set now, ignoring the rate limit (tests, operators). Says whether it worked.
    pub(crate) async fn refresh_now(&self) -> bool {
        let _one_at_a_time = self.inner.fetch_lock.lock().await;
        self.fetch_and_install().await
    }

    pub(crate) fn stats(&self) -> JwksStats {
        let inner = &self.inner;
        JwksStats {
            fetches: inner.fetches.load(Ordering::Relaxed),
            failures: inner.failures.load(Ordering::Relaxed),
            rate_limited: inner.rate_limited.load(Ordering::Relaxed),
            kids: kids(&self.snapshot().verifier),
        }
    }

    fn is_distrusted(&self, kid: &str) -> bool {
        self.inner
            .distrusted
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .any(|k| k == kid)
    }

    /// The `kid`s distrusted so far.
    pub(crate) fn distrusted(&self) -> Vec<String> {
        self.inner
            .distrusted
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Stops trusting `kid` here at once: drops it from the cached set (which may leave it
    /// empty: every token is then `UnknownKey` until a fetch brings other keys) and from
    /// every later fetch. Says whether the cached set held it.
    pub(crate) fn revoke(&self, kid: &str) -> bool {
        let inner = &self.inner;
        {
            let mut distrusted = inner
                .distrusted
                .write()
                .unwrap_or_else(PoisonError::into_inner);
            if !distrusted.iter().any(|k| k == kid) {
                distrusted.push(kid.to_owned());
            }
        }
        let mut current = inner
            .current
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let held = current.verifier.keys().iter().any(|k| k.kid() == Some(kid));
        if held {
            let generation = current.generation + 1;
            *current = Arc::new(Snapshot {
                verifier: Arc::new(current.verifier.without_kid(kid)),
                generation,
            });
        }
        drop(current);
        tracing::warn!(url = %inner.url, kid, held, "key revoked: no longer trusted");
        held
    }

    /// The configured URL, as fetched.
    pub(crate) fn url(&self) -> String {
        self.inner.url.to_string()
    }
}

fn kids(verifier: &Verifier) -> Vec<String> {
    verifier
        .keys()
        .iter()
        .filter_map(|k| k.kid().map(str::to_owned))
        .collect()
}

/// The refresh interval as a floor, the configured max age as a ceiling, the server's
/// `max-age` in between.
fn effective_max_age(config: &JwksConfig, served: Option<u64>) -> u64 {
    let ceiling = config.max_age_secs;
    let floor = config.refresh_interval_secs.min(ceiling);
    served.map_or(ceiling, |s| s.clamp(floor, ceiling))
}

/// Fetches and imports the set: keys for algorithms we do not allow are skipped, and so are
/// distrusted `kid`s; a set with no usable key, duplicate `kid`s, or a key whose
/// `use`/`key_ops` forbid verifying is an error (and the cached set stays).
async fn fetch_set(
    url: &HttpUrl,
    config: &JwksConfig,
    options: &VerifierOptions,
    clock: &SharedClock,
    distrusted: &[String],
) -> Result<(Verifier, Option<u64>), String> {
    let fetched = fetch::get(url, config.timeout, config.max_bytes).await?;
    let text = std::str::from_utf8(&fetched.body).map_err(|_| "the JWKS is not UTF-8")?;
    let keys = keys::import_verifying_keys(text, &options.algorithms).map_err(|e| e.to_string())?;
    if let Some(key) = keys.iter().find(|k| k.kid().is_none()) {
        return Err(format!(
            "every key in a fetched set needs a `kid` (a {} key has none)",
            key.alg()
        ));
    }
    let mut verifier = Verifier::from_keys(keys, options.clone())
        .map_err(|e| e.to_string())?
        .with_clock(clock.clone())
        .with_required(REQUIRED);
    // A distrusted key is dropped, even if that leaves no key: the issuer answered, and
    // trusting nothing (every token 401) is the honest state, not a failed fetch.
    for kid in distrusted {
        if verifier.keys().iter().any(|k| k.kid() == Some(kid)) {
            verifier = verifier.without_kid(kid);
        }
    }
    Ok((verifier, fetched.max_age))
}

/// The `kid` of a token that deserves a refresh: a header we can parse, an allowed `alg`, no
/// `crit`, no key reference (`jku`, `x5u`, `jwk`, `x5c`), and a `kid` of sane length. Anything
/// else is rejected on the cached keys alone.
fn refresh_candidate(token: &str, allowed: &[Alg]) -> Option<String> {
    let header_b64 = &token[..token.find('.')?];
    if base64::decoded_len_estimate(header_b64.len()) > MAX_HEADER_BYTES {
        return None;
    }
    let mut buf = [0u8; MAX_HEADER_BYTES];
    let len = URL_SAFE_NO_PAD.decode_slice(header_b64, &mut buf).ok()?;
    let json = &buf[..len];
    if !parse::starts_object(json) {
        return None;
    }
    let header: Header<'_> = parse::from_json(json).ok()?;
    let alg = Alg::from_jose(header.alg.as_deref()?)?;
    if !allowed.contains(&alg) || header.crit || header.key_reference.is_some() {
        return None;
    }
    let kid = header.kid?;
    (!kid.is_empty() && kid.len() <= MAX_REFRESH_KID_BYTES).then(|| kid.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(header: &str) -> String {
        format!("{}.e30.sig", URL_SAFE_NO_PAD.encode(header))
    }

    #[test]
    fn only_clean_headers_with_a_kid_deserve_a_refresh() {
        let allowed = [Alg::ES256];
        let ok = token(r#"{"alg":"ES256","typ":"at+jwt","kid":"abc"}"#);
        assert_eq!(refresh_candidate(&ok, &allowed).as_deref(), Some("abc"));
        for bad in [
            r#"{"alg":"ES256","kid":"abc","jku":"http://evil/jwks.json"}"#,
            r#"{"alg":"ES256","kid":"abc","x5u":"http://evil/cert.pem"}"#,
            r#"{"alg":"ES256","kid":"abc","jwk":{"kty":"EC"}}"#,
            r#"{"alg":"ES256","kid":"abc","crit":["exp"]}"#,
            r#"{"alg":"HS256","kid":"abc"}"#,
            r#"{"alg":"none","kid":"abc"}"#,
            r#"{"alg":"ES256"}"#,
            r#"{"alg":"ES256","kid":""}"#,
            r#"{"alg":"ES256","kid":"abc","kid":"abd"}"#,
            "not json",
        ] {
            assert_eq!(refresh_candidate(&token(bad), &allowed), None, "{bad}");
        }
        let long = token(&format!(r#"{{"alg":"ES256","kid":"{}"}}"#, "k".repeat(129)));
        assert_eq!(refresh_candidate(&long, &allowed), None);
        assert_eq!(refresh_candidate("no-dots", &allowed), None);
    }

    #[test]
    fn max_age_is_clamped() {
        let mut c = JwksConfig::new("http://h/");
        c.refresh_interval_secs = 10;
        c.max_age_secs = 300;
        assert_eq!(effective_max_age(&c, None), 300);
        assert_eq!(effective_max_age(&c, Some(60)), 60);
        assert_eq!(effective_max_age(&c, Some(0)), 10);
        assert_eq!(effective_max_age(&c, Some(3600)), 300);
    }
}
