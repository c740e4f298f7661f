//! The demo users of the baselines: the same names, tenants and roles as our server's, and the
//! same password, compared in plain text. The baselines never measure a login (compare logs
//! every user in once, as set-up), so a password hash would only slow the set-up down.

use crate::Me;
use std::collections::HashMap;
use std::sync::Arc;

/// Tenants the load users `user0` … are spread over: our server's list, so principals (and
/// so response bodies) look alike.
const LOAD_TENANTS: [&str; 4] = ["acme", "globex", "initech", "umbrella"];

/// Who may log in, and with what password.
#[derive(Debug, Clone)]
pub struct DemoUsers {
    password: Arc<str>,
    users: Arc<HashMap<String, Me>>,
}

impl DemoUsers {
    /// `alice`, `bob`, `admin`, and `user0` … `user{extra-1}`, all with `password`.
    pub fn new(password: &str, extra: usize) -> Self {
        let mut users = HashMap::with_capacity(3 + extra);
        let mut add = |name: String, tenant: &str, roles: &[&str]| {
            users.insert(
                name.clone(),
                Me {
                    subject: name,
                    tenant: tenant.to_owned(),
                    roles: roles.iter().map(|r| (*r).to_owned()).collect(),
                    issued_at: None,
                    expires_at: None,
                    credential_id: None,
                },
            );
        };
        add("alice".into(), "acme", &["user"]);
        add("bob".into(), "globex", &["user"]);
        add("admin".into(), "acme", &["user", "admin"]);
        for i in 0..extra {
            add(
                format!("user{i}"),
                LOAD_TENANTS[i % LOAD_TENANTS.len()],
                &["user"],
            );
        }
        Self {
            password: password.into(),
            users: Arc::new(users),
        }
    }

    /// The user, if `username` exists and `password` is right.
    pub(crate) fn check(&self, username: &str, password: &str) -> Option<&Me> {
        (password == &*self.password)
            .then(|| self.users.get(username))
            .flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_known_users_with_the_password_log_in() {
        let users = DemoUsers::new("pw", 2);
        assert_eq!(
            users.check("alice", "pw").map(|m| m.tenant.as_str()),
            Some("acme")
        );
        assert_eq!(
            users.check("user1", "pw").map(|m| m.tenant.as_str()),
            Some("globex")
        );
        assert!(users.check("alice", "wrong").is_none());
        assert!(users.check("user2", "pw").is_none());
        assert_eq!(users.check("admin", "pw").map(|m| m.roles.len()), Some(2));
    }
}
