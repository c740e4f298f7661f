//! Redis: the key names and the Lua scripts that keep each operation to one round trip. The
//! connection itself (NODELAY, timeouts, the fail-fast deadline, `EVALSHA` with its fallback)
//! is `authbench-store`'s, shared with the JWT revocation strategies.
//!
//! # Why scripts
//!
//! Verifying a session means: read the record, judge the idle and absolute timeouts, slide
//! `last_seen` and the key's TTL, answer. As separate commands that is two or three round trips
//! and a race (two requests could both read, both judge, both write). A Lua script runs inside
//! Redis, atomically, in **one** round trip. The script is sent once and then called by its
//! SHA-1 (`EVALSHA`); if Redis has forgotten it (a restart), we fall back to `EVAL` once, which
//! also teaches Redis the script again.
//!
//! # Why the clock is an argument
//!
//! "Now" comes from the backend's injected clock and is passed to the script, so tests move
//! time instead of sleeping, and the judgement is the same whatever Redis's own clock says.
//! Redis's TTL is only garbage collection: it is set (and slid) so abandoned sessions do not
//! pile up, never trusted to end a session on time.
//!
//! # Keys
//!
//! Every key carries the owner's **slot tag** `{T}` (2 characters of SHA-256(subject), see
//! `authbench_store::slot`), so a user's sessions and index share one Redis Cluster hash slot
//! while different users spread over the cluster. The same layout serves a single Redis.
//!
//! - `<prefix>:session:{T}:<SHA-256(secret)>`: a hash with fields `sub`, `ten`, `roles` (a
//!   JSON array), `created` and `seen` (Unix seconds). A hash rather than a JSON blob: the hot
//!   path updates `seen` alone (`HSET`) without rewriting the record, scripts read fields
//!   without a JSON parser, and `HGETALL` in `redis-cli` is readable. `T` comes from the
//!   presented ID itself (`<T>.<secret>`): the server needs nothing else to find the record.
//! - `<prefix>:user:{T}:<SHA-256(subject)>`: a sorted set of the key hashes of the user's
//!   sessions, scored by each session's absolute deadline, for "log out everywhere" and "your
//!   devices". Hashing the subject keeps odd user names out of key names.
//!
//! # Every key named in `KEYS`
//!
//! A script may only touch keys it is given: a key computed inside Lua (the records named by
//! an index) is invisible to the cluster client's routing. So the index operations
//! (`revoke_all`, `list`, `update`) take two round trips: `ZRANGE` for the members, then one
//! script given the index and every record; the script first checks that no member appeared
//! in between (a concurrent login) and asks for a fresh snapshot if one did
//! (`authbench_store::index_guard_lua!`), so "log out everywhere" never misses a session.
//! Verify, issue and revoke stay at one round trip.
//!
//! The index is pruned lazily: each login drops the members past their absolute deadline
//! (`ZREMRANGEBYSCORE`), and `list`, `update` and `revoke_all` drop members whose record has
//! gone. A single logout deletes the record only (its ID names no index), so its member lingers
//! until one of those, bounded by the absolute timeout.

use crate::error::SessionError;
use authbench_store::{LuaScript, RedisTarget, Store, index_guard_lua};
use redis::Value;
use std::time::Duration;

/// Reads a session, judges it against the clock, slides it, returns it: the one round trip of
/// every verified request.
///
/// KEYS[1] = record. ARGV = now, idle timeout, absolute timeout (seconds).
/// Returns `{"ok", sub, ten, roles, created, seen, deadline}`, or `{"unknown"}`, `{"idle"}`,
/// `{"absolute"}`, `{"corrupt"}`.
const VERIFY_LUA: &str = r#"
local r = redis.call('HMGET', KEYS[1], 'sub', 'ten', 'roles', 'created', 'seen')
if not r[1] then return {'unknown'} end
local now, idle, absolute = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local created, seen = tonumber(r[4]), tonumber(r[5])
if not r[2] or not r[3] or not created or not seen then return {'corrupt'} end
if now - created >= absolute then
  redis.call('DEL', KEYS[1])
  return {'absolute'}
end
if now - seen >= idle then
  redis.call('DEL', KEYS[1])
  return {'idle'}
end
if now > seen then
  seen = now
  redis.call('HSET', KEYS[1], 'seen', ARGV[1])
end
local deadline = math.min(seen + idle, created + absolute)
redis.call('EXPIRE', KEYS[1], math.max(1, deadline - now))
return {'ok', r[1], r[2], r[3], created, seen, deadline}
"#;

/// Creates a session record and adds it to its owner's index.
///
/// KEYS[1] = record, KEYS[2] = index (same slot). ARGV = subject, tenant, roles JSON, now,
/// record TTL, index TTL, key hash (index member), the session's absolute deadline (its
/// score). Returns 1, or 0 if the record already exists (never overwrite: a login must not
/// adopt an existing session).
const ISSUE_LUA: &str = r#"
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'sub', ARGV[1], 'ten', ARGV[2], 'roles', ARGV[3],
           'created', ARGV[4], 'seen', ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[5])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[4])
redis.call('ZADD', KEYS[2], ARGV[8], ARGV[7])
redis.call('EXPIRE', KEYS[2], ARGV[6])
return 1
"#;

/// Revokes every record of a user: the store's shared script (index + its records).
const REVOKE_ALL_LUA: &str = authbench_store::DELETE_INDEXED_LUA;

/// Rewrites the tenant and roles of every session in a user's index ("what the credential
/// says" after an admin change), dropping dead index entries on the way.
///
/// Index calling convention (`index_guard_lua!`); own ARGV = subject, tenant, roles JSON.
/// Returns how many records were rewritten.
///
/// Only `ten` and `roles` change: `created`, `seen` and the key's TTL are left alone, so an
/// update never lengthens a session's life, and a record that has gone (expired, logged out)
/// is never re-created (`HSET` on a missing key would make a record with no owner and no TTL).
/// A record whose `sub` is not the subject is left alone: the index is derived from the
/// subject, so that would be a corrupt store, not ours to "fix".
const UPDATE_LUA: &str = concat!(
    index_guard_lua!(),
    r#"
local updated = 0
for i = 1, n do
  local key, m = KEYS[1 + i], ARGV[1 + i]
  local sub = redis.call('HGET', key, 'sub')
  if not sub then
    redis.call('ZREM', KEYS[1], m)
  elseif sub == ARGV[extra] then
    redis.call('HSET', key, 'ten', ARGV[extra + 1], 'roles', ARGV[extra + 2])
    updated = updated + 1
  end
end
return updated
"#
);

/// Lists a user's live sessions, dropping dead index entries on the way.
///
/// Index calling convention (`index_guard_lua!`); own ARGV = now, idle, absolute.
/// Returns a flat array `hash, created, seen, deadline, hash, …`.
const LIST_LUA: &str = concat!(
    index_guard_lua!(),
    r#"
local now, idle, absolute = tonumber(ARGV[extra]), tonumber(ARGV[extra + 1]), tonumber(ARGV[extra + 2])
local out = {}
for i = 1, n do
  local m = ARGV[1 + i]
  local r = redis.call('HMGET', KEYS[1 + i], 'created', 'seen')
  local created, seen = tonumber(r[1]), tonumber(r[2])
  if not created or not seen then
    redis.call('ZREM', KEYS[1], m)
  elseif now - seen < idle and now - created < absolute then
    table.insert(out, m)
    table.insert(out, created)
    table.insert(out, seen)
    table.insert(out, math.min(seen + idle, created + absolute))
  end
end
return out
"#
);

/// The scripts, built once.
#[derive(Debug)]
pub(crate) struct Scripts {
    pub(crate) verify: LuaScript,
    pub(crate) issue: LuaScript,
    pub(crate) revoke_all: LuaScript,
    pub(crate) list: LuaScript,
    pub(crate) update: LuaScript,
}

impl Scripts {
    fn new() -> Self {
        Self {
            verify: LuaScript::new(VERIFY_LUA),
            issue: LuaScript::new(ISSUE_LUA),
            revoke_all: LuaScript::new(REVOKE_ALL_LUA),
            list: LuaScript::new(LIST_LUA),
            update: LuaScript::new(UPDATE_LUA),
        }
    }

    fn all(&self) -> [&LuaScript; 5] {
        [
            &self.verify,
            &self.issue,
            &self.revoke_all,
            &self.list,
            &self.update,
        ]
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
    ) -> Result<Self, SessionError> {
        let redis = Store::connect_target(target, connect_timeout, response_timeout).await?;
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

    /// Runs `script` under the operation deadline (see [`Store::run`]).
    pub(crate) async fn run(
        &self,
        script: &LuaScript,
        keys: &[&str],
        args: &[&str],
    ) -> Result<Value, SessionError> {
        Ok(self.redis.run(script, keys, args).await?)
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
