//! OWASP: credentials are never logged in clear. Every log line the app and the backends write
//! during a scenario that touches every path (logins right and wrong, rotation, rate limiting,
//! rejected and forged credentials, refresh and refresh reuse, password change, logout, Redis
//! down) is captured at TRACE level, and no token, session ID, refresh token or password may
//! appear in it.
//!
//! The capture is a tiny `tracing` subscriber installed as the *thread's* default, and the
//! scenario runs on a current-thread runtime on that thread, so every task it spawns logs into
//! the capture and other test binaries' threads are not involved.

mod common;

use common::{PASSWORD, bearer, body_json, fresh_users, json_req, login_req, send};

use authbench_core::{ManualClock, SharedClock};
use authbench_jwt::{Alg, JwtBackend, JwtConfig, Revocation};
use authbench_server::ratelimit::{LoginLimits, Rate};
use authbench_server::{AppState, COOKIE_NAME, app};
use authbench_session::{SessionBackend, SessionConfig};
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// Every event and span field, as text, one line per event.
#[derive(Clone, Default)]
struct Capture {
    text: Arc<Mutex<String>>,
    next_id: Arc<AtomicU64>,
}

struct Line<'a>(&'a mut String);

impl Visit for Line<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, " {}={:?}", field.name(), value);
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        let _ = write!(self.0, " {}={}", field.name(), value);
    }
}

impl Capture {
    fn push(&self, level: &tracing::Level, target: &str, visit: impl FnOnce(&mut Line<'_>)) {
        let mut line = format!("{level} {target}:");
        visit(&mut Line(&mut line));
        line.push('\n');
        self.text.lock().expect("capture").push_str(&line);
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let meta = span.metadata();
        self.push(meta.level(), meta.target(), |line| span.record(line));
        Id::from_u64(self.next_id.fetch_add(1, Ordering::Relaxed) + 1)
    }
    fn record(&self, _: &Id, values: &Record<'_>) {
        self.push(&tracing::Level::TRACE, "record", |line| values.record(line));
    }
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let meta = event.metadata();
        self.push(meta.level(), meta.target(), |line| event.record(line));
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

/// What must never be logged, collected as the scenario makes it.
#[derive(Default)]
struct Secrets(Vec<String>);

impl Secrets {
    fn add(&mut self, s: &str) {
        self.0.push(s.to_owned());
        // A JWT's signature alone is as telling as the whole token.
        if let Some((_, sig)) = s.rsplit_once('.')
            && sig.len() >= 16
        {
            self.0.push(sig.to_owned());
        }
    }
}

async fn token_pair(
    app: &Router,
    req: Request<Body>,
    secrets: &mut Secrets,
) -> (String, Option<String>) {
    let resp = send(app, req).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body = body_json(resp).await;
    let token = body["token"].as_str().expect("token").to_owned();
    secrets.add(&token);
    let refresh = body["refresh_token"].as_str().map(str::to_owned);
    if let Some(r) = &refresh {
        secrets.add(r);
    }
    (token, refresh)
}

const WRONG: &str = "hunter2-wrong-password-marker";
const NEW_PASSWORD: &str = "brand-new-password-marker-42";
const TYPO_USERNAME: &str = "password-typed-as-username-marker";
const FORGED_SESSION: &str = "forgedSessionIdXXXXXXXXXXXXXXXXXXXXXXXXXXX";

#[test]
fn credentials_never_appear_in_logs() {
    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(capture.clone());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut secrets = Secrets::default();
    for s in [PASSWORD, WRONG, NEW_PASSWORD, TYPO_USERNAME, FORGED_SESSION] {
        secrets.add(s);
    }
    runtime.block_on(scenario(&mut secrets));

    let logs = capture.text.lock().expect("capture").clone();
    // The scenario must have produced the lines we look through, or the check proves nothing.
    for expected in ["credential rejected", "store unavailable", "login refused"] {
        assert!(logs.contains(expected), "no {expected:?} line in:\n{logs}");
    }
    for secret in &secrets.0 {
        assert!(
            !logs.contains(secret.as_str()),
            "a credential or password was logged: {secret:?}\n{logs}"
        );
    }
}

async fn scenario(secrets: &mut Secrets) {
    let mut redis = common::redis();
    let clock = ManualClock::at_system_time();
    let shared: SharedClock = Arc::new(clock.clone());
    let limits = LoginLimits {
        per_account: Some(Rate {
            burst: 2,
            refill_every: Duration::from_secs(60),
        }),
        ..LoginLimits::default()
    };

    // Sessions.
    let backend = SessionBackend::connect(SessionConfig::new(redis.url()), Arc::clone(&shared))
        .await
        .expect("session");
    let sessions =
        app(AppState::new(Arc::new(backend), fresh_users()).with_login_limits(limits.clone()));
    let (s1, _) = token_pair(&sessions, login_req("alice", PASSWORD), secrets).await;
    let mut rotate = login_req("alice", PASSWORD);
    rotate.headers_mut().insert(
        header::COOKIE,
        format!("{COOKIE_NAME}={s1}").parse().expect("cookie"),
    );
    let (s2, _) = token_pair(&sessions, rotate, secrets).await;
    for (user, password) in [
        ("bob", WRONG),
        (TYPO_USERNAME, WRONG),
        ("bob", WRONG),
        ("bob", WRONG),
    ] {
        let status = send(&sessions, login_req(user, password)).await.status();
        assert!(matches!(status.as_u16(), 401 | 429), "{status}");
    }
    for token in [s1.as_str(), FORGED_SESSION, "x.y.z"] {
        let status = send(&sessions, bearer("GET", "/me", token)).await.status();
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let resp = send(
        &sessions,
        json_req(
            "POST",
            "/password",
            Some(&s2),
            &serde_json::json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD})
                .to_string(),
        ),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let s3 = body_json(resp).await["token"]
        .as_str()
        .expect("token")
        .to_owned();
    secrets.add(&s3);
    assert_eq!(
        send(&sessions, bearer("POST", "/logout", &s3))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    let (s4, _) = token_pair(&sessions, login_req("alice", NEW_PASSWORD), secrets).await;

    // Refresh tokens, with a reuse.
    let config = JwtConfig::new(Alg::EdDSA).with_revocation(Revocation::Refresh);
    let backend = JwtBackend::connect(config, Arc::clone(&shared), &redis.url())
        .await
        .expect("refresh backend");
    let jwt = app(AppState::new(Arc::new(backend), fresh_users()));
    let (j1, r1) = token_pair(&jwt, login_req("alice", PASSWORD), secrets).await;
    let r1 = r1.expect("refresh token");
    let refresh = |r: &str| {
        json_req(
            "POST",
            "/refresh",
            None,
            &serde_json::json!({ "refresh_token": r }).to_string(),
        )
    };
    let (_, r2) = token_pair(&jwt, refresh(&r1), secrets).await;
    assert_eq!(
        send(&jwt, refresh(&r1)).await.status(),
        StatusCode::UNAUTHORIZED,
        "reuse"
    );
    let r2 = r2.expect("rotated");
    assert_eq!(
        send(&jwt, refresh(&r2)).await.status(),
        StatusCode::UNAUTHORIZED,
        "family ended"
    );
    // The last character changed (to another letter, so the token really differs).
    let last = if j1.ends_with('A') { "Q" } else { "A" };
    let tampered = format!("{}{last}", &j1[..j1.len() - 1]);
    assert_eq!(
        send(&jwt, bearer("GET", "/me", &tampered)).await.status(),
        StatusCode::UNAUTHORIZED
    );
    clock.advance(3600);
    assert_eq!(
        send(&jwt, bearer("GET", "/me", &j1)).await.status(),
        StatusCode::UNAUTHORIZED,
        "expired"
    );

    // Redis down: every path fails closed, and says so in the logs without the credential.
    redis.stop();
    assert_eq!(
        send(&sessions, bearer("GET", "/me", &s4)).await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(
        send(&sessions, bearer("POST", "/logout", &s4))
            .await
            .status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    let status = send(&sessions, login_req("admin", PASSWORD)).await.status();
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let status = send(&jwt, refresh(&r2)).await.status();
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
}
