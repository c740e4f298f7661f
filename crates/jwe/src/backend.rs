//! [`JweBackend`]: encrypted access tokens behind the [`Authenticator`] trait.

use std::sync::Arc;

use authbench_core::{
    Authenticator, Credential, Description, Error, ErrorKind, Identity, Principal, RevocationModel,
    SharedClock,
};
use authbench_jwt::{Alg, ClaimsValidator, JwtBackend, JwtConfig, TokenPolicy};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::alg::{ENC_A256GCM, KeyAlg};
use crate::error::JweError;
use crate::jwe::{self, DecryptOptions, Decrypter, HeaderFields};
use crate::key::JweKey;

/// Random bytes in a token's `jti` (as for the JWT backend).
pub const JTI_BYTES: usize = authbench_jwt::JTI_BYTES;

/// `cty` of a nested token: the plaintext is itself a JWT (RFC 7519 §5.2).
pub const NESTED_CONTENT_TYPE: &str = "JWT";

/// How a [`JweBackend`] is set up. [`JweConfig::new`] gives the JWT backend's defaults; the
/// claim settings it shares with [`JwtConfig`] are its [`policy`](Self::policy).
#[derive(Debug, Clone)]
pub struct JweConfig {
    /// Key management: `dir`, `RSA-OAEP-256` or `ECDH-ES+A256KW` (content: always A256GCM).
    pub alg: KeyAlg,
    /// `Some(alg)`: nested tokens: the claims are signed as a JWS with `alg` (by an inner
    /// [`JwtBackend`]) and that JWS is encrypted (`cty: JWT`). `None`: the claims are encrypted
    /// directly.
    pub nested: Option<Alg>,
    /// `iss`, `aud`, `typ` (of the JWE for plain tokens, of the inner JWS for nested ones),
    /// lifetime, leeway, and the size cap of the whole token. Defaults to
    /// [`TokenPolicy::default`], the JWT backend's.
    pub policy: TokenPolicy,
    /// INSECURE: allow a public-key mode (`RSA-OAEP-256`, `ECDH-ES+A256KW`) without
    /// [`nested`](Self::nested). Such a token authenticates nothing: whoever holds the
    /// encryption key, which is a *public* key, can encrypt `{"sub":"admin","roles":["admin"]}`
    /// and it decrypts fine. So [`JweBackend`] refuses that configuration unless this is set,
    /// and then says so in its name (`…+INSECURE-unauthenticated`) and in a warning. For
    /// measuring the bare mode's cost only, never for credentials anyone relies on. `dir`
    /// needs no such flag: its key is secret, and AES-GCM's tag authenticates the token.
    pub insecure_unauthenticated: bool,
}

/// What [`JweBackend`]'s name ends with when [`JweConfig::insecure_unauthenticated`] let a
/// public-key mode through without a signature.
pub const INSECURE_NAME_SUFFIX: &str = "+INSECURE-unauthenticated";

impl JweConfig {
    /// `alg`, not nested, and the JWT backend's defaults (`iss` `authbench`, `aud`
    /// `authbench-api`, `typ` `at+jwt`, 15 minutes, 5 s leeway, 8 KiB cap).
    pub fn new(alg: KeyAlg) -> Self {
        Self {
            alg,
            nested: None,
            policy: TokenPolicy::default(),
            insecure_unauthenticated: false,
        }
    }

    /// The same, with [`insecure_unauthenticated`](Self::insecure_unauthenticated) set: a
    /// public-key mode without a signature is accepted (and named as insecure).
    #[must_use]
    pub fn insecure_unauthenticated(mut self) -> Self {
        self.insecure_unauthenticated = true;
        self
    }

    /// Whether tokens of this configuration authenticate nothing: a public-key mode, not
    /// nested. Only allowed with [`insecure_unauthenticated`](Self::insecure_unauthenticated).
    pub fn is_unauthenticated(&self) -> bool {
        self.alg.is_public_key() && self.nested.is_none()
    }

    /// The same, nested: signed with `inner` first, then encrypted.
    #[must_use]
    pub fn nested(mut self, inner: Alg) -> Self {
        self.nested = Some(inner);
        self
    }

    /// The mode's name, e.g. `jwe-dir-A256GCM` or `jwe-ECDH-ES+A256KW-A256GCM-ES256` (benchmark
    /// IDs and `compare` rows). The backend's own name ([`Authenticator::describe`]) adds
    /// [`INSECURE_NAME_SUFFIX`] to it for an unauthenticated configuration.
    pub fn name(&self) -> String {
        match self.nested {
            None => format!("jwe-{}-{ENC_A256GCM}", self.alg),
            Some(inner) => format!("jwe-{}-{ENC_A256GCM}-{inner}", self.alg),
        }
    }
}

/// A JWE backend: issues encrypted access tokens and decrypts and checks them locally, with no
/// store. Revocation: none (`revoke` and `revoke_all` are `Unsupported`), exactly as for a
/// plain JWT: encryption hides the claims, it does not make the token revocable.
pub struct JweBackend {
    config: JweConfig,
    decrypter: Decrypter,
    /// The encoded header, fixed for `dir` and RSA (ECDH-ES has a fresh `epk` per token).
    header_b64: Option<String>,
    claims: ClaimsValidator,
    inner: Option<JwtBackend>,
    clock: SharedClock,
    name: String,
}

impl std::fmt::Debug for JweBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JweBackend")
            .field("name", &self.name)
            .field("decrypter", &self.decrypter)
            .finish_non_exhaustive()
    }
}

impl JweBackend {
    /// A backend with a fresh key for `config.alg` (and a fresh signing key when nested).
    pub fn new(config: JweConfig, clock: SharedClock) -> Result<Self, JweError> {
        let key = JweKey::generate(config.alg)?;
        Self::with_key(config, key, clock)
    }

    /// A backend over `key`, which must be for `config.alg` and able to decrypt (every
    /// instance sharing the key accepts the others' tokens).
    ///
    /// A public-key mode without [`JweConfig::nested`] is refused
    /// ([`JweError::Unauthenticated`]) unless [`JweConfig::insecure_unauthenticated`] is set.
    pub fn with_key(config: JweConfig, key: JweKey, clock: SharedClock) -> Result<Self, JweError> {
        if config.is_unauthenticated() && !config.insecure_unauthenticated {
            return Err(JweError::Unauthenticated(config.alg));
        }
        if key.alg() != config.alg {
            return Err(JweError::InvalidKey(format!(
                "the key is for {}, the configuration asks for {}",
                key.alg(),
                config.alg
            )));
        }
        let fields = match config.nested {
            None => HeaderFields {
                typ: Some(&config.policy.token_type),
                cty: None,
            },
            Some(_) => HeaderFields {
                typ: None,
                cty: Some(NESTED_CONTENT_TYPE),
            },
        };
        let header_b64 = match config.alg {
            KeyAlg::EcdhEsA256kw => None,
            _ => {
                let mut h = serde_json::Map::new();
                h.insert("alg".into(), config.alg.as_str().into());
                h.insert("enc".into(), ENC_A256GCM.into());
                if let Some(typ) = fields.typ {
                    h.insert("typ".into(), typ.into());
                }
                if let Some(cty) = fields.cty {
                    h.insert("cty".into(), cty.into());
                }
                h.insert("kid".into(), key.kid().into());
                let json = serde_json::to_vec(&h).map_err(|e| JweError::Json(e.to_string()))?;
                Some(URL_SAFE_NO_PAD.encode(json))
            }
        };
        let decrypter = Decrypter::new(
            key,
            DecryptOptions {
                max_token_bytes: config.policy.max_token_bytes,
                token_type: fields.typ.map(str::to_owned),
                content_type: fields.cty.map(str::to_owned),
            },
        )?;
        // The claim rules only (`iss`, `aud`, leeway): `typ` and the cap were the decrypter's.
        let options = config.policy.verifier_options(Vec::<Alg>::new());
        let claims = ClaimsValidator::new(&options).with_clock(Arc::clone(&clock));
        let inner = match config.nested {
            None => None,
            Some(alg) => {
                let mut jwt = JwtConfig::new(alg);
                // The whole policy but the cap: the JWE's bounds the token before decryption,
                // and the inner JWS keeps the JWT backend's default.
                jwt.policy = TokenPolicy {
                    max_token_bytes: jwt.policy.max_token_bytes,
                    ..config.policy.clone()
                };
                Some(JwtBackend::new(jwt, Arc::clone(&clock))?)
            }
        };
        let name = if config.is_unauthenticated() {
            tracing::warn!(
                alg = %config.alg,
                "INSECURE: non-nested {} JWE authenticates nothing: anyone with the public key \
                 can mint any token, admin included",
                config.alg
            );
            format!("{}{INSECURE_NAME_SUFFIX}", config.name())
        } else {
            config.name()
        };
        Ok(Self {
            name,
            config,
            decrypter,
            header_b64,
            claims,
            inner,
            clock,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &JweConfig {
        &self.config
    }

    /// The encryption key (write it out with [`JweKey::to_text`] to share it).
    pub fn key(&self) -> &JweKey {
        self.decrypter.key()
    }

    /// The inner signing backend of nested tokens.
    pub fn inner(&self) -> Option<&JwtBackend> {
        self.inner.as_ref()
    }

    /// [`Authenticator::issue`] without the `async` wrapper (benchmarks call this).
    pub fn issue_now(&self, who: &Identity) -> Result<Credential, Error> {
        let plaintext = match &self.inner {
            Some(inner) => inner.issue_now(who)?.token.into_bytes(),
            None => {
                let now = self.clock.now();
                let mut jti = [0u8; JTI_BYTES];
                aws_lc_rs::rand::fill(&mut jti).map_err(|_| JweError::Random)?;
                let jti = URL_SAFE_NO_PAD.encode(jti);
                serde_json::to_vec(&self.config.policy.claims(who, &jti, now))
                    .map_err(|e| JweError::Json(e.to_string()))?
            }
        };
        let key = self.decrypter.key();
        let token = match &self.header_b64 {
            Some(header_b64) => jwe::encrypt_prepared(key, header_b64, &plaintext)?,
            None => jwe::encrypt(
                key,
                &plaintext,
                HeaderFields {
                    typ: self.decrypter_typ(),
                    cty: self.inner.as_ref().map(|_| NESTED_CONTENT_TYPE),
                },
            )?,
        };
        Ok(Credential {
            token,
            expires_in: self.config.policy.ttl_secs,
            refresh_token: None,
        })
    }

    fn decrypter_typ(&self) -> Option<&str> {
        match self.inner {
            None => Some(&self.config.policy.token_type),
            Some(_) => None,
        }
    }

    /// [`Authenticator::verify`] without the `async` wrapper: decrypt, then the claims (or the
    /// inner JWS) exactly as the JWT backend checks them.
    pub fn verify_now(&self, token: &str) -> Result<Principal, Error> {
        let result = self
            .decrypter
            .decrypt(token)
            .and_then(|plaintext| match &self.inner {
                None => self.claims.access_principal(&plaintext),
                Some(inner) => {
                    let jws = std::str::from_utf8(&plaintext).map_err(|_| {
                        Error::new(ErrorKind::Malformed, "nested token is not text")
                    })?;
                    inner.verify_now(jws)
                }
            });
        result.inspect_err(|e| tracing::debug!(reason = %e, "JWE rejected"))
    }
}

impl Authenticator for JweBackend {
    fn describe(&self) -> Description {
        Description {
            name: self.name.clone(),
            stateful: false,
            revocation: RevocationModel::None,
            store_round_trips_per_verify: 0,
        }
    }

    async fn issue(&self, who: &Identity) -> Result<Credential, Error> {
        self.issue_now(who)
    }

    async fn verify(&self, token: &str) -> Result<Principal, Error> {
        self.verify_now(token)
    }

    /// `Unsupported`: an encrypted token is as self-contained as a signed one.
    async fn revoke(&self, _token: &str) -> Result<(), Error> {
        Err(Error::unsupported(&self.name, "revoke a token"))
    }

    /// `Unsupported`, as [`revoke`](Self::revoke).
    async fn revoke_all(&self, _subject: &str) -> Result<(), Error> {
        Err(Error::unsupported(&self.name, "revoke a user's tokens"))
    }

    async fn refresh(&self, _refresh_token: &str) -> Result<Credential, Error> {
        Err(Error::unsupported(&self.name, "refresh tokens"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_claim_settings_and_their_defaults_are_the_jwt_backends() {
        let jwe = JweConfig::new(KeyAlg::Dir);
        assert_eq!(jwe.policy, JwtConfig::new(Alg::ES256).policy);
        assert_eq!(jwe.policy.ttl_secs, authbench_jwt::DEFAULT_TTL_SECS);
        assert_eq!(
            jwe.policy.max_token_bytes,
            authbench_jwt::DEFAULT_MAX_TOKEN_BYTES
        );
    }

    #[test]
    fn a_nested_tokens_inner_jws_takes_the_policy_but_keeps_the_default_cap() {
        let mut config = JweConfig::new(KeyAlg::Dir).nested(Alg::ES256);
        config.policy.issuer = "elsewhere".into();
        config.policy.ttl_secs = 60;
        config.policy.max_token_bytes = 16 * 1024;
        let clock: SharedClock = Arc::new(authbench_core::ManualClock::new(1_700_000_000));
        let backend = JweBackend::new(config, clock).expect("backend");
        let inner = backend.inner().expect("nested").config();
        assert_eq!(inner.policy.issuer, "elsewhere");
        assert_eq!(inner.policy.ttl_secs, 60);
        assert_eq!(
            inner.policy.max_token_bytes,
            authbench_jwt::DEFAULT_MAX_TOKEN_BYTES
        );
    }
}
