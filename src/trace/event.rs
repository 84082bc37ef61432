//! The schema: every event a run can report, one enum variant per event.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use strum_macros::IntoStaticStr;

use super::cluster::{
    BrokerFenced, BrokerRegistered, BrokerUnfenced, IsrExpanded, IsrShrunk, LeaderElected,
    LeaderEpochStarted, LogTruncated, ProduceRefused, RecordsReplicated,
};
use super::coordinator::{CoordinatorFound, CoordinatorMoved, GroupLoaded};
use super::edge::{EdgeConnected, EdgeDisconnected, EdgeRequest, ServeStarted};
use super::kip848::{
    ConsumerGroupHeartbeatAnswered, GroupEpochBumped, MemberEpochUpdated, MemberFenced,
    TargetAssignmentComputed,
};
use super::retention::{LogCleaned, SegmentDeleted, SegmentRolled};
use super::transaction::{
    OffsetFetchUnstable, ProducerFenced, TxnCoordinatorFound, TxnCoordinatorMoved, TxnEnded,
    TxnMarkerWritten, TxnPartitionsAdded, TxnStateChanged,
};
use super::{MemberAssignment, RecordHeader, TraceBytes};

/// Everything a run can report. Variants are past-tense facts; fields use Kafka's vocabulary.
/// Adding a variant means documenting it in `sim-traces/README.md` (a test checks); its name
/// ([`TraceEvent::name`]) comes with it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, IntoStaticStr)]
#[serde(tag = "event")]
pub enum TraceEvent {
    // Log: topics and appends.
    /// A topic exists with this many partitions.
    TopicCreated {
        /// Topic name.
        topic: Arc<str>,
        /// Partition count.
        partitions: u32,
        /// Replicas per partition.
        replication_factor: u32,
        /// The topic id the controller gave it (Kafka's base64 UUID); null on a lone broker.
        #[serde(default)]
        topic_id: Option<String>,
        /// Topic configs set at creation (the non-default ones `kafka-topics --describe` lists).
        #[serde(default)]
        configs: BTreeMap<String, String>,
        /// Each partition's replicas, preferred leader first; empty when one broker holds every
        /// partition (the emitting broker).
        #[serde(default)]
        replicas: Vec<Vec<u32>>,
    },
    /// One record was written to a partition's log (detail `Records` only).
    RecordAppended {
        /// Topic name.
        topic: Arc<str>,
        /// Partition number.
        partition: u32,
        /// The offset the log gave it.
        offset: u64,
        /// The record key, or null for a null key.
        key: Option<TraceBytes>,
        /// The value (a synthetic value is rendered as its text), or null for a tombstone.
        value: Option<TraceBytes>,
        /// The producer that sent it (its scenario name), if known.
        producer: Option<Arc<str>>,
        /// Idempotence: producer id, or null for a plain producer.
        producer_id: Option<i64>,
        /// Idempotence: the batch's producer epoch.
        producer_epoch: Option<i16>,
        /// Idempotence: the record's sequence number.
        sequence: Option<i32>,
    },
    /// A batch of records was written to a partition's log.
    BatchAppended {
        /// Topic name.
        topic: Arc<str>,
        /// Partition number.
        partition: u32,
        /// Offset of the first record.
        base_offset: u64,
        /// Offset of the last record.
        last_offset: u64,
        /// Records in the batch.
        records: u32,
        /// The producer that sent it, if known.
        producer: Option<Arc<str>>,
    },

    // Network.
    /// The network lost a message (a fault: a dropped response, a cut connection).
    MessageLost {
        /// Sender component.
        from: Arc<str>,
        /// Intended receiver component.
        to: Arc<str>,
        /// `response dropped` or `connection cut`.
        reason: String,
    },

    // Group coordinator: membership, rebalances, committed offsets and lag.
    /// A consumer group's coordinator moved the group to another state (Kafka's
    /// `ClassicGroup.transitionTo`, with the reason its log line gives).
    GroupStateChanged {
        /// `group.id`.
        group: Arc<str>,
        /// The state left: `Empty`, `PreparingRebalance`, `CompletingRebalance`, `Stable`.
        from: Arc<str>,
        /// The state entered (the same names, or `Dead`).
        to: Arc<str>,
        /// Why, e.g. `Adding new member consumer-g-1-... with group instance id null`.
        reason: String,
    },
    /// A member was added to a group by a JoinGroup (a dynamic member's second JoinGroup, after
    /// `MEMBER_ID_REQUIRED`; a static member's first).
    MemberJoined {
        /// `group.id`.
        group: Arc<str>,
        /// The member id the coordinator generated: `{client.id}-{uuid}`.
        member_id: Arc<str>,
        /// `group.instance.id` for a static member.
        group_instance_id: Option<Arc<str>>,
        /// `client.id`.
        client_id: Arc<str>,
        /// The member's `session.timeout.ms`.
        session_timeout_ms: u64,
        /// Its rebalance timeout (`max.poll.interval.ms`).
        rebalance_timeout_ms: u64,
        /// Its assignors in preference order (`partition.assignment.strategy`).
        protocols: Vec<Arc<str>>,
    },
    /// A member left with a LeaveGroup request (a dynamic member's `close()`, or its poll timeout).
    MemberLeft {
        /// `group.id`.
        group: Arc<str>,
        /// The member that left.
        member_id: Arc<str>,
        /// The reason the client gave (KIP-800), e.g. `the consumer is being closed`.
        reason: String,
    },
    /// The coordinator accepted a member's Heartbeat (answered `NONE`, or `REBALANCE_IN_PROGRESS`
    /// during a rebalance) and restarted its `session.timeout.ms`: the last one of a member that
    /// dies is the cause of its `MemberExpired`, exactly `session.timeout.ms` later.
    HeartbeatReceived {
        /// `group.id`.
        group: Arc<str>,
        /// The member.
        member_id: Arc<str>,
        /// The generation it heartbeats in.
        generation: i32,
        /// The answer: `NONE` or `REBALANCE_IN_PROGRESS`.
        error: Arc<str>,
    },
    /// A member's session expired: no heartbeat, JoinGroup or SyncGroup reached the coordinator
    /// within its `session.timeout.ms` (a crash, a pause, a lost connection).
    MemberExpired {
        /// `group.id`.
        group: Arc<str>,
        /// The expired member.
        member_id: Arc<str>,
        /// `group.instance.id`, if static.
        group_instance_id: Option<Arc<str>>,
        /// The timeout that ran out: `session.timeout.ms`, or the broker's 300000 ms join timeout
        /// for a member that never completed its first join.
        timeout_ms: u64,
        /// True for a member id handed out with `MEMBER_ID_REQUIRED` and never used.
        pending: bool,
    },
    /// The coordinator removed a member that did not take part in a rebalance in time.
    MemberRemoved {
        /// `group.id`.
        group: Arc<str>,
        /// The removed member.
        member_id: Arc<str>,
        /// `did not rejoin before the rebalance timeout` or `did not sync before the rebalance
        /// timeout`.
        reason: String,
    },
    /// A static member rejoined with an unknown member id: its `group.instance.id` now maps to a
    /// new member id and the old one is fenced (KIP-345).
    StaticMemberReplaced {
        /// `group.id`.
        group: Arc<str>,
        /// `group.instance.id`.
        group_instance_id: Arc<str>,
        /// The fenced member id.
        old_member_id: Arc<str>,
        /// The new member id.
        new_member_id: Arc<str>,
    },
    /// The join phase of a rebalance completed: a new generation exists with these members.
    GenerationStarted {
        /// `group.id`.
        group: Arc<str>,
        /// The new generation id.
        generation: i32,
        /// The assignor chosen by vote, or null for an empty group.
        protocol: Option<Arc<str>>,
        /// The leader's member id, or null for an empty group.
        leader: Option<Arc<str>>,
        /// Every member id, sorted.
        members: Vec<Arc<str>>,
    },
    /// The leader's SyncGroup arrived: the group's assignment is stored and the group is Stable.
    AssignmentStored {
        /// `group.id`.
        group: Arc<str>,
        /// The generation the assignment belongs to.
        generation: i32,
        /// Per member (sorted by member id), its partitions as `topic-partition`.
        assignments: Vec<MemberAssignment>,
    },
    /// The coordinator stored a committed offset for one partition.
    OffsetCommitted {
        /// `group.id`.
        group: Arc<str>,
        /// The committing member, or null for a commit from outside the group protocol.
        member_id: Option<Arc<str>>,
        /// The member's generation, or null.
        generation: Option<i32>,
        /// Topic.
        topic: Arc<str>,
        /// Partition.
        partition: u32,
        /// The committed offset: the next offset the group will read.
        offset: u64,
    },
    /// The coordinator refused an OffsetCommit.
    OffsetCommitRejected {
        /// `group.id`.
        group: Arc<str>,
        /// The committing member, or null.
        member_id: Option<Arc<str>>,
        /// The generation it claimed, or null.
        generation: Option<i32>,
        /// Kafka's error name: `ILLEGAL_GENERATION`, `UNKNOWN_MEMBER_ID`,
        /// `REBALANCE_IN_PROGRESS`, ...
        error: Arc<str>,
    },
    /// A periodic sample of a group's lag on one partition, computed as `kafka-consumer-groups
    /// --describe` does: high watermark minus committed offset.
    LagSampled {
        /// `group.id`.
        group: Arc<str>,
        /// Topic.
        topic: Arc<str>,
        /// Partition.
        partition: u32,
        /// The high watermark (LOG-END-OFFSET in `kafka-consumer-groups`).
        log_end_offset: u64,
        /// The committed offset (CURRENT-OFFSET), or null if the group committed none.
        committed_offset: Option<u64>,
        /// `log_end_offset - committed_offset`; with no commit, the whole log
        /// (`log_end_offset - log_start_offset`).
        lag: u64,
    },

    // Consumer: the client's side of a group, and its application.
    /// A consumer was given partitions after a rebalance (`onPartitionsAssigned`: the newly
    /// added ones).
    PartitionsAssigned {
        /// `group.id`.
        group: Arc<str>,
        /// The consumer's member id.
        member_id: Arc<str>,
        /// The generation of the assignment.
        generation: i32,
        /// The added partitions, as `topic-partition`.
        partitions: Vec<Arc<str>>,
    },
    /// A consumer gave partitions up before or during a rebalance (`onPartitionsRevoked`).
    PartitionsRevoked {
        /// `group.id`.
        group: Arc<str>,
        /// The consumer's member id.
        member_id: Arc<str>,
        /// The generation the partitions were owned in.
        generation: i32,
        /// The revoked partitions.
        partitions: Vec<Arc<str>>,
    },
    /// A consumer learned it no longer owns its partitions without having revoked them
    /// (`onPartitionsLost`): it was removed from the group.
    PartitionsLost {
        /// `group.id`.
        group: Arc<str>,
        /// The partitions.
        partitions: Vec<Arc<str>>,
        /// Why, e.g. `UNKNOWN_MEMBER_ID` or `max.poll.interval.ms exceeded`.
        reason: String,
    },
    /// A consumer had no valid position on a partition and applied `auto.offset.reset`.
    PositionReset {
        /// Topic.
        topic: Arc<str>,
        /// Partition.
        partition: u32,
        /// `earliest` or `latest`.
        policy: Arc<str>,
        /// The new position.
        offset: u64,
    },
    /// A consumer's application finished processing records of one partition (one event per
    /// partition per poll batch).
    RecordsProcessed {
        /// `group.id`.
        group: Arc<str>,
        /// Topic.
        topic: Arc<str>,
        /// Partition.
        partition: u32,
        /// The first offset processed.
        first_offset: u64,
        /// The last offset processed.
        last_offset: u64,
        /// How many records.
        records: u32,
    },
    /// One record processed by a consumer's application (detail `records` only).
    RecordProcessed {
        /// `group.id`.
        group: Arc<str>,
        /// Topic.
        topic: Arc<str>,
        /// Partition.
        partition: u32,
        /// Offset.
        offset: u64,
        /// The record key.
        key: Option<TraceBytes>,
        /// The record value.
        value: Option<TraceBytes>,
        /// When its processing finished (at or before the event's `t_ms`).
        processed_at_ms: u64,
    },
    /// A consumer's offset commit failed, on the client or at the coordinator.
    CommitFailed {
        /// `group.id`.
        group: Arc<str>,
        /// Kafka's error name, or the client's reason.
        error: Arc<str>,
        /// The partitions whose offsets were not committed.
        partitions: Vec<Arc<str>>,
    },
    /// A consumer's application did not call `poll()` within `max.poll.interval.ms`: the client
    /// left the group on its own (a dynamic member sends LeaveGroup).
    MaxPollIntervalExceeded {
        /// `group.id`.
        group: Arc<str>,
        /// The member id given up.
        member_id: Arc<str>,
        /// When the application last called `poll()`.
        last_poll_ms: u64,
        /// The limit.
        max_poll_interval_ms: u64,
    },
    /// A consumer was closed cleanly (`close()`).
    ConsumerClosed {
        /// `group.id`.
        group: Arc<str>,
        /// Whether it sent LeaveGroup (dynamic members do, static ones do not).
        left_group: bool,
    },
    /// A consumer stopped on an error its application does not handle.
    ConsumerFailed {
        /// `group.id`.
        group: Arc<str>,
        /// The error, e.g. `NoOffsetForPartitionException: orders-0`.
        error: String,
    },
    /// A consumer's application failed to process a record (a poison pill): one event per
    /// failed attempt, at the moment it failed.
    ProcessingFailed {
        /// `group.id`.
        group: Arc<str>,
        /// Topic.
        topic: Arc<str>,
        /// Partition.
        partition: u32,
        /// Offset.
        offset: u64,
        /// 1 for the first attempt, 2 for the first retry, ...
        attempt: u32,
        /// The error, e.g. `malformed value`.
        error: String,
        /// What follows: `retry`, `skip`, `dead-letter` or `crash`.
        action: String,
        /// With `retry`: the wait before the next attempt.
        backoff_ms: Option<u64>,
    },
    /// A consumer's application gave up on a record and handed it to its producer for a
    /// dead-letter topic, with the error in its headers.
    RecordDeadLettered {
        /// `group.id`.
        group: Arc<str>,
        /// Where the record was read: topic.
        topic: Arc<str>,
        /// Partition.
        partition: u32,
        /// Offset.
        offset: u64,
        /// The dead-letter topic.
        dead_letter_topic: Arc<str>,
        /// Attempts made.
        attempts: u32,
        /// The headers of the dead-letter record.
        headers: Vec<RecordHeader>,
    },

    // Client processes: crashes, pauses and restarts.
    /// A client process died: it sends nothing more, not even a LeaveGroup.
    ClientCrashed {},
    /// A client process froze (a long GC pause, `SIGSTOP`): nothing runs until it resumes.
    ClientPaused {
        /// How long the pause lasts.
        duration_ms: u64,
    },
    /// A paused client process runs again; what arrived meanwhile is handled now, in order.
    ClientResumed {},
    /// A new process took over a client slot (a restart after a crash or a close): new
    /// connections, no state carried over except what the brokers keep (committed offsets).
    ClientRestarted {},

    // Producer: idempotence, batches, deliveries and connections.
    /// A broker handed a producer its id and epoch (`InitProducerId`, KIP-98).
    ProducerIdAllocated {
        /// The producer's scenario name, if known.
        producer: Option<Arc<str>>,
        /// The producer id.
        producer_id: i64,
        /// The epoch.
        producer_epoch: i16,
    },
    /// The leader recognised a retried batch it already holds (same producer id and epoch,
    /// same sequence range as one of its last five batches): it appended nothing and answered
    /// with the original offsets.
    DuplicateBatchIgnored {
        /// Topic name.
        topic: Arc<str>,
        /// Partition number.
        partition: u32,
        /// The producer that sent it, if known.
        producer: Option<Arc<str>>,
        /// Producer id.
        producer_id: i64,
        /// Producer epoch.
        producer_epoch: i16,
        /// Sequence of the batch's first record.
        first_sequence: i32,
        /// Sequence of its last record.
        last_sequence: i32,
        /// The offset the original got, returned again.
        base_offset: u64,
        /// The original's last offset.
        last_offset: u64,
    },
    /// The leader refused an idempotent producer's batch and appended nothing.
    BatchRejected {
        /// Topic name.
        topic: Arc<str>,
        /// Partition number.
        partition: u32,
        /// The producer that sent it, if known.
        producer: Option<Arc<str>>,
        /// Kafka's error name: `OUT_OF_ORDER_SEQUENCE_NUMBER`, `INVALID_PRODUCER_EPOCH`.
        error: String,
        /// Producer id.
        producer_id: i64,
        /// Producer epoch.
        producer_epoch: i16,
        /// Sequence of the batch's first record.
        first_sequence: i32,
        /// Sequence of its last record.
        last_sequence: i32,
    },
    /// A producer started, with the settings that decide its behaviour after Kafka's defaults
    /// and conflict rules were applied.
    ProducerConfigured {
        /// The client modelled: `java-3`, `java-4` or `librdkafka`.
        client: String,
        /// `acks`: `0`, `1` or `all`.
        acks: String,
        /// `enable.idempotence` as in effect.
        enable_idempotence: bool,
        /// Why idempotence is off when the client's default has it on, if it is.
        idempotence_note: Option<String>,
        /// `linger.ms`.
        linger_ms: u64,
        /// `batch.size`.
        batch_size: u64,
        /// `max.in.flight.requests.per.connection`.
        max_in_flight: u32,
        /// `retries`.
        retries: u32,
        /// `request.timeout.ms`.
        request_timeout_ms: u64,
        /// librdkafka `socket.timeout.ms`, its client-side wait for a response; null for Java,
        /// whose wait is `request.timeout.ms`.
        socket_timeout_ms: Option<u64>,
        /// `delivery.timeout.ms` as in effect.
        delivery_timeout_ms: u64,
        /// `retry.backoff.ms`.
        retry_backoff_ms: u64,
        /// `retry.backoff.max.ms`.
        retry_backoff_max_ms: u64,
        /// The partitioner.
        partitioner: String,
    },
    /// A producer sent a batch in a Produce request (a first attempt or a retry).
    BatchSent {
        /// Topic name.
        topic: Arc<str>,
        /// Partition number.
        partition: u32,
        /// The batch's number within its producer, from 0.
        batch: u64,
        /// Records in it.
        records: u32,
        /// The broker it went to.
        broker: u32,
        /// The request's correlation id.
        correlation_id: u64,
        /// 1 for the first attempt, 2 for the first retry...
        attempt: u32,
        /// Idempotence: producer id, or null.
        producer_id: Option<i64>,
        /// Idempotence: producer epoch, or null.
        producer_epoch: Option<i16>,
        /// Idempotence: sequence of the first record, or null.
        base_sequence: Option<i32>,
    },
    /// A batch succeeded: the broker acknowledged it (or, with `acks=0`, it was written to the
    /// connection and counts as done without any answer).
    BatchAcked {
        /// Topic name.
        topic: Arc<str>,
        /// Partition number.
        partition: u32,
        /// The batch's number within its producer.
        batch: u64,
        /// Records in it.
        records: u32,
        /// Offset of its first record; null with `acks=0` (Java reports -1).
        base_offset: Option<u64>,
        /// Attempts it took.
        attempts: u32,
    },
    /// An attempt failed with an error the producer retries: the batch goes back to the
    /// accumulator and waits `backoff_ms` (`retry.backoff.ms`, exponential, with jitter).
    BatchRetried {
        /// Topic name.
        topic: Arc<str>,
        /// Partition number.
        partition: u32,
        /// The batch's number within its producer.
        batch: u64,
        /// Records in it.
        records: u32,
        /// Why the attempt failed (a Kafka error name).
        error: String,
        /// The attempt that failed.
        attempt: u32,
        /// How long the batch waits before it may be sent again.
        backoff_ms: u64,
    },
    /// A batch failed for good; its records' delivery reports carry the error.
    BatchFailed {
        /// Topic name.
        topic: Arc<str>,
        /// Partition number.
        partition: u32,
        /// The batch's number within its producer.
        batch: u64,
        /// Records in it.
        records: u32,
        /// Why (a Kafka error name, or `DELIVERY_TIMEOUT`).
        error: String,
        /// Attempts made.
        attempts: u32,
    },
    /// What the application's callback (or `send().get()`) received for one record (detail
    /// `records`).
    DeliveryReported {
        /// Topic name.
        topic: Arc<str>,
        /// Partition number.
        partition: u32,
        /// The record's offset; null on error and with `acks=0`.
        offset: Option<u64>,
        /// Null on success, else the error.
        error: Option<String>,
        /// The record key.
        key: Option<TraceBytes>,
        /// The record value.
        value: Option<TraceBytes>,
        /// When the application called `send()` (the record's CreateTime).
        sent_ms: u64,
    },
    /// A client's connection to a broker is ready: `ApiVersions` was answered.
    ConnectionEstablished {
        /// The broker.
        broker: u32,
    },
    /// A client's connection to a broker closed, failing the requests in flight on it.
    ConnectionClosed {
        /// The broker.
        broker: u32,
        /// `request timeout` (`request.timeout.ms` ran out: the client closes the connection)
        /// or `disconnected` (the broker or a proxy closed it; `NETWORK_EXCEPTION`).
        reason: String,
        /// Requests that were in flight and failed.
        requests_failed: u32,
    },
    /// An idempotent producer bumped its epoch on its own (KIP-360), restarting the sequences
    /// of the partitions that had a gap.
    ProducerEpochBumped {
        /// Producer id.
        producer_id: i64,
        /// The new epoch.
        producer_epoch: i16,
        /// The partitions whose sequences restart at 0, as `topic-partition`.
        partitions: Vec<String>,
    },
    /// A producer sent a malformed record (a poison-pill fault was active).
    PoisonPillProduced {
        /// Topic name.
        topic: Arc<str>,
        /// Partition number.
        partition: u32,
        /// The malformed value.
        value: Option<TraceBytes>,
    },

    // Cluster: controller, leaders, ISR and replication (payloads in `cluster.rs`).
    /// A broker registered with the controller.
    BrokerRegistered(BrokerRegistered),
    /// The controller fenced a broker.
    BrokerFenced(BrokerFenced),
    /// A fenced broker heartbeated again and is back in service.
    BrokerUnfenced(BrokerUnfenced),
    /// The controller changed a partition's leader (or left it without one).
    LeaderElected(LeaderElected),
    /// A partition's ISR lost members.
    IsrShrunk(IsrShrunk),
    /// A follower caught up and joined a partition's ISR.
    IsrExpanded(IsrExpanded),
    /// A broker became a partition's leader.
    LeaderEpochStarted(LeaderEpochStarted),
    /// A follower copied records from its leader.
    RecordsReplicated(RecordsReplicated),
    /// A replica removed the end of its log where it diverged from the leader's.
    LogTruncated(LogTruncated),
    /// The leader refused a batch before appending it.
    ProduceRefused(ProduceRefused),

    // Log retention and compaction (payloads in `retention.rs`: same JSON, fields inline).
    /// A replica's active segment rolled: a new one starts.
    SegmentRolled(SegmentRolled),
    /// Retention deleted a whole segment.
    SegmentDeleted(SegmentDeleted),
    /// The log cleaner compacted a replica's log.
    LogCleaned(LogCleaned),

    // Group coordinator failover (payloads in `coordinator.rs`).
    /// A group's coordinator moved with its `__consumer_offsets` partition's leadership.
    CoordinatorMoved(CoordinatorMoved),
    /// A coordinator loaded a group (members, generation, offsets) from that partition.
    GroupLoaded(GroupLoaded),
    /// A consumer found its group's new coordinator (FindCoordinator).
    CoordinatorFound(CoordinatorFound),
    // The KIP-848 consumer group protocol (payloads in `kip848.rs`).
    /// The coordinator answered a ConsumerGroupHeartbeat.
    ConsumerGroupHeartbeatAnswered(ConsumerGroupHeartbeatAnswered),
    /// A consumer group's epoch rose.
    GroupEpochBumped(GroupEpochBumped),
    /// The server-side assignor computed a target assignment.
    TargetAssignmentComputed(TargetAssignmentComputed),
    /// A member's reconciliation moved on.
    MemberEpochUpdated(MemberEpochUpdated),
    /// A member's epoch was refused.
    MemberFenced(MemberFenced),

    // Transactions (payloads in `transaction.rs`).
    /// The transaction coordinator answered `AddPartitionsToTxn` or `AddOffsetsToTxn`.
    TxnPartitionsAdded(TxnPartitionsAdded),
    /// The transaction coordinator answered `EndTxn`.
    TxnEnded(TxnEnded),
    /// A partition's leader wrote a transaction marker (a control record).
    TxnMarkerWritten(TxnMarkerWritten),
    /// A transactional id changed state on its coordinator.
    TxnStateChanged(TxnStateChanged),
    /// The coordinator refused a request with a stale epoch (`PRODUCER_FENCED`).
    ProducerFenced(ProducerFenced),
    /// A `__transaction_state` partition's leader changed: its ids moved to a new coordinator.
    TxnCoordinatorMoved(TxnCoordinatorMoved),
    /// A transactional producer found its id's coordinator on another broker.
    TxnCoordinatorFound(TxnCoordinatorFound),
    /// A `require_stable` OffsetFetch got `UNSTABLE_OFFSET_COMMIT` (KIP-447).
    OffsetFetchUnstable(OffsetFetchUnstable),
    // A served session's sockets (payloads in `edge.rs`).
    /// `kafka-sim serve` began.
    ServeStarted(ServeStarted),
    /// A program connected.
    EdgeConnected(EdgeConnected),
    /// A request frame arrived.
    EdgeRequest(EdgeRequest),
    /// A program closed its connection.
    EdgeDisconnected(EdgeDisconnected),

    // Faults and the end of the run.
    /// A fault of the fault plan began.
    FaultStarted {
        /// Its kind: `latency`, `timeout`, `bandwidth`, `lost_ack`, `broker_down`, `crash`,
        /// `pause`, `poison_pill`.
        fault: String,
        /// The component it targets.
        target: Arc<str>,
        /// Its parameters, in Kafka's and Toxiproxy's words.
        detail: String,
    },
    /// A fault of the fault plan ended (a crash never ends).
    FaultEnded {
        /// Its kind.
        fault: String,
        /// The component it targeted.
        target: Arc<str>,
    },
    /// The run ended.
    RunEnded {
        /// Why: `duration reached`, `nothing left to do`.
        reason: String,
        /// Events the scheduler processed.
        events_processed: u64,
    },
}
