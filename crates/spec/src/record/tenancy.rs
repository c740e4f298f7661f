//! Multi-tenancy as `run.json` keeps it: `/notes` under PostgreSQL Row Level Security and the
//! staleness of a tenant move (`authbench compare`'s `tenancy` module describes and runs it).

use super::HttpSummary;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// How much of the section to run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TenancyPlan {
    /// Users seeded on each server.
    pub users: usize,
    /// Repetitions of every HTTP run, interleaved.
    pub reps: usize,
    /// Connection counts of the closed-loop runs.
    pub connections: Vec<usize>,
    /// Measured length of one HTTP run.
    #[serde(with = "crate::record::secs_f64")]
    pub duration: Duration,
    /// Unrecorded warm-up before each run.
    #[serde(with = "crate::record::secs_f64")]
    pub warmup: Duration,
    /// Users moved per (backend, policy) case.
    pub moved: usize,
    /// How long the probe watches after the moves.
    #[serde(with = "crate::record::secs_f64")]
    pub after: Duration,
}

/// One (backend, policy) staleness case.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StalenessCase {
    /// `session` or `jwt-ES256`.
    pub backend: String,
    /// `claims` (policy A) or `membership` (policy B).
    pub policy: String,
    /// Users moved.
    pub moved: usize,
    /// What the admin route said happened to existing credentials (`updated`, `revoked`,
    /// `unchanged-until-expiry`), distinct answers joined by `+`.
    pub admin_answer: String,
    /// Window from the move's return to the first listing with the new tenant's rows, ms.
    pub window_ms_p50: Option<f64>,
    /// Largest window, ms.
    pub window_ms_max: Option<f64>,
    /// Moved users whose listings never showed the new tenant within the watch.
    pub not_reflected: usize,
    /// Listings that still showed the old tenant's rows after the move returned.
    pub old_rows_after: u64,
    /// Answers other than 200 after the move, by status (`"401"` …).
    pub other_statuses: std::collections::BTreeMap<String, u64>,
    /// Mean time between two probes of the same credential, ms (the window's resolution).
    pub probe_period_ms: f64,
}

/// The section's result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TenancyResult {
    /// The plan.
    pub plan: TenancyPlan,
    /// `postgres --version` of the server measured.
    pub postgres_version: String,
    /// Each server's `serve` arguments (database and Redis URLs redacted).
    pub servers: Vec<(String, Vec<String>)>,
    /// Every HTTP run: target `<backend>-<route>`.
    pub runs: Vec<crate::record::http::HttpRun>,
    /// Medians and ranges per target and scenario.
    pub http: Vec<HttpSummary>,
    /// The staleness experiment.
    pub staleness: Vec<StalenessCase>,
}
