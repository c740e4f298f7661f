//! The shared conformance suite: the JWT backend keeps the same contract as the session one,
//! for every algorithm. "Foreign" credentials come from a second backend with its own key.

use authbench_core::{DEFAULT_LEEWAY_SECS, ManualClock};
use authbench_jwt::{Alg, JwtBackend, JwtConfig};
use authbench_testkit::{ConformanceOptions, conformance};
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_algorithm_passes_the_conformance_suite() {
    for alg in Alg::ALL {
        let clock = ManualClock::at_system_time();
        let config = JwtConfig::new(alg);
        let lifetime = config.ttl_secs;
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
        assert!(report.skipped.is_empty(), "{alg}: {report:?}");
        assert_eq!(report.passed.len(), 12, "{alg}: {report:?}");
    }
}
