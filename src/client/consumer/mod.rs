//! A Kafka consumer in a consumer group: the group protocol's client side, the fetcher, and the
//! application's poll loop (Kafka's `ConsumerCoordinator`, `AbstractCoordinator`, `Fetcher`,
//! `SubscriptionState`; librdkafka's `rdkafka_cgrp.c`).
//!
//! A [`Consumer`] is a sans-IO state machine: [`Consumer::handle`] takes one input at virtual time
//! `now` and writes requests, timers and trace events into an [`Effects`] buffer.
//!
//! | file | holds |
//! |---|---|
//! | `config.rs` | `ConsumerConfig` from Kafka-named keys; the Java and librdkafka flavours |
//! | `app.rs` | the application: processing time, commits, poison pills (`OnFailure`), batches |
//! | `membership.rs` | JoinGroup, SyncGroup, Heartbeat, LeaveGroup; the rebalance listener |
//! | `fetcher.rs` | positions (OffsetFetch, `auto.offset.reset`), Fetch, the record buffer |
//! | `poll.rs` | the poll loop: batches, commits, `max.poll.interval.ms`, `close()` |
//!
//! How the pieces meet, as in the real clients: group protocol responses are handled when they
//! arrive (the Java heartbeat thread, librdkafka's background thread), but a *rejoin* starts only
//! when the application next calls `poll()`, after it finished its batch: a rebalance waits for
//! the slowest member's batch, up to the rebalance timeout (`max.poll.interval.ms`). While the
//! application waits inside `poll()`, everything that arrives is acted on at once.
//!
//! The coordinator is the bootstrap broker (one broker coordinates every group), so there is no
//! FindCoordinator round trip.

pub mod app;
pub mod config;
mod fetcher;
mod membership;
mod poll;

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use crate::effects::Effects;
use crate::protocol::group::JoinedMember;
use crate::protocol::metadata::MetadataRequest;
use crate::protocol::{Message, Request, Response};
use crate::record::Record;
use crate::rng::SimRng;
use crate::units::{
    BrokerId, Generation, MemberId, Millis, NodeId, Offset, SimTime, TopicName, TopicPartition,
};

use self::app::{Application, Batch, DeadLetter, ProcessedRecord, Verdict};
use self::config::ConsumerConfig;

/// The consumer's keyed timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ConsumerTimer {
    /// Time to send a heartbeat (`heartbeat.interval.ms`).
    Heartbeat,
    /// Java: an auto-commit is due at the next `poll()`; librdkafka: the auto-commit timer.
    AutoCommit,
    /// The application finishes a record or a batch.
    ProcessingDone,
    /// A long batch is under way: report the records finished so far (every second), so that
    /// the trace shows processing as it happens, not only at the end of a batch.
    ProcessingProgress,
    /// `max.poll.interval.ms` ran out without a `poll()`.
    MaxPoll,
}

/// What a consumer reacts to.
#[derive(Clone, Debug)]
pub enum ConsumerInput {
    /// The process starts: it subscribes and begins polling.
    Start,
    /// A timer fired.
    Timer(ConsumerTimer),
    /// A response arrived.
    Response {
        /// The correlation id of the request it answers.
        correlation_id: u64,
        /// The response.
        response: Response,
    },
    /// The application calls `close()`.
    Close,
}

/// A consumer subscribed to some topics in a group.
#[derive(Debug)]
pub struct Consumer {
    config: ConsumerConfig,
    app: Application,
    topics: Vec<TopicName>,
    broker: BrokerId,
    next_correlation: u64,
    in_flight: BTreeMap<u64, Pending>,
    member: Membership,
    /// Partition counts learned from Metadata.
    metadata: BTreeMap<TopicName, u32>,
    /// The assigned partitions and their fetch state: this map *is* the current assignment.
    partitions: BTreeMap<TopicPartition, PartitionState>,
    /// The order in which partitions give records to `poll()`: a drained partition moves to the
    /// back (Java's `movePartitionToEnd`, for fairness).
    order: VecDeque<TopicPartition>,
    fetch_in_flight: bool,
    next_epoch: u64,
    activity: Activity,
    last_poll: SimTime,
    /// Java: when the next auto-commit is due (checked inside `poll()`).
    next_auto_commit: Option<SimTime>,
    /// librdkafka: the `max.poll.interval.ms` check runs every 500 ms from the assignment.
    max_poll_tick_base: SimTime,
    closing: bool,
    processed: Vec<ProcessedRecord>,
    /// Records given up to a dead-letter topic, for the member's producer.
    dead_letters: Vec<DeadLetter>,
    /// Report each record when it is done, not only at the end of its batch: a service produces
    /// its output record then.
    report_each_record: bool,
    /// A poison pill's exception escaped the poll loop: the process must die.
    crash_requested: bool,
    /// The time of the input being handled (read where a batch's schedule must be consulted).
    now: SimTime,
}

/// The client side of the group protocol.
#[derive(Clone, Debug)]
struct Membership {
    state: MemberState,
    member_id: Option<MemberId>,
    generation: Option<Generation>,
    protocol: Option<Arc<str>>,
    /// A rejoin is needed (at the next `poll()`), and why (KIP-800 join reason).
    rejoin: Option<Arc<str>>,
    /// The leader waits for Metadata before it can assign: the JoinGroup response it holds.
    pending_leader: Option<PendingAssignment>,
    /// The last assignment received and its generation (the eager sticky assignor's userData).
    previous: Option<(Vec<TopicPartition>, Generation)>,
}

#[derive(Clone, Debug)]
struct PendingAssignment {
    members: Vec<JoinedMember>,
    skip: bool,
}

/// Where the member stands in the group protocol (Kafka's client `MemberState`, with the wait
/// for the pre-rebalance commit made explicit).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum MemberState {
    /// Not in a generation: never joined, or reset after an error or leaving.
    Unjoined,
    /// About to rejoin: waiting for the auto-commit `onJoinPrepare` sends.
    PreparingJoin,
    /// JoinGroup sent (no heartbeats meanwhile).
    Joining,
    /// SyncGroup sent.
    Syncing,
    /// Member of the current generation with its assignment.
    Stable,
}

/// A partition's fetch state (Kafka's `SubscriptionState.TopicPartitionState`).
#[derive(Clone, Debug)]
struct PartitionState {
    /// Identifies this assignment of the partition: responses for an older one are dropped.
    epoch: u64,
    position: Position,
    /// Fetched records not yet handed to the application.
    buffered: VecDeque<Record>,
    /// librdkafka: the offset stored for the next auto-commit (last handed-out offset + 1).
    stored: Option<Offset>,
    /// The last offset known committed.
    committed: Option<Offset>,
}

/// Where the consumer reads a partition next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Position {
    /// Not known yet: ask the coordinator for the committed offset.
    Unknown,
    /// OffsetFetch sent.
    AwaitingCommitted,
    /// ListOffsets sent to apply `auto.offset.reset`.
    AwaitingReset,
    /// The next offset to hand out.
    Known(Offset),
}

/// What the application is doing.
#[derive(Clone, Debug)]
enum Activity {
    /// Inside `poll()`, waiting for records or for the group.
    Polling,
    /// Working through a batch.
    Processing(Batch),
    /// Blocked in `commitSync`: after a record (the batch goes on) or after a batch.
    Committing(Option<Batch>),
    /// `close()`: waiting for its commit.
    Closing,
    /// Closed, failed, or never to run again.
    Closed,
}

/// A request in flight, to match its response.
#[derive(Clone, Debug)]
enum Pending {
    Metadata,
    Join,
    Sync,
    Heartbeat(Option<Generation>),
    Leave,
    OffsetFetch(Vec<(TopicPartition, u64)>),
    ListOffsets(Vec<(TopicPartition, u64)>),
    Fetch(Vec<(TopicPartition, u64, Offset)>),
    Commit {
        purpose: CommitPurpose,
        offsets: Vec<(TopicPartition, Offset)>,
    },
}

/// Why an OffsetCommit was sent: what to do when it is answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CommitPurpose {
    /// `enable.auto.commit`.
    Auto,
    /// The commit before rejoining (`onJoinPrepare`); the JoinGroup follows its response.
    JoinPrepare,
    /// The commit in `close()`; the LeaveGroup follows its response.
    Close,
    /// `commitSync` after a record.
    Record,
    /// `commitSync` after a batch.
    Batch,
}

impl Consumer {
    /// A consumer of `topics` that talks to `broker`, running `app`.
    pub fn new(
        config: ConsumerConfig,
        app: Application,
        topics: Vec<TopicName>,
        broker: BrokerId,
    ) -> Consumer {
        assert!(
            !topics.is_empty(),
            "a consumer subscribes to at least one topic"
        );
        Consumer {
            config,
            app,
            topics,
            broker,
            next_correlation: 0,
            in_flight: BTreeMap::new(),
            member: Membership {
                state: MemberState::Unjoined,
                member_id: None,
                generation: None,
                protocol: None,
                rejoin: None,
                pending_leader: None,
                previous: None,
            },
            metadata: BTreeMap::new(),
            partitions: BTreeMap::new(),
            order: VecDeque::new(),
            fetch_in_flight: false,
            next_epoch: 0,
            activity: Activity::Polling,
            last_poll: SimTime::ZERO,
            next_auto_commit: None,
            max_poll_tick_base: SimTime::ZERO,
            closing: false,
            processed: Vec::new(),
            dead_letters: Vec::new(),
            report_each_record: false,
            crash_requested: false,
            now: SimTime::ZERO,
        }
    }

    /// Handles one input.
    pub fn handle(
        &mut self,
        now: SimTime,
        input: ConsumerInput,
        rng: &mut SimRng,
        out: &mut Effects<ConsumerTimer>,
    ) {
        if matches!(self.activity, Activity::Closed) {
            return;
        }
        self.now = now;
        match input {
            ConsumerInput::Start => self.start(now, out),
            ConsumerInput::Timer(ConsumerTimer::Heartbeat) => self.heartbeat_due(now, out),
            ConsumerInput::Timer(ConsumerTimer::AutoCommit) => self.auto_commit_due(now, out),
            ConsumerInput::Timer(ConsumerTimer::ProcessingDone) => {
                self.processing_done(now, rng, out);
            }
            ConsumerInput::Timer(ConsumerTimer::ProcessingProgress) => {
                self.processing_progress(now, out);
            }
            ConsumerInput::Timer(ConsumerTimer::MaxPoll) => self.max_poll_expired(now, out),
            ConsumerInput::Response {
                correlation_id,
                response,
            } => {
                let Some(pending) = self.in_flight.remove(&correlation_id) else {
                    return;
                };
                self.on_response(now, pending, response, rng, out);
            }
            ConsumerInput::Close => self.closing = true,
        }
        self.cut_batch_if_polling_is_needed(now, out);
        if matches!(self.activity, Activity::Polling) {
            self.poll(now, rng, out);
        }
    }

    /// The process crashed at `now` (the world calls this before dropping it): the records its
    /// application finished before the crash are reported; nothing else happens, no request is
    /// sent. A poison pill given up at this very millisecond is not: the crash came first.
    pub fn crashed(&mut self, now: SimTime, out: &mut Effects<ConsumerTimer>) {
        self.now = now;
        if let Activity::Processing(batch) | Activity::Committing(Some(batch)) = &mut self.activity
        {
            let finished = batch.finished_by(now);
            let pending_verdict = batch
                .failures
                .iter()
                .find(|f| {
                    (batch.reported..finished).contains(&f.index) && f.verdict != Verdict::Skip
                })
                .map(|f| f.index);
            let mut batch = batch.clone();
            self.report(&mut batch, pending_verdict.unwrap_or(finished), out);
        }
        self.activity = Activity::Closed;
    }

    /// The process froze at `now` for `pause` (a long GC pause): its application's work in
    /// progress finishes `pause` later. Timers and responses are held by the world meanwhile.
    pub fn paused(&mut self, now: SimTime, pause: Millis, out: &mut Effects<ConsumerTimer>) {
        if let Activity::Processing(batch) = &mut self.activity {
            batch.shift(now, pause);
            let next = batch.next_wakeup(self.report_each_record);
            out.set_timer(ConsumerTimer::ProcessingDone, next);
        }
    }

    /// Takes the records processed since the last call, in processing order.
    pub fn drain_processed(&mut self) -> Vec<ProcessedRecord> {
        std::mem::take(&mut self.processed)
    }

    /// Takes the records given up to a dead-letter topic since the last call, in order: the
    /// world hands them to the member's producer (`OnFailure::DeadLetter`).
    pub fn drain_dead_letters(&mut self) -> Vec<DeadLetter> {
        std::mem::take(&mut self.dead_letters)
    }

    /// Makes the consumer report each record as soon as its processing is done, instead of at
    /// the end of its batch. A service needs this: it produces one output record per input right
    /// after processing it, not when a 500-record batch ends. Costs one wakeup per record.
    pub fn report_each_record(&mut self) {
        self.report_each_record = true;
    }

    /// True once, right after the application's exception escaped the poll loop
    /// (`OnFailure::Crash` on a poison pill): the consumer has stopped, and the world must now
    /// crash its process as `ClientCommand::Crash` does (no LeaveGroup).
    pub fn take_crash_request(&mut self) -> bool {
        std::mem::take(&mut self.crash_requested)
    }

    /// The application it runs.
    pub fn app(&self) -> &Application {
        &self.app
    }

    /// The consumer's settings.
    pub fn config(&self) -> &ConsumerConfig {
        &self.config
    }

    /// The member id, once the coordinator gave one.
    pub fn member_id(&self) -> Option<&MemberId> {
        self.member.member_id.as_ref()
    }

    /// The partitions currently assigned.
    pub fn assignment(&self) -> Vec<TopicPartition> {
        self.partitions.keys().cloned().collect()
    }

    /// True once closed (or failed).
    pub fn is_closed(&self) -> bool {
        matches!(self.activity, Activity::Closed)
    }

    fn start(&mut self, now: SimTime, out: &mut Effects<ConsumerTimer>) {
        self.last_poll = now;
        let request = MetadataRequest {
            topics: self.topics.clone(),
        };
        self.send(Request::Metadata(request), Pending::Metadata, out);
        self.member.rejoin = Some(Arc::from(""));
        if self.config.flavour == config::Flavour::Librdkafka && self.config.enable_auto_commit {
            // librdkafka's auto-commit timer runs at a fixed interval from the consumer's start.
            out.set_timer(
                ConsumerTimer::AutoCommit,
                now + self.config.auto_commit_interval,
            );
        }
    }

    fn on_response(
        &mut self,
        now: SimTime,
        pending: Pending,
        response: Response,
        rng: &mut SimRng,
        out: &mut Effects<ConsumerTimer>,
    ) {
        use crate::protocol::group::GroupResponse as G;
        match (pending, response) {
            (Pending::Metadata, Response::Metadata(r)) => self.on_metadata(r, out),
            (Pending::Join, Response::Group(G::JoinGroup(r))) => self.on_join(now, r, out),
            (Pending::Sync, Response::Group(G::SyncGroup(r))) => self.on_sync(now, r, out),
            (Pending::Heartbeat(generation), Response::Group(G::Heartbeat(r))) => {
                self.on_heartbeat(generation, r.error, out);
            }
            (Pending::Leave, Response::Group(G::LeaveGroup(_))) => {}
            (Pending::OffsetFetch(asked), Response::Group(G::OffsetFetch(r))) => {
                self.on_offset_fetch(asked, r, out);
            }
            (Pending::ListOffsets(asked), Response::ListOffsets(r)) => {
                self.on_list_offsets(asked, r, out);
            }
            (Pending::Fetch(asked), Response::Fetch(r)) => self.on_fetch(asked, r, out),
            (Pending::Commit { purpose, offsets }, Response::Group(G::OffsetCommit(r))) => {
                self.on_commit(now, purpose, offsets, r, rng, out);
            }
            (pending, response) => {
                panic!("consumer got {response:?} for its {pending:?} request")
            }
        }
    }

    /// Sends `request` to the coordinator (the bootstrap broker) and remembers what it was for.
    fn send(&mut self, request: Request, pending: Pending, out: &mut Effects<ConsumerTimer>) {
        let correlation_id = self.next_correlation;
        self.next_correlation += 1;
        self.in_flight.insert(correlation_id, pending);
        out.send(
            NodeId::Broker(self.broker),
            Message::Request {
                correlation_id,
                request,
            },
        );
    }

    fn group(&self) -> Arc<str> {
        self.config.group_id.clone()
    }
}

/// `topic-partition` strings for traces, in order.
fn names<'a>(tps: impl IntoIterator<Item = &'a TopicPartition>) -> Vec<Arc<str>> {
    tps.into_iter()
        .map(|tp| Arc::from(tp.to_string()))
        .collect()
}

#[cfg(test)]
mod tests;
