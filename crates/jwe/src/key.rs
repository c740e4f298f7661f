//! [`JweKey`]: one key, bound to one [`KeyAlg`]; generation, import and export.
//!
//! Formats: a `dir` key is a JWK `{"kty":"oct","k":…}` (32 bytes); an `ECDH-ES+A256KW` key is a
//! P-256 JWK (`x`, `y`, and `d` to decrypt); an `RSA-OAEP-256` key is PEM (`PRIVATE KEY`, PKCS
//! #8, to decrypt; `PUBLIC KEY`, SubjectPublicKeyInfo, to encrypt only). The `kid` is the
//! JWK's own when it has one, else derived from the key (the first 12 bytes of SHA-256 over a
//! domain label and the key: the public key for RSA and EC, the secret for `dir`, whose hash
//! reveals nothing usable about it), so every instance sharing a key names it alike.

use authbench_jwt::pem;
use aws_lc_rs::aead::{AES_256_GCM, LessSafeKey, UnboundKey};
use aws_lc_rs::agreement::{self, ECDH_P256};
use aws_lc_rs::digest;
use aws_lc_rs::encoding::{AsBigEndian, AsDer, EcPrivateKeyBin};
use aws_lc_rs::rsa::{
    KeySize, OaepPrivateDecryptingKey, OaepPublicEncryptingKey, PrivateDecryptingKey,
    PublicEncryptingKey,
};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde::Deserialize;

use crate::alg::KeyAlg;
use crate::error::JweError;

/// Bytes of a `dir` key (and of every CEK): AES-256.
pub const DIR_KEY_BYTES: usize = 32;

/// Bytes of a P-256 coordinate.
pub(crate) const P256_COORD_BYTES: usize = 32;

/// An encryption key bound to one algorithm. Cheap to share (`&self` everywhere).
pub struct JweKey {
    alg: KeyAlg,
    kid: String,
    pub(crate) material: Material,
}

/// The key material, per algorithm. A key without its private half encrypts only.
pub(crate) enum Material {
    Dir {
        aead: LessSafeKey,
        secret: Box<[u8; DIR_KEY_BYTES]>,
    },
    Rsa {
        private: Option<(OaepPrivateDecryptingKey, Vec<u8>)>,
        public: OaepPublicEncryptingKey,
        spki: Vec<u8>,
    },
    Ecdh {
        private: Option<agreement::PrivateKey>,
        /// Uncompressed point, `04 || x || y`.
        public: Vec<u8>,
    },
}

impl std::fmt::Debug for JweKey {
    /// Never prints key material.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JweKey")
            .field("alg", &self.alg)
            .field("kid", &self.kid)
            .field("can_decrypt", &self.can_decrypt())
            .finish_non_exhaustive()
    }
}

fn invalid(detail: impl Into<String>) -> JweError {
    JweError::InvalidKey(detail.into())
}

fn derive_kid(label: &str, bytes: &[u8]) -> String {
    let mut ctx = digest::Context::new(&digest::SHA256);
    ctx.update(b"authbench-jwe kid ");
    ctx.update(label.as_bytes());
    ctx.update(&[0]);
    ctx.update(bytes);
    URL_SAFE_NO_PAD.encode(&ctx.finish().as_ref()[..12])
}

/// The JWK members we read (`kty` decides which others matter).
#[derive(Deserialize)]
struct JwkIn {
    kty: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    alg: Option<String>,
    #[serde(default)]
    k: Option<String>,
    #[serde(default)]
    crv: Option<String>,
    #[serde(default)]
    x: Option<String>,
    #[serde(default)]
    y: Option<String>,
    #[serde(default)]
    d: Option<String>,
    #[serde(default, rename = "use")]
    key_use: Option<String>,
    #[serde(default)]
    key_ops: Option<Vec<String>>,
}

/// The `key_ops` values (RFC 7517 §4.3) of each side of a JWE key management: what the holder
/// of the public (or shared) key does, and what the holder of the private key does.
fn jwe_ops(alg: KeyAlg) -> (&'static [&'static str], &'static [&'static str]) {
    match alg {
        // The key *is* the CEK: it encrypts and decrypts the content.
        KeyAlg::Dir => (&["encrypt"], &["decrypt"]),
        KeyAlg::RsaOaep256 => (&["wrapKey", "encrypt"], &["unwrapKey", "decrypt"]),
        // ECDH-ES derives the key-encryption key on both sides.
        KeyAlg::EcdhEsA256kw => (&["deriveKey", "deriveBits"], &["deriveKey", "deriveBits"]),
    }
}

impl JwkIn {
    /// Honours `use` and `key_ops` (RFC 7517 §4.2, §4.3), which a JWK import must not ignore:
    /// `use` must be `enc`, and `key_ops`, when present, must hold no duplicate, only
    /// operations of this key management, and the one we need (decrypting when the JWK has
    /// its private half or is a `dir` secret, encrypting otherwise). A signing key (`sig`,
    /// `sign`/`verify`) is never used to encrypt: one key, one purpose (RFC 8725 §3.1).
    fn check_use(&self, alg: KeyAlg) -> Result<(), JweError> {
        let kid = match &self.kid {
            Some(kid) => format!(" (kid \"{}\")", kid.chars().take(64).collect::<String>()),
            None => String::new(),
        };
        if let Some(key_use) = &self.key_use
            && key_use != "enc"
        {
            return Err(invalid(format!(
                "the JWK{kid} has \"use\": \"{}\"; a JWE key must be \"enc\"",
                key_use.chars().take(32).collect::<String>()
            )));
        }
        let Some(ops) = &self.key_ops else {
            return Ok(());
        };
        let (public_ops, private_ops) = jwe_ops(alg);
        for (i, op) in ops.iter().enumerate() {
            if ops[..i].contains(op) {
                return Err(invalid(format!(
                    "the JWK{kid} lists \"{op}\" twice in \"key_ops\""
                )));
            }
            if !public_ops.contains(&op.as_str()) && !private_ops.contains(&op.as_str()) {
                return Err(invalid(format!(
                    "the JWK{kid} has \"key_ops\" \"{}\", not an operation of {alg}",
                    op.chars().take(32).collect::<String>()
                )));
            }
        }
        let private = alg == KeyAlg::Dir || self.d.is_some();
        let needed = if private { private_ops } else { public_ops };
        if !ops.iter().any(|op| needed.contains(&op.as_str())) {
            return Err(invalid(format!(
                "the JWK{kid} has \"key_ops\" without {}",
                needed
                    .iter()
                    .map(|op| format!("\"{op}\""))
                    .collect::<Vec<_>>()
                    .join(" or ")
            )));
        }
        Ok(())
    }
}

fn b64(field: &str, value: Option<&String>) -> Result<Vec<u8>, JweError> {
    let value = value.ok_or_else(|| invalid(format!("JWK has no `{field}`")))?;
    URL_SAFE_NO_PAD
        .decode(value)
        .map_err(|_| invalid(format!("JWK `{field}` is not base64url")))
}

impl JweKey {
    /// A fresh key for `alg`: 32 random bytes, an RSA-2048 pair or a P-256 pair (aws-lc-rs).
    pub fn generate(alg: KeyAlg) -> Result<Self, JweError> {
        match alg {
            KeyAlg::Dir => {
                let mut secret = [0u8; DIR_KEY_BYTES];
                aws_lc_rs::rand::fill(&mut secret).map_err(|_| JweError::Random)?;
                Self::dir(&secret, None)
            }
            KeyAlg::RsaOaep256 => {
                let private = PrivateDecryptingKey::generate(KeySize::Rsa2048)
                    .map_err(|_| JweError::Crypto("RSA key generation"))?;
                Self::rsa_private(private, None)
            }
            KeyAlg::EcdhEsA256kw => {
                let private = agreement::PrivateKey::generate(&ECDH_P256)
                    .map_err(|_| JweError::Crypto("P-256 key generation"))?;
                Self::ecdh_private(private, None)
            }
        }
    }

    /// A `dir` key from 32 secret bytes.
    pub fn dir(secret: &[u8], kid: Option<String>) -> Result<Self, JweError> {
        let secret: [u8; DIR_KEY_BYTES] = secret.try_into().map_err(|_| {
            invalid(format!(
                "a dir key for A256GCM is exactly {DIR_KEY_BYTES} bytes, not {}",
                secret.len()
            ))
        })?;
        let aead = LessSafeKey::new(
            UnboundKey::new(&AES_256_GCM, &secret).map_err(|_| invalid("AES-256 key"))?,
        );
        Ok(Self {
            alg: KeyAlg::Dir,
            kid: kid.unwrap_or_else(|| derive_kid("dir", &secret)),
            material: Material::Dir {
                aead,
                secret: Box::new(secret),
            },
        })
    }

    fn rsa_private(private: PrivateDecryptingKey, kid: Option<String>) -> Result<Self, JweError> {
        if private.key_size_bits() < 2048 {
            return Err(invalid("RSA keys shorter than 2048 bits are refused"));
        }
        let pkcs8 = private
            .as_der()
            .map_err(|_| invalid("RSA key has no PKCS#8 form"))?
            .as_ref()
            .to_vec();
        let public = private.public_key();
        let spki = public
            .as_der()
            .map_err(|_| invalid("RSA public key has no DER form"))?
            .as_ref()
            .to_vec();
        let decrypting =
            OaepPrivateDecryptingKey::new(private).map_err(|_| invalid("RSA key for OAEP"))?;
        let encrypting =
            OaepPublicEncryptingKey::new(public).map_err(|_| invalid("RSA key for OAEP"))?;
        Ok(Self {
            alg: KeyAlg::RsaOaep256,
            kid: kid.unwrap_or_else(|| derive_kid("RSA", &spki)),
            material: Material::Rsa {
                private: Some((decrypting, pkcs8)),
                public: encrypting,
                spki,
            },
        })
    }

    fn rsa_public(spki: &[u8], kid: Option<String>) -> Result<Self, JweError> {
        let public = PublicEncryptingKey::from_der(spki)
            .map_err(|_| invalid("not an RSA SubjectPublicKeyInfo"))?;
        if public.key_size_bits() < 2048 {
            return Err(invalid("RSA keys shorter than 2048 bits are refused"));
        }
        Ok(Self {
            alg: KeyAlg::RsaOaep256,
            kid: kid.unwrap_or_else(|| derive_kid("RSA", spki)),
            material: Material::Rsa {
                private: None,
                public: OaepPublicEncryptingKey::new(public)
                    .map_err(|_| invalid("RSA key for OAEP"))?,
                spki: spki.to_vec(),
            },
        })
    }

    fn ecdh_private(private: agreement::PrivateKey, kid: Option<String>) -> Result<Self, JweError> {
        let public = private
            .compute_public_key()
            .map_err(|_| invalid("P-256 public key"))?
            .as_ref()
            .to_vec();
        Ok(Self {
            alg: KeyAlg::EcdhEsA256kw,
            kid: kid.unwrap_or_else(|| derive_kid("P-256", &public)),
            material: Material::Ecdh {
                private: Some(private),
                public,
            },
        })
    }

    /// Reads a key for `alg` from a JWK (JSON, `dir` and `ECDH-ES+A256KW`) or PEM text
    /// (`RSA-OAEP-256`). A JWK's `alg`, when present, must be `alg`; its `use` and `key_ops`
    /// must allow encryption (see `JwkIn::check_use`). A member named twice is refused (serde's
    /// typed parse), so the document cannot mean two keys.
    pub fn from_text(alg: KeyAlg, text: &str) -> Result<Self, JweError> {
        let trimmed = text.trim_start();
        if trimmed.starts_with("-----BEGIN") {
            if alg != KeyAlg::RsaOaep256 {
                return Err(invalid(format!("a {alg} key is a JWK, not PEM")));
            }
            return Self::from_pem(trimmed);
        }
        let jwk: JwkIn =
            serde_json::from_str(trimmed).map_err(|e| invalid(format!("not a JWK: {e}")))?;
        if let Some(jwk_alg) = &jwk.alg
            && jwk_alg != alg.as_str()
        {
            return Err(invalid(format!("the JWK is for `{jwk_alg}`, not `{alg}`")));
        }
        jwk.check_use(alg)?;
        match (alg, jwk.kty.as_str()) {
            (KeyAlg::Dir, "oct") => Self::dir(&b64("k", jwk.k.as_ref())?, jwk.kid),
            (KeyAlg::EcdhEsA256kw, "EC") => {
                if jwk.crv.as_deref() != Some("P-256") {
                    return Err(invalid("ECDH-ES+A256KW keys are on P-256"));
                }
                let x = b64("x", jwk.x.as_ref())?;
                let y = b64("y", jwk.y.as_ref())?;
                if x.len() != P256_COORD_BYTES || y.len() != P256_COORD_BYTES {
                    return Err(invalid("P-256 coordinates are 32 bytes"));
                }
                let mut public = Vec::with_capacity(65);
                public.push(4);
                public.extend_from_slice(&x);
                public.extend_from_slice(&y);
                match &jwk.d {
                    Some(_) => {
                        let d = b64("d", jwk.d.as_ref())?;
                        let private = agreement::PrivateKey::from_private_key(&ECDH_P256, &d)
                            .map_err(|_| invalid("not a P-256 private key"))?;
                        let key = Self::ecdh_private(private, jwk.kid)?;
                        match &key.material {
                            Material::Ecdh { public: p, .. } if *p == public => Ok(key),
                            _ => Err(invalid("JWK `d` does not match `x`/`y`")),
                        }
                    }
                    None => {
                        // Checks the point is on the curve.
                        agreement::ParsedPublicKey::try_from(&agreement::UnparsedPublicKey::new(
                            &ECDH_P256, &public,
                        ))
                        .map_err(|_| invalid("not a P-256 point"))?;
                        Ok(Self {
                            alg,
                            kid: jwk.kid.unwrap_or_else(|| derive_kid("P-256", &public)),
                            material: Material::Ecdh {
                                private: None,
                                public,
                            },
                        })
                    }
                }
            }
            (KeyAlg::RsaOaep256, _) => Err(invalid(
                "RSA-OAEP-256 keys are read from PEM (PRIVATE KEY or PUBLIC KEY)",
            )),
            (alg, kty) => Err(invalid(format!("a {alg} key cannot be of kty `{kty}`"))),
        }
    }

    fn from_pem(text: &str) -> Result<Self, JweError> {
        let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
        let begin = lines.next().unwrap_or_default();
        let label = begin
            .strip_prefix("-----BEGIN ")
            .and_then(|l| l.strip_suffix("-----"))
            .ok_or_else(|| invalid("bad PEM header"))?;
        let body: String = lines.take_while(|l| !l.starts_with("-----END")).collect();
        let der = STANDARD
            .decode(body)
            .map_err(|_| invalid("PEM body is not base64"))?;
        match label {
            "PRIVATE KEY" => Self::rsa_private(
                PrivateDecryptingKey::from_pkcs8(&der)
                    .map_err(|_| invalid("not an RSA PKCS#8 private key"))?,
                None,
            ),
            "PUBLIC KEY" => Self::rsa_public(&der, None),
            other => Err(invalid(format!(
                "PEM `{other}`: expected PRIVATE KEY (PKCS#8) or PUBLIC KEY"
            ))),
        }
    }

    /// The key written out in the format [`from_text`](Self::from_text) reads, private half
    /// included (a secret: store it like a password). `public_only` drops the private half
    /// (`dir` keys have none: `None`).
    pub fn to_text(&self, public_only: bool) -> Option<String> {
        let kid = &self.kid;
        match &self.material {
            Material::Dir { secret, .. } => (!public_only).then(|| {
                serde_json::json!({
                    "kty": "oct", "alg": "dir", "kid": kid,
                    "k": URL_SAFE_NO_PAD.encode(secret.as_slice()),
                })
                .to_string()
            }),
            Material::Rsa { private, spki, .. } => match (private, public_only) {
                (Some((_, pkcs8)), false) => Some(pem("PRIVATE KEY", pkcs8)),
                _ => Some(pem("PUBLIC KEY", spki)),
            },
            Material::Ecdh { private, public } => {
                let mut jwk = serde_json::json!({
                    "kty": "EC", "crv": "P-256", "alg": self.alg.as_str(), "kid": kid,
                    "x": URL_SAFE_NO_PAD.encode(&public[1..33]),
                    "y": URL_SAFE_NO_PAD.encode(&public[33..65]),
                });
                if let (Some(private), false) = (private, public_only) {
                    let d: EcPrivateKeyBin<'_> = private.as_be_bytes().ok()?;
                    jwk["d"] = URL_SAFE_NO_PAD.encode(d.as_ref()).into();
                }
                Some(jwk.to_string())
            }
        }
    }

    /// The algorithm this key serves.
    pub fn alg(&self) -> KeyAlg {
        self.alg
    }

    /// The key's `kid`, written into every token's header.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// Whether this key can decrypt (holds the secret or the private half).
    pub fn can_decrypt(&self) -> bool {
        match &self.material {
            Material::Dir { .. } => true,
            Material::Rsa { private, .. } => private.is_some(),
            Material::Ecdh { private, .. } => private.is_some(),
        }
    }

    /// The raw 32 bytes of a `dir` key (for the benchmarks' raw AES-256-GCM floor).
    pub fn dir_secret(&self) -> Option<&[u8; DIR_KEY_BYTES]> {
        match &self.material {
            Material::Dir { secret, .. } => Some(secret),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_through_their_text_form() {
        for alg in KeyAlg::ALL {
            let key = JweKey::generate(alg).expect("generate");
            let text = key.to_text(false).expect("private text");
            let back = JweKey::from_text(alg, &text).expect("read back");
            assert_eq!(back.kid(), key.kid(), "{alg}");
            assert!(back.can_decrypt(), "{alg}");
            if alg.is_public_key() {
                let public = JweKey::from_text(alg, &key.to_text(true).expect("public"))
                    .expect("public key reads");
                assert!(!public.can_decrypt(), "{alg}");
            } else {
                assert!(key.to_text(true).is_none());
            }
        }
    }

    #[test]
    fn bad_keys_are_refused() {
        assert!(JweKey::dir(&[0u8; 16], None).is_err());
        assert!(JweKey::from_text(KeyAlg::Dir, r#"{"kty":"oct","k":"AAAA"}"#).is_err());
        assert!(
            JweKey::from_text(KeyAlg::Dir, r#"{"kty":"oct","alg":"A256KW","k":"AAAA"}"#).is_err()
        );
        // A point not on the curve.
        let bad = format!(
            r#"{{"kty":"EC","crv":"P-256","x":"{0}","y":"{0}"}}"#,
            URL_SAFE_NO_PAD.encode([1u8; 32])
        );
        assert!(JweKey::from_text(KeyAlg::EcdhEsA256kw, &bad).is_err());
        assert!(JweKey::from_text(KeyAlg::RsaOaep256, "{}").is_err());
    }

    /// `use` and `key_ops` are honoured (they were ignored): a signing key, an operation of
    /// another algorithm, a duplicate, or ops that lack the one we need are refused, naming
    /// the key; what fits is accepted.
    #[test]
    fn use_and_key_ops_are_honoured() {
        let with = |alg: KeyAlg, public_only: bool, name: &str, value: serde_json::Value| {
            let key = JweKey::generate(alg).expect("generate");
            let mut jwk: serde_json::Value =
                serde_json::from_str(&key.to_text(public_only).expect("text")).expect("json");
            jwk[name] = value;
            jwk["kid"] = "k1".into();
            JweKey::from_text(alg, &jwk.to_string())
        };
        let refused = |r: Result<JweKey, JweError>, why: &str| match r {
            Err(e) => {
                let message = e.to_string();
                assert!(
                    message.contains("kid \"k1\"") && message.contains(why),
                    "{message}"
                );
            }
            Ok(k) => panic!("accepted {k:?}; expected a refusal for {why}"),
        };
        use serde_json::json;
        let (dir, ecdh) = (KeyAlg::Dir, KeyAlg::EcdhEsA256kw);
        refused(with(dir, false, "use", json!("sig")), "\"use\": \"sig\"");
        refused(with(ecdh, false, "use", json!("sig")), "\"use\": \"sig\"");
        refused(
            with(dir, false, "key_ops", json!(["sign"])),
            "not an operation",
        );
        refused(
            with(dir, false, "key_ops", json!(["encrypt"])),
            "without \"decrypt\"",
        );
        refused(
            with(dir, false, "key_ops", json!(["decrypt", "decrypt"])),
            "twice",
        );
        refused(with(dir, false, "key_ops", json!([])), "without");
        refused(
            with(ecdh, false, "key_ops", json!(["unwrapKey"])),
            "not an operation",
        );
        refused(
            with(ecdh, false, "key_ops", json!(["verify"])),
            "not an operation",
        );
        assert!(with(dir, false, "use", json!("enc")).is_ok());
        assert!(with(dir, false, "key_ops", json!(["encrypt", "decrypt"])).is_ok());
        assert!(with(ecdh, false, "key_ops", json!(["deriveKey"])).is_ok());
        assert!(with(ecdh, true, "key_ops", json!(["deriveBits"])).is_ok());
        // A member named twice: the typed parse refuses it.
        let key = JweKey::generate(dir).expect("generate");
        let text = key.to_text(false).expect("text");
        let twice = text.replacen('{', r#"{"k":"AAAA","#, 1);
        let err = JweKey::from_text(dir, &twice).expect_err("k twice");
        assert!(err.to_string().contains("duplicate field"), "{err}");
    }
}
