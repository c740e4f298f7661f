//! The request, built once: [`Prepared`] parses the URL, resolves the host, validates every
//! header and turns each credential into a ready `HeaderValue`, so the hot path only clones
//! reference-counted parts and picks a credential.
//!
//! It also computes, exactly, how many bytes each request puts on the wire. hyper's HTTP/1.1
//! client writes `METHOD SP request-target SP HTTP/1.1 CRLF`, then `name: value CRLF` for each
//! header (names lower-case, as `http::HeaderName` stores them), then `CRLF`, then the body.
//! It adds no header of its own when we set `Content-Length` ourselves (or send no body), so
//! the sum below is what the server reads; a test captures the raw bytes to prove it.

use std::net::SocketAddr;

use http_body_util::Full;
use hyper::{
    Method, Request, Uri,
    body::Bytes,
    header::{self, HeaderMap, HeaderName, HeaderValue},
};

use crate::{
    Error,
    options::{COOKIE_NAME, CredentialForm, Options},
};

/// `" HTTP/1.1\r\n"` after the request target, plus the space after the method.
const REQUEST_LINE_OVERHEAD: usize = " ".len() + " HTTP/1.1\r\n".len();
/// `": "` and `"\r\n"` around each header value.
const HEADER_OVERHEAD: usize = ": ".len() + "\r\n".len();
/// The empty line that ends the head.
const HEAD_END: usize = "\r\n".len();

/// The body type every request uses: one `Bytes`, cloned by reference count.
pub(crate) type Body = Full<Bytes>;

/// One target, ready to fire.
#[derive(Debug)]
pub(crate) struct Prepared {
    /// Resolved once at start: no DNS on the hot path, every connection to the same address.
    pub(crate) addr: SocketAddr,
    method: Method,
    /// Origin-form target (`/path?query`): what goes on the request line.
    target: Uri,
    /// Host, the user's headers, and `content-length` when there is a body.
    headers: HeaderMap,
    body: Bytes,
    /// `authorization` or `cookie`.
    credential_name: HeaderName,
    /// The pool, each token already formatted (`Bearer …` / `__Host-authbench=…`).
    credentials: Vec<HeaderValue>,
    /// Bytes of the head without any credential header.
    base_head_bytes: usize,
}

/// Request size on the wire, in bytes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct WireSize {
    pub(crate) head_min: usize,
    pub(crate) head_max: usize,
    pub(crate) head_mean: f64,
    pub(crate) body: usize,
}

impl Prepared {
    /// Parses and resolves everything in `opts`. Fails on a bad URL, header, method or token.
    pub(crate) async fn new(opts: &Options) -> Result<Self, Error> {
        let url_err = |reason: &str| Error::Url {
            url: opts.url.clone(),
            reason: reason.to_owned(),
        };
        let uri: Uri = opts
            .url
            .parse()
            .map_err(|e: hyper::http::uri::InvalidUri| url_err(&e.to_string()))?;
        match uri.scheme_str() {
            Some("http") => {}
            Some(_) => return Err(url_err("only http:// is supported (no TLS)")),
            None => return Err(url_err("expected http://host[:port]/path")),
        }
        let authority = uri.authority().ok_or_else(|| url_err("missing host"))?;
        if authority.as_str().contains('@') {
            return Err(url_err("user info in URLs is not supported"));
        }
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']');
        let port = authority.port_u16().unwrap_or(80);
        let target: Uri = uri
            .path_and_query()
            .map_or("/", |pq| pq.as_str())
            .parse()
            .map_err(|e: hyper::http::uri::InvalidUri| url_err(&e.to_string()))?;
        let addr = tokio::net::lookup_host((host, port))
            .await
            .and_then(|mut addrs| {
                addrs
                    .next()
                    .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "no address"))
            })
            .map_err(|source| Error::Resolve {
                host: host.to_owned(),
                source,
            })?;

        let method = Method::from_bytes(opts.method.as_bytes())
            .map_err(|e| Error::Options(format!("invalid method {:?}: {e}", opts.method)))?;

        let credential_name = match opts.credential_form {
            CredentialForm::Bearer => header::AUTHORIZATION,
            CredentialForm::Cookie => header::COOKIE,
        };
        let mut headers = HeaderMap::new();
        headers.insert(
            header::HOST,
            HeaderValue::from_str(authority.as_str()).map_err(|e| url_err(&e.to_string()))?,
        );
        let mut user_host = false;
        for (name, value) in &opts.headers {
            let header_err = |reason: String| Error::Header {
                header: format!("{name}: {value}"),
                reason,
            };
            let name =
                HeaderName::from_bytes(name.as_bytes()).map_err(|e| header_err(e.to_string()))?;
            let value = HeaderValue::from_str(value).map_err(|e| header_err(e.to_string()))?;
            if name == header::CONTENT_LENGTH || name == header::TRANSFER_ENCODING {
                return Err(header_err("set by the generator from the body".into()));
            }
            if name == credential_name && !opts.credentials.is_empty() {
                return Err(header_err(
                    "the credential pool already sets this header".into(),
                ));
            }
            if name == header::HOST {
                // The user's Host replaces ours (virtual-host testing); a second one is sent
                // as given.
                if !user_host {
                    headers.remove(header::HOST);
                    user_host = true;
                }
            }
            headers.append(name, value);
        }
        let body = Bytes::from(opts.body.clone().unwrap_or_default());
        if !body.is_empty() {
            headers.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
        }

        let credentials = opts
            .credentials
            .iter()
            .map(|token| {
                let text = match opts.credential_form {
                    CredentialForm::Bearer => format!("Bearer {token}"),
                    CredentialForm::Cookie => format!("{COOKIE_NAME}={token}"),
                };
                HeaderValue::from_str(&text).map_err(|_| {
                    Error::Options("a credential contains bytes not allowed in a header".into())
                })
            })
            .collect::<Result<Vec<_>, _>>()?;

        let base_head_bytes = method.as_str().len()
            + target.to_string().len()
            + REQUEST_LINE_OVERHEAD
            + headers
                .iter()
                .map(|(n, v)| n.as_str().len() + v.len() + HEADER_OVERHEAD)
                .sum::<usize>()
            + HEAD_END;

        Ok(Self {
            addr,
            method,
            target,
            headers,
            body,
            credential_name,
            credentials,
            base_head_bytes,
        })
    }

    /// Number of credentials in the pool (0: none sent).
    pub(crate) fn pool_len(&self) -> usize {
        self.credentials.len()
    }

    /// The request for credential `k` of the pool (ignored when the pool is empty).
    ///
    /// Per request this clones the header map (one allocation: hyper takes the map by value
    /// and clears it after writing) and bumps reference counts; nothing is formatted.
    pub(crate) fn request(&self, k: usize) -> Request<Body> {
        let mut req = Request::new(Full::new(self.body.clone()));
        *req.method_mut() = self.method.clone();
        *req.uri_mut() = self.target.clone();
        let headers = req.headers_mut();
        *headers = self.headers.clone();
        if let Some(value) = self.credentials.get(k) {
            headers.insert(self.credential_name.clone(), value.clone());
        }
        req
    }

    /// Exact bytes each request puts on the wire; min / max / mean over the pool (round robin
    /// visits every credential equally often, so the mean is the mean sent).
    pub(crate) fn wire_size(&self) -> WireSize {
        let per_credential = |v: &HeaderValue| {
            self.base_head_bytes + self.credential_name.as_str().len() + v.len() + HEADER_OVERHEAD
        };
        let (head_min, head_max, head_mean) = if self.credentials.is_empty() {
            let b = self.base_head_bytes;
            (b, b, b as f64)
        } else {
            let sizes = self.credentials.iter().map(per_credential);
            let min = sizes.clone().min().unwrap_or(0);
            let max = sizes.clone().max().unwrap_or(0);
            let mean = sizes.sum::<usize>() as f64 / self.credentials.len() as f64;
            (min, max, mean)
        };
        WireSize {
            head_min,
            head_max,
            head_mean,
            body: self.body.len(),
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
    }

    #[tokio::test]
    async fn default_path_and_user_host() {
        let mut o = Options::new("http://127.0.0.1:9");
        o.headers = vec![("Host".into(), "example.test".into())];
        let p = Prepared::new(&o).await.unwrap();
        let req = p.request(0);
        assert_eq!(req.uri(), "/");
        assert_eq!(req.headers()[header::HOST], "example.test");
        assert_eq!(req.headers().get_all(header::HOST).iter().count(), 1);
    }
}
