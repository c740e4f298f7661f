//! Minting tokens: [`sign`] for well-formed ones, [`dangerous::sign_raw`] for crafting the
//! malformed ones tests and lessons need.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;

use crate::alg::AlgExt;
use crate::error::JwtError;
use crate::keys::SigningKey;

/// The protected header we write: `alg`, then `typ`, then `kid`, nothing else.
#[derive(Serialize)]
pub(crate) struct HeaderOut<'a> {
    pub(crate) alg: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) typ: Option<&'a str>,
    pub(crate) kid: &'a str,
}

/// Signs `claims` (a JSON object) with `key` as a compact JWS, header
/// `{"alg": key.alg(), "typ": typ, "kid": key.kid()}` (`typ` omitted when `None`).
///
/// The claims are signed as given: nothing is added (no `iat`, no `exp`): this is the
/// teaching tool behind `authbench token sign`; the backend adds its own claims.
pub fn sign(
    claims: &serde_json::Value,
    key: &SigningKey,
    typ: Option<&str>,
) -> Result<String, JwtError> {
    if !claims.is_object() {
        return Err(JwtError::ClaimsNotAnObject);
    }
    let header = serde_json::to_vec(&HeaderOut {
        alg: key.alg().as_str(),
        typ,
        kid: key.kid(),
    })
    .map_err(|e| JwtError::Signing(e.to_string()))?;
    let payload = serde_json::to_vec(claims).map_err(|e| JwtError::Signing(e.to_string()))?;
    dangerous::sign_raw(&header, &payload, key)
}

/// Signs `signing_input` (`base64url(header).base64url(payload)`) and appends the signature.
pub(crate) fn finish(mut signing_input: String, key: &SigningKey) -> Result<String, JwtError> {
    let signature = jsonwebtoken::crypto::sign(
        signing_input.as_bytes(),
        key.encoding_key(),
        key.alg().to_jsonwebtoken(),
    )
    .map_err(|e| JwtError::Signing(e.to_string()))?;
    signing_input.push('.');
    signing_input.push_str(&signature);
    Ok(signing_input)
}

/// Functions that produce tokens a verifier must *reject*: for tests and lessons only.
pub mod dangerous {
    use super::*;

    /// Signs exactly these header and payload bytes with `key`, whatever they contain:
    /// duplicate names, `crit`, `jku`, an `alg` that does not match the key, text that is not
    /// JSON. The signature covers the base64url text, so a verifier sees a correctly signed
    /// token and must reject it on its content alone.
    pub fn sign_raw(header: &[u8], payload: &[u8], key: &SigningKey) -> Result<String, JwtError> {
        let mut input = String::with_capacity((header.len() + payload.len()) * 4 / 3 + 8);
        URL_SAFE_NO_PAD.encode_string(header, &mut input);
        input.push('.');
        URL_SAFE_NO_PAD.encode_string(payload, &mut input);
        finish(input, key)
    }
}
