//! `scale.md`: sessions on a Redis Cluster against one Redis, one server instance against
//! several, a JWT issuer's key rotation as its verifier-only instances saw it, and a Redis
//! Cluster failover under a stream of logouts.

use crate::data::{self, Run};
use crate::format::{Align, MISSING, Table, caption, div, int, ratio, sig3, spread, us};
use authbench_spec::record::HttpSummary;
use authbench_spec::record::scale::ScaleResult;

fn not_measured() -> String {
    caption("Scale-out: not measured in this run (it predates the scale section)")
}

fn find<'a>(s: &'a ScaleResult, target: &str, scenario: &str) -> Option<&'a HttpSummary> {
    s.http
        .iter()
        .find(|h| h.target == target && h.scenario == scenario)
}

fn connections(scenario: &str) -> String {
    data::closed_connections(scenario).map_or_else(|| scenario.to_owned(), |c| c.to_string())
}

/// `scale-cluster.md`: session `/me` on one Redis and on a Redis Cluster.
pub fn cluster_md(run: &Run) -> String {
    let Some(s) = &run.record.scale else {
        return not_measured();
    };
    let mut out = caption(&format!(
        "Session `/me` against one Redis and against a {}-master Redis Cluster ({}), closed loop, medians of {} interleaved runs [min–max]; × single = cluster over single node, same connections; server CPU per request in µs",
        s.cluster_masters,
        if s.cluster_private {
            "private, on this machine"
        } else {
            "given with --redis-cluster"
        },
        s.plan.reps
    ));
    out.push_str(&cluster_table(s).markdown());
    out
}

/// `scale-instances.md`: one server instance against several.
pub fn instances_md(run: &Run) -> String {
    let Some(s) = &run.record.scale else {
        return not_measured();
    };
    let mut out = caption(&format!(
        "One server instance against {} behind the load generator (connections spread round robin), `/me`, closed loop, medians of {} interleaved runs [min–max]; sessions: every instance on the same Redis; JWT: the issuer plus verifier-only instances holding no signing key (`--jwks-url`); × one instance = requests per second over the single instance's; server CPU per request summed over the instances, µs",
        s.plan.instances, s.plan.reps
    ));
    out.push_str(&instances_table(s).markdown());
    out
}

/// `scale-rotation.md`: the issuer's key rotation as every instance saw it.
pub fn rotation_page(run: &Run) -> String {
    match &run.record.scale {
        Some(s) => rotation_md(s),
        None => not_measured(),
    }
}

/// `scale-failover.md`: a Redis Cluster failover under logouts.
pub fn failover_md(run: &Run) -> String {
    let Some(s) = &run.record.scale else {
        return not_measured();
    };
    let mut out = caption(
        "Redis Cluster failover under logouts: 3 masters with a replica each; revocations (logouts) stream through the backend while the master serving slot 0 is killed; refused = fail-closed answers the client saw (its logout did not happen, and it knows); lost = logouts acknowledged that no longer hold after the replica took over (the credential verifies again); failover = kill to `cluster_state:ok`, ms; durability = `--revocation-durability` (`replica`: each logout waits for a replica's `WAIT 1` before it is acknowledged, and is refused when none confirms); `/logout` p50/p99 = latency of the acknowledged revocations (the backend's `revoke`), ms",
    );
    out.push_str(&failover_table(s).markdown());
    out.push('\n');
    out.push_str(&caption(
        "Evidence at the kill, per experiment: the killed master's replication offset (read just before `SIGKILL`), what its replica had processed (read just after: all the promoted replica ever got), the master's last view of the replica's acknowledged offset, and where the lost logouts were acknowledged (node, and when relative to the kill, ms; negative = before). A replica at offset 0 never completed its first full sync: the node that took over had none of the master's data",
    ));
    out.push_str(&evidence_table(s).markdown());
    out
}

/// `—` for a latency a run did not record (0).
fn ms_or_dash(ms: f64) -> String {
    if ms > 0.0 { sig3(ms) } else { "—".to_owned() }
}

/// `—` for a missing number.
fn opt(v: Option<u64>) -> String {
    v.map_or_else(|| "—".to_owned(), |n| n.to_string())
}

fn evidence_table(s: &ScaleResult) -> Table {
    let mut t = Table::new(&[
        ("backend", Align::Left),
        ("durability", Align::Left),
        ("killed master offset", Align::Right),
        ("its replica's offset after the kill", Align::Right),
        ("replica acked (master's view)", Align::Right),
        ("stream the replica never got (bytes)", Align::Right),
        ("lost on the killed master", Align::Right),
        ("lost on other masters", Align::Right),
        ("lost: acknowledged from … to … (ms, kill = 0)", Align::Left),
    ]);
    for f in &s.failover {
        let master = f.offsets_before.iter().find(|o| o.port == f.killed_port);
        let replica = f
            .offsets_after
            .iter()
            .find(|o| o.master_port == Some(f.killed_port));
        let on_killed = f
            .lost_detail
            .iter()
            .filter(|l| l.acked_by_port == Some(f.killed_port))
            .count();
        let when = if f.lost_detail.is_empty() {
            "—".to_owned()
        } else {
            let lo = f
                .lost_detail
                .iter()
                .map(|l| l.acked_at_ms)
                .fold(f64::INFINITY, f64::min);
            let hi = f
                .lost_detail
                .iter()
                .map(|l| l.acked_at_ms)
                .fold(f64::NEG_INFINITY, f64::max);
            format!("{} … {}", sig3(lo), sig3(hi))
        };
        t.row(vec![
            f.backend.clone(),
            f.durability.clone(),
            opt(master.map(|m| m.master_repl_offset)),
            opt(replica.and_then(|r| r.slave_repl_offset)),
            opt(master.and_then(|m| m.replica_acked_offsets.first().map(|&(_, o)| o))),
            opt(f.replica_behind_bytes),
            on_killed.to_string(),
            (f.lost_detail.len() - on_killed).to_string(),
            when,
        ]);
    }
    t
}

fn cluster_table(s: &ScaleResult) -> Table {
    let mut t = Table::new(&[
        ("Redis", Align::Left),
        ("connections", Align::Right),
        ("requests/s", Align::Right),
        ("p50 (µs)", Align::Right),
        ("p99 (µs)", Align::Right),
        ("p50 × single", Align::Right),
        ("server CPU/req (µs)", Align::Right),
        ("errors", Align::Right),
    ]);
    for scenario in data::scenarios(&s.http) {
        let single = find(s, "session-single", scenario);
        for (target, label) in [
            ("session-single", "single node"),
            ("session-cluster", "cluster"),
        ] {
            if let Some(h) = find(s, target, scenario) {
                t.row(vec![
                    label.to_owned(),
                    connections(scenario),
                    spread(&h.throughput_rps, int),
                    spread(&h.p50_us, us),
                    spread(&h.p99_us, us),
                    single.map_or_else(
                        || MISSING.to_owned(),
                        |x| ratio(div(h.p50_us.median, x.p50_us.median)),
                    ),
                    spread(&h.server_cpu_us, sig3),
                    h.errors.to_string(),
                ]);
            }
        }
    }
    t
}

fn instances_table(s: &ScaleResult) -> Table {
    let mut t = Table::new(&[
        ("backend", Align::Left),
        ("instances", Align::Right),
        ("connections", Align::Right),
        ("requests/s", Align::Right),
        ("× one instance", Align::Right),
        ("p50 (µs)", Align::Right),
        ("p99 (µs)", Align::Right),
        ("server CPU/req (µs)", Align::Right),
        ("errors", Align::Right),
    ]);
    let n = s.plan.instances;
    for backend in ["session", "jwt-ES256"] {
        for scenario in data::scenarios(&s.http) {
            let one = find(s, &format!("{backend}-x1"), scenario);
            for k in [1, n] {
                if let Some(h) = find(s, &format!("{backend}-x{k}"), scenario) {
                    t.row(vec![
                        backend.to_owned(),
                        k.to_string(),
                        connections(scenario),
                        spread(&h.throughput_rps, int),
                        one.map_or_else(
                            || MISSING.to_owned(),
                            |x| ratio(div(h.throughput_rps.median, x.throughput_rps.median)),
                        ),
                        spread(&h.p50_us, us),
                        spread(&h.p99_us, us),
                        spread(&h.server_cpu_us, sig3),
                        h.errors.to_string(),
                    ]);
                }
            }
        }
    }
    t
}

fn rotation_md(s: &ScaleResult) -> String {
    let r = &s.rotation;
    let mut out = caption(&format!(
        "Key rotation on the JWT issuer (`POST /admin/keys/rotate`) with {} verifier-only instance(s) fetching its JWKS (refetch on an unknown `kid` at most once per {} s): the JWKS went from {} to {} key(s); every new token names the new `kid`: {}; the old key stays published until {} (its last token's expiry); tokens checked on each instance right after the rotation",
        s.plan.instances.saturating_sub(1),
        r.verifier_refresh_interval_s,
        r.kids_before.len(),
        r.kids_after.len(),
        if r.new_tokens_carry_new_kid {
            "yes"
        } else {
            "NO"
        },
        crate::format::utc(r.old_published_until),
    ));
    let mut t = Table::new(&[
        ("instance", Align::Left),
        ("old tokens accepted", Align::Right),
        ("new tokens accepted", Align::Right),
        ("answers to new tokens", Align::Left),
        ("first new-kid request (ms)", Align::Right),
        ("later new-kid requests, median (ms)", Align::Right),
    ]);
    for (name, old) in &r.old_accepted {
        let new = r
            .new_accepted
            .iter()
            .find(|(n, _)| n == name)
            .map_or(0, |(_, k)| *k);
        let statuses =
            r.new_statuses
                .iter()
                .find(|(n, _)| n == name)
                .map_or_else(String::new, |(_, m)| {
                    m.iter()
                        .map(|(k, v)| format!("{k}: {v}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                });
        let ms = |v: &[(String, f64)]| {
            v.iter()
                .find(|(n, _)| n == name)
                .map_or_else(|| MISSING.to_owned(), |(_, x)| sig3(*x))
        };
        t.row(vec![
            name.clone(),
            format!("{old} of {}", r.old_tokens),
            format!("{new} of {}", r.new_tokens),
            statuses,
            ms(&r.first_new_kid_ms),
            ms(&r.later_new_kid_ms),
        ]);
    }
    out.push_str(&t.markdown());
    if let Some(k) = &r.key_revocation {
        out.push('\n');
        out.push_str(&key_revocation_md(k));
    }
    if !r.fresh_verifier.is_empty() {
        out.push('\n');
        out.push_str(&fresh_verifier_md(&r.fresh_verifier));
    }
    out
}

/// The rotation seen by a verifier whose JWKS cache was as fresh as it can be, without and
/// with the next key pre-published.
fn fresh_verifier_md(records: &[authbench_spec::record::scale::FreshVerifierRecord]) -> String {
    use authbench_spec::record::scale::{REVOKE_PROBE_MS, fresh_verifier_deadline};
    let interval = records.first().map_or(0, |r| r.verifier_refresh_interval_s);
    let mut out = caption(&format!(
        "A rotation against a verifier whose JWKS cache is as fresh as it can be: a new issuer and a verifier-only instance start (the verifier fetches the JWKS at start-up), the issuer rotates at once, and the first token of the new key is sent to the verifier every {REVOKE_PROBE_MS} ms until it is accepted (at most {} s); the verifier may refetch on an unknown `kid` only once its refresh interval ({interval} s) has passed since its last fetch. Pre-publish = the issuer's `--key-prepublish`: the new key is in the JWKS that many seconds before it signs",
        fresh_verifier_deadline(interval).as_secs(),
    ));
    let mut t = Table::new(&[
        ("pre-publish (s)", Align::Right),
        ("first new-key token after the rotation (ms)", Align::Right),
        ("new-key requests refused", Align::Right),
        ("answers", Align::Left),
        ("verifier accepted the new key after (ms)", Align::Right),
    ]);
    for r in records {
        t.row(vec![
            r.prepublish_s.to_string(),
            sig3(r.first_new_token_after_ms),
            format!("{} of {}", r.refused, r.presented),
            r.statuses
                .iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect::<Vec<_>>()
                .join(", "),
            r.accepted_after_ms
                .map_or_else(|| "not by the deadline".to_owned(), sig3),
        ]);
    }
    out.push_str(&t.markdown());
    out
}

/// The signing key revoked as compromised: how long each instance went on accepting it.
fn key_revocation_md(k: &authbench_spec::record::scale::KeyRevocationRecord) -> String {
    use authbench_spec::record::scale::REVOKE_PROBE_MS;
    let mut out = caption(&format!(
        "Then the signing key was revoked as compromised (`POST /admin/keys/revoke`): the issuer signs with a fresh key and its JWKS went to {} key(s), the revoked `kid` {}; verifiers drop the key at their next JWKS fetch, which a token of the fresh key (a client logging in again) causes once their refresh interval ({} s) allows, or their `max-age` refresh ({} s) if no such token comes; probed every {REVOKE_PROBE_MS} ms for at most {} s",
        k.kids_after.len(),
        if k.kids_after.contains(&k.revoked_kid) {
            "STILL PUBLISHED"
        } else {
            "gone"
        },
        k.verifier_refresh_interval_s,
        k.verifier_max_age_s,
        sig3(k.deadline_ms / 1e3),
    ));
    let mut t = Table::new(&[
        ("instance", Align::Left),
        ("revoked key refused after (ms)", Align::Right),
        ("revoked-key requests still accepted", Align::Right),
        ("fresh login accepted", Align::Left),
    ]);
    for (name, ms) in &k.refused_after_ms {
        let accepted = k
            .accepted_after_revoke
            .iter()
            .find(|(n, _)| n == name)
            .map_or(0, |(_, c)| *c);
        let fresh = k
            .fresh_login_accepted
            .iter()
            .find(|(n, _)| n == name)
            .is_some_and(|(_, ok)| *ok);
        t.row(vec![
            name.clone(),
            ms.map_or_else(|| "not by the deadline".to_owned(), sig3),
            accepted.to_string(),
            if fresh { "yes" } else { "NO" }.to_owned(),
        ]);
    }
    out.push_str(&t.markdown());
    out
}

fn failover_table(s: &ScaleResult) -> Table {
    let mut t = Table::new(&[
        ("backend", Align::Left),
        ("durability", Align::Left),
        ("`/logout` p50 (ms)", Align::Right),
        ("`/logout` p99 (ms)", Align::Right),
        ("failover (ms)", Align::Right),
        ("logouts refused until (ms after the kill)", Align::Right),
        ("attempted", Align::Right),
        ("acknowledged", Align::Right),
        ("refused (fail closed)", Align::Right),
        ("lost after failover", Align::Right),
        ("unverified", Align::Right),
        ("other errors", Align::Right),
        ("serves after", Align::Left),
    ]);
    for f in &s.failover {
        t.row(vec![
            f.backend.clone(),
            f.durability.clone(),
            // Runs before the latency was recorded have 0: not measured.
            ms_or_dash(f.logout_p50_ms),
            ms_or_dash(f.logout_p99_ms),
            sig3(f.failover_ms),
            sig3(f.unavailable_window_ms),
            f.attempted.to_string(),
            f.acknowledged.to_string(),
            f.refused.to_string(),
            f.lost.to_string(),
            f.unverified.to_string(),
            f.other_errors.to_string(),
            if f.serves_after { "yes" } else { "no" }.to_owned(),
        ]);
    }
    t
}
