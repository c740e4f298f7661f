//! Property tests of the strict verifier and the anatomy (the fast, in-suite cousins of the
//! cargo-afl targets in `fuzz/`):
//!
//! - arbitrary bytes never panic `Verifier::verify`, `anatomy::inspect` or `anatomy::explain`,
//!   and are never accepted;
//! - sign → verify round-trips every claims set, for every algorithm;
//! - any single-byte change to a valid token is rejected, for every algorithm.

use authbench_jwt::{
    Alg, DEFAULT_AUDIENCE, DEFAULT_ISSUER, DEFAULT_TOKEN_TYPE, SigningKey, Verifier,
    VerifierOptions, anatomy, sign,
};
use proptest::prelude::*;
use serde_json::{Value, json};
use std::sync::OnceLock;

/// A frozen "now", so every generated `exp` is meaningful.
const NOW: u64 = 1_900_000_000;

/// One key and one strict verifier per algorithm (RSA key generation is slow: do it once).
fn keys() -> &'static [(SigningKey, Verifier)] {
    static KEYS: OnceLock<Vec<(SigningKey, Verifier)>> = OnceLock::new();
    KEYS.get_or_init(|| {
        Alg::ALL
            .iter()
            .map(|&alg| {
                let key = SigningKey::generate(alg).expect("generate");
                let mut o = VerifierOptions::new(vec![alg]);
                o.issuer = Some(DEFAULT_ISSUER.into());
                o.audience = Some(DEFAULT_AUDIENCE.into());
                o.token_type = Some(DEFAULT_TOKEN_TYPE.into());
                o.now = Some(NOW);
                let verifier = Verifier::from_keys(vec![key.verifying_key()], o).expect("verifier");
                (key, verifier)
            })
            .collect()
    })
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Arbitrary claims an access token could carry, valid at [`NOW`].
fn claims() -> impl Strategy<Value = Value> {
    (
        ".{0,40}",
        "[a-z0-9-]{1,20}",
        prop::collection::vec("[a-z]{1,10}", 0..5),
        1u64..100_000,
        prop::option::of(any::<i64>()),
    )
        .prop_map(|(sub, tenant, roles, ttl, extra)| {
            let mut c = json!({
                "iss": DEFAULT_ISSUER, "aud": DEFAULT_AUDIENCE, "sub": sub, "tenant": tenant,
                "roles": roles, "iat": NOW, "exp": NOW + ttl, "jti": format!("j{ttl}")
            });
            if let Some(x) = extra {
                c["x"] = json!(x);
            }
            c
        })
}

/// Checks `token` against every verifier and the anatomy: no panic, and no acceptance.
fn refuse_everywhere(token: &str) -> Result<(), TestCaseError> {
    for (key, verifier) in keys() {
        prop_assert!(
            verifier.verify(token).is_err(),
            "{} accepted {token:?}",
            key.alg()
        );
    }
    if let Ok(a) = anatomy::inspect(token) {
        prop_assert_eq!(a.total_len, token.len());
        let _ = anatomy::explain(&a, NOW);
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_bytes_never_panic_nor_pass(bytes in prop::collection::vec(any::<u8>(), 0..1500)) {
        refuse_everywhere(&String::from_utf8_lossy(&bytes))?;
    }

    #[test]
    fn arbitrary_jws_shapes_never_panic_nor_pass(
        parts in prop::collection::vec("[A-Za-z0-9_=+/-]{0,200}", 1..5)
    ) {
        refuse_everywhere(&parts.join("."))?;
    }

    /// A JSON header and payload of arbitrary shape, properly base64url-encoded and
    /// unsigned: the parsers behind the segment split see real JSON.
    #[test]
    fn arbitrary_json_segments_never_panic_nor_pass(
        header in prop::collection::btree_map("[a-z]{1,4}", any::<i32>(), 0..6),
        payload in prop::collection::btree_map("[a-z]{1,4}", ".{0,10}", 0..6),
        sig in prop::collection::vec(any::<u8>(), 0..300),
    ) {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let token = format!(
            "{}.{}.{}",
            b64.encode(serde_json::to_vec(&header).unwrap()),
            b64.encode(serde_json::to_vec(&payload).unwrap()),
            b64.encode(sig)
        );
        refuse_everywhere(&token)?;
    }

    #[test]
    fn sign_then_verify_round_trips_for_every_algorithm(alg in 0..Alg::ALL.len(), c in claims()) {
        let (key, verifier) = &keys()[alg];
        let token = sign(&c, key, Some(DEFAULT_TOKEN_TYPE)).expect("sign");
        let verified = verifier.verify(&token);
        prop_assert!(verified.is_ok(), "{}: {:?}", key.alg(), verified.err());
        prop_assert_eq!(verified.unwrap(), c);
    }

    #[test]
    fn any_single_byte_change_is_rejected(
        alg in 0..Alg::ALL.len(),
        c in claims(),
        at in any::<prop::sample::Index>(),
        replacement in any::<u8>(),
    ) {
        let (key, verifier) = &keys()[alg];
        let token = sign(&c, key, Some(DEFAULT_TOKEN_TYPE)).expect("sign");
        let mut bytes = token.clone().into_bytes();
        let i = at.index(bytes.len());
        // A different byte; printable ASCII most of the time, so the change stays a string.
        let new = if replacement < 0x80 {
            b'!' + (bytes[i] - b'!' + 1 + replacement % 93) % 94
        } else {
            replacement
        };
        prop_assume!(new != bytes[i]);
        bytes[i] = new;
        // Bytes that are not UTF-8 cannot even be a header value's string: rejected earlier.
        if let Ok(changed) = String::from_utf8(bytes) {
            let result = verifier.verify(&changed);
            prop_assert!(
                result.is_err(),
                "{}: byte {i} of {token} changed to {:?} and still accepted",
                key.alg(),
                new as char
            );
        }
    }
}

/// Regression (found by the `credential` fuzz target): a token claiming a time past the year
/// 9999 made `anatomy::explain` panic in the date formatter.
#[test]
fn explain_survives_times_past_year_9999() {
    let key = &keys()[0].0;
    for t in [253_402_300_800u64, 2_000_000_220_000, u64::MAX] {
        let token = sign(&json!({"iat": t, "exp": t, "nbf": t}), key, None).expect("sign");
        let a = anatomy::inspect(&token).expect("inspect");
        let text = anatomy::explain(&a, NOW);
        assert!(text.contains("after the year 9999"), "{text}");
        // And "now" itself that far ahead.
        let _ = anatomy::explain(&a, u64::MAX);
    }
}
