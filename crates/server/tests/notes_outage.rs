//! Fail closed: with PostgreSQL down, `/notes` and the admin tenant move answer 503 (never a
//! success, never a 500), and heal when it comes back. Its own private server, since this test
//! stops it.

mod common;

use authbench_core::ManualClock;
use authbench_jwt::{Alg, JwtBackend, JwtConfig};
use authbench_server::AppState;
use authbench_tenancy::{Database, PoolOptions, PrivateCluster, SeedUser};
use axum::http::{StatusCode, header};
use common::*;
use std::sync::Arc;
use std::time::Duration;

#[tokio::test]
async fn an_unreachable_database_is_503_and_heals() {
    let mut cluster =
        PrivateCluster::start().expect("a private PostgreSQL (install: scripts/setup)");
    let urls = cluster
        .create_database("outage")
        .await
        .expect("create database");
    let db = Database::connect(
        &urls.app,
        PoolOptions {
            max_size: 2,
            connect_timeout: Duration::from_millis(500),
            checkout_timeout: Duration::from_millis(500),
            query_timeout: Duration::from_secs(1),
        },
    )
    .await
    .expect("connect");
    db.seed(&[
        SeedUser {
            name: "alice".into(),
            tenant: "acme".into(),
        },
        SeedUser {
            name: "admin".into(),
            tenant: "acme".into(),
        },
    ])
    .await
    .expect("seed");
    let clock = Arc::new(ManualClock::at_system_time());
    let backend = JwtBackend::new(JwtConfig::new(Alg::ES256), clock).expect("jwt");
    let app = authbench_server::app(
        AppState::new(Arc::new(backend), fresh_users()).with_database(Arc::new(db)),
    );
    let alice = login(&app, "alice").await;
    let admin = login(&app, "admin").await;
    assert_eq!(
        send(&app, bearer("GET", "/notes", &alice)).await.status(),
        StatusCode::OK
    );

    cluster.server_mut().stop();
    for path in ["/notes", "/notes?policy=membership"] {
        let resp = send(&app, bearer("GET", path, &alice)).await;
        assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE, "{path}");
        assert_eq!(resp.headers()[header::RETRY_AFTER], "1");
    }
    let resp = send(
        &app,
        json_req("POST", "/notes", Some(&alice), r#"{"body":"x"}"#),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    let resp = send(&app, put_tenant(&admin, "alice", "globex")).await;
    assert_eq!(
        resp.status(),
        StatusCode::SERVICE_UNAVAILABLE,
        "a move we could not apply"
    );

    cluster.server_mut().restart().expect("restart");
    let resp = send(&app, bearer("GET", "/notes", &alice)).await;
    assert_eq!(resp.status(), StatusCode::OK, "healed: new connections");
}
