//! How much to measure: the `smoke`, `quick` and `full` profiles.
//!
//! The plan's type is [`authbench_spec::record::plan::Plan`] (it goes into `run.json`); the
//! profiles' figures are here.

use crate::capacity::SearchPlan;
use crate::micro::MicroPlan;
use crate::revocation::RevocationPlan;
use authbench_spec::Stack;
use authbench_spec::{Alg, JweAlg};
use std::time::Duration;

pub use authbench_spec::record::plan::{Plan, Profile};

/// The plan of `profile` on a machine with `cores` CPUs.
pub fn new(profile: Profile, cores: usize) -> Plan {
    let loadgen_threads = cores.clamp(1, 4);
    match profile {
        Profile::Smoke => Plan {
            profile,
            users: 20,
            login_cost_users: 5,
            http_algs: vec![Alg::HS256],
            http_jwe: vec![JweAlg::Dir],
            http_duration: Duration::from_millis(300),
            http_warmup: Duration::from_millis(100),
            reps: 1,
            closed_connections: vec![1, 8],
            open_fractions: vec![0.5],
            capacity_search: Some(SearchPlan {
                steps: 1,
                probe: Duration::from_millis(200),
                warmup: Duration::from_millis(50),
            }),
            open_connections: 8,
            redis_delays_ms: vec![0.0, 1.0],
            redis_benchmark_requests: 2_000,
            micro: MicroPlan {
                batches: 3,
                batch_time: Duration::from_millis(5),
                session_samples: 50,
            },
            revocation: RevocationPlan {
                users: 50,
                revoke_fraction: 0.04,
                after: Duration::from_millis(500),
                background_rps: 200.0,
                outage: Duration::from_millis(2000),
                refresh_access_ttl_s: 60,
            },
            baselines: Stack::ALL.into_iter().filter(|s| !s.is_control()).collect(),
            loadgen_threads,
        },
        Profile::Quick => Plan {
            profile,
            users: 200,
            login_cost_users: 20,
            http_algs: vec![Alg::HS256, Alg::ES256, Alg::EdDSA, Alg::RS256],
            http_jwe: vec![JweAlg::Dir, JweAlg::EcdhEsA256kw],
            http_duration: Duration::from_millis(250),
            http_warmup: Duration::from_millis(50),
            reps: 3,
            closed_connections: vec![1, 32],
            open_fractions: vec![0.5, 0.9],
            capacity_search: Some(SearchPlan {
                steps: 2,
                probe: Duration::from_millis(200),
                warmup: Duration::from_millis(50),
            }),
            open_connections: 32,
            redis_delays_ms: vec![0.0, 0.2, 1.0],
            redis_benchmark_requests: 10_000,
            micro: MicroPlan {
                batches: 9,
                batch_time: Duration::from_millis(8),
                session_samples: 1_000,
            },
            revocation: RevocationPlan {
                users: 500,
                revoke_fraction: 0.01,
                after: Duration::from_millis(400),
                background_rps: 1000.0,
                outage: Duration::from_millis(1000),
                refresh_access_ttl_s: 60,
            },
            // The peers only: the our-claims controls attribute a gap, which a 0.25 s window
            // cannot resolve anyway (full profile only; see schema.md, Profiles).
            baselines: Stack::ALL.into_iter().filter(|s| !s.is_control()).collect(),
            loadgen_threads,
        },
        Profile::Full => Plan {
            profile,
            users: 2_000,
            login_cost_users: 200,
            http_algs: vec![Alg::HS256, Alg::ES256, Alg::EdDSA, Alg::RS256],
            http_jwe: vec![JweAlg::Dir, JweAlg::EcdhEsA256kw],
            http_duration: Duration::from_secs(5),
            http_warmup: Duration::from_secs(1),
            reps: 3,
            closed_connections: vec![1, 32],
            open_fractions: vec![0.5, 0.9],
            capacity_search: Some(SearchPlan {
                steps: 4,
                probe: Duration::from_secs(1),
                warmup: Duration::from_millis(250),
            }),
            open_connections: 32,
            redis_delays_ms: vec![0.0, 0.2, 1.0],
            redis_benchmark_requests: 100_000,
            micro: MicroPlan {
                batches: 31,
                batch_time: Duration::from_millis(20),
                session_samples: 10_000,
            },
            revocation: RevocationPlan {
                users: 2000,
                revoke_fraction: 0.01,
                after: Duration::from_millis(3000),
                background_rps: 2000.0,
                outage: Duration::from_millis(3000),
                refresh_access_ttl_s: 60,
            },
            baselines: Stack::ALL.to_vec(),
            loadgen_threads,
        },
    }
}
