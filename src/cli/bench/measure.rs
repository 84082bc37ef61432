//! The wall clock and the memory gauge of `kafka-sim bench`: the benchmark's one audited use of
//! `std::time::Instant` (the simulator itself only knows virtual time).
//!
//! Peak resident memory is Linux's `VmHWM` from `/proc/self/status`, reset to the current
//! resident size before each phase by writing `5` to `/proc/self/clear_refs` (Linux 4.0 and
//! later). Elsewhere the figures are `None` and the table says `n/a`.
#![expect(clippy::disallowed_types, clippy::disallowed_methods)]

use std::fs;
use std::time::{Duration, Instant};

/// A running wall clock.
#[derive(Clone, Copy, Debug)]
pub(super) struct Stopwatch(Instant);

impl Stopwatch {
    /// Starts now.
    pub(super) fn start() -> Stopwatch {
        Stopwatch(Instant::now())
    }

    /// Wall time since the start.
    pub(super) fn elapsed(&self) -> Duration {
        self.0.elapsed()
    }
}

/// What a measured phase took.
#[derive(Clone, Copy, Debug)]
pub(super) struct Cost {
    /// Wall time.
    pub(super) wall: Duration,
    /// Peak resident memory during the phase minus the resident memory before it.
    pub(super) peak_growth_bytes: Option<u64>,
}

/// Runs `f`, measuring its wall time and how much it raised the peak resident memory.
pub(super) fn measure<T>(f: impl FnOnce() -> T) -> (T, Cost) {
    reset_peak_rss();
    let before = status_field("VmRSS:");
    let clock = Stopwatch::start();
    let value = f();
    let wall = clock.elapsed();
    let peak = status_field("VmHWM:");
    let peak_growth_bytes = match (before, peak) {
        (Some(b), Some(p)) => Some(p.saturating_sub(b)),
        _ => None,
    };
    (
        value,
        Cost {
            wall,
            peak_growth_bytes,
        },
    )
}

fn status_field(field: &str) -> Option<u64> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

fn reset_peak_rss() {
    // Linux >= 4.0: writing 5 resets the peak resident set size to the current one.
    let _ = fs::write("/proc/self/clear_refs", "5");
}
