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
    /// Send the body in several frames without a length, so hyper encodes it chunked (as axum
    /// does for streamed bodies).
    pub chunked: bool,
}

impl Default for Behaviour {
    fn default() -> Self {
        Self {
            status: StatusCode::OK,
            stall: None,
            keep_alive: true,
            black_hole: false,
            chunked: false,
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
) -> Result<Response<TestBody>, Infallible> {
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
    let body = if behaviour.chunked {
        TestBody::Frames(vec![
            Bytes::from_static(b"first frame, "),
            Bytes::from(vec![b'x'; 20_000]),
            Bytes::from_static(b"last"),
        ])
    } else {
        TestBody::Full(Full::new(Bytes::from_static(b"ok")))
    };
    let mut resp = Response::new(body);
    *resp.status_mut() = behaviour.status;
    Ok(resp)
}

/// A fixed body, or frames without a known length (which hyper's server sends chunked).
pub enum TestBody {
    Full(Full<Bytes>),
    /// Sent in order, front first.
    Frames(Vec<Bytes>),
}

impl hyper::body::Body for TestBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, Infallible>>> {
        match self.get_mut() {
            Self::Full(full) => std::pin::Pin::new(full).poll_frame(cx),
            Self::Frames(frames) => std::task::Poll::Ready(
                (!frames.is_empty()).then(|| Ok(hyper::body::Frame::data(frames.remove(0)))),
            ),
        }
    }

    // Delegated, so the fixed body keeps its `content-length`.
    fn is_end_stream(&self) -> bool {
        match self {
            Self::Full(full) => full.is_end_stream(),
            Self::Frames(frames) => frames.is_empty(),
        }
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        match self {
            Self::Full(full) => full.size_hint(),
            Self::Frames(_) => hyper::body::SizeHint::default(),
        }
    }
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

/// How [`scripted`] answers.
#[derive(Debug, Clone, Default)]
pub struct Script {
    /// The bytes sent back for every request (possibly several responses, or garbage).
    pub response: Vec<u8>,
    /// `n > 0`: write the response in pieces of `n` bytes with a short pause between them, so
    /// the client receives it over many reads. 0: one write.
    pub piece: usize,
    /// Close the connection after each response (whatever the response says).
    pub close: bool,
}

/// A server on plain threads that answers every request with a fixed byte string: for the
/// response shapes hyper's server would never produce (chunk extensions, trailers, interim
/// responses, bodies delimited by close, garbage). Returns the address and the number of
/// requests it read.
pub fn scripted(script: Script) -> (SocketAddr, Arc<AtomicU64>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let served = Arc::new(AtomicU64::new(0));
    let count = Arc::clone(&served);
    let script = Arc::new(script);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let (script, count) = (Arc::clone(&script), Arc::clone(&count));
            std::thread::spawn(move || {
                use std::io::{Read, Write};
                stream.set_nodelay(true).unwrap();
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    let len = loop {
                        if let Some(len) = request_len(&buf) {
                            break len;
                        }
                        match stream.read(&mut chunk) {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    };
                    buf.drain(..len);
                    count.fetch_add(1, Ordering::Relaxed);
                    let pieces: Vec<&[u8]> = if script.piece == 0 {
                        vec![&script.response[..]]
                    } else {
                        script.response.chunks(script.piece).collect()
                    };
                    for (i, piece) in pieces.iter().enumerate() {
                        if i > 0 {
                            std::thread::sleep(Duration::from_micros(200));
                        }
                        if stream.write_all(piece).is_err() {
                            return;
                        }
                    }
                    if script.close {
                        return;
                    }
                }
            });
        }
    });
    (addr, served)
}

/// `HTTP/1.1 200 OK` with a chunked body: `parts` as chunks (with an extension on the first),
/// then a trailer.
pub fn chunked_response(parts: &[&[u8]]) -> Vec<u8> {
    let mut r = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for (i, part) in parts.iter().enumerate() {
        let ext = if i == 0 { ";name=value" } else { "" };
        r.extend_from_slice(format!("{:x}{ext}\r\n", part.len()).as_bytes());
        r.extend_from_slice(part);
        r.extend_from_slice(b"\r\n");
    }
    r.extend_from_slice(b"0\r\nx-trailer: done\r\n\r\n");
    r
}
