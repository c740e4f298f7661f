//! `http.md`, `throughput.svg` and `cpu.svg`: requests per second against the `/healthz`
//! baseline, and the CPU time each process spends per request.

use crate::chart::{Bar, BarChart, BarSeries, PALETTE};
use crate::data::{self, Run, describe_scenario, is_closed};
use crate::format::{Align, MISSING, Table, caption, div, int, ratio, spread, us};
use anyhow::Result;
use authbench_spec::record::stats::Spread;

/// The no-auth baseline target.
pub const BASELINE: &str = "healthz";

fn closed_scenarios(run: &Run) -> Vec<&str> {
    data::scenarios(&run.record.http)
        .into_iter()
        .filter(|s| is_closed(s))
        .collect()
}

/// The closed-loop scenario with the most connections (the one the CPU chart shows).
pub fn busiest_closed(run: &Run) -> Option<&str> {
    closed_scenarios(run)
        .into_iter()
        .max_by_key(|s| data::closed_connections(s).unwrap_or(0))
}

/// Whether a target's server consults Redis on `/me` (its configuration makes store round
/// trips). For the others the record holds 0 for Redis CPU because no Redis process was
/// watched, so the pages show `—` and the chart leaves the bar out.
pub fn uses_redis(run: &Run, target: &str) -> bool {
    run.record
        .configurations
        .iter()
        .any(|c| c.name == target && c.round_trips_per_verify > 0)
}

/// The load generator's CPU per request over the repetitions (it is in `http_runs` only).
fn loadgen_cpu(run: &Run, target: &str, scenario: &str) -> Spread {
    Spread::of(run.runs(target, scenario).map(|r| r.cpu.loadgen_us))
}

fn reps(run: &Run) -> usize {
    run.record.plan.reps
}

/// `http.md`.
pub fn md(run: &Run) -> String {
    let rows = &run.record.http;
    let mut s = String::new();
    for scenario in closed_scenarios(run) {
        let base = data::summary(rows, BASELINE, scenario).map(|h| h.throughput_rps.median);
        let mut t = Table::new(&[
            ("target", Align::Left),
            ("req/s, median [min–max]", Align::Right),
            ("÷ `/healthz`", Align::Right),
            ("errors", Align::Right),
        ]);
        for target in data::targets(rows) {
            let Some(h) = data::summary(rows, target, scenario) else {
                continue;
            };
            t.row(vec![
                target.to_owned(),
                spread(&h.throughput_rps, int),
                base.map_or_else(
                    || MISSING.to_owned(),
                    |b| ratio(div(h.throughput_rps.median, b)),
                ),
                h.errors.to_string(),
            ]);
        }
        if !s.is_empty() {
            s.push('\n');
        }
        s.push_str(&caption(&format!(
            "Requests per second, {}: median [min–max] of {} interleaved runs, and the ratio to the no-auth `/healthz` baseline",
            describe_scenario(scenario, run.record.plan.open_connections),
            reps(run)
        )));
        s.push_str(&t.markdown());
    }

    // One CPU table per scenario: without a scenario column, each `median [min–max]` cell
    // stays on one line at 1280 px.
    for scenario in data::scenarios(rows) {
        let mut t = Table::new(&[
            ("target", Align::Left),
            ("server (µs/req)", Align::Right),
            ("Redis (µs/req)", Align::Right),
            ("server + Redis (µs/req)", Align::Right),
            ("load generator (µs/req)", Align::Right),
        ]);
        for target in data::targets(rows) {
            let Some(h) = data::summary(rows, target, scenario) else {
                continue;
            };
            let redis = uses_redis(run, target);
            t.row(vec![
                target.to_owned(),
                spread(&h.server_cpu_us, us),
                if redis {
                    spread(&h.redis_cpu_us, us)
                } else {
                    MISSING.to_owned()
                },
                us(h.server_cpu_us.median + if redis { h.redis_cpu_us.median } else { 0.0 }),
                spread(&loadgen_cpu(run, target, scenario), us),
            ]);
        }
        if !s.is_empty() {
            s.push('\n');
        }
        s.push_str(&caption(&format!(
            "CPU time per request by process, {}, µs (user + system from /proc over the measured window, 10 ms resolution, divided by the requests): median [min–max] of {} runs; the sum is of the medians; — where the target uses no Redis",
            describe_scenario(scenario, run.record.plan.open_connections),
            reps(run)
        )));
        s.push_str(&t.markdown());
    }
    s
}

/// `throughput.svg`: requests per second per target, one bar per closed-loop scenario.
pub fn throughput_svg(run: &Run) -> Result<String> {
    let rows = &run.record.http;
    let targets = data::targets(rows);
    let colors = [PALETTE[1], PALETTE[4], PALETTE[2], PALETTE[3]];
    let series = closed_scenarios(run)
        .into_iter()
        .enumerate()
        .map(|(i, scenario)| BarSeries {
            name: data::short_scenario(scenario),
            color: colors[i % colors.len()],
            bars: targets
                .iter()
                .map(|t| {
                    data::summary(rows, t, scenario).map(|h| Bar {
                        value: h.throughput_rps.median,
                        range: Some((h.throughput_rps.min, h.throughput_rps.max)),
                    })
                })
                .collect(),
        })
        .collect();
    BarChart {
        title: "Throughput per target (healthz: no auth)".into(),
        x_desc: "target".into(),
        categories: targets.iter().map(|t| (*t).to_owned()).collect(),
        y_desc: "requests per second".into(),
        log: false,
        series,
        error_label: Some(format!("min–max of {} runs", reps(run))),
        lines: Vec::new(),
        value_labels: Some(int),
    }
    .svg()
}

/// `cpu.svg`: CPU per request per process, for the busiest closed-loop scenario.
pub fn cpu_svg(run: &Run) -> Result<String> {
    let rows = &run.record.http;
    let Some(scenario) = busiest_closed(run) else {
        return crate::chart::empty("CPU time per request", "no closed-loop run in this run");
    };
    let targets = data::targets(rows);
    let bar = |s: &Spread| {
        Some(Bar {
            value: s.median,
            range: Some((s.min, s.max)),
        })
    };
    let per = |f: &dyn Fn(&str) -> Option<Bar>| targets.iter().map(|t| f(t)).collect::<Vec<_>>();
    let series = vec![
        BarSeries {
            name: "server".into(),
            color: PALETTE[5],
            bars: per(&|t| data::summary(rows, t, scenario).and_then(|h| bar(&h.server_cpu_us))),
        },
        BarSeries {
            name: "Redis".into(),
            color: PALETTE[4],
            bars: per(&|t| {
                data::summary(rows, t, scenario)
                    .filter(|_| uses_redis(run, t))
                    .and_then(|h| bar(&h.redis_cpu_us))
            }),
        },
        BarSeries {
            name: "load generator".into(),
            color: PALETTE[6],
            bars: per(&|t| {
                let s = loadgen_cpu(run, t, scenario);
                if s.n == 0 { None } else { bar(&s) }
            }),
        },
    ];
    BarChart {
        title: format!(
            "CPU time per request by process, {}",
            data::short_scenario(scenario)
        ),
        x_desc: "target".into(),
        categories: targets.iter().map(|t| (*t).to_owned()).collect(),
        y_desc: "CPU time per request (µs)".into(),
        log: false,
        series,
        error_label: Some(format!("min–max of {} runs", reps(run))),
        lines: Vec::new(),
        value_labels: Some(us),
    }
    .svg()
}
