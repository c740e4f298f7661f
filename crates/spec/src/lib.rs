//! What `authbench serve` and the programs that drive it over HTTP (`authbench compare`, the
//! load generator, the soak, the peer stacks in `authbench-baselines`) must agree on, defined
//! once. Those programs talk to the server as a user's client would, over the network, so they
//! do not link the server crate; a name both sides need lives here instead of being repeated.
//!
//! This crate depends on serde and serde_json (plus base64 and humantime for [`anatomy`], and
//! hdrhistogram behind the `histogram` feature) and on nothing of ours, so the measurement
//! half can speak of algorithms, configurations and run records without linking any
//! cryptography, Redis or HTTP.
//!
//! # Layout
//!
//! - [`names`]: [`Alg`], [`Revocation`], [`JweAlg`], [`Stack`]: the names of the designs and
//!   of the peers, which the backends and `authbench-baselines` re-export and extend.
//! - [`config`]: [`Configuration`], a server under test, with [`Configuration::name`] and
//!   [`Configuration::serve_args`]; [`Peer`], a peer stack served beside ours.
//! - [`record`]: `run.json`, everything a run of `authbench compare` measured ([`RunRecord`]),
//!   which `authbench report` reads.
//! - [`anatomy`]: a JWT taken apart, part by part, without verifying it (`authbench token
//!   decode`, the book's anatomy page).
//! - [`DEMO_PASSWORD`]: the demo users' default password.
//! - [`COOKIE_NAME`]: the cookie that carries the credential.
//! - [`DEFAULT_TTL_SECS`], [`DEFAULT_REFRESH_ACCESS_TTL_SECS`]: the default access-token
//!   lifetimes, which the JWT backend uses and the book's calculator assumes.

pub mod anatomy;
pub mod config;
pub mod names;
pub mod record;

pub use config::{Backend, Configuration, Jwks, Peer, RedisAt};
pub use names::{Alg, JweAlg, Revocation, Stack, UnknownName};
pub use record::RunRecord;

/// The default password of every demo user (`alice`, `bob`, `admin`, `user0` …), which
/// `serve --demo-password` overrides. The server is a loopback-only demo, so a known password
/// is acceptable, and documented in the README.
pub const DEMO_PASSWORD: &str = "correct horse battery staple";

/// The name of the cookie that carries the credential.
///
/// The `__Host-` prefix makes browsers refuse the cookie unless it is `Secure`, has `Path=/`
/// and no `Domain`: a sibling subdomain cannot plant or overwrite it (OWASP, RFC 6265bis).
/// The rest of the name says nothing about the backend (a generic name leaks no design).
pub const COOKIE_NAME: &str = "__Host-authbench";

/// Default access-token lifetime: 15 minutes, the usual compromise between refresh traffic and
/// how long a stolen token (which nothing can revoke under [`Revocation::None`]) stays good.
/// Under [`Revocation::Refresh`] it is [`DEFAULT_REFRESH_ACCESS_TTL_SECS`] (5 minutes).
/// `authbench_jwt` re-exports it.
pub const DEFAULT_TTL_SECS: u64 = 900;

/// Default access-token lifetime under [`Revocation::Refresh`]: 5 minutes. Short, because
/// nothing can end an access token early under that strategy; the refresh token carries the
/// session. `authbench_jwt` re-exports it.
pub const DEFAULT_REFRESH_ACCESS_TTL_SECS: u64 = 300;
