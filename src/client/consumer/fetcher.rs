//! Positions and fetching (Kafka's `SubscriptionState`, `OffsetFetcher`, `Fetcher`,
//! `FetchCollector`; librdkafka's fetcher threads).
//!
//! A newly assigned partition starts at the group's committed offset (OffsetFetch); with none,
//! `auto.offset.reset` decides (ListOffsets: earliest = log start, latest = high watermark;
//! `none` fails with `NoOffsetForPartitionException`). A fetch position outside the log
//! (`OFFSET_OUT_OF_RANGE`: below a log start that retention moved, or beyond a log that an
//! unclean election cut short) is reset the same way.
//!
//! Offsets need not be contiguous: a compacted partition has gaps, and a fetch from an offset
//! that compaction removed returns the next record there is. The next position is always the
//! last record handed out plus one, never a count.
//!
//! Fetches and ListOffsets go to each partition's leader: one Fetch in flight per broker, for
//! all the partitions it leads. A partition whose leader is unknown, or that answers
//! `NOT_LEADER_OR_FOLLOWER`, waits for a metadata refresh.
//!
//! The Java client sends fetches only from `poll()` (and right after handing a batch out, so the
//! next one is on its way while the application works); it fetches a partition only when none of
//! its records are buffered. librdkafka's fetcher runs on its own: it fetches again as soon as a
//! response arrives, while a partition has fewer than `queued.min.messages` (100000) buffered.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;

use crate::effects::Effects;
use crate::protocol::consumer_group::{GroupRequest, OffsetFetchRequest, OffsetFetchResponse};
use crate::protocol::fetch::{
    FetchPartition, FetchRequest, FetchResponse, ListOffsetsRequest, ListOffsetsResponse,
    ListedOffset, OffsetSpec,
};
use crate::protocol::transaction::IsolationLevel;
use crate::protocol::{ErrorCode, Request};
use crate::trace::{TraceEvent, TraceSeq};
use crate::units::{BrokerId, Offset, TopicPartition};

use super::config::OffsetReset;
use super::polled::Polled;
use super::{
    Activity, Consumer, ConsumerOutput, ConsumerTimer, MemberState, PartitionState, Pending,
    Position, names,
};
use crate::client::consumer::isolation::visible_records;
use crate::client::library::ClientLibrary;

/// A partition a fetch asks for: its assignment epoch and the offset to read from.
type Wanted = (TopicPartition, u64, Offset);

/// librdkafka's `queued.min.messages`: it keeps prefetching a partition up to this many records.
const LIBRDKAFKA_QUEUED_MIN_MESSAGES: usize = 100_000;

impl Consumer {
    /// Asks for the committed offset of every partition whose position is unknown. A
    /// `read_committed` consumer asks with `require_stable` (KIP-447: Java's
    /// `ConsumerCoordinator` and librdkafka's `rd_kafka_OffsetFetchRequest` both derive it from
    /// `isolation.level`), so that it never starts from an offset an open transaction is
    /// about to move; after an `UNSTABLE_OFFSET_COMMIT` it waits `retry.backoff.ms`.
    pub(super) fn resolve_positions(&mut self, out: &mut Effects<ConsumerTimer, ConsumerOutput>) {
        if self.now < self.offset_fetch_next {
            return;
        }
        let unknown: Vec<(TopicPartition, u64)> = self
            .partitions
            .iter_mut()
            .filter(|(_, s)| s.position == Position::Unknown)
            .map(|(tp, s)| {
                s.position = Position::AwaitingCommitted;
                (tp.clone(), s.epoch)
            })
            .collect();
        if unknown.is_empty() {
            return;
        }
        let request = OffsetFetchRequest {
            group_id: self.group(),
            partitions: unknown.iter().map(|(tp, _)| tp.clone()).collect(),
            require_stable: self.config.isolation_level == IsolationLevel::ReadCommitted,
        };
        self.send(
            Request::Group(GroupRequest::OffsetFetch(request)),
            Pending::OffsetFetch(unknown),
            out,
        );
    }

    pub(super) fn on_offset_fetch(
        &mut self,
        asked: Vec<(TopicPartition, u64)>,
        r: OffsetFetchResponse,
        out: &mut Effects<ConsumerTimer, ConsumerOutput>,
    ) {
        let mut reset = Vec::new();
        for (tp, epoch) in asked {
            let Some(state) = self.partitions.get_mut(&tp).filter(|s| s.epoch == epoch) else {
                continue;
            };
            if state.position != Position::AwaitingCommitted {
                continue;
            }
            if r.error == ErrorCode::None && r.unstable.contains(&tp) {
                // KIP-447: Java raises `UnstableOffsetCommitException` (retriable) and the
                // fetch is asked again after `retry.backoff.ms`; librdkafka likewise.
                state.position = Position::Unknown;
                self.offset_fetch_next = self.now + self.config.retry_backoff;
                out.set_timer(ConsumerTimer::OffsetFetchRetry, self.offset_fetch_next);
                continue;
            }
            let committed = if r.error == ErrorCode::None {
                r.offsets
                    .iter()
                    .find(|(t, _)| *t == tp)
                    .and_then(|(_, c)| *c)
            } else {
                None
            };
            match committed {
                Some(offset) => {
                    state.position = Position::Known(offset);
                    state.committed = Some(offset);
                }
                None => reset.push((tp, epoch)),
            }
        }
        self.reset_positions(reset, out);
    }

    /// Applies `auto.offset.reset` to partitions with no usable position.
    fn reset_positions(
        &mut self,
        partitions: Vec<(TopicPartition, u64)>,
        out: &mut Effects<ConsumerTimer, ConsumerOutput>,
    ) {
        if partitions.is_empty() {
            return;
        }
        let spec = match self.config.auto_offset_reset {
            OffsetReset::Earliest => OffsetSpec::Earliest,
            OffsetReset::Latest => OffsetSpec::Latest,
            OffsetReset::None => {
                let tp = &partitions[0].0;
                self.fail(&format!("NoOffsetForPartitionException: {tp}"), out);
                return;
            }
        };
        let mut by_leader: BTreeMap<BrokerId, Vec<(TopicPartition, u64)>> = BTreeMap::new();
        for (tp, epoch) in partitions {
            let Some(state) = self.partitions.get_mut(&tp) else {
                continue;
            };
            let leader = state.leader;
            state.buffered.clear();
            match leader {
                Some(b) => {
                    state.position = Position::AwaitingReset;
                    by_leader.entry(b).or_default().push((tp, epoch));
                }
                None => {
                    // Asked again once a refresh names the leader.
                    state.position = Position::Unknown;
                    self.metadata_wanted = true;
                }
            }
        }
        for (leader, partitions) in by_leader {
            let request = ListOffsetsRequest {
                partitions: partitions
                    .iter()
                    .map(|(tp, _)| (tp.topic.clone(), tp.partition, spec))
                    .collect(),
            };
            self.send_to(
                leader,
                Request::ListOffsets(request),
                Pending::ListOffsets(partitions),
                out,
            );
        }
    }

    pub(super) fn on_list_offsets(
        &mut self,
        asked: Vec<(TopicPartition, u64)>,
        r: ListOffsetsResponse,
        out: &mut Effects<ConsumerTimer, ConsumerOutput>,
    ) {
        let policy = std::sync::Arc::from(self.config.auto_offset_reset.name());
        for (tp, epoch) in asked {
            let Some(state) = self.partitions.get_mut(&tp).filter(|s| s.epoch == epoch) else {
                continue;
            };
            let found = r
                .partitions
                .iter()
                .find(|(t, p, _)| *t == tp.topic && *p == tp.partition)
                .map(|(_, _, o)| *o);
            match found {
                Some(Ok(Some(ListedOffset { offset, .. })))
                    if state.position == Position::AwaitingReset =>
                {
                    state.position = Position::Known(offset);
                    out.trace(TraceEvent::PositionReset {
                        topic: tp.topic.as_arc().clone(),
                        partition: tp.partition.0,
                        policy: std::sync::Arc::clone(&policy),
                        offset: offset.0,
                    });
                }
                // Not the leader, or unknown to it: ask again at the next poll, after a
                // metadata refresh.
                _ => {
                    state.position = Position::Unknown;
                    self.metadata_wanted = true;
                }
            }
        }
    }

    /// Sends a Fetch to each leader of partitions that can take more records, unless one is in
    /// flight to it.
    pub(super) fn maybe_fetch(&mut self, out: &mut Effects<ConsumerTimer, ConsumerOutput>) {
        if self.revocation_pending() {
            return;
        }
        let limit = match self.config.library {
            ClientLibrary::Java3 | ClientLibrary::Java4 => 1,
            ClientLibrary::Librdkafka => LIBRDKAFKA_QUEUED_MIN_MESSAGES,
        };
        // Brokers in the order first met; usually one (a lone broker), a few in a cluster.
        let mut by_leader: Vec<(BrokerId, Vec<Wanted>)> = Vec::new();
        let mut leaderless = false;
        for (tp, s) in &self.partitions {
            let Position::Known(p) = s.position else {
                continue;
            };
            if s.buffered.len() >= limit {
                continue;
            }
            let Some(leader) = s.leader else {
                leaderless = true;
                continue;
            };
            if self.fetches_in_flight.contains(&leader) {
                continue;
            }
            if self
                .reconnect_at
                .get(&leader)
                .is_some_and(|at| self.now < *at)
            {
                continue;
            }
            let next = s.buffered.last().map_or(p, |r| r.offset.next());
            let entry = (tp.clone(), s.epoch, next);
            match by_leader.iter_mut().find(|(b, _)| *b == leader) {
                Some((_, list)) => list.push(entry),
                None => by_leader.push((leader, vec![entry])),
            }
        }
        by_leader.sort_by_key(|(b, _)| *b);
        self.metadata_wanted |= leaderless;
        for (leader, wanted) in by_leader {
            let request = FetchRequest {
                max_wait: self.config.fetch_max_wait,
                min_bytes: self.config.fetch_min_bytes,
                max_bytes: self.config.fetch_max_bytes,
                partitions: wanted
                    .iter()
                    .map(|(tp, _, offset)| FetchPartition {
                        topic: tp.topic.clone(),
                        partition: tp.partition,
                        fetch_offset: *offset,
                        max_bytes: self.config.max_partition_fetch_bytes,
                    })
                    .collect(),
                isolation_level: self.config.isolation_level,
            };
            self.fetches_in_flight.insert(leader);
            self.send_to(leader, Request::Fetch(request), Pending::Fetch(wanted), out);
        }
    }

    /// librdkafka hands a control record to no one, but the application's consume call that
    /// reaches it stores its offset + 1 (`rd_kafka_op_handle_std` calls
    /// `rd_kafka_fetch_op_app_prepare`, which updates the app position and, with
    /// `enable.auto.offset.store`, the stored offset): so an auto-commit steps over a trailing
    /// transaction marker and a drained partition shows a LAG of 0 (librdkafka PR #2743). The
    /// marker waits in the queue behind the records fetched before it: it is served by the
    /// application's next consume call, at once if the application is already waiting in one.
    pub(super) fn serve_passed_control(&mut self) {
        for state in self.partitions.values_mut() {
            if let Some(end) = state.passed_control.take() {
                state.stored = state.stored.max(Some(end));
            }
        }
    }

    pub(super) fn on_fetch(
        &mut self,
        leader: BrokerId,
        asked: Vec<(TopicPartition, u64, Offset)>,
        r: FetchResponse,
        out: &mut Effects<ConsumerTimer, ConsumerOutput>,
    ) {
        self.fetches_in_flight.remove(&leader);
        let mut reset = Vec::new();
        for (fetched, (tp, epoch, offset)) in r.partitions.into_iter().zip(asked) {
            debug_assert!(fetched.topic == tp.topic && fetched.partition == tp.partition);
            let Some(state) = self.partitions.get_mut(&tp).filter(|s| s.epoch == epoch) else {
                continue;
            };
            let Position::Known(position) = state.position else {
                continue;
            };
            let next = state.buffered.last().map_or(position, |r| r.offset.next());
            if next != offset {
                continue;
            }
            let fetched_end = fetched.records.last().map(|r| r.offset.next());
            // librdkafka stores a passed marker's offset (below); Java needs no look.
            let librdkafka = self.config.library == ClientLibrary::Librdkafka;
            let last_control = if librdkafka && state.buffered.is_empty() {
                fetched.records.last_control().map(|o| o.next())
            } else {
                None
            };
            let level = self.config.isolation_level;
            let records = visible_records(level, fetched.records, &fetched.aborted_transactions);
            match fetched.error {
                // Only control or aborted records, nothing buffered: the position moves past
                // them (the fetch position is the batch's next offset, `nextFetchOffset`).
                ErrorCode::None if state.buffered.is_empty() && records.is_empty() => {
                    if let Some(end) = fetched_end {
                        state.position = Position::Known(end);
                    }
                    if librdkafka {
                        if matches!(self.activity, Activity::Polling) {
                            state.stored = state.stored.max(last_control);
                        } else {
                            state.passed_control = state.passed_control.max(last_control);
                        }
                    }
                }
                // The buffer holds the response's runs over the log's chunks: no copy.
                ErrorCode::None => state.buffered.append(records),
                ErrorCode::OffsetOutOfRange => reset.push((tp, epoch)),
                ErrorCode::NotLeaderOrFollower
                | ErrorCode::UnknownTopicOrPartition
                | ErrorCode::LeaderNotAvailable => {
                    // The leader moved: find it again (`FetchCollector.handleInitializeErrors`).
                    state.leader = None;
                    self.leaders.insert(tp, None);
                    self.metadata_wanted = true;
                }
                _ => {}
            }
        }
        self.reset_positions(reset, out);
        if self.config.library == ClientLibrary::Librdkafka {
            self.maybe_fetch(out);
        }
    }

    /// Eager protocol: while the pre-rebalance commit is in flight the partitions are "pending
    /// revocation": no fetch, no record handed out (Kafka's `markPendingRevocation`).
    pub(super) fn revocation_pending(&self) -> bool {
        self.member.state == MemberState::PreparingJoin && !self.config.is_cooperative()
    }

    /// Takes up to `max` buffered records for the application, partition by partition in poll
    /// order; a partition drained of its buffer moves to the back of the order.
    pub(super) fn take_records(&mut self, max: usize) -> Polled {
        let mut taken = Polled::default();
        if self.revocation_pending() {
            return taken;
        }
        let mut visited = 0;
        while taken.len() < max && visited < self.order.len() {
            let tp = self.order[visited].clone();
            let state = self
                .partitions
                .get_mut(&tp)
                .expect("ordered partitions are assigned");
            if !matches!(state.position, Position::Known(_)) || state.buffered.is_empty() {
                visited += 1;
                continue;
            }
            let n = (max - taken.len()).min(state.buffered.len());
            taken.extend(&tp, state.buffered.take_front(n));
            if state.buffered.is_empty() {
                let moved = self.order.remove(visited).expect("present");
                self.order.push_back(moved);
            } else {
                visited += 1;
            }
        }
        taken
    }

    /// Puts records back at the front of their partitions' buffers (a batch cut short), and the
    /// positions back to the first of them.
    pub(super) fn return_records(&mut self, records: Polled) {
        for (tp, run) in records.into_runs().into_iter().rev() {
            if let Some(state) = self.partitions.get_mut(&tp) {
                if let Some(first) = run.first() {
                    state.position = Position::Known(first.offset);
                }
                state.buffered.prepend(run);
            }
        }
    }

    /// Takes on the partitions of `assigned` not owned yet, in order, at the end of the poll
    /// order, and traces them as `PartitionsAssigned` under `generation` (the classic
    /// generation, or KIP-848's member epoch), following from `cause`. Their position is
    /// unknown until the committed offset (or `auto.offset.reset`) gives one, and each gets a
    /// fresh assignment epoch, so that an answer asked for under an earlier assignment of the
    /// same partition is ignored. Both protocols assign through here (the classic
    /// `onJoinComplete`, KIP-848's reconciliation).
    pub(super) fn take_on_partitions(
        &mut self,
        assigned: BTreeSet<TopicPartition>,
        (member_id, generation): (Arc<str>, i32),
        cause: Option<TraceSeq>,
        out: &mut Effects<ConsumerTimer, ConsumerOutput>,
    ) {
        let added: Vec<TopicPartition> = assigned
            .into_iter()
            .filter(|tp| !self.partitions.contains_key(tp))
            .collect();
        for tp in &added {
            let state = PartitionState {
                epoch: self.next_epoch,
                position: Position::Unknown,
                buffered: Default::default(),
                stored: None,
                passed_control: None,
                committed: None,
                leader: self.leaders.get(tp).copied().flatten(),
            };
            self.next_epoch += 1;
            self.partitions.insert(tp.clone(), state);
            self.order.push_back(tp.clone());
        }
        let event = TraceEvent::PartitionsAssigned {
            group: self.group(),
            member_id,
            generation,
            partitions: names(&added),
        };
        out.trace_because(cause, event);
    }

    /// Forgets partitions: their positions, buffers and poll order.
    pub(super) fn drop_partitions(&mut self, partitions: &[TopicPartition]) {
        for tp in partitions {
            self.partitions.remove(tp);
        }
        let order: VecDeque<TopicPartition> = self
            .order
            .drain(..)
            .filter(|tp| !partitions.contains(tp))
            .collect();
        self.order = order;
    }
}
