//! The report's transaction texts (KIP-98): the `transactions:` block, the control records of
//! the `produced:` block, and the line under a `kafka-consumer-groups` table that says what a
//! lag made of markers and transactional records is (also on standard error after `kafka-sim
//! describe --group`). The table itself stays what the tool prints.

use std::io::Write;

use kafka_sim::i18n::{Arg, Lang};
use kafka_sim::report::Report;
use kafka_sim::report::describe;
use kafka_sim::report::transactions::{EndCause, TransactionalId, TxnEnd};

/// How many decided transactions a `transactional.id` lists, one line each; the counts cover
/// them all.
const ENDS_SHOWN: usize = 12;

/// `+ M control records (transaction markers: p0: 2)`, under a topic's record count, if its
/// partitions hold markers.
pub(super) fn print_control_records(
    out: &mut impl Write,
    report: &Report,
    topic: &str,
    partitions: u32,
    lang: Lang,
) -> anyhow::Result<()> {
    let per_partition: Vec<(u32, u64)> = (0..partitions)
        .map(|p| {
            let key = (topic.to_string(), p);
            (
                p,
                report.partitions.get(&key).map_or(0, |s| s.control_records),
            )
        })
        .filter(|&(_, n)| n > 0)
        .collect();
    let total: u64 = per_partition.iter().map(|&(_, n)| n).sum();
    if total > 0 {
        let counts: Vec<String> = per_partition
            .iter()
            .map(|(p, n)| format!("p{p}: {n}"))
            .collect();
        let args = [
            ("markers", total.into()),
            ("counts", counts.join(", ").into()),
        ];
        writeln!(out, "    {}", lang.fmt("run-topic-control", &args))?;
    }
    Ok(())
}

/// The `transactions:` block: per `transactional.id`, its producer id and epochs, the
/// transactions committed and aborted (and by whom), each decision, its markers per partition,
/// the producers fenced, and a transaction still open at the end.
pub(super) fn print_transactions(
    out: &mut impl Write,
    report: &Report,
    lang: Lang,
) -> anyhow::Result<()> {
    let txns = &report.transactions;
    if txns.ids.is_empty() {
        return Ok(());
    }
    writeln!(out, "{}", lang.msg("run-transactions"))?;
    for (id, txn) in &txns.ids {
        writeln!(out, "  {}", id_line(id, txn, lang))?;
        for end in txn.ends.iter().take(ENDS_SHOWN) {
            writeln!(out, "    {:>9} ms  {}", end.t_ms, end_line(end, lang))?;
        }
        if txn.ends.len() > ENDS_SHOWN {
            let n = [("n", (txn.ends.len() - ENDS_SHOWN).into())];
            writeln!(out, "    {}", lang.fmt("run-txn-more", &n))?;
        }
        let markers: Vec<String> = txns
            .markers_by_partition(txn.producer_id)
            .iter()
            .filter(|((t, p), _)| report.partitions.contains_key(&(t.clone(), *p)))
            .map(|((t, p), &(commit, abort))| {
                let mut counts = Vec::new();
                if commit > 0 {
                    counts.push(format!("{commit} COMMIT"));
                }
                if abort > 0 {
                    counts.push(format!("{abort} ABORT"));
                }
                format!("{t}-{p}: {}", counts.join(", "))
            })
            .collect();
        if !markers.is_empty() {
            let list = [("list", markers.join("; ").into())];
            writeln!(out, "    {}", lang.fmt("run-txn-markers", &list))?;
        }
        for f in &txn.fenced {
            let args = [
                ("producer", f.producer.as_deref().unwrap_or("?").into()),
                ("pid", f.producer_id.to_string().into()),
                ("epoch", f.producer_epoch.to_string().into()),
                ("request", f.request.clone().into()),
            ];
            let line = lang.fmt("run-txn-fenced", &args);
            writeln!(out, "    {:>9} ms  {line}", f.t_ms)?;
        }
        if let Some(t) = txn.open_since_ms {
            let t = [("t", t.to_string().into())];
            writeln!(out, "    {}", lang.fmt("run-txn-open", &t))?;
        }
    }
    print_open_records(out, report, lang)
}

/// Records that no marker followed by the end of the trace, per partition: a read_committed
/// consumer cannot read past the first of them (the last stable offset).
fn print_open_records(out: &mut impl Write, report: &Report, lang: Lang) -> anyhow::Result<()> {
    for ((topic, partition), stats) in &report.partitions {
        let tp = (&topic[..], *partition);
        let note = report.lag_note(tp, 0, stats.log_end_offset, report.ended_at_ms);
        let Some((n, Some(lso))) = note.map(|n| (n.open, n.last_stable_offset)) else {
            continue;
        };
        if n > 0 {
            let args = [
                ("partition", format!("{topic}-{partition}").into()),
                ("n", n.into()),
                ("lso", lso.to_string().into()),
            ];
            writeln!(out, "  {}", lang.fmt("run-txn-open-records", &args))?;
        }
    }
    Ok(())
}

/// `order-service: producer id 1500, epochs 0, 1, 2; 1 committed, 1 aborted (1 by ...)`.
fn id_line(id: &str, txn: &TransactionalId, lang: Lang) -> String {
    let epochs: Vec<String> = txn.epochs.iter().map(ToString::to_string).collect();
    let committed = txn.committed();
    let by_cause = txn.aborted_by_cause();
    let aborted: u64 = by_cause.values().sum();
    let causes: Vec<String> = by_cause
        .iter()
        .map(|(cause, &n)| {
            let (msg, reason) = match cause {
                EndCause::Application => ("run-txn-cause-app", ""),
                EndCause::Timeout => ("run-txn-cause-timeout", ""),
                EndCause::Fence => ("run-txn-cause-fence", ""),
                EndCause::Other(r) => ("run-txn-cause-other", &r[..]),
            };
            lang.fmt(msg, &[("n", n.into()), ("reason", reason.into())])
        })
        .collect();
    let causes = if causes.is_empty() {
        String::new()
    } else {
        lang.fmt("run-txn-causes", &[("list", causes.join(", ").into())])
    };
    let pid = txn
        .producer_id
        .map_or_else(|| "-".to_string(), |p| p.to_string());
    let args: [(&str, Arg); 6] = [
        ("id", id.into()),
        ("pid", pid.into()),
        ("epochs", epochs.join(", ").into()),
        ("committed", committed.into()),
        ("aborted", aborted.into()),
        ("causes", causes.into()),
    ];
    lang.fmt("run-txn-id", &args)
}

/// One decision: COMMIT or ABORT, who decided, and the partitions its markers went to.
fn end_line(end: &TxnEnd, lang: Lang) -> String {
    let markers = if end.markers.is_empty() {
        String::new()
    } else {
        let partitions = [("partitions", end.markers.join(", ").into())];
        lang.fmt("run-txn-markers-on", &partitions)
    };
    let (msg, reason) = match (&end.cause, end.commit) {
        (EndCause::Other(r), _) => ("run-txn-abort-other", &r[..]),
        (_, true) => ("run-txn-commit", ""),
        (EndCause::Application, false) => ("run-txn-abort-app", ""),
        (EndCause::Timeout, false) => ("run-txn-abort-timeout", ""),
        (EndCause::Fence, false) => ("run-txn-abort-fence", ""),
    };
    lang.fmt(
        msg,
        &[("markers", markers.into()), ("reason", reason.into())],
    )
}

/// Below a group's table: one line per partition whose lag holds markers or transactional
/// records, saying what its offsets are (`orders-0: LAG 1 = 1 transaction marker (control
/// record), nothing left to read`).
pub(crate) fn print_lag_notes(
    out: &mut impl Write,
    report: &Report,
    group: &str,
    at_ms: u64,
    lang: Lang,
) -> anyhow::Result<()> {
    for row in describe::rows(report, group, at_ms) {
        let (Some(current), Some(log_end)) = (row.current, row.log_end) else {
            continue;
        };
        let tp = (&row.topic[..], row.partition);
        let Some(note) = report.lag_note(tp, current, log_end, at_ms) else {
            continue;
        };
        let partition = format!("{}-{}", row.topic, row.partition);
        writeln!(out, "{}", note.text(&partition, lang))?;
    }
    Ok(())
}
