//! Everything a deployment chooses, with the defaults written down.

use crate::error::SessionError;
use authbench_store::{Durability, RedisTarget};
use std::time::Duration;

/// Fewest random bytes a session ID may have: 16 bytes = 128 bits, the OWASP / ASVS 5 (7.2.3)
/// floor. With 2^128 possible IDs, guessing a live one is hopeless even against millions of
/// sessions and billions of tries.
pub const MIN_ID_BYTES: usize = 16;

/// Most random bytes a session ID may have: 64 bytes = 512 bits. More buys nothing but longer
/// cookies, and the cap keeps the decoding buffer on the stack.
pub const MAX_ID_BYTES: usize = 64;

/// How a [`SessionBackend`](crate::SessionBackend) talks to Redis and how long sessions live.
///
/// `Default` gives the documented defaults with a local Redis URL; [`SessionConfig::new`] takes
/// the URL and keeps the other defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionConfig {
    /// Where Redis is, e.g. `redis://127.0.0.1:6379/` or `redis://:password@host:6379/0`.
    /// Only host and port ever appear in errors and logs; a password never does.
    ///
    /// Defaults to `redis://127.0.0.1:6379/`.
    pub redis_url: String,
    /// Seed nodes of a Redis Cluster (`redis://host:port/` URLs). When non-empty, the backend
    /// talks to the cluster and ignores `redis_url`. Build it with
    /// [`SessionConfig::for_target`] and [`RedisTarget::cluster`] (`"host:port,host:port"`).
    ///
    /// Defaults to empty (a single Redis at `redis_url`).
    pub redis_cluster: Vec<String>,
    /// Idle timeout: a session unused for this many seconds is over. Every successful verify
    /// slides it. OWASP suggests 15–30 minutes for low-risk applications.
    ///
    /// Defaults to 1800 (30 minutes).
    pub idle_timeout_secs: u64,
    /// Absolute timeout: a session older than this many seconds is over, however busy. Bounds
    /// the damage of a stolen ID that the thief keeps "warm". OWASP suggests 4–8 hours.
    ///
    /// Defaults to 28800 (8 hours).
    pub absolute_timeout_secs: u64,
    /// Random bytes per session ID, from the OS CSPRNG; the ID is their base64url form
    /// (32 bytes → 43 characters). At least [`MIN_ID_BYTES`] (128 bits), at most
    /// [`MAX_ID_BYTES`].
    ///
    /// Defaults to 32 (256 bits).
    pub id_bytes: usize,
    /// Prefix of every Redis key this backend writes (`<prefix>:session:…`,
    /// `<prefix>:user:…`), so several deployments can share one Redis.
    ///
    /// Defaults to `authbench`.
    pub key_prefix: String,
    /// How long one attempt to (re)connect to Redis may take.
    ///
    /// Defaults to 1 s (redis-rs 1.x's default, written down so it cannot drift).
    pub connect_timeout: Duration,
    /// How long one Redis command may wait for its answer.
    ///
    /// Defaults to 500 ms (redis-rs 1.x's default, written down). A loopback round trip takes
    /// ~50 µs, so this only ever fires on a hung or unreachable server.
    pub response_timeout: Duration,
    /// How a logout (`revoke`: the record's `DEL`) and "log out everywhere" (`revoke_all`: the
    /// index script) must be confirmed before they return `Ok`: [`Durability::Replica`] waits
    /// for a replica (`WAIT 1 <timeout>` on the node that took the write) and fails closed
    /// (`Unavailable`, 503: not acknowledged) when none confirms in time, so an acknowledged
    /// logout survives a failover. Logins and the idle slide are never waited for.
    ///
    /// Defaults to [`Durability::None`] (the master's `OK`; asynchronous replication).
    pub revocation_durability: Durability,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            redis_url: "redis://127.0.0.1:6379/".to_owned(),
            redis_cluster: Vec::new(),
            idle_timeout_secs: 1800,
            absolute_timeout_secs: 28_800,
            id_bytes: 32,
            key_prefix: "authbench".to_owned(),
            connect_timeout: Duration::from_secs(1),
            response_timeout: Duration::from_millis(500),
            revocation_durability: Durability::None,
        }
    }
}

impl SessionConfig {
    /// The defaults, with Redis at `redis_url`.
    pub fn new(redis_url: impl Into<String>) -> Self {
        Self {
            redis_url: redis_url.into(),
            ..Self::default()
        }
    }

    /// The defaults, with Redis at `target` (a server or a cluster).
    pub fn for_target(target: RedisTarget) -> Self {
        match target {
            RedisTarget::Cluster(seeds) => Self {
                redis_cluster: seeds,
                ..Self::default()
            },
            RedisTarget::Single(url) => Self::new(url),
            // `RedisTarget` is non-exhaustive; a future kind is refused at connect.
            other => Self::new(other.describe()),
        }
    }

    /// Where Redis is: the cluster when [`redis_cluster`](Self::redis_cluster) names seeds,
    /// else the server at [`redis_url`](Self::redis_url).
    pub fn redis_target(&self) -> RedisTarget {
        if self.redis_cluster.is_empty() {
            RedisTarget::Single(self.redis_url.clone())
        } else {
            RedisTarget::Cluster(self.redis_cluster.clone())
        }
    }

    /// Seconds a fresh, unused session lives: the idle timeout, unless the absolute one is
    /// shorter. This is [`Credential::expires_in`](authbench_core::Credential::expires_in).
    pub fn initial_lifetime_secs(&self) -> u64 {
        self.idle_timeout_secs.min(self.absolute_timeout_secs)
    }

    /// Refuses configurations that would be insecure or could never work.
    ///
    /// # Errors
    ///
    /// [`SessionError::Config`] naming the offending field.
    pub fn validate(&self) -> Result<(), SessionError> {
        let fail = |why: String| Err(SessionError::Config(why));
        if self.id_bytes < MIN_ID_BYTES {
            return fail(format!(
                "id_bytes = {} is below the 128-bit floor ({MIN_ID_BYTES} bytes)",
                self.id_bytes
            ));
        }
        if self.id_bytes > MAX_ID_BYTES {
            return fail(format!(
                "id_bytes = {} is above the maximum of {MAX_ID_BYTES}",
                self.id_bytes
            ));
        }
        if self.idle_timeout_secs == 0 || self.absolute_timeout_secs == 0 {
            return fail("idle_timeout_secs and absolute_timeout_secs must be at least 1".into());
        }
        if self.key_prefix.is_empty() || self.key_prefix.contains(char::is_whitespace) {
            return fail("key_prefix must be non-empty and without whitespace".into());
        }
        authbench_store::check_key_prefix(&self.key_prefix)
            .map_err(|e| SessionError::Config(e.to_string()))?;
        if self.connect_timeout.is_zero() || self.response_timeout.is_zero() {
            return fail(
                "connect_timeout and response_timeout must be positive: without them a dead \
                 Redis hangs every request"
                    .into(),
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_documented_ones() {
        let c = SessionConfig::default();
        assert_eq!(c.idle_timeout_secs, 1800);
        assert_eq!(c.absolute_timeout_secs, 28_800);
        assert_eq!(c.id_bytes, 32);
        assert_eq!(c.key_prefix, "authbench");
        assert_eq!(c.connect_timeout, Duration::from_secs(1));
        assert_eq!(c.response_timeout, Duration::from_millis(500));
        assert_eq!(c.initial_lifetime_secs(), 1800);
        assert_eq!(c.revocation_durability, Durability::None);
        c.validate().expect("defaults are valid");
    }

    #[test]
    fn refuses_short_ids_and_zero_timeouts() {
        let short = SessionConfig {
            id_bytes: 15,
            ..SessionConfig::default()
        };
        assert!(matches!(short.validate(), Err(SessionError::Config(m)) if m.contains("128-bit")));
        let zero = SessionConfig {
            response_timeout: Duration::ZERO,
            ..SessionConfig::default()
        };
        assert!(zero.validate().is_err());
        let idle0 = SessionConfig {
            idle_timeout_secs: 0,
            ..SessionConfig::default()
        };
        assert!(idle0.validate().is_err());
    }

    #[test]
    fn initial_lifetime_is_capped_by_the_absolute_timeout() {
        let c = SessionConfig {
            idle_timeout_secs: 600,
            absolute_timeout_secs: 60,
            ..SessionConfig::default()
        };
        assert_eq!(c.initial_lifetime_secs(), 60);
    }
}
