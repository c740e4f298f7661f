//! Beyond one machine: sessions on a Redis Cluster, several server instances behind one load
//! generator, a JWT issuer rotating its signing key under verifier-only instances, and a
//! Redis Cluster failover under a stream of logouts.
//!
//! 1. **Cluster vs single node.** The same session backend against the run's single Redis and
//!    against a private 3-master Redis Cluster (or `--redis-cluster`), `/me` closed loop,
//!    interleaved. The cluster costs the client a slot lookup and a connection per master; on
//!    one machine it cannot add capacity, so this measures the price, not the gain.
//! 2. **Several instances.** `instances` session servers sharing one Redis, and a JWT issuer
//!    plus `instances - 1` verifier-only servers (`--jwks-url`: they hold no signing key and
//!    fetch the issuer's public keys), the load generator spreading its connections over
//!    them. On a 2-core machine the instances share the same cores as everything else.
//! 3. **Key rotation.** The issuer rotates (`POST /admin/keys/rotate`); tokens signed before
//!    must keep working everywhere until they expire, tokens signed after carry the new `kid`
//!    and must work on verifiers that have never seen it (they refetch the JWKS once). Then
//!    the signing key is revoked as compromised (`POST /admin/keys/revoke`): how long each
//!    instance goes on accepting its tokens (the issuer: not at all; a verifier: until its
//!    next JWKS fetch).
//! 4. **Failover.** A 3 + 3 Redis Cluster; under a stream of revocations (logouts) one master
//!    is killed, its replica promoted; revocations acknowledged but lost (replication is
//!    asynchronous) are counted. In process, through the backends' own `revoke`/`verify`. Each
//!    backend runs twice: `--revocation-durability none` (the master's OK) and `replica`
//!    (`WAIT 1` before the acknowledgement). The record keeps the evidence of each loss: every
//!    node's replication offsets at the kill, and for every lost revocation the node that
//!    acknowledged it and when, relative to the kill.

use crate::client::HttpClient;
use crate::failover::{FailoverOptions, FailoverReport};
use crate::http::Target;
use crate::plan::Profile;
use crate::record::HttpSummary;
use crate::section::{Rounds, Section, redact_args};
use crate::services::{ServerProcess, login_all};
use anyhow::{Context, Result, bail};
use authbench_core::SystemClock;
use authbench_jwt::{Alg, Durability, JwtBackend, JwtConfig, RedisTarget, Revocation};
use authbench_services::RedisCluster;
use authbench_session::{SessionBackend, SessionConfig};
use authbench_spec::DEMO_PASSWORD as PASSWORD;
use authbench_spec::{Backend, Configuration, Jwks, RedisAt};
use base64::Engine;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use authbench_spec::record::scale::{
    FailoverRecord, FreshVerifierRecord, KeyRevocationRecord, LostRecord, NodeAcksRecord,
    REVOKE_PROBE_MS, ReplicationSnapshot, RotationRecord, ScalePlan, ScaleResult,
    fresh_verifier_deadline,
};

/// `--jwks-refresh-interval` of the verifier-only instances, seconds: the least time between
/// two JWKS fetches an unknown `kid` may cause. Shorter than the default (10 s) so that even
/// the seconds-long smoke profile rotates after the interval since the verifiers' start-up
/// fetch, as a long-running deployment would.
const JWKS_REFRESH_INTERVAL_S: u64 = 2;

/// The plan of a profile.
pub fn plan_for(profile: Profile) -> ScalePlan {
    match profile {
        Profile::Smoke => ScalePlan {
            users: 20,
            reps: 1,
            connections: vec![8],
            duration: Duration::from_millis(300),
            warmup: Duration::from_millis(100),
            instances: 2,
            rotation_tokens: 4,
            failover_credentials: 300,
            failover_kill_after: 100,
            failover_backends: vec!["session".into()],
        },
        Profile::Quick => ScalePlan {
            users: 200,
            reps: 3,
            connections: vec![1, 32],
            duration: Duration::from_millis(300),
            warmup: Duration::from_millis(50),
            instances: 2,
            rotation_tokens: 20,
            failover_credentials: 1_200,
            failover_kill_after: 300,
            failover_backends: vec!["session".into(), "jwt-denylist".into()],
        },
        Profile::Full => ScalePlan {
            users: 1_000,
            reps: 3,
            connections: vec![1, 32],
            duration: Duration::from_secs(3),
            warmup: Duration::from_millis(500),
            instances: 2,
            rotation_tokens: 100,
            failover_credentials: 5_000,
            failover_kill_after: 1_500,
            failover_backends: vec!["session".into(), "jwt-denylist".into()],
        },
    }
}

/// Progress steps this plan takes.
pub fn steps(plan: &ScalePlan) -> u64 {
    let servers = 2 + plan.instances as u64 * 2 - 1;
    // cluster start; one per server started; three logins; cluster runs; instance runs;
    // rotation and key revocation; per pre-publish mode an issuer, a verifier and the
    // rotation on it; one per failover.
    1 + servers
        + 3
        + (plan.reps * plan.connections.len() * 2) as u64
        + (plan.reps * 4) as u64
        + 2
        + FRESH_VERIFIER_PREPUBLISH.len() as u64 * 3
        + plan.failover_backends.len() as u64 * FAILOVER_DURABILITIES.len() as u64
}

/// The issuer's `--key-prepublish` in the fresh-verifier rotation, seconds, in this order:
/// none (the new key signs at once: the gap), and one verifier refresh interval (no gap).
pub const FRESH_VERIFIER_PREPUBLISH: [u64; 2] = [0, JWKS_REFRESH_INTERVAL_S];

/// The revocation durabilities every failover backend runs under, in this order.
pub const FAILOVER_DURABILITIES: [&str; 2] = ["none", "replica"];

/// Runs the section. `cluster_seeds`: an external cluster (`--redis-cluster`), or `None` to
/// start a private one.
pub fn run(ctx: &mut Section<'_>, cluster_seeds: Option<&str>) -> Result<ScaleResult> {
    let plan = plan_for(ctx.profile);
    let n = plan.instances.max(2);
    ctx.step("starting a private 3-master Redis Cluster");
    let private_cluster = match cluster_seeds {
        Some(_) => None,
        None => Some(RedisCluster::start().context("starting a private Redis Cluster")?),
    };
    let seeds = match (cluster_seeds, &private_cluster) {
        (Some(s), _) => s.to_owned(),
        (None, Some(c)) => c.seeds(),
        (None, None) => bail!("no Redis Cluster"),
    };
    let cluster_masters = seeds.split(',').count();
    let load_test = |backend| {
        let mut c = Configuration::load_test(backend, plan.users);
        // The rotation probes present revoked-key tokens on purpose, from one address.
        c.no_failure_limit = true;
        c
    };
    let users: Vec<String> = (0..plan.users).map(|i| format!("user{i}")).collect();
    let mut server_args: Vec<(String, Vec<String>)> = Vec::new();
    let mut start =
        |ctx: &mut Section<'_>, name: &str, config: &Configuration| -> Result<ServerProcess> {
            ctx.step(format!("starting {name}"));
            let args = config.serve_args();
            let s = ServerProcess::start(ctx.server_binary, &format!("scale-{name}"), &args)?;
            server_args.push((name.to_owned(), redact_args(&args)));
            Ok(s)
        };
    let issuer_config = load_test(Backend::jwt(Alg::ES256));
    let verifier_of = |issuer: &ServerProcess| {
        let mut c = issuer_config.clone();
        c.jwks = Some(Jwks {
            url: issuer.url("/.well-known/jwks.json"),
            refresh_interval_s: JWKS_REFRESH_INTERVAL_S,
        });
        c
    };

    // --- Servers. ---
    let single = load_test(Backend::Session).with_redis(RedisAt::Url(ctx.redis_url.to_owned()));
    let session_single = start(ctx, "session-single", &single)?;
    let session_cluster = start(
        ctx,
        "session-cluster",
        &load_test(Backend::Session).with_redis(RedisAt::Cluster(seeds.clone())),
    )?;
    // More session instances on the same single Redis (same key prefix: one pool of sessions).
    let mut session_more = Vec::new();
    for i in 1..n {
        session_more.push(start(ctx, &format!("session-instance{}", i + 1), &single)?);
    }
    let issuer = start(ctx, "jwt-issuer", &issuer_config)?;
    let mut verifiers = Vec::new();
    for i in 1..n {
        verifiers.push(start(
            ctx,
            &format!("jwt-verifier{i}"),
            &verifier_of(&issuer),
        )?);
    }

    // --- Credentials: sessions from the single-node server (valid on every instance sharing
    // its Redis), cluster sessions from the cluster server, JWTs from the issuer. ---
    let login = |ctx: &mut Section<'_>, s: &ServerProcess, what: &str| -> Result<Vec<String>> {
        ctx.step(format!("logging {} users in on {what}", plan.users));
        Ok(login_all(s, &users, PASSWORD, ctx.cores.max(2), &|_| {})?.0)
    };
    let single_tokens = login(ctx, &session_single, "session-single")?;
    let cluster_tokens = login(ctx, &session_cluster, "session-cluster")?;
    let jwt_tokens = login(ctx, &issuer, "jwt-issuer")?;

    // --- Cluster vs single node, interleaved. ---
    let redis_pids: Vec<u32> = ctx.redis_pid.into_iter().collect();
    let cluster_targets = [
        Target {
            name: "session-single".into(),
            server: &session_single,
            also: Vec::new(),
            path: "/me",
            credentials: single_tokens.clone(),
            redis_pids: redis_pids.clone(),
        },
        Target {
            name: "session-cluster".into(),
            server: &session_cluster,
            also: Vec::new(),
            path: "/me",
            credentials: cluster_tokens,
            // The cluster nodes' CPU is not charged (the spawner keeps their processes).
            redis_pids: Vec::new(),
        },
    ];
    let mut runs = ctx.interleaved(
        "scale",
        &cluster_targets,
        &Rounds {
            reps: plan.reps,
            connections: &plan.connections,
            duration: plan.duration,
            warmup: plan.warmup,
        },
    )?;

    // --- One instance vs several, closed loop at the largest connection count. ---
    let max_c = plan.connections.iter().copied().max().unwrap_or(32);
    let instance_targets = [
        Target {
            name: "session-x1".into(),
            server: &session_single,
            also: Vec::new(),
            path: "/me",
            credentials: single_tokens.clone(),
            redis_pids: redis_pids.clone(),
        },
        Target {
            name: format!("session-x{n}"),
            server: &session_single,
            also: session_more.iter().collect(),
            path: "/me",
            credentials: single_tokens,
            redis_pids: redis_pids.clone(),
        },
        Target {
            name: "jwt-ES256-x1".into(),
            server: &issuer,
            also: Vec::new(),
            path: "/me",
            credentials: jwt_tokens.clone(),
            redis_pids: Vec::new(),
        },
        Target {
            name: format!("jwt-ES256-x{n}"),
            server: &issuer,
            also: verifiers.iter().collect(),
            path: "/me",
            credentials: jwt_tokens.clone(),
            redis_pids: Vec::new(),
        },
    ];
    runs.extend(ctx.interleaved(
        "scale",
        &instance_targets,
        &Rounds {
            reps: plan.reps,
            connections: &[max_c],
            duration: plan.duration,
            warmup: plan.warmup,
        },
    )?);
    let http = HttpSummary::of_runs(&runs);

    // --- Rotation. ---
    ctx.step("rotating the issuer's signing key");
    let mut rotation = rotate(
        &issuer,
        &verifiers,
        &users,
        &jwt_tokens,
        plan.rotation_tokens,
    )?;
    ctx.step("revoking the issuer's signing key (compromise)");
    rotation.key_revocation = Some(revoke_signing_key(&issuer, &verifiers, &users)?);
    for prepublish in FRESH_VERIFIER_PREPUBLISH {
        let mut prepublishing = issuer_config.clone();
        prepublishing.key_prepublish_s = Some(prepublish);
        let name = format!("jwt-issuer-prepublish{prepublish}");
        let fresh_issuer = start(ctx, &name, &prepublishing)?;
        let verifier = start(
            ctx,
            &format!("jwt-fresh-verifier-prepublish{prepublish}"),
            &verifier_of(&fresh_issuer),
        )?;
        ctx.step(format!(
            "rotating with a fresh verifier, key pre-published {prepublish} s ahead"
        ));
        rotation.fresh_verifier.push(rotate_on_fresh_verifier(
            &fresh_issuer,
            &verifier,
            prepublish,
        )?);
    }

    // --- Failover. ---
    let mut failover = Vec::new();
    for backend in &plan.failover_backends {
        for durability in FAILOVER_DURABILITIES {
            ctx.step(format!(
                "Redis Cluster failover under logouts: {backend}, durability {durability}"
            ));
            failover.push(failover_one(backend, durability, &plan)?);
        }
    }

    drop(cluster_targets);
    drop(instance_targets);
    drop(private_cluster);
    Ok(ScaleResult {
        plan,
        cluster_masters,
        cluster_private: cluster_seeds.is_none(),
        servers: server_args,
        runs,
        http,
        rotation,
        failover,
    })
}

/// The `kid` in a JWT's header.
fn kid_of(token: &str) -> Option<String> {
    let header = token.split('.').next()?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .ok()?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    v["kid"].as_str().map(str::to_owned)
}

fn jwks_kids(server: &ServerProcess) -> Result<Vec<String>> {
    let r = HttpClient::new(server.addr()).request("GET", "/.well-known/jwks.json", &[], "")?;
    let v: serde_json::Value = serde_json::from_slice(&r.body).context("JWKS is not JSON")?;
    let mut kids: Vec<String> = v["keys"]
        .as_array()
        .map(|keys| {
            keys.iter()
                .filter_map(|k| k["kid"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    kids.sort();
    Ok(kids)
}

/// `/me` with `token` on `server`: (status, elapsed).
fn me(client: &mut HttpClient, token: &str) -> (u16, Duration) {
    let at = Instant::now();
    let status = client.me_status(token);
    (status, at.elapsed())
}

fn rotate(
    issuer: &ServerProcess,
    verifiers: &[ServerProcess],
    users: &[String],
    old_tokens: &[String],
    k: usize,
) -> Result<RotationRecord> {
    let k = k.min(old_tokens.len()).min(users.len());
    // A verifier refetches on an unknown kid at most once per interval, counted from its
    // start-up fetch too: rotate only once that interval has passed, as in a deployment whose
    // verifiers have run for a while.
    std::thread::sleep(Duration::from_secs(JWKS_REFRESH_INTERVAL_S));
    let kids_before = jwks_kids(issuer)?;
    let rotated = post_rotate(issuer)?;
    let new_kid = rotated["kid"].as_str().unwrap_or_default().to_owned();
    let old_published_until = rotated["previous_published_until"].as_u64().unwrap_or(0);
    let kids_after = jwks_kids(issuer)?;
    let (new_tokens, _) = login_all(issuer, &users[..k], PASSWORD, 2, &|_| {})?;
    let new_tokens_carry_new_kid = new_tokens
        .iter()
        .all(|t| kid_of(t).as_deref() == Some(new_kid.as_str()));

    let mut instances: Vec<(String, &ServerProcess)> = vec![("issuer".to_owned(), issuer)];
    for (i, v) in verifiers.iter().enumerate() {
        instances.push((format!("verifier{}", i + 1), v));
    }
    let (mut old_accepted, mut new_accepted) = (Vec::new(), Vec::new());
    let (mut first_new_kid_ms, mut later_new_kid_ms) = (Vec::new(), Vec::new());
    let mut new_statuses = Vec::new();
    for (name, server) in &instances {
        let mut client = HttpClient::new(server.addr());
        // New tokens first on a verifier: its first one meets an unknown kid and refetches.
        let mut times = Vec::new();
        let mut statuses = std::collections::BTreeMap::new();
        for t in &new_tokens {
            let (status, took) = me(&mut client, t);
            *statuses.entry(status.to_string()).or_insert(0) += 1;
            if status == 200 {
                times.push(took.as_secs_f64() * 1e3);
            }
        }
        let ok_new = statuses.get("200").copied().unwrap_or(0);
        new_statuses.push((name.clone(), statuses));
        let ok_old = old_tokens[..k]
            .iter()
            .filter(|t| me(&mut client, t).0 == 200)
            .count();
        old_accepted.push((name.clone(), ok_old));
        new_accepted.push((name.clone(), ok_new));
        if name != "issuer" && !times.is_empty() {
            first_new_kid_ms.push((name.clone(), times[0]));
            let mut rest: Vec<f64> = times[1..].to_vec();
            rest.sort_by(f64::total_cmp);
            if !rest.is_empty() {
                later_new_kid_ms.push((name.clone(), crate::stats::quantile(&rest, 0.5)));
            }
        }
    }
    Ok(RotationRecord {
        kids_before,
        new_kid,
        kids_after,
        old_published_until,
        old_tokens: k,
        old_accepted,
        new_tokens: new_tokens.len(),
        new_accepted,
        new_tokens_carry_new_kid,
        verifier_refresh_interval_s: JWKS_REFRESH_INTERVAL_S,
        new_statuses,
        first_new_kid_ms,
        later_new_kid_ms,
        key_revocation: None,
        fresh_verifier: Vec::new(),
    })
}

/// `POST /admin/keys/rotate` on `issuer` as the demo admin: its JSON answer (`kid`,
/// `previous_kid`, `previous_published_until`, `signs_from`).
fn post_rotate(issuer: &ServerProcess) -> Result<serde_json::Value> {
    let (admin, _) = login_all(issuer, &["admin".to_owned()], PASSWORD, 1, &|_| {})?;
    let r = HttpClient::new(issuer.addr()).request(
        "POST",
        "/admin/keys/rotate",
        &[("authorization", &format!("Bearer {}", admin[0]))],
        "",
    )?;
    if r.status != 200 {
        bail!("POST /admin/keys/rotate answered {}", r.status);
    }
    serde_json::from_slice(&r.body).context("rotation answer")
}

/// [`FreshVerifierRecord`]: `verifier` has just fetched `issuer`'s JWKS (it was started a
/// moment ago); the issuer rotates now, and the first token of the new key goes to the
/// verifier until it is accepted.
fn rotate_on_fresh_verifier(
    issuer: &ServerProcess,
    verifier: &ServerProcess,
    prepublish_s: u64,
) -> Result<FreshVerifierRecord> {
    let rotated = post_rotate(issuer)?;
    let rotated_at = Instant::now();
    let new_kid = rotated["kid"].as_str().unwrap_or_default().to_owned();
    // Log in until the issuer signs with the new key (at `signs_from`, a whole second).
    let deadline = rotated_at + Duration::from_secs(prepublish_s + 5);
    let token = loop {
        let t = login_one(issuer, "user0")?;
        if kid_of(&t).as_deref() == Some(new_kid.as_str()) {
            break t;
        }
        if Instant::now() > deadline {
            bail!(
                "the issuer did not sign with the new key {new_kid} within {prepublish_s} s + 5 s"
            );
        }
        std::thread::sleep(Duration::from_millis(REVOKE_PROBE_MS));
    };
    let first_new_token_after_ms = rotated_at.elapsed().as_secs_f64() * 1e3;
    let mut client = HttpClient::new(verifier.addr());
    let started = Instant::now();
    let give_up = fresh_verifier_deadline(JWKS_REFRESH_INTERVAL_S);
    let (mut presented, mut refused) = (0, 0);
    let mut statuses = std::collections::BTreeMap::new();
    let accepted_after_ms = loop {
        let (status, _) = me(&mut client, &token);
        presented += 1;
        *statuses.entry(status.to_string()).or_insert(0) += 1;
        if status == 200 {
            break Some(started.elapsed().as_secs_f64() * 1e3);
        }
        refused += 1;
        if started.elapsed() > give_up {
            break None;
        }
        std::thread::sleep(Duration::from_millis(REVOKE_PROBE_MS));
    };
    Ok(FreshVerifierRecord {
        prepublish_s,
        verifier_refresh_interval_s: JWKS_REFRESH_INTERVAL_S,
        first_new_token_after_ms,
        presented,
        refused,
        statuses,
        accepted_after_ms,
    })
}

/// `POST /login` as `user`: the token.
fn login_one(server: &ServerProcess, user: &str) -> Result<String> {
    let (tokens, _) = login_all(server, &[user.to_owned()], PASSWORD, 1, &|_| {})?;
    tokens.into_iter().next().context("no token")
}

/// Revokes the issuer's signing key and measures, per instance, how long its tokens were
/// still accepted (see [`KeyRevocationRecord`]).
fn revoke_signing_key(
    issuer: &ServerProcess,
    verifiers: &[ServerProcess],
    users: &[String],
) -> Result<KeyRevocationRecord> {
    let user = users.first().map_or("alice", String::as_str);
    let victim = login_one(issuer, user)?;
    let revoked_kid = kid_of(&victim).context("the issuer's token has no kid")?;
    let mut instances: Vec<(String, &ServerProcess)> = vec![("issuer".to_owned(), issuer)];
    for (i, v) in verifiers.iter().enumerate() {
        instances.push((format!("verifier{}", i + 1), v));
    }
    let mut clients: Vec<HttpClient> = instances
        .iter()
        .map(|(_, s)| HttpClient::new(s.addr()))
        .collect();
    // Every instance holds the key and accepts its token before.
    for ((name, _), client) in instances.iter().zip(&mut clients) {
        let (status, _) = me(client, &victim);
        if status != 200 {
            bail!("{name} answered {status} to a valid token before the revocation");
        }
    }
    let admin = login_one(issuer, "admin")?;
    let body = serde_json::json!({ "kid": revoked_kid }).to_string();
    let r = HttpClient::new(issuer.addr()).request(
        "POST",
        "/admin/keys/revoke",
        &[
            ("authorization", &format!("Bearer {admin}")),
            ("content-type", "application/json"),
        ],
        &body,
    )?;
    let t0 = Instant::now();
    if r.status != 200 {
        bail!("POST /admin/keys/revoke answered {}", r.status);
    }
    let answer: serde_json::Value = serde_json::from_slice(&r.body).context("revoke answer")?;
    let new_signing_kid = answer["new_signing_kid"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let deadline = Duration::from_secs(JWKS_REFRESH_INTERVAL_S + 10);
    let mut fresh: Option<String> = None;
    let mut refused: Vec<Option<f64>> = vec![None; instances.len()];
    let mut accepted = vec![0usize; instances.len()];
    while refused.iter().any(Option::is_none) && t0.elapsed() < deadline {
        for (i, client) in clients.iter_mut().enumerate() {
            if refused[i].is_some() {
                continue;
            }
            let (status, _) = me(client, &victim);
            if status == 200 {
                accepted[i] += 1;
                // A client that logged in again shows up: its kid is new here.
                if fresh.is_none() {
                    fresh = Some(login_one(issuer, user)?);
                }
                if let Some(t) = &fresh {
                    let _ = me(client, t);
                }
            } else if status == 401 {
                refused[i] = Some(t0.elapsed().as_secs_f64() * 1e3);
            }
        }
        if refused.iter().any(Option::is_none) {
            std::thread::sleep(Duration::from_millis(REVOKE_PROBE_MS));
        }
    }
    let fresh = match fresh {
        Some(t) => t,
        None => login_one(issuer, user)?,
    };
    let fresh_login_accepted = instances
        .iter()
        .zip(&mut clients)
        .map(|((name, _), client)| (name.clone(), me(client, &fresh).0 == 200))
        .collect();
    let names = instances.iter().map(|(n, _)| n.clone());
    Ok(KeyRevocationRecord {
        revoked_kid,
        new_signing_kid,
        kids_after: jwks_kids(issuer)?,
        refused_after_ms: names.clone().zip(refused).collect(),
        accepted_after_revoke: names.zip(accepted).collect(),
        fresh_login_accepted,
        verifier_refresh_interval_s: JWKS_REFRESH_INTERVAL_S,
        verifier_max_age_s: authbench_jwt::DEFAULT_JWKS_MAX_AGE_SECS,
        deadline_ms: deadline.as_secs_f64() * 1e3,
    })
}

/// A key in the Redis Cluster slot of `subject`'s keys: the backends' per-user hash tag.
fn slot_key(subject: &str) -> String {
    format!("{{{}}}", authbench_store::UserSlot::of(subject).tag())
}

/// One failover experiment: `backend` (`session`, `jwt-denylist`) under `durability`
/// (`none`, `replica`) on a fresh 3 + 3 cluster.
///
/// # Errors
///
/// When the cluster or the backend cannot start, or the experiment fails.
pub fn failover_one(backend: &str, durability: &str, plan: &ScalePlan) -> Result<FailoverRecord> {
    let durability_mode: Durability = durability.parse().map_err(|e: String| anyhow::anyhow!(e))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("a runtime for the failover experiment")?;
    let mut cluster =
        RedisCluster::start_with_replicas().context("starting a 3+3 Redis Cluster")?;
    let target = RedisTarget::cluster(&cluster.seeds()).context("cluster seeds")?;
    let options = FailoverOptions {
        credentials: plan.failover_credentials,
        kill_after: plan.failover_kill_after,
        slot_key: Some(slot_key),
        ..FailoverOptions::default()
    };
    let report = runtime.block_on(async {
        match backend {
            "session" => {
                let mut config = SessionConfig::for_target(target);
                config.revocation_durability = durability_mode;
                let b = SessionBackend::connect(config, Arc::new(SystemClock))
                    .await
                    .context("session backend on the cluster")?;
                crate::failover::failover_experiment(Arc::new(b), &mut cluster, &options)
                    .await
                    .context("failover experiment")
            }
            "jwt-denylist" => {
                let mut config = JwtConfig::new(Alg::ES256);
                config.revocation = Revocation::Denylist;
                config.revocation_durability = durability_mode;
                let b = JwtBackend::connect(config, Arc::new(SystemClock), target)
                    .await
                    .context("JWT denylist backend on the cluster")?;
                crate::failover::failover_experiment(Arc::new(b), &mut cluster, &options)
                    .await
                    .context("failover experiment")
            }
            other => bail!("no failover experiment for {other}"),
        }
    })?;
    Ok(record_of(backend, durability, &report))
}

/// The record of one experiment's report.
fn record_of(backend: &str, durability: &str, report: &FailoverReport) -> FailoverRecord {
    let mut latencies: Vec<f64> = report
        .ack_latencies_us
        .iter()
        .map(|&us| us as f64 / 1e3)
        .collect();
    latencies.sort_by(f64::total_cmp);
    FailoverRecord {
        backend: backend.to_owned(),
        durability: durability.to_owned(),
        masters: 3,
        replicas_per_master: 1,
        node_timeout_ms: 1_000,
        failover_ms: report.failover.as_secs_f64() * 1e3,
        unavailable_window_ms: report.unavailable_window.as_secs_f64() * 1e3,
        attempted: report.attempted,
        acknowledged: report.acknowledged,
        refused: report.refused,
        other_errors: report.other_errors,
        lost: report.lost,
        unverified: report.unverified,
        serves_after: report.serves_after,
        logout_p50_ms: crate::stats::quantile(&latencies, 0.5),
        logout_p99_ms: crate::stats::quantile(&latencies, 0.99),
        killed_port: report.killed_port,
        replica_behind_bytes: report.replica_behind_bytes,
        offsets_before: report.offsets_before.clone(),
        offsets_after: report.offsets_after.clone(),
        lost_detail: report
            .lost_detail
            .iter()
            .map(|l| LostRecord {
                index: l.index,
                subject: l.subject.clone(),
                slot: l.slot,
                acked_by_port: l.acked_by_port,
                acked_at_ms: l.acked_at_ms,
            })
            .collect(),
        per_node: report
            .per_node
            .iter()
            .map(|n| NodeAcksRecord {
                port: n.port,
                killed: n.killed,
                before_kill: n.before_kill,
                recent: n.recent,
                lost: n.lost,
            })
            .collect(),
    }
}
