//! Compact JWE (RFC 7516 §7.1), both ways: [`encrypt`] and the strict [`Decrypter`].
//!
//! The order of the checks in [`Decrypter::decrypt`] is the lesson, as in the JWS verifier:
//!
//! 1. **Size** before anything: one comparison bounds all later work.
//! 2. **Shape**: exactly five base64url parts; the header a JSON object with unique members.
//! 3. **Header rules, before any crypto**: `alg` is the key's own (a `dir` token shown to an
//!    RSA key is refused, and vice versa; `none` is no JWE algorithm at all), `enc` is
//!    `A256GCM`, no `zip`, no `crit`, no key the token brings (`jwk`, `jku`, `x5u`, `x5c`),
//!    the expected `typ` and `cty`, a `kid` we hold.
//! 4. **Fixed sizes**: IV 12 bytes, tag 16 bytes, encrypted key empty (`dir`), the modulus
//!    size (RSA) or 40 bytes (AES-KW): checked while still encoded, so junk costs nothing.
//! 5. **The CEK**: the key itself, OAEP decryption, or ECDH + Concat KDF + AES key unwrap.
//!    When unwrapping fails we carry on with a random CEK (RFC 7516 §11.5), so a forged
//!    encrypted key fails exactly like a forged tag: one error, no oracle.
//! 6. **AES-256-GCM open** with the ASCII of the encoded header as AAD: any changed byte of
//!    header, IV, ciphertext or tag fails here.
//!
//! What comes out is the plaintext: the caller (the backend, the CLI) then checks the claims
//! exactly as for a JWS.

use authbench_core::{Error, ErrorKind};
use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::agreement::{self, ECDH_P256, UnparsedPublicKey};
use aws_lc_rs::digest;
use aws_lc_rs::key_wrap::{AES_256, AesKek, KeyWrap};
use aws_lc_rs::rsa::{OAEP_SHA256_MGF1SHA256, OaepPrivateDecryptingKey};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::alg::{ENC_A256GCM, KeyAlg};
use crate::error::JweError;
use crate::header::{self, Header};
use crate::key::{DIR_KEY_BYTES, JweKey, Material, P256_COORD_BYTES};

/// Bytes of an AES-GCM IV (96 bits, random per token).
pub const IV_BYTES: usize = 12;
/// Bytes of an AES-GCM tag.
pub const TAG_BYTES: usize = 16;
/// Bytes of a CEK wrapped with AES-256 Key Wrap (RFC 3394: the key plus 8).
pub const WRAPPED_CEK_BYTES: usize = DIR_KEY_BYTES + 8;
/// Largest decoded protected header we parse (as for a JWS).
pub const MAX_HEADER_BYTES: usize = authbench_jwt::MAX_HEADER_BYTES;

fn reject(kind: ErrorKind, detail: impl Into<String>) -> Error {
    Error::new(kind, detail)
}

/// A header value fit to quote in an error (short, printable ASCII), or a placeholder.
pub(crate) fn quotable(s: &str) -> &str {
    if s.len() <= 24 && s.bytes().all(|b| b.is_ascii_graphic()) {
        s
    } else {
        "<unprintable>"
    }
}

/// The five parts of a compact JWE, still encoded.
#[derive(Debug, Clone, Copy)]
pub struct Parts<'a> {
    /// The protected header (base64url); its ASCII is the AAD.
    pub header: &'a str,
    /// The encrypted CEK (empty for `dir`).
    pub encrypted_key: &'a str,
    /// The initialisation vector.
    pub iv: &'a str,
    /// The ciphertext: the claims, encrypted.
    pub ciphertext: &'a str,
    /// The authentication tag.
    pub tag: &'a str,
}

impl<'a> Parts<'a> {
    /// Splits `token` into exactly five parts (four dots), or `Malformed`.
    pub fn split(token: &'a str) -> Result<Self, Error> {
        let mut it = token.split('.');
        let mut next = || it.next();
        let (Some(header), Some(encrypted_key), Some(iv), Some(ciphertext), Some(tag), None) =
            (next(), next(), next(), next(), next(), next())
        else {
            return Err(reject(
                ErrorKind::Malformed,
                "a compact JWE has exactly five parts",
            ));
        };
        Ok(Self {
            header,
            encrypted_key,
            iv,
            ciphertext,
            tag,
        })
    }
}

/// Base64url length of `n` bytes without padding.
pub(crate) const fn encoded_len(n: usize) -> usize {
    (n * 4).div_ceil(3)
}

fn decode_exact<const N: usize>(part: &str, what: &str) -> Result<[u8; N], Error> {
    let mut out = [0u8; N];
    if part.len() != encoded_len(N) {
        return Err(reject(
            ErrorKind::Malformed,
            format!("{what} must be {N} bytes"),
        ));
    }
    match URL_SAFE_NO_PAD.decode_slice(part, &mut out) {
        Ok(n) if n == N => Ok(out),
        _ => Err(reject(
            ErrorKind::Malformed,
            format!("{what} is not canonical base64url"),
        )),
    }
}

/// Decodes and parses the protected header (bounded, strict).
pub(crate) fn decode_header(header_b64: &str) -> Result<(Vec<u8>, Header), Error> {
    if base64::decoded_len_estimate(header_b64.len()) > MAX_HEADER_BYTES {
        return Err(reject(ErrorKind::Malformed, "header is too large"));
    }
    let json = URL_SAFE_NO_PAD
        .decode(header_b64)
        .map_err(|_| reject(ErrorKind::Malformed, "header is not canonical base64url"))?;
    let header = header::parse(&json).map_err(|e| reject(ErrorKind::Malformed, e))?;
    Ok((json, header))
}

/// The Concat KDF of NIST SP 800-56A as JWA uses it (RFC 7518 §4.6.2), with SHA-256:
/// `keydata_bits` of key from the shared secret `z`.
pub fn concat_kdf(
    z: &[u8],
    algorithm_id: &str,
    apu: &[u8],
    apv: &[u8],
    keydata_bits: u32,
) -> Vec<u8> {
    let len = usize::try_from(keydata_bits / 8).unwrap_or(0);
    let mut out = Vec::with_capacity(len + 32);
    let mut counter: u32 = 1;
    while out.len() < len {
        let mut ctx = digest::Context::new(&digest::SHA256);
        ctx.update(&counter.to_be_bytes());
        ctx.update(z);
        for field in [algorithm_id.as_bytes(), apu, apv] {
            ctx.update(&u32::try_from(field.len()).unwrap_or(u32::MAX).to_be_bytes());
            ctx.update(field);
        }
        ctx.update(&keydata_bits.to_be_bytes());
        out.extend_from_slice(ctx.finish().as_ref());
        counter += 1;
    }
    out.truncate(len);
    out
}

fn random<const N: usize>() -> Result<[u8; N], JweError> {
    let mut out = [0u8; N];
    aws_lc_rs::rand::fill(&mut out).map_err(|_| JweError::Random)?;
    Ok(out)
}

fn aead(cek: &[u8]) -> Result<LessSafeKey, JweError> {
    Ok(LessSafeKey::new(
        UnboundKey::new(&AES_256_GCM, cek).map_err(|_| JweError::Crypto("AES-256-GCM key"))?,
    ))
}

/// What the header of a token we mint says besides `alg`, `enc`, `kid` (and `epk`).
#[derive(Debug, Clone, Copy, Default)]
pub struct HeaderFields<'a> {
    /// `typ`, e.g. `at+jwt`.
    pub typ: Option<&'a str>,
    /// `cty`: `JWT` for a nested (signed, then encrypted) token.
    pub cty: Option<&'a str>,
}

/// Encrypts `plaintext` to `key` as a compact JWE with `enc` A256GCM; the header is
/// `{"alg","enc","typ"?,"cty"?,"kid"}` plus `epk` for ECDH-ES.
pub fn encrypt(
    key: &JweKey,
    plaintext: &[u8],
    fields: HeaderFields<'_>,
) -> Result<String, JweError> {
    let mut header = serde_json::Map::new();
    header.insert("alg".into(), key.alg().as_str().into());
    header.insert("enc".into(), ENC_A256GCM.into());
    if let Some(typ) = fields.typ {
        header.insert("typ".into(), typ.into());
    }
    if let Some(cty) = fields.cty {
        header.insert("cty".into(), cty.into());
    }
    header.insert("kid".into(), key.kid().into());
    dangerous::encrypt_with_header(key, header, plaintext)
}

/// Encrypts with a header fixed in advance (`dir`, RSA: it does not change per token), saving
/// its serialisation on the hot path. For ECDH-ES, whose header carries a fresh `epk`, use
/// [`encrypt`].
pub(crate) fn encrypt_prepared(
    key: &JweKey,
    header_b64: &str,
    plaintext: &[u8],
) -> Result<String, JweError> {
    let (cek_aead, encrypted_key) = match &key.material {
        Material::Dir { .. } => (None, Vec::new()),
        Material::Rsa { public, .. } => {
            let cek: [u8; DIR_KEY_BYTES] = random()?;
            let mut out = vec![0u8; public.ciphertext_size()];
            let n = public
                .encrypt(&OAEP_SHA256_MGF1SHA256, &cek, &mut out, None)
                .map_err(|_| JweError::Crypto("RSA-OAEP encryption"))?
                .len();
            out.truncate(n);
            (Some(aead(&cek)?), out)
        }
        Material::Ecdh { .. } => return Err(JweError::Crypto("ECDH-ES needs a fresh header")),
    };
    seal(
        key,
        cek_aead.as_ref(),
        header_b64,
        &encrypted_key,
        plaintext,
    )
}

/// The shared tail: IV, AES-256-GCM seal, the five parts.
fn seal(
    key: &JweKey,
    cek: Option<&LessSafeKey>,
    header_b64: &str,
    encrypted_key: &[u8],
    plaintext: &[u8],
) -> Result<String, JweError> {
    let cek = match (cek, &key.material) {
        (Some(cek), _) => cek,
        (None, Material::Dir { aead, .. }) => aead,
        (None, _) => return Err(JweError::Crypto("no content-encryption key")),
    };
    let iv: [u8; IV_BYTES] = random()?;
    let mut buf = plaintext.to_vec();
    let tag = cek
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(iv),
            Aad::from(header_b64.as_bytes()),
            &mut buf,
        )
        .map_err(|_| JweError::Crypto("AES-256-GCM seal"))?;
    let mut out = String::with_capacity(
        header_b64.len()
            + encoded_len(encrypted_key.len())
            + encoded_len(buf.len())
            + encoded_len(IV_BYTES)
            + encoded_len(TAG_BYTES)
            + 4,
    );
    out.push_str(header_b64);
    out.push('.');
    URL_SAFE_NO_PAD.encode_string(encrypted_key, &mut out);
    out.push('.');
    URL_SAFE_NO_PAD.encode_string(iv, &mut out);
    out.push('.');
    URL_SAFE_NO_PAD.encode_string(&buf, &mut out);
    out.push('.');
    URL_SAFE_NO_PAD.encode_string(tag.as_ref(), &mut out);
    Ok(out)
}

/// Functions that produce tokens a decrypter must *reject*: for tests and lessons only.
pub mod dangerous {
    use super::*;

    /// Encrypts `plaintext` to `key` under exactly this protected header (any `alg`, `enc`,
    /// `zip`, `crit` …: the key's own algorithm is used whatever the header claims; for an
    /// ECDH-ES key a fresh `epk` is added). The tag is valid, so a decrypter must refuse such a
    /// token on its header alone.
    pub fn encrypt_with_header(
        key: &JweKey,
        mut header: serde_json::Map<String, serde_json::Value>,
        plaintext: &[u8],
    ) -> Result<String, JweError> {
        match &key.material {
            Material::Dir { .. } | Material::Rsa { .. } => {
                let json =
                    serde_json::to_vec(&header).map_err(|e| JweError::Json(e.to_string()))?;
                encrypt_prepared(key, &URL_SAFE_NO_PAD.encode(json), plaintext)
            }
            Material::Ecdh { public, .. } => {
                let ephemeral = agreement::PrivateKey::generate(&ECDH_P256)
                    .map_err(|_| JweError::Crypto("P-256 key generation"))?;
                let epk = ephemeral
                    .compute_public_key()
                    .map_err(|_| JweError::Crypto("P-256 public key"))?;
                let epk = epk.as_ref();
                header.insert(
                    "epk".into(),
                    serde_json::json!({
                        "kty": "EC", "crv": "P-256",
                        "x": URL_SAFE_NO_PAD.encode(&epk[1..33]),
                        "y": URL_SAFE_NO_PAD.encode(&epk[33..65]),
                    }),
                );
                let kek = agreement::agree(
                    &ephemeral,
                    UnparsedPublicKey::new(&ECDH_P256, public.as_slice()),
                    JweError::Crypto("ECDH"),
                    |z| Ok(concat_kdf(z, KeyAlg::EcdhEsA256kw.as_str(), b"", b"", 256)),
                )?;
                let cek: [u8; DIR_KEY_BYTES] = random()?;
                let mut wrapped = [0u8; WRAPPED_CEK_BYTES];
                AesKek::new(&AES_256, &kek)
                    .map_err(|_| JweError::Crypto("AES-KW key"))?
                    .wrap(&cek, &mut wrapped)
                    .map_err(|_| JweError::Crypto("AES-KW wrap"))?;
                let json =
                    serde_json::to_vec(&header).map_err(|e| JweError::Json(e.to_string()))?;
                let header_b64 = URL_SAFE_NO_PAD.encode(json);
                seal(key, Some(&aead(&cek)?), &header_b64, &wrapped, plaintext)
            }
        }
    }
}

/// How a [`Decrypter`] is configured.
#[derive(Debug, Clone)]
pub struct DecryptOptions {
    /// Tokens longer than this are refused before any decoding. Defaults to 8 KiB.
    pub max_token_bytes: usize,
    /// Required header `typ` (case-insensitive, `application/` optional); `None`: not checked.
    pub token_type: Option<String>,
    /// Required header `cty` (`JWT` for nested tokens); `None`: a `cty` is refused.
    pub content_type: Option<String>,
}

impl Default for DecryptOptions {
    fn default() -> Self {
        Self {
            max_token_bytes: authbench_jwt::DEFAULT_MAX_TOKEN_BYTES,
            token_type: None,
            content_type: None,
        }
    }
}

/// A strict JWE decrypter over one key. Cheap to share; `decrypt` takes `&self`.
pub struct Decrypter {
    key: JweKey,
    options: DecryptOptions,
}

impl std::fmt::Debug for Decrypter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decrypter")
            .field("key", &self.key)
            .field("options", &self.options)
            .finish()
    }
}

fn same_type(a: &str, b: &str) -> bool {
    fn strip(t: &str) -> &str {
        match t.get(..12) {
            Some(p) if p.eq_ignore_ascii_case("application/") => &t[12..],
            _ => t,
        }
    }
    strip(a).eq_ignore_ascii_case(strip(b))
}

impl Decrypter {
    /// A decrypter for `key`, which must hold its private half (or secret).
    pub fn new(key: JweKey, options: DecryptOptions) -> Result<Self, JweError> {
        if !key.can_decrypt() {
            return Err(JweError::InvalidKey(
                "a public key encrypts only; decrypting needs the private key".into(),
            ));
        }
        Ok(Self { key, options })
    }

    /// The key.
    pub fn key(&self) -> &JweKey {
        &self.key
    }

    /// Decrypts `token` and returns the plaintext (the claims, or a JWS when nested).
    ///
    /// Errors: `TooLarge`, `Malformed`, `AlgorithmNotAllowed` (`alg`, `enc`, `zip`),
    /// `UnsupportedCritical`, `UnknownKey`, `WrongType`, `BadSignature` (the tag, whatever part
    /// was changed). No message contains the token.
    pub fn decrypt(&self, token: &str) -> Result<Vec<u8>, Error> {
        // 1. Size.
        if token.len() > self.options.max_token_bytes {
            return Err(reject(
                ErrorKind::TooLarge,
                format!(
                    "token is {} bytes; the limit is {}",
                    token.len(),
                    self.options.max_token_bytes
                ),
            ));
        }
        // 2. Shape.
        let parts = Parts::split(token)?;
        let (_, header) = decode_header(parts.header)?;

        // 3. Header rules.
        self.check_header(&header)?;

        // 4. Fixed sizes, then 5. the CEK.
        let iv: [u8; IV_BYTES] = decode_exact(parts.iv, "IV")?;
        let tag: [u8; TAG_BYTES] = decode_exact(parts.tag, "tag")?;
        let unwrapped;
        let cek: &LessSafeKey = match &self.key.material {
            Material::Dir { aead, .. } => {
                if !parts.encrypted_key.is_empty() {
                    return Err(reject(
                        ErrorKind::Malformed,
                        "a `dir` token's encrypted key must be empty",
                    ));
                }
                aead
            }
            Material::Rsa { private, .. } => {
                let Some((private, _)) = private else {
                    return Err(reject(ErrorKind::Internal, "no private key"));
                };
                unwrapped = unwrap_rsa(private, parts.encrypted_key)?;
                &unwrapped
            }
            Material::Ecdh { private, .. } => {
                let Some(private) = private else {
                    return Err(reject(ErrorKind::Internal, "no private key"));
                };
                unwrapped = unwrap_ecdh(private, parts.encrypted_key, &header)?;
                &unwrapped
            }
        };

        // 6. Open.
        open(cek, &parts, iv, tag)
    }

    /// Step 3, the header rules, before any crypto: the key's own `alg`, `A256GCM`, no `zip`,
    /// no `crit`, no key the token brings, the expected `typ` and `cty`, a `kid` we hold.
    fn check_header(&self, header: &Header) -> Result<(), Error> {
        let Some(alg_name) = header.alg.as_deref() else {
            return Err(reject(ErrorKind::Malformed, "header has no `alg`"));
        };
        let alg = self.key.alg();
        if alg_name != alg.as_str() {
            return Err(reject(
                ErrorKind::AlgorithmNotAllowed,
                format!(
                    "alg `{}` is not allowed (this key decrypts only {alg})",
                    quotable(alg_name)
                ),
            ));
        }
        let Some(enc) = header.enc.as_deref() else {
            return Err(reject(ErrorKind::Malformed, "header has no `enc`"));
        };
        if enc != ENC_A256GCM {
            return Err(reject(
                ErrorKind::AlgorithmNotAllowed,
                format!(
                    "enc `{}` is not allowed (allowed: {ENC_A256GCM})",
                    quotable(enc)
                ),
            ));
        }
        if header.zip {
            return Err(reject(
                ErrorKind::AlgorithmNotAllowed,
                "compressed tokens (`zip`) are refused",
            ));
        }
        if header.crit {
            return Err(reject(
                ErrorKind::UnsupportedCritical,
                "header marks extensions critical (`crit`); this decrypter implements none",
            ));
        }
        if let Some(member) = header.key_reference() {
            return Err(reject(
                ErrorKind::UnknownKey,
                format!(
                    "header member `{member}` refused: keys come from our own configuration, never from the token"
                ),
            ));
        }
        self.check_types(header)?;
        if let Some(kid) = header.kid.as_deref()
            && kid != self.key.kid()
        {
            return Err(reject(
                ErrorKind::UnknownKey,
                "no key with the token's `kid`",
            ));
        }
        Ok(())
    }

    /// The expected `typ`, and a `cty` exactly when one is expected.
    fn check_types(&self, header: &Header) -> Result<(), Error> {
        if let Some(expected) = &self.options.token_type
            && !header
                .typ
                .as_deref()
                .is_some_and(|t| same_type(t, expected))
        {
            return Err(reject(
                ErrorKind::WrongType,
                format!("header `typ` must be `{expected}`"),
            ));
        }
        match (&self.options.content_type, header.cty.as_deref()) {
            (None, None) => Ok(()),
            (Some(expected), Some(cty)) if same_type(cty, expected) => Ok(()),
            (Some(expected), _) => Err(reject(
                ErrorKind::WrongType,
                format!("header `cty` must be `{expected}`"),
            )),
            (None, Some(_)) => Err(reject(
                ErrorKind::WrongType,
                "header `cty` is not expected: these tokens carry claims, not a nested token",
            )),
        }
    }
}

/// Step 5 for `RSA-OAEP-256`: the encrypted key must be the modulus size; it is decrypted with
/// OAEP, or replaced by a random CEK when that fails.
fn unwrap_rsa(
    private: &OaepPrivateDecryptingKey,
    encrypted_key: &str,
) -> Result<LessSafeKey, Error> {
    let size = private.key_size_bytes();
    if encrypted_key.len() != encoded_len(size) {
        return Err(reject(
            ErrorKind::Malformed,
            format!("encrypted key must be {size} bytes"),
        ));
    }
    let wrapped = URL_SAFE_NO_PAD.decode(encrypted_key).map_err(|_| {
        reject(
            ErrorKind::Malformed,
            "encrypted key is not canonical base64url",
        )
    })?;
    let mut out = vec![0u8; private.min_output_size()];
    let cek = private
        .decrypt(&OAEP_SHA256_MGF1SHA256, &wrapped, &mut out, None)
        .ok();
    cek_or_random(cek.as_deref())
}

/// Step 5 for `ECDH-ES+A256KW`: the header's `epk` (a P-256 point) agreed with our key, the
/// Concat KDF over `alg`, `apu` and `apv`, then AES key unwrap, or a random CEK when that
/// fails.
fn unwrap_ecdh(
    private: &agreement::PrivateKey,
    encrypted_key: &str,
    header: &Header,
) -> Result<LessSafeKey, Error> {
    let wrapped: [u8; WRAPPED_CEK_BYTES] = decode_exact(encrypted_key, "encrypted key")?;
    let Some(epk) = &header.epk else {
        return Err(reject(ErrorKind::Malformed, "ECDH-ES header has no `epk`"));
    };
    if epk.kty != "EC" || epk.crv != "P-256" {
        return Err(reject(ErrorKind::Malformed, "`epk` must be a P-256 EC key"));
    }
    let x: [u8; P256_COORD_BYTES] = decode_exact(&epk.x, "`epk` x")?;
    let y: [u8; P256_COORD_BYTES] = decode_exact(&epk.y, "`epk` y")?;
    let mut point = [0u8; 65];
    point[0] = 4;
    point[1..33].copy_from_slice(&x);
    point[33..].copy_from_slice(&y);
    let b64_field = |v: &Option<String>, what: &str| -> Result<Vec<u8>, Error> {
        v.as_deref().map_or(Ok(Vec::new()), |s| {
            URL_SAFE_NO_PAD
                .decode(s)
                .map_err(|_| reject(ErrorKind::Malformed, format!("`{what}` is not base64url")))
        })
    };
    let apu = b64_field(&header.apu, "apu")?;
    let apv = b64_field(&header.apv, "apv")?;
    // aws-lc-rs refuses a point not on the curve (the invalid-curve attack).
    let kek = agreement::agree(
        private,
        UnparsedPublicKey::new(&ECDH_P256, &point),
        reject(ErrorKind::Malformed, "`epk` is not a point on P-256"),
        |z| {
            Ok(concat_kdf(
                z,
                KeyAlg::EcdhEsA256kw.as_str(),
                &apu,
                &apv,
                256,
            ))
        },
    )?;
    let mut out = [0u8; DIR_KEY_BYTES];
    let cek = AesKek::new(&AES_256, &kek)
        .ok()
        .and_then(|k| k.unwrap(&wrapped, &mut out).ok());
    cek_or_random(cek.as_deref())
}

/// The unwrapped CEK, or, when unwrapping failed or gave a key of the wrong size, a random one
/// (RFC 7516 §11.5): no oracle; the token fails at the tag like any other forgery.
fn cek_or_random(unwrapped: Option<&[u8]>) -> Result<LessSafeKey, Error> {
    let cek = match unwrapped {
        Some(cek) if cek.len() == DIR_KEY_BYTES => cek.to_vec(),
        _ => random::<DIR_KEY_BYTES>()
            .map_err(|e| reject(ErrorKind::Internal, e.to_string()))?
            .to_vec(),
    };
    aead(&cek).map_err(|e| reject(ErrorKind::Internal, e.to_string()))
}

/// Step 6: AES-256-GCM open of the ciphertext and `tag` under `cek`, with the ASCII of the
/// encoded header as AAD.
fn open(
    cek: &LessSafeKey,
    parts: &Parts<'_>,
    iv: [u8; IV_BYTES],
    tag: [u8; TAG_BYTES],
) -> Result<Vec<u8>, Error> {
    let mut buf = URL_SAFE_NO_PAD.decode(parts.ciphertext).map_err(|_| {
        reject(
            ErrorKind::Malformed,
            "ciphertext is not canonical base64url",
        )
    })?;
    buf.extend_from_slice(&tag);
    let n = cek
        .open_in_place(
            Nonce::assume_unique_for_key(iv),
            Aad::from(parts.header.as_bytes()),
            &mut buf,
        )
        .map_err(|_| {
            reject(
                ErrorKind::BadSignature,
                "authentication tag does not verify (wrong key, or a changed byte)",
            )
        })?
        .len();
    buf.truncate(n);
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7518 Appendix C: ECDH-ES with A128GCM, apu "Alice", apv "Bob".
    #[test]
    fn concat_kdf_matches_rfc7518_appendix_c() {
        let z: [u8; 32] = [
            158, 86, 217, 29, 129, 113, 53, 211, 114, 131, 66, 131, 191, 132, 38, 156, 251, 49,
            110, 163, 218, 128, 106, 72, 246, 218, 167, 121, 140, 254, 144, 196,
        ];
        let key = concat_kdf(&z, "A128GCM", b"Alice", b"Bob", 128);
        assert_eq!(URL_SAFE_NO_PAD.encode(key), "VqqN6vgjbSBcIijNcacQGg");
    }

    #[test]
    fn every_mode_round_trips_and_has_the_fixed_part_sizes() {
        for alg in KeyAlg::ALL {
            let key = JweKey::generate(alg).expect("key");
            let token = encrypt(&key, b"{\"a\":1}", HeaderFields::default()).expect("encrypt");
            let parts = Parts::split(&token).expect("five parts");
            assert_eq!(parts.iv.len(), encoded_len(IV_BYTES));
            assert_eq!(parts.tag.len(), encoded_len(TAG_BYTES));
            let expected_key = match alg {
                KeyAlg::Dir => 0,
                KeyAlg::RsaOaep256 => encoded_len(256),
                KeyAlg::EcdhEsA256kw => encoded_len(WRAPPED_CEK_BYTES),
            };
            assert_eq!(parts.encrypted_key.len(), expected_key, "{alg}");
            let d = Decrypter::new(key, DecryptOptions::default()).expect("decrypter");
            assert_eq!(d.decrypt(&token).expect("decrypts"), b"{\"a\":1}", "{alg}");
        }
    }
}
