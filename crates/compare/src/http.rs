//! HTTP measurements: one load-generator run against one server, with CPU charged per process.

use crate::services::ServerProcess;
use anyhow::{Context, Result};
use authbench_loadgen::{Options, Report, procstat};
use serde::{Deserialize, Serialize};
use std::time::Duration;

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

/// One measured endpoint: a server, a path, and the credentials to present.
pub struct Target<'a> {
    /// Name in tables: `session`, `jwt-ES256`, `healthz` …
    pub name: String,
    /// The server.
    pub server: &'a ServerProcess,
    /// More instances of the same service: the load generator spreads its connections over
    /// `server` and these (round robin), and their CPU is charged together.
    pub also: Vec<&'a ServerProcess>,
    /// `/me`, or `/healthz` for the no-auth baseline.
    pub path: &'static str,
    /// One credential per logged-in user (empty for `/healthz`).
    pub credentials: Vec<String>,
    /// The Redis processes this target's servers consult (one, or every cluster node), for
    /// CPU accounting.
    pub redis_pids: Vec<u32>,
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

/// CPU time of these processes together (0 for any that is gone).
fn cpu(pids: &[u32]) -> Duration {
    pids.iter()
        .filter_map(|&p| procstat::cpu_time(p).ok())
        .sum()
}

/// Runs `scenario` against `target`: an unrecorded warm-up, then the measured run with CPU
/// sampled around it. Returns the full report and the per-request CPU.
pub fn measure(
    target: &Target<'_>,
    scenario: Scenario,
    duration: Duration,
    warmup: Duration,
    threads: usize,
) -> Result<(Report, CpuPerRequest)> {
    let mut opts = Options::new(target.server.url(target.path));
    opts.spread_over = target.also.iter().map(|s| s.url("/")).collect();
    opts.credentials = target.credentials.clone();
    opts.credential_form = target.server.credential_form;
    opts.threads = Some(threads);
    opts.timeout = Duration::from_secs(5);
    let (connections, rate) = match scenario {
        Scenario::Closed { connections } => (connections, None),
        Scenario::Open {
            connections,
            rate_rps,
            ..
        } => (connections, Some(rate_rps)),
    };
    opts.connections = connections;
    opts.rate = rate;
    // Warm-up as a separate, unrecorded run, so the CPU sampled below covers exactly the
    // measured requests.
    if !warmup.is_zero() {
        let mut w = opts.clone();
        w.duration = warmup;
        w.warmup = Duration::ZERO;
        authbench_loadgen::run_blocking(&w).context("warm-up run")?;
    }
    opts.duration = duration;
    opts.warmup = Duration::ZERO;
    let server_pids: Vec<u32> = std::iter::once(target.server)
        .chain(target.also.iter().copied())
        .map(ServerProcess::pid)
        .collect();
    let (s0, r0) = (cpu(&server_pids), cpu(&target.redis_pids));
    let report = authbench_loadgen::run_blocking(&opts).context("load run")?;
    let (s1, r1) = (cpu(&server_pids), cpu(&target.redis_pids));
    let n = report.requests.max(1) as f64;
    let per = |a: Duration, b: Duration| b.saturating_sub(a).as_secs_f64() * 1e6 / n;
    let cpu = CpuPerRequest {
        server_us: per(s0, s1),
        redis_us: per(r0, r1),
        loadgen_us: report.cpu_per_request_us,
    };
    Ok((report, cpu))
}

impl HttpRun {
    /// The `run.json` row of a report.
    pub fn from_report(
        target: &str,
        scenario: &Scenario,
        rep: usize,
        report: &Report,
        cpu: CpuPerRequest,
        raw: String,
    ) -> Self {
        Self {
            target: target.to_owned(),
            scenario: scenario.label(),
            rep,
            requests: report.requests,
            throughput_rps: report.throughput_rps,
            p50_us: report.latency_us.p50,
            p90_us: report.latency_us.p90,
            p99_us: report.latency_us.p99,
            p99_9_us: report.latency_us.p99_9,
            max_us: report.latency_us.max,
            errors: report.errors.total,
            late: report.late,
            cpu,
            request_head_bytes: report.request_bytes.head_mean,
            raw,
        }
    }
}

/// Measures `target` under `scenario` once, writes the full report to
/// `raw/<section>/<target>-<scenario>-rep<rep>.json`, and returns its `run.json` row.
pub fn measure_into(
    section: &mut crate::section::Section<'_>,
    section_name: &str,
    target: &Target<'_>,
    scenario: Scenario,
    rep: usize,
    duration: Duration,
    warmup: Duration,
) -> Result<HttpRun> {
    let (report, cpu) = measure(target, scenario, duration, warmup, section.loadgen_threads)?;
    let file = format!(
        "{}-{}-rep{rep}.json",
        target.name.replace('+', "plus"),
        scenario.label()
    );
    let (abs, rel) = section
        .raw_path(section_name, &file)
        .with_context(|| format!("creating the raw folder of {section_name}"))?;
    let text = serde_json::to_string_pretty(&report)? + "\n";
    std::fs::write(&abs, text).with_context(|| format!("writing {}", abs.display()))?;
    if report.errors.total > 0 {
        section.progress.println(&format!(
            "{} {}: {} errors ({:?})",
            target.name,
            scenario.label(),
            report.errors.total,
            report.errors.sample
        ));
    }
    Ok(HttpRun::from_report(
        &target.name,
        &scenario,
        rep,
        &report,
        cpu,
        rel,
    ))
}
