//! [`Strategy`]: the revocation strategy's state, and the one place that dispatches on it.
//!
//! The backend's [`Authenticator`](authbench_core::Authenticator) methods each delegate here:
//! what a strategy adds to an issue, a verify, a revoke, … is written once per strategy, next
//! to the other strategies' answers, and the backend keeps to keys and signatures. What a
//! strategy cannot do is said here too, in the `Unsupported` error the caller sees.

use std::future::Future;
use std::time::Duration;

use authbench_core::{Error, ErrorKind, Identity, Principal, SharedClock};
use authbench_store::{RedisTarget, Store};

use super::Revocation;
use super::denylist::Denylist;
use super::epoch::{Epoch, EpochStats};
use super::refresh::{self, Refresh, Rotated};
use crate::JwtConfig;
use crate::error::JwtError;

/// What the backend's local checks (signature and claims) found in a token: the principal
/// and, under `refresh`, its family; under `denylist` and `epoch`, the epoch it was issued
/// under.
pub(crate) struct Checked {
    pub(crate) principal: Principal,
    pub(crate) sid: Option<String>,
    pub(crate) epoch: Option<u64>,
}

/// What a strategy binds into an access token it is about to be signed (`sid`, `epoch`), and
/// hands out beside it (a refresh token). Empty under `none`.
#[derive(Debug, Default)]
pub(crate) struct Bound {
    /// The refresh-token family (`refresh`), so logout can end it.
    pub(crate) sid: Option<String>,
    /// The user's epoch read at issue (`denylist`, `epoch`).
    pub(crate) epoch: Option<u64>,
    /// The family's next refresh token (`refresh`).
    pub(crate) refresh_token: Option<String>,
}

/// The strategy's state (Redis handles, caches, the subscriber task), if it has any.
#[derive(Debug)]
pub(crate) enum Strategy {
    None,
    Denylist(Denylist),
    Epoch(Epoch),
    Refresh(Refresh),
}

impl Strategy {
    /// Connects the strategy's Redis state (`none`: nothing, no connection).
    pub(crate) async fn connect(
        config: &JwtConfig,
        redis: impl Into<RedisTarget>,
    ) -> Result<Self, JwtError> {
        let revocation = config.revocation;
        if !revocation.needs_redis() {
            return Ok(Self::None);
        }
        let store = Store::connect_target(
            &redis.into(),
            config.connect_timeout,
            config.response_timeout,
        )
        .await?;
        // Revocations of `denylist` and `epoch` go through the store's confirmed writes.
        let store = if revocation.has_user_epoch() {
            store.with_durability(config.revocation_durability).await?
        } else {
            store
        };
        let prefix = config.key_prefix.as_str();
        let strategy = match revocation {
            Revocation::Denylist => Self::Denylist(
                Denylist::new(
                    store,
                    prefix,
                    config.longest_token_lifetime(),
                    config.policy.leeway_secs,
                    config.insecure_fail_open,
                )
                .await?,
            ),
            Revocation::Epoch => Self::Epoch(
                Epoch::new(
                    store,
                    prefix,
                    config.longest_token_lifetime(),
                    config.policy.leeway_secs,
                    config.epoch_cache_capacity,
                    config.insecure_fail_open,
                )
                .await?,
            ),
            Revocation::Refresh => {
                Self::Refresh(Refresh::new(store, prefix, config.refresh_ttl_secs).await?)
            }
            Revocation::None => Self::None,
        };
        if config.insecure_fail_open && revocation.has_user_epoch() {
            tracing::warn!(
                revocation = %revocation,
                "INSECURE: --insecure-fail-open: tokens are accepted without their revocation \
                 check while Redis is unavailable"
            );
        }
        Ok(strategy)
    }

    /// The store the strategy keeps its state in (`None` under `none`).
    pub(crate) fn store(&self) -> Option<&Store> {
        match self {
            Self::None => None,
            Self::Denylist(d) => Some(d.store()),
            Self::Epoch(e) => Some(e.store()),
            Self::Refresh(families) => Some(families.store()),
        }
    }

    /// What a token issued now for `who` carries: under `refresh`, a new family (one round
    /// trip) and its first refresh token; under `denylist` and `epoch`, the user's epoch read
    /// from Redis (one round trip), which is what makes the token valid at once after a
    /// revoke-all and revoked by the next one; under `none`, nothing.
    pub(crate) async fn bind(&self, who: &Identity, now: u64) -> Result<Bound, Error> {
        let epoch = match self {
            Self::None => return Ok(Bound::default()),
            Self::Refresh(families) => {
                let started = families.start(who, now).await?;
                return Ok(Bound {
                    sid: Some(started.family_id),
                    epoch: None,
                    refresh_token: Some(started.refresh_token),
                });
            }
            Self::Denylist(d) => d.epoch_for_issue(&who.subject, now).await?,
            Self::Epoch(e) => e.epoch_for_issue(&who.subject, now).await?,
        };
        Ok(Bound {
            epoch: Some(epoch),
            ..Bound::default()
        })
    }

    /// The strategy's part of a verify, after the local checks: `denylist` one `MGET`; `epoch`
    /// the local cache (a `GET` on a miss or while the subscription is down); `none` and
    /// `refresh` nothing. A token without an `epoch` claim counts as epoch 0 (the oldest there
    /// is).
    pub(crate) async fn check(&self, checked: &Checked) -> Result<(), Error> {
        let token_epoch = checked.epoch.unwrap_or(0);
        match self {
            Self::None | Self::Refresh(_) => Ok(()),
            Self::Denylist(d) => d.check(&checked.principal, token_epoch).await,
            Self::Epoch(e) => e.check(&checked.principal.subject, token_epoch).await,
        }
    }

    /// Ends the one token `token` (see [`JwtBackend`](crate::JwtBackend)'s `revoke` for what
    /// each strategy does). `verified` checks it with the backend's current keys and
    /// `verified_tolerant` tolerating expiry for a family's lifetime; each is run only when
    /// the strategy needs it (`verified` is a future, so nothing happens until it is awaited).
    /// An expired token needs nothing: `Ok`.
    pub(crate) async fn revoke(
        &self,
        name: &str,
        token: &str,
        clock: &SharedClock,
        verified: impl Future<Output = Result<Checked, Error>>,
        verified_tolerant: impl FnOnce() -> Result<Checked, Error>,
    ) -> Result<(), Error> {
        match self {
            Self::None => Err(Error::unsupported(name, "revoke a token")),
            Self::Epoch(_) => Err(Error::unsupported(
                name,
                "revoke a single token (an epoch ends all of a user's tokens; use revoke_all)",
            )),
            Self::Denylist(d) => match unless_expired(verified.await)? {
                Some(checked) => d.deny(&checked.principal, clock.now()).await,
                None => Ok(()),
            },
            Self::Refresh(families) => {
                if refresh::looks_like_refresh_token(token) {
                    return families.revoke_by_refresh_token(token).await;
                }
                // Older than any family could be: nothing left to end.
                let Some(checked) = unless_expired(verified_tolerant())? else {
                    return Ok(());
                };
                let sid = checked.sid.ok_or_else(|| {
                    Error::new(ErrorKind::MissingClaim, "claim `sid` is required")
                })?;
                families.revoke_family(&sid).await
            }
        }
    }

    /// Ends every token of `subject`: `denylist` and `epoch` raise the user's epoch (`epoch`
    /// also publishes it); `refresh` revokes every family of the user; `none` cannot.
    pub(crate) async fn revoke_all(
        &self,
        name: &str,
        subject: &str,
        now: u64,
    ) -> Result<(), Error> {
        match self {
            Self::None => Err(Error::unsupported(name, "revoke all tokens of a user")),
            Self::Denylist(d) => d.revoke_all(subject, now).await,
            Self::Epoch(e) => e.revoke_all(subject, now).await,
            Self::Refresh(families) => families.revoke_all(subject).await,
        }
    }

    /// `refresh` only: spends `refresh_token` (at most `max_bytes` long) and returns the
    /// family's current identity with what the new access token binds. Other strategies:
    /// `Unsupported`.
    pub(crate) async fn refresh(
        &self,
        name: &str,
        refresh_token: &str,
        max_bytes: usize,
        clock: &SharedClock,
    ) -> Result<(Identity, Bound), Error> {
        let Self::Refresh(families) = self else {
            return Err(Error::unsupported(name, "refresh"));
        };
        if refresh_token.len() > max_bytes {
            return Err(Error::new(
                ErrorKind::TooLarge,
                format!(
                    "refresh token is {} bytes; the limit is {max_bytes}",
                    refresh_token.len(),
                ),
            ));
        }
        if refresh_token.is_empty() {
            return Err(Error::new(ErrorKind::Missing, "no refresh token presented"));
        }
        let Rotated {
            family_id,
            identity,
            refresh_token,
        } = families.rotate(refresh_token, clock.now()).await?;
        let bound = Bound {
            sid: Some(family_id),
            epoch: None,
            refresh_token: Some(refresh_token),
        };
        Ok((identity, bound))
    }

    /// `refresh` only: rewrites tenant and roles in every family of the user. Other
    /// strategies: `Unsupported` (issued tokens keep their claims until they expire).
    pub(crate) async fn update_identity(&self, name: &str, who: &Identity) -> Result<(), Error> {
        match self {
            Self::Refresh(families) => families.update_identity(who).await,
            _ => Err(Error::unsupported(
                name,
                "change the claims of issued tokens (they keep them until they expire)",
            )),
        }
    }

    /// The `epoch` strategy's cache counters (`None` under other strategies).
    pub(crate) fn epoch_stats(&self) -> Option<EpochStats> {
        match self {
            Self::Epoch(e) => Some(e.stats()),
            _ => None,
        }
    }

    /// Under `epoch`, waits up to `timeout` for the subscription to be live; `true` under the
    /// other strategies, which have none.
    pub(crate) async fn wait_until_subscribed(&self, timeout: Duration) -> bool {
        match self {
            Self::Epoch(e) => e.wait_until_subscribed(timeout).await,
            _ => true,
        }
    }
}

/// A check's result for a revocation: an expired token is `None` (nothing left to end), any
/// other rejection stays an error.
fn unless_expired(checked: Result<Checked, Error>) -> Result<Option<Checked>, Error> {
    match checked {
        Ok(checked) => Ok(Some(checked)),
        Err(e) if e.kind() == ErrorKind::Expired => Ok(None),
        Err(e) => Err(e),
    }
}
