//! What every part of the run receives: the run's context (binary, profile, folder, Redis,
//! progress, notes) and the interleaved repetitions every HTTP measurement uses. The parts
//! that start services of their own (scale-out, multi-tenancy, failover) hand back one serde
//! record each, kept in `run.json`.

use crate::http::{HttpRun, Scenario, Target, measure_into};
use crate::plan::Profile;
use crate::progress::Progress;
use std::path::Path;
use std::time::Duration;

/// The run's context, lent to one section.
pub struct Section<'a> {
    /// The `authbench` binary to start servers from (`authbench serve …`).
    pub server_binary: &'a Path,
    /// The measurement budget: `Smoke` must stay within seconds (the test suite runs it).
    pub profile: Profile,
    /// The run folder; raw files go under `raw/<section>/`.
    pub out: &'a Path,
    /// The run's own single-node Redis (`redis://…`), for comparisons against it.
    pub redis_url: &'a str,
    /// Its process, for CPU accounting (`None` for an external Redis).
    pub redis_pid: Option<u32>,
    /// Load-generator threads.
    pub loadgen_threads: usize,
    /// CPUs of this machine.
    pub cores: usize,
    /// Progress: one step per measurement, a short message.
    pub progress: &'a mut Progress,
    /// Things this section could not do (a missing tool), said plainly; they end up in
    /// `run.json`'s `notes`.
    pub notes: &'a mut Vec<String>,
}

impl Section<'_> {
    /// Reports progress.
    pub fn step(&mut self, msg: impl Into<String>) {
        self.progress.step(msg);
    }

    /// A raw-file path under `raw/<section>/`, created on demand; returns it relative to the
    /// run folder too (as `run.json` records it).
    pub fn raw_path(
        &self,
        section: &str,
        file: &str,
    ) -> std::io::Result<(std::path::PathBuf, String)> {
        let rel = format!("raw/{section}/{file}");
        let abs = self.out.join(&rel);
        if let Some(dir) = abs.parent() {
            std::fs::create_dir_all(dir)?;
        }
        Ok((abs, rel))
    }
}

/// How a section's closed-loop runs are repeated.
pub struct Rounds<'p> {
    /// Repetitions; each one runs every target once per connection count.
    pub reps: usize,
    /// Connection counts.
    pub connections: &'p [usize],
    /// Measured length of one run.
    pub duration: Duration,
    /// Unrecorded warm-up before each run.
    pub warmup: Duration,
}

impl Section<'_> {
    /// Closed-loop runs of every target at every connection count, repeated and
    /// interleaved (see [`Section::interleaved_by`]). Raw reports go under
    /// `raw/<section_name>/`.
    pub fn interleaved(
        &mut self,
        section_name: &str,
        targets: &[Target<'_>],
        rounds: &Rounds<'_>,
    ) -> anyhow::Result<Vec<HttpRun>> {
        self.interleaved_by(
            section_name,
            targets,
            rounds,
            rounds.connections,
            |_, &c| Scenario::Closed { connections: c },
        )
    }

    /// Runs of every target under every point (`scenario_of` turns a target and a point into
    /// its scenario: a connection count, an open-loop rate), repeated and *interleaved*: each
    /// round runs every target once per point, the order rotated by one each round, so no
    /// target always runs first or after the same neighbour. Raw reports go under
    /// `raw/<section_name>/`.
    pub fn interleaved_by<P>(
        &mut self,
        section_name: &str,
        targets: &[Target<'_>],
        rounds: &Rounds<'_>,
        points: &[P],
        scenario_of: impl Fn(&Target<'_>, &P) -> Scenario,
    ) -> anyhow::Result<Vec<HttpRun>> {
        let mut runs = Vec::new();
        for rep in 0..rounds.reps {
            for point in points {
                for i in 0..targets.len() {
                    let t = &targets[(i + rep) % targets.len()];
                    let scenario = scenario_of(t, point);
                    self.step(format!(
                        "{} {} (rep {}/{})",
                        t.name,
                        scenario.label(),
                        rep + 1,
                        rounds.reps
                    ));
                    runs.push(measure_into(
                        self,
                        section_name,
                        t,
                        scenario,
                        rep,
                        rounds.duration,
                        rounds.warmup,
                    )?);
                }
            }
        }
        Ok(runs)
    }
}

/// `serve` arguments as `run.json` keeps them: Redis and PostgreSQL URLs and loopback
/// addresses (ports of private services) replaced by placeholders.
pub fn redact_args(args: &[String]) -> Vec<String> {
    args.iter()
        .map(|a| {
            if a.starts_with("redis://") {
                "redis://<private>".to_owned()
            } else if a.starts_with("postgres://") || a.starts_with("postgresql://") {
                "postgres://<private>".to_owned()
            } else if a.contains("127.0.0.1:") && !a.starts_with("--") {
                "<private address>".to_owned()
            } else {
                a.clone()
            }
        })
        .collect()
}
