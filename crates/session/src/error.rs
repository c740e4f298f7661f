//! The session backend's own errors, and how they map onto the core's three classes.
//!
//! The mapping is the security-relevant part: anything that went wrong *talking to Redis* is
//! [`ErrorKind::Unavailable`] (the server answers 503 and lets nobody in: fail closed); a bad
//! or dead session ID is a *rejection* (401); a record we cannot read is
//! [`ErrorKind::Internal`] (500, logged loudly), never a guess.

use authbench_core::{Error, ErrorKind};
use authbench_store::StoreError;

/// Which timeout ended a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// Unused for longer than the idle timeout.
    Idle,
    /// Older than the absolute timeout, however active.
    Absolute,
}

impl std::fmt::Display for Expiry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Expiry::Idle => "idle",
            Expiry::Absolute => "absolute",
        })
    }
}

/// Everything that can go wrong in the session backend. No variant ever carries a session ID.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The presented session ID was empty.
    #[error("no session ID presented")]
    Missing,

    /// Longer than any session ID could be; refused without looking at it.
    #[error("session ID of {len} bytes refused unread (limit {max})")]
    TooLarge {
        /// Bytes presented.
        len: usize,
        /// The cap.
        max: usize,
    },

    /// Not shaped like one of our IDs (length, alphabet, encoding). Decided without Redis.
    #[error("not a session ID of this server: {0}")]
    Malformed(&'static str),

    /// Well formed, but no record: never issued, logged out, or already expired and removed.
    #[error("no live session for this ID")]
    UnknownSession,

    /// The record was there but past a timeout; it has now been deleted.
    #[error("session ended by its {0} timeout")]
    Expired(Expiry),

    /// Talking to Redis failed: unreachable, too slow, an unexpected error, or an index that
    /// kept changing under "log out everywhere". Wrapped, not mirrored: `authbench-store`
    /// decides once, for every backend, which of these mean "Redis cannot serve us"
    /// ([`ErrorKind::Unavailable`], 503) and which are bugs ([`ErrorKind::Internal`], 500).
    #[error(transparent)]
    Store(#[from] StoreError),

    /// A session record that does not have the shape this backend writes.
    #[error("corrupt session record: {0}")]
    CorruptRecord(String),

    /// The configuration was refused at construction.
    #[error("invalid session configuration: {0}")]
    Config(String),

    /// The operating system's random number generator failed (nothing safe to do but stop).
    #[error("the OS random generator failed: {0}")]
    Random(#[from] getrandom::Error),
}

impl SessionError {
    /// The core kind this error maps to.
    pub fn kind(&self) -> ErrorKind {
        match self {
            SessionError::Missing => ErrorKind::Missing,
            SessionError::TooLarge { .. } => ErrorKind::TooLarge,
            SessionError::Malformed(_) => ErrorKind::Malformed,
            SessionError::UnknownSession => ErrorKind::UnknownSession,
            SessionError::Expired(_) => ErrorKind::Expired,
            SessionError::Store(e) => e.kind(),
            SessionError::CorruptRecord(_) | SessionError::Config(_) | SessionError::Random(_) => {
                ErrorKind::Internal
            }
        }
    }
}

impl From<SessionError> for Error {
    fn from(e: SessionError) -> Self {
        let kind = e.kind();
        let detail = e.to_string();
        Error::new(kind, detail).with_source(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use authbench_core::ErrorClass;
    use std::time::Duration;

    #[test]
    fn classes_fail_closed() {
        let io =
            redis::RedisError::from(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        let e = SessionError::from(StoreError::from_redis(io, "127.0.0.1:1"));
        assert_eq!(Error::from(e).class(), ErrorClass::Unavailable);

        let timeout = SessionError::from(StoreError::TimedOut {
            addr: "h:1".into(),
            after: Duration::from_millis(1),
        });
        assert_eq!(timeout.kind(), ErrorKind::Unavailable);

        // A user's index that kept changing under "log out everywhere" is the store being
        // unable to serve us (503), exactly as for the JWT strategies: never a 500.
        let contended = SessionError::from(StoreError::Contended {
            addr: "h:1".into(),
            attempts: 5,
        });
        assert_eq!(contended.kind(), ErrorKind::Unavailable);

        let script = redis::RedisError::from((redis::ErrorKind::Client, "odd"));
        let e = SessionError::from(StoreError::from_redis(script, "h:1"));
        assert_eq!(e.kind(), ErrorKind::Internal);

        assert_eq!(
            SessionError::CorruptRecord("x".into()).kind(),
            ErrorKind::Internal
        );
        assert_eq!(
            SessionError::Expired(Expiry::Idle).kind(),
            ErrorKind::Expired
        );
        assert_eq!(
            SessionError::UnknownSession.kind().class(),
            ErrorClass::Rejected
        );
    }

    #[test]
    fn conversion_keeps_kind_detail_and_source() {
        let e: Error = SessionError::Expired(Expiry::Absolute).into();
        assert_eq!(e.kind(), ErrorKind::Expired);
        assert_eq!(
            e.to_string(),
            "expired: session ended by its absolute timeout"
        );
        assert!(std::error::Error::source(&e).is_some());
    }
}
