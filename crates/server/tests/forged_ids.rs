//! Unauthenticated requests with well-formed forged session IDs (`XY.` + 43 characters, a
//! real slot tag): before, each one cost a Redis round trip on the node owning that slot, with
//! no limit. Now rejected credentials are counted per client before the backend is asked: past
//! the budget the answer is 429 and Redis is not touched. (A tag cannot be rejected without a
//! lookup: with enough users every one of the 4096 tags belongs to someone.)

mod common;

use std::net::SocketAddr;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use authbench_core::{ManualClock, SharedClock};
use authbench_server::ratelimit::Rate;
use authbench_server::{AppState, app};
use authbench_services::{RedisServer, redis_cli_path};
use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use common::{bearer, body_json, fresh_users, login, send};

const ATTACKER: [u8; 4] = [203, 0, 113, 9];
const HONEST: [u8; 4] = [198, 51, 100, 1];

fn from(ip: [u8; 4], mut req: Request<Body>) -> Request<Body> {
    req.extensions_mut()
        .insert(ConnectInfo(SocketAddr::from((ip, 40_000))));
    req
}

/// Commands Redis has run so far (every kind), from `INFO commandstats`.
fn redis_calls(redis: &RedisServer) -> u64 {
    let out = Command::new(redis_cli_path().expect("redis-cli"))
        .args(["-p", &redis.port().to_string(), "INFO", "commandstats"])
        .output()
        .expect("redis-cli");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with("cmdstat_") && !l.starts_with("cmdstat_info"))
        .filter_map(|l| {
            let calls = l.split("calls=").nth(1)?;
            calls.split(',').next()?.parse::<u64>().ok()
        })
        .sum()
}

async fn session_app(redis: &RedisServer, rate: Option<Rate>) -> Router {
    let clock: SharedClock = Arc::new(ManualClock::at_system_time());
    let backend = common::session_backend(redis, clock).await;
    app(AppState::new(Arc::new(backend), fresh_users()).with_verify_failure_rate(rate))
}

#[tokio::test]
async fn forged_session_ids_cost_redis_only_within_the_budget() {
    let redis = common::redis();
    let burst = 5;
    let app = session_app(
        &redis,
        Some(Rate {
            burst,
            refill_every: Duration::from_secs(3_600),
        }),
    )
    .await;
    let real = login(&app, "alice").await;
    let (tag, _) = real.split_once('.').expect("a tagged session ID");
    let forged = |i: usize| format!("{tag}.{:A>43}", i);
    assert_eq!(forged(7).len(), real.len(), "shaped like a real ID");

    let before = redis_calls(&redis);
    let (mut unauthorized, mut limited) = (0, 0);
    for i in 0..50 {
        let resp = send(&app, from(ATTACKER, bearer("GET", "/me", &forged(i)))).await;
        match resp.status() {
            StatusCode::UNAUTHORIZED => unauthorized += 1,
            StatusCode::TOO_MANY_REQUESTS => {
                assert!(resp.headers().contains_key(header::RETRY_AFTER));
                assert_eq!(body_json(resp).await["error"], "too_many_failures");
                limited += 1;
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(unauthorized, burst, "the budget's worth of lookups");
    assert_eq!(limited, 50 - burst);
    let calls = redis_calls(&redis) - before;
    assert!(
        calls <= 2 * u64::from(burst),
        "{calls} Redis commands for 50 forged IDs (one pipelined verify each within the budget)"
    );
    // The same holds for /logout, which verifies before revoking.
    let resp = send(&app, from(ATTACKER, bearer("POST", "/logout", &forged(99)))).await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);

    // Another client is not affected, and valid credentials never spend budget.
    for _ in 0..20 {
        let resp = send(&app, from(HONEST, bearer("GET", "/me", &real))).await;
        assert_eq!(resp.status(), StatusCode::OK);
    }
    // Requests without a known client address (no ConnectInfo) are not limited here.
    let resp = send(&app, bearer("GET", "/me", &forged(1))).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_default_budget_leaves_honest_failures_alone() {
    let redis = common::redis();
    let app = session_app(
        &redis,
        Some(authbench_server::ratelimit::DEFAULT_VERIFY_FAILURE_RATE),
    )
    .await;
    let real = login(&app, "bob").await;
    // A client with a few stale credentials (old cookies, a logged-out tab) is answered 401,
    // never 429, and its valid credential keeps working.
    for i in 0..10 {
        let resp = send(&app, from(HONEST, bearer("GET", "/me", &format!("{i}x")))).await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    }
    let resp = send(&app, from(HONEST, bearer("GET", "/me", &real))).await;
    assert_eq!(resp.status(), StatusCode::OK);
}
