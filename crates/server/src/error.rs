//! From an authentication error to an HTTP answer: the one place that knows status codes.

use authbench_core::{Error, ErrorClass, ErrorKind};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// An error answered over HTTP.
///
/// | class | status | headers |
/// |---|---|---|
/// | no credential | 401 | `WWW-Authenticate: Bearer` |
/// | credential rejected | 401 | `WWW-Authenticate: Bearer error="invalid_token", error_description="<kind>"` |
/// | store unavailable | 503 | `Retry-After: 1` — never a success (fail closed) |
/// | unsupported | 501 | |
/// | internal | 500 | |
/// | bad request (body, header shape) | 400 | |
/// | body over the limit | 413 | |
/// | forbidden (authenticated, lacks a role) | 403 | |
/// | wrong current password (`/password`) | 403 | |
/// | unknown user (admin routes) | 404 | |
///
/// The body is `{"error":"<kind>"}` with the stable kind name of [`ErrorKind::as_str`]; the
/// credential is never echoed.
#[derive(Debug)]
pub enum ApiError {
    /// An error from the backend.
    Auth(Error),
    /// Login refused: unknown user or wrong password (indistinguishable on purpose).
    BadLogin,
    /// The request itself is malformed (not the credential).
    BadRequest(&'static str),
    /// Authenticated but not allowed.
    Forbidden,
    /// Authenticated, but the current password given to `/password` is wrong (or the account
    /// is disabled: one answer for both). Not a 401: the credential itself is fine, and a 401
    /// would tell the client to throw it away.
    WrongPassword,
    /// The user named in an admin route does not exist.
    UnknownUser,
    /// The request body is over [`MAX_BODY_BYTES`](crate::MAX_BODY_BYTES).
    BodyTooLarge,
    /// The client's rejected credentials used up its budget
    /// ([`FailureLimiter`](crate::ratelimit::FailureLimiter)): 429, retry after this long.
    TooManyFailures(std::time::Duration),
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError::Auth(e)
    }
}

impl From<ErrorKind> for ApiError {
    fn from(kind: ErrorKind) -> Self {
        ApiError::Auth(kind.into())
    }
}

fn json_error(status: StatusCode, code: &str) -> Response {
    let body = format!("{{\"error\":\"{code}\"}}");
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::BadLogin => {
                let mut r = json_error(StatusCode::UNAUTHORIZED, "invalid_credentials");
                r.headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
                r
            }
            ApiError::BadRequest(what) => json_error(StatusCode::BAD_REQUEST, what),
            ApiError::Forbidden => json_error(StatusCode::FORBIDDEN, "forbidden"),
            ApiError::WrongPassword => {
                json_error(StatusCode::FORBIDDEN, "invalid_current_password")
            }
            ApiError::UnknownUser => json_error(StatusCode::NOT_FOUND, "unknown_user"),
            ApiError::BodyTooLarge => json_error(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large"),
            ApiError::TooManyFailures(wait) => {
                let mut r = json_error(StatusCode::TOO_MANY_REQUESTS, "too_many_failures");
                let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
                r.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(secs));
                r
            }
            ApiError::Auth(e) => {
                let kind = e.kind();
                match e.class() {
                    ErrorClass::Rejected => {
                        tracing::debug!(kind = kind.as_str(), "credential rejected");
                        let mut r = json_error(StatusCode::UNAUTHORIZED, kind.as_str());
                        // RFC 6750 §3: no error code when the request carried no credential.
                        let challenge = if kind == ErrorKind::Missing {
                            HeaderValue::from_static("Bearer")
                        } else {
                            HeaderValue::from_str(&format!(
                                "Bearer error=\"invalid_token\", error_description=\"{}\"",
                                kind.as_str()
                            ))
                            .unwrap_or_else(|_| HeaderValue::from_static("Bearer"))
                        };
                        r.headers_mut().insert(header::WWW_AUTHENTICATE, challenge);
                        r
                    }
                    ErrorClass::Unavailable => {
                        tracing::warn!(error = %e, "store unavailable: failing closed");
                        let mut r = json_error(StatusCode::SERVICE_UNAVAILABLE, kind.as_str());
                        r.headers_mut()
                            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
                        r
                    }
                    ErrorClass::Unsupported => {
                        json_error(StatusCode::NOT_IMPLEMENTED, kind.as_str())
                    }
                    ErrorClass::Internal => {
                        tracing::error!(error = %e, "internal error");
                        json_error(StatusCode::INTERNAL_SERVER_ERROR, kind.as_str())
                    }
                }
            }
        }
    }
}
