//! `authbench token decode|verify|sign`: JWTs taken apart, checked offline, and minted.
//!
//! JWEs too (`authbench-jwe`): `decode` recognises the five parts and explains them without a
//! key; `verify --jwe-alg ALG --jwe-key FILE` decrypts and checks the claims by the same rules
//! (plus `--jwk`/`--alg` for a nested, signed-then-encrypted token); `sign --jwe-alg ALG`
//! encrypts the claims (or, with `--alg`, the signed JWT).

use anyhow::{Context, Result, bail};
use authbench_jwe::{DecryptOptions, Decrypter, HeaderFields, JweKey, KeyAlg};
use authbench_jwt::anatomy;
use authbench_jwt::{Alg, ClaimsValidator, SigningKey, Verifier, VerifierOptions};
use clap::{Args, Subcommand};
use serde_json::Value;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

/// Exit code of `token verify` when the token is rejected (0 = valid, 2 = usage or I/O error).
const EXIT_REJECTED: u8 = 1;

/// `authbench token …`
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Show the anatomy of a JWT: each part decoded, sizes, claims explained. Verifies nothing.
    Decode(DecodeArgs),
    /// Verify a JWT strictly: exit 0 and the claims as JSON on stdout when valid, 1 and the
    /// reason on stderr when rejected, 2 on a usage or I/O error.
    Verify(VerifyArgs),
    /// Sign claims into a JWT (teaching and tests).
    Sign(SignArgs),
}

/// Arguments of `token decode`.
#[derive(Debug, Args)]
pub struct DecodeArgs {
    /// The token, or `-` to read it from stdin.
    token: String,
    /// Print the anatomy as JSON instead of text.
    #[arg(long)]
    json: bool,
    /// Judge times against this instant (seconds since the Unix epoch) instead of now.
    #[arg(long, value_name = "UNIX")]
    now: Option<u64>,
}

/// Arguments of `token verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The verification key: a JWK or a JWK Set (JSON file). With `--jwe-alg`: the key of the
    /// nested (inner) JWS, whose presence makes the token a nested one (`cty: JWT`).
    #[arg(long, value_name = "FILE", required_unless_present = "jwe_alg")]
    jwk: Option<PathBuf>,
    /// Algorithms to accept, comma-separated (no default: RFC 8725 §3.1).
    #[arg(
        long,
        value_name = "ALG[,ALG…]",
        value_delimiter = ',',
        required_unless_present = "jwe_alg",
        requires = "jwk"
    )]
    alg: Vec<Alg>,
    /// The token is a JWE with this key management (`dir`, `RSA-OAEP-256`,
    /// `ECDH-ES+A256KW`; content always A256GCM): the only `alg` accepted.
    #[arg(long, value_name = "ALG", requires = "jwe_key")]
    jwe_alg: Option<KeyAlg>,
    /// The JWE decryption key: a JWK (`dir`: `oct`; ECDH: EC with `d`) or a PEM PKCS#8
    /// private key (RSA).
    #[arg(long, value_name = "FILE", requires = "jwe_alg")]
    jwe_key: Option<PathBuf>,
    /// Required issuer (`iss`).
    #[arg(long, value_name = "S")]
    iss: Option<String>,
    /// Our audience: `aud` must be it or contain it.
    #[arg(long, value_name = "S")]
    aud: Option<String>,
    /// Required header `typ`, e.g. `at+jwt`.
    #[arg(long, value_name = "S")]
    typ: Option<String>,
    /// Clock-skew tolerance in seconds.
    #[arg(long, value_name = "SECS", default_value_t = authbench_jwt::DEFAULT_LEEWAY_SECS)]
    leeway: u64,
    /// Judge times against this instant (seconds since the Unix epoch) instead of now.
    #[arg(long, value_name = "UNIX")]
    now: Option<u64>,
    /// Refuse tokens longer than this before decoding anything.
    #[arg(long, value_name = "N", default_value_t = authbench_jwt::DEFAULT_MAX_TOKEN_BYTES)]
    max_bytes: usize,
    /// The token, or `-` to read it from stdin.
    token: String,
}

/// Arguments of `token sign`.
#[derive(Debug, Args)]
pub struct SignArgs {
    /// Signing algorithm. With `--jwe-alg` too: sign, then encrypt (a nested token).
    #[arg(long, required_unless_present = "jwe_alg")]
    alg: Option<Alg>,
    /// Encrypt (JWE, A256GCM) with this key management: `dir`, `RSA-OAEP-256`,
    /// `ECDH-ES+A256KW`. Alone: the claims are encrypted directly.
    #[arg(long, value_name = "ALG")]
    jwe_alg: Option<KeyAlg>,
    /// The JWE encryption key (a public key suffices): JWK, or PEM for RSA. Without it a fresh
    /// key is generated.
    #[arg(long, value_name = "FILE", requires = "jwe_alg")]
    jwe_key: Option<PathBuf>,
    /// Write the JWE *decryption* key (secret or private key) to FILE, for
    /// `token verify --jwe-key FILE`.
    #[arg(long, value_name = "FILE", requires = "jwe_alg")]
    write_jwe_key: Option<PathBuf>,
    /// Private key: a JWK (`.json`/`.jwk`, or any file starting with `{`), a PEM private key,
    /// or for HS256 a file holding the raw secret. Without it a fresh key is generated.
    #[arg(long, value_name = "FILE")]
    key: Option<PathBuf>,
    /// Write the verification key as a JWK to FILE (the public key; for HS256 the secret
    /// itself, since that is what verifies), for `token verify --jwk FILE`.
    #[arg(long, value_name = "FILE")]
    write_jwk: Option<PathBuf>,
    /// Claims as a JSON object, or `@FILE` to read them from a file.
    #[arg(long, default_value = "{}")]
    claims: String,
    /// Header `typ`.
    #[arg(long, default_value = "JWT")]
    typ: String,
    /// Header `kid` (defaults to the key's RFC 7638 thumbprint).
    #[arg(long)]
    kid: Option<String>,
    /// Set `iat` (and `nbf`) to now, and `exp` to now + SECS.
    #[arg(long, value_name = "SECS")]
    expires_in: Option<u64>,
}

fn load_jwe_key(alg: KeyAlg, path: &Path) -> Result<JweKey> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    JweKey::from_text(alg, &text)
        .with_context(|| format!("loading the {alg} key in {}", path.display()))
}

/// Runs a token subcommand; returns the process exit code.
pub fn run(cmd: TokenCommand) -> Result<ExitCode> {
    match cmd {
        TokenCommand::Decode(args) => decode(args),
        TokenCommand::Verify(args) => verify(args),
        TokenCommand::Sign(args) => sign(args),
    }
}

/// The token argument, or stdin for `-`, without surrounding whitespace.
fn read_token(arg: &str) -> Result<String> {
    if arg == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("reading the token from stdin")?;
        Ok(s.trim().to_owned())
    } else {
        Ok(arg.trim().to_owned())
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn verify(args: VerifyArgs) -> Result<ExitCode> {
    let mut options = VerifierOptions::new(args.alg);
    options.issuer = args.iss;
    options.audience = args.aud;
    options.token_type = args.typ;
    options.leeway_secs = args.leeway;
    options.max_token_bytes = args.max_bytes;
    options.now = args.now;
    let verifier = match &args.jwk {
        Some(path) => {
            let jwk = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            Some(
                Verifier::from_jwk_json(&jwk, options.clone())
                    .with_context(|| format!("loading the key in {}", path.display()))?,
            )
        }
        None => None,
    };
    let token = read_token(&args.token)?;
    let result = match (&args.jwe_alg, &args.jwe_key, &verifier) {
        (Some(alg), Some(path), _) => {
            let nested = verifier.is_some();
            let decrypter = Decrypter::new(
                load_jwe_key(*alg, path)?,
                DecryptOptions {
                    max_token_bytes: options.max_token_bytes,
                    // Nested: `typ` belongs to the inner JWS; the JWE says `cty: JWT`.
                    token_type: if nested {
                        None
                    } else {
                        options.token_type.clone()
                    },
                    content_type: nested.then(|| authbench_jwe::NESTED_CONTENT_TYPE.to_owned()),
                },
            )
            .with_context(|| format!("using the key in {}", path.display()))?;
            decrypter
                .decrypt(&token)
                .and_then(|plaintext| match &verifier {
                    Some(v) => match std::str::from_utf8(&plaintext) {
                        Ok(jws) => v.verify(jws),
                        Err(_) => Err(authbench_core::Error::new(
                            authbench_core::ErrorKind::Malformed,
                            "nested token is not text",
                        )),
                    },
                    None => ClaimsValidator::new(&options).validate(&plaintext),
                })
        }
        (_, _, Some(v)) => v.verify(&token),
        _ => bail!("give --jwk and --alg, or --jwe-alg and --jwe-key"),
    };
    match result {
        Ok(claims) => {
            println!("{}", serde_json::to_string_pretty(&claims)?);
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("rejected: {e}");
            Ok(ExitCode::from(EXIT_REJECTED))
        }
    }
}

fn load_signing_key(alg: Alg, path: &Path) -> Result<SigningKey> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let looks_like_jwk = matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("json" | "jwk")
    ) || bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    let key = if looks_like_jwk {
        let text = String::from_utf8(bytes).context("the JWK file is not UTF-8")?;
        SigningKey::from_jwk_json(alg, &text)
    } else {
        SigningKey::from_pem(alg, &bytes)
    };
    key.with_context(|| format!("loading the {alg} key in {}", path.display()))
}

fn sign(args: SignArgs) -> Result<ExitCode> {
    let text = match args.claims.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?,
        None => args.claims.clone(),
    };
    let mut claims: Value = serde_json::from_str(&text).context("the claims are not JSON")?;
    let Some(map) = claims.as_object_mut() else {
        bail!("the claims must be a JSON object");
    };
    if let Some(secs) = args.expires_in {
        let now = unix_now();
        map.insert("iat".into(), now.into());
        map.insert("nbf".into(), now.into());
        map.insert("exp".into(), (now + secs).into());
    }
    let token = match args.alg {
        Some(alg) => Some(sign_jws(&args, alg, &claims)?),
        None => None,
    };
    let token = match args.jwe_alg {
        Some(jwe_alg) => encrypt_jwe(&args, jwe_alg, token.as_deref(), &claims)?,
        None => token.context("--alg or --jwe-alg is required")?,
    };
    println!("{token}");
    Ok(ExitCode::SUCCESS)
}

/// Encrypts the signed `jws` (nested, `cty: JWT`) or else the claims (`typ` from `--typ`).
fn encrypt_jwe(args: &SignArgs, alg: KeyAlg, jws: Option<&str>, claims: &Value) -> Result<String> {
    let key = match &args.jwe_key {
        Some(path) => load_jwe_key(alg, path)?,
        None => JweKey::generate(alg).context("generating a JWE key")?,
    };
    if let Some(path) = &args.write_jwe_key {
        if !key.can_decrypt() {
            bail!("--write-jwe-key needs the private key, not a public one");
        }
        let text = key.to_text(false).context("exporting the JWE key")?;
        std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))?;
    }
    let claims_bytes;
    let (plaintext, fields) = match jws {
        Some(jws) => (
            jws.as_bytes(),
            HeaderFields {
                typ: None,
                cty: Some(authbench_jwe::NESTED_CONTENT_TYPE),
            },
        ),
        None => {
            claims_bytes = serde_json::to_vec(claims)?;
            (
                claims_bytes.as_slice(),
                HeaderFields {
                    typ: Some(&args.typ),
                    cty: None,
                },
            )
        }
    };
    authbench_jwe::encrypt(&key, plaintext, fields).context("encrypting")
}

fn sign_jws(args: &SignArgs, alg: Alg, claims: &Value) -> Result<String> {
    let mut key = match &args.key {
        Some(path) => load_signing_key(alg, path)?,
        None => SigningKey::generate(alg).context("generating a key")?,
    };
    if let Some(kid) = &args.kid {
        key = key.with_kid(kid.clone());
    }
    let token = authbench_jwt::sign(claims, &key, Some(&args.typ)).context("signing")?;
    if let Some(path) = &args.write_jwk {
        let jwk = match key.public_jwk() {
            Some(public) => public,
            None => key
                .private_jwk()
                .context("exporting the HMAC secret as a JWK")?,
        };
        std::fs::write(path, serde_json::to_string_pretty(&jwk)? + "\n")
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(token)
}

fn decode(args: DecodeArgs) -> Result<ExitCode> {
    let token = read_token(&args.token)?;
    if authbench_jwe::anatomy::looks_like_jwe(&token) {
        return decode_jwe(&token, args.json);
    }
    let anatomy = match anatomy::inspect(&token) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("not a compact JWS: {e}");
            return Ok(ExitCode::from(EXIT_REJECTED));
        }
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&anatomy)?);
    } else {
        print!(
            "{}",
            anatomy::explain(&anatomy, args.now.unwrap_or_else(unix_now))
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `token decode` of a five-part token: the header and part sizes; nothing decrypted.
fn decode_jwe(token: &str, json: bool) -> Result<ExitCode> {
    let max = authbench_jwt::DEFAULT_MAX_TOKEN_BYTES;
    let text = match authbench_jwe::anatomy::explain(token, max) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("not a compact JWE: {e}");
            return Ok(ExitCode::from(EXIT_REJECTED));
        }
    };
    if json {
        let parts = authbench_jwe::Parts::split(token)?;
        let header = base64::Engine::decode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            parts.header,
        )?;
        let header: Value = serde_json::from_slice(&header)?;
        let bytes = |p: &str| (p.len() * 3) / 4;
        let out = serde_json::json!({
            "kind": "JWE",
            "bytes": token.len(),
            "header": header,
            "encrypted_key_bytes": bytes(parts.encrypted_key),
            "iv_bytes": bytes(parts.iv),
            "ciphertext_bytes": bytes(parts.ciphertext),
            "tag_bytes": bytes(parts.tag),
            "payload": "encrypted: cannot be read without the key",
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        print!("{text}");
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describe_explains_parts_and_times() {
        // RFC 7515 A.1.
        let token = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let a = anatomy::inspect(token).expect("inspect");
        let text = anatomy::explain(&a, 1_300_819_000);
        assert!(text.contains("HMAC with SHA-256"), "{text}");
        assert!(text.contains("2011-03-22T18:43:00Z (in 6m 20s)"), "{text}");
        assert!(text.contains("32 bytes of HS256"), "{text}");
        assert!(text.contains("http://example.com/is_root"), "{text}");
    }
}
