//! A trace sink that keeps counts instead of events: what the benchmark checks a run did (every
//! record appended and processed by every group) without holding millions of trace lines.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use kafka_sim::trace::{Detail, TraceEvent, TraceSink};
use kafka_sim::units::SimTime;

use super::measure::Stopwatch;

/// Counts of a run's trace, by kind.
#[derive(Debug)]
pub(super) struct Tally {
    detail: Detail,
    /// The partition count of the topic the groups read: a group's first assignment is
    /// complete once its members own that many partitions.
    partitions: usize,
    clock: Option<Stopwatch>,
    /// Events received.
    pub(super) events: u64,
    /// Records appended to partition logs.
    pub(super) appended: u64,
    /// Records processed, per group (repeats counted).
    pub(super) processed: BTreeMap<Arc<str>, u64>,
    /// Offsets committed (one per partition per commit).
    pub(super) commits: u64,
    /// Lag samples (one per partition per group per sample).
    pub(super) lag_samples: u64,
    owned: BTreeMap<Arc<str>, BTreeSet<Arc<str>>>,
    /// When each group's first member joined (wall time since the sink was created).
    joined: BTreeMap<Arc<str>, Duration>,
    /// When each group's first complete assignment came: virtual time, and the wall time since
    /// its first member joined (when the sink was given a clock).
    pub(super) first_complete: BTreeMap<Arc<str>, (SimTime, Option<Duration>)>,
}

impl Tally {
    /// A tally that wants `detail` and knows that the groups read `partitions` partitions; with
    /// `clock`, it notes the wall time of each group's first complete assignment too.
    pub(super) fn new(detail: Detail, partitions: usize, clock: Option<Stopwatch>) -> Tally {
        Tally {
            detail,
            partitions,
            clock,
            events: 0,
            appended: 0,
            processed: BTreeMap::new(),
            commits: 0,
            lag_samples: 0,
            owned: BTreeMap::new(),
            joined: BTreeMap::new(),
            first_complete: BTreeMap::new(),
        }
    }

    /// Records the group processed, or 0.
    pub(super) fn processed_by(&self, group: &str) -> u64 {
        self.processed.get(group).copied().unwrap_or(0)
    }
}

impl TraceSink for Tally {
    fn detail(&self) -> Detail {
        self.detail
    }

    fn record(&mut self, at: SimTime, _: &Arc<str>, _: Option<u64>, event: TraceEvent) {
        self.events += 1;
        match event {
            TraceEvent::BatchAppended { records, .. } => self.appended += u64::from(records),
            TraceEvent::RecordAppended { .. } => self.appended += 1,
            TraceEvent::RecordsProcessed { group, records, .. } => {
                *self.processed.entry(group).or_default() += u64::from(records);
            }
            TraceEvent::OffsetCommitted { .. } => self.commits += 1,
            TraceEvent::LagSampled { .. } => self.lag_samples += 1,
            TraceEvent::MemberJoined { group, .. } => {
                if let Some(clock) = self.clock {
                    self.joined.entry(group).or_insert_with(|| clock.elapsed());
                }
            }
            TraceEvent::PartitionsAssigned {
                group, partitions, ..
            } if !self.first_complete.contains_key(&group) => {
                let owned = self.owned.entry(group.clone()).or_default();
                owned.extend(partitions);
                if owned.len() >= self.partitions {
                    let since = self.joined.get(&group).copied().unwrap_or_default();
                    let wall = self.clock.map(|c| c.elapsed().saturating_sub(since));
                    self.first_complete.insert(group, (at, wall));
                }
            }
            _ => {}
        }
    }
}
