//! `authbench compare`: the main job. Runs every measurement and writes a run folder.

use anyhow::{Context, Result};
use authbench_compare::{CompareOptions, Profile, summary};
use clap::Args;
use std::path::{Path, PathBuf};

/// Where the book's generated results pages live, relative to the workspace root.
const BOOK_RESULTS: &str = "book/src/results";

/// Arguments of `authbench compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The short profile: every measurement in under three minutes on a 2-core machine.
    #[arg(long, conflicts_with = "smoke")]
    quick: bool,
    /// A seconds-long pipeline check (used by the test suite); its figures are noise.
    #[arg(long, hide = true)]
    smoke: bool,
    /// The run folder. Defaults to `results/<date>-<hostname>`.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Use this Redis instead of starting a private one.
    #[arg(long, value_name = "URL")]
    redis_url: Option<String>,
    /// Use this Redis Cluster (`HOST:PORT[,HOST:PORT…]`, any of its masters) for the scale-out
    /// measurements instead of starting a private 3-master one.
    #[arg(long, value_name = "HOST:PORT[,…]")]
    redis_cluster: Option<String>,
}

/// Runs the comparison and prints the summary.
pub fn run(args: CompareArgs) -> Result<()> {
    let profile = if args.smoke {
        Profile::Smoke
    } else if args.quick {
        Profile::Quick
    } else {
        Profile::Full
    };
    let cargo_lock =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../Cargo.lock"))
            .unwrap_or_default();
    let out_given = args.out.is_some();
    let opts = CompareOptions {
        profile,
        out: args.out,
        redis_url: args.redis_url,
        redis_cluster: args.redis_cluster,
        server_binary: std::env::current_exe().context("finding the authbench binary")?,
        command_line: std::env::args().collect::<Vec<_>>().join(" "),
        cargo_lock,
    };
    let (dir, record) = authbench_compare::run(opts)?;
    // The book's results pages follow the newest default run; a run with an explicit --out
    // (tests, experiments) renders its pages beside its data instead.
    let book = Path::new(BOOK_RESULTS);
    let pages = if !out_given && book.is_dir() {
        book.to_path_buf()
    } else {
        dir.join("pages")
    };
    let files = authbench_report::render(&dir, &pages)
        .with_context(|| format!("rendering {} into {}", dir.display(), pages.display()))?;
    println!("{}", summary::terminal(&record));
    println!("run folder: {}", dir.display());
    println!("  run.json    everything measured, with machine, versions, commit and command");
    println!("  summary.md  the tables");
    println!("  raw/        every load run with its latency histogram");
    println!(
        "{} pages and charts rendered into {} (`authbench report --run {}` redoes it)",
        files.len(),
        pages.display(),
        dir.display()
    );
    Ok(())
}
