//! The strict rules, in one place: [`Verifier`].
//!
//! The backend and the `authbench token verify` command both verify through this code, so the
//! lesson "what a careful verifier checks" is written exactly once. The order of the checks is
//! part of the lesson:
//!
//! 1. **Size** before anything else: an 8 KiB cap costs one comparison and bounds all later work.
//! 2. **Shape**: three base64url segments, a header that is a JSON object with unique members.
//! 3. **Header rules**, before any crypto: `alg` on the allow-list, no `crit`, no key the token
//!    brings (`jwk`, `jku`, `x5u`, `x5c`), the expected `typ`, a `kid` we hold whose key is
//!    bound to that very `alg`.
//! 4. **Signature**, by jsonwebtoken's crypto layer over aws-lc-rs.
//! 5. **Claims**, only now parsed: unique names, typed registered claims, then presence, time
//!    (against the injected clock, with a small explicit leeway), issuer, audience.

use std::sync::Arc;

use authbench_core::{Error, ErrorKind, SharedClock, SystemClock};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::alg::{Alg, AlgExt};
use crate::error::JwtError;
use crate::keys::{self, VerifyingKey};
use crate::parse::{self, AccessClaims, Claims, Header, PrivateClaims};
use crate::{DEFAULT_LEEWAY_SECS, DEFAULT_MAX_TOKEN_BYTES};

/// Largest decoded protected header we parse, in bytes. Ours are about 70 bytes; 1 KiB leaves
/// room for other issuers' `kid`s while letting the header be decoded into a stack buffer
/// (no allocation on the hot path).
pub const MAX_HEADER_BYTES: usize = 1024;

/// How a [`Verifier`] is configured. Build with [`VerifierOptions::new`], then set fields.
#[derive(Debug, Clone)]
pub struct VerifierOptions {
    /// Algorithms accepted in a token's `alg` (each key still verifies only its own).
    /// No default: the caller must choose (RFC 8725 §3.1).
    pub algorithms: Vec<Alg>,
    /// Required value of `iss`; when set, `iss` must be present and equal. Defaults to `None`
    /// (not checked).
    pub issuer: Option<String>,
    /// Our audience; when set, `aud` must be present and be it or an array containing it.
    /// Defaults to `None` (not checked; note RFC 7519 §4.1.3 expects a recipient to reject a
    /// token whose `aud` does not name it, so set this whenever you know who you are).
    pub audience: Option<String>,
    /// Required header `typ` (compared case-insensitively, `application/` prefix optional,
    /// RFC 7515 §4.1.9); when set, a token without `typ` is rejected too. Defaults to `None`.
    pub token_type: Option<String>,
    /// Clock-skew tolerance for `exp`, `nbf` and `iat`, in seconds. Defaults to
    /// [`DEFAULT_LEEWAY_SECS`] (5).
    pub leeway_secs: u64,
    /// Tokens longer than this many bytes are refused before any decoding. Defaults to
    /// [`DEFAULT_MAX_TOKEN_BYTES`] (8 KiB).
    pub max_token_bytes: usize,
    /// A fixed "now" (seconds since the Unix epoch), e.g. to check a test vector from 2011.
    /// Defaults to `None` (the system clock).
    pub now: Option<u64>,
}

impl VerifierOptions {
    /// Options allowing `algorithms`, with every other field at its default.
    pub fn new(algorithms: impl Into<Vec<Alg>>) -> Self {
        Self {
            algorithms: algorithms.into(),
            issuer: None,
            audience: None,
            token_type: None,
            leeway_secs: DEFAULT_LEEWAY_SECS,
            max_token_bytes: DEFAULT_MAX_TOKEN_BYTES,
            now: None,
        }
    }
}

/// Which claims must be present beyond `exp` (always required) and `iss`/`aud` (required when
/// configured).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Required {
    pub(crate) sub: bool,
    pub(crate) iat: bool,
    pub(crate) jti: bool,
}

/// Longest signature any accepted key makes: RSA with the largest modulus aws-lc-rs verifies
/// (8192 bits). Anything longer cannot verify, and is refused before any crypto.
const MAX_SIGNATURE_BYTES: usize = 1024;

/// Checks the signature of `signing_input`: with the key aws-lc-rs parsed once where there is
/// one (every asymmetric key), with jsonwebtoken's `crypto::verify` for HS256.
///
/// The signature must be canonical base64url (`Malformed` otherwise, as for the other two
/// segments); one that does not verify, or is longer than any key's, is `BadSignature`.
fn verify_signature(
    key: &VerifyingKey,
    signing_input: &[u8],
    signature_b64: &str,
) -> Result<(), Error> {
    let not_canonical = || reject(ErrorKind::Malformed, "signature is not canonical base64url");
    let bad = || reject(ErrorKind::BadSignature, "signature does not verify");
    let Some(parsed) = &key.parsed else {
        return match jsonwebtoken::crypto::verify(
            signature_b64,
            signing_input,
            &key.decoding,
            key.alg.to_jsonwebtoken(),
        ) {
            Ok(true) => Ok(()),
            Ok(false) => Err(bad()),
            Err(e) => Err(match e.kind() {
                jsonwebtoken::errors::ErrorKind::Base64(_) => not_canonical(),
                _ => reject(ErrorKind::Internal, "verification key unusable").with_source(e),
            }),
        };
    };
    // base64 checks the output size against its estimate (up to 2 bytes over), hence the 3.
    let mut signature = [0u8; MAX_SIGNATURE_BYTES + 3];
    let len = match URL_SAFE_NO_PAD.decode_slice(signature_b64, &mut signature) {
        Ok(len) => len,
        Err(base64::DecodeSliceError::OutputSliceTooSmall) => return Err(bad()),
        Err(base64::DecodeSliceError::DecodeError(_)) => return Err(not_canonical()),
    };
    parsed
        .verify_sig(signing_input, &signature[..len])
        .map_err(|_| bad())
}

/// A strict JWS/JWT verifier over a fixed key set. Cheap to share; `verify` takes `&self`.
pub struct Verifier {
    /// The keys, each bound to one algorithm. Usually one; looked up by `kid`.
    keys: Vec<VerifyingKey>,
    /// The `alg` allow-list.
    algorithms: Vec<Alg>,
    /// Expected `typ`, normalised (lower case, no `application/`).
    token_type: Option<String>,
    max_token_bytes: usize,
    /// Step 5: presence, time, issuer, audience.
    claims: ClaimsValidator,
}

/// Step 5 of a [`Verifier`] on its own: the claim rules (presence, `exp`/`nbf`/`iat` against
/// the injected clock with the leeway, `iss`, `aud`), for a payload whose integrity another
/// layer has established: a JWE's authenticated decryption (`authbench-jwe`). Built from the
/// same [`VerifierOptions`], so a JWS and a JWE verifier judge claims identically.
#[derive(Clone)]
pub struct ClaimsValidator {
    issuer: Option<String>,
    audience: Option<String>,
    leeway_secs: u64,
    /// Where "now" comes from: injected, so tests move time instead of sleeping.
    clock: SharedClock,
    required: Required,
}

impl std::fmt::Debug for ClaimsValidator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClaimsValidator")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("leeway_secs", &self.leeway_secs)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("keys", &self.keys)
            .field("algorithms", &self.algorithms)
            .field("token_type", &self.token_type)
            .field("max_token_bytes", &self.max_token_bytes)
            .field("claims", &self.claims)
            .finish_non_exhaustive()
    }
}

/// `at+jwt`, `AT+JWT` and `application/at+jwt` are the same type (RFC 7515 §4.1.9).
fn normalise_typ(typ: &str) -> &str {
    const PREFIX: &str = "application/";
    match typ.get(..PREFIX.len()) {
        Some(p) if p.eq_ignore_ascii_case(PREFIX) => &typ[PREFIX.len()..],
        _ => typ,
    }
}

fn reject(kind: ErrorKind, detail: impl Into<String>) -> Error {
    Error::new(kind, detail)
}

/// The principal of one of our access tokens, from its registered claims `r` and its `tenant`
/// and `roles`: every one of them required (`sub`, `iat`, `jti` as the backend's claim rules
/// already demand, `tenant` and `roles` here), `MissingClaim` naming the first one absent. The
/// backend's verify and [`Verifier::access_principal`] both build it here.
pub(crate) fn principal_of(
    r: parse::Registered<'_>,
    tenant: Option<String>,
    roles: Option<Vec<String>>,
) -> Result<authbench_core::Principal, Error> {
    let missing = |name: &str| {
        reject(
            ErrorKind::MissingClaim,
            format!("claim `{name}` is required"),
        )
    };
    Ok(authbench_core::Principal {
        subject: r.sub.ok_or_else(|| missing("sub"))?.into_owned(),
        tenant: tenant.ok_or_else(|| missing("tenant"))?,
        roles: roles.ok_or_else(|| missing("roles"))?,
        issued_at: r.iat.ok_or_else(|| missing("iat"))?,
        expires_at: r.exp,
        credential_id: r.jti.ok_or_else(|| missing("jti"))?.into_owned(),
    })
}

/// A header value fit to quote in an error (short, printable ASCII), or a placeholder.
fn quotable(s: &str) -> &str {
    /// Longest header value we echo back.
    const MAX_QUOTED: usize = 24;
    if s.len() <= MAX_QUOTED && s.bytes().all(|b| b.is_ascii_graphic()) {
        s
    } else {
        "<unprintable>"
    }
}

impl Verifier {
    /// A verifier for the keys in a JWK or JWK Set (JSON text), allowing `options.algorithms`.
    ///
    /// Keys are imported under the JWK rules (see [`SigningKey::from_jwk_json`] and the crate
    /// README): `use`/`key_ops` must allow verifying, `alg` must be allowed, a key without
    /// `alg` must fit exactly one allowed algorithm.
    ///
    /// [`SigningKey::from_jwk_json`]: crate::SigningKey::from_jwk_json
    pub fn from_jwk_json(json: &str, options: VerifierOptions) -> Result<Self, JwtError> {
        if options.algorithms.is_empty() {
            return Err(JwtError::NoAlgorithms);
        }
        let keys = keys::import_verifying_keys(json, &options.algorithms)?;
        Self::from_keys(keys, options)
    }

    /// A verifier for `keys`; each key's algorithm must be in `options.algorithms`.
    pub fn from_keys(keys: Vec<VerifyingKey>, options: VerifierOptions) -> Result<Self, JwtError> {
        if options.algorithms.is_empty() {
            return Err(JwtError::NoAlgorithms);
        }
        if keys.is_empty() {
            return Err(JwtError::NoUsableKey("no keys given".into()));
        }
        if let Some(key) = keys.iter().find(|k| !options.algorithms.contains(&k.alg)) {
            return Err(JwtError::KeyAlgMismatch {
                kid: key.kid.clone(),
                jwk_alg: key.alg.to_string(),
                requested: keys::alg_list(&options.algorithms),
            });
        }
        let claims = ClaimsValidator::new(&options);
        Ok(Self {
            keys,
            algorithms: options.algorithms,
            token_type: options
                .token_type
                .map(|t| normalise_typ(&t).to_ascii_lowercase()),
            max_token_bytes: options.max_token_bytes,
            claims,
        })
    }

    /// Replaces the clock (the backend injects its own).
    #[must_use]
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.claims.clock = clock;
        self
    }

    /// Makes more claims mandatory (the backend needs `sub`, `iat`, `jti`).
    #[must_use]
    pub(crate) fn with_required(mut self, required: Required) -> Self {
        self.claims.required = required;
        self
    }

    /// The keys this verifier holds.
    pub fn keys(&self) -> &[VerifyingKey] {
        &self.keys
    }

    /// This verifier without the keys whose `kid` is `kid` (a revoked key); it may end up
    /// holding no key at all, and then answers `UnknownKey` to every token.
    pub(crate) fn without_kid(&self, kid: &str) -> Self {
        Self {
            keys: self
                .keys
                .iter()
                .filter(|k| k.kid.as_deref() != Some(kid))
                .cloned()
                .collect(),
            algorithms: self.algorithms.clone(),
            token_type: self.token_type.clone(),
            max_token_bytes: self.max_token_bytes,
            claims: self.claims.clone(),
        }
    }

    /// Verifies `token` and returns all its claims as a JSON object.
    ///
    /// Errors carry the most specific [`ErrorKind`]: `TooLarge`, `Malformed`,
    /// `AlgorithmNotAllowed`, `UnsupportedCritical`, `UnknownKey`, `WrongType`, `BadSignature`,
    /// `MissingClaim`, `Expired`, `NotYetValid`, `IssuedInFuture`, `WrongIssuer`,
    /// `WrongAudience`. No error message contains the token.
    pub fn verify(&self, token: &str) -> Result<serde_json::Value, Error> {
        let mut buf = Vec::new();
        let claims = self.check::<serde_json::Map<String, serde_json::Value>>(token, &mut buf)?;
        let mut map = claims.private;
        claims.registered.insert_into(&mut map);
        Ok(serde_json::Value::Object(map))
    }

    /// The whole check. `payload` receives the decoded claims bytes, which the returned
    /// [`Claims`] borrow from (one allocation per token, reused by the caller if it likes).
    pub(crate) fn check<'b, P: PrivateClaims<'b>>(
        &self,
        token: &str,
        payload: &'b mut Vec<u8>,
    ) -> Result<Claims<'b, P>, Error> {
        // 1. Size, before reading a single byte of content.
        if token.len() > self.max_token_bytes {
            return Err(reject(
                ErrorKind::TooLarge,
                format!(
                    "token is {} bytes; the limit is {}",
                    token.len(),
                    self.max_token_bytes
                ),
            ));
        }

        // 2. Shape: header.payload.signature, exactly.
        let bytes = token.as_bytes();
        let (Some(dot1), Some(dot2)) = (
            bytes.iter().position(|&b| b == b'.'),
            bytes.iter().rposition(|&b| b == b'.'),
        ) else {
            return Err(reject(ErrorKind::Malformed, "not a compact JWS (no '.')"));
        };
        if dot1 == dot2 || bytes[dot1 + 1..dot2].contains(&b'.') {
            return Err(reject(
                ErrorKind::Malformed,
                "a compact JWS has exactly three segments",
            ));
        }
        let header_b64 = &token[..dot1];
        let payload_b64 = &token[dot1 + 1..dot2];
        let signature_b64 = &token[dot2 + 1..];
        let signing_input = &bytes[..dot2];

        let mut header_buf = [0u8; MAX_HEADER_BYTES];
        if base64::decoded_len_estimate(header_b64.len()) > MAX_HEADER_BYTES {
            return Err(reject(ErrorKind::Malformed, "header is too large"));
        }
        let header_len = URL_SAFE_NO_PAD
            .decode_slice(header_b64, &mut header_buf)
            .map_err(|_| reject(ErrorKind::Malformed, "header is not canonical base64url"))?;
        let header_json = &header_buf[..header_len];
        if !parse::starts_object(header_json) {
            return Err(reject(ErrorKind::Malformed, "header is not a JSON object"));
        }
        let header: Header<'_> = parse::from_json(header_json)
            .map_err(|e| reject(ErrorKind::Malformed, format!("header: {e}")))?;

        // 3. Header rules, before any crypto.
        let Some(alg_name) = header.alg.as_deref() else {
            return Err(reject(ErrorKind::Malformed, "header has no `alg`"));
        };
        let Some(alg) = Alg::from_jose(alg_name).filter(|a| self.algorithms.contains(a)) else {
            return Err(reject(
                ErrorKind::AlgorithmNotAllowed,
                format!(
                    "alg `{}` is not allowed (allowed: {})",
                    quotable(alg_name),
                    keys::alg_list(&self.algorithms)
                ),
            ));
        };
        if header.crit {
            return Err(reject(
                ErrorKind::UnsupportedCritical,
                "header marks extensions critical (`crit`); this verifier implements none",
            ));
        }
        if let Some(member) = header.key_reference {
            return Err(reject(
                ErrorKind::UnknownKey,
                format!(
                    "header member `{member}` refused: keys come from the verifier's own set, never from the token"
                ),
            ));
        }
        if let Some(expected) = &self.token_type {
            let ok = header
                .typ
                .as_deref()
                .is_some_and(|t| normalise_typ(t).eq_ignore_ascii_case(expected));
            if !ok {
                return Err(reject(
                    ErrorKind::WrongType,
                    format!("header `typ` must be `{expected}`"),
                ));
            }
        }
        let key = self.key_for(header.kid.as_deref())?;
        if key.alg != alg {
            return Err(reject(
                ErrorKind::AlgorithmNotAllowed,
                format!(
                    "alg `{alg}` named, but the selected key verifies only {}",
                    key.alg
                ),
            ));
        }

        // 4. Signature. The payload is decoded first so a non-base64 payload is `Malformed`
        //    whatever the signature says.
        payload.clear();
        URL_SAFE_NO_PAD
            .decode_vec(payload_b64, payload)
            .map_err(|_| reject(ErrorKind::Malformed, "payload is not canonical base64url"))?;
        verify_signature(key, signing_input, signature_b64)?;

        // 5. Claims.
        let payload: &'b Vec<u8> = payload;
        if !parse::starts_object(payload) {
            return Err(reject(ErrorKind::Malformed, "payload is not a JSON object"));
        }
        let claims: Claims<'b, P> = parse::from_json(payload)
            .map_err(|e| reject(ErrorKind::Malformed, format!("claims: {e}")))?;
        self.claims.check_registered(&claims.registered)?;
        Ok(claims)
    }

    /// Finds the key a token names. With a `kid`, only an exact match will do (so a `kid` of
    /// `../../dev/null` or `' OR 1=1 --` is simply unknown: it is compared, never interpreted).
    /// Without one, the key is unambiguous only if we hold exactly one.
    fn key_for(&self, kid: Option<&str>) -> Result<&VerifyingKey, Error> {
        match kid {
            Some(kid) => self
                .keys
                .iter()
                .find(|k| k.kid.as_deref() == Some(kid))
                .ok_or_else(|| reject(ErrorKind::UnknownKey, "no key with the token's `kid`")),
            None => match self.keys.as_slice() {
                [only] => Ok(only),
                _ => Err(reject(
                    ErrorKind::UnknownKey,
                    "token has no `kid` and the verifier holds several keys",
                )),
            },
        }
    }
}

impl ClaimsValidator {
    /// The claim rules of `options` (`issuer`, `audience`, `leeway_secs`, `now`; the other
    /// fields are about the JWS layer). Only `exp` is required beyond what they configure.
    pub fn new(options: &VerifierOptions) -> Self {
        let clock: SharedClock = match options.now {
            Some(now) => Arc::new(authbench_core::ManualClock::new(now)),
            None => Arc::new(SystemClock),
        };
        Self {
            issuer: options.issuer.clone(),
            audience: options.audience.clone(),
            leeway_secs: options.leeway_secs,
            clock,
            required: Required::default(),
        }
    }

    /// Replaces the clock (a backend injects its own).
    #[must_use]
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// Checks a claims set (JSON bytes) and returns every claim as a JSON object, as
    /// [`Verifier::verify`] does after the signature.
    pub fn validate(&self, payload: &[u8]) -> Result<serde_json::Value, Error> {
        let claims = self.parse::<serde_json::Map<String, serde_json::Value>>(payload)?;
        self.check_registered(&claims.registered)?;
        let mut map = claims.private;
        claims.registered.insert_into(&mut map);
        Ok(serde_json::Value::Object(map))
    }

    /// Checks the claims set of one of our access tokens (as the JWT backend does: `sub`,
    /// `iat`, `jti`, `tenant` and `roles` required besides `exp`, `iss`, `aud`) and returns
    /// its principal.
    pub fn access_principal(&self, payload: &[u8]) -> Result<authbench_core::Principal, Error> {
        let claims = self.parse::<AccessClaims>(payload)?;
        let r = claims.registered;
        // Exactly the backend's rules: `sub`, `iat` and `jti` are required like `exp`.
        let access = Required {
            sub: true,
            iat: true,
            jti: true,
        };
        self.check_registered_as(&r, access)?;
        principal_of(r, claims.private.tenant, claims.private.roles)
    }

    /// Parses a claims set under the same rules as step 5 of [`Verifier::check`].
    fn parse<'b, P: PrivateClaims<'b>>(&self, payload: &'b [u8]) -> Result<Claims<'b, P>, Error> {
        if !parse::starts_object(payload) {
            return Err(reject(ErrorKind::Malformed, "payload is not a JSON object"));
        }
        parse::from_json(payload).map_err(|e| reject(ErrorKind::Malformed, format!("claims: {e}")))
    }

    /// Presence, time, issuer, audience.
    fn check_registered(&self, r: &parse::Registered<'_>) -> Result<(), Error> {
        self.check_registered_as(r, self.required)
    }

    /// [`check_registered`](Self::check_registered) with `required` instead of the configured
    /// set.
    fn check_registered_as(
        &self,
        r: &parse::Registered<'_>,
        required: Required,
    ) -> Result<(), Error> {
        let missing = |name: &str| {
            reject(
                ErrorKind::MissingClaim,
                format!("claim `{name}` is required"),
            )
        };
        let Some(exp) = r.exp else {
            return Err(missing("exp"));
        };
        if required.sub && r.sub.is_none() {
            return Err(missing("sub"));
        }
        if required.iat && r.iat.is_none() {
            return Err(missing("iat"));
        }
        if required.jti && r.jti.is_none() {
            return Err(missing("jti"));
        }
        if self.issuer.is_some() && r.iss.is_none() {
            return Err(missing("iss"));
        }
        if self.audience.is_some() && r.aud.is_none() {
            return Err(missing("aud"));
        }

        // Time: accepted while now < exp + leeway (the core contract, widened by the skew
        // allowance); nbf and iat may be at most `leeway` in the future.
        let now = self.clock.now();
        let leeway = self.leeway_secs;
        if now >= exp.saturating_add(leeway) {
            return Err(reject(
                ErrorKind::Expired,
                format!("expired at {exp}; now is {now} (leeway {leeway} s)"),
            ));
        }
        if let Some(nbf) = r.nbf
            && nbf > now.saturating_add(leeway)
        {
            return Err(reject(
                ErrorKind::NotYetValid,
                format!("not valid before {nbf}; now is {now} (leeway {leeway} s)"),
            ));
        }
        if let Some(iat) = r.iat
            && iat > now.saturating_add(leeway)
        {
            return Err(reject(
                ErrorKind::IssuedInFuture,
                format!("issued at {iat}, in the future; now is {now} (leeway {leeway} s)"),
            ));
        }

        if let Some(issuer) = &self.issuer
            && r.iss.as_deref() != Some(issuer.as_str())
        {
            return Err(reject(
                ErrorKind::WrongIssuer,
                format!("issuer must be `{issuer}`"),
            ));
        }
        if let Some(audience) = &self.audience
            && !r.aud.as_ref().is_some_and(|a| a.contains(audience))
        {
            return Err(reject(
                ErrorKind::WrongAudience,
                format!("audience must include `{audience}`"),
            ));
        }
        Ok(())
    }
}
