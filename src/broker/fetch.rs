//! Fetch and ListOffsets at the partition leader, and the long poll of parked fetches.
//!
//! Fetches long-poll as in Kafka (`fetch.max.wait.ms`, `fetch.min.bytes`): a Fetch that finds
//! fewer than `min_bytes` is parked until enough data is appended or the wait expires
//! (`DelayedFetch`). A follower's fetch (`replica.fetch.wait.max.ms`) parks the same way.

use crate::effects::Effects;
use crate::protocol::fetch::{
    FetchRequest, FetchResponse, FetchedPartition, ListOffsetsRequest, ListOffsetsResponse,
    ListedOffset, OffsetSpec,
};
use crate::protocol::records::SharedRecords;
use crate::protocol::replication::ReplicaFetchRequest;
use crate::protocol::transaction::{AbortedTransaction, IsolationLevel};
use crate::protocol::{ErrorCode, Message, Response};
use crate::record::Record;
use crate::units::{BrokerId, ClientId, Millis, NodeId, Offset, PartitionId, SimTime, TopicName};

use super::log::PartitionLog;
use super::replica::Replica;
use super::transaction::TxnPartitionState;
use super::{Broker, BrokerTimer, respond};

/// A fetch waiting at the leader for data (Kafka's `DelayedFetch`), from a consumer or a
/// follower.
#[derive(Debug)]
pub(super) enum ParkedFetch {
    Consumer {
        from: ClientId,
        correlation_id: u64,
        request: FetchRequest,
    },
    Replica {
        from: BrokerId,
        correlation_id: u64,
        request: ReplicaFetchRequest,
    },
}

impl Broker {
    pub(super) fn handle_fetch(
        &mut self,
        now: SimTime,
        from: ClientId,
        correlation_id: u64,
        request: FetchRequest,
        out: &mut Effects<BrokerTimer>,
    ) {
        let (response, bytes) = self.read(&request);
        let has_error = response
            .partitions
            .iter()
            .any(|p| p.error != ErrorCode::None);
        if bytes >= request.min_bytes.max(1) || request.max_wait.0 == 0 || has_error {
            respond(out, from, correlation_id, Response::Fetch(response));
            return;
        }
        let max_wait = request.max_wait;
        let parked = ParkedFetch::Consumer {
            from,
            correlation_id,
            request,
        };
        self.park(now, parked, max_wait, out);
    }

    pub(super) fn park(
        &mut self,
        now: SimTime,
        parked: ParkedFetch,
        wait: Millis,
        out: &mut Effects<BrokerTimer>,
    ) {
        let id = self.next_fetch_id;
        self.next_fetch_id += 1;
        out.set_timer(BrokerTimer::FetchExpiry(id), now + wait);
        self.parked_fetches.insert(id, parked);
    }

    /// Answers parked fetches that can now be satisfied: enough bytes below the high watermark
    /// for a consumer, below the log end for a follower, or a partition they read has changed
    /// leader.
    pub(super) fn wake_parked_fetches(&mut self, now: SimTime, out: &mut Effects<BrokerTimer>) {
        if self.parked_fetches.is_empty() {
            return;
        }
        let ready: Vec<u64> = self
            .parked_fetches
            .iter()
            .filter(|(_, p)| match p {
                ParkedFetch::Consumer { request, .. } => {
                    self.available_bytes(request) >= request.min_bytes.max(1)
                        || request
                            .partitions
                            .iter()
                            .any(|p| self.leader_log(&p.topic, p.partition).is_err())
                }
                ParkedFetch::Replica { request, .. } => self.replica_fetch_ready(request),
            })
            .map(|(&id, _)| id)
            .collect();
        for id in ready {
            let parked = self.parked_fetches.remove(&id).expect("just listed");
            out.cancel_timer(BrokerTimer::FetchExpiry(id));
            self.answer_parked(now, parked, out);
        }
    }

    pub(super) fn answer_parked(
        &mut self,
        _now: SimTime,
        parked: ParkedFetch,
        out: &mut Effects<BrokerTimer>,
    ) {
        match parked {
            ParkedFetch::Consumer {
                from,
                correlation_id,
                request,
            } => {
                let response = self.read(&request).0;
                respond(out, from, correlation_id, Response::Fetch(response));
            }
            ParkedFetch::Replica {
                from,
                correlation_id,
                request,
            } => {
                let response = self.read_for_follower(&request).0;
                out.send(
                    NodeId::Broker(from),
                    Message::Response {
                        correlation_id,
                        response: Response::ReplicaFetch(response),
                    },
                );
            }
        }
    }

    pub(super) fn available_bytes(&self, request: &FetchRequest) -> u64 {
        request
            .partitions
            .iter()
            .filter_map(|p| {
                let log = self.leader_log(&p.topic, p.partition).ok()?;
                log.first_fetchable(p.fetch_offset).map(Record::size_bytes)
            })
            .sum()
    }

    /// The log of a partition this broker leads, or the error a client gets.
    pub(super) fn leader_log(
        &self,
        topic: &TopicName,
        partition: PartitionId,
    ) -> Result<&PartitionLog, ErrorCode> {
        self.leader_replica(topic, partition).map(Replica::log)
    }

    /// This broker's replica of a partition it leads.
    pub(super) fn leader_replica(
        &self,
        topic: &TopicName,
        partition: PartitionId,
    ) -> Result<&Replica, ErrorCode> {
        let slot = self
            .topics
            .get(topic)
            .and_then(|t| t.partitions.get(partition.0 as usize))
            .ok_or(ErrorCode::UnknownTopicOrPartition)?;
        match &slot.replica {
            Some(r) if r.is_leader() => Ok(r),
            _ => Err(ErrorCode::NotLeaderOrFollower),
        }
    }

    /// Reads every partition of a fetch within its byte budgets; returns the bytes read too.
    pub(super) fn read(&self, request: &FetchRequest) -> (FetchResponse, u64) {
        let mut budget = request.max_bytes;
        let mut total = 0;
        let mut partitions = Vec::with_capacity(request.partitions.len());
        for p in &request.partitions {
            let (log, txn) = match self.leader_replica(&p.topic, p.partition) {
                Ok(replica) => (replica.log(), replica.txn()),
                Err(error) => {
                    partitions.push(FetchedPartition {
                        topic: p.topic.clone(),
                        partition: p.partition,
                        error,
                        high_watermark: Offset(0),
                        log_start_offset: Offset(0),
                        records: SharedRecords::new(),
                        last_stable_offset: Offset(0),
                        aborted_transactions: Vec::new(),
                    });
                    continue;
                }
            };
            let limit = p.max_bytes.min(budget);
            let last_stable_offset = txn.last_stable_offset(log.high_watermark());
            let upper = match request.isolation_level {
                IsolationLevel::ReadCommitted => last_stable_offset,
                IsolationLevel::ReadUncommitted => log.high_watermark(),
            };
            let read = log.read_sized(p.fetch_offset, upper, usize::MAX, limit);
            let (error, records, bytes) = match read {
                // Once the response budget is spent, later partitions return nothing.
                Ok(_) if budget == 0 => (ErrorCode::None, SharedRecords::new(), 0),
                Ok((records, bytes)) => (ErrorCode::None, records, bytes),
                Err(_) => (ErrorCode::OffsetOutOfRange, SharedRecords::new(), 0),
            };
            budget = budget.saturating_sub(bytes);
            total += bytes;
            partitions.push(FetchedPartition {
                topic: p.topic.clone(),
                partition: p.partition,
                error,
                high_watermark: log.high_watermark(),
                log_start_offset: log.log_start_offset(),
                aborted_transactions: aborted(txn, request.isolation_level, p.fetch_offset, upper),
                records,
                last_stable_offset,
            });
        }
        (FetchResponse { partitions }, total)
    }

    /// `ListOffsets`, answered by the partition's leader only.
    pub(super) fn list_offsets(&self, req: &ListOffsetsRequest) -> ListOffsetsResponse {
        let partitions = req
            .partitions
            .iter()
            .map(|(topic, partition, spec)| {
                let offset = self.leader_log(topic, *partition).map(|log| match *spec {
                    OffsetSpec::Earliest => Some(ListedOffset::end(log.log_start_offset())),
                    OffsetSpec::Latest => Some(ListedOffset::end(log.high_watermark())),
                    OffsetSpec::Timestamp(at) => log.offset_for_timestamp(at),
                    OffsetSpec::MaxTimestamp => log.offset_of_max_timestamp(),
                });
                (topic.clone(), *partition, offset)
            })
            .collect();
        ListOffsetsResponse { partitions }
    }
}

/// The aborted transactions a fetch from `from` up to `upper` returns: those overlapping the
/// range for `read_committed` (`UnifiedLog.collectAbortedTransactions`), none otherwise (Kafka
/// sends `null`).
fn aborted(
    txn: &TxnPartitionState,
    isolation: IsolationLevel,
    from: Offset,
    upper: Offset,
) -> Vec<AbortedTransaction> {
    match isolation {
        IsolationLevel::ReadCommitted => txn.aborted_between(from, upper),
        IsolationLevel::ReadUncommitted => Vec::new(),
    }
}
