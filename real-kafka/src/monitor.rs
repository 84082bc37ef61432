//! Lag samples for one group, as `kafka-consumer-groups --describe` computes them: the group's
//! committed offset (OffsetFetch) and each partition's high watermark (ListOffsets), every
//! `[report] lag_sample_ms`. Without a committed offset the lag is the whole log (high minus
//! low watermark), as the simulator counts it.
//!
//! The monitor is a consumer with the group's `group.id` that never subscribes, so it never
//! joins the group: OffsetFetch needs no membership. (Neither broker here answers
//! DescribeGroups, which the tool uses for the member columns; lag needs only offsets.)

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use kafka_sim::trace::TraceEvent;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

use crate::error::{Error, Result};
use crate::recorder::Recorder;

/// What to watch.
#[derive(Clone, Debug)]
pub struct MonitorSpec {
    /// The scenario's `group.id` (for the component name `group/<id>`).
    pub group: String,
    /// The group id on the broker.
    pub broker_group: String,
    /// `bootstrap.servers`.
    pub bootstrap: String,
    /// (broker topic, scenario topic, partitions).
    pub topics: Vec<(String, String, u32)>,
    /// Sampling interval.
    pub interval_ms: u64,
}

/// A running monitor; [`Monitor::stop`] ends it.
#[derive(Debug)]
pub struct Monitor {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<()>,
}

impl Monitor {
    /// Starts sampling at every multiple of the interval from the start of the run.
    pub fn start(spec: MonitorSpec, recorder: Recorder) -> Result<Monitor> {
        let consumer: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", &spec.bootstrap)
            .set("group.id", &spec.broker_group)
            .set("enable.auto.commit", "false")
            .create()
            .map_err(Error::kafka(format!(
                "group/{}: creating the lag monitor",
                spec.group
            )))?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = thread::Builder::new()
            .name(format!("group/{} lag", spec.group))
            .spawn(move || sample_loop(&spec, &consumer, &recorder, &flag))
            .map_err(Error::io("starting the lag monitor"))?;
        Ok(Monitor { stop, thread })
    }

    /// Stops after the current sample.
    pub fn stop(self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = self.thread.join();
    }
}

fn sample_loop(
    spec: &MonitorSpec,
    consumer: &BaseConsumer,
    recorder: &Recorder,
    stop: &AtomicBool,
) {
    let component = format!("group/{}", spec.group);
    let group: Arc<str> = Arc::from(spec.group.as_str());
    let timeout = Duration::from_millis(spec.interval_ms.clamp(200, 2000));
    let mut tpl = TopicPartitionList::new();
    for (topic, _, partitions) in &spec.topics {
        for p in 0..*partitions {
            tpl.add_partition(topic, p as i32);
        }
    }
    let mut next = spec.interval_ms;
    while !stop.load(Ordering::SeqCst) {
        // Sleep in short steps so that `stop` is seen promptly.
        while recorder.now_ms() < next && !stop.load(Ordering::SeqCst) {
            thread::sleep(Duration::from_millis(10));
        }
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let t = recorder.now_ms();
        next += spec.interval_ms;
        let Ok(committed) = consumer.committed_offsets(tpl.clone(), timeout) else {
            continue;
        };
        for (topic, name, partitions) in &spec.topics {
            for p in 0..*partitions {
                let Ok((low, high)) = consumer.fetch_watermarks(topic, p as i32, timeout) else {
                    continue;
                };
                let committed =
                    committed
                        .find_partition(topic, p as i32)
                        .and_then(|e| match e.offset() {
                            Offset::Offset(o) if o >= 0 => Some(o as u64),
                            _ => None,
                        });
                let (low, high) = (low.max(0) as u64, high.max(0) as u64);
                recorder.record_at(
                    t,
                    &component,
                    TraceEvent::LagSampled {
                        group: group.clone(),
                        topic: Arc::from(name.as_str()),
                        partition: p,
                        log_end_offset: high,
                        committed_offset: committed,
                        // As the simulator counts it: without a commit, the whole log.
                        lag: high.saturating_sub(committed.unwrap_or(low)),
                    },
                );
            }
        }
    }
}
