//! Property tests of credential extraction and session-ID parsing (the in-suite cousins of the
//! `credential` cargo-afl target in `fuzz/`):
//!
//! - arbitrary `Authorization` and `Cookie` bytes never panic the extractor, which answers
//!   `Missing`, `Malformed`, or a non-empty token it found in exactly one place;
//! - `Bearer` in any case, followed by any number of spaces, yields the token; our cookie is
//!   found among any other cookies;
//! - arbitrary strings presented to the session backend (on a real Redis) never panic it and
//!   are never accepted, and well-shaped but unknown IDs are refused too.

mod common;

use authbench_core::{Authenticator, ErrorKind, SystemClock};
use authbench_server::COOKIE_NAME;
use authbench_server::extract::credential;
use axum::http::{HeaderMap, HeaderValue, header};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use std::sync::Arc;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// The b64token alphabet of RFC 6750 (without the trailing `=`s it allows).
const B64TOKEN: &str = "[A-Za-z0-9._~+/-]{1,100}";

fn headers(auth: &[Vec<u8>], cookies: &[Vec<u8>]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (name, values) in [(header::AUTHORIZATION, auth), (header::COOKIE, cookies)] {
        for v in values {
            // Bytes hyper would never hand over (control characters) are skipped.
            if let Ok(v) = HeaderValue::from_bytes(v) {
                h.append(name.clone(), v);
            }
        }
    }
    h
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_headers_never_panic_and_answer_sensibly(
        auth in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..80), 0..3),
        cookies in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..200), 0..4),
    ) {
        let h = headers(&auth, &cookies);
        match credential(&h) {
            Ok(token) => {
                prop_assert!(!token.is_empty());
                prop_assert!(!token.contains(';'));
                let n_auth = h.get_all(header::AUTHORIZATION).iter().count();
                prop_assert!(n_auth <= 1, "chose among {n_auth} Authorization headers");
            }
            Err(kind) => prop_assert!(matches!(kind, ErrorKind::Missing | ErrorKind::Malformed)),
        }
    }

    #[test]
    fn bearer_in_any_case_and_spacing_yields_the_token(
        upper in prop::collection::vec(any::<bool>(), 6),
        spaces in 1usize..8,
        token in B64TOKEN,
        padding in 0usize..3,
    ) {
        let scheme: String = "bearer"
            .chars()
            .zip(&upper)
            .map(|(c, &u)| if u { c.to_ascii_uppercase() } else { c })
            .collect();
        let token = format!("{token}{}", "=".repeat(padding));
        let value = format!("{scheme}{}{token}", " ".repeat(spaces));
        let h = headers(&[value.into_bytes()], &[]);
        prop_assert_eq!(credential(&h), Ok(token.as_str()));
    }

    #[test]
    fn our_cookie_is_found_among_any_others(
        before in prop::collection::vec(("[a-z]{1,8}", "[a-zA-Z0-9]{0,8}"), 0..20),
        after in prop::collection::vec(("[a-z]{1,8}", "[a-zA-Z0-9]{0,8}"), 0..20),
        token in "[A-Za-z0-9_-]{1,100}",
    ) {
        let pair = |(n, v): &(String, String)| format!("{n}={v}");
        let mut parts: Vec<String> = before.iter().map(pair).collect();
        parts.push(format!("{COOKIE_NAME}={token}"));
        parts.extend(after.iter().map(pair));
        let h = headers(&[], &[parts.join("; ").into_bytes()]);
        prop_assert_eq!(credential(&h), Ok(token.as_str()));
    }
}

#[test]
fn arbitrary_session_ids_are_refused_without_panic() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let redis = common::redis();
    let backend = rt.block_on(common::session_backend(&redis, Arc::new(SystemClock)));
    let id_len = backend.id_len();
    let mut runner = TestRunner::new(Config {
        cases: 256,
        failure_persistence: None,
        ..Config::default()
    });
    // Arbitrary strings (mostly the wrong shape: refused before Redis), and strings of exactly
    // an ID's length and alphabet (asked of Redis: unknown).
    let any_string = prop::collection::vec(any::<char>(), 0..600)
        .prop_map(|c| c.into_iter().collect::<String>())
        .boxed();
    let id_shaped = proptest::string::string_regex(&format!("[A-Za-z0-9_-]{{{id_len}}}"))
        .expect("regex")
        .boxed();
    let strategy = prop_oneof![any_string, id_shaped];
    runner
        .run(&strategy, |presented| {
            let result = rt.block_on(backend.verify(&presented));
            let Err(e) = result else {
                return Err(TestCaseError::fail(format!("accepted {presented:?}")));
            };
            prop_assert!(
                e.kind().is_rejected(),
                "{presented:?} gave {:?}, not a rejection",
                e.kind()
            );
            Ok(())
        })
        .expect("every presented ID refused");
}
