//! The parts of a run, in order. Each says how many progress steps it takes beside what it
//! does, so the progress total is the sum of the parts' own counts and cannot drift from them
//! (the smoke test checks that the last step is the total).

use crate::http::{self, HttpRun, Scenario, Target};
use crate::micro::{self, MicroResult};
use crate::plan::Plan;
use crate::record::*;
use crate::redis_bench::RedisBenchmark;
use crate::run::{COOKIE_LIMIT_BYTES, Config, Measured};
use crate::section::{Rounds, Section};
use crate::services::{ServerProcess, login_all};
use crate::stats::{Spread, quantile};
use crate::{redis_bench, wrk};
use anyhow::{Context, Result};
use authbench_spec::{self as spec, Alg, Backend, DEMO_PASSWORD, Peer, Stack};
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

/// One part of `authbench compare`: what it takes and what it measures.
pub(crate) trait Part {
    /// Progress steps [`run`](Part::run) reports under this run's plan.
    fn steps(&self, state: &RunState<'_>) -> u64;
    /// Measures, adding what it found to `state` (and reporting each step to `ctx`).
    fn run(&self, ctx: &mut Section<'_>, state: &mut RunState<'_>) -> Result<()>;
}

/// Every part, in the order they run. The first starts the servers the next ones measure.
pub(crate) const PARTS: [&dyn Part; 10] = [
    &Logins,
    &Sizes,
    &Wire,
    &Floors,
    &InProcess,
    &Http,
    &LoadgenCheck,
    &Revocation,
    &Tenancy,
    &Scale,
];

/// What the parts share and fill in.
pub(crate) struct RunState<'a> {
    pub(crate) plan: &'a Plan,
    pub(crate) configs: &'a [Config],
    /// The run's single-node Redis, for `redis-benchmark`.
    pub(crate) redis_port: u16,
    /// `--redis-cluster`, for the scale-out part (`None`: a private cluster).
    pub(crate) redis_cluster: Option<&'a str>,
    /// The servers of [`configurations`](crate::run), once [`Logins`] has started them.
    pub(crate) fleet: Option<Fleet>,
    pub(crate) measured: Measured,
}

impl RunState<'_> {
    fn fleet(&self) -> Result<&Fleet> {
        self.fleet
            .as_ref()
            .context("the servers are not started: the logins part runs first")
    }
}

/// Start every server and log its users in.
struct Logins;

impl Part for Logins {
    fn steps(&self, state: &RunState<'_>) -> u64 {
        Fleet::steps(state.configs)
    }

    fn run(&self, ctx: &mut Section<'_>, state: &mut RunState<'_>) -> Result<()> {
        let mut fleet = Fleet::start(ctx, state.plan, state.configs)?;
        state.measured.logins = std::mem::take(&mut fleet.logins);
        state.fleet = Some(fleet);
        Ok(())
    }
}

/// Credential sizes and one sample JWT each (no measurement: no step).
struct Sizes;

impl Part for Sizes {
    fn steps(&self, _: &RunState<'_>) -> u64 {
        0
    }

    fn run(&self, _: &mut Section<'_>, state: &mut RunState<'_>) -> Result<()> {
        let tokens = &state.fleet()?.tokens;
        let sizes = token_sizes(state.configs, tokens);
        let samples = sample_tokens(state.configs, tokens);
        state.measured.sizes = sizes;
        state.measured.sample_tokens = samples;
        Ok(())
    }
}

/// Bytes on the wire, HTTP/1.1 against HTTP/2.
struct Wire;

impl Part for Wire {
    fn steps(&self, _: &RunState<'_>) -> u64 {
        1
    }

    fn run(&self, ctx: &mut Section<'_>, state: &mut RunState<'_>) -> Result<()> {
        ctx.step("bytes per request over HTTP/1.1 and HTTP/2");
        let wire = wire_section(&state.measured.sizes, &state.fleet()?.tokens)?;
        state.measured.wire = Some(wire);
        Ok(())
    }
}

/// The Redis floor.
struct Floors;

impl Part for Floors {
    fn steps(&self, _: &RunState<'_>) -> u64 {
        1
    }

    fn run(&self, ctx: &mut Section<'_>, state: &mut RunState<'_>) -> Result<()> {
        state.measured.redis_benchmark = floors(ctx, state.plan, state.redis_port)?;
        Ok(())
    }
}

/// In-process verify and issue costs.
struct InProcess;

impl Part for InProcess {
    fn steps(&self, _: &RunState<'_>) -> u64 {
        in_process_steps()
    }

    fn run(&self, ctx: &mut Section<'_>, state: &mut RunState<'_>) -> Result<()> {
        let (micro, c1) = in_process(ctx, state.plan);
        state.measured.micro = micro;
        state.measured.session_verify_c1_us = Some(c1);
        Ok(())
    }
}

/// Closed loop, the capacity search, open loop, and the Redis distance.
struct Http;

impl Part for Http {
    fn steps(&self, state: &RunState<'_>) -> u64 {
        let plan = state.plan;
        let http_targets = 1 + state
            .configs
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
        (http + capacity + distance) as u64
    }

    fn run(&self, ctx: &mut Section<'_>, state: &mut RunState<'_>) -> Result<()> {
        let http = http_section(ctx, state.plan, state.configs, state.fleet()?)?;
        state.measured.http = http;
        Ok(())
    }
}

/// Our load generator against `wrk` (when `wrk` is installed).
struct LoadgenCheck;

impl Part for LoadgenCheck {
    fn steps(&self, state: &RunState<'_>) -> u64 {
        match wrk::find() {
            Some(_) => state.plan.reps as u64 * 2,
            None => 0,
        }
    }

    fn run(&self, ctx: &mut Section<'_>, state: &mut RunState<'_>) -> Result<()> {
        let healthz = state.fleet()?.healthz(state.configs)?;
        let check = wrk_check(ctx, state.plan, healthz)?;
        state.measured.loadgen_vs_wrk = check;
        Ok(())
    }
}

/// The revocation experiment.
struct Revocation;

impl Part for Revocation {
    fn steps(&self, _: &RunState<'_>) -> u64 {
        crate::revocation::STEPS
    }

    fn run(&self, ctx: &mut Section<'_>, state: &mut RunState<'_>) -> Result<()> {
        let binary = ctx.server_binary;
        let r = crate::revocation::run(binary, &state.plan.revocation, &mut |m| ctx.step(m))?;
        state.measured.revocation = Some(r);
        Ok(())
    }
}

/// Multi-tenancy under Row Level Security (a PostgreSQL of its own).
struct Tenancy;

impl Part for Tenancy {
    fn steps(&self, state: &RunState<'_>) -> u64 {
        crate::tenancy::steps(&crate::tenancy::plan_for(state.plan.profile))
    }

    fn run(&self, ctx: &mut Section<'_>, state: &mut RunState<'_>) -> Result<()> {
        state.measured.tenancy = Some(crate::tenancy::run(ctx)?);
        Ok(())
    }
}

/// Beyond one machine (a Redis Cluster of its own, several instances, rotation, failover).
struct Scale;

impl Part for Scale {
    fn steps(&self, state: &RunState<'_>) -> u64 {
        crate::scale::steps(&crate::scale::plan_for(state.plan.profile))
    }

    fn run(&self, ctx: &mut Section<'_>, state: &mut RunState<'_>) -> Result<()> {
        state.measured.scale = Some(crate::scale::run(ctx, state.redis_cluster)?);
        Ok(())
    }
}

/// Every server of [`configurations`], started, with its users logged in.
pub(crate) struct Fleet {
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
#[derive(Default)]
pub(crate) struct HttpSection {
    /// Closed and open loop, every target.
    pub(crate) runs: Vec<HttpRun>,
    /// The session at each Redis distance.
    pub(crate) distance_runs: Vec<HttpRun>,
    pub(crate) open_capacity: Vec<crate::capacity::Capacity>,
    /// The largest closed-loop connection count, where the targets compare throughput.
    pub(crate) max_closed: usize,
}

fn http_section(
    ctx: &mut Section<'_>,
    plan: &Plan,
    configs: &[Config],
    fleet: &Fleet,
) -> Result<HttpSection> {
    let mut targets = vec![healthz_target(fleet.healthz(configs)?)];
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
    let max_closed = max_closed(plan);
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

/// The largest closed-loop connection count, where throughput is compared.
fn max_closed(plan: &Plan) -> usize {
    *plan.closed_connections.iter().max().unwrap_or(&1)
}

/// `/healthz` on `server`: no credential, no Redis; what the framework costs.
fn healthz_target(server: &ServerProcess) -> Target<'_> {
    Target {
        name: "healthz".into(),
        server,
        path: "/healthz",
        credentials: Vec::new(),
        also: Vec::new(),
        redis_pids: Vec::new(),
    }
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
    let max_closed = max_closed(plan);
    let target = healthz_target(healthz);
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
