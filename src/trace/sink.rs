//! Where a run's events go: the trait the world writes to, and two in-memory sinks.

use std::sync::Arc;

use super::{Detail, TraceEvent, TraceRecord};
use crate::units::SimTime;

/// Where a run's events go. The world calls it; I/O, if any, is the sink's business.
pub trait TraceSink {
    /// How much detail the sink wants; the world skips building events it does not want.
    fn detail(&self) -> Detail;
    /// Receives one event. `seq` numbering is the sink's job.
    fn record(&mut self, at: SimTime, component: &Arc<str>, event: TraceEvent);
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

    fn record(&mut self, at: SimTime, component: &Arc<str>, event: TraceEvent) {
        let seq = self.records.len() as u64;
        self.records.push(TraceRecord {
            t_ms: at.0,
            seq,
            component: component.clone(),
            cause: None,
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

    fn record(&mut self, _at: SimTime, _component: &Arc<str>, _event: TraceEvent) {
        self.count += 1;
    }
}
