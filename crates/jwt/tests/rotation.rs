//! Key rotation on the issuer: a new signing key with a new `kid`; tokens signed with the old
//! key keep verifying until they expire, on the issuer and on a verifier that fetches the
//! JWKS; the old key leaves the JWKS once its last token has expired. `ManualClock` time.

mod jwks_server;

use std::sync::Arc;

use authbench_core::{Authenticator, ErrorKind};
use authbench_jwt::{Alg, DEFAULT_LEEWAY_SECS, DEFAULT_TTL_SECS, JwtBackend, JwtError, SigningKey};
use jwks_server::{JwksServer, T0, alice, issuer, kid_of, manual_clock, verifier};

/// The `kid`s in a JWKS document.
fn jwks_kids(backend: &JwtBackend) -> Vec<String> {
    let jwks: serde_json::Value =
        serde_json::from_str(&backend.published_keys().expect("a JWKS")).expect("JSON");
    jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| k["kid"].as_str().expect("kid").to_owned())
        .collect()
}

#[tokio::test]
async fn old_tokens_verify_until_they_expire_and_the_old_key_then_leaves_the_jwks() {
    for alg in [Alg::ES256, Alg::EdDSA, Alg::RS256, Alg::ES384, Alg::PS256] {
        let (clock, shared) = manual_clock();
        let issuer = issuer(alg, &shared);
        let old_kid = issuer.kid();
        let old = issuer.issue(&alice()).await.expect("issue").token;
        assert_eq!(kid_of(&old), old_kid);
        assert_eq!(jwks_kids(&issuer), vec![old_kid.clone()]);

        clock.advance(100);
        let rotation = issuer.rotate_generated().expect("rotate");
        assert_eq!(rotation.previous_kid, old_kid);
        assert_ne!(rotation.kid, old_kid);
        assert_eq!(issuer.kid(), rotation.kid);
        assert_eq!(
            rotation.previous_published_until,
            T0 + 100 + DEFAULT_TTL_SECS + DEFAULT_LEEWAY_SECS
        );

        // New tokens carry the new kid; old and new both verify; the JWKS has both.
        let new = issuer.issue(&alice()).await.expect("issue").token;
        assert_eq!(kid_of(&new), rotation.kid, "{alg}");
        issuer.verify(&old).await.expect("old token after rotation");
        issuer.verify(&new).await.expect("new token");
        assert_eq!(
            jwks_kids(&issuer),
            vec![rotation.kid.clone(), old_kid.clone()]
        );
        assert_eq!(issuer.retired_kids(), vec![old_kid.clone()]);

        // The old token's own expiry (issued at T0, ttl 900, leeway 5) still rules it.
        clock.set(T0 + DEFAULT_TTL_SECS + DEFAULT_LEEWAY_SECS - 1);
        issuer
            .verify(&old)
            .await
            .expect("last second of the old token");
        clock.advance(1);
        assert_eq!(
            issuer.verify(&old).await.expect_err("expired").kind(),
            ErrorKind::Expired
        );

        // Until the last token the old key could have signed (at the rotation) has expired,
        // the old key stays published; then it goes.
        clock.set(rotation.previous_published_until - 1);
        assert_eq!(jwks_kids(&issuer).len(), 2, "{alg}: still needed");
        clock.set(rotation.previous_published_until);
        assert_eq!(jwks_kids(&issuer), vec![rotation.kid.clone()], "{alg}");
        assert!(issuer.retired_kids().is_empty());
        assert!(
            issuer
                .verify(&old)
                .await
                .expect_err("gone")
                .kind()
                .is_rejected()
        );
        // The new key's tokens are untouched (a fresh one, the first has expired by now).
        let fresh = issuer.issue(&alice()).await.expect("issue").token;
        issuer.verify(&fresh).await.expect("new key");
    }
}

#[tokio::test]
async fn a_jwks_verifier_follows_the_rotation_by_refreshing_on_the_new_kid() {
    let (clock, shared) = manual_clock();
    let issuer = issuer(Alg::ES256, &shared);
    let server = JwksServer::start(Arc::clone(&issuer)).await;
    let v = verifier(Alg::ES256, &shared, &server.url, 10).await;
    let old = issuer.issue(&alice()).await.expect("issue").token;
    v.verify(&old).await.expect("before rotation");

    clock.advance(30);
    let rotation = issuer.rotate_generated().expect("rotate");
    let new = issuer.issue(&alice()).await.expect("issue").token;
    assert_eq!(server.hits(), 1);
    // Old token: known kid, no fetch.
    v.verify(&old).await.expect("old token on the verifier");
    assert_eq!(server.hits(), 1);
    // New token: unknown kid, one refresh, verified.
    let p = v.verify(&new).await.expect("new token on the verifier");
    assert_eq!(p.subject, "alice");
    assert_eq!(server.hits(), 2);
    let kids = v.jwks_stats().expect("stats").kids;
    assert_eq!(
        kids,
        vec![rotation.kid.clone(), rotation.previous_kid.clone()]
    );
    // Both keep working without further fetches.
    for _ in 0..10 {
        v.verify(&old).await.expect("old");
        v.verify(&new).await.expect("new");
    }
    assert_eq!(server.hits(), 2);

    // After the old key's time the issuer drops it; a verifier that refreshes drops it too.
    clock.set(rotation.previous_published_until);
    assert_eq!(jwks_kids(&issuer), vec![rotation.kid.clone()]);
    assert_eq!(v.refresh_jwks().await, Some(true));
    assert_eq!(v.jwks_stats().expect("stats").kids, vec![rotation.kid]);
    assert!(
        v.verify(&old)
            .await
            .expect_err("old key gone")
            .kind()
            .is_rejected()
    );
}

#[tokio::test]
async fn several_rotations_keep_every_key_with_live_tokens() {
    let (clock, shared) = manual_clock();
    let issuer = issuer(Alg::EdDSA, &shared);
    let mut tokens = vec![issuer.issue(&alice()).await.expect("issue").token];
    let mut kids = vec![issuer.kid()];
    for _ in 0..3 {
        clock.advance(200);
        kids.push(issuer.rotate_generated().expect("rotate").kid);
        tokens.push(issuer.issue(&alice()).await.expect("issue").token);
    }
    // At T0 + 600 every token is live (ttl 900) and every key is published, newest first.
    let mut expected = kids.clone();
    expected.reverse();
    assert_eq!(jwks_kids(&issuer), expected);
    for t in &tokens {
        issuer.verify(t).await.expect("every generation verifies");
    }
    // The first key goes at (first rotation) + ttl + leeway = T0 + 200 + 905.
    clock.set(T0 + 200 + DEFAULT_TTL_SECS + DEFAULT_LEEWAY_SECS);
    assert!(!jwks_kids(&issuer).contains(&kids[0]));
    assert_eq!(jwks_kids(&issuer).len(), 3);
}

#[tokio::test]
async fn rotation_refuses_what_would_break_verification() {
    let (_clock, shared) = manual_clock();
    let issuer = issuer(Alg::ES256, &shared);
    // Same kid as the current key.
    let same = SigningKey::generate(Alg::ES256)
        .expect("key")
        .with_kid(issuer.kid());
    assert!(matches!(
        issuer.rotate_signing_key(same),
        Err(JwtError::DuplicateKid(_))
    ));
    // Same kid as a retired key.
    let first = issuer.kid();
    issuer.rotate_generated().expect("rotate");
    let again = SigningKey::generate(Alg::ES256)
        .expect("key")
        .with_kid(first);
    assert!(matches!(
        issuer.rotate_signing_key(again),
        Err(JwtError::DuplicateKid(_))
    ));
    // Another algorithm: the allow-list is the backend's one algorithm.
    let other = SigningKey::generate(Alg::EdDSA).expect("key");
    let e = issuer.rotate_signing_key(other).expect_err("other alg");
    assert!(e.to_string().contains("EdDSA"), "{e}");
    // A caller-chosen kid is fine when it is new.
    let named = SigningKey::generate(Alg::ES256)
        .expect("key")
        .with_kid("2026-11-key-3");
    let r = issuer.rotate_signing_key(named).expect("named key");
    assert_eq!(r.kid, "2026-11-key-3");
    let t = issuer.issue(&alice()).await.expect("issue").token;
    assert_eq!(kid_of(&t), "2026-11-key-3");
}

#[tokio::test]
async fn an_hs256_issuer_rotates_too_but_publishes_nothing() {
    let (_clock, shared) = manual_clock();
    let issuer = issuer(Alg::HS256, &shared);
    let old = issuer.issue(&alice()).await.expect("issue").token;
    issuer.rotate_generated().expect("rotate");
    let new = issuer.issue(&alice()).await.expect("issue").token;
    issuer
        .verify(&old)
        .await
        .expect("old secret still verifies");
    issuer.verify(&new).await.expect("new secret");
    assert_ne!(kid_of(&old), kid_of(&new));
    assert_eq!(issuer.published_keys(), None);
}

#[tokio::test]
async fn under_refresh_a_logout_with_an_expired_old_key_token_still_ends_its_family() {
    let redis =
        authbench_services::RedisServer::start().expect("redis-server (install: scripts/setup)");
    let (clock, shared) = manual_clock();
    let config = authbench_jwt::JwtConfig::new(Alg::ES256)
        .with_revocation(authbench_jwt::Revocation::Refresh);
    let issuer = JwtBackend::connect(config, shared, redis.url().as_str())
        .await
        .expect("issuer");
    let login = issuer.issue(&alice()).await.expect("issue");
    let rotation = issuer.rotate_generated().expect("rotate");
    // The access token (300 s) has expired and its key has left the JWKS…
    clock.set(rotation.previous_published_until + 60);
    assert_eq!(jwks_kids(&issuer), vec![rotation.kid.clone()]);
    assert!(issuer.verify(&login.token).await.is_err());
    // …but logout with it still finds and ends its refresh-token family.
    issuer
        .revoke(&login.token)
        .await
        .expect("logout ends the family");
    let e = issuer
        .refresh(login.refresh_token.as_deref().expect("rt"))
        .await
        .expect_err("family ended");
    assert!(e.kind().is_rejected(), "{e}");
}
