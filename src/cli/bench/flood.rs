//! End-to-end throughput: a flood of records through the whole simulator, beside a baseline that
//! does only the unavoidable work.
//!
//! The flood is a scenario like any other (built here as TOML, run by [`runner::run`], the code
//! path of `kafka-sim run`): one Java producer sends `records` keyed records (1000 users,
//! synthetic values) at 1 000 000 records/s of virtual time to a topic of `partitions`
//! partitions, with a throughput-minded `linger.ms` and `batch.size`; three consumer groups
//! read all of it with no processing time: 50 Java members committing automatically, 10 Java
//! members committing after every batch, 5 librdkafka members committing automatically; the
//! broker samples every group's lag every second. The trace wants batches (no per-record
//! events) and goes to a sink that only counts ([`Tally`]).
//!
//! The baseline builds the same records (an interned key, a synthetic value), pushes each to
//! its partition's `Vec`, and reads every partition back once per group.

use std::path::Path;
use std::rc::Rc;

use kafka_sim::client::partitioner::{self, KeyRoute, Partitioner};
use kafka_sim::record::{Key, Record, Value, ValueTemplate};
use kafka_sim::runner;
use kafka_sim::scenario::{Scenario, ScenarioFile};
use kafka_sim::units::{Offset, SimTime};

use super::tally::Tally;

/// The groups of the flood: name, members, how they commit, client.
pub(super) const GROUPS: [(&str, u32, &str, &str); 3] = [
    ("analytics", 50, "auto", "java"),
    ("audit", 10, "per-batch", "java"),
    ("email", 5, "auto", "librdkafka"),
];

/// Distinct keys (`user-{n}`).
const KEYS: u64 = 1_000;
/// The producer's rate, records per second of virtual time.
const RATE_PER_S: u64 = 1_000_000;
/// The value template.
const VALUE: &str = "payment-{n} amount={amount}";

/// What the flood did.
#[derive(Debug)]
pub(super) struct FloodRun {
    /// Virtual time simulated.
    pub(super) virtual_ms: u64,
    /// Events the scheduler processed.
    pub(super) events: u64,
    /// Trace events received by the sink.
    pub(super) trace_events: u64,
    /// Records processed per group, in [`GROUPS`] order.
    pub(super) processed: Vec<u64>,
    /// Offsets committed.
    pub(super) commits: u64,
    /// Lag samples.
    pub(super) lag_samples: u64,
}

/// The flood as a scenario file's text.
pub(super) fn scenario_toml(records: u64, partitions: u32) -> String {
    // The producer needs records / rate seconds; the groups then catch up within a few.
    let duration_ms = records * 1000 / RATE_PER_S + 10_000;
    let mut text = format!(
        r#"[scenario]
name = "bench_flood"
seed = 1
duration_ms = {duration_ms}
client = "java"
trace_detail = "batches"
max_events = 4_000_000_000

[[topic]]
name = "payments"
partitions = {partitions}

[[producer]]
name = "flood"
topic = "payments"
records = {records}
rate_per_s = {RATE_PER_S}
key = {{ pattern = "user-{{n}}", distinct = {KEYS} }}
value = {{ template = "{VALUE}" }}
config = {{ "linger.ms" = 10, "batch.size" = 65536 }}

[report]
lag_sample_ms = 1000
"#
    );
    for (group, members, commit, client) in GROUPS {
        text.push_str(&format!(
            r#"
[[consumer_group]]
group_id = "{group}"
topics = ["payments"]
members = {members}
processing_ms = 0
commit = "{commit}"
client = "{client}"
config = {{ "auto.offset.reset" = "earliest" }}
"#
        ));
    }
    text
}

/// The flood scenario, parsed.
pub(super) fn scenario(records: u64, partitions: u32) -> anyhow::Result<Scenario> {
    let text = scenario_toml(records, partitions);
    let file = ScenarioFile::parse(Path::new("<kafka-sim bench: flood>"), text)?;
    Ok(file.resolve(None)?)
}

/// Runs the flood through the simulator and checks that every group read every record.
pub(super) fn engine(
    scenario: &Scenario,
    records: u64,
    partitions: u32,
) -> anyhow::Result<FloodRun> {
    let mut tally = Tally::new(scenario.detail, partitions as usize, None);
    let outcome = runner::run(scenario, scenario.seed, &mut tally, |_| {})
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    anyhow::ensure!(
        tally.appended == records,
        "the flood appended {} records, not {records}",
        tally.appended
    );
    let processed: Vec<u64> = GROUPS.iter().map(|g| tally.processed_by(g.0)).collect();
    for ((group, ..), &n) in GROUPS.iter().zip(&processed) {
        anyhow::ensure!(
            n >= records,
            "group {group} processed {n} of {records} records by the end of the run"
        );
    }
    Ok(FloodRun {
        virtual_ms: outcome.ended_at.0,
        events: outcome.events,
        trace_events: tally.events,
        processed,
        commits: tally.commits,
        lag_samples: tally.lag_samples,
    })
}

/// The unavoidable work: build each record, push it to its partition's `Vec`, read every
/// partition back once per group. Returns the records read.
pub(super) fn baseline(records: u64, partitions: u32) -> u64 {
    let template = Rc::new(ValueTemplate::new(VALUE));
    let keys: Vec<(Key, usize)> = (0..KEYS)
        .map(|i| {
            let key = Key::utf8(&format!("user-{i}"));
            let route = partitioner::route(Partitioner::Java, Some(key.bytes()), partitions);
            let KeyRoute::Hashed { partition, .. } = route else {
                unreachable!("a keyed record is hashed")
            };
            (key, partition.0 as usize)
        })
        .collect();
    let mut logs: Vec<Vec<Record>> = vec![Vec::new(); partitions as usize];
    for n in 0..records {
        let (key, partition) = &keys[(n % KEYS) as usize];
        let log = &mut logs[*partition];
        log.push(Record {
            offset: Offset(log.len() as u64),
            timestamp: SimTime(n * 1000 / RATE_PER_S),
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
    for _group in GROUPS {
        for log in &logs {
            for r in log {
                read += 1;
                bytes += r.value.as_ref().map_or(0, Value::size);
            }
        }
    }
    assert!(bytes > 0);
    read
}
