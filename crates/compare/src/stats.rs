//! Medians and spreads: on a shared 2-core machine one number means little; the median of
//! interleaved repetitions, with the smallest and largest beside it, means more.
//!
//! Defined in [`authbench_spec::record::stats`], beside the `run.json` types that hold them.

pub use authbench_spec::record::stats::{Spread, quantile};
