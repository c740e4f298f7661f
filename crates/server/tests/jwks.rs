//! Several instances: one JWT issuer served on a real loopback port, two verifier-only apps
//! that fetch its `/.well-known/jwks.json` over HTTP. Login on the issuer, `/me` on the
//! verifiers; rotate the issuer's key with `POST /admin/keys/rotate`; old and new tokens both
//! pass on every verifier. Time is one `ManualClock` shared by the three instances.

mod common;

use std::sync::Arc;

use authbench_core::{ErrorKind, ManualClock, SharedClock};
use authbench_jwt::{Alg, JwksConfig, JwtBackend, JwtConfig, SigningKey, dangerous};
use authbench_server::keys::{self, RotateKeys, RotatedKey};
use authbench_server::{AppState, app};
use axum::Router;
use axum::http::StatusCode;
use common::{bearer, body_json, fresh_users, login, login_req, me, send};
use serde_json::json;

/// The issuer's router, with the rotation route mounted as `authbench serve` does.
fn issuer_router(issuer: &Arc<JwtBackend>) -> Router {
    let state = AppState::new(Arc::clone(issuer), fresh_users());
    let backend = Arc::clone(issuer);
    let rotate: RotateKeys = Arc::new(move || {
        let r = backend.rotate_generated()?;
        Ok(RotatedKey {
            kid: r.kid,
            previous_kid: r.previous_kid,
            previous_published_until: r.previous_published_until,
            signs_from: r.signs_from,
        })
    });
    app(state.clone()).merge(keys::router(state, rotate))
}

struct Issuer {
    backend: Arc<JwtBackend>,
    router: Router,
    jwks_url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Issuer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn start_issuer(clock: &SharedClock) -> Issuer {
    let backend =
        Arc::new(JwtBackend::new(JwtConfig::new(Alg::ES256), clock.clone()).expect("issuer"));
    let router = issuer_router(&backend);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = router.clone();
    tokio::spawn(async move {
        let _ = authbench_server::serve(listener, served, async {
            let _ = stopped.await;
        })
        .await;
    });
    Issuer {
        backend,
        router,
        jwks_url: format!("http://{addr}/.well-known/jwks.json"),
        stop: Some(stop),
    }
}

async fn verifier_app(clock: &SharedClock, url: &str) -> (Arc<JwtBackend>, Router) {
    let backend = Arc::new(
        JwtBackend::verifier_only(
            JwtConfig::new(Alg::ES256),
            clock.clone(),
            JwksConfig::new(url),
            None,
        )
        .await
        .expect("verifier-only backend"),
    );
    let router = app(AppState::new(Arc::clone(&backend), fresh_users()));
    (backend, router)
}

fn kid_of(token: &str) -> String {
    let anatomy = authbench_jwt::anatomy::inspect(token).expect("a JWS");
    anatomy.header.json.expect("JSON header")["kid"]
        .as_str()
        .expect("kid")
        .to_owned()
}

#[tokio::test]
async fn one_issuer_two_verifiers_and_a_rotation() {
    let clock = ManualClock::at_system_time();
    let shared: SharedClock = Arc::new(clock.clone());
    let issuer = start_issuer(&shared).await;
    let (v1, app1) = verifier_app(&shared, &issuer.jwks_url).await;
    let (v2, app2) = verifier_app(&shared, &issuer.jwks_url).await;

    // Log in on the issuer; the verifiers accept the token.
    let old = login(&issuer.router, "alice").await;
    for app in [&app1, &app2] {
        let (status, body) = me(app, &old).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["subject"], "alice");
    }
    // A verifier cannot log anyone in (no signing key) and has no rotation route.
    let resp = send(&app1, login_req("alice", common::PASSWORD)).await;
    assert_eq!(resp.status(), StatusCode::NOT_IMPLEMENTED);
    let admin_token = login(&issuer.router, "admin").await;
    let resp = send(&app1, bearer("POST", "/admin/keys/rotate", &admin_token)).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    // …and publishes no keys of its own.
    let resp = send(&app1, bearer("GET", "/.well-known/jwks.json", &old)).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);

    // Rotation is for admins only.
    let resp = send(&issuer.router, bearer("POST", "/admin/keys/rotate", &old)).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let resp = send(
        &issuer.router,
        bearer("POST", "/admin/keys/rotate", "garbage"),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);

    // Rotate. A verifier may refresh on an unknown kid once per 10 s: let that pass.
    let resp = send(
        &issuer.router,
        bearer("POST", "/admin/keys/rotate", &admin_token),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let rotated = body_json(resp).await;
    assert_eq!(rotated["previous_kid"], kid_of(&old));
    assert_eq!(rotated["kid"], issuer.backend.kid());
    clock.advance(10);

    let new = login(&issuer.router, "alice").await;
    assert_eq!(kid_of(&new), rotated["kid"].as_str().expect("kid"));
    for (v, app) in [(&v1, &app1), (&v2, &app2)] {
        assert_eq!(me(app, &new).await.0, StatusCode::OK, "new token");
        assert_eq!(me(app, &old).await.0, StatusCode::OK, "old token");
        assert_eq!(
            me(app, &admin_token).await.0,
            StatusCode::OK,
            "old admin token"
        );
        let stats = v.jwks_stats().expect("stats");
        assert_eq!(stats.fetches, 2, "one fetch at start, one for the new kid");
        assert_eq!(stats.kids.len(), 2);
    }
    // The issuer publishes both keys, newest first.
    let resp = send(
        &issuer.router,
        bearer("GET", "/.well-known/jwks.json", &new),
    )
    .await;
    let jwks = body_json(resp).await;
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| k["kid"].as_str().expect("kid"))
        .collect();
    assert_eq!(
        kids,
        vec![rotated["kid"].as_str().expect("kid"), kid_of(&old).as_str()]
    );
}

#[tokio::test]
async fn a_verifier_answers_401_for_forged_keys_and_503_when_it_cannot_check() {
    let clock = ManualClock::at_system_time();
    let shared: SharedClock = Arc::new(clock.clone());
    let mut issuer = start_issuer(&shared).await;
    let (v, verifier) = verifier_app(&shared, &issuer.jwks_url).await;
    let now = shared.now();
    let attacker = SigningKey::generate(Alg::ES256).expect("key");
    let forge = |header: serde_json::Value| {
        let claims = json!({
            "iss": "authbench", "sub": "mallory", "aud": "authbench-api",
            "exp": now + 600, "nbf": now, "iat": now, "jti": "forged-jti-0000000000",
            "tenant": "acme", "roles": ["admin"],
        });
        dangerous::sign_raw(
            header.to_string().as_bytes(),
            claims.to_string().as_bytes(),
            &attacker,
        )
        .expect("sign")
    };
    clock.advance(10);
    // The attacker's key named by the issuer's kid: bad signature.
    let t = forge(json!({"alg": "ES256", "typ": "at+jwt", "kid": issuer.backend.kid()}));
    assert_eq!(me(&verifier, &t).await.0, StatusCode::UNAUTHORIZED);
    // The attacker's key behind a jku: refused, and not fetched.
    let t = forge(
        json!({"alg": "ES256", "typ": "at+jwt", "kid": attacker.kid(),
                         "jku": format!("{}?evil", issuer.jwks_url)}),
    );
    let resp = send(&verifier, bearer("GET", "/me", &t)).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        body_json(resp).await["error"],
        ErrorKind::UnknownKey.as_str()
    );
    assert_eq!(v.jwks_stats().expect("stats").fetches, 1);
    // An unknown kid while the issuer is up: one refresh, 401.
    let t = forge(json!({"alg": "ES256", "typ": "at+jwt", "kid": attacker.kid()}));
    assert_eq!(me(&verifier, &t).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(v.jwks_stats().expect("stats").fetches, 2);

    // The issuer goes away and rotates (a restart with a new key, say).
    let good = login(&issuer.router, "alice").await;
    if let Some(stop) = issuer.stop.take() {
        let _ = stop.send(());
    }
    issuer.backend.rotate_generated().expect("rotate");
    let unknown = login(&issuer.router, "alice").await;
    clock.advance(10);
    let resp = send(&verifier, bearer("GET", "/me", &unknown)).await;
    assert_eq!(
        resp.status(),
        StatusCode::SERVICE_UNAVAILABLE,
        "cannot check: fail closed"
    );
    assert_eq!(resp.headers()["retry-after"], "1");
    // Tokens with a cached kid are still served.
    assert_eq!(me(&verifier, &good).await.0, StatusCode::OK);
}
