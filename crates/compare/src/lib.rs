//! `authbench compare`: the measurement plan of session-vs-jwt, from an empty machine to a run
//! folder.
//!
//! One run measures, on the same machine in the same hour, everything the comparison rests on:
//! token sizes and bytes on the wire; the floors (`redis-benchmark` GET, the raw signature
//! check); what each backend's verify and issue cost in-process; HTTP latency and throughput
//! for every configuration and for the no-auth `/healthz` baseline, closed loop and open loop;
//! and what a Redis 0.2 ms or 1 ms away does to sessions. Every HTTP figure is repeated,
//! interleaved across configurations, and reported as a median with its range; the CPU time
//! each process spends per request is recorded beside it, since on a shared 2-core machine it
//! is far steadier than requests per second.
//!
//! # Layout
//!
//! - [`plan`]: the `smoke`, `quick` and `full` profiles; [`progress`]: the bar or log lines.
//! - [`services`]: `authbench serve` child processes, and logging users in on them.
//! - [`client`]: the set-up HTTP/1.1 client (one codec; blocking for the sections, async for
//!   the soak's virtual users).
//! - [`micro`]: in-process verify/issue costs beside their floors.
//! - [`redis_bench`]: the `redis-benchmark` floor.
//! - [`http`]: one load-generator run with CPU charged per process.
//! - [`revocation`]: the revocation experiment (windows, Redis cost, outage); [`resp`] asks
//!   Redis what it holds.
//! - [`scale`]: Redis Cluster vs single node, several instances, JWKS key rotation, and a
//!   cluster failover under logouts ([`failover`]: the experiment itself).
//! - [`soak`]: `authbench soak`, mixed load on every backend while Redis restarts, and `/me`
//!   under a login flood.
//! - [`section`]: the context every part of a run receives, and the interleaved repetitions
//!   every HTTP measurement uses; `parts` (private): the parts of a run in order, each with
//!   its progress steps beside its work; `run` (private): [`run`] loops over them.
//! - [`tenancy`]: `/notes` under PostgreSQL Row Level Security, and the staleness of a tenant
//!   move per backend and policy.
//! - [`capacity`]: each target's open-loop capacity, searched before the open-loop runs.
//! - [`wire`]: bytes per request over HTTP/1.1 and HTTP/2 (HPACK), per credential and form.
//! - [`wrk`]: the cross-check of our load generator against `wrk`.
//! - [`record`]: `run.json`, its types, and the targets (the types are defined in
//!   [`authbench_spec::record`] and re-exported here, each at its old path).
//! - [`summary`]: `summary.md` and the terminal table.
//! - [`stats`]: medians and spreads.

pub mod capacity;
pub mod client;
pub mod failover;
pub mod http;
pub mod machine;
pub mod micro;
pub mod plan;
pub mod progress;
pub mod record;
pub mod redis_bench;
pub mod resp;
pub mod revocation;
pub mod scale;
pub mod section;
pub mod services;
pub mod soak;
pub mod stats;
pub mod summary;
pub mod tenancy;
pub mod wire;
pub mod wrk;

mod parts;
mod run;

pub use plan::{Plan, Profile};
pub use record::RunRecord;
pub use run::{CompareOptions, run};
