//! The Redis floor as `run.json` keeps it: `redis-benchmark` GET against the same Redis, at the
//! same concurrency.

use serde::{Deserialize, Serialize};

/// One `redis-benchmark` run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RedisBenchmark {
    /// Parallel clients (`-c`).
    pub clients: usize,
    /// Requests (`-n`).
    pub requests: usize,
    /// Requests per second.
    pub rps: f64,
    /// Latency percentiles, microseconds.
    pub avg_us: f64,
    /// Median latency, microseconds.
    pub p50_us: f64,
    /// 95th percentile, microseconds.
    pub p95_us: f64,
    /// 99th percentile, microseconds.
    pub p99_us: f64,
    /// Largest, microseconds.
    pub max_us: f64,
    /// The exact command line.
    pub command: String,
}
