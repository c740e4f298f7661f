//! [`TokenPolicy`]: what an access token says about where it comes from and whom it is for, how
//! long it lives, and the limits it is judged by; with the defaults, in one place.
//!
//! The JWT backend ([`JwtConfig`](crate::JwtConfig)) and the JWE backend (`JweConfig` in
//! `authbench-jwe`, whose tokens carry the same claims) both embed it, so a signed and an
//! encrypted token of the same deployment follow the same rules unless told otherwise.

use crate::alg::Alg;
use crate::verify::VerifierOptions;
use authbench_core::{DEFAULT_LEEWAY_SECS, Identity};
use serde::Serialize;

/// Default cap on a token's length, in bytes, checked before any decoding: 8 KiB is what
/// nginx and Apache allow for a whole header line, and ten times our largest token (RS256,
/// about 900 bytes), so anything longer is garbage or an attack.
pub const DEFAULT_MAX_TOKEN_BYTES: usize = 8 * 1024;

/// Default header `typ` of our access tokens: RFC 9068's `at+jwt`, so that a different JWT
/// signed by the same key (an ID token, a refresh token) cannot be replayed as an access token.
pub const DEFAULT_TOKEN_TYPE: &str = "at+jwt";

/// Default access-token lifetime, 15 minutes (defined in `authbench_spec`, where the book's
/// calculator reads it too).
pub use authbench_spec::DEFAULT_TTL_SECS;

/// Default `iss` we write and require.
pub const DEFAULT_ISSUER: &str = "authbench";

/// Default `aud` we write and require.
pub const DEFAULT_AUDIENCE: &str = "authbench-api";

/// The claims an access token is issued with and checked against, and the limits it is judged
/// by. [`TokenPolicy::default`] gives the workspace's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenPolicy {
    /// `iss` written and required. Defaults to `"authbench"`.
    pub issuer: String,
    /// `aud` written and required. Defaults to `"authbench-api"`.
    pub audience: String,
    /// Header `typ` written and required. Defaults to `"at+jwt"` (RFC 9068), so an ID token
    /// or any other JWT signed by the same key cannot pass as an access token.
    pub token_type: String,
    /// Lifetime of an access token in seconds (`exp - iat`). Defaults to 900 (15 minutes):
    /// with revocation `none` this is also how long a stolen token stays useful.
    /// [`JwtConfig::with_revocation`](crate::JwtConfig::with_revocation) makes it 300 for
    /// [`Revocation::Refresh`](crate::Revocation::Refresh).
    pub ttl_secs: u64,
    /// Clock-skew tolerance for `exp`, `nbf`, `iat`. Defaults to
    /// [`DEFAULT_LEEWAY_SECS`] (5 s).
    pub leeway_secs: u64,
    /// Tokens longer than this are refused before decoding. Defaults to 8192 (8 KiB, the
    /// common HTTP header-line limit).
    pub max_token_bytes: usize,
}

impl Default for TokenPolicy {
    fn default() -> Self {
        Self {
            issuer: DEFAULT_ISSUER.to_owned(),
            audience: DEFAULT_AUDIENCE.to_owned(),
            token_type: DEFAULT_TOKEN_TYPE.to_owned(),
            ttl_secs: DEFAULT_TTL_SECS,
            leeway_secs: DEFAULT_LEEWAY_SECS,
            max_token_bytes: DEFAULT_MAX_TOKEN_BYTES,
        }
    }
}

impl TokenPolicy {
    /// The claims of an access token for `who`, issued `now` with ID `jti`, as this policy
    /// writes them (without the strategy's `sid` and `epoch`, which the JWT backend adds).
    pub fn claims<'a>(&'a self, who: &'a Identity, jti: &'a str, now: u64) -> IssuedClaims<'a> {
        IssuedClaims {
            iss: &self.issuer,
            sub: &who.subject,
            aud: &self.audience,
            exp: now.saturating_add(self.ttl_secs),
            nbf: now,
            iat: now,
            jti,
            tenant: &who.tenant,
            roles: &who.roles,
            sid: None,
            epoch: None,
        }
    }

    /// The strict verifier rules of this policy (`iss`, `aud`, `typ`, leeway, size cap),
    /// accepting `algorithms`.
    pub fn verifier_options(&self, algorithms: impl Into<Vec<Alg>>) -> VerifierOptions {
        let mut options = VerifierOptions::new(algorithms);
        options.issuer = Some(self.issuer.clone());
        options.audience = Some(self.audience.clone());
        options.token_type = Some(self.token_type.clone());
        options.leeway_secs = self.leeway_secs;
        options.max_token_bytes = self.max_token_bytes;
        options
    }
}

/// The claims of our access tokens, in the order they appear in the token: the JWT backend
/// signs them, the JWE backend encrypts them (or signs them first, nested).
#[derive(Debug, Serialize)]
pub struct IssuedClaims<'a> {
    /// Issuer.
    pub iss: &'a str,
    /// The user.
    pub sub: &'a str,
    /// Audience.
    pub aud: &'a str,
    /// Expiry, Unix seconds.
    pub exp: u64,
    /// Not before, Unix seconds.
    pub nbf: u64,
    /// Issued at, Unix seconds.
    pub iat: u64,
    /// Token ID.
    pub jti: &'a str,
    /// The user's tenant.
    pub tenant: &'a str,
    /// The user's roles.
    pub roles: &'a [String],
    /// The refresh-token family (`refresh` strategy only), so logout can end it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<&'a str>,
    /// The user's revocation epoch read from Redis at issue (`denylist` and `epoch` only):
    /// the token's place in the order of the user's revoke-alls (see the revocation module).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub epoch: Option<u64>,
}
