//! Redis: the connection, the key names, and the Lua scripts that keep each operation to one
//! round trip.
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
//! by `list_sessions` and `revoke_all`) instead of on every expiry, which keeps the hot path
//! to a single key.
//!
//! Scripts that touch the index reach keys they compute inside Redis (the index named in a
//! record, the records named in an index). Standalone Redis allows that; Redis Cluster does
//! not, and would need these keys in one hash slot. That is future work (see the README).

use crate::error::SessionError;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::io::tcp::TcpSettings;
use redis::{ErrorKind, IntoConnectionInfo, RedisError, ServerErrorKind, Value};
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

/// Deletes every session in a user's index, and the index.
///
/// KEYS[1] = index. ARGV = record key prefix. Returns how many records were deleted.
const REVOKE_ALL_LUA: &str = r#"
local n = 0
for _, m in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  n = n + redis.call('DEL', ARGV[1] .. m)
end
redis.call('DEL', KEYS[1])
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

/// A Lua script called by its SHA-1, with an `EVAL` fallback when Redis does not know it.
#[derive(Debug)]
pub(crate) struct LuaScript {
    /// The source, sent only when Redis has not cached the script.
    source: &'static str,
    /// Lower-case hex SHA-1 of the source: the name Redis caches the script under (SHA-1 is
    /// Redis's choice; it names, it does not protect).
    sha1: String,
}

impl LuaScript {
    fn new(source: &'static str) -> Self {
        let digest = aws_lc_rs::digest::digest(
            &aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY,
            source.as_bytes(),
        );
        let sha1 = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
        Self { source, sha1 }
    }

    /// Runs the script: `EVALSHA`, and only on `NOSCRIPT` one `EVAL`.
    async fn invoke(
        &self,
        conn: &mut ConnectionManager,
        keys: &[&str],
        args: &[&str],
    ) -> Result<Value, RedisError> {
        let call = |verb: &str, body: &str| {
            let mut cmd = redis::cmd(verb);
            cmd.arg(body).arg(keys.len()).arg(keys).arg(args);
            cmd
        };
        match call("EVALSHA", &self.sha1).query_async(conn).await {
            Err(e) if e.kind() == ErrorKind::Server(ServerErrorKind::NoScript) => {
                call("EVAL", self.source).query_async(conn).await
            }
            other => other,
        }
    }
}

/// The scripts, built once.
#[derive(Debug)]
pub(crate) struct Scripts {
    pub(crate) verify: LuaScript,
    pub(crate) issue: LuaScript,
    pub(crate) revoke: LuaScript,
    pub(crate) revoke_all: LuaScript,
    pub(crate) list: LuaScript,
}

impl Scripts {
    fn new() -> Self {
        Self {
            verify: LuaScript::new(VERIFY_LUA),
            issue: LuaScript::new(ISSUE_LUA),
            revoke: LuaScript::new(REVOKE_LUA),
            revoke_all: LuaScript::new(REVOKE_ALL_LUA),
            list: LuaScript::new(LIST_LUA),
        }
    }

    fn all(&self) -> [&LuaScript; 5] {
        [
            &self.verify,
            &self.issue,
            &self.revoke,
            &self.revoke_all,
            &self.list,
        ]
    }
}

/// One shared connection to Redis, with the deadlines that make it fail closed *promptly*.
///
/// A [`ConnectionManager`] is a multiplexed connection (every task's commands share one TCP
/// socket and are pipelined) that replaces itself when the socket dies. Cloning it clones a
/// handle, not a connection. It is built once, in [`Store::connect`].
pub(crate) struct Store {
    conn: ConnectionManager,
    /// `host:port`, for error messages: never the URL, which may hold a password.
    addr: String,
    /// Ceiling for a whole operation, connection wait included.
    deadline: Duration,
    pub(crate) scripts: Scripts,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("addr", &self.addr)
            .field("deadline", &self.deadline)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Connects, loads the scripts, and fails fast (within about `connect_timeout +
    /// response_timeout`) if Redis is not there.
    pub(crate) async fn connect(
        url: &str,
        connect_timeout: Duration,
        response_timeout: Duration,
    ) -> Result<Self, SessionError> {
        let info = url.into_connection_info().map_err(|e| {
            SessionError::Config(format!(
                "redis_url is not a Redis URL ({}): {e}",
                redact_url(url)
            ))
        })?;
        let addr = info.addr().to_string();
        // Nagle's algorithm holds small writes back waiting for more; for a request/response
        // protocol of tiny messages it adds latency on a real network (redis-rs #2195).
        // redis-rs 1.x leaves it on, so we switch it off.
        let info = info.set_tcp_settings(TcpSettings::default().set_nodelay(true));
        let client = redis::Client::open(info).map_err(|e| SessionError::Config(e.to_string()))?;

        let manager_config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(connect_timeout))
            .set_response_timeout(Some(response_timeout))
            // No retry loop inside a request: after a failure, the next request triggers a
            // fresh connection attempt anyway (the manager reconnects on I/O errors), and a
            // loop with back-off would keep *this* request waiting for seconds while Redis is
            // down. Failing fast and letting traffic drive reconnection keeps every answer
            // within the deadline below.
            .set_number_of_retries(0);

        let deadline = connect_timeout + response_timeout;
        let unavailable = |source| SessionError::Unavailable {
            addr: addr.clone(),
            source,
        };
        let conn = match tokio::time::timeout(
            deadline,
            ConnectionManager::new_with_config(client, manager_config),
        )
        .await
        {
            Ok(Ok(conn)) => conn,
            Ok(Err(e)) => return Err(unavailable(e)),
            Err(_) => {
                return Err(SessionError::TimedOut {
                    addr,
                    after: deadline,
                });
            }
        };

        let store = Self {
            conn,
            addr,
            deadline,
            scripts: Scripts::new(),
        };
        // Load the scripts now, so a broken Redis (or one that forbids scripting) shows up at
        // startup, and the first requests go straight to EVALSHA.
        for script in store.scripts.all() {
            let mut conn = store.conn.clone();
            let mut cmd = redis::cmd("SCRIPT");
            cmd.arg("LOAD").arg(script.source);
            let load = cmd.query_async::<String>(&mut conn);
            match tokio::time::timeout(deadline, load).await {
                Ok(Ok(sha)) if sha == script.sha1 => {}
                Ok(Ok(sha)) => {
                    return Err(SessionError::Config(format!(
                        "Redis names a script {sha}, we computed {}: EVALSHA would never hit",
                        script.sha1
                    )));
                }
                Ok(Err(e)) => return Err(SessionError::from_redis(e, &store.addr)),
                Err(_) => {
                    return Err(SessionError::TimedOut {
                        addr: store.addr.clone(),
                        after: deadline,
                    });
                }
            }
        }
        Ok(store)
    }

    /// `host:port` of the Redis server.
    pub(crate) fn addr(&self) -> &str {
        &self.addr
    }

    /// Runs `script` under the operation deadline, mapping failures to [`SessionError`].
    ///
    /// redis-rs's own timeouts bound the connection wait (`connect_timeout`) and each command
    /// (`response_timeout`); this outer deadline is the backstop that makes "never a hang" a
    /// property of this function rather than of every setting being right.
    pub(crate) async fn run(
        &self,
        script: &LuaScript,
        keys: &[&str],
        args: &[&str],
    ) -> Result<Value, SessionError> {
        let mut conn = self.conn.clone();
        match tokio::time::timeout(self.deadline, script.invoke(&mut conn, keys, args)).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(SessionError::from_redis(e, &self.addr)),
            Err(_) => Err(SessionError::TimedOut {
                addr: self.addr.clone(),
                after: self.deadline,
            }),
        }
    }
}

/// A Redis URL with any password replaced by `***`, for messages.
pub(crate) fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            format!("{}***{}", &url[..scheme_end + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_names_are_redis_sha1() {
        // Redis names a script by the SHA-1 of its source; SHA-1("") is well known.
        let empty = LuaScript::new("");
        assert_eq!(empty.sha1, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    }

    #[test]
    fn redaction_hides_passwords_only() {
        assert_eq!(
            redact_url("redis://user:s3cret@host:6379/0"),
            "redis://***@host:6379/0"
        );
        assert_eq!(redact_url("redis://host:6379/"), "redis://host:6379/");
    }
}
