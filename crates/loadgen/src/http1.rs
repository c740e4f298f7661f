//! A minimal HTTP/1.1 client connection: write the prepared request bytes, read and frame the
//! response, nothing else.
//!
//! Why not hyper: its client is general (any body type, any executor, header maps, pooled
//! buffers, a dispatcher between the request handle and the connection), and on a two-core
//! machine shared with the server that generality cost the generator about half as much CPU
//! per request again as `wrk`. This generator always sends the same few prepared byte strings
//! and only needs, from each response, its status, its framing, and whether the connection
//! stays open. So per request: one `write_all` of bytes built once at setup, reads into one
//! buffer kept for the worker's whole life, a parse of the head that allocates nothing, and
//! the body skipped (never copied out, never decoded).
//!
//! What it implements of RFC 9112, on the response side:
//! - the status line (`HTTP/1.x SP 3DIGIT [SP reason]`); anything else is malformed;
//! - header lines until the empty line (bare LF accepted as a line end, as §2.2 allows);
//!   obsolete line folding, a missing colon or an invalid name are malformed;
//! - the body length (§6.3): none for `HEAD`, 1xx, 204 and 304; `Transfer-Encoding` with
//!   `chunked` last → chunked (extensions and trailers skipped); `Transfer-Encoding` otherwise →
//!   until close; else `Content-Length` (equal duplicates accepted, anything else malformed);
//!   else until close;
//! - interim 1xx responses (except 101) are skipped; the final response follows;
//! - persistence (§9.3): HTTP/1.1 unless `Connection: close`, HTTP/1.0 only with
//!   `Connection: keep-alive`; a body read until close, a 101, or `Transfer-Encoding` in an
//!   HTTP/1.0 response (faulty framing, §6.1) also end the connection.
//!
//! A response counts only once its body has been read to the last byte. Bytes that arrive
//! before a request was sent (an unsolicited response) are malformed, too: they would be
//! mistaken for the next answer.

use std::{fmt, io};

use tokio::{
    io::{AsyncReadExt as _, AsyncWriteExt as _},
    net::TcpStream,
};

/// Initial size of a worker's read buffer: a whole small response in one `read`, and big
/// bodies in large slices.
const INITIAL_BUFFER: usize = 16 * 1024;
/// Largest response head (or chunk-size line, or trailer section) accepted; the buffer grows
/// up to this, once, if a head needs it.
pub(crate) const MAX_HEAD: usize = 64 * 1024;

/// What the worker needs from a complete response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Response {
    pub(crate) status: u16,
    /// The connection may carry the next request.
    pub(crate) keep_alive: bool,
}

/// Why an exchange did not produce a response.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The server closed (or reset) a connection that had already served a response, before
    /// a single byte of the answer to this request: it closed an idle keep-alive connection
    /// as we sent. Not a failed request (nothing was answered, and an idempotent request can
    /// be sent again); the worker reconnects and sends it on the new connection.
    Stale,
    /// The connection failed (reset, refused write, …).
    Io(io::Error),
    /// The server closed the connection before the response was complete.
    Closed,
    /// The bytes received are not a valid HTTP/1.1 response.
    Malformed(&'static str),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Stale => f.write_str("idle connection closed by the server"),
            Self::Io(e) => write!(f, "{e}"),
            Self::Closed => f.write_str("connection closed before the response was complete"),
            Self::Malformed(why) => write!(f, "malformed response: {why}"),
        }
    }
}

/// The read buffer of a worker. It outlives connections, so a reconnect allocates nothing.
#[derive(Debug)]
pub(crate) struct Buffer {
    data: Vec<u8>,
    /// Unconsumed bytes are `data[start..end]`.
    start: usize,
    end: usize,
}

impl Buffer {
    pub(crate) fn new() -> Self {
        Self {
            data: vec![0; INITIAL_BUFFER],
            start: 0,
            end: 0,
        }
    }

    fn filled(&self) -> &[u8] {
        &self.data[self.start..self.end]
    }

    fn len(&self) -> usize {
        self.end - self.start
    }

    fn consume(&mut self, n: usize) {
        self.start += n;
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }

    fn clear(&mut self) {
        self.start = 0;
        self.end = 0;
    }

    /// Room to read into: after the unconsumed bytes, moving them to the front or growing the
    /// buffer (up to [`MAX_HEAD`]) when it is full.
    fn spare(&mut self) -> Option<&mut [u8]> {
        if self.end == self.data.len() {
            if self.start > 0 {
                self.data.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            } else if self.data.len() < MAX_HEAD {
                self.data.resize((self.data.len() * 2).min(MAX_HEAD), 0);
            } else {
                return None;
            }
        }
        Some(&mut self.data[self.end..])
    }
}

/// One keep-alive connection, borrowing its worker's buffer.
#[derive(Debug)]
pub(crate) struct Connection<'b> {
    stream: TcpStream,
    buf: &'b mut Buffer,
    /// A response has been read on this connection (so a close before the next answer may be
    /// the server ending an idle keep-alive connection: [`Failure::Stale`]).
    reused: bool,
    /// Bytes were received since the current request was sent.
    received: bool,
}

impl<'b> Connection<'b> {
    pub(crate) fn new(stream: TcpStream, buf: &'b mut Buffer) -> Self {
        buf.clear();
        Self {
            stream,
            buf,
            reused: false,
            received: false,
        }
    }

    /// Sends `request` (complete bytes: head and body) and reads the whole response. `head`:
    /// the request is a `HEAD` (its response has no body). On `Ok`, the connection is ready
    /// for the next request if [`Response::keep_alive`]; on `Err`, it must be dropped.
    pub(crate) async fn exchange(
        &mut self,
        request: &[u8],
        head: bool,
    ) -> Result<Response, Failure> {
        if self.buf.len() > 0 {
            return Err(Failure::Malformed(
                "bytes received before the request was sent",
            ));
        }
        self.received = false;
        let result = match self.stream.write_all(request).await {
            Ok(()) => self.read_response(head).await,
            Err(e) => Err(Failure::Io(e)),
        };
        match result {
            Ok(response) => {
                self.reused = true;
                Ok(response)
            }
            Err(Failure::Closed) if self.reused && !self.received => Err(Failure::Stale),
            Err(Failure::Io(e)) if self.reused && !self.received && is_close(&e) => {
                Err(Failure::Stale)
            }
            Err(e) => Err(e),
        }
    }

    /// Reads more bytes into the buffer. `Closed` at end of stream.
    async fn fill(&mut self) -> Result<(), Failure> {
        let spare = self.buf.spare().ok_or(Failure::Malformed(
            "response head or line larger than 64 KiB",
        ))?;
        match self.stream.read(spare).await {
            Ok(0) => Err(Failure::Closed),
            Ok(n) => {
                self.buf.end += n;
                self.received = true;
                Ok(())
            }
            Err(e) => Err(Failure::Io(e)),
        }
    }

    async fn read_response(&mut self, head_request: bool) -> Result<Response, Failure> {
        loop {
            // Usually the whole head is there at the first try: one pass. Otherwise only the
            // new bytes are searched for its end (linear, however the head trickles in), and
            // it is parsed once complete.
            let mut scan: Option<HeadScan> = None;
            let head = loop {
                let filled = self.buf.filled();
                let end = match &mut scan {
                    None => match parse_head(filled).map_err(Failure::Malformed)? {
                        Some(head) => break head,
                        None => {
                            scan = Some(HeadScan::after_first_pass(filled));
                            None
                        }
                    },
                    Some(scan) => scan.advance(filled).map_err(Failure::Malformed)?,
                };
                if let Some(end) = end {
                    match parse_head(&filled[..end]).map_err(Failure::Malformed)? {
                        Some(head) => break head,
                        None => return Err(Failure::Malformed("response head scan out of step")),
                    }
                }
                self.fill().await?;
            };
            self.buf.consume(head.len);
            if (100..200).contains(&head.status) && head.status != 101 {
                // Interim (100 Continue, 103 Early Hints): the final response follows.
                continue;
            }
            let framing = if head_request || matches!(head.status, 101 | 204 | 304) {
                Framing::Length(0)
            } else if head.transfer_encoding {
                if head.chunked {
                    Framing::Chunked
                } else {
                    Framing::UntilClose
                }
            } else if let Some(n) = head.content_length {
                Framing::Length(n)
            } else {
                Framing::UntilClose
            };
            match framing {
                Framing::Length(n) => self.skip(n).await?,
                Framing::Chunked => self.skip_chunked().await?,
                Framing::UntilClose => loop {
                    self.buf.clear();
                    match self.fill().await {
                        Ok(()) => {}
                        Err(Failure::Closed) => break,
                        Err(e) => return Err(e),
                    }
                },
            }
            let persistent = if head.minor >= 1 {
                !head.close
            } else {
                head.keep_alive && !head.close && !head.transfer_encoding
            };
            return Ok(Response {
                status: head.status,
                keep_alive: persistent
                    && head.status != 101
                    && !matches!(framing, Framing::UntilClose),
            });
        }
    }

    /// Consumes `n` body bytes.
    async fn skip(&mut self, mut n: u64) -> Result<(), Failure> {
        loop {
            let have = self.buf.len() as u64;
            if have >= n {
                // n <= have, a usize.
                self.buf.consume(n as usize);
                return Ok(());
            }
            n -= have;
            self.buf.clear();
            self.fill().await?;
        }
    }

    /// Consumes one line (up to [`MAX_HEAD`] bytes) and returns the length of its content
    /// (without CRLF or LF) and what `parse` made of the content.
    async fn line<T>(
        &mut self,
        parse: impl Fn(&[u8]) -> Result<T, &'static str>,
    ) -> Result<T, Failure> {
        // Bytes already searched for the line feed (offsets are relative to the unconsumed
        // bytes, which a refill may move but never reorders).
        let mut searched = 0;
        loop {
            let filled = self.buf.filled();
            if let Some(lf) = filled[searched..].iter().position(|&b| b == b'\n') {
                let (content, total) = line_at(&filled[..searched + lf + 1])
                    .ok_or(Failure::Malformed("line scan out of step"))?;
                let value = parse(&filled[..content]).map_err(Failure::Malformed)?;
                self.buf.consume(total);
                return Ok(value);
            }
            searched = filled.len();
            self.fill().await?;
        }
    }

    /// Consumes a chunked body: chunks, the last chunk, trailers, the final empty line.
    async fn skip_chunked(&mut self) -> Result<(), Failure> {
        loop {
            let size = self.line(parse_chunk_size).await?;
            if size == 0 {
                break;
            }
            self.skip(size).await?;
            self.line(|l| {
                if l.is_empty() {
                    Ok(())
                } else {
                    Err("chunk data longer than its size")
                }
            })
            .await?;
        }
        // Trailer fields, ignored, then the empty line.
        while !self.line(|l| Ok(l.is_empty())).await? {}
        Ok(())
    }
}

/// `io::Error`s by which a peer that closed the connection shows up on the next write or read.
fn is_close(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::UnexpectedEof
    )
}

/// How the end of the body is found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    Length(u64),
    Chunked,
    UntilClose,
}

/// The parts of a response head that matter here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Head {
    /// Bytes of the head, status line to the empty line included.
    len: usize,
    status: u16,
    /// `x` in `HTTP/1.x`.
    minor: u8,
    content_length: Option<u64>,
    /// A `Transfer-Encoding` header is present.
    transfer_encoding: bool,
    /// …and its last coding is `chunked`.
    chunked: bool,
    /// `Connection: close`.
    close: bool,
    /// `Connection: keep-alive`.
    keep_alive: bool,
}

/// The first line in `buf`: `(content length, length with its LF)`. `None` if no LF yet.
fn line_at(buf: &[u8]) -> Option<(usize, usize)> {
    let lf = buf.iter().position(|&b| b == b'\n')?;
    let content = if lf > 0 && buf[lf - 1] == b'\r' {
        lf - 1
    } else {
        lf
    };
    Some((content, lf + 1))
}

/// Finds the end of a response head that arrives in pieces, searching only new bytes, and
/// checks the status line as soon as its line feed is there.
#[derive(Debug)]
struct HeadScan {
    /// Bytes searched so far.
    searched: usize,
    /// The status line is complete and valid.
    status_checked: bool,
}

impl HeadScan {
    /// The state after [`parse_head`] found `buf` incomplete (it checked the status line if it
    /// was complete).
    fn after_first_pass(buf: &[u8]) -> Self {
        Self {
            searched: buf.len(),
            status_checked: line_at(buf).is_some(),
        }
    }

    /// `Some(length of the head)` once `buf` (the same bytes as before, and more) holds the
    /// whole head.
    fn advance(&mut self, buf: &[u8]) -> Result<Option<usize>, &'static str> {
        if !self.status_checked {
            check_prefix(buf)?;
        }
        // An LF seen last time may end the head with the bytes that just arrived: look again
        // from up to two bytes back (`LF`, or `LF CR`, at the end of the old bytes).
        let mut i = self.searched.saturating_sub(2);
        while let Some(off) = buf[i..].iter().position(|&b| b == b'\n') {
            let lf = i + off;
            if !self.status_checked {
                let (content, _) = line_at(buf).ok_or("status line scan out of step")?;
                parse_status_line(&buf[..content])?;
                self.status_checked = true;
            }
            match &buf[lf + 1..] {
                [b'\n', ..] => return Ok(Some(lf + 2)),
                [b'\r', b'\n', ..] => return Ok(Some(lf + 3)),
                [] | [b'\r'] => break,
                _ => i = lf + 1,
            }
        }
        self.searched = buf.len();
        Ok(None)
    }
}

/// Rejects a response whose first bytes are already not `HTTP/1.`.
fn check_prefix(buf: &[u8]) -> Result<(), &'static str> {
    const PREFIX: &[u8] = b"HTTP/1.";
    let n = buf.len().min(PREFIX.len());
    if buf[..n] == PREFIX[..n] {
        Ok(())
    } else {
        Err("status line does not start with HTTP/1.")
    }
}

/// Parses a response head at the start of `buf`. `Ok(None)`: incomplete, read more (the caller
/// bounds the size). Rejects a bad status line as soon as its first bytes are there, so a
/// server that answers garbage is an error at once, not a timeout.
fn parse_head(buf: &[u8]) -> Result<Option<Head>, &'static str> {
    check_prefix(buf)?;
    let Some((content, mut pos)) = line_at(buf) else {
        return Ok(None);
    };
    let mut head = parse_status_line(&buf[..content])?;
    loop {
        let Some((content, total)) = line_at(&buf[pos..]) else {
            if buf.len() >= MAX_HEAD {
                return Err("response head larger than 64 KiB");
            }
            return Ok(None);
        };
        let line = &buf[pos..pos + content];
        pos += total;
        if line.is_empty() {
            head.len = pos;
            return Ok(Some(head));
        }
        parse_header(line, &mut head)?;
    }
}

/// `HTTP/1.x SP 3DIGIT [SP reason-phrase]`.
fn parse_status_line(line: &[u8]) -> Result<Head, &'static str> {
    let bad = "invalid status line";
    match line {
        [
            b'H',
            b'T',
            b'T',
            b'P',
            b'/',
            b'1',
            b'.',
            minor,
            b' ',
            a,
            b,
            c,
            rest @ ..,
        ] if minor.is_ascii_digit()
            && [a, b, c].iter().all(|d| d.is_ascii_digit())
            && (rest.is_empty() || rest[0] == b' ') =>
        {
            let status = u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0');
            if status < 100 {
                return Err(bad);
            }
            Ok(Head {
                status,
                minor: minor - b'0',
                ..Head::default()
            })
        }
        _ => Err(bad),
    }
}

/// RFC 9110 `tchar`.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn trim_ows(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

/// The comma-separated elements of a list header, trimmed, empty ones skipped.
fn elements(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value
        .split(|&b| b == b',')
        .map(trim_ows)
        .filter(|e| !e.is_empty())
}

fn parse_header(line: &[u8], head: &mut Head) -> Result<(), &'static str> {
    if matches!(line[0], b' ' | b'\t') {
        return Err("obsolete line folding in the response head");
    }
    let colon = line
        .iter()
        .position(|&b| b == b':')
        .ok_or("header line without a colon")?;
    let (name, value) = (&line[..colon], trim_ows(&line[colon + 1..]));
    if name.is_empty() || !name.iter().all(|&b| is_tchar(b)) {
        return Err("invalid header name");
    }
    if name.eq_ignore_ascii_case(b"content-length") {
        // `Content-Length: 5, 5` and repeated equal headers are tolerated (RFC 9110 §8.6);
        // anything else would make the framing ambiguous.
        let mut any = false;
        for element in value.split(|&b| b == b',').map(trim_ows) {
            let n = parse_decimal(element).ok_or("invalid content-length")?;
            if head.content_length.is_some_and(|m| m != n) {
                return Err("conflicting content-length values");
            }
            head.content_length = Some(n);
            any = true;
        }
        if !any {
            return Err("invalid content-length");
        }
    } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
        head.transfer_encoding = true;
        if let Some(last) = elements(value).last() {
            head.chunked = last.eq_ignore_ascii_case(b"chunked");
        }
    } else if name.eq_ignore_ascii_case(b"connection") {
        for option in elements(value) {
            if option.eq_ignore_ascii_case(b"close") {
                head.close = true;
            } else if option.eq_ignore_ascii_case(b"keep-alive") {
                head.keep_alive = true;
            }
        }
    }
    Ok(())
}

/// `1*DIGIT` as a `u64`; `None` if empty, not digits, or too large.
fn parse_decimal(s: &[u8]) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    s.iter().try_fold(0u64, |n, &b| {
        if b.is_ascii_digit() {
            n.checked_mul(10)?.checked_add(u64::from(b - b'0'))
        } else {
            None
        }
    })
}

/// `chunk-size [chunk-ext]`: hexadecimal size, then optional whitespace and `;`-extensions.
fn parse_chunk_size(line: &[u8]) -> Result<u64, &'static str> {
    let bad = "invalid chunk size";
    let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    if digits == 0 || digits > 16 {
        return Err(bad);
    }
    let rest = trim_ows(&line[digits..]);
    if !(rest.is_empty() || rest[0] == b';') {
        return Err(bad);
    }
    line[..digits].iter().try_fold(0u64, |n, &b| {
        let d = (b as char).to_digit(16).ok_or(bad)?;
        n.checked_mul(16)
            .and_then(|n| n.checked_add(u64::from(d)))
            .ok_or(bad)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(s: &str) -> Result<Option<Head>, &'static str> {
        parse_head(s.as_bytes())
    }

    #[test]
    fn parses_a_plain_head() {
        let text = "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nContent-Length: 2\r\n\r\nok";
        let h = head(text).unwrap().unwrap();
        assert_eq!(h.len, text.len() - 2);
        assert_eq!((h.status, h.minor, h.content_length), (200, 1, Some(2)));
        assert!(!h.close && !h.transfer_encoding);
    }

    #[test]
    fn incomplete_heads_ask_for_more() {
        let text = "HTTP/1.1 401 Unauthorized\r\nconnection: close\r\ncontent-length: 0\r\n\r\n";
        for cut in 0..text.len() {
            assert_eq!(head(&text[..cut]), Ok(None), "cut at {cut}");
        }
        let h = head(text).unwrap().unwrap();
        assert!(h.close);
        assert_eq!(h.status, 401);
    }

    #[test]
    fn head_scan_finds_the_end_however_the_bytes_arrive() {
        for text in [
            "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nx: y\r\n\r\nok",
            "HTTP/1.1 204 No Content\r\n\r\n",
            "HTTP/1.0 200 OK\nserver: lf-only\n\nok",
        ] {
            let end = head(text).unwrap().unwrap().len;
            let bytes = text.as_bytes();
            // Arriving in pieces of `step` bytes, after a first pass over `first` bytes.
            for first in 0..end {
                for step in 1..4 {
                    let mut scan = HeadScan::after_first_pass(&bytes[..first]);
                    let mut have = first;
                    let found = loop {
                        have = (have + step).min(bytes.len());
                        if let Some(n) = scan.advance(&bytes[..have]).unwrap() {
                            break n;
                        }
                        assert!(have < bytes.len(), "{text:?}: end not found");
                    };
                    assert_eq!(found, end, "{text:?}, first {first}, step {step}");
                }
            }
        }
        // A bad status line is rejected as soon as it is complete, before the head is.
        let mut scan = HeadScan::after_first_pass(b"HTTP/1.1 2");
        assert!(scan.advance(b"HTTP/1.1 2x0 OK\r\nmore: headers").is_err());
        let mut scan = HeadScan::after_first_pass(b"");
        assert!(scan.advance(b"HTTX").is_err());
    }

    #[test]
    fn framing_headers() {
        let h = head("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n")
            .unwrap()
            .unwrap();
        assert!(h.transfer_encoding && h.chunked);
        let h = head("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked, gzip\r\n\r\n")
            .unwrap()
            .unwrap();
        assert!(h.transfer_encoding && !h.chunked);
        let h = head("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\ncontent-length: 7, 7\r\n\r\n")
            .unwrap()
            .unwrap();
        assert!(h.keep_alive && !h.close && h.minor == 0);
        assert_eq!(h.content_length, Some(7));
        // Bare LF line ends.
        let h = head("HTTP/1.1 204 No Content\nconnection: keep-alive, close\n\n")
            .unwrap()
            .unwrap();
        assert!(h.close);
        assert_eq!(h.status, 204);
        // No reason phrase.
        assert_eq!(head("HTTP/1.1 200\r\n\r\n").unwrap().unwrap().status, 200);
    }

    #[test]
    fn malformed_heads() {
        for bad in [
            "HTTP/2 200 OK\r\n",
            "http/1.1 200 OK\r\n",
            "HTTP/1.1 20 OK\r\n\r\n",
            "HTTP/1.1 2000 OK\r\n\r\n",
            "HTTP/1.1 abc OK\r\n\r\n",
            "HTTP/1.1 099 Low\r\n\r\n",
            "HTTP/1.1  200 OK\r\n\r\n",
            "garbage",
            "<html>",
            "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
            "HTTP/1.1 200 OK\r\nbad name: x\r\n\r\n",
            "HTTP/1.1 200 OK\r\n: x\r\n\r\n",
            "HTTP/1.1 200 OK\r\nx: a\r\n folded\r\n\r\n",
            "HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n",
            "HTTP/1.1 200 OK\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n",
            "HTTP/1.1 200 OK\r\ncontent-length: 3, 4\r\n\r\n",
            "HTTP/1.1 200 OK\r\ncontent-length:\r\n\r\n",
            "HTTP/1.1 200 OK\r\ncontent-length: 99999999999999999999999\r\n\r\n",
        ] {
            assert!(head(bad).is_err(), "{bad:?}");
        }
        // Garbage is rejected from its first bytes, before any line end.
        assert!(head("HTTX").is_err());
        assert_eq!(head("HTTP/1"), Ok(None));
    }

    #[test]
    fn chunk_sizes() {
        assert_eq!(parse_chunk_size(b"0"), Ok(0));
        assert_eq!(parse_chunk_size(b"1a"), Ok(26));
        assert_eq!(parse_chunk_size(b"FF ; name=value"), Ok(255));
        assert_eq!(parse_chunk_size(b"10;ext"), Ok(16));
        assert_eq!(parse_chunk_size(b"ffffffffffffffff"), Ok(u64::MAX));
        for bad in [
            &b""[..],
            b"x",
            b"1 2",
            b"-1",
            b"fffffffffffffffff",
            b"; ext",
        ] {
            assert!(parse_chunk_size(bad).is_err(), "{:?}", bad);
        }
    }

    #[test]
    fn buffer_grows_to_the_limit_then_refuses() {
        let mut b = Buffer::new();
        while let Some(spare) = b.spare() {
            let n = spare.len();
            b.end += n;
        }
        assert_eq!(b.len(), MAX_HEAD);
        b.consume(10);
        assert_eq!(b.spare().map(|s| s.len()), Some(10));
        assert_eq!(b.len(), MAX_HEAD - 10);
    }
}
