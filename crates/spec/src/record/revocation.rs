//! The revocation experiment as `run.json` keeps it (`authbench compare`'s `revocation` module
//! describes and runs it).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// Logout-all-then-login rounds of the "next login" measurement, per strategy.
pub const IMMEDIATE_ATTEMPTS: usize = 50;

/// How much of the experiment to run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RevocationPlan {
    /// Users per strategy.
    pub users: usize,
    /// Share of users revoked per phase.
    pub revoke_fraction: f64,
    /// Length of a phase after the revocation instant.
    #[serde(with = "crate::record::secs_f64")]
    pub after: Duration,
    /// Background open-loop rate, requests per second.
    pub background_rps: f64,
    /// How long Redis is frozen in the outage phase.
    #[serde(with = "crate::record::secs_f64")]
    pub outage: Duration,
    /// Access-token lifetime of the `refresh` strategy, seconds.
    pub refresh_access_ttl_s: u64,
}

/// One phase of one strategy.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PhaseResult {
    /// `logout`, `logout-all` or `role-change`.
    pub phase: String,
    /// Credentials revoked (or users changed).
    pub targets: usize,
    /// How the server answered the revoking call: `revoked`, `not-revoked` (the header said
    /// the server could not), `unsupported`, or `error`.
    pub server_answer: String,
    /// Window from the revoking call's return to the first answer reflecting it, ms (over the
    /// targets that were reflected within the phase).
    pub window_ms_p50: Option<f64>,
    /// 99th percentile of the window, ms.
    pub window_ms_p99: Option<f64>,
    /// Largest window, ms.
    pub window_ms_max: Option<f64>,
    /// Targets never reflected within the phase (a JWT that lives until `exp`).
    pub not_reflected: usize,
    /// Requests accepted as before after the revoking call returned.
    pub accepted_after: u64,
    /// Mean time between two probes of the same credential, ms: the resolution of the window.
    pub probe_period_ms: f64,
}

/// The Redis-outage phase of one strategy.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OutageResult {
    /// How long Redis was frozen, seconds.
    pub frozen_s: f64,
    /// Answers while Redis was frozen, by status (`"200"`, `"503"` …, `"io"` for transport errors).
    pub during: BTreeMap<String, u64>,
    /// Answers in the second after Redis came back, by status.
    pub after: BTreeMap<String, u64>,
    /// 2xx answers, during and after the outage, to credentials whose revocation had already
    /// been seen to bite before it: must be 0.
    pub accepted_revoked: u64,
    /// Time from Redis's return to the first 2xx for a live credential, ms.
    pub recovery_ms: Option<f64>,
}

/// The next login after "log out everywhere", per strategy: `attempts` rounds of
/// `POST /logout-all`, then at once `POST /login` and `GET /me` with the fresh credential, on
/// an otherwise idle server.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImmediateResult {
    /// Rounds run.
    pub attempts: usize,
    /// Rounds whose fresh credential was not accepted by its first `/me` (or whose logout-all
    /// or login failed): must be 0.
    pub failures: usize,
    /// Of the failures, fresh credentials still refused after the give-up (2 s).
    pub never_usable: usize,
    /// The logout-all's return to the first 200 for the fresh credential, ms (the login's own
    /// time included), over the rounds that got one.
    pub usable_ms_p50: Option<f64>,
    /// 99th percentile of the same, ms.
    pub usable_ms_p99: Option<f64>,
    /// Largest, ms.
    pub usable_ms_max: Option<f64>,
}

/// Everything measured for one strategy.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StrategyResult {
    /// `session`, `jwt-ES256-denylist` …
    pub strategy: String,
    /// What the server was started with (after `authbench serve`; Redis URL redacted).
    pub serve_args: Vec<String>,
    /// Redis commands processed per request of the background load, including those a
    /// script runs inside Redis (the work Redis does).
    pub redis_commands_per_request: f64,
    /// Commands the server sent per request (`EVALSHA`, `MGET`, `GET` …): round trips.
    pub redis_round_trips_per_request: f64,
    /// Redis bytes (`MEMORY USAGE`, summed over keys) per logged-in user.
    pub redis_bytes_per_user: f64,
    /// Extra Redis bytes per revoked credential after the logout phase.
    pub redis_bytes_per_revoked: f64,
    /// Keys per logged-in user.
    pub redis_keys_per_user: f64,
    /// The phases.
    pub phases: Vec<PhaseResult>,
    /// The next login after a logout-all (absent from runs before it was measured).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub immediately_usable: Option<ImmediateResult>,
    /// The outage.
    pub outage: OutageResult,
    /// What has to run for the strategy, in words.
    pub moving_parts: String,
}

/// The experiment's result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RevocationResult {
    /// The plan.
    pub plan: RevocationPlan,
    /// One entry per strategy.
    pub strategies: Vec<StrategyResult>,
}
