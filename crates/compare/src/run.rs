//! The orchestration: start everything, measure in interleaved rounds, write the run folder.

use crate::http::{self, HttpRun, Scenario, Target};
use crate::machine::Machine;
use crate::micro::{self, MicroResult};
use crate::plan::{Plan, Profile};
use crate::progress::Progress;
use crate::record::*;
use crate::redis_bench::RedisBenchmark;
use crate::section::{Rounds, Section};
use crate::services::{ServerProcess, login_all};
use crate::stats::{Spread, quantile};
use crate::{redis_bench, summary, wrk};
use anyhow::{Context, Result};
use authbench_baselines::Stack;
use authbench_services::{LatencyProxy, RedisServer};
use authbench_spec::DEMO_PASSWORD;
use authbench_spec::{self as spec, Alg, Backend, Peer, RedisAt};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// Browsers keep cookies up to 4096 bytes, name and value together (RFC 6265 §6.1).
const COOKIE_LIMIT_BYTES: usize = 4096;

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
struct Config {
    name: String,
    args: Vec<String>,
    stateful: bool,
    round_trips: u32,
    /// The session behind the latency proxy: it shares the direct server's sessions.
    behind_proxy: bool,
    /// `Some` for an off-the-shelf stack (`authbench baseline --stack …`), `None` for ours.
    baseline: Option<Stack>,
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
            serve_args: self
                .args
                .iter()
                .map(|a| {
                    if a.starts_with("redis://") {
                        "redis://<private>".to_owned()
                    } else {
                        a.clone()
                    }
                })
                .collect(),
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
    let mut progress = Progress::new(total_steps(&plan, &configs));
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
    let fleet = Fleet::start(&mut ctx, &plan, &configs)?;
    let sizes = token_sizes(&configs, &fleet.tokens);
    let sample_tokens = sample_tokens(&configs, &fleet.tokens);
    ctx.step("bytes per request over HTTP/1.1 and HTTP/2");
    let wire = wire_section(&sizes, &fleet.tokens)?;
    let redis_benchmark = floors(&mut ctx, &plan, redis.addr.port())?;
    let (micro, session_verify_c1_us) = in_process(&mut ctx, &plan);
    let http = http_section(&mut ctx, &plan, &configs, &fleet)?;
    let loadgen_vs_wrk = wrk_check(&mut ctx, &plan, fleet.healthz(&configs)?)?;
    let revocation =
        crate::revocation::run(&opts.server_binary, &plan.revocation, &mut |m| ctx.step(m))?;
    // Multi-tenancy, then beyond one machine: sections with services of their own.
    let tenancy = crate::tenancy::run(&mut ctx)?;
    let scale = crate::scale::run(&mut ctx, opts.redis_cluster.as_deref())?;
    progress.finish();
    let logins = fleet.logins.clone();
    drop(fleet);
    let proxies = proxies.iter().map(|(d, p)| proxy_record(*d, p)).collect();
    let measured = Measured {
        logins,
        revocation,
        tenancy,
        scale,
        configs: &configs,
        sizes,
        sample_tokens,
        wire,
        redis_benchmark,
        session_verify_c1_us,
        micro,
        http,
        loadgen_vs_wrk,
        proxies,
    };
    let record = measured.into_record(&opts, started_at, &machine, &redis, plan, notes)?;
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

/// Every step the run reports, counted from the plan the way each part counts its own.
fn total_steps(plan: &Plan, configs: &[Config]) -> u64 {
    let http_targets = 1 + configs
        .iter()
        .filter(|c| !c.behind_proxy && c.baseline.is_none())
        .count();
    let http = plan.reps
        * (http_targets * (plan.closed_connections.len() + plan.open_fractions.len())
            + plan.baselines.len() * plan.closed_connections.len());
    let distance = plan.reps * plan.redis_delays_ms.len() * plan.closed_connections.len();
    let capacity = plan
        .capacity_search
        .as_ref()
        .map_or(0, |s| http_targets * s.max_probes());
    Fleet::steps(configs)
        + 1 // the wire
        + 1 // redis-benchmark
        + in_process_steps()
        + (http + capacity + distance) as u64
        + plan.reps as u64 * 2 // wrk and ours, per repetition
        + crate::revocation::STEPS
        + crate::tenancy::steps(&crate::tenancy::plan_for(plan.profile))
        + crate::scale::steps(&crate::scale::plan_for(plan.profile))
}

/// Every server of [`configurations`], started, with its users logged in.
struct Fleet {
    servers: Vec<ServerProcess>,
    /// Credentials per configuration name.
    tokens: BTreeMap<String, Vec<String>>,
    logins: Vec<LoginPhase>,
}

impl Fleet {
    /// Steps of [`Fleet::start`]: start and log in (or share credentials) per configuration,
    /// and the login-cost server.
    fn steps(configs: &[Config]) -> u64 {
        configs.len() as u64 * 2 + 1
    }

    fn start(ctx: &mut Section<'_>, plan: &Plan, configs: &[Config]) -> Result<Self> {
        let mut servers = Vec::new();
        for c in configs {
            ctx.step(format!("starting {}", c.name));
            servers.push(match c.baseline {
                None => ServerProcess::start(ctx.server_binary, &c.name, &c.args)?,
                Some(stack) => {
                    ServerProcess::start_baseline(ctx.server_binary, &c.name, stack, &c.args)?
                }
            });
        }
        let users: Vec<String> = (0..plan.users).map(|i| format!("user{i}")).collect();
        let mut fleet = Fleet {
            servers,
            tokens: BTreeMap::new(),
            logins: Vec::new(),
        };
        // Every user on every server whose sessions or keys are its own.
        for c in configs.iter().filter(|c| !c.behind_proxy) {
            ctx.step(format!("logging {} users in on {}", plan.users, c.name));
            if c.baseline == Some(Stack::PlainAxum) {
                continue; // `/healthz` only: nothing to log in to.
            }
            let s = fleet.server(&c.name)?;
            let (t, took) = login_all(s, &users, DEMO_PASSWORD, ctx.cores.max(2), &|_| {})?;
            fleet
                .logins
                .push(login_phase(c.name.clone(), "insecure-fast", t.len(), took));
            fleet.tokens.insert(c.name.clone(), t);
        }
        // The real login cost: argon2id with OWASP's parameters, the server's default.
        ctx.step("login cost with argon2id (OWASP parameters)");
        let mut login_cost = spec::Configuration::new(Backend::jwt(Alg::HS256));
        login_cost.users = plan.login_cost_users;
        let s = ServerProcess::start(ctx.server_binary, "login-cost", &login_cost.serve_args())?;
        let some_users = &users[..plan.login_cost_users.min(users.len())];
        let (t, took) = login_all(&s, some_users, DEMO_PASSWORD, ctx.cores.max(2), &|_| {})?;
        fleet.logins.push(login_phase(
            login_cost.name(),
            "argon2id-owasp",
            t.len(),
            took,
        ));
        // The proxied servers read the same Redis under the same prefix: the sessions the
        // direct server issued are theirs too, so they are not logged in again (no argon2
        // time wasted).
        for c in configs.iter().filter(|c| c.behind_proxy) {
            ctx.step(format!("{} shares the session credentials", c.name));
            let shared = fleet.tokens.get("session").cloned().unwrap_or_default();
            fleet.tokens.insert(c.name.clone(), shared);
        }
        Ok(fleet)
    }

    fn server(&self, name: &str) -> Result<&ServerProcess> {
        self.servers
            .iter()
            .find(|s| s.name == name)
            .with_context(|| format!("no server {name}"))
    }

    /// The `/healthz` baseline's server: our first stateless one, so the route touches no
    /// Redis and costs what the framework costs.
    fn healthz(&self, configs: &[Config]) -> Result<&ServerProcess> {
        let c = configs
            .iter()
            .find(|c| c.baseline.is_none() && !c.stateful)
            .context("no stateless configuration to serve /healthz")?;
        self.server(&c.name)
    }

    /// A target: `path` on `c`'s server with its credentials.
    fn target(
        &self,
        c: &Config,
        name: String,
        path: &'static str,
        redis_pid: Option<u32>,
    ) -> Result<Target<'_>> {
        Ok(Target {
            name,
            server: self.server(&c.name)?,
            path,
            credentials: self.tokens.get(&c.name).cloned().unwrap_or_default(),
            also: Vec::new(),
            redis_pids: if c.stateful {
                redis_pid.into_iter().collect()
            } else {
                Vec::new()
            },
        })
    }
}

fn login_phase(configuration: String, hash: &str, logins: usize, took: Duration) -> LoginPhase {
    LoginPhase {
        configuration,
        password_hash: hash.into(),
        logins,
        seconds: took.as_secs_f64(),
        rate: logins as f64 / took.as_secs_f64().max(1e-9),
    }
}

/// Each credential's size, alone and as a header line or cookie, for our configurations
/// (the session once: the proxied ones carry the same IDs).
fn token_sizes(configs: &[Config], tokens: &BTreeMap<String, Vec<String>>) -> Vec<TokenSize> {
    configs
        .iter()
        .filter(|c| !c.behind_proxy && c.baseline.is_none())
        .filter_map(|c| {
            let token = tokens.get(&c.name)?.first()?;
            let header_line = format!("authorization: Bearer {token}\r\n").len();
            let cookie_name = crate::wire::COOKIE_NAME;
            let cookie_line = format!("cookie: {cookie_name}={token}\r\n").len();
            let cookie_pair = cookie_name.len() + 1 + token.len();
            Some(TokenSize {
                configuration: c.name.clone(),
                token_bytes: token.len(),
                header_line_bytes: header_line,
                cookie_line_bytes: cookie_line,
                request_head_bytes: 0.0,
                cookie_limit_share: cookie_pair as f64 / COOKIE_LIMIT_BYTES as f64,
            })
        })
        .collect()
}

/// One JWT of each signing configuration, for the book's anatomy page.
fn sample_tokens(configs: &[Config], tokens: &BTreeMap<String, Vec<String>>) -> Vec<SampleToken> {
    let collected_at = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    configs
        .iter()
        .filter(|c| c.name.starts_with("jwt-"))
        .filter_map(|c| {
            Some(SampleToken {
                configuration: c.name.clone(),
                token: tokens.get(&c.name)?.first()?.clone(),
                collected_at,
            })
        })
        .collect()
}

/// Bytes on the wire, HTTP/1.1 against HTTP/2, with the credentials just issued.
fn wire_section(
    sizes: &[TokenSize],
    tokens: &BTreeMap<String, Vec<String>>,
) -> Result<crate::wire::WireResult> {
    let credentials: Vec<(String, Vec<String>)> = sizes
        .iter()
        .filter_map(|s| {
            let t = tokens.get(&s.configuration)?;
            let some = t.iter().take(crate::wire::REQUESTS).cloned().collect();
            Some((s.configuration.clone(), some))
        })
        .collect();
    crate::wire::measure(&credentials).context("the wire section")
}

/// The Redis floor: `redis-benchmark` GET at each closed-loop connection count.
fn floors(ctx: &mut Section<'_>, plan: &Plan, port: u16) -> Result<Vec<RedisBenchmark>> {
    ctx.step("redis-benchmark GET floors");
    let Some(bin) = redis_bench::find() else {
        ctx.notes.push(
            "redis-benchmark not found (Debian: apt-get install redis-tools): no Redis floor"
                .into(),
        );
        return Ok(Vec::new());
    };
    plan.closed_connections
        .iter()
        .map(|&c| redis_bench::run(&bin, port, c, plan.redis_benchmark_requests))
        .collect()
}

/// Steps of [`in_process`]: one per algorithm, the JWE modes, the session, and "done".
fn in_process_steps() -> u64 {
    Alg::ALL.len() as u64 + 3
}

/// What verify and issue cost in-process, beside their floors, and the session verify's
/// latency at one connection.
fn in_process(ctx: &mut Section<'_>, plan: &Plan) -> (Vec<MicroResult>, LatencyQuantiles) {
    let mut results = Vec::new();
    for alg in Alg::ALL {
        ctx.step(format!("in-process verify/issue {alg}"));
        results.extend(micro::jwt(alg, &plan.micro));
    }
    ctx.step("in-process JWE verify/issue, every mode");
    results.extend(micro::jwe(&plan.micro));
    ctx.step("in-process session verify/issue");
    let (session, latency) = micro::session(&plan.micro);
    results.extend(session);
    let sorted = &latency.sorted_us;
    let c1 = LatencyQuantiles {
        n: sorted.len(),
        p50: quantile(sorted, 0.5),
        p90: quantile(sorted, 0.9),
        p99: quantile(sorted, 0.99),
    };
    ctx.step("in-process measurements done");
    (results, c1)
}

/// The HTTP measurements of the main section.
struct HttpSection {
    /// Closed and open loop, every target.
    runs: Vec<HttpRun>,
    /// The session at each Redis distance.
    distance_runs: Vec<HttpRun>,
    open_capacity: Vec<crate::capacity::Capacity>,
    /// The largest closed-loop connection count, where the targets compare throughput.
    max_closed: usize,
}

fn http_section(
    ctx: &mut Section<'_>,
    plan: &Plan,
    configs: &[Config],
    fleet: &Fleet,
) -> Result<HttpSection> {
    let mut targets = vec![Target {
        name: "healthz".into(),
        server: fleet.healthz(configs)?,
        path: "/healthz",
        credentials: Vec::new(),
        also: Vec::new(),
        redis_pids: Vec::new(),
    }];
    for c in configs.iter().filter(|c| !c.behind_proxy) {
        let path = if c.baseline == Some(Stack::PlainAxum) {
            "/healthz"
        } else {
            "/me"
        };
        targets.push(fleet.target(c, c.name.clone(), path, ctx.redis_pid)?);
    }
    let rounds = Rounds {
        reps: plan.reps,
        connections: &plan.closed_connections,
        duration: plan.http_duration,
        warmup: plan.http_warmup,
    };
    let mut runs = ctx.interleaved("http", &targets, &rounds)?;
    let max_closed = *plan.closed_connections.iter().max().unwrap_or(&1);
    let label = Scenario::Closed {
        connections: max_closed,
    }
    .label();
    let max_rps: BTreeMap<String, f64> = targets
        .iter()
        .map(|t| {
            let rps = runs
                .iter()
                .filter(|r| r.target == t.name && r.scenario == label)
                .map(|r| r.throughput_rps);
            (t.name.clone(), Spread::of(rps).median)
        })
        .collect();
    // Open loop for ours only: the baselines answer the throughput question (closed loop).
    // First each target's open-loop capacity, searched from its closed-loop maximum; then the
    // open-loop points at fractions of that capacity, so that a 90 % point is 90 % of a rate
    // the target sustains on schedule, not an overload test.
    targets.retain(|t| !t.name.starts_with(Peer::NAME_PREFIX));
    let mut open_capacity = Vec::new();
    let mut capacity_rps = max_rps.clone();
    if let Some(search) = &plan.capacity_search {
        for t in &targets {
            let before = ctx.progress.done;
            let found = crate::capacity::search(
                t,
                plan.open_connections,
                max_rps[&t.name],
                search,
                plan.loadgen_threads,
                &mut |msg| ctx.step(msg),
            )?;
            let planned = before + search.max_probes() as u64;
            ctx.progress.skip(planned.saturating_sub(ctx.progress.done));
            capacity_rps.insert(t.name.clone(), found.rate_rps);
            open_capacity.push(found);
        }
    }
    runs.extend(
        ctx.interleaved_by("http", &targets, &rounds, &plan.open_fractions, |t, &f| {
            Scenario::Open {
                connections: plan.open_connections,
                rate_rps: (capacity_rps[&t.name] * f).max(10.0),
                fraction_of_max: f,
            }
        })?,
    );
    drop(targets);

    // Redis distance: the direct session server is the 0 ms point.
    let mut distance_targets = Vec::new();
    for &d in &plan.redis_delays_ms {
        let (server, name) = if d == 0.0 {
            ("session".to_owned(), "session-redis+0ms".to_owned())
        } else {
            let far = format!("session-redis+{d}ms");
            (far.clone(), far)
        };
        let c = configs
            .iter()
            .find(|c| c.name == server)
            .context("a Redis distance without its server")?;
        let mut t = fleet.target(c, name, "/me", ctx.redis_pid)?;
        t.credentials = fleet.tokens.get("session").cloned().unwrap_or_default();
        distance_targets.push(t);
    }
    let distance_runs = ctx.interleaved("http", &distance_targets, &rounds)?;
    Ok(HttpSection {
        runs,
        distance_runs,
        open_capacity,
        max_closed,
    })
}

/// Our load generator against `wrk` on `/healthz`, interleaved.
fn wrk_check(
    ctx: &mut Section<'_>,
    plan: &Plan,
    healthz: &ServerProcess,
) -> Result<Option<LoadgenVsWrk>> {
    let Some(bin) = wrk::find() else {
        ctx.notes.push(
            "wrk not found (Debian: apt-get install wrk): no load-generator cross-check".into(),
        );
        return Ok(None);
    };
    let max_closed = *plan.closed_connections.iter().max().unwrap_or(&1);
    let target = Target {
        name: "healthz".into(),
        server: healthz,
        path: "/healthz",
        credentials: Vec::new(),
        also: Vec::new(),
        redis_pids: Vec::new(),
    };
    let (mut wrk_rps, mut ours, mut command) = (Vec::new(), Vec::new(), String::new());
    let secs = plan.http_duration.max(Duration::from_secs(1));
    for rep in 0..plan.reps {
        ctx.step(format!("wrk on /healthz (rep {}/{})", rep + 1, plan.reps));
        let url = healthz.url("/healthz");
        let (rps, cmd) = wrk::run(&bin, &url, plan.loadgen_threads, max_closed, secs)?;
        wrk_rps.push(rps);
        command = cmd;
        let what = format!("authbench load on /healthz (rep {}/{})", rep + 1, plan.reps);
        ctx.step(what);
        let closed = Scenario::Closed {
            connections: max_closed,
        };
        let (report, _) =
            http::measure(&target, closed, secs, Duration::ZERO, plan.loadgen_threads)?;
        ours.push(report.throughput_rps);
    }
    let (w, o) = (Spread::of(wrk_rps), Spread::of(ours));
    Ok(Some(LoadgenVsWrk {
        connections: max_closed,
        ratio: o.median / w.median.max(1e-9),
        wrk_rps: w,
        loadgen_rps: o,
        wrk_command: command,
    }))
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

/// What the main sections measured, before it becomes a [`RunRecord`].
struct Measured<'c> {
    configs: &'c [Config],
    sizes: Vec<TokenSize>,
    sample_tokens: Vec<SampleToken>,
    wire: crate::wire::WireResult,
    redis_benchmark: Vec<RedisBenchmark>,
    session_verify_c1_us: LatencyQuantiles,
    micro: Vec<MicroResult>,
    http: HttpSection,
    loadgen_vs_wrk: Option<LoadgenVsWrk>,
    proxies: Vec<ProxyRecord>,
    logins: Vec<LoginPhase>,
    revocation: crate::revocation::RevocationResult,
    tenancy: crate::tenancy::TenancyResult,
    scale: crate::scale::ScaleResult,
}

impl Measured<'_> {
    /// The record: the measurements, the summaries and targets computed from them, and the
    /// context (machine, versions, commit) they were measured in.
    fn into_record(
        self,
        opts: &CompareOptions,
        started_at: String,
        machine: &Machine,
        redis: &Redis,
        plan: Plan,
        notes: Vec<String>,
    ) -> Result<RunRecord> {
        let Measured {
            mut sizes, http, ..
        } = self;
        let http_summary = HttpSummary::of_runs(&http.runs);
        for s in &mut sizes {
            if let Some(r) = http.runs.iter().find(|r| r.target == s.configuration) {
                s.request_head_bytes = r.request_head_bytes;
            }
        }
        let targets = summary::check_targets(
            &self.micro,
            &self.redis_benchmark,
            &self.session_verify_c1_us,
            &http_summary,
            &http.runs,
            self.loadgen_vs_wrk.as_ref(),
            http.max_closed,
        );
        let versions = crate::machine::detect_versions(&opts.cargo_lock, redis.version.clone());
        let git = crate::machine::detect_git();
        let [machine, versions, git] = RunRecord::context(machine, &versions, &git);
        let mut http_runs = http.runs;
        http_runs.extend(http.distance_runs.iter().cloned());
        Ok(RunRecord {
            schema_version: SCHEMA_VERSION,
            command: opts.command_line.clone(),
            started_at,
            finished_at: now_rfc3339(),
            machine,
            versions,
            git,
            plan,
            configurations: self.configs.iter().map(Config::record).collect(),
            logins: self.logins,
            sizes,
            wire: Some(self.wire),
            sample_tokens: self.sample_tokens,
            redis_benchmark: self.redis_benchmark,
            session_verify_c1_us: self.session_verify_c1_us,
            micro: self.micro,
            http_runs,
            http: http_summary,
            open_capacity: http.open_capacity,
            redis_distance: HttpSummary::of_runs(&http.distance_runs),
            proxies: self.proxies,
            loadgen_vs_wrk: self.loadgen_vs_wrk,
            revocation: self.revocation,
            tenancy: Some(self.tenancy),
            scale: Some(self.scale),
            targets,
            notes,
        })
    }
}
