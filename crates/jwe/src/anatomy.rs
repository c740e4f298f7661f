//! A JWE taken apart, for `authbench token decode`: what anyone holding the token can see
//! (the header, the part sizes) and what they cannot (everything else).

use authbench_core::{Error, ErrorKind};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::jwe::{Parts, decode_header};

/// Whether `token` has the shape of a compact JWE (five parts) rather than a JWS (three).
pub fn looks_like_jwe(token: &str) -> bool {
    token.trim().bytes().filter(|&b| b == b'.').count() == 4
}

fn decoded_len(part: &str) -> Result<usize, Error> {
    URL_SAFE_NO_PAD
        .decode(part)
        .map(|v| v.len())
        .map_err(|_| Error::new(ErrorKind::Malformed, "a part is not canonical base64url"))
}

fn explain_alg(alg: &str) -> &'static str {
    match alg {
        "dir" => "direct: the shared key is the content-encryption key; no encrypted key",
        "RSA-OAEP-256" => {
            "a fresh content key, encrypted to the recipient's RSA public key (OAEP, SHA-256)"
        }
        "ECDH-ES+A256KW" => {
            "a fresh content key, wrapped (AES-KW) under a key agreed by ECDH with the ephemeral `epk`"
        }
        _ => "not an algorithm authbench accepts",
    }
}

/// Explains the five parts of `token` (at most `max_bytes` long). Decrypts nothing.
pub fn explain(token: &str, max_bytes: usize) -> Result<String, Error> {
    let token = token.trim();
    if token.len() > max_bytes {
        return Err(Error::new(
            ErrorKind::TooLarge,
            format!("token is {} bytes; the limit is {max_bytes}", token.len()),
        ));
    }
    let parts = Parts::split(token)?;
    let (json, header) = decode_header(parts.header)?;
    let pretty = serde_json::from_slice::<serde_json::Value>(&json)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| String::from_utf8_lossy(&json).into_owned());
    let mut out = String::new();
    out.push_str(&format!(
        "JWE (compact, RFC 7516): {} bytes in five parts\n\n",
        token.len()
    ));
    out.push_str(&format!(
        "1. protected header: {} chars, {} bytes of JSON (readable by anyone; authenticated as AAD)\n",
        parts.header.len(),
        json.len()
    ));
    for line in pretty.lines() {
        out.push_str("   ");
        out.push_str(line);
        out.push('\n');
    }
    if let Some(alg) = header.alg.as_deref() {
        out.push_str(&format!("   alg {alg}: {}\n", explain_alg(alg)));
    }
    if let Some(enc) = header.enc.as_deref() {
        let what = if enc == crate::ENC_A256GCM {
            "AES-256-GCM: encrypts the claims and authenticates header, IV and ciphertext"
        } else {
            "not a content encryption authbench accepts"
        };
        out.push_str(&format!("   enc {enc}: {what}\n"));
    }
    if header.zip {
        out.push_str("   zip: compressed; authbench refuses compressed tokens\n");
    }
    let rows = [
        (
            "2. encrypted key",
            parts.encrypted_key,
            "the content key, encrypted for the recipient (empty for dir)",
        ),
        ("3. IV", parts.iv, "random per token"),
        (
            "4. ciphertext",
            parts.ciphertext,
            "the claims, encrypted: as long as the plaintext",
        ),
        ("5. tag", parts.tag, "the GCM authentication tag"),
    ];
    for (name, part, what) in rows {
        out.push_str(&format!(
            "{name}: {} chars, {} bytes: {what}\n",
            part.len(),
            decoded_len(part)?
        ));
    }
    out.push_str(
        "\nThe payload cannot be read without the key: only the header above is visible.\n\
         Nothing was decrypted or verified (use `authbench token verify --jwe-alg … --jwe-key …`).\n",
    );
    Ok(out)
}
