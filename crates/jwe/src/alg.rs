//! The key-management algorithms we offer, and the one content encryption.

use std::fmt;
use std::str::FromStr;

/// The content encryption (`enc`) of every token we issue or accept: AES-256 in Galois/Counter
/// mode, a 96-bit random IV, a 128-bit tag (RFC 7518 §5.3). The CBC-HMAC suites are refused:
/// one AEAD is enough, and it is the one the floor measures.
pub const ENC_A256GCM: &str = "A256GCM";

/// How the content-encryption key (CEK) reaches the recipient: the JWE `alg`.
///
/// Each key is bound to exactly one of these, and a token naming another is refused before
/// any decryption (the JWE form of algorithm confusion).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyAlg {
    /// `dir`: the shared 256-bit key *is* the CEK; the encrypted-key part is empty. One AES-GCM
    /// per token, nothing else: the cheapest JWE there is.
    Dir,
    /// `RSA-OAEP-256`: a fresh random CEK per token, encrypted to an RSA-2048 public key with
    /// OAEP (SHA-256, MGF1-SHA-256); the encrypted key is 256 bytes.
    RsaOaep256,
    /// `ECDH-ES+A256KW`: an ephemeral P-256 key (`epk` in the header) agrees a key-encryption
    /// key with the recipient's static P-256 key (Concat KDF, RFC 7518 §4.6), which wraps a
    /// fresh CEK with AES-256 Key Wrap (40 bytes).
    EcdhEsA256kw,
}

impl KeyAlg {
    /// Every algorithm we offer.
    pub const ALL: [KeyAlg; 3] = [KeyAlg::Dir, KeyAlg::RsaOaep256, KeyAlg::EcdhEsA256kw];

    /// The JOSE name (`dir`, `RSA-OAEP-256`, `ECDH-ES+A256KW`).
    pub fn as_str(self) -> &'static str {
        match self {
            KeyAlg::Dir => "dir",
            KeyAlg::RsaOaep256 => "RSA-OAEP-256",
            KeyAlg::EcdhEsA256kw => "ECDH-ES+A256KW",
        }
    }

    /// The algorithm named `name` exactly (case-sensitive, as JOSE names are), if we offer it.
    pub fn from_jose(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == name)
    }

    /// Whether the encryption key may be public (RSA, ECDH). With such a key anyone can mint a
    /// token that decrypts: decryption then authenticates nothing (see the README).
    pub fn is_public_key(self) -> bool {
        !matches!(self, KeyAlg::Dir)
    }
}

impl fmt::Display for KeyAlg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for KeyAlg {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_jose(s).ok_or_else(|| {
            let names: Vec<&str> = Self::ALL.iter().map(|a| a.as_str()).collect();
            format!("unknown JWE algorithm {s:?}; one of {}", names.join(", "))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_case_sensitive() {
        for alg in KeyAlg::ALL {
            assert_eq!(KeyAlg::from_jose(alg.as_str()), Some(alg));
            assert_eq!(alg.as_str().parse::<KeyAlg>(), Ok(alg));
        }
        assert_eq!(KeyAlg::from_jose("DIR"), None);
        assert_eq!(KeyAlg::from_jose("RSA-OAEP"), None);
        assert_eq!(KeyAlg::from_jose("none"), None);
        assert!("ECDH-ES".parse::<KeyAlg>().is_err());
    }
}
