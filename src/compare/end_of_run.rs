//! The facts of a group at the end of a run: distinct records processed, the largest lag, the
//! log-end offsets at the last sample, and which of them a broker's explained shift excuses.

use std::collections::{BTreeMap, BTreeSet};

use super::broker_limits::service_timing;
use super::{Comparison, Row, Status, deterministic, same_or_differs};
use crate::report::Report;

/// A broker whose explained shift assigns later (`later_ms` > 0) leaves its run of the same
/// length less time after each rebalance: fewer distinct records processed or a lag not yet
/// drained at the end follows from the shift, not from a disagreement, so such a row is shown
/// for information. More records processed, or a drain in the real run only, still differs.
/// `shorter` is what the row's builder read from its numbers: the real run did less.
pub(super) fn excuse_the_shorter_tail(row: &mut Row, shorter: bool, later_ms: i64) {
    if later_ms > 0 && shorter && row.status == Status::Differs {
        row.status = Status::Info;
        row.note = format!(
            "{}; the broker's explained shift (+{later_ms} ms) left its run less time",
            row.note
        );
    }
}

/// The group's largest total lag in each run: information only, since it depends on when the
/// samples fall.
pub(super) fn largest_lag_row(out: &mut Comparison, group: &str, sim: &Report, real: &Report) {
    let max = |r: &Report| {
        let series = r.group_lag_series(group);
        match series
            .iter()
            .max_by_key(|&&(t, l)| (l, std::cmp::Reverse(t)))
        {
            Some((t, l)) => format!("{l} at {t} ms"),
            None => "no samples".into(),
        }
    };
    out.push(
        format!("group {group}: largest lag"),
        max(sim),
        max(real),
        Status::Info,
        "depends on when samples fall".into(),
    );
}

/// Distinct records the group processed, when both traces say (a real run's members report
/// each record they finish).
/// With a later broker (`later_ms`), fewer records processed in the real run are excused
/// ([`excuse_the_shorter_tail`]).
pub(super) fn processed_row(
    out: &mut Comparison,
    group: &str,
    (sim, real): (&Report, &Report),
    later_ms: i64,
) {
    let has = |r: &Report| r.processed.iter().any(|p| p.group == group);
    if !has(sim) || !has(real) {
        return;
    }
    let (s, r) = (sim.processing_totals(group), real.processing_totals(group));
    out.push(
        format!("group {group}: distinct records processed"),
        s.distinct.to_string(),
        r.distinct.to_string(),
        same_or_differs(s.distinct == r.distinct),
        format!(
            "processed twice: sim {}, real {} (depends on when commits fall)",
            s.reprocessed, r.reprocessed
        ),
    );
    let row = out.rows.last_mut().expect("the row just pushed");
    excuse_the_shorter_tail(row, r.distinct < s.distinct, later_ms);
    // Each run read every record of a topic whose count follows from timing (a service that
    // crashed mid-batch): the counts differ as the topics do.
    let every = |rep: &Report, distinct: u64| {
        let topics: BTreeSet<&str> = rep
            .processed
            .iter()
            .filter(|p| p.group == group)
            .map(|p| p.topic.as_str())
            .collect();
        let timed = topics.iter().any(|t| service_timing(rep, t).is_some());
        timed && topics.iter().map(|t| rep.topic_records(t)).sum::<u64>() == distinct
    };
    if row.status == Status::Differs && every(sim, s.distinct) && every(real, r.distinct) {
        row.status = Status::Info;
        row.note = format!(
            "{}; each run read every record of its input, whose count depends on timing",
            row.note
        );
    }
}

/// The high watermark of each partition at the last lag sample: what
/// `kafka-consumer-groups --describe` prints as LOG-END-OFFSET. Once every record is appended it
/// is the number of records in the partition, so it must agree; a sample taken while records
/// were still arriving is only informative.
/// Why a topic's records per partition depend on timing (null keys, several producers): its
/// total is compared, not where each record went.
pub(super) const TIMING_SPREAD: &str = "depends on timing: null keys or several producers";

pub(super) fn log_end_rows(out: &mut Comparison, group: &str, sim: &Report, real: &Report) {
    let last = |r: &Report| -> BTreeMap<(String, u32), (u64, u64)> {
        r.lag
            .iter()
            .filter(|l| l.group == group)
            .map(|l| ((l.topic.clone(), l.partition), (l.t_ms, l.log_end_offset)))
            .collect()
    };
    let (ls, lr) = (last(sim), last(real));
    let last_append = |r: &Report, topic: &str| {
        r.appended
            .iter()
            .filter(|a| a.topic == topic)
            .map(|a| a.t_ms)
            .max()
    };
    let partitions: BTreeSet<&(String, u32)> = ls.keys().chain(lr.keys()).collect();
    for tp in partitions {
        let (s, r) = (ls.get(tp), lr.get(tp));
        let settled = |report: &Report, sample: Option<&(u64, u64)>| match sample {
            Some((t, _)) => last_append(report, &tp.0).is_none_or(|a| a <= *t),
            None => false,
        };
        let text = |x: Option<&(u64, u64)>| x.map_or("no sample".to_string(), |x| x.1.to_string());
        let same = s.map(|x| x.1) == r.map(|x| x.1);
        let by_timing = !deterministic(sim, &tp.0)
            || !deterministic(real, &tp.0)
            || service_timing(sim, &tp.0).is_some()
            || service_timing(real, &tp.0).is_some();
        let (status, note) = match (same, settled(sim, s) && settled(real, r)) {
            (true, _) => (Status::Same, String::new()),
            (false, _) if by_timing => (Status::Info, TIMING_SPREAD.to_string()),
            (false, true) => (
                Status::Differs,
                "every record was appended by then".to_string(),
            ),
            (false, false) => (Status::Info, "records were still arriving".to_string()),
        };
        out.push(
            format!(
                "group {group}: {}-{} log-end offset at the last sample",
                tp.0, tp.1
            ),
            text(s),
            text(r),
            status,
            note,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_later_broker_is_excused_fewer_records_and_no_drain_but_not_more() {
        let row = |status| Row {
            fact: "processed".into(),
            sim: "1000".into(),
            real: "985".into(),
            status,
            note: "n".into(),
        };
        let mut r = row(Status::Differs);
        excuse_the_shorter_tail(&mut r, true, 0);
        assert_eq!(r.status, Status::Differs, "no shift, no excuse");
        excuse_the_shorter_tail(&mut r, false, 6054);
        assert_eq!(
            r.status,
            Status::Differs,
            "the real run did more: no excuse"
        );
        let mut same = row(Status::Same);
        excuse_the_shorter_tail(&mut same, true, 6054);
        assert_eq!(same.status, Status::Same, "only a difference is excused");
        excuse_the_shorter_tail(&mut r, true, 6054);
        assert_eq!(r.status, Status::Info);
        assert!(r.note.contains("+6054 ms"), "{}", r.note);
    }
}
