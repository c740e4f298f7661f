//! The shared conformance suite: the JWT backend keeps the same contract as the session one,
//! for every algorithm and every revocation strategy. "Foreign" credentials come from a second
//! backend with its own key (on the same Redis, for the strategies that use one).

mod capabilities;

use authbench_core::{DEFAULT_LEEWAY_SECS, ManualClock};
use authbench_jwt::{Alg, JwtBackend, JwtConfig, Revocation};
use authbench_services::RedisServer;
use authbench_testkit::{ConformanceOptions, ConformanceReport, StoreControl, conformance};
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_algorithm_passes_the_conformance_suite() {
    for alg in Alg::ALL {
        let clock = ManualClock::at_system_time();
        let config = JwtConfig::new(alg);
        let lifetime = config.policy.ttl_secs;
        let backend = JwtBackend::new(config.clone(), Arc::new(clock.clone())).expect("backend");
        let foreign = JwtBackend::new(config, Arc::new(clock.clone())).expect("foreign backend");
        let report = conformance(
            Arc::new(backend),
            &clock,
            ConformanceOptions::new(lifetime)
                .with_leeway(DEFAULT_LEEWAY_SECS)
                .with_foreign(Arc::new(foreign)),
        )
        .await;
        assert_skips(&report, alg, Revocation::None);
    }
}

/// Runs the suite for `revocation` with `alg` against a private Redis; returns the report.
async fn strategy(alg: Alg, revocation: Revocation) -> ConformanceReport {
    let redis = RedisServer::start().unwrap_or_else(|e| panic!("{e}"));
    let clock = ManualClock::at_system_time();
    let config = JwtConfig::new(alg).with_revocation(revocation);
    let lifetime = config.policy.ttl_secs;
    let backend = JwtBackend::connect(config.clone(), Arc::new(clock.clone()), &redis.url())
        .await
        .expect("backend");
    let foreign = JwtBackend::connect(config, Arc::new(clock.clone()), &redis.url())
        .await
        .expect("foreign backend");
    conformance(
        Arc::new(backend),
        &clock,
        ConformanceOptions::new(lifetime)
            .with_leeway(DEFAULT_LEEWAY_SECS)
            .with_foreign(Arc::new(foreign))
            .with_store(StoreControl::redis(redis)),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn denylist_passes_the_conformance_suite() {
    for alg in [Alg::ES256, Alg::HS256, Alg::EdDSA] {
        let report = strategy(alg, Revocation::Denylist).await;
        assert_skips(&report, alg, Revocation::Denylist);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn epoch_passes_the_conformance_suite_without_single_revocation() {
    for alg in [Alg::ES256, Alg::HS256] {
        let report = strategy(alg, Revocation::Epoch).await;
        // An epoch ends all of a user's tokens; it cannot name one: `revoke` is Unsupported,
        // which the suite allows for this model and reports as skipped.
        assert!(report.passed.contains(&"revoke_all"), "{alg}: {report:?}");
        assert_skips(&report, alg, Revocation::Epoch);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_passes_the_conformance_suite() {
    for alg in [Alg::ES256, Alg::HS256] {
        let report = strategy(alg, Revocation::Refresh).await;
        assert_skips(&report, alg, Revocation::Refresh);
    }
}

/// The checks the suite skips are exactly the capabilities `revocation` and `alg` lack
/// ([`capabilities::expected_skips`]), and every other check passed.
fn assert_skips(report: &ConformanceReport, alg: Alg, revocation: Revocation) {
    // `none` uses no store; every strategy that does is given its private Redis to stop.
    let expected = capabilities::expected_skips(alg, revocation, revocation != Revocation::None);
    assert_eq!(
        report.skipped_names(),
        expected,
        "{alg} {revocation}: {report:?}"
    );
    assert_eq!(
        report.passed.len(),
        16 - expected.len(),
        "{alg} {revocation}: {report:?}"
    );
}
