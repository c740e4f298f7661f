//! The failover experiment: how many acknowledged logouts does a Redis Cluster master failover
//! lose? Under a stream of revocations through a real backend, the master serving slot 0 is
//! killed (SIGKILL, like a crash), its replica takes over, and every acknowledged revocation
//! is checked again. The replication offsets of every node are read around the kill, so a loss
//! can be explained (a replica that never completed its first sync had none of the master's
//! stream), and each lost revocation names the node that acknowledged it and when.
//!
//! The cluster itself is [`RedisCluster`] from `authbench-services`; this module is the
//! measurement, used by the scale section of `compare` and by this crate's tests.

use anyhow::{Result, anyhow};
use authbench_core::{Authenticator, ErrorClass, Identity};
use authbench_services::{
    ClusterNodeInfo, NodeRole, POLL_INTERVAL, RedisCluster, ReplicationSnapshot, parse_replication,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How [`failover_experiment`] runs.
#[derive(Debug, Clone)]
pub struct FailoverOptions {
    /// Users the credentials belong to (`failover-user0`, …): enough to spread over every
    /// master.
    ///
    /// Defaults to 64.
    pub users: usize,
    /// Credentials issued, then revoked one by one during the experiment (the "stream of
    /// logouts").
    ///
    /// Defaults to 2 000.
    pub credentials: usize,
    /// Concurrent revokers (logouts in flight at once, so some are in flight at the kill).
    ///
    /// Defaults to 8.
    pub concurrency: usize,
    /// The master is killed once this many revocations were acknowledged.
    ///
    /// Defaults to 500.
    pub kill_after: u64,
    /// Longest wait for the replica's promotion.
    ///
    /// Defaults to 30 s.
    pub failover_timeout: Duration,
    /// A key in the Redis Cluster slot of a subject's keys (e.g. `{T}` for the backends' slot
    /// tag `T`), so the report can name the node that acknowledged each lost revocation.
    /// `None`: the report's per-node figures and [`LostRevocation::acked_by_port`] stay empty.
    ///
    /// Defaults to `None`.
    pub slot_key: Option<fn(&str) -> String>,
    /// Restart the killed node once the failover is over (it rejoins, empty, as a replica of
    /// its successor), so the promoted master has a replica again.
    ///
    /// Defaults to `true`.
    pub restart_killed: bool,
}

impl Default for FailoverOptions {
    fn default() -> Self {
        Self {
            users: 64,
            credentials: 2_000,
            concurrency: 8,
            kill_after: 500,
            failover_timeout: Duration::from_secs(30),
            slot_key: None,
            restart_killed: true,
        }
    }
}

/// An acknowledged revocation that did not survive the failover.
#[derive(Debug, Clone, PartialEq)]
pub struct LostRevocation {
    /// Index of the credential in the experiment's stream.
    pub index: usize,
    /// Its subject.
    pub subject: String,
    /// The hash slot of the subject's keys (when [`FailoverOptions::slot_key`] is set).
    pub slot: Option<u16>,
    /// The master that served that slot before the kill: the node that acknowledged it.
    pub acked_by_port: Option<u16>,
    /// When the backend acknowledged it, ms relative to the kill (negative: before).
    pub acked_at_ms: f64,
}

/// Acknowledged revocations per master (the node that served the subject's slot at the time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeAcks {
    /// The master's port.
    pub port: u16,
    /// Whether it is the master that was killed.
    pub killed: bool,
    /// Revocations it acknowledged before the kill.
    pub before_kill: u64,
    /// Of those, in the last [`RECENT_WINDOW`] before the kill (its write rate at the kill).
    pub recent: u64,
    /// Of those, lost.
    pub lost: u64,
}

/// The window before the kill over which [`NodeAcks::recent`] counts: long enough to hold
/// several replication acknowledgements, short enough to be "at the kill".
pub const RECENT_WINDOW: Duration = Duration::from_millis(100);

/// What [`failover_experiment`] measured. Counts are of revocations (logouts).
#[derive(Debug, Clone, PartialEq)]
pub struct FailoverReport {
    /// Port of the master that was killed.
    pub killed_port: u16,
    /// From the kill until the replica was promoted and every live node said
    /// `cluster_state:ok`.
    pub failover: Duration,
    /// From the kill until the last revocation that failed (how long logouts were refused).
    /// Zero if none failed.
    pub unavailable_window: Duration,
    /// Revocations attempted (every credential once, plus retries of refused ones after the
    /// failover).
    pub attempted: u64,
    /// Revocations the backend acknowledged (`Ok`).
    pub acknowledged: u64,
    /// Of those, acknowledged before the kill (the ones exposed to the replication lag).
    pub acknowledged_before_kill: u64,
    /// Revocations refused (an `Unavailable`-class error: fail closed, the client knows its
    /// logout did not happen). Never counted as acknowledged.
    pub refused: u64,
    /// Refusals of any other class (a bug if not zero).
    pub other_errors: u64,
    /// Acknowledged revocations whose credential verifies again after the failover: the
    /// revocation reached the old master, was acknowledged, and died with it before it
    /// replicated (asynchronous replication).
    pub lost: u64,
    /// Acknowledged revocations whose credential could not be checked afterwards
    /// (`Unavailable`): neither lost nor confirmed.
    pub unverified: u64,
    /// Whether fresh credentials could be issued, verified and revoked on every user after
    /// the failover.
    pub serves_after: bool,
    /// Every node's replication state just before the kill (the victim's taken last, right
    /// before `SIGKILL`).
    pub offsets_before: Vec<ReplicationSnapshot>,
    /// The survivors' replication state right after the kill: the victim's replica's
    /// `slave_repl_offset` is all of the victim's stream it ever got.
    pub offsets_after: Vec<ReplicationSnapshot>,
    /// The killed master's last `master_repl_offset` minus its replica's offset after the
    /// kill: replication stream the replica never received (a lower bound: the master kept
    /// writing between its snapshot and the kill).
    pub replica_behind_bytes: Option<u64>,
    /// Every lost revocation: which node acknowledged it, and when.
    pub lost_detail: Vec<LostRevocation>,
    /// Acknowledged revocations per master (empty without [`FailoverOptions::slot_key`]).
    pub per_node: Vec<NodeAcks>,
    /// Latency of each acknowledged revocation (call to `Ok`), µs, in no particular order.
    pub ack_latencies_us: Vec<u64>,
}

/// Signed ms between two offsets from `started` (`at - kill`).
fn ms_rel(at: Duration, kill: Duration) -> f64 {
    (at.as_secs_f64() - kill.as_secs_f64()) * 1e3
}

/// The failover experiment: under a stream of revocations (logouts), kill a master of a
/// cluster with replicas, wait for its replica to take over, and count revocations that were
/// acknowledged but lost (the revoked credential verifies again).
///
/// `backend` must be connected to `cluster` (a [`RedisCluster::start_with_replicas`] one),
/// with a clock that does not move on its own past the credentials' lifetime. Works for any
/// backend whose `revoke` takes effect at once (sessions, the JWT `denylist`). The killed
/// master is the one serving slot 0; the users' keys spread over all masters, so about
/// 1/masters of the revocations hit the victim.
///
/// Replication in Redis is asynchronous: a master acknowledges a write before its replica has
/// it, so `lost` may be above zero; on loopback the window is tiny and `lost` is usually 0.
/// Each lost revocation is a logout the user was told succeeded and that did not.
///
/// # Errors
///
/// When the setup fails (issue or verify before the kill, a cluster command, the failover not
/// happening in time).
pub async fn failover_experiment<A: Authenticator>(
    backend: Arc<A>,
    cluster: &mut RedisCluster,
    options: &FailoverOptions,
) -> Result<FailoverReport> {
    let setup = |what: &str, e: authbench_core::Error| anyhow!("failover experiment: {what}: {e}");
    let identity = |i: usize| Identity {
        subject: format!("failover-user{}", i % options.users.max(1)),
        tenant: "failover".into(),
        roles: vec!["user".into()],
    };
    let mut tokens = Vec::with_capacity(options.credentials);
    for i in 0..options.credentials {
        let c = backend
            .issue(&identity(i))
            .await
            .map_err(|e| setup("issue", e))?;
        tokens.push(c.token);
    }
    let tokens: Arc<[String]> = tokens.into();
    // Which master serves each user's slot (before the kill): the node that acknowledges the
    // user's revocations.
    let user_slots: Vec<Option<u16>> = match options.slot_key {
        Some(slot_key) => (0..options.users.max(1))
            .map(|u| cluster.key_slot(&slot_key(&identity(u).subject)).ok())
            .collect(),
        None => vec![None; options.users.max(1)],
    };
    let masters_before: Vec<ClusterNodeInfo> = cluster
        .nodes()?
        .into_iter()
        .filter(|n| n.role == NodeRole::Master && !n.failed)
        .collect();
    let owner_of = |slot: Option<u16>| {
        slot.and_then(|s| masters_before.iter().find(|m| m.serves(s)).map(|m| m.port))
    };
    let acknowledged = Arc::new(AtomicU64::new(0));
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    // Nanoseconds since `started` of the last refusal, for the unavailable window.
    let last_refusal = Arc::new(AtomicU64::new(0));

    let mut workers = Vec::with_capacity(options.concurrency.max(1));
    for _ in 0..options.concurrency.max(1) {
        let (backend, tokens, next, acknowledged, last_refusal) = (
            Arc::clone(&backend),
            Arc::clone(&tokens),
            Arc::clone(&next),
            Arc::clone(&acknowledged),
            Arc::clone(&last_refusal),
        );
        let give_up = options.failover_timeout;
        workers.push(tokio::spawn(async move {
            // (index, when acknowledged since `started`, latency) per acknowledged revocation;
            // refused ones are retried until they are acknowledged or the experiment gives up.
            let mut acked: Vec<(usize, Duration, Duration)> = Vec::new();
            let (mut attempted, mut refused, mut other) = (0u64, 0u64, 0u64);
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                if i >= tokens.len() {
                    break;
                }
                loop {
                    attempted += 1;
                    let sent = Instant::now();
                    match backend.revoke(&tokens[i]).await {
                        Ok(()) => {
                            acknowledged.fetch_add(1, Ordering::Relaxed);
                            acked.push((i, started.elapsed(), sent.elapsed()));
                            break;
                        }
                        Err(e) if e.class() == ErrorClass::Unavailable => {
                            refused += 1;
                            let at = u64::try_from(started.elapsed().as_nanos()).unwrap_or(0);
                            last_refusal.fetch_max(at, Ordering::Relaxed);
                            if started.elapsed() > give_up * 2 {
                                break;
                            }
                            tokio::time::sleep(Duration::from_millis(10)).await;
                        }
                        Err(_) => {
                            other += 1;
                            break;
                        }
                    }
                }
            }
            (acked, attempted, refused, other)
        }));
    }

    // Kill once enough revocations were acknowledged (or the stream is nearly done).
    while acknowledged.load(Ordering::Relaxed) < options.kill_after
        && (next.load(Ordering::Relaxed) as usize) < tokens.len()
    {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let victim_slot = 0;
    // The replication offsets at the kill: every other node first, the victim last, then the
    // kill at once (each `redis-cli` call takes a few ms, during which writes go on).
    let victim = cluster.master_of_slot(victim_slot)?;
    let mut before_raw = Vec::new();
    for port in cluster.live_ports() {
        if port == victim.port {
            continue;
        }
        if let Ok(text) = cluster.cli(port, &["INFO", "replication"]) {
            before_raw.push((port, text, started.elapsed()));
        }
    }
    if let Ok(text) = cluster.cli(victim.port, &["INFO", "replication"]) {
        before_raw.push((victim.port, text, started.elapsed()));
    }
    cluster.kill_node(victim.port)?;
    let killed = victim;
    let killed_at = started.elapsed();
    let mut after_raw = Vec::new();
    for port in cluster.live_ports() {
        if let Ok(text) = cluster.cli(port, &["INFO", "replication"]) {
            after_raw.push((port, text, started.elapsed()));
        }
    }
    let snapshots = |raw: Vec<(u16, String, Duration)>| -> Vec<ReplicationSnapshot> {
        raw.into_iter()
            .map(|(port, text, at)| parse_replication(port, &text, ms_rel(at, killed_at)))
            .collect()
    };
    let offsets_before = snapshots(before_raw);
    let offsets_after = snapshots(after_raw);
    let replica_behind_bytes = offsets_before
        .iter()
        .find(|s| s.port == killed.port)
        .and_then(|m| {
            let replica = offsets_after
                .iter()
                .find(|s| s.master_port == Some(killed.port))?;
            let got = replica
                .slave_repl_offset
                .unwrap_or(replica.master_repl_offset);
            Some(m.master_repl_offset.saturating_sub(got))
        });
    let acknowledged_before_kill = acknowledged.load(Ordering::Relaxed);
    let mut failover = None;
    let deadline = Instant::now() + options.failover_timeout;
    while failover.is_none() {
        if cluster.promoted(&killed, victim_slot) && cluster.wait_until_ok(Duration::ZERO).is_ok() {
            failover = Some(started.elapsed() - killed_at);
        } else if Instant::now() > deadline {
            return Err(anyhow!(
                "failover experiment: no replica took over from port {} within {:?}",
                killed.port,
                options.failover_timeout
            ));
        } else {
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    // Bring the killed node back (empty: persistence is off): it rejoins as a replica of its
    // successor, as an operator would restart it, so the promoted master has a replica again
    // and logouts that wait for one (`--revocation-durability replica`) can be acknowledged.
    if options.restart_killed {
        cluster.restart_node(killed.port)?;
    }

    let mut acked_all = Vec::new();
    let (mut attempted, mut refused, mut other_errors) = (0, 0, 0);
    for w in workers {
        let (acked, a, r, o) = w
            .await
            .map_err(|e| anyhow!("failover experiment: revoker task failed: {e}"))?;
        acked_all.extend(acked);
        attempted += a;
        refused += r;
        other_errors += o;
    }
    let (mut lost, mut unverified) = (0, 0);
    let mut lost_detail = Vec::new();
    let mut per_node: Vec<NodeAcks> = masters_before
        .iter()
        .map(|m| NodeAcks {
            port: m.port,
            killed: m.port == killed.port,
            before_kill: 0,
            recent: 0,
            lost: 0,
        })
        .collect();
    let users = options.users.max(1);
    let mut ack_latencies_us = Vec::with_capacity(acked_all.len());
    for &(i, at, latency) in &acked_all {
        ack_latencies_us.push(u64::try_from(latency.as_micros()).unwrap_or(u64::MAX));
        let slot = user_slots[i % users];
        let port = owner_of(slot);
        let node = per_node.iter_mut().find(|n| Some(n.port) == port);
        if let Some(node) = node
            && at <= killed_at
        {
            node.before_kill += 1;
            if killed_at - at <= RECENT_WINDOW {
                node.recent += 1;
            }
        }
        match backend.verify(&tokens[i]).await {
            Ok(_) => {
                lost += 1;
                if let Some(node) = per_node.iter_mut().find(|n| Some(n.port) == port) {
                    node.lost += 1;
                }
                lost_detail.push(LostRevocation {
                    index: i,
                    subject: identity(i).subject,
                    slot,
                    acked_by_port: port,
                    acked_at_ms: ms_rel(at, killed_at),
                });
            }
            Err(e) if e.class() == ErrorClass::Unavailable => unverified += 1,
            Err(_) => {}
        }
    }
    if options.slot_key.is_none() {
        per_node.clear();
    }
    lost_detail.sort_by(|a, b| a.acked_at_ms.total_cmp(&b.acked_at_ms));
    let mut serves_after = true;
    for u in 0..options.users.max(1) {
        let who = identity(u);
        let ok = match backend.issue(&who).await {
            Ok(c) => {
                backend.verify(&c.token).await.is_ok() && backend.revoke(&c.token).await.is_ok()
            }
            Err(_) => false,
        };
        serves_after &= ok;
    }
    let last = Duration::from_nanos(last_refusal.load(Ordering::Relaxed));
    Ok(FailoverReport {
        killed_port: killed.port,
        failover: failover.unwrap_or_default(),
        unavailable_window: last.saturating_sub(killed_at),
        attempted,
        acknowledged: acked_all.len() as u64,
        acknowledged_before_kill,
        refused,
        other_errors,
        lost,
        unverified,
        serves_after,
        offsets_before,
        offsets_after,
        replica_behind_bytes,
        lost_detail,
        per_node,
        ack_latencies_us,
    })
}
