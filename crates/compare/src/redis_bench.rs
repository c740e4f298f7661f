//! The Redis floor: `redis-benchmark` GET against the same Redis, at the same concurrency.
//!
//! A session verify is one Redis round trip plus our work; `redis-benchmark` is the round trip
//! alone, in C, with nothing around it. The ratio of the two is the cost of our client code.

use anyhow::{Context, Result, bail};
use std::path::Path;
use std::process::Command;

pub use authbench_spec::record::redis_bench::RedisBenchmark;

/// Finds `redis-benchmark` next to `redis-server` or on PATH.
pub fn find() -> Option<std::path::PathBuf> {
    if let Ok(p) = std::env::var("REDIS_BENCHMARK") {
        return Some(p.into());
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("redis-benchmark"))
            .find(|p| p.is_file())
    })
}

/// Runs `redis-benchmark -t get` against `port` with `clients` clients and `requests`
/// requests, and parses its CSV.
pub fn run(binary: &Path, port: u16, clients: usize, requests: usize) -> Result<RedisBenchmark> {
    let args = [
        "-h".to_owned(),
        "127.0.0.1".to_owned(),
        "-p".to_owned(),
        port.to_string(),
        "-t".to_owned(),
        "get".to_owned(),
        "-c".to_owned(),
        clients.to_string(),
        "-n".to_owned(),
        requests.to_string(),
        "--csv".to_owned(),
    ];
    let out = Command::new(binary)
        .args(&args)
        .output()
        .with_context(|| format!("running {}", binary.display()))?;
    if !out.status.success() {
        bail!(
            "redis-benchmark failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let text = String::from_utf8_lossy(&out.stdout);
    parse_csv(
        &text,
        clients,
        requests,
        format!("{} {}", binary.display(), args.join(" ")),
    )
}

/// Parses Redis 7's CSV: a header line, then `"GET","rps","avg","min","p50","p95","p99","max"`
/// with latencies in milliseconds.
fn parse_csv(
    text: &str,
    clients: usize,
    requests: usize,
    command: String,
) -> Result<RedisBenchmark> {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header: Vec<String> = lines
        .next()
        .context("empty redis-benchmark output")?
        .split(',')
        .map(|f| f.trim_matches('"').to_owned())
        .collect();
    let row: Vec<String> = lines
        .find(|l| l.starts_with("\"GET"))
        .context("no GET row in redis-benchmark output")?
        .split(',')
        .map(|f| f.trim_matches('"').to_owned())
        .collect();
    let field = |name: &str| -> Result<f64> {
        let i = header
            .iter()
            .position(|h| h == name)
            .with_context(|| format!("no {name} column (redis-benchmark older than 7?)"))?;
        row.get(i)
            .and_then(|v| v.parse().ok())
            .with_context(|| format!("bad {name} value"))
    };
    let ms = |name: &str| field(name).map(|v| v * 1000.0);
    Ok(RedisBenchmark {
        clients,
        requests,
        rps: field("rps")?,
        avg_us: ms("avg_latency_ms")?,
        p50_us: ms("p50_latency_ms")?,
        p95_us: ms("p95_latency_ms")?,
        p99_us: ms("p99_latency_ms")?,
        max_us: ms("max_latency_ms")?,
        command,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_redis_7_csv() {
        let csv = "\"test\",\"rps\",\"avg_latency_ms\",\"min_latency_ms\",\"p50_latency_ms\",\"p95_latency_ms\",\"p99_latency_ms\",\"max_latency_ms\"\n\"GET\",\"21008.40\",\"0.045\",\"0.016\",\"0.047\",\"0.063\",\"0.079\",\"0.751\"\n";
        let r = parse_csv(csv, 1, 100, "cmd".into()).expect("parse");
        assert!((r.rps - 21008.4).abs() < 1e-6);
        assert!((r.p50_us - 47.0).abs() < 1e-6);
        assert!((r.max_us - 751.0).abs() < 1e-6);
    }
}
