//! A rough check of the hot-path budget: our strict verify against `jsonwebtoken::decode` with
//! its default `Validation`, same token, same key. Ignored by default (timing in a shared CI
//! box is noise); run with
//! `cargo test --release -p authbench-jwt --test hot_path -- --ignored --nocapture`.
//! The criterion benches are the real measurement; this only catches gross regressions.

use std::sync::Arc;
use std::time::Instant;

use authbench_core::{Identity, ManualClock};
use authbench_jwt::{Alg, AlgExt, JwtBackend, JwtConfig};

/// Iterations per measurement: enough for HS256's ~1 µs to dominate timer noise.
const ITERATIONS: u32 = 20_000;

#[test]
#[ignore = "timing; run explicitly in release mode"]
fn strict_verify_costs_about_what_jsonwebtoken_decode_costs() {
    for alg in [Alg::HS256, Alg::ES256, Alg::EdDSA, Alg::RS256] {
        let clock = ManualClock::at_system_time();
        let backend = JwtBackend::new(JwtConfig::new(alg), Arc::new(clock)).expect("backend");
        let who = Identity {
            subject: "alice".into(),
            tenant: "acme".into(),
            roles: vec!["user".into()],
        };
        let token = backend.issue_now(&who).expect("issue").token;
        let key = backend.verifier().keys()[0].clone();
        let mut validation = jsonwebtoken::Validation::new(alg.to_jsonwebtoken());
        validation.set_audience(&["authbench-api"]);
        let decoding = key.decoding_key().clone();

        let ours = time(|| {
            std::hint::black_box(backend.verify_now(std::hint::black_box(&token)).is_ok());
        });
        let theirs = time(|| {
            let r = jsonwebtoken::decode::<serde_json::Value>(
                std::hint::black_box(&token),
                &decoding,
                &validation,
            );
            std::hint::black_box(r.is_ok());
        });
        assert!(backend.verify_now(&token).is_ok());
        assert!(jsonwebtoken::decode::<serde_json::Value>(&token, &decoding, &validation).is_ok());
        println!(
            "{alg}: ours {:.2} µs, jsonwebtoken::decode {:.2} µs, ratio {:.2}",
            ours,
            theirs,
            ours / theirs
        );
    }
}

fn time(mut f: impl FnMut()) -> f64 {
    for _ in 0..ITERATIONS / 10 {
        f();
    }
    let start = Instant::now();
    for _ in 0..ITERATIONS {
        f();
    }
    start.elapsed().as_secs_f64() * 1e6 / f64::from(ITERATIONS)
}
