//! A target's open-loop capacity: the highest arrival rate it serves on schedule.
//!
//! A closed loop finds how many requests per second a server completes when every connection
//! sends its next request the moment the last one is answered. An open loop at that rate is
//! already overloaded: arrivals do not wait for answers, so any pause builds a queue, requests
//! leave late and latency measures the queue. The open-loop points of the run are therefore set
//! from a rate found *in* the open loop: a bisection between a light rate (a tenth of the
//! closed-loop maximum) and the maximum itself, each probe a short open-loop run, a rate
//! *sustained* when
//!
//! - the share of its requests that left more than the load generator's lateness threshold
//!   (1 ms) after their intended instant, or never left, exceeds the light probe's share by at
//!   most [`LATE_SHARE`], and
//! - its p99 stayed within [`P99_FACTOR`] times the p99 of the light probe, and not above
//!   [`P99_CEILING_US`]: a latency that grows with the rate is a queue.
//!
//! Why lateness is counted above the light probe's: on a shared 2-core virtual machine the
//! generator's own wake-ups have millisecond tails. Against plain axum's `/healthz`, an open
//! loop of 200 requests per second for 1 s sent 3 of its 200 requests more than 1 ms late
//! (`authbench load --rate 200 --duration 1`), at 2 000 req/s 19 of 2 000: an absolute 1 %
//! rule calls an idle server overloaded. Queueing shows as lateness *growing* with the rate,
//! which is what the rule measures. The light probe is the reference; when even it sent more
//! than [`LIGHT_LATE_LIMIT`] late, it is retried at half the rate (at most [`LIGHT_RETRIES`]
//! times).
//!
//! The capacity is the highest sustained rate the bisection saw. Its resolution is
//! `0.9 × maximum / 2^steps`; every probe is kept in the record so a reader can see the edge.

use crate::http::{Scenario, Target, measure};
use anyhow::Result;

pub use authbench_spec::record::capacity::{
    Capacity, LATE_SHARE, LIGHT_FRACTION, LIGHT_LATE_LIMIT, LIGHT_RETRIES, P99_CEILING_US,
    P99_FACTOR, Probe, SearchPlan,
};

/// Whether a probe with `late_share` and `p99_us` is sustained, above the light probe's
/// `late_floor` and under `p99_bound_us`.
pub fn sustained(late_share: f64, late_floor: f64, p99_us: u64, p99_bound_us: u64) -> bool {
    late_share <= late_floor + LATE_SHARE && p99_us <= p99_bound_us
}

/// The p99 bound set by a light-load p99.
pub fn p99_bound(light_p99_us: u64) -> u64 {
    ((light_p99_us as f64 * P99_FACTOR) as u64).min(P99_CEILING_US)
}

/// Bisects `[lo, hi]` with `probe` (which answers "sustained?") for `steps` steps, given that
/// `lo` was sustained and `hi` was not; returns the highest sustained rate seen.
pub fn bisect(
    mut lo: f64,
    mut hi: f64,
    steps: usize,
    mut probe: impl FnMut(f64) -> Result<bool>,
) -> Result<f64> {
    for _ in 0..steps {
        let mid = (lo + hi) / 2.0;
        if probe(mid)? {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Ok(lo)
}

/// Searches the open-loop capacity of `target` over `connections` connections, starting from
/// its closed-loop maximum `closed_max_rps`. `step` reports progress.
pub fn search(
    target: &Target<'_>,
    connections: usize,
    closed_max_rps: f64,
    plan: &SearchPlan,
    threads: usize,
    step: &mut dyn FnMut(String),
) -> Result<Capacity> {
    let mut probes = Vec::new();
    let mut run =
        |rate: f64, probes: &mut Vec<Probe>, reference: Option<(f64, u64)>| -> Result<Probe> {
            step(format!(
                "{} open-loop capacity search: {rate:.0} req/s",
                target.name
            ));
            let scenario = Scenario::Open {
                connections,
                rate_rps: rate,
                fraction_of_max: rate / closed_max_rps.max(1.0),
            };
            let (report, _) = measure(target, scenario, plan.probe, plan.warmup, threads)?;
            let unsent = report.unsent.unwrap_or(0);
            let late = report.late.unwrap_or(0) + unsent;
            let scheduled = (report.requests + unsent).max(1);
            let late_share = late as f64 / scheduled as f64;
            let p99_us = report.latency_us.p99;
            let p = Probe {
                rate_rps: rate,
                throughput_rps: report.throughput_rps,
                late_share,
                p99_us,
                // The light probe is the reference: sustained when it is a usable one.
                sustained: match reference {
                    Some((floor, bound)) => sustained(late_share, floor, p99_us, bound),
                    None => late_share <= LIGHT_LATE_LIMIT,
                },
            };
            probes.push(p.clone());
            Ok(p)
        };
    let mut light_rate = (closed_max_rps * LIGHT_FRACTION).max(10.0);
    let mut light = run(light_rate, &mut probes, None)?;
    let mut retries = 0;
    while !light.sustained && retries < LIGHT_RETRIES && light_rate / 2.0 >= 10.0 {
        retries += 1;
        light_rate /= 2.0;
        light = run(light_rate, &mut probes, None)?;
    }
    let late_floor = light.late_share;
    let bound = p99_bound(light.p99_us);
    let reference = Some((late_floor, bound));
    let rate_rps = if !light.sustained {
        // No usable reference down to this rate: report it, and let the overload marks of
        // the report say the rest.
        light_rate
    } else {
        let top = closed_max_rps.max(light_rate);
        if run(top, &mut probes, reference)?.sustained {
            top
        } else {
            bisect(light_rate, top, plan.steps, |rate| {
                Ok(run(rate, &mut probes, reference)?.sustained)
            })?
        }
    };
    Ok(Capacity {
        target: target.name.clone(),
        connections,
        closed_max_rps,
        rate_rps,
        p99_bound_us: bound,
        late_floor,
        probes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bisect_finds_the_edge_within_its_resolution() {
        let edge = 7_300.0;
        let mut asked = Vec::new();
        let found = bisect(1_000.0, 10_000.0, 6, |r| {
            asked.push(r);
            Ok(r <= edge)
        })
        .unwrap();
        assert_eq!(asked.len(), 6);
        assert!(found <= edge, "{found} is above the edge");
        assert!(
            edge - found <= 9_000.0 / 64.0,
            "{found} too far below {edge}"
        );
    }

    #[test]
    fn bisect_that_never_succeeds_keeps_the_lower_bracket() {
        let found = bisect(100.0, 1_000.0, 4, |_| Ok(false)).unwrap();
        assert_eq!(found, 100.0);
    }

    #[test]
    fn a_probe_is_sustained_only_on_schedule_and_within_the_bound() {
        let bound = p99_bound(800);
        assert_eq!(bound, 8_000);
        assert!(sustained(0.0, 0.0, 8_000, bound));
        assert!(sustained(LATE_SHARE, 0.0, 100, bound));
        assert!(!sustained(LATE_SHARE + 0.001, 0.0, 100, bound), "late");
        assert!(!sustained(0.0, 0.0, 8_001, bound), "queueing");
        // Lateness is counted above the generator's own floor.
        assert!(
            sustained(0.025, 0.015, 100, bound),
            "1 % above a 1.5 % floor"
        );
        assert!(!sustained(0.03, 0.015, 100, bound), "1.5 % above the floor");
        assert_eq!(
            p99_bound(20_000),
            P99_CEILING_US,
            "the ceiling caps the bound"
        );
    }
}
