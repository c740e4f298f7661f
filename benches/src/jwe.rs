//! [`JweFixture`]: one JWE configuration ready to be measured, with its floors: a raw
//! AES-256-GCM open (and seal) of the same sizes (for `dir`, of the very same bytes), and the
//! raw key-management primitive of the same token (RSA-OAEP-256 decryption of its encrypted
//! key; ECDH P-256 agreement with its `epk`, Concat KDF and AES key unwrap).

use std::sync::Arc;

use authbench_core::{Credential, Principal, SharedClock, SystemClock};
use authbench_jwe::{
    DIR_KEY_BYTES, IV_BYTES, JweBackend, JweConfig, KeyAlg, Parts, TAG_BYTES, concat_kdf,
};
use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::agreement::{self, ECDH_P256, UnparsedPublicKey};
use aws_lc_rs::key_wrap::{AES_256, AesKek, KeyWrap};
use aws_lc_rs::rsa::{OAEP_SHA256_MGF1SHA256, OaepPrivateDecryptingKey, PrivateDecryptingKey};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

use crate::identity;

/// The raw AES-256-GCM floor: a key, an IV, the AAD and `ciphertext || tag`.
struct GcmFloor {
    key: LessSafeKey,
    iv: [u8; IV_BYTES],
    aad: Vec<u8>,
    sealed: Vec<u8>,
}

/// The raw key-management floor of a public-key mode.
enum KeyFloor {
    Rsa {
        key: OaepPrivateDecryptingKey,
        encrypted_key: Vec<u8>,
    },
    Ecdh {
        key: agreement::PrivateKey,
        epk: Vec<u8>,
        wrapped: Vec<u8>,
    },
}

/// One JWE configuration, built once, outside every timed loop.
pub struct JweFixture {
    /// The configuration measured.
    pub config: JweConfig,
    /// The backend (fresh key, system clock).
    pub backend: JweBackend,
    /// A token the backend issued for [`identity`]`(0)`.
    pub token: String,
    gcm: GcmFloor,
    key_floor: Option<KeyFloor>,
}

fn decode(part: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD
        .decode(part)
        .expect("our own token is base64url")
}

impl JweFixture {
    /// Builds the backend for `config`, issues one token, prepares the floors and checks that
    /// every path succeeds.
    ///
    /// # Panics
    ///
    /// If anything fails: a fixture that does not work must not be measured.
    pub fn new(config: JweConfig) -> Self {
        let clock: SharedClock = Arc::new(SystemClock);
        let backend = JweBackend::new(config.clone(), clock).expect("JWE backend");
        let token = backend.issue_now(&identity(0)).expect("issue").token;
        let parts = Parts::split(&token).expect("five parts");
        let mut sealed = decode(parts.ciphertext);
        let iv: [u8; IV_BYTES] = decode(parts.iv).try_into().expect("12-byte IV");
        let gcm = match backend.key().dir_secret() {
            // dir: the very same bytes under the very same key.
            Some(secret) => {
                sealed.extend_from_slice(&decode(parts.tag));
                GcmFloor {
                    key: aead(secret),
                    iv,
                    aad: parts.header.as_bytes().to_vec(),
                    sealed,
                }
            }
            // The CEK is per token and private to the crate: the same sizes under a fresh key.
            None => {
                let mut cek = [0u8; DIR_KEY_BYTES];
                aws_lc_rs::rand::fill(&mut cek).expect("random");
                let key = aead(&cek);
                let mut buf = vec![0u8; sealed.len()];
                let tag = key
                    .seal_in_place_separate_tag(
                        Nonce::assume_unique_for_key(iv),
                        Aad::from(parts.header.as_bytes()),
                        &mut buf,
                    )
                    .expect("seal");
                buf.extend_from_slice(tag.as_ref());
                GcmFloor {
                    key,
                    iv,
                    aad: parts.header.as_bytes().to_vec(),
                    sealed: buf,
                }
            }
        };
        let key_text = backend.key().to_text(false).expect("key text");
        let key_floor = match config.alg {
            KeyAlg::Dir => None,
            KeyAlg::RsaOaep256 => {
                let body: String = key_text
                    .lines()
                    .filter(|l| !l.starts_with("-----"))
                    .collect();
                let der = STANDARD.decode(body).expect("PEM body");
                let private = PrivateDecryptingKey::from_pkcs8(&der).expect("PKCS#8");
                Some(KeyFloor::Rsa {
                    key: OaepPrivateDecryptingKey::new(private).expect("OAEP key"),
                    encrypted_key: decode(parts.encrypted_key),
                })
            }
            KeyAlg::EcdhEsA256kw => {
                let jwk: serde_json::Value = serde_json::from_str(&key_text).expect("JWK");
                let d = decode(jwk["d"].as_str().expect("d"));
                let header: serde_json::Value =
                    serde_json::from_slice(&decode(parts.header)).expect("header");
                let mut epk = vec![4u8];
                epk.extend(decode(header["epk"]["x"].as_str().expect("x")));
                epk.extend(decode(header["epk"]["y"].as_str().expect("y")));
                Some(KeyFloor::Ecdh {
                    key: agreement::PrivateKey::from_private_key(&ECDH_P256, &d).expect("P-256"),
                    epk,
                    wrapped: decode(parts.encrypted_key),
                })
            }
        };
        let fixture = Self {
            config,
            backend,
            token,
            gcm,
            key_floor,
        };
        fixture.check();
        fixture
    }

    /// The configuration's name (`jwe-dir-A256GCM`, …), for benchmark IDs and `compare` rows.
    pub fn label(&self) -> String {
        self.config.name()
    }

    /// Our full verify: decrypt, then the claims (`JweBackend::verify_now`).
    ///
    /// # Panics
    ///
    /// If the token is rejected (the fixture checked it is not).
    pub fn verify(&self) -> Principal {
        self.backend.verify_now(&self.token).expect("valid token")
    }

    /// Our full issue: claims, (inner signature,) key management, encryption.
    ///
    /// # Panics
    ///
    /// If issuing fails.
    pub fn issue(&self) -> Credential {
        self.backend.issue_now(&identity(0)).expect("issue")
    }

    /// The content floor: one raw AES-256-GCM open of the token's ciphertext sizes (`dir`: of
    /// the very same bytes under the same key), AAD included. Returns the plaintext length.
    ///
    /// # Panics
    ///
    /// If the open fails.
    pub fn floor_open(&self) -> usize {
        let mut buf = self.gcm.sealed.clone();
        self.gcm
            .key
            .open_in_place(
                Nonce::assume_unique_for_key(self.gcm.iv),
                Aad::from(&self.gcm.aad),
                &mut buf,
            )
            .expect("floor opens")
            .len()
    }

    /// The issue-side content floor: one raw AES-256-GCM seal of a plaintext as long as the
    /// token's, with a fresh random IV. Returns the ciphertext length.
    ///
    /// # Panics
    ///
    /// If the random generator or the seal fails.
    pub fn floor_seal(&self) -> usize {
        let mut iv = [0u8; IV_BYTES];
        aws_lc_rs::rand::fill(&mut iv).expect("random");
        let mut buf = vec![0u8; self.gcm.sealed.len() - TAG_BYTES];
        let tag = self
            .gcm
            .key
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(iv),
                Aad::from(&self.gcm.aad),
                &mut buf,
            )
            .expect("seal");
        buf.len() + tag.as_ref().len() - TAG_BYTES
    }

    /// The key-management floor of the same token, raw aws-lc-rs: RSA-OAEP-256 decryption of
    /// its encrypted key, or ECDH with its `epk` + Concat KDF + AES key unwrap. `None` for
    /// `dir`, which has no key management. Returns the CEK length.
    ///
    /// # Panics
    ///
    /// If the primitive fails on the fixture's own token.
    pub fn floor_key(&self) -> Option<usize> {
        match self.key_floor.as_ref()? {
            KeyFloor::Rsa { key, encrypted_key } => {
                let mut out = [0u8; 512];
                Some(
                    key.decrypt(&OAEP_SHA256_MGF1SHA256, encrypted_key, &mut out, None)
                        .expect("OAEP decrypt")
                        .len(),
                )
            }
            KeyFloor::Ecdh { key, epk, wrapped } => {
                let kek = agreement::agree(
                    key,
                    UnparsedPublicKey::new(&ECDH_P256, epk.as_slice()),
                    (),
                    |z| Ok(concat_kdf(z, KeyAlg::EcdhEsA256kw.as_str(), b"", b"", 256)),
                )
                .expect("ECDH");
                let mut out = [0u8; DIR_KEY_BYTES];
                Some(
                    AesKek::new(&AES_256, &kek)
                        .expect("KEK")
                        .unwrap(wrapped, &mut out)
                        .expect("unwrap")
                        .len(),
                )
            }
        }
    }

    /// Asserts that every measured path succeeds, so no benchmark times an error return.
    ///
    /// # Panics
    ///
    /// When one does not.
    pub fn check(&self) {
        let name = self.label();
        assert_eq!(self.verify().subject, identity(0).subject, "{name}");
        assert!(
            self.backend.verify_now(&self.issue().token).is_ok(),
            "{name}"
        );
        assert_eq!(
            self.floor_open(),
            self.gcm.sealed.len() - TAG_BYTES,
            "{name}"
        );
        assert_eq!(
            self.floor_seal(),
            self.gcm.sealed.len() - TAG_BYTES,
            "{name}"
        );
        match self.config.alg {
            KeyAlg::Dir => assert!(self.floor_key().is_none()),
            _ => assert_eq!(self.floor_key(), Some(DIR_KEY_BYTES), "{name}"),
        }
    }

    /// The configurations `compare` and the benches measure: `dir`, `RSA-OAEP-256` and
    /// `ECDH-ES+A256KW`, plain, and `ECDH-ES+A256KW` nested over ES256. The plain public-key
    /// modes are opted in as insecure (they authenticate nothing): measured for their cost,
    /// never offered for credentials.
    pub fn standard_configs() -> Vec<JweConfig> {
        vec![
            JweConfig::new(KeyAlg::Dir),
            JweConfig::new(KeyAlg::RsaOaep256).insecure_unauthenticated(),
            JweConfig::new(KeyAlg::EcdhEsA256kw).insecure_unauthenticated(),
            JweConfig::new(KeyAlg::EcdhEsA256kw).nested(authbench_jwt::Alg::ES256),
        ]
    }
}

fn aead(key: &[u8]) -> LessSafeKey {
    LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key).expect("AES-256 key"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_standard_fixture_checks_out() {
        for config in JweFixture::standard_configs() {
            let f = JweFixture::new(config);
            assert_eq!(f.token.split('.').count(), 5);
        }
    }
}
