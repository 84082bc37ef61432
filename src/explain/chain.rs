//! The chain of causes a trace writes: each record's envelope may name, as `cause`, the seq of
//! the earlier event it follows from (a member removal names the session expiry, which names
//! the missed heartbeat...). Following `cause` back, seq by seq, gives the chain; a trace
//! without causes (format version 1) gives none, and the builders derive theirs.

use super::Context;

/// The longest chain followed: a guard against a malformed trace whose causes loop.
pub const MAX_CHAIN: usize = 64;

/// The seqs of the causes of the event at `seq`, nearest first: its `cause`, that event's
/// `cause`, and so on. A cause that is missing from the trace, or not earlier than its
/// consequence, ends the chain.
pub fn chain(ctx: &Context<'_>, seq: u64) -> Vec<u64> {
    let mut out = Vec::new();
    let mut at = seq;
    while let Some(cause) = ctx.by_seq(at).and_then(|r| r.cause) {
        if cause >= at || ctx.by_seq(cause).is_none() || out.len() >= MAX_CHAIN {
            break;
        }
        out.push(cause);
        at = cause;
    }
    out
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::explain::{CauseSource, explain};
    use crate::trace::{TraceEvent, TraceRecord};

    fn rec(seq: u64, t_ms: u64, cause: Option<u64>, event: TraceEvent) -> TraceRecord {
        TraceRecord {
            t_ms,
            seq,
            component: Arc::from("group/g"),
            cause,
            event,
        }
    }

    /// A small trace with causes, as format version 2 writes them: crash -> expiry ->
    /// PreparingRebalance.
    fn with_causes() -> Vec<TraceRecord> {
        let mut crash = rec(0, 1_000, None, TraceEvent::ClientCrashed {});
        crash.component = Arc::from("consumer/g/1");
        vec![
            crash,
            rec(
                1,
                11_000,
                Some(0),
                TraceEvent::MemberExpired {
                    group: Arc::from("g"),
                    member_id: Arc::from("m-1"),
                    group_instance_id: None,
                    timeout_ms: 10_000,
                    pending: false,
                },
            ),
            rec(
                2,
                11_000,
                Some(1),
                TraceEvent::GroupStateChanged {
                    group: Arc::from("g"),
                    from: Arc::from("Stable"),
                    to: Arc::from("PreparingRebalance"),
                    reason: "removing member m-1 on heartbeat expiration.".into(),
                },
            ),
        ]
    }

    #[test]
    fn the_chain_follows_cause_back_to_the_first_event() {
        let records = with_causes();
        let ctx = Context::new(&records);
        assert_eq!(chain(&ctx, 2), [1, 0]);
        assert_eq!(chain(&ctx, 1), [0]);
        assert!(chain(&ctx, 0).is_empty());
    }

    #[test]
    fn entries_take_the_traces_chain_over_a_derived_one() {
        let records = with_causes();
        let entries = explain(&records);
        let rebalance = entries.iter().find(|e| e.kind == "rebalance").unwrap();
        assert_eq!(rebalance.causes, [1, 0]);
        assert_eq!(rebalance.cause_source, CauseSource::Trace);
        let text = crate::explain::render::text(&records, &entries, crate::i18n::Lang::En);
        assert!(text.contains("<- 11000 ms #1"), "{text}");
        assert!(
            text.contains("<- 1000 ms #0 consumer/g/1 ClientCrashed"),
            "{text}"
        );
    }

    #[test]
    fn a_loop_or_a_forward_cause_ends_the_chain() {
        let mut records = with_causes();
        records[0].cause = Some(2);
        records[1].cause = Some(7);
        let ctx = Context::new(&records);
        assert_eq!(chain(&ctx, 2), [1]);
        assert!(chain(&ctx, 0).is_empty());
    }
}
