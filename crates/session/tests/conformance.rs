//! The shared conformance suite against a real Redis: the session backend keeps the contract.

mod common;

use authbench_session::{SessionBackend, SessionConfig};
use authbench_testkit::{ConformanceOptions, StoreControl, conformance};
use common::fixture_with;
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_backend_passes_the_conformance_suite() {
    let f = fixture_with(|_| {}).await;
    // Another instance of the same backend: same Redis, its own key space. Its IDs are well
    // formed but mean nothing here.
    let mut other = SessionConfig::new(f.redis.url());
    other.key_prefix = "someone-else".into();
    let foreign = SessionBackend::connect(other, Arc::new(f.clock.clone()))
        .await
        .expect("foreign instance");

    let lifetime = f.backend.config().initial_lifetime_secs();
    let report = conformance(
        Arc::clone(&f.backend),
        &f.clock,
        ConformanceOptions::new(lifetime)
            .with_foreign(Arc::new(foreign))
            .with_store(StoreControl::redis(f.redis)),
    )
    .await;
    // A session publishes no keys; every other clause, listing, updates and failing closed
    // on a stopped Redis included, holds.
    assert_eq!(report.skipped_names(), ["published_keys"], "{report:?}");
    assert_eq!(report.passed.len(), 15, "{report:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn minimal_ids_and_short_absolute_timeout_pass_too() {
    // 128-bit IDs (a 22-character secret after the tag and the dot), and an absolute timeout shorter than the idle one, so the
    // lifetime the suite checks is the absolute one.
    let f = fixture_with(|c| {
        c.id_bytes = 16;
        c.idle_timeout_secs = 600;
        c.absolute_timeout_secs = 120;
    })
    .await;
    assert_eq!(f.backend.id_len(), 2 + 1 + 22);
    let report = conformance(
        Arc::clone(&f.backend),
        &f.clock,
        ConformanceOptions::new(120).with_concurrent_verifies(200),
    )
    .await;
    assert_eq!(
        report.skipped_names(),
        ["foreign", "published_keys", "fail_closed"],
        "only `foreign` and `fail_closed` (not given) and `published_keys` (none to publish) are skipped: {report:?}"
    );
}
