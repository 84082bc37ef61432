//! Consumer groups: each rebalance with what started it, each generation, each assignment with
//! the assignor's input (members, their owned partitions), its output and what moved or was
//! revoked, and the members the coordinator lost.
//!
//! Without causes in the trace, a rebalance's trigger is the membership event the coordinator
//! wrote at the same time just before it (`ClassicGroup.transitionTo(PREPARING_REBALANCE)` is
//! called from the join, leave, expiry and removal paths): a `MemberExpired` gives
//! `session.timeout.ms` and so the last heartbeat's time (`t - session.timeout.ms`); the
//! member's process, found through its consumer's callbacks, may have crashed before that.

use std::collections::BTreeMap;

use super::{Context, Entry, Message, list, n, text};
use crate::i18n::Arg;
use crate::trace::{MemberAssignment, TraceEvent, TraceRecord};

/// How far back (in records) the builders look for a trigger's own causes.
const LOOK_BACK: usize = 20_000;

/// What the group builder remembers between records.
#[derive(Debug, Default)]
pub(super) struct Groups {
    assignments: BTreeMap<String, Vec<MemberAssignment>>,
    rebalance_started: BTreeMap<String, usize>,
    generation: BTreeMap<String, i32>,
    members: BTreeMap<String, Vec<String>>,
}

impl Groups {
    /// The entries of record `i`.
    pub(super) fn on(&mut self, ctx: &Context<'_>, i: usize) -> Vec<Entry> {
        let r = &ctx.records[i];
        match &r.event {
            TraceEvent::GroupStateChanged {
                group, from, to, ..
            } if &to[..] == "PreparingRebalance" => {
                self.rebalance_started.insert(group.to_string(), i);
                let generation = self.generation.get(&group[..]).copied().unwrap_or(0);
                vec![rebalance(ctx, i, group, from, generation)]
            }
            TraceEvent::GenerationStarted {
                group,
                generation,
                members,
                ..
            } => {
                self.generation.insert(group.to_string(), *generation);
                let ids = members.iter().map(|m| m.to_string()).collect();
                self.members.insert(group.to_string(), ids);
                generation_entry(ctx, r).into_iter().collect()
            }
            TraceEvent::AssignmentStored {
                group, assignments, ..
            } => {
                let e = self.assignment(ctx, i);
                self.assignments
                    .insert(group.to_string(), assignments.clone());
                vec![e]
            }
            _ => simple(ctx, r).into_iter().collect(),
        }
    }

    fn assignment(&self, ctx: &Context<'_>, i: usize) -> Entry {
        let r = &ctx.records[i];
        let TraceEvent::AssignmentStored {
            group,
            generation,
            assignments,
        } = &r.event
        else {
            unreachable!("called on AssignmentStored")
        };
        let before = self
            .assignments
            .get(&group[..])
            .cloned()
            .unwrap_or_default();
        let start = self.rebalance_started.get(&group[..]).copied().unwrap_or(i);
        let protocol = generation_protocol(ctx, i, group);
        let cooperative = protocol.contains("cooperative");
        let owned = owners(&before);
        let mut e = Entry::at(
            r,
            "assignment",
            "explain-assign-head",
            vec![
                ("group", text(&group[..])),
                ("generation", text(generation.to_string())),
                ("protocol", text(&protocol)),
                ("count", assignments.len().into()),
                ("topics", list(&topics_of(assignments))),
            ],
        )
        .group(group)
        .numbers(&[("generation", i64::from(*generation))]);
        let inputs = self.members.get(&group[..]).cloned().unwrap_or_default();
        e = input_output(ctx, e, &inputs, &before, assignments);
        let moves = moved(ctx, &owned, assignments);
        // Eager members revoke everything before they re-join: the callbacks are in the trace
        // already. Cooperative ones (KIP-429) revoke after this assignment what it took away.
        let revoked = if cooperative {
            taken_away(&owned, assignments)
        } else {
            revoked_between(ctx, start, i, group)
        };
        e = e
            .numbers(&[
                ("moved", n(moves.len() as u64)),
                ("revoked", n(revoked.len() as u64)),
            ])
            .line(Message::new(
                "explain-assign-moved",
                vec![("moves", list(&moves))],
            ));
        let mode = if cooperative {
            "explain-assign-cooperative"
        } else {
            "explain-assign-eager"
        };
        e.line(Message::new(mode, vec![("revoked", list(&revoked))]))
    }
}

fn owners(assignments: &[MemberAssignment]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for a in assignments {
        for p in &a.partitions {
            out.insert(p.to_string(), a.member_id.to_string());
        }
    }
    out
}

fn partitions_of<'a>(assignments: &'a [MemberAssignment], member: &str) -> Vec<&'a str> {
    assignments
        .iter()
        .filter(|a| &a.member_id[..] == member)
        .flat_map(|a| a.partitions.iter().map(|p| &p[..]))
        .collect()
}

fn topics_of(assignments: &[MemberAssignment]) -> Vec<String> {
    let mut topics: Vec<String> = assignments
        .iter()
        .flat_map(|a| a.partitions.iter())
        .filter_map(|p| p.rsplit_once('-').map(|(t, _)| t.to_string()))
        .collect();
    topics.sort();
    topics.dedup();
    topics
}

/// The assignor's input (each member and what it owned) and output, as detail lines.
fn input_output(
    ctx: &Context<'_>,
    mut e: Entry,
    inputs: &[String],
    before: &[MemberAssignment],
    assignments: &[MemberAssignment],
) -> Entry {
    for m in inputs {
        let had: Vec<&str> = partitions_of(before, m);
        e = e.member(m).line(Message::new(
            "explain-assign-input",
            vec![("member", text(ctx.label(m))), ("owned", list(&had))],
        ));
    }
    for a in assignments {
        e = e
            .member(&a.member_id)
            .line(Message::new(
                "explain-assign-output",
                vec![
                    ("member", text(ctx.label(&a.member_id))),
                    ("partitions", list(&a.partitions)),
                ],
            ))
            .partitions(&a.partitions);
    }
    e
}

/// `orders-1: consumer/g/2 -> consumer/g/1` for every partition whose owner changed.
fn moved(
    ctx: &Context<'_>,
    owned: &BTreeMap<String, String>,
    assignments: &[MemberAssignment],
) -> Vec<String> {
    let short = |m: &str| {
        ctx.member_component(m)
            .map_or(m.to_string(), str::to_string)
    };
    let mut out = Vec::new();
    for a in assignments {
        for p in &a.partitions {
            match owned.get(&p[..]) {
                Some(old) if old == &a.member_id[..] => {}
                Some(old) => out.push(format!("{p}: {} -> {}", short(old), short(&a.member_id))),
                None => out.push(format!("{p}: - -> {}", short(&a.member_id))),
            }
        }
    }
    let given = owners(assignments);
    for (p, old) in owned.iter().filter(|(p, _)| !given.contains_key(*p)) {
        out.push(format!("{p}: {} -> -", short(old)));
    }
    out
}

/// Partitions owned before that no member is given: what a cooperative member revokes now and
/// the next round hands over.
fn taken_away(owned: &BTreeMap<String, String>, assignments: &[MemberAssignment]) -> Vec<String> {
    let given = owners(assignments);
    owned
        .keys()
        .filter(|p| !given.contains_key(*p))
        .cloned()
        .collect()
}

/// Partitions revoked by the group's consumers since the rebalance began.
fn revoked_between(ctx: &Context<'_>, start: usize, end: usize, group: &str) -> Vec<String> {
    let mut out = Vec::new();
    for r in &ctx.records[start..end] {
        if let TraceEvent::PartitionsRevoked {
            group: g,
            partitions,
            ..
        } = &r.event
            && &g[..] == group
        {
            out.extend(partitions.iter().map(|p| p.to_string()));
        }
    }
    out
}

fn generation_protocol(ctx: &Context<'_>, i: usize, group: &str) -> String {
    let found = ctx.find_back(
        i,
        LOOK_BACK,
        |r| matches!(&r.event, TraceEvent::GenerationStarted { group: g, .. } if &g[..] == group),
    );
    match found.map(|(_, r)| &r.event) {
        Some(TraceEvent::GenerationStarted {
            protocol: Some(p), ..
        }) => p.to_string(),
        _ => "-".to_string(),
    }
}

fn generation_entry(ctx: &Context<'_>, r: &TraceRecord) -> Option<Entry> {
    let TraceEvent::GenerationStarted {
        group,
        generation,
        protocol,
        leader,
        members,
    } = &r.event
    else {
        return None;
    };
    let labels: Vec<String> = members.iter().map(|m| ctx.label(m)).collect();
    let mut e = Entry::at(
        r,
        "generation",
        "explain-generation",
        vec![
            ("group", text(&group[..])),
            ("generation", text(generation.to_string())),
            ("count", members.len().into()),
            ("protocol", text(protocol.as_deref().unwrap_or("-"))),
            (
                "leader",
                text(leader.as_deref().map_or("-".into(), |l| ctx.label(l))),
            ),
            ("members", list(&labels)),
        ],
    )
    .group(group)
    .numbers(&[
        ("generation", i64::from(*generation)),
        ("members", n(members.len() as u64)),
    ]);
    for m in members {
        e = e.member(m);
    }
    Some(e)
}

/// The rebalance that `GroupStateChanged -> PreparingRebalance` at `i` begins, with its trigger.
fn rebalance(ctx: &Context<'_>, i: usize, group: &str, from: &str, generation: i32) -> Entry {
    let r = &ctx.records[i];
    let e = Entry::at(
        r,
        "rebalance",
        "explain-rebalance",
        vec![
            ("group", text(group)),
            ("from", text(from)),
            ("generation", text(generation.to_string())),
        ],
    )
    .group(group)
    .numbers(&[("generation", i64::from(generation))]);
    super::groups_why::trigger(ctx, i, group, e)
}

/// Entries for members lost and for clients' own acts: expiries, departures, removals, poll
/// timeouts, partitions lost, crashes, restarts and closes.
fn simple(ctx: &Context<'_>, r: &TraceRecord) -> Option<Entry> {
    let e = match &r.event {
        TraceEvent::MemberExpired {
            group,
            member_id,
            timeout_ms,
            ..
        } => {
            let last = r.t_ms.saturating_sub(*timeout_ms);
            let more = vec![("timeout", (*timeout_ms).into()), ("last", last.into())];
            member_entry(ctx, r, "expired", group, member_id, more)
                .numbers(&[("session_timeout_ms", n(*timeout_ms))])
        }
        TraceEvent::MemberLeft {
            group,
            member_id,
            reason,
        } => member_entry(
            ctx,
            r,
            "left",
            group,
            member_id,
            vec![("reason", text(reason))],
        ),
        TraceEvent::MemberRemoved {
            group,
            member_id,
            reason,
        } => member_entry(
            ctx,
            r,
            "removed",
            group,
            member_id,
            vec![("reason", text(reason))],
        ),
        _ => return client_entry(r, &r.component),
    };
    Some(e)
}

/// A member the coordinator lost (`kind` `expired`, `left` or `removed`, message
/// `explain-member-<kind>`): the group and the member first, then `more`.
fn member_entry(
    ctx: &Context<'_>,
    r: &TraceRecord,
    kind: &'static str,
    group: &str,
    member: &str,
    more: Vec<(&'static str, Arg)>,
) -> Entry {
    let id = match kind {
        "expired" => "explain-member-expired",
        "left" => "explain-member-left",
        _ => "explain-member-removed",
    };
    let mut args = vec![("group", text(group)), ("member", text(ctx.label(member)))];
    args.extend(more);
    Entry::at(r, kind, id, args).group(group).member(member)
}

/// What a client did or suffered.
fn client_entry(r: &TraceRecord, c: &str) -> Option<Entry> {
    let e = consumer_entry(r, c).or_else(|| process_entry(r, c))?;
    Some(if c.starts_with("consumer/") {
        e.member(c)
    } else {
        e
    })
}

/// A consumer's own view: a poll timeout, partitions lost.
fn consumer_entry(r: &TraceRecord, c: &str) -> Option<Entry> {
    let component = || ("component", text(c));
    let e = match &r.event {
        TraceEvent::MaxPollIntervalExceeded {
            group,
            member_id,
            last_poll_ms,
            max_poll_interval_ms,
        } => Entry::at(
            r,
            "poll-timeout",
            "explain-poll-timeout",
            vec![
                component(),
                ("limit", (*max_poll_interval_ms).into()),
                ("last", (*last_poll_ms).into()),
            ],
        )
        .group(group)
        .member(member_id)
        .numbers(&[
            ("max_poll_interval_ms", n(*max_poll_interval_ms)),
            ("last_poll_ms", n(*last_poll_ms)),
        ]),
        TraceEvent::PartitionsLost {
            group,
            partitions,
            reason,
        } => Entry::at(
            r,
            "lost",
            "explain-partitions-lost",
            vec![
                component(),
                ("partitions", list(partitions)),
                ("reason", text(reason)),
            ],
        )
        .group(group)
        .partitions(partitions),
        _ => return None,
    };
    Some(e)
}

/// A client process: crashed, restarted, closed.
fn process_entry(r: &TraceRecord, c: &str) -> Option<Entry> {
    let component = || ("component", text(c));
    let e = match &r.event {
        TraceEvent::ClientCrashed {} => Entry::at(r, "crash", "explain-crash", vec![component()]),
        TraceEvent::ClientRestarted {} => {
            Entry::at(r, "restart", "explain-restart", vec![component()])
        }
        TraceEvent::ConsumerClosed { group, left_group } => {
            let id = if *left_group {
                "explain-close-leave"
            } else {
                "explain-close-static"
            };
            Entry::at(r, "close", id, vec![component()]).group(group)
        }
        _ => return None,
    };
    Some(e)
}
