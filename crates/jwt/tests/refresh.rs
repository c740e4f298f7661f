//! `refresh` against a real Redis: rotation, reuse detection kills the family, the
//! concurrent-refresh rule, logout and logout-all end refresh tokens while access tokens live
//! until `exp`, `update_identity` reaches the next refresh, refresh tokens stored hashed,
//! verify with no round trip, fail closed.

mod strategy;

use authbench_core::{Authenticator, Clock, ErrorKind, Identity, RevocationModel};
use authbench_jwt::Revocation;
use std::time::{Duration, Instant};
use strategy::{Fixture, kind, who};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describes_itself_and_issues_short_access_tokens_with_a_refresh_token() {
    let f = Fixture::new(Revocation::Refresh);
    let backend = f.backend().await;
    let d = backend.describe();
    assert_eq!(d.name, "jwt-ES256-refresh");
    assert!(d.stateful);
    assert_eq!(d.revocation, RevocationModel::RefreshRotation);
    assert_eq!(d.store_round_trips_per_verify, 0);
    let c = backend.issue(&who("alice")).await.expect("issue");
    assert_eq!(c.expires_in, 300, "5-minute access tokens by default");
    let rt = c.refresh_token.expect("a refresh token");
    assert_eq!(
        rt.len(),
        67,
        "<slot tag>.<base64url(128-bit family id ‖ 256-bit secret)>"
    );
    let tag = authbench_store::UserSlot::of("alice").tag().to_owned();
    assert_eq!(rt.split_once('.').map(|(t, _)| t), Some(tag.as_str()));
    assert_ne!(rt, c.token);
    // The access token carries its family (`sid`).
    let claims = backend.verifier().verify(&c.token).expect("verifies");
    assert!(
        claims["sid"]
            .as_str()
            .is_some_and(|s| s.len() == 25 && s.starts_with(&format!("{tag}."))),
        "{claims}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_and_reuse_detection() {
    let f = Fixture::new(Revocation::Refresh);
    let (a, b) = f.pair().await;
    let first = a.issue(&who("alice")).await.expect("issue");
    let rt1 = first.refresh_token.clone().expect("rt");
    // Rotate on the other instance: state is in Redis, not in the process.
    let second = b.refresh(&rt1).await.expect("refresh");
    let rt2 = second.refresh_token.clone().expect("rt");
    assert_ne!(rt1, rt2, "a new refresh token every time");
    let p = a.verify(&second.token).await.expect("new access token");
    assert_eq!(p.subject, "alice");
    let sid = |t: &str| a.verifier().verify(t).expect("ok")["sid"].clone();
    assert_eq!(sid(&first.token), sid(&second.token), "same family");
    let third = a.refresh(&rt2).await.expect("refresh again");
    let rt3 = third.refresh_token.clone().expect("rt");

    // rt1 is spent: presenting it again is reuse. The family dies: rt3 (the live one) too.
    assert_eq!(kind(a.refresh(&rt1).await), ErrorKind::Revoked);
    assert_eq!(kind(a.refresh(&rt3).await), ErrorKind::Revoked);
    // Access tokens already out there live out their short life…
    a.verify(&third.token)
        .await
        .expect("access token still valid");
    // …and die at exp (+ leeway).
    f.clock.set(f.clock.now() + 300 + 5);
    assert_eq!(kind(a.verify(&third.token).await), ErrorKind::Expired);
    // Other families (another login of the same user) are untouched.
    let other = a.issue(&who("alice")).await.expect("issue");
    a.refresh(other.refresh_token.as_deref().expect("rt"))
        .await
        .expect("another family still rotates");
    // Never issued: unknown; not even shaped like one: malformed; too big: too large.
    assert_eq!(
        kind(a.refresh(&format!("AA.{}", "A".repeat(64))).await),
        ErrorKind::UnknownSession
    );
    assert_eq!(kind(a.refresh("short").await), ErrorKind::Malformed);
    assert_eq!(kind(a.refresh(&first.token).await), ErrorKind::Malformed);
    assert_eq!(
        kind(a.refresh(&"A".repeat(9000)).await),
        ErrorKind::TooLarge
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_refreshes_of_one_token_first_wins_second_is_reuse() {
    let f = Fixture::new(Revocation::Refresh);
    let (a, b) = f.pair().await;
    for round in 0..10 {
        let c = a.issue(&who("alice")).await.expect("issue");
        let rt = c.refresh_token.expect("rt");
        let (x, y) = tokio::join!(
            {
                let (a, rt) = (a.clone(), rt.clone());
                tokio::spawn(async move { a.refresh(&rt).await })
            },
            {
                let (b, rt) = (b.clone(), rt.clone());
                tokio::spawn(async move { b.refresh(&rt).await })
            }
        );
        let results = [x.expect("task"), y.expect("task")];
        let winners: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
        let losers: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
        assert_eq!(
            winners.len(),
            1,
            "round {round}: exactly one wins: {results:?}"
        );
        assert_eq!(losers.len(), 1, "round {round}");
        assert_eq!(
            losers[0].kind(),
            ErrorKind::Revoked,
            "round {round}: the second is reuse"
        );
        // The family is revoked, including the winner's fresh refresh token…
        let winner = winners[0];
        assert_eq!(
            kind(
                a.refresh(winner.refresh_token.as_deref().expect("rt"))
                    .await
            ),
            ErrorKind::Revoked,
            "round {round}"
        );
        // …while the winner's access token works until its exp.
        a.verify(&winner.token)
            .await
            .expect("winner's access token");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_and_logout_all_end_refresh_tokens_access_tokens_live_until_exp() {
    let f = Fixture::new(Revocation::Refresh);
    let backend = f.backend().await;
    let start = f.clock.now();
    let phone = backend.issue(&who("alice")).await.expect("issue");
    let laptop = backend.issue(&who("alice")).await.expect("issue");
    let bob = backend.issue(&who("bob")).await.expect("issue");

    // Logout with the access token ends its family only.
    backend.revoke(&phone.token).await.expect("logout");
    backend.revoke(&phone.token).await.expect("twice is fine");
    assert_eq!(
        kind(
            backend
                .refresh(phone.refresh_token.as_deref().expect("rt"))
                .await
        ),
        ErrorKind::Revoked
    );
    backend
        .verify(&phone.token)
        .await
        .expect("access token lives on until exp");
    let laptop2 = backend
        .refresh(laptop.refresh_token.as_deref().expect("rt"))
        .await
        .expect("the other device keeps going");

    // Logout-all ends every family of alice, not bob's.
    backend.revoke_all("alice").await.expect("logout-all");
    assert_eq!(
        kind(
            backend
                .refresh(laptop2.refresh_token.as_deref().expect("rt"))
                .await
        ),
        ErrorKind::Revoked
    );
    let bob2 = backend
        .refresh(bob.refresh_token.as_deref().expect("rt"))
        .await
        .expect("bob untouched");
    // The window is the point: alice's access tokens work until exp, then never again.
    backend
        .verify(&laptop2.token)
        .await
        .expect("inside the window");
    f.clock.set(start + 299);
    backend
        .verify(&laptop2.token)
        .await
        .expect("1 s before exp");
    f.clock.set(start + 300 + 5);
    assert_eq!(
        kind(backend.verify(&laptop2.token).await),
        ErrorKind::Expired
    );
    f.clock.set(start);

    // A refresh token may be presented to `revoke` too (RFC 7009 style).
    backend
        .revoke(bob2.refresh_token.as_deref().expect("rt"))
        .await
        .expect("revoke by refresh token");
    assert_eq!(
        kind(
            backend
                .refresh(bob2.refresh_token.as_deref().expect("rt"))
                .await
        ),
        ErrorKind::Revoked
    );
    // Logout with an access token that has just expired still ends its family.
    let late = backend.issue(&who("carol")).await.expect("issue");
    f.clock.set(start + 400);
    backend
        .revoke(&late.token)
        .await
        .expect("expired access token, still a logout");
    assert_eq!(
        kind(
            backend
                .refresh(late.refresh_token.as_deref().expect("rt"))
                .await
        ),
        ErrorKind::Revoked
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_identity_reaches_the_next_refresh() {
    let f = Fixture::new(Revocation::Refresh);
    let backend = f.backend().await;
    let c = backend.issue(&who("alice")).await.expect("issue");
    let promoted = Identity {
        subject: "alice".into(),
        tenant: "globex".into(),
        roles: vec!["user".into(), "admin".into()],
    };
    backend.update_identity(&promoted).await.expect("update");
    // The access token already out there keeps its claims (until exp)…
    let old = backend.verify(&c.token).await.expect("verify");
    assert_eq!(old.roles, vec!["user".to_owned()]);
    // …the next refresh carries the new ones.
    let next = backend
        .refresh(c.refresh_token.as_deref().expect("rt"))
        .await
        .expect("refresh");
    let new = backend.verify(&next.token).await.expect("verify");
    assert_eq!(new.tenant, "globex");
    assert_eq!(new.roles, promoted.roles);
    // A user with no families: nothing to do, Ok.
    backend
        .update_identity(&who("nobody"))
        .await
        .expect("no families");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_tokens_are_stored_hashed_and_verify_is_local() {
    let f = Fixture::new(Revocation::Refresh);
    let backend = f.backend().await;
    let c = backend.issue(&who("alice")).await.expect("issue");
    let rt = c.refresh_token.clone().expect("rt");
    let mut raw = f.raw().await;
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("*")
        .query_async(&mut raw)
        .await
        .expect("KEYS");
    let mut dump = keys.join("\n");
    for k in &keys {
        let t: String = redis::cmd("TYPE")
            .arg(k)
            .query_async(&mut raw)
            .await
            .expect("TYPE");
        let v: Vec<String> = match t.as_str() {
            "string" => vec![
                redis::cmd("GET")
                    .arg(k)
                    .query_async(&mut raw)
                    .await
                    .expect("GET"),
            ],
            "hash" => redis::cmd("HVALS")
                .arg(k)
                .query_async(&mut raw)
                .await
                .expect("HVALS"),
            "zset" => redis::cmd("ZRANGE")
                .arg(k)
                .arg(0)
                .arg(-1)
                .query_async(&mut raw)
                .await
                .expect("ZRANGE"),
            other => panic!("unexpected type {other}"),
        };
        dump.push_str(&v.join("\n"));
    }
    assert!(!dump.contains(&rt), "a refresh token in clear in Redis");
    assert!(!dump.contains(&c.token), "an access token in Redis");

    let before = f.data_calls().await;
    for _ in 0..50 {
        backend.verify(&c.token).await.expect("verify");
    }
    assert_eq!(f.data_calls().await, before, "verify makes no round trip");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fails_closed_when_redis_is_down() {
    let mut f = Fixture::with(Revocation::Refresh, |c| {
        c.policy.ttl_secs = 5; // "configurable down to seconds"
        c.insecure_fail_open = true; // has no effect here: verify never asks Redis
    });
    let backend = f.backend().await;
    assert_eq!(
        backend.describe().name,
        "jwt-ES256-refresh",
        "flag not in the name"
    );
    let c = backend.issue(&who("alice")).await.expect("issue");
    assert_eq!(c.expires_in, 5);
    f.redis.stop();
    backend.verify(&c.token).await.expect("verify is local");
    let t = Instant::now();
    assert_eq!(
        kind(
            backend
                .refresh(c.refresh_token.as_deref().expect("rt"))
                .await
        ),
        ErrorKind::Unavailable
    );
    assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
    assert_eq!(
        kind(backend.issue(&who("alice")).await),
        ErrorKind::Unavailable
    );
    assert_eq!(kind(backend.revoke(&c.token).await), ErrorKind::Unavailable);
    assert_eq!(
        kind(backend.revoke_all("alice").await),
        ErrorKind::Unavailable
    );
}
