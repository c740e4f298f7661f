//! Bytes on the wire per request as `run.json` keeps them, HTTP/1.1 against HTTP/2
//! (`authbench compare`'s `wire` module describes and measures them).

use serde::{Deserialize, Serialize};

/// Requests per connection: enough for the steady state to settle, and more distinct users
/// than HPACK's default 4,096-byte dynamic table holds credentials.
pub const REQUESTS: usize = 48;

/// The protocols measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Protocol {
    /// HTTP/1.1 (hyper's `http1`).
    #[serde(rename = "http/1.1")]
    Http1,
    /// HTTP/2 (hyper's `http2`, HPACK by the `h2` crate, default 4,096-byte table).
    #[serde(rename = "h2")]
    Http2,
}

/// How the credential travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Form {
    /// No credential: the request to subtract.
    None,
    /// `Authorization: Bearer <token>`, the encoder free to index it.
    Authorization,
    /// `Authorization: Bearer <token>` marked sensitive: HPACK never-indexed (RFC 7541 §7.1.3).
    AuthorizationSensitive,
    /// `Cookie: __Host-authbench=<token>`, the encoder free to index it.
    Cookie,
}

/// Bytes the client wrote for one (credential, protocol, form).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WireRow {
    /// Configuration whose credential this is (`-` for the credential-less row).
    pub configuration: String,
    /// The credential, bytes (0 for the credential-less row).
    pub token_bytes: usize,
    /// Protocol.
    pub protocol: Protocol,
    /// How the credential travelled.
    pub form: Form,
    /// The connection's first request, bytes (HTTP/2: preface, `SETTINGS` and
    /// `WINDOW_UPDATE` included).
    pub first_request_bytes: u64,
    /// Median bytes of requests 2 … [`REQUESTS`], the same credential on each.
    pub same_credential_bytes: u64,
    /// Median bytes of requests 2 … [`REQUESTS`], a different user's credential on each.
    pub new_credential_bytes: u64,
}

/// The section's record.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WireResult {
    /// Requests per measured connection.
    pub requests_per_connection: usize,
    /// The request every row sends: method, path, authority.
    pub request: String,
    /// Every row.
    pub rows: Vec<WireRow>,
}
