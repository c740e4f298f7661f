//! What every self-contained part of the run receives: the `scale`-out, multi-tenancy and
//! failover sections start their own services (a Redis Cluster, PostgreSQL, several server
//! processes) and hand back one serde record each, kept in `run.json`.

use crate::plan::Profile;
use std::path::Path;

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
    /// Progress: one call per step, a short message.
    pub step: &'a mut dyn FnMut(String),
    /// Things this section could not do (a missing tool), said plainly; they end up in
    /// `run.json`'s `notes`.
    pub notes: &'a mut Vec<String>,
}

impl Section<'_> {
    /// Reports progress.
    pub fn step(&mut self, msg: impl Into<String>) {
        (self.step)(msg.into());
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
