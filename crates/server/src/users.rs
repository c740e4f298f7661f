//! Who can log in: the demo user table and password checks with argon2id.
//!
//! The demo users are the ones DESIGN.md lists (other tools log in with them): `alice`
//! (tenant `acme`, role `user`), `bob` (`globex`, `user`), `admin` (`acme`, `user` + `admin`),
//! plus `user0` … `user{N-1}` for load runs, spread over a few tenants.
//!
//! Passwords are stored as argon2id PHC strings (OWASP's first choice) and checked on a
//! blocking thread: a hash costs tens of milliseconds of CPU by design, and must not stall the
//! async workers that serve `/me`.

use argon2::password_hash::{PasswordHash, PasswordHashString, PasswordHasher, PasswordVerifier};
use argon2::{Argon2, password_hash::SaltString};
use authbench_core::Identity;
use std::collections::HashMap;
use std::sync::Arc;

/// The default password of every demo user. This is a loopback-only demo: a known password is
/// acceptable, and documented.
pub const DEFAULT_DEMO_PASSWORD: &str = "correct horse battery staple";

/// Tenants the generated `userN` accounts are spread over (round robin).
pub const LOAD_TENANTS: [&str; 4] = ["acme", "globex", "initech", "umbrella"];

/// One account.
#[derive(Debug, Clone)]
pub struct User {
    /// What a credential for this user says.
    pub identity: Identity,
    /// The argon2id PHC string (`$argon2id$v=19$m=…`), shared between users who were seeded
    /// with the same password (see [`DemoUsers`]).
    password_hash: Arc<PasswordHashString>,
}

/// The user table.
#[derive(Debug)]
pub struct UserStore {
    users: HashMap<String, User>,
    /// Checked when the user does not exist, so a failed login costs the same time whether or
    /// not the name is known (no user enumeration by timing).
    dummy_hash: PasswordHashString,
}

/// How to seed the demo users.
#[derive(Debug, Clone)]
pub struct DemoUsers {
    /// The password of every demo user. Defaults to [`DEFAULT_DEMO_PASSWORD`].
    pub password: String,
    /// How many extra `userN` accounts to add. Defaults to 0.
    pub extra_users: usize,
}

impl Default for DemoUsers {
    fn default() -> Self {
        Self {
            password: DEFAULT_DEMO_PASSWORD.to_owned(),
            extra_users: 0,
        }
    }
}

/// Hashes `password` with argon2id and a fresh 128-bit salt from the OS CSPRNG.
pub fn hash_password(password: &str) -> Result<PasswordHashString, argon2::password_hash::Error> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|_| argon2::password_hash::Error::Crypto)?;
    let salt = SaltString::encode_b64(&salt)?;
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)?
        .serialize())
}

impl UserStore {
    /// Seeds the demo users.
    ///
    /// Hashing is deliberately slow, so the password is hashed **once** and the hash shared by
    /// every seeded account: 100,000 load-test users cost one argon2 run, not an hour. A real
    /// user table gives every account its own salt; here every account has the same password
    /// anyway, so a shared salt reveals nothing the documentation does not.
    pub fn demo(seed: &DemoUsers) -> Result<Self, argon2::password_hash::Error> {
        let shared = Arc::new(hash_password(&seed.password)?);
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
            users,
            dummy_hash: hash_password("a password no account has")?,
        })
    }

    /// Number of accounts.
    pub fn len(&self) -> usize {
        self.users.len()
    }

    /// Whether there are no accounts.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    /// Looks up a user by name.
    pub fn get(&self, username: &str) -> Option<&User> {
        self.users.get(username)
    }

    /// Checks a password. Blocking and slow by design: call it from `spawn_blocking`.
    ///
    /// An unknown user is checked against a dummy hash so both failures cost the same.
    pub fn check_password(&self, username: &str, password: &str) -> Option<Identity> {
        let (hash, user) = match self.users.get(username) {
            Some(user) => (user.password_hash.as_ref(), Some(user)),
            None => (&self.dummy_hash, None),
        };
        let parsed: PasswordHash<'_> = hash.password_hash();
        let ok = Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        match (ok, user) {
            (true, Some(user)) => Some(user.identity.clone()),
            _ => None,
        }
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
        })
        .expect("seed");
        assert_eq!(store.len(), 8);
        let admin = store.check_password("admin", "pw").expect("admin logs in");
        assert_eq!(admin.tenant, "acme");
        assert_eq!(admin.roles, vec!["user", "admin"]);
        assert_eq!(
            store.get("bob").map(|u| u.identity.tenant.as_str()),
            Some("globex")
        );
        assert_eq!(
            store.get("user1").map(|u| u.identity.tenant.as_str()),
            Some("globex")
        );
        assert!(store.check_password("alice", "wrong").is_none());
        assert!(store.check_password("nobody", "pw").is_none());
    }
}
