//! Login abuse over HTTP: failure budgets per client IP and per account (429 with
//! `Retry-After`, before any hashing), the bounded argon2 pool (shedding with 503), and failed
//! logins that cost the same whether or not the user exists.
//!
//! The client IP is what the server's accept loop attaches to each request (`ConnectInfo`);
//! here each request carries one set by the test, so one test can be many clients.

mod common;

use common::{PASSWORD, body_json, login_req, send};

use authbench_core::SystemClock;
use authbench_jwt::{Alg, JwtBackend, JwtConfig};
use authbench_server::ratelimit::{LoginLimits, Rate};
use authbench_server::users::HashCost;
use authbench_server::{AppState, DemoUsers, UserStore, app};
use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn users(cost: HashCost) -> Arc<UserStore> {
    Arc::new(
        UserStore::demo(&DemoUsers {
            hash_cost: cost,
            ..DemoUsers::default()
        })
        .expect("seed"),
    )
}

/// A JWT app (no Redis needed: login abuse is about `/login`, not the backend).
fn abuse_app(users: Arc<UserStore>, limits: LoginLimits) -> Router {
    let backend =
        JwtBackend::new(JwtConfig::new(Alg::HS256), Arc::new(SystemClock)).expect("jwt backend");
    app(AppState::new(Arc::new(backend), users).with_login_limits(limits))
}

fn rate(burst: u32, secs: u64) -> Option<Rate> {
    Some(Rate {
        burst,
        refill_every: Duration::from_secs(secs),
    })
}

/// `/login` as `user` from `ip`.
fn login_from(ip: [u8; 4], user: &str, password: &str) -> Request<Body> {
    let mut req = login_req(user, password);
    req.extensions_mut()
        .insert(ConnectInfo(SocketAddr::from((ip, 40_000))));
    req
}

const ATTACKER: [u8; 4] = [203, 0, 113, 7];

async fn assert_429(app: &Router, req: Request<Body>) {
    let resp = send(app, req).await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = resp.headers()[header::RETRY_AFTER]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&wait), "Retry-After: {wait}");
    assert_eq!(
        body_json(resp).await,
        serde_json::json!({"error": "too_many_attempts"})
    );
}

#[tokio::test]
async fn failures_from_one_ip_get_429_before_any_hashing() {
    let users = users(HashCost::InsecureFast);
    let limits = LoginLimits {
        per_ip: rate(3, 60),
        per_account: rate(100, 60),
        ..LoginLimits::default()
    };
    let app = abuse_app(Arc::clone(&users), limits);
    for user in ["alice", "bob", "nobody"] {
        let resp = send(&app, login_from(ATTACKER, user, "guess")).await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    }
    let hashed = users.verifications();
    assert_eq!(hashed, 3);
    // Budget spent: refused, even with the right password, and without running argon2.
    assert_429(&app, login_from(ATTACKER, "carol", "guess")).await;
    assert_429(&app, login_from(ATTACKER, "alice", PASSWORD)).await;
    assert_eq!(
        users.verifications(),
        hashed,
        "no argon2 for a refused login"
    );
    // Another client is not affected.
    let resp = send(&app, login_from([198, 51, 100, 1], "alice", PASSWORD)).await;
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn failures_against_one_account_from_many_ips_get_429() {
    let users = users(HashCost::InsecureFast);
    let limits = LoginLimits {
        per_ip: rate(100, 60),
        per_account: rate(3, 60),
        ..LoginLimits::default()
    };
    let app = abuse_app(users, limits);
    for (i, user) in [
        (1, "alice"),
        (2, "alice"),
        (3, "alice"),
        (1, "ghost"),
        (2, "ghost"),
        (3, "ghost"),
    ] {
        let resp = send(&app, login_from([10, 0, 0, i], user, "guess")).await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    }
    // The same answer for a known and an unknown account: the budget says nothing about
    // whether a name exists.
    assert_429(&app, login_from([10, 0, 0, 4], "alice", PASSWORD)).await;
    assert_429(&app, login_from([10, 0, 0, 4], "ghost", "guess")).await;
    // Other accounts from the same addresses are fine.
    let resp = send(&app, login_from([10, 0, 0, 1], "bob", PASSWORD)).await;
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn successful_logins_spend_no_budget() {
    let users = users(HashCost::InsecureFast);
    let limits = LoginLimits {
        per_ip: rate(2, 60),
        per_account: rate(2, 60),
        ..LoginLimits::default()
    };
    let app = abuse_app(users, limits);
    for _ in 0..10 {
        let resp = send(&app, login_from(ATTACKER, "alice", PASSWORD)).await;
        assert_eq!(resp.status(), StatusCode::OK);
    }
}

/// Sends `n` wrong guesses at once through the router (`request(i)` builds the i-th, all
/// released together by a barrier) and returns how many were answered 401 and 429, and how
/// many argon2 runs they cost. Any other answer fails the test.
async fn concurrent_guesses(
    users: &Arc<UserStore>,
    app: &Router,
    n: usize,
    request: impl Fn(usize) -> Request<Body>,
) -> (usize, usize, u64) {
    let before = users.verifications();
    let barrier = Arc::new(tokio::sync::Barrier::new(n));
    let mut tasks = Vec::with_capacity(n);
    for i in 0..n {
        let (app, barrier, req) = (app.clone(), Arc::clone(&barrier), request(i));
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            send(&app, req).await.status()
        }));
    }
    let (mut unauthorized, mut limited) = (0, 0);
    for t in tasks {
        match t.await.expect("task") {
            StatusCode::UNAUTHORIZED => unauthorized += 1,
            StatusCode::TOO_MANY_REQUESTS => limited += 1,
            other => panic!("unexpected answer {other}"),
        }
    }
    (unauthorized, limited, users.verifications() - before)
}

/// The budget is taken before argon2 runs, so guesses sent in parallel cannot all pass the
/// check while the first ones hash: N concurrent wrong passwords for one account against a
/// burst of B cost exactly B argon2 runs, and N − B are 429. (When the budget was only
/// checked before hashing and spent after, 40 guesses with a burst of 2 got 40 × 401.) Real
/// OWASP-cost hashing, so each run takes long enough for every request to arrive meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_guesses_against_one_account_cost_at_most_the_burst() {
    for (n, burst) in [(10, 2), (40, 2), (200, 5)] {
        let users = users(HashCost::Owasp);
        let limits = LoginLimits {
            per_ip: None,
            per_account: rate(burst, 60),
            ..LoginLimits::default()
        };
        let app = abuse_app(Arc::clone(&users), limits);
        let (unauthorized, limited, hashed) = concurrent_guesses(&users, &app, n, |i| {
            login_from([10, 0, (i / 250) as u8, (i % 250) as u8], "alice", "guess")
        })
        .await;
        let b = burst as usize;
        assert_eq!(hashed, b as u64, "N = {n}: argon2 runs");
        assert_eq!(unauthorized, b, "N = {n}: 401s");
        assert_eq!(limited, n - b, "N = {n}: 429s");
        // The budget is spent: even the right password waits.
        assert_429(&app, login_from(ATTACKER, "alice", PASSWORD)).await;
    }
}

/// The same for the per-IP budget, with every guess for another account: one client cannot
/// multiply its rate by sending in parallel.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_guesses_from_one_ip_cost_at_most_the_burst() {
    for (n, burst) in [(50, 3), (200, 3)] {
        let users = users(HashCost::Owasp);
        let limits = LoginLimits {
            per_ip: rate(burst, 60),
            per_account: None,
            ..LoginLimits::default()
        };
        let app = abuse_app(Arc::clone(&users), limits);
        let (unauthorized, limited, hashed) = concurrent_guesses(&users, &app, n, |i| {
            login_from(ATTACKER, &format!("user-{i}"), "guess")
        })
        .await;
        let b = burst as usize;
        assert_eq!(
            (hashed, unauthorized, limited),
            (b as u64, b, n - b),
            "N = {n}"
        );
    }
}

/// `/login` as `user` from an IPv6 `ip`.
fn login_from_v6(ip: &str, user: &str, password: &str) -> Request<Body> {
    let mut req = login_req(user, password);
    let ip: std::net::Ipv6Addr = ip.parse().expect("IPv6 address");
    req.extensions_mut()
        .insert(ConnectInfo(SocketAddr::from((ip, 40_000))));
    req
}

/// An IPv6 client is budgeted per /64: a new address for every guess inside one /64 shares
/// one budget (concurrently too), while the neighbouring /64 has its own. (Keyed on the full
/// address, each of these 200 guesses had a fresh bucket.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ipv6_guesses_share_one_budget_per_64() {
    let users = users(HashCost::Owasp);
    let burst = 3;
    let limits = LoginLimits {
        per_ip: rate(burst, 60),
        per_account: None,
        ..LoginLimits::default()
    };
    let app = abuse_app(Arc::clone(&users), limits);
    let n = 200;
    let (unauthorized, limited, hashed) = concurrent_guesses(&users, &app, n, |i| {
        login_from_v6(
            &format!("2001:db8:7:42:{:x}:{:x}::1", (i * 7919) % 65_536, i),
            &format!("user-{i}"),
            "guess",
        )
    })
    .await;
    let b = burst as usize;
    assert_eq!((hashed, unauthorized, limited), (b as u64, b, n - b));
    // Sequentially, the same: a fresh interface identifier gains nothing.
    let resp = send(
        &app,
        login_from_v6("2001:db8:7:42:ffff:ffff:ffff:fffe", "alice", PASSWORD),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    // The next /64 is another client.
    let resp = send(&app, login_from_v6("2001:db8:7:43::1", "alice", PASSWORD)).await;
    assert_eq!(resp.status(), StatusCode::OK);
}

/// A flood beyond the pool and its waiting line is shed with 503 and `Retry-After`, without
/// hashing; what is admitted runs argon2 exactly once each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_beyond_the_hashing_pool_is_shed() {
    let users = users(HashCost::Owasp);
    let limits = LoginLimits {
        per_ip: None,
        per_account: None,
        hash_workers: 1,
        max_waiting: 2,
        ..LoginLimits::default()
    };
    let app = abuse_app(Arc::clone(&users), limits);
    let before = users.verifications();
    let mut tasks = Vec::new();
    for i in 0..12 {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            let resp = send(&app, login_req(&format!("user-{i}"), "guess")).await;
            let retry = resp.headers().get(header::RETRY_AFTER).cloned();
            (resp.status(), retry)
        }));
    }
    let (mut shed, mut answered) = (0, 0);
    for t in tasks {
        match t.await.expect("task") {
            (StatusCode::SERVICE_UNAVAILABLE, Some(retry)) => {
                assert_eq!(retry, "1");
                shed += 1;
            }
            (StatusCode::UNAUTHORIZED, _) => answered += 1,
            other => panic!("unexpected answer {other:?}"),
        }
    }
    assert!(shed >= 1, "nothing was shed");
    assert!(
        answered >= 3,
        "the pool and its line should have been served"
    );
    assert_eq!(users.verifications() - before, answered);
}

/// No user enumeration by timing: an unknown user and a wrong password each run argon2 exactly
/// once (so do a disabled account and a success), and their medians over interleaved samples
/// are within a factor of 1.5 of each other (generous: the cost is the same argon2 run, the
/// bound only catches a path that skips or doubles it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_user_and_wrong_password_cost_the_same() {
    let users = users(HashCost::Owasp);
    users.disable("bob");
    let limits = LoginLimits {
        per_ip: None,
        per_account: None,
        ..LoginLimits::default()
    };
    let app = abuse_app(Arc::clone(&users), limits);
    for (user, password, status) in [
        ("nobody", "guess", StatusCode::UNAUTHORIZED),
        ("alice", "guess", StatusCode::UNAUTHORIZED),
        ("bob", PASSWORD, StatusCode::UNAUTHORIZED),
        ("alice", PASSWORD, StatusCode::OK),
    ] {
        let before = users.verifications();
        assert_eq!(send(&app, login_req(user, password)).await.status(), status);
        assert_eq!(users.verifications() - before, 1, "{user}: one argon2 run");
    }

    let (mut unknown, mut wrong) = (Vec::new(), Vec::new());
    for i in 0..15 {
        // Interleaved, alternating which goes first, so drift hits both alike.
        let order = if i % 2 == 0 {
            [true, false]
        } else {
            [false, true]
        };
        for is_unknown in order {
            let user = if is_unknown { "nobody" } else { "alice" };
            let started = Instant::now();
            let status = send(&app, login_req(user, "guess")).await.status();
            let took = started.elapsed();
            assert_eq!(status, StatusCode::UNAUTHORIZED);
            if is_unknown { &mut unknown } else { &mut wrong }.push(took);
        }
    }
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2].as_secs_f64()
    };
    let ratio = median(&mut unknown) / median(&mut wrong);
    assert!(
        (1.0 / 1.5..=1.5).contains(&ratio),
        "unknown/wrong median ratio {ratio:.2}"
    );
}
