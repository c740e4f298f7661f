//! How much a run measured: its profile and everything the profile fixed (`authbench
//! compare`'s `plan` module holds the profiles).

use super::capacity::SearchPlan;
use super::micro::MicroPlan;
use super::revocation::RevocationPlan;
use crate::{Alg, JweAlg, Stack};
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
    #[serde(with = "crate::record::secs_f64")]
    pub http_duration: Duration,
    /// Unrecorded warm-up before each HTTP run.
    #[serde(with = "crate::record::secs_f64")]
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
    /// before schema 3. Each by its name, as `authbench baseline --stack` takes it.
    #[serde(default)]
    pub baselines: Vec<Stack>,
    /// Threads of the load generator.
    pub loadgen_threads: usize,
    /// The revocation experiment.
    pub revocation: RevocationPlan,
}
