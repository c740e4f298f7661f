//! The attack classes that apply to JWE, each rejected with a 401-class error, never a panic:
//! algorithm confusion (`dir` shown to an RSA or ECDH key and the reverse, `alg: none`,
//! unknown or weak `enc`), tampered header / encrypted key / IV / ciphertext / tag, wrong key,
//! oversized input, `zip`, `crit`, keys brought by the token, truncated and extra parts, an
//! off-curve `epk`, and claims that fail after a successful decryption.

use authbench_core::{Error, ErrorKind, Identity, ManualClock};
use authbench_jwe::{
    DIR_KEY_BYTES, JweBackend, JweConfig, JweKey, KeyAlg, Parts, dangerous, encrypt,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};
use std::sync::Arc;

fn alice() -> Identity {
    Identity {
        subject: "alice".into(),
        tenant: "acme".into(),
        roles: vec!["user".into()],
    }
}

struct Fixture {
    clock: ManualClock,
    backend: JweBackend,
    /// The backend's key again (read back from its text form), to craft tokens with it.
    key: JweKey,
}

fn fixture(alg: KeyAlg) -> Fixture {
    let clock = ManualClock::at_system_time();
    // The plain public-key modes only as the insecure opt-in: these tests attack the codec,
    // which is the same whether or not a signature is nested inside.
    let backend = JweBackend::new(
        JweConfig::new(alg).insecure_unauthenticated(),
        Arc::new(clock.clone()),
    )
    .expect("backend");
    let key = JweKey::from_text(alg, &backend.key().to_text(false).expect("key text"))
        .expect("key reads back");
    Fixture {
        clock,
        backend,
        key,
    }
}

impl Fixture {
    fn token(&self) -> String {
        self.backend.issue_now(&alice()).expect("issue").token
    }

    /// Valid claims for this backend at the clock's now.
    fn claims(&self) -> Value {
        let now = authbench_core::Clock::now(&self.clock);
        json!({
            "iss": "authbench", "sub": "alice", "aud": "authbench-api",
            "exp": now + 600, "nbf": now, "iat": now, "jti": "j1",
            "tenant": "acme", "roles": ["user"],
        })
    }

    /// A correctly encrypted token with this header (plus `epk` for ECDH) and these claims.
    fn craft(&self, header: Value, claims: &Value) -> String {
        let Value::Object(header) = header else {
            panic!("header must be an object")
        };
        dangerous::encrypt_with_header(&self.key, header, claims.to_string().as_bytes())
            .expect("encrypt")
    }

    fn header(&self) -> Value {
        json!({"alg": self.key.alg().as_str(), "enc": "A256GCM", "typ": "at+jwt", "kid": self.key.kid()})
    }

    fn rejects(&self, token: &str, what: &str) -> Error {
        let err = self
            .backend
            .verify_now(token)
            .map(|p| p.subject)
            .expect_err(what);
        assert!(err.kind().is_rejected(), "{what}: {err:?}");
        if token.len() >= 8 {
            assert!(
                !err.to_string().contains(token),
                "{what}: error quotes the token"
            );
        }
        err
    }

    fn rejects_as(&self, token: &str, kind: ErrorKind, what: &str) {
        let err = self.rejects(token, what);
        assert_eq!(err.kind(), kind, "{}: {what}: {err}", self.key.alg());
    }
}

fn with(header: &Value, name: &str, value: Value) -> Value {
    let mut h = header.clone();
    h[name] = value;
    h
}

fn without(header: &Value, name: &str) -> Value {
    let mut h: Map<String, Value> = header.as_object().expect("object").clone();
    h.remove(name);
    Value::Object(h)
}

#[test]
fn a_crafted_token_with_the_right_header_is_accepted() {
    // The control: the crafting helper makes tokens the backend accepts, so every rejection
    // below is due to the one thing changed.
    for alg in KeyAlg::ALL {
        let f = fixture(alg);
        let token = f.craft(f.header(), &f.claims());
        assert_eq!(
            f.backend.verify_now(&token).expect("accepted").subject,
            "alice"
        );
    }
}

#[test]
fn algorithm_confusion_is_refused_before_decryption() {
    for alg in KeyAlg::ALL {
        let f = fixture(alg);
        let claims = f.claims();
        for other in KeyAlg::ALL.into_iter().filter(|a| *a != alg) {
            // A token really made for another algorithm (with a key of that kind) …
            let other_key = JweKey::generate(other).expect("key");
            let token = encrypt(
                &other_key,
                claims.to_string().as_bytes(),
                Default::default(),
            )
            .expect("encrypt");
            f.rejects_as(
                &token,
                ErrorKind::AlgorithmNotAllowed,
                "another algorithm's token",
            );
            // … and our own key's token relabelled.
            let relabelled = f.craft(with(&f.header(), "alg", other.as_str().into()), &claims);
            f.rejects_as(
                &relabelled,
                ErrorKind::AlgorithmNotAllowed,
                "alg relabelled",
            );
        }
        for bad_alg in [
            "none", "RSA-OAEP", "RSA1_5", "A256KW", "ECDH-ES", "DIR", "HS256", "",
        ] {
            let t = f.craft(with(&f.header(), "alg", bad_alg.into()), &claims);
            f.rejects_as(&t, ErrorKind::AlgorithmNotAllowed, bad_alg);
        }
        for bad_enc in [
            "A128GCM",
            "A128CBC-HS256",
            "A256CBC-HS512",
            "none",
            "a256gcm",
        ] {
            let t = f.craft(with(&f.header(), "enc", bad_enc.into()), &claims);
            f.rejects_as(&t, ErrorKind::AlgorithmNotAllowed, bad_enc);
        }
        f.rejects_as(
            &f.craft(without(&f.header(), "alg"), &claims),
            ErrorKind::Malformed,
            "no alg",
        );
        f.rejects_as(
            &f.craft(without(&f.header(), "enc"), &claims),
            ErrorKind::Malformed,
            "no enc",
        );
    }
}

#[test]
fn a_jws_is_not_a_jwe() {
    let f = fixture(KeyAlg::Dir);
    let jws = authbench_jwt::JwtBackend::new(
        authbench_jwt::JwtConfig::new(authbench_jwt::Alg::HS256),
        Arc::new(f.clock.clone()),
    )
    .expect("jwt")
    .issue_now(&alice())
    .expect("jws")
    .token;
    f.rejects_as(&jws, ErrorKind::Malformed, "a three-part JWS");
}

#[test]
fn header_extensions_compression_and_token_keys_are_refused() {
    for alg in KeyAlg::ALL {
        let f = fixture(alg);
        let claims = f.claims();
        for zip in [json!("DEF"), json!(""), json!(null)] {
            let t = f.craft(with(&f.header(), "zip", zip), &claims);
            f.rejects_as(&t, ErrorKind::AlgorithmNotAllowed, "zip");
        }
        let t = f.craft(with(&f.header(), "crit", json!(["exp"])), &claims);
        f.rejects_as(&t, ErrorKind::UnsupportedCritical, "crit");
        for member in ["jwk", "jku", "x5u", "x5c"] {
            let t = f.craft(
                with(&f.header(), member, json!("https://attacker.example")),
                &claims,
            );
            f.rejects_as(&t, ErrorKind::UnknownKey, member);
        }
        let t = f.craft(with(&f.header(), "kid", json!("someone-else")), &claims);
        f.rejects_as(&t, ErrorKind::UnknownKey, "foreign kid");
        for typ in [json!("JWT"), json!("id+jwt"), json!(null)] {
            let t = f.craft(with(&f.header(), "typ", typ), &claims);
            f.rejects_as(&t, ErrorKind::WrongType, "typ");
        }
        let t = f.craft(with(&f.header(), "cty", json!("JWT")), &claims);
        f.rejects_as(&t, ErrorKind::WrongType, "cty JWT on a plain token");
        // `application/at+jwt` is the same type (RFC 7515 §4.1.9).
        let t = f.craft(
            with(&f.header(), "typ", json!("application/AT+JWT")),
            &claims,
        );
        assert!(f.backend.verify_now(&t).is_ok(), "{alg}: typ with prefix");
    }
}

/// Replaces part `index` of `token` by `part`.
fn replace_part(token: &str, index: usize, part: &str) -> String {
    let mut parts: Vec<&str> = token.split('.').collect();
    parts[index] = part;
    parts.join(".")
}

/// Flips the most significant bit of the character at `pos` of part `index` (survives
/// decoding, unlike a low bit of a final character).
fn flip(token: &str, index: usize, pos: usize) -> String {
    const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let part = token.split('.').nth(index).expect("part");
    let mut bytes = part.as_bytes().to_vec();
    let i = B64
        .iter()
        .position(|&b| b == bytes[pos])
        .expect("base64url");
    bytes[pos] = B64[(i + 32) % 64];
    replace_part(token, index, std::str::from_utf8(&bytes).expect("ascii"))
}

#[test]
fn every_tampered_part_fails_at_the_tag_or_earlier() {
    for alg in KeyAlg::ALL {
        let f = fixture(alg);
        let token = f.token();
        let parts = Parts::split(&token).expect("five parts");
        let lens = [
            parts.header.len(),
            parts.encrypted_key.len(),
            parts.iv.len(),
            parts.ciphertext.len(),
            parts.tag.len(),
        ];
        for (index, len) in lens.into_iter().enumerate() {
            for pos in [0, len / 2, len.saturating_sub(1)] {
                if len == 0 {
                    continue;
                }
                let t = flip(&token, index, pos);
                let err = f.rejects(&t, "tampered");
                if index >= 1 && !(alg == KeyAlg::Dir && index == 1) {
                    // Encrypted key, IV, ciphertext, tag: one answer, the tag's.
                    assert_eq!(
                        err.kind(),
                        ErrorKind::BadSignature,
                        "{alg} part {index} pos {pos}"
                    );
                }
            }
        }
        // A `dir` token must have an empty encrypted key.
        if alg == KeyAlg::Dir {
            let t = replace_part(&token, 1, "AAAA");
            f.rejects_as(&t, ErrorKind::Malformed, "dir with an encrypted key");
        }
        // Swapping ciphertext between two tokens of the same key.
        let other = f.token();
        let mixed = replace_part(&token, 3, other.split('.').nth(3).expect("ciphertext"));
        f.rejects_as(
            &mixed,
            ErrorKind::BadSignature,
            "ciphertext from another token",
        );
        // Random encrypted key of the right size (RSA, AES-KW): the random-CEK path.
        if alg != KeyAlg::Dir {
            let n = URL_SAFE_NO_PAD
                .decode(parts.encrypted_key)
                .expect("b64")
                .len();
            let junk = URL_SAFE_NO_PAD.encode(vec![0x5a; n]);
            f.rejects_as(
                &replace_part(&token, 1, &junk),
                ErrorKind::BadSignature,
                "junk key",
            );
        }
    }
}

#[test]
fn truncated_extra_and_resized_parts_are_malformed() {
    for alg in KeyAlg::ALL {
        let f = fixture(alg);
        let token = f.token();
        let parts: Vec<&str> = token.split('.').collect();
        for n in 1..5 {
            f.rejects_as(&parts[..n].join("."), ErrorKind::Malformed, "fewer parts");
        }
        f.rejects_as(&format!("{token}."), ErrorKind::Malformed, "six parts");
        f.rejects_as(&format!("{token}.x"), ErrorKind::Malformed, "six parts");
        // IV and tag of the wrong size, or cut short by one character.
        f.rejects_as(
            &replace_part(&token, 2, &parts[2][1..]),
            ErrorKind::Malformed,
            "short IV",
        );
        f.rejects_as(
            &replace_part(&token, 4, &parts[4][1..]),
            ErrorKind::Malformed,
            "short tag",
        );
        f.rejects_as(
            &replace_part(&token, 2, &URL_SAFE_NO_PAD.encode([0u8; 16])),
            ErrorKind::Malformed,
            "16-byte IV",
        );
        // Ciphertext cut: the tag fails.
        // (Malformed when the new last character has padding bits set.)
        f.rejects(
            &replace_part(&token, 3, &parts[3][..parts[3].len() - 4]),
            "short ciphertext",
        );
        // Non-canonical base64url.
        f.rejects_as(
            &replace_part(&token, 4, &format!("{}=", &parts[4])),
            ErrorKind::Malformed,
            "padding",
        );
        f.rejects_as(
            &replace_part(&token, 0, "e30"),
            ErrorKind::Malformed,
            "header {}",
        );
        f.rejects_as(
            &replace_part(&token, 0, "bnVsbA"),
            ErrorKind::Malformed,
            "header null",
        );
    }
}

#[test]
fn wrong_keys_fail_at_the_tag() {
    for alg in KeyAlg::ALL {
        let f = fixture(alg);
        let other = fixture(alg);
        // Same algorithm, another key: the kid differs …
        f.rejects_as(&other.token(), ErrorKind::UnknownKey, "other key's token");
        // … and without a kid, decryption itself fails.
        let t = other.craft(without(&other.header(), "kid"), &other.claims());
        f.rejects_as(&t, ErrorKind::BadSignature, "other key, no kid");
        // Claiming our kid does not help.
        let t = other.craft(
            with(&other.header(), "kid", f.key.kid().into()),
            &other.claims(),
        );
        f.rejects_as(&t, ErrorKind::BadSignature, "other key, our kid");
    }
    // A dir key of all zeros is just another key.
    let f = fixture(KeyAlg::Dir);
    let zero = JweKey::dir(&[0u8; DIR_KEY_BYTES], Some(f.key.kid().into())).expect("key");
    let t = dangerous::encrypt_with_header(
        &zero,
        f.header().as_object().expect("obj").clone(),
        f.claims().to_string().as_bytes(),
    )
    .expect("encrypt");
    f.rejects_as(&t, ErrorKind::BadSignature, "zero key");
}

#[test]
fn an_off_curve_or_foreign_epk_is_refused() {
    let f = fixture(KeyAlg::EcdhEsA256kw);
    let token = f.token();
    let header: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(token.split('.').next().expect("header"))
            .expect("b64"),
    )
    .expect("json");
    let rest = token.split_once('.').expect("dot").1;
    let with_header = |h: &Value| format!("{}.{rest}", URL_SAFE_NO_PAD.encode(h.to_string()));
    let mut off_curve = header.clone();
    off_curve["epk"]["y"] = URL_SAFE_NO_PAD.encode([7u8; 32]).into();
    f.rejects_as(
        &with_header(&off_curve),
        ErrorKind::Malformed,
        "off-curve epk",
    );
    let mut x25519 = header.clone();
    x25519["epk"] = json!({"kty": "OKP", "crv": "X25519", "x": URL_SAFE_NO_PAD.encode([9u8; 32])});
    f.rejects_as(&with_header(&x25519), ErrorKind::Malformed, "OKP epk");
    let mut with_d = header.clone();
    with_d["epk"]["d"] = "AAAA".into();
    f.rejects_as(&with_header(&with_d), ErrorKind::Malformed, "epk with d");
    f.rejects_as(
        &with_header(&without(&header, "epk")),
        ErrorKind::Malformed,
        "no epk",
    );
    // apu/apv changed: the header is the AAD, so the tag fails.
    f.rejects_as(
        &with_header(&with(&header, "apu", "QWxpY2U".into())),
        ErrorKind::BadSignature,
        "apu",
    );
}

#[test]
fn oversized_and_hostile_input_is_refused_early() {
    for alg in KeyAlg::ALL {
        let f = fixture(alg);
        let huge = "A".repeat(9 * 1024);
        f.rejects_as(&huge, ErrorKind::TooLarge, "9 KiB");
        let huge_jwe = format!(
            "{}.{}.{}.{}.{}",
            "e30",
            "",
            "A".repeat(16),
            "A".repeat(9000),
            "A".repeat(22)
        );
        f.rejects_as(&huge_jwe, ErrorKind::TooLarge, "9 KiB ciphertext");
        // A header over 1 KiB decoded, inside the 8 KiB cap.
        let big_header = URL_SAFE_NO_PAD.encode(format!(
            "{{\"alg\":\"dir\",\"x\":\"{}\"}}",
            "a".repeat(2000)
        ));
        f.rejects_as(
            &format!("{big_header}...."),
            ErrorKind::Malformed,
            "2 KiB header",
        );
        for junk in ["", " ", "....", "\u{0}\u{1}", "ü.ü.ü.ü.ü", "a.b.c.d.e"] {
            f.rejects(junk, "junk");
        }
    }
}

#[test]
fn claims_are_checked_after_decryption_exactly_as_for_a_jws() {
    for alg in KeyAlg::ALL {
        let f = fixture(alg);
        let now = authbench_core::Clock::now(&f.clock);
        let good = f.claims();
        let cases: [(&str, Value, ErrorKind); 11] = [
            ("expired", json!(now - 6), ErrorKind::Expired),
            ("nbf", json!(now + 60), ErrorKind::NotYetValid),
            ("iat", json!(now + 60), ErrorKind::IssuedInFuture),
            ("iss", json!("evil"), ErrorKind::WrongIssuer),
            ("aud", json!("other-api"), ErrorKind::WrongAudience),
            ("exp", json!("9999999999"), ErrorKind::Malformed),
            ("exp", Value::Null, ErrorKind::Malformed),
            ("sub", Value::Null, ErrorKind::Malformed),
            ("roles", json!("admin"), ErrorKind::Malformed),
            ("tenant", json!(5), ErrorKind::Malformed),
            ("jti", json!(1), ErrorKind::Malformed),
        ];
        for (name, value, kind) in cases {
            let mut c = good.clone();
            let field = if name == "expired" { "exp" } else { name };
            c[field] = value;
            f.rejects_as(&f.craft(f.header(), &c), kind, name);
        }
        for required in ["exp", "sub", "iat", "jti", "iss", "aud", "tenant", "roles"] {
            let c = without(&good, required);
            f.rejects_as(&f.craft(f.header(), &c), ErrorKind::MissingClaim, required);
        }
        // Within the 5 s leeway: accepted.
        let mut c = good.clone();
        c["exp"] = json!(now - 4);
        assert!(
            f.backend.verify_now(&f.craft(f.header(), &c)).is_ok(),
            "{alg}: leeway"
        );
        // Plaintext that is not a claims object.
        for bad in [
            "[]",
            "\"alice\"",
            "{\"sub\":\"a\",\"sub\":\"b\"}",
            "not json",
        ] {
            let t = dangerous::encrypt_with_header(
                &f.key,
                f.header().as_object().expect("obj").clone(),
                bad.as_bytes(),
            )
            .expect("encrypt");
            f.rejects_as(&t, ErrorKind::Malformed, bad);
        }
    }
}

#[test]
fn nested_tokens_check_the_inner_signature_and_cty() {
    let clock = ManualClock::at_system_time();
    let config = JweConfig::new(KeyAlg::Dir).nested(authbench_jwt::Alg::ES256);
    let backend = JweBackend::new(config, Arc::new(clock.clone())).expect("backend");
    let token = backend.issue_now(&alice()).expect("issue").token;
    assert_eq!(backend.verify_now(&token).expect("valid").subject, "alice");
    let key =
        JweKey::from_text(KeyAlg::Dir, &backend.key().to_text(false).expect("text")).expect("key");
    let header = json!({"alg": "dir", "enc": "A256GCM", "cty": "JWT", "kid": key.kid()});
    let header = header.as_object().expect("obj").clone();
    // Plain claims where a JWS is expected; a JWS signed by someone else.
    let plain = dangerous::encrypt_with_header(&key, header.clone(), b"{\"sub\":\"alice\"}")
        .expect("encrypt");
    assert!(
        backend
            .verify_now(&plain)
            .expect_err("plain claims")
            .kind()
            .is_rejected()
    );
    let stranger = authbench_jwt::JwtBackend::new(
        authbench_jwt::JwtConfig::new(authbench_jwt::Alg::ES256),
        Arc::new(clock.clone()),
    )
    .expect("jwt")
    .issue_now(&alice())
    .expect("jws")
    .token;
    let forged =
        dangerous::encrypt_with_header(&key, header.clone(), stranger.as_bytes()).expect("encrypt");
    let err = backend
        .verify_now(&forged)
        .expect_err("inner signature by a stranger");
    assert_eq!(err.kind(), ErrorKind::UnknownKey, "{err}");
    // A nested token without `cty`.
    let mut no_cty = header;
    no_cty.remove("cty");
    let inner = backend
        .inner()
        .expect("inner")
        .issue_now(&alice())
        .expect("jws")
        .token;
    let t = dangerous::encrypt_with_header(&key, no_cty, inner.as_bytes()).expect("encrypt");
    assert_eq!(
        backend.verify_now(&t).expect_err("no cty").kind(),
        ErrorKind::WrongType
    );
}
