//! Redis plumbing shared by the session backend and the JWT revocation strategies.
//!
//! Every backend of session-vs-jwt that consults Redis (server-side sessions; the JWT
//! `denylist`, `epoch` and `refresh` strategies) needs the same four things, and each is easy to
//! get subtly wrong. They live here, once:
//!
//! - **One shared connection, tuned.** A [`Store`] holds one redis-rs `ConnectionManager`: a
//!   multiplexed connection (every task's commands share one socket and are pipelined) that
//!   replaces itself when the socket dies. TCP_NODELAY is on: redis-rs 1.x leaves Nagle's
//!   algorithm on, which holds small writes back and costs up to 2× median latency on a real
//!   network (redis-rs #2195).
//! - **Fail closed, and fast.** Explicit connect and response timeouts, no retry loop inside a
//!   request, and an outer deadline around every operation, so a dead or frozen Redis answers
//!   [`StoreError::Unavailable`] / [`StoreError::TimedOut`] within `connect_timeout +
//!   response_timeout` (1.5 s by default; a refused connection fails at once), never a hang.
//!   Both map to [`ErrorKind::Unavailable`](authbench_core::ErrorKind::Unavailable): the
//!   server answers 503 and lets nobody in.
//! - **Scripts.** [`LuaScript`] runs a multi-key check atomically in one round trip, by its
//!   SHA-1, re-sending the source only when Redis forgot it.
//! - **Pub/sub.** [`Store::subscribe`] opens the dedicated connection a subscriber needs (a
//!   subscribed RESP2 connection can do nothing else), with the same settings.
//!
//! ```no_run
//! # async fn demo() -> Result<(), authbench_store::StoreError> {
//! use authbench_store::{DEFAULT_CONNECT_TIMEOUT, DEFAULT_RESPONSE_TIMEOUT, LuaScript, Store};
//!
//! let store =
//!     Store::connect("redis://127.0.0.1:6379/", DEFAULT_CONNECT_TIMEOUT, DEFAULT_RESPONSE_TIMEOUT)
//!         .await?;
//! let bump = LuaScript::new("return redis.call('INCR', KEYS[1])");
//! store.load_scripts(&[&bump]).await?;
//! let n = store.run(&bump, &["counter"], &[]).await?;
//! # let _ = n; Ok(()) }
//! ```
//!
//! # Layout
//!
//! - [`Store`] (here): connecting, running scripts and commands under the deadline,
//!   subscribing.
//! - [`LuaScript`] (`script`): `EVALSHA` with the `EVAL` fallback.
//! - [`StoreError`] (`error`): the errors and their mapping onto the core's classes.

mod error;
mod script;

pub use error::{StoreError, is_unavailable};
pub use script::LuaScript;

/// Deletes every record named in a per-user index, then the index: "log this user out
/// everywhere" for any design that keeps one record per credential (sessions, refresh-token
/// families). One round trip, atomic.
///
/// KEYS[1] = the index (a set of member ids). ARGV[1] = the prefix that turns a member id into
/// its record's key. Returns how many records were deleted.
pub const DELETE_INDEXED_LUA: &str = r#"
local n = 0
for _, m in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  n = n + redis.call('DEL', ARGV[1] .. m)
end
redis.call('DEL', KEYS[1])
return n
"#;

use redis::aio::{ConnectionManager, ConnectionManagerConfig, PubSub};
use redis::io::tcp::TcpSettings;
use redis::{FromRedisValue, IntoConnectionInfo, Value};
use std::time::Duration;

/// How long one attempt to (re)connect to Redis may take by default: 1 s (redis-rs 1.x's
/// default, written down so it cannot drift).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// How long one Redis command may wait for its answer by default: 500 ms (redis-rs 1.x's
/// default, written down). A loopback round trip takes ~50 µs, so this only ever fires on a
/// hung or unreachable server.
pub const DEFAULT_RESPONSE_TIMEOUT: Duration = Duration::from_millis(500);

/// One shared connection to Redis, with the deadlines that make it fail closed *promptly*.
///
/// Built once with [`Store::connect`]; every method takes `&self`. Cloning a `Store` clones
/// handles, not connections.
#[derive(Clone)]
pub struct Store {
    /// The multiplexed, self-replacing connection every command goes through.
    conn: ConnectionManager,
    /// The client (URL + NODELAY), kept to open pub/sub connections.
    client: redis::Client,
    /// `host:port`, for error messages: never the URL, which may hold a password.
    addr: String,
    /// How long one (re)connection may take; also bounds opening a pub/sub connection.
    connect_timeout: Duration,
    /// How long one command may wait for its answer.
    response_timeout: Duration,
    /// Ceiling for a whole operation, connection wait included: `connect + response`.
    deadline: Duration,
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
    /// Connects, and fails fast (within about `connect_timeout + response_timeout`) if Redis is
    /// not there.
    ///
    /// # Errors
    ///
    /// [`StoreError::Config`] for a URL that is not a Redis URL or a zero timeout (the message
    /// hides any password); [`StoreError::Unavailable`] or [`StoreError::TimedOut`], naming
    /// host and port, when Redis does not answer.
    pub async fn connect(
        url: &str,
        connect_timeout: Duration,
        response_timeout: Duration,
    ) -> Result<Self, StoreError> {
        if connect_timeout.is_zero() || response_timeout.is_zero() {
            return Err(StoreError::Config(
                "connect_timeout and response_timeout must be positive: without them a dead \
                 Redis hangs every request"
                    .into(),
            ));
        }
        let info = url.into_connection_info().map_err(|e| {
            StoreError::Config(format!(
                "redis_url is not a Redis URL ({}): {e}",
                redact_url(url)
            ))
        })?;
        let addr = info.addr().to_string();
        // Nagle's algorithm holds small writes back waiting for more; for a request/response
        // protocol of tiny messages it adds latency on a real network (redis-rs #2195).
        // redis-rs 1.x leaves it on, so we switch it off.
        let info = info.set_tcp_settings(TcpSettings::default().set_nodelay(true));
        let client = redis::Client::open(info).map_err(|e| StoreError::Config(e.to_string()))?;

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
        let conn = match tokio::time::timeout(
            deadline,
            ConnectionManager::new_with_config(client.clone(), manager_config),
        )
        .await
        {
            Ok(Ok(conn)) => conn,
            Ok(Err(source)) => return Err(StoreError::Unavailable { addr, source }),
            Err(_) => {
                return Err(StoreError::TimedOut {
                    addr,
                    after: deadline,
                });
            }
        };
        Ok(Self {
            conn,
            client,
            addr,
            connect_timeout,
            response_timeout,
            deadline,
        })
    }

    /// Teaches Redis the scripts now (`SCRIPT LOAD`), so a broken Redis (or one that forbids
    /// scripting) shows up at start-up, and the first requests go straight to `EVALSHA`.
    ///
    /// # Errors
    ///
    /// As [`run`](Self::run); [`StoreError::Config`] if Redis names a script differently from
    /// us (then `EVALSHA` would never hit).
    pub async fn load_scripts(&self, scripts: &[&LuaScript]) -> Result<(), StoreError> {
        for script in scripts {
            let mut cmd = redis::cmd("SCRIPT");
            cmd.arg("LOAD").arg(script.source());
            let sha: String = self.query(&cmd).await?;
            if sha != script.sha1() {
                return Err(StoreError::Config(format!(
                    "Redis names a script {sha}, we computed {}: EVALSHA would never hit",
                    script.sha1()
                )));
            }
        }
        Ok(())
    }

    /// `host:port` of the Redis server (safe to print).
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// The ceiling on one operation: `connect_timeout + response_timeout`.
    pub fn deadline(&self) -> Duration {
        self.deadline
    }

    /// How long one (re)connection attempt may take.
    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }

    /// How long one command may wait for its answer.
    pub fn response_timeout(&self) -> Duration {
        self.response_timeout
    }

    /// Runs `script` under the operation deadline.
    ///
    /// redis-rs's own timeouts bound the connection wait (`connect_timeout`) and each command
    /// (`response_timeout`); this outer deadline is the backstop that makes "never a hang" a
    /// property of this function rather than of every setting being right.
    ///
    /// # Errors
    ///
    /// [`StoreError::Unavailable`] / [`StoreError::TimedOut`] when Redis cannot answer;
    /// [`StoreError::Redis`] when it answers with an error (a bug in the script, say).
    pub async fn run(
        &self,
        script: &LuaScript,
        keys: &[&str],
        args: &[&str],
    ) -> Result<Value, StoreError> {
        let mut conn = self.conn.clone();
        self.bounded(script.invoke(&mut conn, keys, args)).await
    }

    /// Sends one command (or `MGET`, `PUBLISH`, …) under the operation deadline and converts
    /// the answer.
    ///
    /// # Errors
    ///
    /// As [`run`](Self::run); a reply that does not convert to `T` is [`StoreError::Redis`].
    pub async fn query<T: FromRedisValue>(&self, cmd: &redis::Cmd) -> Result<T, StoreError> {
        let mut conn = self.conn.clone();
        self.bounded(cmd.query_async::<T>(&mut conn)).await
    }

    /// Opens a dedicated pub/sub connection (same URL, same NODELAY) within the connect
    /// timeout. A subscribed connection can do nothing but receive, so it is never the shared
    /// one; and it does not reconnect by itself: the subscriber notices the end of its message
    /// stream and calls this again.
    ///
    /// # Errors
    ///
    /// [`StoreError::Unavailable`] / [`StoreError::TimedOut`] when Redis is not there.
    pub async fn subscribe(&self) -> Result<PubSub, StoreError> {
        match tokio::time::timeout(self.connect_timeout, self.client.get_async_pubsub()).await {
            Ok(Ok(pubsub)) => Ok(pubsub),
            Ok(Err(e)) => Err(StoreError::from_redis(e, &self.addr)),
            Err(_) => Err(StoreError::TimedOut {
                addr: self.addr.clone(),
                after: self.connect_timeout,
            }),
        }
    }

    /// Awaits `op` under the deadline, mapping failures.
    async fn bounded<T>(
        &self,
        op: impl Future<Output = Result<T, redis::RedisError>>,
    ) -> Result<T, StoreError> {
        match tokio::time::timeout(self.deadline, op).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(StoreError::from_redis(e, &self.addr)),
            Err(_) => Err(StoreError::TimedOut {
                addr: self.addr.clone(),
                after: self.deadline,
            }),
        }
    }
}

/// A Redis URL with any password replaced by `***`, for messages.
pub fn redact_url(url: &str) -> String {
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
    fn redaction_hides_passwords_only() {
        assert_eq!(
            redact_url("redis://user:s3cret@host:6379/0"),
            "redis://***@host:6379/0"
        );
        assert_eq!(redact_url("redis://host:6379/"), "redis://host:6379/");
    }
}
