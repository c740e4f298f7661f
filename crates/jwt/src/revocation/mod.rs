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
//! A user's *epoch* is a number in Redis (`<prefix>:jwt:epoch:{T}:<hash>`) that only grows, and
//! every token carries the epoch it was issued under, signed, in the private claim `epoch`.
//! The rule is one comparison with no clock in it:
//!
//! > a token is revoked by "log out everywhere" **iff its `epoch` is lower than the user's
//! > epoch now** (no epoch stored: nothing is revoked).
//!
//! - `issue` reads the user's epoch (one script, one round trip) and signs it into the token.
//!   When the user has none yet, the script first creates it at a floor (below), so the token
//!   carries a value every later raise must exceed.
//! - `revoke_all` raises it (one script, one round trip) to `max(current + 1, floor)`:
//!   strictly above every value any token could have read before.
//!
//! **Why this is correct under concurrency.** Redis runs each script atomically, and both
//! scripts touch only the user's epoch key, so every `issue` read and every raise of one user
//! fall into one total order (on a cluster, the order of the slot's master). A raise makes
//! the epoch strictly larger than every value read before it, and epochs never go down, so:
//!
//! - a token whose read came **before** a raise carries a lower number than the epoch from
//!   then on: revoked, at once and for the rest of its life;
//! - a token whose read came **after** the last raise carries exactly the current epoch: valid
//!   at once, in the same millisecond, on every instance (nothing to round, nothing to wait
//!   for);
//! - a login racing a `revoke_all` read either before the raise or after it; there is no third
//!   case, so it ends either revoked or valid-and-newer, never valid-but-older.
//!
//! The earlier design compared the token's `iat` with the second of the logout; whole seconds
//! cannot order a login within the logout's second, so that login was dead on arrival (and so
//! was the credential `POST /password` hands back). The read at issue is what a clock cannot
//! give: a place in the same order as the revocation.
//!
//! **The floor, and letting Redis forget.** The key expires `ttl + leeway + 1` seconds after
//! it was last raised or created: by then every token that read an older value has expired by
//! itself. Tokens that read the last value may still be alive, so a later raise must go above
//! it even though Redis has forgotten it: the floor is `now × 1000` (the issuer's clock, in
//! seconds, times 1000), and the raise takes `max(current + 1, floor)`. A forgotten value was
//! at most `(now − ttl − leeway − 1) × 1000` plus one per raise beyond 1,000 a second, so the
//! floor is above it as long as the instances' clocks agree within the token lifetime (they
//! must agree within the 5 s leeway anyway for `exp` to mean anything). The floor also keeps
//! an `epoch` cache that remembers a forgotten value from rejecting tokens issued after Redis
//! forgot it. Within one key's life the clock plays no part: ordering is Redis's. (A raise's
//! floor is `now × 1000 + 1`, one above what a login creates in the same second.)
//!
//! **A Redis that forgot** (a restart without persistence, a failover to a replica that had
//! not seen the writes, a `FLUSHALL`). The read at issue extends the epoch key's life to at
//! least `ttl + leeway + 1` seconds from then, so while a token that read an epoch is alive,
//! that epoch key exists: an epoch key that is *absent* for a live token carrying an `epoch`
//! claim cannot happen unless Redis lost data. The `denylist` check reads the epoch in the same
//! `MGET` as the `jti`, so it notices at no extra cost and **fails closed**: such a token is
//! refused (`Unavailable`, 503, whatever `insecure_fail_open` says), for the rest of its life,
//! since nothing recreates its user's key except a new login, whose floor (`now × 1000`) is
//! above any epoch read in an earlier second. Every token issued before the loss is refused;
//! the user logs in again. The denied `jti`s the loss took with it therefore cannot bring a
//! logged-out token back. (The one case the floor cannot order, a token that read an epoch in
//! the very second of the loss followed by a new login in that second, needs the loss, a
//! login and the old token's reuse within one second.) The `epoch` strategy verifies from its
//! local cache and does not detect a loss this way.
//!
//! A token without the claim (minted elsewhere with our key) counts as epoch 0, the oldest:
//! revoked as soon as the user has an epoch. Keys hash the subject, so odd user names never
//! shape key names; epochs stay below 2^53, so they are exact in Lua and in JavaScript.
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
//! `issue` (which reads the epoch under `denylist` and `epoch`), `revoke`, `revoke_all` and
//! `refresh` always need Redis and always fail closed.
//!
//! # Layout
//!
//! - [`Revocation`] (here): the strategy names; `UserEpoch`, the shared epoch key and its two
//!   scripts (read at issue, raise at revoke-all).
//! - `denylist`: the `jti` deny-list.
//! - `epoch`: the cached epoch and its pub/sub subscriber.
//! - `refresh`: refresh-token families, rotation and reuse detection.
//! - `strategy`: `Strategy`, the state of the configured one, and the one place that dispatches
//!   on it: what each strategy adds to the backend's issue, verify, revoke, revoke-all, refresh
//!   and identity update, or the `Unsupported` it answers instead.

mod denylist;
mod epoch;
mod refresh;
mod strategy;

pub use epoch::EpochStats;
pub use refresh::REFRESH_TOKEN_BYTES;
pub(crate) use strategy::{Bound, Checked, Strategy};

use std::time::{Duration, Instant};

use authbench_core::{Authenticator, Error, ErrorClass, ErrorKind, RevocationModel};
use authbench_store::{LuaScript, Store, StoreError, UserSlot, tagged_key};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// How tokens are revoked before they expire: each strategy is a configuration of the same
/// backend (see the [module docs](self) for the table). The names live in `authbench-spec`,
/// so the measurement half can name a strategy without linking this crate.
pub use authbench_spec::Revocation;

/// The core's name for a strategy's model.
pub(crate) fn model(revocation: Revocation) -> RevocationModel {
    match revocation {
        Revocation::Denylist => RevocationModel::Denylist,
        Revocation::Epoch => RevocationModel::Epoch,
        Revocation::Refresh => RevocationModel::RefreshRotation,
        Revocation::None => RevocationModel::None,
    }
}

/// base64url(SHA-256(`bytes`)): fixed-length, tidy key material for subjects and refresh
/// tokens.
pub(crate) fn sha256_b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes))
}

/// How many epoch values one second of the issuer's clock spans in the floor (`now × 1000`):
/// up to 1,000 raises a second for one user before the epoch runs ahead of the floor (it
/// stays correct then too, see the module docs: only the forgetting margin shrinks).
pub(crate) const EPOCH_FLOOR_PER_SECOND: u64 = 1_000;

/// Raises a user's epoch to `max(current + 1, ARGV[1])` (ARGV[1] = the floor), keeps the key
/// `ARGV[2]` seconds, and, when `ARGV[3]` names a channel, publishes `"<epoch> <subject>"`
/// (`ARGV[4]` = subject) there, in the same atomic step, so no subscriber can see the key
/// without the message following.
///
/// The `+ 1` is the whole point: the new epoch is strictly above every value an `issue` has
/// read before, so those tokens are revoked and any token read after is not. Numbers are
/// compared with `tonumber` (exact below 2^53) and written by Redis itself (`INCR`) or as the
/// caller's decimal string, never through Lua's `%.14g` number formatting, which would round
/// a 16-digit epoch.
///
/// KEYS[1] = epoch key. Returns the epoch now in force, as a decimal string.
const RAISE_EPOCH_LUA: &str = r#"
local cur = redis.call('GET', KEYS[1])
local new
if (not cur) or tonumber(cur) < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
  new = ARGV[1]
else
  redis.call('INCR', KEYS[1])
  redis.call('EXPIRE', KEYS[1], ARGV[2])
  new = redis.call('GET', KEYS[1])
end
if ARGV[3] ~= '' then
  redis.call('PUBLISH', ARGV[3], new .. ' ' .. ARGV[4])
end
return new
"#;

/// The read at issue: the user's epoch, created at the floor `ARGV[1]` (kept `ARGV[2]` seconds)
/// when the user has none, so the token carries a value a later raise must exceed even after
/// Redis has forgotten an older one. An existing key's life is extended to at least `ARGV[2]`
/// seconds (`EXPIRE … GT`, never shortened): so **while any token that read it is alive, the
/// key exists**, and a verify that finds no epoch for a token carrying one knows Redis lost
/// its data (see "A Redis that forgot" in the module docs).
///
/// KEYS[1] = epoch key. Returns the epoch in force, as a decimal string.
const READ_EPOCH_LUA: &str = r#"
local cur = redis.call('GET', KEYS[1])
if cur then
  redis.call('EXPIRE', KEYS[1], ARGV[2], 'GT')
  return cur
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return ARGV[1]
"#;

/// The per-user epoch, shared by `denylist` and `epoch`: key names, the read at issue and the
/// raise.
#[derive(Debug)]
pub(crate) struct UserEpoch {
    /// `<prefix>:jwt:epoch:`, followed by `{tag}:` and base64url(SHA-256(subject)): in the
    /// user's Redis Cluster slot (see `authbench_store::slot`), beside the user's denied `jti`s.
    key_prefix: String,
    /// The raise-and-publish script.
    raise: LuaScript,
    /// The read-or-create script of `issue`.
    read: LuaScript,
    /// `ttl + leeway + 1`, formatted once: after that long every token an epoch could revoke
    /// has expired by itself, so Redis may forget the epoch.
    key_ttl_arg: String,
}

impl UserEpoch {
    pub(crate) fn new(prefix: &str, token_ttl_secs: u64, leeway_secs: u64) -> Self {
        Self {
            key_prefix: format!("{prefix}:jwt:epoch:"),
            raise: LuaScript::new(RAISE_EPOCH_LUA),
            read: LuaScript::new(READ_EPOCH_LUA),
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

    pub(crate) fn scripts(&self) -> [&LuaScript; 2] {
        [&self.raise, &self.read]
    }

    /// The floor an `issue` creates a missing epoch at: `now × 1000` (see the module docs).
    fn created_floor(now: u64) -> String {
        now.saturating_mul(EPOCH_FLOOR_PER_SECOND).to_string()
    }

    /// The floor of a raise: one above [`created_floor`](Self::created_floor) of the same
    /// second, so a raise on a Redis that lost its data still revokes the tokens whose epoch a
    /// login created in that very second.
    fn raise_floor(now: u64) -> String {
        now.saturating_mul(EPOCH_FLOOR_PER_SECOND)
            .saturating_add(1)
            .to_string()
    }

    /// The epoch a token issued now must carry: `subject`'s epoch, created at the floor if the
    /// user has none; one round trip. Any Redis failure fails the issue (closed).
    pub(crate) async fn read(&self, store: &Store, subject: &str, now: u64) -> Result<u64, Error> {
        let key = self.key(subject);
        let reply = store
            .run(
                &self.read,
                &[&key],
                &[&Self::created_floor(now), &self.key_ttl_arg],
            )
            .await?;
        epoch_reply(&reply)
    }

    /// Raises `subject`'s epoch above every value read so far and to at least the floor at
    /// `now` (publishing on `channel` if given); one round trip. Returns the epoch in force.
    pub(crate) async fn raise(
        &self,
        store: &Store,
        subject: &str,
        now: u64,
        channel: Option<&str>,
    ) -> Result<u64, Error> {
        let key = self.key(subject);
        // A revocation: confirmed by a replica first under `revocation_durability = replica`.
        let reply = store
            .run_write(
                &self.raise,
                &[&key],
                &[
                    &Self::raise_floor(now),
                    &self.key_ttl_arg,
                    channel.unwrap_or(""),
                    subject,
                ],
            )
            .await?;
        epoch_reply(&reply)
    }
}

/// Reads a script's epoch answer (a decimal string; an integer from an older script).
fn epoch_reply(reply: &redis::Value) -> Result<u64, Error> {
    let parsed = match reply {
        redis::Value::BulkString(bytes) => std::str::from_utf8(bytes)
            .ok()
            .and_then(|s| s.parse::<u64>().ok()),
        redis::Value::SimpleString(s) => s.parse::<u64>().ok(),
        redis::Value::Int(n) => u64::try_from(*n).ok(),
        _ => None,
    };
    parsed.ok_or_else(|| {
        Error::new(
            ErrorKind::Internal,
            "the revocation epoch script answered something that is not a number",
        )
    })
}

/// The rule, in one place: a token that read epoch `token_epoch` at issue is revoked iff the
/// user's epoch is now higher (see the module docs for why that orders logins and revocations
/// without ties).
pub(crate) fn revoked_by_epoch(token_epoch: u64, epoch: Option<u64>) -> Option<Error> {
    match epoch {
        Some(epoch) if token_epoch < epoch => Some(Error::new(
            ErrorKind::Revoked,
            format!(
                "issued under epoch {token_epoch}, before the user's revocation raised it to {epoch}"
            ),
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
        assert_eq!(model(Revocation::Refresh), RevocationModel::RefreshRotation);
    }

    #[test]
    fn only_a_lower_epoch_is_revoked() {
        assert!(
            revoked_by_epoch(99, Some(100)).is_some(),
            "read before the raise"
        );
        assert!(
            revoked_by_epoch(100, Some(100)).is_none(),
            "read after the raise: valid, however close in time"
        );
        assert!(revoked_by_epoch(101, Some(100)).is_none());
        assert!(revoked_by_epoch(0, None).is_none());
        assert!(revoked_by_epoch(0, Some(1)).is_some(), "no claim = oldest");
        assert!(parse_epoch(Some("x")).is_err());
        assert_eq!(parse_epoch(Some("7")).ok(), Some(Some(7)));
    }

    #[test]
    fn epoch_replies_parse_and_junk_fails_closed() {
        let bulk = redis::Value::BulkString(b"1764754000001".to_vec());
        assert_eq!(epoch_reply(&bulk).ok(), Some(1_764_754_000_001));
        assert_eq!(epoch_reply(&redis::Value::Int(5)).ok(), Some(5));
        assert!(epoch_reply(&redis::Value::Nil).is_err());
        assert!(epoch_reply(&redis::Value::BulkString(b"1.7e15".to_vec())).is_err());
    }
}
