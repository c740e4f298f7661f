//! Key compromise, over HTTP: `POST /admin/keys/revoke` on an issuer served on a real loopback
//! port, and verifier-only apps that fetch its JWKS. A token of the revoked `kid` is 401 on
//! the issuer at once, a fresh login works at once, a verifier refuses it after its next JWKS
//! fetch (at once when told itself), and the `kid` never comes back through a rotation. Time
//! is one `ManualClock` shared by every instance.

mod common;

use std::sync::Arc;

use authbench_core::{ManualClock, SharedClock};
use authbench_jwt::{Alg, JwksConfig, JwtBackend, JwtConfig, JwtError, SigningKey};
use authbench_server::keys::{self, RevokeKey, RevokedKey, RotateKeys, RotatedKey};
use authbench_server::{AppState, app};
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{bearer, body_json, fresh_users, json_req, login, me, send};

/// The key routes, mounted as `authbench serve` does (rotate on an issuer only).
fn router(backend: &Arc<JwtBackend>) -> Router {
    let state = AppState::new(Arc::clone(backend), fresh_users());
    let b = Arc::clone(backend);
    let revoke: RevokeKey = Arc::new(move |kid: &str| {
        let r = b.revoke_key(kid)?;
        Ok(RevokedKey {
            kid: r.kid,
            was_trusted: r.was_trusted,
            new_signing_kid: r.new_signing_kid,
        })
    });
    let mut router = app(state.clone()).merge(keys::revoke_router(state.clone(), revoke));
    if !backend.is_verifier_only() {
        let b = Arc::clone(backend);
        let rotate: RotateKeys = Arc::new(move || {
            let r = b.rotate_generated()?;
            Ok(RotatedKey {
                kid: r.kid,
                previous_kid: r.previous_kid,
                previous_published_until: r.previous_published_until,
                signs_from: r.signs_from,
            })
        });
        router = router.merge(keys::router(state, rotate));
    }
    router
}

fn revoke_req(admin_token: &str, kid: &str) -> Request<Body> {
    json_req(
        "POST",
        "/admin/keys/revoke",
        Some(admin_token),
        &serde_json::json!({ "kid": kid }).to_string(),
    )
}

struct Issuer {
    backend: Arc<JwtBackend>,
    router: Router,
    jwks_url: String,
    _stop: tokio::sync::oneshot::Sender<()>,
}

async fn start_issuer(clock: &SharedClock, config: JwtConfig) -> Issuer {
    let backend = Arc::new(JwtBackend::new(config, clock.clone()).expect("issuer"));
    let router = router(&backend);
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
        _stop: stop,
    }
}

async fn verifier(clock: &SharedClock, url: &str, config: JwtConfig) -> (Arc<JwtBackend>, Router) {
    let backend = Arc::new(
        JwtBackend::verifier_only(config, clock.clone(), JwksConfig::new(url), None)
            .await
            .expect("verifier-only backend"),
    );
    let r = router(&backend);
    (backend, r)
}

fn kid_of(token: &str) -> String {
    let anatomy = authbench_jwt::anatomy::inspect(token).expect("a JWS");
    anatomy.header.json.expect("JSON header")["kid"]
        .as_str()
        .expect("kid")
        .to_owned()
}

async fn published_kids(issuer: &Router) -> Vec<String> {
    let resp = send(
        issuer,
        Request::get("/.well-known/jwks.json")
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    body_json(resp).await["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| k["kid"].as_str().expect("kid").to_owned())
        .collect()
}

#[tokio::test]
async fn a_revoked_signing_key_is_refused_at_once_and_a_fresh_login_works_at_once() {
    let clock = ManualClock::at_system_time();
    let shared: SharedClock = Arc::new(clock.clone());
    let issuer = start_issuer(&shared, JwtConfig::new(Alg::ES256)).await;
    let alice = login(&issuer.router, "alice").await;
    let admin = login(&issuer.router, "admin").await;
    let compromised = kid_of(&alice);
    assert_eq!(me(&issuer.router, &alice).await.0, StatusCode::OK);

    // Admins only; a bad body is a 400, before anything changes.
    let resp = send(&issuer.router, revoke_req(&alice, &compromised)).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let resp = send(&issuer.router, revoke_req("garbage", &compromised)).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let resp = send(&issuer.router, revoke_req(&admin, "")).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let resp = send(
        &issuer.router,
        json_req("POST", "/admin/keys/revoke", Some(&admin), "{\"kid\":1}"),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(me(&issuer.router, &alice).await.0, StatusCode::OK);

    let resp = send(&issuer.router, revoke_req(&admin, &compromised)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let answer = body_json(resp).await;
    assert_eq!(answer["kid"], compromised.as_str());
    assert_eq!(answer["was_trusted"], true);
    let new_kid = answer["new_signing_kid"]
        .as_str()
        .expect("a new signing key");
    assert_ne!(new_kid, compromised);

    // At once, same second: every token of that key is refused (the admin's own too).
    assert_eq!(me(&issuer.router, &alice).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(me(&issuer.router, &admin).await.0, StatusCode::UNAUTHORIZED);
    // A fresh login works at once, signed by the new key, and the JWKS has only that key.
    let fresh = login(&issuer.router, "alice").await;
    assert_eq!(kid_of(&fresh), new_kid);
    assert_eq!(me(&issuer.router, &fresh).await.0, StatusCode::OK);
    assert_eq!(
        published_kids(&issuer.router).await,
        vec![new_kid.to_owned()]
    );
    assert_eq!(issuer.backend.distrusted_kids(), vec![compromised.clone()]);

    // Revoking again (or a kid we never held) changes no key and answers was_trusted false.
    let admin = login(&issuer.router, "admin").await;
    let again = body_json(send(&issuer.router, revoke_req(&admin, &compromised)).await).await;
    assert_eq!(again["was_trusted"], false);
    assert_eq!(again["new_signing_kid"], serde_json::Value::Null);
    assert_eq!(me(&issuer.router, &fresh).await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_revoked_retired_key_goes_at_once_not_when_its_tokens_expire() {
    let clock = ManualClock::at_system_time();
    let shared: SharedClock = Arc::new(clock.clone());
    let issuer = start_issuer(&shared, JwtConfig::new(Alg::ES256)).await;
    let old = login(&issuer.router, "alice").await;
    let admin = login(&issuer.router, "admin").await;
    let rotated =
        body_json(send(&issuer.router, bearer("POST", "/admin/keys/rotate", &admin)).await).await;
    let current = rotated["kid"].as_str().expect("kid").to_owned();
    // Rotation keeps the old key verifying (a retired key).
    assert_eq!(me(&issuer.router, &old).await.0, StatusCode::OK);
    let admin = login(&issuer.router, "admin").await;
    let answer = body_json(send(&issuer.router, revoke_req(&admin, &kid_of(&old))).await).await;
    assert_eq!(answer["was_trusted"], true);
    assert_eq!(
        answer["new_signing_kid"],
        serde_json::Value::Null,
        "the signing key stays"
    );
    assert_eq!(me(&issuer.router, &old).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(me(&issuer.router, &admin).await.0, StatusCode::OK);
    assert_eq!(published_kids(&issuer.router).await, vec![current]);
}

#[tokio::test]
async fn a_verifier_refuses_the_revoked_key_after_its_next_jwks_fetch() {
    let clock = ManualClock::at_system_time();
    let shared: SharedClock = Arc::new(clock.clone());
    let issuer = start_issuer(&shared, JwtConfig::new(Alg::ES256)).await;
    let (v1, app1) = verifier(&shared, &issuer.jwks_url, JwtConfig::new(Alg::ES256)).await;
    let (v2, app2) = verifier(&shared, &issuer.jwks_url, JwtConfig::new(Alg::ES256)).await;
    let alice = login(&issuer.router, "alice").await;
    let admin = login(&issuer.router, "admin").await;
    let compromised = kid_of(&alice);
    for app in [&app1, &app2] {
        assert_eq!(me(app, &alice).await.0, StatusCode::OK);
    }

    let resp = send(&issuer.router, revoke_req(&admin, &compromised)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    // Before their next fetch the verifiers still hold the key: this is the window the
    // measurement in `compare` puts a number on.
    assert_eq!(
        me(&app1, &alice).await.0,
        StatusCode::OK,
        "cached, not fetched yet"
    );

    // v1's next fetch: the first token of the new key is an unknown kid (past the refresh
    // interval), the fetched set lacks the revoked key, and from then on its tokens are 401.
    clock.advance(10);
    let fresh = login(&issuer.router, "alice").await;
    assert_eq!(me(&app1, &fresh).await.0, StatusCode::OK);
    assert_eq!(me(&app1, &alice).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(v1.jwks_stats().expect("stats").kids, vec![kid_of(&fresh)]);
    // v2 fetches by itself (an operator's forced refresh stands in for the max-age refresh).
    assert_eq!(v2.refresh_jwks().await, Some(true));
    assert_eq!(me(&app2, &alice).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(me(&app2, &fresh).await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_verifier_told_itself_refuses_at_once_and_in_every_later_fetch() {
    let clock = ManualClock::at_system_time();
    let shared: SharedClock = Arc::new(clock.clone());
    let issuer = start_issuer(&shared, JwtConfig::new(Alg::ES256)).await;
    let (v, app) = verifier(&shared, &issuer.jwks_url, JwtConfig::new(Alg::ES256)).await;
    let alice = login(&issuer.router, "alice").await;
    let admin = login(&issuer.router, "admin").await;
    let compromised = kid_of(&alice);
    assert_eq!(me(&app, &alice).await.0, StatusCode::OK);

    // The admin's credential is checked by the verifier itself (it trusts the issuer's key
    // until this very request revokes it).
    let answer = body_json(send(&app, revoke_req(&admin, &compromised)).await).await;
    assert_eq!(answer["was_trusted"], true);
    assert_eq!(answer["new_signing_kid"], serde_json::Value::Null);
    assert_eq!(
        me(&app, &alice).await.0,
        StatusCode::UNAUTHORIZED,
        "at once"
    );
    // The issuer still publishes it (nobody told the issuer): later fetches keep dropping it,
    // and a token naming it does not even cause a fetch.
    let fetches = v.jwks_stats().expect("stats").fetches;
    clock.advance(10);
    assert_eq!(me(&app, &alice).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(v.jwks_stats().expect("stats").fetches, fetches, "no fetch");
    assert_eq!(v.refresh_jwks().await, Some(true));
    assert!(
        v.jwks_stats().expect("stats").kids.is_empty(),
        "its only key is distrusted"
    );
    assert_eq!(me(&app, &alice).await.0, StatusCode::UNAUTHORIZED);

    // `serve --distrust-kid`: a verifier started with the kid distrusted never takes it.
    let mut config = JwtConfig::new(Alg::ES256);
    config.distrusted_kids = vec![compromised.clone()];
    let refused = JwtBackend::verifier_only(
        config,
        shared.clone(),
        JwksConfig::new(&issuer.jwks_url),
        None,
    )
    .await;
    assert!(
        refused.is_err(),
        "its only key is distrusted: nothing to verify with"
    );
    issuer.backend.rotate_generated().expect("rotate");
    let mut config = JwtConfig::new(Alg::ES256);
    config.distrusted_kids = vec![compromised.clone()];
    let (v3, app3) = verifier(&shared, &issuer.jwks_url, config).await;
    assert_eq!(
        v3.jwks_stats().expect("stats").kids,
        vec![issuer.backend.kid()]
    );
    assert_eq!(me(&app3, &alice).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        me(&app3, &login(&issuer.router, "bob").await).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_revoked_kid_never_comes_back() {
    let clock = ManualClock::at_system_time();
    let shared: SharedClock = Arc::new(clock.clone());
    let key = SigningKey::generate(Alg::ES256).expect("key");
    let pem = key.private_key_pem().expect("pem");
    let backend = Arc::new(
        JwtBackend::with_key(JwtConfig::new(Alg::ES256), key, shared.clone()).expect("issuer"),
    );
    let issuer = router(&backend);
    let compromised = backend.kid();
    let admin = login(&issuer, "admin").await;
    let resp = send(&issuer, revoke_req(&admin, &compromised)).await;
    assert_eq!(resp.status(), StatusCode::OK);

    // Not the same key, not another key under its kid.
    let same = SigningKey::from_pem(Alg::ES256, pem.as_bytes()).expect("same key");
    assert_eq!(same.kid(), compromised);
    assert!(matches!(
        backend.rotate_signing_key(same),
        Err(JwtError::DistrustedKid(_))
    ));
    let renamed = SigningKey::generate(Alg::ES256)
        .expect("key")
        .with_kid(compromised.clone());
    assert!(matches!(
        backend.rotate_signing_key(renamed),
        Err(JwtError::DistrustedKid(_))
    ));
    // Rotation through HTTP makes fresh keys, never that one; the kid stays refused.
    let admin = login(&issuer, "admin").await;
    let resp = send(&issuer, bearer("POST", "/admin/keys/rotate", &admin)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_ne!(body_json(resp).await["kid"], compromised.as_str());
    assert!(!published_kids(&issuer).await.contains(&compromised));
    assert_eq!(backend.distrusted_kids(), vec![compromised.clone()]);

    // A restart with the compromised key file and `--distrust-kid` refuses to start.
    let mut config = JwtConfig::new(Alg::ES256);
    config.distrusted_kids = vec![compromised.clone()];
    let same = SigningKey::from_pem(Alg::ES256, pem.as_bytes()).expect("same key");
    assert!(matches!(
        JwtBackend::with_key(config, same, shared.clone()),
        Err(JwtError::DistrustedKid(_))
    ));
}

#[tokio::test]
async fn revoking_during_a_scheduled_rotation_promotes_the_pre_published_key() {
    let clock = ManualClock::at_system_time();
    let shared: SharedClock = Arc::new(clock.clone());
    let mut config = JwtConfig::new(Alg::ES256);
    config.key_prepublish_secs = 300;
    let issuer = start_issuer(&shared, config).await;
    let alice = login(&issuer.router, "alice").await;
    let admin = login(&issuer.router, "admin").await;
    let scheduled =
        body_json(send(&issuer.router, bearer("POST", "/admin/keys/rotate", &admin)).await).await;
    let next = scheduled["kid"].as_str().expect("kid").to_owned();
    let answer = body_json(send(&issuer.router, revoke_req(&admin, &kid_of(&alice))).await).await;
    assert_eq!(answer["new_signing_kid"], next.as_str());
    assert_eq!(me(&issuer.router, &alice).await.0, StatusCode::UNAUTHORIZED);
    let fresh = login(&issuer.router, "alice").await;
    assert_eq!(kid_of(&fresh), next);
    assert_eq!(published_kids(&issuer.router).await, vec![next]);
}
