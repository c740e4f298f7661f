//! Shared set-up for the account and admin tests: a fresh user table per test (these tests
//! change users), apps over each backend, and request helpers.

#![allow(dead_code)] // Each test file uses a different subset.

use authbench_core::{Authenticator, SharedClock};
use authbench_jwt::{Alg, JwtBackend, JwtConfig};
use authbench_server::{AppState, DemoUsers, UserStore, app};
use authbench_services::RedisServer;
use authbench_session::{SessionBackend, SessionConfig};
use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response, StatusCode, header};
use http_body_util::BodyExt;
use std::sync::Arc;
use tower::ServiceExt;

pub const PASSWORD: &str = "correct horse battery staple";

/// A fresh demo user table: every test that changes users gets its own.
pub fn fresh_users() -> Arc<UserStore> {
    Arc::new(UserStore::demo(&DemoUsers::default()).expect("seed demo users"))
}

pub fn router_for<A: Authenticator>(backend: A) -> Router {
    app(AppState::new(Arc::new(backend), fresh_users()))
}

pub async fn session_backend(redis: &RedisServer, clock: SharedClock) -> SessionBackend {
    SessionBackend::connect(SessionConfig::new(redis.url()), clock)
        .await
        .expect("connect to the private Redis")
}

pub async fn session_app(redis: &RedisServer, clock: SharedClock) -> Router {
    router_for(session_backend(redis, clock).await)
}

/// A JWT app with revocation `none`, the plain stateless design.
pub fn jwt_app(clock: SharedClock) -> Router {
    router_for(JwtBackend::new(JwtConfig::new(Alg::ES256), clock).expect("jwt backend"))
}

pub fn redis() -> RedisServer {
    RedisServer::start().expect("redis-server (install: scripts/setup)")
}

pub async fn send(app: &Router, req: Request<Body>) -> Response<Body> {
    app.clone()
        .oneshot(req)
        .await
        .expect("router is infallible")
}

pub async fn body_json(resp: Response<Body>) -> serde_json::Value {
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    serde_json::from_slice(&bytes).expect("JSON body")
}

pub fn login_req(user: &str, password: &str) -> Request<Body> {
    json_req(
        "POST",
        "/login",
        None,
        &serde_json::json!({"username": user, "password": password}).to_string(),
    )
}

/// A request with an optional bearer credential and a raw JSON body.
pub fn json_req(method: &str, path: &str, token: Option<&str>, body: &str) -> Request<Body> {
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(token) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    req.body(Body::from(body.to_owned())).expect("request")
}

pub fn bearer(method: &str, path: &str, token: &str) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .expect("request")
}

/// Logs in with `password`; returns the token.
pub async fn login_with(app: &Router, user: &str, password: &str) -> String {
    let resp = send(app, login_req(user, password)).await;
    assert_eq!(resp.status(), StatusCode::OK, "login as {user}");
    body_json(resp).await["token"]
        .as_str()
        .expect("token")
        .to_owned()
}

/// Logs in with the demo password; returns the token.
pub async fn login(app: &Router, user: &str) -> String {
    login_with(app, user, PASSWORD).await
}

/// `GET /me`: status and body (`Null` when not 200).
pub async fn me(app: &Router, token: &str) -> (StatusCode, serde_json::Value) {
    let resp = send(app, bearer("GET", "/me", token)).await;
    let status = resp.status();
    if status == StatusCode::OK {
        (status, body_json(resp).await)
    } else {
        (status, serde_json::Value::Null)
    }
}

/// Asserts that a login is refused exactly like a wrong password: 401, same body, and
/// returns nothing an attacker could tell apart.
pub async fn assert_login_refused(app: &Router, user: &str, password: &str) {
    let resp = send(app, login_req(user, password)).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "login as {user}");
    assert_eq!(resp.headers()[header::WWW_AUTHENTICATE], "Bearer");
    assert_eq!(
        body_json(resp).await,
        serde_json::json!({"error": "invalid_credentials"})
    );
}

/// `PUT /admin/users/{user}/roles` as `admin_token`.
pub fn put_roles(admin_token: &str, user: &str, roles: &[&str]) -> Request<Body> {
    json_req(
        "PUT",
        &format!("/admin/users/{user}/roles"),
        Some(admin_token),
        &serde_json::json!({ "roles": roles }).to_string(),
    )
}

/// `PUT /admin/users/{user}/tenant` as `admin_token`.
pub fn put_tenant(admin_token: &str, user: &str, tenant: &str) -> Request<Body> {
    json_req(
        "PUT",
        &format!("/admin/users/{user}/tenant"),
        Some(admin_token),
        &serde_json::json!({ "tenant": tenant }).to_string(),
    )
}

/// `POST /admin/users/{user}/disable` as `admin_token`.
pub fn disable(admin_token: &str, user: &str) -> Request<Body> {
    bearer("POST", &format!("/admin/users/{user}/disable"), admin_token)
}

/// Sends an admin request that must succeed; returns its JSON answer.
pub async fn admin_ok(app: &Router, req: Request<Body>) -> serde_json::Value {
    let resp = send(app, req).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()[header::CACHE_CONTROL], "no-store");
    body_json(resp).await
}
