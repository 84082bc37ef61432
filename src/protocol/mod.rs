//! The messages that cross the simulated network, named after Kafka's API keys.
//!
//! Kafka protocol errors are data: an [`ErrorCode`] travels in a response and is traced; it is
//! never a Rust `Err`. Only the fields the model needs are carried (no wire encoding).

pub mod consumer_group;
pub mod consumer_group_heartbeat;
pub mod fetch;
pub mod metadata;
pub mod produce;
pub mod records;
pub mod replication;
pub mod transaction;

use std::fmt;

use crate::record::RECORD_BATCH_OVERHEAD;

/// A message on the network: a request, or the response to one (matched by correlation id).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// Client to broker.
    Request {
        /// Chosen by the client, echoed in the response.
        correlation_id: u64,
        /// The request.
        request: Request,
    },
    /// Broker to client.
    Response {
        /// The correlation id of the request.
        correlation_id: u64,
        /// The response.
        response: Response,
    },
}

impl Message {
    /// True for a response.
    pub fn is_response(&self) -> bool {
        matches!(self, Message::Response { .. })
    }

    /// True for a Produce response: the acknowledgement a "lost ACK" fault drops.
    pub fn is_produce_response(&self) -> bool {
        matches!(
            self,
            Message::Response {
                response: Response::Produce(_),
                ..
            }
        )
    }

    /// True for the request a client sends first on a new connection (`ApiVersions`): how the
    /// network tells a fresh connection from traffic on an established one.
    pub fn opens_connection(&self) -> bool {
        matches!(
            self,
            Message::Request {
                request: Request::ApiVersions,
                ..
            }
        )
    }

    /// An estimate of the message's size on the wire, for bandwidth limits: a fixed 64-byte
    /// envelope (request or response header, top-level fields) plus, per partition, its name and
    /// index and, for records, the v2 batch header and the records' own sizes. Good to within a
    /// few percent for batches of more than a handful of records, which is what a bandwidth
    /// toxic's delay depends on.
    pub fn size_bytes(&self) -> u64 {
        const ENVELOPE: u64 = 64;
        const PARTITION: u64 = 24;
        let body = match self {
            Message::Request {
                request: Request::Produce(p),
                ..
            } => p
                .batches
                .iter()
                .map(|b| {
                    let records: u64 = b
                        .records
                        .iter()
                        .enumerate()
                        .map(|(i, r)| r.size_in_batch(i as u32))
                        .sum();
                    PARTITION + b.topic.as_str().len() as u64 + RECORD_BATCH_OVERHEAD + records
                })
                .sum(),
            Message::Response {
                response: Response::Fetch(f),
                ..
            } => f
                .partitions
                .iter()
                .map(|p| {
                    let records: u64 = p.records.iter().map(|r| r.size_bytes()).sum();
                    let header = if p.records.is_empty() {
                        0
                    } else {
                        RECORD_BATCH_OVERHEAD
                    };
                    PARTITION + p.topic.as_str().len() as u64 + header + records
                })
                .sum(),
            Message::Response {
                response: Response::ReplicaFetch(f),
                ..
            } => f
                .partitions
                .iter()
                .map(|p| {
                    let records: u64 = p.records.iter().map(|r| r.size_bytes()).sum();
                    PARTITION + p.topic.as_str().len() as u64 + RECORD_BATCH_OVERHEAD + records
                })
                .sum(),
            Message::Response {
                response: Response::Produce(p),
                ..
            } => p
                .partitions
                .iter()
                .map(|p| PARTITION + p.topic.as_str().len() as u64)
                .sum(),
            _ => 0,
        };
        ENVELOPE + body
    }
}

/// Requests, one variant per Kafka API the model uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// `Produce` (API key 0).
    Produce(produce::ProduceRequest),
    /// `Fetch` (API key 1).
    Fetch(fetch::FetchRequest),
    /// `ListOffsets` (API key 2): where a partition starts and ends.
    ListOffsets(fetch::ListOffsetsRequest),
    /// `Metadata` (API key 3): how many partitions each topic has.
    Metadata(metadata::MetadataRequest),
    /// `InitProducerId` (API key 22).
    InitProducerId(produce::InitProducerIdRequest),
    /// `ApiVersions` (API key 18): the first request on every new connection; a client sends
    /// nothing else until it is answered, which is how it knows the connection works.
    ApiVersions,
    /// The consumer group APIs (JoinGroup, SyncGroup, Heartbeat, LeaveGroup, OffsetCommit,
    /// OffsetFetch).
    Group(consumer_group::GroupRequest),
    /// `FindCoordinator` (API key 10): which broker coordinates a group; any broker answers.
    FindCoordinator(consumer_group::FindCoordinatorRequest),
    /// `Fetch` (API key 1) from a follower broker.
    ReplicaFetch(replication::ReplicaFetchRequest),
    /// `BrokerRegistration` (API key 62), broker to controller.
    BrokerRegistration(replication::BrokerRegistrationRequest),
    /// `BrokerHeartbeat` (API key 63), broker to controller.
    BrokerHeartbeat(replication::BrokerHeartbeatRequest),
    /// `AlterPartition` (API key 56), partition leader to controller; answered by the metadata
    /// update it causes.
    AlterPartition(replication::AlterPartitionRequest),
    /// Committed partition changes, controller to broker (KRaft's metadata log); no response.
    UpdateMetadata(replication::UpdateMetadata),
    /// `AddPartitionsToTxn`, `AddOffsetsToTxn` or `EndTxn`, producer to transaction coordinator.
    Txn(transaction::TxnCoordinatorRequest),
    /// `WriteTxnMarkers` (API key 27), transaction coordinator to partition leader.
    WriteTxnMarkers(transaction::WriteTxnMarkersRequest),
}

impl Request {
    /// False for the one request Kafka never answers: a Produce with `acks=0`.
    pub fn expects_response(&self) -> bool {
        !matches!(self, Request::Produce(p) if p.acks == produce::Acks::None)
    }
}

/// Responses, one variant per request kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Response {
    /// To a `Produce`.
    Produce(produce::ProduceResponse),
    /// To a `Fetch`.
    Fetch(fetch::FetchResponse),
    /// To a `ListOffsets`.
    ListOffsets(fetch::ListOffsetsResponse),
    /// To a `Metadata`.
    Metadata(metadata::MetadataResponse),
    /// To an `InitProducerId`.
    InitProducerId(produce::InitProducerIdResponse),
    /// To an `ApiVersions` (the versions themselves are not modelled).
    ApiVersions,
    /// To a group request.
    Group(consumer_group::GroupResponse),
    /// To a `FindCoordinator`.
    FindCoordinator(consumer_group::FindCoordinatorResponse),
    /// To a follower's fetch.
    ReplicaFetch(replication::ReplicaFetchResponse),
    /// To a `BrokerRegistration`.
    BrokerRegistration(replication::BrokerRegistrationResponse),
    /// To a `BrokerHeartbeat`.
    BrokerHeartbeat(replication::BrokerHeartbeatResponse),
    /// To a transactional request.
    Txn(transaction::TxnCoordinatorResponse),
    /// To a `WriteTxnMarkers`.
    WriteTxnMarkers(transaction::WriteTxnMarkersResponse),
}

/// Kafka's error codes (`org.apache.kafka.common.protocol.Errors`), the ones the model produces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ErrorCode {
    /// 0: success.
    None,
    /// 1: the fetch offset is outside the log.
    OffsetOutOfRange,
    /// 3: the topic or partition does not exist.
    UnknownTopicOrPartition,
    /// 5: no leader right now (election in progress).
    LeaderNotAvailable,
    /// 6: this broker is not the partition's leader.
    NotLeaderOrFollower,
    /// 7: the request timed out (`request.timeout.ms`, or a replication wait).
    RequestTimedOut,
    /// 13: the connection broke before a response arrived (client-side).
    NetworkException,
    /// 15: the group coordinator is not available.
    CoordinatorNotAvailable,
    /// 16: this broker is not the group's coordinator.
    NotCoordinator,
    /// 19: fewer in-sync replicas than `min.insync.replicas`; nothing was written.
    NotEnoughReplicas,
    /// 20: written, but the ISR shrank below `min.insync.replicas` before it was replicated.
    NotEnoughReplicasAfterAppend,
    /// 22: the member's generation is not the group's.
    IllegalGeneration,
    /// 23: the member's protocols do not match the group's.
    InconsistentGroupProtocol,
    /// 25: the coordinator does not know the member id.
    UnknownMemberId,
    /// 26: `session.timeout.ms` outside the broker's allowed range.
    InvalidSessionTimeout,
    /// 27: the group is rebalancing; rejoin.
    RebalanceInProgress,
    /// 45: the batch's sequence is not the next one expected for its producer.
    OutOfOrderSequenceNumber,
    /// 46: the batch was already written (legacy; today's brokers answer success instead).
    DuplicateSequenceNumber,
    /// 47: the producer epoch is older than the broker's.
    InvalidProducerEpoch,
    /// 48: a non-transactional write from a producer with an open transaction (or the reverse).
    InvalidTxnState,
    /// 49: the producer id is not the one the transaction coordinator holds for the
    /// `transactional.id` (or the id is unknown there).
    InvalidProducerIdMapping,
    /// 50: `transaction.timeout.ms` above the broker's `transaction.max.timeout.ms`.
    InvalidTransactionTimeout,
    /// 51: the transaction is completing (markers being written): retry shortly.
    ConcurrentTransactions,
    /// 52: a transaction marker from a transaction coordinator with an older epoch.
    TransactionCoordinatorFenced,
    /// 59: the broker has no state for this producer id.
    UnknownProducerId,
    /// 68: the group still has members (DeleteGroups on a non-empty group).
    NonEmptyGroup,
    /// 69: the group does not exist.
    GroupIdNotFound,
    /// 79: a dynamic member's first JoinGroup: retry with the member id given (KIP-394).
    MemberIdRequired,
    /// 77: the broker epoch is not the broker's current one (a re-registered broker).
    StaleBrokerEpoch,
    /// 82: another member with the same `group.instance.id` replaced this one.
    FencedInstanceId,
    /// 87: the record is invalid for this topic (a null key on a compacted topic).
    InvalidRecord,
    /// 88: KIP-447: a `require_stable` OffsetFetch for a partition whose offset an open
    /// transaction holds pending: retry after `retry.backoff.ms`.
    UnstableOffsetCommit,
    /// 90: a newer producer with the same `transactional.id` bumped the epoch (Java's
    /// `ProducerFencedException`, fatal: the producer must be closed).
    ProducerFenced,
    /// 110: KIP-848: the member epoch is not the one the coordinator holds (the member was
    /// removed or fell behind); it must rejoin with epoch 0.
    FencedMemberEpoch,
    /// 112: KIP-848: `group.remote.assignor` names no assignor the broker has.
    UnsupportedAssignor,
    /// 113: KIP-848: an OffsetCommit from a member epoch older than the member's current one.
    StaleMemberEpoch,
}

impl ErrorCode {
    /// Kafka's numeric code.
    pub fn code(self) -> i16 {
        match self {
            ErrorCode::None => 0,
            ErrorCode::OffsetOutOfRange => 1,
            ErrorCode::UnknownTopicOrPartition => 3,
            ErrorCode::LeaderNotAvailable => 5,
            ErrorCode::NotLeaderOrFollower => 6,
            ErrorCode::RequestTimedOut => 7,
            ErrorCode::NetworkException => 13,
            ErrorCode::CoordinatorNotAvailable => 15,
            ErrorCode::NotCoordinator => 16,
            ErrorCode::NotEnoughReplicas => 19,
            ErrorCode::NotEnoughReplicasAfterAppend => 20,
            ErrorCode::IllegalGeneration => 22,
            ErrorCode::InconsistentGroupProtocol => 23,
            ErrorCode::UnknownMemberId => 25,
            ErrorCode::InvalidSessionTimeout => 26,
            ErrorCode::RebalanceInProgress => 27,
            ErrorCode::OutOfOrderSequenceNumber => 45,
            ErrorCode::DuplicateSequenceNumber => 46,
            ErrorCode::InvalidProducerEpoch => 47,
            ErrorCode::InvalidTxnState => 48,
            ErrorCode::InvalidProducerIdMapping => 49,
            ErrorCode::InvalidTransactionTimeout => 50,
            ErrorCode::ConcurrentTransactions => 51,
            ErrorCode::TransactionCoordinatorFenced => 52,
            ErrorCode::UnknownProducerId => 59,
            ErrorCode::NonEmptyGroup => 68,
            ErrorCode::GroupIdNotFound => 69,
            ErrorCode::MemberIdRequired => 79,
            ErrorCode::StaleBrokerEpoch => 77,
            ErrorCode::FencedInstanceId => 82,
            ErrorCode::InvalidRecord => 87,
            ErrorCode::UnstableOffsetCommit => 88,
            ErrorCode::ProducerFenced => 90,
            ErrorCode::FencedMemberEpoch => 110,
            ErrorCode::UnsupportedAssignor => 112,
            ErrorCode::StaleMemberEpoch => 113,
        }
    }

    /// Kafka's name for it, as logs and tools print it (`OUT_OF_ORDER_SEQUENCE_NUMBER`).
    pub fn name(self) -> &'static str {
        match self {
            ErrorCode::None => "NONE",
            ErrorCode::OffsetOutOfRange => "OFFSET_OUT_OF_RANGE",
            ErrorCode::UnknownTopicOrPartition => "UNKNOWN_TOPIC_OR_PARTITION",
            ErrorCode::LeaderNotAvailable => "LEADER_NOT_AVAILABLE",
            ErrorCode::NotLeaderOrFollower => "NOT_LEADER_OR_FOLLOWER",
            ErrorCode::RequestTimedOut => "REQUEST_TIMED_OUT",
            ErrorCode::NetworkException => "NETWORK_EXCEPTION",
            ErrorCode::CoordinatorNotAvailable => "COORDINATOR_NOT_AVAILABLE",
            ErrorCode::NotCoordinator => "NOT_COORDINATOR",
            ErrorCode::NotEnoughReplicas => "NOT_ENOUGH_REPLICAS",
            ErrorCode::NotEnoughReplicasAfterAppend => "NOT_ENOUGH_REPLICAS_AFTER_APPEND",
            ErrorCode::IllegalGeneration => "ILLEGAL_GENERATION",
            ErrorCode::InconsistentGroupProtocol => "INCONSISTENT_GROUP_PROTOCOL",
            ErrorCode::UnknownMemberId => "UNKNOWN_MEMBER_ID",
            ErrorCode::InvalidSessionTimeout => "INVALID_SESSION_TIMEOUT",
            ErrorCode::RebalanceInProgress => "REBALANCE_IN_PROGRESS",
            ErrorCode::OutOfOrderSequenceNumber => "OUT_OF_ORDER_SEQUENCE_NUMBER",
            ErrorCode::DuplicateSequenceNumber => "DUPLICATE_SEQUENCE_NUMBER",
            ErrorCode::InvalidProducerEpoch => "INVALID_PRODUCER_EPOCH",
            ErrorCode::InvalidTxnState => "INVALID_TXN_STATE",
            ErrorCode::InvalidProducerIdMapping => "INVALID_PRODUCER_ID_MAPPING",
            ErrorCode::InvalidTransactionTimeout => "INVALID_TRANSACTION_TIMEOUT",
            ErrorCode::ConcurrentTransactions => "CONCURRENT_TRANSACTIONS",
            ErrorCode::TransactionCoordinatorFenced => "TRANSACTION_COORDINATOR_FENCED",
            ErrorCode::UnknownProducerId => "UNKNOWN_PRODUCER_ID",
            ErrorCode::NonEmptyGroup => "NON_EMPTY_GROUP",
            ErrorCode::GroupIdNotFound => "GROUP_ID_NOT_FOUND",
            ErrorCode::MemberIdRequired => "MEMBER_ID_REQUIRED",
            ErrorCode::StaleBrokerEpoch => "STALE_BROKER_EPOCH",
            ErrorCode::FencedInstanceId => "FENCED_INSTANCE_ID",
            ErrorCode::InvalidRecord => "INVALID_RECORD",
            ErrorCode::UnstableOffsetCommit => "UNSTABLE_OFFSET_COMMIT",
            ErrorCode::ProducerFenced => "PRODUCER_FENCED",
            ErrorCode::FencedMemberEpoch => "FENCED_MEMBER_EPOCH",
            ErrorCode::UnsupportedAssignor => "UNSUPPORTED_ASSIGNOR",
            ErrorCode::StaleMemberEpoch => "STALE_MEMBER_EPOCH",
        }
    }

    /// Whether Kafka's client retries it (`RetriableException` subclasses).
    pub fn is_retriable(self) -> bool {
        matches!(
            self,
            ErrorCode::UnknownTopicOrPartition
                | ErrorCode::LeaderNotAvailable
                | ErrorCode::NotLeaderOrFollower
                | ErrorCode::RequestTimedOut
                | ErrorCode::NetworkException
                | ErrorCode::CoordinatorNotAvailable
                | ErrorCode::NotCoordinator
                | ErrorCode::NotEnoughReplicas
                | ErrorCode::NotEnoughReplicasAfterAppend
                | ErrorCode::ConcurrentTransactions
                | ErrorCode::UnstableOffsetCommit
        )
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
