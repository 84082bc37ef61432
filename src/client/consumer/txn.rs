//! A consumer whose offsets go into its process's transactions: the consume-transform-produce
//! loop of KIP-98 and KIP-447 (`poll()`, `beginTransaction()`, `send()` per output,
//! `sendOffsetsToTransaction(offsets, consumer.groupMetadata())`, `commitTransaction()`).
//!
//! Such a consumer never commits by itself (`enable.auto.commit=false`, as the loop requires).
//! When its application has processed a batch, it hands the batch's offsets (the next offset
//! to read per partition) with its member id and generation to its process's producer
//! ([`ConsumerOutput::CommitTransaction`]) and waits, as `commitTransaction()` blocks, until
//! the producer reports the transaction's end ([`ConsumerInput::TransactionEnded`]): then it
//! polls again. After an abort, the application rewinds each partition to its last committed
//! offset (the `resetToLastCommittedPositions` of Kafka's examples) so that the aborted input is
//! processed again; a fatal producer (fenced) ends the process, which closes its consumer.

use std::mem;

use crate::client::producer::TxnOutcome;
use crate::effects::Effects;
use crate::protocol::consumer_group::OffsetCommitRequest;
use crate::units::{Offset, TopicPartition};

use super::app::Batch;
use super::{Activity, Consumer, ConsumerOutput, ConsumerTimer, Position};

impl Consumer {
    /// Its process commits its offsets in transactions: no auto-commit, and each batch ends
    /// with a [`ConsumerOutput::CommitTransaction`].
    pub fn commit_in_transactions(&mut self) {
        self.transactional = true;
        self.config.enable_auto_commit = false;
    }

    /// True if its offsets go into transactions.
    pub fn commits_in_transactions(&self) -> bool {
        self.transactional
    }

    /// The batch is processed: hand its offsets to the transaction and wait for its end.
    pub(super) fn commit_batch_in_transaction(
        &mut self,
        batch: &Batch,
        out: &mut Effects<ConsumerTimer, ConsumerOutput>,
    ) {
        let offsets: Vec<(TopicPartition, Offset)> = batch
            .records
            .runs_upto(batch.records.len())
            .map(|(tp, _, last)| (tp.clone(), last.offset.next()))
            .collect();
        let request = OffsetCommitRequest {
            group_id: self.group(),
            generation: self.member.generation,
            member_id: self.member.member_id.clone(),
            group_instance_id: self.config.group_instance_id.clone(),
            offsets,
        };
        self.activity = Activity::Committing(None);
        out.output(ConsumerOutput::CommitTransaction(request));
    }

    /// `commitTransaction()` (or the abort) returned.
    pub(super) fn transaction_ended(&mut self, outcome: TxnOutcome) {
        if matches!(self.activity, Activity::Committing(None)) {
            self.activity = Activity::Polling;
        }
        if outcome != TxnOutcome::Aborted {
            return;
        }
        // Back to the committed offsets: the aborted input is read again. A new epoch drops
        // the answers to fetches already in flight.
        for state in self.partitions.values_mut() {
            state.position = Position::Unknown;
            state.epoch = self.next_epoch;
            self.next_epoch += 1;
            drop(mem::take(&mut state.buffered));
        }
    }
}
