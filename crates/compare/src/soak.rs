//! `authbench soak`: mixed load under faults, and the login-flood experiment.
//!
//! **Soak.** For each backend (session; JWT with revocation none, denylist, refresh), a private
//! Redis and an `authbench serve` child; `--connections` virtual users, each on its own
//! keep-alive connection, loop through a user's life: log in, `/me` a few times, `/refresh`
//! (refresh backend), log out, then probe credentials that must no longer work (logged-out
//! sessions and deny-listed tokens on `/me`, refresh tokens of logged-out families on
//! `/refresh`) and forged ones (a genuine token with one character changed). Half-way through,
//! Redis is killed (SIGKILL, like a crash) and restarted after `--outage`. Reported per backend:
//! every status that was not the expected one (503 while Redis is down or recovering counted
//! apart; 503 `login_busy` from the login pool counted apart as shedding), requests **accepted
//! with a revoked or forged credential** (must be 0), the server's resident memory and open
//! file descriptors sampled from `/proc` over time, and the recovery time (Redis back → first
//! success of a request that needs it), and what Redis's own latency monitor saw (every second
//! with a command, an append-only-file `fsync` or a fork of 100 ms or more), so that an
//! unexpected 503 (a Redis answer later than the server's 500 ms response timeout) can be put
//! beside a stall of Redis, or not. `--malloc-arena-max` runs the server with that glibc
//! setting, to tell allocator arenas from leaks in the memory curve. Redis runs with `appendonly yes, appendfsync always`
//! by default (`--redis-persistence`), as a deployment that keeps sessions or a deny-list
//! would: without persistence a restart forgets every session (all logged out) and every
//! deny-listed token (all revoked tokens valid again), which `--redis-persistence none` shows.
//!
//! **Login flood** ([`login_flood`]): `/me` latency (open loop, fixed rate, so queueing shows)
//! alone, then while `/healthz` is flooded (the baseline: what any flood of cheap requests
//! costs on a shared machine), then while `/login` is flooded with wrong passwords (refused by the failure budgets,
//! no argon2), then while it is flooded with a *valid* password (never refused: every request
//! runs argon2 at OWASP cost, and only the bounded hashing pool stands between the flood and
//! `/me`).
//!
//! Writes `soak.json` and `summary.md` into [`SoakOptions::out`] (`authbench soak`'s default:
//! `results/<date>-soak/`).

use crate::client::{AsyncClient, Response};
use crate::resp::{Inspector, Reply};
use crate::services::{ServerProcess, login_all};
use anyhow::{Context, Result, bail};
use authbench_loadgen::{Options, Report};
use authbench_services::{RedisServer, RedisServerOptions};
use authbench_spec::{Alg, Backend, Configuration, RedisAt, Revocation};
use serde::Serialize;
use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

/// The demo password (`serve`'s default).
const PASSWORD: &str = authbench_spec::DEMO_PASSWORD;

/// `/me` calls per cycle of a virtual user, between login and logout.
const ME_PER_CYCLE: usize = 8;

/// Logged-out credentials kept for probing (a ring: memory stays bounded).
const DEAD_POOL: usize = 4096;

/// How long after Redis is back a 503 still counts as part of the outage (reconnect backoff).
const RECOVERY_GRACE: Duration = Duration::from_secs(30);

/// Per-request timeout of the virtual users.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// A backend configuration the soak runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum SoakBackend {
    /// Redis sessions.
    Session,
    /// JWT ES256, no revocation.
    JwtNone,
    /// JWT ES256 with a jti deny-list in Redis.
    JwtDenylist,
    /// JWT ES256, short access tokens and rotating refresh tokens in Redis.
    JwtRefresh,
}

impl SoakBackend {
    fn name(self) -> &'static str {
        match self {
            Self::Session => "session",
            Self::JwtNone => "jwt-none",
            Self::JwtDenylist => "jwt-denylist",
            Self::JwtRefresh => "jwt-refresh",
        }
    }

    /// The backend this soak configuration runs.
    fn backend(self) -> Backend {
        let jwt = |revocation| Backend::Jwt {
            alg: Alg::ES256,
            revocation,
        };
        match self {
            Self::Session => Backend::Session,
            Self::JwtNone => jwt(Revocation::None),
            Self::JwtDenylist => jwt(Revocation::Denylist),
            Self::JwtRefresh => jwt(Revocation::Refresh),
        }
    }

    /// Whether `/me` depends on Redis (so an outage means 503 there).
    fn me_needs_redis(self) -> bool {
        self.backend().round_trips_per_verify() > 0
    }
}

/// Redis persistence during the soak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum Persistence {
    /// `appendonly yes`, `appendfsync always`: nothing acknowledged is lost in a crash.
    Aof,
    /// No persistence: a restart forgets every key.
    None,
}

/// What `authbench soak` runs (its flags, with their defaults, are in `authbench-cli`).
#[derive(Debug, Clone)]
pub struct SoakOptions {
    /// The `authbench` binary whose `serve` is soaked.
    pub server_binary: PathBuf,
    /// Measured time per backend.
    pub duration: Duration,
    /// Concurrent virtual users (one keep-alive connection each).
    pub connections: usize,
    /// Backends to soak, in order.
    pub backends: Vec<SoakBackend>,
    /// How long Redis stays down (killed at half-time).
    pub outage: Duration,
    /// Redis persistence.
    pub redis_persistence: Persistence,
    /// Seeded accounts the virtual users log in as (round robin).
    pub users: usize,
    /// Interval between two `/proc` samples of the server.
    pub sample_every: Duration,
    /// Also run the login-flood experiment (`/me` latency while `/login` is flooded).
    pub flood: bool,
    /// Only the login-flood experiment, no soak.
    pub flood_only: bool,
    /// Length of each login-flood phase.
    pub flood_phase: Duration,
    /// Run the server with `MALLOC_ARENA_MAX=<N>` (glibc's malloc arenas: by default up to
    /// 8 per core, each keeping freed memory; tests whether RSS steps are arenas, not leaks).
    pub malloc_arena_max: Option<u32>,
    /// Output folder; `None`: `results/<date>-soak`.
    pub out: Option<PathBuf>,
}

/// Runs `authbench soak`.
pub fn run(args: SoakOptions) -> Result<()> {
    let binary = args.server_binary.clone();
    let out = args.out.clone().unwrap_or_else(|| {
        let date = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
        PathBuf::from(format!("results/{}-soak", &date[..10]))
    });
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let command: Vec<String> = std::env::args().collect();
    let mut record = SoakRecord {
        command: command.join(" "),
        started: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
        duration_s: args.duration.as_secs_f64(),
        connections: args.connections,
        outage_s: args.outage.as_secs_f64(),
        redis_persistence: args.redis_persistence,
        malloc_arena_max: args.malloc_arena_max,
        redis_stall_threshold_ms: STALL_THRESHOLD_MS,
        backends: Vec::new(),
        login_flood: None,
    };
    if !args.flood_only {
        for backend in &args.backends {
            eprintln!(
                "soak: {} for {} at {} connections…",
                backend.name(),
                humantime::format_duration(args.duration),
                args.connections
            );
            let result = soak_one(&binary, *backend, &args)?;
            eprintln!("{}", result.line());
            record.backends.push(result);
            write(&out, &record)?;
        }
    }
    if args.flood || args.flood_only {
        eprintln!(
            "login flood: 4 phases of {}…",
            humantime::format_duration(args.flood_phase)
        );
        let flood = login_flood(&binary, args.flood_phase)?;
        eprintln!("{}", flood.lines());
        record.login_flood = Some(flood);
    }
    write(&out, &record)?;
    println!("{}", summary(&record));
    println!("written to {}", out.display());
    let failed: Vec<&str> = record
        .backends
        .iter()
        .filter(|b| b.accepted_revoked + b.accepted_forged > 0)
        .map(|b| b.backend.name())
        .collect();
    if !failed.is_empty() {
        bail!(
            "revoked or forged credentials were accepted by: {}",
            failed.join(", ")
        );
    }
    Ok(())
}

/// Everything a soak run recorded: `soak.json`.
#[derive(Debug, Serialize)]
pub struct SoakRecord {
    command: String,
    started: String,
    duration_s: f64,
    connections: usize,
    outage_s: f64,
    redis_persistence: Persistence,
    /// `MALLOC_ARENA_MAX` the servers ran with (None: glibc's default).
    malloc_arena_max: Option<u32>,
    /// Redis's latency monitor threshold: stalls at least this long are recorded.
    redis_stall_threshold_ms: u64,
    backends: Vec<BackendResult>,
    login_flood: Option<FloodResult>,
}

/// One backend's soak.
#[derive(Debug, Serialize)]
pub struct BackendResult {
    backend: SoakBackend,
    requests: u64,
    /// Requests by kind and status.
    statuses: BTreeMap<String, BTreeMap<u16, u64>>,
    /// Statuses other than the expected one, outside the outage (target 0).
    unexpected: u64,
    /// A sample of unexpected answers (kind, status, seconds into the run).
    unexpected_sample: Vec<String>,
    /// Transport errors (connection reset, timeout) outside the outage.
    io_errors: u64,
    /// 503 while Redis was down or within the recovery grace after it came back.
    unavailable_during_outage: u64,
    /// 503 `login_busy`: the login hashing pool shed the request (expected under overload).
    login_shed: u64,
    /// Probes of logged-out credentials that were accepted (must be 0).
    accepted_revoked: u64,
    /// Probes of forged credentials that were accepted (must be 0).
    accepted_forged: u64,
    /// Probes of logged-out credentials sent (401 expected).
    revoked_probes: u64,
    /// Probes of forged credentials sent (401 expected).
    forged_probes: u64,
    /// Redis killed at, and back at, seconds into the run.
    outage_from_s: f64,
    outage_until_s: f64,
    /// Redis back → first success of a request that needs Redis (None: nothing needed it).
    recovery_s: Option<f64>,
    /// Redis back → last 503 of the outage.
    last_503_after_restart_s: Option<f64>,
    /// The server's resident memory (KiB) and open file descriptors over time.
    samples: Vec<ProcSample>,
    rss_kib_after_warmup: u64,
    rss_kib_end: u64,
    rss_kib_max: u64,
    fds_min: u64,
    fds_max: u64,
    fds_end: u64,
    /// Requests per second over time: `[second, ok, expected-non-2xx, 503, unexpected]`.
    timeline: Vec<[u64; 5]>,
    /// What Redis's own latency monitor saw: every second in which an event (a command, an
    /// `fsync` of the append-only file, a fork) took at least the threshold.
    redis_stalls: Vec<RedisStall>,
    /// Unexpected answers within one second of a Redis stall's span (of `unexpected`).
    unexpected_near_stalls: u64,
}

/// One second in which Redis's latency monitor saw an event at least the threshold long.
#[derive(Debug, Clone, Serialize)]
pub struct RedisStall {
    /// Seconds into the run.
    at_s: u64,
    /// The latency monitor's event name (`command`, `aof-fsync-always`, `fork`, …).
    event: String,
    /// The longest such event in that second.
    ms: u64,
}

/// Redis's latency monitor threshold for the soak: stalls of 100 ms or more (a fifth of the
/// server's 500 ms response timeout, after which a request answers 503).
const STALL_THRESHOLD_MS: u64 = 100;

/// Redis's latency monitor (`LATENCY LATEST` / `LATENCY HISTORY`), read through compare's RESP
/// inspector: a connection of its own per call, since Redis is killed and restarted mid-run.
struct LatencyMonitor {
    addr: SocketAddr,
}

impl LatencyMonitor {
    fn command(&self, args: &[&str]) -> Result<Reply> {
        Inspector::connect(self.addr)?.command(args)
    }

    /// Turns the monitor on (a restarted Redis forgets it, so this runs after each start).
    fn enable(&self) -> Result<()> {
        let threshold = STALL_THRESHOLD_MS.to_string();
        self.command(&["CONFIG", "SET", "latency-monitor-threshold", &threshold])
            .map(drop)
    }

    /// Every recorded stall, in seconds since `t0_unix` (Redis keeps the last 160 seconds
    /// with a stall per event: far more than a soak has).
    fn stalls(&self, t0_unix: u64) -> Result<Vec<RedisStall>> {
        let int = |r: &Reply| match r {
            Reply::Int(n) => u64::try_from(*n).ok(),
            _ => None,
        };
        // `LATENCY LATEST`: one `[event, time, latest ms, max ms]` per event.
        let Reply::Array(latest) = self.command(&["LATENCY", "LATEST"])? else {
            bail!("LATENCY LATEST returned no array");
        };
        let mut out = Vec::new();
        for entry in latest {
            let Reply::Array(fields) = entry else {
                continue;
            };
            let Some(Reply::Text(event)) = fields.first() else {
                continue;
            };
            // `LATENCY HISTORY <event>`: `[time, ms]` pairs.
            let Reply::Array(history) = self.command(&["LATENCY", "HISTORY", event])? else {
                bail!("LATENCY HISTORY returned no array");
            };
            for pair in history {
                if let Reply::Array(pair) = pair
                    && let [at, ms] = pair.as_slice()
                    && let (Some(at), Some(ms)) = (int(at), int(ms))
                {
                    out.push(RedisStall {
                        at_s: at.saturating_sub(t0_unix),
                        event: event.clone(),
                        ms,
                    });
                }
            }
        }
        Ok(out)
    }
}

impl BackendResult {
    fn line(&self) -> String {
        format!(
            "  {}: {} requests, unexpected {} ({} near a Redis stall), io errors {}, 503 during outage {}, shed {}, \
             accepted revoked {}/{} forged {}/{}, recovery {}, RSS {}→{} KiB (max {}), fds {}–{}",
            self.backend.name(),
            self.requests,
            self.unexpected,
            self.unexpected_near_stalls,
            self.io_errors,
            self.unavailable_during_outage,
            self.login_shed,
            self.accepted_revoked,
            self.revoked_probes,
            self.accepted_forged,
            self.forged_probes,
            self.recovery_s
                .map_or("n/a".to_owned(), |s| format!("{s:.2} s")),
            self.rss_kib_after_warmup,
            self.rss_kib_end,
            self.rss_kib_max,
            self.fds_min,
            self.fds_max,
        )
    }
}

/// One `/proc` sample of the server.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ProcSample {
    t_s: f64,
    rss_kib: u64,
    fds: u64,
}

fn proc_sample(pid: u32, t0: Instant) -> Option<ProcSample> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let rss_kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count() as u64;
    Some(ProcSample {
        t_s: t0.elapsed().as_secs_f64(),
        rss_kib,
        fds,
    })
}

/// What a request was for, and so what it must get.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Login,
    Me,
    Refresh,
    Logout,
    ProbeRevoked,
    ProbeForged,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Login => "login",
            Kind::Me => "me",
            Kind::Refresh => "refresh",
            Kind::Logout => "logout",
            Kind::ProbeRevoked => "probe_revoked",
            Kind::ProbeForged => "probe_forged",
        }
    }

    fn expected(self) -> u16 {
        match self {
            Kind::Login | Kind::Me | Kind::Refresh => 200,
            Kind::Logout => 204,
            Kind::ProbeRevoked | Kind::ProbeForged => 401,
        }
    }
}

/// What every virtual user shares.
struct Shared {
    backend: SoakBackend,
    addr: SocketAddr,
    users: usize,
    connections: usize,
    t0: Instant,
    end: Instant,
    /// Seconds (since t0, in ms) when Redis went down and came back (0 = not yet).
    outage_from_ms: AtomicU64,
    outage_until_ms: AtomicU64,
    first_success_after_ms: AtomicU64,
    last_503_after_ms: AtomicU64,
    /// Logged-out credentials: `(token, is_refresh_token)`.
    dead: Mutex<VecDeque<(String, bool)>>,
    timeline: Vec<[AtomicU64; 5]>,
    stop: AtomicBool,
}

impl Shared {
    fn ms(&self) -> u64 {
        self.t0.elapsed().as_millis() as u64
    }

    /// Whether `at_ms` falls in the outage (Redis down, or back less than the grace ago).
    fn in_outage(&self, at_ms: u64) -> bool {
        let from = self.outage_from_ms.load(Ordering::Acquire);
        if from == 0 || at_ms < from {
            return false;
        }
        let until = self.outage_until_ms.load(Ordering::Acquire);
        until == 0 || at_ms <= until + RECOVERY_GRACE.as_millis() as u64
    }

    fn tick(&self, slot: usize) {
        let second = (self.t0.elapsed().as_secs() as usize).min(self.timeline.len() - 1);
        self.timeline[second][slot].fetch_add(1, Ordering::Relaxed);
    }
}

/// One virtual user's counts, merged at the end.
#[derive(Default)]
struct Tally {
    statuses: BTreeMap<(Kind, u16), u64>,
    unexpected: u64,
    unexpected_sample: Vec<String>,
    io_errors: u64,
    during_outage: u64,
    shed: u64,
    accepted_revoked: u64,
    accepted_forged: u64,
}

impl Tally {
    fn merge(&mut self, other: Tally) {
        for (k, v) in other.statuses {
            *self.statuses.entry(k).or_default() += v;
        }
        self.unexpected += other.unexpected;
        if self.unexpected_sample.len() < 20 {
            self.unexpected_sample.extend(other.unexpected_sample);
            self.unexpected_sample.truncate(20);
        }
        self.io_errors += other.io_errors;
        self.during_outage += other.during_outage;
        self.shed += other.shed;
        self.accepted_revoked += other.accepted_revoked;
        self.accepted_forged += other.accepted_forged;
    }
}

fn soak_one(binary: &Path, backend: SoakBackend, args: &SoakOptions) -> Result<BackendResult> {
    let mut options = RedisServerOptions::default();
    if args.redis_persistence == Persistence::Aof {
        options.extra_args = ["--appendonly", "yes", "--appendfsync", "always"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
    }
    let mut redis = RedisServer::start_with(options).context("starting redis-server")?;
    let monitor = LatencyMonitor {
        addr: SocketAddr::from(([127, 0, 0, 1], redis.port())),
    };
    monitor.enable()?;
    let mut config = Configuration::load_test(backend.backend(), args.users)
        .with_redis(RedisAt::Url(redis.url()));
    // Every simulated client, forgers included, shares one loopback address.
    config.no_failure_limit = true;
    let serve = config.serve_args();
    let env: Vec<(String, String)> = args
        .malloc_arena_max
        .map(|n| ("MALLOC_ARENA_MAX".to_owned(), n.to_string()))
        .into_iter()
        .collect();
    let server = ServerProcess::start_with_env(binary, backend.name(), &serve, &env)?;
    let pid = server.pid();

    let t0 = Instant::now();
    let t0_unix = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let shared = Arc::new(Shared {
        backend,
        addr: server.addr(),
        users: args.users.max(1),
        connections: args.connections,
        t0,
        end: t0 + args.duration,
        outage_from_ms: AtomicU64::new(0),
        outage_until_ms: AtomicU64::new(0),
        first_success_after_ms: AtomicU64::new(0),
        last_503_after_ms: AtomicU64::new(0),
        dead: Mutex::new(VecDeque::with_capacity(DEAD_POOL)),
        timeline: (0..args.duration.as_secs() as usize + 60)
            .map(|_| Default::default())
            .collect(),
        stop: AtomicBool::new(false),
    });

    // The sampler: /proc every `sample_every`.
    let sampler = {
        let shared = Arc::clone(&shared);
        let every = args.sample_every;
        std::thread::spawn(move || {
            // Only while the load runs: the end of the run (hundreds of connections closing at
            // once) is not the steady state we want to judge.
            let mut samples = Vec::new();
            while !shared.stop.load(Ordering::Acquire) && Instant::now() < shared.end {
                if let Some(s) = proc_sample(pid, shared.t0) {
                    samples.push(s);
                }
                std::thread::sleep(every);
            }
            samples
        })
    };

    // The load, on its own runtime.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("building the soak runtime")?;
    let load = {
        let shared = Arc::clone(&shared);
        std::thread::spawn(move || {
            runtime.block_on(async move {
                let mut tasks = tokio::task::JoinSet::new();
                for vu in 0..shared.connections {
                    tasks.spawn(virtual_user(Arc::clone(&shared), vu));
                }
                let mut tally = Tally::default();
                while let Some(t) = tasks.join_next().await {
                    if let Ok(t) = t {
                        tally.merge(t);
                    }
                }
                tally
            })
        })
    };

    // The fault: kill Redis at half-time, bring it back after the outage.
    let half = args.duration / 2;
    std::thread::sleep(half.saturating_sub(t0.elapsed()));
    shared
        .outage_from_ms
        .store(shared.ms().max(1), Ordering::Release);
    // What the monitor saw in the first half: the kill wipes it.
    let mut redis_stalls = monitor.stalls(t0_unix)?;
    redis.stop();
    std::thread::sleep(args.outage);
    redis.restart().context("restarting redis-server")?;
    monitor.enable()?;
    shared
        .outage_until_ms
        .store(shared.ms().max(1), Ordering::Release);

    let tally = load
        .join()
        .map_err(|_| anyhow::anyhow!("the load thread panicked"))?;
    shared.stop.store(true, Ordering::Release);
    let samples = sampler
        .join()
        .map_err(|_| anyhow::anyhow!("the sampler panicked"))?;
    redis_stalls.extend(monitor.stalls(t0_unix)?);
    redis_stalls.sort_by_key(|s| s.at_s);
    drop(server);
    drop(redis);

    let from = shared.outage_from_ms.load(Ordering::Acquire);
    let until = shared.outage_until_ms.load(Ordering::Acquire);
    let ms_after = |v: u64| (v >= until && v > 0).then(|| (v - until) as f64 / 1000.0);
    let warm = samples
        .iter()
        .find(|s| s.t_s >= args.duration.as_secs_f64() * 0.1)
        .or(samples.first());
    let mut statuses: BTreeMap<String, BTreeMap<u16, u64>> = BTreeMap::new();
    let mut revoked_probes = 0;
    let mut forged_probes = 0;
    for ((kind, status), n) in &tally.statuses {
        *statuses
            .entry(kind.name().to_owned())
            .or_default()
            .entry(*status)
            .or_default() += n;
        match kind {
            Kind::ProbeRevoked => revoked_probes += n,
            Kind::ProbeForged => forged_probes += n,
            _ => {}
        }
    }
    let secs = (args.duration.as_secs() as usize + 1).min(shared.timeline.len());
    let timeline: Vec<[u64; 5]> = shared.timeline[..secs]
        .iter()
        .map(|row| std::array::from_fn(|i| row[i].load(Ordering::Relaxed)))
        .collect();
    let unexpected_near_stalls = near_stalls(&timeline, &redis_stalls);
    Ok(BackendResult {
        backend,
        requests: tally.statuses.values().sum(),
        statuses,
        unexpected: tally.unexpected,
        unexpected_sample: tally.unexpected_sample,
        io_errors: tally.io_errors,
        unavailable_during_outage: tally.during_outage,
        login_shed: tally.shed,
        accepted_revoked: tally.accepted_revoked,
        accepted_forged: tally.accepted_forged,
        revoked_probes,
        forged_probes,
        outage_from_s: from as f64 / 1000.0,
        outage_until_s: until as f64 / 1000.0,
        recovery_s: ms_after(shared.first_success_after_ms.load(Ordering::Acquire)),
        last_503_after_restart_s: ms_after(shared.last_503_after_ms.load(Ordering::Acquire)),
        rss_kib_after_warmup: warm.map_or(0, |s| s.rss_kib),
        rss_kib_end: samples.last().map_or(0, |s| s.rss_kib),
        rss_kib_max: samples.iter().map(|s| s.rss_kib).max().unwrap_or(0),
        fds_min: samples.iter().map(|s| s.fds).min().unwrap_or(0),
        fds_max: samples.iter().map(|s| s.fds).max().unwrap_or(0),
        fds_end: samples.last().map_or(0, |s| s.fds),
        samples,
        timeline,
        redis_stalls,
        unexpected_near_stalls,
    })
}

/// Unexpected answers (`timeline` slot 4) in the seconds within one second of a stall. The
/// latency monitor stamps an event with the second it *ended*, so a stall of `ms` spans the
/// seconds from `at_s - ceil(ms / 1000)` to `at_s`; a request waits up to the 500 ms response
/// timeout, so one sent in the second before that span, or answered in the second after, can
/// be its victim too.
fn near_stalls(timeline: &[[u64; 5]], stalls: &[RedisStall]) -> u64 {
    timeline
        .iter()
        .enumerate()
        .filter(|(second, _)| {
            let second = *second as u64;
            stalls.iter().any(|s| {
                let from = s.at_s.saturating_sub(s.ms.div_ceil(1000) + 1);
                (from..=s.at_s + 1).contains(&second)
            })
        })
        .map(|(_, row)| row[4])
        .sum()
}

/// A cheap per-user pseudo-random sequence (xorshift64*), for picking probes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

/// One virtual user's connection, counts and random sequence.
struct Vu {
    conn: AsyncClient,
    tally: Tally,
    rng: Rng,
}

/// A user's life, over and over until the end of the run.
async fn virtual_user(shared: Arc<Shared>, vu: usize) -> Tally {
    let mut me = Vu {
        conn: AsyncClient::new(shared.addr, REQUEST_TIMEOUT),
        tally: Tally::default(),
        rng: Rng(0x9E37_79B9_7F4A_7C15 ^ (vu as u64 + 1).wrapping_mul(0xD1B5_4A32_D192_ED03)),
    };
    let mut cycle = 0usize;
    while Instant::now() < shared.end {
        let user = format!("user{}", (vu + cycle * shared.connections) % shared.users);
        cycle += 1;
        if one_cycle(&shared, &mut me, &user).await.is_none() {
            // The cycle stopped on an error or a 503: a short pause, then a fresh login.
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    me.tally
}

/// Sends one request and judges its answer. `None` when the cycle cannot go on.
async fn step(
    shared: &Shared,
    vu: &mut Vu,
    kind: Kind,
    method: &str,
    path: &str,
    bearer: Option<&str>,
    body: Option<&str>,
) -> Option<Response> {
    let tally = &mut vu.tally;
    let authorization = bearer.map(|token| format!("Bearer {token}"));
    let mut headers = Vec::with_capacity(2);
    if let Some(value) = &authorization {
        headers.push(("authorization", value.as_str()));
    }
    let body = body.unwrap_or("");
    if !body.is_empty() {
        headers.push(("content-type", "application/json"));
    }
    let sent_ms = shared.ms();
    let answer = vu.conn.request(method, path, &headers, body).await;
    let at_ms = shared.ms();
    let outage = shared.in_outage(sent_ms) || shared.in_outage(at_ms);
    let answer = match answer {
        Ok(a) => a,
        Err(e) => {
            if outage {
                tally.during_outage += 1;
            } else if Instant::now() < shared.end {
                tally.io_errors += 1;
                if tally.unexpected_sample.len() < 5 {
                    tally.unexpected_sample.push(format!(
                        "{} io error at {:.1} s: {e}",
                        kind.name(),
                        at_ms as f64 / 1e3
                    ));
                }
            }
            shared.tick(4);
            return None;
        }
    };
    *tally.statuses.entry((kind, answer.status)).or_default() += 1;
    let until = shared.outage_until_ms.load(Ordering::Acquire);
    let after_restart = until > 0 && sent_ms >= until;
    let needs_redis = match kind {
        Kind::Me | Kind::ProbeRevoked => shared.backend.me_needs_redis(),
        Kind::Login | Kind::Logout | Kind::Refresh => shared.backend != SoakBackend::JwtNone,
        Kind::ProbeForged => false,
    };
    if answer.status == kind.expected() {
        shared.tick(if answer.status < 300 { 1 } else { 2 });
        if after_restart && needs_redis && answer.status < 300 {
            let _ = shared.first_success_after_ms.compare_exchange(
                0,
                at_ms.max(1),
                Ordering::AcqRel,
                Ordering::Acquire,
            );
        }
        return Some(answer);
    }
    match (kind, answer.status) {
        (Kind::ProbeRevoked, 200) => tally.accepted_revoked += 1,
        (Kind::ProbeForged, 200) => tally.accepted_forged += 1,
        (_, 503) if answer.body.windows(10).any(|w| w == b"login_busy") => {
            tally.shed += 1;
            shared.tick(3);
            return None;
        }
        (_, 503) if outage => {
            tally.during_outage += 1;
            if after_restart {
                shared.last_503_after_ms.fetch_max(at_ms, Ordering::AcqRel);
            }
            shared.tick(3);
            return None;
        }
        _ => {}
    }
    tally.unexpected += 1;
    shared.tick(4);
    if tally.unexpected_sample.len() < 5 {
        tally.unexpected_sample.push(format!(
            "{} → {} at {:.1} s: {}",
            kind.name(),
            answer.status,
            at_ms as f64 / 1e3,
            String::from_utf8_lossy(&answer.body[..answer.body.len().min(80)])
        ));
    }
    None
}

fn field(body: &[u8], name: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    v[name].as_str().map(str::to_owned)
}

/// Log in, use, refresh, log out, probe. `None` when it stopped early.
async fn one_cycle(shared: &Shared, vu: &mut Vu, user: &str) -> Option<()> {
    let login = serde_json::json!({"username": user, "password": PASSWORD}).to_string();
    let a = step(
        shared,
        vu,
        Kind::Login,
        "POST",
        "/login",
        None,
        Some(&login),
    )
    .await?;
    let mut token = field(&a.body, "token")?;
    let mut refresh = field(&a.body, "refresh_token");
    let mut spent_refresh = Vec::new();
    for i in 0..ME_PER_CYCLE {
        step(shared, vu, Kind::Me, "GET", "/me", Some(&token), None).await?;
        if i == ME_PER_CYCLE / 2
            && let Some(r) = refresh.take()
        {
            let body = serde_json::json!({ "refresh_token": r }).to_string();
            let a = step(
                shared,
                vu,
                Kind::Refresh,
                "POST",
                "/refresh",
                None,
                Some(&body),
            )
            .await?;
            token = field(&a.body, "token")?;
            refresh = field(&a.body, "refresh_token");
            spent_refresh.push(r);
        }
    }
    // A forged credential: the genuine token with one character changed in the middle.
    let mut forged = token.clone().into_bytes();
    let mid = forged.len() / 2;
    forged[mid] = if forged[mid] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).ok()?;
    step(
        shared,
        vu,
        Kind::ProbeForged,
        "GET",
        "/me",
        Some(&forged),
        None,
    )
    .await?;

    step(
        shared,
        vu,
        Kind::Logout,
        "POST",
        "/logout",
        Some(&token),
        None,
    )
    .await?;
    // What the logout ended, by design of each backend: the session or the deny-listed token
    // on /me; for refresh, the family (its refresh tokens on /refresh; the access token lives
    // out its short exp); for a plain JWT, nothing.
    {
        let mut dead = shared.dead.lock().unwrap_or_else(|e| e.into_inner());
        let mut push = |cred: String, is_refresh: bool| {
            if dead.len() >= DEAD_POOL {
                dead.pop_front();
            }
            dead.push_back((cred, is_refresh));
        };
        match shared.backend {
            SoakBackend::Session | SoakBackend::JwtDenylist => push(token, false),
            SoakBackend::JwtRefresh => {
                for r in spent_refresh.into_iter().chain(refresh) {
                    push(r, true);
                }
            }
            SoakBackend::JwtNone => {}
        }
    }
    for _ in 0..2 {
        let probe = {
            let dead = shared.dead.lock().unwrap_or_else(|e| e.into_inner());
            if dead.is_empty() {
                None
            } else {
                dead.get((vu.rng.next() % dead.len() as u64) as usize)
                    .cloned()
            }
        };
        let Some((cred, is_refresh)) = probe else {
            break;
        };
        if is_refresh {
            let body = serde_json::json!({ "refresh_token": cred }).to_string();
            step(
                shared,
                vu,
                Kind::ProbeRevoked,
                "POST",
                "/refresh",
                None,
                Some(&body),
            )
            .await?;
        } else {
            step(
                shared,
                vu,
                Kind::ProbeRevoked,
                "GET",
                "/me",
                Some(&cred),
                None,
            )
            .await?;
        }
    }
    Some(())
}

/// The login-flood experiment: `/me` latency alone and under two floods.
#[derive(Debug, Serialize)]
pub struct FloodResult {
    /// The server configuration.
    server: String,
    /// `/me` rate (open loop) and connections.
    me_rate_rps: f64,
    me_connections: usize,
    flood_connections: usize,
    phase_s: f64,
    phases: Vec<FloodPhase>,
}

/// One phase of the login-flood experiment.
#[derive(Debug, Serialize)]
pub struct FloodPhase {
    /// `me alone`, `healthz flood (baseline)`, `wrong-password flood`, `valid-password flood`.
    name: String,
    me_p50_us: u64,
    me_p99_us: u64,
    me_max_us: u64,
    me_requests: u64,
    me_errors: u64,
    /// The flood's answers by status (none for the first phase).
    flood_statuses: BTreeMap<u16, u64>,
    flood_requests: u64,
}

impl FloodResult {
    fn lines(&self) -> String {
        self.phases
            .iter()
            .map(|p| {
                format!(
                    "  {}: /me p50 {} µs, p99 {} µs, max {} µs ({} requests, {} errors); flood {} requests {:?}",
                    p.name, p.me_p50_us, p.me_p99_us, p.me_max_us, p.me_requests, p.me_errors,
                    p.flood_requests, p.flood_statuses
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// `/me` open-loop rate during the flood experiment: well under what the server can do, so
/// any queueing the flood causes shows in the percentiles.
const FLOOD_ME_RATE: f64 = 1000.0;

/// Runs the login-flood experiment against a fresh `authbench serve` (session backend on a
/// private Redis, **OWASP** password hashing, default login limits; a fresh one per phase)
/// and returns `/me` p50/p99 alone, under a `/healthz` flood (the cost of any flood), under a
/// wrong-password flood and under a valid-password flood of `/login` (64 connections, closed
/// loop). Each phase lasts `phase`. For `compare` or `authbench soak
/// --flood-only`.
pub fn login_flood(binary: &Path, phase: Duration) -> Result<FloodResult> {
    let me_connections = 16;
    let flood_connections = 64;
    let mut phases = Vec::new();
    // Each phase on a fresh server, so one phase's spent failure budgets do not leak into the
    // next. The `/healthz` flood is the baseline: what any flood of cheap requests costs.
    for (name, flood) in [
        ("me alone", None),
        ("healthz flood (baseline)", Some(("GET", "/healthz", None))),
        (
            "wrong-password flood",
            Some(("POST", "/login", Some("not the password"))),
        ),
        (
            "valid-password flood",
            Some(("POST", "/login", Some(PASSWORD))),
        ),
    ] {
        let server = ServerProcess::start(
            binary,
            "flood-session",
            &Configuration::new(Backend::Session).serve_args(),
        )?;
        let mut me = Options::new(server.url("/me"));
        me.credentials = login_demo_users(&server)?;
        me.connections = me_connections;
        me.duration = phase;
        me.rate = Some(FLOOD_ME_RATE);
        me.threads = Some(1);
        let Some((method, path, password)) = flood else {
            phases.push(flood_phase(
                name,
                &authbench_loadgen::run_blocking(&me)?,
                None,
            ));
            continue;
        };
        let mut o = Options::new(server.url(path));
        o.method = method.to_owned();
        if let Some(password) = password {
            o.headers = vec![("content-type".to_owned(), "application/json".to_owned())];
            o.body =
                Some(serde_json::json!({"username": "alice", "password": password}).to_string());
        }
        o.connections = flood_connections;
        o.duration = phase;
        o.timeout = Duration::from_secs(30);
        o.threads = Some(1);
        let (me_report, flood_report) = std::thread::scope(|s| {
            let f = s.spawn(|| authbench_loadgen::run_blocking(&o));
            let m = authbench_loadgen::run_blocking(&me);
            (m, f.join())
        });
        let flood_report = flood_report.map_err(|_| anyhow::anyhow!("flood thread panicked"))??;
        phases.push(flood_phase(name, &me_report?, Some(&flood_report)));
    }
    Ok(FloodResult {
        server:
            "authbench serve --backend session (argon2id at OWASP cost, default login limits), \
                 a fresh server per phase"
                .to_owned(),
        me_rate_rps: FLOOD_ME_RATE,
        me_connections,
        flood_connections,
        phase_s: phase.as_secs_f64(),
        phases,
    })
}

/// Logs the three demo users in; returns their tokens.
fn login_demo_users(server: &ServerProcess) -> Result<Vec<String>> {
    let users = ["alice", "bob", "admin"].map(str::to_owned);
    Ok(login_all(server, &users, PASSWORD, 1, &|_| {})?.0)
}

fn flood_phase(name: &str, me: &Report, flood: Option<&Report>) -> FloodPhase {
    let mut flood_statuses = BTreeMap::new();
    if let Some(f) = flood {
        if f.responses_2xx > 0 {
            flood_statuses.insert(200, f.responses_2xx);
        }
        for (status, n) in &f.errors.status {
            flood_statuses.insert(*status, *n);
        }
    }
    FloodPhase {
        name: name.to_owned(),
        me_p50_us: me.latency_us.p50,
        me_p99_us: me.latency_us.p99,
        me_max_us: me.latency_us.max,
        me_requests: me.requests,
        me_errors: me.errors.total,
        flood_requests: flood.map_or(0, |f| f.requests),
        flood_statuses,
    }
}

fn write(out: &Path, record: &SoakRecord) -> Result<()> {
    let json = serde_json::to_string_pretty(record)?;
    std::fs::write(out.join("soak.json"), json + "\n")?;
    std::fs::write(out.join("summary.md"), summary(record))?;
    Ok(())
}

/// The markdown summary (also printed).
fn summary(record: &SoakRecord) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# Soak under faults\n");
    let _ = writeln!(s, "Command: `{}`  ", record.command);
    let _ = writeln!(
        s,
        "Started {}; {} s per backend at {} connections; Redis killed at half-time for {} s \
         (persistence: {:?}); servers' MALLOC_ARENA_MAX: {}.\n",
        record.started,
        record.duration_s,
        record.connections,
        record.outage_s,
        record.redis_persistence,
        record
            .malloc_arena_max
            .map_or("glibc's default".to_owned(), |n| n.to_string())
    );
    if !record.backends.is_empty() {
        let _ = writeln!(
            s,
            "| backend | requests | unexpected (near a Redis stall) | io errors | 503 in outage | login shed | accepted revoked (probes) | accepted forged (probes) | recovery | RSS KiB warm → end (max) | fds min–max |"
        );
        let _ = writeln!(s, "|---|---|---|---|---|---|---|---|---|---|---|");
        for b in &record.backends {
            let _ = writeln!(
                s,
                "| {} | {} | {} ({}) | {} | {} | {} | {} ({}) | {} ({}) | {} | {} → {} ({}) | {}–{} |",
                b.backend.name(),
                b.requests,
                b.unexpected,
                b.unexpected_near_stalls,
                b.io_errors,
                b.unavailable_during_outage,
                b.login_shed,
                b.accepted_revoked,
                b.revoked_probes,
                b.accepted_forged,
                b.forged_probes,
                b.recovery_s
                    .map_or("n/a".to_owned(), |r| format!("{r:.2} s")),
                b.rss_kib_after_warmup,
                b.rss_kib_end,
                b.rss_kib_max,
                b.fds_min,
                b.fds_max
            );
        }
        let _ = writeln!(
            s,
            "\n**Redis stalls** (its latency monitor, events of at least {} ms; an event is \
             counted once per second it occurred in):\n\n| backend | seconds with a stall | \
             longest ms | events |\n|---|---|---|---|",
            record.redis_stall_threshold_ms
        );
        for b in &record.backends {
            let mut events: BTreeMap<&str, u64> = BTreeMap::new();
            for stall in &b.redis_stalls {
                *events.entry(stall.event.as_str()).or_default() += 1;
            }
            let seconds: std::collections::BTreeSet<u64> =
                b.redis_stalls.iter().map(|s| s.at_s).collect();
            let events: Vec<String> = events.iter().map(|(e, n)| format!("{e} ×{n}")).collect();
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} |",
                b.backend.name(),
                seconds.len(),
                b.redis_stalls.iter().map(|s| s.ms).max().unwrap_or(0),
                if events.is_empty() {
                    "none".to_owned()
                } else {
                    events.join(", ")
                }
            );
        }
        let _ = writeln!(
            s,
            "\n**Server memory over time** (RSS KiB at that share of the run; Redis is killed at \
             50 %):\n\n| backend | 10 % | 25 % | 45 % | 60 % | 75 % | end |\n|---|---|---|---|---|---|---|"
        );
        for b in &record.backends {
            let at = |share: f64| {
                b.samples
                    .iter()
                    .find(|p| p.t_s >= record.duration_s * share)
                    .or(b.samples.last())
                    .map_or(0, |p| p.rss_kib)
            };
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} | {} |",
                b.backend.name(),
                at(0.10),
                at(0.25),
                at(0.45),
                at(0.60),
                at(0.75),
                b.rss_kib_end
            );
        }
        for b in &record.backends {
            if !b.unexpected_sample.is_empty() {
                let _ = writeln!(s, "\n{} unexpected (sample):", b.backend.name());
                for line in &b.unexpected_sample {
                    let _ = writeln!(s, "- `{line}`");
                }
            }
        }
    }
    if let Some(f) = &record.login_flood {
        let _ = writeln!(
            s,
            "\n## Login flood\n\n{}; `/me` open loop at {} req/s on {} connections; `/login` \
             flooded closed loop on {} connections; {} s per phase.\n",
            f.server, f.me_rate_rps, f.me_connections, f.flood_connections, f.phase_s
        );
        let _ = writeln!(
            s,
            "| phase | /me p50 µs | /me p99 µs | /me max µs | /me errors | flood answers |"
        );
        let _ = writeln!(s, "|---|---|---|---|---|---|");
        for p in &f.phases {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {:?} |",
                p.name, p.me_p50_us, p.me_p99_us, p.me_max_us, p.me_errors, p.flood_statuses
            );
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stall(at_s: u64, ms: u64) -> RedisStall {
        RedisStall {
            at_s,
            event: "aof-fsync-always".into(),
            ms,
        }
    }

    #[test]
    fn a_stall_covers_the_seconds_it_spanned_and_one_either_side() {
        // Unexpected answers, one per second, over ten seconds.
        let timeline: Vec<[u64; 5]> = (0..10).map(|_| [0, 0, 0, 0, 1]).collect();
        // 2.8 s ending in second 6 began in second 3: seconds 2 ..= 7 count.
        assert_eq!(near_stalls(&timeline, &[stall(6, 2800)]), 6);
        // A short one ending in second 1: seconds 0 ..= 2 (none before 0).
        assert_eq!(near_stalls(&timeline, &[stall(1, 150)]), 3);
        // Overlapping stalls count each second once.
        assert_eq!(near_stalls(&timeline, &[stall(6, 2800), stall(7, 100)]), 7);
        assert_eq!(near_stalls(&timeline, &[]), 0);
    }
}
