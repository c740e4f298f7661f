//! JWE end to end over HTTP, through the workspace's axum app: login → `/me` 200 for every
//! mode (and nested); a tampered, truncated, oversized or foreign token → 401 with
//! `WWW-Authenticate`; the token shows nothing of the claims.

use authbench_core::{Authenticator, ManualClock};
use authbench_jwe::{JweBackend, JweConfig, KeyAlg};
use authbench_server::{AppState, DemoUsers, UserStore, app};
use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response, StatusCode, header};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http_body_util::BodyExt;
use std::sync::{Arc, OnceLock};
use tower::ServiceExt;

const PASSWORD: &str = "correct horse battery staple";

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

async fn send(app: &Router, req: Request<Body>) -> Response<Body> {
    app.clone()
        .oneshot(req)
        .await
        .expect("router is infallible")
}

async fn body_json(resp: Response<Body>) -> serde_json::Value {
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    serde_json::from_slice(&bytes).expect("JSON body")
}

async fn login(app: &Router, user: &str) -> String {
    let req = Request::builder()
        .method("POST")
        .uri("/login")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            serde_json::json!({"username": user, "password": PASSWORD}).to_string(),
        ))
        .expect("request");
    let resp = send(app, req).await;
    assert_eq!(resp.status(), StatusCode::OK, "login as {user}");
    body_json(resp).await["token"]
        .as_str()
        .expect("token")
        .to_owned()
}

fn me(token: &str) -> Request<Body> {
    Request::builder()
        .uri("/me")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .expect("request")
}

async fn assert_401(app: &Router, token: &str, what: &str) {
    let resp = send(app, me(token)).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{what}");
    assert!(
        resp.headers().contains_key(header::WWW_AUTHENTICATE),
        "{what}"
    );
}

fn tamper(token: &str, part: usize) -> String {
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let p = &mut parts[part];
    let first = p.remove(0);
    p.insert(0, if first == 'A' { 'g' } else { 'A' });
    parts.join(".")
}

#[tokio::test]
async fn every_mode_works_end_to_end_over_http() {
    let configs = [
        JweConfig::new(KeyAlg::Dir),
        JweConfig::new(KeyAlg::RsaOaep256),
        JweConfig::new(KeyAlg::EcdhEsA256kw),
        JweConfig::new(KeyAlg::EcdhEsA256kw).nested(authbench_jwt::Alg::ES256),
    ];
    for config in configs {
        let name = config.name();
        let clock = Arc::new(ManualClock::at_system_time());
        let app = router_for(JweBackend::new(config.clone(), clock.clone()).expect("backend"));
        let token = login(&app, "alice").await;
        assert_eq!(token.split('.').count(), 5, "{name}: a compact JWE");

        let resp = send(&app, me(&token)).await;
        assert_eq!(resp.status(), StatusCode::OK, "{name}");
        let body = body_json(resp).await;
        assert_eq!(body["subject"], "alice", "{name}: {body}");
        assert_eq!(body["tenant"], "acme", "{name}: {body}");

        // Opaque: no part of the token decodes to anything mentioning the user.
        for part in token.split('.') {
            let bytes = URL_SAFE_NO_PAD.decode(part).unwrap_or_default();
            let text = String::from_utf8_lossy(&bytes);
            assert!(
                !text.contains("alice") && !text.contains("acme"),
                "{name}: {text}"
            );
        }

        // The same credential as a cookie.
        let cookie = Request::builder()
            .uri("/me")
            .header(header::COOKIE, format!("__Host-authbench={token}"))
            .body(Body::empty())
            .expect("request");
        assert_eq!(
            send(&app, cookie).await.status(),
            StatusCode::OK,
            "{name}: cookie"
        );

        for part in 0..5 {
            if part == 1 && config.alg == KeyAlg::Dir {
                continue; // empty
            }
            assert_401(&app, &tamper(&token, part), &format!("{name}: part {part}")).await;
        }
        assert_401(
            &app,
            &token[..token.len() - 2],
            &format!("{name}: truncated"),
        )
        .await;
        assert_401(&app, &format!("{token}.x"), &format!("{name}: six parts")).await;
        assert_401(&app, &"A".repeat(9000), &format!("{name}: oversized")).await;

        // Another server's token (its own key) is rejected.
        let other = router_for(JweBackend::new(config, clock.clone()).expect("other backend"));
        let foreign = login(&other, "alice").await;
        assert_401(&app, &foreign, &format!("{name}: foreign")).await;

        // Expiry: 15 minutes plus the leeway later, the token is refused.
        clock.advance(900 + 5);
        assert_401(&app, &token, &format!("{name}: expired")).await;
    }
}
