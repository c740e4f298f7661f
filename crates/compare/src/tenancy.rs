//! Multi-tenancy: PostgreSQL Row Level Security driven by the credential, measured.
//!
//! One private PostgreSQL (roles, schema and both policies of `crates/tenancy`), shared by a
//! session server and a JWT server (`--database-url`), each seeded with the same users and
//! tenants. Two things are measured:
//!
//! 1. **Latency of `/notes`** beside `/me` on the same server, closed loop, interleaved: what a
//!    request pays for one transaction with transaction-local claims, under policy A (the
//!    tenant comes from the credential) and policy B (membership looked up live).
//! 2. **Staleness after a tenant move.** Users are moved to another tenant through the admin
//!    route while a probe keeps listing their notes with the credential they already hold.
//!    Per moved user: the time from the admin call's return to the first listing that shows
//!    the new tenant's rows (the *window*), and how many listings still showed the old
//!    tenant's rows after the move. A session answers from the record the move rewrote; a
//!    JWT under policy A carries its `tenant_id` claim until it is replaced; policy B asks
//!    `memberships` on every statement, whatever the credential says.

use crate::client::HttpClient;
use crate::http::Target;
use crate::plan::Profile;
use crate::record::HttpSummary;
use crate::section::{Rounds, Section, redact_args};
use crate::services::{ServerProcess, login_all};
use crate::stats::quantile;
use anyhow::{Context, Result, bail};
use authbench_spec::DEMO_PASSWORD as PASSWORD;
use authbench_spec::{Alg, Backend, Configuration, RedisAt, Revocation};
use authbench_tenancy::PrivateDatabase;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

pub use authbench_spec::record::tenancy::{StalenessCase, TenancyPlan, TenancyResult};

/// The tenants `serve --users N` spreads `user{i}` over, in order (`user{i}` is in
/// `TENANTS[i % 4]`); the seeding writes one `welcome to <tenant>` note per tenant and table.
const TENANTS: [&str; 4] = ["acme", "globex", "initech", "umbrella"];

/// The plan of a profile.
pub fn plan_for(profile: Profile) -> TenancyPlan {
    match profile {
        Profile::Smoke => TenancyPlan {
            users: 24,
            reps: 1,
            connections: vec![1, 8],
            duration: Duration::from_millis(300),
            warmup: Duration::from_millis(100),
            moved: 2,
            after: Duration::from_millis(400),
        },
        Profile::Quick => TenancyPlan {
            users: 200,
            reps: 3,
            connections: vec![1, 32],
            duration: Duration::from_millis(300),
            warmup: Duration::from_millis(50),
            moved: 8,
            after: Duration::from_millis(500),
        },
        Profile::Full => TenancyPlan {
            users: 1_000,
            reps: 3,
            connections: vec![1, 32],
            duration: Duration::from_secs(3),
            warmup: Duration::from_millis(500),
            moved: 20,
            after: Duration::from_secs(3),
        },
    }
}

/// Progress steps this plan takes.
pub fn steps(plan: &TenancyPlan) -> u64 {
    let backends = BACKENDS.len() as u64;
    // PostgreSQL; start + log in, per backend; the runs; one per staleness case.
    1 + backends * 2 + (plan.reps * plan.connections.len()) as u64 * backends * 3 + backends * 2
}

/// The two servers.
const BACKENDS: [Backend; 2] = [
    Backend::Session,
    Backend::Jwt {
        alg: Alg::ES256,
        revocation: Revocation::None,
    },
];

/// The three routes measured on each server: label and path.
const ROUTES: [(&str, &str); 3] = [
    ("me", "/me"),
    ("notes-claims", "/notes"),
    ("notes-membership", "/notes?policy=membership"),
];

/// Runs the section.
pub fn run(ctx: &mut Section<'_>) -> Result<TenancyResult> {
    let plan = plan_for(ctx.profile);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .context("a runtime for PostgreSQL set-up")?;
    ctx.step("starting a private PostgreSQL (roles, schema, policies)");
    let pg = runtime
        .block_on(PrivateDatabase::start())
        .context("starting a private PostgreSQL for the tenancy section")?;
    let postgres_version = pg
        .cluster
        .server()
        .version()
        .unwrap_or_else(|_| "unknown".into());
    let app_url = pg.urls.app.clone();

    let users: Vec<String> = (0..plan.users).map(|i| format!("user{i}")).collect();
    let mut servers = Vec::new();
    let mut server_args = Vec::new();
    let mut tokens = Vec::new();
    for backend in BACKENDS {
        let name = backend.name();
        ctx.step(format!("starting {name} with --database-url"));
        let mut config = Configuration::load_test(backend, plan.users);
        config.database_url = Some(app_url.clone());
        if backend.needs_redis() {
            config.redis = RedisAt::Url(ctx.redis_url.to_owned());
        }
        let args = config.serve_args();
        let server = ServerProcess::start(ctx.server_binary, &format!("tenancy-{name}"), &args)?;
        ctx.step(format!("logging {} users in on {name}", plan.users));
        let (t, _) = login_all(&server, &users, PASSWORD, ctx.cores.max(2), &|_| {})?;
        server_args.push((name, redact_args(&args)));
        servers.push(server);
        tokens.push(t);
    }

    // --- Latency: /me and /notes under each policy, same server, interleaved. ---
    let mut targets: Vec<Target<'_>> = Vec::new();
    for (b, backend) in BACKENDS.iter().enumerate() {
        let name = backend.name();
        for (label, path) in ROUTES {
            targets.push(Target {
                name: format!("{name}-{label}"),
                server: &servers[b],
                also: Vec::new(),
                path,
                credentials: tokens[b].clone(),
                redis_pids: if backend.needs_redis() {
                    ctx.redis_pid.into_iter().collect()
                } else {
                    Vec::new()
                },
            });
        }
    }
    let runs = ctx.interleaved(
        "tenancy",
        &targets,
        &Rounds {
            reps: plan.reps,
            connections: &plan.connections,
            duration: plan.duration,
            warmup: plan.warmup,
        },
    )?;
    let http = HttpSummary::of_runs(&runs);
    drop(targets);

    // --- Staleness after a tenant move. ---
    let mut staleness = Vec::new();
    let mut next_user = 0usize;
    for (b, backend) in BACKENDS.iter().enumerate() {
        let name = backend.name();
        let (admin, _) = login_all(&servers[b], &["admin".to_owned()], PASSWORD, 1, &|_| {})?;
        for policy in ["claims", "membership"] {
            ctx.step(format!(
                "staleness after a tenant move: {name}, policy {policy}"
            ));
            // Disjoint users per case: the servers share one database.
            let chosen: Vec<usize> = (next_user..next_user + plan.moved).collect();
            next_user += plan.moved;
            if next_user > plan.users {
                bail!("the tenancy plan moves more users than it seeds");
            }
            staleness.push(move_and_watch(
                &name,
                policy,
                &servers[b],
                &admin[0],
                &users,
                &tokens[b],
                &chosen,
                plan.after,
            )?);
        }
    }
    drop(servers);
    drop(pg);
    Ok(TenancyResult {
        plan,
        postgres_version,
        servers: server_args,
        runs,
        http,
        staleness,
    })
}

/// What one listing showed.
#[derive(Clone, Copy, PartialEq)]
enum Listing {
    Old,
    New,
    Neither,
    Status(u16),
    Io,
}

/// Moves `chosen` users to the next tenant while a probe lists their notes; measures when the
/// listings change.
#[allow(clippy::too_many_arguments)]
fn move_and_watch(
    backend: &str,
    policy: &str,
    server: &ServerProcess,
    admin_token: &str,
    users: &[String],
    tokens: &[String],
    chosen: &[usize],
    after: Duration,
) -> Result<StalenessCase> {
    let path = format!("/notes?policy={policy}");
    let old: Vec<&str> = chosen.iter().map(|&i| TENANTS[i % TENANTS.len()]).collect();
    let new: Vec<&str> = chosen
        .iter()
        .map(|&i| TENANTS[(i + 1) % TENANTS.len()])
        .collect();
    let stop = AtomicBool::new(false);
    let lead = Duration::from_millis(200);
    let (seen, moved_at, answers) = std::thread::scope(|s| -> Result<_> {
        let probe = s.spawn(|| {
            let mut client = HttpClient::new(server.addr());
            let mut seen: Vec<(usize, Instant, Listing)> = Vec::new();
            let mut i = 0usize;
            while !stop.load(Ordering::Relaxed) {
                let k = i % chosen.len();
                i += 1;
                let auth = format!("Bearer {}", tokens[chosen[k]]);
                let at = Instant::now();
                let listing = match client.request("GET", &path, &[("authorization", &auth)], "") {
                    Ok(r) if r.status == 200 => {
                        let body = String::from_utf8_lossy(&r.body);
                        if body.contains(&format!("welcome to {}\"", new[k])) {
                            Listing::New
                        } else if body.contains(&format!("welcome to {}\"", old[k])) {
                            Listing::Old
                        } else {
                            Listing::Neither
                        }
                    }
                    Ok(r) => Listing::Status(r.status),
                    Err(_) => Listing::Io,
                };
                seen.push((k, at, listing));
            }
            seen
        });
        std::thread::sleep(lead);
        let mut client = HttpClient::new(server.addr());
        let auth = format!("Bearer {admin_token}");
        let mut moved_at = Vec::with_capacity(chosen.len());
        let mut answers = Vec::new();
        for (k, &i) in chosen.iter().enumerate() {
            let body = serde_json::json!({ "tenant": new[k] }).to_string();
            let r = client.request(
                "PUT",
                &format!("/admin/users/{}/tenant", users[i]),
                &[
                    ("authorization", &auth),
                    ("content-type", "application/json"),
                ],
                &body,
            );
            moved_at.push(Instant::now());
            answers.push(match r {
                Ok(r) if (200..300).contains(&r.status) => {
                    let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap_or_default();
                    v["existing_credentials"]
                        .as_str()
                        .unwrap_or("unknown")
                        .replace('_', "-")
                }
                Ok(r) => format!("error-{}", r.status),
                Err(_) => "error-io".to_owned(),
            });
        }
        std::thread::sleep(after);
        stop.store(true, Ordering::Relaxed);
        let seen = probe.join().unwrap_or_default();
        Ok((seen, moved_at, answers))
    })?;

    let mut windows = Vec::new();
    let mut not_reflected = 0;
    let mut old_rows_after = 0u64;
    let mut other_statuses = std::collections::BTreeMap::new();
    for (k, at) in moved_at.iter().enumerate() {
        let mine: Vec<&(usize, Instant, Listing)> = seen
            .iter()
            .filter(|(t, when, _)| *t == k && when >= at)
            .collect();
        for (_, _, listing) in &mine {
            match listing {
                Listing::Old => old_rows_after += 1,
                Listing::Status(s) => *other_statuses.entry(s.to_string()).or_insert(0) += 1,
                Listing::Io => *other_statuses.entry("io".to_owned()).or_insert(0) += 1,
                Listing::Neither => *other_statuses.entry("200-other".to_owned()).or_insert(0) += 1,
                Listing::New => {}
            }
        }
        match mine.iter().find(|(_, _, l)| *l == Listing::New) {
            Some((_, when, _)) => windows.push(when.duration_since(*at).as_secs_f64() * 1e3),
            None => not_reflected += 1,
        }
    }
    windows.sort_by(f64::total_cmp);
    let probe_period_ms = match (seen.first(), seen.last()) {
        (Some(a), Some(b)) if seen.len() > 1 => {
            b.1.duration_since(a.1).as_secs_f64() * 1e3 * chosen.len() as f64 / seen.len() as f64
        }
        _ => 0.0,
    };
    let mut kinds = answers;
    kinds.sort();
    kinds.dedup();
    Ok(StalenessCase {
        backend: backend.to_owned(),
        policy: policy.to_owned(),
        moved: chosen.len(),
        admin_answer: kinds.join("+"),
        window_ms_p50: (!windows.is_empty()).then(|| quantile(&windows, 0.5)),
        window_ms_max: windows.last().copied(),
        not_reflected,
        old_rows_after,
        other_statuses,
        probe_period_ms,
    })
}
