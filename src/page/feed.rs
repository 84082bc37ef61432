//! The page's feed: the run's decisions in time order, one plain sentence each, in English and
//! French.
//!
//! Today the feed is read from the trace events that exist: group state changes with the
//! coordinator's reason, new generations, stored assignments, members that expired
//! (`session.timeout.ms`), left or exceeded `max.poll.interval.ms`, partitions lost, crashes,
//! restarts and closes, duplicate appends (a value appended twice) and duplicates the broker
//! recognised (KIP-98), fenced brokers, leader elections and dead letters. The trace does not
//! yet say which event caused which, so no entry claims a cause it cannot show; a later
//! `explain` module, once the trace carries causes, fills the same [`FeedEntry`] list (one
//! function builds it) with the chain and its numbers, and the page needs no change.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::trace::{MemberAssignment, TraceEvent, TraceRecord};

/// One decision of the run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FeedEntry {
    /// Virtual time in ms: clicking the entry moves the slider here.
    pub t_ms: u64,
    /// What kind of decision (`rebalance`, `assignment`, `crash`, `duplicate`, `election`,
    /// ...), for the page's colour and filter.
    pub kind: &'static str,
    /// The consumer group it concerns, if any.
    pub group: Option<String>,
    /// The sentence in English.
    pub en: String,
    /// The same sentence in French.
    pub fr: String,
}

/// The feed of one trace.
pub fn feed(records: &[TraceRecord]) -> Vec<FeedEntry> {
    let mut out = Vec::new();
    let mut seen_values: BTreeMap<(&str, String), u64> = BTreeMap::new();
    for r in records {
        let entry = match &r.event {
            TraceEvent::RecordAppended {
                topic,
                partition,
                offset,
                value: Some(value),
                ..
            } => {
                let count = seen_values.entry((topic, value.to_string())).or_default();
                *count += 1;
                if *count > 1 {
                    duplicate_appended(r, topic, *partition, *offset)
                } else {
                    None
                }
            }
            _ => group_entry(r)
                .or_else(|| member_entry(r))
                .or_else(|| client_entry(r))
                .or_else(|| delivery_entry(r))
                .or_else(|| cluster_entry(r)),
        };
        out.extend(entry);
    }
    out
}

/// The entry of `r`: one constructor, so every helper of [`feed`] fills it the same way.
fn entry(
    r: &TraceRecord,
    kind: &'static str,
    group: Option<&str>,
    en: String,
    fr: String,
) -> Option<FeedEntry> {
    Some(FeedEntry {
        t_ms: r.t_ms,
        kind,
        group: group.map(str::to_string),
        en,
        fr,
    })
}

/// The group's own decisions: state changes, generations and stored assignments.
fn group_entry(r: &TraceRecord) -> Option<FeedEntry> {
    match &r.event {
        TraceEvent::GroupStateChanged {
            group,
            from,
            to,
            reason,
        } => {
            let kind = if &to[..] == "PreparingRebalance" {
                "rebalance"
            } else {
                "state"
            };
            entry(
                r,
                kind,
                Some(group),
                format!("Group {group}: {from} -> {to} ({reason})."),
                format!("Groupe {group} : {from} -> {to} ({reason})."),
            )
        }
        TraceEvent::GenerationStarted {
            group,
            generation,
            protocol,
            members,
            ..
        } => {
            let protocol = protocol.as_deref().unwrap_or("-");
            let n = members.len();
            entry(
                r,
                "generation",
                Some(group),
                format!(
                    "Group {group}: generation {generation} starts with {n} member(s), \
                     assignor {protocol}."
                ),
                format!(
                    "Groupe {group} : la génération {generation} commence avec {n} \
                     membre(s), assignor {protocol}."
                ),
            )
        }
        TraceEvent::AssignmentStored {
            group,
            generation,
            assignments,
        } => {
            let list = assignment_list(assignments);
            entry(
                r,
                "assignment",
                Some(group),
                format!("Group {group}, generation {generation}: assignment {list}."),
                format!("Groupe {group}, génération {generation} : répartition {list}."),
            )
        }
        _ => None,
    }
}

/// `m-1 <- t-0, t-1; m-2 <- -`: who got what, in one line of the feed.
fn assignment_list(assignments: &[MemberAssignment]) -> String {
    assignments
        .iter()
        .map(|a| {
            let parts: Vec<&str> = a.partitions.iter().map(|p| &p[..]).collect();
            let parts = if parts.is_empty() {
                "-".to_string()
            } else {
                parts.join(", ")
            };
            format!("{} <- {parts}", a.member_id)
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Members the coordinator lost: expired, left, removed, or too slow to poll.
fn member_entry(r: &TraceRecord) -> Option<FeedEntry> {
    match &r.event {
        TraceEvent::MemberExpired {
            group,
            member_id,
            timeout_ms,
            ..
        } => entry(
            r,
            "expired",
            Some(group),
            format!(
                "Group {group}: member {member_id} removed, no heartbeat for {timeout_ms} ms \
                 (session.timeout.ms)."
            ),
            format!(
                "Groupe {group} : le membre {member_id} est retiré, aucun heartbeat depuis \
                 {timeout_ms} ms (session.timeout.ms)."
            ),
        ),
        TraceEvent::MemberLeft {
            group,
            member_id,
            reason,
        } => entry(
            r,
            "left",
            Some(group),
            format!("Group {group}: member {member_id} left (LeaveGroup: {reason})."),
            format!("Groupe {group} : le membre {member_id} part (LeaveGroup : {reason})."),
        ),
        TraceEvent::MemberRemoved {
            group,
            member_id,
            reason,
        } => entry(
            r,
            "removed",
            Some(group),
            format!("Group {group}: member {member_id} removed: {reason}."),
            format!("Groupe {group} : le membre {member_id} est retiré : {reason}."),
        ),
        TraceEvent::MaxPollIntervalExceeded {
            group,
            member_id,
            max_poll_interval_ms,
            ..
        } => entry(
            r,
            "poll-timeout",
            Some(group),
            format!(
                "Group {group}: {member_id} did not poll within {max_poll_interval_ms} ms \
                 (max.poll.interval.ms)."
            ),
            format!(
                "Groupe {group} : {member_id} n'a pas appelé poll() en \
                 {max_poll_interval_ms} ms (max.poll.interval.ms)."
            ),
        ),
        _ => None,
    }
}

/// What a client itself did or suffered: partitions lost, crashes, restarts and closes.
fn client_entry(r: &TraceRecord) -> Option<FeedEntry> {
    let c = &r.component[..];
    match &r.event {
        TraceEvent::PartitionsLost {
            group,
            partitions,
            reason,
        } => {
            let parts: Vec<&str> = partitions.iter().map(|p| &p[..]).collect();
            let parts = parts.join(", ");
            entry(
                r,
                "lost",
                Some(group),
                format!("{c} lost {parts} ({reason})."),
                format!("{c} perd {parts} ({reason})."),
            )
        }
        TraceEvent::ClientCrashed {} => entry(
            r,
            "crash",
            None,
            format!("{c} crashes (kill -9): no LeaveGroup is sent."),
            format!("{c} plante (kill -9) : aucun LeaveGroup n'est envoyé."),
        ),
        TraceEvent::ClientRestarted {} => entry(
            r,
            "restart",
            None,
            format!("{c} restarts."),
            format!("{c} redémarre."),
        ),
        TraceEvent::ConsumerClosed { group, left_group } => {
            let (en, fr) = if *left_group {
                ("sending LeaveGroup", "avec un LeaveGroup")
            } else {
                ("without LeaveGroup", "sans LeaveGroup")
            };
            entry(
                r,
                "close",
                Some(group),
                format!("{c} closes, {en}."),
                format!("{c} se ferme, {fr}."),
            )
        }
        _ => None,
    }
}

/// A value appended again at `offset`: the duplicate an idempotent producer would have avoided.
fn duplicate_appended(
    r: &TraceRecord,
    topic: &str,
    partition: u32,
    offset: u64,
) -> Option<FeedEntry> {
    entry(
        r,
        "duplicate",
        None,
        format!(
            "{topic}-{partition}: a value already in the log is appended again \
             at offset {offset} (a duplicate)."
        ),
        format!(
            "{topic}-{partition} : une valeur déjà présente est ajoutée de \
             nouveau à l'offset {offset} (un doublon)."
        ),
    )
}

/// How records fared on their way: batches the broker recognised (KIP-98), dead letters.
fn delivery_entry(r: &TraceRecord) -> Option<FeedEntry> {
    match &r.event {
        TraceEvent::DuplicateBatchIgnored {
            topic,
            partition,
            first_sequence,
            last_sequence,
            ..
        } => entry(
            r,
            "duplicate-ignored",
            None,
            format!(
                "{topic}-{partition}: the broker recognises a retried batch (sequences \
                 {first_sequence}..{last_sequence}) and does not append it again \
                 (enable.idempotence)."
            ),
            format!(
                "{topic}-{partition} : le broker reconnaît un batch renvoyé (séquences \
                 {first_sequence}..{last_sequence}) et ne l'ajoute pas une seconde fois \
                 (enable.idempotence)."
            ),
        ),
        TraceEvent::RecordDeadLettered {
            group,
            topic,
            partition,
            offset,
            dead_letter_topic,
            attempts,
            ..
        } => entry(
            r,
            "dead-letter",
            Some(group),
            format!(
                "{topic}-{partition} offset {offset}: given up after {attempts} attempt(s), \
                 sent to {dead_letter_topic}."
            ),
            format!(
                "{topic}-{partition} offset {offset} : abandonné après {attempts} \
                 tentative(s), envoyé vers {dead_letter_topic}."
            ),
        ),
        _ => None,
    }
}

/// The cluster's decisions: fenced brokers and leader elections.
fn cluster_entry(r: &TraceRecord) -> Option<FeedEntry> {
    match &r.event {
        TraceEvent::BrokerFenced { broker, reason, .. } => entry(
            r,
            "fenced",
            None,
            format!("Broker {broker} is fenced by the controller ({reason})."),
            format!("Le broker {broker} est isolé (fenced) par le contrôleur ({reason})."),
        ),
        TraceEvent::LeaderElected {
            topic,
            partition,
            leader,
            election,
            reason,
            ..
        } => {
            let leader = leader.map_or_else(|| "none".to_string(), |l| l.to_string());
            entry(
                r,
                "election",
                None,
                format!("{topic}-{partition}: leader -> {leader} ({election}: {reason})."),
                format!(
                    "{topic}-{partition} : nouveau leader -> {leader} ({election} : {reason})."
                ),
            )
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn at(t_ms: u64, component: &str, event: TraceEvent) -> TraceRecord {
        TraceRecord {
            t_ms,
            seq: t_ms,
            component: Arc::from(component),
            cause: None,
            event,
        }
    }

    #[test]
    fn the_feed_lists_decisions_in_both_languages_and_skips_the_rest() {
        let records = [
            at(
                5,
                "group/g",
                TraceEvent::GroupStateChanged {
                    group: Arc::from("g"),
                    from: Arc::from("Stable"),
                    to: Arc::from("PreparingRebalance"),
                    reason: "removing member m-1 on heartbeat expiration".into(),
                },
            ),
            at(7, "consumer/g/1", TraceEvent::ClientCrashed {}),
            at(
                8,
                "world",
                TraceEvent::RunEnded {
                    reason: "duration reached".into(),
                    events_processed: 3,
                },
            ),
        ];
        let feed = feed(&records);
        let kinds: Vec<(u64, &str)> = feed.iter().map(|e| (e.t_ms, e.kind)).collect();
        assert_eq!(kinds, [(5, "rebalance"), (7, "crash")]);
        assert_eq!(
            feed[0].en,
            "Group g: Stable -> PreparingRebalance (removing member m-1 on heartbeat expiration)."
        );
        assert!(feed[1].fr.starts_with("consumer/g/1 plante"));
        assert_eq!(feed[0].group.as_deref(), Some("g"));
    }
}
