//! Stable UUIDs for the demo's names.
//!
//! The demo users and tenants have names (`alice`, `acme`); the schema keys everything by
//! `uuid`, as real systems do. The bridge is UUID version 5 (name-based, SHA-1; RFC 9562 §5.5)
//! in the URL namespace:
//!
//! - user `alice` → `uuid5(NAMESPACE_URL, "authbench:user:alice")`
//! - tenant `acme` → `uuid5(NAMESPACE_URL, "authbench:tenant:acme")`
//!
//! The same name always gives the same id, on every machine and in every run, with no lookup
//! table: a JWT's `sub` and a session record's subject map to the same row, and anyone can
//! recompute an id (Python: `uuid.uuid5(uuid.NAMESPACE_URL, "authbench:user:alice")`).

use uuid::Uuid;

/// The id of the user called `name`.
pub fn user_id(name: &str) -> Uuid {
    Uuid::new_v5(
        &Uuid::NAMESPACE_URL,
        format!("authbench:user:{name}").as_bytes(),
    )
}

/// The id of the tenant called `name`.
pub fn tenant_id(name: &str) -> Uuid {
    Uuid::new_v5(
        &Uuid::NAMESPACE_URL,
        format!("authbench:tenant:{name}").as_bytes(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_and_distinct() {
        assert_eq!(user_id("alice"), user_id("alice"));
        assert_ne!(user_id("alice"), user_id("bob"));
        assert_ne!(
            user_id("acme"),
            tenant_id("acme"),
            "users and tenants never collide"
        );
        assert_eq!(user_id("alice").get_version_num(), 5);
        // Pinned: changing the rule would orphan every row of an existing database.
        assert_eq!(
            tenant_id("acme"),
            Uuid::new_v5(&Uuid::NAMESPACE_URL, b"authbench:tenant:acme")
        );
    }
}
