//! Server-side sessions in Redis: the "stateful" side of session-vs-jwt.
//!
//! At login the server makes up a random, meaningless ID, stores *who you are* in Redis under
//! it, and gives you the ID. On every request it looks the ID up. The ID itself says nothing;
//! all the truth lives on the server, which is what makes logout instant (delete the record)
//! and costs one Redis round trip per request (which is what the workspace measures).
//!
//! The rules this crate follows, and why:
//!
//! - **IDs carry 128+ bits from the OS CSPRNG** (OWASP, ASVS 5 7.2.3), base64url, after the
//!   owner's 2-character slot tag: `<tag>.<secret>`. Guessing is the only attack on a
//!   meaningless secret; 2^128 makes it hopeless. The tag places the session in its owner's
//!   Redis Cluster slot (see `id` for what it reveals).
//! - **Redis keys are SHA-256 hashes of the secret**, never the ID (Rack CVE-2019-16782). A
//!   Redis dump, a replica or a `MONITOR` log then holds no live credential.
//! - **Shape before store.** A presented ID of the wrong length, tag or alphabet is refused
//!   without touching Redis, so garbage costs nanoseconds, not round trips.
//! - **One Redis or a cluster, one code path.** Every key carries the owner's hash tag and
//!   every script names all its keys, so [`SessionConfig::for_target`] with
//!   [`RedisTarget::Cluster`] runs the same backend on a Redis Cluster.
//! - **One round trip per verify, no script.** `EXPIRETIME` + `GETEX … EXAT`, pipelined: the
//!   previous idle deadline, and the record while its deadline slides; both timeouts are
//!   judged against the injected clock (see `store` for why not a Lua script any more).
//! - **Fail closed, and fast.** If Redis is unreachable the answer is
//!   [`ErrorKind::Unavailable`](authbench_core::ErrorKind::Unavailable), never "let them in",
//!   and it comes within `connect_timeout + response_timeout` (1.5 s by default; a refused
//!   connection fails at once), never a hang. The same backend heals by itself when Redis
//!   returns.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use authbench_core::{Authenticator, Identity, SystemClock};
//! use authbench_session::{SessionBackend, SessionConfig};
//! use std::sync::Arc;
//!
//! let sessions = SessionBackend::connect(
//!     SessionConfig::new("redis://127.0.0.1:6379/"),
//!     Arc::new(SystemClock),
//! )
//! .await?;
//! let who = Identity { subject: "alice".into(), tenant: "acme".into(), roles: vec!["user".into()] };
//! let credential = sessions.issue(&who).await?;
//! let principal = sessions.verify(&credential.token).await?;
//! assert_eq!(principal.subject, "alice");
//! # Ok(()) }
//! ```
//!
//! # Layout
//!
//! - [`SessionConfig`] (`config`): URL or cluster seeds, timeouts, ID size, key prefix, each
//!   with its default.
//! - `id`: making IDs, checking presented ones, hashing them into key names.
//! - `store`: key layout and the Lua scripts (read its docs for the record format), over the
//!   shared connection of `authbench-store` (NODELAY, timeouts, fail-fast deadline, `EVALSHA`).
//! - [`SessionError`] (`error`): the crate's errors and their mapping onto the core's classes.
//! - [`SessionBackend`] (here): the [`Authenticator`] implementation (including
//!   [`update_identity`](Authenticator::update_identity) and
//!   [`list_credentials`](Authenticator::list_credentials)), plus
//!   [`list_sessions`](SessionBackend::list_sessions).

mod config;
mod error;
mod id;
mod store;

pub use authbench_store::{Durability, RedisTarget};
pub use config::{MAX_ID_BYTES, MIN_ID_BYTES, SessionConfig};
pub use error::{Expiry, SessionError};
pub use id::{CREDENTIAL_ID_CHARS, MAX_PRESENTED_BYTES};

use authbench_core::{
    Authenticator, Credential, CredentialInfo, Description, Error, Identity, Principal,
    RevocationModel, SharedClock,
};
use authbench_store::{UserSlot, tagged_key};
use id::{IdFormat, KeyHash, credential_id_of};
use redis::Value;
use store::{Record, SessionStore};

/// The name this backend reports in [`Description::name`].
pub const BACKEND_NAME: &str = "session";

/// Server-side sessions in Redis, behind the [`Authenticator`] trait.
///
/// Built once with [`connect`](Self::connect) and shared (`Arc`, or the server's state): every
/// method takes `&self`, and all tasks share one multiplexed Redis connection.
pub struct SessionBackend {
    /// The shared Redis connection and the loaded scripts.
    store: SessionStore,
    /// Where "now" comes from; a `ManualClock` in tests.
    clock: SharedClock,
    /// Size and alphabet of IDs.
    ids: IdFormat,
    /// The configuration, as given.
    config: SessionConfig,
    /// `<prefix>:session:`, the start of every record key (then `{tag}:<hash>`).
    session_prefix: String,
    /// `<prefix>:user:`, the start of every index key (then `{tag}:<SHA-256(subject)>`).
    user_prefix: String,
    /// Script arguments that never change, formatted once instead of per call.
    idle_arg: String,
    absolute_arg: String,
}

impl std::fmt::Debug for SessionBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionBackend")
            .field("redis", &self.store.addr())
            .field("idle_timeout_secs", &self.config.idle_timeout_secs)
            .field("absolute_timeout_secs", &self.config.absolute_timeout_secs)
            .field("id_bytes", &self.config.id_bytes)
            .field("key_prefix", &self.config.key_prefix)
            .finish_non_exhaustive()
    }
}

impl SessionBackend {
    /// Validates `config`, connects to Redis (a server or a cluster: `config.redis`) and
    /// loads the scripts.
    ///
    /// # Errors
    ///
    /// [`SessionError::Config`] for an invalid configuration or URL;
    /// [`SessionError::Store`] (unavailable or timed out, naming host and port, never
    /// a password) when Redis is not there, within about `connect_timeout + response_timeout`.
    pub async fn connect(config: SessionConfig, clock: SharedClock) -> Result<Self, SessionError> {
        config.validate()?;
        let store = SessionStore::connect(
            &config.redis_target(),
            config.connect_timeout,
            config.response_timeout,
            config.revocation_durability,
        )
        .await?;
        tracing::debug!(redis = store.addr(), "session backend connected");
        Ok(Self {
            store,
            clock,
            ids: IdFormat::new(config.id_bytes),
            session_prefix: format!("{}:session:", config.key_prefix),
            user_prefix: format!("{}:user:", config.key_prefix),
            idle_arg: config.idle_timeout_secs.to_string(),
            absolute_arg: config.absolute_timeout_secs.to_string(),
            config,
        })
    }

    /// The configuration this backend was built with.
    pub fn config(&self) -> &SessionConfig {
        &self.config
    }

    /// Length in characters of the session IDs this backend issues: the 2-character slot tag,
    /// a dot, and the secret (46 for 32 bytes).
    pub fn id_len(&self) -> usize {
        self.ids.chars()
    }

    /// A fresh session ID for `subject` from the very generator [`issue`](Authenticator::issue)
    /// uses (same CSPRNG, length and format), without storing anything, so it is valid
    /// nowhere. For statistical tests of the generator over millions of IDs (OWASP / ASVS
    /// 7.2.3), which a Redis round trip per ID would make slow.
    ///
    /// # Errors
    ///
    /// [`SessionError`] if the OS random generator fails.
    pub fn sample_id(&self, subject: &str) -> Result<String, SessionError> {
        Ok(self.ids.generate(UserSlot::of(subject).tag())?.0)
    }

    /// `host:port` of the Redis server, or `cluster[host:port,…]` (safe to print).
    pub fn redis_addr(&self) -> &str {
        self.store.addr()
    }

    /// The live sessions of `subject`, oldest first, in the core's words: `issued_at` is the
    /// login, `last_used` the last request (always known), `expires_at` the idle deadline capped
    /// by the absolute one (always known). Dead index entries are skipped (and removed);
    /// sessions past a timeout by the injected clock are skipped.
    ///
    /// # Errors
    ///
    /// [`SessionError::Store`] when Redis cannot answer;
    /// [`SessionError::CorruptRecord`] for a reply of the wrong shape.
    pub async fn list_sessions(&self, subject: &str) -> Result<Vec<CredentialInfo>, SessionError> {
        let user = UserSlot::of(subject);
        let index = self.index_key(&user);
        let now = self.clock.now().to_string();
        let reply = self
            .store
            .run_indexed(
                &self.store.scripts.list,
                &index,
                |m| tagged_key(&self.session_prefix, user.tag(), m),
                &[&now, &self.idle_arg, &self.absolute_arg],
            )
            .await?;
        let items = into_array(reply)?;
        if items.len() % 4 != 0 {
            return Err(corrupt("list reply is not in groups of four"));
        }
        let mut sessions = items
            .chunks_exact(4)
            .map(|c| {
                Ok(CredentialInfo {
                    credential_id: credential_id_of(text(&c[0])?).to_owned(),
                    issued_at: number(&c[1])?,
                    last_used: Some(number(&c[2])?),
                    expires_at: Some(number(&c[3])?),
                })
            })
            .collect::<Result<Vec<_>, SessionError>>()?;
        sessions
            .sort_by(|a, b| (a.issued_at, &a.credential_id).cmp(&(b.issued_at, &b.credential_id)));
        Ok(sessions)
    }

    /// `<prefix>:session:{tag}:<hash>`: the record, in its owner's slot.
    fn session_key(&self, tag: &str, hash: &KeyHash) -> String {
        tagged_key(&self.session_prefix, tag, hash.as_str())
    }

    /// `<prefix>:user:{tag}:<SHA-256(subject)>`: derived from a hash, so any subject string
    /// makes a tidy, fixed-length key name, in the user's slot.
    fn index_key(&self, user: &UserSlot) -> String {
        tagged_key(&self.user_prefix, user.tag(), user.hash())
    }

    async fn issue_session(&self, who: &Identity) -> Result<Credential, SessionError> {
        let user = UserSlot::of(&who.subject);
        let (token, hash) = self.ids.generate(user.tag())?;
        let key = self.session_key(user.tag(), &hash);
        let index = self.index_key(&user);
        let now = self.clock.now();
        let record = Record::encode(now, who)?;
        let expires = now
            .saturating_add(self.config.initial_lifetime_secs())
            .to_string();
        let deadline = now
            .saturating_add(self.config.absolute_timeout_secs)
            .to_string();
        let now = now.to_string();
        let reply = self
            .store
            .run(
                &self.store.scripts.issue,
                &[&key, &index],
                &[
                    &record,
                    &expires,
                    &now,
                    hash.as_str(),
                    &deadline,
                    &self.absolute_arg,
                ],
            )
            .await?;
        if number(&reply)? != 1 {
            // Two 128+-bit random IDs colliding means the random generator is broken. Never
            // overwrite (that would hand someone else's session over): stop.
            return Err(SessionError::CorruptRecord(
                "freshly generated session ID already exists: the random generator is broken"
                    .to_owned(),
            ));
        }
        tracing::debug!(credential_id = hash.credential_id(), "session issued");
        Ok(Credential {
            token,
            expires_in: self.config.initial_lifetime_secs(),
            refresh_token: None,
        })
    }

    async fn verify_session(&self, token: &str) -> Result<Principal, SessionError> {
        // No Redis for anything that is not shaped like our IDs.
        let (tag, hash) = self.ids.parse(token)?;
        let key = self.session_key(tag, &hash);
        let now = self.clock.now();
        let idle_deadline = now.saturating_add(self.config.idle_timeout_secs);
        // One round trip: the previous idle deadline, then the record (sliding the deadline).
        let (previous, record) = self.store.read_and_slide(&key, idle_deadline).await?;
        let Some(record) = record else {
            return Err(SessionError::UnknownSession);
        };
        let previous = match u64::try_from(previous) {
            Ok(at) => at,
            // -2: created between the two commands, i.e. not the session this ID was issued
            // for. -1: a record without an expiry was not written by us.
            Err(_) if previous == -2 => return Err(SessionError::UnknownSession),
            Err(_) => return Err(corrupt("session record has no expiry")),
        };
        let record = Record::decode(&record).inspect_err(|_| {
            tracing::warn!(
                credential_id = hash.credential_id(),
                "session record has an unexpected shape"
            );
        })?;
        let absolute_deadline = record
            .created
            .saturating_add(self.config.absolute_timeout_secs);
        let ended = if now >= absolute_deadline {
            Some(Expiry::Absolute)
        } else if now >= previous {
            Some(Expiry::Idle)
        } else {
            None
        };
        if let Some(expiry) = ended {
            // Rejection path only: the GETEX above slid the record, so end it for good.
            self.delete(&key).await?;
            return Err(SessionError::Expired(expiry));
        }
        Ok(Principal {
            subject: record.identity.subject,
            tenant: record.identity.tenant,
            roles: record.identity.roles,
            issued_at: record.created,
            expires_at: Some(idle_deadline.min(absolute_deadline)),
            credential_id: hash.credential_id().to_owned(),
        })
    }

    /// One `DEL` of a record.
    async fn delete(&self, key: &str) -> Result<(), SessionError> {
        let mut del = redis::cmd("DEL");
        del.arg(key);
        self.store.redis().query::<i64>(&del).await?;
        Ok(())
    }

    async fn revoke_session(&self, token: &str) -> Result<(), SessionError> {
        let (tag, hash) = self.ids.parse(token)?;
        // One `DEL`: the ID names no index, so the index entry stays until the next login,
        // list, update or revoke-all of the user drops it (see `store`). A logout: confirmed
        // by a replica first under `revocation_durability = replica`.
        let key = self.session_key(tag, &hash);
        let mut del = redis::cmd("DEL");
        del.arg(&key);
        self.store.redis().write::<i64>(&del, &key).await?;
        Ok(())
    }

    /// Rewrites tenant and roles in every live session of `who.subject`, in one scripted round
    /// trip over the user's index; returns how many sessions were rewritten.
    ///
    /// The next verify of any of them returns the new facts. Timeouts are untouched: an update
    /// is not activity, and never brings a gone session back.
    ///
    /// # Errors
    ///
    /// [`SessionError::Store`] when Redis cannot answer.
    pub async fn update_sessions(&self, who: &Identity) -> Result<u64, SessionError> {
        let user = UserSlot::of(&who.subject);
        let index = self.index_key(&user);
        let identity = store::identity_json(who)?;
        let reply = self
            .store
            .run_indexed(
                &self.store.scripts.update,
                &index,
                |m| tagged_key(&self.session_prefix, user.tag(), m),
                &[&who.subject, &identity],
            )
            .await?;
        let updated = number(&reply)?;
        tracing::debug!(sessions = updated, "update_identity");
        Ok(updated)
    }

    async fn revoke_all_sessions(&self, subject: &str) -> Result<(), SessionError> {
        let user = UserSlot::of(subject);
        let index = self.index_key(&user);
        // Confirmed by a replica first under `revocation_durability = replica`.
        let ended = self
            .store
            .run_indexed_write(
                &self.store.scripts.revoke_all,
                &index,
                |m| tagged_key(&self.session_prefix, user.tag(), m),
                &[],
            )
            .await?;
        tracing::debug!(sessions = number(&ended).ok(), "revoke_all");
        Ok(())
    }
}

impl Authenticator for SessionBackend {
    fn describe(&self) -> Description {
        Description {
            name: BACKEND_NAME.to_owned(),
            stateful: true,
            revocation: RevocationModel::DeleteRecord,
            store_round_trips_per_verify: 1,
        }
    }

    /// Creates a session: a fresh random ID, a record, an index entry; one round trip.
    async fn issue(&self, who: &Identity) -> Result<Credential, Error> {
        Ok(self.issue_session(who).await?)
    }

    /// Checks the ID's shape locally, then one pipelined round trip (`EXPIRETIME` + `GETEX`)
    /// reads and slides it; both timeouts are judged here against the clock.
    async fn verify(&self, token: &str) -> Result<Principal, Error> {
        Ok(self.verify_session(token).await?)
    }

    /// Deletes the record (one `DEL`): the ID is dead for every server at once. The index
    /// entry is dropped lazily (the ID does not name its owner's index).
    async fn revoke(&self, token: &str) -> Result<(), Error> {
        Ok(self.revoke_session(token).await?)
    }

    /// Deletes every session in the user's index: a `ZRANGE` snapshot, then one guarded
    /// script naming every record (retaken if a login raced it).
    async fn revoke_all(&self, subject: &str) -> Result<(), Error> {
        Ok(self.revoke_all_sessions(subject).await?)
    }

    /// Sessions have no refresh tokens: activity slides the idle timeout instead.
    async fn refresh(&self, _refresh_token: &str) -> Result<Credential, Error> {
        Err(Error::unsupported(BACKEND_NAME, "refresh"))
    }

    /// Rewrites every live session of the user ([`update_sessions`](Self::update_sessions)):
    /// the change bites on the very next request, on every server.
    async fn update_identity(&self, who: &Identity) -> Result<(), Error> {
        self.update_sessions(who).await?;
        Ok(())
    }

    /// The user's live sessions ([`list_sessions`](Self::list_sessions)).
    async fn list_credentials(&self, subject: &str) -> Result<Vec<CredentialInfo>, Error> {
        Ok(self.list_sessions(subject).await?)
    }
}

// ----- reading script replies ----------------------------------------------------------------

fn corrupt(why: &str) -> SessionError {
    SessionError::CorruptRecord(why.to_owned())
}

fn into_array(v: Value) -> Result<Vec<Value>, SessionError> {
    match v {
        Value::Array(items) => Ok(items),
        _ => Err(corrupt("script reply is not an array")),
    }
}

fn text(v: &Value) -> Result<&str, SessionError> {
    match v {
        Value::BulkString(bytes) => {
            std::str::from_utf8(bytes).map_err(|_| corrupt("record field is not UTF-8"))
        }
        Value::SimpleString(s) => Ok(s),
        _ => Err(corrupt("record field is not a string")),
    }
}

fn number(v: &Value) -> Result<u64, SessionError> {
    match v {
        Value::Int(i) => u64::try_from(*i).map_err(|_| corrupt("negative timestamp")),
        other => text(other)?
            .parse()
            .map_err(|_| corrupt("record field is not a number")),
    }
}
