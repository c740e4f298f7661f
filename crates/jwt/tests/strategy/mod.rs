//! Shared set-up for the revocation-strategy tests: a private Redis, backends on a manual
//! clock, and Redis's own command counters (to count round trips without MONITOR).
#![allow(dead_code)] // Each test file uses a different subset.

use authbench_core::{Error, ErrorKind, Identity, ManualClock};
use authbench_jwt::{Alg, JwtBackend, JwtConfig, Revocation, SigningKey};
use authbench_services::RedisServer;
use std::sync::Arc;

pub struct Fixture {
    pub redis: RedisServer,
    pub clock: ManualClock,
    pub config: JwtConfig,
}

impl Fixture {
    pub fn new(revocation: Revocation) -> Self {
        Self::with(revocation, |_| {})
    }

    pub fn with(revocation: Revocation, tweak: impl FnOnce(&mut JwtConfig)) -> Self {
        let redis = RedisServer::start().unwrap_or_else(|e| panic!("{e}"));
        let mut config = JwtConfig::new(Alg::ES256).with_revocation(revocation);
        tweak(&mut config);
        Self {
            redis,
            clock: ManualClock::at_system_time(),
            config,
        }
    }

    /// A backend instance on this Redis with a fresh key.
    pub async fn backend(&self) -> Arc<JwtBackend> {
        Arc::new(
            JwtBackend::connect(
                self.config.clone(),
                Arc::new(self.clock.clone()),
                &self.redis.url(),
            )
            .await
            .unwrap_or_else(|e| panic!("connecting: {e}")),
        )
    }

    /// Two instances with one key, like two servers of one deployment behind a load
    /// balancer, sharing one Redis.
    pub async fn pair(&self) -> (Arc<JwtBackend>, Arc<JwtBackend>) {
        let pem = SigningKey::generate(Alg::ES256)
            .expect("key")
            .private_key_pem()
            .expect("pem");
        let mut pair = Vec::new();
        for _ in 0..2 {
            let key = SigningKey::from_pem(Alg::ES256, pem.as_bytes()).expect("same key");
            pair.push(Arc::new(
                JwtBackend::connect_with_key(
                    self.config.clone(),
                    key,
                    Arc::new(self.clock.clone()),
                    &self.redis.url(),
                )
                .await
                .unwrap_or_else(|e| panic!("connecting: {e}")),
            ));
        }
        let b = pair.pop().expect("two");
        let a = pair.pop().expect("two");
        (a, b)
    }

    pub async fn raw(&self) -> redis::aio::MultiplexedConnection {
        redis::Client::open(self.redis.url())
            .expect("url")
            .get_multiplexed_async_connection()
            .await
            .expect("raw connection")
    }

    /// How many times Redis has run `command` (from `INFO commandstats`), 0 if never.
    pub async fn calls(&self, command: &str) -> u64 {
        let mut conn = self.raw().await;
        let info: String = redis::cmd("INFO")
            .arg("commandstats")
            .query_async(&mut conn)
            .await
            .expect("INFO");
        let needle = format!("cmdstat_{command}:calls=");
        info.lines()
            .find_map(|l| l.strip_prefix(&needle))
            .and_then(|rest| rest.split(',').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    }

    /// Sum of the calls of the commands a verify could send (scripts and reads).
    pub async fn data_calls(&self) -> u64 {
        let mut total = 0;
        for c in ["get", "mget", "evalsha", "eval", "set", "hget", "hmget"] {
            total += self.calls(c).await;
        }
        total
    }
}

pub fn who(subject: &str) -> Identity {
    Identity {
        subject: subject.into(),
        tenant: "acme".into(),
        roles: vec!["user".into()],
    }
}

#[track_caller]
pub fn kind<T: std::fmt::Debug>(r: Result<T, Error>) -> ErrorKind {
    match r {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => e.kind(),
    }
}
