//! `distance.md` and `distance.svg`: session `/me` latency as Redis moves away (a latency proxy
//! between the server and Redis adds a one-way delay in each direction).

use crate::chart::{Axis, Line, LineChart, PALETTE};
use crate::data::{self, Run, describe_scenario, distance_ms, short_scenario};
use crate::format::{Align, MISSING, Table, caption, int, ms, short, spread};
use anyhow::Result;
use authbench_compare::record::{HttpSummary, ProxyRecord};
use authbench_compare::stats::Spread;

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

    let mut t = Table::new(&[
        ("one-way delay (ms)", Align::Right),
        ("scenario", Align::Left),
        ("req/s", Align::Right),
        ("p50 (µs)", Align::Right),
        ("p99 (µs)", Align::Right),
        ("p99.9 (µs)", Align::Right),
        ("errors", Align::Right),
    ]);
    for scenario in data::scenarios(rows) {
        for (target, d) in delays(run) {
            let Some(h) = data::summary(rows, target, scenario) else {
                continue;
            };
            t.row(vec![
                short(d),
                describe_scenario(scenario, run.record.plan.open_connections),
                spread(&h.throughput_rps, int),
                spread(&h.p50_us, int),
                spread(&h.p99_us, int),
                spread(&h.p99_9_us, int),
                h.errors.to_string(),
            ]);
        }
    }
    s.push('\n');
    s.push_str(&caption(&format!(
        "Session `GET /me` with Redis behind the proxy: median [min–max] of {} runs",
        run.record.plan.reps
    )));
    s.push_str(&t.markdown());
    s
}

/// `distance.svg`: p50 (solid) and p99 (dashed) against the applied delay, one colour per
/// scenario, min–max error bars.
pub fn svg(run: &Run) -> Result<String> {
    let rows = &run.record.redis_distance;
    let title = "Session /me latency vs Redis distance";
    let delays = delays(run);
    if delays.is_empty() {
        return crate::chart::empty(title, "no Redis distance measurement in this run");
    }
    let colors = [PALETTE[1], PALETTE[4], PALETTE[2], PALETTE[3]];
    let mut lines = Vec::new();
    for (i, scenario) in data::scenarios(rows).into_iter().enumerate() {
        let p50: fn(&HttpSummary) -> Spread = |h| h.p50_us;
        let p99: fn(&HttpSummary) -> Spread = |h| h.p99_us;
        for (q, dashed, pick) in [("p50", false, p50), ("p99", true, p99)] {
            let mut points = Vec::new();
            let mut errors = Vec::new();
            for (target, d) in &delays {
                if let Some(h) = data::summary(rows, target, scenario) {
                    let x = applied_ms(run, *d);
                    let s = pick(h);
                    points.push((x, s.median));
                    errors.push((x, s.min, s.max));
                }
            }
            lines.push(Line {
                name: format!("{q}, {}", legend_scenario(scenario)),
                color: colors[i % colors.len()],
                dashed,
                markers: true,
                points,
                errors,
            });
        }
    }
    let x_hi = lines
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.0))
        .fold(0.0f64, f64::max);
    let y_hi = lines
        .iter()
        .flat_map(|l| l.errors.iter().map(|e| e.2))
        .fold(0.0f64, f64::max);
    LineChart {
        title: title.into(),
        x: Axis::linear(
            "Redis one-way delay applied by the proxy (ms, mean)",
            0.0,
            x_hi,
        ),
        y: Axis::linear("latency (µs)", 0.0, y_hi),
        lines,
        error_label: Some(format!("min–max of {} runs", run.record.plan.reps)),
    }
    .svg()
}
