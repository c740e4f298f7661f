//! The open-loop schedule: request `i` is *intended* to leave at `start + i / rate`.
//!
//! The instants are absolute, computed from `i`, never by adding sleeps (which would drift by
//! the oversleep of every wake-up). Workers claim the next index from one atomic counter, so
//! the schedule is global: a slow connection does not slow the others' share of it.
//!
//! # Why a pacer thread instead of `tokio::time::sleep_until`
//!
//! tokio's timer wheel has a 1 ms tick and rounds deadlines *up*, so a worker that sleeps
//! until its intended instant wakes 0–1 ms late. Measured from the intended instant, that
//! lateness lands in every latency: a 100 µs server would show a ~0.6 ms median, the same
//! order as the difference between a Redis lookup and a signature check that this project
//! exists to measure. So one OS thread (the *pacer*) sleeps with the kernel's precise timer
//! (`nanosleep`, ~50–100 µs of slack) and releases one permit of a semaphore per due index.
//! A worker waits for a permit, *then* claims an index: since permits are released in
//! index order, the index it gets is always already due, and `sent − intended` is the
//! generator's true lag (reported as `send_lag_us`).
//!
//! When all connections are busy (the server stalls), permits pile up; when the server
//! resumes, workers take them back to back, each latency counted from its intended instant:
//! the stall shows in the tail instead of vanishing (no coordinated omission).

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    thread,
    time::{Duration, Instant},
};

use tokio::sync::Semaphore;

/// The shortest sleep the pacer takes. Below this, a `nanosleep` costs more in wake-ups than
/// it gains in precision: at high rates the pacer releases several due permits per wake-up.
const MIN_PACER_SLEEP: Duration = Duration::from_micros(50);

/// The shared open-loop schedule.
#[derive(Debug)]
pub(crate) struct Schedule {
    /// Instant of index 0.
    start: Instant,
    /// Requests per second.
    rate: f64,
    /// One permit per due, not yet claimed index. Closed by the pacer when the run ends.
    permits: Semaphore,
    /// Next index to claim.
    next: AtomicU64,
    /// Set when the run is abandoned (the `run` future was dropped): the pacer exits early.
    stop: AtomicBool,
    /// Number of indices whose intended instant falls before the end of the run.
    total: u64,
    /// End of the run: the pacer closes the semaphore then.
    end: Instant,
}

impl Schedule {
    /// A schedule of `rate` requests per second from `start` to `end`.
    pub(crate) fn new(start: Instant, end: Instant, rate: f64) -> Self {
        let mut this = Self {
            start,
            rate,
            permits: Semaphore::new(0),
            next: AtomicU64::new(0),
            stop: AtomicBool::new(false),
            total: 0,
            end,
        };
        // Indices i with intended(i) < end, i.e. i < (end - start) * rate; corrected with the
        // same `intended` the workers use, so float rounding cannot add an index at `end`.
        let mut total = ((end - start).as_secs_f64() * rate).ceil() as u64;
        while total > 0 && this.intended(total - 1) >= end {
            total -= 1;
        }
        this.total = total;
        this
    }

    /// How many requests the schedule intends to send in the whole run (warm-up included).
    pub(crate) fn total(&self) -> u64 {
        self.total
    }

    /// How many indices workers have claimed.
    pub(crate) fn claimed(&self) -> u64 {
        self.next.load(Ordering::Relaxed)
    }

    /// The intended instant of index `i`.
    fn intended(&self, i: u64) -> Instant {
        self.start + Duration::from_secs_f64(i as f64 / self.rate)
    }

    /// Waits until an index is due and claims it; returns its intended instant. `None` once the
    /// schedule is exhausted or closed.
    pub(crate) async fn next_due(&self) -> Option<Instant> {
        self.permits.acquire().await.ok()?.forget();
        let i = self.next.fetch_add(1, Ordering::Relaxed);
        Some(self.intended(i))
    }

    /// Asks the pacer to stop early.
    pub(crate) fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    /// Starts the pacer thread. It releases every index with an intended instant before the
    /// end, in order, then, at the end, closes the semaphore: waiting workers return `None`,
    /// and indices released but not claimed by then are the run's `unsent`.
    pub(crate) fn spawn_pacer(self: &Arc<Self>) -> std::io::Result<thread::JoinHandle<()>> {
        let this = Arc::clone(self);
        thread::Builder::new()
            .name("loadgen-pacer".into())
            .spawn(move || this.pace())
    }

    fn pace(&self) {
        let mut released = 0u64;
        while released < self.total && !self.stop.load(Ordering::Relaxed) {
            let now = Instant::now();
            let due = if now < self.start {
                0
            } else {
                // Index i is due when intended(i) <= now.
                let elapsed = (now - self.start).as_secs_f64();
                ((elapsed * self.rate).floor() as u64 + 1).min(self.total)
            };
            if due > released {
                self.permits.add_permits((due - released) as usize);
                released = due;
            }
            if released < self.total {
                let wait = self
                    .intended(released)
                    .saturating_duration_since(Instant::now());
                thread::sleep(wait.max(MIN_PACER_SLEEP));
            }
        }
        // Close at the end of the run, not at the last release: the last indices are due just
        // before the end and a worker must still be able to claim them.
        if !self.stop.load(Ordering::Relaxed) {
            thread::sleep(self.end.saturating_duration_since(Instant::now()));
        }
        self.permits.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn total_counts_indices_before_the_end() {
        let t = Instant::now();
        let s = Schedule::new(t, t + Duration::from_secs(2), 100.0);
        assert_eq!(s.total(), 200);
        let s = Schedule::new(t, t + Duration::from_millis(1005), 100.0);
        assert_eq!(s.total(), 101);
        assert_eq!(s.intended(100), t + Duration::from_secs(1));
        // Rates and durations whose product is not exact in floating point.
        for (ms, rate) in [
            (200, 200.0),
            (300, 1000.0 / 3.0),
            (700, 0.1 + 0.2),
            (1000, 33.3),
        ] {
            let end = t + Duration::from_millis(ms);
            let s = Schedule::new(t, end, rate);
            assert!(s.intended(s.total() - 1) < end, "{ms} ms at {rate}/s");
            assert!(s.intended(s.total()) >= end, "{ms} ms at {rate}/s");
        }
    }

    #[tokio::test]
    async fn pacer_releases_in_order_and_on_time() {
        let start = Instant::now() + Duration::from_millis(20);
        let s = Arc::new(Schedule::new(
            start,
            start + Duration::from_millis(200),
            100.0,
        ));
        let pacer = s.spawn_pacer().unwrap();
        let mut lags = Vec::new();
        while let Some(intended) = s.next_due().await {
            let now = Instant::now();
            assert!(now >= intended, "claimed an index before it was due");
            lags.push(now - intended);
        }
        pacer.join().unwrap();
        assert_eq!(lags.len(), 20);
        // Generous (shared CI cores, parallel builds): the point is "well under tokio's 1 ms
        // tick", which the open-loop tests and the README measure more carefully.
        lags.sort();
        assert!(
            lags[10] < Duration::from_millis(5),
            "median lag {:?}",
            lags[10]
        );
    }
}
