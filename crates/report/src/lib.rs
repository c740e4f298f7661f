//! `authbench report`: the book's results pages and charts, rendered from one run folder.
//!
//! `authbench compare` writes a run folder (`run.json` plus `raw/`, schema in
//! `crates/compare/schema.md`); this crate turns it into the markdown tables and SVG charts the
//! book's chapters `{{#include}}` and link, so that no figure in the book is typed by hand.
//! The pages carry data only, each table under a one-line caption that names what was
//! measured and its unit; the chapters around them carry the explanation.
//!
//! Rendering is deterministic: the same run folder gives byte-identical files, run after run
//! and machine after machine. Nothing depends on the clock, the locale, hash-map order or the
//! file system's listing order: rows follow the order of `run.json`, numbers go through the
//! fixed formats of [`format`], and the SVGs are drawn by plotters with text left to the viewer
//! (no font is measured or embedded). A file whose content did not change is not rewritten, so
//! its modification time stays too.
//!
//! # Layout
//!
//! - [`render`]: a run folder in, the results pages out; [`newest_run`] finds the default run.
//! - [`data`]: reading `run.json` and the raw load reports; which repetition stands for a
//!   measurement in the charts.
//! - [`format`]: number formats and the markdown table builder.
//! - [`calculator`]: the decision calculator's model: the run's numbers it embeds in
//!   `calculator-data.js` and the formulas the book's calculator page evaluates.
//! - [`chart`]: bar, line and dot charts on plotters' SVG backend, themed for light and dark
//!   pages.
//! - `pages`: one module per group of pages (context, sizes, cost, http, latency, distance,
//!   revocation, anatomy).

pub mod calculator;
pub mod chart;
pub mod data;
pub mod format;
mod pages;

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};

/// One generated file: its name in the output folder and its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    /// File name, e.g. `sizes.md`, `latency-closed-c32.svg`.
    pub name: String,
    /// The content (markdown or SVG).
    pub contents: String,
}

/// Renders every page and chart of the run in `run_dir` to memory, in a fixed order.
///
/// The files are those listed in the crate README: `run.md`, `targets.md`, `sizes.md`,
/// `sizes.svg`, `verify.md`, `verify.svg`, `issue.md`, `http.md`, `throughput.svg`, `cpu.svg`,
/// `latency.md`, one `latency-<scenario>.svg` per HTTP scenario of the run, `distance.md`,
/// `distance-<scenario>.svg`, `floors.md`, `loadgen.md`, `logins.md`, `revocation.md`, `revocation.svg`,
/// `anatomy.md`.
pub fn render_files(run_dir: &Path) -> Result<Vec<File>> {
    let run = data::Run::load(run_dir)?;
    pages::all(&run)
}

/// Renders every page and chart of the run in `run_dir` into `out_dir` (created if needed),
/// and returns the paths of all of them, in a fixed order. Files whose content is already
/// what it would be are left untouched; other files in `out_dir` are left alone.
pub fn render(run_dir: &Path, out_dir: &Path) -> Result<Vec<PathBuf>> {
    let files = render_files(run_dir)?;
    std::fs::create_dir_all(out_dir).with_context(|| format!("creating {}", out_dir.display()))?;
    let mut paths = Vec::with_capacity(files.len());
    for f in files {
        let path = out_dir.join(&f.name);
        let unchanged = std::fs::read(&path).is_ok_and(|old| old == f.contents.as_bytes());
        if !unchanged {
            std::fs::write(&path, f.contents.as_bytes())
                .with_context(|| format!("writing {}", path.display()))?;
        }
        paths.push(path);
    }
    Ok(paths)
}

/// The newest run folder under `results_dir`: of the subfolders that hold a `run.json`, the
/// one whose run started last (`started_at`, RFC 3339 UTC, compares as text), ties broken by
/// folder name. A `run.json` that does not parse counts as oldest, so a broken run is never
/// picked over a good one silently.
pub fn newest_run(results_dir: &Path) -> Result<PathBuf> {
    let entries = std::fs::read_dir(results_dir)
        .with_context(|| format!("listing {}", results_dir.display()))?;
    let mut best: Option<(String, PathBuf)> = None;
    for entry in entries {
        let dir = entry?.path();
        let Ok(text) = std::fs::read_to_string(dir.join("run.json")) else {
            continue;
        };
        let started = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v["started_at"].as_str().map(str::to_owned))
            .unwrap_or_default();
        let key = (started, dir);
        if best.as_ref().is_none_or(|b| key > *b) {
            best = Some(key);
        }
    }
    match best {
        Some((_, dir)) => Ok(dir),
        None => bail!(
            "no run folder with a run.json under {}; run `authbench compare` first, or pass --run DIR",
            results_dir.display()
        ),
    }
}
