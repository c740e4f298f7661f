//! `StoreError::Contended` through HTTP for the session backend: 503, never 500.
//!
//! Contended is what `Store::run_indexed` answers when a user's index keeps changing between
//! its `ZRANGE` snapshot and the script that acts on it, `INDEX_ATTEMPTS` times in a row (a
//! user logging in again and again during "log out everywhere"). Here a real Redis is put in
//! that state: the backend talks to it through a latency proxy (20 ms each way), and a second,
//! direct connection adds a new member to the user's index every millisecond, so every snapshot
//! is stale by the time its script runs. `POST /logout-all` must then answer 503 with
//! `Retry-After` (the client may retry; nothing was half done), and succeed once the churn stops.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use authbench_core::{ManualClock, SharedClock};
use authbench_server::{AppState, app};
use authbench_services::{LatencyProxy, redis_cli_path};
use authbench_session::{SessionBackend, SessionConfig};
use axum::http::{StatusCode, header};
use common::{bearer, body_json, fresh_users, login, send};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_contended_index_is_a_503_over_http() {
    let redis = common::redis();
    let proxy = LatencyProxy::start(redis.addr(), Duration::from_millis(20)).expect("proxy");
    let clock: SharedClock = Arc::new(ManualClock::at_system_time());
    let backend = SessionBackend::connect(SessionConfig::new(proxy.redis_url()), clock)
        .await
        .expect("session backend through the proxy");
    let app = app(AppState::new(Arc::new(backend), fresh_users()));
    let token = login(&app, "alice").await;

    let out = Command::new(redis_cli_path().expect("redis-cli"))
        .args([
            "-p",
            &redis.port().to_string(),
            "--scan",
            "--pattern",
            "authbench:user:*",
        ])
        .output()
        .expect("redis-cli");
    let index = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert!(
        !index.is_empty() && !index.contains('\n'),
        "one index: {index:?}"
    );

    // The churn: a direct connection adding a fresh member every millisecond.
    let stop = Arc::new(AtomicBool::new(false));
    let churn = {
        let stop = Arc::clone(&stop);
        let addr = redis.addr();
        std::thread::spawn(move || {
            let mut conn = TcpStream::connect(addr).expect("direct connection");
            let reader = BufReader::new(conn.try_clone().expect("clone"));
            let drain = std::thread::spawn(move || {
                for line in reader.lines() {
                    if line.is_err() {
                        break;
                    }
                }
            });
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let member = format!("churn{i}");
                let cmd = format!(
                    "*4\r\n$4\r\nZADD\r\n${}\r\n{index}\r\n$1\r\n1\r\n${}\r\n{member}\r\n",
                    index.len(),
                    member.len()
                );
                conn.write_all(cmd.as_bytes()).expect("ZADD");
                i += 1;
                std::thread::sleep(Duration::from_millis(1));
            }
            // The reader holds a clone of the socket: shut it down so the drain ends.
            let _ = conn.shutdown(std::net::Shutdown::Both);
            let _ = drain.join();
            i
        })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;

    let resp = send(&app, bearer("POST", "/logout-all", &token)).await;
    let status = resp.status();
    let retry_after = resp.headers().get(header::RETRY_AFTER).cloned();
    let body = body_json(resp).await;
    stop.store(true, Ordering::Relaxed);
    let added = churn.join().expect("churn thread");
    assert!(added > 0);
    assert_eq!(
        status,
        StatusCode::SERVICE_UNAVAILABLE,
        "a contended index is unavailable, not an internal error: {body}"
    );
    assert_eq!(body["error"], "unavailable");
    assert_eq!(retry_after.expect("Retry-After"), "1");

    // Nothing was half done: the session still works, and once the churn stops the same
    // request succeeds and ends it.
    assert_eq!(common::me(&app, &token).await.0, StatusCode::OK);
    let resp = send(&app, bearer("POST", "/logout-all", &token)).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(common::me(&app, &token).await.0, StatusCode::UNAUTHORIZED);
}
