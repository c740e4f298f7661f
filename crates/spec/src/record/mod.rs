//! `run.json`: everything a run measured, with the context that makes it a result.
//!
//! The layout is documented field by field in `crates/compare/schema.md`; `schema_version`
//! changes whenever a field changes meaning.
//!
//! The types live here, beside the other names the measurement half agrees on, so that a
//! reader of a run folder (`authbench report`) needs serde and nothing of what wrote it:
//! `authbench compare` fills them in and re-exports them at their old paths.
//!
//! # Layout
//!
//! - this module: [`RunRecord`], the whole file, and its small rows.
//! - [`http`]: one load-generator run ([`http::HttpRun`]) and its scenario.
//! - [`load`]: the load generator's raw report of one run ([`load::Report`]), as kept in a run
//!   folder's `raw/`.
//! - [`micro`], [`redis_bench`]: the in-process costs and the `redis-benchmark` floor.
//! - [`revocation`], [`scale`], [`tenancy`], [`capacity`], [`wire`]: the sections' records.
//! - [`machine`], [`plan`]: the context (machine, versions, commit) and the plan of the run.
//! - [`stats`]: medians and spreads.

pub mod capacity;
pub mod http;
pub mod load;
pub mod machine;
pub mod micro;
pub mod plan;
pub mod redis_bench;
pub mod revocation;
pub mod scale;
pub mod stats;
pub mod tenancy;
pub mod wire;

use self::http::HttpRun;
use self::machine::{Git, Machine, Versions};
use self::micro::MicroResult;
use self::plan::Plan;
use self::redis_bench::RedisBenchmark;
use self::stats::Spread;
use serde::{Deserialize, Serialize};

/// Serde helpers: a `Duration` as fractional seconds.
pub(crate) mod secs_f64 {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let secs = f64::deserialize(d)?;
        Duration::try_from_secs_f64(secs).map_err(serde::de::Error::custom)
    }
}

/// Version of the `run.json` layout.
pub const SCHEMA_VERSION: u32 = 4;

/// The whole of `run.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunRecord {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The exact command line.
    pub command: String,
    /// Start, RFC 3339 UTC.
    pub started_at: String,
    /// End, RFC 3339 UTC.
    pub finished_at: String,
    /// The machine.
    pub machine: serde_json::Value,
    /// Versions of the compiler, Redis and the crates on the measured paths.
    pub versions: serde_json::Value,
    /// The commit measured.
    pub git: serde_json::Value,
    /// The plan (profile, users, durations, repetitions …).
    pub plan: Plan,
    /// Server configurations measured, with the command line each was started with.
    pub configurations: Vec<Configuration>,
    /// Logins during set-up: the write path, argon2 included.
    pub logins: Vec<LoginPhase>,
    /// Credential sizes and bytes on the wire.
    pub sizes: Vec<TokenSize>,
    /// Bytes per request over HTTP/1.1 and HTTP/2 per credential and form (absent in runs
    /// before schema 4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wire: Option<crate::record::wire::WireResult>,
    /// One JWT per JWT configuration, as issued in this run (for the book's anatomy page; the
    /// keys died with the run's servers), and when they were read.
    pub sample_tokens: Vec<SampleToken>,
    /// `redis-benchmark` GET floors (empty when redis-benchmark is not installed).
    pub redis_benchmark: Vec<RedisBenchmark>,
    /// Session verify latency at concurrency 1, in-process, µs.
    pub session_verify_c1_us: LatencyQuantiles,
    /// In-process costs.
    pub micro: Vec<MicroResult>,
    /// Every HTTP run.
    pub http_runs: Vec<HttpRun>,
    /// HTTP runs summarised per target and scenario.
    pub http: Vec<HttpSummary>,
    /// Each target's open-loop capacity, found by a search before the open-loop runs, which
    /// run at fractions of it (absent in runs before schema 4).
    #[serde(default)]
    pub open_capacity: Vec<crate::record::capacity::Capacity>,
    /// Session `/me` with Redis behind the latency proxy.
    pub redis_distance: Vec<HttpSummary>,
    /// What each latency proxy was asked to add and what it applied (sleep overshoot and
    /// thread hand-offs make the real delay a little longer than asked).
    pub proxies: Vec<ProxyRecord>,
    /// The revocation experiment.
    pub revocation: crate::record::revocation::RevocationResult,
    /// Our load generator against wrk on `/healthz`.
    pub loadgen_vs_wrk: Option<LoadgenVsWrk>,
    /// Multi-tenancy: `/notes` under Row Level Security and the staleness of a tenant move
    /// (absent in runs before schema 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenancy: Option<crate::record::tenancy::TenancyResult>,
    /// Beyond one machine: Redis Cluster, several instances, key rotation, failover (absent
    /// in runs before schema 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale: Option<crate::record::scale::ScaleResult>,
    /// The targets of the measurement issue, each as a ratio from this run.
    pub targets: Vec<TargetCheck>,
    /// Things the run could not do (a missing tool), said plainly.
    pub notes: Vec<String>,
}

impl RunRecord {
    /// Typed views of the context fields (kept as JSON values so that older runs still load).
    pub fn context(machine: &Machine, versions: &Versions, git: &Git) -> [serde_json::Value; 3] {
        [
            serde_json::to_value(machine).unwrap_or_default(),
            serde_json::to_value(versions).unwrap_or_default(),
            serde_json::to_value(git).unwrap_or_default(),
        ]
    }
}

/// One server configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Configuration {
    /// Name in tables: `session`, `jwt-ES256`, `session-redis+1ms` …
    pub name: String,
    /// The arguments after `authbench serve`.
    pub serve_args: Vec<String>,
    /// What the backend says about itself (`describe()`), from its name.
    pub stateful: bool,
    /// Store round trips per verify.
    pub round_trips_per_verify: u32,
    /// For an off-the-shelf stack measured beside ours, its `authbench baseline --stack` name
    /// (`serve_args` are then the arguments after `authbench baseline`). Absent for our own
    /// configurations and in runs before schema 3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<String>,
}

/// Logging every user in on one server.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoginPhase {
    /// Configuration.
    pub configuration: String,
    /// `argon2id-owasp` (the server's default: m = 19 MiB, t = 2, p = 1) or `insecure-fast`
    /// (the seeding shortcut of the measured servers).
    pub password_hash: String,
    /// Logins.
    pub logins: usize,
    /// Wall time, seconds.
    pub seconds: f64,
    /// Logins per second (argon2id dominates).
    pub rate: f64,
}

/// Size of one configuration's credential.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenSize {
    /// Configuration.
    pub configuration: String,
    /// The credential itself, bytes.
    pub token_bytes: usize,
    /// `Authorization: Bearer <token>\r\n`, bytes.
    pub header_line_bytes: usize,
    /// `Cookie: __Host-authbench=<token>\r\n`, bytes.
    pub cookie_line_bytes: usize,
    /// The whole `GET /me` request head as the load generator sends it, bytes.
    pub request_head_bytes: f64,
    /// Share of a browser's 4096-byte cookie limit (RFC 6265) the cookie uses.
    pub cookie_limit_share: f64,
}

/// A credential as a server of the run issued it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SampleToken {
    /// Configuration.
    pub configuration: String,
    /// The compact JWS.
    pub token: String,
    /// When it was collected, seconds since the Unix epoch ("now" for explaining its times).
    pub collected_at: u64,
}

/// Latency quantiles, µs.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct LatencyQuantiles {
    /// Samples.
    pub n: usize,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
}

/// Repetitions of one (target, scenario), summarised.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HttpSummary {
    /// Target.
    pub target: String,
    /// Scenario label.
    pub scenario: String,
    /// Requests per second.
    pub throughput_rps: Spread,
    /// Median latency, µs.
    pub p50_us: Spread,
    /// 99th percentile, µs.
    pub p99_us: Spread,
    /// 99.9th percentile, µs.
    pub p99_9_us: Spread,
    /// Server CPU per request, µs.
    pub server_cpu_us: Spread,
    /// Redis CPU per request, µs.
    pub redis_cpu_us: Spread,
    /// Errors summed over the repetitions.
    pub errors: u64,
}

impl HttpSummary {
    /// One summary per (target, scenario), in the order the runs first appear: medians and
    /// ranges over the repetitions.
    pub fn of_runs(runs: &[HttpRun]) -> Vec<HttpSummary> {
        let mut keys: Vec<(String, String)> = Vec::new();
        for r in runs {
            let k = (r.target.clone(), r.scenario.clone());
            if !keys.contains(&k) {
                keys.push(k);
            }
        }
        keys.into_iter()
            .map(|(target, scenario)| {
                let rs: Vec<&HttpRun> = runs
                    .iter()
                    .filter(|r| r.target == target && r.scenario == scenario)
                    .collect();
                HttpSummary {
                    throughput_rps: Spread::of(rs.iter().map(|r| r.throughput_rps)),
                    p50_us: Spread::of(rs.iter().map(|r| r.p50_us as f64)),
                    p99_us: Spread::of(rs.iter().map(|r| r.p99_us as f64)),
                    p99_9_us: Spread::of(rs.iter().map(|r| r.p99_9_us as f64)),
                    server_cpu_us: Spread::of(rs.iter().map(|r| r.cpu.server_us)),
                    redis_cpu_us: Spread::of(rs.iter().map(|r| r.cpu.redis_us)),
                    errors: rs.iter().map(|r| r.errors).sum(),
                    target,
                    scenario,
                }
            })
            .collect()
    }
}

/// One latency proxy's requested and applied delay.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProxyRecord {
    /// Requested one-way delay, ms.
    pub requested_ms: f64,
    /// Mean one-way delay applied per chunk, from arrival to write, ms.
    pub applied_mean_ms: f64,
    /// Largest overshoot past the requested delay, ms.
    pub max_overshoot_ms: f64,
    /// Chunks forwarded, both directions.
    pub chunks: u64,
}

/// wrk and our generator, interleaved on `/healthz`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoadgenVsWrk {
    /// Connections.
    pub connections: usize,
    /// wrk's requests per second, per repetition.
    pub wrk_rps: Spread,
    /// Ours, per repetition.
    pub loadgen_rps: Spread,
    /// `loadgen median / wrk median`.
    pub ratio: f64,
    /// The wrk command.
    pub wrk_command: String,
}

/// A target of the measurement issue, checked in this run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TargetCheck {
    /// What is compared.
    pub name: String,
    /// The measured ratio.
    pub ratio: f64,
    /// `<=` or `>=`.
    pub comparison: String,
    /// The bound.
    pub bound: f64,
    /// Whether the ratio is within the bound.
    pub met: bool,
    /// The two figures the ratio is made of.
    pub detail: String,
}

impl TargetCheck {
    /// A target `ratio <= bound`.
    pub fn at_most(name: impl Into<String>, ratio: f64, bound: f64, detail: String) -> Self {
        Self {
            name: name.into(),
            ratio,
            comparison: "<=".into(),
            bound,
            met: ratio <= bound,
            detail,
        }
    }

    /// A target `ratio >= bound`.
    pub fn at_least(name: impl Into<String>, ratio: f64, bound: f64, detail: String) -> Self {
        Self {
            name: name.into(),
            ratio,
            comparison: ">=".into(),
            bound,
            met: ratio >= bound,
            detail,
        }
    }
}
