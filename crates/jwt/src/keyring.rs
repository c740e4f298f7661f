//! The issuing backend's keys: the one key that signs, the retired keys that still verify, and
//! the JWKS that publishes them; key rotation.
//!
//! # Rotation
//!
//! [`JwtBackend::rotate_signing_key`](crate::JwtBackend::rotate_signing_key) swaps in a new
//! signing key with a new `kid`. Tokens already out there were signed with the old key and
//! must keep working until they expire, on this instance and on every verifier that reads our
//! JWKS, so the old **public** key is *retired*, not dropped:
//!
//! - it stays in our verifier and in the published JWKS until `rotated_at + ttl + leeway`:
//!   the last token it signed was issued at `rotated_at` at the latest, expires at
//!   `rotated_at + ttl`, and is accepted while `now < exp + leeway`;
//! - after that, no token it signed can pass the `exp` check anyway, and it leaves the JWKS.
//!   Under `refresh`, logout also accepts access tokens expired for up to a family's lifetime
//!   (to end their family), so the revoke verifier keeps the key `refresh_ttl` longer.
//!
//! **Pre-publishing: rotation without a gap.** A verifier that fetched our JWKS just before a
//! rotation does not know the new key, and refreshes its set on an unknown `kid` at most once
//! per refresh interval (and otherwise only when the set is `max-age` old): until then it
//! answers 401 to every token the new key signs. With
//! [`JwtConfig::key_prepublish_secs`](crate::JwtConfig::key_prepublish_secs) = `P > 0`, a
//! rotation at `T` does not sign with the new key yet: it **publishes** it (in the JWKS and in
//! our own verifier) and schedules the switch for `T + P`. Every verifier that fetches at or
//! after `T` knows the key before any token carries it, and every verifier refreshes within
//! its `max-age`, so with `P` at least the verifiers' `max-age` (and any HTTP cache's), no
//! verifier ever meets the new `kid` unknown. The switch is made by the first signature (or
//! JWKS read) at or after `T + P`; the old key then retires as above, from `T + P`. One
//! rotation is scheduled at a time (a second one is refused until the first has switched).
//! With `P = 0` (the default) a rotation switches at once, as verifiers on a short refresh
//! interval tolerate.
//!
//! The old private key is dropped at once: nothing signs with it again. Retired keys are
//! pruned lazily, when the keys are next read for signing, publishing or rotating (never on
//! the verify hot path, where a stale-but-harmless key costs nothing).
//!
//! Rotation lives in memory: a restart forgets retired keys. For rotation that survives
//! restarts, deploy the new key file and keep the old public key published by other means
//! until its tokens expire.
//!
//! # Revocation (a compromised key)
//!
//! Rotation assumes the old key is still secret: its tokens keep working until they expire.
//! When a private key may have leaked, that is the wrong promise: anyone holding it can mint
//! tokens with any claims, and each one would verify for a whole lifetime.
//! [`JwtBackend::revoke_key`](crate::JwtBackend::revoke_key) stops trusting a `kid` at once:
//!
//! - a retired or pre-published key leaves our verifier and the JWKS now;
//! - the signing key is replaced (by the pre-published key if a rotation is scheduled, else by
//!   a fresh one) and is **not** retired: every token it signed, honest ones included, is
//!   refused from the next request on (their holders log in again, which works at once);
//! - the `kid` joins a distrusted list ([`JwtConfig::distrusted_kids`](crate::JwtConfig),
//!   seeded by `serve --distrust-kid`): no rotation may bring it back, and an issuer will not
//!   start with it as its signing key.
//!
//! Verifier-only instances learn of it through the JWKS: the key is gone from the document,
//! and they drop it at their next fetch (an unknown `kid`, such as the first token of the
//! replacement key, or the `max-age` refresh). Until then they still accept its tokens; to
//! close that window, revoke on them too (the same route: they drop the key at once and
//! ignore it in every later fetch) or start them with `--distrust-kid`.
//!
//! # Hot path
//!
//! The current keys are an `Arc<Keyring>` behind a `RwLock`: a verify holds the read lock (one
//! atomic operation to take, one to release) while it checks the token against the immutable
//! snapshot; it never awaits meanwhile. Rotation (and pruning) builds the new snapshot under the
//! write lock, which takes microseconds (a new key is generated before), then swaps the pointer;
//! requests in flight finish on the old snapshot.

use std::sync::{Arc, PoisonError, RwLock};

use authbench_core::SharedClock;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::backend::{JwtConfig, REQUIRED};
use crate::error::JwtError;
use crate::keys::{self, PublicJwk, SigningKey, VerifyingKey};
use crate::revocation::Revocation;
use crate::sign::HeaderOut;
use crate::verify::Verifier;

/// What a rotation did: the new `kid`, and until when the old key stays published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRotation {
    /// The `kid` every token issued from now on carries.
    pub kid: String,
    /// The `kid` of the key that signed until now.
    pub previous_kid: String,
    /// Unix second from which the previous key leaves the JWKS (and our verifier): the last
    /// token it signed has expired, leeway included.
    pub previous_published_until: u64,
    /// Unix second from which the new key signs: now, or, when keys are pre-published, now +
    /// [`JwtConfig::key_prepublish_secs`](crate::JwtConfig::key_prepublish_secs) (it is in the
    /// JWKS from now on either way).
    pub signs_from: u64,
}

/// What [`JwtBackend::revoke_key`](crate::JwtBackend::revoke_key) did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRevocation {
    /// The `kid` no longer trusted (from now on, and by every later rotation).
    pub kid: String,
    /// Whether a key we held (signing, pre-published, retired, or fetched) had that `kid`:
    /// `false` changes no key, but the `kid` is distrusted all the same.
    pub was_trusted: bool,
    /// Where the revoked key was the signing key: the `kid` of the key that signs now (the
    /// pre-published one if a rotation was scheduled, else a fresh key). Every token the
    /// revoked key signed is refused, including honest holders' own: they log in again.
    /// `None` when another key was revoked, or on a verifier-only instance.
    pub new_signing_kid: Option<String>,
}

/// A key published ahead of signing (see the module docs): it signs from `signs_from`.
struct Pending {
    key: Arc<SigningKey>,
    signs_from: u64,
}

/// A key that no longer signs but still verifies the tokens it signed.
#[derive(Clone)]
struct Retired {
    key: VerifyingKey,
    /// Its public JWK (`None` for HS256, which publishes nothing).
    public: Option<PublicJwk>,
    /// Published, and in the main verifier, while `now < publish_until`.
    publish_until: u64,
    /// Kept in the `refresh` strategy's revoke verifier while `now < keep_until`
    /// (`publish_until`, plus the family lifetime under `refresh`).
    keep_until: u64,
}

/// One immutable snapshot of the keys: built at start-up and at every rotation or pruning.
pub(crate) struct Keyring {
    /// The key that signs (shared with the next snapshot when only retired keys change).
    pub(crate) signing: Arc<SigningKey>,
    /// base64url of our constant header (`alg`, `typ`, the current `kid`): every token starts
    /// with it.
    pub(crate) header_b64: String,
    /// The strict verifier over the signing key and the retired keys.
    pub(crate) verifier: Arc<Verifier>,
    /// Under `refresh`: like `verifier`, but tolerating expiry for up to a family's lifetime,
    /// so a logout presenting a just-expired access token still ends its family.
    pub(crate) revoke_verifier: Option<Arc<Verifier>>,
    /// The JWKS document (`None` for HS256: a secret is never published), shared with every
    /// caller of [`LocalKeys::jwks`] (a rotation builds a new one; callers keep the old).
    jwks: Option<Arc<str>>,
    retired: Vec<Retired>,
    /// The next signing key, published but not signing yet (only with pre-publishing).
    pending: Option<Arc<Pending>>,
    /// The first Unix second at which a retired key must leave the JWKS or a verifier, or the
    /// pending key must start signing (`u64::MAX` when nothing will change).
    next_change: u64,
}

impl Keyring {
    /// Builds the snapshot for `signing` plus the `retired` keys still needed at `now`.
    fn build(
        config: &JwtConfig,
        clock: &SharedClock,
        signing: Arc<SigningKey>,
        retired: Vec<Retired>,
        pending: Option<Arc<Pending>>,
        now: u64,
    ) -> Result<Self, JwtError> {
        let retired: Vec<Retired> = retired.into_iter().filter(|r| now < r.keep_until).collect();
        let published: Vec<&Retired> = retired.iter().filter(|r| now < r.publish_until).collect();

        let header = serde_json::to_vec(&HeaderOut {
            alg: signing.alg().as_str(),
            typ: Some(&config.policy.token_type),
            kid: signing.kid(),
        })
        .map_err(|e| JwtError::Signing(e.to_string()))?;
        let header_b64 = URL_SAFE_NO_PAD.encode(header);

        let mut verifying = vec![signing.verifying_key()];
        verifying.extend(pending.iter().map(|p| p.key.verifying_key()));
        verifying.extend(published.iter().rev().map(|r| r.key.clone()));
        let options = config.policy.verifier_options([signing.alg()]);
        let verifier = Arc::new(
            Verifier::from_keys(verifying, options.clone())?
                .with_clock(clock.clone())
                .with_required(REQUIRED),
        );

        let revoke_verifier = if config.revocation == Revocation::Refresh {
            let mut options = options;
            options.leeway_secs = config
                .policy
                .leeway_secs
                .saturating_add(config.refresh_ttl_secs);
            let mut keys = vec![signing.verifying_key()];
            keys.extend(retired.iter().map(|r| r.key.clone()));
            Some(Arc::new(
                Verifier::from_keys(keys, options)?
                    .with_clock(clock.clone())
                    .with_required(REQUIRED),
            ))
        } else {
            None
        };

        let jwks = signing.public_jwk_struct().map(|current| {
            let mut docs = vec![current];
            // The current key, the pre-published next one, then retired keys from the latest.
            docs.extend(pending.iter().filter_map(|p| p.key.public_jwk_struct()));
            docs.extend(published.iter().rev().filter_map(|r| r.public.as_ref()));
            Arc::<str>::from(keys::jwks_json(&docs))
        });

        let next_change = retired
            .iter()
            .flat_map(|r| [r.publish_until, r.keep_until])
            .chain(pending.iter().map(|p| p.signs_from))
            .filter(|&t| t > now)
            .min()
            .unwrap_or(u64::MAX);
        Ok(Self {
            signing,
            header_b64,
            verifier,
            revoke_verifier,
            jwks,
            retired,
            pending,
            next_change,
        })
    }

    /// The `kid`s of the retired keys still published (for tests and the admin answer).
    fn retired_kids(&self, now: u64) -> Vec<String> {
        self.retired
            .iter()
            .filter(|r| now < r.publish_until)
            .filter_map(|r| r.key.kid().map(str::to_owned))
            .collect()
    }
}

/// The issuing backend's keys: the current snapshot (with its JWKS document).
pub(crate) struct LocalKeys {
    current: RwLock<Arc<Keyring>>,
    /// `kid`s revoked (or distrusted from the start): never trusted again, not even as a key
    /// handed to [`rotate`](Self::rotate). Written under `current`'s write lock.
    distrusted: RwLock<Vec<String>>,
}

impl LocalKeys {
    /// Keys for `signing`, with nothing retired yet.
    pub(crate) fn new(
        config: &JwtConfig,
        clock: &SharedClock,
        signing: SigningKey,
    ) -> Result<Self, JwtError> {
        if config.distrusted_kids.iter().any(|k| k == signing.kid()) {
            return Err(JwtError::DistrustedKid(short(signing.kid())));
        }
        let ring = Keyring::build(
            config,
            clock,
            Arc::new(signing),
            Vec::new(),
            None,
            clock.now(),
        )?;
        Ok(Self {
            current: RwLock::new(Arc::new(ring)),
            distrusted: RwLock::new(config.distrusted_kids.clone()),
        })
    }

    /// The current snapshot, as is (no pruning).
    pub(crate) fn snapshot(&self) -> Arc<Keyring> {
        Arc::clone(&self.current.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Runs `f` on the current snapshot under the read lock: the verify hot path (no pruning,
    /// no `Arc` clone; `f` is synchronous, so the lock is never held across an `await`).
    pub(crate) fn with<T>(&self, f: impl FnOnce(&Keyring) -> T) -> T {
        f(&self.current.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// The current snapshot, with retired keys pruned first if one is due to go.
    pub(crate) fn fresh(
        &self,
        config: &JwtConfig,
        clock: &SharedClock,
    ) -> Result<Arc<Keyring>, JwtError> {
        let now = clock.now();
        let ring = self.snapshot();
        if now < ring.next_change {
            return Ok(ring);
        }
        let mut current = self.current.write().unwrap_or_else(PoisonError::into_inner);
        if now >= current.next_change {
            let next = match current.pending.clone() {
                // The pre-published key's time has come: it signs, the old one retires.
                Some(pending) if now >= pending.signs_from => {
                    let mut retired = current.retired.clone();
                    retired.push(retire(config, &current.signing, pending.signs_from));
                    tracing::info!(
                        kid = pending.key.kid(),
                        previous_kid = current.signing.kid(),
                        "pre-published signing key now signs"
                    );
                    Keyring::build(config, clock, Arc::clone(&pending.key), retired, None, now)?
                }
                pending => Keyring::build(
                    config,
                    clock,
                    Arc::clone(&current.signing),
                    current.retired.clone(),
                    pending,
                    now,
                )?,
            };
            *current = Arc::new(next);
        }
        Ok(Arc::clone(&current))
    }

    /// Makes `new` the signing key; the previous one is retired (see the module docs).
    pub(crate) fn rotate(
        &self,
        config: &JwtConfig,
        clock: &SharedClock,
        new: SigningKey,
    ) -> Result<KeyRotation, JwtError> {
        let mut current = self.current.write().unwrap_or_else(PoisonError::into_inner);
        let old = &current.signing;
        if new.alg() != old.alg() {
            return Err(JwtError::Config(format!(
                "the new signing key is for {}, the backend signs and accepts {} only",
                new.alg(),
                old.alg()
            )));
        }
        let now = clock.now();
        if let Some(pending) = &current.pending {
            return Err(JwtError::Config(format!(
                "a rotation is already scheduled: kid {} signs from {}; rotate again after that",
                pending.key.kid(),
                pending.signs_from
            )));
        }
        let taken = |kid: &str| {
            kid == old.kid()
                || current
                    .retired
                    .iter()
                    .any(|r| now < r.keep_until && r.key.kid() == Some(kid))
        };
        if taken(new.kid()) {
            return Err(JwtError::DuplicateKid(short(new.kid())));
        }
        if self.is_distrusted(new.kid()) {
            return Err(JwtError::DistrustedKid(short(new.kid())));
        }
        let signs_from = now.saturating_add(config.key_prepublish_secs);
        let retiring = retire(config, old, signs_from);
        let rotation = KeyRotation {
            kid: new.kid().to_owned(),
            previous_kid: old.kid().to_owned(),
            previous_published_until: retiring.publish_until,
            signs_from,
        };
        let ring = if signs_from > now {
            // Publish now, sign later (see the module docs).
            let pending = Arc::new(Pending {
                key: Arc::new(new),
                signs_from,
            });
            let signing = Arc::clone(&current.signing);
            let retired = current.retired.clone();
            Keyring::build(config, clock, signing, retired, Some(pending), now)?
        } else {
            let mut retired = current.retired.clone();
            retired.push(retiring);
            Keyring::build(config, clock, Arc::new(new), retired, None, now)?
        };
        *current = Arc::new(ring);
        tracing::info!(
            kid = rotation.kid,
            previous_kid = rotation.previous_kid,
            signs_from,
            previous_published_until = rotation.previous_published_until,
            "signing key rotated"
        );
        Ok(rotation)
    }

    fn is_distrusted(&self, kid: &str) -> bool {
        self.distrusted
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .any(|k| k == kid)
    }

    /// Whether revoking `kid` now would need a replacement signing key: it is the signing
    /// key and no pre-published key can take over.
    pub(crate) fn revoke_needs_replacement(
        &self,
        config: &JwtConfig,
        clock: &SharedClock,
        kid: &str,
    ) -> Result<bool, JwtError> {
        let ring = self.fresh(config, clock)?;
        Ok(ring.signing.kid() == kid && ring.pending.as_ref().is_none_or(|p| p.key.kid() == kid))
    }

    /// Stops trusting `kid` at once (see the module docs, *Revocation*): a retired or
    /// pre-published key leaves the verifiers and the JWKS now, not when its tokens expire;
    /// the signing key is replaced and is **not** retired, so every token it signed is
    /// refused from the next request on. The replacement is the pre-published key if a
    /// rotation is scheduled, else `replacement`. The `kid` is remembered: no later rotation
    /// may bring it back.
    ///
    /// `Ok(None)` (nothing changed) when the signing key must be replaced and `replacement`
    /// is `None`: generate one (outside any lock: an RSA key takes a while) and call again.
    pub(crate) fn revoke(
        &self,
        config: &JwtConfig,
        clock: &SharedClock,
        kid: &str,
        replacement: Option<SigningKey>,
    ) -> Result<Option<KeyRevocation>, JwtError> {
        // A scheduled switch or a pruning that is due happens first, so `current` is now.
        self.fresh(config, clock)?;
        let mut current = self.current.write().unwrap_or_else(PoisonError::into_inner);
        let now = clock.now();
        let is_signing = current.signing.kid() == kid;
        let pending = current.pending.clone().filter(|p| p.key.kid() != kid);
        let was_trusted = is_signing
            || current.pending.as_ref().is_some_and(|p| p.key.kid() == kid)
            || current
                .retired
                .iter()
                .any(|r| now < r.keep_until && r.key.kid() == Some(kid));
        let retired: Vec<Retired> = current
            .retired
            .iter()
            .filter(|r| r.key.kid() != Some(kid))
            .cloned()
            .collect();
        let (signing, pending, new_signing_kid) = if !is_signing {
            (Arc::clone(&current.signing), pending, None)
        } else if let Some(next) = pending {
            // The pre-published key is in every JWKS fetched since the rotation: it takes
            // over now instead of at `signs_from`.
            let kid = next.key.kid().to_owned();
            (Arc::clone(&next.key), None, Some(kid))
        } else {
            let Some(new) = replacement else {
                return Ok(None);
            };
            if new.alg() != current.signing.alg() {
                return Err(JwtError::Config(format!(
                    "the replacement key is for {}, the backend signs {}",
                    new.alg(),
                    current.signing.alg()
                )));
            }
            if new.kid() == kid
                || self.is_distrusted(new.kid())
                || retired.iter().any(|r| r.key.kid() == Some(new.kid()))
            {
                return Err(JwtError::DistrustedKid(short(new.kid())));
            }
            let kid = new.kid().to_owned();
            (Arc::new(new), None, Some(kid))
        };
        let ring = Keyring::build(config, clock, signing, retired, pending, now)?;
        {
            let mut distrusted = self
                .distrusted
                .write()
                .unwrap_or_else(PoisonError::into_inner);
            if !distrusted.iter().any(|k| k == kid) {
                distrusted.push(kid.to_owned());
            }
        }
        *current = Arc::new(ring);
        tracing::warn!(
            kid,
            was_trusted,
            new_signing_kid = ?new_signing_kid,
            "key revoked: no longer trusted"
        );
        Ok(Some(KeyRevocation {
            kid: kid.to_owned(),
            was_trusted,
            new_signing_kid,
        }))
    }

    /// The `kid`s revoked or distrusted so far.
    pub(crate) fn distrusted(&self) -> Vec<String> {
        self.distrusted
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The rotation scheduled and not yet switched, if any (pruned or switched first if due).
    pub(crate) fn pending_rotation(
        &self,
        config: &JwtConfig,
        clock: &SharedClock,
    ) -> Result<Option<KeyRotation>, JwtError> {
        let ring = self.fresh(config, clock)?;
        Ok(ring.pending.as_ref().map(|p| KeyRotation {
            kid: p.key.kid().to_owned(),
            previous_kid: ring.signing.kid().to_owned(),
            previous_published_until: retire(config, &ring.signing, p.signs_from).publish_until,
            signs_from: p.signs_from,
        }))
    }

    /// The JWKS as published now (pruned first if due).
    pub(crate) fn jwks(&self, config: &JwtConfig, clock: &SharedClock) -> Option<Arc<str>> {
        let ring = self.fresh(config, clock).unwrap_or_else(|e| {
            // Rebuilding from keys that built before cannot fail in practice; keep serving the
            // last document rather than nothing.
            tracing::error!(error = %e, "could not prune retired keys");
            self.snapshot()
        });
        ring.jwks.clone()
    }

    /// `kid`s of retired keys still published at the clock's now.
    pub(crate) fn retired_kids(&self, clock: &SharedClock) -> Vec<String> {
        self.snapshot().retired_kids(clock.now())
    }
}

/// A `kid` short enough to quote in an error.
fn short(kid: &str) -> String {
    kid.chars().take(64).collect()
}

/// The retired form of `old`, which signs its last token before `last_signed`: published
/// until that token has expired (leeway included); under `refresh`, kept a family's lifetime
/// longer for logout.
fn retire(config: &JwtConfig, old: &SigningKey, last_signed: u64) -> Retired {
    let publish_until = last_signed
        .saturating_add(config.policy.ttl_secs)
        .saturating_add(config.policy.leeway_secs);
    let keep_until = if config.revocation == Revocation::Refresh {
        publish_until.saturating_add(config.refresh_ttl_secs)
    } else {
        publish_until
    };
    Retired {
        key: old.verifying_key(),
        public: old.public_jwk_struct().cloned(),
        publish_until,
        keep_until,
    }
}
