//! `tenancy.md`: `/notes` under PostgreSQL Row Level Security beside `/me`, per backend and
//! policy, and the staleness of a tenant move.

use crate::data::{self, Run};
use crate::format::{Align, MISSING, Table, caption, div, int, ratio, short, sig3, spread, us};
use authbench_spec::record::tenancy::TenancyResult;

fn not_measured() -> String {
    caption("Multi-tenancy: not measured in this run (it predates the tenancy section)")
}

/// `<backend>-<route>` → (backend, route).
fn split(target: &str) -> (&str, &str) {
    for route in ["-notes-membership", "-notes-claims", "-me"] {
        if let Some(b) = target.strip_suffix(route) {
            return (b, &route[1..]);
        }
    }
    (target, "")
}

fn route_label(route: &str) -> &'static str {
    match route {
        "me" => "`GET /me` (no database)",
        "notes-claims" => "`GET /notes`, policy A (tenant from the credential)",
        "notes-membership" => "`GET /notes?policy=membership`, policy B (membership looked up)",
        _ => "?",
    }
}

/// `tenancy.md`.
pub fn md(run: &Run) -> String {
    let Some(t) = &run.record.tenancy else {
        return not_measured();
    };
    let mut s = caption(&format!(
        "`/notes` against `/me` on the same server (one private PostgreSQL {} shared by both servers, {} users each), closed loop, medians of {} interleaved runs [min–max]; `/notes` runs one transaction per request: claims set transaction-locally, then the policy's query; × /me = the route's p50 over `/me`'s p50 on the same server and connections",
        t.postgres_version, t.plan.users, t.plan.reps
    ));
    s.push_str(&latency_table(t).markdown());
    s.push('\n');
    s.push_str(&caption(&format!(
        "Staleness of a tenant move: {} users per case moved to another tenant through the admin route while a probe lists their notes with the credential they already hold, watched for {} s; window = the move's return to the first listing with the new tenant's rows, ms ({} = not within the watch); old rows after = listings that still showed the old tenant's rows after the move returned; the probe period is the window's resolution, ms",
        t.plan.moved,
        short(t.plan.after.as_secs_f64()),
        MISSING
    )));
    s.push_str(&staleness_table(t).markdown());
    s
}

fn latency_table(t: &TenancyResult) -> Table {
    let mut table = Table::new(&[
        ("backend", Align::Left),
        ("route", Align::Left),
        ("connections", Align::Right),
        ("requests/s", Align::Right),
        ("p50 (µs)", Align::Right),
        ("p99 (µs)", Align::Right),
        ("p50 × /me", Align::Right),
        ("server CPU/req (µs)", Align::Right),
        ("errors", Align::Right),
    ]);
    for scenario in data::scenarios(&t.http) {
        for h in t.http.iter().filter(|h| h.scenario == scenario) {
            let (backend, route) = split(&h.target);
            let me = t
                .http
                .iter()
                .find(|m| m.scenario == scenario && m.target == format!("{backend}-me"));
            let vs_me = me.map_or_else(
                || MISSING.to_owned(),
                |m| ratio(div(h.p50_us.median, m.p50_us.median)),
            );
            table.row(vec![
                backend.to_owned(),
                route_label(route).to_owned(),
                data::closed_connections(scenario)
                    .map_or_else(|| scenario.to_owned(), |c| c.to_string()),
                spread(&h.throughput_rps, int),
                spread(&h.p50_us, us),
                spread(&h.p99_us, us),
                vs_me,
                spread(&h.server_cpu_us, sig3),
                h.errors.to_string(),
            ]);
        }
    }
    table
}

fn staleness_table(t: &TenancyResult) -> Table {
    let mut table = Table::new(&[
        ("backend", Align::Left),
        ("policy", Align::Left),
        ("admin route said", Align::Left),
        ("window p50 (ms)", Align::Right),
        ("window max (ms)", Align::Right),
        ("not reflected (of moved)", Align::Right),
        ("old rows after the move", Align::Right),
        ("other answers", Align::Left),
        ("probe period (ms)", Align::Right),
    ]);
    for c in &t.staleness {
        let others = if c.other_statuses.is_empty() {
            "none".to_owned()
        } else {
            c.other_statuses
                .iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        table.row(vec![
            c.backend.clone(),
            match c.policy.as_str() {
                "claims" => "A (claims)".to_owned(),
                "membership" => "B (membership)".to_owned(),
                p => p.to_owned(),
            },
            c.admin_answer.clone(),
            c.window_ms_p50.map_or_else(|| MISSING.to_owned(), sig3),
            c.window_ms_max.map_or_else(|| MISSING.to_owned(), sig3),
            format!("{} of {}", c.not_reflected, c.moved),
            c.old_rows_after.to_string(),
            others,
            sig3(c.probe_period_ms),
        ]);
    }
    table
}
