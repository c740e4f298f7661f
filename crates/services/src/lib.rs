//! Real services on demand for session-vs-jwt: a private `redis-server`, a private Redis
//! Cluster, a private PostgreSQL, and a latency-injecting TCP proxy, all started from the
//! system binaries on free loopback ports in temporary directories and stopped on drop.
//!
//! `authbench serve` (a private Redis or PostgreSQL when none is given), `authbench compare`,
//! the soak and every test that needs a service start them from here. This is runtime code,
//! not test scaffolding: the contract's executable test (the conformance suite) lives in
//! `authbench-testkit`, which only tests depend on.
//!
//! A caller that needs a service this machine does not have gets
//! [`ServiceError::BinaryNotFound`] with a message that says how to install it
//! ([`REDIS_INSTALL_HINT`], [`POSTGRES_INSTALL_HINT`]). Nothing here skips or falls back to a
//! mock: the behaviour under measurement *is* Redis's and PostgreSQL's.
//!
//! Everything is synchronous (`std::process`, `std::net`): the spawners drive `redis-cli` and
//! PostgreSQL's binaries and parse their text, so the crate needs no Redis or PostgreSQL client
//! and no async runtime.
//!
//! # Layout
//!
//! - `redis`: [`RedisServer`], [`RedisServerOptions`], and the binary finders
//!   [`find_redis_server`], [`redis_cli_path`], [`redis_server_version`]. A server can be
//!   stopped and restarted on the same port, or frozen (SIGSTOP) and thawed: the outage tests.
//! - `cluster`: [`RedisCluster`] (3 masters, or 3 + 3 replicas), its node list
//!   ([`ClusterNodeInfo`]), the kill and failover waits, and [`ReplicationSnapshot`] (a node's
//!   `INFO replication`).
//! - `postgres`: [`PostgresServer`], [`PostgresServerOptions`], [`find_postgres_bin_dir`],
//!   [`postgres_version`]: a private PostgreSQL (as the `postgres` user when we are root).
//! - `proxy`: [`LatencyProxy`], a TCP proxy that adds a delay each way ("Redis 1 ms away").
//! - `error`: [`ServiceError`] and the install hints.

mod cluster;
mod error;
mod postgres;
mod proxy;
mod redis;

pub use cluster::{
    ClusterNodeInfo, NodeRole, POLL_INTERVAL, RedisCluster, RedisClusterOptions,
    ReplicationSnapshot, parse_replication,
};
pub use error::{REDIS_INSTALL_HINT, ServiceError};
pub use postgres::{
    PG_BIN_ENV, POSTGRES_INSTALL_HINT, POSTGRES_SUPERUSER, PostgresServer, PostgresServerOptions,
    find_postgres_bin_dir, postgres_version,
};
pub use proxy::{LatencyProxy, ProxyStats};
pub use redis::{
    REDIS_CLI_ENV, REDIS_SERVER_ENV, RedisServer, RedisServerOptions, find_redis_server,
    redis_cli_path, redis_server_version,
};
