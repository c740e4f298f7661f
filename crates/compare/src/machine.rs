//! Where and how a run happened: the machine, the versions, the commit, the command.
//!
//! A figure without its context is an anecdote. Everything here goes into `run.json`.

use serde::Serialize;
use std::process::Command;

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

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

fn command_output(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

impl Machine {
    /// Reads the machine's facts from `/proc`.
    pub fn detect() -> Self {
        let cpuinfo = read("/proc/cpuinfo");
        let cpu_model = cpuinfo
            .lines()
            .find_map(|l| l.strip_prefix("model name"))
            .and_then(|rest| rest.split_once(':'))
            .map_or_else(|| "unknown".to_owned(), |(_, v)| v.trim().to_owned());
        let memory_bytes = read("/proc/meminfo")
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map_or(0, |kb| kb * 1024);
        let hostname = read("/proc/sys/kernel/hostname").trim().to_owned();
        Self {
            hostname: if hostname.is_empty() {
                "localhost".into()
            } else {
                hostname
            },
            cpu_model,
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            memory_bytes,
            kernel: read("/proc/sys/kernel/osrelease").trim().to_owned(),
            load_average_1m: read("/proc/loadavg")
                .split_whitespace()
                .next()
                .and_then(|v| v.parse().ok())
                .unwrap_or(0.0),
        }
    }
}

/// The crates whose versions matter to the figures.
const TRACKED_CRATES: &[&str] = &[
    "jsonwebtoken",
    "aws-lc-rs",
    "aws-lc-sys",
    "redis",
    "axum",
    "hyper",
    "tokio",
    "argon2",
    "hdrhistogram",
];

impl Versions {
    /// Collects versions; `cargo_lock` is the workspace's lock file text.
    pub fn detect(cargo_lock: &str, redis_server: String) -> Self {
        let mut crates = Vec::new();
        let mut name: Option<&str> = None;
        for line in cargo_lock.lines() {
            if let Some(n) = line.strip_prefix("name = ") {
                name = Some(n.trim_matches('"'));
            } else if let (Some(n), Some(v)) = (name, line.strip_prefix("version = ")) {
                if TRACKED_CRATES.contains(&n) {
                    crates.push((n.to_owned(), v.trim_matches('"').to_owned()));
                }
                name = None;
            }
        }
        crates.sort();
        crates.dedup();
        Self {
            rustc: command_output("rustc", &["--version"]).unwrap_or_else(|| "unknown".into()),
            redis_server,
            crates,
            authbench: env!("CARGO_PKG_VERSION").to_owned(),
        }
    }
}

impl Git {
    /// Asks git about the checkout in the current directory.
    pub fn detect() -> Self {
        Self {
            commit: command_output("git", &["rev-parse", "HEAD"])
                .unwrap_or_else(|| "unknown".into()),
            dirty: command_output("git", &["status", "--porcelain", "--untracked-files=no"])
                .is_some_and(|s| !s.is_empty()),
        }
    }
}
