//! The simulator beside real brokers: one produce-then-consume workload, run here as a scenario
//! and on librdkafka's mock cluster and tansu by `kafka-sim-real bench` (the crate that may link
//! a Kafka client; this one never does), whose JSON is read back.
//!
//! The workload (the same on both sides): `records` records to a topic of `partitions`
//! partitions, keys `user-0` .. `user-999` in turn (murmur2), values `payment-{n}
//! amount={amount}`, an idempotent librdkafka producer with `linger.ms` 5; one group of
//! `members` librdkafka consumers (`session.timeout.ms` 6000, auto-commit, `earliest`), no
//! processing time. As on the brokers, the group starts once every record is written (at 10 s
//! of virtual time). The simulator's figures are its wall time for the whole run, and the wall
//! time from its group's first JoinGroup to the moment its members first owned every partition
//! (with that span in virtual time: what the simulator says Kafka would take).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context;
use kafka_sim::runner;
use kafka_sim::scenario::ScenarioFile;
use serde::{Deserialize, Serialize};

use super::measure::{self, Stopwatch};
use super::python::PythonFigures;
use super::tally::Tally;

/// The workload's size.
#[derive(Clone, Copy, Debug, Serialize)]
pub(super) struct Workload {
    pub(super) records: u64,
    pub(super) partitions: u32,
    pub(super) members: u32,
}

/// The simulator's run of the workload.
#[derive(Clone, Debug, Serialize)]
pub(super) struct SimFigures {
    /// Wall time of the whole run.
    pub(super) wall_ms: f64,
    /// Records per second of wall time.
    pub(super) records_per_s: f64,
    /// Wall time from the first JoinGroup until the members first owned every partition.
    pub(super) first_join_wall_ms: f64,
    /// The same span in virtual time.
    pub(super) first_join_virtual_ms: u64,
}

/// One broker's figures, as `kafka-sim-real bench` prints them.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(super) struct BrokerFigures {
    pub(super) broker: String,
    pub(super) error: Option<String>,
    pub(super) start_ms: Option<f64>,
    pub(super) produce_ms: Option<f64>,
    pub(super) first_join_ms: Option<f64>,
    pub(super) consume_ms: Option<f64>,
    pub(super) consumed: u64,
}

impl BrokerFigures {
    /// Records per second over the produce and consume phases (the join's wait excluded).
    pub(super) fn records_per_s(&self, records: u64) -> Option<f64> {
        let ms = self.produce_ms? + self.consume_ms?;
        Some(records as f64 * 1e3 / ms.max(1e-6))
    }
}

#[derive(Debug, Deserialize)]
struct RealOutput {
    librdkafka: String,
    brokers: Vec<BrokerFigures>,
    /// Absent from a `kafka-sim-real` older than the Python row.
    #[serde(default)]
    python: Option<PythonFigures>,
}

/// Both sides of the comparison.
#[derive(Clone, Debug, Serialize)]
pub(super) struct Comparison {
    pub(super) workload: Workload,
    pub(super) simulator: SimFigures,
    /// The `kafka-sim-real` binary asked, and the librdkafka it links.
    pub(super) real_binary: String,
    pub(super) librdkafka: Option<String>,
    /// One entry per broker; one entry with an error when the brokers could not be asked.
    pub(super) brokers: Vec<BrokerFigures>,
    /// A `confluent_kafka` producer through `kafka-sim serve` and to the mock cluster.
    pub(super) python: Option<PythonFigures>,
}

/// When the simulated group starts: every record is written by then.
const GROUP_START_MS: u64 = 10_000;

/// The workload as a scenario file's text.
fn scenario_toml(w: Workload) -> String {
    let Workload {
        records,
        partitions,
        members,
    } = w;
    format!(
        r#"[scenario]
name = "bench_produce_consume"
seed = 1
duration_ms = 60_000
client = "librdkafka"
trace_detail = "batches"
max_events = 4_000_000_000

[[topic]]
name = "bench"
partitions = {partitions}

[[producer]]
name = "load"
topic = "bench"
records = {records}
key = {{ pattern = "user-{{n}}", distinct = 1000, first = 0 }}
value = {{ template = "payment-{{n}} amount={{amount}}" }}
config = {{ "partitioner" = "murmur2_random", "enable.idempotence" = true, "linger.ms" = 5 }}

[[consumer_group]]
group_id = "bench"
topics = ["bench"]
members = {members}
start_ms = {GROUP_START_MS}
processing_ms = 0
config = {{ "auto.offset.reset" = "earliest", "session.timeout.ms" = 6000 }}
"#
    )
}

/// Runs the workload in the simulator, then asks `real` for the brokers' figures (and the
/// Python producer's, `python_records` records; 0: not asked).
pub(super) fn compare(
    w: Workload,
    real: Option<&Path>,
    python_records: u64,
) -> anyhow::Result<Comparison> {
    let simulator = simulate(w)?;
    let (real_binary, librdkafka, brokers, python) = match real {
        None => (
            "(none)".to_string(),
            None,
            vec![not_run("kafka-sim-real not found".to_string())],
            None,
        ),
        Some(path) => match ask(path, w, python_records) {
            Ok(out) => (
                path.display().to_string(),
                Some(out.librdkafka),
                out.brokers,
                out.python,
            ),
            Err(e) => (
                path.display().to_string(),
                None,
                vec![not_run(format!("{e:#}"))],
                None,
            ),
        },
    };
    Ok(Comparison {
        workload: w,
        simulator,
        real_binary,
        librdkafka,
        brokers,
        python,
    })
}

/// The `kafka-sim-real` binary: `explicit`, else the one beside this binary.
pub(super) fn find_real(explicit: Option<&Path>) -> Result<PathBuf, String> {
    if let Some(path) = explicit {
        return if path.is_file() {
            Ok(path.to_path_buf())
        } else {
            Err(format!("{}: not found", path.display()))
        };
    }
    let exe = std::env::current_exe().map_err(|e| format!("locating kafka-sim: {e}"))?;
    let beside = exe.with_file_name("kafka-sim-real");
    if beside.is_file() {
        Ok(beside)
    } else {
        Err(format!(
            "{} not found: build it with `cargo build --release -p kafka-sim-real` (or give \
             --real PATH)",
            beside.display()
        ))
    }
}

/// A placeholder row saying why no broker was measured.
pub(super) fn not_run(why: String) -> BrokerFigures {
    BrokerFigures {
        broker: "mock cluster and tansu".to_string(),
        error: Some(format!("not run: {why}")),
        ..BrokerFigures::default()
    }
}

fn simulate(w: Workload) -> anyhow::Result<SimFigures> {
    let text = scenario_toml(w);
    let file = ScenarioFile::parse(Path::new("<kafka-sim bench: brokers>"), text)?;
    let scenario = file.resolve(None)?;
    let (tally, cost) = measure::measure(|| {
        let mut tally = Tally::new(
            scenario.detail,
            w.partitions as usize,
            Some(Stopwatch::start()),
        );
        runner::run(&scenario, scenario.seed, &mut tally, |_| {}).map(|_| tally)
    });
    let tally = tally.map_err(|e| anyhow::anyhow!("{e}"))?;
    let read = tally.processed_by("bench");
    anyhow::ensure!(
        read >= w.records,
        "the simulated group read {read} of {} records",
        w.records
    );
    let (at, wall) = tally
        .first_complete
        .get("bench")
        .copied()
        .context("the simulated group never owned every partition")?;
    let wall_ms = cost.wall.as_secs_f64() * 1e3;
    Ok(SimFigures {
        wall_ms,
        records_per_s: w.records as f64 * 1e3 / wall_ms.max(1e-6),
        first_join_wall_ms: wall.map_or(f64::NAN, |d| d.as_secs_f64() * 1e3),
        first_join_virtual_ms: at.0.saturating_sub(GROUP_START_MS),
    })
}

fn ask(real: &Path, w: Workload, python_records: u64) -> anyhow::Result<RealOutput> {
    let out = Command::new(real)
        .args(["bench", "--records", &w.records.to_string()])
        .args(["--partitions", &w.partitions.to_string()])
        .args(["--members", &w.members.to_string()])
        .args(["--python-records", &python_records.to_string()])
        .output()
        .with_context(|| format!("running {}", real.display()))?;
    anyhow::ensure!(
        out.status.success(),
        "{} bench failed ({}): {}",
        real.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr).trim()
    );
    serde_json::from_slice(&out.stdout)
        .with_context(|| format!("reading the output of {} bench", real.display()))
}
