//! Keys: generated, loaded from PEM or JWK, named by thumbprint, published as a JWKS.
//!
//! Every key starts life as an aws-lc-rs key pair (or, for HS256, 32 random bytes), whatever
//! its source; from that one value we derive jsonwebtoken's [`EncodingKey`] and
//! [`DecodingKey`], the public JWK, and the `kid`. One path for every source means a PEM file
//! and a generated key cannot end up shaped differently.
//!
//! What jsonwebtoken expects (read from its source, 11.1):
//!
//! | constructor | expects |
//! |---|---|
//! | `EncodingKey::from_rsa_der` | PKCS#1 `RSAPrivateKey` (it re-parses it on *every* signature) |
//! | `EncodingKey::from_ec_der` | PKCS#8 `PrivateKeyInfo` |
//! | `EncodingKey::from_ed_der` | PKCS#8 (use v1: `Jwk::from_encoding_key` only knows 48-byte v1) |
//! | `DecodingKey::from_rsa_raw_components` | big-endian `n`, `e` |
//! | `DecodingKey::from_ec_der` | despite the name, the raw SEC1 point `04‖x‖y` |
//! | `DecodingKey::from_ed_der` | despite the name, the raw 32-byte public key |

use std::fmt;

use aws_lc_rs::encoding::{AsBigEndian, AsDer};
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeyPairComponents, KeySize, PublicKeyComponents};
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, ECDSA_P384_SHA384_FIXED_SIGNING, EcdsaKeyPair,
    EcdsaSigningAlgorithm, Ed25519KeyPair, KeyPair as _,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{DecodingKey, EncodingKey};
use serde::{Deserialize, Serialize};

use crate::alg::{Alg, KeyKind};
use crate::der;
use crate::error::JwtError;

/// Bytes of a generated HMAC secret, and the least we accept from a file: RFC 7518 §3.2 asks
/// for a key at least as long as the hash output (256 bits for HS256).
pub const HMAC_SECRET_BYTES: usize = 32;

/// Smallest RSA modulus we accept, in bytes (2048 bits; RFC 7518 §3.3). aws-lc-rs would refuse
/// smaller keys at verification time anyway; we refuse them at import, where the error is clear.
const MIN_RSA_MODULUS_BYTES: usize = 256;

/// The key type behind a [`SigningKey`]: aws-lc-rs key pairs, from which everything else is
/// derived.
enum Material {
    Hmac(Vec<u8>),
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
}

/// A public key as a JWK (RFC 7517), exactly the members we publish: never a private one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct PublicJwk {
    kty: &'static str,
    kid: String,
    #[serde(rename = "use")]
    key_use: &'static str,
    alg: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    crv: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    n: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    e: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    x: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    y: Option<String>,
}

/// A key that verifies exactly one algorithm, optionally named by a `kid`.
///
/// Binding the algorithm to the key (not to the token) is what defeats algorithm confusion:
/// an RS256 key never runs as an HMAC secret, whatever the token's header says.
#[derive(Clone)]
pub struct VerifyingKey {
    pub(crate) alg: Alg,
    pub(crate) kid: Option<String>,
    pub(crate) decoding: DecodingKey,
}

impl VerifyingKey {
    /// The one algorithm this key verifies.
    pub fn alg(&self) -> Alg {
        self.alg
    }

    /// The key's `kid`, if it has one.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// jsonwebtoken's form of the key (for benchmarks comparing against `jsonwebtoken::decode`).
    pub fn decoding_key(&self) -> &DecodingKey {
        &self.decoding
    }
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("alg", &self.alg)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// A private key for one algorithm, with its `kid` and its public half.
///
/// Build one with [`generate`](Self::generate), [`from_pem`](Self::from_pem),
/// [`from_jwk_json`](Self::from_jwk_json) or [`hmac`](Self::hmac). `Debug` never shows key
/// material.
pub struct SigningKey {
    alg: Alg,
    kid: String,
    material: Material,
    encoding: EncodingKey,
    verifying: VerifyingKey,
    public: Option<PublicJwk>,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("alg", &self.alg)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn invalid(alg: Alg, reason: impl Into<String>) -> JwtError {
    JwtError::InvalidKey {
        alg,
        reason: reason.into(),
    }
}

fn ec_signing_alg(alg: Alg) -> Option<&'static EcdsaSigningAlgorithm> {
    match alg {
        Alg::ES256 => Some(&ECDSA_P256_SHA256_FIXED_SIGNING),
        Alg::ES384 => Some(&ECDSA_P384_SHA384_FIXED_SIGNING),
        _ => None,
    }
}

/// Bytes of one EC coordinate on the curve `crv`.
fn ec_coordinate_len(crv: &str) -> Option<usize> {
    match crv {
        "P-256" => Some(32),
        "P-384" => Some(48),
        _ => None,
    }
}

/// The RFC 7638 JWK thumbprint: base64url(SHA-256) of the key's required members, in
/// lexicographic order, with no whitespace. Deterministic, so a key loaded from the same file
/// after a restart keeps its `kid` and tokens issued before the restart still find it.
///
/// For an HS256 key the thumbprint is a hash of the secret. That gives an attacker nothing an
/// HS256 token does not already give (any token is an offline test of a guessed secret), and a
/// 256-bit random secret is out of reach either way.
fn thumbprint(members: &[(&str, &str)]) -> String {
    let mut canonical = String::from("{");
    for (i, (name, value)) in members.iter().enumerate() {
        if i > 0 {
            canonical.push(',');
        }
        // Names and values here are base64url or fixed ASCII names: no JSON escaping needed.
        canonical.push_str(&format!("\"{name}\":\"{value}\""));
    }
    canonical.push('}');
    b64(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, canonical.as_bytes()).as_ref())
}

impl SigningKey {
    /// Generates a fresh key for `alg`: 32 random bytes for HS256 (from the OS CSPRNG),
    /// RSA-2048 for RS256/PS256, P-256 / P-384 for ES256 / ES384, Ed25519 for EdDSA.
    pub fn generate(alg: Alg) -> Result<Self, JwtError> {
        let material = match alg {
            Alg::HS256 => {
                let mut secret = vec![0u8; HMAC_SECRET_BYTES];
                getrandom::fill(&mut secret).map_err(|_| JwtError::Random)?;
                Material::Hmac(secret)
            }
            Alg::RS256 | Alg::PS256 => Material::Rsa(
                RsaKeyPair::generate(KeySize::Rsa2048)
                    .map_err(|_| invalid(alg, "RSA key generation failed"))?,
            ),
            Alg::ES256 | Alg::ES384 => {
                let signing = ec_signing_alg(alg).ok_or(JwtError::NoAlgorithms)?;
                Material::Ec(
                    EcdsaKeyPair::generate(signing)
                        .map_err(|_| invalid(alg, "EC key generation failed"))?,
                )
            }
            Alg::EdDSA => Material::Ed(
                Ed25519KeyPair::generate()
                    .map_err(|_| invalid(alg, "Ed25519 key generation failed"))?,
            ),
        };
        Self::assemble(alg, material, None)
    }

    /// An HS256 key from a shared secret of at least [`HMAC_SECRET_BYTES`] bytes.
    pub fn hmac(secret: &[u8]) -> Result<Self, JwtError> {
        if secret.len() < HMAC_SECRET_BYTES {
            return Err(JwtError::WeakSecret {
                len: secret.len(),
                min: HMAC_SECRET_BYTES,
            });
        }
        Self::assemble(Alg::HS256, Material::Hmac(secret.to_vec()), None)
    }

    /// Loads a private key for `alg` from PEM: PKCS#8 (`BEGIN PRIVATE KEY`) for every
    /// asymmetric algorithm, or PKCS#1 (`BEGIN RSA PRIVATE KEY`) for RSA. For HS256 the bytes
    /// *are* the secret (trailing ASCII whitespace removed, so a newline left by `echo` is not
    /// part of it).
    pub fn from_pem(alg: Alg, pem: &[u8]) -> Result<Self, JwtError> {
        let reason =
            |e: jsonwebtoken::errors::Error| invalid(alg, format!("PEM not accepted: {e}"));
        let material = match alg {
            Alg::HS256 => {
                let end = pem
                    .iter()
                    .rposition(|b| !b.is_ascii_whitespace())
                    .map_or(0, |i| i + 1);
                return Self::hmac(&pem[..end]);
            }
            Alg::RS256 | Alg::PS256 => {
                let key = EncodingKey::from_rsa_pem(pem).map_err(reason)?;
                Material::Rsa(
                    RsaKeyPair::from_der(key.as_bytes())
                        .map_err(|e| invalid(alg, format!("RSA key rejected: {e}")))?,
                )
            }
            Alg::ES256 | Alg::ES384 => {
                let key = EncodingKey::from_ec_pem(pem).map_err(reason)?;
                let signing = ec_signing_alg(alg).ok_or(JwtError::NoAlgorithms)?;
                Material::Ec(
                    EcdsaKeyPair::from_pkcs8(signing, key.as_bytes()).map_err(|e| {
                        invalid(
                            alg,
                            format!("EC key rejected (wrong curve for {alg}?): {e}"),
                        )
                    })?,
                )
            }
            Alg::EdDSA => {
                let key = EncodingKey::from_ed_pem(pem).map_err(reason)?;
                Material::Ed(
                    Ed25519KeyPair::from_pkcs8(key.as_bytes())
                        .map_err(|e| invalid(alg, format!("Ed25519 key rejected: {e}")))?,
                )
            }
        };
        Self::assemble(alg, material, None)
    }

    /// Loads a private key for `alg` from a JWK (RFC 7517) holding the private members (`d`,
    /// or `k` for `oct`). Its `use`, `key_ops` and `alg` are honoured: `use` other than `sig`,
    /// `key_ops` without `sign`, or an `alg` other than `alg` are refused. Its `kid` is kept;
    /// without one the key is named by its RFC 7638 thumbprint.
    pub fn from_jwk_json(alg: Alg, json: &str) -> Result<Self, JwtError> {
        let jwk: JwkDoc =
            serde_json::from_str(json).map_err(|e| JwtError::InvalidJwk(e.to_string()))?;
        jwk.check_use(KeyOp::Sign)?;
        if let Some(jwk_alg) = &jwk.alg
            && jwk_alg != alg.as_str()
        {
            return Err(JwtError::KeyAlgMismatch {
                kid: jwk.kid.clone(),
                jwk_alg: jwk_alg.clone(),
                requested: alg.to_string(),
            });
        }
        if !jwk.fits(alg) {
            return Err(jwk.type_mismatch(&[alg]));
        }
        let material = match alg.key_kind() {
            KeyKind::Oct => {
                let secret = jwk.bytes("k")?;
                if secret.len() < HMAC_SECRET_BYTES {
                    return Err(JwtError::WeakSecret {
                        len: secret.len(),
                        min: HMAC_SECRET_BYTES,
                    });
                }
                Material::Hmac(secret)
            }
            KeyKind::Rsa => {
                if jwk.oth.is_some() {
                    return Err(JwtError::InvalidJwk(
                        "multi-prime RSA keys (\"oth\") are not supported".into(),
                    ));
                }
                let d = jwk.private("d")?;
                let components = KeyPairComponents {
                    public_key: PublicKeyComponents {
                        n: jwk.bytes("n")?,
                        e: jwk.bytes("e")?,
                    },
                    d,
                    p: jwk.bytes("p")?,
                    q: jwk.bytes("q")?,
                    dP: jwk.bytes("dp")?,
                    dQ: jwk.bytes("dq")?,
                    qInv: jwk.bytes("qi")?,
                };
                Material::Rsa(
                    RsaKeyPair::from_components(&components)
                        .map_err(|e| invalid(alg, format!("RSA JWK rejected: {e}")))?,
                )
            }
            KeyKind::Ec(_) => {
                let d = jwk.private("d")?;
                let point = jwk.ec_point()?;
                let signing = ec_signing_alg(alg).ok_or(JwtError::NoAlgorithms)?;
                Material::Ec(
                    EcdsaKeyPair::from_private_key_and_public_key(signing, &d, &point)
                        .map_err(|e| invalid(alg, format!("EC JWK rejected: {e}")))?,
                )
            }
            KeyKind::Okp => {
                let d = jwk.private("d")?;
                let x = jwk.bytes("x")?;
                Material::Ed(
                    Ed25519KeyPair::from_seed_and_public_key(&d, &x)
                        .map_err(|e| invalid(alg, format!("Ed25519 JWK rejected: {e}")))?,
                )
            }
        };
        Self::assemble(alg, material, jwk.kid)
    }

    /// Replaces the key's `kid` (the thumbprint by default).
    #[must_use]
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        self.kid = kid.into();
        self.verifying.kid = Some(self.kid.clone());
        if let Some(public) = &mut self.public {
            public.kid = self.kid.clone();
        }
        self
    }

    /// Derives every other form of the key from the aws-lc-rs material.
    fn assemble(alg: Alg, material: Material, kid: Option<String>) -> Result<Self, JwtError> {
        let bad = |what: &str| invalid(alg, format!("cannot export {what}"));
        let (encoding, decoding, public, thumb) = match &material {
            Material::Hmac(secret) => {
                let k = b64(secret);
                (
                    EncodingKey::from_secret(secret),
                    DecodingKey::from_secret(secret),
                    None,
                    thumbprint(&[("k", &k), ("kty", "oct")]),
                )
            }
            Material::Rsa(pair) => {
                let pkcs8 = pair.as_der().map_err(|_| bad("PKCS#8"))?;
                let pkcs1 = der::pkcs8_private_key(pkcs8.as_ref()).ok_or_else(|| bad("PKCS#1"))?;
                let [_, n, e, ..] =
                    der::rsa_private_key_integers(pkcs1).ok_or_else(|| bad("RSA components"))?;
                if n.len() < MIN_RSA_MODULUS_BYTES {
                    return Err(invalid(alg, "RSA modulus shorter than 2048 bits"));
                }
                let (n64, e64) = (b64(n), b64(e));
                let thumb = thumbprint(&[("e", &e64), ("kty", "RSA"), ("n", &n64)]);
                (
                    EncodingKey::from_rsa_der(pkcs1),
                    DecodingKey::from_rsa_raw_components(n, e),
                    Some(PublicJwk::new(
                        "RSA",
                        alg,
                        None,
                        Some(n64),
                        Some(e64),
                        None,
                        None,
                    )),
                    thumb,
                )
            }
            Material::Ec(pair) => {
                let pkcs8 = pair.to_pkcs8v1().map_err(|_| bad("PKCS#8"))?;
                let point = pair.public_key().as_ref();
                let crv = match alg.key_kind() {
                    KeyKind::Ec(crv) => crv,
                    _ => return Err(bad("EC curve")),
                };
                let len = ec_coordinate_len(crv).ok_or_else(|| bad("EC curve"))?;
                if point.len() != 1 + 2 * len || point[0] != 0x04 {
                    return Err(bad("uncompressed EC point"));
                }
                let (x, y) = (b64(&point[1..=len]), b64(&point[1 + len..]));
                let thumb = thumbprint(&[("crv", crv), ("kty", "EC"), ("x", &x), ("y", &y)]);
                (
                    EncodingKey::from_ec_der(pkcs8.as_ref()),
                    DecodingKey::from_ec_der(point),
                    Some(PublicJwk::new(
                        "EC",
                        alg,
                        Some(crv),
                        None,
                        None,
                        Some(x),
                        Some(y),
                    )),
                    thumb,
                )
            }
            Material::Ed(pair) => {
                let pkcs8 = pair.to_pkcs8v1().map_err(|_| bad("PKCS#8"))?;
                let public = pair.public_key().as_ref();
                let x = b64(public);
                let thumb = thumbprint(&[("crv", "Ed25519"), ("kty", "OKP"), ("x", &x)]);
                (
                    EncodingKey::from_ed_der(pkcs8.as_ref()),
                    DecodingKey::from_ed_der(public),
                    Some(PublicJwk::new(
                        "OKP",
                        alg,
                        Some("Ed25519"),
                        None,
                        None,
                        Some(x),
                        None,
                    )),
                    thumb,
                )
            }
        };
        let kid = kid.unwrap_or(thumb);
        let public = public.map(|mut p| {
            p.kid = kid.clone();
            p
        });
        Ok(Self {
            alg,
            verifying: VerifyingKey {
                alg,
                kid: Some(kid.clone()),
                decoding,
            },
            kid,
            material,
            encoding,
            public,
        })
    }

    /// The algorithm this key signs with.
    pub fn alg(&self) -> Alg {
        self.alg
    }

    /// The key's `kid`: the RFC 7638 thumbprint unless the JWK named it or
    /// [`with_kid`](Self::with_kid) changed it.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// jsonwebtoken's form of the private key.
    pub fn encoding_key(&self) -> &EncodingKey {
        &self.encoding
    }

    /// The public half, as a key that verifies this key's algorithm only.
    pub fn verifying_key(&self) -> VerifyingKey {
        self.verifying.clone()
    }

    /// The public key as a JWK with `kid`, `alg` and `use: sig`; `None` for HS256, whose only
    /// key is the secret.
    pub fn public_jwk(&self) -> Option<serde_json::Value> {
        self.public
            .as_ref()
            .and_then(|p| serde_json::to_value(p).ok())
    }

    pub(crate) fn public_jwk_struct(&self) -> Option<&PublicJwk> {
        self.public.as_ref()
    }

    /// The public key as DER `SubjectPublicKeyInfo` (what a `BEGIN PUBLIC KEY` PEM holds);
    /// `None` for HS256.
    pub fn public_key_der(&self) -> Option<Vec<u8>> {
        let der = match &self.material {
            Material::Hmac(_) => return None,
            Material::Rsa(pair) => pair.public_key().as_der().ok()?.as_ref().to_vec(),
            Material::Ec(pair) => pair.public_key().as_der().ok()?.as_ref().to_vec(),
            Material::Ed(pair) => pair.public_key().as_der().ok()?.as_ref().to_vec(),
        };
        Some(der)
    }

    /// The public key as PEM (`BEGIN PUBLIC KEY`); `None` for HS256.
    pub fn public_key_pem(&self) -> Option<String> {
        self.public_key_der()
            .map(|der| der::pem("PUBLIC KEY", &der))
    }

    /// The private key as PKCS#8 PEM (`BEGIN PRIVATE KEY`), for writing a key file that
    /// [`from_pem`](Self::from_pem) reads back. HS256 has no PEM form (its key file is the raw
    /// secret): an error. This is key material: keep it out of logs.
    pub fn private_key_pem(&self) -> Result<String, JwtError> {
        let bad = || invalid(self.alg, "cannot export PKCS#8");
        let der = match &self.material {
            Material::Hmac(_) => {
                return Err(invalid(self.alg, "an HMAC secret has no PEM form"));
            }
            Material::Rsa(pair) => pair.as_der().map_err(|_| bad())?.as_ref().to_vec(),
            Material::Ec(pair) => pair.to_pkcs8v1().map_err(|_| bad())?.as_ref().to_vec(),
            Material::Ed(pair) => pair.to_pkcs8v1().map_err(|_| bad())?.as_ref().to_vec(),
        };
        Ok(der::pem("PRIVATE KEY", &der))
    }

    /// The private key as a JWK (with `d`, or `k` for HS256), for writing a key file that
    /// [`from_jwk_json`](Self::from_jwk_json) reads back. This is key material.
    pub fn private_jwk(&self) -> Result<serde_json::Value, JwtError> {
        let bad = || invalid(self.alg, "cannot export private key");
        let mut jwk = match &self.public {
            Some(public) => serde_json::to_value(public).map_err(|_| bad())?,
            None => {
                serde_json::json!({"kty": "oct", "kid": self.kid, "use": "sig", "alg": "HS256"})
            }
        };
        let obj = jwk.as_object_mut().ok_or_else(bad)?;
        let mut put = |name: &str, bytes: &[u8]| {
            obj.insert(name.to_owned(), serde_json::Value::String(b64(bytes)));
        };
        match &self.material {
            Material::Hmac(secret) => put("k", secret),
            Material::Rsa(pair) => {
                let pkcs8 = pair.as_der().map_err(|_| bad())?;
                let pkcs1 = der::pkcs8_private_key(pkcs8.as_ref()).ok_or_else(bad)?;
                let [_, _, _, d, p, q, dp, dq, qi] =
                    der::rsa_private_key_integers(pkcs1).ok_or_else(bad)?;
                for (name, value) in [
                    ("d", d),
                    ("p", p),
                    ("q", q),
                    ("dp", dp),
                    ("dq", dq),
                    ("qi", qi),
                ] {
                    put(name, value);
                }
            }
            Material::Ec(pair) => {
                let d = pair.private_key().as_be_bytes().map_err(|_| bad())?;
                put("d", d.as_ref());
            }
            Material::Ed(pair) => {
                let seed = pair.seed().map_err(|_| bad())?;
                let d = seed.as_be_bytes().map_err(|_| bad())?;
                put("d", d.as_ref());
            }
        }
        Ok(jwk)
    }
}

impl PublicJwk {
    #[allow(clippy::too_many_arguments)]
    fn new(
        kty: &'static str,
        alg: Alg,
        crv: Option<&'static str>,
        n: Option<String>,
        e: Option<String>,
        x: Option<String>,
        y: Option<String>,
    ) -> Self {
        Self {
            kty,
            kid: String::new(),
            key_use: "sig",
            alg: alg.as_str(),
            crv,
            n,
            e,
            x,
            y,
        }
    }
}

/// A JWK Set document (RFC 7517 §5) of public keys, as JSON text.
pub(crate) fn jwks_json(keys: &[&PublicJwk]) -> String {
    #[derive(Serialize)]
    struct Set<'a> {
        keys: &'a [&'a PublicJwk],
    }
    // Serialising plain strings into a String cannot fail.
    serde_json::to_string(&Set { keys }).unwrap_or_else(|_| String::from("{\"keys\":[]}"))
}

/// The operation a key is imported for.
#[derive(Clone, Copy)]
pub(crate) enum KeyOp {
    Sign,
    Verify,
}

/// A JWK as it arrives: every member we look at, all optional, so *we* decide what is missing.
#[derive(Debug, Deserialize)]
pub(crate) struct JwkDoc {
    kty: String,
    #[serde(rename = "use")]
    key_use: Option<String>,
    key_ops: Option<Vec<String>>,
    alg: Option<String>,
    kid: Option<String>,
    crv: Option<String>,
    x: Option<String>,
    y: Option<String>,
    n: Option<String>,
    e: Option<String>,
    d: Option<String>,
    p: Option<String>,
    q: Option<String>,
    dp: Option<String>,
    dq: Option<String>,
    qi: Option<String>,
    k: Option<String>,
    oth: Option<serde_json::Value>,
}

impl JwkDoc {
    fn member(&self, name: &str) -> Option<&String> {
        match name {
            "x" => self.x.as_ref(),
            "y" => self.y.as_ref(),
            "n" => self.n.as_ref(),
            "e" => self.e.as_ref(),
            "d" => self.d.as_ref(),
            "p" => self.p.as_ref(),
            "q" => self.q.as_ref(),
            "dp" => self.dp.as_ref(),
            "dq" => self.dq.as_ref(),
            "qi" => self.qi.as_ref(),
            "k" => self.k.as_ref(),
            _ => None,
        }
    }

    /// A required base64url member, decoded strictly (no padding, canonical).
    fn bytes(&self, name: &str) -> Result<Vec<u8>, JwtError> {
        let value = self.member(name).ok_or_else(|| {
            JwtError::InvalidJwk(format!("\"{}\" key lacks \"{name}\"", self.kty))
        })?;
        URL_SAFE_NO_PAD.decode(value).map_err(|_| {
            JwtError::InvalidJwk(format!("\"{name}\" is not base64url without padding"))
        })
    }

    /// A private member: its absence means a public key was given where a private one is needed.
    fn private(&self, name: &str) -> Result<Vec<u8>, JwtError> {
        if self.member(name).is_none() {
            return Err(JwtError::NotAPrivateKey);
        }
        self.bytes(name)
    }

    fn ec_point(&self) -> Result<Vec<u8>, JwtError> {
        let crv = self.crv.as_deref().unwrap_or_default();
        let len = ec_coordinate_len(crv)
            .ok_or_else(|| JwtError::InvalidJwk(format!("unsupported EC curve \"{crv}\"")))?;
        let (x, y) = (self.bytes("x")?, self.bytes("y")?);
        if x.len() != len || y.len() != len {
            return Err(JwtError::InvalidJwk(format!(
                "{crv} coordinates must be {len} bytes"
            )));
        }
        let mut point = Vec::with_capacity(1 + 2 * len);
        point.push(0x04);
        point.extend_from_slice(&x);
        point.extend_from_slice(&y);
        Ok(point)
    }

    /// Refuses a key whose `use` or `key_ops` forbid `op` (RFC 7517 §4.2, §4.3), which
    /// jsonwebtoken's `DecodingKey::from_jwk` silently ignores.
    pub(crate) fn check_use(&self, op: KeyOp) -> Result<(), JwtError> {
        if let Some(key_use) = &self.key_use
            && key_use != "sig"
        {
            return Err(JwtError::KeyUseForbidsVerify {
                kid: self.kid.clone(),
                key_use: key_use.chars().take(32).collect(),
            });
        }
        let needed = match op {
            KeyOp::Sign => "sign",
            KeyOp::Verify => "verify",
        };
        if let Some(ops) = &self.key_ops
            && !ops.iter().any(|o| o == needed)
        {
            return Err(JwtError::KeyOpsForbid {
                kid: self.kid.clone(),
                needed,
            });
        }
        Ok(())
    }

    /// Whether the key's type (and curve) fits `alg`.
    fn fits(&self, alg: Alg) -> bool {
        match alg.key_kind() {
            KeyKind::Oct => self.kty == "oct",
            KeyKind::Rsa => self.kty == "RSA",
            KeyKind::Ec(crv) => self.kty == "EC" && self.crv.as_deref() == Some(crv),
            KeyKind::Okp => self.kty == "OKP" && self.crv.as_deref() == Some("Ed25519"),
        }
    }

    fn type_mismatch(&self, requested: &[Alg]) -> JwtError {
        JwtError::KeyTypeMismatch {
            kid: self.kid.clone(),
            kty: match &self.crv {
                Some(crv) => format!("{}/{}", self.kty, crv.chars().take(16).collect::<String>()),
                None => self.kty.chars().take(16).collect(),
            },
            requested: alg_list(requested),
        }
    }

    /// Imports the public part of this JWK as a key that verifies one of `allowed`.
    ///
    /// The rules (RFC 7517, RFC 8725 §3.1): `use` must be `sig` if present; `key_ops` must
    /// contain `verify` if present; `alg`, if present, must be one of `allowed` and fit the key
    /// type; without `alg`, exactly one allowed algorithm must fit the key type.
    pub(crate) fn to_verifying_key(&self, allowed: &[Alg]) -> Result<VerifyingKey, JwtError> {
        self.check_use(KeyOp::Verify)?;
        let alg = match &self.alg {
            Some(name) => {
                let alg = Alg::from_jose(name)
                    .filter(|a| allowed.contains(a))
                    .ok_or_else(|| JwtError::KeyAlgMismatch {
                        kid: self.kid.clone(),
                        jwk_alg: name.chars().take(32).collect(),
                        requested: alg_list(allowed),
                    })?;
                if !self.fits(alg) {
                    return Err(self.type_mismatch(&[alg]));
                }
                alg
            }
            None => {
                let fitting: Vec<Alg> = allowed.iter().copied().filter(|a| self.fits(*a)).collect();
                match fitting.as_slice() {
                    [one] => *one,
                    [] => return Err(self.type_mismatch(allowed)),
                    many => {
                        return Err(JwtError::AmbiguousKeyAlgorithm {
                            kid: self.kid.clone(),
                            candidates: alg_list(many),
                        });
                    }
                }
            }
        };
        let decoding = match alg.key_kind() {
            KeyKind::Oct => {
                let secret = self.bytes("k")?;
                if secret.len() < HMAC_SECRET_BYTES {
                    return Err(JwtError::WeakSecret {
                        len: secret.len(),
                        min: HMAC_SECRET_BYTES,
                    });
                }
                DecodingKey::from_secret(&secret)
            }
            KeyKind::Rsa => {
                let n = self.bytes("n")?;
                let n = der::strip_leading_zeros(&n);
                if n.len() < MIN_RSA_MODULUS_BYTES {
                    return Err(invalid(alg, "RSA modulus shorter than 2048 bits"));
                }
                DecodingKey::from_rsa_raw_components(n, &self.bytes("e")?)
            }
            KeyKind::Ec(_) => DecodingKey::from_ec_der(&self.ec_point()?),
            KeyKind::Okp => {
                let x = self.bytes("x")?;
                if x.len() != 32 {
                    return Err(JwtError::InvalidJwk(
                        "Ed25519 \"x\" must be 32 bytes".into(),
                    ));
                }
                DecodingKey::from_ed_der(&x)
            }
        };
        Ok(VerifyingKey {
            alg,
            kid: self.kid.clone(),
            decoding,
        })
    }
}

pub(crate) fn alg_list(algs: &[Alg]) -> String {
    algs.iter()
        .map(|a| a.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Parses a JWK or a JWK Set (`{"keys": [...]}`) and imports every key usable with `allowed`.
///
/// A single JWK that cannot be used is an error saying why. In a set, keys for algorithms we
/// do not allow are skipped (a published set often carries keys for several algorithms), but
/// a key whose `use`/`key_ops` forbid verifying is still an error: such a set is misconfigured.
pub(crate) fn import_verifying_keys(
    json: &str,
    allowed: &[Alg],
) -> Result<Vec<VerifyingKey>, JwtError> {
    let value: serde_json::Value =
        serde_json::from_str(json).map_err(|e| JwtError::InvalidJwk(e.to_string()))?;
    let parse = |v: serde_json::Value| {
        serde_json::from_value::<JwkDoc>(v).map_err(|e| JwtError::InvalidJwk(e.to_string()))
    };
    let keys = match value {
        serde_json::Value::Object(mut obj) if obj.contains_key("keys") => {
            let Some(serde_json::Value::Array(list)) = obj.remove("keys") else {
                return Err(JwtError::InvalidJwk("\"keys\" must be an array".into()));
            };
            let mut keys = Vec::new();
            let mut skipped = Vec::new();
            for v in list {
                let jwk = parse(v)?;
                match jwk.to_verifying_key(allowed) {
                    Ok(key) => keys.push(key),
                    Err(
                        e @ (JwtError::KeyAlgMismatch { .. }
                        | JwtError::KeyTypeMismatch { .. }
                        | JwtError::AmbiguousKeyAlgorithm { .. }),
                    ) => {
                        tracing::debug!(error = %e, "JWK skipped");
                        skipped.push(e.to_string());
                    }
                    Err(e) => return Err(e),
                }
            }
            if keys.is_empty() {
                return Err(JwtError::NoUsableKey(if skipped.is_empty() {
                    "the set is empty".into()
                } else {
                    skipped.join("; ")
                }));
            }
            keys
        }
        other => vec![parse(other)?.to_verifying_key(allowed)?],
    };
    for (i, key) in keys.iter().enumerate() {
        if let Some(kid) = &key.kid
            && keys[..i].iter().any(|k| k.kid.as_ref() == Some(kid))
        {
            return Err(JwtError::DuplicateKid(kid.chars().take(64).collect()));
        }
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7638_thumbprint_example() {
        // RFC 7638 §3.1: the RSA example key and its SHA-256 thumbprint.
        let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
        let got = thumbprint(&[("e", "AQAB"), ("kty", "RSA"), ("n", n)]);
        assert_eq!(got, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    }

    #[test]
    fn generated_keys_round_trip_through_pem_and_jwk_with_same_kid() {
        for alg in Alg::ALL {
            let key = SigningKey::generate(alg).expect("generate");
            if alg.is_asymmetric() {
                let pem = key.private_key_pem().expect("pem");
                let from_pem = SigningKey::from_pem(alg, pem.as_bytes()).expect("from pem");
                assert_eq!(from_pem.kid(), key.kid(), "{alg} pem");
            }
            let jwk = key.private_jwk().expect("jwk").to_string();
            let from_jwk = SigningKey::from_jwk_json(alg, &jwk).expect("from jwk");
            assert_eq!(from_jwk.kid(), key.kid(), "{alg} jwk");
            assert_eq!(key.public_jwk().is_some(), alg.is_asymmetric());
        }
    }
}
