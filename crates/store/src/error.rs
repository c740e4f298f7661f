//! [`StoreError`]: what can go wrong talking to Redis, and how it maps onto the core's classes.
//!
//! The mapping is the security-relevant part: anything that means *Redis cannot serve us right
//! now* is [`ErrorKind::Unavailable`] (the server answers 503 and lets nobody in: fail closed);
//! an answer we did not expect is [`ErrorKind::Internal`] (500, logged loudly), never a guess.

use authbench_core::{Error, ErrorKind};
use std::time::Duration;

/// Everything that can go wrong between a backend and Redis. No variant carries a key, a
/// value or a URL with a password: `addr` is `host:port`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// Redis could not be reached, refused the connection, dropped it, or is not serving.
    #[error("Redis at {addr} unavailable: {source}")]
    Unavailable {
        /// Host and port (never credentials).
        addr: String,
        /// What redis-rs reported.
        #[source]
        source: redis::RedisError,
    },

    /// Redis did not answer within the operation's deadline.
    #[error("Redis at {addr} did not answer within {after:?}")]
    TimedOut {
        /// Host and port.
        addr: String,
        /// The deadline that passed.
        after: Duration,
    },

    /// Redis answered with an error we did not expect (a script error, a permission problem).
    #[error("Redis at {addr} failed: {source}")]
    Redis {
        /// Host and port.
        addr: String,
        /// What redis-rs reported.
        #[source]
        source: redis::RedisError,
    },

    /// A per-user index kept changing under a multi-key operation (a user logging in again
    /// and again during "log out everywhere"): nothing was changed; try again later.
    #[error("Redis at {addr}: index changed under {attempts} attempts; not applied")]
    Contended {
        /// Host and port.
        addr: String,
        /// Snapshots taken.
        attempts: usize,
    },

    /// A write that had to reach a replica before it was acknowledged
    /// ([`Durability::Replica`](crate::Durability::Replica)) was not confirmed by one within
    /// the timeout (`WAIT` answered fewer replicas). The write may have happened on the master;
    /// the caller must not tell its client it did (fail closed: 503, try again).
    #[error(
        "Redis at {addr}: the write was not confirmed by {wanted} replica(s) within {timeout:?}          (revocation-durability replica); not acknowledged"
    )]
    NotReplicated {
        /// Host and port (of the node that took the write, on a cluster its seeds).
        addr: String,
        /// Replicas that had to confirm.
        wanted: u32,
        /// How long `WAIT` waited.
        timeout: Duration,
    },

    /// The URL or the timeouts were refused before any connection was tried.
    #[error("invalid Redis configuration: {0}")]
    Config(String),
}

impl StoreError {
    /// The core kind this error maps to: `Unavailable` for an absent Redis, `Internal` for the
    /// rest.
    pub fn kind(&self) -> ErrorKind {
        match self {
            StoreError::Unavailable { .. }
            | StoreError::TimedOut { .. }
            | StoreError::Contended { .. }
            | StoreError::NotReplicated { .. } => ErrorKind::Unavailable,
            StoreError::Redis { .. } | StoreError::Config(_) => ErrorKind::Internal,
        }
    }

    /// Sorts a redis-rs error into "Redis is not there" versus "Redis said something odd".
    pub fn from_redis(source: redis::RedisError, addr: &str) -> Self {
        if is_unavailable(&source) {
            StoreError::Unavailable {
                addr: addr.to_owned(),
                source,
            }
        } else {
            StoreError::Redis {
                addr: addr.to_owned(),
                source,
            }
        }
    }
}

/// Whether a redis-rs error means the store cannot serve us right now (as opposed to a bug).
pub fn is_unavailable(e: &redis::RedisError) -> bool {
    use redis::{ErrorKind as K, ServerErrorKind as S};
    e.is_io_error()
        || e.is_timeout()
        || e.is_connection_refusal()
        || e.is_connection_dropped()
        || matches!(
            e.kind(),
            K::Server(
                S::BusyLoading
                    | S::TryAgain
                    | S::ClusterDown
                    | S::MasterDown
                    | S::ReadOnly
                    // A cluster redirect still pending when the client's retries ran out: the
                    // slot is moving (failover, resharding), not a bug.
                    | S::Moved
                    | S::Ask
            ) | K::ClusterConnectionNotFound
        )
        // Out of memory under `maxmemory`: Redis is up but cannot take the write.
        || e.code() == Some("OOM")
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        let kind = e.kind();
        let detail = e.to_string();
        Error::new(kind, detail).with_source(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use authbench_core::ErrorClass;

    #[test]
    fn classes_fail_closed() {
        let io =
            redis::RedisError::from(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        let e = StoreError::from_redis(io, "127.0.0.1:1");
        assert_eq!(Error::from(e).class(), ErrorClass::Unavailable);

        let timeout = StoreError::TimedOut {
            addr: "h:1".into(),
            after: Duration::from_millis(1),
        };
        assert_eq!(timeout.kind(), ErrorKind::Unavailable);

        let script = redis::RedisError::from((redis::ErrorKind::Client, "odd"));
        let e = StoreError::from_redis(script, "h:1");
        assert_eq!(e.kind(), ErrorKind::Internal);
        assert_eq!(StoreError::Config("x".into()).kind(), ErrorKind::Internal);
    }
}
