//! `authbench`: compare, serve, load-test and inspect session and JWT authentication.
//!
//! A thin facade: it parses arguments and calls the library crates. Exit codes follow the
//! contract other tools rely on: 0 success, 1 a credential was rejected (`token verify`), 2 a usage or
//! I/O error.
//!
//! # Layout
//!
//! - `baseline`: the off-the-shelf stacks compare measures ours against.
//! - `compare`: the main job, every measurement into a run folder.
//! - `load`: the HTTP load generator on its own.
//! - `report`: the book's results pages and charts, regenerated from a run folder.
//! - `serve`: starts the axum app over the chosen backend (and a private Redis when needed).
//! - `soak`: mixed load on every backend while Redis restarts; `/me` under a login flood.
//! - `token`: `decode`, `verify`, `sign` — JWT anatomy and offline checks.

mod baseline;
mod compare;
mod load;
mod report;
mod serve;
mod soak;
mod token;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Sessions or JWTs? Measure instead of arguing.
#[derive(Debug, Parser)]
#[command(name = "authbench", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve an off-the-shelf stack (plain axum, tower-sessions, the axum JWT example) that
    /// `compare` measures our backends against.
    Baseline(baseline::BaselineArgs),
    /// Run every measurement and write a run folder under results/ (the main job).
    Compare(compare::CompareArgs),
    /// Load-test a URL: closed loop, or open loop at a fixed rate without coordinated omission.
    Load(load::LoadArgs),
    /// Regenerate the book's results pages and charts from a run folder.
    Report(report::ReportArgs),
    /// Serve the demo API over a session or JWT backend.
    Serve(serve::ServeArgs),
    /// Soak every backend under mixed load while Redis restarts; the login-flood experiment.
    Soak(soak::SoakArgs),
    /// Inspect, verify or mint JWTs.
    #[command(subcommand)]
    Token(token::TokenCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let result = match cli.command {
        Command::Baseline(args) => baseline::run(args).map(|()| ExitCode::SUCCESS),
        Command::Compare(args) => compare::run(args).map(|()| ExitCode::SUCCESS),
        Command::Load(args) => load::run(args).map(|()| ExitCode::SUCCESS),
        Command::Report(args) => report::run(args).map(|()| ExitCode::SUCCESS),
        Command::Serve(args) => serve::run(args).map(|()| ExitCode::SUCCESS),
        Command::Soak(args) => soak::run(args).map(|()| ExitCode::SUCCESS),
        Command::Token(cmd) => token::run(cmd),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("authbench: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Logs go to stderr (stdout carries results other tools parse). `RUST_LOG` overrides the
/// default level.
fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}
