//! Beyond one machine, as `run.json` keeps it: Redis Cluster against a single node, several
//! instances, key rotation, failover (`authbench compare`'s `scale` module describes and runs
//! them).

use super::HttpSummary;
use super::http::HttpRun;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// How much of the section to run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScalePlan {
    /// Users seeded on each server.
    pub users: usize,
    /// Repetitions of every HTTP run, interleaved.
    pub reps: usize,
    /// Connection counts of the closed-loop runs.
    pub connections: Vec<usize>,
    /// Measured length of one HTTP run.
    #[serde(with = "crate::record::secs_f64")]
    pub duration: Duration,
    /// Unrecorded warm-up before each run.
    #[serde(with = "crate::record::secs_f64")]
    pub warmup: Duration,
    /// Server instances in the multi-instance runs.
    pub instances: usize,
    /// Tokens checked on every instance before and after the rotation.
    pub rotation_tokens: usize,
    /// Credentials issued and revoked in each failover experiment.
    pub failover_credentials: usize,
    /// The master is killed once this many revocations were acknowledged.
    pub failover_kill_after: u64,
    /// Backends put through the failover (`session`, `jwt-denylist`).
    pub failover_backends: Vec<String>,
}

/// The rotation, as the instances saw it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RotationRecord {
    /// `kid`s in the issuer's JWKS before the rotation.
    pub kids_before: Vec<String>,
    /// `kid` the issuer signs with after it.
    pub new_kid: String,
    /// `kid`s in the issuer's JWKS right after it (old and new).
    pub kids_after: Vec<String>,
    /// Unix second from which the old key leaves the JWKS (its last token's expiry).
    pub old_published_until: u64,
    /// Tokens signed before the rotation, checked on each instance after it.
    pub old_tokens: usize,
    /// Of those, answered 200, per instance (`issuer`, `verifier1` …).
    pub old_accepted: Vec<(String, usize)>,
    /// Tokens signed after the rotation (with the new `kid`), checked on each instance.
    pub new_tokens: usize,
    /// Of those, answered 200, per instance.
    pub new_accepted: Vec<(String, usize)>,
    /// Whether every new token's header named the new `kid`.
    pub new_tokens_carry_new_kid: bool,
    /// `--jwks-refresh-interval` of the verifiers, seconds.
    pub verifier_refresh_interval_s: u64,
    /// Answers to the new tokens per instance, by status (`"200"`, `"401"` …).
    pub new_statuses: Vec<(String, std::collections::BTreeMap<String, usize>)>,
    /// Per verifier: the first request with a new-`kid` token (it refetches the JWKS), ms.
    pub first_new_kid_ms: Vec<(String, f64)>,
    /// Per verifier: the median of the following new-token requests, ms.
    pub later_new_kid_ms: Vec<(String, f64)>,
    /// After the rotation: the signing key revoked as compromised (`POST /admin/keys/revoke`),
    /// and how long each instance went on accepting its tokens. Absent in runs before it
    /// existed.
    #[serde(default)]
    pub key_revocation: Option<KeyRevocationRecord>,
    /// The same rotation seen by a verifier whose JWKS cache is as fresh as it can be, without
    /// and with the next key pre-published (one record per issuer `--key-prepublish`). Empty in
    /// runs before it existed.
    #[serde(default)]
    pub fresh_verifier: Vec<FreshVerifierRecord>,
}

/// A rotation against a verifier that fetched the JWKS just before it: the verifier starts
/// (its start-up fetch), the issuer rotates at once, and the first token of the new key is
/// presented to the verifier every [`REVOKE_PROBE_MS`] ms until it is accepted. The verifier
/// may refetch on an unknown `kid` only once its refresh interval has passed since that fetch,
/// so without pre-publishing it refuses the new key's tokens until then (the gap); with the
/// next key in the JWKS `--key-prepublish` seconds before it signs, it already holds the key.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FreshVerifierRecord {
    /// The issuer's `--key-prepublish`, seconds (0: the new key signs at once).
    pub prepublish_s: u64,
    /// The verifier's `--jwks-refresh-interval`, seconds.
    pub verifier_refresh_interval_s: u64,
    /// From the rotate answer to the first token of the new key, ms (the pre-publish wait).
    pub first_new_token_after_ms: f64,
    /// New-key requests sent to the verifier until it accepted one (or the deadline).
    pub presented: u64,
    /// Of those, refused (any answer but 200).
    pub refused: u64,
    /// Answers by status (`"200"`, `"401"` …).
    pub statuses: std::collections::BTreeMap<String, u64>,
    /// From the first new-key request until the verifier accepted one, ms; `None` when it had
    /// not by the deadline ([`fresh_verifier_deadline`]).
    pub accepted_after_ms: Option<f64>,
}

/// How long the fresh-verifier rotation sends a new-key token to a verifier with refresh
/// interval `interval_s` before it gives up: twice the interval, by when the verifier may
/// refetch in any case.
pub fn fresh_verifier_deadline(interval_s: u64) -> Duration {
    Duration::from_secs(2 * interval_s)
}

/// One node's replication state (`INFO replication`), taken around the kill. Parsed by
/// `authbench_services::parse_replication`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplicationSnapshot {
    /// The node's port.
    pub port: u16,
    /// `master` or `slave`, as `INFO replication` says.
    pub role: String,
    /// For a replica: the port of the master it replicates.
    pub master_port: Option<u16>,
    /// `master_repl_offset`: bytes of replication stream this node has produced (a master) or
    /// processed (a replica).
    pub master_repl_offset: u64,
    /// `slave_repl_offset` (replicas only): bytes of its master's stream it has processed.
    pub slave_repl_offset: Option<u64>,
    /// For a master: each connected replica's acknowledged offset (`slaveN:…offset=`), as the
    /// master last heard it (replicas acknowledge once a second, or when a `WAIT` asks):
    /// `(replica port, offset)`.
    pub replica_acked_offsets: Vec<(u16, u64)>,
    /// When it was taken, ms relative to the kill (negative: before).
    pub at_ms: f64,
}

/// One acknowledged revocation that the failover lost.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LostRecord {
    /// Position in the stream of logouts.
    pub index: usize,
    /// The credential's subject.
    pub subject: String,
    /// The hash slot of the subject's keys.
    pub slot: Option<u16>,
    /// The master that served the slot (and acknowledged the write).
    pub acked_by_port: Option<u16>,
    /// When it was acknowledged, ms relative to the kill (negative: before).
    pub acked_at_ms: f64,
}

/// Acknowledged revocations per master.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NodeAcksRecord {
    /// The master's port.
    pub port: u16,
    /// Whether it is the master that was killed.
    pub killed: bool,
    /// Acknowledged before the kill.
    pub before_kill: u64,
    /// Of those, in the last 100 ms before the kill.
    pub recent: u64,
    /// Of those, lost.
    pub lost: u64,
}

/// The issuer's signing key revoked as compromised, as the instances saw it.
///
/// At `t = 0` the revoke answer arrives. Then, every [`REVOKE_PROBE_MS`] ms until a deadline,
/// each instance still accepting is sent the token of the revoked key and, while that is still
/// a 200, a token of the replacement key (clients logging in again, as every holder of a
/// revoked token must): the replacement key's `kid` is unknown to a verifier, so it refetches
/// the JWKS as soon as its refresh interval allows, and that fetch drops the revoked key.
/// Without any new-key token a verifier would drop it at its `max-age` refresh instead.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeyRevocationRecord {
    /// The `kid` revoked (the signing key at the time).
    pub revoked_kid: String,
    /// The `kid` the issuer signs with afterwards (a fresh key).
    pub new_signing_kid: String,
    /// `kid`s in the issuer's JWKS right after (the revoked one must be gone).
    pub kids_after: Vec<String>,
    /// Per instance (`issuer`, `verifier1` …): from the revoke answer until the first 401 to
    /// the revoked key's token, ms; `None` if it was still accepted at the deadline.
    pub refused_after_ms: Vec<(String, Option<f64>)>,
    /// Per instance: requests with the revoked key's token answered 200 after the revoke.
    pub accepted_after_revoke: Vec<(String, usize)>,
    /// Per instance: whether a token of the replacement key was accepted at the end.
    pub fresh_login_accepted: Vec<(String, bool)>,
    /// `--jwks-refresh-interval` of the verifiers, seconds (the bound with new-key tokens).
    pub verifier_refresh_interval_s: u64,
    /// `--jwks-max-age` of the verifiers, seconds (the bound without any).
    pub verifier_max_age_s: u64,
    /// How long the probes went on at most, ms.
    pub deadline_ms: f64,
}

/// Pause between two probe rounds of the key-revocation measurement, ms.
pub const REVOKE_PROBE_MS: u64 = 20;

/// One failover experiment, as `authbench compare`'s failover experiment reported it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FailoverRecord {
    /// `session` or `jwt-denylist`.
    pub backend: String,
    /// `--revocation-durability`: `none` or `replica` (absent in runs before it existed:
    /// `none`).
    #[serde(default = "durability_none")]
    pub durability: String,
    /// Masters and replicas per master.
    pub masters: usize,
    /// Replicas per master.
    pub replicas_per_master: usize,
    /// `cluster-node-timeout`, ms: the bulk of the failover time.
    pub node_timeout_ms: u64,
    /// From the kill until the replica was promoted and the cluster said `ok`, ms.
    pub failover_ms: f64,
    /// From the kill until the last refused revocation, ms.
    pub unavailable_window_ms: f64,
    /// Revocations attempted (refused ones retried after the failover).
    pub attempted: u64,
    /// Revocations acknowledged.
    pub acknowledged: u64,
    /// Revocations refused (fail closed: the client knows its logout did not happen).
    pub refused: u64,
    /// Refusals of any other kind (a bug if not 0).
    pub other_errors: u64,
    /// Acknowledged revocations whose credential verified again after the failover.
    pub lost: u64,
    /// Acknowledged revocations that could not be checked afterwards.
    pub unverified: u64,
    /// Fresh credentials issued, verified and revoked on every user after the failover.
    pub serves_after: bool,
    /// Median latency of an acknowledged revocation (the backend's `revoke`, what `/logout`
    /// waits for), ms.
    #[serde(default)]
    pub logout_p50_ms: f64,
    /// 99th percentile of the same, ms.
    #[serde(default)]
    pub logout_p99_ms: f64,
    /// Port of the killed master.
    #[serde(default)]
    pub killed_port: u16,
    /// The killed master's last `master_repl_offset` minus its replica's offset after the
    /// kill: replication stream bytes the promoted replica never got (a lower bound).
    #[serde(default)]
    pub replica_behind_bytes: Option<u64>,
    /// Every node's replication offsets just before the kill (the victim's read last).
    #[serde(default)]
    pub offsets_before: Vec<ReplicationSnapshot>,
    /// The survivors' offsets just after the kill.
    #[serde(default)]
    pub offsets_after: Vec<ReplicationSnapshot>,
    /// Every lost revocation: which node acknowledged it, and when.
    #[serde(default)]
    pub lost_detail: Vec<LostRecord>,
    /// Acknowledged revocations per master, before the kill.
    #[serde(default)]
    pub per_node: Vec<NodeAcksRecord>,
}

fn durability_none() -> String {
    "none".to_owned()
}

/// The section's result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScaleResult {
    /// The plan.
    pub plan: ScalePlan,
    /// Masters of the measured cluster.
    pub cluster_masters: usize,
    /// Whether the cluster was private (started by the run) or `--redis-cluster`.
    pub cluster_private: bool,
    /// Each server's `serve` arguments (URLs redacted).
    pub servers: Vec<(String, Vec<String>)>,
    /// Every HTTP run: `session-single`, `session-cluster`, `session-x1`, `session-xN`,
    /// `jwt-ES256-x1`, `jwt-ES256-xN`.
    pub runs: Vec<HttpRun>,
    /// Medians and ranges per target and scenario.
    pub http: Vec<HttpSummary>,
    /// The key rotation.
    pub rotation: RotationRecord,
    /// The failover experiments.
    pub failover: Vec<FailoverRecord>,
}
