//! Logout, "log out everywhere", and listing a user's sessions.

mod common;

use authbench_core::{Authenticator, Clock, ErrorKind};
use common::{alice, bob, fixture, raw};

#[tokio::test]
async fn revoke_ends_one_session_at_once_and_the_index_drops_it() {
    let f = fixture().await;
    let a1 = f.backend.issue(&alice()).await.expect("issue").token;
    let a2 = f.backend.issue(&alice()).await.expect("issue").token;
    assert_eq!(
        f.backend.list_sessions("alice").await.expect("list").len(),
        2
    );

    f.backend.revoke(&a1).await.expect("revoke");
    let e = f.backend.verify(&a1).await.expect_err("revoked");
    assert_eq!(e.kind(), ErrorKind::UnknownSession);
    f.backend
        .verify(&a2)
        .await
        .expect("the other session lives");

    // A logout names no index (the ID carries only the slot tag), so the entry lingers until
    // the next list, update or revoke-all of the user, which drops it.
    let mut conn = raw(&f.redis).await;
    let keys: Vec<String> = common::keys(&mut conn, "authbench:user:*").await;
    assert_eq!(common::index_members(&mut conn, &keys[0]).await.len(), 2);
    let listed = f.backend.list_sessions("alice").await.expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(
        common::index_members(&mut conn, &keys[0]).await.len(),
        1,
        "list dropped the dead entry"
    );
}

#[tokio::test]
async fn revoke_all_ends_every_session_of_one_user_only() {
    let f = fixture().await;
    let mut alices = Vec::new();
    for _ in 0..5 {
        alices.push(f.backend.issue(&alice()).await.expect("issue").token);
    }
    let bobs = f.backend.issue(&bob()).await.expect("issue").token;

    f.backend.revoke_all("alice").await.expect("revoke_all");
    for t in &alices {
        let e = f
            .backend
            .verify(t)
            .await
            .expect_err("alice logged out everywhere");
        assert_eq!(e.kind(), ErrorKind::UnknownSession);
    }
    let p = f.backend.verify(&bobs).await.expect("bob untouched");
    assert_eq!(p.subject, "bob");
    assert!(
        f.backend
            .list_sessions("alice")
            .await
            .expect("list")
            .is_empty()
    );

    // Nothing of alice's is left in Redis; bob's record and index remain.
    let mut conn = raw(&f.redis).await;
    let keys: Vec<String> = common::keys(&mut conn, "*").await;
    assert_eq!(keys.len(), 2, "{keys:?}");

    // And alice can log in again.
    let again = f.backend.issue(&alice()).await.expect("issue").token;
    f.backend.verify(&again).await.expect("new login works");
}

#[tokio::test]
async fn list_sessions_reports_live_sessions_and_skips_dead_ones() {
    let f = fixture().await;
    let start = f.clock.now();
    let first = f.backend.issue(&alice()).await.expect("issue").token;
    f.clock.advance(10);
    let second = f.backend.issue(&alice()).await.expect("issue").token;
    f.clock.advance(5);
    let p = f.backend.verify(&first).await.expect("verify");

    let list = f.backend.list_sessions("alice").await.expect("list");
    assert_eq!(list.len(), 2);
    assert_eq!(list[0].issued_at, start, "oldest first");
    assert_eq!(list[0].last_used, Some(start + 15));
    assert_eq!(list[0].credential_id, p.credential_id);
    assert_eq!(list[1].issued_at, start + 10);
    assert_eq!(list[1].last_used, Some(start + 10));
    assert_eq!(list[1].expires_at, Some(start + 10 + 1_800));
    assert!(
        list.iter()
            .all(|s| !first.contains(&s.credential_id) && !second.contains(&s.credential_id))
    );

    // A record deleted behind the backend's back (as Redis's TTL would) is skipped and pruned.
    let mut conn = raw(&f.redis).await;
    let keys: Vec<String> = common::keys(&mut conn, "authbench:session:*").await;
    let _: () = redis::cmd("DEL")
        .arg(&keys[0])
        .query_async(&mut conn)
        .await
        .expect("del");
    assert_eq!(
        f.backend.list_sessions("alice").await.expect("list").len(),
        1
    );

    // A session past its idle timeout by our clock is not listed either.
    f.clock.advance(1_800 + 10);
    assert!(
        f.backend
            .list_sessions("alice")
            .await
            .expect("list")
            .is_empty()
    );
    assert!(
        f.backend
            .list_sessions("nobody")
            .await
            .expect("list")
            .is_empty()
    );
}
