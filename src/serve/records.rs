//! Record batches (format v2, KIP-98) to and from the model's records, through the
//! `kafka-protocol` crate's encoder and decoder (which also handle gzip, snappy, lz4 and zstd).
//!
//! Timestamps: the model's records carry a virtual time. A produced record is stamped with the
//! virtual time its request arrived (the client's CreateTime is wall-clock time, which a run at
//! `--speed` other than 1 would contradict); a fetched record goes out with the serve session's
//! epoch base plus its virtual time, so clients see times that move with the simulation.

use std::rc::Rc;

use bytes::{Bytes, BytesMut};
use kafka_protocol::indexmap::IndexMap;
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::records::{
    Compression, Record as WireRecord, RecordBatchDecoder, RecordBatchEncoder, RecordEncodeOptions,
    TimestampType,
};

use crate::protocol::produce::BatchIdempotence;
use crate::protocol::records::SharedRecords;
use crate::record::{Header, Key, NewRecord, Record, TransactionResult, Value};
use crate::units::{ProducerEpoch, ProducerId, Sequence, SimTime};

/// What a Produce request's `records` field held for one partition.
#[derive(Debug)]
pub struct DecodedBatch {
    /// The idempotence fields of the first batch (KIP-98), if its producer id is set.
    pub idempotence: Option<BatchIdempotence>,
    /// Every record of every batch, in order.
    pub records: Vec<NewRecord>,
}

/// Decodes the record batches of one partition of a Produce request, stamping every record
/// with `now`.
pub fn decode_batches(bytes: &Bytes, now: SimTime) -> Result<DecodedBatch, String> {
    let mut buf = bytes.clone();
    let sets = RecordBatchDecoder::decode_all(&mut buf).map_err(|e| format!("{e:#}"))?;
    let mut records = Vec::new();
    let mut idempotence = None;
    for set in sets {
        for record in set.records {
            if record.control {
                continue;
            }
            if idempotence.is_none() && records.is_empty() && record.producer_id >= 0 {
                idempotence = Some(BatchIdempotence {
                    producer_id: ProducerId(record.producer_id),
                    epoch: ProducerEpoch(record.producer_epoch),
                    base_sequence: Sequence(record.sequence),
                    // The batch attributes' transactional bit (KIP-98): the batch belongs to
                    // the producer's open transaction.
                    transactional: record.transactional,
                });
            }
            records.push(new_record(record, now));
        }
    }
    Ok(DecodedBatch {
        idempotence,
        records,
    })
}

fn new_record(record: WireRecord, now: SimTime) -> NewRecord {
    let headers: Vec<Header> = record
        .headers
        .into_iter()
        .map(|(key, value)| Header {
            key: Rc::from(key.as_str()),
            value: value.map(|v| Rc::from(&v[..])),
        })
        .collect();
    NewRecord {
        timestamp: now,
        key: record.key.map(|k| Key(Rc::from(&k[..]))),
        value: record.value.map(|v| Value::Bytes(Rc::from(&v[..]))),
        headers: (!headers.is_empty()).then(|| Rc::from(headers)),
    }
}

/// Encodes fetched records as v2 batches, uncompressed; the encoder starts a new batch where
/// the producer, the run of sequence numbers or the transactional and control bits change, as
/// the log's own batches do. A transaction marker goes out as Kafka writes it: a control batch
/// of one record whose key is the `ControlRecordType` (version 0, ABORT 0 or COMMIT 1) and
/// whose value is the `EndTransactionMarker` (version 0, the coordinator epoch), so that a
/// `read_committed` client drops the aborted records it closes. `epoch_ms` is the wall-clock
/// time of virtual time zero.
pub fn encode_records(records: &SharedRecords, epoch_ms: i64) -> Result<Bytes, String> {
    let Some(first) = records.first() else {
        return Ok(Bytes::new());
    };
    let mut plain_base = first.offset.0 as i64;
    let wire: Vec<WireRecord> = records
        .iter()
        .map(|r| {
            let offset = r.offset.0 as i64;
            let (producer_id, producer_epoch, sequence) = match r.stamp {
                Some(s) => (s.producer_id.0, s.epoch.0, s.sequence.0),
                None => {
                    if offset < plain_base {
                        plain_base = offset;
                    }
                    (-1, -1, (offset - plain_base) as i32 - 1)
                }
            };
            let mut record =
                wire_record(r, offset, producer_id, producer_epoch, sequence, epoch_ms);
            if let Some(stamp) = r.stamp {
                record.transactional = stamp.transactional();
                if let Some(result) = stamp.control() {
                    control_record(&mut record, result);
                }
            }
            record
        })
        .collect();
    let mut buf = BytesMut::new();
    let options = RecordEncodeOptions {
        version: 2,
        compression: Compression::None,
    };
    RecordBatchEncoder::encode(&mut buf, wire.iter(), &options).map_err(|e| format!("{e:#}"))?;
    Ok(buf.freeze())
}

fn wire_record(
    r: &Record,
    offset: i64,
    producer_id: i64,
    producer_epoch: i16,
    sequence: i32,
    epoch_ms: i64,
) -> WireRecord {
    let mut headers = IndexMap::new();
    for h in r.headers.iter().flat_map(|hs| hs.iter()) {
        let value = h.value.as_ref().map(|v| Bytes::copy_from_slice(v));
        headers.insert(StrBytes::from_string(h.key.to_string()), value);
    }
    WireRecord {
        transactional: false,
        control: false,
        delete_horizon: false,
        partition_leader_epoch: 0,
        producer_id,
        producer_epoch,
        timestamp_type: TimestampType::Creation,
        offset,
        sequence,
        timestamp: epoch_ms + r.timestamp.0 as i64,
        key: r.key.as_ref().map(|k| Bytes::copy_from_slice(k.bytes())),
        value: r.value.as_ref().map(|v| Bytes::from(v.render())),
        headers,
    }
}

/// Makes `record` the control record of a marker (`ControlRecordType`, `EndTransactionMarker`;
/// the model keeps no coordinator epoch in the log: 0).
fn control_record(record: &mut WireRecord, result: TransactionResult) {
    let kind: i16 = match result {
        TransactionResult::Abort => 0,
        TransactionResult::Commit => 1,
    };
    let mut key = Vec::with_capacity(4);
    key.extend_from_slice(&0i16.to_be_bytes());
    key.extend_from_slice(&kind.to_be_bytes());
    let mut value = Vec::with_capacity(6);
    value.extend_from_slice(&0i16.to_be_bytes());
    value.extend_from_slice(&0i32.to_be_bytes());
    record.control = true;
    record.sequence = -1;
    record.key = Some(Bytes::from(key));
    record.value = Some(Bytes::from(value));
    record.headers = IndexMap::new();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::Offset;

    fn stored(offset: u64, key: &str) -> Record {
        Record {
            offset: Offset(offset),
            timestamp: SimTime(5),
            key: Some(Key::utf8(key)),
            value: Some(Value::Bytes(Rc::from(&b"v"[..]))),
            headers: None,
            stamp: None,
        }
    }

    #[test]
    fn a_transaction_goes_out_as_a_transactional_batch_and_a_control_batch() {
        use crate::record::{ProducerStamp, TxnRole};
        let stamp = |sequence, txn| ProducerStamp {
            producer_id: ProducerId(500),
            epoch: ProducerEpoch(0),
            sequence: Sequence(sequence),
            last_in_batch: true,
            txn,
        };
        let mut data = stored(0, "a");
        data.stamp = Some(stamp(0, TxnRole::Data));
        let mut marker = stored(1, "ignored");
        marker.stamp = Some(stamp(-1, TxnRole::Marker(TransactionResult::Commit)));
        let bytes = encode_records(&SharedRecords::from_vec(vec![data, marker]), 0).unwrap();
        let mut buf = bytes.clone();
        let sets = RecordBatchDecoder::decode_all(&mut buf).unwrap();
        assert_eq!(
            sets.len(),
            2,
            "the data batch, then the marker's control batch"
        );
        assert!(sets[0].records[0].transactional && !sets[0].records[0].control);
        let control = &sets[1].records[0];
        assert!(control.transactional && control.control);
        // ControlRecordType: version 0, COMMIT (1).
        assert_eq!(control.key.as_deref(), Some(&[0, 0, 0, 1][..]));
        let decoded = decode_batches(&bytes, SimTime(0)).unwrap();
        assert_eq!(
            decoded.records.len(),
            1,
            "a control record is never produced"
        );
        assert!(decoded.idempotence.unwrap().transactional);
    }

    #[test]
    fn fetched_records_decode_back() {
        let bytes = encode_records(
            &SharedRecords::from_vec(vec![stored(3, "a"), stored(4, "b")]),
            1000,
        )
        .unwrap();
        let decoded = decode_batches(&bytes, SimTime(9)).unwrap();
        assert!(decoded.idempotence.is_none());
        let keys: Vec<String> = decoded
            .records
            .iter()
            .map(|r| r.key.as_ref().unwrap().to_string())
            .collect();
        assert_eq!(keys, ["a", "b"]);
        let mut buf = bytes.clone();
        let sets = RecordBatchDecoder::decode_all(&mut buf).unwrap();
        assert_eq!(sets.len(), 1, "one batch for a run of plain records");
        assert_eq!(sets[0].records[0].offset, 3);
        assert_eq!(sets[0].records[0].timestamp, 1005);
    }
}
