//! The revocation experiment: how long a logout, a logout-everywhere and a role change take to
//! bite under load, what they cost in Redis, and what happens when Redis stops answering.
//!
//! For every strategy (session; JWT with `none`, `denylist`, `epoch`, `refresh`) on its own
//! private Redis:
//!
//! 1. every user logs in; Redis's bytes per user are read with `MEMORY USAGE`;
//! 2. under steady open-loop load on the other users' credentials, a probe keeps presenting
//!    the credentials of a random 1 % of users while a revoker, at a known instant, logs them
//!    out (phase `logout`), logs them out everywhere (`logout-all`) or changes their roles
//!    (`role-change`, through the admin route). Per revoked credential: the time from the
//!    revoking call's return to the first answer that reflects it (401, or the new roles),
//!    and the number of requests still accepted as before in between: the *window*;
//! 3. Redis round trips per verified request, from `INFO stats`;
//! 4. the next login: a user logs out everywhere and at once logs in again, repeatedly; the
//!    fresh credential must be accepted by its first `/me` (a failure count that must be 0:
//!    a "log out everywhere" must never break the login after it), and the time from the
//!    logout-all's return to that acceptance is recorded;
//! 5. an outage: Redis is frozen (SIGSTOP) for a few seconds under load, with the revoked
//!    credentials still being presented; every answer is counted by status, any 2xx for a
//!    revoked credential is a failure of the fail-closed rule, and the time to the first 2xx
//!    after Redis returns is the recovery time.

use crate::client::HttpClient;
use crate::resp::Inspector;
use crate::services::{ServerProcess, login_all};
use crate::stats::quantile;
use anyhow::{Context, Result};
use authbench_loadgen::Options;
use authbench_services::RedisServer;
use authbench_spec::DEMO_PASSWORD as PASSWORD;
use authbench_spec::{Alg, Backend, Configuration, RedisAt, Revocation};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

pub use authbench_spec::record::revocation::{
    IMMEDIATE_ATTEMPTS, ImmediateResult, OutageResult, PhaseResult, RevocationPlan,
    RevocationResult, StrategyResult,
};

/// The role the `role-change` phase grants; `/me` showing it is the change biting.
const NEW_ROLE: &str = "auditor";

/// How long a fresh login refused on its first `/me` is retried before it counts as never
/// usable within the measurement (the old whole-second rule refused it for its whole life).
const IMMEDIATE_GIVE_UP: Duration = Duration::from_secs(2);

/// Commands a server sends itself, each one a round trip (script bodies' commands excluded).
/// The session verify pipelines `EXPIRETIME` with its `GETEX` (one write, one answer), so only
/// the `GETEX` is counted: `expiretime` is deliberately not in this list.
const ROUND_TRIP_COMMANDS: &[&str] = &[
    "evalsha", "eval", "mget", "get", "getex", "exists", "set", "del", "zrange",
];

fn moving_parts(strategy: &str) -> &'static str {
    match strategy {
        "session" => "Redis holds every session; every request reads it (1 round trip)",
        s if s.ends_with("-none") => "a signing key; nothing else (no Redis at all)",
        s if s.ends_with("-denylist") => {
            "a key + Redis deny-list of jti and a per-user epoch (read into the token at login); every request reads both (1 round trip)"
        }
        s if s.ends_with("-epoch") => {
            "a key + a per-user epoch in Redis (read into the token at login) + a local cache kept fresh by Redis pub/sub (0 round trips while the cache is warm)"
        }
        s if s.ends_with("-refresh") => {
            "a key + short access tokens + rotating refresh-token families in Redis (0 round trips per request; Redis on refresh only)"
        }
        _ => "",
    }
}

/// A deterministic pick of `k` of `n` indices (the same users every run).
fn pick(n: usize, k: usize, salt: u64) -> Vec<usize> {
    let mut state = 0x9E37_79B9_7F4A_7C15u64 ^ salt;
    let mut chosen = Vec::with_capacity(k);
    while chosen.len() < k.min(n) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let i = (state % n as u64) as usize;
        if !chosen.contains(&i) {
            chosen.push(i);
        }
    }
    chosen
}

/// One answer seen by the probe.
struct Seen {
    target: usize,
    at: Instant,
    /// 200 with the old facts, 200 with the new roles, or another status.
    outcome: Outcome,
}

#[derive(Clone, Copy, PartialEq)]
enum Outcome {
    Old,
    Changed,
    Status(u16),
    Io,
}

/// Presents each target credential in turn until `stop`, recording every answer.
fn probe(server: &ServerProcess, tokens: &[String], stop: &AtomicBool) -> Vec<Seen> {
    if tokens.is_empty() {
        return Vec::new();
    }
    let mut client = HttpClient::new(server.addr());
    let mut seen = Vec::new();
    let mut i = 0;
    while !stop.load(Ordering::Relaxed) {
        let target = i % tokens.len();
        i += 1;
        let auth = format!("Bearer {}", tokens[target]);
        let at = Instant::now();
        let outcome = match client.request("GET", "/me", &[("authorization", &auth)], "") {
            Ok(r) if r.status == 200 => {
                if String::from_utf8_lossy(&r.body).contains(NEW_ROLE) {
                    Outcome::Changed
                } else {
                    Outcome::Old
                }
            }
            Ok(r) => Outcome::Status(r.status),
            Err(_) => Outcome::Io,
        };
        seen.push(Seen {
            target,
            at,
            outcome,
        });
    }
    seen
}

fn background(
    server: &ServerProcess,
    tokens: Vec<String>,
    rate: f64,
    duration: Duration,
) -> Result<authbench_loadgen::Report> {
    let mut opts = Options::new(server.url("/me"));
    opts.credentials = tokens;
    opts.connections = 8;
    opts.rate = Some(rate);
    opts.duration = duration;
    opts.warmup = Duration::ZERO;
    opts.threads = Some(1);
    opts.timeout = Duration::from_secs(5);
    Ok(authbench_loadgen::run_blocking(&opts)?)
}

/// Runs one revocation phase: background load, a probe on the targets, the revoker at a known
/// instant.
#[allow(clippy::too_many_arguments)]
fn phase(
    name: &str,
    server: &ServerProcess,
    all_tokens: &[String],
    users: &[String],
    targets: &[usize],
    admin_token: &str,
    plan: &RevocationPlan,
) -> Result<(PhaseResult, Vec<usize>)> {
    let target_tokens: Vec<String> = targets.iter().map(|&i| all_tokens[i].clone()).collect();
    let others: Vec<String> = all_tokens
        .iter()
        .enumerate()
        .filter(|(i, _)| !targets.contains(i))
        .map(|(_, t)| t.clone())
        .collect();
    let lead = Duration::from_millis(300);
    let stop = AtomicBool::new(false);
    let (seen, revoked_at, answers) = std::thread::scope(|s| -> Result<_> {
        let bg = s.spawn(|| {
            background(
                server,
                others,
                plan.background_rps,
                lead + plan.after + Duration::from_millis(200),
            )
        });
        let probe = s.spawn(|| probe(server, &target_tokens, &stop));
        std::thread::sleep(lead);
        // The revoker: one call per target, each one's return instant recorded.
        let mut client = HttpClient::new(server.addr());
        let mut revoked_at = Vec::with_capacity(targets.len());
        let mut answers: Vec<String> = Vec::new();
        for (k, &i) in targets.iter().enumerate() {
            let response = match name {
                "logout" | "logout-all" => {
                    let path = if name == "logout" {
                        "/logout"
                    } else {
                        "/logout-all"
                    };
                    let auth = format!("Bearer {}", target_tokens[k]);
                    client.request("POST", path, &[("authorization", &auth)], "")
                }
                _ => {
                    let auth = format!("Bearer {admin_token}");
                    let body = serde_json::json!({"roles": ["user", NEW_ROLE]}).to_string();
                    client.request(
                        "PUT",
                        &format!("/admin/users/{}/roles", users[i]),
                        &[
                            ("authorization", &auth),
                            ("content-type", "application/json"),
                        ],
                        &body,
                    )
                }
            };
            revoked_at.push(Instant::now());
            answers.push(match response {
                Ok(r) if (200..300).contains(&r.status) => {
                    // The admin routes say what happened to existing credentials in the body;
                    // the logout routes in the `authbench-revoked` header.
                    let body: serde_json::Value =
                        serde_json::from_slice(&r.body).unwrap_or_default();
                    match (
                        body["existing_credentials"].as_str(),
                        r.header("authbench-revoked"),
                    ) {
                        (Some(what), _) => what.replace('_', "-"),
                        (None, Some("false")) => "not-revoked".into(),
                        (None, _) => "revoked".into(),
                    }
                }
                Ok(r) if r.status == 501 => "unsupported".into(),
                Ok(r) => format!("error-{}", r.status),
                Err(_) => "error-io".into(),
            });
        }
        std::thread::sleep(plan.after);
        stop.store(true, Ordering::Relaxed);
        let seen = probe.join().unwrap_or_default();
        let _ = bg.join();
        Ok((seen, revoked_at, answers))
    })?;

    let mut windows = Vec::new();
    let mut accepted_after = 0u64;
    let mut not_reflected = 0;
    let mut reflected = Vec::new();
    for (k, at) in revoked_at.iter().enumerate() {
        let mine: Vec<&Seen> = seen
            .iter()
            .filter(|s| s.target == k && s.at >= *at)
            .collect();
        accepted_after += mine.iter().filter(|s| s.outcome == Outcome::Old).count() as u64;
        match mine
            .iter()
            .find(|s| s.outcome != Outcome::Old && s.outcome != Outcome::Io)
        {
            Some(first) => {
                windows.push(first.at.duration_since(*at).as_secs_f64() * 1e3);
                reflected.push(targets[k]);
            }
            None => not_reflected += 1,
        }
    }
    windows.sort_by(f64::total_cmp);
    let probe_period_ms = if seen.len() > 1 {
        let span = seen
            .last()
            .map(|s| s.at)
            .unwrap_or_else(Instant::now)
            .duration_since(seen[0].at);
        span.as_secs_f64() * 1e3 / (seen.len() as f64 / target_tokens.len().max(1) as f64)
    } else {
        0.0
    };
    let mut kinds: Vec<String> = answers.clone();
    kinds.sort();
    kinds.dedup();
    let opt = |q: f64| (!windows.is_empty()).then(|| quantile(&windows, q));
    let result = PhaseResult {
        phase: name.to_owned(),
        targets: targets.len(),
        server_answer: kinds.join("+"),
        window_ms_p50: opt(0.5),
        window_ms_p99: opt(0.99),
        window_ms_max: windows.last().copied(),
        not_reflected,
        accepted_after,
        probe_period_ms,
    };
    Ok((result, reflected))
}

/// Logs `user` in; the credential, or `None` when the login was not a 200.
fn login_one(client: &mut HttpClient, user: &str) -> Result<Option<String>> {
    Ok(crate::services::login(client, user, PASSWORD)?.ok())
}

/// The next-login measurement (see [`ImmediateResult`]): rounds spread over `users` in turn,
/// each user starting from a credential of its own.
fn immediately_usable(server: &ServerProcess, users: &[String]) -> Result<ImmediateResult> {
    let mut client = HttpClient::new(server.addr());
    let mut live: Vec<Option<String>> = Vec::with_capacity(users.len());
    for user in users {
        live.push(login_one(&mut client, user)?);
    }
    let (mut failures, mut never_usable) = (0, 0);
    let mut usable = Vec::with_capacity(IMMEDIATE_ATTEMPTS);
    for round in 0..IMMEDIATE_ATTEMPTS {
        let k = round % users.len().max(1);
        let held = match live[k].take() {
            Some(token) => token,
            None => match login_one(&mut client, &users[k])? {
                Some(token) => token,
                None => anyhow::bail!("{}: {} cannot log in", server.name, users[k]),
            },
        };
        let auth = format!("Bearer {held}");
        let revoked = client.request("POST", "/logout-all", &[("authorization", &auth)], "");
        let returned = Instant::now();
        if !matches!(revoked, Ok(r) if (200..300).contains(&r.status)) {
            failures += 1;
            continue;
        }
        let Some(fresh) = login_one(&mut client, &users[k])? else {
            failures += 1;
            continue;
        };
        let mut accepted_after = (client.me_status(&fresh) == 200).then(|| returned.elapsed());
        if accepted_after.is_none() {
            failures += 1;
            // How long the credential stays refused, up to the give-up.
            while accepted_after.is_none() && returned.elapsed() < IMMEDIATE_GIVE_UP {
                std::thread::sleep(Duration::from_millis(10));
                accepted_after = (client.me_status(&fresh) == 200).then(|| returned.elapsed());
            }
        }
        match accepted_after {
            Some(after) => usable.push(after.as_secs_f64() * 1e3),
            None => never_usable += 1,
        }
        live[k] = Some(fresh);
    }
    usable.sort_by(f64::total_cmp);
    let opt = |q: f64| (!usable.is_empty()).then(|| quantile(&usable, q));
    Ok(ImmediateResult {
        attempts: IMMEDIATE_ATTEMPTS,
        failures,
        never_usable,
        usable_ms_p50: opt(0.5),
        usable_ms_p99: opt(0.99),
        usable_ms_max: usable.last().copied(),
    })
}

fn status_key(o: Outcome) -> String {
    match o {
        Outcome::Old | Outcome::Changed => "200".into(),
        Outcome::Status(s) => s.to_string(),
        Outcome::Io => "io".into(),
    }
}

/// Freezes Redis under load with live and revoked credentials being presented.
fn outage(
    server: &ServerProcess,
    redis: &mut RedisServer,
    live: &[String],
    revoked: &[String],
    plan: &RevocationPlan,
) -> Result<OutageResult> {
    let stop = AtomicBool::new(false);
    let lead = Duration::from_millis(300);
    let (live_seen, revoked_seen, frozen_at, thawed_at) = std::thread::scope(|s| -> Result<_> {
        let l = s.spawn(|| probe(server, live, &stop));
        let r = s.spawn(|| probe(server, revoked, &stop));
        std::thread::sleep(lead);
        redis.pause().context("freezing Redis")?;
        let frozen_at = Instant::now();
        std::thread::sleep(plan.outage);
        redis.resume().context("resuming Redis")?;
        let thawed_at = Instant::now();
        std::thread::sleep(steady_window(plan));
        stop.store(true, Ordering::Relaxed);
        Ok((
            l.join().unwrap_or_default(),
            r.join().unwrap_or_default(),
            frozen_at,
            thawed_at,
        ))
    })?;
    let mut during = BTreeMap::new();
    let mut after = BTreeMap::new();
    for s in live_seen.iter().chain(revoked_seen.iter()) {
        let bucket = if s.at >= frozen_at && s.at < thawed_at {
            &mut during
        } else if s.at >= thawed_at {
            &mut after
        } else {
            continue;
        };
        *bucket.entry(status_key(s.outcome)).or_insert(0u64) += 1;
    }
    let accepted_revoked = revoked_seen
        .iter()
        .filter(|s| s.at >= frozen_at && matches!(s.outcome, Outcome::Old | Outcome::Changed))
        .count() as u64;
    let recovery_ms = live_seen
        .iter()
        .find(|s| s.at >= thawed_at && matches!(s.outcome, Outcome::Old | Outcome::Changed))
        .map(|s| s.at.duration_since(thawed_at).as_secs_f64() * 1e3);
    Ok(OutageResult {
        frozen_s: thawed_at.duration_since(frozen_at).as_secs_f64(),
        during,
        after,
        accepted_revoked,
        recovery_ms,
    })
}

/// The shortest warm-up before the commands per request are counted (it is otherwise the
/// time to present every credential once at the background rate).
const MIN_WARMUP: Duration = Duration::from_millis(200);

/// How long the steady background run whose Redis commands are counted lasts, and how long
/// probes go on after a frozen Redis thaws: one second, or the plan's watch window where that
/// is shorter (the quick profile), since both only need enough requests to see the pattern.
fn steady_window(plan: &RevocationPlan) -> Duration {
    plan.after.min(Duration::from_secs(1))
}

/// Strategies the experiment runs (session, then the JWT ones).
const STRATEGY_COUNT: usize = 5;

/// Progress steps [`run`] reports: per strategy, the phases, the next login after
/// logout-all, and the frozen Redis.
pub const STEPS: u64 = STRATEGY_COUNT as u64 * 3;

/// Runs the whole experiment for every strategy.
pub fn run(
    binary: &Path,
    plan: &RevocationPlan,
    step: &mut dyn FnMut(String),
) -> Result<RevocationResult> {
    let users: Vec<String> = (0..plan.users).map(|i| format!("user{i}")).collect();
    let k = ((plan.users as f64 * plan.revoke_fraction).round() as usize).max(2);
    let jwt = |revocation| Backend::Jwt {
        alg: Alg::ES256,
        revocation,
    };
    let strategies: [Backend; STRATEGY_COUNT] = [
        Backend::Session,
        jwt(Revocation::None),
        jwt(Revocation::Denylist),
        jwt(Revocation::Epoch),
        jwt(Revocation::Refresh),
    ];
    let mut results = Vec::new();
    for backend in strategies {
        let name = &backend.full_name();
        step(format!("revocation: {name}"));
        let mut redis = RedisServer::start().context("starting a private redis-server")?;
        let mut config = Configuration::load_test(backend, plan.users);
        // The probes present revoked credentials on purpose, every user from one address.
        config.no_failure_limit = true;
        if let Backend::Jwt {
            revocation: Revocation::Refresh,
            ..
        } = backend
        {
            config.access_ttl_s = Some(plan.refresh_access_ttl_s);
        }
        // Recorded without the Redis URL (a private port of this run).
        let serve_args = config.serve_args();
        let config = config.with_redis(RedisAt::Url(redis.url()));
        let server = ServerProcess::start(binary, name, &config.serve_args())?;
        let mut inspector = Inspector::connect(redis.addr())?;
        let baseline: u64 = inspector.key_sizes()?.iter().map(|(_, b)| b).sum();
        let (tokens, _) = login_all(&server, &users, PASSWORD, 2, &|_| {})?;
        let (admin, _) = login_all(&server, &["admin".to_owned()], PASSWORD, 1, &|_| {})?;
        let sizes = inspector.key_sizes()?;
        let logged_in: u64 = sizes
            .iter()
            .map(|(_, b)| b)
            .sum::<u64>()
            .saturating_sub(baseline);

        // Round trips and work: Redis commands during a steady background run, per request,
        // after an unmeasured run over every credential, so that caches (the epoch strategy's)
        // are warm, as they are in a server that has been up for more than a second.
        background(
            &server,
            tokens.clone(),
            plan.background_rps,
            Duration::from_secs_f64(plan.users as f64 / plan.background_rps).max(MIN_WARMUP),
        )?;
        let before = inspector.command_calls()?;
        let bg = background(
            &server,
            tokens.clone(),
            plan.background_rps,
            steady_window(plan),
        )?;
        let after = inspector.command_calls()?;
        let requests = bg.requests.max(1) as f64;
        let calls =
            |m: &BTreeMap<String, u64>, name: &str| m.get(name).copied().unwrap_or(0) as f64;
        // Every command a server sends on its own is one round trip (the one pipeline, the
        // session verify's, is counted once: see ROUND_TRIP_COMMANDS); commands run inside
        // scripts are Redis's work, not round trips.
        let round_trips = ROUND_TRIP_COMMANDS
            .iter()
            .map(|n| calls(&after, n) - calls(&before, n))
            .sum::<f64>()
            / requests;
        let total = |m: &BTreeMap<String, u64>| m.values().sum::<u64>() as f64;
        // The first INFO is itself counted, once.
        let per_request = (total(&after) - total(&before) - 1.0).max(0.0) / requests;

        let mut phases = Vec::new();
        let mut revoked_tokens: Vec<String> = Vec::new();
        let mut bytes_per_revoked = 0.0;
        for (n, name_phase) in ["logout", "logout-all", "role-change"].iter().enumerate() {
            let targets = pick(users.len(), k, n as u64 + 1);
            let before_bytes: u64 = inspector.key_sizes()?.iter().map(|(_, b)| b).sum();
            let (result, reflected) = phase(
                name_phase, &server, &tokens, &users, &targets, &admin[0], plan,
            )?;
            if *name_phase == "logout" {
                let after_bytes: u64 = inspector.key_sizes()?.iter().map(|(_, b)| b).sum();
                bytes_per_revoked =
                    (after_bytes as f64 - before_bytes as f64) / targets.len() as f64;
            }
            // Only credentials whose revocation was seen to bite are held to "never accepted
            // again": a plain JWT's logout, or a refresh strategy's outstanding access token,
            // was never rejected in the first place (that window is the strategy's nature).
            if *name_phase != "role-change" {
                revoked_tokens.extend(reflected.iter().map(|&i| tokens[i].clone()));
            }
            phases.push(result);
        }
        step(format!("revocation: {name} next login after logout-all"));
        let next_login = pick(users.len(), k, 4);
        let next_users: Vec<String> = next_login.iter().map(|&i| users[i].clone()).collect();
        let immediately = immediately_usable(&server, &next_users)?;
        // Their credentials from the start were just ended (where the strategy can): not live.
        let spent: Vec<&String> = next_login.iter().map(|&i| &tokens[i]).collect();
        let live: Vec<String> = tokens
            .iter()
            .filter(|t| !revoked_tokens.contains(t) && !spent.contains(t))
            .take(200)
            .cloned()
            .collect();
        step(format!("revocation: {name} with Redis frozen"));
        let outage = outage(&server, &mut redis, &live, &revoked_tokens, plan)?;
        results.push(StrategyResult {
            strategy: name.to_owned(),
            serve_args,
            redis_commands_per_request: per_request,
            redis_round_trips_per_request: round_trips,
            redis_bytes_per_user: logged_in as f64 / plan.users as f64,
            redis_keys_per_user: sizes.len() as f64 / plan.users as f64,
            redis_bytes_per_revoked: bytes_per_revoked,
            phases,
            immediately_usable: Some(immediately),
            outage,
            moving_parts: moving_parts(name).to_owned(),
        });
        drop(server);
    }
    Ok(RevocationResult {
        plan: plan.clone(),
        strategies: results,
    })
}
