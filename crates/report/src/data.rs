//! Reading a run folder: `run.json` into the typed [`RunRecord`], and the raw load reports
//! (with their HDR histograms) the charts need.

use anyhow::{Context, Result};
use authbench_spec::record::HttpSummary;
use authbench_spec::record::RunRecord;
use authbench_spec::record::http::HttpRun;
use authbench_spec::record::load::Report;
use hdrhistogram::Histogram;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A run folder, loaded.
#[derive(Debug)]
pub struct Run {
    /// The folder.
    pub dir: PathBuf,
    /// `run.json`.
    pub record: RunRecord,
    /// Raw load reports by their path relative to the folder (as `http_runs[].raw` names
    /// them); a missing or unreadable file maps to the reason, so a chart can leave the line
    /// out and say why instead of failing the whole report.
    raw: BTreeMap<String, std::result::Result<Report, String>>,
}

impl Run {
    /// Reads `dir/run.json` and every raw report it names.
    pub fn load(dir: &Path) -> Result<Self> {
        let path = dir.join("run.json");
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let record: RunRecord = serde_json::from_str(&text).with_context(|| {
            format!(
                "parsing {} (schema: crates/compare/schema.md)",
                path.display()
            )
        })?;
        let mut raw = BTreeMap::new();
        for r in &record.http_runs {
            if raw.contains_key(&r.raw) {
                continue;
            }
            let file = dir.join(&r.raw);
            let report = std::fs::read_to_string(&file)
                .map_err(|e| format!("{}: {e}", r.raw))
                .and_then(|t| {
                    serde_json::from_str::<Report>(&t).map_err(|e| format!("{}: {e}", r.raw))
                });
            raw.insert(r.raw.clone(), report);
        }
        Ok(Self {
            dir: dir.to_owned(),
            record,
            raw,
        })
    }

    /// The raw report of one HTTP run, if its file was there and parsed.
    pub fn report(&self, run: &HttpRun) -> Option<&Report> {
        self.raw.get(&run.raw).and_then(|r| r.as_ref().ok())
    }

    /// The decoded latency histogram of one HTTP run, µs.
    pub fn histogram(&self, run: &HttpRun) -> Option<Histogram<u64>> {
        self.report(run).and_then(|r| r.latency_histogram().ok())
    }

    /// The repetition of `(target, scenario)` whose latency charts stand for it: the one with
    /// the median p99 (the lower of the two middle ones for an even count; ties by repetition
    /// index). Taking one real run, rather than merging all, keeps the chart a distribution
    /// that was actually observed.
    pub fn median_run(&self, target: &str, scenario: &str) -> Option<&HttpRun> {
        let mut runs: Vec<&HttpRun> = self
            .record
            .http_runs
            .iter()
            .filter(|r| r.target == target && r.scenario == scenario)
            .collect();
        runs.sort_by_key(|r| (r.p99_us, r.rep));
        runs.get(runs.len().saturating_sub(1) / 2).copied()
    }

    /// All repetitions of `(target, scenario)`.
    pub fn runs<'a>(
        &'a self,
        target: &'a str,
        scenario: &'a str,
    ) -> impl Iterator<Item = &'a HttpRun> + 'a {
        self.record
            .http_runs
            .iter()
            .filter(move |r| r.target == target && r.scenario == scenario)
    }
}

/// Targets in the order the record lists them (first appearance).
pub fn targets(rows: &[HttpSummary]) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for r in rows {
        if !out.contains(&r.target.as_str()) {
            out.push(&r.target);
        }
    }
    out
}

/// Scenarios in the order the record lists them (first appearance).
pub fn scenarios(rows: &[HttpSummary]) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for r in rows {
        if !out.contains(&r.scenario.as_str()) {
            out.push(&r.scenario);
        }
    }
    out
}

/// The summary row of `(target, scenario)`.
pub fn summary<'a>(
    rows: &'a [HttpSummary],
    target: &str,
    scenario: &str,
) -> Option<&'a HttpSummary> {
    rows.iter()
        .find(|r| r.target == target && r.scenario == scenario)
}

/// What a scenario label means, in words with units: `closed-c32` → `closed loop, 32
/// connections`; `open-90pct` → `open loop at 90 % of each target's capacity` (its open-loop
/// capacity, or in runs before schema 4 its closed-loop maximum: `run.md` says which).
pub fn describe_scenario(label: &str, open_connections: usize) -> String {
    if let Some(c) = label.strip_prefix("closed-c") {
        let s = if c == "1" { "" } else { "s" };
        format!("closed loop, {c} connection{s}")
    } else if let Some(p) = label
        .strip_prefix("open-")
        .and_then(|p| p.strip_suffix("pct"))
    {
        format!(
            "open loop at {p} % of each target's capacity, {open_connections} connections, latency from the intended send time"
        )
    } else {
        label.to_owned()
    }
}

/// A short form of [`describe_scenario`] for chart titles and legends: `closed loop, 32
/// connections`, `open loop, 90 % of capacity`.
pub fn short_scenario(label: &str) -> String {
    match label
        .strip_prefix("open-")
        .and_then(|p| p.strip_suffix("pct"))
    {
        Some(p) => format!("open loop, {p} % of capacity"),
        None => describe_scenario(label, 0),
    }
}

/// Whether a scenario label is a closed loop.
pub fn is_closed(label: &str) -> bool {
    label.starts_with("closed-")
}

/// The connections of a closed-loop label (`closed-c32` → 32).
pub fn closed_connections(label: &str) -> Option<usize> {
    label.strip_prefix("closed-c").and_then(|c| c.parse().ok())
}

/// The one-way delay of a distance target (`session-redis+0.2ms` → 0.2).
pub fn distance_ms(target: &str) -> Option<f64> {
    target
        .rsplit_once('+')
        .and_then(|(_, d)| d.strip_suffix("ms"))
        .and_then(|d| d.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        assert_eq!(
            describe_scenario("closed-c1", 32),
            "closed loop, 1 connection"
        );
        assert!(describe_scenario("open-90pct", 32).starts_with("open loop at 90 %"));
        assert_eq!(short_scenario("open-90pct"), "open loop, 90 % of capacity");
        assert_eq!(short_scenario("closed-c32"), "closed loop, 32 connections");
        assert_eq!(closed_connections("closed-c32"), Some(32));
        assert_eq!(distance_ms("session-redis+0.2ms"), Some(0.2));
        assert_eq!(distance_ms("session"), None);
    }
}
