//! Failure modes: garbage never reaches Redis, a dead or hung Redis fails closed within the
//! deadline, and the same backend heals when Redis returns.

mod common;

use authbench_core::{Authenticator, ErrorClass, ErrorKind, ManualClock};
use authbench_session::{SessionBackend, SessionConfig};
use common::{alice, fixture};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The contract's "about a second", with room for a loaded CI machine.
const FAIL_FAST: Duration = Duration::from_millis(1_500);

#[tokio::test]
async fn malformed_input_is_refused_without_redis() {
    let mut f = fixture().await;
    f.redis.stop();
    let id_len = f.backend.id_len();
    // A well-formed ID: tag, dot, secret.
    let well_formed = format!("AA.{}", "A".repeat(id_len - 3));
    for (what, input) in [
        ("empty", String::new()),
        ("short", well_formed[1..].to_owned()),
        ("long", format!("{well_formed}A")),
        ("bad alphabet", "!".repeat(id_len)),
        ("padding", format!("{}=", &well_formed[..id_len - 1])),
        ("no tag", "A".repeat(id_len)),
        ("bad tag", format!("A!.{}", "A".repeat(id_len - 3))),
    ] {
        let e = f.backend.verify(&input).await.expect_err(what);
        assert!(
            matches!(e.kind(), ErrorKind::Malformed | ErrorKind::Missing),
            "{what}: {e} (Redis is down, so anything but a local rejection is wrong)"
        );
    }
    let e = f
        .backend
        .verify(&"A".repeat(64 * 1024))
        .await
        .expect_err("huge");
    assert_eq!(e.kind(), ErrorKind::TooLarge);
    // A well-formed ID does need Redis, and Redis is down: fail closed.
    let e = f.backend.verify(&well_formed).await.expect_err("down");
    assert_eq!(e.class(), ErrorClass::Unavailable, "{e}");
}

#[tokio::test]
async fn a_stopped_redis_is_unavailable_fast_and_the_backend_heals() {
    let mut f = fixture().await;
    let before = f.backend.issue(&alice()).await.expect("issue").token;
    f.backend.verify(&before).await.expect("verify");

    f.redis.stop();
    // The first call finds the old socket dead, later ones find nobody listening: both must
    // fail closed, quickly.
    for attempt in 0..3 {
        let t = Instant::now();
        let e = f.backend.verify(&before).await.expect_err("Redis is down");
        let took = t.elapsed();
        assert_eq!(e.kind(), ErrorKind::Unavailable, "attempt {attempt}: {e}");
        assert!(
            took < FAIL_FAST,
            "attempt {attempt}: Unavailable took {took:?}"
        );
        eprintln!(
            "stopped Redis: attempt {attempt} → {} in {took:?}",
            e.kind()
        );
    }
    let e = f
        .backend
        .issue(&alice())
        .await
        .expect_err("cannot issue either");
    assert_eq!(e.kind(), ErrorKind::Unavailable);
    assert!(!e.to_string().contains(&before), "no credential in errors");

    f.redis.restart().unwrap_or_else(|e| panic!("{e}"));
    let t = Instant::now();
    let mut failures = 0;
    let fresh = loop {
        match f.backend.issue(&alice()).await {
            Ok(c) => break c.token,
            Err(e) if t.elapsed() < Duration::from_secs(5) => {
                failures += 1;
                assert_eq!(e.kind(), ErrorKind::Unavailable, "{e}");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(e) => panic!("the backend did not heal within 5 s: {e}"),
        }
    };
    eprintln!(
        "healed {:?} after restart ({failures} failed calls first)",
        t.elapsed()
    );
    f.backend
        .verify(&fresh)
        .await
        .expect("same backend object, working again");
    // Redis had no persistence: the pre-outage session is gone (fail closed, not resurrected).
    let e = f
        .backend
        .verify(&before)
        .await
        .expect_err("lost with the restart");
    assert_eq!(e.kind(), ErrorKind::UnknownSession);
}

#[tokio::test]
async fn a_hung_redis_is_unavailable_after_the_response_timeout() {
    let mut f = fixture().await;
    let token = f.backend.issue(&alice()).await.expect("issue").token;
    f.redis.pause().expect("SIGSTOP");
    let t = Instant::now();
    let e = f.backend.verify(&token).await.expect_err("hung");
    let took = t.elapsed();
    f.redis.resume().expect("SIGCONT");
    assert_eq!(e.kind(), ErrorKind::Unavailable, "{e}");
    assert!(
        took >= Duration::from_millis(400) && took < FAIL_FAST,
        "a hung Redis should fail at the 500 ms response timeout, took {took:?}"
    );
    eprintln!("hung Redis: {} in {took:?}", e.kind());
    // Thawed: the same connection serves again.
    let t = Instant::now();
    loop {
        match f.backend.verify(&token).await {
            Ok(_) => break,
            Err(e) if t.elapsed() < Duration::from_secs(5) => {
                assert_eq!(e.kind(), ErrorKind::Unavailable, "{e}");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(e) => panic!("no recovery after resume: {e}"),
        }
    }
}

#[tokio::test]
async fn connect_fails_fast_and_names_the_address_but_not_the_password() {
    // A port nobody listens on: bind, note, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let config = SessionConfig::new(format!("redis://:hunter2@127.0.0.1:{port}/"));
    let t = Instant::now();
    let e = SessionBackend::connect(config, Arc::new(ManualClock::new(0)))
        .await
        .expect_err("nothing listens there");
    assert!(t.elapsed() < FAIL_FAST, "took {:?}", t.elapsed());
    let msg = e.to_string();
    assert!(msg.contains(&format!("127.0.0.1:{port}")), "{msg}");
    assert!(!msg.contains("hunter2"), "{msg}");
    assert_eq!(
        authbench_core::Error::from(e).kind(),
        ErrorKind::Unavailable
    );

    let bad = SessionConfig {
        id_bytes: 8,
        ..SessionConfig::default()
    };
    let e = SessionBackend::connect(bad, Arc::new(ManualClock::new(0)))
        .await
        .expect_err("64-bit IDs are refused");
    assert!(e.to_string().contains("128-bit"), "{e}");
}
