//! What the server accepts from a client, and for how long it waits: every limit in one place.
//!
//! An auth server reads untrusted bytes before it knows who sent them, so each read is bounded
//! in size and in time. Over a limit, the answer is a 4xx (or, for a client too slow to finish
//! its headers, a closed connection), decided by hyper or tower-http before our code runs:
//!
//! | limit | value | over it |
//! |---|---|---|
//! | [`MAX_HEADER_BYTES`]: request line + headers | 32 KiB | 431, connection closed |
//! | [`MAX_HEADERS`]: header lines | 100 | 431, connection closed |
//! | [`MAX_BODY_BYTES`]: request body | 16 KiB | 413 (at once when `Content-Length` says so) |
//! | [`HEADER_READ_TIMEOUT`]: whole head, also between keep-alive requests | 10 s | connection closed |
//! | [`BODY_READ_TIMEOUT`]: whole body | 10 s | the body cannot be read: 400 |
//!
//! Then the credential itself is bounded again where it is parsed (a JWT over 8 KiB, a session
//! ID over 512 bytes: 401). [`serve`](crate::serve) applies [`Limits::default`];
//! [`serve_with`](crate::serve_with) takes others (the tests use short timeouts).

use std::time::Duration;

/// Largest request head (request line and all headers) hyper reads: 32 KiB.
///
/// Four times the largest credential we accept (a JWT is capped at 8 KiB) plus room for the
/// ordinary headers of a browser; the same total as nginx's default
/// `large_client_header_buffers` (4 × 8 KiB). A 64 KiB cookie is refused with 431 before any
/// header reaches the app.
pub const MAX_HEADER_BYTES: usize = 32 * 1024;

/// Most header lines in one request: 100 (hyper's default, stated here so it is a decision).
/// Thousands of `Cookie:` lines are refused with 431.
pub const MAX_HEADERS: usize = 100;

/// Largest request body the app reads: 16 KiB (login, refresh and admin bodies are tiny).
///
/// A body over that is refused with 413 before it is parsed.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// Longest time a client may take to send a request's head: 10 s.
///
/// hyper starts the clock when it starts waiting for a head, so this also closes a keep-alive
/// connection that stays idle that long. Without it, a client dribbling one header byte at a
/// time ("slowloris") holds a connection, a task and a file descriptor for ever.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Longest time a client may take to send a request's body once the head is in: 10 s.
/// A body still incomplete then is an unreadable body: the login answers 400.
pub const BODY_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// The limits [`serve_with`](crate::serve_with) enforces. [`Limits::default`] is the constants
/// of this module; the body-size limit is part of the router ([`MAX_BODY_BYTES`]), not of
/// this struct.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// See [`MAX_HEADER_BYTES`].
    pub max_header_bytes: usize,
    /// See [`MAX_HEADERS`].
    pub max_headers: usize,
    /// See [`HEADER_READ_TIMEOUT`].
    pub header_read_timeout: Duration,
    /// See [`BODY_READ_TIMEOUT`].
    pub body_read_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_header_bytes: MAX_HEADER_BYTES,
            max_headers: MAX_HEADERS,
            header_read_timeout: HEADER_READ_TIMEOUT,
            body_read_timeout: BODY_READ_TIMEOUT,
        }
    }
}
