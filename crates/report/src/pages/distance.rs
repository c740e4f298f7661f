//! `distance.md` and `distance.svg`: session `/me` latency as Redis moves away (a latency proxy
//! between the server and Redis adds a one-way delay in each direction).

use crate::chart::{Axis, Dash, Line, LineChart, Marker, target_style};
use crate::data::{self, Run, distance_ms, short_scenario};
use crate::format::{Align, MISSING, Table, caption, int, ms, short, spread, us};
use anyhow::Result;
use authbench_spec::record::stats::Spread;
use authbench_spec::record::{HttpSummary, ProxyRecord};

/// Delays closer than this are the same setting (the record stores them as decimal floats).
const SAME_MS: f64 = 1e-9;

fn proxy(run: &Run, requested_ms: f64) -> Option<&ProxyRecord> {
    run.record
        .proxies
        .iter()
        .find(|p| (p.requested_ms - requested_ms).abs() < SAME_MS)
}

/// The delay the proxy actually applied (mean), or the requested one when the run has no
/// proxy record for it: `0` is a direct connection.
fn applied_ms(run: &Run, requested_ms: f64) -> f64 {
    proxy(run, requested_ms).map_or(requested_ms, |p| p.applied_mean_ms)
}

/// Distance targets with their requested delay, sorted by delay (then name).
fn delays(run: &Run) -> Vec<(&str, f64)> {
    let mut out: Vec<(&str, f64)> = data::targets(&run.record.redis_distance)
        .into_iter()
        .filter_map(|t| distance_ms(t).map(|d| (t, d)))
        .collect();
    out.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(b.0)));
    out
}

/// A scenario in a few words for a legend: `32 connections`.
fn legend_scenario(scenario: &str) -> String {
    match data::closed_connections(scenario) {
        Some(1) => "1 connection".to_owned(),
        Some(c) => format!("{c} connections"),
        None => short_scenario(scenario),
    }
}

/// `distance.md`.
pub fn md(run: &Run) -> String {
    let rows = &run.record.redis_distance;
    let mut p = Table::new(&[
        ("requested one-way delay (ms)", Align::Right),
        ("applied, mean (ms)", Align::Right),
        ("largest overshoot (ms)", Align::Right),
        ("chunks forwarded", Align::Right),
    ]);
    for (_, d) in delays(run) {
        match proxy(run, d) {
            Some(x) => p.row(vec![
                short(d),
                ms(x.applied_mean_ms),
                ms(x.max_overshoot_ms),
                x.chunks.to_string(),
            ]),
            None if d == 0.0 => p.row(vec![
                short(d),
                "direct, no proxy".into(),
                MISSING.into(),
                MISSING.into(),
            ]),
            None => p.row(vec![short(d)]),
        }
    }
    let mut s = caption(
        "Latency proxy between the session server and Redis: one-way delay requested and applied (mean per chunk, arrival to write), ms",
    );
    s.push_str(&p.markdown());

    let connections = |scenario: &str| {
        data::closed_connections(scenario).map_or_else(|| scenario.to_owned(), |c| c.to_string())
    };
    let mut t = Table::new(&[
        ("one-way delay (ms)", Align::Right),
        ("connections", Align::Right),
        ("p50 (µs)", Align::Right),
        ("p99 (µs)", Align::Right),
        ("p99.9 (µs)", Align::Right),
    ]);
    let mut c = Table::new(&[
        ("one-way delay (ms)", Align::Right),
        ("connections", Align::Right),
        ("server CPU (µs/req)", Align::Right),
        ("Redis CPU (µs/req)", Align::Right),
        ("server + Redis (µs/req)", Align::Right),
    ]);
    // Three narrow tables rather than one wide one: none scrolls sideways at 1280 px.
    let mut r = Table::new(&[
        ("one-way delay (ms)", Align::Right),
        ("connections", Align::Right),
        ("req/s", Align::Right),
        ("errors", Align::Right),
    ]);
    for scenario in data::scenarios(rows) {
        for (target, d) in delays(run) {
            let Some(h) = data::summary(rows, target, scenario) else {
                continue;
            };
            t.row(vec![
                short(d),
                connections(scenario),
                spread(&h.p50_us, int),
                spread(&h.p99_us, int),
                spread(&h.p99_9_us, int),
            ]);
            c.row(vec![
                short(d),
                connections(scenario),
                spread(&h.server_cpu_us, us),
                spread(&h.redis_cpu_us, us),
                us(h.server_cpu_us.median + h.redis_cpu_us.median),
            ]);
            r.row(vec![
                short(d),
                connections(scenario),
                spread(&h.throughput_rps, int),
                h.errors.to_string(),
            ]);
        }
    }
    s.push('\n');
    s.push_str(&caption(&format!(
        "Session `GET /me` latency with Redis behind the proxy, closed loop: median [min–max] of {} runs",
        run.record.plan.reps
    )));
    s.push_str(&t.markdown());
    s.push('\n');
    s.push_str(&caption(&format!(
        "Requests per second of the same runs: median [min–max] of {} runs, and errors",
        run.record.plan.reps
    )));
    s.push_str(&r.markdown());
    s.push('\n');
    s.push_str(&caption(&format!(
        "CPU time per request of the same runs, by process, µs (user + system from /proc over the measured window, divided by the requests): median [min–max] of {} runs; the sum is of the medians",
        run.record.plan.reps
    )));
    s.push_str(&c.markdown());
    s
}

/// The closed-loop scenarios of the distance section, one chart each.
pub fn chart_scenarios(run: &Run) -> Vec<&str> {
    data::scenarios(&run.record.redis_distance)
        .into_iter()
        .filter(|s| data::closed_connections(s).is_some())
        .collect()
}

/// File name of a scenario's distance chart.
pub fn svg_name(scenario: &str) -> String {
    format!("distance-{scenario}.svg")
}

/// `distance-<scenario>.svg`: the session's p50 (solid) and p99 (dashed) against the round trip
/// the proxy added, min–max error bars, with each token's p50 at the same connections (no Redis
/// at all) as a horizontal reference line; log latency axis.
pub fn svg(run: &Run, scenario: &str) -> Result<String> {
    let rows = &run.record.redis_distance;
    let title = format!(
        "Session /me latency vs Redis distance, {}",
        legend_scenario(scenario)
    );
    let delays = delays(run);
    if delays.is_empty() {
        return crate::chart::empty(&title, "no Redis distance measurement in this run");
    }
    let session = target_style("session", 0);
    let mut lines = Vec::new();
    let p50: fn(&HttpSummary) -> Spread = |h| h.p50_us;
    let p99: fn(&HttpSummary) -> Spread = |h| h.p99_us;
    let styles = [
        session,
        session.dashed(Dash::Long).with_marker(Marker::Square),
    ];
    for ((q, pick), style) in [("p50", p50), ("p99", p99)].into_iter().zip(styles) {
        let mut points = Vec::new();
        let mut errors = Vec::new();
        for (target, d) in &delays {
            if let Some(h) = data::summary(rows, target, scenario) {
                let x = 2.0 * applied_ms(run, *d);
                let s = pick(h);
                points.push((x, s.median));
                errors.push((x, s.min, s.max));
            }
        }
        lines.push(Line {
            name: format!("session {q}"),
            style,
            marks: points.clone(),
            points,
            errors,
        });
    }
    let x_hi = lines
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.0))
        .fold(0.0f64, f64::max);
    let x = Axis::linear(
        "round trip added by the proxy (ms: 2 × the mean one-way delay applied)",
        0.0,
        x_hi,
    );
    // The tokens at the same connections, from the HTTP section: they make no Redis round
    // trip, so distance leaves them where they are.
    let http = &run.record.http;
    for (i, target) in data::targets(http).into_iter().enumerate() {
        if target == crate::pages::http::BASELINE
            || crate::pages::http::uses_redis(run, target)
            || crate::pages::verdict::is_peer(run, target)
        {
            continue;
        }
        let Some(h) = data::summary(http, target, scenario) else {
            continue;
        };
        let y = h.p50_us.median;
        lines.push(Line {
            name: format!("{target} p50"),
            style: target_style(target, i).dashed(Dash::Short),
            points: vec![(x.range.0, y), (x.range.1, y)],
            marks: Vec::new(),
            errors: Vec::new(),
        });
    }
    let values = lines
        .iter()
        .flat_map(|l| {
            l.points
                .iter()
                .map(|p| p.1)
                .chain(l.errors.iter().flat_map(|e| [e.1, e.2]))
        })
        .filter(|v| *v > 0.0 && v.is_finite());
    let (lo, hi) = values.fold((f64::INFINITY, 0.0f64), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    let (unit, scale) = crate::chart::time_unit(hi);
    let y = Axis::log(
        format!("latency ({unit}, log scale)"),
        lo / scale,
        hi / scale,
    );
    for l in &mut lines {
        for p in l.points.iter_mut().chain(l.marks.iter_mut()) {
            p.1 = Axis::to_log(p.1 / scale);
        }
        for e in &mut l.errors {
            e.1 = Axis::to_log(e.1 / scale);
            e.2 = Axis::to_log(e.2 / scale);
        }
    }
    LineChart {
        title,
        x,
        y,
        lines,
        error_label: Some(format!("min–max of {} runs", run.record.plan.reps)),
    }
    .svg()
}
