//! `latency.md` and `latency-<scenario>.svg`: percentiles per target, and the whole latency
//! spectrum from the raw HDR histograms (the chart HdrHistogram's own plotter draws).

use crate::chart::{Axis, Line, LineChart, target_style};
use crate::data::{self, Run, describe_scenario, is_closed, short_scenario};
use crate::format::{Align, Table, caption, div, int, percent, spread};
use anyhow::Result;

/// The percentile ticks of the x axis, as `log10(1 / (1 − q))`: 50 %, 90 %, 99 %, 99.9 %,
/// 99.99 %.
const PERCENTILE_TICKS: [(f64, &str); 5] = [
    (std::f64::consts::LOG10_2, "50%"),
    (1.0, "90%"),
    (2.0, "99%"),
    (3.0, "99.9%"),
    (4.0, "99.99%"),
];

/// The right end of the x axis, `log10(1 / (1 − 0.9999))`.
const X_MAX: f64 = 4.0;

/// Points per decade of `1 / (1 − q)` along each line.
const STEPS_PER_DECADE: u32 = 50;

/// File name of a scenario's chart.
pub fn svg_name(scenario: &str) -> String {
    format!("latency-{scenario}.svg")
}

/// `latency.md`.
pub fn md(run: &Run) -> String {
    let rows = &run.record.http;
    let reps = run.record.plan.reps;
    let mut s = String::new();
    for scenario in data::scenarios(rows) {
        let open = !is_closed(scenario);
        // Two narrow tables rather than one wide one (none scrolls sideways at 1280 px): the
        // latencies, then the load that produced them.
        let mut t = Table::new(&[
            ("target", Align::Left),
            ("p50 (µs)", Align::Right),
            ("p99 (µs)", Align::Right),
            ("p99.9 (µs)", Align::Right),
        ]);
        let mut columns = vec![
            ("target", Align::Left),
            ("req/s", Align::Right),
            ("errors", Align::Right),
        ];
        if open {
            columns.push(("sent late (> 1 ms)", Align::Right));
            columns.push(("share late", Align::Right));
        }
        let mut load = Table::new(&columns);
        let mut missing = Vec::new();
        let mut overloaded = Vec::new();
        for target in data::targets(rows) {
            let Some(h) = data::summary(rows, target, scenario) else {
                continue;
            };
            let over = open && crate::pages::verdict::overloaded(run, target, scenario);
            if over {
                overloaded.push(target);
            }
            let name = if over {
                format!("{target} (overloaded)")
            } else {
                target.to_owned()
            };
            t.row(vec![
                name.clone(),
                spread(&h.p50_us, int),
                spread(&h.p99_us, int),
                spread(&h.p99_9_us, int),
            ]);
            let mut row = vec![name, spread(&h.throughput_rps, int), h.errors.to_string()];
            if open {
                let late: u64 = run.runs(target, scenario).filter_map(|r| r.late).sum();
                let sent: u64 = run.runs(target, scenario).map(|r| r.requests).sum();
                row.push(late.to_string());
                row.push(percent(div(late as f64, sent as f64)));
            }
            load.row(row);
            if run
                .median_run(target, scenario)
                .and_then(|r| run.histogram(r))
                .is_none()
            {
                missing.push(target);
            }
        }
        if !s.is_empty() {
            s.push('\n');
        }
        s.push_str(&caption(&format!(
            "Latency, {}: median [min–max] of {reps} runs, µs; the chart shows the run with the median p99",
            describe_scenario(scenario, run.record.plan.open_connections)
        )));
        s.push_str(&t.markdown());
        s.push('\n');
        s.push_str(&caption(&format!(
            "The load behind those latencies, {}: requests per second (median [min–max] of {reps} runs) and errors{}",
            describe_scenario(scenario, run.record.plan.open_connections),
            if open {
                ", and the requests the generator sent more than 1 ms after their intended time"
            } else {
                ""
            }
        )));
        s.push_str(&load.markdown());
        if !overloaded.is_empty() {
            s.push('\n');
            s.push_str(&caption(&format!(
                "Overloaded: more than {} of the requests of {} went out late beyond the generator's own floor at light load (the capacity table's), so the generator's schedule ran ahead of the server and these latencies measure the queue, not the service; they are not latency results, and the chart leaves them out",
                percent(crate::pages::verdict::LATE_SHARE),
                overloaded.join(", ")
            )));
        }
        if !missing.is_empty() {
            s.push('\n');
            s.push_str(&caption(&format!(
                "No raw histogram in the run folder for: {}",
                missing.join(", ")
            )));
        }
    }
    s
}

/// `capacity.md`: each target's open-loop capacity, and the search that found it (the open-loop
/// rates of the latency tables are fractions of it).
pub fn capacity_md(run: &Run) -> String {
    use authbench_spec::record::capacity::{
        LATE_SHARE, LIGHT_LATE_LIMIT, LIGHT_RETRIES, P99_CEILING_US, P99_FACTOR,
    };
    let caps = &run.record.open_capacity;
    let Some(search) = run
        .record
        .plan
        .capacity_search
        .as_ref()
        .filter(|_| !caps.is_empty())
    else {
        return "*This run set its open-loop rates from each target's closed-loop maximum: it has no open-loop capacity search (runs before schema 4).*\n".to_owned();
    };
    let mut t = Table::new(&[
        ("target", Align::Left),
        ("closed-loop max (req/s)", Align::Right),
        ("open-loop capacity (req/s)", Align::Right),
        ("capacity ÷ max", Align::Right),
        ("late at light load", Align::Right),
        ("p99 bound (µs)", Align::Right),
        ("probes sustained", Align::Right),
    ]);
    for c in caps {
        let sustained = c.probes.iter().filter(|p| p.sustained).count();
        t.row(vec![
            c.target.clone(),
            int(c.closed_max_rps),
            if sustained == 0 {
                format!("{} (none sustained)", int(c.rate_rps))
            } else {
                int(c.rate_rps)
            },
            percent(div(c.rate_rps, c.closed_max_rps)),
            percent(c.late_floor),
            int(c.p99_bound_us as f64),
            format!("{sustained} of {}", c.probes.len()),
        ]);
    }
    let mut s = caption(&format!(
        "Open-loop capacity, {} connections: the highest rate a bisection of {} steps found sustained, between a light rate (a tenth of the closed-loop maximum, halved up to {LIGHT_RETRIES} times while it sent more than {} late) and the maximum, each probe {} s of load after {} s of warm-up; a probe is sustained when the share of its requests that left more than 1 ms late (or never left) exceeds the light probe's (the generator's own floor on this machine, in the table) by at most {} and its p99 stayed within {P99_FACTOR}× the light probe's p99 (at most {} µs). A capacity marked \"none sustained\" is the lowest rate probed, where even the light probe sent more than {} late",
        c_or(caps.first().map(|c| c.connections)),
        search.steps,
        percent(LIGHT_LATE_LIMIT),
        search.probe.as_secs_f64(),
        search.warmup.as_secs_f64(),
        percent(LATE_SHARE),
        int(P99_CEILING_US as f64),
        percent(LIGHT_LATE_LIMIT),
    ));
    s.push_str(&t.markdown());
    s
}

fn c_or(c: Option<usize>) -> String {
    c.map_or_else(|| "?".to_owned(), |c| c.to_string())
}

/// `latency-<scenario>.svg`: latency against percentile, one line per target.
pub fn svg(run: &Run, scenario: &str) -> Result<String> {
    let rows = &run.record.http;
    let mut lines = Vec::new();
    let mut left_out = Vec::new();
    // Ours only: the peers have their rows in the tables and on the HTTP page's peer table;
    // thirteen curves on one chart would run out of distinguishable colours.
    let ours = data::targets(rows)
        .into_iter()
        .filter(|t| !crate::pages::verdict::is_peer(run, t));
    for (i, target) in ours.enumerate() {
        if !is_closed(scenario) && crate::pages::verdict::overloaded(run, target, scenario) {
            left_out.push(target);
            continue;
        }
        let Some(h) = run
            .median_run(target, scenario)
            .and_then(|r| run.histogram(r))
        else {
            continue;
        };
        if h.is_empty() {
            continue;
        }
        // Beyond q = 1 − 1/n there is no sample left: the line ends at the maximum.
        let end = (h.len() as f64).log10().min(X_MAX);
        let steps = (end * f64::from(STEPS_PER_DECADE)).ceil() as u32;
        let points: Vec<(f64, f64)> = (0..=steps)
            .map(|k| {
                let x = (f64::from(k) / f64::from(STEPS_PER_DECADE)).min(end);
                let q = 1.0 - 10f64.powf(-x);
                (x, h.value_at_quantile(q).max(1) as f64)
            })
            .collect();
        // Markers at the labelled percentiles, so that a line can be told by its shape too.
        let marks = PERCENTILE_TICKS
            .iter()
            .filter(|(x, _)| *x <= end)
            .map(|(x, _)| (*x, h.value_at_quantile(1.0 - 10f64.powf(-x)).max(1) as f64))
            .collect();
        lines.push(Line {
            name: target.to_owned(),
            style: target_style(target, i),
            points,
            marks,
            errors: Vec::new(),
        });
    }
    let mut title = format!("Latency by percentile: {}", short_scenario(scenario));
    if !left_out.is_empty() {
        title.push_str(&format!(" ({} overloaded, left out)", left_out.len()));
    }
    if lines.is_empty() && !left_out.is_empty() {
        return crate::chart::empty(
            &format!("Latency by percentile: {}", short_scenario(scenario)),
            "every target was overloaded (more than 1 % of requests sent late): no latency result",
        );
    }
    if lines.is_empty() {
        return crate::chart::empty(&title, "no raw latency histogram in the run folder");
    }
    let (lo, hi) = lines
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.1))
        .fold((f64::INFINITY, 0.0f64), |(lo, hi), v| {
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
    }
    let x = Axis {
        desc: "percentile (axis: log of 1 / (1 − percentile))".into(),
        range: (0.0, X_MAX),
        ticks: PERCENTILE_TICKS
            .iter()
            .map(|(v, l)| (*v, (*l).to_owned()))
            .collect(),
    };
    LineChart {
        title,
        x,
        y,
        lines,
        error_label: None,
    }
    .svg()
}
