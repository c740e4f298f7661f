//! Verifier-only backends: keys fetched from the issuer's JWKS URL over real HTTP (a loopback
//! server counting its requests), cached, refreshed on an unknown `kid` at most once per
//! interval, never fetched from a URL a token names; failures answered `Unavailable`, never a
//! success. Time is a `ManualClock`; no test sleeps to let time pass.

mod jwks_server;

use std::sync::Arc;
use std::time::{Duration, Instant};

use authbench_core::{Authenticator, ErrorKind};
use authbench_jwt::{Alg, JwksConfig, JwtBackend, JwtConfig, JwtError, Revocation, SigningKey};
use jwks_server::{
    JwksServer, Mode, T0, Trap, alice, eventually, forged, issuer, kid_of, manual_clock,
    unknown_kid_token, verifier,
};
use serde_json::json;

#[tokio::test]
async fn a_verifier_fetches_the_issuers_keys_once_and_verifies_locally() {
    for alg in [Alg::ES256, Alg::EdDSA, Alg::RS256] {
        let (_clock, shared) = manual_clock();
        let issuer = issuer(alg, &shared);
        let server = JwksServer::start(Arc::clone(&issuer)).await;
        let v = verifier(alg, &shared, &server.url, 10).await;
        assert_eq!(server.hits(), 1, "{alg}: one fetch at start");
        assert!(v.is_verifier_only());
        assert_eq!(v.jwks_url().as_deref(), Some(server.url.as_str()));

        for _ in 0..20 {
            let token = issuer.issue(&alice()).await.expect("issue").token;
            let p = v.verify(&token).await.expect("verifies on the verifier");
            assert_eq!((p.subject.as_str(), p.tenant.as_str()), ("alice", "acme"));
        }
        assert_eq!(server.hits(), 1, "{alg}: known kid, no more fetches");
        let stats = v.jwks_stats().expect("stats");
        assert_eq!(stats.kids, vec![issuer.kid()]);
        assert_eq!((stats.fetches, stats.failures), (1, 0));

        // It verifies; it does not issue, publish or rotate.
        let e = v.issue(&alice()).await.expect_err("no signing key");
        assert_eq!(e.kind(), ErrorKind::Unsupported);
        assert_eq!(v.published_keys(), None);
        assert!(matches!(v.rotate_generated(), Err(JwtError::Config(_))));
        assert!(
            v.describe().name.ends_with("-jwks"),
            "{}",
            v.describe().name
        );
        // The same strict rules: a tampered token is still a bad signature.
        let token = issuer.issue(&alice()).await.expect("issue").token;
        let mut tampered = token.clone();
        tampered.pop();
        tampered.push(if token.ends_with('A') { 'B' } else { 'A' });
        assert!(
            v.verify(&tampered)
                .await
                .expect_err("tampered")
                .kind()
                .is_rejected()
        );
    }
}

#[tokio::test]
async fn an_unknown_kid_triggers_one_refresh_per_interval_and_is_rejected() {
    let (clock, shared) = manual_clock();
    let issuer = issuer(Alg::ES256, &shared);
    let server = JwksServer::start(Arc::clone(&issuer)).await;
    let v = verifier(Alg::ES256, &shared, &server.url, 10).await;
    assert_eq!(server.hits(), 1);

    // Within the interval after the first fetch: rejected on the cached set, no fetch.
    let e = v
        .verify(&unknown_kid_token(Alg::ES256, 0, T0))
        .await
        .expect_err("unknown kid");
    assert_eq!(e.kind(), ErrorKind::UnknownKey);
    assert_eq!(server.hits(), 1, "rate-limited: no fetch");

    // After the interval: one refresh, still unknown, rejected (401 class, not 503).
    clock.advance(10);
    let e = v
        .verify(&unknown_kid_token(Alg::ES256, 1, T0))
        .await
        .expect_err("unknown kid");
    assert_eq!(e.kind(), ErrorKind::UnknownKey);
    assert_eq!(server.hits(), 2, "exactly one refresh");

    // A flood of random kids, concurrently: no fetch at all inside the interval.
    let v = Arc::new(v);
    let flood: Vec<_> = (0..200)
        .map(|n| {
            let v = Arc::clone(&v);
            let token = unknown_kid_token(Alg::ES256, 100 + n, T0);
            tokio::spawn(async move { v.verify(&token).await })
        })
        .collect();
    for task in flood {
        let e = task.await.expect("task").expect_err("unknown kid");
        assert_eq!(e.kind(), ErrorKind::UnknownKey);
    }
    assert_eq!(server.hits(), 2, "the flood cost the issuer nothing");
    assert!(v.jwks_stats().expect("stats").rate_limited >= 200);

    // The same flood right after the interval: one fetch for all of them (one at a time, and
    // the rest rate-limited), not one per token.
    clock.advance(10);
    let flood: Vec<_> = (0..50)
        .map(|n| {
            let v = Arc::clone(&v);
            let token = unknown_kid_token(Alg::ES256, 1000 + n, T0);
            tokio::spawn(async move { v.verify(&token).await })
        })
        .collect();
    for task in flood {
        assert!(task.await.expect("task").is_err());
    }
    assert_eq!(
        server.hits(),
        3,
        "one fetch per interval, whatever the load"
    );

    // The issuer's own tokens were never affected.
    let token = issuer.issue(&alice()).await.expect("issue").token;
    v.verify(&token).await.expect("still fine");
}

#[tokio::test]
async fn a_token_naming_a_key_url_is_never_fetched_from() {
    let (clock, shared) = manual_clock();
    let issuer = issuer(Alg::ES256, &shared);
    let server = JwksServer::start(Arc::clone(&issuer)).await;
    let v = verifier(Alg::ES256, &shared, &server.url, 10).await;
    let trap = Trap::start().await;
    let evil = format!("http://{}/.well-known/jwks.json", trap.addr);
    let attacker = SigningKey::generate(Alg::ES256).expect("key");
    clock.advance(60); // a refresh would be allowed, if anything asked for one

    for (member, kid) in [
        ("jku", attacker.kid().to_owned()),
        ("jku", issuer.kid()),
        ("jku", "unknown".to_owned()),
        ("x5u", attacker.kid().to_owned()),
        ("x5u", issuer.kid()),
    ] {
        let token = forged(
            &attacker,
            &json!({"alg": "ES256", "typ": "at+jwt", "kid": kid, member: evil}),
            T0 + 60,
        );
        let e = v.verify(&token).await.expect_err("key URL in the token");
        assert_eq!(e.kind(), ErrorKind::UnknownKey, "{member} {kid}");
    }
    // The attacker's key as an embedded `jwk` is refused the same way.
    let token = forged(
        &attacker,
        &json!({"alg": "ES256", "typ": "at+jwt", "kid": attacker.kid(), "jwk": attacker.public_jwk()}),
        T0 + 60,
    );
    assert_eq!(
        v.verify(&token).await.expect_err("embedded key").kind(),
        ErrorKind::UnknownKey
    );
    assert_eq!(trap.connections().await, 0, "never fetched the token's URL");
    assert_eq!(
        server.hits(),
        1,
        "nor refreshed our own set because of such a token"
    );
}

#[tokio::test]
async fn an_unreachable_issuer_with_an_unknown_kid_is_unavailable_never_a_pass() {
    let (clock, shared) = manual_clock();
    let issuer = issuer(Alg::ES256, &shared);
    let server = JwksServer::start(Arc::clone(&issuer)).await;
    let v = verifier(Alg::ES256, &shared, &server.url, 10).await;
    let old = issuer.issue(&alice()).await.expect("issue").token;

    // The issuer rotates, then its JWKS endpoint breaks.
    issuer.rotate_generated().expect("rotate");
    let new = issuer.issue(&alice()).await.expect("issue").token;
    server.set_mode(Mode::Fixed(500, "{\"error\":\"boom\"}".into()));
    clock.advance(10);
    let e = v.verify(&new).await.expect_err("cannot check the new kid");
    assert_eq!(e.kind(), ErrorKind::Unavailable);
    assert_eq!(server.hits(), 2);
    // Within the interval: still 503 (the last fetch failed), without another fetch.
    let e = v.verify(&new).await.expect_err("still cannot");
    assert_eq!(e.kind(), ErrorKind::Unavailable);
    assert_eq!(server.hits(), 2);
    // Cached keys keep working: the old token is fine.
    v.verify(&old).await.expect("cached key");

    // Garbage, an empty set, an HMAC key, a set without kids: each a failed refresh, never a
    // key we would trust.
    for body in [
        "not json".to_owned(),
        "{\"keys\":[]}".to_owned(),
        json!({"keys":[{"kty":"oct","k":"c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI","alg":"HS256","kid":"x"}]}).to_string(),
        json!({"keys":[SigningKey::generate(Alg::ES256).expect("k").public_jwk().map(|mut j| { j.as_object_mut().expect("obj").remove("kid"); j })]}).to_string(),
    ] {
        server.set_mode(Mode::Fixed(200, body));
        clock.advance(10);
        let e = v.verify(&new).await.expect_err("unusable set");
        assert_eq!(e.kind(), ErrorKind::Unavailable);
        v.verify(&old).await.expect("cached key kept");
    }
    let failures = v.jwks_stats().expect("stats").failures;
    assert_eq!(failures, 5);

    // A body over the cap.
    server.set_mode(Mode::Fixed(200, " ".repeat(70 * 1024)));
    clock.advance(10);
    assert_eq!(
        v.verify(&new).await.expect_err("too big").kind(),
        ErrorKind::Unavailable
    );

    // The issuer heals: the next refresh (after the interval) picks the new key up.
    server.set_mode(Mode::Issuer(None));
    let e = v.verify(&new).await.expect_err("inside the interval");
    assert_eq!(
        e.kind(),
        ErrorKind::Unavailable,
        "last fetch failed: still 503"
    );
    clock.advance(10);
    v.verify(&new).await.expect("refreshed");
    v.verify(&old).await.expect("old key still published");
}

#[tokio::test]
async fn a_hanging_issuer_costs_one_timeout() {
    let (clock, shared) = manual_clock();
    let issuer = issuer(Alg::ES256, &shared);
    let server = JwksServer::start(Arc::clone(&issuer)).await;
    let mut jwks = JwksConfig::new(&server.url);
    jwks.timeout = Duration::from_millis(300);
    let v = JwtBackend::verifier_only(JwtConfig::new(Alg::ES256), shared.clone(), jwks, None)
        .await
        .expect("verifier");
    server.set_mode(Mode::Hang);
    clock.advance(10);
    let start = Instant::now();
    let e = v
        .verify(&unknown_kid_token(Alg::ES256, 0, T0))
        .await
        .expect_err("hangs");
    assert_eq!(e.kind(), ErrorKind::Unavailable);
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "gave up after the 300 ms timeout, not {:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn misconfigurations_are_refused_with_a_reason() {
    let (_clock, shared) = manual_clock();
    let issuer = issuer(Alg::ES256, &shared);
    let server = JwksServer::start(Arc::clone(&issuer)).await;
    let build = |config: JwtConfig, url: &str| {
        JwtBackend::verifier_only(config, shared.clone(), JwksConfig::new(url), None)
    };
    let msg = |r: Result<JwtBackend, JwtError>| r.expect_err("refused").to_string();

    let m = msg(build(JwtConfig::new(Alg::HS256), &server.url).await);
    assert!(m.contains("HS256") && m.contains("asymmetric"), "{m}");
    let m = msg(build(
        JwtConfig::new(Alg::ES256).with_revocation(Revocation::Refresh),
        &server.url,
    )
    .await);
    assert!(m.contains("refresh"), "{m}");
    let m = msg(build(
        JwtConfig::new(Alg::ES256).with_revocation(Revocation::Denylist),
        &server.url,
    )
    .await);
    assert!(m.contains("Redis"), "{m}");
    let m = msg(build(
        JwtConfig::new(Alg::ES256),
        "https://issuer/.well-known/jwks.json",
    )
    .await);
    assert!(m.contains("https"), "{m}");
    // The issuer signs ES256; a verifier for EdDSA finds no usable key.
    let m = msg(build(JwtConfig::new(Alg::EdDSA), &server.url).await);
    assert!(m.contains("first fetch"), "{m}");
    // Nobody listening.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr")
    };
    let m = msg(build(
        JwtConfig::new(Alg::ES256),
        &format!("http://{closed}/jwks.json"),
    )
    .await);
    assert!(m.contains("first fetch"), "{m}");
}

#[tokio::test]
async fn a_stale_set_is_refreshed_in_the_background() {
    let (clock, shared) = manual_clock();
    let issuer = issuer(Alg::ES256, &shared);
    let server = JwksServer::start(Arc::clone(&issuer)).await;
    // The issuer says: cache for 60 s (our ceiling is 300 s).
    server.set_mode(Mode::Issuer(Some("public, max-age=60")));
    let v = verifier(Alg::ES256, &shared, &server.url, 10).await;
    let token = issuer.issue(&alice()).await.expect("issue").token;
    clock.advance(59);
    v.verify(&token).await.expect("fresh");
    assert_eq!(server.hits(), 1);
    clock.advance(1);
    // Stale: this verify answers from the cache and starts one refresh in the background.
    v.verify(&token).await.expect("served from the cache");
    eventually("the background refresh", || server.hits() == 2).await;
    eventually("the refresh to land", || {
        v.jwks_stats().expect("stats").fetches == 2
    })
    .await;
    for _ in 0..10 {
        v.verify(&token).await.expect("fresh again");
    }
    assert_eq!(server.hits(), 2);
}

#[tokio::test]
async fn denylist_works_across_issuer_and_verifier_through_one_redis() {
    let redis =
        authbench_services::RedisServer::start().expect("redis-server (install: scripts/setup)");
    let (_clock, shared) = manual_clock();
    let config = JwtConfig::new(Alg::ES256).with_revocation(Revocation::Denylist);
    let issuer = Arc::new(
        JwtBackend::connect(config.clone(), shared.clone(), redis.url().as_str())
            .await
            .expect("issuer"),
    );
    let server = JwksServer::start(Arc::clone(&issuer)).await;
    let v = JwtBackend::verifier_only(
        config,
        shared.clone(),
        JwksConfig::new(&server.url),
        Some(redis.url().into()),
    )
    .await
    .expect("verifier with Redis");
    assert_eq!(v.describe().store_round_trips_per_verify, 1);
    let a = issuer.issue(&alice()).await.expect("issue").token;
    let b = issuer.issue(&alice()).await.expect("issue").token;
    v.verify(&a).await.expect("valid");
    // Logout at the issuer bites on the verifier…
    issuer.revoke(&a).await.expect("revoke");
    assert_eq!(
        v.verify(&a).await.expect_err("revoked").kind(),
        ErrorKind::Revoked
    );
    // …and a logout at the verifier bites on the issuer.
    v.revoke(&b).await.expect("revoke on the verifier");
    assert_eq!(
        issuer.verify(&b).await.expect_err("revoked").kind(),
        ErrorKind::Revoked
    );
    assert_eq!(kid_of(&a), issuer.kid());
}

#[tokio::test]
async fn epoch_logout_everywhere_reaches_a_verifier_through_pub_sub() {
    let redis =
        authbench_services::RedisServer::start().expect("redis-server (install: scripts/setup)");
    let (_clock, shared) = manual_clock();
    let config = JwtConfig::new(Alg::EdDSA).with_revocation(Revocation::Epoch);
    let issuer = Arc::new(
        JwtBackend::connect(config.clone(), shared.clone(), redis.url().as_str())
            .await
            .expect("issuer"),
    );
    let server = JwksServer::start(Arc::clone(&issuer)).await;
    let v = JwtBackend::verifier_only(
        config,
        shared.clone(),
        JwksConfig::new(&server.url),
        Some(redis.url().into()),
    )
    .await
    .expect("verifier with Redis");
    assert!(v.wait_until_subscribed(Duration::from_secs(5)).await);
    let token = issuer.issue(&alice()).await.expect("issue").token;
    v.verify(&token).await.expect("valid");
    issuer.revoke_all("alice").await.expect("logout everywhere");
    let start = Instant::now();
    loop {
        match v.verify(&token).await {
            Err(e) if e.kind() == ErrorKind::Revoked => break,
            Ok(_) if start.elapsed() < Duration::from_secs(2) => {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            other => panic!("expected Revoked within 2 s, got {other:?}"),
        }
    }
}

/// Signs `n` tokens on `issuer` and counts how many `v` rejects; every token must carry `kid`.
async fn rejected_of(issuer: &JwtBackend, v: &JwtBackend, n: usize, kid: &str) -> usize {
    let mut rejected = 0;
    for _ in 0..n {
        let token = issuer.issue(&alice()).await.expect("issue").token;
        assert_eq!(kid_of(&token), kid);
        if v.verify(&token).await.is_err() {
            rejected += 1;
        }
    }
    rejected
}

/// The gap, and its fix. Without pre-publishing, a verifier whose cache is as fresh as it can
/// be at the moment of rotation rejects the new key's tokens until its refresh interval has
/// passed. With the next key pre-published one refresh interval ahead, the same verifier
/// rejects none, and one that refreshed just before the switch needs no fetch at all.
#[tokio::test]
async fn a_pre_published_key_leaves_no_gap_for_a_verifier_refreshed_just_before() {
    const INTERVAL: u64 = 10;
    // Today's immediate switch: the gap exists (this is what the fix must remove).
    let (clock, shared) = manual_clock();
    let issuer = issuer(Alg::ES256, &shared);
    let server = JwksServer::start(Arc::clone(&issuer)).await;
    let v = verifier(Alg::ES256, &shared, &server.url, INTERVAL).await;
    let r = issuer.rotate_generated().expect("rotate");
    assert_eq!(r.signs_from, T0, "no pre-publishing: signs at once");
    assert_eq!(rejected_of(&issuer, &v, 20, &r.kid).await, 20, "the gap");
    clock.advance(INTERVAL);
    assert_eq!(
        rejected_of(&issuer, &v, 20, &r.kid).await,
        0,
        "after one interval"
    );

    // Pre-published by one refresh interval.
    let (clock, shared) = manual_clock();
    let mut config = JwtConfig::new(Alg::ES256);
    config.key_prepublish_secs = INTERVAL;
    let issuer = Arc::new(JwtBackend::new(config, shared.clone()).expect("issuer"));
    let server = JwksServer::start(Arc::clone(&issuer)).await;
    // Fetched at the very moment of the rotation: the case that fails above.
    let at_rotation = verifier(Alg::ES256, &shared, &server.url, INTERVAL).await;
    let old_kid = issuer.kid();
    let r = issuer.rotate_generated().expect("rotate");
    assert_eq!(
        (r.previous_kid.as_str(), r.signs_from),
        (old_kid.as_str(), T0 + INTERVAL)
    );
    assert_eq!(
        r.previous_published_until,
        T0 + INTERVAL + issuer.config().policy.ttl_secs + issuer.config().policy.leeway_secs,
        "the old key's last token is signed just before the switch"
    );
    let jwks = issuer.published_keys().expect("jwks");
    assert!(jwks.contains(&r.kid), "published at once: {jwks}");
    assert!(
        matches!(issuer.rotate_generated(), Err(JwtError::Config(_))),
        "one scheduled rotation at a time"
    );
    assert_eq!(issuer.pending_rotation().expect("pending"), Some(r.clone()));
    // Until the switch the old key signs, and everyone accepts it.
    assert_eq!(rejected_of(&issuer, &at_rotation, 5, &old_kid).await, 0);
    let old_token = issuer.issue(&alice()).await.expect("issue").token;
    // A second verifier refreshes just before the switch.
    clock.advance(INTERVAL - 1);
    let just_before = verifier(Alg::ES256, &shared, &server.url, INTERVAL).await;
    let hits = server.hits();
    clock.advance(1);
    assert_eq!(
        rejected_of(&issuer, &just_before, 50, &r.kid).await,
        0,
        "refreshed just before the switch: 0 rejected"
    );
    assert_eq!(server.hits(), hits, "and no fetch: it already knew the key");
    assert_eq!(
        rejected_of(&issuer, &at_rotation, 50, &r.kid).await,
        0,
        "fetched at the rotation: 0 rejected (one refresh, allowed by then)"
    );
    assert_eq!(issuer.kid(), r.kid);
    assert_eq!(issuer.pending_rotation().expect("none pending"), None);
    for v in [&at_rotation, &just_before] {
        v.verify(&old_token).await.expect("old tokens still verify");
    }
    // The old key leaves the JWKS when its last token has expired.
    clock.set(r.previous_published_until);
    let jwks = issuer.published_keys().expect("jwks");
    assert!(!jwks.contains(&old_kid), "{jwks}");
    assert!(jwks.contains(&r.kid));
}
