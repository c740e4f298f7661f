//! Shared set-up for the session tests: a private Redis and a backend on a manual clock.

#![allow(dead_code)] // Each test file uses a different subset.

use authbench_core::{Identity, ManualClock};
use authbench_services::RedisServer;
use authbench_session::{SessionBackend, SessionConfig};
use std::sync::Arc;

/// A private Redis, a backend on a manual clock, and the clock.
pub struct Fixture {
    pub redis: RedisServer,
    pub backend: Arc<SessionBackend>,
    pub clock: ManualClock,
}

/// Starts Redis (failing with install instructions if it is missing) and connects a backend.
pub async fn fixture() -> Fixture {
    fixture_with(|_| {}).await
}

/// As [`fixture`], with the configuration adjusted by `tweak`.
pub async fn fixture_with(tweak: impl FnOnce(&mut SessionConfig)) -> Fixture {
    let redis = RedisServer::start().unwrap_or_else(|e| panic!("{e}"));
    let clock = ManualClock::at_system_time();
    let mut config = SessionConfig::new(redis.url());
    tweak(&mut config);
    let backend = SessionBackend::connect(config, Arc::new(clock.clone()))
        .await
        .unwrap_or_else(|e| panic!("connecting to the private Redis: {e}"));
    Fixture {
        redis,
        backend: Arc::new(backend),
        clock,
    }
}

/// A raw redis-rs connection, to look at what the backend stored.
pub async fn raw(redis: &RedisServer) -> redis::aio::MultiplexedConnection {
    redis::Client::open(redis.url())
        .expect("url")
        .get_multiplexed_async_connection()
        .await
        .expect("raw connection")
}

pub fn alice() -> Identity {
    Identity {
        subject: "alice".into(),
        tenant: "acme".into(),
        roles: vec!["user".into()],
    }
}

pub fn bob() -> Identity {
    Identity {
        subject: "bob".into(),
        tenant: "globex".into(),
        roles: vec!["user".into()],
    }
}

/// The members of a user's index (a sorted set scored by deadline), oldest deadline first.
pub async fn index_members(
    conn: &mut redis::aio::MultiplexedConnection,
    index: &str,
) -> Vec<String> {
    redis::cmd("ZRANGE")
        .arg(index)
        .arg(0)
        .arg(-1)
        .query_async(conn)
        .await
        .expect("zrange")
}

/// Every key matching `pattern` (Redis `KEYS`: fine on a private test server, never in
/// production code).
pub async fn keys(conn: &mut redis::aio::MultiplexedConnection, pattern: &str) -> Vec<String> {
    redis::cmd("KEYS")
        .arg(pattern)
        .query_async(conn)
        .await
        .expect("keys")
}
