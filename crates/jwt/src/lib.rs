//! The JWT backend of session-vs-jwt: signed, stateless access tokens, verified strictly.
//!
//! A JWT backend hands the client its own claims (`sub`, `tenant`, `roles`, `exp`, …), signed;
//! on every request it checks the signature with a key it holds and believes the claims, with
//! no store lookup. That is the whole appeal, and the whole risk: the verifier is the only
//! thing between a forged token and your data, so this crate is as much about *what to refuse*
//! as about what to accept.
//!
//! Crypto is [jsonwebtoken] 11 over aws-lc-rs (one backend, no `rust_crypto`): its keys and its
//! signature layer (`jsonwebtoken::crypto::{sign, verify}`). The JOSE parsing and every claim
//! rule are ours, because jsonwebtoken's `decode` is not strict by default (no `nbf`, `iat`,
//! `crit`, `typ`, size or `use` checks), reads the system clock rather than an injected one,
//! and parses the header twice and the claims twice on every call.
//!
//! **Strict by default** (RFC 8725): an algorithm allow-list and keys bound to one algorithm;
//! `crit` rejected; `jwk`/`jku`/`x5u`/`x5c` rejected, never fetched; `typ` checked; an 8 KiB
//! cap before any decoding; duplicate member names rejected; `exp` required, `nbf` and `iat`
//! checked against the injected [`Clock`](authbench_core::Clock) with a 5-second leeway; JWK
//! `use`/`key_ops`/`alg` honoured at import. The README has the full table.
//!
//! # Layout
//!
//! - [`alg`](Alg): the six algorithms we offer, and why no others.
//! - `keys`: [`SigningKey`] and [`VerifyingKey`]: generation with aws-lc-rs, PEM and JWK
//!   import, the RFC 7638 thumbprint as `kid`, the JWKS we publish.
//! - `parse`: the header and claims parsers (borrowing, duplicate-rejecting, typed).
//! - `verify`: [`Verifier`], the strict rules in one place; the backend and the CLI share it.
//! - `sign`: [`sign`] for well-formed tokens, [`dangerous::sign_raw`] for crafting bad ones.
//! - `policy`: [`TokenPolicy`], the claims and limits every access token is issued and
//!   checked with (`iss`, `aud`, `typ`, lifetime, leeway, size cap), and their defaults; the
//!   JWE backend shares it.
//! - `backend`: [`JwtBackend`], the [`Authenticator`](authbench_core::Authenticator), with
//!   [`JwtConfig`] (a [`TokenPolicy`] plus keys and revocation) and [`KeySource`].
//! - `keyring`: an issuer's keys: the signing key, retired keys still verifying, the JWKS;
//!   rotation ([`JwtBackend::rotate_signing_key`], [`KeyRotation`]).
//! - `jwks`: verifier-only instances ([`JwtBackend::verifier_only`], [`JwksConfig`]): the
//!   issuer's keys fetched from its JWKS URL, cached, refreshed on an unknown `kid` at most
//!   once per interval; never from a URL a token names.
//! - `fetch`: the minimal HTTP/1 `GET` (hyper) behind it: deadline, size cap, no TLS, no
//!   redirects.
//! - [`revocation`]: the [`Revocation`] strategies (`none`, `denylist`, `epoch`, `refresh`),
//!   each a configuration of the same backend, over the shared Redis plumbing of
//!   `authbench-store`; read its docs for the table of costs and windows.
//! - [`anatomy`]: a token taken apart, for `authbench token decode`.
//! - `der`: the few DER reads needed to move keys between aws-lc-rs and jsonwebtoken.
//! - `error`: [`JwtError`], the detailed configuration and key errors.

mod alg;
pub mod anatomy;
mod backend;
mod der;
mod error;
mod fetch;
mod jwks;
mod keyring;
mod keys;
mod parse;
mod policy;
pub mod revocation;
mod sign;
mod verify;

pub use alg::{Alg, AlgExt};
pub use authbench_core::DEFAULT_LEEWAY_SECS;
pub use authbench_store::{DEFAULT_REPLICA_WAIT, Durability, RedisTarget};
pub use backend::{
    DEFAULT_EPOCH_CACHE_CAPACITY, DEFAULT_KEY_PREFIX, DEFAULT_REFRESH_ACCESS_TTL_SECS,
    DEFAULT_REFRESH_TTL_SECS, JTI_BYTES, JwtBackend, JwtConfig, KeySource,
};
pub use der::pem;
pub use error::JwtError;
pub use jwks::{
    DEFAULT_JWKS_MAX_AGE_SECS, DEFAULT_JWKS_MAX_BYTES, DEFAULT_JWKS_REFRESH_INTERVAL_SECS,
    DEFAULT_JWKS_TIMEOUT, JwksConfig, JwksStats,
};
pub use keyring::{KeyRevocation, KeyRotation};
pub use keys::{HMAC_SECRET_BYTES, SigningKey, VerifyingKey};
pub use policy::{
    DEFAULT_AUDIENCE, DEFAULT_ISSUER, DEFAULT_MAX_TOKEN_BYTES, DEFAULT_TOKEN_TYPE,
    DEFAULT_TTL_SECS, IssuedClaims, TokenPolicy,
};
pub use revocation::{EpochStats, REFRESH_TOKEN_BYTES, Revocation, propagation_delay};
pub use sign::{dangerous, sign};
pub use verify::{ClaimsValidator, MAX_HEADER_BYTES, Verifier, VerifierOptions};
