//! Progress of a long run: a bar on a terminal; elsewhere (CI logs) plain lines, each with
//! its step count and the seconds since the start.

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::time::Instant;

/// Progress on a terminal as a bar; elsewhere (CI logs) as plain lines.
pub struct Progress {
    bar: Option<ProgressBar>,
    /// Steps done so far.
    pub done: u64,
    total: u64,
    started: Instant,
}

impl Progress {
    /// A progress of `total` planned steps.
    pub fn new(total: u64) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(total);
            bar.set_style(
                ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            bar
        });
        Self {
            bar,
            done: 0,
            total,
            started: Instant::now(),
        }
    }

    /// Counts `n` planned steps that did not need to run (a search that ended early).
    pub fn skip(&mut self, n: u64) {
        self.done += n;
        if let Some(bar) = &self.bar {
            bar.inc(n);
        }
    }

    /// One step done, with what it was.
    pub fn step(&mut self, msg: impl Into<String>) {
        let msg = msg.into();
        self.done += 1;
        match &self.bar {
            Some(bar) => {
                bar.set_message(msg);
                bar.inc(1);
            }
            None => eprintln!(
                "compare: [{}/{} {:.1} s] {msg}",
                self.done,
                self.total,
                self.started.elapsed().as_secs_f64()
            ),
        }
    }

    /// A message between steps (a warning), without counting a step.
    pub fn println(&self, msg: &str) {
        match &self.bar {
            Some(bar) => bar.println(msg),
            None => eprintln!("compare: {msg}"),
        }
    }

    /// Clears the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
