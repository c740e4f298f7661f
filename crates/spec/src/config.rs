//! A configuration under test: which backend a server runs and how it is started, typed once.
//!
//! `authbench compare` and the soak start every server through [`Configuration::serve_args`];
//! `authbench serve` parses its flags back into a [`Backend`] (a test in `authbench-cli`
//! checks the round trip for every configuration the measurements use). The names in
//! `run.json` and the book's tables come from [`Configuration::name`].

use crate::names::{Alg, JweAlg, Revocation, Stack};

/// The credential design a server runs: `authbench serve --backend …` and the flags that
/// refine it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A random session ID, looked up in Redis on every request.
    Session,
    /// A signed JWT, verified locally, revoked by `revocation`.
    Jwt {
        /// The signing algorithm.
        alg: Alg,
        /// The revocation strategy.
        revocation: Revocation,
    },
    /// An encrypted JWT (A256GCM content), decrypted and checked locally.
    Jwe {
        /// Key management.
        alg: JweAlg,
        /// `Some`: the claims are signed with this algorithm first (a nested token).
        nested: Option<Alg>,
    },
}

impl Backend {
    /// A JWT backend without revocation: the stateless design at its purest.
    pub fn jwt(alg: Alg) -> Self {
        Backend::Jwt {
            alg,
            revocation: Revocation::None,
        }
    }

    /// The name the backend gives itself, with every part spelled out (`jwt-ES256-none`).
    pub fn full_name(&self) -> String {
        match self {
            Backend::Jwt { alg, revocation } => format!("jwt-{alg}-{revocation}"),
            _ => self.name(),
        }
    }

    /// The name in the book's tables: `session`, `jwt-ES256` (no revocation) or
    /// `jwt-ES256-denylist`, `jwe-dir`, `jwe-RSA-OAEP-256+ES256` (nested).
    pub fn name(&self) -> String {
        match self {
            Backend::Session => "session".to_owned(),
            Backend::Jwt {
                alg,
                revocation: Revocation::None,
            } => format!("jwt-{alg}"),
            Backend::Jwt { .. } => self.full_name(),
            Backend::Jwe { alg, nested: None } => format!("jwe-{alg}"),
            Backend::Jwe {
                alg,
                nested: Some(inner),
            } => format!("jwe-{alg}+{inner}"),
        }
    }

    /// Whether the server keeps per-credential state in Redis.
    pub fn needs_redis(&self) -> bool {
        match self {
            Backend::Session => true,
            Backend::Jwt { revocation, .. } => revocation.needs_redis(),
            Backend::Jwe { .. } => false,
        }
    }

    /// Store round trips a successful verify costs.
    pub fn round_trips_per_verify(&self) -> u32 {
        match self {
            Backend::Session => 1,
            Backend::Jwt { revocation, .. } => revocation.round_trips_per_verify(),
            Backend::Jwe { .. } => 0,
        }
    }

    /// The flags that select this backend.
    fn args(&self, out: &mut Vec<String>) {
        match self {
            Backend::Session => push(out, ["--backend", "session"]),
            Backend::Jwt { alg, revocation } => {
                push(out, ["--backend", "jwt", "--alg", alg.as_str()]);
                if *revocation != Revocation::None {
                    push(out, ["--revocation", revocation.as_str()]);
                }
            }
            Backend::Jwe { alg, nested } => {
                push(out, ["--backend", "jwe", "--jwe-alg", alg.as_str()]);
                if let Some(inner) = nested {
                    push(out, ["--jwe-nested", inner.as_str()]);
                }
            }
        }
    }
}

/// Where the server finds Redis.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum RedisAt {
    /// The server starts its own private `redis-server` when the backend needs one.
    #[default]
    Private,
    /// One Redis: `redis://HOST:PORT`.
    Url(String),
    /// A Redis Cluster: seed nodes `HOST:PORT[,HOST:PORT…]`.
    Cluster(String),
}

/// A verifier-only JWT instance: the issuer's JWKS it verifies with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Jwks {
    /// The issuer's `/.well-known/jwks.json`.
    pub url: String,
    /// Least seconds between two fetches caused by unknown `kid`s.
    pub refresh_interval_s: u64,
}

/// One server under test: the backend and everything else `authbench serve` is told.
///
/// The `insecure_*` switches exist for measurements only, and each says why where it is set;
/// the server documents them under `authbench serve --help`.
#[derive(Debug, Clone, PartialEq)]
pub struct Configuration {
    /// The credential design.
    pub backend: Backend,
    /// Where Redis is.
    pub redis: RedisAt,
    /// Milliseconds of latency a proxy adds in front of Redis, when one does: only named
    /// (`session-redis+1ms`), since the proxy's address is [`redis`](Self::redis).
    pub redis_delay_ms: Option<f64>,
    /// `user0` … `user{N-1}` besides the demo users.
    pub users: usize,
    /// Seed the users with a cheap argon2id (`--insecure-fast-password-hash`), so thousands
    /// log in quickly; the real login cost is measured on its own server.
    pub fast_password_hash: bool,
    /// No per-address budgets of failures (`--insecure-no-failure-limit`): for experiments
    /// that present rejected credentials on purpose, every client from one address.
    pub no_failure_limit: bool,
    /// Serve a public-key JWE mode without a signature (`--insecure-unauthenticated-jwe`):
    /// measuring the bare mode's cost only.
    pub unauthenticated_jwe: bool,
    /// Access-token lifetime, seconds (`--access-ttl`); `None`: the server's default.
    pub access_ttl_s: Option<u64>,
    /// Verifier-only: the issuer's JWKS (`--jwks-url`).
    pub jwks: Option<Jwks>,
    /// Seconds a rotated-in key is published before it signs (`--key-prepublish`).
    pub key_prepublish_s: Option<u64>,
    /// PostgreSQL for `/notes` (`--database-url`).
    pub database_url: Option<String>,
}

impl Configuration {
    /// `backend` with every other setting at the server's default.
    pub fn new(backend: Backend) -> Self {
        Self {
            backend,
            redis: RedisAt::Private,
            redis_delay_ms: None,
            users: 0,
            fast_password_hash: false,
            no_failure_limit: false,
            unauthenticated_jwe: false,
            access_ttl_s: None,
            jwks: None,
            key_prepublish_s: None,
            database_url: None,
        }
    }

    /// A load-test server: `users` users seeded with the cheap hash (thousands of logins
    /// through argon2id at OWASP cost would take minutes of set-up), and, for a public-key
    /// JWE mode without a signature, the switch that lets `serve` measure it.
    pub fn load_test(backend: Backend, users: usize) -> Self {
        let mut c = Self::new(backend);
        c.users = users;
        c.fast_password_hash = true;
        c.unauthenticated_jwe =
            matches!(backend, Backend::Jwe { alg, nested: None } if alg.is_public_key());
        c
    }

    /// The same configuration against another Redis.
    pub fn with_redis(mut self, redis: RedisAt) -> Self {
        self.redis = redis;
        self
    }

    /// The name in `run.json` and the book's tables: the backend's, and for a Redis behind
    /// the latency proxy `session-redis+1ms`.
    pub fn name(&self) -> String {
        match self.redis_delay_ms {
            Some(ms) => format!("{}-redis+{ms}ms", self.backend.name()),
            None => self.backend.name(),
        }
    }

    /// The arguments after `authbench serve` (the caller adds `--listen`).
    pub fn serve_args(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.backend.args(&mut out);
        if self.unauthenticated_jwe {
            push(&mut out, ["--insecure-unauthenticated-jwe"]);
        }
        match &self.redis {
            RedisAt::Private => {}
            RedisAt::Url(url) => push(&mut out, ["--redis-url", url]),
            RedisAt::Cluster(seeds) => push(&mut out, ["--redis-cluster", seeds]),
        }
        if let Some(jwks) = &self.jwks {
            let interval = jwks.refresh_interval_s.to_string();
            push(
                &mut out,
                [
                    "--jwks-url",
                    &jwks.url,
                    "--jwks-refresh-interval",
                    &interval,
                ],
            );
        }
        if let Some(s) = self.key_prepublish_s {
            push(&mut out, ["--key-prepublish", &s.to_string()]);
        }
        if let Some(s) = self.access_ttl_s {
            push(&mut out, ["--access-ttl", &s.to_string()]);
        }
        if let Some(url) = &self.database_url {
            push(&mut out, ["--database-url", url]);
        }
        if self.users > 0 {
            push(&mut out, ["--users", &self.users.to_string()]);
        }
        if self.fast_password_hash {
            push(&mut out, ["--insecure-fast-password-hash"]);
        }
        if self.no_failure_limit {
            push(&mut out, ["--insecure-no-failure-limit"]);
        }
        out
    }
}

/// A peer a team would install instead of ours, as `authbench baseline --stack …` serves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    /// The stack.
    pub stack: Stack,
    /// `user0` … `user{N-1}` besides the demo users.
    pub users: usize,
    /// Its Redis: the tower-sessions stacks keep their records there (their own key space).
    pub redis_url: Option<String>,
}

impl Peer {
    /// Every peer's name in `run.json` and the book's tables starts with this.
    pub const NAME_PREFIX: &str = "baseline-";

    /// The name in `run.json` and the book's tables: `baseline-<stack>`.
    pub fn name(&self) -> String {
        format!("{}{}", Self::NAME_PREFIX, self.stack.name())
    }

    /// The arguments after `authbench baseline --stack <stack>`.
    pub fn baseline_args(&self) -> Vec<String> {
        let mut out = Vec::new();
        push(&mut out, ["--users", &self.users.to_string()]);
        if let Some(url) = &self.redis_url {
            push(&mut out, ["--redis-url", url]);
        }
        out
    }
}

fn push<const N: usize>(out: &mut Vec<String>, args: [&str; N]) {
    out.extend(args.map(str::to_owned));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_ones_the_book_uses() {
        assert_eq!(Backend::Session.name(), "session");
        assert_eq!(Backend::jwt(Alg::ES256).name(), "jwt-ES256");
        assert_eq!(Backend::jwt(Alg::ES256).full_name(), "jwt-ES256-none");
        let denylist = Backend::Jwt {
            alg: Alg::ES256,
            revocation: Revocation::Denylist,
        };
        assert_eq!(denylist.name(), "jwt-ES256-denylist");
        let jwe = Backend::Jwe {
            alg: JweAlg::RsaOaep256,
            nested: None,
        };
        assert_eq!(jwe.name(), "jwe-RSA-OAEP-256");
        let mut c = Configuration::new(Backend::Session);
        c.redis_delay_ms = Some(0.2);
        assert_eq!(c.name(), "session-redis+0.2ms");
        c.redis_delay_ms = Some(1.0);
        assert_eq!(c.name(), "session-redis+1ms");
    }

    #[test]
    fn load_test_servers_get_the_measurement_switches() {
        let jwe = |alg, nested| Configuration::load_test(Backend::Jwe { alg, nested }, 10);
        assert!(jwe(JweAlg::RsaOaep256, None).unauthenticated_jwe);
        assert!(!jwe(JweAlg::RsaOaep256, Some(Alg::ES256)).unauthenticated_jwe);
        assert!(!jwe(JweAlg::Dir, None).unauthenticated_jwe);
        let args = Configuration::load_test(Backend::Session, 10)
            .with_redis(RedisAt::Url("redis://127.0.0.1:1".into()))
            .serve_args();
        assert_eq!(
            args,
            [
                "--backend",
                "session",
                "--redis-url",
                "redis://127.0.0.1:1",
                "--users",
                "10",
                "--insecure-fast-password-hash"
            ]
        );
    }
}
