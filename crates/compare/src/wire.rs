//! Bytes on the wire per request for each credential, HTTP/1.1 against HTTP/2.
//!
//! HTTP/1.1 sends every header in full on every request, so a 425-byte token costs 425 bytes
//! each time. HTTP/2 compresses headers with HPACK (RFC 7541): a header field the encoder has
//! put in its dynamic table is sent again as an index of a byte or two. Whether a credential
//! gets that treatment is the encoder's choice: §7.1.3 tells it to send sensitive fields such
//! as `Authorization` and short cookies as *never indexed* literals, which cost their
//! (Huffman-coded) length on every request and must stay literal through every intermediary.
//! The `h2` crate under hyper goes further: it never indexes the values of `authorization`,
//! `cookie` and `set-cookie` at all, marked sensitive or not. And a connection that carries
//! many users (a proxy, a gateway, a backend-for-frontend) rarely sends the same credential
//! twice in a row, so even an indexing encoder misses there.
//!
//! This section measures rather than argues: real hyper clients and servers (HTTP/1.1, and
//! HTTP/2 over the `h2` crate's HPACK encoder) talk over an in-memory duplex pipe, and a wrapper
//! counts the bytes the client writes. For each credential of the run and each way of sending
//! it, it records the first request of a connection (connection preface and `SETTINGS`
//! included), the steady state with the same credential on every request, and the steady state
//! with a different user's credential on every request. A credential-less request on each
//! protocol is the row to subtract.

use anyhow::{Context, Result};
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper::header::{AUTHORIZATION, COOKIE, HOST, HeaderName, HeaderValue};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context as TaskContext, Poll};
use tokio::io::{AsyncRead, AsyncWrite, DuplexStream, ReadBuf};

/// The cookie the servers set (`__Host-` prefix: Secure, Path=/, no Domain).
pub use authbench_spec::COOKIE_NAME;

pub use authbench_spec::record::wire::{Form, Protocol, REQUESTS, WireResult, WireRow};

fn header(form: Form, token: &str) -> Result<Option<(HeaderName, HeaderValue)>> {
    let (name, text, sensitive) = match form {
        Form::None => return Ok(None),
        Form::Authorization => (AUTHORIZATION, format!("Bearer {token}"), false),
        Form::AuthorizationSensitive => (AUTHORIZATION, format!("Bearer {token}"), true),
        Form::Cookie => (COOKIE, format!("{COOKIE_NAME}={token}"), false),
    };
    let mut value = HeaderValue::from_str(&text).context("credential is not a header value")?;
    value.set_sensitive(sensitive);
    Ok(Some((name, value)))
}

/// Measures every credential set in `credentials` (configuration → one credential per user, at
/// least two users for the new-credential column).
pub fn measure(credentials: &[(String, Vec<String>)]) -> Result<WireResult> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .context("a runtime for the wire measurement")?;
    rt.block_on(async {
        let mut rows = Vec::new();
        for protocol in [Protocol::Http1, Protocol::Http2] {
            rows.push(row(protocol, Form::None, "-", &[String::new()]).await?);
            for (name, tokens) in credentials {
                anyhow::ensure!(!tokens.is_empty(), "{name}: no credential to measure");
                let forms: &[Form] = match protocol {
                    // HTTP/1.1 has no header compression: sensitive or not is the same bytes.
                    Protocol::Http1 => &[Form::Authorization, Form::Cookie],
                    Protocol::Http2 => &[
                        Form::Authorization,
                        Form::AuthorizationSensitive,
                        Form::Cookie,
                    ],
                };
                for &form in forms {
                    rows.push(row(protocol, form, name, tokens).await?);
                }
            }
        }
        Ok(WireResult {
            requests_per_connection: REQUESTS,
            request: "GET http://127.0.0.1:8080/me".into(),
            rows,
        })
    })
}

async fn row(protocol: Protocol, form: Form, name: &str, tokens: &[String]) -> Result<WireRow> {
    let same = connection(protocol, form, |_| &tokens[0]).await?;
    let new = connection(protocol, form, |i| &tokens[i % tokens.len()]).await?;
    Ok(WireRow {
        configuration: name.to_owned(),
        token_bytes: tokens[0].len(),
        protocol,
        form,
        first_request_bytes: same[0],
        same_credential_bytes: median(&same[1..]),
        new_credential_bytes: median(&new[1..]),
    })
}

fn median(v: &[u64]) -> u64 {
    let mut v = v.to_vec();
    v.sort_unstable();
    v.get(v.len() / 2).copied().unwrap_or(0)
}

/// One connection of [`REQUESTS`] requests, the `i`-th carrying `token(i)`; bytes the client
/// wrote for each.
async fn connection<'t>(
    protocol: Protocol,
    form: Form,
    token: impl Fn(usize) -> &'t String,
) -> Result<Vec<u64>> {
    let (client, server) = tokio::io::duplex(1 << 16);
    let written = Arc::new(AtomicU64::new(0));
    let client = TokioIo::new(Counting {
        inner: client,
        written: Arc::clone(&written),
    });
    let server = TokioIo::new(server);
    let answer = service_fn(|_req: Request<hyper::body::Incoming>| async {
        Ok::<_, Infallible>(Response::new(Empty::<Bytes>::new()))
    });
    let mut sender = match protocol {
        Protocol::Http1 => {
            tokio::spawn(
                hyper::server::conn::http1::Builder::new().serve_connection(server, answer),
            );
            let (sender, conn) = hyper::client::conn::http1::handshake(client)
                .await
                .context("HTTP/1.1 handshake")?;
            tokio::spawn(conn);
            Sender::Http1(sender)
        }
        Protocol::Http2 => {
            tokio::spawn(
                hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                    .serve_connection(server, answer),
            );
            let (sender, conn) =
                hyper::client::conn::http2::handshake(TokioExecutor::new(), client)
                    .await
                    .context("HTTP/2 handshake")?;
            tokio::spawn(conn);
            Sender::Http2(sender)
        }
    };
    let mut out = Vec::with_capacity(REQUESTS);
    let mut before = written.load(Ordering::Relaxed);
    for i in 0..REQUESTS {
        let mut req = Request::get("http://127.0.0.1:8080/me");
        if protocol == Protocol::Http1 {
            req = req.header(HOST, "127.0.0.1:8080");
        }
        if let Some((name, value)) = header(form, token(i))? {
            req = req.header(name, value);
        }
        let req = req.body(Empty::<Bytes>::new()).context("request")?;
        let res = match &mut sender {
            Sender::Http1(s) => s.send_request(req).await,
            Sender::Http2(s) => s.send_request(req).await,
        }
        .context("request on the measured connection")?;
        anyhow::ensure!(res.status().is_success(), "answer {}", res.status());
        res.into_body().collect().await.context("answer body")?;
        // Let the connection task flush what it owes (a SETTINGS acknowledgement) before the
        // count is read, so it is charged to this request rather than the next.
        for _ in 0..8 {
            tokio::task::yield_now().await;
        }
        let now = written.load(Ordering::Relaxed);
        out.push(now - before);
        before = now;
    }
    Ok(out)
}

enum Sender {
    Http1(hyper::client::conn::http1::SendRequest<Empty<Bytes>>),
    Http2(hyper::client::conn::http2::SendRequest<Empty<Bytes>>),
}

/// A stream that counts the bytes written through it.
struct Counting {
    inner: DuplexStream,
    written: Arc<AtomicU64>,
}

impl AsyncRead for Counting {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Counting {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = r {
            self.written.fetch_add(n as u64, Ordering::Relaxed);
        }
        r
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(len: usize, users: usize) -> Vec<String> {
        (0..users)
            .map(|u| format!("{u:04}{}", "x".repeat(len - 4)))
            .collect()
    }

    fn find(r: &WireResult, protocol: Protocol, form: Form) -> &WireRow {
        r.rows
            .iter()
            .find(|w| w.protocol == protocol && w.form == form && w.configuration != "-")
            .unwrap()
    }

    #[test]
    fn http1_pays_the_token_every_time_and_h2_huffman_codes_it_without_indexing() {
        let r = measure(&[("jwt".into(), tokens(400, 64))]).unwrap();
        let none1 = r
            .rows
            .iter()
            .find(|w| w.protocol == Protocol::Http1 && w.form == Form::None)
            .unwrap();
        let h1 = find(&r, Protocol::Http1, Form::Authorization);
        // "authorization: Bearer " + token + CRLF over the credential-less request.
        let extra = h1.same_credential_bytes - none1.same_credential_bytes;
        assert_eq!(
            extra as usize,
            "authorization: Bearer \r\n".len() + 400,
            "{h1:?}"
        );
        assert_eq!(h1.same_credential_bytes, h1.new_credential_bytes);

        // The h2 crate never indexes `authorization` (nor `cookie`) values: a repeat costs the
        // Huffman-coded literal, the same as a new user's credential.
        let h2 = find(&r, Protocol::Http2, Form::Authorization);
        assert!(
            (240..400).contains(&h2.same_credential_bytes),
            "a Huffman-coded literal of a 400-byte token: {h2:?}"
        );
        assert!(
            h2.same_credential_bytes.abs_diff(h2.new_credential_bytes) <= 2,
            "{h2:?}"
        );
        assert!(h2.first_request_bytes > h2.same_credential_bytes, "{h2:?}");
        let sensitive = find(&r, Protocol::Http2, Form::AuthorizationSensitive);
        assert!(
            sensitive
                .same_credential_bytes
                .abs_diff(h2.same_credential_bytes)
                <= 2,
            "{sensitive:?} vs {h2:?}"
        );
        let cookie = find(&r, Protocol::Http2, Form::Cookie);
        assert!(cookie.same_credential_bytes >= 240, "{cookie:?}");
    }
}
