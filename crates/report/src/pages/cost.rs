//! In-process costs and floors: `verify.md`, `verify.svg`, `issue.md`, `floors.md`, plus the
//! set-up figures `logins.md` and the load generator's cross-check `loadgen.md`.

use crate::chart::{Bar, BarChart, BarSeries, PALETTE};
use crate::data::Run;
use crate::format::{
    Align, MISSING, Table, caption, code, div, int, ratio, spread, us, us_from_ns,
};
use anyhow::Result;
use authbench_spec::record::micro::MicroResult;
use authbench_spec::record::redis_bench::RedisBenchmark;

fn micro<'a>(run: &'a Run, op: &str, id: &str) -> Option<&'a MicroResult> {
    run.record.micro.iter().find(|m| m.op == op && m.id == id)
}

/// JWT algorithms measured in-process, in the record's order.
fn algorithms(run: &Run) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for m in &run.record.micro {
        if let Some(alg) = m.id.strip_prefix("jwt-")
            && !out.contains(&alg)
        {
            out.push(alg);
        }
    }
    out
}

/// `median [p10–p90]` of a micro result, µs.
fn cell(m: Option<&MicroResult>) -> String {
    m.map_or_else(
        || MISSING.to_owned(),
        |m| {
            format!(
                "{} [{}–{}]",
                us_from_ns(m.median_ns),
                us_from_ns(m.p10_ns),
                us_from_ns(m.p90_ns)
            )
        },
    )
}

fn batches(run: &Run) -> usize {
    run.record.plan.micro.batches
}

fn redis_c1(run: &Run) -> Option<&RedisBenchmark> {
    run.record.redis_benchmark.iter().find(|b| b.clients == 1)
}

/// `verify.md`.
pub fn verify_md(run: &Run) -> String {
    let mut t = Table::new(&[
        ("algorithm", Align::Left),
        ("ours, strict (µs)", Align::Right),
        (
            "`jsonwebtoken::decode`, default `Validation` (µs)",
            Align::Right,
        ),
        ("raw signature verify (µs)", Align::Right),
        ("ours ÷ default", Align::Right),
        ("ours ÷ raw", Align::Right),
    ]);
    for alg in algorithms(run) {
        let ours = micro(run, "verify", &format!("jwt-{alg}"));
        let default = micro(run, "verify", &format!("jsonwebtoken-default-{alg}"));
        let floor = micro(run, "verify", &format!("floor-raw-{alg}"));
        let r = |other: Option<&MicroResult>| match (ours, other) {
            (Some(a), Some(b)) => ratio(div(a.median_ns, b.median_ns)),
            _ => MISSING.to_owned(),
        };
        t.row(vec![
            alg.to_owned(),
            cell(ours),
            cell(default),
            cell(floor),
            r(default),
            r(floor),
        ]);
    }
    let mut s = caption(&format!(
        "In-process JWT verify per algorithm, µs per call: median [p10–p90] of {} batch means; the raw verify is aws-lc-rs checking the same signature over the same bytes",
        batches(run)
    ));
    s.push_str(&t.markdown());

    let c1 = &run.record.session_verify_c1_us;
    let mut u = Table::new(&[("session verify", Align::Left), ("µs", Align::Right)]);
    u.row(vec![
        format!("batched, median [p10–p90] of {} batch means", batches(run)),
        cell(micro(run, "verify", "session")),
    ]);
    if c1.n > 0 {
        for (q, v) in [("p50", c1.p50), ("p90", c1.p90), ("p99", c1.p99)] {
            u.row(vec![
                format!("one call at a time, {q} of {} calls", c1.n),
                us(v),
            ]);
        }
    }
    if let Some(b) = redis_c1(run) {
        u.row(vec![
            "`redis-benchmark` GET, 1 client, p50".into(),
            us(b.p50_us),
        ]);
    }
    s.push('\n');
    s.push_str(&caption(
        "In-process session verify (one Redis round trip on loopback), µs per call, beside the Redis GET floor",
    ));
    s.push_str(&u.markdown());
    s
}

/// `verify.svg`: per algorithm, ours vs the default decode vs the raw floor, and the session
/// verify vs a bare Redis GET, on a log axis (HS256 and ES384 are three orders apart).
pub fn verify_svg(run: &Run) -> Result<String> {
    let algs = algorithms(run);
    let bar = |m: Option<&MicroResult>| {
        m.map(|m| Bar {
            value: m.median_ns / 1e3,
            range: Some((m.p10_ns / 1e3, m.p90_ns / 1e3)),
        })
    };
    let mut ours: Vec<Option<Bar>> = algs
        .iter()
        .map(|a| bar(micro(run, "verify", &format!("jwt-{a}"))))
        .collect();
    let mut default: Vec<Option<Bar>> = algs
        .iter()
        .map(|a| bar(micro(run, "verify", &format!("jsonwebtoken-default-{a}"))))
        .collect();
    let mut floor: Vec<Option<Bar>> = algs
        .iter()
        .map(|a| bar(micro(run, "verify", &format!("floor-raw-{a}"))))
        .collect();
    let mut categories: Vec<String> = algs.iter().map(|a| format!("JWT {a}")).collect();
    if let Some(session) = micro(run, "verify", "session") {
        categories.push("session".into());
        ours.push(bar(Some(session)));
        default.push(None);
        floor.push(redis_c1(run).map(|b| Bar {
            value: b.p50_us,
            range: None,
        }));
    }
    BarChart {
        title: "Verify cost per call, in-process (session floor: Redis GET p50)".into(),
        x_desc: "credential".into(),
        categories,
        y_desc: "µs per verify (log scale)".into(),
        log: true,
        series: vec![
            BarSeries {
                name: "ours (strict validation)".into(),
                color: PALETTE[5],
                bars: ours,
            },
            BarSeries {
                name: "jsonwebtoken::decode".into(),
                color: PALETTE[3],
                bars: default,
            },
            BarSeries {
                name: "floor: raw verify / Redis GET".into(),
                color: PALETTE[6],
                bars: floor,
            },
        ],
        error_label: Some(format!("p10–p90 of {} batch means", batches(run))),
        lines: Vec::new(),
        value_labels: Some(us),
    }
    .svg()
}

/// `issue.md`.
pub fn issue_md(run: &Run) -> String {
    let mut t = Table::new(&[
        ("configuration", Align::Left),
        ("issue (µs)", Align::Right),
        ("verify (µs)", Align::Right),
        ("issue ÷ verify", Align::Right),
    ]);
    for m in run.record.micro.iter().filter(|m| m.op == "issue") {
        let v = micro(run, "verify", &m.id);
        t.row(vec![
            m.id.clone(),
            cell(Some(m)),
            cell(v),
            v.map_or_else(
                || MISSING.to_owned(),
                |v| ratio(div(m.median_ns, v.median_ns)),
            ),
        ]);
    }
    let mut s = caption(&format!(
        "In-process issue (a new credential) per configuration, µs per call: median [p10–p90] of {} batch means, with verify beside it",
        batches(run)
    ));
    s.push_str(&t.markdown());
    s
}

/// `floors.md`: what the hardware and Redis can do, and our figures as ratios to them.
pub fn floors_md(run: &Run) -> String {
    let r = &run.record;
    let mut s = String::new();
    if r.redis_benchmark.is_empty() {
        s.push_str(&caption(
            "`redis-benchmark` GET: not run in this run (see the notes on the run record)",
        ));
    } else {
        let mut t = Table::new(&[
            ("clients", Align::Right),
            ("requests", Align::Right),
            ("req/s", Align::Right),
            ("mean (µs)", Align::Right),
            ("p50 (µs)", Align::Right),
            ("p95 (µs)", Align::Right),
            ("p99 (µs)", Align::Right),
            ("max (µs)", Align::Right),
        ]);
        for b in &r.redis_benchmark {
            t.row(vec![
                b.clients.to_string(),
                b.requests.to_string(),
                int(b.rps),
                us(b.avg_us),
                us(b.p50_us),
                us(b.p95_us),
                us(b.p99_us),
                us(b.max_us),
            ]);
        }
        s.push_str(&caption(
            "Redis floor: `redis-benchmark -t get` against the run's Redis on loopback",
        ));
        s.push_str(&t.markdown());
        s.push('\n');
        for b in &r.redis_benchmark {
            s.push_str(&format!("- {}\n", code(&b.command)));
        }
    }

    let c1 = &r.session_verify_c1_us;
    if let Some(b) = redis_c1(run)
        && c1.n > 0
    {
        let mut t = Table::new(&[
            ("one request at a time", Align::Left),
            ("p50 (µs)", Align::Right),
            ("p99 (µs)", Align::Right),
        ]);
        t.row(vec![
            format!("session verify, in-process ({} calls)", c1.n),
            us(c1.p50),
            us(c1.p99),
        ]);
        t.row(vec![
            "`redis-benchmark` GET, 1 client".into(),
            us(b.p50_us),
            us(b.p99_us),
        ]);
        t.row(vec![
            "session verify ÷ GET".into(),
            ratio(div(c1.p50, b.p50_us)),
            ratio(div(c1.p99, b.p99_us)),
        ]);
        s.push('\n');
        s.push_str(&caption(
            "Session verify at concurrency 1 against the Redis GET floor at 1 client",
        ));
        s.push_str(&t.markdown());
    }

    let algs = algorithms(run);
    let mut t = Table::new(&[
        ("algorithm", Align::Left),
        ("raw signature verify (µs)", Align::Right),
        ("our JWT verify (µs)", Align::Right),
        ("ours ÷ raw", Align::Right),
    ]);
    for alg in algs {
        let floor = micro(run, "verify", &format!("floor-raw-{alg}"));
        let ours = micro(run, "verify", &format!("jwt-{alg}"));
        t.row(vec![
            alg.to_owned(),
            floor.map_or_else(|| MISSING.to_owned(), |m| us_from_ns(m.median_ns)),
            ours.map_or_else(|| MISSING.to_owned(), |m| us_from_ns(m.median_ns)),
            match (ours, floor) {
                (Some(a), Some(b)) => ratio(div(a.median_ns, b.median_ns)),
                _ => MISSING.to_owned(),
            },
        ]);
    }
    if !t.is_empty() {
        s.push('\n');
        s.push_str(&caption(&format!(
            "Signature floor: aws-lc-rs verifying the same signature over the same bytes, µs per call (median of {} batch means), and our full verify beside it",
            batches(run)
        )));
        s.push_str(&t.markdown());
    }
    s
}

/// `logins.md`: the set-up logins (the write path, argon2id included).
pub fn logins_md(run: &Run) -> String {
    let mut t = Table::new(&[
        ("configuration", Align::Left),
        ("password hash", Align::Left),
        ("logins", Align::Right),
        ("seconds", Align::Right),
        ("logins/s", Align::Right),
    ]);
    for l in &run.record.logins {
        t.row(vec![
            l.configuration.clone(),
            code(&l.password_hash),
            l.logins.to_string(),
            format!("{:.2}", l.seconds + 0.0),
            format!("{:.1}", l.rate + 0.0),
        ]);
    }
    let mut s = caption(
        "Logins (`POST /login`) per configuration and password-hash setting: `insecure-fast` seeds the measured servers, `argon2id-owasp` is the server's default cost",
    );
    s.push_str(&t.markdown());
    s
}

/// `loadgen.md`: our load generator against wrk on `/healthz`.
pub fn loadgen_md(run: &Run) -> String {
    let Some(w) = &run.record.loadgen_vs_wrk else {
        return caption(
            "`wrk` against `authbench load`: not measured in this run (see the notes on the run record)",
        );
    };
    let mut t = Table::new(&[
        ("load generator", Align::Left),
        ("req/s, median [min–max]", Align::Right),
        ("runs", Align::Right),
    ]);
    t.row(vec![
        "`wrk`".into(),
        spread(&w.wrk_rps, int),
        w.wrk_rps.n.to_string(),
    ]);
    t.row(vec![
        "`authbench load`".into(),
        spread(&w.loadgen_rps, int),
        w.loadgen_rps.n.to_string(),
    ]);
    t.row(vec![
        "`authbench load` ÷ `wrk` (medians)".into(),
        ratio(w.ratio),
        String::new(),
    ]);
    let mut s = caption(&format!(
        "`GET /healthz` (no auth), {} connections, the two generators interleaved; requests per second",
        w.connections
    ));
    s.push_str(&t.markdown());
    s.push_str(&format!("\n- {}\n", code(&w.wrk_command)));
    s
}
