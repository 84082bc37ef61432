//! Producer state around transactions (issue 18): `producer.id.expiration.ms` and KIP-890's
//! transaction verification, against `tests/data/transactions.json`, vectors ported from
//! Kafka's `ProducerStateManagerTest` in the shape of the shared idempotence vectors.
//!
//! An op or expectation the harness does not know fails the test, so that a new vector is never
//! skipped silently.

use kafka_sim::broker::producer_state::{
    AppendOrigin, DataBatch, PRODUCER_ID_EXPIRATION, ProducerStateManager,
};
use kafka_sim::protocol::ErrorCode;
use kafka_sim::units::{Millis, Offset, ProducerEpoch, ProducerId, Sequence, SimTime};
use serde_json::Value;

use crate::support::data_json;

fn int(step: &Value, field: &str) -> Option<i64> {
    step.get(field).and_then(Value::as_i64)
}

fn req(step: &Value, field: &str) -> i64 {
    int(step, field).unwrap_or_else(|| panic!("step lacks {field}: {step}"))
}

fn at(step: &Value) -> SimTime {
    SimTime(int(step, "at_ms").unwrap_or(0) as u64)
}

fn expected(step: &Value) -> Option<ErrorCode> {
    match step["expect"].as_str() {
        None | Some("accept") => None,
        Some("OutOfOrderSequenceException") => Some(ErrorCode::OutOfOrderSequenceNumber),
        Some("InvalidProducerEpochException") => Some(ErrorCode::InvalidProducerEpoch),
        Some("InvalidTxnStateException") => Some(ErrorCode::InvalidTxnState),
        Some(other) => panic!("unknown expectation {other:?}"),
    }
}

fn batch(step: &Value) -> DataBatch {
    let offset = Offset(req(step, "offset") as u64);
    DataBatch {
        epoch: ProducerEpoch(req(step, "epoch") as i16),
        first_seq: Sequence(req(step, "first_seq") as i32),
        last_seq: Sequence(req(step, "last_seq") as i32),
        first_offset: offset,
        last_offset: offset,
        timestamp: at(step),
        transactional: step["transactional"].as_bool().unwrap_or(false),
    }
}

fn present(step: &Value, field: &str) -> Option<bool> {
    match step.get(field).and_then(Value::as_str) {
        None => None,
        Some("present") => Some(true),
        Some("absent") => Some(false),
        Some(other) => panic!("{field}: {other:?}"),
    }
}

/// Runs one step; returns the error it met, if any.
fn step_result(psm: &mut ProducerStateManager, pid: ProducerId, step: &Value) -> Option<ErrorCode> {
    let origin = AppendOrigin::Client;
    match step["op"].as_str().unwrap() {
        "append" => psm.append_data_batch(origin, pid, &batch(step)).err(),
        "verified_append" => {
            let b = DataBatch {
                transactional: true,
                ..batch(step)
            };
            psm.check_verification(pid, &b, true)
                .and_then(|()| psm.append_data_batch(origin, pid, &b))
                .err()
        }
        "end_txn_marker" => {
            let epoch = ProducerEpoch(req(step, "epoch") as i16);
            let coordinator_epoch = int(step, "coordinator_epoch").unwrap_or(0) as i32;
            psm.append_end_txn_marker(
                AppendOrigin::Coordinator,
                pid,
                (epoch, coordinator_epoch),
                at(step),
            )
            .err()
        }
        "expire" => {
            psm.remove_expired_producers(at(step), PRODUCER_ID_EXPIRATION);
            None
        }
        "verify" => {
            let seq = Sequence(req(step, "seq") as i32);
            let epoch = ProducerEpoch(req(step, "epoch") as i16);
            let v2 = step["supports_epoch_bump"]
                .as_bool()
                .expect("supports_epoch_bump");
            psm.verify(at(step), pid, (seq, epoch), v2);
            None
        }
        "clear_verification" => {
            psm.clear_verification(pid);
            None
        }
        op => panic!("op {op:?} is not modelled"),
    }
}

fn check_after(psm: &ProducerStateManager, pid: ProducerId, step: &Value, at: &str) {
    if let Some(p) = present(step, "producer") {
        assert_eq!(psm.entry(pid).is_some(), p, "{at}: producer state");
    }
    if let Some(p) = present(step, "verification") {
        assert_eq!(
            psm.verification(pid).is_some(),
            p,
            "{at}: verification entry"
        );
    }
    match step.get("verification_after") {
        None => {}
        Some(Value::Null) => assert_eq!(psm.verification(pid), None, "{at}"),
        Some(v) => {
            let entry = psm.verification(pid).expect("a verification entry");
            assert_eq!(
                i64::from(entry.lowest_sequence.0),
                req(v, "lowest_seq"),
                "{at}"
            );
            assert_eq!(i64::from(entry.epoch.0), req(v, "epoch"), "{at}");
        }
    }
    let Some(after) = step.get("state_after") else {
        return;
    };
    let entry = psm.entry(pid).expect("state exists after the step");
    let seq = |s: Option<Sequence>| i64::from(s.map_or(-1, |s| s.0));
    if let Some(epoch) = int(after, "epoch") {
        assert_eq!(entry.epoch().map(|e| i64::from(e.0)), Some(epoch), "{at}");
    }
    if let Some(first) = int(after, "first_seq") {
        assert_eq!(seq(entry.first_seq()), first, "{at}: first_seq");
    }
    if let Some(last) = int(after, "last_seq") {
        assert_eq!(seq(entry.last_seq()), last, "{at}: last_seq");
    }
    if let Some(first) = int(after, "current_txn_first_offset") {
        let got = entry.current_txn_first_offset().map_or(-1, |o| o.0 as i64);
        assert_eq!(got, first, "{at}: current_txn_first_offset");
    }
}

#[test]
fn every_transaction_producer_state_vector_passes() {
    let v = data_json("transactions.json");
    assert_eq!(
        v["meta"]["producer_id_expiration_ms"].as_u64(),
        Some(PRODUCER_ID_EXPIRATION.0)
    );
    assert_eq!(PRODUCER_ID_EXPIRATION, Millis(86_400_000));
    let scenarios = v["scenarios"].as_array().unwrap();
    assert!(scenarios.len() >= 12, "{} scenarios", scenarios.len());
    for scenario in scenarios {
        let id = scenario["id"].as_str().unwrap();
        let mut psm = ProducerStateManager::new();
        for (i, step) in scenario["steps"].as_array().unwrap().iter().enumerate() {
            let at = format!("{id} step {i}");
            let pid = ProducerId(req(step, "pid"));
            let got = step_result(&mut psm, pid, step);
            assert_eq!(got, expected(step), "{at}: {step}");
            check_after(&psm, pid, step, &at);
            psm.check_invariants();
        }
    }
}
