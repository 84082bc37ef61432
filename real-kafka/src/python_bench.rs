//! The Python row of `kafka-sim bench` (issue 20): the courses' client, a `confluent_kafka`
//! producer (`python/bench_producer.py`: idempotent, `partitioner=murmur2_random`, `linger.ms`
//! 5), sends the same keyed records through `kafka-sim serve` (in this process, on 127.0.0.1, at
//! speed 1) and to librdkafka's mock cluster, and each throughput is measured by the script
//! itself: first send to last delivery report, so neither the interpreter's start nor the
//! topic's creation counts.
//!
//! When no virtual environment with `confluent_kafka` can be made (no python3, PyPI
//! unreachable), the row is skipped and says why; a broker or a script that fails is an error
//! of its row, never a skip.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use kafka_sim::serve::{ServeConfig, inprocess};
use serde::{Deserialize, Serialize};

use crate::broker::Broker;
use crate::broker::mock::MockBroker;
use crate::python::{self, WHEEL};

/// The topic the producer writes (created before the producer starts).
const TOPIC: &str = "bench-python";
/// The producer script, written next to the virtual environment.
const SCRIPT: &str = include_str!("../python/bench_producer.py");

/// The Python producer's figures on each broker, or why there are none.
#[derive(Clone, Debug, Serialize)]
pub struct PythonFigures {
    /// The pinned client.
    pub client: String,
    /// Records sent to each broker.
    pub records: u64,
    /// Partitions of the topic.
    pub partitions: u32,
    /// Why the row was skipped, if it was.
    pub skipped: Option<String>,
    /// `kafka-sim serve`, then the mock cluster.
    pub rows: Vec<PythonRow>,
}

/// One broker's figure.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct PythonRow {
    /// The broker.
    pub broker: String,
    /// Why it has no figure, if it has none.
    pub error: Option<String>,
    /// First send to last delivery report.
    pub produce_ms: Option<f64>,
    /// Records per second over that span.
    pub records_per_s: Option<f64>,
}

/// What the script prints.
#[derive(Debug, Deserialize)]
struct ScriptOutput {
    delivered: u64,
    failed: u64,
    left: u64,
    seconds: f64,
}

/// Runs the producer through `kafka-sim serve` and against the mock cluster.
pub fn run(records: u64, partitions: u32, cache: &Path) -> PythonFigures {
    let mut figures = PythonFigures {
        client: WHEEL.to_string(),
        records,
        partitions,
        skipped: None,
        rows: Vec::new(),
    };
    let python = match python::confluent_kafka(cache) {
        Ok(p) => p,
        Err(e) => {
            figures.skipped = Some(e.to_string());
            return figures;
        }
    };
    let script = cache.join("bench_producer.py");
    if let Err(e) = fs::write(&script, SCRIPT) {
        figures.skipped = Some(format!("writing {}: {e}", script.display()));
        return figures;
    }
    let producer = Producer {
        python,
        script,
        records,
        partitions,
    };
    figures
        .rows
        .push(row("kafka-sim serve", producer.through_serve(), records));
    figures
        .rows
        .push(row("librdkafka mock cluster", producer.to_mock(), records));
    figures
}

fn row(broker: &str, produced: Result<f64, String>, records: u64) -> PythonRow {
    let mut row = PythonRow {
        broker: broker.to_string(),
        ..PythonRow::default()
    };
    match produced {
        Ok(ms) => {
            row.produce_ms = Some(ms);
            row.records_per_s = Some(records as f64 * 1e3 / ms.max(1e-6));
        }
        Err(e) => row.error = Some(e),
    }
    row
}

/// The script, its interpreter and the workload.
struct Producer {
    python: PathBuf,
    script: PathBuf,
    records: u64,
    partitions: u32,
}

impl Producer {
    fn through_serve(&self) -> Result<f64, String> {
        let served = inprocess::spawn(None, ServeConfig::loopback(1.0))
            .map_err(|e| format!("serving: {e}"))?;
        let produced = self.on(&Broker::External(served.bootstrap().to_string()));
        served.stop().map_err(|e| format!("serving: {e}"))?;
        produced
    }

    fn to_mock(&self) -> Result<f64, String> {
        let mock = MockBroker::start(1).map_err(|e| format!("could not start: {e}"))?;
        self.on(&Broker::Mock(mock))
    }

    /// Creates the topic on `broker`, runs the script against it; returns its wall ms.
    fn on(&self, broker: &Broker) -> Result<f64, String> {
        broker
            .create_topic(TOPIC, self.partitions, 1)
            .map_err(|e| format!("creating {TOPIC}: {e}"))?;
        let out = Command::new(&self.python)
            .arg(&self.script)
            .arg(broker.bootstrap())
            .arg(TOPIC)
            .arg(self.records.to_string())
            .output()
            .map_err(|e| format!("running {}: {e}", self.python.display()))?;
        let stderr = String::from_utf8_lossy(&out.stderr);
        if !out.status.success() {
            return Err(format!(
                "the producer failed ({}): {}",
                out.status,
                stderr.trim()
            ));
        }
        let seen: ScriptOutput = serde_json::from_slice(&out.stdout)
            .map_err(|e| format!("reading the producer's output: {e}"))?;
        if seen.delivered != self.records {
            return Err(format!(
                "{} of {} records delivered, {} failed, {} undelivered",
                seen.delivered, self.records, seen.failed, seen.left
            ));
        }
        Ok(seen.seconds * 1e3)
    }
}
