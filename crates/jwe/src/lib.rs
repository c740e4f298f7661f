//! Encrypted access tokens (JWE) for session-vs-jwt: the claims hidden, not just signed.
//!
//! A JWS (the `authbench-jwt` backend) is readable by anyone who holds it: base64url is not
//! encryption. A JWE (RFC 7516) encrypts the claims: the client, the browser's storage and
//! every log line that catches the header see five opaque parts. This crate issues and
//! verifies such tokens behind the same [`Authenticator`](authbench_core::Authenticator) trait,
//! so the server, the conformance suite, the benches and `compare` measure what the
//! confidentiality costs beside a JWS and a session.
//!
//! Everything is on aws-lc-rs, the crypto the workspace already links: AES-256-GCM for the
//! content (`enc` `A256GCM`, the only one), and for the key management `dir` (a shared key),
//! `RSA-OAEP-256` or `ECDH-ES+A256KW` (P-256). The README says why neither jwt-simple nor
//! josekit: the first has no `dir` and no `RSA-OAEP-256`; both bring a second crypto stack.
//!
//! **As strict as the JWS path**: an 8 KiB cap before decoding; exactly five parts; `alg`
//! bound to the key and `enc` to A256GCM, checked before any decryption; `zip` refused (no
//! compression: bombs and length leaks); `crit` refused; keys from the token (`jwk`, `jku`,
//! `x5u`, `x5c`) refused; `typ`/`cty` checked; fixed part sizes; an unwrap failure turns into
//! a random CEK, so every forgery fails alike at the tag; then the claims are checked by the
//! JWT crate's own [`ClaimsValidator`](authbench_jwt::ClaimsValidator) (`exp`, `nbf`, `iat`
//! not in the future, `iss`, `aud`, required claims, 5 s leeway).
//!
//! **Revocation: nothing changes.** An encrypted token is as self-contained as a signed one;
//! the backend's model is [`RevocationModel::None`](authbench_core::RevocationModel::None).
//!
//! **Public-key modes authenticate nothing by themselves**: anyone who has the encryption key
//! (a public key) can make a token that decrypts, `{"sub":"admin","roles":["admin"]}`
//! included. So [`JweBackend`] refuses `RSA-OAEP-256` and `ECDH-ES+A256KW` unless nested
//! ([`JweConfig::nested`]: signed with the JWT backend, then encrypted), or unless the
//! configuration opts in with [`JweConfig::insecure_unauthenticated`], which shows in the
//! backend's name. `dir` is allowed: its key is secret.
//!
//! # Layout
//!
//! - [`KeyAlg`]: the three key-management algorithms; [`ENC_A256GCM`].
//! - [`JweKey`]: generation, JWK/PEM import and export, the `kid`.
//! - [`Decrypter`], [`encrypt`], [`dangerous::encrypt_with_header`], [`Parts`]: the format.
//! - [`JweBackend`] and [`JweConfig`]: the [`Authenticator`](authbench_core::Authenticator).
//! - [`anatomy`]: a JWE taken apart, for `authbench token decode`.

mod alg;
pub mod anatomy;
mod backend;
mod error;
mod header;
mod jwe;
mod key;

pub use alg::{ENC_A256GCM, KeyAlg};
pub use backend::{INSECURE_NAME_SUFFIX, JTI_BYTES, JweBackend, JweConfig, NESTED_CONTENT_TYPE};
pub use error::JweError;
pub use jwe::{
    DecryptOptions, Decrypter, HeaderFields, IV_BYTES, MAX_HEADER_BYTES, Parts, TAG_BYTES,
    WRAPPED_CEK_BYTES, concat_kdf, dangerous, encrypt,
};
pub use key::{DIR_KEY_BYTES, JweKey};
