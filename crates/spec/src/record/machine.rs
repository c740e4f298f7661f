//! Where and how a run happened: the machine, the versions, the commit (`authbench compare`'s
//! `machine` module detects them).
//!
//! A figure without its context is an anecdote. Everything here goes into `run.json`.

use serde::Serialize;

/// The machine a run measured.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    /// Host name (the run folder's suffix).
    pub hostname: String,
    /// CPU model from `/proc/cpuinfo`.
    pub cpu_model: String,
    /// Logical CPUs available to this process.
    pub cores: usize,
    /// Total memory, bytes.
    pub memory_bytes: u64,
    /// Kernel release.
    pub kernel: String,
    /// 1-minute load average at the start: a busy shared machine shows here.
    pub load_average_1m: f64,
}

/// Versions of everything that shapes the figures.
#[derive(Debug, Clone, Serialize)]
pub struct Versions {
    /// `rustc --version` at run time (the compiler that built us may differ if it changed).
    pub rustc: String,
    /// `redis-server --version`'s version field.
    pub redis_server: String,
    /// Versions of the crates on the measured paths, from the workspace's `Cargo.lock`.
    pub crates: Vec<(String, String)>,
    /// This workspace's version.
    pub authbench: String,
}

/// The source the run was built from.
#[derive(Debug, Clone, Serialize)]
pub struct Git {
    /// `git rev-parse HEAD`, or `unknown` outside a checkout.
    pub commit: String,
    /// Whether the work tree had uncommitted changes.
    pub dirty: bool,
}
