//! `denylist`: revoked `jti`s in Redis, checked on every verify.
//!
//! `revoke(token)` verifies the token (only a token we signed can be revoked, so nobody can
//! fill Redis with junk) and stores `<prefix>:jwt:deny:{T}:<jti>` (`T`: the owner's slot tag,
//! so the entry shares a Redis Cluster slot with the owner's epoch) with a TTL equal to the token's
//! remaining life plus the leeway: after that the token is expired anyway and the entry can go.
//! `revoke_all(sub)` raises the user's epoch (see the [parent module](super)); `issue` reads it
//! into the token's `epoch` claim (one script), so a login right after a logout-all works.
//!
//! Verify reads **both** keys with one `MGET`: one round trip whatever was revoked. It reads
//! the epoch from Redis every time, so a raise bites on every instance at once, and a Redis
//! that lost its data (the epoch gone while a token that read it lives) is noticed in the same
//! round trip and refused (fail closed; see the parent module, "A Redis that forgot").
//!
//! **Keyed on `jti`, never on a hash of the token.** ECDSA signatures are malleable: from a
//! valid `(r, s)` anyone can compute `(r, n − s)`, the "high-S twin", which verifies too. A
//! deny-list keyed on the token's bytes would miss the twin, and a logged-out token would come
//! back to life with one byte-level edit. The `jti` is inside the signed payload, so every
//! variant of the token carries the same one.

use authbench_core::{Error, ErrorKind, Principal};
use authbench_store::{Store, StoreError, UserSlot, tagged_key};

use super::{UserEpoch, on_store_failure, parse_epoch, revoked_by_epoch};

/// The deny-list strategy's Redis side.
#[derive(Debug)]
pub(crate) struct Denylist {
    store: Store,
    /// `<prefix>:jwt:deny:`, followed by `{tag}:` and the `jti`.
    deny_prefix: String,
    /// The per-user epoch behind `revoke_all`.
    user_epoch: UserEpoch,
    /// Clock-skew leeway: a token is accepted until `exp + leeway`, so its entry must outlive
    /// that.
    leeway_secs: u64,
    /// Accept on the signature alone when Redis cannot answer (never by default).
    fail_open: bool,
}

impl Denylist {
    pub(crate) async fn new(
        store: Store,
        prefix: &str,
        token_ttl_secs: u64,
        leeway_secs: u64,
        fail_open: bool,
    ) -> Result<Self, StoreError> {
        authbench_store::check_key_prefix(prefix)?;
        let user_epoch = UserEpoch::new(prefix, token_ttl_secs, leeway_secs);
        store.load_scripts(&user_epoch.scripts()).await?;
        Ok(Self {
            store,
            deny_prefix: format!("{prefix}:jwt:deny:"),
            user_epoch,
            leeway_secs,
            fail_open,
        })
    }

    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    /// `<prefix>:jwt:deny:{tag}:<jti>`: in the owner's slot, beside the owner's epoch.
    fn deny_key(&self, user: &UserSlot, jti: &str) -> String {
        tagged_key(&self.deny_prefix, user.tag(), jti)
    }

    /// The one round trip of every verify: is this `jti` denied, and what is the user's epoch
    /// (which the token's `token_epoch` must not be below)?
    pub(crate) async fn check(&self, p: &Principal, token_epoch: u64) -> Result<(), Error> {
        let user = UserSlot::of(&p.subject);
        let mut cmd = redis::cmd("MGET");
        cmd.arg(self.deny_key(&user, &p.credential_id))
            .arg(self.user_epoch.key_of(&user));
        let (denied, epoch) = match self
            .store
            .query::<(Option<String>, Option<String>)>(&cmd)
            .await
        {
            Ok(reply) => reply,
            Err(e) => return on_store_failure(e, self.fail_open, "denylist"),
        };
        if denied.is_some() {
            return Err(Error::new(ErrorKind::Revoked, "token revoked (jti denied)"));
        }
        let epoch = parse_epoch(epoch.as_deref())?;
        if token_epoch > 0 && epoch.is_none() {
            // The token read an epoch at issue, and the read keeps that key alive at least as
            // long as the token: Redis lost its data, and its denied `jti`s with it. Fail
            // closed, never on the signature alone (see "A Redis that forgot").
            tracing::warn!(
                jti = %p.credential_id,
                "Redis has lost the revocation state (the user's epoch is gone while a token \
                 that read it is alive): refusing the token"
            );
            return Err(Error::new(
                ErrorKind::Unavailable,
                "Redis lost the revocation state (restart without persistence?): tokens \
                 issued before the loss are refused; log in again",
            ));
        }
        match revoked_by_epoch(token_epoch, epoch) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Denies the `jti` of a verified, unexpired token until it would have expired.
    pub(crate) async fn deny(&self, p: &Principal, now: u64) -> Result<(), Error> {
        let Some(exp) = p.expires_at else {
            return Err(Error::new(
                ErrorKind::MissingClaim,
                "claim `exp` is required",
            ));
        };
        // Accepted while now < exp + leeway; one second more absorbs rounding between our
        // clock and Redis's.
        let ttl = exp
            .saturating_add(self.leeway_secs)
            .saturating_sub(now)
            .max(1)
            + 1;
        let key = self.deny_key(&UserSlot::of(&p.subject), &p.credential_id);
        let mut cmd = redis::cmd("SET");
        cmd.arg(&key).arg("1").arg("EX").arg(ttl);
        // Confirmed by a replica first under `revocation_durability = replica`.
        self.store.write::<()>(&cmd, &key).await?;
        tracing::debug!(jti = %p.credential_id, ttl, "jti denied");
        Ok(())
    }

    /// The epoch a token of `subject` issued now carries: one round trip.
    pub(crate) async fn epoch_for_issue(&self, subject: &str, now: u64) -> Result<u64, Error> {
        self.user_epoch.read(&self.store, subject, now).await
    }

    /// Raises `subject`'s epoch: every token issued before (that read a lower epoch) is
    /// revoked, every token issued after is not.
    pub(crate) async fn revoke_all(&self, subject: &str, now: u64) -> Result<(), Error> {
        self.user_epoch
            .raise(&self.store, subject, now, None)
            .await?;
        Ok(())
    }
}
