//! The HTTP contract, for every backend, through `Router` + `oneshot` against real Redis.

mod common;

use common::{bearer, body_json, login_req, send};

use authbench_core::{Authenticator, ManualClock, SharedClock};
use authbench_jwt::{Alg, JwtBackend, JwtConfig};
use authbench_server::{AppState, DemoUsers, UserStore, app};
use authbench_services::RedisServer;
use authbench_session::{SessionBackend, SessionConfig};
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use common::PASSWORD;

/// Seeding hashes a password with argon2 (tens of ms); do it once for the whole file.
fn users() -> Arc<UserStore> {
    static USERS: OnceLock<Arc<UserStore>> = OnceLock::new();
    Arc::clone(
        USERS.get_or_init(|| {
            Arc::new(UserStore::demo(&DemoUsers::default()).expect("seed demo users"))
        }),
    )
}

fn router_for<A: Authenticator>(backend: A) -> Router {
    app(AppState::new(Arc::new(backend), users()))
}

async fn session_app(redis: &RedisServer, clock: SharedClock) -> Router {
    let backend = SessionBackend::connect(SessionConfig::new(redis.url()), clock)
        .await
        .expect("connect to the private Redis");
    router_for(backend)
}

fn jwt_app(alg: Alg, clock: SharedClock) -> Router {
    router_for(JwtBackend::new(JwtConfig::new(alg), clock).expect("jwt backend"))
}

/// Logs in and checks everything a login answer must carry; returns the token.
async fn login(app: &Router, user: &str) -> String {
    let resp = send(app, login_req(user, PASSWORD)).await;
    assert_eq!(resp.status(), StatusCode::OK, "login as {user}");
    assert_eq!(resp.headers()[header::CACHE_CONTROL], "no-store");
    let cookie = resp.headers()[header::SET_COOKIE]
        .to_str()
        .expect("ascii cookie")
        .to_owned();
    let body = body_json(resp).await;
    let token = body["token"].as_str().expect("token").to_owned();
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["expires_in"].as_u64().expect("expires_in") > 0);
    assert!(
        cookie.starts_with(&format!("__Host-authbench={token};")),
        "{cookie}"
    );
    for attribute in ["Path=/", "Secure", "HttpOnly", "SameSite=Strict"] {
        assert!(
            cookie.contains(attribute),
            "cookie lacks {attribute}: {cookie}"
        );
    }
    assert!(!cookie.contains("Domain"), "a __Host- cookie has no Domain");
    token
}

async fn status(app: &Router, req: Request<Body>) -> StatusCode {
    send(app, req).await.status()
}

/// What every backend must answer the same way.
async fn common_contract(app: &Router) {
    assert_eq!(
        status(app, Request::get("/healthz").body(Body::empty()).unwrap()).await,
        200
    );

    // Wrong password and unknown user: 401, same body.
    for (user, pw) in [("alice", "wrong"), ("nobody", PASSWORD)] {
        let resp = send(app, login_req(user, pw)).await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{user}");
        assert_eq!(body_json(resp).await["error"], "invalid_credentials");
    }
    // Malformed login bodies are 4xx.
    for body in [
        "",
        "{",
        "[]",
        "{\"username\":\"alice\"}",
        "{\"username\":1,\"password\":2}",
    ] {
        let req = Request::post("/login")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body))
            .unwrap();
        let s = status(app, req).await;
        assert!(s.is_client_error(), "login body {body:?} gave {s}");
    }
    let huge = Request::post("/login")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(vec![b'a'; 1 << 20]))
        .unwrap();
    assert_eq!(status(app, huge).await, StatusCode::PAYLOAD_TOO_LARGE);

    // A fresh credential at every login, and it works in the header and in the cookie.
    let token = login(app, "alice").await;
    let again = login(app, "alice").await;
    assert_ne!(token, again, "login must never reuse a credential");
    let resp = send(app, bearer("GET", "/me", &token)).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()[header::CACHE_CONTROL], "no-store");
    let me = body_json(resp).await;
    assert_eq!(me["subject"], "alice");
    assert_eq!(me["tenant"], "acme");
    assert_eq!(me["roles"], serde_json::json!(["user"]));
    let by_cookie = Request::get("/me")
        .header(header::COOKIE, format!("lang=ja; __Host-authbench={token}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(status(app, by_cookie).await, 200);

    // No credential: 401 with a bare challenge.
    let resp = send(app, Request::get("/me").body(Body::empty()).unwrap()).await;
    assert_eq!(resp.status(), 401);
    assert_eq!(resp.headers()[header::WWW_AUTHENTICATE], "Bearer");

    // Garbage, oversized, forged: 401, never 5xx, and the challenge names invalid_token.
    let mut forged = token.clone().into_bytes();
    let mid = forged.len() / 2;
    forged[mid] = if forged[mid] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).unwrap();
    let cases = [
        "garbage".to_owned(),
        "a.b.c".to_owned(),
        "x".repeat(64 * 1024),
        forged,
        format!("{token}x"),
        token[..token.len() - 1].to_owned(),
    ];
    for bad in &cases {
        let resp = send(app, bearer("GET", "/me", bad)).await;
        assert_eq!(resp.status(), 401, "credential of {} bytes", bad.len());
        let challenge = resp.headers()[header::WWW_AUTHENTICATE]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(challenge.contains("invalid_token"), "{challenge}");
    }
    // Odd header shapes: 401, never 5xx.
    for value in ["Basic YWxpY2U6cHc=", "Bearer", "Bearer a b", "bearer  "] {
        let req = Request::get("/me")
            .header(header::AUTHORIZATION, value)
            .body(Body::empty())
            .unwrap();
        assert_eq!(status(app, req).await, 401, "{value}");
    }
    let invalid_utf8 = Request::get("/me")
        .header(header::AUTHORIZATION, &b"Bearer \xff\xfe"[..])
        .body(Body::empty())
        .unwrap();
    assert_eq!(status(app, invalid_utf8).await, 401);
}

#[tokio::test]
async fn session_backend_over_http() {
    let redis = RedisServer::start().expect("redis-server (install: scripts/setup)");
    let clock: SharedClock = Arc::new(ManualClock::at_system_time());
    let app = session_app(&redis, clock).await;
    common_contract(&app).await;

    // Logout revokes on the server: the same token is dead at once.
    let token = login(&app, "bob").await;
    assert_eq!(status(&app, bearer("GET", "/me", &token)).await, 200);
    let resp = send(&app, bearer("POST", "/logout", &token)).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(resp.headers()["authbench-revoked"], "true");
    assert!(
        resp.headers()[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    assert_eq!(status(&app, bearer("GET", "/me", &token)).await, 401);
    assert_eq!(status(&app, bearer("POST", "/logout", &token)).await, 401);

    // Logout-all ends every session of the user, and only theirs.
    let a1 = login(&app, "admin").await;
    let a2 = login(&app, "admin").await;
    let other = login(&app, "alice").await;
    assert_eq!(status(&app, bearer("POST", "/logout-all", &a1)).await, 204);
    assert_eq!(status(&app, bearer("GET", "/me", &a1)).await, 401);
    assert_eq!(status(&app, bearer("GET", "/me", &a2)).await, 401);
    assert_eq!(status(&app, bearer("GET", "/me", &other)).await, 200);
}

#[tokio::test]
async fn jwt_backend_over_http_cannot_revoke() {
    for alg in [Alg::HS256, Alg::ES256, Alg::EdDSA] {
        let clock = ManualClock::at_system_time();
        let app = jwt_app(alg, Arc::new(clock.clone()));
        common_contract(&app).await;

        // The lesson: logout drops the cookie, but the token itself keeps working until exp.
        let token = login(&app, "bob").await;
        let resp = send(&app, bearer("POST", "/logout", &token)).await;
        assert_eq!(resp.status(), StatusCode::NO_CONTENT);
        assert_eq!(resp.headers()["authbench-revoked"], "false");
        assert_eq!(
            status(&app, bearer("GET", "/me", &token)).await,
            200,
            "{alg}"
        );
        assert_eq!(
            status(&app, bearer("POST", "/logout-all", &token)).await,
            204
        );
        assert_eq!(
            status(&app, bearer("GET", "/me", &token)).await,
            200,
            "{alg}"
        );

        // ... until it expires.
        clock.advance(3600);
        let resp = send(&app, bearer("GET", "/me", &token)).await;
        assert_eq!(resp.status(), 401);
        assert_eq!(body_json(resp).await["error"], "expired");
    }
}

#[tokio::test]
async fn jwks_is_published_for_asymmetric_keys_only() {
    let clock: SharedClock = Arc::new(ManualClock::at_system_time());
    let resp = send(
        &jwt_app(Alg::ES256, Arc::clone(&clock)),
        Request::get("/.well-known/jwks.json")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(resp.status(), 200);
    let jwks = body_json(resp).await;
    let key = &jwks["keys"][0];
    assert_eq!(key["kty"], "EC");
    assert!(key["kid"].as_str().is_some_and(|k| !k.is_empty()));
    assert!(key.get("d").is_none(), "private key material in the JWKS");
    let resp = send(
        &jwt_app(Alg::HS256, clock),
        Request::get("/.well-known/jwks.json")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(resp.status(), 404, "a shared secret is never published");
}

#[tokio::test]
async fn session_fails_closed_when_redis_stops_and_heals_when_it_returns() {
    let mut redis = RedisServer::start().expect("redis-server (install: scripts/setup)");
    let clock: SharedClock = Arc::new(ManualClock::at_system_time());
    let app = session_app(&redis, clock).await;
    let token = login(&app, "alice").await;
    assert_eq!(status(&app, bearer("GET", "/me", &token)).await, 200);

    redis.stop();
    let started = Instant::now();
    let resp = send(&app, bearer("GET", "/me", &token)).await;
    let took = started.elapsed();
    assert_eq!(
        resp.status(),
        StatusCode::SERVICE_UNAVAILABLE,
        "fail closed, never a pass"
    );
    assert_eq!(resp.headers()[header::RETRY_AFTER], "1");
    assert!(took < Duration::from_millis(1500), "503 took {took:?}");
    // Login needs Redis too: 503, not a credential that cannot be checked later.
    assert_eq!(status(&app, login_req("alice", PASSWORD)).await, 503);
    // Garbage is still a 401: it never needed Redis.
    assert_eq!(status(&app, bearer("GET", "/me", "garbage")).await, 401);

    redis.restart().expect("restart redis");
    // The same app heals without a restart (the private Redis kept nothing, so log in again).
    let deadline = Instant::now() + Duration::from_secs(10);
    let token = loop {
        let resp = send(&app, login_req("alice", PASSWORD)).await;
        if resp.status() == 200 {
            break body_json(resp).await["token"].as_str().unwrap().to_owned();
        }
        assert!(Instant::now() < deadline, "did not heal: {}", resp.status());
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(status(&app, bearer("GET", "/me", &token)).await, 200);
}
