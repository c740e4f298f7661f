//! The shared conformance suite, for every JWE mode, plain and nested. "Foreign" credentials
//! come from a second backend with its own key.

use authbench_core::{DEFAULT_LEEWAY_SECS, ManualClock};
use authbench_jwe::{JweBackend, JweConfig, KeyAlg};
use authbench_jwt::Alg;
use authbench_testkit::{ConformanceOptions, conformance};
use std::sync::Arc;

async fn run(config: JweConfig) {
    let clock = ManualClock::at_system_time();
    let lifetime = config.policy.ttl_secs;
    let name = config.name();
    let backend = JweBackend::new(config.clone(), Arc::new(clock.clone())).expect("backend");
    let foreign = JweBackend::new(config, Arc::new(clock.clone())).expect("foreign backend");
    let report = conformance(
        Arc::new(backend),
        &clock,
        ConformanceOptions::new(lifetime)
            .with_leeway(DEFAULT_LEEWAY_SECS)
            .with_foreign(Arc::new(foreign)),
    )
    .await;
    // A self-contained token: issued credentials cannot be changed or listed, the JWE keys (a
    // shared secret, or an encryption key pair) are not published as a JWKS, and there is no
    // store to take away.
    assert_eq!(
        report.skipped_names(),
        [
            "update_identity",
            "list_credentials",
            "published_keys",
            "fail_closed"
        ],
        "{name}: {report:?}"
    );
    assert_eq!(report.passed.len(), 12, "{name}: {report:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_mode_passes_the_conformance_suite() {
    // The plain public-key modes only as the insecure opt-in: the codec is the same.
    for alg in KeyAlg::ALL {
        run(JweConfig::new(alg).insecure_unauthenticated()).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nested_tokens_pass_the_conformance_suite() {
    run(JweConfig::new(KeyAlg::EcdhEsA256kw).nested(Alg::ES256)).await;
    run(JweConfig::new(KeyAlg::Dir).nested(Alg::HS256)).await;
}
