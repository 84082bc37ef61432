//! The clock of a real run and the events it collects.
//!
//! Every thread and every member's pipe reader stamps what it learns with [`Recorder::record`];
//! at the end the events are sorted by time and written as a trace in the simulator's format,
//! with `t_ms` in wall-clock milliseconds since the start of the run. Two events of the same
//! millisecond keep the order in which they were recorded.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use kafka_sim::trace::{TraceEvent, TraceHeader, TraceRecord, jsonl};

/// The run's clock and event log. Cheap to clone: clones share both.
#[derive(Clone, Debug)]
pub struct Recorder {
    start: Instant,
    start_unix_ms: i64,
    events: Arc<Mutex<Vec<TraceRecord>>>,
    sealed: Arc<AtomicBool>,
}

impl Recorder {
    /// Starts the clock now.
    pub fn start() -> Recorder {
        let unix = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        Recorder {
            start: Instant::now(),
            start_unix_ms: i64::try_from(unix.as_millis()).unwrap_or(i64::MAX),
            events: Arc::default(),
            sealed: Arc::default(),
        }
    }

    /// Milliseconds since the start.
    pub fn now_ms(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// The instant `at_ms` after the start.
    pub fn instant_at(&self, at_ms: u64) -> Instant {
        self.start + Duration::from_millis(at_ms)
    }

    /// Sleeps until `at_ms` after the start (returns at once if that has passed).
    pub fn sleep_until(&self, at_ms: u64) {
        let target = self.instant_at(at_ms);
        let now = Instant::now();
        if target > now {
            std::thread::sleep(target - now);
        }
    }

    /// Sleeps until `at_ms` after the start, or until `stop` is set (checked every 10 ms).
    /// Returns false if it was stopped.
    pub fn sleep_until_or_stop(&self, at_ms: u64, stop: &AtomicBool) -> bool {
        while self.now_ms() < at_ms {
            if stop.load(Ordering::SeqCst) {
                return false;
            }
            let left = at_ms.saturating_sub(self.now_ms()).min(10);
            std::thread::sleep(Duration::from_millis(left));
        }
        !stop.load(Ordering::SeqCst)
    }

    /// A record timestamp (Unix milliseconds, Kafka's CreateTime) as run time, clamped at 0.
    pub fn from_unix_ms(&self, unix_ms: i64) -> u64 {
        u64::try_from(unix_ms - self.start_unix_ms).unwrap_or(0)
    }

    /// Records `event` from `component`, stamped now; ignored once the run is sealed.
    pub fn record(&self, component: &str, event: TraceEvent) {
        if !self.sealed.load(Ordering::SeqCst) {
            self.record_at(self.now_ms(), component, event);
        }
    }

    /// Ends the run: what clients report from now on (a member being killed at the end, a late
    /// delivery report) is not part of it. Events with an explicit time still go in.
    pub fn seal(&self) {
        self.sealed.store(true, Ordering::SeqCst);
    }

    /// Events recorded so far.
    pub fn len(&self) -> usize {
        self.events.lock().expect("recorder lock").len()
    }

    /// True if nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Records `event` from `component` at `t_ms`.
    pub fn record_at(&self, t_ms: u64, component: &str, event: TraceEvent) {
        let mut events = self.events.lock().expect("recorder lock");
        let seq = events.len() as u64;
        events.push(TraceRecord {
            t_ms,
            seq,
            component: Arc::from(component),
            cause: None,
            event,
        });
    }

    /// The events so far, sorted by time (ties in recording order) and renumbered from 0.
    pub fn records(&self) -> Vec<TraceRecord> {
        let mut events = self.events.lock().expect("recorder lock").clone();
        events.sort_by_key(|r| (r.t_ms, r.seq));
        for (i, r) in events.iter_mut().enumerate() {
            r.seq = i as u64;
        }
        events
    }

    /// The whole trace as JSONL.
    pub fn to_jsonl(&self, header: &TraceHeader) -> String {
        jsonl::to_string(header, &self.records())
    }
}
