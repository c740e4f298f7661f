//! The criterion groups of session-vs-jwt: `verify`, `issue`, `claims_size`.
//!
//! Every group compares inside itself: one `BenchmarkId` per backend or algorithm, and the
//! floor (the bare primitive) in the same group, so the ratios hold on any machine even when
//! the absolute numbers do not. Fixtures are built before each group and never inside a timed
//! loop; inputs pass through `black_box` so the compiler cannot fold them away. What each ID
//! means: `benches/README.md`.
//!
//! The session benchmarks start their own `redis-server` (`authbench-services`), lazily, only when a
//! session benchmark actually runs: `cargo bench -- verify/jwt` needs no Redis at all.

// Benchmarks are a binary without a public API.
#![allow(missing_docs)]

use std::cell::OnceCell;
use std::hint::black_box;
use std::time::Duration;

use authbench_core::Authenticator as _;
use authbench_fixtures::{
    ClaimSet, ClaimsFixture, JsonwebtokenClaims, JwtFixture, RawSigner, SessionFixture,
    floor_session_id, unix_now,
};
use authbench_jwt::Alg;
use aws_lc_rs::rand::SystemRandom;
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

/// Samples per benchmark. Criterion's default is 100; 50 still gives a stable median and a
/// usable confidence interval, and halves the run on a small machine.
const SAMPLE_SIZE: usize = 50;

/// Time spent measuring each benchmark. Our operations take 0.3 µs to 0.5 ms, so even the
/// slowest (an RSA signature) gets its 50 samples (1 275 iterations) in under a second;
/// 3 s is for the fast ones, to average over a noisy neighbour's bursts.
const MEASUREMENT_TIME: Duration = Duration::from_secs(3);

/// Warm-up before measuring: long enough to fault in code and data, settle the CPU clock and
/// fill Redis's and the kernel's socket caches; every further second multiplies across ~50
/// benchmarks.
const WARM_UP_TIME: Duration = Duration::from_secs(1);

/// Changes smaller than this are reported as noise, not as regressions. A 2-core cloud VM
/// with a neighbour moves by a few percent between runs on its own; criterion's default (1 %)
/// would flag half the benchmarks on every run.
const NOISE_THRESHOLD: f64 = 0.05;

/// The configuration of every group, for a noisy 2-core machine (see the constants).
///
/// Plots are off by default: drawing criterion's charts (a kernel density estimate over
/// 100 000 bootstrap resamples per statistic, single-threaded without rayon) takes about 7 s
/// per benchmark on such a machine, longer than the measurement itself, and would more than
/// double the run. `cargo bench -p authbench-benches -- --plotting-backend plotters` turns
/// them back on (HTML report in `target/criterion/report/index.html`).
fn config() -> Criterion {
    Criterion::default()
        .sample_size(SAMPLE_SIZE)
        .measurement_time(MEASUREMENT_TIME)
        .warm_up_time(WARM_UP_TIME)
        .noise_threshold(NOISE_THRESHOLD)
        .without_plots()
}

/// `verify`: what it costs to answer "who is this?" for one request.
///
/// - `session`: our session verify against the private Redis on loopback: shape check,
///   SHA-256 of the ID, one `EVALSHA` round trip (read, judge, slide), parse the reply.
/// - `floor-redis-GET`: one plain `GET` on a connection configured like the backend's: the
///   round trip alone.
/// - `jwt-<ALG>`: our strict `JwtBackend::verify_now`, token to `Principal`.
/// - `floor-raw-<ALG>`: aws-lc-rs checking the same signature over the same signing input,
///   public key parsed on each call (`UnparsedPublicKey`, as jsonwebtoken does); for HS256,
///   `hmac::verify` with a prepared key.
/// - `floor-parsed-<ALG>`: the same with the key parsed once (`ParsedPublicKey`).
/// - `jsonwebtoken-default-<ALG>`: `jsonwebtoken::decode` with `Validation::new(alg)` plus our
///   `iss`/`aud`, into the same fields a `Principal` has.
fn verify(c: &mut Criterion) {
    let fixtures: Vec<JwtFixture> = Alg::ALL.into_iter().map(JwtFixture::new).collect();
    let session: OnceCell<SessionFixture> = OnceCell::new();
    let mut group = c.benchmark_group("verify");

    group.bench_function("session", |b| {
        let s = session.get_or_init(SessionFixture::start);
        let backend = &s.backend;
        let token = s.token.as_str();
        b.to_async(&s.rt).iter(|| async move {
            backend
                .verify(black_box(token))
                .await
                .expect("live session")
        });
    });
    group.bench_function("floor-redis-GET", |b| {
        let s = session.get_or_init(SessionFixture::start);
        b.to_async(&s.rt)
            .iter(|| async { s.floor_get().await.expect("GET") });
    });

    for f in &fixtures {
        let alg = f.alg;
        group.bench_with_input(
            BenchmarkId::from_parameter(format!("jwt-{alg}")),
            f,
            |b, f| {
                b.iter(|| {
                    f.backend
                        .verify_now(black_box(&f.token))
                        .expect("valid token")
                });
            },
        );
        group.bench_with_input(
            BenchmarkId::from_parameter(format!("floor-raw-{alg}")),
            f,
            |b, f| {
                b.iter(|| {
                    f.raw_verifier
                        .verify_raw(black_box(&f.signing_input), black_box(&f.signature))
                        .expect("valid signature")
                });
            },
        );
        if alg.is_asymmetric() {
            group.bench_with_input(
                BenchmarkId::from_parameter(format!("floor-parsed-{alg}")),
                f,
                |b, f| {
                    b.iter(|| {
                        f.raw_verifier
                            .verify_parsed(black_box(&f.signing_input), black_box(&f.signature))
                            .map(|r| r.expect("valid signature"))
                    });
                },
            );
        }
        group.bench_with_input(
            BenchmarkId::from_parameter(format!("jsonwebtoken-default-{alg}")),
            f,
            |b, f| {
                b.iter(|| {
                    jsonwebtoken::decode::<JsonwebtokenClaims>(
                        black_box(&f.token),
                        &f.decoding_key,
                        &f.validation,
                    )
                    .expect("valid token")
                });
            },
        );
    }
    group.finish();
}

/// `issue`: what a login costs, once the password has been checked.
///
/// - `session`: our session issue: 32 random bytes, base64url, SHA-256, one `EVALSHA` round
///   trip that writes the record and the user's index (a new session every iteration, for
///   [`authbench_fixtures::ISSUE_USERS`] users round robin).
/// - `floor-session-id`: the ID's primitives alone (random bytes, base64url, SHA-256): a
///   re-creation, since the session crate keeps its ID generator private.
/// - `jwt-<ALG>`: our `JwtBackend::issue_now`: random `jti`, claims to JSON, base64url, sign.
/// - `floor-raw-<ALG>`: the bare aws-lc-rs signature (or HMAC) of a same-sized signing input,
///   private key parsed once.
fn issue(c: &mut Criterion) {
    let fixtures: Vec<JwtFixture> = Alg::ALL.into_iter().map(JwtFixture::new).collect();
    let session: OnceCell<SessionFixture> = OnceCell::new();
    let rng = SystemRandom::new();
    let mut group = c.benchmark_group("issue");

    group.bench_function("session", |b| {
        let s = session.get_or_init(SessionFixture::start);
        let (backend, users) = (&s.backend, s.users.as_slice());
        let mut next = 0usize;
        b.to_async(&s.rt).iter(move || {
            next = (next + 1) % users.len();
            let who = &users[next];
            async move { backend.issue(black_box(who)).await.expect("issue") }
        });
    });
    group.bench_function("floor-session-id", |b| b.iter(floor_session_id));

    let who = authbench_fixtures::identity(0);
    for f in &fixtures {
        let alg = f.alg;
        group.bench_with_input(
            BenchmarkId::from_parameter(format!("jwt-{alg}")),
            f,
            |b, f| {
                b.iter(|| f.backend.issue_now(black_box(&who)).expect("issue"));
            },
        );
        group.bench_with_input(
            BenchmarkId::from_parameter(format!("floor-raw-{alg}")),
            f,
            |b, f| {
                let mut out = [0u8; RawSigner::MAX_SIGNATURE_BYTES];
                b.iter(|| {
                    f.raw_signer
                        .sign_into(&rng, black_box(&f.signing_input), &mut out)
                });
            },
        );
    }
    group.finish();
}

/// `claims_size`: sign + verify of one token, with the minimal and the realistic claim set,
/// per algorithm: `claims_size/<ALG>/minimal` and `claims_size/<ALG>/realistic`.
///
/// Both sets go through the same generic path (`authbench_jwt::sign`, then the strict
/// `Verifier` returning the claims as JSON), because the backend only signs an `Identity` and
/// cannot carry the extra claims; see `ClaimsFixture`. The ratio realistic ÷ minimal is the
/// point; the absolute numbers are a little above `issue/jwt-*` + `verify/jwt-*`.
fn claims_size(c: &mut Criterion) {
    let now = unix_now();
    let sets: Vec<(ClaimSet, serde_json::Value)> = ClaimSet::ALL
        .into_iter()
        .map(|s| (s, s.claims(now)))
        .collect();
    let mut group = c.benchmark_group("claims_size");
    for alg in Alg::ALL {
        let f = ClaimsFixture::new(alg);
        for (set, claims) in &sets {
            // Printed once per run, so the README's sizes can be checked on any machine.
            let len = f.round_trip(claims);
            eprintln!("claims_size/{alg}/{}: token {len} bytes", set.as_str());
            group.bench_with_input(
                BenchmarkId::new(alg.as_str(), set.as_str()),
                claims,
                |b, claims| {
                    b.iter(|| f.round_trip(black_box(claims)));
                },
            );
        }
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = config();
    targets = verify, issue, claims_size
}
criterion_main!(benches);
