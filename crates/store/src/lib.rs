//! Redis plumbing shared by the session backend and the JWT revocation strategies.
//!
//! Every backend of session-vs-jwt that consults Redis (server-side sessions; the JWT
//! `denylist`, `epoch` and `refresh` strategies) needs the same things, and each is easy to get
//! subtly wrong. They live here, once:
//!
//! - **One shared connection, tuned, to a server or a cluster.** A [`Store`] holds either a
//!   redis-rs `ConnectionManager` (one multiplexed connection that replaces itself when the
//!   socket dies) or redis-rs's async cluster client (one multiplexed connection per node,
//!   routing each command by its keys' slot), chosen by [`RedisTarget`]. TCP_NODELAY is on:
//!   redis-rs 1.x leaves Nagle's algorithm on, which holds small writes back and costs up to 2×
//!   median latency on a real network (redis-rs #2195).
//! - **Fail closed, and fast.** Explicit connect and response timeouts, no retry loop inside a
//!   request (on a cluster, at most [`CLUSTER_RETRIES`] quick retries, to follow a redirect),
//!   and an outer deadline around every operation, so a dead or frozen Redis, or a dead
//!   cluster master, answers [`StoreError::Unavailable`] / [`StoreError::TimedOut`] within
//!   `connect_timeout + response_timeout` (1.5 s by default; a refused connection fails at
//!   once), never a hang. Both map to
//!   [`ErrorKind::Unavailable`](authbench_core::ErrorKind::Unavailable): the server answers
//!   503 and lets nobody in.
//! - **A key layout that works on a cluster.** [`slot`]: every key of one operation carries
//!   the same per-user hash tag, so it lands in one slot, while users spread over the cluster;
//!   [`Store::run_indexed`] runs a script over a user's index naming every key it touches.
//! - **Scripts.** [`LuaScript`] runs a multi-key check atomically in one round trip, by its
//!   SHA-1, re-sending the source only when Redis forgot it.
//! - **Durable writes, when asked.** [`Durability::Replica`]: a write (a revocation) is
//!   followed, on the same connection to the same node, by `WAIT 1 <timeout>`, and is only
//!   acknowledged once a replica has confirmed it; otherwise [`StoreError::NotReplicated`]
//!   (fail closed). Asynchronous replication otherwise loses the writes a master acknowledged
//!   in the last moments before it died (see [`durability`]).
//! - **Pub/sub.** [`Store::subscribe`] opens the dedicated connection a subscriber needs (a
//!   subscribed RESP2 connection can do nothing else), with the same settings; on a cluster,
//!   on one node, moving to the next seed on each new attempt.
//!
//! ```no_run
//! # async fn demo() -> Result<(), authbench_store::StoreError> {
//! use authbench_store::{
//!     DEFAULT_CONNECT_TIMEOUT, DEFAULT_RESPONSE_TIMEOUT, LuaScript, RedisTarget, Store, UserSlot,
//!     tagged_key,
//! };
//!
//! let target = RedisTarget::cluster("127.0.0.1:7000,127.0.0.1:7001")?;
//! let store = Store::connect_target(&target, DEFAULT_CONNECT_TIMEOUT, DEFAULT_RESPONSE_TIMEOUT)
//!     .await?;
//! let bump = LuaScript::new("return redis.call('INCR', KEYS[1])");
//! store.load_scripts(&[&bump]).await?;
//! let alice = UserSlot::of("alice");
//! let key = tagged_key("demo:counter:", alice.tag(), alice.hash());
//! let n = store.run(&bump, &[&key], &[]).await?;
//! # let _ = n; Ok(()) }
//! ```
//!
//! # Layout
//!
//! - [`Store`] (here): connecting, running scripts and commands under the deadline, scripts
//!   over an index, subscribing.
//! - [`RedisTarget`] (`target`): one server or a cluster, parsed from `--redis-cluster`.
//! - [`slot`]: the per-user hash tags and the key-layout rule.
//! - [`LuaScript`] (`script`): `EVALSHA` with the `EVAL` fallback.
//! - [`durability`]: [`Durability`] and the `WAIT` after a write.
//! - [`StoreError`] (`error`): the errors and their mapping onto the core's classes.

pub mod durability;
mod error;
mod script;
pub mod slot;
mod target;

pub use durability::{DEFAULT_REPLICA_WAIT, Durability};
pub use error::{StoreError, is_unavailable};
pub use script::LuaScript;
pub use slot::{SLOT_TAG_CHARS, UserSlot, check_key_prefix, is_slot_tag, tagged_key};
pub use target::RedisTarget;

/// The guard every script over a per-user index starts with (expands to a string literal, for
/// `concat!`).
///
/// A per-user index is a sorted set of member ids (score: the member's absolute deadline). A
/// script that must touch the records an index names cannot compute their keys itself (Redis
/// Cluster routes by the keys named in `KEYS`, see [`slot`]), so [`Store::run_indexed`] reads
/// the members first (`ZRANGE`) and passes them in:
///
/// - `KEYS[1]` = the index, `KEYS[1 + i]` = the record of member `i` (`i` = 1‥`n`);
/// - `ARGV[1]` = `n`, `ARGV[1 + i]` = member `i`, `ARGV[n + 2…]` = the script's own arguments.
///
/// The guard then checks, atomically, that the index holds no member the snapshot missed (one
/// added by a concurrent login): if it does, the script returns `'stale'` and `run_indexed`
/// takes a new snapshot. So "log out everywhere" cannot miss a session that was created
/// before it completed. It defines the Lua locals `n` (member count) and `extra` (the index of
/// the first own argument in `ARGV`).
#[macro_export]
macro_rules! index_guard_lua {
    () => {
        r#"
local n = tonumber(ARGV[1])
local extra = n + 2
local snapshot = {}
for i = 1, n do snapshot[ARGV[1 + i]] = true end
for _, m in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if not snapshot[m] then return 'stale' end
end
"#
    };
}

/// Deletes every record named in a per-user index, then the index: "log this user out
/// everywhere" for any design that keeps one record per credential (sessions, refresh-token
/// families). One atomic script after the `ZRANGE` snapshot; run it with
/// [`Store::run_indexed`]. Returns how many records were deleted.
pub const DELETE_INDEXED_LUA: &str = concat!(
    index_guard_lua!(),
    r#"
local deleted = 0
for i = 1, n do deleted = deleted + redis.call('DEL', KEYS[1 + i]) end
redis.call('DEL', KEYS[1])
return deleted
"#
);

/// How many snapshots [`Store::run_indexed`] takes before giving up on an index that keeps
/// changing under it (a user logging in again and again during "log out everywhere").
pub const INDEX_ATTEMPTS: usize = 5;

use redis::aio::{ConnectionManager, ConnectionManagerConfig, PubSub};
use redis::cluster::ClusterClientBuilder;
use redis::cluster_async::ClusterConnection;
use redis::io::tcp::TcpSettings;
use redis::{FromRedisValue, IntoConnectionInfo, Value};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// How long one attempt to (re)connect to Redis may take by default: 1 s (redis-rs 1.x's
/// default, written down so it cannot drift).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// How long one Redis command may wait for its answer by default: 500 ms (redis-rs 1.x's
/// default, written down). A loopback round trip takes ~50 µs, so this only ever fires on a
/// hung or unreachable server.
pub const DEFAULT_RESPONSE_TIMEOUT: Duration = Duration::from_millis(500);

/// Retries the cluster client may make inside one request: enough to follow a `MOVED` or
/// `ASK` redirect after a failover or resharding (each redirect counts as a retry), few enough
/// that a dead master is reported, not waited for. The response timeout bounds the whole
/// request anyway (redis-rs's overall timeout, and our outer deadline).
pub const CLUSTER_RETRIES: u32 = 2;

/// Shortest pause (ms) before a cluster retry: a redirect is retried almost at once.
const CLUSTER_MIN_RETRY_WAIT_MS: u64 = 5;

/// Longest pause (ms) before a cluster retry (redis-rs's default is 655 s: far beyond any
/// request deadline).
const CLUSTER_MAX_RETRY_WAIT_MS: u64 = 100;

/// The connection behind a [`Store`]: one multiplexed connection to one server, or the cluster
/// client's (one multiplexed connection per node, routing by slot).
#[derive(Clone)]
enum Conn {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

/// One shared connection to Redis (a server or a cluster), with the deadlines that make it
/// fail closed *promptly*.
///
/// Built once with [`Store::connect`] or [`Store::connect_target`]; every method takes
/// `&self`. Cloning a `Store` clones handles, not connections.
#[derive(Clone)]
pub struct Store {
    /// The multiplexed connection every command goes through.
    conn: Conn,
    /// Clients (address + NODELAY) pub/sub connections are opened from: the server, or each
    /// cluster seed in turn.
    pubsub_clients: Arc<[redis::Client]>,
    /// Which pub/sub client to try first next time: moves on after each attempt, so a
    /// subscriber whose node died resubscribes on the next seed.
    next_pubsub: Arc<AtomicUsize>,
    /// `host:port` or `cluster[host:port,…]`, for error messages: never a password.
    addr: String,
    /// Whether this is a cluster.
    cluster: bool,
    /// How long one (re)connection may take; also bounds opening a pub/sub connection.
    connect_timeout: Duration,
    /// How long one command may wait for its answer.
    response_timeout: Duration,
    /// Ceiling for a whole operation, connection wait included: `connect + response`.
    deadline: Duration,
    /// Where we connected, so [`with_durability`](Self::with_durability) can open the
    /// dedicated connection durable writes use.
    target: RedisTarget,
    /// How writes made through [`write`](Self::write) / [`run_write`](Self::run_write) must
    /// be confirmed before they count.
    durability: Durability,
    /// The dedicated connection of durable writes (`Some` under [`Durability::Replica`]):
    /// `WAIT` blocks the connection it runs on, so it never runs on the shared one that every
    /// verify uses.
    durable_conn: Option<Conn>,
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
    /// Connects to one Redis server at `url`: [`connect_target`](Self::connect_target) with
    /// [`RedisTarget::Single`].
    ///
    /// # Errors
    ///
    /// As [`connect_target`](Self::connect_target).
    pub async fn connect(
        url: &str,
        connect_timeout: Duration,
        response_timeout: Duration,
    ) -> Result<Self, StoreError> {
        Self::connect_target(&RedisTarget::single(url), connect_timeout, response_timeout).await
    }

    /// Connects to a server or a cluster, and fails fast (within about `connect_timeout +
    /// response_timeout`) if it is not there.
    ///
    /// On a cluster: the client reads the slot map from the first seed that answers and keeps
    /// one multiplexed connection (NODELAY on) per node; the same connect and response timeouts
    /// apply per node, retries inside a request are bounded ([`CLUSTER_RETRIES`], at most
    /// 100 ms apart) and the whole request is bounded by the response timeout, so a dead master
    /// answers `Unavailable` within the deadline for the keys it owned, while the other
    /// masters keep serving theirs.
    ///
    /// # Errors
    ///
    /// [`StoreError::Config`] for an address that is not a Redis URL or a zero timeout (the
    /// message hides any password); [`StoreError::Unavailable`] or [`StoreError::TimedOut`],
    /// naming host and port, when Redis does not answer.
    pub async fn connect_target(
        target: &RedisTarget,
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
        // Nagle's algorithm holds small writes back waiting for more; for a request/response
        // protocol of tiny messages it adds latency on a real network (redis-rs #2195).
        // redis-rs 1.x leaves it on, so we switch it off.
        let nodelay = || TcpSettings::default().set_nodelay(true);
        let urls: Vec<&str> = match target {
            RedisTarget::Single(url) => vec![url.as_str()],
            RedisTarget::Cluster(seeds) if seeds.is_empty() => {
                return Err(StoreError::Config(
                    "a Redis Cluster needs seed nodes".into(),
                ));
            }
            RedisTarget::Cluster(seeds) => seeds.iter().map(String::as_str).collect(),
        };
        let mut infos = Vec::with_capacity(urls.len());
        for url in &urls {
            let info = url.into_connection_info().map_err(|e| {
                StoreError::Config(format!(
                    "redis_url is not a Redis URL ({}): {e}",
                    redact_url(url)
                ))
            })?;
            infos.push(info.set_tcp_settings(nodelay()));
        }
        let addr = target.describe();
        let pubsub_clients = infos
            .iter()
            .map(|info| redis::Client::open(info.clone()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| StoreError::Config(e.to_string()))?;

        let deadline = connect_timeout + response_timeout;
        let connecting = async {
            match target {
                RedisTarget::Single(_) => {
                    let manager_config = ConnectionManagerConfig::new()
                        .set_connection_timeout(Some(connect_timeout))
                        .set_response_timeout(Some(response_timeout))
                        // No retry loop inside a request: after a failure, the next request
                        // triggers a fresh connection attempt anyway (the manager reconnects
                        // on I/O errors), and a loop with back-off would keep *this* request
                        // waiting for seconds while Redis is down. Failing fast and letting
                        // traffic drive reconnection keeps every answer within the deadline.
                        .set_number_of_retries(0);
                    ConnectionManager::new_with_config(pubsub_clients[0].clone(), manager_config)
                        .await
                        .map(Conn::Single)
                }
                RedisTarget::Cluster(_) => {
                    let client = ClusterClientBuilder::new(infos.clone())
                        .connection_timeout(connect_timeout)
                        .response_timeout(response_timeout)
                        .retries(CLUSTER_RETRIES)
                        .min_retry_wait(CLUSTER_MIN_RETRY_WAIT_MS)
                        .max_retry_wait(CLUSTER_MAX_RETRY_WAIT_MS)
                        .tcp_settings(nodelay())
                        .build()?;
                    client.get_async_connection().await.map(Conn::Cluster)
                }
            }
        };
        let conn = match tokio::time::timeout(deadline, connecting).await {
            Ok(Ok(conn)) => conn,
            Ok(Err(source)) if source.kind() == redis::ErrorKind::InvalidClientConfig => {
                return Err(StoreError::Config(source.to_string()));
            }
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
            pubsub_clients: pubsub_clients.into(),
            next_pubsub: Arc::new(AtomicUsize::new(0)),
            addr,
            cluster: target.is_cluster(),
            connect_timeout,
            response_timeout,
            deadline,
            target: target.clone(),
            durability: Durability::None,
            durable_conn: None,
        })
    }

    /// This store, with writes made through [`write`](Self::write) and
    /// [`run_write`](Self::run_write) confirmed as `durability` says. Under
    /// [`Durability::Replica`] it opens one more connection (one per node on a cluster),
    /// used by those writes only.
    ///
    /// # Errors
    ///
    /// As [`connect_target`](Self::connect_target); [`StoreError::Config`] when the `WAIT`
    /// timeout does not fit in the response timeout (the `WAIT` would be cut off before it
    /// could answer).
    pub async fn with_durability(mut self, durability: Durability) -> Result<Self, StoreError> {
        if let Durability::Replica { timeout } = durability {
            if timeout.is_zero() || timeout >= self.response_timeout {
                return Err(StoreError::Config(format!(
                    "the replica wait ({timeout:?}) must be positive and shorter than the \
                     response timeout ({:?})",
                    self.response_timeout
                )));
            }
            let other =
                Self::connect_target(&self.target, self.connect_timeout, self.response_timeout)
                    .await?;
            self.durable_conn = Some(other.conn);
        } else {
            self.durable_conn = None;
        }
        self.durability = durability;
        Ok(self)
    }

    /// How writes through [`write`](Self::write) / [`run_write`](Self::run_write) are
    /// confirmed.
    pub fn durability(&self) -> Durability {
        self.durability
    }

    /// Teaches Redis the scripts now (`SCRIPT LOAD`), so a broken Redis (or one that forbids
    /// scripting) shows up at start-up, and the first requests go straight to `EVALSHA`. On a
    /// cluster the client sends `SCRIPT LOAD` to every node (masters and replicas), so a
    /// promoted replica knows the scripts too; a node added later learns them through the
    /// `NOSCRIPT` → `EVAL` fallback.
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

    /// `host:port` of the Redis server, or `cluster[host:port,…]` of the cluster's seeds
    /// (safe to print).
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// Whether this store talks to a Redis Cluster.
    pub fn is_cluster(&self) -> bool {
        self.cluster
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
    /// property of this function rather than of every setting being right. On a cluster, the
    /// script runs on the master of `keys[0]`'s slot; all `keys` must share that slot (see
    /// [`slot`]).
    ///
    /// # Errors
    ///
    /// [`StoreError::Unavailable`] / [`StoreError::TimedOut`] when Redis cannot answer;
    /// [`StoreError::Redis`] when it answers with an error (a bug in the script, a
    /// `CROSSSLOT`, say).
    pub async fn run(
        &self,
        script: &LuaScript,
        keys: &[&str],
        args: &[&str],
    ) -> Result<Value, StoreError> {
        match &self.conn {
            Conn::Single(conn) => {
                let mut conn = conn.clone();
                self.bounded(script.invoke(&mut conn, keys, args)).await
            }
            Conn::Cluster(conn) => {
                let mut conn = conn.clone();
                self.bounded(script.invoke(&mut conn, keys, args)).await
            }
        }
    }

    /// Runs a script over a per-user index: reads the index's members (`ZRANGE`), then runs
    /// `script` with every record they name in `KEYS` (see [`index_guard_lua!`] for the
    /// calling convention), taking a fresh snapshot when the script reports the index changed
    /// in between. Two round trips when nothing races.
    ///
    /// `record_key` turns a member into its record's key, which must share the index's slot.
    ///
    /// # Errors
    ///
    /// As [`run`](Self::run); [`StoreError::Contended`] after [`INDEX_ATTEMPTS`] stale
    /// snapshots.
    pub async fn run_indexed(
        &self,
        script: &LuaScript,
        index: &str,
        record_key: impl Fn(&str) -> String,
        extra_args: &[&str],
    ) -> Result<Value, StoreError> {
        self.indexed(script, index, record_key, extra_args, false)
            .await
    }

    /// [`run_indexed`](Self::run_indexed) for a script that revokes (writes): its final
    /// script is confirmed as [`durability`](Self::durability) says (see
    /// [`run_write`](Self::run_write)).
    ///
    /// # Errors
    ///
    /// As [`run_indexed`](Self::run_indexed) and [`write`](Self::write).
    pub async fn run_indexed_write(
        &self,
        script: &LuaScript,
        index: &str,
        record_key: impl Fn(&str) -> String,
        extra_args: &[&str],
    ) -> Result<Value, StoreError> {
        self.indexed(script, index, record_key, extra_args, true)
            .await
    }

    async fn indexed(
        &self,
        script: &LuaScript,
        index: &str,
        record_key: impl Fn(&str) -> String,
        extra_args: &[&str],
        write: bool,
    ) -> Result<Value, StoreError> {
        for _ in 0..INDEX_ATTEMPTS {
            let mut zrange = redis::cmd("ZRANGE");
            zrange.arg(index).arg(0).arg(-1);
            let members: Vec<String> = self.query(&zrange).await?;
            let records: Vec<String> = members.iter().map(|m| record_key(m)).collect();
            let count = members.len().to_string();
            let mut keys: Vec<&str> = Vec::with_capacity(members.len() + 1);
            keys.push(index);
            keys.extend(records.iter().map(String::as_str));
            let mut args: Vec<&str> = Vec::with_capacity(members.len() + 1 + extra_args.len());
            args.push(&count);
            args.extend(members.iter().map(String::as_str));
            args.extend_from_slice(extra_args);
            let reply = if write {
                self.run_write(script, &keys, &args).await?
            } else {
                self.run(script, &keys, &args).await?
            };
            match &reply {
                Value::BulkString(b) if b.as_slice() == b"stale" => continue,
                _ => return Ok(reply),
            }
        }
        Err(StoreError::Contended {
            addr: self.addr.clone(),
            attempts: INDEX_ATTEMPTS,
        })
    }

    /// Sends one command (or `MGET`, `PUBLISH`, …) under the operation deadline and converts
    /// the answer.
    ///
    /// # Errors
    ///
    /// As [`run`](Self::run); a reply that does not convert to `T` is [`StoreError::Redis`].
    pub async fn query<T: FromRedisValue>(&self, cmd: &redis::Cmd) -> Result<T, StoreError> {
        match &self.conn {
            Conn::Single(conn) => {
                let mut conn = conn.clone();
                self.bounded(cmd.query_async::<T>(&mut conn)).await
            }
            Conn::Cluster(conn) => {
                let mut conn = conn.clone();
                self.bounded(cmd.query_async::<T>(&mut conn)).await
            }
        }
    }

    /// Sends `pipe` (several commands, one write, one round trip) under the operation
    /// deadline and converts the answers, one per command, into `T` (a tuple or a `Vec`).
    ///
    /// A pipeline is not a transaction: another client's command may run between two of its
    /// commands. Use it where every interleaving is harmless (the session verify reads a
    /// record's expiry, then reads and slides it: a logout in between makes the second read
    /// find nothing). On a cluster, every key of the pipeline must share one slot.
    ///
    /// # Errors
    ///
    /// As [`query`](Self::query).
    pub async fn pipeline<T: FromRedisValue>(
        &self,
        pipe: &redis::Pipeline,
    ) -> Result<T, StoreError> {
        match &self.conn {
            Conn::Single(conn) => {
                let mut conn = conn.clone();
                self.bounded(pipe.query_async::<T>(&mut conn)).await
            }
            Conn::Cluster(conn) => {
                let mut conn = conn.clone();
                self.bounded(pipe.query_async::<T>(&mut conn)).await
            }
        }
    }

    /// Opens a dedicated pub/sub connection (NODELAY on) within the connect timeout. A
    /// subscribed connection can do nothing but receive, so it is never the shared one; and
    /// it does not reconnect by itself: the subscriber notices the end of its message stream
    /// and calls this again.
    ///
    /// On a cluster, classic `PUBLISH` is broadcast over the cluster bus to **every** node
    /// (masters and replicas), so subscribing on any one node hears every message. This tries
    /// the seeds in turn, starting after the one used last time, and returns the first that
    /// answers: a subscriber whose node died moves on to the next seed.
    ///
    /// # Errors
    ///
    /// [`StoreError::Unavailable`] / [`StoreError::TimedOut`] when no seed answers (the last
    /// seed's error).
    pub async fn subscribe(&self) -> Result<PubSub, StoreError> {
        let count = self.pubsub_clients.len();
        let first = self.next_pubsub.fetch_add(1, Ordering::Relaxed);
        let mut last_error = None;
        for i in 0..count {
            let client = &self.pubsub_clients[(first + i) % count];
            let addr = client.get_connection_info().addr().to_string();
            match tokio::time::timeout(self.connect_timeout, client.get_async_pubsub()).await {
                Ok(Ok(pubsub)) => {
                    // Next time, start with the seed after this one.
                    self.next_pubsub.store(first + i + 1, Ordering::Relaxed);
                    return Ok(pubsub);
                }
                Ok(Err(e)) => last_error = Some(StoreError::from_redis(e, &addr)),
                Err(_) => {
                    last_error = Some(StoreError::TimedOut {
                        addr,
                        after: self.connect_timeout,
                    });
                }
            }
        }
        Err(last_error.unwrap_or_else(|| StoreError::Config("no Redis address".into())))
    }

    /// Sends one write command whose keys live in `key`'s slot, confirmed as
    /// [`durability`](Self::durability) says: under [`Durability::None`] exactly
    /// [`query`](Self::query); under [`Durability::Replica`] the command and `WAIT 1 <ms>` go
    /// as one pipeline on the dedicated connection, to the master of `key`'s slot, and the
    /// answer counts only if a replica confirmed it.
    ///
    /// # Errors
    ///
    /// As [`query`](Self::query); [`StoreError::NotReplicated`] when no replica confirmed in
    /// time.
    pub async fn write<T: FromRedisValue>(
        &self,
        cmd: &redis::Cmd,
        key: &str,
    ) -> Result<T, StoreError> {
        if self.durable_conn.is_none() {
            return self.query(cmd).await;
        }
        let value = self.durable(cmd.clone(), key).await?;
        T::from_redis_value(value).map_err(|e| StoreError::from_redis(e.into(), &self.addr))
    }

    /// Runs a script that writes, confirmed as [`durability`](Self::durability) says (see
    /// [`write`](Self::write)); `keys[0]` names the slot.
    ///
    /// # Errors
    ///
    /// As [`write`](Self::write).
    pub async fn run_write(
        &self,
        script: &LuaScript,
        keys: &[&str],
        args: &[&str],
    ) -> Result<Value, StoreError> {
        if self.durable_conn.is_none() {
            return self.run(script, keys, args).await;
        }
        let key = keys.first().copied().unwrap_or_default();
        let call = |verb: &str, body: &str| {
            let mut cmd = redis::cmd(verb);
            cmd.arg(body).arg(keys.len()).arg(keys).arg(args);
            cmd
        };
        match self.durable(call("EVALSHA", script.sha1()), key).await {
            Err(StoreError::Redis { source, .. })
                if source.kind() == redis::ErrorKind::Server(redis::ServerErrorKind::NoScript) =>
            {
                self.durable(call("EVAL", script.source()), key).await
            }
            other => other,
        }
    }

    /// `cmd` then `WAIT <replicas> <ms>`, one pipeline on the dedicated connection to the
    /// master of `key`'s slot (on a cluster, routed explicitly: `WAIT` names no key, and
    /// redis-rs would otherwise send it to every master). `WAIT` counts the replicas that
    /// have everything *this connection* wrote, so it must follow the write on the same
    /// connection to the same node. Returns the command's answer.
    async fn durable(&self, cmd: redis::Cmd, key: &str) -> Result<Value, StoreError> {
        let Durability::Replica { timeout } = self.durability else {
            return self.query(&cmd).await;
        };
        let Some(conn) = &self.durable_conn else {
            return self.query(&cmd).await;
        };
        let wanted = durability::REPLICAS;
        let mut pipe = redis::pipe();
        pipe.ignore_errors()
            .add_command(cmd)
            .cmd("WAIT")
            .arg(wanted)
            .arg(u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX));
        let values: Vec<Value> = match conn {
            Conn::Single(conn) => {
                let mut conn = conn.clone();
                self.bounded(pipe.query_async::<Vec<Value>>(&mut conn))
                    .await?
            }
            Conn::Cluster(conn) => {
                use redis::cluster_routing::{Route, SingleNodeRoutingInfo, SlotAddr};
                let mut conn = conn.clone();
                let route =
                    SingleNodeRoutingInfo::SpecificNode(Route::with_key(key, SlotAddr::Master));
                self.bounded(conn.route_pipeline(pipe, 0, 2, route)).await?
            }
        };
        let mut values = values.into_iter();
        let (Some(answer), Some(acks)) = (values.next(), values.next()) else {
            return Err(StoreError::from_redis(
                redis::RedisError::from((redis::ErrorKind::Client, "WAIT pipeline: short reply")),
                &self.addr,
            ));
        };
        let answer = answer
            .extract_error()
            .map_err(|e| StoreError::from_redis(e, &self.addr))?;
        let acks: i64 = acks
            .extract_error()
            .and_then(|v| i64::from_redis_value(v).map_err(redis::RedisError::from))
            .map_err(|e| StoreError::from_redis(e, &self.addr))?;
        if acks < i64::from(wanted) {
            return Err(StoreError::NotReplicated {
                addr: self.addr.clone(),
                wanted,
                timeout,
            });
        }
        Ok(answer)
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
