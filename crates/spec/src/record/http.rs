//! HTTP measurements as `run.json` keeps them: one load-generator run against one server, with
//! CPU charged per process (`authbench compare`'s `http` module runs them).

use super::stats::Spread;
use serde::{Deserialize, Serialize};

/// What a run sends where.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Scenario {
    /// `connections` connections back to back.
    Closed {
        /// Connections.
        connections: usize,
    },
    /// A fixed arrival rate over `connections` connections, latency from the intended send time.
    Open {
        /// Connections.
        connections: usize,
        /// Requests per second.
        rate_rps: f64,
        /// The rate as a fraction of the target's open-loop capacity (its closed-loop maximum
        /// in runs before schema 4, and during the capacity search itself).
        fraction_of_max: f64,
    },
}

impl Scenario {
    /// A short stable label: `closed-c32`, `open-90pct`.
    pub fn label(&self) -> String {
        match self {
            Scenario::Closed { connections } => format!("closed-c{connections}"),
            Scenario::Open {
                fraction_of_max, ..
            } => format!("open-{:.0}pct", fraction_of_max * 100.0),
        }
    }
}

/// CPU time each process spent per request, microseconds (user + system, from `/proc`, 10 ms
/// resolution; divided over thousands of requests).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct CpuPerRequest {
    /// The server process (all instances together, when the load is spread).
    pub server_us: f64,
    /// redis-server (0 when the target does not use Redis; Redis's idle housekeeping is
    /// charged to whoever runs at the time, a few µs at most).
    pub redis_us: f64,
    /// The load generator (this process).
    pub loadgen_us: f64,
}

/// One run's result, as kept in `run.json` (the full report with its histogram goes to the
/// raw folder).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HttpRun {
    /// Target name.
    pub target: String,
    /// Scenario label.
    pub scenario: String,
    /// Repetition index (0-based), in the order runs were interleaved.
    pub rep: usize,
    /// Requests with a complete response.
    pub requests: u64,
    /// Requests per second.
    pub throughput_rps: f64,
    /// Median latency, µs.
    pub p50_us: u64,
    /// 90th percentile, µs.
    pub p90_us: u64,
    /// 99th percentile, µs.
    pub p99_us: u64,
    /// 99.9th percentile, µs.
    pub p99_9_us: u64,
    /// Largest, µs.
    pub max_us: u64,
    /// Failed requests of any kind (non-2xx included).
    pub errors: u64,
    /// Open loop: requests sent late.
    pub late: Option<u64>,
    /// CPU per request by process.
    pub cpu: CpuPerRequest,
    /// Request head size on the wire, bytes (mean over the credential pool).
    pub request_head_bytes: f64,
    /// Raw report file, relative to the run folder.
    pub raw: String,
}
/// `ours ÷ theirs` requests per second in each interleaved round (the two runs of one round
/// are at most one round apart, so a machine that slows down over the run slows both), as a
/// median with its range over the rounds.
pub fn paired_rps_ratio(runs: &[HttpRun], ours: &str, theirs: &str, scenario: &str) -> Spread {
    let of = |target: &str, rep: usize| {
        runs.iter()
            .find(|r| r.target == target && r.scenario == scenario && r.rep == rep)
            .map(|r| r.throughput_rps)
    };
    Spread::of(
        runs.iter()
            .filter(|r| r.target == ours && r.scenario == scenario)
            .filter_map(|r| Some(r.throughput_rps / of(theirs, r.rep)?.max(1e-9))),
    )
}
