//! JWE end to end over HTTP, through the workspace's axum app: login → `/me` 200 for every
//! mode (and nested); a tampered, truncated, oversized or foreign token → 401 with
//! `WWW-Authenticate`; the token shows nothing of the claims.

use authbench_core::{Authenticator, Clock, Identity, ManualClock};
use authbench_jwe::{
    HeaderFields, INSECURE_NAME_SUFFIX, JweBackend, JweConfig, JweError, JweKey, KeyAlg, encrypt,
};
use authbench_jwt::{JwtBackend, JwtConfig};
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
        JweConfig::new(KeyAlg::RsaOaep256).insecure_unauthenticated(),
        JweConfig::new(KeyAlg::EcdhEsA256kw).insecure_unauthenticated(),
        JweConfig::new(KeyAlg::EcdhEsA256kw).nested(authbench_jwt::Alg::ES256),
        JweConfig::new(KeyAlg::RsaOaep256).nested(authbench_jwt::Alg::ES256),
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

/// `PUT /admin/users/alice/roles` as the holder of `token`.
fn make_alice_admin(token: &str) -> Request<Body> {
    Request::builder()
        .method("PUT")
        .uri("/admin/users/alice/roles")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(r#"{"roles":["user","admin"]}"#))
        .expect("request")
}

/// What an attacker who holds only the public encryption key can mint for `alg`: the admin's
/// claims encrypted directly (the plain form), as an unsigned `alg: none` JWS in the nested
/// form, and as a JWS signed with the attacker's own ES256 key in the nested form.
fn forgeries(public: &JweKey, now: u64) -> Vec<(&'static str, String)> {
    let claims = serde_json::json!({
        "iss": authbench_jwt::DEFAULT_ISSUER, "aud": authbench_jwt::DEFAULT_AUDIENCE,
        "sub": "admin", "tenant": "acme", "roles": ["user", "admin"],
        "exp": now + 600, "nbf": now, "iat": now, "jti": "forged",
    })
    .to_string();
    let plain = HeaderFields {
        typ: Some(authbench_jwt::DEFAULT_TOKEN_TYPE),
        cty: None,
    };
    let nested = HeaderFields {
        typ: None,
        cty: Some(authbench_jwe::NESTED_CONTENT_TYPE),
    };
    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"at+jwt"}"#),
        URL_SAFE_NO_PAD.encode(&claims)
    );
    let attacker = JwtBackend::new(
        JwtConfig::new(authbench_jwt::Alg::ES256),
        Arc::new(ManualClock::at_system_time()),
    )
    .expect("attacker's own signer");
    let self_signed = attacker
        .issue_now(&Identity {
            subject: "admin".into(),
            tenant: "acme".into(),
            roles: vec!["user".into(), "admin".into()],
        })
        .expect("self-signed")
        .token;
    let enc = |plaintext: &str, fields| encrypt(public, plaintext.as_bytes(), fields).expect("enc");
    vec![
        ("plain claims", enc(&claims, plain)),
        ("nested unsigned JWS", enc(&unsigned, nested)),
        ("nested self-signed JWS", enc(&self_signed, nested)),
    ]
}

/// A public-key mode (`RSA-OAEP-256`, `ECDH-ES+A256KW`) authenticates nothing unless a
/// signature is nested inside: the backend refuses the plain form, and a nested backend
/// answers 401 to every token minted with the public key alone, on `/me` and on the admin
/// routes. `dir` stays allowed (its key is secret). The insecure opt-in accepts the forgery,
/// which is why it says so in its name. (Before the refusal, `JweConfig::new(RSA-OAEP-256)`
/// built a backend that answered 200 to the plain forgery, admin routes included.)
#[tokio::test]
async fn a_token_minted_with_only_the_public_key_is_refused() {
    let clock = Arc::new(ManualClock::at_system_time());
    let now = clock.now();
    JweBackend::new(JweConfig::new(KeyAlg::Dir), clock.clone()).expect("dir stays allowed");
    for alg in [KeyAlg::RsaOaep256, KeyAlg::EcdhEsA256kw] {
        let err = JweBackend::new(JweConfig::new(alg), clock.clone())
            .expect_err("a plain public-key mode is refused");
        assert!(
            matches!(err, JweError::Unauthenticated(a) if a == alg),
            "{err}"
        );
        let message = err.to_string();
        assert!(
            message.contains("--jwe-nested") && message.contains("authenticates nothing"),
            "{message}"
        );

        let backend = JweBackend::new(
            JweConfig::new(alg).nested(authbench_jwt::Alg::ES256),
            clock.clone(),
        )
        .expect("nested backend");
        assert!(!backend.describe().name.contains("INSECURE"));
        let public = JweKey::from_text(alg, &backend.key().to_text(true).expect("public key"))
            .expect("public key reads");
        assert!(!public.can_decrypt());
        let users = fresh_users();
        let app = app(AppState::new(Arc::new(backend), Arc::clone(&users)));
        // The control: a real login works, so the 401s below are about the forgeries.
        let genuine = login(&app, "alice").await;
        assert_eq!(send(&app, me(&genuine)).await.status(), StatusCode::OK);
        for (what, forged) in forgeries(&public, now) {
            assert_401(&app, &forged, &format!("{alg}: {what}")).await;
            let resp = send(&app, make_alice_admin(&forged)).await;
            assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{alg}: {what}");
        }
        assert_eq!(
            users.get("alice").expect("alice").identity.roles,
            ["user"],
            "{alg}: no admin route ran"
        );
    }

    // The opt-in: the same forgery gets in, admin included, and the name says INSECURE.
    let backend = JweBackend::new(
        JweConfig::new(KeyAlg::RsaOaep256).insecure_unauthenticated(),
        clock.clone(),
    )
    .expect("insecure opt-in");
    assert!(backend.describe().name.ends_with(INSECURE_NAME_SUFFIX));
    let public = JweKey::from_text(
        KeyAlg::RsaOaep256,
        &backend.key().to_text(true).expect("public key"),
    )
    .expect("public key reads");
    let app = app(AppState::new(Arc::new(backend), fresh_users()));
    let (_, forged) = forgeries(&public, now).remove(0);
    let resp = send(&app, me(&forged)).await;
    assert_eq!(
        resp.status(),
        StatusCode::OK,
        "the insecure mode is insecure"
    );
    assert_eq!(body_json(resp).await["subject"], "admin");
}

fn fresh_users() -> Arc<UserStore> {
    Arc::new(UserStore::demo(&DemoUsers::default()).expect("seed demo users"))
}
