//! The summary JSON of `kafka-sim run --summary FILE`: one object per variant with each group's
//! lag series and totals, the rebalances, per-partition counts, duplicates and expectations.
//! Its schema is documented in `scenarios/README.md` and kept stable: fields are added, never
//! renamed or removed, without bumping `summary_version`.

use std::collections::BTreeMap;

use serde::Serialize;

use super::Outcome;
use crate::expect;
use crate::report::Report;
use crate::report::transactions::{EndCause, TransactionalId};

/// Bumped when a field changes meaning or disappears.
pub const SUMMARY_VERSION: u32 = 1;

/// The whole file.
#[derive(Debug, Serialize)]
pub struct Summary {
    /// [`SUMMARY_VERSION`].
    pub summary_version: u32,
    /// Scenario name.
    pub scenario: String,
    /// Master seed.
    pub seed: u64,
    /// `kafka-sim <version>`.
    pub sim_version: String,
    /// One entry per variant run, in file order.
    pub variants: Vec<VariantSummary>,
}

/// One variant.
#[derive(Debug, Serialize)]
pub struct VariantSummary {
    /// Its name (null when the scenario has no variants).
    pub variant: Option<String>,
    /// Virtual time of the end of the run.
    pub ended_at_ms: u64,
    /// Per consumer group.
    pub groups: BTreeMap<String, GroupSummary>,
    /// Every rebalance.
    pub rebalances: Vec<RebalanceSummary>,
    /// Per topic-partition (`orders-0`).
    pub partitions: BTreeMap<String, PartitionSummary>,
    /// Records appended more than once (same topic and value).
    pub duplicates_appended: u64,
    /// Per `transactional.id` (absent from a run without transactions).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub transactions: BTreeMap<String, TransactionSummary>,
    /// Each expectation.
    pub expectations: Vec<ExpectationSummary>,
}

/// One group's figures.
#[derive(Debug, Serialize)]
pub struct GroupSummary {
    /// `[[t_ms, lag], ...]`: total lag at each sample.
    pub lag_series: Vec<[u64; 2]>,
    /// Largest total lag.
    pub max_lag: u64,
    /// First sample after the last produced record with lag 0, or null.
    pub drained_at_ms: Option<u64>,
    /// Records processed (counting repeats).
    pub processed: u64,
    /// Records processed more than once.
    pub reprocessed: u64,
    /// Records never processed.
    pub skipped: u64,
}

/// One rebalance.
#[derive(Debug, Serialize)]
pub struct RebalanceSummary {
    /// `group.id`.
    pub group: String,
    /// The generation it produced.
    pub generation: Option<i32>,
    /// When it started.
    pub started_at_ms: u64,
    /// When it completed.
    pub completed_at_ms: Option<u64>,
    /// Why.
    pub reason: String,
    /// member -> `["topic-p", ...]`.
    pub assignment: BTreeMap<String, Vec<String>>,
}

/// One partition's figures.
#[derive(Debug, Serialize)]
pub struct PartitionSummary {
    /// Records appended.
    pub records: u64,
    /// Log end offset.
    pub log_end_offset: u64,
    /// Transaction markers: control records, which take an offset (absent when none).
    #[serde(skip_serializing_if = "is_zero")]
    pub control_records: u64,
}

/// One `transactional.id`'s transactions (KIP-98).
#[derive(Debug, Serialize)]
pub struct TransactionSummary {
    /// The latest producer id.
    pub producer_id: Option<i64>,
    /// Every epoch seen, in order.
    pub epochs: Vec<i16>,
    /// Transactions committed.
    pub committed: u64,
    /// Transactions aborted by the application (`EndTxn(abort)`).
    pub aborted_by_application: u64,
    /// Transactions the coordinator aborted on `transaction.timeout.ms`.
    pub aborted_on_timeout: u64,
    /// Transactions aborted by a new instance's `InitProducerId` (the epoch fence).
    pub aborted_on_fence: u64,
    /// Requests refused with `PRODUCER_FENCED`: `[t_ms, request]`.
    pub fenced: Vec<(u64, String)>,
    /// Markers per `topic-partition`: `[COMMIT, ABORT]`.
    pub markers: BTreeMap<String, [u64; 2]>,
}

impl TransactionSummary {
    fn new(report: &Report, txn: &TransactionalId) -> TransactionSummary {
        let by_cause = txn.aborted_by_cause();
        let ended = |cause: EndCause| by_cause.get(&cause).copied().unwrap_or(0);
        TransactionSummary {
            producer_id: txn.producer_id,
            epochs: txn.epochs.iter().copied().collect(),
            committed: txn.committed(),
            aborted_by_application: ended(EndCause::Application),
            aborted_on_timeout: ended(EndCause::Timeout),
            aborted_on_fence: ended(EndCause::Fence),
            fenced: txn
                .fenced
                .iter()
                .map(|f| (f.t_ms, f.request.clone()))
                .collect(),
            markers: report
                .transactions
                .markers_by_partition(txn.producer_id)
                .into_iter()
                .map(|((t, p), (commit, abort))| (format!("{t}-{p}"), [commit, abort]))
                .collect(),
        }
    }
}

/// For `skip_serializing_if`: a field that is zero is left out, so that a run without
/// transactions keeps the summary it had before they were reported.
#[expect(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde passes a reference"
)]
fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// One expectation's outcome.
#[derive(Debug, Serialize)]
pub struct ExpectationSummary {
    /// Its name.
    pub name: String,
    /// Whether it held.
    pub passed: bool,
    /// Observed and expected.
    pub detail: String,
}

impl VariantSummary {
    /// Summarises a report and its expectation outcomes.
    pub fn new(variant: Option<String>, report: &Report, outcomes: &[Outcome]) -> VariantSummary {
        let groups = report
            .groups()
            .into_iter()
            .map(|g| {
                let series = report.group_lag_series(&g);
                let totals = report.processing_totals(&g);
                let drained = expect::metric(report, &format!("drained_at_ms[{g}]"))
                    .ok()
                    .flatten()
                    .map(|v| match v {
                        expect::MetricValue::Number(n) => n as u64,
                        expect::MetricValue::Text(_) => 0,
                    });
                let summary = GroupSummary {
                    max_lag: series.iter().map(|&(_, l)| l).max().unwrap_or(0),
                    lag_series: series.into_iter().map(|(t, l)| [t, l]).collect(),
                    drained_at_ms: drained,
                    processed: totals.processings,
                    reprocessed: totals.reprocessed,
                    skipped: totals.skipped,
                };
                (g, summary)
            })
            .collect();
        VariantSummary {
            variant,
            ended_at_ms: report.ended_at_ms,
            groups,
            rebalances: report
                .rebalances
                .iter()
                .map(|r| RebalanceSummary {
                    group: r.group.clone(),
                    generation: r.generation,
                    started_at_ms: r.started_at_ms,
                    completed_at_ms: r.completed_at_ms,
                    reason: r.reason.clone(),
                    assignment: r.assignment.clone(),
                })
                .collect(),
            partitions: report
                .partitions
                .iter()
                .map(|((t, p), s)| {
                    let summary = PartitionSummary {
                        records: s.records,
                        log_end_offset: s.log_end_offset,
                        control_records: s.control_records,
                    };
                    (format!("{t}-{p}"), summary)
                })
                .collect(),
            duplicates_appended: report.duplicates_appended,
            transactions: report
                .transactions
                .ids
                .iter()
                .map(|(id, txn)| (id.clone(), TransactionSummary::new(report, txn)))
                .collect(),
            expectations: outcomes
                .iter()
                .map(|o| ExpectationSummary {
                    name: o.name.clone(),
                    passed: o.passed,
                    detail: o.detail.clone(),
                })
                .collect(),
        }
    }
}
