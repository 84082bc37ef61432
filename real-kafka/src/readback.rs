//! Reads every topic back from the beginning after the run: what the logs really hold.
//!
//! Delivery reports are the producer's view and cannot show a duplicate: when an
//! acknowledgement is lost and a plain producer retries, the broker appends the record twice
//! but the producer reports one offset. The read-back sees both copies. Each becomes a
//! `RecordAppended`, timed by the delivery report of that offset when there is one, else by the
//! record's CreateTime (a retry keeps its first attempt's timestamp), and attributed to its
//! producer by the `kafka-sim-producer` header.
//!
//! The read-back reads uncommitted, so records of aborted transactions are read too. librdkafka
//! hands out no control records: a partition whose last offsets are transaction markers never
//! delivers an offset up to its high watermark, so once nothing has arrived for [`TAIL_QUIET`]
//! the offsets left are taken to be markers (they show in the report as offsets without a
//! record, between the last record and the log-end offset of a lag sample).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kafka_sim::trace::{TraceBytes, TraceEvent};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{BorrowedMessage, Headers};
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};

use crate::error::{Error, Result};
use crate::producer::PRODUCER_HEADER;
use crate::recorder::Recorder;

/// How long the read-back waits for more records after reaching the high watermarks.
const QUIET: Duration = Duration::from_millis(1000);

/// How long nothing must arrive before the offsets still missing are taken to be transaction
/// markers (control records, which librdkafka never hands out).
const TAIL_QUIET: Duration = Duration::from_millis(3000);

/// (topic, partition, offset) -> when its delivery report arrived.
pub type DeliveryTimes = BTreeMap<(String, u32, u64), u64>;

/// Delivery report times from what the recorder holds so far.
pub fn delivery_times(recorder: &Recorder) -> DeliveryTimes {
    let mut out = DeliveryTimes::new();
    for r in recorder.records() {
        if let TraceEvent::DeliveryReported {
            topic,
            partition: p,
            offset: Some(o),
            ..
        } = &r.event
        {
            out.entry((topic.to_string(), *p, *o)).or_insert(r.t_ms);
        }
    }
    out
}

/// Reads `topics` ((broker name, scenario name, partitions)) to their high watermarks and
/// records one `RecordAppended` per record, from component `broker/1`.
pub fn read_back(
    bootstrap: &str,
    topics: &[(String, String, u32)],
    recorder: &Recorder,
    times: &DeliveryTimes,
    timeout: Duration,
) -> Result<u64> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set(
            "group.id",
            format!("kafka-sim-readback-{}", std::process::id()),
        )
        .set("enable.auto.commit", "false")
        .set("isolation.level", "read_uncommitted")
        .create()
        .map_err(Error::kafka("creating the read-back consumer"))?;
    let mut remaining = assign_to_watermarks(&consumer, topics)?;
    if remaining.is_empty() {
        return Ok(0);
    }
    let names: BTreeMap<&str, &str> = topics
        .iter()
        .map(|(b, s, _)| (b.as_str(), s.as_str()))
        .collect();
    let deadline = Instant::now() + timeout;
    let mut read = 0;
    let mut last_record = Instant::now();
    // Read to the high watermarks, then on until nothing has come for a second: tansu reports
    // a high watermark one past the *first* offset of the last batch, short of the real end.
    while !remaining.is_empty() || last_record.elapsed() < QUIET {
        if last_record.elapsed() >= TAIL_QUIET {
            remaining.clear();
            continue;
        }
        if Instant::now() > deadline {
            return Err(Error::Broker {
                broker: bootstrap.to_string(),
                message: format!("read-back incomplete after {timeout:?}: {remaining:?} left"),
            });
        }
        let Some(message) = consumer.poll(Duration::from_millis(100)) else {
            continue;
        };
        last_record = Instant::now();
        let m = message.map_err(Error::kafka("reading back"))?;
        let key = (m.topic().to_string(), m.partition());
        if let Some(high) = remaining.get(&key)
            && m.offset() + 1 >= *high
        {
            remaining.remove(&key);
        }
        let topic = names.get(m.topic()).copied().unwrap_or(m.topic());
        record(&m, topic, recorder, times);
        read += 1;
    }
    Ok(read)
}

/// Assigns `consumer` every partition of `topics` that holds records, from the beginning;
/// returns the high watermark of each, to read up to.
fn assign_to_watermarks(
    consumer: &BaseConsumer,
    topics: &[(String, String, u32)],
) -> Result<BTreeMap<(String, i32), i64>> {
    let mut tpl = TopicPartitionList::new();
    let mut remaining: BTreeMap<(String, i32), i64> = BTreeMap::new();
    for (topic, _, partitions) in topics {
        for p in 0..*partitions as i32 {
            let (_, high) = consumer
                .fetch_watermarks(topic, p, Duration::from_secs(5))
                .map_err(Error::kafka(format!("high watermark of {topic}-{p}")))?;
            if high > 0 {
                tpl.add_partition_offset(topic, p, Offset::Beginning)
                    .map_err(Error::kafka("building the read-back assignment"))?;
                remaining.insert((topic.clone(), p), high);
            }
        }
    }
    if remaining.is_empty() {
        return Ok(remaining);
    }
    consumer
        .assign(&tpl)
        .map_err(Error::kafka("assigning the read-back partitions"))?;
    Ok(remaining)
}

/// Records `m`, read back from `topic` (the scenario's name), as a `RecordAppended` timed by
/// its delivery report, else by its CreateTime.
fn record(m: &BorrowedMessage<'_>, topic: &str, recorder: &Recorder, times: &DeliveryTimes) {
    let (partition, offset) = (m.partition() as u32, m.offset() as u64);
    // The producer's component, as the simulator names it in `RecordAppended`.
    let producer = m.headers().and_then(|h| {
        h.iter()
            .find(|h| h.key == PRODUCER_HEADER)
            .and_then(|h| h.value)
            .map(|v| Arc::from(format!("producer/{}", String::from_utf8_lossy(v))))
    });
    let t_ms = times
        .get(&(topic.to_string(), partition, offset))
        .copied()
        .or_else(|| {
            m.timestamp()
                .to_millis()
                .map(|ms| recorder.from_unix_ms(ms))
        })
        .unwrap_or(0);
    recorder.record_at(
        t_ms,
        "broker/1",
        TraceEvent::RecordAppended {
            topic: Arc::from(topic),
            partition,
            offset,
            key: m.key().map(TraceBytes::from_bytes),
            value: m.payload().map(TraceBytes::from_bytes),
            producer,
            producer_id: None,
            producer_epoch: None,
            sequence: None,
        },
    );
}
