//! Redis: the key names and the Lua scripts that keep each operation to one round trip. The
//! connection itself (NODELAY, timeouts, the fail-fast deadline, `EVALSHA` with its fallback)
//! is `authbench-store`'s, shared with the JWT revocation strategies.
//!
//! # One round trip, no script, on the hot path
//!
//! Verifying a session means: read the record, judge the idle and absolute timeouts, slide the
//! idle deadline, answer. That is **one pipelined round trip of two plain commands**:
//!
//! ```text
//! EXPIRETIME <record>                      -> the idle deadline the last request set
//! GETEX      <record> EXAT <now + idle>    -> the record, and the deadline slides
//! ```
//!
//! The idle deadline *is* the key's expiry: every verify sets it to `now + idle`, so Redis
//! itself ends an unused session (with one clock, that alone is the idle timeout). The
//! backend still judges both timeouts against its injected clock: `EXPIRETIME` says when the
//! previous request wanted the session to end, the record says when it was created (the
//! absolute deadline is `created + absolute`). A record past either is deleted with one more
//! `DEL`, on the rejection path only.
//!
//! An earlier version ran a Lua script per verify (`HMGET`, compare, `HSET seen`, `EXPIRE`).
//! Measured against `redis-benchmark GET` and against tower-sessions' Redis store, the script
//! machinery cost Redis about as much CPU as the lookup itself; two plain commands in one write
//! cost it little more than one `GET`. What that changed, on purpose:
//!
//! - **No `seen` field.** "Last seen" is `EXPIRETIME - idle`, read where it is needed
//!   (the `list` script below); nothing is written per request except the expiry.
//! - **The Redis TTL is no longer capped at the absolute deadline.** It is `now + idle`; a
//!   record past its absolute deadline is refused (and deleted) by its next verify, and Redis
//!   drops an unused one at most one idle period later. The deadline a verify *reports* is
//!   still `min(now + idle, created + absolute)`.
//! - **A clock that steps back shortens, never lengthens.** The new deadline is the new
//!   `now + idle`: never more than one idle period ahead of the clock that judged it.
//! - **Not atomic, and harmless so.** A pipeline is not a transaction: a logout between the
//!   two commands makes `GETEX` find nothing (unknown session); an admin rewrite in between
//!   keeps the expiry (`KEEPTTL`). The one window it opens needs two clocks that disagree: when
//!   the backend's clock says "idle" while Redis still holds the record, `GETEX` has slid it,
//!   and only the rejection path's `DEL` ends it; should that `DEL` fail, the answer is 503 and
//!   a later verify could find the record alive. With the system clock on both sides Redis has
//!   already dropped such a record.
//!
//! # Why the clock is an argument
//!
//! "Now" comes from the backend's injected clock and every expiry is written as an absolute
//! time in that clock (`EXAT`), so tests move time instead of sleeping, and the judgement is
//! the same whatever Redis's own clock says.
//!
//! # Keys and records
//!
//! Every key carries the owner's **slot tag** `{T}` (2 characters of SHA-256(subject), see
//! `authbench_store::slot`), so a user's sessions and index share one Redis Cluster hash slot
//! while different users spread over the cluster. The same layout serves a single Redis.
//!
//! - `<prefix>:session:{T}:<SHA-256(secret)>`: a string, `<created>|<identity JSON>`, e.g.
//!   `1764000000|{"sub":"alice","ten":"acme","roles":["user"]}`. A string rather than a hash:
//!   one `GETEX` reads and slides it, and it is a third of the memory of a hash's listpack.
//!   `T` comes from the presented ID itself (`<T>.<secret>`): the server needs nothing else to
//!   find the record.
//! - `<prefix>:user:{T}:<SHA-256(subject)>`: a sorted set of the key hashes of the user's
//!   sessions, scored by each session's absolute deadline, for "log out everywhere" and "your
//!   devices". Hashing the subject keeps odd user names out of key names.
//!
//! # Scripts where several keys move together
//!
//! Issuing (record + index) stays one scripted round trip. A script may only touch keys it is
//! given: a key computed inside Lua (the records named by an index) is invisible to the cluster
//! client's routing. So the index operations (`revoke_all`, `list`, `update`) take two round
//! trips: `ZRANGE` for the members, then one script given the index and every record; the
//! script first checks that no member appeared in between (a concurrent login) and asks for a
//! fresh snapshot if one did (`authbench_store::index_guard_lua!`), so "log out everywhere"
//! never misses a session.
//!
//! The index is pruned lazily: each login drops the members past their absolute deadline
//! (`ZREMRANGEBYSCORE`), and `list`, `update` and `revoke_all` drop members whose record has
//! gone. A single logout deletes the record only (its ID names no index), so its member lingers
//! until one of those, bounded by the absolute timeout.

use crate::error::SessionError;
use authbench_core::Identity;
use authbench_store::{Durability, LuaScript, RedisTarget, Store, index_guard_lua};
use redis::Value;
use std::time::Duration;

/// Separates the creation time from the identity JSON in a record (`<created>|<json>`).
const RECORD_SEPARATOR: char = '|';

/// A session record as stored: when it was created and whom it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Record {
    /// Login time, Unix seconds by the backend's clock: the absolute deadline's origin.
    pub(crate) created: u64,
    /// Subject, tenant, roles.
    pub(crate) identity: Identity,
}

/// The identity part of a record, as JSON with short names (`sub`, `ten`, `roles`).
#[derive(serde::Serialize, serde::Deserialize)]
struct StoredIdentity<S> {
    sub: S,
    ten: S,
    roles: Vec<S>,
}

/// `{"sub":…,"ten":…,"roles":[…]}`: the part of a record an admin change rewrites.
pub(crate) fn identity_json(who: &Identity) -> Result<String, SessionError> {
    serde_json::to_string(&StoredIdentity {
        sub: who.subject.as_str(),
        ten: who.tenant.as_str(),
        roles: who.roles.iter().map(String::as_str).collect(),
    })
    .map_err(|e| SessionError::CorruptRecord(format!("identity not serialisable: {e}")))
}

impl Record {
    /// `<created>|<identity JSON>`.
    pub(crate) fn encode(created: u64, who: &Identity) -> Result<String, SessionError> {
        Ok(format!(
            "{created}{RECORD_SEPARATOR}{}",
            identity_json(who)?
        ))
    }

    /// Parses what [`encode`](Self::encode) wrote; anything else is a corrupt record.
    pub(crate) fn decode(bytes: &[u8]) -> Result<Self, SessionError> {
        let corrupt = |why: &str| SessionError::CorruptRecord(why.to_owned());
        let text = std::str::from_utf8(bytes).map_err(|_| corrupt("record is not UTF-8"))?;
        let (created, json) = text
            .split_once(RECORD_SEPARATOR)
            .ok_or_else(|| corrupt("record has no creation time"))?;
        let created = created
            .parse()
            .map_err(|_| corrupt("record's creation time is not a number"))?;
        let stored: StoredIdentity<String> = serde_json::from_str(json)
            .map_err(|e| corrupt(&format!("record's identity is not ours: {e}")))?;
        Ok(Self {
            created,
            identity: Identity {
                subject: stored.sub,
                tenant: stored.ten,
                roles: stored.roles,
            },
        })
    }
}

/// Creates a session record and adds it to its owner's index.
///
/// KEYS[1] = record, KEYS[2] = index (same slot). ARGV = record value, record expiry (absolute
/// Unix time: now + initial lifetime), now, key hash (index member), the session's absolute
/// deadline (its score), index TTL (seconds). Returns 1, or 0 if the record already exists
/// (never overwrite: a login must not adopt an existing session).
const ISSUE_LUA: &str = r#"
if not redis.call('SET', KEYS[1], ARGV[1], 'EXAT', ARGV[2], 'NX') then return 0 end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[5], ARGV[4])
redis.call('EXPIRE', KEYS[2], ARGV[6])
return 1
"#;

/// Revokes every record of a user: the store's shared script (index + its records).
const REVOKE_ALL_LUA: &str = authbench_store::DELETE_INDEXED_LUA;

/// Rewrites the identity of every session in a user's index ("what the credential says"
/// after an admin change), dropping dead index entries on the way.
///
/// Index calling convention (`index_guard_lua!`); own ARGV = subject, new identity JSON.
/// Returns how many records were rewritten.
///
/// Only the identity changes: `created` and the key's expiry are kept (`KEEPTTL`), so an
/// update never lengthens a session's life, and a record that has gone (expired, logged out)
/// is never re-created (`XX`). A record whose `sub` is not the subject is left alone: the index
/// is derived from the subject, so that would be a corrupt store, not ours to "fix". Lua only
/// *decodes* JSON here (cjson); the new identity is encoded by the backend, so the record's
/// format has one writer.
const UPDATE_LUA: &str = concat!(
    index_guard_lua!(),
    r#"
local updated = 0
for i = 1, n do
  local key, m = KEYS[1 + i], ARGV[1 + i]
  local v = redis.call('GET', key)
  if not v then
    redis.call('ZREM', KEYS[1], m)
  else
    local created, rest = string.match(v, '^(%d+)|(.*)$')
    if created then
      local ok, id = pcall(cjson.decode, rest)
      if ok and type(id) == 'table' and id.sub == ARGV[extra] then
        redis.call('SET', key, created .. '|' .. ARGV[extra + 1], 'KEEPTTL', 'XX')
        updated = updated + 1
      end
    end
  end
end
return updated
"#
);

/// Lists a user's live sessions, dropping dead index entries on the way.
///
/// Index calling convention (`index_guard_lua!`); own ARGV = now, idle, absolute.
/// Returns a flat array `hash, created, seen, deadline, hash, …`, where `seen` is the key's
/// expiry minus the idle timeout (each verify sets the expiry to `now + idle`).
const LIST_LUA: &str = concat!(
    index_guard_lua!(),
    r#"
local now, idle, absolute = tonumber(ARGV[extra]), tonumber(ARGV[extra + 1]), tonumber(ARGV[extra + 2])
local out = {}
for i = 1, n do
  local m = ARGV[1 + i]
  local v = redis.call('GET', KEYS[1 + i])
  local created = v and tonumber(string.match(v, '^(%d+)|'))
  local expires = redis.call('EXPIRETIME', KEYS[1 + i])
  if not created or expires < 0 then
    redis.call('ZREM', KEYS[1], m)
  elseif now < expires and now - created < absolute then
    table.insert(out, m)
    table.insert(out, created)
    table.insert(out, math.max(created, expires - idle))
    table.insert(out, math.min(expires, created + absolute))
  end
end
return out
"#
);

/// The scripts, built once.
#[derive(Debug)]
pub(crate) struct Scripts {
    pub(crate) issue: LuaScript,
    pub(crate) revoke_all: LuaScript,
    pub(crate) list: LuaScript,
    pub(crate) update: LuaScript,
}

impl Scripts {
    fn new() -> Self {
        Self {
            issue: LuaScript::new(ISSUE_LUA),
            revoke_all: LuaScript::new(REVOKE_ALL_LUA),
            list: LuaScript::new(LIST_LUA),
            update: LuaScript::new(UPDATE_LUA),
        }
    }

    fn all(&self) -> [&LuaScript; 4] {
        [&self.issue, &self.revoke_all, &self.list, &self.update]
    }
}

/// The session backend's view of Redis: the shared connection from `authbench-store` (which
/// owns NODELAY, the timeouts and the fail-fast deadline) plus this crate's scripts.
pub(crate) struct SessionStore {
    redis: Store,
    pub(crate) scripts: Scripts,
}

impl std::fmt::Debug for SessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionStore")
            .field("redis", &self.redis)
            .finish_non_exhaustive()
    }
}

impl SessionStore {
    /// Connects, loads the scripts, and fails fast (within about `connect_timeout +
    /// response_timeout`) if Redis is not there.
    pub(crate) async fn connect(
        target: &RedisTarget,
        connect_timeout: Duration,
        response_timeout: Duration,
        durability: Durability,
    ) -> Result<Self, SessionError> {
        let redis = Store::connect_target(target, connect_timeout, response_timeout)
            .await?
            .with_durability(durability)
            .await?;
        let scripts = Scripts::new();
        redis.load_scripts(&scripts.all()).await?;
        Ok(Self { redis, scripts })
    }

    /// `host:port` of the Redis server, or `cluster[…]`.
    pub(crate) fn addr(&self) -> &str {
        self.redis.addr()
    }

    /// The shared connection, for plain commands.
    pub(crate) fn redis(&self) -> &Store {
        &self.redis
    }

    /// The hot path: `EXPIRETIME key` and `GETEX key EXAT slide_to`, pipelined (one write,
    /// one round trip). Returns the expiry the previous request set (Unix seconds; -2 when the
    /// key did not exist, -1 when it had no expiry) and the record, if any.
    pub(crate) async fn read_and_slide(
        &self,
        key: &str,
        slide_to: u64,
    ) -> Result<(i64, Option<Vec<u8>>), SessionError> {
        let mut pipe = redis::pipe();
        pipe.cmd("EXPIRETIME")
            .arg(key)
            .cmd("GETEX")
            .arg(key)
            .arg("EXAT")
            .arg(slide_to);
        Ok(self.redis.pipeline(&pipe).await?)
    }

    /// Runs `script` under the operation deadline (see [`Store::run`]).
    pub(crate) async fn run(
        &self,
        script: &LuaScript,
        keys: &[&str],
        args: &[&str],
    ) -> Result<Value, SessionError> {
        Ok(self.redis.run(script, keys, args).await?)
    }

    /// Runs a revoking `script` over the index `index`, confirmed as the store's durability
    /// says (see [`Store::run_indexed_write`]).
    pub(crate) async fn run_indexed_write(
        &self,
        script: &LuaScript,
        index: &str,
        record_key: impl Fn(&str) -> String,
        args: &[&str],
    ) -> Result<Value, SessionError> {
        Ok(self
            .redis
            .run_indexed_write(script, index, record_key, args)
            .await?)
    }

    /// Runs `script` over the index `index` (see [`Store::run_indexed`]).
    pub(crate) async fn run_indexed(
        &self,
        script: &LuaScript,
        index: &str,
        record_key: impl Fn(&str) -> String,
        args: &[&str],
    ) -> Result<Value, SessionError> {
        Ok(self
            .redis
            .run_indexed(script, index, record_key, args)
            .await?)
    }
}
