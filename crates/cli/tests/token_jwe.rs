//! `authbench token …` on JWEs, as a user runs it: sign → decode → verify in every mode,
//! nested tokens, exit codes 0 / 1 / 2.

use std::path::Path;
use std::process::{Command, Output};

fn authbench() -> Command {
    Command::new(env!("CARGO_BIN_EXE_authbench"))
}

fn run(args: &[&str]) -> Output {
    authbench().args(args).output().expect("run authbench")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const CLAIMS: &str =
    r#"{"sub":"alice","iss":"authbench","aud":"authbench-api","secret_note":"hidden-42"}"#;

fn sign(alg: &str, key_out: &Path, extra: &[&str]) -> String {
    let key = key_out.to_str().expect("utf-8 path");
    let mut args = vec![
        "token",
        "sign",
        "--jwe-alg",
        alg,
        "--write-jwe-key",
        key,
        "--claims",
        CLAIMS,
        "--expires-in",
        "600",
        "--typ",
        "at+jwt",
    ];
    args.extend_from_slice(extra);
    let o = run(&args);
    assert!(o.status.success(), "{alg}: {}", stderr(&o));
    stdout(&o).trim().to_owned()
}

#[test]
fn sign_decode_verify_in_every_mode() {
    let dir = tempfile::tempdir().expect("tempdir");
    for alg in ["dir", "RSA-OAEP-256", "ECDH-ES+A256KW"] {
        let key = dir.path().join(format!("{alg}.key"));
        let token = sign(alg, &key, &[]);
        assert_eq!(token.split('.').count(), 5, "{alg}");
        let key = key.to_str().expect("utf-8");

        // decode: the five parts, the header, and no claims.
        let o = run(&["token", "decode", &token]);
        assert!(o.status.success(), "{alg}: {}", stderr(&o));
        let text = stdout(&o);
        for needle in [
            "five parts",
            "protected header",
            "encrypted key",
            "IV: 16 chars, 12 bytes",
            "ciphertext",
            "tag: 22 chars, 16 bytes",
            "cannot be read without the key",
            alg,
        ] {
            assert!(text.contains(needle), "{alg}: {needle}: {text}");
        }
        assert!(
            !text.contains("hidden-42") && !text.contains("alice"),
            "{alg}: {text}"
        );
        let o = run(&["token", "decode", "--json", &token]);
        let json: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
        assert_eq!(json["kind"], "JWE");
        assert_eq!(json["header"]["alg"], alg);
        assert_eq!(json["iv_bytes"], 12);

        // verify: 0 and the claims; 1 for a wrong issuer, a tampered tag, another alg.
        let ok = [
            "token",
            "verify",
            "--jwe-alg",
            alg,
            "--jwe-key",
            key,
            "--iss",
            "authbench",
            "--aud",
            "authbench-api",
            "--typ",
            "at+jwt",
        ];
        let o = run(&[&ok[..], &[token.as_str()]].concat());
        assert!(o.status.success(), "{alg}: {}", stderr(&o));
        let claims: serde_json::Value = serde_json::from_slice(&o.stdout).expect("claims JSON");
        assert_eq!(claims["secret_note"], "hidden-42");

        let o = run(&[
            "token",
            "verify",
            "--jwe-alg",
            alg,
            "--jwe-key",
            key,
            "--iss",
            "other",
            &token,
        ]);
        assert_eq!(o.status.code(), Some(1), "{alg}");
        assert!(stderr(&o).contains("wrong_issuer"), "{alg}: {}", stderr(&o));

        let mut tampered = token.clone();
        let last = tampered.pop().expect("char");
        tampered.push(if last == 'A' { 'Q' } else { 'A' });
        let o = run(&[&ok[..], &[tampered.as_str()]].concat());
        assert_eq!(o.status.code(), Some(1), "{alg}: tampered");
        assert!(
            !stderr(&o).contains(&tampered),
            "{alg}: the token is never echoed"
        );

        let other = if alg == "dir" {
            "ECDH-ES+A256KW"
        } else {
            "dir"
        };
        let other_key = dir.path().join("other.key");
        let foreign = sign(other, &other_key, &[]);
        let o = run(&[&ok[..], &[foreign.as_str()]].concat());
        assert_eq!(o.status.code(), Some(1), "{alg}: {other} token");
        assert!(
            stderr(&o).contains("algorithm_not_allowed"),
            "{alg}: {}",
            stderr(&o)
        );
    }
}

#[test]
fn nested_tokens_and_usage_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = dir.path().join("dir.key");
    let jwk = dir.path().join("es256.jwk");
    let token = sign(
        "dir",
        &key,
        &[
            "--alg",
            "ES256",
            "--write-jwk",
            jwk.to_str().expect("utf-8"),
        ],
    );
    let (key, jwk) = (key.to_str().expect("utf-8"), jwk.to_str().expect("utf-8"));
    let o = run(&[
        "token",
        "verify",
        "--jwe-alg",
        "dir",
        "--jwe-key",
        key,
        "--jwk",
        jwk,
        "--alg",
        "ES256",
        "--typ",
        "at+jwt",
        &token,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&o.stdout).expect("JSON")["sub"],
        "alice"
    );
    // Without the inner key, a nested token is refused (`cty: JWT` not expected).
    let o = run(&[
        "token",
        "verify",
        "--jwe-alg",
        "dir",
        "--jwe-key",
        key,
        &token,
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    // Usage errors: 2.
    assert_eq!(
        run(&["token", "verify", "--jwe-alg", "dir", &token])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        run(&[
            "token",
            "verify",
            "--jwe-alg",
            "A128KW",
            "--jwe-key",
            key,
            &token
        ])
        .status
        .code(),
        Some(2)
    );
    assert_eq!(
        run(&[
            "token",
            "verify",
            "--jwe-alg",
            "RSA-OAEP-256",
            "--jwe-key",
            key,
            &token
        ])
        .status
        .code(),
        Some(2),
        "a dir key is not an RSA key"
    );
    // decode of a five-part token that is not a JWE: 1.
    assert_eq!(
        run(&["token", "decode", "a.b.c.d.e"]).status.code(),
        Some(1)
    );
}
