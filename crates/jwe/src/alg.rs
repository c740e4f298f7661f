//! The key-management algorithms we offer, and the one content encryption.

/// The content encryption (`enc`) of every token we issue or accept: AES-256 in Galois/Counter
/// mode, a 96-bit random IV, a 128-bit tag (RFC 7518 §5.3). The CBC-HMAC suites are refused:
/// one AEAD is enough, and it is the one the floor measures.
pub const ENC_A256GCM: &str = "A256GCM";

/// How the content-encryption key (CEK) reaches the recipient: the JWE `alg`, named
/// `JweAlg` in `authbench-spec` (where the measurement half names modes without linking this
/// crate) and `KeyAlg` here, where every algorithm is about keys.
///
/// Each key is bound to exactly one of these, and a token naming another is refused before
/// any decryption (the JWE form of algorithm confusion).
pub use authbench_spec::JweAlg as KeyAlg;

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
