//! In-process costs: what one verify or issue costs each backend, beside its floors.
//!
//! The criterion benches (`cargo bench`) are the detailed, interactive version; this is the
//! same comparison compressed into a few seconds so every `compare` run carries it. Each figure
//! is the median of many batches (a batch of `k` calls timed together, `k` chosen so a batch
//! lasts a few milliseconds), with the 10th and 90th percentiles as the spread.

use crate::stats::quantile;
use authbench_benches::{JsonwebtokenClaims, JwtFixture, SessionFixture, identity};
use authbench_core::Authenticator;
use authbench_jwt::Alg;
use serde::{Deserialize, Serialize};
use std::hint::black_box;
use std::time::{Duration, Instant};

/// How long the micro measurements take.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct MicroPlan {
    /// Batches per measurement.
    pub batches: usize,
    /// Target duration of one batch.
    #[serde(with = "crate::secs_f64")]
    pub batch_time: Duration,
    /// Sequential session verifies timed one by one for the latency percentiles.
    pub session_samples: usize,
}

/// One in-process measurement.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MicroResult {
    /// `verify` or `issue`.
    pub op: String,
    /// What was measured: `jwt-ES256`, `jsonwebtoken-default-ES256`, `floor-raw-ES256`,
    /// `session`, `floor-redis-GET` …
    pub id: String,
    /// The algorithm, for JWT rows.
    pub alg: Option<String>,
    /// Median time per call, nanoseconds.
    pub median_ns: f64,
    /// 10th percentile of the batch means, nanoseconds.
    pub p10_ns: f64,
    /// 90th percentile of the batch means, nanoseconds.
    pub p90_ns: f64,
    /// Calls per batch.
    pub per_batch: u64,
    /// Batches.
    pub batches: usize,
}

fn time_batches(
    op: &str,
    id: String,
    alg: Option<Alg>,
    plan: &MicroPlan,
    mut f: impl FnMut(),
) -> MicroResult {
    // Calibrate: how many calls fill one batch?
    let start = Instant::now();
    let mut calls = 0u64;
    while start.elapsed() < plan.batch_time / 4 || calls < 3 {
        f();
        calls += 1;
    }
    let per_call = start.elapsed().as_secs_f64() / calls as f64;
    let per_batch = ((plan.batch_time.as_secs_f64() / per_call) as u64).max(1);
    let mut means: Vec<f64> = (0..plan.batches)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..per_batch {
                f();
            }
            t.elapsed().as_nanos() as f64 / per_batch as f64
        })
        .collect();
    means.sort_by(f64::total_cmp);
    MicroResult {
        op: op.to_owned(),
        id,
        alg: alg.map(|a| a.to_string()),
        median_ns: quantile(&means, 0.5),
        p10_ns: quantile(&means, 0.1),
        p90_ns: quantile(&means, 0.9),
        per_batch,
        batches: plan.batches,
    }
}

/// Verify and issue for one JWT algorithm: ours, jsonwebtoken's default `decode`, and the raw
/// signature floor, interleaved so that drift on a shared machine hits all three alike.
pub fn jwt(alg: Alg, plan: &MicroPlan) -> Vec<MicroResult> {
    let fx = JwtFixture::new(alg);
    let mut out = Vec::new();
    out.push(time_batches(
        "verify",
        format!("jwt-{alg}"),
        Some(alg),
        plan,
        || {
            let _ = black_box(fx.backend.verify_now(black_box(&fx.token)));
        },
    ));
    out.push(time_batches(
        "verify",
        format!("jsonwebtoken-default-{alg}"),
        Some(alg),
        plan,
        || {
            let _ = black_box(jsonwebtoken::decode::<JsonwebtokenClaims>(
                black_box(fx.token.as_bytes()),
                &fx.decoding_key,
                &fx.validation,
            ));
        },
    ));
    out.push(time_batches(
        "verify",
        format!("floor-raw-{alg}"),
        Some(alg),
        plan,
        || {
            let _ = black_box(
                fx.raw_verifier
                    .verify_raw(black_box(&fx.signing_input), black_box(&fx.signature)),
            );
        },
    ));
    let who = identity(1);
    out.push(time_batches(
        "issue",
        format!("jwt-{alg}"),
        Some(alg),
        plan,
        || {
            let _ = black_box(fx.backend.issue_now(black_box(&who)));
        },
    ));
    out
}

/// Session verify latencies, one call at a time (concurrency 1), microseconds, sorted.
pub struct SessionLatency {
    /// Every call's latency, µs, sorted.
    pub sorted_us: Vec<f64>,
}

/// Session verify and issue against a private Redis, plus the session verify latency at
/// concurrency 1 (compared with `redis-benchmark -c 1`).
pub fn session(plan: &MicroPlan) -> (Vec<MicroResult>, SessionLatency) {
    let fx = SessionFixture::start();
    let mut out = Vec::new();
    out.push(time_batches("verify", "session".into(), None, plan, || {
        let _ = black_box(fx.rt.block_on(fx.backend.verify(black_box(&fx.token))));
    }));
    let who = identity(2);
    out.push(time_batches("issue", "session".into(), None, plan, || {
        let _ = black_box(fx.rt.block_on(fx.backend.issue(black_box(&who))));
    }));
    let mut sorted_us: Vec<f64> = (0..plan.session_samples)
        .map(|_| {
            let t = Instant::now();
            let _ = black_box(fx.rt.block_on(fx.backend.verify(&fx.token)));
            t.elapsed().as_nanos() as f64 / 1000.0
        })
        .collect();
    sorted_us.sort_by(f64::total_cmp);
    (out, SessionLatency { sorted_us })
}
