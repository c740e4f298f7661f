//! Hostile HTTP against the real server: `serve_with` on a loopback port, a session backend on
//! a real Redis, raw bytes over TCP (no client library to tidy up what we send).
//!
//! Every hostile request must get a 4xx or a closed connection, never a 5xx, and after each one
//! a normal `GET /me` on a fresh connection must still answer 200. The limits of
//! [`authbench_server::limits`] are tested at their boundaries: at the limit accepted, one past
//! it refused.

mod common;

use authbench_core::SystemClock;
use authbench_server::limits::{MAX_BODY_BYTES, MAX_HEADER_BYTES, MAX_HEADERS};
use authbench_server::{Limits, serve_with};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

/// Short timeouts so the slow-client tests take about a second.
const HEADER_TIMEOUT: Duration = Duration::from_millis(800);
const BODY_TIMEOUT: Duration = Duration::from_millis(800);
/// How long we wait for any answer before calling the server stuck.
const ANSWER_WITHIN: Duration = Duration::from_secs(5);

/// A running server and a valid session token for alice.
struct Server {
    addr: SocketAddr,
    token: String,
    _redis: authbench_services::RedisServer,
    _stop: oneshot::Sender<()>,
}

async fn start() -> Server {
    let redis = common::redis();
    let app = common::session_app(&redis, Arc::new(SystemClock)).await;
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = oneshot::channel::<()>();
    let limits = Limits {
        header_read_timeout: HEADER_TIMEOUT,
        body_read_timeout: BODY_TIMEOUT,
        ..Limits::default()
    };
    tokio::spawn(serve_with(listener, app, limits, async {
        let _ = stopped.await;
    }));
    let body = r#"{"username":"alice","password":"correct horse battery staple"}"#;
    let (status, answer) = exchange(addr, post_login(body.as_bytes())).await;
    assert_eq!(status, Outcome::Status(200), "login: {answer}");
    let json_start = answer.find('{').expect("login body");
    let json: serde_json::Value = serde_json::from_str(&answer[json_start..]).expect("json");
    let token = json["token"].as_str().expect("token").to_owned();
    Server {
        addr,
        token,
        _redis: redis,
        _stop: stop,
    }
}

/// What the server did with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// It answered with this status.
    Status(u16),
    /// It closed (or reset) the connection without an answer.
    Closed,
}

impl Outcome {
    fn is_client_error_or_closed(self) -> bool {
        match self {
            Outcome::Status(s) => (400..500).contains(&s),
            Outcome::Closed => true,
        }
    }
}

/// Reads one response head (and its `Content-Length` body) from `stream`.
async fn read_answer<R: AsyncRead + Unpin>(stream: &mut R) -> (Outcome, String) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let deadline = tokio::time::Instant::now() + ANSWER_WITHIN;
    loop {
        if let Some(end) = find(&buf, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            let status: u16 = head
                .split(' ')
                .nth(1)
                .and_then(|s| s.parse().ok())
                .unwrap_or_else(|| panic!("not an HTTP response: {head:?}"));
            let len = content_length(&head);
            while buf.len() < end + 4 + len {
                match tokio::time::timeout_at(deadline, stream.read(&mut chunk)).await {
                    Ok(Ok(n)) if n > 0 => buf.extend_from_slice(&chunk[..n]),
                    _ => break,
                }
            }
            return (
                Outcome::Status(status),
                String::from_utf8_lossy(&buf).into_owned(),
            );
        }
        match tokio::time::timeout_at(deadline, stream.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (Outcome::Closed, String::new()),
            Ok(Ok(n)) => buf.extend_from_slice(&chunk[..n]),
            Err(_) => panic!("no answer and no close within {ANSWER_WITHIN:?}"),
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Sends `request` on a fresh connection and reads the answer. A write that fails because the
/// server already answered and closed is not an error: the answer (or the close) is the result.
async fn exchange(addr: SocketAddr, request: Vec<u8>) -> (Outcome, String) {
    let stream = TcpStream::connect(addr).await.expect("connect");
    let (mut read, mut write) = stream.into_split();
    let writer = tokio::spawn(async move {
        let _ = write.write_all(&request).await;
        write // keep our half open until the answer is read
    });
    let answer = read_answer(&mut read).await;
    writer.abort();
    answer
}

fn content_length(head: &str) -> usize {
    head.lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0)
}

/// `GET /me` with these extra header lines (each ending in CRLF).
fn get_me(extra: &[u8]) -> Vec<u8> {
    let mut r = b"GET /me HTTP/1.1\r\nhost: t\r\n".to_vec();
    r.extend_from_slice(extra);
    r.extend_from_slice(b"\r\n");
    r
}

fn bearer_line(token: &str) -> Vec<u8> {
    format!("authorization: Bearer {token}\r\n").into_bytes()
}

fn post_login(body: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "POST /login HTTP/1.1\r\nhost: t\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}

impl Server {
    /// Asserts the server still serves a well-behaved client.
    async fn assert_still_serving(&self, after: &str) {
        let (outcome, answer) = exchange(self.addr, get_me(&bearer_line(&self.token))).await;
        assert_eq!(
            outcome,
            Outcome::Status(200),
            "GET /me after {after}: {answer}"
        );
        assert!(answer.contains("\"subject\":\"alice\""), "{answer}");
    }

    /// Sends a hostile request: a 4xx or a close, and the server keeps serving.
    async fn hostile(&self, what: &str, request: Vec<u8>) -> Outcome {
        let (outcome, answer) = exchange(self.addr, request).await;
        assert!(
            outcome.is_client_error_or_closed(),
            "{what}: expected a 4xx or a closed connection, got {outcome:?}: {answer:.300}"
        );
        self.assert_still_serving(what).await;
        outcome
    }

    /// Sends a request that must get exactly `expected`.
    async fn expect(&self, what: &str, request: Vec<u8>, expected: u16) {
        let (outcome, answer) = exchange(self.addr, request).await;
        assert_eq!(outcome, Outcome::Status(expected), "{what}: {answer:.300}");
        self.assert_still_serving(what).await;
    }
}

/// `GET /me` with the credential and padding so the whole head is exactly `total` bytes.
fn me_with_head_of(token: &str, total: usize) -> Vec<u8> {
    let fixed = get_me(&bearer_line(token)).len() + "x-pad: \r\n".len();
    let pad = "a".repeat(total - fixed);
    get_me(&[bearer_line(token), format!("x-pad: {pad}\r\n").into_bytes()].concat())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn header_bytes_limit_is_exact_and_huge_headers_are_refused() {
    let s = start().await;
    let at_limit = me_with_head_of(&s.token, MAX_HEADER_BYTES);
    assert_eq!(at_limit.len(), MAX_HEADER_BYTES);
    s.expect("a head of exactly MAX_HEADER_BYTES", at_limit, 200)
        .await;
    let over = me_with_head_of(&s.token, MAX_HEADER_BYTES + 1);
    s.expect("a head one byte over MAX_HEADER_BYTES", over, 431)
        .await;

    let big = "a".repeat(64 * 1024);
    for (what, line) in [
        (
            "a 64 KiB cookie",
            format!("cookie: __Host-authbench={big}\r\n"),
        ),
        (
            "a 64 KiB bearer token",
            format!("authorization: Bearer {big}\r\n"),
        ),
        ("a 64 KiB other header", format!("x-junk: {big}\r\n")),
    ] {
        s.hostile(what, get_me(line.as_bytes())).await;
    }
    // A megabyte of head, no end in sight: refused once it passes the limit.
    let endless = [
        b"GET /me HTTP/1.1\r\nx-junk: ".as_slice(),
        &vec![b'a'; 1 << 20],
    ]
    .concat();
    s.hostile("a 1 MiB unfinished header", endless).await;
    // An URI as large as the limit.
    let uri = format!("GET /{} HTTP/1.1\r\nhost: t\r\n\r\n", "a".repeat(64 * 1024));
    s.hostile("a 64 KiB URI", uri.into_bytes()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn header_count_limit_is_exact_and_thousands_of_cookies_are_handled() {
    let s = start().await;
    // `host` + authorization + padding lines = MAX_HEADERS lines in all.
    let lines = |n: usize| -> Vec<u8> {
        let mut extra = bearer_line(&s.token);
        for i in 0..n {
            extra.extend_from_slice(format!("x-h{i}: 1\r\n").as_bytes());
        }
        extra
    };
    s.expect(
        "exactly MAX_HEADERS header lines",
        get_me(&lines(MAX_HEADERS - 2)),
        200,
    )
    .await;
    s.expect(
        "MAX_HEADERS + 1 header lines",
        get_me(&lines(MAX_HEADERS - 1)),
        431,
    )
    .await;

    // Two thousand cookies in one header, ours last: found, within the size limit.
    let mut cookies: String = (0..2000).map(|i| format!("c{i}=v; ")).collect();
    cookies.push_str(&format!("__Host-authbench={}", s.token));
    assert!(cookies.len() < MAX_HEADER_BYTES);
    s.expect(
        "2000 cookies in one header",
        get_me(format!("cookie: {cookies}\r\n").as_bytes()),
        200,
    )
    .await;
    // Five thousand cookies in one header: over the size limit.
    let many: String = (0..5000).map(|i| format!("c{i}=v; ")).collect();
    s.hostile(
        "5000 cookies in one header",
        get_me(format!("cookie: {many}\r\n").as_bytes()),
    )
    .await;
    // Three thousand cookie headers: over the count limit.
    let lines: Vec<u8> = (0..3000)
        .flat_map(|i| format!("cookie: c{i}=v\r\n").into_bytes())
        .collect();
    s.expect("3000 cookie headers", get_me(&lines), 431).await;
    // Two of our cookies: ambiguous, refused.
    let two = format!(
        "cookie: __Host-authbench={t}\r\ncookie: __Host-authbench={t}\r\n",
        t = s.token
    );
    s.expect("our cookie twice", get_me(two.as_bytes()), 401)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn odd_authorization_headers_are_401_or_400() {
    let s = start().await;
    let t = &s.token;
    // Accepted spellings (RFC 9110: the scheme is case-insensitive; hyper trims OWS around a
    // value).
    for value in [
        format!("bearer {t}"),
        format!("BEARER {t}"),
        format!("bEaReR    {t}"),
        format!("Bearer {t}   "),
    ] {
        s.expect(
            &format!("Authorization: {value:.12}…"),
            get_me(format!("authorization: {value}\r\n").as_bytes()),
            200,
        )
        .await;
    }
    // Refused: another scheme, no token, a tab, two tokens, quotes, two headers (even two valid
    // ones), a valid one in the header and a bad one... all 401.
    let refused: Vec<Vec<u8>> = vec![
        format!("authorization: Bearer{t}\r\n").into_bytes(),
        b"authorization: Bearer\r\n".to_vec(),
        b"authorization: Basic YWxpY2U6cHc=\r\n".to_vec(),
        format!("authorization: Token {t}\r\n").into_bytes(),
        format!("authorization: Bearer\t{t}\r\n").into_bytes(),
        format!("authorization: Bearer {t} {t}\r\n").into_bytes(),
        format!("authorization: Bearer \"{t}\"\r\n").into_bytes(),
        format!("authorization: Bearer {t}\r\nauthorization: Bearer {t}\r\n").into_bytes(),
        format!("authorization: Bearer {t}, Bearer {t}\r\n").into_bytes(),
        format!("authorization: Bearer {t}\r\nAuthorization: Bearer x\r\n").into_bytes(),
        // Invalid UTF-8 (obs-text) in the value, in the token and in a cookie.
        b"authorization: Bearer \xff\xfe\xfd\r\n".to_vec(),
        [
            b"authorization: Bearer ".as_slice(),
            t.as_bytes(),
            b"\xe9\r\n",
        ]
        .concat(),
        b"cookie: __Host-authbench=\xc3\x28\r\n".to_vec(),
    ];
    for extra in refused {
        let what = format!("{:.60}", String::from_utf8_lossy(&extra));
        s.expect(&what, get_me(&extra), 401).await;
    }
    // Bytes no HTTP parser accepts in a header: 400.
    for extra in [
        b"authorization: Bearer a\0b\r\n".to_vec(),
        b"x-bad name: 1\r\n".to_vec(),
        b"x-\xffname: 1\r\n".to_vec(),
        b"authorization Bearer a\r\n".to_vec(),
    ] {
        let what = format!("{:.60}", String::from_utf8_lossy(&extra));
        s.expect(&what, get_me(&extra), 400).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_bodies_limit_is_exact_and_malformed_ones_are_4xx() {
    let s = start().await;
    // A wrong password padded with JSON whitespace to exactly the body limit: read, parsed,
    // refused as a wrong password. One byte more: 413.
    let padded = |total: usize| {
        let core = r#"{"username":"alice","password":"wrong"}"#;
        let mut body = core[..core.len() - 1].to_owned();
        body.push_str(&" ".repeat(total - core.len()));
        body.push('}');
        assert_eq!(body.len(), total);
        body.into_bytes()
    };
    s.expect(
        "a login body of exactly MAX_BODY_BYTES",
        post_login(&padded(MAX_BODY_BYTES)),
        401,
    )
    .await;
    s.expect(
        "a login body one byte over",
        post_login(&padded(MAX_BODY_BYTES + 1)),
        413,
    )
    .await;
    // Declared huge: refused from the Content-Length alone, before the body is read.
    s.expect(
        "content-length 1 GiB",
        b"POST /login HTTP/1.1\r\nhost: t\r\ncontent-type: application/json\r\ncontent-length: 1073741824\r\n\r\n{".to_vec(),
        413,
    )
    .await;
    // Chunked, over the limit.
    let mut chunked = b"POST /login HTTP/1.1\r\nhost: t\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n".to_vec();
    for _ in 0..40 {
        chunked.extend_from_slice(format!("400\r\n{}\r\n", " ".repeat(1024)).as_bytes());
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    s.expect("a chunked body over the limit", chunked, 413)
        .await;

    for body in [
        "".as_bytes(),
        b"{",
        b"[]",
        b"null",
        br#"{"username":"alice"}"#,
        br#"{"username":1,"password":2}"#,
        br#"{"username":"alice","password":"x","extra":1}"#,
        br#"{"username":"alice","username":"bob","password":"x"}"#,
        b"{\"username\":\"al\xffice\",\"password\":\"x\"}",
        br#"{"username":"\ud800","password":"x"}"#,
    ] {
        s.hostile(
            &format!("login body {:?}", String::from_utf8_lossy(body)),
            post_login(body),
        )
        .await;
    }
    // Deeply nested JSON (serde_json's recursion limit): 4xx, no stack overflow.
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    s.hostile("10000 nested arrays", post_login(deep.as_bytes()))
        .await;
    // A 4000-character username and password: refused before argon2.
    let long = format!(
        r#"{{"username":"{u}","password":"{u}"}}"#,
        u = "a".repeat(4000)
    );
    s.hostile("4000-character fields", post_login(long.as_bytes()))
        .await;
    // Wrong content type, lying lengths, both framings.
    let body = r#"{"username":"alice","password":"x"}"#;
    for (what, request) in [
        (
            "text/plain login",
            format!(
                "POST /login HTTP/1.1\r\nhost: t\r\ncontent-type: text/plain\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            ),
        ),
        (
            "non-numeric content-length",
            "POST /login HTTP/1.1\r\nhost: t\r\ncontent-length: abc\r\n\r\n".to_owned(),
        ),
        (
            "two different content-lengths",
            "POST /login HTTP/1.1\r\nhost: t\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\n{}".to_owned(),
        ),
        (
            "content-length and chunked",
            "POST /login HTTP/1.1\r\nhost: t\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n".to_owned(),
        ),
        (
            "bad chunk size",
            "POST /login HTTP/1.1\r\nhost: t\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n".to_owned(),
        ),
        ("garbage request line", "\x16\x03\x01\x02\x00\x01\r\n\r\n".to_owned()),
        ("HTTP/2 preface on HTTP/1", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_owned()),
    ] {
        s.hostile(what, request.into_bytes()).await;
    }
}

/// Opens a connection and sends `bytes` one at a time, `gap` apart, then reads the answer.
async fn dribble(addr: SocketAddr, bytes: Vec<u8>, gap: Duration) -> (Outcome, Duration) {
    let started = Instant::now();
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    for b in bytes {
        if stream.write_all(&[b]).await.is_err() {
            break;
        }
        tokio::time::sleep(gap).await;
    }
    let (outcome, _) = read_answer(&mut stream).await;
    (outcome, started.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_are_cut_off_and_do_not_block_others() {
    let s = start().await;
    // A client that connects and says nothing is closed after the header timeout.
    let started = Instant::now();
    let mut idle = TcpStream::connect(s.addr).await.expect("connect");
    let (outcome, _) = read_answer(&mut idle).await;
    assert_eq!(outcome, Outcome::Closed);
    let waited = started.elapsed();
    assert!(
        waited >= HEADER_TIMEOUT && waited < HEADER_TIMEOUT * 3,
        "idle connection closed after {waited:?}"
    );

    // Slowloris: a hundred connections dribbling a never-ending head. Meanwhile a normal client
    // is served, and every dribbler is cut off once the header timeout passes.
    let endless: Vec<u8> = [b"GET /me HTTP/1.1\r\nhost: t\r\n".as_slice(), &[b'x'; 200]].concat();
    let dribblers: Vec<_> = (0..100)
        .map(|_| {
            let endless = endless.clone();
            tokio::spawn(dribble(s.addr, endless, Duration::from_millis(20)))
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let before = Instant::now();
    s.assert_still_serving("100 slowloris connections").await;
    assert!(
        before.elapsed() < HEADER_TIMEOUT,
        "a normal request waited {:?} behind slow clients",
        before.elapsed()
    );
    for d in dribblers {
        let (outcome, took) = d.await.expect("dribbler");
        assert_eq!(outcome, Outcome::Closed, "slowloris");
        assert!(took < HEADER_TIMEOUT * 3, "slowloris lasted {took:?}");
    }

    // Boundary: a slow but honest client that finishes its head within the timeout is served.
    let request = get_me(&bearer_line(&s.token));
    let gap = HEADER_TIMEOUT / 2 / request.len() as u32;
    let (outcome, _) = dribble(s.addr, request, gap).await;
    assert_eq!(
        outcome,
        Outcome::Status(200),
        "a head sent in half the timeout"
    );

    // A body that never finishes: answered 4xx once the body timeout passes.
    let started = Instant::now();
    let (outcome, answer) = exchange(
        s.addr,
        b"POST /login HTTP/1.1\r\nhost: t\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"user".to_vec(),
    )
    .await;
    assert!(
        outcome.is_client_error_or_closed(),
        "stalled body: {outcome:?} {answer}"
    );
    let waited = started.elapsed();
    eprintln!("stalled body: {outcome:?} {answer}");
    assert!(
        waited >= BODY_TIMEOUT && waited < BODY_TIMEOUT * 3,
        "stalled body answered after {waited:?}"
    );
    s.assert_still_serving("slow clients").await;
}

#[test]
fn default_limits_are_the_documented_constants() {
    use authbench_server::limits::*;
    let d = Limits::default();
    assert_eq!(d.max_header_bytes, MAX_HEADER_BYTES);
    assert_eq!(d.max_headers, MAX_HEADERS);
    assert_eq!(d.header_read_timeout, HEADER_READ_TIMEOUT);
    assert_eq!(d.body_read_timeout, BODY_READ_TIMEOUT);
    // The header limit must leave room for the largest credential a backend accepts.
    const { assert!(MAX_HEADER_BYTES >= 2 * authbench_jwt::DEFAULT_MAX_TOKEN_BYTES) };
}
