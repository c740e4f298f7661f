//! The criterion groups of the JWE backend: `jwe_verify`, `jwe_issue`.
//!
//! As in `auth.rs`, every group compares inside itself: per configuration, our full path and
//! its floors in the same group. IDs:
//!
//! - `<name>` (`jwe-dir-A256GCM`, `jwe-RSA-OAEP-256-A256GCM`, `jwe-ECDH-ES+A256KW-A256GCM`,
//!   `jwe-ECDH-ES+A256KW-A256GCM-ES256` nested): `JweBackend::verify_now` (token to
//!   `Principal`: parse, key management, AES-GCM open, claims) or `issue_now`.
//! - `floor-aes256gcm-open-<name>` / `floor-aes256gcm-seal-<name>`: raw aws-lc-rs AES-256-GCM
//!   of the same sizes (for `dir`, open of the very same bytes under the same key).
//! - `floor-keymgmt-<name>`: the raw key-management primitive of the same token
//!   (RSA-OAEP-256 decrypt; ECDH P-256 + Concat KDF + AES key unwrap); none for `dir`.
//!
//! No Redis: JWE verification is local.

// Benchmarks are a binary without a public API.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use authbench_fixtures::JweFixture;
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

/// Same settings as `auth.rs`, for a noisy 2-core machine.
fn config() -> Criterion {
    Criterion::default()
        .sample_size(50)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1))
        .noise_threshold(0.05)
        .without_plots()
}

fn fixtures() -> Vec<JweFixture> {
    JweFixture::standard_configs()
        .into_iter()
        .map(JweFixture::new)
        .collect()
}

fn jwe_verify(c: &mut Criterion) {
    let fixtures = fixtures();
    let mut group = c.benchmark_group("jwe_verify");
    for f in &fixtures {
        let name = f.label();
        group.bench_with_input(BenchmarkId::from_parameter(&name), f, |b, f| {
            b.iter(|| black_box(f).verify());
        });
        group.bench_with_input(
            BenchmarkId::from_parameter(format!("floor-aes256gcm-open-{name}")),
            f,
            |b, f| b.iter(|| black_box(f).floor_open()),
        );
        if f.floor_key().is_some() {
            group.bench_with_input(
                BenchmarkId::from_parameter(format!("floor-keymgmt-{name}")),
                f,
                |b, f| b.iter(|| black_box(f).floor_key()),
            );
        }
    }
    group.finish();
}

fn jwe_issue(c: &mut Criterion) {
    let fixtures = fixtures();
    let mut group = c.benchmark_group("jwe_issue");
    for f in &fixtures {
        let name = f.label();
        group.bench_with_input(BenchmarkId::from_parameter(&name), f, |b, f| {
            b.iter(|| black_box(f).issue());
        });
        group.bench_with_input(
            BenchmarkId::from_parameter(format!("floor-aes256gcm-seal-{name}")),
            f,
            |b, f| b.iter(|| black_box(f).floor_seal()),
        );
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = config();
    targets = jwe_verify, jwe_issue
}
criterion_main!(benches);
