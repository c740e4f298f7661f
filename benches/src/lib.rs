//! Criterion micro-benchmarks of session-vs-jwt: the benches are in `benches/auth.rs` and
//! `benches/jwe.rs` (`cargo bench -p authbench-benches`); what they measure, built once and
//! checked by `cargo test`, is the `authbench-fixtures` crate, which `authbench compare` times
//! too. This library is empty: Cargo wants a library or binary target beside the benches.
