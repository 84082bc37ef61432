//! The Python row of the broker comparison (issue 20): a `confluent_kafka` producer, the
//! courses' client, through `kafka-sim serve` and to librdkafka's mock cluster, records per
//! second each. `kafka-sim-real bench` measures it (the script and its virtual environment
//! live there); this file reads and prints its figures.

use serde::{Deserialize, Serialize};

/// The Python producer's figures, as `kafka-sim-real bench` prints them.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(super) struct PythonFigures {
    pub(super) client: String,
    pub(super) records: u64,
    pub(super) partitions: u32,
    pub(super) skipped: Option<String>,
    pub(super) rows: Vec<PythonRow>,
}

/// One broker's figure.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(super) struct PythonRow {
    pub(super) broker: String,
    pub(super) error: Option<String>,
    pub(super) produce_ms: Option<f64>,
    pub(super) records_per_s: Option<f64>,
}

/// Prints the row's lines: a line per broker, or why there are none (`None`: the brokers were
/// not asked, or asked a `kafka-sim-real` that predates the row).
pub(super) fn print(figures: Option<&PythonFigures>) {
    let Some(f) = figures else {
        println!("  Python producer: not measured (kafka-sim-real bench did not run it)");
        return;
    };
    println!(
        "  Python producer ({}, idempotent, murmur2_random, linger.ms 5): {} records to {} \
         partitions",
        f.client, f.records, f.partitions
    );
    if let Some(why) = &f.skipped {
        println!("    SKIPPED: {}", why.lines().next().unwrap_or(why).trim());
        return;
    }
    for r in &f.rows {
        match (&r.error, r.records_per_s, r.produce_ms) {
            (Some(e), ..) => println!("    {:<24} FAILED: {e}", r.broker),
            (None, Some(rate), Some(ms)) => {
                println!("    {:<24} {rate:>12.0} records/s {ms:>11.0} ms", r.broker)
            }
            (None, ..) => println!("    {:<24} no figure", r.broker),
        }
    }
}
