//! `verdict-<page>.md`: the "What this run shows" section at the top of each results chapter and
//! of the Choosing chapter.
//!
//! Each page's verdict is a list of plain sentences, each computed from `run.json` and each
//! printed only when the data meets its condition: which design served more requests per core
//! and by how much, where the session's latency meets each JWT's as Redis moves away, what a
//! revocation strategy costs per request and how fast it bites, what multi-tenancy adds. The
//! sentences decide from the data; none is a template that always says the same thing, so a run
//! in which ES256 beats sessions says so, and one in which it does not says that instead.

use crate::data::{self, Run, distance_ms};
use crate::format::{MISSING, div, int, percent, ratio, sig3, us, us_from_ns};
use authbench_spec::record::HttpSummary;
use std::fmt::Write as _;

/// The no-auth baseline target.
const BASELINE: &str = crate::pages::http::BASELINE;

/// Two figures within this share of each other are "about the same" in a verdict: closer than
/// the repetitions of one measurement usually agree.
pub const SAME_SHARE: f64 = 0.05;

/// An open-loop run with more than this share of its requests sent late, beyond the
/// generator's own floor, measured overload, not latency (the capacity search's rule).
pub use authbench_spec::record::capacity::LATE_SHARE;

/// A change of CPU per request beyond this share counts as a change.
const CPU_CHANGE: f64 = 0.10;

/// The pages that carry a verdict, in render order: (file stem, sentences).
pub fn all(run: &Run) -> Vec<(&'static str, Vec<String>)> {
    vec![
        ("sizes", sizes(run)),
        ("verify", verify(run)),
        ("http", http(run)),
        ("distance", distance(run)),
        ("revocation", revocation(run)),
        ("failure", failure(run)),
        ("choosing", choosing(run)),
    ]
}

/// The markdown of one verdict: a bullet per sentence, or a line saying the run has nothing to
/// conclude from.
pub fn md(sentences: &[String]) -> String {
    if sentences.is_empty() {
        return "*This run has no data for a verdict on this page.*\n".to_owned();
    }
    let mut s = String::from(
        "*Computed from the run by `authbench report`; each sentence is printed only when the data supports it.*\n\n",
    );
    for line in sentences {
        let _ = writeln!(s, "- {line}");
    }
    s
}

/// `a, b and c`.
fn list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// `×` ratio with two decimals: `1.07×`.
fn times(x: f64) -> String {
    format!("{}×", ratio(x))
}

/// The session target of the HTTP section: the stateful configuration measured over HTTP.
fn session_target(run: &Run) -> Option<&str> {
    let targets = data::targets(&run.record.http);
    run.record
        .configurations
        .iter()
        .filter(|c| c.stateful && c.round_trips_per_verify > 0)
        .map(|c| c.name.as_str())
        .find(|n| targets.contains(n))
}

/// The stateless targets of the HTTP section (JWS and JWE), in the record's order: ours only,
/// not the peer stacks (`baseline-*`).
fn token_targets(run: &Run) -> Vec<&str> {
    data::targets(&run.record.http)
        .into_iter()
        .filter(|t| *t != BASELINE && !crate::pages::http::uses_redis(run, t) && !is_peer(run, t))
        .collect()
}

/// Whether `target` is one of the peer stacks measured beside ours.
pub(crate) fn is_peer(run: &Run, target: &str) -> bool {
    run.record
        .configurations
        .iter()
        .any(|c| c.name == target && c.baseline.is_some())
}

/// Each of our backends against its peer at the busiest closed loop: one sentence, whose
/// verb (more, about as many, fewer) and CPU comparison come from the run.
pub fn peer_sentences(run: &Run) -> Vec<String> {
    let rows = &run.record.http;
    let Some(scenario) = crate::pages::http::busiest_closed(run) else {
        return Vec::new();
    };
    let mut parts = Vec::new();
    for (ours, peer, _, _) in crate::pages::peers::PAIRS {
        let (Some(a), Some(b)) = (
            data::summary(rows, ours, scenario),
            data::summary(rows, peer, scenario),
        ) else {
            continue;
        };
        let r = crate::pages::peers::rps_ratio(run, a, b, scenario).median;
        if !r.is_finite() {
            continue;
        }
        let served = if r > 1.0 + SAME_SHARE {
            "more requests per second than"
        } else if r < 1.0 - SAME_SHARE {
            "fewer requests per second than"
        } else {
            "about as many requests per second as"
        };
        let cpu = div(
            crate::pages::peers::cpu(run, ours, a),
            crate::pages::peers::cpu(run, peer, b),
        );
        let cost = if !cpu.is_finite() {
            String::new()
        } else if (cpu - 1.0).abs() <= SAME_SHARE {
            ", at about its CPU per request".to_owned()
        } else {
            format!(", at {} its CPU per request", times(cpu))
        };
        parts.push(format!(
            "`{ours}` served {served} `{peer}` ({}){cost}",
            times(r)
        ));
    }
    if parts.is_empty() {
        return Vec::new();
    }
    vec![format!(
        "**Against the stacks a team would install instead** ({}, same run): {}.",
        connections_words(scenario),
        parts.join("; ")
    )]
}

/// CPU per request of a target, µs: the server's, plus Redis's where the target uses Redis.
fn cpu_per_request(run: &Run, h: &HttpSummary) -> f64 {
    let redis = if crate::pages::http::uses_redis(run, &h.target) {
        h.redis_cpu_us.median
    } else {
        0.0
    };
    h.server_cpu_us.median + redis
}

/// Requests per second of CPU (one core busy for one second), or NaN without a CPU figure.
fn per_core(run: &Run, h: &HttpSummary) -> f64 {
    let cpu = cpu_per_request(run, h);
    if cpu > 0.0 && cpu.is_finite() {
        1e6 / cpu
    } else {
        f64::NAN
    }
}

fn connections_words(scenario: &str) -> String {
    match data::closed_connections(scenario) {
        Some(1) => "1 connection".to_owned(),
        Some(c) => format!("{c} connections"),
        None => scenario.to_owned(),
    }
}

/// Closed-loop scenarios of `rows`, fewest connections first.
fn closed(rows: &[HttpSummary]) -> Vec<&str> {
    let mut out: Vec<&str> = data::scenarios(rows)
        .into_iter()
        .filter(|s| data::closed_connections(s).is_some())
        .collect();
    out.sort_by_key(|s| data::closed_connections(s));
    out
}

/// Splits `(name, ratio)` pairs into ahead (ratio above 1 + [`SAME_SHARE`]), level, behind.
fn split_by_ratio(pairs: &[(String, f64)]) -> [Vec<String>; 3] {
    let mut out: [Vec<String>; 3] = Default::default();
    for (name, r) in pairs {
        if !r.is_finite() {
            continue;
        }
        let i = if *r > 1.0 + SAME_SHARE {
            0
        } else if *r < 1.0 - SAME_SHARE {
            2
        } else {
            1
        };
        out[i].push(format!("{name} ({})", times(*r)));
    }
    out
}

/// The clauses of a "more / about as many / fewer" comparison of `(name, ratio)` pairs
/// (`more`: the verb of the first, e.g. "served more"), empty groups left out.
fn more_level_fewer(pairs: &[(String, f64)], more: &str) -> Vec<String> {
    let [ahead, level, behind] = split_by_ratio(pairs);
    let mut parts = Vec::new();
    if !ahead.is_empty() {
        parts.push(format!("{} {more}", list(&ahead)));
    }
    if !level.is_empty() {
        parts.push(format!("{} about as many", list(&level)));
    }
    if !behind.is_empty() {
        parts.push(format!("{} fewer", list(&behind)));
    }
    parts
}

/// Per closed-loop scenario: which design served more requests per core, and by how much.
pub fn per_core_sentences(run: &Run) -> Vec<String> {
    let rows = &run.record.http;
    let Some(session) = session_target(run) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for scenario in closed(rows) {
        let Some(s) = data::summary(rows, session, scenario) else {
            continue;
        };
        let s_core = per_core(run, s);
        if !s_core.is_finite() {
            continue;
        }
        let pairs: Vec<(String, f64)> = token_targets(run)
            .into_iter()
            .filter_map(|t| data::summary(rows, t, scenario))
            .map(|h| (h.target.clone(), div(per_core(run, h), s_core)))
            .collect();
        let parts = more_level_fewer(&pairs, "served more");
        if parts.is_empty() {
            continue;
        }
        out.push(format!(
            "**Per core, {}:** the session served {} requests per CPU-second (its server's CPU plus Redis's); per CPU-second, {} (× the session's).",
            connections_words(scenario),
            int(s_core),
            parts.join("; ")
        ));
    }
    out
}

/// Per closed-loop scenario: requests per second on this machine, session against each token.
fn throughput_sentences(run: &Run) -> Vec<String> {
    let rows = &run.record.http;
    let Some(session) = session_target(run) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for scenario in closed(rows) {
        let Some(s) = data::summary(rows, session, scenario) else {
            continue;
        };
        let pairs: Vec<(String, f64)> = token_targets(run)
            .into_iter()
            .filter_map(|t| data::summary(rows, t, scenario))
            .map(|h| {
                (
                    h.target.clone(),
                    div(h.throughput_rps.median, s.throughput_rps.median),
                )
            })
            .collect();
        let parts = more_level_fewer(&pairs, "completed more");
        if parts.is_empty() {
            continue;
        }
        out.push(format!(
            "**Requests per second, {}**, with Redis sharing the machine's cores: the session completed {}; {} (× the session's).",
            connections_words(scenario),
            int(s.throughput_rps.median),
            parts.join("; ")
        ));
    }
    out
}

/// The session server's own CPU against each token's whole server CPU.
fn session_server_share(run: &Run) -> Vec<String> {
    let rows = &run.record.http;
    let Some(session) = session_target(run) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for scenario in closed(rows) {
        let Some(s) = data::summary(rows, session, scenario) else {
            continue;
        };
        let own = s.server_cpu_us.median;
        if own.is_nan() || own <= 0.0 {
            continue;
        }
        let below: Vec<String> = token_targets(run)
            .into_iter()
            .filter_map(|t| data::summary(rows, t, scenario))
            .filter(|h| h.server_cpu_us.median > 0.0 && h.server_cpu_us.median < own)
            .map(|h| format!("{} ({} µs)", h.target, us(h.server_cpu_us.median)))
            .collect();
        let redis = if s.redis_cpu_us.median > 0.0 {
            format!(", and Redis another {} µs", us(s.redis_cpu_us.median))
        } else {
            String::new()
        };
        let verdict = if below.is_empty() {
            "less than any token's server spent".to_owned()
        } else {
            format!("more than the whole server CPU of {}", list(&below))
        };
        out.push(format!(
            "**The session server's own share**, {}: {} µs of CPU per request{redis}; {verdict}.",
            connections_words(scenario),
            us(own)
        ));
    }
    out
}

/// The JWT's server CPU above `/healthz` against its in-process verify, at the fewest
/// connections: whether the verify explains the gap.
fn verify_gap_sentence(run: &Run) -> Option<String> {
    let rows = &run.record.http;
    let scenario = *closed(rows).first()?;
    let base = data::summary(rows, BASELINE, scenario)?
        .server_cpu_us
        .median;
    let mut pairs = Vec::new();
    for t in token_targets(run) {
        let Some(alg) = t.strip_prefix("jwt-") else {
            continue;
        };
        let Some(m) = run
            .record
            .micro
            .iter()
            .find(|m| m.op == "verify" && m.id == t)
        else {
            continue;
        };
        let Some(h) = data::summary(rows, t, scenario) else {
            continue;
        };
        let gap = h.server_cpu_us.median - base;
        let verify = m.median_ns / 1e3;
        if gap.is_finite() && gap > 0.0 && verify > 0.0 {
            pairs.push((alg.to_owned(), gap, verify));
        }
    }
    if pairs.is_empty() {
        return None;
    }
    let ratios: Vec<f64> = pairs.iter().map(|p| p.1 / p.2).collect();
    let lo = ratios.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = ratios.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let detail = list(
        &pairs
            .iter()
            .map(|(a, g, v)| format!("{a} {} µs against {} µs", us(*g), us(*v)))
            .collect::<Vec<_>>(),
    );
    let conclusion = if lo > 1.0 + 0.5 {
        "the verify alone does not explain the HTTP gap: the rest is work `/me` does and `/healthz` does not (reading the credential header, building the JSON answer, a larger request head), which this run does not separate"
    } else if hi < 1.0 + 0.5 {
        "the verify accounts for most of the gap"
    } else {
        "the verify explains the gap for some algorithms and not for others"
    };
    Some(format!(
        "**The HTTP gap against the verify**, {}: a token request's server CPU above `/healthz` was {} its in-process verify ({detail}); {conclusion}.",
        connections_words(scenario),
        if ratio(lo) == ratio(hi) {
            times(lo)
        } else {
            format!("{} to {}", times(lo), times(hi))
        }
    ))
}

/// Late share of an open-loop `(target, scenario)` over its repetitions.
fn late_share(run: &Run, target: &str, scenario: &str) -> Option<f64> {
    let (late, requests) = run
        .runs(target, scenario)
        .fold((None, 0u64), |(late, req), r| {
            (
                match (late, r.late) {
                    (None, None) => None,
                    (a, b) => Some(a.unwrap_or(0) + b.unwrap_or(0)),
                },
                req + r.requests,
            )
        });
    late.map(|l| div(l as f64, requests as f64))
}

/// The load generator's own late share on this machine for `target`: its capacity search's
/// light probe (0 in runs without a search).
pub fn late_floor(run: &Run, target: &str) -> f64 {
    run.record
        .open_capacity
        .iter()
        .find(|c| c.target == target)
        .map_or(0.0, |c| c.late_floor)
}

/// Whether an open-loop run measured overload: more than [`LATE_SHARE`] of its requests late
/// beyond the generator's own floor ([`late_floor`]).
pub fn overloaded(run: &Run, target: &str, scenario: &str) -> bool {
    late_share(run, target, scenario).is_some_and(|s| s > late_floor(run, target) + LATE_SHARE)
}

fn overload_sentences(run: &Run) -> Vec<String> {
    let rows = &run.record.http;
    let mut out = Vec::new();
    for scenario in data::scenarios(rows) {
        if data::is_closed(scenario) {
            continue;
        }
        let over: Vec<String> = data::targets(rows)
            .into_iter()
            .filter(|t| overloaded(run, t, scenario))
            .map(|t| {
                format!(
                    "{t} ({} late against a floor of {})",
                    percent(late_share(run, t, scenario).unwrap_or(f64::NAN)),
                    percent(late_floor(run, t))
                )
            })
            .collect();
        if over.is_empty() {
            continue;
        }
        out.push(format!(
            "**Overloaded open-loop runs**, {}: {} sent more than {} of their requests late beyond the generator's own floor (its late share at light load), so their latency measures a queue, not the service; the latency table marks them and the chart leaves them out.",
            data::short_scenario(scenario),
            list(&over),
            percent(LATE_SHARE)
        ));
    }
    out
}

/// `results-sizes.md`.
pub fn sizes(run: &Run) -> Vec<String> {
    let sizes = &run.record.sizes;
    let mut out = Vec::new();
    let session = session_target(run).unwrap_or("session");
    let Some(s) = sizes.iter().find(|z| z.configuration == session) else {
        return out;
    };
    let others: Vec<_> = sizes
        .iter()
        .filter(|z| z.configuration != session)
        .collect();
    let min = others.iter().min_by_key(|z| z.token_bytes);
    let max = others.iter().max_by_key(|z| z.token_bytes);
    if let (Some(min), Some(max)) = (min, max) {
        out.push(format!(
            "**Size:** the session ID is {} bytes; the tokens run from {} bytes ({}) to {} bytes ({}), {} to {} the session ID, on every request.",
            s.token_bytes,
            min.token_bytes,
            min.configuration,
            max.token_bytes,
            max.configuration,
            times(div(min.token_bytes as f64, s.token_bytes as f64)),
            times(div(max.token_bytes as f64, s.token_bytes as f64)),
        ));
    }
    let over: Vec<String> = sizes
        .iter()
        .filter(|z| z.cookie_limit_share > 1.0)
        .map(|z| z.configuration.clone())
        .collect();
    if !over.is_empty() {
        out.push(format!(
            "**Cookie limit:** {} exceed the browser's per-cookie limit and would be dropped silently.",
            list(&over)
        ));
    } else if let Some(big) = sizes
        .iter()
        .max_by(|a, b| a.cookie_limit_share.total_cmp(&b.cookie_limit_share))
    {
        out.push(format!(
            "**Cookie limit:** every credential fits in one cookie; the largest, {}, uses {} of the browser's per-cookie limit.",
            big.configuration,
            percent(big.cookie_limit_share)
        ));
    }
    out.extend(wire_sentence(run));
    out
}

/// What HTTP/2 did to the credential's bytes: the extra bytes over the credential-less request
/// on a repeat, against HTTP/1.1's, and whether the encoder indexed anything.
fn wire_sentence(run: &Run) -> Option<String> {
    use crate::pages::sizes::wire_row;
    use authbench_spec::record::wire::{Form, Protocol};
    let none = |p| wire_row(run, "-", p, Form::None).map(|w| w.same_credential_bytes as f64);
    let (none1, none2) = (none(Protocol::Http1)?, none(Protocol::Http2)?);
    let mut parts = Vec::new();
    let mut indexed = Vec::new();
    for z in &run.record.sizes {
        let c = z.configuration.as_str();
        let h1 = wire_row(run, c, Protocol::Http1, Form::Authorization)?;
        let h2 = wire_row(run, c, Protocol::Http2, Form::Authorization)?;
        let extra1 = h1.same_credential_bytes as f64 - none1;
        let extra2 = h2.same_credential_bytes as f64 - none2;
        let fresh2 = h2.new_credential_bytes as f64 - none2;
        parts.push(format!("{c} {} B against {} B", int(extra2), int(extra1)));
        // A repeat that costs clearly less than another user's token was indexed.
        if extra2 < fresh2 * (1.0 - SAME_SHARE * 2.0) {
            indexed.push(c.to_owned());
        }
    }
    if parts.is_empty() {
        return None;
    }
    let how = if indexed.is_empty() {
        "HPACK's Huffman code is all that shrinks it: the encoder indexed no credential, so a repeated token costs as much as another user's, and the never-indexed form changes nothing".to_owned()
    } else {
        format!(
            "the encoder indexed the credential of {}, so a repeat on one connection costs a few bytes while another user's token costs the literal",
            list(&indexed)
        )
    };
    Some(format!(
        "**HTTP/2:** the `authorization` header of a repeated request adds, over a request without one, {} (HTTP/2 against HTTP/1.1); {how}.",
        list(&parts)
    ))
}

/// `results-verify.md`.
pub fn verify(run: &Run) -> Vec<String> {
    let micro = &run.record.micro;
    let mut out = Vec::new();
    let find = |id: &str| micro.iter().find(|m| m.op == "verify" && m.id == id);
    let algs: Vec<&str> = {
        let mut v: Vec<&str> = Vec::new();
        for m in micro {
            if m.op == "verify"
                && let Some(a) = m.id.strip_prefix("jwt-")
                && !v.contains(&a)
            {
                v.push(a);
            }
        }
        v
    };
    if let Some(session) = find("session") {
        let mut cheaper = Vec::new();
        let mut level = Vec::new();
        let mut dearer = Vec::new();
        for alg in &algs {
            let Some(j) = find(&format!("jwt-{alg}")) else {
                continue;
            };
            let r = div(j.median_ns, session.median_ns);
            let item = format!("{alg} ({} µs)", us_from_ns(j.median_ns));
            if r < 1.0 - SAME_SHARE {
                cheaper.push(item);
            } else if r > 1.0 + SAME_SHARE {
                dearer.push(item);
            } else {
                level.push(item);
            }
        }
        let mut parts = Vec::new();
        if !cheaper.is_empty() {
            parts.push(format!("cheaper for {}", list(&cheaper)));
        }
        if !level.is_empty() {
            parts.push(format!("about the same for {}", list(&level)));
        }
        if !dearer.is_empty() {
            parts.push(format!("dearer for {}", list(&dearer)));
        }
        if !parts.is_empty() {
            out.push(format!(
                "**In process**, a session verify (one Redis round trip on loopback) took {} µs; the strict JWT verify was {}.",
                us_from_ns(session.median_ns),
                parts.join(", ")
            ));
        }
        if let Some(get) = run.record.redis_benchmark.iter().find(|b| b.clients == 1)
            && get.p50_us > 0.0
        {
            out.push(format!(
                "**Session against its floor:** the session verify took {} a bare Redis `GET` ({} µs, `redis-benchmark` p50 with one client).",
                times(div(session.median_ns / 1e3, get.p50_us)),
                us(get.p50_us)
            ));
        }
    }
    let mut slower = Vec::new();
    let mut compared = 0;
    for alg in &algs {
        let (Some(ours), Some(default)) = (
            find(&format!("jwt-{alg}")),
            find(&format!("jsonwebtoken-default-{alg}")),
        ) else {
            continue;
        };
        compared += 1;
        let r = div(ours.median_ns, default.median_ns);
        if r > 1.0 + SAME_SHARE {
            slower.push(format!("{alg} ({})", times(r)));
        }
    }
    if compared > 0 {
        out.push(if slower.is_empty() {
            "**Strictness is free:** our strict verify was no slower than `jsonwebtoken::decode` with its default `Validation` for any algorithm.".to_owned()
        } else {
            format!(
                "**Strictness costs:** our strict verify was slower than `jsonwebtoken::decode` with its default `Validation` for {}.",
                list(&slower)
            )
        });
    }
    out
}

/// `results-http.md`.
pub fn http(run: &Run) -> Vec<String> {
    let mut out = peer_sentences(run);
    out.extend(per_core_sentences(run));
    out.extend(throughput_sentences(run));
    out.extend(session_server_share(run));
    out.extend(verify_gap_sentence(run));
    out.extend(overload_sentences(run));
    out
}

/// One point of the session's latency against the added Redis round trip: (round trip ms,
/// p50 µs).
pub(crate) fn distance_points<'a>(
    run: &'a Run,
    scenario: &str,
) -> Vec<(f64, f64, &'a HttpSummary)> {
    let rows = &run.record.redis_distance;
    let mut points: Vec<(f64, f64, &HttpSummary)> = data::targets(rows)
        .into_iter()
        .filter_map(|t| {
            let d = distance_ms(t)?;
            let applied = run
                .record
                .proxies
                .iter()
                .find(|p| (p.requested_ms - d).abs() < 1e-9)
                .map_or(d, |p| p.applied_mean_ms);
            let h = data::summary(rows, t, scenario)?;
            Some((2.0 * applied, h.p50_us.median, h))
        })
        .collect();
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    points
}

/// Where the session's p50 meets `p50` as the round trip grows, by linear interpolation
/// between measured points: `Ok(rtt ms)`, `Err(true)` when the session is already slower at
/// the nearest point, `Err(false)` when it is still faster at the farthest.
pub fn break_even(points: &[(f64, f64)], p50: f64) -> Result<f64, bool> {
    let Some(first) = points.first() else {
        return Err(false);
    };
    if first.1 >= p50 {
        return Err(true);
    }
    for w in points.windows(2) {
        let ((r0, s0), (r1, s1)) = (w[0], w[1]);
        if s0 < p50 && s1 >= p50 {
            return Ok(r0 + (p50 - s0) * (r1 - r0) / (s1 - s0));
        }
    }
    Err(false)
}

/// A per-request count: two decimals, or the first significant digits of a small but non-zero
/// one (`0.0005` round trips per request is not `0.00`).
fn count(x: f64) -> String {
    if x > 0.0 && x < 0.01 {
        let mut s = format!("{x:.6}");
        while s.ends_with('0') {
            s.pop();
        }
        s
    } else {
        ratio(x)
    }
}

fn ms3(x: f64) -> String {
    sig3(x)
}

/// The break-even sentences: per closed scenario measured both ways.
pub fn break_even_sentences(run: &Run) -> Vec<String> {
    let mut out = Vec::new();
    for scenario in closed(&run.record.redis_distance) {
        let points = distance_points(run, scenario);
        if points.len() < 2 {
            continue;
        }
        let pts: Vec<(f64, f64)> = points.iter().map(|p| (p.0, p.1)).collect();
        let far = pts[pts.len() - 1];
        let mut meets = Vec::new();
        let mut already = Vec::new();
        let mut beyond = Vec::new();
        for t in token_targets(run) {
            let Some(h) = data::summary(&run.record.http, t, scenario) else {
                continue;
            };
            let p = h.p50_us.median;
            match break_even(&pts, p) {
                Ok(rtt) => meets.push(format!("{t} ({} µs) at about {} ms", int(p), ms3(rtt))),
                Err(true) => already.push(format!("{t} ({} µs)", int(p))),
                Err(false) => beyond.push(format!("{t} ({} µs)", int(p))),
            }
        }
        let lead = format!(
            "**Break-even Redis distance**, {}, p50: the session's p50 was {} µs with Redis on loopback and {} µs with {} ms added per round trip",
            connections_words(scenario),
            int(pts[0].1),
            int(far.1),
            ms3(far.0)
        );
        let mut parts = Vec::new();
        if !meets.is_empty() {
            parts.push(format!(
                "it reaches the p50 of {} of added round trip (interpolated between the measured distances)",
                list(&meets)
            ));
        }
        if !already.is_empty() {
            parts.push(format!(
                "it was already above the p50 of {} on loopback, so for them there is no break-even: any distance widens the gap",
                list(&already)
            ));
        }
        if !beyond.is_empty() {
            parts.push(format!(
                "it stayed below the p50 of {} at every distance measured",
                list(&beyond)
            ));
        }
        if parts.is_empty() {
            continue;
        }
        out.push(format!(
            "{lead}; {}. The token p50s are the HTTP page's, on the same machine.",
            parts.join("; ")
        ));
    }
    out
}

/// `results-distance.md`.
pub fn distance(run: &Run) -> Vec<String> {
    let mut out = Vec::new();
    for scenario in closed(&run.record.redis_distance) {
        let points = distance_points(run, scenario);
        if points.len() < 2 {
            continue;
        }
        let (r0, s0, h0) = points[0];
        let (r1, s1, h1) = points[points.len() - 1];
        let added_us = (r1 - r0) * 1e3;
        if added_us > 0.0 {
            out.push(format!(
                "**Latency**, {}: the p50 rose by {} µs for {} ms of added round trip, {} the added time.",
                connections_words(scenario),
                int(s1 - s0),
                ms3(r1 - r0),
                times(div(s1 - s0, added_us))
            ));
        }
        let change = |a: f64, b: f64| div(b - a, a);
        let server = change(h0.server_cpu_us.median, h1.server_cpu_us.median);
        let redis = change(h0.redis_cpu_us.median, h1.redis_cpu_us.median);
        let describe = |name: &str, a: f64, b: f64, c: f64| {
            if !c.is_finite() {
                None
            } else if c.abs() <= CPU_CHANGE {
                Some(format!(
                    "{name}'s stayed within {} ({} → {} µs)",
                    percent(CPU_CHANGE),
                    us(a),
                    us(b)
                ))
            } else {
                Some(format!(
                    "{name}'s went from {} to {} µs ({})",
                    us(a),
                    us(b),
                    times(div(b, a))
                ))
            }
        };
        let parts: Vec<String> = [
            describe(
                "the server",
                h0.server_cpu_us.median,
                h1.server_cpu_us.median,
                server,
            ),
            describe(
                "Redis",
                h0.redis_cpu_us.median,
                h1.redis_cpu_us.median,
                redis,
            ),
        ]
        .into_iter()
        .flatten()
        .collect();
        if !parts.is_empty() {
            let grew = server > CPU_CHANGE || redis > CPU_CHANGE;
            out.push(format!(
                "**CPU per request**, {}, from loopback to the farthest distance: {}{}.",
                connections_words(scenario),
                list(&parts),
                if grew {
                    "; waiting longer is not free on this machine (the run does not say why; fewer requests batched per wake-up is one candidate)"
                } else {
                    ""
                }
            ));
        }
    }
    out.extend(break_even_sentences(run));
    out
}

fn phase_words(phase: &str) -> &str {
    match phase {
        "logout" => "a logout",
        "logout-all" => "a log-out-everywhere",
        "role-change" => "a role change",
        p => p,
    }
}

/// Whether every target of every phase reflected the change.
fn bites_always(s: &authbench_spec::record::revocation::StrategyResult) -> bool {
    !s.phases.is_empty() && s.phases.iter().all(|p| p.not_reflected == 0)
}

/// `results-revocation.md`.
pub fn revocation(run: &Run) -> Vec<String> {
    let rv = &run.record.revocation;
    let watched = rv.plan.after.as_secs_f64();
    let mut out = Vec::new();
    for s in &rv.strategies {
        let mut bit = Vec::new();
        let mut never = Vec::new();
        for p in &s.phases {
            if p.not_reflected == 0 {
                bit.push(format!(
                    "{} within {} ms",
                    phase_words(&p.phase),
                    p.window_ms_max.map_or_else(|| MISSING.to_owned(), ms3)
                ));
            } else {
                let said = if p.server_answer.contains("revoked")
                    && !p.server_answer.contains("not-revoked")
                {
                    format!(", although the server answered `{}`", p.server_answer)
                } else {
                    String::new()
                };
                never.push(format!(
                    "{} ({} of {} credentials unchanged, {} answers with the old facts{said})",
                    phase_words(&p.phase),
                    p.not_reflected,
                    p.targets,
                    p.accepted_after
                ));
            }
        }
        let mut parts = Vec::new();
        if !bit.is_empty() {
            parts.push(format!("bit for {} (slowest credential)", list(&bit)));
        }
        if !never.is_empty() {
            parts.push(format!(
                "did not bite within the {} s watched for {}",
                sig3(watched),
                list(&never)
            ));
        }
        out.push(format!(
            "**{}:** {} Redis round trips and {} Redis commands per request; {}.",
            s.strategy,
            count(s.redis_round_trips_per_request),
            count(s.redis_commands_per_request),
            parts.join("; ")
        ));
    }
    let always: Vec<&_> = rv.strategies.iter().filter(|s| bites_always(s)).collect();
    if !always.is_empty() {
        let fewest = always
            .iter()
            .map(|s| s.redis_round_trips_per_request)
            .fold(f64::INFINITY, f64::min);
        let names: Vec<String> = always.iter().map(|s| s.strategy.clone()).collect();
        let cheapest: Vec<String> = always
            .iter()
            .filter(|s| s.redis_round_trips_per_request <= fewest * (1.0 + SAME_SHARE) + 1e-9)
            .map(|s| s.strategy.clone())
            .collect();
        let tail = if names.len() == 1 {
            format!("it makes {} Redis round trips per request", count(fewest))
        } else if cheapest.len() == names.len() {
            format!(
                "they make the same number of Redis round trips per request ({})",
                count(fewest)
            )
        } else {
            format!(
                "of them, {} makes the fewest Redis round trips per request ({})",
                list(&cheapest),
                count(fewest)
            )
        };
        out.push(format!(
            "**Every phase bit for** {} only; {tail}.",
            list(&names)
        ));
    }
    out
}

/// `results-failure.md`: the frozen-Redis phase and the cluster failover.
pub fn failure(run: &Run) -> Vec<String> {
    let mut out = Vec::new();
    let rv = &run.record.revocation;
    let mut kept = Vec::new();
    let mut stalled = Vec::new();
    let mut fail_open = Vec::new();
    for s in &rv.strategies {
        let o = &s.outage;
        let total: u64 = o.during.values().sum();
        if total == 0 || o.frozen_s.is_nan() || o.frozen_s <= 0.0 {
            continue;
        }
        let ok = o.during.get("200").copied().unwrap_or(0);
        let unavailable = o.during.get("503").copied().unwrap_or(0);
        if o.accepted_revoked > 0 {
            fail_open.push(format!("{} ({})", s.strategy, o.accepted_revoked));
        }
        let after: u64 = o.after.values().sum();
        if div(unavailable as f64, total as f64) > 0.5 {
            stalled.push(format!(
                "{} ({total} answers, {unavailable} of them 503: {} per second, against {after} in the second after)",
                s.strategy,
                sig3(total as f64 / o.frozen_s)
            ));
        } else {
            kept.push(format!(
                "{} ({total} answers, {ok} of them 200)",
                s.strategy
            ));
        }
    }
    let frozen = rv
        .strategies
        .first()
        .map_or(f64::NAN, |s| s.outage.frozen_s);
    if !kept.is_empty() {
        out.push(format!(
            "**Redis frozen for {} s:** {} kept answering without Redis.",
            sig3(frozen),
            list(&kept)
        ));
    }
    if !stalled.is_empty() {
        out.push(format!(
            "**Redis frozen for {} s:** {} answered a handful of requests, mostly 503: a request that needs a frozen store waits for the store layer's timeout before its 503, so the probes, which send one request after another, got a few answers per second.",
            sig3(frozen),
            list(&stalled)
        ));
    }
    if fail_open.is_empty() && !rv.strategies.is_empty() {
        out.push("**Fail closed held:** no strategy accepted a revoked credential while Redis was frozen or after it returned.".to_owned());
    } else if !fail_open.is_empty() {
        out.push(format!(
            "**Fail closed broken:** {} accepted revoked credentials during the outage.",
            list(&fail_open)
        ));
    }
    out.extend(failover_sentences(run));
    out
}

fn failover_sentences(run: &Run) -> Vec<String> {
    let Some(scale) = &run.record.scale else {
        return Vec::new();
    };
    let mut lost = Vec::new();
    let mut kept = Vec::new();
    let mut evidence = Vec::new();
    for f in &scale.failover {
        if f.acknowledged == 0 {
            continue;
        }
        // Runs before the durability option have one record per backend: keep their names.
        let name = if scale.failover.iter().any(|g| g.durability != "none") {
            format!("{} (durability {})", f.backend, f.durability)
        } else {
            f.backend.clone()
        };
        let master = f.offsets_before.iter().find(|o| o.port == f.killed_port);
        let replica = f
            .offsets_after
            .iter()
            .find(|o| o.master_port == Some(f.killed_port));
        if let (Some(m), Some(r)) = (master, replica) {
            let got = r.slave_repl_offset.unwrap_or(0);
            if got == 0 && m.master_repl_offset > 0 {
                evidence.push(format!(
                    "{name}: the killed master had written {} bytes of replication stream, its replica had processed none (it had not finished its first full sync), so the node that took over had none of that master's data",
                    m.master_repl_offset
                ));
            } else if let Some(b) = f.replica_behind_bytes.filter(|&b| b > 0) {
                evidence.push(format!(
                    "{name}: the replica was {b} bytes of replication stream behind at the kill"
                ));
            }
        }
        let name = &name;
        if f.lost > 0 {
            lost.push(format!(
                "{} lost {} of {} acknowledged logouts ({})",
                name,
                f.lost,
                f.acknowledged,
                percent(div(f.lost as f64, f.acknowledged as f64))
            ));
        } else {
            kept.push(format!("{} lost none of {}", name, f.acknowledged));
        }
    }
    let all: Vec<String> = lost.iter().chain(kept.iter()).cloned().collect();
    if all.is_empty() {
        return Vec::new();
    }
    let tail = if lost.is_empty() {
        ""
    } else {
        ": a revocation acknowledged by a primary can come back to life when its replica takes over"
    };
    let mut out = vec![format!(
        "**Cluster failover:** with a master killed under a stream of logouts, {}{tail}.",
        list(&all)
    )];
    if !evidence.is_empty() {
        out.push(format!(
            "**What the replication offsets showed at the kill:** {}. A session's record lives on the same node as its logout, so a replica that lacks the logout lacks the session too and the credential dies with the data; a JWT needs no record, so a deny-list entry that did not replicate brings the token back (unless the deny-list notices that its epoch is gone too, and refuses). With `--revocation-durability replica` no logout is acknowledged before a replica has it.",
            list(&evidence)
        ));
    }
    out
}

/// What multi-tenancy added: `/notes` under RLS against `/me`, per backend, at the fewest
/// connections.
pub fn tenancy(run: &Run) -> Vec<String> {
    let Some(t) = &run.record.tenancy else {
        return Vec::new();
    };
    let Some(scenario) = closed(&t.http).first().copied() else {
        return Vec::new();
    };
    let mut parts = Vec::new();
    let mut backends: Vec<&str> = Vec::new();
    for h in &t.http {
        if let Some(b) = h.target.strip_suffix("-me")
            && !backends.contains(&b)
        {
            backends.push(b);
        }
    }
    for b in backends {
        let find = |route: &str| {
            t.http
                .iter()
                .find(|h| h.scenario == scenario && h.target == format!("{b}-{route}"))
        };
        let (Some(me), Some(notes)) = (find("me"), find("notes-claims")) else {
            continue;
        };
        parts.push(format!(
            "{b} {} the p50 and {} µs more server CPU per request",
            times(div(notes.p50_us.median, me.p50_us.median)),
            us(notes.server_cpu_us.median - me.server_cpu_us.median)
        ));
    }
    if parts.is_empty() {
        return Vec::new();
    }
    vec![format!(
        "**Multi-tenancy**, {}: reading a tenant's notes under Row Level Security (tenant from the credential, one transaction per request) cost, against `/me`, {}; the database, not the credential, dominates.",
        connections_words(scenario),
        list(&parts)
    )]
}

/// `choosing.md`: the verdicts that decide, gathered.
pub fn choosing(run: &Run) -> Vec<String> {
    let mut out = peer_sentences(run);
    out.extend(per_core_sentences(run));
    out.extend(break_even_sentences(run));
    let rv = revocation(run);
    if let Some(last) = rv.last()
        && last.starts_with("**Every phase bit for**")
    {
        out.push(last.clone());
    }
    out.extend(
        failure(run)
            .into_iter()
            .filter(|s| s.starts_with("**Cluster failover") || s.starts_with("**Fail closed")),
    );
    out.extend(tenancy(run));
    out.extend(sizes(run).into_iter().take(1));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn break_even_interpolates_and_says_when_there_is_none() {
        let pts = [(0.0, 100.0), (1.0, 300.0), (2.0, 500.0)];
        assert_eq!(break_even(&pts, 200.0), Ok(0.5));
        assert_eq!(break_even(&pts, 400.0), Ok(1.5));
        assert_eq!(break_even(&pts, 90.0), Err(true));
        assert_eq!(break_even(&pts, 100.0), Err(true));
        assert_eq!(break_even(&pts, 600.0), Err(false));
        assert_eq!(break_even(&[], 600.0), Err(false));
    }

    #[test]
    fn lists_read_as_english() {
        assert_eq!(list(&[]), "");
        assert_eq!(list(&["a".into()]), "a");
        assert_eq!(list(&["a".into(), "b".into(), "c".into()]), "a, b and c");
    }

    #[test]
    fn ratios_split_into_ahead_level_behind() {
        let [a, l, b] = split_by_ratio(&[
            ("x".into(), 1.5),
            ("y".into(), 1.01),
            ("z".into(), 0.5),
            ("n".into(), f64::NAN),
        ]);
        assert_eq!(a, ["x (1.50×)"]);
        assert_eq!(l, ["y (1.01×)"]);
        assert_eq!(b, ["z (0.50×)"]);
    }
}
