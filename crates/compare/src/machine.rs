//! Where and how a run happened: the machine, the versions, the commit, the command.
//!
//! A figure without its context is an anecdote. Everything here goes into `run.json`.

use std::process::Command;

pub use authbench_spec::record::machine::{Git, Machine, Versions};

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

fn command_output(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Reads the machine's facts from `/proc`.
pub fn detect_machine() -> Machine {
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
    Machine {
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

/// Collects versions; `cargo_lock` is the workspace's lock file text.
pub fn detect_versions(cargo_lock: &str, redis_server: String) -> Versions {
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
    Versions {
        rustc: command_output("rustc", &["--version"]).unwrap_or_else(|| "unknown".into()),
        redis_server,
        crates,
        authbench: env!("CARGO_PKG_VERSION").to_owned(),
    }
}

/// Asks git about the checkout in the current directory.
pub fn detect_git() -> Git {
    Git {
        commit: command_output("git", &["rev-parse", "HEAD"]).unwrap_or_else(|| "unknown".into()),
        dirty: command_output("git", &["status", "--porcelain", "--untracked-files=no"])
            .is_some_and(|s| !s.is_empty()),
    }
}
