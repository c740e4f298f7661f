//! The orchestration: start everything, measure in interleaved rounds, write the run folder.

use crate::http::{self, HttpRun, Scenario, Target};
use crate::machine::Machine;
use crate::micro::{self, MicroResult};
use crate::plan::Profile;
use crate::record::*;
use crate::section::Section;
use crate::services::{ServerProcess, login_all};
use crate::stats::{Spread, quantile};
use crate::{redis_bench, summary, wrk};
use anyhow::{Context, Result, bail};
use authbench_baselines::Stack;
use authbench_services::{LatencyProxy, RedisServer};
use authbench_spec::DEMO_PASSWORD;
use authbench_spec::{self as spec, Alg, Backend, RedisAt};
use indicatif::{ProgressBar, ProgressStyle};
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

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

/// Progress on a terminal as a bar; elsewhere (CI logs) as plain lines.
struct Progress {
    bar: Option<ProgressBar>,
    done: u64,
    total: u64,
    started: Instant,
}

impl Progress {
    fn new(total: u64) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(total);
            bar.set_style(
                ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            bar
        });
        Self {
            bar,
            done: 0,
            total,
            started: Instant::now(),
        }
    }

    /// Counts `n` planned steps that did not need to run (a search that ended early).
    fn skip(&mut self, n: u64) {
        self.done += n;
        if let Some(bar) = &self.bar {
            bar.inc(n);
        }
    }

    fn step(&mut self, msg: impl Into<String>) {
        let msg = msg.into();
        self.done += 1;
        match &self.bar {
            Some(bar) => {
                bar.set_message(msg);
                bar.inc(1);
            }
            None => eprintln!(
                "compare: [{}/{} {:.1} s] {msg}",
                self.done,
                self.total,
                self.started.elapsed().as_secs_f64()
            ),
        }
    }

    fn println(&self, msg: &str) {
        match &self.bar {
            Some(bar) => bar.println(msg),
            None => eprintln!("compare: {msg}"),
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// A server configuration to start.
struct Config {
    name: String,
    args: Vec<String>,
    stateful: bool,
    round_trips: u32,
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
            baseline: None,
        }
    }
}

/// The name of a baseline's configuration in tables: `baseline-<stack>`.
pub fn baseline_name(stack: Stack) -> String {
    format!("{BASELINE_PREFIX}{}", stack.name())
}

/// Every baseline configuration's name starts with this.
pub const BASELINE_PREFIX: &str = "baseline-";

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
    let mut notes = Vec::new();

    // --- Services. ---
    let private_redis = match &opts.redis_url {
        Some(_) => None,
        None => Some(RedisServer::start().context("starting a private redis-server")?),
    };
    let redis_url = match (&opts.redis_url, &private_redis) {
        (Some(url), _) => url.clone(),
        (None, Some(r)) => r.url(),
        (None, None) => bail!("no Redis"),
    };
    let redis_pid = private_redis.as_ref().and_then(|r| r.pid());
    let redis_addr: std::net::SocketAddr = match &private_redis {
        Some(r) => r.addr(),
        None => redis_url
            .trim_start_matches("redis://")
            .trim_end_matches('/')
            .parse()
            .context("--redis-url must be redis://HOST:PORT for the distance proxy")?,
    };
    let redis_version =
        authbench_services::redis_server_version().unwrap_or_else(|_| "unknown".into());

    let users: Vec<String> = (0..plan.users).map(|i| format!("user{i}")).collect();
    let load_test = |backend| spec::Configuration::load_test(backend, plan.users);
    let session = load_test(Backend::Session).with_redis(RedisAt::Url(redis_url.clone()));
    let mut configs = vec![Config::ours(&session)];
    for &alg in &plan.http_algs {
        configs.push(Config::ours(&load_test(Backend::jwt(alg))));
    }
    for &alg in &plan.http_jwe {
        // A plain public-key mode authenticates nothing, so `serve` refuses it unless told
        // that this is a measurement of the bare mode's cost (`load_test` says so).
        configs.push(Config::ours(&load_test(Backend::Jwe { alg, nested: None })));
    }
    // Redis farther away: the same Redis (so the same sessions) behind the latency proxy.
    let proxies: Vec<(f64, LatencyProxy)> = plan
        .redis_delays_ms
        .iter()
        .filter(|d| **d > 0.0)
        .map(|&d| {
            LatencyProxy::start(redis_addr, Duration::from_secs_f64(d / 1000.0))
                .map(|p| (d, p))
                .context("starting the latency proxy")
        })
        .collect::<Result<_>>()?;
    for (d, proxy) in &proxies {
        let mut far = session.clone().with_redis(RedisAt::Url(proxy.redis_url()));
        far.redis_delay_ms = Some(*d);
        configs.push(Config::ours(&far));
    }
    // The stacks a team would install instead, measured beside ours (closed loop only).
    for name in &plan.baselines {
        let stack: Stack = name.parse()?;
        let mut args = vec!["--users".to_owned(), plan.users.to_string()];
        if stack.needs_redis() {
            // Its own key space (tower-sessions' record keys are bare session IDs) in the same
            // Redis, so Redis CPU is charged the same way.
            args.extend(["--redis-url".to_owned(), redis_url.clone()]);
        }
        configs.push(Config {
            name: baseline_name(stack),
            args,
            stateful: stack.needs_redis(),
            round_trips: match stack {
                Stack::TowerSessions => 1,
                Stack::TowerSessionsInactivity => 2,
                _ => 0,
            },
            baseline: Some(stack),
        });
    }

    let http_targets = 1 + 1 + plan.http_algs.len() + plan.http_jwe.len();
    let http_steps = plan.reps
        * (http_targets * (plan.closed_connections.len() + plan.open_fractions.len())
            + plan.baselines.len() * plan.closed_connections.len());
    let distance_steps = plan.reps * plan.redis_delays_ms.len() * plan.closed_connections.len();
    let capacity_steps = plan
        .capacity_search
        .as_ref()
        .map_or(0, |s| http_targets * s.max_probes());
    // Steps, in order: start each server and log its users in (or share the session's
    // credentials), the login-cost server, redis-benchmark, the in-process measurements (one
    // per algorithm, the session, and "done"), every HTTP run, wrk and ours per repetition, the
    // revocation experiment's, the tenancy and scale sections'.
    let total = configs.len() as u64 * 2
        + 1
        + 1
        + 1
        + Alg::ALL.len() as u64
        + 2
        + (http_steps + capacity_steps + distance_steps) as u64
        + plan.reps as u64 * 2
        + crate::revocation::STEPS
        + crate::tenancy::steps(&crate::tenancy::plan_for(plan.profile))
        + crate::scale::steps(&crate::scale::plan_for(plan.profile))
        + 2;
    let mut progress = Progress::new(total);

    let mut servers = Vec::new();
    for c in &configs {
        progress.step(format!("starting {}", c.name));
        servers.push(match c.baseline {
            None => ServerProcess::start(&opts.server_binary, &c.name, &c.args)?,
            Some(stack) => {
                ServerProcess::start_baseline(&opts.server_binary, &c.name, stack, &c.args)?
            }
        });
    }
    let server = |name: &str| servers.iter().find(|s| s.name == name).context("server");

    // --- Logins: every user on every server whose sessions or keys are its own. ---
    let mut logins = Vec::new();
    let mut tokens: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for c in configs
        .iter()
        .filter(|c| !c.name.starts_with("session-redis+"))
    {
        progress.step(format!("logging {} users in on {}", plan.users, c.name));
        if c.baseline == Some(Stack::PlainAxum) {
            continue; // `/healthz` only: nothing to log in to.
        }
        let s = server(&c.name)?;
        let (t, took) = login_all(s, &users, DEMO_PASSWORD, machine.cores.max(2), &|_| {})?;
        logins.push(LoginPhase {
            configuration: c.name.clone(),
            password_hash: "insecure-fast".into(),
            logins: t.len(),
            seconds: took.as_secs_f64(),
            rate: t.len() as f64 / took.as_secs_f64().max(1e-9),
        });
        tokens.insert(c.name.clone(), t);
    }
    // The real login cost: argon2id with OWASP's parameters, the server's default.
    {
        progress.step("login cost with argon2id (OWASP parameters)");
        let mut login_cost = spec::Configuration::new(Backend::jwt(Alg::HS256));
        login_cost.users = plan.login_cost_users;
        let s = ServerProcess::start(&opts.server_binary, "login-cost", &login_cost.serve_args())?;
        let (t, took) = login_all(
            &s,
            &users[..plan.login_cost_users.min(users.len())],
            DEMO_PASSWORD,
            machine.cores.max(2),
            &|_| {},
        )?;
        logins.push(LoginPhase {
            configuration: login_cost.name(),
            password_hash: "argon2id-owasp".into(),
            logins: t.len(),
            seconds: took.as_secs_f64(),
            rate: t.len() as f64 / took.as_secs_f64().max(1e-9),
        });
    }
    // The proxied servers read the same Redis under the same prefix: the sessions the direct
    // server issued are theirs too, so they are not logged in again (no argon2 time wasted).
    for c in configs
        .iter()
        .filter(|c| c.name.starts_with("session-redis+"))
    {
        progress.step(format!("{} shares the session credentials", c.name));
        let shared = tokens.get("session").cloned().unwrap_or_default();
        tokens.insert(c.name.clone(), shared);
    }

    // --- Sizes. ---
    let sizes: Vec<TokenSize> = configs
        .iter()
        .filter(|c| !c.name.starts_with("session-redis+") && c.baseline.is_none())
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
        .collect();

    let collected_at = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let sample_tokens: Vec<SampleToken> = configs
        .iter()
        .filter(|c| c.name.starts_with("jwt-"))
        .filter_map(|c| {
            Some(SampleToken {
                configuration: c.name.clone(),
                token: tokens.get(&c.name)?.first()?.clone(),
                collected_at,
            })
        })
        .collect();

    // --- Bytes on the wire, HTTP/1.1 against HTTP/2, with the credentials just issued. ---
    progress.step("bytes per request over HTTP/1.1 and HTTP/2");
    let wire_credentials: Vec<(String, Vec<String>)> = sizes
        .iter()
        .filter_map(|s| {
            let t = tokens.get(&s.configuration)?;
            Some((
                s.configuration.clone(),
                t.iter().take(crate::wire::REQUESTS).cloned().collect(),
            ))
        })
        .collect();
    let wire = crate::wire::measure(&wire_credentials).context("the wire section")?;

    // --- Floors: redis-benchmark. ---
    let mut redis_benchmark = Vec::new();
    progress.step("redis-benchmark GET floors");
    match redis_bench::find() {
        Some(bin) => {
            for &c in &plan.closed_connections {
                redis_benchmark.push(redis_bench::run(
                    &bin,
                    redis_addr.port(),
                    c,
                    plan.redis_benchmark_requests,
                )?);
            }
        }
        None => notes.push(
            "redis-benchmark not found (Debian: apt-get install redis-tools): no Redis floor"
                .into(),
        ),
    }

    // --- In-process costs. ---
    let mut micro_results: Vec<MicroResult> = Vec::new();
    for alg in Alg::ALL {
        progress.step(format!("in-process verify/issue {alg}"));
        micro_results.extend(micro::jwt(alg, &plan.micro));
    }
    progress.step("in-process JWE verify/issue, every mode");
    micro_results.extend(micro::jwe(&plan.micro));
    progress.step("in-process session verify/issue");
    let (session_micro, session_latency) = micro::session(&plan.micro);
    micro_results.extend(session_micro);
    let session_verify_c1_us = LatencyQuantiles {
        n: session_latency.sorted_us.len(),
        p50: quantile(&session_latency.sorted_us, 0.5),
        p90: quantile(&session_latency.sorted_us, 0.9),
        p99: quantile(&session_latency.sorted_us, 0.99),
    };
    progress.step("in-process measurements done");

    // --- HTTP. ---
    let mut targets: Vec<Target<'_>> = vec![Target {
        name: "healthz".into(),
        server: server(&configs[1].name)?,
        path: "/healthz",
        credentials: Vec::new(),
        also: Vec::new(),
        redis_pids: Vec::new(),
    }];
    for c in configs
        .iter()
        .filter(|c| !c.name.starts_with("session-redis+"))
    {
        targets.push(Target {
            name: c.name.clone(),
            server: server(&c.name)?,
            path: if c.baseline == Some(Stack::PlainAxum) {
                "/healthz"
            } else {
                "/me"
            },
            credentials: tokens.get(&c.name).cloned().unwrap_or_default(),
            also: Vec::new(),
            redis_pids: if c.stateful {
                redis_pid.into_iter().collect()
            } else {
                Vec::new()
            },
        });
    }
    let mut http_runs: Vec<HttpRun> = Vec::new();
    let run_one = |t: &Target<'_>,
                   scenario: Scenario,
                   rep: usize,
                   progress: &mut Progress,
                   runs: &mut Vec<HttpRun>|
     -> Result<()> {
        progress.step(format!(
            "{} {} (rep {}/{})",
            t.name,
            scenario.label(),
            rep + 1,
            plan.reps
        ));
        let (report, cpu) = http::measure(
            t,
            scenario,
            plan.http_duration,
            plan.http_warmup,
            plan.loadgen_threads,
        )?;
        let raw = format!(
            "raw/http/{}-{}-rep{rep}.json",
            t.name.replace('+', "plus"),
            scenario.label()
        );
        write_json(&out.join(&raw), &report)?;
        if report.errors.total > 0 {
            progress.println(&format!(
                "{} {}: {} errors ({:?})",
                t.name,
                scenario.label(),
                report.errors.total,
                report.errors.sample
            ));
        }
        runs.push(crate::http::run_row(
            &t.name, &scenario, rep, &report, cpu, raw,
        ));
        Ok(())
    };
    // Closed loop, interleaved: every target once per round, the order rotated each round so
    // that no configuration always runs first (or right after the same neighbour).
    for rep in 0..plan.reps {
        for &connections in &plan.closed_connections {
            for i in 0..targets.len() {
                let t = &targets[(i + rep) % targets.len()];
                run_one(
                    t,
                    Scenario::Closed { connections },
                    rep,
                    &mut progress,
                    &mut http_runs,
                )?;
            }
        }
    }
    let max_closed = *plan.closed_connections.iter().max().unwrap_or(&1);
    let max_rps: BTreeMap<String, f64> = targets
        .iter()
        .map(|t| {
            let label = Scenario::Closed {
                connections: max_closed,
            }
            .label();
            let s = Spread::of(
                http_runs
                    .iter()
                    .filter(|r| r.target == t.name && r.scenario == label)
                    .map(|r| r.throughput_rps),
            );
            (t.name.clone(), s.median)
        })
        .collect();
    // Open loop for ours only: the baselines answer the throughput question (closed loop).
    // First each target's open-loop capacity, searched from its closed-loop maximum; then the
    // open-loop points at fractions of that capacity, so that a 90 % point is 90 % of a rate
    // the target sustains on schedule, not an overload test.
    let open_targets: Vec<&Target<'_>> = targets
        .iter()
        .filter(|t| !t.name.starts_with(BASELINE_PREFIX))
        .collect();
    let mut open_capacity = Vec::new();
    let mut capacity_rps: BTreeMap<String, f64> = max_rps.clone();
    if let Some(search) = &plan.capacity_search {
        for t in &open_targets {
            let before = progress.done;
            let found = crate::capacity::search(
                t,
                plan.open_connections,
                max_rps[&t.name],
                search,
                plan.loadgen_threads,
                &mut |msg| progress.step(msg),
            )?;
            progress.skip((before + search.max_probes() as u64).saturating_sub(progress.done));
            capacity_rps.insert(t.name.clone(), found.rate_rps);
            open_capacity.push(found);
        }
    }
    for rep in 0..plan.reps {
        for &fraction in &plan.open_fractions {
            for i in 0..open_targets.len() {
                let t = open_targets[(i + rep) % open_targets.len()];
                let rate = (capacity_rps[&t.name] * fraction).max(10.0);
                let scenario = Scenario::Open {
                    connections: plan.open_connections,
                    rate_rps: rate,
                    fraction_of_max: fraction,
                };
                run_one(t, scenario, rep, &mut progress, &mut http_runs)?;
            }
        }
    }

    // --- Redis distance. ---
    let mut distance_targets: Vec<Target<'_>> = Vec::new();
    for &d in &plan.redis_delays_ms {
        let name = if d == 0.0 {
            "session".to_owned()
        } else {
            format!("session-redis+{d}ms")
        };
        distance_targets.push(Target {
            name: if d == 0.0 {
                "session-redis+0ms".into()
            } else {
                name.clone()
            },
            server: server(&name)?,
            path: "/me",
            credentials: tokens.get("session").cloned().unwrap_or_default(),
            also: Vec::new(),
            redis_pids: redis_pid.into_iter().collect(),
        });
    }
    let mut distance_runs: Vec<HttpRun> = Vec::new();
    for rep in 0..plan.reps {
        for &connections in &plan.closed_connections {
            for i in 0..distance_targets.len() {
                let t = &distance_targets[(i + rep) % distance_targets.len()];
                run_one(
                    t,
                    Scenario::Closed { connections },
                    rep,
                    &mut progress,
                    &mut distance_runs,
                )?;
            }
        }
    }

    // --- Our load generator against wrk, interleaved. ---
    let mut loadgen_vs_wrk = None;
    match wrk::find() {
        Some(bin) => {
            let healthz = &targets[0];
            let mut wrk_rps = Vec::new();
            let mut ours = Vec::new();
            let mut command = String::new();
            let secs = plan.http_duration.max(Duration::from_secs(1));
            for rep in 0..plan.reps {
                progress.step(format!("wrk on /healthz (rep {}/{})", rep + 1, plan.reps));
                let (rps, cmd) = wrk::run(
                    &bin,
                    &healthz.server.url("/healthz"),
                    plan.loadgen_threads,
                    max_closed,
                    secs,
                )?;
                wrk_rps.push(rps);
                command = cmd;
                progress.step(format!(
                    "authbench load on /healthz (rep {}/{})",
                    rep + 1,
                    plan.reps
                ));
                let (report, _) = http::measure(
                    healthz,
                    Scenario::Closed {
                        connections: max_closed,
                    },
                    secs,
                    Duration::ZERO,
                    plan.loadgen_threads,
                )?;
                ours.push(report.throughput_rps);
            }
            let (w, o) = (Spread::of(wrk_rps), Spread::of(ours));
            loadgen_vs_wrk = Some(LoadgenVsWrk {
                connections: max_closed,
                ratio: o.median / w.median.max(1e-9),
                wrk_rps: w,
                loadgen_rps: o,
                wrk_command: command,
            });
        }
        None => notes.push(
            "wrk not found (Debian: apt-get install wrk): no load-generator cross-check".into(),
        ),
    }
    // --- Revocation. ---
    let revocation = crate::revocation::run(&opts.server_binary, &plan.revocation, &mut |m| {
        progress.step(m)
    })?;
    // --- Multi-tenancy, then beyond one machine: sections with services of their own. ---
    let (tenancy, scale) = {
        let mut step = |m: String| progress.step(m);
        let mut section = Section {
            server_binary: &opts.server_binary,
            profile: plan.profile,
            out: &out,
            redis_url: &redis_url,
            redis_pid,
            loadgen_threads: plan.loadgen_threads,
            cores: machine.cores,
            step: &mut step,
            notes: &mut notes,
        };
        let tenancy = crate::tenancy::run(&mut section)?;
        let scale = crate::scale::run(&mut section, opts.redis_cluster.as_deref())?;
        (tenancy, scale)
    };
    progress.finish();

    // --- Summaries and targets. ---
    let http_summary = HttpSummary::of_runs(&http_runs);
    let distance_summary = HttpSummary::of_runs(&distance_runs);
    let mut sizes = sizes;
    for s in &mut sizes {
        if let Some(r) = http_runs.iter().find(|r| r.target == s.configuration) {
            s.request_head_bytes = r.request_head_bytes;
        }
    }
    let targets_checked = summary::check_targets(
        &micro_results,
        &redis_benchmark,
        &session_verify_c1_us,
        &http_summary,
        &http_runs,
        loadgen_vs_wrk.as_ref(),
        max_closed,
    );

    let [machine_v, versions_v, git_v] = RunRecord::context(
        &machine,
        &crate::machine::detect_versions(&opts.cargo_lock, redis_version),
        &crate::machine::detect_git(),
    );
    http_runs.extend(distance_runs);
    let record = RunRecord {
        schema_version: SCHEMA_VERSION,
        command: opts.command_line.clone(),
        started_at,
        finished_at: now_rfc3339(),
        machine: machine_v,
        versions: versions_v,
        git: git_v,
        plan,
        configurations: configs
            .iter()
            .map(|c| Configuration {
                name: c.name.clone(),
                serve_args: c
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
                stateful: c.stateful,
                round_trips_per_verify: c.round_trips,
                baseline: c.baseline.map(|s| s.name().to_owned()),
            })
            .collect(),
        logins,
        sizes,
        wire: Some(wire),
        sample_tokens,
        redis_benchmark,
        session_verify_c1_us,
        micro: micro_results,
        http_runs,
        http: http_summary,
        open_capacity,
        redis_distance: distance_summary,
        proxies: Vec::new(),
        loadgen_vs_wrk,
        revocation,
        tenancy: Some(tenancy),
        scale: Some(scale),
        targets: targets_checked,
        notes,
    };
    drop(servers);
    let proxy_records = proxies
        .iter()
        .map(|(d, p)| {
            let st = p.stats();
            ProxyRecord {
                requested_ms: *d,
                applied_mean_ms: st.mean_applied.as_secs_f64() * 1e3,
                max_overshoot_ms: st.max_overshoot.as_secs_f64() * 1e3,
                chunks: st.chunks,
            }
        })
        .collect();
    drop(proxies);
    drop(private_redis);
    let record = RunRecord {
        proxies: proxy_records,
        ..record
    };
    write_json(&out.join("run.json"), &record)?;
    std::fs::write(out.join("summary.md"), summary::markdown(&record))
        .with_context(|| format!("writing {}/summary.md", out.display()))?;
    Ok((out, record))
}
