//! The produce purgatory (Kafka's `DelayedProduce`): an `acks=all` Produce waits here until the
//! high watermark passes each of its batches.
//!
//! It is answered once every waiting partition is settled (`checkEnoughReplicasReachOffset`):
//! with no error when the high watermark reached the batch's end,
//! `NOT_ENOUGH_REPLICAS_AFTER_APPEND` if the ISR shrank under `min.insync.replicas` meanwhile,
//! `NOT_LEADER_OR_FOLLOWER` if the broker stopped leading, or `REQUEST_TIMED_OUT` after the
//! request's timeout.

use crate::effects::Effects;
use crate::protocol::ErrorCode;
use crate::protocol::Response;
use crate::protocol::produce::{PartitionProduceResponse, ProduceResponse};
use crate::units::{ClientId, Millis, Offset, PartitionId, SimTime, TopicName};

use super::{Broker, BrokerTimer, respond};

/// An `acks=all` Produce waiting for replication.
#[derive(Debug)]
pub(super) struct DelayedProduce {
    from: ClientId,
    correlation_id: u64,
    partitions: Vec<PartitionProduceResponse>,
    /// Response index and the offset the high watermark must reach.
    waiting: Vec<(usize, Offset)>,
}

impl DelayedProduce {
    pub(super) fn new(
        from: ClientId,
        correlation_id: u64,
        partitions: Vec<PartitionProduceResponse>,
        waiting: Vec<(usize, Offset)>,
    ) -> DelayedProduce {
        DelayedProduce {
            from,
            correlation_id,
            partitions,
            waiting,
        }
    }
}

/// Where a waiting partition stands.
enum Check {
    Done(ErrorCode),
    Wait,
}

impl Broker {
    /// Parks an `acks=all` produce unless it can be answered now.
    pub(super) fn delay_produce(
        &mut self,
        now: SimTime,
        mut op: DelayedProduce,
        timeout: Millis,
        out: &mut Effects<BrokerTimer>,
    ) {
        if self.settle(&mut op) {
            answer(op, out);
            return;
        }
        let id = self.next_fetch_id;
        self.next_fetch_id += 1;
        out.set_timer(BrokerTimer::ProduceExpiry(id), now + timeout);
        self.delayed_produces.insert(id, op);
    }

    /// Checks each waiting partition; true once none waits.
    fn settle(&self, op: &mut DelayedProduce) -> bool {
        let mut waiting = std::mem::take(&mut op.waiting);
        waiting.retain(|&(i, required)| {
            let p = &op.partitions[i];
            match self.check_replicated(&p.topic, p.partition, required) {
                Check::Wait => true,
                Check::Done(error) => {
                    let p = &mut op.partitions[i];
                    if error != ErrorCode::None {
                        p.error = error;
                        p.base_offset = None;
                    }
                    false
                }
            }
        });
        op.waiting = waiting;
        op.waiting.is_empty()
    }

    /// `Partition.checkEnoughReplicasReachOffset`.
    fn check_replicated(
        &self,
        topic: &TopicName,
        partition: PartitionId,
        required: Offset,
    ) -> Check {
        let Some((t, slot)) = self
            .topics
            .get(topic)
            .and_then(|t| Some((t, t.partitions.get(partition.0 as usize)?)))
        else {
            return Check::Done(ErrorCode::UnknownTopicOrPartition);
        };
        match slot.replica.as_ref().filter(|r| r.is_leader()) {
            None => Check::Done(ErrorCode::NotLeaderOrFollower),
            Some(r) if r.log().high_watermark() >= required => {
                let min = t.config.effective_min_isr(slot.state.replicas.len());
                if slot.state.isr.len() >= min {
                    Check::Done(ErrorCode::None)
                } else {
                    Check::Done(ErrorCode::NotEnoughReplicasAfterAppend)
                }
            }
            Some(_) => Check::Wait,
        }
    }

    pub(super) fn try_complete_delayed_produces(&mut self, out: &mut Effects<BrokerTimer>) {
        if self.delayed_produces.is_empty() {
            return;
        }
        let mut ops = std::mem::take(&mut self.delayed_produces);
        let done: Vec<u64> = ops
            .iter_mut()
            .filter_map(|(id, op)| self.settle(op).then_some(*id))
            .collect();
        for id in done {
            out.cancel_timer(BrokerTimer::ProduceExpiry(id));
            answer(ops.remove(&id).expect("listed"), out);
        }
        self.delayed_produces = ops;
    }

    /// The produce timeout ran out: what still waits is `REQUEST_TIMED_OUT`.
    pub(super) fn expire_delayed_produce(&mut self, id: u64, out: &mut Effects<BrokerTimer>) {
        let Some(mut op) = self.delayed_produces.remove(&id) else {
            return;
        };
        for &(i, _) in &op.waiting {
            op.partitions[i].error = ErrorCode::RequestTimedOut;
            op.partitions[i].base_offset = None;
        }
        op.waiting.clear();
        answer(op, out);
    }
}

fn answer(op: DelayedProduce, out: &mut Effects<BrokerTimer>) {
    let response = Response::Produce(ProduceResponse {
        partitions: op.partitions,
    });
    respond(out, op.from, op.correlation_id, response);
}
