//! The anatomy of a JWT, part by part, for `authbench token decode`.
//!
//! Nothing here verifies anything: it shows what a token *says*, which is exactly what an
//! attacker can change. It is the lesson that a JWT is signed, not encrypted: anyone holding
//! it can read every claim.

use authbench_core::{Error, ErrorKind};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;

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
