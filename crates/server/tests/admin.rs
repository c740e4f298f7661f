//! The admin routes over HTTP (`Router` + `oneshot`, real Redis): what a role change, a tenant
//! move and a disabled account do to credentials that are already out there, per backend.
//!
//! | change | session | JWT, revocation `none` |
//! |---|---|---|
//! | roles / tenant | `updated`: the next `/me` of every session shows it | `unchanged_until_expiry`: old tokens keep the old claims; a new login gets the new ones |
//! | disable | `revoked`: every session dead, login refused | `unchanged_until_expiry`: login refused, old tokens work until `exp` |

mod common;

use authbench_core::{
    Authenticator, Credential, Description, Error, Identity, ManualClock, Principal, SharedClock,
};
use axum::http::{StatusCode, header};
use common::*;
use serde_json::json;
use std::sync::Arc;

#[tokio::test]
async fn session_role_change_is_seen_by_the_next_request_of_every_session() {
    let redis = redis();
    let app = session_app(&redis, Arc::new(ManualClock::at_system_time())).await;
    let a1 = login(&app, "alice").await;
    let a2 = login(&app, "alice").await;
    let bob = login(&app, "bob").await;
    let admin = login(&app, "admin").await;
    assert_eq!(me(&app, &a1).await.1["roles"], json!(["user"]));

    let answer = admin_ok(
        &app,
        put_roles(&admin, "alice", &["user", "auditor", "user"]),
    )
    .await;
    assert_eq!(
        answer,
        json!({
            "user": "alice",
            "tenant": "acme",
            "roles": ["user", "auditor"],
            "disabled": false,
            "existing_credentials": "updated",
        })
    );
    for token in [&a1, &a2] {
        let (status, body) = me(&app, token).await;
        assert_eq!(status, 200, "the session lives on");
        assert_eq!(
            body["roles"],
            json!(["user", "auditor"]),
            "next request sees it"
        );
    }
    assert_eq!(
        me(&app, &bob).await.1["roles"],
        json!(["user"]),
        "bob untouched"
    );
    let fresh = login(&app, "alice").await;
    assert_eq!(
        me(&app, &fresh).await.1["roles"],
        json!(["user", "auditor"])
    );

    // Taking a role away bites just as fast: that is the point of server-side state.
    admin_ok(&app, put_roles(&admin, "alice", &[])).await;
    assert_eq!(me(&app, &a1).await.1["roles"], json!([]));
}

#[tokio::test]
async fn session_tenant_move_is_seen_by_the_next_request() {
    let redis = redis();
    let app = session_app(&redis, Arc::new(ManualClock::at_system_time())).await;
    let alice = login(&app, "alice").await;
    let admin = login(&app, "admin").await;
    let answer = admin_ok(&app, put_tenant(&admin, "alice", "globex")).await;
    assert_eq!(answer["tenant"], "globex");
    assert_eq!(answer["existing_credentials"], "updated");
    let (status, body) = me(&app, &alice).await;
    assert_eq!(status, 200);
    assert_eq!(body["tenant"], "globex");
    assert_eq!(body["roles"], json!(["user"]), "roles kept");
    let fresh = login(&app, "alice").await;
    assert_eq!(me(&app, &fresh).await.1["tenant"], "globex");
}

#[tokio::test]
async fn session_disable_ends_every_session_and_blocks_login() {
    let redis = redis();
    let app = session_app(&redis, Arc::new(ManualClock::at_system_time())).await;
    let a1 = login(&app, "alice").await;
    let a2 = login(&app, "alice").await;
    let bob = login(&app, "bob").await;
    let admin = login(&app, "admin").await;

    let answer = admin_ok(&app, disable(&admin, "alice")).await;
    assert_eq!(answer["disabled"], true);
    assert_eq!(answer["existing_credentials"], "revoked");
    for token in [&a1, &a2] {
        assert_eq!(me(&app, token).await.0, 401, "ASVS 7.4.2: all sessions end");
    }
    // Refused exactly like a wrong password: a disabled account is not revealed.
    assert_login_refused(&app, "alice", PASSWORD).await;
    assert_login_refused(&app, "alice", "wrong").await;
    assert_eq!(me(&app, &bob).await.0, 200, "bob untouched");
    login(&app, "bob").await;
    // Disabling twice is fine (an admin retrying after a 503 must not get an error).
    assert_eq!(
        admin_ok(&app, disable(&admin, "alice")).await["disabled"],
        true
    );
}

#[tokio::test]
async fn admin_routes_want_an_admin_a_known_user_and_a_sane_body() {
    let redis = redis();
    let app = session_app(&redis, Arc::new(ManualClock::at_system_time())).await;
    let alice = login(&app, "alice").await;
    let admin = login(&app, "admin").await;

    // No credential: 401 with the bare challenge. A non-admin: 403, and nothing changed.
    let anonymous = [
        json_req(
            "PUT",
            "/admin/users/bob/roles",
            None,
            r#"{"roles":["admin"]}"#,
        ),
        json_req(
            "PUT",
            "/admin/users/bob/tenant",
            None,
            r#"{"tenant":"acme"}"#,
        ),
        json_req("POST", "/admin/users/bob/disable", None, ""),
    ];
    for req in anonymous {
        let resp = send(&app, req).await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(resp.headers()[header::WWW_AUTHENTICATE], "Bearer");
    }
    for req in [
        put_roles(&alice, "alice", &["user", "admin"]),
        put_tenant(&alice, "bob", "acme"),
        disable(&alice, "bob"),
    ] {
        let resp = send(&app, req).await;
        assert_eq!(resp.status(), StatusCode::FORBIDDEN);
        assert_eq!(body_json(resp).await["error"], "forbidden");
    }
    assert_eq!(me(&app, &alice).await.1["roles"], json!(["user"]));
    login(&app, "bob").await;

    // Unknown users: 404.
    for req in [
        put_roles(&admin, "nobody", &["user"]),
        put_tenant(&admin, "nobody", "acme"),
        disable(&admin, "nobody"),
    ] {
        let resp = send(&app, req).await;
        assert_eq!(resp.status(), StatusCode::NOT_FOUND);
        assert_eq!(body_json(resp).await["error"], "unknown_user");
    }

    // Malformed bodies: 400; huge: 413. Nothing changes.
    for (path, body) in [
        ("/admin/users/bob/roles", ""),
        ("/admin/users/bob/roles", "{"),
        ("/admin/users/bob/roles", r#"{"roles":"admin"}"#),
        ("/admin/users/bob/roles", r#"{"roles":["admin"],"also":1}"#),
        ("/admin/users/bob/roles", r#"{"roles":["a b"]}"#),
        ("/admin/users/bob/roles", r#"{"roles":[""]}"#),
        ("/admin/users/bob/tenant", r#"{"tenant":""}"#),
        ("/admin/users/bob/tenant", r#"{"tenant":"x\"y"}"#),
        ("/admin/users/bob/tenant", r#"{"tenant":["acme"]}"#),
    ] {
        let resp = send(&app, json_req("PUT", path, Some(&admin), body)).await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{path} {body}");
    }
    let too_many: Vec<String> = (0..33).map(|i| format!("r{i}")).collect();
    let body = json!({ "roles": too_many }).to_string();
    let resp = send(
        &app,
        json_req("PUT", "/admin/users/bob/roles", Some(&admin), &body),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let huge = format!(r#"{{"tenant":"{}"}}"#, "a".repeat(1 << 20));
    let resp = send(
        &app,
        json_req("PUT", "/admin/users/bob/tenant", Some(&admin), &huge),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let bob = login(&app, "bob").await;
    assert_eq!(me(&app, &bob).await.1["tenant"], "globex");

    // An admin who removes their own admin role loses the admin routes with their next request.
    admin_ok(&app, put_roles(&admin, "admin", &["user"])).await;
    assert_eq!(send(&app, disable(&admin, "bob")).await.status(), 403);
}

#[tokio::test]
async fn admin_routes_fail_closed_when_redis_is_down() {
    let mut redis = redis();
    let app = session_app(&redis, Arc::new(ManualClock::at_system_time())).await;
    let admin = login(&app, "admin").await;
    redis.stop();
    for req in [
        put_roles(&admin, "alice", &["user", "admin"]),
        put_tenant(&admin, "alice", "globex"),
        disable(&admin, "alice"),
    ] {
        let resp = send(&app, req).await;
        assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(resp.headers()[header::RETRY_AFTER], "1");
    }
}

/// The lesson of this file: a plain JWT is what it says, and nothing the server does reaches it.
#[tokio::test]
async fn jwt_role_and_tenant_changes_do_not_reach_issued_tokens() {
    let clock = ManualClock::at_system_time();
    let app = jwt_app(Arc::new(clock.clone()));
    let old = login(&app, "alice").await;
    let admin = login(&app, "admin").await;

    let answer = admin_ok(&app, put_roles(&admin, "alice", &["user", "auditor"])).await;
    assert_eq!(answer["roles"], json!(["user", "auditor"]));
    assert_eq!(answer["existing_credentials"], "unchanged_until_expiry");
    let answer = admin_ok(&app, put_tenant(&admin, "alice", "globex")).await;
    assert_eq!(answer["existing_credentials"], "unchanged_until_expiry");

    // The old token still says what it said at login: old roles, old tenant.
    let (status, body) = me(&app, &old).await;
    assert_eq!(status, 200);
    assert_eq!(
        body["roles"],
        json!(["user"]),
        "a JWT keeps its roles until exp"
    );
    assert_eq!(body["tenant"], "acme", "and its tenant");
    // A new login carries the new facts.
    let fresh = login(&app, "alice").await;
    let (_, body) = me(&app, &fresh).await;
    assert_eq!(body["roles"], json!(["user", "auditor"]));
    assert_eq!(body["tenant"], "globex");
    // Only expiry ends the stale one.
    clock.advance(3600);
    assert_eq!(me(&app, &old).await.0, 401);
}

#[tokio::test]
async fn jwt_disable_blocks_login_but_the_old_token_works_until_exp() {
    let clock = ManualClock::at_system_time();
    let app = jwt_app(Arc::new(clock.clone()));
    let old = login(&app, "alice").await;
    let admin = login(&app, "admin").await;

    let answer = admin_ok(&app, disable(&admin, "alice")).await;
    assert_eq!(answer["disabled"], true);
    assert_eq!(answer["existing_credentials"], "unchanged_until_expiry");
    assert_login_refused(&app, "alice", PASSWORD).await;
    // The disabled user's token keeps working: ASVS 7.4.2 cannot be met by a plain JWT.
    assert_eq!(
        me(&app, &old).await.0,
        200,
        "a JWT outlives its disabled owner"
    );
    clock.advance(3600);
    let resp = send(&app, bearer("GET", "/me", &old)).await;
    assert_eq!(resp.status(), 401);
    assert_eq!(body_json(resp).await["error"], "expired");
}

#[tokio::test]
async fn jwt_demoted_admin_keeps_the_claim_but_loses_the_admin_routes() {
    let app = jwt_app(Arc::new(ManualClock::at_system_time()));
    let admin = login(&app, "admin").await;
    admin_ok(&app, put_roles(&admin, "admin", &["user"])).await;
    // The token still claims admin ...
    assert_eq!(me(&app, &admin).await.1["roles"], json!(["user", "admin"]));
    // ... but the admin routes check the user table too, so the claim no longer opens them.
    assert_eq!(send(&app, disable(&admin, "bob")).await.status(), 403);
    // Likewise a disabled admin.
    let app = jwt_app(Arc::new(ManualClock::at_system_time()));
    let admin = login(&app, "admin").await;
    admin_ok(&app, disable(&admin, "admin")).await;
    assert_eq!(
        send(&app, put_roles(&admin, "bob", &["admin"]))
            .await
            .status(),
        403
    );
}

/// A backend that can end credentials but not rewrite them (like a JWT strategy with a
/// per-user not-before time): the sessions backend with `update_identity` left at the trait's
/// default.
struct RevokeOnly(authbench_session::SessionBackend);

impl Authenticator for RevokeOnly {
    fn describe(&self) -> Description {
        self.0.describe()
    }
    async fn issue(&self, who: &Identity) -> Result<Credential, Error> {
        self.0.issue(who).await
    }
    async fn verify(&self, token: &str) -> Result<Principal, Error> {
        self.0.verify(token).await
    }
    async fn revoke(&self, token: &str) -> Result<(), Error> {
        self.0.revoke(token).await
    }
    async fn revoke_all(&self, subject: &str) -> Result<(), Error> {
        self.0.revoke_all(subject).await
    }
    async fn refresh(&self, refresh_token: &str) -> Result<Credential, Error> {
        self.0.refresh(refresh_token).await
    }
}

#[tokio::test]
async fn a_backend_that_can_only_revoke_ends_credentials_on_a_role_change() {
    let redis = redis();
    let clock: SharedClock = Arc::new(ManualClock::at_system_time());
    let app = router_for(RevokeOnly(session_backend(&redis, clock).await));
    let alice = login(&app, "alice").await;
    let admin = login(&app, "admin").await;
    let answer = admin_ok(&app, put_roles(&admin, "alice", &["user", "auditor"])).await;
    assert_eq!(answer["existing_credentials"], "revoked");
    assert_eq!(
        me(&app, &alice).await.0,
        401,
        "stale roles are not left in use"
    );
    let fresh = login(&app, "alice").await;
    assert_eq!(
        me(&app, &fresh).await.1["roles"],
        json!(["user", "auditor"])
    );
}
