//! Runs the load generator from the command line, for measuring it before (or without) the
//! `authbench load` subcommand:
//!
//! ```text
//! cargo run --release -p authbench-loadgen --example load -- URL CONNECTIONS SECS [RATE] [THREADS] [--json]
//! ```

use std::time::Duration;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let json = args.iter().any(|a| a == "--json");
    let pos: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let Some(url) = pos.first() else {
        return Err("usage: load URL CONNECTIONS SECS [RATE|-] [THREADS] [--json]".into());
    };
    let mut opts = authbench_loadgen::Options::new(url.as_str());
    if let Some(c) = pos.get(1) {
        opts.connections = c.parse()?;
    }
    if let Some(d) = pos.get(2) {
        opts.duration = Duration::from_secs_f64(d.parse()?);
    }
    if let Some(r) = pos.get(3).filter(|r| r.as_str() != "-") {
        opts.rate = Some(r.parse()?);
    }
    if let Some(t) = pos.get(4) {
        opts.threads = Some(t.parse()?);
    }
    let report = authbench_loadgen::run_blocking(&opts)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.summary());
    }
    Ok(())
}
