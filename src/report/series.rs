//! The series behind each plot, computed from [`Report`]s and nothing else.
//!
//! One run (one trace, one variant) becomes a [`RunSeries`]: the facts every plot draws, in
//! plain numbers. The plot module's `chart` turns one or more runs into a chart: one curve, bar
//! series or block of rows per run, so the variants of a scenario share one picture.
//!
//! The consumer-group facts come from [`group_series`](super::group_series); this module adds
//! what was produced and the crashes. Nothing here knows about charts: `plot` depends on these
//! plain series, never the other way round.

use std::collections::BTreeMap;

pub use super::group_series::{Flow, LagSample, Mark, MarkKind, Ownership, OwnershipChange};
use super::{Report, group_series};

/// What one run contributes to the plots.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunSeries {
    /// The name its curves, bars and rows carry: the variant, or the trace's file name.
    pub label: String,
    /// Where it came from, for error messages: the trace file, or the scenario and variant.
    pub source: String,
    /// The scenario, from the trace header.
    pub scenario: Option<String>,
    /// The variant, from the trace header.
    pub variant: Option<String>,
    /// The master seed, from the trace header.
    pub seed: Option<u64>,
    /// Virtual time of the last event.
    pub ended_at_ms: u64,
    /// Records appended per (topic, partition), every partition of every topic created.
    pub partitions: BTreeMap<(String, u32), u64>,
    /// Records appended over time, named after their topic.
    pub produced: Vec<Flow>,
    /// Records processed over time, named after the consumer group.
    pub processed: Vec<Flow>,
    /// Consumer lag samples.
    pub lag: Vec<LagSample>,
    /// Partition ownership changes.
    pub ownership: Vec<OwnershipChange>,
    /// Rebalances and crashes, in time order.
    pub marks: Vec<Mark>,
}

impl RunSeries {
    /// Collects what the plots need from `report`; `label` names the run in legends and
    /// `source` in errors.
    pub fn from_report(label: &str, source: &str, report: &Report) -> RunSeries {
        let header = report.header.as_ref();
        let mut marks = group_series::rebalance_marks(report);
        marks.extend(report.crashes.iter().map(|(t_ms, component)| Mark {
            t_ms: *t_ms,
            what: MarkKind::Crash {
                component: component.clone(),
            },
        }));
        marks.sort_by_key(|m| m.t_ms);
        RunSeries {
            label: label.to_string(),
            source: source.to_string(),
            scenario: header.map(|h| h.scenario.clone()),
            variant: header.and_then(|h| h.variant.clone()),
            seed: header.map(|h| h.seed),
            ended_at_ms: report.ended_at_ms,
            partitions: (report.partitions.iter())
                .map(|(key, stats)| (key.clone(), stats.records))
                .collect(),
            produced: produced(report),
            processed: group_series::processed(report),
            lag: group_series::lag_samples(report),
            ownership: group_series::ownership_changes(report),
            marks,
        }
    }
}

/// Records appended over time, by topic, from per-record or per-batch events; records of one
/// topic appended in the same millisecond are one flow.
fn produced(report: &Report) -> Vec<Flow> {
    let records = report.appended.iter().map(|a| (a.t_ms, &a.topic, 1));
    let batches = (report.appended_batches.iter()).map(|b| (b.t_ms, &b.topic, b.records));
    let mut flows: Vec<Flow> = Vec::new();
    for (t_ms, topic, records) in records.chain(batches) {
        match flows.last_mut() {
            Some(last) if last.t_ms == t_ms && last.name == *topic => last.records += records,
            _ => flows.push(Flow {
                t_ms,
                name: topic.clone(),
                records,
            }),
        }
    }
    flows
}
