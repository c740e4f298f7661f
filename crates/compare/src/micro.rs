//! In-process costs: what one verify or issue costs each backend, beside its floors.
//!
//! The criterion benches (`cargo bench`) are the detailed, interactive version; this is the
//! same comparison compressed into a few seconds so every `compare` run carries it. Each figure
//! is the median of many batches (a batch of `k` calls timed together, `k` chosen so a batch
//! lasts a few milliseconds), with the 10th and 90th percentiles as the spread.

use crate::stats::quantile;
use authbench_core::Authenticator;
use authbench_fixtures::{JsonwebtokenClaims, JweFixture, JwtFixture, SessionFixture, identity};
use authbench_jwt::Alg;
use std::hint::black_box;
use std::time::Instant;

pub use authbench_spec::record::micro::{MicroPlan, MicroResult};

/// One thing to time.
struct Subject<'a> {
    op: &'static str,
    id: String,
    alg: Option<Alg>,
    f: Box<dyn FnMut() + 'a>,
}

/// Times every subject in batches, *interleaved*: batch 1 of each, then batch 2 of each, and so
/// on, so that a noisy neighbour or a frequency change in the middle of the measurement hits
/// all of them alike and the ratios between them stay honest.
fn time_interleaved(plan: &MicroPlan, mut subjects: Vec<Subject<'_>>) -> Vec<MicroResult> {
    // Calibrate: how many calls fill one batch, for each subject?
    let per_batch: Vec<u64> = subjects
        .iter_mut()
        .map(|s| {
            let start = Instant::now();
            let mut calls = 0u64;
            while start.elapsed() < plan.batch_time / 4 || calls < 3 {
                (s.f)();
                calls += 1;
            }
            let per_call = start.elapsed().as_secs_f64() / calls as f64;
            ((plan.batch_time.as_secs_f64() / per_call) as u64).max(1)
        })
        .collect();
    let mut means: Vec<Vec<f64>> = vec![Vec::with_capacity(plan.batches); subjects.len()];
    for _ in 0..plan.batches {
        for (k, s) in subjects.iter_mut().enumerate() {
            let t = Instant::now();
            for _ in 0..per_batch[k] {
                (s.f)();
            }
            means[k].push(t.elapsed().as_nanos() as f64 / per_batch[k] as f64);
        }
    }
    subjects
        .into_iter()
        .zip(means)
        .zip(per_batch)
        .map(|((s, mut m), per_batch)| {
            m.sort_by(f64::total_cmp);
            MicroResult {
                op: s.op.to_owned(),
                id: s.id,
                alg: s.alg.map(|a| a.to_string()),
                median_ns: quantile(&m, 0.5),
                p10_ns: quantile(&m, 0.1),
                p90_ns: quantile(&m, 0.9),
                per_batch,
                batches: plan.batches,
            }
        })
        .collect()
}

/// Verify and issue for one JWT algorithm: ours, jsonwebtoken's default `decode`, and the raw
/// signature floor, interleaved so that drift on a shared machine hits all three alike.
pub fn jwt(alg: Alg, plan: &MicroPlan) -> Vec<MicroResult> {
    let fx = JwtFixture::new(alg);
    let who = identity(1);
    let subjects = vec![
        Subject {
            op: "verify",
            id: format!("jwt-{alg}"),
            alg: Some(alg),
            f: Box::new(|| {
                let _ = black_box(fx.backend.verify_now(black_box(&fx.token)));
            }),
        },
        Subject {
            op: "verify",
            id: format!("jsonwebtoken-default-{alg}"),
            alg: Some(alg),
            f: Box::new(|| {
                let _ = black_box(jsonwebtoken::decode::<JsonwebtokenClaims>(
                    black_box(fx.token.as_bytes()),
                    &fx.decoding_key,
                    &fx.validation,
                ));
            }),
        },
        Subject {
            op: "verify",
            id: format!("floor-raw-{alg}"),
            alg: Some(alg),
            f: Box::new(|| {
                let _ = black_box(
                    fx.raw_verifier
                        .verify_raw(black_box(&fx.signing_input), black_box(&fx.signature)),
                );
            }),
        },
        Subject {
            op: "issue",
            id: format!("jwt-{alg}"),
            alg: Some(alg),
            f: Box::new(|| {
                let _ = black_box(fx.backend.issue_now(black_box(&who)));
            }),
        },
    ];
    time_interleaved(plan, subjects)
}

/// Session verify latencies, one call at a time (concurrency 1), microseconds, sorted.
pub struct SessionLatency {
    /// Every call's latency, µs, sorted.
    pub sorted_us: Vec<f64>,
}

/// Every JWE mode of `JweFixture::standard_configs` (`dir`, `RSA-OAEP-256`,
/// `ECDH-ES+A256KW`, and the nested one), each beside its floors: a raw AES-256-GCM open
/// (verify) or seal (issue) of the same sizes, and for the public-key modes the raw key
/// management step alone. Ids: `jwe-dir-A256GCM`, `floor-aes-gcm-open-jwe-dir-A256GCM`,
/// `floor-key-jwe-…`; `alg` is the mode.
pub fn jwe(plan: &MicroPlan) -> Vec<MicroResult> {
    let mut out = Vec::new();
    for config in JweFixture::standard_configs() {
        let fx = JweFixture::new(config);
        fx.check();
        let label = fx.label();
        let mut subjects = vec![
            Subject {
                op: "verify",
                id: label.clone(),
                alg: None,
                f: Box::new(|| {
                    black_box(fx.verify());
                }),
            },
            Subject {
                op: "verify",
                id: format!("floor-aes-gcm-open-{label}"),
                alg: None,
                f: Box::new(|| {
                    black_box(fx.floor_open());
                }),
            },
            Subject {
                op: "issue",
                id: label.clone(),
                alg: None,
                f: Box::new(|| {
                    black_box(fx.issue());
                }),
            },
            Subject {
                op: "issue",
                id: format!("floor-aes-gcm-seal-{label}"),
                alg: None,
                f: Box::new(|| {
                    black_box(fx.floor_seal());
                }),
            },
        ];
        if fx.floor_key().is_some() {
            subjects.push(Subject {
                op: "verify",
                id: format!("floor-key-{label}"),
                alg: None,
                f: Box::new(|| {
                    black_box(fx.floor_key());
                }),
            });
        }
        let mut rows = time_interleaved(plan, subjects);
        for r in &mut rows {
            r.alg = Some(label.trim_start_matches("jwe-").to_owned());
        }
        out.extend(rows);
    }
    out
}

/// Session verify and issue against a private Redis, plus the session verify latency at
/// concurrency 1 (compared with `redis-benchmark -c 1`).
pub fn session(plan: &MicroPlan) -> (Vec<MicroResult>, SessionLatency) {
    let fx = SessionFixture::start();
    let who = identity(2);
    let out = time_interleaved(
        plan,
        vec![
            Subject {
                op: "verify",
                id: "session".into(),
                alg: None,
                f: Box::new(|| {
                    let _ = black_box(fx.rt.block_on(fx.backend.verify(black_box(&fx.token))));
                }),
            },
            Subject {
                op: "issue",
                id: "session".into(),
                alg: None,
                f: Box::new(|| {
                    let _ = black_box(fx.rt.block_on(fx.backend.issue(black_box(&who))));
                }),
            },
        ],
    );
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
