//! The request, built once: [`Prepared`] parses the URL, resolves the host, validates the
//! method and every header, and writes out the **complete bytes** of each request (one per
//! credential of the pool: head and body), so the hot path only picks a slice and writes it.
//!
//! A request on the wire is `METHOD SP request-target SP HTTP/1.1 CRLF`, then `name: value CRLF`
//! for each header (names lower-case), then `CRLF`, then the body. Headers, in order: `host`
//! (unless the user gave their own), the user's headers as given, `content-length` when there
//! is a body, the credential header. Since the bytes are built here, the sizes the report
//! gives are exact by construction; a test captures the raw bytes to prove it.

use std::net::SocketAddr;

use crate::{
    Error,
    options::{COOKIE_NAME, CredentialForm, Options},
};

/// One target, ready to fire.
#[derive(Debug)]
pub(crate) struct Prepared {
    /// Resolved once at start: no DNS on the hot path. The first is the URL's; the others are
    /// [`Options::spread_over`]'s. Connection *i* always goes to `addrs[i % addrs.len()]`.
    pub(crate) addrs: Vec<SocketAddr>,
    /// `HEAD` requests get responses without a body, whatever their `content-length` says.
    pub(crate) head_method: bool,
    /// Complete request bytes (head + body), one per credential; exactly one when the pool is
    /// empty.
    requests: Vec<Box<[u8]>>,
    /// Size of the credential pool (0: one request, without a credential).
    pool: usize,
    body_len: usize,
}

/// Request size on the wire, in bytes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct WireSize {
    pub(crate) head_min: usize,
    pub(crate) head_max: usize,
    pub(crate) head_mean: f64,
    pub(crate) body: usize,
}

/// The parts of an `http://` URL the generator needs.
#[derive(Debug, PartialEq)]
struct Url<'a> {
    /// `host[:port]` exactly as written: the `Host` header.
    authority: &'a str,
    /// Host without brackets (IPv6), for resolution.
    host: &'a str,
    port: u16,
    /// Origin-form request target: path (at least `/`) and query, no fragment.
    target: String,
}

/// Splits `http://host[:port][/path][?query][#fragment]`.
fn parse_url(url: &str) -> Result<Url<'_>, String> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err("expected http://host[:port]/path".into());
    };
    if !scheme.eq_ignore_ascii_case("http") {
        return Err("only http:// is supported (no TLS)".into());
    }
    // The fragment never goes on the wire.
    let rest = rest.split_once('#').map_or(rest, |(r, _)| r);
    let split = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, target) = rest.split_at(split);
    if authority.contains('@') {
        return Err("user info in URLs is not supported".into());
    }
    if authority.is_empty() {
        return Err("missing host".into());
    }
    if let Some(b) = authority
        .bytes()
        .find(|b| !(b.is_ascii_alphanumeric() || b"-._~:[]%!$&'()*+,;=".contains(b)))
    {
        return Err(format!("invalid character {:?} in host", b as char));
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (host, after) = v6.split_once(']').ok_or("unclosed [ in an IPv6 host")?;
        match after {
            "" => (host, None),
            _ => match after.strip_prefix(':') {
                Some(p) => (host, Some(p)),
                None => return Err("unexpected characters after the IPv6 host".into()),
            },
        }
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err("missing host".into());
    }
    let port = match port {
        None | Some("") => 80,
        Some(p) => p.parse().map_err(|_| format!("invalid port {p:?}"))?,
    };
    if let Some(b) = target.bytes().find(|b| !b.is_ascii_graphic()) {
        return Err(format!("invalid byte 0x{b:02x} in the path"));
    }
    Ok(Url {
        authority,
        host,
        port,
        target: if target.starts_with('/') {
            target.to_owned()
        } else {
            format!("/{target}")
        },
    })
}

/// RFC 9110 `tchar`: what a method or a header name may contain.
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// A header value we are willing to send: visible ASCII, spaces and tabs (no CR, LF or other
/// control bytes, which would let a value smuggle in a header of its own).
fn is_header_value(s: &str) -> bool {
    s.bytes().all(|b| b == b'\t' || (b' '..=b'~').contains(&b))
}

/// Resolves `host:port` once, to its first address.
async fn resolve(host: &str, port: u16) -> Result<SocketAddr, Error> {
    tokio::net::lookup_host((host, port))
        .await
        .and_then(|mut addrs| {
            addrs
                .next()
                .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "no address"))
        })
        .map_err(|source| Error::Resolve {
            host: host.to_owned(),
            source,
        })
}

impl Prepared {
    /// The address connection `id` talks to.
    pub(crate) fn addr_for(&self, id: usize) -> SocketAddr {
        self.addrs[id % self.addrs.len()]
    }

    /// Parses and resolves everything in `opts`. Fails on a bad URL, header, method or token.
    pub(crate) async fn new(opts: &Options) -> Result<Self, Error> {
        let url = parse_url(&opts.url).map_err(|reason| Error::Url {
            url: opts.url.clone(),
            reason,
        })?;
        let mut addrs = vec![resolve(url.host, url.port).await?];
        for extra in &opts.spread_over {
            let other = parse_url(extra).map_err(|reason| Error::Url {
                url: extra.clone(),
                reason,
            })?;
            addrs.push(resolve(other.host, other.port).await?);
        }

        if !is_token(&opts.method) {
            return Err(Error::Options(format!(
                "invalid method {:?}: not an HTTP token",
                opts.method
            )));
        }

        let credential_name = match opts.credential_form {
            CredentialForm::Bearer => "authorization",
            CredentialForm::Cookie => "cookie",
        };
        let mut headers: Vec<(String, &str)> = Vec::with_capacity(opts.headers.len() + 2);
        for (name, value) in &opts.headers {
            let header_err = |reason: &str| Error::Header {
                header: format!("{name}: {value}"),
                reason: reason.to_owned(),
            };
            if !is_token(name) {
                return Err(header_err("invalid header name"));
            }
            if !is_header_value(value) {
                return Err(header_err("invalid header value"));
            }
            let name = name.to_ascii_lowercase();
            if name == "content-length" || name == "transfer-encoding" {
                return Err(header_err("set by the generator from the body"));
            }
            if name == credential_name && !opts.credentials.is_empty() {
                return Err(header_err("the credential pool already sets this header"));
            }
            headers.push((name, value.as_str()));
        }
        // The user's Host replaces ours (virtual-host testing); a second one is sent as given.
        if !headers.iter().any(|(n, _)| n == "host") {
            headers.insert(0, ("host".to_owned(), url.authority));
        }
        let body = opts.body.as_deref().unwrap_or_default().as_bytes();
        let content_length = body.len().to_string();
        if !body.is_empty() {
            headers.push(("content-length".to_owned(), &content_length));
        }

        let mut base = format!("{} {} HTTP/1.1\r\n", opts.method, url.target);
        for (name, value) in &headers {
            base.push_str(name);
            base.push_str(": ");
            base.push_str(value);
            base.push_str("\r\n");
        }
        let finish = |mut head: String| {
            head.push_str("\r\n");
            let mut bytes = head.into_bytes();
            bytes.extend_from_slice(body);
            bytes.into_boxed_slice()
        };

        let requests = if opts.credentials.is_empty() {
            vec![finish(base)]
        } else {
            opts.credentials
                .iter()
                .map(|token| {
                    let value = match opts.credential_form {
                        CredentialForm::Bearer => format!("Bearer {token}"),
                        CredentialForm::Cookie => format!("{COOKIE_NAME}={token}"),
                    };
                    if !is_header_value(&value) {
                        return Err(Error::Options(
                            "a credential contains bytes not allowed in a header".into(),
                        ));
                    }
                    Ok(finish(format!("{base}{credential_name}: {value}\r\n")))
                })
                .collect::<Result<Vec<_>, _>>()?
        };

        Ok(Self {
            addrs,
            head_method: opts.method == "HEAD",
            requests,
            pool: opts.credentials.len(),
            body_len: body.len(),
        })
    }

    /// Number of credentials in the pool (0: none sent).
    pub(crate) fn pool_len(&self) -> usize {
        self.pool
    }

    /// The complete bytes of the request with credential `k` of the pool (ignored when the
    /// pool is empty). Nothing is built or copied per request.
    pub(crate) fn request(&self, k: usize) -> &[u8] {
        let k = if self.pool == 0 { 0 } else { k };
        &self.requests[k]
    }

    /// Exact bytes each request puts on the wire; min / max / mean over the pool (round robin
    /// visits every credential equally often, so the mean is the mean sent).
    pub(crate) fn wire_size(&self) -> WireSize {
        let heads = self.requests.iter().map(|r| r.len() - self.body_len);
        let head_min = heads.clone().min().unwrap_or(0);
        let head_max = heads.clone().max().unwrap_or(0);
        let head_mean = heads.sum::<usize>() as f64 / self.requests.len().max(1) as f64;
        WireSize {
            head_min,
            head_max,
            head_mean,
            body: self.body_len,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn head_size_by_hand() {
        let mut opts = Options::new("http://127.0.0.1:8080/me");
        opts.credentials = vec!["abc".into(), "abcdef".into()];
        let p = Prepared::new(&opts).await.unwrap();
        // "GET /me HTTP/1.1\r\n" = 18, "host: 127.0.0.1:8080\r\n" = 22, "\r\n" = 2.
        let base = 18 + 22 + 2;
        // "authorization: Bearer abc\r\n" = 27.
        let w = p.wire_size();
        assert_eq!(w.head_min, base + 27);
        assert_eq!(w.head_max, base + 30);
        assert_eq!(w.body, 0);
        assert_eq!(
            p.request(0),
            b"GET /me HTTP/1.1\r\nhost: 127.0.0.1:8080\r\nauthorization: Bearer abc\r\n\r\n"
        );
    }

    #[tokio::test]
    async fn rejects_https_and_generator_headers() {
        assert!(matches!(
            Prepared::new(&Options::new("https://example.com/")).await,
            Err(Error::Url { .. })
        ));
        let mut o = Options::new("http://127.0.0.1:1/");
        o.headers = vec![("Content-Length".into(), "3".into())];
        assert!(matches!(Prepared::new(&o).await, Err(Error::Header { .. })));
        let mut o = Options::new("http://127.0.0.1:1/");
        o.headers = vec![("Authorization".into(), "Bearer x".into())];
        o.credentials = vec!["y".into()];
        assert!(matches!(Prepared::new(&o).await, Err(Error::Header { .. })));
        // A value cannot smuggle a header of its own, nor a credential.
        let mut o = Options::new("http://127.0.0.1:1/");
        o.headers = vec![("X-A".into(), "a\r\nx-b: b".into())];
        assert!(matches!(Prepared::new(&o).await, Err(Error::Header { .. })));
        let mut o = Options::new("http://127.0.0.1:1/");
        o.credentials = vec!["a\nb".into()];
        assert!(matches!(Prepared::new(&o).await, Err(Error::Options(_))));
        let mut o = Options::new("http://127.0.0.1:1/");
        o.method = "GE T".into();
        assert!(matches!(Prepared::new(&o).await, Err(Error::Options(_))));
    }

    #[tokio::test]
    async fn default_path_and_user_host() {
        let mut o = Options::new("http://127.0.0.1:9");
        o.headers = vec![("Host".into(), "example.test".into())];
        let p = Prepared::new(&o).await.unwrap();
        assert_eq!(
            p.request(0),
            b"GET / HTTP/1.1\r\nhost: example.test\r\n\r\n"
        );
    }

    #[tokio::test]
    async fn body_and_content_length() {
        let mut o = Options::new("http://127.0.0.1:9/login");
        o.method = "POST".into();
        o.body = Some("{}".into());
        let p = Prepared::new(&o).await.unwrap();
        assert_eq!(
            p.request(5),
            b"POST /login HTTP/1.1\r\nhost: 127.0.0.1:9\r\ncontent-length: 2\r\n\r\n{}"
        );
        assert_eq!(p.wire_size().body, 2);
        assert!(!p.head_method);
    }

    #[test]
    fn urls() {
        let u = parse_url("http://127.0.0.1:8080/me?x=1#frag").unwrap();
        assert_eq!(
            u,
            Url {
                authority: "127.0.0.1:8080",
                host: "127.0.0.1",
                port: 8080,
                target: "/me?x=1".into()
            }
        );
        let u = parse_url("HTTP://[::1]:81?q").unwrap();
        assert_eq!((u.host, u.port, u.target.as_str()), ("::1", 81, "/?q"));
        let u = parse_url("http://localhost").unwrap();
        assert_eq!(
            (u.authority, u.port, u.target.as_str()),
            ("localhost", 80, "/")
        );
        for bad in [
            "127.0.0.1:8080/",
            "https://x/",
            "http://",
            "http:///x",
            "http://u@h/",
            "http://h:99999/",
            "http://h:x/",
            "http://[::1/",
            "http://h/a b",
            "http://h/\u{e9}",
        ] {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
    }
}
