//! Where a run's events go: the trait the world writes to, and two in-memory sinks.

use std::sync::Arc;

use super::{Detail, TraceEvent, TraceRecord};
use crate::units::SimTime;

/// Where a run's events go. The world calls it; I/O, if any, is the sink's business.
pub trait TraceSink {
    /// How much detail the sink wants; the world skips building events it does not want.
    fn detail(&self) -> Detail;
    /// Receives one event and the `seq` of the earlier event that caused it, if any. `seq`
    /// numbering is the sink's job: every event it receives gets the next one, from 0, in the
    /// order received (the world counts alike to tell machines the seqs of their events).
    fn record(&mut self, at: SimTime, component: &Arc<str>, cause: Option<u64>, event: TraceEvent);
}

/// Keeps every event in memory, numbered from 0.
#[derive(Debug, Default)]
pub struct VecSink {
    /// The detail to ask for.
    pub detail: Detail,
    /// The events so far.
    pub records: Vec<TraceRecord>,
}

impl VecSink {
    /// An empty sink that wants `detail`.
    pub fn new(detail: Detail) -> VecSink {
        VecSink {
            detail,
            records: Vec::new(),
        }
    }
}

impl TraceSink for VecSink {
    fn detail(&self) -> Detail {
        self.detail
    }

    fn record(&mut self, at: SimTime, component: &Arc<str>, cause: Option<u64>, event: TraceEvent) {
        let seq = self.records.len() as u64;
        self.records.push(TraceRecord {
            t_ms: at.0,
            seq,
            component: component.clone(),
            cause,
            event,
        });
    }
}

/// Counts events and keeps nothing: for benchmarks.
#[derive(Debug, Default)]
pub struct CountingSink {
    /// Events received.
    pub count: u64,
}

impl TraceSink for CountingSink {
    fn detail(&self) -> Detail {
        Detail::Batches
    }

    fn record(&mut self, _: SimTime, _: &Arc<str>, _: Option<u64>, _: TraceEvent) {
        self.count += 1;
    }
}
