//! `peers.md`: each of our backends beside the off-the-shelf stack a team would install instead
//! (the `baseline-*` targets of the run), same machine, same load generator, same run.

use crate::data::{self, Run};
use crate::format::{Align, MISSING, Table, caption, div, int, ratio, spread, us};
use authbench_spec::record::HttpSummary;
use authbench_spec::record::stats::Spread;

/// `(ours, the peer, what the peer is, what ours checks that the peer does not)`.
pub(crate) const PAIRS: [(&str, &str, &str, &str); 7] = [
    (
        "healthz",
        "baseline-plain-axum",
        "`axum::serve`, one route",
        "the same route behind our server's limits (header read timeout, body caps, `no-store`)",
    ),
    (
        "session",
        "baseline-tower-sessions",
        "tower-sessions + its Redis store, default expiry (one `GET`)",
        "idle and absolute timeouts, hashed keys, log out everywhere",
    ),
    (
        "session",
        "baseline-tower-sessions-inactivity",
        "tower-sessions + its Redis store, `OnInactivity` (`GET` + `SET`)",
        "an absolute timeout too, hashed keys, log out everywhere; one round trip, not two",
    ),
    (
        "jwt-HS256",
        "baseline-axum-jwt-HS256",
        "axum `examples/jwt`: `decode` with `Validation::default()`",
        "`nbf`, `iat`, `iss`, `aud`, `typ`, `crit`, size cap, `kid`",
    ),
    (
        "jwt-ES256",
        "baseline-axum-jwt-ES256",
        "axum `examples/jwt` with `Validation::new(ES256)`",
        "`nbf`, `iat`, `iss`, `aud`, `typ`, `crit`, size cap, `kid`",
    ),
    (
        "jwt-HS256",
        "baseline-axum-jwt-HS256-our-claims",
        "control: the HS256 example's code carrying our claims and `/me` answer",
        "`iat`, `typ`, `crit`, size cap, `kid` (the same bytes on the wire)",
    ),
    (
        "jwt-ES256",
        "baseline-axum-jwt-ES256-our-claims",
        "control: the ES256 example's code carrying our claims and `/me` answer",
        "`iat`, `typ`, `crit`, size cap, `kid` (the same bytes on the wire)",
    ),
];

/// Server + Redis CPU per request (Redis only where the target uses it), µs.
pub(crate) fn cpu(run: &Run, target: &str, h: &HttpSummary) -> f64 {
    h.server_cpu_us.median
        + if crate::pages::http::uses_redis(run, target) {
            h.redis_cpu_us.median
        } else {
            0.0
        }
}

/// `ours ÷ peer` requests per second in `scenario`: the median (and range) of the per-round
/// ratios, as `summary.md`'s targets compute it (`authbench_spec::record::http::paired_rps_ratio`):
/// a round's two runs are adjacent, so a machine that drifts slows both. Runs without the raw
/// per-round figures fall back to the ratio of the two medians (`n` = 1).
pub fn rps_ratio(run: &Run, ours: &HttpSummary, peer: &HttpSummary, scenario: &str) -> Spread {
    let paired = authbench_spec::record::http::paired_rps_ratio(
        &run.record.http_runs,
        &ours.target,
        &peer.target,
        scenario,
    );
    if paired.n > 0 {
        return paired;
    }
    let r = div(ours.throughput_rps.median, peer.throughput_rps.median);
    Spread {
        median: r,
        min: r,
        max: r,
        n: 1,
    }
}

/// `peers.md`: one table per closed-loop scenario, ours beside the peer.
pub fn md(run: &Run) -> String {
    let rows = &run.record.http;
    let mut s = String::new();
    let scenarios: Vec<&str> = data::scenarios(rows)
        .into_iter()
        .filter(|sc| data::is_closed(sc))
        .collect();
    for scenario in scenarios {
        let mut t = Table::new(&[
            ("ours", Align::Left),
            ("peer", Align::Left),
            ("ours, req/s", Align::Right),
            ("peer, req/s", Align::Right),
            ("ours ÷ peer", Align::Right),
            ("CPU µs/req, ours", Align::Right),
            ("CPU µs/req, peer", Align::Right),
        ]);
        let mut any = false;
        for (ours, peer, _, _) in PAIRS {
            let (Some(a), Some(b)) = (
                data::summary(rows, ours, scenario),
                data::summary(rows, peer, scenario),
            ) else {
                continue;
            };
            any = true;
            t.row(vec![
                format!("`{ours}`"),
                format!("`{peer}`"),
                spread(&a.throughput_rps, int),
                spread(&b.throughput_rps, int),
                spread(&rps_ratio(run, a, b, scenario), ratio),
                us(cpu(run, ours, a)),
                us(cpu(run, peer, b)),
            ]);
        }
        if !any {
            continue;
        }
        if !s.is_empty() {
            s.push('\n');
        }
        s.push_str(&caption(&format!(
            "Ours beside the stack a team would install instead, {}: requests per second, median [min–max] of {} interleaved runs; ours ÷ peer is the median [min–max] of the per-round ratios (the two runs of a round are adjacent, so a machine that drifts slows both: the figure summary.md's targets hold); CPU is server + Redis per request (medians)",
            data::describe_scenario(scenario, run.record.plan.open_connections),
            run.record.plan.reps
        )));
        s.push_str(&t.markdown());
    }
    if s.is_empty() {
        return format!(
            "{MISSING} This run measured no baselines (runs before schema 3 did not).\n"
        );
    }
    let mut what = Table::new(&[
        ("peer", Align::Left),
        ("what it is", Align::Left),
        ("what ours checks that it does not", Align::Left),
    ]);
    for (_, peer, is, extra) in PAIRS {
        if data::targets(rows).contains(&peer) {
            what.row(vec![format!("`{peer}`"), is.to_owned(), extra.to_owned()]);
        }
    }
    s.push('\n');
    s.push_str(&caption(
        "The peers (crates/baselines): baselines, not designs",
    ));
    s.push_str(&what.markdown());
    s
}
