//! Criterion micro-benchmarks of session-vs-jwt: what one verify and one issue cost, for a
//! Redis session and for a JWT of each algorithm, each measured next to its *floor*.
//!
//! The question the workspace asks is "is a stateless JWT cheaper to check than a session
//! looked up in Redis?". A bare number ("ES256 verify: 45 µs") cannot answer it on your
//! hardware; a ratio inside one criterion group can. So every group puts the thing we ship
//! next to the cheapest thing that could possibly do the same job:
//!
//! - a JWT verify next to the bare aws-lc-rs signature (or MAC) check of the same bytes, and
//!   next to `jsonwebtoken::decode` with its default (lax) `Validation`, so the price of our
//!   strict rules is visible;
//! - a session verify next to a bare Redis `GET` on the same kind of connection, so what is
//!   left is the Lua script and the record parsing, and the rest is the loopback round trip;
//! - an issue next to the bare signing primitive (or, for a session, the ID generation alone).
//!
//! Run them with `cargo bench -p authbench-benches`; the README in this directory explains
//! every benchmark ID and how to read the ratios.
//!
//! # Layout
//!
//! - `benches/auth.rs`: the criterion groups `verify`, `issue` and `claims_size`, and the
//!   criterion configuration (with the reasons for it).
//! - this library: the fixtures those groups measure, built once, outside the timed loops:
//!   - [`JwtFixture`]: one algorithm's backend, a token it issued, the token split into signing
//!     input and signature, and the same key in the shapes the floors need ([`RawVerifier`],
//!     [`RawSigner`], jsonwebtoken's `DecodingKey` + `Validation`);
//!   - [`SessionFixture`]: a private `redis-server`, a tokio runtime, a connected
//!     [`SessionBackend`], a live session, and a plain Redis connection for the `GET` floor;
//!   - [`ClaimsFixture`]: the two claim sets of `claims_size` and a strict [`Verifier`];
//!   - [`floor_session_id`]: the primitives of a session ID, for the issue floor.
//!
//! Keeping the fixtures in a library means `cargo test` checks them: every floor must accept
//! the token it is benchmarked on and reject a tampered one, otherwise a "floor" could be
//! timing an early error return.

mod jwe;
pub use jwe::JweFixture;

use std::sync::Arc;

use authbench_core::{Authenticator, Identity, SharedClock, SystemClock};
use authbench_jwt::{
    Alg, DEFAULT_AUDIENCE, DEFAULT_ISSUER, DEFAULT_TOKEN_TYPE, DEFAULT_TTL_SECS, HMAC_SECRET_BYTES,
    JwtBackend, JwtConfig, SigningKey, Verifier, VerifierOptions,
};
use authbench_session::{SessionBackend, SessionConfig};
use authbench_testkit::RedisServer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    self, EcdsaKeyPair, Ed25519KeyPair, ParsedPublicKey, RsaKeyPair, UnparsedPublicKey,
    VerificationAlgorithm,
};
use aws_lc_rs::{digest, hmac};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde::Deserialize;

/// How many distinct users the session `issue` benchmark logs in, round robin.
///
/// Every session is also added to its user's index set (for "log out everywhere"). Logging one
/// user in a hundred thousand times would grow one set without bound, which no real workload
/// does; a thousand users keep each index at a realistic few dozen entries.
pub const ISSUE_USERS: usize = 1000;

/// Bytes of a session ID: the session crate's default (`SessionConfig::id_bytes`, 256 bits).
pub const SESSION_ID_BYTES: usize = 32;

/// The identity every benchmark logs in: a typical user with two roles.
pub fn identity(n: usize) -> Identity {
    Identity {
        subject: format!("user-{n:06}"),
        tenant: "acme".to_owned(),
        roles: vec!["user".to_owned(), "billing".to_owned()],
    }
}

/// The claims `jsonwebtoken::decode` deserialises into: the same fields our backend turns into
/// a `Principal` (`iss` and `aud` are checked by jsonwebtoken from its own second parse).
#[derive(Debug, Deserialize)]
pub struct JsonwebtokenClaims {
    /// `sub`.
    pub sub: String,
    /// Our private `tenant` claim.
    pub tenant: String,
    /// Our private `roles` claim.
    pub roles: Vec<String>,
    /// `iat`.
    pub iat: u64,
    /// `exp`.
    pub exp: u64,
    /// `jti`.
    pub jti: String,
}

/// A compact JWS split the way every verifier splits it: the signing input
/// (`base64url(header) "." base64url(payload)`, the bytes the signature covers) and the
/// signature, base64url-decoded.
///
/// # Panics
///
/// If `token` has no `.` or its last segment is not base64url: fixtures only ever split tokens
/// they just issued.
pub fn split_token(token: &str) -> (Vec<u8>, Vec<u8>) {
    let (input, signature) = token.rsplit_once('.').expect("a compact JWS has dots");
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .expect("the signature segment is base64url");
    (input.as_bytes().to_vec(), signature)
}

/// The aws-lc-rs verification algorithm matching a JWS algorithm (`None` for HS256, a MAC).
pub fn verification_algorithm(alg: Alg) -> Option<&'static dyn VerificationAlgorithm> {
    match alg {
        Alg::HS256 => None,
        Alg::RS256 => Some(&signature::RSA_PKCS1_2048_8192_SHA256),
        Alg::PS256 => Some(&signature::RSA_PSS_2048_8192_SHA256),
        Alg::ES256 => Some(&signature::ECDSA_P256_SHA256_FIXED),
        Alg::ES384 => Some(&signature::ECDSA_P384_SHA384_FIXED),
        Alg::EdDSA => Some(&signature::ED25519),
    }
}

/// The bare signature (or MAC) check: the floor under any JWT verify.
#[allow(
    clippy::large_enum_variant,
    reason = "built a dozen times per run; boxing the HMAC key would add a pointer chase inside the timed loop"
)]
pub enum RawVerifier {
    /// HS256: an HMAC-SHA256 key, its pads computed once; `hmac::verify` recomputes the tag and
    /// compares in constant time.
    Hmac(hmac::Key),
    /// Everything asymmetric, holding the public key in the two shapes aws-lc-rs offers.
    Public {
        /// `UnparsedPublicKey` (DER `SubjectPublicKeyInfo`): parses the key on *every*
        /// verify, which is exactly what jsonwebtoken 11 does internally. The `floor-raw-*` IDs.
        unparsed: UnparsedPublicKey<Vec<u8>>,
        /// `ParsedPublicKey`: parsed once, here. The `floor-parsed-*` IDs: the true minimum.
        parsed: ParsedPublicKey,
    },
}

impl RawVerifier {
    /// Builds the floor for `key`. For HS256 pass the secret; otherwise it is ignored.
    ///
    /// # Panics
    ///
    /// If the key cannot be exported or parsed (a bug in the fixture, not a measurement).
    pub fn new(key: &SigningKey, secret: Option<&[u8]>) -> Self {
        match verification_algorithm(key.alg()) {
            None => Self::Hmac(hmac::Key::new(
                hmac::HMAC_SHA256,
                secret.expect("HS256 needs its secret"),
            )),
            Some(alg) => {
                let der = key.public_key_der().expect("asymmetric keys export DER");
                let parsed = ParsedPublicKey::new(alg, &der).expect("aws-lc-rs parses its own DER");
                Self::Public {
                    unparsed: UnparsedPublicKey::new(alg, der),
                    parsed,
                }
            }
        }
    }

    /// `UnparsedPublicKey::verify` (or `hmac::verify`): the `floor-raw-*` benchmark.
    ///
    /// # Errors
    ///
    /// `Unspecified` when the signature does not verify.
    #[inline]
    pub fn verify_raw(
        &self,
        input: &[u8],
        sig: &[u8],
    ) -> Result<(), aws_lc_rs::error::Unspecified> {
        match self {
            Self::Hmac(key) => hmac::verify(key, input, sig),
            Self::Public { unparsed, .. } => unparsed.verify(input, sig),
        }
    }

    /// `ParsedPublicKey::verify_sig`: the `floor-parsed-*` benchmark. `None` for HMAC, whose
    /// raw floor already holds a prepared key.
    #[inline]
    pub fn verify_parsed(
        &self,
        input: &[u8],
        sig: &[u8],
    ) -> Option<Result<(), aws_lc_rs::error::Unspecified>> {
        match self {
            Self::Hmac(_) => None,
            Self::Public { parsed, .. } => Some(parsed.verify_sig(input, sig)),
        }
    }
}

/// The bare signing primitive with the key parsed once: the floor under any JWT issue.
///
/// jsonwebtoken 11 re-parses (and, for RSA and ECDSA, re-validates) the private key on every
/// signature; comparing `issue/jwt-*` with `issue/floor-raw-*` shows what that costs.
#[allow(
    clippy::large_enum_variant,
    reason = "built a dozen times per run; boxing the HMAC key would add a pointer chase inside the timed loop"
)]
pub enum RawSigner {
    /// HS256.
    Hmac(hmac::Key),
    /// RS256 (PKCS#1 v1.5) or PS256 (PSS), by `padding`.
    Rsa {
        /// The key pair, parsed once.
        pair: RsaKeyPair,
        /// `RSA_PKCS1_SHA256` or `RSA_PSS_SHA256`.
        padding: &'static dyn signature::RsaEncoding,
    },
    /// ES256 / ES384 (fixed-width `R‖S` output, as JWS wants).
    Ecdsa(EcdsaKeyPair),
    /// EdDSA (Ed25519).
    Ed(Ed25519KeyPair),
}

/// The DER inside a PEM document (our own keys: one block, no headers).
fn pem_to_der(pem: &str) -> Vec<u8> {
    let body: String = pem
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    STANDARD.decode(body).expect("our own PEM is base64")
}

impl RawSigner {
    /// The same private key as `key`, in aws-lc-rs form. For HS256 pass the secret.
    ///
    /// # Panics
    ///
    /// If the key cannot be exported or re-imported (a bug in the fixture).
    pub fn new(key: &SigningKey, secret: Option<&[u8]>) -> Self {
        let alg = key.alg();
        if alg == Alg::HS256 {
            return Self::Hmac(hmac::Key::new(
                hmac::HMAC_SHA256,
                secret.expect("HS256 needs its secret"),
            ));
        }
        let pkcs8 = pem_to_der(
            &key.private_key_pem()
                .expect("asymmetric keys export PKCS#8"),
        );
        match alg {
            Alg::RS256 | Alg::PS256 => Self::Rsa {
                pair: RsaKeyPair::from_pkcs8(&pkcs8).expect("RSA PKCS#8"),
                padding: if alg == Alg::RS256 {
                    &signature::RSA_PKCS1_SHA256
                } else {
                    &signature::RSA_PSS_SHA256
                },
            },
            Alg::ES256 => Self::Ecdsa(
                EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &pkcs8)
                    .expect("P-256 PKCS#8"),
            ),
            Alg::ES384 => Self::Ecdsa(
                EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P384_SHA384_FIXED_SIGNING, &pkcs8)
                    .expect("P-384 PKCS#8"),
            ),
            Alg::EdDSA => Self::Ed(Ed25519KeyPair::from_pkcs8(&pkcs8).expect("Ed25519 PKCS#8")),
            Alg::HS256 => unreachable!("handled above"),
        }
    }

    /// Longest signature any of our algorithms makes (RSA-2048: 256 bytes), with room to spare.
    pub const MAX_SIGNATURE_BYTES: usize = 512;

    /// Signs `input` into `out` and returns the signature's length.
    ///
    /// # Panics
    ///
    /// If signing fails (it does not, for keys that signed once already).
    #[inline]
    pub fn sign_into(
        &self,
        rng: &SystemRandom,
        input: &[u8],
        out: &mut [u8; Self::MAX_SIGNATURE_BYTES],
    ) -> usize {
        let mut copy = |bytes: &[u8]| {
            out[..bytes.len()].copy_from_slice(bytes);
            bytes.len()
        };
        match self {
            Self::Hmac(key) => copy(hmac::sign(key, input).as_ref()),
            Self::Rsa { pair, padding } => {
                let len = pair.public_modulus_len();
                pair.sign(*padding, rng, input, &mut out[..len])
                    .expect("RSA signs");
                len
            }
            Self::Ecdsa(pair) => copy(pair.sign(rng, input).expect("ECDSA signs").as_ref()),
            Self::Ed(pair) => copy(pair.sign(input).as_ref()),
        }
    }
}

/// One JWT algorithm, ready to be measured: built once per group, outside every timed loop.
pub struct JwtFixture {
    /// The algorithm.
    pub alg: Alg,
    /// Our strict backend, with the workspace defaults (`JwtConfig::new`), system clock.
    pub backend: JwtBackend,
    /// A token the backend issued for [`identity`]`(0)`, valid for [`DEFAULT_TTL_SECS`].
    pub token: String,
    /// The token's signing input (`header.payload`, as bytes).
    pub signing_input: Vec<u8>,
    /// The token's signature, base64url-decoded.
    pub signature: Vec<u8>,
    /// The same public key (or secret) for the verify floors.
    pub raw_verifier: RawVerifier,
    /// The same private key (or secret) for the issue floor.
    pub raw_signer: RawSigner,
    /// The exact `DecodingKey` our verifier holds, for `jsonwebtoken::decode`.
    pub decoding_key: jsonwebtoken::DecodingKey,
    /// jsonwebtoken's *default* validation for this algorithm (leeway 60 s, `exp` required,
    /// `nbf`/`iat`/`typ`/`crit` unchecked), plus our `iss` and `aud` so our tokens pass.
    pub validation: jsonwebtoken::Validation,
}

impl JwtFixture {
    /// Generates a key for `alg` (RSA-2048, P-256, P-384, Ed25519, or a 32-byte secret),
    /// builds the backend around it, issues one token, and checks that every path accepts it.
    ///
    /// # Panics
    ///
    /// If anything fails: a fixture that does not work must not be measured.
    pub fn new(alg: Alg) -> Self {
        let secret = (alg == Alg::HS256).then(|| {
            let mut secret = vec![0u8; HMAC_SECRET_BYTES];
            getrandom::fill(&mut secret).expect("OS random generator");
            secret
        });
        let key = match &secret {
            Some(secret) => SigningKey::hmac(secret).expect("32-byte secret"),
            None => SigningKey::generate(alg).expect("key generation"),
        };
        let raw_verifier = RawVerifier::new(&key, secret.as_deref());
        let raw_signer = RawSigner::new(&key, secret.as_deref());
        let clock: SharedClock = Arc::new(SystemClock);
        let backend = JwtBackend::with_key(JwtConfig::new(alg), key, clock).expect("backend");
        let token = backend
            .issue_now(&identity(0))
            .expect("backend issues")
            .token;
        let (signing_input, signature) = split_token(&token);
        let decoding_key = backend.verifier().keys()[0].decoding_key().clone();
        let mut validation = jsonwebtoken::Validation::new(alg.to_jsonwebtoken());
        validation.set_issuer(&[DEFAULT_ISSUER]);
        validation.set_audience(&[DEFAULT_AUDIENCE]);
        let fixture = Self {
            alg,
            backend,
            token,
            signing_input,
            signature,
            raw_verifier,
            raw_signer,
            decoding_key,
            validation,
        };
        fixture.check();
        fixture
    }

    /// Asserts that every benchmarked path succeeds on the fixture's token, so no benchmark
    /// times an error return.
    ///
    /// # Panics
    ///
    /// When one does not.
    pub fn check(&self) {
        let alg = self.alg;
        let principal = self
            .backend
            .verify_now(&self.token)
            .unwrap_or_else(|e| panic!("{alg}: our verifier rejects its own token: {e}"));
        assert_eq!(principal.subject, identity(0).subject);
        self.raw_verifier
            .verify_raw(&self.signing_input, &self.signature)
            .unwrap_or_else(|_| panic!("{alg}: raw floor rejects the token"));
        if let Some(parsed) = self
            .raw_verifier
            .verify_parsed(&self.signing_input, &self.signature)
        {
            parsed.unwrap_or_else(|_| panic!("{alg}: parsed floor rejects the token"));
        }
        let decoded = jsonwebtoken::decode::<JsonwebtokenClaims>(
            &self.token,
            &self.decoding_key,
            &self.validation,
        )
        .unwrap_or_else(|e| panic!("{alg}: jsonwebtoken rejects the token: {e}"));
        assert_eq!(decoded.claims.sub, principal.subject);
        assert_eq!(decoded.claims.jti, principal.credential_id);
        // The issue floor must make signatures the verify floor accepts.
        let rng = SystemRandom::new();
        let mut out = [0u8; RawSigner::MAX_SIGNATURE_BYTES];
        let len = self
            .raw_signer
            .sign_into(&rng, &self.signing_input, &mut out);
        self.raw_verifier
            .verify_raw(&self.signing_input, &out[..len])
            .unwrap_or_else(|_| panic!("{alg}: raw signer and raw verifier disagree"));
    }
}

/// The primitives of a new session ID, as the session crate uses them: 32 bytes from the OS
/// CSPRNG (`getrandom`), their base64url form (the cookie value), and the base64url SHA-256
/// of the bytes (the Redis key name). Returns the ID and the key hash.
///
/// This *re-creates* the session crate's private `id::IdFormat::generate` (the crate does not
/// export it, and the benchmarks do not change it): it is a floor under `issue/session`, not a
/// measurement of the crate's own function.
///
/// # Panics
///
/// If the OS random generator fails.
#[inline]
pub fn floor_session_id() -> (String, String) {
    let mut raw = [0u8; SESSION_ID_BYTES];
    getrandom::fill(&mut raw).expect("OS random generator");
    let hash = digest::digest(&digest::SHA256, &raw);
    (URL_SAFE_NO_PAD.encode(raw), URL_SAFE_NO_PAD.encode(hash))
}

/// Value size of the key read by the `floor-redis-GET` benchmark: about the size of the
/// fields the session verify script returns (subject, tenant, roles, three timestamps).
pub const FLOOR_VALUE_BYTES: usize = 96;

/// Key of the `floor-redis-GET` benchmark (outside the session backend's `authbench:` prefix).
pub const FLOOR_KEY: &str = "bench:floor";

/// A private Redis, a runtime and a session backend, ready for `verify` and `issue`.
///
/// Fields drop in declaration order: the connections first, then the runtime they were
/// created on, then the `redis-server` process (killed by [`RedisServer`]'s `Drop`).
pub struct SessionFixture {
    /// The backend under test, with the workspace defaults (`SessionConfig::new`).
    pub backend: SessionBackend,
    /// A live session's ID, issued in setup.
    pub token: String,
    /// A plain connection for the `GET` floor, configured like the backend's (multiplexed,
    /// `ConnectionManager`, `TCP_NODELAY`), so the only difference is the work per request.
    pub floor_conn: redis::aio::ConnectionManager,
    /// Users the issue benchmark logs in, round robin ([`ISSUE_USERS`]).
    pub users: Vec<Identity>,
    /// Single-threaded: the benchmark thread drives the I/O itself, with no hand-off to a
    /// worker thread, and `redis-server` keeps the other core of a 2-core box to itself.
    pub rt: tokio::runtime::Runtime,
    /// The private `redis-server` (no persistence; see the testkit).
    pub redis: RedisServer,
}

impl SessionFixture {
    /// Starts `redis-server`, connects, issues and verifies one session, and writes the
    /// floor's key.
    ///
    /// # Panics
    ///
    /// If `redis-server` is not installed or anything else fails, with the testkit's message
    /// (which says how to install Redis).
    pub fn start() -> Self {
        let redis = RedisServer::start().unwrap_or_else(|e| panic!("starting redis-server: {e}"));
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        let url = redis.url();
        let (backend, token, floor_conn) = rt.block_on(async {
            let clock: SharedClock = Arc::new(SystemClock);
            let backend = SessionBackend::connect(SessionConfig::new(url.as_str()), clock)
                .await
                .unwrap_or_else(|e| panic!("session backend: {e}"));
            let token = backend
                .issue(&identity(0))
                .await
                .unwrap_or_else(|e| panic!("session issue: {e}"))
                .token;
            let principal = backend
                .verify(&token)
                .await
                .unwrap_or_else(|e| panic!("session verify: {e}"));
            assert_eq!(principal.subject, identity(0).subject);

            let info = redis::IntoConnectionInfo::into_connection_info(url.as_str())
                .expect("Redis URL")
                .set_tcp_settings(redis::io::tcp::TcpSettings::default().set_nodelay(true));
            let client = redis::Client::open(info).expect("Redis client");
            let mut floor_conn = redis::aio::ConnectionManager::new(client)
                .await
                .expect("floor connection");
            let value = "x".repeat(FLOOR_VALUE_BYTES);
            redis::cmd("SET")
                .arg(FLOOR_KEY)
                .arg(&value)
                .query_async::<()>(&mut floor_conn)
                .await
                .expect("SET floor key");
            (backend, token, floor_conn)
        });
        Self {
            backend,
            token,
            floor_conn,
            users: (0..ISSUE_USERS).map(identity).collect(),
            rt,
            redis,
        }
    }

    /// One `GET` of [`FLOOR_KEY`]: the `floor-redis-GET` benchmark.
    ///
    /// # Errors
    ///
    /// Whatever Redis answers.
    pub async fn floor_get(&self) -> redis::RedisResult<Vec<u8>> {
        let mut conn = self.floor_conn.clone();
        redis::cmd("GET")
            .arg(FLOOR_KEY)
            .query_async(&mut conn)
            .await
    }
}

/// Which claim set a `claims_size` benchmark signs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimSet {
    /// What our backend signs and requires: `iss sub aud exp nbf iat jti tenant roles`, 186
    /// bytes of JSON.
    Minimal,
    /// The same plus what applications tend to add: `email`, `email_verified`, `name`, `scope`
    /// and two more roles: 370 bytes of JSON (a realistic claims set of about 360 bytes).
    Realistic,
}

impl ClaimSet {
    /// Both sets, smallest first.
    pub const ALL: [ClaimSet; 2] = [ClaimSet::Minimal, ClaimSet::Realistic];

    /// The name used in benchmark IDs.
    pub fn as_str(self) -> &'static str {
        match self {
            ClaimSet::Minimal => "minimal",
            ClaimSet::Realistic => "realistic",
        }
    }

    /// The claims, with `exp = now + DEFAULT_TTL_SECS` and the backend's `iss`/`aud`.
    pub fn claims(self, now: u64) -> serde_json::Value {
        let mut claims = serde_json::json!({
            "iss": DEFAULT_ISSUER,
            "sub": "user-000000",
            "aud": DEFAULT_AUDIENCE,
            "exp": now + DEFAULT_TTL_SECS,
            "nbf": now,
            "iat": now,
            "jti": "Jx1c0Zb3T5m9Qv2kYp8WfA",
            "tenant": "acme",
            "roles": ["user", "billing"],
        });
        if self == ClaimSet::Realistic {
            let extra = serde_json::json!({
                "roles": ["user", "billing", "reports:viewer", "support-agent"],
                "scope": "openid profile email orders:read orders:write",
                "email": "alexandra.montgomery@example.com",
                "email_verified": true,
                "name": "Alexandra Montgomery",
            });
            let (map, extra) = (claims.as_object_mut(), extra.as_object());
            if let (Some(map), Some(extra)) = (map, extra) {
                map.extend(extra.clone());
            }
        }
        claims
    }
}

/// One algorithm's key and strict verifier for the `claims_size` group.
///
/// Our backend only signs `Identity` (subject, tenant, roles), so it cannot carry the
/// realistic set. Both sets therefore go through the *same* generic path:
/// [`authbench_jwt::sign`] (serialise the JSON claims, base64url, sign) and the same strict
/// [`Verifier`] the backend uses (issuer, audience, `typ`, leeway, size cap), returning the
/// claims as a JSON map. That path is a little slower than the backend's typed one, so compare
/// the two sizes with each other, not with `verify/jwt-*`.
pub struct ClaimsFixture {
    /// The signing key (fresh, like the backend's).
    pub key: SigningKey,
    /// A strict verifier for that key, with the backend's rules.
    pub verifier: Verifier,
    /// `at+jwt`, the header `typ` we write and require.
    pub typ: &'static str,
}

impl ClaimsFixture {
    /// A fresh key for `alg` and its verifier.
    ///
    /// # Panics
    ///
    /// If key generation or the verifier fails.
    pub fn new(alg: Alg) -> Self {
        let key = SigningKey::generate(alg).expect("key generation");
        let mut options = VerifierOptions::new([alg]);
        options.issuer = Some(DEFAULT_ISSUER.to_owned());
        options.audience = Some(DEFAULT_AUDIENCE.to_owned());
        options.token_type = Some(DEFAULT_TOKEN_TYPE.to_owned());
        let verifier = Verifier::from_keys(vec![key.verifying_key()], options).expect("verifier");
        Self {
            key,
            verifier,
            typ: DEFAULT_TOKEN_TYPE,
        }
    }

    /// Sign then verify `claims`: one `claims_size` iteration. Returns the token's length.
    ///
    /// # Panics
    ///
    /// If signing or verifying fails.
    #[inline]
    pub fn round_trip(&self, claims: &serde_json::Value) -> usize {
        let token = authbench_jwt::sign(claims, &self.key, Some(self.typ)).expect("sign");
        let verified = self.verifier.verify(&token).expect("verify");
        std::hint::black_box(verified);
        token.len()
    }
}

/// Seconds since the Unix epoch, for claim sets built outside a backend.
pub fn unix_now() -> u64 {
    authbench_core::Clock::now(&SystemClock)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_jwt_fixture_verifies_on_every_path() {
        for alg in Alg::ALL {
            let f = JwtFixture::new(alg);
            // `new` already ran `check`; a tampered signature must fail every floor.
            let mut bad = f.signature.clone();
            bad[0] ^= 1;
            assert!(f.raw_verifier.verify_raw(&f.signing_input, &bad).is_err());
            if let Some(r) = f.raw_verifier.verify_parsed(&f.signing_input, &bad) {
                assert!(r.is_err(), "{alg}");
            }
        }
    }

    #[test]
    fn claim_sets_have_the_documented_sizes() {
        let now = unix_now();
        let minimal = serde_json::to_vec(&ClaimSet::Minimal.claims(now)).unwrap();
        let realistic = serde_json::to_vec(&ClaimSet::Realistic.claims(now)).unwrap();
        assert_eq!(minimal.len(), 186);
        assert_eq!(realistic.len(), 370);
        let f = ClaimsFixture::new(Alg::ES256);
        assert!(
            f.round_trip(&ClaimSet::Realistic.claims(now))
                > f.round_trip(&ClaimSet::Minimal.claims(now))
        );
    }

    #[test]
    fn session_id_floor_has_the_session_crate_shape() {
        let (id, hash) = floor_session_id();
        assert_eq!(id.len(), 43);
        assert_eq!(hash.len(), 43);
    }
}
