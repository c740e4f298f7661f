//! Configuration and key errors (a presented token's problems are `authbench_core::Error`s).

/// What can go wrong building keys, backends and tokens (never while judging a token: that is
/// an [`authbench_core::Error`] with a rejected kind).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JweError {
    /// A key could not be generated, read or used for this algorithm.
    #[error("invalid JWE key: {0}")]
    InvalidKey(String),
    /// The operating system's random generator failed.
    #[error("the system random generator failed")]
    Random,
    /// An encryption primitive failed (a bug or a broken key).
    #[error("encryption failed: {0}")]
    Crypto(&'static str),
    /// The claims or header could not be serialised.
    #[error("serialising JSON: {0}")]
    Json(String),
    /// A public-key key management without a signature: refused for credentials (see
    /// [`JweConfig::insecure_unauthenticated`](crate::JweConfig::insecure_unauthenticated)).
    #[error(
        "{0} JWE without a signature authenticates nothing: anyone holding the public \
         encryption key can mint any token (an admin's included). Sign then encrypt (nested: \
         `--jwe-nested ES256`), use `dir`, or, to measure the bare mode only, opt in with \
         `--insecure-unauthenticated-jwe`"
    )]
    Unauthenticated(crate::KeyAlg),
    /// The inner signing backend of a nested token could not be built.
    #[error("nested signing key: {0}")]
    Nested(#[from] authbench_jwt::JwtError),
}

impl From<JweError> for authbench_core::Error {
    fn from(e: JweError) -> Self {
        authbench_core::Error::new(authbench_core::ErrorKind::Internal, e.to_string())
    }
}
