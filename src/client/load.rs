//! A load generator and a reader: the simplest clients that drive the engine end to end.
//!
//! They are not models of Kafka's producer and consumer (see `producer` and `consumer` for
//! those): the [`LoadGenerator`] sends fixed-size Produce requests at a fixed interval with
//! `acks=all` and no retries, keyed records partitioned with the Java client's murmur2; the
//! [`LoadReader`] fetches every partition from offset 0 until it has read what it was told to
//! expect. The engine benchmark and the determinism tests use them because they do only the work
//! the engine needs per record.

use std::collections::BTreeMap;
use std::rc::Rc;

use crate::client::partitioner::{self, KeyRoute, Partitioner};
use crate::effects::Effects;
use crate::protocol::fetch::{FetchPartition, FetchRequest};
use crate::protocol::produce::{Acks, ProduceBatch, ProduceRequest};
use crate::protocol::transaction::IsolationLevel;
use crate::protocol::{Message, Request, Response};
use crate::record::{Key, NewRecord, Value, ValueTemplate};
use crate::rng::SimRng;
use crate::units::{BrokerId, Millis, NodeId, Offset, PartitionId, SimTime, TopicName};

/// What a [`LoadGenerator`] sends.
#[derive(Clone, Debug)]
pub struct LoadSpec {
    /// The topic.
    pub topic: TopicName,
    /// Its partition count.
    pub partitions: u32,
    /// Records in all.
    pub records: u64,
    /// Records per Produce request.
    pub records_per_request: u32,
    /// Time between requests.
    pub interval: Millis,
    /// Keys are `key-{i}` for `i` drawn uniformly below this; 0 means null keys, spread
    /// round-robin.
    pub distinct_keys: u32,
    /// The value template.
    pub value: Rc<ValueTemplate>,
}

/// The generator's timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum LoadTimer {
    /// Time to send the next request.
    Send,
}

/// What a load client reacts to.
#[derive(Clone, Debug)]
pub enum LoadInput {
    /// The run starts.
    Start,
    /// A timer fired.
    Timer(LoadTimer),
    /// A response arrived.
    Response(Response),
}

/// Sends [`LoadSpec::records`] records in fixed-size requests.
#[derive(Debug)]
pub struct LoadGenerator {
    spec: LoadSpec,
    broker: BrokerId,
    keys: Vec<(Key, PartitionId)>,
    sent: u64,
    acked: u64,
    next_correlation: u64,
    round_robin: u32,
}

impl LoadGenerator {
    /// A generator that talks to `broker`. Keys are built and hashed once, up front.
    pub fn new(spec: LoadSpec, broker: BrokerId) -> LoadGenerator {
        let keys = (0..spec.distinct_keys)
            .map(|i| {
                let key = Key::utf8(&format!("key-{i}"));
                let KeyRoute::Hashed { partition, .. } =
                    partitioner::route(Partitioner::Java, Some(key.bytes()), spec.partitions)
                else {
                    unreachable!("the Java partitioner hashes keyed records")
                };
                (key, partition)
            })
            .collect();
        LoadGenerator {
            spec,
            broker,
            keys,
            sent: 0,
            acked: 0,
            next_correlation: 0,
            round_robin: 0,
        }
    }

    /// Records acknowledged so far.
    pub fn acked(&self) -> u64 {
        self.acked
    }

    /// Handles one input.
    pub fn handle(
        &mut self,
        now: SimTime,
        input: LoadInput,
        rng: &mut SimRng,
        out: &mut Effects<LoadTimer>,
    ) {
        match input {
            LoadInput::Start | LoadInput::Timer(LoadTimer::Send) => self.send(now, rng, out),
            LoadInput::Response(Response::Produce(r)) => {
                self.acked += r.partitions.iter().filter(|p| p.error.code() == 0).count() as u64;
            }
            LoadInput::Response(other) => panic!("load generator got {other:?}"),
        }
    }

    fn send(&mut self, now: SimTime, rng: &mut SimRng, out: &mut Effects<LoadTimer>) {
        let n = u64::from(self.spec.records_per_request).min(self.spec.records - self.sent);
        if n == 0 {
            return;
        }
        let mut by_partition: BTreeMap<PartitionId, Vec<NewRecord>> = BTreeMap::new();
        for i in self.sent..self.sent + n {
            let (key, partition) = if self.keys.is_empty() {
                let p = PartitionId(self.round_robin % self.spec.partitions);
                self.round_robin = self.round_robin.wrapping_add(1);
                (None, p)
            } else {
                let (k, p) = &self.keys[rng.index(self.keys.len())];
                (Some(k.clone()), *p)
            };
            by_partition.entry(partition).or_default().push(NewRecord {
                timestamp: now,
                key,
                value: Some(Value::Synthetic {
                    template: self.spec.value.clone(),
                    n: i,
                }),
                headers: None,
            });
        }
        self.sent += n;
        let batches = by_partition
            .into_iter()
            .map(|(partition, records)| ProduceBatch {
                topic: self.spec.topic.clone(),
                partition,
                idempotence: None,
                records: records.into(),
                origin: None,
            })
            .collect();
        let request = ProduceRequest {
            acks: Acks::All,
            timeout: Millis(30_000),
            batches,
        };
        let correlation_id = self.next_correlation;
        self.next_correlation += 1;
        out.send(
            NodeId::Broker(self.broker),
            Message::Request {
                correlation_id,
                request: Request::Produce(request),
            },
        );
        if self.sent < self.spec.records {
            out.set_timer(LoadTimer::Send, now + self.spec.interval);
        }
    }
}

/// Reads every partition of a topic from offset 0 until `expected` records have been read.
#[derive(Debug)]
pub struct LoadReader {
    topic: TopicName,
    broker: BrokerId,
    positions: Vec<Offset>,
    expected: u64,
    read: u64,
    value_bytes: u64,
    next_correlation: u64,
}

impl LoadReader {
    /// A reader of `partitions` partitions of `topic`.
    pub fn new(topic: TopicName, partitions: u32, expected: u64, broker: BrokerId) -> LoadReader {
        LoadReader {
            topic,
            broker,
            positions: vec![Offset(0); partitions as usize],
            expected,
            read: 0,
            value_bytes: 0,
            next_correlation: 0,
        }
    }

    /// Records read so far.
    pub fn read(&self) -> u64 {
        self.read
    }

    /// Value bytes read so far (a checksum that the records were really looked at).
    pub fn value_bytes(&self) -> u64 {
        self.value_bytes
    }

    /// Handles one input.
    pub fn handle(&mut self, _now: SimTime, input: LoadInput, out: &mut Effects<LoadTimer>) {
        match input {
            LoadInput::Start => self.fetch(out),
            LoadInput::Timer(_) => {}
            LoadInput::Response(Response::Fetch(r)) => {
                for p in r.partitions {
                    if let Some(last) = p.records.last() {
                        self.positions[p.partition.0 as usize] = last.offset.next();
                    }
                    self.read += p.records.len() as u64;
                    self.value_bytes += p
                        .records
                        .iter()
                        .filter_map(|r| r.value.as_ref())
                        .map(Value::size)
                        .sum::<u64>();
                }
                if self.read < self.expected {
                    self.fetch(out);
                }
            }
            LoadInput::Response(other) => panic!("load reader got {other:?}"),
        }
    }

    fn fetch(&mut self, out: &mut Effects<LoadTimer>) {
        let partitions = self
            .positions
            .iter()
            .enumerate()
            .map(|(p, &fetch_offset)| FetchPartition {
                topic: self.topic.clone(),
                partition: PartitionId(p as u32),
                fetch_offset,
                max_bytes: 1 << 20,
            })
            .collect();
        let request = FetchRequest {
            max_wait: Millis(500),
            min_bytes: 1,
            max_bytes: 50 << 20,
            partitions,
            isolation_level: IsolationLevel::ReadUncommitted,
        };
        let correlation_id = self.next_correlation;
        self.next_correlation += 1;
        out.send(
            NodeId::Broker(self.broker),
            Message::Request {
                correlation_id,
                request: Request::Fetch(request),
            },
        );
    }
}
