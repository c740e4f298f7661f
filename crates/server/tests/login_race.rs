//! A login racing an account change (a disable, a password change) never ends with a live
//! credential, over HTTP, for sessions and for the JWT strategies that can revoke.
//!
//! The race is made deterministic: the backend is wrapped so that its `issue` first runs the
//! account change to the end (the user table updated, then `revoke_all`, exactly as the admin
//! and `/password` routes do), then issues. That is the worst interleaving: the password check
//! passed on the old account, and the change's `revoke_all` ran before the credential existed,
//! so nothing in the backend ends it. The login route must notice (it re-checks the account
//! after issuing) and revoke what it issued. A real concurrent race is run too, many rounds.

mod common;

use std::sync::{Arc, Mutex};

use authbench_core::{
    Authenticator, Credential, CredentialInfo, Description, Error, Identity, ManualClock,
    Principal, SharedClock,
};
use authbench_jwt::{Alg, JwtBackend, JwtConfig, Revocation};
use authbench_server::{AppState, UserStore, app, users::hash_password};
use authbench_services::RedisServer;
use axum::Router;
use axum::http::StatusCode;
use common::{PASSWORD, body_json, fresh_users, login_req, me, send};

/// What to do to the account in the middle of the next `issue`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Change {
    Disable,
    Password,
}

/// Runs `change` on the user being logged in, inside `issue`, before issuing (once).
struct Racing<A> {
    inner: A,
    users: Arc<UserStore>,
    pending: Mutex<Option<Change>>,
}

impl<A: Authenticator> Authenticator for Racing<A> {
    fn describe(&self) -> Description {
        self.inner.describe()
    }

    async fn issue(&self, who: &Identity) -> Result<Credential, Error> {
        let change = self.pending.lock().expect("lock").take();
        if let Some(change) = change {
            match change {
                Change::Disable => {
                    self.users.disable(&who.subject).expect("user");
                }
                Change::Password => {
                    let hash = hash_password("a brand new passphrase").expect("hash");
                    assert!(self.users.set_password_hash(&who.subject, hash));
                }
            }
            // What the admin and password routes do next; unsupported under `none`.
            let _ = self.inner.revoke_all(&who.subject).await;
        }
        self.inner.issue(who).await
    }

    async fn verify(&self, token: &str) -> Result<Principal, Error> {
        self.inner.verify(token).await
    }

    async fn revoke(&self, token: &str) -> Result<(), Error> {
        self.inner.revoke(token).await
    }

    async fn revoke_all(&self, subject: &str) -> Result<(), Error> {
        self.inner.revoke_all(subject).await
    }

    async fn refresh(&self, refresh_token: &str) -> Result<Credential, Error> {
        self.inner.refresh(refresh_token).await
    }

    async fn update_identity(&self, who: &Identity) -> Result<(), Error> {
        self.inner.update_identity(who).await
    }

    async fn list_credentials(&self, subject: &str) -> Result<Vec<CredentialInfo>, Error> {
        self.inner.list_credentials(subject).await
    }

    fn published_keys(&self) -> Option<std::sync::Arc<str>> {
        self.inner.published_keys()
    }
}

/// The app over `Racing<inner>`, and the credentials the backend issued (the login's answer
/// may hide one: what matters is that none of them is live).
fn racing_app<A: Authenticator>(inner: A, change: Change) -> (Router, Arc<Racing<A>>) {
    let users = fresh_users();
    let racing = Arc::new(Racing {
        inner,
        users: Arc::clone(&users),
        pending: Mutex::new(Some(change)),
    });
    (app(AppState::new(Arc::clone(&racing), users)), racing)
}

async fn jwt(redis: &RedisServer, clock: SharedClock, revocation: Revocation) -> JwtBackend {
    JwtBackend::connect(
        JwtConfig::new(Alg::ES256).with_revocation(revocation),
        clock,
        &redis.url(),
    )
    .await
    .expect("jwt backend")
}

/// The login that lost the race is refused like a wrong password, and whatever the backend
/// issued for it is dead: verified through the same router.
async fn refused_and_dead<A: Authenticator>(app: &Router, racing: &Racing<A>, what: &str) {
    let resp = send(app, login_req("alice", PASSWORD)).await;
    let status = resp.status();
    let body = body_json(resp).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}: {body}");
    assert_eq!(body["error"], "invalid_credentials", "{what}");
    // Nothing left for alice: the account's credentials (if the backend can list them).
    if let Ok(list) = racing.inner.list_credentials("alice").await {
        assert!(list.is_empty(), "{what}: {} live credential(s)", list.len());
    }
}

#[tokio::test]
async fn a_login_racing_a_disable_or_password_change_never_ends_live() {
    let redis = common::redis();
    for change in [Change::Disable, Change::Password] {
        let clock: SharedClock = Arc::new(ManualClock::at_system_time());
        let (app, racing) = racing_app(common::session_backend(&redis, clock).await, change);
        refused_and_dead(&app, &racing, &format!("session, {change:?}")).await;
        for revocation in [Revocation::Denylist, Revocation::Epoch, Revocation::Refresh] {
            let clock: SharedClock = Arc::new(ManualClock::at_system_time());
            let (app, racing) = racing_app(jwt(&redis, clock, revocation).await, change);
            refused_and_dead(&app, &racing, &format!("jwt-{revocation}, {change:?}")).await;
        }
    }
}

/// The issued credential itself, captured: for strategies that cannot list, prove it does not
/// verify (or, where nothing can revoke a single token, that it never left the server).
struct Capture<A> {
    racing: Racing<A>,
    issued: Mutex<Vec<Credential>>,
}

impl<A: Authenticator> Authenticator for Capture<A> {
    fn describe(&self) -> Description {
        self.racing.describe()
    }
    async fn issue(&self, who: &Identity) -> Result<Credential, Error> {
        let c = self.racing.issue(who).await?;
        self.issued.lock().expect("lock").push(c.clone());
        Ok(c)
    }
    async fn verify(&self, token: &str) -> Result<Principal, Error> {
        self.racing.verify(token).await
    }
    async fn revoke(&self, token: &str) -> Result<(), Error> {
        self.racing.revoke(token).await
    }
    async fn revoke_all(&self, subject: &str) -> Result<(), Error> {
        self.racing.revoke_all(subject).await
    }
    async fn refresh(&self, refresh_token: &str) -> Result<Credential, Error> {
        self.racing.refresh(refresh_token).await
    }
}

#[tokio::test]
async fn the_credential_issued_for_a_raced_login_does_not_verify() {
    let redis = common::redis();
    for change in [Change::Disable, Change::Password] {
        for revocation in [Revocation::Denylist, Revocation::Refresh] {
            let users = fresh_users();
            let clock: SharedClock = Arc::new(ManualClock::at_system_time());
            let capture = Arc::new(Capture {
                racing: Racing {
                    inner: jwt(&redis, clock, revocation).await,
                    users: Arc::clone(&users),
                    pending: Mutex::new(Some(change)),
                },
                issued: Mutex::new(Vec::new()),
            });
            let app = app(AppState::new(Arc::clone(&capture), users));
            let resp = send(&app, login_req("alice", PASSWORD)).await;
            assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
            let issued = capture.issued.lock().expect("lock").clone();
            assert_eq!(issued.len(), 1, "{revocation}: the backend did issue one");
            if revocation == Revocation::Refresh {
                // Nothing ends a short access token early under `refresh` (it never left the
                // server); its refresh token, the long-lived part, is dead.
                let rt = issued[0].refresh_token.clone().expect("refresh token");
                let resp = send(
                    &app,
                    common::json_req(
                        "POST",
                        "/refresh",
                        None,
                        &serde_json::json!({ "refresh_token": rt }).to_string(),
                    ),
                )
                .await;
                assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{change:?}");
            } else {
                assert_eq!(
                    me(&app, &issued[0].token).await.0,
                    StatusCode::UNAUTHORIZED,
                    "jwt-{revocation}, {change:?}: the raced credential is revoked"
                );
            }
        }
    }
}

#[tokio::test]
async fn concurrent_logins_and_a_disable_leave_no_live_credential() {
    let redis = common::redis();
    for round in 0..20 {
        let users = fresh_users();
        let clock: SharedClock = Arc::new(ManualClock::at_system_time());
        let backend = Arc::new(common::session_backend(&redis, clock).await);
        let app = app(AppState::new(Arc::clone(&backend), Arc::clone(&users)));
        let logins: Vec<_> = (0..4)
            .map(|_| {
                let app = app.clone();
                tokio::spawn(async move { send(&app, login_req("bob", PASSWORD)).await })
            })
            .collect();
        tokio::task::yield_now().await;
        users.disable("bob").expect("bob");
        backend.revoke_all("bob").await.expect("revoke_all");
        for login in logins {
            let resp = login.await.expect("task");
            if resp.status() == StatusCode::OK {
                let token = body_json(resp).await["token"]
                    .as_str()
                    .expect("token")
                    .to_owned();
                assert_eq!(
                    me(&app, &token).await.0,
                    StatusCode::UNAUTHORIZED,
                    "round {round}"
                );
            }
        }
        assert!(
            backend
                .list_credentials("bob")
                .await
                .expect("list")
                .is_empty(),
            "round {round}"
        );
    }
}
