//! Every case of the shared idempotence vectors (`tests/data/idempotence.json`), run at the level
//! its Kafka test ran at:
//!
//! - `ProducerStateManager` cases against [`ProducerStateManager`] (no duplicate lookup);
//! - `UnifiedLog.appendAsLeader` cases through a real [`Broker`] answering Produce requests (the
//!   duplicate check first, then validation, then the log), asserting the offsets in the
//!   responses and the log end offset;
//! - `UnifiedLog.appendAsFollower` cases as replicated appends, which are not validated.
//!
//! An op or level the harness does not know fails the test, so that a new vector is never
//! skipped silently.

use std::sync::Arc;

use kafka_sim::broker::log::PartitionLog;
use kafka_sim::broker::producer_state::{AppendOrigin, DataBatch, ProducerStateManager};
use kafka_sim::broker::{Broker, BrokerInput, BrokerTimer};
use kafka_sim::effects::Effects;
use kafka_sim::protocol::produce::{
    Acks, BatchIdempotence, PartitionProduceResponse, ProduceBatch, ProduceRequest,
};
use kafka_sim::protocol::{ErrorCode, Message, Request, Response};
use kafka_sim::record::NewRecord;
use kafka_sim::rng::SimRng;
use kafka_sim::trace::Detail;
use kafka_sim::units::{
    BrokerId, ClientId, Millis, Offset, PartitionId, ProducerEpoch, ProducerId, Sequence, SimTime,
    TopicName,
};
use serde_json::Value;

use crate::support::data_json;

fn int(step: &Value, field: &str) -> Option<i64> {
    step.get(field).and_then(Value::as_i64)
}

fn req(step: &Value, field: &str) -> i64 {
    int(step, field).unwrap_or_else(|| panic!("step lacks {field}: {step}"))
}

/// Kafka's exception names in the vectors, as the error codes the broker answers with.
fn expected_error(expect: &str) -> Option<ErrorCode> {
    match expect {
        "accept" | "duplicate" => None,
        "OutOfOrderSequenceException" => Some(ErrorCode::OutOfOrderSequenceNumber),
        "InvalidProducerEpochException" => Some(ErrorCode::InvalidProducerEpoch),
        "InvalidTxnStateException" => Some(ErrorCode::InvalidTxnState),
        "TransactionCoordinatorFencedException" => Some(ErrorCode::TransactionCoordinatorFenced),
        "UnknownProducerIdException" => Some(ErrorCode::UnknownProducerId),
        other => panic!("unknown expectation {other:?}"),
    }
}

fn origin(step: &Value, default: AppendOrigin) -> AppendOrigin {
    match step.get("origin").and_then(Value::as_str) {
        None => default,
        Some("CLIENT") => AppendOrigin::Client,
        Some("REPLICATION") => AppendOrigin::Replication,
        Some("COORDINATOR") => AppendOrigin::Coordinator,
        Some(other) => panic!("unknown origin {other:?}"),
    }
}

/// Records in a step's batch: `records`, else the width of its sequence range.
fn record_count(step: &Value) -> u32 {
    if let Some(n) = int(step, "records") {
        return n as u32;
    }
    let first = Sequence(req(step, "first_seq") as i32);
    let last = Sequence(req(step, "last_seq") as i32);
    (0..)
        .find(|&d| first.plus(d) == last)
        .expect("the range closes")
        + 1
}

fn data_batch(step: &Value) -> DataBatch {
    let first_offset = int(step, "first_offset").or(int(step, "offset"));
    let first_offset = Offset(first_offset.expect("an offset") as u64);
    let last_offset = int(step, "last_offset")
        .map(|o| Offset(o as u64))
        .unwrap_or(Offset(first_offset.0 + u64::from(record_count(step)) - 1));
    DataBatch {
        epoch: ProducerEpoch(req(step, "epoch") as i16),
        first_seq: Sequence(req(step, "first_seq") as i32),
        last_seq: Sequence(req(step, "last_seq") as i32),
        first_offset,
        last_offset,
        timestamp: SimTime(0),
        transactional: step
            .get("transactional")
            .and_then(Value::as_bool)
            .unwrap_or(false),
    }
}

fn check_state_after(psm: &ProducerStateManager, pid: ProducerId, step: &Value, id: &str) {
    let Some(after) = step.get("state_after") else {
        return;
    };
    let entry = psm.entry(pid).expect("state exists after the step");
    let seq = |s: Option<Sequence>| i64::from(s.map_or(-1, |s| s.0));
    if let Some(epoch) = int(after, "epoch") {
        assert_eq!(entry.epoch().map(|e| i64::from(e.0)), Some(epoch), "{id}");
    }
    if let Some(first) = int(after, "first_seq") {
        assert_eq!(seq(entry.first_seq()), first, "{id}: first_seq");
    }
    if let Some(last) = int(after, "last_seq") {
        assert_eq!(seq(entry.last_seq()), last, "{id}: last_seq");
    }
    let first_batch = entry.batches().next();
    let last_batch = entry.batches().last();
    if let Some(o) = int(after, "first_offset") {
        assert_eq!(
            first_batch.map(|b| b.first_offset().0 as i64),
            Some(o),
            "{id}"
        );
    }
    if let Some(o) = int(after, "last_offset") {
        assert_eq!(last_batch.map(|b| b.last_offset.0 as i64), Some(o), "{id}");
    }
}

/// A `ProducerStateManager`-level scenario.
fn run_state_manager(scenario: &Value, id: &str) {
    let mut psm = ProducerStateManager::new();
    for (i, step) in scenario["steps"].as_array().unwrap().iter().enumerate() {
        let pid = ProducerId(req(step, "pid"));
        let expected = expected_error(step["expect"].as_str().unwrap());
        let got = match step["op"].as_str().unwrap() {
            "append" => {
                psm.append_data_batch(origin(step, AppendOrigin::Client), pid, &data_batch(step))
            }
            "end_txn_marker" => psm.append_end_txn_marker(
                origin(step, AppendOrigin::Coordinator),
                pid,
                (
                    ProducerEpoch(req(step, "epoch") as i16),
                    int(step, "coordinator_epoch").unwrap_or(0) as i32,
                ),
                SimTime(0),
            ),
            op => panic!("{id}: op {op:?} is not modelled at the state-manager level"),
        };
        assert_eq!(got.err(), expected, "{id} step {i}: {step}");
        check_state_after(&psm, pid, step, id);
        psm.check_invariants();
    }
}

const TOPIC: &str = "vectors";

fn produce(broker: &mut Broker, step: &Value, correlation_id: u64) -> PartitionProduceResponse {
    let count = record_count(step);
    let records: Arc<[NewRecord]> = (0..count).map(|_| NewRecord::default()).collect();
    let batch = ProduceBatch {
        topic: TopicName::new(TOPIC).unwrap(),
        partition: PartitionId(0),
        idempotence: Some(BatchIdempotence {
            producer_id: ProducerId(req(step, "pid")),
            epoch: ProducerEpoch(req(step, "epoch") as i16),
            base_sequence: Sequence(req(step, "first_seq") as i32),
            transactional: false,
        }),
        records,
        origin: None,
    };
    let request = Request::Produce(ProduceRequest {
        acks: Acks::All,
        timeout: Millis(30_000),
        batches: vec![batch],
    });
    let mut out: Effects<BrokerTimer> = Effects::new(Detail::Records);
    let input = BrokerInput::Request {
        from: ClientId(0),
        correlation_id,
        request,
    };
    let mut rng = SimRng::for_component(0, "broker/1");
    broker.handle(SimTime(correlation_id), input, &mut rng, &mut out);
    let [(_, Message::Response { response, .. })] = &out.sends[..] else {
        panic!("one response expected: {:?}", out.sends)
    };
    let Response::Produce(r) = response else {
        panic!("{response:?}")
    };
    r.partitions[0].clone()
}

/// A `UnifiedLog.appendAsLeader`-level scenario, through a broker's Produce path.
fn run_leader(scenario: &Value, id: &str) {
    let mut broker = Broker::new(BrokerId(1));
    let mut out: Effects<BrokerTimer> = Effects::new(Detail::Records);
    let topic = TopicName::new(TOPIC).unwrap();
    broker.create_topic(topic.clone(), 1, 1, Default::default(), &mut out);
    for (i, step) in scenario["steps"].as_array().unwrap().iter().enumerate() {
        assert_eq!(
            step["op"], "append",
            "{id}: only client appends at the leader level"
        );
        assert_eq!(
            origin(step, AppendOrigin::Client),
            AppendOrigin::Client,
            "{id}"
        );
        let expect = step["expect"].as_str().unwrap();
        let log_end_before = broker.log(&topic, PartitionId(0)).unwrap().log_end_offset();
        let response = produce(&mut broker, step, i as u64);
        let log_end = broker.log(&topic, PartitionId(0)).unwrap().log_end_offset();
        let count = u64::from(record_count(step));
        let offsets = |base: Offset| [base.0 as i64, (base.0 + count - 1) as i64];
        match expected_error(expect) {
            Some(error) => {
                assert_eq!(response.error, error, "{id} step {i}");
                assert_eq!(log_end, log_end_before, "{id} step {i}: nothing appended");
            }
            None => {
                assert_eq!(response.error, ErrorCode::None, "{id} step {i}");
                let base = response.base_offset.expect("an offset on success");
                let field = if expect == "duplicate" {
                    assert_eq!(
                        log_end, log_end_before,
                        "{id} step {i}: a duplicate appends nothing"
                    );
                    "returned_offsets"
                } else {
                    assert_eq!(log_end.0, log_end_before.0 + count, "{id} step {i}");
                    "assigned_offsets"
                };
                if let Some(want) = step.get(field).and_then(Value::as_array) {
                    let want: Vec<i64> = want.iter().map(|v| v.as_i64().unwrap()).collect();
                    let got = offsets(base);
                    // `[0, 0]` style pairs: first and last offset of the batch.
                    assert_eq!(got.to_vec(), want, "{id} step {i}: {field}");
                }
            }
        }
        if let Some(leo) = int(step, "log_end_offset_after") {
            assert_eq!(log_end.0 as i64, leo, "{id} step {i}: log end offset");
        }
        for states in broker.topics()[&topic].producer_states() {
            states.check_invariants();
        }
    }
}

/// A `UnifiedLog.appendAsFollower`-level scenario: replicated batches, not validated.
fn run_follower(scenario: &Value, id: &str) {
    for step in scenario["steps"].as_array().unwrap() {
        assert_eq!(step["op"], "append_batches_as_follower", "{id}");
        let mut log = PartitionLog::new();
        let mut psm = ProducerStateManager::new();
        for b in step["batches"].as_array().unwrap() {
            let idem = BatchIdempotence {
                producer_id: ProducerId(req(b, "pid")),
                epoch: ProducerEpoch(req(b, "epoch") as i16),
                base_sequence: Sequence(req(b, "seq") as i32),
                transactional: false,
            };
            let info = log.append(SimTime(0), [NewRecord::default()], Some(idem));
            assert_eq!(info.base_offset.0 as i64, req(b, "offset"), "{id}");
            let data = DataBatch {
                epoch: idem.epoch,
                first_seq: idem.base_sequence,
                last_seq: idem.base_sequence,
                first_offset: info.base_offset,
                last_offset: info.last_offset,
                timestamp: SimTime(0),
                transactional: false,
            };
            let got = psm.append_data_batch(AppendOrigin::Replication, idem.producer_id, &data);
            assert_eq!(
                got,
                Ok(()),
                "{id}: a follower accepts what the leader wrote"
            );
        }
        assert_eq!(step["expect"], "accept");
        if let Some(leo) = int(step, "log_end_offset_after") {
            assert_eq!(log.log_end_offset().0 as i64, leo, "{id}");
        }
        psm.check_invariants();
    }
}

#[test]
fn every_shared_idempotence_vector_passes() {
    let v = data_json("idempotence.json");
    assert_eq!(
        v["meta"]["rules"]["retained_batch_metadata_per_producer"],
        kafka_sim::broker::producer_state::NUM_BATCHES_TO_RETAIN
    );
    let scenarios = v["scenarios"].as_array().unwrap();
    assert!(scenarios.len() >= 10, "{} scenarios", scenarios.len());
    for scenario in scenarios {
        let id = scenario["id"].as_str().unwrap();
        let level = scenario["level"].as_str().unwrap();
        if level.starts_with("ProducerStateManager") {
            run_state_manager(scenario, id);
        } else if level.starts_with("UnifiedLog.appendAsLeader") {
            run_leader(scenario, id);
        } else if level.starts_with("UnifiedLog.appendAsFollower") {
            run_follower(scenario, id);
        } else {
            panic!("{id}: unknown level {level:?}");
        }
    }
}
