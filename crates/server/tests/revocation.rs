//! `/logout`, `/logout-all` and `/refresh` over the axum router for every JWT revocation
//! strategy, against a real Redis (testkit), through `Router` + `oneshot`.

mod common;

use common::{bearer, body_json, send};

use authbench_core::ManualClock;
use authbench_jwt::{Alg, JwtBackend, JwtConfig, Revocation};
use authbench_server::{AppState, DemoUsers, UserStore, app};
use authbench_testkit::RedisServer;
use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response, StatusCode, header};
use std::sync::{Arc, OnceLock};

const PASSWORD: &str = "correct horse battery staple";
const REVOKED: &str = "authbench-revoked";

/// Seeding hashes passwords with argon2; do it once for the whole file.
fn users() -> Arc<UserStore> {
    static USERS: OnceLock<Arc<UserStore>> = OnceLock::new();
    Arc::clone(
        USERS.get_or_init(|| {
            Arc::new(UserStore::demo(&DemoUsers::default()).expect("seed demo users"))
        }),
    )
}

/// The app under `revocation`, its Redis and its clock.
async fn jwt_app(revocation: Revocation) -> (Router, RedisServer, ManualClock) {
    let redis = RedisServer::start().unwrap_or_else(|e| panic!("{e}"));
    let clock = ManualClock::at_system_time();
    let backend = JwtBackend::connect(
        JwtConfig::new(Alg::ES256).with_revocation(revocation),
        Arc::new(clock.clone()),
        &redis.url(),
    )
    .await
    .expect("backend");
    (app(AppState::new(Arc::new(backend), users())), redis, clock)
}

fn json_post(path: &str, body: serde_json::Value) -> Request<Body> {
    Request::post(path)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .expect("request")
}

/// Logs in; returns the login answer.
async fn login(app: &Router, user: &str) -> serde_json::Value {
    let resp = send(
        app,
        json_post(
            "/login",
            serde_json::json!({"username": user, "password": PASSWORD}),
        ),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK, "login as {user}");
    body_json(resp).await
}

fn token(answer: &serde_json::Value) -> String {
    answer["token"].as_str().expect("token").to_owned()
}

async fn me(app: &Router, token: &str) -> StatusCode {
    send(app, bearer("GET", "/me", token)).await.status()
}

async fn refresh(app: &Router, refresh_token: &str) -> Response<Body> {
    send(
        app,
        json_post(
            "/refresh",
            serde_json::json!({"refresh_token": refresh_token}),
        ),
    )
    .await
}

/// `/logout` and `/logout-all`: status, the revocation header, and whether the token still
/// works afterwards.
async fn logout(app: &Router, path: &str, token: &str) -> String {
    let resp = send(app, bearer("POST", path, token)).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT, "{path}");
    resp.headers()[REVOKED].to_str().expect("ascii").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn denylist_logout_and_logout_all_bite_at_once() {
    let (app, _redis, _clock) = jwt_app(Revocation::Denylist).await;
    let first = token(&login(&app, "alice").await);
    let second = token(&login(&app, "alice").await);
    let bob = token(&login(&app, "bob").await);
    assert_eq!(logout(&app, "/logout", &first).await, "true");
    assert_eq!(me(&app, &first).await, StatusCode::UNAUTHORIZED);
    assert_eq!(me(&app, &second).await, StatusCode::OK, "the other device");
    assert_eq!(logout(&app, "/logout-all", &second).await, "true");
    assert_eq!(me(&app, &second).await, StatusCode::UNAUTHORIZED);
    assert_eq!(me(&app, &bob).await, StatusCode::OK, "bob untouched");
    // No refresh tokens under this strategy.
    let resp = refresh(&app, &"A".repeat(43)).await;
    assert_eq!(resp.status(), StatusCode::NOT_IMPLEMENTED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn epoch_logout_is_not_a_revocation_but_logout_all_is() {
    let (app, _redis, clock) = jwt_app(Revocation::Epoch).await;
    let first = token(&login(&app, "alice").await);
    let bob = token(&login(&app, "bob").await);
    // Single logout only drops the cookie: the header says so, and the token still works.
    assert_eq!(logout(&app, "/logout", &first).await, "false");
    assert_eq!(me(&app, &first).await, StatusCode::OK);
    assert_eq!(logout(&app, "/logout-all", &first).await, "true");
    assert_eq!(me(&app, &first).await, StatusCode::UNAUTHORIZED);
    assert_eq!(me(&app, &bob).await, StatusCode::OK);
    // Logging in again (a second later: the same-second rule fails closed) works.
    clock.set(authbench_core::Clock::now(&clock) + 1);
    let again = token(&login(&app, "alice").await);
    assert_eq!(me(&app, &again).await, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_rotates_detects_reuse_and_logout_ends_the_family() {
    let (app, _redis, clock) = jwt_app(Revocation::Refresh).await;
    let answer = login(&app, "alice").await;
    assert_eq!(answer["expires_in"], 300);
    let rt1 = answer["refresh_token"]
        .as_str()
        .expect("refresh_token")
        .to_owned();

    // Rotation: a new access token and a new refresh token, shaped like /login's answer.
    let resp = refresh(&app, &rt1).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers().contains_key(header::SET_COOKIE));
    let rotated = body_json(resp).await;
    let rt2 = rotated["refresh_token"]
        .as_str()
        .expect("rotated")
        .to_owned();
    assert_ne!(rt1, rt2);
    assert_eq!(me(&app, &token(&rotated)).await, StatusCode::OK);

    // Reuse of rt1: 401, and the family is gone (rt2 too).
    let resp = refresh(&app, &rt1).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(refresh(&app, &rt2).await.status(), StatusCode::UNAUTHORIZED);

    // Logout with the access token ends its family; the access token lives until exp.
    let answer = login(&app, "alice").await;
    let access = token(&answer);
    let rt = answer["refresh_token"].as_str().expect("rt").to_owned();
    assert_eq!(logout(&app, "/logout", &access).await, "true");
    assert_eq!(refresh(&app, &rt).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        me(&app, &access).await,
        StatusCode::OK,
        "inside the access-token window"
    );
    let now = authbench_core::Clock::now(&clock);
    clock.set(now + 300 + 5);
    assert_eq!(
        me(&app, &access).await,
        StatusCode::UNAUTHORIZED,
        "after exp"
    );
    clock.set(now);

    // Logout-all ends every family of the user, not others'.
    let phone = login(&app, "alice").await;
    let laptop = login(&app, "alice").await;
    let bob = login(&app, "bob").await;
    assert_eq!(logout(&app, "/logout-all", &token(&phone)).await, "true");
    for a in [&phone, &laptop] {
        let rt = a["refresh_token"].as_str().expect("rt");
        assert_eq!(refresh(&app, rt).await.status(), StatusCode::UNAUTHORIZED);
    }
    let rt = bob["refresh_token"].as_str().expect("rt");
    assert_eq!(refresh(&app, rt).await.status(), StatusCode::OK);
    // Garbage refresh tokens are a client error, not a server one.
    assert_eq!(
        refresh(&app, "nope").await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_strategy_answers_503_when_redis_is_down_and_none_does_not_need_it() {
    let (app, mut redis, _clock) = jwt_app(Revocation::Denylist).await;
    let access = token(&login(&app, "alice").await);
    redis.stop();
    assert_eq!(
        me(&app, &access).await,
        StatusCode::SERVICE_UNAVAILABLE,
        "fail closed"
    );

    let (app, mut redis, _clock) = jwt_app(Revocation::Refresh).await;
    let answer = login(&app, "alice").await;
    redis.stop();
    assert_eq!(
        me(&app, &token(&answer)).await,
        StatusCode::OK,
        "verify is local"
    );
    let rt = answer["refresh_token"].as_str().expect("rt");
    assert_eq!(
        refresh(&app, rt).await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );

    // `none` over a Redis URL that leads nowhere: it never connects.
    let backend = JwtBackend::connect(
        JwtConfig::new(Alg::ES256),
        Arc::new(ManualClock::at_system_time()),
        "redis://127.0.0.1:1/",
    )
    .await
    .expect("none needs no Redis");
    let app = app_for(backend);
    let access = token(&login(&app, "alice").await);
    assert_eq!(me(&app, &access).await, StatusCode::OK);
    assert_eq!(logout(&app, "/logout", &access).await, "false");
    assert_eq!(
        me(&app, &access).await,
        StatusCode::OK,
        "a plain JWT outlives logout"
    );
}

fn app_for(backend: JwtBackend) -> Router {
    app(AppState::new(Arc::new(backend), users()))
}
