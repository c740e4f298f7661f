//! Every baseline stack, served on a free loopback port (the tower-sessions ones against a real
//! private redis-server): a login answers a credential that `/me` accepts, and a forged, a
//! missing or a logged-in-as-nobody credential is refused. `compare` measures these stacks; a
//! baseline that accepted anything would make every ratio against it meaningless.

use authbench_baselines::{BaselineOptions, COOKIE_NAME, DemoUsers, Stack};
use authbench_services::RedisServer;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

const PASSWORD: &str = "correct horse battery staple";

/// One HTTP/1.1 exchange on a fresh connection: `(status, headers, body)`.
async fn request(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
    body: &str,
) -> (u16, String, String) {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if !body.is_empty() {
        req.push_str("Content-Type: application/json\r\n");
    }
    for (name, value) in headers {
        req.push_str(&format!("{name}: {value}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    stream.write_all(req.as_bytes()).await.expect("write");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.expect("read");
    let raw = String::from_utf8(raw).expect("utf-8 answer");
    let (head, body) = raw.split_once("\r\n\r\n").expect("a header block");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    (status, head.to_owned(), body.to_owned())
}

/// Serves `stack` on 127.0.0.1:0 in the background; returns its address.
async fn serve(stack: Stack, redis_url: Option<String>) -> std::net::SocketAddr {
    let opts = BaselineOptions {
        stack,
        redis_url,
        users: DemoUsers::new(PASSWORD, 2),
    };
    let router = authbench_baselines::router(&opts).await.expect("router");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(authbench_baselines::serve(
        listener,
        router,
        std::future::pending(),
    ));
    addr
}

/// Logs `user` in; returns the header that carries the credential on the next request.
async fn login(stack: Stack, addr: std::net::SocketAddr, user: &str) -> (&'static str, String) {
    let body = format!(r#"{{"username":"{user}","password":"{PASSWORD}"}}"#);
    let (status, head, body) = request(addr, "POST", "/login", &[], &body).await;
    assert_eq!(status, 200, "{stack}: login answered {status}: {body}");
    if stack.uses_cookie() {
        let cookie = head
            .lines()
            .filter_map(|l| l.strip_prefix("set-cookie: "))
            .find_map(|c| c.strip_prefix(&format!("{COOKIE_NAME}=")))
            .and_then(|c| c.split(';').next())
            .unwrap_or_else(|| panic!("{stack}: no {COOKIE_NAME} cookie in\n{head}"));
        ("Cookie", format!("{COOKIE_NAME}={cookie}"))
    } else {
        let json: serde_json::Value = serde_json::from_str(&body).expect("login JSON");
        let token = json["token"].as_str().expect("token").to_owned();
        ("Authorization", format!("Bearer {token}"))
    }
}

/// Flips one character in the middle of the credential value (after the `=` or `Bearer `).
fn tamper(value: &str) -> String {
    let start = value.find(['=', ' ']).map_or(0, |i| i + 1);
    let at = start + (value.len() - start) / 2;
    let mut bytes = value.as_bytes().to_vec();
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).expect("ascii")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_stack_accepts_its_login_and_refuses_forgeries() {
    let redis = RedisServer::start().expect("redis-server (run scripts/setup to install it)");
    for stack in Stack::ALL {
        let our_claims = stack.is_control();
        let addr = serve(stack, stack.needs_redis().then(|| redis.url())).await;
        let (status, _, body) = request(addr, "GET", "/healthz", &[], "").await;
        assert_eq!((status, body.as_str()), (200, "ok"), "{stack}: /healthz");
        if stack == Stack::PlainAxum {
            let (status, _, _) = request(addr, "GET", "/me", &[], "").await;
            assert_eq!(status, 404, "plain axum serves /healthz only");
            continue;
        }

        let (name, value) = login(stack, addr, "alice").await;
        for _ in 0..3 {
            let (status, _, body) = request(addr, "GET", "/me", &[(name, value.clone())], "").await;
            assert_eq!(
                status, 200,
                "{stack}: /me with the login's credential: {body}"
            );
            let me: serde_json::Value = serde_json::from_str(&body).expect("/me JSON");
            assert_eq!(me["subject"], "alice", "{stack}: {body}");
            assert_eq!(me["tenant"], "acme", "{stack}: {body}");
            assert_eq!(
                me["credential_id"].is_string() && me["issued_at"].is_u64(),
                our_claims,
                "{stack}: our answer's fields exactly with --our-claims: {body}"
            );
        }
        if our_claims {
            // The token carries our registered claims and header, so it is our token's size.
            let token = value.strip_prefix("Bearer ").expect("bearer");
            let part = |i: usize| {
                use base64::Engine as _;
                let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(token.split('.').nth(i).expect("three parts"))
                    .expect("base64url");
                serde_json::from_slice::<serde_json::Value>(&raw).expect("JSON")
            };
            let (header, claims) = (part(0), part(1));
            assert_eq!(header["typ"], "at+jwt", "{stack}: {header}");
            assert_eq!(header["kid"].as_str().map(str::len), Some(43), "{stack}");
            for claim in ["iss", "aud", "nbf", "iat", "jti", "exp"] {
                assert!(!claims[claim].is_null(), "{stack}: {claim} in {claims}");
            }
        }

        let (status, _, _) = request(addr, "GET", "/me", &[], "").await;
        assert_eq!(status, 401, "{stack}: /me without a credential");
        let forged = tamper(&value);
        let (status, _, _) = request(addr, "GET", "/me", &[(name, forged)], "").await;
        assert_eq!(status, 401, "{stack}: /me with a tampered credential");

        let wrong = r#"{"username":"alice","password":"wrong"}"#;
        let (status, _, _) = request(addr, "POST", "/login", &[], wrong).await;
        assert_eq!(status, 401, "{stack}: login with a wrong password");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tower_sessions_stack_without_redis_is_a_clear_error() {
    let opts = BaselineOptions {
        stack: Stack::TowerSessions,
        redis_url: None,
        users: DemoUsers::new(PASSWORD, 0),
    };
    let err = authbench_baselines::router(&opts)
        .await
        .expect_err("no Redis URL");
    assert!(err.to_string().contains("--redis-url"), "{err}");
}

#[test]
fn stack_names_round_trip_and_unknown_names_list_the_choices() {
    for stack in Stack::ALL {
        assert_eq!(stack.name().parse::<Stack>().expect("parses"), stack);
    }
    let err = "tower".parse::<Stack>().expect_err("unknown");
    assert!(
        err.to_string().contains("tower-sessions-inactivity"),
        "{err}"
    );
}
