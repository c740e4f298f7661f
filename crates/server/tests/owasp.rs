//! The OWASP session checks (OWASP Session Management Cheat Sheet, ASVS 5 V7)
//! as tests against the real app and a real Redis, one test per check, named after it.
//!
//! Most go through the HTTP app (`Router` + `oneshot`); the ID statistics go through the
//! backend's own `issue` (fifty thousand IDs over HTTP would measure argon2, not the
//! generator). Expiry moves a [`ManualClock`], never sleeps.

mod common;

use common::{
    PASSWORD, bearer, body_json, disable, fresh_users, json_req, login, login_req, me, redis, send,
    session_backend,
};

use authbench_core::{Authenticator, Identity, ManualClock, SharedClock};
use authbench_jwt::{Alg, JwtBackend, JwtConfig, Revocation};
use authbench_server::{AppState, COOKIE_NAME, app};
use authbench_services::RedisServer;
use authbench_session::{SessionBackend, SessionConfig};
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use std::collections::HashSet;
use std::sync::Arc;

fn clock() -> (ManualClock, SharedClock) {
    let clock = ManualClock::at_system_time();
    (clock.clone(), Arc::new(clock))
}

async fn session_app(redis: &RedisServer) -> (Router, ManualClock) {
    let (manual, shared) = clock();
    let backend = session_backend(redis, shared).await;
    (app(AppState::new(Arc::new(backend), fresh_users())), manual)
}

/// A request carrying `token` in our cookie, as a browser sends it.
fn with_cookie(mut req: Request<Body>, token: &str) -> Request<Body> {
    req.headers_mut().insert(
        header::COOKIE,
        format!("{COOKIE_NAME}={token}").parse().expect("cookie"),
    );
    req
}

/// Logs in and returns the token and the `Set-Cookie` value.
async fn login_full(app: &Router, req: Request<Body>) -> (String, String) {
    let resp = send(app, req).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let cookie = resp.headers()[header::SET_COOKIE]
        .to_str()
        .expect("ascii")
        .to_owned();
    let token = body_json(resp).await["token"]
        .as_str()
        .expect("token")
        .to_owned();
    (token, cookie)
}

/// Decodes unpadded base64url (the session ID alphabet); `None` on anything else.
fn b64url_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// The random part of a session ID: all of it, or what follows the routing tag (`<tag>.`)
/// when the backend prefixes one (the tag is derived from the user, not random).
fn secret_of(id: &str) -> &str {
    id.rsplit_once('.').map_or(id, |(_, secret)| secret)
}

/// How many IDs the statistics look at: a million, drawn from the backend's own generator
/// (`SessionBackend::sample_id`, what `issue` calls), plus a few thousand real `issue`s
/// checked to come from the same generator. The bounds below scale with it.
const IDS: usize = 1_000_000;

/// Real logins among them: stored, issued IDs.
const ISSUED: usize = 2_000;

/// ASVS 5 7.2.3: at least 128 bits from a CSPRNG. Checked as: no duplicate among [`IDS`] IDs,
/// every ID of the issued length and alphabet, each of the 256 bit positions set in half the
/// IDs (within 6 standard deviations: a stuck or biased bit fails), and the byte histogram
/// flat (chi-square over 256 values within 8 standard deviations of its mean; Shannon entropy
/// over 7.99 bits per byte).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_ids_are_unique_and_look_uniformly_random() {
    let redis = redis();
    let (_, shared) = clock();
    let backend = Arc::new(session_backend(&redis, shared).await);
    let mut ids = Vec::with_capacity(IDS);
    for i in 0..ISSUED {
        let who = Identity {
            subject: format!("user{}", i % 1000),
            tenant: "acme".into(),
            roles: vec!["user".into()],
        };
        ids.push(backend.issue(&who).await.expect("issue").token);
    }
    for i in ISSUED..IDS {
        ids.push(
            backend
                .sample_id(&format!("user{}", i % 1000))
                .expect("sample"),
        );
    }
    assert_eq!(ids.len(), IDS);
    assert!(
        ids.iter().all(|id| id.len() == backend.id_len()),
        "issued and sampled IDs have one shape"
    );

    let unique: HashSet<&str> = ids.iter().map(String::as_str).collect();
    assert_eq!(unique.len(), IDS, "duplicate session IDs");

    let mut bit_ones = [0u64; 256];
    let mut byte_counts = [0u64; 256];
    for id in &ids {
        let secret = secret_of(id);
        assert_eq!(
            secret.len(),
            43,
            "a 256-bit secret is 43 base64url characters"
        );
        let raw = b64url_decode(secret).expect("base64url");
        assert_eq!(raw.len(), 32);
        for (i, byte) in raw.iter().enumerate() {
            byte_counts[usize::from(*byte)] += 1;
            for b in 0..8 {
                bit_ones[i * 8 + b] += u64::from((byte >> b) & 1);
            }
        }
    }
    let n = IDS as f64;
    let sd = n.sqrt() / 2.0;
    for (pos, ones) in bit_ones.iter().enumerate() {
        let z = (*ones as f64 - n / 2.0) / sd;
        assert!(
            z.abs() < 6.0,
            "bit {pos} is set in {ones} of {IDS} IDs (z = {z:.1})"
        );
    }
    let bytes: f64 = byte_counts.iter().sum::<u64>() as f64;
    let expected = bytes / 256.0;
    let chi2: f64 = byte_counts
        .iter()
        .map(|c| (*c as f64 - expected).powi(2) / expected)
        .sum();
    // 255 degrees of freedom: mean 255, standard deviation sqrt(510) ≈ 22.6.
    let chi_sd = 510f64.sqrt();
    assert!(
        (chi2 - 255.0).abs() < 8.0 * chi_sd,
        "byte histogram chi-square {chi2:.0} (expected about 255)"
    );
    let entropy: f64 = byte_counts
        .iter()
        .map(|c| *c as f64 / bytes)
        .filter(|p| *p > 0.0)
        .map(|p| -p * p.log2())
        .sum();
    assert!(entropy > 7.99, "{entropy:.4} bits per byte");
}

/// Session fixation: an ID chosen by the client (well formed, never issued) is never adopted,
/// whether it arrives as the cookie or as a bearer token at login; it never becomes valid.
#[tokio::test]
async fn a_client_chosen_session_id_is_never_adopted() {
    let redis = redis();
    let (app, _) = session_app(&redis).await;
    // Shaped exactly like ours (a real ID's routing tag, if any, and 43 base64url
    // characters), but never issued.
    let real = login(&app, "alice").await;
    let secret = "attackerChosenSessionIdAAAAAAAAAAAAAAAAAAAA";
    assert_eq!(secret.len(), secret_of(&real).len());
    let chosen = &format!("{}{secret}", &real[..real.len() - secret.len()]);
    assert_eq!(chosen.len(), real.len());
    assert_eq!(me(&app, chosen).await.0, StatusCode::UNAUTHORIZED);

    let (issued, cookie) =
        login_full(&app, with_cookie(login_req("alice", PASSWORD), chosen)).await;
    assert_ne!(&issued, chosen);
    assert!(!cookie.contains(secret), "{cookie}");
    let mut req = login_req("alice", PASSWORD);
    req.headers_mut().insert(
        header::AUTHORIZATION,
        format!("Bearer {chosen}").parse().expect("header"),
    );
    let (issued2, _) = login_full(&app, req).await;
    assert_ne!(&issued2, chosen);

    assert_eq!(me(&app, chosen).await.0, StatusCode::UNAUTHORIZED);
    let resp = send(&app, with_cookie(bearer_less_me(), chosen)).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(me(&app, &issued2).await.0, StatusCode::OK);
}

fn bearer_less_me() -> Request<Body> {
    Request::get("/me").body(Body::empty()).expect("request")
}

/// ASVS 5 7.2.4: a new ID at every login, and the session the client presented at login ends.
/// A login that presents nothing leaves the user's other sessions alone (other devices).
#[tokio::test]
async fn login_rotates_the_id_and_ends_the_presented_session() {
    let redis = redis();
    let (app, _) = session_app(&redis).await;
    let first = login(&app, "alice").await;
    let other_device = login(&app, "alice").await;
    assert_ne!(first, other_device);

    let (second, _) = login_full(&app, with_cookie(login_req("alice", PASSWORD), &first)).await;
    assert_ne!(second, first);
    assert_eq!(
        me(&app, &first).await.0,
        StatusCode::UNAUTHORIZED,
        "old ID dead"
    );
    assert_eq!(me(&app, &second).await.0, StatusCode::OK);
    assert_eq!(me(&app, &other_device).await.0, StatusCode::OK);

    // Same through the Authorization header, and across users (a shared computer: bob logs in
    // where alice's session was).
    let mut req = login_req("bob", PASSWORD);
    req.headers_mut().insert(
        header::AUTHORIZATION,
        format!("Bearer {second}").parse().expect("header"),
    );
    let (bob, _) = login_full(&app, req).await;
    assert_eq!(me(&app, &second).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(me(&app, &bob).await.1["subject"], "bob");

    // A wrong password presenting a live session changes nothing.
    let resp = send(&app, with_cookie(login_req("bob", "wrong"), &bob)).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(me(&app, &bob).await.0, StatusCode::OK);
}

/// The same rule for JWTs: with a deny-list the presented token is revoked at login; a plain
/// JWT cannot be revoked, so the old token keeps working until `exp` (the design's gap, shown
/// rather than hidden).
#[tokio::test]
async fn jwt_login_ends_the_presented_token_where_the_backend_can_revoke() {
    let redis = redis();
    let (_, shared) = clock();
    let denylist = JwtBackend::connect(
        JwtConfig::new(Alg::ES256).with_revocation(Revocation::Denylist),
        Arc::clone(&shared),
        &redis.url(),
    )
    .await
    .expect("denylist backend");
    let app = app(AppState::new(Arc::new(denylist), fresh_users()));
    let old = login(&app, "alice").await;
    let (new, _) = login_full(&app, with_cookie(login_req("alice", PASSWORD), &old)).await;
    assert_ne!(new, old);
    assert_eq!(me(&app, &old).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(me(&app, &new).await.0, StatusCode::OK);

    let plain = JwtBackend::new(JwtConfig::new(Alg::ES256), shared).expect("jwt");
    let app = app_for(plain);
    let old = login(&app, "alice").await;
    let (new, _) = login_full(&app, with_cookie(login_req("alice", PASSWORD), &old)).await;
    assert_ne!(new, old);
    assert_eq!(
        me(&app, &old).await.0,
        StatusCode::OK,
        "plain JWT: until exp"
    );
}

fn app_for<A: Authenticator>(backend: A) -> Router {
    app(AppState::new(Arc::new(backend), fresh_users()))
}

/// Cookie attributes: `__Host-` prefix, a name that says nothing about the design, `Secure`,
/// `HttpOnly`, `SameSite=Strict`, `Path=/`, no `Domain`, no `Max-Age`/`Expires` (a browser
/// session cookie); `Cache-Control: no-store` on the login answer; logout clears the cookie
/// and says `Clear-Site-Data`.
#[tokio::test]
async fn cookie_attributes_follow_the_cheat_sheet() {
    let redis = redis();
    let (app, _) = session_app(&redis).await;
    let resp = send(&app, login_req("alice", PASSWORD)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()[header::CACHE_CONTROL], "no-store");
    let cookies: Vec<_> = resp.headers().get_all(header::SET_COOKIE).iter().collect();
    assert_eq!(cookies.len(), 1);
    let cookie = cookies[0].to_str().expect("ascii").to_owned();
    let mut parts = cookie.split(';').map(str::trim);
    let (name, value) = parts
        .next()
        .and_then(|p| p.split_once('='))
        .expect("name=value");
    assert_eq!(name, "__Host-authbench");
    for word in ["session", "sess", "jwt", "token", "sid"] {
        assert!(!name.to_ascii_lowercase().contains(word), "{name}");
    }
    let token = body_json(resp).await["token"]
        .as_str()
        .expect("token")
        .to_owned();
    assert_eq!(value, token);
    let mut attributes: Vec<String> = parts.map(str::to_ascii_lowercase).collect();
    attributes.sort();
    assert_eq!(
        attributes,
        ["httponly", "path=/", "samesite=strict", "secure"],
        "{cookie}"
    );

    let resp = send(&app, bearer("POST", "/logout", &token)).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let cleared = resp.headers()[header::SET_COOKIE].to_str().expect("ascii");
    assert!(cleared.starts_with("__Host-authbench=;"), "{cleared}");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    assert_eq!(resp.headers()["clear-site-data"], "\"cookies\"");
}

/// The ID never travels in a URL: a valid credential in the query string (RFC 6750 §2.3's
/// `access_token`, or any other name) is not accepted, and no answer carries it in a header
/// other than `Set-Cookie`.
#[tokio::test]
async fn a_credential_in_the_url_is_not_accepted() {
    let redis = redis();
    let (app, _) = session_app(&redis).await;
    let (token, _) = login_full(&app, login_req("alice", PASSWORD)).await;
    for query in ["access_token", "token", "session", "sid", COOKIE_NAME] {
        let req = Request::get(format!("/me?{query}={token}"))
            .body(Body::empty())
            .expect("request");
        let resp = send(&app, req).await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "?{query}=");
        for (name, value) in resp.headers() {
            assert!(
                !value
                    .as_bytes()
                    .windows(token.len())
                    .any(|w| w == token.as_bytes()),
                "{name} echoes the credential"
            );
        }
    }
    // In a form-encoded body of /logout: not a credential either.
    let req = Request::post("/logout")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!("access_token={token}")))
        .expect("request");
    assert_eq!(send(&app, req).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(me(&app, &token).await.0, StatusCode::OK, "still alive");
}

/// ASVS 5 7.3.1 and 7.3.2, enforced by the server: an idle session dies after the idle
/// timeout, and an active one at the absolute timeout however busy it is.
#[tokio::test]
async fn idle_and_absolute_timeouts_are_enforced_server_side() {
    let redis = redis();
    let (manual, shared) = clock();
    let mut config = SessionConfig::new(redis.url());
    config.idle_timeout_secs = 600;
    config.absolute_timeout_secs = 3600;
    let backend = SessionBackend::connect(config, shared)
        .await
        .expect("session");
    let app = app_for(backend);

    let idle = login(&app, "alice").await;
    manual.advance(599);
    assert_eq!(
        me(&app, &idle).await.0,
        StatusCode::OK,
        "used before idling out"
    );
    manual.advance(599);
    assert_eq!(
        me(&app, &idle).await.0,
        StatusCode::OK,
        "the use slid the window"
    );
    manual.advance(600);
    assert_eq!(me(&app, &idle).await.0, StatusCode::UNAUTHORIZED, "idle");

    let busy = login(&app, "alice").await;
    let mut elapsed = 0;
    while elapsed + 300 < 3600 {
        manual.advance(300);
        elapsed += 300;
        assert_eq!(me(&app, &busy).await.0, StatusCode::OK, "at {elapsed} s");
    }
    manual.advance(3600 - elapsed);
    assert_eq!(
        me(&app, &busy).await.0,
        StatusCode::UNAUTHORIZED,
        "absolute timeout despite activity"
    );
}

/// ASVS 5 7.4.1: after logout, the same cookie replayed fails, and logging out again is a 401.
#[tokio::test]
async fn logout_then_replay_fails() {
    let redis = redis();
    let (app, _) = session_app(&redis).await;
    let token = login(&app, "alice").await;
    let resp = send(
        &app,
        with_cookie(
            Request::post("/logout").body(Body::empty()).expect("req"),
            &token,
        ),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(resp.headers()["authbench-revoked"], "true");
    let replay = send(&app, with_cookie(bearer_less_me(), &token)).await;
    assert_eq!(replay.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(me(&app, &token).await.0, StatusCode::UNAUTHORIZED);
    let again = send(&app, bearer("POST", "/logout", &token)).await;
    assert_eq!(again.status(), StatusCode::UNAUTHORIZED);
}

/// ASVS 5 7.4.3: a password change ends every other session; `/logout-all` ends all of them.
#[tokio::test]
async fn password_change_and_logout_all_end_every_session() {
    let redis = redis();
    let (app, _) = session_app(&redis).await;
    let laptop = login(&app, "alice").await;
    let phone = login(&app, "alice").await;
    let bob = login(&app, "bob").await;
    let resp = send(
        &app,
        json_req(
            "POST",
            "/password",
            Some(&laptop),
            &serde_json::json!({"current_password": PASSWORD, "new_password": "a new long password"})
                .to_string(),
        ),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["authbench-revoked"], "true");
    let fresh = body_json(resp).await["token"]
        .as_str()
        .expect("token")
        .to_owned();
    assert_eq!(me(&app, &laptop).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(me(&app, &phone).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(me(&app, &fresh).await.0, StatusCode::OK);
    assert_eq!(
        me(&app, &bob).await.0,
        StatusCode::OK,
        "other users untouched"
    );

    let second = common::login_with(&app, "alice", "a new long password").await;
    let resp = send(&app, bearer("POST", "/logout-all", &fresh)).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(me(&app, &fresh).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(me(&app, &second).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(me(&app, &bob).await.0, StatusCode::OK);
}

/// ASVS 5 7.4.2: disabling an account ends all its sessions and refuses new logins.
#[tokio::test]
async fn a_disabled_account_loses_every_session() {
    let redis = redis();
    let (app, _) = session_app(&redis).await;
    let admin = login(&app, "admin").await;
    let one = login(&app, "alice").await;
    let two = login(&app, "alice").await;
    let resp = send(&app, disable(&admin, "alice")).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(body_json(resp).await["existing_credentials"], "revoked");
    assert_eq!(me(&app, &one).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(me(&app, &two).await.0, StatusCode::UNAUTHORIZED);
    common::assert_login_refused(&app, "alice", PASSWORD).await;
}
