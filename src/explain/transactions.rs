//! Transactions (KIP-98): each transaction the coordinator decides (committed, or aborted by
//! the application, on `transaction.timeout.ms`, or by a new instance's `InitProducerId`), each
//! marker written, and each request refused with `PRODUCER_FENCED`. Who aborted is the reason
//! the coordinator gives its move into `PrepareAbort`; the markers follow, one control record
//! per partition of the transaction. And an OffsetFetch answered `UNSTABLE_OFFSET_COMMIT`
//! (KIP-447) because an open transaction holds the offset.

use super::{Entry, tp};
use crate::explain::{Context, list, text};
use crate::trace::{
    OffsetFetchUnstable, ProducerFenced, TraceEvent, TraceRecord, TxnMarkerWritten, TxnStateChanged,
};

/// The entries of record `i` (they need no memory).
pub(super) fn on(ctx: &Context<'_>, i: usize) -> Option<Entry> {
    let r = &ctx.records[i];
    match &r.event {
        TraceEvent::TxnStateChanged(change) => decided(r, change),
        TraceEvent::TxnMarkerWritten(TxnMarkerWritten {
            topic,
            partition,
            offset,
            producer_id,
            producer_epoch,
            result,
        }) => {
            let args = vec![
                ("partition", text(tp(topic, *partition))),
                ("offset", (*offset).into()),
                ("result", text(result)),
                ("pid", text(producer_id.to_string())),
                ("epoch", text(producer_epoch.to_string())),
            ];
            let e =
                Entry::at(r, "marker", "explain-txn-marker", args).partition(tp(topic, *partition));
            Some(e)
        }
        TraceEvent::ProducerFenced(ProducerFenced {
            transactional_id,
            producer_epoch,
            request,
            ..
        }) => {
            let args = vec![
                ("id", text(&transactional_id[..])),
                ("epoch", text(producer_epoch.to_string())),
                ("request", text(request)),
            ];
            Some(Entry::at(r, "producer-fenced", "explain-txn-fenced", args))
        }
        TraceEvent::OffsetFetchUnstable(OffsetFetchUnstable {
            group,
            partitions,
            producer_ids,
        }) => {
            let pids: Vec<String> = producer_ids.iter().map(ToString::to_string).collect();
            let args = vec![
                ("group", text(&group[..])),
                ("partitions", list(partitions)),
                ("pids", list(&pids)),
            ];
            let e = Entry::at(r, "unstable-offset", "explain-txn-unstable", args)
                .group(group)
                .partitions(partitions);
            Some(e)
        }
        _ => None,
    }
}

/// A transaction decided: committed, or aborted by whom (the reason of its move into
/// `PrepareAbort`). Other moves are no decision.
fn decided(r: &TraceRecord, change: &TxnStateChanged) -> Option<Entry> {
    let TxnStateChanged {
        transactional_id,
        to,
        reason,
        ..
    } = change;
    let id = match (&to[..], &reason[..]) {
        ("PrepareCommit", _) => "explain-txn-commit",
        ("PrepareAbort", "EndTxn") => "explain-txn-abort-app",
        ("PrepareAbort", "transaction.timeout.ms expired") => "explain-txn-abort-timeout",
        ("PrepareAbort", "a new instance") => "explain-txn-abort-fence",
        ("PrepareAbort", _) => "explain-txn-abort-other",
        _ => return None,
    };
    let args = vec![
        ("id", text(&transactional_id[..])),
        ("reason", text(reason)),
    ];
    Some(Entry::at(r, "transaction", id, args))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::explain::{explain, rec};
    use crate::trace::{ProducerFenced, TraceEvent, TxnStateChanged};

    fn state(to: &str, reason: &str) -> TraceEvent {
        TraceEvent::TxnStateChanged(TxnStateChanged {
            transactional_id: Arc::from("tx"),
            from: "Ongoing".into(),
            to: to.into(),
            reason: reason.into(),
        })
    }

    #[test]
    fn who_ended_each_transaction_and_who_was_fenced() {
        let records = vec![
            rec(
                1,
                10,
                "broker/1",
                state("PrepareEpochFence", "transaction.timeout.ms expired"),
            ),
            rec(
                2,
                10,
                "broker/1",
                state("PrepareAbort", "transaction.timeout.ms expired"),
            ),
            rec(3, 20, "broker/1", state("PrepareCommit", "EndTxn")),
            rec(4, 30, "broker/1", state("PrepareAbort", "EndTxn")),
            rec(
                5,
                40,
                "broker/1",
                TraceEvent::ProducerFenced(ProducerFenced {
                    transactional_id: Arc::from("tx"),
                    producer_id: 7,
                    producer_epoch: 0,
                    request: "EndTxn".into(),
                }),
            ),
        ];
        let ids: Vec<&str> = explain(&records).iter().map(|e| e.lines[0].id).collect();
        assert_eq!(
            ids,
            [
                "explain-txn-abort-timeout",
                "explain-txn-commit",
                "explain-txn-abort-app",
                "explain-txn-fenced"
            ]
        );
    }
}
