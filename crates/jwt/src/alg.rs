//! The algorithms this backend offers, and nothing else.
//!
//! jsonwebtoken knows twelve JWS algorithms; we expose six, one per design worth measuring:
//! a shared secret (HS256), RSA in its two paddings (RS256, PS256), two NIST curves (ES256,
//! ES384) and Ed25519 (EdDSA). Keeping the list short is itself a security rule (RFC 8725
//! §3.1): every algorithm a verifier accepts is attack surface.

use std::fmt;
use std::str::FromStr;

use crate::error::JwtError;

/// A JWS algorithm this backend can sign and verify with.
///
/// Names are the case-sensitive JOSE names of RFC 7518 / RFC 8037 (`HS256`, not `hs256`):
/// a verifier that lower-cases `alg` is how `nOnE` slips through.
#[allow(clippy::upper_case_acronyms)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Alg {
    /// HMAC with SHA-256: one shared secret signs *and* verifies. Fast, but every verifier can
    /// also mint tokens, and there is no public key to publish.
    HS256,
    /// RSASSA-PKCS1-v1_5 with SHA-256 and a 2048-bit key: cheap to verify, slow to sign, big.
    RS256,
    /// RSASSA-PSS with SHA-256: RS256's key with the modern, randomised padding.
    PS256,
    /// ECDSA on P-256 with SHA-256: small signatures; needs a good RNG to sign.
    ES256,
    /// ECDSA on P-384 with SHA-384.
    ES384,
    /// Ed25519 (RFC 8037): small, deterministic signatures.
    EdDSA,
}

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

impl Alg {
    /// Every algorithm, in a stable order (the order benchmarks and the book list them in).
    pub const ALL: [Alg; 6] = [
        Alg::HS256,
        Alg::RS256,
        Alg::PS256,
        Alg::ES256,
        Alg::ES384,
        Alg::EdDSA,
    ];

    /// The JOSE name, e.g. `"ES256"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Alg::HS256 => "HS256",
            Alg::RS256 => "RS256",
            Alg::PS256 => "PS256",
            Alg::ES256 => "ES256",
            Alg::ES384 => "ES384",
            Alg::EdDSA => "EdDSA",
        }
    }

    /// Whether the algorithm has a public key to publish (everything but HS256).
    pub fn is_asymmetric(self) -> bool {
        self != Alg::HS256
    }

    /// The matching jsonwebtoken algorithm.
    pub fn to_jsonwebtoken(self) -> jsonwebtoken::Algorithm {
        match self {
            Alg::HS256 => jsonwebtoken::Algorithm::HS256,
            Alg::RS256 => jsonwebtoken::Algorithm::RS256,
            Alg::PS256 => jsonwebtoken::Algorithm::PS256,
            Alg::ES256 => jsonwebtoken::Algorithm::ES256,
            Alg::ES384 => jsonwebtoken::Algorithm::ES384,
            Alg::EdDSA => jsonwebtoken::Algorithm::EdDSA,
        }
    }

    /// Parses a JOSE name from a token header, on the hot path: exact bytes, no allocation.
    pub(crate) fn from_jose(name: &str) -> Option<Alg> {
        match name {
            "HS256" => Some(Alg::HS256),
            "RS256" => Some(Alg::RS256),
            "PS256" => Some(Alg::PS256),
            "ES256" => Some(Alg::ES256),
            "ES384" => Some(Alg::ES384),
            "EdDSA" => Some(Alg::EdDSA),
            _ => None,
        }
    }

    /// The kind of key the algorithm needs.
    pub(crate) fn key_kind(self) -> KeyKind {
        match self {
            Alg::HS256 => KeyKind::Oct,
            Alg::RS256 | Alg::PS256 => KeyKind::Rsa,
            Alg::ES256 => KeyKind::Ec("P-256"),
            Alg::ES384 => KeyKind::Ec("P-384"),
            Alg::EdDSA => KeyKind::Okp,
        }
    }
}

impl fmt::Display for Alg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Alg {
    type Err = JwtError;

    /// Case-sensitive, like JOSE itself: `"es256"` is not an algorithm.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Alg::from_jose(s).ok_or_else(|| JwtError::UnknownAlgorithm(s.chars().take(32).collect()))
    }
}

/// Serialized as its JOSE name (`"ES256"`), as run records and configuration files write it.
impl serde::Serialize for Alg {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Alg {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_case_sensitive() {
        for alg in Alg::ALL {
            assert_eq!(alg.to_string().parse::<Alg>().ok(), Some(alg));
        }
        assert!("es256".parse::<Alg>().is_err());
        assert!("none".parse::<Alg>().is_err());
        assert!("ES512".parse::<Alg>().is_err());
    }
}
