//! `authbench load`: the load generator on its own.

use anyhow::{Context, Result};
use authbench_loadgen::{Options, parse_header, read_credentials};
use clap::Args;
use std::path::PathBuf;
use std::time::Duration;

/// Arguments of `authbench load`.
#[derive(Debug, Args)]
pub struct LoadArgs {
    /// Target URL (plain HTTP/1.1).
    #[arg(long)]
    url: String,
    /// Another server answering the same API (`http://host:port`); repeatable. Connections are
    /// spread round robin over `--url`'s address and these, like a load balancer.
    #[arg(long = "also", value_name = "URL")]
    also: Vec<String>,
    /// Extra header, `'Name: value'`; repeatable.
    #[arg(long = "header", value_name = "'K: V'")]
    headers: Vec<String>,
    /// File of credentials, one per line; each request presents the next one as
    /// `Authorization: Bearer`.
    #[arg(long, value_name = "FILE")]
    credentials: Option<PathBuf>,
    /// Send the credentials in the `__Host-authbench` cookie instead of the header.
    #[arg(long)]
    cookie: bool,
    /// Keep-alive connections.
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Measured seconds.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Open loop at this many requests per second (latency from the intended send time);
    /// without it, a closed loop.
    #[arg(long, value_name = "RPS")]
    rate: Option<f64>,
    /// Unrecorded seconds before the measurement.
    #[arg(long, default_value_t = 1.0)]
    warmup: f64,
    /// Worker threads (defaults to one per CPU).
    #[arg(long)]
    threads: Option<usize>,
    /// Print the full report as JSON (schema: crates/loadgen/schema.md).
    #[arg(long)]
    json: bool,
}

fn secs(s: f64, what: &str) -> Result<Duration> {
    Duration::try_from_secs_f64(s)
        .with_context(|| format!("--{what} must be a non-negative number of seconds"))
}

/// Runs the load and prints the report.
pub fn run(args: LoadArgs) -> Result<()> {
    let mut opts = Options::new(args.url);
    opts.spread_over = args.also;
    for h in &args.headers {
        opts.headers.push(parse_header(h)?);
    }
    if let Some(path) = &args.credentials {
        opts.credentials = read_credentials(path)?;
    }
    if args.cookie {
        opts.credential_form = authbench_loadgen::options::CredentialForm::Cookie;
    }
    opts.connections = args.connections;
    opts.duration = secs(args.duration, "duration")?;
    opts.warmup = secs(args.warmup, "warmup")?;
    opts.rate = args.rate;
    opts.threads = args.threads;
    let report = authbench_loadgen::run_blocking(&opts)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("{}", report.summary());
    }
    Ok(())
}
