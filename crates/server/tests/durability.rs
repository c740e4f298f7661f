//! `--revocation-durability replica` over HTTP, against real Redis (`authbench-services`): a logout is
//! acknowledged (204) only once a replica confirmed it (`WAIT 1`), and answers 503 (not
//! acknowledged) when no replica can — for sessions and for the JWT `denylist` and `epoch`
//! strategies.

mod common;

use common::{bearer, body_json, login, send};

use authbench_core::{Authenticator, ManualClock, SharedClock};
use authbench_jwt::{Alg, DEFAULT_REPLICA_WAIT, Durability, JwtBackend, JwtConfig, Revocation};
use authbench_services::{RedisServer, RedisServerOptions, redis_cli_path};
use authbench_session::{SessionBackend, SessionConfig};
use axum::Router;
use axum::http::StatusCode;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A master and one replica of it, the replica in sync.
fn master_and_replica() -> (RedisServer, RedisServer) {
    let master = RedisServer::start().unwrap_or_else(|e| panic!("{e}"));
    let replica = RedisServer::start_with(RedisServerOptions {
        extra_args: vec![
            "--replicaof".into(),
            "127.0.0.1".into(),
            master.port().to_string(),
        ],
        ..RedisServerOptions::default()
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let cli = redis_cli_path().expect("redis-cli");
    let started = Instant::now();
    loop {
        let out = Command::new(&cli)
            .args(["-p", &master.port().to_string(), "INFO", "replication"])
            .output()
            .expect("redis-cli");
        let text = String::from_utf8_lossy(&out.stdout);
        if text.contains("connected_slaves:1") && text.contains("state=online") {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the replica did not come online: {text}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    (master, replica)
}

fn app_of<A: Authenticator>(backend: A) -> Router {
    common::router_for(backend)
}

/// How long the apps wait for their replica where a test expects the replica to confirm: far
/// longer than the default 250 ms, because the tests of this binary run in parallel on a
/// shared 2-core machine (argon2 logins beside them) and a starved replica process can take
/// longer than a quarter second to answer `REPLCONF GETACK`. A test that expects a 503 pays
/// this wait once per refused logout.
const GENEROUS_WAIT: Duration = Duration::from_secs(3);

/// A response timeout long enough for the `WAIT` to answer (the store refuses a wait that is
/// not shorter than it): the wait plus the default 500 ms.
fn response_timeout(durability: Durability) -> Duration {
    const DEFAULT: Duration = Duration::from_millis(500);
    match durability {
        Durability::Replica { timeout } => timeout + DEFAULT,
        _ => DEFAULT,
    }
}

async fn session_app(redis: &RedisServer, clock: SharedClock, durability: Durability) -> Router {
    let mut config = SessionConfig::new(redis.url());
    config.revocation_durability = durability;
    config.response_timeout = response_timeout(durability);
    app_of(
        SessionBackend::connect(config, clock)
            .await
            .expect("session backend"),
    )
}

async fn jwt_app(
    redis: &RedisServer,
    revocation: Revocation,
    clock: SharedClock,
    durability: Durability,
) -> Router {
    let mut config = JwtConfig::new(Alg::ES256).with_revocation(revocation);
    config.revocation_durability = durability;
    config.response_timeout = response_timeout(durability);
    app_of(
        JwtBackend::connect(config, clock, &redis.url())
            .await
            .expect("jwt backend"),
    )
}

/// The apps under test: sessions, `denylist`, `epoch`, each waiting `wait` for its replica.
async fn apps(redis: &RedisServer, wait: Duration) -> Vec<(&'static str, Router)> {
    let clock: SharedClock = Arc::new(ManualClock::at_system_time());
    let durability = Durability::Replica { timeout: wait };
    vec![
        (
            "session",
            session_app(redis, Arc::clone(&clock), durability).await,
        ),
        (
            "denylist",
            jwt_app(redis, Revocation::Denylist, Arc::clone(&clock), durability).await,
        ),
        (
            "epoch",
            jwt_app(redis, Revocation::Epoch, clock, durability).await,
        ),
    ]
}

async fn status(app: &Router, path: &str, token: &str) -> (StatusCode, serde_json::Value) {
    let resp = send(app, bearer("POST", path, token)).await;
    let code = resp.status();
    let body = if code == StatusCode::NO_CONTENT {
        serde_json::Value::Null
    } else {
        body_json(resp).await
    };
    (code, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_replica_logouts_are_acknowledged() {
    let (master, _replica) = master_and_replica();
    for (name, app) in apps(&master, GENEROUS_WAIT).await {
        let token = login(&app, "alice").await;
        if name != "epoch" {
            let (code, body) = status(&app, "/logout", &token).await;
            assert_eq!(code, StatusCode::NO_CONTENT, "{name}: /logout {body}");
            let (me, _) = common::me(&app, &token).await;
            assert_eq!(me, StatusCode::UNAUTHORIZED, "{name}: logged out");
        }
        let token = login(&app, "bob").await;
        let (code, body) = status(&app, "/logout-all", &token).await;
        assert_eq!(code, StatusCode::NO_CONTENT, "{name}: /logout-all {body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_replica_logouts_fail_closed_with_503() {
    // A standalone Redis: `WAIT 1` can never be satisfied.
    let alone = RedisServer::start().unwrap_or_else(|e| panic!("{e}"));
    for (name, app) in apps(&alone, DEFAULT_REPLICA_WAIT).await {
        for path in ["/logout", "/logout-all"] {
            if name == "epoch" && path == "/logout" {
                continue; // `epoch` cannot revoke one token (501), durability aside.
            }
            // A fresh login each time: the unconfirmed write did happen on the master (the
            // session is gone), it is the acknowledgement that is refused.
            let token = login(&app, "alice").await;
            let started = Instant::now();
            let (code, body) = status(&app, path, &token).await;
            assert_eq!(
                code,
                StatusCode::SERVICE_UNAVAILABLE,
                "{name}: {path} without a replica must not be acknowledged: {body}"
            );
            // Within the wait (250 ms) plus slack for a loaded machine, never a hang.
            assert!(
                started.elapsed() < DEFAULT_REPLICA_WAIT + Duration::from_secs(2),
                "{name}: {path}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_replica_turns_logouts_into_503() {
    let (master, mut replica) = master_and_replica();
    let apps = apps(&master, GENEROUS_WAIT).await;
    let (_, session) = &apps[0];
    let (_, denylist) = &apps[1];
    let before = login(session, "alice").await;
    assert_eq!(
        status(session, "/logout", &before).await.0,
        StatusCode::NO_CONTENT
    );
    replica.stop();
    for (name, app) in [("session", session), ("denylist", denylist)] {
        let token = login(app, "alice").await;
        let (code, body) = status(app, "/logout", &token).await;
        assert_eq!(
            code,
            StatusCode::SERVICE_UNAVAILABLE,
            "{name}: replica gone: {body}"
        );
    }
}
