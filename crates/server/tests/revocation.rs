//! `/logout`, `/logout-all` and `/refresh` over the axum router for every JWT revocation
//! strategy, against a real Redis (`authbench-services`), through `Router` + `oneshot`.

mod common;

use common::{bearer, body_json, send};

use authbench_core::ManualClock;
use authbench_jwt::{Alg, JwtBackend, JwtConfig, Revocation, SigningKey};
use authbench_server::users::HashCost;
use authbench_server::{AppState, DemoUsers, UserStore, app};
use authbench_services::RedisServer;
use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response, StatusCode, header};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

const PASSWORD: &str = "correct horse battery staple";
const REVOKED: &str = "authbench-revoked";

/// Seeding hashes passwords with argon2; do it once for the whole file.
fn users() -> Arc<UserStore> {
    static USERS: OnceLock<Arc<UserStore>> = OnceLock::new();
    Arc::clone(
        USERS.get_or_init(|| {
            Arc::new(UserStore::demo(&DemoUsers::default()).expect("seed demo users"))
        }),
    )
}

/// The app under `revocation`, its Redis and its clock.
async fn jwt_app(revocation: Revocation) -> (Router, RedisServer, ManualClock) {
    let redis = RedisServer::start().unwrap_or_else(|e| panic!("{e}"));
    let clock = ManualClock::at_system_time();
    let backend = JwtBackend::connect(
        JwtConfig::new(Alg::ES256).with_revocation(revocation),
        Arc::new(clock.clone()),
        &redis.url(),
    )
    .await
    .expect("backend");
    (app(AppState::new(Arc::new(backend), users())), redis, clock)
}

fn json_post(path: &str, body: serde_json::Value) -> Request<Body> {
    Request::post(path)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .expect("request")
}

/// Logs in; returns the login answer.
async fn login(app: &Router, user: &str) -> serde_json::Value {
    let resp = send(
        app,
        json_post(
            "/login",
            serde_json::json!({"username": user, "password": PASSWORD}),
        ),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK, "login as {user}");
    body_json(resp).await
}

fn token(answer: &serde_json::Value) -> String {
    answer["token"].as_str().expect("token").to_owned()
}

async fn me(app: &Router, token: &str) -> StatusCode {
    send(app, bearer("GET", "/me", token)).await.status()
}

async fn refresh(app: &Router, refresh_token: &str) -> Response<Body> {
    send(
        app,
        json_post(
            "/refresh",
            serde_json::json!({"refresh_token": refresh_token}),
        ),
    )
    .await
}

/// `/logout` and `/logout-all`: status, the revocation header, and whether the token still
/// works afterwards.
async fn logout(app: &Router, path: &str, token: &str) -> String {
    let resp = send(app, bearer("POST", path, token)).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT, "{path}");
    resp.headers()[REVOKED].to_str().expect("ascii").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn denylist_logout_and_logout_all_bite_at_once() {
    let (app, _redis, _clock) = jwt_app(Revocation::Denylist).await;
    let first = token(&login(&app, "alice").await);
    let second = token(&login(&app, "alice").await);
    let bob = token(&login(&app, "bob").await);
    assert_eq!(logout(&app, "/logout", &first).await, "true");
    assert_eq!(me(&app, &first).await, StatusCode::UNAUTHORIZED);
    assert_eq!(me(&app, &second).await, StatusCode::OK, "the other device");
    assert_eq!(logout(&app, "/logout-all", &second).await, "true");
    assert_eq!(me(&app, &second).await, StatusCode::UNAUTHORIZED);
    assert_eq!(me(&app, &bob).await, StatusCode::OK, "bob untouched");
    // No refresh tokens under this strategy.
    let resp = refresh(&app, &"A".repeat(43)).await;
    assert_eq!(resp.status(), StatusCode::NOT_IMPLEMENTED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn epoch_logout_is_not_a_revocation_but_logout_all_is() {
    let (app, _redis, clock) = jwt_app(Revocation::Epoch).await;
    let first = token(&login(&app, "alice").await);
    let bob = token(&login(&app, "bob").await);
    // Single logout only drops the cookie: the header says so, and the token still works.
    assert_eq!(logout(&app, "/logout", &first).await, "false");
    assert_eq!(me(&app, &first).await, StatusCode::OK);
    assert_eq!(logout(&app, "/logout-all", &first).await, "true");
    assert_eq!(me(&app, &first).await, StatusCode::UNAUTHORIZED);
    assert_eq!(me(&app, &bob).await, StatusCode::OK);
    // Logging in again works at once, in the same second (the clock does not move).
    let again = token(&login(&app, "alice").await);
    assert_eq!(me(&app, &again).await, StatusCode::OK);
    drop(clock);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_rotates_detects_reuse_and_logout_ends_the_family() {
    let (app, _redis, clock) = jwt_app(Revocation::Refresh).await;
    let answer = login(&app, "alice").await;
    assert_eq!(answer["expires_in"], 300);
    let rt1 = answer["refresh_token"]
        .as_str()
        .expect("refresh_token")
        .to_owned();

    // Rotation: a new access token and a new refresh token, shaped like /login's answer.
    let resp = refresh(&app, &rt1).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers().contains_key(header::SET_COOKIE));
    let rotated = body_json(resp).await;
    let rt2 = rotated["refresh_token"]
        .as_str()
        .expect("rotated")
        .to_owned();
    assert_ne!(rt1, rt2);
    assert_eq!(me(&app, &token(&rotated)).await, StatusCode::OK);

    // Reuse of rt1: 401, and the family is gone (rt2 too).
    let resp = refresh(&app, &rt1).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(refresh(&app, &rt2).await.status(), StatusCode::UNAUTHORIZED);

    // Logout with the access token ends its family; the access token lives until exp.
    let answer = login(&app, "alice").await;
    let access = token(&answer);
    let rt = answer["refresh_token"].as_str().expect("rt").to_owned();
    assert_eq!(logout(&app, "/logout", &access).await, "true");
    assert_eq!(refresh(&app, &rt).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        me(&app, &access).await,
        StatusCode::OK,
        "inside the access-token window"
    );
    let now = authbench_core::Clock::now(&clock);
    clock.set(now + 300 + 5);
    assert_eq!(
        me(&app, &access).await,
        StatusCode::UNAUTHORIZED,
        "after exp"
    );
    clock.set(now);

    // Logout-all ends every family of the user, not others'.
    let phone = login(&app, "alice").await;
    let laptop = login(&app, "alice").await;
    let bob = login(&app, "bob").await;
    assert_eq!(logout(&app, "/logout-all", &token(&phone)).await, "true");
    for a in [&phone, &laptop] {
        let rt = a["refresh_token"].as_str().expect("rt");
        assert_eq!(refresh(&app, rt).await.status(), StatusCode::UNAUTHORIZED);
    }
    let rt = bob["refresh_token"].as_str().expect("rt");
    assert_eq!(refresh(&app, rt).await.status(), StatusCode::OK);
    // Garbage refresh tokens are a client error, not a server one.
    assert_eq!(
        refresh(&app, "nope").await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_strategy_answers_503_when_redis_is_down_and_none_does_not_need_it() {
    let (app, mut redis, _clock) = jwt_app(Revocation::Denylist).await;
    let access = token(&login(&app, "alice").await);
    redis.stop();
    assert_eq!(
        me(&app, &access).await,
        StatusCode::SERVICE_UNAVAILABLE,
        "fail closed"
    );

    let (app, mut redis, _clock) = jwt_app(Revocation::Refresh).await;
    let answer = login(&app, "alice").await;
    redis.stop();
    assert_eq!(
        me(&app, &token(&answer)).await,
        StatusCode::OK,
        "verify is local"
    );
    let rt = answer["refresh_token"].as_str().expect("rt");
    assert_eq!(
        refresh(&app, rt).await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );

    // `none` over a Redis URL that leads nowhere: it never connects.
    let backend = JwtBackend::connect(
        JwtConfig::new(Alg::ES256),
        Arc::new(ManualClock::at_system_time()),
        "redis://127.0.0.1:1/",
    )
    .await
    .expect("none needs no Redis");
    let app = app_for(backend);
    let access = token(&login(&app, "alice").await);
    assert_eq!(me(&app, &access).await, StatusCode::OK);
    assert_eq!(logout(&app, "/logout", &access).await, "false");
    assert_eq!(
        me(&app, &access).await,
        StatusCode::OK,
        "a plain JWT outlives logout"
    );
}

fn app_for(backend: JwtBackend) -> Router {
    app(AppState::new(Arc::new(backend), users()))
}

/// Two instances of one deployment (one signing key, one Redis, one user table) behind a load
/// balancer, on a clock that never moves: everything happens in the same second, so nothing
/// can pass by waiting for the clock. Logins use the cheap argon2 cost: these tests are about
/// ordering, not hashing.
async fn two_instances(revocation: Revocation) -> (Router, Router, RedisServer) {
    let redis = RedisServer::start().unwrap_or_else(|e| panic!("{e}"));
    let clock = ManualClock::at_system_time();
    let users = Arc::new(
        UserStore::demo(&DemoUsers {
            hash_cost: HashCost::InsecureFast,
            ..DemoUsers::default()
        })
        .expect("seed demo users"),
    );
    let pem = SigningKey::generate(Alg::ES256)
        .expect("key")
        .private_key_pem()
        .expect("pem");
    let mut apps = Vec::new();
    for _ in 0..2 {
        let backend = JwtBackend::connect_with_key(
            JwtConfig::new(Alg::ES256).with_revocation(revocation),
            SigningKey::from_pem(Alg::ES256, pem.as_bytes()).expect("same key"),
            Arc::new(clock.clone()),
            &redis.url(),
        )
        .await
        .expect("backend");
        apps.push(app(AppState::new(Arc::new(backend), Arc::clone(&users))));
    }
    let b = apps.pop().expect("two");
    let a = apps.pop().expect("two");
    (a, b, redis)
}

/// `/logout-all` then an immediate `/login` then `/me`, 200 times, alternating the instances:
/// the fresh credential works at once on both, and the one before the logout-all is refused
/// by the instance that revoked it.
async fn logout_all_then_login_at_once(revocation: Revocation) {
    let (a, b, _redis) = two_instances(revocation).await;
    let mut previous = token(&login(&a, "alice").await);
    for i in 0..200 {
        let (revoker, issuer) = if i % 2 == 0 { (&a, &b) } else { (&b, &a) };
        assert_eq!(logout(revoker, "/logout-all", &previous).await, "true");
        let fresh = token(&login(issuer, "alice").await);
        assert_eq!(
            me(issuer, &fresh).await,
            StatusCode::OK,
            "{revocation} round {i}: fresh login dead on arrival at its instance"
        );
        assert_eq!(
            me(revoker, &fresh).await,
            StatusCode::OK,
            "{revocation} round {i}: fresh login dead on arrival at the other instance"
        );
        assert_eq!(
            me(revoker, &previous).await,
            StatusCode::UNAUTHORIZED,
            "{revocation} round {i}: the credential from before the logout-all"
        );
        previous = fresh;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn denylist_login_right_after_logout_all_works_200_times() {
    logout_all_then_login_at_once(Revocation::Denylist).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn epoch_login_right_after_logout_all_works_200_times() {
    logout_all_then_login_at_once(Revocation::Epoch).await;
}

/// `POST /password` revokes every credential of the user and hands back a fresh one: that one
/// must work at once (it used to be revoked by the very logout-all that preceded it).
async fn password_change_returns_a_working_credential(revocation: Revocation) {
    let (a, b, _redis) = two_instances(revocation).await;
    let old = token(&login(&a, "alice").await);
    let other_device = token(&login(&b, "alice").await);
    let resp = send(
        &a,
        Request::post("/password")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::AUTHORIZATION, format!("Bearer {old}"))
            .body(Body::from(
                serde_json::json!({
                    "current_password": PASSWORD,
                    "new_password": "a brand new passphrase",
                })
                .to_string(),
            ))
            .expect("request"),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK, "{revocation}");
    assert_eq!(resp.headers()[REVOKED], "true");
    let answer = body_json(resp).await;
    assert_eq!(answer["existing_credentials"], "revoked", "{answer}");
    let returned = token(&answer);
    assert_eq!(me(&a, &returned).await, StatusCode::OK, "{revocation}");
    assert_eq!(me(&b, &returned).await, StatusCode::OK, "{revocation}");
    assert_eq!(me(&a, &old).await, StatusCode::UNAUTHORIZED);
    assert_eq!(me(&a, &other_device).await, StatusCode::UNAUTHORIZED);
    // And a login with the new password, at once, works too.
    let resp = send(
        &b,
        json_post(
            "/login",
            serde_json::json!({"username": "alice", "password": "a brand new passphrase"}),
        ),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let relogin = token(&body_json(resp).await);
    assert_eq!(me(&a, &relogin).await, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn denylist_password_change_returns_a_credential_that_works() {
    password_change_returns_a_working_credential(Revocation::Denylist).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn epoch_password_change_returns_a_credential_that_works() {
    password_change_returns_a_working_credential(Revocation::Epoch).await;
}

/// One race's timings and outcome.
struct Race {
    login_start: Instant,
    login_end: Instant,
    revoke_start: Instant,
    revoke_end: Instant,
}

/// A `/login` racing a `/logout-all` of the same user, `ITERATIONS` times, on two instances
/// (login on one, logout-all on the other), the logout-all started at a jittered moment
/// inside the login's measured duration. Each race must end one of two ways:
///
/// - **before**: the new credential is refused (it read the epoch before the raise);
/// - **after**: it is accepted, at once, on both instances.
///
/// Never valid-but-older: a login that *finished* before the logout-all began must be refused,
/// and a login that *began* after it finished must be accepted (real-time order is respected
/// where it exists); the outcome is the same on both instances and does not change later
/// (checked again, and `epoch`'s other instance allowed its propagation delay only for
/// refusing). A credential accepted in a race is still ended by the next logout-all.
async fn login_racing_logout_all(revocation: Revocation) {
    const ITERATIONS: u32 = 150;
    let (a, b, _redis) = two_instances(revocation).await;
    // The login's duration on this machine, to aim the logout-all inside it.
    let t = Instant::now();
    for _ in 0..10 {
        login(&b, "alice").await;
    }
    let login_time = t.elapsed() / 10;
    let (mut before, mut after, mut overlapped) = (0u32, 0u32, 0u32);
    let mut current = token(&login(&a, "alice").await);
    for i in 0..ITERATIONS {
        // 0 % .. 94 % of a login, in 16 steps: some races the raise wins, some it loses.
        let delay = login_time * (i % 16) / 16;
        let (login_app, revoke_app) = (b.clone(), a.clone());
        let held = current.clone();
        let login_task = tokio::spawn(async move {
            let start = Instant::now();
            let fresh = token(&login(&login_app, "alice").await);
            (fresh, start, Instant::now())
        });
        let revoke_task = tokio::spawn(async move {
            // A timer would round the sub-millisecond delay up to its 1 ms tick: spin.
            let until = Instant::now() + delay;
            while Instant::now() < until {
                tokio::task::yield_now().await;
            }
            let start = Instant::now();
            assert_eq!(logout(&revoke_app, "/logout-all", &held).await, "true");
            (start, Instant::now())
        });
        let (fresh, login_start, login_end) = login_task.await.expect("login task");
        let (revoke_start, revoke_end) = revoke_task.await.expect("revoke task");
        let race = Race {
            login_start,
            login_end,
            revoke_start,
            revoke_end,
        };
        assert_eq!(
            me(&a, &current).await,
            StatusCode::UNAUTHORIZED,
            "{revocation} race {i}: the credential held before the logout-all"
        );
        let on_a = me(&a, &fresh).await;
        let on_b = me(&b, &fresh).await;
        match on_a {
            StatusCode::OK => {
                after += 1;
                assert_eq!(
                    on_b,
                    StatusCode::OK,
                    "{revocation} race {i}: accepted by the revoker, refused by the issuer"
                );
                assert!(
                    race.login_end >= race.revoke_start,
                    "{revocation} race {i}: valid but older: the login had finished before \
                     the logout-all began"
                );
            }
            StatusCode::UNAUTHORIZED => {
                before += 1;
                assert!(
                    race.login_start <= race.revoke_end,
                    "{revocation} race {i}: a login that began after the logout-all ended \
                     was refused"
                );
                // The issuing instance agrees (for `epoch`, once the raise reached it).
                let until = Instant::now() + Duration::from_secs(1);
                while me(&b, &fresh).await != StatusCode::UNAUTHORIZED {
                    assert!(
                        Instant::now() < until,
                        "{revocation} race {i}: revoked on one instance, valid on the other"
                    );
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
            other => panic!("{revocation} race {i}: /me answered {other}"),
        }
        if race.login_start < race.revoke_end && race.revoke_start < race.login_end {
            overlapped += 1;
        }
        assert_eq!(me(&a, &fresh).await, on_a, "{revocation} race {i}: stable");
        current = if on_a == StatusCode::OK {
            fresh
        } else {
            token(&login(&a, "alice").await)
        };
    }
    println!(
        "{revocation}: {ITERATIONS} races (login {login_time:?}): {before} ended before the \
         logout-all (refused), {after} after (accepted), {overlapped} overlapped in time"
    );
    assert!(
        overlapped > 0,
        "no race actually overlapped: the test proved nothing"
    );
    // A credential that won its race is an ordinary one: the next logout-all ends it.
    assert_eq!(logout(&b, "/logout-all", &current).await, "true");
    assert_eq!(me(&a, &current).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn denylist_login_racing_logout_all_is_never_valid_but_older() {
    login_racing_logout_all(Revocation::Denylist).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn epoch_login_racing_logout_all_is_never_valid_but_older() {
    login_racing_logout_all(Revocation::Epoch).await;
}

/// An admin role change under a strategy that cannot rewrite tokens ends them (`revoked`);
/// the user's next login, at once, must work and carry the new roles.
async fn role_change_then_login_at_once(revocation: Revocation) {
    let (a, b, _redis) = two_instances(revocation).await;
    let old = token(&login(&a, "alice").await);
    let admin = token(&login(&a, "admin").await);
    let resp = send(
        &b,
        Request::put("/admin/users/alice/roles")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::AUTHORIZATION, format!("Bearer {admin}"))
            .body(Body::from(
                serde_json::json!({"roles": ["user", "auditor"]}).to_string(),
            ))
            .expect("request"),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK, "{revocation}");
    assert_eq!(body_json(resp).await["existing_credentials"], "revoked");
    assert_eq!(me(&b, &old).await, StatusCode::UNAUTHORIZED);
    let fresh = token(&login(&a, "alice").await);
    for instance in [&a, &b] {
        let resp = send(instance, bearer("GET", "/me", &fresh)).await;
        assert_eq!(resp.status(), StatusCode::OK, "{revocation}");
        let roles = body_json(resp).await["roles"].clone();
        assert_eq!(
            roles,
            serde_json::json!(["user", "auditor"]),
            "{revocation}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn denylist_login_right_after_an_admin_role_change_works() {
    role_change_then_login_at_once(Revocation::Denylist).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn epoch_login_right_after_an_admin_role_change_works() {
    role_change_then_login_at_once(Revocation::Epoch).await;
}

/// `POST /logout {"refresh_token"}`: the refresh-token branch of `revoke`, reachable over
/// HTTP (before, `/logout` verified the bearer as an access token first, so a refresh token
/// was a 401 and its family lived on). Works without a live access token (possession of the
/// refresh token is the proof, as at `/refresh`), ends only that family, and is a 400 for a
/// bad body and a 501 on a backend without refresh tokens.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_by_refresh_token_ends_its_family_over_http() {
    let (app, _redis, clock) = jwt_app(Revocation::Refresh).await;
    let phone = login(&app, "alice").await;
    let laptop = login(&app, "alice").await;
    let rt = phone["refresh_token"].as_str().expect("rt").to_owned();
    // The access token has expired: the client holds only its refresh token.
    let now = authbench_core::Clock::now(&clock);
    clock.set(now + 300 + 10);
    assert_eq!(me(&app, &token(&phone)).await, StatusCode::UNAUTHORIZED);
    let resp = send(
        &app,
        json_post("/logout", serde_json::json!({ "refresh_token": rt })),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(resp.headers()[REVOKED], "true");
    assert_eq!(refresh(&app, &rt).await.status(), StatusCode::UNAUTHORIZED);
    // The other device's family is untouched.
    let other = laptop["refresh_token"].as_str().expect("rt");
    assert_eq!(refresh(&app, other).await.status(), StatusCode::OK);
    // Garbage is a client error; a bad body a 400.
    let resp = send(
        &app,
        json_post("/logout", serde_json::json!({ "refresh_token": "nope" })),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let resp = send(
        &app,
        json_post("/logout", serde_json::json!({ "token": "x" })),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);

    // Without refresh tokens the body form is not a way around verification: 501.
    let (denylist, _redis2, _clock2) = jwt_app(Revocation::Denylist).await;
    let access = token(&login(&denylist, "alice").await);
    let resp = send(
        &denylist,
        json_post("/logout", serde_json::json!({ "refresh_token": access })),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NOT_IMPLEMENTED);
    assert_eq!(me(&denylist, &access).await, StatusCode::OK);
}
