//! The result of a run: [`Report`], its JSON schema (documented field by field in
//! `crates/loadgen/schema.md`), and a one-screen text [`summary`](Report::summary).
//!
//! The types are defined in `authbench_spec::record::load` (so that a reader of a run folder
//! needs neither this crate nor its HTTP client) and re-exported here at their old paths; the
//! generator fills them in (`build_report` in `lib.rs`).

pub use authbench_spec::record::load::{
    EncodedHistogram, Errors, HISTOGRAM_FORMAT, HistogramError, LagSummary, LatencySummary, Mode,
    Report, RequestBytes, SCHEMA_VERSION,
};
