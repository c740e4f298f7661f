//! Finding and verifying the credential of a request.
//!
//! A credential arrives either as `Authorization: Bearer <token>` (APIs, the load generator) or
//! in the [`COOKIE_NAME`] cookie (browsers). The header wins when both are
//! present. Anything ambiguous is rejected rather than guessed at: two `Authorization` headers,
//! two of our cookies, a scheme other than Bearer, bytes that are not visible ASCII.

use crate::{AppState, COOKIE_NAME, error::ApiError};
use authbench_core::{Authenticator, ErrorKind, Principal};
use axum::extract::FromRequestParts;
use axum::http::{HeaderMap, header, request::Parts};

/// Finds the presented credential in `headers`, without verifying it.
///
/// Errors: [`ErrorKind::Missing`] when there is none, [`ErrorKind::Malformed`] when the
/// headers are ambiguous or not shaped as RFC 6750 says.
pub fn credential(headers: &HeaderMap) -> Result<&str, ErrorKind> {
    let mut auth = headers.get_all(header::AUTHORIZATION).iter();
    if let Some(value) = auth.next() {
        if auth.next().is_some() {
            return Err(ErrorKind::Malformed);
        }
        return bearer_token(value.as_bytes()).ok_or(ErrorKind::Malformed);
    }
    let mut found = None;
    for value in headers.get_all(header::COOKIE) {
        let value = value.to_str().map_err(|_| ErrorKind::Malformed)?;
        for pair in value.split(';') {
            let Some((name, token)) = pair.trim().split_once('=') else {
                continue;
            };
            if name == COOKIE_NAME {
                if found.is_some() {
                    return Err(ErrorKind::Malformed);
                }
                found = Some(token);
            }
        }
    }
    match found {
        Some("") => Err(ErrorKind::Missing),
        Some(token) => Ok(token),
        None => Err(ErrorKind::Missing),
    }
}

/// The token of an `Authorization` value, if it is `Bearer <b64token>` (RFC 6750 §2.1).
///
/// The scheme is case-insensitive (RFC 9110 §11.1) and separated by one or more spaces; the
/// token must be non-empty and use only the b64token alphabet, so stray whitespace, quotes,
/// or a second token are rejected here rather than handed to a backend.
fn bearer_token(value: &[u8]) -> Option<&str> {
    // Bytes, not `HeaderValue::to_str`: the alphabet check below admits ASCII only, so a
    // separate UTF-8/visible-ASCII pass over a token of several hundred bytes would be a
    // second scan for nothing.
    let space = value.iter().position(|&b| b == b' ')?;
    let (scheme, rest) = (&value[..space], &value[space + 1..]);
    if !scheme.eq_ignore_ascii_case(b"bearer") {
        return None;
    }
    let start = rest.iter().position(|&b| b != b' ').unwrap_or(rest.len());
    let token = &rest[start..];
    let end = token.iter().rposition(|&b| b != b'=').map_or(0, |i| i + 1);
    let body = &token[..end];
    let valid = !body.is_empty() && body.iter().all(|&b| B64TOKEN[usize::from(b)]);
    if !valid {
        return None;
    }
    // Every byte is in the alphabet or `=`: ASCII, so this cannot fail.
    std::str::from_utf8(token).ok()
}

/// The b64token alphabet of RFC 6750 §2.1 (`ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" /
/// "/"`, `=` only as trailing padding), as a table: every request checks a token of several
/// hundred bytes, and one load per byte is a third of the cost of the chain of comparisons.
static B64TOKEN: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~' | b'+' | b'/');
        b += 1;
    }
    t
};

/// An extractor that verifies the request's credential with the app's backend.
///
/// A handler that takes `Authenticated` runs only for verified requests; everyone else gets the
/// [`ApiError`] mapping: 401 for a missing or rejected credential, 503 when the backend could
/// not check it.
#[derive(Debug, Clone)]
pub struct Authenticated(pub Principal);

impl<A: Authenticator> FromRequestParts<AppState<A>> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState<A>,
    ) -> Result<Self, Self::Rejection> {
        let token = credential(&parts.headers)?;
        let ip = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|axum::extract::ConnectInfo(addr)| addr.ip());
        Ok(Authenticated(verify_limited(state, ip, token).await?))
    }
}

/// `verify`, behind the client's rejected-credential budget: a client whose credentials keep
/// being rejected is refused (429) before the backend and its store are asked, and each
/// rejection spends one token (see [`FailureLimiter`](crate::ratelimit::FailureLimiter)).
pub(crate) async fn verify_limited<A: Authenticator>(
    state: &AppState<A>,
    ip: Option<std::net::IpAddr>,
    token: &str,
) -> Result<Principal, ApiError> {
    if let Err(wait) = state.verify_failures.admit(ip) {
        return Err(ApiError::TooManyFailures(wait));
    }
    match state.auth.verify(token).await {
        Ok(principal) => Ok(principal),
        Err(e) => {
            if e.class() == authbench_core::ErrorClass::Rejected {
                state.verify_failures.failed(ip);
            }
            Err(e.into())
        }
    }
}

/// The role the admin routes require.
pub const ADMIN_ROLE: &str = "admin";

/// An extractor for the admin routes: a verified credential that says `admin`, held by an
/// account that is *still* an enabled admin in the user table.
///
/// Why both: `/me` and every ordinary route believe the credential (that is the design being
/// measured, and for a plain JWT it means a role removed an hour ago is still in the token).
/// The admin routes are rare and dangerous, so they pay for one lookup in the user table and
/// refuse a demoted or disabled admin at once, whatever their credential still says. The
/// lookup costs a read lock and a clone, off the hot path.
///
/// Rejections: 401 (as [`Authenticated`]) without a valid credential, 403 otherwise.
#[derive(Debug, Clone)]
pub struct Admin(pub Principal);

impl<A: Authenticator> FromRequestParts<AppState<A>> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState<A>,
    ) -> Result<Self, Self::Rejection> {
        let Authenticated(principal) = Authenticated::from_request_parts(parts, state).await?;
        let still_admin = state.users.get(&principal.subject).is_some_and(|user| {
            !user.is_disabled() && user.identity.roles.iter().any(|r| r == ADMIN_ROLE)
        });
        if principal.has_role(ADMIN_ROLE) && still_admin {
            Ok(Admin(principal))
        } else {
            Err(ApiError::Forbidden)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&str, &[u8])]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                header::HeaderName::from_bytes(k.as_bytes()).expect("name"),
                HeaderValue::from_bytes(v).expect("value"),
            );
        }
        h
    }

    #[test]
    fn bearer_in_any_case_with_spaces() {
        for v in ["Bearer abc.def", "bearer abc.def", "BEARER   abc.def"] {
            assert_eq!(
                credential(&headers(&[("authorization", v.as_bytes())])),
                Ok("abc.def")
            );
        }
    }

    #[test]
    fn ambiguous_or_odd_headers_are_malformed() {
        let cases: &[&[(&str, &[u8])]] = &[
            &[
                ("authorization", b"Bearer a"),
                ("authorization", b"Bearer b"),
            ],
            &[("authorization", b"Basic YWxpY2U6cHc=")],
            &[("authorization", b"Bearer")],
            &[("authorization", b"Bearer ")],
            &[("authorization", b"Bearer a b")],
            &[("authorization", b"Bearer \"a\"")],
            &[("authorization", b"Bearer\ta")],
            &[("authorization", b"Bearer \xff\xfe")],
            &[("cookie", b"__Host-authbench=a; __Host-authbench=b")],
            &[("cookie", b"x=\xff")],
        ];
        for case in cases {
            assert_eq!(
                credential(&headers(case)),
                Err(ErrorKind::Malformed),
                "{case:?}"
            );
        }
    }

    #[test]
    fn cookie_is_found_among_others_and_header_wins() {
        let h = headers(&[("cookie", b"theme=dark; __Host-authbench=tok123; lang=ja")]);
        assert_eq!(credential(&h), Ok("tok123"));
        let h = headers(&[
            ("cookie", b"__Host-authbench=fromcookie"),
            ("authorization", b"Bearer fromheader"),
        ]);
        assert_eq!(credential(&h), Ok("fromheader"));
    }

    #[test]
    fn nothing_or_lookalikes_are_missing() {
        assert_eq!(credential(&HeaderMap::new()), Err(ErrorKind::Missing));
        let h = headers(&[(
            "cookie",
            b"authbench=x; __Host-authbenchX=y; __Host-authbench=",
        )]);
        assert_eq!(credential(&h), Err(ErrorKind::Missing));
    }
}
