//! The Row Level Security test plan (cases numbered as in crates/tenancy/README.md) through the HTTP app
//! (cases 8–13, 15, 16; the SQL-level cases are in crates/tenancy/tests/rls.rs), with a real
//! PostgreSQL (one per test binary, one database per test) and a real Redis for sessions.
//!
//! `GET /notes` is policy A (claims), `GET /notes?policy=membership` policy B (membership).

mod common;

use authbench_core::{ManualClock, SharedClock};
use authbench_jwt::{Alg, JwtBackend, JwtConfig, KeySource};
use authbench_server::AppState;
use authbench_tenancy::{Database, PoolOptions, PrivateCluster, SeedUser, tenant_id};
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::*;
use serde_json::{Value, json};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

static CLUSTER: LazyLock<PrivateCluster> = LazyLock::new(|| {
    PrivateCluster::start().expect("a private PostgreSQL (install: scripts/setup)")
});

/// A fresh database seeded with the demo users (alice/acme, bob/globex, admin/acme).
async fn database(name: &str, pool: usize) -> (authbench_tenancy::DatabaseUrls, Arc<Database>) {
    let urls = CLUSTER
        .create_database(name)
        .await
        .expect("create database");
    let db = Database::connect(
        &urls.app,
        PoolOptions {
            max_size: pool,
            ..PoolOptions::default()
        },
    )
    .await
    .expect("connect");
    let users = [("alice", "acme"), ("bob", "globex"), ("admin", "acme")].map(|(n, t)| SeedUser {
        name: n.into(),
        tenant: t.into(),
    });
    db.seed(&users).await.expect("seed");
    (urls, Arc::new(db))
}

fn jwt_backend(clock: SharedClock) -> JwtBackend {
    JwtBackend::new(JwtConfig::new(Alg::ES256), clock).expect("jwt backend")
}

fn with_db<A: authbench_core::Authenticator>(backend: A, db: &Arc<Database>) -> Router {
    authbench_server::app(
        AppState::new(Arc::new(backend), fresh_users()).with_database(Arc::clone(db)),
    )
}

/// `GET /notes[?policy=…]`: status and body.
async fn notes(app: &Router, token: &str, policy: &str) -> (StatusCode, Value) {
    let path = match policy {
        "" => "/notes".to_owned(),
        p => format!("/notes?policy={p}"),
    };
    let resp = send(app, bearer("GET", &path, token)).await;
    let status = resp.status();
    let bytes = http_body_util::BodyExt::collect(resp.into_body())
        .await
        .expect("body")
        .to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// The set of tenants the rows of a `/notes` answer belong to.
fn tenants_of(body: &Value) -> Vec<String> {
    let mut t: Vec<String> = body["notes"]
        .as_array()
        .expect("notes array")
        .iter()
        .map(|n| n["tenant_id"].as_str().expect("tenant_id").to_owned())
        .collect();
    t.sort();
    t.dedup();
    t
}

fn tenant(name: &str) -> Vec<String> {
    vec![tenant_id(name).to_string()]
}

// Base64url without padding, by hand (the test needs nothing else from a base64 crate).
const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn b64_encode(data: &[u8]) -> String {
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let n =
            chunk.iter().fold(0u32, |acc, &b| (acc << 8) | u32::from(b)) << (8 * (3 - chunk.len()));
        for i in 0..=chunk.len() {
            out.push(B64[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

fn b64_decode(text: &str) -> Vec<u8> {
    let vals: Vec<u32> = text
        .bytes()
        .map(|c| B64.iter().position(|&b| b == c).expect("base64url") as u32)
        .collect();
    let mut out = Vec::new();
    for chunk in vals.chunks(4) {
        let n = chunk.iter().fold(0u32, |acc, &v| (acc << 6) | v) << (6 * (4 - chunk.len()));
        for i in 0..chunk.len() - 1 {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    out
}

#[tokio::test]
async fn case_08_a_tampered_jwt_is_rejected_before_any_sql() {
    let (_urls, db) = database("http08", 2).await;
    let app = with_db(jwt_backend(Arc::new(ManualClock::at_system_time())), &db);
    let token = login(&app, "alice").await;
    assert_eq!(notes(&app, &token, "").await.0, StatusCode::OK);
    let before = db.stats().transactions;

    let parts: Vec<&str> = token.split('.').collect();
    let payload = String::from_utf8(b64_decode(parts[1])).expect("utf8");
    assert!(payload.contains("\"tenant\":\"acme\""), "{payload}");
    let forged = payload.replace("\"tenant\":\"acme\"", "\"tenant\":\"globex\"");
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        b64_encode(forged.as_bytes()),
        parts[2]
    );
    for policy in ["", "membership"] {
        let (status, _) = notes(&app, &tampered, policy).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let resp = send(
        &app,
        Request::get("/notes").body(Body::empty()).expect("req"),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "no credential");
    assert_eq!(
        db.stats().transactions,
        before,
        "no database call for a rejected credential"
    );
}

#[tokio::test]
async fn case_09_forged_tokens_alg_none_wrong_key_and_hs_rs_confusion_are_rejected() {
    let (_urls, db) = database("http09", 2).await;
    let clock: SharedClock = Arc::new(ManualClock::at_system_time());
    let backend = jwt_backend(Arc::clone(&clock));
    let jwks = authbench_core::Authenticator::published_keys(&backend)
        .expect("ES256 publishes a JWKS")
        .to_owned();
    let app = with_db(backend, &db);
    let token = login(&app, "alice").await;
    let before = db.stats().transactions;
    let parts: Vec<&str> = token.split('.').collect();

    let none = format!(
        "{}.{}.",
        b64_encode(br#"{"alg":"none","typ":"JWT"}"#),
        parts[1]
    );
    let other_key = {
        let other = with_db(jwt_backend(Arc::clone(&clock)), &db);
        login(&other, "alice").await
    };
    // HS256 keyed with the server's public key bytes: the classic algorithm confusion.
    let confusion = {
        let secret = std::env::temp_dir().join(format!("authbench-hs-{}.key", std::process::id()));
        std::fs::write(&secret, jwks.as_bytes()).expect("write secret");
        let mut config = JwtConfig::new(Alg::HS256);
        config.keys = KeySource::PemFile(secret.clone());
        let hs = JwtBackend::new(config, Arc::clone(&clock)).expect("hs256 backend");
        let _ = std::fs::remove_file(&secret);
        login(&with_db(hs, &db), "alice").await
    };
    let before_forged = db.stats().transactions;
    for (what, forged) in [
        ("alg none", none),
        ("wrong key", other_key),
        ("HS/RS confusion", confusion),
    ] {
        let (status, _) = notes(&app, &forged, "").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}");
    }
    assert_eq!(
        db.stats().transactions,
        before_forged,
        "no SQL for forged tokens"
    );
    assert!(before_forged >= before);
}

#[tokio::test]
async fn case_10_an_expired_token_is_401() {
    let (_urls, db) = database("http10", 2).await;
    let clock = Arc::new(ManualClock::at_system_time());
    let app = with_db(jwt_backend(clock.clone()), &db);
    let token = login(&app, "alice").await;
    assert_eq!(notes(&app, &token, "").await.0, StatusCode::OK);
    clock.advance(JwtConfig::new(Alg::ES256).policy.ttl_secs + 3600);
    assert_eq!(notes(&app, &token, "").await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn case_11_a_tenant_move_jwt_keeps_the_old_tenant_under_a_membership_follows() {
    let (_urls, db) = database("http11", 2).await;
    let app = with_db(jwt_backend(Arc::new(ManualClock::at_system_time())), &db);
    let old = login(&app, "alice").await;
    let admin = login(&app, "admin").await;
    assert_eq!(tenants_of(&notes(&app, &old, "").await.1), tenant("acme"));
    let answer = admin_ok(&app, put_tenant(&admin, "alice", "globex")).await;
    assert_eq!(answer["existing_credentials"], "unchanged_until_expiry");

    let (status, a) = notes(&app, &old, "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        tenants_of(&a),
        tenant("acme"),
        "A: the frozen claim still says acme"
    );
    let (_, b) = notes(&app, &old, "membership").await;
    assert_eq!(
        tenants_of(&b),
        tenant("globex"),
        "B: the live membership says globex"
    );
    let fresh = login(&app, "alice").await;
    assert_eq!(
        tenants_of(&notes(&app, &fresh, "").await.1),
        tenant("globex"),
        "a new token"
    );

    // Sessions: the record is rewritten, both policies follow at once.
    let redis = redis();
    let (_urls, db) = database("http11s", 2).await;
    let app = with_db(
        session_backend(&redis, Arc::new(ManualClock::at_system_time())).await,
        &db,
    );
    let alice = login(&app, "alice").await;
    let admin = login(&app, "admin").await;
    assert_eq!(tenants_of(&notes(&app, &alice, "").await.1), tenant("acme"));
    admin_ok(&app, put_tenant(&admin, "alice", "globex")).await;
    for policy in ["", "membership"] {
        assert_eq!(
            tenants_of(&notes(&app, &alice, policy).await.1),
            tenant("globex")
        );
    }
}

#[tokio::test]
async fn case_12_a_removed_user_jwt_under_a_still_reads_under_b_nothing_session_401() {
    let (_urls, db) = database("http12", 2).await;
    let app = with_db(jwt_backend(Arc::new(ManualClock::at_system_time())), &db);
    let old = login(&app, "alice").await;
    let admin = login(&app, "admin").await;
    admin_ok(&app, disable(&admin, "alice")).await;
    assert_eq!(
        tenants_of(&notes(&app, &old, "").await.1),
        tenant("acme"),
        "A"
    );
    let (status, b) = notes(&app, &old, "membership").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(b["notes"], json!([]), "B: no membership, no rows");
    // A user deleted outright: the same under B.
    let bob = login(&app, "bob").await;
    db.delete_user("bob").await.expect("delete");
    assert_eq!(notes(&app, &bob, "membership").await.1["notes"], json!([]));

    let redis = redis();
    let (_urls, db) = database("http12s", 2).await;
    let app = with_db(
        session_backend(&redis, Arc::new(ManualClock::at_system_time())).await,
        &db,
    );
    let alice = login(&app, "alice").await;
    let admin = login(&app, "admin").await;
    admin_ok(&app, disable(&admin, "alice")).await;
    assert_eq!(notes(&app, &alice, "").await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn case_13_a_session_revoked_mid_flight_is_401_on_the_next_request() {
    let redis = redis();
    let (_urls, db) = database("http13", 2).await;
    let app = with_db(
        session_backend(&redis, Arc::new(ManualClock::at_system_time())).await,
        &db,
    );
    let alice = login(&app, "alice").await;
    assert_eq!(notes(&app, &alice, "").await.0, StatusCode::OK);
    let resp = send(&app, bearer("POST", "/logout", &alice)).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let before = db.stats().transactions;
    assert_eq!(notes(&app, &alice, "").await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(db.stats().transactions, before);
}

#[tokio::test]
async fn case_15_concurrent_requests_on_a_pool_of_two_never_cross_tenants() {
    let redis = redis();
    let (_urls, db) = database("http15", 2).await;
    let jwt = with_db(jwt_backend(Arc::new(ManualClock::at_system_time())), &db);
    let session = with_db(
        session_backend(&redis, Arc::new(ManualClock::at_system_time())).await,
        &db,
    );
    for app in [jwt, session] {
        let tokens = [
            (login(&app, "alice").await, "acme"),
            (login(&app, "bob").await, "globex"),
        ];
        let mut tasks = Vec::new();
        for i in 0..120 {
            let app = app.clone();
            let (token, expected) = tokens[i % 2].clone();
            let policy = if i % 4 < 2 { "" } else { "membership" };
            tasks.push(tokio::spawn(async move {
                let (status, body) = notes(&app, &token, policy).await;
                assert_eq!(status, StatusCode::OK);
                assert_eq!(tenants_of(&body), tenant(expected), "request {i}");
            }));
        }
        for t in tasks {
            t.await.expect("task");
        }
    }
}

#[tokio::test]
async fn case_16_a_request_cancelled_mid_transaction_leaves_nothing_for_the_next() {
    let (urls, db) = database("http16", 1).await;
    let app = with_db(jwt_backend(Arc::new(ManualClock::at_system_time())), &db);
    let alice = login(&app, "alice").await;
    let bob = login(&app, "bob").await;

    // Hold a lock so alice's SELECT waits inside her transaction, then give up on her request.
    let (locker, connection) = authbench_tenancy::tokio_postgres::connect(
        &urls.superuser,
        authbench_tenancy::tokio_postgres::NoTls,
    )
    .await
    .expect("connect");
    tokio::spawn(connection);
    locker
        .batch_execute("begin; lock table notes in access exclusive mode")
        .await
        .expect("lock");
    let stuck = tokio::time::timeout(Duration::from_millis(300), notes(&app, &alice, "")).await;
    assert!(
        stuck.is_err(),
        "alice's request was still waiting when dropped"
    );
    locker.batch_execute("commit").await.expect("unlock");

    let (status, body) = notes(&app, &bob, "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        tenants_of(&body),
        tenant("globex"),
        "bob sees only bob's tenant"
    );
    let tx = db
        .dangerous_begin_forgetting_claims()
        .await
        .expect("same connection");
    let claims: Option<String> = tx
        .client()
        .query_one("select current_setting('request.jwt.claims', true)", &[])
        .await
        .expect("select")
        .get(0);
    assert!(
        claims.unwrap_or_default().is_empty(),
        "no claims left on the connection"
    );
}

#[tokio::test]
async fn post_notes_returns_the_row_and_refuses_bad_input_with_4xx() {
    let (_urls, db) = database("httppost", 2).await;
    let app = with_db(jwt_backend(Arc::new(ManualClock::at_system_time())), &db);
    let alice = login(&app, "alice").await;
    for policy in ["", "?policy=membership"] {
        let resp = send(
            &app,
            json_req(
                "POST",
                &format!("/notes{policy}"),
                Some(&alice),
                r#"{"body":"hello"}"#,
            ),
        )
        .await;
        assert_eq!(resp.status(), StatusCode::CREATED);
        assert_eq!(resp.headers()["cache-control"], "no-store");
        let note = body_json(resp).await;
        assert_eq!(note["body"], "hello");
        assert_eq!(note["tenant_id"], tenant_id("acme").to_string());
        assert!(note["id"].as_i64().is_some());
    }
    let long = format!(
        r#"{{"body":"{}"}}"#,
        "x".repeat(authbench_tenancy::MAX_NOTE_BYTES + 1)
    );
    let huge = format!(r#"{{"body":"{}"}}"#, "x".repeat(64 * 1024));
    let cases: [(&str, &str, StatusCode); 9] = [
        ("/notes", r#"{"body":"   "}"#, StatusCode::BAD_REQUEST),
        ("/notes", &long, StatusCode::BAD_REQUEST),
        ("/notes", r#"{"body":"a\u0000b"}"#, StatusCode::BAD_REQUEST),
        ("/notes", "not json", StatusCode::BAD_REQUEST),
        (
            "/notes",
            r#"{"body":"x","tenant_id":"globex"}"#,
            StatusCode::BAD_REQUEST,
        ),
        ("/notes", r#"{"body":42}"#, StatusCode::BAD_REQUEST),
        (
            "/notes?policy=bogus",
            r#"{"body":"x"}"#,
            StatusCode::BAD_REQUEST,
        ),
        (
            "/notes?policy=claims&x=1",
            r#"{"body":"x"}"#,
            StatusCode::BAD_REQUEST,
        ),
        ("/notes", &huge, StatusCode::PAYLOAD_TOO_LARGE),
    ];
    for (path, body, expected) in cases {
        let resp = send(&app, json_req("POST", path, Some(&alice), body)).await;
        assert_eq!(
            resp.status(),
            expected,
            "{path} {}",
            &body[..body.len().min(40)]
        );
    }
    let resp = send(&app, json_req("POST", "/notes", None, r#"{"body":"x"}"#)).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    // Nothing of the refused requests landed: welcome + 1 per table.
    let (_, body) = notes(&app, &alice, "").await;
    assert_eq!(body["notes"].as_array().expect("notes").len(), 2);

    // Policy B after a move: writing with the stale tenant is refused with 403, not 500.
    let admin = login(&app, "admin").await;
    admin_ok(&app, put_tenant(&admin, "alice", "globex")).await;
    let resp = send(
        &app,
        json_req(
            "POST",
            "/notes?policy=membership",
            Some(&alice),
            r#"{"body":"late"}"#,
        ),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn without_a_database_there_is_no_notes_route() {
    let app = jwt_app(Arc::new(ManualClock::at_system_time()));
    let token = login(&app, "alice").await;
    assert_eq!(notes(&app, &token, "").await.0, StatusCode::NOT_FOUND);
}
