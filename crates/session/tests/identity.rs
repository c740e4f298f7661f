//! `update_identity`: rewriting what a user's live sessions say (an admin changed their roles or
//! moved them to another tenant), and `list_credentials`, the trait's view of `list_sessions`.

mod common;

use authbench_core::{Authenticator, Clock, ErrorKind, Identity};
use common::{alice, bob, fixture, fixture_with, raw};

fn promoted_alice() -> Identity {
    Identity {
        subject: "alice".into(),
        tenant: "globex".into(),
        roles: vec!["user".into(), "auditor".into()],
    }
}

async fn keys(f: &common::Fixture, pattern: &str) -> Vec<String> {
    let mut conn = raw(&f.redis).await;
    let mut keys: Vec<String> = common::keys(&mut conn, pattern).await;
    keys.sort();
    keys
}

#[tokio::test]
async fn update_identity_rewrites_every_live_session_of_the_user_only() {
    let f = fixture().await;
    let a1 = f.backend.issue(&alice()).await.expect("issue").token;
    let a2 = f.backend.issue(&alice()).await.expect("issue").token;
    let b = f.backend.issue(&bob()).await.expect("issue").token;

    assert_eq!(
        f.backend
            .update_sessions(&promoted_alice())
            .await
            .expect("update"),
        2
    );
    for token in [&a1, &a2] {
        let p = f.backend.verify(token).await.expect("still alive");
        assert_eq!(p.subject, "alice");
        assert_eq!(p.tenant, "globex", "the next request sees the new tenant");
        assert_eq!(p.roles, vec!["user", "auditor"], "and the new roles");
    }
    let p = f.backend.verify(&b).await.expect("bob");
    assert_eq!(
        (p.tenant.as_str(), p.roles.as_slice()),
        ("globex", &["user".to_owned()][..])
    );

    // Through the trait, and back: demoting takes effect just as fast.
    f.backend.update_identity(&alice()).await.expect("update");
    let p = f.backend.verify(&a1).await.expect("alive");
    assert_eq!(
        (p.tenant.as_str(), p.roles.as_slice()),
        ("acme", &["user".to_owned()][..])
    );

    // A user with no sessions is not an error.
    let nobody = Identity {
        subject: "nobody".into(),
        tenant: "acme".into(),
        roles: vec![],
    };
    assert_eq!(f.backend.update_sessions(&nobody).await.expect("update"), 0);
    assert!(
        keys(&f, "authbench:user:*").await.len() == 2,
        "no index made for nobody"
    );
}

#[tokio::test]
async fn update_identity_neither_extends_nor_revives_a_session() {
    let f = fixture_with(|c| {
        c.idle_timeout_secs = 600;
        c.absolute_timeout_secs = 900;
    })
    .await;
    let start = f.clock.now();
    let live = f.backend.issue(&alice()).await.expect("issue").token;
    let revoked = f.backend.issue(&alice()).await.expect("issue").token;
    f.backend.revoke(&revoked).await.expect("revoke");
    let before = keys(&f, "*").await;

    f.clock.advance(300);
    assert_eq!(
        f.backend
            .update_sessions(&promoted_alice())
            .await
            .expect("update"),
        1,
        "only the live session is rewritten"
    );
    assert_eq!(keys(&f, "*").await, before, "no record re-created");
    let e = f.backend.verify(&revoked).await.expect_err("still revoked");
    assert_eq!(e.kind(), ErrorKind::UnknownSession);

    // An update is not activity: the idle deadline still runs from the last *use* (issue).
    let listed = f.backend.list_sessions("alice").await.expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].last_used, Some(start));
    assert_eq!(listed[0].expires_at, Some(start + 600));
    f.clock.set(start + 600);
    let e = f.backend.verify(&live).await.expect_err("idle");
    assert_eq!(e.kind(), ErrorKind::Expired);
}

#[tokio::test]
async fn update_identity_prunes_dead_index_entries() {
    let f = fixture().await;
    let _gone = f.backend.issue(&alice()).await.expect("issue").token;
    let kept = f.backend.issue(&alice()).await.expect("issue").token;
    let kept_id = f.backend.verify(&kept).await.expect("verify").credential_id;
    // Delete one record behind the backend's back, as Redis's TTL would.
    let mut conn = raw(&f.redis).await;
    for key in keys(&f, "authbench:session:*").await {
        if !key.contains(&kept_id) {
            let _: () = redis::cmd("DEL")
                .arg(&key)
                .query_async(&mut conn)
                .await
                .expect("del");
        }
    }
    assert_eq!(
        f.backend
            .update_sessions(&promoted_alice())
            .await
            .expect("update"),
        1
    );
    let index = keys(&f, "authbench:user:*").await;
    let members = common::index_members(&mut conn, &index[0]).await;
    assert_eq!(members.len(), 1, "the dead entry was dropped: {members:?}");
    assert!(members[0].starts_with(&kept_id));
}

#[tokio::test]
async fn list_credentials_is_list_sessions_in_the_cores_words() {
    let f = fixture().await;
    let start = f.clock.now();
    let token = f.backend.issue(&alice()).await.expect("issue").token;
    f.clock.advance(7);
    let p = f.backend.verify(&token).await.expect("verify");
    let listed = f.backend.list_credentials("alice").await.expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].credential_id, p.credential_id);
    assert_eq!(listed[0].issued_at, start);
    assert_eq!(listed[0].last_used, Some(start + 7));
    assert_eq!(listed[0].expires_at, p.expires_at);
    f.backend.revoke(&token).await.expect("revoke");
    assert!(
        f.backend
            .list_credentials("alice")
            .await
            .expect("list")
            .is_empty()
    );
}
