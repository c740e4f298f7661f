//! The algorithms this backend offers, and nothing else.
//!
//! jsonwebtoken knows twelve JWS algorithms; we expose six, one per design worth measuring:
//! a shared secret (HS256), RSA in its two paddings (RS256, PS256), two NIST curves (ES256,
//! ES384) and Ed25519 (EdDSA). Keeping the list short is itself a security rule (RFC 8725
//! §3.1): every algorithm a verifier accepts is attack surface.

/// A JWS algorithm this backend can sign and verify with: the names live in `authbench-spec`
/// (the measurement half names algorithms without linking cryptography); what needs
/// jsonwebtoken is [`AlgExt`].
pub use authbench_spec::Alg;

/// Which kind of key an algorithm needs; used to match JWKs and PEM files to algorithms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyKind {
    /// A shared secret (`kty: oct`).
    Oct,
    /// An RSA key (`kty: RSA`).
    Rsa,
    /// An EC key on the named curve (`kty: EC`).
    Ec(&'static str),
    /// An Edwards key (`kty: OKP`, `crv: Ed25519`).
    Okp,
}

/// What an [`Alg`] means to this crate's cryptography.
pub trait AlgExt {
    /// The matching jsonwebtoken algorithm.
    fn to_jsonwebtoken(self) -> jsonwebtoken::Algorithm;
}

impl AlgExt for Alg {
    fn to_jsonwebtoken(self) -> jsonwebtoken::Algorithm {
        match self {
            Alg::HS256 => jsonwebtoken::Algorithm::HS256,
            Alg::RS256 => jsonwebtoken::Algorithm::RS256,
            Alg::PS256 => jsonwebtoken::Algorithm::PS256,
            Alg::ES256 => jsonwebtoken::Algorithm::ES256,
            Alg::ES384 => jsonwebtoken::Algorithm::ES384,
            Alg::EdDSA => jsonwebtoken::Algorithm::EdDSA,
        }
    }
}

/// The kind of key `alg` needs.
pub(crate) fn key_kind(alg: Alg) -> KeyKind {
    match alg {
        Alg::HS256 => KeyKind::Oct,
        Alg::RS256 | Alg::PS256 => KeyKind::Rsa,
        Alg::ES256 => KeyKind::Ec("P-256"),
        Alg::ES384 => KeyKind::Ec("P-384"),
        Alg::EdDSA => KeyKind::Okp,
    }
}
