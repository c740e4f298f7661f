//! External truth: the JWS examples of RFC 7515, RFC 7520 and RFC 8037, verbatim.

mod common;

use authbench_core::ErrorKind;
use authbench_jwt::{Alg, JwtError, Verifier, VerifierOptions};
use common::{b64, segments, unb64};
use serde_json::Value;

/// Just before the vectors' `exp` (1300819380, in March 2011).
const VECTOR_NOW: u64 = 1_300_819_300;

fn vectors() -> Value {
    serde_json::from_str(include_str!("data/rfc-vectors.json")).expect("vector file is JSON")
}

fn vector(name: &str) -> (Alg, String, String) {
    let v = &vectors()[name];
    let alg = v["alg"]
        .as_str()
        .expect("alg")
        .parse()
        .expect("one of ours");
    (
        alg,
        v["jwk"].to_string(),
        v["token"].as_str().expect("token").to_owned(),
    )
}

fn verifier(jwk: &str, alg: Alg, now: Option<u64>) -> Verifier {
    let mut o = VerifierOptions::new([alg]);
    o.now = now;
    Verifier::from_jwk_json(jwk, o).expect("vector key imports")
}

#[test]
fn rfc7515_a1_a2_a3_verify_before_expiry_and_are_expired_now() {
    for name in ["rfc7515_A1_HS256", "rfc7515_A2_RS256", "rfc7515_A3_ES256"] {
        let (alg, jwk, token) = vector(name);
        let claims = verifier(&jwk, alg, Some(VECTOR_NOW))
            .verify(&token)
            .expect(name);
        assert_eq!(claims["iss"], "joe", "{name}");
        assert_eq!(claims["exp"], 1_300_819_380u64, "{name}");
        assert_eq!(claims["http://example.com/is_root"], true, "{name}");
        let err = verifier(&jwk, alg, None)
            .verify(&token)
            .expect_err("2011 is past");
        assert_eq!(err.kind(), ErrorKind::Expired, "{name}");
        // With issuer checks on, "joe" is not us.
        let mut o = VerifierOptions::new([alg]);
        o.now = Some(VECTOR_NOW);
        o.issuer = Some("authbench".into());
        let strict = Verifier::from_jwk_json(&jwk, o).expect("imports");
        assert_eq!(
            strict.verify(&token).map_err(|e| e.kind()).err(),
            Some(ErrorKind::WrongIssuer)
        );
    }
}

#[test]
fn rfc7515_tokens_with_any_payload_byte_changed_are_rejected() {
    for name in ["rfc7515_A1_HS256", "rfc7515_A2_RS256", "rfc7515_A3_ES256"] {
        let (alg, jwk, token) = vector(name);
        let v = verifier(&jwk, alg, Some(VECTOR_NOW));
        let (h, p, s) = segments(&token);
        let payload = unb64(&p);
        for i in 0..payload.len() {
            for flip in [0x01u8, 0x20, 0x80] {
                let mut changed = payload.clone();
                changed[i] ^= flip;
                let forged = format!("{h}.{}.{s}", b64(&changed));
                let kind = v.verify(&forged).expect_err("altered payload").kind();
                assert!(
                    matches!(kind, ErrorKind::BadSignature | ErrorKind::Malformed),
                    "{name} byte {i} ^ {flip:#x}: {kind:?}"
                );
            }
        }
    }
}

#[test]
fn rfc7520_and_rfc8037_vectors_verify_but_their_payloads_are_not_claims() {
    // These payloads are prose ("It's a dangerous business, Frodo…", "Example of Ed25519
    // signing"), not a JWT claims set. A JWT verifier must say Malformed, and must say it only
    // after the signature verified: a corrupted signature gives BadSignature instead.
    for name in ["rfc7520_4_1_RS256", "rfc7520_4_4_HS256", "rfc8037_A4_EdDSA"] {
        let (alg, jwk, token) = vector(name);
        let v = verifier(&jwk, alg, Some(VECTOR_NOW));
        let err = v.verify(&token).expect_err("not claims");
        assert_eq!(err.kind(), ErrorKind::Malformed, "{name}: {err}");
        assert!(err.detail().contains("payload"), "{name}: {err}");
        let (h, p, s) = segments(&token);
        let mut sig = unb64(&s);
        sig[0] ^= 1;
        let forged = format!("{h}.{p}.{}", b64(&sig));
        assert_eq!(
            v.verify(&forged).map_err(|e| e.kind()).err(),
            Some(ErrorKind::BadSignature),
            "{name}"
        );
    }
}

#[test]
fn rfc7520_vectors_carry_a_kid_that_must_match() {
    let (alg, jwk, token) = vector("rfc7520_4_4_HS256");
    let mut jwk: Value = serde_json::from_str(&jwk).expect("json");
    jwk["kid"] = "someone-else".into();
    let v = verifier(&jwk.to_string(), alg, Some(VECTOR_NOW));
    assert_eq!(
        v.verify(&token).map_err(|e| e.kind()).err(),
        Some(ErrorKind::UnknownKey)
    );
}

#[test]
fn algorithms_we_do_not_offer_are_not_allowed() {
    // ES512 (RFC 7515 A.4, RFC 7520 4.3) and PS384 (RFC 7520 4.2).
    let (_, a3_jwk, _) = vector("rfc7515_A3_ES256");
    let es = verifier(&a3_jwk, Alg::ES256, Some(VECTOR_NOW));
    let (_, rsa_jwk, _) = vector("rfc7520_4_1_RS256");
    let ps = verifier(&rsa_jwk, Alg::PS256, Some(VECTOR_NOW));
    let rs = verifier(&rsa_jwk, Alg::RS256, Some(VECTOR_NOW));
    for (name, v) in [
        ("rfc7515_A4_ES512", &es),
        ("rfc7520_4_3_ES512", &es),
        ("rfc7520_4_2_PS384", &ps),
        ("rfc7520_4_2_PS384", &rs),
    ] {
        let token = vectors()[name]["token"].as_str().expect("token").to_owned();
        let err = v.verify(&token).expect_err("not allowed");
        assert_eq!(err.kind(), ErrorKind::AlgorithmNotAllowed, "{name}: {err}");
    }
    // And a P-521 key cannot even be imported for any algorithm we have.
    let p521 = vectors()["rfc7515_A4_ES512"]["jwk"].to_string();
    assert!(matches!(
        Verifier::from_jwk_json(&p521, VerifierOptions::new(Alg::ALL)),
        Err(JwtError::KeyTypeMismatch { .. })
    ));
}
