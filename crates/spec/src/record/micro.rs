//! In-process costs as `run.json` keeps them: what one verify or issue costs each backend,
//! beside its floors (`authbench compare`'s `micro` module times them).

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// How long the micro measurements take.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct MicroPlan {
    /// Batches per measurement.
    pub batches: usize,
    /// Target duration of one batch.
    #[serde(with = "crate::record::secs_f64")]
    pub batch_time: Duration,
    /// Sequential session verifies timed one by one for the latency percentiles.
    pub session_samples: usize,
}

/// One in-process measurement.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MicroResult {
    /// `verify` or `issue`.
    pub op: String,
    /// What was measured: `jwt-ES256`, `jsonwebtoken-default-ES256`, `floor-raw-ES256`,
    /// `session`, `floor-redis-GET` …
    pub id: String,
    /// The algorithm, for JWT rows.
    pub alg: Option<String>,
    /// Median time per call, nanoseconds.
    pub median_ns: f64,
    /// 10th percentile of the batch means, nanoseconds.
    pub p10_ns: f64,
    /// 90th percentile of the batch means, nanoseconds.
    pub p90_ns: f64,
    /// Calls per batch.
    pub per_batch: u64,
    /// Batches.
    pub batches: usize,
}
