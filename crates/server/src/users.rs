//! Who can log in: the demo user table and password checks with argon2id.
//!
//! The demo users, as the README lists them (other tools log in with them): `alice`
//! (tenant `acme`, role `user`), `bob` (`globex`, `user`), `admin` (`acme`, `user` + `admin`),
//! plus `user0` … `user{N-1}` for load runs, spread over a few tenants.
//!
//! Passwords are stored as argon2id PHC strings (OWASP's first choice) and checked on a
//! blocking thread: a hash costs tens of milliseconds of CPU by design, and must not stall the
//! async workers that serve `/me`.
//!
//! # Changing users while the server runs
//!
//! The admin routes change roles and tenants and disable accounts, and `/password` changes a
//! password, so the table sits behind a [`RwLock`]. The hot path never touches it: `/me` trusts
//! what the backend says about the credential. Only login, `/password` and the admin routes
//! take the lock, and only for a map lookup or insert: the slow argon2 check runs with the
//! lock released (on a cloned `Arc` of the hash), so a login never blocks an admin's write and
//! vice versa. The lock is never held across an `.await` (clippy's `await_holding_lock` is on).

use argon2::password_hash::{PasswordHash, PasswordHashString, PasswordHasher, PasswordVerifier};
use argon2::{Argon2, password_hash::SaltString};
use authbench_core::Identity;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// The default password of every demo user. This is a loopback-only demo: a known password is
/// acceptable, and documented.
pub const DEFAULT_DEMO_PASSWORD: &str = authbench_spec::DEMO_PASSWORD;

/// Tenants the generated `userN` accounts are spread over (round robin).
pub const LOAD_TENANTS: [&str; 4] = ["acme", "globex", "initech", "umbrella"];

/// One account.
#[derive(Debug, Clone)]
pub struct User {
    /// What a credential for this user says.
    pub identity: Identity,
    /// The argon2id PHC string (`$argon2id$v=19$m=…`), shared between users who were seeded
    /// with the same password (see [`DemoUsers`]) until one of them changes it.
    password_hash: Arc<PasswordHashString>,
    /// A disabled account cannot log in (ASVS 7.4.2); its existing credentials are the
    /// backend's business (the admin route calls `revoke_all`).
    disabled: bool,
    /// The account epoch: bumped by every change that must end credentials issued before it
    /// (a password change, a disable). A login reads it with the password check and compares
    /// after issuing ([`UserStore::unchanged_since`]), so a credential issued while such a
    /// change raced it is revoked instead of handed out.
    version: u64,
}

impl User {
    /// Whether an administrator has disabled the account.
    pub fn is_disabled(&self) -> bool {
        self.disabled
    }
}

/// The user table: a map behind a [`RwLock`] (see the module docs for why the lock never
/// slows `/me` down).
#[derive(Debug)]
pub struct UserStore {
    users: RwLock<HashMap<String, User>>,
    /// Checked when the user does not exist, so a failed login costs the same time whether or
    /// not the name is known (no user enumeration by timing).
    dummy_hash: PasswordHashString,
    /// argon2 verifications run so far (all paths): lets tests prove that an unknown user, a
    /// wrong password and a disabled account each cost exactly one, like a success.
    verifications: AtomicU64,
}

/// How expensive the seeded users' password hash is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HashCost {
    /// argon2id with OWASP's parameters (m = 19 MiB, t = 2, p = 1): the real login cost.
    #[default]
    Owasp,
    /// argon2id with m = 1 MiB, t = 1: about two orders of magnitude cheaper. Only for load
    /// runs that must log thousands of seeded users in without measuring argon2 (the login
    /// cost is measured separately at [`HashCost::Owasp`]). Never for real accounts.
    InsecureFast,
}

impl HashCost {
    fn hasher(self) -> Argon2<'static> {
        match self {
            HashCost::Owasp => Argon2::default(),
            HashCost::InsecureFast => match argon2::Params::new(1024, 1, 1, None) {
                Ok(params) => {
                    Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
                }
                Err(_) => Argon2::default(),
            },
        }
    }
}

/// How to seed the demo users.
#[derive(Debug, Clone)]
pub struct DemoUsers {
    /// The password of every demo user. Defaults to [`DEFAULT_DEMO_PASSWORD`].
    pub password: String,
    /// How many extra `userN` accounts to add. Defaults to 0.
    pub extra_users: usize,
    /// Cost of the seeded password hash. Defaults to [`HashCost::Owasp`].
    pub hash_cost: HashCost,
}

impl Default for DemoUsers {
    fn default() -> Self {
        Self {
            password: DEFAULT_DEMO_PASSWORD.to_owned(),
            extra_users: 0,
            hash_cost: HashCost::Owasp,
        }
    }
}

/// Hashes `password` with argon2id at OWASP cost and a fresh 128-bit salt from the OS CSPRNG.
pub fn hash_password(password: &str) -> Result<PasswordHashString, argon2::password_hash::Error> {
    hash_password_with(password, HashCost::Owasp)
}

/// Hashes `password` at `cost` with a fresh 128-bit salt from the OS CSPRNG. Verification
/// reads the parameters back from the PHC string, so hashes of both costs verify alike.
pub fn hash_password_with(
    password: &str,
    cost: HashCost,
) -> Result<PasswordHashString, argon2::password_hash::Error> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|_| argon2::password_hash::Error::Crypto)?;
    let salt = SaltString::encode_b64(&salt)?;
    Ok(cost
        .hasher()
        .hash_password(password.as_bytes(), &salt)?
        .serialize())
}

impl UserStore {
    /// Seeds the demo users.
    ///
    /// Hashing is deliberately slow, so the password is hashed **once** and the hash shared by
    /// every seeded account: 100,000 load-test users cost one argon2 run, not an hour. A real
    /// user table gives every account its own salt; here every account has the same password
    /// anyway, so a shared salt reveals nothing the documentation does not. A password changed
    /// through `/password` gets its own fresh salt.
    pub fn demo(seed: &DemoUsers) -> Result<Self, argon2::password_hash::Error> {
        let shared = Arc::new(hash_password_with(&seed.password, seed.hash_cost)?);
        let mut users = HashMap::with_capacity(3 + seed.extra_users);
        let mut add = |name: String, tenant: &str, roles: &[&str]| {
            let identity = Identity {
                subject: name.clone(),
                tenant: tenant.to_owned(),
                roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            };
            users.insert(
                name,
                User {
                    identity,
                    password_hash: Arc::clone(&shared),
                    disabled: false,
                    version: 0,
                },
            );
        };
        add("alice".into(), "acme", &["user"]);
        add("bob".into(), "globex", &["user"]);
        add("admin".into(), "acme", &["user", "admin"]);
        for i in 0..seed.extra_users {
            add(
                format!("user{i}"),
                LOAD_TENANTS[i % LOAD_TENANTS.len()],
                &["user"],
            );
        }
        Ok(Self {
            users: RwLock::new(users),
            // Same cost as the real hashes, or a failed login would be faster for unknown users.
            dummy_hash: hash_password_with("a password no account has", seed.hash_cost)?,
            verifications: AtomicU64::new(0),
        })
    }

    /// The map, for reading.
    ///
    /// A poisoned lock (a panic while a writer held it) is taken over rather than propagated:
    /// every write below is a single field assignment, so a panic cannot leave a user half
    /// updated.
    fn read(&self) -> RwLockReadGuard<'_, HashMap<String, User>> {
        self.users.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// The map, for writing (same poisoning argument as [`read`](Self::read)).
    fn write(&self) -> RwLockWriteGuard<'_, HashMap<String, User>> {
        self.users.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Number of accounts.
    pub fn len(&self) -> usize {
        self.read().len()
    }

    /// Whether there are no accounts.
    pub fn is_empty(&self) -> bool {
        self.read().is_empty()
    }

    /// How many argon2 password verifications this store has run (every path counts: known,
    /// unknown, disabled, success, failure).
    pub fn verifications(&self) -> u64 {
        self.verifications.load(Ordering::Relaxed)
    }

    /// Verifies `password` against `hash` with argon2, counting the run.
    fn verify(&self, password: &str, hash: &PasswordHash<'_>) -> bool {
        self.verifications.fetch_add(1, Ordering::Relaxed);
        Argon2::default()
            .verify_password(password.as_bytes(), hash)
            .is_ok()
    }

    /// A copy of the user called `username`, as it is now.
    pub fn get(&self, username: &str) -> Option<User> {
        self.read().get(username).cloned()
    }

    /// Checks a password. Blocking and slow by design: call it from `spawn_blocking`.
    ///
    /// Returns the identity when the user exists, is not disabled and the password matches.
    /// An unknown user is checked against a dummy hash and a disabled one against their real
    /// hash, so every failure costs the same and looks the same (no enumeration of names or of
    /// disabled accounts).
    ///
    /// The lock is held only to clone the hash; after the slow check the user is read again,
    /// and the answer is "no" if the password or the account changed in between, so a login
    /// racing a password change or a disable does not pass on the old state. (The window
    /// between this answer and the backend's `issue` is closed by the login route: it issues,
    /// then checks [`unchanged_since`](Self::unchanged_since), and revokes what it issued if
    /// the account changed.)
    pub fn check_password(&self, username: &str, password: &str) -> Option<Identity> {
        self.check_password_at(username, password)
            .map(|(identity, _)| identity)
    }

    /// As [`check_password`](Self::check_password), with the account epoch the check passed
    /// at: give it to [`unchanged_since`](Self::unchanged_since) after issuing.
    pub fn check_password_at(&self, username: &str, password: &str) -> Option<(Identity, u64)> {
        let hash = match self.read().get(username) {
            Some(user) => Some(Arc::clone(&user.password_hash)),
            None => None,
        };
        let parsed: PasswordHash<'_> = hash.as_deref().unwrap_or(&self.dummy_hash).password_hash();
        let ok = self.verify(password, &parsed);
        let checked = hash.filter(|_| ok)?;
        let users = self.read();
        let user = users.get(username)?;
        (!user.disabled && Arc::ptr_eq(&user.password_hash, &checked))
            .then(|| (user.identity.clone(), user.version))
    }

    /// Whether `username` still exists, is not disabled, and has had no password change or
    /// disable since the account epoch `version` (from
    /// [`check_password_at`](Self::check_password_at)).
    pub fn unchanged_since(&self, username: &str, version: u64) -> bool {
        self.read()
            .get(username)
            .is_some_and(|u| !u.disabled && u.version == version)
    }

    /// Changes the password of `username` from `current` to `new`, with a fresh salt. Blocking
    /// and slow by design (two argon2 runs): call it from `spawn_blocking`.
    ///
    /// Returns the user's identity on success, `Ok(None)` when the current password is wrong,
    /// the user unknown or disabled (one answer for all: same rule as
    /// [`Self::check_password`]). The new hash is stored only if the password did not change
    /// while we were hashing (compare-and-set on the hash), so of two concurrent changes that
    /// both knew the old password, exactly one wins.
    pub fn change_password(
        &self,
        username: &str,
        current: &str,
        new: &str,
    ) -> Result<Option<Identity>, argon2::password_hash::Error> {
        let old = match self.read().get(username) {
            Some(user) => Some(Arc::clone(&user.password_hash)),
            None => None,
        };
        let parsed: PasswordHash<'_> = old.as_deref().unwrap_or(&self.dummy_hash).password_hash();
        let ok = self.verify(current, &parsed);
        let Some(old) = old.filter(|_| ok) else {
            return Ok(None);
        };
        let fresh = Arc::new(hash_password(new)?);
        let mut users = self.write();
        Ok(match users.get_mut(username) {
            Some(user) if !user.disabled && Arc::ptr_eq(&user.password_hash, &old) => {
                user.password_hash = fresh;
                user.version += 1;
                Some(user.identity.clone())
            }
            _ => None,
        })
    }

    /// Replaces the password hash of `username` (make it with [`hash_password`], off the async
    /// workers), without asking for the old password. Returns `false` when there is no such
    /// user.
    pub fn set_password_hash(&self, username: &str, hash: PasswordHashString) -> bool {
        match self.write().get_mut(username) {
            Some(user) => {
                user.password_hash = Arc::new(hash);
                user.version += 1;
                true
            }
            None => false,
        }
    }

    /// Sets the roles of `username`; returns the user as changed, or `None` for an unknown
    /// user.
    pub fn set_roles(&self, username: &str, roles: Vec<String>) -> Option<User> {
        self.update(username, |user| user.identity.roles = roles)
    }

    /// Moves `username` to `tenant`; returns the user as changed, or `None` for an unknown
    /// user.
    pub fn set_tenant(&self, username: &str, tenant: String) -> Option<User> {
        self.update(username, |user| user.identity.tenant = tenant)
    }

    /// Disables `username`: no more logins. Returns the user as changed, or `None` for an
    /// unknown user. Disabling a disabled user is not an error.
    pub fn disable(&self, username: &str) -> Option<User> {
        self.update(username, |user| {
            user.disabled = true;
            user.version += 1;
        })
    }

    fn update(&self, username: &str, change: impl FnOnce(&mut User)) -> Option<User> {
        let mut users = self.write();
        let user = users.get_mut(username)?;
        change(user);
        Some(user.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_users_match_the_design_and_check_passwords() {
        let store = UserStore::demo(&DemoUsers {
            password: "pw".into(),
            extra_users: 5,
            ..DemoUsers::default()
        })
        .expect("seed");
        assert_eq!(store.len(), 8);
        let admin = store.check_password("admin", "pw").expect("admin logs in");
        assert_eq!(admin.tenant, "acme");
        assert_eq!(admin.roles, vec!["user", "admin"]);
        assert_eq!(
            store.get("bob").map(|u| u.identity.tenant),
            Some("globex".to_owned())
        );
        assert_eq!(
            store.get("user1").map(|u| u.identity.tenant),
            Some("globex".to_owned())
        );
        assert!(store.check_password("alice", "wrong").is_none());
        assert!(store.check_password("nobody", "pw").is_none());
    }

    #[test]
    fn changes_are_seen_by_the_next_check() {
        let store = UserStore::demo(&DemoUsers {
            password: "pw".into(),
            extra_users: 0,
            ..DemoUsers::default()
        })
        .expect("seed");
        let alice = store
            .set_roles("alice", vec!["user".into(), "auditor".into()])
            .expect("alice exists");
        assert_eq!(alice.identity.roles, vec!["user", "auditor"]);
        let alice = store.set_tenant("alice", "globex".into()).expect("alice");
        assert_eq!(alice.identity.tenant, "globex");
        assert_eq!(store.check_password("alice", "pw"), Some(alice.identity));

        assert_eq!(
            store
                .change_password("alice", "wrong", "new pw")
                .expect("hash"),
            None
        );
        assert!(
            store
                .change_password("alice", "pw", "new pw")
                .expect("hash")
                .is_some()
        );
        assert!(
            store.check_password("alice", "pw").is_none(),
            "old password"
        );
        assert!(store.check_password("alice", "new pw").is_some());
        assert!(store.set_password_hash("alice", hash_password("newer").expect("hash")));
        assert!(store.check_password("alice", "newer").is_some());
        assert!(
            store.check_password("bob", "pw").is_some(),
            "the shared seed hash of the others is untouched"
        );

        assert!(store.disable("bob").is_some());
        assert!(store.get("bob").expect("bob").is_disabled());
        assert!(store.check_password("bob", "pw").is_none(), "disabled");
        assert_eq!(store.change_password("bob", "pw", "x").expect("hash"), None);

        assert!(store.set_roles("nobody", vec![]).is_none());
        assert!(store.set_tenant("nobody", "x".into()).is_none());
        assert!(store.disable("nobody").is_none());
        assert!(!store.set_password_hash("nobody", hash_password("x").expect("hash")));
    }
}
