//! `epoch` against a real Redis: logout-all on one instance reaches another through pub/sub
//! (measured), the cached path makes no round trip, the cache is never trusted without a live
//! subscription (fail closed when Redis is gone), and the subscriber heals by itself.

mod strategy;

use authbench_core::{Authenticator, Clock, ErrorKind, RevocationModel};
use authbench_jwt::{Revocation, propagation_delay};
use std::time::{Duration, Instant};
use strategy::{Fixture, kind, who};

/// Polls `cond` every 10 ms for up to `within`; whether it became true.
async fn eventually(within: Duration, mut cond: impl AsyncFnMut() -> bool) -> bool {
    let until = Instant::now() + within;
    loop {
        if cond().await {
            return true;
        }
        if Instant::now() >= until {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describes_itself_and_revoke_is_unsupported() {
    let f = Fixture::new(Revocation::Epoch);
    let backend = f.backend().await;
    let d = backend.describe();
    assert_eq!(d.name, "jwt-ES256-epoch");
    assert!(d.stateful);
    assert_eq!(d.revocation, RevocationModel::Epoch);
    assert_eq!(d.store_round_trips_per_verify, 0);
    let token = backend.issue(&who("alice")).await.expect("issue").token;
    assert_eq!(kind(backend.revoke(&token).await), ErrorKind::Unsupported);
    assert_eq!(
        kind(backend.update_identity(&who("alice")).await),
        ErrorKind::Unsupported
    );
    assert_eq!(kind(backend.refresh("x").await), ErrorKind::Unsupported);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_all_on_one_instance_reaches_the_other_within_a_bound() {
    let f = Fixture::new(Revocation::Epoch);
    let (a, b) = f.pair().await;
    let mut delays = Vec::new();
    for i in 0..20 {
        let subject = format!("user{i}");
        let token = a.issue(&who(&subject)).await.expect("issue").token;
        let bystander = a.issue(&who("bystander")).await.expect("issue").token;
        // B has seen the user: its cache holds "no epoch" for them (negative caching).
        b.verify(&token).await.expect("verify before");
        let delay = propagation_delay(&*a, &*b, &subject, &token, Duration::from_secs(1))
            .await
            .expect("B sees A's logout-all within 1 s");
        delays.push(delay);
        b.verify(&bystander).await.expect("other users untouched");
    }
    delays.sort();
    let (median, max) = (delays[delays.len() / 2], delays[delays.len() - 1]);
    println!("epoch propagation A→B over 20 logouts: median {median:?}, max {max:?}");
    assert!(max < Duration::from_secs(1), "{delays:?}");
    let stats = b.epoch_stats().expect("epoch");
    assert_eq!(stats.messages, 20, "{stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cached_path_makes_no_round_trip() {
    let f = Fixture::new(Revocation::Epoch);
    let backend = f.backend().await;
    let token = backend.issue(&who("alice")).await.expect("issue").token;
    backend
        .verify(&token)
        .await
        .expect("the issue's epoch read filled the cache");
    let lookups = backend.epoch_stats().expect("epoch").redis_lookups;
    assert_eq!(
        lookups, 0,
        "no GET: issue read the epoch from Redis and cached it"
    );
    let before = f.data_calls().await;
    for _ in 0..100 {
        backend.verify(&token).await.expect("verify");
    }
    assert_eq!(
        f.data_calls().await,
        before,
        "100 cached verifies, 0 Redis commands"
    );
    assert_eq!(backend.epoch_stats().expect("epoch").redis_lookups, 0);
    // And a revoked user's tokens are rejected from the cache as well.
    backend.revoke_all("alice").await.expect("revoke_all");
    let before = f.data_calls().await;
    assert_eq!(kind(backend.verify(&token).await), ErrorKind::Revoked);
    assert_eq!(f.data_calls().await, before);
    // A fresh login at once (same second) passes, its verify still from the cache: issue
    // costs one round trip (the epoch read), verify none.
    let scripts = f.calls("evalsha").await;
    let again = backend.issue(&who("alice")).await.expect("issue").token;
    assert_eq!(f.calls("evalsha").await, scripts + 1, "issue: one script");
    let before = f.data_calls().await;
    backend
        .verify(&again)
        .await
        .expect("login right after logout-all");
    assert_eq!(f.data_calls().await, before, "verify: none");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_right_after_logout_all_works_on_every_instance_200_times() {
    let f = Fixture::new(Revocation::Epoch);
    let (a, b) = f.pair().await;
    let mut previous = a.issue(&who("alice")).await.expect("issue").token;
    b.verify(&previous).await.expect("B caches alice");
    for i in 0..200 {
        let (revoker, issuer) = if i % 2 == 0 { (&a, &b) } else { (&b, &a) };
        revoker.revoke_all("alice").await.expect("revoke_all");
        // The issuer may not have heard of the raise yet: the token must work anyway,
        // everywhere, at once, because issue read the epoch from Redis.
        let fresh = issuer.issue(&who("alice")).await.expect("issue").token;
        for (name, verifier) in [("revoker", revoker), ("issuer", issuer)] {
            verifier.verify(&fresh).await.unwrap_or_else(|e| {
                panic!("round {i}: fresh login dead on arrival at the {name}: {e}")
            });
        }
        assert_eq!(
            kind(revoker.verify(&previous).await),
            ErrorKind::Revoked,
            "round {i}: the revoking instance rejects the older token at once"
        );
        previous = fresh;
    }
}

/// A cache may remember an epoch Redis has since forgotten (the key expires `ttl + leeway +
/// 1` s after its last raise). A login after that must not be rejected by the stale entry:
/// the epoch it reads is created at the floor, above anything forgotten.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cache_remembering_a_forgotten_epoch_accepts_the_next_login() {
    let f = Fixture::new(Revocation::Epoch);
    let (a, b) = f.pair().await;
    let old = a.issue(&who("alice")).await.expect("issue").token;
    b.verify(&old).await.expect("B caches alice");
    a.revoke_all("alice").await.expect("revoke_all");
    assert!(
        eventually(Duration::from_secs(1), async || b
            .verify(&old)
            .await
            .is_err())
        .await,
        "B heard the raise"
    );
    f.clock
        .set(f.clock.now() + f.config.policy.ttl_secs + f.config.policy.leeway_secs + 1);
    let mut conn = f.raw().await;
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("*:jwt:epoch:*")
        .query_async(&mut conn)
        .await
        .expect("KEYS");
    assert_eq!(keys.len(), 1, "{keys:?}");
    let _: u64 = redis::cmd("DEL")
        .arg(&keys)
        .query_async(&mut conn)
        .await
        .expect("DEL, as the TTL would");
    let fresh = a.issue(&who("alice")).await.expect("issue").token;
    b.verify(&fresh)
        .await
        .expect("B's remembered epoch is below the new floor");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fails_closed_without_a_subscription_and_heals_after_restart() {
    let mut f = Fixture::new(Revocation::Epoch);
    let (a, b) = f.pair().await;
    let token = a.issue(&who("alice")).await.expect("issue").token;
    b.verify(&token).await.expect("cached");

    f.redis.stop();
    // The subscriber notices the closed socket and stops trusting the cache…
    assert!(
        eventually(Duration::from_secs(1), async || !b
            .epoch_stats()
            .expect("epoch")
            .subscribed)
        .await,
        "subscription still marked live after Redis stopped"
    );
    // …so verify asks Redis, which is not there: Unavailable, fast.
    let t = Instant::now();
    assert_eq!(kind(b.verify(&token).await), ErrorKind::Unavailable);
    let stopped = t.elapsed();
    assert!(stopped < Duration::from_secs(1), "{stopped:?}");
    assert_eq!(
        b.epoch_stats().expect("epoch").cached_subjects,
        0,
        "flushed"
    );
    assert_eq!(kind(a.revoke_all("alice").await), ErrorKind::Unavailable);

    // Redis returns (empty: no persistence). Both resubscribe by themselves.
    f.redis.restart().expect("restart");
    let t = Instant::now();
    assert!(b.wait_until_subscribed(Duration::from_secs(3)).await);
    assert!(a.wait_until_subscribed(Duration::from_secs(3)).await);
    println!(
        "epoch: Unavailable after stop in {stopped:?}; resubscribed {:?} after restart",
        t.elapsed()
    );
    let stats = b.epoch_stats().expect("epoch");
    assert_eq!(stats.subscriptions, 2, "{stats:?}");
    b.verify(&token).await.expect("works again, first call");
    // And propagation works again through the new subscription.
    let delay = propagation_delay(&*a, &*b, "alice", &token, Duration::from_secs(1))
        .await
        .expect("propagates after the restart");
    assert!(delay < Duration::from_secs(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_redis_is_noticed_by_the_health_ping() {
    let mut f = Fixture::new(Revocation::Epoch);
    let backend = f.backend().await;
    let token = backend.issue(&who("alice")).await.expect("issue").token;
    backend.verify(&token).await.expect("cached");
    f.redis.pause().expect("pause");
    // Ping every 500 ms, answer due within 500 ms: down within ~1 s.
    let down = eventually(Duration::from_secs(2), async || {
        !backend.epoch_stats().expect("epoch").subscribed
    })
    .await;
    let t = Instant::now();
    let verdict = backend.verify(&token).await;
    let elapsed = t.elapsed();
    f.redis.resume().expect("resume");
    assert!(down, "a frozen Redis must not leave the cache trusted");
    assert_eq!(kind(verdict), ErrorKind::Unavailable);
    assert!(elapsed < Duration::from_millis(1600), "{elapsed:?}");
    assert!(backend.wait_until_subscribed(Duration::from_secs(3)).await);
    backend.verify(&token).await.expect("healed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insecure_fail_open_changes_only_what_it_says() {
    let mut f = Fixture::with(Revocation::Epoch, |c| c.insecure_fail_open = true);
    let backend = f.backend().await;
    assert_eq!(
        backend.describe().name,
        "jwt-ES256-epoch-insecure-fail-open"
    );
    let token = backend.issue(&who("alice")).await.expect("issue").token;
    f.redis.stop();
    assert!(
        eventually(Duration::from_secs(1), async || !backend
            .epoch_stats()
            .expect("epoch")
            .subscribed)
        .await
    );
    backend.verify(&token).await.expect("fail-open accepts");
    assert_eq!(
        kind(backend.revoke_all("alice").await),
        ErrorKind::Unavailable
    );
    assert!(kind(backend.verify("x.y.z").await).is_rejected());
}
