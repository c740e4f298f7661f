//! `authbench report`: regenerates the book's results pages and charts from a run folder.

use anyhow::Result;
use clap::Args;
use std::path::PathBuf;

/// Where runs live by default (`authbench compare` writes `results/<date>-<hostname>/`).
const RESULTS_DIR: &str = "results";

/// Where the book includes the generated pages from.
const BOOK_RESULTS_DIR: &str = "book/src/results";

/// Arguments of `authbench report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The run folder (with run.json). Defaults to the newest run under results/.
    #[arg(long, value_name = "DIR")]
    run: Option<PathBuf>,
    /// Where to write the pages and charts.
    #[arg(long, value_name = "DIR", default_value = BOOK_RESULTS_DIR)]
    out: PathBuf,
}

/// Renders the run into the output folder and lists what it wrote.
pub fn run(args: ReportArgs) -> Result<()> {
    let run_dir = match args.run {
        Some(dir) => dir,
        None => authbench_report::newest_run(RESULTS_DIR.as_ref())?,
    };
    let files = authbench_report::render(&run_dir, &args.out)?;
    println!(
        "rendered {} files from {} into {}",
        files.len(),
        run_dir.display(),
        args.out.display()
    );
    for f in files {
        println!("  {}", f.display());
    }
    Ok(())
}
