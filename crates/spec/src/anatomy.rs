//! The anatomy of a JWT, part by part, for `authbench token decode`.
//!
//! Nothing here verifies anything: it shows what a token *says*, which is exactly what an
//! attacker can change. It is the lesson that a JWT is signed, not encrypted: anyone holding
//! it can read every claim.
//!
//! No cryptography here (base64 and JSON only), so `authbench report` can put a token's
//! anatomy in the book without linking a JWT library; `authbench_jwt::anatomy` re-exports this
//! module, with [`inspect`]'s error as the backends' `authbench_core::Error`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde_json::Value;
use std::fmt;
use std::time::{Duration, UNIX_EPOCH};

/// Why [`inspect`] could not take a token apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Not three base64url segments, or the header is not a JSON object.
    Malformed,
    /// Longer than [`MAX_INSPECT_BYTES`].
    TooLarge,
}

impl ErrorKind {
    /// The kind's name, as `authbench_core::ErrorKind` spells the same kind.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Malformed => "malformed",
            Self::TooLarge => "too_large",
        }
    }
}

/// The error of [`inspect`]: a [`kind`](Self::kind) and a one-line detail. Displayed as
/// `kind: detail`, exactly as `authbench_core::Error` displays the same kind and detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    detail: String,
}

impl Error {
    fn new(kind: ErrorKind, detail: impl Into<String>) -> Self {
        Self {
            kind,
            detail: detail.into(),
        }
    }

    /// What went wrong.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The detail, e.g. `"header is not a JSON object"`.
    pub fn detail(&self) -> &str {
        &self.detail
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.as_str(), self.detail)
    }
}

impl std::error::Error for Error {}

/// Largest token [`inspect`] looks at. Far above the verifier's 8 KiB cap, so an oversized
/// token can still be taken apart to see *why* it is large, yet bounded: this is an offline
/// tool, but it still reads untrusted input.
pub const MAX_INSPECT_BYTES: usize = 1024 * 1024;

/// One base64url segment of a compact JWS.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Part {
    /// The segment as it appears in the token.
    pub raw: String,
    /// Its length in characters (bytes on the wire).
    pub encoded_len: usize,
    /// The length of the decoded bytes.
    pub decoded_len: usize,
    /// The decoded bytes as JSON, if they are JSON (a JWS payload need not be).
    pub json: Option<serde_json::Value>,
    /// The decoded bytes as text, if they are UTF-8 but not JSON (e.g. RFC 8037's example
    /// payload "Example of Ed25519 signing").
    pub text: Option<String>,
}

/// The signature segment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignaturePart {
    /// The segment as it appears in the token.
    pub raw: String,
    /// Its length in characters.
    pub encoded_len: usize,
    /// The signature's length in bytes (32 for HS256, 64 for ES256 and EdDSA, 96 for ES384,
    /// 256 for RS256/PS256 with a 2048-bit key).
    pub decoded_len: usize,
}

/// A token taken apart.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Anatomy {
    /// Total length in bytes.
    pub total_len: usize,
    /// The protected header (always a JSON object, or `inspect` fails).
    pub header: Part,
    /// The payload (claims).
    pub payload: Part,
    /// The signature.
    pub signature: SignaturePart,
}

fn part(raw: &str, what: &str) -> Result<Part, Error> {
    let decoded = URL_SAFE_NO_PAD.decode(raw).map_err(|_| {
        Error::new(
            ErrorKind::Malformed,
            format!("{what} is not canonical base64url"),
        )
    })?;
    let json = serde_json::from_slice(&decoded).ok();
    let text = match &json {
        Some(_) => None,
        None => String::from_utf8(decoded.clone()).ok(),
    };
    Ok(Part {
        raw: raw.to_owned(),
        encoded_len: raw.len(),
        decoded_len: decoded.len(),
        json,
        text,
    })
}

/// Splits a compact JWS into its parts and decodes them, without verifying anything.
///
/// Fails with [`ErrorKind::TooLarge`] above [`MAX_INSPECT_BYTES`], and [`ErrorKind::Malformed`]
/// when the token does not have three base64url segments or the header is not a JSON object.
pub fn inspect(token: &str) -> Result<Anatomy, Error> {
    if token.len() > MAX_INSPECT_BYTES {
        return Err(Error::new(
            ErrorKind::TooLarge,
            "token too large to inspect",
        ));
    }
    let mut segments = token.split('.');
    let (Some(h), Some(p), Some(s), None) = (
        segments.next(),
        segments.next(),
        segments.next(),
        segments.next(),
    ) else {
        return Err(Error::new(
            ErrorKind::Malformed,
            "a compact JWS has exactly three segments",
        ));
    };
    let header = part(h, "header")?;
    if !header.json.as_ref().is_some_and(|j| j.is_object()) {
        return Err(Error::new(
            ErrorKind::Malformed,
            "header is not a JSON object",
        ));
    }
    let payload = part(p, "payload")?;
    let signature = URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|_| Error::new(ErrorKind::Malformed, "signature is not canonical base64url"))?;
    Ok(Anatomy {
        total_len: token.len(),
        header,
        payload,
        signature: SignaturePart {
            raw: s.to_owned(),
            encoded_len: s.len(),
            decoded_len: signature.len(),
        },
    })
}

/// What an algorithm name means, in one line.
fn explain_alg(alg: &str) -> &'static str {
    match alg {
        "HS256" => "HMAC with SHA-256: one shared secret both signs and verifies",
        "HS384" | "HS512" => "HMAC: one shared secret both signs and verifies",
        "RS256" => {
            "RSA PKCS#1 v1.5 with SHA-256: signed with a private key, verified with the public key"
        }
        "PS256" | "PS384" | "PS512" => {
            "RSA-PSS: signed with a private key, verified with the public key"
        }
        "ES256" => {
            "ECDSA on P-256 with SHA-256: signed with a private key, verified with the public key"
        }
        "ES384" => {
            "ECDSA on P-384 with SHA-384: signed with a private key, verified with the public key"
        }
        "ES512" => "ECDSA on P-521 with SHA-512 (not accepted by authbench)",
        "EdDSA" => "Ed25519: signed with a private key, verified with the public key",
        "none" | "None" | "NONE" => "NO SIGNATURE: an unsecured JWT; a verifier must reject it",
        _ => "unknown algorithm",
    }
}

/// What a claim or header name means, in a few words.
fn explain_name(name: &str) -> &'static str {
    match name {
        "alg" => "algorithm",
        "typ" => "token type",
        "kid" => "key ID: which of the issuer's keys signed it",
        "cty" => "content type",
        "crit" => "critical extensions the verifier must understand",
        "jku" | "x5u" => "key URL: never fetched by a strict verifier",
        "jwk" => "embedded key: never trusted by a strict verifier",
        "iss" => "issuer: who made the token",
        "sub" => "subject: whom it is about",
        "aud" => "audience: who must accept it",
        "exp" => "expires at",
        "nbf" => "not valid before",
        "iat" => "issued at",
        "jti" => "JWT ID: unique per token (the handle a deny-list uses)",
        "tenant" => "custom claim: the user's tenant",
        "roles" => "custom claim: the user's roles, frozen at issue time",
        _ => "",
    }
}

/// Last second RFC 3339 can write (9999-12-31T23:59:59Z). A token may claim any `u64`; past
/// this, formatting the date would panic (found by fuzzing), so the number is shown as is.
const LAST_RFC3339_SECOND: u64 = 253_402_300_799;

fn human_time(t: u64, now: u64) -> String {
    if t > LAST_RFC3339_SECOND || now > LAST_RFC3339_SECOND {
        return "after the year 9999".to_owned();
    }
    let stamp = humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(t));
    let relative = if t >= now {
        format!(
            "in {}",
            humantime::format_duration(Duration::from_secs(t - now))
        )
    } else {
        format!(
            "{} ago",
            humantime::format_duration(Duration::from_secs(now - t))
        )
    };
    format!("{stamp} ({relative})")
}

fn field_lines(out: &mut String, object: &serde_json::Map<String, Value>, now: u64) {
    let width = object.keys().map(String::len).max().unwrap_or(0);
    let shown_of = |value: &Value| match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    // Align the notes, unless one value is so long that alignment would push them off screen.
    let value_width = object
        .values()
        .map(|v| shown_of(v).len())
        .filter(|&len| len <= 44)
        .max()
        .unwrap_or(0);
    for (name, value) in object {
        let shown = shown_of(value);
        let mut note = explain_name(name).to_owned();
        if matches!(name.as_str(), "exp" | "nbf" | "iat")
            && let Some(t) = value.as_u64()
        {
            note = format!("{note}: {}", human_time(t, now));
        }
        if name == "alg"
            && let Some(a) = value.as_str()
        {
            note = explain_alg(a).to_owned();
        }
        if note.is_empty() {
            out.push_str(&format!("  {name:<width$}  {shown}\n"));
        } else {
            out.push_str(&format!(
                "  {name:<width$}  {shown:<value_width$}  ({note})\n"
            ));
        }
    }
}

/// The anatomy in words, as `authbench token decode` prints it and the book shows it: each
/// part decoded, sizes, registered claims explained, times in human form relative to `now`
/// (seconds since the Unix epoch).
pub fn explain(a: &Anatomy, now: u64) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "JWT of {} bytes = header {} + '.' + payload {} + '.' + signature {} characters\n\n",
        a.total_len, a.header.encoded_len, a.payload.encoded_len, a.signature.encoded_len
    ));
    out.push_str(&format!(
        "HEADER    {} base64url characters -> {} bytes of JSON\n",
        a.header.encoded_len, a.header.decoded_len
    ));
    if let Some(Value::Object(h)) = &a.header.json {
        field_lines(&mut out, h, now);
    }
    out.push_str(&format!(
        "\nPAYLOAD   {} base64url characters -> {} bytes; readable by anyone who holds the \
         token (signed, not encrypted)\n",
        a.payload.encoded_len, a.payload.decoded_len
    ));
    match (&a.payload.json, &a.payload.text) {
        (Some(Value::Object(p)), _) => field_lines(&mut out, p, now),
        (Some(other), _) => out.push_str(&format!("  {other}\n")),
        (None, Some(text)) => out.push_str(&format!("  (not JSON) {text:?}\n")),
        (None, None) => out.push_str("  (binary, not UTF-8)\n"),
    }
    let alg = a
        .header
        .json
        .as_ref()
        .and_then(|h| h.get("alg"))
        .and_then(Value::as_str)
        .unwrap_or("?");
    out.push_str(&format!(
        "\nSIGNATURE {} base64url characters -> {} bytes of {alg} over \
         ASCII(base64url(header) + '.' + base64url(payload))\n",
        a.signature.encoded_len, a.signature.decoded_len
    ));
    out.push_str("  not checked by decode: use `authbench token verify`\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_read_as_the_backends_errors_do() {
        let cases = [
            ("", "malformed: a compact JWS has exactly three segments"),
            (
                "a.b.c.d",
                "malformed: a compact JWS has exactly three segments",
            ),
            (
                "e30.e30.=",
                "malformed: signature is not canonical base64url",
            ),
            ("WyJ4Il0.e30.AA", "malformed: header is not a JSON object"),
            ("@.e30.AA", "malformed: header is not canonical base64url"),
            ("e30.@@.AA", "malformed: payload is not canonical base64url"),
        ];
        for (token, shown) in cases {
            let e = inspect(token).expect_err(token);
            assert_eq!(e.kind(), ErrorKind::Malformed, "{token}");
            assert_eq!(e.to_string(), shown, "{token}");
        }
        let e = inspect(&"a".repeat(MAX_INSPECT_BYTES + 1)).expect_err("too large");
        assert_eq!(e.kind(), ErrorKind::TooLarge);
        assert_eq!(e.to_string(), "too_large: token too large to inspect");
    }

    #[test]
    fn a_text_payload_is_shown_as_text() {
        // RFC 8037, appendix A.4.
        let a = inspect(
            "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg",
        )
        .expect("inspect");
        assert_eq!(a.signature.decoded_len, 64);
        assert_eq!(
            a.payload.text.as_deref(),
            Some("Example of Ed25519 signing")
        );
        assert!(explain(&a, 0).contains("(not JSON) \"Example of Ed25519 signing\""));
    }
}
