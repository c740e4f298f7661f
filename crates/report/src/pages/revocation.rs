//! `revocation.md` and `revocation.svg`: how long a logout, a logout-everywhere and a role
//! change take to bite under load per strategy, what each strategy costs in Redis, and what
//! happens when Redis freezes.

use crate::chart::{DotChart, DotSeries, Mark, PALETTE};
use crate::data::Run;
use crate::format::{Align, MISSING, Table, caption, int, percent, ratio, short, sig3};
use anyhow::Result;
use authbench_spec::record::revocation::{
    ImmediateResult, PhaseResult, RevocationResult, StrategyResult,
};
use std::collections::BTreeMap;

/// User counts the cost table extrapolates Redis's memory to.
pub const EXTRAPOLATE_USERS: [u64; 2] = [10_000, 100_000];

/// Bytes in a MiB.
const MIB: f64 = 1024.0 * 1024.0;

/// The chart's label for a credential that never reflected the change within the phase.
pub const BEYOND_LABEL: &str = "until exp";

fn rev(run: &Run) -> &RevocationResult {
    &run.record.revocation
}

/// Phases in the order the record lists them (first appearance over the strategies).
fn phases(r: &RevocationResult) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for s in &r.strategies {
        for p in &s.phases {
            if !out.contains(&p.phase.as_str()) {
                out.push(&p.phase);
            }
        }
    }
    out
}

fn opt_ms(v: Option<f64>) -> String {
    v.map_or_else(|| MISSING.to_owned(), sig3)
}

/// Answers by status: `200: 4527, 503: 4` (statuses in text order: the record's map), or
/// `none` when nothing was answered.
fn statuses(m: &BTreeMap<String, u64>) -> String {
    if m.is_empty() {
        return "none".to_owned();
    }
    m.iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The run's phase length (seconds after the revoking call), for captions and the axis.
fn after_s(r: &RevocationResult) -> f64 {
    r.plan.after.as_secs_f64()
}

fn not_measured() -> String {
    caption("Revocation: not measured in this run (the record has no strategy)")
}

/// `revocation.md`: windows, cost, outage.
pub fn md(run: &Run) -> String {
    let r = rev(run);
    if r.strategies.is_empty() {
        return not_measured();
    }
    let plan = &r.plan;
    let mut s = caption(&format!(
        "Revocation windows under open-loop load ({} req/s on the other users' credentials), {} users per strategy, {} of them revoked per phase, each phase watched for {} s after the revoking call: window = the revoking call's return to the first answer reflecting it (401, or `/me` showing the new role), ms; {} where no credential reflected it within the phase; accepted after revoke = answers with the old facts after the return; the probe period is the window's resolution, ms; next login (logout-all rows) = a logout-all followed at once by a login, {} rounds on an idle server: the logout-all's return to the fresh credential's first 200, p50 ms, and the rounds whose fresh credential was refused at first (must be 0); {} in runs recorded before it was measured",
        short(plan.background_rps),
        plan.users,
        percent(plan.revoke_fraction),
        short(after_s(r)),
        MISSING,
        authbench_spec::record::revocation::IMMEDIATE_ATTEMPTS,
        MISSING,
    ));
    let (windows, after) = windows_tables(r);
    s.push_str(&windows.markdown());
    s.push('\n');
    s.push_str(&caption(
        "The same phases, continued: answers with the old facts after the revoking call returned, the probe period (ms), and on the logout-all rows the next login's usable p50 (ms) and refused rounds",
    ));
    s.push_str(&after.markdown());

    s.push('\n');
    s.push_str(&caption(&format!(
        "Redis memory per strategy, measured during a steady background run: `MEMORY USAGE` bytes and keys per logged-in user; change in bytes per credential revoked by logout (negative = freed); totals in MiB at {} and {} users are bytes per user × users, a linear extrapolation from the {} users measured",
        EXTRAPOLATE_USERS[0], EXTRAPOLATE_USERS[1], plan.users
    )));
    let (cost, parts) = cost_tables(r);
    s.push_str(&cost.markdown());
    s.push('\n');
    s.push_str(&caption(
        "Redis work per request of the same steady background run: round trips (commands the server sent) and commands (including those run inside scripts), and what each strategy keeps running besides the server",
    ));
    s.push_str(&parts.markdown());

    s.push('\n');
    s.push_str(&caption(
        "Redis frozen (`SIGSTOP`) under load while live and revoked credentials are presented: answers by HTTP status (`io` = transport error) while frozen and in the second after; revoked credentials accepted (2xx, during or after; must be 0: the fail-closed rule); recovery = Redis's return to the first 2xx for a live credential, ms",
    ));
    s.push_str(&outage_table(r).markdown());
    s
}

/// What the revoking call said, qualified when no probe saw it happen: a refresh strategy's
/// logout revokes the refresh family and says `revoked`, while the access token it left behind
/// keeps working until `exp`.
fn said(answer: &str, not_reflected: usize) -> String {
    let claims_done = answer.split('+').any(|a| a == "revoked" || a == "updated");
    if claims_done && not_reflected > 0 {
        format!("{answer}, yet not reflected")
    } else {
        answer.to_owned()
    }
}

/// The windows table (what was reflected, how fast) and its continuation (what got through,
/// the resolution, the next login), split so that neither scrolls sideways at 1280 px.
fn windows_tables(r: &RevocationResult) -> (Table, Table) {
    let mut t = Table::new(&[
        ("strategy", Align::Left),
        ("phase", Align::Left),
        ("the revoking call said", Align::Left),
        ("window p50 (ms)", Align::Right),
        ("window p99 (ms)", Align::Right),
        ("window max (ms)", Align::Right),
        ("not reflected (of targets)", Align::Right),
    ]);
    let mut u = Table::new(&[
        ("strategy", Align::Left),
        ("phase", Align::Left),
        ("accepted after revoke", Align::Right),
        ("probe period (ms)", Align::Right),
        ("next login usable p50 (ms)", Align::Right),
        ("next login refused (of rounds)", Align::Right),
    ]);
    for st in &r.strategies {
        for p in &st.phases {
            let next = match (p.phase.as_str(), &st.immediately_usable) {
                ("logout-all", Some(n)) => next_login(n),
                _ => [MISSING.to_owned(), MISSING.to_owned()],
            };
            let [usable, refused] = next;
            t.row(vec![
                st.strategy.clone(),
                p.phase.clone(),
                said(&p.server_answer, p.not_reflected),
                opt_ms(p.window_ms_p50),
                opt_ms(p.window_ms_p99),
                opt_ms(p.window_ms_max),
                format!("{} of {}", p.not_reflected, p.targets),
            ]);
            u.row(vec![
                st.strategy.clone(),
                p.phase.clone(),
                p.accepted_after.to_string(),
                sig3(p.probe_period_ms),
                usable,
                refused,
            ]);
        }
        if st.phases.is_empty() {
            t.row(vec![st.strategy.clone(), "no phase recorded".into()]);
            u.row(vec![st.strategy.clone(), "no phase recorded".into()]);
        }
    }
    (t, u)
}

/// The two next-login cells: usable p50, and refused of rounds (bold when not 0: a login
/// after "log out everywhere" must work at once).
fn next_login(n: &ImmediateResult) -> [String; 2] {
    let refused = if n.failures == 0 {
        format!("0 of {}", n.attempts)
    } else {
        format!(
            "**{} of {}: dead on arrival** ({} never within 2 s)",
            n.failures, n.attempts, n.never_usable
        )
    };
    [opt_ms(n.usable_ms_p50), refused]
}

/// Redis memory per strategy, and the per-request cost with each strategy's moving parts (split
/// so that neither scrolls sideways at 1280 px).
fn cost_tables(r: &RevocationResult) -> (Table, Table) {
    let total = |users: u64| format!("Redis at {users} users (MiB)");
    let (t10, t100) = (total(EXTRAPOLATE_USERS[0]), total(EXTRAPOLATE_USERS[1]));
    let mut t = Table::new(&[
        ("strategy", Align::Left),
        ("Redis bytes per user", Align::Right),
        ("Redis keys per user", Align::Right),
        ("bytes per revoked credential", Align::Right),
        (t10.as_str(), Align::Right),
        (t100.as_str(), Align::Right),
    ]);
    let mut parts = Table::new(&[
        ("strategy", Align::Left),
        ("Redis round trips per request", Align::Right),
        ("Redis commands per request", Align::Right),
        ("moving parts", Align::Left),
    ]);
    for st in &r.strategies {
        let mut row = vec![
            st.strategy.clone(),
            int(st.redis_bytes_per_user),
            ratio(st.redis_keys_per_user),
            int(st.redis_bytes_per_revoked),
        ];
        for users in EXTRAPOLATE_USERS {
            row.push(sig3(st.redis_bytes_per_user * users as f64 / MIB));
        }
        t.row(row);
        parts.row(vec![
            st.strategy.clone(),
            ratio(st.redis_round_trips_per_request),
            ratio(st.redis_commands_per_request),
            st.moving_parts.clone(),
        ]);
    }
    (t, parts)
}

fn outage_table(r: &RevocationResult) -> Table {
    let mut t = Table::new(&[
        ("strategy", Align::Left),
        ("Redis frozen (s)", Align::Right),
        ("answers while frozen, by status", Align::Left),
        ("answers in the second after, by status", Align::Left),
        ("revoked credentials accepted", Align::Right),
        ("recovery (ms)", Align::Right),
    ]);
    for st in &r.strategies {
        let o = &st.outage;
        t.row(vec![
            st.strategy.clone(),
            format!("{:.2}", o.frozen_s + 0.0),
            statuses(&o.during),
            statuses(&o.after),
            if o.accepted_revoked == 0 {
                "0".to_owned()
            } else {
                format!("**{}: fail-closed broken**", o.accepted_revoked)
            },
            opt_ms(o.recovery_ms),
        ]);
    }
    t
}

/// The colour of a phase in the chart (never a configuration's colour in the other charts'
/// sense: the rows are the strategies).
fn phase_color(phase: &str, index: usize) -> plotters::style::RGBColor {
    match phase {
        "logout" => PALETTE[1],
        "logout-all" => PALETTE[4],
        "role-change" => PALETTE[2],
        _ => PALETTE[(index + 5) % PALETTE.len()],
    }
}

fn marks(p: &PhaseResult) -> Vec<Mark> {
    let mut out = Vec::new();
    if let Some(value) = p.window_ms_p50 {
        out.push(Mark::At {
            value,
            range: p.window_ms_max.map(|max| (value, max)),
            tick: p.window_ms_p99,
        });
    }
    if p.not_reflected > 0 {
        out.push(Mark::Beyond);
    }
    out
}

fn phase_of<'a>(st: &'a StrategyResult, phase: &str) -> Option<&'a PhaseResult> {
    st.phases.iter().find(|p| p.phase == phase)
}

/// `revocation.svg`: per strategy (rows) and phase (colour), the window's p50 as a dot, a line
/// to its maximum with a tick at p99, on a log ms axis that ends at the phase length; a
/// credential that never reflected the change within the phase is a triangle in the
/// `until exp` column beyond the axis.
pub fn svg(run: &Run) -> Result<String> {
    let r = rev(run);
    let title = "Revocation window under load, per strategy and phase";
    if r.strategies.is_empty() {
        return crate::chart::empty(title, "no revocation measurement in this run");
    }
    let windows = r
        .strategies
        .iter()
        .flat_map(|s| &s.phases)
        .flat_map(|p| [p.window_ms_p50, p.window_ms_p99, p.window_ms_max])
        .flatten()
        .filter(|v| v.is_finite() && *v > 0.0);
    let (lo, hi) = windows.fold((f64::INFINITY, 0.0f64), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    let after_ms = after_s(r) * 1e3;
    let hi = hi.max(after_ms);
    let lo = if lo.is_finite() { lo.min(1.0) } else { 1.0 };
    let series = phases(r)
        .into_iter()
        .enumerate()
        .map(|(i, phase)| DotSeries {
            name: phase.to_owned(),
            color: phase_color(phase, i),
            marks: r
                .strategies
                .iter()
                .map(|s| phase_of(s, phase).map(marks).unwrap_or_default())
                .collect(),
        })
        .collect();
    DotChart {
        title: title.into(),
        rows: r.strategies.iter().map(|s| s.strategy.clone()).collect(),
        y_desc: "strategy".into(),
        x_desc: format!(
            "window: revoking call's return to the first answer reflecting it (ms, log scale; watched for {} s)",
            short(after_s(r))
        ),
        lo,
        hi,
        beyond_label: BEYOND_LABEL.into(),
        series,
        range_label: Some("p50, p99 tick, line to max".into()),
        beyond_legend: Some(format!("not reflected within {} s", short(after_s(r)))),
    }
    .svg()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phase(p50: Option<f64>, not_reflected: usize) -> PhaseResult {
        PhaseResult {
            phase: "logout".into(),
            targets: 4,
            server_answer: "revoked".into(),
            window_ms_p50: p50,
            window_ms_p99: p50.map(|v| v * 2.0),
            window_ms_max: p50.map(|v| v * 3.0),
            not_reflected,
            accepted_after: 0,
            probe_period_ms: 1.0,
        }
    }

    #[test]
    fn never_reflected_credentials_are_marked_beyond_the_axis() {
        assert_eq!(
            marks(&phase(Some(1.0), 0)),
            [Mark::At {
                value: 1.0,
                range: Some((1.0, 3.0)),
                tick: Some(2.0)
            }]
        );
        assert_eq!(marks(&phase(None, 4)), [Mark::Beyond]);
        // Some reflected, some not: both.
        assert_eq!(marks(&phase(Some(1.0), 1)).len(), 2);
    }

    #[test]
    fn next_login_failures_are_flagged() {
        let mut n = ImmediateResult {
            attempts: 50,
            failures: 0,
            never_usable: 0,
            usable_ms_p50: Some(1.25),
            usable_ms_p99: Some(2.0),
            usable_ms_max: Some(3.0),
        };
        assert_eq!(next_login(&n), ["1.25".to_owned(), "0 of 50".to_owned()]);
        n.failures = 50;
        n.never_usable = 50;
        n.usable_ms_p50 = None;
        let [usable, refused] = next_login(&n);
        assert_eq!(usable, MISSING);
        assert!(refused.contains("50 of 50: dead on arrival"), "{refused}");
    }

    #[test]
    fn statuses_in_record_order() {
        let m: BTreeMap<String, u64> = [("503".into(), 4), ("200".into(), 1), ("io".into(), 2)]
            .into_iter()
            .collect();
        assert_eq!(statuses(&m), "200: 1, 503: 4, io: 2");
        assert_eq!(statuses(&BTreeMap::new()), "none");
    }
}
