//! One partition replica on a broker: its log, its producers' state, and its part in
//! replication (Kafka's `Partition` and `Replica`).
//!
//! As **leader**, a replica tracks each follower's position from the follower's fetches
//! (`Replica.updateFetchStateOrThrow`): its log end offset, and `lastCaughtUpTimeMs`, the last
//! time it had fetched up to the leader's log end as it stood at its previous fetch. From these:
//!
//! - the **high watermark** is the lowest log end offset among the ISR (and among followers
//!   caught up enough to join it), and does not move at all while the ISR is smaller than
//!   `min.insync.replicas` (KAFKA-15583, Kafka 3.7) (`maybeIncrementLeaderHW`);
//! - a follower **joins the ISR** once its log end reaches the high watermark and the current
//!   leader epoch's start (`isFollowerInSync`), and **leaves it** when it has not caught up for
//!   `replica.lag.time.max.ms` (`getOutOfSyncReplicas`). Either way the leader only asks the
//!   controller (`AlterPartition`); until the answer, the high watermark counts the larger of the
//!   two ISRs (the "maximal ISR" of KIP-497).
//!
//! As **follower**, a replica copies the leader's log through fetches (`broker/replication.rs`)
//! and takes `min(leader's high watermark, own log end)` as its high watermark.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::broker::config::TopicConfig;
use crate::broker::log::{AppendInfo, PartitionLog, RollConfig};
use crate::broker::producer_state::{AppendOrigin, DataBatch, ProducerStateManager};
use crate::broker::transaction::TxnPartitionState;
use crate::protocol::ErrorCode;
use crate::protocol::produce::BatchIdempotence;
use crate::protocol::records::SharedRecords;
use crate::protocol::replication::PartitionState;
use crate::protocol::transaction::TxnMarker;
use crate::record::{NewRecord, Record};
use crate::units::{BrokerId, LeaderEpoch, Millis, Offset, SimTime};

/// A hosted partition replica.
#[derive(Debug)]
pub struct Replica {
    /// The log.
    pub(super) log: PartitionLog,
    /// Idempotent producers' state (KIP-98), kept by followers too so that a new leader
    /// recognises retries.
    pub(super) producers: ProducerStateManager,
    /// Leader-only state; `None` on a follower.
    pub(super) leader: Option<LeaderState>,
    /// Open transactions, last stable offset and aborted index (KIP-98), followed from the
    /// appends on leaders and followers alike.
    pub(super) txn: TxnPartitionState,
}

/// What a leader knows of its followers and its pending ISR change.
#[derive(Debug)]
pub struct LeaderState {
    /// The epoch it leads in.
    pub(super) epoch: LeaderEpoch,
    /// Its log end when it became leader: a follower must reach it to join the ISR.
    pub(super) epoch_start: Offset,
    /// Each follower's progress.
    pub(super) followers: BTreeMap<BrokerId, FollowerProgress>,
    /// An `AlterPartition` in flight: the ISR asked for.
    pub(super) pending_isr: Option<Vec<BrokerId>>,
}

/// A follower's position as its leader sees it (Kafka's `ReplicaState`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FollowerProgress {
    /// The follower's log end offset, from its last fetch (`None` before its first).
    pub log_end: Option<Offset>,
    /// The leader's log end at the follower's previous fetch.
    pub last_fetch_leader_log_end: Offset,
    /// When the follower last fetched.
    pub last_fetch: SimTime,
    /// The last time it was caught up (`lastCaughtUpTimeMs`).
    pub last_caught_up: SimTime,
}

impl FollowerProgress {
    /// A new leader's view (`Replica.resetReplicaState`): an ISR member counts as caught up
    /// now, anyone else as never.
    fn reset(now: SimTime, in_isr: bool, leader_end: Offset) -> FollowerProgress {
        FollowerProgress {
            log_end: None,
            last_fetch_leader_log_end: leader_end,
            last_fetch: if in_isr { now } else { SimTime::ZERO },
            last_caught_up: if in_isr { now } else { SimTime::ZERO },
        }
    }

    /// `ReplicaState.isCaughtUp`: at the leader's log end, or caught up within `max_lag`.
    pub fn is_caught_up(&self, leader_end: Offset, now: SimTime, max_lag: Millis) -> bool {
        self.log_end == Some(leader_end) || now.saturating_since(self.last_caught_up) <= max_lag
    }
}

impl Replica {
    /// An empty replica whose log rolls by `config`, created at `now`.
    pub fn new(config: &TopicConfig, now: SimTime) -> Replica {
        let roll = RollConfig {
            segment_bytes: config.segment_bytes,
            segment_ms: config.segment_ms,
        };
        Replica {
            log: PartitionLog::with_roll(roll, now),
            producers: ProducerStateManager::new(),
            leader: None,
            txn: TxnPartitionState::new(),
        }
    }

    /// The log.
    pub fn log(&self) -> &PartitionLog {
        &self.log
    }

    /// The producers' state.
    pub fn producers(&self) -> &ProducerStateManager {
        &self.producers
    }

    /// True while this replica leads.
    pub fn is_leader(&self) -> bool {
        self.leader.is_some()
    }

    /// Becomes leader at `state.leader_epoch` (`Partition.makeLeader`): the epoch starts at the
    /// log end, and every follower's progress is reset.
    pub(super) fn become_leader(&mut self, me: BrokerId, state: &PartitionState, now: SimTime) {
        let start = self.log.log_end_offset();
        self.log.assign_epoch(state.leader_epoch, start);
        let followers = state
            .replicas
            .iter()
            .filter(|&&b| b != me)
            .map(|&b| {
                (
                    b,
                    FollowerProgress::reset(now, state.isr.contains(&b), start),
                )
            })
            .collect();
        self.leader = Some(LeaderState {
            epoch: state.leader_epoch,
            epoch_start: start,
            followers,
            pending_isr: None,
        });
    }

    /// The ISR the high watermark must wait for: the committed one, plus a member being added.
    fn maximal_isr<'a>(&'a self, isr: &'a [BrokerId]) -> &'a [BrokerId] {
        match self.leader.as_ref().and_then(|l| l.pending_isr.as_deref()) {
            Some(pending) if pending.len() > isr.len() => pending,
            _ => isr,
        }
    }

    /// `maybeIncrementLeaderHW`: moves the high watermark to the lowest log end among the
    /// (maximal) ISR and the followers caught up enough to join it; nothing while the ISR is
    /// under the effective `min.insync.replicas`. Returns true if it moved.
    pub(super) fn maybe_increment_high_watermark(
        &mut self,
        state: &PartitionState,
        config: &TopicConfig,
        fenced: &[BrokerId],
        now: SimTime,
        max_lag: Millis,
    ) -> bool {
        let Some(leader) = &self.leader else {
            return false;
        };
        if state.isr.len() < config.effective_min_isr(state.replicas.len()) {
            return false;
        }
        let end = self.log.log_end_offset();
        let isr = self.maximal_isr(&state.isr);
        let mut high_watermark = end;
        for (b, f) in &leader.followers {
            let follower_end = f.log_end.unwrap_or(Offset(0));
            let waits = isr.contains(b)
                || (f.is_caught_up(end, now, max_lag)
                    && !fenced.contains(b)
                    && f.log_end.is_some());
            if follower_end < high_watermark && waits {
                high_watermark = follower_end;
            }
        }
        let before = self.log.high_watermark();
        self.log.advance_high_watermark(high_watermark);
        self.txn.on_high_watermark(self.log.high_watermark());
        self.log.high_watermark() > before
    }

    /// Records a follower's fetch from `fetch_offset` (`updateFollowerFetchState`). Returns the
    /// ISR to propose if the follower should now join it.
    pub(super) fn follower_fetched(
        &mut self,
        follower: BrokerId,
        fetch_offset: Offset,
        now: SimTime,
        state: &PartitionState,
        fenced: &[BrokerId],
    ) -> Option<Vec<BrokerId>> {
        let end = self.log.log_end_offset();
        let high_watermark = self.log.high_watermark();
        let leader = self.leader.as_mut()?;
        let f = leader.followers.get_mut(&follower)?;
        f.last_caught_up = if fetch_offset >= end {
            f.last_caught_up.max(now)
        } else if fetch_offset >= f.last_fetch_leader_log_end {
            f.last_caught_up.max(f.last_fetch)
        } else {
            f.last_caught_up
        };
        f.last_fetch_leader_log_end = f.last_fetch_leader_log_end.max(end);
        f.last_fetch = now;
        f.log_end = Some(fetch_offset);
        // maybeExpandIsr: caught up to the high watermark and to this epoch's start.
        let joins = leader.pending_isr.is_none()
            && !state.isr.contains(&follower)
            && !fenced.contains(&follower)
            && fetch_offset >= high_watermark
            && fetch_offset >= leader.epoch_start;
        joins.then(|| {
            let mut isr = state.isr.clone();
            isr.push(follower);
            leader.pending_isr = Some(isr.clone());
            isr
        })
    }

    /// `maybeShrinkIsr`: the ISR without the followers that have not caught up for
    /// `max_lag`, with the reason, if any fell behind and no change is pending.
    pub(super) fn isr_to_shrink(
        &mut self,
        state: &PartitionState,
        now: SimTime,
        max_lag: Millis,
    ) -> Option<(Vec<BrokerId>, String)> {
        let end = self.log.log_end_offset();
        let leader = self.leader.as_mut()?;
        if leader.pending_isr.is_some() {
            return None;
        }
        let out: Vec<BrokerId> = state
            .isr
            .iter()
            .filter(|b| {
                leader
                    .followers
                    .get(b)
                    .is_some_and(|f| !f.is_caught_up(end, now, max_lag))
            })
            .copied()
            .collect();
        if out.is_empty() {
            return None;
        }
        let detail: Vec<String> = out
            .iter()
            .map(|b| {
                let f = &leader.followers[b];
                let end = f.log_end.map_or("unknown".to_string(), |o| o.to_string());
                format!(
                    "broker {b} at offset {end}, last caught up at {} ms",
                    f.last_caught_up.0
                )
            })
            .collect();
        let isr: Vec<BrokerId> = state
            .isr
            .iter()
            .filter(|b| !out.contains(b))
            .copied()
            .collect();
        leader.pending_isr = Some(isr.clone());
        let reason = format!(
            "replica.lag.time.max.ms={} exceeded by {}",
            max_lag.0,
            detail.join(", ")
        );
        Some((isr, reason))
    }

    /// Appends a producer's batch as leader and, for an idempotent producer, records it in the
    /// producers' state (`UnifiedLog.appendAsLeader`; the checks came first, in the Produce
    /// path).
    pub(super) fn append_as_leader(
        &mut self,
        now: SimTime,
        mut records: Arc<[NewRecord]>,
        idempotence: Option<BatchIdempotence>,
    ) -> AppendInfo {
        let count = records.len() as u32;
        let info = match Arc::get_mut(&mut records) {
            // The only reference: move the records into the log instead of copying them.
            Some(owned) => self
                .log
                .append(now, owned.iter_mut().map(std::mem::take), idempotence),
            None => self.log.append(now, records.iter().cloned(), idempotence),
        };
        if let Some(idempotence) = idempotence {
            let data = DataBatch {
                epoch: idempotence.epoch,
                first_seq: idempotence.base_sequence,
                last_seq: idempotence.base_sequence.plus(count - 1),
                first_offset: info.base_offset,
                last_offset: info.last_offset,
                timestamp: self.log.records().last().map_or(now, |r| r.timestamp),
                transactional: idempotence.transactional,
            };
            if idempotence.transactional {
                let producer = idempotence.producer_id;
                self.txn.on_transactional_append(producer, info.base_offset);
            }
            self.producers
                .append_data_batch(AppendOrigin::Client, idempotence.producer_id, &data)
                .expect("validated before the append");
        }
        info
    }

    /// Writes a transaction marker as the leader (`WriteTxnMarkers`,
    /// `ReplicaManager.appendRecords` with the coordinator origin): refused if the marker's
    /// producer or coordinator epoch is stale; otherwise a control record takes the next
    /// offset, the producer's transaction closes and, for an ABORT, the aborted index grows.
    /// Returns the marker's offset.
    pub(super) fn write_marker(
        &mut self,
        now: SimTime,
        marker: &TxnMarker,
    ) -> Result<Offset, ErrorCode> {
        let pid = marker.producer_id;
        let epochs = (marker.producer_epoch, marker.coordinator_epoch);
        self.producers
            .append_end_txn_marker(AppendOrigin::Coordinator, pid, epochs, now)?;
        let producer = (pid, marker.producer_epoch);
        let info = self.log.append_marker(now, producer, marker.result);
        self.txn.on_marker(pid, marker.result, info.base_offset);
        Ok(info.base_offset)
    }

    /// The transactional state (last stable offset, aborted index).
    pub fn txn(&self) -> &TxnPartitionState {
        &self.txn
    }

    /// Appends replicated records and keeps the producers' state in step (a follower's
    /// `appendAsFollower`).
    pub(super) fn append_replicated(
        &mut self,
        now: SimTime,
        records: &SharedRecords,
        epochs: &[(LeaderEpoch, Offset)],
    ) -> Vec<crate::broker::log::Rolled> {
        let rolls = self.log.append_replicated(now, records, epochs);
        record_producer_batches(&mut self.producers, &mut self.txn, records.iter());
        rolls
    }

    /// After a truncation, the producers' state is rebuilt from the log, as Kafka reloads it
    /// from its snapshots and the log.
    pub(super) fn rebuild_producers(&mut self) {
        let mut producers = ProducerStateManager::new();
        let mut txn = TxnPartitionState::new();
        record_producer_batches(&mut producers, &mut txn, self.log.records().iter());
        self.producers = producers;
        self.txn = txn;
    }
}

/// Feeds the producer batches found in `records` (split where a stamp ends its batch) to the
/// producers' state, as replicated appends, and the transactional batches and markers to the
/// partition's transactional state.
fn record_producer_batches<'a>(
    producers: &mut ProducerStateManager,
    txn: &mut TxnPartitionState,
    records: impl Iterator<Item = &'a Record>,
) {
    let mut start: Option<&Record> = None;
    let mut records = records.peekable();
    while let Some(r) = records.next() {
        let Some(stamp) = r.stamp else {
            start = None;
            continue;
        };
        if let Some(result) = stamp.control() {
            let epochs = (stamp.epoch, 0);
            let pid = stamp.producer_id;
            let _ = producers.append_end_txn_marker(
                AppendOrigin::Replication,
                pid,
                epochs,
                r.timestamp,
            );
            txn.on_marker(pid, result, r.offset);
            start = None;
            continue;
        }
        let head = *start.get_or_insert(r);
        let next_differs = records
            .peek()
            .and_then(|n| n.stamp)
            .is_none_or(|n| n.producer_id != stamp.producer_id || n.epoch != stamp.epoch);
        if !(stamp.last_in_batch || next_differs) {
            continue;
        }
        let head_stamp = head.stamp.expect("stamped");
        let batch = DataBatch {
            epoch: stamp.epoch,
            first_seq: head_stamp.sequence,
            last_seq: stamp.sequence,
            first_offset: head.offset,
            last_offset: r.offset,
            timestamp: r.timestamp,
            transactional: stamp.transactional(),
        };
        if stamp.transactional() {
            txn.on_transactional_append(stamp.producer_id, head.offset);
        }
        // Replicated appends are not validated; an error here would be the leader's bug.
        let _ = producers.append_data_batch(AppendOrigin::Replication, stamp.producer_id, &batch);
        start = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::transaction::TransactionResult;
    use crate::units::{ProducerEpoch, ProducerId, Sequence, TopicName, TopicPartition};

    fn txn_batch(replica: &mut Replica, pid: i64, seq: i32, count: usize) {
        let records: Arc<[NewRecord]> = (0..count).map(|_| NewRecord::default()).collect();
        let idempotence = BatchIdempotence {
            producer_id: ProducerId(pid),
            epoch: ProducerEpoch(0),
            base_sequence: Sequence(seq),
            transactional: true,
        };
        replica.append_as_leader(SimTime(0), records, Some(idempotence));
    }

    fn marker(pid: i64, result: TransactionResult) -> TxnMarker {
        TxnMarker {
            partition: TopicPartition::new(
                TopicName::new("t").unwrap(),
                crate::units::PartitionId(0),
            ),
            producer_id: ProducerId(pid),
            producer_epoch: ProducerEpoch(0),
            coordinator_epoch: 0,
            result,
        }
    }

    /// A follower rebuilds the leader's transactional state from the replicated records (the
    /// stamps say which batches are transactional and which records are markers), and so does a
    /// replica rebuilding after a truncation.
    #[test]
    fn followers_and_rebuilds_keep_the_aborted_index_and_open_transactions() {
        let config = TopicConfig::default();
        let mut leader = Replica::new(&config, SimTime(0));
        txn_batch(&mut leader, 7, 0, 2);
        let at = leader.write_marker(SimTime(1), &marker(7, TransactionResult::Abort));
        assert_eq!(at, Ok(Offset(2)));
        txn_batch(&mut leader, 7, 2, 1);
        let mut follower = Replica::new(&config, SimTime(0));
        let epochs = leader.log.epochs().to_vec();
        let fetched = SharedRecords::from_vec(leader.log.records().to_vec());
        follower.append_replicated(SimTime(2), &fetched, &epochs);
        assert_eq!(follower.txn.aborted(), leader.txn.aborted());
        assert_eq!(follower.txn.first_undecided_offset(), Some(Offset(3)));
        follower.rebuild_producers();
        assert_eq!(follower.txn.aborted(), leader.txn.aborted());
        assert!(follower.txn.is_open(ProducerId(7)));
        // A marker with a stale epoch is refused, and takes no offset.
        leader
            .write_marker(
                SimTime(3),
                &TxnMarker {
                    producer_epoch: ProducerEpoch(1),
                    ..marker(7, TransactionResult::Commit)
                },
            )
            .unwrap();
        let stale = leader.write_marker(SimTime(4), &marker(7, TransactionResult::Abort));
        assert_eq!(stale, Err(ErrorCode::InvalidProducerEpoch));
        assert_eq!(leader.log.log_end_offset(), Offset(5));
    }
}
