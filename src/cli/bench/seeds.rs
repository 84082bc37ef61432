//! Seeds per second: how many seeded runs of a small scenario a sweep completes, on one core and
//! on every core (one thread per core, each run single-threaded as every run is).
//!
//! The scenario is the crash of [`super::compression::crash_scenario`] (two consumers, six
//! partitions, 1000 records over 180 s of virtual time, a member killed at 60 s, a 45 s session
//! timeout); a run is what a seed sweep needs: the run into an in-memory trace, the report, and
//! one metric read from it (when the partitions moved after the crash).

use std::thread;

use serde::Serialize;

use super::compression::{crash_scenario, reassigned_after_ms, run_report};
use super::measure::Stopwatch;

/// Seed sweep figures.
#[derive(Clone, Debug, Serialize)]
pub(super) struct Seeds {
    /// The scenario.
    pub(super) scenario: String,
    /// Runs on one core.
    pub(super) runs_one_core: u64,
    /// Runs per second on one core.
    pub(super) per_s_one_core: f64,
    /// Threads of the second measurement.
    pub(super) threads: usize,
    /// Runs on every core, in all.
    pub(super) runs_all_cores: u64,
    /// Runs per second on every core.
    pub(super) per_s_all_cores: f64,
    /// The smallest and largest reassignment time seen over the seeds.
    pub(super) reassigned_after_ms: (f64, f64),
}

/// Runs `runs` seeds on one thread, then `runs` seeds on each of `threads` threads.
pub(super) fn sweep(runs: u64, threads: usize) -> anyhow::Result<Seeds> {
    let scenario = crash_scenario()?;
    let clock = Stopwatch::start();
    let (lo, hi) = run_seeds(&scenario, 1..=runs)?;
    let one = clock.elapsed().as_secs_f64();
    let clock = Stopwatch::start();
    let ranges: Vec<(f64, f64)> = thread::scope(|s| {
        let handles: Vec<_> = (0..threads as u64)
            .map(|t| {
                let scenario = &scenario;
                let seeds = runs * (t + 1) + 1..=runs * (t + 2);
                s.spawn(move || run_seeds(scenario, seeds))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a sweep thread panicked"))
            .collect::<anyhow::Result<Vec<_>>>()
    })?;
    let all = clock.elapsed().as_secs_f64();
    let lo = ranges.iter().map(|r| r.0).fold(lo, f64::min);
    let hi = ranges.iter().map(|r| r.1).fold(hi, f64::max);
    let total = runs * threads as u64;
    Ok(Seeds {
        scenario: "crash_vs_close.toml --variant kill, session.timeout.ms=45000".to_string(),
        runs_one_core: runs,
        per_s_one_core: runs as f64 / one.max(1e-9),
        threads,
        runs_all_cores: total,
        per_s_all_cores: total as f64 / all.max(1e-9),
        reassigned_after_ms: (lo, hi),
    })
}

/// Runs each seed; returns the smallest and largest reassignment time.
fn run_seeds(
    scenario: &kafka_sim::scenario::Scenario,
    seeds: std::ops::RangeInclusive<u64>,
) -> anyhow::Result<(f64, f64)> {
    let (mut lo, mut hi) = (f64::INFINITY, 0f64);
    for seed in seeds {
        let (_, report) = run_report(scenario, seed)?;
        let moved = reassigned_after_ms(&report)?;
        lo = lo.min(moved);
        hi = hi.max(moved);
    }
    Ok((lo, hi))
}
