//! `authbench soak`: the flags of [`authbench_compare::soak`], which does the work (mixed
//! load on every backend while Redis restarts; `/me` under a login flood).

use anyhow::{Context, Result};
use authbench_compare::soak::{Persistence, SoakBackend, SoakOptions};
use clap::Args;
use std::path::PathBuf;
use std::time::Duration;

/// Arguments of `authbench soak`.
#[derive(Debug, Args)]
pub struct SoakArgs {
    /// Measured time per backend (e.g. `10m`, `90s`).
    #[arg(long, default_value = "10m", value_parser = humantime::parse_duration)]
    duration: Duration,
    /// Concurrent virtual users (one keep-alive connection each).
    #[arg(long, default_value_t = 256)]
    connections: usize,
    /// Backends to soak, in order.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "session,jwt-none,jwt-denylist,jwt-refresh"
    )]
    backends: Vec<SoakBackend>,
    /// How long Redis stays down (killed at half-time).
    #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
    outage: Duration,
    /// Redis persistence.
    #[arg(long, value_enum, default_value = "aof")]
    redis_persistence: Persistence,
    /// Seeded accounts the virtual users log in as (round robin).
    #[arg(long, default_value_t = 20_000)]
    users: usize,
    /// Interval between two `/proc` samples of the server.
    #[arg(long, default_value = "1s", value_parser = humantime::parse_duration)]
    sample_every: Duration,
    /// Also run the login-flood experiment (`/me` latency while `/login` is flooded).
    #[arg(long)]
    flood: bool,
    /// Only the login-flood experiment, no soak.
    #[arg(long, conflicts_with = "flood")]
    flood_only: bool,
    /// Length of each login-flood phase.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    flood_phase: Duration,
    /// Run the server with `MALLOC_ARENA_MAX=<N>` (glibc's malloc arenas: by default up to
    /// 8 per core, each keeping freed memory; tests whether RSS steps are arenas, not leaks).
    #[arg(long)]
    malloc_arena_max: Option<u32>,
    /// Output folder. Defaults to `results/<date>-soak`.
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Runs `authbench soak` against this binary's own `serve`.
pub fn run(args: SoakArgs) -> Result<()> {
    let server_binary = std::env::current_exe().context("locating the authbench binary")?;
    authbench_compare::soak::run(SoakOptions {
        server_binary,
        duration: args.duration,
        connections: args.connections,
        backends: args.backends,
        outage: args.outage,
        redis_persistence: args.redis_persistence,
        users: args.users,
        sample_every: args.sample_every,
        flood: args.flood,
        flood_only: args.flood_only,
        flood_phase: args.flood_phase,
        malloc_arena_max: args.malloc_arena_max,
        out: args.out,
    })
}
