//! HTTP measurements: one load-generator run against one server, with CPU charged per process.

use crate::services::ServerProcess;
use anyhow::{Context, Result};
use authbench_loadgen::{Options, Report, procstat};
use std::time::Duration;

pub use authbench_spec::record::http::{CpuPerRequest, HttpRun, Scenario};

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

/// The `run.json` row of a report.
pub fn run_row(
    target: &str,
    scenario: &Scenario,
    rep: usize,
    report: &Report,
    cpu: CpuPerRequest,
    raw: String,
) -> HttpRun {
    HttpRun {
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
    Ok(run_row(&target.name, &scenario, rep, &report, cpu, rel))
}
