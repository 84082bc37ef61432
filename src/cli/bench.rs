//! `kafka-sim bench`: the simulator's speed against a baseline, measured side by side in one run
//! so that the ratio holds on a noisy machine. A benchmark, never a timed test.
//!
//! `engine`: appends and reads back N records across P partitions through the real engine
//! (scheduler, network, broker, partition logs, effects, trace sink), then does the same records
//! with a baseline that only pushes them into one `Vec` per partition and reads them back once.
//! Peak resident memory is read from `/proc/self/status` (`VmHWM`), reset between phases through
//! `/proc/self/clear_refs` (Linux).
// The one audited use of the wall clock: measuring how fast the simulator runs.
#![expect(clippy::disallowed_types, clippy::disallowed_methods)]

use std::fs;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use kafka_sim::client::load::{LoadGenerator, LoadReader, LoadSpec};
use kafka_sim::client::partitioner::{self, KeyRoute, Partitioner};
use kafka_sim::record::{Key, Record, Value, ValueTemplate};
use kafka_sim::trace::CountingSink;
use kafka_sim::units::{BrokerId, Millis, Offset, PartitionId, SimTime, TopicName};
use kafka_sim::world::{ClientMachine, World, WorldConfig};
use serde::Serialize;

/// Arguments of `kafka-sim bench`.
#[derive(Debug, Args)]
pub(crate) struct BenchArgs {
    /// Records to append and read back.
    #[arg(long, default_value_t = 10_000_000)]
    records: u64,
    /// Partitions to spread them over.
    #[arg(long, default_value_t = 100)]
    partitions: u32,
    /// Records per Produce request.
    #[arg(long, default_value_t = 10_000)]
    records_per_request: u32,
    /// Also write the figures as JSON to this file.
    #[arg(long)]
    json: Option<std::path::PathBuf>,
}

#[derive(Debug, Serialize)]
struct Figures {
    machine: String,
    records: u64,
    partitions: u32,
    engine: Phase,
    baseline: Phase,
    engine_over_baseline_time: String,
}

#[derive(Debug, Serialize)]
struct Phase {
    wall_ms: u64,
    records_per_s: u64,
    ns_per_record: String,
    peak_rss_bytes_per_record: Option<String>,
    records_read: u64,
}

const DISTINCT_KEYS: u32 = 1_000;
const VALUE: &str = "{\"order\": {n}, \"amount\": 42}";

pub(crate) fn run(args: &BenchArgs) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        args.records > 0 && args.partitions > 0,
        "records and partitions must be > 0"
    );
    let engine = measure(args.records, || engine(args))?;
    let baseline = measure(args.records, || baseline(args))?;
    let ratio = engine.wall_ms.max(1) as f64 / baseline.wall_ms.max(1) as f64;
    let figures = Figures {
        machine: machine(),
        records: args.records,
        partitions: args.partitions,
        engine,
        baseline,
        engine_over_baseline_time: format!("{ratio:.2}"),
    };
    print_table(&figures);
    if let Some(path) = &args.json {
        fs::write(path, serde_json::to_string_pretty(&figures)? + "\n")
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(ExitCode::SUCCESS)
}

fn measure(records: u64, f: impl FnOnce() -> anyhow::Result<u64>) -> anyhow::Result<Phase> {
    reset_peak_rss();
    let before = current_rss();
    let start = Instant::now();
    let read = f()?;
    let elapsed = start.elapsed();
    let peak = peak_rss();
    let nanos = elapsed.as_nanos().max(1);
    Ok(Phase {
        wall_ms: elapsed.as_millis() as u64,
        records_per_s: (u128::from(records) * 1_000_000_000 / nanos) as u64,
        ns_per_record: format!("{:.1}", nanos as f64 / records as f64),
        peak_rss_bytes_per_record: match (before, peak) {
            (Some(b), Some(p)) => Some(format!(
                "{:.1}",
                p.saturating_sub(b) as f64 / records as f64
            )),
            _ => None,
        },
        records_read: read,
    })
}

fn engine(args: &BenchArgs) -> anyhow::Result<u64> {
    let topic = TopicName::new("bench")?;
    let mut sink = CountingSink::default();
    let config = WorldConfig {
        seed: 1,
        max_events: u64::MAX,
        ..WorldConfig::default()
    };
    let mut world = World::new(config, &mut sink);
    world.add_broker(BrokerId(1));
    world.with_broker(BrokerId(1), |b, out| {
        b.create_topic(topic.clone(), args.partitions, 1, Default::default(), out)
    });
    let spec = LoadSpec {
        topic: topic.clone(),
        partitions: args.partitions,
        records: args.records,
        records_per_request: args.records_per_request,
        interval: Millis(1),
        distinct_keys: DISTINCT_KEYS,
        value: Arc::new(ValueTemplate::new(VALUE)),
    };
    let producer = LoadGenerator::new(spec, BrokerId(1));
    world.add_client(
        "load/producer",
        ClientMachine::LoadGenerator(producer),
        SimTime::ZERO,
    );
    let reader = LoadReader::new(topic, args.partitions, args.records, BrokerId(1));
    let reader = world.add_client(
        "load/reader",
        ClientMachine::LoadReader(reader),
        SimTime::ZERO,
    );
    world.run_until(SimTime(u64::MAX / 2))?;
    let ClientMachine::LoadReader(r) = world.client(reader) else {
        unreachable!()
    };
    anyhow::ensure!(
        r.read() == args.records,
        "the reader read {} records",
        r.read()
    );
    Ok(r.read())
}

/// The unavoidable work: build each record, push it to its partition's `Vec`, read all back.
fn baseline(args: &BenchArgs) -> anyhow::Result<u64> {
    let template = Arc::new(ValueTemplate::new(VALUE));
    let keys: Vec<(Key, PartitionId)> = (0..DISTINCT_KEYS)
        .map(|i| {
            let key = Key::utf8(&format!("key-{i}"));
            let KeyRoute::Hashed { partition, .. } =
                partitioner::route(Partitioner::Java, Some(key.bytes()), args.partitions)
            else {
                unreachable!()
            };
            (key, partition)
        })
        .collect();
    let mut rng = kafka_sim::rng::SimRng::for_component(1, "load/producer");
    let mut logs: Vec<Vec<Record>> = vec![Vec::new(); args.partitions as usize];
    for n in 0..args.records {
        let (key, partition) = &keys[rng.index(keys.len())];
        let log = &mut logs[partition.0 as usize];
        log.push(Record {
            offset: Offset(log.len() as u64),
            timestamp: SimTime(n / u64::from(args.records_per_request)),
            key: Some(key.clone()),
            value: Some(Value::Synthetic {
                template: template.clone(),
                n,
            }),
            headers: None,
            stamp: None,
        });
    }
    let mut read = 0;
    let mut bytes = 0;
    for log in &logs {
        for r in log {
            read += 1;
            bytes += r.value.as_ref().map_or(0, Value::size);
        }
    }
    anyhow::ensure!(bytes > 0);
    Ok(read)
}

fn print_table(f: &Figures) {
    println!(
        "kafka-sim bench: {} records over {} partitions",
        f.records, f.partitions
    );
    println!("machine: {}", f.machine);
    println!(
        "{:<10} {:>10} {:>14} {:>10} {:>16}",
        "phase", "wall ms", "records/s", "ns/record", "peak B/record"
    );
    for (name, p) in [("engine", &f.engine), ("baseline", &f.baseline)] {
        println!(
            "{:<10} {:>10} {:>14} {:>10} {:>16}",
            name,
            p.wall_ms,
            p.records_per_s,
            p.ns_per_record,
            p.peak_rss_bytes_per_record.as_deref().unwrap_or("n/a")
        );
    }
    println!(
        "engine / baseline wall time: {}x",
        f.engine_over_baseline_time
    );
}

fn status_field(field: &str) -> Option<u64> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

fn current_rss() -> Option<u64> {
    status_field("VmRSS:")
}

fn peak_rss() -> Option<u64> {
    status_field("VmHWM:")
}

fn reset_peak_rss() {
    // Linux >= 4.0: writing 5 resets the peak resident set size to the current one.
    let _ = fs::write("/proc/self/clear_refs", "5");
}

fn machine() -> String {
    let cpu = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".to_string());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    format!("{cpu}, {cores} cores, {}", std::env::consts::ARCH)
}
