//! The load generator's own floor: `wrk` on `/healthz` with the same connection count.
//!
//! If our generator reached fewer requests per second than wrk against the same server, it
//! would be the bottleneck and every throughput figure would describe it instead of the
//! server. The run records both, interleaved, and their ratio.

use anyhow::{Context, Result, bail};
use std::process::Command;
use std::time::Duration;

/// Finds `wrk` on PATH.
pub fn find() -> Option<std::path::PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("wrk"))
            .find(|p| p.is_file())
    })
}

/// Runs `wrk -t THREADS -c CONNECTIONS -d SECS URL` and returns its requests per second and
/// the exact command.
pub fn run(
    binary: &std::path::Path,
    url: &str,
    threads: usize,
    connections: usize,
    duration: Duration,
) -> Result<(f64, String)> {
    let secs = duration.as_secs().max(1);
    let args = [
        format!("-t{threads}"),
        format!("-c{connections}"),
        format!("-d{secs}s"),
        url.to_owned(),
    ];
    let out = Command::new(binary)
        .args(&args)
        .output()
        .with_context(|| format!("running {}", binary.display()))?;
    if !out.status.success() {
        bail!("wrk failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let rps = parse_rps(&text).with_context(|| format!("no Requests/sec in wrk output: {text}"))?;
    Ok((rps, format!("{} {}", binary.display(), args.join(" "))))
}

fn parse_rps(text: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.trim().strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    #[test]
    fn parses_wrk_output() {
        let text = "Running 1s test @ http://127.0.0.1:1/healthz\n  2 threads and 32 connections\nRequests/sec:  51234.56\nTransfer/sec:      6.10MB\n";
        assert_eq!(super::parse_rps(text), Some(51234.56));
    }
}
