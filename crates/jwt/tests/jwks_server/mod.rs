//! A tiny real HTTP server for the JWKS tests: it serves an issuer backend's JWKS (or a
//! failure we choose) on a loopback port and counts the requests it gets; and a "trap"
//! listener that only counts connections, to prove that nothing ever fetched from it.
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use authbench_core::{Authenticator, Identity, ManualClock, SharedClock};
use authbench_jwt::{Alg, JwksConfig, JwtBackend, JwtConfig, SigningKey, dangerous};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A fixed start time for the tests' manual clocks.
pub const T0: u64 = 1_800_000_000;

/// What the server answers.
#[derive(Clone)]
pub enum Mode {
    /// The issuer's JWKS, with this `Cache-Control` header if any.
    Issuer(Option<&'static str>),
    /// This status and body.
    Fixed(u16, String),
    /// Read the request, then say nothing until the client gives up.
    Hang,
}

pub struct JwksServer {
    pub url: String,
    hits: Arc<AtomicUsize>,
    mode: Arc<Mutex<Mode>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for JwksServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl JwksServer {
    /// Serves `issuer`'s JWKS at `http://127.0.0.1:PORT/.well-known/jwks.json`.
    pub async fn start(issuer: Arc<JwtBackend>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let hits = Arc::new(AtomicUsize::new(0));
        let mode = Arc::new(Mutex::new(Mode::Issuer(None)));
        let (h, m) = (Arc::clone(&hits), Arc::clone(&mode));
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut socket, _)) = listener.accept().await else {
                    return;
                };
                let (h, m, issuer) = (Arc::clone(&h), Arc::clone(&m), Arc::clone(&issuer));
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 1024];
                    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 8192 {
                        match socket.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    h.fetch_add(1, Ordering::SeqCst);
                    let mode = m.lock().expect("mode").clone();
                    let (status, body, cache) = match mode {
                        Mode::Issuer(cache) => (
                            200,
                            issuer
                                .published_keys()
                                .map_or_else(|| "{}".to_owned(), |k| k.to_string()),
                            cache,
                        ),
                        Mode::Fixed(status, body) => (status, body, None),
                        Mode::Hang => {
                            tokio::time::sleep(Duration::from_secs(30)).await;
                            return;
                        }
                    };
                    let mut response = format!(
                        "HTTP/1.1 {status} X\r\ncontent-type: application/jwk-set+json\r\n\
                         content-length: {}\r\nconnection: close\r\n",
                        body.len()
                    );
                    if let Some(cache) = cache {
                        response.push_str(&format!("cache-control: {cache}\r\n"));
                    }
                    response.push_str("\r\n");
                    response.push_str(&body);
                    let _ = socket.write_all(response.as_bytes()).await;
                    let _ = socket.shutdown().await;
                });
            }
        });
        Self {
            url: format!("http://{addr}/.well-known/jwks.json"),
            hits,
            mode,
            task,
        }
    }

    /// Requests answered so far.
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    pub fn set_mode(&self, mode: Mode) {
        *self.mode.lock().expect("mode") = mode;
    }
}

/// A listener that accepts and counts connections and never answers.
pub struct Trap {
    pub addr: std::net::SocketAddr,
    connections: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Trap {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Trap {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let connections = Arc::new(AtomicUsize::new(0));
        let c = Arc::clone(&connections);
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                c.fetch_add(1, Ordering::SeqCst);
                drop(socket);
            }
        });
        Self {
            addr,
            connections,
            task,
        }
    }

    /// Connections seen, after giving any in-flight one a moment to arrive.
    pub async fn connections(&self) -> usize {
        tokio::time::sleep(Duration::from_millis(100)).await;
        self.connections.load(Ordering::SeqCst)
    }
}

pub fn manual_clock() -> (ManualClock, SharedClock) {
    let clock = ManualClock::new(T0);
    let shared: SharedClock = Arc::new(clock.clone());
    (clock, shared)
}

pub fn alice() -> Identity {
    Identity {
        subject: "alice".into(),
        tenant: "acme".into(),
        roles: vec!["user".into()],
    }
}

/// An issuer backend (revocation `none`).
pub fn issuer(alg: Alg, clock: &SharedClock) -> Arc<JwtBackend> {
    Arc::new(JwtBackend::new(JwtConfig::new(alg), clock.clone()).expect("issuer"))
}

/// A verifier-only backend (revocation `none`) fetching from `url`, refresh interval `secs`.
pub async fn verifier(alg: Alg, clock: &SharedClock, url: &str, secs: u64) -> JwtBackend {
    let mut jwks = JwksConfig::new(url);
    jwks.refresh_interval_secs = secs;
    JwtBackend::verifier_only(JwtConfig::new(alg), clock.clone(), jwks, None)
        .await
        .expect("verifier-only backend")
}

/// The `kid` in a token's header.
pub fn kid_of(token: &str) -> String {
    let header = token.split('.').next().expect("header");
    let json: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).expect("b64")).expect("json");
    json["kid"].as_str().expect("kid").to_owned()
}

/// A token shaped exactly like the issuer's (claims valid at `now`), but signed by `key` with
/// the given header.
pub fn forged(key: &SigningKey, header: &serde_json::Value, now: u64) -> String {
    let claims = json!({
        "iss": "authbench", "sub": "mallory", "aud": "authbench-api",
        "exp": now + 600, "nbf": now, "iat": now, "jti": "forged-jti-0000000000",
        "tenant": "acme", "roles": ["admin"],
    });
    dangerous::sign_raw(
        header.to_string().as_bytes(),
        claims.to_string().as_bytes(),
        key,
    )
    .expect("sign")
}

/// A forged token with a random-looking `kid` that nobody holds.
pub fn unknown_kid_token(alg: Alg, n: usize, now: u64) -> String {
    let key = SigningKey::generate(alg).expect("key");
    forged(
        &key,
        &json!({"alg": alg.as_str(), "typ": "at+jwt", "kid": format!("random-kid-{n}")}),
        now,
    )
}

/// Polls `cond` every 10 ms for up to 5 s.
pub async fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
