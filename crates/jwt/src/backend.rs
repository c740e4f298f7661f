//! [`JwtBackend`]: the [`Authenticator`] that issues and verifies signed access tokens.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use authbench_core::{
    Authenticator, Credential, Description, Error, Identity, Principal, RevocationModel,
    SharedClock,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;

use crate::alg::Alg;
use crate::error::JwtError;
use crate::keys::{self, SigningKey};
use crate::parse::AccessClaims;
use crate::sign::{self, HeaderOut};
use crate::verify::{Required, Verifier, VerifierOptions};
use crate::{
    DEFAULT_AUDIENCE, DEFAULT_ISSUER, DEFAULT_LEEWAY_SECS, DEFAULT_MAX_TOKEN_BYTES,
    DEFAULT_TOKEN_TYPE, DEFAULT_TTL_SECS,
};

/// Random bytes in a `jti`: 128 bits, the OWASP floor for an unguessable identifier, 22
/// base64url characters.
pub const JTI_BYTES: usize = 16;

/// Where the backend's signing key comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// A fresh key at start-up (tokens do not survive a restart).
    Generate,
    /// A PEM file: a PKCS#8 (or, for RSA, PKCS#1) private key; for HS256, the raw secret
    /// (at least 32 bytes; trailing whitespace ignored).
    PemFile(PathBuf),
    /// A JWK file holding the private key (`d`, or `k` for HS256).
    JwkFile(PathBuf),
}

/// How tokens are revoked before they expire: each strategy is a configuration of this same
/// backend. Only `None` exists so far; `denylist`, `epoch` and `refresh` will join it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Revocation {
    /// No revocation: a token works until it expires. `revoke`, `revoke_all` and `refresh`
    /// return `Unsupported`. The lesson: logout cannot take a stateless token back.
    #[default]
    None,
}

impl Revocation {
    /// The name used on the command line and in backend names.
    pub fn as_str(self) -> &'static str {
        match self {
            Revocation::None => "none",
        }
    }
}

impl fmt::Display for Revocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Revocation {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "none" => Ok(Revocation::None),
            other => Err(format!(
                "unknown or not yet implemented revocation strategy `{other}` (available: none)"
            )),
        }
    }
}

/// Everything a [`JwtBackend`] is built from. [`JwtConfig::new`] gives the defaults.
#[derive(Debug, Clone)]
pub struct JwtConfig {
    /// The signing algorithm (the only one the backend accepts). No default.
    pub alg: Alg,
    /// `iss` written and required. Defaults to `"authbench"`.
    pub issuer: String,
    /// `aud` written and required. Defaults to `"authbench-api"`.
    pub audience: String,
    /// Header `typ` written and required. Defaults to `"at+jwt"` (RFC 9068), so an ID token
    /// or any other JWT signed by the same key cannot pass as an access token.
    pub token_type: String,
    /// Lifetime of an access token in seconds (`exp - iat`). Defaults to 900 (15 minutes):
    /// with revocation `none` this is also how long a stolen token stays useful.
    pub ttl_secs: u64,
    /// Clock-skew tolerance for `exp`, `nbf`, `iat`. Defaults to
    /// [`DEFAULT_LEEWAY_SECS`] (5 s).
    pub leeway_secs: u64,
    /// Tokens longer than this are refused before decoding. Defaults to 8192 (8 KiB, the
    /// common HTTP header-line limit).
    pub max_token_bytes: usize,
    /// Where the key comes from. Defaults to [`KeySource::Generate`].
    pub keys: KeySource,
    /// Revocation strategy. Defaults to [`Revocation::None`].
    pub revocation: Revocation,
}

impl JwtConfig {
    /// The defaults, for `alg`.
    pub fn new(alg: Alg) -> Self {
        Self {
            alg,
            issuer: DEFAULT_ISSUER.to_owned(),
            audience: DEFAULT_AUDIENCE.to_owned(),
            token_type: DEFAULT_TOKEN_TYPE.to_owned(),
            ttl_secs: DEFAULT_TTL_SECS,
            leeway_secs: DEFAULT_LEEWAY_SECS,
            max_token_bytes: DEFAULT_MAX_TOKEN_BYTES,
            keys: KeySource::Generate,
            revocation: Revocation::None,
        }
    }
}

/// The claims we sign, in the order they appear in the token.
#[derive(Serialize)]
struct IssuedClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    exp: u64,
    nbf: u64,
    iat: u64,
    jti: &'a str,
    tenant: &'a str,
    roles: &'a [String],
}

/// A stateless JWT backend: issues signed access tokens and verifies them locally, with no
/// store round trip. Build once with [`JwtBackend::new`]; share by reference or `Arc`.
pub struct JwtBackend {
    config: JwtConfig,
    /// `jwt-<ALG>-<revocation>`, computed once.
    name: String,
    signing: SigningKey,
    /// base64url of our constant header, computed once: every token starts with it.
    header_b64: String,
    /// The strict verifier, bound to our one key, our issuer, audience and `typ`.
    verifier: Verifier,
    /// The JWKS document, rendered once (`None` for HS256: a secret is never published).
    jwks: Option<String>,
    clock: SharedClock,
}

impl fmt::Debug for JwtBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtBackend")
            .field("name", &self.name)
            .field("kid", &self.signing.kid())
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

fn read(path: &PathBuf) -> Result<Vec<u8>, JwtError> {
    std::fs::read(path).map_err(|source| JwtError::Io {
        path: path.clone(),
        source,
    })
}

impl JwtBackend {
    /// Builds the backend: loads or generates the key, renders the header and the JWKS, and
    /// builds the verifier, all once.
    pub fn new(config: JwtConfig, clock: SharedClock) -> Result<Self, JwtError> {
        let signing = match &config.keys {
            KeySource::Generate => SigningKey::generate(config.alg)?,
            KeySource::PemFile(path) => SigningKey::from_pem(config.alg, &read(path)?)?,
            KeySource::JwkFile(path) => {
                let text = String::from_utf8(read(path)?)
                    .map_err(|_| JwtError::InvalidJwk("file is not UTF-8".into()))?;
                SigningKey::from_jwk_json(config.alg, &text)?
            }
        };
        Self::with_key(config, signing, clock)
    }

    /// Builds the backend around an existing key (its algorithm wins over `config.alg`;
    /// `config.keys` is ignored).
    pub fn with_key(
        mut config: JwtConfig,
        signing: SigningKey,
        clock: SharedClock,
    ) -> Result<Self, JwtError> {
        config.alg = signing.alg();
        let header = serde_json::to_vec(&HeaderOut {
            alg: signing.alg().as_str(),
            typ: Some(&config.token_type),
            kid: signing.kid(),
        })
        .map_err(|e| JwtError::Signing(e.to_string()))?;
        let header_b64 = URL_SAFE_NO_PAD.encode(header);
        let mut options = VerifierOptions::new([signing.alg()]);
        options.issuer = Some(config.issuer.clone());
        options.audience = Some(config.audience.clone());
        options.token_type = Some(config.token_type.clone());
        options.leeway_secs = config.leeway_secs;
        options.max_token_bytes = config.max_token_bytes;
        let verifier = Verifier::from_keys(vec![signing.verifying_key()], options)?
            .with_clock(clock.clone())
            .with_required(Required {
                sub: true,
                iat: true,
                jti: true,
            });
        let jwks = signing
            .public_jwk_struct()
            .map(|public| keys::jwks_json(&[public]));
        let name = format!("jwt-{}-{}", signing.alg(), config.revocation);
        Ok(Self {
            config,
            name,
            signing,
            header_b64,
            verifier,
            jwks,
            clock,
        })
    }

    /// The signing algorithm.
    pub fn alg(&self) -> Alg {
        self.signing.alg()
    }

    /// The `kid` every token carries.
    pub fn kid(&self) -> &str {
        self.signing.kid()
    }

    /// The configuration the backend was built from.
    pub fn config(&self) -> &JwtConfig {
        &self.config
    }

    /// The verifier the backend uses (same rules as `authbench token verify`).
    pub fn verifier(&self) -> &Verifier {
        &self.verifier
    }

    /// [`Authenticator::issue`] without the `async` wrapper (benchmarks call this).
    pub fn issue_now(&self, who: &Identity) -> Result<Credential, Error> {
        let now = self.clock.now();
        let mut jti_bytes = [0u8; JTI_BYTES];
        getrandom::fill(&mut jti_bytes).map_err(|_| JwtError::Random)?;
        let jti = URL_SAFE_NO_PAD.encode(jti_bytes);
        let claims = IssuedClaims {
            iss: &self.config.issuer,
            sub: &who.subject,
            aud: &self.config.audience,
            exp: now.saturating_add(self.config.ttl_secs),
            nbf: now,
            iat: now,
            jti: &jti,
            tenant: &who.tenant,
            roles: &who.roles,
        };
        let payload = serde_json::to_vec(&claims).map_err(|e| JwtError::Signing(e.to_string()))?;
        let mut input = String::with_capacity(self.header_b64.len() + payload.len() * 4 / 3 + 400);
        input.push_str(&self.header_b64);
        input.push('.');
        URL_SAFE_NO_PAD.encode_string(&payload, &mut input);
        let token = sign::finish(input, &self.signing)?;
        Ok(Credential {
            token,
            expires_in: self.config.ttl_secs,
            refresh_token: None,
        })
    }

    /// [`Authenticator::verify`] without the `async` wrapper (benchmarks call this).
    pub fn verify_now(&self, token: &str) -> Result<Principal, Error> {
        let mut buf = Vec::new();
        let claims = self
            .verifier
            .check::<AccessClaims>(token, &mut buf)
            .inspect_err(|e| tracing::debug!(reason = %e, "JWT rejected"))?;
        let r = claims.registered;
        let missing = |name: &str| {
            Error::new(
                authbench_core::ErrorKind::MissingClaim,
                format!("claim `{name}` is required"),
            )
        };
        // `check` has already required sub, iat, jti and exp.
        Ok(Principal {
            subject: r.sub.ok_or_else(|| missing("sub"))?.into_owned(),
            tenant: claims.private.tenant.ok_or_else(|| missing("tenant"))?,
            roles: claims.private.roles.ok_or_else(|| missing("roles"))?,
            issued_at: r.iat.ok_or_else(|| missing("iat"))?,
            expires_at: r.exp,
            credential_id: r.jti.ok_or_else(|| missing("jti"))?.into_owned(),
        })
    }
}

impl Authenticator for JwtBackend {
    fn describe(&self) -> Description {
        Description {
            name: self.name.clone(),
            stateful: false,
            revocation: match self.config.revocation {
                Revocation::None => RevocationModel::None,
            },
            store_round_trips_per_verify: 0,
        }
    }

    async fn issue(&self, who: &Identity) -> Result<Credential, Error> {
        self.issue_now(who)
    }

    async fn verify(&self, token: &str) -> Result<Principal, Error> {
        self.verify_now(token)
    }

    /// With revocation `none` a token cannot be taken back: `Unsupported`, by design.
    async fn revoke(&self, _token: &str) -> Result<(), Error> {
        Err(Error::unsupported(&self.name, "revoke a token"))
    }

    /// With revocation `none` there is no per-user state to bump: `Unsupported`.
    async fn revoke_all(&self, _subject: &str) -> Result<(), Error> {
        Err(Error::unsupported(
            &self.name,
            "revoke all tokens of a user",
        ))
    }

    /// No refresh tokens without server-side state: `Unsupported`.
    async fn refresh(&self, _refresh_token: &str) -> Result<Credential, Error> {
        Err(Error::unsupported(&self.name, "refresh"))
    }

    fn published_keys(&self) -> Option<&str> {
        self.jwks.as_deref()
    }
}
