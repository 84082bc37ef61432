//! The transactional producer's requests in a run (KIP-98, KIP-447; Kafka's `TransactionManager`
//! driven by the `Sender`, in the order the Java client sends them).
//!
//! 1. **`initTransactions()`**: `FindCoordinator` with the `transactional.id` as key (any broker
//!    answers with the id's transaction coordinator), then `InitProducerId` with the id and
//!    `transaction.timeout.ms` to that coordinator. The coordinator bumps the id's epoch, which
//!    fences an older instance, and aborts that instance's open transaction first (the answer
//!    is `CONCURRENT_TRANSACTIONS` while its markers are written: retried after
//!    `retry.backoff.ms`). The application sends nothing before the answer (`initTransactions()`
//!    blocks).
//! 2. **`beginTransaction()`** at the first `send()` after the previous transaction ended.
//! 3. **`AddPartitionsToTxn`** before the first batch to a partition new to the transaction: the
//!    partition's batches wait in the accumulator until the coordinator has answered
//!    (`TransactionManager.isSendToPartitionAllowed`).
//! 4. **`commitTransaction()`** ([`ProducerInput::CommitTransaction`]) flushes (no more
//!    `linger.ms`), waits for every batch of the transaction, then, for a consume-transform-
//!    produce loop, `sendOffsetsToTransaction()`: `AddOffsetsToTxn` to the transaction
//!    coordinator, `FindCoordinator` for the group, `TxnOffsetCommit` with the consumer's member
//!    id and generation (KIP-447) to the group coordinator; then `EndTxn(COMMIT)`.
//! 5. A batch that failed, or a `TxnOffsetCommit` refused for its generation, makes the
//!    transaction abortable: the application aborts (`EndTxn(ABORT)`) instead of committing.
//!    A failed batch may leave a gap in its partition's sequences: the abort then ends with
//!    `InitProducerId` carrying the current producer id and epoch, and the coordinator's bump
//!    restarts the sequences at 0 (KIP-360; the idempotent producer's local bump never applies
//!    to a transactional one, `idempotence.rs`, `transaction_manager.rs`).
//!    A fenced producer (`PRODUCER_FENCED`, or a stale epoch after the coordinator aborted a
//!    transaction older than `transaction.timeout.ms`) is fatal: it only closes.
//!
//! Each transaction's end is handed to the producer's process as a
//! [`ProducerOutput::TransactionEnded`], which is how the consumer of a service learns that it
//! may poll again. One transactional request is in flight at a time, as in the Java client.

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::client::producer::batch::TopicPartitionIndex;
use crate::client::producer::idempotence::Idempotence;
use crate::client::producer::sender::ConnState;
use crate::client::producer::transaction_manager::{
    TransactionManager, TxnClientState, TxnRequest,
};
use crate::client::producer::{Producer, ProducerEffects, ProducerOutput, ProducerTimer};
use crate::protocol::consumer_group::{
    CoordinatorType, FindCoordinatorRequest, GroupRequest, GroupResponse, OffsetCommitRequest,
    TxnOffsetCommitRequest,
};
use crate::protocol::produce::{InitProducerIdRequest, InitProducerIdResponse};
use crate::protocol::transaction::{TransactionResult, TxnCoordinatorRequest, TxnProducer};
use crate::protocol::{ErrorCode, Message, Request, Response};
use crate::trace::{TraceEvent, TxnCoordinatorFound};
use crate::units::{BrokerId, Millis, NodeId, ProducerEpoch, ProducerId, SimTime, TopicPartition};

/// How a transaction ended, as the application learns it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TxnOutcome {
    /// `commitTransaction()` returned: the records and offsets are committed.
    Committed,
    /// The transaction was aborted after an abortable error (a failed batch, a refused
    /// `TxnOffsetCommit`): nothing of it is visible to `read_committed` readers.
    Aborted,
    /// The producer is fenced or broken (`ProducerFencedException`): it can only close.
    Fatal,
}

/// One transactional request in flight.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Call {
    FindCoordinator,
    InitProducerId,
    AddPartitions(Vec<TopicPartitionIndex>),
    AddOffsets,
    FindGroupCoordinator,
    TxnOffsetCommit,
    EndTxn(TransactionResult),
}

/// Where `commitTransaction()` is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    /// Waiting for the transaction's batches.
    Flush,
    /// `sendOffsetsToTransaction()`: AddOffsetsToTxn.
    AddOffsets,
    /// Its group coordinator, then TxnOffsetCommit.
    CommitOffsets,
    /// EndTxn.
    End,
}

/// `commitTransaction()` asked for.
#[derive(Clone, Debug)]
struct Commit {
    offsets: Option<OffsetCommitRequest>,
    step: Step,
    /// Sends the application made before it called `commitTransaction()`, still queued.
    sends_before: usize,
}

/// The transactional producer's state beside the idempotent sender's.
#[derive(Debug)]
pub(crate) struct TxnDriver {
    id: Arc<str>,
    timeout: Millis,
    manager: TransactionManager,
    coordinator: Option<BrokerId>,
    /// The coordinator last lost, until FindCoordinator names one again.
    lost_coordinator: Option<BrokerId>,
    group_coordinator: Option<BrokerId>,
    in_flight: Option<(u64, BrokerId, Call)>,
    /// A request waiting for its connection to be ready.
    parked: Option<Call>,
    /// Fatal was reported to the application.
    fatal_reported: bool,
    /// A retried request, not before `retry_at`.
    retry: Option<Call>,
    retry_at: SimTime,
    /// Partitions of the open transaction not yet sent in an AddPartitionsToTxn.
    unadded: BTreeSet<TopicPartitionIndex>,
    commit: Option<Commit>,
    /// The first failed batch's error in the open transaction.
    failed: Option<ErrorCode>,
}

impl TxnDriver {
    /// The driver of a producer with `transactional.id` `id`.
    pub(crate) fn new(id: &str, timeout: Millis) -> TxnDriver {
        TxnDriver {
            id: Arc::from(id),
            timeout,
            manager: TransactionManager::new(),
            coordinator: None,
            lost_coordinator: None,
            group_coordinator: None,
            in_flight: None,
            parked: None,
            fatal_reported: false,
            retry: None,
            retry_at: SimTime::ZERO,
            unadded: BTreeSet::new(),
            commit: None,
            failed: None,
        }
    }

    /// The client-side transaction state.
    pub(crate) fn state(&self) -> TxnClientState {
        self.manager.state()
    }

    /// What to do next, given whether every record handed to the producer has its report.
    fn next_action(&mut self, now: SimTime, delivered: bool) -> Action {
        if self.in_flight.is_some() || self.manager.state() == TxnClientState::FatalError {
            return Action::Wait;
        }
        if let Some(call) = self.parked.take() {
            return Action::Send(call);
        }
        if self.retry.is_some() && now < self.retry_at {
            return Action::Timer(self.retry_at);
        }
        if self.coordinator.is_none() {
            if self.retry == Some(Call::FindCoordinator) {
                self.retry = None;
            }
            return Action::Send(Call::FindCoordinator);
        }
        if let Some(call) = self.retry.take() {
            return Action::Send(call);
        }
        match self.manager.state() {
            TxnClientState::Uninitialized => {
                self.manager.init_transactions().expect("uninitialized");
                return Action::Send(Call::InitProducerId);
            }
            TxnClientState::Initializing | TxnClientState::Ready => return Action::Wait,
            _ => {}
        }
        if !self.unadded.is_empty() {
            let partitions = std::mem::take(&mut self.unadded).into_iter().collect();
            return Action::Send(Call::AddPartitions(partitions));
        }
        let Some(commit) = self.commit.as_mut() else {
            return Action::Wait;
        };
        if commit.sends_before > 0 || !delivered {
            return Action::Wait;
        }
        if let (TxnClientState::InTransaction, Some(error)) = (self.manager.state(), self.failed) {
            self.manager.on_produce_error(error);
            if self.manager.state() == TxnClientState::FatalError {
                return Action::Ended(TxnOutcome::Fatal);
            }
        }
        if self.manager.state() == TxnClientState::AbortableError {
            return match self.manager.abort().expect("abortable") {
                Some(TxnRequest::InitProducerId) => Action::Send(Call::InitProducerId),
                Some(_) => Action::Send(Call::EndTxn(TransactionResult::Abort)),
                None => Action::Ended(TxnOutcome::Aborted),
            };
        }
        match (commit.step, &commit.offsets) {
            (Step::Flush, Some(offsets)) => {
                let group = offsets.group_id.clone();
                commit.step = Step::AddOffsets;
                self.manager.send_offsets(&group).expect("in a transaction");
                Action::Send(Call::AddOffsets)
            }
            (Step::Flush, None) | (Step::End, _) => {
                match self.manager.commit().expect("in a transaction") {
                    Some(_) => Action::Send(Call::EndTxn(TransactionResult::Commit)),
                    None => Action::Ended(TxnOutcome::Committed),
                }
            }
            (Step::CommitOffsets, _) => match self.group_coordinator {
                None => Action::Send(Call::FindGroupCoordinator),
                Some(_) => Action::Send(Call::TxnOffsetCommit),
            },
            (Step::AddOffsets, _) => Action::Wait,
        }
    }

    fn set_step(&mut self, step: Step) {
        if let Some(commit) = self.commit.as_mut() {
            commit.step = step;
        }
    }

    /// The broker `call` goes to: FindCoordinator to the bootstrap broker, TxnOffsetCommit to
    /// the group coordinator, the rest to the transaction coordinator (`None`: not found yet).
    fn broker_for(&self, call: &Call, init_broker: BrokerId) -> Option<BrokerId> {
        match call {
            Call::FindCoordinator | Call::FindGroupCoordinator => Some(init_broker),
            Call::TxnOffsetCommit => self.group_coordinator,
            _ => self.coordinator,
        }
    }

    /// The coordinator is lost (moved, or its connection closed): FindCoordinator comes first.
    fn lose_coordinator(&mut self) {
        if let Some(lost) = self.coordinator.take() {
            self.lost_coordinator = Some(lost);
        }
    }

    /// FindCoordinator named `node`; a coordinator other than the one lost is traced.
    fn found_coordinator(&mut self, node: BrokerId, out: &mut ProducerEffects) {
        if let Some(previous) = self.lost_coordinator.take().filter(|&p| p != node) {
            out.trace(TraceEvent::TxnCoordinatorFound(TxnCoordinatorFound {
                transactional_id: self.id.clone(),
                previous: previous.0,
                broker: node.0,
            }));
        }
        self.coordinator = Some(node);
    }

    /// `NOT_COORDINATOR`: the coordinator moved; find it again before the retry.
    fn note_moved_coordinator(&mut self, response: &Response) {
        if matches!(response, Response::Txn(r) if r.error == ErrorCode::NotCoordinator) {
            self.lose_coordinator();
        }
    }

    /// The coordinator's answer to InitProducerId: the id and epoch once granted, and whether it
    /// was the epoch bump that ends an abort.
    fn on_init_producer_id(
        &mut self,
        r: &InitProducerIdResponse,
        retry_at: SimTime,
    ) -> Option<((ProducerId, ProducerEpoch), bool)> {
        let bump = self.manager.bumping();
        let result = match r.error {
            ErrorCode::None => Ok((r.producer_id, r.epoch)),
            error => Err(error),
        };
        if r.error == ErrorCode::NotCoordinator {
            self.lose_coordinator();
        }
        if self.manager.on_init_producer_id(result).is_some() {
            self.retry = Some(Call::InitProducerId);
            self.retry_at = retry_at;
            return None;
        }
        if self.manager.state() != TxnClientState::Ready {
            return None;
        }
        self.manager.producer().map(|granted| (granted, bump))
    }

    /// The coordinator's answer to EndTxn: how the transaction ended, unless retried.
    fn on_end_txn(
        &mut self,
        result: TransactionResult,
        error: ErrorCode,
        retry_at: SimTime,
    ) -> Option<TxnOutcome> {
        let request = TxnRequest::EndTxn(result);
        match self.manager.on_response(&request, ok_or(error)) {
            // The abort's epoch bump (KIP-360), at once: the transaction ends with its answer.
            Some(TxnRequest::InitProducerId) => {
                self.retry = Some(Call::InitProducerId);
                self.retry_at = SimTime::ZERO;
                return None;
            }
            Some(_) => {
                self.retry = Some(Call::EndTxn(result));
                self.retry_at = retry_at;
                return None;
            }
            None => {}
        }
        (self.manager.state() == TxnClientState::Ready).then_some(match result {
            TransactionResult::Commit => TxnOutcome::Committed,
            TransactionResult::Abort => TxnOutcome::Aborted,
        })
    }

    /// The group coordinator's answer to TxnOffsetCommit (its partitions' errors): its first
    /// error counts.
    fn on_txn_offset_commit(
        &mut self,
        mut errors: impl Iterator<Item = ErrorCode>,
        retry_at: SimTime,
    ) {
        match errors.find(|e| *e != ErrorCode::None) {
            None => self.set_step(Step::End),
            Some(error) if error.is_retriable() => {
                self.group_coordinator = None;
                self.retry = Some(Call::FindGroupCoordinator);
                self.retry_at = retry_at;
            }
            // KIP-447: a member fenced by its generation cannot commit (Java's
            // `CommitFailedException`, abortable).
            Some(error) => self.manager.on_produce_error(error),
        }
    }
}

/// What the driver does next.
enum Action {
    Wait,
    Timer(SimTime),
    Send(Call),
    Ended(TxnOutcome),
}

impl Producer {
    /// Whether the application may hand the producer a record now: not before
    /// `initTransactions()` returned, not during `commitTransaction()` (except the sends it made
    /// before calling it), never once fatal.
    pub(super) fn txn_allows_send(&self) -> bool {
        let Some(txn) = self.txn.as_deref() else {
            return true;
        };
        let open = matches!(
            txn.state(),
            TxnClientState::Ready | TxnClientState::InTransaction
        );
        open && txn.commit.as_ref().is_none_or(|c| c.sends_before > 0)
    }

    /// A queued send goes to the accumulator: one fewer before a requested commit.
    pub(super) fn txn_took_send(&mut self) {
        if let Some(commit) = self.txn.as_deref_mut().and_then(|t| t.commit.as_mut()) {
            commit.sends_before = commit.sends_before.saturating_sub(1);
        }
    }

    /// `send()` inside the transaction: `beginTransaction()` first if none is open; a partition
    /// new to the transaction is held until added.
    pub(super) fn txn_appended(&mut self, tp: TopicPartitionIndex) {
        // Without a transaction there is nothing to do: return before naming the partition
        // (a shared name's count touched twice per record sent).
        let Some(txn) = self.txn.as_deref_mut() else {
            return;
        };
        let name = TopicPartition::new(self.acc.topic(tp.topic).topic.clone(), tp.partition);
        if txn.manager.state() == TxnClientState::Ready {
            txn.manager.begin_transaction().expect("Ready begins");
            txn.failed = None;
        }
        if let Ok(Some(_)) = txn.manager.send(&name) {
            txn.unadded.insert(tp);
            self.acc.set_held(tp, true);
        }
    }

    /// A batch of the transaction failed (after the sender's retries): the transaction must be
    /// aborted.
    pub(super) fn txn_batch_failed(&mut self, error: &str) {
        if let Some(txn) = self.txn.as_deref_mut() {
            let code = if error == ErrorCode::ProducerFenced.name() {
                ErrorCode::ProducerFenced
            } else {
                // Any other failure is abortable; the code stands for it in the manager.
                ErrorCode::InvalidProducerEpoch
            };
            txn.failed.get_or_insert(code);
            // Java's `maybeTransitionToErrorState`: a failure before `commitTransaction()`
            // (not while completing) requires the abort to bump the epoch.
            if code != ErrorCode::ProducerFenced && txn.commit.is_none() {
                txn.manager.require_epoch_bump();
            }
        }
    }

    /// `sendOffsetsToTransaction(offsets)` if given, then `commitTransaction()`; a fatal
    /// producer refuses at once (the call throws `ProducerFencedException` again).
    pub(super) fn txn_commit_requested(
        &mut self,
        offsets: Option<OffsetCommitRequest>,
        out: &mut ProducerEffects,
    ) {
        let sends_before = self.queue.len();
        let Some(txn) = self.txn.as_deref_mut() else {
            return;
        };
        if txn.manager.state() == TxnClientState::FatalError {
            out.output(ProducerOutput::TransactionEnded(TxnOutcome::Fatal));
            return;
        }
        txn.commit = Some(Commit {
            offsets,
            step: Step::Flush,
            sends_before,
        });
    }

    /// The accumulator sends without waiting for `linger.ms`: closing, or committing.
    pub(super) fn flushing(&self) -> bool {
        self.closing
            || self
                .txn
                .as_deref()
                .is_some_and(|t| t.commit.as_ref().is_some_and(|c| c.step == Step::Flush))
    }

    /// The transactional requests due now, one at a time.
    pub(super) fn run_txn(&mut self, now: SimTime, out: &mut ProducerEffects) {
        let delivered = self.stats.sent == self.stats.acked + self.stats.failed;
        let Some(txn) = self.txn.as_deref_mut() else {
            return;
        };
        if self
            .idempotence
            .as_mut()
            .is_some_and(|i| i.take_abort_bump())
        {
            txn.manager.require_epoch_bump();
        }
        match txn.next_action(now, delivered) {
            Action::Wait => {}
            Action::Timer(at) => out.set_timer(ProducerTimer::Transaction, at),
            Action::Send(call) => self.send_txn(now, call, out),
            Action::Ended(outcome) => self.txn_ended(outcome, out),
        }
    }

    fn connection_ready(&self, broker: BrokerId) -> bool {
        let c = self.connections.get(&broker);
        c.is_some_and(|c| matches!(c.state, ConnState::Ready { .. }))
    }

    /// Sends `call` to its broker once the connection there is ready (opening it if needed).
    fn send_txn(&mut self, now: SimTime, call: Call, out: &mut ProducerEffects) {
        let txn = self.txn.as_deref().expect("transactional");
        let broker = txn.broker_for(&call, self.init_broker).expect("found");
        if !self.connection_ready(broker) {
            self.txn.as_deref_mut().expect("transactional").parked = Some(call);
            // A broker that refused a connection is tried again after `reconnect.backoff.ms`.
            let conn = self.connections.get(&broker);
            let backoff =
                conn.filter(|c| c.state == ConnState::Disconnected && now < c.next_attempt);
            match backoff {
                Some(c) => out.set_timer(ProducerTimer::Transaction, c.next_attempt),
                None => self.connect(now, broker, out),
            }
            return;
        }
        let request = self.txn_request(&call);
        let id = self.correlation();
        let txn = self.txn.as_deref_mut().expect("transactional");
        txn.in_flight = Some((id, broker, call));
        out.send(
            NodeId::Broker(broker),
            Message::Request {
                correlation_id: id,
                request,
            },
        );
        // Unanswered, it closes the connection as any request does (then it is retried).
        let timeout = now + self.config.response_timeout();
        out.set_timer(ProducerTimer::RequestTimeout(id), timeout);
    }

    /// The broker of the transactional request `id` in flight, if it is one.
    pub(super) fn txn_request_broker(&self, id: u64) -> Option<BrokerId> {
        let (c, broker, _) = self.txn.as_deref()?.in_flight.as_ref()?;
        (*c == id).then_some(*broker)
    }

    fn txn_request(&self, call: &Call) -> Request {
        let txn = self.txn.as_deref().expect("transactional");
        let producer = || {
            let (producer_id, producer_epoch) = txn.manager.producer().expect("initialized");
            TxnProducer {
                transactional_id: txn.id.clone(),
                producer_id,
                producer_epoch,
            }
        };
        let offsets = || {
            let commit = txn.commit.as_ref().expect("committing");
            commit.offsets.clone().expect("a consumer's offsets")
        };
        match call {
            Call::FindCoordinator => Request::FindCoordinator(FindCoordinatorRequest {
                key: txn.id.clone(),
                key_type: CoordinatorType::Transaction,
            }),
            Call::FindGroupCoordinator => Request::FindCoordinator(FindCoordinatorRequest {
                key: offsets().group_id,
                key_type: CoordinatorType::Group,
            }),
            Call::InitProducerId => Request::InitProducerId(InitProducerIdRequest {
                // KIP-360: the abort's epoch bump names the id and epoch it bumps.
                current: txn.manager.producer().filter(|_| txn.manager.bumping()),
                transactional: Some((txn.id.clone(), txn.timeout)),
            }),
            Call::AddPartitions(partitions) => {
                let partitions = partitions
                    .iter()
                    .map(|tp| {
                        TopicPartition::new(self.acc.topic(tp.topic).topic.clone(), tp.partition)
                    })
                    .collect();
                Request::Txn(TxnCoordinatorRequest::AddPartitions {
                    producer: producer(),
                    partitions,
                })
            }
            Call::AddOffsets => Request::Txn(TxnCoordinatorRequest::AddOffsets {
                producer: producer(),
                group_id: offsets().group_id,
            }),
            Call::TxnOffsetCommit => {
                Request::Group(GroupRequest::TxnOffsetCommit(TxnOffsetCommitRequest {
                    commit: offsets(),
                    producer: producer(),
                }))
            }
            Call::EndTxn(result) => Request::Txn(TxnCoordinatorRequest::EndTxn {
                producer: producer(),
                result: *result,
            }),
        }
    }

    /// An answer to a transactional request (the sender's `on_response` hands over what is
    /// not its own).
    pub(super) fn on_txn_response(
        &mut self,
        now: SimTime,
        id: u64,
        response: Response,
        out: &mut ProducerEffects,
    ) {
        let retry_at = now + self.config.retry_backoff;
        let Some(txn) = self.txn.as_deref_mut() else {
            return;
        };
        let Some((_, _, call)) = txn.in_flight.take_if(|(c, ..)| *c == id) else {
            return;
        };
        out.cancel_timer(ProducerTimer::RequestTimeout(id));
        txn.note_moved_coordinator(&response);
        let retry = |txn: &mut TxnDriver, call: Call| {
            txn.retry = Some(call);
            txn.retry_at = retry_at;
        };
        let mut ended = None;
        match (call, response) {
            (Call::FindCoordinator, Response::FindCoordinator(r)) => match r.node {
                Some(node) if r.error == ErrorCode::None => txn.found_coordinator(node, out),
                _ => retry(txn, Call::FindCoordinator),
            },
            (Call::FindGroupCoordinator, Response::FindCoordinator(r)) => match r.node {
                Some(node) if r.error == ErrorCode::None => txn.group_coordinator = Some(node),
                _ => retry(txn, Call::FindGroupCoordinator),
            },
            (Call::InitProducerId, Response::InitProducerId(r)) => {
                if let Some(((id, epoch), bump)) = txn.on_init_producer_id(&r, retry_at) {
                    // New sequences from 0 under the granted epoch.
                    self.idempotence = Some(Idempotence::transactional(id, epoch));
                    ended = bump.then_some(TxnOutcome::Aborted);
                }
            }
            (Call::TxnOffsetCommit, Response::Group(GroupResponse::OffsetCommit(r))) => {
                txn.on_txn_offset_commit(r.partitions.iter().map(|(_, e)| *e), retry_at);
            }
            (Call::AddPartitions(partitions), Response::Txn(r)) => {
                let request = TxnRequest::AddPartitions(Vec::new());
                if txn.manager.on_response(&request, ok_or(r.error)).is_some() {
                    retry(txn, Call::AddPartitions(partitions));
                } else if r.error == ErrorCode::None {
                    for tp in partitions {
                        self.acc.set_held(tp, false);
                    }
                }
            }
            (Call::AddOffsets, Response::Txn(r)) => {
                let request = TxnRequest::AddOffsets(String::new());
                if txn.manager.on_response(&request, ok_or(r.error)).is_some() {
                    retry(txn, Call::AddOffsets);
                } else if r.error == ErrorCode::None {
                    txn.set_step(Step::CommitOffsets);
                }
            }
            (Call::EndTxn(result), Response::Txn(r)) => {
                ended = txn.on_end_txn(result, r.error, retry_at);
            }
            (call, response) => panic!("response {response:?} to transactional {call:?}"),
        }
        if txn.manager.state() == TxnClientState::FatalError {
            ended = Some(TxnOutcome::Fatal);
        }
        if let Some(outcome) = ended {
            self.txn_ended(outcome, out);
        }
    }

    /// The connection to `broker` closed: its transactional request is sent again later, after
    /// finding the coordinator again if it was the coordinator.
    pub(super) fn txn_connection_closed(&mut self, now: SimTime, broker: BrokerId) {
        let retry_at = now + self.config.retry_backoff;
        let init_broker = self.init_broker;
        let Some(txn) = self.txn.as_deref_mut() else {
            return;
        };
        // A request waiting for this connection fails as one in flight on it would.
        let parked_here = txn
            .parked
            .as_ref()
            .is_some_and(|call| txn.broker_for(call, init_broker) == Some(broker));
        let lost = if parked_here {
            txn.parked.take()
        } else {
            txn.in_flight
                .take_if(|(_, b, _)| *b == broker)
                .map(|(.., call)| call)
        };
        // The coordinator's broker is gone: find the coordinator again before the next request
        // (Java's `lookupCoordinator` on a disconnect).
        if txn.coordinator == Some(broker) {
            txn.lose_coordinator();
        }
        if let Some(call) = lost {
            let call = match call {
                Call::TxnOffsetCommit => {
                    txn.group_coordinator = None;
                    Call::FindGroupCoordinator
                }
                call => call,
            };
            txn.retry = Some(call);
            txn.retry_at = retry_at;
        }
    }

    /// The transaction is over (or the producer is fatal, reported once): the application
    /// learns how.
    fn txn_ended(&mut self, outcome: TxnOutcome, out: &mut ProducerEffects) {
        let txn = self.txn.as_deref_mut().expect("transactional");
        if outcome == TxnOutcome::Fatal {
            if txn.fatal_reported {
                return;
            }
            txn.fatal_reported = true;
        }
        txn.commit = None;
        txn.failed = None;
        txn.unadded.clear();
        out.output(ProducerOutput::TransactionEnded(outcome));
    }
}

fn ok_or(error: ErrorCode) -> Result<(), ErrorCode> {
    match error {
        ErrorCode::None => Ok(()),
        error => Err(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::library::ClientLibrary;
    use crate::client::producer::{ProducerConfig, ProducerInput, SendRequest};
    use crate::protocol::consumer_group::FindCoordinatorResponse;
    use crate::protocol::metadata::TopicMetadata;
    use crate::protocol::produce::{PartitionProduceResponse, ProduceRequest, ProduceResponse};
    use crate::protocol::transaction::TxnCoordinatorResponse;
    use crate::rng::SimRng;
    use crate::trace::{Detail, TraceSeq};
    use crate::units::{Offset, TopicName};

    struct Harness {
        producer: Producer,
        rng: SimRng,
        now: u64,
        /// The next trace sequence number, across steps (causes must be earlier events).
        seq: TraceSeq,
    }

    impl Harness {
        fn new() -> Harness {
            let settings = [("transactional.id", "order-service")];
            let config = ProducerConfig::parse_transactional(ClientLibrary::Java4, settings);
            let topic = TopicName::new("orders").unwrap();
            let metadata = vec![TopicMetadata::led_by(topic, 2, BrokerId(1))];
            Harness {
                producer: Producer::new(config.unwrap(), metadata, None).unwrap(),
                rng: SimRng::for_component(1, "producer"),
                now: 0,
                seq: TraceSeq(0),
            }
        }

        /// One input: the requests sent and the outputs written.
        fn step(&mut self, input: ProducerInput) -> (Vec<(u64, Request)>, Vec<ProducerOutput>) {
            self.now += 1;
            let mut out = ProducerEffects::caused(Detail::Records, self.seq, None);
            let now = SimTime(self.now);
            self.producer.handle(now, input, &mut self.rng, &mut out);
            self.seq = out.next_seq();
            let sent = out.sends.into_iter().filter_map(|(_, m)| match m {
                Message::Request {
                    correlation_id,
                    request,
                } => Some((correlation_id, request)),
                _ => None,
            });
            (sent.collect(), out.outputs)
        }

        fn answer(
            &mut self,
            id: u64,
            response: Response,
        ) -> (Vec<(u64, Request)>, Vec<ProducerOutput>) {
            self.step(ProducerInput::Response {
                correlation_id: id,
                response,
            })
        }
    }

    fn only(sent: Vec<(u64, Request)>) -> (u64, Request) {
        assert_eq!(sent.len(), 1, "one request expected: {sent:?}");
        sent.into_iter().next().unwrap()
    }

    fn txn_ok() -> Response {
        Response::Txn(TxnCoordinatorResponse {
            error: ErrorCode::None,
        })
    }

    /// One record sent to `orders` and the transaction's commit asked for; once its partition
    /// is added, the Produce request that carries it (and its correlation id).
    fn send_and_commit(h: &mut Harness) -> (u64, ProduceRequest) {
        let topic = TopicName::new("orders").unwrap();
        let record = SendRequest::new(&topic, Some("k"), "order-0");
        let (id, _) = only(h.step(ProducerInput::Send(vec![record])).0);
        assert!(h.step(ProducerInput::CommitTransaction(None)).0.is_empty());
        let (id, produce) = only(h.answer(id, txn_ok()).0);
        let Request::Produce(p) = produce else {
            panic!("Produce expected: {produce:?}")
        };
        (id, p)
    }

    /// Start, FindCoordinator, InitProducerId: the producer is ready.
    fn ready() -> Harness {
        let mut h = Harness::new();
        let (id, _) = only(h.step(ProducerInput::Start).0);
        let (id, find) = only(h.answer(id, Response::ApiVersions).0);
        let Request::FindCoordinator(find) = find else {
            panic!("FindCoordinator expected: {find:?}")
        };
        assert_eq!(&*find.key, "order-service");
        assert_eq!(find.key_type, CoordinatorType::Transaction);
        let found = Response::FindCoordinator(FindCoordinatorResponse {
            error: ErrorCode::None,
            node: Some(BrokerId(1)),
        });
        let (id, init) = only(h.answer(id, found).0);
        let Request::InitProducerId(r) = init else {
            panic!("InitProducerId expected: {init:?}")
        };
        assert_eq!(
            r.transactional,
            Some((Arc::from("order-service"), Millis(60_000)))
        );
        let granted = Response::InitProducerId(InitProducerIdResponse {
            error: ErrorCode::None,
            producer_id: ProducerId(7),
            epoch: ProducerEpoch(0),
        });
        assert!(h.answer(id, granted).0.is_empty());
        h
    }

    #[test]
    fn a_transaction_adds_its_partition_before_the_first_batch_then_commits() {
        let mut h = ready();
        let topic = TopicName::new("orders").unwrap();
        let record = SendRequest::new(&topic, Some("k"), "order-0");
        let (sent, _) = h.step(ProducerInput::Send(vec![record]));
        let (id, add) = only(sent);
        assert!(h.step(ProducerInput::CommitTransaction(None)).0.is_empty());
        let Request::Txn(TxnCoordinatorRequest::AddPartitions { partitions, .. }) = add else {
            panic!("AddPartitionsToTxn before any Produce: {add:?}")
        };
        assert_eq!(partitions.len(), 1);
        let (id, produce) = only(h.answer(id, txn_ok()).0);
        let Request::Produce(p) = produce else {
            panic!("the batch goes once its partition is added: {produce:?}")
        };
        let batch = &p.batches[0];
        assert!(batch.idempotence.is_some_and(|i| i.transactional));
        let acked = Response::Produce(ProduceResponse {
            partitions: vec![PartitionProduceResponse {
                topic: batch.topic.clone(),
                partition: batch.partition,
                error: ErrorCode::None,
                base_offset: Some(Offset(0)),
            }],
        });
        let (id, end) = only(h.answer(id, acked).0);
        assert!(matches!(
            end,
            Request::Txn(TxnCoordinatorRequest::EndTxn {
                result: TransactionResult::Commit,
                ..
            })
        ));
        let (sent, outputs) = h.answer(id, txn_ok());
        assert!(sent.is_empty());
        assert_eq!(
            outputs,
            vec![ProducerOutput::TransactionEnded(TxnOutcome::Committed)]
        );
    }

    /// KIP-360 on a transactional producer: a gap in the sequences is not closed by a local
    /// epoch bump (the coordinator owns the epoch) but by the abort's InitProducerId.
    #[test]
    fn a_sequence_gap_fails_the_batch_and_the_abort_bumps_the_epoch_through_the_coordinator() {
        let mut h = ready();
        let (id, p) = send_and_commit(&mut h);
        let batch = &p.batches[0];
        let refused = Response::Produce(ProduceResponse {
            partitions: vec![PartitionProduceResponse {
                topic: batch.topic.clone(),
                partition: batch.partition,
                error: ErrorCode::OutOfOrderSequenceNumber,
                base_offset: None,
            }],
        });
        // No local bump and no retry under a new epoch: the commit turns into an abort.
        let (id, end) = only(h.answer(id, refused).0);
        assert!(matches!(
            end,
            Request::Txn(TxnCoordinatorRequest::EndTxn {
                result: TransactionResult::Abort,
                producer: TxnProducer {
                    producer_epoch: ProducerEpoch(0),
                    ..
                },
            })
        ));
        let (sent, outputs) = h.answer(id, txn_ok());
        assert!(outputs.is_empty(), "the abort waits for the bump");
        let (id, init) = only(sent);
        let Request::InitProducerId(r) = init else {
            panic!("the abort's epoch bump expected: {init:?}")
        };
        assert_eq!(r.current, Some((ProducerId(7), ProducerEpoch(0))));
        let bumped = Response::InitProducerId(InitProducerIdResponse {
            error: ErrorCode::None,
            producer_id: ProducerId(7),
            epoch: ProducerEpoch(1),
        });
        let (_, outputs) = h.answer(id, bumped);
        assert_eq!(
            outputs,
            vec![ProducerOutput::TransactionEnded(TxnOutcome::Aborted)]
        );
        let (_, p) = send_and_commit(&mut h);
        let seq = p.batches[0].idempotence.expect("idempotent");
        assert_eq!((seq.epoch, seq.base_sequence.0), (ProducerEpoch(1), 0));
    }

    #[test]
    fn a_fenced_producer_reports_fatal_once_and_refuses_to_commit() {
        let mut h = ready();
        let topic = TopicName::new("orders").unwrap();
        let record = SendRequest::new(&topic, Some("k"), "order-0");
        let (sent, _) = h.step(ProducerInput::Send(vec![record]));
        let (id, _) = only(sent);
        let fenced = Response::Txn(TxnCoordinatorResponse {
            error: ErrorCode::ProducerFenced,
        });
        let (_, outputs) = h.answer(id, fenced);
        assert_eq!(
            outputs,
            vec![ProducerOutput::TransactionEnded(TxnOutcome::Fatal)]
        );
        let (sent, outputs) = h.step(ProducerInput::CommitTransaction(None));
        assert!(sent.is_empty(), "nothing more is sent: {sent:?}");
        assert_eq!(
            outputs,
            vec![ProducerOutput::TransactionEnded(TxnOutcome::Fatal)]
        );
    }
}
