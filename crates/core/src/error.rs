//! One error type for every backend, in layers.
//!
//! Backends keep their own rich error enums and convert into this opaque [`Error`]; callers
//! decide what to do from [`Error::kind`] and, above all, from [`ErrorKind::class`]: a
//! *rejected* credential is the client's problem (HTTP 401), an *unavailable* store is ours
//! (HTTP 503, and never a success), an *unsupported* operation is a property of the design.

use std::fmt;

/// Why an operation failed. Matching code must keep a `_` arm: kinds are added over time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    // --- The credential was rejected (the client's fault, or an attacker's). ---
    /// No credential was presented.
    Missing,
    /// Not shaped like a credential of this backend (bad encoding, wrong segment count,
    /// header or payload not JSON, wrong length).
    Malformed,
    /// Larger than the backend's cap; refused before any decoding.
    TooLarge,
    /// The token names an algorithm the verifier does not allow (including `none`).
    AlgorithmNotAllowed,
    /// The token names a key (`kid`) the verifier does not hold.
    UnknownKey,
    /// The signature (or MAC) does not match.
    BadSignature,
    /// Past its expiry (`exp`, or a session's idle or absolute timeout).
    Expired,
    /// Not valid yet (`nbf` in the future).
    NotYetValid,
    /// Issued in the future (`iat` later than now plus the leeway): a clock or a forgery problem.
    IssuedInFuture,
    /// Issued by someone else (`iss`).
    WrongIssuer,
    /// Meant for someone else (`aud`).
    WrongAudience,
    /// Of another token type (`typ`), e.g. a refresh or ID token presented as an access token.
    WrongType,
    /// A required claim is absent.
    MissingClaim,
    /// The header marks an extension critical (`crit`) that the verifier does not understand.
    UnsupportedCritical,
    /// Revoked before its natural expiry.
    Revoked,
    /// A well-formed session ID with no live session behind it (never issued, expired, or
    /// logged out: the store cannot tell which, and neither do we).
    UnknownSession,

    // --- The check could not be made (our fault). ---
    /// The store the check needs is unreachable or timed out.
    Unavailable,

    // --- The design cannot do this. ---
    /// The backend's design does not support the operation (e.g. revoking a plain JWT).
    Unsupported,

    // --- Neither: a bug or a misconfiguration. ---
    /// An internal failure: a corrupt store record, a key that failed to load.
    Internal,
}

/// The three things a caller needs to tell apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// The credential is not acceptable: answer 401, log at debug level.
    Rejected,
    /// The check could not be made: answer 503 and never let the request through.
    Unavailable,
    /// The backend cannot do this by design.
    Unsupported,
    /// A bug or misconfiguration: answer 500 and log loudly.
    Internal,
}

impl ErrorKind {
    /// The class of this kind.
    pub fn class(self) -> ErrorClass {
        match self {
            ErrorKind::Unavailable => ErrorClass::Unavailable,
            ErrorKind::Unsupported => ErrorClass::Unsupported,
            ErrorKind::Internal => ErrorClass::Internal,
            _ => ErrorClass::Rejected,
        }
    }

    /// Whether the credential itself was rejected (as opposed to the check failing).
    pub fn is_rejected(self) -> bool {
        self.class() == ErrorClass::Rejected
    }

    /// A stable, lower-case, machine-readable name (`bad_signature`), used in HTTP error
    /// bodies, the CLI and the load generator's error counts.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Missing => "missing",
            ErrorKind::Malformed => "malformed",
            ErrorKind::TooLarge => "too_large",
            ErrorKind::AlgorithmNotAllowed => "algorithm_not_allowed",
            ErrorKind::UnknownKey => "unknown_key",
            ErrorKind::BadSignature => "bad_signature",
            ErrorKind::Expired => "expired",
            ErrorKind::NotYetValid => "not_yet_valid",
            ErrorKind::IssuedInFuture => "issued_in_future",
            ErrorKind::WrongIssuer => "wrong_issuer",
            ErrorKind::WrongAudience => "wrong_audience",
            ErrorKind::WrongType => "wrong_type",
            ErrorKind::MissingClaim => "missing_claim",
            ErrorKind::UnsupportedCritical => "unsupported_critical",
            ErrorKind::Revoked => "revoked",
            ErrorKind::UnknownSession => "unknown_session",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::Internal => "internal",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An authentication error: a [`kind`](Self::kind), a human-readable detail, and optionally
/// the underlying cause.
///
/// The detail and the cause never contain the credential.
pub struct Error {
    inner: Box<Inner>,
}

struct Inner {
    kind: ErrorKind,
    detail: String,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl Error {
    /// An error of `kind` with a human-readable `detail` (no secrets).
    pub fn new(kind: ErrorKind, detail: impl Into<String>) -> Self {
        Self {
            inner: Box::new(Inner {
                kind,
                detail: detail.into(),
                source: None,
            }),
        }
    }

    /// Attaches the underlying cause.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.inner.source = Some(Box::new(source));
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// Shorthand for `self.kind().class()`.
    pub fn class(&self) -> ErrorClass {
        self.inner.kind.class()
    }

    /// The human-readable detail.
    pub fn detail(&self) -> &str {
        &self.inner.detail
    }

    /// An [`ErrorKind::Unsupported`] error for `operation` on a backend named `backend`.
    pub fn unsupported(backend: &str, operation: &str) -> Self {
        Self::new(
            ErrorKind::Unsupported,
            format!("{backend} cannot {operation} by design"),
        )
    }
}

impl From<ErrorKind> for Error {
    fn from(kind: ErrorKind) -> Self {
        Self::new(kind, kind.as_str())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.inner.kind)
            .field("detail", &self.inner.detail);
        if let Some(source) = &self.inner.source {
            d.field("source", source);
        }
        d.finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.inner.detail.is_empty() || self.inner.detail == self.inner.kind.as_str() {
            write!(f, "{}", self.inner.kind)
        } else {
            write!(f, "{}: {}", self.inner.kind, self.inner.detail)
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner
            .source
            .as_deref()
            .map(|s| s as &(dyn std::error::Error + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_separate_rejected_unavailable_unsupported() {
        assert_eq!(ErrorKind::BadSignature.class(), ErrorClass::Rejected);
        assert_eq!(ErrorKind::UnknownSession.class(), ErrorClass::Rejected);
        assert_eq!(ErrorKind::TooLarge.class(), ErrorClass::Rejected);
        assert_eq!(ErrorKind::Unavailable.class(), ErrorClass::Unavailable);
        assert_eq!(ErrorKind::Unsupported.class(), ErrorClass::Unsupported);
        assert_eq!(ErrorKind::Internal.class(), ErrorClass::Internal);
        assert!(!ErrorKind::Unavailable.is_rejected());
    }

    #[test]
    fn display_names_kind_and_detail() {
        let e = Error::new(ErrorKind::Expired, "exp 100 <= now 200");
        assert_eq!(e.to_string(), "expired: exp 100 <= now 200");
        assert_eq!(Error::from(ErrorKind::Missing).to_string(), "missing");
        assert_eq!(e.kind(), ErrorKind::Expired);
    }

    #[test]
    fn credential_debug_redacts_secrets() {
        let c = crate::Credential {
            token: "super-secret-token".into(),
            expires_in: 60,
            refresh_token: Some("refresh-secret".into()),
        };
        let shown = format!("{c:?}");
        assert!(!shown.contains("super-secret"), "{shown}");
        assert!(!shown.contains("refresh-secret"), "{shown}");
    }
}
