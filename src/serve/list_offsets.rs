//! ListOffsets on the wire: an end of the log, or a record by its timestamp (a consumer's
//! `offsetsForTimes`, librdkafka's `offsets_for_times`, the admin API's `OffsetSpec`).
//!
//! Timestamps cross the edge as records do: the served records carry the wall-clock time of
//! virtual time zero plus their virtual timestamp (`records.rs`), so a time asked is read back
//! the same way, and a time before the session started is virtual time zero. The special
//! timestamps are Kafka's (`ListOffsetsRequest`): `-1` the latest offset (the high watermark),
//! `-2` the earliest, `-3` the record with the largest timestamp (KIP-734), `-4` the earliest
//! local offset (KIP-405: without tiered storage, the log start). Any other negative value is
//! answered as the latest, as before this file.

use kafka_protocol::messages::list_offsets_response::{
    ListOffsetsPartitionResponse, ListOffsetsTopicResponse,
};
use kafka_protocol::messages::{self as wire};

use crate::protocol::Request;
use crate::protocol::fetch::{ListOffsetsRequest, ListOffsetsResponse, OffsetSpec};
use crate::units::{PartitionId, SimTime};

use super::codec::{Frame, body, wire_topic};
use super::requests::topic;

/// The model's request for a ListOffsets frame.
pub fn decode(frame: &Frame, epoch_ms: i64) -> Result<Request, String> {
    let req: wire::ListOffsetsRequest = body(frame)?;
    let mut partitions = Vec::new();
    for t in &req.topics {
        let name = topic(t.name.0.as_str())?;
        for p in &t.partitions {
            let index = u32::try_from(p.partition_index)
                .map_err(|_| format!("partition {} of {name}", p.partition_index))?;
            partitions.push((
                name.clone(),
                PartitionId(index),
                spec(p.timestamp, epoch_ms),
            ));
        }
    }
    Ok(Request::ListOffsets(ListOffsetsRequest { partitions }))
}

/// What a wire timestamp asks.
fn spec(timestamp: i64, epoch_ms: i64) -> OffsetSpec {
    match timestamp {
        -2 | -4 => OffsetSpec::Earliest,
        -3 => OffsetSpec::MaxTimestamp,
        t if t >= 0 => OffsetSpec::Timestamp(SimTime(t.saturating_sub(epoch_ms).max(0) as u64)),
        _ => OffsetSpec::Latest,
    }
}

/// The wire answer: per partition its offset and, for a lookup by time, the record's
/// timestamp; `-1` and `-1` when no record is at or after the time asked.
pub fn encode(r: ListOffsetsResponse, epoch_ms: i64) -> wire::ListOffsetsResponse {
    let mut topics: Vec<ListOffsetsTopicResponse> = Vec::new();
    for (t, p, result) in r.partitions {
        let name = wire_topic(&t);
        let (error, offset, timestamp) = match result {
            Ok(Some(found)) => (
                0,
                found.offset.0 as i64,
                found.timestamp.map_or(-1, |at| epoch_ms + at.0 as i64),
            ),
            Ok(None) => (0, -1, -1),
            Err(e) => (e.code(), -1, -1),
        };
        let part = ListOffsetsPartitionResponse::default()
            .with_partition_index(p.0 as i32)
            .with_error_code(error)
            .with_timestamp(timestamp)
            .with_offset(offset);
        match topics.iter_mut().find(|x| x.name == name) {
            Some(x) => x.partitions.push(part),
            None => topics.push(
                ListOffsetsTopicResponse::default()
                    .with_name(name)
                    .with_partitions(vec![part]),
            ),
        }
    }
    wire::ListOffsetsResponse::default().with_topics(topics)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_timestamps_become_specs_at_virtual_times() {
        let epoch = 1_700_000_000_000;
        assert_eq!(spec(-1, epoch), OffsetSpec::Latest);
        assert_eq!(spec(-2, epoch), OffsetSpec::Earliest);
        assert_eq!(spec(-3, epoch), OffsetSpec::MaxTimestamp);
        assert_eq!(spec(-4, epoch), OffsetSpec::Earliest);
        assert_eq!(
            spec(epoch + 250, epoch),
            OffsetSpec::Timestamp(SimTime(250))
        );
        assert_eq!(
            spec(5, epoch),
            OffsetSpec::Timestamp(SimTime::ZERO),
            "before the session"
        );
    }
}
