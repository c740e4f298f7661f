//! The set-up HTTP/1.1 client of `compare` and `authbench soak`: logins, probes, revocations,
//! the soak's virtual users. Not for measuring: that is `authbench-loadgen`, whose parser skips
//! bodies and keeps no header values (it is the hot path); this one returns both.
//!
//! One codec without I/O: [`encode_request`] writes a request, [`decode`] frames a response in
//! the bytes received so far (the head by `httparse`; `Content-Length`, chunked or until-close
//! bodies; interim 1xx answers skipped; [`MAX_HEAD`] and [`MAX_BODY`] as limits). Two faces drive
//! it: [`HttpClient`], blocking, for the sections' threads, and [`AsyncClient`], on tokio, for
//! the soak's thousands of virtual users.

use anyhow::Context as _;
use std::fmt;
use std::io::{self, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// Largest response head (and chunk-size line, and trailer section) accepted.
pub const MAX_HEAD: usize = 64 * 1024;
/// Largest response body accepted.
pub const MAX_BODY: usize = 16 * 1024 * 1024;
/// Most response header fields accepted.
const MAX_HEADERS: usize = 64;
/// Bytes asked for per read.
const READ_SIZE: usize = 8 * 1024;

/// The bytes of a request: request line, `host`, `headers` in order, `content-length`, `body`.
/// A CR or LF in the method, path or a header is refused (it would split the request).
pub fn encode_request(
    method: &str,
    path: &str,
    host: SocketAddr,
    headers: &[(&str, &str)],
    body: &str,
) -> io::Result<Vec<u8>> {
    let mut fields = [method, path]
        .into_iter()
        .chain(headers.iter().flat_map(|(k, v)| [*k, *v]));
    if fields.any(|f| f.contains(['\r', '\n'])) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "CR or LF in the request line or a header",
        ));
    }
    let mut out = Vec::with_capacity(128 + body.len());
    write!(out, "{method} {path} HTTP/1.1\r\nhost: {host}\r\n")?;
    for (name, value) in headers {
        write!(out, "{name}: {value}\r\n")?;
    }
    write!(out, "content-length: {}\r\n\r\n", body.len())?;
    out.extend_from_slice(body.as_bytes());
    Ok(out)
}

/// A complete response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Headers in order, names in lower case, values trimmed.
    pub headers: Vec<(String, String)>,
    /// Body bytes (de-chunked).
    pub body: Vec<u8>,
    /// The connection may carry the next request (HTTP/1.1 without `connection: close`, or
    /// HTTP/1.0 with `connection: keep-alive`; never after a body read until close).
    pub keep_alive: bool,
}

impl Response {
    /// The first value of header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Why the bytes received are not a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The connection ended before the response was complete.
    Closed,
    /// Not a valid HTTP/1.1 response, or one beyond the limits.
    Invalid(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Closed => f.write_str("connection closed before the response was complete"),
            Self::Invalid(why) => write!(f, "malformed response: {why}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<Error> for io::Error {
    /// `Closed` is `UnexpectedEof` (what a reader of a cut stream sees), the rest `InvalidData`.
    fn from(e: Error) -> Self {
        match e {
            Error::Closed => io::ErrorKind::UnexpectedEof.into(),
            Error::Invalid(_) => io::Error::new(io::ErrorKind::InvalidData, e),
        }
    }
}

fn invalid(why: impl Into<String>) -> Error {
    Error::Invalid(why.into())
}

/// How the end of the body is found.
enum Framing {
    Length(usize),
    Chunked,
    UntilClose,
}

/// Frames the response at the start of `buf`, the bytes received since the request was sent.
/// `Ok(None)`: incomplete, read more. `closed`: the peer has closed, no more bytes will come
/// (ends a body read until close; anything else incomplete is [`Error::Closed`]).
/// `head_request`: the request was a `HEAD` (no body follows).
pub fn decode(buf: &[u8], closed: bool, head_request: bool) -> Result<Option<Response>, Error> {
    let incomplete = || if closed { Err(Error::Closed) } else { Ok(None) };
    let mut start = 0;
    loop {
        let rest = &buf[start..];
        let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut head = httparse::Response::new(&mut slots);
        let head_len = match head.parse(rest) {
            Ok(httparse::Status::Complete(n)) if n <= MAX_HEAD => n,
            Ok(httparse::Status::Partial) if rest.len() <= MAX_HEAD => return incomplete(),
            Ok(_) => return Err(invalid("response head larger than 64 KiB")),
            Err(httparse::Error::TooManyHeaders) => {
                return Err(invalid(format!("more than {MAX_HEADERS} header fields")));
            }
            Err(e) => return Err(invalid(e.to_string())),
        };
        let status = head.code.ok_or_else(|| invalid("no status code"))?;
        let minor = head.version.unwrap_or(1);
        start += head_len;
        if (100..200).contains(&status) && status != 101 {
            // Interim (100 Continue, 103 Early Hints): the final response follows.
            continue;
        }
        let headers: Vec<(String, String)> = head
            .headers
            .iter()
            .map(|h| {
                let value = String::from_utf8_lossy(h.value).trim().to_owned();
                (h.name.to_ascii_lowercase(), value)
            })
            .collect();
        let values = |name: &'static str| {
            headers
                .iter()
                .filter(move |(k, _)| k == name)
                .flat_map(|(_, v)| v.split(','))
                .map(str::trim)
                .filter(|e| !e.is_empty())
        };
        let framing = if head_request || matches!(status, 101 | 204 | 304) {
            Framing::Length(0)
        } else if let Some(last) = values("transfer-encoding").next_back() {
            if last.eq_ignore_ascii_case("chunked") {
                Framing::Chunked
            } else {
                Framing::UntilClose
            }
        } else if headers.iter().any(|(k, _)| k == "content-length") {
            Framing::Length(content_length(values("content-length"))?)
        } else {
            Framing::UntilClose
        };
        let rest = &buf[start..];
        let body = match framing {
            Framing::Length(n) if rest.len() >= n => rest[..n].to_vec(),
            Framing::Chunked => match dechunk(rest)? {
                Some(body) => body,
                None => return incomplete(),
            },
            Framing::UntilClose if rest.len() > MAX_BODY => {
                return Err(invalid("response body larger than 16 MiB"));
            }
            Framing::UntilClose if closed => rest.to_vec(),
            Framing::Length(_) | Framing::UntilClose => return incomplete(),
        };
        let option = |o: &str| values("connection").any(|v| v.eq_ignore_ascii_case(o));
        let persistent = if minor >= 1 {
            !option("close")
        } else {
            option("keep-alive") && !option("close")
        };
        return Ok(Some(Response {
            status,
            keep_alive: persistent && status != 101 && !matches!(framing, Framing::UntilClose),
            headers,
            body,
        }));
    }
}

/// The `Content-Length` value: equal duplicates tolerated (RFC 9110 §8.6), at most
/// [`MAX_BODY`].
fn content_length<'a>(mut values: impl Iterator<Item = &'a str>) -> Result<usize, Error> {
    let bad = || invalid("invalid content-length");
    let first = values.next().ok_or_else(bad)?;
    if values.any(|v| v != first) {
        return Err(invalid("conflicting content-length values"));
    }
    if first.is_empty() || !first.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    match first.parse::<usize>() {
        Ok(n) if n <= MAX_BODY => Ok(n),
        _ => Err(invalid("response body larger than 16 MiB")),
    }
}

/// A chunked body at the start of `buf`, de-chunked; `Ok(None)` if it is not all there yet.
fn dechunk(mut buf: &[u8]) -> Result<Option<Vec<u8>>, Error> {
    let mut body = Vec::new();
    loop {
        let (line, size) = match httparse::parse_chunk_size(buf) {
            Ok(httparse::Status::Complete(found)) => found,
            Ok(httparse::Status::Partial) if buf.len() <= MAX_HEAD => return Ok(None),
            Ok(httparse::Status::Partial) => return Err(invalid("chunk-size line too long")),
            Err(_) => return Err(invalid("invalid chunk size")),
        };
        buf = &buf[line..];
        if size == 0 {
            break;
        }
        let size = usize::try_from(size)
            .ok()
            .filter(|&n| n <= MAX_BODY - body.len())
            .ok_or_else(|| invalid("response body larger than 16 MiB"))?;
        let Some(end) = buf.get(size..size + 2) else {
            return Ok(None);
        };
        if end != b"\r\n" {
            return Err(invalid("chunk data longer than its size"));
        }
        body.extend_from_slice(&buf[..size]);
        buf = &buf[size + 2..];
    }
    // Trailer fields, ignored, up to the empty line.
    let mut trailers = 0;
    loop {
        let Some(lf) = buf.iter().position(|&b| b == b'\n') else {
            return if trailers + buf.len() <= MAX_HEAD {
                Ok(None)
            } else {
                Err(invalid("trailer section larger than 64 KiB"))
            };
        };
        if matches!(&buf[..lf], b"" | b"\r") {
            return Ok(Some(body));
        }
        trailers += lf + 1;
        buf = &buf[lf + 1..];
    }
}

/// The bytes received for the current response, in a buffer kept across requests.
#[derive(Debug, Default)]
struct Received {
    buf: Vec<u8>,
    len: usize,
}

impl Received {
    /// Room for the next read (starting a response: after [`clear`](Self::clear)).
    fn spare(&mut self) -> &mut [u8] {
        if self.buf.len() < self.len + READ_SIZE {
            self.buf.resize(self.len + READ_SIZE, 0);
        }
        &mut self.buf[self.len..]
    }

    /// `n` more bytes were read into [`spare`](Self::spare) (0: end of stream): the response,
    /// if it is complete.
    fn advance(&mut self, n: usize, head_request: bool) -> Result<Option<Response>, Error> {
        self.len += n;
        decode(&self.buf[..self.len], n == 0, head_request)
    }

    fn clear(&mut self) {
        self.len = 0;
    }
}

/// A blocking keep-alive client for the set-up phase (logins, probes), not for measuring:
/// connects lazily (5 s timeout), reads with a 30 s timeout, and sends a failed request once
/// more on a fresh connection.
pub struct HttpClient {
    addr: SocketAddr,
    stream: Option<TcpStream>,
    received: Received,
}

impl HttpClient {
    /// A client for `addr`; connects lazily.
    pub fn new(addr: SocketAddr) -> Self {
        Self {
            addr,
            stream: None,
            received: Received::default(),
        }
    }

    /// `GET /me` with `token` as the bearer credential: its status, or 0 when no answer came
    /// (the probes of the revocation and rotation experiments).
    pub fn me_status(&mut self, token: &str) -> u16 {
        let auth = format!("Bearer {token}");
        self.request("GET", "/me", &[("authorization", &auth)], "")
            .map_or(0, |r| r.status)
    }

    /// Sends one request (see [`encode_request`]), reconnecting once if it failed (a kept-alive
    /// connection the server closed).
    pub fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> anyhow::Result<Response> {
        self.try_request(method, path, headers, body)
            .or_else(|_| self.try_request(method, path, headers, body))
            .with_context(|| format!("{method} {path} on {}", self.addr))
    }

    fn try_request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> io::Result<Response> {
        let request = encode_request(method, path, self.addr, headers, body)?;
        let result = self.exchange(&request, method == "HEAD");
        if !matches!(&result, Ok(r) if r.keep_alive) {
            self.stream = None;
        }
        result
    }

    fn exchange(&mut self, request: &[u8], head_request: bool) -> io::Result<Response> {
        let stream = match &mut self.stream {
            Some(stream) => stream,
            None => {
                let s = TcpStream::connect_timeout(&self.addr, Duration::from_secs(5))?;
                s.set_nodelay(true)?;
                s.set_read_timeout(Some(Duration::from_secs(30)))?;
                self.stream.insert(s)
            }
        };
        stream.write_all(request)?;
        self.received.clear();
        loop {
            let n = stream.read(self.received.spare())?;
            if let Some(response) = self.received.advance(n, head_request)? {
                return Ok(response);
            }
        }
    }
}

/// An async keep-alive client on tokio (the soak's virtual users: many kinds of request with
/// changing credentials). Each request, connecting included, has `timeout`; a failure is not
/// retried (the caller counts it), and drops the connection, as does an answer that ends it.
pub struct AsyncClient {
    addr: SocketAddr,
    timeout: Duration,
    stream: Option<tokio::net::TcpStream>,
    received: Received,
}

impl AsyncClient {
    /// A client for `addr` whose requests time out after `timeout`; connects lazily.
    pub fn new(addr: SocketAddr, timeout: Duration) -> Self {
        Self {
            addr,
            timeout,
            stream: None,
            received: Received::default(),
        }
    }

    /// Sends one request (see [`encode_request`]). Errors: the connection's, `TimedOut`,
    /// `UnexpectedEof` (closed mid-response), `InvalidData` (not a response).
    pub async fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> io::Result<Response> {
        let request = encode_request(method, path, self.addr, headers, body)?;
        let result = tokio::time::timeout(self.timeout, self.exchange(&request, method == "HEAD"))
            .await
            .unwrap_or_else(|_| Err(io::ErrorKind::TimedOut.into()));
        if !matches!(&result, Ok(r) if r.keep_alive) {
            self.stream = None;
        }
        result
    }

    async fn exchange(&mut self, request: &[u8], head_request: bool) -> io::Result<Response> {
        let stream = match &mut self.stream {
            Some(stream) => stream,
            None => {
                let s = tokio::net::TcpStream::connect(self.addr).await?;
                s.set_nodelay(true)?;
                self.stream.insert(s)
            }
        };
        stream.write_all(request).await?;
        self.received.clear();
        loop {
            let n = stream.read(self.received.spare()).await?;
            if let Some(response) = self.received.advance(n, head_request)? {
                return Ok(response);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn complete(text: &str) -> Response {
        decode(text.as_bytes(), false, false)
            .expect("valid")
            .expect("complete")
    }

    /// Each of `texts` is refused as malformed (`InvalidData` to a reader), not read further.
    fn invalid_all(texts: &[&str]) {
        for bad in texts {
            let got = decode(bad.as_bytes(), false, false);
            assert!(matches!(got, Err(Error::Invalid(_))), "{bad:?}: {got:?}");
            let e: io::Error = got.unwrap_err().into();
            assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        }
    }

    #[test]
    fn requests_carry_host_headers_and_length() {
        let addr: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let r = encode_request(
            "POST",
            "/login",
            addr,
            &[("content-type", "application/json")],
            "{}",
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(r).unwrap(),
            "POST /login HTTP/1.1\r\nhost: 127.0.0.1:8080\r\ncontent-type: application/json\r\n\
             content-length: 2\r\n\r\n{}"
        );
        let split = encode_request("GET", "/me", addr, &[("authorization", "x\r\nevil: 1")], "");
        assert_eq!(split.unwrap_err().kind(), io::ErrorKind::InvalidInput);
    }

    #[test]
    fn content_length_body() {
        let r = complete(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nAuthbench-Revoked:  yes \r\n\
             content-length: 11\r\n\r\n{\"token\":1}",
        );
        assert_eq!((r.status, r.body.as_slice()), (200, &b"{\"token\":1}"[..]));
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert_eq!(r.header("authbench-revoked"), Some("yes"));
        assert!(r.keep_alive);
        // Only the announced bytes belong to the body.
        assert_eq!(
            complete("HTTP/1.1 401 Unauthorized\r\ncontent-length: 2\r\n\r\nnoEXTRA").body,
            b"no"
        );
        // Equal duplicates are one length; others are ambiguous framing.
        assert_eq!(
            complete("HTTP/1.1 200 OK\r\ncontent-length: 2, 2\r\n\r\nok").body,
            b"ok"
        );
        invalid_all(&[
            "HTTP/1.1 200 OK\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\nok",
            "HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n",
            "HTTP/1.1 200 OK\r\ncontent-length: 99999999999999999999999\r\n\r\n",
        ]);
    }

    #[test]
    fn chunked_body() {
        let text = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n\
                    5\r\nhello\r\n1;ext=1\r\n,\r\n6\r\n world\r\n0\r\ntrailer: x\r\n\r\n";
        let r = complete(text);
        assert_eq!(r.body, b"hello, world");
        assert!(r.keep_alive);
        // Data longer than its chunk size, or a size that is not hexadecimal.
        invalid_all(&[
            "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n",
            "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n",
        ]);
    }

    #[test]
    fn a_response_split_across_reads_is_complete_only_at_its_last_byte() {
        for text in [
            "HTTP/1.1 200 OK\r\ncontent-length: 5\r\nx: y\r\n\r\nhello",
            "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
        ] {
            let bytes = text.as_bytes();
            for cut in 0..bytes.len() {
                assert_eq!(
                    decode(&bytes[..cut], false, false),
                    Ok(None),
                    "{text:?} cut at {cut}"
                );
            }
            let whole = decode(bytes, false, false).unwrap().unwrap();
            // Fed through the read buffer a few bytes at a time, as a socket may deliver it.
            let mut received = Received::default();
            let mut pieces = bytes.chunks(3);
            let response = loop {
                let piece = pieces.next().expect("complete before the last piece");
                received.spare()[..piece.len()].copy_from_slice(piece);
                if let Some(r) = received.advance(piece.len(), false).unwrap() {
                    break r;
                }
            };
            assert_eq!(response, whole);
            assert!(pieces.next().is_none());
        }
        // A 1xx is skipped: the final response is the one returned.
        assert_eq!(
            complete("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n").status,
            204
        );
    }

    #[test]
    fn a_closed_connection_mid_response_is_an_error() {
        for cut in [
            "",
            "HTTP/1.1 200",
            "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n",
            "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhel",
            "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhel",
            "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n0\r\n",
        ] {
            assert_eq!(
                decode(cut.as_bytes(), true, false),
                Err(Error::Closed),
                "{cut:?}"
            );
        }
        let e: io::Error = Error::Closed.into();
        assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof);
        // Without a length, the close ends the body, and the connection.
        let r = decode(b"HTTP/1.1 200 OK\r\n\r\nuntil close", true, false)
            .unwrap()
            .unwrap();
        assert_eq!(
            (r.body.as_slice(), r.keep_alive),
            (&b"until close"[..], false)
        );
        assert_eq!(
            decode(b"HTTP/1.1 200 OK\r\n\r\nmore", false, false),
            Ok(None)
        );
    }

    #[test]
    fn oversized_or_malformed_heads_are_errors_not_panics() {
        let huge = format!("HTTP/1.1 200 OK\r\nx: {}\r\n\r\n", "a".repeat(MAX_HEAD));
        for cut in [MAX_HEAD + 1, huge.len()] {
            let got = decode(&huge.as_bytes()[..cut], false, false);
            assert!(
                matches!(got, Err(Error::Invalid(_))),
                "cut at {cut}: {got:?}"
            );
        }
        let many: String = (0..=MAX_HEADERS).map(|i| format!("h{i}: v\r\n")).collect();
        let many = format!("HTTP/1.1 200 OK\r\n{many}\r\n");
        assert!(matches!(
            decode(many.as_bytes(), false, false),
            Err(Error::Invalid(_))
        ));
        let big_body = format!(
            "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n",
            MAX_BODY + 1
        );
        assert!(matches!(
            decode(big_body.as_bytes(), false, false),
            Err(Error::Invalid(_))
        ));
        invalid_all(&[
            "garbage\r\n\r\n",
            "HTTP/1.1 20 OK\r\n\r\n",
            "HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
            "HTTP/1.1 200 OK\r\nbad name: x\r\n\r\n",
        ]);
    }

    #[test]
    fn framing_and_persistence() {
        // `connection: close` ends it; HTTP/1.0 keeps it only when asked.
        assert!(
            !complete("HTTP/1.1 200 OK\r\nConnection: Close\r\ncontent-length: 0\r\n\r\n")
                .keep_alive
        );
        assert!(!complete("HTTP/1.0 200 OK\r\ncontent-length: 0\r\n\r\n").keep_alive);
        assert!(
            complete("HTTP/1.0 200 OK\r\nconnection: keep-alive\r\ncontent-length: 0\r\n\r\n")
                .keep_alive
        );
        // 204, 304 and answers to HEAD have no body, whatever their length says.
        assert!(complete("HTTP/1.1 204 No Content\r\n\r\n").body.is_empty());
        let head = decode(b"HTTP/1.1 200 OK\r\ncontent-length: 9\r\n\r\n", false, true);
        assert!(head.unwrap().unwrap().body.is_empty());
    }

    /// One server connection: answers each request with the next canned response, and
    /// closes after the last.
    fn serve(answers: Vec<&'static str>) -> SocketAddr {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut buf = [0u8; 4096];
            for answer in answers {
                let mut got = Vec::new();
                while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                    let n = s.read(&mut buf).unwrap();
                    if n == 0 {
                        return;
                    }
                    got.extend_from_slice(&buf[..n]);
                }
                // In two writes, so the client reads a split response.
                let (a, b) = answer.as_bytes().split_at(answer.len() / 2);
                s.write_all(a).unwrap();
                std::thread::sleep(Duration::from_millis(5));
                s.write_all(b).unwrap();
            }
        });
        addr
    }

    #[test]
    fn both_faces_keep_the_connection_alive_and_report_a_cut_answer() {
        let ok = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
        let cut = "HTTP/1.1 200 OK\r\ncontent-length: 9\r\n\r\ncut";
        // Blocking: two answers on one connection (the server accepts only one).
        let mut client = HttpClient::new(serve(vec![ok, ok]));
        for _ in 0..2 {
            assert_eq!(client.request("GET", "/me", &[], "").unwrap().body, b"ok");
        }
        // Async: the same, then a response cut by the close.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let mut client = AsyncClient::new(serve(vec![ok, ok, cut]), Duration::from_secs(5));
            for _ in 0..2 {
                assert_eq!(
                    client.request("GET", "/me", &[], "").await.unwrap().status,
                    200
                );
            }
            let e = client.request("GET", "/me", &[], "").await.unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof);
            // A server that accepts and never answers: the request times out.
            let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let mut client =
                AsyncClient::new(silent.local_addr().unwrap(), Duration::from_millis(50));
            let e = client.request("GET", "/me", &[], "").await.unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::TimedOut);
        });
    }
}
