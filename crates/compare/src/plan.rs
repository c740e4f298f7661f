//! How much to measure: the `smoke`, `quick` and `full` profiles.

use crate::capacity::SearchPlan;
use crate::micro::MicroPlan;
use crate::revocation::RevocationPlan;
use authbench_baselines::Stack;
use authbench_spec::{Alg, JweAlg};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// A named measurement budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Profile {
    /// Seconds: proves the pipeline end to end (the test suite runs it); figures are noise.
    Smoke,
    /// A few minutes on a 2-core machine: every measurement, short.
    Quick,
    /// The reference run: under twenty minutes.
    Full,
}

/// Everything a profile fixes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Plan {
    /// The profile.
    pub profile: Profile,
    /// Users seeded on each server and logged in (one credential each, picked per request).
    pub users: usize,
    /// Logins timed against a server with the real (OWASP) argon2id cost.
    pub login_cost_users: usize,
    /// JWT algorithms served over HTTP (the micro measurements cover all six).
    pub http_algs: Vec<Alg>,
    /// JWE modes served over HTTP (`--jwe-alg` values; the micro measurements cover every
    /// mode). Absent in runs before schema 2.
    #[serde(default)]
    pub http_jwe: Vec<JweAlg>,
    /// Measured length of one HTTP run.
    #[serde(with = "crate::secs_f64")]
    pub http_duration: Duration,
    /// Unrecorded warm-up before each HTTP run.
    #[serde(with = "crate::secs_f64")]
    pub http_warmup: Duration,
    /// Repetitions of every HTTP measurement, interleaved across configurations.
    pub reps: usize,
    /// Connection counts of the closed-loop runs.
    pub closed_connections: Vec<usize>,
    /// Open-loop rates as fractions of each target's open-loop capacity (runs before schema 4:
    /// of its median closed-loop maximum, and no search).
    pub open_fractions: Vec<f64>,
    /// The open-loop capacity search that sets the open-loop rates. Absent in runs before
    /// schema 4.
    #[serde(default)]
    pub capacity_search: Option<SearchPlan>,
    /// Connections of the open-loop runs.
    pub open_connections: usize,
    /// One-way delays the Redis proxy adds, milliseconds (0 = direct).
    pub redis_delays_ms: Vec<f64>,
    /// `redis-benchmark -n` per client count.
    pub redis_benchmark_requests: usize,
    /// In-process micro measurements.
    pub micro: MicroPlan,
    /// Off-the-shelf stacks measured beside ours in the closed-loop HTTP runs. Absent in runs
    /// before schema 3.
    #[serde(default, with = "stacks")]
    pub baselines: Vec<Stack>,
    /// Threads of the load generator.
    pub loadgen_threads: usize,
    /// The revocation experiment.
    pub revocation: RevocationPlan,
}

impl Plan {
    /// The plan of `profile` on a machine with `cores` CPUs.
    pub fn new(profile: Profile, cores: usize) -> Self {
        let loadgen_threads = cores.clamp(1, 4);
        match profile {
            Profile::Smoke => Self {
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
            Profile::Quick => Self {
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
            Profile::Full => Self {
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
}

/// `Vec<Stack>` as the stacks' names.
mod stacks {
    use authbench_baselines::Stack;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub(super) fn serialize<S: Serializer>(v: &[Stack], s: S) -> Result<S::Ok, S::Error> {
        v.iter()
            .map(|stack| stack.name())
            .collect::<Vec<_>>()
            .serialize(s)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Stack>, D::Error> {
        Vec::<String>::deserialize(d)?
            .iter()
            .map(|name| name.parse().map_err(serde::de::Error::custom))
            .collect()
    }
}
