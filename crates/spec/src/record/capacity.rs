//! A target's open-loop capacity as `run.json` keeps it, and the rule a probe is held to
//! (`authbench compare`'s `capacity` module describes and runs the search).

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// A sustained probe sends at most this share of its requests late beyond the light probe's.
pub const LATE_SHARE: f64 = 0.01;

/// A light probe that sends more than this share late is no reference: retried at half rate.
pub const LIGHT_LATE_LIMIT: f64 = 0.05;

/// A sustained probe's p99 stays within this factor of the light-load probe's p99.
pub const P99_FACTOR: f64 = 10.0;

/// … and below this, microseconds, whatever the light-load p99 was.
pub const P99_CEILING_US: u64 = 50_000;

/// The light-load probe, as a fraction of the closed-loop maximum.
pub const LIGHT_FRACTION: f64 = 0.1;

/// A light probe over [`LIGHT_LATE_LIMIT`] is retried at half the rate, at most this many times.
pub const LIGHT_RETRIES: usize = 3;

/// How the search runs.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct SearchPlan {
    /// Bisection steps after the two bracketing probes.
    pub steps: usize,
    /// Measured length of one probe.
    #[serde(with = "crate::record::secs_f64")]
    pub probe: Duration,
    /// Unrecorded warm-up before each probe.
    #[serde(with = "crate::record::secs_f64")]
    pub warmup: Duration,
}

impl SearchPlan {
    /// Probes of one search at most: the light probe and its retries, the maximum, then the
    /// bisection.
    pub fn max_probes(&self) -> usize {
        1 + LIGHT_RETRIES + 1 + self.steps
    }
}

/// One probe of the search.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Probe {
    /// The arrival rate asked for, requests per second.
    pub rate_rps: f64,
    /// Requests answered per second.
    pub throughput_rps: f64,
    /// Share of the scheduled requests that left late or never left.
    pub late_share: f64,
    /// p99 latency from the intended send time, µs.
    pub p99_us: u64,
    /// Whether the probe met both conditions.
    pub sustained: bool,
}

/// The capacity of one target.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Capacity {
    /// Target name, as in `http_runs`.
    pub target: String,
    /// Connections of the open loop.
    pub connections: usize,
    /// The closed-loop maximum the search started from (median, most connections), req/s.
    pub closed_max_rps: f64,
    /// The highest sustained rate, req/s: the open-loop points run at fractions of it.
    pub rate_rps: f64,
    /// The p99 bound the probes were held to, µs.
    pub p99_bound_us: u64,
    /// The light probe's late share: the generator's own floor on this machine, which the
    /// other probes (and the open-loop runs' overload marks) are measured above.
    #[serde(default)]
    pub late_floor: f64,
    /// Every probe, in the order run.
    pub probes: Vec<Probe>,
}
