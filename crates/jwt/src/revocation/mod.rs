//! Revocation strategies: how a signed, self-contained token can be ended before its `exp`.
//!
//! A JWT is verified with a key and nothing else, so nothing the server *stores* can end it…
//! unless verification consults something besides the key. Each strategy is a different answer
//! to "consult what, how often, at what cost", and each is a configuration of the same
//! [`JwtBackend`](crate::JwtBackend) ([`JwtConfig::revocation`](crate::JwtConfig::revocation)):
//!
//! | strategy | `revoke(token)` | `revoke_all(sub)` | Redis round trips per verify | a revoked token dies |
//! |---|---|---|---|---|
//! | [`none`](Revocation::None) | `Unsupported` | `Unsupported` | 0 (no Redis at all) | at `exp` |
//! | [`denylist`](Revocation::Denylist) | `jti` stored until `exp` | per-user epoch | **1** (`MGET` of both) | at once |
//! | [`epoch`](Revocation::Epoch) | `Unsupported` | per-user epoch, published | **0** (local cache kept fresh by pub/sub) | after the propagation delay (ms) |
//! | [`refresh`](Revocation::Refresh) | its refresh-token family | all the user's families | **0** | at the access token's short `exp` |
//!
//! # The per-user epoch ("log out everywhere")
//!
//! `revoke_all(sub)` at second `T` records `T` as the user's *epoch*: every token of the user
//! **issued at or before second `T`** (`iat <= T`) is revoked. The same-second rule fails
//! closed: `iat` has whole seconds, so a token issued in the very second of the logout cannot
//! be ordered before or after it, and is treated as issued before. A user who logs in again
//! within that second gets a token that is already revoked and must log in once more. Epochs
//! only move forward (a Lua script keeps the larger), and the key expires once every token it
//! could revoke has expired anyway (`ttl + leeway + 1` seconds after `T`). Keys hash the
//! subject, so odd user names never shape key names.
//!
//! # Redis Cluster
//!
//! Every key carries the user's slot tag (`{T}`, 2 characters of SHA-256(subject); see
//! `authbench_store::slot`): a denied `jti` and its owner's epoch share a slot, so the
//! deny-list check stays one `MGET`; a refresh-token family, its tokens and the user's index
//! share one too, so each script names all its keys and runs on one node. Different users
//! spread over the cluster. The epoch strategy's pub/sub uses classic `PUBLISH`, which a
//! cluster broadcasts to every node, so the subscriber listens on any one node (the seeds in
//! turn) and moves to the next seed when its node dies. The same layout runs on one Redis.
//!
//! # Failing closed
//!
//! When a check needs Redis and Redis cannot answer, `verify` is
//! `ErrorKind::Unavailable` within about a second
//! (the `authbench-store` deadlines), never a success, unless the operator set
//! [`JwtConfig::insecure_fail_open`](crate::JwtConfig::insecure_fail_open), which then accepts
//! on the signature alone, logs a warning per request, and shows in the backend's name.
//! `issue`, `revoke`, `revoke_all` and `refresh` always need Redis and always fail closed.
//!
//! # Layout
//!
//! - [`Revocation`] (here): the strategy names; `NotBefore`, the shared epoch key and script.
//! - `denylist`: the `jti` deny-list.
//! - `epoch`: the cached epoch and its pub/sub subscriber.
//! - `refresh`: refresh-token families, rotation and reuse detection.

pub(crate) mod denylist;
pub(crate) mod epoch;
pub(crate) mod refresh;

pub use epoch::EpochStats;
pub use refresh::REFRESH_TOKEN_BYTES;

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, Instant};

use authbench_core::{Authenticator, Error, ErrorClass, ErrorKind, RevocationModel};
use authbench_store::{LuaScript, Store, StoreError, UserSlot, tagged_key};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// How tokens are revoked before they expire: each strategy is a configuration of the same
/// backend (see the [module docs](self) for the table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Revocation {
    /// No revocation: a token works until it expires. `revoke`, `revoke_all` and `refresh`
    /// return `Unsupported`, and no Redis is needed. The lesson: logout cannot take a
    /// stateless token back.
    #[default]
    None,
    /// Revoked `jti`s are kept in Redis until the token would have expired; a per-user epoch
    /// serves "log out everywhere". One round trip per verify (both checked by one `MGET`).
    Denylist,
    /// A per-user epoch in Redis, cached locally and kept fresh through Redis pub/sub: no round
    /// trip on the common path. Only "log out everywhere": single tokens cannot be revoked.
    Epoch,
    /// Short-lived access tokens (300 s by default) plus rotating, server-side refresh tokens
    /// with reuse detection. Verify is local; logout ends the refresh tokens, and the access
    /// token lives out its short life.
    Refresh,
}

impl Revocation {
    /// Every strategy, in the order of the table above.
    pub const ALL: [Revocation; 4] = [
        Revocation::None,
        Revocation::Denylist,
        Revocation::Epoch,
        Revocation::Refresh,
    ];

    /// The name used on the command line and in backend names.
    pub fn as_str(self) -> &'static str {
        match self {
            Revocation::None => "none",
            Revocation::Denylist => "denylist",
            Revocation::Epoch => "epoch",
            Revocation::Refresh => "refresh",
        }
    }

    /// Whether the strategy keeps state in Redis (and so needs
    /// [`JwtBackend::connect`](crate::JwtBackend::connect)).
    pub fn needs_redis(self) -> bool {
        self != Revocation::None
    }

    /// The core's name for the model.
    pub fn model(self) -> RevocationModel {
        match self {
            Revocation::None => RevocationModel::None,
            Revocation::Denylist => RevocationModel::Denylist,
            Revocation::Epoch => RevocationModel::Epoch,
            Revocation::Refresh => RevocationModel::RefreshRotation,
        }
    }

    /// Store round trips a successful verify costs (the epoch's common, cached path).
    pub fn round_trips_per_verify(self) -> u32 {
        match self {
            Revocation::Denylist => 1,
            Revocation::None | Revocation::Epoch | Revocation::Refresh => 0,
        }
    }
}

impl fmt::Display for Revocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Revocation {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Revocation::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown revocation strategy `{s}` (available: none, denylist, epoch, refresh)"
                )
            })
    }
}

/// base64url(SHA-256(`bytes`)): fixed-length, tidy key material for subjects and refresh
/// tokens.
pub(crate) fn sha256_b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes))
}

/// Raises a user's epoch to `ARGV[1]` (never lowers it), keeps the key `ARGV[2]` seconds, and,
/// when `ARGV[3]` names a channel, publishes `"<epoch> <subject>"` (`ARGV[4]` = subject) there,
/// in the same atomic step, so no subscriber can see the key without the message following.
///
/// KEYS[1] = epoch key. Returns the epoch now in force.
const RAISE_EPOCH_LUA: &str = r#"
local cur = tonumber(redis.call('GET', KEYS[1]) or '-1')
local new = tonumber(ARGV[1])
if new > cur then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
else
  new = cur
end
if ARGV[3] ~= '' then
  redis.call('PUBLISH', ARGV[3], new .. ' ' .. ARGV[4])
end
return new
"#;

/// The per-user epoch, shared by `denylist` and `epoch`: key names and the raise script.
#[derive(Debug)]
pub(crate) struct NotBefore {
    /// `<prefix>:jwt:epoch:`, followed by `{tag}:` and base64url(SHA-256(subject)): in the
    /// user's Redis Cluster slot (see `authbench_store::slot`), beside the user's denied `jti`s.
    key_prefix: String,
    /// The raise-and-publish script.
    raise: LuaScript,
    /// `ttl + leeway + 1`, formatted once: after that long every token an epoch could revoke
    /// has expired by itself, so Redis may forget the epoch.
    key_ttl_arg: String,
}

impl NotBefore {
    pub(crate) fn new(prefix: &str, token_ttl_secs: u64, leeway_secs: u64) -> Self {
        Self {
            key_prefix: format!("{prefix}:jwt:epoch:"),
            raise: LuaScript::new(RAISE_EPOCH_LUA),
            key_ttl_arg: (token_ttl_secs + leeway_secs + 1).to_string(),
        }
    }

    /// The Redis key holding `subject`'s epoch.
    pub(crate) fn key(&self, subject: &str) -> String {
        self.key_of(&UserSlot::of(subject))
    }

    /// The Redis key holding the epoch of `user`.
    pub(crate) fn key_of(&self, user: &UserSlot) -> String {
        tagged_key(&self.key_prefix, user.tag(), user.hash())
    }

    pub(crate) fn scripts(&self) -> [&LuaScript; 1] {
        [&self.raise]
    }

    /// Sets `subject`'s epoch to at least `now` (publishing on `channel` if given); one round
    /// trip. Returns the epoch in force.
    pub(crate) async fn raise(
        &self,
        store: &Store,
        subject: &str,
        now: u64,
        channel: Option<&str>,
    ) -> Result<u64, StoreError> {
        let key = self.key(subject);
        let reply = store
            .run(
                &self.raise,
                &[&key],
                &[
                    &now.to_string(),
                    &self.key_ttl_arg,
                    channel.unwrap_or(""),
                    subject,
                ],
            )
            .await?;
        Ok(match reply {
            redis::Value::Int(n) => u64::try_from(n).unwrap_or(now),
            _ => now,
        })
    }
}

/// The same-second rule, in one place: a token issued at or before the user's epoch is revoked.
pub(crate) fn revoked_by_epoch(iat: u64, epoch: Option<u64>) -> Option<Error> {
    match epoch {
        Some(epoch) if iat <= epoch => Some(Error::new(
            ErrorKind::Revoked,
            format!("issued at {iat}, at or before the user's revocation epoch {epoch}"),
        )),
        _ => None,
    }
}

/// Parses a stored epoch (a decimal string). Anything else is a corrupt record: fail closed.
pub(crate) fn parse_epoch(v: Option<&str>) -> Result<Option<u64>, Error> {
    v.map(|s| {
        s.parse::<u64>().map_err(|_| {
            Error::new(
                ErrorKind::Internal,
                "stored revocation epoch is not a number",
            )
        })
    })
    .transpose()
}

/// What a Redis failure during a *verify* means: `Unavailable` (fail closed), or, when the
/// operator chose `insecure_fail_open`, acceptance on the signature alone, loudly.
pub(crate) fn on_store_failure(e: StoreError, fail_open: bool, what: &str) -> Result<(), Error> {
    if fail_open && e.kind() == ErrorKind::Unavailable {
        tracing::warn!(
            error = %e,
            check = what,
            "INSECURE fail-open: Redis unavailable, accepting a token without its revocation check"
        );
        return Ok(());
    }
    Err(e.into())
}

/// How long a revocation takes to reach another verifier: calls `revoker.revoke_all(subject)`
/// and, from the moment it returns, verifies `token` (a live token of `subject`) on `observer`
/// as fast as it can until it is rejected.
///
/// With the `epoch` strategy and two backends on one Redis, this is the pub/sub propagation
/// delay (publish, delivery, cache update). With `denylist` it is ~0 (the next verify asks
/// Redis); with a session, ~0 as well. Returns the delay, or `Unavailable`-class errors from the
/// calls; [`ErrorKind::Internal`] if the token still verifies after `give_up`.
///
/// # Errors
///
/// Whatever `revoke_all` returns; a non-rejection error from `verify`; `Internal` on timeout.
pub async fn propagation_delay<R: Authenticator, O: Authenticator>(
    revoker: &R,
    observer: &O,
    subject: &str,
    token: &str,
    give_up: Duration,
) -> Result<Duration, Error> {
    revoker.revoke_all(subject).await?;
    let start = Instant::now();
    loop {
        match observer.verify(token).await {
            Err(e) if e.class() == ErrorClass::Rejected => return Ok(start.elapsed()),
            Err(e) => return Err(e),
            Ok(_) if start.elapsed() >= give_up => {
                return Err(Error::new(
                    ErrorKind::Internal,
                    format!("revocation not seen by the observer within {give_up:?}"),
                ));
            }
            // Spin politely: a sleep would round the measurement up to a timer tick (1 ms).
            Ok(_) => tokio::task::yield_now().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_models_match() {
        for r in Revocation::ALL {
            assert_eq!(r.as_str().parse::<Revocation>(), Ok(r));
        }
        assert!("nope".parse::<Revocation>().is_err());
        assert_eq!(Revocation::Denylist.round_trips_per_verify(), 1);
        assert_eq!(Revocation::Epoch.round_trips_per_verify(), 0);
        assert!(!Revocation::None.needs_redis());
        assert_eq!(
            Revocation::Refresh.model(),
            RevocationModel::RefreshRotation
        );
    }

    #[test]
    fn same_second_is_revoked_fail_closed() {
        assert!(revoked_by_epoch(99, Some(100)).is_some());
        assert!(revoked_by_epoch(100, Some(100)).is_some(), "same second");
        assert!(revoked_by_epoch(101, Some(100)).is_none());
        assert!(revoked_by_epoch(0, None).is_none());
        assert!(parse_epoch(Some("x")).is_err());
        assert_eq!(parse_epoch(Some("7")).ok(), Some(Some(7)));
    }
}
