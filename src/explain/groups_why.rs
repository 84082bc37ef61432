//! What started a rebalance, read from the events around its `PreparingRebalance`.
//!
//! The coordinator moves a group to PreparingRebalance from four paths, and writes the
//! membership event of each just before the state change, at the same time: a `MemberJoined`
//! (a new member's JoinGroup), a `MemberLeft` (LeaveGroup: `close()`, or the client giving up
//! after `max.poll.interval.ms`), a `MemberExpired` (`session.timeout.ms` without a heartbeat)
//! and a `MemberRemoved` (a member that missed the rebalance timeout). A leader that re-joins
//! by itself does so because its metadata changed: a subscribed topic's partition count, or a
//! subscription (`ConsumerCoordinator.rejoinNeededOrPending`), or, with a cooperative assignor, to
//! hand over the partitions its members just revoked (KIP-429's second rebalance).

use super::{Context, Entry, Message, n, text};
use crate::trace::{TraceEvent, TraceRecord};

/// How many records of the same millisecond to look through for the trigger.
const SAME_TIME: usize = 64;

/// `e` (the rebalance at `i`) with its trigger as a detail line, its numbers and causes.
pub(super) fn trigger(ctx: &Context<'_>, i: usize, group: &str, e: Entry) -> Entry {
    let t = ctx.records[i].t_ms;
    let found = ctx.find_back(i, SAME_TIME, |r| {
        r.t_ms == t && membership_group(r).is_some_and(|g| g == group)
    });
    match found {
        Some((j, r)) => by_event(ctx, j, r, e),
        None => by_reason(ctx, i, e),
    }
}

fn membership_group(r: &TraceRecord) -> Option<&str> {
    match &r.event {
        TraceEvent::MemberJoined { group, .. }
        | TraceEvent::MemberLeft { group, .. }
        | TraceEvent::MemberExpired { group, .. }
        | TraceEvent::MemberRemoved { group, .. } => Some(group),
        _ => None,
    }
}

fn by_event(ctx: &Context<'_>, j: usize, r: &TraceRecord, e: Entry) -> Entry {
    let mut causes = vec![r.seq];
    let e = match &r.event {
        TraceEvent::MemberJoined {
            member_id,
            client_id,
            protocols,
            ..
        } => {
            let e = e.member(member_id).line(Message::new(
                "explain-why-joined",
                vec![
                    ("member", text(ctx.label(member_id))),
                    ("client", text(&client_id[..])),
                    ("protocols", super::list(protocols)),
                ],
            ));
            restarted(ctx, j, member_id, e, &mut causes)
        }
        TraceEvent::MemberLeft {
            member_id, reason, ..
        } => left(ctx, j, member_id, reason, e.member(member_id), &mut causes),
        TraceEvent::MemberExpired {
            member_id,
            timeout_ms,
            pending,
            ..
        } => expired(ctx, j, member_id, *timeout_ms, *pending, e, &mut causes),
        TraceEvent::MemberRemoved {
            member_id, reason, ..
        } => e.member(member_id).line(Message::new(
            "explain-why-removed",
            vec![
                ("member", text(ctx.label(member_id))),
                ("reason", text(reason)),
            ],
        )),
        _ => e,
    };
    e.derived(causes)
}

/// A joining member whose process was just restarted: a new process, a new member id.
fn restarted(ctx: &Context<'_>, j: usize, member: &str, e: Entry, causes: &mut Vec<u64>) -> Entry {
    let Some(component) = ctx.member_component(member) else {
        return e;
    };
    let last = ctx.last_lifecycle(component, j, |_| true);
    match last {
        Some(r) if matches!(r.event, TraceEvent::ClientRestarted {}) => {
            causes.push(r.seq);
            e.line(Message::new(
                "explain-why-restarted",
                vec![("component", text(component)), ("at", r.t_ms.into())],
            ))
        }
        _ => e,
    }
}

/// A LeaveGroup: on `close()`, or after `max.poll.interval.ms`.
fn left(
    ctx: &Context<'_>,
    j: usize,
    member: &str,
    reason: &str,
    e: Entry,
    causes: &mut Vec<u64>,
) -> Entry {
    let component = ctx.member_component(member);
    let poll = component.and_then(|c| {
        ctx.last_lifecycle(c, j, |e| {
            matches!(e, TraceEvent::MaxPollIntervalExceeded { member_id, .. }
                if &member_id[..] == member)
        })
    });
    if let Some(p) = poll
        && let TraceEvent::MaxPollIntervalExceeded {
            last_poll_ms,
            max_poll_interval_ms,
            ..
        } = &p.event
    {
        causes.push(p.seq);
        return e
            .numbers(&[
                ("max_poll_interval_ms", n(*max_poll_interval_ms)),
                ("last_poll_ms", n(*last_poll_ms)),
            ])
            .line(Message::new(
                "explain-why-poll",
                vec![
                    ("member", text(ctx.label(member))),
                    ("limit", (*max_poll_interval_ms).into()),
                    ("last", (*last_poll_ms).into()),
                ],
            ));
    }
    let close = component
        .and_then(|c| ctx.last_lifecycle(c, j, |e| matches!(e, TraceEvent::ConsumerClosed { .. })));
    let id = match close {
        Some(c) => {
            causes.push(c.seq);
            "explain-why-close"
        }
        None => "explain-why-left",
    };
    e.line(Message::new(
        id,
        vec![
            ("member", text(ctx.label(member))),
            ("reason", text(reason)),
        ],
    ))
}

/// A session that ran out: when the last heartbeat arrived, and the crash or pause before it.
fn expired(
    ctx: &Context<'_>,
    j: usize,
    member: &str,
    timeout_ms: u64,
    pending: bool,
    e: Entry,
    causes: &mut Vec<u64>,
) -> Entry {
    let t = ctx.records[j].t_ms;
    let last = t.saturating_sub(timeout_ms);
    let id = if pending {
        "explain-why-join-timeout"
    } else {
        "explain-why-expired"
    };
    let mut e = e
        .member(member)
        .numbers(&[
            ("session_timeout_ms", n(timeout_ms)),
            ("last_heartbeat_ms", n(last)),
        ])
        .line(Message::new(
            id,
            vec![
                ("member", text(ctx.label(member))),
                ("timeout", timeout_ms.into()),
                ("last", last.into()),
            ],
        ));
    let Some(component) = ctx.member_component(member) else {
        return e;
    };
    let stopped = ctx.last_lifecycle(component, j, |e| {
        matches!(
            e,
            TraceEvent::ClientCrashed {} | TraceEvent::ClientPaused { .. }
        )
    });
    if let Some(s) = stopped {
        causes.push(s.seq);
        let id = match s.event {
            TraceEvent::ClientPaused { .. } => "explain-why-paused",
            _ => "explain-why-crashed",
        };
        let before = t.saturating_sub(s.t_ms);
        e = e
            .numbers(&[
                ("stopped_ms", n(s.t_ms)),
                ("stopped_before_expiry_ms", n(before)),
            ])
            .line(Message::new(
                id,
                vec![
                    ("component", text(component)),
                    ("at", s.t_ms.into()),
                    ("before", before.into()),
                ],
            ));
    }
    e
}

/// No membership event at the same time: the coordinator's own reason, or a leader's re-join
/// after a metadata change.
fn by_reason(ctx: &Context<'_>, i: usize, e: Entry) -> Entry {
    let TraceEvent::GroupStateChanged { reason, .. } = &ctx.records[i].event else {
        return e;
    };
    // KIP-429's second round: members that gave up partitions re-join so that they can be
    // handed to their new owners (`ConsumerCoordinator.onJoinComplete` requests it).
    let id = if reason.ends_with("need to revoke partitions and re-join") {
        "explain-why-cooperative"
    } else if reason.contains("re-joining") || reason.contains("Updating metadata") {
        "explain-why-rejoin"
    } else {
        "explain-why-coordinator"
    };
    e.line(Message::new(id, vec![("reason", text(reason))]))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::explain::{CauseSource, explain, rec, render};
    use crate::i18n::Lang;
    use crate::trace::TraceEvent;

    /// A consumer too slow to poll: its client leaves the group, the coordinator rebalances.
    #[test]
    fn a_poll_timeout_starts_the_rebalance_through_its_leave_group() {
        let g = || Arc::from("g");
        let m = || Arc::from("m-1");
        let records = [
            rec(
                0,
                10,
                "consumer/g/1",
                TraceEvent::PartitionsAssigned {
                    group: g(),
                    member_id: m(),
                    generation: 1,
                    partitions: vec![Arc::from("t-0")],
                },
            ),
            rec(
                1,
                310_010,
                "consumer/g/1",
                TraceEvent::MaxPollIntervalExceeded {
                    group: g(),
                    member_id: m(),
                    last_poll_ms: 10_010,
                    max_poll_interval_ms: 300_000,
                },
            ),
            rec(
                2,
                310_011,
                "group/g",
                TraceEvent::MemberLeft {
                    group: g(),
                    member_id: m(),
                    reason: "consumer poll timeout has expired".into(),
                },
            ),
            rec(
                3,
                310_011,
                "group/g",
                TraceEvent::GroupStateChanged {
                    group: g(),
                    from: Arc::from("Stable"),
                    to: Arc::from("PreparingRebalance"),
                    reason: "explicit `LeaveGroup` request for (m-1) members.".into(),
                },
            ),
        ];
        let entries = explain(&records);
        let rebalance = entries.iter().find(|e| e.kind == "rebalance").unwrap();
        assert_eq!(rebalance.causes, [2, 1]);
        assert_eq!(rebalance.cause_source, CauseSource::Events);
        assert_eq!(rebalance.numbers["max_poll_interval_ms"], 300_000);
        assert_eq!(rebalance.numbers["last_poll_ms"], 10_010);
        let text = render::sentence(rebalance, Lang::En);
        assert!(
            text.contains("max.poll.interval.ms = 300000 ms (last poll at 10010 ms)"),
            "{text}"
        );
        assert!(render::sentence(rebalance, Lang::Fr).contains("max.poll.interval.ms"));
    }
}
