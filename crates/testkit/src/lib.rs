//! Test infrastructure for session-vs-jwt: real services on demand, and the contract as a test.
//!
//! Two things live here, both used by every backend's tests and by the CLI:
//!
//! - **Throwaway services.** [`RedisServer`] starts a private `redis-server` from the system
//!   binary on a free loopback port in a temporary directory, waits until it answers, and kills
//!   it on drop. It can also [`stop`](RedisServer::stop) and [`restart`](RedisServer::restart)
//!   on the same port, so tests can pull Redis out from under a live backend and watch it fail
//!   closed, then heal. Never a mock: the behaviour under test *is* Redis's behaviour.
//! - **The conformance suite.** [`conformance`] is the executable form of the
//!   [`Authenticator`](authbench_core::Authenticator) contract. Every backend runs it against a
//!   real store; a violation panics with a message naming the check and the input.
//!
//! A test that needs a service this machine does not have **fails**, with a message that says
//! how to install it ([`REDIS_INSTALL_HINT`]). It never skips silently: a skipped test reads
//! like a passing one.
//!
//! # Layout
//!
//! - `redis`: [`RedisServer`], [`RedisServerOptions`], and the binary finders
//!   [`find_redis_server`], [`redis_cli_path`], [`redis_server_version`].
//! - `cluster`: [`RedisCluster`] (a private Redis Cluster, 3 masters or 3 + 3 replicas) and
//!   [`failover_experiment`] (acknowledged logouts lost in a master failover).
//! - `conformance`: [`conformance`], [`ConformanceOptions`], [`ConformanceReport`].
//! - `error`: [`TestkitError`].
//! - `postgres`: [`PostgresServer`], [`PostgresServerOptions`], [`find_postgres_bin_dir`],
//!   [`postgres_version`]: a private PostgreSQL (as the `postgres` user when we are root).
//! - `proxy`: [`LatencyProxy`], a TCP proxy that adds a delay each way ("Redis 1 ms away").

mod cluster;
mod conformance;
mod error;
mod postgres;
mod proxy;
mod redis;

pub use cluster::{
    ClusterNodeInfo, FailoverOptions, FailoverReport, LostRevocation, NodeAcks, NodeRole,
    RECENT_WINDOW, RedisCluster, RedisClusterOptions, ReplicationSnapshot, failover_experiment,
};
pub use conformance::{ConformanceOptions, ConformanceReport, HUGE_INPUT_BYTES, conformance};
pub use error::{REDIS_INSTALL_HINT, TestkitError};
pub use postgres::{
    PG_BIN_ENV, POSTGRES_INSTALL_HINT, POSTGRES_SUPERUSER, PostgresServer, PostgresServerOptions,
    find_postgres_bin_dir, postgres_version,
};
pub use proxy::{LatencyProxy, ProxyStats};
pub use redis::{
    REDIS_CLI_ENV, REDIS_SERVER_ENV, RedisServer, RedisServerOptions, find_redis_server,
    redis_cli_path, redis_server_version,
};
