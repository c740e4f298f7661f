//! Every JWT attack class of the book's security chapter, each proven with a token crafted here, and each
//! answered with the "right answer" column (and the most specific `ErrorKind`).

mod common;

use authbench_core::ErrorKind;
use authbench_jwt::{Alg, JwtError, SigningKey, Verifier, VerifierOptions, dangerous};
use common::*;
use serde_json::json;

// --- alg: none -------------------------------------------------------------------------------

#[test]
fn alg_none_in_any_case_with_empty_or_kept_signature_is_not_allowed() {
    let f = Fixture::new(Alg::HS256);
    let (_, _, real_sig) = segments(&f.good());
    for alg in ["none", "None", "NONE", "nOnE"] {
        let header = f.header_with("alg", json!(alg)).to_string();
        let payload = f.claims().to_string();
        let unsigned = format!("{}.{}.", b64(&header), b64(&payload));
        assert_rejected(&f, &unsigned, ErrorKind::AlgorithmNotAllowed);
        let kept = format!("{unsigned}{real_sig}");
        assert_rejected(&f, &kept, ErrorKind::AlgorithmNotAllowed);
    }
}

#[test]
fn rfc7519_unsecured_jwt_is_rejected() {
    // RFC 7519 §6.1, verbatim.
    let token = "eyJhbGciOiJub25lIn0.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.";
    for alg in Alg::ALL {
        assert_rejected(&Fixture::new(alg), token, ErrorKind::AlgorithmNotAllowed);
    }
}

// --- null signature, empty HMAC secret --------------------------------------------------------

#[test]
fn null_and_zero_signatures_are_bad_signatures() {
    for alg in Alg::ALL {
        let f = Fixture::new(alg);
        let (h, p, s) = segments(&f.good());
        assert_rejected(&f, &format!("{h}.{p}."), ErrorKind::BadSignature);
        let zeros = vec![0u8; unb64(&s).len()];
        assert_rejected(
            &f,
            &format!("{h}.{p}.{}", b64(zeros)),
            ErrorKind::BadSignature,
        );
    }
}

#[test]
fn hs256_signed_with_an_empty_secret_is_rejected_and_cannot_be_configured() {
    let f = Fixture::new(Alg::HS256);
    let input = format!(
        "{}.{}",
        b64(f.header().to_string()),
        b64(f.claims().to_string())
    );
    let sig = jsonwebtoken::crypto::sign(
        input.as_bytes(),
        &jsonwebtoken::EncodingKey::from_secret(b""),
        jsonwebtoken::Algorithm::HS256,
    )
    .expect("jsonwebtoken signs with an empty secret");
    assert_rejected(&f, &format!("{input}.{sig}"), ErrorKind::BadSignature);

    assert!(matches!(
        SigningKey::hmac(b""),
        Err(JwtError::WeakSecret { len: 0, .. })
    ));
    assert!(matches!(
        SigningKey::hmac(&[7u8; 31]),
        Err(JwtError::WeakSecret { len: 31, .. })
    ));
    let empty_jwk = json!({"kty": "oct", "k": ""}).to_string();
    assert!(matches!(
        Verifier::from_jwk_json(&empty_jwk, VerifierOptions::new([Alg::HS256])),
        Err(JwtError::WeakSecret { len: 0, .. })
    ));
}

// --- RS256 -> HS256 key confusion ------------------------------------------------------------

#[test]
fn rs256_public_key_used_as_hmac_secret_is_rejected() {
    let f = Fixture::new(Alg::RS256);
    let pem = f.key.public_key_pem().expect("RSA has a public key");
    let der = f.key.public_key_der().expect("RSA has a public key");
    let jwk = f.key.public_jwk().expect("public JWK").to_string();
    // A verifier that (unwisely) allows both families, with the public key from the JWKS.
    let lax = Verifier::from_jwk_json(&jwk, {
        let mut o = options(Alg::RS256);
        o.algorithms = vec![Alg::RS256, Alg::HS256];
        o
    })
    .expect("verifier");

    let mut secrets: Vec<Vec<u8>> = vec![pem.clone().into_bytes(), der];
    secrets.push(pem.trim_end().as_bytes().to_vec());
    for secret in secrets {
        let forger = SigningKey::hmac(&secret).expect("a public key is a long 'secret'");
        let header = f.header_with("alg", json!("HS256")).to_string();
        let token = dangerous::sign_raw(
            header.as_bytes(),
            f.claims().to_string().as_bytes(),
            &forger,
        )
        .expect("sign");
        assert_rejected(&f, &token, ErrorKind::AlgorithmNotAllowed);
        // Even with HS256 allowed, the RSA key verifies RS256 only.
        let err = lax.verify(&token).expect_err("confusion must fail");
        assert_eq!(err.kind(), ErrorKind::AlgorithmNotAllowed, "{err}");
    }
}

// --- ECDSA ------------------------------------------------------------------------------------

/// The order n of the P-256 group.
const P256_N: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
];

/// a - b for 32-byte big-endian numbers with a >= b.
fn sub_be(a: &[u8; 32], b: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let mut d = i16::from(a[i]) - i16::from(b[i]) - borrow;
        borrow = i16::from(d < 0);
        if d < 0 {
            d += 256;
        }
        out[i] = d as u8;
    }
    out
}

fn der_integer(bytes: &[u8]) -> Vec<u8> {
    let mut v: Vec<u8> = bytes.iter().copied().skip_while(|b| *b == 0).collect();
    if v.first().is_none_or(|b| b & 0x80 != 0) {
        v.insert(0, 0);
    }
    let mut out = vec![0x02, v.len() as u8];
    out.extend(v);
    out
}

#[test]
fn ecdsa_psychic_and_malformed_signatures_are_rejected() {
    let f = Fixture::new(Alg::ES256);
    let (h, p, s) = segments(&f.good());
    let sig = unb64(&s);
    assert_eq!(sig.len(), 64);
    let one = {
        let mut v = [0u8; 32];
        v[31] = 1;
        v
    };
    let der = {
        let mut body = der_integer(&sig[..32]);
        body.extend(der_integer(&sig[32..]));
        let mut out = vec![0x30, body.len() as u8];
        out.extend(body);
        out
    };
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("r=s=0 (CVE-2022-21449)", vec![0u8; 64]),
        ("r=s=n", [P256_N, P256_N].concat()),
        ("r=s=1", [one, one].concat()),
        ("DER instead of raw R||S", der),
        ("truncated to 63 bytes", sig[..63].to_vec()),
        ("truncated to r only", sig[..32].to_vec()),
    ];
    for (what, bad) in cases {
        let token = format!("{h}.{p}.{}", b64(&bad));
        assert_eq!(f.kind(&token), Some(ErrorKind::BadSignature), "{what}");
    }
    // The same zero signature on P-384.
    let f384 = Fixture::new(Alg::ES384);
    let (h, p, _) = segments(&f384.good());
    assert_rejected(
        &f384,
        &format!("{h}.{p}.{}", b64([0u8; 96])),
        ErrorKind::BadSignature,
    );
}

#[test]
fn ecdsa_high_s_twin_is_accepted_so_deny_lists_must_key_on_jti() {
    // ECDSA signatures are malleable: (r, s) and (r, n - s) both verify. A verifier that
    // accepts one must accept the other (jsonwebtoken and aws-lc-rs do), so the *token bytes*
    // of one logical token are not unique. A deny-list keyed on a hash of the token would miss
    // the twin; keying on `jti` (a signed claim, identical in both) cannot.
    let f = Fixture::new(Alg::ES256);
    let token = f.good();
    let (h, p, s) = segments(&token);
    let sig = unb64(&s);
    let twin_s = sub_be(&P256_N, &sig[32..]);
    let twin = format!("{h}.{p}.{}", b64([&sig[..32], &twin_s[..]].concat()));
    assert_ne!(twin, token, "a different byte string");
    let a = f.verifier.verify(&token).expect("original verifies");
    let b = f.verifier.verify(&twin).expect("high-S twin verifies too");
    assert_eq!(a["jti"], b["jti"], "same jti: the right deny-list key");
}

// --- keys the token brings --------------------------------------------------------------------

#[test]
fn embedded_jwk_and_remote_key_urls_are_refused_without_fetching() {
    let f = Fixture::new(Alg::ES256);
    let attacker = SigningKey::generate(Alg::ES256).expect("key");
    let attacker_jwk = attacker.public_jwk().expect("jwk");
    for (name, value) in [
        ("jwk", attacker_jwk),
        // Unroutable addresses: a verifier that tried to fetch would hang or fail, not pass.
        ("jku", json!("http://192.0.2.1/jwks.json")),
        ("x5u", json!("http://192.0.2.1/cert.pem")),
        ("x5c", json!(["MIIB"])),
    ] {
        let header = f.header_with(name, value);
        // Signed by the attacker with a kid the attacker chose…
        let mut forged_header = header.clone();
        forged_header["kid"] = json!(attacker.kid());
        let forged = dangerous::sign_raw(
            forged_header.to_string().as_bytes(),
            f.claims().to_string().as_bytes(),
            &attacker,
        )
        .expect("sign");
        assert_rejected(&f, &forged, ErrorKind::UnknownKey);
        // …and even correctly signed by *our* key: the member alone is reason enough.
        assert_rejected(&f, &f.sign(&header, &f.claims()), ErrorKind::UnknownKey);
    }
}

#[test]
fn kid_path_traversal_and_sql_injection_are_unknown_keys() {
    let f = Fixture::new(Alg::HS256);
    for kid in [
        "../../../../../../dev/null",
        "/dev/null",
        "' OR '1'='1",
        "x' UNION SELECT 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' -- ",
        "",
    ] {
        // The classic payload: kid points at an empty file, token signed with an empty key.
        let header = f.header_with("kid", json!(kid)).to_string();
        let input = format!("{}.{}", b64(&header), b64(f.claims().to_string()));
        let sig = jsonwebtoken::crypto::sign(
            input.as_bytes(),
            &jsonwebtoken::EncodingKey::from_secret(b""),
            jsonwebtoken::Algorithm::HS256,
        )
        .expect("sign");
        assert_rejected(&f, &format!("{input}.{sig}"), ErrorKind::UnknownKey);
    }
}

// --- algorithm allow-list ---------------------------------------------------------------------

#[test]
fn algorithms_the_verifier_does_not_allow_are_rejected() {
    let f = Fixture::new(Alg::ES256);
    for other in [Alg::HS256, Alg::RS256, Alg::PS256, Alg::ES384, Alg::EdDSA] {
        let g = Fixture::new(other);
        assert_rejected(&f, &g.good(), ErrorKind::AlgorithmNotAllowed);
    }
    for name in ["ES512", "HS512", "RS384", "PS512", "es256", "ES256 "] {
        let token = f.sign(&f.header_with("alg", json!(name)), &f.claims());
        assert_rejected(&f, &token, ErrorKind::AlgorithmNotAllowed);
    }
    let token = f.sign(&f.header_with("alg", serde_json::Value::Null), &f.claims());
    assert_rejected(&f, &token, ErrorKind::Malformed);
}

// --- time ------------------------------------------------------------------------------------

#[test]
fn expiry_not_before_and_issued_at_against_the_clock_with_leeway() {
    let f = Fixture::new(Alg::HS256);
    let leeway = authbench_jwt::DEFAULT_LEEWAY_SECS;
    let check =
        |name: &str, value: u64| f.kind(&f.sign(&f.header(), &f.claims_with(name, json!(value))));
    assert_eq!(check("exp", NOW - 3600), Some(ErrorKind::Expired));
    assert_eq!(
        check("exp", NOW - leeway),
        Some(ErrorKind::Expired),
        "now >= exp + leeway"
    );
    assert_eq!(check("exp", NOW - leeway + 1), None, "inside the leeway");
    assert_eq!(check("nbf", NOW + 3600), Some(ErrorKind::NotYetValid));
    assert_eq!(check("nbf", NOW + leeway + 1), Some(ErrorKind::NotYetValid));
    assert_eq!(check("nbf", NOW + leeway), None);
    assert_eq!(
        check("iat", NOW + 86_400 * 365),
        Some(ErrorKind::IssuedInFuture)
    );
    assert_eq!(
        check("iat", NOW + leeway + 1),
        Some(ErrorKind::IssuedInFuture)
    );
    assert_eq!(check("iat", NOW + leeway), None);
}

#[test]
fn missing_exp_and_stringly_typed_times_are_rejected() {
    let f = Fixture::new(Alg::HS256);
    let with = |name: &str, v: serde_json::Value| f.sign(&f.header(), &f.claims_with(name, v));
    assert_rejected(
        &f,
        &with("exp", serde_json::Value::Null),
        ErrorKind::MissingClaim,
    );
    // GHSA-h395-gr6q-cpjc: a string must not skip the check.
    assert_rejected(
        &f,
        &with("exp", json!((NOW - 3600).to_string())),
        ErrorKind::Malformed,
    );
    assert_rejected(
        &f,
        &with("exp", json!((NOW + 3600).to_string())),
        ErrorKind::Malformed,
    );
    assert_rejected(
        &f,
        &with("nbf", json!((NOW + 3600).to_string())),
        ErrorKind::Malformed,
    );
    assert_rejected(&f, &with("iat", json!("yesterday")), ErrorKind::Malformed);
    assert_rejected(&f, &with("exp", json!(1.5e12)), ErrorKind::Malformed);
    assert_rejected(&f, &with("exp", json!(-1)), ErrorKind::Malformed);
    assert_rejected(&f, &with("exp", json!(null)), ErrorKind::MissingClaim);
}

// --- issuer and audience ----------------------------------------------------------------------

#[test]
fn issuer_and_audience() {
    let f = Fixture::new(Alg::EdDSA);
    let with = |name: &str, v: serde_json::Value| f.sign(&f.header(), &f.claims_with(name, v));
    assert_rejected(&f, &with("iss", json!("evil")), ErrorKind::WrongIssuer);
    assert_rejected(&f, &with("iss", json!("Authbench")), ErrorKind::WrongIssuer);
    assert_rejected(
        &f,
        &with("iss", serde_json::Value::Null),
        ErrorKind::MissingClaim,
    );
    assert_rejected(&f, &with("iss", json!(42)), ErrorKind::Malformed);
    assert_rejected(
        &f,
        &with("aud", json!("other-api")),
        ErrorKind::WrongAudience,
    );
    assert_rejected(&f, &with("aud", json!([])), ErrorKind::WrongAudience);
    assert_rejected(
        &f,
        &with("aud", json!(["a", "b"])),
        ErrorKind::WrongAudience,
    );
    assert_rejected(
        &f,
        &with("aud", serde_json::Value::Null),
        ErrorKind::MissingClaim,
    );
    assert_rejected(&f, &with("aud", json!(42)), ErrorKind::Malformed);
    assert_rejected(&f, &with("aud", json!([AUD, 42])), ErrorKind::Malformed);
    let claims = f
        .verifier
        .verify(&with("aud", json!(["other-api", AUD])))
        .expect("array with ours");
    assert_eq!(claims["aud"], json!(["other-api", AUD]));
}

// --- duplicates, crit, typ --------------------------------------------------------------------

#[test]
fn duplicate_claim_and_header_names_are_rejected() {
    let f = Fixture::new(Alg::HS256);
    let header = f.header().to_string();
    let claims = f.claims().to_string();
    let body = claims.trim_start_matches('{');
    for dup in [
        format!("{{\"exp\":{},{body}", NOW - 100),
        format!("{{\"sub\":\"admin\",{body}"),
        format!("{{\"tenant\":\"globex\",{body}"),
        format!("{{\"x\":1,\"x\":2,{body}"),
        format!("{{\"s\\u0075b\":\"admin\",{body}"),
    ] {
        assert_rejected(
            &f,
            &f.sign_raw(header.as_bytes(), dup.as_bytes()),
            ErrorKind::Malformed,
        );
    }
    let h = header.trim_start_matches('{');
    for dup in [
        format!("{{\"alg\":\"none\",{h}"),
        format!("{{\"kid\":\"x\",{h}"),
        format!("{{\"typ\":\"JWT\",{h}"),
    ] {
        assert_rejected(
            &f,
            &f.sign_raw(dup.as_bytes(), claims.as_bytes()),
            ErrorKind::Malformed,
        );
    }
}

#[test]
fn any_crit_is_unsupported() {
    let f = Fixture::new(Alg::PS256);
    for crit in [json!(["exp"]), json!(["b64"]), json!([]), json!("x")] {
        let token = f.sign(&f.header_with("crit", crit), &f.claims());
        assert_rejected(&f, &token, ErrorKind::UnsupportedCritical);
    }
}

#[test]
fn typ_must_match_when_configured() {
    let f = Fixture::new(Alg::HS256);
    for bad in [
        json!("JWT"),
        json!("id+jwt"),
        json!("application/jwt"),
        serde_json::Value::Null,
    ] {
        assert_rejected(
            &f,
            &f.sign(&f.header_with("typ", bad), &f.claims()),
            ErrorKind::WrongType,
        );
    }
    for good in [
        "at+jwt",
        "AT+JWT",
        "application/at+jwt",
        "Application/At+JWT",
    ] {
        let token = f.sign(&f.header_with("typ", json!(good)), &f.claims());
        assert_eq!(f.kind(&token), None, "{good}");
    }
    assert_rejected(
        &f,
        &f.sign(&f.header_with("typ", json!(5)), &f.claims()),
        ErrorKind::Malformed,
    );
}

// --- shape and encoding -----------------------------------------------------------------------

#[test]
fn header_not_an_object_not_utf8_and_payload_not_json() {
    let f = Fixture::new(Alg::HS256);
    let claims = f.claims().to_string();
    for header in [
        &b"\"HS256\""[..],
        b"[]",
        b"null",
        b"{\"alg\":\"HS256\"",
        b"{\"alg\":\"\xff\"}",
        b"\xff\xfe",
    ] {
        assert_rejected(
            &f,
            &f.sign_raw(header, claims.as_bytes()),
            ErrorKind::Malformed,
        );
    }
    let header = f.header().to_string();
    for payload in [
        &b"hello"[..],
        b"[1,2]",
        b"\"secret-looking-string\"",
        b"{\"sub\":\"\xff\"}",
        b"",
        b"{} {}",
    ] {
        let token = f.sign_raw(header.as_bytes(), payload);
        let err = f.verifier.verify(&token).expect_err("rejected");
        assert_eq!(err.kind(), ErrorKind::Malformed, "{payload:?}");
        assert!(!err.to_string().contains("secret-looking"), "{err}");
    }
}

#[test]
fn encoding_and_segment_tricks_are_malformed() {
    let f = Fixture::new(Alg::HS256);
    let good = f.good();
    let (h, p, s) = segments(&good);
    assert_eq!(f.kind(&good), None);
    let json_serialization = json!({"protected": h, "payload": p, "signature": s}).to_string();
    // Non-canonical base64: the last character of a 32-byte HMAC (43 chars) carries 2 unused
    // bits; setting one gives a string that decodes to the same bytes in a lax decoder.
    let last = s.chars().last().expect("non-empty");
    let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let idx = alphabet.find(last).expect("base64url char");
    let lax_twin: char = alphabet.as_bytes()[(idx & !0b11) | 0b01] as char;
    let non_canonical = format!("{h}.{p}.{}{lax_twin}", &s[..s.len() - 1]);
    let cases = [
        ("padding on header", format!("{h}=.{p}.{s}")),
        ("padding on signature", format!("{h}.{p}.{s}=")),
        ("non-canonical trailing bits", non_canonical),
        (
            "standard alphabet",
            format!("{h}.{p}.{}", s.replace(['-', '_'], "+")),
        ),
        ("two segments", format!("{h}.{p}")),
        ("four segments", format!("{h}.{p}.{s}.{s}")),
        ("empty", String::new()),
        ("dots only", "..".to_owned()),
        ("leading space", format!(" {good}")),
        ("trailing newline", format!("{good}\n")),
        ("inner space", format!("{h}. {p}.{s}")),
        ("JSON serialization", json_serialization),
        ("Bearer prefix", format!("Bearer {good}")),
    ];
    for (what, token) in cases {
        if what == "standard alphabet" && !s.contains(['-', '_']) {
            continue;
        }
        assert_eq!(f.kind(&token), Some(ErrorKind::Malformed), "{what}");
    }
}

#[test]
fn oversized_tokens_are_too_large_before_any_decoding_or_crypto() {
    let f = Fixture::new(Alg::RS256);
    // 64 KiB of garbage: TooLarge, not Malformed, so nothing was parsed.
    assert_rejected(&f, &"a".repeat(64 * 1024), ErrorKind::TooLarge);
    // A correctly signed 9 KiB token: TooLarge under the default cap…
    let big = f.sign(
        &f.header(),
        &f.claims_with("pad", json!("x".repeat(9 * 1024))),
    );
    assert_rejected(&f, &big, ErrorKind::TooLarge);
    // …and fine once the cap allows it, so the cap (not the signature) was the reason.
    let mut o = options(Alg::RS256);
    o.max_token_bytes = 64 * 1024;
    let roomy = Verifier::from_keys(vec![f.key.verifying_key()], o).expect("verifier");
    assert!(roomy.verify(&big).is_ok());
    // A huge header is refused even under a generous cap.
    let header = f.header_with("pad", json!("x".repeat(4096)));
    let token = f.sign(&header, &f.claims());
    assert_eq!(
        roomy.verify(&token).map_err(|e| e.kind()).err(),
        Some(ErrorKind::Malformed)
    );
}

// --- JWK import rules -------------------------------------------------------------------------

#[test]
fn jwk_use_and_key_ops_that_forbid_verifying_are_refused_at_import() {
    let key = SigningKey::generate(Alg::ES256).expect("key");
    let base = key.public_jwk().expect("jwk");
    let opts = || VerifierOptions::new([Alg::ES256]);
    let with = |name: &str, v: serde_json::Value| {
        let mut j = base.clone();
        j[name] = v;
        j.to_string()
    };
    assert!(matches!(
        Verifier::from_jwk_json(&with("use", json!("enc")), opts()),
        Err(JwtError::KeyUseForbidsVerify { .. })
    ));
    for ops in [json!(["encrypt"]), json!(["sign"]), json!([])] {
        assert!(matches!(
            Verifier::from_jwk_json(&with("key_ops", ops), opts()),
            Err(JwtError::KeyOpsForbid {
                needed: "verify",
                ..
            })
        ));
    }
    assert!(Verifier::from_jwk_json(&with("key_ops", json!(["verify"])), opts()).is_ok());
    // An `enc` key inside a set makes the set unusable too.
    let set = json!({"keys": [base.clone(), serde_json::from_str::<serde_json::Value>(&with("use", json!("enc"))).expect("json")]});
    assert!(matches!(
        Verifier::from_jwk_json(&set.to_string(), opts()),
        Err(JwtError::KeyUseForbidsVerify { .. })
    ));
    // alg on the JWK must be the requested one.
    assert!(matches!(
        Verifier::from_jwk_json(
            &with("alg", json!("ES384")),
            VerifierOptions::new([Alg::ES256, Alg::ES384])
        ),
        Err(JwtError::KeyTypeMismatch { .. })
    ));
    assert!(matches!(
        Verifier::from_jwk_json(
            &with("alg", json!("ES256")),
            VerifierOptions::new([Alg::HS256])
        ),
        Err(JwtError::KeyAlgMismatch { .. })
    ));
    // Signing keys: use=enc, key_ops without sign, a different alg are refused too.
    let private = key.private_jwk().expect("private jwk");
    let private_with = |name: &str, v: serde_json::Value| {
        let mut j = private.clone();
        j[name] = v;
        j.to_string()
    };
    assert!(SigningKey::from_jwk_json(Alg::ES256, &private_with("use", json!("enc"))).is_err());
    assert!(
        SigningKey::from_jwk_json(Alg::ES256, &private_with("key_ops", json!(["verify"]))).is_err()
    );
    assert!(SigningKey::from_jwk_json(Alg::ES384, &private.to_string()).is_err());
    assert!(matches!(
        SigningKey::from_jwk_json(Alg::ES256, &base.to_string()),
        Err(JwtError::NotAPrivateKey)
    ));
}

#[test]
fn a_jwk_without_alg_must_fit_exactly_one_allowed_algorithm() {
    let key = SigningKey::generate(Alg::RS256).expect("key");
    let mut jwk = key.public_jwk().expect("jwk");
    jwk.as_object_mut().expect("object").remove("alg");
    let jwk = jwk.to_string();
    assert!(matches!(
        Verifier::from_jwk_json(&jwk, VerifierOptions::new([Alg::RS256, Alg::PS256])),
        Err(JwtError::AmbiguousKeyAlgorithm { .. })
    ));
    let v = Verifier::from_jwk_json(&jwk, VerifierOptions::new([Alg::RS256, Alg::ES256]))
        .expect("one fits");
    assert_eq!(v.keys()[0].alg(), Alg::RS256);
    assert!(matches!(
        Verifier::from_jwk_json(&jwk, VerifierOptions::new([Alg::ES256])),
        Err(JwtError::KeyTypeMismatch { .. })
    ));
}

#[test]
fn a_verifier_over_a_set_selects_by_kid() {
    let a = Fixture::new(Alg::ES256);
    let b = SigningKey::generate(Alg::EdDSA).expect("key");
    let set = json!({"keys": [a.key.public_jwk(), b.public_jwk()]}).to_string();
    let mut o = options(Alg::ES256);
    o.algorithms = vec![Alg::ES256, Alg::EdDSA];
    let v = Verifier::from_jwk_json(&set, o).expect("set");
    assert!(v.verify(&a.good()).is_ok());
    let mut h = a.header();
    h["alg"] = json!("EdDSA");
    h["kid"] = json!(b.kid());
    let by_b = dangerous::sign_raw(
        h.to_string().as_bytes(),
        a.claims().to_string().as_bytes(),
        &b,
    )
    .expect("sign");
    assert!(v.verify(&by_b).is_ok());
    // Without a kid, two keys are ambiguous.
    let no_kid = a.sign(&a.header_with("kid", serde_json::Value::Null), &a.claims());
    assert_eq!(
        v.verify(&no_kid).map_err(|e| e.kind()).err(),
        Some(ErrorKind::UnknownKey)
    );
    // With one key, a missing kid is fine.
    assert_eq!(a.kind(&no_kid), None);
}
