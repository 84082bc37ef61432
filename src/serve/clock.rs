//! Virtual time from the wall clock: the one place `serve` reads it (an audited exception to
//! the determinism rules, like the CLI's progress display). What a served session's clients do
//! is stamped with the virtual time it reached the simulator, and those stamps go into the
//! trace, so `replay` needs no clock at all.
#![expect(clippy::disallowed_types, clippy::disallowed_methods)]

use std::time::{Duration, Instant, SystemTime};

use crate::units::SimTime;

/// Virtual time running `speed` times faster than the wall clock, from zero now.
#[derive(Debug)]
pub struct Clock {
    start: Instant,
    speed: f64,
}

impl Clock {
    /// A clock at virtual time zero now (a speed below 0.001 counts as 0.001).
    pub fn start(speed: f64) -> Clock {
        Clock {
            start: Instant::now(),
            speed: speed.max(0.001),
        }
    }

    /// The virtual time now.
    pub fn now(&self) -> SimTime {
        let wall = self.start.elapsed().as_secs_f64() * 1000.0;
        SimTime((wall * self.speed) as u64)
    }

    /// How long until virtual time `t`, on the wall clock.
    pub fn until(&self, t: SimTime) -> Duration {
        let wall_ms = t.0 as f64 / self.speed;
        let due = self.start + Duration::from_secs_f64(wall_ms / 1000.0);
        due.saturating_duration_since(Instant::now())
    }
}

/// The wall clock's ms since the Unix epoch.
pub fn epoch_ms() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
