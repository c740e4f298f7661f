//! `run.json`: everything a run measured, with the context that makes it a result.
//!
//! The types live in [`authbench_spec::record`] (so that `authbench report` reads a run folder
//! without linking what wrote it) and are re-exported here at their old paths. The layout is
//! documented field by field in `crates/compare/schema.md`; `schema_version` changes whenever a
//! field changes meaning.

pub use authbench_spec::record::{
    Configuration, HttpSummary, LatencyQuantiles, LoadgenVsWrk, LoginPhase, ProxyRecord, RunRecord,
    SCHEMA_VERSION, SampleToken, TargetCheck, TokenSize,
};
