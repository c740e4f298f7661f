//! The contract every authentication backend of session-vs-jwt fulfils.
//!
//! The workspace compares two ways of answering "who is making this request?":
//!
//! - a **server-side session**: the client holds a random, meaningless ID and the server looks
//!   the ID up in a store (Redis) on every request;
//! - a **signed JWT**: the client holds the claims themselves, signed by the server, and the
//!   server checks the signature locally, with no lookup.
//!
//! Both sit behind one trait, [`Authenticator`], so the HTTP server, the load generator, the
//! benchmarks and the conformance suite treat them identically, and any difference we measure is
//! a difference between the designs, not between two code paths around them.
//!
//! This crate knows neither HTTP nor Redis: it is the vocabulary the others share.
//!
//! # Layout
//!
//! - [`Authenticator`]: the trait, with its contract written on each method.
//! - [`Identity`], [`Principal`], [`Credential`]: what goes into a login, what a verified request
//!   carries, what a client receives.
//! - [`CredentialInfo`]: one live credential of a user, as a backend that keeps state can list
//!   it ("your devices").
//! - [`Description`] and [`RevocationModel`]: what a backend says about itself (for the book and
//!   for `compare`).
//! - [`Error`] and [`ErrorKind`]: *rejected* versus *unavailable* versus *unsupported*.
//! - [`Clock`], [`SystemClock`], [`ManualClock`]: time, injected, so expiry is tested without
//!   sleeping.

mod clock;
mod error;

pub use clock::{Clock, ManualClock, SharedClock, SystemClock};
pub use error::{Error, ErrorClass, ErrorKind};

use serde::{Deserialize, Serialize};
use std::future::Future;

/// Seconds of tolerance for clock skew between the party that issued a credential and the party
/// that verifies it. Used by time-based checks on self-contained tokens (`exp`, `nbf`, `iat`).
///
/// Five seconds absorbs NTP-synchronised skew between hosts, and nothing more: the common
/// library default of 60 s silently extends every token's life by a minute (RFC 8725 asks for
/// a small leeway).
pub const DEFAULT_LEEWAY_SECS: u64 = 5;

/// Who is logging in: the facts a backend binds into a credential.
///
/// The server builds it from its user table after the password has been checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// Stable user identifier (`sub` in a JWT, the owner of a session record).
    pub subject: String,
    /// The tenant (organisation) the user acts for; drives multi-tenant data access.
    pub tenant: String,
    /// Roles granted to the user, e.g. `user`, `admin`.
    pub roles: Vec<String>,
}

/// The verified identity behind a request: what [`Authenticator::verify`] returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    /// Stable user identifier.
    pub subject: String,
    /// The tenant the user acts for.
    pub tenant: String,
    /// Roles, as the backend knows them *now*: for a session that is the stored record, for a
    /// JWT it is whatever was signed at issue time (a role change does not reach it).
    pub roles: Vec<String>,
    /// When the credential was issued, seconds since the Unix epoch.
    pub issued_at: u64,
    /// When the credential stops being accepted, seconds since the Unix epoch, if the backend
    /// knows it at verify time (a session's idle deadline moves; this is the current one).
    pub expires_at: Option<u64>,
    /// An identifier of this credential that is safe to log and to store: a JWT's `jti`, or a
    /// session's key hash. Never the credential itself.
    pub credential_id: String,
}

impl Principal {
    /// Whether the principal holds `role`.
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }
}

/// What a client receives at login or refresh.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credential {
    /// The bearer credential: a session ID or a compact JWS. Secret: never log it.
    pub token: String,
    /// Seconds until the credential expires at the latest (a session's idle timeout; a JWT's
    /// `exp - iat`).
    pub expires_in: u64,
    /// A refresh token, for strategies that rotate short-lived access tokens.
    pub refresh_token: Option<String>,
}

impl std::fmt::Debug for Credential {
    /// Redacts the secrets: a `{:?}` in a log line must not leak a live credential.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field(
                "token",
                &format_args!("<{} bytes redacted>", self.token.len()),
            )
            .field("expires_in", &self.expires_in)
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// One live credential of a user, as [`Authenticator::list_credentials`] reports it ("your
/// devices" pages, admin views).
///
/// Holds nothing that could be presented as a credential: only the loggable
/// [`Principal::credential_id`] and times.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialInfo {
    /// The loggable handle of the credential, as in [`Principal::credential_id`]; a client can
    /// compare it with its own `/me` to find "this device".
    pub credential_id: String,
    /// When the credential was issued (login), Unix seconds.
    pub issued_at: u64,
    /// When it was last used, Unix seconds, where the backend records use.
    pub last_used: Option<u64>,
    /// When it stops being accepted if nothing else happens (a session's idle deadline, capped
    /// by the absolute one), Unix seconds, where the backend knows it.
    pub expires_at: Option<u64>,
}

/// How (and whether) a backend can end a credential before its natural expiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum RevocationModel {
    /// The credential is a pointer to server state; deleting the state ends it at once.
    DeleteRecord,
    /// Nothing can end a credential early: it works until it expires. `revoke` and
    /// `revoke_all` return [`ErrorKind::Unsupported`].
    None,
    /// Revoked token IDs (`jti`) are kept in a store until the tokens would have expired.
    Denylist,
    /// A per-user "not before" time; every token issued earlier is rejected.
    Epoch,
    /// Short-lived access tokens plus rotating, server-side refresh tokens.
    RefreshRotation,
}

/// What a backend says about itself; printed by `serve` and recorded by `compare`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Description {
    /// Short name, e.g. `session` or `jwt-ES256-none`.
    pub name: String,
    /// Whether verifying a credential needs server-side state.
    pub stateful: bool,
    /// How credentials are revoked.
    pub revocation: RevocationModel,
    /// Store round trips a successful [`Authenticator::verify`] costs (0 for a pure JWT).
    pub store_round_trips_per_verify: u32,
}

/// An authentication backend: issues credentials and verifies them.
///
/// # Contract
///
/// Every implementation, whatever its design, MUST:
///
/// - **Fail closed.** A credential is accepted only when every check the backend's design calls
///   for has been made and passed. When a check needs a store that cannot be reached, the
///   answer is an error of class [`ErrorClass::Unavailable`], never a success, and it comes
///   within about a second, never a hang.
/// - **Reject, never panic.** Any string may be handed to [`verify`](Self::verify),
///   [`revoke`](Self::revoke) and [`refresh`](Self::refresh): empty, huge, binary, forged. Bad
///   input yields an error of class [`ErrorClass::Rejected`], with the most specific kind the
///   backend can tell (malformed before bad signature before expired).
/// - **Bound work before parsing.** An input larger than the backend's cap is
///   [`ErrorKind::TooLarge`] before any decoding or store access.
/// - **Say what it cannot do.** An operation the design does not support returns
///   [`ErrorKind::Unsupported`]; [`describe`](Self::describe) says so up front.
/// - **Keep secrets out of logs.** Credentials never appear in log lines or error messages;
///   [`Principal::credential_id`] is the loggable handle.
/// - **Be cheap to share.** Keys, validation rules and store handles are built once, at
///   construction; the methods take `&self` and may run concurrently from many tasks.
///
/// # Time
///
/// "Now" comes from the backend's injected [`Clock`], never from the system directly, so tests
/// move time instead of sleeping. A credential whose expiry is `exp` is accepted while
/// `now < exp` and rejected with [`ErrorKind::Expired`] from `now >= exp`. Self-contained
/// tokens, which may be verified by a different host than the one that issued them, allow a
/// small, explicit leeway for clock skew ([`DEFAULT_LEEWAY_SECS`] unless configured); state in a
/// store is judged without leeway.
pub trait Authenticator: Send + Sync + 'static {
    /// Describes the backend: name, statefulness, revocation model, round trips per verify.
    fn describe(&self) -> Description;

    /// Issues a fresh credential for `who`.
    ///
    /// MUST return a credential never handed out before (a new session ID, a new `jti`): a
    /// login never adopts or extends a credential the client already holds.
    fn issue(&self, who: &Identity) -> impl Future<Output = Result<Credential, Error>> + Send;

    /// Verifies a presented credential and returns who it belongs to.
    ///
    /// MUST reject anything not issued by this backend (or its key set), altered in any byte,
    /// expired, not yet valid, or revoked under the backend's revocation model.
    fn verify(&self, token: &str) -> impl Future<Output = Result<Principal, Error>> + Send;

    /// Ends one credential.
    ///
    /// After `Ok(())`, [`verify`](Self::verify) of that credential MUST fail with a rejected
    /// error within the delay the backend's [`RevocationModel`] implies (immediately for
    /// [`RevocationModel::DeleteRecord`]). Revoking an unknown, expired or already revoked
    /// credential is not an error: the goal state already holds. A credential that is not even
    /// well formed is rejected as in `verify`. Backends with [`RevocationModel::None`] return
    /// [`ErrorKind::Unsupported`].
    fn revoke(&self, token: &str) -> impl Future<Output = Result<(), Error>> + Send;

    /// Ends every credential of `subject` ("log out everywhere", or after a password change).
    ///
    /// Same timing and `Unsupported` rules as [`revoke`](Self::revoke). A subject with no
    /// credentials is not an error.
    fn revoke_all(&self, subject: &str) -> impl Future<Output = Result<(), Error>> + Send;

    /// Exchanges a refresh token for a new credential.
    ///
    /// Backends without refresh tokens return [`ErrorKind::Unsupported`].
    fn refresh(
        &self,
        refresh_token: &str,
    ) -> impl Future<Output = Result<Credential, Error>> + Send;

    /// Makes what `who.subject`'s *existing* credentials say match `who` (new roles, new
    /// tenant), where the design can.
    ///
    /// Credentials issued afterwards always carry the new facts (the server passes the current
    /// identity to [`issue`](Self::issue)); this is about the ones already out there. A session
    /// rewrites its records, so the next request sees the change; a self-contained token
    /// cannot be changed and keeps its claims until it is replaced, so a backend whose design
    /// has no way to reach it returns [`ErrorKind::Unsupported`]. Each backend documents what
    /// it does and how long the change takes to bite.
    ///
    /// Defaults to [`ErrorKind::Unsupported`].
    fn update_identity(&self, who: &Identity) -> impl Future<Output = Result<(), Error>> + Send {
        let name = self.describe().name;
        let _ = who;
        async move {
            Err(Error::unsupported(
                &name,
                "change the claims of issued credentials",
            ))
        }
    }

    /// The live credentials of `subject`, oldest first, where the design keeps a list.
    ///
    /// MUST NOT report a credential that [`verify`](Self::verify) would reject right now
    /// (revoked, or past a timeout by the backend's clock). A subject with no credentials is an
    /// empty list, not an error. A self-contained token leaves no trace on the server, so a
    /// backend that keeps no per-credential state cannot answer and returns
    /// [`ErrorKind::Unsupported`].
    ///
    /// Defaults to [`ErrorKind::Unsupported`].
    fn list_credentials(
        &self,
        subject: &str,
    ) -> impl Future<Output = Result<Vec<CredentialInfo>, Error>> + Send {
        let name = self.describe().name;
        let _ = subject;
        async move { Err(Error::unsupported(&name, "list a user's credentials")) }
    }

    /// The public keys verifiers need, as a JWK Set JSON document, when the backend has any.
    ///
    /// Shared, not borrowed: a key rotation replaces the document while callers (a response
    /// being written, say) may still hold the previous one. MUST hold public keys only.
    ///
    /// Defaults to `None` (sessions and shared-secret JWTs publish nothing).
    fn published_keys(&self) -> Option<std::sync::Arc<str>> {
        None
    }
}
