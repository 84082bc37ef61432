//! A Kafka consumer in a consumer group: the group protocol's client side, the fetcher, and the
//! application's poll loop (Kafka's `ConsumerCoordinator`, `AbstractCoordinator`, `Fetcher`,
//! `SubscriptionState`; librdkafka's `rdkafka_cgrp.c`).
//!
//! A [`Consumer`] is a sans-IO state machine: [`Consumer::handle`] takes one input at virtual time
//! `now` and writes requests, timers and trace events into an [`Effects`] buffer.
//!
//! | file | holds |
//! |---|---|
//! | `config.rs` | `ConsumerConfig` from Kafka-named keys; the Java and librdkafka defaults |
//! | `app.rs` | the application: processing time, commits, poison pills (`OnFailure`), batches |
//! | `membership.rs` | JoinGroup, SyncGroup, Heartbeat, LeaveGroup; the rebalance listener |
//! | `kip848.rs` | `group.protocol=consumer`: ConsumerGroupHeartbeat and reconciliation |
//! | `fetcher.rs` | positions (OffsetFetch, `auto.offset.reset`), Fetch, the record buffer |
//! | `connections.rs` | requests per broker, `request.timeout.ms`, lost connections, metadata |
//! | `poll.rs` | the poll loop: batches, commits, `max.poll.interval.ms`, `close()` |
//! | `isolation.rs` | `isolation.level`: which fetched batches `read_committed` keeps |
//!
//! How the pieces meet, as in the real clients: group protocol responses are handled when they
//! arrive (the Java heartbeat thread, librdkafka's background thread), but a *rejoin* starts only
//! when the application next calls `poll()`, after it finished its batch: a rebalance waits for
//! the slowest member's batch, up to the rebalance timeout (`max.poll.interval.ms`). While the
//! application waits inside `poll()`, everything that arrives is acted on at once.
//!
//! The coordinator is at first the broker the consumer is given (see `World::coordinator_for`),
//! with no FindCoordinator round trip; once lost, it is found again with FindCoordinator
//! (`connections.rs`). Fetches and ListOffsets go to each partition's leader, as
//! the last Metadata response named it; a leader that moved is found again by a metadata refresh
//! (`connections.rs`).

pub mod app;
mod close;
mod commit;
pub mod config;
mod connections;
mod fetcher;
pub mod isolation;
mod kip848;
mod membership;
mod poll;
pub(crate) mod polled;
mod processed;
mod txn;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;

use crate::effects::Effects;
use crate::protocol::consumer_group::JoinedMember;
use crate::protocol::metadata::MetadataRequest;
use crate::protocol::records::SharedRecords;
use crate::protocol::{Message, Request, Response};
use crate::rng::SimRng;
use crate::trace::TraceSeq;
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
    /// The oldest request in flight may have waited `request.timeout.ms`.
    RequestTimeout,
    /// `retry.backoff.ms` after losing the coordinator: try the group again.
    CoordinatorRetry,
    /// `retry.backoff.ms` after an OffsetFetch answered `UNSTABLE_OFFSET_COMMIT` (KIP-447):
    /// the committed offsets may be asked for again.
    OffsetFetchRetry,
    /// `retry.backoff.ms` after a metadata refresh: another may go.
    MetadataRetry,
    /// `reconnect.backoff.ms` after a lost connection: a fetch may go to its broker again.
    Reconnect,
}

/// What a consumer reacts to: its own input type, which the world converts from the
/// `ClientInput` it hands every client machine (what the consumer does not understand, it never
/// sees).
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
    /// The connection to `broker` closed at `at` (it went down, or a proxy cut it): every
    /// request in flight on it failed. A close at `at` is of the connection open then: one
    /// opened after it (to send a later request) is not the one that closed.
    ConnectionClosed {
        /// The broker.
        broker: BrokerId,
        /// When the other end closed it.
        at: SimTime,
    },
    /// The process crashed (the world has already marked it dead): the records its application
    /// finished before the crash are reported; nothing else happens, no request is sent. A poison
    /// pill given up at this very millisecond is not: the crash came first.
    Crashed,
    /// The process froze for `duration` (a long GC pause, `SIGSTOP`): its application's work in
    /// progress finishes `duration` later. The world holds timers and responses meanwhile.
    Paused {
        /// How long.
        duration: Millis,
    },
    /// Its process's producer ended the transaction of the last batch (`txn.rs`).
    TransactionEnded(crate::client::producer::TxnOutcome),
}

/// What a consumer hands the rest of its process ([`Effects::outputs`]), in the order it
/// happened. Only a service needs them: the world routes processed records and dead letters to
/// the producer of the same process (a service) and crashes a process whose application
/// died. They are outputs rather than state the world drains afterwards, so that the consumer's
/// only way out is its effects, like every other machine's.
#[derive(Clone, Debug)]
pub enum ConsumerOutput {
    /// The application finished processing this record (written only after
    /// [`Consumer::keep_processed`]).
    Processed(ProcessedRecord),
    /// The application gave this record up to a dead-letter topic (`OnFailure::DeadLetter`): the
    /// process's producer must send it there.
    DeadLettered(DeadLetter),
    /// The application's exception escaped the poll loop (`OnFailure::Crash` on a poison pill):
    /// the consumer has stopped, and the world must now crash its process as
    /// `ClientCommand::Crash` does (no LeaveGroup), after routing the outputs before this one.
    /// It carries the pill's last `ProcessingFailed`, which the crash follows from.
    ApplicationDied(Option<TraceSeq>),
    /// The application processed a batch whose offsets go into its producer's transaction
    /// (`sendOffsetsToTransaction`, then `commitTransaction()`): it waits for the end.
    CommitTransaction(crate::protocol::consumer_group::OffsetCommitRequest),
}

/// A consumer subscribed to some topics in a group.
#[derive(Debug)]
pub struct Consumer {
    config: ConsumerConfig,
    app: Application,
    topics: Vec<TopicName>,
    /// The group coordinator.
    broker: BrokerId,
    next_correlation: u64,
    in_flight: BTreeMap<u64, InFlight>,
    /// Each assigned partition's leader, from the last Metadata response.
    leaders: BTreeMap<TopicPartition, Option<BrokerId>>,
    /// Brokers named by Metadata responses (where a refresh may go).
    known_brokers: BTreeSet<BrokerId>,
    /// Brokers whose connection closed and that have not answered since.
    down: BTreeSet<BrokerId>,
    /// The connection open to each broker: when it was opened (the first request sent after the
    /// last close). A close says when it happened; one from before `since` is of an older
    /// connection, whose requests have failed already.
    connections: BTreeMap<BrokerId, SimTime>,
    /// Brokers whose connection closed: no fetch goes to them before this time
    /// (`reconnect.backoff.ms`).
    reconnect_at: BTreeMap<BrokerId, SimTime>,
    /// A metadata refresh is wanted; none goes before `metadata_next`.
    metadata_wanted: bool,
    metadata_next: SimTime,
    /// No OffsetFetch before this: one answered `UNSTABLE_OFFSET_COMMIT` (KIP-447).
    offset_fetch_next: SimTime,
    /// When the request-timeout timer is armed for.
    request_timer: Option<SimTime>,
    /// After losing the coordinator, no group request before this.
    coordinator_backoff: Option<SimTime>,
    /// The coordinator was lost (`markCoordinatorUnknown`): find it again before any group
    /// request.
    coordinator_unknown: bool,
    member: Membership,
    /// With `group.protocol=consumer`: the KIP-848 membership (then `member` only mirrors the
    /// member id and epoch that OffsetCommit carries).
    consumer_protocol: Option<kip848::ConsumerProtocolMember>,
    /// Partition counts learned from Metadata.
    metadata: BTreeMap<TopicName, u32>,
    /// Topics the last Metadata response naming them reported as unknown
    /// (`UNKNOWN_TOPIC_OR_PARTITION`): the leader assigns without them.
    unknown_topics: BTreeSet<TopicName>,
    /// The assigned partitions and their fetch state: this map *is* the current assignment.
    partitions: BTreeMap<TopicPartition, PartitionState>,
    /// The order in which partitions give records to `poll()`: a drained partition moves to the
    /// back (Java's `movePartitionToEnd`, for fairness).
    order: VecDeque<TopicPartition>,
    /// Brokers with a Fetch in flight (one per broker, as Java's fetcher).
    fetches_in_flight: BTreeSet<BrokerId>,
    next_epoch: u64,
    activity: Activity,
    last_poll: SimTime,
    /// Java: when the next auto-commit is due (checked inside `poll()`).
    next_auto_commit: Option<SimTime>,
    /// librdkafka: the `max.poll.interval.ms` check runs every 500 ms from the assignment.
    max_poll_tick_base: SimTime,
    closing: bool,
    /// Write each processed record as a [`ConsumerOutput::Processed`] (a service, a test).
    keep_processed: bool,
    /// Report each record when it is done, not only at the end of its batch: a service produces
    /// its output record then.
    report_each_record: bool,
    /// The time of the input being handled (read where a batch's schedule must be consulted).
    now: SimTime,
    /// Its offsets go into its process's transactions (`txn.rs`).
    transactional: bool,
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
    /// The event that made the rejoin needed (the coordinator's start of a rebalance, as a
    /// heartbeat's answer carried it; this consumer's own poll timeout): the cause of what the
    /// rejoin does (eager revocation, the JoinGroup).
    rejoin_cause: Option<TraceSeq>,
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
    buffered: SharedRecords,
    /// librdkafka: the offset stored for the next auto-commit (last handed-out offset + 1).
    stored: Option<Offset>,
    /// librdkafka: past the last transaction marker the fetcher skipped while the application
    /// was busy, stored at its next consume call (`serve_passed_control`).
    passed_control: Option<Offset>,
    /// The last offset known committed.
    committed: Option<Offset>,
    /// Its leader as the last Metadata response said (`None`: unknown or none).
    leader: Option<BrokerId>,
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

/// A request in flight: where it went, when, and what for.
#[derive(Clone, Debug)]
struct InFlight {
    broker: BrokerId,
    sent: SimTime,
    pending: Pending,
}

/// What a request in flight was for, to match its response.
#[derive(Clone, Debug)]
enum Pending {
    Metadata,
    Join,
    Sync,
    Heartbeat(Option<Generation>),
    Leave,
    FindCoordinator,
    /// A ConsumerGroupHeartbeat, with the member epoch it carried.
    ConsumerHeartbeat(i32),
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
            consumer_protocol: kip848::ConsumerProtocolMember::for_config(&config),
            config,
            app,
            topics,
            broker,
            next_correlation: 0,
            in_flight: BTreeMap::new(),
            leaders: BTreeMap::new(),
            known_brokers: BTreeSet::from([broker]),
            down: BTreeSet::new(),
            connections: BTreeMap::new(),
            reconnect_at: BTreeMap::new(),
            metadata_wanted: false,
            metadata_next: SimTime::ZERO,
            offset_fetch_next: SimTime::ZERO,
            request_timer: None,
            coordinator_backoff: None,
            coordinator_unknown: false,
            member: Membership {
                state: MemberState::Unjoined,
                member_id: None,
                generation: None,
                protocol: None,
                rejoin: None,
                rejoin_cause: None,
                pending_leader: None,
                previous: None,
            },
            metadata: BTreeMap::new(),
            unknown_topics: BTreeSet::new(),
            partitions: BTreeMap::new(),
            order: VecDeque::new(),
            fetches_in_flight: BTreeSet::new(),
            next_epoch: 0,
            activity: Activity::Polling,
            last_poll: SimTime::ZERO,
            next_auto_commit: None,
            max_poll_tick_base: SimTime::ZERO,
            closing: false,
            keep_processed: false,
            report_each_record: false,
            now: SimTime::ZERO,
            transactional: false,
        }
    }

    /// `retry.backoff.ms` after losing the coordinator is over: look for it again if still unknown.
    fn coordinator_retry_due(&mut self, out: &mut Effects<ConsumerTimer, ConsumerOutput>) {
        self.coordinator_backoff = None;
        if self.coordinator_unknown {
            self.find_coordinator(out);
        }
    }

    /// Handles one input at `now`. After the input itself: a batch cut short if the group needs
    /// a `poll()`, the poll loop if the application is in `poll()`, a metadata refresh if one is
    /// due, and the request timer; a crash or a pause is only the input itself.
    pub fn handle(
        &mut self,
        now: SimTime,
        input: ConsumerInput,
        rng: &mut SimRng,
        out: &mut Effects<ConsumerTimer, ConsumerOutput>,
    ) {
        if matches!(self.activity, Activity::Closed) {
            return;
        }
        self.now = now;
        match input {
            ConsumerInput::Crashed => {
                self.crashed(now, out);
                return;
            }
            ConsumerInput::Paused { duration } => {
                self.paused(now, duration, out);
                return;
            }
            ConsumerInput::Start => self.start(now, out),
            ConsumerInput::Timer(ConsumerTimer::Heartbeat) if self.consumer_protocol.is_some() => {
                self.consumer_heartbeat_due(out);
            }
            ConsumerInput::Timer(ConsumerTimer::Heartbeat) => self.heartbeat_due(now, out),
            ConsumerInput::Timer(ConsumerTimer::AutoCommit) => self.auto_commit_due(now, out),
            ConsumerInput::Timer(ConsumerTimer::ProcessingDone) => {
                self.processing_done(now, rng, out);
            }
            ConsumerInput::Timer(ConsumerTimer::ProcessingProgress) => {
                self.processing_progress(now, out);
            }
            ConsumerInput::Timer(ConsumerTimer::MaxPoll) => self.max_poll_expired(now, out),
            ConsumerInput::Timer(ConsumerTimer::RequestTimeout) => {
                self.request_timer = None;
                self.expire_requests(now, rng, out);
            }
            ConsumerInput::Timer(ConsumerTimer::CoordinatorRetry) => {
                self.coordinator_retry_due(out)
            }
            ConsumerInput::Timer(
                ConsumerTimer::MetadataRetry
                | ConsumerTimer::OffsetFetchRetry
                | ConsumerTimer::Reconnect,
            ) => {}
            ConsumerInput::Response {
                correlation_id,
                response,
            } => {
                let Some(sent) = self.in_flight.remove(&correlation_id) else {
                    return;
                };
                self.down.remove(&sent.broker);
                self.on_response(now, sent.broker, sent.pending, response, rng, out);
            }
            ConsumerInput::ConnectionClosed { broker, at } => {
                self.connection_closed(now, broker, at, rng, out);
            }
            ConsumerInput::Close => self.closing = true,
            ConsumerInput::TransactionEnded(outcome) => self.transaction_ended(outcome),
        }
        self.cut_batch_if_polling_is_needed(now, out);
        if matches!(self.activity, Activity::Polling) {
            self.poll(now, rng, out);
        }
        self.maybe_refresh_metadata(now, out);
        self.arm_request_timer(out);
    }

    /// [`ConsumerInput::Crashed`].
    fn crashed(&mut self, now: SimTime, out: &mut Effects<ConsumerTimer, ConsumerOutput>) {
        if let Activity::Processing(batch) | Activity::Committing(Some(batch)) = &mut self.activity
        {
            let finished = batch.finished_by(now);
            let pending_verdict = batch
                .failures
                .iter()
                .find(|failure| {
                    (batch.reported..finished).contains(&failure.index)
                        && failure.verdict != Verdict::Skip
                })
                .map(|failure| failure.index);
            let mut batch = batch.clone();
            self.report(&mut batch, pending_verdict.unwrap_or(finished), out);
        }
        self.activity = Activity::Closed;
    }

    /// [`ConsumerInput::Paused`].
    fn paused(
        &mut self,
        now: SimTime,
        pause: Millis,
        out: &mut Effects<ConsumerTimer, ConsumerOutput>,
    ) {
        if let Activity::Processing(batch) = &mut self.activity {
            batch.shift(now, pause);
            let next = batch.next_wakeup(self.report_each_record);
            out.set_timer(ConsumerTimer::ProcessingDone, next);
        }
    }

    /// Makes the consumer write each record its application processes as a
    /// [`ConsumerOutput::Processed`]: a service's producer needs them (the world asks for them
    /// when it links one, `World::link_service`), and tests read them. Off by default, so that a
    /// consumer reading ten million records hands none of them over: the trace says what was
    /// processed. A setup switch, set before the run.
    pub fn keep_processed(&mut self) {
        self.keep_processed = true;
    }

    /// Makes the consumer report each record as soon as its processing is done, instead of at
    /// the end of its batch. A service needs this: it produces one output record per input right
    /// after processing it, not when a 500-record batch ends. Costs one wakeup per record.
    pub fn report_each_record(&mut self) {
        self.report_each_record = true;
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

    fn start(&mut self, now: SimTime, out: &mut Effects<ConsumerTimer, ConsumerOutput>) {
        self.last_poll = now;
        let request = MetadataRequest {
            topics: self.topics.clone(),
        };
        self.send(Request::Metadata(request), Pending::Metadata, out);
        if self.consumer_protocol.is_some() {
            self.send_consumer_heartbeat(out);
        } else {
            self.member.rejoin = Some(Arc::from(""));
        }
        if self.config.library == crate::client::library::ClientLibrary::Librdkafka
            && self.config.enable_auto_commit
        {
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
        leader: BrokerId,
        pending: Pending,
        response: Response,
        rng: &mut SimRng,
        out: &mut Effects<ConsumerTimer, ConsumerOutput>,
    ) {
        use crate::protocol::consumer_group::GroupResponse as G;
        match (pending, response) {
            (Pending::Metadata, Response::Metadata(r)) => self.on_metadata(r, out),
            (Pending::Join, Response::Group(G::JoinGroup(r))) => self.on_join(now, r, out),
            (Pending::Sync, Response::Group(G::SyncGroup(r))) => self.on_sync(now, r, out),
            (Pending::Heartbeat(generation), Response::Group(G::Heartbeat(r))) => {
                self.on_heartbeat(now, generation, r.error, out);
            }
            (Pending::Leave, Response::Group(G::LeaveGroup(_))) => {}
            (Pending::FindCoordinator, Response::FindCoordinator(r)) => {
                self.on_find_coordinator(now, r, out);
            }
            (Pending::ConsumerHeartbeat(epoch), Response::Group(G::ConsumerGroupHeartbeat(r))) => {
                self.on_consumer_heartbeat(now, epoch, r, out);
            }
            (Pending::OffsetFetch(asked), Response::Group(G::OffsetFetch(r))) => {
                self.on_offset_fetch(asked, r, out);
            }
            (Pending::ListOffsets(asked), Response::ListOffsets(r)) => {
                self.on_list_offsets(asked, r, out);
            }
            (Pending::Fetch(asked), Response::Fetch(r)) => self.on_fetch(leader, asked, r, out),
            (Pending::Commit { purpose, offsets }, Response::Group(G::OffsetCommit(r))) => {
                self.on_commit(now, purpose, offsets, r, rng, out);
            }
            (pending, response) => {
                panic!("consumer got {response:?} for its {pending:?} request")
            }
        }
    }

    /// Sends `request` to the coordinator and remembers what it was for.
    fn send(
        &mut self,
        request: Request,
        pending: Pending,
        out: &mut Effects<ConsumerTimer, ConsumerOutput>,
    ) {
        self.send_to(self.broker, request, pending, out);
    }

    /// Sends `request` to the bootstrap broker, following from event `cause` (the world's
    /// envelope carries it to the coordinator).
    fn send_because(
        &mut self,
        cause: Option<TraceSeq>,
        request: Request,
        pending: Pending,
        out: &mut Effects<ConsumerTimer, ConsumerOutput>,
    ) {
        self.send_to_because(self.broker, cause, request, pending, out);
    }

    /// Sends `request` to `broker` and remembers what it was for.
    fn send_to(
        &mut self,
        broker: BrokerId,
        request: Request,
        pending: Pending,
        out: &mut Effects<ConsumerTimer, ConsumerOutput>,
    ) {
        self.send_to_because(broker, None, request, pending, out);
    }

    fn send_to_because(
        &mut self,
        broker: BrokerId,
        cause: Option<TraceSeq>,
        request: Request,
        pending: Pending,
        out: &mut Effects<ConsumerTimer, ConsumerOutput>,
    ) {
        let correlation_id = self.next_correlation;
        self.next_correlation += 1;
        let sent = InFlight {
            broker,
            sent: self.now,
            pending,
        };
        self.in_flight.insert(correlation_id, sent);
        self.connections.entry(broker).or_insert(self.now);
        out.send_because(
            cause,
            NodeId::Broker(broker),
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
