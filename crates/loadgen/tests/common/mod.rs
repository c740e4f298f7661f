//! Tiny HTTP/1.1 servers for the load generator's tests: a hyper server with configurable
//! misbehaviour, and a raw TCP responder that captures the exact request bytes.

#![allow(dead_code)] // Each test file uses a different part.

use std::{
    collections::HashSet,
    convert::Infallible,
    net::SocketAddr,
    sync::{
        Arc, Mutex, OnceLock,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use http_body_util::Full;
use hyper::{
    Request, Response, StatusCode, body::Bytes, body::Incoming, server::conn::http1,
    service::service_fn,
};
use hyper_util::rt::TokioIo;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpListener,
};

/// How the test server behaves.
#[derive(Debug, Clone)]
pub struct Behaviour {
    /// Status of every response.
    pub status: StatusCode,
    /// `Some((after, length))`: one global stall (every request in flight waits) starting
    /// `after` the first request, lasting `length`. A GC pause, a Redis failover.
    pub stall: Option<(Duration, Duration)>,
    /// `false`: close the connection after every response.
    pub keep_alive: bool,
    /// Never answer (to test timeouts).
    pub black_hole: bool,
}

impl Default for Behaviour {
    fn default() -> Self {
        Self {
            status: StatusCode::OK,
            stall: None,
            keep_alive: true,
            black_hole: false,
        }
    }
}

/// What the server saw.
#[derive(Debug, Default)]
pub struct Seen {
    pub requests: AtomicU64,
    pub authorization: Mutex<HashSet<String>>,
    pub cookie: Mutex<HashSet<String>>,
    first: OnceLock<Instant>,
}

pub struct TestServer {
    pub addr: SocketAddr,
    pub seen: Arc<Seen>,
}

impl TestServer {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

pub async fn serve(behaviour: Behaviour) -> TestServer {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Seen::default());
    let behaviour = Arc::new(behaviour);
    let state = Arc::clone(&seen);
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            stream.set_nodelay(true).unwrap();
            let (seen, behaviour) = (Arc::clone(&state), Arc::clone(&behaviour));
            tokio::spawn(async move {
                let ka = behaviour.keep_alive;
                let service =
                    service_fn(move |req| handle(req, Arc::clone(&seen), Arc::clone(&behaviour)));
                let _ = http1::Builder::new()
                    .keep_alive(ka)
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    TestServer { addr, seen }
}

async fn handle(
    req: Request<Incoming>,
    seen: Arc<Seen>,
    behaviour: Arc<Behaviour>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let now = Instant::now();
    seen.requests.fetch_add(1, Ordering::Relaxed);
    let first = *seen.first.get_or_init(|| now);
    for (name, set) in [
        ("authorization", &seen.authorization),
        ("cookie", &seen.cookie),
    ] {
        if let Some(v) = req.headers().get(name) {
            set.lock().unwrap().insert(v.to_str().unwrap().to_owned());
        }
    }
    if behaviour.black_hole {
        std::future::pending::<()>().await;
    }
    if let Some((after, length)) = behaviour.stall {
        let (from, to) = (first + after, first + after + length);
        if now >= from && now < to {
            tokio::time::sleep_until(to.into()).await;
        }
    }
    let mut resp = Response::new(Full::new(Bytes::from_static(b"ok")));
    *resp.status_mut() = behaviour.status;
    Ok(resp)
}

/// A raw responder: answers every request with a fixed 200 and keeps the bytes of the first
/// request it read (head and body), exactly as they arrived.
pub async fn capture() -> (SocketAddr, Arc<Mutex<Option<Vec<u8>>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let first: Arc<Mutex<Option<Vec<u8>>>> = Arc::default();
    let slot = Arc::clone(&first);
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                continue;
            };
            let slot = Arc::clone(&slot);
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    // Read one full request: head, then Content-Length bytes of body.
                    let len = loop {
                        if let Some(len) = request_len(&buf) {
                            break len;
                        }
                        match stream.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    };
                    let request: Vec<u8> = buf.drain(..len).collect();
                    slot.lock().unwrap().get_or_insert(request);
                    let reply = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
                    if stream.write_all(reply).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (addr, first)
}

/// Length of the first complete request in `buf`, if it is all there.
fn request_len(buf: &[u8]) -> Option<usize> {
    let head_end = buf.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = std::str::from_utf8(&buf[..head_end]).ok()?;
    let body = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .map_or(0, |(_, v)| v.trim().parse().unwrap());
    (buf.len() >= head_end + body).then_some(head_end + body)
}

/// A port on which nothing listens (bound, then released).
pub async fn dead_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap()
}
