//! The caller's own account over HTTP: `GET /sessions` and `POST /password`.

mod common;

use authbench_core::{
    Authenticator, Clock, Credential, Description, Error, ErrorKind, Identity, ManualClock,
    Principal,
};
use authbench_jwt::{Alg, JwtBackend, JwtConfig};
use axum::http::{StatusCode, header};
use common::*;
use serde_json::json;
use std::sync::Arc;

const NEW_PASSWORD: &str = "a much longer new passphrase";

fn change(token: Option<&str>, current: &str, new: &str) -> axum::http::Request<axum::body::Body> {
    json_req(
        "POST",
        "/password",
        token,
        &json!({"current_password": current, "new_password": new}).to_string(),
    )
}

#[tokio::test]
async fn session_password_change_ends_every_other_session_and_the_old_password() {
    let redis = redis();
    let app = session_app(&redis, Arc::new(ManualClock::at_system_time())).await;
    let here = login(&app, "alice").await;
    let elsewhere = login(&app, "alice").await;
    let bob = login(&app, "bob").await;

    let resp = send(&app, change(Some(&here), PASSWORD, NEW_PASSWORD)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["authbench-revoked"], "true");
    assert_eq!(resp.headers()[header::CACHE_CONTROL], "no-store");
    let cookie = resp.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_owned();
    let body = body_json(resp).await;
    assert_eq!(body["existing_credentials"], "revoked");
    assert_eq!(body["token_type"], "Bearer");
    let fresh = body["token"]
        .as_str()
        .expect("a fresh credential")
        .to_owned();
    assert!(cookie.starts_with(&format!("__Host-authbench={fresh};")));
    assert_ne!(fresh, here);

    // ASVS 7.4.3: every other session ends, and the one used for the change is replaced too.
    assert_eq!(me(&app, &elsewhere).await.0, 401);
    assert_eq!(me(&app, &here).await.0, 401);
    let (status, body) = me(&app, &fresh).await;
    assert_eq!(status, 200);
    assert_eq!(body["subject"], "alice");
    // The old password is dead, the new one works; nobody else is touched.
    assert_login_refused(&app, "alice", PASSWORD).await;
    login_with(&app, "alice", NEW_PASSWORD).await;
    assert_eq!(me(&app, &bob).await.0, 200);
    login(&app, "bob").await;
}

#[tokio::test]
async fn password_change_refuses_bad_requests_and_changes_nothing() {
    let redis = redis();
    let app = session_app(&redis, Arc::new(ManualClock::at_system_time())).await;
    let alice = login(&app, "alice").await;

    // Wrong current password: 403 (not 401: the credential is fine), nothing revoked.
    let resp = send(&app, change(Some(&alice), "wrong", NEW_PASSWORD)).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert_eq!(body_json(resp).await["error"], "invalid_current_password");
    // Too short a new password; malformed and oversized bodies; no credential.
    let resp = send(&app, change(Some(&alice), PASSWORD, "short")).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(body_json(resp).await["error"], "new_password_too_short");
    for body in [
        "",
        "{",
        r#"{"new_password":"long enough pw"}"#,
        r#"{"current_password":1,"new_password":2}"#,
    ] {
        let resp = send(&app, json_req("POST", "/password", Some(&alice), body)).await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{body}");
    }
    let huge = change(Some(&alice), PASSWORD, &"x".repeat(1 << 20));
    assert_eq!(
        send(&app, huge).await.status(),
        StatusCode::PAYLOAD_TOO_LARGE
    );
    let long = change(Some(&alice), PASSWORD, &"x".repeat(2000));
    assert_eq!(send(&app, long).await.status(), StatusCode::BAD_REQUEST);
    let resp = send(&app, change(None, PASSWORD, NEW_PASSWORD)).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);

    assert_eq!(me(&app, &alice).await.0, 200, "still logged in");
    login(&app, "alice").await;
}

#[tokio::test]
async fn sessions_lists_the_callers_live_sessions_and_drops_revoked_ones() {
    let redis = redis();
    let clock = ManualClock::at_system_time();
    let app = session_app(&redis, Arc::new(clock.clone())).await;
    let start = clock.now();
    let first = login(&app, "alice").await;
    clock.advance(10);
    let second = login(&app, "alice").await;
    clock.advance(10);
    let third = login(&app, "alice").await;
    login(&app, "bob").await;

    let resp = send(&app, bearer("GET", "/sessions", &first)).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()[header::CACHE_CONTROL], "no-store");
    let body = body_json(resp).await;
    assert_eq!(body["subject"], "alice");
    let sessions = body["sessions"].as_array().expect("array");
    assert_eq!(sessions.len(), 3, "bob's session is not alice's business");
    let my_id = me(&app, &first).await.1["credential_id"].clone();
    assert_eq!(sessions[0]["credential_id"], my_id, "oldest first");
    assert_eq!(sessions[0]["current"], true);
    assert_eq!(sessions[0]["issued_at"], start);
    assert_eq!(sessions[0]["last_used"], start + 20);
    assert!(sessions[0]["expires_at"].as_u64().unwrap() > start + 20);
    assert_eq!(sessions[1]["current"], false);
    assert_eq!(sessions[2]["issued_at"], start + 20);
    // Nothing in the list can be presented as a credential.
    for s in sessions {
        let id = s["credential_id"].as_str().unwrap();
        for token in [&first, &second, &third] {
            assert!(!token.contains(id) && !id.contains(token.as_str()));
        }
    }

    // Revoked sessions disappear from the list.
    let second_id = me(&app, &second).await.1["credential_id"].clone();
    assert_eq!(
        send(&app, bearer("POST", "/logout", &second))
            .await
            .status(),
        204
    );
    let body = body_json(send(&app, bearer("GET", "/sessions", &third)).await).await;
    let ids: Vec<_> = body["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["credential_id"].clone())
        .collect();
    assert_eq!(ids.len(), 2);
    assert!(!ids.contains(&second_id));
    assert_eq!(
        send(&app, bearer("GET", "/sessions", &second))
            .await
            .status(),
        401
    );
    assert_eq!(
        send(&app, bearer("GET", "/sessions", "garbage"))
            .await
            .status(),
        401
    );
}

#[tokio::test]
async fn jwt_password_change_says_it_revoked_nothing() {
    let app = jwt_app(Arc::new(ManualClock::at_system_time()));
    let old = login(&app, "alice").await;

    let resp = send(&app, change(Some(&old), PASSWORD, NEW_PASSWORD)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        resp.headers()["authbench-revoked"],
        "false",
        "honest, not hidden"
    );
    let body = body_json(resp).await;
    assert_eq!(body["existing_credentials"], "unchanged_until_expiry");
    let fresh = body["token"].as_str().unwrap().to_owned();
    assert_eq!(me(&app, &fresh).await.0, 200);
    // The lesson: the token minted with the old password keeps working until it expires.
    assert_eq!(
        me(&app, &old).await.0,
        200,
        "a JWT survives a password change"
    );
    // The password itself did change.
    assert_login_refused(&app, "alice", PASSWORD).await;
    login_with(&app, "alice", NEW_PASSWORD).await;
}

#[tokio::test]
async fn jwt_cannot_list_sessions() {
    let app = jwt_app(Arc::new(ManualClock::at_system_time()));
    let token = login(&app, "alice").await;
    let resp = send(&app, bearer("GET", "/sessions", &token)).await;
    assert_eq!(resp.status(), StatusCode::NOT_IMPLEMENTED);
    assert_eq!(body_json(resp).await["error"], "unsupported");
}

/// A JWT backend whose store is "down" just when `revoke_all` runs: the password has changed by
/// then, and the answer must say so.
struct RevokeAllUnavailable(JwtBackend);

impl Authenticator for RevokeAllUnavailable {
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
    async fn revoke_all(&self, _subject: &str) -> Result<(), Error> {
        Err(Error::new(ErrorKind::Unavailable, "store down (test)"))
    }
    async fn refresh(&self, refresh_token: &str) -> Result<Credential, Error> {
        self.0.refresh(refresh_token).await
    }
}

#[tokio::test]
async fn a_store_outage_after_the_change_is_a_503_that_says_the_password_changed() {
    let clock = Arc::new(ManualClock::at_system_time());
    let backend = JwtBackend::new(JwtConfig::new(Alg::HS256), clock).expect("jwt backend");
    let app = router_for(RevokeAllUnavailable(backend));
    let alice = login(&app, "alice").await;
    let resp = send(&app, change(Some(&alice), PASSWORD, NEW_PASSWORD)).await;
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(resp.headers()[header::RETRY_AFTER], "1");
    assert_eq!(resp.headers()["authbench-revoked"], "false");
    assert_eq!(
        body_json(resp).await,
        json!({"error": "unavailable", "password_changed": true})
    );
    assert_login_refused(&app, "alice", PASSWORD).await;
    login_with(&app, "alice", NEW_PASSWORD).await;
}
