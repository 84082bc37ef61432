//! A scenario producer against a real broker: records sent at the scenario's pace, each with
//! a delivery report recorded as `DeliveryReported` (with `sent_ms`, when the application called
//! `send()`, as the simulator records it).
//!
//! Every record carries a header `kafka-sim-producer: <name>`, so that the read-back after the
//! run can attribute each record in the log to its producer, duplicates included (a duplicate
//! has no delivery report of its own).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use kafka_sim::scenario::{Pacing, ProducerSpec, SendMode};
use kafka_sim::trace::{TraceBytes, TraceEvent};
use rdkafka::ClientConfig;
use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, Message, OwnedHeaders};
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};

use crate::error::{Error, Result};
use crate::recorder::Recorder;
use crate::workload;

/// The header that names a record's producer.
pub const PRODUCER_HEADER: &str = "kafka-sim-producer";

/// What a producer thread needs to know about its run.
#[derive(Clone, Debug)]
pub struct ProducerRun {
    /// The scenario producer.
    pub spec: ProducerSpec,
    /// The topic's name on the broker (the scenario's, plus the run suffix).
    pub broker_topic: String,
    /// `bootstrap.servers`.
    pub bootstrap: String,
    /// The scenario seed (drawn keys).
    pub seed: u64,
    /// The settings passed to librdkafka.
    pub settings: Vec<(String, String)>,
}

/// Delivery reports arrive on librdkafka's thread; this records them and counts them for
/// `send = "sync"`.
struct Reports {
    recorder: Recorder,
    component: String,
    topic: String,
    done: Mutex<u64>,
    signal: Condvar,
}

impl ClientContext for Reports {
    /// librdkafka's own log lines (warnings, and everything that `debug` turns on) go to
    /// stderr, prefixed with the producer.
    fn log(&self, level: RDKafkaLogLevel, fac: &str, message: &str) {
        eprintln!("{} {level:?} {fac}: {message}", self.component);
    }
}

impl ProducerContext for Reports {
    /// When the application called `send()`, in run milliseconds.
    type DeliveryOpaque = usize;

    fn delivery(&self, result: &DeliveryResult<'_>, sent_ms: usize) {
        let (message, error) = match result {
            Ok(m) => (m, None),
            Err((e, m)) => (m, Some(error_name(e))),
        };
        let delivered = error.is_none();
        // A retry that the broker recognised as a duplicate (DUPLICATE_SEQUENCE_NUMBER) is
        // reported delivered with offset -1: the offset is then unknown, not negative.
        let offset = u64::try_from(message.offset()).ok().filter(|_| delivered);
        // A record that never got a partition (an unknown topic) is reported at partition 0.
        let partition = u32::try_from(message.partition()).unwrap_or(0);
        self.recorder.record(
            &self.component,
            TraceEvent::DeliveryReported {
                topic: Arc::from(self.topic.as_str()),
                partition,
                offset,
                error,
                key: message.key().map(TraceBytes::from_bytes),
                value: message.payload().map(TraceBytes::from_bytes),
                sent_ms: sent_ms as u64,
            },
        );
        *self.done.lock().expect("reports lock") += 1;
        self.signal.notify_all();
    }
}

/// librdkafka logs warnings and errors; with a `debug` setting (e.g. `"debug" = "eos,msg"` in a
/// scenario's config) everything it asks for. rust-rdkafka would otherwise follow the `log`
/// crate's level, which is "errors only" without a logger.
pub fn log_level(settings: &[(String, String)]) -> RDKafkaLogLevel {
    if settings.iter().any(|(k, _)| k == "debug") {
        RDKafkaLogLevel::Debug
    } else {
        RDKafkaLogLevel::Warning
    }
}

/// Kafka's error name in Kafka's spelling: `NotEnoughReplicas` -> `NOT_ENOUGH_REPLICAS`.
pub fn error_name(e: &KafkaError) -> String {
    let code = match e {
        KafkaError::MessageProduction(code) => *code,
        other => return other.to_string(),
    };
    let camel = format!("{code:?}");
    let mut out = String::new();
    for (i, c) in camel.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

/// Starts the producer on its own thread; the thread ends after its last delivery report (or
/// the flush timeout) and returns how many reports are still missing. Once `stop` is set (the
/// run's end) it sends nothing more.
pub fn spawn(
    run: ProducerRun,
    recorder: Recorder,
    stop: Arc<AtomicBool>,
) -> Result<JoinHandle<Result<u64>>> {
    let component = format!("producer/{}", run.spec.name);
    let reports = Reports {
        recorder: recorder.clone(),
        component: component.clone(),
        topic: run.spec.topic.to_string(),
        done: Mutex::new(0),
        signal: Condvar::new(),
    };
    let mut config = ClientConfig::new();
    config.set("bootstrap.servers", &run.bootstrap);
    config.set("client.id", &run.spec.name);
    for (name, value) in &run.settings {
        config.set(name, value);
    }
    config.set_log_level(log_level(&run.settings));
    let producer: ThreadedProducer<Reports> = config
        .create_with_context(reports)
        .map_err(Error::kafka(format!("{component}: creating the producer")))?;
    thread::Builder::new()
        .name(component.clone())
        .spawn(move || send_all(&run, &recorder, &producer, &stop))
        .map_err(Error::io(format!("{component}: starting its thread")))
}

fn send_all(
    run: &ProducerRun,
    recorder: &Recorder,
    producer: &ThreadedProducer<Reports>,
    stop: &AtomicBool,
) -> Result<u64> {
    let spec = &run.spec;
    let mut keys = workload::Keys::new(spec, run.seed);
    let headers = OwnedHeaders::new().insert(Header {
        key: PRODUCER_HEADER,
        value: Some(spec.name.as_str()),
    });
    let mut sent = 0;
    for n in 0..spec.records {
        if !recorder.sleep_until_or_stop(send_time(spec, n), stop) {
            break;
        }
        sent += 1;
        let key = keys.key(n);
        let value = workload::value(spec, n, key.as_deref());
        let mut record: BaseRecord<'_, [u8], [u8], usize> =
            BaseRecord::with_opaque_to(&run.broker_topic, recorder.now_ms() as usize)
                .payload(value.as_slice())
                .headers(headers.clone());
        if let Some(k) = &key {
            record = record.key(k.as_bytes());
        }
        if let Some(p) = spec.partition {
            record = record.partition(p.0 as i32);
        }
        loop {
            match producer.send(record) {
                Ok(()) => break,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    record = back;
                    thread::sleep(Duration::from_millis(5));
                }
                Err((e, _)) => {
                    return Err(Error::Kafka {
                        context: format!("producer/{}: sending record {n}", spec.name),
                        source: e,
                    });
                }
            }
        }
        if spec.send == SendMode::Sync {
            wait_for_reports(producer.context(), n + 1, stop);
        }
    }
    // Wait for the last reports, until the run ends: a report after the end is not part of it.
    while !stop.load(Ordering::SeqCst) && *producer.context().done.lock().expect("lock") < sent {
        let _ = producer.flush(Duration::from_millis(100));
    }
    let done = *producer.context().done.lock().expect("reports lock");
    Ok(sent - done.min(sent))
}

/// `send().get()`: waits for the report of record `count - 1`, or for the end of the run.
fn wait_for_reports(reports: &Reports, count: u64, stop: &AtomicBool) {
    let mut done = reports.done.lock().expect("reports lock");
    while *done < count && !stop.load(Ordering::SeqCst) {
        done = reports
            .signal
            .wait_timeout(done, Duration::from_millis(100))
            .expect("reports lock")
            .0;
    }
}

/// When record `i` is sent, in ms from the start of the run: the scenario's pacing.
pub fn send_time(spec: &ProducerSpec, i: u64) -> u64 {
    spec.start.0
        + match spec.pacing {
            Pacing::Burst => 0,
            Pacing::Interval(gap) => i * gap.0,
            Pacing::Rate(per_s) => i * 1000 / per_s,
        }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_names_are_kafkas() {
        let e = KafkaError::MessageProduction(RDKafkaErrorCode::NotEnoughReplicas);
        assert_eq!(error_name(&e), "NOT_ENOUGH_REPLICAS");
        let e = KafkaError::MessageProduction(RDKafkaErrorCode::MessageTimedOut);
        assert_eq!(error_name(&e), "MESSAGE_TIMED_OUT");
    }
}
