//! The decision calculator's model: the run's numbers it needs ([`data`]), and the formulas it
//! evaluates on a reader's inputs ([`evaluate`]).
//!
//! The book's calculator page (`book/src/calculator.md`) runs the same formulas in plain
//! JavaScript (`book/calculator.js`) on the JSON that [`js`] embeds in
//! `book/src/results/calculator-data.js`; the book test loads that page in headless Chromium
//! and checks every output against [`evaluate`] here, on the same JSON. Change a formula in one
//! place and that test fails until the other agrees.
//!
//! # The model, and its assumptions
//!
//! - **CPU scales linearly.** Cores needed = verifies per second × CPU per request, where
//!   verifies per second = peak requests per second × services that verify each request. The
//!   CPU per request is the run's closed loop with the most connections ([`cost_scenario`]: a
//!   busy server).
//! - **Latency is a single request's.** The p50 is the run's closed loop at
//!   [`LATENCY_SCENARIO`] (one request at a time, no queueing), plus, for each Redis round trip,
//!   the reader's round-trip time scaled by the slope the distance runs measured (µs of p50 per
//!   µs of added round trip). The reader's round trip is counted as *added* to loopback's,
//!   which overstates it by the loopback round trip.
//! - **A deny-list round trip costs what the session's does beyond a JWT request**: on the app
//!   server, the session's server CPU less an HS256 request's server CPU without its
//!   in-process verify; on Redis, the session's Redis CPU per round trip (an upper bound for a
//!   one-key read, since the session's verify does more). Strategies were measured with one
//!   algorithm; their round trips, memory and windows do not depend on it.
//! - **Revocation windows** are the slowest credential of the run's revocation phases where
//!   every credential reflected the change, and the token's lifetime (an input) where none did.
//! - **Memory** is Redis bytes per logged-in user × users, a linear extrapolation.

use crate::data::{self, Run};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// The HTTP scenario whose CPU per request the model uses, a loaded server: the closed loop
/// with the most connections the run measured (`closed-c32` in the full profile).
pub fn cost_scenario(run: &Run) -> Option<&str> {
    data::scenarios(&run.record.http)
        .into_iter()
        .filter_map(|s| Some((data::closed_connections(s)?, s)))
        .max_by_key(|(c, _)| *c)
        .map(|(_, s)| s)
}

/// The HTTP scenario whose p50 the model uses: one request at a time.
pub const LATENCY_SCENARIO: &str = "closed-c1";

/// The designs the calculator compares, in display order: the session, then one JWT per
/// revocation strategy.
pub const DESIGNS: &[&str] = &["session", "none", "denylist", "epoch", "refresh"];

/// The JavaScript global the data file assigns.
pub const GLOBAL: &str = "AUTHBENCH_CALCULATOR";

/// A reader's facts, as the page's inputs (and URL query parameters) name them.
#[derive(Debug, Clone, PartialEq)]
pub struct Inputs {
    /// `rate`: peak requests per second.
    pub rate: f64,
    /// `rtt`: Redis round-trip time from the verifying servers, ms.
    pub rtt_ms: f64,
    /// `alg`: the JWT algorithm, one of the data's `algorithms`.
    pub alg: String,
    /// `revoke`: how fast a revocation must bite, seconds.
    pub revoke_s: f64,
    /// `services`: how many services verify each request.
    pub services: f64,
    /// `users`: logged-in users at once.
    pub users: f64,
    /// `lifetime`: JWT access-token lifetime, seconds (strategies none, denylist, epoch).
    pub lifetime_s: f64,
    /// `refresh_lifetime`: access-token lifetime under the refresh strategy, seconds.
    pub refresh_lifetime_s: f64,
}

fn strategy_key(name: &str) -> Option<&'static str> {
    DESIGNS
        .iter()
        .copied()
        .find(|d| name == *d || name.ends_with(&format!("-{d}")))
}

fn num(x: f64) -> Value {
    if x.is_finite() { json!(x) } else { Value::Null }
}

/// The run's numbers the calculator needs, as JSON (see the module docs for what each is).
pub fn data(run: &Run) -> Value {
    let rec = &run.record;
    let http = &rec.http;
    let session = rec
        .configurations
        .iter()
        .filter(|c| c.stateful && c.round_trips_per_verify > 0)
        .map(|c| c.name.as_str())
        .find(|n| data::targets(http).contains(n));
    let cost_scenario = cost_scenario(run).unwrap_or("closed-c32");
    let cost = |t: &str| data::summary(http, t, cost_scenario);
    let lat = |t: &str| data::summary(http, t, LATENCY_SCENARIO);

    let mut algorithms = Vec::new();
    let mut jwt = Map::new();
    for t in data::targets(http) {
        let Some(alg) = t.strip_prefix("jwt-") else {
            continue;
        };
        let (Some(c), Some(l)) = (cost(t), lat(t)) else {
            continue;
        };
        algorithms.push(alg.to_owned());
        jwt.insert(
            alg.to_owned(),
            json!({ "server_cpu_us": num(c.server_cpu_us.median), "p50_us": num(l.p50_us.median) }),
        );
    }

    let hs_verify_us = rec
        .micro
        .iter()
        .find(|m| m.op == "verify" && m.id == "jwt-HS256")
        .map_or(f64::NAN, |m| m.median_ns / 1e3);
    let (mut s_server, mut s_redis, mut s_p50) = (f64::NAN, f64::NAN, f64::NAN);
    if let Some(s) = session {
        if let Some(c) = cost(s) {
            s_server = c.server_cpu_us.median;
            s_redis = c.redis_cpu_us.median;
        }
        if let Some(l) = lat(s) {
            s_p50 = l.p50_us.median;
        }
    }
    let (hs_server, hs_p50) = (
        cost("jwt-HS256").map_or(f64::NAN, |h| h.server_cpu_us.median),
        lat("jwt-HS256").map_or(f64::NAN, |h| h.p50_us.median),
    );
    let round_trip_server_cpu_us = (s_server - (hs_server - hs_verify_us)).max(0.0);
    let round_trip_p50_us = (s_p50 - (hs_p50 - hs_verify_us)).max(0.0);

    let points = crate::pages::verdict::distance_points(run, LATENCY_SCENARIO);
    let slope = match (points.first(), points.last()) {
        (Some(a), Some(b)) if b.0 > a.0 => (b.1 - a.1) / ((b.0 - a.0) * 1e3),
        _ => f64::NAN,
    };

    let failover: BTreeMap<&str, (u64, u64)> = rec
        .scale
        .as_ref()
        .map(|s| {
            s.failover
                .iter()
                .filter_map(|f| Some((strategy_key(&f.backend)?, (f.lost, f.acknowledged))))
                .collect()
        })
        .unwrap_or_default();

    let mut strategies = Map::new();
    for s in &rec.revocation.strategies {
        let Some(key) = strategy_key(&s.strategy) else {
            continue;
        };
        let window = |phase: &str| {
            s.phases
                .iter()
                .find(|p| p.phase == phase)
                .and_then(|p| (p.not_reflected == 0).then_some(p.window_ms_max).flatten())
                .map_or(Value::Null, num)
        };
        let (lost, acknowledged) = failover.get(key).copied().unwrap_or((0, 0));
        strategies.insert(
            key.to_owned(),
            json!({
                "measured_as": s.strategy,
                "round_trips": num(s.redis_round_trips_per_request),
                "bytes_per_user": num(s.redis_bytes_per_user),
                "bytes_per_revoked": num(s.redis_bytes_per_revoked),
                "logout_window_ms": window("logout"),
                "logout_all_window_ms": window("logout-all"),
                "failover_lost": lost,
                "failover_acknowledged": acknowledged,
            }),
        );
    }

    json!({
        "run": { "started_at": rec.started_at, "commit": rec.git.get("commit").cloned().unwrap_or(Value::Null) },
        "cost_scenario": cost_scenario,
        "latency_scenario": LATENCY_SCENARIO,
        "algorithms": algorithms,
        "jwt": jwt,
        "session": {
            "measured_as": session,
            "server_cpu_us": num(s_server),
            "redis_cpu_us": num(s_redis),
            "p50_us": num(s_p50),
        },
        "round_trip_server_cpu_us": num(round_trip_server_cpu_us),
        "round_trip_p50_us": num(round_trip_p50_us),
        "distance_slope": num(slope),
        "strategies": strategies,
        "defaults": {
            "lifetime_s": authbench_spec::DEFAULT_TTL_SECS,
            "refresh_lifetime_s": authbench_spec::DEFAULT_REFRESH_ACCESS_TTL_SECS,
        },
    })
}

/// `calculator-data.js`: the JSON of [`data`] assigned to `window.AUTHBENCH_CALCULATOR`.
pub fn js(run: &Run) -> String {
    format!(
        "// Written by `authbench report` from the run; read by book/calculator.js.\nwindow.{GLOBAL} = {};\n",
        data(run)
    )
}

/// The JSON text inside a `calculator-data.js` file, if it is one.
pub fn json_of_js(js: &str) -> Option<&str> {
    let start = js.find(&format!("window.{GLOBAL} = "))? + GLOBAL.len() + 10;
    let end = js.rfind(';')?;
    (end > start).then(|| js[start..end].trim())
}

fn f(v: &Value, path: &[&str]) -> f64 {
    let mut v = v;
    for p in path {
        match v.get(p) {
            Some(x) => v = x,
            None => return f64::NAN,
        }
    }
    v.as_f64().unwrap_or(f64::NAN)
}

/// Every output of the calculator for `inputs`, keyed `<design>.<output>` (designs in
/// [`DESIGNS`]; outputs `app_cores`, `redis_cores`, `total_cores`, `p50_us`, `redis_mib`,
/// `logout_window_s`, `logout_all_window_s`, `meets`), exactly as `book/calculator.js` computes
/// them (same operations, same order). A figure the data lacks is NaN.
pub fn evaluate(data: &Value, inputs: &Inputs) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    let verifies = inputs.rate * inputs.services;
    let rtt_us = inputs.rtt_ms * 1000.0;
    let slope = f(data, &["distance_slope"]);
    let rt_cpu = f(data, &["round_trip_server_cpu_us"]);
    let rt_p50 = f(data, &["round_trip_p50_us"]);
    let j_cpu = f(data, &["jwt", &inputs.alg, "server_cpu_us"]);
    let j_p50 = f(data, &["jwt", &inputs.alg, "p50_us"]);
    let s_cpu = f(data, &["session", "server_cpu_us"]);
    let s_redis = f(data, &["session", "redis_cpu_us"]);
    let s_p50 = f(data, &["session", "p50_us"]);
    let s_trips = f(data, &["strategies", "session", "round_trips"]);
    let redis_per_trip = s_redis / s_trips;
    for &d in DESIGNS {
        let trips = f(data, &["strategies", d, "round_trips"]);
        let (app_us, redis_us, p50) = if d == "session" {
            (s_cpu, s_redis, s_p50 + trips * slope * rtt_us)
        } else {
            (
                j_cpu + trips * rt_cpu,
                trips * redis_per_trip,
                j_p50 + trips * (rt_p50 + slope * rtt_us),
            )
        };
        let app_cores = verifies * app_us / 1e6;
        let redis_cores = verifies * redis_us / 1e6;
        let lifetime = if d == "refresh" {
            inputs.refresh_lifetime_s
        } else {
            inputs.lifetime_s
        };
        let window = |phase: &str| {
            let ms = f(data, &["strategies", d, phase]);
            if ms.is_nan() { lifetime } else { ms / 1000.0 }
        };
        let logout = window("logout_window_ms");
        let logout_all = window("logout_all_window_ms");
        let meets = if logout.max(logout_all) <= inputs.revoke_s {
            1.0
        } else {
            0.0
        };
        let mib = inputs.users * f(data, &["strategies", d, "bytes_per_user"]) / 1048576.0;
        for (name, v) in [
            ("app_cores", app_cores),
            ("redis_cores", redis_cores),
            ("total_cores", app_cores + redis_cores),
            ("p50_us", p50),
            ("redis_mib", mib),
            ("logout_window_s", logout),
            ("logout_all_window_s", logout_all),
            ("meets", meets),
        ] {
            out.insert(format!("{d}.{name}"), v);
        }
    }
    out
}

/// [`evaluate`] on the JSON text of a data file.
///
/// # Errors
///
/// When `json` does not parse.
pub fn evaluate_json(json: &str, inputs: &Inputs) -> anyhow::Result<BTreeMap<String, f64>> {
    let data: Value = serde_json::from_str(json)?;
    Ok(evaluate(&data, inputs))
}
