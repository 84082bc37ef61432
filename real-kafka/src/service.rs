//! The producing side of a service member (a `[[consumer_group]]` with an `output`): one output
//! record per input record, and, when the output's config has `transactional.id`, the
//! consume-transform-produce loop of KIP-98 and KIP-447 as a Python `confluent_kafka` service
//! writes it:
//!
//! `init_transactions()` once (InitProducerId with the `transactional.id`: on Apache Kafka it
//! fences an older instance and aborts its open transaction), then for each poll batch
//! `begin_transaction()`, one `produce()` per input (the first one to a partition sends
//! AddPartitionsToTxn), `send_offsets_to_transaction()` with the consumer's group metadata
//! (AddOffsetsToTxn, TxnOffsetCommit), and `commit_transaction()` (EndTxn). An error that
//! requires an abort aborts and rewinds the consumer to the group's committed offsets; a fatal
//! one (PRODUCER_FENCED after a fence or a coordinator's timeout) stops the service, as the
//! scenario's service does.
//!
//! The member process writes, beside its consumer's events, each output's `DeliveryReported`
//! (with `sent_ms` in Unix milliseconds, which the parent turns into run time), and after a
//! committed transaction the `OffsetCommitted` of each partition its offsets covered: what the
//! coordinator stores at the COMMIT marker, as the simulator's coordinator records it.

use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kafka_sim::record::Key;
use kafka_sim::service::OutputTemplate;
use kafka_sim::trace::{TraceBytes, TraceEvent};
use rdkafka::ClientConfig;
use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::error::KafkaError;
use rdkafka::message::{BorrowedMessage, Header, Message, OwnedHeaders};
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use rdkafka::{Offset, TopicPartitionList};

use crate::error::{Error, Result};
use crate::producer::{PRODUCER_HEADER, error_name};

/// How long one transactional call may take before the service gives up on it.
const TXN_TIMEOUT: Duration = Duration::from_secs(30);

/// A service member's output, passed on its command line.
#[derive(Clone, Debug)]
pub struct OutputSpec {
    /// The output topic, as named on the broker.
    pub topic: String,
    /// The value template (`order for {in}`); `None` copies the input value.
    pub value: Option<String>,
    /// The producer's librdkafka settings (`transactional.id`, `transaction.timeout.ms`, ...).
    pub settings: Vec<(String, String)>,
}

impl OutputSpec {
    /// True when the output is produced in transactions.
    pub fn transactional(&self) -> bool {
        self.settings.iter().any(|(k, _)| k == "transactional.id")
    }
}

/// The producer's component, `producer/<group>/<n>` for member `consumer/<group>/<n>`, as the
/// simulator names a service's producer.
pub fn producer_component(member: &str) -> String {
    format!(
        "producer/{}",
        member.strip_prefix("consumer/").unwrap_or(member)
    )
}

/// Writes the output's delivery reports on stdout, as the member's other events.
struct Reports {
    /// The output topic as the scenario names it.
    topic: Arc<str>,
}

impl ClientContext for Reports {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, message: &str) {
        eprintln!("producer {level:?} {fac}: {message}");
    }
}

impl ProducerContext for Reports {
    /// When the service called `produce()`, in Unix milliseconds.
    type DeliveryOpaque = Box<u64>;

    fn delivery(&self, result: &DeliveryResult<'_>, sent_unix_ms: Box<u64>) {
        let (message, error) = match result {
            Ok(m) => (m, None),
            Err((e, m)) => (m, Some(error_name(e))),
        };
        let offset = u64::try_from(message.offset())
            .ok()
            .filter(|_| error.is_none());
        emit(&TraceEvent::DeliveryReported {
            topic: self.topic.clone(),
            partition: u32::try_from(message.partition()).unwrap_or(0),
            offset,
            error,
            key: message.key().map(TraceBytes::from_bytes),
            value: message.payload().map(TraceBytes::from_bytes),
            sent_ms: *sent_unix_ms,
        });
    }
}

/// One event on stdout, one JSON object per line.
pub(crate) fn emit(event: &TraceEvent) {
    use std::io::Write;
    let line = serde_json::to_string(event).expect("events serialise");
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// What the service loop does after a record or at the end of a batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Keep polling.
    Continue,
    /// A fatal error (fenced, or timed out by the coordinator): the service stops.
    Stop,
}

/// The producer of a service member and its open transaction.
pub struct Service {
    producer: ThreadedProducer<Reports>,
    template: Option<OutputTemplate>,
    topic: String,
    /// `producer/<group>/<n>`'s name without `producer/`, in each record's header.
    name: String,
    transactional: bool,
    /// Next offset of each input partition processed in the open transaction.
    pending: BTreeMap<(String, i32), i64>,
    open: bool,
    produced: u64,
    group: Arc<str>,
    /// The run suffix, stripped from topic names in events.
    suffix: String,
}

impl Service {
    /// Creates the producer; a transactional one runs `init_transactions()` at once.
    pub fn start(
        component: &str,
        group: &str,
        bootstrap: &str,
        suffix: &str,
        output: &OutputSpec,
    ) -> Result<Service> {
        let mut config = ClientConfig::new();
        config.set("bootstrap.servers", bootstrap);
        for (k, v) in &output.settings {
            config.set(k, v);
        }
        config.set_log_level(crate::producer::log_level(&output.settings));
        let topic = output.topic.strip_suffix(suffix).unwrap_or(&output.topic);
        let producer: ThreadedProducer<Reports> = config
            .create_with_context(Reports {
                topic: Arc::from(topic),
            })
            .map_err(Error::kafka(format!("{component}: creating its producer")))?;
        let transactional = output.transactional();
        if transactional {
            producer
                .init_transactions(TXN_TIMEOUT)
                .map_err(Error::kafka(format!("{component}: init_transactions")))?;
        }
        let name = producer_component(component);
        Ok(Service {
            producer,
            template: output.value.as_deref().map(OutputTemplate::new),
            topic: output.topic.clone(),
            name: name.trim_start_matches("producer/").to_string(),
            transactional,
            pending: BTreeMap::new(),
            open: false,
            produced: 0,
            group: Arc::from(group),
            suffix: suffix.to_string(),
        })
    }

    /// One output for `input`, in the open transaction (begun first if none is).
    pub fn produce(&mut self, input: &BorrowedMessage<'_>) -> Verdict {
        if self.transactional && !self.open {
            if let Err(e) = self.producer.begin_transaction() {
                eprintln!("begin_transaction: {e}");
                return self.on_error(&e, None::<&BaseConsumer>);
            }
            self.open = true;
        }
        let in_value = input
            .payload()
            .map(|v| String::from_utf8_lossy(v).into_owned())
            .unwrap_or_default();
        let key = input.key().map(|k| Key(Rc::from(k)));
        let value = match &self.template {
            Some(t) => t.render(&in_value, key.as_ref(), self.produced),
            None => in_value,
        };
        let headers = OwnedHeaders::new().insert(Header {
            key: PRODUCER_HEADER,
            value: Some(self.name.as_str()),
        });
        let mut record = BaseRecord::with_opaque_to(&self.topic, Box::new(unix_ms()))
            .payload(value.as_bytes())
            .headers(headers);
        if let Some(k) = input.key() {
            record = record.key(k);
        }
        if let Err((e, _)) = self.producer.send(record) {
            eprintln!("produce: {e}");
            return self.on_error(&e, None::<&BaseConsumer>);
        }
        self.produced += 1;
        self.pending.insert(
            (input.topic().to_string(), input.partition()),
            input.offset() + 1,
        );
        Verdict::Continue
    }

    /// The end of a poll batch: the open transaction's offsets sent with the consumer's group
    /// metadata, then the commit. Nothing to do without a transaction.
    pub fn end_batch<C: ConsumerContext>(&mut self, consumer: &BaseConsumer<C>) -> Verdict {
        if !self.open {
            return Verdict::Continue;
        }
        let mut tpl = TopicPartitionList::new();
        for ((topic, partition), next) in &self.pending {
            let _ = tpl.add_partition_offset(topic, *partition, Offset::Offset(*next));
        }
        let Some(metadata) = consumer.group_metadata() else {
            eprintln!("no group metadata: aborting");
            return self.abort(consumer);
        };
        let sent = self
            .producer
            .send_offsets_to_transaction(&tpl, &metadata, TXN_TIMEOUT)
            .and_then(|()| self.producer.commit_transaction(TXN_TIMEOUT));
        match sent {
            Ok(()) => {
                self.open = false;
                self.committed(consumer);
                Verdict::Continue
            }
            Err(e) => {
                eprintln!("commit: {e}");
                self.on_error(&e, Some(consumer))
            }
        }
    }

    /// The offsets of a committed transaction, stored by the coordinator at its COMMIT marker.
    fn committed<C: ConsumerContext>(&mut self, consumer: &BaseConsumer<C>) {
        let (member_id, generation) = crate::native::member_and_generation(consumer.client());
        for ((topic, partition), next) in std::mem::take(&mut self.pending) {
            let topic = topic.strip_suffix(&self.suffix).unwrap_or(&topic);
            emit(&TraceEvent::OffsetCommitted {
                group: self.group.clone(),
                member_id: Some(Arc::from(member_id.as_str())),
                generation: Some(generation),
                topic: Arc::from(topic),
                partition: partition as u32,
                offset: next as u64,
            });
        }
    }

    /// librdkafka's verdict on a failed call: abort when it asks for one, stop when fatal.
    fn on_error<C: ConsumerContext>(
        &mut self,
        e: &KafkaError,
        consumer: Option<&BaseConsumer<C>>,
    ) -> Verdict {
        let KafkaError::Transaction(rd) = e else {
            return Verdict::Continue;
        };
        if rd.is_fatal() {
            return Verdict::Stop;
        }
        if rd.txn_requires_abort()
            && let Some(c) = consumer
        {
            return self.abort(c);
        }
        Verdict::Continue
    }

    /// Aborts the open transaction and rewinds the consumer to the group's committed offsets,
    /// so that the aborted inputs are processed again.
    fn abort<C: ConsumerContext>(&mut self, consumer: &BaseConsumer<C>) -> Verdict {
        self.open = false;
        let pending = std::mem::take(&mut self.pending);
        if let Err(e) = self.producer.abort_transaction(TXN_TIMEOUT) {
            eprintln!("abort_transaction: {e}");
            if let KafkaError::Transaction(rd) = &e
                && rd.is_fatal()
            {
                return Verdict::Stop;
            }
        }
        let mut tpl = TopicPartitionList::new();
        for (topic, partition) in pending.keys() {
            tpl.add_partition(topic, *partition);
        }
        if let Ok(committed) = consumer.committed_offsets(tpl, TXN_TIMEOUT) {
            for e in committed.elements() {
                let to = match e.offset() {
                    Offset::Offset(o) => Offset::Offset(o),
                    _ => Offset::Beginning,
                };
                let _ = consumer.seek(e.topic(), e.partition(), to, TXN_TIMEOUT);
            }
        }
        Verdict::Continue
    }

    /// At a close: the open transaction is committed (a close is orderly), everything flushed.
    pub fn close<C: ConsumerContext>(&mut self, consumer: &BaseConsumer<C>) {
        let _ = self.end_batch(consumer);
        let _ = self.producer.flush(TXN_TIMEOUT);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_members_producer_is_named_as_the_simulator_names_it() {
        assert_eq!(
            producer_component("consumer/order-service/2"),
            "producer/order-service/2"
        );
        let output = OutputSpec {
            topic: "orders".into(),
            value: None,
            settings: vec![("transactional.id".into(), "order-service".into())],
        };
        assert!(output.transactional());
    }
}
