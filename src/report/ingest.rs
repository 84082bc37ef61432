//! `Report::from_trace`: one pass over the trace, each event routed by the `match` in
//! [`Report::add`] to the family that records it (log, processing, consumer, producer,
//! coordinator). Each family function reads only its own events and ignores the others.

use std::collections::BTreeMap;

use super::keys::{entry_of, get_mut_of, get_of};
use super::{
    Appended, AppendedBatch, CommitRow, DeliveryRow, FailedAttempt, HeldAssignmentChange,
    HeldAssignmentEvent, LagRow, OwnershipEvent, OwnershipKind, ProcessedRange, ProcessedValue,
    Rebalance, Report,
};
use crate::trace::{
    MemberAssignment, TraceBytes, TraceEvent, TraceHeader, TraceRecord, TxnMarkerWritten,
};

impl Report {
    /// Builds the report of a whole trace.
    ///
    /// Names are copied as `name[..].to_string()`: `str`'s own copy, where `to_string()` on an
    /// `Arc<str>` goes through `Display` and the formatter (ten times the instructions, ten
    /// thousand times in a Black Friday variant); keys and values likewise with
    /// [`TraceBytes::to_text`].
    pub fn from_trace(header: Option<&TraceHeader>, records: &[TraceRecord]) -> Report {
        let mut report = Report {
            header: header.cloned(),
            ..Report::default()
        };
        for r in records {
            report.add(r);
        }
        report.duplicates_appended = report.count_duplicates();
        report.name_rebalance_members();
        report.transactions.finish();
        report
    }

    /// Records appended more than once: the copies of each (topic, value) after its first,
    /// counted once the trace is read (sorting the appended records' values) rather than in a
    /// map that would own a second copy of every value.
    fn count_duplicates(&self) -> u64 {
        let mut values: Vec<(&str, &str)> = self
            .appended
            .iter()
            .filter_map(|a| Some((a.topic.as_str(), a.value.as_deref()?)))
            .collect();
        values.sort_unstable();
        values.windows(2).filter(|w| w[0] == w[1]).count() as u64
    }

    /// Adds one trace event: the cluster facts see every event, then the family that records
    /// this kind of event gets it.
    fn add(&mut self, r: &TraceRecord) {
        self.ended_at_ms = self.ended_at_ms.max(r.t_ms);
        self.cluster.add(r);
        match &r.event {
            TraceEvent::TopicCreated { .. } | TraceEvent::BatchAppended { .. } => self.log_fact(r),
            TraceEvent::RecordAppended { .. } => self.record_appended(r),
            TraceEvent::TxnMarkerWritten(marker) => self.marker_written(r.t_ms, marker),
            TraceEvent::TxnStateChanged(_) => {
                self.transactions.add(r);
                self.txn_coordinator_fact(r);
            }
            TraceEvent::ProducerIdAllocated { .. }
            | TraceEvent::TxnPartitionsAdded(_)
            | TraceEvent::TxnEnded(_)
            | TraceEvent::ProducerFenced(_) => self.transactions.add(r),
            TraceEvent::LagSampled { .. }
            | TraceEvent::RecordsProcessed { .. }
            | TraceEvent::RecordProcessed { .. } => self.processing_fact(r),
            TraceEvent::ProcessingFailed { .. } | TraceEvent::RecordDeadLettered { .. } => {
                self.failure_fact(r)
            }
            TraceEvent::PartitionsAssigned { .. }
            | TraceEvent::PartitionsRevoked { .. }
            | TraceEvent::PartitionsLost { .. }
            | TraceEvent::ConsumerClosed { .. }
            | TraceEvent::ClientCrashed {}
            | TraceEvent::ClientRestarted {} => self.consumer_fact(r),
            TraceEvent::MessageLost { .. } => self.messages_lost += 1,
            TraceEvent::DeliveryReported { .. } => self.delivery_fact(r),
            TraceEvent::OffsetCommitted { .. }
            | TraceEvent::MemberJoined { .. }
            | TraceEvent::GroupStateChanged { .. }
            | TraceEvent::GenerationStarted { .. }
            | TraceEvent::AssignmentStored { .. } => self.coordinator_fact(r),
            TraceEvent::MemberLeft { .. }
            | TraceEvent::MemberExpired { .. }
            | TraceEvent::MemberRemoved { .. }
            | TraceEvent::StaticMemberReplaced { .. } => self.membership_fact(r),
            TraceEvent::TxnCoordinatorMoved(_) | TraceEvent::TxnCoordinatorFound(_) => {
                self.txn_coordinator_fact(r)
            }
            TraceEvent::TargetAssignmentComputed(_) | TraceEvent::MemberEpochUpdated(_) => {
                self.consumer_group_fact(r);
            }
            _ => {}
        }
    }

    /// Topics, and each batch appended (detail `batches`).
    fn log_fact(&mut self, r: &TraceRecord) {
        match &r.event {
            TraceEvent::TopicCreated {
                topic,
                partitions,
                replication_factor,
                ..
            } => {
                self.topics
                    .insert(topic[..].to_string(), (*partitions, *replication_factor));
                for p in 0..*partitions {
                    self.partitions
                        .entry((topic[..].to_string(), p))
                        .or_default();
                }
            }
            TraceEvent::BatchAppended {
                topic,
                partition,
                last_offset,
                records,
                ..
            } => {
                let stats = entry_of(&mut self.partitions, topic, *partition);
                stats.records += u64::from(*records);
                stats.log_end_offset = stats.log_end_offset.max(last_offset + 1);
                self.appended_batches.push(AppendedBatch {
                    t_ms: r.t_ms,
                    topic: topic[..].to_string(),
                    partition: *partition,
                    records: u64::from(*records),
                });
            }
            _ => {}
        }
    }

    /// A transaction marker (KIP-98): a control record that takes an offset, so the log end
    /// offset counts it, as `kafka-consumer-groups`' LOG-END-OFFSET does; the record count does
    /// not, it counts apart as a control record. Markers on internal topics
    /// (`__consumer_offsets`) are not among the report's partitions and stay out of both.
    fn marker_written(&mut self, t_ms: u64, marker: &TxnMarkerWritten) {
        if let Some(stats) = get_mut_of(&mut self.partitions, &marker.topic, marker.partition) {
            stats.log_end_offset = stats.log_end_offset.max(marker.offset + 1);
            stats.control_records += 1;
        }
        self.transactions.marker(t_ms, marker);
    }

    /// One record appended (detail `records`): its partition's totals and the record itself
    /// (duplicates are counted at the end, [`Report::count_duplicates`]).
    fn record_appended(&mut self, r: &TraceRecord) {
        let TraceEvent::RecordAppended {
            topic,
            partition,
            offset,
            key,
            value,
            producer,
            producer_id,
            ..
        } = &r.event
        else {
            return;
        };
        self.has_records = true;
        if let Some(pid) = producer_id {
            self.transactions
                .record(r.t_ms, topic, *partition, *offset, *pid);
        }
        let stats = entry_of(&mut self.partitions, topic, *partition);
        stats.records += 1;
        stats.log_end_offset = stats.log_end_offset.max(offset + 1);
        self.appended.push(Appended {
            t_ms: r.t_ms,
            topic: topic[..].to_string(),
            partition: *partition,
            offset: *offset,
            key: key.as_ref().map(TraceBytes::to_text),
            value: value.as_ref().map(TraceBytes::to_text),
            producer: producer.as_ref().map(|p| p[..].to_string()),
        });
    }

    /// What consumers sampled and did with their records: lag, processed batches and values.
    fn processing_fact(&mut self, r: &TraceRecord) {
        match &r.event {
            TraceEvent::LagSampled {
                group,
                topic,
                partition,
                log_end_offset,
                committed_offset,
                lag,
            } => self.lag.push(LagRow {
                t_ms: r.t_ms,
                group: group[..].to_string(),
                topic: topic[..].to_string(),
                partition: *partition,
                log_end_offset: *log_end_offset,
                committed_offset: *committed_offset,
                lag: *lag,
            }),
            TraceEvent::RecordsProcessed {
                group,
                topic,
                partition,
                first_offset,
                last_offset,
                ..
            } => {
                self.processed.push(ProcessedRange {
                    t_ms: r.t_ms,
                    member: r.component[..].to_string(),
                    group: group[..].to_string(),
                    topic: topic[..].to_string(),
                    partition: *partition,
                    first_offset: *first_offset,
                    last_offset: *last_offset,
                });
            }
            TraceEvent::RecordProcessed {
                group,
                topic,
                value,
                processed_at_ms,
                ..
            } => self.processed_records.push(ProcessedValue {
                processed_at_ms: *processed_at_ms,
                group: group[..].to_string(),
                member: r.component[..].to_string(),
                topic: topic[..].to_string(),
                value: value.as_ref().map(TraceBytes::to_text),
            }),
            _ => {}
        }
    }

    /// Records a consumer failed to process (a poison pill) and gave up to a dead-letter topic.
    fn failure_fact(&mut self, r: &TraceRecord) {
        let member = r.component[..].to_string();
        match &r.event {
            TraceEvent::ProcessingFailed {
                group,
                topic,
                partition,
                offset,
                attempt,
                action,
                ..
            } => self.failures.push(FailedAttempt {
                t_ms: r.t_ms,
                group: group[..].to_string(),
                member,
                topic: topic[..].to_string(),
                partition: *partition,
                offset: *offset,
                attempt: *attempt,
                action: action.clone(),
            }),
            TraceEvent::RecordDeadLettered {
                group,
                dead_letter_topic,
                ..
            } => self.dead_lettered.push((
                r.t_ms,
                group[..].to_string(),
                dead_letter_topic[..].to_string(),
            )),
            _ => {}
        }
    }

    /// A consumer's partitions changing (the rebalance listener's callbacks) and its process
    /// ending or restarting, which ends what it owned.
    fn consumer_fact(&mut self, r: &TraceRecord) {
        let member = r.component[..].to_string();
        match &r.event {
            TraceEvent::PartitionsAssigned {
                group,
                member_id,
                partitions,
                ..
            } => {
                self.members
                    .insert(member_id[..].to_string(), member.clone());
                self.note_member(group, &member);
                let list = partitions.iter().map(ToString::to_string).collect();
                let id = Some(member_id[..].to_string());
                self.ownership_event_of(r.t_ms, member, id, group, OwnershipKind::Assigned(list));
            }
            TraceEvent::PartitionsRevoked {
                group,
                member_id,
                partitions,
                ..
            } => {
                self.members
                    .insert(member_id[..].to_string(), member.clone());
                let list = partitions.iter().map(ToString::to_string).collect();
                let id = Some(member_id[..].to_string());
                self.ownership_event_of(r.t_ms, member, id, group, OwnershipKind::Revoked(list));
            }
            TraceEvent::PartitionsLost { group, .. } => {
                self.ownership_event(r.t_ms, member, group, OwnershipKind::Lost);
            }
            TraceEvent::ConsumerClosed { .. } => {
                self.closes.push((r.t_ms, member.clone()));
                self.lose_member(r.t_ms, &r.component);
            }
            TraceEvent::ClientCrashed {} => {
                self.crashes.push((r.t_ms, member));
                self.lose_member(r.t_ms, &r.component);
            }
            TraceEvent::ClientRestarted {} => {
                // The new process replaces the old one, even one still closing: whatever the
                // old one owned, it owns no more.
                self.lose_member(r.t_ms, &member);
                self.restarts.push((r.t_ms, member));
            }
            _ => {}
        }
    }

    /// A delivery report, as the producer's application received it.
    fn delivery_fact(&mut self, r: &TraceRecord) {
        let TraceEvent::DeliveryReported {
            topic,
            partition,
            offset,
            error,
            key,
            value,
            sent_ms,
        } = &r.event
        else {
            return;
        };
        self.deliveries.push(DeliveryRow {
            t_ms: r.t_ms,
            producer: r.component[..].to_string(),
            topic: topic[..].to_string(),
            partition: *partition,
            offset: *offset,
            error: error.clone(),
            key: key.as_ref().map(TraceBytes::to_text),
            value: value.as_ref().map(TraceBytes::to_text),
            sent_ms: *sent_ms,
        });
    }

    /// What the group coordinator did: committed offsets, members joining, state changes
    /// (which open and complete rebalances), generations and the assignment it stored.
    fn coordinator_fact(&mut self, r: &TraceRecord) {
        match &r.event {
            TraceEvent::OffsetCommitted {
                group,
                topic,
                partition,
                offset,
                ..
            } => {
                // `partitions` is updated append by append, so it holds the log as of now.
                let high_watermark =
                    get_of(&self.partitions, topic, *partition).map_or(0, |s| s.log_end_offset);
                self.commits.push(CommitRow {
                    t_ms: r.t_ms,
                    group: group[..].to_string(),
                    topic: topic[..].to_string(),
                    partition: *partition,
                    offset: *offset,
                    high_watermark,
                });
            }
            TraceEvent::MemberJoined {
                member_id,
                client_id,
                ..
            } => {
                self.client_ids
                    .insert(member_id[..].to_string(), client_id[..].to_string());
            }
            TraceEvent::GroupStateChanged {
                group,
                from,
                to,
                reason,
            } => {
                if &from[..] == "CompletingRebalance" && &to[..] == "PreparingRebalance" {
                    self.held(r.t_ms, group, HeldAssignmentChange::Reset);
                }
                self.group_states
                    .push((r.t_ms, group[..].to_string(), to[..].to_string()));
                self.state_changed(r.t_ms, group, to, reason);
            }
            TraceEvent::GenerationStarted {
                group,
                generation,
                protocol,
                ..
            } => {
                if let Some(rb) = self.open_rebalance(group) {
                    rb.generation = Some(*generation);
                    rb.protocol = protocol.as_ref().map(ToString::to_string);
                }
            }
            TraceEvent::AssignmentStored {
                group, assignments, ..
            } => self.assignment_stored(r.t_ms, group, assignments),
            _ => {}
        }
    }

    /// A member leaving the coordinator's view of its group: LeaveGroup, session expiry, removal
    /// for missing a rebalance, or a static member's replacement.
    fn membership_fact(&mut self, r: &TraceRecord) {
        let (group, change) = match &r.event {
            TraceEvent::MemberLeft {
                group, member_id, ..
            }
            | TraceEvent::MemberExpired {
                group, member_id, ..
            }
            | TraceEvent::MemberRemoved {
                group, member_id, ..
            } => (
                group,
                HeldAssignmentChange::Removed(member_id[..].to_string()),
            ),
            TraceEvent::StaticMemberReplaced {
                group,
                old_member_id,
                new_member_id,
                ..
            } => (
                group,
                HeldAssignmentChange::Replaced(
                    old_member_id[..].to_string(),
                    new_member_id[..].to_string(),
                ),
            ),
            _ => return,
        };
        self.held(r.t_ms, group, change);
    }

    /// What a KIP-848 coordinator did: a target assignment (it belongs to the open rebalance,
    /// as a classic group's stored assignment does) and a member's reconciliation step (what
    /// the coordinator now holds that member to own).
    fn consumer_group_fact(&mut self, r: &TraceRecord) {
        match &r.event {
            TraceEvent::TargetAssignmentComputed(target) => {
                let named: BTreeMap<String, Vec<String>> = target
                    .assignments
                    .iter()
                    .map(|a| {
                        let parts = a.partitions.iter().map(ToString::to_string).collect();
                        (a.member_id[..].to_string(), parts)
                    })
                    .collect();
                if let Some(rb) = self.open_rebalance(&target.group) {
                    rb.generation = Some(target.assignment_epoch);
                    rb.protocol = Some(target.assignor.to_string());
                    rb.assignment = named;
                }
            }
            TraceEvent::MemberEpochUpdated(member) => {
                let parts = member.assigned.iter().map(ToString::to_string).collect();
                let change = HeldAssignmentChange::Member(member.member_id.to_string(), parts);
                self.held(r.t_ms, &member.group, change);
            }
            _ => {}
        }
    }

    fn held(&mut self, t_ms: u64, group: &str, change: HeldAssignmentChange) {
        self.held_assignments.push(HeldAssignmentEvent {
            t_ms,
            group: group[..].to_string(),
            change,
        });
    }

    /// Keyed by member id here; `Report::from_trace` names the members once every member id is
    /// known (the consumers announce theirs after the assignment).
    fn assignment_stored(&mut self, t_ms: u64, group: &str, assignments: &[MemberAssignment]) {
        let named: BTreeMap<String, Vec<String>> = assignments
            .iter()
            .map(|a| {
                let parts = a.partitions.iter().map(ToString::to_string).collect();
                (a.member_id[..].to_string(), parts)
            })
            .collect();
        self.held(t_ms, group, HeldAssignmentChange::Stored(named.clone()));
        if let Some(rb) = self.open_rebalance(group) {
            rb.assignment = named;
        }
    }

    /// Replaces member ids by component names (`consumer/analytics/1`) in rebalance assignments.
    /// Two member ids of one component in one generation (a crashed process that had rejoined
    /// just before, and its restarted successor) keep their ids beside the name,
    /// `consumer/analytics/1 (consumer-analytics-1-...)`, so that neither hides the other's
    /// partitions.
    fn name_rebalance_members(&mut self) {
        for rb in &mut self.rebalances {
            let name = |id: &String| self.members.get(id).cloned().unwrap_or(id.clone());
            let mut named: BTreeMap<String, u32> = BTreeMap::new();
            for id in rb.assignment.keys() {
                *named.entry(name(id)).or_default() += 1;
            }
            rb.assignment = std::mem::take(&mut rb.assignment)
                .into_iter()
                .map(|(id, parts)| match name(&id) {
                    n if named[&n] > 1 => (format!("{n} ({id})"), parts),
                    n => (n, parts),
                })
                .collect();
        }
    }

    fn note_member(&mut self, group: &str, member: &str) {
        let list = self.group_members.entry(group[..].to_string()).or_default();
        if !list.iter().any(|m| m == member) {
            list.push(member.to_string());
        }
    }

    fn ownership_event(&mut self, t_ms: u64, member: String, group: &str, change: OwnershipKind) {
        self.ownership_event_of(t_ms, member, None, group, change);
    }

    fn ownership_event_of(
        &mut self,
        t_ms: u64,
        member: String,
        member_id: Option<String>,
        group: &str,
        change: OwnershipKind,
    ) {
        self.ownership.push(OwnershipEvent {
            member_id,
            t_ms,
            member,
            group: group[..].to_string(),
            change,
        });
    }

    /// A consumer that crashed or closed owns nothing any more.
    fn lose_member(&mut self, t_ms: u64, component: &str) {
        let group = self
            .group_members
            .iter()
            .find(|(_, members)| members.iter().any(|m| m == component))
            .map(|(g, _)| g.clone());
        if let Some(group) = group {
            self.ownership_event(t_ms, component[..].to_string(), &group, OwnershipKind::Lost);
        }
    }

    fn open_rebalance(&mut self, group: &str) -> Option<&mut Rebalance> {
        self.rebalances
            .iter_mut()
            .rev()
            .find(|rb| rb.group == group && rb.completed_at_ms.is_none())
    }

    fn state_changed(&mut self, t_ms: u64, group: &str, to: &str, reason: &str) {
        match to {
            // A KIP-848 group reconciles where a classic one rebalances.
            "PreparingRebalance" | "Assigning" | "Reconciling"
                if self.open_rebalance(group).is_none() =>
            {
                self.rebalances.push(Rebalance {
                    group: group[..].to_string(),
                    generation: None,
                    started_at_ms: t_ms,
                    completed_at_ms: None,
                    reason: reason.to_string(),
                    protocol: None,
                    assignment: BTreeMap::new(),
                });
            }
            "Stable" | "Empty" | "Dead" => {
                if let Some(rb) = self.open_rebalance(group) {
                    rb.completed_at_ms = Some(t_ms);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::super::test_trace::{appended, at, ownership};
    use crate::report::Report;
    use crate::trace::{MemberAssignment, TraceEvent};

    #[test]
    fn commits_carry_the_high_watermark_of_their_instant() {
        let commit = |t: u64, offset: u64| {
            let event = TraceEvent::OffsetCommitted {
                group: Arc::from("g"),
                member_id: None,
                generation: None,
                topic: Arc::from("orders"),
                partition: 0,
                offset,
            };
            at(t, "group/g", event)
        };
        let trace = vec![
            commit(1, 0),
            appended(2, 0, 0, "k", "v0"),
            appended(3, 0, 1, "k", "v1"),
            commit(4, 2),
            appended(5, 0, 2, "k", "v2"),
        ];
        let report = Report::from_trace(None, &trace);
        let marks: Vec<(u64, u64)> = report
            .commits
            .iter()
            .map(|c| (c.offset, c.high_watermark))
            .collect();
        assert_eq!(marks, [(0, 0), (2, 2)]);
    }

    #[test]
    fn a_process_and_its_dead_predecessor_keep_apart_in_an_assignment() {
        let stored = |t: u64, generation: i32, members: &[(&str, &[&str])]| {
            let assignments = members
                .iter()
                .map(|(id, parts)| MemberAssignment {
                    member_id: Arc::from(*id),
                    partitions: parts.iter().map(|p| Arc::from(*p)).collect(),
                })
                .collect();
            let event = TraceEvent::AssignmentStored {
                group: Arc::from("g"),
                generation,
                assignments,
            };
            at(t, "group/g", event)
        };
        let state = |t: u64, to: &str| {
            let event = TraceEvent::GroupStateChanged {
                group: Arc::from("g"),
                from: Arc::from("Stable"),
                to: Arc::from(to),
                reason: String::new(),
            };
            at(t, "group/g", event)
        };
        let mut assigned_to_old = ownership(1, 1, true, &["orders-0"]);
        let mut assigned_to_new = ownership(9, 1, true, &[]);
        for (r, id) in [(&mut assigned_to_old, "old"), (&mut assigned_to_new, "new")] {
            if let TraceEvent::PartitionsAssigned { member_id, .. } = &mut r.event {
                *member_id = Arc::from(id);
            }
        }
        let trace = vec![
            assigned_to_old,
            state(5, "PreparingRebalance"),
            stored(8, 2, &[("new", &[]), ("old", &["orders-0"])]),
            state(8, "Stable"),
            assigned_to_new,
        ];
        let report = Report::from_trace(None, &trace);
        let names: Vec<(&str, usize)> = report.rebalances[0]
            .assignment
            .iter()
            .map(|(m, parts)| (m.as_str(), parts.len()))
            .collect();
        assert_eq!(
            names,
            [("consumer/g/1 (new)", 0), ("consumer/g/1 (old)", 1)]
        );
    }

    #[test]
    fn a_restart_ends_what_the_replaced_process_owned() {
        // Member 1 was still finishing its batch before a close when its slot was restarted.
        let trace = vec![
            ownership(10, 1, true, &["orders-0"]),
            at(40, "consumer/g/1", TraceEvent::ClientRestarted {}),
            ownership(50, 2, true, &["orders-0"]),
        ];
        let report = Report::from_trace(None, &trace);
        let intervals = report.ownership_intervals("g");
        assert_eq!(intervals[0].until_ms, Some(40));
        assert!(report.simultaneous_owners("g").is_empty());
    }
}
