//! Configuration and key-loading errors, in detail.
//!
//! Two layers, as in the rest of the workspace: *this* enum says precisely what went wrong while
//! building a backend, importing a key or signing a token, for the operator who has to fix it;
//! a rejected token never produces one (it produces an opaque [`authbench_core::Error`] with an
//! [`ErrorKind`](authbench_core::ErrorKind) instead, built in `verify`). Nothing here ever
//! contains key material or a token.

use std::path::PathBuf;

/// Why a JWT backend, key or verifier could not be built, or a token could not be signed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JwtError {
    /// The verifier was given no algorithm to allow.
    #[error("at least one algorithm must be allowed")]
    NoAlgorithms,
    /// A key file could not be read.
    #[error("cannot read key file {path}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A PEM or DER key could not be parsed, or is not a key for the algorithm.
    #[error("invalid {alg} key: {reason}")]
    InvalidKey {
        /// The algorithm the key was meant for.
        alg: crate::Alg,
        /// What was wrong (never the key itself).
        reason: String,
    },
    /// A JWK (or JWK Set) is not valid JSON or lacks a member its `kty` needs.
    #[error("invalid JWK: {0}")]
    InvalidJwk(String),
    /// The JWK's `use` says it is not for signatures (RFC 7517 §4.2).
    #[error("JWK{} has \"use\": \"{key_use}\", which forbids verifying signatures", kid_suffix(.kid))]
    KeyUseForbidsVerify {
        /// The key's `kid`, if any.
        kid: Option<String>,
        /// The `use` value.
        key_use: String,
    },
    /// The JWK's `key_ops` does not include the operation we need (RFC 7517 §4.3).
    #[error("JWK{} has \"key_ops\" without \"{needed}\"", kid_suffix(.kid))]
    KeyOpsForbid {
        /// The key's `kid`, if any.
        kid: Option<String>,
        /// `verify` or `sign`.
        needed: &'static str,
    },
    /// The JWK names an algorithm (`alg`) other than the one requested.
    #[error("JWK{} is for \"{jwk_alg}\", not {requested}", kid_suffix(.kid))]
    KeyAlgMismatch {
        /// The key's `kid`, if any.
        kid: Option<String>,
        /// The JWK's own `alg`.
        jwk_alg: String,
        /// What the caller asked for.
        requested: String,
    },
    /// The key's type (`kty`, curve, PEM contents) cannot be used with any requested algorithm.
    #[error("JWK{} of type {kty} cannot be used with {requested}", kid_suffix(.kid))]
    KeyTypeMismatch {
        /// The key's `kid`, if any.
        kid: Option<String>,
        /// `kty` (and curve).
        kty: String,
        /// The requested algorithms.
        requested: String,
    },
    /// A JWK without `alg` fits several allowed algorithms (e.g. RS256 and PS256 for one RSA
    /// key); a key must verify exactly one algorithm (RFC 8725 §3.1).
    #[error("JWK{} has no \"alg\" and fits several allowed algorithms ({candidates}); set \"alg\" on the key or allow only one", kid_suffix(.kid))]
    AmbiguousKeyAlgorithm {
        /// The key's `kid`, if any.
        kid: Option<String>,
        /// The algorithms it would fit.
        candidates: String,
    },
    /// A key refused by the strict import checks: an RSA modulus under 2048 bits, even, or
    /// with the ROCA fingerprint; an RSA exponent even, below 65537 or of 2^256 and more; an
    /// EC point off its curve.
    #[error("key{} refused: {reason}", kid_suffix(.kid))]
    WeakKey {
        /// The key's `kid`, if any.
        kid: Option<String>,
        /// What is wrong with it (never the key itself).
        reason: String,
    },
    /// A JWK Set mixes symmetric (`oct`) and asymmetric keys.
    #[error(
        "JWK Set mixes a symmetric key{} with asymmetric keys (such as{}): a published set never carries a secret, and one verifier holding both is one `alg` mix-up from key confusion",
        kid_suffix(.symmetric),
        kid_or_unnamed(.asymmetric)
    )]
    MixedKeySet {
        /// The `kid` of a symmetric key in the set.
        symmetric: Option<String>,
        /// The `kid` of an asymmetric key in the set.
        asymmetric: Option<String>,
    },
    /// The key's `kid` was revoked or is distrusted (a compromised key): it may not sign, and
    /// is never trusted again.
    #[error("kid \"{0}\" is distrusted (revoked as compromised): use a new key")]
    DistrustedKid(String),
    /// A JWK Set held no key usable with the allowed algorithms.
    #[error("no usable verification key: {0}")]
    NoUsableKey(String),
    /// Two keys in one set share a `kid`, so a token could not say which one it means.
    #[error("duplicate kid \"{0}\" in key set")]
    DuplicateKid(String),
    /// An HMAC secret shorter than the hash output (RFC 7518 §3.2 requires at least 256 bits
    /// for HS256).
    #[error("HMAC secret is {len} bytes; HS256 needs at least {min}")]
    WeakSecret {
        /// Its length.
        len: usize,
        /// The minimum.
        min: usize,
    },
    /// Signing needs a private key, and the JWK holds only a public one.
    #[error("the JWK holds no private key (no \"d\"), so it cannot sign")]
    NotAPrivateKey,
    /// The OS random number generator failed (keys, `jti`).
    #[error("operating system RNG failed")]
    Random,
    /// The crypto library refused to sign.
    #[error("signing failed: {0}")]
    Signing(String),
    /// Claims to sign must be a JSON object.
    #[error("claims must be a JSON object")]
    ClaimsNotAnObject,
    /// The configuration cannot work (e.g. a Redis strategy built without Redis).
    #[error("invalid JWT backend configuration: {0}")]
    Config(String),
    /// Redis, needed by the `denylist`, `epoch` and `refresh` strategies, could not be set up.
    #[error(transparent)]
    Store(#[from] authbench_store::StoreError),
}

fn kid_or_unnamed(kid: &Option<String>) -> String {
    match kid {
        Some(kid) => format!(" kid \"{}\"", kid.chars().take(64).collect::<String>()),
        None => " one without a kid".into(),
    }
}

fn kid_suffix(kid: &Option<String>) -> String {
    match kid {
        Some(kid) => format!(" (kid \"{}\")", kid.chars().take(64).collect::<String>()),
        None => String::new(),
    }
}

impl JwtError {
    /// The core kind: an unreachable Redis is [`ErrorKind::Unavailable`] (fail closed, 503);
    /// every other configuration or signing failure is ours, not the client's:
    /// [`ErrorKind::Internal`].
    ///
    /// [`ErrorKind::Unavailable`]: authbench_core::ErrorKind::Unavailable
    /// [`ErrorKind::Internal`]: authbench_core::ErrorKind::Internal
    pub fn kind(&self) -> authbench_core::ErrorKind {
        match self {
            JwtError::Store(e) => e.kind(),
            _ => authbench_core::ErrorKind::Internal,
        }
    }
}

impl From<JwtError> for authbench_core::Error {
    /// Keeps [`JwtError::kind`], the message and the cause.
    fn from(e: JwtError) -> Self {
        authbench_core::Error::new(e.kind(), e.to_string()).with_source(e)
    }
}
