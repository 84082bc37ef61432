//! The transactional producer's client side (KIP-98; Kafka's `TransactionManager`, its `State`
//! table and error handling, transaction protocol v1): what `initTransactions()`,
//! `beginTransaction()`, `send()`, `sendOffsetsToTransaction()`, `commitTransaction()` and
//! `abortTransaction()` ask of the coordinator, and what each answer does to the producer.
//!
//! | from | call or answer | to |
//! |---|---|---|
//! | Uninitialized | `initTransactions()` (InitProducerId) | Initializing |
//! | Initializing | producer id and epoch granted | Ready |
//! | Ready | `beginTransaction()` (nothing sent) | InTransaction |
//! | InTransaction | `commitTransaction()` (EndTxn commit) | CommittingTransaction |
//! | InTransaction, AbortableError | `abortTransaction()` (EndTxn abort) | AbortingTransaction |
//! | CommittingTransaction, AbortingTransaction | EndTxn answered | Ready |
//! | AbortingTransaction | EndTxn answered, an epoch bump required | Initializing |
//! | InTransaction, CommittingTransaction | an abortable error | AbortableError |
//! | any | a fatal error | FatalError |
//!
//! Errors, as the Java client classifies them:
//!
//! - `CONCURRENT_TRANSACTIONS` (the previous transaction's markers are being written, or a
//!   fenced transaction is being aborted): retried;
//! - `PRODUCER_FENCED`, or `INVALID_PRODUCER_EPOCH` on a transactional request: fatal
//!   (`ProducerFencedException`): a newer instance has the `transactional.id`, or the
//!   coordinator aborted this one's transaction after `transaction.timeout.ms` and bumped the
//!   epoch. The producer can only be closed;
//! - `INVALID_PRODUCER_EPOCH` on a Produce, or any Produce error left after the sender's
//!   retries: abortable (KIP-588): `abortTransaction()` is the only way on (and an abort after a
//!   timeout is then refused as fenced);
//! - any other error of AddPartitionsToTxn, AddOffsetsToTxn or EndTxn (`INVALID_TXN_STATE`,
//!   ...): fatal, as the Java handlers treat them (the authorization errors they make abortable
//!   are not modelled).
//!
//! **KIP-360 on a transactional producer.** A failed batch leaves a gap in the partition's
//! sequences that only a new epoch closes, but the epoch of a transactional id belongs to its
//! coordinator: the producer may not bump it locally, as an idempotent producer does. The failure
//! makes the transaction abortable and marks an epoch bump as required (Java's
//! `epochBumpRequired`, set in `maybeTransitionToErrorState` and `maybeResolveSequences`); the
//! abort then sends EndTxn(ABORT) and, once it is answered, `InitProducerId` with the current
//! producer id and epoch ([`TransactionManager::bumping`]), from which the coordinator bumps
//! the epoch; the new epoch's sequences start at 0 (`beginCompletingTransaction`,
//! `InitProducerIdHandler` with `isEpochBump`).
//!
//! Java sends no EndTxn for a transaction that added no partition (`transactionStarted` false):
//! such a commit or abort completes locally. librdkafka follows the same protocol with more
//! states (`rd_kafka_txn_state_t`: `READY_NOT_ACKED`, `BEGIN_COMMIT`, `COMMIT_NOT_ACKED`, ...),
//! which a model at this level does not need.

use std::collections::BTreeSet;

use crate::protocol::ErrorCode;
use crate::protocol::transaction::TransactionResult;
use crate::units::{ProducerEpoch, ProducerId, TopicPartition};

/// The client's transaction state (Java `TransactionManager.State`, Kafka 3.x / 4.0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum TxnClientState {
    /// Created; `initTransactions()` not called.
    Uninitialized,
    /// InitProducerId sent.
    Initializing,
    /// A producer id and epoch; no transaction open.
    Ready,
    /// `beginTransaction()` called.
    InTransaction,
    /// EndTxn(commit) sent.
    CommittingTransaction,
    /// EndTxn(abort) sent.
    AbortingTransaction,
    /// A request of the transaction failed: only `abortTransaction()` is allowed.
    AbortableError,
    /// Fenced or broken: only `close()` is left.
    FatalError,
}

impl TxnClientState {
    /// Whether `self -> next` is allowed (`State.isTransitionValid`).
    pub fn can_transition_to(self, next: TxnClientState) -> bool {
        use TxnClientState::*;
        match next {
            Uninitialized => self == Ready,
            Initializing => matches!(self, Uninitialized | AbortingTransaction),
            Ready => matches!(
                self,
                Initializing | CommittingTransaction | AbortingTransaction
            ),
            InTransaction => self == Ready,
            CommittingTransaction => self == InTransaction,
            AbortingTransaction => matches!(self, InTransaction | AbortableError),
            AbortableError => {
                matches!(self, InTransaction | CommittingTransaction | AbortableError)
            }
            FatalError => true,
        }
    }
}

/// A request the transaction manager wants sent, to the transaction coordinator unless said.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TxnRequest {
    /// `InitProducerId` with the `transactional.id` and `transaction.timeout.ms`.
    InitProducerId,
    /// `AddPartitionsToTxn` before the first record to these partitions.
    AddPartitions(Vec<TopicPartition>),
    /// `AddOffsetsToTxn` for a group, then `TxnOffsetCommit` to its group coordinator.
    AddOffsets(String),
    /// `EndTxn`.
    EndTxn(TransactionResult),
}

/// A call the application may not make in the current state (Java's `KafkaException` /
/// `IllegalStateException`): a programming error, reported as data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{call} is not allowed in state {state:?}")]
pub struct TxnUsageError {
    /// The API called.
    pub call: &'static str,
    /// The state it was called in.
    pub state: TxnClientState,
}

/// The client-side transaction state of one producer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransactionManager {
    state: TxnClientState,
    producer: Option<(ProducerId, ProducerEpoch)>,
    partitions: BTreeSet<TopicPartition>,
    started: bool,
    last_error: Option<ErrorCode>,
    /// The abort must be followed by an InitProducerId that bumps the epoch (KIP-360).
    epoch_bump_required: bool,
}

impl Default for TransactionManager {
    fn default() -> TransactionManager {
        TransactionManager::new()
    }
}

impl TransactionManager {
    /// A producer before `initTransactions()`.
    pub fn new() -> TransactionManager {
        TransactionManager {
            state: TxnClientState::Uninitialized,
            producer: None,
            partitions: BTreeSet::new(),
            started: false,
            last_error: None,
            epoch_bump_required: false,
        }
    }

    /// The current state.
    pub fn state(&self) -> TxnClientState {
        self.state
    }

    /// The producer id and epoch, once granted.
    pub fn producer(&self) -> Option<(ProducerId, ProducerEpoch)> {
        self.producer
    }

    /// The error that put the producer in an error state.
    pub fn last_error(&self) -> Option<ErrorCode> {
        self.last_error
    }

    /// A failed batch left the partition's sequences with a gap: the abort to come bumps the
    /// epoch through the coordinator (Java's `epochBumpRequired`).
    pub fn require_epoch_bump(&mut self) {
        self.epoch_bump_required = true;
    }

    /// Whether the InitProducerId now due is the abort's epoch bump, sent with the current
    /// producer id and epoch, rather than `initTransactions()`'s first one.
    pub fn bumping(&self) -> bool {
        self.state == TxnClientState::Initializing && self.epoch_bump_required
    }

    /// `initTransactions()`.
    pub fn init_transactions(&mut self) -> Result<TxnRequest, TxnUsageError> {
        self.go("initTransactions", TxnClientState::Initializing)?;
        Ok(TxnRequest::InitProducerId)
    }

    /// `beginTransaction()`: local only; nothing is sent until the first record.
    pub fn begin_transaction(&mut self) -> Result<(), TxnUsageError> {
        self.go("beginTransaction", TxnClientState::InTransaction)?;
        self.partitions.clear();
        self.started = false;
        Ok(())
    }

    /// `send()` to `partition`: AddPartitionsToTxn first if the partition is new.
    pub fn send(
        &mut self,
        partition: &TopicPartition,
    ) -> Result<Option<TxnRequest>, TxnUsageError> {
        self.require("send", TxnClientState::InTransaction)?;
        if self.partitions.insert(partition.clone()) {
            self.started = true;
            return Ok(Some(TxnRequest::AddPartitions(vec![partition.clone()])));
        }
        Ok(None)
    }

    /// `sendOffsetsToTransaction()` for `group`.
    pub fn send_offsets(&mut self, group: &str) -> Result<TxnRequest, TxnUsageError> {
        self.require("sendOffsetsToTransaction", TxnClientState::InTransaction)?;
        self.started = true;
        Ok(TxnRequest::AddOffsets(group.to_string()))
    }

    /// `commitTransaction()`: EndTxn(commit), or nothing if the transaction wrote nothing.
    pub fn commit(&mut self) -> Result<Option<TxnRequest>, TxnUsageError> {
        self.go("commitTransaction", TxnClientState::CommittingTransaction)?;
        Ok(self.end(TransactionResult::Commit))
    }

    /// `abortTransaction()`: EndTxn(abort), or nothing if the transaction wrote nothing.
    pub fn abort(&mut self) -> Result<Option<TxnRequest>, TxnUsageError> {
        self.go("abortTransaction", TxnClientState::AbortingTransaction)?;
        Ok(self.end(TransactionResult::Abort))
    }

    /// The answer to an InitProducerId.
    pub fn on_init_producer_id(
        &mut self,
        result: Result<(ProducerId, ProducerEpoch), ErrorCode>,
    ) -> Option<TxnRequest> {
        match result {
            Ok(producer) => {
                self.producer = Some(producer);
                self.epoch_bump_required = false;
                self.last_error = None;
                self.move_to(TxnClientState::Ready);
                None
            }
            Err(e) if e.is_retriable() => Some(TxnRequest::InitProducerId),
            Err(e) => {
                self.fail(e, true);
                None
            }
        }
    }

    /// The answer to an AddPartitionsToTxn, AddOffsetsToTxn or EndTxn: the request to send
    /// next, the same one if it is retried, or the InitProducerId of the epoch bump after an
    /// abort that needs it.
    pub fn on_response(
        &mut self,
        request: &TxnRequest,
        result: Result<(), ErrorCode>,
    ) -> Option<TxnRequest> {
        let error = match result {
            Ok(()) => {
                if let TxnRequest::EndTxn(_) = request {
                    return self.complete();
                }
                return None;
            }
            Err(error) => error,
        };
        if error.is_retriable() {
            return Some(request.clone());
        }
        self.fail(error, true);
        None
    }

    /// A Produce of the transaction failed with `error` (after the sender's retries).
    pub fn on_produce_error(&mut self, error: ErrorCode) {
        self.fail(error, error == ErrorCode::ProducerFenced);
    }

    fn end(&mut self, result: TransactionResult) -> Option<TxnRequest> {
        if self.started {
            return Some(TxnRequest::EndTxn(result));
        }
        self.complete()
    }

    /// The transaction is over (`completeTransaction`): Ready, or Initializing for the epoch
    /// bump an abort after a failed batch needs.
    fn complete(&mut self) -> Option<TxnRequest> {
        if self.epoch_bump_required && self.state == TxnClientState::AbortingTransaction {
            self.move_to(TxnClientState::Initializing);
            return Some(TxnRequest::InitProducerId);
        }
        self.move_to(TxnClientState::Ready);
        None
    }

    fn fail(&mut self, error: ErrorCode, fatal: bool) {
        self.last_error = Some(error);
        let next = if fatal || !self.state.can_transition_to(TxnClientState::AbortableError) {
            TxnClientState::FatalError
        } else {
            TxnClientState::AbortableError
        };
        self.move_to(next);
    }

    fn require(&self, call: &'static str, state: TxnClientState) -> Result<(), TxnUsageError> {
        if self.state == state {
            Ok(())
        } else {
            Err(TxnUsageError {
                call,
                state: self.state,
            })
        }
    }

    fn go(&mut self, call: &'static str, next: TxnClientState) -> Result<(), TxnUsageError> {
        if !self.state.can_transition_to(next) || self.state == TxnClientState::FatalError {
            return Err(TxnUsageError {
                call,
                state: self.state,
            });
        }
        self.state = next;
        Ok(())
    }

    fn move_to(&mut self, next: TxnClientState) {
        assert!(
            self.state.can_transition_to(next),
            "transaction manager: {:?} -> {next:?} is not a valid transition",
            self.state
        );
        self.state = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::{PartitionId, TopicName};

    fn tp(p: u32) -> TopicPartition {
        TopicPartition::new(TopicName::new("orders").unwrap(), PartitionId(p))
    }

    fn ready() -> TransactionManager {
        let mut tm = TransactionManager::new();
        assert_eq!(tm.init_transactions(), Ok(TxnRequest::InitProducerId));
        let retry = tm.on_init_producer_id(Err(ErrorCode::ConcurrentTransactions));
        assert_eq!(retry, Some(TxnRequest::InitProducerId), "retried");
        tm.on_init_producer_id(Ok((ProducerId(1), ProducerEpoch(0))));
        assert_eq!(tm.state(), TxnClientState::Ready);
        tm
    }

    #[test]
    fn consume_transform_produce_loop() {
        let mut tm = ready();
        tm.begin_transaction().unwrap();
        let add = tm.send(&tp(0)).unwrap().expect("a new partition is added");
        assert_eq!(tm.send(&tp(0)), Ok(None), "added once per transaction");
        tm.on_response(&add, Ok(()));
        let offsets = tm.send_offsets("order-service-group").unwrap();
        tm.on_response(&offsets, Ok(()));
        let end = tm.commit().unwrap().expect("EndTxn");
        assert_eq!(end, TxnRequest::EndTxn(TransactionResult::Commit));
        assert_eq!(
            tm.on_response(&end, Err(ErrorCode::ConcurrentTransactions)),
            Some(end.clone())
        );
        tm.on_response(&end, Ok(()));
        assert_eq!(tm.state(), TxnClientState::Ready);
        tm.begin_transaction().unwrap();
        assert_eq!(
            tm.commit(),
            Ok(None),
            "an empty transaction sends no EndTxn"
        );
        assert_eq!(tm.state(), TxnClientState::Ready);
    }

    #[test]
    fn a_fenced_producer_can_only_close() {
        let mut tm = ready();
        tm.begin_transaction().unwrap();
        let add = tm.send(&tp(1)).unwrap().unwrap();
        tm.on_response(&add, Err(ErrorCode::ProducerFenced));
        assert_eq!(tm.state(), TxnClientState::FatalError);
        assert!(tm.abort().is_err());
        assert!(tm.begin_transaction().is_err());
        assert_eq!(tm.last_error(), Some(ErrorCode::ProducerFenced));
    }

    #[test]
    fn an_abort_after_a_sequence_gap_bumps_the_epoch_with_init_producer_id() {
        let mut tm = ready();
        tm.begin_transaction().unwrap();
        let add = tm.send(&tp(0)).unwrap().unwrap();
        tm.on_response(&add, Ok(()));
        tm.on_produce_error(ErrorCode::OutOfOrderSequenceNumber);
        tm.require_epoch_bump();
        let end = tm.abort().unwrap().unwrap();
        assert!(!tm.bumping(), "EndTxn goes first, with the current epoch");
        let next = tm.on_response(&end, Ok(()));
        assert_eq!(next, Some(TxnRequest::InitProducerId));
        assert_eq!(tm.state(), TxnClientState::Initializing);
        assert!(tm.bumping());
        tm.on_init_producer_id(Ok((ProducerId(1), ProducerEpoch(1))));
        assert_eq!(tm.state(), TxnClientState::Ready);
        assert!(!tm.bumping());
        assert_eq!(tm.last_error(), None);
        // The next abort after a plain failure needs no bump.
        tm.begin_transaction().unwrap();
        let add = tm.send(&tp(0)).unwrap().unwrap();
        tm.on_response(&add, Ok(()));
        tm.on_produce_error(ErrorCode::InvalidProducerEpoch);
        let end = tm.abort().unwrap().unwrap();
        assert_eq!(tm.on_response(&end, Ok(())), None);
        assert_eq!(tm.state(), TxnClientState::Ready);
    }

    #[test]
    fn a_failed_produce_must_be_aborted() {
        let mut tm = ready();
        tm.begin_transaction().unwrap();
        tm.send(&tp(0)).unwrap();
        tm.on_produce_error(ErrorCode::InvalidProducerEpoch);
        assert_eq!(tm.state(), TxnClientState::AbortableError);
        assert!(tm.commit().is_err(), "commit is refused");
        let end = tm.abort().unwrap().unwrap();
        // The coordinator aborted the timed-out transaction and bumped the epoch.
        tm.on_response(&end, Err(ErrorCode::ProducerFenced));
        assert_eq!(tm.state(), TxnClientState::FatalError);
    }
}
