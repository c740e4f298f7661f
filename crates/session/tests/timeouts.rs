//! Idle and absolute timeouts, judged against the injected clock, and Redis's TTL behind them.

mod common;

use authbench_core::{Authenticator, Clock, ErrorKind};
use common::{alice, fixture_with, raw};

const IDLE: u64 = 1_800;
const ABSOLUTE: u64 = 28_800;

async fn only_session_key(f: &common::Fixture) -> (redis::aio::MultiplexedConnection, String) {
    let mut conn = raw(&f.redis).await;
    let keys: Vec<String> = common::keys(&mut conn, "authbench:session:*").await;
    assert_eq!(keys.len(), 1, "{keys:?}");
    (conn, keys[0].clone())
}

/// The record's expiry as an absolute Unix time (`EXPIRETIME`): -2 once it is gone.
async fn expiry_of_only_session(f: &common::Fixture) -> i64 {
    let (mut conn, key) = only_session_key(f).await;
    redis::cmd("EXPIRETIME")
        .arg(&key)
        .query_async(&mut conn)
        .await
        .expect("expiretime")
}

#[tokio::test]
async fn idle_timeout_slides_with_use_and_ends_an_unused_session() {
    let f = fixture_with(|_| {}).await;
    let token = f.backend.issue(&alice()).await.expect("issue").token;
    let start = f.clock.now();

    // One second short of the idle timeout: still good, and the use slides the deadline.
    f.clock.advance(IDLE - 1);
    let p = f
        .backend
        .verify(&token)
        .await
        .expect("just inside the idle timeout");
    assert_eq!(p.expires_at, Some(start + IDLE - 1 + IDLE), "deadline slid");
    assert_eq!(p.issued_at, start);

    // Another idle-1: fine again, because the previous verify counted as activity.
    f.clock.advance(IDLE - 1);
    f.backend
        .verify(&token)
        .await
        .expect("activity slid the idle timeout");

    // Now a full idle period without use: over.
    f.clock.advance(IDLE);
    let e = f.backend.verify(&token).await.expect_err("idle");
    assert_eq!(e.kind(), ErrorKind::Expired, "{e}");
    assert!(e.to_string().contains("idle"), "{e}");
    // The record was deleted: next time it is simply unknown.
    let e = f.backend.verify(&token).await.expect_err("gone");
    assert_eq!(e.kind(), ErrorKind::UnknownSession, "{e}");
}

#[tokio::test]
async fn absolute_timeout_ends_even_a_busy_session() {
    let f = fixture_with(|_| {}).await;
    let token = f.backend.issue(&alice()).await.expect("issue").token;
    let start = f.clock.now();
    // Use it every 20 minutes for 8 hours: the idle timeout never fires.
    let step = 1_200;
    let mut elapsed = 0;
    while elapsed + step < ABSOLUTE {
        f.clock.advance(step);
        elapsed += step;
        let p = f
            .backend
            .verify(&token)
            .await
            .unwrap_or_else(|e| panic!("busy session rejected after {elapsed} s: {e}"));
        let idle_deadline = start + elapsed + IDLE;
        assert_eq!(p.expires_at, Some(idle_deadline.min(start + ABSOLUTE)));
    }
    f.clock.set(start + ABSOLUTE);
    let e = f.backend.verify(&token).await.expect_err("absolute");
    assert_eq!(e.kind(), ErrorKind::Expired, "{e}");
    assert!(e.to_string().contains("absolute"), "{e}");
}

/// The key's expiry *is* the idle deadline, written in the backend's clock (`EXAT`), so Redis
/// itself ends an unused session. It is deliberately not capped at the absolute deadline (that
/// would need the record before the write, i.e. a script): a verify past the absolute deadline
/// refuses and deletes the record instead, which this test pins down too.
#[tokio::test]
async fn redis_expiry_is_the_idle_deadline_and_the_absolute_deadline_deletes() {
    let f = fixture_with(|c| {
        c.idle_timeout_secs = 600;
        c.absolute_timeout_secs = 900;
    })
    .await;
    let start = f.clock.now();
    let token = f.backend.issue(&alice()).await.expect("issue").token;
    assert_eq!(
        expiry_of_only_session(&f).await,
        i64::try_from(start + 600).unwrap(),
        "expiry at issue = issue time + idle timeout"
    );

    // 500 s later (by our clock) a verify slides the expiry to now + idle, past the absolute
    // deadline (900): Redis would keep the record, but the backend will not accept it.
    f.clock.advance(500);
    let p = f.backend.verify(&token).await.expect("verify");
    assert_eq!(
        p.expires_at,
        Some(start + 900),
        "reported: the absolute one"
    );
    assert_eq!(
        expiry_of_only_session(&f).await,
        i64::try_from(start + 1_100).unwrap(),
        "expiry slid to now + idle"
    );

    f.clock.set(start + 900);
    let e = f.backend.verify(&token).await.expect_err("absolute");
    assert_eq!(e.kind(), ErrorKind::Expired, "{e}");
    let mut conn = raw(&f.redis).await;
    let left: Vec<String> = common::keys(&mut conn, "authbench:session:*").await;
    assert!(
        left.is_empty(),
        "refused at the absolute deadline and deleted: {left:?}"
    );
}

#[tokio::test]
async fn a_clock_that_steps_back_does_not_extend_or_break_a_session() {
    let f = fixture_with(|_| {}).await;
    let token = f.backend.issue(&alice()).await.expect("issue").token;
    let start = f.clock.now();
    f.clock.advance(100);
    f.backend.verify(&token).await.expect("verify");
    // NTP steps the clock back by a minute: the session still works, and its new idle deadline
    // is one idle period from the clock that judged it (the stepped-back one), never more.
    f.clock.set(start + 40);
    let p = f
        .backend
        .verify(&token)
        .await
        .expect("verify after step back");
    assert_eq!(p.expires_at, Some(start + 40 + IDLE));
    // And the shortened deadline holds: one idle period of disuse ends it.
    f.clock.set(start + 40 + IDLE);
    let e = f.backend.verify(&token).await.expect_err("idle");
    assert_eq!(e.kind(), ErrorKind::Expired, "{e}");
}

#[tokio::test]
async fn absolute_deadline_is_exact_to_the_second() {
    let f = fixture_with(|c| {
        c.idle_timeout_secs = 600;
        c.absolute_timeout_secs = 900;
    })
    .await;
    let token = f.backend.issue(&alice()).await.expect("issue").token;
    let start = f.clock.now();
    f.clock.set(start + 500);
    f.backend.verify(&token).await.expect("inside both");
    // One second before the absolute deadline, with recent use: accepted, and the deadline it
    // reports is the absolute one, not the (later) idle one.
    f.clock.set(start + 899);
    let p = f.backend.verify(&token).await.expect("one second left");
    assert_eq!(p.expires_at, Some(start + 900));
    f.clock.set(start + 900);
    let e = f.backend.verify(&token).await.expect_err("absolute");
    assert_eq!(e.kind(), ErrorKind::Expired, "{e}");
    assert!(e.to_string().contains("absolute"), "{e}");
}

#[tokio::test]
async fn listing_applies_both_timeouts_by_the_clock() {
    let f = fixture_with(|c| {
        c.idle_timeout_secs = 600;
        c.absolute_timeout_secs = 900;
    })
    .await;
    let start = f.clock.now();
    let busy = f.backend.issue(&alice()).await.expect("issue").token;
    f.clock.set(start + 400);
    let _idle = f.backend.issue(&alice()).await.expect("issue").token;
    f.backend.verify(&busy).await.expect("busy, in use");
    f.clock.set(start + 800);
    f.backend.verify(&busy).await.expect("busy, in use");
    assert_eq!(
        f.backend.list_sessions("alice").await.expect("list").len(),
        2
    );
    // At +1000 the first is past its absolute deadline (900) despite recent use, the second
    // past its idle one (400 + 600): Redis still holds both (its TTL is only garbage
    // collection, and our clock is ahead of it), but neither is listed.
    f.clock.set(start + 1_000);
    assert!(
        f.backend
            .list_sessions("alice")
            .await
            .expect("list")
            .is_empty()
    );
}
