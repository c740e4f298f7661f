//! `run.md` (where, what and how the run measured) and `targets.md` (the targets).

use crate::data::Run;
use crate::format::{Align, Table, caption, code, ratio, short};
use authbench_spec::record::Configuration;
use authbench_spec::record::plan::Plan;
use serde_json::Value;
use std::fmt::Write as _;

/// Bytes in a GiB, for the machine's memory.
const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

/// A JSON value as a table cell: strings bare, everything else as compact JSON.
fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => crate::format::MISSING.to_owned(),
        other => other.to_string(),
    }
}

/// Rows for the keys of `obj` not in `known`, so that a field added to the record later still
/// shows up (serde_json's map iterates in key order: stable).
fn other_fields(t: &mut Table, prefix: &str, obj: &Value, known: &[&str]) {
    if let Value::Object(map) = obj {
        for (k, v) in map {
            if !known.contains(&k.as_str()) {
                t.row(vec![format!("{prefix} {k}"), plain(v)]);
            }
        }
    }
}

/// `run.md`: the context block.
pub fn run_md(run: &Run) -> String {
    let r = &run.record;
    let mut t = Table::new(&[("recorded", Align::Left), ("value", Align::Left)]);
    t.row(vec!["command".into(), code(&r.command)]);
    let profile = serde_json::to_value(r.plan.profile)
        .ok()
        .map(|v| plain(&v))
        .unwrap_or_default();
    t.row(vec!["profile".into(), profile]);
    t.row(vec!["started (UTC)".into(), r.started_at.clone()]);
    t.row(vec!["finished (UTC)".into(), r.finished_at.clone()]);
    git_rows(&mut t, &r.git);
    machine_rows(&mut t, &r.machine);
    version_rows(&mut t, &r.versions);
    plan_rows(&mut t, &r.plan);
    for n in &r.notes {
        t.row(vec!["note".into(), n.clone()]);
    }

    let mut s = caption("The run: command, machine, versions, commit and plan");
    s.push_str(&t.markdown());
    s.push('\n');
    s.push_str(&caption(
        "Server configurations measured (Redis URLs redacted)",
    ));
    s.push_str(&configurations_table(&r.configurations).markdown());
    s
}

/// The commit measured, and whether the tree had uncommitted changes.
fn git_rows(t: &mut Table, git: &Value) {
    let commit = plain(&git["commit"]);
    let dirty = if git["dirty"].as_bool() == Some(true) {
        " (with uncommitted changes)"
    } else {
        ""
    };
    t.row(vec![
        "git commit".into(),
        format!("{}{dirty}", code(&commit)),
    ]);
    other_fields(t, "git", git, &["commit", "dirty"]);
}

/// The machine: CPU, memory in GiB, kernel, and how busy it was when the run started.
fn machine_rows(t: &mut Table, m: &Value) {
    t.row(vec!["CPU".into(), plain(&m["cpu_model"])]);
    t.row(vec!["cores".into(), plain(&m["cores"])]);
    t.row(vec![
        "memory".into(),
        m["memory_bytes"].as_f64().map_or_else(
            || plain(&m["memory_bytes"]),
            |b| format!("{:.1} GiB", b / GIB),
        ),
    ]);
    t.row(vec!["kernel".into(), plain(&m["kernel"])]);
    t.row(vec!["hostname".into(), plain(&m["hostname"])]);
    t.row(vec![
        "load average (1 min) at the start".into(),
        m["load_average_1m"]
            .as_f64()
            .map_or_else(|| plain(&m["load_average_1m"]), |l| format!("{l:.2}")),
    ]);
    other_fields(
        t,
        "machine",
        m,
        &[
            "cpu_model",
            "cores",
            "memory_bytes",
            "kernel",
            "hostname",
            "load_average_1m",
        ],
    );
}

/// The versions of the compiler, Redis, authbench and the crates on the measured paths.
fn version_rows(t: &mut Table, v: &Value) {
    t.row(vec!["rustc".into(), plain(&v["rustc"])]);
    t.row(vec!["redis-server".into(), plain(&v["redis_server"])]);
    t.row(vec!["authbench".into(), plain(&v["authbench"])]);
    let crates = v["crates"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|c| format!("{} {}", plain(&c[0]), plain(&c[1])))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default();
    t.row(vec!["crates".into(), crates]);
    other_fields(
        t,
        "versions",
        v,
        &["rustc", "redis_server", "authbench", "crates"],
    );
}

/// `xs` as a list, each with `unit`: `1 ms, 5 ms`.
fn list(xs: &[f64], unit: &str) -> String {
    xs.iter()
        .map(|x| format!("{}{unit}", short(*x)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The plan: how much load, for how long, how many times, and what the in-process
/// measurements took.
fn plan_rows(t: &mut Table, p: &Plan) {
    t.row(vec!["users per server".into(), p.users.to_string()]);
    t.row(vec![
        "JWT algorithms over HTTP".into(),
        p.http_algs
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", "),
    ]);
    t.row(vec![
        "each HTTP run".into(),
        format!(
            "{} s measured after {} s of warm-up",
            short(p.http_duration.as_secs_f64()),
            short(p.http_warmup.as_secs_f64())
        ),
    ]);
    t.row(vec!["repetitions (interleaved)".into(), p.reps.to_string()]);
    t.row(vec![
        "closed loop, connections".into(),
        p.closed_connections
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", "),
    ]);
    t.row(vec![
        "open loop, rates".into(),
        format!(
            "{} of each target's {}, {} connections",
            list(
                &p.open_fractions
                    .iter()
                    .map(|f| f * 100.0)
                    .collect::<Vec<_>>(),
                " %"
            ),
            if p.capacity_search.is_some() {
                "open-loop capacity (found by a search, on the HTTP page)"
            } else {
                "closed-loop maximum"
            },
            p.open_connections
        ),
    ]);
    t.row(vec![
        "Redis one-way delays".into(),
        list(&p.redis_delays_ms, " ms"),
    ]);
    t.row(vec![
        "redis-benchmark requests".into(),
        p.redis_benchmark_requests.to_string(),
    ]);
    t.row(vec![
        "in-process measurements".into(),
        format!(
            "{} batches of {} ms each; {} session verifies timed one by one",
            p.micro.batches,
            short(p.micro.batch_time.as_secs_f64() * 1e3),
            p.micro.session_samples
        ),
    ]);
    t.row(vec![
        "load generator threads".into(),
        p.loadgen_threads.to_string(),
    ]);
}

/// One row per server configuration: its `authbench serve` arguments and what it keeps.
fn configurations_table(configurations: &[Configuration]) -> Table {
    let mut c = Table::new(&[
        ("configuration", Align::Left),
        ("`authbench serve` arguments", Align::Left),
        ("stateful", Align::Left),
        ("store round trips per verify", Align::Right),
    ]);
    for k in configurations {
        c.row(vec![
            k.name.clone(),
            code(&k.serve_args.join(" ")),
            if k.stateful { "yes" } else { "no" }.into(),
            k.round_trips_per_verify.to_string(),
        ]);
    }
    c
}

/// `targets.md`: each target of the measurement issue as a ratio of two figures of the run.
pub fn targets_md(run: &Run) -> String {
    let mut t = Table::new(&[
        ("target", Align::Left),
        ("ratio", Align::Right),
        ("bound", Align::Right),
        ("met", Align::Left),
        ("the two figures", Align::Left),
    ]);
    for x in &run.record.targets {
        let report = x.comparison == "report";
        t.row(vec![
            x.name.clone(),
            ratio(x.ratio),
            if report {
                crate::format::MISSING.to_owned()
            } else {
                let op = match x.comparison.as_str() {
                    "<=" => "≤",
                    ">=" => "≥",
                    other => other,
                };
                format!("{op} {}", short(x.bound))
            },
            if report {
                "reported only".into()
            } else if x.met {
                "yes".into()
            } else {
                "**no**".into()
            },
            x.detail.clone(),
        ]);
    }
    let mut s =
        caption("Targets of the measurement issue: each a ratio of two figures of this run");
    if t.is_empty() {
        let _ = writeln!(s, "No target could be computed from this run.");
    } else {
        s.push_str(&t.markdown());
    }
    s
}
