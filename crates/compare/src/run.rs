//! The orchestration: start Redis and pick the configurations, run the parts in order
//! ([`crate::parts`]), write the run folder.

use crate::machine::Machine;
use crate::micro::MicroResult;
use crate::parts::{HttpSection, PARTS, RunState};
use crate::plan::{Plan, Profile};
use crate::progress::Progress;
use crate::record::*;
use crate::redis_bench::RedisBenchmark;
use crate::section::{Section, redact_args};
use crate::summary;
use anyhow::{Context, Result};
use authbench_baselines::Stack;
use authbench_services::{LatencyProxy, RedisServer};
use authbench_spec::{self as spec, Backend, Peer, RedisAt};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// Browsers keep cookies up to 4096 bytes, name and value together (RFC 6265 §6.1).
pub(crate) const COOKIE_LIMIT_BYTES: usize = 4096;

/// What `authbench compare` was asked to do.
#[derive(Debug, Clone)]
pub struct CompareOptions {
    /// The measurement budget.
    pub profile: Profile,
    /// The run folder; defaults to `results/<date>-<hostname>` (with `-2`, `-3` … if taken).
    pub out: Option<PathBuf>,
    /// An existing Redis; without it a private one is started.
    pub redis_url: Option<String>,
    /// An existing Redis Cluster (`host:port,host:port,…`) for the scale-out section; without
    /// it a private 3-master cluster is started.
    pub redis_cluster: Option<String>,
    /// The `authbench` binary that serves (normally the running one).
    pub server_binary: PathBuf,
    /// The command line, recorded verbatim.
    pub command_line: String,
    /// The workspace's `Cargo.lock`, for crate versions (empty if unavailable).
    pub cargo_lock: String,
}

fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

fn default_out(machine: &Machine) -> PathBuf {
    let date = &now_rfc3339()[..10];
    let base = PathBuf::from("results").join(format!("{date}-{}", machine.hostname));
    let mut candidate = base.clone();
    let mut n = 2;
    while candidate.exists() {
        candidate = PathBuf::from(format!("{}-{n}", base.display()));
        n += 1;
    }
    candidate
}

/// A server configuration to start.
pub(crate) struct Config {
    pub(crate) name: String,
    pub(crate) args: Vec<String>,
    pub(crate) stateful: bool,
    pub(crate) round_trips: u32,
    /// The session behind the latency proxy: it shares the direct server's sessions.
    pub(crate) behind_proxy: bool,
    /// `Some` for an off-the-shelf stack (`authbench baseline --stack …`), `None` for ours.
    pub(crate) baseline: Option<Stack>,
}

impl Config {
    /// One of our servers.
    fn ours(c: &spec::Configuration) -> Self {
        Config {
            name: c.name(),
            args: c.serve_args(),
            stateful: c.backend.needs_redis(),
            round_trips: c.backend.round_trips_per_verify(),
            behind_proxy: c.redis_delay_ms.is_some(),
            baseline: None,
        }
    }

    /// A peer stack.
    fn peer(p: &Peer) -> Self {
        Config {
            name: p.name(),
            args: p.baseline_args(),
            stateful: p.stack.needs_redis(),
            round_trips: p.stack.round_trips_per_verify(),
            behind_proxy: false,
            baseline: Some(p.stack),
        }
    }

    /// As `run.json` keeps it (the Redis URL, a private port of this run, redacted).
    fn record(&self) -> Configuration {
        Configuration {
            name: self.name.clone(),
            serve_args: redact_args(&self.args),
            stateful: self.stateful,
            round_trips_per_verify: self.round_trips,
            baseline: self.baseline.map(|s| s.name().to_owned()),
        }
    }
}

fn write_json(path: &Path, value: &impl serde::Serialize) -> Result<()> {
    let text = serde_json::to_string_pretty(value)? + "\n";
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

/// Runs the whole comparison and returns the run folder and its record.
pub fn run(opts: CompareOptions) -> Result<(PathBuf, RunRecord)> {
    let started_at = now_rfc3339();
    let machine = crate::machine::detect_machine();
    let plan = crate::plan::new(opts.profile, machine.cores);
    let out = opts.out.clone().unwrap_or_else(|| default_out(&machine));
    std::fs::create_dir_all(out.join("raw/http"))
        .with_context(|| format!("creating {}", out.display()))?;
    let redis = Redis::start(&opts)?;
    // Redis farther away: the same Redis (so the same sessions) behind the latency proxy.
    let proxies: Vec<(f64, LatencyProxy)> = plan
        .redis_delays_ms
        .iter()
        .filter(|d| **d > 0.0)
        .map(|&d| {
            LatencyProxy::start(redis.addr, Duration::from_secs_f64(d / 1000.0))
                .map(|p| (d, p))
                .context("starting the latency proxy")
        })
        .collect::<Result<_>>()?;
    let configs = configurations(&plan, &redis.url, &proxies);
    let mut state = RunState {
        plan: &plan,
        configs: &configs,
        redis_port: redis.addr.port(),
        redis_cluster: opts.redis_cluster.as_deref(),
        fleet: None,
        measured: Measured::default(),
    };
    let total = PARTS.iter().map(|p| p.steps(&state)).sum();
    let mut progress = Progress::new(total);
    let mut notes = Vec::new();
    let mut ctx = Section {
        server_binary: &opts.server_binary,
        profile: plan.profile,
        out: &out,
        redis_url: &redis.url,
        redis_pid: redis.pid,
        loadgen_threads: plan.loadgen_threads,
        cores: machine.cores,
        progress: &mut progress,
        notes: &mut notes,
    };
    for part in PARTS {
        part.run(&mut ctx, &mut state)?;
    }
    progress.finish();
    let mut measured = state.measured;
    drop(state.fleet);
    measured.proxies = proxies.iter().map(|(d, p)| proxy_record(*d, p)).collect();
    let context = RunContext {
        opts: &opts,
        started_at,
        machine: &machine,
        redis_version: &redis.version,
        configs: &configs,
    };
    let record = measured.into_record(context, plan, notes)?;
    write_json(&out.join("run.json"), &record)?;
    std::fs::write(out.join("summary.md"), summary::markdown(&record))
        .with_context(|| format!("writing {}/summary.md", out.display()))?;
    Ok((out, record))
}

/// The run's single-node Redis: a private one, or `--redis-url`.
struct Redis {
    /// Stopped on drop.
    _private: Option<RedisServer>,
    url: String,
    pid: Option<u32>,
    addr: SocketAddr,
    version: String,
}

impl Redis {
    fn start(opts: &CompareOptions) -> Result<Self> {
        let version =
            authbench_services::redis_server_version().unwrap_or_else(|_| "unknown".into());
        Ok(match &opts.redis_url {
            None => {
                let r = RedisServer::start().context("starting a private redis-server")?;
                Redis {
                    url: r.url(),
                    pid: r.pid(),
                    addr: r.addr(),
                    _private: Some(r),
                    version,
                }
            }
            Some(url) => Redis {
                url: url.clone(),
                pid: None,
                addr: url
                    .trim_start_matches("redis://")
                    .trim_end_matches('/')
                    .parse()
                    .context("--redis-url must be redis://HOST:PORT for the distance proxy")?,
                _private: None,
                version,
            },
        })
    }
}

/// Every server of the main sections: ours (session, each JWT algorithm, each JWE mode, the
/// session behind each Redis distance) and the peers a team would install instead.
fn configurations(plan: &Plan, redis_url: &str, proxies: &[(f64, LatencyProxy)]) -> Vec<Config> {
    let load_test = |backend| spec::Configuration::load_test(backend, plan.users);
    let session = load_test(Backend::Session).with_redis(RedisAt::Url(redis_url.to_owned()));
    let mut configs = vec![Config::ours(&session)];
    for &alg in &plan.http_algs {
        configs.push(Config::ours(&load_test(Backend::jwt(alg))));
    }
    for &alg in &plan.http_jwe {
        // A plain public-key mode authenticates nothing, so `serve` refuses it unless told
        // that this is a measurement of the bare mode's cost (`load_test` says so).
        configs.push(Config::ours(&load_test(Backend::Jwe { alg, nested: None })));
    }
    for (d, proxy) in proxies {
        let mut far = session.clone().with_redis(RedisAt::Url(proxy.redis_url()));
        far.redis_delay_ms = Some(*d);
        configs.push(Config::ours(&far));
    }
    // The stacks a team would install instead, measured beside ours (closed loop only).
    for &stack in &plan.baselines {
        // Its own key space (tower-sessions' record keys are bare session IDs) in the same
        // Redis, so Redis CPU is charged the same way.
        let redis_url = stack.needs_redis().then(|| redis_url.to_owned());
        configs.push(Config::peer(&Peer {
            stack,
            users: plan.users,
            redis_url,
        }));
    }
    configs
}

fn proxy_record(requested_ms: f64, proxy: &LatencyProxy) -> ProxyRecord {
    let st = proxy.stats();
    ProxyRecord {
        requested_ms,
        applied_mean_ms: st.mean_applied.as_secs_f64() * 1e3,
        max_overshoot_ms: st.max_overshoot.as_secs_f64() * 1e3,
        chunks: st.chunks,
    }
}

/// Where and when the run was measured, for the record.
struct RunContext<'a> {
    opts: &'a CompareOptions,
    started_at: String,
    machine: &'a Machine,
    redis_version: &'a str,
    configs: &'a [Config],
}

/// What the parts measured, before it becomes a [`RunRecord`]; each part fills its own.
#[derive(Default)]
pub(crate) struct Measured {
    pub(crate) logins: Vec<LoginPhase>,
    pub(crate) sizes: Vec<TokenSize>,
    pub(crate) sample_tokens: Vec<SampleToken>,
    pub(crate) wire: Option<crate::wire::WireResult>,
    pub(crate) redis_benchmark: Vec<RedisBenchmark>,
    pub(crate) session_verify_c1_us: Option<LatencyQuantiles>,
    pub(crate) micro: Vec<MicroResult>,
    pub(crate) http: HttpSection,
    pub(crate) loadgen_vs_wrk: Option<LoadgenVsWrk>,
    pub(crate) proxies: Vec<ProxyRecord>,
    pub(crate) revocation: Option<crate::revocation::RevocationResult>,
    pub(crate) tenancy: Option<crate::tenancy::TenancyResult>,
    pub(crate) scale: Option<crate::scale::ScaleResult>,
}

impl Measured {
    /// The record: the measurements, the summaries and targets computed from them, and the
    /// context (machine, versions, commit) they were measured in.
    fn into_record(self, cx: RunContext<'_>, plan: Plan, notes: Vec<String>) -> Result<RunRecord> {
        let Measured {
            mut sizes, http, ..
        } = self;
        let session_verify_c1_us = self
            .session_verify_c1_us
            .context("the in-process part did not run")?;
        let revocation = self.revocation.context("the revocation part did not run")?;
        let http_summary = HttpSummary::of_runs(&http.runs);
        for s in &mut sizes {
            if let Some(r) = http.runs.iter().find(|r| r.target == s.configuration) {
                s.request_head_bytes = r.request_head_bytes;
            }
        }
        let targets = summary::check_targets(
            &self.micro,
            &self.redis_benchmark,
            &session_verify_c1_us,
            &http_summary,
            &http.runs,
            self.loadgen_vs_wrk.as_ref(),
            http.max_closed,
        );
        let versions =
            crate::machine::detect_versions(&cx.opts.cargo_lock, cx.redis_version.to_owned());
        let git = crate::machine::detect_git();
        let [machine, versions, git] = RunRecord::context(cx.machine, &versions, &git);
        let mut http_runs = http.runs;
        http_runs.extend(http.distance_runs.iter().cloned());
        Ok(RunRecord {
            schema_version: SCHEMA_VERSION,
            command: cx.opts.command_line.clone(),
            started_at: cx.started_at,
            finished_at: now_rfc3339(),
            machine,
            versions,
            git,
            plan,
            configurations: cx.configs.iter().map(Config::record).collect(),
            logins: self.logins,
            sizes,
            wire: self.wire,
            sample_tokens: self.sample_tokens,
            redis_benchmark: self.redis_benchmark,
            session_verify_c1_us,
            micro: self.micro,
            http_runs,
            http: http_summary,
            open_capacity: http.open_capacity,
            redis_distance: HttpSummary::of_runs(&http.distance_runs),
            proxies: self.proxies,
            loadgen_vs_wrk: self.loadgen_vs_wrk,
            revocation,
            tenancy: self.tenancy,
            scale: self.scale,
            targets,
            notes,
        })
    }
}
