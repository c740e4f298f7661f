//! Strict key import on the verifier path (a JWK or a JWK Set given to
//! `Verifier::from_jwk_json`, and so every JWKS a verifier-only instance fetches): each case is
//! refused at import with an error that names the key, where before it was accepted (or, for a
//! short modulus, refused without saying which key).

use authbench_jwt::{Alg, JwtError, SigningKey, Verifier, VerifierOptions};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn public_jwk(alg: Alg) -> Value {
    SigningKey::generate(alg)
        .expect("key")
        .with_kid(format!("the-{alg}-key"))
        .public_jwk()
        .expect("public jwk")
}

fn import(jwk: &str, algs: &[Alg]) -> Result<Verifier, JwtError> {
    Verifier::from_jwk_json(jwk, VerifierOptions::new(algs.to_vec()))
}

/// Asserts a [`JwtError::WeakKey`] for `kid` whose message contains `why`.
fn assert_weak(result: Result<Verifier, JwtError>, kid: &str, why: &str) {
    match result {
        Err(e @ JwtError::WeakKey { .. }) => {
            let message = e.to_string();
            assert!(
                message.contains(&format!("kid \"{kid}\"")) && message.contains(why),
                "{message}"
            );
        }
        Err(e) => panic!("expected a weak-key refusal ({why}), got {e}"),
        Ok(_) => panic!("expected a weak-key refusal ({why}), the key was accepted"),
    }
}

/// The text of `jwk` with a second `name` member, holding `first`, placed before the real
/// one: a generic JSON value keeps the last, so the document reads as the genuine key there.
fn with_duplicate(jwk: &Value, name: &str, first: &str) -> String {
    let text = jwk.to_string();
    text.replacen('{', &format!("{{\"{name}\":\"{first}\","), 1)
}

#[test]
fn a_jwk_member_named_twice_is_refused() {
    let rsa = public_jwk(Alg::RS256);
    let dup = with_duplicate(&rsa, "n", &b64(&[0xff; 256]));
    let err = import(&dup, &[Alg::RS256]).expect_err("duplicate n");
    assert!(matches!(err, JwtError::InvalidJwk(_)), "{err}");
    assert!(err.to_string().contains("duplicate field `n`"), "{err}");
    // In a set: a duplicated member inside a key, and `keys` itself twice.
    let es = public_jwk(Alg::ES256);
    let set = format!(
        "{{\"keys\":[{}]}}",
        with_duplicate(&es, "x", &b64(&[1; 32]))
    );
    assert!(import(&set, &[Alg::ES256]).is_err(), "duplicate x in a set");
    let twice = format!("{{\"keys\":[],\"keys\":[{es}]}}");
    let err = import(&twice, &[Alg::ES256]).expect_err("keys twice");
    assert!(err.to_string().contains("duplicate field `keys`"), "{err}");
    // The control: the same documents without the duplicate import.
    assert!(import(&rsa.to_string(), &[Alg::RS256]).is_ok());
    assert!(import(&json!({"keys": [es]}).to_string(), &[Alg::ES256]).is_ok());
}

#[test]
fn a_set_mixing_symmetric_and_asymmetric_keys_is_refused() {
    let es = public_jwk(Alg::ES256);
    let secret = SigningKey::generate(Alg::HS256)
        .expect("hs256")
        .with_kid("shared-secret")
        .private_jwk()
        .expect("oct jwk");
    // Refused whichever algorithms are allowed: the secret is not skipped as "another alg".
    for algs in [&[Alg::ES256][..], &[Alg::HS256], &[Alg::HS256, Alg::ES256]] {
        let set = json!({"keys": [es, secret]}).to_string();
        let err = import(&set, algs).expect_err("mixed set");
        assert!(matches!(err, JwtError::MixedKeySet { .. }), "{err}");
        let message = err.to_string();
        assert!(
            message.contains("shared-secret") && message.contains("the-ES256-key"),
            "{message}"
        );
    }
    assert!(import(&json!({"keys": [es]}).to_string(), &[Alg::ES256]).is_ok());
    assert!(import(&json!({"keys": [secret]}).to_string(), &[Alg::HS256]).is_ok());
}

/// A 2048-bit modulus with the ROCA fingerprint: M·2^1829 + 65537, where M is the product of
/// the 38 primes of the test (so n mod p = 65537 mod p, a power of 65537, for each of them).
/// Not a product of two primes, which the import never checks; only the fingerprint matters.
fn roca_modulus() -> Vec<u8> {
    const PRIMES: [u32; 38] = [
        3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89,
        97, 101, 103, 107, 109, 113, 127, 131, 137, 139, 149, 151, 157, 163, 167,
    ];
    // Little-endian bytes.
    let mut n = vec![1u8];
    let mul = |n: &mut Vec<u8>, m: u32| {
        let mut carry = 0u32;
        for byte in n.iter_mut() {
            let v = u32::from(*byte) * m + carry;
            *byte = (v & 0xff) as u8;
            carry = v >> 8;
        }
        while carry > 0 {
            n.push((carry & 0xff) as u8);
            carry >>= 8;
        }
    };
    for p in PRIMES {
        mul(&mut n, p);
    }
    mul(&mut n, 1 << 5); // 1829 = 228 × 8 + 5
    let mut shifted = vec![0u8; 228];
    shifted.extend(n);
    shifted[0] = 0x01;
    shifted[2] = 0x01; // + 65537 = 0x010001 (the low bytes were zero)
    shifted.reverse();
    assert_eq!(shifted.len(), 256);
    assert!(shifted[0] >= 0x80, "2048 bits");
    shifted
}

fn rsa_jwk(kid: &str, n: &[u8], e: &[u8]) -> String {
    json!({"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig", "n": b64(n), "e": b64(e)})
        .to_string()
}

#[test]
fn an_rsa_modulus_with_the_roca_fingerprint_is_refused() {
    let n = roca_modulus();
    assert_weak(
        import(&rsa_jwk("infineon", &n, &[1, 0, 1]), &[Alg::RS256]),
        "infineon",
        "ROCA",
    );
    // One more than the fingerprinted modulus (odd again after + 2) has no fingerprint.
    let mut other = n.clone();
    *other.last_mut().expect("byte") += 2;
    assert!(import(&rsa_jwk("fine", &other, &[1, 0, 1]), &[Alg::RS256]).is_ok());
}

#[test]
fn rsa_exponents_below_65537_or_even_are_refused() {
    let good = public_jwk(Alg::RS256);
    let n = URL_SAFE_NO_PAD
        .decode(good["n"].as_str().expect("n"))
        .expect("b64");
    for (e, why) in [
        (&[1u8][..], "below 65537"),
        (&[3], "below 65537"),
        (&[0, 1, 0, 0], "below 65537"),
        (&[1, 0, 2], "even"),
        (&[0x80; 33], "2^256"),
    ] {
        assert_weak(import(&rsa_jwk("k", &n, e), &[Alg::RS256]), "k", why);
    }
    assert!(import(&rsa_jwk("k", &n, &[1, 0, 1]), &[Alg::RS256]).is_ok());
}

#[test]
fn rsa_moduli_under_2048_bits_are_refused_naming_the_key() {
    let good = public_jwk(Alg::RS256);
    let n = URL_SAFE_NO_PAD
        .decode(good["n"].as_str().expect("n"))
        .expect("b64");
    // The top 1024 bits of a real modulus, made odd.
    let mut short = n[..128].to_vec();
    *short.last_mut().expect("byte") |= 1;
    assert_weak(
        import(&rsa_jwk("short", &short, &[1, 0, 1]), &[Alg::RS256]),
        "short",
        "1024 bits",
    );
    // Leading zero bytes do not make a short modulus long.
    let mut padded = vec![0u8; 128];
    padded.extend(&short);
    assert_weak(
        import(&rsa_jwk("padded", &padded, &[1, 0, 1]), &[Alg::RS256]),
        "padded",
        "1024 bits",
    );
}

#[test]
fn ec_points_off_their_curve_are_refused() {
    for alg in [Alg::ES256, Alg::ES384] {
        let mut jwk = public_jwk(alg);
        let mut y = URL_SAFE_NO_PAD
            .decode(jwk["y"].as_str().expect("y"))
            .expect("b64");
        *y.last_mut().expect("byte") ^= 1;
        jwk["y"] = b64(&y).into();
        let kid = format!("the-{alg}-key");
        assert_weak(import(&jwk.to_string(), &[alg]), &kid, "not on");
        // In a set too, where a key of another algorithm would merely be skipped.
        let set = json!({"keys": [jwk, public_jwk(Alg::EdDSA)]}).to_string();
        assert_weak(import(&set, &[alg, Alg::EdDSA]), &kid, "not on");
    }
}
