//! What to load, how hard, for how long: [`Options`], and the small parsers the CLI needs
//! ([`parse_header`], [`parse_credentials`], [`read_credentials`]).
//!
//! `Options` is serde-serializable so a run folder can record the exact run. Durations are
//! written as seconds (`duration_s`, `warmup_s`, `timeout_s`). The credential pool itself is
//! *not* serialized: tokens are secrets and a pool can hold thousands of them; the report
//! records how many there were.

use std::{path::Path, time::Duration};

use serde::{Deserialize, Serialize};

use crate::Error;

pub use authbench_spec::COOKIE_NAME;

/// How a credential from the pool travels on the wire (defined in `authbench_spec`, since the
/// [`Report`](crate::Report) records it).
pub use authbench_spec::record::load::CredentialForm;

/// Everything that defines a run. Build with [`Options::new`] and adjust the public fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Options {
    /// Target, `http://host[:port][/path][?query]`. Plain HTTP/1.1 only: this generator
    /// measures the auth layer, not TLS. No default.
    pub url: String,
    /// More servers answering the same API (`http://host:port`, any path ignored): the
    /// connections are spread over [`url`](Self::url)'s address and these, round robin
    /// (connection *i* goes to address *i* mod *n*), as a load balancer in front of several
    /// server instances would. The request (path, `Host`, credentials) is [`url`](Self::url)'s
    /// for every address. Defaults to none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub spread_over: Vec<String>,
    /// Request method. Defaults to `GET`.
    pub method: String,
    /// Extra headers sent with every request, `(name, value)`. `Host` may be overridden;
    /// `Content-Length` and `Transfer-Encoding` are set by the generator and rejected here.
    /// Defaults to none.
    pub headers: Vec<(String, String)>,
    /// Request body sent with every request (e.g. a JSON login). `Content-Length` is added;
    /// add `Content-Type` yourself in [`headers`](Self::headers). Defaults to none.
    pub body: Option<String>,
    /// Credential pool: one token is picked per request, round robin, each connection
    /// starting at a different place, so no single key is hot (Redis sees a spread of keys,
    /// as in production). Not serialized (secrets; possibly thousands). Defaults to empty
    /// (no credential header).
    #[serde(skip)]
    pub credentials: Vec<String>,
    /// How the credential travels. Defaults to [`CredentialForm::Bearer`].
    pub credential_form: CredentialForm,
    /// Number of keep-alive HTTP/1.1 connections, one worker task each. This is also the
    /// maximum number of requests in flight (HTTP/1.1 without pipelining). Defaults to 32.
    pub connections: usize,
    /// Length of the measured part of the run. Defaults to 10 s.
    #[serde(rename = "duration_s", with = "secs")]
    pub duration: Duration,
    /// Time before the measured part during which requests are sent but not recorded
    /// (connection warm-up, server caches, CPU frequency). Defaults to 1 s.
    #[serde(rename = "warmup_s", with = "secs")]
    pub warmup: Duration,
    /// `Some(rps)`: open loop at this fixed rate, latency measured from each request's
    /// *intended* send time (no coordinated omission). `None`: closed loop, each connection
    /// sends its next request as soon as the previous answer is read. Defaults to `None`.
    #[serde(rename = "rate_rps")]
    pub rate: Option<f64>,
    /// Per-request timeout (connect, or send + full response). A timed-out request is
    /// counted in `errors.timeout` and its connection is replaced. Defaults to 10 s.
    #[serde(rename = "timeout_s", with = "secs")]
    pub timeout: Duration,
    /// Threads [`run_blocking`](crate::run_blocking) starts, each with its own single-threaded
    /// runtime and a share of the connections (capped at one per connection); ignored by
    /// [`run`](crate::run), which uses the caller's runtime. On a small machine shared with
    /// the server, 1 leaves the other core to the server. Defaults to `None` (one per CPU).
    pub threads: Option<usize>,
}

impl Options {
    /// Options for `url` with every other field at its documented default.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            spread_over: Vec::new(),
            method: "GET".to_owned(),
            headers: Vec::new(),
            body: None,
            credentials: Vec::new(),
            credential_form: CredentialForm::Bearer,
            connections: 32,
            duration: Duration::from_secs(10),
            warmup: Duration::from_secs(1),
            rate: None,
            timeout: Duration::from_secs(10),
            threads: None,
        }
    }

    /// Checks the ranges that do not need the network: at least one connection, a non-zero
    /// duration and timeout, a finite positive rate, a non-empty credential (empty tokens
    /// would send `Bearer ` and measure a different code path).
    pub fn validate(&self) -> Result<(), Error> {
        let bad = |m: &str| Err(Error::Options(m.to_owned()));
        if self.connections == 0 {
            return bad("connections must be at least 1");
        }
        if self.duration.is_zero() {
            return bad("duration must be greater than zero");
        }
        if self.timeout.is_zero() {
            return bad("timeout must be greater than zero");
        }
        if let Some(rate) = self.rate
            && !(rate.is_finite() && rate > 0.0)
        {
            return bad("rate must be a finite number of requests per second above zero");
        }
        if self.threads == Some(0) {
            return bad("threads must be at least 1");
        }
        if self.credentials.iter().any(|c| c.is_empty()) {
            return bad("credentials must not be empty strings");
        }
        Ok(())
    }
}

/// Parses a `--header` argument, `"Name: value"`, into `(name, value)`.
///
/// The name is trimmed and must be non-empty with no whitespace; the value is trimmed of
/// surrounding whitespace (as HTTP does) and may be empty. Whether the name and value are
/// legal HTTP tokens is checked when the run starts.
pub fn parse_header(s: &str) -> Result<(String, String), Error> {
    let err = |reason: &str| Error::Header {
        header: s.to_owned(),
        reason: reason.to_owned(),
    };
    let (name, value) = s
        .split_once(':')
        .ok_or_else(|| err("expected `Name: value`"))?;
    let name = name.trim();
    if name.is_empty() {
        return Err(err("empty header name"));
    }
    if name.contains(char::is_whitespace) {
        return Err(err("whitespace in header name"));
    }
    Ok((name.to_owned(), value.trim().to_owned()))
}

/// Parses the text of a credentials file: one token per line; surrounding whitespace is
/// trimmed; blank lines and lines starting with `#` are ignored.
pub fn parse_credentials(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

/// Reads and parses a credentials file (see [`parse_credentials`]).
pub fn read_credentials(path: &Path) -> Result<Vec<String>, Error> {
    std::fs::read_to_string(path)
        .map(|text| parse_credentials(&text))
        .map_err(|source| Error::Credentials {
            path: path.to_owned(),
            source,
        })
}

/// Serde for `Duration` as a number of seconds (`f64`), so run files read `"duration_s": 10.0`.
pub(crate) mod secs {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer, de::Error as _};

    pub(crate) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let secs = f64::deserialize(d)?;
        Duration::try_from_secs_f64(secs).map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_parses_and_trims() {
        let (n, v) = parse_header("X-Trace:  abc def ").unwrap();
        assert_eq!((n.as_str(), v.as_str()), ("X-Trace", "abc def"));
        let (n, v) = parse_header("X-Empty:").unwrap();
        assert_eq!((n.as_str(), v.as_str()), ("X-Empty", ""));
        // A colon in the value is kept.
        let (_, v) = parse_header("Host: 127.0.0.1:8080").unwrap();
        assert_eq!(v, "127.0.0.1:8080");
    }

    #[test]
    fn header_rejects_garbage() {
        for bad in ["no colon", ": value", "Bad Name: v"] {
            assert!(
                matches!(parse_header(bad), Err(Error::Header { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn credentials_skip_blank_and_comments() {
        let text = "# tokens for alice\n\nabc\n  def  \n#ghi\n\r\njkl\r\n";
        assert_eq!(parse_credentials(text), ["abc", "def", "jkl"]);
    }

    #[test]
    fn validate_ranges() {
        let ok = Options::new("http://127.0.0.1:1/");
        assert!(ok.validate().is_ok());
        let mut o = ok.clone();
        o.connections = 0;
        assert!(o.validate().is_err());
        let mut o = ok.clone();
        o.rate = Some(f64::NAN);
        assert!(o.validate().is_err());
        let mut o = ok.clone();
        o.rate = Some(0.0);
        assert!(o.validate().is_err());
        let mut o = ok;
        o.credentials = vec![String::new()];
        assert!(o.validate().is_err());
    }

    #[test]
    fn options_serialize_in_seconds_without_secrets() {
        let mut o = Options::new("http://127.0.0.1:8080/me");
        o.credentials = vec!["secret-token".into()];
        o.rate = Some(500.0);
        o.duration = Duration::from_millis(2500);
        let json = serde_json::to_value(&o).unwrap();
        assert_eq!(json["duration_s"], 2.5);
        assert_eq!(json["rate_rps"], 500.0);
        assert!(!json.to_string().contains("secret-token"));
        let back: Options = serde_json::from_value(json).unwrap();
        assert_eq!(back.duration, o.duration);
        assert!(back.credentials.is_empty());
    }
}
