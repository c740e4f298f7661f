//! `authbench token …` as a user runs it: exit codes, stdout and stderr.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn authbench() -> Command {
    Command::new(env!("CARGO_BIN_EXE_authbench"))
}

fn vectors() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../jwt/tests/data/rfc-vectors.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("vectors")).expect("JSON")
}

/// Before the 2011 `exp` of RFC 7515's examples (1300819380).
const BEFORE_EXP: &str = "1300819300";

fn write_jwk(dir: &Path, name: &str, jwk: &Value) -> PathBuf {
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, jwk.to_string()).expect("write jwk");
    path
}

fn verify(jwk: &Path, alg: &str, extra: &[&str], token: &str) -> Output {
    authbench()
        .args(["token", "verify", "--jwk"])
        .arg(jwk)
        .args(["--alg", alg])
        .args(extra)
        .arg(token)
        .output()
        .expect("run authbench")
}

fn flip_payload_byte(token: &str, index: usize) -> String {
    let first_dot = token.find('.').expect("dot");
    let mut bytes = token.as_bytes().to_vec();
    let at = first_dot + 1 + index;
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).expect("ascii")
}

#[test]
fn rfc7515_examples_verify_only_before_their_expiry_and_unaltered() {
    let dir = tempfile::tempdir().expect("tempdir");
    let vectors = vectors();
    for (name, alg) in [
        ("rfc7515_A1_HS256", "HS256"),
        ("rfc7515_A2_RS256", "RS256"),
        ("rfc7515_A3_ES256", "ES256"),
    ] {
        let v = &vectors[name];
        let jwk = write_jwk(dir.path(), name, &v["jwk"]);
        let token = v["token"].as_str().expect("token");

        let ok = verify(&jwk, alg, &["--now", BEFORE_EXP], token);
        assert_eq!(
            ok.status.code(),
            Some(0),
            "{name}: {}",
            String::from_utf8_lossy(&ok.stderr)
        );
        let claims: Value = serde_json::from_slice(&ok.stdout).expect("claims JSON on stdout");
        assert_eq!(claims["iss"], "joe", "{name}");
        assert_eq!(claims["http://example.com/is_root"], true, "{name}");

        let expired = verify(&jwk, alg, &[], token);
        assert_eq!(
            expired.status.code(),
            Some(1),
            "{name} must be expired today"
        );
        let reason = String::from_utf8_lossy(&expired.stderr);
        assert!(reason.contains("expired"), "{name}: {reason}");
        assert!(expired.stdout.is_empty());

        for index in [0, 10, 40] {
            let tampered = flip_payload_byte(token, index);
            let out = verify(&jwk, alg, &["--now", BEFORE_EXP], &tampered);
            assert_eq!(
                out.status.code(),
                Some(1),
                "{name} with payload byte {index} changed"
            );
        }
        // The right key but an algorithm we did not allow.
        let other = if alg == "HS256" { "ES256" } else { "HS256" };
        let out = verify(&jwk, other, &["--now", BEFORE_EXP], token);
        assert_ne!(out.status.code(), Some(0), "{name} under --alg {other}");
    }
}

#[test]
fn usage_and_io_errors_exit_2() {
    let out = authbench()
        .args(["token", "verify", "--alg", "ES256", "x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "missing --jwk");
    let out = authbench()
        .args([
            "token",
            "verify",
            "--jwk",
            "/nonexistent/key.json",
            "--alg",
            "ES256",
            "x",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "unreadable key file");
    let out = authbench()
        .args(["token", "verify", "--jwk", "k.json", "--alg", "none", "x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "alg none is not even an option");
}

#[test]
fn sign_then_verify_for_every_algorithm_with_stdin() {
    let dir = tempfile::tempdir().expect("tempdir");
    for alg in ["HS256", "RS256", "PS256", "ES256", "ES384", "EdDSA"] {
        let jwk = dir.path().join(format!("{alg}.json"));
        let out = authbench()
            .args([
                "token",
                "sign",
                "--alg",
                alg,
                "--typ",
                "at+jwt",
                "--expires-in",
                "60",
            ])
            .args([
                "--claims",
                r#"{"iss":"me","aud":"you","sub":"alice"}"#,
                "--write-jwk",
            ])
            .arg(&jwk)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{alg}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();

        let mut child = authbench()
            .args(["token", "verify", "--jwk"])
            .arg(&jwk)
            .args([
                "--alg", alg, "--iss", "me", "--aud", "you", "--typ", "at+jwt", "-",
            ])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(token.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{alg}: {}",
            String::from_utf8_lossy(&out.stderr)
        );

        let wrong_aud = verify(&jwk, alg, &["--aud", "them"], &token);
        assert_eq!(wrong_aud.status.code(), Some(1), "{alg}");
        let wrong_typ = verify(&jwk, alg, &["--typ", "JWT"], &token);
        assert_eq!(wrong_typ.status.code(), Some(1), "{alg}");
        let capped = verify(&jwk, alg, &["--max-bytes", "64"], &token);
        assert_eq!(capped.status.code(), Some(1), "{alg}");
        assert!(String::from_utf8_lossy(&capped.stderr).contains("too_large"));
    }
}

#[test]
fn decode_shows_the_anatomy() {
    let vectors = vectors();
    let token = vectors["rfc7515_A3_ES256"]["token"].as_str().unwrap();
    let out = authbench()
        .args(["token", "decode", "--now", BEFORE_EXP, token])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("ECDSA on P-256"), "{text}");
    assert!(text.contains("64 bytes of ES256"), "{text}");
    assert!(text.contains("2011-03-22T18:43:00Z"), "{text}");

    let out = authbench()
        .args(["token", "decode", "--json", token])
        .output()
        .unwrap();
    let anatomy: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(anatomy["signature"]["decoded_len"], 64);
    assert_eq!(anatomy["total_len"], token.len());

    let out = authbench()
        .args(["token", "decode", "not.a-token"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}
