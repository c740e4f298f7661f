//! The "jsonwebtoken default" column of the crate README's attack table, demonstrated: what
//! `jsonwebtoken::decode` with a default `Validation` accepts that our `Verifier` refuses.
//! If jsonwebtoken tightens a default, the matching test here fails and the README table
//! needs updating.

mod common;

use authbench_core::ErrorKind;
use authbench_jwt::Alg;
use common::*;
use serde_json::{Value, json};

fn jsonwebtoken_accepts(f: &Fixture, token: &str) -> bool {
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.set_audience(&[AUD]);
    validation.set_issuer(&[ISS]);
    let key = f.key.verifying_key();
    jsonwebtoken::decode::<Value>(token, key.decoding_key(), &validation).is_ok()
}

/// Claims valid against the real clock (jsonwebtoken reads the system time).
fn live_claims(f: &Fixture) -> Value {
    let now = authbench_core::Clock::now(&authbench_core::SystemClock);
    let mut c = f.claims();
    c["exp"] = json!(now + 600);
    c["nbf"] = json!(now);
    c["iat"] = json!(now);
    c
}

#[test]
fn where_the_library_default_is_lax_and_we_are_strict() {
    let f = Fixture::new(Alg::HS256);
    let now = authbench_core::Clock::now(&authbench_core::SystemClock);
    let mut o = options(Alg::HS256);
    o.now = None;
    let ours =
        authbench_jwt::Verifier::from_keys(vec![f.key.verifying_key()], o).expect("verifier");

    let cases: Vec<(&str, String, ErrorKind)> = vec![
        (
            "nbf in the future",
            {
                let mut c = live_claims(&f);
                c["nbf"] = json!(now + 3600);
                f.sign(&f.header(), &c)
            },
            ErrorKind::NotYetValid,
        ),
        (
            "iat far in the future",
            {
                let mut c = live_claims(&f);
                c["iat"] = json!(now + 86_400 * 365);
                f.sign(&f.header(), &c)
            },
            ErrorKind::IssuedInFuture,
        ),
        (
            "unknown crit",
            f.sign(
                &f.header_with("crit", json!(["urn:example:x"])),
                &live_claims(&f),
            ),
            ErrorKind::UnsupportedCritical,
        ),
        (
            "wrong typ",
            f.sign(&f.header_with("typ", json!("id+jwt")), &live_claims(&f)),
            ErrorKind::WrongType,
        ),
        (
            "numeric iss",
            {
                let mut c = live_claims(&f);
                c["iss"] = json!(12345);
                f.sign(&f.header(), &c)
            },
            ErrorKind::Malformed,
        ),
        (
            "numeric aud",
            {
                let mut c = live_claims(&f);
                c["aud"] = json!(12345);
                f.sign(&f.header(), &c)
            },
            ErrorKind::Malformed,
        ),
        (
            "oversized",
            {
                let mut c = live_claims(&f);
                c["pad"] = json!("x".repeat(64 * 1024));
                f.sign(&f.header(), &c)
            },
            ErrorKind::TooLarge,
        ),
    ];
    for (what, token, ours_says) in cases {
        assert!(
            jsonwebtoken_accepts(&f, &token),
            "jsonwebtoken now rejects: {what}"
        );
        assert_eq!(
            ours.verify(&token).map_err(|e| e.kind()).err(),
            Some(ours_says),
            "{what}"
        );
    }
    // Sanity: both accept a good token.
    let good = f.sign(&f.header(), &live_claims(&f));
    assert!(jsonwebtoken_accepts(&f, &good));
    assert!(ours.verify(&good).is_ok());
}
