//! The `Authenticator` contract as an executable test: the shared conformance suite of
//! session-vs-jwt.
//!
//! [`conformance`] runs every clause of the [`Authenticator`](authbench_core::Authenticator)
//! contract against a backend connected to a real store; a violation panics with a message
//! naming the check and the input. Every backend's tests run it (sessions on Redis and on a
//! Redis Cluster, each JWT revocation strategy, JWE).
//!
//! This crate is for tests only: no production crate depends on it. The real services the
//! tests start (a private `redis-server`, Redis Cluster, PostgreSQL, the latency proxy) come
//! from `authbench-services`, which `serve` and `compare` use as well.
//!
//! # Layout
//!
//! - `conformance`: [`conformance`], [`ConformanceOptions`], [`StoreControl`],
//!   [`ConformanceReport`], [`HUGE_INPUT_BYTES`], [`FAIL_CLOSED_WITHIN`].

mod conformance;

pub use conformance::{
    ConformanceOptions, ConformanceReport, FAIL_CLOSED_WITHIN, HUGE_INPUT_BYTES, StoreControl,
    conformance,
};
