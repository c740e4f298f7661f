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
//! - `<prefix>:session:<SHA-256(ID)>`: a hash with fields `sub`, `ten`, `roles` (a JSON array),
//!   `created`, `seen` (Unix seconds) and `idx` (the name of the owner's index key). A hash
//!   rather than a JSON blob: the hot path updates `seen` alone (`HSET`) without rewriting the
//!   record, scripts read fields without a JSON parser, and `HGETALL` in `redis-cli` is readable.
//! - `<prefix>:user:<SHA-256(subject)>`: a set of the key hashes of the user's sessions, for
//!   "log out everywhere". Hashing the subject keeps odd user names out of key names.
//!
//! The index is pruned lazily (a few random members checked at each login, dead ones dropped
//! by `list_sessions`, `update_identity` and `revoke_all`) instead of on every expiry, which keeps the hot path
//! to a single key.
//!
//! Scripts that touch the index reach keys they compute inside Redis (the index named in a
//! record, the records named in an index). Standalone Redis allows that; Redis Cluster does
//! not, and would need these keys in one hash slot. That is future work (see the README).

use crate::error::SessionError;
use authbench_store::{LuaScript, Store};
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
/// KEYS[1] = record, KEYS[2] = index. ARGV = subject, tenant, roles JSON, now, record TTL,
/// index TTL, key hash (index member), record key prefix. Returns 1, or 0 if the record
/// already exists (never overwrite: a login must not adopt an existing session).
const ISSUE_LUA: &str = r#"
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'sub', ARGV[1], 'ten', ARGV[2], 'roles', ARGV[3],
           'created', ARGV[4], 'seen', ARGV[4], 'idx', KEYS[2])
redis.call('EXPIRE', KEYS[1], ARGV[5])
for _, m in ipairs(redis.call('SRANDMEMBER', KEYS[2], 3)) do
  if redis.call('EXISTS', ARGV[8] .. m) == 0 then redis.call('SREM', KEYS[2], m) end
end
redis.call('SADD', KEYS[2], ARGV[7])
redis.call('EXPIRE', KEYS[2], ARGV[6])
return 1
"#;

/// Deletes one session and removes it from its owner's index.
///
/// KEYS[1] = record. ARGV = key hash. Returns 1 if a session was deleted, 0 if none existed.
const REVOKE_LUA: &str = r#"
local idx = redis.call('HGET', KEYS[1], 'idx')
local n = redis.call('DEL', KEYS[1])
if idx then redis.call('SREM', idx, ARGV[1]) end
return n
"#;

/// Revokes every record of a user: the store's shared script (index + prefix).
const REVOKE_ALL_LUA: &str = authbench_store::DELETE_INDEXED_LUA;

/// Rewrites the tenant and roles of every session in a user's index ("what the credential
/// says" after an admin change), dropping dead index entries on the way.
///
/// KEYS[1] = index. ARGV = record key prefix, subject, tenant, roles JSON.
/// Returns how many records were rewritten.
///
/// Only `ten` and `roles` change: `created`, `seen` and the key's TTL are left alone, so an
/// update never lengthens a session's life, and a record that has gone (expired, logged out)
/// is never re-created (`HSET` on a missing key would make a record with no owner and no TTL).
/// A record whose `sub` is not the subject is left alone: the index is derived from the
/// subject, so that would be a corrupt store, not ours to "fix".
const UPDATE_LUA: &str = r#"
local n = 0
for _, m in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local key = ARGV[1] .. m
  local sub = redis.call('HGET', key, 'sub')
  if not sub then
    redis.call('SREM', KEYS[1], m)
  elseif sub == ARGV[2] then
    redis.call('HSET', key, 'ten', ARGV[3], 'roles', ARGV[4])
    n = n + 1
  end
end
return n
"#;

/// Lists a user's live sessions, dropping dead index entries on the way.
///
/// KEYS[1] = index. ARGV = record key prefix, now, idle, absolute.
/// Returns a flat array `hash, created, seen, deadline, hash, …`.
const LIST_LUA: &str = r#"
local now, idle, absolute = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local out = {}
for _, m in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local r = redis.call('HMGET', ARGV[1] .. m, 'created', 'seen')
  local created, seen = tonumber(r[1]), tonumber(r[2])
  if not created or not seen then
    redis.call('SREM', KEYS[1], m)
  elseif now - seen < idle and now - created < absolute then
    table.insert(out, m)
    table.insert(out, created)
    table.insert(out, seen)
    table.insert(out, math.min(seen + idle, created + absolute))
  end
end
return out
"#;

/// The scripts, built once.
#[derive(Debug)]
pub(crate) struct Scripts {
    pub(crate) verify: LuaScript,
    pub(crate) issue: LuaScript,
    pub(crate) revoke: LuaScript,
    pub(crate) revoke_all: LuaScript,
    pub(crate) list: LuaScript,
    pub(crate) update: LuaScript,
}

impl Scripts {
    fn new() -> Self {
        Self {
            verify: LuaScript::new(VERIFY_LUA),
            issue: LuaScript::new(ISSUE_LUA),
            revoke: LuaScript::new(REVOKE_LUA),
            revoke_all: LuaScript::new(REVOKE_ALL_LUA),
            list: LuaScript::new(LIST_LUA),
            update: LuaScript::new(UPDATE_LUA),
        }
    }

    fn all(&self) -> [&LuaScript; 6] {
        [
            &self.verify,
            &self.issue,
            &self.revoke,
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
        url: &str,
        connect_timeout: Duration,
        response_timeout: Duration,
    ) -> Result<Self, SessionError> {
        let redis = Store::connect(url, connect_timeout, response_timeout).await?;
        let scripts = Scripts::new();
        redis.load_scripts(&scripts.all()).await?;
        Ok(Self { redis, scripts })
    }

    /// `host:port` of the Redis server.
    pub(crate) fn addr(&self) -> &str {
        self.redis.addr()
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
}
