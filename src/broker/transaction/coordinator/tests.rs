//! The coordinator's handlers, in the order a transactional producer calls them, and the
//! fencing cases of Kafka's `TransactionCoordinatorTest`.

use super::*;

const ID: &str = "order-service";

fn tp(topic: &str, p: u32) -> TopicPartition {
    TopicPartition::new(TopicName::new(topic).unwrap(), PartitionId(p))
}

fn coordinator() -> TransactionCoordinator {
    TransactionCoordinator::new(ProducerId(1000), TRANSACTION_MAX_TIMEOUT)
}

fn init(c: &mut TransactionCoordinator) -> (ProducerId, ProducerEpoch) {
    c.init_producer_id(ID, TRANSACTION_TIMEOUT_DEFAULT)
        .result
        .expect("InitProducerId succeeds")
}

fn states(reply: &[Transition]) -> Vec<(TransactionState, TransactionState)> {
    reply.iter().map(|t| (t.from, t.to)).collect()
}

#[test]
fn a_committed_transaction_writes_a_commit_marker_per_partition() {
    use TransactionState::*;
    let mut c = coordinator();
    let producer = init(&mut c);
    assert_eq!(producer, (ProducerId(1000), ProducerEpoch(0)));
    let parts = [tp("orders", 0), tp("orders", 1)];
    let added = c.add_partitions(SimTime(5), ID, producer, &parts);
    assert_eq!(states(&added.transitions), [(Empty, Ongoing)]);
    let offsets = c.add_offsets(SimTime(6), ID, producer, "order-service-group");
    assert_eq!(offsets.result, Ok(()));
    assert!(offsets.transitions.is_empty(), "already Ongoing");
    let end = c.end_txn(ID, producer, TransactionResult::Commit);
    assert_eq!(states(&end.transitions), [(Ongoing, PrepareCommit)]);
    let partitions: Vec<_> = end.markers.iter().map(|m| m.partition.clone()).collect();
    assert_eq!(
        partitions.len(),
        3,
        "two data partitions and __consumer_offsets"
    );
    assert!(partitions.contains(&offsets_partition("order-service-group")));
    assert!(
        end.markers
            .iter()
            .all(|m| m.result == TransactionResult::Commit && m.producer_epoch == ProducerEpoch(0))
    );
    assert_eq!(
        c.end_txn(ID, producer, TransactionResult::Commit).result,
        Err(ErrorCode::ConcurrentTransactions),
        "a retry while the markers are written"
    );
    let done = c.markers_written(ID).unwrap();
    assert_eq!((done.from, done.to), (PrepareCommit, CompleteCommit));
    assert_eq!(
        c.end_txn(ID, producer, TransactionResult::Commit).result,
        Ok(()),
        "a retry after completion succeeds"
    );
    assert_eq!(
        c.end_txn(ID, producer, TransactionResult::Abort).result,
        Err(ErrorCode::InvalidTxnState)
    );
}

#[test]
fn a_new_instance_fences_the_zombie_and_aborts_its_transaction() {
    use TransactionState::*;
    let mut c = coordinator();
    let zombie = init(&mut c);
    c.add_partitions(SimTime(1), ID, zombie, &[tp("orders", 0)]);
    // The new instance's first InitProducerId aborts the open transaction with epoch 1.
    let first = c.init_producer_id(ID, TRANSACTION_TIMEOUT_DEFAULT);
    assert_eq!(first.result, Err(ErrorCode::ConcurrentTransactions));
    assert_eq!(
        states(&first.transitions),
        [
            (Ongoing, PrepareEpochFence),
            (PrepareEpochFence, PrepareAbort)
        ]
    );
    assert_eq!(first.markers.len(), 1);
    assert_eq!(first.markers[0].result, TransactionResult::Abort);
    assert_eq!(first.markers[0].producer_epoch, ProducerEpoch(1));
    c.markers_written(ID);
    // Its retry bumps again: epoch 2.
    let fresh = init(&mut c);
    assert_eq!(fresh, (zombie.0, ProducerEpoch(2)));
    // The zombie is fenced on every request.
    let fenced = Err(ErrorCode::ProducerFenced);
    assert_eq!(
        c.add_partitions(SimTime(4), ID, zombie, &[tp("orders", 1)])
            .result,
        fenced
    );
    assert_eq!(
        c.end_txn(ID, zombie, TransactionResult::Commit).result,
        fenced
    );
    assert_eq!(
        c.add_partitions(SimTime(4), ID, (ProducerId(7), ProducerEpoch(2)), &[])
            .result,
        Err(ErrorCode::InvalidProducerIdMapping)
    );
}

#[test]
fn the_coordinator_aborts_a_transaction_past_its_timeout() {
    let mut c = coordinator();
    let producer = init(&mut c);
    c.add_partitions(SimTime(1_000), ID, producer, &[tp("orders", 0)]);
    assert!(c.abort_timed_out(SimTime(60_999)).markers.is_empty());
    let aborted = c.abort_timed_out(SimTime(61_000));
    assert_eq!(aborted.markers.len(), 1);
    assert_eq!(
        aborted.transitions[0].reason,
        "transaction.timeout.ms expired"
    );
    c.markers_written(ID);
    assert_eq!(
        c.end_txn(ID, producer, TransactionResult::Commit).result,
        Err(ErrorCode::ProducerFenced),
        "the slow producer's commit is refused: it was fenced"
    );
    assert_eq!(
        c.metadata(ID).unwrap().state,
        TransactionState::CompleteAbort
    );
}

#[test]
fn timeouts_above_the_broker_maximum_are_refused() {
    let mut c = coordinator();
    let reply = c.init_producer_id(ID, Millis(900_001));
    assert_eq!(reply.result, Err(ErrorCode::InvalidTransactionTimeout));
    assert!(c.metadata(ID).is_none());
}

#[test]
fn an_abort_of_an_empty_transaction_is_an_invalid_state_in_protocol_v1() {
    let mut c = coordinator();
    let producer = init(&mut c);
    assert_eq!(
        c.end_txn(ID, producer, TransactionResult::Abort).result,
        Err(ErrorCode::InvalidTxnState)
    );
}

/// KIP-360: the epoch bump a transactional producer asks for after aborting, with its current
/// producer id and epoch; a retry of it, and a producer fenced meanwhile.
#[test]
fn init_producer_id_with_the_current_epoch_bumps_it_and_fences_a_stale_one() {
    let mut c = coordinator();
    let producer = init(&mut c);
    c.add_partitions(SimTime(5), ID, producer, &[tp("orders", 0)]);
    c.end_txn(ID, producer, TransactionResult::Abort);
    let timeout = TRANSACTION_TIMEOUT_DEFAULT;
    assert_eq!(
        c.init_producer_id_from(ID, timeout, Some(producer)).result,
        Err(ErrorCode::ConcurrentTransactions),
        "while the abort's markers are written"
    );
    c.markers_written(ID);
    let bumped = (producer.0, ProducerEpoch(1));
    let reply = c.init_producer_id_from(ID, timeout, Some(producer));
    assert_eq!(reply.result, Ok(bumped));
    assert_eq!(
        c.init_producer_id_from(ID, timeout, Some(producer)).result,
        Ok(bumped),
        "a retry whose answer was lost gets the same epoch"
    );
    let other = (ProducerId(999), ProducerEpoch(1));
    assert_eq!(
        c.init_producer_id_from(ID, timeout, Some(other)).result,
        Err(ErrorCode::ProducerFenced)
    );
    // A timed-out transaction is fenced: no retry rule lets the old epoch bump again.
    c.add_partitions(SimTime(10), ID, bumped, &[tp("orders", 0)]);
    c.abort_timed_out(SimTime(10 + timeout.0));
    c.markers_written(ID);
    assert_eq!(
        c.init_producer_id_from(ID, timeout, Some(bumped)).result,
        Err(ErrorCode::ProducerFenced)
    );
}
