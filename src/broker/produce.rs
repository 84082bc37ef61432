//! The Produce path of a partition leader, and `InitProducerId` for idempotent producers.
//!
//! Idempotent producers (KIP-98): `InitProducerId` hands out producer ids from a counter, and
//! every partition keeps a [`ProducerStateManager`] that the Produce path consults before
//! appending: a duplicate is answered with its original offsets and not appended; an
//! out-of-order or fenced batch is refused with its error code, as data.

use std::sync::Arc;

use crate::effects::Effects;
use crate::protocol::produce::{
    Acks, BatchIdempotence, InitProducerIdRequest, InitProducerIdResponse,
    PartitionProduceResponse, ProduceBatch, ProduceRequest, ProduceResponse,
};
use crate::protocol::replication::PartitionState;
use crate::protocol::{ErrorCode, Response};
use crate::record::{NewRecord, Record};
use crate::trace::{ProduceRefused, SegmentRolled, TraceBytes, TraceEvent, TraceSeq};
use crate::units::{
    BrokerId, ClientId, Offset, PartitionId, ProducerEpoch, ProducerId, Sequence, SimTime,
};

use super::config::TopicConfig;
use super::log::{AppendInfo, PartitionLog};
use super::producer_state::{AppendOrigin, DataBatch, ProducerStateManager};
use super::purgatory::DelayedProduce;
use super::{Broker, BrokerTimer, respond};

impl Broker {
    pub(super) fn handle_produce(
        &mut self,
        now: SimTime,
        from: ClientId,
        correlation_id: u64,
        req: ProduceRequest,
        out: &mut Effects<BrokerTimer>,
    ) {
        let mut partitions = Vec::with_capacity(req.batches.len());
        let mut waiting = Vec::new();
        // The request's envelope names its first batch's `BatchSent`; batch `i`'s is `i` later.
        let first_sent = out.cause_in();
        for (i, batch) in req.batches.into_iter().enumerate() {
            let sent = first_sent.map(|first| TraceSeq(first.0 + i as u64));
            let (response, required) = self.append_batch(now, from, batch, req.acks, sent, out);
            if let Some(required) = required {
                waiting.push((partitions.len(), required));
            }
            partitions.push(response);
        }
        self.wake_parked_fetches(now, out);
        match req.acks {
            Acks::None => {}
            Acks::Leader => respond(
                out,
                from,
                correlation_id,
                Response::Produce(ProduceResponse { partitions }),
            ),
            Acks::All => {
                let op = DelayedProduce::new(from, correlation_id, partitions, waiting);
                self.delay_produce(now, op, req.timeout, out);
            }
        }
    }

    /// `InitProducerId` for an idempotent (non-transactional) producer: a fresh id at epoch 0,
    /// or, when the producer names its current id and epoch (KIP-360), the same id one epoch up.
    pub(super) fn init_producer_id<K>(
        &mut self,
        from: ClientId,
        req: InitProducerIdRequest,
        out: &mut Effects<K>,
    ) -> InitProducerIdResponse {
        let (producer_id, epoch) = match req.current {
            Some((id, epoch)) => (id, ProducerEpoch(epoch.0.saturating_add(1))),
            None => {
                let id = ProducerId(self.next_producer_id);
                self.next_producer_id += 1;
                (id, ProducerEpoch(0))
            }
        };
        out.trace(TraceEvent::ProducerIdAllocated {
            producer: self.producer_names.get(&from.0).cloned(),
            producer_id: producer_id.0,
            producer_epoch: epoch.0,
        });
        InitProducerIdResponse {
            error: ErrorCode::None,
            producer_id,
            epoch,
        }
    }

    /// Appends one batch as the partition leader (`Partition.appendRecordsToLeader`, then
    /// `UnifiedLog.appendAsLeader`): not the leader is `NOT_LEADER_OR_FOLLOWER`; then the
    /// refusals of [`produce_refusal`], nothing written; then, for an idempotent producer, the
    /// duplicate check, the epoch and sequence checks ([`idempotence_verdict`]); then the append
    /// and the producer state update; then the high watermark moves if the ISR allows. Returns
    /// the response and, for a write that `acks=all` must wait for, the offset the high
    /// watermark must reach.
    /// `sent` is the producer's `BatchSent` of this attempt, which every event here follows from.
    pub(super) fn append_batch(
        &mut self,
        now: SimTime,
        from: ClientId,
        batch: ProduceBatch,
        acks: Acks,
        sent: Option<TraceSeq>,
        out: &mut Effects<BrokerTimer>,
    ) -> (PartitionProduceResponse, Option<Offset>) {
        let producer = self.producer_names.get(&from.0).cloned();
        let (topic_name, partition) = (batch.topic, batch.partition);
        let response = |error, base_offset| PartitionProduceResponse {
            topic: topic_name.clone(),
            partition,
            error,
            base_offset,
        };
        let index = partition.0 as usize;
        let Some(topic) = self
            .topics
            .get_mut(&topic_name)
            .filter(|t| index < t.partitions.len())
        else {
            return (response(ErrorCode::UnknownTopicOrPartition, None), None);
        };
        let config = &topic.config;
        let slot = &mut topic.partitions[index];
        let Some(replica) = slot.replica.as_mut().filter(|r| r.is_leader()) else {
            return (response(ErrorCode::NotLeaderOrFollower, None), None);
        };
        if let Some((error, reason)) = produce_refusal(&slot.state, config, &batch.records, acks) {
            let event = refused_event(topic_name.as_arc(), partition, producer, error, reason);
            out.trace_because(sent, event);
            return (response(error, None), None);
        }
        let count = batch.records.len() as u32;
        assert!(count > 0, "a producer never sends an empty batch");
        if let Some(idempotence) = batch.idempotence
            && let Some(verdict) = idempotence_verdict(
                &replica.producers,
                &idempotence,
                count,
                replica.log.log_end_offset(),
            )
        {
            let topic = topic_name.as_arc();
            let event = verdict_event(topic, partition, producer, &idempotence, count, verdict);
            out.trace_because(sent, event);
            let (error, base_offset, required) = verdict_answer(verdict, acks);
            return (response(error, base_offset), required);
        }
        let info = replica.append_as_leader(now, batch.records, batch.idempotence);
        let topic = topic_name.as_arc();
        let appended = Appended {
            topic,
            partition,
            count,
            producer,
            sent,
        };
        trace_append(out, &appended, &replica.log, &info);
        let fenced = self.cluster.as_ref().map_or(&[][..], |c| &c.fenced[..]);
        let lag_time_max = self.config.replica_lag_time_max;
        replica.maybe_increment_high_watermark(&slot.state, config, fenced, now, lag_time_max);
        let required = (acks == Acks::All).then(|| info.last_offset.next());
        (response(ErrorCode::None, Some(info.base_offset)), required)
    }
}

/// The answer to a batch the idempotence checks stopped: a duplicate is acknowledged with the
/// offsets it was written at (and waits for them to be replicated under `acks=all`).
fn verdict_answer(verdict: Verdict, acks: Acks) -> (ErrorCode, Option<Offset>, Option<Offset>) {
    match verdict {
        Verdict::Duplicate {
            base_offset,
            last_offset,
        } => {
            let required = (acks == Acks::All).then(|| last_offset.next());
            (ErrorCode::None, Some(base_offset), required)
        }
        Verdict::Rejected(error) => (error, None, None),
    }
}

/// Why a leader refuses a batch before looking at it further, with the reason traced: with
/// `acks=all`, an ISR smaller than `min.insync.replicas` is `NOT_ENOUGH_REPLICAS` (Kafka checks
/// before the append, so nothing is written); on a compacted topic (`cleanup.policy=compact`),
/// a record without a key is `INVALID_RECORD`.
fn produce_refusal(
    state: &PartitionState,
    config: &TopicConfig,
    records: &[NewRecord],
    acks: Acks,
) -> Option<(ErrorCode, String)> {
    let min_isr = config.effective_min_isr(state.replicas.len());
    if acks == Acks::All && state.isr.len() < min_isr {
        Some((
            ErrorCode::NotEnoughReplicas,
            format!(
                "the ISR [{}] is smaller than min.insync.replicas={}",
                ids(&state.isr),
                config.min_insync_replicas
            ),
        ))
    } else if config.cleanup_policy.compact && records.iter().any(|r| r.key.is_none()) {
        Some((
            ErrorCode::InvalidRecord,
            "compacted topic cannot accept message without key".to_string(),
        ))
    } else {
        None
    }
}

/// The `ProduceRefused` event for a batch refused before the append: nothing was written.
fn refused_event(
    topic: &Arc<str>,
    partition: PartitionId,
    producer: Option<Arc<str>>,
    error: ErrorCode,
    reason: String,
) -> TraceEvent {
    TraceEvent::ProduceRefused(ProduceRefused {
        topic: topic.clone(),
        partition: partition.0,
        producer,
        error: error.name().to_string(),
        reason,
    })
}

/// Traces an append: the segment it rolled, if any, then each record (`RecordAppended`) when the
/// trace wants records, or one `BatchAppended` otherwise. The batch's `count` records are the
/// last ones of `log`.
/// What [`trace_append`] writes about: `count` records of `producer` appended to `partition`,
/// following from its `BatchSent` `sent`.
struct Appended<'a> {
    topic: &'a Arc<str>,
    partition: PartitionId,
    count: u32,
    producer: Option<Arc<str>>,
    sent: Option<TraceSeq>,
}

fn trace_append(
    out: &mut Effects<BrokerTimer>,
    appended: &Appended<'_>,
    log: &PartitionLog,
    info: &AppendInfo,
) {
    let Appended {
        topic,
        partition,
        count,
        ref producer,
        sent,
    } = *appended;
    if let Some(rolled) = &info.rolled {
        out.trace_because(
            sent,
            TraceEvent::SegmentRolled(SegmentRolled {
                topic: topic.clone(),
                partition: partition.0,
                base_offset: rolled.base_offset.0,
                reason: rolled.reason.name().to_string(),
            }),
        );
    }
    if out.wants_records() {
        let all = log.records();
        for r in all.range(all.len() - count as usize..all.len()) {
            out.trace_because(sent, record_appended(topic, partition, r, producer.clone()));
        }
    } else {
        out.trace_because(
            sent,
            TraceEvent::BatchAppended {
                topic: topic.clone(),
                partition: partition.0,
                base_offset: info.base_offset.0,
                last_offset: info.last_offset.0,
                records: count,
                producer: producer.clone(),
            },
        );
    }
}

/// `1,2,3`.
fn ids(brokers: &[BrokerId]) -> String {
    brokers
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// Why an idempotent batch is not appended.
#[derive(Clone, Copy, Debug)]
enum Verdict {
    /// A retry of a retained batch: answer its original offsets.
    Duplicate {
        base_offset: Offset,
        last_offset: Offset,
    },
    /// Refused with this error.
    Rejected(ErrorCode),
}

/// The leader's decision for an idempotent batch of `count` records that would land at
/// `log_end`, or `None` to append it.
fn idempotence_verdict(
    states: &ProducerStateManager,
    idempotence: &BatchIdempotence,
    count: u32,
    log_end: Offset,
) -> Option<Verdict> {
    let last_seq = idempotence.base_sequence.plus(count - 1);
    if let Some(dup) = states.find_duplicate(
        idempotence.producer_id,
        idempotence.epoch,
        idempotence.base_sequence,
        last_seq,
    ) {
        return Some(Verdict::Duplicate {
            base_offset: dup.first_offset(),
            last_offset: dup.last_offset,
        });
    }
    let header = DataBatch {
        epoch: idempotence.epoch,
        first_seq: idempotence.base_sequence,
        last_seq,
        first_offset: log_end,
        last_offset: Offset(log_end.0 + u64::from(count) - 1),
        timestamp: SimTime::ZERO,
        transactional: idempotence.transactional,
    };
    states
        .check_data_batch(AppendOrigin::Client, idempotence.producer_id, &header)
        .err()
        .map(Verdict::Rejected)
}

fn verdict_event(
    topic: &Arc<str>,
    partition: PartitionId,
    producer: Option<Arc<str>>,
    idempotence: &BatchIdempotence,
    count: u32,
    verdict: Verdict,
) -> TraceEvent {
    let last: Sequence = idempotence.base_sequence.plus(count - 1);
    match verdict {
        Verdict::Duplicate {
            base_offset,
            last_offset,
        } => TraceEvent::DuplicateBatchIgnored {
            topic: topic.clone(),
            partition: partition.0,
            producer,
            producer_id: idempotence.producer_id.0,
            producer_epoch: idempotence.epoch.0,
            first_sequence: idempotence.base_sequence.0,
            last_sequence: last.0,
            base_offset: base_offset.0,
            last_offset: last_offset.0,
        },
        Verdict::Rejected(error) => TraceEvent::BatchRejected {
            topic: topic.clone(),
            partition: partition.0,
            producer,
            error: error.name().to_string(),
            producer_id: idempotence.producer_id.0,
            producer_epoch: idempotence.epoch.0,
            first_sequence: idempotence.base_sequence.0,
            last_sequence: last.0,
        },
    }
}

/// The `RecordAppended` event for a record just written.
pub fn record_appended(
    topic: &Arc<str>,
    partition: PartitionId,
    r: &Record,
    producer: Option<Arc<str>>,
) -> TraceEvent {
    TraceEvent::RecordAppended {
        topic: topic.clone(),
        partition: partition.0,
        offset: r.offset.0,
        key: r.key.as_ref().map(|k| TraceBytes::from_bytes(k.bytes())),
        value: r.value.as_ref().map(crate::trace::TraceBytes::from_value),
        producer,
        producer_id: r.stamp.map(|s| s.producer_id.0),
        producer_epoch: r.stamp.map(|s| s.epoch.0),
        sequence: r.stamp.map(|s| s.sequence.0),
    }
}
