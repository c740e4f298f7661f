//! The names every side spells the same way: the JWS algorithms, the JWT revocation
//! strategies and the JWE key-management modes. The backends (`authbench-jwt`,
//! `authbench-jwe`) re-export these enums and add what needs their cryptography; the
//! measurement half uses them without linking any of it.

use std::fmt;
use std::str::FromStr;

/// A JWS algorithm the JWT backend can sign and verify with.
///
/// Names are the case-sensitive JOSE names of RFC 7518 / RFC 8037 (`HS256`, not `hs256`):
/// a verifier that lower-cases `alg` is how `nOnE` slips through.
#[allow(clippy::upper_case_acronyms)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Alg {
    /// HMAC with SHA-256: one shared secret signs *and* verifies. Fast, but every verifier can
    /// also mint tokens, and there is no public key to publish.
    HS256,
    /// RSASSA-PKCS1-v1_5 with SHA-256 and a 2048-bit key: cheap to verify, slow to sign, big.
    RS256,
    /// RSASSA-PSS with SHA-256: RS256's key with the modern, randomised padding.
    PS256,
    /// ECDSA on P-256 with SHA-256: small signatures; needs a good RNG to sign.
    ES256,
    /// ECDSA on P-384 with SHA-384.
    ES384,
    /// Ed25519 (RFC 8037): small, deterministic signatures.
    EdDSA,
}

impl Alg {
    /// Every algorithm, in a stable order (the order benchmarks and the book list them in).
    pub const ALL: [Alg; 6] = [
        Alg::HS256,
        Alg::RS256,
        Alg::PS256,
        Alg::ES256,
        Alg::ES384,
        Alg::EdDSA,
    ];

    /// The JOSE name, e.g. `"ES256"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Alg::HS256 => "HS256",
            Alg::RS256 => "RS256",
            Alg::PS256 => "PS256",
            Alg::ES256 => "ES256",
            Alg::ES384 => "ES384",
            Alg::EdDSA => "EdDSA",
        }
    }

    /// Parses a JOSE name from a token header, on the hot path: exact bytes, no allocation.
    pub fn from_jose(name: &str) -> Option<Alg> {
        match name {
            "HS256" => Some(Alg::HS256),
            "RS256" => Some(Alg::RS256),
            "PS256" => Some(Alg::PS256),
            "ES256" => Some(Alg::ES256),
            "ES384" => Some(Alg::ES384),
            "EdDSA" => Some(Alg::EdDSA),
            _ => None,
        }
    }

    /// Whether the algorithm has a public key to publish (everything but HS256).
    pub fn is_asymmetric(self) -> bool {
        self != Alg::HS256
    }
}

impl fmt::Display for Alg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not one of ours: an algorithm, a strategy or a mode. The name is kept (cut
/// to 32 characters: it may come from a hostile token header) for the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownName {
    /// What was being named: `algorithm`, `revocation strategy`, `JWE algorithm`.
    pub what: &'static str,
    /// The name as given, at most 32 characters.
    pub name: String,
    /// The names that exist.
    pub known: Vec<&'static str>,
}

impl UnknownName {
    fn new(what: &'static str, name: &str, known: impl IntoIterator<Item = &'static str>) -> Self {
        Self {
            what,
            name: name.chars().take(32).collect(),
            known: known.into_iter().collect(),
        }
    }
}

impl fmt::Display for UnknownName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown {} {:?}; one of {}",
            self.what,
            self.name,
            self.known.join(", ")
        )
    }
}

impl std::error::Error for UnknownName {}

impl FromStr for Alg {
    type Err = UnknownName;

    /// Case-sensitive, like JOSE itself: `"es256"` is not an algorithm.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Alg::from_jose(s).ok_or_else(|| UnknownName::new("algorithm", s, Alg::ALL.map(Alg::as_str)))
    }
}

/// Each name is serialized as the string it is spelled as (`"ES256"`, `"denylist"`,
/// `"ECDH-ES+A256KW"`), as run records and configuration files write it.
macro_rules! serde_as_name {
    ($($t:ty: $name:ident),*) => {$(
        impl serde::Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.$name())
            }
        }

        impl<'de> serde::Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let name = String::deserialize(d)?;
                name.parse().map_err(serde::de::Error::custom)
            }
        }
    )*};
}

serde_as_name!(Alg: as_str, Revocation: as_str, JweAlg: as_str, Stack: name);

/// How a JWT is revoked before it expires: each strategy is a configuration of the same
/// backend (`authbench-jwt`'s `revocation` module has the table of what each costs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Revocation {
    /// No revocation: a token works until it expires. `revoke`, `revoke_all` and `refresh`
    /// return `Unsupported`, and no Redis is needed. The lesson: logout cannot take a
    /// stateless token back.
    #[default]
    None,
    /// Revoked `jti`s are kept in Redis until the token would have expired; a per-user epoch
    /// serves "log out everywhere". One round trip per verify (both checked by one `MGET`).
    Denylist,
    /// A per-user epoch in Redis, cached locally and kept fresh through Redis pub/sub: no round
    /// trip on the common path. Only "log out everywhere": single tokens cannot be revoked.
    Epoch,
    /// Short-lived access tokens (300 s by default) plus rotating, server-side refresh tokens
    /// with reuse detection. Verify is local; logout ends the refresh tokens, and the access
    /// token lives out its short life.
    Refresh,
}

impl Revocation {
    /// Every strategy, in the order the book's tables list them.
    pub const ALL: [Revocation; 4] = [
        Revocation::None,
        Revocation::Denylist,
        Revocation::Epoch,
        Revocation::Refresh,
    ];

    /// The name used on the command line and in backend names.
    pub fn as_str(self) -> &'static str {
        match self {
            Revocation::None => "none",
            Revocation::Denylist => "denylist",
            Revocation::Epoch => "epoch",
            Revocation::Refresh => "refresh",
        }
    }

    /// Whether the strategy keeps state in Redis (so the server needs one).
    pub fn needs_redis(self) -> bool {
        self != Revocation::None
    }

    /// Whether the strategy keeps a per-user epoch (`denylist`, `epoch`): the strategies
    /// whose revocations are confirmed writes, whose verify may fail open on request, and
    /// which bound the lifetime of the tokens they accept.
    pub fn has_user_epoch(self) -> bool {
        matches!(self, Revocation::Denylist | Revocation::Epoch)
    }

    /// Store round trips a successful verify costs (the epoch's common, cached path).
    pub fn round_trips_per_verify(self) -> u32 {
        match self {
            Revocation::Denylist => 1,
            Revocation::None | Revocation::Epoch | Revocation::Refresh => 0,
        }
    }
}

impl fmt::Display for Revocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Revocation {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        named(
            s,
            "revocation strategy",
            Revocation::ALL,
            Revocation::as_str,
        )
    }
}

/// How a JWE's content-encryption key (CEK) reaches the recipient: the JWE `alg`. The content
/// encryption is always A256GCM.
///
/// Each key is bound to exactly one of these, and a token naming another is refused before
/// any decryption (the JWE form of algorithm confusion).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JweAlg {
    /// `dir`: the shared 256-bit key *is* the CEK; the encrypted-key part is empty. One AES-GCM
    /// per token, nothing else: the cheapest JWE there is.
    Dir,
    /// `RSA-OAEP-256`: a fresh random CEK per token, encrypted to an RSA-2048 public key with
    /// OAEP (SHA-256, MGF1-SHA-256); the encrypted key is 256 bytes.
    RsaOaep256,
    /// `ECDH-ES+A256KW`: an ephemeral P-256 key (`epk` in the header) agrees a key-encryption
    /// key with the recipient's static P-256 key (Concat KDF, RFC 7518 §4.6), which wraps a
    /// fresh CEK with AES-256 Key Wrap (40 bytes).
    EcdhEsA256kw,
}

impl JweAlg {
    /// Every mode we offer.
    pub const ALL: [JweAlg; 3] = [JweAlg::Dir, JweAlg::RsaOaep256, JweAlg::EcdhEsA256kw];

    /// The JOSE name (`dir`, `RSA-OAEP-256`, `ECDH-ES+A256KW`).
    pub fn as_str(self) -> &'static str {
        match self {
            JweAlg::Dir => "dir",
            JweAlg::RsaOaep256 => "RSA-OAEP-256",
            JweAlg::EcdhEsA256kw => "ECDH-ES+A256KW",
        }
    }

    /// The mode named `name` exactly (case-sensitive, as JOSE names are), if we offer it.
    pub fn from_jose(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == name)
    }

    /// Whether the encryption key may be public (RSA, ECDH). With such a key anyone can mint a
    /// token that decrypts: decryption then authenticates nothing unless the claims inside are
    /// signed (a nested token).
    pub fn is_public_key(self) -> bool {
        !matches!(self, JweAlg::Dir)
    }
}

impl fmt::Display for JweAlg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for JweAlg {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_jose(s)
            .ok_or_else(|| UnknownName::new("JWE algorithm", s, Self::ALL.map(JweAlg::as_str)))
    }
}

/// An off-the-shelf stack a team would install instead of ours, served by `authbench
/// baseline` (`authbench-baselines`) for comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stack {
    /// `axum::serve` and a `/healthz` route: the HTTP floor our server's `/healthz` is held to.
    PlainAxum,
    /// tower-sessions with its Redis store and the default expiry (a browser-session cookie;
    /// the record lives two weeks in Redis): one `GET` per request.
    TowerSessions,
    /// tower-sessions with `Expiry::OnInactivity`: every request also saves the record to
    /// slide its expiry.
    TowerSessionsInactivity,
    /// The axum `examples/jwt` pattern with HS256.
    AxumJwtHs256,
    /// The axum `examples/jwt` pattern with ES256 (P-256).
    AxumJwtEs256,
    /// A control, not a peer: the HS256 example's code with our bytes on the wire (our claim
    /// set and header, so a token as long as ours, and our `/me` answer; `iss`, `aud` and
    /// `nbf` validated). Ours against it is our code against the library's on the same work.
    AxumJwtHs256OurClaims,
    /// The same control for ES256.
    AxumJwtEs256OurClaims,
}

impl Stack {
    /// Every stack, in the order reports list them.
    pub const ALL: [Stack; 7] = [
        Stack::PlainAxum,
        Stack::TowerSessions,
        Stack::TowerSessionsInactivity,
        Stack::AxumJwtHs256,
        Stack::AxumJwtEs256,
        Stack::AxumJwtHs256OurClaims,
        Stack::AxumJwtEs256OurClaims,
    ];

    /// The stack's name, as `--stack` takes it and as run folders record it.
    pub fn name(self) -> &'static str {
        match self {
            Stack::PlainAxum => "plain-axum",
            Stack::TowerSessions => "tower-sessions",
            Stack::TowerSessionsInactivity => "tower-sessions-inactivity",
            Stack::AxumJwtHs256 => "axum-jwt-HS256",
            Stack::AxumJwtEs256 => "axum-jwt-ES256",
            Stack::AxumJwtHs256OurClaims => "axum-jwt-HS256-our-claims",
            Stack::AxumJwtEs256OurClaims => "axum-jwt-ES256-our-claims",
        }
    }

    /// Whether this is one of the our-claims controls (the example's code with our bytes on
    /// the wire), not a peer a team would install.
    pub fn is_control(self) -> bool {
        matches!(
            self,
            Stack::AxumJwtHs256OurClaims | Stack::AxumJwtEs256OurClaims
        )
    }

    /// Whether the stack needs Redis.
    pub fn needs_redis(self) -> bool {
        matches!(self, Stack::TowerSessions | Stack::TowerSessionsInactivity)
    }

    /// Store round trips its `/me` costs: one `GET`; with `OnInactivity`, the save that slides
    /// the expiry as well.
    pub fn round_trips_per_verify(self) -> u32 {
        match self {
            Stack::TowerSessions => 1,
            Stack::TowerSessionsInactivity => 2,
            _ => 0,
        }
    }

    /// Whether its credential travels as the cookie [`COOKIE_NAME`](crate::COOKIE_NAME)
    /// (else as a bearer token).
    pub fn uses_cookie(self) -> bool {
        self.needs_redis()
    }
}

impl fmt::Display for Stack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Stack {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        named(s, "baseline stack", Stack::ALL, Stack::name)
    }
}

/// The one of `all` whose name is `s`, exactly.
fn named<T: Copy, const N: usize>(
    s: &str,
    what: &'static str,
    all: [T; N],
    name: fn(T) -> &'static str,
) -> Result<T, UnknownName> {
    all.into_iter()
        .find(|t| name(*t) == s)
        .ok_or_else(|| UnknownName::new(what, s, all.map(name)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_case_sensitive() {
        for alg in Alg::ALL {
            assert_eq!(alg.to_string().parse::<Alg>().ok(), Some(alg));
        }
        for r in Revocation::ALL {
            assert_eq!(r.to_string().parse::<Revocation>().ok(), Some(r));
        }
        for m in JweAlg::ALL {
            assert_eq!(m.to_string().parse::<JweAlg>().ok(), Some(m));
        }
        assert!("es256".parse::<Alg>().is_err());
        assert!("none".parse::<Alg>().is_err());
        assert!("ES512".parse::<Alg>().is_err());
        assert!("Denylist".parse::<Revocation>().is_err());
        assert!("DIR".parse::<JweAlg>().is_err());
    }

    #[test]
    fn unknown_names_are_cut_and_list_the_known_ones() {
        let e = "x".repeat(100).parse::<Alg>().unwrap_err();
        assert_eq!(e.name.len(), 32);
        assert_eq!(
            "nope".parse::<JweAlg>().unwrap_err().to_string(),
            r#"unknown JWE algorithm "nope"; one of dir, RSA-OAEP-256, ECDH-ES+A256KW"#
        );
    }
}
