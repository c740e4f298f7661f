//! The smallest HTTP client that can fetch a JWKS: one `GET` over a fresh connection, with a
//! deadline and a size cap. hyper 1's low-level `http1` client, nothing else.
//!
//! What it deliberately does not do:
//!
//! - **No TLS.** It speaks plain `http://`, which is fine on loopback or a private network (the
//!   demo and `compare` run issuer and verifiers on one machine). In production the JWKS must
//!   come over `https://` (or through a local TLS-terminating proxy): whoever can rewrite the
//!   key set can mint tokens. An `https://` URL is refused with that explanation rather than
//!   silently fetched in clear.
//! - **No redirects.** A `3xx` is an error: following one would let the answering host send us
//!   to a key set of its choosing.
//! - **No URL from a token.** The only URL ever fetched is the one the operator configured
//!   (`JwksConfig::url`); a token's `jku`/`x5u` is refused by the verifier before any key
//!   lookup, and never reaches this module.
//! - No connection reuse: a fetch happens at most once per refresh interval, so a fresh
//!   connection costs nothing that matters and leaves nothing to go stale.

use std::time::Duration;

use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// A parsed `http://host[:port]/path` URL: all the client needs, nothing it would have to
/// guess about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HttpUrl {
    /// Host name or IP address (IPv6 without brackets), for the TCP connection.
    host: String,
    port: u16,
    /// `host[:port]` as written, for the `Host` header.
    authority: String,
    /// Path and query, starting with `/`.
    path: String,
}

impl HttpUrl {
    /// Parses `url`. Refuses `https://` (see the module docs), user info (`user@`), fragments,
    /// and anything that is not plain `http://authority/path`.
    pub(crate) fn parse(url: &str) -> Result<Self, String> {
        let lower = url
            .get(..8)
            .map(str::to_ascii_lowercase)
            .unwrap_or_default();
        if lower.starts_with("https://") {
            return Err(
                "https:// is not supported by this minimal client: fetch the JWKS over http:// \
                 on loopback or a private network, or through a local TLS-terminating proxy \
                 (in production the key set must never cross an untrusted network in clear)"
                    .into(),
            );
        }
        let Some(rest) = url
            .get(..7)
            .filter(|s| s.eq_ignore_ascii_case("http://"))
            .map(|_| &url[7..])
        else {
            return Err("the JWKS URL must start with http://".into());
        };
        if rest.contains('#') {
            return Err("the JWKS URL must not have a fragment".into());
        }
        if !rest.bytes().all(|b| b.is_ascii_graphic()) {
            return Err("the JWKS URL must be printable ASCII without spaces".into());
        }
        let (authority, path) = match rest.find(['/', '?']) {
            Some(i) if rest.as_bytes()[i] == b'/' => (&rest[..i], rest[i..].to_owned()),
            Some(i) => (&rest[..i], format!("/{}", &rest[i..])),
            None => (rest, "/".to_owned()),
        };
        if authority.is_empty() {
            return Err("the JWKS URL has no host".into());
        }
        if authority.contains('@') {
            return Err("the JWKS URL must not carry user info (user@host)".into());
        }
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (host, after) = v6
                .split_once(']')
                .ok_or("unclosed [ in the JWKS URL's host")?;
            let port = match after {
                "" => None,
                p => Some(p.strip_prefix(':').ok_or("junk after ] in the JWKS URL")?),
            };
            (host, port)
        } else {
            match authority.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (authority, None),
            }
        };
        let port = match port {
            None => 80,
            Some(p) => p
                .parse::<u16>()
                .ok()
                .filter(|&p| p != 0)
                .ok_or("the JWKS URL's port is not a number from 1 to 65535")?,
        };
        if host.is_empty() {
            return Err("the JWKS URL has no host".into());
        }
        Ok(Self {
            host: host.to_owned(),
            port,
            authority: authority.to_owned(),
            path,
        })
    }
}

impl std::fmt::Display for HttpUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "http://{}{}", self.authority, self.path)
    }
}

/// A successful fetch.
pub(crate) struct Fetched {
    /// The body, at most the cap.
    pub(crate) body: Bytes,
    /// `Cache-Control: max-age`, when the server sent one (and no `no-store`/`no-cache`,
    /// which read as 0).
    pub(crate) max_age: Option<u64>,
}

/// `GET url`, all of it (connect, request, headers, body) within `timeout`, the body at most
/// `max_bytes`. Only a `200` counts; the error says what went wrong, for the log.
pub(crate) async fn get(
    url: &HttpUrl,
    timeout: Duration,
    max_bytes: usize,
) -> Result<Fetched, String> {
    match tokio::time::timeout(timeout, get_inner(url, max_bytes)).await {
        Ok(result) => result,
        Err(_) => Err(format!("no complete answer within {timeout:?}")),
    }
}

async fn get_inner(url: &HttpUrl, max_bytes: usize) -> Result<Fetched, String> {
    let stream = TcpStream::connect((url.host.as_str(), url.port))
        .await
        .map_err(|e| format!("connect: {e}"))?;
    // A failure here costs nothing but a delayed small write; not worth failing the fetch.
    let _ = stream.set_nodelay(true);
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("HTTP handshake: {e}"))?;
    let request = Request::builder()
        .method(Method::GET)
        .uri(url.path.as_str())
        .header(header::HOST, url.authority.as_str())
        .header(
            header::ACCEPT,
            HeaderValue::from_static("application/jwk-set+json, application/json"),
        )
        .header(
            header::USER_AGENT,
            HeaderValue::from_static(concat!("authbench-jwt/", env!("CARGO_PKG_VERSION"))),
        )
        .body(Empty::<Bytes>::new())
        .map_err(|e| format!("building the request: {e}"))?;
    let exchange = async {
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| format!("request: {e}"))?;
        let status = response.status();
        if status != StatusCode::OK {
            return Err(format!("answered {status}, not 200 OK"));
        }
        if let Some(len) = response
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            && len > max_bytes as u64
        {
            return Err(format!(
                "body of {len} bytes is over the {max_bytes}-byte cap"
            ));
        }
        let max_age = max_age(response.headers().get_all(header::CACHE_CONTROL));
        let body = Limited::new(response.into_body(), max_bytes)
            .collect()
            .await
            .map_err(|e| format!("body: {e}"))?
            .to_bytes();
        Ok(Fetched { body, max_age })
    };
    // The connection future drives the socket, so it is polled alongside the exchange. It
    // may finish first without error (the server closed after a complete answer, which is
    // then already handed over): the exchange is finished on its own.
    tokio::pin!(conn);
    tokio::pin!(exchange);
    tokio::select! {
        biased;
        result = &mut exchange => result,
        closed = &mut conn => match closed {
            Ok(()) => exchange.await,
            Err(e) => Err(format!("connection: {e}")),
        },
    }
}

/// The `max-age` of `Cache-Control` headers, if any; `no-store` or `no-cache` count as 0.
fn max_age<'a>(values: impl IntoIterator<Item = &'a HeaderValue>) -> Option<u64> {
    let mut found = None;
    for value in values {
        let Ok(text) = value.to_str() else { continue };
        for directive in text.split(',') {
            let directive = directive.trim();
            let lower = directive.to_ascii_lowercase();
            if lower == "no-store" || lower == "no-cache" {
                return Some(0);
            }
            if let Some(secs) = lower.strip_prefix("max-age=")
                && let Ok(secs) = secs.trim_matches('"').parse::<u64>()
            {
                found = Some(found.map_or(secs, |f: u64| f.min(secs)));
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_http_urls() {
        let u = HttpUrl::parse("http://127.0.0.1:8080/.well-known/jwks.json").expect("ok");
        assert_eq!(
            (
                u.host.as_str(),
                u.port,
                u.authority.as_str(),
                u.path.as_str()
            ),
            (
                "127.0.0.1",
                8080,
                "127.0.0.1:8080",
                "/.well-known/jwks.json"
            )
        );
        let u = HttpUrl::parse("HTTP://issuer").expect("ok");
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("issuer", 80, "/")
        );
        let u = HttpUrl::parse("http://[::1]:9/k?x=1").expect("ok");
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("::1", 9, "/k?x=1")
        );
        let u = HttpUrl::parse("http://h?x").expect("ok");
        assert_eq!(u.path, "/?x");
        assert_eq!(u.to_string(), "http://h/?x");
    }

    #[test]
    fn refuses_what_it_cannot_do_safely() {
        for bad in [
            "https://issuer/.well-known/jwks.json",
            "ftp://h/",
            "h:80/x",
            "http://",
            "http://user:pw@h/",
            "http://h/#frag",
            "http://h:0/",
            "http://h:99999/",
            "http://h:x/",
            "http://h/a b",
            "http://[::1/",
            "http://:80/",
        ] {
            assert!(HttpUrl::parse(bad).is_err(), "{bad}");
        }
        let https = HttpUrl::parse("https://x/").expect_err("refused");
        assert!(https.contains("https"), "{https}");
    }

    #[test]
    fn reads_max_age() {
        let v = |s: &'static str| HeaderValue::from_static(s);
        assert_eq!(max_age([&v("public, max-age=300")]), Some(300));
        assert_eq!(max_age([&v("max-age=60"), &v("max-age=30")]), Some(30));
        assert_eq!(max_age([&v("no-store")]), Some(0));
        assert_eq!(max_age([&v("public")]), None);
        assert_eq!(max_age([&v("max-age=abc")]), None);
    }
}
