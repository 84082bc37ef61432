//! Helpers shared by the integration tests.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::rc::Rc;

use kafka_sim::client::load::{LoadGenerator, LoadReader, LoadSpec};
use kafka_sim::record::ValueTemplate;
use kafka_sim::trace::{Detail, TraceHeader, VecSink, jsonl};
use kafka_sim::units::{BrokerId, Millis, SimTime, TopicName};
use kafka_sim::world::{ClientMachine, World, WorldConfig};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Reads and parses a JSON file under `tests/data/`.
pub fn data_json(name: &str) -> serde_json::Value {
    let path = root().join("tests/data").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Runs the built `kafka-sim` binary with `args`.
pub fn kafka_sim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kafka-sim"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("the kafka-sim binary runs")
}

/// Standard output as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("UTF-8 output")
}

/// Standard error as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).expect("UTF-8 output")
}

/// Runs a small produce-and-read-back workload through the engine (200 records with 20 keys to
/// a 3-partition topic, 7 per request every 10 ms); returns the JSONL trace.
pub fn engine_trace(seed: u64, detail: Detail) -> String {
    let topic = TopicName::new("orders").unwrap();
    let mut sink = VecSink::new(detail);
    let config = WorldConfig {
        seed,
        check_invariants: true,
        ..WorldConfig::default()
    };
    let mut world = World::new(config, &mut sink);
    world.add_broker(BrokerId(1));
    world.with_broker(BrokerId(1), |b, out| {
        b.create_topic(topic.clone(), 3, 1, Default::default(), out)
    });
    let spec = LoadSpec {
        topic: topic.clone(),
        partitions: 3,
        records: 200,
        records_per_request: 7,
        interval: Millis(10),
        distinct_keys: 20,
        value: Rc::new(ValueTemplate::new("order-{n}")),
    };
    world.add_client(
        "load/producer",
        ClientMachine::LoadGenerator(LoadGenerator::new(spec, BrokerId(1))),
        SimTime(0),
    );
    let reader = world.add_client(
        "load/reader",
        ClientMachine::LoadReader(LoadReader::new(topic, 3, 200, BrokerId(1))),
        SimTime(5),
    );
    let outcome = world.run_until(SimTime(60_000)).unwrap();
    let ClientMachine::LoadReader(r) = world.client(reader) else {
        unreachable!()
    };
    assert_eq!(r.read(), 200, "every record appended is read back");
    assert!(outcome.ended_at <= SimTime(60_000));
    jsonl::to_string(&TraceHeader::new("engine-load", None, seed), &sink.records)
}

/// Builders and trace queries for the producer and fault tests.
pub mod lab {
    use kafka_sim::client::library::ClientLibrary;
    use kafka_sim::client::producer::{Producer, ProducerConfig, Workload};
    use kafka_sim::trace::{TraceEvent, TraceRecord, TraceSink};
    use kafka_sim::units::{BrokerId, ClientId, Millis, SimTime, TopicName};
    use kafka_sim::world::{ClientMachine, World, WorldConfig};

    /// The topic every lab uses.
    pub const TOPIC: &str = "bhf-transactions";

    /// A world with broker 1 and topic [`TOPIC`] of `partitions` partitions, invariants checked
    /// after every event, one-way latency 1 ms.
    pub fn world(sink: &mut dyn TraceSink, seed: u64, partitions: u32) -> World<'_> {
        let config = WorldConfig {
            seed,
            network_latency: Millis(1),
            max_events: 5_000_000,
            check_invariants: true,
        };
        let mut world = World::new(config, sink);
        world.add_broker(BrokerId(1));
        world.with_broker(BrokerId(1), |b, out| {
            b.create_topic(topic(), partitions, 1, Default::default(), out)
        });
        world
    }

    /// [`TOPIC`] as a name.
    pub fn topic() -> TopicName {
        TopicName::new(TOPIC).unwrap()
    }

    /// Adds `producer/<name>` with `settings`, starting at 0.
    pub fn producer(
        world: &mut World<'_>,
        name: &str,
        library: ClientLibrary,
        settings: &[(&str, &str)],
        workload: Option<Workload>,
    ) -> ClientId {
        let config = ProducerConfig::parse(library, settings.iter().copied()).unwrap();
        let producer = Producer::new(config, world.metadata(), workload).unwrap();
        world.add_client(
            &format!("producer/{name}"),
            ClientMachine::Producer(Box::new(producer)),
            SimTime::ZERO,
        )
    }

    /// The events named `name`, in order.
    pub fn named<'a>(trace: &'a [TraceRecord], name: &str) -> Vec<&'a TraceRecord> {
        trace.iter().filter(|r| r.event.name() == name).collect()
    }

    /// `(offset, value)` of every `RecordAppended`, in order.
    pub fn appended(trace: &[TraceRecord]) -> Vec<(u32, u64, String)> {
        trace
            .iter()
            .filter_map(|r| match &r.event {
                TraceEvent::RecordAppended {
                    partition,
                    offset,
                    value,
                    ..
                } => Some((
                    *partition,
                    *offset,
                    value.as_ref().map(ToString::to_string).unwrap_or_default(),
                )),
                _ => None,
            })
            .collect()
    }

    /// Prints a trace, one line per event (for a failing test's output).
    pub fn dump(trace: &[TraceRecord]) -> String {
        trace
            .iter()
            .map(|r| serde_json::to_string(r).unwrap())
            .collect::<Vec<_>>()
            .join("\n")
    }
}
